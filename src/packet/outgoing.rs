//! Encoding one stored PUBLISH for many subscribers: [`Outgoing`], the values that differ per
//! delivery, applied at encode time with no clone of the message.

use core::num::NonZeroU16;

use bytes::BufMut;

use crate::codec::buffer::Buffer;
use crate::codec::frame;
use crate::codec::int::{put_var_int, var_int_len};
use crate::codec::string::put_prefixed;
use crate::error::EncodeError;
use crate::packet::{Delivery, Publish, check_room};
use crate::property::{SubscriptionId, block_len};
use crate::types::{PropertyId, ProtocolVersion};

/// How one delivery names the topic: by its name, or by a Topic Alias of the receiving
/// connection (MQTT 5.0, §3.3.2.3.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TopicAliasUse {
    /// The Topic Name, no alias.
    #[default]
    None,
    /// The Topic Name and an alias, which sets the alias up for later deliveries.
    Set(NonZeroU16),
    /// The alias alone, already set up on this connection: the Topic Name is left empty.
    Use(NonZeroU16),
}

/// What one delivery of a stored message carries that the message itself does not: the values
/// a server chooses per subscriber.
///
/// [`Publish::encode_for`] applies them over a shared `&Publish` while it writes, so one
/// message fans out to any number of subscribers without a clone or an allocation. Every field
/// of the message that is not listed here is written as it is.
///
/// ```
/// use mqtt_sansio::{Delivery, Outgoing, PacketId, QoS, SubscriptionId, TopicAliasUse};
///
/// let ids = [SubscriptionId::new(7).unwrap()];
/// let outgoing = Outgoing {
///     subscription_ids: &ids,
///     topic_alias: TopicAliasUse::Set(core::num::NonZeroU16::new(1).unwrap()),
///     ..Outgoing::new(Delivery::new(QoS::AtLeastOnce, PacketId::new(12).unwrap()))
/// };
/// assert_eq!(outgoing.delivery.qos(), QoS::AtLeastOnce);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Outgoing<'a> {
    /// QoS (the lower of the message's and the subscription's), and for QoS 1 and 2 the Packet
    /// Identifier of the receiving session and the DUP flag.
    pub delivery: Delivery,
    /// The RETAIN flag: set when the message is sent because a subscription was made, and as
    /// Retain As Published asks otherwise (`[MQTT-3.3.1-8]`, `[MQTT-3.3.1-9]`,
    /// `[MQTT-3.3.1-12]`, `[MQTT-3.3.1-13]`).
    pub retain: bool,
    /// How the topic is named on the receiving connection.
    pub topic_alias: TopicAliasUse,
    /// The identifiers of the receiver's subscriptions that matched (`[MQTT-3.3.4-3]`).
    pub subscription_ids: &'a [SubscriptionId],
    /// The Message Expiry Interval left after the time the message waited in the server
    /// (`[MQTT-3.3.2-6]`); `None` when the message has none.
    pub message_expiry_interval: Option<u32>,
}

impl Outgoing<'_> {
    /// A delivery with this QoS, Packet Identifier and DUP, RETAIN clear, the Topic Name, no
    /// Subscription Identifier and no Message Expiry Interval.
    #[must_use]
    pub const fn new(delivery: Delivery) -> Self {
        Self {
            delivery,
            retain: false,
            topic_alias: TopicAliasUse::None,
            subscription_ids: &[],
            message_expiry_interval: None,
        }
    }
}

/// The parts of one delivery's head, measured once and then written.
struct Head<'p> {
    first_byte: u8,
    remaining_len: usize,
    /// The whole delivery's size, fixed header and payload included.
    total: usize,
    topic: &'p [u8],
    /// The properties' content length, for 5.0.
    properties: Option<usize>,
}

impl<B: Buffer> Publish<B> {
    /// The exact number of bytes [`encode_for`](Self::encode_for) writes.
    pub fn encoded_len_for(
        &self,
        version: ProtocolVersion,
        outgoing: &Outgoing<'_>,
    ) -> Result<usize, EncodeError> {
        self.head_for(version, outgoing).map(|head| head.total)
    }

    /// Encodes this message as one delivery to a subscriber on a `version` connection, with
    /// the per-delivery values of `outgoing` in place of the message's own QoS, Packet
    /// Identifier, DUP, RETAIN, Topic Alias, Subscription Identifiers and Message Expiry
    /// Interval; returns the bytes written. Nothing is cloned or allocated.
    ///
    /// For MQTT 3.1 and 3.1.1 the 5.0 properties are left out, as a server that forwards a
    /// message across versions must: those versions cannot carry them, and the spec's
    /// forwarding rules apply only to receivers that can. The topic is then always written by
    /// name (a Topic Alias is a 5.0 feature). For 5.0 the message's Payload Format Indicator,
    /// Content Type, Response Topic, Correlation Data and User Properties are written with one
    /// copy, unchanged and in order; a message that came from a 3.1.1 publisher has none, and
    /// nothing is added.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mqtt_sansio::{Delivery, Outgoing, PacketId, ProtocolVersion, Publish, QoS, TopicName};
    ///
    /// let message = Publish::new(TopicName::new("a/b")?, Bytes::from_static(b"hi"));
    /// let mut wire = Vec::new();
    /// let to_first = Outgoing::new(Delivery::new(QoS::AtLeastOnce, PacketId::new(5).unwrap()));
    /// message.encode_for(ProtocolVersion::V3_1_1, &to_first, &mut wire)?;
    /// assert_eq!(wire, b"\x32\x09\x00\x03a/b\x00\x05hi");
    /// wire.clear();
    /// let to_second = Outgoing { retain: true, ..Outgoing::new(Delivery::AtMostOnce) };
    /// message.encode_for(ProtocolVersion::V5, &to_second, &mut wire)?;
    /// assert_eq!(wire, b"\x31\x08\x00\x03a/b\x00hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode_for(
        &self,
        version: ProtocolVersion,
        outgoing: &Outgoing<'_>,
        buf: &mut impl BufMut,
    ) -> Result<usize, EncodeError> {
        let head = self.head_for(version, outgoing)?;
        check_room(buf, head.total)?;
        self.write_head(&head, outgoing, buf);
        buf.put_slice(self.payload.as_ref());
        Ok(head.total)
    }

    /// Writes everything [`encode_for`](Self::encode_for) would but the payload, and returns
    /// the head's length; the payload follows it on the wire.
    ///
    /// A driver sends the head and a shared handle to the payload in one vectored write, so a
    /// large message reaches any number of subscribers without its payload being copied.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mqtt_sansio::{Delivery, Outgoing, ProtocolVersion, Publish, TopicName};
    ///
    /// let message = Publish::new(TopicName::new("a/b")?, Bytes::from(vec![7u8; 1000]));
    /// let outgoing = Outgoing::new(Delivery::AtMostOnce);
    /// let mut head = Vec::new();
    /// let head_len = message.encode_head_for(ProtocolVersion::V5, &outgoing, &mut head)?;
    /// assert_eq!(head_len, 9); // fixed header 3, topic 5, property length 1
    /// let whole = message.encoded_len_for(ProtocolVersion::V5, &outgoing)?;
    /// assert_eq!(whole, head_len + message.payload.len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode_head_for(
        &self,
        version: ProtocolVersion,
        outgoing: &Outgoing<'_>,
        buf: &mut impl BufMut,
    ) -> Result<usize, EncodeError> {
        let head = self.head_for(version, outgoing)?;
        let head_len = head.total.saturating_sub(self.payload.as_ref().len());
        check_room(buf, head_len)?;
        self.write_head(&head, outgoing, buf);
        Ok(head_len)
    }

    /// Measures one delivery and checks that it can be encoded (its Remaining Length too).
    fn head_for<'p>(
        &'p self,
        version: ProtocolVersion,
        outgoing: &Outgoing<'_>,
    ) -> Result<Head<'p>, EncodeError> {
        let name = self.topic.as_ref().map(|topic| topic.as_bytes());
        let topic = match (version.is_v5(), outgoing.topic_alias, name) {
            (true, TopicAliasUse::Use(_), _) => &[][..],
            (_, _, Some(name)) => name,
            (_, _, None) => return Err(EncodeError::MissingTopic),
        };
        let mut remaining_len = topic
            .len()
            .saturating_add(2)
            .saturating_add(self.payload.as_ref().len());
        if outgoing.delivery.packet_id().is_some() {
            remaining_len = remaining_len.saturating_add(2);
        }
        let properties = if version.is_v5() {
            let content = properties_len(self, outgoing);
            remaining_len = remaining_len.saturating_add(block_len(content));
            Some(content)
        } else {
            None
        };
        let delivery = outgoing.delivery;
        let first_byte = 0x30
            | (u8::from(delivery.is_dup()) << 3)
            | (delivery.qos().bits() << 1)
            | u8::from(outgoing.retain);
        Ok(Head {
            first_byte,
            remaining_len,
            total: frame::header_len(remaining_len)?.saturating_add(remaining_len),
            topic,
            properties,
        })
    }

    /// Writes the fixed header, variable header and properties of a measured delivery.
    fn write_head(&self, head: &Head<'_>, outgoing: &Outgoing<'_>, buf: &mut impl BufMut) {
        frame::write_header(buf, head.first_byte, head.remaining_len);
        put_prefixed(buf, head.topic);
        if let Some(packet_id) = outgoing.delivery.packet_id() {
            buf.put_u16(packet_id.get());
        }
        let Some(content) = head.properties else {
            return;
        };
        put_var_int(buf, content);
        if let Some(expiry) = outgoing.message_expiry_interval {
            buf.put_u8(PropertyId::MessageExpiryInterval.as_u8());
            buf.put_u32(expiry);
        }
        if let TopicAliasUse::Set(alias) | TopicAliasUse::Use(alias) = outgoing.topic_alias {
            buf.put_u8(PropertyId::TopicAlias.as_u8());
            buf.put_u16(alias.get());
        }
        self.properties.message.write(buf);
        for id in outgoing.subscription_ids {
            buf.put_u8(PropertyId::SubscriptionIdentifier.as_u8());
            put_var_int(buf, id.get() as usize);
        }
    }
}

/// The content length of one delivery's 5.0 properties.
fn properties_len<B: Buffer>(publish: &Publish<B>, outgoing: &Outgoing<'_>) -> usize {
    let mut len = publish.properties.message.encoded_len();
    if outgoing.message_expiry_interval.is_some() {
        len = len.saturating_add(5);
    }
    if outgoing.topic_alias != TopicAliasUse::None {
        len = len.saturating_add(3);
    }
    outgoing.subscription_ids.iter().fold(len, |len, id| {
        len.saturating_add(1)
            .saturating_add(var_int_len(id.get() as usize))
    })
}
