//! The subscription trie's promise that matching a PUBLISH does not allocate once its output
//! buffer has room, measured with a counting global allocator (`allocation-counter`, which
//! installs itself in this test binary).
//!
//! The trie is crate-internal; its behaviour is unit-tested in `src/broker/subscriptions.rs`.
//! This file reaches it through the `__internal` re-export that exists for the benchmarks,
//! because a counting allocator cannot be installed in the library's own test binary without
//! changing it for every unit test.

use allocation_counter::measure;
use mqtt_sansio::broker::__internal::{Match, Subscriptions};
use mqtt_sansio::{QoS, SubscriptionId, SubscriptionOptions, TopicFilter};

/// Literal, wildcard, `$` and shared filters, over which the topics below take every branch
/// of the walk.
const FILTERS: &[&str] = &[
    "site/1/device/2/temp",
    "site/1/device/+/temp",
    "site/+/device/2/#",
    "site/#",
    "#",
    "+/+/+",
    "$SYS/#",
    "$share/workers/site/+/device/+/temp",
    "$share/audit/#",
];

const TOPICS: &[&str] = &[
    "site/1/device/2/temp",
    "site/1/device/3/temp",
    "site/9/device/2/humidity/raw",
    "a/b/c",
    "$SYS/broker/uptime",
    "nothing",
];

/// The counting allocator is installed, so that the zero below cannot pass vacuously.
#[test]
fn allocations_are_counted() {
    let info = measure(|| drop(std::hint::black_box(Vec::<u8>::with_capacity(10))));
    assert_eq!(info.count_total, 1);
}

/// Once the output buffer and the trie's walk stack have grown to their largest use,
/// `matches` allocates nothing, share groups' turns included.
#[test]
fn matching_does_not_allocate_once_warm() {
    let mut trie = Subscriptions::new();
    for key in 0..20u32 {
        for (n, filter) in (1u32..).zip(FILTERS) {
            let filter = TopicFilter::<&[u8]>::new(*filter).unwrap();
            let options = SubscriptionOptions::new(QoS::AtLeastOnce);
            trie.subscribe(&filter, key, options, SubscriptionId::new(n))
                .unwrap();
        }
    }
    let mut out: Vec<Match<u32>> = Vec::new();
    let mut counts = Vec::new();
    for topic in TOPICS {
        out.clear();
        trie.matches(topic, |key| key % 2 == 0, &mut out);
        counts.push(out.len());
    }
    assert!(counts.iter().any(|&n| n > 100), "{counts:?}");
    let info = measure(|| {
        for _ in 0..3 {
            for topic in TOPICS {
                out.clear();
                trie.matches(topic, |key| key % 2 == 0, &mut out);
            }
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    // The share groups took turns among eligible members meanwhile.
    out.clear();
    trie.matches("site/1/device/2/temp", |key| key % 2 == 0, &mut out);
    let shared: Vec<u32> = out.iter().filter(|m| m.shared).map(|m| m.key).collect();
    assert_eq!(shared.len(), 2);
    assert!(shared.iter().all(|key| key % 2 == 0), "{shared:?}");
}
