//! `broker --help` lists every option with its default, and every option it lists is one the
//! parser takes: the help and the parser cannot drift apart.

#[path = "common/broker_server.rs"]
mod broker_server;

use std::process::Command;

use broker_server::args::{self, Parsed};
use broker_server::{ChildGuard, example_binary};

/// Every option, with a value the parser accepts (`None`: a flag without one).
const OPTIONS: &[(&str, Option<&str>)] = &[
    ("-p", Some("1883")),
    ("--port", Some("1883")),
    ("-l", Some("127.0.0.1:1883")),
    ("--listen", Some("127.0.0.1:1883")),
    ("--max-connections", Some("10")),
    ("--max-packet-size", Some("4096")),
    ("--max-inflight", Some("10")),
    ("--max-queued-messages", Some("10")),
    ("--max-queued-bytes", Some("4096")),
    ("--max-keepalive", Some("60")),
    ("--password-file", Some("passwords")),
    ("--acl-file", Some("acl")),
    ("--tls-cert", Some("cert.pem")),
    ("--tls-key", Some("key.pem")),
    ("--allow-anonymous", Some("false")),
    ("--persist", Some("broker.db")),
    ("--autosave-interval", Some("60")),
    ("--sys-interval", Some("0")),
    ("--log-level", Some("debug")),
    ("--help", None),
];

#[test]
fn help_lists_every_option_with_its_default() {
    let (status, stdout, stderr) =
        ChildGuard::spawn(Command::new(example_binary()).arg("--help")).finish();
    assert!(status.success(), "broker --help: {status}: {stderr}");
    assert_eq!(stdout, args::USAGE);
    for (option, _) in OPTIONS {
        let listed = stdout
            .lines()
            .any(|line| line.split([' ', ',']).any(|word| word == *option));
        assert!(listed, "--help does not list {option}");
    }
    // Every option says its default but -l (which -p's default covers), --tls-cert and
    // --tls-key (needed exactly when a listener uses TLS) and --help: 14.
    let defaults = stdout.matches("default:").count();
    assert_eq!(defaults, 14, "defaults in:\n{stdout}");
}

#[test]
fn every_listed_option_is_parsed() {
    for (option, value) in OPTIONS {
        let argv: Vec<&str> = std::iter::once(*option).chain(*value).collect();
        match args::parse(&argv) {
            Ok(Parsed::Help) => assert_eq!(*option, "--help"),
            Ok(Parsed::Run(_)) => {}
            Err(message) => panic!("{argv:?} refused: {message}"),
        }
    }
    // And every option-looking word of the help is one of them.
    for word in args::USAGE.split([' ', ',', '\n']) {
        let word = word.trim_end_matches([';', ':', '.', ')']);
        if word.starts_with('-') && word.len() > 1 && !word.starts_with("-1") {
            assert!(
                OPTIONS.iter().any(|(option, _)| *option == word),
                "--help lists {word}, which this test does not know"
            );
        }
    }
}
