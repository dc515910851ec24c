//! The event loop's table of open sockets: one small [`Conn`] per connection, found by its
//! mio token (a slot index) or by the broker's handle, and the unwritten tail a slow reader
//! leaves behind.
//!
//! An idle TCP connection costs its slot (its [`Transport`]: a file descriptor and a tag; the
//! broker's handle, an empty tail pointer and three flags) and one entry of the handle index:
//! no buffer of its own. A tail is allocated only when a write comes up short, and freed once
//! it is written. TLS and WebSocket connections also own their session state, boxed.

// The example and the tests each use a part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, IoSlice, Write};
use std::iter::once;

use mqtt_sansio::broker::{ConnectionHandle, SHARED_PAYLOADS_MAX, SharedPayload};

use super::transport::Transport;

/// One open socket.
#[derive(Debug)]
pub(crate) struct Conn {
    /// The socket, with TLS or WebSocket on it if the listener says so.
    pub(crate) stream: Transport,
    /// The broker's name for it.
    pub(crate) handle: ConnectionHandle,
    /// Bytes the broker handed out that the socket did not take yet; `None` while there are
    /// none, which is the only time the socket is registered without WRITABLE interest.
    pub(crate) tail: Option<Box<Tail>>,
    /// The broker said [`Event::Close`](mqtt_sansio::broker::Event::Close): nothing more is
    /// read; the socket closes once its tail is written.
    pub(crate) closing: bool,
    /// The socket is registered with WRITABLE interest (the loop's record, so that it asks
    /// the system only when the interest changes).
    pub(crate) writable: bool,
    /// [`Transport::close`] was called: only the transport's own last bytes (a TLS
    /// close_notify, a WebSocket close frame) are still to go out.
    pub(crate) shut: bool,
}

impl Conn {
    /// A fresh connection: registered for READABLE only, nothing waiting.
    pub(crate) fn new(stream: Transport, handle: ConnectionHandle) -> Self {
        Self {
            stream,
            handle,
            tail: None,
            closing: false,
            writable: false,
            shut: false,
        }
    }

    /// Whether bytes wait for the socket: the loop's tail or the transport's own (TLS
    /// records, WebSocket frames, an upgrade's reply). Plain TCP asks no system call.
    pub(crate) fn unsent(&self) -> bool {
        self.tail.is_some() || self.stream.wants_write()
    }
}

/// Bytes waiting for a socket to take them: `bytes[start..]`.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    bytes: Vec<u8>,
    start: usize,
}

impl Tail {
    /// A tail holding `bytes`.
    pub(crate) fn new(bytes: &[u8]) -> Box<Self> {
        Box::new(Self {
            bytes: bytes.to_vec(),
            start: 0,
        })
    }

    /// Bytes waiting.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len().saturating_sub(self.start)
    }

    /// Appends `bytes` after those waiting.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        // Move the waiting bytes to the front first when the written ones are the larger part,
        // so that a tail that keeps moving does not keep growing.
        if self.start > 0 && self.start >= self.len() {
            self.bytes.drain(..self.start);
            self.start = 0;
        }
        self.bytes.extend_from_slice(bytes);
    }

    /// Writes what the stream takes (see [`write_what_it_takes`]); whether the tail is now
    /// empty.
    pub(crate) fn write_to(&mut self, stream: &mut Transport) -> io::Result<bool> {
        let waiting = self.bytes.get(self.start..).unwrap_or_default();
        let written = write_what_it_takes(stream, waiting)?;
        self.start = self.start.saturating_add(written);
        Ok(self.len() == 0)
    }
}

/// The bytes of one transmit in wire order: the stretches of `buf` around the payloads the
/// broker shared (see `Broker::poll_transmit_vectored`), empty ones left out.
pub(crate) fn segments<'a>(
    buf: &'a [u8],
    payloads: &'a [SharedPayload],
) -> impl Iterator<Item = &'a [u8]> + 'a {
    let starts = once(0).chain(payloads.iter().map(|payload| payload.at));
    let ends = payloads
        .iter()
        .map(|payload| payload.at)
        .chain(once(buf.len()));
    let stretches = starts
        .zip(ends)
        .map(move |(from, to)| buf.get(from..to).unwrap_or_default());
    let shared = payloads
        .iter()
        .map(|payload| Some(payload.bytes.as_ref()))
        .chain(once(None));
    stretches
        .zip(shared)
        .flat_map(|(stretch, payload)| once(stretch).chain(payload))
        .filter(|segment| !segment.is_empty())
}

/// Writes one transmit, `buf` with the payloads the broker shared; returns what the socket
/// did not take, as a tail. Plain TCP takes it in one `writev` (the shared payloads are not
/// copied); TLS and WebSocket take one segment after another, each offered until it is
/// refused. Only what is left when the socket is full is copied, into the tail.
pub(crate) fn write_transmit(
    stream: &mut Transport,
    buf: &[u8],
    payloads: &[SharedPayload],
) -> io::Result<Option<Box<Tail>>> {
    if payloads.is_empty() {
        let written = write_what_it_takes(stream, buf)?;
        return Ok((written < buf.len()).then(|| Tail::new(buf.get(written..).unwrap_or_default())));
    }
    let total = payloads.iter().fold(buf.len(), |sum, payload| {
        sum.saturating_add(payload.bytes.len())
    });
    let written = match stream {
        Transport::Tcp(socket) => {
            let mut slices = [IoSlice::new(&[]); 2 * SHARED_PAYLOADS_MAX + 1];
            let mut count = 0;
            for (slot, segment) in slices.iter_mut().zip(segments(buf, payloads)) {
                *slot = IoSlice::new(segment);
                count += 1;
            }
            write_vectored_once(socket, slices.get(..count).unwrap_or_default())?
        }
        _ => {
            let mut written = 0usize;
            for segment in segments(buf, payloads) {
                let taken = write_what_it_takes(stream, segment)?;
                written = written.saturating_add(taken);
                if taken < segment.len() {
                    break;
                }
            }
            written
        }
    };
    if written >= total {
        return Ok(None);
    }
    let mut tail = Box::<Tail>::default();
    let mut skip = written;
    for segment in segments(buf, payloads) {
        match segment.get(skip..) {
            Some(rest) => {
                tail.push(rest);
                skip = 0;
            }
            None => skip = skip.saturating_sub(segment.len()),
        }
    }
    Ok(Some(tail))
}

/// One `writev` of `slices`: the count written, 0 when the socket is full. Retried only when
/// a signal interrupted it.
fn write_vectored_once(
    socket: &mut mio::net::TcpStream,
    slices: &[IoSlice<'_>],
) -> io::Result<usize> {
    loop {
        match socket.write_vectored(slices) {
            Ok(0) if slices.iter().any(|slice| !slice.is_empty()) => {
                return Err(io::ErrorKind::WriteZero.into());
            }
            Ok(written) => return Ok(written),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(0),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// Offers `bytes` to `stream` until it has taken them all or is full; the count taken.
///
/// Plain TCP gets one `write`: a short write means the socket is full, and the next WRITABLE
/// event comes when it has room. TLS and WebSocket take at most one record buffer or one
/// message per call even when the socket has room, which would bring no event: they are
/// offered the rest until they refuse (`WouldBlock`), which only a full socket makes them do.
pub(crate) fn write_what_it_takes(stream: &mut Transport, bytes: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    loop {
        let rest = bytes.get(written..).unwrap_or_default();
        let taken = write_once(stream, rest)?;
        written = written.saturating_add(taken);
        if taken == 0 || written >= bytes.len() || stream.is_tcp() {
            return Ok(written);
        }
    }
}

/// One `write` of `bytes`: the count written, 0 when the socket is full. Retried only when a
/// signal interrupted it.
pub(crate) fn write_once(stream: &mut Transport, bytes: &[u8]) -> io::Result<usize> {
    loop {
        match stream.write(bytes) {
            Ok(0) if !bytes.is_empty() => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => return Ok(written),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(0),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// The open sockets: a slab indexed by mio token, and an index from broker handle to token.
#[derive(Debug, Default)]
pub(crate) struct Connections {
    slots: Vec<Option<Conn>>,
    free: Vec<usize>,
    by_handle: HashMap<ConnectionHandle, usize>,
}

impl Connections {
    /// Open sockets.
    pub(crate) fn len(&self) -> usize {
        self.by_handle.len()
    }

    /// Whether no socket is open.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_handle.is_empty()
    }

    /// Adds `conn`; returns its token.
    pub(crate) fn insert(&mut self, conn: Conn) -> usize {
        let handle = conn.handle;
        let token = match self.free.pop() {
            Some(token) => {
                if let Some(slot) = self.slots.get_mut(token) {
                    *slot = Some(conn);
                }
                token
            }
            None => {
                self.slots.push(Some(conn));
                self.slots.len().saturating_sub(1)
            }
        };
        self.by_handle.insert(handle, token);
        token
    }

    /// The connection of `token`.
    pub(crate) fn get_mut(&mut self, token: usize) -> Option<&mut Conn> {
        self.slots.get_mut(token)?.as_mut()
    }

    /// The token of the connection the broker calls `handle`, if its socket is open.
    pub(crate) fn token(&self, handle: ConnectionHandle) -> Option<usize> {
        self.by_handle.get(&handle).copied()
    }

    /// Takes the connection of `token` out of the table.
    pub(crate) fn remove(&mut self, token: usize) -> Option<Conn> {
        let conn = self.slots.get_mut(token)?.take()?;
        self.by_handle.remove(&conn.handle);
        // The slot is reused by the next connection: the table never holds more slots than
        // the most connections open at once, which `--max-connections` bounds.
        self.free.push(token);
        Some(conn)
    }

    /// The tokens of every open connection.
    pub(crate) fn tokens(&self) -> Vec<usize> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(token, slot)| slot.as_ref().map(|_| token))
            .collect()
    }

    /// Whether any connection has bytes waiting to be written (its tail or its transport's).
    pub(crate) fn any_unsent(&self) -> bool {
        self.slots.iter().flatten().any(Conn::unsent)
    }
}
