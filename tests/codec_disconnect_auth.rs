//! DISCONNECT (all versions) and AUTH (MQTT 5.0) byte vectors, written by hand from the layouts
//! of the specs, including the 5.0 short forms.
//!
//! Every positive vector is decoded by both paths (borrowed `&[u8]` and shared `Bytes`) to the
//! exact expected struct and encoded back to exactly the same bytes. Negative vectors assert
//! the exact `DecodeError` and its reason code; encoder refusals the exact `EncodeError`.
//!
//! The full property sets of both packets are in `codec_properties.rs`.
#![cfg(feature = "v5")]

mod common;

use common::{
    Make, V5, V31, V311, assert_decodes_to, assert_encode_error, assert_refused, assert_refused_in,
    assert_short_slice_is_refused, assert_vector, decode_error, hex,
};
use mqtt_sansio::{
    Auth, AuthReasonCode, BinaryData, Buffer, DecodeError, Disconnect, DisconnectReasonCode,
    EncodeError, MqttString, Packet, PacketType, ProtocolVersion, ReasonCode,
};

// ---------------------------------------------------------------------------------------------
// DISCONNECT
// ---------------------------------------------------------------------------------------------

fn disconnect<B: Buffer>(reason: DisconnectReasonCode) -> Packet<B> {
    Disconnect::new(reason).into()
}

/// The DISCONNECT reason codes of 5.0 §3.14.2.1, Table 3-10.
const DISCONNECT_CODES: [(u8, DisconnectReasonCode); 29] = [
    (0x00, DisconnectReasonCode::NormalDisconnection),
    (0x04, DisconnectReasonCode::DisconnectWithWillMessage),
    (0x80, DisconnectReasonCode::UnspecifiedError),
    (0x81, DisconnectReasonCode::MalformedPacket),
    (0x82, DisconnectReasonCode::ProtocolError),
    (0x83, DisconnectReasonCode::ImplementationSpecificError),
    (0x87, DisconnectReasonCode::NotAuthorized),
    (0x89, DisconnectReasonCode::ServerBusy),
    (0x8B, DisconnectReasonCode::ServerShuttingDown),
    (0x8D, DisconnectReasonCode::KeepAliveTimeout),
    (0x8E, DisconnectReasonCode::SessionTakenOver),
    (0x8F, DisconnectReasonCode::TopicFilterInvalid),
    (0x90, DisconnectReasonCode::TopicNameInvalid),
    (0x93, DisconnectReasonCode::ReceiveMaximumExceeded),
    (0x94, DisconnectReasonCode::TopicAliasInvalid),
    (0x95, DisconnectReasonCode::PacketTooLarge),
    (0x96, DisconnectReasonCode::MessageRateTooHigh),
    (0x97, DisconnectReasonCode::QuotaExceeded),
    (0x98, DisconnectReasonCode::AdministrativeAction),
    (0x99, DisconnectReasonCode::PayloadFormatInvalid),
    (0x9A, DisconnectReasonCode::RetainNotSupported),
    (0x9B, DisconnectReasonCode::QoSNotSupported),
    (0x9C, DisconnectReasonCode::UseAnotherServer),
    (0x9D, DisconnectReasonCode::ServerMoved),
    (0x9E, DisconnectReasonCode::SharedSubscriptionsNotSupported),
    (0x9F, DisconnectReasonCode::ConnectionRateExceeded),
    (0xA0, DisconnectReasonCode::MaximumConnectTime),
    (
        0xA1,
        DisconnectReasonCode::SubscriptionIdentifiersNotSupported,
    ),
    (
        0xA2,
        DisconnectReasonCode::WildcardSubscriptionsNotSupported,
    ),
];

/// A 3.1 or 3.1.1 DISCONNECT has no variable header and no payload (3.1.1 §3.14).
/// conformance: v311:§3.14
#[test]
fn mqtt31_and_v311_disconnect_round_trip() {
    let normal = DisconnectReasonCode::NormalDisconnection;
    for version in [V31, V311] {
        assert_vector(
            version,
            &hex("E0 00"),
            disconnect(normal),
            disconnect(normal),
        );
    }
}

/// conformance: v311:§3.14
#[test]
fn v311_disconnect_with_a_body_is_malformed() {
    for (wire, count) in [("E0 01 00", 1), ("E0 02 8D 00", 2)] {
        assert_refused_in(
            &[V31, V311],
            wire,
            DecodeError::TrailingBytes {
                packet: PacketType::Disconnect,
                count,
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// conformance: v311:MQTT-3.14.1-1
#[test]
fn v311_disconnect_reserved_header_flags_are_malformed() {
    for flags in [0x01u8, 0x02, 0x04, 0x08, 0x0F] {
        for version in [V31, V311] {
            assert_refused(
                decode_error(version, &[0xE0 | flags, 0x00]),
                DecodeError::InvalidFixedHeaderFlags {
                    packet: PacketType::Disconnect,
                    flags,
                },
                ReasonCode::MalformedPacket,
            );
        }
    }
}

/// conformance: v5:MQTT-3.14.1-1
#[test]
fn v5_disconnect_reserved_header_flags_are_malformed() {
    for flags in [0x01u8, 0x02, 0x04, 0x08, 0x0F] {
        assert_refused(
            decode_error(V5, &[0xE0 | flags, 0x01, 0x8D]),
            DecodeError::InvalidFixedHeaderFlags {
                packet: PacketType::Disconnect,
                flags,
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// Remaining Length 0: Normal disconnection without properties (5.0 §3.14.2.1).
/// conformance: v5:§3.14.2.1
#[test]
fn v5_disconnect_remaining_length_0_is_normal_disconnection() {
    let wire = hex("E0 00");
    let normal = DisconnectReasonCode::NormalDisconnection;
    assert_vector(V5, &wire, disconnect(normal), disconnect(normal));
}

/// Remaining Length 1: a reason code and no Property Length (5.0 §3.14.2.2.1: "If the
/// Remaining Length is less than 2, a value of 0 is used"). Every code but 0x00 is written
/// that way; Normal disconnection uses the empty form.
/// conformance: v5:§3.14.2.2.1, v5:MQTT-3.14.2-1
#[test]
fn v5_disconnect_remaining_length_1_carries_the_reason_code() {
    for (byte, reason) in DISCONNECT_CODES.into_iter().skip(1) {
        assert_eq!(reason.as_u8(), byte);
        let wire = [0xE0, 0x01, byte];
        assert_vector(V5, &wire, disconnect(reason), disconnect(reason));
    }
    // 0x00 written out is accepted and encodes back in the empty form.
    let normal = DisconnectReasonCode::NormalDisconnection;
    assert_decodes_to(
        V5,
        &hex("E0 01 00"),
        disconnect(normal),
        disconnect(normal),
        &hex("E0 00"),
    );
}

/// An explicit Property Length of 0 is accepted too; the encoder writes the shortest form.
/// conformance: v5:§3.14.2.2.1
#[test]
fn v5_disconnect_with_empty_property_block_is_accepted() {
    let normal = DisconnectReasonCode::NormalDisconnection;
    assert_decodes_to(
        V5,
        &hex("E0 02 00 00"),
        disconnect(normal),
        disconnect(normal),
        &hex("E0 00"),
    );
    let will = DisconnectReasonCode::DisconnectWithWillMessage;
    assert_decodes_to(
        V5,
        &hex("E0 02 04 00"),
        disconnect(will),
        disconnect(will),
        &hex("E0 01 04"),
    );
}

/// With properties the reason code is written even when it is 0x00.
/// conformance: v5:§3.14.2.2
#[test]
fn v5_disconnect_with_reason_string_round_trips() {
    let wire = hex("E0 08 00 06 1F 00 03 62 79 65");
    fn expected<B: Make>() -> Packet<B> {
        let mut packet = Disconnect::new(DisconnectReasonCode::NormalDisconnection);
        packet.properties.reason_string = Some(B::string("bye"));
        packet.into()
    }
    assert_vector(V5, &wire, expected(), expected());
}

/// A byte outside Table 3-10 is not a DISCONNECT reason code.
/// conformance: v5:MQTT-3.14.2-1
#[test]
fn v5_disconnect_unknown_reason_codes_are_malformed() {
    for code in 0..=0xFFu8 {
        if DISCONNECT_CODES.iter().any(|(byte, _)| *byte == code) {
            continue;
        }
        for wire in [vec![0xE0, 0x01, code], vec![0xE0, 0x02, code, 0x00]] {
            assert_refused(
                decode_error(V5, &wire),
                DecodeError::InvalidReasonCode {
                    packet: PacketType::Disconnect,
                    code,
                },
                ReasonCode::MalformedPacket,
            );
        }
    }
}

/// The Property Length must fit in the packet, and nothing may follow the properties.
/// conformance: v5:§3.14.2.2.1
#[test]
fn v5_disconnect_properties_must_fit_the_remaining_length() {
    for (wire, error) in [
        (
            "E0 02 00 05",
            DecodeError::UnexpectedEnd {
                field: "properties",
            },
        ),
        (
            "E0 05 00 03 1F 00 03",
            DecodeError::UnexpectedEnd {
                field: "Reason String",
            },
        ),
        (
            "E0 03 00 00 00",
            DecodeError::TrailingBytes {
                packet: PacketType::Disconnect,
                count: 1,
            },
        ),
    ] {
        assert_refused_in(&[V5], wire, error, ReasonCode::MalformedPacket);
    }
}

/// A 3.1.1 DISCONNECT carries no reason code or properties; nothing is silently dropped.
#[test]
fn disconnect_reason_code_and_properties_are_not_encoded_before_v5() {
    for version in [V31, V311] {
        assert_encode_error(
            &disconnect::<&[u8]>(DisconnectReasonCode::ServerShuttingDown),
            version,
            EncodeError::NotInVersion {
                what: "DISCONNECT reason code",
                version,
            },
        );
        let mut packet = Disconnect::<&[u8]>::new(DisconnectReasonCode::NormalDisconnection);
        packet.properties.session_expiry_interval = Some(0);
        assert_encode_error(
            &packet.into(),
            version,
            EncodeError::NotInVersion {
                what: "DISCONNECT properties",
                version,
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// AUTH
// ---------------------------------------------------------------------------------------------

/// An AUTH with Authentication Method "SCRAM-SHA-1" and Authentication Data 01 02 03 04.
fn scram<B: Make>(reason: AuthReasonCode) -> Packet<B> {
    let mut auth = Auth::new(reason);
    auth.properties.authentication_method = Some(B::string("SCRAM-SHA-1"));
    auth.properties.authentication_data = Some(B::binary(b"\x01\x02\x03\x04"));
    auth.into()
}

/// The SCRAM AUTH's Property Length and properties: 0x15 "SCRAM-SHA-1", 0x16 01 02 03 04.
const SCRAM_PROPERTIES: &str =
    "15  15 00 0B 53 43 52 41 4D 2D 53 48 41 2D 31  16 00 04 01 02 03 04";

/// Remaining Length 0: Success without properties (5.0 §3.15.2.1).
/// conformance: v5:§3.15.2.1
#[test]
fn v5_auth_remaining_length_0_is_success() {
    let wire = hex("F0 00");
    let success = AuthReasonCode::Success;
    assert_vector(
        V5,
        &wire,
        Auth::new(success).into(),
        Auth::new(success).into(),
    );
}

/// Each AUTH reason code with an Authentication Method and Data.
/// conformance: v5:MQTT-3.15.2-1, v5:§3.15.2.2.2, v5:§3.15.2.2.3
#[test]
fn v5_auth_reason_codes_round_trip() {
    for (byte, reason) in [
        (0x00u8, AuthReasonCode::Success),
        (0x18, AuthReasonCode::ContinueAuthentication),
        (0x19, AuthReasonCode::ReAuthenticate),
    ] {
        assert_eq!(reason.as_u8(), byte);
        let wire = hex(&format!("F0 17 {byte:02X} {SCRAM_PROPERTIES}"));
        assert_vector(V5, &wire, scram(reason), scram(reason));
    }
}

/// A byte other than 0x00, 0x18 and 0x19 is not an AUTH reason code.
/// conformance: v5:MQTT-3.15.2-1
#[test]
fn v5_auth_unknown_reason_codes_are_malformed() {
    for code in 0..=0xFFu8 {
        if matches!(code, 0x00 | 0x18 | 0x19) {
            continue;
        }
        let wire = hex(&format!("F0 17 {code:02X} {SCRAM_PROPERTIES}"));
        assert_refused(
            decode_error(V5, &wire),
            DecodeError::InvalidReasonCode {
                packet: PacketType::Auth,
                code,
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// Only the Remaining Length 0 form may leave the Authentication Method out (5.0 §3.15.2.2.2:
/// "It is a Protocol Error to omit the Authentication Method").
/// conformance: v5:§3.15.2.2.2
#[test]
fn v5_auth_without_method_in_the_long_form_is_a_protocol_error() {
    for wire in [
        "F0 02 00 00",
        "F0 02 18 00",
        "F0 02 19 00",
        "F0 06 18 04 1F 00 01 78",          // Reason String only
        "F0 07 18 05 16 00 02 01 02",       // Authentication Data only
        "F0 09 18 07 26 00 01 6B 00 01 76", // User Property only
    ] {
        assert_refused_in(
            &[V5],
            wire,
            DecodeError::MissingAuthMethod,
            ReasonCode::ProtocolError,
        );
    }
}

/// A reason code alone, without a Property Length, is not one of AUTH's forms.
/// conformance: v5:§3.15.2.1
#[test]
fn v5_auth_remaining_length_1_is_malformed() {
    for code in [0x00u8, 0x18, 0x19] {
        assert_refused(
            decode_error(V5, &[0xF0, 0x01, code]),
            DecodeError::UnexpectedEnd {
                field: "property length",
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// The properties must fit the Remaining Length, and nothing may follow them.
/// conformance: v5:§3.15.2.2.1
#[test]
fn v5_auth_properties_must_fit_the_remaining_length() {
    for (wire, error) in [
        (
            "F0 05 18 08 15 00 01",
            DecodeError::UnexpectedEnd {
                field: "properties",
            },
        ),
        (
            "F0 06 18 04 15 00 05 6D",
            DecodeError::UnexpectedEnd {
                field: "Authentication Method",
            },
        ),
        (
            "F0 07 18 04 15 00 01 6D 00",
            DecodeError::TrailingBytes {
                packet: PacketType::Auth,
                count: 1,
            },
        ),
    ] {
        assert_refused_in(&[V5], wire, error, ReasonCode::MalformedPacket);
    }
}

/// The Authentication Method is a UTF-8 Encoded String.
/// conformance: v5:§3.15.2.2.2, v5:MQTT-1.5.4-1, v5:MQTT-1.5.4-2
#[test]
fn v5_auth_method_must_be_well_formed_utf8() {
    let field = "Authentication Method";
    for (wire, error) in [
        (
            "F0 06 18 04 15 00 01 FF",
            DecodeError::InvalidUtf8 { field },
        ),
        (
            "F0 06 18 04 15 00 01 00",
            DecodeError::NulCharacter { field },
        ),
    ] {
        assert_refused_in(&[V5], wire, error, ReasonCode::MalformedPacket);
    }
}

/// AUTH is packet type 15, reserved before 5.0 (3.1.1 §2.2.1, Table 2.1).
/// conformance: v311:§2.2.1
#[test]
fn auth_packet_type_is_reserved_before_v5() {
    for wire in [
        "F0 00",
        "F0 17 18 15 15 00 0B 53 43 52 41 4D 2D 53 48 41 2D 31 16 00 04 01 02 03 04",
    ] {
        assert_refused_in(
            &[V31, V311],
            wire,
            DecodeError::ReservedPacketType(15),
            ReasonCode::MalformedPacket,
        );
    }
}

/// conformance: v5:§3.15.1
#[test]
fn v5_auth_reserved_header_flags_are_malformed() {
    for flags in [0x01u8, 0x02, 0x04, 0x08, 0x0F] {
        assert_refused(
            decode_error(V5, &[0xF0 | flags, 0x00]),
            DecodeError::InvalidFixedHeaderFlags {
                packet: PacketType::Auth,
                flags,
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// AUTH exists only in 5.0.
#[test]
fn auth_is_not_encoded_before_v5() {
    for version in [V31, V311] {
        assert_encode_error(
            &Auth::<&[u8]>::new(AuthReasonCode::Success).into(),
            version,
            EncodeError::NotInVersion {
                what: "AUTH",
                version,
            },
        );
        assert_encode_error(
            &scram::<&[u8]>(AuthReasonCode::ContinueAuthentication),
            version,
            EncodeError::NotInVersion {
                what: "AUTH",
                version,
            },
        );
    }
}

/// The encoder refuses the AUTH packets the decoder refuses for lack of a method.
/// conformance: v5:§3.15.2.2.2
#[test]
fn v5_auth_without_method_is_not_encoded() {
    assert_encode_error(
        &Auth::<&[u8]>::new(AuthReasonCode::ContinueAuthentication).into(),
        V5,
        EncodeError::MissingAuthMethod,
    );
    assert_encode_error(
        &Auth::<&[u8]>::new(AuthReasonCode::ReAuthenticate).into(),
        V5,
        EncodeError::MissingAuthMethod,
    );
    let mut auth = Auth::<&[u8]>::new(AuthReasonCode::Success);
    auth.properties.reason_string = Some(MqttString::new("why").unwrap());
    assert_encode_error(&auth.into(), V5, EncodeError::MissingAuthMethod);
    let mut auth = Auth::<&[u8]>::new(AuthReasonCode::Success);
    auth.properties.authentication_data = Some(BinaryData::new(&b"x"[..]).unwrap());
    assert_encode_error(&auth.into(), V5, EncodeError::MissingAuthMethod);
}

/// Encoding into a `&mut [u8]` one byte short fails before writing anything; the exact size
/// succeeds.
#[test]
fn disconnect_and_auth_into_a_too_small_slice_are_refused() {
    let packets: [(ProtocolVersion, Packet<&[u8]>); 4] = [
        (V311, disconnect(DisconnectReasonCode::NormalDisconnection)),
        (V5, disconnect(DisconnectReasonCode::KeepAliveTimeout)),
        (V5, Auth::new(AuthReasonCode::Success).into()),
        (V5, scram(AuthReasonCode::ContinueAuthentication)),
    ];
    for (version, packet) in packets {
        assert_short_slice_is_refused(version, &packet);
    }
}
