//! The hooks a cluster driver needs: several brokers (nodes of a cluster, or one broker per
//! CPU thread with the connections partitioned among them) that share no state and no lock,
//! and exchange messages and sessions through their driver.
//!
//! - **Interest**: with [`report_interest`](super::BrokerConfig::report_interest) on, a
//!   broker reports [`Event::Interest`] when a Topic Filter gains its first local subscriber
//!   or loses its last one. The driver tells the other brokers, which register it with
//!   [`Broker::add_remote_interest`] (and drop it with [`Broker::remove_remote_interest`]).
//! - **Forwarding**: a message a local client publishes (or its Will) that matches a remote
//!   interest is reported once per interested peer as [`Event::Forward`]; the driver hands
//!   it to that peer's [`Broker::publish`], which delivers it to local subscribers only and
//!   never reports it as [`Event::Forward`] again: a message crosses once and never loops.
//! - **Sessions**: a client that reconnects on another broker takes its session along:
//!   [`Broker::export_session`] removes it from the broker that held it, as bytes in the
//!   [snapshot](super::snapshot) format, and [`Broker::import_session`] adds it to the new one
//!   before the client's CONNECT is accepted there.
//!
//! Nothing here does I/O or knows the peers: a peer is a `u32` the driver chooses, and how
//! interest, messages and sessions travel (a channel between threads, a socket between
//! nodes) is the driver's.
//!
//! # What the driver still decides
//!
//! - **Shared subscriptions** are counted per broker: each broker gives a message to one
//!   member of each group among *its* subscribers. A remote interest in
//!   `$share/{group}/{filter}` registered by several peers takes turns among them, so a
//!   driver that registers a group's interest on one broker only, or forwards group
//!   messages to one peer, keeps one delivery per group across the cluster; registering it
//!   everywhere delivers once per broker that has members.
//! - **Retained messages** travel with the messages forwarded: a retained message reaches
//!   the peers interested in its topic when it is published, and they keep it as retained.
//!   A peer that must know every retained message registers `#` (which does not match
//!   topics that start with `$`).
//! - **Which broker holds a session**: the driver keeps one session per Client Identifier
//!   in the cluster, by exporting it from the broker that holds it before a CONNECT with
//!   that identifier is accepted elsewhere. With
//!   [`allow_anonymous`](super::BrokerConfig::allow_anonymous) off, every CONNECT waits as
//!   [`Event::Authenticate`] for the driver's verdict: the driver asks the cluster who holds
//!   the Client Identifier, imports the session, then calls
//!   [`accept_connect`](Broker::accept_connect). (With it on, a CONNECT is accepted at once,
//!   and a session imported afterwards would take the new connection over.)
//!
//! # Example: two brokers, one message
//!
//! ```
//! use mqtt_sansio::broker::Event;
//! use mqtt_sansio::{Broker, BrokerConfig, Instant, Publish, TopicFilter, TopicName};
//!
//! let config = BrokerConfig { report_interest: true, ..BrokerConfig::default() };
//! let (mut a, mut b) = (Broker::new(config.clone()), Broker::new(config));
//! let now = Instant::ZERO;
//! // A 3.1.1 client on B subscribes to "a/#".
//! let subscriber = b.accept(now)?;
//! b.handle_data(now, subscriber, b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04dev1");
//! b.handle_data(now, subscriber, b"\x82\x08\x00\x01\x00\x03a/#\x00");
//! # let mut buf = [0u8; 256];
//! # while b.poll_transmit(&mut buf).is_some() {}
//! // The driver passes B's interest to A, as peer 2.
//! while let Some(event) = b.poll_event() {
//!     if let Event::Interest { filter, gained: true } = event {
//!         a.add_remote_interest(2, &filter)?;
//!     }
//! }
//! // Something on A publishes to "a/b": A asks for it to be forwarded to B.
//! let publisher = a.accept(now)?;
//! a.handle_data(now, publisher, b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04dev2");
//! a.handle_data(now, publisher, b"\x30\x08\x00\x03a/bhey");
//! let mut forwarded = Vec::new();
//! while let Some(event) = a.poll_event() {
//!     if let Event::Forward { peer: 2, message } = event {
//!         forwarded.push(message);
//!     }
//! }
//! assert_eq!(forwarded.len(), 1);
//! // B delivers it to its subscriber, and reports nothing to forward back.
//! b.publish(now, *forwarded.remove(0))?;
//! let transmit = b.poll_transmit(&mut buf).unwrap();
//! assert_eq!(&buf[..transmit.len], b"\x30\x08\x00\x03a/bhey");
//! assert_eq!(b.poll_event(), None);
//! # Ok::<(), mqtt_sansio::UsageError>(())
//! ```

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use bytes::Bytes;
use bytestring::ByteString;

use super::connection::Out;
use super::event::{CloseReason, Event};
use super::session::{Delivery, SessionKey};
use super::snapshot::{Input, MIN_MESSAGE, MIN_SESSION, SnapshotError};
use super::store::{MessageId, Store};
use super::subscriptions::{Match, Subscriptions};
use super::{AllowAll, Broker, Policy, Timer};
use crate::codec::Buffer;
use crate::error::{EncodeError, UsageError};
use crate::packet::SubscriptionOptions;
use crate::reason::DisconnectReasonCode;
use crate::time::Instant;
use crate::topic::TopicFilter;
use crate::types::QoS;

/// A broker's view of its peers: what they want, and whether the message being routed came
/// from one.
#[derive(Debug, Default)]
pub(super) struct Cluster {
    /// The peers' interests, keyed by peer.
    remote: Subscriptions<u32>,
    /// The matches of one message against `remote`, kept to reuse its allocation.
    matches: Vec<Match<u32>>,
    /// Set while the driver's [`Broker::publish`] routes a message: it is not forwarded.
    pub(super) from_peer: bool,
}

impl<P: Policy> Broker<P> {
    /// Registers that `peer` (a node or core, as the driver names it) wants the messages
    /// local clients publish to topics that match `filter`, as its [`Event::Interest`]
    /// said; from now on each such message is reported as [`Event::Forward`] for `peer`.
    /// Returns whether the interest is new (registering one twice changes nothing).
    ///
    /// A `$share/{group}/{filter}` interest matches as `filter` does, and the peers that
    /// registered the same group take turns (the [module docs](self) say more).
    ///
    /// # Errors
    ///
    /// [`UsageError::QueueFull`] if the filter needs more nodes than the interest table
    /// can index (`u32::MAX`).
    ///
    /// ```
    /// use mqtt_sansio::{Broker, BrokerConfig, TopicFilter};
    ///
    /// let mut broker = Broker::new(BrokerConfig::default());
    /// let filter = TopicFilter::<&[u8]>::new("sensors/#").unwrap();
    /// assert!(broker.add_remote_interest(7, &filter)?);
    /// assert!(!broker.add_remote_interest(7, &filter)?);
    /// assert!(broker.remove_remote_interest(7, "sensors/#"));
    /// # Ok::<(), mqtt_sansio::UsageError>(())
    /// ```
    pub fn add_remote_interest<B: Buffer>(
        &mut self,
        peer: u32,
        filter: &TopicFilter<B>,
    ) -> Result<bool, UsageError> {
        let options = SubscriptionOptions::new(QoS::ExactlyOnce);
        self.cluster
            .remote
            .subscribe(filter, peer, options, None)
            .map(|replaced| !replaced)
            .map_err(|_| UsageError::QueueFull("remote interest table"))
    }

    /// Forgets `peer`'s interest in `filter` (compared as written, never as a pattern), as
    /// its [`Event::Interest`] with `gained: false` said; returns whether it had one. A peer
    /// that leaves the cluster has each of its interests removed this way.
    ///
    /// ```
    /// use mqtt_sansio::{Broker, BrokerConfig};
    ///
    /// let mut broker = Broker::new(BrokerConfig::default());
    /// assert!(!broker.remove_remote_interest(7, "sensors/#"));
    /// ```
    pub fn remove_remote_interest(&mut self, peer: u32, filter: &str) -> bool {
        self.cluster.remote.unsubscribe(filter, peer)
    }

    /// Removes the session of `client_id` from this broker and returns it in the
    /// [snapshot](super::snapshot) format (the session and the messages its deliveries refer
    /// to, no retained message), for [`import_session`](Self::import_session) on the broker
    /// its client now connects to: its subscriptions, its QoS 1 and 2 deliveries in flight
    /// and queued, its incoming QoS 2 identifiers and its pending Will go with it. Its
    /// subscriptions leave this broker as an UNSUBSCRIBE would ([`Event::Interest`] reports
    /// the filters left without a subscriber). `None` if there is no such session.
    ///
    /// A connected session's client has reconnected elsewhere (or is about to): its
    /// connection here is closed as in a takeover on one broker (3.1.1 `[MQTT-3.1.4-2]`,
    /// 5.0 `[MQTT-3.1.4-3]`), with DISCONNECT Session taken over (0x8E) in 5.0 and without
    /// one in 3.x, and [`Event::Close`] with [`CloseReason::SessionTakenOver`]. Its Will is
    /// then due as after any abnormal end: published here at once without a Will Delay,
    /// else exported as pending (the new broker cancels it when the client connects,
    /// 5.0 `[MQTT-3.1.3-9]`). A session that ends with its connection (Session Expiry 0, or
    /// a 3.x Clean Session) has nothing left to export: `None`. What the closing connection
    /// had not written yet of its QoS 1 and 2 deliveries is not written: they are in the
    /// export, and are sent again (DUP set) when the client resumes the session.
    ///
    /// Refusing to export a connected session would leave the client's new CONNECT to wait
    /// for the old connection's Keep Alive to run out: the takeover is what a broker does
    /// for a second connection with the same Client Identifier.
    ///
    /// # Errors
    ///
    /// An [`EncodeError`] if a message cannot be written as an MQTT 5.0 PUBLISH (see
    /// [`snapshot`](Self::snapshot)); the session then stays here (its connection, if it had
    /// one, closed).
    ///
    /// ```
    /// use mqtt_sansio::{Broker, BrokerConfig, Instant};
    ///
    /// let (mut a, mut b) = (Broker::new(BrokerConfig::default()), Broker::new(BrokerConfig::default()));
    /// let connection = a.accept(Instant::ZERO)?;
    /// // CONNECT of "dev1" in 3.1.1 with Clean Session 0, then the socket closes.
    /// a.handle_data(Instant::ZERO, connection, b"\x10\x10\x00\x04MQTT\x04\x00\x00\x3c\x00\x04dev1");
    /// a.handle_closed(Instant::ZERO, connection);
    ///
    /// let export = a.export_session(Instant::ZERO, "dev1")?.expect("a session");
    /// assert_eq!(a.stats().sessions, 0);
    /// b.import_session(Instant::from_millis(10), &export)?;
    /// assert_eq!(b.stats().sessions, 1);
    /// assert_eq!(a.export_session(Instant::ZERO, "dev1")?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn export_session(
        &mut self,
        now: Instant,
        client_id: &str,
    ) -> Result<Option<Vec<u8>>, EncodeError> {
        self.now = now;
        let Some(key) = self.key_of_client(client_id) else {
            return Ok(None);
        };
        if let Some(handle) = self.take_over(key) {
            // The deliveries in flight go with the session; the dying connection must not
            // write them from a message the session no longer holds.
            let mut dropped = Vec::new();
            if let Some(conn) = self.connection_mut(handle) {
                conn.out.retain(|out| match out {
                    Out::Publish {
                        delivery,
                        id: Some(_),
                        ..
                    } => {
                        dropped.push(delivery.message);
                        false
                    }
                    _ => true,
                });
            }
            for message in dropped {
                self.store.release(message);
            }
        }
        let Some(export) = self.write_session_alone(now, key)? else {
            // It ended with its connection.
            return Ok(None);
        };
        if let Some(session) = self.session_mut(key) {
            // Exported: the new broker publishes it if it comes due.
            session.will = None;
            session.will_at = None;
        }
        self.end_session(key);
        Ok(Some(export))
    }

    /// Adds a session that [`export_session`](Self::export_session) took from another
    /// broker, its times rebased on `now` as [`restore`](Self::restore) does, replacing any
    /// session of that Client Identifier here (closed and ended as by a takeover with Clean
    /// Start). The client then resumes it by connecting with Clean Start 0 (Session Present
    /// 1): its deliveries in flight are sent again, then the queued ones. Its subscriptions
    /// are reported as [`Event::Interest`] where they are new here; a Will or expiry already
    /// due at `now` is handled before it returns.
    ///
    /// # Errors
    ///
    /// A [`SnapshotError`] if the bytes are not one session's export of this format version
    /// (a whole snapshot is refused, as is any retained message in it), or hold more than this
    /// broker's configuration allows; nothing is changed then. The input is checked as
    /// [`restore`](Self::restore) checks it.
    ///
    /// ```
    /// use mqtt_sansio::broker::SnapshotError;
    /// use mqtt_sansio::{Broker, BrokerConfig, Instant};
    ///
    /// let mut broker = Broker::new(BrokerConfig::default());
    /// let empty = broker.snapshot(Instant::ZERO)?;
    /// let error = broker.import_session(Instant::ZERO, &empty).unwrap_err();
    /// assert_eq!(error, SnapshotError::Invalid("a session export holds one session"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn import_session(&mut self, now: Instant, export: &[u8]) -> Result<(), SnapshotError> {
        self.now = now;
        // Read and checked aside, so that a bad export changes nothing here.
        let mut input = Input::header(export)?;
        let mut staging = Broker::with_policy(self.config.clone(), AllowAll);
        staging.now = now;
        let messages = staging.read_messages(&mut input)?;
        if input.count(MIN_MESSAGE)? != 0 {
            return Err(SnapshotError::Invalid(
                "retained messages in a session export",
            ));
        }
        if input.count(MIN_SESSION)? != 1 {
            return Err(SnapshotError::Invalid("a session export holds one session"));
        }
        staging.read_session(&mut input, None, &messages)?;
        let left = input.left();
        if left != 0 {
            return Err(SnapshotError::TrailingBytes(left));
        }
        let staged = SessionKey {
            index: 0,
            generation: 1,
        };
        let Some(mut session) = staging
            .sessions
            .get_mut(0)
            .and_then(|slot| slot.session.take())
        else {
            return Err(SnapshotError::Invalid("a session export holds one session"));
        };

        // The messages, moved into this broker's store.
        let mut moved = BTreeMap::new();
        {
            let flows = session.flows_mut();
            for inflight in &mut flows.inflight {
                adopt(
                    &mut self.store,
                    &staging.store,
                    &mut moved,
                    &mut inflight.delivery,
                );
            }
            for delivery in &mut flows.queue {
                adopt(&mut self.store, &staging.store, &mut moved, delivery);
            }
        }
        session.free_idle_flows();
        let filters = core::mem::take(&mut session.filters);
        let due = session.next_deadline();

        // Any session of that client here gives way.
        if let Some(old) = self.key_of_client(&session.client_id) {
            self.take_over(old);
            self.end_session(old);
        }
        let key = self.place(session);
        for filter in filters {
            let Some((options, id)) = staging.subscriptions.get(&filter, staged) else {
                continue;
            };
            let Ok(parsed) = TopicFilter::<Bytes>::new(ByteString::from(&*filter)) else {
                continue;
            };
            if self
                .subscriptions
                .subscribe(&parsed, key, options, id)
                .is_err()
            {
                // Unreachable with a trie indexed by `u32`: undo what was added.
                if let Some(session) = self.session_mut(key) {
                    session.will = None;
                    session.will_at = None;
                }
                self.end_session(key);
                return Err(SnapshotError::Limit("subscription trie"));
            }
            self.interest_gained(&filter);
            if let Some(session) = self.session_mut(key) {
                session.filters.push(filter);
            }
        }
        if let Some(at) = due {
            if at <= now {
                self.session_timer(key);
            } else {
                self.timers.insert((at, Timer::Session(key)));
            }
        }
        Ok(())
    }

    // ---- internals ----

    /// Reports [`Event::Interest`] gained if `filter`, just subscribed by a session that did
    /// not hold it, has that one subscriber only.
    pub(super) fn interest_gained(&mut self, filter: &str) {
        if self.config.report_interest && self.subscriptions.subscribers(filter) == 1 {
            self.report_interest(filter, true);
        }
    }

    /// Reports [`Event::Interest`] lost if `filter`, just left by a session, has no
    /// subscriber left.
    pub(super) fn interest_lost(&mut self, filter: &str) {
        if self.config.report_interest && self.subscriptions.subscribers(filter) == 0 {
            self.report_interest(filter, false);
        }
    }

    fn report_interest(&mut self, filter: &str, gained: bool) {
        // Every filter in the trie was a valid one.
        if let Ok(filter) = TopicFilter::new(ByteString::from(filter)) {
            self.events.push_back(Event::Interest { filter, gained });
        }
    }

    /// Reports [`Event::Forward`] for each peer interested in stored message `id`, unless
    /// it came from a peer. Nothing to do, and no lookup, while no peer registered interest.
    pub(super) fn forward(&mut self, id: MessageId) {
        let cluster = &mut self.cluster;
        if cluster.from_peer || cluster.remote.is_empty() {
            return;
        }
        let Some(stored) = self.store.get(id) else {
            return;
        };
        let Some(topic) = stored.publish.topic.as_ref() else {
            return;
        };
        let mut matches = core::mem::take(&mut cluster.matches);
        matches.clear();
        cluster
            .remote
            .matches(topic.as_str(), |_| true, &mut matches);
        // One message per peer, however many of its interests match.
        matches.sort_unstable_by_key(|m| m.key);
        matches.dedup_by_key(|m| m.key);
        for m in &matches {
            self.events.push_back(Event::Forward {
                peer: m.key,
                message: Box::new(stored.publish.clone()),
            });
        }
        cluster.matches = matches;
    }

    /// The key of the session of `client_id`, if there is one.
    fn key_of_client(&self, client_id: &str) -> Option<SessionKey> {
        let index = self.find_session(client_id)?;
        let slot = self.sessions.get(index as usize)?;
        slot.session.as_ref().map(|_| SessionKey {
            index,
            generation: slot.generation,
        })
    }

    /// Closes the connection of session `key` as a takeover does: 5.0 DISCONNECT Session
    /// taken over (0x8E), a 3.x close. Returns the connection it closed.
    fn take_over(&mut self, key: SessionKey) -> Option<super::ConnectionHandle> {
        let handle = self.session(key)?.connection?;
        let farewell = self
            .connection(handle)
            .filter(|conn| conn.version.is_v5())
            .map(|_| Out::Disconnect(DisconnectReasonCode::SessionTakenOver));
        self.close(handle, CloseReason::SessionTakenOver, farewell);
        Some(handle)
    }
}

/// Points `delivery` at a copy in `store` of the message it names in `from`, one copy per
/// message, and takes a reference to it.
fn adopt(
    store: &mut Store,
    from: &Store,
    moved: &mut BTreeMap<MessageId, MessageId>,
    delivery: &mut Delivery,
) {
    let id = match moved.get(&delivery.message) {
        Some(&id) => id,
        None => {
            let Some(stored) = from.get(delivery.message) else {
                return;
            };
            let id = store.insert(stored.publish.clone(), stored.received_at);
            moved.insert(delivery.message, id);
            id
        }
    };
    store.retain(id);
    delivery.message = id;
}
