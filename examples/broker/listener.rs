//! The transports the broker listens on: what `-l` names, the listening socket, and the
//! stream of one connection.
//!
//! Only plain TCP exists for now. The types are shaped for more kinds beside it: TLS (rustls
//! over the same TCP socket) and WebSocket (tungstenite framing MQTT in binary messages) would
//! each be a [`ListenerKind`], a [`Stream`] variant that holds its session state (boxed, so
//! that an idle TCP connection stays the size of a file descriptor), and the arms of
//! [`Stream`]'s `Read`, `Write` and `Source` that go through it. The event loop sees only
//! `Read`, `Write` and `Source`, so it needs no change for them.

// The example and the tests each use a part of this module.
#![allow(dead_code)]

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};

use mio::event::Source;
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};

/// A transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListenerKind {
    /// MQTT straight over TCP.
    Tcp,
}

impl fmt::Display for ListenerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp => f.write_str("tcp"),
        }
    }
}

/// One `-l`: a transport and the address to listen on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ListenerSpec {
    /// The transport.
    pub(crate) kind: ListenerKind,
    /// The address; port 0 lets the system choose (the tests do).
    pub(crate) addr: SocketAddr,
}

/// A listening socket.
#[derive(Debug)]
pub(crate) struct Listener {
    kind: ListenerKind,
    socket: TcpListener,
}

impl Listener {
    /// Binds what `spec` names.
    pub(crate) fn bind(spec: ListenerSpec) -> io::Result<Self> {
        let socket = TcpListener::bind(spec.addr)?;
        Ok(Self {
            kind: spec.kind,
            socket,
        })
    }

    /// The transport.
    pub(crate) fn kind(&self) -> ListenerKind {
        self.kind
    }

    /// The address bound (with the port the system chose for port 0).
    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The next connection waiting, or `WouldBlock`. The stream is set up for MQTT: Nagle's
    /// algorithm off, since the loop already writes a wake-up's packets in one write.
    pub(crate) fn accept(&self) -> io::Result<(Stream, SocketAddr)> {
        let (stream, peer) = self.socket.accept()?;
        // A stream that keeps Nagle's algorithm only answers later; no reason to refuse it.
        let _ = stream.set_nodelay(true);
        Ok((Stream::Tcp(stream), peer))
    }

    /// Registers the socket for new connections.
    pub(crate) fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(&mut self.socket, token, Interest::READABLE)
    }
}

/// One connection's byte stream, whatever the transport.
#[derive(Debug)]
pub(crate) enum Stream {
    /// Plain TCP.
    Tcp(TcpStream),
}

impl Stream {
    /// Ends the sending side after the last bytes written, so that the peer reads them before
    /// it sees the end of the stream.
    pub(crate) fn shutdown_write(&self) {
        match self {
            // A socket the peer already reset cannot be shut down; it is closed next anyway.
            Self::Tcp(stream) => {
                let _ = stream.shutdown(Shutdown::Write);
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(stream) => stream.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.flush(),
        }
    }
}

impl Source for Stream {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.register(registry, token, interests),
        }
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.reregister(registry, token, interests),
        }
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.deregister(registry),
        }
    }
}
