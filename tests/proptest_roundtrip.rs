//! Property tests: every packet type round-trips through the encoder and both decoders, in every
//! version it exists in, and what a version cannot carry is refused rather than dropped.
//!
//! For each generated packet `p` and version `v`:
//!
//! - `p.encoded_len(v)` equals the bytes `p.encode(v, ..)` writes, and a buffer one byte short
//!   is refused without being written to;
//! - `Packet::decode_bytes` (owned) gives back `p` exactly, taking every byte;
//! - `Packet::decode` (borrowed) gives a packet whose fields equal `p`'s (compared through an
//!   owned copy built field by field) and which re-encodes to the same bytes.
#![cfg(feature = "v5")]

mod strategies;

use bytes::Bytes;
use mqtt_sansio::{
    Connect, Decoded, EncodeError, Limits, MAX_PACKET_SIZE, Packet, ProtocolVersion, PubAck,
    PubAckReasonCode,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use strategies::{encode_to_vec, for_versions, to_owned};

const ALL: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5_ONLY: [ProtocolVersion; 1] = [ProtocolVersion::V5];

/// Large enough for every generated packet (some carry payloads of 2 MiB).
fn limits() -> Limits {
    Limits::new(MAX_PACKET_SIZE)
}

/// Checks the round trip of `packet` in `version` along every path; returns the encoding.
fn check_round_trip(
    version: ProtocolVersion,
    packet: &Packet<Bytes>,
) -> Result<Vec<u8>, TestCaseError> {
    let wire = encode_to_vec(packet, version)
        .map_err(|error| TestCaseError::fail(format!("encode in {version}: {error}")))?;
    let len = wire.len();

    // The Remaining Length uses as few bytes as its value needs (5.0 [MQTT-1.5.5-1]).
    let header_len = strategies::fixed_header_len(&wire);
    let remaining_len = len - header_len;
    let minimal = match remaining_len {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    };
    prop_assert_eq!(header_len, 1 + minimal, "remaining length not minimal");

    // A buffer one byte short is refused, and nothing is written to it.
    let mut short = vec![0xEE_u8; len - 1];
    let mut window = &mut short[..];
    prop_assert_eq!(
        packet.encode(version, &mut window),
        Err(EncodeError::BufferTooSmall {
            needed: len,
            available: len - 1,
        })
    );
    prop_assert!(
        short.iter().all(|&byte| byte == 0xEE),
        "a refused encode wrote bytes"
    );

    // Owned path: the very same packet.
    let bytes = Bytes::from(wire.clone());
    let owned = Packet::decode_bytes(version, &bytes, &limits());
    prop_assert_eq!(
        &owned,
        &Ok(Decoded::Complete {
            packet: packet.clone(),
            consumed: len,
        })
    );
    // A decoded packet (whose lists are views of the wire bytes) re-encodes identically.
    if let Ok(Decoded::Complete {
        packet: decoded, ..
    }) = &owned
    {
        prop_assert_eq!(encode_to_vec(decoded, version), Ok(wire.clone()));
    }

    // Borrowed path: equal fields, same bytes again.
    match Packet::decode(version, &wire, &limits()) {
        Ok(Decoded::Complete {
            packet: borrowed,
            consumed,
        }) => {
            prop_assert_eq!(consumed, len);
            prop_assert_eq!(&to_owned(&borrowed), packet);
            prop_assert_eq!(borrowed.packet_type(), packet.packet_type());
            prop_assert_eq!(encode_to_vec(&borrowed, version), Ok(wire.clone()));
        }
        other => prop_assert!(false, "borrowed decode gave {:?}", other),
    }

    // A CONNECT also decodes as the first packet of a connection, whose version is unknown.
    if let Packet::Connect(connect) = packet {
        prop_assert_eq!(
            Connect::decode_bytes(&bytes, &limits()),
            Ok(Decoded::Complete {
                packet: (**connect).clone(),
                consumed: len,
            })
        );
        let borrowed = Connect::decode(&wire, &limits());
        let borrowed = borrowed.map(|decoded| decoded.map(|c| to_owned(&Packet::from(c))));
        prop_assert_eq!(
            borrowed,
            Ok(Decoded::Complete {
                packet: packet.clone(),
                consumed: len,
            })
        );
    }
    Ok(wire)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// CONNECT round-trips in 3.1 (Client Identifier of 1 to 23 characters), 3.1.1 (an empty
    /// one only with Clean Session) and 5.0 (properties, Will Properties, a password without a
    /// user name); the encoded Remaining Length is minimal.
    /// conformance: v5:MQTT-1.5.5-1
    #[test]
    fn connect_round_trips((version, packet) in for_versions(ALL, strategies::connect)) {
        check_round_trip(version, &packet.into())?;
    }

    /// CONNACK round-trips: the six return codes and no Session Present in 3.1, Session
    /// Present with a success in 3.1.1 and 5.0, every reason code and property in 5.0.
    #[test]
    fn connack_round_trips((version, packet) in for_versions(ALL, strategies::connack)) {
        check_round_trip(version, &packet.into())?;
    }

    /// PUBLISH round-trips with every QoS, DUP and RETAIN, multi-byte and maximum-length
    /// topics, payloads whose Remaining Length takes one to four bytes, and in 5.0 every
    /// property, a Topic Alias in place of the topic, and several Subscription Identifiers at
    /// the edges of the Variable Byte Integer sizes.
    /// conformance: v5:MQTT-1.5.5-1
    #[test]
    fn publish_round_trips((version, packet) in for_versions(ALL, strategies::publish)) {
        check_round_trip(version, &packet.into())?;
    }

    /// PUBACK round-trips (reason codes and properties in 5.0, in their shortest form).
    #[test]
    fn puback_round_trips((version, packet) in for_versions(ALL, strategies::puback)) {
        check_round_trip(version, &packet.into())?;
    }

    /// PUBREC round-trips.
    #[test]
    fn pubrec_round_trips((version, packet) in for_versions(ALL, strategies::pubrec)) {
        check_round_trip(version, &packet.into())?;
    }

    /// PUBREL round-trips.
    #[test]
    fn pubrel_round_trips((version, packet) in for_versions(ALL, strategies::pubrel)) {
        check_round_trip(version, &packet.into())?;
    }

    /// PUBCOMP round-trips.
    #[test]
    fn pubcomp_round_trips((version, packet) in for_versions(ALL, strategies::pubcomp)) {
        check_round_trip(version, &packet.into())?;
    }

    /// SUBSCRIBE round-trips: one to seven filters with wildcards, shared subscriptions (in 5.0
    /// without No Local) and, in 5.0, every subscription option.
    #[test]
    fn subscribe_round_trips((version, packet) in for_versions(ALL, strategies::subscribe)) {
        check_round_trip(version, &packet.into())?;
    }

    /// SUBACK round-trips with the codes each version has: 0 to 2 in 3.1, also 0x80 in 3.1.1,
    /// every Subscribe Reason Code in 5.0.
    #[test]
    fn suback_round_trips((version, packet) in for_versions(ALL, strategies::suback)) {
        check_round_trip(version, &packet.into())?;
    }

    /// UNSUBSCRIBE round-trips.
    #[test]
    fn unsubscribe_round_trips(
        (version, packet) in for_versions(ALL, strategies::unsubscribe),
    ) {
        check_round_trip(version, &packet.into())?;
    }

    /// UNSUBACK round-trips: the Packet Identifier alone before 5.0, reason codes and
    /// properties in 5.0.
    #[test]
    fn unsuback_round_trips((version, packet) in for_versions(ALL, strategies::unsuback)) {
        check_round_trip(version, &packet.into())?;
    }

    /// PINGREQ and PINGRESP round-trip in every version.
    #[test]
    fn pings_round_trip(version in strategies::version(), request in any::<bool>()) {
        let packet = if request {
            Packet::PingReq(mqtt_sansio::PingReq)
        } else {
            Packet::PingResp(mqtt_sansio::PingResp)
        };
        let wire = check_round_trip(version, &packet)?;
        prop_assert_eq!(wire.len(), 2);
    }

    /// DISCONNECT round-trips: empty before 5.0, with a reason code and properties in 5.0.
    #[test]
    fn disconnect_round_trips((version, packet) in for_versions(ALL, strategies::disconnect)) {
        check_round_trip(version, &packet.into())?;
    }

    /// AUTH round-trips in 5.0, both the empty form and one with the Authentication Method.
    #[test]
    fn auth_round_trips((version, packet) in for_versions(&V5_ONLY, strategies::auth)) {
        check_round_trip(version, &packet.into())?;
    }

    /// Strings keep every U+FEFF they hold, wherever it is: a receiver never strips it.
    /// conformance: v311:MQTT-1.5.3-3, v5:MQTT-1.5.4-3
    #[test]
    fn byte_order_marks_are_kept(
        version in strategies::version(),
        parts in proptest::collection::vec(strategies::text(0..4, &[]), 1..5),
    ) {
        let text = parts.join("\u{FEFF}");
        let client_id = if version == ProtocolVersion::V3_1 {
            // 1 to 23 characters.
            text.chars().take(22).collect::<String>() + "\u{FEFF}"
        } else {
            text.clone()
        };
        let mut connect = Connect::new(version, strategies::owned_string(&client_id));
        connect.username = Some(strategies::owned_string(&text));
        let wire = check_round_trip(version, &connect.clone().into())?;
        let bom_count = |text: &str| text.matches('\u{FEFF}').count();
        let on_wire = wire.windows(3).filter(|window| window == b"\xEF\xBB\xBF").count();
        prop_assert_eq!(on_wire, bom_count(&client_id) + bom_count(&text));
        let Ok(Decoded::Complete { packet, .. }) = Connect::decode(&wire, &limits()) else {
            return Err(TestCaseError::fail("CONNECT did not decode"));
        };
        prop_assert_eq!(packet.client_id.as_str(), client_id.as_str());
        prop_assert_eq!(packet.username.as_deref(), Some(text.as_str()));
    }

    /// Encoding a packet in a version other than the one it was built for either fails or
    /// writes bytes that decode back to the very same packet: nothing the target version cannot
    /// carry (properties, reason codes, Session Present in 3.1, 0x80 in a 3.1 SUBACK, 5.0
    /// subscription options, AUTH) is silently dropped. A CONNECT is retargeted by setting its
    /// Protocol Version.
    #[test]
    fn encoding_in_another_version_refuses_or_round_trips(
        (from, packet) in for_versions(ALL, strategies::packet),
        to in strategies::version(),
    ) {
        let mut packet = packet;
        if let Packet::Connect(connect) = &mut packet {
            connect.protocol_version = to;
        }
        match encode_to_vec(&packet, to) {
            Ok(_) => {
                check_round_trip(to, &packet)?;
            }
            Err(error) => {
                prop_assert!(from != to, "a packet built for {} refused: {}", from, error);
            }
        }
    }

    /// A 5.0 packet with properties cannot be encoded in 3.1 or 3.1.1: the encoder refuses it
    /// (naming the version) instead of leaving the properties out.
    #[test]
    fn properties_are_refused_before_v5(
        packet in strategies::packet(ProtocolVersion::V5)
            .prop_filter("has properties", |packet| !properties_empty(packet)),
        to in strategies::legacy_version(),
    ) {
        let mut packet = packet;
        if let Packet::Connect(connect) = &mut packet {
            connect.protocol_version = to;
        }
        let error = encode_to_vec(&packet, to).expect_err("properties encoded before 5.0");
        let refused = match (&packet, error) {
            (_, EncodeError::NotInVersion { version, .. }) => version == to,
            // Other rules of 3.1 and 3.1.1 may be broken first: a CONNECT's Client Identifier
            // or lone password, a PUBLISH that names its topic by a Topic Alias alone.
            (
                Packet::Connect(_),
                EncodeError::InvalidClientId | EncodeError::PasswordWithoutUserName,
            )
            | (Packet::Publish(_), EncodeError::MissingTopic) => true,
            _ => false,
        };
        prop_assert!(refused, "{:?}", error);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The properties of a 5.0 PUBLISH or CONNACK may come in any order: shuffled on the wire
    /// (Subscription Identifiers and the forwarded message properties interleaved with the
    /// others, each keeping its own relative order), they decode along both paths to the same
    /// packet, which encodes back to the canonical bytes.
    #[test]
    fn properties_decode_in_any_order(
        packet in prop_oneof![
            strategies::publish(ProtocolVersion::V5).prop_map(Packet::Publish),
            strategies::connack(ProtocolVersion::V5).prop_map(Packet::from),
        ],
        keys in proptest::collection::vec(any::<u32>(), 128),
    ) {
        let version = ProtocolVersion::V5;
        let wire = encode_to_vec(&packet, version).expect("a valid packet encodes");
        let block = property_block(&packet, &wire);
        let shuffled_block = shuffle_properties(&wire[block.clone()], &keys);
        let mut shuffled = wire.clone();
        shuffled[block].copy_from_slice(&shuffled_block);

        let bytes = Bytes::from(shuffled.clone());
        let owned = Packet::decode_bytes(version, &bytes, &limits());
        prop_assert_eq!(
            &owned,
            &Ok(Decoded::Complete { packet: packet.clone(), consumed: wire.len() })
        );
        if let Ok(Decoded::Complete { packet: decoded, .. }) = &owned {
            prop_assert_eq!(encode_to_vec(decoded, version), Ok(wire.clone()));
        }
        let Ok(Decoded::Complete { packet: borrowed, .. }) =
            Packet::decode(version, &shuffled, &limits())
        else {
            return Err(TestCaseError::fail("borrowed path refused the shuffled packet"));
        };
        prop_assert_eq!(&to_owned(&borrowed), &packet);
        prop_assert_eq!(encode_to_vec(&borrowed, version), Ok(wire.clone()));
    }
}

/// Where the properties of a 5.0 PUBLISH or CONNACK lie in its encoding, Property Length
/// excluded.
fn property_block(packet: &Packet<Bytes>, wire: &[u8]) -> core::ops::Range<usize> {
    let mut at = strategies::fixed_header_len(wire);
    match packet {
        Packet::Publish(publish) => {
            at += 2 + usize::from(u16::from_be_bytes([wire[at], wire[at + 1]]));
            if publish.packet_id().is_some() {
                at += 2;
            }
        }
        Packet::ConnAck(_) => at += 2,
        _ => unreachable!("only PUBLISH and CONNACK"),
    }
    let (len, len_len) = read_var_int(&wire[at..]);
    at + len_len..at + len_len + len
}

/// A Variable Byte Integer and its length.
fn read_var_int(bytes: &[u8]) -> (usize, usize) {
    let mut value = 0;
    for (at, &byte) in bytes.iter().enumerate().take(4) {
        value |= usize::from(byte & 0x7F) << (7 * at);
        if byte & 0x80 == 0 {
            return (value, at + 1);
        }
    }
    panic!("bad variable byte integer");
}

/// Splits a property block into properties, orders them by `keys`, then puts the occurrences
/// of each identifier back in their original relative order (the order of User Properties is
/// significant).
fn shuffle_properties(block: &[u8], keys: &[u32]) -> Vec<u8> {
    let prefixed = |at: usize| at + 2 + usize::from(u16::from_be_bytes([block[at], block[at + 1]]));
    let mut properties: Vec<&[u8]> = Vec::new();
    let mut at = 0;
    while at < block.len() {
        let start = at;
        let id = block[at];
        at += 1;
        at = match id {
            // Byte.
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => at + 1,
            // Two Byte Integer.
            0x13 | 0x21 | 0x22 | 0x23 => at + 2,
            // Four Byte Integer.
            0x02 | 0x11 | 0x18 | 0x27 => at + 4,
            // Variable Byte Integer.
            0x0B => at + read_var_int(&block[at..]).1,
            // UTF-8 Encoded String or Binary Data.
            0x03 | 0x08 | 0x09 | 0x12 | 0x15 | 0x16 | 0x1A | 0x1C | 0x1F => prefixed(at),
            // UTF-8 String Pair.
            0x26 => prefixed(prefixed(at)),
            _ => panic!("unexpected property {id:#04x}"),
        };
        properties.push(&block[start..at]);
    }
    let mut order: Vec<usize> = (0..properties.len()).collect();
    order.sort_by_key(|&index| keys[index % keys.len()]);
    // The properties a server forwards (Payload Format Indicator, Content Type, Response
    // Topic, Correlation Data, User Property) keep their order among themselves, as a message's
    // do: they form one class, and every other identifier a class of its own.
    let class = |id: u8| match id {
        0x01 | 0x03 | 0x08 | 0x09 | 0x26 => 0x26,
        other => usize::from(other),
    };
    // Slot by slot, the next unused occurrence of the class that landed there.
    let mut next_of_class: Vec<Vec<&[u8]>> = vec![Vec::new(); 256];
    for property in properties.iter().rev() {
        next_of_class[class(property[0])].push(property);
    }
    let mut shuffled = Vec::with_capacity(block.len());
    for index in order {
        let slot = class(properties[index][0]);
        shuffled.extend_from_slice(next_of_class[slot].pop().expect("one per slot"));
    }
    assert_eq!(shuffled.len(), block.len());
    shuffled
}

/// Whether every property set of `packet` (Will Properties included) is empty.
fn properties_empty(packet: &Packet<Bytes>) -> bool {
    match packet {
        Packet::Connect(p) => {
            p.properties.is_empty()
                && p.will
                    .as_ref()
                    .is_none_or(|will| will.properties.is_empty())
        }
        Packet::ConnAck(p) => p.properties.is_empty(),
        Packet::Publish(p) => p.properties.is_empty(),
        Packet::PubAck(p) => p.properties.is_empty(),
        Packet::PubRec(p) => p.properties.is_empty(),
        Packet::PubRel(p) => p.properties.is_empty(),
        Packet::PubComp(p) => p.properties.is_empty(),
        Packet::Subscribe(p) => p.properties.is_empty(),
        Packet::SubAck(p) => p.properties.is_empty(),
        Packet::Unsubscribe(p) => p.properties.is_empty(),
        Packet::UnsubAck(p) => p.properties.is_empty(),
        Packet::PingReq(_) | Packet::PingResp(_) => true,
        Packet::Disconnect(p) => p.properties.is_empty(),
        Packet::Auth(p) => p.properties.is_empty(),
    }
}

/// A 5.0 reason code in a 3.1.1 acknowledgement is refused, not dropped.
#[test]
fn puback_reason_code_is_refused_in_v311() {
    let mut ack = PubAck::<Bytes>::new(mqtt_sansio::PacketId::new(1).unwrap());
    ack.reason_code = PubAckReasonCode::NoMatchingSubscribers;
    assert_eq!(
        Packet::from(ack).encode(ProtocolVersion::V3_1_1, &mut Vec::new()),
        Err(EncodeError::NotInVersion {
            what: "PUBACK reason code",
            version: ProtocolVersion::V3_1_1,
        })
    );
}
