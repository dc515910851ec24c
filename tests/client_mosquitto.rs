//! The client against a real broker: [`Client`](mqtt_sansio::Client) driven over
//! `std::net::TcpStream` by the same driver as the command-line example
//! (`examples/client/driver.rs`), talking to mosquitto in MQTT 3.1, 3.1.1 and 5.0.
//!
//! The broker's address comes from `MQTT_SANSIO_BROKER` (`host:port`); `.ci/run` starts
//! Debian's mosquitto on loopback and exports it. Without the variable the tests skip, except
//! on CI (`CI` set and non-empty), where a missing broker is a failure.
//!
//! Each scenario runs with its own topics and client identifiers (the test, the version, the
//! process id, a counter and a time stamp), so that the tests run in parallel against one
//! broker, and within a deadline of [`SCENARIO`]. No test sleeps: where the absence of a
//! packet matters (a third message beyond the Receive Maximum, a retained message after it was
//! cleared, a will after a clean disconnect), a SUBSCRIBE round trip on the same connection is
//! the barrier, since mosquitto writes to a client in order and everything it sent before the
//! SUBACK arrives before it.
//!
//! Two tests need no broker and always run: a port where nothing listens, and a listener that
//! never answers (the connect timeout firing on real time through the driver's read timeout).
#![cfg(feature = "v5")]

mod common;

#[path = "../examples/client/driver.rs"]
mod driver;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant as StdInstant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use driver::{Direction, Driver, DriverError};
use mqtt_sansio::{
    BinaryData, ClientConfig, ConnectOptions, ConnectReasonCode, Connected, DisconnectReason,
    DisconnectReasonCode, Event, Packet, PacketId, PacketType, PeerError, ProtocolError,
    ProtocolVersion, Publish, QoS, SubAckReasonCode, Subscription, TopicFilter, TopicName, Will,
};

/// The environment variable holding the broker's `host:port`.
/// The time one scenario may take; each takes well under a second but the keep-alive ones.
const SCENARIO: Duration = Duration::from_secs(10);
/// The bound on waiting for the keep-alive exchange with a Keep Alive of 1 s.
const KEEP_ALIVE_WAIT: Duration = Duration::from_secs(5);

// ---- QoS 0, 1 and 2 both ways ----

/// Messages at QoS 0, 1 and 2 go from our publisher through mosquitto to our subscriber, in
/// order, with their payloads, topics and QoS; QoS 1 and 2 complete on PUBACK and PUBCOMP.
/// The client and an independent broker interoperate with nothing outside the spec.
///
/// conformance: v311:MQTT-4.3.1-1, v311:MQTT-4.3.2-1, v311:MQTT-4.3.2-2, v311:MQTT-4.3.3-1,
/// v311:MQTT-4.3.3-2, v311:MQTT-4.6.0-2, v311:MQTT-4.6.0-3, v311:MQTT-7.0.0-2
#[test]
fn messages_at_each_qos_arrive_in_order_v31() {
    messages_at_each_qos_arrive_in_order(ProtocolVersion::V3_1);
}

/// See [`messages_at_each_qos_arrive_in_order_v31`].
///
/// conformance: v311:MQTT-4.3.1-1, v311:MQTT-4.3.2-1, v311:MQTT-4.3.2-2, v311:MQTT-4.3.3-1,
/// v311:MQTT-4.3.3-2, v311:MQTT-4.6.0-2, v311:MQTT-4.6.0-3
#[test]
fn messages_at_each_qos_arrive_in_order_v311() {
    messages_at_each_qos_arrive_in_order(ProtocolVersion::V3_1_1);
}

/// See [`messages_at_each_qos_arrive_in_order_v31`].
///
/// conformance: v5:MQTT-4.3.2-1, v5:MQTT-4.3.2-2, v5:MQTT-4.3.2-3, v5:MQTT-4.3.2-4,
/// v5:MQTT-4.3.3-1, v5:MQTT-4.3.3-2, v5:MQTT-4.3.3-3, v5:MQTT-4.3.3-4, v5:MQTT-4.3.3-5,
/// v5:MQTT-4.3.3-8, v5:MQTT-4.3.3-11, v5:MQTT-3.3.4-1
#[test]
fn messages_at_each_qos_arrive_in_order_v5() {
    messages_at_each_qos_arrive_in_order(ProtocolVersion::V5);
}

fn messages_at_each_qos_arrive_in_order(version: ProtocolVersion) {
    let Some(address) = common::broker_address() else {
        return;
    };
    let names = Names::new("qos", version);
    let until = StdInstant::now() + SCENARIO;
    let (mut subscriber, _) = open(
        &address,
        ClientConfig::default(),
        names.options("sub"),
        until,
    );
    let (mut publisher, _) = open(
        &address,
        ClientConfig::default(),
        names.options("pub"),
        until,
    );
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let topic = names.topic(&format!("q{}", qos as u8));
        subscribe(&mut subscriber, &topic, qos, until);
        // Every message goes out before the first acknowledgement is awaited, so several
        // flows are in flight at once.
        let payloads: Vec<String> = (0..5).map(|i| format!("q{}-{i}", qos as u8)).collect();
        let mut ids = Vec::new();
        for payload in &payloads {
            let id = publisher
                .publish(message(&topic, payload, qos))
                .unwrap_or_else(|e| panic!("{version} {qos:?}: publish: {e}"));
            assert_eq!(id.is_some(), qos != QoS::AtMostOnce, "{version} {qos:?}");
            ids.extend(id);
        }
        for id in ids {
            publisher
                .wait_published(id, until)
                .unwrap_or_else(|e| panic!("{version} {qos:?}: message {id}: {e}"));
        }
        for payload in &payloads {
            let received = take_message(&mut subscriber, until, version);
            assert_eq!(topic_of(&received), topic, "{version} {qos:?}");
            assert_eq!(received.payload, payload.as_bytes(), "{version} {qos:?}");
            assert_eq!(received.qos(), qos, "{version}");
            assert!(!received.retain, "{version} {qos:?}");
        }
    }
    assert_eq!(
        publisher.client.outgoing_len(),
        0,
        "{version}: all acknowledged"
    );
    publisher.disconnect().expect("publisher disconnects");
    subscriber.disconnect().expect("subscriber disconnects");
}

// ---- retained messages ----

/// A retained message reaches a subscriber that comes later, with RETAIN set; once cleared
/// with an empty retained message, a later subscriber gets nothing.
///
/// conformance: v311:MQTT-3.3.1-5, v311:MQTT-3.3.1-6, v311:MQTT-3.3.1-8, v311:MQTT-3.3.1-10
#[test]
fn retained_message_reaches_a_later_subscriber_v31() {
    retained_message_reaches_a_later_subscriber(ProtocolVersion::V3_1);
}

/// See [`retained_message_reaches_a_later_subscriber_v31`].
///
/// conformance: v311:MQTT-3.3.1-5, v311:MQTT-3.3.1-6, v311:MQTT-3.3.1-8, v311:MQTT-3.3.1-10
#[test]
fn retained_message_reaches_a_later_subscriber_v311() {
    retained_message_reaches_a_later_subscriber(ProtocolVersion::V3_1_1);
}

/// See [`retained_message_reaches_a_later_subscriber_v31`].
///
/// conformance: v5:MQTT-3.3.1-5, v5:MQTT-3.3.1-6, v5:MQTT-3.3.1-9
#[test]
fn retained_message_reaches_a_later_subscriber_v5() {
    retained_message_reaches_a_later_subscriber(ProtocolVersion::V5);
}

fn retained_message_reaches_a_later_subscriber(version: ProtocolVersion) {
    let Some(address) = common::broker_address() else {
        return;
    };
    let names = Names::new("retain", version);
    let until = StdInstant::now() + SCENARIO;
    let topic = names.topic("kept");
    let (mut publisher, _) = open(
        &address,
        ClientConfig::default(),
        names.options("pub"),
        until,
    );
    let mut kept = message(&topic, "kept", QoS::AtLeastOnce);
    kept.retain = true;
    publisher
        .publish_and_wait(kept, until)
        .unwrap_or_else(|e| panic!("{version}: retained publish: {e}"));

    let (mut later, _) = open(
        &address,
        ClientConfig::default(),
        names.options("sb1"),
        until,
    );
    subscribe(&mut later, &topic, QoS::AtLeastOnce, until);
    let received = take_message(&mut later, until, version);
    assert_eq!(received.payload, &b"kept"[..], "{version}");
    assert!(
        received.retain,
        "{version}: a retained message is sent with RETAIN"
    );
    assert_eq!(topic_of(&received), topic, "{version}");
    later.disconnect().expect("disconnect");

    // Clear it: an empty retained message.
    let mut clear = message(&topic, "", QoS::AtLeastOnce);
    clear.retain = true;
    publisher
        .publish_and_wait(clear, until)
        .unwrap_or_else(|e| panic!("{version}: clearing publish: {e}"));
    let (mut last, _) = open(
        &address,
        ClientConfig::default(),
        names.options("sb2"),
        until,
    );
    subscribe(&mut last, &topic, QoS::AtLeastOnce, until);
    barrier(&mut last, &names, until);
    assert_eq!(
        messages_queued(&last),
        0,
        "{version}: the retained message was cleared"
    );
    last.disconnect().expect("disconnect");
    publisher.disconnect().expect("disconnect");
}

// ---- wills ----

/// A connection cut without DISCONNECT makes mosquitto publish its will; a connection ended
/// with DISCONNECT does not, so the subscriber sees exactly the first will.
///
/// conformance: v311:MQTT-3.1.2-8, v311:MQTT-3.1.2-10, v311:MQTT-3.14.4-3
#[test]
fn will_is_published_when_the_connection_is_cut_v31() {
    will_is_published_when_the_connection_is_cut(ProtocolVersion::V3_1);
}

/// See [`will_is_published_when_the_connection_is_cut_v31`].
///
/// conformance: v311:MQTT-3.1.2-8, v311:MQTT-3.1.2-10, v311:MQTT-3.14.4-3
#[test]
fn will_is_published_when_the_connection_is_cut_v311() {
    will_is_published_when_the_connection_is_cut(ProtocolVersion::V3_1_1);
}

/// See [`will_is_published_when_the_connection_is_cut_v31`].
///
/// conformance: v5:MQTT-3.1.2-8, v5:MQTT-3.1.2-10, v5:MQTT-3.14.4-3
#[test]
fn will_is_published_when_the_connection_is_cut_v5() {
    will_is_published_when_the_connection_is_cut(ProtocolVersion::V5);
}

fn will_is_published_when_the_connection_is_cut(version: ProtocolVersion) {
    let Some(address) = common::broker_address() else {
        return;
    };
    let names = Names::new("will", version);
    let until = StdInstant::now() + SCENARIO;
    let topic = names.topic("will");
    let (mut watcher, _) = open(
        &address,
        ClientConfig::default(),
        names.options("sub"),
        until,
    );
    subscribe(&mut watcher, &topic, QoS::AtLeastOnce, until);

    let with_will = |role: &str, payload: &'static [u8]| {
        let mut will = Will::new(
            TopicName::new(topic.as_str()).expect("topic"),
            BinaryData::new(Bytes::from_static(payload)).expect("payload"),
        );
        will.qos = QoS::AtLeastOnce;
        names.options(role).will(will)
    };
    // First the clean one: its DISCONNECT is processed (mosquitto closed the socket) before
    // the other connection is cut, so a will it wrongly published would arrive first.
    let (mut polite, _) = open(
        &address,
        ClientConfig::default(),
        with_will("pol", b"polite"),
        until,
    );
    polite.disconnect().expect("disconnect");
    let (mut victim, _) = open(
        &address,
        ClientConfig::default(),
        with_will("vic", b"cut"),
        until,
    );
    victim.kill();
    assert!(!victim.is_open());

    let will = take_message(&mut watcher, until, version);
    assert_eq!(
        will.payload,
        &b"cut"[..],
        "{version}: the first will is the cut client's"
    );
    assert_eq!(topic_of(&will), topic, "{version}");
    assert_eq!(will.qos(), QoS::AtLeastOnce, "{version}");
    assert!(!will.retain, "{version}");
    barrier(&mut watcher, &names, until);
    assert_eq!(
        messages_queued(&watcher),
        0,
        "{version}: no will after DISCONNECT"
    );
    watcher.disconnect().expect("disconnect");
}

// ---- keep alive ----

/// With a Keep Alive of 1 s and nothing to send, the client sends PINGREQ and mosquitto
/// answers PINGRESP, within 5 s; the connection stays up.
///
/// conformance: v311:MQTT-3.1.2-23
#[test]
fn idle_client_pings_within_keep_alive_v31() {
    idle_client_pings_within_keep_alive(ProtocolVersion::V3_1);
}

/// See [`idle_client_pings_within_keep_alive_v31`].
///
/// conformance: v311:MQTT-3.1.2-23
#[test]
fn idle_client_pings_within_keep_alive_v311() {
    idle_client_pings_within_keep_alive(ProtocolVersion::V3_1_1);
}

/// See [`idle_client_pings_within_keep_alive_v31`].
///
/// conformance: v5:MQTT-3.1.2-20
#[test]
fn idle_client_pings_within_keep_alive_v5() {
    idle_client_pings_within_keep_alive(ProtocolVersion::V5);
}

fn idle_client_pings_within_keep_alive(version: ProtocolVersion) {
    let Some(address) = common::broker_address() else {
        return;
    };
    let names = Names::new("ping", version);
    let mut driver = Driver::new(ClientConfig::default());
    driver.record_wire(None);
    let started = StdInstant::now();
    let until = started + KEEP_ALIVE_WAIT;
    let connected = driver
        .connect(&address, names.options("png").keep_alive(1), until)
        .unwrap_or_else(|e| panic!("{version}: connect: {e}"));
    assert_eq!(
        connected.keep_alive, 1,
        "{version}: mosquitto keeps our Keep Alive"
    );
    let pinged = driver.run_while(until, |driver| {
        wire(driver)
            .packets(Direction::Received)
            .any(|packet| matches!(packet, Packet::PingResp(_)))
    });
    let packets: Vec<_> = wire(&driver)
        .packets
        .iter()
        .map(|(way, packet)| (*way, packet.packet_type()))
        .collect();
    assert!(
        pinged,
        "{version}: no PINGRESP within {KEEP_ALIVE_WAIT:?}: {packets:?}"
    );
    let ping = packets
        .iter()
        .position(|(way, kind)| *way == Direction::Sent && *kind == PacketType::PingReq);
    let pong = packets
        .iter()
        .position(|(way, kind)| *way == Direction::Received && *kind == PacketType::PingResp);
    assert!(
        matches!((ping, pong), (Some(ping), Some(pong)) if ping < pong),
        "{version}: PINGREQ, then PINGRESP: {packets:?}"
    );
    // The client waited for the Keep Alive to pass before pinging (one second at least).
    assert!(started.elapsed() >= Duration::from_millis(900), "{version}");
    assert!(driver.client.is_connected(), "{version}");
    driver.disconnect().expect("disconnect");
}

// ---- MQTT 5.0 topic aliases and Receive Maximum ----

/// With outgoing Topic Aliases on, the first PUBLISH to a topic names it and sets alias 1,
/// and every later one carries the alias alone (an empty topic); mosquitto resolves them, so
/// the subscriber receives each message with its topic.
///
/// conformance: v5:MQTT-3.2.2-17, v5:MQTT-3.3.2-9, v5:MQTT-3.3.2-12
#[test]
fn repeated_topic_goes_by_alias_v5() {
    let version = ProtocolVersion::V5;
    let Some(address) = common::broker_address() else {
        return;
    };
    let names = Names::new("alias", version);
    let until = StdInstant::now() + SCENARIO;
    let topic = names.topic("aliased");
    let (mut subscriber, _) = open(
        &address,
        ClientConfig::default(),
        names.options("sub"),
        until,
    );
    subscribe(&mut subscriber, &topic, QoS::AtLeastOnce, until);

    let config = ClientConfig {
        outgoing_topic_aliases: 4,
        ..ClientConfig::default()
    };
    let mut publisher = Driver::new(config);
    publisher.record_wire(None);
    let connected = publisher
        .connect(&address, names.options("pub"), until)
        .expect("connect");
    assert!(
        connected.server.topic_alias_maximum > 0,
        "mosquitto offers Topic Aliases: {connected:?}"
    );
    for i in 0..5 {
        publisher
            .publish_and_wait(message(&topic, &format!("a{i}"), QoS::AtLeastOnce), until)
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
    }
    let sent: Vec<(Option<String>, Option<u16>)> = wire(&publisher)
        .packets(Direction::Sent)
        .filter_map(|packet| match packet {
            Packet::Publish(publish) => Some((
                publish
                    .topic
                    .as_ref()
                    .map(|topic| topic.as_str().to_owned()),
                publish.properties.topic_alias.map(|alias| alias.get()),
            )),
            _ => None,
        })
        .collect();
    let mut expected = vec![(Some(topic.clone()), Some(1))];
    expected.extend(std::iter::repeat_n((None, Some(1)), 4));
    assert_eq!(sent, expected, "the topic once, then the alias alone");

    for i in 0..5 {
        let received = take_message(&mut subscriber, until, version);
        assert_eq!(topic_of(&received), topic);
        assert_eq!(received.payload, format!("a{i}").as_bytes());
    }
    publisher.disconnect().expect("disconnect");
    subscriber.disconnect().expect("disconnect");
}

/// A subscriber with a Receive Maximum of 2 and manual acknowledgement has at most two QoS 1
/// messages outstanding: of five waiting in mosquitto, exactly two arrive before it
/// acknowledges any. Its first acknowledgement makes room for one more, and then:
///
/// - a broker that keeps the limit sends exactly one (checked by a SUBSCRIBE round trip), and
///   the rest as the acknowledgements go out; all five arrive in order;
/// - mosquitto 2.0.11 (Debian bookworm, what `.ci/run` installs) sends two for the one
///   PUBACK, a third message outstanding (its in-flight accounting after an acknowledgement
///   of the oldest message; fixed in later 2.0 releases). The client must then end the
///   connection with DISCONNECT 0x93 (Receive Maximum exceeded), which the wire shows.
///
/// conformance: v5:MQTT-3.3.4-9, v5:MQTT-4.9.0-1, v5:MQTT-4.6.0-2
#[test]
fn receive_maximum_holds_back_the_server_v5() {
    let version = ProtocolVersion::V5;
    let Some(address) = common::broker_address() else {
        return;
    };
    let names = Names::new("recvmax", version);
    let until = StdInstant::now() + SCENARIO;
    let topic = names.topic("limited");
    let config = ClientConfig {
        receive_maximum: core::num::NonZeroU16::new(2).expect("2"),
        manual_acks: true,
        ..ClientConfig::default()
    };
    let mut subscriber = Driver::new(config);
    subscriber.record_wire(None);
    subscriber
        .connect(&address, names.options("sub"), until)
        .expect("connect");
    subscribe(&mut subscriber, &topic, QoS::AtLeastOnce, until);
    let (mut publisher, _) = open(
        &address,
        ClientConfig::default(),
        names.options("pub"),
        until,
    );
    for i in 0..5 {
        publisher
            .publish_and_wait(message(&topic, &format!("m{i}"), QoS::AtLeastOnce), until)
            .unwrap_or_else(|e| panic!("message {i}: {e}"));
    }
    publisher.disconnect().expect("disconnect");

    // mosquitto holds all five now. Before any acknowledgement: two, and no third.
    let mut received: Vec<Publish> = Vec::new();
    assert!(
        subscriber.run_while(until, |driver| messages_queued(driver) >= 2),
        "two messages expected"
    );
    barrier(&mut subscriber, &names, until);
    take_messages(&mut subscriber, &mut received);
    assert_eq!(payloads(&received), ["m0", "m1"], "held back at two");

    // Room for one more.
    subscriber.ack(packet_id(&received[0])).expect("ack");
    match try_barrier(&mut subscriber, &names, until) {
        Ok(()) => {
            take_messages(&mut subscriber, &mut received);
            assert_eq!(payloads(&received), ["m0", "m1", "m2"], "one more per ack");
            for message in &received[1..] {
                subscriber.ack(packet_id(message)).expect("ack");
            }
            assert!(
                subscriber.run_while(until, |driver| messages_queued(driver) >= 2),
                "the last two"
            );
            take_messages(&mut subscriber, &mut received);
            for message in &received[3..] {
                subscriber.ack(packet_id(message)).expect("ack");
            }
            assert_eq!(payloads(&received), ["m0", "m1", "m2", "m3", "m4"]);
            subscriber.disconnect().expect("disconnect");
        }
        Err(DriverError::Ended(Some(ended))) => {
            assert_eq!(
                ended.reason,
                DisconnectReason::ProtocolError(PeerError::Protocol(
                    ProtocolError::ReceiveMaximumExceeded
                )),
                "the connection ended for another reason"
            );
            let wire = wire(&subscriber);
            let publishes = wire
                .packets(Direction::Received)
                .filter(|packet| matches!(packet, Packet::Publish(_)))
                .count();
            let acks = wire
                .packets(Direction::Sent)
                .filter(|packet| matches!(packet, Packet::PubAck(_)))
                .count();
            assert_eq!(
                (publishes, acks),
                (4, 1),
                "mosquitto sent a third outstanding message: {:?}",
                wire.packets
            );
            let last = wire.packets(Direction::Sent).last();
            assert!(
                matches!(last, Some(Packet::Disconnect(d))
                    if d.reason_code == DisconnectReasonCode::ReceiveMaximumExceeded),
                "the client's last packet: {last:?}"
            );
            println!(
                "note: the broker exceeded the Receive Maximum of 2 after the first PUBACK \
                 (mosquitto 2.0.11 does); the client disconnected with 0x93"
            );
        }
        Err(other) => panic!("after the first acknowledgement: {other}"),
    }
}

/// Moves every queued message of `driver` to the end of `received`.
fn take_messages(driver: &mut Driver, received: &mut Vec<Publish>) {
    for event in driver.drain(|event| matches!(event, Event::Message(_))) {
        if let Event::Message(message) = event {
            received.push(message);
        }
    }
}

fn packet_id(message: &Publish) -> PacketId {
    message.packet_id().expect("a QoS 1 message")
}

// ---- persistent sessions ----

/// A subscriber with a persistent session, subscribed at QoS 1 and 2, has its connection cut
/// while messages are in flight (received, their PUBACK or PUBREC not yet written), misses
/// more while it is away, and reconnects with the same client id: mosquitto resumes the
/// session (Session Present), re-sends what was unacknowledged, and the client delivers every
/// QoS 1 message at least once and every QoS 2 message exactly once.
///
/// conformance: v311:MQTT-3.1.2-4, v311:MQTT-4.1.0-1, v311:MQTT-4.4.0-1, v311:MQTT-4.3.3-2,
/// v311:MQTT-3.1.3-2
#[test]
fn session_resumes_after_a_cut_v31() {
    session_resumes_after_a_cut(ProtocolVersion::V3_1);
}

/// See [`session_resumes_after_a_cut_v31`].
///
/// conformance: v311:MQTT-3.1.2-4, v311:MQTT-4.1.0-1, v311:MQTT-4.4.0-1, v311:MQTT-4.3.3-2,
/// v311:MQTT-3.1.3-2
#[test]
fn session_resumes_after_a_cut_v311() {
    session_resumes_after_a_cut(ProtocolVersion::V3_1_1);
}

/// See [`session_resumes_after_a_cut_v31`].
///
/// conformance: v5:MQTT-3.1.2-23, v5:MQTT-4.1.0-1, v5:MQTT-4.4.0-1, v5:MQTT-4.3.3-10,
/// v5:MQTT-3.1.3-2
#[test]
fn session_resumes_after_a_cut_v5() {
    session_resumes_after_a_cut(ProtocolVersion::V5);
}

fn session_resumes_after_a_cut(version: ProtocolVersion) {
    let Some(address) = common::broker_address() else {
        return;
    };
    let names = Names::new("resume", version);
    let until = StdInstant::now() + SCENARIO;
    let q1 = names.topic("q1");
    let q2 = names.topic("q2");
    let persistent = || {
        let options = names.options("sub").clean_start(false);
        if version.is_v5() {
            options.session_expiry_interval(60)
        } else {
            options
        }
    };
    let mut subscriber = Driver::new(ClientConfig::default());
    subscriber.record_wire(None);
    let connected = subscriber
        .connect(&address, persistent(), until)
        .unwrap_or_else(|e| panic!("{version}: connect: {e}"));
    assert!(!connected.session_present || version == ProtocolVersion::V3_1);
    let suback = subscriber
        .subscribe_and_wait(
            [
                Subscription::new(filter(&q1), QoS::AtLeastOnce),
                Subscription::new(filter(&q2), QoS::ExactlyOnce),
            ],
            until,
        )
        .unwrap_or_else(|e| panic!("{version}: subscribe: {e}"));
    assert_eq!(
        suback.reason_codes.iter().collect::<Vec<_>>(),
        [SubAckReasonCode::GrantedQoS1, SubAckReasonCode::GrantedQoS2],
        "{version}"
    );
    let (mut publisher, _) = open(
        &address,
        ClientConfig::default(),
        names.options("pub"),
        until,
    );
    let publish_batch = |publisher: &mut Driver, range: std::ops::Range<u32>| {
        let mut ids = Vec::new();
        for seq in range {
            ids.extend(
                publisher
                    .publish(message(&q1, &seq.to_string(), QoS::AtLeastOnce))
                    .expect("publish"),
            );
            ids.extend(
                publisher
                    .publish(message(&q2, &seq.to_string(), QoS::ExactlyOnce))
                    .expect("publish"),
            );
        }
        // Once mosquitto has acknowledged them, it has written them to the subscriber.
        for id in ids {
            publisher
                .wait_published(id, until)
                .unwrap_or_else(|e| panic!("{version}: publish: {e}"));
        }
    };
    let mut delivered = Delivered::default();

    // A: delivered and acknowledged in full.
    publish_batch(&mut publisher, 0..4);
    assert!(
        subscriber.run_while(until, |driver| messages_queued(driver) >= 8),
        "{version}"
    );
    barrier(&mut subscriber, &names, until);
    delivered.take_from(&mut subscriber);
    // B: delivered with their PUBACK and PUBREC written; the PUBRELs of the QoS 2 ones come
    // back and may still be unanswered at the cut.
    publish_batch(&mut publisher, 4..8);
    assert!(
        subscriber.run_while(until, |driver| messages_queued(driver) >= 8),
        "{version}"
    );
    delivered.take_from(&mut subscriber);
    // C: read and delivered, but nothing written: the cut comes before their PUBACK and
    // PUBREC.
    publish_batch(&mut publisher, 8..12);
    let has_both = |driver: &Driver| {
        let batch_c = |topic: &str| {
            driver.queued().iter().any(|event| {
                matches!(event, Event::Message(m) if topic_of(m) == topic && seq_of(m) >= 8)
            })
        };
        batch_c(&q1) && batch_c(&q2)
    };
    while !has_both(&subscriber) && StdInstant::now() < until {
        subscriber.receive_without_writing(until);
    }
    assert!(has_both(&subscriber), "{version}: batch C arrived");
    let unanswered = |wire: &driver::Wire, qos: QoS, answer: PacketType| {
        let received = wire
            .packets(Direction::Received)
            .filter(|packet| matches!(packet, Packet::Publish(p) if p.qos() == qos))
            .count();
        let answered = wire
            .packets(Direction::Sent)
            .filter(|packet| packet.packet_type() == answer)
            .count();
        received.saturating_sub(answered)
    };
    let wire_at_cut = wire(&subscriber);
    assert!(
        unanswered(wire_at_cut, QoS::AtLeastOnce, PacketType::PubAck) > 0,
        "{version}: a QoS 1 message is unacknowledged at the cut"
    );
    assert!(
        unanswered(wire_at_cut, QoS::ExactlyOnce, PacketType::PubRec) > 0,
        "{version}: a QoS 2 message is unacknowledged at the cut"
    );
    subscriber.kill();
    delivered.take_from(&mut subscriber);
    // D: published while the subscriber is away.
    publish_batch(&mut publisher, 12..16);
    publisher.disconnect().expect("disconnect");

    let connected = subscriber
        .connect(&address, persistent(), until)
        .unwrap_or_else(|e| panic!("{version}: reconnect: {e}"));
    assert!(
        connected.session_present,
        "{version}: the session is resumed"
    );
    let complete = |delivered: &Delivered| {
        (0..16).all(|seq| delivered.count(&q1, seq) > 0 && delivered.count(&q2, seq) > 0)
    };
    while !complete(&delivered) {
        let event = subscriber
            .take(until, "the rest of the messages", |event| {
                matches!(event, Event::Message(_))
            })
            .unwrap_or_else(|e| panic!("{version}: {e}; delivered so far: {:?}", delivered.counts));
        delivered.add(event);
    }
    // Anything mosquitto re-sent is in before the SUBACK.
    barrier(&mut subscriber, &names, until);
    delivered.take_from(&mut subscriber);
    let redelivered_qos2 = wire(&subscriber)
        .packets(Direction::Received)
        .filter(|packet| {
            matches!(packet, Packet::Publish(p) if p.qos() == QoS::ExactlyOnce && p.is_dup())
        })
        .count();
    assert!(
        redelivered_qos2 > 0,
        "{version}: mosquitto re-sent a QoS 2 message the client had already delivered"
    );
    for seq in 0..16 {
        assert!(
            delivered.count(&q1, seq) >= 1,
            "{version}: QoS 1 message {seq} lost"
        );
        assert_eq!(
            delivered.count(&q2, seq),
            1,
            "{version}: QoS 2 message {seq} must be delivered exactly once"
        );
    }
    subscriber.disconnect().expect("disconnect");
    forget_session(&address, &names, until);
}

/// The messages a subscriber's application saw, counted by topic and sequence number.
#[derive(Debug, Default)]
struct Delivered {
    counts: BTreeMap<(String, u32), usize>,
}

impl Delivered {
    fn add(&mut self, event: Event) {
        if let Event::Message(message) = event {
            let key = (topic_of(&message), seq_of(&message));
            *self.counts.entry(key).or_default() += 1;
        }
    }

    /// Moves every queued message of `driver` into the counts.
    fn take_from(&mut self, driver: &mut Driver) {
        for event in driver.drain(|event| matches!(event, Event::Message(_))) {
            self.add(event);
        }
    }

    fn count(&self, topic: &str, seq: u32) -> usize {
        self.counts
            .get(&(topic.to_owned(), seq))
            .copied()
            .unwrap_or(0)
    }
}

/// Ends the subscriber's persistent session: a clean connection with the same id, then
/// DISCONNECT, so that the broker keeps nothing of the test.
fn forget_session(address: &str, names: &Names, until: StdInstant) {
    let (mut driver, _) = open(
        address,
        ClientConfig::default(),
        names.options("sub"),
        until,
    );
    driver.disconnect().expect("disconnect");
}

// ---- connection failures ----

/// A CONNECT mosquitto refuses ends in [`DriverError::Refused`] with the CONNACK's reason
/// code: here a 5.0 Authentication Method that no plugin of mosquitto handles (Bad
/// authentication method, 0x8C).
///
/// conformance: v5:MQTT-4.13.2-1, v5:MQTT-3.2.2-7
#[test]
fn refused_connection_reports_the_reason_code_v5() {
    let version = ProtocolVersion::V5;
    let Some(address) = common::broker_address() else {
        return;
    };
    let names = Names::new("refused", version);
    let until = StdInstant::now() + SCENARIO;
    let options = names
        .options("ref")
        .authentication("SCRAM-SHA-1", Some(b"client-first".as_slice()))
        .expect("method");
    let mut driver = Driver::new(ClientConfig::default());
    let error = driver
        .connect(&address, options, until)
        .expect_err("mosquitto has no such method");
    let DriverError::Refused { disconnected, .. } = &error else {
        panic!("refused expected: {error}");
    };
    assert_eq!(
        disconnected.reason,
        DisconnectReason::Refused(ConnectReasonCode::BadAuthenticationMethod)
    );
    assert!(error.to_string().contains("0x8C"), "{error}");
    assert!(!driver.is_open() && !driver.client.is_connected());
}

/// A port where nothing listens is [`DriverError::Unreachable`], with the OS error. Needs no
/// broker.
#[test]
fn unreachable_broker_is_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    drop(listener);
    let mut driver = Driver::new(ClientConfig::default());
    let options = ConnectOptions::new(ProtocolVersion::V3_1_1, "unreachable").expect("options");
    let error = driver
        .connect(&address, options, StdInstant::now() + SCENARIO)
        .expect_err("nothing listens");
    assert!(
        matches!(&error, DriverError::Unreachable { error, .. } if error.kind() == std::io::ErrorKind::ConnectionRefused),
        "{error:?}"
    );
    assert!(error.to_string().contains(&address), "{error}");
}

/// A server that accepts the TCP connection and never answers: the client's connect timeout
/// fires on real time, through the socket's read timeout set from `poll_timeout`, and ends
/// the connection. Needs no broker.
#[test]
fn silent_server_ends_the_connection_at_connect_timeout() {
    // The kernel completes the handshake from the listen backlog; nobody ever reads.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let config = ClientConfig {
        connect_timeout: Duration::from_millis(300),
        ..ClientConfig::default()
    };
    let mut driver = Driver::new(config);
    let options = ConnectOptions::new(ProtocolVersion::V5, "silent").expect("options");
    let started = StdInstant::now();
    let error = driver
        .connect(&address, options, started + SCENARIO)
        .expect_err("no CONNACK");
    let elapsed = started.elapsed();
    assert!(
        matches!(&error, DriverError::Ended(Some(ended)) if ended.reason == DisconnectReason::ConnectTimeout),
        "{error:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < SCENARIO,
        "ended after {elapsed:?}"
    );
    assert!(!driver.is_open());
    drop(listener);
}

// ---- helpers ----

/// Topics and client identifiers of one scenario in one version, unique across tests,
/// processes and runs.
struct Names {
    version: ProtocolVersion,
    /// Distinguishes this scenario's names: process id, counter, time stamp, in hex.
    run: String,
    /// The topic prefix.
    prefix: String,
    /// Barrier subscriptions made so far.
    barriers: AtomicU32,
}

impl Names {
    fn new(scenario: &str, version: ProtocolVersion) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let tag = match version {
            ProtocolVersion::V3_1 => "v31",
            ProtocolVersion::V3_1_1 => "v311",
            _ => "v5",
        };
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_micros()
            & 0xffff_ffff;
        let count = COUNTER.fetch_add(1, Ordering::Relaxed) & 0xff;
        let run = format!("{:x}{count:x}{stamp:x}", process::id());
        let prefix = format!("mqtt-sansio/client/{scenario}/{tag}/{run}");
        Self {
            version,
            run,
            prefix,
            barriers: AtomicU32::new(0),
        }
    }

    fn topic(&self, leaf: &str) -> String {
        format!("{}/{leaf}", self.prefix)
    }

    /// A client identifier for `role` (three characters); at most 23 characters, as MQTT 3.1
    /// requires.
    fn client_id(&self, role: &str) -> String {
        let version = match self.version {
            ProtocolVersion::V3_1 => '3',
            ProtocolVersion::V3_1_1 => '4',
            _ => '5',
        };
        let mut id = format!("{role}{version}{}", self.run);
        id.truncate(23);
        id
    }

    /// Clean connect options for `role`, with the default Keep Alive.
    fn options(&self, role: &str) -> ConnectOptions {
        ConnectOptions::new(self.version, &self.client_id(role)).expect("client id")
    }
}

/// A driver connected with `options`; fails the test if it cannot connect.
fn open(
    address: &str,
    config: ClientConfig,
    options: ConnectOptions,
    until: StdInstant,
) -> (Driver, Box<Connected>) {
    let version = options.version();
    let id = options.packet().client_id.as_str().to_owned();
    let mut driver = Driver::new(config);
    let connected = driver
        .connect(address, options, until)
        .unwrap_or_else(|e| panic!("{version} {id}: connect to {address}: {e}"));
    (driver, connected)
}

/// Subscribes to `topic` at `qos` and checks the broker granted it.
fn subscribe(driver: &mut Driver, topic: &str, qos: QoS, until: StdInstant) {
    let suback = driver
        .subscribe_and_wait([Subscription::new(filter(topic), qos)], until)
        .unwrap_or_else(|e| panic!("subscribe to {topic}: {e}"));
    let granted = suback.reason_codes.iter().next();
    assert!(
        granted.is_some_and(|code| !code.is_error()),
        "subscribe to {topic}: {granted:?}"
    );
}

/// A SUBSCRIBE round trip on a topic of its own: everything mosquitto wrote to this client
/// before the SUBACK is in the driver's queue when it returns.
#[track_caller]
fn barrier(driver: &mut Driver, names: &Names, until: StdInstant) {
    try_barrier(driver, names, until).unwrap_or_else(|e| panic!("barrier: {e}"));
}

/// [`barrier`], giving back a failure instead of failing the test.
fn try_barrier(driver: &mut Driver, names: &Names, until: StdInstant) -> Result<(), DriverError> {
    let n = names.barriers.fetch_add(1, Ordering::Relaxed);
    let filter = filter(&names.topic(&format!("barrier/{n}")));
    driver.subscribe_and_wait([Subscription::new(filter, QoS::AtMostOnce)], until)?;
    Ok(())
}

/// The next message, failing the test if none comes in time.
#[track_caller]
fn take_message(driver: &mut Driver, until: StdInstant, version: ProtocolVersion) -> Publish {
    match driver.take(until, "a message", |event| {
        matches!(event, Event::Message(_))
    }) {
        Ok(Event::Message(message)) => message,
        Ok(other) => unreachable!("{other:?}"),
        Err(e) => panic!("{version}: {e}"),
    }
}

/// Messages queued in the driver and not yet taken.
fn messages_queued(driver: &Driver) -> usize {
    driver
        .queued()
        .iter()
        .filter(|event| matches!(event, Event::Message(_)))
        .count()
}

/// The recorded packets; the driver must record.
fn wire(driver: &Driver) -> &driver::Wire {
    driver.wire().expect("the driver records the wire")
}

fn message(topic: &str, payload: &str, qos: QoS) -> Publish {
    Publish::new(
        TopicName::new(topic).expect("topic"),
        Bytes::copy_from_slice(payload.as_bytes()),
    )
    .with_qos(qos)
}

fn filter(topic: &str) -> TopicFilter<Bytes> {
    TopicFilter::new(topic).expect("filter")
}

fn topic_of(message: &Publish) -> String {
    message
        .topic
        .as_ref()
        .map(|topic| topic.as_str().to_owned())
        .unwrap_or_default()
}

/// The sequence number a payload holds.
fn seq_of(message: &Publish) -> u32 {
    std::str::from_utf8(&message.payload)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(u32::MAX)
}

fn payloads(messages: &[Publish]) -> Vec<String> {
    messages
        .iter()
        .map(|message| String::from_utf8_lossy(&message.payload).into_owned())
        .collect()
}
