//! The idle scenario: opens many connections that CONNECT (and optionally SUBSCRIBE once) and
//! then stay silent, and reads the broker's resident memory before and after.
//!
//! Blocking sockets suffice: the connections are opened in batches (every CONNECT of a batch
//! is written before any CONNACK is read) and never read again.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use mqtt_sansio::{
    Connect, Decoded, Disconnect, DisconnectReasonCode, Limits, MqttString, Packet, PacketId,
    ProtocolVersion, Subscribe, Subscription, TopicFilter,
};

use crate::args::{Options, version_name};
use crate::procfs::Process;

/// Connections whose CONNECT is written before the first of their CONNACKs is read.
const BATCH: usize = 100;
/// The bound on a CONNACK or SUBACK arriving.
const ANSWER: Duration = Duration::from_secs(30);

/// What an idle run measured.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The broker's VmRSS before the first connection, in bytes.
    pub(crate) rss_before: Option<u64>,
    /// The broker's VmRSS once every connection was accepted and the settle time passed.
    pub(crate) rss_after: Option<u64>,
    /// Seconds from the first connect to the last CONNACK (SUBACK).
    pub(crate) connect_seconds: f64,
}

/// Runs the idle scenario.
pub(crate) fn run(options: &Options) -> Result<Outcome, String> {
    let broker = options.broker_pid.map(Process::Pid);
    let rss_before = broker.map(Process::rss).transpose()?;
    let tag = std::process::id() & 0xF_FFFF;
    let start = Instant::now();
    let mut streams = Vec::with_capacity(options.connections);
    let mut index = 0;
    while index < options.connections {
        let batch = BATCH.min(options.connections - index);
        let first = streams.len();
        for _ in 0..batch {
            let filter = format!("{}/{tag:05x}/idle/{index}", options.topic_prefix);
            let client_id = format!("lg{tag:05x}{index:09}");
            let stream = open(
                options,
                &client_id,
                options.subscribe.then_some(filter.as_str()),
            )
            .map_err(|error| hint(index, &error))?;
            streams.push(stream);
            index += 1;
        }
        for stream in &mut streams[first..] {
            await_answers(stream, options.version, options.subscribe)
                .map_err(|error| format!("connection {index}: {error}"))?;
        }
    }
    let connect_seconds = start.elapsed().as_secs_f64();
    thread::sleep(options.settle);
    let rss_after = broker.map(Process::rss).transpose()?;
    let mut goodbye = Vec::new();
    let _ = Disconnect::<&[u8]>::new(DisconnectReasonCode::NormalDisconnection)
        .encode(options.version, &mut goodbye);
    for stream in &mut streams {
        let _ = stream.write_all(&goodbye);
    }
    Ok(Outcome {
        rss_before,
        rss_after,
        connect_seconds,
    })
}

/// The two output lines: one for people, one of `key=value` pairs for scripts.
pub(crate) fn report(options: &Options, outcome: &Outcome) -> (String, String) {
    let per_connection = outcome
        .rss_before
        .zip(outcome.rss_after)
        .map(|(before, after)| (after as f64 - before as f64) / options.connections as f64);
    let human = format!(
        "idle {}{}: {} connections in {:.2} s ({:.0}/s), broker RSS {} -> {}: {}",
        version_name(options.version),
        if options.subscribe { " subscribed" } else { "" },
        options.connections,
        outcome.connect_seconds,
        options.connections as f64 / outcome.connect_seconds,
        outcome
            .rss_before
            .map_or("?".into(), |rss| format!("{} KiB", rss / 1024)),
        outcome
            .rss_after
            .map_or("?".into(), |rss| format!("{} KiB", rss / 1024)),
        per_connection.map_or("no --broker-pid, no bytes per connection".into(), |bytes| {
            format!("{bytes:.0} B per connection")
        }),
    );
    let machine = format!(
        "result scenario=idle version={} subscribe={} connections={} connect_s={:.3} \
         rss_before={} rss_after={} bytes_per_connection={}",
        version_name(options.version),
        options.subscribe,
        options.connections,
        outcome.connect_seconds,
        outcome
            .rss_before
            .map_or("na".into(), |rss| rss.to_string()),
        outcome.rss_after.map_or("na".into(), |rss| rss.to_string()),
        per_connection.map_or("na".into(), |bytes| format!("{bytes:.0}")),
    );
    (human, machine)
}

/// Connects and writes CONNECT, and SUBSCRIBE to `filter` if given.
fn open(options: &Options, client_id: &str, filter: Option<&str>) -> io::Result<TcpStream> {
    let mut stream = TcpStream::connect(options.broker)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(ANSWER))?;
    let mut packets = Vec::new();
    let mut connect = Connect::<&[u8]>::new(
        options.version,
        MqttString::new(client_id).map_err(invalid)?,
    );
    connect.keep_alive = options.keep_alive;
    connect
        .encode(options.version, &mut packets)
        .map_err(invalid)?;
    if let Some(filter) = filter {
        let filter = TopicFilter::<&[u8]>::new(filter).map_err(invalid)?;
        Subscribe::new(PacketId::MIN, [Subscription::new(filter, options.qos)])
            .encode(options.version, &mut packets)
            .map_err(invalid)?;
    }
    stream.write_all(&packets)?;
    Ok(stream)
}

/// Reads until the CONNACK (and the SUBACK) arrived and accepted.
fn await_answers(
    stream: &mut TcpStream,
    version: ProtocolVersion,
    suback: bool,
) -> Result<(), String> {
    let mut buf = [0u8; 512];
    let mut len = 0;
    let mut connack = false;
    let mut subscribed = !suback;
    while !(connack && subscribed) {
        if len == buf.len() {
            return Err("answers larger than expected".into());
        }
        let read = stream
            .read(&mut buf[len..])
            .map_err(|error| format!("read: {error}"))?;
        if read == 0 {
            return Err("the broker closed the connection".into());
        }
        len += read;
        let mut pos = 0;
        while let Decoded::Complete { packet, consumed } =
            Packet::decode(version, &buf[pos..len], &Limits::default())
                .map_err(|error| format!("malformed answer: {error}"))?
        {
            pos += consumed;
            match packet {
                Packet::ConnAck(ack) if !ack.reason_code.is_error() => connack = true,
                Packet::SubAck(ack) if !ack.reason_codes.iter().any(|code| code.is_error()) => {
                    subscribed = true;
                }
                other => return Err(format!("refused or unexpected: {other:?}")),
            }
        }
        buf.copy_within(pos..len, 0);
        len -= pos;
    }
    Ok(())
}

/// An error message for a failed connection, with the usual cause named.
fn hint(index: usize, error: &io::Error) -> String {
    let advice = if error.raw_os_error() == Some(24) {
        " (too many open files: raise `ulimit -n` for the generator and the broker)"
    } else {
        ""
    };
    format!("connection {index}: {error}{advice}")
}

/// An I/O error for a value the codec refused.
fn invalid(error: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, error.to_string())
}
