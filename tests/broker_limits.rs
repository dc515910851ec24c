//! The broker's limits: Maximum Packet Size both ways, connections, subscriptions per
//! session, Maximum QoS, Retain Available, wildcard / shared subscription / Subscription
//! Identifier availability, topic levels, and the per-session queue bounds in messages and
//! bytes with their counts in `stats()`.
#![cfg(feature = "v5")]

mod common;

use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;
use common::broker::{
    Harness, connect_packet, deliveries, got, granted, keep_session, only_disconnect, pid, publish,
    retained, topic, topic_filter,
};
use common::hex;
use mqtt_sansio::broker::CloseReason;
use mqtt_sansio::{
    BinaryData, BrokerConfig, ConnectReasonCode, DisconnectReasonCode, Packet, PingReq,
    ProtocolVersion, PubAck, PubRec, PubRel, QoS, SubAck, SubAckReasonCode, Subscribe,
    Subscription, Unsubscribe, UsageError, Will,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
const V31: ProtocolVersion = ProtocolVersion::V3_1;

/// A one-filter SUBSCRIBE.
fn subscribe_one(id: u16, filter: &str, qos: QoS) -> Subscribe {
    Subscribe::new(pid(id), [Subscription::new(topic_filter(filter), qos)])
}

/// How the broker ends a connection for a violation with `code`: 5.0 DISCONNECT with it,
/// 3.x a silent close.
#[track_caller]
fn assert_disconnected(
    h: &mut Harness,
    conn: common::broker::Conn,
    version: ProtocolVersion,
    code: DisconnectReasonCode,
) {
    if version.is_v5() {
        assert_eq!(only_disconnect(h.sent(conn)).reason_code, code, "{version}");
    } else {
        assert_eq!(h.sent_bytes(conn), [], "{version}");
    }
    assert_eq!(
        h.closed(conn),
        Some(CloseReason::ProtocolError(code)),
        "{version}"
    );
}

/// A packet larger than the broker's Maximum Packet Size ends the connection: 5.0 DISCONNECT
/// Packet too large (0x95), 3.x a silent close; an oversized CONNECT is closed without a
/// CONNACK.
/// conformance: v5:MQTT-4.13.1-1, v311:MQTT-4.8.0-1
#[test]
fn inbound_packet_above_the_maximum_packet_size_ends_the_connection() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig {
            max_packet_size: 100,
            ..BrokerConfig::default()
        });
        let conn = h.connect(version, "c");
        h.send(conn, publish("t", &[0; 90], QoS::AtMostOnce, 0));
        assert_eq!(h.closed(conn), None, "{version}: within the limit");
        h.send(conn, publish("t", &[0; 100], QoS::AtMostOnce, 0));
        assert_disconnected(&mut h, conn, version, DisconnectReasonCode::PacketTooLarge);

        let big = h.open(version);
        let mut connect = connect_packet(version, "big");
        connect.username = Some(common::broker::text(&"u".repeat(120)));
        h.send(big, connect);
        assert_eq!(h.sent_bytes(big), [], "{version}");
        assert!(h.closed(big).is_some(), "{version}");
    }
}

/// A delivery larger than a 5.0 client's Maximum Packet Size is not sent to it (others get
/// it) and counts as delivered: nothing waits for it, and the next message flows. A PUBLISH
/// of exactly the maximum goes out.
/// conformance: v5:MQTT-3.1.2-24, v5:MQTT-3.1.2-25
#[test]
fn v5_delivery_above_the_clients_maximum_packet_size_is_dropped_for_it() {
    let mut h = Harness::new(BrokerConfig::default());
    let mut connect = connect_packet(V5, "small");
    connect.properties.maximum_packet_size = NonZeroU32::new(30);
    let (small, _, _) = h.connect_with(connect);
    h.subscribe(small, "t", QoS::AtLeastOnce);
    let large = h.connect(V5, "large");
    h.subscribe(large, "t", QoS::AtMostOnce);
    let publisher = h.connect(V311, "pub");
    // QoS 1 to `small`: 2 (fixed header) + 3 (topic) + 2 (identifier) + 1 (properties).
    h.send(publisher, publish("t", &[1; 22], QoS::AtLeastOnce, 1));
    h.send(publisher, publish("t", &[2; 23], QoS::AtLeastOnce, 2));
    h.send(publisher, publish("t", &[3; 5], QoS::AtLeastOnce, 3));
    let sent = h.sent(small);
    let sizes: Vec<usize> = sent
        .iter()
        .map(|packet| packet.encoded_len(V5).unwrap())
        .collect();
    assert_eq!(sizes, [30, 13]);
    let payloads: Vec<u8> = deliveries(&sent).iter().map(|got| got.payload[0]).collect();
    assert_eq!(payloads, [1, 3]);
    assert_eq!(h.sent(large).len(), 3);
    assert_eq!(h.broker.stats().dropped_too_large, 1);
    // Only the two deliveries sent are outstanding.
    for packet in sent {
        if let Packet::Publish(publish) = packet {
            h.send(small, PubAck::new(publish.packet_id().unwrap()));
        }
    }
    assert_eq!(h.broker.stats().stored_messages, 0);
}

/// A delivery that had to wait (behind a full Receive Maximum window, or for an absent
/// client) is checked against the client's Maximum Packet Size when it finally goes out: too
/// large, it is dropped for that client, not sent.
/// conformance: v5:MQTT-3.1.2-24, v5:MQTT-3.1.2-25
#[test]
fn v5_waiting_delivery_above_the_clients_maximum_is_not_sent() {
    for absent in [false, true] {
        let mut h = Harness::new(BrokerConfig::default());
        let mut connect = keep_session(V5, "small", 600);
        connect.properties.maximum_packet_size = NonZeroU32::new(30);
        connect.properties.receive_maximum = NonZeroU16::new(1);
        let (small, _, _) = h.connect_with(connect.clone());
        h.subscribe(small, "t", QoS::AtLeastOnce);
        let publisher = h.connect(V311, "pub");
        h.send(publisher, publish("t", b"first", QoS::AtLeastOnce, 1));
        let first = h.sent(small);
        assert_eq!(first.len(), 1);
        if absent {
            h.drop_socket(small);
        }
        h.send(publisher, publish("t", &[0; 100], QoS::AtLeastOnce, 2));
        h.send(publisher, publish("t", b"last", QoS::AtLeastOnce, 3));
        let conn = if absent {
            let (conn, _, resent) = h.connect_with(connect.clone());
            assert_eq!(resent.len(), 1, "the first, again");
            conn
        } else {
            small
        };
        let Packet::Publish(first) = &first[0] else {
            panic!("{first:?}")
        };
        h.send(conn, PubAck::new(first.packet_id().unwrap()));
        let sent = h.sent(conn);
        for packet in &sent {
            assert!(
                packet.encoded_len(V5).unwrap() <= 30,
                "absent {absent}: {packet:?}"
            );
        }
        assert_eq!(
            deliveries(&sent),
            [got("t", b"last", QoS::AtLeastOnce)],
            "absent {absent}"
        );
    }
}

/// A retained message too large for a 5.0 subscriber is not sent to it either.
/// conformance: v5:MQTT-3.1.2-24, v5:MQTT-3.1.2-25
#[test]
fn v5_retained_message_above_the_clients_maximum_is_not_sent() {
    let mut h = Harness::new(BrokerConfig::default());
    let publisher = h.connect(V311, "pub");
    h.send(
        publisher,
        retained(publish("r", &[0; 100], QoS::AtMostOnce, 0)),
    );
    let mut connect = connect_packet(V5, "small");
    connect.properties.maximum_packet_size = NonZeroU32::new(50);
    let (small, _, _) = h.connect_with(connect);
    assert_eq!(h.subscribe(small, "r", QoS::AtMostOnce), []);
    assert_eq!(h.broker.stats().dropped_too_large, 1);
}

/// Whatever the broker sends a 5.0 client with a small Maximum Packet Size fits: CONNACK,
/// SUBACK, UNSUBACK, the four acknowledgements (refusals included), PINGRESP and the
/// DISCONNECT of a violation carry no Reason String or User Property that could push them
/// over.
/// conformance: v5:MQTT-3.1.2-24, v5:MQTT-3.2.2-19, v5:MQTT-3.2.2-20, v5:MQTT-3.9.2-1,
/// v5:MQTT-3.9.2-2, v5:MQTT-3.11.2-1, v5:MQTT-3.11.2-2, v5:MQTT-3.4.2-2, v5:MQTT-3.4.2-3,
/// v5:MQTT-3.5.2-2, v5:MQTT-3.5.2-3, v5:MQTT-3.6.2-2, v5:MQTT-3.6.2-3, v5:MQTT-3.7.2-2,
/// v5:MQTT-3.7.2-3, v5:MQTT-3.14.2-3, v5:MQTT-3.14.2-4
#[test]
fn v5_packets_to_a_client_with_a_small_maximum_fit_it() {
    let mut h = Harness::new(BrokerConfig {
        max_topic_levels: 2,
        ..BrokerConfig::default()
    });
    let mut connect = connect_packet(V5, "tiny");
    connect.properties.maximum_packet_size = NonZeroU32::new(20);
    let (tiny, connack, _) = h.connect_with(connect);
    let mut sent = vec![Packet::ConnAck(Box::new(connack))];
    h.send(tiny, subscribe_one(1, "t", QoS::ExactlyOnce));
    h.send(tiny, subscribe_one(2, "a/b/c", QoS::AtMostOnce));
    h.send(tiny, Unsubscribe::new(pid(3), [topic_filter("none")]));
    h.send(tiny, publish("a/b/c", b"", QoS::AtLeastOnce, 4));
    h.send(tiny, publish("t", b"", QoS::ExactlyOnce, 5));
    h.send(tiny, PubRel::new(pid(5)));
    h.send(tiny, PubRel::new(pid(6)));
    h.send(tiny, PubRec::new(pid(7)));
    h.send(tiny, PingReq);
    h.send(tiny, connect_packet(V5, "tiny"));
    sent.extend(h.sent(tiny));
    assert_eq!(sent.len(), 12, "{sent:?}");
    for packet in &sent {
        let len = packet.encoded_len(V5).unwrap();
        assert!(len <= 20, "{len} bytes: {packet:?}");
        let clean = match packet {
            Packet::ConnAck(p) => {
                p.properties.reason_string.is_none() && p.properties.user_properties.is_empty()
            }
            Packet::SubAck(p) => p.properties.is_empty(),
            Packet::UnsubAck(p) => p.properties.is_empty(),
            Packet::PubAck(p) => p.properties.is_empty(),
            Packet::PubRec(p) => p.properties.is_empty(),
            Packet::PubRel(p) => p.properties.is_empty(),
            Packet::PubComp(p) => p.properties.is_empty(),
            Packet::Disconnect(p) => p.properties.is_empty(),
            Packet::Publish(_) | Packet::PingResp(_) => true,
            other => panic!("unexpected {other:?}"),
        };
        assert!(clean, "{packet:?}");
    }
}

/// `accept` refuses a connection beyond `max_connections`; a slot freed by a close can be
/// used again.
#[test]
fn accept_refuses_connections_beyond_the_maximum() {
    let mut h = Harness::new(BrokerConfig {
        max_connections: 2,
        ..BrokerConfig::default()
    });
    let first = h.connect(V311, "a");
    h.connect(V5, "b");
    assert_eq!(
        h.broker.accept(h.now),
        Err(UsageError::QueueFull("connection table"))
    );
    h.drop_socket(first);
    h.connect(V31, "c");
    assert_eq!(h.broker.stats().connections, 2);
}

/// A session holds at most `max_subscriptions`: one more filter is refused (5.0 Quota
/// exceeded 0x97, 3.1.1 Failure 0x80), while replacing a filter it holds still works.
#[test]
fn subscriptions_beyond_the_maximum_are_refused() {
    for (version, refused) in [
        (V311, SubAckReasonCode::UnspecifiedError),
        (V5, SubAckReasonCode::QuotaExceeded),
    ] {
        let mut h = Harness::new(BrokerConfig {
            max_subscriptions: 2,
            ..BrokerConfig::default()
        });
        let conn = h.connect(version, "c");
        h.subscribe(conn, "a", QoS::AtMostOnce);
        h.subscribe(conn, "b", QoS::AtMostOnce);
        h.send(conn, subscribe_one(1, "c", QoS::AtMostOnce));
        assert_eq!(
            h.sent(conn),
            [Packet::SubAck(SubAck::new(pid(1), [refused]))],
            "{version}"
        );
        h.subscribe(conn, "a", QoS::AtLeastOnce);
        assert_eq!(h.broker.stats().subscriptions, 2, "{version}");
    }
}

/// A 3.1 SUBSCRIBE the broker refuses is answered somehow (3.1 SUBACK has no failure code,
/// so by a SUBACK or by closing the connection): the client is not left waiting forever.
#[test]
fn v31_refused_subscription_is_not_left_unanswered() {
    let mut h = Harness::new(BrokerConfig {
        wildcard_subscriptions: false,
        ..BrokerConfig::default()
    });
    let conn = h.connect(V31, "c");
    h.send(conn, subscribe_one(1, "a/#", QoS::AtMostOnce));
    let sent = h.sent(conn);
    assert!(
        matches!(&sent[..], [Packet::SubAck(_)]) || h.closed(conn).is_some(),
        "{sent:?}"
    );
}

/// A PUBLISH above the broker's Maximum QoS ends the connection: 5.0 DISCONNECT QoS not
/// supported (0x9B), 3.x a close.
#[test]
fn publish_above_the_maximum_qos_ends_the_connection() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig {
            maximum_qos: QoS::AtLeastOnce,
            ..BrokerConfig::default()
        });
        let conn = h.connect(version, "c");
        h.send(conn, publish("t", b"x", QoS::AtLeastOnce, 1));
        assert_eq!(h.sent_bytes(conn), hex("40 02 0001"), "{version}");
        h.send(conn, publish("t", b"x", QoS::ExactlyOnce, 2));
        assert_disconnected(&mut h, conn, version, DisconnectReasonCode::QoSNotSupported);
    }
}

/// A 5.0 CONNECT whose Will QoS exceeds the broker's Maximum QoS is refused with CONNACK QoS
/// not supported (0x9B) and closed.
/// conformance: v5:MQTT-3.2.2-12
#[test]
fn v5_will_qos_above_the_maximum_is_refused_0x9b() {
    let mut h = Harness::new(BrokerConfig {
        maximum_qos: QoS::AtMostOnce,
        ..BrokerConfig::default()
    });
    let mut connect = connect_packet(V5, "c");
    let mut will = Will::new(
        topic("w"),
        BinaryData::new(Bytes::from_static(b"x")).unwrap(),
    );
    will.qos = QoS::AtLeastOnce;
    connect.will = Some(will);
    let (conn, connack, _) = h.connect_with(connect);
    assert_eq!(connack.reason_code, ConnectReasonCode::QoSNotSupported);
    assert_eq!(h.closed(conn), Some(CloseReason::Refused));
}

/// A 5.0 CONNECT with Will Retain 1 to a broker without retained messages is refused with
/// CONNACK Retain not supported (0x9A) and closed.
/// conformance: v5:MQTT-3.2.2-13
#[test]
fn v5_will_retain_without_retain_available_is_refused_0x9a() {
    let mut h = Harness::new(BrokerConfig {
        retain_available: false,
        ..BrokerConfig::default()
    });
    let mut connect = connect_packet(V5, "c");
    let mut will = Will::new(
        topic("w"),
        BinaryData::new(Bytes::from_static(b"x")).unwrap(),
    );
    will.retain = true;
    connect.will = Some(will);
    let (conn, connack, _) = h.connect_with(connect);
    assert_eq!(connack.reason_code, ConnectReasonCode::RetainNotSupported);
    assert_eq!(h.closed(conn), Some(CloseReason::Refused));
}

/// A retained PUBLISH to a broker without retained messages ends the connection: 5.0
/// DISCONNECT Retain not supported (0x9A), 3.x a close.
#[test]
fn retained_publish_without_retain_available_ends_the_connection() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig {
            retain_available: false,
            ..BrokerConfig::default()
        });
        let conn = h.connect(version, "c");
        h.send(conn, retained(publish("t", b"x", QoS::AtMostOnce, 0)));
        assert_disconnected(
            &mut h,
            conn,
            version,
            DisconnectReasonCode::RetainNotSupported,
        );
        assert_eq!(h.broker.stats().retained, 0);
    }
}

/// Without wildcard subscriptions, a filter with `+` or `#` is refused (5.0 0xA2, 3.1.1
/// Failure 0x80) and a plain one granted, in the same SUBACK.
/// conformance: v311:MQTT-3.8.3-2
#[test]
fn wildcard_filters_are_refused_when_unavailable() {
    for (version, refused) in [
        (V311, SubAckReasonCode::UnspecifiedError),
        (V5, SubAckReasonCode::WildcardSubscriptionsNotSupported),
    ] {
        let mut h = Harness::new(BrokerConfig {
            wildcard_subscriptions: false,
            ..BrokerConfig::default()
        });
        let conn = h.connect(version, "c");
        h.send(
            conn,
            Subscribe::new(
                pid(1),
                [
                    Subscription::new(topic_filter("a/+"), QoS::AtMostOnce),
                    Subscription::new(topic_filter("#"), QoS::AtMostOnce),
                    Subscription::new(topic_filter("a/b"), QoS::AtMostOnce),
                ],
            ),
        );
        assert_eq!(
            h.sent(conn),
            [Packet::SubAck(SubAck::new(
                pid(1),
                [refused, refused, granted(QoS::AtMostOnce)]
            ))],
            "{version}"
        );
    }
}

/// Without shared subscriptions, a 5.0 `$share/` filter is refused with 0x9E.
#[test]
fn v5_shared_filters_are_refused_when_unavailable() {
    let mut h = Harness::new(BrokerConfig {
        shared_subscriptions: false,
        ..BrokerConfig::default()
    });
    let conn = h.connect(V5, "c");
    h.send(conn, subscribe_one(1, "$share/g/t", QoS::AtMostOnce));
    assert_eq!(
        h.sent(conn),
        [Packet::SubAck(SubAck::new(
            pid(1),
            [SubAckReasonCode::SharedSubscriptionsNotSupported]
        ))]
    );
}

/// Without Subscription Identifiers, a 5.0 SUBSCRIBE carrying one ends the connection with
/// DISCONNECT 0xA1.
#[test]
fn v5_subscription_identifier_when_unavailable_is_0xa1() {
    let mut h = Harness::new(BrokerConfig {
        subscription_identifiers: false,
        ..BrokerConfig::default()
    });
    let conn = h.connect(V5, "c");
    let mut subscribe = subscribe_one(1, "t", QoS::AtMostOnce);
    subscribe.properties.subscription_identifier = mqtt_sansio::SubscriptionId::new(1);
    h.send(conn, subscribe);
    assert_disconnected(
        &mut h,
        conn,
        V5,
        DisconnectReasonCode::SubscriptionIdentifiersNotSupported,
    );
}

/// A topic deeper than `max_topic_levels` is not routed: a 5.0 QoS 1 PUBLISH gets PUBACK
/// Topic Name invalid (0x90), a 3.x one the usual PUBACK; a filter that deep is refused.
#[test]
fn topics_deeper_than_the_maximum_are_not_routed() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig {
            max_topic_levels: 3,
            ..BrokerConfig::default()
        });
        let watcher = h.connect(V5, "watcher");
        h.subscribe(watcher, "#", QoS::AtMostOnce);
        let conn = h.connect(version, "c");
        h.send(conn, publish("a/b/c/d", b"x", QoS::AtLeastOnce, 1));
        h.send(conn, publish("a/b/c/d", b"x", QoS::AtMostOnce, 0));
        h.send(conn, publish("a/b/c", b"x", QoS::AtMostOnce, 0));
        let expected = if version.is_v5() {
            hex("40 03 0001 90")
        } else {
            hex("40 02 0001")
        };
        assert_eq!(h.sent_bytes(conn), expected, "{version}");
        assert_eq!(
            deliveries(&h.sent(watcher)),
            [got("a/b/c", b"x", QoS::AtMostOnce)],
            "{version}"
        );
    }
}

/// An absent session's queue holds at most `max_queued_messages`: the rest are dropped and
/// counted; the kept ones arrive in order on resume.
#[test]
fn offline_queue_is_bounded_in_messages() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig {
            max_queued_messages: 3,
            ..BrokerConfig::default()
        });
        let (sub, _, _) = h.resume(version, "sub", 600);
        h.subscribe(sub, "t", QoS::AtLeastOnce);
        h.drop_socket(sub);
        let publisher = h.connect(V311, "pub");
        for n in 1..=5u8 {
            h.send(
                publisher,
                publish("t", &[n], QoS::AtLeastOnce, u16::from(n)),
            );
        }
        let stats = h.broker.stats();
        assert_eq!(
            (stats.stored_messages, stats.dropped_queue_full),
            (3, 2),
            "{version}"
        );
        let (_, _, after) = h.resume(version, "sub", 600);
        let payloads: Vec<u8> = deliveries(&after)
            .iter()
            .map(|got| got.payload[0])
            .collect();
        assert_eq!(payloads, [1, 2, 3], "{version}");
    }
}

/// A session's queue holds at most `max_queued_bytes` of payload, for an absent client and
/// for one whose window is full alike.
#[test]
fn queue_is_bounded_in_bytes() {
    let mut h = Harness::new(BrokerConfig {
        max_queued_bytes: 10,
        ..BrokerConfig::default()
    });
    let (away, _, _) = h.resume(V311, "away", 600);
    h.subscribe(away, "t", QoS::AtLeastOnce);
    h.drop_socket(away);
    let mut connect = keep_session(V5, "slow", 600);
    connect.properties.receive_maximum = NonZeroU16::new(1);
    let (slow, _, _) = h.connect_with(connect);
    h.subscribe(slow, "t", QoS::AtLeastOnce);
    let publisher = h.connect(V311, "pub");
    for n in 1..=4u8 {
        h.send(
            publisher,
            publish("t", &[n; 4], QoS::AtLeastOnce, u16::from(n)),
        );
    }
    // `away` keeps 1 and 2 (8 bytes); `slow` has 1 in flight and keeps 2 and 3 queued.
    assert_eq!(h.broker.stats().dropped_queue_full, 3);
    let mut got_slow = Vec::new();
    for _ in 0..4 {
        for packet in h.sent(slow) {
            let Packet::Publish(publish) = packet else {
                panic!("{packet:?}")
            };
            got_slow.push(publish.payload[0]);
            h.send(slow, PubAck::new(publish.packet_id().unwrap()));
        }
    }
    assert_eq!(got_slow, [1, 2, 3]);
    let (_, _, after) = h.resume(V311, "away", 600);
    let payloads: Vec<u8> = deliveries(&after)
        .iter()
        .map(|got| got.payload[0])
        .collect();
    assert_eq!(payloads, [1, 2]);
}

/// `stats()` counts messages and bytes in and out, and what the broker holds.
#[test]
fn stats_count_messages_and_bytes() {
    let mut h = Harness::new(BrokerConfig::default());
    let sub = h.connect(V311, "sub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let publisher = h.connect(V311, "pub");
    h.send(publisher, publish("t", b"12345", QoS::AtLeastOnce, 1));
    h.send(
        publisher,
        retained(publish("u", b"abc", QoS::AtMostOnce, 0)),
    );
    let stats = h.broker.stats();
    assert_eq!((stats.messages_in, stats.messages_out), (2, 1));
    assert_eq!((stats.stored_messages, stats.stored_bytes), (2, 8));
    assert_eq!((stats.retained, stats.subscriptions), (1, 1));
    assert_eq!((stats.connections, stats.sessions), (2, 2));
    // CONNECT 17 + SUBSCRIBE 8 + CONNECT 17 + PUBLISH 12 + PUBLISH 8.
    assert_eq!(stats.bytes_in, 17 + 8 + 17 + 12 + 8);
    // CONNACK 4 + SUBACK 5 + CONNACK 4 + PUBACK 4 + PUBLISH to `sub` 12.
    assert_eq!(stats.bytes_out, 4 + 5 + 4 + 4 + 12);
}

/// A driver buffer smaller than a packet gets it in pieces over several `poll_transmit`
/// calls, connections taking turns, and every client still reads whole, valid packets.
#[test]
fn packets_larger_than_the_drivers_buffer_go_out_in_pieces() {
    let mut h = Harness::new(BrokerConfig::default());
    h.set_buffer_size(7);
    let subscribers: Vec<_> = VERSIONS
        .iter()
        .map(|&version| {
            let conn = h.connect(version, &format!("s{}", version.level()));
            h.subscribe(conn, "t/#", QoS::AtLeastOnce);
            conn
        })
        .collect();
    let publisher = h.connect(V5, "pub");
    let payload: Vec<u8> = (0..=255).collect();
    h.send(publisher, publish("t/big", &payload, QoS::AtLeastOnce, 1));
    h.send(publisher, publish("t/small", b"s", QoS::AtMostOnce, 0));
    for conn in subscribers {
        assert_eq!(
            deliveries(&h.sent(conn)),
            [
                got("t/big", &payload, QoS::AtLeastOnce),
                got("t/small", b"s", QoS::AtMostOnce)
            ]
        );
    }
}
