//! What a [`Client`](super::Client) tells its application: [`Event`] and the values it carries.

use alloc::boxed::Box;

use bytes::Bytes;

use crate::codec::MqttString;
use crate::error::{PeerError, UsageError};
use crate::packet::{Auth, ConnAck, Publish, SubAck, UnsubAck};
use crate::reason::{ConnectReasonCode, DisconnectReasonCode, PubAckReasonCode, PubCompReasonCode};
use crate::types::{PacketId, QoS};

/// Something the application should know, from [`Client::poll_event`](super::Client::poll_event).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The server accepted the connection; everything its CONNACK said, and the limits the
    /// client now obeys.
    Connected(Box<Connected>),
    /// The connection ended, for the reason given. The driver closes the transport once it
    /// has written what [`poll_transmit`](super::Client::poll_transmit) still returns.
    Disconnected(Disconnected),
    /// A message from the server, with its topic resolved from any Topic Alias. With manual
    /// acknowledgement, a QoS 1 or 2 message waits for [`Client::ack`](super::Client::ack).
    Message(Publish<Bytes>),
    /// A QoS 1 or 2 message left the client's hands: acknowledged by the server (PUBACK, or
    /// PUBCOMP for QoS 2), refused by it, or lost with the session.
    Published {
        /// The identifier [`publish`](super::Client::publish) returned.
        packet_id: PacketId,
        /// `Ok` once the server acknowledged it.
        result: Result<(), PublishError>,
    },
    /// A QoS 0 message the client gave up before writing it: the connection ended while it
    /// was queued (and the offline queue is off), or it exceeds what the next server accepts
    /// (Maximum Packet Size, Retain Available).
    Dropped(Box<Publish<Bytes>>),
    /// The SUBACK answering [`subscribe`](super::Client::subscribe), one reason code per
    /// topic filter. A SUBSCRIBE without an answer when a connection ends is sent again on
    /// the next one, whatever becomes of the session, so every SUBSCRIBE gets its SUBACK.
    Subscribed(SubAck<Bytes>),
    /// The UNSUBACK answering [`unsubscribe`](super::Client::unsubscribe).
    Unsubscribed(UnsubAck<Bytes>),
    /// A SUBSCRIBE or UNSUBSCRIBE queued before the CONNACK (or while offline) that the
    /// server the client then connected to cannot take: a wildcard, shared or identified
    /// subscription it does not support, or a packet above its Maximum Packet Size. It was
    /// not sent; sending it would be a protocol error.
    RequestFailed {
        /// The identifier the command returned.
        packet_id: PacketId,
        /// Why it was not sent.
        error: UsageError,
    },
    /// A 5.0 AUTH from the server asking to continue the authentication exchange; answer it
    /// with [`Client::authenticate`](super::Client::authenticate).
    AuthChallenge(Auth<Bytes>),
    /// A 5.0 re-authentication succeeded.
    Reauthenticated(Auth<Bytes>),
}

/// What the server's CONNACK said, from [`Event::Connected`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connected {
    /// The CONNACK as received.
    pub connack: ConnAck<Bytes>,
    /// Whether the server resumed a session (Session Present). MQTT 3.1 has no such flag:
    /// there it is true exactly when the CONNECT did not ask for a clean session.
    pub session_present: bool,
    /// The limits the client now obeys, defaults filled in.
    pub server: ServerLimits,
    /// The Keep Alive in force, in seconds: the server's if it sent one, else ours.
    pub keep_alive: u16,
}

impl Connected {
    /// The Client Identifier the server assigned, if it did (5.0).
    #[must_use]
    pub fn assigned_client_id(&self) -> Option<&str> {
        self.connack
            .properties
            .assigned_client_identifier
            .as_ref()
            .map(MqttString::as_str)
    }
}

/// The server's limits from its CONNACK, with each absent property at the value the spec
/// gives it. A 3.1 or 3.1.1 server states none, so it gets every default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Receive Maximum: QoS 1 and 2 messages in flight at once (the send quota).
    pub receive_maximum: u16,
    /// Maximum QoS.
    pub maximum_qos: QoS,
    /// Retain Available.
    pub retain_available: bool,
    /// Maximum Packet Size, if the server set one.
    pub maximum_packet_size: Option<u32>,
    /// Topic Alias Maximum.
    pub topic_alias_maximum: u16,
    /// Wildcard Subscription Available.
    pub wildcard_subscriptions: bool,
    /// Subscription Identifiers Available.
    pub subscription_identifiers: bool,
    /// Shared Subscription Available.
    pub shared_subscriptions: bool,
}

impl ServerLimits {
    /// What a server that states nothing allows: every default of the spec.
    pub const DEFAULT: Self = Self {
        receive_maximum: u16::MAX,
        maximum_qos: QoS::ExactlyOnce,
        retain_available: true,
        maximum_packet_size: None,
        topic_alias_maximum: 0,
        wildcard_subscriptions: true,
        subscription_identifiers: true,
        shared_subscriptions: true,
    };
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How a connection ended, from [`Event::Disconnected`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Disconnected {
    /// Why.
    pub reason: DisconnectReason,
    /// The server's Reason String (5.0 CONNACK or DISCONNECT), if it sent one.
    pub reason_string: Option<MqttString<Bytes>>,
    /// The server's Server Reference (5.0): another server to use.
    pub server_reference: Option<MqttString<Bytes>>,
}

impl Disconnected {
    pub(crate) const fn new(reason: DisconnectReason) -> Self {
        Self {
            reason,
            reason_string: None,
            server_reference: None,
        }
    }
}

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server refused the CONNECT (a 3.x return code is given as the 5.0 code of the same
    /// meaning).
    Refused(ConnectReasonCode),
    /// The server sent a DISCONNECT (5.0).
    ByServer(DisconnectReasonCode),
    /// The application called [`disconnect`](super::Client::disconnect).
    ByClient(DisconnectReasonCode),
    /// The server broke the protocol; a 5.0 DISCONNECT with the error's reason code was
    /// queued before closing.
    ProtocolError(PeerError),
    /// No CONNACK within the configured connect timeout.
    ConnectTimeout,
    /// No packet within the ping timeout after a PINGREQ.
    KeepAliveTimeout,
    /// The transport closed ([`Client::handle_closed`](super::Client::handle_closed)).
    TransportClosed,
}

/// Why a QoS 1 or 2 message did not complete, from [`Event::Published`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublishError {
    /// The server refused it: a PUBACK or PUBREC with a reason code of 0x80 or above.
    Refused(PubAckReasonCode),
    /// The PUBCOMP said the server had no state for the flow (0x92).
    Incomplete(PubCompReasonCode),
    /// The session ended before the server acknowledged it (Session Present 0, or a session
    /// that does not outlive its connection).
    SessionLost,
    /// It exceeds the Maximum Packet Size of the server it would now go to.
    TooLarge,
    /// Its QoS or RETAIN flag is more than the server it would now go to supports (Maximum
    /// QoS, Retain Available).
    Unsupported,
}
