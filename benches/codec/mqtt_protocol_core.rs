//! mqtt-protocol-core 0.7 (3.1.1 and 5.0), a sans-IO library like ours.
//!
//! Its decoding path is the one its `Connection` takes on received bytes: a `PacketBuilder`
//! frames the packet (copying the body into a `Vec`, then for a PUBLISH into an `Arc<[u8]>`),
//! and the packet type's `parse` decodes the body. The adapter does the dispatch on the packet
//! type that `Connection` does, without the connection's state machine. Encoding is
//! `to_buffers()` (a `Vec<IoSlice>` over the packet's parts, its vectored-write API) copied
//! into a reused `BytesMut`.

use core::hint::black_box;

use bytes::{BufMut, BytesMut};
use mqtt_protocol_core::mqtt::common::Cursor;
use mqtt_protocol_core::mqtt::connection::{PacketBuildResult, PacketBuilder, PacketData};
use mqtt_protocol_core::mqtt::packet::{
    GenericPacketTrait, Packet, Property, Qos, ReceiveMaximum, SessionExpiryInterval, SubEntry,
    SubOpts, UserProperty, v3_1_1 as v3, v5_0 as v5,
};
use mqtt_protocol_core::mqtt::result_code::{MqttError, SubackReasonCode, SubackReturnCode};

use crate::fixtures::{self, Row, Stream, Version};
use crate::suite::Group;

const NAME: &str = "mqtt-protocol-core";

/// Frames and decodes the next packet of `input`.
fn read(builder: &mut PacketBuilder, version: Version, input: &mut Cursor<&[u8]>) -> Packet {
    let PacketBuildResult::Complete(raw) = builder.feed(input) else {
        panic!("mqtt-protocol-core frames a whole packet");
    };
    let flags = raw.flags();
    let packet_type = raw.packet_type();
    let decoded: Result<Packet, MqttError> = match (version, packet_type) {
        (_, 3) => {
            let PacketData::Publish(body) = raw.data else {
                panic!("a PUBLISH body is an Arc");
            };
            match version {
                Version::V311 => v3::Publish::parse(flags, body).map(|(p, _)| p.into()),
                Version::V5 => v5::Publish::parse(flags, body).map(|(p, _)| p.into()),
            }
        }
        (Version::V311, 1) => raw.parse_exact(v3::Connect::parse).map(Into::into),
        (Version::V311, 4) => raw.parse_exact(v3::Puback::parse).map(Into::into),
        (Version::V311, 8) => raw.parse_exact(v3::Subscribe::parse).map(Into::into),
        (Version::V311, 9) => raw.parse_exact(v3::Suback::parse).map(Into::into),
        (Version::V311, 12) => raw.parse_exact(v3::Pingreq::parse).map(Into::into),
        (Version::V5, 1) => raw.parse_exact(v5::Connect::parse).map(Into::into),
        (Version::V5, 4) => raw.parse_exact(v5::Puback::parse).map(Into::into),
        (Version::V5, 8) => raw.parse_exact(v5::Subscribe::parse).map(Into::into),
        (Version::V5, 9) => raw.parse_exact(v5::Suback::parse).map(Into::into),
        (Version::V5, 12) => raw.parse_exact(v5::Pingreq::parse).map(Into::into),
        (_, other) => panic!("packet type {other} is not in the benchmark"),
    };
    decoded.expect("mqtt-protocol-core decodes the packet")
}

pub(crate) fn decode(group: &mut impl Group, version: Version, row: Row, wire: &[u8]) {
    let mut builder = PacketBuilder::new();
    let decoded = read(&mut builder, version, &mut Cursor::new(wire));
    assert_eq!(decoded, build(version, row), "{NAME} {version:?} {row:?}");
    assert_eq!(decoded.to_continuous_buffer(), wire);
    group.plain(NAME, || {
        read(
            &mut builder,
            black_box(version),
            &mut Cursor::new(black_box(wire)),
        )
    });
}

pub(crate) fn encode(group: &mut impl Group, version: Version, row: Row, _wire: &[u8]) {
    let packet = build(version, row);
    let mut buf = fixtures::out_buffer();
    let write = |packet: &Packet, buf: &mut BytesMut| {
        for slice in packet.to_buffers() {
            buf.put_slice(&slice);
        }
    };
    write(&packet, &mut buf);
    fixtures::assert_same_packet(NAME, version, row, &buf);
    group.plain(NAME, || {
        buf.clear();
        write(black_box(&packet), &mut buf);
    });
}

pub(crate) fn stream(group: &mut impl Group, version: Version, stream: &Stream) {
    let mut builder = PacketBuilder::new();
    let mut drain = |input: &[u8]| {
        let mut cursor = Cursor::new(input);
        let mut packets = 0;
        while (cursor.position() as usize) < input.len() {
            black_box(read(&mut builder, black_box(version), &mut cursor));
            packets += 1;
        }
        packets
    };
    assert_eq!(drain(&stream.bytes), stream.packets);
    group.plain(NAME, || drain(black_box(&stream.bytes)));
}

fn qos(bits: u8) -> Qos {
    match bits {
        0 => Qos::AtMostOnce,
        1 => Qos::AtLeastOnce,
        _ => Qos::ExactlyOnce,
    }
}

fn entries() -> Vec<SubEntry> {
    fixtures::FILTERS
        .iter()
        .map(|&(filter, max_qos)| {
            SubEntry::new(filter, SubOpts::new().set_qos(qos(max_qos))).expect("valid entry")
        })
        .collect()
}

/// The packet for `row`; every builder error is a bug in this adapter.
fn build(version: Version, row: Row) -> Packet {
    try_build(version, row).expect("mqtt-protocol-core builds the packet")
}

fn try_build(version: Version, row: Row) -> Result<Packet, MqttError> {
    let will_qos = qos(fixtures::WILL_QOS);
    Ok(match (version, row) {
        (
            _,
            Row::PublishQos0Small
            | Row::PublishQos0Kib
            | Row::PublishQos0Large
            | Row::PublishQos1Kib,
        ) => {
            let payload = row.payload().expect("a PUBLISH row").to_vec();
            match version {
                Version::V311 => {
                    let mut builder = v3::Publish::builder().topic_name(fixtures::TOPIC)?;
                    if row.publish_qos1() {
                        builder = builder
                            .qos(Qos::AtLeastOnce)
                            .packet_id(fixtures::PUBLISH_ID);
                    }
                    builder.payload(payload).build()?.into()
                }
                Version::V5 => {
                    let mut builder = v5::Publish::builder().topic_name(fixtures::TOPIC)?;
                    if row.publish_qos1() {
                        builder = builder
                            .qos(Qos::AtLeastOnce)
                            .packet_id(fixtures::PUBLISH_ID);
                    }
                    builder.payload(payload).build()?.into()
                }
            }
        }
        (Version::V311, Row::Connect) => v3::Connect::builder()
            .client_id(fixtures::CLIENT_ID)?
            .clean_session(true)
            .keep_alive(fixtures::KEEP_ALIVE)
            .will_message(
                fixtures::WILL_TOPIC,
                fixtures::WILL_PAYLOAD.to_vec(),
                will_qos,
                true,
            )?
            .user_name(fixtures::USERNAME)?
            .password(fixtures::PASSWORD.to_vec())?
            .build()?
            .into(),
        (Version::V5, Row::Connect) => {
            let (name, value) = fixtures::USER_PROPERTY;
            v5::Connect::builder()
                .client_id(fixtures::CLIENT_ID)?
                .clean_start(true)
                .keep_alive(fixtures::KEEP_ALIVE)
                .props(vec![
                    Property::SessionExpiryInterval(SessionExpiryInterval::new(
                        fixtures::SESSION_EXPIRY,
                    )?),
                    Property::ReceiveMaximum(ReceiveMaximum::new(fixtures::RECEIVE_MAXIMUM)?),
                    Property::UserProperty(UserProperty::new(name, value)?),
                ])
                .will_message(
                    fixtures::WILL_TOPIC,
                    fixtures::WILL_PAYLOAD.to_vec(),
                    will_qos,
                    true,
                )?
                .user_name(fixtures::USERNAME)?
                .password(fixtures::PASSWORD.to_vec())?
                .build()?
                .into()
        }
        (Version::V311, Row::Subscribe) => v3::Subscribe::builder()
            .packet_id(fixtures::SUBSCRIBE_ID)
            .entries(entries())
            .build()?
            .into(),
        (Version::V5, Row::Subscribe) => v5::Subscribe::builder()
            .packet_id(fixtures::SUBSCRIBE_ID)
            .entries(entries())
            .build()?
            .into(),
        (Version::V311, Row::SubAck) => v3::Suback::builder()
            .packet_id(fixtures::SUBSCRIBE_ID)
            .return_codes(
                fixtures::suback_grants()
                    .map(|grant| match grant {
                        Some(0) => SubackReturnCode::SuccessMaximumQos0,
                        Some(1) => SubackReturnCode::SuccessMaximumQos1,
                        Some(_) => SubackReturnCode::SuccessMaximumQos2,
                        None => SubackReturnCode::Failure,
                    })
                    .collect::<Vec<_>>(),
            )
            .build()?
            .into(),
        (Version::V5, Row::SubAck) => v5::Suback::builder()
            .packet_id(fixtures::SUBSCRIBE_ID)
            .reason_codes(
                fixtures::suback_grants()
                    .map(|grant| match grant {
                        Some(0) => SubackReasonCode::GrantedQos0,
                        Some(1) => SubackReasonCode::GrantedQos1,
                        Some(_) => SubackReasonCode::GrantedQos2,
                        None => SubackReasonCode::UnspecifiedError,
                    })
                    .collect::<Vec<_>>(),
            )
            .build()?
            .into(),
        (Version::V311, Row::PubAck) => v3::Puback::builder()
            .packet_id(fixtures::PUBLISH_ID)
            .build()?
            .into(),
        (Version::V5, Row::PubAck) => v5::Puback::builder()
            .packet_id(fixtures::PUBLISH_ID)
            .build()?
            .into(),
        (Version::V311, Row::PingReq) => v3::Pingreq::new().into(),
        (Version::V5, Row::PingReq) => v5::Pingreq::new().into(),
    })
}
