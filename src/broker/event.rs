//! What a [`Broker`](super::Broker) tells its driver: [`Event`] and the handles it names.

use alloc::boxed::Box;

use bytes::Bytes;

use crate::codec::MqttString;
use crate::packet::{Auth, Connect, Publish};
use crate::reason::DisconnectReasonCode;
use crate::topic::TopicFilter;
use crate::types::ProtocolVersion;

/// One connection of a [`Broker`](super::Broker), from [`accept`](super::Broker::accept).
///
/// A handle is never reused for another connection: once its connection is gone, every call
/// with it is a no-op (or an error, for commands).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionHandle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// Something the driver should act on, from [`Broker::poll_event`](super::Broker::poll_event).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A CONNECT waiting for the driver's verdict: every CONNECT when the broker does not
    /// accept anonymous clients, and, whatever
    /// [`allow_anonymous`](super::BrokerConfig::allow_anonymous) says, every 5.0 CONNECT with
    /// an Authentication Method (enhanced authentication, §4.12). Check its credentials, then
    /// call [`accept_connect`](super::Broker::accept_connect) or
    /// [`refuse_connect`](super::Broker::refuse_connect); for an Authentication Method also
    /// [`accept_authentication`](super::Broker::accept_authentication) (a CONNACK with final
    /// Authentication Data) or
    /// [`continue_authentication`](super::Broker::continue_authentication) (an AUTH challenge).
    /// A method the driver does not know is refused with Bad authentication method (0x8C) or
    /// Not authorized (0x87) (`[MQTT-4.12.0-1]`).
    ///
    /// The answer may come later (after a database or HTTP call), while the connect timeout
    /// keeps running. Without an Authentication Method, nothing the client sent after the
    /// CONNECT is read until then; with one, the client may send nothing but AUTH when asked
    /// and DISCONNECT before its CONNACK (`[MQTT-3.1.2-30]`): anything else closes the
    /// connection with CONNACK Protocol Error (0x82).
    #[non_exhaustive]
    Authenticate {
        /// The connection.
        connection: ConnectionHandle,
        /// The CONNECT, with the Client Identifier, User Name and Password, and the
        /// Authentication Method and Data. An empty Client Identifier is already replaced
        /// by the one the broker assigns (`[MQTT-3.1.3-6]` in 3.1.1, returned in the CONNACK
        /// in 5.0), so that a [`Policy`](super::Policy) keyed by Client Identifier can be told
        /// before [`accept_connect`](super::Broker::accept_connect) whom it will judge.
        connect: Box<Connect<Bytes>>,
        /// Whether the client sent an empty Client Identifier, so that the one in `connect`
        /// is the broker's: a driver that does not accept clients without an identifier of
        /// their own refuses them (5.0: Client Identifier not valid, 0x85).
        client_id_assigned: bool,
    },
    /// The client's answer to an AUTH challenge from
    /// [`continue_authentication`](super::Broker::continue_authentication): an AUTH Continue
    /// authentication (0x18) with the same Authentication Method, carrying its Authentication
    /// Data. Answer it as the event that led to the challenge: while connecting with
    /// [`accept_authentication`](super::Broker::accept_authentication),
    /// [`continue_authentication`](super::Broker::continue_authentication) or
    /// [`refuse_connect`](super::Broker::refuse_connect); in a re-authentication with
    /// [`accept_authentication`](super::Broker::accept_authentication),
    /// [`continue_authentication`](super::Broker::continue_authentication) or
    /// [`refuse_reauthentication`](super::Broker::refuse_reauthentication).
    AuthenticationData {
        /// The connection.
        connection: ConnectionHandle,
        /// The client's AUTH.
        auth: Box<Auth<Bytes>>,
    },
    /// A connected 5.0 client that authenticated with an Authentication Method asks to
    /// re-authenticate (AUTH 0x19, §4.12.1), with the same method and its first
    /// Authentication Data. Its messages keep flowing meanwhile. Answer with
    /// [`accept_authentication`](super::Broker::accept_authentication) (AUTH Success),
    /// [`continue_authentication`](super::Broker::continue_authentication) (an AUTH challenge)
    /// or [`refuse_reauthentication`](super::Broker::refuse_reauthentication) (DISCONNECT, then
    /// close).
    Reauthenticate {
        /// The connection.
        connection: ConnectionHandle,
        /// The client's AUTH.
        auth: Box<Auth<Bytes>>,
    },
    /// A client is connected: its CONNACK is queued.
    Connected {
        /// The connection.
        connection: ConnectionHandle,
        /// The Client Identifier (assigned by the broker if the client sent none).
        client_id: MqttString<Bytes>,
        /// The protocol version.
        version: ProtocolVersion,
        /// Whether a stored session was resumed.
        session_present: bool,
    },
    /// The broker is done with a connection: write what
    /// [`poll_transmit`](super::Broker::poll_transmit) still returns for it, then close the
    /// socket and call [`handle_closed`](super::Broker::handle_closed).
    Close {
        /// The connection.
        connection: ConnectionHandle,
        /// Why.
        reason: CloseReason,
    },
    /// A Topic Filter gained its first subscriber on this broker (`gained`), or lost its last
    /// one (an UNSUBSCRIBE, or the end, expiry or export of the sessions that held it), with
    /// [`report_interest`](super::BrokerConfig::report_interest) on. A cluster driver tells
    /// the other nodes, which register it with
    /// [`add_remote_interest`](super::Broker::add_remote_interest) and forward what matches.
    ///
    /// Filters are counted as written: `a/#` and `a/+` are two interests, and a shared
    /// subscription is reported whole (`$share/{group}/{filter}`), one interest per group. A
    /// session that subscribes again to a filter it holds changes nothing. Restoring a
    /// [`snapshot`](super::Broker::snapshot) and importing a session report what they add.
    ///
    /// ```
    /// use mqtt_sansio::broker::Event;
    /// use mqtt_sansio::{Broker, BrokerConfig, Instant};
    ///
    /// let config = BrokerConfig { report_interest: true, ..BrokerConfig::default() };
    /// let mut broker = Broker::new(config);
    /// let connection = broker.accept(Instant::ZERO)?;
    /// // CONNECT of "dev1" in 3.1.1, then SUBSCRIBE to "a/#" at QoS 0.
    /// broker.handle_data(Instant::ZERO, connection, b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04dev1");
    /// broker.handle_data(Instant::ZERO, connection, b"\x82\x08\x00\x01\x00\x03a/#\x00");
    /// assert!(matches!(broker.poll_event(), Some(Event::Connected { .. })));
    /// match broker.poll_event() {
    ///     Some(Event::Interest { filter, gained }) => assert!(filter.as_str() == "a/#" && gained),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), mqtt_sansio::UsageError>(())
    /// ```
    Interest {
        /// The filter, exactly as subscribed.
        filter: TopicFilter<Bytes>,
        /// Whether it gained its first subscriber (`true`) or lost its last one (`false`).
        gained: bool,
    },
    /// A message a client of this broker published (or a Will it published for one) matches
    /// what `peer` registered with [`add_remote_interest`](super::Broker::add_remote_interest):
    /// send it there, to be given to that broker's [`publish`](super::Broker::publish). One
    /// event per peer and message, however many of its filters match; never for a message
    /// the driver gave to [`publish`](super::Broker::publish), so that a message goes from
    /// node to node once and never back.
    ///
    /// The message is as stored: its topic resolved from any Topic Alias, no Packet
    /// Identifier of its own, its RETAIN flag and properties as published.
    Forward {
        /// The peer, as the driver named it.
        peer: u32,
        /// The message.
        message: Box<Publish<Bytes>>,
    },
}

/// Why the broker closes a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client sent DISCONNECT.
    ClientDisconnected,
    /// The client broke the protocol; in 5.0 a DISCONNECT or CONNACK with this code was
    /// queued.
    ProtocolError(DisconnectReasonCode),
    /// The CONNECT was refused; the refusing CONNACK is queued.
    Refused,
    /// No CONNECT within the connect timeout.
    ConnectTimeout,
    /// Nothing received for one and a half times the Keep Alive.
    KeepAliveTimeout,
    /// Another connection took the session over (5.0: DISCONNECT 0x8E queued).
    SessionTakenOver,
    /// The client sent more than one maximum-size packet's worth behind a CONNECT that
    /// waited for the driver's verdict: the broker holds no more for it.
    BufferFull,
    /// The driver refused a re-authentication with
    /// [`refuse_reauthentication`](super::Broker::refuse_reauthentication); a DISCONNECT with
    /// this code was queued.
    ReauthenticationRefused(DisconnectReasonCode),
    /// The driver ended the connection with [`disconnect`](super::Broker::disconnect) or
    /// [`shutdown`](super::Broker::shutdown); a connected 5.0 client was sent a DISCONNECT
    /// with this code.
    ServerDisconnect(DisconnectReasonCode),
}
