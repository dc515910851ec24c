//! The broker core alone, no sockets, one thread: the cost of routing and writing deliveries
//! into transmit buffers, so that what sockets add is the driver's, not the core's.
//!
//! - `fanout_qos0`: one 64-byte QoS 0 PUBLISH to 100 subscribers (MQTT 3.1.1), every delivery
//!   encoded into the driver's buffer by `poll_transmit`; elements are deliveries.
//! - `fanin_qos0`: 100 publishers, one message each, to one subscriber; elements are messages.
//! - `qos1_one_to_one`: a QoS 1 PUBLISH from one client to one subscriber, with the PUBACK to
//!   the publisher and the subscriber's PUBACK back; elements are messages.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mqtt_sansio::broker::ConnectionHandle;
use mqtt_sansio::{
    Broker, BrokerConfig, Connect, Delivery, Instant, MqttString, Packet, PacketId,
    ProtocolVersion, Publish, QoS, Subscribe, Subscription, TopicFilter, TopicName,
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
    let packet = Connect::<Bytes>::new(
        V311,
        MqttString::new(bytestring::ByteString::from(client_id)).unwrap(),
    );
    broker.handle_data(NOW, handle, &wire(packet));
    handle
}

fn subscribe(broker: &mut Broker, handle: ConnectionHandle, filter: &str, qos: QoS) {
    let packet = Subscribe::<Bytes>::new(
        PacketId::new(1).unwrap(),
        [Subscription::new(
            TopicFilter::new(bytestring::ByteString::from(filter)).unwrap(),
            qos,
        )],
    );
    broker.handle_data(NOW, handle, &wire(packet));
}

fn publish(qos: QoS, id: u16) -> Vec<u8> {
    let mut publish = Publish::new(
        TopicName::new("bench/topic").unwrap(),
        Bytes::from_static(&[0x5a; 64]),
    );
    publish.delivery = Delivery::new(qos, PacketId::new(id).unwrap());
    wire(Packet::Publish(publish))
}

/// Drains every connection's bytes; returns the packets written.
fn drain(broker: &mut Broker, buf: &mut [u8]) -> usize {
    let mut packets = 0;
    while let Some(transmit) = broker.poll_transmit(buf) {
        black_box(&buf[..transmit.len]);
        packets += transmit.packets;
    }
    while broker.poll_event().is_some() {}
    packets
}

fn fanout(c: &mut Criterion) {
    const SUBSCRIBERS: usize = 100;
    let mut broker = Broker::new(BrokerConfig::default());
    let mut buf = vec![0u8; 64 * 1024];
    for n in 0..SUBSCRIBERS {
        let handle = connect(&mut broker, &format!("sub-{n}"));
        subscribe(&mut broker, handle, "bench/#", QoS::AtMostOnce);
    }
    let publisher = connect(&mut broker, "pub");
    drain(&mut broker, &mut buf);
    let message = publish(QoS::AtMostOnce, 1);
    broker.handle_data(NOW, publisher, &message);
    assert_eq!(drain(&mut broker, &mut buf), SUBSCRIBERS);

    let mut group = c.benchmark_group("broker/fanout_qos0_64B");
    group.throughput(Throughput::Elements(SUBSCRIBERS as u64));
    group.bench_function("1_to_100", |b| {
        b.iter(|| {
            broker.handle_data(NOW, publisher, &message);
            drain(&mut broker, &mut buf)
        });
    });
    group.finish();
}

fn fanin(c: &mut Criterion) {
    const PUBLISHERS: usize = 100;
    let mut broker = Broker::new(BrokerConfig::default());
    let mut buf = vec![0u8; 64 * 1024];
    let subscriber = connect(&mut broker, "sub");
    subscribe(&mut broker, subscriber, "bench/#", QoS::AtMostOnce);
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|n| connect(&mut broker, &format!("pub-{n}")))
        .collect();
    drain(&mut broker, &mut buf);
    let message = publish(QoS::AtMostOnce, 1);

    let mut group = c.benchmark_group("broker/fanin_qos0_64B");
    group.throughput(Throughput::Elements(PUBLISHERS as u64));
    group.bench_function("100_to_1", |b| {
        b.iter(|| {
            for &publisher in &publishers {
                broker.handle_data(NOW, publisher, &message);
            }
            drain(&mut broker, &mut buf)
        });
    });
    group.finish();
}

fn qos1(c: &mut Criterion) {
    let mut broker = Broker::new(BrokerConfig::default());
    let mut buf = vec![0u8; 64 * 1024];
    let subscriber = connect(&mut broker, "sub");
    subscribe(&mut broker, subscriber, "bench/#", QoS::AtLeastOnce);
    let publisher = connect(&mut broker, "pub");
    drain(&mut broker, &mut buf);
    let message = publish(QoS::AtLeastOnce, 1);
    let mut next: u16 = 0;

    let mut group = c.benchmark_group("broker/qos1_64B");
    group.throughput(Throughput::Elements(1));
    group.bench_function("1_to_1_with_acks", |b| {
        b.iter(|| {
            broker.handle_data(NOW, publisher, &message);
            // The broker's delivery takes the subscriber's next identifier: 1, 2, ...
            next = next.checked_add(1).unwrap_or(1);
            let [high, low] = next.to_be_bytes();
            let packets = drain(&mut broker, &mut buf);
            broker.handle_data(NOW, subscriber, &[0x40, 0x02, high, low]);
            packets
        });
    });
    group.finish();
}

criterion_group!(benches, fanout, fanin, qos1);
criterion_main!(benches);
