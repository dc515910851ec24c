//! DISCONNECT ([§3.14]): the last packet of a connection; in MQTT 5.0 either side may send it,
//! with a reason.
//!
//! [§3.14]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901205

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach, detach_methods};
use crate::codec::buffer::Buffer;
use crate::codec::reader::Reader;
use crate::error::{DecodeError, EncodeError};
use crate::packet::{EncodeBody, PacketType, encode_methods, not_in_version};
use crate::property::DisconnectProperties;
use crate::reason::DisconnectReasonCode;
use crate::types::ProtocolVersion;

/// DISCONNECT ([§3.14]).
///
/// In 5.0 the reason code and the Property Length may be left out when they would be 0; the
/// encoder writes the shortest form. In 3.1 and 3.1.1 the packet is empty.
///
/// ```
/// use mqtt_sansio::{Disconnect, DisconnectReasonCode, ProtocolVersion};
///
/// let mut buf = Vec::new();
/// Disconnect::<&[u8]>::new(DisconnectReasonCode::NormalDisconnection)
///     .encode(ProtocolVersion::V3_1_1, &mut buf)
///     .unwrap();
/// assert_eq!(buf, [0xE0, 0x00]);
/// buf.clear();
/// Disconnect::<&[u8]>::new(DisconnectReasonCode::KeepAliveTimeout)
///     .encode(ProtocolVersion::V5, &mut buf)
///     .unwrap();
/// assert_eq!(buf, [0xE0, 0x01, 0x8D]);
/// ```
///
/// [§3.14]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901205
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disconnect<B: Buffer = Bytes> {
    /// Why the connection closes (MQTT 5.0).
    pub reason_code: DisconnectReasonCode,
    /// Properties (MQTT 5.0).
    pub properties: DisconnectProperties<B>,
}

impl<B: Buffer> Default for Disconnect<B> {
    fn default() -> Self {
        Self::new(DisconnectReasonCode::NormalDisconnection)
    }
}

impl<B: Buffer> Disconnect<B> {
    /// A DISCONNECT with this reason and no properties.
    #[must_use]
    pub fn new(reason_code: DisconnectReasonCode) -> Self {
        Self {
            reason_code,
            properties: DisconnectProperties::new(),
        }
    }

    encode_methods!(Disconnect);

    /// Decodes the variable header, using the defaults for what a 5.0 sender left out.
    pub(crate) fn decode_body(
        version: ProtocolVersion,
        reader: &mut Reader<'_, B>,
    ) -> Result<Self, DecodeError> {
        let mut disconnect = Self::default();
        if version.is_v5() && !reader.is_empty() {
            let code = reader.u8("reason code")?;
            // [MQTT-3.14.2-1]: only the DISCONNECT reason codes.
            disconnect.reason_code =
                DisconnectReasonCode::from_u8(code).ok_or(DecodeError::InvalidReasonCode {
                    packet: PacketType::Disconnect,
                    code,
                })?;
            if !reader.is_empty() {
                disconnect.properties.decode_into(reader, "DISCONNECT")?;
            }
        }
        reader.finish(PacketType::Disconnect)?;
        Ok(disconnect)
    }
}

impl<B: Buffer> EncodeBody for Disconnect<B> {
    fn remaining_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        let normal = self.reason_code == DisconnectReasonCode::NormalDisconnection;
        if version.is_v5() {
            Ok(if !self.properties.is_empty() {
                1usize.saturating_add(self.properties.encoded_len())
            } else {
                usize::from(!normal)
            })
        } else if !normal {
            Err(not_in_version("DISCONNECT reason code", version))
        } else if !self.properties.is_empty() {
            Err(not_in_version("DISCONNECT properties", version))
        } else {
            Ok(0)
        }
    }

    fn first_byte(&self) -> u8 {
        0xE0
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        if !version.is_v5() {
            return;
        }
        let properties = self.properties.content_len();
        if properties > 0 || self.reason_code != DisconnectReasonCode::NormalDisconnection {
            buf.put_u8(self.reason_code.as_u8());
        }
        if properties > 0 {
            self.properties.write(buf, properties);
        }
    }
}

impl<B: Buffer> Detach for Disconnect<B> {
    type Detached = Disconnect<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> Disconnect<Bytes> {
        Disconnect {
            reason_code: self.reason_code,
            properties: self.properties.detach_in(arena),
        }
    }
}

detach_methods!(Disconnect, "the DISCONNECT");
