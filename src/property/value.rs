//! Property value types and how each is read and written.

use core::num::{NonZeroU16, NonZeroU32};

use bytes::BufMut;

use crate::codec::buffer::Buffer;
use crate::codec::int::{MAX_VAR_INT, put_var_int, var_int_len};
use crate::codec::reader::Reader;
use crate::codec::string::{BinaryData, MqttString};
use crate::error::DecodeError;
use crate::property::PropertyId;
use crate::topic::TopicName;
use crate::types::QoS;

/// The Payload Format Indicator: whether a payload is UTF-8 text ([§3.3.2.3.2]).
///
/// [§3.3.2.3.2]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901111
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PayloadFormat {
    /// 0: unspecified bytes.
    Unspecified = 0,
    /// 1: UTF-8 encoded character data.
    Utf8 = 1,
}

/// The Maximum QoS a server supports ([§3.2.2.3.4]); QoS 2 is never sent, as its absence
/// means QoS 2.
///
/// [§3.2.2.3.4]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901084
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MaximumQos {
    /// 0: the server supports QoS 0 only.
    AtMostOnce = 0,
    /// 1: the server supports QoS 0 and 1.
    AtLeastOnce = 1,
}

impl MaximumQos {
    /// The value its byte encodes; `None` for anything but 0 and 1, a Protocol Error
    /// (§3.2.2.3.4).
    pub(crate) const fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::AtMostOnce),
            1 => Some(Self::AtLeastOnce),
            _ => None,
        }
    }
}

/// The value of a byte-valued flag property (Request Problem Information, Retain Available,
/// ...); `None` for anything but 0 and 1, a Protocol Error.
pub(crate) const fn flag(value: u8) -> Option<bool> {
    match value {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

impl From<MaximumQos> for QoS {
    fn from(value: MaximumQos) -> Self {
        match value {
            MaximumQos::AtMostOnce => Self::AtMostOnce,
            MaximumQos::AtLeastOnce => Self::AtLeastOnce,
        }
    }
}

/// A Subscription Identifier: 1 to 268,435,455 ([§3.8.2.1.2]); 0 is a Protocol Error.
///
/// ```
/// use mqtt_sansio::SubscriptionId;
///
/// assert_eq!(SubscriptionId::new(7).unwrap().get(), 7);
/// assert!(SubscriptionId::new(0).is_none());
/// assert!(SubscriptionId::new(268_435_456).is_none());
/// ```
///
/// [§3.8.2.1.2]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901166
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriptionId(NonZeroU32);

impl SubscriptionId {
    /// The identifier, if `value` is in 1 to 268,435,455.
    #[must_use]
    pub const fn new(value: u32) -> Option<Self> {
        if value > MAX_VAR_INT {
            return None;
        }
        match NonZeroU32::new(value) {
            Some(value) => Some(Self(value)),
            None => None,
        }
    }

    /// The value.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0.get()
    }
}

/// How a property value is read (with its range checked) and written.
pub(crate) trait PropertyValue<B: Buffer>: Sized {
    /// Reads the value of property `id`.
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError>;

    /// The size of the value, identifier excluded.
    fn value_len(&self) -> usize;

    /// Writes the value.
    fn write_value(&self, buf: &mut impl BufMut);
}

impl<B: Buffer> PropertyValue<B> for u32 {
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError> {
        reader.u32(id.name())
    }

    fn value_len(&self) -> usize {
        4
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        buf.put_u32(*self);
    }
}

impl<B: Buffer> PropertyValue<B> for u16 {
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError> {
        reader.u16(id.name())
    }

    fn value_len(&self) -> usize {
        2
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        buf.put_u16(*self);
    }
}

/// Receive Maximum and Topic Alias: a value of 0 is a Protocol Error (§3.1.2.11.3, §3.3.2.3.4).
impl<B: Buffer> PropertyValue<B> for NonZeroU16 {
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError> {
        Self::new(reader.u16(id.name())?).ok_or(DecodeError::InvalidPropertyValue(id))
    }

    fn value_len(&self) -> usize {
        2
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        buf.put_u16(self.get());
    }
}

/// Maximum Packet Size: a value of 0 is a Protocol Error (§3.1.2.11.4).
impl<B: Buffer> PropertyValue<B> for NonZeroU32 {
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError> {
        Self::new(reader.u32(id.name())?).ok_or(DecodeError::InvalidPropertyValue(id))
    }

    fn value_len(&self) -> usize {
        4
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        buf.put_u32(self.get());
    }
}

/// The byte-valued flags (Request Problem Information, Retain Available, ...): a value other
/// than 0 or 1 is a Protocol Error.
impl<B: Buffer> PropertyValue<B> for bool {
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError> {
        flag(reader.u8(id.name())?).ok_or(DecodeError::InvalidPropertyValue(id))
    }

    fn value_len(&self) -> usize {
        1
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        buf.put_u8(u8::from(*self));
    }
}

impl<B: Buffer> PropertyValue<B> for PayloadFormat {
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError> {
        match reader.u8(id.name())? {
            0 => Ok(Self::Unspecified),
            1 => Ok(Self::Utf8),
            _ => Err(DecodeError::InvalidPropertyValue(id)),
        }
    }

    fn value_len(&self) -> usize {
        1
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        buf.put_u8(*self as u8);
    }
}

/// Maximum QoS: "It is a Protocol Error to include Maximum QoS more than once, or to have a
/// value other than 0 or 1" (§3.2.2.3.4).
impl<B: Buffer> PropertyValue<B> for MaximumQos {
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError> {
        Self::from_u8(reader.u8(id.name())?).ok_or(DecodeError::InvalidPropertyValue(id))
    }

    fn value_len(&self) -> usize {
        1
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        buf.put_u8(*self as u8);
    }
}

/// Subscription Identifier: 0 is a Protocol Error (§3.8.2.1.2).
impl<B: Buffer> PropertyValue<B> for SubscriptionId {
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError> {
        Self::new(reader.var_int(id.name())?).ok_or(DecodeError::InvalidPropertyValue(id))
    }

    fn value_len(&self) -> usize {
        var_int_len(self.get() as usize)
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        put_var_int(buf, self.get() as usize);
    }
}

impl<B: Buffer> PropertyValue<B> for MqttString<B> {
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError> {
        reader.string(id.name())
    }

    fn value_len(&self) -> usize {
        self.encoded_len()
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        self.write(buf);
    }
}

impl<B: Buffer> PropertyValue<B> for BinaryData<B> {
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError> {
        reader.binary(id.name())
    }

    fn value_len(&self) -> usize {
        self.encoded_len()
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        self.write(buf);
    }
}

/// Response Topic: a UTF-8 string (`[MQTT-3.3.2-13]`) without wildcards (`[MQTT-3.3.2-14]`),
/// that is, a Topic Name.
impl<B: Buffer> PropertyValue<B> for TopicName<B> {
    fn read(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<Self, DecodeError> {
        reader.topic_name(id.name())
    }

    fn value_len(&self) -> usize {
        self.len().saturating_add(2)
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        crate::codec::string::put_prefixed(buf, self.as_bytes());
    }
}

crate::codec::arena::detach_by_copy!(PayloadFormat, MaximumQos, SubscriptionId);
