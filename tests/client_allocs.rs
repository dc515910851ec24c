//! The client allocates nothing per message in steady state, measured with a counting global
//! allocator.
//!
//! Each test connects a client, warms it up (its queues and tables reach the size the traffic
//! needs), then runs 10,000 messages through it and counts every allocation on the way:
//! publishing QoS 0, 1 and 2 (the server's acknowledgements fed back), and receiving QoS 0, 1
//! and 2 through `handle_bytes`, the server's packets encoded beforehand into `Bytes`, several
//! per chunk. The
//! application's messages are built once and cloned, which only counts references.
//! `cargo nextest run --test client_allocs --no-capture` prints the counts.
//!
//! The crate forbids `unsafe`, so the allocator is `allocation-counter`'s (a dev-dependency
//! that installs itself as the global allocator of this test binary). Its counters are per
//! thread, so tests running in parallel do not disturb each other's measurements; what is
//! built inside [`opt_out`] is not counted.
#![cfg(feature = "v5")]

use allocation_counter::{AllocationInfo, measure, opt_out};
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use mqtt_sansio::{
    Client, ClientConfig, ConnAck, ConnectOptions, ConnectReasonCode, Delivery, Event, Instant,
    Packet, PacketId, ProtocolVersion, PubAck, PubComp, PubRec, PubRel, Publish, QoS, TopicName,
};

/// Messages per measured phase.
const MESSAGES: usize = 10_000;
/// Messages per phase before measuring.
const WARM_UP: usize = 1_000;
/// Server packets per chunk handed to `handle_bytes`, and QoS 1 messages published before
/// their PUBACKs come back.
const BATCH: usize = 8;

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V3_1_1, ProtocolVersion::V5];

/// The counting allocator is installed, so that the zero counts below cannot pass vacuously.
#[test]
fn allocations_are_counted() {
    let mut kept = None;
    let info = measure(|| kept = Some(Vec::<u8>::with_capacity(100)));
    assert_eq!(kept.map(|buf| buf.capacity()), Some(100));
    assert_eq!((info.count_total, info.bytes_total), (1, 100), "{info:?}");
}

/// Publishing QoS 0 messages (publish, then `poll_transmit`) allocates nothing per message.
///
/// conformance: v5:MQTT-4.3.1-1, v311:MQTT-4.3.1-1
#[test]
fn publishing_qos0_allocates_nothing_per_message() {
    for version in VERSIONS {
        let mut client = connected(version);
        let message = message(QoS::AtMostOnce);
        let mut out = [0u8; 512];
        let mut run = |client: &mut Client, count: usize| {
            let mut written = 0;
            for _ in 0..count {
                let id = client.publish(Instant::ZERO, message.clone()).unwrap();
                assert_eq!(id, None);
                written += client.poll_transmit(&mut out).unwrap().len;
            }
            written
        };
        run(&mut client, WARM_UP);
        let mut written = 0;
        let info = measure(|| written = run(&mut client, MESSAGES));
        report(version, "publish QoS 0", &info);
        assert_eq!(written, MESSAGES * encoded_len(&message, version));
        assert_no_allocation(&info);
    }
}

/// Publishing QoS 1 messages, `BATCH` at a time, with their PUBACKs fed back in one chunk
/// through `handle_bytes`, allocates nothing per message.
///
/// conformance: v5:MQTT-4.3.2-1, v5:MQTT-4.3.2-3, v311:MQTT-4.3.2-1
#[test]
fn publishing_qos1_allocates_nothing_per_message() {
    for version in VERSIONS {
        let mut client = connected(version);
        let message = message(QoS::AtLeastOnce);
        let mut out = [0u8; 4096];
        let mut ids = [PacketId::MIN; BATCH];
        let mut run = |client: &mut Client, count: usize| {
            let mut completed = 0;
            for _ in 0..count / BATCH {
                for id in &mut ids {
                    *id = client
                        .publish(Instant::ZERO, message.clone())
                        .unwrap()
                        .unwrap();
                }
                let transmit = client.poll_transmit(&mut out).unwrap();
                assert_eq!(transmit.packets, BATCH);
                // The server's answer, built outside the count.
                let mut acks = Bytes::new();
                opt_out(|| acks = encode_all(ids.iter().map(|&id| PubAck::new(id)), version));
                client.handle_bytes(Instant::ZERO, acks);
                while let Some(event) = client.poll_event() {
                    assert!(matches!(event, Event::Published { result: Ok(()), .. }));
                    completed += 1;
                }
            }
            completed
        };
        run(&mut client, WARM_UP);
        let mut completed = 0;
        let info = measure(|| completed = run(&mut client, MESSAGES));
        report(version, "publish QoS 1 + PUBACK", &info);
        assert_eq!(completed, MESSAGES);
        assert_eq!(client.outgoing_len(), 0);
        assert_no_allocation(&info);
    }
}

/// Publishing QoS 2 messages, `BATCH` at a time, through PUBREC, PUBREL and PUBCOMP, the
/// server's packets fed back a chunk at a time, allocates nothing per message.
///
/// conformance: v5:MQTT-4.3.3-1, v5:MQTT-4.3.3-4, v311:MQTT-4.3.3-1
#[test]
fn publishing_qos2_allocates_nothing_per_message() {
    for version in VERSIONS {
        let mut client = connected(version);
        let message = message(QoS::ExactlyOnce);
        let mut out = [0u8; 4096];
        let mut ids = [PacketId::MIN; BATCH];
        let mut run = |client: &mut Client, count: usize| {
            let mut completed = 0;
            for _ in 0..count / BATCH {
                for id in &mut ids {
                    *id = client
                        .publish(Instant::ZERO, message.clone())
                        .unwrap()
                        .unwrap();
                }
                assert_eq!(client.poll_transmit(&mut out).unwrap().packets, BATCH);
                let mut recs = Bytes::new();
                opt_out(|| recs = encode_all(ids.iter().map(|&id| PubRec::new(id)), version));
                client.handle_bytes(Instant::ZERO, recs);
                let transmit = client.poll_transmit(&mut out).unwrap();
                assert_eq!(transmit.packets, BATCH, "one PUBREL per message");
                let mut comps = Bytes::new();
                opt_out(|| comps = encode_all(ids.iter().map(|&id| PubComp::new(id)), version));
                client.handle_bytes(Instant::ZERO, comps);
                while let Some(event) = client.poll_event() {
                    assert!(matches!(event, Event::Published { result: Ok(()), .. }));
                    completed += 1;
                }
            }
            completed
        };
        run(&mut client, WARM_UP);
        let mut completed = 0;
        let info = measure(|| completed = run(&mut client, MESSAGES));
        report(version, "publish QoS 2 + PUBREC/PUBCOMP", &info);
        assert_eq!(completed, MESSAGES);
        assert_no_allocation(&info);
    }
}

/// Receiving QoS 0 messages through `handle_bytes`, `BATCH` per chunk, allocates nothing per
/// message: each message shares the chunk's allocation.
///
/// conformance: v5:MQTT-3.3.4-1, v311:MQTT-4.3.1-1
#[test]
fn receiving_qos0_allocates_nothing_per_message() {
    for version in VERSIONS {
        let mut client = connected(version);
        let chunks = server_chunks(QoS::AtMostOnce, version, (WARM_UP + MESSAGES) / BATCH);
        let (warm_up, measured) = chunks.split_at(WARM_UP / BATCH);
        let run = |client: &mut Client, chunks: &[Bytes]| {
            let mut received = 0;
            for chunk in chunks {
                client.handle_bytes(Instant::ZERO, chunk.clone());
                while let Some(event) = client.poll_event() {
                    let Event::Message(message) = event else {
                        panic!("{event:?}")
                    };
                    assert_eq!(message.payload.len(), PAYLOAD.len());
                    received += 1;
                }
                assert!(client.poll_transmit(&mut [0u8; 64]).is_none());
            }
            received
        };
        run(&mut client, warm_up);
        let mut received = 0;
        let info = measure(|| received = run(&mut client, measured));
        report(version, "receive QoS 0", &info);
        assert_eq!(received, MESSAGES);
        assert_no_allocation(&info);
    }
}

/// Receiving QoS 1 messages through `handle_bytes`, `BATCH` per chunk, and writing their
/// PUBACKs allocates nothing per message.
///
/// conformance: v5:MQTT-4.3.2-4, v5:MQTT-4.5.0-2, v311:MQTT-4.3.2-2
#[test]
fn receiving_qos1_allocates_nothing_per_message() {
    for version in VERSIONS {
        let mut client = connected(version);
        let chunks = server_chunks(QoS::AtLeastOnce, version, (WARM_UP + MESSAGES) / BATCH);
        let (warm_up, measured) = chunks.split_at(WARM_UP / BATCH);
        let mut out = [0u8; 4096];
        let mut run = |client: &mut Client, chunks: &[Bytes]| {
            let mut received = 0;
            for chunk in chunks {
                client.handle_bytes(Instant::ZERO, chunk.clone());
                while let Some(event) = client.poll_event() {
                    assert!(matches!(event, Event::Message(_)), "{event:?}");
                    received += 1;
                }
                let transmit = client.poll_transmit(&mut out).unwrap();
                assert_eq!(transmit.packets, BATCH, "one PUBACK per message");
            }
            received
        };
        run(&mut client, warm_up);
        let mut received = 0;
        let info = measure(|| received = run(&mut client, measured));
        report(version, "receive QoS 1 + PUBACK", &info);
        assert_eq!(received, MESSAGES);
        assert_no_allocation(&info);
    }
}

/// Receiving QoS 2 messages through `handle_bytes`, `BATCH` per chunk followed by a chunk of
/// their PUBRELs, and writing the PUBRECs and PUBCOMPs, allocates nothing per message.
///
/// conformance: v5:MQTT-4.3.3-8, v5:MQTT-4.3.3-11, v311:MQTT-4.3.3-2
#[test]
fn receiving_qos2_allocates_nothing_per_message() {
    for version in VERSIONS {
        let mut client = connected(version);
        let chunks = server_chunks(QoS::ExactlyOnce, version, (WARM_UP + MESSAGES) / BATCH);
        let (warm_up, measured) = chunks.split_at(WARM_UP / BATCH);
        let releases = encode_all(
            (1..=BATCH).map(|id| PubRel::new(PacketId::new(u16::try_from(id).unwrap()).unwrap())),
            version,
        );
        let mut out = [0u8; 4096];
        let mut run = |client: &mut Client, chunks: &[Bytes]| {
            let mut received = 0;
            for chunk in chunks {
                client.handle_bytes(Instant::ZERO, chunk.clone());
                while let Some(event) = client.poll_event() {
                    assert!(matches!(event, Event::Message(_)), "{event:?}");
                    received += 1;
                }
                assert_eq!(client.poll_transmit(&mut out).unwrap().packets, BATCH);
                client.handle_bytes(Instant::ZERO, releases.clone());
                let transmit = client.poll_transmit(&mut out).unwrap();
                assert_eq!(transmit.packets, BATCH, "one PUBCOMP per message");
            }
            received
        };
        run(&mut client, warm_up);
        let mut received = 0;
        let info = measure(|| received = run(&mut client, measured));
        report(version, "receive QoS 2 + PUBREC/PUBCOMP", &info);
        assert_eq!(received, MESSAGES);
        assert_no_allocation(&info);
    }
}

/// `handle_data` copies what it is given into the decoder's buffer, which the client keeps
/// between reads (one connection, unlike a broker's many): once the messages cut from a read
/// are dropped, the next read goes into the same buffer, so in steady state receiving through
/// `handle_data` allocates nothing either.
#[test]
fn handle_data_allocates_nothing_in_steady_state() {
    for version in VERSIONS {
        let mut client = connected(version);
        let chunks = server_chunks(QoS::AtMostOnce, version, (WARM_UP + MESSAGES) / BATCH);
        let copies: Vec<Vec<u8>> = chunks.iter().map(|chunk| chunk.to_vec()).collect();
        let (warm_up, measured) = copies.split_at(WARM_UP / BATCH);
        let run = |client: &mut Client, reads: &[Vec<u8>]| {
            let mut received = 0;
            for read in reads {
                client.handle_data(Instant::ZERO, read);
                while let Some(Event::Message(_)) = client.poll_event() {
                    received += 1;
                }
            }
            received
        };
        run(&mut client, warm_up);
        let mut received = 0;
        let info = measure(|| received = run(&mut client, measured));
        report(version, "receive QoS 0 by handle_data", &info);
        assert_eq!(received, MESSAGES);
        assert_no_allocation(&info);
    }
}

/// The payload of every message.
const PAYLOAD: [u8; 64] = [0x5a; 64];

/// A client connected in `version` with the default configuration.
fn connected(version: ProtocolVersion) -> Client {
    let mut client = Client::new(ClientConfig::default());
    client
        .connect(
            Instant::ZERO,
            ConnectOptions::new(version, "allocs").unwrap(),
        )
        .unwrap();
    let mut buf = [0u8; 256];
    while client.poll_transmit(&mut buf).is_some() {}
    let connack = ConnAck::<Bytes>::new(false, ConnectReasonCode::Success);
    client.handle_bytes(Instant::ZERO, encode_all([connack], version));
    assert!(matches!(client.poll_event(), Some(Event::Connected(_))));
    client
}

/// The application's message, its topic and payload static so that clones share them.
fn message(qos: QoS) -> Publish {
    Publish::new(
        TopicName::new(ByteString::from_static("sensors/room-1/temp")).unwrap(),
        Bytes::from_static(&PAYLOAD),
    )
    .with_qos(qos)
}

/// `chunks` chunks of `BATCH` server PUBLISH packets each, identifiers 1 to `BATCH` for QoS 1.
fn server_chunks(qos: QoS, version: ProtocolVersion, chunks: usize) -> Vec<Bytes> {
    (0..chunks)
        .map(|_| {
            encode_all(
                (1..=BATCH).map(|id| {
                    let mut publish = message(qos);
                    let id = PacketId::new(u16::try_from(id).unwrap()).unwrap();
                    publish.delivery = Delivery::new(qos, id);
                    publish
                }),
                version,
            )
        })
        .collect()
}

/// The packets encoded back to back, as a driver reads them: split off a `BytesMut`, so that
/// the `Bytes` has shared storage and slicing it only counts a reference. (A `Bytes` made from
/// a `Vec` allocates its shared header when it is first sliced or cloned.)
fn encode_all<P: Into<Packet>>(
    packets: impl IntoIterator<Item = P>,
    version: ProtocolVersion,
) -> Bytes {
    let mut wire = BytesMut::new();
    for packet in packets {
        packet.into().encode(version, &mut wire).unwrap();
    }
    wire.split().freeze()
}

/// The size of `message` on the wire.
fn encoded_len(message: &Publish, version: ProtocolVersion) -> usize {
    message.encoded_len(version).unwrap()
}

/// Prints a phase's counts (visible with `--no-capture`).
fn report(version: ProtocolVersion, phase: &str, info: &AllocationInfo) {
    println!(
        "{version} {phase}: {} allocations, {} bytes, for {MESSAGES} messages",
        info.count_total, info.bytes_total
    );
}

/// A phase allocated nothing at all: after the warm-up every queue and table has the capacity
/// the traffic needs.
fn assert_no_allocation(info: &AllocationInfo) {
    assert_eq!(
        info.count_total, 0,
        "{} allocations ({} bytes) for {MESSAGES} messages",
        info.count_total, info.bytes_total
    );
}
