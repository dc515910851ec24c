//! Hand-checked byte vectors for SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK in MQTT 3.1
//! (`MQIsdp`, level 3), 3.1.1 (level 4) and 5.0 (level 5).
//!
//! Every vector is written from the packet layouts of the standards (3.1.1 §3.8 to §3.11, 5.0
//! §3.8 to §3.11), decoded through both paths (`Packet::decode` borrowing a slice,
//! `Packet::decode_bytes` sharing a `Bytes`) to an exact expected packet, and encoded back to
//! exactly the same bytes. Each malformed vector breaks one rule and names the `DecodeError`
//! and the reason code a receiver would send.
#![cfg(feature = "v5")]

mod common;

use bytes::Bytes;
use common::{
    LIMITS, Make, V5, V31, V311, assert_decodes_to, assert_encode_error, assert_refused,
    assert_refused_in, assert_vector, decode_error, decode_one, encode, hex, pid,
};
use mqtt_sansio::{
    AckProperties, Buffer, DecodeError, EncodeError, MqttString, Packet, PacketType, PropertyId,
    ProtocolVersion, QoS, ReasonCode, RetainHandling, SubAck, SubAckReasonCode, Subscribe,
    SubscribeProperties, Subscription, SubscriptionId, SubscriptionOptions, TopicError,
    TopicFilter, UnsubAck, UnsubAckReasonCode, Unsubscribe, UnsubscribeProperties,
};

/// A SUBSCRIBE with Packet Identifier 1 and one entry.
fn subscribe_one<B: Make>(filter: &'static str, options: SubscriptionOptions) -> Packet<B> {
    Packet::Subscribe(Subscribe::new(pid(1), [B::subscription(filter, options)]))
}

/// An UNSUBSCRIBE of `filters` without properties.
fn unsubscribe<B: Make>(packet_id: u16, filters: &[&'static str]) -> Packet<B> {
    let filters = filters.iter().map(|filter| B::filter(filter));
    Packet::Unsubscribe(Unsubscribe::new(pid(packet_id), filters))
}

/// A SUBACK with `codes` and no properties.
fn suback<B: Buffer>(packet_id: u16, codes: &[SubAckReasonCode]) -> Packet<B> {
    Packet::SubAck(SubAck::new(pid(packet_id), codes.iter().copied()))
}

/// An UNSUBACK with `codes` and no properties.
fn unsuback<B: Buffer>(packet_id: u16, codes: &[UnsubAckReasonCode]) -> Packet<B> {
    Packet::UnsubAck(UnsubAck::new(pid(packet_id), codes.iter().copied()))
}

fn options(
    qos: QoS,
    no_local: bool,
    retain_as_published: bool,
    rh: RetainHandling,
) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        no_local,
        retain_as_published,
        retain_handling: rh,
    }
}

/// A SUBSCRIBE with Packet Identifier 1 and one entry, laid out as the spec gives it: fixed
/// header `1000 0010`, Remaining Length, Packet Identifier, (5.0: Property Length 0), then the
/// filter as a length-prefixed string and the options byte. For the many negative cases that
/// differ only in the filter or the options byte.
fn subscribe_wire(version: ProtocolVersion, filter: &[u8], options: u8) -> Vec<u8> {
    let mut body = vec![0x00, 0x01];
    if version == V5 {
        body.push(0x00);
    }
    body.extend_from_slice(&u16::try_from(filter.len()).unwrap().to_be_bytes());
    body.extend_from_slice(filter);
    body.push(options);
    with_header(0x82, body)
}

/// An UNSUBSCRIBE with Packet Identifier 1 and one filter, laid out like [`subscribe_wire`].
fn unsubscribe_wire(version: ProtocolVersion, filter: &[u8]) -> Vec<u8> {
    let mut body = vec![0x00, 0x01];
    if version == V5 {
        body.push(0x00);
    }
    body.extend_from_slice(&u16::try_from(filter.len()).unwrap().to_be_bytes());
    body.extend_from_slice(filter);
    with_header(0xA2, body)
}

/// Prefixes a body shorter than 128 bytes with its fixed header.
fn with_header(first: u8, body: Vec<u8>) -> Vec<u8> {
    assert!(body.len() < 128, "one-byte Remaining Length only");
    [vec![first, u8::try_from(body.len()).unwrap()], body].concat()
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE: positive vectors
// ---------------------------------------------------------------------------------------------

/// Packet Identifier, then Topic Filter / Requested QoS pairs.
/// conformance: v311:MQTT-3.8.3-1
#[test]
fn mqtt31_and_v311_subscribe() {
    fn two_entries<B: Make>() -> Packet<B> {
        Packet::Subscribe(Subscribe::new(
            pid(10),
            [
                B::subscription("a/+", SubscriptionOptions::new(QoS::AtLeastOnce)),
                B::subscription("b/#", SubscriptionOptions::new(QoS::ExactlyOnce)),
            ],
        ))
    }
    let qos0 = SubscriptionOptions::new(QoS::AtMostOnce);
    for version in [V31, V311] {
        let wire = hex("82 0e 000a 0003 612f2b 01 0003 622f23 02");
        assert_vector(version, &wire, two_entries(), two_entries());
        let wire = hex("82 08 0001 0003 612f62 00");
        assert_vector(
            version,
            &wire,
            subscribe_one("a/b", qos0),
            subscribe_one("a/b", qos0),
        );
    }
}

/// MQTT 3.1 §3.8: a SUBSCRIBE re-sent for want of a SUBACK carries DUP (flags 1010).
#[test]
fn mqtt31_subscribe_with_dup_decodes() {
    let qos0 = SubscriptionOptions::new(QoS::AtMostOnce);
    assert_decodes_to(
        V31,
        &hex("8a 08 0001 0003 612f62 00"),
        subscribe_one("a/b", qos0),
        subscribe_one("a/b", qos0),
        &hex("82 08 0001 0003 612f62 00"),
    );
}

/// 3.1.1 has no shared subscriptions: `$share/...` is an ordinary filter there, however it
/// is formed.
#[test]
fn mqtt31_and_v311_share_prefix_is_an_ordinary_filter() {
    let qos1 = SubscriptionOptions::new(QoS::AtLeastOnce);
    for version in [V31, V311] {
        for filter in ["$share/g", "$share//a", "$share/+/a", "$share/g/a"] {
            let wire = subscribe_wire(version, filter.as_bytes(), 0x01);
            assert_vector(
                version,
                &wire,
                subscribe_one(filter, qos1),
                subscribe_one(filter, qos1),
            );
        }
    }
}

/// 5.0: Property Length, a Subscription Identifier and a User Property, then three entries
/// whose options bytes set No Local (0x05), Retain As Published with Retain Handling 2
/// (0x2a) and, on a shared subscription, Retain Handling 1 (0x11) (§3.8.2.1, §3.8.3.1).
/// conformance: v5:MQTT-3.8.3-1, v5:MQTT-4.8.2-1, v5:MQTT-4.8.2-2
#[test]
fn v5_subscribe_with_options_properties_and_shared_subscription() {
    fn three_entries<B: Make>() -> Packet<B> {
        Packet::Subscribe(Subscribe {
            packet_id: pid(10),
            subscriptions: vec![
                B::subscription(
                    "a/+",
                    options(
                        QoS::AtLeastOnce,
                        true,
                        false,
                        RetainHandling::SendAtSubscribe,
                    ),
                ),
                B::subscription(
                    "b/#",
                    options(QoS::ExactlyOnce, false, true, RetainHandling::DoNotSend),
                ),
                B::subscription(
                    "$share/g/c",
                    options(
                        QoS::AtLeastOnce,
                        false,
                        false,
                        RetainHandling::SendAtSubscribeIfNew,
                    ),
                ),
            ]
            .into(),
            properties: SubscribeProperties {
                subscription_identifier: SubscriptionId::new(5),
                user_properties: vec![B::user("k", "v")].into(),
            },
        })
    }
    let wire = hex("82 25 000a
         09 0b05 26 0001 6b 0001 76
         0003 612f2b 05
         0003 622f23 2a
         000a 247368617265 2f67 2f63 11");
    assert_vector(V5, &wire, three_entries(), three_entries());

    let qos0 = SubscriptionOptions::new(QoS::AtMostOnce);
    let wire = hex("82 09 0001 00 0003 612f62 00");
    assert_vector(
        V5,
        &wire,
        subscribe_one("a/b", qos0),
        subscribe_one("a/b", qos0),
    );

    // The largest Subscription Identifier, as a four-byte Variable Byte Integer.
    fn largest_id<B: Make>() -> Packet<B> {
        let mut subscribe = Subscribe::new(
            pid(1),
            [B::subscription(
                "a/b",
                SubscriptionOptions::new(QoS::AtMostOnce),
            )],
        );
        subscribe.properties.subscription_identifier = SubscriptionId::new(268_435_455);
        Packet::Subscribe(subscribe)
    }
    let wire = hex("82 0e 0001 05 0b ffffff7f 0003 612f62 00");
    assert_vector(V5, &wire, largest_id(), largest_id());
}

/// Every options byte in 5.0: bits 7-6 reserved (malformed), QoS 3 and Retain Handling 3
/// Protocol Errors (§3.8.3.1), every other byte decodes to its four fields and re-encodes to
/// itself.
/// conformance: v5:MQTT-3.8.3-5
#[test]
fn v5_mqtt_3_8_3_5_every_subscription_options_byte() {
    for byte in 0..=255u8 {
        let wire = subscribe_wire(V5, b"a/b", byte);
        if byte & 0b1100_0000 != 0 {
            assert_refused(
                decode_error(V5, &wire),
                DecodeError::InvalidSubscriptionOptions(byte),
                ReasonCode::MalformedPacket,
            );
        } else if byte & 0b11 == 3 || (byte >> 4) & 0b11 == 3 {
            assert_refused(
                decode_error(V5, &wire),
                DecodeError::SubscriptionOptionOutOfRange(byte),
                ReasonCode::ProtocolError,
            );
        } else {
            let qos = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][usize::from(byte & 3)];
            let rh = [
                RetainHandling::SendAtSubscribe,
                RetainHandling::SendAtSubscribeIfNew,
                RetainHandling::DoNotSend,
            ][usize::from((byte >> 4) & 3)];
            let expected = options(qos, byte & 0x04 != 0, byte & 0x08 != 0, rh);
            let (borrowed, owned) = (
                subscribe_one("a/b", expected),
                subscribe_one("a/b", expected),
            );
            assert_vector(V5, &wire, borrowed, owned);
            assert_eq!(expected.to_byte(), byte);
            assert_eq!(SubscriptionOptions::from_byte(byte, V5), Ok(expected));
        }
    }
}

/// Every Requested QoS byte in 3.1 and 3.1.1: bits 7-2 reserved and QoS 3 are malformed.
/// conformance: v311:MQTT-3.8.3-4
#[test]
fn v311_mqtt_3_8_3_4_and_mqtt31_every_requested_qos_byte() {
    for version in [V31, V311] {
        for byte in 0..=255u8 {
            let wire = subscribe_wire(version, b"a/b", byte);
            if byte > 2 {
                assert_refused(
                    decode_error(version, &wire),
                    DecodeError::InvalidSubscriptionOptions(byte),
                    ReasonCode::MalformedPacket,
                );
            } else {
                let qos = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][usize::from(byte)];
                let expected = SubscriptionOptions::new(qos);
                let (borrowed, owned) = (
                    subscribe_one("a/b", expected),
                    subscribe_one("a/b", expected),
                );
                assert_vector(version, &wire, borrowed, owned);
            }
        }
    }
}

/// The decoded filters are slices of the input.
#[test]
fn subscribe_and_unsubscribe_decoding_is_zero_copy() {
    let wire = hex("82 0e 000a 0003 612f2b 01 0003 622f23 02");
    let Packet::Subscribe(subscribe) = decode_one(V311, &wire).unwrap() else {
        panic!("not a SUBSCRIBE");
    };
    let filters: Vec<*const u8> = subscribe
        .subscriptions
        .iter()
        .map(|entry| entry.filter.into_inner().as_ptr())
        .collect();
    assert_eq!(filters, [wire[6..].as_ptr(), wire[12..].as_ptr()]);

    let input = Bytes::from(hex(
        "a2 1d 000b 07 26 0001 6b 0001 76 0003 612f62 000c 247368617265 2f67 2f61 2f2b",
    ));
    let Some((Packet::Unsubscribe(unsubscribe), _)) = Packet::decode_bytes(V5, &input, &LIMITS)
        .unwrap()
        .complete()
    else {
        panic!("not a complete UNSUBSCRIBE");
    };
    let filters: Vec<*const u8> = unsubscribe
        .filters
        .iter()
        .map(|filter| filter.into_inner().as_ptr())
        .collect();
    assert_eq!(filters, [input[14..].as_ptr(), input[19..].as_ptr()]);
    let property = unsubscribe
        .properties
        .user_properties
        .iter()
        .next()
        .unwrap();
    assert_eq!(property.name.as_ptr(), input[8..].as_ptr());
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE: malformed vectors and Protocol Errors
// ---------------------------------------------------------------------------------------------

/// conformance: v311:MQTT-2.3.1-1
#[test]
fn v311_mqtt_2_3_1_1_subscribe_packet_id_zero() {
    let error = DecodeError::ZeroPacketId {
        packet: PacketType::Subscribe,
    };
    assert_refused_in(
        &[V31, V311],
        "82 08 0000 0003 612f62 00",
        error,
        ReasonCode::ProtocolError,
    );
    assert_refused_in(
        &[V5],
        "82 09 0000 00 0003 612f62 00",
        error,
        ReasonCode::ProtocolError,
    );
}

/// conformance: v311:MQTT-3.8.3-3, v5:MQTT-3.8.3-2
#[test]
fn subscribe_without_entries_is_a_protocol_error() {
    let error = DecodeError::EmptyPayload {
        packet: PacketType::Subscribe,
    };
    for (versions, wire) in [
        (&[V31, V311][..], "82 02 000a"),
        (&[V5], "82 03 000a 00"),
        // Properties alone are no entry either.
        (&[V5], "82 05 000a 02 0b01"),
    ] {
        assert_refused_in(versions, wire, error, ReasonCode::ProtocolError);
    }
}

/// conformance: v311:MQTT-3.8.3-1, v5:MQTT-3.8.3-1, v311:MQTT-1.5.3-1, v5:MQTT-1.5.4-1,
/// v311:MQTT-1.5.3-2, v5:MQTT-1.5.4-2
#[test]
fn subscribe_filter_must_be_utf8_without_nul() {
    let field = "topic filter";
    for &version in ProtocolVersion::ALL {
        let refused = |filter: &[u8], error| {
            assert_refused(
                decode_error(version, &subscribe_wire(version, filter, 0)),
                error,
                ReasonCode::MalformedPacket,
            );
        };
        refused(b"a/\xc0\xaf", DecodeError::InvalidUtf8 { field });
        refused(b"\xed\xa0\x80", DecodeError::InvalidUtf8 { field });
        refused(b"a/\xff", DecodeError::InvalidUtf8 { field });
        refused(b"a\x00b", DecodeError::NulCharacter { field });
    }
}

/// conformance: v311:MQTT-4.7.1-2, v311:MQTT-4.7.1-3, v5:MQTT-4.7.1-1, v5:MQTT-4.7.1-2,
/// v311:MQTT-4.7.3-1, v5:MQTT-4.7.3-1
#[test]
fn subscribe_filter_wildcard_placement() {
    let invalid = |error| DecodeError::InvalidTopic {
        field: "topic filter",
        error,
    };
    for &version in ProtocolVersion::ALL {
        for (filter, error) in [
            (&b"a/#/b"[..], TopicError::MisplacedMultiLevelWildcard),
            (b"a#", TopicError::MisplacedMultiLevelWildcard),
            (b"#/", TopicError::MisplacedMultiLevelWildcard),
            (b"a+", TopicError::MisplacedSingleLevelWildcard),
            (b"a/+b/c", TopicError::MisplacedSingleLevelWildcard),
            (b"", TopicError::Empty),
        ] {
            let wire = subscribe_wire(version, filter, 0);
            assert_refused(
                decode_error(version, &wire),
                invalid(error),
                ReasonCode::MalformedPacket,
            );
        }
    }
}

/// conformance: v5:MQTT-3.8.3-4
#[test]
fn v5_mqtt_3_8_3_4_no_local_on_shared_subscription() {
    for byte in [0x04, 0x05, 0x2e] {
        let wire = subscribe_wire(V5, b"$share/g/c", byte);
        assert_refused(
            decode_error(V5, &wire),
            DecodeError::NoLocalOnSharedSubscription,
            ReasonCode::ProtocolError,
        );
    }
    // In 3.1.1 bit 2 is reserved, whatever the filter.
    assert_refused(
        decode_error(V311, &subscribe_wire(V311, b"$share/g/c", 0x04)),
        DecodeError::InvalidSubscriptionOptions(0x04),
        ReasonCode::MalformedPacket,
    );
}

/// A shared subscription is `$share/`, a non-empty ShareName without `/`, `+` or `#`, `/`
/// and a Topic Filter (5.0 §4.8.2); checked in SUBSCRIBE and UNSUBSCRIBE.
/// conformance: v5:MQTT-4.8.2-1, v5:MQTT-4.8.2-2
#[test]
fn v5_invalid_shared_subscription_filters() {
    for (filter, error) in [
        ("$share//a", TopicError::InvalidShareName),
        ("$share/+/a", TopicError::InvalidShareName),
        ("$share/g", TopicError::MissingSharedFilter),
        ("$share/g/", TopicError::MissingSharedFilter),
    ] {
        let error = DecodeError::InvalidTopic {
            field: "topic filter",
            error,
        };
        let wire = subscribe_wire(V5, filter.as_bytes(), 0x01);
        assert_refused(decode_error(V5, &wire), error, ReasonCode::MalformedPacket);
        let wire = unsubscribe_wire(V5, filter.as_bytes());
        assert_refused(decode_error(V5, &wire), error, ReasonCode::MalformedPacket);
    }
}

/// 5.0 §3.8.2.1.2: a Subscription Identifier of 0, or two of them, is a Protocol Error.
#[test]
fn v5_subscribe_subscription_identifier_rules() {
    assert_refused_in(
        &[V5],
        "82 0b 0001 02 0b00 0003 612f62 00",
        DecodeError::InvalidPropertyValue(PropertyId::SubscriptionIdentifier),
        ReasonCode::ProtocolError,
    );
    assert_refused_in(
        &[V5],
        "82 0d 0001 04 0b01 0b02 0003 612f62 00",
        DecodeError::DuplicateProperty(PropertyId::SubscriptionIdentifier),
        ReasonCode::ProtocolError,
    );
}

/// SUBSCRIBE allows only Subscription Identifier and User Property (§3.8.2.1).
#[test]
fn v5_subscribe_properties_not_allowed() {
    for (properties, property) in [
        ("03 230001", PropertyId::TopicAlias),
        ("03 1f0000", PropertyId::ReasonString),
        ("05 02 0000000a", PropertyId::MessageExpiryInterval),
    ] {
        let properties = hex(properties);
        let mut body = vec![0x00, 0x01];
        body.extend_from_slice(&properties);
        body.extend_from_slice(&hex("0003 612f62 00"));
        assert_refused(
            decode_error(V5, &with_header(0x82, body)),
            DecodeError::PropertyNotAllowed {
                property,
                packet: "SUBSCRIBE",
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// Fields are bounded by the Remaining Length: a filter without its options byte, and a
/// filter longer than what is left.
#[test]
fn subscribe_fields_cannot_run_past_the_remaining_length() {
    for (versions, wire, field) in [
        (
            &[V31, V311][..],
            "82 07 000a 0003 612f62 c000",
            "subscription options",
        ),
        (
            &[V5],
            "82 08 000a 00 0003 612f62 c000",
            "subscription options",
        ),
        (
            ProtocolVersion::ALL,
            "82 06 000a 0005 6162 c000",
            "topic filter",
        ),
    ] {
        assert_refused_in(
            versions,
            wire,
            DecodeError::UnexpectedEnd { field },
            ReasonCode::MalformedPacket,
        );
    }
}

/// SUBSCRIBE must carry flags `0010`.
/// conformance: v311:MQTT-3.8.1-1, v5:MQTT-3.8.1-1
#[test]
fn subscribe_fixed_header_flags() {
    for flags in [0x0, 0x3, 0x6, 0xa, 0xf] {
        let error = DecodeError::InvalidFixedHeaderFlags {
            packet: PacketType::Subscribe,
            flags,
        };
        let wire = format!("{:02x} 08 0001 0003 612f62 00", 0x80 | flags);
        let versions: &[ProtocolVersion] = if flags == 0xa {
            &[V311, V5]
        } else {
            &[V31, V311, V5]
        };
        assert_refused_in(versions, &wire, error, ReasonCode::MalformedPacket);
    }
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE: encoder refusals
// ---------------------------------------------------------------------------------------------

#[test]
fn subscribe_options_beyond_qos_cannot_be_encoded_before_v5() {
    for opts in [
        options(
            QoS::AtLeastOnce,
            true,
            false,
            RetainHandling::SendAtSubscribe,
        ),
        options(
            QoS::AtLeastOnce,
            false,
            true,
            RetainHandling::SendAtSubscribe,
        ),
        options(QoS::AtLeastOnce, false, false, RetainHandling::DoNotSend),
    ] {
        let packet = subscribe_one::<&[u8]>("a/b", opts);
        for version in [V31, V311] {
            assert_encode_error(
                &packet,
                version,
                EncodeError::NotInVersion {
                    what: "No Local, Retain As Published or Retain Handling",
                    version,
                },
            );
        }
        assert_eq!(
            encode(&packet, V5),
            subscribe_wire(V5, b"a/b", opts.to_byte())
        );
    }
}

#[test]
fn subscribe_properties_cannot_be_encoded_before_v5() {
    let mut subscribe = Subscribe::<&[u8]>::new(
        pid(1),
        [Subscription::new(
            TopicFilter::new("a/b").unwrap(),
            QoS::AtMostOnce,
        )],
    );
    subscribe.properties.subscription_identifier = SubscriptionId::new(1);
    let packet = Packet::Subscribe(subscribe);
    for version in [V31, V311] {
        let error = EncodeError::NotInVersion {
            what: "SUBSCRIBE properties",
            version,
        };
        assert_encode_error(&packet, version, error);
    }
    assert_eq!(
        encode(&packet, V5),
        hex("82 0b 0001 02 0b01 0003 612f62 00")
    );
}

/// conformance: v311:MQTT-3.8.3-3, v5:MQTT-3.8.3-2
#[test]
fn empty_subscribe_cannot_be_encoded() {
    let packet = Packet::Subscribe(Subscribe::<&[u8]>::new(pid(1), []));
    for &version in ProtocolVersion::ALL {
        let error = EncodeError::EmptyPayload {
            packet: PacketType::Subscribe,
        };
        assert_encode_error(&packet, version, error);
    }
}

/// conformance: v5:MQTT-3.8.3-4, v5:MQTT-4.8.2-1, v5:MQTT-4.8.2-2
#[test]
fn v5_invalid_shared_subscriptions_cannot_be_encoded() {
    for (filter, error) in [
        ("$share//a", TopicError::InvalidShareName),
        ("$share/+/a", TopicError::InvalidShareName),
        ("$share/g", TopicError::MissingSharedFilter),
    ] {
        let subscribe = subscribe_one::<&[u8]>(filter, SubscriptionOptions::new(QoS::AtMostOnce));
        assert_encode_error(&subscribe, V5, EncodeError::InvalidTopicFilter(error));
        let unsubscribe = unsubscribe::<&[u8]>(1, &[filter]);
        assert_encode_error(&unsubscribe, V5, EncodeError::InvalidTopicFilter(error));
        // In 3.1.1 the same filter is ordinary.
        assert_eq!(
            encode(&subscribe, V311),
            subscribe_wire(V311, filter.as_bytes(), 0)
        );
        assert_eq!(
            encode(&unsubscribe, V311),
            unsubscribe_wire(V311, filter.as_bytes())
        );
    }
    let no_local = subscribe_one::<&[u8]>(
        "$share/g/c",
        options(
            QoS::AtMostOnce,
            true,
            false,
            RetainHandling::SendAtSubscribe,
        ),
    );
    assert_encode_error(&no_local, V5, EncodeError::NoLocalOnSharedSubscription);
}

// ---------------------------------------------------------------------------------------------
// SUBACK
// ---------------------------------------------------------------------------------------------

/// 3.1.1: Packet Identifier, then one return code per entry: 0x00, 0x01, 0x02 or 0x80.
/// conformance: v311:MQTT-3.9.3-2
#[test]
fn v311_suback() {
    let codes = [
        SubAckReasonCode::GrantedQoS0,
        SubAckReasonCode::GrantedQoS1,
        SubAckReasonCode::GrantedQoS2,
        SubAckReasonCode::UnspecifiedError,
    ];
    let wire = hex("90 06 000a 00 01 02 80");
    assert_vector(V311, &wire, suback(10, &codes), suback(10, &codes));
}

/// MQTT 3.1 SUBACK carries granted QoS values only; it has no failure code.
#[test]
fn mqtt31_suback() {
    let codes = [
        SubAckReasonCode::GrantedQoS0,
        SubAckReasonCode::GrantedQoS1,
        SubAckReasonCode::GrantedQoS2,
    ];
    let wire = hex("90 05 000a 00 01 02");
    assert_vector(V31, &wire, suback(10, &codes), suback(10, &codes));
}

/// 5.0: Packet Identifier, properties (a Reason String here), then every Subscribe Reason
/// Code of §3.9.3 in table order.
/// conformance: v5:MQTT-3.9.3-2
#[test]
fn v5_suback() {
    fn every_code<B: Make>() -> Packet<B> {
        Packet::SubAck(SubAck {
            packet_id: pid(10),
            reason_codes: vec![
                SubAckReasonCode::GrantedQoS0,
                SubAckReasonCode::GrantedQoS1,
                SubAckReasonCode::GrantedQoS2,
                SubAckReasonCode::UnspecifiedError,
                SubAckReasonCode::ImplementationSpecificError,
                SubAckReasonCode::NotAuthorized,
                SubAckReasonCode::TopicFilterInvalid,
                SubAckReasonCode::PacketIdentifierInUse,
                SubAckReasonCode::QuotaExceeded,
                SubAckReasonCode::SharedSubscriptionsNotSupported,
                SubAckReasonCode::SubscriptionIdentifiersNotSupported,
                SubAckReasonCode::WildcardSubscriptionsNotSupported,
            ]
            .into(),
            properties: AckProperties {
                reason_string: Some(B::string("ok")),
                ..AckProperties::new()
            },
        })
    }
    let wire = hex("90 14 000a 05 1f0002 6f6b 00 01 02 80 83 87 8f 91 97 9e a1 a2");
    assert_vector(V5, &wire, every_code(), every_code());
    let codes = [SubAckReasonCode::GrantedQoS1];
    let wire = hex("90 04 000a 00 01");
    assert_vector(V5, &wire, suback(10, &codes), suback(10, &codes));
}

/// Every byte as the one reason code of a SUBACK (Packet Identifier 10) or UNSUBACK (11) in
/// `version`: exactly the codes in `allowed` decode, every other is malformed.
fn assert_code_bytes(version: ProtocolVersion, packet: PacketType, allowed: &[u8]) {
    fn with_code<B: Buffer>(packet: PacketType, code: u8) -> Packet<B> {
        match packet {
            PacketType::SubAck => suback(10, &[SubAckReasonCode::from_u8(code).unwrap()]),
            PacketType::UnsubAck => unsuback(11, &[UnsubAckReasonCode::from_u8(code).unwrap()]),
            other => panic!("{other} has no list of reason codes"),
        }
    }
    let (first, packet_id) = match packet {
        PacketType::SubAck => (0x90, 0x0a),
        _ => (0xb0, 0x0b),
    };
    for code in 0..=255u8 {
        let wire = if version == V5 {
            vec![first, 0x04, 0x00, packet_id, 0x00, code]
        } else {
            vec![first, 0x03, 0x00, packet_id, code]
        };
        if allowed.contains(&code) {
            let (borrowed, owned) = (with_code(packet, code), with_code(packet, code));
            assert_vector(version, &wire, borrowed, owned);
        } else {
            assert_refused(
                decode_error(version, &wire),
                DecodeError::InvalidReasonCode { packet, code },
                ReasonCode::MalformedPacket,
            );
        }
    }
}

/// Every byte as a SUBACK code, in each version, against the spec's list: 3.1 {0, 1, 2},
/// 3.1.1 {0, 1, 2, 0x80}, 5.0 the table of §3.9.3.
/// conformance: v311:MQTT-3.9.3-2, v5:MQTT-3.9.3-2
#[test]
fn suback_codes_are_exactly_the_spec_lists() {
    let lists: [(ProtocolVersion, &[u8]); 3] = [
        (V31, &[0x00, 0x01, 0x02]),
        (V311, &[0x00, 0x01, 0x02, 0x80]),
        (
            V5,
            &[
                0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2,
            ],
        ),
    ];
    for (version, allowed) in lists {
        assert_code_bytes(version, PacketType::SubAck, allowed);
    }
}

/// MQTT 3.1 has no SUBACK failure code: 0x80 is refused among valid codes.
#[test]
fn mqtt31_suback_0x80_is_malformed() {
    let error = DecodeError::InvalidReasonCode {
        packet: PacketType::SubAck,
        code: 0x80,
    };
    assert_refused_in(
        &[V31],
        "90 05 000a 00 01 80",
        error,
        ReasonCode::MalformedPacket,
    );
}

/// conformance: v311:MQTT-2.3.1-1
#[test]
fn v311_mqtt_2_3_1_1_suback_packet_id_zero() {
    let error = DecodeError::ZeroPacketId {
        packet: PacketType::SubAck,
    };
    assert_refused_in(
        &[V31, V311],
        "90 03 0000 00",
        error,
        ReasonCode::ProtocolError,
    );
    assert_refused_in(&[V5], "90 04 0000 00 00", error, ReasonCode::ProtocolError);
}

/// A SUBACK answers at least one entry, so it has at least one code.
#[test]
fn empty_suback_is_refused() {
    let error = DecodeError::EmptyPayload {
        packet: PacketType::SubAck,
    };
    for (versions, wire) in [
        (&[V31, V311][..], "90 02 000a"),
        (&[V5], "90 03 000a 00"),
        (&[V5], "90 07 000a 04 1f0001 78"),
    ] {
        assert_refused_in(versions, wire, error, ReasonCode::ProtocolError);
    }
}

/// SUBACK allows only Reason String and User Property (§3.9.2.1).
#[test]
fn v5_suback_properties_not_allowed() {
    assert_refused_in(
        &[V5],
        "90 07 000a 03 230001 00",
        DecodeError::PropertyNotAllowed {
            property: PropertyId::TopicAlias,
            packet: "SUBACK",
        },
        ReasonCode::MalformedPacket,
    );
}

#[test]
fn suback_encoder_refusals() {
    let suback = |codes: &[SubAckReasonCode]| -> Packet<&[u8]> {
        Packet::SubAck(SubAck::new(pid(1), codes.iter().copied()))
    };
    let not_in = |version| EncodeError::NotInVersion {
        what: "this SUBACK reason code",
        version,
    };
    // 0x87 is 5.0 only; 0x80 exists in 3.1.1 but not in 3.1.
    let not_authorized = suback(&[
        SubAckReasonCode::GrantedQoS0,
        SubAckReasonCode::NotAuthorized,
    ]);
    assert_encode_error(&not_authorized, V311, not_in(V311));
    assert_encode_error(&not_authorized, V31, not_in(V31));
    assert_eq!(encode(&not_authorized, V5), hex("90 05 0001 00 00 87"));
    let failure = suback(&[SubAckReasonCode::UnspecifiedError]);
    assert_encode_error(&failure, V31, not_in(V31));
    assert_eq!(encode(&failure, V311), hex("90 03 0001 80"));

    let empty = suback(&[]);
    for &version in ProtocolVersion::ALL {
        let error = EncodeError::EmptyPayload {
            packet: PacketType::SubAck,
        };
        assert_encode_error(&empty, version, error);
    }

    let mut with_properties = SubAck::<&[u8]>::new(pid(1), [SubAckReasonCode::GrantedQoS0]);
    with_properties.properties.reason_string = Some(MqttString::new("x").unwrap());
    let with_properties = Packet::SubAck(with_properties);
    for version in [V31, V311] {
        let error = EncodeError::NotInVersion {
            what: "SUBACK properties",
            version,
        };
        assert_encode_error(&with_properties, version, error);
    }
}

// ---------------------------------------------------------------------------------------------
// UNSUBSCRIBE
// ---------------------------------------------------------------------------------------------

/// Packet Identifier, then Topic Filters back to back.
/// conformance: v311:MQTT-3.10.3-1
#[test]
fn mqtt31_and_v311_unsubscribe() {
    let filters = ["a/b", "c/#"];
    for version in [V31, V311] {
        let wire = hex("a2 0c 000b 0003 612f62 0003 632f23");
        assert_vector(
            version,
            &wire,
            unsubscribe(11, &filters),
            unsubscribe(11, &filters),
        );
    }
    // MQTT 3.1 lets a re-sent UNSUBSCRIBE carry DUP.
    assert_decodes_to(
        V31,
        &hex("aa 07 000b 0003 612f62"),
        unsubscribe(11, &["a/b"]),
        unsubscribe(11, &["a/b"]),
        &hex("a2 07 000b 0003 612f62"),
    );
}

/// 5.0 adds properties (User Property only) before the filters; shared filters are allowed.
/// conformance: v5:MQTT-3.10.3-1
#[test]
fn v5_unsubscribe() {
    fn with_property<B: Make>() -> Packet<B> {
        Packet::Unsubscribe(Unsubscribe {
            packet_id: pid(11),
            filters: vec![B::filter("a/b"), B::filter("$share/g/a/+")].into(),
            properties: UnsubscribeProperties {
                user_properties: vec![B::user("k", "v")].into(),
            },
        })
    }
    let wire = hex("a2 1d 000b 07 26 0001 6b 0001 76 0003 612f62 000c 247368617265 2f67 2f61 2f2b");
    assert_vector(V5, &wire, with_property(), with_property());
    let wire = hex("a2 08 000b 00 0003 612f62");
    assert_vector(
        V5,
        &wire,
        unsubscribe(11, &["a/b"]),
        unsubscribe(11, &["a/b"]),
    );
}

/// conformance: v311:MQTT-2.3.1-1
#[test]
fn v311_mqtt_2_3_1_1_unsubscribe_packet_id_zero() {
    let error = DecodeError::ZeroPacketId {
        packet: PacketType::Unsubscribe,
    };
    assert_refused_in(
        &[V31, V311],
        "a2 07 0000 0003 612f62",
        error,
        ReasonCode::ProtocolError,
    );
    assert_refused_in(
        &[V5],
        "a2 08 0000 00 0003 612f62",
        error,
        ReasonCode::ProtocolError,
    );
}

/// conformance: v311:MQTT-3.10.3-2, v5:MQTT-3.10.3-2
#[test]
fn unsubscribe_without_filters_is_a_protocol_error() {
    let error = DecodeError::EmptyPayload {
        packet: PacketType::Unsubscribe,
    };
    assert_refused_in(&[V31, V311], "a2 02 000b", error, ReasonCode::ProtocolError);
    assert_refused_in(&[V5], "a2 03 000b 00", error, ReasonCode::ProtocolError);
}

/// conformance: v311:MQTT-3.10.3-1, v5:MQTT-3.10.3-1, v311:MQTT-1.5.3-1, v5:MQTT-1.5.4-1,
/// v311:MQTT-1.5.3-2, v5:MQTT-1.5.4-2
#[test]
fn unsubscribe_filter_must_be_utf8_without_nul() {
    let field = "topic filter";
    for &version in ProtocolVersion::ALL {
        for (filter, error) in [
            (&b"a/\xc0\xaf"[..], DecodeError::InvalidUtf8 { field }),
            (b"\xed\xa0\x80", DecodeError::InvalidUtf8 { field }),
            (b"a\x00b", DecodeError::NulCharacter { field }),
        ] {
            let wire = unsubscribe_wire(version, filter);
            assert_refused(
                decode_error(version, &wire),
                error,
                ReasonCode::MalformedPacket,
            );
        }
    }
}

/// Filters in UNSUBSCRIBE obey the same section 4.7 rules as in SUBSCRIBE.
/// conformance: v311:MQTT-4.7.1-2, v311:MQTT-4.7.1-3, v5:MQTT-4.7.1-1, v5:MQTT-4.7.1-2
#[test]
fn unsubscribe_filter_wildcard_placement() {
    for &version in ProtocolVersion::ALL {
        for (filter, error) in [
            (&b"a/#/b"[..], TopicError::MisplacedMultiLevelWildcard),
            (b"a+", TopicError::MisplacedSingleLevelWildcard),
            (b"", TopicError::Empty),
        ] {
            let error = DecodeError::InvalidTopic {
                field: "topic filter",
                error,
            };
            let wire = unsubscribe_wire(version, filter);
            assert_refused(
                decode_error(version, &wire),
                error,
                ReasonCode::MalformedPacket,
            );
        }
    }
}

/// UNSUBSCRIBE allows only User Property (§3.10.2.1).
#[test]
fn v5_unsubscribe_properties_not_allowed() {
    assert_refused_in(
        &[V5],
        "a2 0a 000b 02 0b01 0003 612f62",
        DecodeError::PropertyNotAllowed {
            property: PropertyId::SubscriptionIdentifier,
            packet: "UNSUBSCRIBE",
        },
        ReasonCode::MalformedPacket,
    );
}

/// UNSUBSCRIBE must carry flags `0010`.
/// conformance: v311:MQTT-3.10.1-1, v5:MQTT-3.10.1-1
#[test]
fn unsubscribe_fixed_header_flags() {
    for (versions, wire, flags) in [
        (ProtocolVersion::ALL, "a0 07 000b 0003 612f62", 0),
        (ProtocolVersion::ALL, "a3 07 000b 0003 612f62", 3),
        (&[V311, V5], "aa 07 000b 0003 612f62", 0xa),
    ] {
        assert_refused_in(
            versions,
            wire,
            DecodeError::InvalidFixedHeaderFlags {
                packet: PacketType::Unsubscribe,
                flags,
            },
            ReasonCode::MalformedPacket,
        );
    }
}

#[test]
fn unsubscribe_encoder_refusals() {
    let empty = Packet::Unsubscribe(Unsubscribe::<&[u8]>::new(pid(1), []));
    for &version in ProtocolVersion::ALL {
        let error = EncodeError::EmptyPayload {
            packet: PacketType::Unsubscribe,
        };
        assert_encode_error(&empty, version, error);
    }
    let mut with_properties = Unsubscribe::<&[u8]>::new(pid(1), [TopicFilter::new("a").unwrap()]);
    with_properties.properties.user_properties = vec![Make::user("k", "v")].into();
    let with_properties = Packet::Unsubscribe(with_properties);
    for version in [V31, V311] {
        let error = EncodeError::NotInVersion {
            what: "UNSUBSCRIBE properties",
            version,
        };
        assert_encode_error(&with_properties, version, error);
    }
}

// ---------------------------------------------------------------------------------------------
// UNSUBACK
// ---------------------------------------------------------------------------------------------

/// 3.1 and 3.1.1: the Packet Identifier and nothing else.
#[test]
fn mqtt31_and_v311_unsuback() {
    for version in [V31, V311] {
        let wire = hex("b0 02 000b");
        assert_vector(version, &wire, unsuback(11, &[]), unsuback(11, &[]));
        let error = DecodeError::TrailingBytes {
            packet: PacketType::UnsubAck,
            count: 1,
        };
        assert_refused_in(
            &[version],
            "b0 03 000b 00",
            error,
            ReasonCode::MalformedPacket,
        );
    }
}

/// 5.0: Packet Identifier, properties, then one Unsubscribe Reason Code per filter.
/// conformance: v5:MQTT-3.11.3-2
#[test]
fn v5_unsuback() {
    let codes = [
        UnsubAckReasonCode::Success,
        UnsubAckReasonCode::NoSubscriptionExisted,
    ];
    let wire = hex("b0 05 000b 00 00 11");
    assert_vector(V5, &wire, unsuback(11, &codes), unsuback(11, &codes));

    fn every_code<B: Make>() -> Packet<B> {
        Packet::UnsubAck(UnsubAck {
            packet_id: pid(11),
            reason_codes: vec![
                UnsubAckReasonCode::Success,
                UnsubAckReasonCode::NoSubscriptionExisted,
                UnsubAckReasonCode::UnspecifiedError,
                UnsubAckReasonCode::ImplementationSpecificError,
                UnsubAckReasonCode::NotAuthorized,
                UnsubAckReasonCode::TopicFilterInvalid,
                UnsubAckReasonCode::PacketIdentifierInUse,
            ]
            .into(),
            properties: AckProperties {
                reason_string: Some(B::string("x")),
                ..AckProperties::new()
            },
        })
    }
    let wire = hex("b0 0e 000b 04 1f0001 78 00 11 80 83 87 8f 91");
    assert_vector(V5, &wire, every_code(), every_code());
}

/// Every byte as an UNSUBACK code: exactly the table of §3.11.3 decodes.
/// conformance: v5:MQTT-3.11.3-2
#[test]
fn v5_unsuback_codes_are_exactly_the_spec_table() {
    let allowed = [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91];
    assert_code_bytes(V5, PacketType::UnsubAck, &allowed);
}

/// A 5.0 UNSUBACK has a property block and at least one reason code.
#[test]
fn v5_unsuback_needs_properties_and_codes() {
    for (wire, error, reason) in [
        (
            "b0 03 000b 00",
            DecodeError::EmptyPayload {
                packet: PacketType::UnsubAck,
            },
            ReasonCode::ProtocolError,
        ),
        (
            "b0 02 000b",
            DecodeError::UnexpectedEnd {
                field: "property length",
            },
            ReasonCode::MalformedPacket,
        ),
        (
            "b0 07 000b 03 230001 00",
            DecodeError::PropertyNotAllowed {
                property: PropertyId::TopicAlias,
                packet: "UNSUBACK",
            },
            ReasonCode::MalformedPacket,
        ),
    ] {
        assert_refused_in(&[V5], wire, error, reason);
    }
}

/// conformance: v311:MQTT-2.3.1-1
#[test]
fn v311_mqtt_2_3_1_1_unsuback_packet_id_zero() {
    let error = DecodeError::ZeroPacketId {
        packet: PacketType::UnsubAck,
    };
    assert_refused_in(&[V31, V311], "b0 02 0000", error, ReasonCode::ProtocolError);
    assert_refused_in(&[V5], "b0 04 0000 00 00", error, ReasonCode::ProtocolError);
}

#[test]
fn unsuback_encoder_refusals() {
    let with_codes = unsuback::<&[u8]>(1, &[UnsubAckReasonCode::Success]);
    let mut with_properties = UnsubAck::<&[u8]>::new(pid(1), []);
    with_properties.properties.reason_string = Some(MqttString::new("x").unwrap());
    let with_properties = Packet::UnsubAck(with_properties);
    for version in [V31, V311] {
        let not_in = |what| EncodeError::NotInVersion { what, version };
        assert_encode_error(&with_codes, version, not_in("UNSUBACK reason codes"));
        assert_encode_error(&with_properties, version, not_in("UNSUBACK properties"));
    }
    let empty = Packet::UnsubAck(UnsubAck::<&[u8]>::new(pid(1), []));
    let error = EncodeError::EmptyPayload {
        packet: PacketType::UnsubAck,
    };
    assert_encode_error(&empty, V5, error);
}
