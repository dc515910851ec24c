//! The client's own messages at QoS 0, 1 and 2: the packets it writes, what ends each flow,
//! and what it never sends again.
#![cfg(feature = "v5")]

mod common;

use common::client::{Harness, keep_session, message, published, sent_publish, session_resumed};
use mqtt_sansio::{
    ClientConfig, ConnAck, ConnectReasonCode, Event, Packet, ProtocolVersion, PubAck,
    PubAckReasonCode, PubComp, PubCompReasonCode, PubRec, PubRel, PublishError, QoS,
    SubscriptionId, UsageError,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;

/// The transport breaks and the client reconnects to a server that kept the session; returns
/// what the client sends after the CONNACK.
fn resume(h: &mut Harness, version: ProtocolVersion) -> Vec<Packet> {
    h.drop_transport();
    assert!(matches!(&h.events()[..], [Event::Disconnected(_)]));
    h.connect_with(keep_session(version), session_resumed(version));
    h.sent()
}

/// conformance: v311:MQTT-4.3.1-1, v5:MQTT-4.3.1-1
#[test]
fn qos0_is_sent_once_with_qos0_and_dup0() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        assert_eq!(h.publish(message("a/b", b"zero", QoS::AtMostOnce)), None);
        let bytes = h.sent_bytes();
        // Fixed header: PUBLISH, DUP 0, QoS 0, RETAIN 0.
        assert_eq!(bytes[0], 0x30, "MQTT {version}: {bytes:02x?}");
        assert_eq!(
            common::decode_one_bytes(version, &bytes),
            Packet::Publish(message("a/b", b"zero", QoS::AtMostOnce))
        );
        assert_eq!(h.events(), []);
        assert_eq!(h.client.outgoing_len(), 0);
        h.advance(30_000);
        assert_eq!(h.sent_bytes(), [], "MQTT {version}: QoS 0 is never re-sent");
    }
}

/// A QoS 1 message goes out once with a new identifier, QoS 1 and DUP 0, stays
/// unacknowledged (and is not re-sent on the same connection) until its PUBACK.
///
/// conformance: v5:MQTT-4.3.2-1, v5:MQTT-4.3.2-2, v5:MQTT-4.3.2-3, v311:MQTT-4.3.2-1,
/// v5:MQTT-4.4.0-1
#[test]
fn qos1_is_unacknowledged_until_its_puback() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        let id = h.publish(message("a", b"one", QoS::AtLeastOnce)).unwrap();
        assert_eq!(
            h.sent(),
            [sent_publish("a", b"one", QoS::AtLeastOnce, id, false)]
        );
        h.advance(30_000);
        assert_eq!(
            h.sent(),
            [],
            "MQTT {version}: re-sent on the same connection"
        );
        assert_eq!(h.events(), []);
        assert_eq!((h.client.outgoing_len(), h.client.in_flight()), (1, 1));
        h.receive(PubAck::new(id));
        assert_eq!(h.events(), [published(id)]);
        assert_eq!((h.client.outgoing_len(), h.client.in_flight()), (0, 0));
        // A repeated PUBACK finds nothing and changes nothing.
        h.receive(PubAck::new(id));
        assert_eq!(h.events(), []);
        assert_eq!(h.sent(), []);
        assert!(h.client.is_connected());
    }
}

/// A QoS 2 message: PUBLISH (QoS 2, DUP 0) unacknowledged until PUBREC, then a PUBREL with
/// the same identifier unacknowledged until PUBCOMP; the PUBLISH is never sent again, not
/// even on a resumed session.
///
/// conformance: v5:MQTT-4.3.3-1, v5:MQTT-4.3.3-2, v5:MQTT-4.3.3-3, v5:MQTT-4.3.3-4,
/// v5:MQTT-4.3.3-5, v5:MQTT-4.3.3-6, v311:MQTT-4.3.3-1, v311:MQTT-4.4.0-1, v5:MQTT-4.4.0-1
#[test]
fn qos2_never_sends_the_publish_again_after_pubrel() {
    for &version in VERSIONS {
        let mut h = Harness::new(ClientConfig::default());
        h.connect_with(
            keep_session(version),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        let id = h.publish(message("a", b"two", QoS::ExactlyOnce)).unwrap();
        assert_eq!(
            h.sent(),
            [sent_publish("a", b"two", QoS::ExactlyOnce, id, false)]
        );
        h.advance(30_000);
        assert_eq!(h.sent(), []);
        assert_eq!(h.events(), []);
        h.receive(PubRec::new(id));
        assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(id))]);
        assert_eq!(h.events(), [], "MQTT {version}: complete before PUBCOMP");
        h.advance(30_000);
        assert_eq!(
            h.sent(),
            [],
            "MQTT {version}: re-sent on the same connection"
        );
        assert_eq!(h.client.in_flight(), 1);
        assert_eq!(
            resume(&mut h, version),
            [Packet::PubRel(PubRel::new(id))],
            "MQTT {version}: only the PUBREL goes again"
        );
        h.receive(PubComp::new(id));
        assert_eq!(h.events(), [published(id)]);
        assert_eq!(h.client.outgoing_len(), 0);
    }
}

/// conformance: v311:MQTT-4.6.0-4, v5:MQTT-4.6.0-4
#[test]
fn pubrels_go_out_in_the_order_of_the_pubrecs() {
    for &version in VERSIONS {
        let mut h = Harness::new(ClientConfig::default());
        h.connect_with(
            keep_session(version),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        let ids: Vec<_> = [b"a", b"b", b"c", b"d"]
            .into_iter()
            .map(|payload| h.publish(message("t", payload, QoS::ExactlyOnce)).unwrap())
            .collect();
        assert_eq!(h.sent().len(), 4);
        // Three PUBRECs in one read, against the sending order.
        h.receive_all([2, 0, 3].map(|i| Packet::PubRec(PubRec::new(ids[i]))));
        let expected: Vec<Packet> = [2, 0, 3]
            .iter()
            .map(|&i| Packet::PubRel(PubRel::new(ids[i])))
            .collect();
        assert_eq!(h.sent(), expected, "MQTT {version}");
        // Re-sent on a resumed session: the PUBLISH still unanswered, then the PUBRELs in the
        // same order.
        let mut again = vec![sent_publish("t", b"b", QoS::ExactlyOnce, ids[1], true)];
        again.extend(expected);
        assert_eq!(resume(&mut h, version), again, "MQTT {version}");
    }
}

/// 5.0: a PUBACK or PUBREC of 0x80 or above is the server's answer: the message is reported
/// refused, no PUBREL follows, and it is never sent again, not even on a resumed session. A
/// PUBACK below 0x80 (such as "No matching subscribers") is a success.
///
/// conformance: v5:MQTT-4.4.0-2
#[test]
fn a_refusing_puback_or_pubrec_ends_the_flow_for_good() {
    let version = ProtocolVersion::V5;
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(
        keep_session(version),
        ConnAck::new(false, ConnectReasonCode::Success),
    );
    let one = h.publish(message("t", b"1", QoS::AtLeastOnce)).unwrap();
    let two = h.publish(message("t", b"2", QoS::ExactlyOnce)).unwrap();
    let fine = h.publish(message("t", b"3", QoS::AtLeastOnce)).unwrap();
    assert_eq!(h.sent().len(), 3);

    h.receive(PubAck {
        reason_code: PubAckReasonCode::NotAuthorized,
        ..PubAck::new(one)
    });
    h.receive(PubRec {
        reason_code: PubAckReasonCode::QuotaExceeded,
        ..PubRec::new(two)
    });
    h.receive(PubAck {
        reason_code: PubAckReasonCode::NoMatchingSubscribers,
        ..PubAck::new(fine)
    });
    assert_eq!(
        h.events(),
        [
            Event::Published {
                packet_id: one,
                result: Err(PublishError::Refused(PubAckReasonCode::NotAuthorized)),
            },
            Event::Published {
                packet_id: two,
                result: Err(PublishError::Refused(PubAckReasonCode::QuotaExceeded)),
            },
            published(fine),
        ]
    );
    assert_eq!(h.sent(), [], "no PUBREL after a refusing PUBREC");
    assert_eq!(h.client.outgoing_len(), 0);
    assert_eq!(
        resume(&mut h, version),
        [],
        "a refused message is never re-sent"
    );
}

/// 5.0: PUBCOMP "Packet Identifier not found" (0x92) ends the flow, reported as incomplete.
#[test]
fn pubcomp_identifier_not_found_is_reported_incomplete() {
    let mut h = Harness::connected(ClientConfig::default(), ProtocolVersion::V5);
    let id = h.publish(message("t", b"x", QoS::ExactlyOnce)).unwrap();
    h.sent();
    h.receive(PubRec::new(id));
    assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(id))]);
    h.receive(PubComp {
        reason_code: PubCompReasonCode::PacketIdentifierNotFound,
        ..PubComp::new(id)
    });
    assert_eq!(
        h.events(),
        [Event::Published {
            packet_id: id,
            result: Err(PublishError::Incomplete(
                PubCompReasonCode::PacketIdentifierNotFound
            )),
        }]
    );
    assert_eq!(h.client.outgoing_len(), 0);
    assert_eq!(h.sent(), []);
}

/// 5.0: a QoS 2 message whose Message Expiry Interval passes after it was sent is not
/// dropped: it is re-sent on the resumed session and its exchange completes.
///
/// conformance: v5:MQTT-4.3.3-7
#[test]
fn a_sent_qos2_message_is_not_expired() {
    let version = ProtocolVersion::V5;
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(
        keep_session(version),
        ConnAck::new(false, ConnectReasonCode::Success),
    );
    let mut expiring = message("t", b"soon", QoS::ExactlyOnce);
    expiring.properties.message_expiry_interval = Some(1);
    let id = h.publish(expiring).unwrap();
    let sent = h.sent();
    assert!(
        matches!(&sent[..], [Packet::Publish(p)] if p.properties.message_expiry_interval == Some(1))
    );
    h.advance(5_000);
    let resent = resume(&mut h, version);
    assert!(
        matches!(&resent[..], [Packet::Publish(p)] if p.is_dup() && p.packet_id() == Some(id)),
        "{resent:?}"
    );
    assert_eq!(h.events(), [], "nothing reported expired");
    h.advance(5_000);
    h.receive(PubRec::new(id));
    assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(id))]);
    h.receive(PubComp::new(id));
    assert_eq!(h.events(), [published(id)]);
}

/// A message carrying a Subscription Identifier is refused before anything is queued: a
/// client's PUBLISH never has one.
///
/// conformance: v5:MQTT-3.3.4-6
#[test]
fn a_publish_with_a_subscription_identifier_is_refused() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let mut bad = message("t", b"x", qos);
            bad.properties
                .subscription_identifiers
                .push(SubscriptionId::new(7).unwrap());
            let now = h.now;
            assert!(
                matches!(h.client.publish(now, bad), Err(UsageError::NotSettable(_))),
                "MQTT {version} {qos:?}"
            );
        }
        assert_eq!(h.sent(), []);
        assert_eq!(h.client.outgoing_len(), 0);
    }
}
