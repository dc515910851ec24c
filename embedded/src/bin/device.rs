//! The mqtt-sansio client as a device links it: the same flows as `firmware`, but the server
//! is a transcript of hand-written bytes instead of a second MQTT implementation, so this
//! binary holds only what a device would (the client, its decoder for server packets and its
//! encoders for client packets). `device` minus `baseline` is what the crate adds to a device.
//!
//! Every byte the client writes is compared with the transcript, which spells out each packet
//! as the spec lays it out (3.1.1 §3, 5.0 §3); Packet Identifiers the client chooses are filled
//! in from what its commands returned, so the transcript does not depend on how it picks them.
//! Every event is checked. The device heap is printed as `firmware` prints it; no other heap is
//! used here.
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../setup.rs"]
mod setup;

use core::time::Duration;

use cortex_m_rt::entry;
use mqtt_sansio::{
    Client, ConnectOptions, Delivery, Disconnect, DisconnectReason, DisconnectReasonCode, Event,
    Instant, MessageProperties, PacketId, ProtocolVersion, QoS, State, SubAckReasonCode,
    SubscribeProperties, Subscription, TopicFilter, UnsubAckReasonCode, UnsubscribeProperties,
    UsageError,
};
use mqtt_sansio_firmware::{
    HeapStats, check, device_heap, exit_success, fail, hprintln, init, must, reset_device_peak,
    stack_peak,
};
use setup::{CONFIG, KEEP_ALIVE, is_message, message, take_events};

/// The driver's write buffer.
const WRITE_BUFFER: usize = 256;
/// The size of the pieces the server's bytes reach the client in.
const CHUNK: usize = 7;

/// One step of a transcript.
enum Step {
    /// `connect` with Clean Start and the Keep Alive of `setup`.
    Connect(ProtocolVersion, &'static str),
    /// `subscribe` to one filter; the identifier goes to the next slot.
    Subscribe(&'static str, QoS),
    /// `unsubscribe` from one filter; the identifier goes to the next slot.
    Unsubscribe(&'static str),
    /// `publish`; a QoS 1 or 2 identifier goes to the next slot.
    Publish(&'static str, &'static [u8], QoS),
    /// `publish` of a QoS 1 message with the Content Type and User Property of [`PROPERTIES`]
    /// (the 5.0 transcript's).
    #[cfg_attr(not(feature = "v5"), allow(dead_code))]
    PublishWithProperties(&'static str, &'static [u8]),
    /// `publish` refused because the outgoing table is full.
    PublishRefused,
    /// `disconnect` with Normal disconnection.
    Disconnect,
    /// The next deadline is this many milliseconds from now.
    Deadline(u64),
    /// The clock moves this many milliseconds; the timer fires.
    Advance(u64),
    /// The client wrote this packet next (`Id` patches the identifier in).
    Sent(&'static [u8], Id),
    /// The server sends this packet (`Id` patches the identifier in).
    Feed(&'static [u8], Id),
    /// The client wrote nothing more.
    Quiet,
    /// These events, in order, and no others.
    Events(&'static [Expect]),
    /// The QoS 1/2 messages in flight; with 4, the heap is read.
    InFlight(usize),
}

/// Where a packet holds a Packet Identifier the client chose.
#[derive(Clone, Copy)]
enum Id {
    /// None (or only the server's own, written in the transcript).
    Fixed,
    /// Bytes `at..at + 2` hold the identifier in slot `slot`.
    At { at: usize, slot: usize },
}

/// An expected event.
enum Expect {
    Connected,
    /// SUBACK for the identifier in this slot, granting QoS 2.
    Subscribed(usize),
    /// UNSUBACK for the identifier in this slot (with one Success code in 5.0).
    Unsubscribed(usize),
    /// Published Ok for the identifier in this slot.
    Published(usize),
    /// A message: topic, payload, QoS and the server's identifier (0 for QoS 0).
    Message(&'static str, &'static [u8], QoS, u16),
    /// Disconnected by the client, Normal disconnection.
    Disconnected,
}

/// Content Type "text/plain" and the User Property ("unit", "C").
const PROPERTIES: &[u8] = b"\x03\x00\x0atext/plain\x26\x00\x04unit\x00\x01C";

/// The identifier at bytes 2..4, right after a one-byte Remaining Length.
const fn id_at_2(slot: usize) -> Id {
    Id::At { at: 2, slot }
}

use Expect as E;
use Step as S;

/// The session every version goes through: connect, subscribe, QoS 0/1/2 out and back, 4
/// messages in flight, unsubscribe, two Keep Alive pings, disconnect. Slots: 0 SUBSCRIBE,
/// 1 QoS 1, 2 QoS 2, 3..=6 the 4 in flight, 7 UNSUBSCRIBE, 8 the last QoS 1.
const V311: &[Step] = &[
    S::Connect(ProtocolVersion::V3_1_1, "fw-311"),
    S::Sent(
        b"\x10\x12\x00\x04MQTT\x04\x02\x00\x05\x00\x06fw-311",
        Id::Fixed,
    ),
    S::Quiet,
    S::Feed(b"\x20\x02\x00\x00", Id::Fixed),
    S::Events(&[E::Connected]),
    // SUBSCRIBE fw/# at QoS 2; SUBACK granting QoS 2.
    S::Subscribe("fw/#", QoS::ExactlyOnce),
    S::Sent(b"\x82\x09\0\0\x00\x04fw/#\x02", id_at_2(0)),
    S::Feed(b"\x90\x03\0\0\x02", id_at_2(0)),
    S::Events(&[E::Subscribed(0)]),
    // QoS 0, echoed.
    S::Publish("fw/qos0", b"zero", QoS::AtMostOnce),
    S::Sent(b"\x30\x0d\x00\x07fw/qos0zero", Id::Fixed),
    S::Feed(b"\x30\x0d\x00\x07fw/qos0zero", Id::Fixed),
    S::Events(&[E::Message("fw/qos0", b"zero", QoS::AtMostOnce, 0)]),
    // QoS 1: PUBACK, echo under the server's id 1000 (0x03E8), acknowledged.
    S::Publish("fw/qos1", b"21.5", QoS::AtLeastOnce),
    S::Sent(
        b"\x32\x0f\x00\x07fw/qos1\0\x0021.5",
        Id::At { at: 11, slot: 1 },
    ),
    S::InFlight(1),
    S::Feed(b"\x40\x02\0\0", id_at_2(1)),
    S::Feed(b"\x32\x0f\x00\x07fw/qos1\x03\xe821.5", Id::Fixed),
    S::Sent(b"\x40\x02\x03\xe8", Id::Fixed),
    S::Events(&[
        E::Published(1),
        E::Message("fw/qos1", b"21.5", QoS::AtLeastOnce, 1000),
    ]),
    // QoS 2 both ways; the echo under id 1001 (0x03E9).
    S::Publish("fw/qos2", b"once", QoS::ExactlyOnce),
    S::Sent(
        b"\x34\x0f\x00\x07fw/qos2\0\0once",
        Id::At { at: 11, slot: 2 },
    ),
    S::Feed(b"\x50\x02\0\0", id_at_2(2)),
    S::Feed(b"\x34\x0f\x00\x07fw/qos2\x03\xe9once", Id::Fixed),
    S::Sent(b"\x62\x02\0\0", id_at_2(2)),
    S::Sent(b"\x50\x02\x03\xe9", Id::Fixed),
    S::Feed(b"\x70\x02\0\0", id_at_2(2)),
    S::Feed(b"\x62\x02\x03\xe9", Id::Fixed),
    S::Sent(b"\x70\x02\x03\xe9", Id::Fixed),
    S::Events(&[
        E::Message("fw/qos2", b"once", QoS::ExactlyOnce, 1001),
        E::Published(2),
    ]),
    // 4 QoS 1 messages in flight; a fifth is refused; then 4 PUBACKs and 4 echoes.
    S::Publish("fw/burst", b"first", QoS::AtLeastOnce),
    S::Publish("fw/burst", b"second", QoS::AtLeastOnce),
    S::Publish("fw/burst", b"third", QoS::AtLeastOnce),
    S::Publish("fw/burst", b"fourth", QoS::AtLeastOnce),
    S::PublishRefused,
    S::Sent(
        b"\x32\x11\x00\x08fw/burst\0\0first",
        Id::At { at: 12, slot: 3 },
    ),
    S::Sent(
        b"\x32\x12\x00\x08fw/burst\0\0second",
        Id::At { at: 12, slot: 4 },
    ),
    S::Sent(
        b"\x32\x11\x00\x08fw/burst\0\0third",
        Id::At { at: 12, slot: 5 },
    ),
    S::Sent(
        b"\x32\x12\x00\x08fw/burst\0\0fourth",
        Id::At { at: 12, slot: 6 },
    ),
    S::InFlight(4),
    S::Events(&[]),
    S::Feed(b"\x40\x02\0\0", id_at_2(3)),
    S::Feed(b"\x32\x11\x00\x08fw/burst\x03\xeafirst", Id::Fixed),
    S::Feed(b"\x40\x02\0\0", id_at_2(4)),
    S::Feed(b"\x32\x12\x00\x08fw/burst\x03\xebsecond", Id::Fixed),
    S::Feed(b"\x40\x02\0\0", id_at_2(5)),
    S::Feed(b"\x32\x11\x00\x08fw/burst\x03\xecthird", Id::Fixed),
    S::Feed(b"\x40\x02\0\0", id_at_2(6)),
    S::Feed(b"\x32\x12\x00\x08fw/burst\x03\xedfourth", Id::Fixed),
    S::Sent(b"\x40\x02\x03\xea", Id::Fixed),
    S::Sent(b"\x40\x02\x03\xeb", Id::Fixed),
    S::Sent(b"\x40\x02\x03\xec", Id::Fixed),
    S::Sent(b"\x40\x02\x03\xed", Id::Fixed),
    S::Events(&[
        E::Published(3),
        E::Message("fw/burst", b"first", QoS::AtLeastOnce, 1002),
        E::Published(4),
        E::Message("fw/burst", b"second", QoS::AtLeastOnce, 1003),
        E::Published(5),
        E::Message("fw/burst", b"third", QoS::AtLeastOnce, 1004),
        E::Published(6),
        E::Message("fw/burst", b"fourth", QoS::AtLeastOnce, 1005),
    ]),
    S::InFlight(0),
    // UNSUBSCRIBE; UNSUBACK; a message that no longer comes back.
    S::Unsubscribe("fw/#"),
    S::Sent(b"\xa2\x08\0\0\x00\x04fw/#", id_at_2(7)),
    S::Feed(b"\xb0\x02\0\0", id_at_2(7)),
    S::Events(&[E::Unsubscribed(7)]),
    S::Publish("fw/after", b"x", QoS::AtLeastOnce),
    S::Sent(b"\x32\x0d\x00\x08fw/after\0\0x", Id::At { at: 12, slot: 8 }),
    S::Feed(b"\x40\x02\0\0", id_at_2(8)),
    S::Quiet,
    S::Events(&[E::Published(8)]),
    // Keep Alive on virtual time.
    S::Deadline(5_000),
    S::Advance(4_999),
    S::Quiet,
    S::Advance(1),
    S::Sent(b"\xc0\x00", Id::Fixed),
    S::Feed(b"\xd0\x00", Id::Fixed),
    S::Events(&[]),
    S::Deadline(5_000),
    S::Advance(5_000),
    S::Sent(b"\xc0\x00", Id::Fixed),
    S::Feed(b"\xd0\x00", Id::Fixed),
    S::Events(&[]),
    // DISCONNECT.
    S::Disconnect,
    S::Events(&[E::Disconnected]),
    S::Sent(b"\xe0\x00", Id::Fixed),
    S::Quiet,
];

/// The same session in 5.0: each packet with its Property Length (0 unless stated), acks
/// that succeed without a reason code (§3.4.2.1), and a server Receive Maximum of 4.
#[cfg(feature = "v5")]
const V5: &[Step] = &[
    S::Connect(ProtocolVersion::V5, "fw-5"),
    // Properties: Receive Maximum 4 (0x21), Maximum Packet Size 1024 (0x27).
    S::Sent(
        b"\x10\x19\x00\x04MQTT\x05\x02\x00\x05\x08\x21\x00\x04\x27\x00\x00\x04\x00\x00\x04fw-5",
        Id::Fixed,
    ),
    S::Quiet,
    S::Feed(b"\x20\x06\x00\x00\x03\x21\x00\x04", Id::Fixed),
    S::Events(&[E::Connected]),
    S::Subscribe("fw/#", QoS::ExactlyOnce),
    S::Sent(b"\x82\x0a\0\0\x00\x00\x04fw/#\x02", id_at_2(0)),
    S::Feed(b"\x90\x04\0\0\x00\x02", id_at_2(0)),
    S::Events(&[E::Subscribed(0)]),
    S::Publish("fw/qos0", b"zero", QoS::AtMostOnce),
    S::Sent(b"\x30\x0e\x00\x07fw/qos0\x00zero", Id::Fixed),
    S::Feed(b"\x30\x0e\x00\x07fw/qos0\x00zero", Id::Fixed),
    S::Events(&[E::Message("fw/qos0", b"zero", QoS::AtMostOnce, 0)]),
    // QoS 1 with 23 bytes of message properties, forwarded with the echo.
    S::PublishWithProperties("fw/qos1", b"21.5"),
    S::Sent(
        b"\x32\x27\x00\x07fw/qos1\0\0\x17\x03\x00\x0atext/plain\x26\x00\x04unit\x00\x01C21.5",
        Id::At { at: 11, slot: 1 },
    ),
    S::InFlight(1),
    S::Feed(b"\x40\x02\0\0", id_at_2(1)),
    S::Feed(
        b"\x32\x27\x00\x07fw/qos1\x03\xe8\x17\x03\x00\x0atext/plain\x26\x00\x04unit\x00\x01C21.5",
        Id::Fixed,
    ),
    S::Sent(b"\x40\x02\x03\xe8", Id::Fixed),
    S::Events(&[
        E::Published(1),
        E::Message("fw/qos1", b"21.5", QoS::AtLeastOnce, 1000),
    ]),
    S::Publish("fw/qos2", b"once", QoS::ExactlyOnce),
    S::Sent(
        b"\x34\x10\x00\x07fw/qos2\0\0\x00once",
        Id::At { at: 11, slot: 2 },
    ),
    S::Feed(b"\x50\x02\0\0", id_at_2(2)),
    S::Feed(b"\x34\x10\x00\x07fw/qos2\x03\xe9\x00once", Id::Fixed),
    S::Sent(b"\x62\x02\0\0", id_at_2(2)),
    S::Sent(b"\x50\x02\x03\xe9", Id::Fixed),
    S::Feed(b"\x70\x02\0\0", id_at_2(2)),
    S::Feed(b"\x62\x02\x03\xe9", Id::Fixed),
    S::Sent(b"\x70\x02\x03\xe9", Id::Fixed),
    S::Events(&[
        E::Message("fw/qos2", b"once", QoS::ExactlyOnce, 1001),
        E::Published(2),
    ]),
    S::Publish("fw/burst", b"first", QoS::AtLeastOnce),
    S::Publish("fw/burst", b"second", QoS::AtLeastOnce),
    S::Publish("fw/burst", b"third", QoS::AtLeastOnce),
    S::Publish("fw/burst", b"fourth", QoS::AtLeastOnce),
    S::PublishRefused,
    S::Sent(
        b"\x32\x12\x00\x08fw/burst\0\0\x00first",
        Id::At { at: 12, slot: 3 },
    ),
    S::Sent(
        b"\x32\x13\x00\x08fw/burst\0\0\x00second",
        Id::At { at: 12, slot: 4 },
    ),
    S::Sent(
        b"\x32\x12\x00\x08fw/burst\0\0\x00third",
        Id::At { at: 12, slot: 5 },
    ),
    S::Sent(
        b"\x32\x13\x00\x08fw/burst\0\0\x00fourth",
        Id::At { at: 12, slot: 6 },
    ),
    S::InFlight(4),
    S::Events(&[]),
    S::Feed(b"\x40\x02\0\0", id_at_2(3)),
    S::Feed(b"\x32\x12\x00\x08fw/burst\x03\xea\x00first", Id::Fixed),
    S::Feed(b"\x40\x02\0\0", id_at_2(4)),
    S::Feed(b"\x32\x13\x00\x08fw/burst\x03\xeb\x00second", Id::Fixed),
    S::Feed(b"\x40\x02\0\0", id_at_2(5)),
    S::Feed(b"\x32\x12\x00\x08fw/burst\x03\xec\x00third", Id::Fixed),
    S::Feed(b"\x40\x02\0\0", id_at_2(6)),
    S::Feed(b"\x32\x13\x00\x08fw/burst\x03\xed\x00fourth", Id::Fixed),
    S::Sent(b"\x40\x02\x03\xea", Id::Fixed),
    S::Sent(b"\x40\x02\x03\xeb", Id::Fixed),
    S::Sent(b"\x40\x02\x03\xec", Id::Fixed),
    S::Sent(b"\x40\x02\x03\xed", Id::Fixed),
    S::Events(&[
        E::Published(3),
        E::Message("fw/burst", b"first", QoS::AtLeastOnce, 1002),
        E::Published(4),
        E::Message("fw/burst", b"second", QoS::AtLeastOnce, 1003),
        E::Published(5),
        E::Message("fw/burst", b"third", QoS::AtLeastOnce, 1004),
        E::Published(6),
        E::Message("fw/burst", b"fourth", QoS::AtLeastOnce, 1005),
    ]),
    S::InFlight(0),
    S::Unsubscribe("fw/#"),
    S::Sent(b"\xa2\x09\0\0\x00\x00\x04fw/#", id_at_2(7)),
    // UNSUBACK: Property Length 0, one reason code, Success.
    S::Feed(b"\xb0\x04\0\0\x00\x00", id_at_2(7)),
    S::Events(&[E::Unsubscribed(7)]),
    S::Publish("fw/after", b"x", QoS::AtLeastOnce),
    S::Sent(
        b"\x32\x0e\x00\x08fw/after\0\0\x00x",
        Id::At { at: 12, slot: 8 },
    ),
    S::Feed(b"\x40\x02\0\0", id_at_2(8)),
    S::Quiet,
    S::Events(&[E::Published(8)]),
    S::Deadline(5_000),
    S::Advance(4_999),
    S::Quiet,
    S::Advance(1),
    S::Sent(b"\xc0\x00", Id::Fixed),
    S::Feed(b"\xd0\x00", Id::Fixed),
    S::Events(&[]),
    S::Deadline(5_000),
    S::Advance(5_000),
    S::Sent(b"\xc0\x00", Id::Fixed),
    S::Feed(b"\xd0\x00", Id::Fixed),
    S::Events(&[]),
    S::Disconnect,
    S::Events(&[E::Disconnected]),
    // Normal disconnection without properties: no reason code (§3.14.2.1).
    S::Sent(b"\xe0\x00", Id::Fixed),
    S::Quiet,
];

#[entry]
fn main() -> ! {
    init();
    reset_device_peak();
    let mut run = Run {
        client: mqtt_sansio::Client::new(CONFIG),
        now: Instant::ZERO,
        written: [0; WRITTEN],
        written_len: 0,
        ids: [0; 9],
        in_flight: None,
    };
    let v311 = run.play("3.1.1", V311);
    run.now = run.now + Duration::from_secs(60);
    #[cfg(feature = "v5")]
    let v5 = run.play("5.0", V5);
    let whole_run = device_heap();
    drop(run);
    let after = device_heap();
    check!(
        after.requested == 0,
        "the device heap holds {} B once the client is gone",
        after.requested
    );
    #[cfg(feature = "v5")]
    hprintln!("all checks passed: MQTT 3.1.1 and 5.0 transcripts");
    #[cfg(not(feature = "v5"))]
    hprintln!("all checks passed: MQTT 3.1.1 transcript (built without 5.0)");
    hprintln!("heap, 4 messages in flight, 3.1.1: {}", v311);
    #[cfg(feature = "v5")]
    hprintln!("heap, 4 messages in flight, 5.0: {}", v5);
    hprintln!("heap, device, whole run: {}", whole_run);
    hprintln!("stack: peak {} B", stack_peak());
    exit_success()
}

/// Bytes the client may write ahead of the transcript.
const WRITTEN: usize = 512;
/// The longest packet of a transcript.
const LONGEST: usize = 64;

/// A client, its clock, and what it wrote that the transcript has not yet matched (in arrays,
/// so that the device heap holds only what the client and its events hold).
struct Run {
    client: Client,
    now: Instant,
    written: [u8; WRITTEN],
    written_len: usize,
    /// The identifiers the client's commands returned, by slot.
    ids: [u16; 9],
    /// The device heap when 4 messages were in flight.
    in_flight: Option<HeapStats>,
}

impl Run {
    /// Plays a transcript; returns the device heap with 4 messages in flight.
    fn play(&mut self, name: &str, transcript: &[Step]) -> HeapStats {
        self.in_flight = None;
        let mut slot = 0;
        for (index, step) in transcript.iter().enumerate() {
            self.step(step, &mut slot, name, index);
        }
        check!(
            self.written_len == 0,
            "{}: the client wrote {} bytes past the transcript",
            name,
            self.written_len
        );
        must!(
            self.in_flight.ok_or(()),
            "{}: 4 messages were in flight",
            name
        )
    }

    fn step(&mut self, step: &Step, slot: &mut usize, name: &str, index: usize) {
        let now = self.now;
        match *step {
            S::Connect(version, client_id) => {
                let options = must!(
                    ConnectOptions::new(version, client_id),
                    "{} step {}: a client id",
                    name,
                    index
                );
                must!(
                    self.client.connect(now, options.keep_alive(KEEP_ALIVE)),
                    "{} step {}: connect() accepted",
                    name,
                    index
                );
            }
            S::Subscribe(filter, qos) => {
                let filter = must!(
                    TopicFilter::new(bytestring::ByteString::from_static(filter)),
                    "a filter"
                );
                let id = must!(
                    self.client.subscribe(
                        now,
                        [Subscription::new(filter, qos)],
                        SubscribeProperties::new()
                    ),
                    "{} step {}: subscribe() accepted",
                    name,
                    index
                );
                self.keep_id(slot, id);
            }
            S::Unsubscribe(filter) => {
                let filter = must!(
                    TopicFilter::new(bytestring::ByteString::from_static(filter)),
                    "a filter"
                );
                let id = must!(
                    self.client
                        .unsubscribe(now, [filter], UnsubscribeProperties::new()),
                    "{} step {}: unsubscribe() accepted",
                    name,
                    index
                );
                self.keep_id(slot, id);
            }
            S::Publish(topic, payload, qos) => {
                let id = must!(
                    self.client.publish(now, message(topic, payload, qos)),
                    "{} step {}: publish() accepted",
                    name,
                    index
                );
                check!(
                    id.is_some() == (qos != QoS::AtMostOnce),
                    "{} step {}: an identifier exactly for QoS 1 and 2",
                    name,
                    index
                );
                if let Some(id) = id {
                    self.keep_id(slot, id);
                }
            }
            S::PublishWithProperties(topic, payload) => {
                let mut publish = message(topic, payload, QoS::AtLeastOnce);
                publish.properties.message = must!(
                    MessageProperties::from_block(bytes::Bytes::from_static(PROPERTIES)),
                    "message properties"
                );
                let id = must!(
                    must!(
                        self.client.publish(now, publish),
                        "{} step {}: publish() accepted",
                        name,
                        index
                    )
                    .ok_or(()),
                    "an identifier"
                );
                self.keep_id(slot, id);
            }
            S::PublishRefused => {
                let refused = self
                    .client
                    .publish(now, message("fw/burst", b"fifth", QoS::AtLeastOnce));
                check!(
                    matches!(refused, Err(UsageError::QueueFull(_))),
                    "{} step {}: a fifth message is refused: max_outgoing is 4",
                    name,
                    index
                );
            }
            S::Disconnect => must!(
                self.client.disconnect(
                    now,
                    Disconnect::new(DisconnectReasonCode::NormalDisconnection)
                ),
                "{} step {}: disconnect() accepted",
                name,
                index
            ),
            S::Deadline(millis) => check!(
                self.client.poll_timeout() == Some(now + Duration::from_millis(millis)),
                "{} step {}: the next deadline is {} ms away",
                name,
                index,
                millis
            ),
            S::Advance(millis) => {
                self.now = now + Duration::from_millis(millis);
                self.client.handle_timeout(self.now);
            }
            S::Sent(packet, id) => {
                self.drain();
                let len = packet.len();
                check!(
                    self.written_len >= len,
                    "{} step {}: the client wrote {} of {} bytes",
                    name,
                    index,
                    self.written_len,
                    len
                );
                let mut expected = [0; LONGEST];
                let expected = self.patch(packet, id, &mut expected);
                if let Some(at) = (0..len).find(|&at| self.written[at] != expected[at]) {
                    fail(
                        file!(),
                        line!(),
                        format_args!(
                            "{} step {}: byte {} is {}, the transcript says {}",
                            name, index, at, self.written[at], expected[at]
                        ),
                    );
                }
                self.written.copy_within(len..self.written_len, 0);
                self.written_len -= len;
            }
            S::Feed(packet, id) => {
                let mut bytes = [0; LONGEST];
                let bytes = self.patch(packet, id, &mut bytes);
                for piece in bytes.chunks(CHUNK) {
                    self.client.handle_data(now, piece);
                }
            }
            S::Quiet => {
                self.drain();
                check!(
                    self.written_len == 0,
                    "{} step {}: the client wrote {} unexpected bytes",
                    name,
                    index,
                    self.written_len
                );
            }
            S::Events(expected) => {
                self.drain();
                let events = take_events(&mut self.client);
                check!(
                    events.len() == expected.len(),
                    "{} step {}: {} events, the transcript says {}",
                    name,
                    index,
                    events.len(),
                    expected.len()
                );
                for (n, (event, expect)) in events.iter().zip(expected).enumerate() {
                    check!(
                        self.is(event, expect),
                        "{} step {}: event {} is not the transcript's",
                        name,
                        index,
                        n
                    );
                }
            }
            S::InFlight(count) => {
                self.drain();
                check!(
                    self.client.in_flight() == count,
                    "{} step {}: {} messages in flight, the transcript says {}",
                    name,
                    index,
                    self.client.in_flight(),
                    count
                );
                if count == 4 {
                    self.in_flight = Some(device_heap());
                }
            }
        }
    }

    fn keep_id(&mut self, slot: &mut usize, id: PacketId) {
        match self.ids.get_mut(*slot) {
            Some(held) => *held = id.get(),
            None => fail(
                file!(),
                line!(),
                format_args!("more identifiers than slots"),
            ),
        }
        *slot += 1;
    }

    /// `packet` with the identifier of its slot written in, in `out`.
    fn patch<'a>(&self, packet: &[u8], id: Id, out: &'a mut [u8; LONGEST]) -> &'a [u8] {
        let bytes = &mut out[..packet.len()];
        bytes.copy_from_slice(packet);
        if let Id::At { at, slot } = id {
            bytes[at..at + 2].copy_from_slice(&self.ids[slot].to_be_bytes());
        }
        bytes
    }

    /// Everything the client has to write, appended to `written`.
    fn drain(&mut self) {
        let mut buf = [0u8; WRITE_BUFFER];
        for _ in 0..64 {
            let Some(transmit) = self.client.poll_transmit(&mut buf) else {
                return;
            };
            let end = self.written_len + transmit.len;
            check!(
                end <= WRITTEN,
                "the client wrote more than {} bytes at once",
                WRITTEN
            );
            self.written[self.written_len..end].copy_from_slice(&buf[..transmit.len]);
            self.written_len = end;
        }
        fail(
            file!(),
            line!(),
            format_args!("poll_transmit never ran dry"),
        )
    }

    fn is(&self, event: &Event, expect: &Expect) -> bool {
        let id = |slot: usize| PacketId::new(self.ids[slot]);
        match (event, expect) {
            (Event::Connected(connected), E::Connected) => {
                let quota = if self.client.protocol_version().is_v5() {
                    4
                } else {
                    u16::MAX
                };
                !connected.session_present
                    && connected.keep_alive == KEEP_ALIVE
                    && connected.server.receive_maximum == quota
                    && self.client.state() == State::Connected
            }
            (Event::Subscribed(suback), E::Subscribed(slot)) => {
                Some(suback.packet_id) == id(*slot)
                    && suback
                        .reason_codes
                        .iter()
                        .eq([SubAckReasonCode::GrantedQoS2])
            }
            (Event::Unsubscribed(unsuback), E::Unsubscribed(slot)) => {
                let codes = if self.client.protocol_version().is_v5() {
                    unsuback
                        .reason_codes
                        .iter()
                        .eq([UnsubAckReasonCode::Success])
                } else {
                    unsuback.reason_codes.is_empty()
                };
                Some(unsuback.packet_id) == id(*slot) && codes
            }
            (Event::Published { packet_id, result }, E::Published(slot)) => {
                Some(*packet_id) == id(*slot) && result.is_ok()
            }
            (Event::Message(publish), E::Message(topic, payload, qos, server_id)) => {
                let delivery = match PacketId::new(*server_id) {
                    Some(server_id) => Delivery::new(*qos, server_id),
                    None => Delivery::AtMostOnce,
                };
                let properties = &publish.properties.message;
                let properties_ok = if self.client.protocol_version().is_v5() && *topic == "fw/qos1"
                {
                    properties.content_type() == Some("text/plain")
                        && properties.user_properties().eq([("unit", "C")])
                } else {
                    properties.is_empty()
                };
                is_message(publish, topic, payload, delivery) && properties_ok
            }
            (Event::Disconnected(disconnected), E::Disconnected) => {
                disconnected.reason
                    == DisconnectReason::ByClient(DisconnectReasonCode::NormalDisconnection)
                    && self.client.state() == State::Disconnected
                    && self.client.poll_timeout().is_none()
            }
            _ => false,
        }
    }
}
