//! Worst-shaped packets: decoding time must be linear in the packet's size, whatever its
//! shape.
//!
//! Each group decodes one shape at several sizes, up to 16 MiB (the default limit is 1 MiB),
//! with criterion's `Throughput::Bytes`: linear time shows as the same bytes per second at
//! every size, a super-linear shape as throughput falling as the packet grows. The shapes are
//! the ones that maximise work per byte:
//!
//! - `publish_user_properties`: a 5.0 PUBLISH whose property block is nothing but empty User
//!   Properties (5 bytes each), decoded and then walked (the list is re-read on iteration);
//! - `subscribe_one_byte_filters` and `unsubscribe_one_byte_filters`: every Topic Filter one
//!   byte long, the most entries per byte;
//! - `subscribe_65535_level_filters`: filters of 65,534 `/`, that is 65,535 empty levels, the
//!   most levels a filter can have;
//! - `match_65535_levels`: matching such a filter against a Topic Name of as many levels.
//!
//! Run with `cargo bench --bench worst_case`; each packet is checked to decode before it is
//! timed.

use core::time::Duration;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use mqtt_sansio::{Decoded, Limits, Packet, ProtocolVersion, TopicFilter};

/// Packet sizes to decode, in bytes: 64 KiB, 1 MiB (the default limit) and 16 MiB.
const SIZES: [usize; 3] = [64 << 10, 1 << 20, 16 << 20];

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(10)
        .configure_from_args();
    decode_group(
        &mut criterion,
        "publish_user_properties",
        ProtocolVersion::V5,
        publish_user_properties,
    );
    decode_group(
        &mut criterion,
        "subscribe_one_byte_filters_v311",
        ProtocolVersion::V3_1_1,
        |size| subscribe(size, ProtocolVersion::V3_1_1, "a"),
    );
    decode_group(
        &mut criterion,
        "subscribe_one_byte_filters_v5",
        ProtocolVersion::V5,
        |size| subscribe(size, ProtocolVersion::V5, "a"),
    );
    decode_group(
        &mut criterion,
        "unsubscribe_one_byte_filters_v5",
        ProtocolVersion::V5,
        unsubscribe_one_byte_filters,
    );
    let deepest = "/".repeat(65_534);
    decode_group(
        &mut criterion,
        "subscribe_65535_level_filters",
        ProtocolVersion::V5,
        |size| subscribe(size, ProtocolVersion::V5, &deepest),
    );
    match_deepest(&mut criterion);
    criterion.final_summary();
}

/// Times decoding (borrowed, then walking every list) of the packet `build` makes for each
/// size.
fn decode_group(
    criterion: &mut Criterion,
    name: &str,
    version: ProtocolVersion,
    build: impl Fn(usize) -> Vec<u8>,
) {
    let mut group = criterion.benchmark_group(name);
    for size in SIZES {
        let wire = build(size);
        let limits = Limits::new(u32::try_from(wire.len()).expect("small enough"));
        let entries = decode(version, &wire, &limits);
        assert!(entries > 0, "{name}: {size} bytes decode to nothing");
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(label(size)),
            &wire,
            |b, wire| {
                b.iter(|| decode(version, black_box(wire), &limits));
            },
        );
    }
    group.finish();
}

/// Times matching a filter of `n` empty levels against a name of `n` empty levels, up to the
/// 65,535 levels of the longest filter.
fn match_deepest(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("match_65535_levels");
    for levels in [1_024, 65_535] {
        let deep = "/".repeat(levels - 1);
        let filter = TopicFilter::<&[u8]>::new(deep.as_str()).expect("valid filter");
        assert!(filter.matches(&deep));
        group.throughput(Throughput::Bytes(deep.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(levels), &deep, |b, deep| {
            b.iter(|| filter.matches(black_box(deep)));
        });
    }
    group.finish();
}

/// Decodes one whole packet and walks its lists; returns the number of entries.
fn decode(version: ProtocolVersion, wire: &[u8], limits: &Limits) -> usize {
    let Ok(Decoded::Complete { packet, consumed }) = Packet::decode(version, wire, limits) else {
        panic!("the packet does not decode");
    };
    assert_eq!(consumed, wire.len());
    match packet {
        Packet::Publish(publish) => publish.properties.message.user_properties().count(),
        Packet::Subscribe(subscribe) => subscribe.subscriptions.iter().count(),
        Packet::Unsubscribe(unsubscribe) => unsubscribe.filters.iter().count(),
        _ => 0,
    }
}

/// A 5.0 PUBLISH to "t" of at most `size` bytes whose properties are all empty User
/// Properties.
fn publish_user_properties(size: usize) -> Vec<u8> {
    let count = (size - 16) / 5;
    let mut body = vec![0x00, 0x01, b't'];
    put_var_int(&mut body, count * 5);
    for _ in 0..count {
        body.extend_from_slice(&[0x26, 0x00, 0x00, 0x00, 0x00]);
    }
    packet(0x30, &body)
}

/// A SUBSCRIBE of at most `size` bytes (at least one entry) whose entries all have `filter`.
fn subscribe(size: usize, version: ProtocolVersion, filter: &str) -> Vec<u8> {
    let entry_len = filter.len() + 3;
    let count = ((size - 16) / entry_len).max(1);
    let mut body = vec![0x00, 0x01];
    if version.is_v5() {
        body.push(0x00);
    }
    let filter_len = u16::try_from(filter.len()).expect("short filter");
    for _ in 0..count {
        body.extend_from_slice(&filter_len.to_be_bytes());
        body.extend_from_slice(filter.as_bytes());
        body.push(0x01);
    }
    packet(0x82, &body)
}

/// A 5.0 UNSUBSCRIBE of at most `size` bytes whose filters are all "a".
fn unsubscribe_one_byte_filters(size: usize) -> Vec<u8> {
    let count = (size - 16) / 3;
    let mut body = vec![0x00, 0x01, 0x00];
    for _ in 0..count {
        body.extend_from_slice(&[0x00, 0x01, b'a']);
    }
    packet(0xA2, &body)
}

/// A fixed header and `body`.
fn packet(first_byte: u8, body: &[u8]) -> Vec<u8> {
    let mut wire = vec![first_byte];
    put_var_int(&mut wire, body.len());
    wire.extend_from_slice(body);
    wire
}

/// Appends a Variable Byte Integer.
fn put_var_int(buf: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value % 128) as u8;
        value /= 128;
        if value == 0 {
            buf.push(byte);
            return;
        }
        buf.push(byte | 0x80);
    }
}

fn label(size: usize) -> String {
    if size >= 1 << 20 {
        format!("{}MiB", size >> 20)
    } else {
        format!("{}KiB", size >> 10)
    }
}
