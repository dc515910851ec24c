//! `$SYS`: the broker's counters published as retained messages every `--sys-interval`.

// The example and the tests each use a part of this module.
#![allow(dead_code)]

use bytes::Bytes;
use mqtt_sansio::broker::Policy;
use mqtt_sansio::{Broker, Instant, Publish, TopicName};

/// Publishes every counter of [`Stats::sys_topics`](mqtt_sansio::broker::Stats::sys_topics)
/// through [`Broker::publish`], retained at QoS 0 with its value in decimal, as mosquitto does,
/// plus `$SYS/broker/version`.
pub(crate) fn publish<P: Policy>(broker: &mut Broker<P>, now: Instant) {
    for (topic, value) in broker.stats().sys_topics() {
        // The topics are constants of the crate, valid names all.
        if let Ok(topic) = TopicName::new(topic) {
            retain(broker, now, topic, Bytes::from(value.to_string()));
        }
    }
    if let Ok(topic) = TopicName::new("$SYS/broker/version") {
        let version = concat!("mqtt-sansio ", env!("CARGO_PKG_VERSION"));
        retain(broker, now, topic, Bytes::from_static(version.as_bytes()));
    }
}

/// Publishes one retained message.
fn retain<P: Policy>(
    broker: &mut Broker<P>,
    now: Instant,
    topic: TopicName<Bytes>,
    payload: Bytes,
) {
    let mut message = Publish::new(topic, payload);
    message.retain = true;
    // `publish` refuses only a message without a topic, and this one has one.
    let _ = broker.publish(now, message);
}
