//! What the client owes the server, and writing it into the driver's buffer.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::num::NonZeroU16;

use bytes::Bytes;
use bytestring::ByteString;

use super::Client;
use super::outbound::{Entry, Phase};
use crate::error::EncodeError;
use crate::packet::{Auth, Disconnect, Outgoing, PingReq, TopicAliasUse, encode_plain_ack};
use crate::reason::{PubAckReasonCode, PubCompReasonCode, PubRelReasonCode};
use crate::topic::TopicName;
use crate::types::{PacketId, PacketType};

/// One packet to write, in the order the client queued it. Packets that belong to the session
/// are named by their Packet Identifier and read from the session tables when written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pending {
    Connect,
    /// A QoS 1 or 2 PUBLISH in the outgoing table.
    Publish(PacketId),
    /// The oldest queued QoS 0 PUBLISH.
    Qos0,
    PubAck(PacketId, PubAckReasonCode),
    PubRec(PacketId, PubAckReasonCode),
    PubRel(PacketId, PubRelReasonCode),
    PubComp(PacketId, PubCompReasonCode),
    Subscribe(PacketId),
    Unsubscribe(PacketId),
    PingReq,
    Auth(Box<Auth<Bytes>>),
    Disconnect(Box<Disconnect<Bytes>>),
}

/// What the driver's buffer received from one [`Client::poll_transmit`] call.
///
/// ```
/// use mqtt_sansio::{Client, ClientConfig, ConnectOptions, Instant, ProtocolVersion};
///
/// let mut client = Client::new(ClientConfig::default());
/// let now = Instant::ZERO;
/// client.connect(now, ConnectOptions::new(ProtocolVersion::V3_1_1, "id")?)?;
/// let mut buf = [0u8; 64];
/// let transmit = client.poll_transmit(&mut buf).unwrap();
/// assert_eq!(transmit.packets, 1);
/// assert_eq!(&buf[..transmit.len], b"\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02id");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "the bytes written must be sent"]
#[non_exhaustive]
pub struct Transmit {
    /// Bytes written at the start of the buffer.
    pub len: usize,
    /// Packets whose last byte is among them (a packet larger than the buffer is written
    /// over several calls).
    pub packets: usize,
}

/// The Topic Aliases the client set up on this connection; see
/// [`ClientConfig::outgoing_topic_aliases`](super::ClientConfig::outgoing_topic_aliases).
///
/// A sorted `Vec` rather than a map: lookups are a binary search, an insertion (once per
/// alias per connection) shifts at most the alias limit's entries, and a device does not link
/// a tree map for a handful of topics.
#[derive(Debug, Default)]
pub(crate) struct OutgoingAliases {
    aliases: Vec<(ByteString, NonZeroU16)>,
    /// The highest alias the client may use on this connection: the lower of its own
    /// setting and the server's Topic Alias Maximum (`[MQTT-3.2.2-17]`, `[MQTT-3.3.2-9]`).
    limit: u16,
}

impl OutgoingAliases {
    pub(crate) fn reset(&mut self, limit: u16) {
        self.aliases = Vec::new();
        self.limit = limit;
    }

    /// How to name `topic`: by the alias it has, with a new alias while one is free, else by
    /// name (`[MQTT-3.2.2-18]`: never when the limit is 0).
    fn choose(&self, topic: &str) -> TopicAliasUse {
        if let Ok(at) = self.find(topic)
            && let Some(&(_, alias)) = self.aliases.get(at)
        {
            return TopicAliasUse::Use(alias);
        }
        let next = u16::try_from(self.aliases.len())
            .unwrap_or(u16::MAX)
            .saturating_add(1);
        match NonZeroU16::new(next) {
            Some(alias) if next <= self.limit => TopicAliasUse::Set(alias),
            _ => TopicAliasUse::None,
        }
    }

    /// Records the alias a PUBLISH just written set up. Topic Aliases exist only in 5.0:
    /// the `cfg!` lets a build without it drop the table's code.
    fn commit(&mut self, topic: &TopicName<Bytes>, alias: TopicAliasUse) {
        if cfg!(feature = "v5")
            && let TopicAliasUse::Set(alias) = alias
            && let Err(at) = self.find(topic.as_str())
        {
            self.aliases.insert(at, (topic.clone().into_inner(), alias));
        }
    }

    fn find(&self, topic: &str) -> Result<usize, usize> {
        self.aliases
            .binary_search_by(|(name, _)| (**name).cmp(topic))
    }
}

/// Where [`Client::poll_transmit`] writes: the driver's slice.
struct Out<'a> {
    buf: &'a mut [u8],
    written: usize,
}

impl Out<'_> {
    fn room(&self) -> usize {
        self.buf.len().saturating_sub(self.written)
    }

    fn rest(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.written..).unwrap_or_default()
    }
}

impl Client {
    /// Writes queued packets into `buf`, as many as fit, and says how much was written; `None`
    /// when there is nothing to send. A packet larger than `buf` is written in pieces over
    /// several calls, so any buffer size works; one at least as large as the packets makes
    /// one write per wake-up.
    ///
    /// See [`Transmit`] for an example.
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        let mut out = Out { buf, written: 0 };
        let mut packets: usize = 0;
        if !self.spill_is_empty() {
            if self.drain_spill(&mut out) {
                packets = packets.saturating_add(1);
            }
            if out.room() == 0 || !self.spill_is_empty() {
                return self.transmitted(out.written, packets);
            }
        }
        while let Some(item) = self.pending.pop_front() {
            // Encoded straight into what is left of `buf`; every encoder checks the room
            // before it writes, and says how much it needs when there is too little.
            let mut slice = out.rest();
            match self.write_pending(&item, &mut slice) {
                // Stale: the flow completed or was discarded after it was queued.
                Ok(0) => continue,
                Ok(len) => {
                    out.written = out.written.saturating_add(len);
                    packets = packets.saturating_add(1);
                }
                Err(EncodeError::BufferTooSmall { needed, .. }) if out.written == 0 => {
                    // Larger than the whole buffer: encode it aside and hand it out in
                    // pieces, into a slice as above, so that one copy of each encoder serves
                    // both paths (a firmware links each once).
                    let mut spill = core::mem::take(&mut self.spill);
                    spill.clear();
                    spill.resize(needed, 0);
                    let encoded = self.write_pending(&item, &mut spill.as_mut_slice());
                    if encoded != Ok(needed) {
                        spill.clear();
                    }
                    self.spill = spill;
                    self.spill_offset = 0;
                    if self.drain_spill(&mut out) {
                        packets = packets.saturating_add(1);
                    }
                }
                Err(EncodeError::BufferTooSmall { .. }) => {
                    // The next call starts with it.
                    self.pending.push_front(item);
                    break;
                }
                // Not encodable (checked when it was queued, so not expected): dropped.
                Err(_) => {}
            }
            if matches!(item, Pending::Disconnect(_)) {
                // [MQTT-3.14.4-1] (5.0), [MQTT-3.14.4-2] (3.1.1): nothing after DISCONNECT.
                self.pending.clear();
                break;
            }
            if out.room() == 0 || !self.spill_is_empty() {
                break;
            }
        }
        self.transmitted(out.written, packets)
    }

    fn transmitted(&mut self, len: usize, packets: usize) -> Option<Transmit> {
        if len == 0 {
            return None;
        }
        self.timers.last_sent = self.now;
        Some(Transmit { len, packets })
    }

    fn spill_is_empty(&self) -> bool {
        self.spill_offset >= self.spill.len()
    }

    /// Copies what fits of the spilled packet; returns whether its last byte went out.
    fn drain_spill(&mut self, out: &mut Out<'_>) -> bool {
        let rest = self.spill.get(self.spill_offset..).unwrap_or_default();
        let n = rest.len().min(out.room());
        if let (Some(from), Some(to)) = (rest.get(..n), out.rest().get_mut(..n)) {
            to.copy_from_slice(from);
        }
        out.written = out.written.saturating_add(n);
        self.spill_offset = self.spill_offset.saturating_add(n);
        if self.spill_is_empty() {
            self.spill.clear();
            if self.spill.capacity() > SPILL_KEEP {
                self.spill = Vec::new();
            }
            self.spill_offset = 0;
            true
        } else {
            false
        }
    }

    /// How a stored PUBLISH goes out on this connection: its own delivery and RETAIN, and a
    /// Topic Alias where the policy gives one and the packet still fits the server's limit.
    fn outgoing_for(&self, publish: &crate::packet::Publish<Bytes>) -> Option<Outgoing<'static>> {
        let topic = publish.topic.as_ref()?;
        let mut outgoing = Outgoing {
            retain: publish.retain,
            message_expiry_interval: publish.properties.message_expiry_interval,
            ..Outgoing::new(publish.delivery)
        };
        // An alias saves bytes only on a topic longer than its own three; a packet that the
        // alias would make larger than the server's maximum goes by name.
        if self.version.is_v5() && topic.len() > 3 {
            outgoing.topic_alias = self.outgoing_aliases.choose(topic.as_str());
            if outgoing.topic_alias != TopicAliasUse::None
                && let Some(maximum) = self.server.maximum_packet_size
            {
                let len = publish.encoded_len_for(self.version, &outgoing).ok()?;
                if len > usize::try_from(maximum).unwrap_or(usize::MAX) {
                    outgoing.topic_alias = TopicAliasUse::None;
                }
            }
        }
        Some(outgoing)
    }

    /// Encodes a queued packet into `buf` and returns its length: 0 if it no longer needs
    /// sending, `BufferTooSmall` (with nothing written and nothing consumed) if it does not
    /// fit.
    fn write_pending(&mut self, item: &Pending, buf: &mut &mut [u8]) -> Result<usize, EncodeError> {
        let version = self.version;
        let len = match item {
            Pending::Connect => match &self.connect {
                Some(connect) => connect.encode(version, buf)?,
                None => 0,
            },
            Pending::Publish(id) => {
                let Some(Entry::Publish(publish, Phase::Sent)) = self.outbound.get(*id) else {
                    return Ok(0);
                };
                let Some(outgoing) = self.outgoing_for(publish) else {
                    return Ok(0);
                };
                let len = publish.encode_for(version, &outgoing, buf)?;
                if let Some(topic) = &publish.topic {
                    self.outgoing_aliases.commit(topic, outgoing.topic_alias);
                }
                len
            }
            Pending::Qos0 => {
                let Some(publish) = self.qos0.front() else {
                    return Ok(0);
                };
                let Some(outgoing) = self.outgoing_for(publish) else {
                    self.qos0.pop_front();
                    return Ok(0);
                };
                let result = publish.encode_for(version, &outgoing, buf);
                if result.is_ok()
                    && let Some(topic) = &publish.topic
                {
                    self.outgoing_aliases.commit(topic, outgoing.topic_alias);
                }
                // A message that does not fit stays first in the queue, for the next call.
                if !matches!(result, Err(EncodeError::BufferTooSmall { .. })) {
                    self.qos0.pop_front();
                }
                result?
            }
            Pending::PubAck(id, code) => {
                encode_plain_ack(PacketType::PubAck, *id, code.as_u8(), version, buf)?
            }
            Pending::PubRec(id, code) => {
                encode_plain_ack(PacketType::PubRec, *id, code.as_u8(), version, buf)?
            }
            Pending::PubRel(id, code) => {
                encode_plain_ack(PacketType::PubRel, *id, code.as_u8(), version, buf)?
            }
            Pending::PubComp(id, code) => {
                encode_plain_ack(PacketType::PubComp, *id, code.as_u8(), version, buf)?
            }
            Pending::Subscribe(id) => match self.outbound.get(*id) {
                Some(Entry::Subscribe(subscribe)) => subscribe.encode(version, buf)?,
                _ => 0,
            },
            Pending::Unsubscribe(id) => match self.outbound.get(*id) {
                Some(Entry::Unsubscribe(unsubscribe)) => unsubscribe.encode(version, buf)?,
                _ => 0,
            },
            Pending::PingReq => PingReq.encode(version, buf)?,
            Pending::Auth(auth) => auth.encode(version, buf)?,
            Pending::Disconnect(disconnect) => disconnect.encode(version, buf)?,
        };
        Ok(len)
    }
}

/// A spill buffer larger than this is released after use, so one large packet does not pin
/// its size for the life of the client.
const SPILL_KEEP: usize = 4096;
