//! MQTT over WebSocket for the broker example, as browsers and MQTT.js speak it (MQTT 5.0 §6,
//! 3.1.1 §6): [`WsStream`], a tungstenite server connection over a non-blocking stream (TCP,
//! or TLS for `wss://`), and its settings, [`WsConfig`].
//!
//! - The upgrade is accepted on one path only (default `/mqtt`); any other gets HTTP 404.
//! - The subprotocol `mqtt` is selected when offered (the old `mqttv3.1` when only it is); a
//!   client that offers neither is served without one (it may then close, as RFC 6455 lets it).
//! - Only binary messages carry MQTT; their payloads are passed on as a byte stream, so one
//!   packet may span messages and one message may hold several packets. A text message is a
//!   protocol error: the connection is closed with code 1003 (unsupported data).
//! - Ping and close frames are answered by tungstenite. Incoming messages and frames are
//!   bounded by [`WsConfig::max_message_size`].
//! - Each `write` goes out as one binary message; `write` refuses (`WouldBlock`) while a
//!   previous message still waits for the socket, so at most one message is buffered.

// The example and the tests each use a part of this module.
#![allow(dead_code)]

use std::io::{self, ErrorKind, Read, Write};
use std::mem;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use mio::net::TcpStream;
use tungstenite::error::{CapacityError, ProtocolError};
use tungstenite::handshake::server::{Callback, ErrorResponse, Request, Response, ServerHandshake};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::http::{HeaderValue, StatusCode, header};
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Error, Message, WebSocket};

use super::transport::ByteStream;

/// The subprotocols served, in order of preference: MQTT's registered name, then the one
/// MQTT 3.1 clients used.
const SUBPROTOCOLS: [&str; 2] = ["mqtt", "mqttv3.1"];

/// Room beside one message in the write buffer, for a pong or close frame queued meanwhile.
const CONTROL_ROOM: usize = 1024;

/// Settings of the WebSocket listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WsConfig {
    /// The only request path upgraded (`/mqtt` by default); others get 404.
    pub(crate) path: String,
    /// The largest incoming message and frame payload, and the largest outgoing message (a
    /// longer `write` is cut to it).
    pub(crate) max_message_size: usize,
    /// The read buffer tungstenite keeps per connection (it grows to the frame being read).
    pub(crate) read_buffer_size: usize,
}

impl WsConfig {
    /// Defaults for a broker whose maximum packet size is `max_packet_size`: path `/mqtt`,
    /// messages up to that size plus 64 KiB (a few more packets beside the largest one), 4 KiB
    /// read buffer.
    pub(crate) fn new(max_packet_size: u32) -> Self {
        Self {
            path: "/mqtt".to_owned(),
            max_message_size: usize::try_from(max_packet_size)
                .unwrap_or(usize::MAX)
                .saturating_add(64 * 1024),
            read_buffer_size: 4 * 1024,
        }
    }

    /// tungstenite's settings for these.
    fn tungstenite(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_size)
            // Every message is written as soon as it is framed: the driver already writes
            // once per socket per wake-up.
            .write_buffer_size(0)
            .max_write_buffer_size(self.max_message_size.saturating_add(CONTROL_ROOM))
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_message_size))
    }
}

/// A WebSocket server connection over a non-blocking stream `S`: MQTT bytes in and out.
///
/// The HTTP upgrade runs on bytes this type reads and writes itself (tungstenite parses the
/// request and writes the reply into memory), so the stream is never lost: even a refused or
/// failed upgrade keeps its socket until the `WsStream` is dropped.
pub(crate) struct WsStream<S: ByteStream = TcpStream> {
    /// Where the connection is in its life.
    conn: Conn<S>,
    /// The part of the last binary message not yet handed to `read`.
    pending: Bytes,
    /// The upgrade's reply (101 or 404) not yet on the stream; goes before any frame.
    reply: Vec<u8>,
    /// The limits.
    config: Arc<WsConfig>,
}

/// The life of a [`WsStream`].
enum Conn<S: ByteStream> {
    /// The HTTP upgrade is under way; `mid` is `None` only inside [`WsStream::upgrade`].
    Upgrading {
        /// The stream, untouched by tungstenite.
        stream: S,
        /// tungstenite's handshake, fed through memory.
        mid: Option<MidHandshake<ServerHandshake<Upgrade, Negotiate>>>,
    },
    /// Messages flow (or flowed: tungstenite knows when the close handshake is over).
    Open(WebSocket<Watched<S>>),
    /// The upgrade failed or was refused: only the reply, if any, is still sent.
    Refused(S),
    /// Only inside [`WsStream::upgrade`], between two of the states above.
    Moving,
}

impl<S: ByteStream> Conn<S> {
    /// The stream under the WebSocket.
    fn stream_mut(&mut self) -> &mut S {
        match self {
            Self::Upgrading { stream, .. } | Self::Refused(stream) => stream,
            Self::Open(ws) => &mut ws.get_mut().inner,
            // `Moving` lasts only within one step of `WsStream::upgrade`, which calls nothing
            // that gets here meanwhile.
            Self::Moving => unreachable!("a WsStream's stream asked for during an upgrade step"),
        }
    }
}

impl<S: ByteStream> std::fmt::Debug for WsStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.conn {
            Conn::Upgrading { .. } => "upgrading",
            Conn::Open(_) => "open",
            Conn::Refused(_) => "refused",
            Conn::Moving => "moving",
        };
        f.debug_struct("WsStream")
            .field("state", &state)
            .field("pending", &self.pending.len())
            .field("reply", &self.reply.len())
            .finish_non_exhaustive()
    }
}

impl<S: ByteStream> WsStream<S> {
    /// A server connection on an accepted stream; the upgrade starts on the first `read`.
    pub(crate) fn new(stream: S, config: Arc<WsConfig>) -> Self {
        let negotiate = Negotiate {
            path: config.path.clone(),
        };
        let mid = ServerHandshake::start(Upgrade::default(), negotiate, Some(config.tungstenite()));
        Self {
            conn: Conn::Upgrading {
                stream,
                mid: Some(mid),
            },
            pending: Bytes::new(),
            reply: Vec::new(),
            config,
        }
    }

    /// The TCP socket under it, for mio registration.
    pub(crate) fn socket(&mut self) -> &mut TcpStream {
        self.conn.stream_mut().socket()
    }

    /// Whether the upgrade is over and messages flow.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.conn, Conn::Open(_))
    }

    /// Writes what is left of the upgrade's reply: `Ok` once all of it is out.
    fn send_reply(&mut self) -> io::Result<()> {
        while !self.reply.is_empty() {
            let n = self.conn.stream_mut().write(&self.reply)?;
            if n == 0 {
                return Err(ErrorKind::WriteZero.into());
            }
            self.reply.drain(..n);
        }
        Ok(())
    }

    /// Advances the upgrade: `Ok` once open, `WouldBlock` while the request is incomplete,
    /// `UnexpectedEof` when the peer left, another error when it failed (the refusal, e.g.
    /// the 404, is then on its way).
    fn upgrade(&mut self) -> io::Result<()> {
        loop {
            let Conn::Upgrading { stream, mid } = &mut self.conn else {
                return match self.conn {
                    Conn::Open(_) => Ok(()),
                    _ => Err(ErrorKind::NotConnected.into()),
                };
            };
            let Some(handshake) = mid.as_mut() else {
                unreachable!("an Upgrading WsStream holds its handshake between calls");
            };
            let input = &mut handshake.get_mut().get_mut().input;
            // One read at a time: tungstenite takes all of it on each `handshake` call.
            let mut chunk = [0; 1024];
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                self.conn = Conn::Refused(self.take_stream());
                return Err(ErrorKind::UnexpectedEof.into());
            }
            input.extend_from_slice(&chunk[..n]);
            let Some(handshake) = mid.take() else {
                unreachable!("checked above");
            };
            match handshake.handshake() {
                Err(HandshakeError::Interrupted(again)) => *mid = Some(again),
                Ok(ws) => {
                    let mut upgrade = ws.into_inner();
                    self.reply = mem::take(&mut upgrade.output);
                    let watched = Watched {
                        inner: self.take_stream(),
                        blocked: false,
                    };
                    let ws = WebSocket::from_raw_socket(
                        watched,
                        Role::Server,
                        Some(self.config.tungstenite()),
                    );
                    self.conn = Conn::Open(ws);
                    return match self.send_reply() {
                        Err(e) if e.kind() != ErrorKind::WouldBlock => Err(e),
                        _ => Ok(()),
                    };
                }
                Err(HandshakeError::Failure(e)) => {
                    let refusal = match &e {
                        Error::Http(response) => response.status(),
                        _ => StatusCode::BAD_REQUEST,
                    };
                    self.reply = format!(
                        "HTTP/1.1 {refusal}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .into_bytes();
                    self.conn = Conn::Refused(self.take_stream());
                    let _ = self.send_reply();
                    return Err(io_error(e));
                }
            }
        }
    }

    /// Takes the stream out of `Upgrading`, leaving `Moving` until the caller sets the next
    /// state.
    fn take_stream(&mut self) -> S {
        match mem::replace(&mut self.conn, Conn::Moving) {
            Conn::Upgrading { stream, .. } | Conn::Refused(stream) => stream,
            Conn::Open(ws) => ws.into_inner().inner,
            Conn::Moving => unreachable!("take_stream twice in one upgrade step"),
        }
    }

    /// MQTT bytes into `buf`, from binary messages: `Ok(0)` once the peer closed,
    /// `WouldBlock` when nothing more has come, another error when the connection must be
    /// closed (a failed upgrade, a text message, a message too large, a protocol error).
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.pending.is_empty() {
                let n = buf.len().min(self.pending.len());
                buf[..n].copy_from_slice(&self.pending[..n]);
                self.pending.advance(n);
                return Ok(n);
            }
            let ws = match &mut self.conn {
                Conn::Open(ws) => ws,
                Conn::Upgrading { .. } => match self.upgrade() {
                    Ok(()) => continue,
                    Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(0),
                    Err(e) => return Err(e),
                },
                Conn::Refused(_) | Conn::Moving => {
                    return Err(io::Error::new(
                        ErrorKind::ConnectionRefused,
                        "upgrade refused",
                    ));
                }
            };
            match ws.read() {
                Ok(Message::Binary(payload)) => self.pending = payload,
                // Pings were answered (the pong goes out on the next call into tungstenite,
                // which the next turn of this loop is); pongs and raw frames mean nothing here.
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
                Ok(Message::Text(_)) => {
                    self.fail(CloseCode::Unsupported, "MQTT needs binary messages");
                    return Err(io::Error::new(
                        ErrorKind::InvalidData,
                        "a text message on an MQTT WebSocket",
                    ));
                }
                // tungstenite queued the reply close frame: send it and report the end.
                Ok(Message::Close(_)) => {
                    let _ = ws.flush();
                    return Ok(0);
                }
                Err(
                    Error::ConnectionClosed
                    | Error::AlreadyClosed
                    | Error::Protocol(ProtocolError::ResetWithoutClosingHandshake),
                ) => return Ok(0),
                Err(Error::Capacity(e @ CapacityError::MessageTooLong { .. })) => {
                    self.fail(CloseCode::Size, "message too long");
                    return Err(io::Error::new(ErrorKind::InvalidData, e));
                }
                Err(e) => return Err(io_error(e)),
            }
        }
    }

    /// Closes with `code`, best effort, after a fault of the peer.
    fn fail(&mut self, code: CloseCode, reason: &'static str) {
        if let Conn::Open(ws) = &mut self.conn {
            let _ = ws.close(Some(CloseFrame {
                code,
                reason: reason.into(),
            }));
        }
    }

    /// Sends `data` as one binary message (cut to [`WsConfig::max_message_size`]), returning
    /// how much it took; `WouldBlock` while the upgrade runs or an earlier message (or the
    /// upgrade's reply) still waits for the socket.
    pub(crate) fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.wants_write() {
            self.flush()?;
        }
        let Conn::Open(ws) = &mut self.conn else {
            return match self.conn {
                Conn::Upgrading { .. } => Err(ErrorKind::WouldBlock.into()),
                _ => Err(ErrorKind::NotConnected.into()),
            };
        };
        let n = data.len().min(self.config.max_message_size);
        match ws.write(Message::Binary(Bytes::copy_from_slice(&data[..n]))) {
            Ok(()) => Ok(n),
            // Framed and buffered; the socket takes it later (`wants_write` is true now).
            Err(Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => Ok(n),
            Err(Error::WriteBufferFull(_)) => Err(ErrorKind::WouldBlock.into()),
            Err(e) => Err(io_error(e)),
        }
    }

    /// Whether bytes (the upgrade's reply, frames, TLS records) still wait for the socket.
    pub(crate) fn wants_write(&self) -> bool {
        if !self.reply.is_empty() {
            return true;
        }
        match &self.conn {
            Conn::Upgrading { stream, .. } | Conn::Refused(stream) => stream.wants_write(),
            Conn::Open(ws) => ws.get_ref().blocked || ws.get_ref().inner.wants_write(),
            Conn::Moving => false,
        }
    }

    /// Sends what waits: `Ok` when nothing is left, `WouldBlock` while the socket is full.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.send_reply()?;
        match &mut self.conn {
            Conn::Open(ws) => ws.flush().map_err(io_error),
            Conn::Upgrading { stream, .. } | Conn::Refused(stream) => stream.flush(),
            Conn::Moving => Ok(()),
        }
    }

    /// Starts a graceful close: a close frame (code 1000) once open, then the stream's own
    /// close (TLS close_notify, TCP shutdown of writing) once no frame waits. Best effort.
    pub(crate) fn close(&mut self) {
        if let Conn::Open(ws) = &mut self.conn {
            let _ = ws.close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }));
        }
        let _ = self.send_reply();
        // The stream's own close goes last: not while WebSocket bytes still wait to enter it
        // (TLS records already in it are fine: the close_notify queues behind them).
        let waiting =
            !self.reply.is_empty() || matches!(&self.conn, Conn::Open(ws) if ws.get_ref().blocked);
        if !waiting {
            self.conn.stream_mut().close();
        }
    }
}

/// The upgrade's I/O in memory: tungstenite reads the request from `input` and writes its
/// reply to `output`.
#[derive(Debug, Default)]
struct Upgrade {
    /// Request bytes read from the stream, not yet taken by tungstenite.
    input: Vec<u8>,
    /// The reply tungstenite wrote.
    output: Vec<u8>,
}

impl Read for Upgrade {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.input.is_empty() {
            return Err(ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input.drain(..n);
        Ok(n)
    }
}

impl Write for Upgrade {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A tungstenite error as an I/O error (I/O errors, `WouldBlock` among them, unchanged).
fn io_error(e: Error) -> io::Error {
    match e {
        Error::Io(e) => e,
        Error::ConnectionClosed | Error::AlreadyClosed => ErrorKind::NotConnected.into(),
        Error::Http(response) => io::Error::new(
            ErrorKind::ConnectionRefused,
            format!("WebSocket upgrade refused with HTTP {}", response.status()),
        ),
        e => io::Error::new(ErrorKind::InvalidData, e),
    }
}

/// The stream under tungstenite, noting whether its last write found the socket full (the
/// only way bytes stay in tungstenite's buffers, since it writes each frame at once).
struct Watched<S> {
    /// The stream.
    inner: S,
    /// The last write or flush gave `WouldBlock`.
    blocked: bool,
}

impl<S: Read> Read for Watched<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<S: Write> Write for Watched<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.inner.write(buf);
        self.blocked = matches!(&result, Err(e) if e.kind() == ErrorKind::WouldBlock);
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.inner.flush();
        self.blocked = matches!(&result, Err(e) if e.kind() == ErrorKind::WouldBlock);
        result
    }
}

/// The upgrade's checks: the path, and the subprotocol to select.
struct Negotiate {
    /// The only path upgraded.
    path: String,
}

impl Callback for Negotiate {
    fn on_request(
        self,
        request: &Request,
        mut response: Response,
    ) -> Result<Response, ErrorResponse> {
        if request.uri().path() != self.path {
            let mut refusal = ErrorResponse::new(None);
            *refusal.status_mut() = StatusCode::NOT_FOUND;
            let headers = refusal.headers_mut();
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            return Err(refusal);
        }
        let offered: Vec<&str> = request
            .headers()
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        if let Some(chosen) = SUBPROTOCOLS.iter().find(|p| offered.contains(p)) {
            response.headers_mut().insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static(chosen),
            );
        }
        Ok(response)
    }
}
