//! The server's Receive Maximum as the client's send quota: QoS 1 and 2 PUBLISH packets
//! beyond it wait, in order, for a PUBACK, a PUBCOMP or a refusing PUBREC; everything else
//! keeps flowing.
#![cfg(feature = "v5")]

mod common;

use std::num::NonZeroU16;

use common::client::{Harness, incoming, keep_session, message, published, sent_publish};
use mqtt_sansio::{
    ClientConfig, ConnAck, ConnectReasonCode, Event, Packet, PacketId, PingReq, ProtocolVersion,
    PubAck, PubAckReasonCode, PubComp, PubRec, PubRel, PublishError, QoS,
};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// A 5.0 connection to a server with this Receive Maximum.
fn with_quota(receive_maximum: u16) -> Harness {
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(keep_session(V5), quota_connack(receive_maximum, false));
    h
}

fn quota_connack(receive_maximum: u16, session_present: bool) -> ConnAck {
    let mut connack = ConnAck::new(session_present, ConnectReasonCode::Success);
    connack.properties.receive_maximum = NonZeroU16::new(receive_maximum);
    connack
}

/// The identifiers of the PUBLISH packets among `sent`, with their DUP flags.
fn publishes(sent: &[Packet]) -> Vec<(PacketId, bool)> {
    sent.iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some((p.packet_id()?, p.is_dup())),
            _ => None,
        })
        .collect()
}

/// With Receive Maximum 2, two QoS 1/2 PUBLISH packets go out; each further one waits until
/// a PUBACK or PUBCOMP frees a slot, and they leave in the order they were published.
///
/// conformance: v5:MQTT-3.3.4-7, v5:MQTT-4.9.0-1, v5:MQTT-4.9.0-2
#[test]
fn publishes_beyond_the_servers_receive_maximum_wait_in_order() {
    let mut h = with_quota(2);
    let ids: Vec<PacketId> = [
        QoS::AtLeastOnce,
        QoS::ExactlyOnce,
        QoS::AtLeastOnce,
        QoS::ExactlyOnce,
        QoS::AtLeastOnce,
    ]
    .into_iter()
    .map(|qos| h.publish(message("t", b"m", qos)).unwrap())
    .collect();
    assert_eq!(
        publishes(&h.sent()),
        [(ids[0], false), (ids[1], false)],
        "the quota starts at the server's Receive Maximum"
    );
    assert_eq!((h.client.in_flight(), h.client.outgoing_len()), (2, 5));
    h.receive(PubAck::new(ids[0]));
    assert_eq!(publishes(&h.sent()), [(ids[2], false)]);
    h.receive(PubRec::new(ids[1]));
    assert_eq!(
        h.sent(),
        [Packet::PubRel(PubRel::new(ids[1]))],
        "a PUBREC below 0x80 frees nothing"
    );
    h.receive(PubComp::new(ids[1]));
    assert_eq!(publishes(&h.sent()), [(ids[3], false)]);
    h.receive(PubAck::new(ids[2]));
    assert_eq!(publishes(&h.sent()), [(ids[4], false)]);
    assert_eq!(h.client.in_flight(), 2);
    assert_eq!(
        h.events(),
        [published(ids[0]), published(ids[1]), published(ids[2])]
    );
}

/// A PUBREC of 0x80 or above ends the flow and frees its slot; a PUBACK of 0x80 or above
/// does too.
///
/// conformance: v5:MQTT-3.3.4-7, v5:MQTT-4.9.0-2, v5:MQTT-4.4.0-2
#[test]
fn a_refusing_pubrec_or_puback_frees_a_slot() {
    let mut h = with_quota(1);
    let a = h.publish(message("t", b"a", QoS::ExactlyOnce)).unwrap();
    let b = h.publish(message("t", b"b", QoS::AtLeastOnce)).unwrap();
    let c = h.publish(message("t", b"c", QoS::AtLeastOnce)).unwrap();
    assert_eq!(publishes(&h.sent()), [(a, false)]);
    h.receive(PubRec {
        reason_code: PubAckReasonCode::UnspecifiedError,
        ..PubRec::new(a)
    });
    assert_eq!(
        h.sent(),
        [sent_publish("t", b"b", QoS::AtLeastOnce, b, false)],
        "no PUBREL, and the next message"
    );
    h.receive(PubAck {
        reason_code: PubAckReasonCode::NotAuthorized,
        ..PubAck::new(b)
    });
    assert_eq!(publishes(&h.sent()), [(c, false)]);
    let events = h.events();
    assert!(matches!(
        &events[..],
        [
            Event::Published {
                result: Err(PublishError::Refused(_)),
                ..
            },
            Event::Published {
                result: Err(PublishError::Refused(_)),
                ..
            }
        ]
    ));
}

/// A QoS 2 flow holds its slot through PUBREL until PUBCOMP.
///
/// conformance: v5:MQTT-3.3.4-7, v5:MQTT-4.9.0-2
#[test]
fn a_pubrel_flow_counts_against_the_quota_until_pubcomp() {
    let mut h = with_quota(1);
    let a = h.publish(message("t", b"a", QoS::ExactlyOnce)).unwrap();
    h.sent();
    h.receive(PubRec::new(a));
    assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(a))]);
    let b = h.publish(message("t", b"b", QoS::AtLeastOnce)).unwrap();
    assert_eq!(h.sent(), []);
    assert_eq!(h.client.in_flight(), 1);
    h.receive(PubComp::new(a));
    assert_eq!(publishes(&h.sent()), [(b, false)]);
}

/// With the quota used up, QoS 0 messages, SUBSCRIBE, UNSUBSCRIBE, PINGREQ and the
/// acknowledgements of the server's messages still go out at once.
///
/// conformance: v5:MQTT-3.3.4-8, v5:MQTT-4.9.0-3
#[test]
fn everything_else_goes_out_while_the_quota_is_zero() {
    let mut h = with_quota(1);
    let a = h.publish(message("t", b"a", QoS::AtLeastOnce)).unwrap();
    let b = h.publish(message("t", b"b", QoS::AtLeastOnce)).unwrap();
    assert_eq!(publishes(&h.sent()), [(a, false)]);

    assert_eq!(h.publish(message("t", b"zero", QoS::AtMostOnce)), None);
    assert_eq!(
        h.sent(),
        [Packet::Publish(message("t", b"zero", QoS::AtMostOnce))]
    );
    let s = h.subscribe("s/#");
    assert!(matches!(&h.sent()[..], [Packet::Subscribe(x)] if x.packet_id == s));
    let u = h.unsubscribe("s/#");
    assert!(matches!(&h.sent()[..], [Packet::Unsubscribe(x)] if x.packet_id == u));
    h.receive(incoming("in", b"1", QoS::AtLeastOnce, 40));
    assert_eq!(h.sent(), [Packet::PubAck(PubAck::new(common::pid(40)))]);
    h.receive(incoming("in", b"2", QoS::ExactlyOnce, 41));
    assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(common::pid(41)))]);
    h.receive(PubRel::new(common::pid(41)));
    assert_eq!(h.sent(), [Packet::PubComp(PubComp::new(common::pid(41)))]);
    assert!(h.advance_to_deadline());
    assert_eq!(h.sent(), [Packet::PingReq(PingReq)]);
    assert_eq!(h.client.in_flight(), 1);

    h.receive(PubAck::new(a));
    assert_eq!(publishes(&h.sent()), [(b, false)]);
}

/// A resumed session re-sends within the new connection's quota: the PUBLISH packets beyond
/// it wait (still in their original order, still DUP) for slots to free up.
///
/// conformance: v5:MQTT-4.9.0-1, v5:MQTT-3.3.4-7, v5:MQTT-4.4.0-1, v5:MQTT-4.6.0-1,
/// v5:MQTT-3.3.1-1
#[test]
fn a_resumed_session_resends_within_the_new_quota() {
    let mut h = with_quota(10);
    let ids: Vec<PacketId> = (0..4)
        .map(|_| h.publish(message("t", b"m", QoS::AtLeastOnce)).unwrap())
        .collect();
    assert_eq!(h.sent().len(), 4);
    h.drop_transport();
    h.events();
    h.connect_with(keep_session(V5), quota_connack(2, true));
    assert_eq!(publishes(&h.sent()), [(ids[0], true), (ids[1], true)]);
    let later = h.publish(message("t", b"new", QoS::AtLeastOnce)).unwrap();
    assert_eq!(h.sent(), []);
    h.receive(PubAck::new(ids[1]));
    assert_eq!(publishes(&h.sent()), [(ids[2], true)]);
    h.receive(PubAck::new(ids[0]));
    assert_eq!(publishes(&h.sent()), [(ids[3], true)]);
    h.receive(PubAck::new(ids[2]));
    assert_eq!(publishes(&h.sent()), [(later, false)]);
}

/// A server that states no Receive Maximum (any 3.x server, or a 5.0 one without the
/// property) allows 65,535: every message the client holds goes out at once.
///
/// conformance: v5:MQTT-4.9.0-1
#[test]
fn without_a_receive_maximum_every_message_goes_out_at_once() {
    for &version in ProtocolVersion::ALL {
        let config = ClientConfig {
            max_outgoing: 100,
            ..ClientConfig::default()
        };
        let mut h = Harness::connected(config, version);
        for n in 0..100 {
            let qos = if n % 2 == 0 {
                QoS::AtLeastOnce
            } else {
                QoS::ExactlyOnce
            };
            h.publish(message("t", b"m", qos));
        }
        assert_eq!(publishes(&h.sent()).len(), 100, "MQTT {version}");
        assert_eq!(h.client.in_flight(), 100);
    }
}
