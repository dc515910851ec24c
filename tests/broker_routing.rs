//! Routing on the broker: which subscriptions a PUBLISH matches (`+`, `#`, `$` topics, exact
//! comparison), overlapping subscriptions, No Local, Retain As Published, QoS downgrade, shared
//! subscriptions, SUBSCRIBE and UNSUBSCRIBE answers, forwarding across versions with the 5.0
//! message properties, Message Expiry and inbound Topic Aliases, and the driver's policy.
//!
//! 5.0 MQTT-3.3.4-5 (one copy per subscription) does not apply: for overlapping
//! subscriptions the broker sends one copy (v5:MQTT-3.3.4-4, tested). Outbound Topic Aliases
//! are tested in `broker_topic_alias.rs`. A QoS 2 delivery to a shared subscription member stays with it (v5:MQTT-4.8.2-4,
//! v5:MQTT-4.8.2-5); what a member that goes hands to the other members is tested in
//! `broker_shared.rs`.
#![cfg(feature = "v5")]

mod common;

use std::num::NonZeroU16;

use common::broker::{
    Conn, Harness, deliveries, got, granted, keep_session, only_disconnect, only_publish, options,
    pid, publish, retained, topic_filter,
};
use common::hex;
use mqtt_sansio::broker::Policy;
use mqtt_sansio::{
    BrokerConfig, DisconnectReasonCode, MessageProperties, Packet, PayloadFormat, ProtocolVersion,
    PubAck, PubRel, QoS, RetainHandling, SubAck, SubAckReasonCode, Subscribe, Subscription,
    SubscriptionOptions, Unsubscribe,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
const V31: ProtocolVersion = ProtocolVersion::V3_1;

/// The topics of the deliveries among `packets`.
#[track_caller]
fn topics(packets: &[Packet]) -> Vec<String> {
    deliveries(packets)
        .into_iter()
        .map(|got| got.topic)
        .collect()
}

/// The Subscription Identifiers of a PUBLISH, sorted.
fn sub_ids(publish: &mqtt_sansio::Publish) -> Vec<u32> {
    let mut ids: Vec<u32> = publish
        .properties
        .subscription_identifiers
        .iter()
        .map(|id| id.get())
        .collect();
    ids.sort_unstable();
    ids
}

/// Each filter's subscriber gets exactly the topics the section 4.7 rules match, delivered
/// under the topic as published, in every version.
/// conformance: v311:MQTT-3.3.2-3, v5:MQTT-3.3.2-3, v311:MQTT-4.5.0-1, v5:MQTT-4.5.0-1
#[test]
fn wildcards_match_by_the_rules() {
    let published = [
        "a/b/c", "a//c", "a/b/c/d", "a/c", "a", "a/b", "ab", "/a", "A/b",
    ];
    let cases: [(&str, &[&str]); 7] = [
        ("a/+/c", &["a/b/c", "a//c"]),
        ("a/#", &["a/b/c", "a//c", "a/b/c/d", "a/c", "a", "a/b"]),
        ("+", &["a", "ab"]),
        ("+/+", &["a//c", "a/c", "a/b", "/a", "A/b"][1..]),
        ("#", &published),
        ("a/b", &["a/b"]),
        ("+/b", &["a/b", "A/b"]),
    ];
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let subscribers: Vec<Conn> = cases
            .iter()
            .enumerate()
            .map(|(n, (filter, _))| {
                let conn = h.connect(version, &format!("s{n}"));
                h.subscribe(conn, filter, QoS::AtMostOnce);
                conn
            })
            .collect();
        let publisher = h.connect(V311, "pub");
        for topic in published {
            h.send(publisher, publish(topic, b"x", QoS::AtMostOnce, 0));
        }
        for ((filter, expected), conn) in cases.iter().zip(subscribers) {
            assert_eq!(topics(&h.sent(conn)), *expected, "{version} {filter}");
        }
    }
}

/// A filter starting with `#` or `+` matches no topic starting with `$`; one naming the `$`
/// level does. A `$SYS/` message from the driver shows it.
/// conformance: v311:MQTT-4.7.2-1, v5:MQTT-4.7.2-1
#[test]
fn dollar_topics_are_not_matched_by_leading_wildcards() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let filters = ["#", "+/clients", "+/+", "$SYS/#", "$SYS/+", "$SYS/clients"];
        let subscribers: Vec<Conn> = filters
            .iter()
            .enumerate()
            .map(|(n, filter)| {
                let conn = h.connect(version, &format!("s{n}"));
                h.subscribe(conn, filter, QoS::AtMostOnce);
                conn
            })
            .collect();
        let message = publish("$SYS/clients", b"3", QoS::AtMostOnce, 0);
        h.broker.publish(h.now, message).unwrap();
        h.advance(0);
        let publisher = h.connect(V5, "pub");
        h.send(publisher, publish("$app/clients", b"1", QoS::AtMostOnce, 0));
        let got: Vec<Vec<String>> = subscribers
            .iter()
            .map(|&conn| topics(&h.sent(conn)))
            .collect();
        let sys = vec!["$SYS/clients".to_owned()];
        assert_eq!(
            got,
            [vec![], vec![], vec![], sys.clone(), sys.clone(), sys],
            "{version}"
        );
    }
}

/// Topics and filters are compared exactly as received: case, a trailing `/`, and a different
/// Unicode form of the same text all make a different topic.
/// conformance: v311:MQTT-4.7.3-4, v5:MQTT-4.7.3-4
#[test]
fn matching_compares_exactly_without_normalisation() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let composed = "caf\u{e9}";
        let decomposed = "cafe\u{301}";
        let sub = h.connect(version, "sub");
        h.subscribe(sub, "a/b", QoS::AtMostOnce);
        h.subscribe(sub, composed, QoS::AtMostOnce);
        let publisher = h.connect(V5, "pub");
        for topic in ["A/b", "a/b/", "a/b", decomposed, composed] {
            h.send(publisher, publish(topic, b"x", QoS::AtMostOnce, 0));
        }
        assert_eq!(topics(&h.sent(sub)), ["a/b", composed], "{version}");
    }
}

/// A 3.x client whose subscriptions overlap gets a matching message once, at the highest QoS
/// its matching subscriptions grant.
/// conformance: v311:MQTT-3.3.5-1
#[test]
fn v3_overlapping_subscriptions_deliver_once_at_the_highest_qos() {
    for version in [V31, V311] {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = h.connect(version, "sub");
        h.subscribe(sub, "a/+", QoS::AtMostOnce);
        h.subscribe(sub, "a/#", QoS::AtLeastOnce);
        h.subscribe(sub, "#", QoS::AtMostOnce);
        let publisher = h.connect(V311, "pub");
        h.send(publisher, publish("a/b", b"x", QoS::ExactlyOnce, 1));
        assert_eq!(
            deliveries(&h.sent(sub)),
            [got("a/b", b"x", QoS::AtLeastOnce)],
            "{version}"
        );
    }
}

/// A 5.0 client whose subscriptions overlap gets one PUBLISH at the highest granted QoS,
/// carrying the Subscription Identifier of every matching subscription that has one.
/// conformance: v5:MQTT-3.3.4-2, v5:MQTT-3.3.4-3, v5:MQTT-3.3.4-4
#[test]
fn v5_overlapping_subscriptions_deliver_once_with_every_subscription_identifier() {
    let mut h = Harness::new(BrokerConfig::default());
    let sub = h.connect(V5, "sub");
    h.subscribe_with(
        sub,
        "a/+",
        SubscriptionOptions::new(QoS::AtMostOnce),
        Some(1),
    );
    h.subscribe_with(
        sub,
        "a/#",
        SubscriptionOptions::new(QoS::ExactlyOnce),
        Some(2),
    );
    h.subscribe_with(sub, "#", SubscriptionOptions::new(QoS::AtLeastOnce), None);
    h.subscribe_with(
        sub,
        "b/#",
        SubscriptionOptions::new(QoS::AtLeastOnce),
        Some(3),
    );
    let publisher = h.connect(V311, "pub");
    h.send(publisher, publish("a/b", b"x", QoS::ExactlyOnce, 1));
    let delivery = only_publish(h.sent(sub));
    assert_eq!(delivery.qos(), QoS::ExactlyOnce);
    assert_eq!(sub_ids(&delivery), [1, 2]);
    h.send(publisher, publish("c", b"x", QoS::AtLeastOnce, 2));
    let delivery = only_publish(h.sent(sub));
    assert_eq!(sub_ids(&delivery), Vec::<u32>::new(), "only `#` matched");
}

/// Resubscribing to the same filter replaces the subscription: its QoS and Subscription
/// Identifier change, and messages still arrive once.
/// conformance: v311:MQTT-3.8.4-3, v5:MQTT-3.8.4-3
#[test]
fn same_filter_replaces_the_subscription() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = h.connect(version, "sub");
        let v5 = version.is_v5();
        let id = |n| v5.then_some(n);
        h.subscribe_with(sub, "t", SubscriptionOptions::new(QoS::ExactlyOnce), id(1));
        h.subscribe_with(sub, "t", SubscriptionOptions::new(QoS::AtMostOnce), id(2));
        assert_eq!(h.broker.stats().subscriptions, 1, "{version}");
        let publisher = h.connect(V311, "pub");
        h.send(publisher, publish("t", b"x", QoS::ExactlyOnce, 1));
        let delivery = only_publish(h.sent(sub));
        assert_eq!(delivery.qos(), QoS::AtMostOnce, "{version}");
        if v5 {
            assert_eq!(sub_ids(&delivery), [2]);
        }
    }
}

/// 5.0 No Local: a client's own messages do not come back to it through that subscription;
/// other clients get them, and it gets theirs.
/// conformance: v5:MQTT-3.8.3-3
#[test]
fn v5_no_local_keeps_a_clients_own_messages_from_it() {
    let mut h = Harness::new(BrokerConfig::default());
    let me = h.connect(V5, "me");
    let other = h.connect(V5, "other");
    let no_local = options(
        QoS::AtLeastOnce,
        true,
        false,
        RetainHandling::SendAtSubscribe,
    );
    h.subscribe_with(me, "chat", no_local, None);
    h.subscribe(other, "chat", QoS::AtLeastOnce);
    h.send(me, publish("chat", b"mine", QoS::AtMostOnce, 0));
    assert_eq!(h.sent(me), []);
    assert_eq!(
        deliveries(&h.sent(other)),
        [got("chat", b"mine", QoS::AtMostOnce)]
    );
    h.send(other, publish("chat", b"theirs", QoS::AtMostOnce, 0));
    assert_eq!(
        deliveries(&h.sent(me)),
        [got("chat", b"theirs", QoS::AtMostOnce)]
    );
    // Another subscription of its own without No Local still delivers.
    h.subscribe(me, "#", QoS::AtMostOnce);
    h.send(me, publish("chat", b"echo", QoS::AtMostOnce, 0));
    assert_eq!(
        deliveries(&h.sent(me)),
        [got("chat", b"echo", QoS::AtMostOnce)]
    );
}

/// A message forwarded to an established subscription has RETAIN 0 whatever the publisher
/// set, unless a 5.0 subscription asked for Retain As Published, which keeps the flag.
/// conformance: v311:MQTT-3.3.1-9, v5:MQTT-3.3.1-12, v5:MQTT-3.3.1-13
#[test]
fn retain_flag_is_cleared_unless_retain_as_published() {
    let mut h = Harness::new(BrokerConfig::default());
    let v31 = h.connect(V31, "v31");
    let v311 = h.connect(V311, "v311");
    let plain = h.connect(V5, "plain");
    let as_published = h.connect(V5, "rap");
    for conn in [v31, v311, plain] {
        h.subscribe(conn, "t", QoS::AtMostOnce);
    }
    let rap = options(
        QoS::AtMostOnce,
        false,
        true,
        RetainHandling::SendAtSubscribe,
    );
    h.subscribe_with(as_published, "t", rap, None);
    let publisher = h.connect(V311, "pub");
    h.send(publisher, retained(publish("t", b"r", QoS::AtMostOnce, 0)));
    h.send(publisher, publish("t", b"n", QoS::AtMostOnce, 0));
    for conn in [v31, v311, plain] {
        assert_eq!(
            deliveries(&h.sent(conn)),
            [
                got("t", b"r", QoS::AtMostOnce),
                got("t", b"n", QoS::AtMostOnce)
            ]
        );
    }
    assert_eq!(
        deliveries(&h.sent(as_published)),
        [
            got("t", b"r", QoS::AtMostOnce).retained(),
            got("t", b"n", QoS::AtMostOnce)
        ]
    );
}

/// A message goes out at the lower of its own QoS and the QoS granted; a broker with Maximum
/// QoS 1 still accepts a SUBSCRIBE asking for QoS 2, granting QoS 1.
/// conformance: v311:MQTT-3.8.4-6, v5:MQTT-3.8.4-8, v311:MQTT-3.8.4-5, v5:MQTT-3.8.4-7,
/// v5:MQTT-3.2.2-10
#[test]
fn qos_is_downgraded_to_the_granted_maximum() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let publisher = h.connect(V311, "pub");
        for granted_qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let sub = h.connect(version, &format!("sub{granted_qos:?}"));
            h.subscribe(sub, "t", granted_qos);
            for (id, qos) in [
                (1, QoS::AtMostOnce),
                (2, QoS::AtLeastOnce),
                (3, QoS::ExactlyOnce),
            ] {
                h.send(publisher, publish("t", b"x", qos, id));
                h.send(publisher, PubRel::new(pid(id)));
                let delivery = only_publish(h.sent(sub));
                assert_eq!(delivery.qos(), qos.min(granted_qos), "{version}");
            }
            h.drop_socket(sub);
        }

        let mut h = Harness::new(BrokerConfig {
            maximum_qos: QoS::AtLeastOnce,
            ..BrokerConfig::default()
        });
        let sub = h.connect(version, "sub");
        let id = h.next_id(sub);
        h.send(
            sub,
            Subscribe::new(id, [Subscription::new(topic_filter("t"), QoS::ExactlyOnce)]),
        );
        assert_eq!(
            h.sent(sub),
            [Packet::SubAck(SubAck::new(
                id,
                [SubAckReasonCode::GrantedQoS1]
            ))],
            "{version}"
        );
    }
}

/// Every SUBSCRIBE gets one SUBACK with its Packet Identifier and one code per filter, in the
/// filters' order, each filter handled as if subscribed alone.
/// conformance: v311:MQTT-3.8.4-1, v311:MQTT-3.8.4-2, v311:MQTT-3.8.4-4, v311:MQTT-3.8.4-5,
/// v311:MQTT-3.9.3-1, v311:MQTT-2.3.1-7, v5:MQTT-3.8.4-1, v5:MQTT-3.8.4-2, v5:MQTT-3.8.4-5,
/// v5:MQTT-3.8.4-6, v5:MQTT-3.8.4-7, v5:MQTT-3.9.3-1, v5:MQTT-2.2.1-6
#[test]
fn suback_answers_each_subscribe_with_its_id_and_codes_in_order() {
    for (version, refused) in [
        (V311, SubAckReasonCode::UnspecifiedError),
        (V5, SubAckReasonCode::TopicFilterInvalid),
    ] {
        let mut h = Harness::new(BrokerConfig {
            max_topic_levels: 3,
            ..BrokerConfig::default()
        });
        let sub = h.connect(version, "sub");
        let subscribe = Subscribe::new(
            pid(0x1234),
            [
                Subscription::new(topic_filter("x/2"), QoS::ExactlyOnce),
                Subscription::new(topic_filter("a/b/c/d"), QoS::AtLeastOnce),
                Subscription::new(topic_filter("x/0"), QoS::AtMostOnce),
                Subscription::new(topic_filter("x/1"), QoS::AtLeastOnce),
            ],
        );
        h.send(sub, subscribe);
        let expected = SubAck::new(
            pid(0x1234),
            [
                granted(QoS::ExactlyOnce),
                refused,
                granted(QoS::AtMostOnce),
                granted(QoS::AtLeastOnce),
            ],
        );
        assert_eq!(h.sent(sub), [Packet::SubAck(expected)], "{version}");
        assert_eq!(h.broker.stats().subscriptions, 3, "{version}");
    }
    // 3.1.1 bytes: identifier, then the codes.
    let mut h = Harness::new(BrokerConfig::default());
    let sub = h.connect(V311, "sub");
    h.send_bytes(sub, &hex("82 0A 0007 0001 61 01 0001 62 02"));
    assert_eq!(h.sent_bytes(sub), hex("90 04 0007 01 02"));
}

/// UNSUBSCRIBE compares filters character by character (no wildcard matching), stops new
/// messages for what it deleted, and is answered with one UNSUBACK carrying its identifier
/// (and, in 5.0, one code per filter in order) even when nothing was deleted.
/// conformance: v311:MQTT-3.10.4-1, v311:MQTT-3.10.4-2, v311:MQTT-3.10.4-4,
/// v311:MQTT-3.10.4-5, v311:MQTT-3.10.4-6, v5:MQTT-3.10.4-1, v5:MQTT-3.10.4-2,
/// v5:MQTT-3.10.4-4, v5:MQTT-3.10.4-5, v5:MQTT-3.10.4-6, v5:MQTT-3.11.3-1, v5:MQTT-2.2.1-6,
/// v311:MQTT-2.3.1-7
#[test]
fn unsubscribe_deletes_exact_filters_and_is_always_answered() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = h.connect(version, "sub");
        h.subscribe(sub, "a/b", QoS::AtMostOnce);
        h.subscribe(sub, "c/+", QoS::AtMostOnce);
        let unsubscribe = Unsubscribe::new(
            pid(0x0102),
            [
                topic_filter("a/+"),
                topic_filter("c/+"),
                topic_filter("none"),
            ],
        );
        h.send(sub, unsubscribe);
        let expected = if version.is_v5() {
            hex("B0 06 0102 00 11 00 11")
        } else {
            hex("B0 02 0102")
        };
        assert_eq!(h.sent_bytes(sub), expected, "{version}");
        let publisher = h.connect(V311, "pub");
        h.send(publisher, publish("a/b", b"x", QoS::AtMostOnce, 0));
        h.send(publisher, publish("c/d", b"x", QoS::AtMostOnce, 0));
        assert_eq!(topics(&h.sent(sub)), ["a/b"], "{version}");
    }
}

/// A QoS 1 delivery already sent when its subscription is deleted is still finished: the
/// PUBACK completes it, and a resumed session gets it again until then.
/// conformance: v311:MQTT-3.10.4-3, v5:MQTT-3.10.4-3
#[test]
fn unsubscribe_finishes_deliveries_already_started() {
    // (3.1 resumes without re-sending: see `v31_resume_resends_unacknowledged_deliveries`.)
    for version in [V311, V5] {
        let mut h = Harness::new(BrokerConfig::default());
        let (sub, _, _) = h.resume(version, "sub", 600);
        h.subscribe(sub, "t", QoS::AtLeastOnce);
        let publisher = h.connect(V311, "pub");
        h.send(publisher, publish("t", b"x", QoS::AtLeastOnce, 1));
        let id = only_publish(h.sent(sub)).packet_id().unwrap();
        h.send(sub, Unsubscribe::new(pid(5), [topic_filter("t")]));
        h.sent(sub);
        h.drop_socket(sub);
        let (sub, _, resent) = h.resume(version, "sub", 600);
        let again = only_publish(resent);
        assert_eq!(
            (again.packet_id(), again.is_dup()),
            (Some(id), true),
            "{version}"
        );
        h.send(sub, PubAck::new(id));
        assert_eq!(h.broker.stats().stored_messages, 0, "{version}");
    }
}

/// One publisher's messages reach a subscriber in the order they were published, whatever
/// their QoS and topic.
/// conformance: v311:MQTT-4.6.0-5, v311:MQTT-4.6.0-6, v5:MQTT-4.6.0-5, v5:MQTT-4.6.0-6
#[test]
fn one_publishers_messages_keep_their_order() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = h.connect(version, "sub");
        h.subscribe(sub, "#", QoS::ExactlyOnce);
        let publisher = h.connect(V5, "pub");
        let mut expected = Vec::new();
        for n in 0..30u16 {
            let qos = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][usize::from(n % 3)];
            let topic = ["x", "y/z"][usize::from(n % 2)];
            h.send(publisher, publish(topic, &n.to_be_bytes(), qos, n + 1));
            h.send(publisher, PubRel::new(pid(n + 1)));
            expected.push(got(topic, &n.to_be_bytes(), qos));
        }
        let sent = h.sent(sub);
        for packet in &sent {
            if let Packet::Publish(publish) = packet
                && let Some(id) = publish.packet_id()
            {
                // Acknowledge as a client would, keeping the window open.
                if publish.qos() == QoS::AtLeastOnce {
                    h.send(sub, PubAck::new(id));
                }
            }
        }
        assert_eq!(deliveries(&sent), expected, "{version}");
    }
}

/// A shared subscription hands each message to one member of the group, in turn; every
/// group, and every ordinary subscriber, gets each message once.
/// conformance: v5:MQTT-4.5.0-1
#[test]
fn v5_shared_subscription_hands_each_message_to_one_member_in_turn() {
    let mut h = Harness::new(BrokerConfig::default());
    let members: Vec<Conn> = (0..3)
        .map(|n| {
            let conn = h.connect(V5, &format!("g{n}"));
            h.subscribe(conn, "$share/g/jobs/#", QoS::AtMostOnce);
            conn
        })
        .collect();
    let other_group = h.connect(V5, "h0");
    h.subscribe(other_group, "$share/h/jobs/+", QoS::AtMostOnce);
    let plain = h.connect(V5, "plain");
    h.subscribe(plain, "jobs/#", QoS::AtMostOnce);
    let publisher = h.connect(V311, "pub");
    let mut received = vec![Vec::new(); members.len()];
    for n in 0..6u8 {
        h.send(publisher, publish("jobs/x", &[n], QoS::AtMostOnce, 0));
        let takers: Vec<usize> = members
            .iter()
            .enumerate()
            .filter(|&(_, &conn)| !h.sent(conn).is_empty())
            .map(|(index, _)| index)
            .collect();
        assert_eq!(takers.len(), 1, "message {n}: {takers:?}");
        received[takers[0]].push(n);
        if n > 0 {
            let previous = received
                .iter()
                .position(|got| got.contains(&(n - 1)))
                .unwrap();
            assert_ne!(
                previous, takers[0],
                "message {n} went to the same member again"
            );
        }
    }
    assert!(received.iter().all(|got| got.len() == 2), "{received:?}");
    assert_eq!(h.sent(other_group).len(), 6);
    assert_eq!(h.sent(plain).len(), 6);
}

/// A shared subscription delivers at the QoS granted to the member chosen.
/// conformance: v5:MQTT-4.8.2-3
#[test]
fn v5_shared_subscription_respects_each_members_granted_qos() {
    let mut h = Harness::new(BrokerConfig::default());
    let low = h.connect(V5, "low");
    let high = h.connect(V5, "high");
    h.subscribe(low, "$share/g/t", QoS::AtMostOnce);
    h.subscribe(high, "$share/g/t", QoS::ExactlyOnce);
    let publisher = h.connect(V311, "pub");
    for id in 1..=4 {
        h.send(publisher, publish("t", b"x", QoS::ExactlyOnce, id));
        h.send(publisher, PubRel::new(pid(id)));
    }
    let low_qos: Vec<QoS> = deliveries(&h.sent(low)).iter().map(|got| got.qos).collect();
    let high_qos: Vec<QoS> = deliveries(&h.sent(high))
        .iter()
        .map(|got| got.qos)
        .collect();
    assert_eq!(low_qos, [QoS::AtMostOnce; 2]);
    assert_eq!(high_qos, [QoS::ExactlyOnce; 2]);
}

/// A QoS 2 delivery to a shared-subscription member whose connection breaks is completed to
/// that member when it resumes its session, not handed to another; if its session ends
/// first, no other member gets it.
/// conformance: v5:MQTT-4.8.2-4, v5:MQTT-4.8.2-5
#[test]
fn v5_shared_qos2_delivery_stays_with_its_member() {
    for resume in [true, false] {
        let mut h = Harness::new(BrokerConfig::default());
        let (first, _, _) = h.resume(V5, "first", 10);
        h.subscribe(first, "$share/g/t", QoS::ExactlyOnce);
        let second = h.connect(V5, "second");
        h.subscribe(second, "$share/g/t", QoS::ExactlyOnce);
        let publisher = h.connect(V311, "pub");
        h.send(publisher, publish("t", b"x", QoS::ExactlyOnce, 1));
        h.send(publisher, PubRel::new(pid(1)));
        if h.sent(first).is_empty() {
            // The first message went to `second`: the next one is `first`'s turn.
            assert_eq!(h.sent(second).len(), 1);
            h.send(publisher, publish("t", b"x", QoS::ExactlyOnce, 2));
            h.send(publisher, PubRel::new(pid(2)));
            assert_eq!(h.sent(first).len(), 1);
        }
        h.drop_socket(first);
        if resume {
            let (_, _, resent) = h.resume(V5, "first", 10);
            let again = only_publish(resent);
            assert!(again.is_dup());
        } else {
            h.advance(10_000);
            assert_eq!(h.broker.stats().sessions, 2);
        }
        assert_eq!(h.sent(second), [], "resume {resume}");
    }
}

/// A shared-subscription member that refuses a message (PUBACK 0x80 or above) drops it: no
/// other member of the group is offered it.
/// conformance: v5:MQTT-4.8.2-6
#[test]
fn v5_shared_message_refused_by_its_member_is_not_offered_to_another() {
    let mut h = Harness::new(BrokerConfig::default());
    let members: Vec<Conn> = (0..2)
        .map(|n| {
            let conn = h.connect(V5, &format!("m{n}"));
            h.subscribe(conn, "$share/g/t", QoS::AtLeastOnce);
            conn
        })
        .collect();
    let publisher = h.connect(V311, "pub");
    h.send(publisher, publish("t", b"x", QoS::AtLeastOnce, 1));
    let (chosen, other) = if h.sent(members[0]).is_empty() {
        (members[1], members[0])
    } else {
        (members[0], members[1])
    };
    let mut refusal = PubAck::new(pid(1));
    refusal.reason_code = mqtt_sansio::PubAckReasonCode::UnspecifiedError;
    h.send(chosen, refusal);
    h.drop_socket(chosen);
    h.advance(60_000);
    assert_eq!(h.sent(other), []);
    assert_eq!(h.broker.stats().stored_messages, 0);
}

/// One message crosses versions without change but what each version's PUBLISH can carry:
/// a 5.0 PUBLISH with properties reaches 3.1 and 3.1.1 subscribers as plain PUBLISH packets,
/// and a 3.1 PUBLISH reaches a 5.0 subscriber with an empty property block.
/// conformance: v311:MQTT-7.0.0-2
#[test]
fn one_message_crosses_versions_byte_exact() {
    let mut h = Harness::new(BrokerConfig::default());
    let v31 = h.connect(V31, "v31");
    let v311 = h.connect(V311, "v311");
    let v5 = h.connect(V5, "v5");
    for conn in [v31, v311, v5] {
        h.subscribe(conn, "a/b", QoS::AtLeastOnce);
    }
    let publisher = h.connect(V5, "pub5");
    let mut message = publish("a/b", b"hi", QoS::AtLeastOnce, 9);
    message.properties.message_expiry_interval = Some(60);
    message.properties.message = MessageProperties::builder()
        .content_type("c")
        .build()
        .unwrap();
    h.send(publisher, message);
    let plain = hex("32 09 0003 612F62 0001 6869");
    assert_eq!(h.sent_bytes(v31), plain);
    assert_eq!(h.sent_bytes(v311), plain);
    let delivery = only_publish(h.sent(v5));
    assert_eq!(delivery.properties.message_expiry_interval, Some(60));
    assert_eq!(delivery.properties.message.content_type(), Some("c"));

    let old = h.connect(V31, "pub31");
    h.send(old, publish("a/b", b"hi", QoS::AtMostOnce, 0));
    assert_eq!(h.sent_bytes(v5), hex("30 08 0003 612F62 00 6869"));
    assert_eq!(h.sent_bytes(v311), hex("30 07 0003 612F62 6869"));
}

/// The 5.0 message properties reach every 5.0 subscriber unchanged, User Properties in their
/// order (repeated names included).
/// conformance: v5:MQTT-3.3.2-4, v5:MQTT-3.3.2-15, v5:MQTT-3.3.2-16, v5:MQTT-3.3.2-17,
/// v5:MQTT-3.3.2-18, v5:MQTT-3.3.2-20
#[test]
fn v5_message_properties_are_forwarded_unchanged_and_in_order() {
    let mut h = Harness::new(BrokerConfig::default());
    let subscribers: Vec<Conn> = (0..2)
        .map(|n| {
            let conn = h.connect(V5, &format!("s{n}"));
            h.subscribe(conn, "req/#", QoS::AtLeastOnce);
            conn
        })
        .collect();
    let properties = MessageProperties::builder()
        .user_property("k", "2")
        .payload_format(PayloadFormat::Utf8)
        .response_topic("res/1")
        .user_property("a", "1")
        .correlation_data(&[0, 1, 2, 255])
        .content_type("application/json")
        .user_property("k", "0")
        .build()
        .unwrap();
    let publisher = h.connect(V5, "pub");
    let mut message = publish("req/x", b"{}", QoS::AtLeastOnce, 1);
    message.properties.message = properties.clone();
    h.send(publisher, message);
    for conn in subscribers {
        let delivery = only_publish(h.sent(conn));
        assert_eq!(delivery.properties.message, properties);
        let users: Vec<_> = delivery.properties.message.user_properties().collect();
        assert_eq!(users, [("k", "2"), ("a", "1"), ("k", "0")]);
        assert_eq!(
            delivery.properties.message.correlation_data(),
            Some(&[0, 1, 2, 255][..])
        );
    }
}

/// A message that waits in the broker goes out with its Message Expiry Interval reduced by
/// the time it waited, and not at all once that has run out.
/// conformance: v5:MQTT-3.3.2-5, v5:MQTT-3.3.2-6
#[test]
fn v5_message_expiry_is_reduced_by_the_time_waited() {
    let mut h = Harness::new(BrokerConfig::default());
    let (sub, _, _) = h.resume(V5, "sub", 600);
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    h.drop_socket(sub);
    let publisher = h.connect(V5, "pub");
    for (id, expiry) in [(1, 60), (2, 10)] {
        let mut message = publish("t", &[id as u8], QoS::AtLeastOnce, id);
        message.properties.message_expiry_interval = Some(expiry);
        h.send(publisher, message);
    }
    h.advance(20_000);
    let (_, _, after) = h.resume(V5, "sub", 600);
    let delivery = only_publish(after);
    assert_eq!(delivery.payload.as_ref(), [1]);
    assert_eq!(delivery.properties.message_expiry_interval, Some(40));
    assert_eq!(h.broker.stats().dropped_expired, 1);
}

/// A message waiting behind a full Receive Maximum window expires there like one waiting for
/// an absent client.
/// conformance: v5:MQTT-3.3.2-5
#[test]
fn v5_message_expiring_behind_a_full_window_is_dropped() {
    let mut h = Harness::new(BrokerConfig::default());
    let mut connect = keep_session(V5, "sub", 600);
    connect.properties.receive_maximum = NonZeroU16::new(1);
    let (sub, _, _) = h.connect_with(connect);
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let publisher = h.connect(V5, "pub");
    h.send(publisher, publish("t", b"first", QoS::AtLeastOnce, 1));
    let mut short = publish("t", b"short", QoS::AtLeastOnce, 2);
    short.properties.message_expiry_interval = Some(5);
    h.send(publisher, short);
    h.send(publisher, publish("t", b"last", QoS::AtLeastOnce, 3));
    let first = only_publish(h.sent(sub));
    h.advance(5_000);
    h.send(sub, PubAck::new(first.packet_id().unwrap()));
    assert_eq!(
        deliveries(&h.sent(sub)),
        [got("t", b"last", QoS::AtLeastOnce)]
    );
    assert_eq!(h.broker.stats().dropped_expired, 1);
}

/// Inbound Topic Aliases (5.0): an alias set with a topic then stands for it, may be mapped
/// anew, and every alias from 1 to the advertised maximum is accepted; a subscriber that
/// allows no alias gets the topic itself (outbound aliases: `broker_topic_alias.rs`).
/// conformance: v5:MQTT-3.3.2-12
#[test]
fn v5_inbound_topic_aliases_resolve_to_their_topic() {
    let mut h = Harness::new(BrokerConfig::default());
    let sub = h.connect(V5, "sub");
    h.subscribe(sub, "#", QoS::AtMostOnce);
    let publisher = h.connect(V5, "pub");
    let alias = |n| NonZeroU16::new(n);
    for n in 1..=10u16 {
        let mut set = publish(&format!("t/{n}"), b"set", QoS::AtMostOnce, 0);
        set.properties.topic_alias = alias(n);
        h.send(publisher, set);
    }
    let mut used = publish("x", b"used", QoS::AtMostOnce, 0);
    used.topic = None;
    used.properties.topic_alias = alias(10);
    h.send(publisher, used.clone());
    let mut remap = publish("other", b"remap", QoS::AtMostOnce, 0);
    remap.properties.topic_alias = alias(10);
    h.send(publisher, remap);
    h.send(publisher, used);
    let sent = h.sent(sub);
    assert!(
        sent.iter().all(
            |packet| matches!(packet, Packet::Publish(p) if p.properties.topic_alias.is_none())
        ),
        "{sent:?}"
    );
    let got: Vec<String> = topics(&sent);
    assert_eq!(got.len(), 13);
    assert_eq!(got[9..], ["t/10", "t/10", "other", "other"]);
    assert_eq!(h.closed(publisher), None);
}

/// An inbound Topic Alias above the maximum, one never set, or one set on an earlier
/// connection is a Topic Alias invalid (0x94) DISCONNECT.
/// conformance: v5:MQTT-3.3.2-7
#[test]
fn v5_invalid_inbound_topic_alias_is_0x94() {
    for case in ["above", "unset", "earlier connection"] {
        let mut h = Harness::new(BrokerConfig {
            topic_alias_maximum: 4,
            ..BrokerConfig::default()
        });
        let (publisher, _, _) = h.resume(V5, "pub", 600);
        let mut message = publish("t", b"x", QoS::AtMostOnce, 0);
        let publisher = match case {
            "above" => {
                message.properties.topic_alias = NonZeroU16::new(5);
                publisher
            }
            "unset" => {
                message.topic = None;
                message.properties.topic_alias = NonZeroU16::new(1);
                publisher
            }
            _ => {
                let mut set = message.clone();
                set.properties.topic_alias = NonZeroU16::new(1);
                h.send(publisher, set);
                h.drop_socket(publisher);
                let (again, _, _) = h.resume(V5, "pub", 600);
                message.topic = None;
                message.properties.topic_alias = NonZeroU16::new(1);
                again
            }
        };
        h.send(publisher, message);
        assert_eq!(
            only_disconnect(h.sent(publisher)).reason_code,
            DisconnectReasonCode::TopicAliasInvalid,
            "{case}"
        );
        assert!(h.closed(publisher).is_some(), "{case}");
    }
}

/// A policy that lets clients publish and subscribe only under `own/`.
struct OwnOnly;

impl Policy for OwnOnly {
    fn may_publish(&self, _client_id: &str, topic: &str) -> bool {
        topic.starts_with("own/")
    }

    fn may_subscribe(&self, _client_id: &str, filter: &str) -> bool {
        filter.starts_with("own/")
    }
}

/// A PUBLISH the policy refuses is not forwarded: a 3.x client gets the usual positive
/// acknowledgement, a 5.0 client Not authorized (0x87) on its PUBACK or PUBREC, without a
/// Reason String or User Property when it asked for no problem information. A refused filter
/// gets 0x80 in a 3.1.1 SUBACK, 0x87 in 5.0.
/// conformance: v311:MQTT-3.3.5-2, v5:MQTT-3.1.2-29, v5:MQTT-4.3.3-9
#[test]
fn policy_refusals_use_each_versions_codes() {
    let mut h = Harness::with_policy(BrokerConfig::default(), OwnOnly);
    let watcher = h.connect(V5, "watcher");
    h.subscribe(watcher, "own/#", QoS::AtMostOnce);
    let v311 = h.connect(V311, "v311");
    h.send(v311, publish("other", b"x", QoS::AtLeastOnce, 1));
    h.send(v311, publish("other", b"x", QoS::ExactlyOnce, 2));
    assert_eq!(h.sent_bytes(v311), hex("40 02 0001 50 02 0002"));
    let id = h.next_id(v311);
    h.send(
        v311,
        Subscribe::new(
            id,
            [
                Subscription::new(topic_filter("other"), QoS::AtMostOnce),
                Subscription::new(topic_filter("own/x"), QoS::AtMostOnce),
            ],
        ),
    );
    assert_eq!(
        h.sent(v311),
        [Packet::SubAck(SubAck::new(
            id,
            [
                SubAckReasonCode::UnspecifiedError,
                SubAckReasonCode::GrantedQoS0
            ]
        ))]
    );

    let mut connect = common::broker::connect_packet(V5, "v5");
    connect.properties.request_problem_information = Some(false);
    let (v5, _, _) = h.connect_with(connect);
    h.send(v5, publish("other", b"x", QoS::AtLeastOnce, 1));
    h.send(v5, publish("other", b"x", QoS::ExactlyOnce, 2));
    assert_eq!(h.sent_bytes(v5), hex("40 03 0001 87 50 03 0002 87"));
    // The refusing PUBREC ended that flow: the identifier is free for a new message.
    h.send(v5, publish("own/y", b"ok", QoS::ExactlyOnce, 2));
    assert_eq!(h.sent_bytes(v5), hex("50 02 0002"));
    let id = h.next_id(v5);
    h.send(
        v5,
        Subscribe::new(
            id,
            [Subscription::new(topic_filter("other"), QoS::AtMostOnce)],
        ),
    );
    assert_eq!(
        h.sent(v5),
        [Packet::SubAck(SubAck::new(
            id,
            [SubAckReasonCode::NotAuthorized]
        ))]
    );
    assert_eq!(topics(&h.sent(watcher)), ["own/y"]);
}

/// The driver's own messages reach local subscribers, retained only with RETAIN set.
#[test]
fn driver_publish_reaches_subscribers() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = h.connect(version, "sub");
        h.subscribe(sub, "$SYS/#", QoS::AtLeastOnce);
        h.broker
            .publish(h.now, publish("$SYS/uptime", b"1", QoS::AtLeastOnce, 1))
            .unwrap();
        h.broker
            .publish(
                h.now,
                retained(publish("$SYS/version", b"v", QoS::AtMostOnce, 0)),
            )
            .unwrap();
        h.advance(0);
        assert_eq!(
            deliveries(&h.sent(sub)),
            [
                got("$SYS/uptime", b"1", QoS::AtLeastOnce),
                got("$SYS/version", b"v", QoS::AtMostOnce)
            ],
            "{version}"
        );
        assert_eq!(h.broker.stats().retained, 1, "{version}");
    }
}
