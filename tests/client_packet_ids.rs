//! The client's Packet Identifiers: never 0, never two flows with one identifier, held until
//! the final acknowledgement, independent of the server's, and echoed by every
//! acknowledgement; a full table refuses new flows.

mod common;

use std::collections::BTreeMap;

use common::client::{Harness, incoming, message, published};
use mqtt_sansio::{
    ClientConfig, Event, Packet, PacketId, ProtocolVersion, PubAck, PubComp, PubRec, PubRel, QoS,
    UsageError,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;

/// What the client holds an outgoing identifier for, as the scripted server sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Qos1,
    Qos2,
    /// A QoS 2 flow past PUBREC: PUBREL sent, PUBCOMP awaited.
    Released,
    Subscribe,
    Unsubscribe,
}

/// The identifier of the one packet the client just wrote, which must start a new flow.
fn new_flow_id(h: &mut Harness) -> PacketId {
    let sent = h.sent();
    let id = match &sent[..] {
        [Packet::Publish(publish)] => {
            assert!(!publish.is_dup(), "a new message has DUP 0: {publish:?}");
            publish.packet_id().expect("QoS > 0")
        }
        [Packet::Subscribe(subscribe)] => subscribe.packet_id,
        [Packet::Unsubscribe(unsubscribe)] => unsubscribe.packet_id,
        other => panic!("expected one new packet, got {other:?}"),
    };
    assert_ne!(id.get(), 0);
    id
}

/// conformance: v311:MQTT-2.3.1-2, v5:MQTT-2.2.1-3, v311:MQTT-2.3.1-3, v5:MQTT-4.3.2-1,
/// v5:MQTT-4.3.3-1
#[test]
fn identifiers_are_never_zero_and_never_shared_by_two_flows_in_flight() {
    // Enough allocations to wrap the 16-bit identifier space once, with PUBLISH (both QoS),
    // SUBSCRIBE and UNSUBSCRIBE flows held in flight in a pseudo-random mix.
    const ALLOCATIONS: u32 = 66_000;
    for &version in VERSIONS {
        let config = ClientConfig {
            max_outgoing: 6,
            ..ClientConfig::default()
        };
        let mut h = Harness::connected(config, version);
        let mut held: BTreeMap<u16, Flow> = BTreeMap::new();
        let mut seen_high = false;
        let mut rng: u32 = 0x2545_f491;
        for _ in 0..ALLOCATIONS {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            // Complete flows until there is room for a new one.
            while h.client.outgoing_len() == 6 {
                let keys: Vec<u16> = held.keys().copied().collect();
                let pick = keys[(rng as usize) % keys.len()];
                let id = PacketId::new(pick).unwrap();
                rng = rng.rotate_left(7).wrapping_add(1);
                match held[&pick] {
                    Flow::Qos1 => {
                        h.receive(PubAck::new(id));
                        held.remove(&pick);
                        assert_eq!(h.events(), [published(id)]);
                    }
                    Flow::Qos2 => {
                        h.receive(PubRec::new(id));
                        assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(id))]);
                        held.insert(pick, Flow::Released);
                    }
                    Flow::Released => {
                        h.receive(PubComp::new(id));
                        held.remove(&pick);
                        assert_eq!(h.events(), [published(id)]);
                    }
                    Flow::Subscribe => {
                        h.receive_suback(id);
                        held.remove(&pick);
                        assert!(
                            matches!(&h.events()[..], [Event::Subscribed(s)] if s.packet_id == id)
                        );
                    }
                    Flow::Unsubscribe => {
                        h.receive_unsuback(id);
                        held.remove(&pick);
                        assert!(
                            matches!(&h.events()[..], [Event::Unsubscribed(u)] if u.packet_id == id)
                        );
                    }
                }
            }
            let (returned, flow) = match rng % 4 {
                0 => (
                    h.publish(message("t", b"1", QoS::AtLeastOnce)).unwrap(),
                    Flow::Qos1,
                ),
                1 => (
                    h.publish(message("t", b"2", QoS::ExactlyOnce)).unwrap(),
                    Flow::Qos2,
                ),
                2 => (h.subscribe("t/+"), Flow::Subscribe),
                _ => (h.unsubscribe("t/+"), Flow::Unsubscribe),
            };
            let id = new_flow_id(&mut h);
            assert_eq!(id, returned, "MQTT {version}");
            assert!(
                held.insert(id.get(), flow).is_none(),
                "MQTT {version}: identifier {id} handed out while in flight: {held:?}"
            );
            seen_high |= id.get() > 65_000;
        }
        assert!(
            seen_high,
            "MQTT {version}: the identifier space was not walked"
        );
    }
}

/// conformance: v311:MQTT-2.3.1-3, v311:MQTT-2.3.1-2, v5:MQTT-2.2.1-3, v5:MQTT-4.3.3-5
#[test]
fn an_identifier_is_held_until_the_final_acknowledgement() {
    for &version in VERSIONS {
        // One slot: a new flow is possible exactly when the last identifier was freed.
        let config = ClientConfig {
            max_outgoing: 1,
            ..ClientConfig::default()
        };
        let mut h = Harness::connected(config, version);
        let next = |h: &mut Harness| {
            h.client
                .publish(h.now, message("t", b"n", QoS::AtLeastOnce))
        };

        // QoS 1: freed by PUBACK.
        let a = h.publish(message("t", b"a", QoS::AtLeastOnce)).unwrap();
        h.sent();
        assert!(matches!(next(&mut h), Err(UsageError::QueueFull(_))));
        h.receive(PubAck::new(a));
        h.events();
        let b = next(&mut h).unwrap().unwrap();
        assert_ne!(a, b);
        h.sent();
        h.receive(PubAck::new(b));
        h.events();

        // QoS 2: still held after PUBREC, freed by PUBCOMP.
        let c = h.publish(message("t", b"c", QoS::ExactlyOnce)).unwrap();
        h.sent();
        assert!(matches!(next(&mut h), Err(UsageError::QueueFull(_))));
        h.receive(PubRec::new(c));
        assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(c))]);
        assert!(
            matches!(next(&mut h), Err(UsageError::QueueFull(_))),
            "MQTT {version}: identifier freed at PUBREC"
        );
        h.receive(PubComp::new(c));
        assert_eq!(h.events(), [published(c)]);

        // SUBSCRIBE: freed by SUBACK.
        let s = h.subscribe("s/#");
        h.sent();
        assert!(matches!(next(&mut h), Err(UsageError::QueueFull(_))));
        h.receive_suback(s);
        h.events();

        // UNSUBSCRIBE: freed by UNSUBACK.
        let u = h.unsubscribe("s/#");
        h.sent();
        assert!(matches!(next(&mut h), Err(UsageError::QueueFull(_))));
        h.receive_unsuback(u);
        h.events();
        assert!(next(&mut h).unwrap().is_some(), "MQTT {version}");
    }
}

/// conformance: v311:MQTT-2.3.1-2, v311:MQTT-2.3.1-3, v5:MQTT-2.2.1-3
#[test]
fn a_qos2_identifier_awaiting_pubcomp_is_not_handed_out_again() {
    for &version in VERSIONS {
        let config = ClientConfig {
            max_outgoing: 2,
            ..ClientConfig::default()
        };
        let mut h = Harness::connected(config, version);
        let held = h.publish(message("t", b"held", QoS::ExactlyOnce)).unwrap();
        h.sent();
        h.receive(PubRec::new(held));
        assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(held))]);
        // Every other identifier, more than once over.
        for _ in 0..66_000 {
            let id = h.publish(message("t", b"x", QoS::AtLeastOnce)).unwrap();
            assert_ne!(
                id, held,
                "MQTT {version}: {held} reused while awaiting PUBCOMP"
            );
            assert_eq!(new_flow_id(&mut h), id);
            h.receive(PubAck::new(id));
            assert_eq!(h.events(), [published(id)]);
        }
        h.receive(PubComp::new(held));
        assert_eq!(h.events(), [published(held)]);
    }
}

/// A full outgoing table refuses every new identifier-holding packet, and changes nothing.
///
/// conformance: v311:MQTT-2.3.1-2, v5:MQTT-2.2.1-3
#[test]
fn a_full_outgoing_table_refuses_with_queue_full() {
    for &version in VERSIONS {
        let config = ClientConfig {
            max_outgoing: 3,
            ..ClientConfig::default()
        };
        let mut h = Harness::connected(config, version);
        h.publish(message("t", b"1", QoS::AtLeastOnce)).unwrap();
        h.subscribe("a");
        h.unsubscribe("b");
        assert_eq!(h.sent().len(), 3);
        let now = h.now;
        for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
            assert!(
                matches!(
                    h.client.publish(now, message("t", b"x", qos)),
                    Err(UsageError::QueueFull(_))
                ),
                "MQTT {version} {qos:?}"
            );
        }
        let filter = || mqtt_sansio::TopicFilter::new(bytestring::ByteString::from("c")).unwrap();
        assert!(matches!(
            h.client.subscribe(
                now,
                [mqtt_sansio::Subscription::new(filter(), QoS::AtMostOnce)],
                Default::default()
            ),
            Err(UsageError::QueueFull(_))
        ));
        assert!(matches!(
            h.client.unsubscribe(now, [filter()], Default::default()),
            Err(UsageError::QueueFull(_))
        ));
        assert_eq!(h.client.outgoing_len(), 3);
        assert_eq!(h.sent(), []);
        // QoS 0 needs no identifier.
        assert_eq!(
            h.client
                .publish(now, message("t", b"0", QoS::AtMostOnce))
                .unwrap(),
            None
        );
        assert_eq!(h.sent().len(), 1);
    }
}

/// conformance: v311:MQTT-2.3.1-6, v5:MQTT-2.2.1-5, v5:MQTT-4.3.2-4, v5:MQTT-4.3.3-4,
/// v5:MQTT-4.3.3-8, v5:MQTT-4.3.3-11
#[test]
fn acknowledgements_echo_the_packet_identifier() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        // Incoming: PUBACK, PUBREC and PUBCOMP carry the server's identifier.
        h.receive(incoming("in", b"1", QoS::AtLeastOnce, 0x1234));
        assert_eq!(
            h.sent(),
            [Packet::PubAck(PubAck::new(PacketId::new(0x1234).unwrap()))]
        );
        let two = PacketId::new(0xfedc).unwrap();
        h.receive(incoming("in", b"2", QoS::ExactlyOnce, two.get()));
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(two))]);
        h.receive(PubRel::new(two));
        assert_eq!(h.sent(), [Packet::PubComp(PubComp::new(two))]);
        // Outgoing: the PUBREL carries the identifier of the PUBLISH and its PUBREC.
        let out = h.publish(message("out", b"3", QoS::ExactlyOnce)).unwrap();
        assert_eq!(new_flow_id(&mut h), out);
        h.receive(PubRec::new(out));
        assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(out))]);
        h.receive(PubComp::new(out));
        let events = h.events();
        assert_eq!(events.last(), Some(&published(out)), "MQTT {version}");
    }
}

/// The server's identifiers are its own: an incoming QoS 1 or 2 PUBLISH with the identifier
/// of a flow the client has in flight is a separate flow, and neither disturbs the other.
///
/// conformance: v311:MQTT-2.3.1-2, v5:MQTT-2.2.1-3, v5:MQTT-4.3.3-8, v5:MQTT-4.3.3-11,
/// v311:MQTT-4.3.3-2
#[test]
fn incoming_identifiers_do_not_interfere_with_outgoing_ones() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        let out2 = h.publish(message("out", b"q2", QoS::ExactlyOnce)).unwrap();
        let out1 = h.publish(message("out", b"q1", QoS::AtLeastOnce)).unwrap();
        assert_eq!(h.sent().len(), 2);

        // QoS 2 both ways on one identifier, interleaved.
        let in2 = incoming("in", b"q2", QoS::ExactlyOnce, out2.get());
        h.receive(in2.clone());
        assert_eq!(h.events(), [Event::Message(in2.clone())]);
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(out2))]);
        h.receive(PubRec::new(out2));
        assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(out2))]);
        let mut dup = in2;
        dup.delivery = dup.delivery.with_dup(true);
        h.receive(dup);
        assert_eq!(
            h.events(),
            [],
            "MQTT {version}: re-delivery delivered twice"
        );
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(out2))]);
        h.receive(PubRel::new(out2));
        assert_eq!(h.sent(), [Packet::PubComp(PubComp::new(out2))]);
        assert_eq!(h.events(), [], "the server's PUBREL does not end our flow");
        h.receive(PubComp::new(out2));
        assert_eq!(h.events(), [published(out2)]);

        // QoS 1 both ways on one identifier: our PUBACK does not complete our own message.
        let in1 = incoming("in", b"q1", QoS::AtLeastOnce, out1.get());
        h.receive(in1.clone());
        assert_eq!(h.events(), [Event::Message(in1)]);
        assert_eq!(h.sent(), [Packet::PubAck(PubAck::new(out1))]);
        assert_eq!(h.client.outgoing_len(), 1);
        h.receive(PubAck::new(out1));
        assert_eq!(h.events(), [published(out1)]);
        assert!(h.client.is_connected());
    }
}
