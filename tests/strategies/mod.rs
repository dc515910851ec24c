//! proptest strategies for every packet type of every protocol version, and helpers that compare
//! packets decoded along the borrowed (`&[u8]`) and the owned (`Bytes`) paths.
//!
//! Each packet strategy takes the version the packet is for and generates only what that
//! version can carry: AUTH, properties, reason codes and the other 5.0 fields only for 5.0, a
//! Client Identifier of 1 to 23 characters for 3.1, SUBACK codes 0 to 2 and no Session Present
//! for 3.1, and so on. Strings mix ASCII with multi-byte characters and U+FEFF, are sometimes
//! empty (where the field allows it) and now and then close to or at the 65,535-byte limit;
//! property sets sometimes carry dozens of User Properties and several Subscription
//! Identifiers; payloads sometimes cross the sizes where the Remaining Length grows a byte.

#![allow(dead_code)]

use core::num::{NonZeroU16, NonZeroU32};
use core::ops::Range;

use bytes::Bytes;
use bytestring::ByteString;
use mqtt_sansio::{
    AckProperties, Auth, AuthProperties, AuthReasonCode, BinaryData, Buffer, ConnAck,
    ConnAckProperties, Connect, ConnectProperties, ConnectReasonCode, Delivery, Disconnect,
    DisconnectProperties, DisconnectReasonCode, EncodeError, MaximumQos, MessageProperties,
    MessagePropertiesBuilder, MqttString, Packet, PacketId, PayloadFormat, PingReq, PingResp,
    ProtocolVersion, PubAck, PubAckReasonCode, PubComp, PubRec, PubRel, PubRelReasonCode, Publish,
    PublishProperties, QoS, RetainHandling, SubAck, SubAckReasonCode, Subscribe,
    SubscribeProperties, Subscription, SubscriptionId, SubscriptionOptions, TopicFilter, TopicName,
    UnsubAck, UnsubAckReasonCode, Unsubscribe, UnsubscribeProperties, UserProperty, Will,
    WillProperties, WireList,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;

/// The longest string or binary field: its length prefix is 16 bits.
pub(crate) const MAX_STRING_LEN: usize = 65_535;

/// The largest Variable Byte Integer, and so the largest Subscription Identifier.
pub(crate) const MAX_VAR_INT: u32 = 268_435_455;

/// How likely an optional property is to be present.
const PRESENT: f64 = 0.35;

// ---------------------------------------------------------------------------------------------
// Versions and packet types
// ---------------------------------------------------------------------------------------------

/// Any of the three protocol versions.
pub(crate) fn version() -> BoxedStrategy<ProtocolVersion> {
    select(ProtocolVersion::ALL.to_vec()).boxed()
}

/// MQTT 3.1 or 3.1.1.
pub(crate) fn legacy_version() -> BoxedStrategy<ProtocolVersion> {
    select(vec![ProtocolVersion::V3_1, ProtocolVersion::V3_1_1]).boxed()
}

/// A version drawn from `versions`, paired with a value `strategy` generates for it.
pub(crate) fn for_versions<T: core::fmt::Debug + 'static>(
    versions: &[ProtocolVersion],
    strategy: fn(ProtocolVersion) -> BoxedStrategy<T>,
) -> BoxedStrategy<(ProtocolVersion, T)> {
    select(versions.to_vec())
        .prop_flat_map(move |version| (Just(version), strategy(version)))
        .boxed()
}

/// Any packet valid in `version`, every type the version has equally likely.
pub(crate) fn packet(version: ProtocolVersion) -> BoxedStrategy<Packet<Bytes>> {
    let mut types: Vec<BoxedStrategy<Packet<Bytes>>> = vec![
        connect(version).prop_map(Packet::from).boxed(),
        connack(version).prop_map(Packet::from).boxed(),
        publish(version).prop_map(Packet::Publish).boxed(),
        puback(version).prop_map(Packet::PubAck).boxed(),
        pubrec(version).prop_map(Packet::PubRec).boxed(),
        pubrel(version).prop_map(Packet::PubRel).boxed(),
        pubcomp(version).prop_map(Packet::PubComp).boxed(),
        subscribe(version).prop_map(Packet::Subscribe).boxed(),
        suback(version).prop_map(Packet::SubAck).boxed(),
        unsubscribe(version).prop_map(Packet::Unsubscribe).boxed(),
        unsuback(version).prop_map(Packet::UnsubAck).boxed(),
        Just(Packet::PingReq(PingReq)).boxed(),
        Just(Packet::PingResp(PingResp)).boxed(),
        disconnect(version).prop_map(Packet::Disconnect).boxed(),
    ];
    if version.is_v5() {
        types.push(auth(version).prop_map(Packet::Auth).boxed());
    }
    Union::new(types).boxed()
}

// ---------------------------------------------------------------------------------------------
// Strings, binary data and payloads
// ---------------------------------------------------------------------------------------------

/// A character of string content: mostly ASCII, often a multi-byte character or U+FEFF,
/// sometimes any Unicode scalar value (U+0000 is replaced later).
fn text_char() -> BoxedStrategy<char> {
    prop_oneof![
        8 => proptest::char::range('a', 'z'),
        2 => select(vec!['/', ' ', '$', '-', '.', 'A', 'Z', '0', '9']),
        3 => select(vec![
            '\u{FEFF}', 'é', '€', 'ß', '\u{80}', '\u{7FF}', '\u{800}', '\u{FFFD}', '\u{FFFF}',
            '\u{10000}', '\u{2A6D4}', '😀', '\u{10FFFF}', '\u{7F}', '\u{1}',
        ]),
        1 => any::<char>(),
    ]
    .boxed()
}

/// A string of `chars` characters; U+0000 and every character of `excluded` become `x`.
pub(crate) fn text(chars: Range<usize>, excluded: &'static [char]) -> BoxedStrategy<String> {
    vec(text_char(), chars)
        .prop_map(move |chars| {
            chars
                .into_iter()
                .map(|c| {
                    if c == '\0' || excluded.contains(&c) {
                        'x'
                    } else {
                        c
                    }
                })
                .collect()
        })
        .boxed()
}

/// Repeats `unit` and pads with ASCII to exactly `target` bytes.
fn fill(unit: &str, target: usize) -> String {
    let mut text = String::with_capacity(target);
    while text.len() + unit.len() <= target {
        text.push_str(unit);
    }
    while text.len() < target {
        text.push('z');
    }
    text
}

/// A string of 65,000 to 65,535 bytes (often exactly 65,535) made of a short repeated unit.
pub(crate) fn long_text(excluded: &'static [char]) -> BoxedStrategy<String> {
    (
        text(1..4, excluded),
        prop_oneof![
            Just(MAX_STRING_LEN),
            (MAX_STRING_LEN - 535)..=MAX_STRING_LEN
        ],
    )
        .prop_map(|(unit, target)| fill(&unit, target))
        .boxed()
}

/// The content of any UTF-8 Encoded String: empty, short, framed by U+FEFF, or very long.
pub(crate) fn string() -> BoxedStrategy<String> {
    prop_oneof![
        2 => Just(String::new()),
        16 => text(1..12, &[]),
        2 => text(0..6, &[]).prop_map(|text| format!("\u{FEFF}{text}\u{FEFF}")),
        1 => long_text(&[]),
    ]
    .boxed()
}

/// A UTF-8 Encoded String.
pub(crate) fn mqtt_string() -> BoxedStrategy<MqttString<Bytes>> {
    string().prop_map(|text| owned_string(&text)).boxed()
}

/// Binary Data: short, empty, or close to 65,535 bytes.
pub(crate) fn binary() -> BoxedStrategy<BinaryData<Bytes>> {
    prop_oneof![
        10 => vec(any::<u8>(), 0..24),
        1 => (any::<u8>(), (MAX_STRING_LEN - 300)..=MAX_STRING_LEN)
            .prop_map(|(byte, len)| vec![byte; len]),
    ]
    .prop_map(|data| BinaryData::new(Bytes::from(data)).expect("at most 65,535 bytes"))
    .boxed()
}

/// A PUBLISH payload: usually short, sometimes sized so that the Remaining Length needs two,
/// three or four bytes.
pub(crate) fn payload() -> BoxedStrategy<Bytes> {
    prop_oneof![
        24 => vec(any::<u8>(), 0..48),
        3 => (any::<u8>(), 100usize..140).prop_map(|(byte, len)| vec![byte; len]),
        2 => (any::<u8>(), 16_360usize..16_400).prop_map(|(byte, len)| vec![byte; len]),
        1 => (any::<u8>(), 2_097_130usize..2_097_160).prop_map(|(byte, len)| vec![byte; len]),
    ]
    .prop_map(Bytes::from)
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// Topics
// ---------------------------------------------------------------------------------------------

/// One level of a Topic Name: empty, short text without `/`, `+`, `#`, or a familiar word.
fn name_level() -> BoxedStrategy<String> {
    prop_oneof![
        2 => Just(String::new()),
        6 => text(1..6, &['/', '+', '#']),
        1 => select(vec!["$SYS", "$share", "sport", "tennis"]).prop_map(String::from),
    ]
    .boxed()
}

/// The text of a valid Topic Name; now and then close to 65,535 bytes.
pub(crate) fn topic_name_string() -> BoxedStrategy<String> {
    prop_oneof![
        12 => vec(name_level(), 1..5).prop_map(|levels| {
            let name = levels.join("/");
            if name.is_empty() { "/".to_owned() } else { name }
        }),
        1 => long_text(&['+', '#']),
    ]
    .boxed()
}

/// A valid Topic Name.
pub(crate) fn topic_name() -> BoxedStrategy<TopicName<Bytes>> {
    topic_name_string()
        .prop_map(|name| TopicName::new(ByteString::from(name)).expect("valid topic name"))
        .boxed()
}

/// A valid Topic Filter that is not a shared subscription, built level by level: `+` fills
/// whole levels, `#` only ends the filter. For 5.0 it never starts with `$share/`.
fn plain_filter_string(version: ProtocolVersion) -> BoxedStrategy<String> {
    let level = prop_oneof![6 => name_level(), 2 => Just("+".to_owned())];
    prop_oneof![
        12 => (vec(level, 1..5), any::<bool>()).prop_map(|(mut levels, multi_level)| {
            if multi_level {
                levels.push("#".to_owned());
            }
            let filter = levels.join("/");
            if filter.is_empty() { "#".to_owned() } else { filter }
        }),
        1 => long_text(&['+', '#']),
        1 => long_text(&['+', '#']).prop_map(|mut filter| {
            let mut end = MAX_STRING_LEN - 2;
            while !filter.is_char_boundary(end) {
                end -= 1;
            }
            filter.truncate(end);
            filter.push_str("/#");
            filter
        }),
    ]
    .prop_map(move |filter| {
        if version.is_v5() && filter.starts_with("$share/") {
            format!("a{filter}")
        } else {
            filter
        }
    })
    .boxed()
}

/// A well-formed shared subscription filter, `$share/{ShareName}/{filter}`.
pub(crate) fn shared_filter_string() -> BoxedStrategy<String> {
    let short_filter = plain_filter_string(ProtocolVersion::LATEST)
        .prop_filter("short", |filter| filter.len() < 1_000);
    (text(1..6, &['/', '+', '#']), short_filter)
        .prop_map(|(share_name, filter)| format!("$share/{share_name}/{filter}"))
        .boxed()
}

/// The text of a Topic Filter valid in `version`. For 3.1 and 3.1.1, where `$share/` has no
/// meaning, that includes filters such as `$share/+/a` that 5.0 refuses.
pub(crate) fn topic_filter_string(version: ProtocolVersion) -> BoxedStrategy<String> {
    prop_oneof![
        8 => plain_filter_string(version),
        2 => shared_filter_string(),
    ]
    .boxed()
}

/// A Topic Filter valid in `version`.
pub(crate) fn topic_filter(version: ProtocolVersion) -> BoxedStrategy<TopicFilter<Bytes>> {
    topic_filter_string(version)
        .prop_map(|filter| TopicFilter::new(ByteString::from(filter)).expect("valid filter"))
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Small values
// ---------------------------------------------------------------------------------------------

/// Any Packet Identifier, the extremes often.
pub(crate) fn packet_id() -> BoxedStrategy<PacketId> {
    prop_oneof![1 => Just(1u16), 1 => Just(u16::MAX), 6 => 1..=u16::MAX]
        .prop_map(|id| PacketId::new(id).expect("non-zero"))
        .boxed()
}

/// Any QoS.
pub(crate) fn qos() -> BoxedStrategy<QoS> {
    select(vec![QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]).boxed()
}

/// A Subscription Identifier, often at the edges of the Variable Byte Integer sizes.
pub(crate) fn subscription_id() -> BoxedStrategy<SubscriptionId> {
    prop_oneof![
        select(vec![
            1,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            MAX_VAR_INT
        ]),
        1..=MAX_VAR_INT,
    ]
    .prop_map(|id| SubscriptionId::new(id).expect("in range"))
    .boxed()
}

/// Any u32, the extremes often.
fn interval() -> BoxedStrategy<u32> {
    prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()].boxed()
}

/// Any u16, the extremes often.
fn two_bytes() -> BoxedStrategy<u16> {
    prop_oneof![Just(0u16), Just(u16::MAX), any::<u16>()].boxed()
}

fn non_zero_u16() -> BoxedStrategy<NonZeroU16> {
    prop_oneof![Just(1u16), Just(u16::MAX), 1..=u16::MAX]
        .prop_map(|value| NonZeroU16::new(value).expect("non-zero"))
        .boxed()
}

fn non_zero_u32() -> BoxedStrategy<NonZeroU32> {
    prop_oneof![Just(1u32), Just(u32::MAX), 1..=u32::MAX]
        .prop_map(|value| NonZeroU32::new(value).expect("non-zero"))
        .boxed()
}

fn payload_format() -> BoxedStrategy<PayloadFormat> {
    select(vec![PayloadFormat::Unspecified, PayloadFormat::Utf8]).boxed()
}

fn maximum_qos() -> BoxedStrategy<MaximumQos> {
    select(vec![MaximumQos::AtMostOnce, MaximumQos::AtLeastOnce]).boxed()
}

/// An optional property.
fn opt<T: core::fmt::Debug>(
    strategy: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    option::weighted(PRESENT, strategy)
}

// ---------------------------------------------------------------------------------------------
// Properties (MQTT 5.0; empty sets for 3.1 and 3.1.1)
// ---------------------------------------------------------------------------------------------

/// `strategy` for 5.0, the empty set otherwise.
fn v5_only<T: Default + Clone + core::fmt::Debug + 'static>(
    version: ProtocolVersion,
    strategy: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    if version.is_v5() {
        strategy.boxed()
    } else {
        Just(T::default()).boxed()
    }
}

/// One User Property.
pub(crate) fn user_property() -> BoxedStrategy<UserProperty<Bytes>> {
    (mqtt_string(), mqtt_string())
        .prop_map(|(name, value)| UserProperty::new(name, value))
        .boxed()
}

/// User Properties: none, a few, or many (names may repeat).
pub(crate) fn user_properties() -> BoxedStrategy<WireList<Bytes, UserProperty<Bytes>>> {
    prop_oneof![
        3 => Just(Vec::new()),
        3 => vec(user_property(), 1..4),
        1 => vec(user_property(), 16..48),
    ]
    .prop_map(WireList::from)
    .boxed()
}

/// Subscription Identifiers of a PUBLISH: none or several.
pub(crate) fn subscription_ids() -> BoxedStrategy<WireList<Bytes, SubscriptionId>> {
    prop_oneof![3 => Just(Vec::new()), 2 => vec(subscription_id(), 1..6)]
        .prop_map(WireList::from)
        .boxed()
}

/// An optional Authentication Method and optional Authentication Data.
type Authentication = (Option<MqttString<Bytes>>, Option<BinaryData<Bytes>>);

/// An Authentication Method and, only with one, Authentication Data (§3.1.2.11.10).
fn authentication() -> BoxedStrategy<Authentication> {
    (opt(mqtt_string()), opt(binary()))
        .prop_map(|(method, data)| {
            let data = if method.is_some() { data } else { None };
            (method, data)
        })
        .boxed()
}

pub(crate) fn connect_properties(version: ProtocolVersion) -> BoxedStrategy<ConnectProperties> {
    let strategy = (
        opt(interval()),
        opt(non_zero_u16()),
        opt(non_zero_u32()),
        opt(two_bytes()),
        opt(any::<bool>()),
        opt(any::<bool>()),
        authentication(),
        user_properties(),
    )
        .prop_map(
            |(
                session_expiry_interval,
                receive_maximum,
                maximum_packet_size,
                topic_alias_maximum,
                request_response_information,
                request_problem_information,
                (authentication_method, authentication_data),
                user_properties,
            )| ConnectProperties {
                session_expiry_interval,
                receive_maximum,
                maximum_packet_size,
                topic_alias_maximum,
                request_response_information,
                request_problem_information,
                authentication_method,
                authentication_data,
                user_properties,
            },
        );
    v5_only(version, strategy)
}

pub(crate) fn will_properties(version: ProtocolVersion) -> BoxedStrategy<WillProperties> {
    let strategy = (opt(interval()), opt(interval()), message_properties()).prop_map(
        |(will_delay_interval, message_expiry_interval, message)| WillProperties {
            will_delay_interval,
            message_expiry_interval,
            message,
        },
    );
    v5_only(version, strategy)
}

/// The forwarded properties of a message: each single-valued one present or not, User
/// Properties before or after them.
pub(crate) fn message_properties() -> BoxedStrategy<MessageProperties> {
    (
        opt(payload_format()),
        opt(mqtt_string()),
        opt(topic_name()),
        opt(binary()),
        user_properties(),
        any::<bool>(),
    )
        .prop_map(
            |(format, content_type, response_topic, correlation_data, users, users_first)| {
                let users: Vec<UserProperty<Bytes>> = users.iter().collect();
                let mut builder = MessageProperties::builder();
                if users_first {
                    builder = add_users(builder, &users);
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
                if !users_first {
                    builder = add_users(builder, &users);
                }
                builder.build().expect("valid values")
            },
        )
        .boxed()
}

fn add_users<'a>(
    mut builder: MessagePropertiesBuilder<'a>,
    users: &'a [UserProperty<Bytes>],
) -> MessagePropertiesBuilder<'a> {
    for user in users {
        builder = builder.user_property(&user.name, &user.value);
    }
    builder
}

pub(crate) fn connack_properties(version: ProtocolVersion) -> BoxedStrategy<ConnAckProperties> {
    let limits = (
        opt(interval()),
        opt(non_zero_u16()),
        opt(maximum_qos()),
        opt(any::<bool>()),
        opt(non_zero_u32()),
        opt(two_bytes()),
        opt(any::<bool>()),
        opt(any::<bool>()),
        opt(any::<bool>()),
        opt(two_bytes()),
    );
    let texts = (
        opt(mqtt_string()),
        opt(mqtt_string()),
        opt(mqtt_string()),
        opt(mqtt_string()),
        authentication(),
        user_properties(),
    );
    let strategy = (limits, texts).prop_map(
        |(
            (
                session_expiry_interval,
                receive_maximum,
                maximum_qos,
                retain_available,
                maximum_packet_size,
                topic_alias_maximum,
                wildcard_subscription_available,
                subscription_identifiers_available,
                shared_subscription_available,
                server_keep_alive,
            ),
            (
                assigned_client_identifier,
                reason_string,
                response_information,
                server_reference,
                (authentication_method, authentication_data),
                user_properties,
            ),
        )| ConnAckProperties {
            session_expiry_interval,
            receive_maximum,
            maximum_qos,
            retain_available,
            maximum_packet_size,
            assigned_client_identifier,
            topic_alias_maximum,
            reason_string,
            wildcard_subscription_available,
            subscription_identifiers_available,
            shared_subscription_available,
            server_keep_alive,
            response_information,
            server_reference,
            authentication_method,
            authentication_data,
            user_properties,
        },
    );
    v5_only(version, strategy)
}

pub(crate) fn publish_properties(version: ProtocolVersion) -> BoxedStrategy<PublishProperties> {
    let strategy = (
        opt(interval()),
        opt(non_zero_u16()),
        subscription_ids(),
        message_properties(),
    )
        .prop_map(
            |(message_expiry_interval, topic_alias, subscription_identifiers, message)| {
                PublishProperties {
                    message_expiry_interval,
                    topic_alias,
                    subscription_identifiers,
                    message,
                }
            },
        );
    v5_only(version, strategy)
}

pub(crate) fn ack_properties(version: ProtocolVersion) -> BoxedStrategy<AckProperties> {
    let strategy =
        (opt(mqtt_string()), user_properties()).prop_map(|(reason_string, user_properties)| {
            AckProperties {
                reason_string,
                user_properties,
            }
        });
    v5_only(version, strategy)
}

pub(crate) fn subscribe_properties(version: ProtocolVersion) -> BoxedStrategy<SubscribeProperties> {
    let strategy = (opt(subscription_id()), user_properties()).prop_map(
        |(subscription_identifier, user_properties)| SubscribeProperties {
            subscription_identifier,
            user_properties,
        },
    );
    v5_only(version, strategy)
}

pub(crate) fn unsubscribe_properties(
    version: ProtocolVersion,
) -> BoxedStrategy<UnsubscribeProperties> {
    let strategy =
        user_properties().prop_map(|user_properties| UnsubscribeProperties { user_properties });
    v5_only(version, strategy)
}

pub(crate) fn disconnect_properties(
    version: ProtocolVersion,
) -> BoxedStrategy<DisconnectProperties> {
    let strategy = (
        opt(interval()),
        opt(mqtt_string()),
        opt(mqtt_string()),
        user_properties(),
    )
        .prop_map(
            |(session_expiry_interval, reason_string, server_reference, user_properties)| {
                DisconnectProperties {
                    session_expiry_interval,
                    reason_string,
                    server_reference,
                    user_properties,
                }
            },
        );
    v5_only(version, strategy)
}

/// AUTH properties that carry the Authentication Method, as every AUTH but the empty form must.
pub(crate) fn auth_properties_with_method() -> BoxedStrategy<AuthProperties> {
    (
        mqtt_string(),
        opt(binary()),
        opt(mqtt_string()),
        user_properties(),
    )
        .prop_map(
            |(method, authentication_data, reason_string, user_properties)| AuthProperties {
                authentication_method: Some(method),
                authentication_data,
                reason_string,
                user_properties,
            },
        )
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------------------------

/// A Client Identifier for `version`: 1 to 23 characters in 3.1, any string otherwise (an empty
/// one in 3.1.1 is paired with Clean Session by [`connect`]).
pub(crate) fn client_id(version: ProtocolVersion) -> BoxedStrategy<String> {
    match version {
        ProtocolVersion::V3_1 => text(1..24, &[]),
        _ => string(),
    }
}

pub(crate) fn will(version: ProtocolVersion) -> BoxedStrategy<Will> {
    (
        qos(),
        any::<bool>(),
        topic_name(),
        binary(),
        will_properties(version),
    )
        .prop_map(|(qos, retain, topic, payload, properties)| Will {
            qos,
            retain,
            topic,
            payload,
            properties,
        })
        .boxed()
}

pub(crate) fn connect(version: ProtocolVersion) -> BoxedStrategy<Connect> {
    (
        any::<bool>(),
        two_bytes(),
        client_id(version),
        option::weighted(0.4, will(version)),
        option::of(mqtt_string()),
        option::of(binary()),
        connect_properties(version),
    )
        .prop_map(
            move |(clean_start, keep_alive, client_id, will, username, password, properties)| {
                // 3.1.1 [MQTT-3.1.3-7]: an empty Client Identifier needs Clean Session.
                let clean_start =
                    clean_start || (version == ProtocolVersion::V3_1_1 && client_id.is_empty());
                // 3.1 and 3.1.1 [MQTT-3.1.2-22]: no password without a user name.
                let password = if version.is_v5() || username.is_some() {
                    password
                } else {
                    None
                };
                Connect {
                    protocol_version: version,
                    clean_start,
                    keep_alive,
                    client_id: owned_string(&client_id),
                    will,
                    username,
                    password,
                    properties,
                }
            },
        )
        .boxed()
}

/// The CONNACK codes that have a 3.1 and 3.1.1 return code.
const RETURN_CODES: [ConnectReasonCode; 6] = [
    ConnectReasonCode::Success,
    ConnectReasonCode::UnsupportedProtocolVersion,
    ConnectReasonCode::ClientIdentifierNotValid,
    ConnectReasonCode::ServerUnavailable,
    ConnectReasonCode::BadUserNameOrPassword,
    ConnectReasonCode::NotAuthorized,
];

pub(crate) fn connack(version: ProtocolVersion) -> BoxedStrategy<ConnAck> {
    let codes = if version.is_v5() {
        select(ConnectReasonCode::ALL)
    } else {
        select(RETURN_CODES.to_vec())
    };
    (any::<bool>(), codes, connack_properties(version))
        .prop_map(move |(session_present, reason_code, properties)| ConnAck {
            // 3.1 has no Session Present; a refusal never sets it.
            session_present: session_present
                && version != ProtocolVersion::V3_1
                && reason_code == ConnectReasonCode::Success,
            reason_code,
            properties,
        })
        .boxed()
}

/// QoS, Packet Identifier and DUP.
pub(crate) fn delivery() -> BoxedStrategy<Delivery> {
    prop_oneof![
        Just(Delivery::AtMostOnce),
        (packet_id(), any::<bool>())
            .prop_map(|(packet_id, dup)| Delivery::AtLeastOnce { packet_id, dup }),
        (packet_id(), any::<bool>())
            .prop_map(|(packet_id, dup)| Delivery::ExactlyOnce { packet_id, dup }),
    ]
    .boxed()
}

pub(crate) fn publish(version: ProtocolVersion) -> BoxedStrategy<Publish> {
    (
        delivery(),
        any::<bool>(),
        topic_name(),
        publish_properties(version),
        payload(),
        any::<bool>(),
    )
        .prop_map(
            move |(delivery, retain, topic, properties, payload, alias_only)| {
                // A 5.0 PUBLISH may name its topic by the Topic Alias alone.
                let alias_only = alias_only && version.is_v5() && properties.topic_alias.is_some();
                Publish {
                    delivery,
                    retain,
                    topic: if alias_only { None } else { Some(topic) },
                    properties,
                    payload,
                }
            },
        )
        .boxed()
}

fn puback_code(version: ProtocolVersion) -> BoxedStrategy<PubAckReasonCode> {
    if version.is_v5() {
        select(PubAckReasonCode::ALL).boxed()
    } else {
        Just(PubAckReasonCode::Success).boxed()
    }
}

fn pubrel_code(version: ProtocolVersion) -> BoxedStrategy<PubRelReasonCode> {
    if version.is_v5() {
        select(PubRelReasonCode::ALL).boxed()
    } else {
        Just(PubRelReasonCode::Success).boxed()
    }
}

pub(crate) fn puback(version: ProtocolVersion) -> BoxedStrategy<PubAck> {
    (packet_id(), puback_code(version), ack_properties(version))
        .prop_map(|(packet_id, reason_code, properties)| PubAck {
            packet_id,
            reason_code,
            properties,
        })
        .boxed()
}

pub(crate) fn pubrec(version: ProtocolVersion) -> BoxedStrategy<PubRec> {
    (packet_id(), puback_code(version), ack_properties(version))
        .prop_map(|(packet_id, reason_code, properties)| PubRec {
            packet_id,
            reason_code,
            properties,
        })
        .boxed()
}

pub(crate) fn pubrel(version: ProtocolVersion) -> BoxedStrategy<PubRel> {
    (packet_id(), pubrel_code(version), ack_properties(version))
        .prop_map(|(packet_id, reason_code, properties)| PubRel {
            packet_id,
            reason_code,
            properties,
        })
        .boxed()
}

pub(crate) fn pubcomp(version: ProtocolVersion) -> BoxedStrategy<PubComp> {
    (packet_id(), pubrel_code(version), ack_properties(version))
        .prop_map(|(packet_id, reason_code, properties)| PubComp {
            packet_id,
            reason_code,
            properties,
        })
        .boxed()
}

/// Subscription Options for `version`: only the QoS before 5.0; in 5.0 No Local is never set on
/// a shared subscription ([MQTT-3.8.3-4]).
fn subscription(version: ProtocolVersion) -> BoxedStrategy<Subscription> {
    let retain_handling = select(vec![
        RetainHandling::SendAtSubscribe,
        RetainHandling::SendAtSubscribeIfNew,
        RetainHandling::DoNotSend,
    ]);
    (
        topic_filter(version),
        qos(),
        any::<bool>(),
        any::<bool>(),
        retain_handling,
    )
        .prop_map(
            move |(filter, qos, no_local, retain_as_published, retain_handling)| {
                let options = if version.is_v5() {
                    SubscriptionOptions {
                        qos,
                        no_local: no_local && !filter.starts_with("$share/"),
                        retain_as_published,
                        retain_handling,
                    }
                } else {
                    SubscriptionOptions::new(qos)
                };
                Subscription { filter, options }
            },
        )
        .boxed()
}

pub(crate) fn subscribe(version: ProtocolVersion) -> BoxedStrategy<Subscribe> {
    (
        packet_id(),
        vec(subscription(version), 1..8),
        subscribe_properties(version),
    )
        .prop_map(|(packet_id, subscriptions, properties)| Subscribe {
            packet_id,
            subscriptions: WireList::from(subscriptions),
            properties,
        })
        .boxed()
}

/// SUBACK codes: the three grants in 3.1, plus 0x80 in 3.1.1, every Subscribe Reason Code in
/// 5.0.
pub(crate) fn suback_code(version: ProtocolVersion) -> BoxedStrategy<SubAckReasonCode> {
    let mut codes = vec![
        SubAckReasonCode::GrantedQoS0,
        SubAckReasonCode::GrantedQoS1,
        SubAckReasonCode::GrantedQoS2,
    ];
    match version {
        ProtocolVersion::V3_1 => {}
        ProtocolVersion::V3_1_1 => codes.push(SubAckReasonCode::UnspecifiedError),
        _ => codes = SubAckReasonCode::ALL.to_vec(),
    }
    select(codes).boxed()
}

pub(crate) fn suback(version: ProtocolVersion) -> BoxedStrategy<SubAck> {
    (
        packet_id(),
        vec(suback_code(version), 1..8),
        ack_properties(version),
    )
        .prop_map(|(packet_id, codes, properties)| SubAck {
            packet_id,
            reason_codes: WireList::from(codes),
            properties,
        })
        .boxed()
}

pub(crate) fn unsubscribe(version: ProtocolVersion) -> BoxedStrategy<Unsubscribe> {
    (
        packet_id(),
        vec(topic_filter(version), 1..8),
        unsubscribe_properties(version),
    )
        .prop_map(|(packet_id, filters, properties)| Unsubscribe {
            packet_id,
            filters: WireList::from(filters),
            properties,
        })
        .boxed()
}

/// UNSUBACK: one or more codes and properties in 5.0, the Packet Identifier alone before.
pub(crate) fn unsuback(version: ProtocolVersion) -> BoxedStrategy<UnsubAck> {
    let codes = if version.is_v5() {
        vec(select(UnsubAckReasonCode::ALL), 1..8).boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (packet_id(), codes, ack_properties(version))
        .prop_map(|(packet_id, codes, properties)| UnsubAck {
            packet_id,
            reason_codes: WireList::from(codes),
            properties,
        })
        .boxed()
}

pub(crate) fn disconnect(version: ProtocolVersion) -> BoxedStrategy<Disconnect> {
    let codes = if version.is_v5() {
        select(DisconnectReasonCode::ALL).boxed()
    } else {
        Just(DisconnectReasonCode::NormalDisconnection).boxed()
    };
    (codes, disconnect_properties(version))
        .prop_map(|(reason_code, properties)| Disconnect {
            reason_code,
            properties,
        })
        .boxed()
}

/// AUTH (5.0 only): the empty form (Success, no properties), or any Authenticate Reason Code
/// with properties that carry the Authentication Method.
pub(crate) fn auth(version: ProtocolVersion) -> BoxedStrategy<Auth> {
    assert!(version.is_v5(), "AUTH exists only in MQTT 5.0");
    prop_oneof![
        1 => Just(Auth::new(AuthReasonCode::Success)),
        4 => (select(AuthReasonCode::ALL), auth_properties_with_method())
            .prop_map(|(reason_code, properties)| Auth { reason_code, properties }),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// Comparing and encoding
// ---------------------------------------------------------------------------------------------

/// A string of known-valid text.
pub(crate) fn owned_string(text: &str) -> MqttString<Bytes> {
    MqttString::new(ByteString::from(text)).expect("valid string")
}

/// The version to encode a decoded packet in: a CONNECT carries its own.
pub(crate) fn encoding_version(
    packet: &Packet<impl Buffer>,
    stream: ProtocolVersion,
) -> ProtocolVersion {
    match packet {
        Packet::Connect(connect) => connect.protocol_version,
        _ => stream,
    }
}

/// Encodes `packet` into a new vector, checking that `encoded_len` predicts its size.
pub(crate) fn encode_to_vec<B: Buffer>(
    packet: &Packet<B>,
    version: ProtocolVersion,
) -> Result<Vec<u8>, EncodeError> {
    let predicted = packet.encoded_len(version);
    let mut wire = Vec::new();
    let written = packet.encode(version, &mut wire);
    assert_eq!(predicted, written, "encoded_len disagrees with encode");
    if let Ok(written) = written {
        assert_eq!(written, wire.len(), "encode misreports what it wrote");
    } else {
        assert!(wire.is_empty(), "a failed encode wrote bytes");
    }
    written.map(|_| wire)
}

/// The length of the fixed header at the start of `wire`: the first byte and the Remaining
/// Length's bytes.
pub(crate) fn fixed_header_len(wire: &[u8]) -> usize {
    1 + wire[1..]
        .iter()
        .take_while(|&&byte| byte & 0x80 != 0)
        .count()
        + 1
}

/// A copy of `packet` with owned storage, built field by field (no `..` in any literal, so a
/// new field cannot be forgotten). Comparing it with the packet decoded from the same bytes
/// along the owned path checks the two paths field by field.
pub(crate) fn to_owned<B: Buffer>(packet: &Packet<B>) -> Packet<Bytes> {
    match packet {
        Packet::Connect(p) => Packet::from(Connect {
            protocol_version: p.protocol_version,
            clean_start: p.clean_start,
            keep_alive: p.keep_alive,
            client_id: own_string(&p.client_id),
            will: p.will.as_ref().map(|will| Will {
                qos: will.qos,
                retain: will.retain,
                topic: own_name(&will.topic),
                payload: own_binary(&will.payload),
                properties: WillProperties {
                    will_delay_interval: will.properties.will_delay_interval,
                    message_expiry_interval: will.properties.message_expiry_interval,
                    message: own_message(&will.properties.message),
                },
            }),
            username: p.username.as_ref().map(own_string),
            password: p.password.as_ref().map(own_binary),
            properties: ConnectProperties {
                session_expiry_interval: p.properties.session_expiry_interval,
                receive_maximum: p.properties.receive_maximum,
                maximum_packet_size: p.properties.maximum_packet_size,
                topic_alias_maximum: p.properties.topic_alias_maximum,
                request_response_information: p.properties.request_response_information,
                request_problem_information: p.properties.request_problem_information,
                authentication_method: p.properties.authentication_method.as_ref().map(own_string),
                authentication_data: p.properties.authentication_data.as_ref().map(own_binary),
                user_properties: own_user_properties(&p.properties.user_properties),
            },
        }),
        Packet::ConnAck(p) => {
            let q = &p.properties;
            Packet::from(ConnAck {
                session_present: p.session_present,
                reason_code: p.reason_code,
                properties: ConnAckProperties {
                    session_expiry_interval: q.session_expiry_interval,
                    receive_maximum: q.receive_maximum,
                    maximum_qos: q.maximum_qos,
                    retain_available: q.retain_available,
                    maximum_packet_size: q.maximum_packet_size,
                    assigned_client_identifier: q
                        .assigned_client_identifier
                        .as_ref()
                        .map(own_string),
                    topic_alias_maximum: q.topic_alias_maximum,
                    reason_string: q.reason_string.as_ref().map(own_string),
                    wildcard_subscription_available: q.wildcard_subscription_available,
                    subscription_identifiers_available: q.subscription_identifiers_available,
                    shared_subscription_available: q.shared_subscription_available,
                    server_keep_alive: q.server_keep_alive,
                    response_information: q.response_information.as_ref().map(own_string),
                    server_reference: q.server_reference.as_ref().map(own_string),
                    authentication_method: q.authentication_method.as_ref().map(own_string),
                    authentication_data: q.authentication_data.as_ref().map(own_binary),
                    user_properties: own_user_properties(&q.user_properties),
                },
            })
        }
        Packet::Publish(p) => {
            let q = &p.properties;
            Packet::Publish(Publish {
                delivery: p.delivery,
                retain: p.retain,
                topic: p.topic.as_ref().map(own_name),
                properties: PublishProperties {
                    message_expiry_interval: q.message_expiry_interval,
                    topic_alias: q.topic_alias,
                    subscription_identifiers: q.subscription_identifiers.iter().collect(),
                    message: own_message(&q.message),
                },
                payload: Bytes::copy_from_slice(p.payload.as_ref()),
            })
        }
        Packet::PubAck(p) => Packet::PubAck(PubAck {
            packet_id: p.packet_id,
            reason_code: p.reason_code,
            properties: own_ack_properties(&p.properties),
        }),
        Packet::PubRec(p) => Packet::PubRec(PubRec {
            packet_id: p.packet_id,
            reason_code: p.reason_code,
            properties: own_ack_properties(&p.properties),
        }),
        Packet::PubRel(p) => Packet::PubRel(PubRel {
            packet_id: p.packet_id,
            reason_code: p.reason_code,
            properties: own_ack_properties(&p.properties),
        }),
        Packet::PubComp(p) => Packet::PubComp(PubComp {
            packet_id: p.packet_id,
            reason_code: p.reason_code,
            properties: own_ack_properties(&p.properties),
        }),
        Packet::Subscribe(p) => Packet::Subscribe(Subscribe {
            packet_id: p.packet_id,
            subscriptions: p
                .subscriptions
                .iter()
                .map(|subscription| Subscription {
                    filter: own_filter(&subscription.filter),
                    options: subscription.options,
                })
                .collect(),
            properties: SubscribeProperties {
                subscription_identifier: p.properties.subscription_identifier,
                user_properties: own_user_properties(&p.properties.user_properties),
            },
        }),
        Packet::SubAck(p) => Packet::SubAck(SubAck {
            packet_id: p.packet_id,
            reason_codes: p.reason_codes.iter().collect(),
            properties: own_ack_properties(&p.properties),
        }),
        Packet::Unsubscribe(p) => Packet::Unsubscribe(Unsubscribe {
            packet_id: p.packet_id,
            filters: p.filters.iter().map(|filter| own_filter(&filter)).collect(),
            properties: UnsubscribeProperties {
                user_properties: own_user_properties(&p.properties.user_properties),
            },
        }),
        Packet::UnsubAck(p) => Packet::UnsubAck(UnsubAck {
            packet_id: p.packet_id,
            reason_codes: p.reason_codes.iter().collect(),
            properties: own_ack_properties(&p.properties),
        }),
        Packet::PingReq(p) => Packet::PingReq(*p),
        Packet::PingResp(p) => Packet::PingResp(*p),
        Packet::Disconnect(p) => Packet::Disconnect(Disconnect {
            reason_code: p.reason_code,
            properties: DisconnectProperties {
                session_expiry_interval: p.properties.session_expiry_interval,
                reason_string: p.properties.reason_string.as_ref().map(own_string),
                server_reference: p.properties.server_reference.as_ref().map(own_string),
                user_properties: own_user_properties(&p.properties.user_properties),
            },
        }),
        Packet::Auth(p) => Packet::Auth(Auth {
            reason_code: p.reason_code,
            properties: AuthProperties {
                authentication_method: p.properties.authentication_method.as_ref().map(own_string),
                authentication_data: p.properties.authentication_data.as_ref().map(own_binary),
                reason_string: p.properties.reason_string.as_ref().map(own_string),
                user_properties: own_user_properties(&p.properties.user_properties),
            },
        }),
    }
}

fn own_string<B: Buffer>(value: &MqttString<B>) -> MqttString<Bytes> {
    owned_string(value.as_str())
}

fn own_binary<B: Buffer>(value: &BinaryData<B>) -> BinaryData<Bytes> {
    BinaryData::new(Bytes::copy_from_slice(value.as_bytes())).expect("at most 65,535 bytes")
}

fn own_name<B: Buffer>(value: &TopicName<B>) -> TopicName<Bytes> {
    TopicName::new(ByteString::from(value.as_str())).expect("valid topic name")
}

fn own_filter<B: Buffer>(value: &TopicFilter<B>) -> TopicFilter<Bytes> {
    TopicFilter::new(ByteString::from(value.as_str())).expect("valid topic filter")
}

fn own_message<B: Buffer>(value: &MessageProperties<B>) -> MessageProperties {
    MessageProperties::from_block(Bytes::from(value.to_vec())).expect("entries it validated")
}

fn own_user_properties<B: Buffer>(
    list: &WireList<B, UserProperty<B>>,
) -> WireList<Bytes, UserProperty<Bytes>> {
    list.iter()
        .map(|property| UserProperty::new(own_string(&property.name), own_string(&property.value)))
        .collect()
}

fn own_ack_properties<B: Buffer>(properties: &AckProperties<B>) -> AckProperties {
    AckProperties {
        reason_string: properties.reason_string.as_ref().map(own_string),
        user_properties: own_user_properties(&properties.user_properties),
    }
}
