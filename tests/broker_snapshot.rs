//! Broker snapshot and restore: the durable state (sessions, subscriptions, in-flight and
//! queued QoS 1 and 2 deliveries, incoming QoS 2 identifiers, retained messages and wills)
//! written by `Broker::snapshot`, the broker dropped, and `Broker::restore` on a clock with
//! another origin; the clients reconnect and find their sessions as they left them.
#![cfg(feature = "v5")]

mod common;
#[path = "../fuzz/src/restore.rs"]
pub mod restore;

use allocation_counter::measure;
use bytes::Bytes;
use common::broker::{
    Harness, deliveries, got, keep_session, options, pid, publish, retained, topic,
};
use mqtt_sansio::broker::{AllowAll, SnapshotError};
use mqtt_sansio::{
    BinaryData, Broker, BrokerConfig, ConnectReasonCode, Disconnect, DisconnectReasonCode, Instant,
    Packet, PacketId, ProtocolVersion, PubAck, PubComp, PubRec, PubRel, Publish, QoS,
    RetainHandling, Will,
};
use proptest::prelude::*;

const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// The first process's clock when the clients connect.
const START: u64 = 1_000_000;
/// The first process's clock at the snapshot: two seconds later.
const SNAPSHOT_AT: u64 = START + 2_000;
/// The second process's clock at the restore: another origin, earlier than the first's.
const RESTORE_AT: u64 = 5_000;

/// What the first process left: the snapshot and what the clients know.
struct Before {
    snapshot: Vec<u8>,
    /// The Packet Identifiers of `t/1` (QoS 1, unacknowledged), `t/2` (QoS 2, PUBREC
    /// received) and `t/3` (QoS 2, unacknowledged) towards the 5.0 client.
    v5_inflight: [PacketId; 3],
    /// The Packet Identifier of `t/0` (QoS 1, unacknowledged) towards the 3.1.1 client.
    v311_inflight: PacketId,
    /// The broker's counters at the snapshot.
    stats: mqtt_sansio::broker::Stats,
}

/// The Packet Identifier of a PUBLISH.
#[track_caller]
fn id_of(packet: &Packet) -> PacketId {
    match packet {
        Packet::Publish(publish) => publish.packet_id().expect("QoS 1 or 2"),
        other => panic!("expected a PUBLISH, got {other:?}"),
    }
}

/// A PUBLISH with a Message Expiry Interval.
fn expiring(mut message: Publish, seconds: u32) -> Publish {
    message.properties.message_expiry_interval = Some(seconds);
    message
}

/// The CONNECT of client "v5": Clean Start 0, Session Expiry 600 s and, on the first
/// connection, a QoS 1 Will on `w/v5` with a 30 s delay and a Receive Maximum of 3.
fn v5_connect(first: bool) -> mqtt_sansio::Connect {
    let mut connect = keep_session(V5, "v5", 600);
    if first {
        let mut will = Will::new(
            topic("w/v5"),
            BinaryData::new(Bytes::from_static(b"gone")).unwrap(),
        );
        will.qos = QoS::AtLeastOnce;
        will.properties.will_delay_interval = Some(30);
        connect.will = Some(will);
        connect.properties.receive_maximum = std::num::NonZeroU16::new(3);
    }
    connect
}

/// The first process: a 5.0 session (connected at the snapshot, with a delayed Will, a
/// Subscription Identifier, Receive Maximum 3: QoS 1 and 2 deliveries in flight, one past
/// PUBREC, more queued behind the window, and an incoming QoS 2 message awaiting PUBREL), a
/// 3.1.1 session (disconnected, a delivery in flight and the rest queued), and retained
/// messages, one expiring soon; then the snapshot.
fn first_process() -> Before {
    let mut h = Harness::new(BrokerConfig::default());
    h.now = Instant::from_millis(START);

    let (v311, present, _) = h.resume(V311, "v311", 0);
    assert!(!present);
    h.subscribe(v311, "t/#", QoS::ExactlyOnce);
    h.subscribe(v311, "x/#", QoS::AtLeastOnce);

    let (v5, connack, _) = h.connect_with(v5_connect(true));
    assert_eq!(connack.reason_code, ConnectReasonCode::Success);
    let rap = options(
        QoS::ExactlyOnce,
        false,
        true,
        RetainHandling::SendAtSubscribe,
    );
    h.subscribe_with(v5, "t/#", rap, Some(7));

    let p = h.connect(V5, "p");
    h.send(p, publish("t/0", b"zero", QoS::AtLeastOnce, 1));
    let v5_t0 = h.sent(v5);
    h.send(v5, PubAck::new(id_of(&v5_t0[0])));
    let v311_t0 = h.sent(v311);
    assert_eq!(
        deliveries(&v311_t0),
        [got("t/0", b"zero", QoS::AtLeastOnce)]
    );
    h.send(
        v311,
        Disconnect::new(DisconnectReasonCode::NormalDisconnection),
    );

    h.send(p, publish("t/1", b"one", QoS::AtLeastOnce, 2));
    h.send(p, publish("t/2", b"two", QoS::ExactlyOnce, 3));
    h.send(p, PubRel::new(pid(3)));
    h.send(p, publish("t/3", b"three", QoS::ExactlyOnce, 4));
    h.send(p, PubRel::new(pid(4)));
    h.send(p, publish("t/4", b"four", QoS::AtLeastOnce, 5));
    h.send(
        p,
        expiring(publish("t/5", b"five", QoS::AtLeastOnce, 6), 20),
    );
    h.send(
        p,
        expiring(publish("t/6", b"six", QoS::AtLeastOnce, 7), 1000),
    );
    h.send(p, retained(publish("r/1", b"kept", QoS::AtLeastOnce, 8)));
    h.send(
        p,
        expiring(retained(publish("r/2", b"brief", QoS::AtMostOnce, 0)), 10),
    );
    h.send(
        p,
        expiring(retained(publish("r/3", b"long", QoS::AtLeastOnce, 9)), 1000),
    );

    // The window of 3: t/1, t/2, t/3 in flight; t/4, t/5, t/6 queued.
    let sent = h.sent(v5);
    assert_eq!(sent.len(), 3, "{sent:?}");
    let v5_inflight = [id_of(&sent[0]), id_of(&sent[1]), id_of(&sent[2])];
    h.send(v5, PubRec::new(v5_inflight[1]));
    assert_eq!(h.sent(v5), [Packet::PubRel(PubRel::new(v5_inflight[1]))]);
    // An incoming QoS 2 message: PUBREC sent, PUBREL not yet received.
    h.send(v5, publish("x/y", b"once", QoS::ExactlyOnce, 9));
    assert_eq!(h.sent(v5), [Packet::PubRec(PubRec::new(pid(9)))]);

    h.now = Instant::from_millis(SNAPSHOT_AT);
    let snapshot = h.broker.snapshot(h.now).expect("snapshot");
    Before {
        snapshot,
        v5_inflight,
        v311_inflight: id_of(&v311_t0[0]),
        stats: h.broker.stats(),
    }
}

/// A harness around the broker restored from `snapshot` at `now`.
#[track_caller]
fn second_process(snapshot: &[u8], now: u64) -> Harness {
    let mut h = Harness::new(BrokerConfig::default());
    h.now = Instant::from_millis(now);
    h.broker =
        Broker::restore(BrokerConfig::default(), AllowAll, h.now, snapshot).expect("restore");
    h
}

/// A PUBLISH packet's Message Expiry Interval.
#[track_caller]
fn expiry_of(packet: &Packet) -> Option<u32> {
    match packet {
        Packet::Publish(publish) => publish.properties.message_expiry_interval,
        other => panic!("expected a PUBLISH, got {other:?}"),
    }
}

/// Resumes the 5.0 and 3.1.1 sessions 31 s after a restore at `restore_at` and checks what
/// each client gets: the in-flight deliveries again (PUBLISH with DUP and the same Packet
/// Identifier, PUBREL for the one past PUBREC), then the queued ones, without the message that
/// expired; the will fires at 30 s; the incoming QoS 2 flow completes without a second
/// delivery; the retained messages still alive are sent on subscribe.
fn reconnect_and_check(before: &Before, restore_at: u64) {
    let mut h = second_process(&before.snapshot, restore_at);
    let stats = h.broker.stats();
    assert_eq!((stats.connections, stats.sessions), (0, 2), "{stats:?}");
    assert_eq!(stats.subscriptions, before.stats.subscriptions);
    assert_eq!(stats.retained, 3);
    // Each message held once, however many sessions hold it.
    assert_eq!(stats.stored_messages, before.stats.stored_messages);
    assert_eq!(stats.stored_bytes, before.stats.stored_bytes);

    // The restart closed the 5.0 client's connection: its Will is due 30 s after the restore.
    let observer = h.connect(V5, "observer");
    h.subscribe(observer, "w/#", QoS::AtLeastOnce);
    h.advance(29_999);
    assert_eq!(h.sent(observer), []);
    h.advance(1);
    let will = h.sent(observer);
    assert_eq!(deliveries(&will), [got("w/v5", b"gone", QoS::AtLeastOnce)]);

    h.advance(1_000);
    let (v5, connack, resent) = h.connect_with(v5_connect(false));
    assert!(connack.session_present);
    let [one, two, three] = before.v5_inflight;
    assert_eq!(resent.len(), 5, "{resent:?}");
    let mut dup = got("t/1", b"one", QoS::AtLeastOnce);
    dup.dup = true;
    assert_eq!(deliveries(&resent[0..1]), [dup]);
    assert_eq!(id_of(&resent[0]), one);
    assert_eq!(resent[1], Packet::PubRel(PubRel::new(two)));
    let mut dup = got("t/3", b"three", QoS::ExactlyOnce);
    dup.dup = true;
    assert_eq!(deliveries(&resent[2..3]), [dup]);
    assert_eq!(id_of(&resent[2]), three);
    // Then the queue: t/4, and t/6 with 1000 - 33 s left; t/5 expired meanwhile.
    assert_eq!(
        deliveries(&resent[3..]),
        [
            got("t/4", b"four", QoS::AtLeastOnce),
            got("t/6", b"six", QoS::AtLeastOnce)
        ]
    );
    assert_eq!(expiry_of(&resent[4]), Some(967));
    let new_ids = [id_of(&resent[3]), id_of(&resent[4])];
    assert!(
        !new_ids.iter().any(|id| before.v5_inflight.contains(id)),
        "{new_ids:?}"
    );
    for packet in &resent {
        if let Packet::Publish(publish) = packet {
            let ids: Vec<u32> = publish
                .properties
                .subscription_identifiers
                .iter()
                .map(|id| id.get())
                .collect();
            assert_eq!(ids, [7], "{publish:?}");
        }
    }

    // The incoming QoS 2 message: its repeat is acknowledged, not routed again, and PUBREL
    // finds the identifier.
    let mut again = publish("x/y", b"once", QoS::ExactlyOnce, 9);
    again.delivery = again.delivery.with_dup(true);
    h.send(v5, again);
    assert_eq!(h.sent(v5), [Packet::PubRec(PubRec::new(pid(9)))]);
    h.send(v5, PubRel::new(pid(9)));
    assert_eq!(h.sent(v5), [Packet::PubComp(PubComp::new(pid(9)))]);

    // Retained messages on subscribe: r/2 expired, r/3 with its time left.
    let retained_sent = h.subscribe(v5, "r/#", QoS::AtLeastOnce);
    let mut found = deliveries(&retained_sent);
    found.sort_by(|a, b| a.topic.cmp(&b.topic));
    assert_eq!(
        found,
        [
            got("r/1", b"kept", QoS::AtLeastOnce).retained(),
            got("r/3", b"long", QoS::AtLeastOnce).retained()
        ]
    );
    let r3 = retained_sent
        .iter()
        .find(|p| matches!(p, Packet::Publish(m) if m.topic.as_ref().unwrap().as_str() == "r/3"));
    assert_eq!(expiry_of(r3.unwrap()), Some(967));

    let (_, present, resent) = h.resume(V311, "v311", 0);
    assert!(present);
    let mut dup = got("t/0", b"zero", QoS::AtLeastOnce);
    dup.dup = true;
    assert_eq!(
        deliveries(&resent),
        [
            dup,
            got("t/1", b"one", QoS::AtLeastOnce),
            got("t/2", b"two", QoS::ExactlyOnce),
            got("t/3", b"three", QoS::ExactlyOnce),
            got("t/4", b"four", QoS::AtLeastOnce),
            got("t/6", b"six", QoS::AtLeastOnce),
            got("x/y", b"once", QoS::AtLeastOnce),
        ]
    );
    assert_eq!(id_of(&resent[0]), before.v311_inflight);
}

/// A 5.0 and a 3.1.1 session survive a restart on a clock with another origin: re-sends,
/// queued messages, incoming QoS 2 state, retained messages, the delayed will, expiries.
/// conformance: v5:MQTT-4.1.0-1, v311:MQTT-4.1.0-1, v5:MQTT-3.1.2-5, v311:MQTT-3.1.2-4,
/// v311:MQTT-3.1.2-5, v5:MQTT-3.1.2-23, v5:MQTT-4.4.0-1, v311:MQTT-4.4.0-1, v5:MQTT-3.3.1-1,
/// v311:MQTT-3.3.1-1, v5:MQTT-3.1.2-8, v5:MQTT-3.3.2-5, v5:MQTT-3.3.2-6, v5:MQTT-4.3.3-10,
/// v5:MQTT-4.3.3-11, v311:MQTT-3.3.1-6, v311:MQTT-3.3.1-8
#[test]
fn sessions_and_retained_messages_survive_a_restart_on_another_clock() {
    let before = first_process();
    reconnect_and_check(&before, RESTORE_AT);
}

/// The same, restored on a clock that starts at zero, before the messages arrived on it: the
/// messages' expiry still counts from their arrival.
/// conformance: v5:MQTT-3.3.2-5, v5:MQTT-3.3.2-6
#[test]
fn message_expiry_counts_from_arrival_on_a_clock_restarted_at_zero() {
    let before = first_process();
    reconnect_and_check(&before, 0);
}

/// snapshot, restore, snapshot at the restore's clock: the same bytes.
#[test]
fn snapshot_of_a_restored_broker_is_byte_identical() {
    let before = first_process();
    let h = second_process(&before.snapshot, RESTORE_AT);
    let again = h.broker.snapshot(h.now).expect("snapshot");
    assert_eq!(again, before.snapshot);
}

/// A session's expiry counts from the restore: one disconnected 20 s before the snapshot with
/// a 60 s expiry ends 40 s after the restore; one connected at the snapshot ends its whole
/// expiry after it.
/// conformance: v5:MQTT-3.1.2-23
#[test]
fn session_expiry_resumes_from_the_restore() {
    let mut h = Harness::new(BrokerConfig::default());
    h.now = Instant::from_millis(START);
    let (gone, _, _) = h.resume(V5, "gone", 60);
    h.send(
        gone,
        Disconnect::new(DisconnectReasonCode::NormalDisconnection),
    );
    h.resume(V5, "here", 60);
    h.advance(20_000);
    let snapshot = h.broker.snapshot(h.now).unwrap();

    let mut h = second_process(&snapshot, RESTORE_AT);
    assert_eq!(h.broker.stats().sessions, 2);
    h.advance(39_999);
    assert_eq!(h.broker.stats().sessions, 2);
    h.advance(1);
    assert_eq!(h.broker.stats().sessions, 1);
    let (_, present, _) = h.resume(V5, "gone", 60);
    assert!(!present);
    h.advance(19_999);
    let (_, present, _) = h.resume(V5, "here", 60);
    assert!(present);
}

/// A 3.1.1 client with Clean Session 1 connected at the snapshot: the restart ends its session,
/// and its Will (no delay in 3.1.1) is published at the restore, to the sessions that wait for
/// it.
/// conformance: v311:MQTT-3.1.2-8
#[test]
fn clean_session_connected_at_the_snapshot_ends_with_its_will_at_the_restore() {
    let mut h = Harness::new(BrokerConfig::default());
    let (watcher, _, _) = h.resume(V311, "watcher", 0);
    h.subscribe(watcher, "w/#", QoS::AtLeastOnce);
    h.send(
        watcher,
        Disconnect::new(DisconnectReasonCode::NormalDisconnection),
    );
    let mut connect = common::broker::connect_packet(V311, "clean");
    let mut will = Will::new(
        topic("w/clean"),
        BinaryData::new(Bytes::from_static(b"bye")).unwrap(),
    );
    will.qos = QoS::AtLeastOnce;
    connect.will = Some(will);
    h.connect_with(connect);
    h.connect(V311, "no-will");
    assert_eq!(h.broker.stats().sessions, 3);
    let snapshot = h.broker.snapshot(h.now).unwrap();

    let mut h = second_process(&snapshot, RESTORE_AT);
    assert_eq!(h.broker.stats().sessions, 1);
    let (_, present, queued) = h.resume(V311, "watcher", 0);
    assert!(present);
    assert_eq!(
        deliveries(&queued),
        [got("w/clean", b"bye", QoS::AtLeastOnce)]
    );
}

/// Every cut of a snapshot, even between two records, is refused as truncated.
#[test]
fn truncated_snapshots_are_refused() {
    let before = first_process();
    for len in 0..before.snapshot.len() {
        let result = Broker::restore(
            BrokerConfig::default(),
            AllowAll,
            Instant::ZERO,
            &before.snapshot[..len],
        );
        assert_eq!(result.err(), Some(SnapshotError::Truncated), "cut at {len}");
    }
}

/// Bytes after the snapshot are refused, as are another format and another version.
#[test]
fn trailing_bytes_other_formats_and_versions_are_refused() {
    let before = first_process();
    let restore = |bytes: &[u8]| {
        Broker::restore(BrokerConfig::default(), AllowAll, Instant::ZERO, bytes).err()
    };
    let mut longer = before.snapshot.clone();
    longer.extend_from_slice(b"\0\0");
    assert_eq!(restore(&longer), Some(SnapshotError::TrailingBytes(2)));
    let mut other = before.snapshot.clone();
    other[0] = b'X';
    assert_eq!(restore(&other), Some(SnapshotError::Header));
    assert_eq!(restore(b"MQSS\x01\0\0\0\0"), Some(SnapshotError::Header));
    for version in [0, 3, 0xFF] {
        let mut other = before.snapshot.clone();
        other[4] = version;
        assert_eq!(restore(&other), Some(SnapshotError::Version(version)));
    }
}

/// The snapshot of [`format_version_1_reads_as_documented`], in hex.
const FORMAT_V1: &str = "4D514253 01
     00000001 0000000000000000 32 0A 0003 612F62 0001 00 2158
     00000000
     00000001
       0001 63  04  00015180  0000000005265C00  00
       00000001 0003 612F23 01 00000000
       00000000
       00000001 01 00000000 00000000
       00000000";

/// Format version 1 as its documentation spells it, written by hand: one message, no retained
/// message, one 3.1.1 session "c" (no expiry, no will) subscribed to `a/#` at QoS 1 with the
/// message queued, its session ending a day (the default maximum) after the snapshot; it
/// restores, and the client gets the message on resuming.
#[test]
fn format_version_1_reads_as_documented() {
    let snapshot = common::hex(FORMAT_V1);
    let broker = Broker::restore(BrokerConfig::default(), AllowAll, Instant::ZERO, &snapshot);
    let mut h = Harness::new(BrokerConfig::default());
    h.broker = broker.expect("restore");
    let (_, present, queued) = h.resume(V311, "c", 0);
    assert!(present);
    assert_eq!(deliveries(&queued), [got("a/b", b"!X", QoS::AtLeastOnce)]);
    // The broker writes it back the same (the 3.1.1 session resumed and disconnected again
    // would differ; taken before that, it is the same bytes).
    let again = Broker::restore(BrokerConfig::default(), AllowAll, Instant::ZERO, &snapshot)
        .unwrap()
        .snapshot(Instant::ZERO)
        .unwrap();
    assert_eq!(again, snapshot);
}

/// Inconsistent contents are refused: a reference to a message that is not there, a Packet
/// Identifier in flight twice, a QoS 0 delivery in flight, sessions out of order.
#[test]
fn inconsistent_snapshots_are_refused() {
    let restore = |text: &str| {
        Broker::restore(
            BrokerConfig::default(),
            AllowAll,
            Instant::ZERO,
            &common::hex(text),
        )
        .err()
    };
    let message = "00000001 0000000000000000 32 0A 0003 612F62 0001 00 2158 00000000";
    let session = |name: &str, inflight: &str| {
        format!("{name} 04 FFFFFFFF FFFFFFFFFFFFFFFF 00 00000000 {inflight} 00000000 00000000")
    };
    let one = session("0001 63", "00000001 0001 01 00000001 00000000");
    assert_eq!(
        restore(&format!("4D51425301 {message} 00000001 {one}")),
        Some(SnapshotError::Invalid("message index"))
    );
    let twice = session(
        "0001 63",
        "00000002 0001 01 00000000 00000000 0001 01 00000000 00000000",
    );
    assert_eq!(
        restore(&format!("4D51425301 {message} 00000001 {twice}")),
        Some(SnapshotError::Invalid("packet identifier in flight twice"))
    );
    let qos0 = session("0001 63", "00000001 0001 00 00000000 00000000");
    assert_eq!(
        restore(&format!("4D51425301 {message} 00000001 {qos0}")),
        Some(SnapshotError::Invalid("delivery in flight"))
    );
    let (c, b) = (
        session("0001 63", "00000000"),
        session("0001 62", "00000000"),
    );
    assert_eq!(
        restore(&format!("4D51425301 {message} 00000002 {c} {b}")),
        Some(SnapshotError::Invalid("sessions out of order"))
    );
    assert!(restore(&format!("4D51425301 00000000 00000000 00000001 {c}")).is_none());
}

/// The restoring configuration's limits apply: more subscriptions or queued messages than
/// it allows refuse the snapshot, naming the limit.
#[test]
fn limits_of_the_restoring_configuration_apply() {
    let before = first_process();
    let config = BrokerConfig {
        max_subscriptions: 1,
        ..BrokerConfig::default()
    };
    let result = Broker::restore(config, AllowAll, Instant::ZERO, &before.snapshot);
    assert_eq!(
        result.err(),
        Some(SnapshotError::Limit("max_subscriptions"))
    );
    let config = BrokerConfig {
        max_queued_messages: 2,
        ..BrokerConfig::default()
    };
    let result = Broker::restore(config, AllowAll, Instant::ZERO, &before.snapshot);
    assert_eq!(
        result.err(),
        Some(SnapshotError::Limit("max_queued_messages"))
    );
}

/// A count of 4,294,967,295 records with a few bytes behind it is refused before anything is
/// allocated for them.
#[test]
fn huge_counts_allocate_nothing_for_records_that_are_not_there() {
    for at in 0..3 {
        let mut snapshot = b"MQBS\x01".to_vec();
        snapshot.extend(std::iter::repeat_n([0u8; 4], at).flatten());
        snapshot.extend_from_slice(&[0xFF; 4]);
        snapshot.extend_from_slice(&[0; 64]);
        let info = measure(|| {
            let result =
                Broker::restore(BrokerConfig::default(), AllowAll, Instant::ZERO, &snapshot);
            assert_eq!(result.err(), Some(SnapshotError::Truncated), "count {at}");
        });
        assert!(info.bytes_max < 4096, "count {at}: {info:?}");
    }
}

proptest! {
    /// Random bytes, after the header or not, never make `restore` panic (the check of the
    /// `broker_restore` fuzz target: what it accepts snapshots to canonical bytes).
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), header in any::<bool>()) {
        let mut input = if header { b"MQBS\x01".to_vec() } else { Vec::new() };
        input.extend_from_slice(&bytes);
        restore::broker_restore(&input);
    }

    /// A real snapshot with bytes changed never makes `restore` panic, and what it restores
    /// snapshots to canonical bytes.
    #[test]
    fn corrupted_snapshots_never_panic(changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut input = sample_snapshot().to_vec();
        for (at, byte) in changes {
            let at = at.index(input.len());
            input[at] = byte;
        }
        restore::broker_restore(&input);
    }
}

/// The seed corpus of the `broker_restore` fuzz target holds the current snapshot of the
/// first process and the hand-written vector (`MQTT_SANSIO_WRITE_SEEDS=1` writes them).
#[test]
fn fuzz_seeds_are_current_snapshots() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/broker_restore");
    let seeds = [
        ("first-process", sample_snapshot().to_vec()),
        ("format-v1", common::hex(FORMAT_V1)),
    ];
    for (name, data) in seeds {
        let path = dir.join(name);
        if std::env::var_os("MQTT_SANSIO_WRITE_SEEDS").is_some() {
            std::fs::write(&path, &data).expect("write seed");
        }
        let committed =
            std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert_eq!(committed, data, "{} is stale", path.display());
    }
}

/// The first process's snapshot, built once.
fn sample_snapshot() -> &'static [u8] {
    static SNAPSHOT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SNAPSHOT.get_or_init(|| first_process().snapshot)
}
