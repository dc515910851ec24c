//! Messages from the server at QoS 0, 1 and 2: how each is delivered and acknowledged, in
//! what order, what a re-delivery does, and the client's own Receive Maximum.
#![cfg(feature = "v5")]

mod common;

use std::num::NonZeroU16;

use common::client::{Harness, incoming};
use mqtt_sansio::{
    ClientConfig, Disconnect, DisconnectReason, DisconnectReasonCode, Event, Packet, PeerError,
    ProtocolError, ProtocolVersion, PubAck, PubComp, PubRec, PubRel, Publish, QoS,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;

fn pid(value: u16) -> mqtt_sansio::PacketId {
    common::pid(value)
}

/// The same message as a re-delivery (DUP 1).
fn dup(publish: &Publish) -> Publish {
    let mut publish = publish.clone();
    publish.delivery = publish.delivery.with_dup(true);
    publish
}

/// conformance: v311:MQTT-3.3.4-1, v5:MQTT-3.3.4-1, v5:MQTT-4.3.2-4, v5:MQTT-4.3.3-8,
/// v311:MQTT-4.3.2-2, v311:MQTT-4.3.3-2
#[test]
fn each_message_is_delivered_and_answered_as_its_qos_requires() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        let zero = incoming("t/0", b"zero", QoS::AtMostOnce, 1);
        h.receive(zero.clone());
        assert_eq!(h.events(), [Event::Message(zero)]);
        assert_eq!(h.sent(), [], "MQTT {version}: nothing answers QoS 0");

        let one = incoming("t/1", b"one", QoS::AtLeastOnce, 11);
        h.receive(one.clone());
        assert_eq!(h.events(), [Event::Message(one)]);
        assert_eq!(h.sent(), [Packet::PubAck(PubAck::new(pid(11)))]);

        let two = incoming("t/2", b"two", QoS::ExactlyOnce, 12);
        h.receive(two.clone());
        assert_eq!(h.events(), [Event::Message(two)]);
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(pid(12)))]);
    }
}

/// Acknowledgements do not wait for the application to take its messages.
///
/// conformance: v311:MQTT-4.5.0-2, v5:MQTT-4.5.0-2
#[test]
fn messages_are_acknowledged_whether_or_not_the_application_reads_them() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        h.receive(incoming("t", b"1", QoS::AtLeastOnce, 1));
        h.receive(incoming("t", b"2", QoS::ExactlyOnce, 2));
        assert_eq!(
            h.sent(),
            [
                Packet::PubAck(PubAck::new(pid(1))),
                Packet::PubRec(PubRec::new(pid(2)))
            ]
        );
        h.receive(PubRel::new(pid(2)));
        assert_eq!(h.sent(), [Packet::PubComp(PubComp::new(pid(2)))]);
        // The events were there all along.
        assert_eq!(h.events().len(), 2);
    }
}

/// After its PUBACK, a QoS 1 identifier is free: a PUBLISH reusing it is a new message,
/// delivered and acknowledged again, whatever its DUP flag.
///
/// conformance: v5:MQTT-4.3.2-4, v5:MQTT-4.3.2-5, v311:MQTT-4.3.2-2
#[test]
fn a_qos1_identifier_reused_after_puback_is_a_new_message() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        let first = incoming("t", b"first", QoS::AtLeastOnce, 5);
        h.receive(first.clone());
        assert_eq!(h.events(), [Event::Message(first.clone())]);
        assert_eq!(h.sent(), [Packet::PubAck(PubAck::new(pid(5)))]);
        for again in [dup(&first), incoming("t", b"second", QoS::AtLeastOnce, 5)] {
            h.receive(again.clone());
            assert_eq!(h.events(), [Event::Message(again)], "MQTT {version}");
            assert_eq!(h.sent(), [Packet::PubAck(PubAck::new(pid(5)))]);
        }
    }
}

/// A QoS 2 message is delivered once: until PUBREL, every PUBLISH with its identifier (DUP or
/// not) is answered with PUBREC and not delivered; PUBREL gets PUBCOMP; after it, the
/// identifier starts a new message.
///
/// conformance: v5:MQTT-4.3.3-8, v5:MQTT-4.3.3-10, v5:MQTT-4.3.3-11, v5:MQTT-4.3.3-12,
/// v311:MQTT-4.3.3-2
#[test]
fn a_qos2_message_is_delivered_exactly_once() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        let message = incoming("t", b"once", QoS::ExactlyOnce, 9);
        h.receive(message.clone());
        assert_eq!(h.events(), [Event::Message(message.clone())]);
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(pid(9)))]);
        for repeat in [dup(&message), message.clone()] {
            h.receive(repeat);
            assert_eq!(h.events(), [], "MQTT {version}: delivered twice");
            assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(pid(9)))]);
        }
        h.receive(PubRel::new(pid(9)));
        assert_eq!(h.sent(), [Packet::PubComp(PubComp::new(pid(9)))]);
        assert_eq!(h.events(), []);
        let next = incoming("t", b"next", QoS::ExactlyOnce, 9);
        h.receive(next.clone());
        assert_eq!(h.events(), [Event::Message(next)], "MQTT {version}");
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(pid(9)))]);
    }
}

/// conformance: v311:MQTT-4.6.0-2, v5:MQTT-4.6.0-2, v311:MQTT-4.6.0-3, v5:MQTT-4.6.0-3
#[test]
fn pubacks_and_pubrecs_go_out_in_arrival_order() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        let arrivals = [
            (30, QoS::AtLeastOnce),
            (10, QoS::ExactlyOnce),
            (20, QoS::AtLeastOnce),
            (5, QoS::ExactlyOnce),
            (1, QoS::AtLeastOnce),
            (7, QoS::AtMostOnce),
            (2, QoS::ExactlyOnce),
        ];
        h.receive_all(arrivals.map(|(id, qos)| Packet::Publish(incoming("t", b"m", qos, id))));
        let expected: Vec<Packet> = arrivals
            .iter()
            .filter_map(|&(id, qos)| match qos {
                QoS::AtMostOnce => None,
                QoS::AtLeastOnce => Some(Packet::PubAck(PubAck::new(pid(id)))),
                QoS::ExactlyOnce => Some(Packet::PubRec(PubRec::new(pid(id)))),
            })
            .collect();
        assert_eq!(h.sent(), expected, "MQTT {version}");
        assert_eq!(h.events().len(), arrivals.len());
    }
}

/// The client's Receive Maximum bounds the QoS 2 messages the server may leave without
/// PUBREL (QoS 1 ones are acknowledged at once). One more ends the connection: a 5.0 client
/// sends DISCONNECT "Receive Maximum exceeded" (0x93) first, a 3.x client just closes. A
/// re-delivery of a message already counted does not count again. §3.3.4 and §4.9 of 5.0
/// describe the 0x93 DISCONNECT without a numbered statement.
#[test]
fn more_qos2_messages_than_our_receive_maximum_end_the_connection() {
    for &version in VERSIONS {
        let config = ClientConfig {
            receive_maximum: NonZeroU16::new(2).unwrap(),
            ..ClientConfig::default()
        };
        let mut h = Harness::new(config);
        let connect = h.connect(mqtt_sansio::ConnectOptions::new(version, "client").unwrap());
        let Packet::Connect(connect) = connect else {
            panic!("{connect:?}")
        };
        let announced = version.is_v5().then(|| NonZeroU16::new(2).unwrap());
        assert_eq!(connect.properties.receive_maximum, announced);
        h.receive(mqtt_sansio::ConnAck::new(
            false,
            mqtt_sansio::ConnectReasonCode::Success,
        ));
        h.events();

        // QoS 1 messages are acknowledged at once and never count.
        for id in 100..110 {
            h.receive(incoming("t", b"q1", QoS::AtLeastOnce, id));
        }
        assert_eq!(h.sent().len(), 10);
        assert_eq!(h.events().len(), 10);

        let first = incoming("t", b"1", QoS::ExactlyOnce, 1);
        h.receive(first.clone());
        h.receive(incoming("t", b"2", QoS::ExactlyOnce, 2));
        h.receive(dup(&first));
        assert_eq!(h.events().len(), 2);
        assert_eq!(h.sent().len(), 3);
        assert!(h.client.is_connected());

        h.receive(incoming("t", b"3", QoS::ExactlyOnce, 3));
        let farewell: Vec<Packet> = if version.is_v5() {
            vec![Packet::Disconnect(Disconnect::new(
                DisconnectReasonCode::ReceiveMaximumExceeded,
            ))]
        } else {
            vec![]
        };
        assert_eq!(h.sent(), farewell, "MQTT {version}");
        let events = h.events();
        let exceeded = DisconnectReason::ProtocolError(PeerError::Protocol(
            ProtocolError::ReceiveMaximumExceeded,
        ));
        assert!(
            matches!(&events[..], [Event::Disconnected(d)] if d.reason == exceeded),
            "MQTT {version}: the third message is not delivered: {events:?}"
        );
    }
}

/// A QoS 2 flow completed with PUBCOMP leaves the count of unreleased messages, so the next
/// one fits under our Receive Maximum.
#[test]
fn a_completed_qos2_flow_makes_room_under_our_receive_maximum() {
    for &version in VERSIONS {
        let config = ClientConfig {
            receive_maximum: NonZeroU16::new(2).unwrap(),
            ..ClientConfig::default()
        };
        let mut h = Harness::connected(config, version);
        for id in 1..=40u16 {
            h.receive(incoming("t", b"m", QoS::ExactlyOnce, id));
            if id >= 2 {
                h.receive(PubRel::new(pid(id - 1)));
            }
        }
        assert!(h.client.is_connected(), "MQTT {version}");
        assert_eq!(h.events().len(), 40);
    }
}

/// 5.0: a QoS 2 message whose Message Expiry Interval has passed still completes its
/// exchange: a re-delivery gets PUBREC, the PUBREL gets PUBCOMP.
///
/// conformance: v5:MQTT-4.3.3-13
#[test]
fn an_expired_qos2_message_still_completes_its_exchange() {
    let mut h = Harness::connected(ClientConfig::default(), ProtocolVersion::V5);
    let mut message = incoming("t", b"brief", QoS::ExactlyOnce, 3);
    message.properties.message_expiry_interval = Some(1);
    h.receive(message.clone());
    assert_eq!(h.events(), [Event::Message(message.clone())]);
    assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(pid(3)))]);
    h.advance(10_000);
    h.receive(dup(&message));
    assert_eq!(h.events(), []);
    assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(pid(3)))]);
    h.receive(PubRel::new(pid(3)));
    assert_eq!(h.sent(), [Packet::PubComp(PubComp::new(pid(3)))]);
}
