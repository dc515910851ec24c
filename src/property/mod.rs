//! MQTT 5.0 properties ([§2.2.2]): identifiers, value types, and one typed set per packet.
//!
//! Each packet that carries properties has its own struct ([`PublishProperties`],
//! [`ConnectProperties`], ...) with one field per property the spec allows there, so a
//! property that is not allowed cannot be built, and decoding rejects it (Malformed Packet,
//! §2.2.2.2). A single-valued property is an `Option`; decoding it twice is a Protocol Error.
//! Repeatable properties (User Property, Subscription Identifier in PUBLISH) are
//! [`WireList`]s that borrow the decoded property block, so decoding allocates nothing.
//!
//! [§2.2.2]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901027

mod message;
mod publish;
mod set_reader;
mod sets;
mod value;

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach};
use crate::codec::buffer::Buffer;
use crate::codec::int::{put_var_int, var_int_len};
use crate::codec::list::WireList;
use crate::codec::list::sealed::WireItem;
use crate::codec::reader::Reader;
use crate::codec::string::MqttString;
use crate::error::DecodeError;
pub use crate::types::PropertyId;
use crate::types::ValueKind;

pub use message::{MessageProperties, MessagePropertiesBuilder, UserPropertyIter};
pub use publish::{PublishProperties, WillProperties};
pub use sets::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    SubscribeProperties, UnsubscribeProperties,
};
use value::PropertyValue;
pub use value::{MaximumQos, PayloadFormat, SubscriptionId};

/// The User Properties of a packet, in the order they were sent.
pub type UserProperties<B> = WireList<B, UserProperty<B>>;

/// The Subscription Identifiers of a PUBLISH, one per matching subscription that has one.
pub type SubscriptionIds<B> = WireList<B, SubscriptionId>;

/// A User Property: a name and value pair whose meaning the application defines ([§3.1.2.11.8]).
///
/// Both strings obey the UTF-8 string rules (`[MQTT-1.5.7-1]`).
///
/// [§3.1.2.11.8]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901054
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UserProperty<B: Buffer> {
    /// The name.
    pub name: MqttString<B>,
    /// The value.
    pub value: MqttString<B>,
}

impl<B: Buffer> UserProperty<B> {
    /// A property with this name and value.
    #[must_use]
    pub fn new(name: MqttString<B>, value: MqttString<B>) -> Self {
        Self { name, value }
    }
}

impl<B: Buffer> Detach for UserProperty<B> {
    type Detached = UserProperty<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> UserProperty<Bytes> {
        UserProperty {
            name: self.name.detach_in(arena),
            value: self.value.detach_in(arena),
        }
    }
}

/// A repeatable property as a [`WireList`] entry: its identifier byte, then its value, read
/// and written by the value's own [`PropertyValue`] impl.
macro_rules! repeatable_property {
    ($item:ty, $id:ident) => {
        impl<B: Buffer> WireItem<B> for $item {
            fn read_next(reader: &mut Reader<'_, B>) -> Option<Self> {
                read_next_repeated(reader, PropertyId::$id, |reader| {
                    <Self as PropertyValue<B>>::read(reader, PropertyId::$id).ok()
                })
            }

            #[inline]
            fn encoded_len(&self) -> usize {
                1usize.saturating_add(<Self as PropertyValue<B>>::value_len(self))
            }

            #[inline]
            fn write(&self, buf: &mut impl BufMut) {
                buf.put_u8(PropertyId::$id.as_u8());
                <Self as PropertyValue<B>>::write_value(self, buf);
            }
        }
    };
}

repeatable_property!(UserProperty<B>, UserProperty);
repeatable_property!(SubscriptionId, SubscriptionIdentifier);

/// User Properties are validated like any string pair (`[MQTT-1.5.7-1]`).
impl<B: Buffer> PropertyValue<B> for UserProperty<B> {
    fn read(reader: &mut Reader<'_, B>, _id: PropertyId) -> Result<Self, DecodeError> {
        let name = reader.string("user property name")?;
        let value = reader.string("user property value")?;
        Ok(Self { name, value })
    }

    fn value_len(&self) -> usize {
        self.name
            .encoded_len()
            .saturating_add(self.value.encoded_len())
    }

    fn write_value(&self, buf: &mut impl BufMut) {
        self.name.write(buf);
        self.value.write(buf);
    }
}

/// Reads properties from a validated block until one with identifier `wanted`, and reads its
/// value with `read`; `None` at the end of the block.
fn read_next_repeated<B: Buffer, T>(
    reader: &mut Reader<'_, B>,
    wanted: PropertyId,
    read: impl FnOnce(&mut Reader<'_, B>) -> Option<T>,
) -> Option<T> {
    loop {
        let id = PropertyId::from_u32(reader.var_int("property identifier").ok()?)?;
        if id == wanted {
            return read(reader);
        }
        skip_value(reader, id).ok()?;
    }
}

/// Skips the value of property `id`.
fn skip_value<B: Buffer>(reader: &mut Reader<'_, B>, id: PropertyId) -> Result<(), DecodeError> {
    let field = "property value";
    match id.kind() {
        ValueKind::Byte => reader.skip(1, field),
        ValueKind::TwoByteInteger => reader.skip(2, field),
        ValueKind::FourByteInteger => reader.skip(4, field),
        ValueKind::VariableByteInteger => reader.var_int(field).map(drop),
        ValueKind::String | ValueKind::Binary => reader.prefixed(field).map(drop),
        ValueKind::StringPair => {
            reader.prefixed(field)?;
            reader.prefixed(field).map(drop)
        }
    }
}

/// Collects where the occurrences of one repeatable property lie in a property block while it
/// is decoded, so the [`WireList`] can borrow just that span.
#[derive(Default)]
struct RepeatedSpan {
    /// Offset of the first occurrence's identifier.
    start: Option<usize>,
    /// Offset just past the last occurrence.
    end: usize,
    count: usize,
    encoded_len: usize,
}

impl RepeatedSpan {
    /// Records one occurrence that spans `start..end` of the buffer.
    fn record(&mut self, start: usize, end: usize) {
        self.start.get_or_insert(start);
        self.end = end;
        self.count = self.count.saturating_add(1);
        self.encoded_len = self.encoded_len.saturating_add(end.saturating_sub(start));
    }

    /// The list of the recorded occurrences, borrowing `buf`.
    fn into_list<B: Buffer, T>(self, buf: &B) -> WireList<B, T> {
        match self
            .start
            .and_then(|start| buf.slice_checked(start..self.end))
        {
            Some(raw) => WireList::from_wire(raw, self.count, self.encoded_len),
            None => WireList::new(),
        }
    }
}

/// Reads the Property Length and returns a reader over the property block.
fn block<'b, B: Buffer>(reader: &mut Reader<'b, B>) -> Result<Reader<'b, B>, DecodeError> {
    let len = reader.var_int("property length")?;
    reader.sub_reader(len as usize, "properties")
}

/// The encoded size of a property block of `content` bytes, Property Length included.
#[inline]
pub(crate) fn block_len(content: usize) -> usize {
    var_int_len(content).saturating_add(content)
}

/// Writes the Property Length of a block of `content` bytes.
#[inline]
fn put_block_len(buf: &mut impl BufMut, content: usize) {
    put_var_int(buf, content);
}
