//! Replays every committed fuzz input on the stable toolchain, so that a crash found once stays
//! fixed without nightly or cargo-fuzz.
//!
//! Every file under `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` goes through every
//! decode path in every version (borrowed and owned packet decoding, CONNECT as the first
//! packet, the streaming decoder in chunks), then through the check of its own target. The
//! checks are `fuzz/src/checks.rs`, the very code the fuzz targets call. The structure-aware
//! checks (`roundtrip`, half of `topic_match`) need the `arbitrary` feature; without it their
//! inputs still go through every decoder.
//!
//! The seed corpora are the vectors below, written by hand from the packet layouts of the
//! specs (MQTT 3.1, 3.1.1 §3 and 5.0 §3), plus inputs generated for the structure-aware
//! targets. `seed_corpus_holds_every_seed` checks that the files match; to write them after
//! changing a vector, run
//! `MQTT_SANSIO_WRITE_SEEDS=1 cargo test --all-features --test fuzz_replay`.
#![cfg(feature = "v5")]

mod common;

#[path = "../fuzz/src/checks.rs"]
pub mod checks;

use common::{hex, topic_reference};

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use mqtt_sansio::{Connect, Decoded, Limits, Packet, ProtocolVersion};

/// A seed for `decode_v31`, `decode_v311`, `decode_v5` and `decode_connect`: one whole, valid
/// packet in hex (`valid`), or a malformed one that must be refused.
struct Seed {
    target: &'static str,
    name: &'static str,
    hex: &'static str,
    valid: bool,
}

const fn valid(target: &'static str, name: &'static str, hex: &'static str) -> Seed {
    Seed {
        target,
        name,
        hex,
        valid: true,
    }
}

const fn malformed(target: &'static str, name: &'static str, hex: &'static str) -> Seed {
    Seed {
        target,
        name,
        hex,
        valid: false,
    }
}

/// CONNECT, MQTT 3.1: `MQIsdp`, level 3, Clean Session, keep alive 60, client id "c1".
const CONNECT_V31: &str = "10 10 0006 4D5149736470 03 02 003C 0002 6331";
/// CONNECT, MQTT 3.1.1: level 4, Clean Session, keep alive 60, client id "a".
const CONNECT_V311: &str = "10 0D 0004 4D515454 04 02 003C 0001 61";
/// CONNECT, MQTT 3.1.1, every field: flags EE = user name, password, will retain, will QoS 1,
/// will, Clean Session; keep alive 10; client id "c1", will topic "w/t", will message "bye",
/// user "u", password "p".
const CONNECT_V311_FULL: &str =
    "10 1E 0004 4D515454 04 EE 000A 0002 6331 0003 772F74 0003 627965 0001 75 0001 70";
/// CONNECT, MQTT 5.0: level 5, Clean Start, keep alive 60, no properties, client id "a".
const CONNECT_V5: &str = "10 0E 0004 4D515454 05 02 003C 00 0001 61";
/// CONNECT, MQTT 5.0, every field: flags EE as above; properties Session Expiry Interval 60,
/// Receive Maximum 10, User Property ("k", "v"); will properties Will Delay Interval 5,
/// Content Type "text".
const CONNECT_V5_FULL: &str = "10 3B 0004 4D515454 05 EE 000A \
     0F 11 0000003C 21 000A 26 0001 6B 0001 76 \
     0002 6331 \
     0C 18 00000005 03 0004 74657874 \
     0003 772F74 0003 627965 0001 75 0001 70";

/// The vectors of MQTT 3.1.1, every packet type; 3.1 shares all but CONNECT.
const V311_PACKETS: &[(&str, &str)] = &[
    ("connack-accepted", "20 02 00 00"),
    ("connack-refused-not-authorized", "20 02 00 05"),
    ("publish-qos0", "30 0A 0003 612F62 68656C6C6F"),
    ("publish-qos1-dup-retain-empty", "3B 07 0003 612F62 000A"),
    ("publish-qos2", "34 07 0001 78 1234 706C"),
    ("puback", "40 02 0001"),
    ("pubrec", "50 02 0002"),
    ("pubrel", "62 02 0003"),
    ("pubcomp", "70 02 0004"),
    ("subscribe", "82 10 000A 0003 612F23 01 0005 732F2B2F78 02"),
    ("suback", "90 05 000A 00 01 02"),
    ("unsubscribe", "A2 07 000B 0003 612F62"),
    ("unsuback", "B0 02 000B"),
    ("pingreq", "C0 00"),
    ("pingresp", "D0 00"),
    ("disconnect", "E0 00"),
];

/// The vectors of MQTT 5.0, every packet type.
const V5_PACKETS: &[(&str, &str)] = &[
    ("connack", "20 03 00 00 00"),
    // Session Present; Receive Maximum 20, Topic Alias Maximum 10, Retain Available 1.
    ("connack-properties", "20 0B 01 00 08 21 0014 22 000A 25 01"),
    ("publish-qos0", "30 0A 0003 612F62 00 68692121"),
    // Payload Format 1, Message Expiry 60, Topic Alias 5, Response Topic "r/t", Correlation
    // Data AB CD, User Property ("k", "v"), Subscription Identifier 7; payload "x".
    (
        "publish-qos1-properties",
        "32 27 0003 612F62 0001 1E 01 01 02 0000003C 23 0005 08 0003 722F74 09 0002 ABCD \
         26 0001 6B 0001 76 0B 07 78",
    ),
    // An empty topic with Topic Alias 5.
    ("publish-alias-only", "30 07 0000 03 23 0005 70"),
    ("puback", "40 02 0001"),
    ("puback-no-matching-subscribers", "40 03 0001 10"),
    // Reason 0x80 with Reason String "err".
    ("puback-reason-string", "40 0A 0001 80 06 1F 0003 657272"),
    // Reason code Success and an empty property block written out: not the shortest form.
    ("pubrec-long-form", "50 04 0002 00 00"),
    ("pubrel-packet-id-not-found", "62 03 0003 92"),
    ("pubcomp", "70 02 0004"),
    // Subscription Identifier 1; "a/#" with QoS 1, No Local, Retain As Published, Retain
    // Handling 2; the shared "$share/g/x" with QoS 1.
    (
        "subscribe",
        "82 18 000A 02 0B 01 0003 612F23 2D 000A 2473686172652F672F78 01",
    ),
    ("suback", "90 07 000A 00 00 01 02 80"),
    ("unsubscribe", "A2 08 000B 00 0003 612F62"),
    ("unsuback", "B0 04 000B 00 00"),
    ("pingreq", "C0 00"),
    ("pingresp", "D0 00"),
    ("disconnect", "E0 00"),
    ("disconnect-with-will", "E0 01 04"),
    // Session taken over, Session Expiry Interval 0.
    ("disconnect-properties", "E0 07 8E 05 11 00000000"),
    ("auth", "F0 00"),
    // Continue authentication, method "SCRM", data 01 02.
    ("auth-continue", "F0 0E 18 0C 15 0004 5343524D 16 0002 0102"),
];

/// Malformed inputs every decode target starts from.
const MALFORMED: &[(&str, &str)] = &[
    // The largest Remaining Length: refused from the header under any limit below it.
    ("header-largest-remaining-length", "30 FF FF FF 7F"),
    ("remaining-length-five-bytes", "30 FF FF FF FF 01"),
    ("remaining-length-not-minimal", "C0 80 00"),
    ("reserved-type-0", "00 00"),
    ("pubrel-flags-0000", "60 02 0001"),
    ("publish-qos3", "36 05 0001 61 0000"),
    ("publish-wildcard-topic", "30 05 0003 612F23"),
    ("string-with-nul", "30 06 0003 610062 00"),
    ("puback-packet-id-0", "40 02 0000"),
    ("subscribe-no-filter", "82 02 000A"),
];

fn seeds() -> Vec<Seed> {
    let mut seeds = vec![
        valid("decode_v31", "connect", CONNECT_V31),
        valid("decode_v311", "connect", CONNECT_V311),
        valid("decode_v311", "connect-full", CONNECT_V311_FULL),
        valid("decode_v5", "connect", CONNECT_V5),
        valid("decode_v5", "connect-full", CONNECT_V5_FULL),
        valid("decode_connect", "v31", CONNECT_V31),
        valid("decode_connect", "v311", CONNECT_V311),
        valid("decode_connect", "v311-full", CONNECT_V311_FULL),
        valid("decode_connect", "v5", CONNECT_V5),
        valid("decode_connect", "v5-full", CONNECT_V5_FULL),
        // 0x80, Failure, is new in 3.1.1; 3.1 grants a QoS or closes the connection.
        valid("decode_v311", "suback-failure", "90 03 000A 80"),
        malformed("decode_v31", "suback-failure", "90 03 000A 80"),
        // MQTT 3.1 lets a re-sent SUBSCRIBE carry DUP.
        valid("decode_v31", "subscribe-dup", "8A 08 000A 0003 612F62 00"),
        // 3.1.1 [MQTT-3.1.2-1]: an unknown protocol name.
        malformed(
            "decode_connect",
            "unknown-protocol-name",
            "10 0D 0004 4D515458 04 02 003C 0001 61",
        ),
        // 3.1.1 [MQTT-3.1.2-3]: the reserved flag.
        malformed(
            "decode_connect",
            "reserved-flag",
            "10 0D 0004 4D515454 04 03 003C 0001 61",
        ),
        malformed("decode_connect", "not-connect", "C0 00"),
    ];
    for (name, hex) in V311_PACKETS {
        seeds.push(valid("decode_v31", name, hex));
        seeds.push(valid("decode_v311", name, hex));
    }
    for (name, hex) in V5_PACKETS {
        seeds.push(valid("decode_v5", name, hex));
    }
    for (name, hex) in MALFORMED {
        for target in ["decode_v31", "decode_v311", "decode_v5"] {
            seeds.push(malformed(target, name, hex));
        }
    }
    seeds
}

/// The `stream_chunks` seeds: `[mode, chunking]` then several packets back to back.
fn stream_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let stream = |mode: u8, chunking: u8, packets: &[&str]| {
        let mut data = vec![mode, chunking];
        for packet in packets {
            data.extend(hex(packet));
        }
        data
    };
    let v311 = |name: &str| packet(V311_PACKETS, name);
    let v5 = |name: &str| packet(V5_PACKETS, name);
    vec![
        (
            "server-v5-byte-by-byte",
            stream(
                0,
                1,
                &[
                    CONNECT_V5_FULL,
                    v5("publish-qos1-properties"),
                    v5("pingreq"),
                    v5("disconnect"),
                ],
            ),
        ),
        (
            "server-v311-chunks-of-up-to-7",
            stream(
                0,
                7,
                &[
                    CONNECT_V311,
                    v311("subscribe"),
                    v311("publish-qos2"),
                    v311("pubrel"),
                ],
            ),
        ),
        (
            "client-v5-chunks-of-up-to-64",
            stream(
                3,
                64,
                &[
                    v5("connack-properties"),
                    v5("suback"),
                    v5("publish-alias-only"),
                    v5("auth"),
                ],
            ),
        ),
        (
            "client-v311-partial-tail",
            stream(
                2,
                3,
                &[v311("connack-accepted"), v311("puback"), "30 0A 0003"],
            ),
        ),
        (
            "client-v31-error-mid-stream",
            stream(1, 2, &[v311("suback"), "36 00", v311("pingresp")]),
        ),
        (
            "server-rejects-publish-first",
            stream(0, 5, &[v311("publish-qos0")]),
        ),
    ]
}

/// The `topic_match` seeds in text form: `[0]`, then `filter '\n' name`.
const TOPIC_SEEDS: &[(&str, &str)] = &[
    (
        "plus-matches-one-level",
        "sport/tennis/+\nsport/tennis/player1",
    ),
    ("hash-matches-parent", "sport/#\nsport"),
    ("plus-matches-empty-level", "+/+\n/finance"),
    ("hash-skips-dollar-topics", "#\n$SYS/uptime"),
    (
        "dollar-filter-matches-dollar-topic",
        "$SYS/#\n$SYS/broker/load",
    ),
    ("shared-subscription", "$share/group/sport/+\nsport/tennis"),
    ("misplaced-hash", "sport/tennis#\nsport/tennis"),
    ("misplaced-plus", "sport+\nsport"),
];

#[test]
fn every_corpus_input_replays_through_every_decoder() {
    let replayed = replay_all("corpus");
    assert!(replayed >= seeds().len(), "only {replayed} corpus inputs");
}

#[test]
fn every_past_crash_stays_fixed() {
    replay_all("regressions");
}

#[test]
fn every_target_has_a_seed_corpus() {
    for target in checks::TARGETS {
        let count = input_files(&fuzz_dir().join("corpus").join(target)).len();
        assert!(count > 0, "fuzz/corpus/{target} is empty");
    }
}

/// The seed vectors are what they say: every valid one is one whole packet that both decode
/// paths take entirely, every malformed one is refused.
#[test]
fn seed_vectors_decode_as_labelled() {
    let limits = Limits::default();
    for seed in seeds() {
        let data = hex(seed.hex);
        let result = match seed.target {
            "decode_connect" => Connect::decode(&data, &limits).map(|d| d.map(Packet::from)),
            target => Packet::decode(target_version(target), &data, &limits),
        };
        if seed.valid {
            assert!(
                matches!(result, Ok(Decoded::Complete { consumed, .. }) if consumed == data.len()),
                "{}/{}: {result:?}",
                seed.target,
                seed.name
            );
        } else {
            assert!(result.is_err(), "{}/{}: {result:?}", seed.target, seed.name);
        }
    }
}

/// Every seed is committed with the current bytes (or written, with
/// `MQTT_SANSIO_WRITE_SEEDS=1`).
#[test]
fn seed_corpus_holds_every_seed() {
    let write = std::env::var_os("MQTT_SANSIO_WRITE_SEEDS").is_some();
    let mut files: Vec<(&str, String, Vec<u8>)> = seeds()
        .into_iter()
        .map(|seed| (seed.target, seed.name.to_owned(), hex(seed.hex)))
        .collect();
    for (name, data) in stream_seeds() {
        files.push(("stream_chunks", name.to_owned(), data));
    }
    for (name, text) in TOPIC_SEEDS {
        let mut data = vec![0];
        data.extend_from_slice(text.as_bytes());
        files.push(("topic_match", name.to_string(), data));
    }
    #[cfg(feature = "arbitrary")]
    files.extend(generated::seeds());
    for (target, name, data) in files {
        let path = fuzz_dir().join("corpus").join(target).join(&name);
        if write {
            fs::create_dir_all(path.parent().expect("corpus directory")).expect("create dir");
            fs::write(&path, &data).expect("write seed");
        }
        let committed = fs::read(&path).unwrap_or_else(|error| {
            panic!(
                "{}: {error}; write the seeds (see the file's docs)",
                path.display()
            )
        });
        assert_eq!(committed, data, "{} is stale", path.display());
    }
}

/// Seeds for the structure-aware targets, found by a deterministic search: for `roundtrip`
/// one input per packet type, for `topic_match` a few generated filter and name pairs.
#[cfg(feature = "arbitrary")]
mod generated {
    use arbitrary::{Arbitrary, Unstructured};
    use bytes::Bytes;
    use mqtt_sansio::{Packet, TopicFilter, TopicName};

    pub(crate) fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
        let mut seeds = Vec::new();
        let mut state: u32 = 0x5EED_0001;
        let mut found = [false; 15];
        let mut topics = 0;
        for attempt in 0..200_000usize {
            if found.iter().all(|&done| done) && topics == 4 {
                break;
            }
            let len = 8 + attempt % 120;
            let data: Vec<u8> = (0..len).map(|_| next(&mut state)).collect();
            if let Ok(packet) = Packet::<Bytes>::arbitrary(&mut Unstructured::new(&data)) {
                let kind = packet.packet_type() as usize - 1;
                if !found[kind] {
                    found[kind] = true;
                    let name = packet.packet_type().name().to_ascii_lowercase();
                    seeds.push(("roundtrip", name, data.clone()));
                }
            }
            let mut u = Unstructured::new(&data);
            if topics < 4
                && TopicFilter::<Bytes>::arbitrary(&mut u).is_ok()
                && TopicName::<Bytes>::arbitrary(&mut u).is_ok()
            {
                let mut input = vec![1];
                input.extend_from_slice(&data);
                seeds.push(("topic_match", format!("generated-{topics}"), input));
                topics += 1;
            }
        }
        assert!(
            found.iter().all(|&done| done),
            "no seed for some packet type"
        );
        seeds
    }

    fn next(state: &mut u32) -> u8 {
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        state.to_le_bytes()[0]
    }
}

/// Replays every input under `fuzz/<kind>/<target>/`; returns how many there were.
fn replay_all(kind: &str) -> usize {
    let root = fuzz_dir().join(kind);
    let mut replayed = 0;
    for entry in fs::read_dir(&root).unwrap_or_else(|error| panic!("{}: {error}", root.display())) {
        let dir = entry.expect("directory entry").path();
        if !dir.is_dir() {
            continue;
        }
        let target = dir
            .file_name()
            .and_then(|name| name.to_str())
            .expect("UTF-8 directory name")
            .to_owned();
        assert!(
            checks::TARGETS.contains(&target.as_str()),
            "{} is not named after a fuzz target",
            dir.display()
        );
        for path in input_files(&dir) {
            let data = fs::read(&path).expect("read input");
            replay(&target, &data).unwrap_or_else(|()| panic!("{} fails", path.display()));
            replayed += 1;
        }
    }
    replayed
}

/// Runs `data` through every decode check, then through the check of `target`.
fn replay(target: &str, data: &[u8]) -> Result<(), ()> {
    catch_unwind(AssertUnwindSafe(|| {
        for &version in ProtocolVersion::ALL {
            checks::decode(version, data);
        }
        checks::decode_connect(data);
        checks::stream_chunks(data);
        assert!(checks::run(target, data), "unknown target {target}");
    }))
    .map_err(drop)
}

/// The input files of one target directory (hidden files such as `.gitkeep` skipped).
fn input_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.is_file()
                && !path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn target_version(target: &str) -> ProtocolVersion {
    match target {
        "decode_v31" => ProtocolVersion::V3_1,
        "decode_v311" => ProtocolVersion::V3_1_1,
        "decode_v5" => ProtocolVersion::V5,
        _ => panic!("no version for {target}"),
    }
}

fn packet(table: &[(&'static str, &'static str)], name: &str) -> &'static str {
    table
        .iter()
        .find(|(entry, _)| *entry == name)
        .map(|(_, hex)| *hex)
        .unwrap_or_else(|| panic!("no vector {name}"))
}
