//! Brokers side by side, as the nodes of a cluster (or the cores of one process) run them:
//! each reports the filters it gains and loses subscribers for, forwards what a peer wants
//! to that peer once and never back, and hands a session over when its client reconnects on
//! another broker. The test plays the cluster driver.
#![cfg(feature = "v5")]

mod common;

use bytes::Bytes;
use common::broker::{
    Conn, Harness, deliveries, got, keep_session, only_disconnect, only_publish, publish, retained,
    topic, topic_filter,
};
use mqtt_sansio::broker::{AllowAll, CloseReason, Event, SnapshotError};
use mqtt_sansio::{
    BinaryData, Broker, BrokerConfig, Disconnect, DisconnectReasonCode, ProtocolVersion, Publish,
    QoS, Unsubscribe, Will,
};

const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// How the driver names broker A to the others.
const PEER_A: u32 = 1;
/// How the driver names broker B to the others.
const PEER_B: u32 = 2;
/// A third broker that only registers interest.
const PEER_C: u32 = 3;

/// The default configuration with interest reported.
fn config() -> BrokerConfig {
    BrokerConfig {
        report_interest: true,
        ..BrokerConfig::default()
    }
}

/// The interest events among `events`, in order, as (filter, gained).
fn interests(events: &[Event]) -> Vec<(String, bool)> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Interest { filter, gained } => Some((filter.as_str().to_owned(), *gained)),
            _ => None,
        })
        .collect()
}

/// `(filter, gained)` pairs, to compare with [`interests`].
fn expect(pairs: &[(&str, bool)]) -> Vec<(String, bool)> {
    pairs
        .iter()
        .map(|&(filter, gained)| (filter.to_owned(), gained))
        .collect()
}

/// The forward events among `events`, in order, as (peer, message).
fn forwards(events: Vec<Event>) -> Vec<(u32, Publish)> {
    events
        .into_iter()
        .filter_map(|event| match event {
            Event::Forward { peer, message } => Some((peer, *message)),
            _ => None,
        })
        .collect()
}

/// The driver's part: `to` learns the interest `events` report for `peer`.
fn register(events: &[Event], to: &mut Harness, peer: u32) {
    for event in events {
        if let Event::Interest { filter, gained } = event {
            if *gained {
                to.broker.add_remote_interest(peer, filter).unwrap();
            } else {
                to.broker.remove_remote_interest(peer, filter.as_str());
            }
        }
    }
}

/// The driver's part: hands `message` to `to`, as from another broker.
fn deliver(to: &mut Harness, message: Publish) {
    to.broker.publish(to.now, message).unwrap();
    to.advance(0);
}

/// Ends `conn`'s connection with a normal DISCONNECT.
fn disconnect(h: &mut Harness, conn: Conn) {
    h.send(
        conn,
        Disconnect::new(DisconnectReasonCode::NormalDisconnection),
    );
}

/// Sends UNSUBSCRIBE of `filter` on `conn`.
fn unsubscribe(h: &mut Harness, conn: Conn, filter: &str) {
    let id = h.next_id(conn);
    h.send(conn, Unsubscribe::new(id, [topic_filter(filter)]));
    h.sent(conn);
}

/// A 5.0 CONNECT of `client_id` keeping its session an hour, with a QoS 1 Will of `gone` on
/// `wills/{client_id}` delayed `delay` seconds.
fn with_delayed_will(client_id: &str, delay: u32) -> mqtt_sansio::Connect {
    let mut connect = keep_session(V5, client_id, 3600);
    let mut will = Will::new(
        topic(&format!("wills/{client_id}")),
        BinaryData::new(Bytes::from_static(b"gone")).unwrap(),
    );
    will.qos = QoS::AtLeastOnce;
    will.properties.will_delay_interval = Some(delay);
    connect.will = Some(will);
    connect
}

// ---- forwarding ----

/// The whole loop: B reports its subscriber's filters, the driver registers them on A (and
/// A's on B), a message published on A that matches is reported once for B however many of
/// B's filters match, the driver hands it to B, B's subscriber gets it exactly once, and B
/// reports nothing to forward back although A wants the same topics. A message that no
/// peer wants is not reported.
#[test]
fn a_message_crosses_to_the_interested_broker_once_and_never_back() {
    let mut a = Harness::new(config());
    let mut b = Harness::new(config());
    let sub_a = a.connect(V5, "sub-a");
    a.subscribe(sub_a, "x/#", QoS::AtLeastOnce);
    let sub_b = b.connect(V311, "sub-b");
    b.subscribe(sub_b, "x/#", QoS::AtLeastOnce);
    b.subscribe(sub_b, "x/+", QoS::AtLeastOnce);
    let (from_a, from_b) = (a.events(), b.events());
    assert_eq!(interests(&from_a), expect(&[("x/#", true)]));
    assert_eq!(interests(&from_b), expect(&[("x/#", true), ("x/+", true)]));
    register(&from_a, &mut b, PEER_A);
    register(&from_b, &mut a, PEER_B);

    let publisher = a.connect(V5, "pub");
    a.send(publisher, publish("x/1", b"hello", QoS::AtLeastOnce, 1));
    let mut forwarded = forwards(a.events());
    assert_eq!(forwarded.len(), 1, "{forwarded:?}");
    let (peer, message) = forwarded.remove(0);
    assert_eq!(peer, PEER_B);
    assert_eq!(message.topic.as_ref().unwrap().as_str(), "x/1");
    assert_eq!(message.qos(), QoS::AtLeastOnce);
    assert_eq!(
        deliveries(&a.sent(sub_a)),
        [got("x/1", b"hello", QoS::AtLeastOnce)]
    );

    deliver(&mut b, message);
    assert_eq!(
        deliveries(&b.sent(sub_b)),
        [got("x/1", b"hello", QoS::AtLeastOnce)]
    );
    assert!(forwards(b.events()).is_empty(), "no way back to A");

    a.send(publisher, publish("y/1", b"local", QoS::AtMostOnce, 0));
    assert!(forwards(a.events()).is_empty());
}

/// Peer by peer: one event per interested peer, none after the interest is removed; a
/// shared interest registered by two peers takes turns between them; a peer with a shared
/// and a plain interest that both match still gets one.
#[test]
fn remote_interest_forwards_once_per_peer() {
    let mut a = Harness::new(config());
    let shared = topic_filter("$share/g/s/+");
    for peer in [PEER_B, PEER_C] {
        assert_eq!(a.broker.add_remote_interest(peer, &shared), Ok(true));
    }
    assert_eq!(
        a.broker.add_remote_interest(PEER_B, &topic_filter("s/#")),
        Ok(true)
    );
    assert_eq!(
        a.broker.add_remote_interest(PEER_B, &topic_filter("s/#")),
        Ok(false)
    );
    let publisher = a.connect(V5, "pub");

    // B wants everything under s/ anyway; C gets the group's turns B does not take.
    let mut peers = Vec::new();
    for _ in 0..4 {
        a.send(publisher, publish("s/1", b"m", QoS::AtMostOnce, 0));
        let forwarded = forwards(a.events());
        let mut to: Vec<u32> = forwarded.iter().map(|(peer, _)| *peer).collect();
        to.sort_unstable();
        peers.push(to);
    }
    let with_c = peers.iter().filter(|to| to.contains(&PEER_C)).count();
    assert_eq!(with_c, 2, "C takes every other turn: {peers:?}");
    for to in &peers {
        assert_eq!(
            to.iter().filter(|&&peer| peer == PEER_B).count(),
            1,
            "{peers:?}"
        );
    }

    assert!(a.broker.remove_remote_interest(PEER_B, "s/#"));
    assert!(a.broker.remove_remote_interest(PEER_B, "$share/g/s/+"));
    assert!(!a.broker.remove_remote_interest(PEER_B, "s/#"));
    for _ in 0..2 {
        a.send(publisher, publish("s/1", b"m", QoS::AtMostOnce, 0));
        let forwarded = forwards(a.events());
        assert_eq!(forwarded.len(), 1);
        assert_eq!(forwarded[0].0, PEER_C, "the group has one member left");
    }
}

/// A Will published on A is a local message like any other: a peer interested in its topic
/// gets it.
#[test]
fn a_will_is_forwarded_like_a_message() {
    let mut a = Harness::new(config());
    a.broker
        .add_remote_interest(PEER_B, &topic_filter("wills/#"))
        .unwrap();
    let (dying, _, _) = a.connect_with(with_delayed_will("dying", 0));
    a.events();
    a.drop_socket(dying);
    let forwarded = forwards(a.events());
    assert_eq!(forwarded.len(), 1, "{forwarded:?}");
    assert_eq!(forwarded[0].0, PEER_B);
    assert_eq!(
        forwarded[0].1.topic.as_ref().unwrap().as_str(),
        "wills/dying"
    );
    assert_eq!(&forwarded[0].1.payload[..], b"gone");
}

/// A retained message crosses with its RETAIN flag, and the peer keeps it as retained: a
/// later subscriber there gets it.
#[test]
fn a_forwarded_retained_message_is_retained_by_the_peer() {
    let mut a = Harness::new(config());
    let mut b = Harness::new(config());
    a.broker
        .add_remote_interest(PEER_B, &topic_filter("#"))
        .unwrap();
    let publisher = a.connect(V5, "pub");
    a.send(
        publisher,
        retained(publish("status", b"up", QoS::AtLeastOnce, 1)),
    );
    let mut forwarded = forwards(a.events());
    assert_eq!(forwarded.len(), 1);
    let (_, message) = forwarded.remove(0);
    assert!(message.retain);
    deliver(&mut b, message);

    let late = b.connect(V5, "late");
    let rest = b.subscribe(late, "status", QoS::AtLeastOnce);
    assert_eq!(
        deliveries(&rest),
        [got("status", b"up", QoS::AtLeastOnce).retained()]
    );
}

// ---- sessions ----

/// A client with a persistent session and a QoS 1 message queued on A reconnects on B: the
/// driver exports the session from A and imports it into B; the client connects to B with
/// Clean Start 0, gets Session Present 1 and the queued message, and its subscription works
/// on B. A no longer has the session, its subscription or the message, and reports the
/// interest lost; B reports it gained.
///
/// conformance: v5:MQTT-3.1.2-5, v5:MQTT-3.2.2-3, v311:MQTT-3.1.2-5, v311:MQTT-3.2.2-2
#[test]
fn a_session_moves_to_another_broker_with_its_queued_message() {
    for version in [V5, V311] {
        let mut a = Harness::new(config());
        let mut b = Harness::new(config());
        let (client, present, _) = a.resume(version, "c", 3600);
        assert!(!present);
        a.subscribe(client, "t", QoS::AtLeastOnce);
        disconnect(&mut a, client);
        let publisher = a.connect(V5, "pub");
        a.send(publisher, publish("t", b"queued", QoS::AtLeastOnce, 1));
        let before = a.broker.stats();
        assert_eq!(
            (
                before.sessions,
                before.subscriptions,
                before.stored_messages
            ),
            (2, 1, 1)
        );
        a.events();

        let export = a
            .broker
            .export_session(a.now, "c")
            .unwrap()
            .expect("c's session");
        a.advance(0);
        assert_eq!(interests(&a.events()), expect(&[("t", false)]));
        let after = a.broker.stats();
        assert_eq!(
            (after.sessions, after.subscriptions, after.stored_messages),
            (1, 0, 0),
            "{version}"
        );
        assert_eq!(a.broker.export_session(a.now, "c"), Ok(None));

        b.advance(5_000);
        b.broker.import_session(b.now, &export).unwrap();
        b.advance(0);
        assert_eq!(interests(&b.events()), expect(&[("t", true)]));
        assert_eq!(b.broker.stats().sessions, 1);
        let (client, present, rest) = b.resume(version, "c", 3600);
        assert!(present, "{version}: Session Present 1");
        assert_eq!(
            deliveries(&rest),
            [got("t", b"queued", QoS::AtLeastOnce)],
            "{version}"
        );

        let publisher = b.connect(V5, "pub-b");
        b.send(publisher, publish("t", b"on b", QoS::AtMostOnce, 0));
        assert_eq!(
            deliveries(&b.sent(client)),
            [got("t", b"on b", QoS::AtMostOnce)]
        );
    }
}

/// A connected client has reconnected elsewhere: exporting its session closes its
/// connection as a takeover does (DISCONNECT 0x8E in 5.0, a plain close in 3.1.1), without
/// writing the QoS 1 delivery it had not written yet (nor another client's message stored
/// since); both deliveries in flight go with the session, and the client gets them again,
/// DUP set, when it resumes on B, the first with the Packet Identifier it had.
///
/// conformance: v5:MQTT-3.1.4-3, v311:MQTT-3.1.4-2, v5:MQTT-4.4.0-1, v311:MQTT-4.4.0-1
#[test]
fn exporting_a_connected_session_takes_it_over() {
    for version in [V5, V311] {
        let mut a = Harness::new(config());
        let mut b = Harness::new(config());
        let (client, _, _) = a.resume(version, "c", 3600);
        a.subscribe(client, "t", QoS::AtLeastOnce);
        let (away, _, _) = a.resume(V5, "away", 3600);
        a.subscribe(away, "secret", QoS::AtLeastOnce);
        a.drop_socket(away);
        let publisher = a.connect(V5, "pub");
        a.send(publisher, publish("t", b"first", QoS::AtLeastOnce, 1));
        let first = only_publish(a.sent(client));
        // The second is routed and not yet written when the export comes; then a message
        // for another client is stored, maybe where the second was.
        let handle = a.handle(publisher);
        let bytes = a.encode(publisher, publish("t", b"second", QoS::AtLeastOnce, 2));
        a.broker.handle_data(a.now, handle, &bytes);
        let export = a.broker.export_session(a.now, "c").unwrap().unwrap();
        let bytes = a.encode(
            publisher,
            publish("secret", b"not c's", QoS::AtLeastOnce, 3),
        );
        a.broker.handle_data(a.now, handle, &bytes);
        a.advance(0);
        assert_eq!(a.closed(client), Some(CloseReason::SessionTakenOver));
        let sent = a.sent(client);
        if version.is_v5() {
            assert_eq!(
                only_disconnect(sent).reason_code,
                DisconnectReasonCode::SessionTakenOver
            );
        } else {
            assert_eq!(sent, [], "3.1.1 has no DISCONNECT from the server");
        }
        assert_eq!(a.broker.stats().sessions, 2, "pub's and away's");
        assert_eq!(a.broker.stats().stored_messages, 1, "away's");

        b.broker.import_session(b.now, &export).unwrap();
        let (_, present, rest) = b.resume(version, "c", 3600);
        assert!(present);
        let got: Vec<_> = rest
            .iter()
            .map(|packet| match packet {
                mqtt_sansio::Packet::Publish(publish) => (
                    publish.packet_id(),
                    publish.is_dup(),
                    publish.payload.clone(),
                ),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(got.len(), 2, "{version}: {got:?}");
        assert_eq!(
            got[0],
            (first.packet_id(), true, Bytes::from_static(b"first"))
        );
        assert!(got[1].1, "DUP");
        assert_eq!(got[1].2, Bytes::from_static(b"second"));
    }
}

/// A session that ends with its connection (3.1.1 Clean Session 1, 5.0 Session Expiry 0)
/// has nothing to carry: exporting it closes the connection and returns nothing.
///
/// conformance: v311:MQTT-3.1.2-6, v5:MQTT-3.1.4-3
#[test]
fn exporting_a_session_that_ends_with_its_connection_returns_nothing() {
    for version in [V5, V311] {
        let mut a = Harness::new(config());
        let client = a.connect(version, "c");
        a.subscribe(client, "t", QoS::AtLeastOnce);
        a.events();
        assert_eq!(a.broker.export_session(a.now, "c"), Ok(None));
        a.advance(0);
        assert_eq!(a.closed(client), Some(CloseReason::SessionTakenOver));
        assert_eq!(a.broker.stats().sessions, 0);
        assert_eq!(interests(&a.events()), expect(&[("t", false)]));
        assert_eq!(a.broker.export_session(a.now, "nobody"), Ok(None));
    }
}

/// A pending Will goes with the session: A never publishes it, B does when its delay runs
/// out without the client reconnecting.
///
/// conformance: v5:MQTT-3.1.3-9
#[test]
fn a_pending_will_moves_with_the_session() {
    let mut a = Harness::new(config());
    let mut b = Harness::new(config());
    let watcher_a = a.connect(V5, "watcher");
    a.subscribe(watcher_a, "wills/#", QoS::AtLeastOnce);
    let watcher_b = b.connect(V5, "watcher");
    b.subscribe(watcher_b, "wills/#", QoS::AtLeastOnce);
    let (dying, _, _) = a.connect_with(with_delayed_will("c", 30));
    a.drop_socket(dying);
    a.advance(10_000);

    let export = a.broker.export_session(a.now, "c").unwrap().unwrap();
    b.broker.import_session(b.now, &export).unwrap();
    a.advance(60_000);
    assert_eq!(a.sent(watcher_a), [], "A no longer has the will");
    b.advance(19_999);
    assert_eq!(b.sent(watcher_b), []);
    b.advance(1);
    assert_eq!(
        deliveries(&b.sent(watcher_b)),
        [got("wills/c", b"gone", QoS::AtLeastOnce)]
    );
}

/// An import replaces the session of that client on the broker, connected or not: its
/// connection is taken over, its subscriptions go (interest lost) and the imported ones
/// come (interest gained).
///
/// conformance: v5:MQTT-3.1.4-3
#[test]
fn an_import_replaces_the_local_session_of_that_client() {
    let mut a = Harness::new(config());
    let mut b = Harness::new(config());
    let (on_a, _, _) = a.resume(V5, "c", 3600);
    a.subscribe(on_a, "new", QoS::AtLeastOnce);
    disconnect(&mut a, on_a);
    let export = a.broker.export_session(a.now, "c").unwrap().unwrap();

    let (on_b, _, _) = b.resume(V5, "c", 3600);
    b.subscribe(on_b, "old", QoS::AtLeastOnce);
    b.events();
    b.broker.import_session(b.now, &export).unwrap();
    b.advance(0);
    assert_eq!(b.closed(on_b), Some(CloseReason::SessionTakenOver));
    assert_eq!(
        only_disconnect(b.sent(on_b)).reason_code,
        DisconnectReasonCode::SessionTakenOver
    );
    assert_eq!(
        interests(&b.events()),
        expect(&[("old", false), ("new", true)])
    );
    assert_eq!(b.broker.stats().sessions, 1);
    assert_eq!(b.broker.stats().subscriptions, 1);
}

/// What is not one session's export is refused, and changes nothing: a whole snapshot, a
/// snapshot of one session with retained messages, truncated or extended bytes, another
/// format version.
#[test]
fn import_refuses_what_is_not_one_session() {
    let mut a = Harness::new(config());
    for id in ["c1", "c2"] {
        let (conn, _, _) = a.resume(V5, id, 3600);
        a.subscribe(conn, "t", QoS::AtLeastOnce);
    }
    let whole = a.broker.snapshot(a.now).unwrap();
    let export = a.broker.export_session(a.now, "c1").unwrap().unwrap();
    let mut with_retained = Broker::new(BrokerConfig::default());
    let conn = with_retained.accept(a.now).unwrap();
    with_retained.handle_data(
        a.now,
        conn,
        b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04dev1",
    );
    with_retained.handle_data(a.now, conn, b"\x31\x08\x00\x01rkept2");
    let retained_only = with_retained.snapshot(a.now).unwrap();

    let mut b = Harness::new(config());
    let mut extended = export.clone();
    extended.push(0);
    let mut version = export.clone();
    version[4] = 9;
    let cases: [(&[u8], SnapshotError); 5] = [
        (
            &whole,
            SnapshotError::Invalid("a session export holds one session"),
        ),
        (
            &retained_only,
            SnapshotError::Invalid("retained messages in a session export"),
        ),
        (&export[..export.len() - 1], SnapshotError::Truncated),
        (&extended, SnapshotError::TrailingBytes(1)),
        (&version, SnapshotError::Version(9)),
    ];
    for (bytes, error) in cases {
        assert_eq!(b.broker.import_session(b.now, bytes), Err(error));
        assert_eq!(b.broker.stats().sessions, 0);
        assert_eq!(b.broker.stats().subscriptions, 0);
        assert_eq!(b.broker.stats().stored_messages, 0);
        assert_eq!(b.broker.poll_event(), None);
    }
    assert_eq!(b.broker.import_session(b.now, &export), Ok(()));
}

// ---- interest ----

/// With the flag off (the default), nothing is reported: not on SUBSCRIBE, UNSUBSCRIBE,
/// session end, nor restore.
#[test]
fn interest_is_not_reported_when_the_flag_is_off() {
    let mut h = Harness::new(BrokerConfig::default());
    let first = h.connect(V5, "first");
    h.subscribe(first, "t", QoS::AtMostOnce);
    unsubscribe(&mut h, first, "t");
    let (second, _, _) = h.resume(V5, "second", 60);
    h.subscribe(second, "u", QoS::AtMostOnce);
    let snapshot = h.broker.snapshot(h.now).unwrap();
    h.drop_socket(first);
    h.drop_socket(second);
    h.advance(60_000);
    assert_eq!(h.broker.stats().sessions, 0);
    assert_eq!(interests(&h.events()), []);
    let mut restored =
        Broker::restore(BrokerConfig::default(), AllowAll, h.now, &snapshot).unwrap();
    assert_eq!(restored.stats().subscriptions, 1);
    assert_eq!(restored.poll_event(), None);
}

/// A filter held by two sessions is gained once, with the first, and lost once, when the
/// last one unsubscribes; subscribing again to a filter a session holds reports nothing.
///
/// conformance: v5:MQTT-3.10.4-1, v311:MQTT-3.10.4-1
#[test]
fn interest_is_lost_when_the_last_subscriber_unsubscribes() {
    let mut h = Harness::new(config());
    let first = h.connect(V5, "first");
    let second = h.connect(V311, "second");
    h.subscribe(first, "t/+", QoS::AtMostOnce);
    h.subscribe(second, "t/+", QoS::AtLeastOnce);
    h.subscribe(first, "t/+", QoS::ExactlyOnce);
    assert_eq!(interests(&h.events()), expect(&[("t/+", true)]));
    unsubscribe(&mut h, first, "t/+");
    unsubscribe(&mut h, first, "t/+");
    assert_eq!(interests(&h.events()), []);
    unsubscribe(&mut h, second, "t/#");
    assert_eq!(interests(&h.events()), [], "filters compare as written");
    unsubscribe(&mut h, second, "t/+");
    assert_eq!(interests(&h.events()), expect(&[("t/+", false)]));
}

/// A session that ends with its connection (Session Expiry 0, Clean Session 1) takes its
/// subscriptions with it, by DISCONNECT or a dropped socket: interest lost.
///
/// conformance: v5:MQTT-3.1.2-4, v311:MQTT-3.1.2-6
#[test]
fn interest_is_lost_when_a_session_ends_with_its_connection() {
    for version in [V5, V311] {
        let mut h = Harness::new(config());
        let polite = h.connect(version, "polite");
        h.subscribe(polite, "a", QoS::AtMostOnce);
        let rude = h.connect(version, "rude");
        h.subscribe(rude, "b", QoS::AtMostOnce);
        h.events();
        disconnect(&mut h, polite);
        assert_eq!(interests(&h.events()), expect(&[("a", false)]));
        h.drop_socket(rude);
        assert_eq!(interests(&h.events()), expect(&[("b", false)]));
    }
}

/// A session that outlives its connection keeps its interest until it expires.
///
/// conformance: v5:MQTT-3.1.2-23
#[test]
fn interest_is_lost_when_a_session_expires() {
    let mut h = Harness::new(config());
    let (client, _, _) = h.resume(V5, "c", 10);
    h.subscribe(client, "t", QoS::AtLeastOnce);
    h.events();
    h.drop_socket(client);
    h.advance(9_999);
    assert_eq!(interests(&h.events()), []);
    h.advance(1);
    assert_eq!(interests(&h.events()), expect(&[("t", false)]));
}

/// Filters count as written: overlapping filters are interests of their own, and a shared
/// subscription is one interest per share group, apart from the plain filter; each is lost
/// with its last subscriber.
#[test]
fn overlapping_and_shared_filters_are_interests_of_their_own() {
    let mut h = Harness::new(config());
    let first = h.connect(V5, "first");
    let second = h.connect(V5, "second");
    for filter in ["x/#", "x/+", "$share/g/x/+", "$share/h/x/+"] {
        h.subscribe(first, filter, QoS::AtMostOnce);
    }
    for filter in ["x/#", "$share/g/x/+"] {
        h.subscribe(second, filter, QoS::AtMostOnce);
    }
    assert_eq!(
        interests(&h.events()),
        expect(&[
            ("x/#", true),
            ("x/+", true),
            ("$share/g/x/+", true),
            ("$share/h/x/+", true),
        ])
    );
    for filter in ["x/#", "x/+", "$share/g/x/+", "$share/h/x/+"] {
        unsubscribe(&mut h, first, filter);
    }
    assert_eq!(
        interests(&h.events()),
        expect(&[("x/+", false), ("$share/h/x/+", false)])
    );
    h.drop_socket(second);
    assert_eq!(
        interests(&h.events()),
        expect(&[("x/#", false), ("$share/g/x/+", false)])
    );
}

/// A restored broker reports the interests of the sessions it restored, each filter once.
#[test]
fn restoring_a_snapshot_reports_its_interests() {
    let mut h = Harness::new(config());
    for id in ["c1", "c2"] {
        let (conn, _, _) = h.resume(V5, id, 3600);
        h.subscribe(conn, "t", QoS::AtLeastOnce);
        h.subscribe(conn, &format!("own/{id}"), QoS::AtLeastOnce);
    }
    let snapshot = h.broker.snapshot(h.now).unwrap();
    let mut restored = Broker::restore(config(), AllowAll, h.now, &snapshot).unwrap();
    let mut events = Vec::new();
    while let Some(event) = restored.poll_event() {
        events.push(event);
    }
    let mut reported = interests(&events);
    reported.sort();
    assert_eq!(
        reported,
        expect(&[("own/c1", true), ("own/c2", true), ("t", true)])
    );
}

/// Interest events carry the filter's text as subscribed, usable as is to register the
/// interest on a peer.
#[test]
fn interest_filters_register_on_a_peer_as_they_are() {
    let mut a = Harness::new(config());
    let mut b = Harness::new(config());
    let sub = b.connect(V5, "sub");
    b.subscribe(sub, "$share/g/x/+", QoS::AtMostOnce);
    register(&b.events(), &mut a, PEER_B);
    let publisher = a.connect(V5, "pub");
    a.send(publisher, publish("x/y", b"m", QoS::AtMostOnce, 0));
    let forwarded = forwards(a.events());
    assert_eq!(forwarded.len(), 1);
    deliver(&mut b, forwarded.into_iter().next().unwrap().1);
    assert_eq!(
        deliveries(&b.sent(sub)),
        [got("x/y", b"m", QoS::AtMostOnce)]
    );
    unsubscribe(&mut b, sub, "$share/g/x/+");
    register(&b.events(), &mut a, PEER_B);
    a.send(publisher, publish("x/y", b"m", QoS::AtMostOnce, 0));
    assert!(forwards(a.events()).is_empty());
}

/// The driver's order for a client that reconnects elsewhere: with anonymous clients
/// refused, the CONNECT on B waits as `Event::Authenticate`; the driver moves the session
/// from A meanwhile, then accepts, and the client resumes its session on B.
///
/// conformance: v5:MQTT-3.1.2-5, v5:MQTT-3.2.2-3
#[test]
fn a_connect_waits_for_its_session_to_arrive() {
    let mut a = Harness::new(config());
    let mut b = Harness::new(BrokerConfig {
        allow_anonymous: false,
        ..config()
    });
    let (client, _, _) = a.resume(V5, "c", 3600);
    a.subscribe(client, "t", QoS::AtLeastOnce);
    a.drop_socket(client);
    let publisher = a.connect(V5, "pub");
    a.send(publisher, publish("t", b"queued", QoS::AtLeastOnce, 1));

    let client = b.open(V5);
    b.send(client, keep_session(V5, "c", 3600));
    let waiting = b.events();
    let Some(Event::Authenticate {
        connection,
        connect,
        ..
    }) = waiting.first()
    else {
        panic!("{waiting:?}");
    };
    assert_eq!(b.sent(client), [], "no CONNACK before the verdict");
    let export = a
        .broker
        .export_session(a.now, connect.client_id.as_str())
        .unwrap()
        .unwrap();
    b.broker.import_session(b.now, &export).unwrap();
    b.broker.accept_connect(b.now, *connection).unwrap();
    b.advance(0);
    let mut sent = b.sent(client).into_iter();
    match sent.next() {
        Some(mqtt_sansio::Packet::ConnAck(connack)) => assert!(connack.session_present),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        deliveries(&sent.collect::<Vec<_>>()),
        [got("t", b"queued", QoS::AtLeastOnce)]
    );
}

/// Every prefix of an export is refused without changing anything, and every export with one
/// byte altered is either refused, changing nothing, or imported whole; none panics.
#[test]
fn an_altered_export_is_refused_whole_or_imported_whole() {
    let mut a = Harness::new(config());
    let (client, _, _) = a.resume(V5, "c", 3600);
    a.subscribe(client, "t/#", QoS::ExactlyOnce);
    a.drop_socket(client);
    let publisher = a.connect(V5, "pub");
    a.send(publisher, publish("t/1", b"one", QoS::AtLeastOnce, 1));
    a.send(publisher, publish("t/2", b"two", QoS::ExactlyOnce, 2));
    let export = a.broker.export_session(a.now, "c").unwrap().unwrap();

    let untouched = |b: &mut Broker| {
        let stats = b.stats();
        assert_eq!(
            (stats.sessions, stats.subscriptions, stats.stored_messages),
            (0, 0, 0)
        );
        assert_eq!(b.poll_event(), None);
    };
    for len in 0..export.len() {
        let mut b = Broker::new(config());
        assert!(b.import_session(a.now, &export[..len]).is_err(), "{len}");
        untouched(&mut b);
    }
    for at in 0..export.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut altered = export.clone();
            altered[at] ^= flip;
            let mut b = Broker::new(config());
            if b.import_session(a.now, &altered).is_ok() {
                assert_eq!(b.stats().sessions, 1, "byte {at} ^ {flip:#x}");
            } else {
                untouched(&mut b);
            }
        }
    }
}
