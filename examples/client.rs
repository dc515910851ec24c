//! A command-line MQTT client on [`mqtt_sansio::Client`]: `client pub` and `client sub`, with
//! the flags mosquitto_pub and mosquitto_sub share.
//!
//! # Usage
//!
//! ```text
//! cargo run --example client -- sub -t 'sensors/#' -v -q 1
//! cargo run --example client -- pub -t sensors/1 -m 21.5 -q 2 -V 5
//! cargo run --example client -- --help
//! ```
//!
//! The client runs over a blocking `std::net::TcpStream`, driven by `examples/client/driver.rs`
//! (the run loop of the crate docs, with the client's deadline as the socket's read timeout);
//! `examples/client/args.rs` parses the flags. `--help` lists them.
//!
//! `pub` connects, publishes one message, waits for its PUBACK (QoS 1) or PUBCOMP (QoS 2) and
//! disconnects. `sub` subscribes to every `-t` filter and prints each message's payload on its
//! own line (with `-v`, the topic and a space first), until `-C` messages arrived or `-W`
//! seconds passed. A broker that cannot be reached or refuses the connection (its reason code
//! is printed) ends the program with status 1.

#[path = "client/args.rs"]
mod args;
#[path = "client/driver.rs"]
mod driver;

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant as StdInstant};

use bytes::Bytes;
use mqtt_sansio::{
    BinaryData, ClientConfig, ConnectOptions, Event, Publish, Subscription, TopicFilter, TopicName,
    Will,
};

use args::{Command, Options, Parsed};
use driver::{Driver, DriverError};

/// The deadline of a command without `-W`: far enough to be "never" for a command line. The
/// client's own timers still end a connection whose broker stops answering.
const FOREVER: Duration = Duration::from_secs(365 * 24 * 3600);
/// The exit status when `-W` runs out, as mosquitto_sub's.
const TIMED_OUT: u8 = 27;

fn main() -> ExitCode {
    let mut argv = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => argv.push(arg),
            Err(arg) => return usage_error(&format!("argument {arg:?} is not valid UTF-8")),
        }
    }
    match args::parse(&argv) {
        Ok(Parsed::Help) => {
            print!("{}", args::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(command, options)) => {
            let result = match command {
                Command::Pub => publish(&options),
                Command::Sub => subscribe(&options),
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(Failure::TimedOut) => {
                    eprintln!("Timed out");
                    ExitCode::from(TIMED_OUT)
                }
                Err(Failure::Error(message)) => {
                    eprintln!("Error: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(message) => usage_error(&message),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("Error: {message}\nUse 'client --help' to see usage.");
    ExitCode::FAILURE
}

/// How a command failed.
enum Failure {
    /// `-W` ran out.
    TimedOut,
    /// Anything else, for the user.
    Error(String),
}

impl From<DriverError> for Failure {
    fn from(error: DriverError) -> Self {
        Self::Error(error.to_string())
    }
}

/// `client pub`: connect, publish, wait for the acknowledgement, disconnect.
fn publish(options: &Options) -> Result<(), Failure> {
    let until = deadline(options);
    let topic = TopicName::new(options.topics[0].as_str())
        .map_err(|error| Failure::Error(format!("invalid topic: {error}")))?;
    let mut message =
        Publish::new(topic, Bytes::from(options.message.clone())).with_qos(options.qos);
    message.retain = options.retain;
    let mut driver = connect(options, until)?;
    driver
        .publish_and_wait(message, until)
        .map_err(|e| timed_out(e, options))?;
    driver.disconnect()?;
    Ok(())
}

/// `client sub`: connect, subscribe, print messages until `-C` or `-W`.
fn subscribe(options: &Options) -> Result<(), Failure> {
    let until = deadline(options);
    let mut subscriptions = Vec::new();
    for filter in &options.topics {
        let filter = TopicFilter::new(filter.as_str())
            .map_err(|error| Failure::Error(format!("invalid topic filter '{filter}': {error}")))?;
        subscriptions.push(Subscription::new(filter, options.qos));
    }
    let mut driver = connect(options, until)?;
    let suback = driver
        .subscribe_and_wait(subscriptions, until)
        .map_err(|e| timed_out(e, options))?;
    let mut denied = 0;
    for (filter, code) in options.topics.iter().zip(suback.reason_codes.iter()) {
        if code.is_error() {
            denied += 1;
            eprintln!("Warning: subscription to '{filter}' denied: {code}");
        }
    }
    if denied == options.topics.len() {
        return Err(Failure::Error(
            "All subscription requests were denied.".to_owned(),
        ));
    }
    let mut received = 0;
    let mut stdout = std::io::stdout().lock();
    loop {
        let event = driver.next_event(until).map_err(|e| timed_out(e, options));
        let event = match event {
            Err(Failure::TimedOut) => {
                let _ = driver.disconnect();
                return Err(Failure::TimedOut);
            }
            other => other?,
        };
        match event {
            Event::Message(message) => {
                if options.verbose {
                    let topic = message.topic.as_ref().map_or("", |topic| topic.as_str());
                    let _ = write!(stdout, "{topic} ");
                }
                let printed = stdout
                    .write_all(&message.payload)
                    .and_then(|()| stdout.write_all(b"\n"))
                    .and_then(|()| stdout.flush());
                if printed.is_err() {
                    // Nobody reads any more (a closed pipe): stop quietly.
                    let _ = driver.disconnect();
                    return Ok(());
                }
                received += 1;
                if options.count.is_some_and(|count| received >= count) {
                    driver.disconnect()?;
                    return Ok(());
                }
            }
            Event::Disconnected(disconnected) => {
                return Err(DriverError::Ended(Some(disconnected)).into());
            }
            _ => {}
        }
    }
}

/// A driver connected as the flags say.
fn connect(options: &Options, until: StdInstant) -> Result<Driver, Failure> {
    let error =
        |what: &str, error: &dyn std::fmt::Display| Failure::Error(format!("{what}: {error}"));
    let mut connect = ConnectOptions::new(options.version, &options.client_id)
        .map_err(|e| error("invalid client id", &e))?
        .clean_start(options.clean)
        .keep_alive(options.keep_alive);
    if options.version.is_v5() {
        connect = connect.session_expiry_interval(options.session_expiry);
    }
    if let Some(username) = &options.username {
        connect = connect
            .credentials(username, options.password.as_deref().map(str::as_bytes))
            .map_err(|e| error("invalid user name or password", &e))?;
    }
    if let Some(will) = &options.will {
        let topic =
            TopicName::new(will.topic.as_str()).map_err(|e| error("invalid will topic", &e))?;
        let payload = BinaryData::new(Bytes::from(will.payload.clone()))
            .map_err(|e| error("invalid will payload", &e))?;
        let mut packet = Will::new(topic, payload);
        packet.qos = will.qos;
        packet.retain = will.retain;
        connect = connect.will(packet);
    }
    let mut driver = Driver::new(ClientConfig::default());
    if options.debug {
        driver.record_wire(Some(options.client_id.clone()));
    }
    driver
        .connect(&options.address(), connect, until)
        .map_err(|e| timed_out(e, options))?;
    Ok(driver)
}

/// When the command gives up: `-W` from now, or never.
fn deadline(options: &Options) -> StdInstant {
    StdInstant::now() + options.timeout.unwrap_or(FOREVER)
}

/// A driver error as a failure, `-W` running out as [`Failure::TimedOut`].
fn timed_out(error: DriverError, options: &Options) -> Failure {
    match error {
        DriverError::TimedOut(_) if options.timeout.is_some() => Failure::TimedOut,
        other => other.into(),
    }
}
