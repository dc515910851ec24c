//! The property sets of an Application Message: [`PublishProperties`] and [`WillProperties`].
//!
//! Both split their properties by what a server does with them. The ones it edits (Message
//! Expiry Interval, decremented by the time the message waited; Topic Alias, which belongs to
//! one connection; Subscription Identifiers, which belong to one subscriber; Will Delay
//! Interval, which the server acts on) are typed fields. The ones it forwards unchanged are
//! one [`MessageProperties`] block, written with one copy.

use core::num::NonZeroU16;

use bytes::{BufMut, Bytes};

use super::message::{MessageProperties, read_entries};
use super::value::{PropertyValue, SubscriptionId};
use super::{RepeatedSpan, block, block_len, put_block_len};
use crate::codec::arena::{Arena, Detach};
use crate::codec::buffer::Buffer;
use crate::codec::list::WireList;
use crate::codec::reader::Reader;
use crate::error::DecodeError;
use crate::types::PropertyId;

/// PUBLISH properties ([§3.3.2.3]).
///
/// ```
/// use core::num::NonZeroU16;
/// use mqtt_sansio::{MessageProperties, PublishProperties};
///
/// let mut properties = PublishProperties::<bytes::Bytes>::new();
/// properties.message_expiry_interval = Some(60);
/// properties.topic_alias = NonZeroU16::new(3);
/// properties.message = MessageProperties::builder().content_type("text/plain").build()?;
/// assert_eq!(properties.message.content_type(), Some("text/plain"));
/// # Ok::<(), mqtt_sansio::EncodeError>(())
/// ```
///
/// [§3.3.2.3]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901109
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublishProperties<B: Buffer = Bytes> {
    /// Lifetime of the message in seconds; a server forwards what is left of it
    /// (`[MQTT-3.3.2-6]`).
    pub message_expiry_interval: Option<u32>,
    /// A number standing for the topic on this connection; 0 is not allowed (`[MQTT-3.3.2-8]`).
    pub topic_alias: Option<NonZeroU16>,
    /// The identifiers of the subscriptions that matched (server to client only).
    pub subscription_identifiers: WireList<B, SubscriptionId>,
    /// The properties forwarded unchanged: Payload Format Indicator, Content Type, Response
    /// Topic, Correlation Data and User Properties.
    pub message: MessageProperties<B>,
}

impl<B: Buffer> PublishProperties<B> {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no property is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.message_expiry_interval.is_none()
            && self.topic_alias.is_none()
            && self.subscription_identifiers.is_empty()
            && self.message.is_empty()
    }

    /// Decodes a property block, Property Length included.
    #[inline]
    pub(crate) fn decode(
        reader: &mut Reader<'_, B>,
        context: &'static str,
    ) -> Result<Self, DecodeError> {
        let mut properties = Self::default();
        let mut subscription_ids = RepeatedSpan::default();
        properties.message = decode_message_block(reader, context, |block, id, start| {
            match id {
                PropertyId::MessageExpiryInterval => {
                    set_once(&mut properties.message_expiry_interval, block, id)?;
                }
                PropertyId::TopicAlias => set_once(&mut properties.topic_alias, block, id)?,
                PropertyId::SubscriptionIdentifier => {
                    <SubscriptionId as PropertyValue<B>>::read(block, id)?;
                    subscription_ids.record(start, block.position());
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        if subscription_ids.count > 0 {
            properties.subscription_identifiers = subscription_ids.into_list(reader.buffer());
        }
        Ok(properties)
    }

    /// The size of the properties, Property Length excluded.
    #[inline]
    pub(crate) fn content_len(&self) -> usize {
        let mut len = self.message.encoded_len();
        if self.message_expiry_interval.is_some() {
            len = len.saturating_add(5);
        }
        if self.topic_alias.is_some() {
            len = len.saturating_add(3);
        }
        len.saturating_add(self.subscription_identifiers.encoded_len())
    }

    /// The size of the block, Property Length included.
    #[inline]
    pub(crate) fn encoded_len(&self) -> usize {
        block_len(self.content_len())
    }

    /// Writes the block, given its [`content_len`](Self::content_len).
    #[inline]
    pub(crate) fn write(&self, buf: &mut impl BufMut, content_len: usize) {
        put_block_len(buf, content_len);
        if content_len == 0 {
            return;
        }
        if let Some(expiry) = self.message_expiry_interval {
            buf.put_u8(PropertyId::MessageExpiryInterval.as_u8());
            buf.put_u32(expiry);
        }
        if let Some(alias) = self.topic_alias {
            buf.put_u8(PropertyId::TopicAlias.as_u8());
            buf.put_u16(alias.get());
        }
        self.message.write(buf);
        self.subscription_identifiers.write(buf);
    }
}

impl<B: Buffer> Detach for PublishProperties<B> {
    type Detached = PublishProperties<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> PublishProperties<Bytes> {
        PublishProperties {
            message_expiry_interval: self.message_expiry_interval,
            topic_alias: self.topic_alias,
            subscription_identifiers: self.subscription_identifiers.detach_in(arena),
            message: self.message.detach_in(arena),
        }
    }
}

/// Will Properties, in the CONNECT payload ([§3.1.3.2]).
///
/// A server keeps these with the session's Will until it publishes it; the forwarded ones are
/// one [`MessageProperties`] block, so storing them costs one buffer.
///
/// ```
/// use mqtt_sansio::{MessageProperties, WillProperties};
///
/// let mut properties = WillProperties::<bytes::Bytes>::new();
/// properties.will_delay_interval = Some(30);
/// properties.message = MessageProperties::builder().content_type("text/plain").build()?;
/// assert!(!properties.is_empty());
/// # Ok::<(), mqtt_sansio::EncodeError>(())
/// ```
///
/// [§3.1.3.2]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901060
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WillProperties<B: Buffer = Bytes> {
    /// Seconds the server waits before publishing the Will Message.
    pub will_delay_interval: Option<u32>,
    /// Lifetime of the Will Message in seconds.
    pub message_expiry_interval: Option<u32>,
    /// The properties published with the Will Message: Payload Format Indicator, Content
    /// Type, Response Topic, Correlation Data and User Properties.
    pub message: MessageProperties<B>,
}

impl<B: Buffer> WillProperties<B> {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no property is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.will_delay_interval.is_none()
            && self.message_expiry_interval.is_none()
            && self.message.is_empty()
    }

    /// Decodes a property block, Property Length included.
    pub(crate) fn decode(
        reader: &mut Reader<'_, B>,
        context: &'static str,
    ) -> Result<Self, DecodeError> {
        let mut properties = Self::default();
        properties.message = decode_message_block(reader, context, |block, id, _| {
            match id {
                PropertyId::WillDelayInterval => {
                    set_once(&mut properties.will_delay_interval, block, id)?;
                }
                PropertyId::MessageExpiryInterval => {
                    set_once(&mut properties.message_expiry_interval, block, id)?;
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(properties)
    }

    /// The size of the properties, Property Length excluded.
    pub(crate) fn content_len(&self) -> usize {
        let typed = [self.will_delay_interval, self.message_expiry_interval];
        let typed_len = typed.iter().flatten().count().saturating_mul(5);
        self.message.encoded_len().saturating_add(typed_len)
    }

    /// The size of the block, Property Length included.
    pub(crate) fn encoded_len(&self) -> usize {
        block_len(self.content_len())
    }

    /// Writes the block, given its [`content_len`](Self::content_len).
    pub(crate) fn write(&self, buf: &mut impl BufMut, content_len: usize) {
        put_block_len(buf, content_len);
        if let Some(delay) = self.will_delay_interval {
            buf.put_u8(PropertyId::WillDelayInterval.as_u8());
            buf.put_u32(delay);
        }
        if let Some(expiry) = self.message_expiry_interval {
            buf.put_u8(PropertyId::MessageExpiryInterval.as_u8());
            buf.put_u32(expiry);
        }
        self.message.write(buf);
    }
}

impl<B: Buffer> Detach for WillProperties<B> {
    type Detached = WillProperties<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> WillProperties<Bytes> {
        WillProperties {
            will_delay_interval: self.will_delay_interval,
            message_expiry_interval: self.message_expiry_interval,
            message: self.message.detach_in(arena),
        }
    }
}

/// Decodes a property block (Property Length included) that holds message properties and the
/// typed ones `typed` reads: `typed` gets each other property after its identifier, with the
/// offset the identifier started at, and returns `Ok(false)` for one the packet may not carry.
#[inline]
fn decode_message_block<B: Buffer>(
    reader: &mut Reader<'_, B>,
    context: &'static str,
    typed: impl FnMut(&mut Reader<'_, B>, PropertyId, usize) -> Result<bool, DecodeError>,
) -> Result<MessageProperties<B>, DecodeError> {
    // Most messages carry no properties: a Property Length of 0.
    if reader.bytes().first() == Some(&0) {
        reader.skip(1, "property length")?;
        return Ok(MessageProperties::new());
    }
    read_entries(&mut block(reader)?, context, typed)
}

/// Reads a single-valued property into `slot`; a second occurrence is a Protocol Error.
#[inline]
fn set_once<B: Buffer, T: PropertyValue<B>>(
    slot: &mut Option<T>,
    reader: &mut Reader<'_, B>,
    id: PropertyId,
) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::DuplicateProperty(id));
    }
    *slot = Some(T::read(reader, id)?);
    Ok(())
}
