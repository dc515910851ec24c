//! [`MessageProperties`]: the properties an Application Message carries unchanged from its
//! publisher to every subscriber, kept as one validated block of wire bytes.

use alloc::vec::Vec;
use core::fmt;

use bytes::{BufMut, Bytes};

use super::value::PayloadFormat;
use super::{RepeatedSpan, skip_value};
use crate::codec::arena::{Arena, Detach};
use crate::codec::buffer::Buffer;
use crate::codec::reader::Reader;
use crate::codec::string::{MAX_STRING_LEN, check_str, put_prefixed};
use crate::error::{DecodeError, EncodeError};
use crate::topic::check_name;
use crate::types::PropertyId;

/// The properties a server forwards unchanged and in order: Payload Format Indicator, Content
/// Type, Response Topic, Correlation Data and User Properties (`[MQTT-3.3.2-4]`,
/// `[MQTT-3.3.2-15]`, `[MQTT-3.3.2-16]`, `[MQTT-3.3.2-17]`, `[MQTT-3.3.2-18]`, `[MQTT-3.3.2-20]`).
///
/// They are held as the validated bytes they were decoded from (or that
/// [`MessagePropertiesBuilder`] wrote), so forwarding a message to a subscriber writes them
/// with one copy and never encodes them again, and a decoded packet stays small however many
/// there are. The accessors read the bytes on demand.
///
/// A PUBLISH carries them in [`PublishProperties::message`](crate::PublishProperties), a Will
/// in [`WillProperties::message`](crate::WillProperties); the properties a server edits on
/// each hop (Message Expiry Interval, Topic Alias, Subscription Identifiers) stay typed fields
/// there.
///
/// ```
/// use mqtt_sansio::{MessageProperties, PayloadFormat};
///
/// let properties = MessageProperties::builder()
///     .payload_format(PayloadFormat::Utf8)
///     .content_type("application/json")
///     .user_property("site", "north")
///     .user_property("site", "south")
///     .build()?;
/// assert_eq!(properties.payload_format(), Some(PayloadFormat::Utf8));
/// assert_eq!(properties.content_type(), Some("application/json"));
/// assert_eq!(properties.response_topic(), None);
/// let sites: Vec<_> = properties.user_properties().map(|(_, value)| value).collect();
/// assert_eq!(sites, ["north", "south"]);
/// # Ok::<(), mqtt_sansio::EncodeError>(())
/// ```
#[derive(Clone, Default)]
pub struct MessageProperties<B: Buffer = Bytes> {
    /// Validated property entries. A decoded set may also hold other properties that stood
    /// between its own in the packet; `len` counts only its own.
    raw: B,
    /// The encoded size of this set's entries.
    len: u32,
}

impl<B: Buffer> MessageProperties<B> {
    /// No properties; allocates nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks `block`, the encoded entries without a Property Length, and wraps it.
    ///
    /// Every entry must be one of the five message properties, each single-valued one at
    /// most once, with a valid value; this is how a caller without an allocator (a
    /// `MessageProperties<&[u8]>`) builds a set from bytes it wrote itself.
    ///
    /// ```
    /// use mqtt_sansio::MessageProperties;
    ///
    /// // Content Type "t", then a User Property ("k", "v").
    /// let block = b"\x03\x00\x01t\x26\x00\x01k\x00\x01v";
    /// let properties = MessageProperties::from_block(&block[..])?;
    /// assert_eq!(properties.content_type(), Some("t"));
    /// assert!(MessageProperties::from_block(&b"\x02\x00\x00\x00\x3c"[..]).is_err());
    /// # Ok::<(), mqtt_sansio::DecodeError>(())
    /// ```
    pub fn from_block(block: B) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(&block, 0..block.as_ref().len());
        read_entries(&mut reader, "message properties", |_, _, _| Ok(false))
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The Payload Format Indicator: whether the payload is UTF-8 text.
    #[must_use]
    pub fn payload_format(&self) -> Option<PayloadFormat> {
        let value = self.find(PropertyId::PayloadFormatIndicator)?;
        match value.first() {
            Some(1) => Some(PayloadFormat::Utf8),
            Some(_) => Some(PayloadFormat::Unspecified),
            None => None,
        }
    }

    /// The Content Type: the payload's MIME type or another application-defined label.
    #[must_use]
    pub fn content_type(&self) -> Option<&str> {
        self.find(PropertyId::ContentType).and_then(prefixed_str)
    }

    /// The Response Topic: the Topic Name a response to this message goes to.
    #[must_use]
    pub fn response_topic(&self) -> Option<&str> {
        self.find(PropertyId::ResponseTopic).and_then(prefixed_str)
    }

    /// The Correlation Data that pairs a response with its request.
    #[must_use]
    pub fn correlation_data(&self) -> Option<&[u8]> {
        self.find(PropertyId::CorrelationData)
            .and_then(|value| value.get(2..))
    }

    /// The User Properties as `(name, value)` pairs, in the order the publisher sent them.
    pub fn user_properties(&self) -> UserPropertyIter<'_> {
        UserPropertyIter {
            entries: self.entries(),
        }
    }

    /// The encoded entries in a new vector, without any other property that stood between
    /// them in the packet they were decoded from; [`from_block`](Self::from_block) reads them
    /// back.
    ///
    /// ```
    /// use mqtt_sansio::MessageProperties;
    ///
    /// let properties = MessageProperties::builder().content_type("t").build()?;
    /// assert_eq!(properties.to_vec(), b"\x03\x00\x01t");
    /// # Ok::<(), mqtt_sansio::EncodeError>(())
    /// ```
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut block = Vec::with_capacity(self.encoded_len());
        self.write(&mut block);
        block
    }

    /// The encoded size of the entries (no Property Length).
    #[inline]
    pub(crate) fn encoded_len(&self) -> usize {
        self.len as usize
    }

    /// Writes the entries: one copy when they lie together, as they do unless a decoded
    /// packet interleaved them with other properties.
    #[inline]
    pub(crate) fn write(&self, buf: &mut impl BufMut) {
        let raw = self.raw.as_ref();
        if raw.len() == self.encoded_len() {
            buf.put_slice(raw);
        } else {
            self.entries().for_each(|entry| buf.put_slice(entry.bytes));
        }
    }

    /// The set over the span `span` recorded in `buf` while a property block was decoded.
    fn from_span(span: RepeatedSpan, buf: &B) -> Self {
        let len = u32::try_from(span.encoded_len).unwrap_or(u32::MAX);
        match span
            .start
            .and_then(|start| buf.slice_checked(start..span.end))
        {
            Some(raw) => Self { raw, len },
            None => Self::default(),
        }
    }

    /// The value bytes of the first entry with identifier `id`.
    fn find(&self, id: PropertyId) -> Option<&[u8]> {
        self.entries()
            .find(|entry| entry.id == id)
            .map(|entry| entry.value)
    }

    /// This set's entries, skipping any other property that stands between them.
    fn entries(&self) -> Entries<'_> {
        Entries {
            rest: self.raw.as_ref(),
        }
    }
}

impl MessageProperties<Bytes> {
    /// A builder for the properties of a message that this application creates.
    #[must_use]
    pub fn builder<'a>() -> MessagePropertiesBuilder<'a> {
        MessagePropertiesBuilder::default()
    }
}

/// Detached, the entries lie together in the arena, without any other property that stood
/// between them in the packet.
impl<B: Buffer> Detach for MessageProperties<B> {
    type Detached = MessageProperties<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> MessageProperties<Bytes> {
        MessageProperties {
            raw: arena.write_with(self.encoded_len(), |buf| self.write(buf)),
            len: self.len,
        }
    }
}

/// Equal when they hold the same entries in the same order, wherever the bytes came from.
impl<B: Buffer, C: Buffer> PartialEq<MessageProperties<C>> for MessageProperties<B> {
    fn eq(&self, other: &MessageProperties<C>) -> bool {
        self.len == other.len
            && self
                .entries()
                .map(|entry| entry.bytes)
                .eq(other.entries().map(|entry| entry.bytes))
    }
}

impl<B: Buffer> Eq for MessageProperties<B> {}

impl<B: Buffer> fmt::Debug for MessageProperties<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("MessageProperties");
        if let Some(format) = self.payload_format() {
            out.field("payload_format", &format);
        }
        if let Some(content_type) = self.content_type() {
            out.field("content_type", &content_type);
        }
        if let Some(topic) = self.response_topic() {
            out.field("response_topic", &topic);
        }
        if let Some(data) = self.correlation_data() {
            out.field("correlation_data", &format_args!("{data:02x?}"));
        }
        let mut users = self.user_properties().peekable();
        if users.peek().is_some() {
            out.field("user_properties", &users.collect::<Vec<_>>());
        }
        out.finish()
    }
}

/// Builds the [`MessageProperties`] of a message this application creates.
///
/// Each setter checks its value; the first problem is reported by [`build`](Self::build)
/// (an [`EncodeError::InvalidProperty`] naming the property), so calls chain. Entries are
/// written in the order the setters are called; setting a single-valued property twice is an
/// error rather than a silent overwrite.
///
/// ```
/// use mqtt_sansio::{EncodeError, MessageProperties, PropertyId};
///
/// let error = MessageProperties::builder().response_topic("replies/+").build().unwrap_err();
/// assert_eq!(error, EncodeError::InvalidProperty(PropertyId::ResponseTopic));
/// ```
#[derive(Clone, Debug, Default)]
pub struct MessagePropertiesBuilder<'a> {
    entries: Vec<Entry<'a>>,
    error: Option<PropertyId>,
}

/// One entry given to the builder.
#[derive(Clone, Copy, Debug)]
enum Entry<'a> {
    PayloadFormat(PayloadFormat),
    ContentType(&'a str),
    ResponseTopic(&'a str),
    CorrelationData(&'a [u8]),
    UserProperty(&'a str, &'a str),
}

impl Entry<'_> {
    fn id(self) -> PropertyId {
        match self {
            Self::PayloadFormat(_) => PropertyId::PayloadFormatIndicator,
            Self::ContentType(_) => PropertyId::ContentType,
            Self::ResponseTopic(_) => PropertyId::ResponseTopic,
            Self::CorrelationData(_) => PropertyId::CorrelationData,
            Self::UserProperty(..) => PropertyId::UserProperty,
        }
    }

    /// Whether the value obeys its property's rules.
    fn is_valid(self) -> bool {
        match self {
            Self::PayloadFormat(_) => true,
            Self::ContentType(text) => check_str(text.as_bytes()).is_ok(),
            // [MQTT-3.3.2-13], [MQTT-3.3.2-14]: a UTF-8 string that is a Topic Name.
            Self::ResponseTopic(topic) => check_name(topic.as_bytes()).is_ok(),
            Self::CorrelationData(data) => data.len() <= MAX_STRING_LEN,
            Self::UserProperty(name, value) => {
                check_str(name.as_bytes()).is_ok() && check_str(value.as_bytes()).is_ok()
            }
        }
    }

    fn encoded_len(self) -> usize {
        let value = match self {
            Self::PayloadFormat(_) => 1,
            Self::ContentType(text) | Self::ResponseTopic(text) => text.len().saturating_add(2),
            Self::CorrelationData(data) => data.len().saturating_add(2),
            Self::UserProperty(name, value) => {
                name.len().saturating_add(value.len()).saturating_add(4)
            }
        };
        value.saturating_add(1)
    }

    fn write(self, buf: &mut impl BufMut) {
        buf.put_u8(self.id().as_u8());
        match self {
            Self::PayloadFormat(format) => buf.put_u8(format as u8),
            Self::ContentType(text) | Self::ResponseTopic(text) => {
                put_prefixed(buf, text.as_bytes());
            }
            Self::CorrelationData(data) => put_prefixed(buf, data),
            Self::UserProperty(name, value) => {
                put_prefixed(buf, name.as_bytes());
                put_prefixed(buf, value.as_bytes());
            }
        }
    }
}

impl<'a> MessagePropertiesBuilder<'a> {
    /// Sets the Payload Format Indicator.
    #[must_use]
    pub fn payload_format(self, format: PayloadFormat) -> Self {
        self.with(Entry::PayloadFormat(format))
    }

    /// Sets the Content Type.
    #[must_use]
    pub fn content_type(self, content_type: &'a str) -> Self {
        self.with(Entry::ContentType(content_type))
    }

    /// Sets the Response Topic, which must be a valid Topic Name.
    #[must_use]
    pub fn response_topic(self, topic: &'a str) -> Self {
        self.with(Entry::ResponseTopic(topic))
    }

    /// Sets the Correlation Data (at most 65,535 bytes).
    #[must_use]
    pub fn correlation_data(self, data: &'a [u8]) -> Self {
        self.with(Entry::CorrelationData(data))
    }

    /// Appends a User Property; the same name may appear more than once.
    #[must_use]
    pub fn user_property(self, name: &'a str, value: &'a str) -> Self {
        self.with(Entry::UserProperty(name, value))
    }

    /// The encoded entries in one right-sized allocation, or the first invalid property.
    pub fn build(self) -> Result<MessageProperties<Bytes>, EncodeError> {
        let block = self.to_vec()?;
        let len = u32::try_from(block.len()).map_err(|_| EncodeError::PacketTooLarge {
            remaining_length: block.len(),
        })?;
        Ok(MessageProperties {
            raw: Bytes::from(block),
            len,
        })
    }

    /// The encoded entries, for [`MessageProperties::from_block`] over a borrowed buffer.
    pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        if let Some(id) = self.error {
            return Err(EncodeError::InvalidProperty(id));
        }
        let len = self
            .entries
            .iter()
            .fold(0usize, |sum, entry| sum.saturating_add(entry.encoded_len()));
        let mut block = Vec::with_capacity(len);
        self.entries
            .iter()
            .for_each(|entry| entry.write(&mut block));
        Ok(block)
    }

    fn with(mut self, entry: Entry<'a>) -> Self {
        let id = entry.id();
        let repeated =
            id != PropertyId::UserProperty && self.entries.iter().any(|earlier| earlier.id() == id);
        if self.error.is_none() && (repeated || !entry.is_valid()) {
            self.error = Some(id);
        }
        self.entries.push(entry);
        self
    }
}

/// Collects the message properties of a property block while it is decoded: checks each
/// value and records where the entries lie.
#[derive(Default)]
struct MessageCollector {
    span: RepeatedSpan,
    /// The single-valued properties seen, one bit per identifier.
    seen: u16,
}

impl MessageCollector {
    /// Reads the value of property `id` (its identifier read from `start` on) if it is a
    /// message property; `Ok(false)` leaves any other property to the caller.
    #[inline]
    fn read<B: Buffer>(
        &mut self,
        reader: &mut Reader<'_, B>,
        id: PropertyId,
        start: usize,
    ) -> Result<bool, DecodeError> {
        let bit = match id {
            PropertyId::PayloadFormatIndicator => {
                // §3.3.2.3.2: 0 or 1; anything else is a Protocol Error.
                if reader.u8(id.name())? > 1 {
                    return Err(DecodeError::InvalidPropertyValue(id));
                }
                1
            }
            PropertyId::ContentType => {
                // [MQTT-3.3.2-19]: a UTF-8 Encoded String.
                reader.str(id.name())?;
                2
            }
            PropertyId::ResponseTopic => {
                reader.topic_name(id.name())?;
                4
            }
            PropertyId::CorrelationData => {
                skip_value(reader, id)?;
                8
            }
            PropertyId::UserProperty => {
                reader.str("user property name")?;
                reader.str("user property value")?;
                0
            }
            _ => return Ok(false),
        };
        if self.seen & bit != 0 {
            return Err(DecodeError::DuplicateProperty(id));
        }
        self.seen |= bit;
        self.span.record(start, reader.position());
        Ok(true)
    }

    /// The collected set, sharing `buf`.
    fn finish<B: Buffer>(self, buf: &B) -> MessageProperties<B> {
        MessageProperties::from_span(self.span, buf)
    }
}

/// Reads every property left in `block`: the message properties into the returned set, every
/// other one through `other`, which gets it after its identifier (read from the offset given)
/// and returns `Ok(false)` for one that `context`, the packet or set being read, may not carry.
#[inline]
pub(crate) fn read_entries<B: Buffer>(
    block: &mut Reader<'_, B>,
    context: &'static str,
    mut other: impl FnMut(&mut Reader<'_, B>, PropertyId, usize) -> Result<bool, DecodeError>,
) -> Result<MessageProperties<B>, DecodeError> {
    let mut collector = MessageCollector::default();
    while !block.is_empty() {
        let start = block.position();
        let raw_id = block.var_int("property identifier")?;
        let id = PropertyId::from_u32(raw_id).ok_or(DecodeError::UnknownProperty(raw_id))?;
        if !collector.read(block, id, start)? && !other(block, id, start)? {
            return Err(DecodeError::PropertyNotAllowed {
                property: id,
                packet: context,
            });
        }
    }
    Ok(collector.finish(block.buffer()))
}

/// An iterator over the User Properties of a [`MessageProperties`], as `(name, value)`.
#[derive(Clone, Debug)]
pub struct UserPropertyIter<'a> {
    entries: Entries<'a>,
}

impl<'a> Iterator for UserPropertyIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        for entry in self.entries.by_ref() {
            if entry.id != PropertyId::UserProperty {
                continue;
            }
            let mut reader = Reader::new(&entry.value, 0..entry.value.len());
            let name = reader.str("user property name").ok()?;
            let value = reader.str("user property value").ok()?;
            return Some((name, value));
        }
        None
    }
}

/// One entry of a validated block.
struct EntryBytes<'a> {
    id: PropertyId,
    /// The value.
    value: &'a [u8],
    /// The whole entry, identifier included.
    bytes: &'a [u8],
}

/// The message-property entries of a validated block, skipping any other property.
#[derive(Clone, Debug)]
struct Entries<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Entries<'a> {
    type Item = EntryBytes<'a>;

    fn next(&mut self) -> Option<EntryBytes<'a>> {
        loop {
            let input = self.rest;
            let mut reader = Reader::new(&input, 0..input.len());
            let id = PropertyId::from_u32(reader.var_int("property identifier").ok()?)?;
            let value_start = reader.position();
            skip_value(&mut reader, id).ok()?;
            let end = reader.position();
            self.rest = input.get(end..)?;
            if is_message_property(id) {
                return Some(EntryBytes {
                    id,
                    value: input.get(value_start..end)?,
                    bytes: input.get(..end)?,
                });
            }
        }
    }
}

/// Whether `id` is one of the properties a server forwards unchanged.
fn is_message_property(id: PropertyId) -> bool {
    matches!(
        id,
        PropertyId::PayloadFormatIndicator
            | PropertyId::ContentType
            | PropertyId::ResponseTopic
            | PropertyId::CorrelationData
            | PropertyId::UserProperty
    )
}

/// The string of a validated length-prefixed value.
fn prefixed_str(value: &[u8]) -> Option<&str> {
    core::str::from_utf8(value.get(2..)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_writes_entries_in_call_order() {
        let properties = MessageProperties::builder()
            .user_property("a", "1")
            .content_type("c")
            .build()
            .unwrap();
        assert_eq!(
            properties.raw.as_ref(),
            b"\x26\x00\x01a\x00\x011\x03\x00\x01c"
        );
        assert_eq!(properties.encoded_len(), 11);
    }

    #[test]
    fn builder_refuses_a_repeated_single_valued_property() {
        let error = MessageProperties::builder()
            .content_type("a")
            .content_type("b")
            .build()
            .unwrap_err();
        assert_eq!(error, EncodeError::InvalidProperty(PropertyId::ContentType));
    }

    #[test]
    fn interleaved_entries_are_written_without_the_others() {
        // Content Type "c", Message Expiry Interval 60, User Property ("k", "v").
        let block: &[u8] = b"\x03\x00\x01c\x02\x00\x00\x00\x3c\x26\x00\x01k\x00\x01v";
        let mut reader = Reader::new(&block, 0..block.len());
        let properties = read_entries(&mut reader, "test", |reader, id, _| {
            skip_value(reader, id).map(|()| true)
        })
        .unwrap();
        assert_eq!(properties.encoded_len(), 4 + 7);
        let mut out = Vec::new();
        properties.write(&mut out);
        assert_eq!(out, b"\x03\x00\x01c\x26\x00\x01k\x00\x01v");
        assert_eq!(properties.content_type(), Some("c"));
        assert_eq!(
            properties.user_properties().collect::<Vec<_>>(),
            [("k", "v")]
        );
    }
}
