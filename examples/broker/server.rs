//! The event loop: one thread, mio, and the broker core in the middle.
//!
//! Each wake-up of [`Server::run`]:
//!
//! 1. `poll` sleeps until a socket is ready, a signal or [`Shutdown::stop`] wakes it, or the
//!    earliest deadline passes: the core's [`poll_timeout`](mqtt_sansio::Broker::poll_timeout),
//!    the next `$SYS` publication, the next autosave, a closing socket's linger.
//! 2. Each listener accepts until it has no more; each readable socket is read into the one
//!    shared read buffer and handed to [`Broker::handle_data`] (a TCP socket until a short
//!    read, TLS and WebSocket until `WouldBlock`); each writable socket flushes its
//!    transport's own bytes (TLS records, WebSocket frames, a handshake reply), then writes
//!    its tail.
//! 3. Due timers fire: [`Broker::handle_timeout`], `$SYS`, autosave.
//! 4. [`Broker::poll_transmit`] is drained into the one shared write buffer, each block
//!    written to its socket at once (over TCP one write per socket per 64 KiB); whatever a
//!    socket does not take becomes its tail, and only while a tail or the transport's own
//!    bytes wait does the socket ask for WRITABLE. Then
//!    [`Broker::poll_event`] is drained: CONNECTs answered, closing sockets marked (closed once
//!    their last bytes are out). Answers queue bytes: back to the start of this step until
//!    the core has nothing left to say.
//!
//! Nothing here allocates per message: the buffers are the server's, and a TCP connection
//! owns heap memory only while it has an unwritten tail (TLS and WebSocket connections also
//! own their session's buffers, in `tls.rs` and `websocket.rs`).

// The example and the tests each use a part of this module.
#![allow(dead_code)]

use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as StdInstant};

use mio::{Events, Interest, Poll, Token, Waker};
use mqtt_sansio::broker::{ConnectionHandle, SHARED_PAYLOADS_MAX, SharedPayload, Stats};
use mqtt_sansio::{Broker, Instant};

use super::acl::Acl;
use super::admission::Admission;
use super::args::Options;
use super::connections::Connections;
use super::listener::{Listener, ListenerKind};
// Also the path the log macros take from `sockets.rs`.
use super::log;
use super::log::{log_debug, log_error, log_info};
use super::password::Passwords;
use super::{persist, sys, tls};

#[path = "sockets.rs"]
mod sockets;

/// The shared read buffer.
const READ_BUFFER: usize = 64 * 1024;
/// The shared write buffer: what one `poll_transmit` may hand out for one connection.
const WRITE_BUFFER: usize = 64 * 1024;
/// Reads of one socket per wake-up, at most, so that one busy client cannot starve the
/// others; a socket with more to read is read again at the next wake-up, at once.
const READS_PER_WAKE: usize = 16;
/// How long a closing socket may take to accept its last bytes before it is closed anyway.
const CLOSE_LINGER: Duration = Duration::from_secs(5);
/// How long a graceful shutdown waits for every socket to take its last bytes.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long to wait before accepting again after `accept` failed (out of file descriptors).
const ACCEPT_RETRY: Duration = Duration::from_millis(100);
/// Readiness events taken per `poll`.
const EVENTS: usize = 1024;

/// The token of [`Shutdown`]'s waker.
const WAKER: Token = Token(usize::MAX);
/// The token of the signal source.
const SIGNALS: Token = Token(usize::MAX - 1);
/// The token of listener 0; connections use the tokens below.
const LISTENERS: usize = usize::MAX / 2;

/// Stops a running [`Server`] from another thread (or a test's guard).
#[derive(Clone, Debug)]
pub(crate) struct Shutdown {
    requested: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl Shutdown {
    /// Asks the server to stop gracefully; [`Server::run`] returns once it has.
    pub(crate) fn stop(&self) {
        self.requested.store(true, Ordering::SeqCst);
        // A server whose poll is gone has stopped already.
        let _ = self.waker.wake();
    }
}

/// The broker's clock: milliseconds since the server started.
#[derive(Clone, Copy, Debug)]
struct Clock(StdInstant);

impl Clock {
    /// Now, for the core.
    fn now(self) -> Instant {
        Instant::from_millis(u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// When the core's `at` comes, on the real clock.
    fn at(self, at: Instant) -> StdInstant {
        self.0 + Duration::from_millis(at.as_millis())
    }
}

/// A bound broker, ready to [`run`](Self::run).
pub(crate) struct Server {
    poll: Poll,
    listeners: Vec<Listener>,
    broker: Broker<Acl>,
    conns: Connections,
    admission: Admission,
    clock: Clock,
    read_buf: Box<[u8]>,
    write_buf: Box<[u8]>,
    /// The payloads the broker shares for the block in `write_buf` (reused: it keeps its
    /// capacity).
    payloads: Vec<SharedPayload>,
    /// Bytes a connection may leave unwritten before it counts as too slow and is closed.
    tail_limit: usize,
    persist: Option<PathBuf>,
    autosave: Option<Duration>,
    next_autosave: Option<Instant>,
    sys_interval: Option<Duration>,
    next_sys: Option<Instant>,
    requested: Arc<AtomicBool>,
    waker: Arc<Waker>,
    signals: Option<signal_hook_mio::v1_0::Signals>,
    stats: Option<Arc<Mutex<Stats>>>,
    /// Sockets that had more to read when their turn ended.
    read_again: Vec<usize>,
    /// Connections the broker closed, to close once the current drain is done.
    to_close: Vec<usize>,
    /// Closing connections still writing their tail, with their deadline.
    lingering: Vec<(Instant, usize, ConnectionHandle)>,
    /// When to try `accept` again after it failed.
    accept_retry: Option<Instant>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signal source has no `Debug`; the rest is too large to print usefully.
        f.debug_struct("Server")
            .field("listeners", &self.listeners)
            .field("connections", &self.conns.len())
            .field("stats", &self.broker.stats())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server as `options` say: its listeners bound, its state restored from `--persist`.
    pub(crate) fn new(options: &Options) -> Result<Self, String> {
        let passwords = options
            .password_file
            .as_deref()
            .map(|path| {
                let passwords = Passwords::load(path)
                    .map_err(|e| format!("--password-file {}: {e}", path.display()))?;
                log_info!("{} users from {}", passwords.len(), path.display());
                Ok::<_, String>(passwords)
            })
            .transpose()?;
        let acl = match &options.acl_file {
            Some(path) => {
                Acl::load(path).map_err(|e| format!("--acl-file {}: {e}", path.display()))?
            }
            None => Acl::allow_all(),
        };
        let mut config = options.broker.clone();
        // A random key for the session index, so that no client can pick colliding ids.
        config.hash_seed = RandomState::new().hash_one(0x6d71_7474_u64);
        let clock = Clock(StdInstant::now());
        let now = clock.now();
        let broker = match &options.persist {
            Some(path) => match persist::load(path) {
                Ok(Some(bytes)) => {
                    let broker = Broker::restore(config, acl, now, &bytes)
                        .map_err(|e| format!("--persist {}: {e}", path.display()))?;
                    let stats = broker.stats();
                    log_info!(
                        "restored {} sessions and {} retained messages from {}",
                        stats.sessions,
                        stats.retained,
                        path.display()
                    );
                    broker
                }
                Ok(None) => {
                    log_info!("{} does not exist: starting afresh", path.display());
                    Broker::with_policy(config, acl)
                }
                Err(e) => return Err(format!("--persist {}: {e}", path.display())),
            },
            None => Broker::with_policy(config, acl),
        };
        let poll = Poll::new().map_err(|e| format!("poll: {e}"))?;
        let waker = Waker::new(poll.registry(), WAKER).map_err(|e| format!("waker: {e}"))?;
        let tls = match (&options.tls_cert, &options.tls_key) {
            (Some(cert), Some(key)) if options.listeners.iter().any(|l| l.kind.uses_tls()) => Some(
                tls::server_config(cert, key).map_err(|e| format!("--tls-cert/--tls-key: {e}"))?,
            ),
            _ => None,
        };
        let mut listeners = Vec::with_capacity(options.listeners.len());
        for (index, spec) in options.listeners.iter().enumerate() {
            let mut listener = Listener::bind(spec, tls.as_ref(), options.broker.max_packet_size)
                .map_err(|e| format!("cannot listen on {spec}: {e}"))?;
            listener
                .register(poll.registry(), Token(LISTENERS + index))
                .map_err(|e| format!("cannot register {}: {e}", spec.addr))?;
            if let Ok(addr) = listener.local_addr() {
                log_info!("listening on {} {addr}", listener.kind());
            }
            listeners.push(listener);
        }
        let tail_limit = options
            .broker
            .max_queued_bytes
            .saturating_add(usize::try_from(options.broker.max_packet_size).unwrap_or(usize::MAX))
            .max(WRITE_BUFFER);
        Ok(Self {
            poll,
            listeners,
            broker,
            conns: Connections::default(),
            admission: Admission::new(passwords, options.allow_anonymous),
            clock,
            read_buf: vec![0; READ_BUFFER].into_boxed_slice(),
            write_buf: vec![0; WRITE_BUFFER].into_boxed_slice(),
            payloads: Vec::with_capacity(SHARED_PAYLOADS_MAX),
            tail_limit,
            persist: options.persist.clone(),
            autosave: options.autosave,
            next_autosave: options.autosave.map(|every| now.saturating_add(every)),
            sys_interval: options.sys_interval,
            // The first publication comes at once, so that `$SYS` is there from the start.
            next_sys: options.sys_interval.map(|_| now),
            requested: Arc::new(AtomicBool::new(false)),
            waker: Arc::new(waker),
            signals: None,
            stats: None,
            read_again: Vec::new(),
            to_close: Vec::new(),
            lingering: Vec::new(),
            accept_retry: None,
        })
    }

    /// The addresses bound, in `-l` order (with the ports the system chose for port 0).
    pub(crate) fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|listener| listener.local_addr().ok())
            .collect()
    }

    /// Each listener's transport and address, in `-l` order.
    pub(crate) fn bound(&self) -> Vec<(ListenerKind, SocketAddr)> {
        self.listeners
            .iter()
            .filter_map(|listener| Some((listener.kind(), listener.local_addr().ok()?)))
            .collect()
    }

    /// A handle that stops the server from elsewhere.
    pub(crate) fn shutdown_handle(&self) -> Shutdown {
        Shutdown {
            requested: Arc::clone(&self.requested),
            waker: Arc::clone(&self.waker),
        }
    }

    /// Stops gracefully on SIGINT and SIGTERM (the command line; tests use [`Shutdown`]).
    pub(crate) fn handle_signals(&mut self) -> Result<(), String> {
        let mut signals = signal_hook_mio::v1_0::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
        ])
        .map_err(|e| format!("signals: {e}"))?;
        self.poll
            .registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)
            .map_err(|e| format!("signals: {e}"))?;
        self.signals = Some(signals);
        Ok(())
    }

    /// The broker's counters, refreshed after every wake-up (for tests that wait for a
    /// subscription to be in place).
    pub(crate) fn stats(&mut self) -> Arc<Mutex<Stats>> {
        Arc::clone(
            self.stats
                .get_or_insert_with(|| Arc::new(Mutex::new(self.broker.stats()))),
        )
    }

    /// Runs until a signal or [`Shutdown::stop`], then stops gracefully: DISCONNECT Server
    /// shutting down to 5.0 clients, every socket flushed (within [`SHUTDOWN_GRACE`]) and
    /// closed, the snapshot written.
    pub(crate) fn run(mut self) -> Result<(), String> {
        let mut events = Events::with_capacity(EVENTS);
        loop {
            let timeout = self.poll_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(format!("poll: {e}"));
            }
            let now = self.clock.now();
            let mut stopping = self.requested.load(Ordering::SeqCst);
            for token in std::mem::take(&mut self.read_again) {
                self.read_ready(token, now, false);
            }
            for event in &events {
                match event.token() {
                    WAKER => stopping |= self.requested.load(Ordering::SeqCst),
                    SIGNALS => stopping |= self.take_signals(),
                    Token(token) if token >= LISTENERS => self.accept_all(token - LISTENERS, now),
                    Token(token) => {
                        if event.is_writable() {
                            self.write_ready(token, now);
                        }
                        if event.is_readable() || event.is_read_closed() || event.is_error() {
                            let drain = event.is_read_closed() || event.is_error();
                            self.read_ready(token, now, drain);
                        }
                    }
                }
            }
            self.fire_timers(now);
            self.pump(now);
            self.publish_stats();
            if stopping {
                break;
            }
        }
        self.shutdown(&mut events)
    }

    /// How long `poll` may sleep: until the earliest deadline, or not at all when sockets
    /// wait to be read again.
    fn poll_timeout(&self) -> Option<Duration> {
        if !self.read_again.is_empty() {
            return Some(Duration::ZERO);
        }
        let deadlines = [
            self.broker.poll_timeout(),
            self.next_sys,
            self.next_autosave,
            self.accept_retry,
            self.lingering.iter().map(|&(at, _, _)| at).min(),
        ];
        let earliest = deadlines.into_iter().flatten().min()?;
        // mio rounds up to the next millisecond, so the core's clock has reached `earliest`
        // when poll returns.
        Some(
            self.clock
                .at(earliest)
                .saturating_duration_since(StdInstant::now()),
        )
    }

    /// Whether SIGINT or SIGTERM arrived.
    fn take_signals(&mut self) -> bool {
        let Some(signals) = &mut self.signals else {
            return false;
        };
        let mut any = false;
        for signal in signals.pending() {
            let name = match signal {
                signal_hook::consts::SIGINT => "SIGINT",
                _ => "SIGTERM",
            };
            log_info!("{name} received: shutting down");
            any = true;
        }
        any
    }

    /// Calls the core's timer, `$SYS` and autosave when due, and closes lingering sockets
    /// whose time is up.
    fn fire_timers(&mut self, now: Instant) {
        if self.broker.poll_timeout().is_some_and(|at| at <= now) {
            self.broker.handle_timeout(now);
        }
        if let (Some(at), Some(every)) = (self.next_sys, self.sys_interval)
            && at <= now
        {
            sys::publish(&mut self.broker, now);
            self.next_sys = Some(now.saturating_add(every));
        }
        if let (Some(at), Some(every)) = (self.next_autosave, self.autosave)
            && at <= now
        {
            // An autosave that fails is logged and tried again at the next interval.
            let _ = self.save(now);
            self.next_autosave = Some(now.saturating_add(every));
        }
        if self.accept_retry.is_some_and(|at| at <= now) {
            self.accept_retry = None;
            for index in 0..self.listeners.len() {
                self.accept_all(index, now);
            }
        }
        if self.lingering.iter().any(|&(at, _, _)| at <= now) {
            let (due, waiting) = std::mem::take(&mut self.lingering)
                .into_iter()
                .partition(|&(at, _, _)| at <= now);
            self.lingering = waiting;
            for (_, token, handle) in due {
                if self.conns.token(handle) == Some(token) {
                    log_debug!("closing a connection that did not take its last bytes");
                    self.drop_conn(token, now);
                }
            }
        }
    }

    /// Refreshes the counters a test may be watching.
    fn publish_stats(&self) {
        if let Some(stats) = &self.stats
            && let Ok(mut stats) = stats.lock()
        {
            *stats = self.broker.stats();
        }
    }

    /// Writes the snapshot to `--persist`, if given.
    fn save(&self, now: Instant) -> Result<(), String> {
        let Some(path) = &self.persist else {
            return Ok(());
        };
        let bytes = self
            .broker
            .snapshot(now)
            .map_err(|e| format!("snapshot: {e}"))?;
        match persist::save(path, &bytes) {
            Ok(()) => {
                log_debug!("wrote {} bytes to {}", bytes.len(), path.display());
                Ok(())
            }
            Err(e) => {
                let message = format!("cannot write {}: {e}", path.display());
                log_error!("{message}");
                Err(message)
            }
        }
    }

    /// The graceful stop: DISCONNECT to 5.0 clients, every socket flushed within
    /// [`SHUTDOWN_GRACE`] and closed, the snapshot written.
    fn shutdown(mut self, events: &mut Events) -> Result<(), String> {
        let now = self.clock.now();
        log_info!("stopping: {} connections to close", self.conns.len());
        // No new connections.
        self.listeners.clear();
        self.read_again.clear();
        self.broker.shutdown(now);
        self.pump(now);
        let until = StdInstant::now() + SHUTDOWN_GRACE;
        while self.conns.any_unsent() {
            let left = until.saturating_duration_since(StdInstant::now());
            if left.is_zero() {
                break;
            }
            if let Err(e) = self.poll.poll(events, Some(left))
                && e.kind() != io::ErrorKind::Interrupted
            {
                break;
            }
            let now = self.clock.now();
            for event in events.iter() {
                let Token(token) = event.token();
                if token < LISTENERS && (event.is_writable() || event.is_error()) {
                    self.write_ready(token, now);
                }
            }
        }
        let now = self.clock.now();
        for token in self.conns.tokens() {
            self.close_now(token, now);
        }
        // Closing can release wills; nobody is connected to take their bytes.
        self.pump(now);
        if self.persist.is_some() {
            self.save(now)?;
            if let Some(path) = &self.persist {
                log_info!("state written to {}", path.display());
            }
        }
        log_info!("stopped");
        Ok(())
    }
}
