//! Outbound Topic Aliases (5.0): the broker's policy towards a client that allows them. One
//! alias per distinct topic of 4 bytes or more, in the order topics are first sent, up to the
//! client's Topic Alias Maximum; the first delivery sets the alias with the topic, later ones
//! use it with an empty topic; no alias is reassigned, and a new connection starts afresh.
//! (Inbound aliases are tested in `broker_routing.rs`.)
#![cfg(feature = "v5")]

mod common;

use common::broker::{Conn, Harness, connect_packet, keep_session, publish};
use mqtt_sansio::{BrokerConfig, Packet, ProtocolVersion, QoS};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// Connects a 5.0 subscriber to `#` that allows `maximum` Topic Aliases (`None`: leaves the
/// property out), keeping its session when `keep` is set.
fn subscriber(h: &mut Harness, maximum: Option<u16>, keep: bool) -> Conn {
    let mut connect = if keep {
        keep_session(V5, "sub", 600)
    } else {
        connect_packet(V5, "sub")
    };
    connect.properties.topic_alias_maximum = maximum;
    let (conn, _, _) = h.connect_with(connect);
    if !keep || h.broker.stats().subscriptions == 0 {
        h.subscribe(conn, "#", QoS::AtLeastOnce);
    }
    conn
}

/// What each PUBLISH sent names: (topic as written, alias), in order.
fn named(packets: &[Packet]) -> Vec<(String, Option<u16>)> {
    packets
        .iter()
        .filter_map(|packet| match packet {
            Packet::Publish(p) => Some((
                p.topic
                    .as_ref()
                    .map_or(String::new(), |t| t.as_str().to_owned()),
                p.properties.topic_alias.map(|a| a.get()),
            )),
            _ => None,
        })
        .collect()
}

fn owned(expected: &[(&str, Option<u16>)]) -> Vec<(String, Option<u16>)> {
    expected
        .iter()
        .map(|&(topic, alias)| (topic.to_owned(), alias))
        .collect()
}

/// Aliases are given in first-sent order up to the client's maximum and never above it; later
/// deliveries use them with an empty topic; a topic of 3 bytes gets none; at QoS 0 and 1 alike.
///
/// conformance: v5:MQTT-3.3.2-11, v5:MQTT-3.3.2-8
#[test]
fn aliases_are_set_then_used_up_to_the_clients_maximum() {
    let mut h = Harness::new(BrokerConfig::default());
    let sub = subscriber(&mut h, Some(2), false);
    let publisher = h.connect(V5, "pub");
    for (n, topic) in [
        "aa/1", "aa/2", "aa/3", "aa/1", "aa/2", "abc", "aa/3", "aa/1",
    ]
    .into_iter()
    .enumerate()
    {
        let qos = if n % 2 == 0 {
            QoS::AtMostOnce
        } else {
            QoS::AtLeastOnce
        };
        h.send(publisher, publish(topic, b"x", qos, 1 + n as u16));
    }
    assert_eq!(
        named(&h.sent(sub)),
        owned(&[
            ("aa/1", Some(1)),
            ("aa/2", Some(2)),
            ("aa/3", None),
            ("", Some(1)),
            ("", Some(2)),
            ("abc", None),
            ("aa/3", None),
            ("", Some(1)),
        ])
    );
}

/// A client that allows no alias (Topic Alias Maximum absent or 0), and a 3.1.1 client, get
/// the topic in every delivery.
///
/// conformance: v5:MQTT-3.1.2-26, v5:MQTT-3.1.2-27
#[test]
fn clients_that_allow_no_alias_get_none() {
    for maximum in [None, Some(0)] {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = subscriber(&mut h, maximum, false);
        let old = h.connect(ProtocolVersion::V3_1_1, "old");
        h.subscribe(old, "#", QoS::AtMostOnce);
        let publisher = h.connect(V5, "pub");
        for _ in 0..3 {
            h.send(publisher, publish("long/topic", b"x", QoS::AtMostOnce, 0));
        }
        let expected = owned(&[("long/topic", None); 3]);
        assert_eq!(named(&h.sent(sub)), expected, "{maximum:?}");
        assert_eq!(named(&h.sent(old)), expected, "{maximum:?}");
    }
}

/// The aliases belong to one connection: after a reconnect (the session resumed) the first
/// delivery on a topic sets its alias again.
///
/// conformance: v5:MQTT-3.3.2-7
#[test]
fn a_new_connection_starts_without_aliases() {
    let mut h = Harness::new(BrokerConfig::default());
    let sub = subscriber(&mut h, Some(5), true);
    let publisher = h.connect(V5, "pub");
    h.send(publisher, publish("room/1", b"x", QoS::AtMostOnce, 0));
    h.send(publisher, publish("room/1", b"x", QoS::AtMostOnce, 0));
    assert_eq!(
        named(&h.sent(sub)),
        owned(&[("room/1", Some(1)), ("", Some(1))])
    );
    h.drop_socket(sub);
    let sub = subscriber(&mut h, Some(5), true);
    h.send(publisher, publish("room/1", b"x", QoS::AtMostOnce, 0));
    assert_eq!(named(&h.sent(sub)), owned(&[("room/1", Some(1))]));
}

/// A delivery that does not fit the driver's buffer at once is written whole later, and its
/// alias counts only once it is written: nothing is used before it is set.
#[test]
fn an_alias_counts_once_its_packet_is_written() {
    let mut h = Harness::new(BrokerConfig::default());
    h.set_buffer_size(16);
    let sub = subscriber(&mut h, Some(5), false);
    let publisher = h.connect(V5, "pub");
    let big = vec![7u8; 40];
    h.send(publisher, publish("room/1", &big, QoS::AtMostOnce, 0));
    h.send(publisher, publish("room/1", b"x", QoS::AtMostOnce, 0));
    assert_eq!(
        named(&h.sent(sub)),
        owned(&[("room/1", Some(1)), ("", Some(1))])
    );
}
