//! Protocol violations on the broker: a bad CONNECT (refused in the client's version or
//! closed), malformed packets (5.0 DISCONNECT 0x81, a close in 3.x), a second CONNECT, a
//! packet before CONNECT, packets only a server sends; nothing after a violation is handled;
//! and peer input never makes the broker panic or write an invalid packet (bounded sweeps).
//!
//! 3.1.1 MQTT-4.8.0-2 (close the connection on a transient error such as a full buffer) is
//! proven in `broker_input.rs`, on the one buffer a peer can fill.
#![cfg(feature = "v5")]

mod common;

use common::broker::{Conn, Harness, connect_packet, keep_session, pid, publish, retained};
use common::hex;
use mqtt_sansio::broker::CloseReason;
use mqtt_sansio::{
    Auth, AuthReasonCode, BrokerConfig, ConnAck, ConnectReasonCode, Disconnect,
    DisconnectReasonCode, Packet, PingResp, ProtocolVersion, QoS, SubAck, SubAckReasonCode,
    UnsubAck,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// How the broker ends a connection for a violation: 5.0 DISCONNECT with `code` (no
/// properties) as the last packet, 3.x a silent close.
#[track_caller]
fn assert_violation(h: &mut Harness, conn: Conn, version: ProtocolVersion, code: u8) {
    let expected = if version.is_v5() {
        vec![0xE0, 0x01, code]
    } else {
        vec![]
    };
    assert_eq!(h.sent_bytes(conn), expected, "{version}");
    assert!(
        matches!(h.closed(conn), Some(CloseReason::ProtocolError(_))),
        "{version}: {:?}",
        h.closed(conn)
    );
}

/// A connection watching everything, to show what was (not) routed.
fn watcher(h: &mut Harness) -> Conn {
    let watcher = h.connect(V5, "watcher");
    h.subscribe(watcher, "#", QoS::AtMostOnce);
    watcher
}

/// A malformed packet ends the connection: 5.0 DISCONNECT Malformed Packet (0x81), 3.x a
/// close; a valid PUBLISH behind it in the same read is not handled, and later bytes are
/// ignored.
/// conformance: v5:MQTT-4.13.1-1, v311:MQTT-4.8.0-1, v5:MQTT-3.14.4-1, v5:MQTT-3.14.4-2,
/// v5:MQTT-4.13.2-1
#[test]
fn malformed_packet_is_0x81_in_v5_and_a_close_in_v3() {
    let malformed = [
        // PUBLISH with QoS 3.
        "36 06 0001 74 0001 78",
        // SUBSCRIBE with reserved flags 0000.
        "80 06 0001 0001 74 00",
        // A Remaining Length of five bytes.
        "30 FF FF FF FF 01",
        // PINGREQ with a body.
        "C0 01 00",
    ];
    for &version in VERSIONS {
        for bytes in malformed {
            let mut h = Harness::new(BrokerConfig::default());
            let watcher = watcher(&mut h);
            let conn = h.connect(version, "c");
            let mut input = hex(bytes);
            input.extend(h.encode(conn, publish("t", b"behind", QoS::AtMostOnce, 0)));
            h.send_bytes(conn, &input);
            assert_violation(&mut h, conn, version, 0x81);
            h.send(conn, publish("t", b"after", QoS::AtMostOnce, 0));
            assert_eq!(h.sent(watcher), [], "{version} {bytes}");
            assert_eq!(h.sent_bytes(conn), [], "{version} {bytes}");
        }
    }
}

/// A second CONNECT on a connection is a protocol error: 5.0 DISCONNECT 0x82 (never a second
/// CONNACK), 3.x a close.
/// conformance: v311:MQTT-3.1.0-2, v5:MQTT-3.1.0-2, v5:MQTT-3.2.0-2
#[test]
fn second_connect_is_a_protocol_error() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let conn = h.connect(version, "c");
        h.send(conn, connect_packet(version, "c"));
        assert_violation(&mut h, conn, version, 0x82);
    }
}

/// A connection whose first packet is not a CONNECT is closed without a byte: no CONNACK,
/// and no DISCONNECT before a CONNACK.
/// conformance: v311:MQTT-4.8.0-1, v5:MQTT-3.14.0-1, v5:MQTT-4.13.1-1
#[test]
fn packet_before_connect_is_closed_without_a_word() {
    let first_packets = [
        "30 05 0001 74 78",
        "C0 00",
        "82 06 0001 0001 74 00",
        "E0 00",
    ];
    for bytes in first_packets {
        let mut h = Harness::new(BrokerConfig::default());
        let watcher = watcher(&mut h);
        let conn = h.open(V311);
        h.send_bytes(conn, &hex(bytes));
        assert_eq!(h.sent_bytes(conn), [], "{bytes}");
        assert!(h.closed(conn).is_some(), "{bytes}");
        assert_eq!(h.sent(watcher), [], "{bytes}");
    }
}

/// Packets only a server sends (CONNACK, SUBACK, UNSUBACK, PINGRESP), and in 5.0 an AUTH the
/// broker never asked for, end the connection as protocol errors.
/// conformance: v5:MQTT-4.13.1-1, v311:MQTT-4.8.0-1
#[test]
fn packets_a_client_never_sends_are_protocol_errors() {
    for &version in VERSIONS {
        let mut wrong: Vec<Packet> = vec![
            ConnAck::new(false, ConnectReasonCode::Success).into(),
            SubAck::new(pid(1), [SubAckReasonCode::GrantedQoS0]).into(),
            PingResp.into(),
        ];
        if version.is_v5() {
            wrong.push(UnsubAck::new(pid(1), [mqtt_sansio::UnsubAckReasonCode::Success]).into());
            wrong.push(Auth::new(AuthReasonCode::Success).into());
        } else {
            wrong.push(UnsubAck::new(pid(1), []).into());
        }
        for packet in wrong {
            let mut h = Harness::new(BrokerConfig::default());
            let conn = h.connect(version, "c");
            h.send(conn, packet.clone());
            assert_violation(&mut h, conn, version, 0x82);
        }
    }
}

/// A CONNECT with a Protocol Name other than `MQTT` (or `MQIsdp` at level 3) is closed
/// without a CONNACK.
/// conformance: v311:MQTT-3.1.2-1, v5:MQTT-3.1.2-1, v311:MQTT-3.1.4-1
#[test]
fn wrong_protocol_name_is_closed_without_connack() {
    for connect in [
        "10 0D 0004 4D515458 04 02 0000 0001 63",
        "10 0E 0004 4D515458 05 02 0000 00 0001 63",
        "10 0F 0006 4D5149736478 03 02 0000 0001 63",
    ] {
        let mut h = Harness::new(BrokerConfig::default());
        let conn = h.open(V311);
        h.send_bytes(conn, &hex(connect));
        assert_eq!(h.sent_bytes(conn), [], "{connect}");
        assert!(h.closed(conn).is_some(), "{connect}");
    }
}

/// A Protocol Level the broker does not speak is refused with the 3.1.1 return code 0x01
/// (Unacceptable protocol version) and closed.
/// conformance: v311:MQTT-3.1.2-2, v5:MQTT-3.1.2-2, v311:MQTT-3.2.2-5
#[test]
fn unsupported_protocol_level_is_refused_with_0x01() {
    for level in [2u8, 6, 0xFF] {
        let mut h = Harness::new(BrokerConfig::default());
        let conn = h.open(V311);
        let mut connect = hex("10 0D 0004 4D515454 04 02 0000 0001 63");
        connect[8] = level;
        h.send_bytes(conn, &connect);
        assert_eq!(h.sent_bytes(conn), hex("20 02 00 01"), "level {level}");
        assert!(h.closed(conn).is_some(), "level {level}");
    }
}

/// A CONNECT that breaks its own rules (here the reserved flag) is refused in its version: a
/// 5.0 CONNACK Malformed Packet (0x81), a 3.x close without CONNACK; nothing sent after it is
/// handled.
/// conformance: v311:MQTT-3.1.4-1, v5:MQTT-3.1.4-1, v311:MQTT-3.1.4-5, v5:MQTT-3.1.4-6,
/// v5:MQTT-3.2.2-7, v5:MQTT-3.14.0-1
#[test]
fn malformed_connect_is_refused_in_its_version() {
    for (version, connect, expected) in [
        (V311, "10 0D 0004 4D515454 04 03 0000 0001 63", ""),
        (
            V5,
            "10 0E 0004 4D515454 05 03 0000 00 0001 63",
            "20 03 00 81 00",
        ),
    ] {
        let mut h = Harness::new(BrokerConfig::default());
        let conn = h.open(version);
        let mut input = hex(connect);
        input.extend(h.encode(conn, retained(publish("r", b"x", QoS::AtMostOnce, 0))));
        h.send_bytes(conn, &input);
        assert_eq!(h.sent_bytes(conn), hex(expected), "{version}");
        assert!(h.closed(conn).is_some(), "{version}");
        assert_eq!(h.broker.stats().retained, 0, "{version}");
        assert_eq!(h.broker.stats().sessions, 0, "{version}");
    }
}

/// A 5.0 DISCONNECT may not set a Session Expiry Interval when the CONNECT's was 0: the broker
/// answers with DISCONNECT Protocol Error (0x82), and no session is kept.
#[test]
fn v5_disconnect_raising_a_zero_session_expiry_is_a_protocol_error() {
    let mut h = Harness::new(BrokerConfig::default());
    let (conn, _, _) = h.resume(V5, "c", 0);
    let mut disconnect = Disconnect::new(DisconnectReasonCode::NormalDisconnection);
    disconnect.properties.session_expiry_interval = Some(60);
    h.send(conn, disconnect);
    assert_violation(&mut h, conn, V5, 0x82);
    assert_eq!(h.broker.stats().sessions, 0);
    let (_, session_present, _) = h.resume(V5, "c", 0);
    assert!(!session_present);
}

/// A 5.0 PUBLISH from a client carrying a Subscription Identifier is a protocol error.
#[test]
fn v5_publish_with_a_subscription_identifier_is_a_protocol_error() {
    let mut h = Harness::new(BrokerConfig::default());
    let watcher = watcher(&mut h);
    let conn = h.connect(V5, "c");
    let mut message = publish("t", b"x", QoS::AtMostOnce, 0);
    message
        .properties
        .subscription_identifiers
        .push(mqtt_sansio::SubscriptionId::new(1).unwrap());
    h.send(conn, message);
    assert_violation(&mut h, conn, V5, 0x82);
    assert_eq!(h.sent(watcher), []);
}

/// A small deterministic generator (xorshift64*), so the sweeps are the same on every run.
struct Rng(u64);

impl Rng {
    /// The next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `packet` encoded in `version`.
fn encode_in(version: ProtocolVersion, packet: impl Into<Packet>) -> Vec<u8> {
    let mut bytes = Vec::new();
    packet.into().encode(version, &mut bytes).unwrap();
    bytes
}

/// A client's whole conversation in `version`, as bytes: CONNECT with a will and Keep Alive,
/// SUBSCRIBE, PUBLISH at each QoS, PUBREL, UNSUBSCRIBE, PINGREQ, DISCONNECT.
fn script(version: ProtocolVersion) -> Vec<u8> {
    let mut connect = keep_session(version, "fuzz", 30);
    connect.keep_alive = 5;
    let mut will = mqtt_sansio::Will::new(
        common::broker::topic("w"),
        mqtt_sansio::BinaryData::new(bytes::Bytes::from_static(b"bye")).unwrap(),
    );
    will.qos = QoS::AtLeastOnce;
    connect.will = Some(will);
    let packets: Vec<Packet> = vec![
        connect.into(),
        mqtt_sansio::Subscribe::new(
            pid(1),
            [mqtt_sansio::Subscription::new(
                common::broker::topic_filter("t/#"),
                QoS::ExactlyOnce,
            )],
        )
        .into(),
        publish("t/0", b"zero", QoS::AtMostOnce, 0).into(),
        retained(publish("t/1", b"one", QoS::AtLeastOnce, 2)).into(),
        publish("t/2", b"two", QoS::ExactlyOnce, 3).into(),
        mqtt_sansio::PubRel::new(pid(3)).into(),
        mqtt_sansio::Unsubscribe::new(pid(4), [common::broker::topic_filter("t/#")]).into(),
        mqtt_sansio::PingReq.into(),
        Disconnect::new(DisconnectReasonCode::NormalDisconnection).into(),
    ];
    packets
        .into_iter()
        .flat_map(|packet| encode_in(version, packet))
        .collect()
}

/// Feeds `input` to `conn` in pieces the generator picks, with time passing between them.
/// With `decode`, what the broker writes is decoded as the connection's client would read it
/// (so an invalid packet fails the test); without, it is drained unread (the input may have
/// changed the version).
fn feed(h: &mut Harness, rng: &mut Rng, conn: Conn, input: &[u8], decode: bool) {
    let mut rest = input;
    while !rest.is_empty() {
        let take = 1 + rng.below(rest.len().min(40));
        let (piece, tail) = rest.split_at(take);
        h.send_bytes(conn, piece);
        rest = tail;
        if rng.below(4) == 0 {
            h.advance(rng.below(8_000) as u64);
        }
        if decode {
            h.sent(conn);
        } else {
            h.sent_bytes(conn);
        }
    }
}

/// After a sweep the broker still works: a fresh subscriber and publisher exchange a message.
#[track_caller]
fn still_works(h: &mut Harness, round: usize) {
    let sub = h.connect(V311, &format!("check-sub-{round}"));
    h.subscribe(sub, "check", QoS::AtMostOnce);
    let publisher = h.connect(V5, &format!("check-pub-{round}"));
    h.send(publisher, publish("check", b"ok", QoS::AtMostOnce, 0));
    assert_eq!(h.sent(sub).len(), 1, "round {round}");
    h.drop_socket(sub);
    h.drop_socket(publisher);
}

/// Every single-byte corruption of a valid conversation, in every version, fed in random
/// pieces with time passing, leaves the broker without a panic, and the broker still serves
/// well-behaved clients afterwards.
/// conformance: v311:MQTT-4.8.0-1, v5:MQTT-4.13.1-1
#[test]
fn corrupted_conversations_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig {
            max_packet_size: 4096,
            ..BrokerConfig::default()
        });
        let sub = h.connect(V5, "watcher");
        h.subscribe(sub, "#", QoS::ExactlyOnce);
        let clean = script(version);
        for position in 0..clean.len() {
            for mask in [0x01u8, 0x80, 0xFF] {
                let mut input = clean.clone();
                input[position] ^= mask;
                let conn = h.open(version);
                feed(&mut h, &mut rng, conn, &input, false);
                h.drop_socket(conn);
            }
            h.sent(sub);
        }
        still_works(&mut h, 0);
    }
}

/// Random bytes, alone or behind a valid CONNECT, on several connections at once with time
/// passing, never make the broker panic; what it writes for a connection whose CONNECT was
/// valid is always valid in that version; and it keeps serving well-behaved clients.
/// conformance: v311:MQTT-4.8.0-1, v5:MQTT-4.13.1-1
#[test]
fn random_input_never_panics() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let mut h = Harness::new(BrokerConfig {
        max_packet_size: 2048,
        ..BrokerConfig::default()
    });
    let mut open: Vec<Conn> = Vec::new();
    for round in 0..600 {
        let version = VERSIONS[rng.below(3)];
        let connected = rng.below(3) != 0;
        let mut input = Vec::new();
        if connected {
            input.extend(encode_in(
                version,
                connect_packet(version, &format!("r{round}")),
            ));
        }
        let garbage = rng.below(300);
        input.extend((0..garbage).map(|_| rng.next() as u8));
        let conn = h.open(version);
        feed(&mut h, &mut rng, conn, &input, connected);
        open.push(conn);
        if open.len() > 4 {
            let oldest = open.remove(rng.below(open.len()));
            h.drop_socket(oldest);
        }
        if round % 200 == 199 {
            still_works(&mut h, round);
        }
    }
    for conn in open {
        h.drop_socket(conn);
    }
    assert_eq!(h.broker.stats().connections, 0);
}
