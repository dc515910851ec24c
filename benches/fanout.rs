//! Fan-out: one stored PUBLISH delivered to 100 subscribers, half on MQTT 3.1.1 and half on
//! 5.0, each with its own Packet Identifier and (on 5.0) Subscription Identifier.
//!
//! - `full` encodes every delivery whole with `Publish::encode_for`, payload included;
//! - `head` writes only each delivery's head with `Publish::encode_head_for` and queues a
//!   shared handle to the payload beside it, as a driver's vectored write would.
//!
//! Both write into buffers reused across iterations, so neither allocates. The bytes copied
//! per delivery are printed before the timings (`cargo bench --bench fanout`).

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mqtt_sansio::{
    Delivery, MessageProperties, Outgoing, PacketId, ProtocolVersion, Publish, QoS, SubscriptionId,
    TopicName,
};

const SUBSCRIBERS: usize = 100;

/// One subscriber's connection version and per-delivery values.
struct Subscriber {
    version: ProtocolVersion,
    packet_id: PacketId,
    subscription_ids: Vec<SubscriptionId>,
}

impl Subscriber {
    fn outgoing(&self) -> Outgoing<'_> {
        Outgoing {
            subscription_ids: &self.subscription_ids,
            message_expiry_interval: Some(3600),
            ..Outgoing::new(Delivery::new(QoS::AtLeastOnce, self.packet_id))
        }
    }
}

fn subscribers() -> Vec<Subscriber> {
    (1..=SUBSCRIBERS)
        .map(|n| {
            let v5 = n % 2 == 0;
            Subscriber {
                version: if v5 {
                    ProtocolVersion::V5
                } else {
                    ProtocolVersion::V3_1_1
                },
                packet_id: PacketId::new(u16::try_from(n).unwrap()).unwrap(),
                subscription_ids: if v5 {
                    vec![SubscriptionId::new(u32::try_from(n).unwrap()).unwrap()]
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

/// A message from a 5.0 publisher, with a Content Type and a User Property to forward.
fn message(payload_len: usize) -> Publish {
    let mut message = Publish::new(
        TopicName::new("sensors/building-1/floor-3/temp").unwrap(),
        Bytes::from(vec![0x5a; payload_len]),
    );
    message.properties.message = MessageProperties::builder()
        .content_type("application/octet-stream")
        .user_property("site", "north")
        .build()
        .unwrap();
    message
}

fn fan_out(c: &mut Criterion) {
    let subscribers = subscribers();
    for (name, payload_len) in [("16B", 16), ("64KiB", 64 * 1024)] {
        let message = message(payload_len);
        let whole: usize = subscribers
            .iter()
            .map(|s| message.encoded_len_for(s.version, &s.outgoing()).unwrap())
            .sum();
        let head = whole - SUBSCRIBERS * payload_len;
        eprintln!(
            "fanout/{name}: bytes copied per delivery: full {:.1}, head {:.1}",
            whole as f64 / SUBSCRIBERS as f64,
            head as f64 / SUBSCRIBERS as f64
        );
        let mut group = c.benchmark_group(format!("fanout/{name}"));
        group.throughput(Throughput::Elements(SUBSCRIBERS as u64));
        let mut out = BytesMut::with_capacity(whole);
        group.bench_function("full", |b| {
            b.iter(|| {
                out.clear();
                for subscriber in &subscribers {
                    let outgoing = subscriber.outgoing();
                    message
                        .encode_for(subscriber.version, &outgoing, &mut out)
                        .unwrap();
                }
                out.len()
            });
        });
        let mut heads = BytesMut::with_capacity(head);
        let mut payloads: Vec<Bytes> = Vec::with_capacity(SUBSCRIBERS);
        group.bench_function("head", |b| {
            b.iter(|| {
                heads.clear();
                payloads.clear();
                for subscriber in &subscribers {
                    let outgoing = subscriber.outgoing();
                    message
                        .encode_head_for(subscriber.version, &outgoing, &mut heads)
                        .unwrap();
                    payloads.push(message.payload.clone());
                }
                heads.len() + payloads.len()
            });
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(core::time::Duration::from_millis(500))
        .measurement_time(core::time::Duration::from_millis(1500))
        .sample_size(30);
    targets = fan_out
}
criterion_main!(benches);
