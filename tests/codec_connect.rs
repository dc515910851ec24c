//! CONNECT and CONNACK byte vectors in MQTT 3.1 (`MQIsdp`, level 3), 3.1.1 (level 4) and 5.0
//! (level 5), written by hand from the layouts of the specs.
//!
//! Every positive vector is decoded by both paths (borrowed `&[u8]` and shared `Bytes`) to the
//! exact expected struct, and the struct is encoded back to exactly the same bytes. Every
//! negative vector asserts the exact `DecodeError` and the reason code it maps to; every
//! encoder refusal asserts the exact `EncodeError`.
//!
//! CONNECT and CONNACK properties are in `codec_properties.rs`.
#![cfg(feature = "v5")]

mod common;

use bytes::Bytes;
use common::{
    LIMITS, Make, V5, V31, V311, assert_encode_error, assert_refused,
    assert_short_slice_is_refused, assert_vector, decode_error, hex,
};
use mqtt_sansio::{
    BinaryData, Buffer, ConnAck, ConnAckProperties, Connect, ConnectProperties, ConnectReasonCode,
    ConnectReturnCode, DecodeError, Decoded, EncodeError, MqttString, Packet, PacketType,
    ProtocolVersion, QoS, ReasonCode, TopicError, TopicName, UserProperty, Will, WillProperties,
};

/// [`assert_vector`] for a CONNECT, plus the first-packet decoders `Connect::decode` and
/// `Connect::decode_bytes`, which learn the version from the packet itself.
fn assert_connect<'w>(wire: &'w [u8], borrowed: Connect<&'w [u8]>, owned: Connect<Bytes>) {
    let version = borrowed.protocol_version;
    assert_eq!(owned.protocol_version, version);
    match Connect::decode(wire, &LIMITS) {
        Ok(Decoded::Complete { packet, consumed }) => {
            assert_eq!(packet, borrowed, "Connect::decode of {wire:02x?}");
            assert_eq!(consumed, wire.len());
        }
        other => panic!("Connect::decode of {wire:02x?}: {other:?}"),
    }
    match Connect::decode_bytes(&Bytes::copy_from_slice(wire), &LIMITS) {
        Ok(Decoded::Complete { packet, consumed }) => {
            assert_eq!(packet, owned, "Connect::decode_bytes of {wire:02x?}");
            assert_eq!(consumed, wire.len());
        }
        other => panic!("Connect::decode_bytes of {wire:02x?}: {other:?}"),
    }
    assert_vector(version, wire, borrowed.into(), owned.into());
}

/// The error every CONNECT decoder gives for `wire`: the first-packet decoders and
/// [`decode_error`] in each version (a CONNECT is read in the version it names).
fn connect_error(wire: &[u8]) -> DecodeError {
    let Err(error) = Connect::decode(wire, &LIMITS) else {
        panic!("Connect::decode accepts {wire:02x?}");
    };
    assert_eq!(
        Connect::decode_bytes(&Bytes::copy_from_slice(wire), &LIMITS),
        Err(error),
        "Connect::decode_bytes of {wire:02x?}"
    );
    for &version in ProtocolVersion::ALL {
        assert_eq!(
            decode_error(version, wire),
            error,
            "Packet::decode in {version} of {wire:02x?}"
        );
    }
    error
}

/// Asserts that every CONNECT decoder refuses `wire` with `error`, which maps to `reason`.
fn assert_connect_refused(wire: &[u8], error: DecodeError, reason: ReasonCode) {
    let actual = connect_error(wire);
    assert_eq!(actual, error, "{wire:02x?}");
    assert_refused(actual, error, reason);
}

/// A CONNECT: the fixed header, with a one-byte Remaining Length, around `body` (hex).
fn connect_packet(body: &str) -> Vec<u8> {
    let body = hex(body);
    let mut wire = vec![
        0x10,
        u8::try_from(body.len()).expect("a one-byte Remaining Length"),
    ];
    wire.extend_from_slice(&body);
    wire
}

// ---------------------------------------------------------------------------------------------
// CONNECT: positive vectors
// ---------------------------------------------------------------------------------------------

/// The CONNECT of the spec's variable header example (3.1.1 §3.1.2.10, 5.0 §3.1.2.12): flags
/// 0xCE (User Name, Password, Will QoS 1, Will Flag, Clean Session), Keep Alive 10, with a
/// payload of every field.
fn spec_example<B: Make>(version: ProtocolVersion) -> Connect<B> {
    let mut will = Will::new(B::topic("w/t"), B::binary(b"bye"));
    will.qos = QoS::AtLeastOnce;
    let mut properties = ConnectProperties::new();
    if version.is_v5() {
        properties.session_expiry_interval = Some(10);
    }
    Connect {
        protocol_version: version,
        clean_start: true,
        keep_alive: 10,
        client_id: B::string("c1"),
        will: Some(will),
        username: Some(B::string("user")),
        password: Some(B::binary(b"pw")),
        properties,
    }
}

/// 3.1.1 §3.1.2.10's non-normative example, completed with a payload in the order of §3.1.3.
/// conformance: v311:MQTT-3.1.2-9, v311:MQTT-3.1.2-19, v311:MQTT-3.1.2-21, v311:MQTT-3.1.3-1,
/// v311:MQTT-3.1.3-3, v311:MQTT-3.1.3-4, v311:MQTT-3.1.3-10, v311:MQTT-3.1.3-11
#[test]
fn v311_spec_example_connect_round_trips() {
    let wire = hex("10 22
         00 04 4D 51 54 54  04  CE  00 0A
         00 02 63 31
         00 03 77 2F 74
         00 03 62 79 65
         00 04 75 73 65 72
         00 02 70 77");
    assert_connect(&wire, spec_example(V311), spec_example(V311));
}

/// 5.0 §3.1.2.12's non-normative example (Property Length 5, Session Expiry Interval 10),
/// completed with a payload in the order of §3.1.3: the Will Properties come before the Will
/// Topic, here an empty block.
/// conformance: v5:MQTT-3.1.2-9, v5:MQTT-3.1.2-17, v5:MQTT-3.1.2-19, v5:MQTT-3.1.3-1,
/// v5:MQTT-3.1.3-3, v5:MQTT-3.1.3-4, v5:MQTT-3.1.3-11, v5:MQTT-3.1.3-12, v5:MQTT-2.2.2-1
#[test]
fn v5_spec_example_connect_round_trips() {
    let wire = hex("10 29
         00 04 4D 51 54 54  05  CE  00 0A  05 11 00 00 00 0A
         00 02 63 31
         00
         00 03 77 2F 74
         00 03 62 79 65
         00 04 75 73 65 72
         00 02 70 77");
    assert_connect(&wire, spec_example(V5), spec_example(V5));
}

/// The same CONNECT as MQTT 3.1 writes it: protocol name `MQIsdp`, level 3.
/// conformance: v311:MQTT-3.1.3-1, v311:MQTT-3.1.2-9
#[test]
fn mqtt31_spec_example_connect_round_trips() {
    let wire = hex("10 24
         00 06 4D 51 49 73 64 70  03  CE  00 0A
         00 02 63 31
         00 03 77 2F 74
         00 03 62 79 65
         00 04 75 73 65 72
         00 02 70 77");
    assert_connect(&wire, spec_example(V31), spec_example(V31));
}

fn minimal<B: Make>(version: ProtocolVersion) -> Connect<B> {
    let mut connect = Connect::new(version, B::string("a"));
    connect.keep_alive = 60;
    connect
}

/// The smallest CONNECT with a client identifier, in each version; 5.0 writes a Property
/// Length of 0 when there are no properties.
/// conformance: v311:MQTT-3.1.2-18, v311:MQTT-3.1.2-20, v5:MQTT-3.1.2-16, v5:MQTT-3.1.2-18,
/// v5:MQTT-2.2.2-1
#[test]
fn minimal_connect_round_trips_in_every_version() {
    for (version, wire) in [
        (V311, "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 61"),
        (V5, "10 0E 00 04 4D 51 54 54 05 02 00 3C 00 00 01 61"),
        (V31, "10 0F 00 06 4D 51 49 73 64 70 03 02 00 3C 00 01 61"),
    ] {
        assert_connect(&hex(wire), minimal(version), minimal(version));
    }
}

/// A minimal 3.1 CONNECT, named as MQTT 3.1 tests are.
#[test]
fn mqtt31_minimal_connect_uses_mqisdp_level_3() {
    let wire = hex("10 0F 00 06 4D 51 49 73 64 70 03 02 00 3C 00 01 61");
    let connect = minimal::<&[u8]>(V31);
    let mut out = Vec::new();
    connect.encode(V31, &mut out).expect("encodes");
    assert_eq!(out, wire);
    assert_eq!(&out[2..10], b"\x00\x06MQIsdp");
    assert_eq!(out[10], 3);
}

/// User Name without Password, Clean Session 0 and the largest Keep Alive.
/// conformance: v311:MQTT-3.1.2-19, v311:MQTT-3.1.2-20, v311:MQTT-3.1.3-11
#[test]
fn v311_user_name_without_password_round_trips() {
    let wire = hex("10 10 00 04 4D 51 54 54 04 80 FF FF 00 01 61 00 01 75");
    fn expected<B: Make>() -> Connect<B> {
        let mut connect = Connect::new(V311, B::string("a"));
        connect.clean_start = false;
        connect.keep_alive = 0xFFFF;
        connect.username = Some(B::string("u"));
        connect
    }
    assert_connect(&wire, expected(), expected());
}

/// MQTT 5.0 lets a client send a Password without a User Name (§3.1.2.9).
/// conformance: v5:MQTT-3.1.2-16, v5:MQTT-3.1.2-19
#[test]
fn v5_password_without_user_name_is_accepted() {
    let wire = hex("10 12 00 04 4D 51 54 54 05 42 00 3C 00 00 01 61 00 02 70 77");
    fn expected<B: Make>() -> Connect<B> {
        let mut connect = Connect::new(V5, B::string("a"));
        connect.keep_alive = 60;
        connect.password = Some(B::binary(b"pw"));
        connect
    }
    assert_connect(&wire, expected(), expected());
}

/// Will QoS 2 and Will Retain, with an empty Will Message (and in 5.0 an empty Will Properties
/// block).
/// conformance: v311:MQTT-3.1.2-9, v311:MQTT-3.1.2-14, v311:MQTT-3.1.3-10, v5:MQTT-3.1.2-9,
/// v5:MQTT-3.1.2-12, v5:MQTT-3.1.3-11
#[test]
fn will_qos2_retained_round_trips() {
    fn expected<B: Make>(version: ProtocolVersion) -> Connect<B> {
        let mut will = Will::new(B::topic("w"), B::binary(b""));
        will.qos = QoS::ExactlyOnce;
        will.retain = true;
        let mut connect = Connect::new(version, B::string("a"));
        connect.keep_alive = 60;
        connect.will = Some(will);
        connect
    }
    for (version, wire) in [
        (
            V311,
            "10 12 00 04 4D 51 54 54 04 36 00 3C 00 01 61 00 01 77 00 00",
        ),
        (
            V5,
            "10 14 00 04 4D 51 54 54 05 36 00 3C 00 00 01 61 00 00 01 77 00 00",
        ),
    ] {
        assert_connect(&hex(wire), expected(version), expected(version));
    }
}

/// 3.1.1 allows an empty Client Identifier together with Clean Session 1 (§3.1.3.1).
/// conformance: v311:MQTT-3.1.3-3
#[test]
fn v311_empty_client_id_with_clean_session_is_accepted() {
    let wire = hex("10 0C 00 04 4D 51 54 54 04 02 00 3C 00 00");
    fn expected<B: Make>() -> Connect<B> {
        let mut connect = Connect::new(V311, B::string(""));
        connect.keep_alive = 60;
        connect
    }
    assert_connect(&wire, expected(), expected());
}

/// 5.0 allows an empty Client Identifier even without Clean Start (§3.1.3.1).
/// conformance: v5:MQTT-3.1.3-3
#[test]
fn v5_empty_client_id_without_clean_start_is_accepted() {
    let wire = hex("10 0D 00 04 4D 51 54 54 05 00 00 3C 00 00 00");
    fn expected<B: Make>() -> Connect<B> {
        let mut connect = Connect::new(V5, B::string(""));
        connect.clean_start = false;
        connect.keep_alive = 60;
        connect
    }
    assert_connect(&wire, expected(), expected());
}

/// MQTT 3.1 allows Client Identifiers of 1 to 23 characters; 23 is accepted.
#[test]
fn mqtt31_client_id_of_23_characters_is_accepted() {
    let wire = hex("10 25 00 06 4D 51 49 73 64 70 03 02 00 3C
         00 17 61 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 6F 70 71 72 73 74 75 76 77");
    fn expected<B: Make>() -> Connect<B> {
        let mut connect = Connect::new(V31, B::string("abcdefghijklmnopqrstuvw"));
        connect.keep_alive = 60;
        connect
    }
    assert_connect(&wire, expected(), expected());
}

/// The 3.1 limit counts characters, not bytes: 23 two-byte characters (46 bytes) pass.
#[test]
fn mqtt31_client_id_limit_counts_characters() {
    let wire = hex(&format!(
        "10 3C 00 06 4D 51 49 73 64 70 03 02 00 3C 00 2E {}",
        "C3 A9 ".repeat(23)
    ));
    let id = "é".repeat(23);
    let (connect, _) = Connect::decode(&wire, &LIMITS)
        .expect("accepted")
        .complete()
        .expect("complete");
    assert_eq!(connect.client_id, id.as_str());
    let mut out = Vec::new();
    connect.encode(V31, &mut out).expect("encodes");
    assert_eq!(out, wire);
}

/// The payload fields are read in their fixed order: Client Identifier, Will Topic, Will
/// Message, User Name, Password. With the same bytes but no Will Flag, the string after the
/// Client Identifier is the User Name and the rest is left over.
/// conformance: v311:MQTT-3.1.3-1, v311:MQTT-3.1.3-3, v311:MQTT-3.1.2-11
#[test]
fn v311_payload_fields_are_read_in_spec_order() {
    let wire = hex("10 16 00 04 4D 51 54 54 04 86 00 3C 00 01 61 00 01 77 00 01 78 00 01 75");
    fn expected<B: Make>() -> Connect<B> {
        let mut connect = Connect::new(V311, B::string("a"));
        connect.keep_alive = 60;
        connect.will = Some(Will::new(B::topic("w"), B::binary(b"x")));
        connect.username = Some(B::string("u"));
        connect
    }
    assert_connect(&wire, expected(), expected());

    let wire = hex("10 16 00 04 4D 51 54 54 04 82 00 3C 00 01 61 00 01 77 00 01 78 00 01 75");
    assert_connect_refused(
        &wire,
        DecodeError::TrailingBytes {
            packet: PacketType::Connect,
            count: 6,
        },
        ReasonCode::MalformedPacket,
    );
}

/// 5.0 puts the Will Properties between the Client Identifier and the Will Topic.
/// conformance: v5:MQTT-3.1.3-1, v5:MQTT-3.1.3-3, v5:MQTT-3.1.2-9
#[test]
fn v5_payload_fields_are_read_in_spec_order() {
    let wire = hex("10 20 00 04 4D 51 54 54 05 C6 00 3C 00
         00 01 61
         05 18 00 00 00 05
         00 01 77
         00 01 78
         00 01 75
         00 01 70");
    fn expected<B: Make>() -> Connect<B> {
        let mut will = Will::new(B::topic("w"), B::binary(b"x"));
        will.properties.will_delay_interval = Some(5);
        let mut connect = Connect::new(V5, B::string("a"));
        connect.keep_alive = 60;
        connect.will = Some(will);
        connect.username = Some(B::string("u"));
        connect.password = Some(B::binary(b"p"));
        connect
    }
    assert_connect(&wire, expected(), expected());
}

// ---------------------------------------------------------------------------------------------
// CONNECT: refused by the decoder
// ---------------------------------------------------------------------------------------------

/// Bit 0 of the Connect Flags is reserved, in every version.
/// conformance: v311:MQTT-3.1.2-3, v5:MQTT-3.1.2-3
#[test]
fn reserved_connect_flag_is_malformed() {
    for wire in [
        "10 0D 00 04 4D 51 54 54 04 03 00 3C 00 01 61",
        "10 0E 00 04 4D 51 54 54 05 03 00 3C 00 00 01 61",
        "10 0F 00 06 4D 51 49 73 64 70 03 03 00 3C 00 01 61",
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::ConnectReservedFlag,
            ReasonCode::MalformedPacket,
        );
    }
}

/// Will QoS 1 or 2, or Will Retain, without the Will Flag (flags 0x0A, 0x12, 0x22; in 5.0
/// also 0x1A).
/// conformance: v311:MQTT-3.1.2-11, v311:MQTT-3.1.2-13, v311:MQTT-3.1.2-15, v5:MQTT-3.1.2-11,
/// v5:MQTT-3.1.2-13
#[test]
fn will_qos_or_retain_without_will_flag_is_malformed() {
    for wire in [
        "10 0D 00 04 4D 51 54 54 04 0A 00 3C 00 01 61",
        "10 0D 00 04 4D 51 54 54 04 12 00 3C 00 01 61",
        "10 0D 00 04 4D 51 54 54 04 22 00 3C 00 01 61",
        "10 0F 00 06 4D 51 49 73 64 70 03 0A 00 3C 00 01 61",
        "10 0F 00 06 4D 51 49 73 64 70 03 12 00 3C 00 01 61",
        "10 0F 00 06 4D 51 49 73 64 70 03 22 00 3C 00 01 61",
        "10 0E 00 04 4D 51 54 54 05 0A 00 3C 00 00 01 61",
        "10 0E 00 04 4D 51 54 54 05 12 00 3C 00 00 01 61",
        "10 0E 00 04 4D 51 54 54 05 1A 00 3C 00 00 01 61",
        "10 0E 00 04 4D 51 54 54 05 22 00 3C 00 00 01 61",
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::WillFlagsWithoutWill,
            ReasonCode::MalformedPacket,
        );
    }
}

/// conformance: v311:MQTT-3.1.2-14, v5:MQTT-3.1.2-12
#[test]
fn will_qos_3_is_malformed() {
    for wire in [
        "10 12 00 04 4D 51 54 54 04 1E 00 3C 00 01 61 00 01 77 00 00",
        "10 14 00 06 4D 51 49 73 64 70 03 1E 00 3C 00 01 61 00 01 77 00 00",
        "10 14 00 04 4D 51 54 54 05 1E 00 3C 00 00 01 61 00 00 01 77 00 00",
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::InvalidQos { field: "will QoS" },
            ReasonCode::MalformedPacket,
        );
    }
}

/// conformance: v311:MQTT-3.1.2-22
#[test]
fn password_without_user_name_is_malformed_before_v5() {
    for wire in [
        "10 11 00 04 4D 51 54 54 04 42 00 3C 00 01 61 00 02 70 77",
        "10 13 00 06 4D 51 49 73 64 70 03 42 00 3C 00 01 61 00 02 70 77",
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::PasswordWithoutUserName,
            ReasonCode::MalformedPacket,
        );
    }
}

/// MQTT 3.1 §3.1 Client Identifier: "between 1 and 23 characters long". The refusal maps to
/// 0x85, whose 3.1 return code is 0x02 (identifier rejected).
#[test]
fn mqtt31_empty_client_id_is_refused() {
    let wire = hex("10 0E 00 06 4D 51 49 73 64 70 03 02 00 3C 00 00");
    let error = connect_error(&wire);
    assert_refused(
        error,
        DecodeError::InvalidClientId,
        ReasonCode::ClientIdentifierNotValid,
    );
    assert_eq!(
        ConnectReturnCode::from_reason_code(ConnectReasonCode::ClientIdentifierNotValid),
        Some(ConnectReturnCode::IdentifierRejected)
    );
}

/// A 24-character 3.1 Client Identifier is too long.
#[test]
fn mqtt31_client_id_of_24_characters_is_refused() {
    let wire = hex("10 26 00 06 4D 51 49 73 64 70 03 02 00 3C
         00 18 61 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 6F 70 71 72 73 74 75 76 77 78");
    assert_connect_refused(
        &wire,
        DecodeError::InvalidClientId,
        ReasonCode::ClientIdentifierNotValid,
    );
}

/// 3.1.1 §3.1.3.1: a zero-byte Client Identifier needs Clean Session 1; otherwise the server
/// answers return code 0x02 (the broker's duty MQTT-3.1.3-8, built on this refusal).
/// conformance: v311:§3.1.3.1
#[test]
fn v311_empty_client_id_without_clean_session_is_refused() {
    let wire = hex("10 0C 00 04 4D 51 54 54 04 00 00 3C 00 00");
    let error = connect_error(&wire);
    assert_refused(
        error,
        DecodeError::InvalidClientId,
        ReasonCode::ClientIdentifierNotValid,
    );
    let reason = ConnectReasonCode::try_from(error.reason_code()).expect("a CONNACK code");
    assert_eq!(
        ConnectReturnCode::try_from(reason),
        Ok(ConnectReturnCode::IdentifierRejected)
    );
}

/// A Protocol Name other than `MQTT` or `MQIsdp` (case matters) maps to Unsupported Protocol
/// Version, 3.1.1 return code 0x01.
/// conformance: v311:§3.1.2.1, v5:§3.1.2.1
#[test]
fn unknown_protocol_name_is_refused() {
    for (name, level) in [
        ("00 04 4D 51 54 58", "04"),       // "MQTX"
        ("00 04 6D 71 74 74", "04"),       // "mqtt"
        ("00 04 4D 51 54 58", "05"),       // "MQTX" level 5
        ("00 06 4D 51 49 53 44 50", "03"), // "MQISDP"
        ("00 05 4D 51 54 54 35", "05"),    // "MQTT5"
    ] {
        assert_connect_refused(
            &connect_packet(&format!("{name} {level} 02 00 3C 00 00 01 61")),
            DecodeError::UnknownProtocolName,
            ReasonCode::UnsupportedProtocolVersion,
        );
    }
    assert_eq!(
        ConnectReturnCode::from_reason_code(ConnectReasonCode::UnsupportedProtocolVersion),
        Some(ConnectReturnCode::UnacceptableProtocolVersion)
    );
}

/// Protocol levels other than 3, 4 and 5 are not spoken.
/// conformance: v311:§3.1.2.2, v5:§3.1.2.2
#[test]
fn unsupported_protocol_level_is_refused() {
    for level in [0u8, 1, 2, 6, 0x84, 0xFF] {
        assert_connect_refused(
            &hex(&format!(
                "10 0D 00 04 4D 51 54 54 {level:02X} 02 00 3C 00 01 61"
            )),
            DecodeError::UnsupportedProtocolLevel { level },
            ReasonCode::UnsupportedProtocolVersion,
        );
    }
}

/// Level 3 goes with `MQIsdp` only, levels 4 and 5 with `MQTT` only.
/// conformance: v311:§3.1.2.2
#[test]
fn protocol_name_and_level_must_match() {
    for (wire, level) in [
        ("10 0D 00 04 4D 51 54 54 03 02 00 3C 00 01 61", 3),
        ("10 0F 00 06 4D 51 49 73 64 70 04 02 00 3C 00 01 61", 4),
        ("10 0F 00 06 4D 51 49 73 64 70 05 02 00 3C 00 01 61", 5),
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::UnsupportedProtocolLevel { level },
            ReasonCode::UnsupportedProtocolVersion,
        );
    }
}

/// The Client Identifier is a UTF-8 Encoded String: ill-formed UTF-8 and U+0000 are malformed.
/// conformance: v311:MQTT-3.1.3-4, v5:MQTT-3.1.3-4
#[test]
fn client_id_must_be_well_formed_utf8() {
    let field = "client identifier";
    let invalid = DecodeError::InvalidUtf8 { field };
    let nul = DecodeError::NulCharacter { field };
    for (wire, error) in [
        (hex("10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 FF"), invalid),
        (
            hex("10 0F 00 04 4D 51 54 54 04 02 00 3C 00 03 ED A0 80"),
            invalid,
        ),
        (
            hex("10 0E 00 04 4D 51 54 54 04 02 00 3C 00 02 C0 AF"),
            invalid,
        ),
        (
            hex("10 0F 00 04 4D 51 54 54 04 02 00 3C 00 03 61 00 62"),
            nul,
        ),
        (
            hex("10 0E 00 04 4D 51 54 54 05 02 00 3C 00 00 01 FF"),
            invalid,
        ),
        (hex("10 0E 00 04 4D 51 54 54 05 02 00 3C 00 00 01 00"), nul),
        (
            hex("10 0F 00 06 4D 51 49 73 64 70 03 02 00 3C 00 01 FF"),
            invalid,
        ),
        (
            hex("10 0F 00 06 4D 51 49 73 64 70 03 02 00 3C 00 01 00"),
            nul,
        ),
    ] {
        assert_connect_refused(&wire, error, ReasonCode::MalformedPacket);
    }
}

/// conformance: v311:MQTT-3.1.3-10, v5:MQTT-3.1.3-11
#[test]
fn will_topic_must_be_well_formed_utf8() {
    let field = "will topic";
    let invalid = DecodeError::InvalidUtf8 { field };
    let nul = DecodeError::NulCharacter { field };
    for (wire, error) in [
        (
            "10 12 00 04 4D 51 54 54 04 06 00 3C 00 01 61 00 01 FF 00 00",
            invalid,
        ),
        (
            "10 14 00 04 4D 51 54 54 04 06 00 3C 00 01 61 00 03 61 00 62 00 00",
            nul,
        ),
        (
            "10 14 00 04 4D 51 54 54 05 06 00 3C 00 00 01 61 00 00 01 FF 00 00",
            invalid,
        ),
        (
            "10 14 00 04 4D 51 54 54 05 06 00 3C 00 00 01 61 00 00 01 00 00 00",
            nul,
        ),
    ] {
        assert_connect_refused(&hex(wire), error, ReasonCode::MalformedPacket);
    }
}

/// The Will Topic is published as a Topic Name: no wildcards, not empty.
/// conformance: v311:MQTT-4.7.1-1, v311:§3.1.3.2, v5:MQTT-4.7.0-1, v5:§3.1.3.3
#[test]
fn will_topic_with_wildcard_or_empty_is_malformed() {
    for (wire, error) in [
        (
            connect_packet("00 04 4D 51 54 54 04 06 00 3C 00 01 61 00 01 23 00 00"),
            TopicError::WildcardInName,
        ),
        (
            connect_packet("00 04 4D 51 54 54 04 06 00 3C 00 01 61 00 03 61 2F 2B 00 00"),
            TopicError::WildcardInName,
        ),
        (
            connect_packet("00 04 4D 51 54 54 04 06 00 3C 00 01 61 00 00 00 00"),
            TopicError::Empty,
        ),
        (
            hex("10 16 00 04 4D 51 54 54 05 06 00 3C 00 00 01 61 00 00 03 61 2F 23 00 00"),
            TopicError::WildcardInName,
        ),
    ] {
        assert_connect_refused(
            &wire,
            DecodeError::InvalidTopic {
                field: "will topic",
                error,
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// conformance: v311:MQTT-3.1.3-11, v5:MQTT-3.1.3-12
#[test]
fn user_name_must_be_well_formed_utf8() {
    let field = "user name";
    let invalid = DecodeError::InvalidUtf8 { field };
    let nul = DecodeError::NulCharacter { field };
    for (wire, error) in [
        (
            "10 10 00 04 4D 51 54 54 04 82 00 3C 00 01 61 00 01 FF",
            invalid,
        ),
        ("10 10 00 04 4D 51 54 54 04 82 00 3C 00 01 61 00 01 00", nul),
        (
            "10 11 00 04 4D 51 54 54 05 82 00 3C 00 00 01 61 00 01 FF",
            invalid,
        ),
        (
            "10 11 00 04 4D 51 54 54 05 82 00 3C 00 00 01 61 00 01 00",
            nul,
        ),
    ] {
        assert_connect_refused(&hex(wire), error, ReasonCode::MalformedPacket);
    }
}

/// The password is Binary Data: any bytes, U+0000 and invalid UTF-8 included.
#[test]
fn v311_password_is_binary_data() {
    let wire = hex("10 15 00 04 4D 51 54 54 04 C2 00 3C 00 01 61 00 01 75 00 03 00 FF 80");
    fn expected<B: Make>() -> Connect<B> {
        let mut connect = Connect::new(V311, B::string("a"));
        connect.keep_alive = 60;
        connect.username = Some(B::string("u"));
        connect.password = Some(B::binary(b"\x00\xFF\x80"));
        connect
    }
    assert_connect(&wire, expected(), expected());
}

/// The Client Identifier is always there, first in the payload.
/// conformance: v311:MQTT-3.1.3-3, v5:MQTT-3.1.3-3
#[test]
fn missing_client_id_is_malformed() {
    for wire in [
        "10 0A 00 04 4D 51 54 54 04 02 00 3C",
        "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 05 61",
        "10 0B 00 04 4D 51 54 54 05 02 00 3C 00",
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::UnexpectedEnd {
                field: "client identifier",
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// A 5.0 CONNECT always has a Property Length, even when it is 0.
/// conformance: v5:MQTT-2.2.2-1
#[test]
fn v5_connect_without_property_length_is_malformed() {
    // The 3.1.1 layout with level 5: the Client Identifier's length byte 0x00 is read as the
    // Property Length, and what is left no longer holds a string.
    let wire = hex("10 0D 00 04 4D 51 54 54 05 02 00 3C 00 01 61");
    assert_connect_refused(
        &wire,
        DecodeError::UnexpectedEnd {
            field: "client identifier",
        },
        ReasonCode::MalformedPacket,
    );
    let truncated = hex("10 0A 00 04 4D 51 54 54 05 02 00 3C");
    assert_connect_refused(
        &truncated,
        DecodeError::UnexpectedEnd {
            field: "property length",
        },
        ReasonCode::MalformedPacket,
    );
}

/// With the Will Flag set the Will Topic and Will Message must follow, and in 5.0 the Will
/// Properties before them.
/// conformance: v311:MQTT-3.1.2-9, v5:MQTT-3.1.2-9
#[test]
fn will_flag_without_will_fields_is_malformed() {
    for (wire, field) in [
        ("10 0D 00 04 4D 51 54 54 04 06 00 3C 00 01 61", "will topic"),
        (
            "10 10 00 04 4D 51 54 54 04 06 00 3C 00 01 61 00 01 77",
            "will payload",
        ),
        (
            "10 0E 00 04 4D 51 54 54 05 06 00 3C 00 00 01 61",
            "property length",
        ),
        (
            "10 0F 00 04 4D 51 54 54 05 06 00 3C 00 00 01 61 00",
            "will topic",
        ),
        (
            "10 12 00 04 4D 51 54 54 05 06 00 3C 00 00 01 61 00 00 01 77",
            "will payload",
        ),
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::UnexpectedEnd { field },
            ReasonCode::MalformedPacket,
        );
    }
}

/// Without the Will Flag there is no Will Topic or Will Message: those bytes are left over.
/// conformance: v311:MQTT-3.1.2-11
#[test]
fn v311_will_fields_without_will_flag_are_trailing_bytes() {
    let wire = hex("10 12 00 04 4D 51 54 54 04 02 00 3C 00 01 61 00 01 77 00 00");
    assert_connect_refused(
        &wire,
        DecodeError::TrailingBytes {
            packet: PacketType::Connect,
            count: 5,
        },
        ReasonCode::MalformedPacket,
    );
}

/// conformance: v311:MQTT-3.1.2-19, v5:MQTT-3.1.2-17
#[test]
fn user_name_flag_without_user_name_is_malformed() {
    for wire in [
        "10 0D 00 04 4D 51 54 54 04 82 00 3C 00 01 61",
        "10 0E 00 04 4D 51 54 54 05 82 00 3C 00 00 01 61",
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::UnexpectedEnd { field: "user name" },
            ReasonCode::MalformedPacket,
        );
    }
}

/// conformance: v311:MQTT-3.1.2-18, v5:MQTT-3.1.2-16
#[test]
fn user_name_without_user_name_flag_is_trailing_bytes() {
    for wire in [
        "10 10 00 04 4D 51 54 54 04 02 00 3C 00 01 61 00 01 75",
        "10 11 00 04 4D 51 54 54 05 02 00 3C 00 00 01 61 00 01 75",
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::TrailingBytes {
                packet: PacketType::Connect,
                count: 3,
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// conformance: v311:MQTT-3.1.2-21, v5:MQTT-3.1.2-19
#[test]
fn password_flag_without_password_is_malformed() {
    for wire in [
        "10 10 00 04 4D 51 54 54 04 C2 00 3C 00 01 61 00 01 75",
        "10 0E 00 04 4D 51 54 54 05 42 00 3C 00 00 01 61",
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::UnexpectedEnd { field: "password" },
            ReasonCode::MalformedPacket,
        );
    }
}

/// conformance: v311:MQTT-3.1.2-20, v5:MQTT-3.1.2-18
#[test]
fn password_without_password_flag_is_trailing_bytes() {
    for wire in [
        "10 14 00 04 4D 51 54 54 04 82 00 3C 00 01 61 00 01 75 00 02 70 77",
        "10 15 00 04 4D 51 54 54 05 82 00 3C 00 00 01 61 00 01 75 00 02 70 77",
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::TrailingBytes {
                packet: PacketType::Connect,
                count: 4,
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// A truncated variable header runs past the Remaining Length.
#[test]
fn connect_variable_header_past_remaining_length_is_malformed() {
    for (wire, field) in [
        ("10 01 00", "protocol name"),
        ("10 04 00 04 4D 51", "protocol name"),
        ("10 06 00 04 4D 51 54 54", "protocol level"),
        ("10 07 00 04 4D 51 54 54 04", "connect flags"),
        ("10 09 00 04 4D 51 54 54 04 02 00", "keep alive"),
    ] {
        assert_connect_refused(
            &hex(wire),
            DecodeError::UnexpectedEnd { field },
            ReasonCode::MalformedPacket,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// CONNACK
// ---------------------------------------------------------------------------------------------

fn connack<B: Buffer>(session_present: bool, reason_code: ConnectReasonCode) -> Packet<B> {
    ConnAck::new(session_present, reason_code).into()
}

/// The six 3.1.1 return codes and the 5.0 reason codes with the same meaning, as the table of
/// `ConnectReturnCode` gives them (3.1.1 §3.2.2.3, 5.0 §3.2.2.2).
const RETURN_CODES: [(u8, ConnectReturnCode, ConnectReasonCode, u8); 6] = [
    (
        0x00,
        ConnectReturnCode::Accepted,
        ConnectReasonCode::Success,
        0x00,
    ),
    (
        0x01,
        ConnectReturnCode::UnacceptableProtocolVersion,
        ConnectReasonCode::UnsupportedProtocolVersion,
        0x84,
    ),
    (
        0x02,
        ConnectReturnCode::IdentifierRejected,
        ConnectReasonCode::ClientIdentifierNotValid,
        0x85,
    ),
    (
        0x03,
        ConnectReturnCode::ServerUnavailable,
        ConnectReasonCode::ServerUnavailable,
        0x88,
    ),
    (
        0x04,
        ConnectReturnCode::BadUserNameOrPassword,
        ConnectReasonCode::BadUserNameOrPassword,
        0x86,
    ),
    (
        0x05,
        ConnectReturnCode::NotAuthorized,
        ConnectReasonCode::NotAuthorized,
        0x87,
    ),
];

/// The CONNACK reason codes of 5.0 §3.2.2.2, Table 3-1.
const V5_CONNACK_CODES: [(u8, ConnectReasonCode); 22] = [
    (0x00, ConnectReasonCode::Success),
    (0x80, ConnectReasonCode::UnspecifiedError),
    (0x81, ConnectReasonCode::MalformedPacket),
    (0x82, ConnectReasonCode::ProtocolError),
    (0x83, ConnectReasonCode::ImplementationSpecificError),
    (0x84, ConnectReasonCode::UnsupportedProtocolVersion),
    (0x85, ConnectReasonCode::ClientIdentifierNotValid),
    (0x86, ConnectReasonCode::BadUserNameOrPassword),
    (0x87, ConnectReasonCode::NotAuthorized),
    (0x88, ConnectReasonCode::ServerUnavailable),
    (0x89, ConnectReasonCode::ServerBusy),
    (0x8A, ConnectReasonCode::Banned),
    (0x8C, ConnectReasonCode::BadAuthenticationMethod),
    (0x90, ConnectReasonCode::TopicNameInvalid),
    (0x95, ConnectReasonCode::PacketTooLarge),
    (0x97, ConnectReasonCode::QuotaExceeded),
    (0x99, ConnectReasonCode::PayloadFormatInvalid),
    (0x9A, ConnectReasonCode::RetainNotSupported),
    (0x9B, ConnectReasonCode::QoSNotSupported),
    (0x9C, ConnectReasonCode::UseAnotherServer),
    (0x9D, ConnectReasonCode::ServerMoved),
    (0x9F, ConnectReasonCode::ConnectionRateExceeded),
];

/// Every 3.1.1 return code decodes to the 5.0 reason code with its meaning and encodes back;
/// the same CONNACK encodes in 5.0 with the 5.0 byte and a Property Length of 0.
/// conformance: v311:§3.2.2.3, v5:§3.2.2.2, v5:MQTT-2.2.2-1
#[test]
fn v311_connack_return_codes_round_trip_and_map_to_v5() {
    for (byte, return_code, reason, v5_byte) in RETURN_CODES {
        assert_eq!(ConnectReturnCode::from_u8(byte), Some(return_code));
        assert_eq!(return_code.as_u8(), byte);
        assert_eq!(return_code.to_reason_code(), reason);
        assert_eq!(ConnectReasonCode::from(return_code), reason);
        assert_eq!(
            ConnectReturnCode::from_reason_code(reason),
            Some(return_code)
        );
        assert_eq!(ConnectReturnCode::try_from(reason), Ok(return_code));
        assert_eq!(reason.as_u8(), v5_byte);

        let v311 = hex(&format!("20 02 00 {byte:02X}"));
        assert_vector(V311, &v311, connack(false, reason), connack(false, reason));
        let v5 = hex(&format!("20 03 00 {v5_byte:02X} 00"));
        assert_vector(V5, &v5, connack(false, reason), connack(false, reason));
    }
}

/// MQTT 3.1 has the same six return codes (3.1 §3.2).
#[test]
fn mqtt31_connack_return_codes_round_trip() {
    for (byte, _, reason, _) in RETURN_CODES {
        let wire = hex(&format!("20 02 00 {byte:02X}"));
        assert_vector(V31, &wire, connack(false, reason), connack(false, reason));
    }
}

/// conformance: v311:§3.2.2.2, v5:§3.2.2.1.1, v5:MQTT-2.2.2-1
#[test]
fn connack_session_present_round_trips() {
    let success = ConnectReasonCode::Success;
    for (version, wire) in [(V311, "20 02 01 00"), (V5, "20 03 01 00 00")] {
        assert_vector(
            version,
            &hex(wire),
            connack(true, success),
            connack(true, success),
        );
    }
}

/// Every reason code of Table 3-1 round-trips in a 5.0 CONNACK.
/// conformance: v5:MQTT-3.2.2-8
#[test]
fn v5_connack_reason_codes_round_trip() {
    for (byte, reason) in V5_CONNACK_CODES {
        assert_eq!(reason.as_u8(), byte);
        let wire = hex(&format!("20 03 00 {byte:02X} 00"));
        assert_vector(V5, &wire, connack(false, reason), connack(false, reason));
    }
}

/// 3.1.1 return codes 6 to 255 are reserved.
/// conformance: v311:§3.2.2.3
#[test]
fn v311_connack_reserved_return_codes_are_malformed() {
    for code in 6..=0xFFu8 {
        for version in [V311, V31] {
            assert_refused(
                decode_error(version, &[0x20, 0x02, 0x00, code]),
                DecodeError::InvalidReasonCode {
                    packet: PacketType::ConnAck,
                    code,
                },
                ReasonCode::MalformedPacket,
            );
        }
    }
}

/// A byte outside Table 3-1 is not a CONNACK reason code.
/// conformance: v5:MQTT-3.2.2-8
#[test]
fn v5_connack_unknown_reason_codes_are_malformed() {
    for code in 0..=0xFFu8 {
        if V5_CONNACK_CODES.iter().any(|(byte, _)| *byte == code) {
            continue;
        }
        assert_refused(
            decode_error(V5, &[0x20, 0x03, 0x00, code, 0x00]),
            DecodeError::InvalidReasonCode {
                packet: PacketType::ConnAck,
                code,
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// Bits 7-1 of the Connect Acknowledge Flags are reserved (3.1.1 §3.2.2.1).
/// conformance: v311:§3.2.2.1
#[test]
fn v311_connack_reserved_flags_are_malformed() {
    for flags in [0x02u8, 0x03, 0x80, 0xFE, 0xFF] {
        assert_refused(
            decode_error(V311, &[0x20, 0x02, flags, 0x00]),
            DecodeError::InvalidConnAckFlags(flags),
            ReasonCode::MalformedPacket,
        );
    }
}

/// conformance: v5:MQTT-3.2.2-1
#[test]
fn v5_connack_reserved_flags_are_malformed() {
    for flags in [0x02u8, 0x03, 0x40, 0x80, 0xFE, 0xFF] {
        assert_refused(
            decode_error(V5, &[0x20, 0x03, flags, 0x00, 0x00]),
            DecodeError::InvalidConnAckFlags(flags),
            ReasonCode::MalformedPacket,
        );
    }
}

/// MQTT 3.1 has no Session Present flag: the whole first byte is reserved.
#[test]
fn mqtt31_connack_session_present_bit_is_malformed() {
    for flags in [0x01u8, 0x02, 0x80] {
        assert_refused(
            decode_error(V31, &[0x20, 0x02, flags, 0x00]),
            DecodeError::InvalidConnAckFlags(flags),
            ReasonCode::MalformedPacket,
        );
    }
}

/// A refusal has Session Present 0 (the broker's duty MQTT-3.2.2-4 in 3.1.1): the decoder
/// refuses the combination.
/// conformance: v311:§3.2.2.2
#[test]
fn v311_connack_session_present_with_refusal_is_refused() {
    for code in 1..=5u8 {
        assert_refused(
            decode_error(V311, &[0x20, 0x02, 0x01, code]),
            DecodeError::SessionPresentOnError,
            ReasonCode::ProtocolError,
        );
    }
}

/// The same for 5.0 (the broker's duty MQTT-3.2.2-6 in 5.0).
/// conformance: v5:§3.2.2.1.1
#[test]
fn v5_connack_session_present_with_refusal_is_refused() {
    for (code, _) in V5_CONNACK_CODES.iter().skip(1) {
        assert_refused(
            decode_error(V5, &[0x20, 0x03, 0x01, *code, 0x00]),
            DecodeError::SessionPresentOnError,
            ReasonCode::ProtocolError,
        );
    }
}

/// Too few bytes for the CONNACK fields, or bytes left over after them.
/// conformance: v311:§3.2, v5:MQTT-2.2.2-1
#[test]
fn connack_length_must_fit_the_fields() {
    for &version in ProtocolVersion::ALL {
        assert_refused(
            decode_error(version, &[0x20, 0x00]),
            DecodeError::UnexpectedEnd {
                field: "connect acknowledge flags",
            },
            ReasonCode::MalformedPacket,
        );
        assert_refused(
            decode_error(version, &[0x20, 0x01, 0x00]),
            DecodeError::UnexpectedEnd {
                field: "connect reason code",
            },
            ReasonCode::MalformedPacket,
        );
    }
    for version in [V31, V311] {
        assert_refused(
            decode_error(version, &[0x20, 0x03, 0x00, 0x00, 0x00]),
            DecodeError::TrailingBytes {
                packet: PacketType::ConnAck,
                count: 1,
            },
            ReasonCode::MalformedPacket,
        );
    }
    // 5.0 needs the Property Length even when there are no properties.
    assert_refused(
        decode_error(V5, &[0x20, 0x02, 0x00, 0x00]),
        DecodeError::UnexpectedEnd {
            field: "property length",
        },
        ReasonCode::MalformedPacket,
    );
    assert_refused(
        decode_error(V5, &[0x20, 0x04, 0x00, 0x00, 0x00, 0x00]),
        DecodeError::TrailingBytes {
            packet: PacketType::ConnAck,
            count: 1,
        },
        ReasonCode::MalformedPacket,
    );
    assert_refused(
        decode_error(V5, &[0x20, 0x04, 0x00, 0x00, 0x02, 0x24]),
        DecodeError::UnexpectedEnd {
            field: "properties",
        },
        ReasonCode::MalformedPacket,
    );
}

// ---------------------------------------------------------------------------------------------
// Encoder refusals
// ---------------------------------------------------------------------------------------------

/// A CONNECT is encoded in the version it names, and no other.
#[test]
fn connect_encodes_only_in_its_own_version() {
    for &packet in ProtocolVersion::ALL {
        let connect = Packet::<&[u8]>::from(minimal::<&[u8]>(packet));
        for &requested in ProtocolVersion::ALL {
            if requested == packet {
                assert!(connect.encode(requested, &mut Vec::new()).is_ok());
            } else {
                assert_encode_error(
                    &connect,
                    requested,
                    EncodeError::VersionMismatch { packet, requested },
                );
            }
        }
    }
}

/// The encoder refuses the 3.1 Client Identifiers the decoder refuses.
#[test]
fn mqtt31_invalid_client_id_is_not_encoded() {
    for id in ["", "abcdefghijklmnopqrstuvwx"] {
        let connect = Connect::<&[u8]>::new(V31, MqttString::new(id).unwrap());
        assert_encode_error(&connect.into(), V31, EncodeError::InvalidClientId);
    }
}

/// conformance: v311:§3.1.3.1
#[test]
fn v311_empty_client_id_without_clean_session_is_not_encoded() {
    let mut connect = Connect::<&[u8]>::new(V311, MqttString::new("").unwrap());
    connect.clean_start = false;
    assert_encode_error(&connect.into(), V311, EncodeError::InvalidClientId);
}

/// conformance: v311:MQTT-3.1.2-22
#[test]
fn password_without_user_name_is_not_encoded_before_v5() {
    for version in [V31, V311] {
        let mut connect = minimal::<&[u8]>(version);
        connect.password = Some(BinaryData::new(&b"pw"[..]).unwrap());
        assert_encode_error(
            &connect.into(),
            version,
            EncodeError::PasswordWithoutUserName,
        );
    }
}

/// CONNECT and Will Properties exist only in 5.0; nothing is silently dropped.
#[test]
fn connect_properties_are_not_encoded_before_v5() {
    for version in [V31, V311] {
        let mut connect = minimal::<&[u8]>(version);
        connect.properties.session_expiry_interval = Some(1);
        assert_encode_error(
            &connect.into(),
            version,
            EncodeError::NotInVersion {
                what: "CONNECT properties",
                version,
            },
        );

        let mut connect = minimal::<&[u8]>(version);
        connect.properties.user_properties.push(UserProperty::new(
            MqttString::new("k").unwrap(),
            MqttString::new("v").unwrap(),
        ));
        assert_encode_error(
            &connect.into(),
            version,
            EncodeError::NotInVersion {
                what: "CONNECT properties",
                version,
            },
        );

        let mut will = Will::new(
            TopicName::new("w").unwrap(),
            BinaryData::new(&b""[..]).unwrap(),
        );
        will.properties = WillProperties::new();
        will.properties.will_delay_interval = Some(5);
        let mut connect = minimal::<&[u8]>(version);
        connect.will = Some(will);
        assert_encode_error(
            &connect.into(),
            version,
            EncodeError::NotInVersion {
                what: "will properties",
                version,
            },
        );
    }
}

/// conformance: v5:§3.1.2.11.10
#[test]
fn v5_auth_data_without_method_is_not_encoded() {
    let mut connect = minimal::<&[u8]>(V5);
    connect.properties.authentication_data = Some(BinaryData::new(&b"x"[..]).unwrap());
    assert_encode_error(&connect.into(), V5, EncodeError::AuthDataWithoutMethod);
}

/// Reason codes without a 3.1.1 return code cannot be sent to a 3.1 or 3.1.1 client.
#[test]
fn v5_only_connack_reason_codes_are_not_encoded_before_v5() {
    for (_, reason) in V5_CONNACK_CODES {
        let has_return_code = RETURN_CODES
            .iter()
            .any(|(_, _, mapped, _)| *mapped == reason);
        for version in [V31, V311] {
            let packet = connack::<&[u8]>(false, reason);
            if has_return_code {
                assert_eq!(packet.encoded_len(version), Ok(4));
            } else {
                assert_encode_error(
                    &packet,
                    version,
                    EncodeError::NotInVersion {
                        what: "this CONNACK reason code",
                        version,
                    },
                );
            }
        }
    }
}

#[test]
fn connack_properties_are_not_encoded_before_v5() {
    for version in [V31, V311] {
        let mut ack = ConnAck::<&[u8]>::new(false, ConnectReasonCode::Success);
        ack.properties = ConnAckProperties::new();
        ack.properties.server_keep_alive = Some(5);
        assert_encode_error(
            &ack.into(),
            version,
            EncodeError::NotInVersion {
                what: "CONNACK properties",
                version,
            },
        );
    }
}

/// MQTT 3.1's CONNACK has no Session Present flag.
#[test]
fn mqtt31_session_present_is_not_encoded() {
    assert_encode_error(
        &connack::<&[u8]>(true, ConnectReasonCode::Success),
        V31,
        EncodeError::NotInVersion {
            what: "session present",
            version: V31,
        },
    );
}

/// conformance: v311:§3.2.2.2, v5:§3.2.2.1.1
#[test]
fn session_present_with_refusal_is_not_encoded() {
    for version in [V311, V5] {
        assert_encode_error(
            &connack::<&[u8]>(true, ConnectReasonCode::NotAuthorized),
            version,
            EncodeError::SessionPresentOnError,
        );
    }
}

/// Encoding into a `&mut [u8]` that is one byte short fails before writing anything; the
/// exact size succeeds.
#[test]
fn connect_and_connack_into_a_too_small_slice_are_refused() {
    let packets: [(ProtocolVersion, Packet<&[u8]>); 4] = [
        (V311, minimal::<&[u8]>(V311).into()),
        (V5, spec_example::<&[u8]>(V5).into()),
        (V311, connack(true, ConnectReasonCode::Success)),
        (V5, connack(false, ConnectReasonCode::Banned)),
    ];
    for (version, packet) in packets {
        assert_short_slice_is_refused(version, &packet);
    }
}
