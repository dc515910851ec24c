//! What the broker example's transport tests share: a connected loopback pair, a small mio
//! loop driving one [`Transport`] on the server side (optionally with the real
//! [`Broker`] behind it), and a peer thread for the client side that is always stopped.
//!
//! The server side is driven as the example's event loop drives it: the socket registered
//! once for `READABLE | WRITABLE`, and on each wake-up `flush` while `wants_write`, `read`
//! until `WouldBlock`, then the broker's output offered to `write`, keeping a tail.

// Each test file uses a part of this module.
#![allow(dead_code)]

use std::io::{self, ErrorKind};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant as StdInstant};

use mio::{Events, Interest, Poll, Token};
use mqtt_sansio::broker::ConnectionHandle;
use mqtt_sansio::{Broker, BrokerConfig, Instant};

use crate::transport::Transport;

/// How long any one test step may take before the test fails.
pub(crate) const STEP: Duration = Duration::from_secs(10);

/// A 3.1.1 CONNECT: clean session, keep-alive 60 s, client id "a".
pub(crate) const CONNECT: [u8; 15] = [
    0x10, 0x0D, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, b'a',
];
/// The broker's answer to [`CONNECT`]: session not present, accepted.
pub(crate) const CONNACK: [u8; 4] = [0x20, 0x02, 0x00, 0x00];
/// A PINGREQ.
pub(crate) const PINGREQ: [u8; 2] = [0xC0, 0x00];
/// The answer to [`PINGREQ`].
pub(crate) const PINGRESP: [u8; 2] = [0xD0, 0x00];

/// A fixture file of `tests/fixtures/broker/`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/broker")
        .join(name)
}

/// A connected loopback pair: the client's blocking socket (with [`STEP`] as its timeouts)
/// and the server's non-blocking one.
pub(crate) fn pair() -> (TcpStream, mio::net::TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("address")).expect("connect");
    client.set_read_timeout(Some(STEP)).expect("timeout");
    client.set_write_timeout(Some(STEP)).expect("timeout");
    let (server, _) = listener.accept().expect("accept");
    server.set_nonblocking(true).expect("non-blocking");
    (client, mio::net::TcpStream::from_std(server))
}

/// The client side, run on its own thread; dropping it shuts its socket down and joins it.
pub(crate) struct Peer<T> {
    /// A handle on the client's socket, to unblock it.
    socket: TcpStream,
    /// The thread, until joined.
    thread: Option<JoinHandle<T>>,
}

impl<T: Send + 'static> Peer<T> {
    /// Runs `script` on `socket` on a new thread.
    pub(crate) fn spawn(
        socket: TcpStream,
        script: impl FnOnce(TcpStream) -> T + Send + 'static,
    ) -> Self {
        let handle = socket.try_clone().expect("clone the client socket");
        Self {
            socket: handle,
            thread: Some(thread::spawn(move || script(socket))),
        }
    }

    /// Waits for the script's result (each of its reads and writes is bounded by [`STEP`]).
    pub(crate) fn join(mut self) -> T {
        let thread = self.thread.take().expect("joined once");
        thread.join().expect("the client thread panicked")
    }
}

impl<T> Drop for Peer<T> {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = self.socket.shutdown(Shutdown::Both);
            let _ = thread.join();
        }
    }
}

/// How the server side's connection ended.
#[derive(Debug)]
pub(crate) enum End {
    /// `read` gave `Ok(0)`.
    Closed,
    /// `read`, `write` or `flush` gave this error.
    Failed(io::Error),
}

/// The server side: one transport in a small mio loop, and optionally a broker behind it.
pub(crate) struct Server {
    /// The poll the socket is registered with.
    poll: Poll,
    /// Its events.
    events: Events,
    /// The transport under test.
    pub(crate) transport: Transport,
    /// Every MQTT byte read so far.
    pub(crate) received: Vec<u8>,
    /// How the connection ended, once it did.
    pub(crate) end: Option<End>,
    /// The broker and this connection's handle in it.
    broker: Option<(Broker, ConnectionHandle)>,
    /// How much of `received` the broker has been given.
    fed: usize,
    /// Broker output the transport did not take yet.
    tail: Vec<u8>,
}

impl Server {
    /// Registers `transport`'s socket for both directions.
    pub(crate) fn new(mut transport: Transport) -> Self {
        let poll = Poll::new().expect("poll");
        poll.registry()
            .register(
                transport.socket(),
                Token(0),
                Interest::READABLE | Interest::WRITABLE,
            )
            .expect("register");
        Self {
            poll,
            events: Events::with_capacity(8),
            transport,
            received: Vec::new(),
            end: None,
            broker: None,
            fed: 0,
            tail: Vec::new(),
        }
    }

    /// The same, with a default [`Broker`] behind the transport.
    pub(crate) fn with_broker(transport: Transport) -> Self {
        let mut server = Self::new(transport);
        let mut broker = Broker::new(BrokerConfig::default());
        let handle = broker.accept(Instant::from_millis(0)).expect("accept");
        server.broker = Some((broker, handle));
        server
    }

    /// One wake-up of the loop: wait for readiness (at most 100 ms), flush, read until
    /// `WouldBlock`, then hand the broker's output to the transport.
    pub(crate) fn turn(&mut self) {
        self.poll
            .poll(&mut self.events, Some(Duration::from_millis(100)))
            .expect("poll");
        if self.end.is_some() {
            return;
        }
        if self.transport.wants_write()
            && let Err(e) = self.transport.flush()
            && e.kind() != ErrorKind::WouldBlock
        {
            self.end = Some(End::Failed(e));
            return;
        }
        let mut buf = [0; 4096];
        loop {
            match self.transport.read(&mut buf) {
                Ok(0) => {
                    self.end = Some(End::Closed);
                    return;
                }
                Ok(n) => self.received.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    self.end = Some(End::Failed(e));
                    return;
                }
            }
        }
        if let Some((broker, handle)) = &mut self.broker {
            let now = Instant::from_millis(0);
            broker.handle_data(now, *handle, &self.received[self.fed..]);
            self.fed = self.received.len();
            let mut out = [0; 4096];
            while let Some(transmit) = broker.poll_transmit(&mut out) {
                self.tail.extend_from_slice(&out[..transmit.len]);
            }
        }
        while !self.tail.is_empty() {
            match self.transport.write(&self.tail) {
                Ok(n) => drop(self.tail.drain(..n)),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    self.end = Some(End::Failed(e));
                    return;
                }
            }
        }
    }

    /// Turns the loop until `done` holds, failing the test after [`STEP`].
    pub(crate) fn until(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = StdInstant::now() + STEP;
        while !done(self) {
            assert!(
                StdInstant::now() < deadline,
                "timed out waiting for {what}; {:?}",
                self.end
            );
            self.turn();
        }
    }

    /// Turns the loop until everything written has left the transport.
    pub(crate) fn until_sent(&mut self) {
        self.until("the writes to leave", |s| {
            s.end.is_some() || (s.tail.is_empty() && !s.transport.wants_write())
        });
    }
}
