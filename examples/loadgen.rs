//! A load generator for MQTT brokers: many connections over raw TCP, packets encoded and
//! decoded with this crate's codec, and one line of results per run (issue 11: speed and
//! memory against mosquitto and rumqttd).
//!
//! # Usage
//!
//! ```text
//! cargo run --release --example loadgen -- --scenario fan-in -b 127.0.0.1:1883 -d 10
//! cargo run --release --example loadgen -- --scenario idle -n 10000 --broker-pid 1234
//! cargo run --release --example loadgen -- --help
//! ```
//!
//! Each payload carries its publisher, a sequence number and the time it was encoded
//! (`loadgen/payload.rs`); subscribers count messages, loss and duplicates per publisher
//! (`loadgen/tracker.rs`) and latency in a fixed-bucket histogram (`loadgen/histogram.rs`).
//! The traffic scenarios run on `mio` event loops (`loadgen/worker.rs`, `loadgen/conn.rs`,
//! `loadgen/traffic.rs`); the idle one on blocking sockets (`loadgen/idle.rs`).
//! `benches/load/compare.sh` runs it against mosquitto, rumqttd and our broker example.

#[path = "loadgen/args.rs"]
mod args;
#[path = "loadgen/conn.rs"]
mod conn;
#[path = "loadgen/histogram.rs"]
mod histogram;
#[path = "loadgen/idle.rs"]
mod idle;
#[path = "loadgen/payload.rs"]
mod payload;
#[path = "loadgen/procfs.rs"]
mod procfs;
#[path = "loadgen/tracker.rs"]
mod tracker;
#[path = "loadgen/traffic.rs"]
mod traffic;
#[path = "loadgen/worker.rs"]
mod worker;

use std::process::ExitCode;

use args::{Parsed, Scenario};

/// Parses the command line, runs the scenario and prints its two result lines.
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match args::parse(&args) {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("loadgen: {message}");
            return ExitCode::from(2);
        }
    };
    let lines = if options.scenario == Scenario::Idle {
        idle::run(&options).map(|outcome| idle::report(&options, &outcome))
    } else {
        traffic::run(&options).map(|outcome| traffic::report(&options, &outcome))
    };
    match lines {
        Ok((human, machine)) => {
            println!("{human}");
            println!("{machine}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!(
                "loadgen: {} against {}: {message}",
                options.scenario.name(),
                options.broker
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    //! Short runs against the broker `.ci/run` starts (mosquitto; its address in
    //! `MQTT_SANSIO_BROKER`). Without the variable they are skipped with a note, except on CI
    //! (`CI` set and non-empty), where a missing broker is a failure.

    use super::*;

    /// The broker's address, or `None` (with a note) to skip.
    fn broker() -> Option<String> {
        match std::env::var("MQTT_SANSIO_BROKER") {
            Ok(address) if !address.is_empty() => Some(address),
            _ if std::env::var("CI").is_ok_and(|ci| !ci.is_empty()) => {
                panic!("MQTT_SANSIO_BROKER is not set on CI: .ci/run starts mosquitto")
            }
            _ => {
                eprintln!("note: MQTT_SANSIO_BROKER is not set; skipping the run against a broker");
                None
            }
        }
    }

    /// A one-second run against `address`, with `extra` options.
    fn options(address: &str, extra: &[&str]) -> args::Options {
        let mut line = vec!["--broker", address, "--duration", "1", "--warmup", "0.2"];
        line.extend_from_slice(extra);
        let line: Vec<String> = line.into_iter().map(str::to_owned).collect();
        match args::parse(&line) {
            Ok(Parsed::Run(options)) => *options,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    #[cfg(feature = "v5")]
    fn qos1_run_delivers_every_acknowledged_message_exactly_once() {
        let Some(address) = broker() else { return };
        let options = options(&address, &["--scenario", "qos1", "--version", "5.0"]);
        let outcome = traffic::run(&options).unwrap();
        assert!(
            outcome.sent > 0 && outcome.received_per_s > 0.0,
            "{outcome:?}"
        );
        assert!(outcome.drained, "{outcome:?}");
        assert_eq!(
            (outcome.lost, outcome.unacked, outcome.duplicated),
            (0, 0, 0)
        );
        assert_eq!(outcome.received, outcome.sent, "every message arrived once");
        // 100 asked for; a 5.0 broker's Receive Maximum may make it smaller (mosquitto's
        // default is 20).
        assert!((1..=100).contains(&outcome.window), "{outcome:?}");
        assert!(outcome.latency.count() > 0);
        let (_, machine) = traffic::report(&options, &outcome);
        assert!(
            machine.starts_with("result scenario=qos1 version=5.0 qos=1 "),
            "{machine}"
        );
        assert!(machine.contains(" lost=0 "), "{machine}");
    }

    #[test]
    fn fan_in_run_below_the_queue_limit_delivers_everything_once() {
        let Some(address) = broker() else { return };
        // At most 3 x 200 messages under way: below mosquitto's default queue of 1000 per
        // client, so that even QoS 0 loses nothing.
        let options = options(
            &address,
            &[
                "--scenario",
                "fan-in",
                "--publishers",
                "3",
                "--max-lag",
                "200",
            ],
        );
        let outcome = traffic::run(&options).unwrap();
        assert!(
            outcome.sent > 0 && outcome.received_per_s > 0.0,
            "{outcome:?}"
        );
        assert!(outcome.drained, "{outcome:?}");
        assert_eq!(
            (outcome.lost, outcome.duplicated, outcome.foreign),
            (0, 0, 0),
            "{outcome:?}"
        );
        assert_eq!(outcome.received, outcome.sent, "{outcome:?}");
    }

    #[test]
    fn idle_run_opens_every_connection() {
        let Some(address) = broker() else { return };
        let options = options(
            &address,
            &[
                "--scenario",
                "idle",
                "-n",
                "50",
                "--subscribe",
                "--settle",
                "0",
            ],
        );
        let outcome = idle::run(&options).unwrap();
        assert!(outcome.connect_seconds > 0.0);
        let (_, machine) = idle::report(&options, &outcome);
        assert!(machine.contains(" connections=50 "), "{machine}");
        assert!(
            machine.contains(" bytes_per_connection=na"),
            "no --broker-pid: {machine}"
        );
    }
}
