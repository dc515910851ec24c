//! Keep Alive on the broker: a silent client is closed one and a half Keep Alives after its
//! last packet, any packet restarts that clock, PINGREQ is answered, and a 5.0 client's Keep
//! Alive is capped by the broker's maximum (Server Keep Alive).
#![cfg(feature = "v5")]

mod common;

use common::broker::{Conn, Harness, connect_packet, publish};
use common::hex;
use mqtt_sansio::broker::{CloseReason, Event};
use mqtt_sansio::{BrokerConfig, ConnectReasonCode, PingReq, ProtocolVersion, QoS};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// Connects `client_id` with `keep_alive` seconds at the current time; returns the connection
/// and the CONNACK's Server Keep Alive.
fn connect_keep_alive(
    h: &mut Harness,
    version: ProtocolVersion,
    client_id: &str,
    keep_alive: u16,
) -> (Conn, Option<u16>) {
    let mut connect = connect_packet(version, client_id);
    connect.keep_alive = keep_alive;
    let (conn, connack, rest) = h.connect_with(connect);
    assert_eq!(connack.reason_code, ConnectReasonCode::Success);
    assert_eq!(rest, []);
    (conn, connack.properties.server_keep_alive)
}

/// Moves the clock to `millis` (absolute).
fn advance_to(h: &mut Harness, millis: u64) {
    let now = h.now.as_millis();
    assert!(millis >= now, "time goes forward only");
    h.advance(millis - now);
}

/// Acts as a driver that sleeps until `poll_timeout` each time (it may wake early and find
/// nothing due), until `conn` is closed or the clock would pass `limit` ms; when it was closed.
fn closed_at_following_poll_timeout(h: &mut Harness, conn: Conn, limit: u64) -> Option<u64> {
    for _ in 0..100 {
        let at = h.broker.poll_timeout()?.as_millis();
        if at > limit {
            return None;
        }
        advance_to(h, at.max(h.now.as_millis()));
        if h.closed(conn).is_some() {
            return Some(h.now.as_millis());
        }
    }
    panic!("poll_timeout kept waking the driver with nothing to do");
}

/// What a client the broker gave up on for silence reads: 5.0 DISCONNECT Keep Alive timeout
/// (0x8D), nothing in 3.x; and it is closed.
#[track_caller]
fn assert_timed_out(h: &mut Harness, conn: Conn, version: ProtocolVersion) {
    let expected = if version.is_v5() {
        hex("E0 01 8D")
    } else {
        vec![]
    };
    assert_eq!(h.sent_bytes(conn), expected, "{version}");
    assert_eq!(
        h.closed(conn),
        Some(CloseReason::KeepAliveTimeout),
        "{version}"
    );
}

/// A client that sends nothing is closed exactly one and a half Keep Alives after its
/// CONNECT, not a millisecond earlier; a 5.0 client is told why with DISCONNECT 0x8D.
/// conformance: v311:MQTT-3.1.2-24, v5:MQTT-3.1.2-22
#[test]
fn silent_client_is_closed_after_one_and_a_half_keep_alives() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        advance_to(&mut h, 1_000);
        let (conn, _) = connect_keep_alive(&mut h, version, "c", 10);
        h.events();
        assert_eq!(
            closed_at_following_poll_timeout(&mut h, conn, 100_000),
            Some(16_000),
            "{version}"
        );
        assert_timed_out(&mut h, conn, version);
        h.events();

        // Again, moving the clock by hand.
        let (conn, _) = connect_keep_alive(&mut h, version, "d", 10);
        h.events();
        advance_to(&mut h, 30_999);
        assert_eq!(h.closed(conn), None, "{version}");
        assert_eq!(h.sent_bytes(conn), [], "{version}");
        advance_to(&mut h, 31_000);
        assert_timed_out(&mut h, conn, version);
        assert!(
            matches!(
                &h.events()[..],
                [Event::Close {
                    reason: CloseReason::KeepAliveTimeout,
                    ..
                }]
            ),
            "{version}"
        );
    }
}

/// Every packet restarts the clock: a PINGREQ (answered with PINGRESP) or a PUBLISH keeps a
/// client connected for another one and a half Keep Alives from then.
/// conformance: v311:MQTT-3.1.2-24, v5:MQTT-3.1.2-22, v311:MQTT-3.12.4-1, v5:MQTT-3.12.4-1
#[test]
fn any_packet_restarts_the_keep_alive_clock() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let (conn, _) = connect_keep_alive(&mut h, version, "c", 10);
        advance_to(&mut h, 14_000);
        h.send(conn, PingReq);
        assert_eq!(h.sent_bytes(conn), hex("D0 00"), "{version}: PINGRESP");
        advance_to(&mut h, 28_000);
        h.send(conn, publish("t", b"x", QoS::AtMostOnce, 0));
        advance_to(&mut h, 42_999);
        assert_eq!(h.closed(conn), None, "{version}");
        advance_to(&mut h, 43_000);
        assert_timed_out(&mut h, conn, version);
    }
}

/// Keep Alive 0 turns the mechanism off: the broker never closes the client for silence.
#[test]
fn keep_alive_0_is_never_enforced() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let (conn, _) = connect_keep_alive(&mut h, version, "c", 0);
        assert_eq!(
            closed_at_following_poll_timeout(&mut h, conn, 10 * 86_400_000),
            None,
            "{version}"
        );
        assert_eq!(h.broker.poll_timeout(), None, "{version}: no timer left");
        h.advance(10 * 86_400_000);
        assert_eq!(h.closed(conn), None, "{version}");
    }
}

/// A 5.0 client asking for a Keep Alive longer than the broker's maximum, or for none, is
/// told Server Keep Alive = the maximum and held to it; one within the maximum gets no
/// Server Keep Alive and is held to its own.
/// conformance: v5:MQTT-3.2.2-22, v5:MQTT-3.1.2-22
#[test]
fn v5_server_keep_alive_caps_the_clients() {
    for (asked, told, closed_at) in [
        (100, Some(30), 45_000),
        (0, Some(30), 45_000),
        (20, None, 30_000),
    ] {
        let mut h = Harness::new(BrokerConfig {
            max_keep_alive: Some(30),
            ..BrokerConfig::default()
        });
        let (conn, server_keep_alive) = connect_keep_alive(&mut h, V5, "c", asked);
        assert_eq!(server_keep_alive, told, "asked {asked}");
        advance_to(&mut h, closed_at - 1);
        assert_eq!(h.closed(conn), None, "asked {asked}");
        advance_to(&mut h, closed_at);
        assert_timed_out(&mut h, conn, V5);
    }
}

/// 3.x has no Server Keep Alive: the broker's maximum does not apply, and a 3.x client is held
/// to the Keep Alive it asked for.
/// conformance: v311:MQTT-3.1.2-24
#[test]
fn v3_keep_alive_is_held_to_its_own_value_whatever_the_maximum() {
    for version in [ProtocolVersion::V3_1, ProtocolVersion::V3_1_1] {
        let mut h = Harness::new(BrokerConfig {
            max_keep_alive: Some(30),
            ..BrokerConfig::default()
        });
        let (conn, _) = connect_keep_alive(&mut h, version, "c", 100);
        advance_to(&mut h, 149_999);
        assert_eq!(h.closed(conn), None, "{version}");
        advance_to(&mut h, 150_000);
        assert_timed_out(&mut h, conn, version);
    }
}

/// One client's silence closes only that client: another with a longer Keep Alive, and one
/// that keeps pinging, stay.
#[test]
fn keep_alive_is_per_connection() {
    let mut h = Harness::new(BrokerConfig::default());
    let (short, _) = connect_keep_alive(&mut h, V5, "short", 2);
    let (long, _) = connect_keep_alive(&mut h, ProtocolVersion::V3_1_1, "long", 60);
    let (pinging, _) = connect_keep_alive(&mut h, ProtocolVersion::V3_1, "pinging", 2);
    for second in 1..=4 {
        advance_to(&mut h, second * 1_000);
        h.send(pinging, PingReq);
    }
    assert_timed_out(&mut h, short, V5);
    assert_eq!(h.closed(long), None);
    assert_eq!(h.closed(pinging), None);
    assert_eq!(h.sent_bytes(pinging), hex("D0 00 D0 00 D0 00 D0 00"));
}
