//! Publishing without a connection: refused when the offline queue is off; held within its
//! bounds and sent in order after the next CONNACK when it is on; and QoS 0 messages caught
//! by a dropped connection reported as dropped.

mod common;

use common::client::{Harness, message};
use mqtt_sansio::{
    ClientConfig, ConnAck, ConnectOptions, ConnectReasonCode, Event, Packet, PacketId,
    ProtocolVersion, QoS, UsageError,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;

const OFFLINE: ClientConfig = ClientConfig {
    queue_while_offline: true,
    ..ClientConfig::DEFAULT
};

/// What a test needs to say about one PUBLISH the server read.
fn summary(packet: &Packet) -> (QoS, Option<PacketId>, bool, Vec<u8>) {
    match packet {
        Packet::Publish(p) => (p.qos(), p.packet_id(), p.is_dup(), p.payload.to_vec()),
        other => panic!("not a PUBLISH: {other:?}"),
    }
}

/// Every command that needs a connection, tried without one: all refused as `NotConnected`.
fn assert_all_refused(h: &mut Harness, version: ProtocolVersion) {
    let now = h.now;
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        assert_eq!(
            h.client.publish(now, message("t", b"x", qos)),
            Err(UsageError::NotConnected),
            "MQTT {version} {qos:?}"
        );
    }
    let filter = || mqtt_sansio::TopicFilter::new(bytestring::ByteString::from("t")).unwrap();
    assert_eq!(
        h.client.subscribe(
            now,
            [mqtt_sansio::Subscription::new(filter(), QoS::AtMostOnce)],
            Default::default()
        ),
        Err(UsageError::NotConnected)
    );
    assert_eq!(
        h.client.unsubscribe(now, [filter()], Default::default()),
        Err(UsageError::NotConnected)
    );
    assert_eq!(h.client.outgoing_len(), 0);
    assert_eq!(h.sent(), []);
}

/// Without `queue_while_offline`, publishing (or subscribing) with no connection is refused,
/// before the first connection and after one ended, and nothing is kept for the next.
#[test]
fn without_the_offline_queue_publishing_while_disconnected_is_refused() {
    for &version in VERSIONS {
        let mut h = Harness::new(ClientConfig::default());
        assert_all_refused(&mut h, version);
        h.connect_with(
            ConnectOptions::new(version, "client").unwrap(),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        assert_eq!(h.sent(), []);
        h.drop_transport();
        h.events();
        assert_all_refused(&mut h, version);
        h.connect_with(
            ConnectOptions::new(version, "client").unwrap(),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        assert_eq!(h.sent(), [], "MQTT {version}: something was kept");
    }
}

/// With `queue_while_offline`, messages published before the first connection, and after a
/// connection ended, wait for the next CONNACK (nothing but CONNECT goes before it) and then
/// go out as new messages (DUP 0) with the identifiers `publish` returned, each QoS in the
/// order published.
///
/// conformance: v311:MQTT-4.3.1-1, v5:MQTT-4.3.1-1, v5:MQTT-4.3.2-2, v5:MQTT-4.3.3-2,
/// v311:MQTT-4.3.2-1, v311:MQTT-4.3.3-1
#[test]
fn messages_queued_offline_go_out_in_order_after_the_next_connack() {
    for &version in VERSIONS {
        let mut h = Harness::new(OFFLINE);
        for round in 0..2 {
            let script: [(&'static [u8], QoS); 6] = [
                (b"a", QoS::AtMostOnce),
                (b"b", QoS::AtLeastOnce),
                (b"c", QoS::ExactlyOnce),
                (b"d", QoS::AtMostOnce),
                (b"e", QoS::AtLeastOnce),
                (b"f", QoS::AtMostOnce),
            ];
            let mut expected: Vec<_> = script
                .iter()
                .map(|&(payload, qos)| {
                    let id = h.publish(message("t", payload, qos));
                    (qos, id, false, payload.to_vec())
                })
                .collect();
            // CONNECT alone (the harness checks), then one more message while connecting.
            h.connect(ConnectOptions::new(version, "client").unwrap());
            let g = h.publish(message("t", b"g", QoS::ExactlyOnce));
            expected.push((QoS::ExactlyOnce, g, false, b"g".to_vec()));
            assert_eq!(h.sent(), [], "MQTT {version}: sent before CONNACK");
            h.receive(ConnAck::new(false, ConnectReasonCode::Success));
            let events = h.events();
            assert!(
                matches!(&events[..], [Event::Connected(_)]),
                "MQTT {version} round {round}: {events:?}"
            );

            let sent = h.sent();
            let got: Vec<_> = sent
                .iter()
                .filter(|p| matches!(p, Packet::Publish(_)))
                .map(summary)
                .collect();
            for qos0 in [true, false] {
                let pick = |list: &[(QoS, Option<PacketId>, bool, Vec<u8>)]| -> Vec<_> {
                    list.iter()
                        .filter(|m| (m.0 == QoS::AtMostOnce) == qos0)
                        .cloned()
                        .collect()
                };
                assert_eq!(pick(&got), pick(&expected), "MQTT {version} round {round}");
            }
            assert_eq!(got.len(), expected.len());
            if round == 0 {
                h.drop_transport();
                h.events();
            }
        }
    }
}

/// The offline queue is bounded: `max_queued_qos0` QoS 0 messages and `max_outgoing` QoS 1
/// and 2 messages (with SUBSCRIBE and UNSUBSCRIBE); one more is `QueueFull`, and what was
/// accepted still goes out.
#[test]
fn the_offline_queue_is_bounded() {
    for &version in VERSIONS {
        let config = ClientConfig {
            max_queued_qos0: 2,
            max_outgoing: 2,
            ..OFFLINE
        };
        let mut h = Harness::new(config);
        let now = h.now;
        h.publish(message("t", b"0a", QoS::AtMostOnce));
        h.publish(message("t", b"0b", QoS::AtMostOnce));
        assert!(matches!(
            h.client.publish(now, message("t", b"0c", QoS::AtMostOnce)),
            Err(UsageError::QueueFull(_))
        ));
        h.publish(message("t", b"1", QoS::AtLeastOnce));
        h.publish(message("t", b"2", QoS::ExactlyOnce));
        for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
            assert!(matches!(
                h.client.publish(now, message("t", b"x", qos)),
                Err(UsageError::QueueFull(_))
            ));
        }
        let filter = mqtt_sansio::TopicFilter::new(bytestring::ByteString::from("t")).unwrap();
        assert!(matches!(
            h.client.subscribe(
                now,
                [mqtt_sansio::Subscription::new(filter, QoS::AtMostOnce)],
                Default::default()
            ),
            Err(UsageError::QueueFull(_))
        ));
        h.connect_with(
            ConnectOptions::new(version, "client").unwrap(),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        let payloads: Vec<_> = h.sent().iter().map(|p| summary(p).3).collect();
        assert_eq!(payloads.len(), 4, "MQTT {version}");
        for payload in [&b"0a"[..], b"0b", b"1", b"2"] {
            assert!(payloads.iter().any(|p| p == payload), "MQTT {version}");
        }
    }
}

/// Without the offline queue, QoS 0 messages still waiting to be written when the connection
/// breaks are reported one by one as `Event::Dropped`, after `Event::Disconnected`, and are
/// not sent later; with the queue on, they wait for the next connection instead.
#[test]
fn queued_qos0_messages_are_reported_dropped_when_the_connection_breaks() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        h.publish(message("t", b"a", QoS::AtMostOnce));
        h.publish(message("t", b"b", QoS::AtMostOnce));
        h.drop_transport();
        let events = h.events();
        let dropped = |payload| Event::Dropped(Box::new(message("t", payload, QoS::AtMostOnce)));
        assert!(
            matches!(&events[0], Event::Disconnected(_)),
            "MQTT {version}: {events:?}"
        );
        assert_eq!(
            events[1..],
            [dropped(b"a"), dropped(b"b")],
            "MQTT {version}"
        );
        h.connect_with(
            ConnectOptions::new(version, "client").unwrap(),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        assert_eq!(h.sent(), []);

        let mut kept = Harness::connected(OFFLINE, version);
        kept.publish(message("t", b"a", QoS::AtMostOnce));
        kept.publish(message("t", b"b", QoS::AtMostOnce));
        kept.drop_transport();
        assert!(matches!(&kept.events()[..], [Event::Disconnected(_)]));
        kept.connect_with(
            ConnectOptions::new(version, "client").unwrap(),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        let expected: Vec<Packet> = [b"a", b"b"]
            .map(|payload| Packet::Publish(message("t", payload, QoS::AtMostOnce)))
            .into();
        assert_eq!(kept.sent(), expected, "MQTT {version}");
    }
}

/// A SUBSCRIBE or UNSUBSCRIBE queued while offline never reached the server, so a Clean
/// Start (or Session Present 0) cannot lose it: like a message never sent, it goes out on the
/// next connection and its answer is reported.
#[test]
fn a_subscribe_queued_offline_goes_out_after_a_clean_start() {
    for &version in VERSIONS {
        let mut h = Harness::new(OFFLINE);
        let s = h.subscribe("s/#");
        let u = h.unsubscribe("u/#");
        h.connect(ConnectOptions::new(version, "client").unwrap());
        h.receive(ConnAck::new(false, ConnectReasonCode::Success));
        let events = h.events();
        assert!(
            matches!(&events[..], [Event::Connected(_)]),
            "MQTT {version}: {events:?}"
        );
        let sent = h.sent();
        assert!(
            matches!(&sent[..], [Packet::Subscribe(x), Packet::Unsubscribe(y)] if x.packet_id == s && y.packet_id == u),
            "MQTT {version}: {sent:?}"
        );
        h.receive_suback(s);
        h.receive_unsuback(u);
        assert_eq!(h.events().len(), 2);
    }
}

/// A SUBSCRIBE made between `connect` and the CONNACK (allowed without the offline queue)
/// waits for the CONNACK and then goes out, also when the CONNACK says Session Present 0, as
/// it does to every Clean Start: only state the server may have held can be lost.
#[test]
fn a_subscribe_made_while_connecting_goes_out_after_the_connack() {
    for &version in VERSIONS {
        let mut h = Harness::new(ClientConfig::default());
        h.connect(ConnectOptions::new(version, "client").unwrap());
        let s = h.subscribe("s/#");
        assert_eq!(h.sent(), []);
        h.receive(ConnAck::new(false, ConnectReasonCode::Success));
        let events = h.events();
        assert!(
            matches!(&events[..], [Event::Connected(_)]),
            "MQTT {version}: {events:?}"
        );
        let sent = h.sent();
        assert!(
            matches!(&sent[..], [Packet::Subscribe(x)] if x.packet_id == s),
            "MQTT {version}: {sent:?}"
        );
    }
}
