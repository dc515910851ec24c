//! MQTT 5.0 properties (§2.2.2): the allowed set of every packet, full property sets written
//! by hand, duplicates, unknown identifiers, value ranges, UTF-8 rules, the order of User
//! Properties and Subscription Identifiers.
//!
//! The allowed-set tests build one packet per (packet, property) pair from the table of
//! §2.2.2.2 and check that the decoder accepts exactly the listed pairs, and that an accepted
//! packet encodes back to the same bytes.
#![cfg(feature = "v5")]

mod common;

use core::num::{NonZeroU16, NonZeroU32};

use common::{
    LIMITS, Make, V5, assert_refused, assert_refused_in, assert_vector, decode_error, decode_one,
    decode_one_bytes, encode, hex, pid,
};
use mqtt_sansio::{
    Auth, AuthReasonCode, ConnAck, Connect, ConnectReasonCode, DecodeError, Delivery, Disconnect,
    DisconnectReasonCode, MaximumQos, MessageProperties, MqttString, Packet, PayloadFormat,
    PropertyId, PubAck, PubAckReasonCode, PubComp, PubRec, PubRel, PubRelReasonCode, Publish, QoS,
    ReasonCode, SubAck, SubAckReasonCode, Subscribe, Subscription, SubscriptionId, TopicError,
    UnsubAck, UnsubAckReasonCode, Unsubscribe, UserProperty, Will,
};

/// Decodes `wire` by both paths and checks both re-encode to `canonical` (the encoder writes
/// single-valued properties first, in a fixed order, then the repeatable ones).
fn assert_reencodes_to(wire: &[u8], canonical: &[u8]) {
    let borrowed = decode_one(V5, wire).unwrap_or_else(|e| panic!("{e} in {wire:02x?}"));
    assert_eq!(
        encode(&borrowed, V5),
        canonical,
        "borrowed re-encode of {wire:02x?}"
    );
    assert_eq!(
        encode(&decode_one_bytes(V5, wire), V5),
        canonical,
        "Bytes re-encode of {wire:02x?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The table of §2.2.2.2
// ---------------------------------------------------------------------------------------------

/// One place a property block appears: a 5.0 packet around an empty slot.
struct Context {
    /// The name the decoder's errors use.
    name: &'static str,
    /// The first byte of the fixed header.
    first: u8,
    /// The bytes before the Property Length.
    before: &'static str,
    /// The bytes after the properties.
    after: &'static str,
    /// The identifiers §2.2.2.2 lists for this packet, in the table's order.
    allowed: &'static [u8],
    /// The identifiers that may appear more than once here.
    repeatable: &'static [u8],
}

const CONNECT: Context = Context {
    name: "CONNECT",
    first: 0x10,
    before: "00 04 4D 51 54 54 05 02 00 00",
    after: "00 01 61",
    allowed: &[0x11, 0x15, 0x16, 0x17, 0x19, 0x21, 0x22, 0x26, 0x27],
    repeatable: &[0x26],
};

/// A CONNECT with the Will Flag, an empty CONNECT property block, Will Topic "t" and an empty
/// Will Payload; the slot is the Will Properties.
const WILL: Context = Context {
    name: "will properties",
    first: 0x10,
    before: "00 04 4D 51 54 54 05 06 00 00 00 00 01 61",
    after: "00 01 74 00 00",
    allowed: &[0x01, 0x02, 0x03, 0x08, 0x09, 0x18, 0x26],
    repeatable: &[0x26],
};

const CONNACK: Context = Context {
    name: "CONNACK",
    first: 0x20,
    before: "00 00",
    after: "",
    allowed: &[
        0x11, 0x12, 0x13, 0x15, 0x16, 0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27, 0x28,
        0x29, 0x2A,
    ],
    repeatable: &[0x26],
};

/// A QoS 0 PUBLISH to "t" with payload "p".
const PUBLISH: Context = Context {
    name: "PUBLISH",
    first: 0x30,
    before: "00 01 74",
    after: "70",
    allowed: &[0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x23, 0x26],
    repeatable: &[0x0B, 0x26],
};

const PUBACK: Context = Context {
    name: "PUBACK",
    first: 0x40,
    before: "00 01 00",
    after: "",
    allowed: &[0x1F, 0x26],
    repeatable: &[0x26],
};

const PUBREC: Context = Context {
    name: "PUBREC",
    first: 0x50,
    ..PUBACK
};
const PUBREL: Context = Context {
    name: "PUBREL",
    first: 0x62,
    ..PUBACK
};
const PUBCOMP: Context = Context {
    name: "PUBCOMP",
    first: 0x70,
    ..PUBACK
};

const SUBSCRIBE: Context = Context {
    name: "SUBSCRIBE",
    first: 0x82,
    before: "00 01",
    after: "00 01 74 00",
    allowed: &[0x0B, 0x26],
    repeatable: &[0x26],
};

const SUBACK: Context = Context {
    name: "SUBACK",
    first: 0x90,
    before: "00 01",
    after: "00",
    allowed: &[0x1F, 0x26],
    repeatable: &[0x26],
};

const UNSUBSCRIBE: Context = Context {
    name: "UNSUBSCRIBE",
    first: 0xA2,
    before: "00 01",
    after: "00 01 74",
    allowed: &[0x26],
    repeatable: &[0x26],
};

const UNSUBACK: Context = Context {
    name: "UNSUBACK",
    first: 0xB0,
    before: "00 01",
    after: "00",
    allowed: &[0x1F, 0x26],
    repeatable: &[0x26],
};

/// A DISCONNECT with reason code 0x00.
const DISCONNECT: Context = Context {
    name: "DISCONNECT",
    first: 0xE0,
    before: "00",
    after: "",
    allowed: &[0x11, 0x1C, 0x1F, 0x26],
    repeatable: &[0x26],
};

/// An AUTH with reason code 0x18 (Continue authentication).
const AUTH: Context = Context {
    name: "AUTH",
    first: 0xF0,
    before: "18",
    after: "",
    allowed: &[0x15, 0x16, 0x1F, 0x26],
    repeatable: &[0x26],
};

const CONTEXTS: [&Context; 14] = [
    &CONNECT,
    &WILL,
    &CONNACK,
    &PUBLISH,
    &PUBACK,
    &PUBREC,
    &PUBREL,
    &PUBCOMP,
    &SUBSCRIBE,
    &SUBACK,
    &UNSUBSCRIBE,
    &UNSUBACK,
    &DISCONNECT,
    &AUTH,
];

/// Every property of §2.2.2.2 with a valid sample value (the bytes after the identifier).
const PROPERTIES: [(u8, PropertyId, &str); 27] = [
    (0x01, PropertyId::PayloadFormatIndicator, "01"),
    (0x02, PropertyId::MessageExpiryInterval, "00 00 00 0A"),
    (0x03, PropertyId::ContentType, "00 01 74"),
    (0x08, PropertyId::ResponseTopic, "00 01 72"),
    (0x09, PropertyId::CorrelationData, "00 01 63"),
    (0x0B, PropertyId::SubscriptionIdentifier, "01"),
    (0x11, PropertyId::SessionExpiryInterval, "00 00 00 3C"),
    (0x12, PropertyId::AssignedClientIdentifier, "00 01 61"),
    (0x13, PropertyId::ServerKeepAlive, "00 1E"),
    (0x15, PropertyId::AuthenticationMethod, "00 01 6D"),
    (0x16, PropertyId::AuthenticationData, "00 01 64"),
    (0x17, PropertyId::RequestProblemInformation, "01"),
    (0x18, PropertyId::WillDelayInterval, "00 00 00 05"),
    (0x19, PropertyId::RequestResponseInformation, "01"),
    (0x1A, PropertyId::ResponseInformation, "00 01 69"),
    (0x1C, PropertyId::ServerReference, "00 01 73"),
    (0x1F, PropertyId::ReasonString, "00 01 77"),
    (0x21, PropertyId::ReceiveMaximum, "00 0A"),
    (0x22, PropertyId::TopicAliasMaximum, "00 05"),
    (0x23, PropertyId::TopicAlias, "00 01"),
    (0x24, PropertyId::MaximumQos, "01"),
    (0x25, PropertyId::RetainAvailable, "01"),
    (0x26, PropertyId::UserProperty, "00 01 6B 00 01 76"),
    (0x27, PropertyId::MaximumPacketSize, "00 00 10 00"),
    (0x28, PropertyId::WildcardSubscriptionAvailable, "01"),
    (0x29, PropertyId::SubscriptionIdentifierAvailable, "01"),
    (0x2A, PropertyId::SharedSubscriptionAvailable, "01"),
];

/// The Authentication Method "m", which AUTH always needs and CONNECT needs beside
/// Authentication Data.
const METHOD: &str = "15 00 01 6D";

/// The packet of `context` with `properties` in its slot.
fn packet_with(context: &Context, properties: &[u8]) -> Vec<u8> {
    let mut body = hex(context.before);
    body.push(u8::try_from(properties.len()).expect("short block"));
    body.extend_from_slice(properties);
    body.extend(hex(context.after));
    assert!(body.len() < 0x80, "one-byte Remaining Length");
    let mut wire = vec![context.first, u8::try_from(body.len()).unwrap()];
    wire.extend(body);
    wire
}

/// The property block for `id` with `value`, `count` times, after the Authentication Method
/// where the packet needs one.
fn block(context: &Context, id: u8, value: &str, count: usize) -> Vec<u8> {
    let needs_method = match context.name {
        "AUTH" => id != 0x15,
        "CONNECT" => id == 0x16,
        _ => false,
    };
    let mut block = if needs_method {
        hex(METHOD)
    } else {
        Vec::new()
    };
    for _ in 0..count {
        block.push(id);
        block.extend(hex(value));
    }
    block
}

/// Each packet accepts exactly the properties §2.2.2.2 lists for it; any other is a Malformed
/// Packet. Every accepted single-property packet encodes back to its bytes.
/// conformance: v5:§2.2.2.2
#[test]
fn each_packet_accepts_exactly_its_properties() {
    for (id, property, _) in PROPERTIES {
        assert_eq!(property.as_u8(), id);
        assert_eq!(PropertyId::from_u32(u32::from(id)), Some(property));
    }
    for context in CONTEXTS {
        for (id, property, value) in PROPERTIES {
            let wire = packet_with(context, &block(context, id, value, 1));
            if context.allowed.contains(&id) {
                assert_reencodes_to(&wire, &wire);
            } else {
                assert_refused(
                    decode_error(V5, &wire),
                    DecodeError::PropertyNotAllowed {
                        property,
                        packet: context.name,
                    },
                    ReasonCode::MalformedPacket,
                );
            }
        }
    }
}

/// The examples the brief names: Topic Alias in CONNECT, Will Delay Interval in CONNECT's own
/// properties, Session Expiry Interval in the Will Properties, Subscription Identifier in
/// CONNACK.
/// conformance: v5:§2.2.2.2, v5:§3.1.2.11, v5:§3.1.3.2
#[test]
fn topic_alias_in_connect_is_malformed() {
    let connect = hex("10 11 00 04 4D 51 54 54 05 02 00 00 03 23 00 01 00 01 61");
    assert_refused(
        decode_error(V5, &connect),
        DecodeError::PropertyNotAllowed {
            property: PropertyId::TopicAlias,
            packet: "CONNECT",
        },
        ReasonCode::MalformedPacket,
    );
    assert_eq!(
        Connect::decode(&connect, &LIMITS),
        Err(DecodeError::PropertyNotAllowed {
            property: PropertyId::TopicAlias,
            packet: "CONNECT"
        })
    );
    let will_delay_in_connect =
        hex("10 13 00 04 4D 51 54 54 05 02 00 00 05 18 00 00 00 05 00 01 61");
    assert_eq!(
        decode_error(V5, &will_delay_in_connect),
        DecodeError::PropertyNotAllowed {
            property: PropertyId::WillDelayInterval,
            packet: "CONNECT"
        }
    );
    let session_expiry_in_will =
        hex("10 18 00 04 4D 51 54 54 05 06 00 00 00 00 01 61 05 11 00 00 00 05 00 01 74 00 00");
    assert_eq!(
        decode_error(V5, &session_expiry_in_will),
        DecodeError::PropertyNotAllowed {
            property: PropertyId::SessionExpiryInterval,
            packet: "will properties"
        }
    );
}

/// CONNECT: "It is a Protocol Error to include Authentication Data if there is no
/// Authentication Method" (§3.1.2.11.10).
/// conformance: v5:§3.1.2.11.10
#[test]
fn connect_auth_data_without_method_is_a_protocol_error() {
    let wire = packet_with(&CONNECT, &hex("16 00 01 64"));
    assert_refused(
        decode_error(V5, &wire),
        DecodeError::AuthDataWithoutMethod,
        ReasonCode::ProtocolError,
    );
    assert_eq!(
        Connect::decode(&wire, &LIMITS),
        Err(DecodeError::AuthDataWithoutMethod)
    );
    // The method alone, or with the data in either order, is fine.
    assert_reencodes_to(
        &packet_with(&CONNECT, &hex("15 00 01 6D")),
        &packet_with(&CONNECT, &hex("15 00 01 6D")),
    );
    assert_reencodes_to(
        &packet_with(&CONNECT, &hex("16 00 01 64 15 00 01 6D")),
        &packet_with(&CONNECT, &hex("15 00 01 6D 16 00 01 64")),
    );
}

/// A single-valued property given twice is a Protocol Error ("It is a Protocol Error to
/// include ... more than once", in the section of each property); User Property, and
/// Subscription Identifier in PUBLISH, may repeat.
/// conformance: v5:§2.2.2.2, v5:§3.1.2.11, v5:§3.2.2.3, v5:§3.3.2.3, v5:§3.14.2.2, v5:§3.15.2.2
#[test]
fn single_valued_properties_may_not_repeat() {
    for context in CONTEXTS {
        for (id, property, value) in PROPERTIES {
            if !context.allowed.contains(&id) {
                continue;
            }
            let wire = packet_with(context, &block(context, id, value, 2));
            if context.repeatable.contains(&id) {
                assert_reencodes_to(&wire, &wire);
            } else {
                assert_refused(
                    decode_error(V5, &wire),
                    DecodeError::DuplicateProperty(property),
                    ReasonCode::ProtocolError,
                );
            }
        }
    }
}

/// Identifiers that 5.0 does not define are malformed in every packet, including one that
/// takes two bytes as a Variable Byte Integer.
/// conformance: v5:§2.2.2.2
#[test]
fn unknown_property_identifiers_are_malformed() {
    let defined: Vec<u8> = PROPERTIES.iter().map(|(id, _, _)| *id).collect();
    for context in CONTEXTS {
        for id in 0..0x80u8 {
            if defined.contains(&id) {
                continue;
            }
            let wire = packet_with(context, &[id, 0x00]);
            assert_refused(
                decode_error(V5, &wire),
                DecodeError::UnknownProperty(u32::from(id)),
                ReasonCode::MalformedPacket,
            );
        }
        let wire = packet_with(context, &[0x80, 0x01, 0x00]);
        assert_refused(
            decode_error(V5, &wire),
            DecodeError::UnknownProperty(0x80),
            ReasonCode::MalformedPacket,
        );
        // Property 0x01 written in two bytes is not the shortest form.
        let wire = packet_with(context, &[0x81, 0x00, 0x01]);
        assert_refused(
            decode_error(V5, &wire),
            DecodeError::VarIntNotMinimal {
                field: "property identifier",
            },
            ReasonCode::MalformedPacket,
        );
    }
}

/// A property value may not run past the Property Length, nor the Property Length past the
/// packet.
/// conformance: v5:§2.2.2.1
#[test]
fn property_block_bounds_every_value() {
    for (wire, error) in [
        // Property Length 3 around a Session Expiry Interval that needs 5 bytes; the packet
        // goes on with the Client Identifier, which must not be read as the rest of the value.
        (
            "10 11 00 04 4D 51 54 54 05 02 00 00 03 11 00 00 00 01 61",
            DecodeError::UnexpectedEnd {
                field: "Session Expiry Interval",
            },
        ),
        // Property Length 9 in a CONNACK that has 2 bytes left.
        (
            "20 05 00 00 09 24 01",
            DecodeError::UnexpectedEnd {
                field: "properties",
            },
        ),
        // A User Property whose value is cut off by the Property Length.
        (
            "20 0A 00 00 07 26 00 01 6B 00 02 76 00",
            DecodeError::UnexpectedEnd {
                field: "user property value",
            },
        ),
        // A Property Length that is not a valid Variable Byte Integer.
        (
            "20 04 00 00 80 00",
            DecodeError::VarIntNotMinimal {
                field: "property length",
            },
        ),
    ] {
        assert_refused_in(&[V5], wire, error, ReasonCode::MalformedPacket);
    }
}

// ---------------------------------------------------------------------------------------------
// Values out of range
// ---------------------------------------------------------------------------------------------

/// conformance: v5:§3.1.2.11.3
#[test]
fn connect_receive_maximum_0_is_a_protocol_error() {
    let wire = packet_with(&CONNECT, &hex("21 00 00"));
    assert_refused(
        decode_error(V5, &wire),
        DecodeError::InvalidPropertyValue(PropertyId::ReceiveMaximum),
        ReasonCode::ProtocolError,
    );
    assert_reencodes_to(
        &packet_with(&CONNECT, &hex("21 00 01")),
        &packet_with(&CONNECT, &hex("21 00 01")),
    );
    assert_reencodes_to(
        &packet_with(&CONNECT, &hex("21 FF FF")),
        &packet_with(&CONNECT, &hex("21 FF FF")),
    );
}

/// conformance: v5:§3.1.2.11.4
#[test]
fn connect_maximum_packet_size_0_is_a_protocol_error() {
    let wire = packet_with(&CONNECT, &hex("27 00 00 00 00"));
    assert_refused(
        decode_error(V5, &wire),
        DecodeError::InvalidPropertyValue(PropertyId::MaximumPacketSize),
        ReasonCode::ProtocolError,
    );
    for value in ["00 00 00 01", "FF FF FF FF"] {
        let wire = packet_with(&CONNECT, &hex(&format!("27 {value}")));
        assert_reencodes_to(&wire, &wire);
    }
}

/// Request Response Information and Request Problem Information are 0 or 1.
/// conformance: v5:§3.1.2.11.6, v5:§3.1.2.11.7
#[test]
fn connect_request_flags_other_than_0_or_1_are_protocol_errors() {
    for (id, property) in [
        (0x17u8, PropertyId::RequestProblemInformation),
        (0x19, PropertyId::RequestResponseInformation),
    ] {
        for value in [0x02u8, 0x80, 0xFF] {
            assert_refused(
                decode_error(V5, &packet_with(&CONNECT, &[id, value])),
                DecodeError::InvalidPropertyValue(property),
                ReasonCode::ProtocolError,
            );
        }
        for value in [0x00u8, 0x01] {
            let wire = packet_with(&CONNECT, &[id, value]);
            assert_reencodes_to(&wire, &wire);
        }
    }
}

/// The Payload Format Indicator is 0 or 1, in the Will Properties and in PUBLISH.
/// conformance: v5:§3.1.3.2.3, v5:§3.3.2.3.2
#[test]
fn payload_format_indicator_2_is_a_protocol_error() {
    for context in [&WILL, &PUBLISH] {
        assert_refused(
            decode_error(V5, &packet_with(context, &hex("01 02"))),
            DecodeError::InvalidPropertyValue(PropertyId::PayloadFormatIndicator),
            ReasonCode::ProtocolError,
        );
        for value in ["01 00", "01 01"] {
            let wire = packet_with(context, &hex(value));
            assert_reencodes_to(&wire, &wire);
        }
    }
}

/// CONNACK's limits: Receive Maximum and Maximum Packet Size are not 0, Maximum QoS is 0 or
/// 1, and the availability flags are 0 or 1.
/// conformance: v5:§3.2.2.3.3, v5:§3.2.2.3.4, v5:§3.2.2.3.5, v5:§3.2.2.3.6, v5:§3.2.2.3.11,
/// v5:§3.2.2.3.12, v5:§3.2.2.3.13
#[test]
fn connack_values_out_of_range_are_protocol_errors() {
    for (block, property) in [
        ("21 00 00", PropertyId::ReceiveMaximum),
        ("27 00 00 00 00", PropertyId::MaximumPacketSize),
        ("24 02", PropertyId::MaximumQos),
        ("24 FF", PropertyId::MaximumQos),
        ("25 02", PropertyId::RetainAvailable),
        ("28 02", PropertyId::WildcardSubscriptionAvailable),
        ("29 02", PropertyId::SubscriptionIdentifierAvailable),
        ("2A 02", PropertyId::SharedSubscriptionAvailable),
    ] {
        assert_refused(
            decode_error(V5, &packet_with(&CONNACK, &hex(block))),
            DecodeError::InvalidPropertyValue(property),
            ReasonCode::ProtocolError,
        );
    }
    for block in [
        "24 00", "24 01", "25 00", "28 00", "29 00", "2A 00", "22 00 00", "13 00 00",
    ] {
        let wire = packet_with(&CONNACK, &hex(block));
        assert_reencodes_to(&wire, &wire);
    }
}

/// A Topic Alias of 0 is refused with its own reason code, 0x94.
/// conformance: v5:§3.3.2.3.4
#[test]
fn publish_topic_alias_0_is_topic_alias_invalid() {
    assert_refused(
        decode_error(V5, &packet_with(&PUBLISH, &hex("23 00 00"))),
        DecodeError::InvalidPropertyValue(PropertyId::TopicAlias),
        ReasonCode::TopicAliasInvalid,
    );
}

// ---------------------------------------------------------------------------------------------
// UTF-8 rules in properties
// ---------------------------------------------------------------------------------------------

/// Both strings of a User Property follow the UTF-8 string rules, in every packet.
/// conformance: v5:MQTT-1.5.7-1
#[test]
fn user_property_name_and_value_must_be_well_formed_utf8() {
    for context in CONTEXTS {
        for (block, error) in [
            (
                "26 00 01 FF 00 01 76",
                DecodeError::InvalidUtf8 {
                    field: "user property name",
                },
            ),
            (
                "26 00 01 00 00 01 76",
                DecodeError::NulCharacter {
                    field: "user property name",
                },
            ),
            (
                "26 00 01 6B 00 01 FF",
                DecodeError::InvalidUtf8 {
                    field: "user property value",
                },
            ),
            (
                "26 00 01 6B 00 02 76 00",
                DecodeError::NulCharacter {
                    field: "user property value",
                },
            ),
            (
                "26 00 02 C0 AF 00 01 76",
                DecodeError::InvalidUtf8 {
                    field: "user property name",
                },
            ),
            (
                "26 00 01 6B 00 03 ED A0 80",
                DecodeError::InvalidUtf8 {
                    field: "user property value",
                },
            ),
        ] {
            let mut properties = if context.name == "AUTH" {
                hex(METHOD)
            } else {
                Vec::new()
            };
            properties.extend(hex(block));
            assert_refused(
                decode_error(V5, &packet_with(context, &properties)),
                error,
                ReasonCode::MalformedPacket,
            );
        }
    }
}

/// Empty names and values are well-formed strings; the same name may appear twice.
/// conformance: v5:§3.1.2.11.8
#[test]
fn user_property_may_be_empty_and_repeat_its_name() {
    let wire = packet_with(
        &CONNECT,
        &hex("26 00 00 00 00 26 00 01 6B 00 00 26 00 01 6B 00 01 76"),
    );
    let Packet::Connect(connect) = decode_one(V5, &wire).unwrap() else {
        panic!("a CONNECT");
    };
    let pairs: Vec<(&str, &str)> = connect
        .properties
        .user_properties
        .iter()
        .map(|p| (p.name.into_inner(), p.value.into_inner()))
        .collect();
    assert_eq!(pairs, [("", ""), ("k", ""), ("k", "v")]);
    assert_reencodes_to(&wire, &wire);
}

/// Every UTF-8 string property follows the string rules.
/// conformance: v5:MQTT-1.5.4-1, v5:MQTT-1.5.4-2, v5:§2.2.2.2
#[test]
fn string_properties_must_be_well_formed_utf8() {
    for (context, id, property) in [
        (&PUBLISH, 0x03u8, PropertyId::ContentType),
        (&WILL, 0x03, PropertyId::ContentType),
        (&PUBLISH, 0x08, PropertyId::ResponseTopic),
        (&WILL, 0x08, PropertyId::ResponseTopic),
        (&CONNACK, 0x12, PropertyId::AssignedClientIdentifier),
        (&CONNECT, 0x15, PropertyId::AuthenticationMethod),
        (&CONNACK, 0x1A, PropertyId::ResponseInformation),
        (&DISCONNECT, 0x1C, PropertyId::ServerReference),
        (&PUBACK, 0x1F, PropertyId::ReasonString),
    ] {
        let field = property.name();
        assert_refused(
            decode_error(V5, &packet_with(context, &[id, 0x00, 0x01, 0xFF])),
            DecodeError::InvalidUtf8 { field },
            ReasonCode::MalformedPacket,
        );
        assert_refused(
            decode_error(V5, &packet_with(context, &[id, 0x00, 0x02, 0x61, 0x00])),
            DecodeError::NulCharacter { field },
            ReasonCode::MalformedPacket,
        );
    }
}

/// The Response Topic is a Topic Name: no wildcards.
/// conformance: v5:§3.1.3.2.5, v5:§3.3.2.3.5
#[test]
fn response_topic_with_wildcard_is_malformed() {
    for context in [&WILL, &PUBLISH] {
        for topic in ["00 01 23", "00 03 61 2F 2B"] {
            let wire = packet_with(context, &hex(&format!("08 {topic}")));
            assert_refused(
                decode_error(V5, &wire),
                DecodeError::InvalidTopic {
                    field: "Response Topic",
                    error: TopicError::WildcardInName,
                },
                ReasonCode::MalformedPacket,
            );
        }
    }
}

/// Binary properties hold any bytes.
/// conformance: v5:§1.5.6
#[test]
fn binary_properties_hold_any_bytes() {
    for (context, id) in [(&PUBLISH, 0x09u8), (&WILL, 0x09), (&CONNACK, 0x16)] {
        let wire = packet_with(context, &[id, 0x00, 0x03, 0x00, 0xFF, 0xC0]);
        assert_reencodes_to(&wire, &wire);
    }
}

// ---------------------------------------------------------------------------------------------
// Every property of every packet, in one vector per packet
// ---------------------------------------------------------------------------------------------

fn user<B: Make>() -> UserProperty<B> {
    B::user("k", "v")
}

/// CONNECT with all nine of its properties (two User Properties), in the order the encoder
/// writes them: 0x11 0x21 0x27 0x22 0x19 0x17 0x15 0x16 0x26 0x26.
/// conformance: v5:§3.1.2.11, v5:MQTT-1.5.7-1
#[test]
fn connect_with_every_property_round_trips() {
    let wire = hex("10 3E 00 04 4D 51 54 54 05 02 00 3C
         30
         11 00 00 0E 10
         21 00 14
         27 00 00 FF FF
         22 00 0A
         19 01
         17 00
         15 00 05 50 4C 41 49 4E
         16 00 03 61 62 63
         26 00 01 61 00 01 62
         26 00 01 61 00 01 63
         00 01 61");
    fn expected<B: Make>() -> Packet<B> {
        let mut connect = Connect::new(V5, B::string("a"));
        connect.keep_alive = 60;
        let p = &mut connect.properties;
        p.session_expiry_interval = Some(3600);
        p.receive_maximum = NonZeroU16::new(20);
        p.maximum_packet_size = NonZeroU32::new(0xFFFF);
        p.topic_alias_maximum = Some(10);
        p.request_response_information = Some(true);
        p.request_problem_information = Some(false);
        p.authentication_method = Some(B::string("PLAIN"));
        p.authentication_data = Some(B::binary(b"abc"));
        p.user_properties.push(B::user("a", "b"));
        p.user_properties.push(B::user("a", "c"));
        connect.into()
    }
    assert_vector(V5, &wire, expected(), expected());
}

/// The Will Properties with all seven of theirs, between the Client Identifier and the Will
/// Topic; the encoder writes the two the server acts on first.
/// conformance: v5:§3.1.3.2, v5:MQTT-3.1.3-1, v5:MQTT-3.1.2-9
#[test]
fn will_with_every_property_round_trips() {
    let wire = hex("10 42 00 04 4D 51 54 54 05 0E 00 3C 00
         00 01 61
         2B
         18 00 00 00 1E
         02 00 00 01 2C
         01 01
         03 00 0A 74 65 78 74 2F 70 6C 61 69 6E
         08 00 03 72 2F 31
         09 00 02 CA FE
         26 00 01 6B 00 01 76
         00 01 77
         00 03 62 79 65");
    fn expected<B: Make>() -> Packet<B> {
        let mut will = Will::new(B::topic("w"), B::binary(b"bye"));
        will.qos = QoS::AtLeastOnce;
        let p = &mut will.properties;
        p.will_delay_interval = Some(30);
        p.message_expiry_interval = Some(300);
        p.message = B::message(
            MessageProperties::builder()
                .payload_format(PayloadFormat::Utf8)
                .content_type("text/plain")
                .response_topic("r/1")
                .correlation_data(b"\xCA\xFE")
                .user_property("k", "v"),
        );
        let mut connect = Connect::new(V5, B::string("a"));
        connect.keep_alive = 60;
        connect.will = Some(will);
        connect.into()
    }
    assert_vector(V5, &wire, expected(), expected());
}

/// CONNACK with all seventeen of its properties.
/// conformance: v5:§3.2.2.3
#[test]
fn connack_with_every_property_round_trips() {
    let wire = hex("20 4A 00 00
         47
         11 FF FF FF FF
         21 FF FF
         24 01
         25 00
         27 00 10 00 00
         12 00 03 63 2D 31
         22 00 05
         1F 00 02 6F 6B
         28 00
         29 01
         2A 00
         13 00 1E
         1A 00 02 72 2F
         1C 00 04 68 6F 73 74
         15 00 05 50 4C 41 49 4E
         16 00 01 00
         26 00 01 6B 00 01 76");
    fn expected<B: Make>() -> Packet<B> {
        let mut ack = ConnAck::new(false, ConnectReasonCode::Success);
        let p = &mut ack.properties;
        p.session_expiry_interval = Some(u32::MAX);
        p.receive_maximum = NonZeroU16::new(0xFFFF);
        p.maximum_qos = Some(MaximumQos::AtLeastOnce);
        p.retain_available = Some(false);
        p.maximum_packet_size = NonZeroU32::new(0x0010_0000);
        p.assigned_client_identifier = Some(B::string("c-1"));
        p.topic_alias_maximum = Some(5);
        p.reason_string = Some(B::string("ok"));
        p.wildcard_subscription_available = Some(false);
        p.subscription_identifiers_available = Some(true);
        p.shared_subscription_available = Some(false);
        p.server_keep_alive = Some(30);
        p.response_information = Some(B::string("r/"));
        p.server_reference = Some(B::string("host"));
        p.authentication_method = Some(B::string("PLAIN"));
        p.authentication_data = Some(B::binary(b"\x00"));
        p.user_properties.push(user());
        ack.into()
    }
    assert_vector(V5, &wire, expected(), expected());
}

/// PUBLISH with all of its properties, two Subscription Identifiers among them, in the
/// encoder's order: the three a server edits per hop around the forwarded ones.
/// conformance: v5:§3.3.2.3
#[test]
fn publish_with_every_property_round_trips() {
    let wire = hex("32 38 00 03 61 2F 62 00 0A
         2E
         02 00 00 00 3C
         23 00 01
         01 01
         08 00 03 72 2F 31
         09 00 02 CA FE
         03 00 0A 74 65 78 74 2F 70 6C 61 69 6E
         26 00 01 6B 00 01 76
         0B 01
         0B 80 01
         68 69");
    fn expected<B: Make>() -> Packet<B> {
        let mut publish = Publish::new(B::topic("a/b"), B::raw(b"hi"));
        publish.delivery = Delivery::new(QoS::AtLeastOnce, pid(10));
        let p = &mut publish.properties;
        p.message_expiry_interval = Some(60);
        p.topic_alias = NonZeroU16::new(1);
        p.message = B::message(
            MessageProperties::builder()
                .payload_format(PayloadFormat::Utf8)
                .response_topic("r/1")
                .correlation_data(b"\xCA\xFE")
                .content_type("text/plain")
                .user_property("k", "v"),
        );
        p.subscription_identifiers
            .push(SubscriptionId::new(1).unwrap());
        p.subscription_identifiers
            .push(SubscriptionId::new(128).unwrap());
        publish.into()
    }
    assert_vector(V5, &wire, expected(), expected());
}

/// PUBACK, PUBREC, PUBREL and PUBCOMP with a Reason String and a User Property.
/// conformance: v5:§3.4.2.2, v5:§3.5.2.2, v5:§3.6.2.2, v5:§3.7.2.2
#[test]
fn acks_with_every_property_round_trip() {
    const PROPERTIES: &str = "0C 1F 00 02 6F 6B 26 00 01 6B 00 01 76";
    fn set<B: Make>(p: &mut mqtt_sansio::AckProperties<B>) {
        p.reason_string = Some(B::string("ok"));
        p.user_properties.push(user());
    }

    fn puback<B: Make>() -> Packet<B> {
        let mut ack = PubAck::new(pid(10));
        ack.reason_code = PubAckReasonCode::NoMatchingSubscribers;
        set(&mut ack.properties);
        ack.into()
    }
    let wire = hex(&format!("40 10 00 0A 10 {PROPERTIES}"));
    assert_vector(V5, &wire, puback(), puback());

    fn pubrec<B: Make>() -> Packet<B> {
        let mut ack = PubRec::new(pid(10));
        ack.reason_code = PubAckReasonCode::UnspecifiedError;
        set(&mut ack.properties);
        ack.into()
    }
    let wire = hex(&format!("50 10 00 0A 80 {PROPERTIES}"));
    assert_vector(V5, &wire, pubrec(), pubrec());

    fn pubrel<B: Make>() -> Packet<B> {
        let mut ack = PubRel::new(pid(10));
        ack.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
        set(&mut ack.properties);
        ack.into()
    }
    let wire = hex(&format!("62 10 00 0A 92 {PROPERTIES}"));
    assert_vector(V5, &wire, pubrel(), pubrel());

    fn pubcomp<B: Make>() -> Packet<B> {
        let mut ack = PubComp::new(pid(10));
        ack.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
        set(&mut ack.properties);
        ack.into()
    }
    let wire = hex(&format!("70 10 00 0A 92 {PROPERTIES}"));
    assert_vector(V5, &wire, pubcomp(), pubcomp());
}

/// SUBSCRIBE with the largest Subscription Identifier and a User Property.
/// conformance: v5:§3.8.2.1, v5:§3.8.2.1.2
#[test]
fn subscribe_with_every_property_round_trips() {
    let wire = hex("82 15 00 0A
         0C
         0B FF FF FF 7F
         26 00 01 6B 00 01 76
         00 03 61 2F 23 01");
    fn expected<B: Make>() -> Packet<B> {
        let mut subscribe = Subscribe::new(
            pid(10),
            [Subscription::new(B::filter("a/#"), QoS::AtLeastOnce)],
        );
        subscribe.properties.subscription_identifier = SubscriptionId::new(268_435_455);
        subscribe.properties.user_properties.push(user());
        subscribe.into()
    }
    assert_vector(V5, &wire, expected(), expected());
}

/// SUBACK, UNSUBSCRIBE and UNSUBACK with all of their properties.
/// conformance: v5:§3.9.2.1, v5:§3.10.2.1, v5:§3.11.2.1
#[test]
fn suback_unsubscribe_unsuback_with_every_property_round_trip() {
    let wire = hex("90 11 00 0A 0C 1F 00 02 6F 6B 26 00 01 6B 00 01 76 01 80");
    fn suback<B: Make>() -> Packet<B> {
        let mut ack = SubAck::new(
            pid(10),
            [
                SubAckReasonCode::GrantedQoS1,
                SubAckReasonCode::UnspecifiedError,
            ],
        );
        ack.properties.reason_string = Some(B::string("ok"));
        ack.properties.user_properties.push(user());
        ack.into()
    }
    assert_vector(V5, &wire, suback(), suback());

    let wire = hex("A2 16 00 0A 0E 26 00 01 6B 00 01 76 26 00 01 6B 00 01 77 00 03 61 2F 62");
    fn unsubscribe<B: Make>() -> Packet<B> {
        let mut packet = Unsubscribe::new(pid(10), [B::filter("a/b")]);
        packet.properties.user_properties.push(B::user("k", "v"));
        packet.properties.user_properties.push(B::user("k", "w"));
        packet.into()
    }
    assert_vector(V5, &wire, unsubscribe(), unsubscribe());

    let wire = hex("B0 11 00 0A 0C 1F 00 02 6F 6B 26 00 01 6B 00 01 76 00 11");
    fn unsuback<B: Make>() -> Packet<B> {
        let mut ack = UnsubAck::new(
            pid(10),
            [
                UnsubAckReasonCode::Success,
                UnsubAckReasonCode::NoSubscriptionExisted,
            ],
        );
        ack.properties.reason_string = Some(B::string("ok"));
        ack.properties.user_properties.push(user());
        ack.into()
    }
    assert_vector(V5, &wire, unsuback(), unsuback());
}

/// DISCONNECT with all four of its properties.
/// conformance: v5:§3.14.2.2
#[test]
fn disconnect_with_every_property_round_trips() {
    let wire = hex("E0 1C 9C
         1A
         11 00 00 00 00
         1F 00 04 62 75 73 79
         1C 00 04 68 6F 73 74
         26 00 01 6B 00 01 76");
    fn expected<B: Make>() -> Packet<B> {
        let mut packet = Disconnect::new(DisconnectReasonCode::UseAnotherServer);
        packet.properties.session_expiry_interval = Some(0);
        packet.properties.reason_string = Some(B::string("busy"));
        packet.properties.server_reference = Some(B::string("host"));
        packet.properties.user_properties.push(user());
        packet.into()
    }
    assert_vector(V5, &wire, expected(), expected());
}

/// AUTH with all four of its properties.
/// conformance: v5:§3.15.2.2
#[test]
fn auth_with_every_property_round_trips() {
    let wire = hex("F0 1B 19
         19
         15 00 05 50 4C 41 49 4E
         16 00 02 00 01
         1F 00 02 6F 6B
         26 00 01 6B 00 01 76");
    fn expected<B: Make>() -> Packet<B> {
        let mut packet = Auth::new(AuthReasonCode::ReAuthenticate);
        packet.properties.authentication_method = Some(B::string("PLAIN"));
        packet.properties.authentication_data = Some(B::binary(b"\x00\x01"));
        packet.properties.reason_string = Some(B::string("ok"));
        packet.properties.user_properties.push(user());
        packet.into()
    }
    assert_vector(V5, &wire, expected(), expected());
}

/// Every 5.0 packet that has a property block and no properties still writes a Property
/// Length of 0 (the 5.0 short forms of DISCONNECT, AUTH and the acknowledgements leave the
/// whole block out instead, as their sections allow).
/// conformance: v5:MQTT-2.2.2-1
#[test]
fn packets_without_properties_encode_property_length_0() {
    fn connect<B: Make>() -> Packet<B> {
        let mut connect = Connect::new(V5, B::string("a"));
        connect.keep_alive = 60;
        connect.will = Some(Will::new(B::topic("t"), B::binary(b"")));
        connect.into()
    }
    // CONNECT properties, then Will Properties.
    let wire = hex("10 14 00 04 4D 51 54 54 05 06 00 3C 00 00 01 61 00 00 01 74 00 00");
    assert_vector(V5, &wire, connect(), connect());

    fn connack<B: Make>() -> Packet<B> {
        ConnAck::new(true, ConnectReasonCode::Success).into()
    }
    assert_vector(V5, &hex("20 03 01 00 00"), connack(), connack());

    fn publish<B: Make>() -> Packet<B> {
        Publish::new(B::topic("t"), B::raw(b"p")).into()
    }
    assert_vector(V5, &hex("30 05 00 01 74 00 70"), publish(), publish());

    fn subscribe<B: Make>() -> Packet<B> {
        Subscribe::new(pid(1), [Subscription::new(B::filter("t"), QoS::AtMostOnce)]).into()
    }
    assert_vector(
        V5,
        &hex("82 07 00 01 00 00 01 74 00"),
        subscribe(),
        subscribe(),
    );

    fn suback<B: Make>() -> Packet<B> {
        SubAck::new(pid(1), [SubAckReasonCode::GrantedQoS0]).into()
    }
    assert_vector(V5, &hex("90 04 00 01 00 00"), suback(), suback());

    fn unsubscribe<B: Make>() -> Packet<B> {
        Unsubscribe::new(pid(1), [B::filter("t")]).into()
    }
    assert_vector(
        V5,
        &hex("A2 06 00 01 00 00 01 74"),
        unsubscribe(),
        unsubscribe(),
    );

    fn unsuback<B: Make>() -> Packet<B> {
        UnsubAck::new(pid(1), [UnsubAckReasonCode::Success]).into()
    }
    assert_vector(V5, &hex("B0 04 00 01 00 00"), unsuback(), unsuback());
}

// ---------------------------------------------------------------------------------------------
// User Property order and interleaving
// ---------------------------------------------------------------------------------------------

/// User Properties keep the order they were sent in, even when other properties sit between
/// them; the encoder writes the single-valued properties first and then the User Properties,
/// still in order.
/// conformance: v5:§3.1.2.11.8, v5:§2.2.2.2
#[test]
fn user_properties_keep_their_order_when_interleaved() {
    let interleaved = packet_with(
        &CONNECT,
        &hex("26 00 02 6B 31 00 02 76 31
             11 00 00 00 3C
             26 00 02 6B 32 00 02 76 32
             21 00 0A
             26 00 02 6B 31 00 02 76 33"),
    );
    let canonical = packet_with(
        &CONNECT,
        &hex("11 00 00 00 3C
             21 00 0A
             26 00 02 6B 31 00 02 76 31
             26 00 02 6B 32 00 02 76 32
             26 00 02 6B 31 00 02 76 33"),
    );
    let Packet::Connect(connect) = decode_one(V5, &interleaved).unwrap() else {
        panic!("a CONNECT");
    };
    let users = &connect.properties.user_properties;
    assert_eq!(users.len(), 3);
    let pairs: Vec<(&str, &str)> = users
        .iter()
        .map(|p| (p.name.into_inner(), p.value.into_inner()))
        .collect();
    assert_eq!(pairs, [("k1", "v1"), ("k2", "v2"), ("k1", "v3")]);
    assert_eq!(connect.properties.session_expiry_interval, Some(60));
    assert_eq!(connect.properties.receive_maximum, NonZeroU16::new(10));
    assert_reencodes_to(&interleaved, &canonical);
    // The interleaved and canonical forms decode to equal packets.
    assert_eq!(
        decode_one(V5, &canonical).unwrap(),
        Packet::Connect(connect.clone())
    );

    // A pushed User Property goes after the decoded ones.
    let mut connect = connect;
    connect.properties.user_properties.push(UserProperty::new(
        MqttString::new("k3").unwrap(),
        MqttString::new("v4").unwrap(),
    ));
    let mut out = Vec::new();
    Packet::Connect(connect).encode(V5, &mut out).unwrap();
    let mut expected = canonical.clone();
    expected[1] += 9;
    expected[12] += 9;
    let client_id = expected.split_off(expected.len() - 3);
    expected.extend(hex("26 00 02 6B 33 00 02 76 34"));
    expected.extend(client_id);
    assert_eq!(out, expected);
}

/// The same in the Will Properties, PUBLISH and the other packets with User Properties.
/// conformance: v5:§3.1.3.2.8, v5:§3.3.2.3.7
#[test]
fn user_properties_keep_their_order_in_every_packet() {
    let users = "26 00 01 61 00 01 31  26 00 01 62 00 01 32  26 00 01 61 00 01 33";
    for context in CONTEXTS {
        let mut properties = if context.name == "AUTH" {
            hex(METHOD)
        } else {
            Vec::new()
        };
        properties.extend(hex(users));
        let wire = packet_with(context, &properties);
        assert_reencodes_to(&wire, &wire);
    }
    let wire = packet_with(&PUBLISH, &hex(users));
    let Packet::Publish(publish) = decode_one(V5, &wire).unwrap() else {
        panic!("a PUBLISH");
    };
    let values: Vec<&str> = publish
        .properties
        .message
        .user_properties()
        .map(|(_, value)| value)
        .collect();
    assert_eq!(values, ["1", "2", "3"]);
}

// ---------------------------------------------------------------------------------------------
// Subscription Identifiers
// ---------------------------------------------------------------------------------------------

/// A PUBLISH may carry several Subscription Identifiers, each a Variable Byte Integer from 1
/// to 268,435,455 in its shortest form; they keep their order.
/// conformance: v5:§3.3.2.3.8, v5:§3.8.2.1.2, v5:MQTT-1.5.5-1
#[test]
fn publish_subscription_identifiers_round_trip_in_order() {
    let ids = "0B 01  0B 7F  0B 80 01  0B FF 7F  0B 80 80 01  0B FF FF FF 7F  0B 01";
    let wire = packet_with(&PUBLISH, &hex(ids));
    let Packet::Publish(publish) = decode_one(V5, &wire).unwrap() else {
        panic!("a PUBLISH");
    };
    let values: Vec<u32> = publish
        .properties
        .subscription_identifiers
        .iter()
        .map(SubscriptionId::get)
        .collect();
    assert_eq!(values, [1, 127, 128, 16_383, 16_384, 268_435_455, 1]);
    assert_reencodes_to(&wire, &wire);
}

/// Subscription Identifiers interleaved with User Properties: each list keeps its order, and
/// the encoder writes the User Properties first.
/// conformance: v5:§3.3.2.3.8
#[test]
fn subscription_identifiers_interleaved_with_user_properties() {
    let wire = packet_with(
        &PUBLISH,
        &hex("0B 02  26 00 01 61 00 01 31  0B 01  26 00 01 62 00 01 32"),
    );
    let canonical = packet_with(
        &PUBLISH,
        &hex("26 00 01 61 00 01 31  26 00 01 62 00 01 32  0B 02  0B 01"),
    );
    let Packet::Publish(publish) = decode_one(V5, &wire).unwrap() else {
        panic!("a PUBLISH");
    };
    let ids: Vec<u32> = publish
        .properties
        .subscription_identifiers
        .iter()
        .map(SubscriptionId::get)
        .collect();
    assert_eq!(ids, [2, 1]);
    assert_eq!(publish.properties.message.user_properties().count(), 2);
    assert_reencodes_to(&wire, &canonical);
}

/// A Subscription Identifier of 0 is a Protocol Error, in PUBLISH and SUBSCRIBE.
/// conformance: v5:§3.8.2.1.2, v5:§3.3.2.3.8
#[test]
fn subscription_identifier_0_is_a_protocol_error() {
    for context in [&PUBLISH, &SUBSCRIBE] {
        assert_refused(
            decode_error(V5, &packet_with(context, &hex("0B 00"))),
            DecodeError::InvalidPropertyValue(PropertyId::SubscriptionIdentifier),
            ReasonCode::ProtocolError,
        );
    }
    assert_eq!(SubscriptionId::new(0), None);
    assert_eq!(SubscriptionId::new(268_435_456), None);
}

/// The identifier is a Variable Byte Integer: in its shortest form, at most four bytes.
/// conformance: v5:MQTT-1.5.5-1, v5:§1.5.5
#[test]
fn subscription_identifier_must_be_a_minimal_variable_byte_integer() {
    let field = "Subscription Identifier";
    for context in [&PUBLISH, &SUBSCRIBE] {
        assert_refused(
            decode_error(V5, &packet_with(context, &hex("0B 81 00"))),
            DecodeError::VarIntNotMinimal { field },
            ReasonCode::MalformedPacket,
        );
        assert_refused(
            decode_error(V5, &packet_with(context, &hex("0B FF FF FF FF 01"))),
            DecodeError::VarIntTooLong { field },
            ReasonCode::MalformedPacket,
        );
        assert_refused(
            decode_error(V5, &packet_with(context, &hex("0B FF"))),
            DecodeError::UnexpectedEnd { field },
            ReasonCode::MalformedPacket,
        );
    }
}

/// SUBSCRIBE carries at most one Subscription Identifier.
/// conformance: v5:§3.8.2.1.2
#[test]
fn subscribe_with_two_subscription_identifiers_is_a_protocol_error() {
    assert_refused(
        decode_error(V5, &packet_with(&SUBSCRIBE, &hex("0B 01 0B 02"))),
        DecodeError::DuplicateProperty(PropertyId::SubscriptionIdentifier),
        ReasonCode::ProtocolError,
    );
}
