//! [`Arbitrary`] for the packet types (feature `arbitrary`), for structure-aware fuzzing.
//!
//! # Only valid values
//!
//! Every value is built through the validated constructors ([`TopicName::new`],
//! [`MqttString::new`], [`PacketId::new`], ...), so it obeys every rule that a single packet
//! can break, and the cross-field rules too: Authentication Data only with an Authentication
//! Method, Session Present only on a successful CONNACK, No Local never on a shared
//! subscription, an MQTT 3.1 Client Identifier of 1 to 23 characters, a CONNECT carrying
//! properties only when it is for MQTT 5.0, and so on. If a constructor ever refused what this
//! module built, generation fails with [`arbitrary::Error::IncorrectFormat`] instead of
//! producing an invalid value.
//!
//! What a value does not promise is to be encodable in every version: a PUBACK with a reason
//! code, or any packet with properties, exists only in MQTT 5.0, and a packet with none of
//! those often fits all three. Each packet is encodable in at least one version; the
//! `roundtrip` fuzz target tries all three and checks the encoder's answer for each.
//!
//! # Only `Bytes` storage
//!
//! The impls are for the [`Bytes`]-backed types (`Packet<Bytes>` and its parts), not generic
//! over [`Buffer`](crate::Buffer): a `Packet<&'a [u8]>` is invariant in `'a`, so one generated
//! from the fuzzer's input could not be compared with one decoded from the encoder's output,
//! while two `Packet<Bytes>` compare directly. Generation copies the chosen bytes; that cost
//! is the fuzzer's, never the decoder's.
//!
//! Topic levels are drawn partly from a small vocabulary (`a`, `sport`, `$SYS`, empty, ...)
//! so that generated filters and names match each other often enough to exercise matching.

use alloc::string::String;
use alloc::vec::Vec;

use ::arbitrary::{Arbitrary, Error, Result, Unstructured};
use bytes::Bytes;

use crate::codec::{BinaryData, MAX_STRING_LEN, MqttString};
use crate::packet::{
    Auth, ConnAck, Connect, Delivery, Disconnect, Packet, PingReq, PingResp, PubAck, PubComp,
    PubRec, PubRel, Publish, RetainHandling, SubAck, Subscribe, Subscription, SubscriptionOptions,
    UnsubAck, Unsubscribe, Will,
};
use crate::property::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    MaximumQos, MessageProperties, PayloadFormat, PublishProperties, SubscribeProperties,
    SubscriptionId, UnsubscribeProperties, UserProperty, WillProperties,
};
use crate::reason::{
    AuthReasonCode, ConnectReasonCode, DisconnectReasonCode, PubAckReasonCode, PubRelReasonCode,
    ReasonCode, SubAckReasonCode, UnsubAckReasonCode,
};
use crate::topic::{TopicFilter, TopicName};
use crate::types::{PacketId, ProtocolVersion, QoS};

impl<'a> Arbitrary<'a> for Packet<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=14u8)? {
            0 => Self::Connect(u.arbitrary()?),
            1 => Self::ConnAck(u.arbitrary()?),
            2 => Self::Publish(u.arbitrary()?),
            3 => Self::PubAck(u.arbitrary()?),
            4 => Self::PubRec(u.arbitrary()?),
            5 => Self::PubRel(u.arbitrary()?),
            6 => Self::PubComp(u.arbitrary()?),
            7 => Self::Subscribe(u.arbitrary()?),
            8 => Self::SubAck(u.arbitrary()?),
            9 => Self::Unsubscribe(u.arbitrary()?),
            10 => Self::UnsubAck(u.arbitrary()?),
            11 => Self::PingReq(PingReq),
            12 => Self::PingResp(PingResp),
            13 => Self::Disconnect(u.arbitrary()?),
            _ => Self::Auth(u.arbitrary()?),
        })
    }
}

/// A CONNECT valid in its own `protocol_version`, the only version it encodes in.
impl<'a> Arbitrary<'a> for Connect<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let version: ProtocolVersion = u.arbitrary()?;
        let clean_start: bool = u.arbitrary()?;
        let mut client_id = text(u, &[], MAX_STRING_LEN)?;
        match version {
            // MQTT 3.1: 1 to 23 characters.
            ProtocolVersion::V3_1 => {
                client_id = client_id.chars().take(23).collect();
                if client_id.is_empty() {
                    client_id.push('c');
                }
            }
            // MQTT 3.1.1 [MQTT-3.1.3-8]: an empty identifier only with Clean Session.
            ProtocolVersion::V3_1_1 if !clean_start && client_id.is_empty() => client_id.push('c'),
            _ => {}
        }
        let mut connect = Self::new(version, string(client_id)?);
        connect.clean_start = clean_start;
        connect.keep_alive = u.arbitrary()?;
        connect.will = optional(u, |u| {
            let mut will: Will<Bytes> = u.arbitrary()?;
            if !version.is_v5() {
                will.properties = WillProperties::new();
            }
            Ok(will)
        })?;
        connect.username = u.arbitrary()?;
        connect.password = u.arbitrary()?;
        // 3.1 and 3.1.1 [MQTT-3.1.2-22]: no password without a user name.
        if connect.password.is_some() && connect.username.is_none() && !version.is_v5() {
            connect.username = Some(string("user".into())?);
        }
        if version.is_v5() {
            connect.properties = properties(u)?;
        }
        Ok(connect)
    }
}

impl<'a> Arbitrary<'a> for Will<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut will = Self::new(u.arbitrary()?, u.arbitrary()?);
        will.qos = u.arbitrary()?;
        will.retain = u.arbitrary()?;
        will.properties = properties(u)?;
        Ok(will)
    }
}

impl<'a> Arbitrary<'a> for ConnAck<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let reason_code = if u.arbitrary()? {
            ConnectReasonCode::Success
        } else {
            u.arbitrary()?
        };
        // 3.1.1 [MQTT-3.2.2-4], 5.0 [MQTT-3.2.2-6]: Session Present only on success.
        let session_present = reason_code == ConnectReasonCode::Success && u.arbitrary::<bool>()?;
        let mut connack = Self::new(session_present, reason_code);
        connack.properties = properties(u)?;
        Ok(connack)
    }
}

/// A PUBLISH; one without a Topic Name (a Topic Alias alone) exists only in MQTT 5.0.
impl<'a> Arbitrary<'a> for Publish<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let topic: TopicName<Bytes> = u.arbitrary()?;
        let payload = Bytes::copy_from_slice(u.arbitrary::<&[u8]>()?);
        let mut publish = Self::new(topic, payload);
        publish.delivery = u.arbitrary()?;
        publish.retain = u.arbitrary()?;
        publish.properties = properties(u)?;
        if publish.properties.topic_alias.is_some() && u.arbitrary()? {
            publish.topic = None;
        }
        Ok(publish)
    }
}

/// Generates the four acknowledgements, which share one layout.
macro_rules! arbitrary_ack {
    ($($packet:ident: $reason:ident),+) => {
        $(
            impl<'a> Arbitrary<'a> for $packet<Bytes> {
                fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
                    let mut ack = Self::new(u.arbitrary()?);
                    // Often Success, the only code MQTT 3.1 and 3.1.1 can carry.
                    if u.arbitrary()? {
                        ack.reason_code = u.arbitrary::<$reason>()?;
                    }
                    ack.properties = properties(u)?;
                    Ok(ack)
                }
            }
        )+
    };
}

arbitrary_ack!(
    PubAck: PubAckReasonCode,
    PubRec: PubAckReasonCode,
    PubRel: PubRelReasonCode,
    PubComp: PubRelReasonCode
);

impl<'a> Arbitrary<'a> for Subscribe<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut subscriptions: Vec<Subscription<Bytes>> = list(u, 1, 8, |u| u.arbitrary())?;
        let v5 = !subscriptions
            .iter()
            .any(|entry| shared_is_malformed(&entry.filter));
        if !v5 {
            // MQTT 5.0 refuses one of the filters, so keep the packet within 3.1.1: QoS-only
            // options and no properties.
            for entry in &mut subscriptions {
                entry.options = SubscriptionOptions::new(entry.options.qos);
            }
        }
        let mut subscribe = Self::new(u.arbitrary()?, subscriptions);
        if v5 {
            subscribe.properties = properties(u)?;
        }
        Ok(subscribe)
    }
}

impl<'a> Arbitrary<'a> for Subscription<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let filter: TopicFilter<Bytes> = u.arbitrary()?;
        let mut options: SubscriptionOptions = u.arbitrary()?;
        // 5.0 [MQTT-3.8.3-4]: No Local is not allowed on a shared subscription.
        if filter.shared().is_some() {
            options.no_local = false;
        }
        Ok(Self { filter, options })
    }
}

/// Options; often QoS alone, the only option MQTT 3.1 and 3.1.1 carry.
impl<'a> Arbitrary<'a> for SubscriptionOptions {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut options = Self::new(u.arbitrary()?);
        if u.arbitrary()? {
            options.no_local = u.arbitrary()?;
            options.retain_as_published = u.arbitrary()?;
            options.retain_handling = u.arbitrary()?;
        }
        Ok(options)
    }
}

impl<'a> Arbitrary<'a> for SubAck<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let reason_codes: Vec<_> = list(u, 1, 8, |u| u.arbitrary::<SubAckReasonCode>())?;
        let mut suback = Self::new(u.arbitrary()?, reason_codes);
        suback.properties = properties(u)?;
        Ok(suback)
    }
}

impl<'a> Arbitrary<'a> for Unsubscribe<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let filters: Vec<_> = list(u, 1, 8, |u| u.arbitrary::<TopicFilter<Bytes>>())?;
        let v5 = !filters.iter().any(shared_is_malformed);
        let mut unsubscribe = Self::new(u.arbitrary()?, filters);
        if v5 {
            unsubscribe.properties = properties(u)?;
        }
        Ok(unsubscribe)
    }
}

/// An UNSUBACK: without reason codes it is the MQTT 3.1 and 3.1.1 form, with at least one the
/// MQTT 5.0 form.
impl<'a> Arbitrary<'a> for UnsubAck<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let reason_codes: Vec<_> = list(u, 0, 8, |u| u.arbitrary::<UnsubAckReasonCode>())?;
        let v5 = !reason_codes.is_empty();
        let mut unsuback = Self::new(u.arbitrary()?, reason_codes);
        if v5 {
            unsuback.properties = properties(u)?;
        }
        Ok(unsuback)
    }
}

impl<'a> Arbitrary<'a> for Disconnect<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut disconnect = Self::default();
        if u.arbitrary()? {
            disconnect.reason_code = u.arbitrary()?;
        }
        disconnect.properties = properties(u)?;
        Ok(disconnect)
    }
}

/// An AUTH: anything beyond the bare Success form names its Authentication Method.
impl<'a> Arbitrary<'a> for Auth<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut auth = Self::new(u.arbitrary()?);
        auth.properties = properties(u)?;
        let short_form = auth.reason_code == AuthReasonCode::Success && auth.properties.is_empty();
        if !short_form && auth.properties.authentication_method.is_none() {
            auth.properties.authentication_method = Some(string("SCRAM-SHA-1".into())?);
        }
        Ok(auth)
    }
}

/// Generates property sets: every single-valued property is present or not, the repeatable
/// ones get zero to a few occurrences.
macro_rules! arbitrary_properties {
    ($($set:ident { $($field:ident),* } repeated { $($list:ident),* })+) => {
        $(
            impl<'a> Arbitrary<'a> for $set<Bytes> {
                fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
                    let mut set = Self::new();
                    $( set.$field = u.arbitrary()?; )*
                    $( set.$list = list(u, 0, 4, |u| u.arbitrary())?; )*
                    Ok(set)
                }
            }
        )+
    };
}

arbitrary_properties! {
    ConnAckProperties {
        session_expiry_interval, receive_maximum, maximum_qos, retain_available,
        maximum_packet_size, assigned_client_identifier, topic_alias_maximum, reason_string,
        wildcard_subscription_available, subscription_identifiers_available,
        shared_subscription_available, server_keep_alive, response_information,
        server_reference, authentication_method, authentication_data
    } repeated { user_properties }
    WillProperties {
        will_delay_interval, message_expiry_interval, message
    } repeated {}
    PublishProperties {
        message_expiry_interval, topic_alias, message
    } repeated { subscription_identifiers }
    AckProperties { reason_string } repeated { user_properties }
    SubscribeProperties { subscription_identifier } repeated { user_properties }
    UnsubscribeProperties {} repeated { user_properties }
    DisconnectProperties {
        session_expiry_interval, reason_string, server_reference
    } repeated { user_properties }
    AuthProperties {
        authentication_method, authentication_data, reason_string
    } repeated { user_properties }
}

/// Message properties: each single-valued one present or not, zero to a few User Properties,
/// in an order of the generator's choosing.
impl<'a> Arbitrary<'a> for MessageProperties<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let format: Option<PayloadFormat> = u.arbitrary()?;
        let content_type: Option<MqttString<Bytes>> = u.arbitrary()?;
        let response_topic: Option<TopicName<Bytes>> = u.arbitrary()?;
        let correlation_data: Option<BinaryData<Bytes>> = u.arbitrary()?;
        let users: Vec<UserProperty<Bytes>> = list(u, 0, 4, |u| u.arbitrary())?;
        let user_first: bool = u.arbitrary()?;
        let mut builder = Self::builder();
        if user_first {
            for user in &users {
                builder = builder.user_property(&user.name, &user.value);
            }
        }
        if let Some(format) = format {
            builder = builder.payload_format(format);
        }
        if let Some(content_type) = &content_type {
            builder = builder.content_type(content_type);
        }
        if let Some(topic) = &response_topic {
            builder = builder.response_topic(topic);
        }
        if let Some(data) = &correlation_data {
            builder = builder.correlation_data(data.as_bytes());
        }
        if !user_first {
            for user in &users {
                builder = builder.user_property(&user.name, &user.value);
            }
        }
        builder.build().map_err(|_| Error::IncorrectFormat)
    }
}

/// CONNECT properties; Authentication Data only with an Authentication Method
/// (§3.1.2.11.10).
impl<'a> Arbitrary<'a> for ConnectProperties<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut set = Self::new();
        set.session_expiry_interval = u.arbitrary()?;
        set.receive_maximum = u.arbitrary()?;
        set.maximum_packet_size = u.arbitrary()?;
        set.topic_alias_maximum = u.arbitrary()?;
        set.request_response_information = u.arbitrary()?;
        set.request_problem_information = u.arbitrary()?;
        set.authentication_method = u.arbitrary()?;
        set.authentication_data = u.arbitrary()?;
        set.user_properties = list(u, 0, 4, |u| u.arbitrary())?;
        if set.authentication_method.is_none() {
            set.authentication_data = None;
        }
        Ok(set)
    }
}

impl<'a> Arbitrary<'a> for UserProperty<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Self::new(u.arbitrary()?, u.arbitrary()?))
    }
}

/// Well-formed UTF-8 without U+0000, at most 65,535 bytes.
impl<'a> Arbitrary<'a> for MqttString<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        string(text(u, &[], MAX_STRING_LEN)?)
    }
}

/// At most 65,535 bytes.
impl<'a> Arbitrary<'a> for BinaryData<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let raw: &[u8] = u.arbitrary()?;
        let raw = raw.get(..MAX_STRING_LEN).unwrap_or(raw);
        Self::new(Bytes::copy_from_slice(raw)).map_err(|_| Error::IncorrectFormat)
    }
}

/// One to eight levels, none holding `+`, `#` or U+0000; never empty.
impl<'a> Arbitrary<'a> for TopicName<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let levels: Vec<String> = list(u, 1, 8, level)?;
        let mut name = levels.join("/");
        if name.is_empty() {
            name.push('a');
        }
        Self::new(name).map_err(|_| Error::IncorrectFormat)
    }
}

/// One to eight levels, each a `+` or a level without wildcards, optionally ending in `#`;
/// sometimes a shared subscription (`$share/{ShareName}/{filter}`).
impl<'a> Arbitrary<'a> for TopicFilter<Bytes> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut levels: Vec<String> = list(u, 1, 8, |u| {
            if u.ratio(1, 4)? {
                Ok(String::from("+"))
            } else {
                level(u)
            }
        })?;
        if u.ratio(1, 4)? {
            levels.push(String::from("#"));
        }
        let mut filter = levels.join("/");
        if filter.is_empty() {
            filter.push('#');
        }
        if u.ratio(1, 8)? {
            let mut share_name = text(u, &['/', '+', '#'], 16)?;
            if share_name.is_empty() {
                share_name.push('g');
            }
            filter = alloc::format!("$share/{share_name}/{filter}");
        }
        Self::new(filter).map_err(|_| Error::IncorrectFormat)
    }
}

impl<'a> Arbitrary<'a> for Delivery {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let delivery = Self::new(u.arbitrary()?, u.arbitrary()?);
        Ok(delivery.with_dup(u.arbitrary()?))
    }
}

impl<'a> Arbitrary<'a> for PacketId {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Self::new(u.int_in_range(1..=u16::MAX)?).ok_or(Error::IncorrectFormat)
    }
}

impl<'a> Arbitrary<'a> for SubscriptionId {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Self::new(u.int_in_range(1..=crate::codec::MAX_VAR_INT)?).ok_or(Error::IncorrectFormat)
    }
}

/// Implements [`Arbitrary`] for enums by choosing one of a list of values.
macro_rules! arbitrary_choice {
    ($($ty:ty => $all:expr),+ $(,)?) => {
        $(
            impl<'a> Arbitrary<'a> for $ty {
                fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
                    u.choose($all).copied()
                }
            }
        )+
    };
}

arbitrary_choice!(
    ProtocolVersion => ProtocolVersion::ALL,
    QoS => &[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce],
    RetainHandling => &[
        RetainHandling::SendAtSubscribe,
        RetainHandling::SendAtSubscribeIfNew,
        RetainHandling::DoNotSend,
    ],
    PayloadFormat => &[PayloadFormat::Unspecified, PayloadFormat::Utf8],
    MaximumQos => &[MaximumQos::AtMostOnce, MaximumQos::AtLeastOnce],
    ReasonCode => ReasonCode::ALL,
    ConnectReasonCode => ConnectReasonCode::ALL,
    PubAckReasonCode => PubAckReasonCode::ALL,
    PubRelReasonCode => PubRelReasonCode::ALL,
    SubAckReasonCode => SubAckReasonCode::ALL,
    UnsubAckReasonCode => UnsubAckReasonCode::ALL,
    DisconnectReasonCode => DisconnectReasonCode::ALL,
    AuthReasonCode => AuthReasonCode::ALL,
);

/// A property set, empty half of the time so that packets often fit MQTT 3.1 and 3.1.1 too.
fn properties<'a, T: Arbitrary<'a> + Default>(u: &mut Unstructured<'a>) -> Result<T> {
    if u.arbitrary()? {
        u.arbitrary()
    } else {
        Ok(T::default())
    }
}

/// Whether `filter` starts with `$share/` without being a well-formed shared subscription:
/// a valid Topic Filter in MQTT 3.1 and 3.1.1 (where `$share` is an ordinary level), refused
/// by MQTT 5.0 (`[MQTT-4.8.2-1]`, `[MQTT-4.8.2-2]`).
fn shared_is_malformed(filter: &TopicFilter<Bytes>) -> bool {
    crate::topic::parse_shared(filter).is_err()
}

/// `Some` of a generated value, or `None`.
fn optional<'a, T>(
    u: &mut Unstructured<'a>,
    generate: impl FnOnce(&mut Unstructured<'a>) -> Result<T>,
) -> Result<Option<T>> {
    if u.arbitrary()? {
        generate(u).map(Some)
    } else {
        Ok(None)
    }
}

/// `min` to `max` generated items, as a [`WireList`](crate::WireList) or anything else a `Vec` converts into.
fn list<'a, T, L: From<Vec<T>>>(
    u: &mut Unstructured<'a>,
    min: usize,
    max: usize,
    mut item: impl FnMut(&mut Unstructured<'a>) -> Result<T>,
) -> Result<L> {
    let count = u.int_in_range(min..=max)?;
    let items = (0..count).map(|_| item(u)).collect::<Result<Vec<T>>>()?;
    Ok(L::from(items))
}

/// One topic level without `/`, `+`, `#` or U+0000: half of the time from a small vocabulary
/// (so that names and filters share levels), otherwise arbitrary text.
fn level(u: &mut Unstructured<'_>) -> Result<String> {
    const VOCABULARY: &[&str] = &["", "a", "b", "sport", "tennis", "$SYS", "$share", "é"];
    if u.arbitrary()? {
        u.choose(VOCABULARY).map(|&level| String::from(level))
    } else {
        text(u, &['/', '+', '#'], 32)
    }
}

/// Arbitrary text of at most `max_bytes` bytes, without U+0000 or any of `forbidden`.
fn text(u: &mut Unstructured<'_>, forbidden: &[char], max_bytes: usize) -> Result<String> {
    let raw: &str = u.arbitrary()?;
    let mut out = String::new();
    for c in raw.chars().filter(|c| *c != '\0' && !forbidden.contains(c)) {
        if out.len().saturating_add(c.len_utf8()) > max_bytes {
            break;
        }
        out.push(c);
    }
    Ok(out)
}

/// An [`MqttString`] of text already free of U+0000 and short enough.
fn string(value: String) -> Result<MqttString<Bytes>> {
    MqttString::new(value).map_err(|_| Error::IncorrectFormat)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte string either fails to generate or generates a packet that some version
    /// encodes: a cheap, always-run check of the fuzz target's assumption.
    #[test]
    fn generated_packets_encode_in_some_version() {
        let mut seed: u32 = 1;
        let mut generated = 0;
        for round in 0..2_000usize {
            let data: Vec<u8> = (0..(round % 300))
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed.to_le_bytes()[0]
                })
                .collect();
            let Ok(packet) = Packet::<Bytes>::arbitrary(&mut Unstructured::new(&data)) else {
                continue;
            };
            generated += 1;
            let encodable = ProtocolVersion::ALL
                .iter()
                .any(|&version| packet.encoded_len(version).is_ok());
            assert!(encodable, "{packet:?} encodes in no version");
        }
        // Generation fails only when a NonZero field draws 0, which is rare.
        assert!(
            generated > 1_900,
            "only {generated} of 2000 inputs generated a packet"
        );
    }
}
