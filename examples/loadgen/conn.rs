//! One generator connection: a non-blocking socket with a receive buffer and a bounded send
//! buffer, speaking MQTT through the crate's codec, as a publisher or a subscriber.
//!
//! Packets are encoded with [`Publish::encode`] and friends straight into the send buffer and
//! decoded with [`Packet::decode`] straight from the receive buffer, which borrows and
//! allocates nothing per message. A publisher refills its send buffer only once the socket has
//! taken all of it, so what waits in the generator is at most one batch: the rest of the
//! backpressure is the broker's (TCP's window, or the broker not reading).

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use mio::net::TcpStream;
use mqtt_sansio::{
    Connect, Decoded, Delivery, Disconnect, DisconnectReasonCode, Limits, MqttString, Packet,
    PacketId, ProtocolVersion, PubAck, Publish, QoS, Subscribe, Subscription, TopicFilter,
    TopicName,
};

use crate::histogram::Histogram;
use crate::payload::Stamp;
use crate::tracker::{SeqSet, Tracker};
use crate::worker::Shared;

/// The receive buffer of a connection (it grows only for a packet larger than this).
const READ_BUFFER: usize = 64 * 1024;
/// A publisher encodes messages into its send buffer until it holds this many bytes.
const BATCH: usize = 16 * 1024;
/// A subscriber stops reading while this many bytes of PUBACKs wait to be sent.
const ACK_BACKLOG: usize = 256 * 1024;
/// Batches a publisher writes per turn of the event loop before letting the others run.
const BATCHES_PER_TURN: usize = 4;

/// When a run sends and measures, in nanoseconds since the run's epoch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    /// Publishers start (warm-up begins).
    pub(crate) start: u64,
    /// The measured window starts (warm-up ends).
    pub(crate) window_start: u64,
    /// The measured window ends and publishers stop.
    pub(crate) window_end: u64,
}

impl Schedule {
    /// Whether `ns` falls in the measured window.
    fn contains(self, ns: u64) -> bool {
        (self.window_start..self.window_end).contains(&ns)
    }
}

/// What every connection of a run shares.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    /// The MQTT version.
    pub(crate) version: ProtocolVersion,
    /// QoS of publications and subscriptions.
    pub(crate) qos: QoS,
    /// Keep Alive in CONNECT.
    pub(crate) keep_alive: u16,
    /// QoS 1 window per publisher.
    pub(crate) inflight: usize,
    /// Messages per second per publisher; 0 for as fast as the broker takes them.
    pub(crate) rate: u64,
}

/// Counts a connection adds to during one turn of the event loop, for the shared totals.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tally {
    /// Connections whose CONNACK (and SUBACK) arrived.
    pub(crate) ready: u64,
    /// Messages encoded.
    pub(crate) sent: u64,
    /// QoS 1 messages acknowledged.
    pub(crate) acked: u64,
    /// First copies of messages received.
    pub(crate) unique: u64,
}

/// Where a connection is in its handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handshake {
    ConnAck,
    SubAck,
    Ready,
}

/// The side of the traffic a connection is on.
#[derive(Debug)]
pub(crate) enum Role {
    /// Sends messages to a topic.
    Publisher(Publisher),
    /// Receives from a topic filter.
    Subscriber(Subscriber),
}

/// A publisher's state and counts.
#[derive(Debug)]
pub(crate) struct Publisher {
    /// Its index in the scenario, carried in every payload.
    pub(crate) id: u32,
    topic: String,
    payload: Vec<u8>,
    /// Messages encoded (the next sequence number).
    pub(crate) sent: u64,
    /// Messages encoded within the measured window.
    pub(crate) sent_in_window: u64,
    /// QoS 1: packet ids free to use (the window left).
    free_ids: Vec<u16>,
    /// QoS 1: the sequence number each packet id carries.
    seq_by_id: Vec<u64>,
    /// QoS 1: the sequence numbers acknowledged by PUBACK.
    pub(crate) acked: SeqSet,
    /// QoS 1: the window the broker's Receive Maximum left (5.0).
    pub(crate) window: usize,
}

impl Publisher {
    /// A publisher of `payload_len`-byte messages to `topic`.
    pub(crate) fn new(id: u32, topic: String, payload_len: usize) -> Self {
        Self {
            id,
            topic,
            payload: vec![0; payload_len],
            sent: 0,
            sent_in_window: 0,
            free_ids: Vec::new(),
            seq_by_id: Vec::new(),
            acked: SeqSet::default(),
            window: 0,
        }
    }

    /// Makes packet ids 1 to `window` available (QoS 1).
    fn open_window(&mut self, window: usize) {
        self.window = window;
        // Popped from the end: ids go out 1, 2, 3, ...
        self.free_ids = (1..=window as u16).rev().collect();
        self.seq_by_id = vec![0; window + 1];
    }
}

/// A subscriber's state and counts.
#[derive(Debug)]
pub(crate) struct Subscriber {
    /// Its index in the scenario (a pair's subscriber has its publisher's index).
    pub(crate) index: usize,
    filter: String,
    /// Which messages arrived.
    pub(crate) tracker: Tracker,
    /// Latency of the messages received within the window.
    pub(crate) latency: Histogram,
    /// Messages received (copies included).
    pub(crate) received: u64,
    /// Messages received within the window.
    pub(crate) received_in_window: u64,
    /// Per publisher, one past the highest sequence number received.
    highest: Vec<u64>,
}

impl Subscriber {
    /// Subscriber `index` of the scenario, to `filter`, among `publishers` publishers.
    pub(crate) fn new(index: usize, filter: String, publishers: usize) -> Self {
        Self {
            index,
            filter,
            tracker: Tracker::new(publishers),
            latency: Histogram::new(),
            received: 0,
            received_in_window: 0,
            highest: vec![0; publishers],
        }
    }
}

/// One connection to the broker.
#[derive(Debug)]
pub(crate) struct Conn {
    stream: TcpStream,
    settings: Settings,
    handshake: Handshake,
    /// The connection's traffic and counts.
    pub(crate) role: Role,
    rbuf: Vec<u8>,
    rlen: usize,
    wbuf: Vec<u8>,
    wpos: usize,
    /// The last write stopped at WouldBlock: wait for a writable event.
    write_blocked: bool,
    /// Reading stopped with bytes perhaps left in the socket (too many PUBACKs waiting).
    read_pending: bool,
}

/// What a turn of [`Conn::pump`] left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pump {
    /// Nothing more to do until an event arrives.
    Idle,
    /// More to send right away: come back without waiting for an event.
    More,
}

impl Conn {
    /// Connects (blocking, then non-blocking from here on) and queues CONNECT, and SUBSCRIBE
    /// for a subscriber.
    pub(crate) fn open(
        broker: SocketAddr,
        client_id: &str,
        role: Role,
        settings: Settings,
    ) -> io::Result<Self> {
        let stream = std::net::TcpStream::connect(broker)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(true)?;
        let mut conn = Self {
            stream: TcpStream::from_std(stream),
            settings,
            handshake: Handshake::ConnAck,
            role,
            rbuf: vec![0; READ_BUFFER],
            rlen: 0,
            wbuf: Vec::with_capacity(BATCH + 1024),
            wpos: 0,
            write_blocked: false,
            read_pending: false,
        };
        let mut connect = Connect::<&[u8]>::new(
            settings.version,
            MqttString::new(client_id).map_err(invalid)?,
        );
        connect.keep_alive = settings.keep_alive;
        connect
            .encode(settings.version, &mut conn.wbuf)
            .map_err(invalid)?;
        if let Role::Subscriber(subscriber) = &conn.role {
            let filter = TopicFilter::<&[u8]>::new(subscriber.filter.as_str()).map_err(invalid)?;
            let subscribe =
                Subscribe::new(PacketId::MIN, [Subscription::new(filter, settings.qos)]);
            subscribe
                .encode(settings.version, &mut conn.wbuf)
                .map_err(invalid)?;
        }
        Ok(conn)
    }

    /// The socket, to register with the event loop.
    pub(crate) fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Handles a readable event: reads until the socket is empty, handling every packet.
    pub(crate) fn on_readable(
        &mut self,
        now: u64,
        schedule: Option<Schedule>,
        shared: &Shared,
        tally: &mut Tally,
    ) -> Result<(), String> {
        self.read_pending = false;
        loop {
            if self.wbuf.len() - self.wpos >= ACK_BACKLOG {
                // Read again once the PUBACKs are out (see `on_writable`).
                self.read_pending = true;
                return Ok(());
            }
            if self.rlen == self.rbuf.len() {
                let grown = self.rbuf.len() * 2;
                self.rbuf.resize(grown, 0);
            }
            match self.stream.read(&mut self.rbuf[self.rlen..]) {
                Ok(0) if self.handshake == Handshake::ConnAck => {
                    return Err("the broker closed the connection before CONNACK".into());
                }
                Ok(0) => return Err("the broker closed the connection".into()),
                Ok(read) => {
                    let short = self.rlen + read < self.rbuf.len();
                    self.rlen += read;
                    self.handle_input(now, schedule, shared, tally)?;
                    self.flush()?;
                    if short {
                        // A TCP read stops short only when the socket is empty, and data
                        // arriving later raises a new edge: the read that would only say
                        // WouldBlock is saved (one system call per wake-up, not two).
                        return Ok(());
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(format!("read: {error}")),
            }
        }
    }

    /// Handles a writable event: sends what waits, and reads again if reading was held back.
    pub(crate) fn on_writable(
        &mut self,
        now: u64,
        schedule: Option<Schedule>,
        shared: &Shared,
        tally: &mut Tally,
    ) -> Result<(), String> {
        self.write_blocked = false;
        self.flush()?;
        if self.read_pending && !self.write_blocked {
            self.on_readable(now, schedule, shared, tally)?;
        }
        Ok(())
    }

    /// Gives a ready publisher a turn: encodes batches of messages and writes them until the
    /// socket is full, the QoS 1 window or the lag bound is reached, sending is over or the
    /// turn is.
    pub(crate) fn pump(
        &mut self,
        schedule: Schedule,
        shared: &Shared,
        tally: &mut Tally,
    ) -> Result<Pump, String> {
        if self.write_blocked || self.handshake != Handshake::Ready {
            return Ok(Pump::Idle);
        }
        for _ in 0..BATCHES_PER_TURN {
            if self.wpos == self.wbuf.len() {
                let Role::Publisher(publisher) = &mut self.role else {
                    return Ok(Pump::Idle);
                };
                self.wbuf.clear();
                self.wpos = 0;
                fill(
                    publisher,
                    &mut self.wbuf,
                    self.settings,
                    schedule,
                    shared,
                    tally,
                )?;
                if self.wbuf.is_empty() {
                    return Ok(Pump::Idle);
                }
            }
            self.flush()?;
            if self.write_blocked {
                return Ok(Pump::Idle);
            }
        }
        Ok(Pump::More)
    }

    /// Sends a DISCONNECT if the socket takes it at once; the connection closes when dropped.
    pub(crate) fn disconnect(&mut self) {
        let mut packet = Vec::new();
        let disconnect = Disconnect::<&[u8]>::new(DisconnectReasonCode::NormalDisconnection);
        if disconnect
            .encode(self.settings.version, &mut packet)
            .is_ok()
        {
            let _ = self.stream.write(&packet);
        }
    }

    /// Writes what waits until done or the socket is full.
    fn flush(&mut self) -> Result<(), String> {
        while self.wpos < self.wbuf.len() && !self.write_blocked {
            match self.stream.write(&self.wbuf[self.wpos..]) {
                Ok(0) => return Err("write: the socket took nothing".into()),
                Ok(written) => self.wpos += written,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.write_blocked = true;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(format!("write: {error}")),
            }
        }
        if self.wpos == self.wbuf.len() {
            self.wbuf.clear();
            self.wpos = 0;
        }
        Ok(())
    }

    /// Decodes and handles every complete packet in the receive buffer, then moves the
    /// incomplete tail to its start.
    fn handle_input(
        &mut self,
        now: u64,
        schedule: Option<Schedule>,
        shared: &Shared,
        tally: &mut Tally,
    ) -> Result<(), String> {
        let version = self.settings.version;
        let limits = Limits::default();
        let mut pos = 0;
        while pos < self.rlen {
            let decoded = Packet::decode(version, &self.rbuf[pos..self.rlen], &limits)
                .map_err(|error| format!("malformed packet from the broker: {error}"))?;
            let Decoded::Complete { packet, consumed } = decoded else {
                break;
            };
            pos += consumed;
            match packet {
                Packet::Publish(publish) => {
                    let Role::Subscriber(subscriber) = &mut self.role else {
                        return Err("a publisher received a PUBLISH".into());
                    };
                    receive(subscriber, &publish, now, schedule, shared, tally);
                    if let Some(id) = publish.packet_id() {
                        PubAck::<&[u8]>::new(id)
                            .encode(version, &mut self.wbuf)
                            .map_err(|error| format!("encode PUBACK: {error}"))?;
                    }
                }
                Packet::PubAck(ack) => {
                    let Role::Publisher(publisher) = &mut self.role else {
                        return Err("a subscriber received a PUBACK".into());
                    };
                    let id = ack.packet_id.get();
                    let seq = publisher.seq_by_id.get(usize::from(id)).copied();
                    let Some(seq) = seq.filter(|_| !publisher.free_ids.contains(&id)) else {
                        return Err(format!("PUBACK for packet id {id}, which is not in use"));
                    };
                    if ack.reason_code.is_error() {
                        return Err(format!(
                            "PUBACK refused message {seq}: {:?}",
                            ack.reason_code
                        ));
                    }
                    publisher.acked.insert(seq);
                    publisher.free_ids.push(id);
                    tally.acked += 1;
                }
                Packet::ConnAck(connack) if self.handshake == Handshake::ConnAck => {
                    if connack.reason_code.is_error() {
                        return Err(format!("CONNACK refused: {:?}", connack.reason_code));
                    }
                    match &mut self.role {
                        Role::Publisher(publisher) => {
                            let most = connack
                                .properties
                                .receive_maximum
                                .map_or(usize::MAX, |most| usize::from(most.get()));
                            publisher.open_window(self.settings.inflight.min(most));
                            self.handshake = Handshake::Ready;
                            tally.ready += 1;
                        }
                        Role::Subscriber(_) => self.handshake = Handshake::SubAck,
                    }
                }
                Packet::SubAck(suback) if self.handshake == Handshake::SubAck => {
                    if let Some(code) = suback.reason_codes.iter().find(|code| code.is_error()) {
                        return Err(format!("SUBACK refused the subscription: {code:?}"));
                    }
                    self.handshake = Handshake::Ready;
                    tally.ready += 1;
                }
                Packet::PingResp(_) => {}
                Packet::Disconnect(disconnect) => {
                    return Err(format!(
                        "the broker disconnected: {:?}",
                        disconnect.reason_code
                    ));
                }
                other => {
                    return Err(format!(
                        "unexpected {:?} from the broker",
                        other.packet_type()
                    ));
                }
            }
        }
        self.rbuf.copy_within(pos..self.rlen, 0);
        self.rlen -= pos;
        Ok(())
    }
}

/// Encodes messages into `wbuf` until it holds a batch, the QoS 1 window is full, the lag
/// bound is reached or the window of the run is over.
fn fill(
    publisher: &mut Publisher,
    wbuf: &mut Vec<u8>,
    settings: Settings,
    schedule: Schedule,
    shared: &Shared,
    tally: &mut Tally,
) -> Result<(), String> {
    let mut allowed = shared.allowance(publisher.id, publisher.sent);
    if settings.rate != 0 {
        // Paced: what the rate allows since the start, less what was sent.
        let elapsed = shared.now().saturating_sub(schedule.start);
        let due = (u128::from(elapsed) * u128::from(settings.rate) / 1_000_000_000) as u64;
        allowed = allowed.min(due.saturating_sub(publisher.sent));
    }
    let mut encoded = 0;
    while wbuf.len() < BATCH && encoded < allowed {
        encoded += 1;
        let now = shared.now();
        if now >= schedule.window_end {
            break;
        }
        let delivery = if settings.qos == QoS::AtMostOnce {
            Delivery::AtMostOnce
        } else {
            let Some(id) = publisher.free_ids.pop() else {
                break;
            };
            publisher.seq_by_id[usize::from(id)] = publisher.sent;
            // Ids are 1..=window, never 0.
            let id = PacketId::new(id).ok_or("packet id 0")?;
            Delivery::new(settings.qos, id)
        };
        Stamp {
            publisher: publisher.id,
            seq: publisher.sent,
            sent_ns: now,
        }
        .write(&mut publisher.payload);
        // Checked for every message (a few nanoseconds for a short name): a name kept across
        // messages would have to borrow as long as the payload buffer, which each message
        // writes to.
        let topic = TopicName::<&[u8]>::new(publisher.topic.as_str())
            .map_err(|error| format!("topic {}: {error}", publisher.topic))?;
        let mut publish = Publish::new(topic, publisher.payload.as_slice());
        publish.delivery = delivery;
        publish
            .encode(settings.version, wbuf)
            .map_err(|error| format!("encode PUBLISH: {error}"))?;
        publisher.sent += 1;
        tally.sent += 1;
        if schedule.contains(now) {
            publisher.sent_in_window += 1;
        }
    }
    Ok(())
}

/// Counts a message a subscriber received.
fn receive(
    subscriber: &mut Subscriber,
    publish: &Publish<&[u8]>,
    now: u64,
    schedule: Option<Schedule>,
    shared: &Shared,
    tally: &mut Tally,
) {
    subscriber.received += 1;
    let Some(stamp) = Stamp::read(publish.payload) else {
        subscriber.tracker.record_foreign();
        return;
    };
    if subscriber.tracker.record(stamp.publisher, stamp.seq) {
        tally.unique += 1;
    }
    if let Some(highest) = subscriber.highest.get_mut(stamp.publisher as usize)
        && stamp.seq >= *highest
    {
        *highest = stamp.seq + 1;
        shared.advance(subscriber.index, stamp.publisher, stamp.seq);
    }
    if schedule.is_some_and(|schedule| schedule.contains(now)) {
        subscriber.received_in_window += 1;
        subscriber.latency.record(now.saturating_sub(stamp.sent_ns));
    }
}

/// An I/O error for a value the codec refused.
fn invalid(error: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, error.to_string())
}
