//! SUBSCRIBE ([§3.8]): a client asks for messages matching one or more Topic Filters.
//!
//! [§3.8]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901161

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach, detach_methods};
use crate::codec::buffer::Buffer;
use crate::codec::list::WireList;
use crate::codec::list::sealed::WireItem;
use crate::codec::reader::Reader;
use crate::codec::string::put_prefixed;
use crate::error::{DecodeError, EncodeError};
use crate::packet::{EncodeBody, PacketType, encode_methods, not_in_version, read_packet_id};
use crate::property::SubscribeProperties;
use crate::topic::{TopicFilter, parse_shared};
use crate::types::{PacketId, ProtocolVersion, QoS};

/// When the server sends retained messages for a new subscription (MQTT 5.0, §3.8.3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RetainHandling {
    /// 0: send retained messages at the time of the subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// 1: send them only if the subscription did not exist before.
    SendAtSubscribeIfNew = 1,
    /// 2: do not send them.
    DoNotSend = 2,
}

/// The Subscription Options byte of one SUBSCRIBE entry ([§3.8.3.1]).
///
/// MQTT 3.1 and 3.1.1 carry only the QoS; the other options must keep their defaults there.
///
/// [§3.8.3.1]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901169
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SubscriptionOptions {
    /// The highest QoS the client accepts on this subscription.
    pub qos: QoS,
    /// Do not send the client its own messages (MQTT 5.0).
    pub no_local: bool,
    /// Keep the RETAIN flag of forwarded messages as published (MQTT 5.0).
    pub retain_as_published: bool,
    /// When to send retained messages (MQTT 5.0).
    pub retain_handling: RetainHandling,
}

impl SubscriptionOptions {
    /// Options with this QoS and every MQTT 5.0 option at its default.
    #[must_use]
    pub const fn new(qos: QoS) -> Self {
        Self {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendAtSubscribe,
        }
    }

    /// The options byte.
    #[must_use]
    pub const fn to_byte(self) -> u8 {
        self.qos.bits()
            | ((self.no_local as u8) << 2)
            | ((self.retain_as_published as u8) << 3)
            | ((self.retain_handling as u8) << 4)
    }

    /// Parses an options byte for `version`.
    ///
    /// In 3.1 and 3.1.1 bits 7-2 are reserved and QoS 3 is malformed (`[MQTT-3.8.3-4]`); in 5.0
    /// bits 7-6 are reserved (`[MQTT-3.8.3-5]`) and QoS 3 or Retain Handling 3 is a Protocol
    /// Error.
    pub fn from_byte(byte: u8, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let reserved = if version.is_v5() {
            0b1100_0000
        } else {
            0b1111_1100
        };
        if byte & reserved != 0 {
            return Err(DecodeError::InvalidSubscriptionOptions(byte));
        }
        let out_of_range = if version.is_v5() {
            DecodeError::SubscriptionOptionOutOfRange(byte)
        } else {
            DecodeError::InvalidSubscriptionOptions(byte)
        };
        let qos = QoS::from_bits(byte & 0b11).ok_or(out_of_range)?;
        let retain_handling = match (byte >> 4) & 0b11 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendAtSubscribeIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(out_of_range),
        };
        Ok(Self {
            qos,
            no_local: byte & 0b0100 != 0,
            retain_as_published: byte & 0b1000 != 0,
            retain_handling,
        })
    }

    /// Whether only the QoS differs from the defaults, as 3.1 and 3.1.1 require.
    fn is_qos_only(self) -> bool {
        !self.no_local
            && !self.retain_as_published
            && matches!(self.retain_handling, RetainHandling::SendAtSubscribe)
    }
}

/// One SUBSCRIBE entry: a Topic Filter and its options.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Subscription<B: Buffer = Bytes> {
    /// The Topic Filter.
    pub filter: TopicFilter<B>,
    /// The options.
    pub options: SubscriptionOptions,
}

impl<B: Buffer> Subscription<B> {
    /// An entry with this QoS and default MQTT 5.0 options.
    #[must_use]
    pub fn new(filter: TopicFilter<B>, qos: QoS) -> Self {
        Self {
            filter,
            options: SubscriptionOptions::new(qos),
        }
    }
}

impl<B: Buffer> WireItem<B> for Subscription<B> {
    fn read_next(reader: &mut Reader<'_, B>) -> Option<Self> {
        let filter = reader.str("topic filter").ok()?;
        let byte = reader.u8("subscription options").ok()?;
        // The entry was checked in its packet's version when the packet was decoded; the
        // newest version's rules accept every byte an older one does.
        let options = SubscriptionOptions::from_byte(byte, ProtocolVersion::LATEST).ok()?;
        Some(Self {
            filter: TopicFilter::from_checked(filter),
            options,
        })
    }

    #[inline]
    fn encoded_len(&self) -> usize {
        self.filter.len().saturating_add(3)
    }

    #[inline]
    fn write(&self, buf: &mut impl BufMut) {
        put_prefixed(buf, self.filter.as_bytes());
        buf.put_u8(self.options.to_byte());
    }
}

/// SUBSCRIBE: one or more subscriptions ([§3.8]); its fixed-header flags are `0010`.
///
/// ```
/// use mqtt_sansio::{PacketId, ProtocolVersion, QoS, Subscribe, Subscription, TopicFilter};
///
/// let subscribe = Subscribe::<&[u8]>::new(
///     PacketId::new(10).unwrap(),
///     [Subscription::new(TopicFilter::new("a/#").unwrap(), QoS::AtLeastOnce)],
/// );
/// let mut buf = Vec::new();
/// subscribe.encode(ProtocolVersion::V3_1_1, &mut buf).unwrap();
/// assert_eq!(buf, b"\x82\x08\x00\x0a\x00\x03a/#\x01");
/// ```
///
/// [§3.8]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901161
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribe<B: Buffer = Bytes> {
    /// The Packet Identifier the SUBACK echoes.
    pub packet_id: PacketId,
    /// The entries; at least one (`[MQTT-3.8.3-3]` in 3.1.1, `[MQTT-3.8.3-2]` in 5.0).
    pub subscriptions: WireList<B, Subscription<B>>,
    /// Properties (MQTT 5.0).
    pub properties: SubscribeProperties<B>,
}

impl<B: Buffer> Subscribe<B> {
    /// A SUBSCRIBE of these entries, without properties.
    #[must_use]
    pub fn new(
        packet_id: PacketId,
        subscriptions: impl IntoIterator<Item = Subscription<B>>,
    ) -> Self {
        Self {
            packet_id,
            subscriptions: subscriptions.into_iter().collect(),
            properties: SubscribeProperties::new(),
        }
    }

    encode_methods!(Subscribe);

    /// Decodes the variable header and payload, checking each Topic Filter (UTF-8,
    /// `[MQTT-3.8.3-1]`, and the section 4.7 rules) and each options byte.
    pub(crate) fn decode_body(
        version: ProtocolVersion,
        reader: &mut Reader<'_, B>,
    ) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(reader, PacketType::Subscribe)?;
        let mut properties = SubscribeProperties::new();
        if version.is_v5() {
            properties.decode_into(reader, "SUBSCRIBE")?;
        }
        let start = reader.position();
        let mut count: usize = 0;
        while !reader.is_empty() {
            let filter = reader.topic_filter_str("topic filter")?;
            let invalid = |error| DecodeError::InvalidTopic {
                field: "topic filter",
                error,
            };
            let options =
                SubscriptionOptions::from_byte(reader.u8("subscription options")?, version)?;
            if version.is_v5() {
                let shared = parse_shared(&filter).map_err(invalid)?;
                // 5.0 [MQTT-3.8.3-4]: No Local on a shared subscription is a Protocol Error.
                if shared.is_some() && options.no_local {
                    return Err(DecodeError::NoLocalOnSharedSubscription);
                }
            }
            count = count.saturating_add(1);
        }
        if count == 0 {
            return Err(DecodeError::EmptyPayload {
                packet: PacketType::Subscribe,
            });
        }
        let end = reader.position();
        let raw = reader
            .buffer()
            .slice_checked(start..end)
            .unwrap_or_default();
        let subscriptions = WireList::from_wire(raw, count, end.saturating_sub(start));
        Ok(Self {
            packet_id,
            subscriptions,
            properties,
        })
    }
}

impl<B: Buffer> EncodeBody for Subscribe<B> {
    fn remaining_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        if self.subscriptions.is_empty() {
            return Err(EncodeError::EmptyPayload {
                packet: PacketType::Subscribe,
            });
        }
        let subscriptions_len = self.subscriptions.checked_encoded_len(|subscription| {
            check_for_version(&subscription.filter, subscription.options.no_local, version)?;
            if !version.is_v5() && !subscription.options.is_qos_only() {
                return Err(not_in_version(
                    "No Local, Retain As Published or Retain Handling",
                    version,
                ));
            }
            Ok(())
        })?;
        let mut len = 2usize.saturating_add(subscriptions_len);
        if version.is_v5() {
            len = len.saturating_add(self.properties.encoded_len());
        } else if !self.properties.is_empty() {
            return Err(not_in_version("SUBSCRIBE properties", version));
        }
        Ok(len)
    }

    fn first_byte(&self) -> u8 {
        0x82
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        if version.is_v5() {
            self.properties.write(buf, self.properties.content_len());
        }
        self.subscriptions.write(buf);
    }
}

/// Applies the MQTT 5.0 shared-subscription rules to a filter that is about to be encoded in
/// a SUBSCRIBE (`no_local` given) or UNSUBSCRIBE; 3.1 and 3.1.1 have no such rules.
pub(crate) fn check_for_version<B: Buffer>(
    filter: &TopicFilter<B>,
    no_local: bool,
    version: ProtocolVersion,
) -> Result<(), EncodeError> {
    // Only a 5.0 filter starting with `$` can be a shared subscription.
    if !version.is_v5() || !filter.starts_with('$') {
        return Ok(());
    }
    let shared = parse_shared(filter).map_err(EncodeError::InvalidTopicFilter)?;
    if shared.is_some() && no_local {
        return Err(EncodeError::NoLocalOnSharedSubscription);
    }
    Ok(())
}

impl<B: Buffer> Detach for Subscribe<B> {
    type Detached = Subscribe<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> Subscribe<Bytes> {
        Subscribe {
            packet_id: self.packet_id,
            subscriptions: self.subscriptions.detach_in(arena),
            properties: self.properties.detach_in(arena),
        }
    }
}

detach_methods!(Subscribe, "the SUBSCRIBE");

impl<B: Buffer> Detach for Subscription<B> {
    type Detached = Subscription<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> Subscription<Bytes> {
        Subscription {
            filter: self.filter.detach_in(arena),
            options: self.options,
        }
    }
}
