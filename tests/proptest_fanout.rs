//! Property tests of fan-out encoding: [`Publish::encode_for`] writes exactly what encoding an
//! edited clone of the message would (the reference), without the clone, in every version
//! pair; [`Publish::encode_head_for`] writes that packet's bytes up to the payload; and
//! [`Publish::encoded_len_for`] predicts both.
#![cfg(feature = "v5")]

mod strategies;

use core::num::NonZeroU16;

use bytes::Bytes;
use mqtt_sansio::{
    EncodeError, Outgoing, Packet, ProtocolVersion, Publish, PublishProperties, SubscriptionId,
    TopicAliasUse,
};
use proptest::collection::vec;
use proptest::prelude::*;
use strategies::{delivery, encode_to_vec, subscription_id, version};

/// The message edited the way a server would edit a clone of it for one delivery.
fn edited_clone(publish: &Publish, version: ProtocolVersion, outgoing: &Outgoing<'_>) -> Publish {
    let mut edited = publish.clone();
    edited.delivery = outgoing.delivery;
    edited.retain = outgoing.retain;
    if version.is_v5() {
        let properties = &mut edited.properties;
        properties.message_expiry_interval = outgoing.message_expiry_interval;
        properties.subscription_identifiers = outgoing.subscription_ids.iter().copied().collect();
        properties.topic_alias = match outgoing.topic_alias {
            TopicAliasUse::None => None,
            TopicAliasUse::Set(alias) => Some(alias),
            TopicAliasUse::Use(alias) => {
                edited.topic = None;
                Some(alias)
            }
        };
    } else {
        // 3.1 and 3.1.1 cannot carry properties: they are left out, and the topic is named.
        edited.properties = PublishProperties::new();
    }
    edited
}

fn alias_use() -> impl Strategy<Value = TopicAliasUse> {
    let alias = (1..=u16::MAX).prop_map(|alias| NonZeroU16::new(alias).expect("non-zero"));
    prop_oneof![
        Just(TopicAliasUse::None),
        alias.clone().prop_map(TopicAliasUse::Set),
        alias.prop_map(TopicAliasUse::Use),
    ]
}

/// The per-delivery values, with the Subscription Identifiers they borrow.
#[derive(Clone, Debug)]
struct Delivered {
    delivery: mqtt_sansio::Delivery,
    retain: bool,
    topic_alias: TopicAliasUse,
    subscription_ids: Vec<SubscriptionId>,
    message_expiry_interval: Option<u32>,
}

impl Delivered {
    fn outgoing(&self) -> Outgoing<'_> {
        Outgoing {
            delivery: self.delivery,
            retain: self.retain,
            topic_alias: self.topic_alias,
            subscription_ids: &self.subscription_ids,
            message_expiry_interval: self.message_expiry_interval,
        }
    }
}

fn delivered() -> impl Strategy<Value = Delivered> {
    (
        delivery(),
        any::<bool>(),
        alias_use(),
        vec(subscription_id(), 0..4),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(
            |(delivery, retain, topic_alias, subscription_ids, message_expiry_interval)| {
                Delivered {
                    delivery,
                    retain,
                    topic_alias,
                    subscription_ids,
                    message_expiry_interval,
                }
            },
        )
}

/// A message as a server stores it, from a publisher of any version.
fn message() -> impl Strategy<Value = Publish> {
    version().prop_flat_map(strategies::publish)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `encode_for` equals encoding the edited clone, byte for byte or error for error, and
    /// `encoded_len_for` predicts it; on error nothing is written.
    #[test]
    fn encode_for_matches_the_edited_clone(
        message in message(),
        delivered in delivered(),
        to in version(),
    ) {
        let outgoing = delivered.outgoing();
        let setting_alias_without_topic =
            matches!(outgoing.topic_alias, TopicAliasUse::Set(_)) && message.topic.is_none();
        let reference = if to.is_v5() && setting_alias_without_topic {
            // Setting an alias up needs the name it stands for.
            Err(EncodeError::MissingTopic)
        } else {
            encode_to_vec(&Packet::Publish(edited_clone(&message, to, &outgoing)), to)
        };
        let mut wire = Vec::new();
        let written = message.encode_for(to, &outgoing, &mut wire);
        match (&reference, written) {
            (Ok(expected), Ok(written)) => {
                prop_assert_eq!(&wire, expected);
                prop_assert_eq!(written, expected.len());
            }
            (Err(expected), Err(error)) => {
                prop_assert_eq!(*expected, error);
                prop_assert!(wire.is_empty());
            }
            (reference, written) => {
                return Err(TestCaseError::fail(format!("{reference:?} against {written:?}")));
            }
        }
        prop_assert_eq!(message.encoded_len_for(to, &outgoing), reference.map(|wire| wire.len()));
    }

    /// The head is the whole delivery up to the payload, and head plus payload is the whole.
    #[test]
    fn head_and_payload_make_the_delivery(
        message in message(),
        delivered in delivered(),
        to in version(),
    ) {
        let outgoing = delivered.outgoing();
        let mut whole = Vec::new();
        let Ok(len) = message.encode_for(to, &outgoing, &mut whole) else {
            return Ok(());
        };
        let mut head = Vec::new();
        let head_len = message.encode_head_for(to, &outgoing, &mut head).expect("encodes whole");
        prop_assert_eq!(head_len, head.len());
        prop_assert_eq!(head_len + message.payload.len(), len);
        prop_assert_eq!(&whole[..head_len], &head[..]);
        prop_assert_eq!(&whole[head_len..], &message.payload[..]);
    }

    /// A buffer one byte short is refused, untouched.
    #[test]
    fn a_short_buffer_is_refused(message in message(), delivered in delivered(), to in version()) {
        let outgoing = delivered.outgoing();
        let Ok(len) = message.encoded_len_for(to, &outgoing) else {
            return Ok(());
        };
        let mut room = vec![0u8; len - 1];
        let mut buf = &mut room[..];
        let error = message.encode_for(to, &outgoing, &mut buf).unwrap_err();
        prop_assert_eq!(error, EncodeError::BufferTooSmall { needed: len, available: len - 1 });
        prop_assert!(room.iter().all(|&byte| byte == 0));
    }
}

/// A 5.0 message forwarded to a 3.1.1 subscriber loses its properties and keeps its topic,
/// even when the 5.0 delivery would use a Topic Alias.
#[test]
fn properties_are_left_out_for_a_v311_subscriber() {
    let mut message = Publish::new(
        mqtt_sansio::TopicName::new("a/b").unwrap(),
        Bytes::from_static(b"x"),
    );
    message.properties.message = mqtt_sansio::MessageProperties::builder()
        .content_type("text/plain")
        .build()
        .unwrap();
    let ids = [SubscriptionId::new(9).unwrap()];
    let outgoing = Outgoing {
        topic_alias: TopicAliasUse::Use(NonZeroU16::new(4).unwrap()),
        subscription_ids: &ids,
        message_expiry_interval: Some(10),
        ..Outgoing::new(mqtt_sansio::Delivery::AtMostOnce)
    };
    let mut v311 = Vec::new();
    message
        .encode_for(ProtocolVersion::V3_1_1, &outgoing, &mut v311)
        .unwrap();
    assert_eq!(v311, b"\x30\x06\x00\x03a/bx");
    let mut v5 = Vec::new();
    message
        .encode_for(ProtocolVersion::V5, &outgoing, &mut v5)
        .unwrap();
    assert_eq!(
        v5,
        b"\x30\x1b\x00\x00\x17\x02\x00\x00\x00\x0a\x23\x00\x04\x03\x00\x0atext/plain\x0b\x09x"
    );
}
