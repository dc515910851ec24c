//! Keep Alive: when the client sends PINGREQ, when it gives the server up for dead, and the
//! exact deadlines `poll_timeout` reports on the way.
#![cfg(feature = "v5")]

mod common;

use std::time::Duration;

use common::client::{Harness, connack_with, incoming, message, only_disconnected};
use mqtt_sansio::{
    ClientConfig, ConnAck, ConnAckProperties, ConnectOptions, ConnectReasonCode, Disconnect,
    DisconnectReason, DisconnectReasonCode, Event, Packet, PacketId, PingReq, PingResp,
    ProtocolVersion, PubAck, QoS,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;

/// A configuration whose ping timeout (3 s) is shorter than the Keep Alive the tests use.
fn config() -> ClientConfig {
    ClientConfig {
        ping_timeout: Duration::from_secs(3),
        ..ClientConfig::default()
    }
}

/// A client connected at time 0 with this Keep Alive, the CONNACK arriving at `connack_at`.
fn connected(version: ProtocolVersion, keep_alive: u16, connack_at: u64) -> Harness {
    let mut h = Harness::new(config());
    h.connect(
        ConnectOptions::new(version, "c")
            .unwrap()
            .keep_alive(keep_alive),
    );
    h.advance(connack_at);
    h.receive(ConnAck::new(false, ConnectReasonCode::Success));
    assert!(matches!(&h.events()[..], [Event::Connected(_)]));
    h
}

/// The deadline `poll_timeout` reports, in milliseconds.
fn deadline(h: &Harness) -> Option<u64> {
    h.client.poll_timeout().map(|t| t.as_millis())
}

/// Moves the clock to `millis` (absolute) and fires the timer if due.
fn advance_to(h: &mut Harness, millis: u64) {
    let now = h.now.as_millis();
    assert!(millis >= now, "time goes forward only");
    h.advance(millis - now);
}

/// With nothing else to send, a PINGREQ goes out exactly one Keep Alive after the last packet
/// the client sent (the CONNECT, for the first one, whenever the CONNACK arrived), and again
/// one Keep Alive after that PINGREQ.
/// conformance: v311:MQTT-3.1.2-23, v5:MQTT-3.1.2-20
#[test]
fn pingreq_one_keep_alive_after_the_last_packet_sent() {
    for &version in VERSIONS {
        let mut h = connected(version, 5, 2_000);
        assert_eq!(deadline(&h), Some(5_000), "MQTT {version}");
        advance_to(&mut h, 4_999);
        assert_eq!(h.sent(), []);
        advance_to(&mut h, 5_000);
        assert_eq!(h.sent(), [Packet::PingReq(PingReq)], "MQTT {version}");
        advance_to(&mut h, 5_100);
        h.receive(PingResp);
        assert_eq!(h.events(), []);
        assert_eq!(deadline(&h), Some(10_000));
        advance_to(&mut h, 9_999);
        assert_eq!(h.sent(), []);
        advance_to(&mut h, 10_000);
        assert_eq!(h.sent(), [Packet::PingReq(PingReq)], "MQTT {version}");
    }
}

/// Any packet the client sends restarts the Keep Alive period, so no PINGREQ is sent while
/// other packets go out often enough; packets received do not count, since Keep Alive bounds
/// the gap between packets the client sends.
/// conformance: v311:MQTT-3.1.2-23, v5:MQTT-3.1.2-20
#[test]
fn packets_sent_postpone_the_pingreq_and_packets_received_do_not() {
    for &version in VERSIONS {
        let mut h = connected(version, 5, 0);
        advance_to(&mut h, 3_000);
        h.client
            .publish(h.now, message("t", b"x", QoS::AtMostOnce))
            .unwrap();
        assert_eq!(h.sent().len(), 1);
        assert_eq!(deadline(&h), Some(8_000), "MQTT {version}");
        advance_to(&mut h, 5_000);
        assert_eq!(h.sent(), []);
        // A PUBACK the client writes in answer to a QoS 1 message counts too.
        advance_to(&mut h, 7_000);
        h.receive(incoming("t", b"q1", QoS::AtLeastOnce, 1));
        assert_eq!(
            h.sent(),
            [Packet::PubAck(PubAck::new(PacketId::new(1).unwrap()))]
        );
        assert_eq!(deadline(&h), Some(12_000), "MQTT {version}");
        // A QoS 0 message from the server needs no answer and moves nothing.
        advance_to(&mut h, 9_000);
        h.receive(incoming("t", b"q0", QoS::AtMostOnce, 1));
        assert_eq!(h.sent(), []);
        assert_eq!(deadline(&h), Some(12_000), "MQTT {version}");
        advance_to(&mut h, 12_000);
        assert_eq!(h.sent(), [Packet::PingReq(PingReq)], "MQTT {version}");
        h.events();
    }
}

/// No packet within the ping timeout after a PINGREQ: the connection is declared dead at
/// exactly that moment, with one `Event::Disconnected(KeepAliveTimeout)` and nothing written
/// (a 5.0 DISCONNECT would be pointless on a dead connection).
/// conformance: v311:MQTT-3.1.2-23, v5:MQTT-3.1.2-20
#[test]
fn no_packet_within_the_ping_timeout_ends_the_connection() {
    for &version in VERSIONS {
        let mut h = connected(version, 5, 0);
        advance_to(&mut h, 5_000);
        assert_eq!(h.sent(), [Packet::PingReq(PingReq)]);
        assert_eq!(deadline(&h), Some(8_000), "MQTT {version}");
        advance_to(&mut h, 7_999);
        assert_eq!(h.events(), []);
        assert!(h.client.is_connected());
        advance_to(&mut h, 8_000);
        let disconnected = only_disconnected(h.events());
        assert_eq!(disconnected.reason, DisconnectReason::KeepAliveTimeout);
        assert_eq!(h.sent_bytes(), b"", "MQTT {version}");
        assert_eq!(h.client.poll_timeout(), None);
        assert!(!h.client.is_connected());
    }
}

/// Any complete packet from the server after a PINGREQ shows it is alive, not only a
/// PINGRESP: a PUBLISH, or an acknowledgement the client ignores, clears the ping deadline and
/// the next PINGREQ is due a Keep Alive after the last one.
#[test]
fn any_packet_after_pingreq_shows_the_server_alive() {
    let answers: [fn(&mut Harness); 3] = [
        |h| h.receive(PingResp),
        |h| h.receive(incoming("t", b"x", QoS::AtMostOnce, 1)),
        |h| h.receive(PubAck::new(PacketId::new(77).unwrap())),
    ];
    for &version in VERSIONS {
        for (index, answer) in answers.iter().enumerate() {
            let mut h = connected(version, 5, 0);
            advance_to(&mut h, 5_000);
            assert_eq!(h.sent(), [Packet::PingReq(PingReq)]);
            advance_to(&mut h, 7_000);
            answer(&mut h);
            h.events();
            assert_eq!(h.sent(), []);
            assert_eq!(deadline(&h), Some(10_000), "MQTT {version}, answer {index}");
            advance_to(&mut h, 8_000);
            assert!(h.client.is_connected(), "MQTT {version}, answer {index}");
            assert_eq!(h.events(), []);
            advance_to(&mut h, 10_000);
            assert_eq!(h.sent(), [Packet::PingReq(PingReq)]);
        }
    }
}

/// The first bytes of a packet are not a packet: a PINGRESP cut in half does not show the
/// server alive until its last byte arrives.
#[test]
fn a_partial_packet_does_not_clear_the_ping_deadline() {
    for &version in VERSIONS {
        let mut h = connected(version, 5, 0);
        advance_to(&mut h, 5_000);
        assert_eq!(h.sent(), [Packet::PingReq(PingReq)]);
        let mut bytes = Vec::new();
        Packet::from(incoming("t", b"x", QoS::AtMostOnce, 1))
            .encode(version, &mut bytes)
            .unwrap();
        let (head, tail) = bytes.split_at(bytes.len() - 1);
        h.receive_bytes(head);
        assert_eq!(h.events(), []);
        assert_eq!(deadline(&h), Some(8_000), "MQTT {version}");
        h.receive_bytes(tail);
        assert!(matches!(&h.events()[..], [Event::Message(_)]));
        assert_eq!(deadline(&h), Some(10_000), "MQTT {version}");
    }
}

/// Keep Alive 0 switches the mechanism off: no deadline, no PINGREQ however long the
/// connection stays idle, and no ping timeout.
#[test]
fn keep_alive_0_sends_no_pingreq() {
    for &version in VERSIONS {
        let mut h = connected(version, 0, 1_000);
        assert_eq!(deadline(&h), None, "MQTT {version}");
        for _ in 0..24 {
            h.advance(3_600_000);
        }
        assert_eq!(h.sent(), []);
        assert_eq!(h.events(), []);
        assert!(h.client.is_connected());
    }
}

/// A 5.0 Server Keep Alive replaces the client's: shorter or longer, and 0 switches pings
/// off; a Server Keep Alive on a connection that asked for none turns them on.
/// conformance: v5:MQTT-3.1.2-21, v5:MQTT-3.2.2-21
#[test]
fn server_keep_alive_replaces_ours() {
    // (ours, the server's, when the first PINGREQ is due)
    for (ours, servers, due) in [
        (60, 5, Some(5_000)),
        (5, 120, Some(120_000)),
        (30, 0, None),
        (0, 10, Some(10_000)),
    ] {
        let mut h = Harness::new(config());
        let connected = h.connect_with(
            ConnectOptions::new(ProtocolVersion::V5, "c")
                .unwrap()
                .keep_alive(ours),
            connack_with(ConnAckProperties {
                server_keep_alive: Some(servers),
                ..ConnAckProperties::default()
            }),
        );
        assert_eq!(connected.keep_alive, servers);
        assert_eq!(deadline(&h), due, "ours {ours}, server's {servers}");
        match due {
            Some(due) => {
                // Not at our own interval when it is shorter, and exactly at the server's.
                advance_to(&mut h, due - 1);
                assert_eq!(h.sent(), [], "ours {ours}, server's {servers}");
                advance_to(&mut h, due);
                assert_eq!(h.sent(), [Packet::PingReq(PingReq)]);
            }
            None => {
                h.advance(u64::from(ours) * 10_000);
                assert_eq!(h.sent(), [], "ours {ours}, server's {servers}");
                assert!(h.client.is_connected());
            }
        }
    }
}

/// `poll_timeout` names each deadline exactly: none before `connect`, the CONNACK deadline
/// while connecting, the next PINGREQ once connected, the ping timeout while a PINGREQ waits
/// for an answer, and none once the connection has ended.
#[test]
fn poll_timeout_names_each_deadline_exactly() {
    for &version in VERSIONS {
        let config = ClientConfig {
            connect_timeout: Duration::from_secs(4),
            ping_timeout: Duration::from_millis(1_500),
            ..ClientConfig::default()
        };
        let mut h = Harness::new(config);
        assert_eq!(deadline(&h), None);
        advance_to(&mut h, 1_000);
        h.connect(ConnectOptions::new(version, "c").unwrap().keep_alive(2));
        assert_eq!(deadline(&h), Some(5_000), "MQTT {version}");
        advance_to(&mut h, 1_500);
        h.receive(ConnAck::new(false, ConnectReasonCode::Success));
        h.events();
        assert_eq!(deadline(&h), Some(3_000), "MQTT {version}");
        advance_to(&mut h, 3_000);
        assert_eq!(deadline(&h), Some(4_500), "MQTT {version}");
        assert_eq!(h.sent(), [Packet::PingReq(PingReq)]);
        advance_to(&mut h, 3_200);
        h.receive(PingResp);
        assert_eq!(deadline(&h), Some(5_000), "MQTT {version}");
        advance_to(&mut h, 4_000);
        h.client
            .publish(h.now, message("t", b"x", QoS::AtMostOnce))
            .unwrap();
        h.sent();
        assert_eq!(deadline(&h), Some(6_000), "MQTT {version}");
        if version.is_v5() {
            h.receive(Disconnect::new(DisconnectReasonCode::ServerShuttingDown));
        } else {
            h.drop_transport();
        }
        only_disconnected(h.events());
        assert_eq!(deadline(&h), None, "MQTT {version}");
    }
}

/// `handle_timeout` before a deadline does nothing, however often it is called: no packet, no
/// event, the same deadline. Nor does it after the connection ended or before one began, and a
/// PINGREQ waiting for its answer is not repeated by early calls.
#[test]
fn early_or_spurious_handle_timeout_calls_are_no_ops() {
    for &version in VERSIONS {
        let mut h = Harness::new(config());
        for millis in [0, 0, 10, 5_000] {
            h.advance(millis);
            assert_eq!(h.sent_bytes(), b"");
            assert_eq!(h.events(), []);
            assert_eq!(deadline(&h), None);
        }
        h.connect(ConnectOptions::new(version, "c").unwrap().keep_alive(5));
        let connack_deadline = deadline(&h);
        for _ in 0..50 {
            h.advance(100);
            assert_eq!(deadline(&h), connack_deadline);
        }
        h.receive(ConnAck::new(false, ConnectReasonCode::Success));
        h.events();
        let ping_at = deadline(&h).unwrap();
        while h.now.as_millis() + 250 < ping_at {
            h.advance(250);
            h.advance(0);
            assert_eq!(h.sent(), [], "MQTT {version}");
            assert_eq!(h.events(), []);
            assert_eq!(deadline(&h), Some(ping_at));
        }
        advance_to(&mut h, ping_at);
        assert_eq!(h.sent(), [Packet::PingReq(PingReq)]);
        let dead_at = deadline(&h).unwrap();
        for _ in 0..5 {
            h.advance(0);
            h.advance(500);
            assert_eq!(h.sent(), [], "MQTT {version}: PINGREQ repeated");
            assert_eq!(deadline(&h), Some(dead_at));
        }
        h.drop_transport();
        only_disconnected(h.events());
        for _ in 0..5 {
            h.advance(60_000);
            assert_eq!(h.sent_bytes(), b"");
            assert_eq!(h.events(), []);
        }
    }
}

/// Keep Alive bounds the gap between any two packets the client sends while connected, even
/// when the server does not answer a PINGREQ: if the ping timeout is longer than the Keep
/// Alive, the client either pings again or gives the connection up before the gap exceeds it.
/// conformance: v311:MQTT-3.1.2-23, v5:MQTT-3.1.2-20
#[test]
fn gap_between_packets_sent_never_exceeds_keep_alive() {
    for &version in VERSIONS {
        let config = ClientConfig {
            ping_timeout: Duration::from_secs(10),
            ..ClientConfig::default()
        };
        let mut h = Harness::new(config);
        h.connect_with(
            ConnectOptions::new(version, "c").unwrap().keep_alive(2),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        // The server answers nothing; step through 30 s, 100 ms at a time.
        let mut last_sent = 0;
        while h.client.is_connected() && h.now.as_millis() < 30_000 {
            h.advance(100);
            if !h.sent_bytes().is_empty() {
                last_sent = h.now.as_millis();
            }
            if h.client.is_connected() {
                let gap = h.now.as_millis() - last_sent;
                assert!(
                    gap <= 2_000,
                    "MQTT {version}: {gap} ms without a packet at {} ms, still connected",
                    h.now.as_millis()
                );
            }
        }
    }
}
