//! The broker's subscription trie: time to match one PUBLISH topic against 1,000, 100,000 and
//! 1,000,000 subscriptions, for topics of depth 3 and 6, and the heap each subscription (and
//! each retained message) costs.
//!
//! The subscriptions are mixed as a fleet's would be: about 90 % literal filters of 3 to 6
//! levels over `site/{s}/status`, `site/{s}/device/{d}`, `site/{s}/device/{d}/status` and
//! `site/{s}/device/{d}/sensor/{k}`, and about 10 % with a wildcard (`site/{s}/device/+/sensor/
//! {k}`, `site/{s}/device/{d}/#`, `site/+/device/{d}/status`, `site/{s}/#`), four per session.
//! The vocabulary grows with the trie (`size / 1000` sites of 100 devices of 10 sensors), so
//! that each size holds filters as dense and a topic matches about as many of them: what
//! changes between sizes is only how many *other* subscriptions there are. The topics matched
//! are drawn from the same vocabulary. The claim to check: the time per match grows with the
//! topic's depth, not with the number of subscriptions.
//!
//! The heap figures come from `allocation-counter`'s counting allocator (installed in this
//! binary; matching allocates nothing, so it does not touch the timings) and are printed
//! before the timings. Each trie is built once per run; the 1 M one takes a few seconds.
//!
//! `cargo bench --bench broker_match` (about a minute with `-- --warm-up-time 1
//! --measurement-time 2`).

use core::hint::black_box;
use std::time::Instant as WallClock;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mqtt_sansio::broker::__internal::{Match, Retained, Subscriptions};
use mqtt_sansio::{Instant, QoS, SubscriptionId, SubscriptionOptions, TopicFilter, TopicName};

/// Devices per site and sensors per device; a trie of `n` subscriptions has `n / 1000`
/// sites, so as many distinct depth-6 topics as subscriptions.
const DEVICES: u64 = 100;
const SENSORS: u64 = 10;

/// The retained store's sites: 1,000 × 100 × 10 = 1 M topics.
const RETAINED_SITES: u64 = 1_000;

/// The sizes measured.
const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];

/// Subscriptions per session.
const PER_SESSION: usize = 4;

/// How many topics each measurement cycles through (a power of two).
const TOPICS: usize = 1_024;

/// A small deterministic generator (xorshift64*), so every run builds the same tries.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The number of sites for a trie of `size` subscriptions.
fn sites(size: usize) -> u64 {
    (size as u64 / 1000).max(1)
}

/// One filter of the mix over `sites` sites: about 90 % literal (3 to 6 levels), 10 % with
/// a wildcard.
fn filter(rng: &mut Rng, sites: u64) -> String {
    let (s, d, k) = (rng.below(sites), rng.below(DEVICES), rng.below(SENSORS));
    match rng.below(100) {
        0..=4 => format!("site/{s}/status"),
        5..=14 => format!("site/{s}/device/{d}"),
        15..=24 => format!("site/{s}/device/{d}/status"),
        25..=89 => format!("site/{s}/device/{d}/sensor/{k}"),
        90..=93 => format!("site/{s}/device/+/sensor/{k}"),
        94..=96 => format!("site/{s}/device/{d}/#"),
        97..=98 => format!("site/+/device/{d}/status"),
        _ => format!("site/{s}/#"),
    }
}

/// A topic of depth 3 or 6 from the same vocabulary.
fn topic(rng: &mut Rng, sites: u64, depth: usize) -> String {
    let (s, d, k) = (rng.below(sites), rng.below(DEVICES), rng.below(SENSORS));
    match depth {
        3 => format!("site/{s}/status"),
        _ => format!("site/{s}/device/{d}/sensor/{k}"),
    }
}

/// A trie of `size` subscriptions; the session of subscription `i` is `i / PER_SESSION`.
fn build(size: usize) -> Subscriptions<u32> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut trie = Subscriptions::new();
    for i in 0..size {
        let text = filter(&mut rng, sites(size));
        let filter = TopicFilter::<&[u8]>::new(text.as_str()).unwrap();
        let key = u32::try_from(i / PER_SESSION).unwrap();
        let id = SubscriptionId::new(u32::try_from(i % 1000 + 1).unwrap());
        trie.subscribe(&filter, key, SubscriptionOptions::new(QoS::AtLeastOnce), id)
            .unwrap();
    }
    trie
}

fn matching(c: &mut Criterion) {
    let mut group = c.benchmark_group("broker_match");
    for size in SIZES {
        let started = WallClock::now();
        let mut trie = None;
        let heap = allocation_counter::measure(|| trie = Some(build(size)));
        let mut trie = trie.unwrap();
        eprintln!(
            "broker_match/{size}: built in {:.2} s; {} subscriptions, {} nodes, heap {} B = {:.1} B per subscription",
            started.elapsed().as_secs_f64(),
            trie.len(),
            trie.nodes(),
            heap.bytes_current,
            heap.bytes_current as f64 / size as f64,
        );
        for depth in [3, 6] {
            let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ depth as u64);
            let topics: Vec<String> = (0..TOPICS)
                .map(|_| topic(&mut rng, sites(size), depth))
                .collect();
            let mut out: Vec<Match<u32>> = Vec::with_capacity(1024);
            let mut found = 0;
            for topic in &topics {
                out.clear();
                trie.matches(topic, |_| true, &mut out);
                found += out.len();
            }
            eprintln!(
                "broker_match/{size}/depth{depth}: {:.2} matches per topic",
                found as f64 / TOPICS as f64
            );
            let mut next = 0;
            group.bench_function(BenchmarkId::new(format!("depth{depth}"), size), |b| {
                b.iter(|| {
                    next = (next + 1) & (TOPICS - 1);
                    out.clear();
                    trie.matches(black_box(&topics[next]), |_| true, &mut out);
                    out.len()
                });
            });
        }
    }
    group.finish();
}

/// The heap of 1 M retained messages on distinct depth-6 topics (the messages' payloads are
/// static, so the figure is the store's own), and the time to find those a wildcard
/// subscription matches.
fn retained(c: &mut Criterion) {
    let size = RETAINED_SITES * DEVICES * SENSORS;
    let payload = Bytes::from_static(b"21.5");
    let started = WallClock::now();
    let mut store = None;
    let heap = allocation_counter::measure(|| {
        let mut retained = Retained::new();
        for s in 0..RETAINED_SITES {
            for d in 0..DEVICES {
                for k in 0..SENSORS {
                    let topic = format!("site/{s}/device/{d}/sensor/{k}");
                    let topic = TopicName::<&[u8]>::new(topic.as_str()).unwrap();
                    retained.set(&topic, Some(payload.clone()), None).unwrap();
                }
            }
        }
        store = Some(retained);
    });
    let store = store.unwrap();
    eprintln!(
        "broker_retained/{size}: built in {:.2} s; {} nodes, heap {} B = {:.1} B per retained message",
        started.elapsed().as_secs_f64(),
        store.nodes(),
        heap.bytes_current,
        heap.bytes_current as f64 / size as f64,
    );
    let mut out = Vec::with_capacity(1024);
    let mut group = c.benchmark_group("broker_retained");
    for (name, filter) in [
        ("literal", "site/500/device/50/sensor/5"),
        ("plus", "site/500/device/+/sensor/5"),
        ("hash", "site/500/device/50/#"),
    ] {
        let filter = TopicFilter::<&[u8]>::new(filter).unwrap();
        group.bench_function(BenchmarkId::new(name, size), |b| {
            b.iter(|| {
                out.clear();
                store.matching(black_box(&filter), Instant::ZERO, &mut out);
                out.len()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, matching, retained);
criterion_main!(benches);
