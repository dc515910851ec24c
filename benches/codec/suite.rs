//! The suite, written once against [`Runner`]: the timing binary (`benches/codec.rs`) runs it
//! under criterion, the allocation binary (`benches/codec/allocs.rs`) under a counting
//! allocator, so both measure exactly the same closures.
//!
//! Row ids are `{decode,encode,stream}/{v311,v5}/{row}/{codec}`; `benches/report.py` groups
//! them by everything before the last `/`.

use core::hint::black_box;

use crate::fixtures::{self, Row, Version};
use crate::{mqtt_proto, mqtt_protocol_core, mqttrs, ours, rumqttc};

/// Runs groups of measurements.
pub(crate) trait Runner {
    /// An open group.
    type Group<'a>: Group
    where
        Self: 'a;

    /// Opens the group `id`, each of whose operations handles `bytes` bytes.
    fn group(&mut self, id: String, bytes: usize) -> Self::Group<'_>;
}

/// Measures the operations of one row.
pub(crate) trait Group {
    /// Measures `f`, which reads a shared, prepared input.
    fn plain<O>(&mut self, name: &str, f: impl FnMut() -> O);

    /// Measures `f` on a fresh input from `setup` each time, for APIs that consume their input
    /// buffer. Setup and the drops of the input and of `f`'s output are not measured, so `f`
    /// returns `()` when the output's drop belongs in the figure. `input_len` sizes the batches.
    fn batched<I, O>(
        &mut self,
        name: &str,
        input_len: usize,
        setup: impl FnMut() -> I,
        f: impl FnMut(&mut I) -> O,
    );
}

/// Checks the fixtures, then measures every row.
pub(crate) fn run(runner: &mut impl Runner) {
    fixtures::check_wire_layout();
    for version in Version::ALL {
        for row in Row::ALL {
            decode(runner, version, row);
        }
        for row in Row::ALL {
            encode(runner, version, row);
        }
        stream(runner, version);
    }
}

fn decode(runner: &mut impl Runner, version: Version, row: Row) {
    let wire = fixtures::wire(row, version);
    let id = format!("decode/{}/{}", version.name(), row.name());
    let mut group = runner.group(id, wire.len());
    ours::decode(&mut group, version, row, &wire);
    rumqttc::decode(&mut group, version, row, &wire);
    mqttrs::decode(&mut group, version, row, &wire);
    mqtt_protocol_core::decode(&mut group, version, row, &wire);
    mqtt_proto::decode(&mut group, version, row, &wire);
    assert_eq!(fixtures::scan_header(&wire), Some((wire[0], wire.len())));
    group.plain("header_scan", || fixtures::scan_header(black_box(&wire)));
    if row.payload().is_some() {
        assert_eq!(fixtures::scan_header_topic(&wire), Some((wire.len(), true)));
        group.plain("header_utf8_scan", || {
            fixtures::scan_header_topic(black_box(&wire))
        });
    }
}

fn encode(runner: &mut impl Runner, version: Version, row: Row) {
    let wire = fixtures::wire(row, version);
    let id = format!("encode/{}/{}", version.name(), row.name());
    let mut group = runner.group(id, wire.len());
    ours::encode(&mut group, version, row, &wire);
    rumqttc::encode(&mut group, version, row, &wire);
    mqttrs::encode(&mut group, version, row, &wire);
    mqtt_protocol_core::encode(&mut group, version, row, &wire);
    mqtt_proto::encode(&mut group, version, row, &wire);
    if let Some(payload) = row.payload() {
        // The floor for encoding a PUBLISH: copying its payload into the same kind of buffer.
        let mut buf = fixtures::out_buffer();
        group.plain("memcpy", || {
            buf.clear();
            buf.extend_from_slice(black_box(&payload));
            buf.len()
        });
    }
}

fn stream(runner: &mut impl Runner, version: Version) {
    let stream = fixtures::stream(version);
    let id = format!("stream/{}/mixed_1MiB", version.name());
    let mut group = runner.group(id, stream.bytes.len());
    ours::stream(&mut group, version, &stream);
    rumqttc::stream(&mut group, version, &stream);
    mqttrs::stream(&mut group, version, &stream);
    mqtt_protocol_core::stream(&mut group, version, &stream);
    mqtt_proto::stream(&mut group, version, &stream);
    assert_eq!(fixtures::scan_stream(&stream.bytes), stream.packets);
    group.plain("header_scan", || {
        fixtures::scan_stream(black_box(&stream.bytes))
    });
    assert_eq!(fixtures::scan_stream_topics(&stream.bytes), stream.packets);
    group.plain("header_utf8_scan", || {
        fixtures::scan_stream_topics(black_box(&stream.bytes))
    });
}

/// The whole length of the packet at the start of `input`, for peers whose decoder does not
/// report how many bytes it took (the same header read as the `header_scan` row).
pub(crate) fn frame_len(input: &[u8]) -> usize {
    fixtures::scan_header(input).map_or(0, |(_, len)| len)
}
