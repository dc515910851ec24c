//! The MQTT client as a state machine: bytes and time in, bytes, events and a deadline out.
//!
//! See [`Client`] for the run loop.

mod config;
mod event;
mod inbound;
mod keep_alive;
mod options;
mod outbound;
mod receive;
mod session;
mod transmit;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;

pub use config::ClientConfig;
pub use event::{Connected, DisconnectReason, Disconnected, Event, PublishError, ServerLimits};
pub use options::{ConnectOptions, WillError};
pub use session::{SessionState, SessionStateError};
pub use transmit::Transmit;

use inbound::{Inbound, IncomingAliases};
use keep_alive::{Expired, Timers, later};
use outbound::{Entry, Outbound, Phase};
use transmit::{OutgoingAliases, Pending};

use crate::codec::Limits;
use crate::decoder::Decoder;
use crate::error::{PeerError, UsageError};
use crate::packet::{
    Auth, Connect, Delivery, Disconnect, Publish, Subscribe, Subscription, Unsubscribe,
};
use crate::property::{SubscribeProperties, UnsubscribeProperties};
use crate::reason::AuthReasonCode;
use crate::time::Instant;
use crate::topic::TopicFilter;
use crate::types::{PacketId, ProtocolVersion, QoS};

/// A sans-IO MQTT 3.1, 3.1.1 and 5.0 client.
///
/// # The run loop
///
/// A driver owns the transport and the clock, and repeats:
///
/// 1. Feed what happened: [`Client::handle_data`] or [`Client::handle_bytes`] with received
///    bytes, [`Client::handle_timeout`] when the deadline passed, [`Client::handle_closed`] when
///    the transport died, or a command ([`Client::connect`], [`Client::publish`], ...).
/// 2. Write what [`Client::poll_transmit`] puts in its buffer until it returns `None`.
/// 3. Handle every [`Event`] from [`Client::poll_event`]; on [`Event::Disconnected`], write
///    what `poll_transmit` still returns (a DISCONNECT) and close the transport gracefully:
///    shut down its write side and read until the server closes (with a bound), because
///    closing a socket with unread bytes resets it, and the reset can overtake the
///    DISCONNECT and make the server publish the Will. Commands given while handling events
///    queue packets too: go back to step 2 until both queues are empty.
/// 4. Sleep until bytes arrive or [`Client::poll_timeout`] passes.
///
/// The client never reads a clock: `now` is passed in, as milliseconds since an origin the
/// driver keeps (to turn [`poll_timeout`](Self::poll_timeout) back into its own clock), and
/// must not go backwards. Peer input never panics; the client's tables never grow past the
/// bounds of [`ClientConfig`], and the events and acknowledgements one input queues are
/// bounded by that input's size (a packet is at least two bytes). What the server gets
/// wrong ends the connection the way the spec says, and is reported as an event. Misuse by
/// the caller is an `Err` from the command, and changes nothing.
///
/// ```
/// use bytes::Bytes;
/// use mqtt_sansio::{Client, ClientConfig, ConnectOptions, Event, Instant, ProtocolVersion};
/// use mqtt_sansio::{Publish, QoS, TopicName};
///
/// let mut client = Client::new(ClientConfig::default());
/// let now = Instant::ZERO;
/// client.connect(now, ConnectOptions::new(ProtocolVersion::V5, "sensor")?)?;
/// let mut buf = [0u8; 1024];
/// let sent = client.poll_transmit(&mut buf).unwrap(); // the CONNECT: write it
/// assert_eq!(buf[0], 0x10);
///
/// client.handle_data(now, &[0x20, 0x03, 0x00, 0x00, 0x00]); // CONNACK, accepted
/// let Some(Event::Connected(connected)) = client.poll_event() else { panic!() };
/// assert!(!connected.session_present);
///
/// let message = Publish::new(TopicName::new("a/b")?, Bytes::from_static(b"hi"))
///     .with_qos(QoS::AtLeastOnce);
/// let id = client.publish(now, message)?.unwrap();
/// let sent = client.poll_transmit(&mut buf).unwrap();
/// assert_eq!(buf[0], 0x32); // PUBLISH, QoS 1
/// client.handle_data(now, &[0x40, 0x02, 0x00, id.get() as u8]); // PUBACK
/// assert_eq!(client.poll_event(), Some(Event::Published { packet_id: id, result: Ok(()) }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Methods
///
/// Its methods come in four kinds:
/// - getters: [`is_connected`](Self::is_connected), [`state`](Self::state),
///   [`protocol_version`](Self::protocol_version), [`server_limits`](Self::server_limits);
/// - inputs: [`handle_data`](Self::handle_data), [`handle_bytes`](Self::handle_bytes),
///   [`handle_timeout`](Self::handle_timeout), [`handle_closed`](Self::handle_closed);
/// - commands: [`connect`](Self::connect), [`publish`](Self::publish),
///   [`subscribe`](Self::subscribe), [`unsubscribe`](Self::unsubscribe),
///   [`disconnect`](Self::disconnect), [`authenticate`](Self::authenticate),
///   `reauthenticate` (with the `v5` feature), [`ack`](Self::ack);
/// - outputs: [`poll_transmit`](Self::poll_transmit), [`poll_event`](Self::poll_event),
///   [`poll_timeout`](Self::poll_timeout).
///
/// ```text
///              connect()              CONNACK accepted
///  Disconnected ────────▶ Connecting ─────────────────▶ Connected
///       ▲                     │                             │
///       └─────────────────────┴─────────────────────────────┘
///         refused, timeout, protocol error, DISCONNECT, transport closed
/// ```
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    state: State,
    /// The CONNECT of the current or last connection.
    connect: Option<Box<Connect<Bytes>>>,
    version: ProtocolVersion,
    decoder: Decoder,
    server: ServerLimits,
    outbound: Outbound,
    inbound: Inbound,
    incoming_aliases: IncomingAliases,
    outgoing_aliases: OutgoingAliases,
    /// SUBSCRIBE and UNSUBSCRIBE packets to send once connected.
    held_requests: VecDeque<PacketId>,
    pending: VecDeque<Pending>,
    qos0: VecDeque<Publish<Bytes>>,
    events: VecDeque<Event>,
    timers: Timers,
    now: Instant,
    /// The Session Expiry Interval in force (5.0); 3.x sessions persist unless clean.
    session_expiry: u32,
    auth: AuthExchange,
    /// A packet larger than the driver's buffer, being written in pieces.
    spill: Vec<u8>,
    spill_offset: usize,
    scratch: Vec<(PacketId, bool)>,
    lost: Vec<PacketId>,
    /// The Client Identifier the session state belongs to, once a server accepted it (the
    /// one the server assigned, if it did).
    session_key: Option<bytestring::ByteString>,
}

/// Where the connection stands; from [`Client::state`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// No connection: before [`Client::connect`], or after [`Event::Disconnected`].
    Disconnected,
    /// CONNECT queued, CONNACK not yet received.
    Connecting,
    /// CONNACK accepted the connection.
    Connected,
}

/// An enhanced-authentication exchange under way (5.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AuthExchange {
    None,
    Connecting,
    // Started by `reauthenticate` alone, which needs the `v5` feature.
    #[cfg_attr(not(feature = "v5"), allow(dead_code))]
    Reauthenticating,
}

/// What to write before a connection ends.
enum Farewell {
    /// Nothing: the transport is gone or the server already ended it.
    Nothing,
    /// Everything queued, then this DISCONNECT (the application's own disconnect).
    AfterQueue(Box<Disconnect<Bytes>>),
    /// This DISCONNECT alone (a protocol error; 5.0 only).
    Only(Box<Disconnect<Bytes>>),
}

impl Client {
    /// A client with no connection yet.
    ///
    /// ```
    /// use mqtt_sansio::{Client, ClientConfig, State};
    ///
    /// let client = Client::new(ClientConfig::default());
    /// assert_eq!(client.state(), State::Disconnected);
    /// ```
    #[must_use]
    pub fn new(config: ClientConfig) -> Self {
        Self {
            outbound: Outbound::new(config.max_outgoing),
            decoder: Decoder::client(ProtocolVersion::LATEST, Limits::new(config.max_packet_size)),
            config,
            state: State::Disconnected,
            connect: None,
            version: ProtocolVersion::LATEST,
            server: ServerLimits::DEFAULT,
            inbound: Inbound::default(),
            incoming_aliases: IncomingAliases::default(),
            outgoing_aliases: OutgoingAliases::default(),
            held_requests: VecDeque::new(),
            pending: VecDeque::new(),
            qos0: VecDeque::new(),
            events: VecDeque::new(),
            timers: Timers::default(),
            now: Instant::ZERO,
            session_expiry: 0,
            auth: AuthExchange::None,
            spill: Vec::new(),
            spill_offset: 0,
            scratch: Vec::new(),
            lost: Vec::new(),
            session_key: None,
        }
    }

    // ---- getters ----

    /// Whether the server has accepted the connection.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Where the connection stands.
    #[must_use]
    pub fn state(&self) -> State {
        self.state
    }

    /// The protocol version of the current or last connection.
    #[must_use]
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.version
    }

    /// The server's limits from the last CONNACK (every default before one arrives).
    #[must_use]
    pub fn server_limits(&self) -> &ServerLimits {
        &self.server
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// QoS 1 and 2 messages, SUBSCRIBE and UNSUBSCRIBE packets held for the server's
    /// acknowledgement or its send quota.
    #[must_use]
    pub fn outgoing_len(&self) -> usize {
        usize::from(self.outbound.len())
    }

    /// QoS 1 and 2 PUBLISH flows in flight: sent and not yet completed. Never above the
    /// server's Receive Maximum.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        usize::from(self.outbound.in_flight())
    }

    // ---- inputs ----

    /// Bytes received from the server, copied into the client's buffer.
    pub fn handle_data(&mut self, now: Instant, data: &[u8]) {
        if self.state == State::Disconnected {
            return;
        }
        self.now = now;
        self.decoder.push(data);
        self.process_input();
    }

    /// Bytes received from the server, handed over without a copy: the messages they hold
    /// share their allocation.
    pub fn handle_bytes(&mut self, now: Instant, data: Bytes) {
        if self.state == State::Disconnected {
            return;
        }
        self.now = now;
        self.decoder.push_bytes(data);
        self.process_input();
    }

    /// Time passed: sends a PINGREQ when one is due and ends a connection whose CONNACK or
    /// PINGRESP is late. Calls before the deadline do nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.state == State::Disconnected {
            return;
        }
        match self.timers.expired(now) {
            Some(Expired::ConnectTimeout) => {
                self.close(DisconnectReason::ConnectTimeout, Farewell::Nothing);
            }
            Some(Expired::KeepAliveTimeout) => {
                self.close(DisconnectReason::KeepAliveTimeout, Farewell::Nothing);
            }
            Some(Expired::SendPing) => {
                self.pending.push_back(Pending::PingReq);
                // The first unanswered PINGREQ starts the wait; one sent while waiting (the
                // Keep Alive passed again) keeps the gap between packets within the Keep
                // Alive but does not move the deadline.
                if self.timers.ping_deadline.is_none() {
                    self.timers.ping_deadline = Some(later(now, self.config.ping_timeout));
                }
                self.timers.last_sent = now;
            }
            None => {}
        }
    }

    /// The transport closed: the connection ends. No-op when there is none.
    pub fn handle_closed(&mut self, now: Instant) {
        self.now = now;
        if self.state != State::Disconnected {
            self.close(DisconnectReason::TransportClosed, Farewell::Nothing);
        }
    }

    // ---- commands ----

    /// Opens a connection: queues the CONNECT, with the Receive Maximum, Maximum Packet Size
    /// and Topic Alias Maximum of the [`ClientConfig`]. With Clean Start the session state
    /// is discarded now (3.1.1 `[MQTT-3.1.2-6]`, 5.0 `[MQTT-3.1.2-4]`), and each QoS 1 or 2
    /// message in flight is reported as [`PublishError::SessionLost`].
    pub fn connect(&mut self, now: Instant, options: ConnectOptions) -> Result<(), UsageError> {
        if self.state != State::Disconnected {
            return Err(UsageError::AlreadyConnected);
        }
        let mut connect = options.into_packet();
        let version = connect.protocol_version;
        // [MQTT-3.1.3-7] (3.1.1): an empty Client Identifier needs Clean Session.
        if !version.is_v5() && connect.client_id.as_str().is_empty() && !connect.clean_start {
            return Err(UsageError::EmptyClientIdWithoutCleanStart);
        }
        if version.is_v5() {
            let properties = &mut connect.properties;
            properties.receive_maximum = (self.config.receive_maximum.get() != u16::MAX)
                .then_some(self.config.receive_maximum);
            properties.maximum_packet_size =
                core::num::NonZeroU32::new(self.config.max_packet_size)
                    .filter(|size| size.get() < crate::codec::MAX_PACKET_SIZE);
            properties.topic_alias_maximum =
                (self.config.topic_alias_maximum != 0).then_some(self.config.topic_alias_maximum);
        }
        connect.encoded_len(version)?;
        self.now = now;
        self.version = version;
        self.session_expiry = connect.properties.session_expiry_interval.unwrap_or(0);
        // [MQTT-3.1.3-2]: the session belongs to a Client Identifier; connecting under another
        // one (or an empty one, which gets a new identifier) cannot resume it.
        let other_client = self
            .session_key
            .as_ref()
            .is_some_and(|key| &**key != connect.client_id.as_str() || key.is_empty());
        if connect.clean_start || other_client {
            self.discard_session();
            self.session_key = None;
        }
        self.decoder =
            Decoder::client(version, Limits::new(self.config.max_packet_size)).keep_buffer();
        self.pending.clear();
        self.spill.clear();
        self.spill_offset = 0;
        self.pending.push_back(Pending::Connect);
        self.auth = if connect.properties.authentication_method.is_some() {
            AuthExchange::Connecting
        } else {
            AuthExchange::None
        };
        self.connect = Some(Box::new(connect));
        self.server = ServerLimits::DEFAULT;
        self.timers = Timers {
            connack_deadline: Some(later(now, self.config.connect_timeout)),
            keep_alive: Duration::ZERO,
            last_sent: now,
            ping_deadline: None,
        };
        self.state = State::Connecting;
        Ok(())
    }

    /// Queues a message; returns the Packet Identifier of a QoS 1 or 2 message, whose outcome
    /// arrives as [`Event::Published`].
    ///
    /// The client assigns the Packet Identifier, the DUP flag and any Topic Alias: the
    /// identifier in `message.delivery` is ignored (see [`Publish::with_qos`]), and a Topic
    /// Alias or Subscription Identifier set by the caller is refused. Messages wait for the
    /// server's send quota in order; before CONNACK they wait for it.
    ///
    /// Errors: no connection and no offline queue, a QoS above the server's Maximum QoS, a
    /// retained message where Retain Available is 0, a packet above the server's Maximum
    /// Packet Size, or a full queue.
    pub fn publish(
        &mut self,
        now: Instant,
        mut message: Publish<Bytes>,
    ) -> Result<Option<PacketId>, UsageError> {
        self.check_may_queue()?;
        if message.topic.is_none() {
            return Err(UsageError::MissingTopic);
        }
        if message.properties.topic_alias.is_some() {
            return Err(UsageError::NotSettable("topic alias"));
        }
        // [MQTT-3.3.4-6] (5.0)
        if !message.properties.subscription_identifiers.is_empty() {
            return Err(UsageError::NotSettable("subscription identifier"));
        }
        let qos = message.qos();
        message.delivery = Delivery::new(qos, PacketId::MIN);
        self.check_publish(&message)?;
        self.now = now;
        if qos == QoS::AtMostOnce {
            if self.qos0.len() >= usize::from(self.config.max_queued_qos0) {
                return Err(UsageError::QueueFull("QoS 0 queue"));
            }
            self.qos0.push_back(message);
            if self.state == State::Connected {
                self.pending.push_back(Pending::Qos0);
            }
            return Ok(None);
        }
        let id = self
            .outbound
            .insert(Entry::Publish(message, Phase::Waiting))
            .ok_or(UsageError::QueueFull("outgoing table"))?;
        let quota = self.server.receive_maximum;
        if self.state == State::Connected
            && self.outbound.in_flight() < quota
            && self.outbound.waiting_len() == 1
        {
            // Checked against this server above, and nothing waits ahead of it: it goes now.
            if self.outbound.pop_waiting() == Some(id) && self.outbound.mark_sent(id).is_some() {
                self.pending.push_back(Pending::Publish(id));
            }
        } else {
            self.send_waiting();
        }
        Ok(Some(id))
    }

    /// Queues a SUBSCRIBE; returns its Packet Identifier, echoed by the
    /// [`Event::Subscribed`] that answers it.
    ///
    /// Errors: no connection (and no offline queue), no subscription, a wildcard, shared or
    /// identified subscription the server does not support, a packet above the server's
    /// Maximum Packet Size, a full outgoing table.
    pub fn subscribe(
        &mut self,
        now: Instant,
        subscriptions: impl IntoIterator<Item = Subscription<Bytes>>,
        properties: SubscribeProperties<Bytes>,
    ) -> Result<PacketId, UsageError> {
        self.check_may_queue()?;
        let mut subscribe = Subscribe::new(PacketId::MIN, subscriptions);
        subscribe.properties = properties;
        if self.state == State::Connected {
            subscribe_allowed(self.version, &self.server, &subscribe)?;
        } else {
            subscribe.encoded_len(self.version)?;
        }
        self.now = now;
        let id = self
            .outbound
            .insert(Entry::Subscribe(Box::new(subscribe)))
            .ok_or(UsageError::QueueFull("outgoing table"))?;
        self.queue_request(id, Pending::Subscribe(id));
        Ok(id)
    }

    /// Queues an UNSUBSCRIBE; returns its Packet Identifier, echoed by the
    /// [`Event::Unsubscribed`] that answers it.
    pub fn unsubscribe(
        &mut self,
        now: Instant,
        filters: impl IntoIterator<Item = TopicFilter<Bytes>>,
        properties: UnsubscribeProperties<Bytes>,
    ) -> Result<PacketId, UsageError> {
        self.check_may_queue()?;
        let mut unsubscribe = Unsubscribe::new(PacketId::MIN, filters);
        unsubscribe.properties = properties;
        let len = unsubscribe.encoded_len(self.version)?;
        if self.state == State::Connected {
            self.check_size(len)?;
        }
        self.now = now;
        let id = self
            .outbound
            .insert(Entry::Unsubscribe(Box::new(unsubscribe)))
            .ok_or(UsageError::QueueFull("outgoing table"))?;
        self.queue_request(id, Pending::Unsubscribe(id));
        Ok(id)
    }

    /// Ends the connection: what is queued goes out, then this DISCONNECT, then nothing
    /// (3.1.1 `[MQTT-3.14.4-2]`, 5.0 `[MQTT-3.14.4-1]`). [`Event::Disconnected`] follows at
    /// once; the driver closes the transport after writing the last bytes.
    ///
    /// In 3.1 and 3.1.1 only a DISCONNECT with reason 0x00 and no properties can be sent. In
    /// 5.0 a Reason String and User Properties that would make it larger than the server's
    /// Maximum Packet Size are left out (`[MQTT-3.14.2-3]`, `[MQTT-3.14.2-4]`), and a Session
    /// Expiry Interval may not be set after a CONNECT that set none (`[MQTT-3.14.2-2]`).
    pub fn disconnect(
        &mut self,
        now: Instant,
        mut disconnect: Disconnect<Bytes>,
    ) -> Result<(), UsageError> {
        if self.state == State::Disconnected {
            return Err(UsageError::NotConnected);
        }
        // The CONNECT's value, not the CONNACK's: v5 §3.14.2.2.2.
        let connect_expiry = self
            .connect
            .as_ref()
            .and_then(|connect| connect.properties.session_expiry_interval)
            .unwrap_or(0);
        if let Some(expiry) = disconnect.properties.session_expiry_interval
            && expiry != 0
            && connect_expiry == 0
        {
            return Err(UsageError::NotSettable(
                "session expiry interval after a CONNECT without one",
            ));
        }
        self.trim_to_server(&mut disconnect)?;
        disconnect.encoded_len(self.version)?;
        self.now = now;
        if let Some(expiry) = disconnect.properties.session_expiry_interval {
            self.session_expiry = expiry;
        }
        let reason = DisconnectReason::ByClient(disconnect.reason_code);
        self.close(reason, Farewell::AfterQueue(Box::new(disconnect)));
        Ok(())
    }

    /// Answers an [`Event::AuthChallenge`] with AUTH Continue authentication (0x18) and this
    /// Authentication Data (5.0 `[MQTT-4.12.0-3]`); the method is the CONNECT's
    /// (`[MQTT-4.12.0-5]`).
    pub fn authenticate(&mut self, now: Instant, data: Option<Bytes>) -> Result<(), UsageError> {
        if self.auth == AuthExchange::None || self.state == State::Disconnected {
            return Err(UsageError::NoAuthentication);
        }
        self.queue_auth(now, AuthReasonCode::ContinueAuthentication, data)
    }

    /// Starts a 5.0 re-authentication: AUTH Re-authenticate (0x19) with the CONNECT's
    /// Authentication Method (`[MQTT-4.12.1-1]`) and this data. Needs the `v5` feature.
    #[cfg(feature = "v5")]
    pub fn reauthenticate(&mut self, now: Instant, data: Option<Bytes>) -> Result<(), UsageError> {
        if self.state != State::Connected {
            return Err(UsageError::NotConnected);
        }
        if !self.version.is_v5() {
            return Err(UsageError::NotInVersion {
                what: "re-authentication",
                needs: ProtocolVersion::V5,
            });
        }
        if self.auth != AuthExchange::None {
            return Err(UsageError::NoAuthentication);
        }
        self.queue_auth(now, AuthReasonCode::ReAuthenticate, data)?;
        self.auth = AuthExchange::Reauthenticating;
        Ok(())
    }

    /// With [`ClientConfig::manual_acks`], acknowledges the QoS 1 or 2 message with this
    /// Packet Identifier. Acknowledgements go out in the order the messages arrived
    /// (`[MQTT-4.6.0-2]`, `[MQTT-4.6.0-3]`), so one waits for those before it.
    pub fn ack(&mut self, packet_id: PacketId) -> Result<(), UsageError> {
        if !self.config.manual_acks {
            return Err(UsageError::NotAwaitingAck(packet_id.get()));
        }
        let mut due = Vec::new();
        if !self.inbound.ack(packet_id, &mut due) {
            return Err(UsageError::NotAwaitingAck(packet_id.get()));
        }
        if self.state == State::Connected {
            for (id, qos) in due {
                self.pending.push_back(match qos {
                    QoS::ExactlyOnce => {
                        Pending::PubRec(id, crate::reason::PubAckReasonCode::Success)
                    }
                    _ => Pending::PubAck(id, crate::reason::PubAckReasonCode::Success),
                });
            }
        }
        Ok(())
    }

    // ---- outputs ----

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Disconnected {
            return None;
        }
        self.timers.next()
    }

    // ---- internals ----

    /// Reports `event`. Out of line: the client does this from a dozen places, and one copy
    /// of the queue's growth code serves them all.
    #[inline(never)]
    fn emit(&mut self, event: Event) {
        self.events.push_back(event);
    }

    fn check_may_queue(&self) -> Result<(), UsageError> {
        if self.state == State::Disconnected && !self.config.queue_while_offline {
            return Err(UsageError::NotConnected);
        }
        Ok(())
    }

    /// The server's limits on a PUBLISH (`[MQTT-3.2.2-11]`, `[MQTT-3.2.2-14]`,
    /// `[MQTT-3.2.2-15]` in 5.0), once they are known.
    fn check_publish(&self, message: &Publish<Bytes>) -> Result<(), UsageError> {
        let len = message.encoded_len(self.version)?;
        if self.state != State::Connected {
            return Ok(());
        }
        server_allows(&self.server, message, len)
    }

    /// Whether a message accepted before the server's limits were known can go to this
    /// server.
    fn sendable(&self, publish: &Publish<Bytes>) -> Result<(), PublishError> {
        sendable(self.version, &self.server, publish)
    }

    fn check_size(&self, len: usize) -> Result<(), UsageError> {
        check_size(&self.server, len)
    }

    /// Leaves out a 5.0 DISCONNECT's Reason String, then its User Properties, while it is
    /// larger than the server's Maximum Packet Size.
    fn trim_to_server(&self, disconnect: &mut Disconnect<Bytes>) -> Result<(), UsageError> {
        let Some(maximum) = self.server.maximum_packet_size else {
            return Ok(());
        };
        let maximum = usize::try_from(maximum).unwrap_or(usize::MAX);
        if disconnect.encoded_len(self.version)? > maximum {
            disconnect.properties.reason_string = None;
        }
        if disconnect.encoded_len(self.version)? > maximum {
            disconnect.properties.user_properties = crate::codec::WireList::new();
        }
        Ok(())
    }

    fn queue_request(&mut self, id: PacketId, item: Pending) {
        if self.state == State::Connected {
            self.pending.push_back(item);
        } else {
            self.held_requests.push_back(id);
        }
    }

    fn queue_auth(
        &mut self,
        now: Instant,
        code: AuthReasonCode,
        data: Option<Bytes>,
    ) -> Result<(), UsageError> {
        let method = self
            .connect
            .as_ref()
            .and_then(|connect| connect.properties.authentication_method.clone())
            .ok_or(UsageError::NoAuthentication)?;
        let mut auth = Auth::new(code);
        auth.properties.authentication_method = Some(method);
        auth.properties.authentication_data =
            match data {
                Some(data) => Some(crate::codec::BinaryData::new(data).map_err(|_| {
                    UsageError::NotSettable("authentication data over 65,535 bytes")
                })?),
                None => None,
            };
        let len = auth.encoded_len(self.version)?;
        self.check_size(len)?;
        self.now = now;
        self.pending.push_back(Pending::Auth(Box::new(auth)));
        Ok(())
    }

    /// Sends waiting QoS 1 and 2 messages while the server's send quota allows
    /// (`[MQTT-4.9.0-2]`): a message leaves the queue only when it can go out.
    fn send_waiting(&mut self) {
        if self.state != State::Connected {
            return;
        }
        let quota = self.server.receive_maximum;
        while self.outbound.in_flight() < quota && self.outbound.has_waiting() {
            let Some(id) = self.outbound.pop_waiting() else {
                break;
            };
            let Some(publish) = self.outbound.mark_sent(id) else {
                continue;
            };
            let verdict = sendable(self.version, &self.server, publish);
            if let Err(error) = verdict {
                self.outbound.remove(id);
                self.emit(Event::Published {
                    packet_id: id,
                    result: Err(error),
                });
                continue;
            }
            self.pending.push_back(Pending::Publish(id));
        }
    }

    /// Discards the session state: every QoS 1 and 2 flow the server knew of is reported
    /// lost; messages never sent stay queued, to go out as new ones, and SUBSCRIBE and
    /// UNSUBSCRIBE packets without an answer go to the next session.
    fn discard_session(&mut self) {
        let mut lost = core::mem::take(&mut self.lost);
        self.outbound.discard_session(&mut lost);
        for &packet_id in &lost {
            self.emit(Event::Published {
                packet_id,
                result: Err(PublishError::SessionLost),
            });
        }
        lost.clear();
        self.lost = lost;
        self.inbound.clear();
    }

    /// Whether the session outlives the connection: Clean Session 0 in 3.x, a Session
    /// Expiry Interval above 0 in 5.0 (`[MQTT-3.1.2-23]`).
    fn session_persists(&self) -> bool {
        let clean = self
            .connect
            .as_ref()
            .is_none_or(|connect| connect.clean_start);
        if self.version.is_v5() {
            self.session_expiry != 0
        } else {
            !clean
        }
    }

    /// A protocol error by the server: 5.0 sends DISCONNECT with the error's reason code,
    /// 3.x closes (3.1.1 `[MQTT-4.8.0-1]`, 5.0 `[MQTT-4.13.1-1]`).
    fn fail(&mut self, error: PeerError) {
        let farewell = if self.version.is_v5() {
            Farewell::Only(Box::new(Disconnect::new(error.disconnect_reason_code())))
        } else {
            Farewell::Nothing
        };
        self.close(DisconnectReason::ProtocolError(error), farewell);
    }

    fn close(&mut self, reason: DisconnectReason, farewell: Farewell) {
        self.close_with(Disconnected::new(reason), farewell);
    }

    /// Ends the connection: writes the farewell, resets what belongs to the connection, ends
    /// a session that does not outlive it, and reports [`Event::Disconnected`].
    fn close_with(&mut self, disconnected: Disconnected, farewell: Farewell) {
        let keep_queue = matches!(farewell, Farewell::AfterQueue(_));
        match farewell {
            Farewell::Nothing => {
                // The transport is gone: so is any packet half written to it.
                self.pending.clear();
                self.spill.clear();
                self.spill_offset = 0;
            }
            Farewell::AfterQueue(disconnect) => {
                self.pending.push_back(Pending::Disconnect(disconnect));
            }
            Farewell::Only(disconnect) => {
                self.pending.clear();
                self.pending.push_back(Pending::Disconnect(disconnect));
            }
        }
        self.state = State::Disconnected;
        self.timers = Timers::default();
        self.auth = AuthExchange::None;
        self.decoder = Decoder::client(self.version, Limits::new(self.config.max_packet_size));
        self.incoming_aliases.clear();
        self.emit(Event::Disconnected(disconnected));
        if !self.session_persists() {
            self.discard_session();
        }
        // SUBSCRIBE and UNSUBSCRIBE packets without an answer go again on the next
        // connection.
        self.held_requests.clear();
        let requests = self.outbound.entries().filter_map(|(id, entry)| {
            matches!(entry, Entry::Subscribe(_) | Entry::Unsubscribe(_)).then_some(id)
        });
        self.held_requests.extend(requests);
        if !keep_queue && !self.config.queue_while_offline {
            while let Some(publish) = self.qos0.pop_front() {
                self.emit(Event::Dropped(Box::new(publish)));
            }
        }
    }

    /// Everything queued while not connected, in order, once CONNACK arrives.
    fn flush_held(&mut self) {
        while let Some(id) = self.held_requests.pop_front() {
            // Queued before this server's limits were known: held to them now.
            let (verdict, item) = match self.outbound.get(id) {
                Some(Entry::Subscribe(subscribe)) => (
                    subscribe_allowed(self.version, &self.server, subscribe),
                    Pending::Subscribe(id),
                ),
                Some(Entry::Unsubscribe(unsubscribe)) => (
                    unsubscribe
                        .encoded_len(self.version)
                        .map_err(UsageError::from)
                        .and_then(|len| self.check_size(len)),
                    Pending::Unsubscribe(id),
                ),
                _ => continue,
            };
            match verdict {
                Ok(()) => self.pending.push_back(item),
                Err(error) => {
                    self.outbound.remove(id);
                    self.emit(Event::RequestFailed {
                        packet_id: id,
                        error,
                    });
                }
            }
        }
        let mut index = 0;
        while index < self.qos0.len() {
            let refused = self
                .qos0
                .get(index)
                .is_none_or(|publish| self.sendable(publish).is_err());
            if refused {
                if let Some(publish) = self.qos0.remove(index) {
                    self.emit(Event::Dropped(Box::new(publish)));
                }
            } else {
                self.pending.push_back(Pending::Qos0);
                index = index.saturating_add(1);
            }
        }
        self.send_waiting();
    }
}

/// The server's Maximum QoS, Retain Available and Maximum Packet Size applied to a message
/// of `len` bytes.
fn server_allows(
    server: &ServerLimits,
    message: &Publish<Bytes>,
    len: usize,
) -> Result<(), UsageError> {
    // Only a 5.0 CONNACK sets these limits; the guard lets a build without 5.0 drop the checks.
    if !cfg!(feature = "v5") {
        return Ok(());
    }
    let maximum = server.maximum_qos;
    if message.qos() > maximum {
        return Err(UsageError::QosNotSupported {
            requested: message.qos(),
            maximum,
        });
    }
    if message.retain && !server.retain_available {
        return Err(UsageError::RetainNotSupported);
    }
    check_size(server, len)
}

/// [`server_allows`] for a message already accepted, as the error its event reports.
fn sendable(
    version: ProtocolVersion,
    server: &ServerLimits,
    message: &Publish<Bytes>,
) -> Result<(), PublishError> {
    let len = message
        .encoded_len(version)
        .map_err(|_| PublishError::TooLarge)?;
    server_allows(server, message, len).map_err(|error| match error {
        UsageError::PacketTooLarge { .. } => PublishError::TooLarge,
        _ => PublishError::Unsupported,
    })
}

/// The server's Wildcard, Shared and Subscription Identifier availability and Maximum Packet
/// Size applied to a SUBSCRIBE.
fn subscribe_allowed(
    version: ProtocolVersion,
    server: &ServerLimits,
    subscribe: &Subscribe<Bytes>,
) -> Result<(), UsageError> {
    // Only a 5.0 CONNACK withdraws these; the guard lets a build without 5.0 drop the checks.
    if cfg!(feature = "v5") {
        for subscription in subscribe.subscriptions.iter() {
            let filter = &subscription.filter;
            if filter.is_shared() && !server.shared_subscriptions {
                return Err(UsageError::NotSupported("shared subscriptions"));
            }
            if filter.has_wildcards() && !server.wildcard_subscriptions {
                return Err(UsageError::NotSupported("wildcard subscriptions"));
            }
        }
        if subscribe.properties.subscription_identifier.is_some()
            && !server.subscription_identifiers
        {
            return Err(UsageError::NotSupported("subscription identifiers"));
        }
    }
    check_size(server, subscribe.encoded_len(version)?)
}

/// The server's Maximum Packet Size (`[MQTT-3.2.2-15]` in 5.0).
fn check_size(server: &ServerLimits, len: usize) -> Result<(), UsageError> {
    if !cfg!(feature = "v5") {
        return Ok(());
    }
    match server.maximum_packet_size {
        Some(maximum) if len > usize::try_from(maximum).unwrap_or(usize::MAX) => {
            Err(UsageError::PacketTooLarge { size: len, maximum })
        }
        _ => Ok(()),
    }
}

impl<B: crate::codec::Buffer> Publish<B> {
    /// The message at `qos`; a QoS 1 or 2 message gets a placeholder Packet Identifier, which
    /// [`Client::publish`] replaces.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mqtt_sansio::{Publish, QoS, TopicName};
    ///
    /// let message = Publish::new(TopicName::new("a")?, Bytes::new()).with_qos(QoS::ExactlyOnce);
    /// assert_eq!(message.qos(), QoS::ExactlyOnce);
    /// # Ok::<(), mqtt_sansio::TopicError>(())
    /// ```
    #[must_use]
    pub fn with_qos(mut self, qos: QoS) -> Self {
        self.delivery = Delivery::new(qos, PacketId::MIN);
        self
    }

    /// The message with the RETAIN flag set to `retain`.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mqtt_sansio::{Publish, TopicName};
    ///
    /// let message = Publish::new(TopicName::new("a")?, Bytes::new()).with_retain(true);
    /// assert!(message.retain);
    /// # Ok::<(), mqtt_sansio::TopicError>(())
    /// ```
    #[must_use]
    pub fn with_retain(mut self, retain: bool) -> Self {
        self.retain = retain;
        self
    }
}
