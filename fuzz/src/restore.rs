//! Target `broker_restore`: arbitrary bytes as a broker snapshot. `Broker::restore` must never
//! panic; whatever it accepts must snapshot again, and that snapshot must restore and snapshot
//! to the same bytes (a restored broker's snapshot is canonical).
//!
//! The bytes are restored twice: under the default configuration and under one with small
//! limits (so that the limit checks run), each at a clock far from zero and at zero (so that
//! message ages reaching before the clock's origin are rebased).

use mqtt_sansio::broker::AllowAll;
use mqtt_sansio::{Broker, BrokerConfig, Instant, QoS};

/// Restores `data`; panics on a broken invariant.
pub fn broker_restore(data: &[u8]) {
    let small = BrokerConfig {
        max_subscriptions: 2,
        max_queued_messages: 2,
        max_queued_bytes: 64,
        max_topic_levels: 3,
        max_session_expiry: 60,
        maximum_qos: QoS::AtLeastOnce,
        retain_available: false,
        ..BrokerConfig::default()
    };
    for config in [BrokerConfig::default(), small] {
        for now in [Instant::from_millis(1 << 40), Instant::ZERO] {
            let Ok(broker) = Broker::restore(config.clone(), AllowAll, now, data) else {
                continue;
            };
            let first = broker.snapshot(now).expect("a restored broker snapshots");
            let again = Broker::restore(config.clone(), AllowAll, now, &first)
                .expect("a restored broker's snapshot restores");
            let second = again.snapshot(now).expect("snapshots again");
            assert_eq!(
                first, second,
                "snapshot of a restored broker is not canonical"
            );
        }
    }
}
