//! UNSUBACK ([§3.11]): the answer to UNSUBSCRIBE; in MQTT 5.0 one reason code per filter.
//!
//! [§3.11]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901187

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach, detach_by_copy, detach_methods};
use crate::codec::buffer::Buffer;
use crate::codec::list::WireList;
use crate::codec::list::sealed::WireItem;
use crate::codec::reader::Reader;
use crate::error::{DecodeError, EncodeError};
use crate::packet::{EncodeBody, PacketType, encode_methods, not_in_version, read_packet_id};
use crate::property::AckProperties;
use crate::reason::UnsubAckReasonCode;
use crate::types::{PacketId, ProtocolVersion};

/// UNSUBACK: the answer to an UNSUBSCRIBE ([§3.11]).
///
/// MQTT 3.1 and 3.1.1 UNSUBACKs carry only the Packet Identifier, so `reason_codes` and
/// `properties` must be empty to encode in those versions.
///
/// ```
/// use mqtt_sansio::{PacketId, ProtocolVersion, UnsubAck, UnsubAckReasonCode};
///
/// let unsuback = UnsubAck::<&[u8]>::new(
///     PacketId::new(2).unwrap(),
///     [UnsubAckReasonCode::NoSubscriptionExisted],
/// );
/// let mut buf = Vec::new();
/// unsuback.encode(ProtocolVersion::V5, &mut buf).unwrap();
/// assert_eq!(buf, [0xB0, 0x04, 0x00, 0x02, 0x00, 0x11]);
/// ```
///
/// [§3.11]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901187
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsubAck<B: Buffer = Bytes> {
    /// The Packet Identifier of the UNSUBSCRIBE.
    pub packet_id: PacketId,
    /// One code per UNSUBSCRIBE filter, in order (MQTT 5.0, `[MQTT-3.11.3-2]`).
    pub reason_codes: WireList<B, UnsubAckReasonCode>,
    /// Properties (MQTT 5.0).
    pub properties: AckProperties<B>,
}

impl<B: Buffer> UnsubAck<B> {
    /// An UNSUBACK with these codes (none for 3.1 and 3.1.1), without properties.
    #[must_use]
    pub fn new(
        packet_id: PacketId,
        reason_codes: impl IntoIterator<Item = UnsubAckReasonCode>,
    ) -> Self {
        Self {
            packet_id,
            reason_codes: reason_codes.into_iter().collect(),
            properties: AckProperties::new(),
        }
    }

    encode_methods!(UnsubAck);

    /// Decodes the variable header and, in 5.0, the reason codes.
    pub(crate) fn decode_body(
        version: ProtocolVersion,
        reader: &mut Reader<'_, B>,
    ) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(reader, PacketType::UnsubAck)?;
        if !version.is_v5() {
            reader.finish(PacketType::UnsubAck)?;
            return Ok(Self::new(packet_id, []));
        }
        let mut properties = AckProperties::new();
        properties.decode_into(reader, "UNSUBACK")?;
        let start = reader.position();
        let count = reader.remaining();
        if count == 0 {
            return Err(DecodeError::EmptyPayload {
                packet: PacketType::UnsubAck,
            });
        }
        if let Some(&code) = reader
            .bytes()
            .iter()
            .find(|&&code| UnsubAckReasonCode::from_u8(code).is_none())
        {
            return Err(DecodeError::InvalidReasonCode {
                packet: PacketType::UnsubAck,
                code,
            });
        }
        reader.skip(count, "reason codes")?;
        let raw = reader
            .buffer()
            .slice_checked(start..reader.position())
            .unwrap_or_default();
        Ok(Self {
            packet_id,
            reason_codes: WireList::from_wire(raw, count, count),
            properties,
        })
    }
}

impl<B: Buffer> EncodeBody for UnsubAck<B> {
    fn remaining_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        if !version.is_v5() {
            if !self.reason_codes.is_empty() {
                return Err(not_in_version("UNSUBACK reason codes", version));
            }
            if !self.properties.is_empty() {
                return Err(not_in_version("UNSUBACK properties", version));
            }
            return Ok(2);
        }
        if self.reason_codes.is_empty() {
            return Err(EncodeError::EmptyPayload {
                packet: PacketType::UnsubAck,
            });
        }
        Ok(2usize
            .saturating_add(self.properties.encoded_len())
            .saturating_add(self.reason_codes.len()))
    }

    fn first_byte(&self) -> u8 {
        0xB0
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.write(buf, self.properties.content_len());
            self.reason_codes.write(buf);
        }
    }
}

impl<B: Buffer> WireItem<B> for UnsubAckReasonCode {
    fn read_next(reader: &mut Reader<'_, B>) -> Option<Self> {
        Self::from_u8(reader.u8("reason code").ok()?)
    }

    #[inline]
    fn encoded_len(&self) -> usize {
        1
    }

    #[inline]
    fn write(&self, buf: &mut impl BufMut) {
        buf.put_u8(self.as_u8());
    }
}

impl<B: Buffer> Detach for UnsubAck<B> {
    type Detached = UnsubAck<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> UnsubAck<Bytes> {
        UnsubAck {
            packet_id: self.packet_id,
            reason_codes: self.reason_codes.detach_in(arena),
            properties: self.properties.detach_in(arena),
        }
    }
}

detach_methods!(UnsubAck, "the UNSUBACK");

detach_by_copy!(UnsubAckReasonCode);
