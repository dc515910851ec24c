//! The listeners the broker opens: what `-l` names ([`ListenerSpec`]), the listening socket
//! ([`Listener`]), and the [`Transport`] each accepted connection gets: plain TCP, TLS,
//! WebSocket or WebSocket over TLS.
//!
//! A TCP connection is a bare [`mio::net::TcpStream`] inside [`Transport::Tcp`]; the other
//! transports keep their session state behind one box, so that an idle TCP connection costs
//! no more than its socket.

// The example and the tests each use a part of this module.
#![allow(dead_code)]

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use mio::net::TcpListener;
use mio::{Interest, Registry, Token};

use super::transport::Transport;
use super::websocket::WsConfig;

/// The WebSocket path served when `-l ws://ADDR:PORT` names none, as mosquitto's clients and
/// MQTT.js expect.
pub(crate) const DEFAULT_WS_PATH: &str = "/mqtt";

/// A transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListenerKind {
    /// MQTT straight over TCP (`tcp://`, or no scheme).
    Tcp,
    /// MQTT over TLS (`tls://`).
    Tls,
    /// MQTT over WebSocket (`ws://`).
    WebSocket,
    /// MQTT over WebSocket over TLS (`wss://`).
    SecureWebSocket,
}

impl ListenerKind {
    /// Whether it needs `--tls-cert` and `--tls-key`.
    pub(crate) fn uses_tls(self) -> bool {
        matches!(self, Self::Tls | Self::SecureWebSocket)
    }

    /// Whether it speaks WebSocket (and so has a path).
    pub(crate) fn uses_websocket(self) -> bool {
        matches!(self, Self::WebSocket | Self::SecureWebSocket)
    }
}

impl fmt::Display for ListenerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tcp => "tcp",
            Self::Tls => "tls",
            Self::WebSocket => "ws",
            Self::SecureWebSocket => "wss",
        })
    }
}

/// One `-l`: a transport, the address to listen on and, for WebSocket, the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ListenerSpec {
    /// The transport.
    pub(crate) kind: ListenerKind,
    /// The address; port 0 lets the system choose (the tests do).
    pub(crate) addr: SocketAddr,
    /// The only path upgraded to WebSocket (`ws://` and `wss://`; empty for the others).
    pub(crate) path: String,
}

impl ListenerSpec {
    /// A plain TCP listener on `addr`.
    pub(crate) fn tcp(addr: SocketAddr) -> Self {
        Self {
            kind: ListenerKind::Tcp,
            addr,
            path: String::new(),
        }
    }
}

impl fmt::Display for ListenerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.kind, self.addr, self.path)
    }
}

/// A listening socket and what its connections are set up with.
#[derive(Debug)]
pub(crate) struct Listener {
    kind: ListenerKind,
    socket: TcpListener,
    /// The server's TLS settings (`tls://`, `wss://`).
    tls: Option<Arc<rustls::ServerConfig>>,
    /// The WebSocket settings (`ws://`, `wss://`).
    websocket: Option<Arc<WsConfig>>,
}

impl Listener {
    /// Binds what `spec` names. `tls` is the server's TLS configuration, required by `tls://`
    /// and `wss://`; `max_packet_size` bounds WebSocket messages.
    pub(crate) fn bind(
        spec: &ListenerSpec,
        tls: Option<&Arc<rustls::ServerConfig>>,
        max_packet_size: u32,
    ) -> io::Result<Self> {
        let tls = if spec.kind.uses_tls() {
            let Some(tls) = tls else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a TLS listener needs --tls-cert and --tls-key",
                ));
            };
            Some(Arc::clone(tls))
        } else {
            None
        };
        let websocket = spec.kind.uses_websocket().then(|| {
            Arc::new(WsConfig {
                path: spec.path.clone(),
                ..WsConfig::new(max_packet_size)
            })
        });
        let socket = TcpListener::bind(spec.addr)?;
        Ok(Self {
            kind: spec.kind,
            socket,
            tls,
            websocket,
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

    /// The next connection waiting, or `WouldBlock`. The socket is set up for MQTT: Nagle's
    /// algorithm off, since the loop already writes a wake-up's packets in one write. A
    /// connection whose TLS session cannot be set up is reported as `ConnectionAborted`:
    /// it is lost, the listener is fine.
    pub(crate) fn accept(&self) -> io::Result<(Transport, SocketAddr)> {
        let (socket, peer) = self.socket.accept()?;
        // A socket that keeps Nagle's algorithm only answers later; no reason to refuse it.
        let _ = socket.set_nodelay(true);
        let aborted = |e: io::Error| io::Error::new(io::ErrorKind::ConnectionAborted, e);
        let transport = match (self.kind, &self.tls, &self.websocket) {
            (ListenerKind::Tls, Some(tls), _) => {
                Transport::tls(socket, Arc::clone(tls)).map_err(aborted)?
            }
            (ListenerKind::WebSocket, _, Some(ws)) => Transport::websocket(socket, Arc::clone(ws)),
            (ListenerKind::SecureWebSocket, Some(tls), Some(ws)) => {
                Transport::secure_websocket(socket, Arc::clone(tls), Arc::clone(ws))
                    .map_err(aborted)?
            }
            // `bind` set up what each kind needs, so only plain TCP gets here.
            _ => Transport::Tcp(socket),
        };
        Ok((transport, peer))
    }

    /// Registers the socket for new connections.
    pub(crate) fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(&mut self.socket, token, Interest::READABLE)
    }
}
