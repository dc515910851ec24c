//! CONNECT ([§3.1]): the first packet of a connection, which also names the protocol version.
//!
//! [§3.1]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901033

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach, detach_methods};
use crate::codec::buffer::Buffer;
use crate::codec::int::read_var_int;
use crate::codec::reader::Reader;
use crate::codec::string::{BinaryData, MqttString, put_prefixed};
use crate::codec::{Decoded, Limits};
use crate::error::{DecodeError, EncodeError};
use crate::packet::{EncodeBody, Framed, PacketType, encode_methods, frame_packet, not_in_version};
use crate::property::{ConnectProperties, WillProperties};
use crate::topic::TopicName;
use crate::types::{ProtocolVersion, QoS};

/// The longest MQTT 3.1 Client Identifier, in characters.
const MQTT31_MAX_CLIENT_ID_CHARS: usize = 23;

/// CONNECT: a client asks to open a session ([§3.1]).
///
/// The packet carries its own protocol version (Protocol Name and Level); it is decoded in that
/// version, and [`encode`](Self::encode) requires the `version` argument to equal it.
///
/// ```
/// use mqtt_sansio::{Connect, Limits, MqttString, ProtocolVersion};
///
/// let mut connect = Connect::<&[u8]>::new(ProtocolVersion::V3_1_1, MqttString::new("dev-1").unwrap());
/// connect.keep_alive = 30;
/// let mut buf = Vec::new();
/// connect.encode(ProtocolVersion::V3_1_1, &mut buf).unwrap();
/// assert_eq!(buf, b"\x10\x11\x00\x04MQTT\x04\x02\x00\x1e\x00\x05dev-1");
///
/// let (decoded, _) = Connect::decode(&buf, &Limits::default()).unwrap().complete().unwrap();
/// assert_eq!(decoded, connect);
/// ```
///
/// [§3.1]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901033
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connect<B: Buffer = Bytes> {
    /// The protocol version the client speaks.
    pub protocol_version: ProtocolVersion,
    /// Clean Start (5.0) or Clean Session (3.1, 3.1.1): discard any existing session.
    pub clean_start: bool,
    /// The Keep Alive interval in seconds; 0 turns keep-alive off.
    pub keep_alive: u16,
    /// The Client Identifier (`[MQTT-3.1.3-3]`, `[MQTT-3.1.3-4]`); may be empty from 3.1.1 on.
    pub client_id: MqttString<B>,
    /// The Will Message, published if the connection ends without a normal DISCONNECT.
    pub will: Option<Will<B>>,
    /// The User Name.
    pub username: Option<MqttString<B>>,
    /// The Password.
    pub password: Option<BinaryData<B>>,
    /// Properties (MQTT 5.0).
    pub properties: ConnectProperties<B>,
}

/// The Will Message of a CONNECT ([§3.1.2.5], [§3.1.3.2] to [§3.1.3.4]).
///
/// [§3.1.2.5]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901040
/// [§3.1.3.2]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901060
/// [§3.1.3.4]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901067
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Will<B: Buffer = Bytes> {
    /// The QoS to publish the will with.
    pub qos: QoS,
    /// Whether the will is published as a retained message.
    pub retain: bool,
    /// The Will Topic. It is published as a Topic Name, so the Topic Name rules apply.
    pub topic: TopicName<B>,
    /// The Will Payload (3.1.1: Will Message).
    pub payload: BinaryData<B>,
    /// Will Properties (MQTT 5.0).
    pub properties: WillProperties<B>,
}

impl<B: Buffer> Will<B> {
    /// A QoS 0, non-retained will without properties.
    #[must_use]
    pub fn new(topic: TopicName<B>, payload: BinaryData<B>) -> Self {
        Self {
            qos: QoS::AtMostOnce,
            retain: false,
            topic,
            payload,
            properties: WillProperties::new(),
        }
    }
}

impl<'a> Connect<&'a [u8]> {
    /// Decodes the CONNECT at the start of `input`, the first packet of a connection, in the
    /// version its Protocol Level names; nothing is allocated.
    ///
    /// ```
    /// use mqtt_sansio::{Connect, Limits, ProtocolVersion};
    ///
    /// let input = b"\x10\x0e\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x01a";
    /// let (connect, _) = Connect::decode(input, &Limits::default())?.complete().unwrap();
    /// assert_eq!(connect.protocol_version, ProtocolVersion::V5);
    /// assert_eq!(connect.client_id, "a");
    /// # Ok::<(), mqtt_sansio::DecodeError>(())
    /// ```
    pub fn decode(input: &'a [u8], limits: &Limits) -> Result<Decoded<Self>, DecodeError> {
        Self::decode_from(&input, limits)
    }

    /// The protocol version a CONNECT at the start of `input` names, read from its Protocol
    /// Name and Level alone; `None` if those bytes are not all there or name no version this
    /// crate speaks.
    ///
    /// A server that refuses a CONNECT (for example with
    /// [`DecodeError::InvalidClientId`]) answers with a CONNACK in the client's version: 3.1.1
    /// return code 0x02, or 5.0 reason code 0x85. This tells it which.
    ///
    /// ```
    /// use mqtt_sansio::{Connect, Limits, ProtocolVersion};
    ///
    /// // 3.1.1, Clean Session 0 and an empty client identifier: refused, [MQTT-3.1.3-8].
    /// let input = b"\x10\x0c\x00\x04MQTT\x04\x00\x00\x3c\x00\x00";
    /// assert!(Connect::decode(input, &Limits::default()).is_err());
    /// assert_eq!(Connect::peek_version(input), Some(ProtocolVersion::V3_1_1));
    /// ```
    #[must_use]
    pub fn peek_version(input: &[u8]) -> Option<ProtocolVersion> {
        let (&first, rest) = input.split_first()?;
        if first != 0x10 {
            return None;
        }
        let (_, len_len) = read_var_int(rest, "remaining length").ok()??;
        let header = rest.get(len_len..)?;
        let mut reader = Reader::new(&header, 0..header.len());
        read_protocol(&mut reader).ok()
    }
}

impl Connect<Bytes> {
    /// Decodes the CONNECT at the start of `input` into a packet sharing `input`'s storage.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mqtt_sansio::{Connect, Limits, ProtocolVersion};
    ///
    /// let input = Bytes::from_static(b"\x10\x0e\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x00");
    /// let error = Connect::decode_bytes(&input, &Limits::default()).unwrap_err();
    /// // MQTT 3.1 requires a client identifier of 1 to 23 characters.
    /// assert_eq!(error, mqtt_sansio::DecodeError::InvalidClientId);
    /// ```
    pub fn decode_bytes(input: &Bytes, limits: &Limits) -> Result<Decoded<Self>, DecodeError> {
        Self::decode_from(input, limits)
    }
}

impl<B: Buffer> Connect<B> {
    /// A CONNECT with Clean Start, no keep-alive, will, credentials or properties.
    #[must_use]
    pub fn new(protocol_version: ProtocolVersion, client_id: MqttString<B>) -> Self {
        Self {
            protocol_version,
            clean_start: true,
            keep_alive: 0,
            client_id,
            will: None,
            username: None,
            password: None,
            properties: ConnectProperties::new(),
        }
    }

    /// Decodes the CONNECT at the start of `input` for any [`Buffer`] type; any other packet
    /// type is an error, since nothing else may open a connection (`[MQTT-3.1.0-1]`).
    pub fn decode_from(input: &B, limits: &Limits) -> Result<Decoded<Self>, DecodeError> {
        match frame_packet(None, input, limits)? {
            Framed::Complete { header, mut reader } => Ok(Decoded::Complete {
                packet: Self::decode_body(&mut reader)?,
                consumed: header.packet_len(),
            }),
            Framed::Incomplete { needed } => Ok(Decoded::Incomplete { needed }),
        }
    }

    encode_methods!(Connect);

    /// Decodes the variable header and payload, in the version they name.
    pub(crate) fn decode_body(reader: &mut Reader<'_, B>) -> Result<Self, DecodeError> {
        let protocol_version = read_protocol(reader)?;
        let flags = reader.u8("connect flags")?;
        // [MQTT-3.1.2-3]: the reserved flag is 0.
        if flags & 0b0000_0001 != 0 {
            return Err(DecodeError::ConnectReservedFlag);
        }
        let clean_start = flags & 0b0000_0010 != 0;
        let will_flag = flags & 0b0000_0100 != 0;
        let will_qos = (flags >> 3) & 0b11;
        let will_retain = flags & 0b0010_0000 != 0;
        let password_flag = flags & 0b0100_0000 != 0;
        let username_flag = flags & 0b1000_0000 != 0;
        // 3.1.1 [MQTT-3.1.2-11], [MQTT-3.1.2-13], [MQTT-3.1.2-15]; 5.0 [MQTT-3.1.2-11],
        // [MQTT-3.1.2-13]: without a will, Will QoS and Will Retain are 0.
        if !will_flag && (will_qos != 0 || will_retain) {
            return Err(DecodeError::WillFlagsWithoutWill);
        }
        // 3.1.1 [MQTT-3.1.2-14], 5.0 [MQTT-3.1.2-12]: Will QoS 3 is malformed.
        let will_qos =
            QoS::from_bits(will_qos).ok_or(DecodeError::InvalidQos { field: "will QoS" })?;
        // 3.1.1 [MQTT-3.1.2-22]: no password without a user name (5.0 allows one).
        if password_flag && !username_flag && !protocol_version.is_v5() {
            return Err(DecodeError::PasswordWithoutUserName);
        }
        let keep_alive = reader.u16("keep alive")?;
        let mut properties = ConnectProperties::new();
        if protocol_version.is_v5() {
            properties.decode_into(reader, "CONNECT")?;
            // §3.1.2.11.10: Authentication Data without Authentication Method is a Protocol
            // Error.
            if properties.authentication_data.is_some()
                && properties.authentication_method.is_none()
            {
                return Err(DecodeError::AuthDataWithoutMethod);
            }
        }

        // The payload fields come in a fixed order ([MQTT-3.1.3-1]), the Client Identifier
        // first ([MQTT-3.1.3-3]).
        let client_id = reader.string("client identifier")?;
        check_client_id(protocol_version, clean_start, client_id.as_str())
            .map_err(|()| DecodeError::InvalidClientId)?;
        let will = if will_flag {
            // [MQTT-3.1.2-9]: with the will flag, the will fields are present.
            let properties = if protocol_version.is_v5() {
                WillProperties::decode(reader, "will properties")?
            } else {
                WillProperties::new()
            };
            let topic = reader.topic_name("will topic")?;
            let payload = reader.binary("will payload")?;
            Some(Will {
                qos: will_qos,
                retain: will_retain,
                topic,
                payload,
                properties,
            })
        } else {
            None
        };
        // 3.1.1 [MQTT-3.1.2-18] to [MQTT-3.1.2-21], 5.0 [MQTT-3.1.2-16] to [MQTT-3.1.2-19]:
        // each flag says whether its field is present.
        let username = if username_flag {
            Some(reader.string("user name")?)
        } else {
            None
        };
        let password = if password_flag {
            Some(reader.binary("password")?)
        } else {
            None
        };
        reader.finish(PacketType::Connect)?;
        Ok(Self {
            protocol_version,
            clean_start,
            keep_alive,
            client_id,
            will,
            username,
            password,
            properties,
        })
    }
}

impl<B: Buffer> EncodeBody for Connect<B> {
    fn remaining_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        if version != self.protocol_version {
            return Err(EncodeError::VersionMismatch {
                packet: self.protocol_version,
                requested: version,
            });
        }
        check_client_id(version, self.clean_start, self.client_id.as_str())
            .map_err(|()| EncodeError::InvalidClientId)?;
        if self.password.is_some() && self.username.is_none() && !version.is_v5() {
            return Err(EncodeError::PasswordWithoutUserName);
        }
        let name_len = version.protocol_name().len().saturating_add(2);
        // Protocol Name, Level, flags, Keep Alive.
        let mut len = name_len
            .saturating_add(4)
            .saturating_add(self.client_id.encoded_len());
        if version.is_v5() {
            if self.properties.authentication_data.is_some()
                && self.properties.authentication_method.is_none()
            {
                return Err(EncodeError::AuthDataWithoutMethod);
            }
            len = len.saturating_add(self.properties.encoded_len());
        } else if !self.properties.is_empty() {
            return Err(not_in_version("CONNECT properties", version));
        }
        if let Some(will) = &self.will {
            len = len
                .saturating_add(will.topic.len().saturating_add(2))
                .saturating_add(will.payload.encoded_len());
            if version.is_v5() {
                len = len.saturating_add(will.properties.encoded_len());
            } else if !will.properties.is_empty() {
                return Err(not_in_version("will properties", version));
            }
        }
        if let Some(username) = &self.username {
            len = len.saturating_add(username.encoded_len());
        }
        if let Some(password) = &self.password {
            len = len.saturating_add(password.encoded_len());
        }
        Ok(len)
    }

    fn first_byte(&self) -> u8 {
        0x10
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        put_prefixed(buf, version.protocol_name().as_bytes());
        buf.put_u8(version.level());
        let mut flags = u8::from(self.clean_start) << 1;
        if let Some(will) = &self.will {
            flags |= 0b100 | (will.qos.bits() << 3) | (u8::from(will.retain) << 5);
        }
        flags |= u8::from(self.password.is_some()) << 6;
        flags |= u8::from(self.username.is_some()) << 7;
        buf.put_u8(flags);
        buf.put_u16(self.keep_alive);
        if version.is_v5() {
            self.properties.write(buf, self.properties.content_len());
        }
        self.client_id.write(buf);
        if let Some(will) = &self.will {
            if version.is_v5() {
                will.properties.write(buf, will.properties.content_len());
            }
            put_prefixed(buf, will.topic.as_bytes());
            will.payload.write(buf);
        }
        if let Some(username) = &self.username {
            username.write(buf);
        }
        if let Some(password) = &self.password {
            password.write(buf);
        }
    }
}

/// Reads the Protocol Name and Level and returns the version they name.
///
/// A name other than `MQTT` or `MQIsdp` is refused (`[MQTT-3.1.2-1]`); so is a level this crate
/// does not speak, or one that does not go with the name (`[MQTT-3.1.2-2]`).
fn read_protocol<B: Buffer>(reader: &mut Reader<'_, B>) -> Result<ProtocolVersion, DecodeError> {
    let name = reader.prefixed("protocol name")?;
    let level = reader.u8("protocol level")?;
    let version = match name.as_ref() {
        b"MQTT" | b"MQIsdp" => ProtocolVersion::from_level(level)
            .ok_or(DecodeError::UnsupportedProtocolLevel { level })?,
        _ => return Err(DecodeError::UnknownProtocolName),
    };
    if name.as_ref() != version.protocol_name().as_bytes() {
        return Err(DecodeError::UnsupportedProtocolLevel { level });
    }
    Ok(version)
}

/// Checks the Client Identifier rules that depend only on the CONNECT itself.
///
/// MQTT 3.1 requires 1 to 23 characters. MQTT 3.1.1 allows an empty identifier only with Clean
/// Session, and a server must refuse it otherwise (`[MQTT-3.1.3-8]`). MQTT 5.0 allows it
/// either way.
fn check_client_id(version: ProtocolVersion, clean_start: bool, client_id: &str) -> Result<(), ()> {
    match version {
        ProtocolVersion::V3_1 => {
            let chars = client_id.chars().count();
            if chars == 0 || chars > MQTT31_MAX_CLIENT_ID_CHARS {
                Err(())
            } else {
                Ok(())
            }
        }
        ProtocolVersion::V3_1_1 if client_id.is_empty() && !clean_start => Err(()),
        ProtocolVersion::V3_1_1 => Ok(()),
        #[cfg(feature = "v5")]
        ProtocolVersion::V5 => Ok(()),
    }
}

impl<B: Buffer> Detach for Connect<B> {
    type Detached = Connect<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> Connect<Bytes> {
        Connect {
            protocol_version: self.protocol_version,
            clean_start: self.clean_start,
            keep_alive: self.keep_alive,
            client_id: self.client_id.detach_in(arena),
            will: self.will.detach_in(arena),
            username: self.username.detach_in(arena),
            password: self.password.detach_in(arena),
            properties: self.properties.detach_in(arena),
        }
    }
}

impl<B: Buffer> Detach for Will<B> {
    type Detached = Will<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> Will<Bytes> {
        Will {
            qos: self.qos,
            retain: self.retain,
            topic: self.topic.detach_in(arena),
            payload: self.payload.detach_in(arena),
            properties: self.properties.detach_in(arena),
        }
    }
}

detach_methods!(Connect, "the CONNECT");
detach_methods!(Will, "the Will");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_version_reads_name_and_level_only() {
        let v311 = b"\x10\x0c\x00\x04MQTT\x04\x00\x00\x3c\x00\x00";
        let v31 = b"\x10\x0e\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x00";
        let v5 = b"\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00";
        assert_eq!(Connect::peek_version(v311), Some(ProtocolVersion::V3_1_1));
        assert_eq!(Connect::peek_version(v31), Some(ProtocolVersion::V3_1));
        #[cfg(feature = "v5")]
        {
            assert_eq!(Connect::peek_version(v5), Some(ProtocolVersion::V5));
            // Enough for the name and level is enough, even if the rest has not arrived.
            assert_eq!(Connect::peek_version(&v5[..9]), Some(ProtocolVersion::V5));
        }
        #[cfg(not(feature = "v5"))]
        assert_eq!(Connect::peek_version(v5), None);
        assert_eq!(Connect::peek_version(&v5[..8]), None);
        // Not a CONNECT, an unknown level, a name that does not go with the level.
        assert_eq!(Connect::peek_version(b"\x30\x00"), None);
        assert_eq!(Connect::peek_version(b"\x10\x0c\x00\x04MQTT\x06\x00"), None);
        assert_eq!(Connect::peek_version(b"\x10\x0c\x00\x04MQTT\x03\x00"), None);
    }
}
