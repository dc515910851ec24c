//! One hex vector of every packet type of every version, with every field a version allows
//! filled in (properties wherever 5.0 allows them, User Properties included, since they are
//! the repeatable kind kept as a list).
//!
//! Shared by the tests that must cover every packet type (allocation bounds, detaching).

use mqtt_sansio::ProtocolVersion;

/// Every packet type in MQTT 3.1 (a 3.1.1 packet except for the CONNECT).
pub(crate) const V31_PACKETS: &[&str] = &[
    // CONNECT (MQIsdp, level 3) with will, user name and password.
    "10 20 0006 4D5149736470 03 EE 000A 0002 6331 0003 772F74 0003 627965 0001 75 0001 70",
    "20 02 00 00",
    "32 0C 0003 612F62 0001 68656C6C6F",
    "40 02 0001",
    "50 02 0001",
    "62 02 0001",
    "70 02 0001",
    "82 10 000A 0003 612F23 01 0005 732F2B2F78 02",
    // SUBACK: 3.1 has no failure code.
    "90 05 000A 00 01 02",
    "A2 0C 000B 0003 612F62 0003 632F64",
    "B0 02 000B",
    "C0 00",
    "D0 00",
    "E0 00",
];

/// Every packet type in MQTT 3.1.1.
pub(crate) const V311_PACKETS: &[&str] = &[
    // CONNECT with will, user name and password.
    "10 1E 0004 4D515454 04 EE 000A 0002 6331 0003 772F74 0003 627965 0001 75 0001 70",
    "20 02 01 00",
    "32 0C 0003 612F62 0001 68656C6C6F",
    "40 02 0001",
    "50 02 0001",
    "62 02 0001",
    "70 02 0001",
    "82 10 000A 0003 612F23 01 0005 732F2B2F78 02",
    "90 05 000A 00 01 80",
    "A2 0C 000B 0003 612F62 0003 632F64",
    "B0 02 000B",
    "C0 00",
    "D0 00",
    "E0 00",
];

/// Every packet type in MQTT 5.0.
pub(crate) const V5_PACKETS: &[&str] = &[
    // CONNECT: Session Expiry 60, Receive Maximum 10, User Property (k, v); will with Will
    // Delay 5 and Content Type "text"; user name and password.
    "10 3B 0004 4D515454 05 EE 000A 0F 11 0000003C 21 000A 26 0001 6B 0001 76 0002 6331 \
     0C 18 00000005 03 0004 74657874 0003 772F74 0003 627965 0001 75 0001 70",
    // CONNACK: Receive Maximum 20, Topic Alias Maximum 10, Retain Available 1.
    "20 0B 01 00 08 21 0014 22 000A 25 01",
    // PUBLISH QoS 1: Payload Format 1, Message Expiry 60, Topic Alias 5, Response Topic "r/t",
    // Correlation Data AB CD, User Property (k, v), Subscription Identifier 7; payload "x".
    "32 27 0003 612F62 0001 1E 01 01 02 0000003C 23 0005 08 0003 722F74 09 0002 ABCD \
     26 0001 6B 0001 76 0B 07 78",
    // PUBACK, PUBREC, PUBREL, PUBCOMP: a reason code, Reason String "err", User Property.
    "40 11 0001 80 0D 1F 0003 657272 26 0001 6B 0001 76",
    "50 11 0001 80 0D 1F 0003 657272 26 0001 6B 0001 76",
    "62 11 0001 92 0D 1F 0003 657272 26 0001 6B 0001 76",
    "70 11 0001 92 0D 1F 0003 657272 26 0001 6B 0001 76",
    // SUBSCRIBE: Subscription Identifier 1, User Property; "a/#" and "$share/g/x".
    "82 1F 000A 09 0B 01 26 0001 6B 0001 76 0003 612F23 2D 000A 2473686172652F672F78 01",
    "90 0C 000A 07 26 0001 6B 0001 76 00 01",
    "A2 0F 000B 07 26 0001 6B 0001 76 0003 612F62",
    "B0 0C 000B 07 26 0001 6B 0001 76 00 11",
    "C0 00",
    "D0 00",
    // DISCONNECT: Session taken over, Session Expiry 0, User Property.
    "E0 0E 8E 0C 11 00000000 26 0001 6B 0001 76",
    // AUTH: Continue authentication, method "SCRM", data 01 02.
    "F0 0E 18 0C 15 0004 5343524D 16 0002 0102",
];

/// Each version with its vectors.
pub(crate) const ALL_PACKETS: &[(ProtocolVersion, &[&str])] = &[
    (ProtocolVersion::V3_1, V31_PACKETS),
    (ProtocolVersion::V3_1_1, V311_PACKETS),
    #[cfg(feature = "v5")]
    (ProtocolVersion::V5, V5_PACKETS),
];
