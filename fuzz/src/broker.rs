//! Target `broker_session`: several connections' arbitrary bytes, closes and time steps
//! interleaved against one [`Broker`] with small limits. The broker must never panic, keep
//! every count within its configuration, and hand the driver only connections it opened.
//!
//! The input is a sequence of operations, each a tag byte and its operands:
//!
//! | tag % 5 | operation | operands |
//! | --- | --- | --- |
//! | 0 | accept a connection | |
//! | 1 | bytes to connection `k` | `k`, a length `n`, `n` bytes |
//! | 2 | the socket of connection `k` closes | `k` |
//! | 3 | time passes | `t`: `t` × 250 ms |
//! | 4 | the driver publishes | a length `n`, `n` payload bytes |
//!
//! After each operation the driver drains every transmit (with a 64-byte buffer, so large
//! packets go in pieces) and every event, closing the connections the broker asks it to.

use bytes::Bytes;
use mqtt_sansio::broker::{ConnectionHandle, Event};
use mqtt_sansio::{Broker, BrokerConfig, Instant, Publish, QoS, TopicName};

const MAX_CONNECTIONS: usize = 4;

/// Runs `data` against a broker; panics on a broken invariant.
pub fn broker_session(data: &[u8]) {
    let config = BrokerConfig {
        max_connections: MAX_CONNECTIONS,
        max_packet_size: 512,
        receive_maximum: 4,
        max_inflight: 4,
        max_queued_messages: 8,
        max_queued_bytes: 1024,
        max_subscriptions: 8,
        topic_alias_maximum: 4,
        ..BrokerConfig::default()
    };
    let mut broker = Broker::new(config);
    let mut now = Instant::ZERO;
    let mut open: Vec<ConnectionHandle> = Vec::new();
    let mut closing: Vec<ConnectionHandle> = Vec::new();
    let mut input = data;
    let mut buf = [0u8; 64];
    while let Some((&tag, rest)) = input.split_first() {
        input = rest;
        match tag % 5 {
            0 => {
                if let Ok(handle) = broker.accept(now) {
                    assert!(!open.contains(&handle), "a handle handed out twice");
                    open.push(handle);
                }
            }
            1 => {
                let Some((&k, rest)) = input.split_first() else {
                    break;
                };
                let Some((&n, rest)) = rest.split_first() else {
                    break;
                };
                let n = usize::from(n).min(rest.len());
                let (bytes, rest) = rest.split_at(n);
                input = rest;
                if let Some(&handle) = open.get(usize::from(k) % open.len().max(1)) {
                    if k % 2 == 0 {
                        broker.handle_data(now, handle, bytes);
                    } else {
                        broker.handle_bytes(now, handle, Bytes::copy_from_slice(bytes));
                    }
                }
            }
            2 => {
                let Some((&k, rest)) = input.split_first() else {
                    break;
                };
                input = rest;
                if !open.is_empty() {
                    let handle = open.remove(usize::from(k) % open.len());
                    broker.handle_closed(now, handle);
                    closing.retain(|&c| c != handle);
                }
            }
            3 => {
                let Some((&t, rest)) = input.split_first() else {
                    break;
                };
                input = rest;
                now = now + core::time::Duration::from_millis(u64::from(t) * 250);
                broker.handle_timeout(now);
            }
            _ => {
                let Some((&n, rest)) = input.split_first() else {
                    break;
                };
                let n = usize::from(n).min(rest.len());
                let (payload, rest) = rest.split_at(n);
                input = rest;
                let message = Publish::new(
                    TopicName::new("a/b").expect("a valid topic"),
                    Bytes::copy_from_slice(payload),
                )
                .with_qos(QoS::AtLeastOnce);
                broker.publish(now, message).expect("a driver publish");
            }
        }
        // The driver: write everything, act on every event.
        for _ in 0..100_000 {
            let Some(transmit) = broker.poll_transmit(&mut buf) else {
                break;
            };
            assert!(transmit.len <= buf.len());
            assert!(
                open.contains(&transmit.connection),
                "bytes for a connection the driver does not hold"
            );
        }
        while let Some(event) = broker.poll_event() {
            match event {
                Event::Close { connection, .. } => {
                    assert!(open.contains(&connection), "closing an unknown connection");
                    closing.push(connection);
                }
                Event::Connected { connection, .. } | Event::Authenticate { connection, .. } => {
                    assert!(open.contains(&connection));
                }
                _ => {}
            }
        }
        // Connections the broker closed: their last bytes are written, then the socket goes.
        while let Some(handle) = closing.pop() {
            while broker.poll_transmit(&mut buf).is_some() {}
            broker.handle_closed(now, handle);
            open.retain(|&c| c != handle);
        }
        let stats = broker.stats();
        assert!(stats.connections <= MAX_CONNECTIONS);
        assert_eq!(stats.connections, open.len());
        assert!(stats.subscriptions <= stats.sessions.saturating_mul(8));
    }
}
