//! The broker example's `--persist` file: a missing file is a fresh start, a corrupt one stops
//! the start with an error that names the file (and the file is left as it was), and
//! `--autosave-interval` writes it while the broker runs, not only on stop.

#[path = "common/broker_server.rs"]
mod broker_server;

use std::time::Instant;

use broker_server::args::{self, Parsed};
use broker_server::server::Server;
use broker_server::{BrokerServer, TempDir, WAIT, loopback_any_port};

/// Options on 127.0.0.1:0 with `--persist path` and `extra`.
fn options(path: &str, extra: &[&str]) -> args::Options {
    let mut argv = vec![
        "--log-level",
        "error",
        "--sys-interval",
        "0",
        "--persist",
        path,
    ];
    argv.extend_from_slice(extra);
    let Ok(Parsed::Run(options)) = args::parse(&argv) else {
        panic!("options refused");
    };
    let mut options = *options;
    options.listeners = vec![loopback_any_port()];
    options
}

#[test]
fn missing_file_is_a_fresh_start() {
    let dir = TempDir::new("persist-missing");
    let file = dir.path().join("none-yet.db");
    let server = BrokerServer::start_with(options(file.to_str().unwrap(), &[]));
    assert_eq!(server.stats().sessions, 0);
    server.stop().expect("a graceful stop");
    assert!(file.is_file(), "the stop wrote no snapshot");
}

#[test]
fn corrupt_file_is_an_error_naming_the_file() {
    let dir = TempDir::new("persist-corrupt");
    let file = dir.path().join("corrupt.db");
    std::fs::write(&file, b"not a snapshot").unwrap();
    let error = Server::new(&options(file.to_str().unwrap(), &[])).unwrap_err();
    assert!(error.contains(file.to_str().unwrap()), "{error}");
    assert!(error.contains("not a broker snapshot"), "{error}");
    assert_eq!(std::fs::read(&file).unwrap(), b"not a snapshot");
}

#[test]
fn autosave_writes_the_file_while_running() {
    let dir = TempDir::new("persist-autosave");
    let file = dir.path().join("auto.db");
    let server = BrokerServer::start_with(options(
        file.to_str().unwrap(),
        &["--autosave-interval", "1"],
    ));
    let until = Instant::now() + WAIT;
    while !file.is_file() {
        assert!(Instant::now() < until, "no autosave within {WAIT:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(std::fs::read(&file).unwrap().starts_with(b"MQBS"));
    // Nothing but the snapshot is left in the directory: the temporary file was renamed.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["auto.db"]);
    drop(server);
}
