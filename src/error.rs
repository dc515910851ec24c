//! The codec's errors: [`DecodeError`] for bytes from a peer that are not a valid packet,
//! [`ProtocolError`] for valid packets that break the rules of the connection they arrive on,
//! [`PeerError`] for either, and [`EncodeError`] for a packet that cannot be written in the
//! requested version.
//!
//! `DecodeError` and `ProtocolError` are the peer's fault and name what was wrong;
//! [`PeerError::reason_code`] gives the reason code a receiver sends before closing (in MQTT
//! 5.0 a DISCONNECT, or a CONNACK when the bad packet is the CONNECT), and
//! [`disconnect_reason_code`](PeerError::disconnect_reason_code) and
//! [`connect_reason_code`](PeerError::connect_reason_code) give it in the type those packets
//! carry. An `EncodeError` is the caller's fault.

use crate::reason::{ConnectReasonCode, ConnectReturnCode, DisconnectReasonCode, ReasonCode};
use crate::types::{PacketType, PropertyId, ProtocolVersion, QoS, Side};

/// Why bytes received from a peer are not a valid MQTT packet.
///
/// Incomplete input is never an error: decoding reports it as
/// [`Decoded::Incomplete`](crate::Decoded::Incomplete).
///
/// ```
/// use mqtt_sansio::{DecodeError, Limits, Packet, ProtocolVersion, ReasonCode};
///
/// // A PUBLISH with both QoS bits set: `[MQTT-3.3.1-4]`.
/// let error = Packet::decode(ProtocolVersion::V5, &[0x36, 0x00], &Limits::default()).unwrap_err();
/// assert_eq!(error, DecodeError::InvalidQos { field: "PUBLISH fixed header" });
/// assert_eq!(error.reason_code(), ReasonCode::MalformedPacket);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The fixed header announces a packet larger than the configured maximum packet size.
    #[error("packet of {size} bytes exceeds the maximum packet size of {max} bytes")]
    PacketTooLarge {
        /// The whole packet's size in bytes, fixed header included.
        size: u32,
        /// The configured maximum.
        max: u32,
    },
    /// A Variable Byte Integer continues past its fourth byte.
    #[error("{field}: variable byte integer longer than 4 bytes")]
    VarIntTooLong {
        /// The field being read.
        field: &'static str,
    },
    /// A Variable Byte Integer is not encoded in the fewest bytes (`[MQTT-1.5.5-1]` in 5.0).
    #[error("{field}: variable byte integer not in its shortest form")]
    VarIntNotMinimal {
        /// The field being read.
        field: &'static str,
    },
    /// The packet type in the first byte is reserved in this version (0, or 15 before 5.0).
    #[error("reserved packet type {0}")]
    ReservedPacketType(u8),
    /// The first packet of a connection is not a CONNECT (`[MQTT-3.1.0-1]`); the number is
    /// the packet type found.
    #[error("first packet of a connection has type {0}, not CONNECT")]
    ExpectedConnect(u8),
    /// The fixed-header flags differ from the ones the spec requires for the packet type
    /// (`[MQTT-2.2.2-1]` in 3.1.1, `[MQTT-2.1.3-1]` in 5.0).
    #[error("{packet}: invalid fixed-header flags {flags:#06b}")]
    InvalidFixedHeaderFlags {
        /// The packet type.
        packet: PacketType,
        /// The low four bits of the first byte.
        flags: u8,
    },
    /// A QoS field holds 3 (`[MQTT-3.3.1-4]`), or a QoS that field does not allow.
    #[error("{field}: invalid QoS")]
    InvalidQos {
        /// The field being read.
        field: &'static str,
    },
    /// A QoS 0 PUBLISH has DUP set (`[MQTT-3.3.1-2]`).
    #[error("PUBLISH: DUP set on a QoS 0 message")]
    DupWithQos0,
    /// A field runs past the end of the packet or of its property block.
    #[error("{field}: runs past the end of the packet")]
    UnexpectedEnd {
        /// The field being read.
        field: &'static str,
    },
    /// Bytes are left over after the last field of the packet.
    #[error("{packet}: {count} unexpected bytes after the last field")]
    TrailingBytes {
        /// The packet type.
        packet: PacketType,
        /// How many bytes are left over.
        count: u32,
    },
    /// A string is not well-formed UTF-8 (`[MQTT-1.5.3-1]` in 3.1.1, `[MQTT-1.5.4-1]` in 5.0).
    #[error("{field}: not well-formed UTF-8")]
    InvalidUtf8 {
        /// The field being read.
        field: &'static str,
    },
    /// A string contains U+0000 (`[MQTT-1.5.3-2]` in 3.1.1, `[MQTT-1.5.4-2]` in 5.0).
    #[error("{field}: contains U+0000")]
    NulCharacter {
        /// The field being read.
        field: &'static str,
    },
    /// A topic name or topic filter breaks the rules of section 4.7.
    #[error("{field}: {error}")]
    InvalidTopic {
        /// The field being read.
        field: &'static str,
        /// The rule that is broken.
        error: TopicError,
    },
    /// A 5.0 PUBLISH has an empty Topic Name and no Topic Alias (§3.3.4).
    #[error("PUBLISH: empty topic name without a topic alias")]
    EmptyTopicWithoutAlias,
    /// A Packet Identifier is 0 (`[MQTT-2.3.1-1]` in 3.1.1, `[MQTT-2.2.1-3]` in 5.0).
    #[error("{packet}: packet identifier 0")]
    ZeroPacketId {
        /// The packet type.
        packet: PacketType,
    },
    /// The CONNECT Protocol Name is neither `MQTT` nor `MQIsdp` (`[MQTT-3.1.2-1]`).
    #[error("CONNECT: unknown protocol name")]
    UnknownProtocolName,
    /// The CONNECT Protocol Level is not one this crate speaks, or does not go with the
    /// Protocol Name (`[MQTT-3.1.2-2]`).
    #[error("CONNECT: unsupported protocol level {level}")]
    UnsupportedProtocolLevel {
        /// The Protocol Level byte.
        level: u8,
    },
    /// The reserved CONNECT flag is set (`[MQTT-3.1.2-3]`).
    #[error("CONNECT: reserved flag set")]
    ConnectReservedFlag,
    /// Will QoS or Will Retain is set without the Will Flag (`[MQTT-3.1.2-11]`,
    /// `[MQTT-3.1.2-13]`, `[MQTT-3.1.2-15]` in 3.1.1).
    #[error("CONNECT: will QoS or will retain set without the will flag")]
    WillFlagsWithoutWill,
    /// A 3.1 or 3.1.1 CONNECT has the Password Flag without the User Name Flag
    /// (`[MQTT-3.1.2-22]` in 3.1.1).
    #[error("CONNECT: password without user name")]
    PasswordWithoutUserName,
    /// A 3.1 Client Identifier is empty or longer than 23 characters.
    #[error("CONNECT: MQTT 3.1 client identifier must have 1 to 23 characters")]
    InvalidClientId,
    /// The CONNACK acknowledge flags have reserved bits set (`[MQTT-3.2.2-1]` in 5.0).
    #[error("CONNACK: reserved acknowledge flags {0:#04x}")]
    InvalidConnAckFlags(u8),
    /// A CONNACK refuses the connection but sets Session Present (`[MQTT-3.2.2-4]` in
    /// 3.1.1, `[MQTT-3.2.2-6]` in 5.0).
    #[error("CONNACK: session present on a refused connection")]
    SessionPresentOnError,
    /// A reason code (or 3.1.1 return code) the packet does not allow.
    #[error("{packet}: reason code {code:#04x} not allowed")]
    InvalidReasonCode {
        /// The packet type.
        packet: PacketType,
        /// The byte read.
        code: u8,
    },
    /// A SUBSCRIBE options byte has reserved bits set, QoS 3 or Retain Handling 3
    /// (`[MQTT-3.8.3-4]` in 3.1.1, `[MQTT-3.8.3-5]` in 5.0).
    #[error("SUBSCRIBE: invalid subscription options {0:#04x}")]
    InvalidSubscriptionOptions(u8),
    /// A 5.0 SUBSCRIBE options byte has QoS 3 or Retain Handling 3, each a Protocol Error
    /// (§3.8.3.1).
    #[error("SUBSCRIBE: QoS 3 or retain handling 3 in subscription options {0:#04x}")]
    SubscriptionOptionOutOfRange(u8),
    /// A shared subscription sets No Local (`[MQTT-3.8.3-4]` in 5.0).
    #[error("SUBSCRIBE: no local set on a shared subscription")]
    NoLocalOnSharedSubscription,
    /// A SUBSCRIBE or UNSUBSCRIBE has no topic filter (`[MQTT-3.8.3-3]`,
    /// `[MQTT-3.10.3-2]`), or a SUBACK has no reason code.
    #[error("{packet}: empty payload")]
    EmptyPayload {
        /// The packet type.
        packet: PacketType,
    },
    /// A property identifier that MQTT 5.0 does not define.
    #[error("unknown property identifier {0:#04x}")]
    UnknownProperty(u32),
    /// A property that the packet may not carry (§2.2.2.2).
    #[error("{packet}: property {property} not allowed")]
    PropertyNotAllowed {
        /// The property.
        property: PropertyId,
        /// Where it appeared, e.g. "CONNECT" or "will properties".
        packet: &'static str,
    },
    /// A single-valued property appears more than once.
    #[error("property {0} appears more than once")]
    DuplicateProperty(PropertyId),
    /// A property value outside its allowed range (e.g. Receive Maximum 0).
    #[error("property {0} has a value outside its range")]
    InvalidPropertyValue(PropertyId),
    /// Authentication Data without an Authentication Method (§3.1.2.11.10).
    #[error("authentication data without an authentication method")]
    AuthDataWithoutMethod,
    /// An AUTH with a reason code or properties lacks the Authentication Method
    /// (§3.15.2.2.2).
    #[error("AUTH: no authentication method")]
    MissingAuthMethod,
}

impl DecodeError {
    /// The reason code a receiver sends for this error before closing the connection.
    ///
    /// Every error is a Malformed Packet (0x81) unless the spec names it a Protocol Error
    /// (0x82) or gives it a more specific code. MQTT 3.1.1 peers get no reason code; for a bad
    /// CONNECT, [`ConnectReturnCode::from_reason_code`](crate::ConnectReturnCode) gives the
    /// return code when there is one.
    #[must_use]
    pub const fn reason_code(&self) -> ReasonCode {
        match self {
            Self::PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            Self::UnknownProtocolName | Self::UnsupportedProtocolLevel { .. } => {
                ReasonCode::UnsupportedProtocolVersion
            }
            Self::InvalidClientId => ReasonCode::ClientIdentifierNotValid,
            Self::InvalidPropertyValue(PropertyId::TopicAlias) => ReasonCode::TopicAliasInvalid,
            Self::EmptyTopicWithoutAlias
            | Self::ZeroPacketId { .. }
            | Self::SessionPresentOnError
            | Self::NoLocalOnSharedSubscription
            | Self::ExpectedConnect(_)
            | Self::SubscriptionOptionOutOfRange(_)
            | Self::MissingAuthMethod
            | Self::EmptyPayload { .. }
            | Self::DuplicateProperty(_)
            | Self::InvalidPropertyValue(_)
            | Self::AuthDataWithoutMethod => ReasonCode::ProtocolError,
            Self::VarIntTooLong { .. }
            | Self::VarIntNotMinimal { .. }
            | Self::ReservedPacketType(_)
            | Self::InvalidFixedHeaderFlags { .. }
            | Self::InvalidQos { .. }
            | Self::DupWithQos0
            | Self::UnexpectedEnd { .. }
            | Self::TrailingBytes { .. }
            | Self::InvalidUtf8 { .. }
            | Self::NulCharacter { .. }
            | Self::InvalidTopic { .. }
            | Self::ConnectReservedFlag
            | Self::WillFlagsWithoutWill
            | Self::PasswordWithoutUserName
            | Self::InvalidConnAckFlags(_)
            | Self::InvalidReasonCode { .. }
            | Self::InvalidSubscriptionOptions(_)
            | Self::UnknownProperty(_)
            | Self::PropertyNotAllowed { .. } => ReasonCode::MalformedPacket,
        }
    }

    /// The reason code for this error as a DISCONNECT carries it; see
    /// [`PeerError::disconnect_reason_code`].
    #[must_use]
    pub const fn disconnect_reason_code(&self) -> DisconnectReasonCode {
        disconnect_code(self.reason_code())
    }

    /// The reason code for this error as a 5.0 CONNACK carries it; see
    /// [`PeerError::connect_reason_code`].
    #[must_use]
    pub const fn connect_reason_code(&self) -> ConnectReasonCode {
        connect_code(self.reason_code())
    }

    /// The 3.1 / 3.1.1 CONNACK return code for this error, where one exists; see
    /// [`PeerError::connect_return_code`].
    #[must_use]
    pub const fn connect_return_code(&self) -> Option<ConnectReturnCode> {
        ConnectReturnCode::from_reason_code(self.connect_reason_code())
    }
}

/// A valid packet that breaks a rule of the connection it arrives on: it flows the wrong way,
/// comes at the wrong time, or carries something its sender may not send.
///
/// Unlike a [`DecodeError`], which one packet's bytes decide, a `ProtocolError` depends on
/// which [`Side`] receives the packet and on what came before it. Each is a Protocol Error
/// (0x82) in MQTT 5.0.
///
/// ```
/// use mqtt_sansio::{DisconnectReasonCode, PacketType, ProtocolError, Side};
///
/// let error = ProtocolError::WrongDirection { packet: PacketType::SubAck, receiver: Side::Server };
/// assert_eq!(error.disconnect_reason_code(), DisconnectReasonCode::ProtocolError);
/// assert_eq!(error.to_string(), "SUBACK cannot be sent to a server");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A packet type that may not flow towards the receiving side, such as a SUBACK sent to a
    /// server or a SUBSCRIBE sent to a client (see [`Side::may_receive`]).
    #[error("{packet} cannot be sent to a {receiver}")]
    WrongDirection {
        /// The packet type received.
        packet: PacketType,
        /// The side that received it.
        receiver: Side,
    },
    /// A second CONNECT on one connection (`[MQTT-3.1.0-2]`).
    #[error("second CONNECT on a connection")]
    SecondConnect,
    /// A PUBLISH sent by a client carries a Subscription Identifier (`[MQTT-3.3.4-6]` in 5.0).
    #[error("PUBLISH from a client carries a subscription identifier")]
    SubscriptionIdFromClient,
    /// A packet the connection's state does not allow: anything but CONNACK (or AUTH) before
    /// the CONNACK, a second CONNACK, an AUTH nobody asked for.
    #[error("{0} not expected in this state of the connection")]
    Unexpected(PacketType),
    /// Session Present 1 answering a CONNECT with Clean Start 1, or a session the client does
    /// not hold (`[MQTT-3.2.2-4]` in 5.0).
    #[error("session present without a session")]
    UnexpectedSession,
    /// An AUTH or CONNACK names another Authentication Method than the CONNECT
    /// (`[MQTT-4.12.0-5]` in 5.0).
    #[error("authentication method differs from the one in CONNECT")]
    AuthMethodMismatch,
    /// A Topic Alias of 0, above the receiver's Topic Alias Maximum, or used before it was set
    /// (`[MQTT-3.3.2-8]`, `[MQTT-3.3.2-10]` in 5.0): Topic Alias invalid (0x94).
    #[error("topic alias {0} is invalid")]
    TopicAliasInvalid(u16),
    /// More unacknowledged QoS 1 and 2 PUBLISH packets than the receiver's Receive Maximum
    /// (`[MQTT-3.3.4-9]` in 5.0): Receive Maximum exceeded (0x93).
    #[error("receive maximum exceeded")]
    ReceiveMaximumExceeded,
    /// An acknowledgement that does not fit the flow of its Packet Identifier, such as a PUBACK
    /// for a QoS 2 message or a SUBACK with another number of reason codes than the SUBSCRIBE
    /// had topic filters.
    #[error("{0} does not match the packet it acknowledges")]
    AckMismatch(PacketType),
}

impl ProtocolError {
    /// The reason code a receiver sends for this error before closing: Topic Alias invalid
    /// (0x94) and Receive Maximum exceeded (0x93) for those two, Protocol Error (0x82) for
    /// every other variant.
    #[must_use]
    pub const fn reason_code(&self) -> ReasonCode {
        match self {
            Self::WrongDirection { .. }
            | Self::SecondConnect
            | Self::SubscriptionIdFromClient
            | Self::Unexpected(_)
            | Self::UnexpectedSession
            | Self::AuthMethodMismatch
            | Self::AckMismatch(_) => ReasonCode::ProtocolError,
            Self::TopicAliasInvalid(_) => ReasonCode::TopicAliasInvalid,
            Self::ReceiveMaximumExceeded => ReasonCode::ReceiveMaximumExceeded,
        }
    }

    /// The reason code for this error as a DISCONNECT carries it; see
    /// [`PeerError::disconnect_reason_code`].
    #[must_use]
    pub const fn disconnect_reason_code(&self) -> DisconnectReasonCode {
        disconnect_code(self.reason_code())
    }

    /// The reason code for this error as a 5.0 CONNACK carries it; see
    /// [`PeerError::connect_reason_code`].
    #[must_use]
    pub const fn connect_reason_code(&self) -> ConnectReasonCode {
        connect_code(self.reason_code())
    }
}

/// Anything a peer can do wrong: send bytes that are not a valid packet ([`DecodeError`]), or
/// a valid packet that breaks the rules of the connection ([`ProtocolError`]).
///
/// A state machine never returns one of these to its caller: it answers as the spec says
/// (see [`DecodeFailure::reply`](crate::DecodeFailure)), closes the connection and reports
/// the error as an event.
///
/// ```
/// use mqtt_sansio::{ConnectReasonCode, DecodeError, DisconnectReasonCode, PeerError};
///
/// let error = PeerError::from(DecodeError::InvalidClientId);
/// assert_eq!(error.connect_reason_code(), ConnectReasonCode::ClientIdentifierNotValid);
/// assert_eq!(error.connect_return_code().map(|code| code.as_u8()), Some(0x02));
/// // Not a DISCONNECT code: the nearest one is Protocol Error.
/// assert_eq!(error.disconnect_reason_code(), DisconnectReasonCode::ProtocolError);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The bytes are not a valid packet.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A valid packet breaks a rule of the connection.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

impl PeerError {
    /// The reason code a receiver sends for this error before closing the connection: the one
    /// function mapping peer errors to reason codes, by [`DecodeError::reason_code`] and
    /// [`ProtocolError::reason_code`].
    #[must_use]
    pub const fn reason_code(&self) -> ReasonCode {
        match self {
            Self::Decode(error) => error.reason_code(),
            Self::Protocol(error) => error.reason_code(),
        }
    }

    /// The reason code of the DISCONNECT a 5.0 receiver sends for this error.
    ///
    /// Never fails: [`reason_code`](Self::reason_code) is used when DISCONNECT allows it. The
    /// two codes it does not allow, Unsupported Protocol Version (0x84) and Client Identifier
    /// not valid (0x85), come only from a CONNECT, so a DISCONNECT for one is a CONNECT
    /// out of place: Protocol Error (0x82).
    #[must_use]
    pub const fn disconnect_reason_code(&self) -> DisconnectReasonCode {
        disconnect_code(self.reason_code())
    }

    /// The reason code of the CONNACK a 5.0 server sends when this error ends a CONNECT.
    ///
    /// Never fails: [`reason_code`](Self::reason_code) is used when CONNACK allows it. The one
    /// code it does not allow, Topic Alias invalid (0x94), cannot come from a CONNECT; it
    /// maps to Protocol Error (0x82).
    #[must_use]
    pub const fn connect_reason_code(&self) -> ConnectReasonCode {
        connect_code(self.reason_code())
    }

    /// The 3.1 / 3.1.1 CONNACK return code for this error, where one exists: 0x01 for an
    /// unsupported protocol level or name, 0x02 for a refused Client Identifier. For any
    /// other error a 3.x server closes the connection without a CONNACK (`[MQTT-3.1.4-1]`).
    #[must_use]
    pub const fn connect_return_code(&self) -> Option<ConnectReturnCode> {
        ConnectReturnCode::from_reason_code(self.connect_reason_code())
    }
}

/// `code` as a DISCONNECT reason code, or Protocol Error if DISCONNECT does not allow it.
const fn disconnect_code(code: ReasonCode) -> DisconnectReasonCode {
    match DisconnectReasonCode::from_u8(code.as_u8()) {
        Some(code) => code,
        None => DisconnectReasonCode::ProtocolError,
    }
}

/// `code` as a CONNACK reason code, or Protocol Error if CONNACK does not allow it.
const fn connect_code(code: ReasonCode) -> ConnectReasonCode {
    match ConnectReasonCode::from_u8(code.as_u8()) {
        Some(code) => code,
        None => ConnectReasonCode::ProtocolError,
    }
}

/// Why a packet cannot be encoded in the requested protocol version.
///
/// ```
/// use bytes::BytesMut;
/// use mqtt_sansio::{EncodeError, ProtocolVersion, PubAck, PubAckReasonCode, PacketId};
///
/// let mut ack = PubAck::<&[u8]>::new(PacketId::new(1).unwrap());
/// ack.reason_code = PubAckReasonCode::QuotaExceeded;
/// let error = ack.encode(ProtocolVersion::V3_1_1, &mut BytesMut::new()).unwrap_err();
/// assert!(matches!(error, EncodeError::NotInVersion { .. }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The packet's Remaining Length would exceed 268,435,455 bytes.
    #[error("remaining length {remaining_length} exceeds 268,435,455 bytes")]
    PacketTooLarge {
        /// The Remaining Length the packet needs.
        remaining_length: usize,
    },
    /// The output buffer cannot hold the packet.
    #[error("packet needs {needed} bytes, the buffer has room for {available}")]
    BufferTooSmall {
        /// The packet's size.
        needed: usize,
        /// The room left in the buffer.
        available: usize,
    },
    /// The packet holds something the version cannot carry; nothing is silently dropped.
    #[error("{what} cannot be encoded in MQTT {version}")]
    NotInVersion {
        /// What cannot be carried, e.g. "PUBACK reason code".
        what: &'static str,
        /// The requested version.
        version: ProtocolVersion,
    },
    /// A PUBLISH has no Topic Name and no Topic Alias.
    #[error("PUBLISH has neither a topic name nor a topic alias")]
    MissingTopic,
    /// A SUBSCRIBE or UNSUBSCRIBE has no topic filter, or a SUBACK no reason code.
    #[error("{packet} needs at least one entry")]
    EmptyPayload {
        /// The packet type.
        packet: PacketType,
    },
    /// A topic filter that the version's SUBSCRIBE or UNSUBSCRIBE rules reject (the 5.0
    /// shared-subscription syntax).
    #[error("topic filter: {0}")]
    InvalidTopicFilter(TopicError),
    /// A shared subscription with No Local set (`[MQTT-3.8.3-4]` in 5.0).
    #[error("no local set on a shared subscription")]
    NoLocalOnSharedSubscription,
    /// A 3.1 Client Identifier must have 1 to 23 characters.
    #[error("MQTT 3.1 client identifier must have 1 to 23 characters")]
    InvalidClientId,
    /// 3.1 and 3.1.1 forbid a password without a user name (`[MQTT-3.1.2-22]`).
    #[error("password without user name")]
    PasswordWithoutUserName,
    /// A refused CONNACK must not set Session Present.
    #[error("session present on a refused connection")]
    SessionPresentOnError,
    /// Authentication Data needs an Authentication Method.
    #[error("authentication data without an authentication method")]
    AuthDataWithoutMethod,
    /// An AUTH with a reason code other than Success, or with properties, needs an
    /// Authentication Method.
    #[error("AUTH without an authentication method")]
    MissingAuthMethod,
    /// A property value that cannot be encoded: a string with U+0000 or longer than 65,535
    /// bytes, a Response Topic that is not a valid Topic Name, or a single-valued property
    /// given twice.
    #[error("property {0} has a value that cannot be encoded")]
    InvalidProperty(PropertyId),
    /// A CONNECT's `protocol_version` differs from the version it is encoded in.
    #[error("CONNECT for MQTT {packet} cannot be encoded as MQTT {requested}")]
    VersionMismatch {
        /// The CONNECT's own version.
        packet: ProtocolVersion,
        /// The version asked for.
        requested: ProtocolVersion,
    },
}

/// How a caller misused a state machine: a command that the connection's state, the server's
/// limits or the configured bounds do not allow. Nothing was queued; the state is unchanged.
///
/// ```
/// use mqtt_sansio::{QoS, UsageError};
///
/// let error = UsageError::QosNotSupported { requested: QoS::ExactlyOnce, maximum: QoS::AtLeastOnce };
/// assert_eq!(error.to_string(), "QoS 2 is above the server's maximum QoS 1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// The command needs a connection (or, for a publish, the offline queue, which is off).
    #[error("not connected")]
    NotConnected,
    /// `connect` while a connection is open or opening.
    #[error("already connected")]
    AlreadyConnected,
    /// The bounded queue or table the command needs is full.
    #[error("the {0} is full")]
    QueueFull(&'static str),
    /// A PUBLISH above the server's Maximum QoS (`[MQTT-3.2.2-11]` in 5.0).
    #[error("QoS {} is above the server's maximum QoS {}", requested.bits(), maximum.bits())]
    QosNotSupported {
        /// The QoS asked for.
        requested: QoS,
        /// The server's Maximum QoS.
        maximum: QoS,
    },
    /// A retained PUBLISH to a server without Retain Available (`[MQTT-3.2.2-14]` in 5.0).
    #[error("the server does not support retained messages")]
    RetainNotSupported,
    /// A packet above the peer's Maximum Packet Size: the server's for a client
    /// (`[MQTT-3.2.2-15]` in 5.0), the client's for the broker (`[MQTT-3.1.2-24]`).
    #[error("packet of {size} bytes exceeds the peer's maximum packet size {maximum}")]
    PacketTooLarge {
        /// The packet's encoded size.
        size: usize,
        /// The peer's Maximum Packet Size.
        maximum: u32,
    },
    /// A feature the server said it does not support: wildcard, shared or identified
    /// subscriptions.
    #[error("the server does not support {0}")]
    NotSupported(&'static str),
    /// A field the state machine owns was set by the caller: a Packet Identifier's place
    /// aside, a Topic Alias or a Subscription Identifier on an outgoing PUBLISH
    /// (`[MQTT-3.3.4-6]` in 5.0).
    #[error("{0} is not the caller's to set")]
    NotSettable(&'static str),
    /// A PUBLISH without a Topic Name.
    #[error("PUBLISH without a topic name")]
    MissingTopic,
    /// A 3.1.1 client with an empty Client Identifier must set Clean Session
    /// (`[MQTT-3.1.3-7]` in 3.1.1).
    #[error("an empty client identifier needs a clean session")]
    EmptyClientIdWithoutCleanStart,
    /// An AUTH command without an Authentication Method in CONNECT (`[MQTT-4.12.0-7]`), or
    /// while no exchange is under way.
    #[error("no authentication exchange to answer")]
    NoAuthentication,
    /// `ack` for a Packet Identifier that awaits no acknowledgement, or with manual
    /// acknowledgement off.
    #[error("packet identifier {0} awaits no acknowledgement")]
    NotAwaitingAck(u16),
    /// A feature the connection's protocol version does not have.
    #[error("{what} needs MQTT {needs}")]
    NotInVersion {
        /// The feature.
        what: &'static str,
        /// The version that has it.
        needs: ProtocolVersion,
    },
    /// A restored session does not fit the configured tables.
    #[error("the session does not fit: {0}")]
    SessionDoesNotFit(&'static str),
    /// The packet cannot be encoded in the connection's version.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

impl From<DecodeError> for ReasonCode {
    fn from(error: DecodeError) -> Self {
        error.reason_code()
    }
}

impl From<ProtocolError> for ReasonCode {
    fn from(error: ProtocolError) -> Self {
        error.reason_code()
    }
}

impl From<PeerError> for ReasonCode {
    fn from(error: PeerError) -> Self {
        error.reason_code()
    }
}

/// Which rule of section 4.7 or 4.8.2 a topic breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    /// Topic Names and Topic Filters have at least one character (`[MQTT-4.7.3-1]`).
    #[error("topic is empty")]
    Empty,
    /// Topic Names and Topic Filters encode to at most 65,535 bytes (`[MQTT-4.7.3-3]`).
    #[error("topic is longer than 65,535 bytes")]
    TooLong,
    /// Topic Names and Topic Filters contain no U+0000 (`[MQTT-4.7.3-2]`).
    #[error("topic contains U+0000")]
    Nul,
    /// A Topic Name contains `+` or `#` (`[MQTT-4.7.1-1]` in 3.1.1, `[MQTT-4.7.0-1]` in 5.0).
    #[error("topic name contains a wildcard")]
    WildcardInName,
    /// `#` is not alone in the last level (`[MQTT-4.7.1-2]` in 3.1.1, `[MQTT-4.7.1-1]` in 5.0).
    #[error("'#' is not alone in the last level of the filter")]
    MisplacedMultiLevelWildcard,
    /// `+` does not fill its whole level (`[MQTT-4.7.1-3]` in 3.1.1, `[MQTT-4.7.1-2]` in 5.0).
    #[error("'+' does not fill a whole level of the filter")]
    MisplacedSingleLevelWildcard,
    /// The ShareName of a `$share/` filter is empty or contains `+` or `#`
    /// (`[MQTT-4.8.2-1]`, `[MQTT-4.8.2-2]`).
    #[error("shared subscription has an invalid share name")]
    InvalidShareName,
    /// A `$share/{ShareName}` filter is not followed by `/` and a Topic Filter
    /// (`[MQTT-4.8.2-2]`).
    #[error("shared subscription has no topic filter after the share name")]
    MissingSharedFilter,
    /// A Topic Filter has more levels than the receiver accepts
    /// ([`TopicFilter::check_levels`](crate::TopicFilter::check_levels)). Not a rule of the
    /// spec and never a decoding error: a broker refuses just that subscription in its SUBACK
    /// (5.0 reason code 0x8F Topic Filter invalid, 3.1.1 return code 0x80 Failure).
    #[error("topic filter has more levels than allowed")]
    TooManyLevels,
}
