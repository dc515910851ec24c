//! mqttrs 0.4 (3.1.1 only): `decode_slice` borrows strings and the payload from the input;
//! SUBSCRIBE and SUBACK entries go into `Vec`s and filters into `String`s (the `std` feature,
//! without which a SUBSCRIBE holds at most 5 filters). Encoding is `encode_slice` into a
//! reused `&mut [u8]`, its only encoder.
//!
//! `decode_slice` does not say how many bytes it took, so the stream loop reads the length from
//! the fixed header (the same read as the `header_scan` row).

use core::hint::black_box;

use mqttrs::{
    Connect, LastWill, Packet, Pid, Protocol, Publish, QoS, QosPid, Suback, Subscribe,
    SubscribeReturnCodes, SubscribeTopic,
};

use crate::fixtures::{self, Row, Stream, Version};
use crate::suite::{self, Group};

const NAME: &str = "mqttrs";

fn supports(version: Version) -> bool {
    version == Version::V311
}

fn read(input: &[u8]) -> Packet<'_> {
    mqttrs::decode_slice(input)
        .expect("mqttrs decodes the packet")
        .expect("the whole packet")
}

pub(crate) fn decode(group: &mut impl Group, version: Version, row: Row, wire: &[u8]) {
    if !supports(version) {
        return;
    }
    let payload = row.payload();
    assert_eq!(read(wire), build(row, payload.as_deref()), "mqttrs {row:?}");
    group.plain(NAME, || mqttrs::decode_slice(black_box(wire)));
}

pub(crate) fn encode(group: &mut impl Group, version: Version, row: Row, wire: &[u8]) {
    if !supports(version) {
        return;
    }
    let payload = row.payload();
    let packet = build(row, payload.as_deref());
    let mut buf = vec![0; 128 * 1024];
    let len = mqttrs::encode_slice(&packet, &mut buf).expect("mqttrs encodes");
    assert_eq!(len, wire.len());
    fixtures::assert_same_packet(NAME, version, row, &buf[..len]);
    group.plain(NAME, || mqttrs::encode_slice(black_box(&packet), &mut buf));
}

pub(crate) fn stream(group: &mut impl Group, version: Version, stream: &Stream) {
    if !supports(version) {
        return;
    }
    let drain = |mut input: &[u8]| {
        let mut packets = 0;
        while !input.is_empty() {
            black_box(read(input));
            input = &input[suite::frame_len(input)..];
            packets += 1;
        }
        packets
    };
    assert_eq!(drain(&stream.bytes), stream.packets);
    group.plain(NAME, || drain(black_box(&stream.bytes)));
}

fn qos(bits: u8) -> QoS {
    match bits {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

fn pid(id: u16) -> Pid {
    Pid::try_from(id).expect("non-zero packet id")
}

fn build(row: Row, payload: Option<&[u8]>) -> Packet<'_> {
    match row {
        Row::PublishQos0Small
        | Row::PublishQos0Kib
        | Row::PublishQos0Large
        | Row::PublishQos1Kib => Packet::Publish(Publish {
            dup: false,
            qospid: if row.publish_qos1() {
                QosPid::AtLeastOnce(pid(fixtures::PUBLISH_ID))
            } else {
                QosPid::AtMostOnce
            },
            retain: false,
            topic_name: fixtures::TOPIC,
            payload: payload.expect("a PUBLISH row"),
        }),
        Row::Connect => Packet::from(Connect {
            protocol: Protocol::MQTT311,
            keep_alive: fixtures::KEEP_ALIVE,
            client_id: fixtures::CLIENT_ID,
            clean_session: true,
            last_will: Some(LastWill {
                topic: fixtures::WILL_TOPIC,
                message: fixtures::WILL_PAYLOAD,
                qos: qos(fixtures::WILL_QOS),
                retain: true,
            }),
            username: Some(fixtures::USERNAME),
            password: Some(fixtures::PASSWORD),
        }),
        Row::Subscribe => Packet::Subscribe(Subscribe::new(
            pid(fixtures::SUBSCRIBE_ID),
            fixtures::FILTERS
                .iter()
                .map(|&(path, max_qos)| SubscribeTopic {
                    topic_path: path.to_owned(),
                    qos: qos(max_qos),
                })
                .collect(),
        )),
        Row::SubAck => Packet::Suback(Suback::new(
            pid(fixtures::SUBSCRIBE_ID),
            fixtures::suback_grants()
                .map(|grant| match grant {
                    Some(bits) => SubscribeReturnCodes::Success(qos(bits)),
                    None => SubscribeReturnCodes::Failure,
                })
                .collect(),
        )),
        Row::PubAck => Packet::Puback(pid(fixtures::PUBLISH_ID)),
        Row::PingReq => Packet::Pingreq,
    }
}
