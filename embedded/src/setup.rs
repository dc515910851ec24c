//! What `firmware` and `device` share: the client's configuration and the application's side
//! of a message. Included by both with `#[path]`; not part of the library, which `baseline`
//! links too.

use core::num::NonZeroU16;

use bytes::Bytes;
use bytestring::ByteString;
use mqtt_sansio::{
    Client, ClientConfig, Delivery, Event, Instant, PacketId, Publish, QoS, SubscribeProperties,
    Subscription, TopicFilter, TopicName,
};

extern crate alloc;
use alloc::vec::Vec;

/// A device's bounds: 4 QoS 1/2 messages out and in, 4 queued QoS 0 messages, 1 KiB packets,
/// no Topic Aliases.
pub const CONFIG: ClientConfig = ClientConfig {
    max_outgoing: 4,
    max_queued_qos0: 4,
    receive_maximum: match NonZeroU16::new(4) {
        Some(value) => value,
        None => NonZeroU16::MIN,
    },
    max_packet_size: 1024,
    topic_alias_maximum: 0,
    ..ClientConfig::DEFAULT
};

/// The Keep Alive, in seconds.
pub const KEEP_ALIVE: u16 = 5;

/// A message as the application passes it to `publish`: static topic and payload, nothing
/// allocated.
pub fn message(topic: &'static str, payload: &'static [u8], qos: QoS) -> Publish {
    let topic = mqtt_sansio_firmware::must!(
        TopicName::new(ByteString::from_static(topic)),
        "a valid topic"
    );
    Publish::new(topic, Bytes::from_static(payload)).with_qos(qos)
}

/// The filter the checked sessions subscribe to: every topic they publish on.
#[allow(dead_code, reason = "not every binary subscribes through it")]
pub const FILTER: &str = "fw/#";

/// `subscribe` to [`FILTER`] at QoS 2, as the checked sessions do; returns the filter and the
/// SUBSCRIBE's Packet Identifier.
#[allow(dead_code, reason = "not every binary subscribes through it")]
pub fn subscribe_to_all(client: &mut Client, now: Instant) -> (TopicFilter<Bytes>, PacketId) {
    let filter = mqtt_sansio_firmware::must!(
        TopicFilter::new(ByteString::from_static(FILTER)),
        "a valid filter"
    );
    let id = mqtt_sansio_firmware::must!(
        client.subscribe(
            now,
            [Subscription::new(filter.clone(), QoS::ExactlyOnce)],
            SubscribeProperties::new(),
        ),
        "subscribe() accepted"
    );
    (filter, id)
}

/// Every event the client has queued.
#[allow(dead_code, reason = "not every binary checks events one by one")]
pub fn take_events(client: &mut Client) -> Vec<Event> {
    core::iter::from_fn(|| client.poll_event()).collect()
}

/// Whether `publish` is this message with this delivery, not retained.
#[allow(dead_code, reason = "not every binary checks messages")]
pub fn is_message(publish: &Publish, topic: &str, payload: &[u8], delivery: Delivery) -> bool {
    publish.topic.as_ref().map(TopicName::as_str) == Some(topic)
        && publish.payload.as_ref() == payload
        && publish.delivery == delivery
        && !publish.retain
}
