//! A model test of the broker core: random connects (3.1, 3.1.1 and 5.0, Clean Start or not,
//! with or without a Session Expiry Interval), takeovers, subscribes, unsubscribes, publishes
//! from clients and from the driver, normal and abrupt disconnects and time steps of three
//! clients, run on the real [`Broker`](mqtt_sansio::Broker) and on a deliberately naive
//! reference broker (`common/naive_broker.rs`: lists and linear scans, no trie) side by side.
//! After every step each client must have received the same PUBLISH packets, in the same order,
//! with the same topic, payload, QoS, RETAIN and DUP flags and Subscription Identifiers, as the
//! reference says.
//!
//! A case begins by connecting every client, then runs up to 40 steps; a step for a client
//! that is not connected is skipped. The broker's Maximum QoS is drawn per case (mostly 2):
//! subscriptions are granted at most that, and clients publish at most that. So is its own
//! limit of deliveries in flight per client (mostly none, else 1 or 2), which bounds 3.x
//! clients too. The clients are
//! raw connections of the broker harness (`common/broker.rs`), so every packet is seen as
//! sent. Each connection answers the QoS 1 and 2 PUBLISH packets it receives in one of four
//! ways: in full and at once; in full but one step late (at the start of the next step, so
//! that deliveries wait for room in the window); with PUBACK and PUBREC but never PUBCOMP (its
//! QoS 2 deliveries stay in flight, released); or not at all (its deliveries stay in flight).
//! What stays in flight comes again when the session is resumed: a PUBLISH with DUP, or the
//! PUBREL of a released one. A 5.0 client that answers in full, at once or late, may set a
//! Receive Maximum of 1 to 3.
//!
//! A client publishes one to three messages in one write. A QoS 1 or 2 message may go twice
//! before any answer, the second time with DUP (QoS 1: two messages; QoS 2: one). For a QoS 2
//! message the client may hold its PUBREL back until it next resumes its session, and then
//! send the PUBREL, or first the PUBLISH again with DUP: the message is routed once. Packet
//! Identifiers are drawn per client across connections, never one its session has open.
//!
//! Besides the deliveries, the driver checks that the CONNACK's Session Present is the
//! reference's; that a taken-over connection is closed (5.0: after DISCONNECT 0x8E) and gets
//! nothing else; that every SUBSCRIBE and UNSUBSCRIBE is answered with the expected codes;
//! that the broker never has more QoS 1 and 2 PUBLISH packets unacknowledged than the
//! client's Receive Maximum, nor reuses a Packet Identifier in flight; that a resumed session
//! re-sends the PUBREL of every released delivery; and that, after every step, the broker's
//! [`Stats`](mqtt_sansio::broker::Stats) count the sessions, subscriptions, retained
//! messages and connections the reference holds, the messages it stores (none leaks: each is
//! retained or held by a session), the messages in and out, and no drop.
//!
//! Orders the spec leaves open are compared as such: the Subscription Identifiers of one
//! delivery as a sorted list (5.0 `[MQTT-3.3.4-4]`: their order is not significant), and the
//! retained messages a SUBSCRIBE brings as a multiset (no order is promised between topics;
//! the reference then takes the broker's order for what stays in flight).
//!
//! Left out, because the reference could not know their outcome cheaply or the spec leaves it
//! open:
//! - shared subscriptions (which member gets a message is the broker's choice);
//! - wills (they add publishes at timer-driven moments; `broker_will.rs` tests them);
//! - Message Expiry and Maximum Packet Size (deliveries dropped by time or size);
//! - queue limits: they are set high enough that nothing is ever dropped;
//! - Topic Aliases, Keep Alive, authentication, the policy and assigned Client Identifiers;
//! - resuming a session across 3.x and 5.0: a 5.0 session's No Local, Retain As Published and
//!   Subscription Identifiers have no meaning for a 3.x connection, and the spec says nothing
//!   of it, so such a CONNECT is made with Clean Start;
//! - a Receive Maximum on a client that leaves deliveries in flight, and more than one QoS 1
//!   or 2 retained message for one SUBSCRIBE of a client that does not answer everything at
//!   once and has a window: which of several retained messages go into flight first would
//!   depend on the order the broker finds them in (such a SUBSCRIBE is sent with Retain Handling 2 in 5.0, and not at all in
//!   3.x);
//! - a Receive Maximum below what a resumed session has in flight: the broker re-sends all of
//!   it at once (`resumed_session_resends_no_more_than_the_receive_maximum`, ignored), so such
//!   a Receive Maximum is raised to that count;
//! - No Local for the retained messages a SUBSCRIBE brings: the broker sends them even to the
//!   client that published them, and the reference follows (5.0 section 3.8.3.1 speaks of
//!   messages forwarded on the subscription, not of retained messages sent when it is made).
//!
//! `PROPTEST_CASES` sets the case count (128 by default).
#![cfg(feature = "v5")]

mod common;

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU16;

use common::broker::{Conn, Harness, pid, text, topic, topic_filter};
use common::naive_broker::{Answers, Delivery, Link, NaiveBroker, Subscription};
use mqtt_sansio::{
    BrokerConfig, ConnectReasonCode, Disconnect, DisconnectReasonCode, Packet, ProtocolVersion,
    PubAck, PubComp, PubRec, PubRel, Publish, QoS, RetainHandling, SubAck, SubAckReasonCode,
    Subscribe, SubscriptionOptions, UnsubAck, UnsubAckReasonCode, Unsubscribe,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// The Client Identifiers of a case.
const CLIENTS: [&str; 3] = ["c0", "c1", "c2"];

/// The longest Session Expiry Interval the broker grants, in seconds (its default).
const MAX_SESSION_EXPIRY: u32 = 86_400;

/// One step of a case, as generated: what it means depends on the state it meets (see
/// [`Run::step`]).
#[derive(Clone, Debug)]
enum Op {
    /// A new connection for a client, taking over its old one if it has one.
    Connect {
        /// Which client.
        client: usize,
        /// The protocol version it speaks on the new connection.
        version: ProtocolVersion,
        /// Clean Start (Clean Session in 3.x).
        clean_start: bool,
        /// The 5.0 Session Expiry Interval, in seconds.
        expiry: u32,
        /// How the client answers what it receives.
        answers: Answers,
        /// The 5.0 Receive Maximum (only sent by a client that answers everything, at once or
        /// late).
        receive_maximum: Option<u16>,
    },
    /// One SUBSCRIBE with one or more filters and, in 5.0, maybe a Subscription Identifier.
    Subscribe {
        /// Which client.
        client: usize,
        /// Filter, QoS, No Local, Retain As Published and Retain Handling of each.
        subscriptions: Vec<(String, QoS, bool, bool, RetainHandling)>,
        /// The Subscription Identifier.
        id: Option<u32>,
    },
    /// One UNSUBSCRIBE.
    Unsubscribe {
        /// Which client.
        client: usize,
        /// The filters, compared character by character.
        filters: Vec<String>,
    },
    /// One to three PUBLISH packets in one write.
    Publish {
        /// Which client.
        client: usize,
        /// The messages, in order.
        messages: Vec<Message>,
    },
    /// The client ends its connection: DISCONNECT (in 5.0 maybe with a new Session Expiry
    /// Interval), or a socket that closes without one.
    Disconnect {
        /// Which client.
        client: usize,
        /// The socket closes without a DISCONNECT.
        cut: bool,
        /// The Session Expiry Interval the 5.0 DISCONNECT sets.
        expiry: Option<u32>,
    },
    /// The driver publishes a message ([`mqtt_sansio::Broker::publish`]): no publishing
    /// session, so No Local never applies.
    DriverPublish {
        /// The Topic Name.
        topic: String,
        /// The QoS.
        qos: QoS,
        /// The RETAIN flag.
        retain: bool,
        /// 0: an empty payload; otherwise the payload names the step.
        payload: u8,
    },
    /// Time passes.
    Advance {
        /// How much, in milliseconds.
        millis: u64,
    },
}

/// One message a client publishes.
#[derive(Clone, Debug)]
struct Message {
    /// The Topic Name.
    topic: String,
    /// The QoS asked (at most the broker's Maximum QoS is used).
    qos: QoS,
    /// The RETAIN flag.
    retain: bool,
    /// 0: an empty payload; otherwise the payload names the step and the message.
    payload: u8,
    /// QoS 1 and 2: the PUBLISH goes twice, the second time with DUP, before any answer. A
    /// QoS 1 message is then routed twice, a QoS 2 message once (5.0 `[MQTT-4.3.3-10]`).
    repeat: bool,
    /// QoS 2: the client holds its PUBREL back until it resumes its session, and then sends
    /// it, or first the PUBLISH again with DUP; the message is routed once all the same.
    hold_release: bool,
}

/// A client's live connection.
struct Live {
    /// The harness's connection.
    conn: Conn,
    /// The version it speaks.
    version: ProtocolVersion,
    /// How it answers QoS 1 and 2 deliveries.
    answers: Answers,
    /// The Receive Maximum its CONNECT carried.
    receive_maximum: Option<u16>,
    /// Packet Identifiers of QoS 1 and 2 PUBLISH packets received and not yet acknowledged
    /// (PUBACK sent, or PUBCOMP sent).
    unacknowledged: HashSet<u16>,
    /// SUBACK and UNSUBACK packets expected, in order.
    expected_acks: Vec<Packet>,
    /// Whether the broker is expected to close it with a DISCONNECT.
    expect_disconnect: bool,
    /// Answers held back until the next step ([`Answers::Late`]).
    pending: Vec<Packet>,
}

/// A case being run: the broker, the reference and the clients.
struct Run {
    /// The broker under test, with the clients' ends of its connections.
    harness: Harness,
    /// The broker's Maximum QoS: what it grants at most, and what clients publish at most.
    maximum_qos: QoS,
    /// The broker's own limit of QoS 1 and 2 deliveries in flight per client.
    max_inflight: u16,
    /// The reference broker.
    model: NaiveBroker,
    /// Each client's live connection, if it has one.
    live: Vec<Option<Live>>,
    /// What each client received during the current step.
    received: Vec<Vec<Delivery>>,
    /// Per client: Packet Identifiers of QoS 2 deliveries it has had a PUBREL for and has not
    /// answered (its session's, across connections).
    released: Vec<HashSet<u16>>,
    /// Per client: the PUBREL packets it received during the current step.
    pubrels: Vec<HashSet<u16>>,
    /// The PUBREL packets a resumed session must re-send during the current step.
    expected_pubrels: Option<(usize, HashSet<u16>)>,
    /// Per client: the Packet Identifier it used last (across connections, so that a new
    /// one never meets an exchange its session still has open).
    last_id: Vec<u16>,
    /// Per client: QoS 2 messages it published whose PUBREL it will hold back, PUBREC not
    /// yet received.
    hold_back: Vec<HashMap<u16, Publish>>,
    /// Per client: QoS 2 messages it published, PUBREC received, PUBREL held back until the
    /// session is resumed.
    unreleased: Vec<Vec<Publish>>,
    /// Every step so far, as run, for failure messages.
    log: Vec<String>,
}

impl Run {
    /// A case on a broker with this Maximum QoS and in-flight limit, and an empty reference.
    fn new(maximum_qos: QoS, max_inflight: u16) -> Self {
        let config = BrokerConfig {
            maximum_qos,
            max_inflight,
            // Room for every QoS 2 exchange a client leaves open.
            receive_maximum: 1000,
            max_queued_messages: 1_000_000,
            max_queued_bytes: usize::MAX / 2,
            max_session_expiry: MAX_SESSION_EXPIRY,
            ..BrokerConfig::default()
        };
        Self {
            harness: Harness::new(config),
            maximum_qos,
            max_inflight,
            model: NaiveBroker::new(MAX_SESSION_EXPIRY),
            live: CLIENTS.iter().map(|_| None).collect(),
            received: CLIENTS.iter().map(|_| Vec::new()).collect(),
            released: CLIENTS.iter().map(|_| HashSet::new()).collect(),
            pubrels: CLIENTS.iter().map(|_| HashSet::new()).collect(),
            expected_pubrels: None,
            last_id: CLIENTS.iter().map(|_| 0).collect(),
            hold_back: CLIENTS.iter().map(|_| HashMap::new()).collect(),
            unreleased: CLIENTS.iter().map(|_| Vec::new()).collect(),
            log: Vec::new(),
        }
    }

    /// Runs one step on both brokers and compares what every client received.
    fn step(&mut self, index: usize, op: &Op) {
        self.answer_late();
        let skipped = match op {
            Op::Subscribe { client, .. }
            | Op::Unsubscribe { client, .. }
            | Op::Publish { client, .. }
            | Op::Disconnect { client, .. } => self.live[*client].is_none(),
            _ => false,
        };
        let ordered = if skipped {
            true
        } else {
            self.run_op(index, op)
        };
        self.pump();
        self.model.settle();
        self.compare(ordered);
        // [MQTT-4.4.0-1]: a resumed session re-sends the PUBREL of every QoS 2 delivery
        // released and not completed.
        if let Some((client, expected)) = self.expected_pubrels.take() {
            assert!(
                expected.is_subset(&self.pubrels[client]),
                "{}: PUBREL expected again for {expected:?}, got {:?}\n{}",
                CLIENTS[client],
                self.pubrels[client],
                self.trace()
            );
        }
        for (client, id) in CLIENTS.iter().enumerate() {
            self.pubrels[client].clear();
            if self.model.session(id).is_none() {
                self.released[client].clear();
                self.unreleased[client].clear();
            }
            assert!(self.hold_back[client].is_empty(), "a PUBREC never came");
        }
        self.check_state();
    }

    /// Clients that answer late answer what they received during the last step, on both
    /// brokers.
    fn answer_late(&mut self) {
        for client in 0..CLIENTS.len() {
            let Some(live) = self.live[client].as_mut() else {
                continue;
            };
            if live.pending.is_empty() {
                continue;
            }
            let pending = std::mem::take(&mut live.pending);
            for packet in &pending {
                match packet {
                    Packet::PubAck(ack) => {
                        live.unacknowledged.remove(&ack.packet_id.get());
                    }
                    Packet::PubComp(comp) => {
                        live.unacknowledged.remove(&comp.packet_id.get());
                        self.released[client].remove(&comp.packet_id.get());
                    }
                    _ => {}
                }
            }
            let conn = live.conn;
            self.harness.send_all(conn, pending);
        }
        self.model.answer_late();
        self.pump();
    }

    /// Runs one step's operation on both brokers; whether its deliveries are compared in
    /// order.
    fn run_op(&mut self, index: usize, op: &Op) -> bool {
        match op.clone() {
            Op::Connect {
                client,
                version,
                clean_start,
                expiry,
                answers,
                receive_maximum,
            } => {
                self.connect(
                    client,
                    version,
                    clean_start,
                    expiry,
                    answers,
                    receive_maximum,
                );
                true
            }
            Op::Subscribe {
                client,
                subscriptions,
                id,
            } => {
                self.subscribe(client, &subscriptions, id);
                false
            }
            Op::Unsubscribe { client, filters } => {
                self.unsubscribe(client, &filters);
                true
            }
            Op::Publish { client, messages } => {
                self.publish(client, index, &messages);
                true
            }
            Op::Disconnect {
                client,
                cut,
                expiry,
            } => {
                self.disconnect(client, cut, expiry);
                true
            }
            Op::DriverPublish {
                topic,
                qos,
                retain,
                payload,
            } => {
                let payload = if payload == 0 {
                    Vec::new()
                } else {
                    format!("{payload}.{index}").into_bytes()
                };
                self.driver_publish(&topic, qos, retain, &payload);
                true
            }
            Op::Advance { millis } => {
                self.log.push(format!("advance {millis} ms"));
                self.harness.advance(millis);
                self.model.advance(millis);
                true
            }
        }
    }

    /// A CONNECT of `client` on a new connection, taking over the old one.
    fn connect(
        &mut self,
        client: usize,
        version: ProtocolVersion,
        mut clean_start: bool,
        expiry: u32,
        answers: Answers,
        receive_maximum: Option<u16>,
    ) {
        let id = CLIENTS[client];
        // A session is resumed within 3.x or within 5.0 only (see the module docs).
        if let Some(session) = self.model.session(id)
            && session.version.is_v5() != version.is_v5()
        {
            clean_start = true;
        }
        let mut receive_maximum = receive_maximum
            .filter(|_| matches!(answers, Answers::All | Answers::Late) && version.is_v5());
        // The broker re-sends everything a resumed session has in flight, whatever the new
        // Receive Maximum (see `resumed_session_resends_no_more_than_the_receive_maximum`):
        // a smaller one is raised to it.
        if let Some(session) = self.model.session(id)
            && !clean_start
            && let Some(maximum) = &mut receive_maximum
        {
            let inflight = u16::try_from(session.inflight.len()).unwrap_or(u16::MAX);
            *maximum = (*maximum).max(inflight);
        }
        self.log.push(format!(
            "connect {id} {version} clean_start={clean_start} expiry={expiry} \
             answers={answers:?} receive_maximum={receive_maximum:?}"
        ));
        let old = self.live[client].take();
        let mut connect = mqtt_sansio::Connect::new(version, text(id));
        connect.clean_start = clean_start;
        if version.is_v5() {
            connect.properties.session_expiry_interval = Some(expiry);
            connect.properties.receive_maximum = receive_maximum.and_then(NonZeroU16::new);
        }
        let window = receive_maximum
            .unwrap_or(u16::MAX)
            .min(self.max_inflight)
            .into();
        let resumed =
            self.model
                .connect(id, version, clean_start, expiry, Link { answers, window });
        if resumed {
            self.expected_pubrels = Some((client, self.released[client].clone()));
        } else {
            self.released[client].clear();
            self.unreleased[client].clear();
        }
        // 3.1 has no Session Present flag.
        let session_present = resumed && version != ProtocolVersion::V3_1;
        let (conn, connack, rest) = self.harness.connect_with(connect);
        assert_eq!(
            connack.reason_code,
            ConnectReasonCode::Success,
            "{}",
            self.trace()
        );
        assert_eq!(
            connack.session_present,
            session_present,
            "Session Present\n{}",
            self.trace()
        );
        if let Some(old) = old {
            // Taken over: the old connection is closed, in 5.0 after DISCONNECT 0x8E, and
            // gets nothing else.
            assert!(
                self.harness.closed(old.conn).is_some(),
                "the old connection stays open\n{}",
                self.trace()
            );
            let farewell = self.harness.sent(old.conn);
            let expected: Vec<Packet> = if old.version.is_v5() {
                vec![Disconnect::new(DisconnectReasonCode::SessionTakenOver).into()]
            } else {
                Vec::new()
            };
            assert_eq!(farewell, expected, "{}", self.trace());
        }
        self.live[client] = Some(Live {
            conn,
            version,
            answers,
            receive_maximum,
            unacknowledged: HashSet::new(),
            expected_acks: Vec::new(),
            expect_disconnect: false,
            pending: Vec::new(),
        });
        // PUBREL packets the old connection got this step do not count for the new one.
        self.pubrels[client].clear();
        self.handle_all(client, rest);
        // The QoS 2 exchanges the client left open: PUBREL, or the PUBLISH again with DUP
        // (which the broker must answer with PUBREC and not route again).
        let unreleased = std::mem::take(&mut self.unreleased[client]);
        if !unreleased.is_empty() {
            let packets: Vec<Packet> = unreleased
                .into_iter()
                .map(|publish| {
                    let id = publish.packet_id().expect("QoS 2");
                    if id.get() % 2 == 1 {
                        let mut again = publish;
                        again.delivery = again.delivery.with_dup(true);
                        again.into()
                    } else {
                        PubRel::new(id).into()
                    }
                })
                .collect();
            self.harness.send_all(conn, packets);
        }
    }

    /// A Packet Identifier for a new exchange of `client`: unused by its session.
    fn next_id(&mut self, client: usize) -> mqtt_sansio::PacketId {
        loop {
            let id = self.last_id[client].wrapping_add(1).max(1);
            self.last_id[client] = id;
            let open = self.unreleased[client]
                .iter()
                .any(|p| p.packet_id().is_some_and(|p| p.get() == id))
                || self.hold_back[client].contains_key(&id);
            if !open {
                return pid(id);
            }
        }
    }

    /// One SUBSCRIBE of `client`, with the options its version can carry.
    fn subscribe(
        &mut self,
        client: usize,
        subscriptions: &[(String, QoS, bool, bool, RetainHandling)],
        id: Option<u32>,
    ) {
        let live = self.live[client].as_mut().expect("connected");
        let v5 = live.version.is_v5();
        let conn = live.conn;
        let windowed = live.answers != Answers::All
            && self
                .model
                .session(CLIENTS[client])
                .and_then(|s| s.link)
                .is_some_and(|link| link.window < usize::from(u16::MAX));
        let id = id.filter(|_| v5);
        // What was asked: the granted QoS may be lower.
        let asked: Vec<QoS> = subscriptions.iter().map(|(_, qos, ..)| *qos).collect();
        let mut subscriptions: Vec<Subscription> = subscriptions
            .iter()
            .map(|(filter, qos, no_local, rap, handling)| Subscription {
                filter: filter.clone(),
                // [MQTT-3.8.4-8] (5.0): granted at most the broker's Maximum QoS.
                qos: (*qos).min(self.maximum_qos),
                no_local: *no_local && v5,
                retain_as_published: *rap && v5,
                retain_handling: if v5 {
                    *handling
                } else {
                    RetainHandling::SendAtSubscribe
                },
                id,
            })
            .collect();
        // A client that leaves deliveries in flight past the end of the step, with a window,
        // gets at most one QoS 1 or 2 retained message per SUBSCRIBE: of several, which go
        // into flight first and which wait would depend on the order the broker finds them
        // in.
        let waiting: usize = subscriptions
            .iter()
            .filter(|s| s.retain_handling != RetainHandling::DoNotSend)
            .map(|s| {
                self.model
                    .retained_matching(&s.filter)
                    .iter()
                    .filter(|r| r.qos.min(s.qos) != QoS::AtMostOnce)
                    .count()
            })
            .sum();
        if windowed && waiting > 1 {
            if !v5 {
                // 3.x has no Retain Handling: the SUBSCRIBE is not sent.
                self.log.push(format!(
                    "subscribe {} left out: {waiting} retained messages would wait",
                    CLIENTS[client]
                ));
                return;
            }
            for subscription in &mut subscriptions {
                subscription.retain_handling = RetainHandling::DoNotSend;
            }
        }
        self.log.push(format!(
            "subscribe {} {:?}",
            CLIENTS[client],
            subscriptions
                .iter()
                .map(|s| format!(
                    "{} q{} nl={} rap={} rh={} id={:?}",
                    s.filter,
                    s.qos as u8,
                    s.no_local,
                    s.retain_as_published,
                    s.retain_handling as u8,
                    s.id
                ))
                .collect::<Vec<_>>()
        ));
        let packet_id = self.next_id(client);
        let mut subscribe = Subscribe::new(
            packet_id,
            subscriptions
                .iter()
                .zip(&asked)
                .map(|(s, qos)| mqtt_sansio::Subscription {
                    filter: topic_filter(&s.filter),
                    options: SubscriptionOptions {
                        qos: *qos,
                        no_local: s.no_local,
                        retain_as_published: s.retain_as_published,
                        retain_handling: s.retain_handling,
                    },
                }),
        );
        subscribe.properties.subscription_identifier =
            id.map(|id| mqtt_sansio::SubscriptionId::new(id).expect("valid identifier"));
        let codes = subscriptions.iter().map(|s| match s.qos {
            QoS::AtMostOnce => SubAckReasonCode::GrantedQoS0,
            QoS::AtLeastOnce => SubAckReasonCode::GrantedQoS1,
            QoS::ExactlyOnce => SubAckReasonCode::GrantedQoS2,
        });
        let live = self.live[client].as_mut().expect("connected");
        live.expected_acks
            .push(SubAck::new(packet_id, codes).into());
        self.model.subscribe(CLIENTS[client], &subscriptions);
        self.harness.send(conn, subscribe);
    }

    /// One UNSUBSCRIBE of `client`.
    fn unsubscribe(&mut self, client: usize, filters: &[String]) {
        self.log
            .push(format!("unsubscribe {} {filters:?}", CLIENTS[client]));
        let live = self.live[client].as_ref().expect("connected");
        let (conn, v5) = (live.conn, live.version.is_v5());
        let packet_id = self.next_id(client);
        let existed = self.model.unsubscribe(CLIENTS[client], filters);
        let codes = existed.into_iter().filter(|_| v5).map(|existed| {
            if existed {
                UnsubAckReasonCode::Success
            } else {
                UnsubAckReasonCode::NoSubscriptionExisted
            }
        });
        let expected = UnsubAck::new(packet_id, codes);
        let live = self.live[client].as_mut().expect("connected");
        live.expected_acks.push(expected.into());
        let unsubscribe = Unsubscribe::new(packet_id, filters.iter().map(|f| topic_filter(f)));
        self.harness.send(conn, unsubscribe);
    }

    /// `client` publishes `messages` in one write, in step `index` (which names payloads).
    fn publish(&mut self, client: usize, index: usize, messages: &[Message]) {
        let conn = self.live[client].as_ref().expect("connected").conn;
        let mut packets = Vec::new();
        let mut log = Vec::new();
        for (number, message) in messages.iter().enumerate() {
            // A client publishes at most at the broker's Maximum QoS.
            let qos = message.qos.min(self.maximum_qos);
            let repeat = message.repeat && qos != QoS::AtMostOnce;
            let payload = if message.payload == 0 {
                Vec::new()
            } else {
                format!("{}.{index}.{number}", message.payload).into_bytes()
            };
            let name = &message.topic;
            let retain = message.retain;
            let hold = message.hold_release && qos == QoS::ExactlyOnce;
            log.push(format!(
                "{name}={:?} q{} retain={retain}{}{}",
                String::from_utf8_lossy(&payload),
                qos as u8,
                if repeat { " twice" } else { "" },
                if hold { " PUBREL held back" } else { "" }
            ));
            let mut publish = Publish::new(topic(name), bytes::Bytes::copy_from_slice(&payload));
            publish.retain = retain;
            if qos != QoS::AtMostOnce {
                let id = self.next_id(client);
                publish.delivery = mqtt_sansio::Delivery::new(qos, id);
                if hold {
                    self.hold_back[client].insert(id.get(), publish.clone());
                }
            }
            if repeat {
                let mut again = publish.clone();
                again.delivery = again.delivery.with_dup(true);
                packets.push(Packet::from(publish));
                packets.push(Packet::from(again));
            } else {
                packets.push(Packet::from(publish));
            }
            let sender = Some(CLIENTS[client]);
            self.model.publish(sender, name, qos, retain, &payload);
            // [MQTT-3.3.1-3]: the DUP of the PUBLISH received is not passed on.
            if repeat && qos == QoS::AtLeastOnce {
                self.model.publish(sender, name, qos, retain, &payload);
            }
        }
        self.log
            .push(format!("publish {} {}", CLIENTS[client], log.join(", ")));
        self.harness.send_all(conn, packets);
    }

    /// The driver publishes a message through the broker's API.
    fn driver_publish(&mut self, name: &str, qos: QoS, retain: bool, payload: &[u8]) {
        self.log.push(format!(
            "driver publishes {name}={:?} q{} retain={retain}",
            String::from_utf8_lossy(payload),
            qos as u8
        ));
        let mut publish = Publish::new(topic(name), bytes::Bytes::copy_from_slice(payload));
        publish.retain = retain;
        if qos != QoS::AtMostOnce {
            publish.delivery = mqtt_sansio::Delivery::new(qos, pid(1));
        }
        self.model.publish(None, name, qos, retain, payload);
        let now = self.harness.now;
        self.harness
            .broker
            .publish(now, publish)
            .expect("a message with a topic");
        // No time passes: this only writes out what the broker queued.
        self.harness.advance(0);
    }

    /// `client` ends its connection: DISCONNECT, or a cut socket.
    fn disconnect(&mut self, client: usize, cut: bool, expiry: Option<u32>) {
        let id = CLIENTS[client];
        let mut live = self.live[client].take().expect("connected");
        if cut {
            self.log.push(format!("cut {id}"));
            self.model.end_connection(id);
            self.harness.drop_socket(live.conn);
            return;
        }
        let expiry = expiry.filter(|_| live.version.is_v5());
        self.log
            .push(format!("disconnect {id} new expiry={expiry:?}"));
        // 0 on CONNECT, more on DISCONNECT: a Protocol Error (5.0 section 3.14.2.2.2).
        let refused = self
            .model
            .session(id)
            .is_some_and(|s| s.expiry == 0 && expiry.is_some_and(|e| e != 0));
        self.model.disconnect(id, expiry);
        let mut disconnect = Disconnect::new(DisconnectReasonCode::NormalDisconnection);
        disconnect.properties.session_expiry_interval = expiry;
        self.harness.send(live.conn, disconnect);
        assert!(
            self.harness.closed(live.conn).is_some(),
            "DISCONNECT did not close the connection\n{}",
            self.trace()
        );
        let sent = self.harness.sent(live.conn);
        let expected: Vec<Packet> = if refused {
            vec![Disconnect::new(DisconnectReasonCode::ProtocolError).into()]
        } else {
            Vec::new()
        };
        live.expect_disconnect = refused;
        assert_eq!(sent, expected, "{}", self.trace());
    }

    /// Takes what the broker sent every live connection and answers it, until nothing moves.
    fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            for client in 0..CLIENTS.len() {
                let Some(conn) = self.live[client].as_ref().map(|live| live.conn) else {
                    continue;
                };
                let packets = self.harness.sent(conn);
                moved |= !packets.is_empty();
                self.handle_all(client, packets);
            }
            if !moved {
                return;
            }
        }
        panic!("the exchange never ended\n{}", self.trace());
    }

    /// What a client does with the packets the broker wrote since it last looked: all of them
    /// were sent before the broker saw any answer to them.
    fn handle_all(&mut self, client: usize, packets: Vec<Packet>) {
        let live = self.live[client].as_ref().expect("connected");
        // 5.0 [MQTT-3.3.4-9]: no more QoS 1 and 2 PUBLISH packets unacknowledged than the
        // client's Receive Maximum.
        if let Some(maximum) = live.receive_maximum {
            let sent = packets
                .iter()
                .filter(|p| matches!(p, Packet::Publish(p) if p.qos() != QoS::AtMostOnce))
                .count();
            let unacknowledged = live.unacknowledged.len() + sent;
            assert!(
                unacknowledged <= usize::from(maximum),
                "{}: {unacknowledged} QoS 1 and 2 PUBLISH packets unacknowledged, Receive \
                 Maximum {maximum}\n{}",
                CLIENTS[client],
                self.trace()
            );
        }
        for packet in packets {
            self.handle(client, packet);
        }
    }

    /// What a client does with one packet from the broker.
    fn handle(&mut self, client: usize, packet: Packet) {
        let trace = self.trace();
        let live = self.live[client].as_mut().expect("connected");
        let conn = live.conn;
        match packet {
            Packet::Publish(publish) => {
                let mut sub_ids: Vec<u32> = publish
                    .properties
                    .subscription_identifiers
                    .iter()
                    .map(|id| id.get())
                    .collect();
                sub_ids.sort_unstable();
                self.received[client].push(Delivery {
                    topic: publish.topic.as_ref().expect("a topic").as_str().to_owned(),
                    payload: publish.payload.to_vec(),
                    qos: publish.qos(),
                    retain: publish.retain,
                    dup: publish.is_dup(),
                    sub_ids,
                });
                let Some(packet_id) = publish.packet_id() else {
                    return;
                };
                // 5.0 [MQTT-2.2.1-4]: an identifier in flight is not used again.
                assert!(
                    live.unacknowledged.insert(packet_id.get())
                        && !self.released[client].contains(&packet_id.get()),
                    "{}: Packet Identifier {} reused while in flight\n{trace}",
                    CLIENTS[client],
                    packet_id.get()
                );
                match (live.answers, publish.qos()) {
                    (Answers::Nothing, _) => {}
                    (Answers::Late, QoS::AtLeastOnce) => {
                        live.pending.push(PubAck::new(packet_id).into());
                    }
                    (Answers::Late, _) => live.pending.push(PubRec::new(packet_id).into()),
                    (_, QoS::AtLeastOnce) => {
                        live.unacknowledged.remove(&packet_id.get());
                        self.harness.send(conn, PubAck::new(packet_id));
                    }
                    (_, _) => self.harness.send(conn, PubRec::new(packet_id)),
                }
            }
            Packet::PubRel(release) => {
                let id = release.packet_id.get();
                self.pubrels[client].insert(id);
                if live.answers == Answers::Late {
                    self.released[client].insert(id);
                    live.pending.push(PubComp::new(release.packet_id).into());
                } else if live.answers == Answers::All {
                    live.unacknowledged.remove(&id);
                    self.released[client].remove(&id);
                    self.harness.send(conn, PubComp::new(release.packet_id));
                } else {
                    self.released[client].insert(id);
                }
            }
            Packet::PubRec(received) => {
                let id = received.packet_id.get();
                if let Some(publish) = self.hold_back[client].remove(&id) {
                    self.unreleased[client].push(publish);
                } else if !self.unreleased[client]
                    .iter()
                    .any(|p| p.packet_id() == Some(received.packet_id))
                {
                    self.harness.send(conn, PubRel::new(received.packet_id));
                }
            }
            Packet::PubAck(_) | Packet::PubComp(_) => {}
            packet @ (Packet::SubAck(_) | Packet::UnsubAck(_)) => {
                assert!(
                    !live.expected_acks.is_empty(),
                    "{}: unexpected {packet:?}\n{trace}",
                    CLIENTS[client]
                );
                let expected = live.expected_acks.remove(0);
                assert_eq!(packet, expected, "{}\n{trace}", CLIENTS[client]);
            }
            other => panic!("{}: unexpected {other:?}\n{trace}", CLIENTS[client]),
        }
    }

    /// Compares what every client received in this step with what the reference delivered:
    /// in order, or as a multiset for a SUBSCRIBE's retained messages.
    fn compare(&mut self, ordered: bool) {
        let mut expected: Vec<Vec<Delivery>> = CLIENTS.iter().map(|_| Vec::new()).collect();
        for (id, delivery) in self.model.take_out() {
            let client = CLIENTS.iter().position(|c| *c == id).expect("known client");
            expected[client].push(delivery);
        }
        for (client, expected) in expected.into_iter().enumerate() {
            let got = std::mem::take(&mut self.received[client]);
            let mut expected = expected;
            let mut compared = got.clone();
            if !ordered {
                compared.sort();
                expected.sort();
            }
            assert_eq!(
                compared,
                expected,
                "{} received (left) not what the reference delivered (right)\n{}",
                CLIENTS[client],
                self.trace()
            );
            if !ordered {
                self.model.adopt_order(CLIENTS[client], &got);
            }
        }
    }

    /// The broker's counters against the reference's state, and every connection still open.
    fn check_state(&mut self) {
        let stats = self.harness.broker.stats();
        let model = &self.model;
        let open = self.live.iter().flatten().count();
        let subscriptions: usize = model.sessions.iter().map(|s| s.subscriptions.len()).sum();
        // Every message the broker stores is held by a session or retained: none leaks.
        let (held, held_bytes) = model.held();
        let retained_bytes: usize = model.retained.iter().map(|r| r.payload.len()).sum();
        let mine = (
            model.sessions.len(),
            subscriptions,
            model.retained.len(),
            open,
            held + model.retained.len(),
            held_bytes + retained_bytes,
            model.messages_in,
            model.messages_out,
            [0; 3],
        );
        let theirs = (
            stats.sessions,
            stats.subscriptions,
            stats.retained,
            stats.connections,
            stats.stored_messages,
            stats.stored_bytes,
            stats.messages_in,
            stats.messages_out,
            [
                stats.dropped_queue_full,
                stats.dropped_too_large,
                stats.dropped_expired,
            ],
        );
        assert_eq!(
            theirs,
            mine,
            "(sessions, subscriptions, retained, connections, stored messages, stored bytes, \
             messages in, messages out, dropped)\n{}",
            self.trace()
        );
        for (client, live) in self.live.iter().enumerate() {
            if let Some(live) = live {
                assert!(
                    self.harness.closed(live.conn).is_none() && !live.expect_disconnect,
                    "{} was closed: {:?}\n{}",
                    CLIENTS[client],
                    self.harness.closed(live.conn),
                    self.trace()
                );
                assert!(
                    live.expected_acks.is_empty(),
                    "{}: no answer to SUBSCRIBE or UNSUBSCRIBE\n{}",
                    CLIENTS[client],
                    self.trace()
                );
            }
        }
    }

    /// The broker's settings and every step so far, for failure messages.
    fn trace(&self) -> String {
        let mut out = format!(
            "broker Maximum QoS {}, in flight at most {}; steps:\n",
            self.maximum_qos as u8, self.max_inflight
        );
        for (index, line) in self.log.iter().enumerate() {
            out.push_str(&format!("  {index:>2}: {line}\n"));
        }
        out
    }
}

// ---- strategies ----

/// One of the clients.
fn client() -> impl Strategy<Value = usize> {
    0..CLIENTS.len()
}

/// Any QoS.
fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

/// How many levels a topic or filter has: mostly one or two, so that they meet often.
fn depth() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(1usize), 3 => Just(2), 1 => Just(3)]
}

/// A topic of one to three levels: `a`, `b`, an empty level, and `$s` first.
fn topic_name() -> impl Strategy<Value = String> {
    let first = prop_oneof![5 => Just("a"), 3 => Just("b"), 1 => Just(""), 1 => Just("$s")];
    let rest = prop_oneof![5 => Just("a"), 3 => Just("b"), 1 => Just("")];
    (first, vec(rest, 2), depth()).prop_map(|(first, rest, depth)| {
        let mut levels = vec![first];
        levels.extend(&rest[..depth - 1]);
        let name = levels.join("/");
        if name.is_empty() {
            "a".to_owned()
        } else {
            name
        }
    })
}

/// A filter of one to three levels from the topics' alphabet and `+`, maybe ending in `#`,
/// or `#` alone.
fn filter() -> impl Strategy<Value = String> {
    let first = prop_oneof![
        5 => Just("a"), 3 => Just("b"), 5 => Just("+"), 1 => Just(""), 1 => Just("$s")
    ];
    let rest = prop_oneof![5 => Just("a"), 3 => Just("b"), 5 => Just("+"), 1 => Just("")];
    (first, vec(rest, 2), depth(), 0..3u8, 0..8u8).prop_map(|(first, rest, depth, hash, only)| {
        if only == 0 {
            return "#".to_owned();
        }
        let mut levels = vec![first];
        levels.extend(&rest[..depth - 1]);
        if hash == 0 {
            levels.push("#");
        }
        let filter = levels.join("/");
        if filter.is_empty() {
            "a".to_owned()
        } else {
            filter
        }
    })
}

/// A Retain Handling option, mostly 0.
fn retain_handling() -> impl Strategy<Value = RetainHandling> {
    prop_oneof![
        2 => Just(RetainHandling::SendAtSubscribe),
        1 => Just(RetainHandling::SendAtSubscribeIfNew),
        1 => Just(RetainHandling::DoNotSend),
    ]
}

/// A protocol version, mostly 5.0.
fn version() -> impl Strategy<Value = ProtocolVersion> {
    prop_oneof![
        1 => Just(ProtocolVersion::V3_1),
        2 => Just(ProtocolVersion::V3_1_1),
        3 => Just(ProtocolVersion::V5),
    ]
}

/// A CONNECT of the client `client` picks.
fn connect(client: impl Strategy<Value = usize>) -> impl Strategy<Value = Op> {
    (
        client,
        version(),
        prop_oneof![1 => Just(true), 2 => Just(false)],
        prop_oneof![Just(0u32), Just(1), Just(2), Just(30), Just(u32::MAX)],
        prop_oneof![
            4 => Just(Answers::All),
            3 => Just(Answers::Late),
            1 => Just(Answers::NoPubComp),
            1 => Just(Answers::Nothing),
        ],
        prop_oneof![1 => Just(None), 1 => (1u16..=3).prop_map(Some)],
    )
        .prop_map(
            |(client, version, clean_start, expiry, answers, receive_maximum)| Op::Connect {
                client,
                version,
                clean_start,
                expiry,
                answers,
                receive_maximum,
            },
        )
}

/// A CONNECT of every client, to begin a case with.
fn connect_all() -> impl Strategy<Value = Vec<Op>> {
    (0..CLIENTS.len())
        .map(|client| connect(Just(client)))
        .collect::<Vec<_>>()
}

/// One step, weighted towards publishing and subscribing.
fn op() -> impl Strategy<Value = Op> {
    let connect = connect(client());
    let subscription = (
        filter(),
        qos(),
        prop_oneof![3 => Just(false), 1 => Just(true)],
        any::<bool>(),
        retain_handling(),
    );
    let subscribe = (
        client(),
        vec(subscription, 1..=3),
        prop_oneof![Just(None), (1u32..=3).prop_map(Some)],
    )
        .prop_map(|(client, subscriptions, id)| Op::Subscribe {
            client,
            subscriptions,
            id,
        });
    let unsubscribe = (client(), vec(filter(), 1..=2))
        .prop_map(|(client, filters)| Op::Unsubscribe { client, filters });
    let message = || {
        (
            topic_name(),
            qos(),
            any::<bool>(),
            prop_oneof![1 => Just(0u8), 5 => 1u8..=9],
            prop_oneof![5 => Just(false), 1 => Just(true)],
            prop_oneof![4 => Just(false), 1 => Just(true)],
        )
            .prop_map(
                |(topic, qos, retain, payload, repeat, hold_release)| Message {
                    topic,
                    qos,
                    retain,
                    payload,
                    repeat,
                    hold_release,
                },
            )
    };
    let publish = (
        client(),
        prop_oneof![2 => vec(message(), 1..=1), 1 => vec(message(), 2..=3)],
    )
        .prop_map(|(client, messages)| Op::Publish { client, messages });
    let disconnect = (
        client(),
        any::<bool>(),
        prop_oneof![3 => Just(None), 1 => Just(Some(0u32)), 1 => Just(Some(1)), 1 => Just(Some(5))],
    )
        .prop_map(|(client, cut, expiry)| Op::Disconnect {
            client,
            cut,
            expiry,
        });
    let driver = (
        topic_name(),
        qos(),
        any::<bool>(),
        prop_oneof![1 => Just(0u8), 5 => 1u8..=9],
    )
        .prop_map(|(topic, qos, retain, payload)| Op::DriverPublish {
            topic,
            qos,
            retain,
            payload,
        });
    // Now and then exactly a Session Expiry Interval, or a millisecond short of one.
    let advance = prop_oneof![
        6 => 0u64..3_000,
        1 => Just(999u64),
        1 => Just(1_000u64),
        1 => Just(2_000u64),
        1 => Just(u64::from(MAX_SESSION_EXPIRY) * 1000),
    ]
    .prop_map(|millis| Op::Advance { millis });
    prop_oneof![
        2 => connect,
        4 => subscribe,
        1 => unsubscribe,
        8 => publish,
        1 => disconnect,
        1 => driver,
        1 => advance,
    ]
}

/// The broker's Maximum QoS for a case: mostly 2.
fn maximum_qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        1 => Just(QoS::AtMostOnce),
        2 => Just(QoS::AtLeastOnce),
        6 => Just(QoS::ExactlyOnce),
    ]
}

/// The case count: `PROPTEST_CASES` if set, else 128.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(128)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Over random connects, takeovers, subscribes, publishes, disconnects and time steps of
    /// three clients in 3.1, 3.1.1 and 5.0, the broker delivers what the naive reference broker
    /// does, to the same clients, in the same order, with the same topic, payload, QoS, RETAIN
    /// and DUP flags and Subscription Identifiers; a resumed session re-sends what was in
    /// flight (PUBLISH with DUP, or PUBREL) and a QoS 2 message is routed once however often
    /// its PUBLISH comes; the broker answers CONNECT, SUBSCRIBE and UNSUBSCRIBE as expected,
    /// keeps the Receive Maximum and its Packet Identifiers apart, and holds the sessions,
    /// subscriptions, retained and stored messages the reference holds.
    ///
    /// conformance: v5:MQTT-2.2.1-4, v5:MQTT-2.2.1-6, v5:MQTT-3.1.2-4, v5:MQTT-3.1.2-5,
    /// v5:MQTT-3.1.2-6, v5:MQTT-3.1.2-23, v5:MQTT-3.1.4-3, v5:MQTT-3.2.2-2, v5:MQTT-3.2.2-3,
    /// v5:MQTT-3.3.1-1, v5:MQTT-3.3.1-3, v5:MQTT-3.3.1-5, v5:MQTT-3.3.1-6, v5:MQTT-3.3.1-7,
    /// v5:MQTT-3.3.1-8, v5:MQTT-3.3.1-9, v5:MQTT-3.3.1-10, v5:MQTT-3.3.1-11, v5:MQTT-3.3.1-12,
    /// v5:MQTT-3.3.1-13, v5:MQTT-3.3.2-3, v5:MQTT-3.3.4-2, v5:MQTT-3.3.4-3, v5:MQTT-3.3.4-4,
    /// v5:MQTT-3.3.4-9, v5:MQTT-3.8.3-3, v5:MQTT-3.8.4-1, v5:MQTT-3.8.4-2, v5:MQTT-3.8.4-3,
    /// v5:MQTT-3.8.4-5, v5:MQTT-3.8.4-6, v5:MQTT-3.8.4-7, v5:MQTT-3.8.4-8, v5:MQTT-3.10.4-1,
    /// v5:MQTT-3.10.4-2, v5:MQTT-3.10.4-3, v5:MQTT-3.10.4-4, v5:MQTT-3.10.4-5,
    /// v5:MQTT-3.10.4-6, v5:MQTT-4.1.0-2, v5:MQTT-4.3.3-6, v5:MQTT-4.3.3-10,
    /// v5:MQTT-4.4.0-1, v5:MQTT-4.6.0-6, v5:MQTT-4.7.2-1, v5:MQTT-4.7.3-4, v5:MQTT-4.9.0-2,
    /// v311:MQTT-2.3.1-4, v311:MQTT-2.3.1-7, v311:MQTT-3.1.2-4, v311:MQTT-3.1.2-5,
    /// v311:MQTT-3.1.2-6, v311:MQTT-3.1.2-7, v311:MQTT-3.1.4-2, v311:MQTT-3.2.2-1,
    /// v311:MQTT-3.2.2-2, v311:MQTT-3.2.2-3, v311:MQTT-3.3.1-1, v311:MQTT-3.3.1-3,
    /// v311:MQTT-3.3.1-5, v311:MQTT-3.3.1-6, v311:MQTT-3.3.1-8, v311:MQTT-3.3.1-9,
    /// v311:MQTT-3.3.1-10, v311:MQTT-3.3.1-11, v311:MQTT-3.3.1-12, v311:MQTT-3.3.2-3,
    /// v311:MQTT-3.3.5-1, v311:MQTT-3.8.4-1, v311:MQTT-3.8.4-2, v311:MQTT-3.8.4-3,
    /// v311:MQTT-3.8.4-4, v311:MQTT-3.8.4-5, v311:MQTT-3.8.4-6, v311:MQTT-3.10.4-1,
    /// v311:MQTT-3.10.4-2, v311:MQTT-3.10.4-3, v311:MQTT-3.10.4-4, v311:MQTT-3.10.4-5,
    /// v311:MQTT-3.10.4-6, v311:MQTT-4.3.3-1, v311:MQTT-4.3.3-2, v311:MQTT-4.4.0-1,
    /// v311:MQTT-4.6.0-6, v311:MQTT-4.7.2-1, v311:MQTT-4.7.3-4
    #[test]
    fn broker_delivers_what_a_naive_reference_broker_delivers(
        maximum_qos in maximum_qos(),
        max_inflight in prop_oneof![3 => Just(u16::MAX), 1 => Just(1u16), 1 => Just(2u16)],
        start in connect_all(),
        ops in vec(op(), 1..=40),
    ) {
        let mut run = Run::new(maximum_qos, max_inflight);
        for (index, op) in start.iter().enumerate() {
            run.step(index, op);
        }
        for (index, op) in ops.iter().enumerate() {
            run.step(start.len() + index, op);
        }
    }
}

/// A resumed session's deliveries in flight are re-sent no faster than the client's new
/// Receive Maximum allows: two QoS 1 messages left unacknowledged on one connection, and a
/// reconnect with Receive Maximum 1, bring one re-sent PUBLISH (DUP) and the other only after
/// it is acknowledged.
///
/// conformance: v5:MQTT-3.3.4-9, v5:MQTT-4.9.0-1, v5:MQTT-4.9.0-2
#[test]
fn resumed_session_resends_no_more_than_the_receive_maximum() {
    use common::broker::{deliveries, got, keep_session, publish};

    let mut h = Harness::new(BrokerConfig::default());
    let v5 = ProtocolVersion::V5;
    let (sub, _, _) = h.resume(v5, "sub", 600);
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let publisher = h.connect(v5, "pub");
    h.send(publisher, publish("t", b"1", QoS::AtLeastOnce, 1));
    h.send(publisher, publish("t", b"2", QoS::AtLeastOnce, 2));
    assert_eq!(
        deliveries(&h.sent(sub)),
        [
            got("t", b"1", QoS::AtLeastOnce),
            got("t", b"2", QoS::AtLeastOnce)
        ]
    );
    // Neither is acknowledged; the connection drops, the client comes back with room for one.
    h.drop_socket(sub);
    let mut connect = keep_session(v5, "sub", 600);
    connect.properties.receive_maximum = NonZeroU16::new(1);
    let (sub, connack, after) = h.connect_with(connect);
    assert!(connack.session_present);
    let first = match after.as_slice() {
        [Packet::Publish(first)] => first.clone(),
        other => panic!(
            "expected one re-sent PUBLISH, got {} packets: {other:?}",
            other.len()
        ),
    };
    assert!(first.is_dup());
    assert_eq!(first.payload.as_ref(), b"1");
    h.send(sub, PubAck::new(first.packet_id().expect("QoS 1")));
    let second = deliveries(&h.sent(sub));
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0].payload, b"2");
}
