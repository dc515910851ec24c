//! A runnable MQTT broker on [`mqtt_sansio::Broker`]: one thread, mio; TCP, TLS, WebSocket.
//!
//! # Usage
//!
//! ```text
//! cargo run --release --example broker                  # 127.0.0.1:1883, anyone may connect
//! cargo run --release --example broker -- -p 1884 --persist broker.db --log-level debug
//! cargo run --release --example broker -- -l 0.0.0.0:1883 -l ws://0.0.0.0:8080/mqtt \
//!     -l tls://0.0.0.0:8883 --tls-cert server.pem --tls-key server-key.pem
//! cargo run --release --example broker -- --help
//! ```
//!
//! The driver is a hand-rolled event loop (`examples/broker/server.rs`): the core is sans-IO,
//! so the loop owns the sockets and the clock, reads every socket into one shared buffer,
//! writes each socket once per wake-up and sleeps until the core's next deadline. The other
//! files under `examples/broker/` each have one job: `args.rs` the options, `listener.rs` the
//! listening sockets, `transport.rs` a connection's byte stream over `tls.rs` (rustls) and
//! `websocket.rs` (tungstenite), `sockets.rs` the I/O of one wake-up, `connections.rs` the
//! socket table, `admission.rs` the CONNECT checks,
//! `password.rs` and `acl.rs` mosquitto's password and ACL files, `persist.rs` the snapshot
//! file, `sys.rs` the `$SYS` topics, `log.rs` the log.
//!
//! SIGINT and SIGTERM stop it gracefully (exit status 0): see `--help`.

#[path = "broker/acl.rs"]
mod acl;
#[path = "broker/admission.rs"]
mod admission;
#[path = "broker/args.rs"]
mod args;
#[path = "broker/connections.rs"]
mod connections;
#[path = "broker/listener.rs"]
mod listener;
#[path = "broker/log.rs"]
mod log;
#[path = "broker/password.rs"]
mod password;
#[path = "broker/persist.rs"]
mod persist;
#[path = "broker/server.rs"]
mod server;
#[path = "broker/sys.rs"]
mod sys;
#[path = "broker/tls.rs"]
mod tls;
#[path = "broker/transport.rs"]
mod transport;
#[path = "broker/websocket.rs"]
mod websocket;

use std::process::ExitCode;

use args::Parsed;
use server::Server;

fn main() -> ExitCode {
    let mut argv = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => argv.push(arg),
            Err(arg) => return usage_error(&format!("argument {arg:?} is not valid UTF-8")),
        }
    }
    let options = match args::parse(&argv) {
        Ok(Parsed::Help) => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Run(options)) => options,
        Err(message) => return usage_error(&message),
    };
    log::set_level(options.log_level);
    let started = Server::new(&options).and_then(|mut server| {
        server.handle_signals()?;
        Ok(server)
    });
    match started.and_then(Server::run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::write(log::Level::Error, format_args!("{message}"));
            ExitCode::FAILURE
        }
    }
}

/// Reports a bad command line.
fn usage_error(message: &str) -> ExitCode {
    eprintln!("Error: {message}\nUse 'broker --help' to see usage.");
    ExitCode::FAILURE
}
