//! Allocations per operation for every row of the codec benchmark (`benches/codec.rs`): the
//! same closures, run under `allocation-counter`'s counting global allocator instead of
//! criterion.
//!
//! Prints a table and writes `<target>/criterion/codec_allocs.json`, which
//! `benches/report.py` reads for the allocation columns and the stream's packet count.

mod fixtures;
mod mqtt_proto;
mod mqtt_protocol_core;
mod mqttrs;
mod ours;
mod rumqttc;
mod suite;

use core::hint::black_box;
use std::fmt::Write as _;
use std::path::PathBuf;

use allocation_counter::AllocationInfo;

/// One measured operation.
struct Entry {
    id: String,
    bytes: usize,
    allocs: f64,
    alloc_bytes: f64,
}

/// Collects [`Entry`]s.
#[derive(Default)]
struct AllocRunner {
    entries: Vec<Entry>,
}

/// The group being measured.
struct AllocGroup<'a> {
    runner: &'a mut AllocRunner,
    id: String,
    bytes: usize,
}

impl suite::Runner for AllocRunner {
    type Group<'a> = AllocGroup<'a>;

    fn group(&mut self, id: String, bytes: usize) -> AllocGroup<'_> {
        AllocGroup {
            runner: self,
            id,
            bytes,
        }
    }
}

impl AllocGroup<'_> {
    /// How many calls to average over: fewer for large inputs.
    fn calls(&self) -> u64 {
        ((8usize << 20) / self.bytes.max(1)).clamp(4, 256) as u64
    }

    fn record(&mut self, name: &str, calls: u64, info: AllocationInfo) {
        self.runner.entries.push(Entry {
            id: format!("{}/{name}", self.id),
            bytes: self.bytes,
            allocs: info.count_total as f64 / calls as f64,
            alloc_bytes: info.bytes_total as f64 / calls as f64,
        });
    }
}

impl suite::Group for AllocGroup<'_> {
    fn plain<O>(&mut self, name: &str, mut f: impl FnMut() -> O) {
        // One call first, so that one-time work (a lazily shared buffer, a first reservation
        // in a reused builder) is not counted per operation.
        black_box(f());
        let calls = self.calls();
        let info = allocation_counter::measure(|| {
            for _ in 0..calls {
                black_box(f());
            }
        });
        self.record(name, calls, info);
    }

    fn batched<I, O>(
        &mut self,
        name: &str,
        _input_len: usize,
        mut setup: impl FnMut() -> I,
        mut f: impl FnMut(&mut I) -> O,
    ) {
        let calls = self.calls();
        let mut total = AllocationInfo::default();
        for _ in 0..calls {
            let mut input = setup();
            total += allocation_counter::measure(|| {
                black_box(f(&mut input));
            });
        }
        self.record(name, calls, total);
    }
}

/// `<target>/criterion`, from this binary's path `<target>/release/deps/codec_allocs-<hash>`.
fn output_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.ancestors().nth(3)?.join("criterion"))
}

fn main() {
    let mut runner = AllocRunner::default();
    suite::run(&mut runner);

    println!("{:<60} {:>10} {:>12}", "operation", "allocs/op", "bytes/op");
    for entry in &runner.entries {
        println!(
            "{:<60} {:>10.2} {:>12.1}",
            entry.id, entry.allocs, entry.alloc_bytes
        );
    }

    let mut json = String::from("{\n  \"operations\": {\n");
    for (i, entry) in runner.entries.iter().enumerate() {
        let comma = if i + 1 < runner.entries.len() {
            ","
        } else {
            ""
        };
        writeln!(
            json,
            "    \"{}\": {{\"bytes\": {}, \"allocs\": {}, \"alloc_bytes\": {}}}{comma}",
            entry.id, entry.bytes, entry.allocs, entry.alloc_bytes
        )
        .expect("writing to a String");
    }
    json.push_str("  },\n  \"streams\": {\n");
    for (i, version) in fixtures::Version::ALL.iter().enumerate() {
        let stream = fixtures::stream(*version);
        let comma = if i + 1 < fixtures::Version::ALL.len() {
            ","
        } else {
            ""
        };
        writeln!(
            json,
            "    \"stream/{}/mixed_1MiB\": {{\"bytes\": {}, \"packets\": {}, \"publishes\": {}, \
             \"payload_bytes\": {}}}{comma}",
            version.name(),
            stream.bytes.len(),
            stream.packets,
            stream.publishes,
            stream.payload_bytes
        )
        .expect("writing to a String");
    }
    json.push_str("  }\n}\n");

    let Some(dir) = output_dir() else {
        eprintln!("no target directory found; not writing codec_allocs.json");
        return;
    };
    std::fs::create_dir_all(&dir).expect("create the criterion directory");
    let path = dir.join("codec_allocs.json");
    std::fs::write(&path, json).expect("write codec_allocs.json");
    println!("wrote {}", path.display());
}
