//! Codec throughput, ours side by side with the peer crates (rumqttc, mqttrs,
//! mqtt-protocol-core, mqtt-proto), on the same logical packets in 3.1.1 and 5.0.
//!
//! Every row is checked before it is timed: each codec decodes the shared wire bytes to the
//! expected fields, and each encoder's output decodes (with ours) to the expected packet, so
//! no figure measures an error path. Allocations per operation come from a separate binary,
//! `benches/codec/allocs.rs`, so that the timed runs use the system allocator untouched.
//!
//! ```text
//! cargo bench --bench codec_allocs      # allocations per operation, stream packet counts
//! cargo bench --bench codec             # timings (criterion)
//! python3 benches/report.py             # the markdown tables of BENCHMARKS.md
//! ```

#[path = "codec/fixtures.rs"]
mod fixtures;
#[path = "codec/mqtt_proto.rs"]
mod mqtt_proto;
#[path = "codec/mqtt_protocol_core.rs"]
mod mqtt_protocol_core;
#[path = "codec/mqttrs.rs"]
mod mqttrs;
#[path = "codec/ours.rs"]
mod ours;
#[path = "codec/rumqttc.rs"]
mod rumqttc;
#[path = "codec/suite.rs"]
mod suite;

use core::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, Throughput};

/// Runs the suite under criterion.
struct CriterionRunner(Criterion);

/// One criterion group; dropping it finishes the group.
struct CriterionGroup<'a>(BenchmarkGroup<'a, WallTime>);

impl suite::Runner for CriterionRunner {
    type Group<'a> = CriterionGroup<'a>;

    fn group(&mut self, id: String, bytes: usize) -> CriterionGroup<'_> {
        let mut group = self.0.benchmark_group(id);
        group.throughput(Throughput::Bytes(bytes as u64));
        CriterionGroup(group)
    }
}

impl suite::Group for CriterionGroup<'_> {
    fn plain<O>(&mut self, name: &str, mut f: impl FnMut() -> O) {
        self.0.bench_function(name, |b| b.iter(&mut f));
    }

    fn batched<I, O>(
        &mut self,
        name: &str,
        input_len: usize,
        mut setup: impl FnMut() -> I,
        mut f: impl FnMut(&mut I) -> O,
    ) {
        // Batches of inputs up to about 1 MiB in all: small inputs amortise the timer over
        // many calls, large ones do not fill memory.
        let per_batch = ((1 << 20) / input_len.max(1)).clamp(1, 1000) as u64;
        self.0.bench_function(name, |b| {
            b.iter_batched_ref(&mut setup, &mut f, BatchSize::NumIterations(per_batch));
        });
    }
}

fn main() {
    let criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
        .configure_from_args();
    let mut runner = CriterionRunner(criterion);
    suite::run(&mut runner);
    runner.0.final_summary();
}
