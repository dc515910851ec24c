//! The heap a connection's [`Decoder`] holds: none while idle, whatever it last decoded.
//!
//! `allocation-counter` is the global allocator of this test binary (the crate forbids
//! `unsafe`, so it cannot install one itself); its counters are per thread, so parallel tests
//! do not disturb each other. `bytes_current` is the net heap a closure leaves allocated.
#![cfg(feature = "v5")]

use allocation_counter::{AllocationInfo, measure};
use mqtt_sansio::{Decoder, Limits, Packet, ProtocolVersion};

const V5: ProtocolVersion = ProtocolVersion::V5;

fn counted<R>(f: impl FnOnce() -> R) -> (R, AllocationInfo) {
    let mut result = None;
    let info = measure(|| result = Some(f()));
    (result.expect("ran"), info)
}

/// A QoS 0 MQTT 5.0 PUBLISH to "a/b" of `len` bytes in all.
fn publish(len: usize) -> Vec<u8> {
    // Fixed header with a three-byte Remaining Length, topic, empty property block.
    let remaining = len - 4;
    let mut wire = vec![
        0x30,
        (remaining & 0x7F) as u8 | 0x80,
        ((remaining >> 7) & 0x7F) as u8 | 0x80,
        (remaining >> 14) as u8,
        0x00,
        0x03,
        b'a',
        b'/',
        b'b',
        0x00,
    ];
    wire.resize(len, b'x');
    wire
}

/// The counting allocator is installed, so that the zero counts below cannot pass vacuously.
#[test]
fn allocations_are_counted() {
    let (buf, info) = counted(|| Vec::<u8>::with_capacity(100));
    assert_eq!(buf.capacity(), 100);
    assert_eq!(info.bytes_current, 100, "{info:?}");
}

/// After a 64 KiB packet is decoded and dropped, with nothing pending, the decoder holds 0
/// bytes of heap.
#[test]
fn idle_decoder_holds_no_heap_after_a_64_kib_packet() {
    let wire = publish(64 * 1024);
    let mut decoder = Decoder::client(V5, Limits::default());
    let ((), info) = counted(|| {
        decoder.push(&wire);
        let packet = decoder.decode().expect("valid").expect("whole");
        assert!(matches!(packet, Packet::Publish(_)));
        assert_eq!(decoder.decode(), Ok(None));
        drop(packet);
    });
    assert_eq!(decoder.buffered(), 0);
    assert_eq!(decoder.buffer_capacity(), 0);
    assert_eq!(info.bytes_current, 0, "{info:?}");
}

/// The same packet fed in 1 KiB reads, as from a socket: still 0 bytes once idle.
#[test]
fn idle_decoder_holds_no_heap_after_a_packet_read_in_pieces() {
    let wire = publish(64 * 1024);
    let mut decoder = Decoder::client(V5, Limits::default());
    let ((), info) = counted(|| {
        let mut packets = Vec::new();
        for chunk in wire.chunks(1024) {
            decoder.buffer_mut().reserve(chunk.len());
            decoder.buffer_mut().extend_from_slice(chunk);
            while let Some(packet) = decoder.decode().expect("valid") {
                packets.push(packet);
            }
        }
        assert_eq!(packets.len(), 1);
    });
    assert_eq!(decoder.buffer_capacity(), 0);
    assert_eq!(info.bytes_current, 0, "{info:?}");
}

/// With a few bytes of the next packet pending, the decoder holds about those bytes, not the
/// 64 KiB allocation the large packet came in.
#[test]
fn pending_bytes_after_a_large_packet_do_not_keep_it_alive() {
    let mut wire = publish(64 * 1024);
    wire.extend_from_slice(&[0x30, 0x05, 0x00]); // the start of the next PUBLISH
    let mut decoder = Decoder::client(V5, Limits::default());
    let ((), info) = counted(|| {
        decoder.push(&wire);
        let packet = decoder.decode().expect("valid").expect("whole");
        assert_eq!(decoder.decode(), Ok(None));
        drop(packet);
    });
    assert_eq!(decoder.buffered(), 3);
    assert!(info.bytes_current <= 64, "{info:?}");
}

/// A large packet whose header has arrived is given an exact buffer once half of it is
/// there, so the buffer never rounds up beyond the packet's size.
#[test]
fn partly_read_packet_reserves_exactly_its_size() {
    let wire = publish(64 * 1024);
    let mut decoder = Decoder::client(V5, Limits::default());
    decoder.push(&wire[..40 * 1024]);
    assert_eq!(decoder.decode(), Ok(None));
    assert_eq!(decoder.buffer_capacity(), 64 * 1024);
    decoder.push(&wire[40 * 1024..]);
    assert!(decoder.decode().expect("valid").is_some());
}

/// A header alone, announcing 64 KiB, makes the decoder reserve nothing beyond the bytes it
/// was given: a peer cannot make it allocate more than it sends.
#[test]
fn header_alone_reserves_nothing_more() {
    let wire = publish(64 * 1024);
    let mut decoder = Decoder::server(Limits::new(1024 * 1024));
    let mut connect = b"\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00".to_vec();
    connect.extend_from_slice(&wire[..10]);
    decoder.push(&connect);
    assert!(decoder.decode().expect("valid").is_some());
    let ((), info) = counted(|| assert_eq!(decoder.decode(), Ok(None)));
    assert!(
        decoder.buffer_capacity() < 64,
        "{}",
        decoder.buffer_capacity()
    );
    assert!(info.bytes_current <= 64, "{info:?}");
}
