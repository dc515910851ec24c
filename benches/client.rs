//! The client state machine per message, ours side by side with rumqttc's `MqttState` (the
//! state machine inside rumqttc's event loop, which can be driven without its I/O), MQTT 3.1.1,
//! 64-byte payloads:
//!
//! - `publish_qos1`: the application publishes, the PUBLISH is written to a buffer, the
//!   server's PUBACK is read and its completion handed back;
//! - `receive_qos1`: a server PUBLISH is read from received bytes, handed to the application,
//!   and the PUBACK written;
//! - `receive_qos0`: the same for QoS 0, 16 messages per read.
//!
//! Each side does what its driver must: ours through `publish` / `handle_data` /
//! `poll_transmit` / `poll_event`; rumqttc through `handle_outgoing_packet` /
//! `Packet::read` / `handle_incoming_packet` / `Packet::write` and its event queue. Each row
//! checks once, before timing, that it produces the expected bytes or message.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mqtt_sansio::{
    Client, ClientConfig, ConnAck, ConnectOptions, ConnectReasonCode, Delivery, Event, Instant,
    Packet, PacketId, ProtocolVersion, Publish, QoS, TopicName,
};

const PAYLOAD: [u8; 64] = [0x5a; 64];
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// A client connected in 3.1.1 with the given configuration.
fn connected(config: ClientConfig) -> Client {
    let mut client = Client::new(config);
    client
        .connect(Instant::ZERO, ConnectOptions::new(V311, "bench").unwrap())
        .unwrap();
    let mut buf = [0u8; 256];
    while client.poll_transmit(&mut buf).is_some() {}
    let mut connack = Vec::new();
    Packet::from(ConnAck::<Bytes>::new(false, ConnectReasonCode::Success))
        .encode(V311, &mut connack)
        .unwrap();
    client.handle_data(Instant::ZERO, &connack);
    assert!(matches!(client.poll_event(), Some(Event::Connected(_))));
    client
}

fn message(qos: QoS) -> Publish {
    Publish::new(
        TopicName::new("sensors/room-1/temp").unwrap(),
        Bytes::from_static(&PAYLOAD),
    )
    .with_qos(qos)
}

/// A server PUBLISH as it arrives on the wire.
fn server_publish(qos: QoS, id: u16) -> Vec<u8> {
    let mut publish = message(qos);
    publish.delivery = Delivery::new(qos, PacketId::new(id).unwrap());
    let mut wire = Vec::new();
    Packet::Publish(publish).encode(V311, &mut wire).unwrap();
    wire
}

fn publish_qos1(c: &mut Criterion) {
    let mut group = c.benchmark_group("client/publish_qos1");
    group.throughput(Throughput::Elements(1));

    group.bench_function("mqtt-sansio", |b| {
        let mut client = connected(ClientConfig::default());
        let mut out = [0u8; 512];
        let now = Instant::ZERO;
        b.iter(|| {
            let id = client
                .publish(now, message(QoS::AtLeastOnce))
                .unwrap()
                .unwrap();
            let transmit = client.poll_transmit(&mut out).unwrap();
            black_box(&out[..transmit.len]);
            let [high, low] = id.get().to_be_bytes();
            client.handle_data(now, &[0x40, 0x02, high, low]);
            match client.poll_event() {
                Some(Event::Published { result: Ok(()), .. }) => {}
                other => panic!("{other:?}"),
            }
        });
    });

    group.bench_function("rumqttc", |b| {
        let mut state = rumqttc::MqttState::new(100, false);
        let mut out = BytesMut::with_capacity(512);
        let mut input = BytesMut::with_capacity(64);
        b.iter(|| {
            let publish = rumqttc::Publish::new(
                "sensors/room-1/temp",
                rumqttc::QoS::AtLeastOnce,
                PAYLOAD.to_vec(),
            );
            let packet = state
                .handle_outgoing_packet(rumqttc::Request::Publish(publish))
                .unwrap()
                .unwrap();
            let rumqttc::Packet::Publish(sent) = &packet else {
                panic!()
            };
            let pkid = sent.pkid;
            packet.write(&mut out, 1 << 20).unwrap();
            black_box(&out[..]);
            out.clear();
            let [high, low] = pkid.to_be_bytes();
            input.extend_from_slice(&[0x40, 0x02, high, low]);
            let ack = rumqttc::Packet::read(&mut input, 1 << 20).unwrap();
            assert!(state.handle_incoming_packet(ack).unwrap().is_none());
            black_box(state.events.pop_front());
            black_box(state.events.pop_front());
        });
    });
    group.finish();
}

fn receive_qos1(c: &mut Criterion) {
    let mut group = c.benchmark_group("client/receive_qos1");
    group.throughput(Throughput::Elements(1));
    let wire = server_publish(QoS::AtLeastOnce, 7);

    group.bench_function("mqtt-sansio", |b| {
        let mut client = connected(ClientConfig::default());
        let mut out = [0u8; 64];
        let now = Instant::ZERO;
        b.iter(|| {
            client.handle_data(now, &wire);
            let Some(Event::Message(message)) = client.poll_event() else {
                panic!()
            };
            black_box(message);
            let transmit = client.poll_transmit(&mut out).unwrap();
            assert_eq!(&out[..transmit.len], [0x40, 0x02, 0x00, 0x07]);
        });
    });

    group.bench_function("rumqttc", |b| {
        let mut state = rumqttc::MqttState::new(100, false);
        let mut input = BytesMut::with_capacity(wire.len());
        let mut out = BytesMut::with_capacity(64);
        b.iter(|| {
            input.extend_from_slice(&wire);
            let packet = rumqttc::Packet::read(&mut input, 1 << 20).unwrap();
            let reply = state.handle_incoming_packet(packet).unwrap().unwrap();
            black_box(state.events.pop_front());
            reply.write(&mut out, 1 << 20).unwrap();
            assert_eq!(&out[..], [0x40, 0x02, 0x00, 0x07]);
            out.clear();
        });
    });
    group.finish();
}

fn receive_qos0(c: &mut Criterion) {
    const BATCH: usize = 16;
    let mut group = c.benchmark_group("client/receive_qos0_x16");
    group.throughput(Throughput::Elements(BATCH as u64));
    let one = server_publish(QoS::AtMostOnce, 1);
    let wire: Vec<u8> = one
        .iter()
        .copied()
        .cycle()
        .take(one.len() * BATCH)
        .collect();
    let shared = Bytes::from(wire.clone());

    group.bench_function("mqtt-sansio/handle_data", |b| {
        let mut client = connected(ClientConfig::default());
        b.iter(|| {
            client.handle_data(Instant::ZERO, &wire);
            for _ in 0..BATCH {
                let Some(Event::Message(message)) = client.poll_event() else {
                    panic!()
                };
                black_box(message);
            }
        });
    });

    group.bench_function("mqtt-sansio/handle_bytes", |b| {
        let mut client = connected(ClientConfig::default());
        b.iter(|| {
            client.handle_bytes(Instant::ZERO, shared.clone());
            for _ in 0..BATCH {
                let Some(Event::Message(message)) = client.poll_event() else {
                    panic!()
                };
                black_box(message);
            }
        });
    });

    group.bench_function("rumqttc", |b| {
        let mut state = rumqttc::MqttState::new(100, false);
        let mut input = BytesMut::with_capacity(wire.len());
        b.iter(|| {
            input.extend_from_slice(&wire);
            for _ in 0..BATCH {
                let packet = rumqttc::Packet::read(&mut input, 1 << 20).unwrap();
                assert!(state.handle_incoming_packet(packet).unwrap().is_none());
                black_box(state.events.pop_front());
            }
        });
    });
    group.finish();
}

criterion_group!(benches, publish_qos1, receive_qos1, receive_qos0);
criterion_main!(benches);
