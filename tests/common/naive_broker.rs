//! A deliberately naive reference broker for the model test of the broker core
//! (`tests/broker_model.rs`): lists and linear scans only, no trie and no slab, written from
//! the spec's text rather than from `src/broker/`. Messages are numbered only so that the test
//! can count how many the broker should be storing.
//!
//! It knows sessions (with their subscriptions, the deliveries in flight and the ones queued),
//! retained messages and a clock, and says which PUBLISH packets each client must receive, in
//! which order, with which QoS, RETAIN and DUP flags and Subscription Identifiers. Where the
//! spec leaves the server a choice it takes the one the broker documents: one copy for
//! overlapping subscriptions (with every Subscription Identifier), QoS 0 messages not queued
//! for an absent client, a session's queue feeding its window in order. It knows nothing about
//! wills, shared subscriptions, message expiry, topic aliases, packet sizes or queue limits:
//! the model test keeps out of all of them.

use std::fmt;

use mqtt_sansio::{ProtocolVersion, QoS, RetainHandling};

/// Whether `filter` matches `topic` (sections 4.7.1 and 4.7.2): the crate's test reference,
/// written from the spec's text and checked against its examples in `proptest_topic.rs`.
use super::topic_reference::matches as topic_matches;

/// One PUBLISH packet the broker sends a client, as the client sees it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Delivery {
    /// The Topic Name.
    pub(crate) topic: String,
    /// The payload.
    pub(crate) payload: Vec<u8>,
    /// The QoS of the delivery.
    pub(crate) qos: QoS,
    /// The RETAIN flag.
    pub(crate) retain: bool,
    /// The DUP flag.
    pub(crate) dup: bool,
    /// The Subscription Identifiers, sorted: their order is not significant (5.0
    /// `[MQTT-3.3.4-4]`).
    pub(crate) sub_ids: Vec<u32>,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?} q{}{}{}",
            self.topic,
            String::from_utf8_lossy(&self.payload),
            self.qos as u8,
            if self.retain { " R" } else { "" },
            if self.dup { " D" } else { "" },
        )?;
        if !self.sub_ids.is_empty() {
            write!(f, " ids{:?}", self.sub_ids)?;
        }
        Ok(())
    }
}

/// One subscription of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Subscription {
    /// The Topic Filter, compared character by character.
    pub(crate) filter: String,
    /// The granted QoS (the broker grants what is asked: its Maximum QoS is 2).
    pub(crate) qos: QoS,
    /// No Local (5.0).
    pub(crate) no_local: bool,
    /// Retain As Published (5.0).
    pub(crate) retain_as_published: bool,
    /// Retain Handling (5.0).
    pub(crate) retain_handling: RetainHandling,
    /// The Subscription Identifier of the SUBSCRIBE that made it (5.0).
    pub(crate) id: Option<u32>,
}

/// How a client answers the QoS 1 and 2 PUBLISH packets it receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answers {
    /// At once and in full: PUBACK, or PUBREC and then PUBCOMP for the PUBREL.
    All,
    /// PUBACK and PUBREC, but never PUBCOMP: QoS 2 deliveries stay in flight, released.
    NoPubComp,
    /// Never: every QoS 1 and 2 delivery stays in flight.
    Nothing,
    /// In full, but one step late: what arrived during a step is answered at the start of the
    /// next (see [`NaiveBroker::answer_late`]), so deliveries wait for room in the window.
    Late,
}

/// The connection a session is attached to, as far as deliveries care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    /// How the client answers.
    pub(crate) answers: Answers,
    /// QoS 1 and 2 PUBLISH packets the broker may have unacknowledged on it: the client's
    /// Receive Maximum (5.0), unlimited otherwise.
    pub(crate) window: usize,
}

/// A session.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    /// The Client Identifier.
    pub(crate) client_id: String,
    /// The protocol version of its last connection.
    pub(crate) version: ProtocolVersion,
    /// Its connection, if it has one.
    pub(crate) link: Option<Link>,
    /// The Session Expiry Interval in force, in seconds.
    pub(crate) expiry: u32,
    /// While disconnected: when it ends, in milliseconds.
    pub(crate) expires_at: Option<u64>,
    /// Its subscriptions, in the order they were made.
    pub(crate) subscriptions: Vec<Subscription>,
    /// QoS 1 and 2 deliveries sent and not acknowledged, in sending order.
    pub(crate) inflight: Vec<Held>,
    /// QoS 1 and 2 deliveries waiting: for the client to come back, or for room in its window.
    pub(crate) queue: Vec<Held>,
}

/// A delivery a session holds, and the message it is a copy of: every delivery of one
/// PUBLISH shares it; each retained message sent for a SUBSCRIBE is a message of its own.
#[derive(Clone, Debug)]
pub(crate) struct Held {
    /// The message, by number.
    pub(crate) message: u64,
    /// The delivery.
    pub(crate) delivery: Delivery,
    /// QoS 2 in flight: PUBREC received, PUBREL sent, PUBCOMP awaited. A resumed session
    /// re-sends the PUBREL, not the PUBLISH.
    pub(crate) released: bool,
}

/// A retained message.
#[derive(Clone, Debug)]
pub(crate) struct Retained {
    /// Its topic.
    pub(crate) topic: String,
    /// Its payload (never empty).
    pub(crate) payload: Vec<u8>,
    /// The QoS it was published with.
    pub(crate) qos: QoS,
}

/// The reference broker; see the module docs.
#[derive(Clone, Debug)]
pub(crate) struct NaiveBroker {
    /// The sessions, at most one per Client Identifier.
    pub(crate) sessions: Vec<Session>,
    /// The retained messages, at most one per topic.
    pub(crate) retained: Vec<Retained>,
    /// The clock, in milliseconds.
    pub(crate) now: u64,
    /// The longest Session Expiry Interval the broker grants, in seconds.
    pub(crate) max_session_expiry: u32,
    /// Deliveries made and not yet taken, in order: (Client Identifier, delivery).
    out: Vec<(String, Delivery)>,
    /// The number of the next message.
    next_message: u64,
    /// Messages routed from clients (not the driver's).
    pub(crate) messages_in: u64,
    /// Deliveries sent for the first time (re-sends with DUP are not counted).
    pub(crate) messages_out: u64,
}

impl NaiveBroker {
    /// An empty broker at time 0 that keeps sessions at most `max_session_expiry` seconds.
    pub(crate) fn new(max_session_expiry: u32) -> Self {
        Self {
            sessions: Vec::new(),
            retained: Vec::new(),
            now: 0,
            max_session_expiry,
            out: Vec::new(),
            next_message: 0,
            messages_in: 0,
            messages_out: 0,
        }
    }

    /// The session of `client_id`, if there is one.
    pub(crate) fn session(&self, client_id: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.client_id == client_id)
    }

    fn position(&self, client_id: &str) -> Option<usize> {
        self.sessions.iter().position(|s| s.client_id == client_id)
    }

    /// Whether `client_id` is connected.
    pub(crate) fn is_connected(&self, client_id: &str) -> bool {
        self.session(client_id).is_some_and(|s| s.link.is_some())
    }

    /// Every delivery made since the last call, in order, with its client.
    pub(crate) fn take_out(&mut self) -> Vec<(String, Delivery)> {
        std::mem::take(&mut self.out)
    }

    /// A CONNECT of `client_id` is accepted. `asked_expiry` is the 5.0 Session Expiry Interval
    /// (ignored in 3.x, where Clean Session 0 asks for a session that never expires). Returns
    /// whether a session was resumed (the CONNACK's Session Present, except in 3.1, which has
    /// none).
    pub(crate) fn connect(
        &mut self,
        client_id: &str,
        version: ProtocolVersion,
        clean_start: bool,
        asked_expiry: u32,
        link: Link,
    ) -> bool {
        // Takeover: the old connection ends as any connection ends.
        if self.is_connected(client_id) {
            self.end_connection(client_id);
        }
        // Clean Start discards the session.
        if clean_start && let Some(at) = self.position(client_id) {
            self.sessions.remove(at);
        }
        let resumed = self.position(client_id).is_some();
        let asked = if version.is_v5() {
            asked_expiry
        } else if clean_start {
            0
        } else {
            u32::MAX
        };
        let expiry = asked.min(self.max_session_expiry);
        if !resumed {
            self.sessions.push(Session {
                client_id: client_id.to_owned(),
                version,
                link: None,
                expiry,
                expires_at: None,
                subscriptions: Vec::new(),
                inflight: Vec::new(),
                queue: Vec::new(),
            });
        }
        let at = self.position(client_id).expect("just made");
        let session = &mut self.sessions[at];
        session.version = version;
        session.link = Some(link);
        session.expiry = expiry;
        session.expires_at = None;
        // A resumed session: what was in flight goes again, with DUP, in order; then what
        // waited.
        let resend: Vec<Delivery> = session
            .inflight
            .iter()
            .filter(|held| !held.released)
            .map(|held| Delivery {
                dup: true,
                ..held.delivery.clone()
            })
            .collect();
        for delivery in resend {
            self.out.push((client_id.to_owned(), delivery));
        }
        self.fill(at);
        resumed
    }

    /// `client_id` sends DISCONNECT; in 5.0 it may carry a new Session Expiry Interval.
    pub(crate) fn disconnect(&mut self, client_id: &str, new_expiry: Option<u32>) {
        let Some(at) = self.position(client_id) else {
            return;
        };
        if let Some(expiry) = new_expiry {
            let session = &mut self.sessions[at];
            // 0 on CONNECT and more on DISCONNECT is a Protocol Error: the broker closes the
            // connection, and the session (still at 0) ends all the same.
            if session.expiry != 0 || expiry == 0 {
                session.expiry = expiry.min(self.max_session_expiry);
            }
        }
        self.end_connection(client_id);
    }

    /// `client_id`'s network connection ends: the session ends now (expiry 0) or starts
    /// counting down.
    pub(crate) fn end_connection(&mut self, client_id: &str) {
        let Some(at) = self.position(client_id) else {
            return;
        };
        let now = self.now;
        let session = &mut self.sessions[at];
        session.link = None;
        match session.expiry {
            0 => {
                self.sessions.remove(at);
            }
            u32::MAX => {}
            expiry => session.expires_at = Some(now + u64::from(expiry) * 1000),
        }
    }

    /// Time passes: sessions whose expiry is due end.
    pub(crate) fn advance(&mut self, millis: u64) {
        self.now += millis;
        let now = self.now;
        self.sessions
            .retain(|s| s.link.is_some() || s.expires_at.is_none_or(|at| at > now));
    }

    /// `client_id` subscribes to `subscriptions` in one SUBSCRIBE, handled as one SUBSCRIBE per
    /// filter; retained messages follow. Every subscription is granted as asked.
    pub(crate) fn subscribe(&mut self, client_id: &str, subscriptions: &[Subscription]) {
        let Some(at) = self.position(client_id) else {
            return;
        };
        let mut send_retained = Vec::new();
        for subscription in subscriptions {
            let session = &mut self.sessions[at];
            let existing = session
                .subscriptions
                .iter()
                .position(|s| s.filter == subscription.filter);
            let send = match subscription.retain_handling {
                RetainHandling::SendAtSubscribe => true,
                RetainHandling::SendAtSubscribeIfNew => existing.is_none(),
                RetainHandling::DoNotSend => false,
            };
            match existing {
                Some(old) => session.subscriptions[old] = subscription.clone(),
                None => session.subscriptions.push(subscription.clone()),
            }
            if send {
                send_retained.push(subscription.clone());
            }
        }
        for subscription in send_retained {
            let found: Vec<Retained> = self
                .retained
                .iter()
                .filter(|r| topic_matches(&subscription.filter, &r.topic))
                .cloned()
                .collect();
            for retained in found {
                let message = self.new_message();
                let delivery = Delivery {
                    topic: retained.topic,
                    payload: retained.payload,
                    qos: retained.qos.min(subscription.qos),
                    retain: true,
                    dup: false,
                    sub_ids: subscription.id.into_iter().collect(),
                };
                self.deliver(
                    at,
                    Held {
                        message,
                        delivery,
                        released: false,
                    },
                );
            }
        }
    }

    /// `client_id` unsubscribes from `filters`; for each, whether it had that subscription.
    pub(crate) fn unsubscribe(&mut self, client_id: &str, filters: &[String]) -> Vec<bool> {
        let Some(at) = self.position(client_id) else {
            return Vec::new();
        };
        let session = &mut self.sessions[at];
        filters
            .iter()
            .map(|filter| {
                let before = session.subscriptions.len();
                session.subscriptions.retain(|s| &s.filter != filter);
                session.subscriptions.len() != before
            })
            .collect()
    }

    /// `publisher` (a Client Identifier, or `None` for the driver) publishes a message: it is
    /// kept or cleared as retained, and every session with a matching subscription gets one
    /// delivery.
    pub(crate) fn publish(
        &mut self,
        publisher: Option<&str>,
        topic: &str,
        qos: QoS,
        retain: bool,
        payload: &[u8],
    ) {
        if retain {
            self.retained.retain(|r| r.topic != topic);
            if !payload.is_empty() {
                self.retained.push(Retained {
                    topic: topic.to_owned(),
                    payload: payload.to_vec(),
                    qos,
                });
            }
        }
        if publisher.is_some() {
            self.messages_in += 1;
        }
        let message = self.new_message();
        for at in 0..self.sessions.len() {
            let session = &self.sessions[at];
            let own = publisher == Some(session.client_id.as_str());
            let matching: Vec<&Subscription> = session
                .subscriptions
                .iter()
                .filter(|s| topic_matches(&s.filter, topic))
                .filter(|s| !(s.no_local && own))
                .collect();
            let Some(granted) = matching.iter().map(|s| s.qos).max() else {
                continue;
            };
            let mut sub_ids: Vec<u32> = matching.iter().filter_map(|s| s.id).collect();
            sub_ids.sort_unstable();
            let delivery = Delivery {
                topic: topic.to_owned(),
                payload: payload.to_vec(),
                qos: qos.min(granted),
                retain: retain && matching.iter().any(|s| s.retain_as_published),
                dup: false,
                sub_ids,
            };
            self.deliver(
                at,
                Held {
                    message,
                    delivery,
                    released: false,
                },
            );
        }
    }

    fn new_message(&mut self) -> u64 {
        self.next_message += 1;
        self.next_message
    }

    /// The messages the sessions hold (queued or in flight), each counted once, and their
    /// payload bytes.
    pub(crate) fn held(&self) -> (usize, usize) {
        let mut seen = std::collections::BTreeMap::new();
        for session in &self.sessions {
            for held in session.inflight.iter().chain(&session.queue) {
                seen.insert(held.message, held.delivery.payload.len());
            }
        }
        (seen.len(), seen.values().sum())
    }

    /// Every connected client has answered what it received: what is acknowledged leaves
    /// the flight, a QoS 2 delivery answered by PUBREC alone is released, and whatever waited
    /// for room in the window goes out, in order.
    pub(crate) fn settle(&mut self) {
        for at in 0..self.sessions.len() {
            loop {
                let session = &mut self.sessions[at];
                match session.link.map(|link| link.answers) {
                    None | Some(Answers::Nothing | Answers::Late) => break,
                    Some(Answers::All) => session.inflight.clear(),
                    Some(Answers::NoPubComp) => {
                        session
                            .inflight
                            .retain(|held| held.delivery.qos == QoS::ExactlyOnce);
                        for held in &mut session.inflight {
                            held.released = true;
                        }
                    }
                }
                let before = session.queue.len();
                self.fill(at);
                if self.sessions[at].queue.len() == before {
                    break;
                }
            }
        }
    }

    /// After a SUBSCRIBE: `delivered` is what `client_id` received for it, in the order the
    /// broker chose (the spec orders retained messages of different topics in no way), and
    /// holds what the reference delivered. Deliveries still in flight take that order, since a
    /// resumed session re-sends them in it.
    pub(crate) fn adopt_order(&mut self, client_id: &str, delivered: &[Delivery]) {
        let Some(at) = self.position(client_id) else {
            return;
        };
        let session = &mut self.sessions[at];
        // A client that leaves deliveries in flight has an unlimited window (the model test
        // gives a Receive Maximum only to clients that answer everything): every delivery of
        // the SUBSCRIBE it did not acknowledge is in flight, last.
        let kept: Vec<&Delivery> = match session.link.map(|link| link.answers) {
            None | Some(Answers::All) => return,
            // Nothing of this step is answered yet; with a Receive Maximum the model test
            // lets a SUBSCRIBE bring at most one QoS 1 or 2 retained message, so what is
            // in flight is known.
            Some(Answers::Nothing | Answers::Late) => delivered
                .iter()
                .filter(|d| d.qos != QoS::AtMostOnce)
                .collect(),
            Some(Answers::NoPubComp) => delivered
                .iter()
                .filter(|d| d.qos == QoS::ExactlyOnce)
                .collect(),
        };
        let from = session
            .inflight
            .len()
            .checked_sub(kept.len())
            .expect("the SUBSCRIBE's deliveries are in flight");
        let mut mine = session.inflight.split_off(from);
        for delivery in kept {
            let found = mine
                .iter()
                .position(|held| &held.delivery == delivery)
                .expect("a delivery the reference made");
            session.inflight.push(mine.remove(found));
        }
    }

    /// The start of a step: every client that answers late answers what it received during
    /// the last one: a QoS 1 delivery leaves the flight (PUBACK), a QoS 2 one is released
    /// (PUBREC) or, released already, leaves it (PUBCOMP for the PUBREL that followed); then
    /// the window fills again.
    pub(crate) fn answer_late(&mut self) {
        for at in 0..self.sessions.len() {
            let session = &mut self.sessions[at];
            if !session
                .link
                .is_some_and(|link| link.answers == Answers::Late)
            {
                continue;
            }
            session
                .inflight
                .retain(|held| held.delivery.qos == QoS::ExactlyOnce && !held.released);
            for held in &mut session.inflight {
                held.released = true;
            }
            self.fill(at);
        }
    }

    /// The retained messages `filter` matches.
    pub(crate) fn retained_matching(&self, filter: &str) -> Vec<&Retained> {
        self.retained
            .iter()
            .filter(|r| topic_matches(filter, &r.topic))
            .collect()
    }

    /// One delivery for the session at `at`: QoS 0 goes out at once or is lost if the client
    /// is away; QoS 1 and 2 join the queue, which moves into flight while the window has room.
    fn deliver(&mut self, at: usize, held: Held) {
        let session = &mut self.sessions[at];
        if held.delivery.qos == QoS::AtMostOnce {
            if session.link.is_some() {
                self.messages_out += 1;
                self.out.push((session.client_id.clone(), held.delivery));
            }
            return;
        }
        session.queue.push(held);
        self.fill(at);
    }

    /// Moves queued deliveries into flight while the connection's window has room.
    fn fill(&mut self, at: usize) {
        let session = &mut self.sessions[at];
        let Some(link) = session.link else {
            return;
        };
        while session.inflight.len() < link.window && !session.queue.is_empty() {
            let held = session.queue.remove(0);
            self.messages_out += 1;
            self.out
                .push((session.client_id.clone(), held.delivery.clone()));
            session.inflight.push(held);
        }
    }
}
