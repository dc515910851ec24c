//! Field values for either storage type, so that one expected packet serves both decode paths.

use bytes::Bytes;
use mqtt_sansio::{
    BinaryData, Buffer, MessageProperties, MessagePropertiesBuilder, MqttString, Subscription,
    SubscriptionOptions, TopicFilter, TopicName, UserProperty,
};

/// Builds field values for either storage type: `&[u8]` (what `Packet::decode` returns) or
/// `Bytes` (what `Packet::decode_bytes` returns).
///
/// An expected packet is written once, as `fn expected<B: Make>() -> Packet<B>`, and built for
/// each type where [`assert_vector`](super::assert_vector) needs it:
/// `assert_vector(version, &wire, expected(), expected())`.
pub(crate) trait Make: Buffer {
    /// A UTF-8 string field.
    fn string(text: &'static str) -> MqttString<Self>;

    /// A Topic Name.
    fn topic(text: &'static str) -> TopicName<Self>;

    /// A Topic Filter.
    fn filter(text: &'static str) -> TopicFilter<Self>;

    /// A Binary Data field.
    fn binary(data: &'static [u8]) -> BinaryData<Self>;

    /// Raw bytes, such as a PUBLISH payload.
    fn raw(data: &'static [u8]) -> Self;

    /// Message properties, as the builder writes them.
    fn message(builder: MessagePropertiesBuilder<'static>) -> MessageProperties<Self>;

    /// A User Property.
    fn user(name: &'static str, value: &'static str) -> UserProperty<Self> {
        UserProperty::new(Self::string(name), Self::string(value))
    }

    /// A SUBSCRIBE entry.
    fn subscription(filter: &'static str, options: SubscriptionOptions) -> Subscription<Self> {
        Subscription {
            filter: Self::filter(filter),
            options,
        }
    }
}

impl<'a> Make for &'a [u8] {
    fn string(text: &'static str) -> MqttString<Self> {
        let text: &'a str = text;
        MqttString::new(text).expect("valid string")
    }

    fn topic(text: &'static str) -> TopicName<Self> {
        let text: &'a str = text;
        TopicName::new(text).expect("valid topic name")
    }

    fn filter(text: &'static str) -> TopicFilter<Self> {
        let text: &'a str = text;
        TopicFilter::new(text).expect("valid topic filter")
    }

    fn binary(data: &'static [u8]) -> BinaryData<Self> {
        let data: &'a [u8] = data;
        BinaryData::new(data).expect("short binary data")
    }

    fn raw(data: &'static [u8]) -> Self {
        data
    }

    fn message(builder: MessagePropertiesBuilder<'static>) -> MessageProperties<Self> {
        // A test's expected value lives for the whole test run; leaking it gives the borrow.
        let block: &'static [u8] = Vec::leak(builder.to_vec().expect("valid properties"));
        let block: &'a [u8] = block;
        MessageProperties::from_block(block).expect("entries the builder wrote")
    }
}

impl Make for Bytes {
    fn string(text: &'static str) -> MqttString<Self> {
        MqttString::new(text).expect("valid string")
    }

    fn topic(text: &'static str) -> TopicName<Self> {
        TopicName::new(text).expect("valid topic name")
    }

    fn filter(text: &'static str) -> TopicFilter<Self> {
        TopicFilter::new(text).expect("valid topic filter")
    }

    fn binary(data: &'static [u8]) -> BinaryData<Self> {
        BinaryData::new(Self::from_static(data)).expect("short binary data")
    }

    fn raw(data: &'static [u8]) -> Self {
        Self::from_static(data)
    }

    fn message(builder: MessagePropertiesBuilder<'static>) -> MessageProperties<Self> {
        builder.build().expect("valid properties")
    }
}
