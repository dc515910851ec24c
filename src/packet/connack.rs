//! CONNACK ([§3.2]): the server's answer to CONNECT.
//!
//! [§3.2]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901074

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach, detach_methods};
use crate::codec::buffer::Buffer;
use crate::codec::reader::Reader;
use crate::error::{DecodeError, EncodeError};
use crate::packet::{EncodeBody, PacketType, encode_methods, not_in_version};
use crate::property::ConnAckProperties;
use crate::reason::{ConnectReasonCode, ConnectReturnCode};
use crate::types::ProtocolVersion;

/// CONNACK: whether the server accepts the connection ([§3.2]).
///
/// The outcome is a [`ConnectReasonCode`] in every version; a 3.1 or 3.1.1 CONNACK carries one
/// of the six codes that have a [`ConnectReturnCode`], and any other code is an encode error
/// in those versions.
///
/// ```
/// use mqtt_sansio::{ConnAck, ConnectReasonCode, ProtocolVersion};
///
/// let refused = ConnAck::<&[u8]>::new(false, ConnectReasonCode::NotAuthorized);
/// let mut buf = Vec::new();
/// refused.encode(ProtocolVersion::V3_1_1, &mut buf).unwrap();
/// assert_eq!(buf, [0x20, 0x02, 0x00, 0x05]);
/// buf.clear();
/// refused.encode(ProtocolVersion::V5, &mut buf).unwrap();
/// assert_eq!(buf, [0x20, 0x03, 0x00, 0x87, 0x00]);
/// ```
///
/// [§3.2]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901074
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnAck<B: Buffer = Bytes> {
    /// Whether the server resumed a stored session (3.1.1 and 5.0; always `false` in 3.1).
    pub session_present: bool,
    /// The outcome.
    pub reason_code: ConnectReasonCode,
    /// Properties (MQTT 5.0).
    pub properties: ConnAckProperties<B>,
}

impl<B: Buffer> ConnAck<B> {
    /// A CONNACK without properties.
    #[must_use]
    pub fn new(session_present: bool, reason_code: ConnectReasonCode) -> Self {
        Self {
            session_present,
            reason_code,
            properties: ConnAckProperties::new(),
        }
    }

    encode_methods!(ConnAck);

    /// Decodes the variable header.
    pub(crate) fn decode_body(
        version: ProtocolVersion,
        reader: &mut Reader<'_, B>,
    ) -> Result<Self, DecodeError> {
        let flags = reader.u8("connect acknowledge flags")?;
        // 5.0 [MQTT-3.2.2-1] and 3.1.1 §3.2.2.1: bits 7-1 are reserved. MQTT 3.1 has no flags:
        // the whole byte is reserved.
        let reserved = if version == ProtocolVersion::V3_1 {
            0xFF
        } else {
            0xFE
        };
        if flags & reserved != 0 {
            return Err(DecodeError::InvalidConnAckFlags(flags));
        }
        let session_present = flags & 0x01 != 0;
        let code = reader.u8("connect reason code")?;
        let reason_code = if version.is_v5() {
            // 5.0 [MQTT-3.2.2-8]: only the CONNACK reason codes.
            ConnectReasonCode::from_u8(code)
        } else {
            // 3.1.1 §3.2.2.3: 6 to 255 are reserved.
            ConnectReturnCode::from_u8(code).map(ConnectReturnCode::to_reason_code)
        }
        .ok_or(DecodeError::InvalidReasonCode {
            packet: PacketType::ConnAck,
            code,
        })?;
        let mut connack = Self::new(session_present, reason_code);
        if version.is_v5() {
            connack.properties.decode_into(reader, "CONNACK")?;
        }
        // 3.1.1 [MQTT-3.2.2-4], 5.0 [MQTT-3.2.2-6]: a refusal has Session Present 0.
        if session_present && reason_code != ConnectReasonCode::Success {
            return Err(DecodeError::SessionPresentOnError);
        }
        reader.finish(PacketType::ConnAck)?;
        Ok(connack)
    }

    /// The byte that carries the outcome in `version`.
    fn code_byte(&self, version: ProtocolVersion) -> Result<u8, EncodeError> {
        if version.is_v5() {
            return Ok(self.reason_code.as_u8());
        }
        ConnectReturnCode::from_reason_code(self.reason_code)
            .map(ConnectReturnCode::as_u8)
            .ok_or(not_in_version("this CONNACK reason code", version))
    }
}

impl<B: Buffer> EncodeBody for ConnAck<B> {
    fn remaining_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        self.code_byte(version)?;
        if self.session_present && self.reason_code != ConnectReasonCode::Success {
            return Err(EncodeError::SessionPresentOnError);
        }
        if version == ProtocolVersion::V3_1 && self.session_present {
            return Err(not_in_version("session present", version));
        }
        if version.is_v5() {
            Ok(2usize.saturating_add(self.properties.encoded_len()))
        } else if self.properties.is_empty() {
            Ok(2)
        } else {
            Err(not_in_version("CONNACK properties", version))
        }
    }

    fn first_byte(&self) -> u8 {
        0x20
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        buf.put_u8(u8::from(self.session_present));
        // `remaining_len` has checked that the code exists in this version.
        buf.put_u8(self.code_byte(version).unwrap_or(self.reason_code.as_u8()));
        if version.is_v5() {
            self.properties.write(buf, self.properties.content_len());
        }
    }
}

impl<B: Buffer> Detach for ConnAck<B> {
    type Detached = ConnAck<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> ConnAck<Bytes> {
        ConnAck {
            session_present: self.session_present,
            reason_code: self.reason_code,
            properties: self.properties.detach_in(arena),
        }
    }
}

detach_methods!(ConnAck, "the CONNACK");
