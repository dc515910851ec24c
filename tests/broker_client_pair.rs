//! The crate's client and broker talking to each other, for every pair of protocol versions:
//! messages at each QoS, retained messages, wills, and a persistent session that receives
//! what was published while it was away.

mod common;

use bytes::Bytes;
use common::pair::Network;
use mqtt_sansio::{
    BrokerConfig, ClientConfig, ConnectOptions, Disconnect, Event, ProtocolVersion, Publish, QoS,
    SubscribeProperties, Subscription, TopicFilter, TopicName,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const QOS: [QoS; 3] = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];

/// Subscribes `peer` to `filter`; returns the events after the SUBACK (retained messages).
fn subscribe(net: &mut Network, peer: usize, filter: &str, qos: QoS) -> Vec<Event> {
    let subscription = Subscription::new(
        TopicFilter::new(bytestring::ByteString::from(filter)).unwrap(),
        qos,
    );
    net.peers[peer]
        .client
        .subscribe(net.now, [subscription], SubscribeProperties::new())
        .unwrap();
    net.pump();
    let mut events = net.take_events(peer);
    assert!(
        matches!(events.first(), Some(Event::Subscribed(_))),
        "{events:?}"
    );
    events.remove(0);
    events
}

fn publish(
    net: &mut Network,
    peer: usize,
    topic: &str,
    payload: &'static [u8],
    qos: QoS,
    retain: bool,
) {
    let message = Publish::new(
        TopicName::new(bytestring::ByteString::from(topic)).unwrap(),
        Bytes::from_static(payload),
    )
    .with_qos(qos)
    .with_retain(retain);
    net.peers[peer].client.publish(net.now, message).unwrap();
    net.pump();
}

fn messages(events: &[Event]) -> Vec<(String, Vec<u8>, QoS, bool)> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Message(publish) => Some((
                publish.topic.as_ref().unwrap().as_str().to_owned(),
                publish.payload.to_vec(),
                publish.qos(),
                publish.retain,
            )),
            _ => None,
        })
        .collect()
}

/// A message at each QoS reaches a subscriber at the lower of its QoS and the granted one,
/// whatever versions publisher and subscriber speak; the publisher's QoS 1 and 2 flows
/// complete.
/// conformance: v311:MQTT-7.0.0-2
#[test]
fn messages_cross_every_version_pair_at_every_qos() {
    for &sub_version in VERSIONS {
        for &pub_version in VERSIONS {
            let mut net = Network::new(BrokerConfig::default());
            let sub = net.add(ClientConfig::default());
            let publisher = net.add(ClientConfig::default());
            net.connected(sub, sub_version, "sub");
            net.connected(publisher, pub_version, "pub");
            assert_eq!(subscribe(&mut net, sub, "a/+", QoS::AtLeastOnce), []);
            for qos in QOS {
                publish(&mut net, publisher, "a/b", b"hello", qos, false);
            }
            let got = messages(&net.take_events(sub));
            let expected: Vec<_> = QOS
                .iter()
                .map(|&qos| {
                    (
                        "a/b".to_owned(),
                        b"hello".to_vec(),
                        qos.min(QoS::AtLeastOnce),
                        false,
                    )
                })
                .collect();
            assert_eq!(got, expected, "{pub_version} -> {sub_version}");
            let published = net
                .take_events(publisher)
                .into_iter()
                .filter(|event| matches!(event, Event::Published { result: Ok(()), .. }))
                .count();
            assert_eq!(published, 2, "{pub_version} -> {sub_version}");
        }
    }
}

/// A retained message reaches a later subscriber with RETAIN set; an empty retained message
/// clears it.
#[test]
fn retained_message_reaches_a_later_subscriber() {
    for &version in VERSIONS {
        let mut net = Network::new(BrokerConfig::default());
        let publisher = net.add(ClientConfig::default());
        let late = net.add(ClientConfig::default());
        net.connected(publisher, version, "pub");
        publish(&mut net, publisher, "r/1", b"kept", QoS::AtLeastOnce, true);
        net.connected(late, version, "late");
        let retained = subscribe(&mut net, late, "r/#", QoS::ExactlyOnce);
        assert_eq!(
            messages(&retained),
            [("r/1".to_owned(), b"kept".to_vec(), QoS::AtLeastOnce, true)],
            "{version}"
        );
        publish(&mut net, publisher, "r/1", b"", QoS::AtMostOnce, true);
        let later = net.add(ClientConfig::default());
        net.connected(later, version, "later");
        assert_eq!(
            messages(&subscribe(&mut net, later, "r/#", QoS::AtMostOnce)),
            [],
            "{version}"
        );
        assert_eq!(net.broker.stats().retained, 0);
    }
}

/// A will goes out when its client's transport is cut, not when it disconnects cleanly.
#[test]
fn will_is_published_on_a_cut_not_on_disconnect() {
    for &version in VERSIONS {
        let mut net = Network::new(BrokerConfig::default());
        let watcher = net.add(ClientConfig::default());
        let dying = net.add(ClientConfig::default());
        let polite = net.add(ClientConfig::default());
        net.connected(watcher, version, "watcher");
        assert_eq!(
            subscribe(&mut net, watcher, "wills/#", QoS::AtLeastOnce),
            []
        );
        for (peer, id) in [(dying, "dying"), (polite, "polite")] {
            let options = ConnectOptions::new(version, id)
                .unwrap()
                .will_message(&format!("wills/{id}"), b"gone", QoS::AtLeastOnce, false)
                .unwrap();
            let events = net.connect(peer, options);
            assert!(matches!(events.first(), Some(Event::Connected(_))));
        }
        net.peers[polite]
            .client
            .disconnect(net.now, Disconnect::default())
            .unwrap();
        net.pump();
        net.cut(dying);
        assert_eq!(
            messages(&net.take_events(watcher)),
            [(
                "wills/dying".to_owned(),
                b"gone".to_vec(),
                QoS::AtLeastOnce,
                false
            )],
            "{version}"
        );
    }
}

/// A persistent session receives the QoS 1 and 2 messages published while it was away, once
/// each, when it comes back; its subscription survived.
#[test]
fn persistent_session_gets_what_was_published_while_away() {
    for &version in VERSIONS {
        let mut net = Network::new(BrokerConfig::default());
        let sub = net.add(ClientConfig::default());
        let publisher = net.add(ClientConfig::default());
        let mut options = ConnectOptions::new(version, "durable")
            .unwrap()
            .clean_start(false);
        if version.is_v5() {
            options = options.session_expiry_interval(600);
        }
        let events = net.connect(sub, options.clone());
        assert!(matches!(events.first(), Some(Event::Connected(_))));
        assert_eq!(subscribe(&mut net, sub, "q/#", QoS::ExactlyOnce), []);
        net.peers[sub]
            .client
            .disconnect(net.now, Disconnect::default())
            .unwrap();
        net.pump();
        net.take_events(sub);
        net.connected(publisher, version, "pub");
        publish(&mut net, publisher, "q/1", b"one", QoS::AtLeastOnce, false);
        publish(&mut net, publisher, "q/2", b"two", QoS::ExactlyOnce, false);
        publish(&mut net, publisher, "q/0", b"zero", QoS::AtMostOnce, false);
        let events = net.connect(sub, options);
        let Some(Event::Connected(connected)) = events.first() else {
            panic!("{events:?}")
        };
        // (3.1 has no Session Present flag; the client infers it from its own request.)
        assert!(connected.session_present, "{version}");
        assert_eq!(
            messages(&events),
            [
                ("q/1".to_owned(), b"one".to_vec(), QoS::AtLeastOnce, false),
                ("q/2".to_owned(), b"two".to_vec(), QoS::ExactlyOnce, false),
            ],
            "{version}"
        );
    }
}
