//! Counts the client's conformance coverage: every normative statement the client owns
//! (area `client`) or shares with the broker (area `both-state-machines`) in
//! `../shared/conformance/` must be cited by a test, as `v311:MQTT-x.y.z-n` or
//! `v5:MQTT-x.y.z-n`, or be listed below as not testable on the client, with the reason.
//!
//! The ids are copied here so that the check runs on a clone without the shared directory.
//!
//! Not testable on the client: v5:MQTT-4.3.3-9 (see [`NOT_TESTABLE_ON_THE_CLIENT`]). Tested
//! only in part, with the reason:
//! - v311:MQTT-3.1.3-2 and v5:MQTT-3.1.3-2 (the session is keyed by the Client Identifier):
//!   the client's own session is; an exported `SessionState` does not carry the identifier,
//!   so keying it is the application's.
//! - v5:MQTT-3.2.2-4 (Session Present 1 to a client without a session): tested for a CONNECT
//!   with Clean Start. A new client that asks to resume (Clean Start 0) holds an empty
//!   session, and closing on Session Present 1 there would break every first connection.
//! - v311:MQTT-3.14.4-1, v5:MQTT-3.14.4-2 (close the network connection after DISCONNECT):
//!   the client owns no connection; the tests show it reports `Event::Disconnected` at once
//!   and writes and reads nothing more, which is what tells a driver to close.
//! - v311:MQTT-4.8.0-2 (a transient error closes the connection): the one such error a
//!   client can meet is a full table, tested with the QoS 2 identifiers in 3.x.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// 3.1.1 statements of area `client`.
const V311_CLIENT: &[&str] = &[
    "MQTT-2.3.1-2",
    "MQTT-2.3.1-3",
    "MQTT-3.1.0-1",
    "MQTT-3.1.2-23",
    "MQTT-3.1.3-7",
    "MQTT-3.14.4-1",
    "MQTT-3.14.4-2",
    "MQTT-4.5.0-2",
    "MQTT-4.6.0-1",
    "MQTT-4.6.0-2",
    "MQTT-4.6.0-3",
    "MQTT-4.6.0-4",
];

/// 3.1.1 statements of area `both-state-machines`.
const V311_BOTH: &[&str] = &[
    "MQTT-2.3.1-6",
    "MQTT-3.1.2-4",
    "MQTT-3.1.2-6",
    "MQTT-3.1.3-2",
    "MQTT-3.3.1-1",
    "MQTT-3.3.4-1",
    "MQTT-4.1.0-1",
    "MQTT-4.1.0-2",
    "MQTT-4.3.1-1",
    "MQTT-4.3.2-1",
    "MQTT-4.3.2-2",
    "MQTT-4.3.3-1",
    "MQTT-4.3.3-2",
    "MQTT-4.4.0-1",
    "MQTT-4.8.0-1",
    "MQTT-4.8.0-2",
    "MQTT-7.0.0-2",
];

/// 5.0 statements of area `client`.
const V5_CLIENT: &[&str] = &[
    "MQTT-2.2.1-3",
    "MQTT-3.1.0-1",
    "MQTT-3.1.2-20",
    "MQTT-3.1.2-21",
    "MQTT-3.1.2-30",
    "MQTT-3.2.2-4",
    "MQTT-3.2.2-5",
    "MQTT-3.2.2-11",
    "MQTT-3.2.2-14",
    "MQTT-3.2.2-15",
    "MQTT-3.2.2-17",
    "MQTT-3.2.2-18",
    "MQTT-3.2.2-21",
    "MQTT-3.3.2-9",
    "MQTT-3.3.2-10",
    "MQTT-3.3.4-6",
    "MQTT-3.3.4-7",
    "MQTT-3.3.4-8",
    "MQTT-4.5.0-2",
    "MQTT-4.6.0-1",
    "MQTT-4.6.0-2",
    "MQTT-4.6.0-3",
    "MQTT-4.6.0-4",
    "MQTT-4.12.0-3",
    "MQTT-4.12.0-7",
    "MQTT-4.12.1-1",
];

/// 5.0 statements of area `both-state-machines`.
const V5_BOTH: &[&str] = &[
    "MQTT-2.2.1-5",
    "MQTT-3.1.2-4",
    "MQTT-3.1.2-23",
    "MQTT-3.1.3-2",
    "MQTT-3.3.1-1",
    "MQTT-3.3.2-7",
    "MQTT-3.3.4-1",
    "MQTT-3.4.2-2",
    "MQTT-3.4.2-3",
    "MQTT-3.5.2-2",
    "MQTT-3.5.2-3",
    "MQTT-3.6.2-2",
    "MQTT-3.6.2-3",
    "MQTT-3.7.2-2",
    "MQTT-3.7.2-3",
    "MQTT-3.14.2-3",
    "MQTT-3.14.2-4",
    "MQTT-3.14.4-1",
    "MQTT-3.14.4-2",
    "MQTT-3.15.2-2",
    "MQTT-3.15.2-3",
    "MQTT-4.1.0-1",
    "MQTT-4.3.1-1",
    "MQTT-4.3.2-1",
    "MQTT-4.3.2-2",
    "MQTT-4.3.2-3",
    "MQTT-4.3.2-4",
    "MQTT-4.3.2-5",
    "MQTT-4.3.3-1",
    "MQTT-4.3.3-2",
    "MQTT-4.3.3-3",
    "MQTT-4.3.3-4",
    "MQTT-4.3.3-5",
    "MQTT-4.3.3-6",
    "MQTT-4.3.3-7",
    "MQTT-4.3.3-8",
    "MQTT-4.3.3-9",
    "MQTT-4.3.3-10",
    "MQTT-4.3.3-11",
    "MQTT-4.3.3-12",
    "MQTT-4.3.3-13",
    "MQTT-4.4.0-1",
    "MQTT-4.4.0-2",
    "MQTT-4.9.0-1",
    "MQTT-4.9.0-2",
    "MQTT-4.9.0-3",
    "MQTT-4.12.0-5",
    "MQTT-4.12.1-2",
    "MQTT-4.13.2-1",
];

/// Statements no client test can prove, with the reason. Each is a citation as a test would
/// write it.
const NOT_TESTABLE_ON_THE_CLIENT: &[(&str, &str)] = &[(
    "v5:MQTT-4.3.3-9",
    "the client never sends a PUBREC of 0x80 or above: it takes every QoS 2 message \
     (Client::ack always accepts), and a message over its Receive Maximum is a protocol \
     error answered with DISCONNECT 0x93, not a refusing PUBREC",
)];

/// Every `v311:`/`v5:` citation in the tests and in the unit tests under `src/`.
fn citations() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["tests", "src"] {
        collect(&root.join(dir), &mut files);
    }
    // This file lists the statements it checks for; it proves none of them.
    files.retain(|file| !file.ends_with(file!().rsplit('/').next().unwrap()));
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for prefix in ["v311:MQTT-", "v5:MQTT-"] {
            for (at, _) in text.match_indices(prefix) {
                let id: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '.'))
                    .collect();
                found.insert(id.trim_end_matches('.').to_owned());
            }
        }
    }
    found
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_client_statement_is_cited_or_explained() {
    let cited = citations();
    let excused: BTreeSet<&str> = NOT_TESTABLE_ON_THE_CLIENT
        .iter()
        .map(|(id, _)| *id)
        .collect();
    let mut missing = Vec::new();
    let mut report = Vec::new();
    for (version, area, ids) in [
        ("v311", "client", V311_CLIENT),
        ("v311", "both", V311_BOTH),
        ("v5", "client", V5_CLIENT),
        ("v5", "both", V5_BOTH),
    ] {
        let mut covered = 0;
        for id in ids {
            let citation = format!("{version}:{id}");
            if cited.contains(&citation) {
                covered += 1;
            } else if !excused.contains(citation.as_str()) {
                missing.push(citation);
            }
        }
        report.push(format!("{version} {area}: {covered}/{} cited", ids.len()));
    }
    println!("{}", report.join("\n"));
    for (id, reason) in NOT_TESTABLE_ON_THE_CLIENT {
        assert!(!reason.is_empty(), "{id} needs a reason");
        println!("not testable on the client: {id}: {reason}");
    }
    assert!(missing.is_empty(), "statements without a test: {missing:?}");
}
