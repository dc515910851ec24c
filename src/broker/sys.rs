//! The counters of [`Stats`] as `$SYS/` topics, for a driver to publish.

use super::Stats;

/// How many topics [`Stats::sys_topics`] yields.
const SYS_TOPICS: usize = 16;

impl Stats {
    /// Each counter with the `$SYS/` topic it is published under, in mosquitto's naming where
    /// mosquitto has the counter (`$SYS/broker/clients/connected`, `$SYS/broker/bytes/sent`,
    /// `$SYS/broker/retained messages/count`, ...) and under `$SYS/broker/` in the same style
    /// for the rest. Yields, without allocating:
    ///
    /// | Topic | Counter |
    /// |---|---|
    /// | `$SYS/broker/clients/connected` | [`connections`](Self::connections) (sockets accepted, their CONNECT answered or not) |
    /// | `$SYS/broker/clients/total` | [`sessions`](Self::sessions) (connected or not) |
    /// | `$SYS/broker/subscriptions/count` | [`subscriptions`](Self::subscriptions) |
    /// | `$SYS/broker/retained messages/count` | [`retained`](Self::retained) |
    /// | `$SYS/broker/store/messages/count` | [`stored_messages`](Self::stored_messages) |
    /// | `$SYS/broker/store/messages/bytes` | [`stored_bytes`](Self::stored_bytes) |
    /// | `$SYS/broker/publish/messages/received` | [`messages_in`](Self::messages_in) |
    /// | `$SYS/broker/publish/messages/sent` | [`messages_out`](Self::messages_out) |
    /// | `$SYS/broker/bytes/received` | [`bytes_in`](Self::bytes_in) |
    /// | `$SYS/broker/bytes/sent` | [`bytes_out`](Self::bytes_out) |
    /// | `$SYS/broker/publish/messages/dropped` | the sum of the four below |
    /// | `$SYS/broker/publish/messages/dropped/queue-full` | [`dropped_queue_full`](Self::dropped_queue_full) |
    /// | `$SYS/broker/publish/messages/dropped/too-large` | [`dropped_too_large`](Self::dropped_too_large) |
    /// | `$SYS/broker/publish/messages/dropped/expired` | [`dropped_expired`](Self::dropped_expired) |
    /// | `$SYS/broker/publish/messages/dropped/no-member` | [`dropped_no_member`](Self::dropped_no_member) |
    /// | `$SYS/broker/publish/messages/handed-over` | [`shared_handed_over`](Self::shared_handed_over) |
    ///
    /// A filter that starts with a wildcard does not match a `$` topic (`[MQTT-4.7.2-1]`):
    /// a client subscribed to `#` does not get these; one subscribed to `$SYS/#` does.
    /// `messages_in` counts messages from clients only: these, and wills, are not in it.
    ///
    /// # Publishing them
    ///
    /// A driver publishes them every so often through [`Broker::publish`], retained (a client
    /// that subscribes later gets the latest values at once) at QoS 0, with the value in
    /// decimal as mosquitto does:
    ///
    /// ```
    /// use core::time::Duration;
    ///
    /// use bytes::Bytes;
    /// use mqtt_sansio::{Broker, BrokerConfig, Instant, Publish, TopicName};
    ///
    /// /// Publishes the counters when `next` has come, and says when to do it again.
    /// fn publish_sys(broker: &mut Broker, now: Instant, next: &mut Instant) {
    ///     const INTERVAL: Duration = Duration::from_secs(10);
    ///     if now < *next {
    ///         return;
    ///     }
    ///     for (topic, value) in broker.stats().sys_topics() {
    ///         // A `&'static str` topic is shared, not copied.
    ///         let Ok(topic) = TopicName::new(topic) else { continue };
    ///         let mut message = Publish::new(topic, Bytes::from(value.to_string()));
    ///         message.retain = true;
    ///         // Only a message without a topic is refused.
    ///         let _ = broker.publish(now, message);
    ///     }
    ///     *next = now.saturating_add(INTERVAL);
    /// }
    ///
    /// let mut broker = Broker::new(BrokerConfig::default());
    /// let mut next = Instant::ZERO;
    /// // In the run loop, beside `poll_timeout`, which does not know this timer:
    /// publish_sys(&mut broker, Instant::ZERO, &mut next);
    /// assert_eq!(next, Instant::from_millis(10_000));
    /// assert_eq!(broker.stats().retained, 16);
    /// ```
    ///
    /// [`Broker::publish`]: super::Broker::publish
    pub fn sys_topics(&self) -> impl ExactSizeIterator<Item = (&'static str, u64)> + use<> {
        let count = |value: usize| u64::try_from(value).unwrap_or(u64::MAX);
        let dropped = self
            .dropped_queue_full
            .saturating_add(self.dropped_too_large)
            .saturating_add(self.dropped_expired)
            .saturating_add(self.dropped_no_member);
        let topics: [(&'static str, u64); SYS_TOPICS] = [
            ("$SYS/broker/clients/connected", count(self.connections)),
            ("$SYS/broker/clients/total", count(self.sessions)),
            ("$SYS/broker/subscriptions/count", count(self.subscriptions)),
            ("$SYS/broker/retained messages/count", count(self.retained)),
            (
                "$SYS/broker/store/messages/count",
                count(self.stored_messages),
            ),
            ("$SYS/broker/store/messages/bytes", count(self.stored_bytes)),
            ("$SYS/broker/publish/messages/received", self.messages_in),
            ("$SYS/broker/publish/messages/sent", self.messages_out),
            ("$SYS/broker/bytes/received", self.bytes_in),
            ("$SYS/broker/bytes/sent", self.bytes_out),
            ("$SYS/broker/publish/messages/dropped", dropped),
            (
                "$SYS/broker/publish/messages/dropped/queue-full",
                self.dropped_queue_full,
            ),
            (
                "$SYS/broker/publish/messages/dropped/too-large",
                self.dropped_too_large,
            ),
            (
                "$SYS/broker/publish/messages/dropped/expired",
                self.dropped_expired,
            ),
            (
                "$SYS/broker/publish/messages/dropped/no-member",
                self.dropped_no_member,
            ),
            (
                "$SYS/broker/publish/messages/handed-over",
                self.shared_handed_over,
            ),
        ];
        topics.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::topic::TopicName;

    /// Every topic is a valid Topic Name under `$SYS/broker/`, named once, and each counter
    /// reaches its topic.
    #[test]
    fn sys_topics_are_distinct_valid_topic_names() {
        let stats = Stats {
            connections: 1,
            sessions: 2,
            subscriptions: 3,
            retained: 4,
            stored_messages: 5,
            stored_bytes: 6,
            messages_in: 7,
            messages_out: 8,
            bytes_in: 9,
            bytes_out: 10,
            dropped_queue_full: 11,
            dropped_too_large: 12,
            dropped_expired: 13,
            dropped_no_member: 14,
            shared_handed_over: 15,
        };
        let topics: Vec<_> = stats.sys_topics().collect();
        assert_eq!(topics.len(), SYS_TOPICS);
        let mut names: Vec<&str> = topics.iter().map(|&(topic, _)| topic).collect();
        for name in &names {
            assert!(name.starts_with("$SYS/broker/"), "{name}");
            assert!(TopicName::<&[u8]>::new(*name).is_ok(), "{name}");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SYS_TOPICS);
        let values: Vec<u64> = topics.iter().map(|&(_, value)| value).collect();
        assert_eq!(
            values,
            [
                1,
                2,
                3,
                4,
                5,
                6,
                7,
                8,
                9,
                10,
                11 + 12 + 13 + 14,
                11,
                12,
                13,
                14,
                15
            ]
        );
    }
}
