//! MQTT 5.0 Topic Aliases both ways: the server's, which the client resolves within its own
//! Topic Alias Maximum and forgets with the connection, and the client's own, which stay
//! within the server's maximum and never outlive a connection.
#![cfg(feature = "v5")]

mod common;

use std::collections::BTreeMap;
use std::num::NonZeroU16;

use common::client::{Harness, incoming, keep_session, message};
use mqtt_sansio::{
    ClientConfig, ConnAck, ConnectOptions, ConnectReasonCode, Disconnect, DisconnectReason,
    DisconnectReasonCode, Event, Packet, PeerError, ProtocolError, ProtocolVersion, Publish, QoS,
};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// A server PUBLISH at QoS 0 naming its topic by `topic` and/or `alias`.
fn aliased(topic: Option<&str>, alias: u16, payload: &'static [u8]) -> Publish {
    let mut publish = incoming(topic.unwrap_or("unused"), payload, QoS::AtMostOnce, 1);
    if topic.is_none() {
        publish.topic = None;
    }
    publish.properties.topic_alias = NonZeroU16::new(alias);
    publish
}

/// The topic and payload of the one message delivered.
fn delivered(h: &mut Harness) -> (String, Vec<u8>) {
    let events = h.events();
    match &events[..] {
        [Event::Message(publish)] => (
            publish
                .topic
                .as_ref()
                .expect("the topic is filled in")
                .as_str()
                .to_owned(),
            publish.payload.to_vec(),
        ),
        other => panic!("expected one message, got {other:?}"),
    }
}

/// The client sent exactly DISCONNECT "Topic Alias invalid" and reported it.
fn assert_alias_invalid(h: &mut Harness, alias: u16) {
    assert_eq!(
        h.sent(),
        [Packet::Disconnect(Disconnect::new(
            DisconnectReasonCode::TopicAliasInvalid
        ))]
    );
    let expected = DisconnectReason::ProtocolError(PeerError::Protocol(
        ProtocolError::TopicAliasInvalid(alias),
    ));
    let events = h.events();
    assert!(
        matches!(&events[..], [Event::Disconnected(d)] if d.reason == expected),
        "{events:?}"
    );
    assert!(!h.client.is_connected());
}

/// A topic and an alias together set the alias; the alias alone then names that topic, which
/// the delivered message carries. Every alias from 1 to our Topic Alias Maximum is accepted,
/// and an alias can be set again to another topic.
///
/// conformance: v5:MQTT-3.3.2-10
#[test]
fn incoming_aliases_are_set_and_resolved() {
    let config = ClientConfig {
        topic_alias_maximum: 4,
        ..ClientConfig::default()
    };
    let mut h = Harness::new(config);
    let connect = h.connect(ConnectOptions::new(V5, "client").unwrap());
    assert!(matches!(connect, Packet::Connect(c) if c.properties.topic_alias_maximum == Some(4)));
    h.receive(ConnAck::new(false, ConnectReasonCode::Success));
    h.events();

    for alias in 1..=4u16 {
        let topic = format!("a/{alias}");
        h.receive(aliased(Some(&topic), alias, b"set"));
        assert_eq!(delivered(&mut h), (topic.clone(), b"set".to_vec()));
    }
    for alias in (1..=4u16).rev() {
        h.receive(aliased(None, alias, b"use"));
        assert_eq!(delivered(&mut h), (format!("a/{alias}"), b"use".to_vec()));
    }
    h.receive(aliased(Some("b/new"), 2, b"reset"));
    assert_eq!(delivered(&mut h).0, "b/new");
    h.receive(aliased(None, 2, b"use"));
    assert_eq!(delivered(&mut h).0, "b/new");
    // Aliases work at every QoS.
    let mut q1 = aliased(None, 3, b"q1");
    q1.delivery = mqtt_sansio::Delivery::new(QoS::AtLeastOnce, common::pid(8));
    h.receive(q1);
    assert_eq!(delivered(&mut h).0, "a/3");
    assert_eq!(
        h.sent(),
        [Packet::PubAck(mqtt_sansio::PubAck::new(common::pid(8)))]
    );
}

/// An alias above our Topic Alias Maximum ends the connection with DISCONNECT 0x94, even
/// with a topic; with a maximum of 0, every alias does.
///
/// conformance: v5:MQTT-3.3.2-10
#[test]
fn an_alias_above_our_maximum_is_topic_alias_invalid() {
    let mut h = Harness::connected(ClientConfig::default(), V5);
    let maximum = ClientConfig::default().topic_alias_maximum;
    h.receive(aliased(Some("t"), maximum + 1, b"x"));
    assert_alias_invalid(&mut h, maximum + 1);

    let config = ClientConfig {
        topic_alias_maximum: 0,
        ..ClientConfig::default()
    };
    let mut h = Harness::new(config);
    let connect = h.connect(ConnectOptions::new(V5, "client").unwrap());
    assert!(matches!(connect, Packet::Connect(c) if c.properties.topic_alias_maximum.is_none()));
    h.receive(ConnAck::new(false, ConnectReasonCode::Success));
    h.events();
    h.receive(aliased(Some("t"), 1, b"x"));
    assert_alias_invalid(&mut h, 1);
}

/// An alias used before it was set ends the connection with DISCONNECT 0x94, and nothing
/// is delivered.
#[test]
fn an_unknown_alias_is_topic_alias_invalid() {
    let mut h = Harness::connected(ClientConfig::default(), V5);
    h.receive(aliased(Some("t"), 1, b"set"));
    h.events();
    h.receive(aliased(None, 2, b"unknown"));
    assert_alias_invalid(&mut h, 2);
}

/// The server's aliases belong to one connection: after a reconnect, even to a resumed
/// session, an alias alone names nothing.
///
/// conformance: v5:MQTT-3.3.2-7
#[test]
fn incoming_aliases_do_not_survive_a_reconnect() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(
        keep_session(V5),
        ConnAck::new(false, ConnectReasonCode::Success),
    );
    h.receive(aliased(Some("kept/not"), 1, b"set"));
    h.receive(aliased(None, 1, b"use"));
    assert_eq!(h.events().len(), 2);
    h.drop_transport();
    h.events();
    h.connect_with(
        keep_session(V5),
        ConnAck::new(true, ConnectReasonCode::Success),
    );
    h.receive(aliased(None, 1, b"stale"));
    assert_alias_invalid(&mut h, 1);
}

/// The server's view of the client's aliases on one connection.
#[derive(Default)]
struct ServerAliases {
    topics: BTreeMap<u16, String>,
}

impl ServerAliases {
    /// Reads one PUBLISH as the server does: the topic it names, and how (`Some(true)` set an
    /// alias, `Some(false)` used one, `None` plain name). Panics on an alias the server never
    /// saw set, or above `maximum`.
    fn read(&mut self, packet: &Packet, maximum: u16) -> (String, Option<bool>) {
        let Packet::Publish(publish) = packet else {
            panic!("not a PUBLISH: {packet:?}")
        };
        let alias = publish.properties.topic_alias.map(NonZeroU16::get);
        match (&publish.topic, alias) {
            (Some(topic), None) => (topic.as_str().to_owned(), None),
            (Some(topic), Some(alias)) => {
                assert!(alias <= maximum, "alias {alias} above {maximum}");
                self.topics.insert(alias, topic.as_str().to_owned());
                (topic.as_str().to_owned(), Some(true))
            }
            (None, Some(alias)) => {
                assert!(alias <= maximum, "alias {alias} above {maximum}");
                let topic = self
                    .topics
                    .get(&alias)
                    .unwrap_or_else(|| panic!("alias {alias} never set on this connection"));
                (topic.clone(), Some(false))
            }
            (None, None) => panic!("PUBLISH without a topic: {publish:?}"),
        }
    }
}

/// Connects in 5.0 with `outgoing` aliases of our own to a server whose CONNACK states
/// `server_maximum` (absent when `None`).
fn with_aliases(outgoing: u16, server_maximum: Option<u16>) -> Harness {
    let config = ClientConfig {
        outgoing_topic_aliases: outgoing,
        ..ClientConfig::default()
    };
    let mut h = Harness::new(config);
    let mut connack = ConnAck::new(false, ConnectReasonCode::Success);
    connack.properties.topic_alias_maximum = server_maximum;
    h.connect_with(ConnectOptions::new(V5, "client").unwrap(), connack);
    h
}

/// The first PUBLISH on a topic carries the topic and a new alias, later ones the alias
/// alone with an empty topic; once every alias is taken, other topics go by name.
///
/// conformance: v5:MQTT-3.3.2-9, v5:MQTT-3.2.2-17
#[test]
fn outgoing_aliases_are_set_then_used() {
    let mut h = with_aliases(2, Some(5));
    let mut server = ServerAliases::default();
    let script = [
        ("topic/a", Some(true)),
        ("topic/a", Some(false)),
        ("topic/b", Some(true)),
        ("topic/c", None),
        ("topic/b", Some(false)),
        ("topic/a", Some(false)),
        ("topic/c", None),
    ];
    for (topic, how) in script {
        h.publish(message(topic, b"x", QoS::AtMostOnce));
        let sent = h.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            server.read(&sent[0], 2),
            (topic.to_owned(), how),
            "{sent:?}"
        );
    }
    // QoS 1 and 2 messages use them too.
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        h.publish(message("topic/a", b"y", qos));
        let sent = h.sent();
        assert_eq!(
            server.read(&sent[0], 2),
            ("topic/a".to_owned(), Some(false))
        );
    }
}

/// Never an alias above the server's Topic Alias Maximum, however many the client would
/// use.
///
/// conformance: v5:MQTT-3.2.2-17, v5:MQTT-3.3.2-9
#[test]
fn outgoing_aliases_stay_within_the_servers_maximum() {
    let mut h = with_aliases(10, Some(1));
    let mut server = ServerAliases::default();
    let mut set = 0;
    for topic in [
        "topic/a", "topic/b", "topic/c", "topic/a", "topic/b", "topic/c", "topic/d", "topic/a",
    ] {
        h.publish(message(topic, b"x", QoS::AtMostOnce));
        let sent = h.sent();
        let (named, how) = server.read(&sent[0], 1);
        assert_eq!(named, topic);
        set += usize::from(how == Some(true));
    }
    assert_eq!(set, 1, "one alias, set once");
}

/// A server that states no Topic Alias Maximum, or 0, gets no aliases at all.
///
/// conformance: v5:MQTT-3.2.2-18
#[test]
fn no_outgoing_aliases_when_the_server_allows_none() {
    for server_maximum in [None, Some(0)] {
        let mut h = with_aliases(8, server_maximum);
        for topic in ["a", "a", "b", "a"] {
            h.publish(message(topic, b"x", QoS::AtMostOnce));
            h.publish(message(topic, b"x", QoS::AtLeastOnce));
        }
        for packet in h.sent() {
            let Packet::Publish(publish) = &packet else {
                panic!("{packet:?}")
            };
            assert!(publish.topic.is_some(), "{server_maximum:?}: {publish:?}");
            assert_eq!(publish.properties.topic_alias, None, "{server_maximum:?}");
        }
    }
}

/// Our aliases belong to one connection: on a resumed session, the re-sent PUBLISH packets
/// name their topic again (an alias is only used after it was set on the new connection),
/// whatever aliases the old connection had.
///
/// conformance: v5:MQTT-3.3.2-7, v5:MQTT-3.3.2-9
#[test]
fn a_resent_publish_does_not_use_an_alias_of_the_old_connection() {
    let config = ClientConfig {
        outgoing_topic_aliases: 4,
        ..ClientConfig::default()
    };
    let mut h = Harness::new(config);
    let mut connack = ConnAck::new(false, ConnectReasonCode::Success);
    connack.properties.topic_alias_maximum = Some(4);
    h.connect_with(keep_session(V5), connack.clone());
    let mut old = ServerAliases::default();
    for topic in ["topic/x", "topic/y", "topic/x", "topic/y"] {
        h.publish(message(topic, b"m", QoS::AtLeastOnce));
    }
    let first: Vec<_> = h.sent().iter().map(|p| old.read(p, 4)).collect();
    assert_eq!(first[2].1, Some(false), "the old connection used aliases");

    h.drop_transport();
    h.events();
    connack.session_present = true;
    h.connect_with(keep_session(V5), connack);
    let mut new = ServerAliases::default();
    let resent = h.sent();
    assert_eq!(resent.len(), 4);
    for (packet, topic) in resent
        .iter()
        .zip(["topic/x", "topic/y", "topic/x", "topic/y"])
    {
        assert!(matches!(packet, Packet::Publish(p) if p.is_dup()));
        assert_eq!(new.read(packet, 4).0, topic, "{resent:?}");
    }
}
