//! A subscriber whose driver writes nothing to it (a client that does not read): the QoS 0
//! deliveries waiting on its connection are bounded by the session queue's limits, in
//! messages and in bytes, the excess dropped and counted, so that one slow client cannot grow
//! the broker without bound. Driven without the harness, which writes everything out.

use bytes::Bytes;
use mqtt_sansio::broker::ConnectionHandle;
use mqtt_sansio::{
    Broker, BrokerConfig, Connect, Instant, MqttString, Packet, PacketId, ProtocolVersion, Publish,
    QoS, Subscribe, Subscription, TopicFilter, TopicName,
};

const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
const NOW: Instant = Instant::ZERO;

fn wire(packet: impl Into<Packet>) -> Vec<u8> {
    let mut out = Vec::new();
    packet.into().encode(V311, &mut out).unwrap();
    out
}

fn connect(broker: &mut Broker, client_id: &str) -> ConnectionHandle {
    let handle = broker.accept(NOW).unwrap();
    let id = MqttString::new(bytestring::ByteString::from(client_id)).unwrap();
    broker.handle_data(NOW, handle, &wire(Connect::<Bytes>::new(V311, id)));
    handle
}

/// Writes out everything the broker has, as a driver does; between two calls the test writes
/// nothing, which is a subscriber that does not read.
fn settle(broker: &mut Broker) {
    let mut buf = vec![0u8; 1 << 16];
    while broker.poll_transmit(&mut buf).is_some() {}
    while broker.poll_event().is_some() {}
}

/// A broker with `config`, a subscriber to `feed` at QoS 0 and a publisher, everything
/// written out; returns the broker and the publisher.
fn slow_subscriber(config: BrokerConfig) -> (Broker, ConnectionHandle) {
    let mut broker = Broker::new(config);
    let subscriber = connect(&mut broker, "slow");
    let filter = TopicFilter::new(bytestring::ByteString::from("feed")).unwrap();
    let subscribe = Subscribe::<Bytes>::new(
        PacketId::new(1).unwrap(),
        [Subscription::new(filter, QoS::AtMostOnce)],
    );
    broker.handle_data(NOW, subscriber, &wire(subscribe));
    let publisher = connect(&mut broker, "fast");
    settle(&mut broker);
    (broker, publisher)
}

fn publish(broker: &mut Broker, publisher: ConnectionHandle, payload: usize) {
    let message = Publish::new(
        TopicName::new("feed").unwrap(),
        Bytes::from(vec![1u8; payload]),
    );
    broker.handle_data(NOW, publisher, &wire(Packet::Publish(message)));
}

/// With room for 1,000 messages and 10 KiB, a subscriber that reads nothing keeps ten 1 KiB
/// messages waiting and no more: the rest are dropped and counted, and the broker holds ten
/// messages' worth of payload.
#[test]
fn qos0_backlog_of_a_client_that_does_not_read_is_bounded_in_bytes() {
    let (mut broker, publisher) = slow_subscriber(BrokerConfig {
        max_queued_messages: 1000,
        max_queued_bytes: 10 * 1024,
        ..BrokerConfig::default()
    });
    for _ in 0..50 {
        publish(&mut broker, publisher, 1024);
    }
    let stats = broker.stats();
    assert_eq!(stats.dropped_queue_full, 40);
    assert_eq!(stats.stored_messages, 10);
    assert_eq!(stats.stored_bytes, 10 * 1024);
    // Once it reads, the backlog drains and makes room again.
    settle(&mut broker);
    assert_eq!(broker.stats().stored_messages, 0);
    for _ in 0..10 {
        publish(&mut broker, publisher, 1024);
    }
    assert_eq!(broker.stats().dropped_queue_full, 40);
}

/// The bound in messages holds for small messages.
#[test]
fn qos0_backlog_of_a_client_that_does_not_read_is_bounded_in_messages() {
    let (mut broker, publisher) = slow_subscriber(BrokerConfig {
        max_queued_messages: 5,
        ..BrokerConfig::default()
    });
    for _ in 0..8 {
        publish(&mut broker, publisher, 1);
    }
    assert_eq!(broker.stats().dropped_queue_full, 3);
    assert_eq!(broker.stats().stored_messages, 5);
}
