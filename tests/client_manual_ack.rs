//! Manual acknowledgement (`ClientConfig::manual_acks`): PUBACK and PUBREC wait for
//! `Client::ack`, still go out in arrival order, and a re-delivery of a message the
//! application holds is not delivered again.

mod common;

use std::num::NonZeroU16;

use common::client::{Harness, incoming, keep_session, session_resumed};
use mqtt_sansio::{
    ClientConfig, ConnAck, ConnectReasonCode, Disconnect, DisconnectReasonCode, Event, Packet,
    PacketId, ProtocolVersion, PubAck, PubComp, PubRec, PubRel, Publish, QoS, UsageError,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;

const MANUAL: ClientConfig = ClientConfig {
    manual_acks: true,
    ..ClientConfig::DEFAULT
};

fn pid(value: u16) -> PacketId {
    common::pid(value)
}

/// The same message as a re-delivery (DUP 1).
fn dup(publish: &Publish) -> Publish {
    let mut publish = publish.clone();
    publish.delivery = publish.delivery.with_dup(true);
    publish
}

/// PUBACK and PUBREC wait for `ack`; the PUBREL → PUBCOMP step stays automatic.
///
/// conformance: v311:MQTT-3.3.4-1, v5:MQTT-3.3.4-1, v5:MQTT-4.3.2-4, v5:MQTT-4.3.3-8,
/// v5:MQTT-4.3.3-11
#[test]
fn acknowledgements_wait_for_the_application() {
    for &version in VERSIONS {
        let mut h = Harness::connected(MANUAL, version);
        let one = incoming("t", b"1", QoS::AtLeastOnce, 1);
        h.receive(one.clone());
        assert_eq!(h.events(), [Event::Message(one)]);
        assert_eq!(h.sent(), [], "MQTT {version}: PUBACK before ack()");
        h.client.ack(pid(1)).unwrap();
        assert_eq!(h.sent(), [Packet::PubAck(PubAck::new(pid(1)))]);

        let two = incoming("t", b"2", QoS::ExactlyOnce, 2);
        h.receive(two.clone());
        assert_eq!(h.events(), [Event::Message(two)]);
        assert_eq!(h.sent(), [], "MQTT {version}: PUBREC before ack()");
        h.client.ack(pid(2)).unwrap();
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(pid(2)))]);
        h.receive(PubRel::new(pid(2)));
        assert_eq!(h.sent(), [Packet::PubComp(PubComp::new(pid(2)))]);

        // QoS 0 needs nothing.
        h.receive(incoming("t", b"0", QoS::AtMostOnce, 1));
        assert_eq!(h.events().len(), 1);
        assert_eq!(h.sent(), []);
    }
}

/// Acknowledgements given out of order are held back and go out in the order the messages
/// arrived.
///
/// conformance: v311:MQTT-4.6.0-2, v5:MQTT-4.6.0-2, v311:MQTT-4.6.0-3, v5:MQTT-4.6.0-3
#[test]
fn out_of_order_acks_go_out_in_arrival_order() {
    for &version in VERSIONS {
        let mut h = Harness::connected(MANUAL, version);
        let arrivals = [
            (7, QoS::AtLeastOnce),
            (3, QoS::ExactlyOnce),
            (9, QoS::AtLeastOnce),
            (1, QoS::ExactlyOnce),
        ];
        h.receive_all(arrivals.map(|(id, qos)| Packet::Publish(incoming("t", b"m", qos, id))));
        assert_eq!(h.events().len(), 4);
        let ack = |id: u16, qos: QoS| match qos {
            QoS::ExactlyOnce => Packet::PubRec(PubRec::new(pid(id))),
            _ => Packet::PubAck(PubAck::new(pid(id))),
        };
        h.client.ack(pid(9)).unwrap();
        h.client.ack(pid(3)).unwrap();
        assert_eq!(
            h.sent(),
            [],
            "MQTT {version}: the first message is not acked yet"
        );
        h.client.ack(pid(7)).unwrap();
        assert_eq!(
            h.sent(),
            [
                ack(7, QoS::AtLeastOnce),
                ack(3, QoS::ExactlyOnce),
                ack(9, QoS::AtLeastOnce)
            ],
            "MQTT {version}"
        );
        h.client.ack(pid(1)).unwrap();
        assert_eq!(h.sent(), [ack(1, QoS::ExactlyOnce)]);
    }
}

/// `ack` of an identifier that awaits no acknowledgement is refused and sends nothing: never
/// received, already acknowledged, or with manual acknowledgement off.
#[test]
fn ack_of_an_identifier_awaiting_none_is_refused() {
    for &version in VERSIONS {
        let mut h = Harness::connected(MANUAL, version);
        assert_eq!(h.client.ack(pid(4)), Err(UsageError::NotAwaitingAck(4)));
        h.receive(incoming("t", b"1", QoS::AtLeastOnce, 4));
        h.client.ack(pid(4)).unwrap();
        assert_eq!(h.client.ack(pid(4)), Err(UsageError::NotAwaitingAck(4)));
        assert_eq!(h.sent(), [Packet::PubAck(PubAck::new(pid(4)))]);
        // A QoS 2 message past its PUBREC awaits nothing from the application.
        h.receive(incoming("t", b"2", QoS::ExactlyOnce, 5));
        h.client.ack(pid(5)).unwrap();
        assert_eq!(h.client.ack(pid(5)), Err(UsageError::NotAwaitingAck(5)));
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(pid(5)))]);

        let mut auto = Harness::connected(ClientConfig::default(), version);
        auto.receive(incoming("t", b"1", QoS::AtLeastOnce, 6));
        assert_eq!(auto.client.ack(pid(6)), Err(UsageError::NotAwaitingAck(6)));
        assert_eq!(auto.sent(), [Packet::PubAck(PubAck::new(pid(6)))]);
    }
}

/// A re-delivery (DUP 1) of a message the application has not acknowledged yet is neither
/// delivered again nor answered; the one `ack` answers it once.
///
/// conformance: v5:MQTT-4.3.3-10, v311:MQTT-4.3.3-2
#[test]
fn a_redelivery_of_an_unacknowledged_message_is_not_delivered_twice() {
    for &version in VERSIONS {
        let mut h = Harness::connected(MANUAL, version);
        for (id, qos) in [(1, QoS::AtLeastOnce), (2, QoS::ExactlyOnce)] {
            let message = incoming("t", b"m", qos, id);
            h.receive(message.clone());
            h.receive(dup(&message));
            assert_eq!(
                h.events(),
                [Event::Message(message)],
                "MQTT {version} {qos:?}"
            );
            assert_eq!(h.sent(), []);
            h.client.ack(pid(id)).unwrap();
            let answer = match qos {
                QoS::ExactlyOnce => Packet::PubRec(PubRec::new(pid(id))),
                _ => Packet::PubAck(PubAck::new(pid(id))),
            };
            assert_eq!(h.sent(), [answer]);
        }
    }
}

/// On a resumed session, the server's re-delivery of a message the application still holds
/// is not delivered again, and the `ack` that follows answers it on the new connection.
///
/// conformance: v311:MQTT-4.4.0-1, v5:MQTT-4.4.0-1, v5:MQTT-4.3.3-10, v311:MQTT-4.3.3-2
#[test]
fn a_held_message_redelivered_on_a_resumed_session_is_not_delivered_twice() {
    for &version in VERSIONS {
        let mut h = Harness::new(MANUAL);
        h.connect_with(
            keep_session(version),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        let one = incoming("t", b"1", QoS::AtLeastOnce, 1);
        let two = incoming("t", b"2", QoS::ExactlyOnce, 2);
        h.receive(one.clone());
        h.receive(two.clone());
        assert_eq!(h.events().len(), 2);
        h.drop_transport();
        h.events();
        h.connect_with(keep_session(version), session_resumed(version));
        assert_eq!(h.sent(), []);
        h.receive(dup(&one));
        h.receive(dup(&two));
        assert_eq!(h.events(), [], "MQTT {version}: delivered twice");
        assert_eq!(h.sent(), []);
        h.client.ack(pid(1)).unwrap();
        h.client.ack(pid(2)).unwrap();
        assert_eq!(
            h.sent(),
            [
                Packet::PubAck(PubAck::new(pid(1))),
                Packet::PubRec(PubRec::new(pid(2)))
            ],
            "MQTT {version}"
        );
        h.receive(PubRel::new(pid(2)));
        assert_eq!(h.sent(), [Packet::PubComp(PubComp::new(pid(2)))]);
    }
}

/// With manual acknowledgement, unacknowledged QoS 1 messages count against our Receive
/// Maximum too (§3.3.4 and §4.9 of 5.0: "not sent a PUBACK or PUBCOMP"); one too many ends
/// the connection, with DISCONNECT 0x93 in 5.0.
#[test]
fn unacknowledged_qos1_messages_count_against_our_receive_maximum() {
    for &version in VERSIONS {
        let config = ClientConfig {
            receive_maximum: NonZeroU16::new(2).unwrap(),
            ..MANUAL
        };
        let mut h = Harness::connected(config, version);
        h.receive(incoming("t", b"1", QoS::AtLeastOnce, 1));
        h.receive(incoming("t", b"2", QoS::AtLeastOnce, 2));
        h.client.ack(pid(1)).unwrap();
        assert_eq!(h.sent(), [Packet::PubAck(PubAck::new(pid(1)))]);
        h.receive(incoming("t", b"3", QoS::AtLeastOnce, 3));
        assert!(h.client.is_connected(), "MQTT {version}: the ack made room");
        assert_eq!(h.events().len(), 3);
        h.receive(incoming("t", b"4", QoS::AtLeastOnce, 4));
        let farewell: Vec<Packet> = if version.is_v5() {
            vec![Packet::Disconnect(Disconnect::new(
                DisconnectReasonCode::ReceiveMaximumExceeded,
            ))]
        } else {
            vec![]
        };
        assert_eq!(h.sent(), farewell, "MQTT {version}");
        assert!(matches!(&h.events()[..], [Event::Disconnected(_)]));
    }
}

/// An acknowledgement the application gave but the client still holds back (an earlier
/// message is unacknowledged) is not lost with the connection, and once the PUBACK went out
/// its identifier starts a new message: the server may reuse it at once.
///
/// Scenario: QoS 1 messages 1 and 2 arrive, the application acknowledges 2 (held behind 1),
/// the connection drops, the server re-sends both with DUP on the resumed session, the
/// application acknowledges 1, so PUBACK 1 and PUBACK 2 go out; the server then sends a new
/// message with identifier 2, before the application got round to the re-delivery of 2. The
/// new message must be delivered; today it is taken for the re-delivery still awaiting its
/// ack and swallowed, and the application's late ack of the re-delivery then acknowledges
/// it: the message is lost.
///
/// conformance: v5:MQTT-4.3.2-5, v311:MQTT-4.3.2-2
#[test]
fn an_identifier_acked_before_a_reconnect_is_free_for_a_new_message_after_it() {
    for &version in VERSIONS {
        let mut h = Harness::new(MANUAL);
        h.connect_with(
            keep_session(version),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        let one = incoming("t", b"1", QoS::AtLeastOnce, 1);
        let two = incoming("t", b"2", QoS::AtLeastOnce, 2);
        h.receive(one.clone());
        h.receive(two.clone());
        assert_eq!(h.events().len(), 2);
        h.client.ack(pid(2)).unwrap();
        assert_eq!(h.sent(), []);
        h.drop_transport();
        h.events();
        h.connect_with(keep_session(version), session_resumed(version));
        h.receive(dup(&one));
        h.receive(dup(&two));
        // Message 2 may be delivered again (QoS 1 is at least once); message 1 may not be,
        // since the application still holds it.
        let redelivered = h.events();
        assert!(
            redelivered.iter().all(|e| *e == Event::Message(dup(&two))),
            "MQTT {version}: {redelivered:?}"
        );
        h.client.ack(pid(1)).unwrap();
        assert_eq!(
            h.sent(),
            [
                Packet::PubAck(PubAck::new(pid(1))),
                Packet::PubAck(PubAck::new(pid(2)))
            ],
            "MQTT {version}"
        );
        // The server reuses identifier 2 for a new message.
        let three = incoming("t", b"3", QoS::AtLeastOnce, 2);
        h.receive(three.clone());
        assert_eq!(
            h.events(),
            [Event::Message(three)],
            "MQTT {version}: a new message was swallowed"
        );
        // The application acknowledges what it holds: message 3 (and, late, the
        // re-delivery of message 2, which may answer nothing): one PUBACK for message 3.
        h.client.ack(pid(2)).unwrap();
        let _ = h.client.ack(pid(2));
        assert_eq!(h.sent(), [Packet::PubAck(PubAck::new(pid(2)))]);
    }
}
