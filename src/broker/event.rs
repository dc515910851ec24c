//! What a [`Broker`](super::Broker) tells its driver: [`Event`] and the handles it names.

use alloc::boxed::Box;

use bytes::Bytes;

use crate::codec::MqttString;
use crate::packet::Connect;
use crate::reason::DisconnectReasonCode;
use crate::types::ProtocolVersion;

/// One connection of a [`Broker`](super::Broker), from [`accept`](super::Broker::accept).
///
/// A handle is never reused for another connection: once its connection is gone, every call
/// with it is a no-op (or an error, for commands).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionHandle {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// Something the driver should act on, from [`Broker::poll_event`](super::Broker::poll_event).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A CONNECT waiting for the driver's verdict (the broker does not accept anonymous
    /// clients): check its credentials, then call
    /// [`accept_connect`](super::Broker::accept_connect) or
    /// [`refuse_connect`](super::Broker::refuse_connect).
    Authenticate {
        /// The connection.
        connection: ConnectionHandle,
        /// The CONNECT, with the Client Identifier, User Name and Password.
        connect: Box<Connect<Bytes>>,
    },
    /// A client is connected: its CONNACK is queued.
    Connected {
        /// The connection.
        connection: ConnectionHandle,
        /// The Client Identifier (assigned by the broker if the client sent none).
        client_id: MqttString<Bytes>,
        /// The protocol version.
        version: ProtocolVersion,
        /// Whether a stored session was resumed.
        session_present: bool,
    },
    /// The broker is done with a connection: write what
    /// [`poll_transmit`](super::Broker::poll_transmit) still returns for it, then close the
    /// socket and call [`handle_closed`](super::Broker::handle_closed).
    Close {
        /// The connection.
        connection: ConnectionHandle,
        /// Why.
        reason: CloseReason,
    },
}

/// Why the broker closes a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client sent DISCONNECT.
    ClientDisconnected,
    /// The client broke the protocol; in 5.0 a DISCONNECT or CONNACK with this code was
    /// queued.
    ProtocolError(DisconnectReasonCode),
    /// The CONNECT was refused; the refusing CONNACK is queued.
    Refused,
    /// No CONNECT within the connect timeout.
    ConnectTimeout,
    /// Nothing received for one and a half times the Keep Alive.
    KeepAliveTimeout,
    /// Another connection took the session over (5.0: DISCONNECT 0x8E queued).
    SessionTakenOver,
    /// The client sent more than one maximum-size packet's worth behind a CONNECT that
    /// waited for the driver's verdict: the broker holds no more for it.
    BufferFull,
}
