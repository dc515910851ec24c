//! SUBACK ([§3.9]): one reason code per SUBSCRIBE entry.
//!
//! [§3.9]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901171

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach, detach_by_copy, detach_methods};
use crate::codec::buffer::Buffer;
use crate::codec::list::WireList;
use crate::codec::list::sealed::WireItem;
use crate::codec::reader::Reader;
use crate::error::{DecodeError, EncodeError};
use crate::packet::{EncodeBody, PacketType, encode_methods, not_in_version, read_packet_id};
use crate::property::AckProperties;
use crate::reason::SubAckReasonCode;
use crate::types::{PacketId, ProtocolVersion};

/// SUBACK: the outcome of each entry of a SUBSCRIBE, in order ([§3.9]).
///
/// ```
/// use mqtt_sansio::{PacketId, ProtocolVersion, SubAck, SubAckReasonCode};
///
/// let suback = SubAck::<&[u8]>::new(
///     PacketId::new(10).unwrap(),
///     [SubAckReasonCode::GrantedQoS1, SubAckReasonCode::UnspecifiedError],
/// );
/// let mut buf = Vec::new();
/// suback.encode(ProtocolVersion::V3_1_1, &mut buf).unwrap();
/// assert_eq!(buf, [0x90, 0x04, 0x00, 0x0a, 0x01, 0x80]);
/// ```
///
/// [§3.9]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901171
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubAck<B: Buffer = Bytes> {
    /// The Packet Identifier of the SUBSCRIBE.
    pub packet_id: PacketId,
    /// One code per SUBSCRIBE entry, in the same order.
    pub reason_codes: WireList<B, SubAckReasonCode>,
    /// Properties (MQTT 5.0).
    pub properties: AckProperties<B>,
}

impl<B: Buffer> SubAck<B> {
    /// A SUBACK with these codes, without properties.
    #[must_use]
    pub fn new(
        packet_id: PacketId,
        reason_codes: impl IntoIterator<Item = SubAckReasonCode>,
    ) -> Self {
        Self {
            packet_id,
            reason_codes: reason_codes.into_iter().collect(),
            properties: AckProperties::new(),
        }
    }

    encode_methods!(SubAck);

    /// Decodes the variable header and the reason codes, each one the version allows
    /// (`[MQTT-3.9.3-2]`).
    pub(crate) fn decode_body(
        version: ProtocolVersion,
        reader: &mut Reader<'_, B>,
    ) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(reader, PacketType::SubAck)?;
        let mut properties = AckProperties::new();
        if version.is_v5() {
            properties.decode_into(reader, "SUBACK")?;
        }
        let start = reader.position();
        let count = reader.remaining();
        if count == 0 {
            return Err(DecodeError::EmptyPayload {
                packet: PacketType::SubAck,
            });
        }
        for &code in reader.bytes() {
            match SubAckReasonCode::from_u8(code) {
                Some(reason) if allowed_in(reason, version) => {}
                _ => {
                    return Err(DecodeError::InvalidReasonCode {
                        packet: PacketType::SubAck,
                        code,
                    });
                }
            }
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

impl<B: Buffer> EncodeBody for SubAck<B> {
    fn remaining_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        if self.reason_codes.is_empty() {
            return Err(EncodeError::EmptyPayload {
                packet: PacketType::SubAck,
            });
        }
        if !self
            .reason_codes
            .iter()
            .all(|code| allowed_in(code, version))
        {
            return Err(not_in_version("this SUBACK reason code", version));
        }
        let mut len = 2usize.saturating_add(self.reason_codes.len());
        if version.is_v5() {
            len = len.saturating_add(self.properties.encoded_len());
        } else if !self.properties.is_empty() {
            return Err(not_in_version("SUBACK properties", version));
        }
        Ok(len)
    }

    fn first_byte(&self) -> u8 {
        0x90
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.write(buf, self.properties.content_len());
        }
        self.reason_codes.write(buf);
    }
}

impl<B: Buffer> WireItem<B> for SubAckReasonCode {
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

/// Whether `code` exists in `version`: 3.1.1 has the three grants and 0x80 (`[MQTT-3.9.3-2]`),
/// 3.1 only the three grants.
fn allowed_in(code: SubAckReasonCode, version: ProtocolVersion) -> bool {
    match version {
        #[cfg(feature = "v5")]
        ProtocolVersion::V5 => true,
        ProtocolVersion::V3_1_1 => {
            code.as_u8() <= 0x02 || code == SubAckReasonCode::UnspecifiedError
        }
        ProtocolVersion::V3_1 => code.as_u8() <= 0x02,
    }
}

impl<B: Buffer> Detach for SubAck<B> {
    type Detached = SubAck<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> SubAck<Bytes> {
        SubAck {
            packet_id: self.packet_id,
            reason_codes: self.reason_codes.detach_in(arena),
            properties: self.properties.detach_in(arena),
        }
    }
}

detach_methods!(SubAck, "the SUBACK");

detach_by_copy!(SubAckReasonCode);
