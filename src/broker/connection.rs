//! One network connection on the broker: the bytes it sent that are not yet decoded, its
//! phase, the limits its client set, and the packets queued for it.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::num::{NonZeroU16, NonZeroU32};
use core::time::Duration;

use bytes::{Bytes, BytesMut};

use super::session::{Delivery, SessionKey};
use crate::packet::{Auth, ConnAck, Connect, SubAck, TopicAliasUse, UnsubAck};
use crate::reason::DisconnectReasonCode;
use crate::time::Instant;
use crate::topic::TopicName;
use crate::types::{PacketId, ProtocolVersion};

/// Where a connection stands.
#[derive(Debug)]
pub(crate) enum Phase {
    /// Accepted; its CONNECT has not arrived.
    AwaitingConnect,
    /// Its CONNECT waits for the driver's verdict.
    Authenticating(Box<Connect<Bytes>>),
    /// Connected to a session.
    Connected,
    /// Done: the last packets are queued, the driver was told to close it.
    Closing,
}

/// An acknowledgement the broker sends, with its reason code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // the packets' own names
pub(crate) enum Ack {
    PubAck(PacketId, u8),
    PubRec(PacketId, u8),
    PubRel(PacketId, u8),
    PubComp(PacketId, u8),
}

/// One and a half times the Keep Alive: how long the broker waits for a packet.
pub(crate) fn grace(keep_alive: Duration) -> Duration {
    keep_alive.saturating_add(keep_alive.checked_div(2).unwrap_or_default())
}

/// A packet being written in pieces, and how much of it is written.
#[derive(Debug, Default)]
pub(crate) struct Spill {
    pub(crate) bytes: Vec<u8>,
    pub(crate) offset: usize,
}

/// The Topic Aliases of one connection (5.0); they never outlive it (`[MQTT-3.3.2-7]`).
#[derive(Debug, Default)]
pub(crate) struct Aliases {
    /// The topics the client set up towards the broker, by alias less one.
    pub(crate) inbound: Vec<Option<TopicName<Bytes>>>,
    /// The aliases the broker set up towards the client, by topic (sorted).
    outbound: Vec<(Box<str>, NonZeroU16)>,
}

impl Aliases {
    fn outbound(&self, topic: &str) -> Result<NonZeroU16, usize> {
        self.outbound
            .binary_search_by(|(known, _)| (**known).cmp(topic))
            .and_then(|at| self.outbound.get(at).map(|&(_, alias)| alias).ok_or(at))
    }
}

/// Topics this short get no outbound alias: the alias would save nothing.
const SHORTEST_ALIASED_TOPIC: usize = 4;

/// One packet queued for the connection.
#[derive(Debug)]
pub(crate) enum Out {
    /// A delivery; for QoS 1 and 2 its Packet Identifier and DUP flag.
    Publish {
        delivery: Delivery,
        id: Option<PacketId>,
        dup: bool,
    },
    Ack(Ack),
    ConnAck(Box<ConnAck<Bytes>>),
    SubAck(Box<SubAck<Bytes>>),
    UnsubAck(Box<UnsubAck<Bytes>>),
    PingResp,
    Disconnect(DisconnectReasonCode),
    /// A 5.0 AUTH of the enhanced authentication exchange.
    Auth(Box<Auth<Bytes>>),
}

/// A connection; see the module docs.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) phase: Phase,
    /// Received bytes not yet decoded: the start of a packet, or packets that wait for the
    /// driver's verdict on the CONNECT. `None` when idle: the broker decodes every
    /// connection with one working decoder.
    pub(crate) unread: Option<Box<BytesMut>>,
    pub(crate) version: ProtocolVersion,
    pub(crate) session: Option<SessionKey>,
    /// When the connection is closed for silence: the connect timeout, then one and a half
    /// times the Keep Alive after the last packet (`[MQTT-3.1.2-24]` in 3.1.1).
    pub(crate) deadline: Option<Instant>,
    /// The Keep Alive in force, in seconds; 0 when off.
    pub(crate) keep_alive: u16,
    /// The client's Receive Maximum: deliveries in flight to it at once.
    pub(crate) receive_maximum: u16,
    /// The client's Maximum Packet Size.
    pub(crate) max_packet_size: Option<NonZeroU32>,
    /// Whether the client accepts Reason Strings and User Properties on acks (5.0).
    pub(crate) problem_information: bool,
    /// The 5.0 enhanced authentication of a CONNECT with an Authentication Method: the
    /// method, and whose turn it is in an exchange under way (`None` without a method).
    pub(crate) auth: Option<Box<super::auth::Authentication>>,
    /// Topic Aliases both ways (5.0), once the connection has one.
    pub(crate) aliases: Option<Box<Aliases>>,
    /// The client's Topic Alias Maximum: aliases the broker may use towards it (5.0).
    pub(crate) alias_maximum: u16,
    /// QoS 1 and 2 PUBLISH packets received and not yet acknowledged by the broker.
    pub(crate) unacknowledged: u16,
    pub(crate) out: VecDeque<Out>,
    /// Payload bytes of the QoS 0 deliveries waiting in `out`: with their number, bounded by
    /// the session queue's limits, so that a client that does not read holds no more.
    pub(crate) backlog_bytes: u32,
    /// A packet larger than the driver's buffer, being written in pieces.
    pub(crate) spill: Option<Box<Spill>>,
    /// Whether the connection is in the broker's list of connections with output.
    pub(crate) ready: bool,
    /// Whether the Client Identifier of the CONNECT waiting for the driver's verdict was
    /// assigned by the broker (5.0: returned in the CONNACK).
    pub(crate) assigned_id: bool,
}

impl Connection {
    pub(crate) fn new(deadline: Instant) -> Self {
        Self {
            phase: Phase::AwaitingConnect,
            unread: None,
            version: ProtocolVersion::V3_1_1,
            session: None,
            deadline: Some(deadline),
            keep_alive: 0,
            receive_maximum: u16::MAX,
            max_packet_size: None,
            problem_information: true,
            auth: None,
            aliases: None,
            alias_maximum: 0,
            unacknowledged: 0,
            out: VecDeque::new(),
            backlog_bytes: 0,
            spill: None,
            ready: false,
            assigned_id: false,
        }
    }

    /// How a delivery on `topic` names its topic to this client. The outbound policy: a 5.0
    /// client that allows Topic Aliases gets one per distinct topic (of 4 bytes or more), in
    /// the order the topics are first sent to it, until its Topic Alias Maximum is reached
    /// (`[MQTT-3.3.2-11]` in 5.0); the first delivery sets the alias with the topic, later ones
    /// use it with an empty topic. An alias is never reassigned during a connection, and a
    /// new connection starts with none. A `Set` counts only once the packet is written:
    /// [`commit_alias`](Self::commit_alias).
    pub(crate) fn outbound_alias(&self, topic: &str) -> TopicAliasUse {
        if self.alias_maximum == 0 || topic.len() < SHORTEST_ALIASED_TOPIC {
            return TopicAliasUse::None;
        }
        let Some(aliases) = self.aliases.as_deref() else {
            return NonZeroU16::new(1).map_or(TopicAliasUse::None, TopicAliasUse::Set);
        };
        match aliases.outbound(topic) {
            Ok(alias) => TopicAliasUse::Use(alias),
            Err(_) => u16::try_from(aliases.outbound.len())
                .ok()
                .filter(|&used| used < self.alias_maximum)
                .and_then(|used| NonZeroU16::new(used.saturating_add(1)))
                .map_or(TopicAliasUse::None, TopicAliasUse::Set),
        }
    }

    /// Records that a delivery set `alias` for `topic` (see
    /// [`outbound_alias`](Self::outbound_alias)).
    pub(crate) fn commit_alias(&mut self, topic: &str, alias: TopicAliasUse) {
        let TopicAliasUse::Set(alias) = alias else {
            return;
        };
        let aliases = self.aliases.get_or_insert_with(Box::default);
        if let Err(at) = aliases.outbound(topic) {
            aliases.outbound.insert(at, (Box::from(topic), alias));
        }
    }

    /// Whether the connection has bytes to write.
    pub(crate) fn has_output(&self) -> bool {
        !self.out.is_empty() || self.spill.is_some()
    }

    /// One and a half times the Keep Alive after `now`, or `None` when it is off.
    pub(crate) fn silence_deadline(&self, now: Instant) -> Option<Instant> {
        (self.keep_alive != 0)
            .then(|| now.saturating_add(grace(Duration::from_secs(u64::from(self.keep_alive)))))
    }
}
