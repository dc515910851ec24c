//! What the event loop does with sockets and with the core's output: accept, read, write,
//! answer the core's events, close. Part of [`Server`](super::Server), split from
//! `server.rs` so that each file has one job: `server.rs` the loop and its timers, this file
//! the I/O of one wake-up.
//!
//! Every socket carries a [`Transport`](super::super::transport::Transport). Plain TCP takes
//! the same system calls as a bare socket: `wants_write` and `flush` are answered without one.
//! TLS and WebSocket also put bytes of their own on the socket (handshake replies made inside
//! `read`, records and frames the socket did not take): a socket asks for WRITABLE while its
//! tail or its transport holds bytes, re-checked after each read batch, write and flush.

use std::io;

use mio::{Interest, Token};
use mqtt_sansio::broker::{CloseReason, Event};
use mqtt_sansio::{DisconnectReasonCode, Instant};

use super::super::connections::{Conn, segments, write_transmit};
use super::super::log::{log_debug, log_warn};
use super::{ACCEPT_RETRY, CLOSE_LINGER, READS_PER_WAKE, Server};

impl Server {
    /// Accepts every connection waiting on listener `index`.
    pub(super) fn accept_all(&mut self, index: usize, now: Instant) {
        loop {
            let Some(listener) = self.listeners.get(index) else {
                return;
            };
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    continue;
                }
                Err(e) => {
                    // Out of file descriptors or memory: the waiting connections stay queued
                    // in the kernel; try again shortly rather than spin.
                    log_warn!("accept on {}: {e}", listener.kind());
                    self.accept_retry = Some(now.saturating_add(ACCEPT_RETRY));
                    return;
                }
            };
            // Past --max-connections the broker refuses: the socket is closed at once, which
            // costs nothing that outlives this call.
            let Ok(handle) = self.broker.accept(now) else {
                log_debug!("refused {peer}: --max-connections reached");
                drop(stream);
                continue;
            };
            let kind = listener.kind();
            let token = self.conns.insert(Conn::new(stream, handle));
            let registered = match self.conns.get_mut(token) {
                Some(conn) => self.poll.registry().register(
                    conn.stream.socket(),
                    Token(token),
                    Interest::READABLE,
                ),
                None => Ok(()),
            };
            if let Err(e) = registered {
                log_warn!("cannot register {peer}: {e}");
                self.drop_conn(token, now);
                continue;
            }
            log_debug!("accepted {peer} over {kind}");
        }
    }

    /// Reads what socket `token` has into the shared buffer and feeds it to the broker.
    /// `drain`: the peer closed or the socket failed, so read to the end.
    pub(super) fn read_ready(&mut self, token: usize, now: Instant, drain: bool) {
        for _ in 0..READS_PER_WAKE {
            let Some(conn) = self.conns.get_mut(token) else {
                return;
            };
            if conn.closing {
                return;
            }
            let tcp = conn.stream.is_tcp();
            match conn.stream.read(&mut self.read_buf) {
                Ok(0) => {
                    log_debug!("connection closed by the peer");
                    self.drop_conn(token, now);
                    return;
                }
                Ok(read) => {
                    let handle = conn.handle;
                    let data = self.read_buf.get(..read).unwrap_or_default();
                    self.broker.handle_data(now, handle, data);
                    // A short read emptied the socket: with edge-triggered readiness the next
                    // bytes bring a new event (Linux's epoll; elsewhere read to WouldBlock).
                    // Only for TCP: TLS hands out one record and WebSocket one message per
                    // read, with more maybe already in the socket or in their buffers.
                    if tcp && read < self.read_buf.len() && !drain && cfg!(target_os = "linux") {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !tcp {
                        // A handshake step may have left a reply the socket did not take.
                        self.update_interest(token, now);
                    }
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log_debug!("connection lost: {e}");
                    self.drop_conn(token, now);
                    return;
                }
            }
        }
        if self
            .conns
            .get_mut(token)
            .is_some_and(|conn| !conn.stream.is_tcp())
        {
            self.update_interest(token, now);
        }
        self.read_again.push(token);
    }

    /// Writes what waits for socket `token`, now that it takes bytes again: the transport's
    /// own bytes first (which also moves a WebSocket upgrade on), then the tail. A closing
    /// socket whose last bytes are out is closed.
    pub(super) fn write_ready(&mut self, token: usize, now: Instant) {
        let Some(conn) = self.conns.get_mut(token) else {
            return;
        };
        if conn.stream.wants_write() {
            match conn.stream.flush() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    log_debug!("connection lost while writing: {e}");
                    self.drop_conn(token, now);
                    return;
                }
            }
        }
        if let Some(tail) = &mut conn.tail {
            match tail.write_to(&mut conn.stream) {
                Ok(false) => {}
                Ok(true) => conn.tail = None,
                Err(e) => {
                    log_debug!("connection lost while writing: {e}");
                    self.drop_conn(token, now);
                    return;
                }
            }
        }
        if conn.closing && conn.tail.is_none() {
            self.finish_close(token, now);
        } else {
            self.update_interest(token, now);
        }
    }

    /// Registers socket `token` for WRITABLE as well as READABLE while bytes wait for it,
    /// for READABLE only otherwise; asks the system only when that changes.
    pub(super) fn update_interest(&mut self, token: usize, now: Instant) {
        let Some(conn) = self.conns.get_mut(token) else {
            return;
        };
        let writable = conn.unsent();
        if writable == conn.writable {
            return;
        }
        let interest = if writable {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        match self
            .poll
            .registry()
            .reregister(conn.stream.socket(), Token(token), interest)
        {
            Ok(()) => conn.writable = writable,
            Err(e) => {
                log_warn!("cannot reregister a connection: {e}");
                self.drop_conn(token, now);
            }
        }
    }

    /// Drains the core: bytes to the sockets, then events, until it has nothing left; then
    /// closes the sockets the core is done with.
    pub(super) fn pump(&mut self, now: Instant) {
        loop {
            self.transmit(now);
            let mut any = false;
            while let Some(event) = self.broker.poll_event() {
                any = true;
                self.on_event(now, event);
            }
            if !any {
                break;
            }
        }
        for token in std::mem::take(&mut self.to_close) {
            let Some(conn) = self.conns.get_mut(token) else {
                continue;
            };
            let handle = conn.handle;
            if conn.tail.is_none() {
                self.finish_close(token, now);
            }
            // Still open: its tail, or its transport's last bytes, wait for the socket.
            if self.conns.token(handle) == Some(token) {
                self.lingering
                    .push((now.saturating_add(CLOSE_LINGER), token, handle));
            }
        }
    }

    /// Writes what [`Broker::poll_transmit`] hands out, each block to its socket at once; a
    /// socket that does not take it all keeps the rest as its tail.
    pub(super) fn transmit(&mut self, now: Instant) {
        while let Some(transmit) = self
            .broker
            .poll_transmit_vectored(&mut self.write_buf, &mut self.payloads)
        {
            let Some(token) = self.conns.token(transmit.connection) else {
                continue;
            };
            let Some(conn) = self.conns.get_mut(token) else {
                continue;
            };
            let bytes = self.write_buf.get(..transmit.len).unwrap_or_default();
            if let Some(tail) = &mut conn.tail {
                // The socket is still full from before: queue behind what waits.
                for segment in segments(bytes, &self.payloads) {
                    tail.push(segment);
                }
                if tail.len() > self.tail_limit {
                    log_warn!(
                        "closing a client that leaves more than {} bytes unread",
                        self.tail_limit
                    );
                    self.drop_conn(token, now);
                }
                continue;
            }
            match write_transmit(&mut conn.stream, bytes, &self.payloads) {
                // TLS and WebSocket may have taken the bytes without the socket taking all
                // of theirs; plain TCP never has bytes of its own (no system call to know).
                Ok(None) => {
                    if conn.stream.wants_write() {
                        self.update_interest(token, now);
                    }
                }
                Ok(Some(tail)) => {
                    conn.tail = Some(tail);
                    self.update_interest(token, now);
                }
                Err(e) => {
                    log_debug!("connection lost while writing: {e}");
                    self.drop_conn(token, now);
                }
            }
        }
    }

    /// Acts on one event of the core.
    pub(super) fn on_event(&mut self, now: Instant, event: Event) {
        match event {
            Event::Authenticate {
                connection,
                connect,
                ..
            } => self
                .admission
                .decide(&mut self.broker, now, connection, &connect),
            Event::AuthenticationData { connection, .. } => {
                // Only reached after an AUTH challenge, which this broker never sends.
                let code = mqtt_sansio::ConnectReasonCode::BadAuthenticationMethod;
                let _ = self.broker.refuse_connect(now, connection, code);
            }
            Event::Reauthenticate { connection, .. } => {
                // Only a client accepted with an Authentication Method may ask, and none is.
                let code = DisconnectReasonCode::NotAuthorized;
                let _ = self.broker.refuse_reauthentication(now, connection, code);
            }
            Event::Connected {
                connection,
                client_id,
                version,
                session_present,
            } => {
                log_debug!(
                    "client '{}' connected ({version:?}, session present: {session_present})",
                    client_id.as_str()
                );
                self.admission
                    .connected(&mut self.broker, connection, client_id.as_str());
            }
            Event::Close { connection, reason } => {
                if !matches!(reason, CloseReason::ClientDisconnected) {
                    log_debug!("closing a connection: {reason:?}");
                }
                if let Some(token) = self.conns.token(connection)
                    && let Some(conn) = self.conns.get_mut(token)
                {
                    conn.closing = true;
                    self.to_close.push(token);
                }
            }
            // Cluster events: interest is not reported and no peer is registered.
            _ => {}
        }
    }

    /// Closes a socket the core is done with, whose tail is written: the transport's close
    /// (TCP: no more writing; TLS: close_notify; WebSocket: a close frame) and, once the
    /// transport's last bytes are out, the socket. Until then it stays, asking for WRITABLE,
    /// and [`write_ready`](Self::write_ready) comes back here.
    pub(super) fn finish_close(&mut self, token: usize, now: Instant) {
        let Some(conn) = self.conns.get_mut(token) else {
            return;
        };
        if !conn.shut {
            conn.shut = true;
            conn.stream.close();
        }
        if conn.stream.wants_write() {
            self.update_interest(token, now);
        } else {
            self.drop_conn(token, now);
        }
    }

    /// Closes a socket at once: the transport's close, best effort, then the socket.
    pub(super) fn close_now(&mut self, token: usize, now: Instant) {
        if let Some(conn) = self.conns.get_mut(token)
            && !conn.shut
        {
            conn.shut = true;
            conn.stream.close();
        }
        self.drop_conn(token, now);
    }

    /// Forgets socket `token` and tells the core it is closed.
    pub(super) fn drop_conn(&mut self, token: usize, now: Instant) {
        let Some(mut conn) = self.conns.remove(token) else {
            return;
        };
        // The socket is closed when dropped, which also removes it from epoll.
        let _ = self.poll.registry().deregister(conn.stream.socket());
        self.broker.handle_closed(now, conn.handle);
        self.admission.closed(&mut self.broker, conn.handle);
    }
}
