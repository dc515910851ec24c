//! AUTH ([§3.15]): a step of MQTT 5.0 extended authentication.
//!
//! [§3.15]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901217

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach, detach_methods};
use crate::codec::buffer::Buffer;
use crate::codec::reader::Reader;
use crate::error::{DecodeError, EncodeError};
use crate::packet::{EncodeBody, PacketType, encode_methods, not_in_version};
use crate::property::AuthProperties;
use crate::reason::AuthReasonCode;
use crate::types::ProtocolVersion;

/// AUTH, MQTT 5.0 only ([§3.15]).
///
/// §3.15.2.1 lets an AUTH with reason Success and no properties be sent as an empty packet,
/// while §3.15.2.2.2 calls leaving out the Authentication Method a Protocol Error. This crate
/// reads them together: the empty form is accepted, and any other AUTH must carry the
/// Authentication Method.
///
/// ```
/// use mqtt_sansio::{Auth, AuthReasonCode, MqttString, ProtocolVersion};
///
/// let mut auth = Auth::<&[u8]>::new(AuthReasonCode::ContinueAuthentication);
/// auth.properties.authentication_method = Some(MqttString::new("SCRAM-SHA-1").unwrap());
/// let mut buf = Vec::new();
/// auth.encode(ProtocolVersion::V5, &mut buf).unwrap();
/// assert_eq!(&buf[..4], [0xF0, 0x10, 0x18, 0x0E]);
/// assert!(auth.encode(ProtocolVersion::V3_1_1, &mut buf).is_err());
/// ```
///
/// [§3.15]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901217
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth<B: Buffer = Bytes> {
    /// The step of the exchange.
    pub reason_code: AuthReasonCode,
    /// Properties; the Authentication Method is required unless the AUTH is the empty form.
    pub properties: AuthProperties<B>,
}

impl<B: Buffer> Auth<B> {
    /// An AUTH with this reason and no properties.
    #[must_use]
    pub fn new(reason_code: AuthReasonCode) -> Self {
        Self {
            reason_code,
            properties: AuthProperties::new(),
        }
    }

    encode_methods!(Auth);

    /// Whether this is the empty form: Success without properties.
    fn is_short_form(&self) -> bool {
        self.reason_code == AuthReasonCode::Success && self.properties.is_empty()
    }

    /// Decodes the variable header. The fixed-header check refuses packet type 15 outside 5.0;
    /// this refuses it again, with the same error, so that a build without 5.0 can see the
    /// rest as dead code and leave it out.
    pub(crate) fn decode_body(
        version: ProtocolVersion,
        reader: &mut Reader<'_, B>,
    ) -> Result<Self, DecodeError> {
        if !version.is_v5() {
            return Err(DecodeError::ReservedPacketType(PacketType::Auth as u8));
        }
        if reader.is_empty() {
            return Ok(Self::new(AuthReasonCode::Success));
        }
        let code = reader.u8("reason code")?;
        // [MQTT-3.15.2-1]: only the Authenticate reason codes.
        let reason_code = AuthReasonCode::from_u8(code).ok_or(DecodeError::InvalidReasonCode {
            packet: PacketType::Auth,
            code,
        })?;
        let mut auth = Self::new(reason_code);
        auth.properties.decode_into(reader, "AUTH")?;
        if auth.properties.authentication_method.is_none() {
            return Err(DecodeError::MissingAuthMethod);
        }
        reader.finish(PacketType::Auth)?;
        Ok(auth)
    }
}

impl<B: Buffer> EncodeBody for Auth<B> {
    fn remaining_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        if !version.is_v5() {
            return Err(not_in_version("AUTH", version));
        }
        if self.is_short_form() {
            return Ok(0);
        }
        if self.properties.authentication_method.is_none() {
            return Err(EncodeError::MissingAuthMethod);
        }
        Ok(1usize.saturating_add(self.properties.encoded_len()))
    }

    fn first_byte(&self) -> u8 {
        0xF0
    }

    fn write_body(&self, _version: ProtocolVersion, buf: &mut impl BufMut) {
        if self.is_short_form() {
            return;
        }
        buf.put_u8(self.reason_code.as_u8());
        self.properties.write(buf, self.properties.content_len());
    }
}

impl<B: Buffer> Detach for Auth<B> {
    type Detached = Auth<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> Auth<Bytes> {
        Auth {
            reason_code: self.reason_code,
            properties: self.properties.detach_in(arena),
        }
    }
}

detach_methods!(Auth, "the AUTH");
