//! First flows of the client through the harness: the shape every other client test builds on.

mod common;

use common::client::{Harness, incoming, message};
use mqtt_sansio::{
    ClientConfig, ConnAck, ConnectOptions, ConnectReasonCode, Event, Packet, PingReq,
    ProtocolVersion, PubAck, PubComp, PubRec, PubRel, QoS,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;

/// conformance: v5:MQTT-4.3.2-1, v5:MQTT-4.3.2-2, v5:MQTT-4.3.2-3, v311:MQTT-4.3.2-1
#[test]
fn qos1_publish_completes_on_puback() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        let id = h
            .client
            .publish(h.now, message("a/b", b"x", QoS::AtLeastOnce))
            .unwrap()
            .unwrap();
        let sent = h.sent();
        let [Packet::Publish(publish)] = &sent[..] else {
            panic!("{sent:?}")
        };
        assert_eq!(publish.packet_id(), Some(id));
        assert!(!publish.is_dup());
        assert_eq!(h.events(), []);
        h.receive(PubAck::new(id));
        assert_eq!(
            h.events(),
            [Event::Published {
                packet_id: id,
                result: Ok(())
            }]
        );
        assert_eq!(h.client.outgoing_len(), 0);
    }
}

/// conformance: v5:MQTT-4.3.3-1, v5:MQTT-4.3.3-2, v5:MQTT-4.3.3-4, v5:MQTT-4.3.3-5, v311:MQTT-4.3.3-1
#[test]
fn qos2_publish_goes_through_pubrec_pubrel_pubcomp() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        let id = h
            .client
            .publish(h.now, message("a", b"x", QoS::ExactlyOnce))
            .unwrap()
            .unwrap();
        assert!(matches!(&h.sent()[..], [Packet::Publish(_)]));
        h.receive(PubRec::new(id));
        assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(id))]);
        h.receive(PubComp::new(id));
        assert_eq!(
            h.events(),
            [Event::Published {
                packet_id: id,
                result: Ok(())
            }]
        );
    }
}

/// conformance: v5:MQTT-4.3.3-8, v5:MQTT-4.3.3-10, v5:MQTT-4.3.3-11, v311:MQTT-4.3.3-2
#[test]
fn qos2_message_is_delivered_once() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        let publish = incoming("t", b"1", QoS::ExactlyOnce, 7);
        h.receive(publish.clone());
        assert_eq!(h.events().len(), 1);
        let pid = publish.packet_id().unwrap();
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(pid))]);
        let mut dup = publish.clone();
        dup.delivery = dup.delivery.with_dup(true);
        h.receive(dup);
        assert_eq!(h.events(), []);
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(pid))]);
        h.receive(PubRel::new(pid));
        assert_eq!(h.sent(), [Packet::PubComp(PubComp::new(pid))]);
    }
}

/// conformance: v311:MQTT-3.1.2-23, v5:MQTT-3.1.2-20
#[test]
fn pingreq_after_keep_alive_and_dead_after_ping_timeout() {
    for &version in VERSIONS {
        let mut h = Harness::new(ClientConfig::default());
        h.connect_with(
            ConnectOptions::new(version, "c").unwrap().keep_alive(5),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        assert_eq!(h.client.poll_timeout().unwrap().as_millis(), 5_000);
        h.advance(4_999);
        assert_eq!(h.sent(), []);
        h.advance(1);
        assert_eq!(h.sent(), [Packet::PingReq(PingReq)]);
        h.advance(10_000);
        let events = h.events();
        assert!(
            matches!(&events[..], [Event::Disconnected(d)] if d.reason == mqtt_sansio::DisconnectReason::KeepAliveTimeout),
            "{events:?}"
        );
    }
}

/// conformance: v311:MQTT-4.4.0-1, v5:MQTT-4.4.0-1, v311:MQTT-3.3.1-1, v5:MQTT-3.3.1-1
#[test]
fn resumed_session_resends_with_dup_in_order() {
    for &version in VERSIONS {
        let mut h = Harness::new(ClientConfig::default());
        let mut options = ConnectOptions::new(version, "c")
            .unwrap()
            .clean_start(false);
        if version.is_v5() {
            options = options.session_expiry_interval(60);
        }
        h.connect_with(
            options.clone(),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        let a = h
            .client
            .publish(h.now, message("t", b"a", QoS::AtLeastOnce))
            .unwrap()
            .unwrap();
        let b = h
            .client
            .publish(h.now, message("t", b"b", QoS::ExactlyOnce))
            .unwrap()
            .unwrap();
        let c = h
            .client
            .publish(h.now, message("t", b"c", QoS::ExactlyOnce))
            .unwrap()
            .unwrap();
        assert_eq!(h.sent().len(), 3);
        h.receive(PubRec::new(b));
        assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(b))]);
        h.drop_transport();
        assert!(matches!(&h.events()[..], [Event::Disconnected(_)]));
        // 3.1 has no Session Present flag; the client resumes what it asked to keep.
        let present = version != ProtocolVersion::V3_1;
        h.connect_with(options, ConnAck::new(present, ConnectReasonCode::Success));
        let sent = h.sent();
        let ids: Vec<_> = sent
            .iter()
            .map(|p| match p {
                Packet::Publish(p) => {
                    assert!(p.is_dup());
                    (p.packet_id().unwrap(), "publish")
                }
                Packet::PubRel(r) => (r.packet_id, "pubrel"),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(ids, [(a, "publish"), (c, "publish"), (b, "pubrel")]);
    }
}
