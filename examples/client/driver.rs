//! A blocking driver for [`Client`] over a [`TcpStream`]: the run loop of the crate docs, with
//! the socket's read timeout as the client's deadline.
//!
//! Each wake-up of [`Driver`] does, in order:
//!
//! 1. feed what happened: the bytes one `read` returned, the end of the stream, or the passing
//!    of [`Client::poll_timeout`] (a command such as [`Driver::publish`] is also an input);
//! 2. drain [`Client::poll_transmit`] into one buffer and write it with one `write_all`;
//! 3. move every [`Event`] into the driver's queue, closing the socket on
//!    [`Event::Disconnected`];
//! 4. block in `read` until bytes arrive, the client's deadline passes or the caller's
//!    deadline passes, whichever is first.
//!
//! Every wait takes a deadline (`until`), so nothing blocks for longer than its caller allows.
//! A [`Wire`] recorder, when switched on, decodes both directions of the connection so that a
//! test can see the packets themselves (a PINGREQ, a PUBLISH naming its topic by alias alone)
//! and the command line can print them with `-d`.
//!
//! This file is shared: `examples/client.rs` runs it as a command line and
//! `tests/client_mosquitto.rs` includes it with `#[path]` to drive mosquitto.

// The example and the test each use a part of this module.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant as StdInstant};

use bytes::Bytes;
use mqtt_sansio::{
    Client, ClientConfig, ConnectOptions, ConnectReturnCode, Connected, Decoder, Disconnect,
    DisconnectReason, DisconnectReasonCode, Disconnected, Event, Instant, Limits, MAX_PACKET_SIZE,
    Packet, PacketId, ProtocolVersion, Publish, PublishError, SubAck, SubscribeProperties,
    Subscription, UsageError,
};

/// The size of the buffer [`Client::poll_transmit`] writes into: every packet up to this size
/// goes out in the same `write` as the others of its wake-up.
const TX_BUFFER: usize = 64 * 1024;
/// The size of one socket read.
const RX_BUFFER: usize = 64 * 1024;
/// How long one `write` may block before the connection counts as dead.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a clean disconnect waits for the server to close its side after our DISCONNECT.
const LINGER: Duration = Duration::from_secs(1);

/// Why a driver call did not get what it waited for.
#[derive(Debug)]
pub(crate) enum DriverError {
    /// No TCP connection could be opened to the address.
    Unreachable {
        /// The address as given.
        address: String,
        /// The last error of the attempts.
        error: io::Error,
    },
    /// The server refused the connection in its CONNACK.
    Refused {
        /// Why, as the client reports it (a 3.x return code as the 5.0 code of its meaning).
        disconnected: Disconnected,
        /// The version of the refused CONNECT, to print a 3.x return code as it was sent.
        version: ProtocolVersion,
    },
    /// The connection ended (`None`: there was none).
    Ended(Option<Disconnected>),
    /// The deadline passed first; says what was awaited.
    TimedOut(String),
    /// The client refused the command.
    Usage(UsageError),
    /// The server refused or lost a QoS 1 or 2 message.
    Publish(PublishError),
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable { address, error } => write!(f, "cannot reach {address}: {error}"),
            Self::Refused {
                disconnected,
                version,
            } => {
                let DisconnectReason::Refused(code) = disconnected.reason else {
                    return write!(f, "connection refused: {:?}", disconnected.reason);
                };
                match ConnectReturnCode::try_from(code) {
                    Ok(code) if !version.is_v5() => {
                        write!(f, "connection refused by the broker: return code {code}")?;
                    }
                    _ => write!(f, "connection refused by the broker: reason code {code}")?,
                }
                if let Some(reason) = &disconnected.reason_string {
                    write!(f, " ({reason})")?;
                }
                Ok(())
            }
            Self::Ended(Some(disconnected)) => {
                write!(f, "connection ended: {:?}", disconnected.reason)?;
                if let Some(reason) = &disconnected.reason_string {
                    write!(f, " ({reason})")?;
                }
                Ok(())
            }
            Self::Ended(None) => f.write_str("not connected"),
            Self::TimedOut(what) => write!(f, "timed out waiting for {what}"),
            Self::Usage(error) => write!(f, "{error}"),
            Self::Publish(error) => write!(f, "message not delivered: {error:?}"),
        }
    }
}

impl std::error::Error for DriverError {}

impl From<UsageError> for DriverError {
    fn from(error: UsageError) -> Self {
        Self::Usage(error)
    }
}

/// Which way a recorded packet went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Written by the client.
    Sent,
    /// Read from the server.
    Received,
}

/// Both directions of one connection, decoded: what the client wrote and what it read.
#[derive(Debug)]
pub(crate) struct Wire {
    /// Reads the client's bytes as a server would.
    sent: Decoder,
    /// Reads the server's bytes as the client does.
    received: Decoder,
    /// Every packet, in the order the driver wrote or read it.
    pub(crate) packets: Vec<(Direction, Packet<Bytes>)>,
    /// Print each packet to stderr as it is recorded (the command line's `-d`).
    echo: Option<String>,
}

impl Wire {
    fn new(version: ProtocolVersion, echo: Option<String>) -> Self {
        let limits = Limits::new(MAX_PACKET_SIZE);
        Self {
            sent: Decoder::server(limits),
            received: Decoder::client(version, limits),
            packets: Vec::new(),
            echo,
        }
    }

    fn record(&mut self, direction: Direction, bytes: &[u8]) {
        let decoder = match direction {
            Direction::Sent => &mut self.sent,
            Direction::Received => &mut self.received,
        };
        decoder.push(bytes);
        while let Ok(Some(packet)) = decoder.decode() {
            if let Some(client_id) = &self.echo {
                let verb = match direction {
                    Direction::Sent => "sending",
                    Direction::Received => "received",
                };
                eprintln!("Client {client_id} {verb} {}", describe(&packet));
            }
            self.packets.push((direction, packet));
        }
    }

    /// The packets that went one way, in order.
    pub(crate) fn packets(&self, direction: Direction) -> impl Iterator<Item = &Packet<Bytes>> {
        self.packets
            .iter()
            .filter(move |(way, _)| *way == direction)
            .map(|(_, packet)| packet)
    }
}

/// One line about a packet, in the spirit of mosquitto's `-d` output.
fn describe(packet: &Packet<Bytes>) -> String {
    match packet {
        Packet::Publish(publish) => format!(
            "PUBLISH (d{}, q{}, r{}, m{}, '{}', alias {:?}, ... ({} bytes))",
            u8::from(publish.is_dup()),
            publish.qos() as u8,
            u8::from(publish.retain),
            publish.packet_id().map_or(0, PacketId::get),
            publish.topic.as_ref().map_or("", |topic| topic.as_str()),
            publish.properties.topic_alias.map(|alias| alias.get()),
            publish.payload.len()
        ),
        Packet::ConnAck(connack) => format!(
            "CONNACK ({}, session present {})",
            connack.reason_code, connack.session_present
        ),
        Packet::PubAck(ack) => format!("PUBACK (m{})", ack.packet_id),
        Packet::PubRec(ack) => format!("PUBREC (m{})", ack.packet_id),
        Packet::PubRel(ack) => format!("PUBREL (m{})", ack.packet_id),
        Packet::PubComp(ack) => format!("PUBCOMP (m{})", ack.packet_id),
        Packet::Subscribe(subscribe) => format!("SUBSCRIBE (m{})", subscribe.packet_id),
        Packet::SubAck(suback) => format!("SUBACK (m{})", suback.packet_id),
        other => other.packet_type().to_string(),
    }
}

/// A [`Client`] and its socket, driven by blocking calls that each take a deadline.
#[derive(Debug)]
pub(crate) struct Driver {
    /// The state machine; a caller may use its getters freely.
    pub(crate) client: Client,
    stream: Option<TcpStream>,
    /// Time zero of the client's clock.
    origin: StdInstant,
    tx: Vec<u8>,
    rx: Vec<u8>,
    /// Events not yet taken by the caller, oldest first.
    events: VecDeque<Event>,
    /// Why the last connection ended, once it has.
    ended: Option<Disconnected>,
    /// Record the next connections' packets; with a client id, print them too.
    record: Option<Option<String>>,
    wire: Option<Wire>,
}

impl Driver {
    /// A driver for a new client with `config`, not connected.
    pub(crate) fn new(config: ClientConfig) -> Self {
        Self {
            client: Client::new(config),
            stream: None,
            origin: StdInstant::now(),
            tx: vec![0; TX_BUFFER],
            rx: vec![0; RX_BUFFER],
            events: VecDeque::new(),
            ended: None,
            record: None,
            wire: None,
        }
    }

    /// Records the packets of every connection from the next one on; see [`Self::wire`].
    /// With `echo`, a client id, each packet is also printed to stderr.
    pub(crate) fn record_wire(&mut self, echo: Option<String>) {
        self.record = Some(echo);
    }

    /// The packets of the current or last connection, if recording.
    pub(crate) fn wire(&self) -> Option<&Wire> {
        self.wire.as_ref()
    }

    /// The client's clock: milliseconds since the driver was made.
    pub(crate) fn now(&self) -> Instant {
        millis_since(self.origin)
    }

    /// Whether a socket is open.
    pub(crate) fn is_open(&self) -> bool {
        self.stream.is_some()
    }

    /// Opens a TCP connection to `address` (`host:port`) and connects the client over it;
    /// returns what the CONNACK said. A refusal is [`DriverError::Refused`]; no CONNACK by
    /// `until` closes the socket. Events that come before the CONNACK (messages the session
    /// lost, in [`Event::Published`]) stay queued; an [`Event::Disconnected`] of an earlier
    /// connection still queued is dropped.
    pub(crate) fn connect(
        &mut self,
        address: &str,
        options: ConnectOptions,
        until: StdInstant,
    ) -> Result<Box<Connected>, DriverError> {
        let stream = open(address, until)?;
        let version = options.version();
        self.client.connect(self.now(), options)?;
        self.events
            .retain(|event| !matches!(event, Event::Disconnected(_)));
        self.stream = Some(stream);
        self.ended = None;
        self.wire = self.record.clone().map(|echo| Wire::new(version, echo));
        self.after_input();
        let event = self
            .take(until, "CONNACK", |event| {
                matches!(event, Event::Connected(_) | Event::Disconnected(_))
            })
            .inspect_err(|error| {
                if matches!(error, DriverError::TimedOut(_)) {
                    self.kill();
                }
            })?;
        match event {
            Event::Connected(connected) => Ok(connected),
            Event::Disconnected(disconnected)
                if matches!(disconnected.reason, DisconnectReason::Refused(_)) =>
            {
                Err(DriverError::Refused {
                    disconnected,
                    version,
                })
            }
            Event::Disconnected(disconnected) => Err(DriverError::Ended(Some(disconnected))),
            _ => unreachable!("take returns what its predicate accepts"),
        }
    }

    /// Queues a message and writes it; returns its Packet Identifier (QoS 1 and 2).
    pub(crate) fn publish(
        &mut self,
        message: Publish<Bytes>,
    ) -> Result<Option<PacketId>, DriverError> {
        let id = self.client.publish(self.now(), message)?;
        self.after_input();
        Ok(id)
    }

    /// Publishes and, for QoS 1 and 2, waits for the PUBACK or PUBCOMP; other events stay
    /// queued.
    pub(crate) fn publish_and_wait(
        &mut self,
        message: Publish<Bytes>,
        until: StdInstant,
    ) -> Result<(), DriverError> {
        let Some(id) = self.publish(message)? else {
            return Ok(());
        };
        self.wait_published(id, until)
    }

    /// Waits for the outcome of the QoS 1 or 2 message `id`.
    pub(crate) fn wait_published(
        &mut self,
        id: PacketId,
        until: StdInstant,
    ) -> Result<(), DriverError> {
        let event = self.take(
            until,
            "the acknowledgement of a message",
            |event| matches!(event, Event::Published { packet_id, .. } if *packet_id == id),
        )?;
        match event {
            Event::Published {
                result: Err(error), ..
            } => Err(DriverError::Publish(error)),
            _ => Ok(()),
        }
    }

    /// Subscribes and waits for the SUBACK; other events stay queued.
    pub(crate) fn subscribe_and_wait(
        &mut self,
        subscriptions: impl IntoIterator<Item = Subscription<Bytes>>,
        until: StdInstant,
    ) -> Result<SubAck<Bytes>, DriverError> {
        let id = self
            .client
            .subscribe(self.now(), subscriptions, SubscribeProperties::new())?;
        self.after_input();
        let event = self.take(
            until,
            "SUBACK",
            |event| matches!(event, Event::Subscribed(suback) if suback.packet_id == id),
        )?;
        match event {
            Event::Subscribed(suback) => Ok(suback),
            _ => unreachable!("take returns what its predicate accepts"),
        }
    }

    /// Acknowledges a message received with manual acknowledgement, and writes what is due.
    pub(crate) fn ack(&mut self, id: PacketId) -> Result<(), DriverError> {
        self.client.ack(id)?;
        self.after_input();
        Ok(())
    }

    /// Ends the connection cleanly: what is queued, then DISCONNECT, then the socket is
    /// closed once the server has closed its side (or after a short linger).
    pub(crate) fn disconnect(&mut self) -> Result<(), DriverError> {
        self.client.disconnect(
            self.now(),
            Disconnect::new(DisconnectReasonCode::NormalDisconnection),
        )?;
        self.after_input();
        self.take_disconnected();
        Ok(())
    }

    /// Cuts the connection without DISCONNECT, as a crash or a network failure would: the
    /// socket is dropped with whatever the client had not written yet, and the client is told
    /// the transport closed. Its own [`Event::Disconnected`] is not queued.
    pub(crate) fn kill(&mut self) {
        self.stream = None;
        self.client.handle_closed(self.now());
        self.collect_events();
        self.take_disconnected();
    }

    /// The next event, waiting for it until `until`.
    pub(crate) fn next_event(&mut self, until: StdInstant) -> Result<Event, DriverError> {
        self.take(until, "an event", |_| true)
    }

    /// The oldest event `pick` accepts, waiting for it until `until`; the others stay queued.
    /// An ended connection is [`DriverError::Ended`] (unless `pick` accepts its
    /// [`Event::Disconnected`]); a passed deadline is [`DriverError::TimedOut`] naming `what`.
    pub(crate) fn take(
        &mut self,
        until: StdInstant,
        what: &str,
        mut pick: impl FnMut(&Event) -> bool,
    ) -> Result<Event, DriverError> {
        loop {
            if let Some(index) = self.events.iter().position(&mut pick)
                && let Some(event) = self.events.remove(index)
            {
                return Ok(event);
            }
            if self.stream.is_none() {
                return Err(DriverError::Ended(self.ended.clone()));
            }
            if StdInstant::now() >= until {
                return Err(DriverError::TimedOut(what.to_owned()));
            }
            self.turn(until);
        }
    }

    /// Removes and returns every queued event `pick` accepts, oldest first, without waiting.
    pub(crate) fn drain(&mut self, mut pick: impl FnMut(&Event) -> bool) -> Vec<Event> {
        let mut picked = Vec::new();
        for event in std::mem::take(&mut self.events) {
            if pick(&event) {
                picked.push(event);
            } else {
                self.events.push_back(event);
            }
        }
        picked
    }

    /// Events received and not yet taken, oldest first.
    pub(crate) fn queued(&self) -> &VecDeque<Event> {
        &self.events
    }

    /// Runs the loop until `until` or the end of the connection, queueing every event.
    pub(crate) fn run_until(&mut self, until: StdInstant) {
        while self.stream.is_some() && StdInstant::now() < until {
            self.turn(until);
        }
    }

    /// Runs until `done` holds (checked after each wake-up, and before the first), the
    /// connection ends or `until` passes; returns whether `done` held.
    pub(crate) fn run_while(
        &mut self,
        until: StdInstant,
        mut done: impl FnMut(&Self) -> bool,
    ) -> bool {
        loop {
            if done(self) {
                return true;
            }
            if self.stream.is_none() || StdInstant::now() >= until {
                return false;
            }
            self.turn(until);
        }
    }

    /// One wake-up that feeds what arrives and queues the events, but writes nothing: the
    /// acknowledgements it makes stay in the client, so that a [`kill`](Self::kill) right
    /// after cuts the connection before they go out.
    pub(crate) fn receive_without_writing(&mut self, until: StdInstant) {
        self.wait_and_feed(until);
        self.collect_events();
    }

    /// One wake-up of the run loop: wait and feed, write, collect events.
    fn turn(&mut self, until: StdInstant) {
        self.wait_and_feed(until);
        self.after_input();
    }

    /// After an input or a command: write what the client owes, then collect its events.
    fn after_input(&mut self) {
        self.transmit();
        self.collect_events();
    }

    /// Blocks until bytes arrive, the client's deadline or `until`, and feeds what happened.
    fn wait_and_feed(&mut self, until: StdInstant) {
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        let timer = self
            .client
            .poll_timeout()
            .map(|deadline| self.origin + Duration::from_millis(deadline.as_millis()));
        let wake = timer.map_or(until, |timer| timer.min(until));
        let wait = wake.saturating_duration_since(StdInstant::now());
        if !wait.is_zero() {
            // A zero read timeout means "block forever"; the deadline is at least 1 ms away.
            let _ = stream.set_read_timeout(Some(wait.max(Duration::from_millis(1))));
            match stream.read(&mut self.rx) {
                Ok(0) => {
                    self.client.handle_closed(millis_since(self.origin));
                    return;
                }
                Ok(n) => {
                    let data = &self.rx[..n];
                    if let Some(wire) = &mut self.wire {
                        wire.record(Direction::Received, data);
                    }
                    self.client.handle_data(millis_since(self.origin), data);
                }
                Err(error)
                    if matches!(
                        error.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(_) => {
                    self.client.handle_closed(millis_since(self.origin));
                    return;
                }
            }
        }
        let now = millis_since(self.origin);
        if self
            .client
            .poll_timeout()
            .is_some_and(|deadline| deadline <= now)
        {
            self.client.handle_timeout(now);
        }
    }

    /// Drains [`Client::poll_transmit`] into the buffer and writes it in one `write_all`
    /// (more only when it holds over [`TX_BUFFER`] bytes).
    fn transmit(&mut self) {
        if self.stream.is_none() {
            return;
        }
        let mut filled = 0;
        let mut ok = true;
        loop {
            if filled == self.tx.len() {
                ok = ok && self.write(filled);
                filled = 0;
            }
            match self.client.poll_transmit(&mut self.tx[filled..]) {
                Some(transmit) => filled += transmit.len,
                None => break,
            }
        }
        if filled > 0 {
            ok = ok && self.write(filled);
        }
        if !ok {
            self.client.handle_closed(self.now());
        }
    }

    fn write(&mut self, len: usize) -> bool {
        let data = &self.tx[..len];
        if let Some(wire) = &mut self.wire {
            wire.record(Direction::Sent, data);
        }
        self.stream
            .as_mut()
            .is_some_and(|stream| stream.write_all(data).is_ok())
    }

    /// Moves the client's events into the queue; closes the socket when the connection ended.
    fn collect_events(&mut self) {
        while let Some(event) = self.client.poll_event() {
            if let Event::Disconnected(disconnected) = &event {
                self.ended = Some(disconnected.clone());
                if let Some(stream) = self.stream.take()
                    && matches!(disconnected.reason, DisconnectReason::ByClient(_))
                {
                    linger(stream, &mut self.rx);
                }
            }
            self.events.push_back(event);
        }
    }

    /// Removes the last [`Event::Disconnected`] from the queue: the caller asked for it.
    fn take_disconnected(&mut self) {
        if let Some(index) = self
            .events
            .iter()
            .rposition(|event| matches!(event, Event::Disconnected(_)))
        {
            self.events.remove(index);
        }
    }
}

/// The client's clock for a driver made at `origin`.
fn millis_since(origin: StdInstant) -> Instant {
    Instant::from_millis(u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX))
}

/// A TCP connection to the first address of `address` that accepts one before `until`.
fn open(address: &str, until: StdInstant) -> Result<TcpStream, DriverError> {
    let unreachable = |error| DriverError::Unreachable {
        address: address.to_owned(),
        error,
    };
    let mut last = io::Error::new(ErrorKind::NotFound, "no address");
    for socket in address.to_socket_addrs().map_err(unreachable)? {
        let timeout = until.saturating_duration_since(StdInstant::now());
        if timeout.is_zero() {
            last = io::Error::new(ErrorKind::TimedOut, "deadline passed");
            break;
        }
        match TcpStream::connect_timeout(&socket, timeout) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
                return Ok(stream);
            }
            Err(error) => last = error,
        }
    }
    Err(unreachable(last))
}

/// Closes our side after a DISCONNECT and reads until the server closes its own (at most
/// [`LINGER`]), so that unread bytes do not turn the close into a reset that could overtake the
/// DISCONNECT.
fn linger(mut stream: TcpStream, buf: &mut [u8]) {
    let _ = stream.shutdown(Shutdown::Write);
    let until = StdInstant::now() + LINGER;
    loop {
        let wait = until.saturating_duration_since(StdInstant::now());
        if wait.is_zero() || stream.set_read_timeout(Some(wait)).is_err() {
            return;
        }
        match stream.read(buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}
