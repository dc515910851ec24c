//! Shared subscriptions on the broker when members come and go: each message goes to one
//! member in turn, across versions; what a member leaves unfinished when its session ends
//! goes to another member (QoS 1 in flight, and anything not sent yet), what it has not been
//! sent yet goes to a connected member as soon as its connection ends, and a QoS 2 message
//! sent stays with its member (5.0 section 4.8.2).
//!
//! The round robin among 5.0 members, the granted QoS and the refusal of a message are tested
//! in `broker_routing.rs`.
#![cfg(feature = "v5")]

mod common;

use common::broker::{Conn, Harness, deliveries, keep_session, pid, publish};
use mqtt_sansio::{
    BrokerConfig, Disconnect, Packet, PacketId, ProtocolVersion, PubAck, PubRec, PubRel, Publish,
    QoS, SubscriptionOptions,
};

const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// The group's filter.
const SHARED: &str = "$share/g/jobs";

/// A broker that keeps at most `window` deliveries in flight to each client.
fn broker(window: u16) -> Harness {
    Harness::new(BrokerConfig {
        max_inflight: window,
        ..BrokerConfig::default()
    })
}

/// Connects `client_id` as a member of the group at `qos`: with a Clean Start and no session
/// if `expiry` is `None`, else keeping its session `expiry` seconds.
fn member(
    h: &mut Harness,
    version: ProtocolVersion,
    client_id: &str,
    expiry: Option<u32>,
    qos: QoS,
) -> Conn {
    let conn = match expiry {
        None => h.connect(version, client_id),
        Some(expiry) => h.resume(version, client_id, expiry).0,
    };
    assert_eq!(h.subscribe(conn, SHARED, qos), []);
    conn
}

/// The PUBLISH packets among `packets`; panics on any other packet.
#[track_caller]
fn publishes(packets: Vec<Packet>) -> Vec<Publish> {
    packets
        .into_iter()
        .map(|packet| match packet {
            Packet::Publish(publish) => publish,
            other => panic!("expected a PUBLISH, got {other:?}"),
        })
        .collect()
}

/// The one-byte payloads of `publishes`, in order.
fn payloads(publishes: &[Publish]) -> Vec<u8> {
    publishes.iter().map(|publish| publish.payload[0]).collect()
}

/// The Packet Identifiers of `publishes`.
fn ids(publishes: &[Publish]) -> Vec<PacketId> {
    publishes
        .iter()
        .map(|publish| publish.packet_id().expect("QoS 1 or 2"))
        .collect()
}

/// The publisher sends message `n` (its payload) on `jobs` at `qos`, Packet Identifier
/// `n + 1`, and gets its acknowledgement at once, whatever the members do.
#[track_caller]
fn publish_job(h: &mut Harness, publisher: Conn, n: u8, qos: QoS) {
    let id = pid(u16::from(n) + 1);
    h.send(publisher, publish("jobs", &[n], qos, id.get()));
    match qos {
        QoS::AtMostOnce => assert_eq!(h.sent(publisher), [], "message {n}"),
        QoS::AtLeastOnce => {
            assert_eq!(
                h.sent(publisher),
                [Packet::from(PubAck::new(id))],
                "message {n}"
            );
        }
        QoS::ExactlyOnce => {
            assert_eq!(
                h.sent(publisher),
                [Packet::from(PubRec::new(id))],
                "message {n}"
            );
            h.send(publisher, PubRel::new(id));
            let comp = mqtt_sansio::PubComp::new(id);
            assert_eq!(h.sent(publisher), [Packet::from(comp)], "message {n}");
        }
    }
}

/// Publishes messages `0..count` at QoS 1 and returns what each member was sent, in the
/// order of `members`; the members `acks` marks acknowledge each message as it comes.
#[track_caller]
fn spread(
    h: &mut Harness,
    publisher: Conn,
    members: &[Conn],
    acks: &[bool],
    count: u8,
) -> Vec<Vec<Publish>> {
    let mut got = vec![Vec::new(); members.len()];
    for n in 0..count {
        publish_job(h, publisher, n, QoS::AtLeastOnce);
        for (index, &conn) in members.iter().enumerate() {
            for _ in 0..10 {
                let sent = publishes(h.sent(conn));
                if sent.is_empty() {
                    break;
                }
                if acks[index] {
                    for publish in &sent {
                        h.send(conn, PubAck::new(publish.packet_id().unwrap()));
                    }
                }
                got[index].extend(sent);
            }
        }
    }
    got
}

/// Everything the broker sends `conn` from now, each QoS 1 message acknowledged as it comes
/// (so that messages queued behind the window follow).
#[track_caller]
fn take_acking(h: &mut Harness, conn: Conn) -> Vec<Publish> {
    let mut all = Vec::new();
    for _ in 0..100 {
        let sent = publishes(h.sent(conn));
        if sent.is_empty() {
            return all;
        }
        for publish in &sent {
            h.send(conn, PubAck::new(publish.packet_id().unwrap()));
        }
        all.extend(sent);
    }
    panic!("the broker kept sending");
}

/// `conn` completes the QoS 2 delivery of `publish` (PUBREC, then PUBCOMP for the PUBREL).
#[track_caller]
fn complete_qos2(h: &mut Harness, conn: Conn, publish: &Publish) {
    let id = publish.packet_id().unwrap();
    h.send(conn, PubRec::new(id));
    assert_eq!(h.sent(conn), [Packet::from(PubRel::new(id))]);
    h.send(conn, mqtt_sansio::PubComp::new(id));
}

/// Each message goes to exactly one of three members, 3.1.1 and 5.0 side by side, in turn:
/// six messages, two each, never the same member twice in a row.
/// conformance: v5:MQTT-4.8.2-3
#[test]
fn round_robin_spreads_messages_over_three_members_of_mixed_versions() {
    for versions in [[V311, V5, V311], [V5, V311, V5]] {
        let mut h = broker(u16::MAX);
        let members: Vec<Conn> = versions
            .iter()
            .enumerate()
            .map(|(n, &version)| member(&mut h, version, &format!("m{n}"), None, QoS::AtLeastOnce))
            .collect();
        let publisher = h.connect(V311, "pub");
        let mut takers = Vec::new();
        for n in 0..6u8 {
            publish_job(&mut h, publisher, n, QoS::AtLeastOnce);
            let got: Vec<(usize, Vec<Publish>)> = members
                .iter()
                .enumerate()
                .map(|(index, &conn)| (index, publishes(h.sent(conn))))
                .filter(|(_, got)| !got.is_empty())
                .collect();
            let [(taker, got)] = &got[..] else {
                panic!("{versions:?}: message {n} went to {got:?}");
            };
            assert_eq!(payloads(got), [n]);
            assert_eq!(got[0].qos(), QoS::AtLeastOnce);
            takers.push(*taker);
        }
        // In turn: a cycle of the three members, repeated.
        let mut cycle = takers[..3].to_vec();
        assert_eq!(&takers[3..], &cycle[..], "{versions:?}: {takers:?}");
        cycle.sort_unstable();
        assert_eq!(cycle, [0, 1, 2], "{versions:?}: {takers:?}");
    }
}

/// How a member's session ends.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// DISCONNECT, Session Expiry 0.
    Disconnect,
    /// The socket closes, Session Expiry 0.
    Dropped,
    /// The socket closes, and the Session Expiry Interval (10 s) runs out.
    Expired,
    /// The client connects again with a Clean Start, taking its session over.
    CleanStart,
}

/// A member with two QoS 1 messages in flight (its window) and one queued whose session ends,
/// however it ends, leaves all three to the other member: fresh deliveries (DUP 0, Packet
/// Identifiers of the other member's session, which it acknowledges), in their order. The
/// publisher's acknowledgements came at once and nothing follows them; an ordinary
/// subscriber gets each message once; nothing is left held.
/// conformance: v5:MQTT-4.8.2-3
#[test]
fn members_ending_session_hands_its_unacknowledged_messages_to_another() {
    for ending in [
        Ending::Disconnect,
        Ending::Dropped,
        Ending::Expired,
        Ending::CleanStart,
    ] {
        for (leaving_version, staying_version) in [(V5, V311), (V311, V5), (V5, V5)] {
            let case = format!("{ending:?} {leaving_version} -> {staying_version}");
            let mut h = broker(2);
            let expiry = match (ending, leaving_version) {
                (Ending::Expired, V5) => Some(10),
                // 3.1.1 keeps a session of Clean Session 0 until the broker's maximum.
                (Ending::Expired, _) => continue,
                (Ending::CleanStart, _) => Some(10),
                _ => None,
            };
            let leaving = member(&mut h, leaving_version, "leaving", expiry, QoS::AtLeastOnce);
            let staying = member(&mut h, staying_version, "staying", None, QoS::AtLeastOnce);
            let plain = h.connect(V5, "plain");
            assert_eq!(h.subscribe(plain, "jobs", QoS::AtMostOnce), []);
            let publisher = h.connect(V5, "pub");
            // Six messages in turn: three each. `staying` acknowledges its own; `leaving`
            // does not, so its third waits behind its window of two.
            let spread = spread(&mut h, publisher, &[leaving, staying], &[false, true], 6);
            let leaving_got = &spread[0];
            let got = payloads(&spread[1]);
            assert_eq!(leaving_got.len(), 2, "{case}: its window");
            assert_eq!(got.len(), 3, "{case}");
            assert_eq!(deliveries(&h.sent(plain)).len(), 6, "{case}");
            let mut owed: Vec<u8> = (0..6).filter(|n| !got.contains(n)).collect();
            assert_eq!(payloads(leaving_got), owed[..2], "{case}");

            match ending {
                Ending::Disconnect => h.send(leaving, Disconnect::default()),
                Ending::Dropped => h.drop_socket(leaving),
                Ending::Expired => {
                    h.drop_socket(leaving);
                    // The queued one went at once (see below); the two in flight wait for
                    // the session's end.
                    let early = publishes(h.sent(staying));
                    assert_eq!(payloads(&early), owed[2..], "{case}");
                    for publish in &early {
                        h.send(staying, PubAck::new(publish.packet_id().unwrap()));
                    }
                    owed.truncate(2);
                    h.advance(9_000);
                    assert_eq!(h.sent(staying), [], "{case}: before the expiry");
                    h.advance(1_000);
                }
                Ending::CleanStart => {
                    h.drop_socket(leaving);
                    let early = publishes(h.sent(staying));
                    assert_eq!(payloads(&early), owed[2..], "{case}");
                    for publish in &early {
                        h.send(staying, PubAck::new(publish.packet_id().unwrap()));
                    }
                    owed.truncate(2);
                    let again = h.connect(leaving_version, "leaving");
                    assert_eq!(h.sent(again), [], "{case}: a new session owes nothing");
                }
            }
            // Fresh deliveries in `staying`'s window of two, acknowledged as they come: the
            // acknowledgements match, so the identifiers are `staying`'s own.
            let handed = take_acking(&mut h, staying);
            assert_eq!(payloads(&handed), owed, "{case}");
            for publish in &handed {
                assert!(!publish.is_dup(), "{case}: a fresh delivery");
                assert_eq!(publish.qos(), QoS::AtLeastOnce, "{case}");
            }
            assert_eq!(
                h.sent(publisher),
                [],
                "{case}: its acknowledgements came before"
            );
            assert_eq!(h.sent(plain), [], "{case}: no copy for anyone else");
            let stats = h.broker.stats();
            assert_eq!(stats.shared_handed_over, 3, "{case}");
            assert_eq!(stats.dropped_no_member, 0, "{case}");
            assert_eq!(stats.stored_messages, 0, "{case}: nothing left held");
        }
    }
}

/// A delivery handed over takes the new member's own subscription: its granted QoS, its
/// Retain As Published and its Subscription Identifier.
/// conformance: v5:MQTT-4.8.2-3, v5:MQTT-3.3.4-3, v5:MQTT-3.3.1-13
#[test]
fn handed_over_delivery_takes_the_new_members_qos_and_subscription_identifier() {
    let mut h = broker(u16::MAX);
    let leaving = member(&mut h, V5, "leaving", None, QoS::AtLeastOnce);
    let staying = h.connect(V5, "staying");
    let mut options = SubscriptionOptions::new(QoS::AtMostOnce);
    options.retain_as_published = true;
    assert_eq!(h.subscribe_with(staying, SHARED, options, Some(7)), []);
    let publisher = h.connect(V5, "pub");
    let mut first = None;
    for n in 0..2u8 {
        let mut message = publish("jobs", &[n], QoS::AtLeastOnce, u16::from(n) + 1);
        message.retain = true;
        h.send(publisher, message);
        let got = publishes(h.sent(leaving));
        if let [publish] = &got[..] {
            first = Some(publish.payload[0]);
        }
    }
    let first = first.expect("one message each");
    let before = publishes(h.sent(staying));
    assert_eq!(before.len(), 1);
    h.send(leaving, Disconnect::default());
    let handed = publishes(h.sent(staying));
    let [handed] = &handed[..] else {
        panic!("{handed:?}")
    };
    assert_eq!(handed.payload[0], first);
    assert_eq!(handed.qos(), QoS::AtMostOnce);
    assert!(handed.retain, "Retain As Published");
    let sub_ids: Vec<u32> = handed
        .properties
        .subscription_identifiers
        .iter()
        .map(|id| id.get())
        .collect();
    assert_eq!(sub_ids, [7]);
}

/// A member whose connection drops and whose session lives on keeps what it was sent: the
/// QoS 1 messages in flight go to it again, DUP set, when it resumes, and to no one else. What
/// it was not sent yet goes to a connected member at once (no copy reached it, so none is
/// duplicated); with no member connected it stays queued for it.
/// conformance: v5:MQTT-4.4.0-1, v311:MQTT-4.4.0-1
#[test]
fn members_dropped_connection_keeps_in_flight_and_hands_queued_to_a_connected_member() {
    for version in [V5, V311] {
        for other_connected in [true, false] {
            let case = format!("{version} other connected {other_connected}");
            let mut h = broker(2);
            let leaving = member(&mut h, version, "leaving", Some(60), QoS::AtLeastOnce);
            let other = member(&mut h, V5, "other", Some(60), QoS::AtLeastOnce);
            let publisher = h.connect(V5, "pub");
            let got = spread(&mut h, publisher, &[leaving, other], &[false, true], 6);
            assert_eq!((got[0].len(), got[1].len()), (2, 3), "{case}");
            let mine: Vec<u8> = (0..6).filter(|n| !payloads(&got[1]).contains(n)).collect();
            if !other_connected {
                h.drop_socket(other);
            }
            h.drop_socket(leaving);
            let (other, early) = if other_connected {
                (other, publishes(h.sent(other)))
            } else {
                let (conn, present, rest) = h.resume(V5, "other", 60);
                assert!(present, "{case}");
                (conn, publishes(rest))
            };
            let queued_went: usize = if other_connected {
                assert_eq!(payloads(&early), mine[2..], "{case}: the queued one");
                assert!(!early[0].is_dup(), "{case}");
                h.send(other, PubAck::new(early[0].packet_id().unwrap()));
                1
            } else {
                assert_eq!(early, [], "{case}: no connected member to take it");
                0
            };
            let (again, present, resent) = h.resume(version, "leaving", 60);
            assert!(present, "{case}");
            let mut resent = publishes(resent);
            assert_eq!(resent.len(), 2, "{case}: its window");
            for publish in &resent.clone() {
                h.send(again, PubAck::new(publish.packet_id().unwrap()));
                resent.extend(publishes(h.sent(again)));
            }
            let dup: Vec<bool> = resent.iter().map(Publish::is_dup).collect();
            let expected_dup = [true, true, false];
            assert_eq!(
                payloads(&resent),
                mine[..3 - queued_went],
                "{case}: its own again"
            );
            assert_eq!(dup, expected_dup[..3 - queued_went], "{case}");
            assert_eq!(
                ids(&resent)[..2],
                ids(&got[0])[..],
                "{case}: the same identifiers"
            );
            assert_eq!(h.sent(other), [], "{case}");
            assert_eq!(
                h.broker.stats().shared_handed_over,
                u64::try_from(queued_went).unwrap(),
                "{case}"
            );
        }
    }
}

/// A QoS 2 message sent to a member stays with it when its session ends, whether or not the
/// member answered PUBREC: no other member gets it. One it was not sent yet (queued behind its
/// window) does go to the other member.
/// conformance: v5:MQTT-4.8.2-4, v5:MQTT-4.8.2-5
#[test]
fn v5_qos2_message_sent_stays_with_its_member_when_its_session_ends() {
    let mut h = broker(2);
    let leaving = member(&mut h, V5, "leaving", None, QoS::ExactlyOnce);
    let staying = member(&mut h, V5, "staying", None, QoS::ExactlyOnce);
    let publisher = h.connect(V311, "pub");
    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for n in 0..6u8 {
        publish_job(&mut h, publisher, n, QoS::ExactlyOnce);
        mine.extend(publishes(h.sent(leaving)));
        // `staying` completes its own as they come, so its window never fills.
        for _ in 0..10 {
            let sent = publishes(h.sent(staying));
            if sent.is_empty() {
                break;
            }
            for publish in &sent {
                complete_qos2(&mut h, staying, publish);
            }
            theirs.extend(sent);
        }
    }
    assert_eq!((mine.len(), theirs.len()), (2, 3));
    // The first is past PUBREC (PUBREL sent, PUBCOMP awaited); the second is unanswered.
    let first = mine[0].packet_id().unwrap();
    h.send(leaving, PubRec::new(first));
    assert_eq!(h.sent(leaving), [Packet::from(PubRel::new(first))]);
    let queued: Vec<u8> = (0..6)
        .filter(|n| !payloads(&mine).contains(n) && !payloads(&theirs).contains(n))
        .collect();
    assert_eq!(queued.len(), 1, "one queued behind `leaving`'s window");
    h.send(leaving, Disconnect::default());
    let handed = publishes(h.sent(staying));
    assert_eq!(payloads(&handed), queued, "only the one never sent");
    assert_eq!(handed[0].qos(), QoS::ExactlyOnce);
    assert!(!handed[0].is_dup());
    complete_qos2(&mut h, staying, &handed[0]);
    assert_eq!(h.sent(staying), []);
    let stats = h.broker.stats();
    assert_eq!(stats.shared_handed_over, 1);
    assert_eq!(stats.stored_messages, 0);
}

/// A member's session that ends when no member of the group is left (it was the last) drops
/// what it held of the group, counted in `dropped_no_member`; a member that joins later gets
/// none of it.
#[test]
fn last_members_messages_are_dropped_and_counted() {
    for version in [V5, V311] {
        let mut h = broker(1);
        let only = member(&mut h, version, "only", None, QoS::AtLeastOnce);
        let publisher = h.connect(V5, "pub");
        for n in 0..3u8 {
            publish_job(&mut h, publisher, n, QoS::AtLeastOnce);
        }
        assert_eq!(publishes(h.sent(only)).len(), 1, "{version}: its window");
        h.send(only, Disconnect::default());
        let stats = h.broker.stats();
        assert_eq!(stats.dropped_no_member, 3, "{version}");
        assert_eq!(stats.shared_handed_over, 0, "{version}");
        assert_eq!(stats.stored_messages, 0, "{version}");
        let late = member(&mut h, V5, "late", None, QoS::AtLeastOnce);
        assert_eq!(h.sent(late), [], "{version}");
    }
}

/// A member with a session whose connection drops while every other member is away too
/// keeps its queued messages; the group's next message goes, in turn, to a member with a
/// session, and each gets what it is owed when it comes back: nothing is lost or doubled.
/// conformance: v5:MQTT-3.1.2-5, v311:MQTT-3.1.2-5
#[test]
fn members_away_together_keep_their_messages_until_they_resume() {
    let mut h = broker(1);
    let first = member(&mut h, V5, "first", Some(60), QoS::AtLeastOnce);
    let second = member(&mut h, V311, "second", Some(60), QoS::AtLeastOnce);
    let publisher = h.connect(V5, "pub");
    let got = spread(&mut h, publisher, &[first, second], &[false, false], 4);
    assert_eq!((got[0].len(), got[1].len()), (1, 1));
    h.drop_socket(second);
    h.drop_socket(first);
    for n in 4..6u8 {
        publish_job(&mut h, publisher, n, QoS::AtLeastOnce);
    }
    let mut all = Vec::new();
    for (version, client_id) in [(V5, "first"), (V311, "second")] {
        let (conn, present, rest) = h.resume(version, client_id, 60);
        assert!(present);
        let mut rest = publishes(rest);
        // Each resumes its window's message, DUP set; the rest follow as the window frees.
        assert!(rest[0].is_dup(), "{client_id}");
        for _ in 0..10 {
            let Some(last) = rest.last() else { break };
            h.send(conn, PubAck::new(last.packet_id().unwrap()));
            let more = publishes(h.sent(conn));
            if more.is_empty() {
                break;
            }
            all.extend(payloads(&rest));
            rest = more;
        }
        all.extend(payloads(&rest));
    }
    all.sort_unstable();
    assert_eq!(all, [0, 1, 2, 3, 4, 5]);
    assert_eq!(h.broker.stats().dropped_no_member, 0);
}

/// A member that refused a message has finished it: when its session ends nothing of it is
/// handed over.
/// conformance: v5:MQTT-4.8.2-6
#[test]
fn v5_refused_message_is_not_handed_over_when_the_session_ends() {
    let mut h = broker(u16::MAX);
    let leaving = member(&mut h, V5, "leaving", None, QoS::AtLeastOnce);
    let staying = member(&mut h, V5, "staying", None, QoS::AtLeastOnce);
    let publisher = h.connect(V5, "pub");
    let got = spread(&mut h, publisher, &[leaving, staying], &[false, false], 2);
    let mut refusal = PubAck::new(got[0][0].packet_id().unwrap());
    refusal.reason_code = mqtt_sansio::PubAckReasonCode::UnspecifiedError;
    h.send(leaving, refusal);
    h.send(leaving, Disconnect::default());
    assert_eq!(h.sent(staying), []);
    assert_eq!(h.broker.stats().shared_handed_over, 0);
}

/// The other member's session is unaffected when one member goes: it still gets its own turn
/// for new messages, and the member that went gets nothing once it is gone.
#[test]
fn new_messages_after_a_member_left_go_to_the_members_left() {
    let mut h = broker(u16::MAX);
    let leaving = member(&mut h, V311, "leaving", None, QoS::AtLeastOnce);
    let staying = member(&mut h, V5, "staying", None, QoS::AtLeastOnce);
    let publisher = h.connect(V5, "pub");
    h.send(leaving, Disconnect::default());
    for n in 0..3u8 {
        publish_job(&mut h, publisher, n, QoS::AtLeastOnce);
    }
    assert_eq!(payloads(&publishes(h.sent(staying))), [0, 1, 2]);
    assert_eq!(h.sent(leaving), []);
    let connect = keep_session(V5, "leaving", 0);
    let (again, _, rest) = h.connect_with(connect);
    assert_eq!(rest, []);
    assert_eq!(h.sent(again), []);
}
