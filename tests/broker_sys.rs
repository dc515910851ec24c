//! `$SYS/` counters: what `Stats::sys_topics` gives a driver to publish through
//! `Broker::publish`, who gets them, and that their values say what happened.
#![cfg(feature = "v5")]

mod common;

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use bytes::Bytes;
use common::broker::{Conn, Harness, connect_packet, keep_session, publish, retained};
use mqtt_sansio::{
    BrokerConfig, Decoder, Disconnect, Limits, Packet, ProtocolVersion, PubAck, Publish, QoS,
    TopicName,
};

const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// What a driver does every so often: each counter, retained, at QoS 0, its value in decimal.
fn publish_sys(h: &mut Harness) {
    for (topic, value) in h.broker.stats().sys_topics() {
        let mut message = Publish::new(
            TopicName::new(topic).unwrap(),
            Bytes::from(value.to_string()),
        );
        message.retain = true;
        h.broker.publish(h.now, message).unwrap();
    }
    // The harness writes out what the broker queued.
    h.advance(0);
}

/// The `$SYS/` messages among `packets`, by topic, with their values; panics on another
/// packet.
#[track_caller]
fn counters(packets: Vec<Packet>) -> BTreeMap<String, (u64, bool)> {
    packets
        .into_iter()
        .map(|packet| match packet {
            Packet::Publish(publish) => {
                let topic = publish.topic.unwrap().as_str().to_owned();
                let value = std::str::from_utf8(&publish.payload)
                    .unwrap()
                    .parse()
                    .unwrap();
                (topic, (value, publish.retain))
            }
            other => panic!("expected a PUBLISH, got {other:?}"),
        })
        .collect()
}

/// A subscriber to `$SYS/#` gets every counter the driver publishes, at the value `stats()`
/// had, once each; a subscriber to `#` gets none of them (nor to `+/broker/#`) while it gets
/// ordinary messages; a client that subscribes later gets the latest values at once,
/// retained.
/// conformance: v311:MQTT-4.7.2-1, v5:MQTT-4.7.2-1, v311:MQTT-3.3.1-6, v311:MQTT-3.3.1-8,
/// v311:MQTT-3.3.1-9, v5:MQTT-3.3.1-9, v5:MQTT-3.3.1-12
#[test]
fn sys_subscriber_gets_the_counters_and_hash_does_not() {
    for version in [V311, V5] {
        let mut h = Harness::new(BrokerConfig::default());
        let sys = h.connect(version, "sys");
        assert_eq!(h.subscribe(sys, "$SYS/#", QoS::AtMostOnce), []);
        let hash = h.connect(version, "hash");
        assert_eq!(h.subscribe(hash, "#", QoS::AtMostOnce), []);
        assert_eq!(h.subscribe(hash, "+/broker/#", QoS::AtMostOnce), []);
        let publisher = h.connect(version, "pub");
        h.send(publisher, publish("a", b"x", QoS::AtMostOnce, 0));
        assert_eq!(h.sent(hash).len(), 1, "{version}: an ordinary message");

        let expected: BTreeMap<String, u64> = h
            .broker
            .stats()
            .sys_topics()
            .map(|(topic, value)| (topic.to_owned(), value))
            .collect();
        assert_eq!(expected.len(), h.broker.stats().sys_topics().len());
        publish_sys(&mut h);
        let got = counters(h.sent(sys));
        assert_eq!(got.len(), expected.len(), "{version}: each once");
        for (topic, value) in &expected {
            assert_eq!(got.get(topic), Some(&(*value, false)), "{version} {topic}");
        }
        assert_eq!(h.sent(hash), [], "{version}: `#` matches no `$` topic");
        assert_eq!(h.broker.stats().retained, expected.len(), "{version}");

        let late = h.connect(version, "late");
        let retained_values = counters(h.subscribe(late, "$SYS/broker/clients/+", QoS::AtMostOnce));
        let clients: BTreeMap<String, (u64, bool)> = expected
            .iter()
            .filter(|(topic, _)| topic.starts_with("$SYS/broker/clients/"))
            .map(|(topic, value)| (topic.clone(), (*value, true)))
            .collect();
        assert_eq!(retained_values, clients, "{version}");
        assert!(clients.contains_key("$SYS/broker/clients/connected"));
    }
}

/// A client's end of a connection whose bytes the test counts both ways.
struct Counted {
    h: Harness,
    bytes_in: u64,
    bytes_out: u64,
}

impl Counted {
    /// `packet`, sent on `conn`, counted.
    fn send(&mut self, conn: Conn, packet: impl Into<Packet>) {
        let bytes = self.h.encode(conn, packet);
        self.bytes_in += bytes.len() as u64;
        self.h.send_bytes(conn, &bytes);
    }

    /// What the broker wrote for `conn`, counted and decoded.
    fn take(&mut self, conn: Conn) -> Vec<Packet> {
        let bytes = self.h.sent_bytes(conn);
        self.bytes_out += bytes.len() as u64;
        let mut decoder = Decoder::client(self.h.version(conn), Limits::default());
        decoder.push(&bytes);
        let mut packets = Vec::new();
        while let Some(packet) = decoder.decode().unwrap() {
            packets.push(packet);
        }
        packets
    }

    /// A new connection sending `connect`; returns it and what the broker answered.
    fn connect(&mut self, connect: mqtt_sansio::Connect) -> (Conn, Vec<Packet>) {
        let conn = self.h.open(connect.protocol_version);
        self.send(conn, connect);
        let answer = self.take(conn);
        (conn, answer)
    }

    /// Subscribes `conn` to `filter` at `qos` (Packet Identifier 1).
    fn subscribe(&mut self, conn: Conn, filter: &str, qos: QoS) {
        let subscribe = mqtt_sansio::Subscribe::new(
            common::pid(1),
            [mqtt_sansio::Subscription {
                filter: common::broker::topic_filter(filter),
                options: mqtt_sansio::SubscriptionOptions::new(qos),
            }],
        );
        self.send(conn, subscribe);
        let answer = self.take(conn);
        assert!(matches!(answer[..], [Packet::SubAck(_)]), "{answer:?}");
    }
}

/// After a known history the values published say what happened: who is connected, which
/// sessions and subscriptions exist, what is retained and held, how many messages came in and
/// went out, every byte each way, and the one delivery dropped for being too large.
/// conformance: v5:MQTT-3.1.2-25
#[test]
fn sys_values_agree_with_what_happened() {
    let mut c = Counted {
        h: Harness::new(BrokerConfig::default()),
        bytes_in: 0,
        bytes_out: 0,
    };
    let (sys, _) = c.connect(connect_packet(V5, "sys"));
    c.subscribe(sys, "$SYS/#", QoS::AtMostOnce);
    let (all, _) = c.connect(connect_packet(V311, "all"));
    c.subscribe(all, "#", QoS::AtLeastOnce);
    let mut small = connect_packet(V5, "small");
    small.properties.maximum_packet_size = NonZeroU32::new(20);
    let (small, _) = c.connect(small);
    c.subscribe(small, "big", QoS::AtMostOnce);
    let (keeper, _) = c.connect(keep_session(V5, "keeper", 60));
    c.subscribe(keeper, "k/+", QoS::AtLeastOnce);
    c.send(keeper, Disconnect::default());
    assert_eq!(c.take(keeper), []);
    let (publisher, _) = c.connect(connect_packet(V311, "pub"));

    c.send(
        publisher,
        retained(publish("a/b", b"r", QoS::AtLeastOnce, 1)),
    );
    c.send(publisher, publish("big", &[0; 100], QoS::AtMostOnce, 0));
    c.send(publisher, publish("k/1", b"queued", QoS::AtLeastOnce, 2));
    assert_eq!(c.take(publisher).len(), 2, "two PUBACKs");
    let delivered = c.take(all);
    assert_eq!(delivered.len(), 3);
    for packet in &delivered {
        if let Packet::Publish(publish) = packet
            && let Some(id) = publish.packet_id()
        {
            c.send(all, PubAck::new(id));
        }
    }
    assert_eq!(c.take(all), []);
    assert_eq!(c.take(small), [], "too large for it");
    assert_eq!(c.take(sys), []);

    // Every byte so far, both ways: the values are taken before they are published.
    let (bytes_in, bytes_out) = (c.bytes_in, c.bytes_out);
    publish_sys(&mut c.h);
    let got: BTreeMap<String, u64> = counters(c.take(sys))
        .into_iter()
        .map(|(topic, (value, _))| (topic, value))
        .collect();
    let expected: BTreeMap<String, u64> = [
        ("clients/connected", 4),
        ("clients/total", 5),
        ("subscriptions/count", 4),
        ("retained messages/count", 1),
        // The retained message, and the message queued for `keeper`.
        ("store/messages/count", 2),
        ("store/messages/bytes", 1 + 6),
        ("publish/messages/received", 3),
        // Three to `all`; none to `small` (dropped) or `keeper` (queued while away).
        ("publish/messages/sent", 3),
        ("bytes/received", bytes_in),
        ("bytes/sent", bytes_out),
        ("publish/messages/dropped", 1),
        ("publish/messages/dropped/queue-full", 0),
        ("publish/messages/dropped/too-large", 1),
        ("publish/messages/dropped/expired", 0),
        ("publish/messages/dropped/no-member", 0),
        ("publish/messages/handed-over", 0),
    ]
    .into_iter()
    .map(|(topic, value)| (format!("$SYS/broker/{topic}"), value))
    .collect();
    assert_eq!(got, expected);
}

/// The driver's own publications are not PUBLISH packets received from clients: publishing
/// the counters leaves `publish/messages/received` (`Stats::messages_in`) as it was, so the
/// next round does not report the previous one as traffic.
#[test]
fn driver_publications_do_not_count_as_messages_received() {
    let mut h = Harness::new(BrokerConfig::default());
    let publisher = h.connect(V5, "pub");
    h.send(publisher, publish("a", b"x", QoS::AtMostOnce, 0));
    assert_eq!(h.broker.stats().messages_in, 1);
    publish_sys(&mut h);
    assert_eq!(h.broker.stats().messages_in, 1);
}
