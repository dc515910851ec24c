//! One accepted connection's byte stream, whatever carries it: plain TCP, TLS, WebSocket or
//! WebSocket over TLS. The event loop only sees MQTT bytes in and out, and a socket to
//! register with mio.
//!
//! This module and its two siblings, `tls.rs` and `websocket.rs`, sit side by side in the
//! module that includes them (the crate root of `examples/broker.rs` and of the transport
//! tests, the `broker_server` module of the tests that run the whole server) and name each
//! other as `super::tls`, `super::websocket` and `super::transport`, as the other files of
//! `examples/broker/` do.
//!
//! # Driving a transport from a mio loop
//!
//! - Register [`Transport::socket`] once, with `READABLE | WRITABLE` interest or with
//!   `READABLE` only and `WRITABLE` added while [`Transport::wants_write`] or the loop's own
//!   unwritten tail says so (mio is edge-triggered, so a standing `WRITABLE` interest costs
//!   one event per time the socket drains, not a busy loop).
//! - On a readable event, call [`Transport::read`] until it returns `WouldBlock` (or `Ok(0)`:
//!   the peer closed; or another error: close the connection). Handshakes advance here.
//! - To send, call [`Transport::write`]; it may take fewer bytes than offered, or none
//!   (`WouldBlock`): keep the rest and offer it again after the next writable event.
//! - On a writable event, and after each wake-up in which `wants_write()` became true, call
//!   [`Transport::flush`] first (it also advances a WebSocket handshake), then offer any tail.
//! - To close: [`Transport::close`] (best effort: a close_notify or a close frame), then drop.

// The example and the tests each use a part of this module.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::Arc;

use mio::net::TcpStream;

use super::tls::TlsStream;
use super::websocket::{WsConfig, WsStream};

/// A non-blocking byte stream under a WebSocket: plain TCP or TLS. Both give the socket to
/// register, say whether they still hold bytes for it, and know how to close politely.
pub(crate) trait ByteStream: Read + Write {
    /// The TCP socket under it, for mio registration.
    fn socket(&mut self) -> &mut TcpStream;
    /// Whether it still holds bytes of its own to put on the socket (TLS records).
    fn wants_write(&self) -> bool;
    /// Starts a graceful close of this layer (TLS close_notify; TCP: shuts down writing).
    fn close(&mut self);
}

impl ByteStream for TcpStream {
    fn socket(&mut self) -> &mut TcpStream {
        self
    }

    fn wants_write(&self) -> bool {
        false
    }

    fn close(&mut self) {
        // Best effort: the socket is dropped right after, which closes it anyway.
        let _ = self.shutdown(Shutdown::Write);
    }
}

/// One accepted connection's byte stream, non-blocking.
#[derive(Debug)]
pub(crate) enum Transport {
    /// MQTT straight over TCP.
    Tcp(TcpStream),
    /// MQTT over TLS.
    Tls(Box<TlsStream>),
    /// MQTT over WebSocket (`ws://`).
    WebSocket(Box<WsStream>),
    /// MQTT over WebSocket over TLS (`wss://`).
    SecureWebSocket(Box<WsStream<TlsStream>>),
}

impl Transport {
    /// A TLS server connection on an accepted socket (its handshake runs in `read`).
    pub(crate) fn tls(socket: TcpStream, config: Arc<rustls::ServerConfig>) -> io::Result<Self> {
        Ok(Self::Tls(Box::new(TlsStream::new(socket, config)?)))
    }

    /// A WebSocket server connection on an accepted socket (its handshake runs in `read`).
    pub(crate) fn websocket(socket: TcpStream, config: Arc<WsConfig>) -> Self {
        Self::WebSocket(Box::new(WsStream::new(socket, config)))
    }

    /// A WebSocket server connection over TLS on an accepted socket.
    pub(crate) fn secure_websocket(
        socket: TcpStream,
        tls: Arc<rustls::ServerConfig>,
        config: Arc<WsConfig>,
    ) -> io::Result<Self> {
        let stream = TlsStream::new(socket, tls)?;
        Ok(Self::SecureWebSocket(Box::new(WsStream::new(
            stream, config,
        ))))
    }

    /// Whether it is plain TCP: a read that comes up short emptied the socket (TLS and
    /// WebSocket hand out one record or message per read, so they are read to `WouldBlock`).
    pub(crate) fn is_tcp(&self) -> bool {
        matches!(self, Self::Tcp(_))
    }

    /// The TCP socket under the transport, for mio registration.
    pub(crate) fn socket(&mut self) -> &mut TcpStream {
        match self {
            Self::Tcp(s) => s,
            Self::Tls(s) => s.socket(),
            Self::WebSocket(s) => s.socket(),
            Self::SecureWebSocket(s) => s.socket(),
        }
    }

    /// Reads MQTT bytes (TLS plaintext, WebSocket binary payloads) into `buf`: `Ok(0)` = the
    /// peer closed; `Err(WouldBlock)` = nothing now; another error = close the connection.
    /// Drives handshakes internally.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
            Self::WebSocket(s) => s.read(buf),
            Self::SecureWebSocket(s) => s.read(buf),
        }
    }

    /// Takes MQTT bytes to send; may take fewer, and gives `WouldBlock` when it took none.
    pub(crate) fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write(data),
            Self::Tls(s) => s.write(data),
            Self::WebSocket(s) => s.write(data),
            Self::SecureWebSocket(s) => s.write(data),
        }
    }

    /// Whether the transport itself still has bytes to put on the socket (TLS records,
    /// WebSocket frames, handshake replies): keep `WRITABLE` interest and call
    /// [`flush`](Self::flush) while this is true.
    pub(crate) fn wants_write(&self) -> bool {
        match self {
            Self::Tcp(_) => false,
            Self::Tls(s) => s.wants_write(),
            Self::WebSocket(s) => s.wants_write(),
            Self::SecureWebSocket(s) => s.wants_write(),
        }
    }

    /// Puts the transport's own pending bytes on the socket: `Ok` when none are left,
    /// `WouldBlock` when the socket is full.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Tcp(_) => Ok(()),
            Self::Tls(s) => s.flush(),
            Self::WebSocket(s) => s.flush(),
            Self::SecureWebSocket(s) => s.flush(),
        }
    }

    /// Starts a graceful close (TLS close_notify, WebSocket close frame), best effort.
    pub(crate) fn close(&mut self) {
        match self {
            Self::Tcp(s) => ByteStream::close(s),
            Self::Tls(s) => ByteStream::close(&mut **s),
            Self::WebSocket(s) => s.close(),
            Self::SecureWebSocket(s) => s.close(),
        }
    }
}
