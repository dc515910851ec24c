//! The codec against a real broker: MQTT 3.1, 3.1.1 and 5.0 spoken to mosquitto over a plain
//! `std::net::TcpStream`, with nothing between the socket and this crate but [`Decoder`] and
//! `Packet::encode`.
//!
//! The broker's address comes from `MQTT_SANSIO_BROKER` (`host:port`); `.ci/run` starts
//! Debian's mosquitto (2.0.11 on bookworm) on loopback and exports it. Without the variable the
//! tests skip, except on CI (`CI` set and non-empty), where a missing broker is a failure.
//!
//! Each version runs the same flows on one connection, and every packet the broker sends is
//! compared whole (`==`) with the packet the flow expects:
//!
//! 1. CONNECT / CONNACK (in 5.0 with mosquitto's exact CONNACK properties);
//! 2. PINGREQ / PINGRESP;
//! 3. SUBSCRIBE / SUBACK at QoS 2;
//! 4. PUBLISH at QoS 0, 1 and 2 to our own subscription: the acknowledgement of each, the copy
//!    delivered back, and for QoS 2 the PUBREC / PUBREL / PUBCOMP exchange in both directions;
//! 5. a retained message: stored, delivered with RETAIN to a new subscription, then cleared;
//! 6. UNSUBSCRIBE / UNSUBACK, after which a publish is no longer delivered;
//! 7. DISCONNECT, after which the broker closes the connection.
//!
//! Topics and client identifiers carry the version, the process id and a time stamp, so runs
//! and the three tests (which run in parallel) never see each other's messages.
#![cfg(feature = "v5")]

mod common;

use common::BROKER_VAR;

use core::net::SocketAddr;
use core::num::NonZeroU16;
use core::time::Duration;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use mqtt_sansio::{
    ConnAck, ConnAckProperties, Connect, ConnectReasonCode, Decoder, Delivery, Disconnect,
    DisconnectReasonCode, Limits, MqttString, Packet, PacketId, PingReq, PingResp, ProtocolVersion,
    PubAck, PubAckReasonCode, PubComp, PubRec, PubRel, Publish, QoS, SubAck, SubAckReasonCode,
    Subscribe, Subscription, TopicFilter, TopicName, UnsubAck, UnsubAckReasonCode, Unsubscribe,
};

/// The environment variable holding the broker's `host:port`.
/// How long one connect, read or write may take before the test fails.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The sizes socket reads take in turn. The small ones cut every reply into pieces the
/// [`Decoder`] must put together; the large one lets several packets arrive in one read.
const READ_SIZES: [usize; 7] = [1, 2, 3, 5, 8, 13, 256];
/// Reads allowed for one packet: far more than any reply of these flows needs even one byte at
/// a time, and each read is itself bounded by [`IO_TIMEOUT`].
const MAX_READS_PER_PACKET: usize = 1024;
/// The Keep Alive every CONNECT asks for, in seconds; the flows take well under a second.
const KEEP_ALIVE: u16 = 60;

/// MQTT 3.1 (`MQIsdp`, level 3) against mosquitto.
///
/// conformance: v311:MQTT-6.0.0-2 (replies decoded from reads that split and join packets)
#[test]
fn mqtt31_flows_against_mosquitto() {
    run(ProtocolVersion::V3_1);
}

/// MQTT 3.1.1 against mosquitto.
///
/// conformance: v311:MQTT-6.0.0-2 (replies decoded from reads that split and join packets)
#[test]
fn mqtt311_flows_against_mosquitto() {
    run(ProtocolVersion::V3_1_1);
}

/// MQTT 5.0 against mosquitto, with its CONNACK properties and reason codes checked exactly.
///
/// conformance: v5:MQTT-6.0.0-2 (replies decoded from reads that split and join packets)
#[test]
fn mqtt5_flows_against_mosquitto() {
    run(ProtocolVersion::V5);
}

/// Runs every flow, in order, on one connection of `version`; returns early (the test is
/// skipped) when no broker is configured outside CI.
fn run(version: ProtocolVersion) {
    let Some(address) = common::broker_address() else {
        return;
    };
    let names = Names::new(version);
    let mut conn = Connection::open(&address, version);

    connect(&mut conn, &names);
    ping(&mut conn);
    pipelined_pings(&mut conn);
    subscribe(&mut conn, &names);
    publish_qos0(&mut conn, &names);
    publish_qos1(&mut conn, &names);
    publish_qos2(&mut conn, &names);
    retained_message(&mut conn, &names);
    unsubscribe(&mut conn, &names);
    disconnect(&mut conn);

    // The first read is one byte long, so at least the CONNACK arrived in pieces.
    assert!(
        conn.split_packets > 0,
        "{version}: no packet arrived split across reads"
    );
    println!(
        "MQTT {version} against {address}: {} packets in {} reads; {} split across reads, {} \
         read together with the packet before",
        conn.packets, conn.reads, conn.split_packets, conn.coalesced_packets
    );
}

/// Client identifier and topics for one test run of one version.
struct Names {
    /// The Client Identifier; at most 23 characters, which MQTT 3.1 requires.
    client_id: String,
    /// The topic the QoS 0, 1 and 2 messages go to; also the subscribed filter.
    data: String,
    /// The topic of the retained message.
    retained: String,
    /// A filter never subscribed to, for the 5.0 "No subscription existed" reason code.
    never_subscribed: String,
}

impl Names {
    fn new(version: ProtocolVersion) -> Self {
        let tag = match version {
            ProtocolVersion::V3_1 => "v31",
            ProtocolVersion::V3_1_1 => "v311",
            _ => "v5",
        };
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .subsec_micros();
        let run = format!("{tag}-{}-{stamp}", process::id());
        let prefix = format!("mqtt-sansio/wire/{run}");
        Self {
            client_id: run,
            data: format!("{prefix}/data"),
            retained: format!("{prefix}/retained"),
            never_subscribed: format!("{prefix}/never"),
        }
    }
}

/// One client connection: encodes packets onto the socket and decodes the broker's replies
/// with a client-side [`Decoder`] in the connection's version, as a real client does.
struct Connection {
    version: ProtocolVersion,
    stream: TcpStream,
    decoder: Decoder,
    /// Socket reads so far; also picks the next size from [`READ_SIZES`].
    reads: usize,
    /// Packets received so far.
    packets: usize,
    /// Packets whose bytes took more than one read.
    split_packets: usize,
    /// Packets that began in the same read as the end of the packet before them.
    coalesced_packets: usize,
}

impl Connection {
    /// Connects to `address`, failing the test if nothing answers there.
    fn open(address: &str, version: ProtocolVersion) -> Self {
        let candidates: Vec<SocketAddr> = address
            .to_socket_addrs()
            .unwrap_or_else(|e| panic!("{BROKER_VAR}={address:?} is not a socket address: {e}"))
            .collect();
        let mut last_error = String::from("the address resolves to nothing");
        let stream = candidates
            .iter()
            .find_map(|candidate| {
                TcpStream::connect_timeout(candidate, IO_TIMEOUT)
                    .map_err(|e| last_error = e.to_string())
                    .ok()
            })
            .unwrap_or_else(|| {
                panic!("cannot reach the broker at {BROKER_VAR}={address}: {last_error}")
            });
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .expect("set read timeout");
        stream
            .set_write_timeout(Some(IO_TIMEOUT))
            .expect("set write timeout");
        stream.set_nodelay(true).expect("set TCP_NODELAY");
        Self {
            version,
            stream,
            decoder: Decoder::client(version, Limits::default()),
            reads: 0,
            packets: 0,
            split_packets: 0,
            coalesced_packets: 0,
        }
    }

    /// Encodes `packet` in the connection's version and writes it.
    #[track_caller]
    fn send(&mut self, packet: impl Into<Packet<Bytes>>) {
        self.send_all([packet.into()]);
    }

    /// Encodes `packets` in the connection's version and writes them with a single write.
    #[track_caller]
    fn send_all(&mut self, packets: impl IntoIterator<Item = Packet<Bytes>>) {
        let version = self.version;
        let mut wire = BytesMut::new();
        for packet in packets {
            let written = packet
                .encode(version, &mut wire)
                .unwrap_or_else(|e| panic!("{version}: cannot encode {packet:?}: {e}"));
            assert_eq!(packet.encoded_len(version), Ok(written));
        }
        self.stream
            .write_all(&wire)
            .unwrap_or_else(|e| panic!("{version}: cannot send {} bytes: {e}", wire.len()));
    }

    /// The next packet from the broker, reading from the socket until the decoder has one.
    ///
    /// Replies arrive cut at arbitrary points and several to a read (see [`READ_SIZES`]), so
    /// this exercises the decoder's framing as well as its parsing.
    #[track_caller]
    fn receive(&mut self) -> Packet<Bytes> {
        let version = self.version;
        let started_in_earlier_read = self.decoder.buffered() > 0;
        for reads in 0..MAX_READS_PER_PACKET {
            match self.decoder.decode() {
                Ok(Some(packet)) => {
                    self.packets += 1;
                    if started_in_earlier_read {
                        self.coalesced_packets += 1;
                    }
                    if reads + usize::from(started_in_earlier_read) > 1 {
                        self.split_packets += 1;
                    }
                    return packet;
                }
                Ok(None) => self.read_some(),
                Err(e) => panic!("{version}: the broker sent bytes that do not decode: {e}"),
            }
        }
        panic!("{version}: no whole packet after {MAX_READS_PER_PACKET} reads")
    }

    /// Receives the next packet and asserts that it equals `expected`.
    #[track_caller]
    fn expect(&mut self, expected: impl Into<Packet<Bytes>>) {
        let expected = expected.into();
        let received = self.receive();
        assert_eq!(
            received, expected,
            "{}: unexpected packet from the broker",
            self.version
        );
    }

    /// Receives two packets, `expected` and a PUBLISH, in either order, and returns the
    /// PUBLISH.
    ///
    /// The broker's acknowledgement of our packet and a message it delivers because of that
    /// packet belong to separate flows; the spec does not order them, so neither does the test.
    #[track_caller]
    fn expect_with_delivery(&mut self, expected: impl Into<Packet<Bytes>>) -> Publish {
        let expected = expected.into();
        let version = self.version;
        let (first, second) = (self.receive(), self.receive());
        let (other, delivery) = match (first, second) {
            (Packet::Publish(publish), other) if other == expected => (other, publish),
            (other, Packet::Publish(publish)) => (other, publish),
            (first, second) => {
                panic!("{version}: expected {expected:?} and a PUBLISH, got {first:?}, {second:?}")
            }
        };
        assert_eq!(
            other, expected,
            "{version}: unexpected packet beside the delivered PUBLISH"
        );
        delivery
    }

    /// Asserts that the broker closes the connection without sending anything more.
    #[track_caller]
    fn expect_closed(&mut self) {
        let version = self.version;
        assert_eq!(
            self.decoder.buffered(),
            0,
            "{version}: bytes left before the close"
        );
        let mut byte = [0_u8; 1];
        match self.stream.read(&mut byte) {
            Ok(0) => {}
            Ok(_) => panic!("{version}: the broker sent {byte:02x?} instead of closing"),
            Err(e) => panic!("{version}: the broker did not close the connection: {e}"),
        }
    }

    /// Reads once from the socket into the decoder, taking the next size from [`READ_SIZES`].
    #[track_caller]
    fn read_some(&mut self) {
        let version = self.version;
        let len = READ_SIZES[self.reads % READ_SIZES.len()];
        self.reads += 1;
        let mut chunk = [0_u8; 256];
        match self.stream.read(&mut chunk[..len]) {
            Ok(0) => panic!("{version}: the broker closed the connection"),
            Ok(n) => self.decoder.push(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("{version}: no reply from the broker within {IO_TIMEOUT:?}")
            }
            Err(e) => panic!("{version}: reading from the broker failed: {e}"),
        }
    }
}

/// CONNECT with a clean session, and the CONNACK accepting it.
///
/// No session is resumed, so Session Present is 0 (3.1 has no such flag: it decodes as 0).
/// In 5.0 mosquitto 2.0.11, with the options `.ci/run` sets, sends exactly two properties,
/// Topic Alias Maximum 10 (its `max_topic_alias` default) and Receive Maximum 20 (its
/// `max_inflight_messages` default): the bytes are `20 09 00 00 06 22 00 0a 21 00 14`. Every
/// other property is absent, meaning Maximum QoS 2, retain, wildcard, shared subscriptions
/// and subscription identifiers all available, and no Server Keep Alive override.
fn connect(conn: &mut Connection, names: &Names) {
    let mut connect = Connect::new(conn.version, string(&names.client_id));
    connect.keep_alive = KEEP_ALIVE;
    conn.send(connect);

    let mut expected = ConnAck::new(false, ConnectReasonCode::Success);
    if conn.version.is_v5() {
        expected.properties = ConnAckProperties {
            topic_alias_maximum: Some(10),
            receive_maximum: NonZeroU16::new(20),
            ..ConnAckProperties::new()
        };
    }
    conn.expect(expected);
}

/// PINGREQ, answered by PINGRESP.
fn ping(conn: &mut Connection) {
    conn.send(PingReq);
    conn.expect(PingResp);
}

/// Three PINGREQs in one write, answered by three PINGRESPs.
///
/// The broker handles them in a burst, so its answers often reach us together and the decoder
/// must take several packets out of one read.
fn pipelined_pings(conn: &mut Connection) {
    conn.send_all([PingReq.into(), PingReq.into(), PingReq.into()]);
    for _ in 0..3 {
        conn.expect(PingResp);
    }
}

/// SUBSCRIBE to the data topic at QoS 2, granted at QoS 2.
fn subscribe(conn: &mut Connection, names: &Names) {
    conn.send(Subscribe::new(
        id(1),
        [subscription(&names.data, QoS::ExactlyOnce)],
    ));
    conn.expect(SubAck::new(id(1), [SubAckReasonCode::GrantedQoS2]));
}

/// A QoS 0 PUBLISH comes back unchanged on our own subscription (the subscription's QoS 2 is
/// only a maximum), with nothing to acknowledge either way.
fn publish_qos0(conn: &mut Connection, names: &Names) {
    let sent = message(&names.data, b"qos 0", Delivery::AtMostOnce, false);
    conn.send(sent.clone());
    conn.expect(sent);
}

/// A QoS 1 PUBLISH: the broker answers PUBACK with our Packet Identifier and delivers the
/// message back at QoS 1 under an identifier of its own, which we acknowledge.
///
/// In 5.0 the PUBACK's reason code is Success (0x00): the message had a subscriber.
fn publish_qos1(conn: &mut Connection, names: &Names) {
    let payload = b"qos 1";
    conn.send(message(
        &names.data,
        payload,
        qos(QoS::AtLeastOnce, 2),
        false,
    ));

    let ack = puback(conn.version, 2, PubAckReasonCode::Success);
    let delivered = conn.expect_with_delivery(ack);
    let broker_id = delivered
        .packet_id()
        .expect("a QoS 1 delivery has a packet id");
    assert_eq!(
        delivered,
        message(
            &names.data,
            payload,
            qos(QoS::AtLeastOnce, broker_id.get()),
            false
        )
    );
    conn.send(PubAck::new(broker_id));
}

/// A QoS 2 PUBLISH, with the four-packet exchange in both directions.
///
/// Client to broker: PUBLISH, PUBREC, PUBREL, PUBCOMP, all carrying our Packet Identifier.
/// Broker to client: the message comes back at QoS 2 under the broker's identifier; we answer
/// PUBREC, the broker releases it with PUBREL, and we complete with PUBCOMP. Mosquitto
/// delivers the message once it has our PUBREL, so the delivery arrives with the PUBCOMP
/// (in either order). In 5.0 every reason code here is Success (0x00).
fn publish_qos2(conn: &mut Connection, names: &Names) {
    let payload = b"qos 2";
    conn.send(message(
        &names.data,
        payload,
        qos(QoS::ExactlyOnce, 3),
        false,
    ));
    conn.expect(PubRec::new(id(3)));
    conn.send(PubRel::new(id(3)));

    let delivered = conn.expect_with_delivery(PubComp::new(id(3)));
    let broker_id = delivered
        .packet_id()
        .expect("a QoS 2 delivery has a packet id");
    assert_eq!(
        delivered,
        message(
            &names.data,
            payload,
            qos(QoS::ExactlyOnce, broker_id.get()),
            false
        )
    );
    conn.send(PubRec::new(broker_id));
    conn.expect(PubRel::new(broker_id));
    conn.send(PubComp::new(broker_id));
}

/// A retained message, from storing to clearing.
///
/// 1. PUBLISH with RETAIN at QoS 1 to a topic nobody subscribes to: PUBACK (in 5.0 with
///    reason code No matching subscribers, 0x10, although the message is kept).
/// 2. A new subscription to that topic gets SUBACK and the stored message with RETAIN set.
/// 3. An empty retained PUBLISH clears it. It reaches the established subscription as a
///    normal message, so with RETAIN 0 (the 3.1.1 rule, and in 5.0 the effect of Retain As
///    Published 0).
/// 4. Unsubscribing and subscribing again brings nothing: a PINGRESP is the next packet.
fn retained_message(conn: &mut Connection, names: &Names) {
    let kept = b"kept";
    conn.send(message(
        &names.retained,
        kept,
        qos(QoS::AtLeastOnce, 4),
        true,
    ));
    conn.expect(puback(
        conn.version,
        4,
        PubAckReasonCode::NoMatchingSubscribers,
    ));

    conn.send(Subscribe::new(
        id(5),
        [subscription(&names.retained, QoS::AtLeastOnce)],
    ));
    let stored = conn.expect_with_delivery(SubAck::new(id(5), [SubAckReasonCode::GrantedQoS1]));
    let broker_id = stored
        .packet_id()
        .expect("a QoS 1 delivery has a packet id");
    assert_eq!(
        stored,
        message(
            &names.retained,
            kept,
            qos(QoS::AtLeastOnce, broker_id.get()),
            true
        )
    );
    conn.send(PubAck::new(broker_id));

    conn.send(message(&names.retained, b"", Delivery::AtMostOnce, true));
    conn.expect(message(&names.retained, b"", Delivery::AtMostOnce, false));

    conn.send(Unsubscribe::new(id(6), [filter(&names.retained)]));
    conn.expect(unsuback(conn.version, 6, &[UnsubAckReasonCode::Success]));
    conn.send(Subscribe::new(
        id(7),
        [subscription(&names.retained, QoS::AtLeastOnce)],
    ));
    conn.expect(SubAck::new(id(7), [SubAckReasonCode::GrantedQoS1]));
    ping(conn);
}

/// UNSUBSCRIBE from the data topic (and, in the same packet, from a filter never subscribed
/// to), then a QoS 1 PUBLISH to the data topic that no longer comes back.
///
/// In 5.0 the UNSUBACK says Success (0x00) and No subscription existed (0x11), and the PUBACK
/// No matching subscribers (0x10); 3.1 and 3.1.1 acknowledgements carry no codes. That nothing
/// is delivered is shown by the PINGRESP arriving right after the PUBACK: the broker answers
/// in order, so a delivery would have come first.
fn unsubscribe(conn: &mut Connection, names: &Names) {
    conn.send(Unsubscribe::new(
        id(8),
        [filter(&names.data), filter(&names.never_subscribed)],
    ));
    let reasons = [
        UnsubAckReasonCode::Success,
        UnsubAckReasonCode::NoSubscriptionExisted,
    ];
    conn.expect(unsuback(conn.version, 8, &reasons));

    conn.send(message(
        &names.data,
        b"unheard",
        qos(QoS::AtLeastOnce, 9),
        false,
    ));
    conn.expect(puback(
        conn.version,
        9,
        PubAckReasonCode::NoMatchingSubscribers,
    ));
    ping(conn);
}

/// DISCONNECT (in 5.0 with Normal disconnection, 0x00), after which the broker closes the
/// connection without a word.
fn disconnect(conn: &mut Connection) {
    conn.send(Disconnect::new(DisconnectReasonCode::NormalDisconnection));
    conn.expect_closed();
}

/// A PUBLISH of `payload` to `topic`.
fn message(topic: &str, payload: &'static [u8], delivery: Delivery, retain: bool) -> Publish {
    let mut publish = Publish::new(topic_name(topic), Bytes::from_static(payload));
    publish.delivery = delivery;
    publish.retain = retain;
    publish
}

/// The delivery of a QoS 1 or 2 message with this Packet Identifier and DUP 0.
fn qos(qos: QoS, packet_id: u16) -> Delivery {
    Delivery::new(qos, id(packet_id))
}

/// The PUBACK of `packet_id`, carrying `reason` in 5.0 (3.1 and 3.1.1 have no reason code).
fn puback(version: ProtocolVersion, packet_id: u16, reason: PubAckReasonCode) -> PubAck {
    let mut ack = PubAck::new(id(packet_id));
    if version.is_v5() {
        ack.reason_code = reason;
    }
    ack
}

/// The UNSUBACK of `packet_id`, carrying `reasons` in 5.0 (3.1 and 3.1.1 have none).
fn unsuback(version: ProtocolVersion, packet_id: u16, reasons: &[UnsubAckReasonCode]) -> UnsubAck {
    let reasons = if version.is_v5() { reasons } else { &[] };
    UnsubAck::new(id(packet_id), reasons.iter().copied())
}

fn id(value: u16) -> PacketId {
    PacketId::new(value).expect("non-zero packet id")
}

fn string(value: &str) -> MqttString<Bytes> {
    MqttString::new(value.to_owned()).expect("valid MQTT string")
}

fn topic_name(value: &str) -> TopicName<Bytes> {
    TopicName::new(value.to_owned()).expect("valid topic name")
}

fn filter(value: &str) -> TopicFilter<Bytes> {
    TopicFilter::new(value.to_owned()).expect("valid topic filter")
}

fn subscription(value: &str, qos: QoS) -> Subscription<Bytes> {
    Subscription::new(filter(value), qos)
}
