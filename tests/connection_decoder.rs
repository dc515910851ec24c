//! The [`Decoder`] as one side of a connection: the direction of each packet, the limits of
//! each phase, and the reply each failure calls for.
#![cfg(feature = "v5")]

mod common;

use common::hex;
use mqtt_sansio::{
    ConnectReasonCode, DecodeError, DecodeFailure, Decoder, DisconnectReasonCode, Limits, Packet,
    PacketType, PeerError, ProtocolError, ProtocolVersion, Reply, Side,
};

const V31: ProtocolVersion = ProtocolVersion::V3_1;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

const CONNECT_V311: &str = "10 10 0004 4d515454 04 02 003c 0004 64657631";
const CONNECT_V5: &str = "10 0d 0004 4d515454 05 02 003c 00 0000";

/// Pushes `wire` and returns the first failure, after any packets before it.
fn failure(decoder: &mut Decoder, wire: &str) -> DecodeFailure {
    decoder.push(&hex(wire));
    loop {
        match decoder.decode() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("{wire}: no failure"),
            Err(failure) => return failure,
        }
    }
}

/// A server decoder that has accepted a CONNECT of `version`.
fn connected_server(version: ProtocolVersion) -> Decoder {
    let mut decoder = Decoder::server(Limits::default());
    decoder.push(&hex(if version == V5 {
        CONNECT_V5
    } else {
        CONNECT_V311
    }));
    assert!(matches!(decoder.decode(), Ok(Some(Packet::Connect(_)))));
    assert_eq!(decoder.version(), Some(version));
    decoder
}

// Direction ----------------------------------------------------------------------------------

/// A server refuses CONNACK, SUBACK, UNSUBACK and PINGRESP from a client, with a DISCONNECT
/// Protocol Error in 5.0 and a silent close in 3.1.1.
/// conformance: v311:MQTT-4.8.0-1
#[test]
fn server_refuses_packets_only_a_server_sends() {
    for (wire, packet) in [
        ("20 03 00 00 00", PacketType::ConnAck),
        ("90 04 0001 00 00", PacketType::SubAck),
        ("b0 04 0001 00 00", PacketType::UnsubAck),
        ("d0 00", PacketType::PingResp),
    ] {
        for (version, reply) in [
            (V5, Reply::Disconnect(DisconnectReasonCode::ProtocolError)),
            (V311, Reply::Close),
        ] {
            let failure = failure(&mut connected_server(version), wire);
            assert_eq!(
                failure.error,
                PeerError::Protocol(ProtocolError::WrongDirection {
                    packet,
                    receiver: Side::Server
                })
            );
            assert_eq!(failure.packet_type, Some(packet));
            assert_eq!(failure.version, Some(version));
            assert_eq!(failure.reply, reply, "{version} {wire}");
        }
    }
}

/// A client refuses CONNECT, SUBSCRIBE, UNSUBSCRIBE and PINGREQ from a server.
#[test]
fn client_refuses_packets_only_a_client_sends() {
    for (wire, packet) in [
        (CONNECT_V5, PacketType::Connect),
        ("82 08 0001 00 0003 612f62 00", PacketType::Subscribe),
        ("a2 07 0001 00 0003 612f62", PacketType::Unsubscribe),
        ("c0 00", PacketType::PingReq),
    ] {
        let mut decoder = Decoder::client(V5, Limits::default());
        let failure = failure(&mut decoder, wire);
        assert_eq!(
            failure.error,
            PeerError::Protocol(ProtocolError::WrongDirection {
                packet,
                receiver: Side::Client
            })
        );
        assert_eq!(
            failure.reply,
            Reply::Disconnect(DisconnectReasonCode::ProtocolError)
        );
    }
}

/// A packet flowing the wrong way is refused from its fixed header, before its body arrives.
#[test]
fn wrong_direction_is_refused_from_the_fixed_header() {
    let mut decoder = Decoder::client(V5, Limits::default());
    decoder.push(&hex("82 7f"));
    let failure = decoder.decode().unwrap_err();
    assert!(matches!(
        failure.error,
        PeerError::Protocol(ProtocolError::WrongDirection { .. })
    ));
}

/// 3.1 and 3.1.1 define DISCONNECT as client to server only; 5.0 lets a server send it.
#[test]
fn client_accepts_disconnect_only_in_5_0() {
    let mut decoder = Decoder::client(V5, Limits::default());
    decoder.push(&hex("e0 00"));
    assert!(matches!(decoder.decode(), Ok(Some(Packet::Disconnect(_)))));
    for version in [V31, V311] {
        let mut decoder = Decoder::client(version, Limits::default());
        let failure = failure(&mut decoder, "e0 00");
        assert_eq!(failure.reply, Reply::Close);
    }
}

/// PUBLISH, its acknowledgements and DISCONNECT reach a server; PUBLISH and PINGRESP a client.
#[test]
fn packets_flowing_the_right_way_are_accepted() {
    let mut server = connected_server(V311);
    server.push(&hex("30 05 0003 612f62 40 02 0001 c0 00 e0 00"));
    let mut types = Vec::new();
    while let Some(packet) = server.decode().unwrap() {
        types.push(packet.packet_type());
    }
    assert_eq!(
        types,
        [
            PacketType::Publish,
            PacketType::PubAck,
            PacketType::PingReq,
            PacketType::Disconnect
        ]
    );
    let mut client = Decoder::client(V311, Limits::default());
    client.push(&hex("20 02 00 00 30 05 0003 612f62 d0 00"));
    assert!(matches!(client.decode(), Ok(Some(Packet::ConnAck(_)))));
    assert!(matches!(client.decode(), Ok(Some(Packet::Publish(_)))));
    assert!(matches!(client.decode(), Ok(Some(Packet::PingResp(_)))));
}

/// A second CONNECT is a protocol error for a server.
/// conformance: v311:MQTT-3.1.0-2, v5:MQTT-3.1.0-2
#[test]
fn server_refuses_a_second_connect() {
    let v5 = failure(&mut connected_server(V5), CONNECT_V5);
    assert_eq!(v5.error, ProtocolError::SecondConnect.into());
    assert_eq!(
        v5.reply,
        Reply::Disconnect(DisconnectReasonCode::ProtocolError)
    );
    let v311 = failure(&mut connected_server(V311), CONNECT_V311);
    assert_eq!(v311.error, ProtocolError::SecondConnect.into());
    assert_eq!(v311.reply, Reply::Close);
}

/// A PUBLISH from a client may not carry a Subscription Identifier; from a server it may.
/// conformance: v5:MQTT-3.3.4-6
#[test]
fn client_publish_with_subscription_identifier_is_a_protocol_error() {
    // PUBLISH "a/b", Subscription Identifier 1, payload "hi".
    let publish = "30 0a 0003 612f62 02 0b 01 6869";
    let failure = failure(&mut connected_server(V5), publish);
    assert_eq!(
        failure.error,
        ProtocolError::SubscriptionIdFromClient.into()
    );
    assert_eq!(failure.packet_type, Some(PacketType::Publish));
    assert_eq!(
        failure.reply,
        Reply::Disconnect(DisconnectReasonCode::ProtocolError)
    );
    let mut client = Decoder::client(V5, Limits::default());
    client.push(&hex(publish));
    assert!(matches!(client.decode(), Ok(Some(Packet::Publish(_)))));
}

/// The direction-neutral decoders accept packets of either direction, for captures.
#[test]
fn neutral_decoder_checks_no_direction() {
    let mut decoder = Decoder::with_version(V5, Limits::default());
    assert_eq!(decoder.side(), None);
    decoder.push(&hex("c0 00 d0 00"));
    assert!(matches!(decoder.decode(), Ok(Some(Packet::PingReq(_)))));
    assert!(matches!(decoder.decode(), Ok(Some(Packet::PingResp(_)))));
}

// Replies to a bad first packet ---------------------------------------------------------------

/// A first packet that is not a CONNECT closes the connection without a reply.
/// conformance: v311:MQTT-3.1.0-1, v5:MQTT-3.1.0-1, v311:MQTT-4.8.0-1
#[test]
fn first_packet_not_connect_closes_silently() {
    let failure = failure(&mut Decoder::server(Limits::default()), "c0 00");
    assert_eq!(failure.error, DecodeError::ExpectedConnect(12).into());
    assert_eq!(failure.packet_type, Some(PacketType::PingReq));
    assert_eq!(failure.version, None);
    assert_eq!(failure.reply, Reply::Close);
}

/// An unknown protocol name closes silently: the peer may not speak MQTT at all.
/// conformance: v311:MQTT-3.1.2-1, v5:MQTT-3.1.2-1
#[test]
fn unknown_protocol_name_closes_silently() {
    let failure = failure(
        &mut Decoder::server(Limits::default()),
        "10 0c 0004 41424344 04 02 003c 0000",
    );
    assert_eq!(failure.error, DecodeError::UnknownProtocolName.into());
    assert_eq!(failure.reply, Reply::Close);
}

/// An unsupported Protocol Level gets CONNACK 0x01 in 3.1.1 framing, since the level names no
/// framing this server knows.
/// conformance: v311:MQTT-3.1.2-2, v5:MQTT-3.1.2-2
#[test]
fn unsupported_protocol_level_gets_connack_0x01() {
    let failure = failure(
        &mut Decoder::server(Limits::default()),
        "10 0c 0004 4d515454 06 02 003c 0000",
    );
    assert_eq!(
        failure.error,
        DecodeError::UnsupportedProtocolLevel { level: 6 }.into()
    );
    assert_eq!(
        failure.reply,
        Reply::ConnAck {
            version: V311,
            code: ConnectReasonCode::UnsupportedProtocolVersion
        }
    );
    assert_eq!(
        failure.error.connect_return_code().map(|c| c.as_u8()),
        Some(0x01)
    );
}

/// A level that names 5.0 with the 3.1 protocol name gets CONNACK 0x84 in 5.0 framing, the
/// client's.
/// conformance: v5:MQTT-3.1.2-2
#[test]
fn level_5_under_the_wrong_name_gets_connack_0x84_in_5_0() {
    let failure = failure(
        &mut Decoder::server(Limits::default()),
        "10 0f 0006 4d5149736470 05 02 003c 00 0000",
    );
    assert_eq!(
        failure.reply,
        Reply::ConnAck {
            version: V5,
            code: ConnectReasonCode::UnsupportedProtocolVersion
        }
    );
}

/// A 5.0 CONNECT malformed after its Protocol Level keeps the version and gets a CONNACK with
/// the error's reason code (0x80 or above) before the close.
/// conformance: v5:MQTT-3.1.4-1
#[test]
fn malformed_5_0_connect_gets_connack_with_its_reason_code() {
    // The reserved flag set.
    let failure = failure(
        &mut Decoder::server(Limits::default()),
        "10 0d 0004 4d515454 05 03 003c 00 0000",
    );
    assert_eq!(failure.error, DecodeError::ConnectReservedFlag.into());
    assert_eq!(failure.packet_type, Some(PacketType::Connect));
    assert_eq!(failure.version, Some(V5));
    assert_eq!(
        failure.reply,
        Reply::ConnAck {
            version: V5,
            code: ConnectReasonCode::MalformedPacket
        }
    );
}

/// A 3.1.1 CONNECT malformed after its Protocol Level closes without a CONNACK; the version is
/// still reported.
/// conformance: v311:MQTT-3.1.4-1
#[test]
fn malformed_3_1_1_connect_closes_without_connack() {
    let failure = failure(
        &mut Decoder::server(Limits::default()),
        "10 0c 0004 4d515454 04 03 003c 0000",
    );
    assert_eq!(failure.version, Some(V311));
    assert_eq!(failure.reply, Reply::Close);
}

/// A rejected 3.1.1 Client Identifier gets CONNACK 0x02.
/// conformance: v311:MQTT-3.1.3-8, v311:MQTT-3.1.3-9
#[test]
fn rejected_3_1_1_client_id_gets_connack_0x02() {
    let failure = failure(
        &mut Decoder::server(Limits::default()),
        "10 0c 0004 4d515454 04 00 003c 0000",
    );
    assert_eq!(
        failure.reply,
        Reply::ConnAck {
            version: V311,
            code: ConnectReasonCode::ClientIdentifierNotValid
        }
    );
}

/// A CONNECT over the pre-CONNECT limit is refused from its fixed header by closing
/// silently, even if its Protocol Level has arrived too: whether it has depends on how the
/// bytes were chunked, and the reply must not (v5:MQTT-3.1.4-1 makes the CONNACK optional).
/// conformance: v5:MQTT-3.1.4-1
#[test]
fn oversized_connect_closes_silently() {
    let limits = Limits::new(64);
    for wire in ["10 c8 01", "10 c8 01 0004 4d515454 05"] {
        let failure = failure(&mut Decoder::server(limits), wire);
        assert!(matches!(
            failure.error,
            PeerError::Decode(DecodeError::PacketTooLarge { .. })
        ));
        assert_eq!(failure.version, None, "{wire}");
        assert_eq!(failure.reply, Reply::Close, "{wire}");
    }
}

// Replies after the CONNECT ------------------------------------------------------------------

/// After the CONNECT, a malformed packet gets DISCONNECT 0x81 in 5.0 and a silent close in
/// 3.x.
/// conformance: v311:MQTT-4.8.0-1
#[test]
fn later_malformed_packet_gets_disconnect_in_5_0_and_close_in_3_x() {
    // PUBLISH with QoS 3.
    let v5 = failure(&mut connected_server(V5), "36 00");
    assert_eq!(
        v5.reply,
        Reply::Disconnect(DisconnectReasonCode::MalformedPacket)
    );
    let v311 = failure(&mut connected_server(V311), "36 00");
    assert_eq!(v311.reply, Reply::Close);
    let client = failure(&mut Decoder::client(V5, Limits::default()), "36 00");
    assert_eq!(
        client.reply,
        Reply::Disconnect(DisconnectReasonCode::MalformedPacket)
    );
}

// Limits per phase ---------------------------------------------------------------------------

/// A server decodes the CONNECT under a small limit and raises it once it accepts.
#[test]
fn set_limits_raises_the_maximum_after_connect() {
    let mut decoder = Decoder::server(Limits::new(32));
    decoder.push(&hex(CONNECT_V5));
    assert!(matches!(decoder.decode(), Ok(Some(Packet::Connect(_)))));
    decoder.set_limits(Limits::new(1024));
    assert_eq!(decoder.limits(), Limits::new(1024));
    // PUBLISH of 102 bytes: over the first limit, under the second.
    let mut publish = hex("30 64 0003 612f62 00");
    publish.resize(102, b'x');
    decoder.push(&publish);
    assert!(matches!(decoder.decode(), Ok(Some(Packet::Publish(_)))));
}

/// The pre-CONNECT limit refuses a large CONNECT from its fixed header.
#[test]
fn small_limit_before_connect_refuses_a_large_connect() {
    let mut decoder = Decoder::server(Limits::new(32));
    let failure = failure(&mut decoder, "10 c8 01");
    assert_eq!(
        failure.error,
        DecodeError::PacketTooLarge { size: 203, max: 32 }.into()
    );
}

// After a failure ----------------------------------------------------------------------------

/// A failed decoder keeps failing the same way, holds nothing and ignores later bytes.
#[test]
fn failure_sticks_and_releases_the_buffer() {
    let mut decoder = connected_server(V5);
    let first = failure(&mut decoder, "d0 00 c0 00");
    assert_eq!(decoder.buffered(), 0);
    assert_eq!(decoder.buffer_capacity(), 0);
    decoder.push(&hex("c0 00"));
    assert_eq!(decoder.buffered(), 0);
    assert_eq!(decoder.decode(), Err(first));
}
