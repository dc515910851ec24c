//! Hand-checked byte vectors for PUBLISH, PUBACK, PUBREC, PUBREL and PUBCOMP in MQTT 3.1
//! (`MQIsdp`, level 3), 3.1.1 (level 4) and 5.0 (level 5).
//!
//! Every vector is written from the packet layouts of the standards (3.1.1 §3.3 to §3.7, 5.0
//! §3.3 to §3.7), decoded through both paths (`Packet::decode` borrowing a slice,
//! `Packet::decode_bytes` sharing a `Bytes`) to an exact expected packet, and encoded back to
//! exactly the same bytes. Each malformed vector breaks one rule and names the `DecodeError`
//! and the reason code a receiver would send.
#![cfg(feature = "v5")]

mod common;

use core::num::NonZeroU16;

use bytes::Bytes;
use common::{
    LIMITS, Make, V5, V31, V311, assert_decodes_to, assert_encode_error, assert_refused_in,
    assert_vector, decode_error, decode_one, encode, hex, pid,
};
use mqtt_sansio::{
    AckProperties, Buffer, DecodeError, Delivery, EncodeError, MessageProperties, MqttString,
    Packet, PacketType, PayloadFormat, PropertyId, ProtocolVersion, PubAck, PubAckReasonCode,
    PubComp, PubCompReasonCode, PubRec, PubRecReasonCode, PubRel, PubRelReasonCode, Publish,
    PublishProperties, QoS, ReasonCode, SubscriptionId, TopicError, TopicName,
};

/// A PUBLISH to topic "a/b" with `payload` and no properties.
fn publish<B: Make>(delivery: Delivery, retain: bool, payload: &'static [u8]) -> Packet<B> {
    Packet::Publish(Publish {
        delivery,
        retain,
        topic: Some(B::topic("a/b")),
        properties: PublishProperties::new(),
        payload: B::raw(payload),
    })
}

fn qos1(packet_id: u16, dup: bool) -> Delivery {
    Delivery::AtLeastOnce {
        packet_id: pid(packet_id),
        dup,
    }
}

fn qos2(packet_id: u16, dup: bool) -> Delivery {
    Delivery::ExactlyOnce {
        packet_id: pid(packet_id),
        dup,
    }
}

// ---------------------------------------------------------------------------------------------
// PUBLISH: positive vectors
// ---------------------------------------------------------------------------------------------

/// Fixed header `0011 DUP QoS QoS RETAIN`, Topic Name "a/b" first, then the Packet Identifier
/// (QoS 1 and 2 only), then the payload "hi": 3.1 and 3.1.1 share the layout.
/// conformance: v311:MQTT-3.3.2-1, v311:MQTT-2.3.1-5
#[test]
fn mqtt31_and_v311_publish_every_flag_combination() {
    let cases = [
        ("30 07 0003 612f62 6869", Delivery::AtMostOnce, false),
        ("31 07 0003 612f62 6869", Delivery::AtMostOnce, true),
        ("32 09 0003 612f62 000a 6869", qos1(10, false), false),
        ("33 09 0003 612f62 000a 6869", qos1(10, false), true),
        ("3a 09 0003 612f62 000a 6869", qos1(10, true), false),
        ("3b 09 0003 612f62 000a 6869", qos1(10, true), true),
        ("34 09 0003 612f62 000a 6869", qos2(10, false), false),
        ("35 09 0003 612f62 000a 6869", qos2(10, false), true),
        ("3c 09 0003 612f62 000a 6869", qos2(10, true), false),
        ("3d 09 0003 612f62 000a 6869", qos2(10, true), true),
    ];
    for version in [V31, V311] {
        for (wire, delivery, retain) in cases {
            let (borrowed, owned) = (
                publish(delivery, retain, b"hi"),
                publish(delivery, retain, b"hi"),
            );
            assert_vector(version, &hex(wire), borrowed, owned);
        }
    }
}

/// 5.0 adds the Property Length (0 here) after the Packet Identifier.
/// conformance: v5:MQTT-3.3.2-1, v5:MQTT-2.2.1-2, v5:MQTT-2.2.2-1
#[test]
fn v5_publish_every_flag_combination() {
    let cases = [
        ("30 08 0003 612f62 00 6869", Delivery::AtMostOnce, false),
        ("31 08 0003 612f62 00 6869", Delivery::AtMostOnce, true),
        ("32 0a 0003 612f62 000a 00 6869", qos1(10, false), false),
        ("33 0a 0003 612f62 000a 00 6869", qos1(10, false), true),
        ("3a 0a 0003 612f62 000a 00 6869", qos1(10, true), false),
        ("3b 0a 0003 612f62 000a 00 6869", qos1(10, true), true),
        ("34 0a 0003 612f62 000a 00 6869", qos2(10, false), false),
        ("35 0a 0003 612f62 000a 00 6869", qos2(10, false), true),
        ("3c 0a 0003 612f62 000a 00 6869", qos2(10, true), false),
        ("3d 0a 0003 612f62 000a 00 6869", qos2(10, true), true),
    ];
    for (wire, delivery, retain) in cases {
        let (borrowed, owned) = (
            publish(delivery, retain, b"hi"),
            publish(delivery, retain, b"hi"),
        );
        assert_vector(V5, &hex(wire), borrowed, owned);
    }
}

/// The largest Packet Identifier, 65,535, is written big-endian.
#[test]
fn publish_packet_id_is_big_endian() {
    for (version, wire, delivery) in [
        (V31, "34 09 0003 612f62 ffff 6869", qos2(65_535, false)),
        (V31, "32 09 0003 612f62 1234 6869", qos1(0x1234, false)),
        (V311, "34 09 0003 612f62 ffff 6869", qos2(65_535, false)),
        (V311, "32 09 0003 612f62 1234 6869", qos1(0x1234, false)),
        (V5, "32 0a 0003 612f62 1234 00 6869", qos1(0x1234, false)),
    ] {
        let (borrowed, owned) = (
            publish(delivery, false, b"hi"),
            publish(delivery, false, b"hi"),
        );
        assert_vector(version, &hex(wire), borrowed, owned);
    }
}

/// A QoS 0 PUBLISH has no Packet Identifier: the two bytes after the topic are payload.
/// conformance: v311:MQTT-2.3.1-5, v5:MQTT-2.2.1-2
#[test]
fn qos0_publish_has_no_packet_identifier() {
    let qos0 = Delivery::AtMostOnce;
    for (version, wire) in [
        (V31, "30 07 0003 612f62 000a"),
        (V311, "30 07 0003 612f62 000a"),
        (V5, "30 08 0003 612f62 00 000a"),
    ] {
        let wire = hex(wire);
        let (borrowed, owned) = (
            publish(qos0, false, b"\x00\x0a"),
            publish(qos0, false, b"\x00\x0a"),
        );
        assert_vector(version, &wire, borrowed, owned);
        if version != V5 {
            let Packet::Publish(publish) = decode_one(version, &wire).unwrap() else {
                panic!("not a PUBLISH");
            };
            assert_eq!(publish.packet_id(), None);
        }
    }

    // A QoS 0 delivery cannot hold an identifier, so the encoder cannot write one.
    let publish = Publish::<&[u8]> {
        delivery: Delivery::new(QoS::AtMostOnce, pid(10)),
        ..Publish::new(TopicName::new("a/b").unwrap(), &b"hi"[..])
    };
    assert_eq!(
        encode(&Packet::Publish(publish), V311),
        hex("30 07 0003 612f62 6869")
    );
}

/// A zero-length payload is valid in every version (3.1.1 §3.3.3, 5.0 §3.3.3).
#[test]
fn publish_with_empty_payload() {
    let qos0 = Delivery::AtMostOnce;
    for (versions, wire, delivery, retain) in [
        (&[V31, V311][..], "30 05 0003 612f62", qos0, false),
        (&[V31, V311], "33 07 0003 612f62 0001", qos1(1, false), true),
        (&[V5], "30 06 0003 612f62 00", qos0, false),
        (&[V5], "35 08 0003 612f62 0001 00", qos2(1, false), true),
    ] {
        for &version in versions {
            let (borrowed, owned) = (
                publish(delivery, retain, b""),
                publish(delivery, retain, b""),
            );
            assert_vector(version, &hex(wire), borrowed, owned);
        }
    }
}

/// A 5.0 PUBLISH may name its topic by Topic Alias alone: the Topic Name is then empty
/// (§3.3.2.1, §3.3.2.3.4), which decodes to `topic: None`.
/// conformance: v5:MQTT-3.3.2-1
#[test]
fn v5_publish_topic_alias_only() {
    fn alias_only<B: Make>() -> Packet<B> {
        Packet::Publish(Publish {
            delivery: Delivery::AtMostOnce,
            retain: false,
            topic: None,
            properties: PublishProperties {
                topic_alias: NonZeroU16::new(5),
                ..PublishProperties::new()
            },
            payload: B::raw(b"hi"),
        })
    }
    assert_vector(
        V5,
        &hex("30 08 0000 03 230005 6869"),
        alias_only(),
        alias_only(),
    );

    // The same alias set up together with its topic.
    fn with_topic<B: Make>() -> Packet<B> {
        Packet::Publish(Publish {
            delivery: qos1(7, false),
            retain: false,
            topic: Some(B::topic("a/b")),
            properties: PublishProperties {
                topic_alias: NonZeroU16::new(5),
                ..PublishProperties::new()
            },
            payload: B::raw(b"hi"),
        })
    }
    let wire = hex("32 0d 0003 612f62 0007 03 230005 6869");
    assert_vector(V5, &wire, with_topic(), with_topic());
}

/// Every PUBLISH property of §3.3.2.3 at once, in the encoder's order, with three User
/// Properties (a repeated name and an empty value included) and three Subscription Identifiers
/// of one, two and four bytes.
const FULL_PROPERTIES: &str = "
    32 49
    0001 74                       topic t
    0001                          packet id 1
    41                            property length 65
    02 0000003c                   message expiry: 60 s
    23 0007                       topic alias 7
    01 01                         payload format: UTF-8
    08 0003 722f31                response topic r/1
    09 0002 abcd                  correlation data
    03 000a 746578742f706c61696e  content type text/plain
    26 0001 6b 0001 76            user property k=v
    26 0001 6b 0001 77            user property k=w
    26 0002 6b32 0000             user property k2=
    0b 01                         subscription id 1
    0b 8001                       subscription id 128
    0b ffffff7f                   subscription id 268,435,455
    6f6b                          payload ok
";

/// The same properties in another order, repeated ones interleaved with the others.
const FULL_PROPERTIES_SHUFFLED: &str = "
    32 49 0001 74 0001 41
    0b 01
    26 0001 6b 0001 76
    03 000a 746578742f706c61696e
    0b 8001
    23 0007
    26 0001 6b 0001 77
    09 0002 abcd
    02 0000003c
    26 0002 6b32 0000
    08 0003 722f31
    0b ffffff7f
    01 01
    6f6b
";

/// Strips the comments of [`FULL_PROPERTIES`], keeping the hex.
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| {
            line.split_whitespace()
                .take_while(|word| word.bytes().all(|b| b.is_ascii_hexdigit()))
                .collect::<String>()
        })
        .collect()
}

/// The packet of [`FULL_PROPERTIES`].
fn full_properties_packet<B: Make>() -> Packet<B> {
    Packet::Publish(Publish {
        delivery: qos1(1, false),
        retain: false,
        topic: Some(B::topic("t")),
        properties: PublishProperties {
            message_expiry_interval: Some(60),
            topic_alias: NonZeroU16::new(7),
            message: B::message(
                MessageProperties::builder()
                    .payload_format(PayloadFormat::Utf8)
                    .response_topic("r/1")
                    .correlation_data(&[0xab, 0xcd])
                    .content_type("text/plain")
                    .user_property("k", "v")
                    .user_property("k", "w")
                    .user_property("k2", ""),
            ),
            subscription_identifiers: vec![
                SubscriptionId::new(1).unwrap(),
                SubscriptionId::new(128).unwrap(),
                SubscriptionId::new(268_435_455).unwrap(),
            ]
            .into(),
        },
        payload: B::raw(b"ok"),
    })
}

/// conformance: v5:MQTT-3.3.2-13, v5:MQTT-3.3.2-19, v5:MQTT-1.5.7-1
#[test]
fn v5_publish_with_every_property() {
    let wire = hex(&strip_comments(FULL_PROPERTIES));
    assert_vector(
        V5,
        &wire,
        full_properties_packet(),
        full_properties_packet(),
    );
}

/// The packet of [`FULL_PROPERTIES_SHUFFLED`]: the forwarded properties keep the order they
/// came in.
fn shuffled_properties_packet<B: Make>() -> Packet<B> {
    let Packet::Publish(mut publish) = full_properties_packet::<B>() else {
        unreachable!("a PUBLISH")
    };
    publish.properties.message = B::message(
        MessageProperties::builder()
            .user_property("k", "v")
            .content_type("text/plain")
            .user_property("k", "w")
            .correlation_data(&[0xab, 0xcd])
            .user_property("k2", "")
            .response_topic("r/1")
            .payload_format(PayloadFormat::Utf8),
    );
    Packet::Publish(publish)
}

/// Properties may come in any order. The forwarded ones keep theirs, every one of them and
/// not only the User Properties (v5:MQTT-3.3.2-18), so a server passes them on as they came;
/// the ones it edits (Message Expiry Interval, Topic Alias, Subscription Identifiers) are
/// written first and last, Subscription Identifiers in their relative order.
#[test]
fn v5_publish_properties_in_any_order() {
    let wire = hex(FULL_PROPERTIES_SHUFFLED);
    let reencoded = hex("
        32 49 0001 74 0001 41
        02 0000003c
        23 0007
        26 0001 6b 0001 76
        03 000a 746578742f706c61696e
        26 0001 6b 0001 77
        09 0002 abcd
        26 0002 6b32 0000
        08 0003 722f31
        01 01
        0b 01
        0b 8001
        0b ffffff7f
        6f6b
    ");
    assert_decodes_to(
        V5,
        &wire,
        shuffled_properties_packet(),
        shuffled_properties_packet(),
        &reencoded,
    );
    let Packet::Publish(publish) = decode_one(V5, &wire).unwrap() else {
        panic!("not a PUBLISH");
    };
    let values: Vec<&str> = publish
        .properties
        .message
        .user_properties()
        .map(|(_, value)| value)
        .collect();
    assert_eq!(values, ["v", "w", ""]);
    let ids: Vec<u32> = publish
        .properties
        .subscription_identifiers
        .iter()
        .map(SubscriptionId::get)
        .collect();
    assert_eq!(ids, [1, 128, 268_435_455]);
    // The same properties in the encoder's order are not the same message: the order is kept.
    assert_ne!(Packet::Publish(publish), full_properties_packet::<&[u8]>());
}

/// Asserts that the string, binary and payload fields of the decoded [`FULL_PROPERTIES`]
/// packet point into `input`, the bytes it was decoded from.
fn assert_full_properties_point_into<B: Buffer>(publish: &Publish<B>, input: &[u8]) {
    // Offsets in the vector: topic at 4, response topic text at 21, correlation data at 27,
    // content type text at 32, first user property name at 45, payload at 73.
    let at = |offset: usize| input[offset..].as_ptr();
    let properties = &publish.properties;
    assert_eq!(publish.topic.as_ref().unwrap().as_ptr(), at(4));
    let message = &properties.message;
    assert_eq!(message.response_topic().unwrap().as_ptr(), at(21));
    assert_eq!(message.correlation_data().unwrap().as_ptr(), at(27));
    assert_eq!(message.content_type().unwrap().as_ptr(), at(32));
    let (name, _) = message.user_properties().next().unwrap();
    assert_eq!(name.as_ptr(), at(45));
    assert_eq!(publish.payload.as_ref().as_ptr(), at(73));
}

/// The borrowed path hands out slices of the input, the `Bytes` path slices of the input's
/// storage: topic, payload and every string or binary property point into the input.
#[test]
fn publish_decoding_is_zero_copy() {
    let wire = hex(&strip_comments(FULL_PROPERTIES));
    let Packet::Publish(publish) = decode_one(V5, &wire).unwrap() else {
        panic!("not a PUBLISH");
    };
    assert_full_properties_point_into(&publish, &wire);
    assert_eq!(publish.payload, b"ok");

    let input = Bytes::from(wire.clone());
    let Some((Packet::Publish(publish), _)) = Packet::decode_bytes(V5, &input, &LIMITS)
        .unwrap()
        .complete()
    else {
        panic!("not a complete PUBLISH");
    };
    assert_full_properties_point_into(&publish, &input);

    // The same in 3.1.1, where the payload follows the Packet Identifier.
    let wire = hex("32 09 0003 612f62 000a 6869");
    let Packet::Publish(publish) = decode_one(V311, &wire).unwrap() else {
        panic!("not a PUBLISH");
    };
    assert_eq!(publish.topic.as_ref().unwrap().as_ptr(), wire[4..].as_ptr());
    assert_eq!(publish.payload.as_ptr(), wire[9..].as_ptr());
}

// ---------------------------------------------------------------------------------------------
// PUBLISH: malformed vectors
// ---------------------------------------------------------------------------------------------

/// conformance: v311:MQTT-3.3.1-4, v5:MQTT-3.3.1-4
#[test]
fn publish_qos_3_is_malformed() {
    let error = DecodeError::InvalidQos {
        field: "PUBLISH fixed header",
    };
    for first in ["36", "37", "3e", "3f"] {
        let wire = format!("{first} 07 0003 612f62 000a");
        assert_refused_in(&[V31, V311], &wire, error, ReasonCode::MalformedPacket);
        let wire = format!("{first} 08 0003 612f62 000a 00");
        assert_refused_in(&[V5], &wire, error, ReasonCode::MalformedPacket);
    }
}

/// conformance: v311:MQTT-3.3.1-2, v5:MQTT-3.3.1-2
#[test]
fn publish_dup_on_qos_0_is_malformed() {
    for first in ["38", "39"] {
        let wire = format!("{first} 05 0003 612f62");
        assert_refused_in(
            &[V31, V311],
            &wire,
            DecodeError::DupWithQos0,
            ReasonCode::MalformedPacket,
        );
        let wire = format!("{first} 06 0003 612f62 00");
        assert_refused_in(
            &[V5],
            &wire,
            DecodeError::DupWithQos0,
            ReasonCode::MalformedPacket,
        );
    }
}

/// conformance: v311:MQTT-2.3.1-1
#[test]
fn v311_mqtt_2_3_1_1_publish_packet_id_zero() {
    let error = DecodeError::ZeroPacketId {
        packet: PacketType::Publish,
    };
    for first in ["32", "34", "3b"] {
        let wire = format!("{first} 07 0003 612f62 0000");
        assert_refused_in(&[V31, V311], &wire, error, ReasonCode::ProtocolError);
        // 5.0 §2.2.1: the identifier of a QoS 1 or 2 PUBLISH is non-zero.
        let wire = format!("{first} 08 0003 612f62 0000 00");
        assert_refused_in(&[V5], &wire, error, ReasonCode::ProtocolError);
    }
}

/// conformance: v311:MQTT-3.3.2-2, v5:MQTT-3.3.2-2, v311:MQTT-4.7.1-1, v5:MQTT-4.7.0-1
#[test]
fn publish_topic_with_wildcards_is_malformed() {
    let error = DecodeError::InvalidTopic {
        field: "topic name",
        error: TopicError::WildcardInName,
    };
    // "a/+", "a/#", "#", "+".
    for topic in ["0003 612f2b", "0003 612f23", "0001 23", "0001 2b"] {
        let len = hex(topic).len();
        assert_refused_in(
            &[V31, V311],
            &format!("30 {len:02x} {topic}"),
            error,
            ReasonCode::MalformedPacket,
        );
        assert_refused_in(
            &[V5],
            &format!("30 {:02x} {topic} 00", len + 1),
            error,
            ReasonCode::MalformedPacket,
        );
    }
}

/// 3.1.1 §4.7.3: a Topic Name has at least one character.
/// conformance: v311:MQTT-4.7.3-1
#[test]
fn v311_and_mqtt31_publish_empty_topic_is_malformed() {
    let error = DecodeError::InvalidTopic {
        field: "topic name",
        error: TopicError::Empty,
    };
    for wire in ["30 04 0000 6869", "32 04 0000 0001"] {
        assert_refused_in(&[V31, V311], wire, error, ReasonCode::MalformedPacket);
    }
}

/// 5.0 §3.3.4: "It is a Protocol Error if the Topic Name is zero length and there is no Topic
/// Alias" (here: no properties, then properties without a Topic Alias).
#[test]
fn v5_publish_empty_topic_without_alias_is_a_protocol_error() {
    let error = DecodeError::EmptyTopicWithoutAlias;
    for wire in ["30 03 0000 00", "30 07 0000 02 0101 6869"] {
        assert_refused_in(&[V5], wire, error, ReasonCode::ProtocolError);
    }
}

/// conformance: v5:MQTT-3.3.2-8
#[test]
fn v5_mqtt_3_3_2_8_topic_alias_zero_is_topic_alias_invalid() {
    let error = DecodeError::InvalidPropertyValue(PropertyId::TopicAlias);
    // Also when the topic is empty and the zero alias would be the only way to name it.
    for wire in ["30 07 0001 74 03 230000", "30 06 0000 03 230000"] {
        assert_refused_in(&[V5], wire, error, ReasonCode::TopicAliasInvalid);
    }
    assert_eq!(error.reason_code().as_u8(), 0x94);
}

/// 5.0 §3.3.2.3.4: "It is a Protocol Error to include the Topic Alias value more than once."
#[test]
fn v5_publish_duplicate_topic_alias_is_a_protocol_error() {
    let error = DecodeError::DuplicateProperty(PropertyId::TopicAlias);
    assert_refused_in(
        &[V5],
        "30 0a 0001 74 06 230001 230002",
        error,
        ReasonCode::ProtocolError,
    );
}

/// conformance: v5:MQTT-3.3.2-14
#[test]
fn v5_mqtt_3_3_2_14_response_topic_with_wildcard_is_malformed() {
    let error = DecodeError::InvalidTopic {
        field: "Response Topic",
        error: TopicError::WildcardInName,
    };
    for wire in [
        "30 0a 0001 74 06 08 0003 612f23",
        "30 0a 0001 74 06 08 0003 2b2f62",
    ] {
        assert_refused_in(&[V5], wire, error, ReasonCode::MalformedPacket);
    }
}

/// Asserts that a 5.0 PUBLISH is malformed when its string property `field` is ill-formed
/// UTF-8 (`invalid`, hex) or holds U+0000 (`nul`, hex).
fn assert_string_property_rules(field: &'static str, invalid: &str, nul: &str) {
    let malformed = ReasonCode::MalformedPacket;
    assert_refused_in(
        &[V5],
        invalid,
        DecodeError::InvalidUtf8 { field },
        malformed,
    );
    assert_refused_in(&[V5], nul, DecodeError::NulCharacter { field }, malformed);
}

/// conformance: v5:MQTT-3.3.2-13, v5:MQTT-1.5.4-1, v5:MQTT-1.5.4-2
#[test]
fn v5_mqtt_3_3_2_13_response_topic_must_be_utf8() {
    assert_string_property_rules(
        "Response Topic",
        "30 08 0001 74 04 08 0001 ff",
        "30 08 0001 74 04 08 0001 00",
    );
}

/// conformance: v5:MQTT-3.3.2-19, v5:MQTT-1.5.4-1, v5:MQTT-1.5.4-2
#[test]
fn v5_mqtt_3_3_2_19_content_type_must_be_utf8() {
    assert_string_property_rules(
        "Content Type",
        // An overlong encoding of '/'.
        "30 09 0001 74 05 03 0002 c0af",
        "30 08 0001 74 04 03 0001 00",
    );
}

/// conformance: v311:MQTT-3.3.2-1, v5:MQTT-3.3.2-1, v311:MQTT-1.5.3-1, v5:MQTT-1.5.4-1,
/// v311:MQTT-1.5.3-2, v5:MQTT-1.5.4-2
#[test]
fn publish_topic_must_be_utf8_without_nul() {
    let field = "topic name";
    for (topic, error) in [
        ("0003 61ff62", DecodeError::InvalidUtf8 { field }),
        // U+D800 written as if it were a character.
        ("0003 eda080", DecodeError::InvalidUtf8 { field }),
        ("0003 610062", DecodeError::NulCharacter { field }),
    ] {
        assert_refused_in(
            &[V31, V311],
            &format!("30 05 {topic}"),
            error,
            ReasonCode::MalformedPacket,
        );
        assert_refused_in(
            &[V5],
            &format!("30 06 {topic} 00"),
            error,
            ReasonCode::MalformedPacket,
        );
    }
}

/// 5.0 §3.3.2.3.8: a Subscription Identifier of 0 is a Protocol Error.
#[test]
fn v5_publish_subscription_identifier_zero_is_a_protocol_error() {
    assert_refused_in(
        &[V5],
        "30 06 0001 74 02 0b00",
        DecodeError::InvalidPropertyValue(PropertyId::SubscriptionIdentifier),
        ReasonCode::ProtocolError,
    );
}

/// A User Property name and value are UTF-8 strings too.
/// conformance: v5:MQTT-1.5.7-1
#[test]
fn v5_publish_user_property_must_be_utf8() {
    for (wire, error) in [
        (
            "30 0b 0001 74 07 26 0001 ff 0001 76",
            DecodeError::InvalidUtf8 {
                field: "user property name",
            },
        ),
        (
            "30 0b 0001 74 07 26 0001 6b 0001 00",
            DecodeError::NulCharacter {
                field: "user property value",
            },
        ),
    ] {
        assert_refused_in(&[V5], wire, error, ReasonCode::MalformedPacket);
    }
}

/// 5.0 §2.2.2.2: a property the packet does not list, or an unknown identifier, is malformed.
#[test]
fn v5_publish_properties_not_allowed() {
    let not_allowed = |property| DecodeError::PropertyNotAllowed {
        property,
        packet: "PUBLISH",
    };
    for (wire, error) in [
        (
            "30 09 0001 74 05 11 0000000a",
            not_allowed(PropertyId::SessionExpiryInterval),
        ),
        (
            "30 07 0001 74 03 1f 0000",
            not_allowed(PropertyId::ReasonString),
        ),
        ("30 06 0001 74 02 7f00", DecodeError::UnknownProperty(0x7f)),
    ] {
        assert_refused_in(&[V5], wire, error, ReasonCode::MalformedPacket);
    }
}

/// A field longer than what is left of the packet is malformed, even when the input goes on
/// (here with a PINGREQ after the PUBLISH): fields are bounded by the Remaining Length.
#[test]
fn publish_fields_cannot_run_past_the_remaining_length() {
    for (versions, wire, field) in [
        (&[V31, V311, V5][..], "30 03 0005 61 c000", "topic name"),
        (
            &[V31, V311, V5],
            "32 04 0001 74 00 c000",
            "packet identifier",
        ),
        // The Property Length runs past the packet.
        (&[V5], "30 05 0001 74 05 01 c000", "properties"),
        // A Message Expiry Interval cut short by its Property Length, though payload bytes
        // follow.
        (
            &[V5],
            "30 08 0001 74 02 0200 0000",
            "Message Expiry Interval",
        ),
        // No room for the Property Length at all.
        (&[V5], "30 03 0001 74", "property length"),
    ] {
        assert_refused_in(
            versions,
            wire,
            DecodeError::UnexpectedEnd { field },
            ReasonCode::MalformedPacket,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// PUBLISH: encoder refusals
// ---------------------------------------------------------------------------------------------

#[test]
fn publish_properties_cannot_be_encoded_before_v5() {
    let mut publish = Publish::<&[u8]>::new(TopicName::new("t").unwrap(), &b"x"[..]);
    publish.properties.message_expiry_interval = Some(5);
    let packet = Packet::Publish(publish);
    for version in [V31, V311] {
        let error = EncodeError::NotInVersion {
            what: "PUBLISH properties",
            version,
        };
        assert_encode_error(&packet, version, error);
    }
    assert_eq!(encode(&packet, V5), hex("30 0a 0001 74 05 02 00000005 78"));
}

#[test]
fn publish_without_topic_or_alias_cannot_be_encoded() {
    let publish = Publish::<&[u8]> {
        topic: None,
        ..Publish::new(TopicName::new("t").unwrap(), &b"x"[..])
    };
    let packet = Packet::Publish(publish.clone());
    for &version in ProtocolVersion::ALL {
        assert_encode_error(&packet, version, EncodeError::MissingTopic);
    }
    // With an alias it is fine in 5.0, and still has no topic to send in 3.1 and 3.1.1.
    let mut aliased = publish;
    aliased.properties.topic_alias = NonZeroU16::new(3);
    let packet = Packet::Publish(aliased);
    assert_eq!(encode(&packet, V5), hex("30 07 0000 03 230003 78"));
    for version in [V31, V311] {
        assert_encode_error(&packet, version, EncodeError::MissingTopic);
    }
}

// ---------------------------------------------------------------------------------------------
// PUBACK, PUBREC, PUBREL, PUBCOMP
// ---------------------------------------------------------------------------------------------

/// The reason code of an acknowledgement, which also says which of the four it is.
#[allow(
    clippy::enum_variant_names,
    reason = "the variants are named after the packets"
)]
#[derive(Clone, Copy)]
enum AckCode {
    PubAck(PubAckReasonCode),
    PubRec(PubRecReasonCode),
    PubRel(PubRelReasonCode),
    PubComp(PubCompReasonCode),
}

const PUBACK: AckCode = AckCode::PubAck(PubAckReasonCode::Success);
const PUBREC: AckCode = AckCode::PubRec(PubRecReasonCode::Success);
const PUBREL: AckCode = AckCode::PubRel(PubRelReasonCode::Success);
const PUBCOMP: AckCode = AckCode::PubComp(PubCompReasonCode::Success);

/// The acknowledgement `code` names, with Packet Identifier `id` and no properties.
fn ack<B: Buffer>(code: AckCode, id: u16) -> Packet<B> {
    ack_with(code, id, AckProperties::new())
}

/// The acknowledgement `code` names, with Packet Identifier `id` and `properties`.
fn ack_with<B: Buffer>(code: AckCode, id: u16, properties: AckProperties<B>) -> Packet<B> {
    let packet_id = pid(id);
    match code {
        AckCode::PubAck(reason_code) => Packet::PubAck(PubAck {
            packet_id,
            reason_code,
            properties,
        }),
        AckCode::PubRec(reason_code) => Packet::PubRec(PubRec {
            packet_id,
            reason_code,
            properties,
        }),
        AckCode::PubRel(reason_code) => Packet::PubRel(PubRel {
            packet_id,
            reason_code,
            properties,
        }),
        AckCode::PubComp(reason_code) => Packet::PubComp(PubComp {
            packet_id,
            reason_code,
            properties,
        }),
    }
}

/// Fixed header, then the two-byte Packet Identifier; PUBREL's flags are `0010`.
#[test]
fn mqtt31_and_v311_acks() {
    for version in [V31, V311] {
        for (wire, code, id) in [
            ("40 02 000a", PUBACK, 10),
            ("50 02 000a", PUBREC, 10),
            ("62 02 000a", PUBREL, 10),
            ("70 02 000a", PUBCOMP, 10),
            ("40 02 ffff", PUBACK, 65_535),
        ] {
            assert_vector(version, &hex(wire), ack(code, id), ack(code, id));
        }
    }
}

/// 5.0 §3.4.2.1: with Reason Code 0x00 and no properties the ack may stop after the Packet
/// Identifier (Remaining Length 2); the encoder writes that shortest form.
#[test]
fn v5_acks_short_form_remaining_length_2() {
    for (wire, code) in [
        ("40 02 000a", PUBACK),
        ("50 02 000a", PUBREC),
        ("62 02 000a", PUBREL),
        ("70 02 000a", PUBCOMP),
    ] {
        assert_vector(V5, &hex(wire), ack(code, 10), ack(code, 10));
    }
}

/// 5.0 §3.4.2.2: with a reason code and no properties the Property Length may be left out
/// (Remaining Length 3).
#[test]
fn v5_acks_short_form_remaining_length_3() {
    for (wire, code) in [
        (
            "40 03 000a 10",
            AckCode::PubAck(PubAckReasonCode::NoMatchingSubscribers),
        ),
        (
            "40 03 000a 99",
            AckCode::PubAck(PubAckReasonCode::PayloadFormatInvalid),
        ),
        (
            "50 03 000a 80",
            AckCode::PubRec(PubRecReasonCode::UnspecifiedError),
        ),
        (
            "62 03 000a 92",
            AckCode::PubRel(PubRelReasonCode::PacketIdentifierNotFound),
        ),
        (
            "70 03 000a 92",
            AckCode::PubComp(PubCompReasonCode::PacketIdentifierNotFound),
        ),
    ] {
        assert_vector(V5, &hex(wire), ack(code, 10), ack(code, 10));
    }
}

/// The long form: Packet Identifier, Reason Code, Property Length, Reason String and User
/// Property (§3.4.2.2.2, §3.4.2.2.3); a success code is written when properties follow.
#[test]
fn v5_acks_long_form() {
    fn reason_only<B: Make>() -> AckProperties<B> {
        AckProperties {
            reason_string: Some(B::string("no")),
            ..AckProperties::new()
        }
    }
    fn puback<B: Make>() -> Packet<B> {
        let properties = AckProperties {
            reason_string: Some(B::string("no")),
            user_properties: vec![B::user("a", "b")].into(),
        };
        let code = AckCode::PubAck(PubAckReasonCode::NotAuthorized);
        ack_with(code, 10, properties)
    }
    fn pubrec<B: Make>() -> Packet<B> {
        ack_with(PUBREC, 10, reason_only())
    }
    fn pubrel<B: Make>() -> Packet<B> {
        let code = AckCode::PubRel(PubRelReasonCode::PacketIdentifierNotFound);
        ack_with(code, 10, reason_only())
    }
    fn pubcomp<B: Make>() -> Packet<B> {
        let properties = AckProperties {
            user_properties: vec![B::user("a", "b")].into(),
            ..AckProperties::new()
        };
        ack_with(PUBCOMP, 10, properties)
    }
    let wire = hex("40 10 000a 87 0c 1f0002 6e6f 26 0001 61 0001 62");
    assert_vector(V5, &wire, puback(), puback());
    let wire = hex("50 09 000a 00 05 1f0002 6e6f");
    assert_vector(V5, &wire, pubrec(), pubrec());
    let wire = hex("62 09 000a 92 05 1f0002 6e6f");
    assert_vector(V5, &wire, pubrel(), pubrel());
    let wire = hex("70 0b 000a 00 07 26 0001 61 0001 62");
    assert_vector(V5, &wire, pubcomp(), pubcomp());
}

/// A reason code followed by an empty property block (Remaining Length 4) is valid; the
/// encoder writes the shorter equivalent.
#[test]
fn v5_acks_with_empty_property_block_decode() {
    for (wire, code, canonical) in [
        ("40 04 000a 00 00", PUBACK, "40 02 000a"),
        ("62 04 000a 00 00", PUBREL, "62 02 000a"),
        (
            "50 04 000a 10 00",
            AckCode::PubRec(PubRecReasonCode::NoMatchingSubscribers),
            "50 03 000a 10",
        ),
    ] {
        let (borrowed, owned) = (ack(code, 10), ack(code, 10));
        assert_decodes_to(V5, &hex(wire), borrowed, owned, &hex(canonical));
    }
}

/// Every byte 0x00-0xFF as an ack reason code: exactly the codes of the spec's tables decode
/// (PUBACK §3.4.2.1 and PUBREC §3.5.2.1: 0x00 0x10 0x80 0x83 0x87 0x90 0x91 0x97 0x99; PUBREL
/// §3.6.2.1 and PUBCOMP §3.7.2.1: 0x00 0x92), every other is malformed.
/// conformance: v5:MQTT-3.4.2-1, v5:MQTT-3.5.2-1, v5:MQTT-3.6.2-1, v5:MQTT-3.7.2-1
#[test]
fn v5_ack_reason_codes_are_exactly_the_spec_tables() {
    const PUBACK_CODES: &[u8] = &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
    const PUBREL_CODES: &[u8] = &[0x00, 0x92];
    let kinds = [
        (0x40, PacketType::PubAck, PUBACK_CODES),
        (0x50, PacketType::PubRec, PUBACK_CODES),
        (0x62, PacketType::PubRel, PUBREL_CODES),
        (0x70, PacketType::PubComp, PUBREL_CODES),
    ];
    for (first, packet, allowed) in kinds {
        for code in 0..=255u8 {
            let wire = [first, 0x03, 0x00, 0x0a, code];
            if allowed.contains(&code) {
                let decoded = decode_one(V5, &wire).unwrap();
                let read = match &decoded {
                    Packet::PubAck(ack) => ack.reason_code.as_u8(),
                    Packet::PubRec(ack) => ack.reason_code.as_u8(),
                    Packet::PubRel(ack) => ack.reason_code.as_u8(),
                    Packet::PubComp(ack) => ack.reason_code.as_u8(),
                    other => panic!("{other:?}"),
                };
                assert_eq!(read, code);
                // Success without properties is written in the two-byte short form.
                let canonical = if code == 0 {
                    vec![first, 0x02, 0x00, 0x0a]
                } else {
                    wire.to_vec()
                };
                assert_eq!(encode(&decoded, V5), canonical);
            } else {
                assert_eq!(
                    decode_error(V5, &wire),
                    DecodeError::InvalidReasonCode { packet, code },
                    "{packet} {code:#04x}"
                );
            }
        }
        assert_eq!(
            DecodeError::InvalidReasonCode { packet, code: 0x01 }.reason_code(),
            ReasonCode::MalformedPacket
        );
    }
}

/// conformance: v311:MQTT-2.3.1-1
#[test]
fn v311_mqtt_2_3_1_1_ack_packet_id_zero() {
    for (first, packet) in [
        ("40", PacketType::PubAck),
        ("50", PacketType::PubRec),
        ("62", PacketType::PubRel),
        ("70", PacketType::PubComp),
    ] {
        let error = DecodeError::ZeroPacketId { packet };
        assert_refused_in(
            &[V31, V311, V5],
            &format!("{first} 02 0000"),
            error,
            ReasonCode::ProtocolError,
        );
        assert_refused_in(
            &[V5],
            &format!("{first} 03 0000 00"),
            error,
            ReasonCode::ProtocolError,
        );
    }
}

/// 3.1 and 3.1.1 acks are exactly two bytes long: anything after the identifier is trailing.
#[test]
fn mqtt31_and_v311_acks_have_no_reason_code() {
    for (first, packet) in [
        ("40", PacketType::PubAck),
        ("50", PacketType::PubRec),
        ("62", PacketType::PubRel),
        ("70", PacketType::PubComp),
    ] {
        assert_refused_in(
            &[V31, V311],
            &format!("{first} 03 000a 00"),
            DecodeError::TrailingBytes { packet, count: 1 },
            ReasonCode::MalformedPacket,
        );
        assert_refused_in(
            &[V31, V311],
            &format!("{first} 04 000a 1000"),
            DecodeError::TrailingBytes { packet, count: 2 },
            ReasonCode::MalformedPacket,
        );
    }
}

/// Acks allow only Reason String and User Property (§3.4.2.2 and the like).
#[test]
fn v5_ack_properties_not_allowed() {
    for (first, packet) in [
        ("40", "PUBACK"),
        ("50", "PUBREC"),
        ("62", "PUBREL"),
        ("70", "PUBCOMP"),
    ] {
        assert_refused_in(
            &[V5],
            &format!("{first} 08 000a 00 04 03 0001 78"),
            DecodeError::PropertyNotAllowed {
                property: PropertyId::ContentType,
                packet,
            },
            ReasonCode::MalformedPacket,
        );
    }
    assert_refused_in(
        &[V5],
        "40 0a 000a 00 06 1f0000 1f0000",
        DecodeError::DuplicateProperty(PropertyId::ReasonString),
        ReasonCode::ProtocolError,
    );
}

/// The Property Length and each property are bounded by the Remaining Length.
#[test]
fn v5_ack_fields_cannot_run_past_the_remaining_length() {
    for (versions, wire, field) in [
        (&[V5][..], "40 05 000a 00 05 1f", "properties"),
        (&[V5], "40 01 00", "packet identifier"),
        (&[V31, V311], "62 00", "packet identifier"),
    ] {
        assert_refused_in(
            versions,
            wire,
            DecodeError::UnexpectedEnd { field },
            ReasonCode::MalformedPacket,
        );
    }
}

/// PUBREL must carry flags `0010`; PUBACK, PUBREC and PUBCOMP `0000`.
/// conformance: v311:MQTT-3.6.1-1, v5:MQTT-3.6.1-1, v311:MQTT-2.2.2-2, v5:MQTT-2.1.3-1
#[test]
fn ack_fixed_header_flags() {
    let all = [V31, V311, V5];
    for (versions, wire, packet, flags) in [
        (&all[..], "60 02 000a", PacketType::PubRel, 0),
        (&all, "63 02 000a", PacketType::PubRel, 3),
        (&all, "42 02 000a", PacketType::PubAck, 2),
        (&all, "51 02 000a", PacketType::PubRec, 1),
        (&all, "78 02 000a", PacketType::PubComp, 8),
        // MQTT 3.1 lets a re-sent PUBREL carry DUP (flags 1010); later versions do not.
        (&[V311, V5], "6a 02 000a", PacketType::PubRel, 0b1010),
    ] {
        assert_refused_in(
            versions,
            wire,
            DecodeError::InvalidFixedHeaderFlags { packet, flags },
            ReasonCode::MalformedPacket,
        );
    }
}

/// MQTT 3.1 §3.6: a PUBREL sent again after a lost PUBCOMP has DUP set; it decodes to the same
/// PUBREL (the encoder always sends the first-time form).
#[test]
fn mqtt31_pubrel_with_dup_decodes() {
    let (wire, canonical) = (hex("6a 02 000a"), hex("62 02 000a"));
    assert_decodes_to(V31, &wire, ack(PUBREL, 10), ack(PUBREL, 10), &canonical);
}

#[test]
fn ack_reason_codes_and_properties_cannot_be_encoded_before_v5() {
    let reason_string = || AckProperties::<&[u8]> {
        reason_string: Some(MqttString::new("x").unwrap()),
        ..AckProperties::new()
    };
    let packets: [(Packet<&[u8]>, &str); 6] = [
        (
            ack(AckCode::PubAck(PubAckReasonCode::QuotaExceeded), 1),
            "PUBACK reason code",
        ),
        (
            ack(AckCode::PubRec(PubRecReasonCode::UnspecifiedError), 1),
            "PUBREC reason code",
        ),
        (
            ack(
                AckCode::PubRel(PubRelReasonCode::PacketIdentifierNotFound),
                1,
            ),
            "PUBREL reason code",
        ),
        (
            ack(
                AckCode::PubComp(PubCompReasonCode::PacketIdentifierNotFound),
                1,
            ),
            "PUBCOMP reason code",
        ),
        (ack_with(PUBACK, 1, reason_string()), "PUBACK properties"),
        (ack_with(PUBCOMP, 1, reason_string()), "PUBCOMP properties"),
    ];
    for version in [V31, V311] {
        for (packet, what) in &packets {
            let error = EncodeError::NotInVersion { what, version };
            assert_encode_error(packet, version, error);
        }
    }
}
