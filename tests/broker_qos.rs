//! QoS 1 and 2 on the broker, both ways: the acknowledgements it sends for what clients
//! publish (exactly once for QoS 2), the flows it runs towards subscribers, re-sending with
//! DUP and PUBREL on session resume, the client's Receive Maximum respected and the broker's
//! own enforced.
#![cfg(feature = "v5")]

mod common;

use common::broker::{Conn, Harness, deliveries, got, keep_session, pid, publish};
use common::hex;
use mqtt_sansio::broker::CloseReason;
use mqtt_sansio::{
    BrokerConfig, DisconnectReasonCode, Packet, PingReq, ProtocolVersion, PubAck, PubAckReasonCode,
    PubComp, PubRec, PubRel, QoS,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// The identifier, QoS and DUP flag of each PUBLISH among `packets`, and the identifier of
/// each PUBREL (as QoS 2, DUP 0, tagged `"PUBREL"`); panics on any other packet.
#[track_caller]
fn flow(packets: &[Packet]) -> Vec<(&'static str, u16, QoS, bool)> {
    packets
        .iter()
        .map(|packet| match packet {
            Packet::Publish(publish) => (
                "PUBLISH",
                publish.packet_id().map_or(0, |id| id.get()),
                publish.qos(),
                publish.is_dup(),
            ),
            Packet::PubRel(rel) => ("PUBREL", rel.packet_id.get(), QoS::ExactlyOnce, false),
            other => panic!("expected PUBLISH or PUBREL, got {other:?}"),
        })
        .collect()
}

/// A subscriber `client_id` in `version` keeping its session, subscribed to `t/#` at QoS 2.
fn subscriber(h: &mut Harness, version: ProtocolVersion, client_id: &str) -> Conn {
    let (conn, _, _) = h.resume(version, client_id, 600);
    h.subscribe(conn, "t/#", QoS::ExactlyOnce);
    conn
}

/// A QoS 1 PUBLISH is answered with a PUBACK echoing its identifier (four bytes, also in
/// 5.0 for Success), and forwarded; the same identifier afterwards is a new message, DUP or
/// not. A QoS 0 PUBLISH is answered with nothing.
/// conformance: v311:MQTT-3.3.4-1, v5:MQTT-3.3.4-1, v311:MQTT-2.3.1-6, v5:MQTT-2.2.1-5,
/// v5:MQTT-4.3.2-4, v5:MQTT-4.3.2-5, v311:MQTT-4.3.2-2
#[test]
fn inbound_qos1_is_acknowledged_with_puback_and_forwarded_each_time() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = subscriber(&mut h, V311, "sub");
        let publisher = h.connect(version, "pub");
        h.send(publisher, publish("t/0", b"zero", QoS::AtMostOnce, 0));
        assert_eq!(h.sent_bytes(publisher), [], "{version}: QoS 0");
        h.send(publisher, publish("t/1", b"one", QoS::AtLeastOnce, 7));
        assert_eq!(h.sent_bytes(publisher), hex("40 02 00 07"), "{version}");
        let mut again = publish("t/1", b"one", QoS::AtLeastOnce, 7);
        again.delivery = again.delivery.with_dup(true);
        h.send(publisher, again);
        assert_eq!(h.sent_bytes(publisher), hex("40 02 00 07"), "{version}");
        let got_ = deliveries(&h.sent(sub));
        assert_eq!(got_.len(), 3, "{version}: {got_:?}");
        assert_eq!(got_[1].payload, b"one");
        assert_eq!(got_[2].payload, b"one");
    }
}

/// A QoS 2 PUBLISH is answered with PUBREC and forwarded once: a repeat (DUP) before PUBREL
/// gets PUBREC again but is not forwarded again; PUBREL gets PUBCOMP; the identifier is then
/// free, and a PUBLISH with it is a new message.
/// conformance: v311:MQTT-3.3.4-1, v5:MQTT-3.3.4-1, v311:MQTT-4.3.3-2, v5:MQTT-4.3.3-8,
/// v5:MQTT-4.3.3-10, v5:MQTT-4.3.3-11, v5:MQTT-4.3.3-12, v311:MQTT-2.3.1-6, v5:MQTT-2.2.1-5
#[test]
fn inbound_qos2_is_forwarded_exactly_once_until_pubrel() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = subscriber(&mut h, V5, "sub");
        let publisher = h.connect(version, "pub");
        h.send(publisher, publish("t/2", b"two", QoS::ExactlyOnce, 9));
        assert_eq!(h.sent_bytes(publisher), hex("50 02 00 09"), "{version}");
        assert_eq!(h.sent(sub).len(), 1, "{version}");
        let mut repeat = publish("t/2", b"two", QoS::ExactlyOnce, 9);
        repeat.delivery = repeat.delivery.with_dup(true);
        h.send(publisher, repeat);
        assert_eq!(h.sent_bytes(publisher), hex("50 02 00 09"), "{version}");
        assert_eq!(h.sent(sub), [], "{version}: not forwarded twice");
        h.send(publisher, PubRel::new(pid(9)));
        assert_eq!(h.sent_bytes(publisher), hex("70 02 00 09"), "{version}");
        h.send(publisher, publish("t/2", b"new", QoS::ExactlyOnce, 9));
        assert_eq!(h.sent_bytes(publisher), hex("50 02 00 09"), "{version}");
        assert_eq!(
            deliveries(&h.sent(sub)),
            [got("t/2", b"new", QoS::ExactlyOnce)],
            "{version}"
        );
    }
}

/// The inbound QoS 2 state belongs to the session: after a reconnect, a repeat of a PUBLISH
/// whose PUBREL had not arrived is not forwarded again, and its PUBREL is completed.
/// conformance: v311:MQTT-4.3.3-2, v5:MQTT-4.3.3-10, v311:MQTT-4.1.0-1, v5:MQTT-4.4.0-1
#[test]
fn inbound_qos2_state_survives_a_reconnect() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = subscriber(&mut h, V311, "sub");
        let (publisher, _, _) = h.resume(version, "pub", 600);
        h.send(publisher, publish("t/2", b"two", QoS::ExactlyOnce, 3));
        h.sent(publisher);
        h.drop_socket(publisher);
        let (publisher, _, _) = h.resume(version, "pub", 600);
        let mut repeat = publish("t/2", b"two", QoS::ExactlyOnce, 3);
        repeat.delivery = repeat.delivery.with_dup(true);
        h.send(publisher, repeat);
        h.send(publisher, PubRel::new(pid(3)));
        assert_eq!(
            h.sent_bytes(publisher),
            hex("50 02 00 03 70 02 00 03"),
            "{version}"
        );
        assert_eq!(h.sent(sub).len(), 1, "{version}: once in all");
    }
}

/// A 5.0 PUBREL for an identifier with no QoS 2 flow gets PUBCOMP Packet Identifier not found
/// (0x92); a 3.x one a plain PUBCOMP.
/// conformance: v5:MQTT-4.3.3-11
#[test]
fn pubrel_for_an_unknown_identifier_is_completed() {
    for (version, expected) in [
        (V5, "70 03 00 04 92"),
        (V311, "70 02 00 04"),
        (ProtocolVersion::V3_1, "70 02 00 04"),
    ] {
        let mut h = Harness::new(BrokerConfig::default());
        let conn = h.connect(version, "c");
        h.send(conn, PubRel::new(pid(4)));
        assert_eq!(h.sent_bytes(conn), hex(expected), "{version}");
        assert_eq!(h.closed(conn), None, "{version}");
    }
}

/// The broker's DUP flag on a delivery says whether its own PUBLISH is a re-delivery: a DUP
/// received from the publisher is not copied.
/// conformance: v311:MQTT-3.3.1-3, v5:MQTT-3.3.1-3
#[test]
fn incoming_dup_is_not_copied_to_subscribers() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = subscriber(&mut h, version, "sub");
        let publisher = h.connect(V311, "pub");
        for (qos, id) in [(QoS::AtLeastOnce, 1), (QoS::ExactlyOnce, 2)] {
            let mut message = publish("t/dup", b"x", qos, id);
            message.delivery = message.delivery.with_dup(true);
            h.send(publisher, message);
        }
        let sent = h.sent(sub);
        assert_eq!(
            flow(&sent)
                .into_iter()
                .map(|(_, _, qos, dup)| (qos, dup))
                .collect::<Vec<_>>(),
            [(QoS::AtLeastOnce, false), (QoS::ExactlyOnce, false)],
            "{version}"
        );
    }
}

/// Towards a subscriber, each new QoS 1 PUBLISH gets a non-zero identifier no other flow in
/// progress holds, QoS 1 and DUP 0; it stays unacknowledged (and its identifier in use) until
/// the PUBACK, and is never sent again on the same connection, however long it waits.
/// conformance: v5:MQTT-2.2.1-4, v311:MQTT-2.3.1-4, v311:MQTT-4.3.2-1, v5:MQTT-4.3.2-1,
/// v5:MQTT-4.3.2-2, v5:MQTT-4.3.2-3, v311:MQTT-4.3.1-1, v5:MQTT-4.3.1-1, v5:MQTT-4.4.0-1
#[test]
fn outbound_qos1_flow_uses_free_identifiers_until_puback() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = subscriber(&mut h, version, "sub");
        let publisher = h.connect(V311, "pub");
        h.send(publisher, publish("t/0", b"zero", QoS::AtMostOnce, 0));
        for id in 1..=3 {
            h.send(publisher, publish("t/1", b"one", QoS::AtLeastOnce, id));
        }
        let sent = flow(&h.sent(sub));
        assert_eq!(sent[0], ("PUBLISH", 0, QoS::AtMostOnce, false), "{version}");
        let ids: Vec<u16> = sent[1..].iter().map(|&(_, id, _, _)| id).collect();
        assert!(
            sent[1..]
                .iter()
                .all(|&(_, id, qos, dup)| id != 0 && qos == QoS::AtLeastOnce && !dup),
            "{version}: {sent:?}"
        );
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 3, "{version}: {ids:?}");
        h.advance(600_000);
        assert_eq!(
            h.sent(sub),
            [],
            "{version}: no retransmission while connected"
        );
        assert_eq!(h.broker.stats().stored_messages, 3, "{version}");
        // The middle one is acknowledged: the next message may take its identifier, never
        // the two still in flight.
        h.send(sub, PubAck::new(pid(ids[1])));
        assert_eq!(h.broker.stats().stored_messages, 2, "{version}");
        for id in 4..=10 {
            h.send(publisher, publish("t/1", b"more", QoS::AtLeastOnce, id));
        }
        let more = flow(&h.sent(sub));
        assert_eq!(more.len(), 7, "{version}");
        for (_, id, _, _) in more {
            assert!(id != ids[0] && id != ids[2], "{version}: {id} is in use");
        }
    }
}

/// Towards a subscriber, a QoS 2 PUBLISH (identifier, QoS 2, DUP 0) waits for PUBREC; the
/// broker then sends PUBREL with the same identifier and waits for PUBCOMP, after which the
/// message is gone.
/// conformance: v311:MQTT-4.3.3-1, v5:MQTT-4.3.3-1, v5:MQTT-4.3.3-2, v5:MQTT-4.3.3-3,
/// v5:MQTT-4.3.3-4, v5:MQTT-4.3.3-5, v311:MQTT-2.3.1-6, v5:MQTT-2.2.1-5
#[test]
fn outbound_qos2_flow_goes_publish_pubrec_pubrel_pubcomp() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let sub = subscriber(&mut h, version, "sub");
        let publisher = h.connect(V311, "pub");
        h.send(publisher, publish("t/2", b"two", QoS::ExactlyOnce, 1));
        h.send(publisher, PubRel::new(pid(1)));
        let sent = flow(&h.sent(sub));
        let [("PUBLISH", id, QoS::ExactlyOnce, false)] = sent[..] else {
            panic!("{version}: {sent:?}")
        };
        assert_ne!(id, 0);
        h.send(sub, PubRec::new(pid(id)));
        let wire = h.sent_bytes(sub);
        assert_eq!(wire, [0x62, 0x02, (id >> 8) as u8, id as u8], "{version}");
        assert_eq!(h.broker.stats().stored_messages, 1, "{version}");
        h.send(sub, PubComp::new(pid(id)));
        assert_eq!(h.sent(sub), [], "{version}");
        assert_eq!(h.broker.stats().stored_messages, 0, "{version}");
    }
}

/// A resumed session gets every unacknowledged delivery again, in the original order and with
/// the original identifiers: PUBLISH packets with DUP 1, and a PUBREL (never the PUBLISH) for
/// a QoS 2 message whose PUBREC had arrived. Deliveries that were waiting follow.
/// conformance: v311:MQTT-4.4.0-1, v5:MQTT-4.4.0-1, v311:MQTT-3.3.1-1, v5:MQTT-3.3.1-1,
/// v5:MQTT-4.3.3-6, v311:MQTT-4.3.3-1, v311:MQTT-4.1.0-1, v5:MQTT-4.1.0-1
#[test]
fn resume_resends_unacknowledged_deliveries_with_dup_and_pubrel_in_order() {
    for version in [V311, V5] {
        resume_resends_in_order(version);
    }
}

/// The same for a 3.1 client that resumes its session, although a 3.1 CONNACK cannot say so.
#[test]
fn v31_resume_resends_unacknowledged_deliveries() {
    resume_resends_in_order(ProtocolVersion::V3_1);
}

/// Four deliveries in flight (one of them PUBREC'd) and one waiting; the subscriber
/// reconnects and must get them again, then the waiting one.
fn resume_resends_in_order(version: ProtocolVersion) {
    let mut h = Harness::new(BrokerConfig {
        max_inflight: 4,
        ..BrokerConfig::default()
    });
    let sub = subscriber(&mut h, version, "sub");
    let publisher = h.connect(V311, "pub");
    let qos = [
        QoS::AtLeastOnce,
        QoS::ExactlyOnce,
        QoS::ExactlyOnce,
        QoS::AtLeastOnce,
        QoS::AtLeastOnce,
    ];
    for (n, qos) in qos.into_iter().enumerate() {
        h.send(
            publisher,
            publish("t/m", &[b'0' + n as u8], qos, n as u16 + 1),
        );
        if qos == QoS::ExactlyOnce {
            h.send(publisher, PubRel::new(pid(n as u16 + 1)));
        }
    }
    let first = flow(&h.sent(sub));
    assert_eq!(first.len(), 4, "{version}: the fifth waits for room");
    let ids: Vec<u16> = first.iter().map(|&(_, id, _, _)| id).collect();
    h.send(sub, PubRec::new(pid(ids[1])));
    assert_eq!(
        flow(&h.sent(sub)),
        [("PUBREL", ids[1], QoS::ExactlyOnce, false)]
    );
    h.drop_socket(sub);

    let (sub, _, resent) = h.resume(version, "sub", 600);
    assert_eq!(
        flow(&resent),
        [
            ("PUBLISH", ids[0], QoS::AtLeastOnce, true),
            ("PUBREL", ids[1], QoS::ExactlyOnce, false),
            ("PUBLISH", ids[2], QoS::ExactlyOnce, true),
            ("PUBLISH", ids[3], QoS::AtLeastOnce, true),
        ],
        "{version}"
    );
    let payloads: Vec<_> = resent
        .iter()
        .filter_map(|packet| match packet {
            Packet::Publish(publish) => Some(publish.payload.to_vec()),
            _ => None,
        })
        .collect();
    assert_eq!(payloads, [b"0".to_vec(), b"2".to_vec(), b"3".to_vec()]);
    // Acknowledging one makes room for the fifth, sent new (DUP 0).
    h.send(sub, PubAck::new(pid(ids[0])));
    let next = flow(&h.sent(sub));
    assert!(
        matches!(next[..], [("PUBLISH", _, QoS::AtLeastOnce, false)]),
        "{version}: {next:?}"
    );
}

/// A 5.0 PUBACK or PUBREC with a reason code of 0x80 or above acknowledges the message: no
/// PUBREL follows, and it is never sent again, not even on resume.
/// conformance: v5:MQTT-4.4.0-2
#[test]
fn v5_refusing_ack_ends_the_flow_for_good() {
    let mut h = Harness::new(BrokerConfig::default());
    let sub = subscriber(&mut h, V5, "sub");
    let publisher = h.connect(V311, "pub");
    h.send(publisher, publish("t/1", b"one", QoS::AtLeastOnce, 1));
    h.send(publisher, publish("t/2", b"two", QoS::ExactlyOnce, 2));
    h.send(publisher, PubRel::new(pid(2)));
    let ids: Vec<u16> = flow(&h.sent(sub)).iter().map(|&(_, id, _, _)| id).collect();
    let mut puback = PubAck::new(pid(ids[0]));
    puback.reason_code = PubAckReasonCode::UnspecifiedError;
    let mut pubrec = PubRec::new(pid(ids[1]));
    pubrec.reason_code = PubAckReasonCode::ImplementationSpecificError;
    h.send(sub, puback);
    h.send(sub, pubrec);
    assert_eq!(h.sent(sub), [], "no PUBREL after a refusing PUBREC");
    assert_eq!(h.broker.stats().stored_messages, 0);
    h.drop_socket(sub);
    let (_, session_present, resent) = h.resume(V5, "sub", 600);
    assert!(session_present);
    assert_eq!(resent, []);
}

/// A 5.0 client's Receive Maximum caps the QoS 1 and 2 deliveries outstanding to it; the rest
/// wait, in order, and go out as PUBACK, PUBCOMP or a refusing PUBREC free room (a PUBREC of
/// success does not). QoS 0 messages, SUBACK and PINGRESP are not held back.
/// conformance: v5:MQTT-3.3.4-9, v5:MQTT-3.3.4-10, v5:MQTT-4.9.0-1, v5:MQTT-4.9.0-2,
/// v5:MQTT-4.9.0-3
#[test]
fn v5_client_receive_maximum_holds_back_the_rest_in_order() {
    let mut h = Harness::new(BrokerConfig::default());
    let mut connect = keep_session(V5, "sub", 600);
    connect.properties.receive_maximum = std::num::NonZeroU16::new(2);
    let (sub, _, _) = h.connect_with(connect);
    h.subscribe(sub, "t/#", QoS::ExactlyOnce);
    let publisher = h.connect(V311, "pub");
    let qos = [
        QoS::ExactlyOnce,
        QoS::AtLeastOnce,
        QoS::AtLeastOnce,
        QoS::ExactlyOnce,
    ];
    for (n, qos) in qos.into_iter().enumerate() {
        h.send(
            publisher,
            publish("t/m", &[b'a' + n as u8], qos, n as u16 + 1),
        );
        if qos == QoS::ExactlyOnce {
            h.send(publisher, PubRel::new(pid(n as u16 + 1)));
        }
    }
    let first = h.sent(sub);
    assert_eq!(
        deliveries(&first)
            .iter()
            .map(|got| got.payload.clone())
            .collect::<Vec<_>>(),
        [b"a".to_vec(), b"b".to_vec()]
    );
    let ids: Vec<u16> = flow(&first).iter().map(|&(_, id, _, _)| id).collect();

    // Other packets still flow.
    assert_eq!(h.subscribe(sub, "other", QoS::AtLeastOnce), []);
    h.send(publisher, publish("t/zero", b"0", QoS::AtMostOnce, 0));
    h.send(sub, PingReq);
    let sent = h.sent(sub);
    assert!(
        matches!(&sent[..], [Packet::Publish(p), Packet::PingResp(_)] if p.qos() == QoS::AtMostOnce),
        "{sent:?}"
    );

    // PUBREC of success keeps the QoS 2 flow outstanding; PUBACK frees a slot.
    h.send(sub, PubRec::new(pid(ids[0])));
    assert!(matches!(&h.sent(sub)[..], [Packet::PubRel(_)]));
    h.send(sub, PubAck::new(pid(ids[1])));
    assert_eq!(deliveries(&h.sent(sub))[0].payload, b"c");
    h.send(sub, PubComp::new(pid(ids[0])));
    assert_eq!(deliveries(&h.sent(sub))[0].payload, b"d");
    assert_eq!(h.sent(sub), []);
}

/// The broker's `max_inflight` bounds what is outstanding to any client, 3.x included; the
/// rest waits in order.
/// conformance: v311:MQTT-4.6.0-6
#[test]
fn max_inflight_holds_back_the_rest_in_every_version() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig {
            max_inflight: 2,
            ..BrokerConfig::default()
        });
        let sub = subscriber(&mut h, version, "sub");
        let publisher = h.connect(V311, "pub");
        for n in 0..5u8 {
            h.send(
                publisher,
                publish("t/m", &[b'0' + n], QoS::AtLeastOnce, u16::from(n) + 1),
            );
        }
        let mut order = Vec::new();
        for _ in 0..5 {
            let sent = h.sent(sub);
            assert!(sent.len() <= 2, "{version}: {sent:?}");
            for packet in &sent {
                let Packet::Publish(publish) = packet else {
                    panic!("{packet:?}")
                };
                order.push(publish.payload.to_vec());
                h.send(sub, PubAck::new(publish.packet_id().unwrap()));
            }
        }
        let expected: Vec<Vec<u8>> = (0..5u8).map(|n| vec![b'0' + n]).collect();
        assert_eq!(order, expected, "{version}");
    }
}

/// A 5.0 client that leaves more QoS 2 PUBLISH packets unreleased than the broker's Receive
/// Maximum is disconnected with Receive Maximum exceeded (0x93); releasing them in time keeps
/// it connected.
#[test]
fn v5_more_unacknowledged_qos2_than_our_receive_maximum_is_0x93() {
    let mut h = Harness::new(BrokerConfig {
        receive_maximum: 2,
        ..BrokerConfig::default()
    });
    let polite = h.connect(V5, "polite");
    for id in 1..=5 {
        h.send(polite, publish("t", b"x", QoS::ExactlyOnce, id));
        h.send(polite, PubRel::new(pid(id)));
    }
    assert_eq!(h.closed(polite), None);
    let greedy = h.connect(V5, "greedy");
    h.send(greedy, publish("t", b"x", QoS::ExactlyOnce, 1));
    h.send(greedy, publish("t", b"x", QoS::ExactlyOnce, 2));
    assert_eq!(h.closed(greedy), None);
    h.sent(greedy);
    h.send(greedy, publish("t", b"x", QoS::ExactlyOnce, 3));
    assert_eq!(h.sent_bytes(greedy), hex("E0 01 93"));
    assert_eq!(
        h.closed(greedy),
        Some(CloseReason::ProtocolError(
            DisconnectReasonCode::ReceiveMaximumExceeded
        ))
    );
}

/// The receiver completes a QoS 2 exchange even after the message's expiry has passed.
/// conformance: v5:MQTT-4.3.3-13
#[test]
fn v5_inbound_qos2_completes_after_the_message_expired() {
    let mut h = Harness::new(BrokerConfig::default());
    let publisher = h.connect(V5, "pub");
    let mut message = publish("t", b"x", QoS::ExactlyOnce, 5);
    message.properties.message_expiry_interval = Some(1);
    h.send(publisher, message);
    assert_eq!(h.sent_bytes(publisher), hex("50 02 00 05"));
    h.advance(5_000);
    h.send(publisher, PubRel::new(pid(5)));
    assert_eq!(h.sent_bytes(publisher), hex("70 02 00 05"));
}

/// Once a QoS 2 PUBLISH has gone out, its expiry no longer applies: it is sent again on
/// resume after the Message Expiry Interval has passed.
/// conformance: v5:MQTT-4.3.3-7
#[test]
fn v5_outbound_qos2_in_flight_is_resent_after_its_expiry() {
    let mut h = Harness::new(BrokerConfig::default());
    let sub = subscriber(&mut h, V5, "sub");
    let publisher = h.connect(V5, "pub");
    let mut message = publish("t/x", b"x", QoS::ExactlyOnce, 1);
    message.properties.message_expiry_interval = Some(1);
    h.send(publisher, message);
    let first = flow(&h.sent(sub));
    assert_eq!(first.len(), 1);
    h.drop_socket(sub);
    h.advance(10_000);
    let (_, _, resent) = h.resume(V5, "sub", 600);
    assert_eq!(
        flow(&resent),
        [("PUBLISH", first[0].1, QoS::ExactlyOnce, true)]
    );
}
