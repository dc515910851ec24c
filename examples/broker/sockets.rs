//! What the event loop does with sockets and with the core's output: accept, read, write,
//! answer the core's events, close. Part of [`Server`](super::Server), split from
//! `server.rs` so that each file has one job: `server.rs` the loop and its timers, this file
//! the I/O of one wake-up.

use std::io::{self, Read};

use mio::{Interest, Token};
use mqtt_sansio::broker::{CloseReason, Event};
use mqtt_sansio::{DisconnectReasonCode, Instant};

use super::super::connections::{Conn, Tail, write_once};
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
            let token = self.conns.insert(Conn {
                stream,
                handle,
                tail: None,
                closing: false,
            });
            let registered = match self.conns.get_mut(token) {
                Some(conn) => self.poll.registry().register(
                    &mut conn.stream,
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
            log_debug!("accepted {peer}");
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
                    if read < self.read_buf.len() && !drain && cfg!(target_os = "linux") {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log_debug!("connection lost: {e}");
                    self.drop_conn(token, now);
                    return;
                }
            }
        }
        self.read_again.push(token);
    }

    /// Writes socket `token`'s tail, now that it takes bytes again.
    pub(super) fn write_ready(&mut self, token: usize, now: Instant) {
        let Some(conn) = self.conns.get_mut(token) else {
            return;
        };
        let Some(tail) = &mut conn.tail else {
            return;
        };
        match tail.write_to(&mut conn.stream) {
            Ok(false) => {}
            Ok(true) => {
                conn.tail = None;
                if conn.closing {
                    self.close_now(token, now);
                } else if let Err(e) = self.poll.registry().reregister(
                    &mut conn.stream,
                    Token(token),
                    Interest::READABLE,
                ) {
                    log_warn!("cannot reregister a connection: {e}");
                    self.drop_conn(token, now);
                }
            }
            Err(e) => {
                log_debug!("connection lost while writing: {e}");
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
            if conn.tail.is_none() {
                self.close_now(token, now);
            } else {
                let handle = conn.handle;
                self.lingering
                    .push((now.saturating_add(CLOSE_LINGER), token, handle));
            }
        }
    }

    /// Writes what [`Broker::poll_transmit`] hands out, each block to its socket at once; a
    /// socket that does not take it all keeps the rest as its tail.
    pub(super) fn transmit(&mut self, now: Instant) {
        while let Some(transmit) = self.broker.poll_transmit(&mut self.write_buf) {
            let Some(token) = self.conns.token(transmit.connection) else {
                continue;
            };
            let Some(conn) = self.conns.get_mut(token) else {
                continue;
            };
            let bytes = self.write_buf.get(..transmit.len).unwrap_or_default();
            if let Some(tail) = &mut conn.tail {
                // The socket is still full from before: queue behind what waits.
                tail.push(bytes);
                if tail.len() > self.tail_limit {
                    log_warn!(
                        "closing a client that leaves more than {} bytes unread",
                        self.tail_limit
                    );
                    self.drop_conn(token, now);
                }
                continue;
            }
            match write_once(&mut conn.stream, bytes) {
                Ok(written) if written == bytes.len() => {}
                Ok(written) => {
                    conn.tail = Some(Tail::new(bytes.get(written..).unwrap_or_default()));
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    if let Err(e) =
                        self.poll
                            .registry()
                            .reregister(&mut conn.stream, Token(token), interest)
                    {
                        log_warn!("cannot reregister a connection: {e}");
                        self.drop_conn(token, now);
                    }
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

    /// Closes a socket the core is done with, after its last bytes.
    pub(super) fn close_now(&mut self, token: usize, now: Instant) {
        if let Some(conn) = self.conns.get_mut(token) {
            conn.stream.shutdown_write();
        }
        self.drop_conn(token, now);
    }

    /// Forgets socket `token` and tells the core it is closed.
    pub(super) fn drop_conn(&mut self, token: usize, now: Instant) {
        let Some(mut conn) = self.conns.remove(token) else {
            return;
        };
        // The socket is closed when dropped, which also removes it from epoll.
        let _ = self.poll.registry().deregister(&mut conn.stream);
        self.broker.handle_closed(now, conn.handle);
        self.admission.closed(&mut self.broker, conn.handle);
    }
}
