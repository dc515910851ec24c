//! `Broker::poll_transmit_vectored` sends the same bytes as `poll_transmit`: two brokers fed
//! the same input, one drained each way, give every connection the same byte stream, for
//! payloads on both sides of `SHARED_PAYLOAD_MIN`, every QoS, 3.1.1 and 5.0 (Subscription
//! Identifiers, Topic Aliases, Message Expiry), and buffers smaller than one packet. Large
//! payloads are shared with the stored message, not copied.
#![cfg(feature = "v5")]

mod common;

use std::collections::HashMap;

use bytes::Bytes;
use mqtt_sansio::broker::{ConnectionHandle, SHARED_PAYLOAD_MIN, SharedPayload};
use mqtt_sansio::{Broker, BrokerConfig, Connect, Instant, Packet, ProtocolVersion, QoS};
use mqtt_sansio::{Delivery, MqttString, PacketId, Publish, Subscribe, Subscription};
use mqtt_sansio::{SubscribeProperties, SubscriptionId, TopicFilter, TopicName};

const NOW: Instant = Instant::ZERO;

/// The same input for two brokers.
struct Twins {
    plain: Broker,
    vectored: Broker,
}

impl Twins {
    fn new() -> Self {
        Self {
            plain: Broker::new(BrokerConfig::default()),
            vectored: Broker::new(BrokerConfig::default()),
        }
    }

    /// A new connection on both (the same handle on each: they start alike).
    fn accept(&mut self) -> ConnectionHandle {
        let handle = self.plain.accept(NOW).unwrap();
        assert_eq!(self.vectored.accept(NOW).unwrap(), handle);
        handle
    }

    fn send(&mut self, conn: ConnectionHandle, version: ProtocolVersion, packet: Packet) {
        let mut bytes = Vec::new();
        packet.encode(version, &mut bytes).unwrap();
        self.plain.handle_data(NOW, conn, &bytes);
        self.vectored.handle_data(NOW, conn, &bytes);
    }

    /// Drains both with a buffer of `size` bytes; the byte streams per connection, and how
    /// many payload bytes the vectored one shared.
    fn drain(&mut self, size: usize) -> (Streams, Streams, usize) {
        let mut buf = vec![0u8; size];
        let mut plain = Streams::new();
        while let Some(transmit) = self.plain.poll_transmit(&mut buf) {
            plain
                .entry(transmit.connection)
                .or_default()
                .extend_from_slice(&buf[..transmit.len]);
        }
        let mut vectored = Streams::new();
        let mut payloads: Vec<SharedPayload> = Vec::new();
        let mut shared = 0;
        while let Some(transmit) = self
            .vectored
            .poll_transmit_vectored(&mut buf, &mut payloads)
        {
            let out = vectored.entry(transmit.connection).or_default();
            let mut from = 0;
            for payload in &payloads {
                assert!(payload.bytes.len() >= SHARED_PAYLOAD_MIN);
                assert!(from <= payload.at && payload.at <= transmit.len);
                out.extend_from_slice(&buf[from..payload.at]);
                out.extend_from_slice(&payload.bytes);
                shared += payload.bytes.len();
                from = payload.at;
            }
            out.extend_from_slice(&buf[from..transmit.len]);
        }
        while self.plain.poll_event().is_some() {}
        while self.vectored.poll_event().is_some() {}
        (plain, vectored, shared)
    }
}

type Streams = HashMap<ConnectionHandle, Vec<u8>>;

fn text(value: &str) -> MqttString<Bytes> {
    MqttString::new(bytestring::ByteString::from(value)).unwrap()
}

fn message(topic: &str, size: usize, qos: QoS, id: u16, expiry: Option<u32>) -> Packet {
    let payload: Vec<u8> = (0..size).map(|n| n as u8).collect();
    let mut publish = Publish::new(
        TopicName::new(bytestring::ByteString::from(topic)).unwrap(),
        Bytes::from(payload),
    );
    if qos != QoS::AtMostOnce {
        publish.delivery = Delivery::new(qos, PacketId::new(id).unwrap());
    }
    publish.properties.message_expiry_interval = expiry;
    Packet::Publish(publish)
}

/// Every connection gets the same bytes either way, and the payloads of at least
/// `SHARED_PAYLOAD_MIN` bytes go by reference.
#[test]
fn vectored_transmit_sends_the_same_bytes_as_the_copying_one() {
    let sizes = [
        0,
        10,
        SHARED_PAYLOAD_MIN - 1,
        SHARED_PAYLOAD_MIN,
        5_000,
        70_000,
        300_000,
    ];
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        for buffer in [64, 4096, 65_536] {
            let mut twins = Twins::new();
            let mut subscribers = Vec::new();
            for (n, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
                .into_iter()
                .enumerate()
            {
                let sub = twins.accept();
                let mut connect = Connect::<Bytes>::new(version, text(&format!("sub{n}")));
                if version.is_v5() {
                    connect.properties.topic_alias_maximum = Some(4);
                }
                twins.send(sub, version, connect.into());
                let mut properties = SubscribeProperties::new();
                if version.is_v5() {
                    properties.subscription_identifier = SubscriptionId::new(7 + n as u32);
                }
                let mut subscribe = Subscribe::<Bytes>::new(
                    PacketId::new(1).unwrap(),
                    [Subscription::new(TopicFilter::new("big/#").unwrap(), qos)],
                );
                subscribe.properties = properties;
                twins.send(sub, version, subscribe.into());
                subscribers.push(sub);
            }
            let publisher = twins.accept();
            twins.send(
                publisher,
                version,
                Connect::<Bytes>::new(version, text("pub")).into(),
            );
            twins.drain(buffer);
            let mut expected_shared = 0;
            for (n, &size) in sizes.iter().enumerate() {
                let qos = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][n % 3];
                let expiry = (version.is_v5() && n % 2 == 0).then_some(600);
                let id = u16::try_from(n + 1).unwrap();
                twins.send(
                    publisher,
                    version,
                    message("big/topic/here", size, qos, id, expiry),
                );
                if size >= SHARED_PAYLOAD_MIN {
                    // Each subscriber gets it: at the lower of its QoS and the message's.
                    expected_shared += size * subscribers.len();
                }
            }
            let (plain, vectored, shared) = twins.drain(buffer);
            let context = format!("{version}, buffer {buffer}");
            assert_eq!(plain.keys().len(), vectored.keys().len(), "{context}");
            for (conn, bytes) in &plain {
                assert!(
                    vectored.get(conn) == Some(bytes),
                    "{context}: the streams of {conn:?} differ ({} against {:?} bytes)",
                    bytes.len(),
                    vectored.get(conn).map(Vec::len)
                );
            }
            assert_eq!(shared, expected_shared, "{context}");
        }
    }
}
