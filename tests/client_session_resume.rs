//! The client's session across connections: what a resumed session re-sends and in what
//! order, what a lost session reports, the incoming QoS 2 identifiers it keeps, and a session
//! exported, stored and restored into a new client (a device that reboots).
#![cfg(feature = "v5")]

mod common;

use bytes::{Bytes, BytesMut};
use common::client::{
    Harness, incoming, keep_session, message, published, sent_publish, session_resumed,
};
use mqtt_sansio::{
    ClientConfig, ConnAck, ConnectReasonCode, Event, Packet, PacketType, PingResp, ProtocolVersion,
    PubAck, PubComp, PubRec, PubRel, PublishError, QoS, SessionState, SessionStateError,
    UsageError,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;

const OFFLINE: ClientConfig = ClientConfig {
    queue_while_offline: true,
    ..ClientConfig::DEFAULT
};

/// A harness connected with a session the server keeps (Session Present 0 the first time).
fn with_session(config: ClientConfig, version: ProtocolVersion) -> Harness {
    let mut h = Harness::new(config);
    h.connect_with(
        keep_session(version),
        ConnAck::new(false, ConnectReasonCode::Success),
    );
    h
}

/// The transport breaks; the Disconnected event is taken.
fn lose_connection(h: &mut Harness) {
    h.drop_transport();
    let events = h.events();
    assert!(
        matches!(&events[..], [Event::Disconnected(_)]),
        "{events:?}"
    );
}

/// Session Present 1: every unacknowledged PUBLISH again with DUP 1 and every PUBREL, with
/// their original identifiers, in the order they were last sent, before anything new.
///
/// conformance: v311:MQTT-4.4.0-1, v5:MQTT-4.4.0-1, v311:MQTT-4.6.0-1, v5:MQTT-4.6.0-1,
/// v311:MQTT-3.3.1-1, v5:MQTT-3.3.1-1, v311:MQTT-2.3.1-3, v311:MQTT-4.6.0-4, v5:MQTT-4.6.0-4
#[test]
fn a_resumed_session_resends_publishes_with_dup_and_pubrels_before_anything_new() {
    for &version in VERSIONS {
        let mut h = with_session(OFFLINE, version);
        let a = h.publish(message("t", b"a", QoS::AtLeastOnce)).unwrap();
        let b = h.publish(message("t", b"b", QoS::ExactlyOnce)).unwrap();
        let c = h.publish(message("t", b"c", QoS::ExactlyOnce)).unwrap();
        h.sent();
        h.receive(PubRec::new(c));
        let d = h.publish(message("t", b"d", QoS::AtLeastOnce)).unwrap();
        // On the wire: a, b, c, PUBREL c, d.
        assert_eq!(
            h.sent(),
            [
                Packet::PubRel(PubRel::new(c)),
                sent_publish("t", b"d", QoS::AtLeastOnce, d, false)
            ]
        );
        lose_connection(&mut h);
        // New work queued while offline.
        let e = h.publish(message("t", b"e", QoS::AtLeastOnce)).unwrap();
        assert_eq!(h.publish(message("t", b"f", QoS::AtMostOnce)), None);
        let s = h.subscribe("s/#");

        h.connect_with(keep_session(version), session_resumed(version));
        let sent = h.sent();
        assert_eq!(
            sent[..4],
            [
                sent_publish("t", b"a", QoS::AtLeastOnce, a, true),
                sent_publish("t", b"b", QoS::ExactlyOnce, b, true),
                Packet::PubRel(PubRel::new(c)),
                sent_publish("t", b"d", QoS::AtLeastOnce, d, true),
            ],
            "MQTT {version}: {sent:?}"
        );
        let new = &sent[4..];
        assert_eq!(new.len(), 3, "MQTT {version}: {sent:?}");
        assert!(new.contains(&sent_publish("t", b"e", QoS::AtLeastOnce, e, false)));
        assert!(new.contains(&Packet::Publish(message("t", b"f", QoS::AtMostOnce))));
        assert!(
            new.iter()
                .any(|p| matches!(p, Packet::Subscribe(sub) if sub.packet_id == s))
        );

        // The resumed flows complete as usual.
        h.receive(PubAck::new(a));
        h.receive(PubRec::new(b));
        h.receive(PubComp::new(c));
        h.receive(PubAck::new(d));
        assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(b))]);
        h.receive(PubComp::new(b));
        assert_eq!(
            h.events(),
            [published(a), published(c), published(d), published(b)]
        );
    }
}

/// Session Present 0 answering a request to resume: the server has no session, so neither
/// does the client. Each message the server had is reported lost and nothing is re-sent; a
/// message never sent goes out as a new one; the server's QoS 2 identifiers are forgotten.
/// (MQTT 3.1 has no Session Present flag.)
///
/// conformance: v5:MQTT-3.2.2-5, v311:MQTT-4.4.0-1, v5:MQTT-4.4.0-1
#[test]
fn session_present_0_discards_the_session_and_reports_each_lost_message() {
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        let mut h = with_session(OFFLINE, version);
        let a = h.publish(message("t", b"a", QoS::AtLeastOnce)).unwrap();
        let b = h.publish(message("t", b"b", QoS::ExactlyOnce)).unwrap();
        h.sent();
        h.receive(PubRec::new(b));
        h.receive(incoming("in", b"x", QoS::ExactlyOnce, 7));
        assert_eq!(h.sent().len(), 2);
        h.events();
        lose_connection(&mut h);
        let e = h.publish(message("t", b"e", QoS::AtLeastOnce)).unwrap();

        h.connect(keep_session(version));
        h.receive(ConnAck::new(false, ConnectReasonCode::Success));
        let events = h.events();
        let lost = |packet_id| Event::Published {
            packet_id,
            result: Err(PublishError::SessionLost),
        };
        assert!(events.contains(&lost(a)), "MQTT {version}: {events:?}");
        assert!(events.contains(&lost(b)), "MQTT {version}: {events:?}");
        assert!(matches!(events.last(), Some(Event::Connected(c)) if !c.session_present));
        assert_eq!(events.len(), 3, "MQTT {version}: {events:?}");
        assert_eq!(
            h.sent(),
            [sent_publish("t", b"e", QoS::AtLeastOnce, e, false)],
            "MQTT {version}: only the never-sent message goes, as new"
        );
        // Acknowledgements for the lost flows find nothing.
        h.receive(PubAck::new(a));
        h.receive(PubComp::new(b));
        assert_eq!(h.events(), []);
        // Identifier 7 now starts a new message.
        let again = incoming("in", b"y", QoS::ExactlyOnce, 7);
        h.receive(again.clone());
        assert_eq!(h.events(), [Event::Message(again)], "MQTT {version}");
        assert!(h.client.is_connected());
    }
}

/// A CONNECT with Clean Start discards the session at once: each message the server had is
/// reported lost.
///
/// conformance: v311:MQTT-3.1.2-6, v5:MQTT-3.1.2-4
#[test]
fn a_clean_start_discards_the_session_and_reports_each_lost_message() {
    for &version in VERSIONS {
        let mut h = with_session(ClientConfig::default(), version);
        let a = h.publish(message("t", b"a", QoS::AtLeastOnce)).unwrap();
        let b = h.publish(message("t", b"b", QoS::ExactlyOnce)).unwrap();
        h.sent();
        h.receive(PubRec::new(b));
        h.sent();
        lose_connection(&mut h);
        h.connect(mqtt_sansio::ConnectOptions::new(version, "client").unwrap());
        let events = h.events();
        for id in [a, b] {
            assert!(
                events.contains(&Event::Published {
                    packet_id: id,
                    result: Err(PublishError::SessionLost)
                }),
                "MQTT {version}: {events:?}"
            );
        }
        h.receive(ConnAck::new(false, ConnectReasonCode::Success));
        assert!(matches!(&h.events()[..], [Event::Connected(_)]));
        assert_eq!(h.sent(), []);
        assert_eq!(h.client.outgoing_len(), 0);
    }
}

/// The server's QoS 2 identifiers awaiting PUBREL survive into the resumed session: its
/// re-sent PUBLISH (DUP) is answered with PUBREC and not delivered again, its re-sent PUBREL
/// with PUBCOMP.
///
/// conformance: v311:MQTT-4.1.0-1, v311:MQTT-4.4.0-1, v5:MQTT-4.4.0-1, v5:MQTT-4.3.3-10,
/// v5:MQTT-4.3.3-11, v311:MQTT-4.3.3-2
#[test]
fn incoming_qos2_identifiers_survive_a_resumed_session() {
    for &version in VERSIONS {
        let mut h = with_session(ClientConfig::default(), version);
        let seven = incoming("t", b"7", QoS::ExactlyOnce, 7);
        h.receive(seven.clone());
        h.receive(incoming("t", b"8", QoS::ExactlyOnce, 8));
        assert_eq!(h.events().len(), 2);
        assert_eq!(h.sent().len(), 2);
        lose_connection(&mut h);
        h.connect_with(keep_session(version), session_resumed(version));
        assert_eq!(h.sent(), []);

        let mut dup = seven;
        dup.delivery = dup.delivery.with_dup(true);
        h.receive(dup);
        assert_eq!(h.events(), [], "MQTT {version}: delivered twice");
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(common::pid(7)))]);
        h.receive_all([
            Packet::PubRel(PubRel::new(common::pid(7))),
            Packet::PubRel(PubRel::new(common::pid(8))),
        ]);
        assert_eq!(
            h.sent(),
            [
                Packet::PubComp(PubComp::new(common::pid(7))),
                Packet::PubComp(PubComp::new(common::pid(8)))
            ],
            "MQTT {version}"
        );
    }
}

/// The "device reboots" case: the session exported while connected, encoded, decoded and
/// restored into a new client makes that client re-send exactly what the original client
/// re-sends when it resumes, with the same identifiers; the restored flows then complete,
/// and new identifiers avoid the restored ones.
///
/// conformance: v311:MQTT-4.1.0-1, v5:MQTT-4.1.0-1, v311:MQTT-4.4.0-1, v5:MQTT-4.4.0-1,
/// v311:MQTT-4.6.0-1, v5:MQTT-4.6.0-1, v311:MQTT-2.3.1-2, v5:MQTT-2.2.1-3,
/// v5:MQTT-3.1.2-23
#[test]
fn a_restored_session_resends_exactly_what_the_original_client_would() {
    for &version in VERSIONS {
        let mut original = with_session(ClientConfig::default(), version);
        let a = original
            .publish(message("t/a", b"a", QoS::AtLeastOnce))
            .unwrap();
        let b = original
            .publish(message("t/b", b"b", QoS::ExactlyOnce))
            .unwrap();
        let c = original
            .publish(message("t/c", b"c", QoS::ExactlyOnce))
            .unwrap();
        let s = original.subscribe("s/+");
        original.sent();
        original.receive(PubRec::new(c));
        let d = original
            .publish(message("t/d", b"d", QoS::AtLeastOnce))
            .unwrap();
        let forty_two = incoming("in", b"42", QoS::ExactlyOnce, 42);
        original.receive(forty_two.clone());
        assert_eq!(original.sent().len(), 3);
        original.events();

        // Saved while connected, just before the power goes.
        let saved = original.client.session();
        assert_eq!(saved.len(), 6);
        let mut stored = BytesMut::new();
        saved.encode(&mut stored).unwrap();
        assert_eq!(stored.len(), saved.encoded_len().unwrap());
        let stored = stored.freeze();
        let loaded = SessionState::decode(stored.clone()).unwrap();
        assert_eq!(loaded.len(), saved.len());
        let mut again = BytesMut::new();
        loaded.encode(&mut again).unwrap();
        assert_eq!(
            again.freeze(),
            stored,
            "decode and encode again is the identity"
        );

        let mut rebooted = Harness::new(ClientConfig::default());
        rebooted.client.restore_session(loaded).unwrap();
        rebooted.connect_with(keep_session(version), session_resumed(version));
        let resent = rebooted.sent();

        lose_connection(&mut original);
        original.connect_with(keep_session(version), session_resumed(version));
        assert_eq!(resent, original.sent(), "MQTT {version}");
        assert_eq!(resent.len(), 5, "MQTT {version}: {resent:?}");
        assert_eq!(
            resent[..4],
            [
                sent_publish("t/a", b"a", QoS::AtLeastOnce, a, true),
                sent_publish("t/b", b"b", QoS::ExactlyOnce, b, true),
                Packet::PubRel(PubRel::new(c)),
                sent_publish("t/d", b"d", QoS::AtLeastOnce, d, true),
            ]
        );
        assert!(matches!(&resent[4], Packet::Subscribe(sub) if sub.packet_id == s));

        // The restored client finishes every flow.
        let h = &mut rebooted;
        let mut dup = forty_two;
        dup.delivery = dup.delivery.with_dup(true);
        h.receive(dup);
        assert_eq!(
            h.events(),
            [],
            "MQTT {version}: delivered again after reboot"
        );
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(common::pid(42)))]);
        h.receive(PubRel::new(common::pid(42)));
        assert_eq!(h.sent(), [Packet::PubComp(PubComp::new(common::pid(42)))]);
        let fresh = h.publish(message("t", b"new", QoS::AtLeastOnce)).unwrap();
        assert!(![a, b, c, d, s].contains(&fresh), "MQTT {version}: {fresh}");
        h.sent();
        h.receive(PubAck::new(a));
        h.receive(PubRec::new(b));
        assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(b))]);
        h.receive(PubComp::new(b));
        h.receive(PubComp::new(c));
        h.receive(PubAck::new(d));
        h.receive_suback(s);
        h.receive(PubAck::new(fresh));
        let events = h.events();
        assert_eq!(events.len(), 6, "MQTT {version}: {events:?}");
        assert_eq!(h.client.outgoing_len(), 0);
    }
}

/// A stored session that was damaged is refused, never half-restored: a wrong header, a
/// truncated packet, a malformed one, a packet a session never holds. `restore_session` also
/// refuses a state that does not fit the client, and leaves it empty.
#[test]
fn a_damaged_session_state_is_refused() {
    let mut h = with_session(ClientConfig::default(), ProtocolVersion::V5);
    h.publish(message("t", b"a", QoS::AtLeastOnce)).unwrap();
    h.publish(message("t", b"b", QoS::ExactlyOnce)).unwrap();
    h.receive(incoming("in", b"x", QoS::ExactlyOnce, 9));
    let mut stored = BytesMut::new();
    h.client.session().encode(&mut stored).unwrap();
    let good = stored.freeze();
    assert!(SessionState::decode(good.clone()).is_ok());

    let edit = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = good.to_vec();
        f(&mut bytes);
        SessionState::decode(Bytes::from(bytes))
    };
    assert_eq!(edit(&|b| b[0] = b'X'), Err(SessionStateError::Header));
    assert_eq!(edit(&|b| b[4] = 3), Err(SessionStateError::Header));
    assert_eq!(edit(&|b| b.truncate(3)), Err(SessionStateError::Header));
    // Inside the packet count, and inside the first packet.
    assert_eq!(edit(&|b| b.truncate(7)), Err(SessionStateError::Truncated));
    assert_eq!(edit(&|b| b.truncate(11)), Err(SessionStateError::Truncated));
    assert_eq!(
        edit(&|b| {
            b.pop();
        }),
        Err(SessionStateError::Truncated)
    );
    // The first PUBLISH (QoS 1, DUP), after the header and the count, made QoS 3: malformed.
    assert_eq!(good[9], 0x3a);
    assert!(matches!(
        edit(&|b| b[9] = 0x3e),
        Err(SessionStateError::Packet(_))
    ));
    assert_eq!(
        edit(&|b| b.extend_from_slice(&[0xc0, 0x00])),
        Err(SessionStateError::Unexpected(Some(PacketType::PingReq)))
    );
    assert_eq!(
        edit(&|b| b.extend_from_slice(&[0x30, 0x05, 0x00, 0x01, b't', 0x00, b'x'])),
        Err(SessionStateError::Unexpected(Some(PacketType::Publish)))
    );

    // A state restored into a client that holds one, or is connected, or is too small.
    let state = SessionState::decode(good).unwrap();
    assert!(matches!(
        h.client.restore_session(state.clone()),
        Err(UsageError::AlreadyConnected)
    ));
    let mut busy = Harness::new(OFFLINE);
    busy.publish(message("t", b"mine", QoS::AtLeastOnce));
    assert!(matches!(
        busy.client.restore_session(state.clone()),
        Err(UsageError::SessionDoesNotFit(_))
    ));
    let mut small = Harness::new(ClientConfig {
        max_outgoing: 1,
        ..ClientConfig::default()
    });
    assert!(matches!(
        small.client.restore_session(state),
        Err(UsageError::SessionDoesNotFit(_))
    ));
    assert!(small.client.session().is_empty());
    assert_eq!(small.client.outgoing_len(), 0);
}

/// A stored session cut short anywhere is refused, including right after one of its packets:
/// a state written only in part must not silently restore fewer messages than were held.
#[test]
fn a_session_state_truncated_anywhere_is_refused() {
    let mut h = with_session(ClientConfig::default(), ProtocolVersion::V3_1_1);
    h.publish(message("t", b"a", QoS::AtLeastOnce)).unwrap();
    h.publish(message("t", b"b", QoS::ExactlyOnce)).unwrap();
    h.receive(incoming("in", b"x", QoS::ExactlyOnce, 9));
    let mut stored = BytesMut::new();
    h.client.session().encode(&mut stored).unwrap();
    let good = stored.freeze();
    for cut in 0..good.len() {
        assert!(
            SessionState::decode(good.slice(..cut)).is_err(),
            "a state cut to {cut} of {} bytes was accepted",
            good.len()
        );
    }
}

/// The session lives as long as the connection, even one whose session ends with it (Clean
/// Start, no expiry): flows left waiting through minutes of keep-alive traffic still
/// complete, and the server's QoS 2 identifiers are still remembered.
///
/// conformance: v311:MQTT-4.1.0-1, v5:MQTT-4.1.0-1, v311:MQTT-4.1.0-2
#[test]
fn session_state_is_kept_while_connected() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        let a = h.publish(message("t", b"a", QoS::AtLeastOnce)).unwrap();
        let b = h.publish(message("t", b"b", QoS::ExactlyOnce)).unwrap();
        let three = incoming("in", b"3", QoS::ExactlyOnce, 3);
        h.receive(three.clone());
        assert_eq!(h.sent().len(), 3);
        h.events();
        for _ in 0..10 {
            assert!(h.advance_to_deadline());
            assert_eq!(h.sent(), [Packet::PingReq(mqtt_sansio::PingReq)]);
            h.receive(PingResp);
            assert_eq!(h.client.session().len(), 3, "MQTT {version}");
        }
        assert!(h.client.is_connected());
        let mut dup = three;
        dup.delivery = dup.delivery.with_dup(true);
        h.receive(dup);
        assert_eq!(h.events(), []);
        assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(common::pid(3)))]);
        h.receive(PubAck::new(a));
        h.receive(PubRec::new(b));
        assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(b))]);
        h.receive(PubComp::new(b));
        assert_eq!(h.events(), [published(a), published(b)]);
    }
}

/// A SUBSCRIBE or UNSUBSCRIBE left unanswered goes again, with its identifier, on the next
/// connection that resumes the session, and its answer is reported then.
#[test]
fn an_unanswered_subscribe_is_resent_on_the_next_connection() {
    for &version in VERSIONS {
        let mut h = with_session(ClientConfig::default(), version);
        let s = h.subscribe("s/#");
        let u = h.unsubscribe("u/#");
        let first = h.sent();
        assert_eq!(first.len(), 2);
        lose_connection(&mut h);
        h.connect_with(keep_session(version), session_resumed(version));
        assert_eq!(h.sent(), first, "MQTT {version}");
        h.receive_suback(s);
        h.receive_unsuback(u);
        let events = h.events();
        assert!(
            matches!(&events[..], [Event::Subscribed(x), Event::Unsubscribed(y)] if x.packet_id == s && y.packet_id == u),
            "MQTT {version}: {events:?}"
        );
    }
}

/// A SUBSCRIBE or UNSUBSCRIBE without an answer when the session is lost (here by a Clean
/// Start) goes to the new session, so that the subscription the application asked for
/// exists there, and it is answered then.
/// conformance: v5:MQTT-3.1.2-4, v311:MQTT-3.1.2-6
#[test]
fn a_request_unanswered_when_the_session_is_lost_goes_to_the_new_session() {
    for &version in VERSIONS {
        let mut h = with_session(ClientConfig::default(), version);
        let s = h.subscribe("s/#");
        let u = h.unsubscribe("u/#");
        let first = h.sent();
        lose_connection(&mut h);
        h.connect(mqtt_sansio::ConnectOptions::new(version, "client").unwrap());
        assert_eq!(h.events(), [], "MQTT {version}: nothing is lost");
        h.receive(ConnAck::new(false, ConnectReasonCode::Success));
        assert!(matches!(&h.events()[..], [Event::Connected(_)]));
        assert_eq!(h.sent(), first, "MQTT {version}");
        h.receive_suback(s);
        h.receive_unsuback(u);
        let events = h.events();
        assert!(
            matches!(&events[..], [Event::Subscribed(x), Event::Unsubscribed(y)] if x.packet_id == s && y.packet_id == u),
            "MQTT {version}: {events:?}"
        );
    }
}
