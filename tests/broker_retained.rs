//! Retained messages on the broker: stored per topic (the latest one), sent with RETAIN set
//! to new subscriptions per Retain Handling, cleared by an empty payload, untouched by
//! non-retained messages, kept beyond sessions, and expired while stored.
#![cfg(feature = "v5")]

mod common;

use common::broker::{
    Harness, deliveries, got, only_publish, options, publish, retained, topic_filter,
};
use mqtt_sansio::{
    BrokerConfig, Packet, ProtocolVersion, QoS, RetainHandling, SubAck, Subscribe, Subscription,
    SubscriptionOptions,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// A retained PUBLISH is stored with its QoS: a later subscription gets it right after the
/// SUBACK, with RETAIN 1, at the lower of its QoS and the one granted.
/// conformance: v311:MQTT-3.3.1-5, v311:MQTT-3.3.1-6, v311:MQTT-3.3.1-8, v5:MQTT-3.3.1-5,
/// v5:MQTT-3.3.1-9, v311:MQTT-3.8.4-6, v5:MQTT-3.8.4-8
#[test]
fn retained_message_goes_to_later_subscriptions_with_retain_set() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let publisher = h.connect(V311, "pub");
        h.send(
            publisher,
            retained(publish("r/1", b"one", QoS::AtLeastOnce, 1)),
        );
        h.send(
            publisher,
            retained(publish("r/2", b"two", QoS::AtMostOnce, 0)),
        );
        assert_eq!(h.broker.stats().retained, 2);
        let sub = h.connect(version, "sub");
        let mut got_ = deliveries(&h.subscribe(sub, "r/+", QoS::ExactlyOnce));
        got_.sort_by(|a, b| a.topic.cmp(&b.topic));
        assert_eq!(
            got_,
            [
                got("r/1", b"one", QoS::AtLeastOnce).retained(),
                got("r/2", b"two", QoS::AtMostOnce).retained(),
            ],
            "{version}"
        );
        let low = h.connect(version, "low");
        assert_eq!(
            deliveries(&h.subscribe(low, "r/1", QoS::AtMostOnce)),
            [got("r/1", b"one", QoS::AtMostOnce).retained()],
            "{version}"
        );
    }
}

/// A new retained message replaces the topic's old one, whatever its QoS; one per topic is
/// kept.
/// conformance: v311:MQTT-3.3.1-7, v5:MQTT-3.3.1-5
#[test]
fn new_retained_message_replaces_the_old() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let publisher = h.connect(version, "pub");
        h.send(
            publisher,
            retained(publish("r", b"old", QoS::ExactlyOnce, 1)),
        );
        h.send(
            publisher,
            retained(publish("r", b"new", QoS::AtMostOnce, 0)),
        );
        let stats = h.broker.stats();
        assert_eq!((stats.retained, stats.stored_messages), (1, 1), "{version}");
        let sub = h.connect(version, "sub");
        assert_eq!(
            deliveries(&h.subscribe(sub, "r", QoS::ExactlyOnce)),
            [got("r", b"new", QoS::AtMostOnce).retained()],
            "{version}"
        );
    }
}

/// A retained PUBLISH with an empty payload is forwarded as usual to current subscribers and
/// clears the topic's retained message: later subscribers get nothing, and nothing empty is
/// stored (not even on a topic that had nothing retained).
/// conformance: v311:MQTT-3.3.1-10, v311:MQTT-3.3.1-11, v5:MQTT-3.3.1-6, v5:MQTT-3.3.1-7
#[test]
fn empty_retained_message_clears_and_is_forwarded() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let publisher = h.connect(version, "pub");
        h.send(
            publisher,
            retained(publish("r", b"kept", QoS::AtLeastOnce, 1)),
        );
        let current = h.connect(version, "current");
        h.subscribe(current, "#", QoS::AtLeastOnce);
        h.send(publisher, retained(publish("r", b"", QoS::AtLeastOnce, 2)));
        h.send(
            publisher,
            retained(publish("never", b"", QoS::AtMostOnce, 0)),
        );
        assert_eq!(
            deliveries(&h.sent(current)),
            [
                got("r", b"", QoS::AtLeastOnce),
                got("never", b"", QoS::AtMostOnce)
            ],
            "{version}"
        );
        // Held only as `current`'s two unacknowledged QoS 1 deliveries.
        let stats = h.broker.stats();
        assert_eq!((stats.retained, stats.stored_messages), (0, 2), "{version}");
        let later = h.connect(version, "later");
        assert_eq!(h.subscribe(later, "#", QoS::AtLeastOnce), [], "{version}");
    }
}

/// A PUBLISH with RETAIN 0 is not stored and leaves the topic's retained message as it was.
/// conformance: v311:MQTT-3.3.1-12, v5:MQTT-3.3.1-8
#[test]
fn non_retained_message_leaves_the_retained_one() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let publisher = h.connect(version, "pub");
        h.send(
            publisher,
            retained(publish("r", b"kept", QoS::AtMostOnce, 0)),
        );
        h.send(publisher, publish("r", b"passing", QoS::AtMostOnce, 0));
        h.send(publisher, publish("s", b"passing", QoS::AtMostOnce, 0));
        assert_eq!(h.broker.stats().retained, 1, "{version}");
        let sub = h.connect(version, "sub");
        assert_eq!(
            deliveries(&h.subscribe(sub, "#", QoS::AtMostOnce)),
            [got("r", b"kept", QoS::AtMostOnce).retained()],
            "{version}"
        );
    }
}

/// Subscribing again to the same filter sends the retained messages again (Retain Handling 0,
/// the only behaviour before 5.0).
/// conformance: v311:MQTT-3.8.4-3, v5:MQTT-3.8.4-4, v5:MQTT-3.3.1-9
#[test]
fn resubscribing_sends_the_retained_messages_again() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let publisher = h.connect(version, "pub");
        h.send(
            publisher,
            retained(publish("r", b"kept", QoS::AtMostOnce, 0)),
        );
        let sub = h.connect(version, "sub");
        for _ in 0..2 {
            assert_eq!(
                deliveries(&h.subscribe(sub, "r", QoS::AtMostOnce)),
                [got("r", b"kept", QoS::AtMostOnce).retained()],
                "{version}"
            );
        }
    }
}

/// 5.0 Retain Handling: 0 sends the retained messages at every SUBSCRIBE, 1 only when the
/// subscription is new, 2 never.
/// conformance: v5:MQTT-3.3.1-9, v5:MQTT-3.3.1-10, v5:MQTT-3.3.1-11, v5:MQTT-3.8.4-4
#[test]
fn v5_retain_handling_0_1_2() {
    let mut h = Harness::new(BrokerConfig::default());
    let publisher = h.connect(V5, "pub");
    h.send(
        publisher,
        retained(publish("r", b"kept", QoS::AtMostOnce, 0)),
    );
    let kept = [got("r", b"kept", QoS::AtMostOnce).retained()];
    for (handling, first, again) in [
        (RetainHandling::SendAtSubscribe, &kept[..], &kept[..]),
        (RetainHandling::SendAtSubscribeIfNew, &kept[..], &[][..]),
        (RetainHandling::DoNotSend, &[][..], &[][..]),
    ] {
        let sub = h.connect(V5, &format!("{handling:?}"));
        let subscription = options(QoS::AtMostOnce, false, false, handling);
        assert_eq!(
            deliveries(&h.subscribe_with(sub, "r", subscription, None)),
            first,
            "{handling:?}"
        );
        assert_eq!(
            deliveries(&h.subscribe_with(sub, "r", subscription, None)),
            again,
            "{handling:?} again"
        );
    }
}

/// Retained messages match wildcards by the usual rules, `$` topics only for filters naming
/// their first level.
/// conformance: v311:MQTT-4.7.2-1, v5:MQTT-4.7.2-1, v311:MQTT-3.3.1-6
#[test]
fn retained_messages_match_filters_by_the_usual_rules() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let publisher = h.connect(V5, "pub");
        for topic in ["$SYS/x", "a/b", "a/b/c", "b"] {
            h.send(
                publisher,
                retained(publish(topic, b"r", QoS::AtMostOnce, 0)),
            );
        }
        for (filter, expected) in [
            ("#", &["a/b", "a/b/c", "b"][..]),
            ("+/b", &["a/b"][..]),
            ("a/#", &["a/b", "a/b/c"][..]),
            ("$SYS/#", &["$SYS/x"][..]),
            ("+/x", &[][..]),
        ] {
            let sub = h.connect(version, &format!("sub{filter}"));
            let mut topics: Vec<String> = deliveries(&h.subscribe(sub, filter, QoS::AtMostOnce))
                .into_iter()
                .map(|got| got.topic)
                .collect();
            topics.sort();
            assert_eq!(topics, expected, "{version} {filter}");
        }
    }
}

/// Retained messages are not session state: they survive the end of the session that
/// published them.
/// conformance: v311:MQTT-3.1.2-7
#[test]
fn retained_messages_outlive_the_publishers_session() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let publisher = h.connect(version, "pub");
        h.send(
            publisher,
            retained(publish("r", b"kept", QoS::AtLeastOnce, 1)),
        );
        h.drop_socket(publisher);
        assert_eq!(h.broker.stats().sessions, 0);
        let sub = h.connect(version, "sub");
        assert_eq!(
            h.subscribe(sub, "r", QoS::AtLeastOnce).len(),
            1,
            "{version}"
        );
    }
}

/// A 5.0 retained message expires while stored: a subscriber before the end gets it with the
/// Message Expiry Interval that remains, none after; the broker drops it when the timer
/// fires.
/// conformance: v5:MQTT-3.3.2-5, v5:MQTT-3.3.2-6
#[test]
fn v5_retained_message_expires_while_stored() {
    let mut h = Harness::new(BrokerConfig::default());
    let publisher = h.connect(V5, "pub");
    let mut message = retained(publish("r", b"brief", QoS::AtMostOnce, 0));
    message.properties.message_expiry_interval = Some(10);
    h.send(publisher, message);
    h.advance(4_000);
    let early = h.connect(V5, "early");
    let delivery = only_publish(h.subscribe(early, "r", QoS::AtMostOnce));
    assert_eq!(delivery.properties.message_expiry_interval, Some(6));
    assert!(delivery.retain);
    h.advance(6_000);
    let late = h.connect(V5, "late");
    assert_eq!(h.subscribe(late, "r", QoS::AtMostOnce), []);
    let stats = h.broker.stats();
    assert_eq!((stats.retained, stats.stored_messages), (0, 0));
}

/// A retained message sent to a new 5.0 subscription carries that subscription's
/// Subscription Identifier.
/// conformance: v5:MQTT-3.3.4-3
#[test]
fn v5_retained_delivery_carries_the_subscription_identifier() {
    let mut h = Harness::new(BrokerConfig::default());
    let publisher = h.connect(V5, "pub");
    h.send(
        publisher,
        retained(publish("r", b"kept", QoS::AtMostOnce, 0)),
    );
    let sub = h.connect(V5, "sub");
    let delivery = only_publish(h.subscribe_with(
        sub,
        "r",
        SubscriptionOptions::new(QoS::AtMostOnce),
        Some(42),
    ));
    let ids: Vec<u32> = delivery
        .properties
        .subscription_identifiers
        .iter()
        .map(|id| id.get())
        .collect();
    assert_eq!(ids, [42]);
}

/// A shared subscription gets no retained messages when it is made: 5.0 (section 3.3.1.3) sends
/// them only for a new non-shared subscription (mosquitto 2.0.11 sends them to every member).
#[test]
fn v5_shared_subscription_gets_no_retained_messages() {
    let mut h = Harness::new(BrokerConfig::default());
    let publisher = h.connect(V5, "pub");
    h.send(
        publisher,
        retained(publish("r", b"kept", QoS::AtMostOnce, 0)),
    );
    let sub = h.connect(V5, "sub");
    assert_eq!(h.subscribe(sub, "$share/g/r", QoS::AtMostOnce), []);
}

/// With Retain Available off, a SUBSCRIBE still works and gets nothing retained (nothing
/// could be stored).
#[test]
fn without_retain_available_nothing_is_stored_for_subscribers() {
    let mut h = Harness::new(BrokerConfig {
        retain_available: false,
        ..BrokerConfig::default()
    });
    let sub = h.connect(V311, "sub");
    let id = h.next_id(sub);
    h.send(
        sub,
        Subscribe::new(id, [Subscription::new(topic_filter("r"), QoS::AtMostOnce)]),
    );
    assert_eq!(
        h.sent(sub),
        [Packet::SubAck(SubAck::new(
            id,
            [mqtt_sansio::SubAckReasonCode::GrantedQoS0]
        ))]
    );
    assert_eq!(h.broker.stats().retained, 0);
}
