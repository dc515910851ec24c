//! What a [`Broker`](super::Broker) allows and how long it waits: every limit and timer.

use alloc::string::String;
use core::time::Duration;

use crate::types::QoS;

/// The limits and timers of a [`Broker`](super::Broker), advertised to 5.0 clients in CONNACK
/// where the spec has a property for them.
///
/// Every table the broker keeps is bounded here, so that no client, and no number of them,
/// can make it hold more than the configuration allows.
///
/// ```
/// use mqtt_sansio::BrokerConfig;
///
/// let config = BrokerConfig { max_connections: 100, ..BrokerConfig::default() };
/// assert_eq!(config.receive_maximum, 64);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerConfig {
    /// Open connections at once; [`Broker::accept`](super::Broker::accept) refuses more.
    pub max_connections: usize,
    /// The largest packet accepted, fixed header included; advertised as Maximum Packet Size.
    pub max_packet_size: u32,
    /// QoS 1 and 2 messages a client may have unacknowledged towards the broker (Receive
    /// Maximum); one more is a protocol error (0x93).
    pub receive_maximum: u16,
    /// QoS 1 and 2 messages the broker has in flight to one client at once, at most; a 5.0
    /// client's own Receive Maximum lowers it.
    pub max_inflight: u16,
    /// Messages queued for one session (offline, or beyond its in-flight window).
    ///
    /// The overflow policy, with [`max_queued_bytes`](Self::max_queued_bytes): QoS 1 and 2
    /// deliveries past either limit are dropped, newest first (the publisher's acknowledgement
    /// is not affected). QoS 0 is never queued for an absent client, and waits on a connected
    /// client's connection up to the same two limits, past which it is dropped. Every drop
    /// counts in [`Stats::dropped_queue_full`](super::Stats::dropped_queue_full).
    pub max_queued_messages: usize,
    /// Payload bytes queued for one session (see
    /// [`max_queued_messages`](Self::max_queued_messages)).
    pub max_queued_bytes: usize,
    /// The highest QoS a client may publish with (Maximum QoS).
    pub maximum_qos: QoS,
    /// Whether retained messages are supported (Retain Available).
    pub retain_available: bool,
    /// Whether filters with `+` or `#` are allowed (Wildcard Subscription Available).
    pub wildcard_subscriptions: bool,
    /// Whether `$share/` filters are allowed (Shared Subscription Available).
    pub shared_subscriptions: bool,
    /// Whether SUBSCRIBE may carry a Subscription Identifier (Subscription Identifiers
    /// Available).
    pub subscription_identifiers: bool,
    /// Topic Aliases a 5.0 client may set up towards the broker (Topic Alias Maximum).
    pub topic_alias_maximum: u16,
    /// The longest Keep Alive a client may ask for, in seconds; a longer one (or 0) is
    /// replaced by this in 5.0 (Server Keep Alive). `None`: no maximum.
    pub max_keep_alive: Option<u16>,
    /// The longest Session Expiry Interval granted, in seconds.
    pub max_session_expiry: u32,
    /// How long a new connection may take to send its CONNECT.
    pub connect_timeout: Duration,
    /// Subscriptions one session may hold.
    pub max_subscriptions: usize,
    /// Levels a topic or filter may have.
    pub max_topic_levels: usize,
    /// Accept a CONNECT without asking the driver. Off: every CONNECT becomes an
    /// [`Event::Authenticate`](super::Event::Authenticate) the driver answers.
    pub allow_anonymous: bool,
    /// The key of the hash that indexes sessions by Client Identifier. A driver that has a
    /// random source should set a random one at start: then no client can choose
    /// identifiers that collide, which would cost lookups time (never correctness).
    pub hash_seed: u64,
    /// What a 5.0 client that sets Request Response Information to 1 gets as Response
    /// Information in its CONNACK, as the basis of the Response Topics it will use: this
    /// prefix followed by its Client Identifier (the assigned one, if the broker assigned it).
    /// With `Some("reply/")`, client `dev1` gets `reply/dev1`. A client that does not ask
    /// (Request Response Information 0 or absent) never gets it (`[MQTT-3.1.2-28]` in 5.0),
    /// nor does a 3.x client; neither does one whose Maximum Packet Size leaves no room for
    /// it. `None`: never sent.
    ///
    /// The broker does not reserve the topics: pair this with a [`Policy`](super::Policy)
    /// that lets only the client itself subscribe under its prefix.
    ///
    /// ```
    /// use mqtt_sansio::BrokerConfig;
    ///
    /// let config = BrokerConfig {
    ///     response_information: Some("reply/".into()),
    ///     ..BrokerConfig::default()
    /// };
    /// assert_eq!(config.response_information.as_deref(), Some("reply/"));
    /// ```
    pub response_information: Option<String>,
    /// Report [`Event::Interest`](super::Event::Interest) when a Topic Filter gains its first
    /// subscriber on this broker or loses its last one, so that a cluster driver can tell the
    /// other nodes (or the other cores of the process) which messages this one wants. Off, a
    /// single broker pays nothing for it; on, each SUBSCRIBE, UNSUBSCRIBE and session end pays
    /// one more walk of the filter's levels per filter, and nothing per message.
    ///
    /// ```
    /// use mqtt_sansio::BrokerConfig;
    ///
    /// let config = BrokerConfig { report_interest: true, ..BrokerConfig::default() };
    /// assert!(!BrokerConfig::default().report_interest);
    /// # drop(config);
    /// ```
    pub report_interest: bool,
}

impl BrokerConfig {
    /// The defaults: 10,000 connections, 1 MiB packets, Receive Maximum 64 both ways, 1,000
    /// messages and 1 MiB queued per session, QoS 2, every feature available, 10 Topic
    /// Aliases, no Keep Alive maximum, sessions kept at most a day, 10 s to send CONNECT, 1,000
    /// subscriptions per session, 200 topic levels, anonymous clients accepted, no Response
    /// Information, hash seed 0, no interest reported.
    pub const DEFAULT: Self = Self {
        max_connections: 10_000,
        max_packet_size: 1024 * 1024,
        receive_maximum: 64,
        max_inflight: 64,
        max_queued_messages: 1000,
        max_queued_bytes: 1024 * 1024,
        maximum_qos: QoS::ExactlyOnce,
        retain_available: true,
        wildcard_subscriptions: true,
        shared_subscriptions: true,
        subscription_identifiers: true,
        topic_alias_maximum: 10,
        max_keep_alive: None,
        max_session_expiry: 86_400,
        connect_timeout: Duration::from_secs(10),
        max_subscriptions: 1000,
        max_topic_levels: crate::topic::DEFAULT_MAX_TOPIC_LEVELS,
        allow_anonymous: true,
        hash_seed: 0,
        response_information: None,
        report_interest: false,
    };
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
