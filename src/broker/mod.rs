//! The MQTT broker as a state machine: sessions, subscriptions, retained messages and wills,
//! with every PUBLISH routed inside; a driver owns the sockets and the clock.
//!
//! See [`Broker`] for the run loop. [`Broker`] and [`BrokerConfig`] are also at the crate
//! root; the types a driver meets on the way ([`Event`], [`Transmit`], [`ConnectionHandle`],
//! [`Policy`], [`Stats`]) are here. [`Broker::snapshot`] and [`Broker::restore`] carry the
//! durable state across a restart, in the format [`snapshot`] describes. Brokers that run
//! side by side (the nodes of a cluster, or one per CPU thread) exchange interest, messages
//! and sessions through the hooks [`cluster`] describes.

mod auth;
pub mod cluster;
mod config;
mod connect;
mod connection;
mod disconnect;
mod event;
mod index;
mod receive;
mod retained;
mod route;
mod session;
mod shared;
pub mod snapshot;
mod store;
mod subscriptions;
mod sys;
mod transmit;

use alloc::boxed::Box;
use alloc::collections::{BTreeSet, VecDeque};
use alloc::vec::Vec;

use bytes::Bytes;

pub use config::BrokerConfig;
pub use event::{CloseReason, ConnectionHandle, Event};
pub use snapshot::SnapshotError;
pub use transmit::{SHARED_PAYLOAD_MIN, SHARED_PAYLOADS_MAX, SharedPayload, Transmit};

use connection::{Connection, Out, Phase};
use index::ClientIndex;
use retained::Retained;
use session::{Session, SessionKey};
use store::{RetainedMessage, Store};
use subscriptions::{Match, Subscriptions};

use crate::codec::Limits;

/// The broker's data structures, public for the benchmarks in `benches/` only: not part of the
/// API, hidden from the docs, and free to change in any release.
#[doc(hidden)]
pub mod __internal {
    pub use super::retained::{Retained, RetainedSize};
    pub use super::subscriptions::{GroupId, Match, Subscriptions, TrieFull};
}
use crate::decoder::Decoder;
use crate::error::UsageError;
use crate::packet::Publish;
use crate::time::Instant;

/// Which client may publish to which topic and subscribe to which filter: the broker's
/// permissions, checked on every PUBLISH and SUBSCRIBE without allocating. A refusal is
/// answered with Not authorized (0x87) in 5.0 and 0x80 in a 3.1.1 SUBACK; a 3.x PUBLISH that
/// is refused is acknowledged and dropped, as 3.x has no way to say no.
///
/// The identity is a value the broker compares, never a pattern: a Client Identifier such as
/// `+` or `#` matches nothing but itself.
pub trait Policy {
    /// Whether `client_id` may publish to `topic`.
    fn may_publish(&self, client_id: &str, topic: &str) -> bool;
    /// Whether `client_id` may subscribe to `filter`.
    fn may_subscribe(&self, client_id: &str, filter: &str) -> bool;
}

/// The policy that allows everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllowAll;

impl Policy for AllowAll {
    fn may_publish(&self, _client_id: &str, _topic: &str) -> bool {
        true
    }

    fn may_subscribe(&self, _client_id: &str, _filter: &str) -> bool {
        true
    }
}

/// Counters a driver can publish under `$SYS/`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Stats {
    /// Open connections.
    pub connections: usize,
    /// Sessions, connected or not.
    pub sessions: usize,
    /// Subscriptions of all sessions.
    pub subscriptions: usize,
    /// Retained messages.
    pub retained: usize,
    /// Messages held: retained, and queued or in flight (a message held both ways counts
    /// twice).
    pub stored_messages: usize,
    /// Payload bytes of the messages held.
    pub stored_bytes: usize,
    /// Messages received from clients and routed: a QoS 2 message once however often it is
    /// re-sent, a refused one not at all, and neither wills nor the driver's messages.
    pub messages_in: u64,
    /// PUBLISH packets queued for clients.
    pub messages_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes handed to the driver to send.
    pub bytes_out: u64,
    /// Deliveries dropped because a session's queue was full.
    pub dropped_queue_full: u64,
    /// Deliveries dropped because they exceed the client's Maximum Packet Size.
    pub dropped_too_large: u64,
    /// Deliveries dropped because their message expired while waiting.
    pub dropped_expired: u64,
    /// Deliveries through a shared subscription that a member's ending session left and no
    /// member of the group was left to take (see [`Broker`]'s shared subscriptions).
    pub dropped_no_member: u64,
    /// Deliveries through a shared subscription handed from a member that went to another
    /// member of the group.
    pub shared_handed_over: u64,
}

/// A timer behind [`Broker::poll_timeout`]: it may fire early (the deadline moved later),
/// in which case the broker checks and sets it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    Connection(ConnectionHandle),
    Session(SessionKey),
    Retained,
}

/// A connection slot: the generation of the handle that may use it. The connection is boxed
/// so that a slab grown by doubling holds 16-byte slots, not a connection's worth each.
#[derive(Debug)]
struct ConnectionSlot {
    generation: u32,
    connection: Option<Box<Connection>>,
}

/// A session slot, boxed for the same reason.
#[derive(Debug)]
struct SessionSlot {
    generation: u32,
    session: Option<Box<Session>>,
}

/// A sans-IO MQTT broker for 3.1, 3.1.1 and 5.0 clients side by side.
///
/// # The run loop
///
/// A driver owns the listening socket, the connections and the clock, and repeats:
///
/// 1. Feed what happened: [`accept`](Self::accept) for a new socket,
///    [`handle_data`](Self::handle_data) or [`handle_bytes`](Self::handle_bytes) for received
///    bytes, [`handle_closed`](Self::handle_closed) for a socket that closed,
///    [`handle_timeout`](Self::handle_timeout) when the deadline passed.
/// 2. Write what [`poll_transmit`](Self::poll_transmit) hands out, one connection per call,
///    until it returns `None`: one write per socket per wake-up.
/// 3. Handle every [`Event`] from [`poll_event`](Self::poll_event): answer
///    [`Event::Authenticate`], [`Event::AuthenticationData`] and [`Event::Reauthenticate`]
///    (now or later), and close the sockets [`Event::Close`] names once their last
///    bytes are written. Commands given here queue bytes too: go back to step 2.
/// 4. Sleep until a socket is readable or [`poll_timeout`](Self::poll_timeout) passes.
///
/// ```
/// use mqtt_sansio::broker::Event;
/// use mqtt_sansio::{Broker, BrokerConfig, Instant};
///
/// let mut broker = Broker::new(BrokerConfig::default());
/// let now = Instant::ZERO;
/// let connection = broker.accept(now)?;
/// broker.handle_data(now, connection, b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04dev1");
/// let mut buf = [0u8; 64];
/// let transmit = broker.poll_transmit(&mut buf).unwrap();
/// assert_eq!(transmit.connection, connection);
/// assert_eq!(&buf[..transmit.len], b"\x20\x02\x00\x00"); // CONNACK, accepted
/// assert!(matches!(broker.poll_event(), Some(Event::Connected { .. })));
/// # Ok::<(), mqtt_sansio::UsageError>(())
/// ```
///
/// # Shared subscriptions
///
/// A `$share/{group}/{filter}` subscription joins share group `group` on `filter`, in every
/// protocol version (as mosquitto does). Each message goes to one member of each matching
/// group, in turn, connected members first, at the QoS granted to that member (5.0
/// `[MQTT-4.8.2-3]`). A member that goes before a delivery is done leaves it as MQTT 5.0
/// section 4.8.2 says:
///
/// - Deliveries not sent yet (queued) go to a connected member as soon as the member's
///   connection ends; those no connected member can take stay queued for it.
/// - A QoS 1 delivery sent and not acknowledged stays with its member while its session
///   lives (it is sent again when the member resumes).
/// - When the member's session ends (Session Expiry 0 or elapsed, or a Clean Start), its QoS 1
///   deliveries in flight and all its queued ones go to another member, connected or not, as
///   fresh deliveries (new Packet Identifier, DUP 0, that member's options and Subscription
///   Identifier), counted in [`Stats::shared_handed_over`]. With no member left they are
///   dropped and counted in [`Stats::dropped_no_member`].
/// - A QoS 2 delivery sent stays with its member: completed if it resumes
///   (`[MQTT-4.8.2-4]`), sent to no one else if its session ends first (`[MQTT-4.8.2-5]`).
/// - A delivery the member refused (PUBACK or PUBREC 0x80 or above) is done: no other member
///   is offered it (`[MQTT-4.8.2-6]`).
///
/// A snapshot does not record which group a delivery came through: after
/// [`restore`](Self::restore), deliveries restored stay with their member.
#[derive(Debug)]
pub struct Broker<P = AllowAll> {
    config: BrokerConfig,
    policy: P,
    connections: Vec<ConnectionSlot>,
    free_connections: Vec<u32>,
    open_connections: usize,
    sessions: Vec<SessionSlot>,
    free_sessions: Vec<u32>,
    by_client_id: ClientIndex,
    subscriptions: Subscriptions<SessionKey>,
    retained: Retained<RetainedMessage>,
    store: Store,
    /// The decoder every connection's input goes through, one connection at a time.
    decoder: Decoder,
    events: VecDeque<Event>,
    /// Connections with bytes to write, in the order they got them.
    ready: VecDeque<ConnectionHandle>,
    timers: BTreeSet<(Instant, Timer)>,
    now: Instant,
    stats: Stats,
    assigned_ids: u64,
    matches: Vec<Match<SessionKey>>,
    retained_scratch: Vec<RetainedMessage>,
    /// The peers' interests, for [`Event::Forward`].
    cluster: cluster::Cluster,
}

/// The connection `handle` names in `connections`, if it is still open: a look-up that
/// borrows the slab alone, so that the broker's other fields stay usable beside it.
/// The session `key` names in `sessions`, borrowing only them.
fn session_in(sessions: &[SessionSlot], key: SessionKey) -> Option<&Session> {
    let slot = sessions.get(key.index as usize)?;
    if slot.generation != key.generation {
        return None;
    }
    slot.session.as_deref()
}

fn connection_in(
    connections: &mut [ConnectionSlot],
    handle: ConnectionHandle,
) -> Option<&mut Connection> {
    let slot = connections.get_mut(handle.index as usize)?;
    if slot.generation != handle.generation {
        return None;
    }
    slot.connection.as_deref_mut()
}

impl Broker<AllowAll> {
    /// A broker that allows every client everything.
    #[must_use]
    pub fn new(config: BrokerConfig) -> Self {
        Self::with_policy(config, AllowAll)
    }
}

impl<P: Policy> Broker<P> {
    /// A broker whose permissions come from `policy`.
    pub fn with_policy(config: BrokerConfig, policy: P) -> Self {
        // One decoder serves every connection: it keeps its buffer, grown 8 KiB at a time, so
        // that many reads share one allocation.
        let decoder = Decoder::server(Limits::new(config.max_packet_size))
            .keep_buffer()
            .read_chunk(8 * 1024);
        let by_client_id = ClientIndex::new(config.hash_seed);
        Self {
            config,
            policy,
            connections: Vec::new(),
            free_connections: Vec::new(),
            open_connections: 0,
            sessions: Vec::new(),
            free_sessions: Vec::new(),
            by_client_id,
            subscriptions: Subscriptions::new(),
            retained: Retained::new(),
            store: Store::default(),
            decoder,
            events: VecDeque::new(),
            ready: VecDeque::new(),
            timers: BTreeSet::new(),
            now: Instant::ZERO,
            stats: Stats::default(),
            assigned_ids: 0,
            matches: Vec::new(),
            retained_scratch: Vec::new(),
            cluster: cluster::Cluster::default(),
        }
    }

    // ---- getters ----

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// The permissions policy.
    #[must_use]
    pub fn policy(&self) -> &P {
        &self.policy
    }

    /// The permissions policy, to change: a driver that decides permissions by user name, not
    /// Client Identifier, records here which user a client authenticated as before it calls
    /// [`accept_connect`](Self::accept_connect).
    ///
    /// ```
    /// use mqtt_sansio::broker::Policy;
    /// use mqtt_sansio::{Broker, BrokerConfig};
    ///
    /// /// Allows only clients the driver has let in, and then everything.
    /// #[derive(Default)]
    /// struct Known(Vec<String>);
    ///
    /// impl Policy for Known {
    ///     fn may_publish(&self, client_id: &str, _topic: &str) -> bool {
    ///         self.0.iter().any(|known| known == client_id)
    ///     }
    ///     fn may_subscribe(&self, client_id: &str, _filter: &str) -> bool {
    ///         self.0.iter().any(|known| known == client_id)
    ///     }
    /// }
    ///
    /// let mut broker = Broker::with_policy(BrokerConfig::default(), Known::default());
    /// broker.policy_mut().0.push("sensor-1".to_owned());
    /// assert!(broker.policy().may_publish("sensor-1", "a/b"));
    /// assert!(!broker.policy().may_publish("sensor-2", "a/b"));
    /// ```
    pub fn policy_mut(&mut self) -> &mut P {
        &mut self.policy
    }

    /// The counters, current at this call.
    #[must_use]
    pub fn stats(&self) -> Stats {
        Stats {
            connections: self.open_connections,
            sessions: self.by_client_id.len(),
            subscriptions: self.subscriptions.len(),
            retained: self.retained.len(),
            stored_messages: self.store.len().saturating_add(self.retained.len()),
            stored_bytes: self.store.bytes().saturating_add(self.retained.bytes()),
            ..self.stats
        }
    }

    // ---- inputs ----

    /// A new connection; its CONNECT must arrive within the connect timeout.
    pub fn accept(&mut self, now: Instant) -> Result<ConnectionHandle, UsageError> {
        self.now = now;
        if self.open_connections >= self.config.max_connections {
            return Err(UsageError::QueueFull("connection table"));
        }
        let deadline = now.saturating_add(self.config.connect_timeout);
        let index = match self.free_connections.pop() {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.connections.len())
                    .map_err(|_| UsageError::QueueFull("connection table"))?;
                self.connections.push(ConnectionSlot {
                    generation: 0,
                    connection: None,
                });
                index
            }
        };
        let Some(slot) = self.connections.get_mut(index as usize) else {
            return Err(UsageError::QueueFull("connection table"));
        };
        slot.generation = slot.generation.wrapping_add(1);
        slot.connection = Some(Box::new(Connection::new(deadline)));
        let handle = ConnectionHandle {
            index,
            generation: slot.generation,
        };
        self.open_connections = self.open_connections.saturating_add(1);
        self.timers.insert((deadline, Timer::Connection(handle)));
        Ok(handle)
    }

    /// Bytes received on `connection`, copied into its buffer.
    pub fn handle_data(&mut self, now: Instant, connection: ConnectionHandle, data: &[u8]) {
        self.now = now;
        let Some(conn) = self.connection_mut(connection) else {
            return;
        };
        if matches!(conn.phase, Phase::Closing) {
            return;
        }
        self.stats.bytes_in = self.stats.bytes_in.saturating_add(data.len() as u64);
        self.process_input(connection, |decoder| decoder.push(data));
    }

    /// Bytes received on `connection`, handed over without a copy: the messages they hold
    /// share their allocation.
    pub fn handle_bytes(&mut self, now: Instant, connection: ConnectionHandle, data: Bytes) {
        self.now = now;
        let Some(conn) = self.connection_mut(connection) else {
            return;
        };
        if matches!(conn.phase, Phase::Closing) {
            return;
        }
        self.stats.bytes_in = self.stats.bytes_in.saturating_add(data.len() as u64);
        self.process_input(connection, |decoder| decoder.push_bytes(data));
    }

    /// The socket of `connection` closed. An open connection ends abnormally: its Will is
    /// published (after its delay). The handle is invalid afterwards.
    pub fn handle_closed(&mut self, now: Instant, connection: ConnectionHandle) {
        self.now = now;
        let Some(conn) = self.connection_mut(connection) else {
            return;
        };
        if !matches!(conn.phase, Phase::Closing) {
            self.end_connection(connection, true);
        }
        self.free_connection(connection);
    }

    /// Time passed: closes connections that stayed silent, ends expired sessions, publishes
    /// delayed wills and drops expired retained messages. Calls before the deadline do
    /// nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        while let Some(&(at, timer)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.pop_first();
            match timer {
                Timer::Connection(handle) => self.connection_timer(handle),
                Timer::Session(key) => self.session_timer(key),
                Timer::Retained => {
                    self.retained.expire(now);
                    if let Some(next) = self.retained.next_expiry() {
                        self.timers.insert((next, Timer::Retained));
                    }
                }
            }
        }
    }

    // ---- commands ----

    /// Accepts a CONNECT that [`Event::Authenticate`] asked about; with an Authentication
    /// Method, the CONNACK carries it (see
    /// [`accept_authentication`](Self::accept_authentication) for final Authentication Data).
    pub fn accept_connect(
        &mut self,
        now: Instant,
        connection: ConnectionHandle,
    ) -> Result<(), UsageError> {
        self.now = now;
        let connect = self.take_authenticating(connection)?;
        self.complete_connect(connection, connect);
        // Packets that arrived behind the CONNECT waited for the verdict.
        self.process_input(connection, |_| {});
        Ok(())
    }

    /// Refuses a CONNECT that [`Event::Authenticate`] asked about, with `code` (a 3.x client
    /// gets the return code of the same meaning, or Not authorized); in an enhanced
    /// authentication exchange, at any step.
    pub fn refuse_connect(
        &mut self,
        now: Instant,
        connection: ConnectionHandle,
        code: crate::reason::ConnectReasonCode,
    ) -> Result<(), UsageError> {
        self.now = now;
        let connect = self.take_connecting(connection)?;
        self.refuse(connection, connect.protocol_version, code);
        Ok(())
    }

    /// Publishes a message from the driver (a `$SYS/` topic, or a message another node of a
    /// cluster received, from its [`Event::Forward`]), to local subscribers only: it is not
    /// retained unless its RETAIN flag is set, it has no publishing session (No Local never
    /// applies), and it is never reported as [`Event::Forward`], so that a message forwarded
    /// between brokers does not come back (see the [`cluster`] hooks).
    pub fn publish(&mut self, now: Instant, message: Publish<Bytes>) -> Result<(), UsageError> {
        self.now = now;
        if message.topic.is_none() {
            return Err(UsageError::MissingTopic);
        }
        self.cluster.from_peer = true;
        self.route(message, None);
        self.cluster.from_peer = false;
        Ok(())
    }

    // ---- outputs ----

    /// The next event for the driver.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|&(at, _)| at)
    }

    // ---- internals: slots ----

    fn connection_mut(&mut self, handle: ConnectionHandle) -> Option<&mut Connection> {
        connection_in(&mut self.connections, handle)
    }

    fn connection(&self, handle: ConnectionHandle) -> Option<&Connection> {
        let slot = self.connections.get(handle.index as usize)?;
        if slot.generation != handle.generation {
            return None;
        }
        slot.connection.as_deref()
    }

    fn session_mut(&mut self, key: SessionKey) -> Option<&mut Session> {
        let slot = self.sessions.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.session.as_deref_mut()
    }

    fn session(&self, key: SessionKey) -> Option<&Session> {
        let slot = self.sessions.get(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        slot.session.as_deref()
    }

    /// The slot of the session named `client_id`.
    fn find_session(&self, client_id: &str) -> Option<u32> {
        self.by_client_id.find(client_id, |index| {
            let slot = self.sessions.get(index as usize)?;
            slot.session.as_deref().map(|session| &*session.client_id)
        })
    }

    /// Gives `session` a slot and indexes it by its Client Identifier (which no other
    /// session has).
    fn place(&mut self, session: Box<Session>) -> SessionKey {
        let index = match self.free_sessions.pop() {
            Some(index) => index,
            None => {
                let index = u32::try_from(self.sessions.len()).unwrap_or(u32::MAX);
                self.sessions.push(SessionSlot {
                    generation: 0,
                    session: None,
                });
                index
            }
        };
        let mut generation = 0;
        if let Some(slot) = self.sessions.get_mut(index as usize) {
            slot.generation = slot.generation.wrapping_add(1);
            generation = slot.generation;
            self.by_client_id.insert(&session.client_id, index);
            slot.session = Some(session);
        }
        SessionKey { index, generation }
    }

    /// Frees a connection's slot, releasing the messages its queue still held.
    fn free_connection(&mut self, handle: ConnectionHandle) {
        let Some(slot) = self.connections.get_mut(handle.index as usize) else {
            return;
        };
        if slot.generation != handle.generation {
            return;
        }
        let Some(conn) = slot.connection.take() else {
            return;
        };
        for out in conn.out {
            if let Out::Publish { delivery, .. } = out {
                self.store.release(delivery.message);
            }
        }
        self.free_connections.push(handle.index);
        self.open_connections = self.open_connections.saturating_sub(1);
    }

    /// Marks a connection as having output.
    fn mark_ready(&mut self, handle: ConnectionHandle) {
        let Some(conn) = self.connection_mut(handle) else {
            return;
        };
        if !conn.ready && conn.has_output() {
            conn.ready = true;
            self.ready.push_back(handle);
        }
    }

    /// Queues a packet on a connection.
    fn send(&mut self, handle: ConnectionHandle, out: Out) {
        if let Some(conn) = self.connection_mut(handle) {
            conn.out.push_back(out);
        }
        self.mark_ready(handle);
    }

    /// Ends a connection for `reason`, after `farewell` (a DISCONNECT or refusing CONNACK):
    /// the driver is told to close it.
    fn close(&mut self, handle: ConnectionHandle, reason: CloseReason, farewell: Option<Out>) {
        let Some(conn) = self.connection_mut(handle) else {
            return;
        };
        if matches!(conn.phase, Phase::Closing) {
            return;
        }
        if let Some(out) = farewell {
            conn.out.push_back(out);
        }
        let abnormal = !matches!(reason, CloseReason::ClientDisconnected);
        self.end_connection(handle, abnormal);
        if let Some(conn) = self.connection_mut(handle) {
            conn.phase = Phase::Closing;
            conn.deadline = None;
            conn.unread = None;
        }
        self.mark_ready(handle);
        self.events.push_back(Event::Close {
            connection: handle,
            reason,
        });
    }

    fn connection_timer(&mut self, handle: ConnectionHandle) {
        let now = self.now;
        let Some(conn) = self.connection(handle) else {
            return;
        };
        let Some(deadline) = conn.deadline else {
            return;
        };
        if deadline > now {
            self.timers.insert((deadline, Timer::Connection(handle)));
            return;
        }
        let reason = match conn.phase {
            Phase::AwaitingConnect | Phase::Authenticating(_) => CloseReason::ConnectTimeout,
            _ => CloseReason::KeepAliveTimeout,
        };
        // 5.0: DISCONNECT Keep Alive timeout (0x8D) before closing a silent client.
        let farewell = (matches!(reason, CloseReason::KeepAliveTimeout) && conn.version.is_v5())
            .then_some(Out::Disconnect(
                crate::reason::DisconnectReasonCode::KeepAliveTimeout,
            ));
        self.close(handle, reason, farewell);
    }
}
