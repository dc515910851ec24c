//! One network connection on the broker: the bytes it sent that are not yet decoded, its
//! phase, the limits its client set, and the packets queued for it.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::{Bytes, BytesMut};

use super::session::{Delivery, SessionKey};
use crate::packet::{Auth, ConnAck, Connect, SubAck, UnsubAck};
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
    pub(crate) max_packet_size: Option<u32>,
    /// Whether the client accepts Reason Strings and User Properties on acks (5.0).
    pub(crate) problem_information: bool,
    /// The 5.0 enhanced authentication of a CONNECT with an Authentication Method: the
    /// method, and whose turn it is in an exchange under way (`None` without a method).
    pub(crate) auth: Option<Box<super::auth::Authentication>>,
    /// Topic Aliases the client set up towards the broker (5.0), by alias.
    pub(crate) aliases: Box<[Option<TopicName<Bytes>>]>,
    /// QoS 1 and 2 PUBLISH packets received and not yet acknowledged by the broker.
    pub(crate) unacknowledged: u16,
    pub(crate) out: VecDeque<Out>,
    /// A packet larger than the driver's buffer, being written in pieces.
    pub(crate) spill: Option<Box<Spill>>,
    /// Whether the connection is in the broker's list of connections with output.
    pub(crate) ready: bool,
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
            aliases: Box::new([]),
            unacknowledged: 0,
            out: VecDeque::new(),
            spill: None,
            ready: false,
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
