//! PUBLISH ([§3.3]): an Application Message on its way to a server or a subscriber.
//!
//! [§3.3]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901100

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach, detach_methods};
use crate::codec::buffer::Buffer;
use crate::codec::frame::FixedHeader;
use crate::codec::reader::Reader;
use crate::codec::string::put_prefixed;
use crate::error::{DecodeError, EncodeError};
use crate::packet::{EncodeBody, PacketType, encode_methods, not_in_version, read_packet_id};
use crate::property::PublishProperties;
use crate::topic::{TopicError, TopicName};
use crate::types::{PacketId, ProtocolVersion, QoS};

/// The QoS of a PUBLISH with what that QoS requires: a Packet Identifier and a DUP flag for
/// QoS 1 and 2, neither for QoS 0.
///
/// A QoS 0 message has no Packet Identifier (`[MQTT-2.3.1-5]` in 3.1.1, `[MQTT-2.2.1-2]` in
/// 5.0) and DUP 0 (`[MQTT-3.3.1-2]`), so neither can be set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// QoS 0.
    #[default]
    AtMostOnce,
    /// QoS 1.
    AtLeastOnce {
        /// The Packet Identifier the PUBACK echoes.
        packet_id: PacketId,
        /// Whether this is a re-delivery.
        dup: bool,
    },
    /// QoS 2.
    ExactlyOnce {
        /// The Packet Identifier the PUBREC, PUBREL and PUBCOMP echo.
        packet_id: PacketId,
        /// Whether this is a re-delivery.
        dup: bool,
    },
}

impl Delivery {
    /// The delivery for a QoS; `packet_id` is ignored for QoS 0.
    #[must_use]
    pub const fn new(qos: QoS, packet_id: PacketId) -> Self {
        match qos {
            QoS::AtMostOnce => Self::AtMostOnce,
            QoS::AtLeastOnce => Self::AtLeastOnce {
                packet_id,
                dup: false,
            },
            QoS::ExactlyOnce => Self::ExactlyOnce {
                packet_id,
                dup: false,
            },
        }
    }

    /// The QoS.
    #[must_use]
    pub const fn qos(self) -> QoS {
        match self {
            Self::AtMostOnce => QoS::AtMostOnce,
            Self::AtLeastOnce { .. } => QoS::AtLeastOnce,
            Self::ExactlyOnce { .. } => QoS::ExactlyOnce,
        }
    }

    /// The Packet Identifier, for QoS 1 and 2.
    #[must_use]
    pub const fn packet_id(self) -> Option<PacketId> {
        match self {
            Self::AtMostOnce => None,
            Self::AtLeastOnce { packet_id, .. } | Self::ExactlyOnce { packet_id, .. } => {
                Some(packet_id)
            }
        }
    }

    /// The DUP flag.
    #[must_use]
    pub const fn is_dup(self) -> bool {
        match self {
            Self::AtMostOnce => false,
            Self::AtLeastOnce { dup, .. } | Self::ExactlyOnce { dup, .. } => dup,
        }
    }

    /// The same delivery with DUP set to `dup` (no effect on QoS 0).
    #[must_use]
    pub const fn with_dup(self, dup: bool) -> Self {
        match self {
            Self::AtMostOnce => Self::AtMostOnce,
            Self::AtLeastOnce { packet_id, .. } => Self::AtLeastOnce { packet_id, dup },
            Self::ExactlyOnce { packet_id, .. } => Self::ExactlyOnce { packet_id, dup },
        }
    }
}

/// PUBLISH: an Application Message ([§3.3]).
///
/// Decoding borrows (or, with [`Bytes`], shares) the topic and the payload from the input;
/// encoding writes the payload once, so one decoded message can be encoded for many
/// subscribers, in any version, without copying it in between.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use mqtt_sansio::{Delivery, PacketId, ProtocolVersion, Publish, QoS, TopicName};
///
/// let mut publish = Publish::new(
///     TopicName::new("sensors/temp").unwrap(),
///     Bytes::from_static(b"21.5"),
/// );
/// publish.delivery = Delivery::new(QoS::AtLeastOnce, PacketId::new(1).unwrap());
/// let mut buf = BytesMut::new();
/// publish.encode(ProtocolVersion::V3_1_1, &mut buf)?;
/// assert_eq!(&buf[..], b"\x32\x14\x00\x0csensors/temp\x00\x0121.5");
/// # Ok::<(), mqtt_sansio::EncodeError>(())
/// ```
///
/// [§3.3]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901100
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish<B: Buffer = Bytes> {
    /// QoS, Packet Identifier and DUP.
    pub delivery: Delivery,
    /// The RETAIN flag.
    pub retain: bool,
    /// The Topic Name; `None` only in an MQTT 5.0 PUBLISH that names its topic by a Topic
    /// Alias alone (the wire then carries an empty topic, §3.3.2.1).
    pub topic: Option<TopicName<B>>,
    /// Properties (MQTT 5.0).
    pub properties: PublishProperties<B>,
    /// The Application Message.
    pub payload: B,
}

impl<B: Buffer> Publish<B> {
    /// A QoS 0, non-retained message.
    #[must_use]
    pub fn new(topic: TopicName<B>, payload: B) -> Self {
        Self {
            delivery: Delivery::AtMostOnce,
            retain: false,
            topic: Some(topic),
            properties: PublishProperties::new(),
            payload,
        }
    }

    /// The QoS.
    #[must_use]
    pub fn qos(&self) -> QoS {
        self.delivery.qos()
    }

    /// The Packet Identifier, for QoS 1 and 2.
    #[must_use]
    pub fn packet_id(&self) -> Option<PacketId> {
        self.delivery.packet_id()
    }

    /// The DUP flag.
    #[must_use]
    pub fn is_dup(&self) -> bool {
        self.delivery.is_dup()
    }

    encode_methods!(Publish);

    /// Decodes the variable header and payload.
    ///
    /// The Topic Name comes first and is a UTF-8 string (`[MQTT-3.3.2-1]`) without wildcards
    /// (`[MQTT-3.3.2-2]`); a 5.0 PUBLISH may leave it empty if it carries a Topic Alias.
    #[inline]
    pub(crate) fn decode_body(
        version: ProtocolVersion,
        header: &FixedHeader,
        reader: &mut Reader<'_, B>,
    ) -> Result<Self, DecodeError> {
        let flags = header.flags;
        let dup = flags & 0b1000 != 0;
        let retain = flags & 0b0001 != 0;
        let topic = reader.topic_name_str("topic name")?;
        let delivery = match (flags >> 1) & 0b11 {
            0 => Delivery::AtMostOnce,
            1 => Delivery::AtLeastOnce {
                packet_id: read_packet_id(reader, PacketType::Publish)?,
                dup,
            },
            _ => Delivery::ExactlyOnce {
                packet_id: read_packet_id(reader, PacketType::Publish)?,
                dup,
            },
        };
        let properties = if version.is_v5() {
            PublishProperties::decode(reader, "PUBLISH")?
        } else {
            PublishProperties::new()
        };
        let topic = if !topic.is_empty() {
            Some(TopicName::from_checked(topic))
        } else if version.is_v5() {
            // "It is a Protocol Error if the Topic Name is zero length and there is no Topic
            // Alias" (§3.3.4).
            if properties.topic_alias.is_none() {
                return Err(DecodeError::EmptyTopicWithoutAlias);
            }
            None
        } else {
            return Err(DecodeError::InvalidTopic {
                field: "topic name",
                error: TopicError::Empty,
            });
        };
        let payload = reader.take_rest("payload")?;
        Ok(Self {
            delivery,
            retain,
            topic,
            properties,
            payload,
        })
    }
}

impl<B: Buffer> EncodeBody for Publish<B> {
    fn remaining_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        let topic_len = match &self.topic {
            Some(topic) => topic.len(),
            None if version.is_v5() && self.properties.topic_alias.is_some() => 0,
            None => return Err(EncodeError::MissingTopic),
        };
        let mut len = topic_len
            .saturating_add(2)
            .saturating_add(self.payload.as_ref().len());
        if self.delivery.packet_id().is_some() {
            len = len.saturating_add(2);
        }
        if version.is_v5() {
            len = len.saturating_add(self.properties.encoded_len());
        } else if !self.properties.is_empty() {
            return Err(not_in_version("PUBLISH properties", version));
        }
        Ok(len)
    }

    fn first_byte(&self) -> u8 {
        0x30 | (u8::from(self.delivery.is_dup()) << 3)
            | (self.delivery.qos().bits() << 1)
            | u8::from(self.retain)
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        put_prefixed(
            buf,
            self.topic
                .as_ref()
                .map_or(&[][..], |topic| topic.as_bytes()),
        );
        if let Some(packet_id) = self.delivery.packet_id() {
            buf.put_u16(packet_id.get());
        }
        if version.is_v5() {
            self.properties.write(buf, self.properties.content_len());
        }
        buf.put_slice(self.payload.as_ref());
    }
}

impl<B: Buffer> Detach for Publish<B> {
    type Detached = Publish<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> Publish<Bytes> {
        Publish {
            delivery: self.delivery,
            retain: self.retain,
            topic: self.topic.detach_in(arena),
            properties: self.properties.detach_in(arena),
            payload: arena.bytes(self.payload.as_ref()),
        }
    }
}

detach_methods!(Publish, "the PUBLISH");
