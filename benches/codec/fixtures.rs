//! The logical packets every codec is measured on, their wire bytes (from our encoder, checked
//! against the spec's layout and against every peer's decoder), the mixed stream, and the two
//! reference operations (header-only scan, payload copy).

use core::num::NonZeroU16;

use bytes::{Bytes, BytesMut};
use mqtt_sansio::{
    BinaryData, Connect, Decoded, Delivery, Limits, MqttString, Packet, PacketId, PingReq,
    ProtocolVersion, PubAck, Publish, QoS, SubAck, SubAckReasonCode, Subscribe, Subscription,
    TopicFilter, TopicName, UserProperty, Will,
};

/// The topic of every PUBLISH row.
pub(crate) const TOPIC: &str = "sensors/building-1/floor-3/temp";
/// The Packet Identifier of the QoS 1 PUBLISH and the PUBACK.
pub(crate) const PUBLISH_ID: u16 = 42;
/// The CONNECT fields.
pub(crate) const CLIENT_ID: &str = "bench-client-0001";
pub(crate) const USERNAME: &str = "bench-user";
pub(crate) const PASSWORD: &[u8] = b"s3cr3t-passw0rd";
pub(crate) const KEEP_ALIVE: u16 = 60;
pub(crate) const WILL_TOPIC: &str = "clients/bench-client-0001/status";
pub(crate) const WILL_PAYLOAD: &[u8] = b"offline";
/// The will is QoS 1 and retained.
pub(crate) const WILL_QOS: u8 = 1;
/// The 5.0 CONNECT properties.
pub(crate) const SESSION_EXPIRY: u32 = 3600;
pub(crate) const RECEIVE_MAXIMUM: u16 = 100;
pub(crate) const USER_PROPERTY: (&str, &str) = ("region", "eu-west-1");
/// The SUBSCRIBE and SUBACK Packet Identifier.
pub(crate) const SUBSCRIBE_ID: u16 = 7;
/// The ten SUBSCRIBE entries: filter and maximum QoS.
pub(crate) const FILTERS: [(&str, u8); 10] = [
    ("sensors/building-1/floor-3/temp", 0),
    ("sensors/+/floor-1/humidity", 1),
    ("sensors/#", 2),
    ("alerts/+", 1),
    ("devices/+/status", 0),
    ("fleet/+/+/gps", 1),
    ("home/kitchen/+/light", 2),
    ("logs/#", 0),
    ("config/device-42", 1),
    ("+/heartbeat", 0),
];
/// The ten SUBACK codes: grants and one failure (0x80, valid in 3.1.1 and 5.0).
pub(crate) const SUBACK_CODES: [u8; 10] =
    [0x00, 0x01, 0x02, 0x01, 0x00, 0x01, 0x02, 0x80, 0x01, 0x00];
/// The stream's size: packets are appended while they fit in 1 MiB.
pub(crate) const STREAM_BYTES: usize = 1024 * 1024;

/// The protocol versions measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    V311,
    V5,
}

impl Version {
    pub(crate) const ALL: [Self; 2] = [Self::V311, Self::V5];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::V311 => "v311",
            Self::V5 => "v5",
        }
    }

    pub(crate) fn ours(self) -> ProtocolVersion {
        match self {
            Self::V311 => ProtocolVersion::V3_1_1,
            Self::V5 => ProtocolVersion::V5,
        }
    }
}

/// One benchmark row: a logical packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Row {
    PublishQos0Small,
    PublishQos0Kib,
    PublishQos0Large,
    PublishQos1Kib,
    Connect,
    Subscribe,
    SubAck,
    PubAck,
    PingReq,
}

impl Row {
    pub(crate) const ALL: [Self; 9] = [
        Self::PublishQos0Small,
        Self::PublishQos0Kib,
        Self::PublishQos0Large,
        Self::PublishQos1Kib,
        Self::Connect,
        Self::Subscribe,
        Self::SubAck,
        Self::PubAck,
        Self::PingReq,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::PublishQos0Small => "publish_qos0_16B",
            Self::PublishQos0Kib => "publish_qos0_1KiB",
            Self::PublishQos0Large => "publish_qos0_64KiB",
            Self::PublishQos1Kib => "publish_qos1_1KiB",
            Self::Connect => "connect",
            Self::Subscribe => "subscribe_10",
            Self::SubAck => "suback_10",
            Self::PubAck => "puback",
            Self::PingReq => "pingreq",
        }
    }

    /// The payload of a PUBLISH row.
    pub(crate) fn payload(self) -> Option<Bytes> {
        let len = match self {
            Self::PublishQos0Small => 16,
            Self::PublishQos0Kib | Self::PublishQos1Kib => 1024,
            Self::PublishQos0Large => 64 * 1024,
            _ => return None,
        };
        Some(payload(len, 0))
    }

    /// The Packet Identifier of a QoS 1 PUBLISH row.
    pub(crate) fn publish_qos1(self) -> bool {
        self == Self::PublishQos1Kib
    }
}

/// `len` bytes of arbitrary binary content, different for each `seed`.
pub(crate) fn payload(len: usize, seed: usize) -> Bytes {
    (0..len)
        .map(|i| (i.wrapping_mul(31).wrapping_add(seed.wrapping_mul(7)) % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

fn packet_id(id: u16) -> PacketId {
    PacketId::new(id).expect("non-zero packet id")
}

fn qos(bits: u8) -> QoS {
    QoS::from_bits(bits).expect("valid QoS")
}

/// Our packet for `row` in `version`.
pub(crate) fn packet(row: Row, version: Version) -> Packet<Bytes> {
    match row {
        Row::PublishQos0Small
        | Row::PublishQos0Kib
        | Row::PublishQos0Large
        | Row::PublishQos1Kib => {
            let payload = row.payload().expect("a PUBLISH row");
            let mut publish = Publish::new(TopicName::new(TOPIC).expect("valid topic"), payload);
            if row.publish_qos1() {
                publish.delivery = Delivery::new(QoS::AtLeastOnce, packet_id(PUBLISH_ID));
            }
            Packet::Publish(publish)
        }
        Row::Connect => Packet::from(connect(version)),
        Row::Subscribe => Packet::Subscribe(Subscribe::new(
            packet_id(SUBSCRIBE_ID),
            FILTERS.iter().map(|&(filter, max_qos)| {
                Subscription::new(
                    TopicFilter::new(filter).expect("valid filter"),
                    qos(max_qos),
                )
            }),
        )),
        Row::SubAck => Packet::SubAck(SubAck::new(
            packet_id(SUBSCRIBE_ID),
            SUBACK_CODES.iter().map(|&code| {
                SubAckReasonCode::ALL
                    .iter()
                    .copied()
                    .find(|reason| reason.as_u8() == code)
                    .expect("a SUBACK code")
            }),
        )),
        Row::PubAck => Packet::PubAck(PubAck::new(packet_id(PUBLISH_ID))),
        Row::PingReq => Packet::PingReq(PingReq),
    }
}

fn connect(version: Version) -> Connect<Bytes> {
    let string = |value: &'static str| MqttString::new(value).expect("valid string");
    let mut connect = Connect::new(version.ours(), string(CLIENT_ID));
    connect.keep_alive = KEEP_ALIVE;
    connect.username = Some(string(USERNAME));
    connect.password = Some(BinaryData::new(Bytes::from_static(PASSWORD)).expect("short"));
    let mut will = Will::new(
        TopicName::new(WILL_TOPIC).expect("valid topic"),
        BinaryData::new(Bytes::from_static(WILL_PAYLOAD)).expect("short"),
    );
    will.qos = qos(WILL_QOS);
    will.retain = true;
    connect.will = Some(will);
    if version == Version::V5 {
        let properties = &mut connect.properties;
        properties.session_expiry_interval = Some(SESSION_EXPIRY);
        properties.receive_maximum = NonZeroU16::new(RECEIVE_MAXIMUM);
        properties.user_properties.push(UserProperty::new(
            string(USER_PROPERTY.0),
            string(USER_PROPERTY.1),
        ));
    }
    connect
}

/// The wire bytes of `row` in `version`, from our encoder.
pub(crate) fn wire(row: Row, version: Version) -> Vec<u8> {
    encode(&packet(row, version), version)
}

fn encode(packet: &Packet<Bytes>, version: Version) -> Vec<u8> {
    let mut buf = BytesMut::new();
    let len = packet.encode(version.ours(), &mut buf).expect("encodable");
    assert_eq!(len, buf.len());
    buf.to_vec()
}

/// Checks a few rows byte by byte against the layout of the spec (§3.3, §3.4, §3.12, §3.8),
/// so every later comparison starts from bytes known to be right.
pub(crate) fn check_wire_layout() {
    for version in Version::ALL {
        assert_eq!(wire(Row::PingReq, version), [0xC0, 0x00]);
        let puback = wire(Row::PubAck, version);
        // 5.0 omits reason code 0x00 and the empty properties (§3.4.2.1).
        assert_eq!(puback, [0x40, 0x02, 0x00, 42]);

        let publish = wire(Row::PublishQos0Small, version);
        let properties = usize::from(version == Version::V5);
        let remaining = 2 + TOPIC.len() + properties + 16;
        let mut expected = vec![0x30, remaining as u8, 0x00, TOPIC.len() as u8];
        expected.extend_from_slice(TOPIC.as_bytes());
        if version == Version::V5 {
            expected.push(0x00);
        }
        expected.extend_from_slice(&payload(16, 0));
        assert_eq!(publish, expected, "{version:?} PUBLISH");

        let publish = wire(Row::PublishQos1Kib, version);
        let remaining = 2 + TOPIC.len() + 2 + properties + 1024;
        // QoS 1 flags 0010; Remaining Length as a two-byte Variable Byte Integer.
        assert_eq!(
            &publish[..3],
            [
                0x32,
                (remaining % 128) as u8 | 0x80,
                (remaining / 128) as u8
            ]
        );
        let id_at = 3 + 2 + TOPIC.len();
        assert_eq!(&publish[id_at..id_at + 2], [0x00, 42]);

        let subscribe = wire(Row::Subscribe, version);
        assert_eq!(subscribe[0], 0x82, "SUBSCRIBE flags 0010");
        let (_, len) = scan_header(&subscribe).expect("a whole packet");
        assert_eq!(len, subscribe.len());
        // Over 127 bytes: a two-byte Remaining Length, then the Packet Identifier.
        assert_eq!(&subscribe[3..5], [0x00, 7]);
    }
    let connect = wire(Row::Connect, Version::V311);
    // Protocol Name, Level 4, flags: user name, password, will retain, will QoS 1, will, clean.
    assert_eq!(
        &connect[2..12],
        [0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xEE, 0x00, 60]
    );
}

/// The mixed stream: what a subscriber reads, mostly small PUBLISH packets.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) bytes: Vec<u8>,
    pub(crate) packets: usize,
    pub(crate) publishes: usize,
    pub(crate) payload_bytes: usize,
}

/// Builds the stream for `version`: a repeating cycle of 16 packets (12 QoS 0 PUBLISH with 8 to
/// 256 byte payloads on four topics, 2 QoS 1 PUBLISH with 64 bytes, a PUBACK and a PINGREQ),
/// appended while the next packet fits in [`STREAM_BYTES`].
pub(crate) fn stream(version: Version) -> Stream {
    const TOPICS: [&str; 4] = [
        TOPIC,
        "sensors/building-1/floor-3/humidity",
        "sensors/building-2/floor-1/co2",
        "devices/gateway-7/status",
    ];
    const SMALL: [usize; 12] = [16, 8, 32, 24, 64, 16, 128, 8, 48, 256, 16, 40];
    let mut stream = Stream {
        bytes: Vec::with_capacity(STREAM_BYTES),
        packets: 0,
        publishes: 0,
        payload_bytes: 0,
    };
    let mut next_id: u16 = 1;
    for i in 0.. {
        let slot = i % 16;
        let packet = match slot {
            0..=11 => {
                let topic = TopicName::new(TOPICS[i % TOPICS.len()]).expect("valid topic");
                Packet::Publish(Publish::new(topic, payload(SMALL[slot], i)))
            }
            12 | 13 => {
                let topic = TopicName::new(TOPICS[i % TOPICS.len()]).expect("valid topic");
                let mut publish = Publish::new(topic, payload(64, i));
                publish.delivery = Delivery::new(QoS::AtLeastOnce, packet_id(next_id));
                next_id = next_id % u16::MAX + 1;
                Packet::Publish(publish)
            }
            14 => Packet::PubAck(PubAck::new(packet_id(next_id))),
            _ => Packet::PingReq(PingReq),
        };
        let bytes = encode(&packet, version);
        if stream.bytes.len() + bytes.len() > STREAM_BYTES {
            break;
        }
        if let Packet::Publish(publish) = &packet {
            stream.publishes += 1;
            stream.payload_bytes += publish.payload.len();
        }
        stream.packets += 1;
        stream.bytes.extend_from_slice(&bytes);
    }
    stream
}

/// The reference decoder: reads the fixed header of the packet at the start of `input` and
/// returns its first byte and whole length, if the whole packet is there. Nothing else is read.
#[inline]
pub(crate) fn scan_header(input: &[u8]) -> Option<(u8, usize)> {
    let (&first, rest) = input.split_first()?;
    let mut remaining = 0usize;
    for (i, &byte) in rest.iter().take(4).enumerate() {
        remaining |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let total = 2 + i + remaining;
            return (total <= input.len()).then_some((first, total));
        }
    }
    None
}

/// The header-only scan of a whole stream: the packet count.
#[inline]
pub(crate) fn scan_stream(mut input: &[u8]) -> usize {
    let mut packets = 0;
    while let Some((_, len)) = scan_header(input) {
        input = &input[len..];
        packets += 1;
    }
    packets
}

/// A second reference: the header scan plus the one check on a PUBLISH that no conforming
/// decoder can skip, UTF-8 validation of the Topic Name (`[MQTT-1.5.4-1]`). Returns the
/// packet's whole length and whether its topic (if any) is valid UTF-8.
#[inline]
pub(crate) fn scan_header_topic(input: &[u8]) -> Option<(usize, bool)> {
    let (&first, rest) = input.split_first()?;
    let mut remaining = 0usize;
    for (i, &byte) in rest.iter().take(4).enumerate() {
        remaining |= usize::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            let total = 2 + i + remaining;
            let body = input.get(2 + i..total)?;
            let valid = first >> 4 != 3
                || match body {
                    [high, low, rest @ ..] => rest
                        .get(..usize::from(u16::from_be_bytes([*high, *low])))
                        .is_some_and(|topic| core::str::from_utf8(topic).is_ok()),
                    _ => false,
                };
            return Some((total, valid));
        }
    }
    None
}

/// [`scan_header_topic`] over a whole stream: the packet count.
#[inline]
pub(crate) fn scan_stream_topics(mut input: &[u8]) -> usize {
    let mut packets = 0;
    while let Some((len, valid)) = scan_header_topic(input) {
        assert!(valid, "the stream's topics are UTF-8");
        input = &input[len..];
        packets += 1;
    }
    packets
}

/// Decode limits large enough for every row.
pub(crate) fn limits() -> Limits {
    Limits::new(2 * 1024 * 1024)
}

/// An output buffer with room for every row, so encode rows never allocate.
pub(crate) fn out_buffer() -> BytesMut {
    BytesMut::with_capacity(128 * 1024)
}

/// Asserts that `bytes`, a peer's encoding of `row`, decode with our decoder to the same
/// packet as ours (the peers may order or omit optional fields differently, so the bytes
/// themselves are not compared).
pub(crate) fn assert_same_packet(codec: &str, version: Version, row: Row, bytes: &[u8]) {
    let decoded = Packet::decode_bytes(version.ours(), &Bytes::copy_from_slice(bytes), &limits());
    let Ok(Decoded::Complete { packet, consumed }) = decoded else {
        panic!("{codec} {version:?} {row:?}: our decoder refused its encoding: {decoded:?}");
    };
    assert_eq!(consumed, bytes.len(), "{codec} {version:?} {row:?}");
    assert_eq!(
        packet,
        self::packet(row, version),
        "{codec} {version:?} {row:?}"
    );
}

/// The SUBACK codes as `(granted QoS or None for a failure)`.
pub(crate) fn suback_grants() -> impl Iterator<Item = Option<u8>> {
    SUBACK_CODES
        .iter()
        .map(|&code| (code < 0x80).then_some(code))
}
