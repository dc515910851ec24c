//! rumqttc 0.25: its public `mqttbytes::v4` (3.1.1) and `v5::mqttbytes::v5` (5.0) codecs.
//!
//! Decoding uses `Packet::read(&mut BytesMut, max)`, the function rumqttc's event loop calls:
//! it splits the packet off the front of the buffer it is given, so each measured call gets a
//! fresh copy of the input (copy and drop not measured), already in the shared state a
//! long-lived read buffer is in. 3.1.1 topics and strings are copied into `String`s; 5.0
//! topics stay `Bytes` (not checked as UTF-8); payloads are `Bytes` slices. Encoding is
//! `Packet::write` into a reused `BytesMut`.

use core::hint::black_box;

use bytes::{BufMut, Bytes, BytesMut};
use rumqttc::mqttbytes::{self as m4, v4};
use rumqttc::v5::mqttbytes::{self as m5, v5};

use crate::fixtures::{self, Row, Stream, Version};
use crate::suite::Group;

const NAME: &str = "rumqttc";
const MAX: usize = 2 * 1024 * 1024;

fn read_v4(buf: &mut BytesMut) -> v4::Packet {
    v4::Packet::read(buf, MAX).expect("rumqttc v4 decodes the packet")
}

fn read_v5(buf: &mut BytesMut) -> v5::Packet {
    v5::Packet::read(buf, Some(MAX as u32)).expect("rumqttc v5 decodes the packet")
}

/// A read buffer holding `bytes`, in the state a long-lived read buffer is in after its first
/// packet: already shared, so that splitting a packet off costs a reference count, not the
/// one-time allocation of the shared header (which a fresh `BytesMut` would pay on every call).
fn read_buffer(bytes: &[u8]) -> BytesMut {
    let mut buf = BytesMut::with_capacity(bytes.len() + 1);
    buf.extend_from_slice(bytes);
    buf.put_u8(0);
    drop(buf.split_off(bytes.len()));
    buf
}

pub(crate) fn decode(group: &mut impl Group, version: Version, row: Row, wire: &[u8]) {
    let setup = || read_buffer(wire);
    match version {
        Version::V311 => {
            check_v4(row, &read_v4(&mut setup()));
            // The packet is dropped inside the measured call, as every other row's is.
            group.batched(NAME, wire.len(), setup, |buf| drop(black_box(read_v4(buf))));
        }
        Version::V5 => {
            check_v5(row, &read_v5(&mut setup()));
            group.batched(NAME, wire.len(), setup, |buf| drop(black_box(read_v5(buf))));
        }
    }
}

pub(crate) fn encode(group: &mut impl Group, version: Version, row: Row, _wire: &[u8]) {
    let mut buf = fixtures::out_buffer();
    match version {
        Version::V311 => {
            let packet = build_v4(row);
            packet.write(&mut buf, MAX).expect("rumqttc v4 encodes");
            fixtures::assert_same_packet(NAME, version, row, &buf);
            group.plain(NAME, || {
                buf.clear();
                black_box(&packet).write(&mut buf, MAX)
            });
        }
        Version::V5 => {
            let packet = build_v5(row);
            packet.write(&mut buf, None).expect("rumqttc v5 encodes");
            fixtures::assert_same_packet(NAME, version, row, &buf);
            group.plain(NAME, || {
                buf.clear();
                black_box(&packet).write(&mut buf, None)
            });
        }
    }
}

pub(crate) fn stream(group: &mut impl Group, version: Version, stream: &Stream) {
    let setup = || read_buffer(&stream.bytes);
    match version {
        Version::V311 => {
            let drain = |buf: &mut BytesMut| {
                let mut packets = 0;
                while !buf.is_empty() {
                    black_box(read_v4(buf));
                    packets += 1;
                }
                packets
            };
            assert_eq!(drain(&mut setup()), stream.packets);
            group.batched(NAME, stream.bytes.len(), setup, drain);
        }
        Version::V5 => {
            let drain = |buf: &mut BytesMut| {
                let mut packets = 0;
                while !buf.is_empty() {
                    black_box(read_v5(buf));
                    packets += 1;
                }
                packets
            };
            assert_eq!(drain(&mut setup()), stream.packets);
            group.batched(NAME, stream.bytes.len(), setup, drain);
        }
    }
}

fn qos4(bits: u8) -> m4::QoS {
    m4::qos(bits).expect("valid QoS")
}

fn qos5(bits: u8) -> m5::QoS {
    m5::qos(bits).expect("valid QoS")
}

fn password() -> &'static str {
    core::str::from_utf8(fixtures::PASSWORD).expect("an ASCII password")
}

fn build_v4(row: Row) -> v4::Packet {
    match row {
        Row::PublishQos0Small
        | Row::PublishQos0Kib
        | Row::PublishQos0Large
        | Row::PublishQos1Kib => {
            let payload = row.payload().expect("a PUBLISH row");
            let qos = if row.publish_qos1() { 1 } else { 0 };
            let mut publish = v4::Publish::from_bytes(fixtures::TOPIC, qos4(qos), payload);
            if row.publish_qos1() {
                publish.pkid = fixtures::PUBLISH_ID;
            }
            v4::Packet::Publish(publish)
        }
        Row::Connect => {
            let mut connect = v4::Connect::new(fixtures::CLIENT_ID);
            connect.keep_alive = fixtures::KEEP_ALIVE;
            connect.clean_session = true;
            connect.last_will = Some(v4::LastWill::new(
                fixtures::WILL_TOPIC,
                fixtures::WILL_PAYLOAD,
                qos4(fixtures::WILL_QOS),
                true,
            ));
            connect.set_login(fixtures::USERNAME, password());
            v4::Packet::Connect(connect)
        }
        Row::Subscribe => {
            let mut subscribe = v4::Subscribe::new_many(
                fixtures::FILTERS
                    .iter()
                    .map(|&(path, qos)| v4::SubscribeFilter::new(path.to_owned(), qos4(qos))),
            );
            subscribe.pkid = fixtures::SUBSCRIBE_ID;
            v4::Packet::Subscribe(subscribe)
        }
        Row::SubAck => v4::Packet::SubAck(v4::SubAck::new(
            fixtures::SUBSCRIBE_ID,
            fixtures::suback_grants()
                .map(|grant| match grant {
                    Some(qos) => v4::SubscribeReasonCode::Success(qos4(qos)),
                    None => v4::SubscribeReasonCode::Failure,
                })
                .collect(),
        )),
        Row::PubAck => v4::Packet::PubAck(v4::PubAck::new(fixtures::PUBLISH_ID)),
        Row::PingReq => v4::Packet::PingReq,
    }
}

fn build_v5(row: Row) -> v5::Packet {
    match row {
        Row::PublishQos0Small
        | Row::PublishQos0Kib
        | Row::PublishQos0Large
        | Row::PublishQos1Kib => {
            let payload = row.payload().expect("a PUBLISH row");
            let qos = if row.publish_qos1() { 1 } else { 0 };
            let mut publish = v5::Publish::new(fixtures::TOPIC, qos5(qos), payload, None);
            if row.publish_qos1() {
                publish.pkid = fixtures::PUBLISH_ID;
            }
            v5::Packet::Publish(publish)
        }
        Row::Connect => {
            let mut properties = v5::ConnectProperties::new();
            properties.session_expiry_interval = Some(fixtures::SESSION_EXPIRY);
            properties.receive_maximum = Some(fixtures::RECEIVE_MAXIMUM);
            let (name, value) = fixtures::USER_PROPERTY;
            properties.user_properties = vec![(name.to_owned(), value.to_owned())];
            let connect = v5::Connect {
                keep_alive: fixtures::KEEP_ALIVE,
                client_id: fixtures::CLIENT_ID.to_owned(),
                clean_start: true,
                properties: Some(properties),
            };
            let will = v5::LastWill::new(
                fixtures::WILL_TOPIC,
                fixtures::WILL_PAYLOAD,
                qos5(fixtures::WILL_QOS),
                true,
                None,
            );
            let login = v5::Login::new(fixtures::USERNAME, password());
            v5::Packet::Connect(connect, Some(will), Some(login))
        }
        Row::Subscribe => {
            let mut subscribe = v5::Subscribe::new_many(
                fixtures::FILTERS
                    .iter()
                    .map(|&(path, qos)| v5::Filter::new(path, qos5(qos))),
                None,
            );
            subscribe.pkid = fixtures::SUBSCRIBE_ID;
            v5::Packet::Subscribe(subscribe)
        }
        Row::SubAck => v5::Packet::SubAck(v5::SubAck {
            pkid: fixtures::SUBSCRIBE_ID,
            return_codes: fixtures::suback_grants()
                .map(|grant| match grant {
                    Some(qos) => v5::SubscribeReasonCode::Success(qos5(qos)),
                    None => v5::SubscribeReasonCode::Unspecified,
                })
                .collect(),
            properties: None,
        }),
        Row::PubAck => v5::Packet::PubAck(v5::PubAck::new(fixtures::PUBLISH_ID, None)),
        Row::PingReq => v5::Packet::PingReq(v5::PingReq),
    }
}

fn check_v4(row: Row, packet: &v4::Packet) {
    // The decoded packet must be the one we would build; rumqttc's types compare by value.
    assert_eq!(packet, &build_v4(row), "rumqttc v4 {row:?}");
    if let v4::Packet::Publish(publish) = packet {
        assert_eq!(publish.topic, fixtures::TOPIC);
        assert_eq!(Some(&publish.payload), row.payload().as_ref());
    }
}

fn check_v5(row: Row, packet: &v5::Packet) {
    match (packet, build_v5(row)) {
        // An absent property block decodes as `None`, so compare the fields.
        (v5::Packet::Publish(publish), v5::Packet::Publish(expected)) => {
            assert_eq!(
                publish.topic,
                Bytes::from_static(fixtures::TOPIC.as_bytes())
            );
            assert_eq!(publish.payload, expected.payload);
            assert_eq!((publish.qos, publish.pkid), (expected.qos, expected.pkid));
            assert!(!publish.retain && !publish.dup);
        }
        (v5::Packet::Connect(connect, will, login), v5::Packet::Connect(c, w, l)) => {
            assert_eq!(connect, &c);
            assert_eq!(login, &l);
            let (will, w) = (will.as_ref().expect("a will"), w.expect("a will"));
            assert_eq!((&will.topic, &will.message), (&w.topic, &w.message));
            assert_eq!((will.qos, will.retain), (w.qos, w.retain));
        }
        (packet, expected) => assert_eq!(packet, &expected, "rumqttc v5 {row:?}"),
    }
}
