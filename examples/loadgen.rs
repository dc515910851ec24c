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
