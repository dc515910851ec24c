//! UNSUBSCRIBE ([§3.10]): a client removes one or more subscriptions.
//!
//! [§3.10]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901179

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach, detach_methods};
use crate::codec::buffer::Buffer;
use crate::codec::list::WireList;
use crate::codec::list::sealed::WireItem;
use crate::codec::reader::Reader;
use crate::codec::string::put_prefixed;
use crate::error::{DecodeError, EncodeError};
use crate::packet::subscribe::check_for_version;
use crate::packet::{EncodeBody, PacketType, encode_methods, not_in_version, read_packet_id};
use crate::property::UnsubscribeProperties;
use crate::topic::{TopicFilter, parse_shared};
use crate::types::{PacketId, ProtocolVersion};

/// UNSUBSCRIBE: the Topic Filters to remove ([§3.10]); its fixed-header flags are `0010`.
///
/// ```
/// use mqtt_sansio::{PacketId, ProtocolVersion, TopicFilter, Unsubscribe};
///
/// let unsubscribe =
///     Unsubscribe::<&[u8]>::new(PacketId::new(2).unwrap(), [TopicFilter::new("a/b").unwrap()]);
/// let mut buf = Vec::new();
/// unsubscribe.encode(ProtocolVersion::V3_1_1, &mut buf).unwrap();
/// assert_eq!(buf, b"\xa2\x07\x00\x02\x00\x03a/b");
/// ```
///
/// [§3.10]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901179
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsubscribe<B: Buffer = Bytes> {
    /// The Packet Identifier the UNSUBACK echoes.
    pub packet_id: PacketId,
    /// The filters; at least one (`[MQTT-3.10.3-2]`).
    pub filters: WireList<B, TopicFilter<B>>,
    /// Properties (MQTT 5.0).
    pub properties: UnsubscribeProperties<B>,
}

impl<B: Buffer> Unsubscribe<B> {
    /// An UNSUBSCRIBE of these filters, without properties.
    #[must_use]
    pub fn new(packet_id: PacketId, filters: impl IntoIterator<Item = TopicFilter<B>>) -> Self {
        Self {
            packet_id,
            filters: filters.into_iter().collect(),
            properties: UnsubscribeProperties::new(),
        }
    }

    encode_methods!(Unsubscribe);

    /// Decodes the variable header and the filters, each a UTF-8 string (`[MQTT-3.10.3-1]`)
    /// obeying section 4.7.
    pub(crate) fn decode_body(
        version: ProtocolVersion,
        reader: &mut Reader<'_, B>,
    ) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(reader, PacketType::Unsubscribe)?;
        let mut properties = UnsubscribeProperties::new();
        if version.is_v5() {
            properties.decode_into(reader, "UNSUBSCRIBE")?;
        }
        let start = reader.position();
        let mut count: usize = 0;
        while !reader.is_empty() {
            let filter = reader.topic_filter_str("topic filter")?;
            let invalid = |error| DecodeError::InvalidTopic {
                field: "topic filter",
                error,
            };
            if version.is_v5() {
                parse_shared(&filter).map_err(invalid)?;
            }
            count = count.saturating_add(1);
        }
        if count == 0 {
            return Err(DecodeError::EmptyPayload {
                packet: PacketType::Unsubscribe,
            });
        }
        let end = reader.position();
        let raw = reader
            .buffer()
            .slice_checked(start..end)
            .unwrap_or_default();
        let filters = WireList::from_wire(raw, count, end.saturating_sub(start));
        Ok(Self {
            packet_id,
            filters,
            properties,
        })
    }
}

impl<B: Buffer> EncodeBody for Unsubscribe<B> {
    fn remaining_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        if self.filters.is_empty() {
            return Err(EncodeError::EmptyPayload {
                packet: PacketType::Unsubscribe,
            });
        }
        let filters_len = self
            .filters
            .checked_encoded_len(|filter| check_for_version(filter, false, version))?;
        let mut len = 2usize.saturating_add(filters_len);
        if version.is_v5() {
            len = len.saturating_add(self.properties.encoded_len());
        } else if !self.properties.is_empty() {
            return Err(not_in_version("UNSUBSCRIBE properties", version));
        }
        Ok(len)
    }

    fn first_byte(&self) -> u8 {
        0xA2
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.write(buf, self.properties.content_len());
        }
        self.filters.write(buf);
    }
}

impl<B: Buffer> WireItem<B> for TopicFilter<B> {
    fn read_next(reader: &mut Reader<'_, B>) -> Option<Self> {
        reader.str("topic filter").ok().map(Self::from_checked)
    }

    #[inline]
    fn encoded_len(&self) -> usize {
        self.len().saturating_add(2)
    }

    #[inline]
    fn write(&self, buf: &mut impl BufMut) {
        put_prefixed(buf, self.as_bytes());
    }
}

impl<B: Buffer> Detach for Unsubscribe<B> {
    type Detached = Unsubscribe<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> Unsubscribe<Bytes> {
        Unsubscribe {
            packet_id: self.packet_id,
            filters: self.filters.detach_in(arena),
            properties: self.properties.detach_in(arena),
        }
    }
}

detach_methods!(Unsubscribe, "the UNSUBSCRIBE");
