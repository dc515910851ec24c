//! Sessions on the broker: Clean Start / Clean Session, Session Present, what a stored session
//! keeps while its client is away, and when it ends (Session Expiry 0, finite, never; a 3.x
//! session kept as long as the broker allows).
#![cfg(feature = "v5")]

mod common;

use common::broker::{Harness, deliveries, got, keep_session, publish};
use common::hex;
use mqtt_sansio::{
    BrokerConfig, ConnectReasonCode, Disconnect, DisconnectReasonCode, Packet, ProtocolVersion, QoS,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
const V31: ProtocolVersion = ProtocolVersion::V3_1;

/// Session Present as a client of `version` learns it: 3.1 has no such flag.
fn present(version: ProtocolVersion) -> bool {
    version != V31
}

/// The client ends its connection with a DISCONNECT (0x00 in 5.0).
fn disconnect(h: &mut Harness, conn: common::broker::Conn) {
    h.send(
        conn,
        Disconnect::new(DisconnectReasonCode::NormalDisconnection),
    );
}

/// A session kept with Clean Start 0 is discarded by a later Clean Start 1: Session Present 0,
/// and its subscription no longer delivers.
/// conformance: v311:MQTT-3.1.2-6, v5:MQTT-3.1.2-4, v311:MQTT-3.2.2-1, v5:MQTT-3.2.2-2,
/// v311:MQTT-3.1.4-3, v5:MQTT-3.1.4-4
#[test]
fn clean_start_1_discards_the_stored_session() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let (conn, _, _) = h.resume(version, "c", 600);
        h.subscribe(conn, "t", QoS::AtLeastOnce);
        disconnect(&mut h, conn);
        let conn = h.connect(version, "c");
        assert_eq!(h.broker.stats().subscriptions, 0, "{version}");
        let publisher = h.connect(V311, "p");
        h.send(publisher, publish("t", b"x", QoS::AtLeastOnce, 1));
        assert_eq!(h.sent(conn), [], "{version}");
    }
}

/// Clean Start 0 resumes the stored session: Session Present 1 (no flag in 3.1), its
/// subscription still there, and the QoS 1 and 2 messages that matched it while the client
/// was away delivered after the CONNACK, in order; QoS 0 ones are not kept.
/// conformance: v311:MQTT-3.1.2-4, v311:MQTT-3.1.2-5, v311:MQTT-3.2.2-2, v5:MQTT-3.1.2-5,
/// v5:MQTT-3.2.2-3, v311:MQTT-4.1.0-1, v5:MQTT-3.1.2-23, v5:MQTT-4.5.0-1, v311:MQTT-4.5.0-1
#[test]
fn clean_start_0_resumes_the_session_and_gets_what_came_meanwhile() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let (conn, session_present, _) = h.resume(version, "c", 600);
        assert!(!session_present);
        h.subscribe(conn, "t/#", QoS::ExactlyOnce);
        disconnect(&mut h, conn);
        let publisher = h.connect(V5, "p");
        h.send(publisher, publish("t/1", b"one", QoS::AtLeastOnce, 1));
        h.send(publisher, publish("t/0", b"zero", QoS::AtMostOnce, 0));
        h.send(publisher, publish("t/2", b"two", QoS::ExactlyOnce, 2));
        h.send(publisher, publish("t/3", b"three", QoS::AtLeastOnce, 3));
        let (_, session_present, after) = h.resume(version, "c", 600);
        assert_eq!(session_present, present(version), "{version}");
        assert_eq!(
            deliveries(&after),
            [
                got("t/1", b"one", QoS::AtLeastOnce),
                got("t/2", b"two", QoS::ExactlyOnce),
                got("t/3", b"three", QoS::AtLeastOnce),
            ],
            "{version}"
        );
    }
}

/// Clean Start 0 without a stored session creates one: Session Present 0, and the next
/// connection finds it.
/// conformance: v311:MQTT-3.2.2-3, v5:MQTT-3.1.2-6, v5:MQTT-3.2.2-3, v311:MQTT-3.1.2-4
#[test]
fn clean_start_0_without_a_session_creates_one() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let (conn, session_present, _) = h.resume(version, "c", 600);
        assert!(!session_present, "{version}");
        h.drop_socket(conn);
        let (_, session_present, _) = h.resume(version, "c", 600);
        assert_eq!(session_present, present(version), "{version}");
    }
}

/// A 3.1 CONNACK has no Session Present flag: a resumed 3.1 session is acknowledged with the
/// same four bytes as a new one.
#[test]
fn v31_connack_of_a_resumed_session_has_no_flag() {
    let mut h = Harness::new(BrokerConfig::default());
    let (conn, _, _) = h.resume(V31, "c", 0);
    h.drop_socket(conn);
    h.events();
    let conn = h.open(V31);
    h.send(conn, keep_session(V31, "c", 0));
    assert_eq!(h.sent_bytes(conn), hex("20 02 00 00"));
    assert!(matches!(
        &h.events()[..],
        [mqtt_sansio::broker::Event::Connected {
            session_present: false,
            ..
        }]
    ));
}

/// A session lasts as long as its connection at least: a Clean Start 1 session (3.x) or one
/// with Session Expiry 0 (5.0) holds its subscriptions while connected and ends with the
/// connection.
/// conformance: v311:MQTT-4.1.0-2, v5:MQTT-4.1.0-1, v5:MQTT-4.1.0-2
#[test]
fn a_session_without_expiry_lasts_as_long_as_its_connection() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let conn = h.connect(version, "c");
        h.subscribe(conn, "t", QoS::AtLeastOnce);
        let publisher = h.connect(V311, "p");
        h.send(publisher, publish("t", b"x", QoS::AtLeastOnce, 1));
        assert_eq!(h.sent(conn).len(), 1, "{version}");
        h.drop_socket(conn);
        let stats = h.broker.stats();
        assert_eq!((stats.sessions, stats.subscriptions), (1, 0), "{version}");
        if version.is_v5() {
            // Clean Start 0 but Session Expiry 0: nothing was kept.
            let (_, session_present, _) = h.resume(version, "c", 0);
            assert!(!session_present);
        }
    }
}

/// A 5.0 session with a finite Session Expiry Interval outlives its connection for exactly
/// that long: a reconnect a millisecond before finds it, one at the end does not, and the
/// broker drops it (and what it held) when the timer fires.
/// conformance: v5:MQTT-4.1.0-2, v5:MQTT-3.1.2-23
#[test]
fn v5_finite_session_expiry_ends_the_session_at_its_time() {
    let mut h = Harness::new(BrokerConfig::default());
    let (conn, _, _) = h.resume(V5, "c", 60);
    h.subscribe(conn, "t", QoS::AtLeastOnce);
    h.drop_socket(conn);
    h.advance(59_999);
    let (conn, session_present, _) = h.resume(V5, "c", 60);
    assert!(session_present);
    h.drop_socket(conn);
    let publisher = h.connect(V311, "p");
    h.send(publisher, publish("t", b"queued", QoS::AtLeastOnce, 1));
    assert_eq!(h.broker.stats().stored_messages, 1);
    h.advance(59_999);
    assert_eq!(h.broker.stats().sessions, 2);
    h.advance(1);
    let stats = h.broker.stats();
    assert_eq!(
        (stats.sessions, stats.subscriptions, stats.stored_messages),
        (1, 0, 0)
    );
    let (_, session_present, after) = h.resume(V5, "c", 60);
    assert!(!session_present);
    assert_eq!(after, []);
}

/// A Session Expiry Interval of 0xFFFFFFFF never expires when the broker allows it; capped at
/// the broker's maximum otherwise.
/// conformance: v5:MQTT-3.1.2-23
#[test]
fn v5_session_expiry_never_keeps_the_session_forever() {
    let mut h = Harness::new(BrokerConfig {
        max_session_expiry: u32::MAX,
        ..BrokerConfig::default()
    });
    let (conn, connack, _) = h.connect_with(keep_session(V5, "forever", u32::MAX));
    assert_eq!(connack.properties.session_expiry_interval, None);
    h.drop_socket(conn);
    h.advance(200 * 86_400_000);
    let (_, session_present, _) = h.resume(V5, "forever", u32::MAX);
    assert!(session_present);

    let mut h = Harness::new(BrokerConfig::default());
    let (conn, connack, _) = h.connect_with(keep_session(V5, "capped", u32::MAX));
    assert_eq!(connack.properties.session_expiry_interval, Some(86_400));
    h.drop_socket(conn);
    h.advance(86_400_000);
    assert_eq!(h.broker.stats().sessions, 0);
}

/// A 3.x Clean Session 0 session is kept as long as the broker keeps any session
/// (`max_session_expiry`), then dropped.
/// conformance: v311:MQTT-3.1.2-4
#[test]
fn v3_persistent_session_is_kept_for_the_broker_maximum() {
    for version in [V31, V311] {
        let mut h = Harness::new(BrokerConfig {
            max_session_expiry: 3_600,
            ..BrokerConfig::default()
        });
        let (conn, _, _) = h.resume(version, "c", 0);
        h.drop_socket(conn);
        h.advance(3_599_999);
        assert_eq!(h.broker.stats().sessions, 1, "{version}");
        h.advance(1);
        assert_eq!(h.broker.stats().sessions, 0, "{version}");
    }
}

/// A 5.0 DISCONNECT may change the Session Expiry Interval: to 0, the session ends with the
/// connection; to a longer one, it is kept that long.
#[test]
fn v5_disconnect_changes_the_session_expiry() {
    let mut h = Harness::new(BrokerConfig::default());
    let (conn, _, _) = h.resume(V5, "c", 60);
    let mut ending = Disconnect::new(DisconnectReasonCode::NormalDisconnection);
    ending.properties.session_expiry_interval = Some(0);
    h.send(conn, ending);
    assert_eq!(h.broker.stats().sessions, 0);

    let (conn, _, _) = h.resume(V5, "c", 60);
    let mut longer = Disconnect::new(DisconnectReasonCode::NormalDisconnection);
    longer.properties.session_expiry_interval = Some(120);
    h.send(conn, longer);
    h.advance(119_999);
    assert_eq!(h.broker.stats().sessions, 1);
    h.advance(1);
    assert_eq!(h.broker.stats().sessions, 0);
}

/// Session state is keyed by Client Identifier: two clients' subscriptions and queues are
/// their own, and each resumes its own.
/// conformance: v311:MQTT-3.1.3-2, v5:MQTT-3.1.3-2
#[test]
fn session_state_is_keyed_by_client_id() {
    for version in [V311, V5] {
        let mut h = Harness::new(BrokerConfig::default());
        let (a, _, _) = h.resume(version, "a", 600);
        let (b, _, _) = h.resume(version, "b", 600);
        h.subscribe(a, "for/a", QoS::AtLeastOnce);
        h.subscribe(b, "for/b", QoS::AtLeastOnce);
        h.drop_socket(a);
        h.drop_socket(b);
        let publisher = h.connect(V311, "p");
        h.send(publisher, publish("for/a", b"A", QoS::AtLeastOnce, 1));
        h.send(publisher, publish("for/b", b"B", QoS::AtLeastOnce, 2));
        let (_, _, to_b) = h.resume(version, "b", 600);
        let (_, _, to_a) = h.resume(version, "a", 600);
        assert_eq!(deliveries(&to_a), [got("for/a", b"A", QoS::AtLeastOnce)]);
        assert_eq!(deliveries(&to_b), [got("for/b", b"B", QoS::AtLeastOnce)]);
    }
}

/// A resumed session with nothing pending gets the CONNACK alone; the events report the
/// resumption to the driver.
#[test]
fn resumed_session_with_nothing_pending_gets_only_connack() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let (conn, _, _) = h.resume(version, "c", 600);
        h.subscribe(conn, "t", QoS::AtLeastOnce);
        h.drop_socket(conn);
        h.events();
        let conn = h.open(version);
        h.send(conn, keep_session(version, "c", 600));
        let sent = h.sent(conn);
        assert!(
            matches!(&sent[..], [Packet::ConnAck(connack)] if connack.reason_code == ConnectReasonCode::Success),
            "{version}: {sent:?}"
        );
        let events = h.events();
        assert!(
            matches!(
                &events[..],
                [mqtt_sansio::broker::Event::Connected { session_present, .. }]
                    if *session_present == present(version)
            ),
            "{version}: {events:?}"
        );
    }
}
