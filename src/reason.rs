//! Reason codes (MQTT 5.0, [§2.4]) and CONNACK return codes (MQTT 3.1 and 3.1.1).
//!
//! Every packet that carries a reason code has its own enum holding exactly the values the
//! spec allows in that packet, so a reason code that is not allowed cannot be encoded and is
//! rejected when decoded. [`ReasonCode`] holds every value and is what an error maps to.
//!
//! [§2.4]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901031

use core::fmt;

/// Declares a reason-code enum with explicit discriminants and its conversions.
macro_rules! reason_codes {
    (
        $(#[$meta:meta])*
        subset $name:ident for $packet:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        reason_codes! {
            $(#[$meta])*
            $name for $packet {
                $( $(#[$vmeta])* $variant = $value, )+
            }
        }

        impl From<$name> for ReasonCode {
            fn from(code: $name) -> ReasonCode {
                // Every per-packet value is also a `ReasonCode` value.
                match ReasonCode::from_u8(code.as_u8()) {
                    Some(reason) => reason,
                    None => ReasonCode::UnspecifiedError,
                }
            }
        }

        impl TryFrom<ReasonCode> for $name {
            type Error = ReasonCode;

            #[doc = concat!("The same code, if ", $packet, " allows it; otherwise gives it back.")]
            fn try_from(code: ReasonCode) -> Result<Self, ReasonCode> {
                Self::from_u8(code.as_u8()).ok_or(code)
            }
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident for $packet:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant = $value, )+
        }

        impl $name {
            /// Every value, in spec order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            #[doc = concat!("The reason code for a byte, if ", $packet, " allows it.")]
            #[must_use]
            pub const fn from_u8(value: u8) -> Option<Self> {
                match value {
                    $( $value => Some(Self::$variant), )+
                    _ => None,
                }
            }

            /// The wire value.
            #[must_use]
            pub const fn as_u8(self) -> u8 {
                self as u8
            }

            /// Whether the code reports a failure (0x80 or above).
            #[must_use]
            pub const fn is_error(self) -> bool {
                self.as_u8() >= 0x80
            }
        }

        impl From<$name> for u8 {
            fn from(code: $name) -> u8 {
                code.as_u8()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?} (0x{:02X})", self, self.as_u8())
            }
        }
    };
}

reason_codes! {
    /// Every MQTT 5.0 reason code ([§2.4]); the packet-specific enums hold subsets of these.
    ///
    /// 0x00 is named `Success` here; in DISCONNECT it means "Normal disconnection" and in
    /// SUBACK "Granted QoS 0".
    ///
    /// [§2.4]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901031
    ReasonCode for "some MQTT 5.0 packet" {
        /// 0x00: Success, Normal disconnection or Granted QoS 0.
        Success = 0x00,
        /// 0x01: Granted QoS 1.
        GrantedQoS1 = 0x01,
        /// 0x02: Granted QoS 2.
        GrantedQoS2 = 0x02,
        /// 0x04: Disconnect with Will Message.
        DisconnectWithWillMessage = 0x04,
        /// 0x10: No matching subscribers.
        NoMatchingSubscribers = 0x10,
        /// 0x11: No subscription existed.
        NoSubscriptionExisted = 0x11,
        /// 0x18: Continue authentication.
        ContinueAuthentication = 0x18,
        /// 0x19: Re-authenticate.
        ReAuthenticate = 0x19,
        /// 0x80: Unspecified error.
        UnspecifiedError = 0x80,
        /// 0x81: Malformed Packet.
        MalformedPacket = 0x81,
        /// 0x82: Protocol Error.
        ProtocolError = 0x82,
        /// 0x83: Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x84: Unsupported Protocol Version.
        UnsupportedProtocolVersion = 0x84,
        /// 0x85: Client Identifier not valid.
        ClientIdentifierNotValid = 0x85,
        /// 0x86: Bad User Name or Password.
        BadUserNameOrPassword = 0x86,
        /// 0x87: Not authorized.
        NotAuthorized = 0x87,
        /// 0x88: Server unavailable.
        ServerUnavailable = 0x88,
        /// 0x89: Server busy.
        ServerBusy = 0x89,
        /// 0x8A: Banned.
        Banned = 0x8A,
        /// 0x8B: Server shutting down.
        ServerShuttingDown = 0x8B,
        /// 0x8C: Bad authentication method.
        BadAuthenticationMethod = 0x8C,
        /// 0x8D: Keep Alive timeout.
        KeepAliveTimeout = 0x8D,
        /// 0x8E: Session taken over.
        SessionTakenOver = 0x8E,
        /// 0x8F: Topic Filter invalid.
        TopicFilterInvalid = 0x8F,
        /// 0x90: Topic Name invalid.
        TopicNameInvalid = 0x90,
        /// 0x91: Packet Identifier in use.
        PacketIdentifierInUse = 0x91,
        /// 0x92: Packet Identifier not found.
        PacketIdentifierNotFound = 0x92,
        /// 0x93: Receive Maximum exceeded.
        ReceiveMaximumExceeded = 0x93,
        /// 0x94: Topic Alias invalid.
        TopicAliasInvalid = 0x94,
        /// 0x95: Packet too large.
        PacketTooLarge = 0x95,
        /// 0x96: Message rate too high.
        MessageRateTooHigh = 0x96,
        /// 0x97: Quota exceeded.
        QuotaExceeded = 0x97,
        /// 0x98: Administrative action.
        AdministrativeAction = 0x98,
        /// 0x99: Payload format invalid.
        PayloadFormatInvalid = 0x99,
        /// 0x9A: Retain not supported.
        RetainNotSupported = 0x9A,
        /// 0x9B: QoS not supported.
        QoSNotSupported = 0x9B,
        /// 0x9C: Use another server.
        UseAnotherServer = 0x9C,
        /// 0x9D: Server moved.
        ServerMoved = 0x9D,
        /// 0x9E: Shared Subscriptions not supported.
        SharedSubscriptionsNotSupported = 0x9E,
        /// 0x9F: Connection rate exceeded.
        ConnectionRateExceeded = 0x9F,
        /// 0xA0: Maximum connect time.
        MaximumConnectTime = 0xA0,
        /// 0xA1: Subscription Identifiers not supported.
        SubscriptionIdentifiersNotSupported = 0xA1,
        /// 0xA2: Wildcard Subscriptions not supported.
        WildcardSubscriptionsNotSupported = 0xA2,
    }
}

reason_codes! {
    /// The reason code of a CONNACK ([§3.2.2.2]); `[MQTT-3.2.2-8]` in 5.0.
    ///
    /// In MQTT 3.1 and 3.1.1 a CONNACK carries a [`ConnectReturnCode`] instead. Each of the
    /// six return codes has exactly one counterpart here with the same meaning, and a CONNACK
    /// holding one of those six encodes in every version; see [`ConnectReturnCode`].
    ///
    /// [§3.2.2.2]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901079
    subset ConnectReasonCode for "CONNACK" {
        /// 0x00: the connection is accepted.
        Success = 0x00,
        /// 0x80: Unspecified error.
        UnspecifiedError = 0x80,
        /// 0x81: Malformed Packet.
        MalformedPacket = 0x81,
        /// 0x82: Protocol Error.
        ProtocolError = 0x82,
        /// 0x83: Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x84: Unsupported Protocol Version (3.1.1 return code 0x01).
        UnsupportedProtocolVersion = 0x84,
        /// 0x85: Client Identifier not valid (3.1.1 return code 0x02).
        ClientIdentifierNotValid = 0x85,
        /// 0x86: Bad User Name or Password (3.1.1 return code 0x04).
        BadUserNameOrPassword = 0x86,
        /// 0x87: Not authorized (3.1.1 return code 0x05).
        NotAuthorized = 0x87,
        /// 0x88: Server unavailable (3.1.1 return code 0x03).
        ServerUnavailable = 0x88,
        /// 0x89: Server busy.
        ServerBusy = 0x89,
        /// 0x8A: Banned.
        Banned = 0x8A,
        /// 0x8C: Bad authentication method.
        BadAuthenticationMethod = 0x8C,
        /// 0x90: Topic Name invalid.
        TopicNameInvalid = 0x90,
        /// 0x95: Packet too large.
        PacketTooLarge = 0x95,
        /// 0x97: Quota exceeded.
        QuotaExceeded = 0x97,
        /// 0x99: Payload format invalid.
        PayloadFormatInvalid = 0x99,
        /// 0x9A: Retain not supported.
        RetainNotSupported = 0x9A,
        /// 0x9B: QoS not supported.
        QoSNotSupported = 0x9B,
        /// 0x9C: Use another server.
        UseAnotherServer = 0x9C,
        /// 0x9D: Server moved.
        ServerMoved = 0x9D,
        /// 0x9F: Connection rate exceeded.
        ConnectionRateExceeded = 0x9F,
    }
}

reason_codes! {
    /// The reason code of a PUBACK or PUBREC ([§3.4.2.1], [§3.5.2.1]); `[MQTT-3.4.2-1]`,
    /// `[MQTT-3.5.2-1]`. MQTT 3.1 and 3.1.1 acknowledgements carry no reason code, which reads
    /// as [`Success`](Self::Success).
    ///
    /// [§3.4.2.1]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901124
    /// [§3.5.2.1]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901134
    subset PubAckReasonCode for "PUBACK and PUBREC" {
        /// 0x00: the message is accepted.
        Success = 0x00,
        /// 0x10: accepted, but nobody subscribes to it.
        NoMatchingSubscribers = 0x10,
        /// 0x80: Unspecified error.
        UnspecifiedError = 0x80,
        /// 0x83: Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x87: Not authorized.
        NotAuthorized = 0x87,
        /// 0x90: Topic Name invalid.
        TopicNameInvalid = 0x90,
        /// 0x91: Packet Identifier in use.
        PacketIdentifierInUse = 0x91,
        /// 0x97: Quota exceeded.
        QuotaExceeded = 0x97,
        /// 0x99: Payload format invalid.
        PayloadFormatInvalid = 0x99,
    }
}

/// The reason code of a PUBREC: the same set as PUBACK.
pub type PubRecReasonCode = PubAckReasonCode;

reason_codes! {
    /// The reason code of a PUBREL or PUBCOMP ([§3.6.2.1], [§3.7.2.1]); `[MQTT-3.6.2-1]`,
    /// `[MQTT-3.7.2-1]`.
    ///
    /// [§3.6.2.1]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901144
    /// [§3.7.2.1]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901154
    subset PubRelReasonCode for "PUBREL and PUBCOMP" {
        /// 0x00: the exchange goes on.
        Success = 0x00,
        /// 0x92: the Packet Identifier is not known.
        PacketIdentifierNotFound = 0x92,
    }
}

/// The reason code of a PUBCOMP: the same set as PUBREL.
pub type PubCompReasonCode = PubRelReasonCode;

reason_codes! {
    /// The reason code of each SUBACK entry ([§3.9.3]); `[MQTT-3.9.3-2]`.
    ///
    /// MQTT 3.1.1 allows only the three grants and 0x80 ("Failure", here
    /// [`UnspecifiedError`](Self::UnspecifiedError)); MQTT 3.1 allows only the three grants.
    ///
    /// [§3.9.3]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901178
    subset SubAckReasonCode for "SUBACK" {
        /// 0x00: subscribed with maximum QoS 0.
        GrantedQoS0 = 0x00,
        /// 0x01: subscribed with maximum QoS 1.
        GrantedQoS1 = 0x01,
        /// 0x02: subscribed with maximum QoS 2.
        GrantedQoS2 = 0x02,
        /// 0x80: Unspecified error ("Failure" in 3.1.1).
        UnspecifiedError = 0x80,
        /// 0x83: Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x87: Not authorized.
        NotAuthorized = 0x87,
        /// 0x8F: Topic Filter invalid.
        TopicFilterInvalid = 0x8F,
        /// 0x91: Packet Identifier in use.
        PacketIdentifierInUse = 0x91,
        /// 0x97: Quota exceeded.
        QuotaExceeded = 0x97,
        /// 0x9E: Shared Subscriptions not supported.
        SharedSubscriptionsNotSupported = 0x9E,
        /// 0xA1: Subscription Identifiers not supported.
        SubscriptionIdentifiersNotSupported = 0xA1,
        /// 0xA2: Wildcard Subscriptions not supported.
        WildcardSubscriptionsNotSupported = 0xA2,
    }
}

reason_codes! {
    /// The reason code of each UNSUBACK entry ([§3.11.3]), MQTT 5.0 only; `[MQTT-3.11.3-2]`.
    ///
    /// [§3.11.3]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901194
    subset UnsubAckReasonCode for "UNSUBACK" {
        /// 0x00: the subscription is deleted.
        Success = 0x00,
        /// 0x11: there was no such subscription.
        NoSubscriptionExisted = 0x11,
        /// 0x80: Unspecified error.
        UnspecifiedError = 0x80,
        /// 0x83: Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x87: Not authorized.
        NotAuthorized = 0x87,
        /// 0x8F: Topic Filter invalid.
        TopicFilterInvalid = 0x8F,
        /// 0x91: Packet Identifier in use.
        PacketIdentifierInUse = 0x91,
    }
}

reason_codes! {
    /// The reason code of a DISCONNECT ([§3.14.2.1]); `[MQTT-3.14.2-1]`. MQTT 3.1 and 3.1.1
    /// DISCONNECT packets carry none, which reads as
    /// [`NormalDisconnection`](Self::NormalDisconnection).
    ///
    /// [§3.14.2.1]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901208
    subset DisconnectReasonCode for "DISCONNECT" {
        /// 0x00: close normally; the server discards the Will Message.
        NormalDisconnection = 0x00,
        /// 0x04: close, and the server publishes the Will Message.
        DisconnectWithWillMessage = 0x04,
        /// 0x80: Unspecified error.
        UnspecifiedError = 0x80,
        /// 0x81: Malformed Packet.
        MalformedPacket = 0x81,
        /// 0x82: Protocol Error.
        ProtocolError = 0x82,
        /// 0x83: Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x87: Not authorized.
        NotAuthorized = 0x87,
        /// 0x89: Server busy.
        ServerBusy = 0x89,
        /// 0x8B: Server shutting down.
        ServerShuttingDown = 0x8B,
        /// 0x8D: Keep Alive timeout.
        KeepAliveTimeout = 0x8D,
        /// 0x8E: Session taken over.
        SessionTakenOver = 0x8E,
        /// 0x8F: Topic Filter invalid.
        TopicFilterInvalid = 0x8F,
        /// 0x90: Topic Name invalid.
        TopicNameInvalid = 0x90,
        /// 0x93: Receive Maximum exceeded.
        ReceiveMaximumExceeded = 0x93,
        /// 0x94: Topic Alias invalid.
        TopicAliasInvalid = 0x94,
        /// 0x95: Packet too large.
        PacketTooLarge = 0x95,
        /// 0x96: Message rate too high.
        MessageRateTooHigh = 0x96,
        /// 0x97: Quota exceeded.
        QuotaExceeded = 0x97,
        /// 0x98: Administrative action.
        AdministrativeAction = 0x98,
        /// 0x99: Payload format invalid.
        PayloadFormatInvalid = 0x99,
        /// 0x9A: Retain not supported.
        RetainNotSupported = 0x9A,
        /// 0x9B: QoS not supported.
        QoSNotSupported = 0x9B,
        /// 0x9C: Use another server.
        UseAnotherServer = 0x9C,
        /// 0x9D: Server moved.
        ServerMoved = 0x9D,
        /// 0x9E: Shared Subscriptions not supported.
        SharedSubscriptionsNotSupported = 0x9E,
        /// 0x9F: Connection rate exceeded.
        ConnectionRateExceeded = 0x9F,
        /// 0xA0: Maximum connect time.
        MaximumConnectTime = 0xA0,
        /// 0xA1: Subscription Identifiers not supported.
        SubscriptionIdentifiersNotSupported = 0xA1,
        /// 0xA2: Wildcard Subscriptions not supported.
        WildcardSubscriptionsNotSupported = 0xA2,
    }
}

reason_codes! {
    /// The reason code of an AUTH packet ([§3.15.2.1]), MQTT 5.0 only; `[MQTT-3.15.2-1]`.
    ///
    /// [§3.15.2.1]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901220
    subset AuthReasonCode for "AUTH" {
        /// 0x00: authentication succeeded.
        Success = 0x00,
        /// 0x18: Continue authentication.
        ContinueAuthentication = 0x18,
        /// 0x19: Re-authenticate.
        ReAuthenticate = 0x19,
    }
}

/// The return code of an MQTT 3.1 or 3.1.1 CONNACK ([3.1.1 §3.2.2.3]).
///
/// A [`ConnAck`](crate::ConnAck) holds a [`ConnectReasonCode`] in every version. These six
/// codes correspond one to one to the 5.0 codes with the same meaning, and encoding or decoding
/// a 3.1/3.1.1 CONNACK converts between them; any other 5.0 code has no 3.1.1 form and is an
/// encode error.
///
/// | return code | reason code |
/// | --- | --- |
/// | 0x00 Connection Accepted | 0x00 Success |
/// | 0x01 unacceptable protocol version | 0x84 Unsupported Protocol Version |
/// | 0x02 identifier rejected | 0x85 Client Identifier not valid |
/// | 0x03 Server unavailable | 0x88 Server unavailable |
/// | 0x04 bad user name or password | 0x86 Bad User Name or Password |
/// | 0x05 not authorized | 0x87 Not authorized |
///
/// [3.1.1 §3.2.2.3]: http://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html#_Toc398718035
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ConnectReturnCode {
    /// 0x00: Connection Accepted.
    Accepted = 0x00,
    /// 0x01: the server does not support the requested protocol level.
    UnacceptableProtocolVersion = 0x01,
    /// 0x02: the client identifier is not allowed.
    IdentifierRejected = 0x02,
    /// 0x03: the MQTT service is unavailable.
    ServerUnavailable = 0x03,
    /// 0x04: the user name or password is malformed or wrong.
    BadUserNameOrPassword = 0x04,
    /// 0x05: the client is not authorised to connect.
    NotAuthorized = 0x05,
}

impl ConnectReturnCode {
    /// The return code for a byte; 6 to 255 are reserved.
    #[must_use]
    pub const fn from_u8(value: u8) -> Option<Self> {
        match value {
            0x00 => Some(Self::Accepted),
            0x01 => Some(Self::UnacceptableProtocolVersion),
            0x02 => Some(Self::IdentifierRejected),
            0x03 => Some(Self::ServerUnavailable),
            0x04 => Some(Self::BadUserNameOrPassword),
            0x05 => Some(Self::NotAuthorized),
            _ => None,
        }
    }

    /// The wire value.
    #[must_use]
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The MQTT 5.0 reason code with the same meaning.
    #[must_use]
    pub const fn to_reason_code(self) -> ConnectReasonCode {
        match self {
            Self::Accepted => ConnectReasonCode::Success,
            Self::UnacceptableProtocolVersion => ConnectReasonCode::UnsupportedProtocolVersion,
            Self::IdentifierRejected => ConnectReasonCode::ClientIdentifierNotValid,
            Self::ServerUnavailable => ConnectReasonCode::ServerUnavailable,
            Self::BadUserNameOrPassword => ConnectReasonCode::BadUserNameOrPassword,
            Self::NotAuthorized => ConnectReasonCode::NotAuthorized,
        }
    }

    /// The return code with the same meaning as a 5.0 reason code, if there is one.
    #[must_use]
    pub const fn from_reason_code(code: ConnectReasonCode) -> Option<Self> {
        match code {
            ConnectReasonCode::Success => Some(Self::Accepted),
            ConnectReasonCode::UnsupportedProtocolVersion => {
                Some(Self::UnacceptableProtocolVersion)
            }
            ConnectReasonCode::ClientIdentifierNotValid => Some(Self::IdentifierRejected),
            ConnectReasonCode::ServerUnavailable => Some(Self::ServerUnavailable),
            ConnectReasonCode::BadUserNameOrPassword => Some(Self::BadUserNameOrPassword),
            ConnectReasonCode::NotAuthorized => Some(Self::NotAuthorized),
            _ => None,
        }
    }
}

impl From<ConnectReturnCode> for ConnectReasonCode {
    fn from(code: ConnectReturnCode) -> Self {
        code.to_reason_code()
    }
}

impl TryFrom<ConnectReasonCode> for ConnectReturnCode {
    type Error = ConnectReasonCode;

    /// The 3.1.1 return code with the same meaning; gives the code back if there is none.
    fn try_from(code: ConnectReasonCode) -> Result<Self, ConnectReasonCode> {
        Self::from_reason_code(code).ok_or(code)
    }
}

impl fmt::Display for ConnectReturnCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} (0x{:02X})", self, self.as_u8())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_packet_code_is_a_reason_code() {
        for code in ConnectReasonCode::ALL {
            assert_eq!(ReasonCode::from(*code).as_u8(), code.as_u8());
        }
        for code in DisconnectReasonCode::ALL {
            assert_eq!(ReasonCode::from(*code).as_u8(), code.as_u8());
        }
        for code in SubAckReasonCode::ALL {
            assert_eq!(ReasonCode::from(*code).as_u8(), code.as_u8());
        }
    }

    #[test]
    fn return_codes_map_both_ways() {
        for value in 0..=5 {
            let code = ConnectReturnCode::from_u8(value).unwrap();
            assert_eq!(
                ConnectReturnCode::from_reason_code(code.to_reason_code()),
                Some(code)
            );
        }
        assert_eq!(ConnectReturnCode::from_u8(6), None);
        assert_eq!(
            ConnectReturnCode::from_reason_code(ConnectReasonCode::Banned),
            None
        );
    }

    /// The per-packet sets hold exactly the values of the spec's tables.
    /// conformance: v5:MQTT-3.2.2-8, v5:MQTT-3.4.2-1, v5:MQTT-3.5.2-1, v5:MQTT-3.6.2-1,
    /// v5:MQTT-3.7.2-1, v5:MQTT-3.9.3-2, v5:MQTT-3.11.3-2, v5:MQTT-3.14.2-1, v5:MQTT-3.15.2-1
    #[test]
    fn per_packet_sets_match_the_spec_tables() {
        let values = |codes: &[u8]| codes.to_vec();
        let connack: Vec<u8> = ConnectReasonCode::ALL.iter().map(|c| c.as_u8()).collect();
        assert_eq!(
            connack,
            values(&[
                0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90,
                0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F
            ])
        );
        let puback: Vec<u8> = PubAckReasonCode::ALL.iter().map(|c| c.as_u8()).collect();
        assert_eq!(
            puback,
            values(&[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99])
        );
        let pubrel: Vec<u8> = PubRelReasonCode::ALL.iter().map(|c| c.as_u8()).collect();
        assert_eq!(pubrel, values(&[0x00, 0x92]));
        let suback: Vec<u8> = SubAckReasonCode::ALL.iter().map(|c| c.as_u8()).collect();
        assert_eq!(
            suback,
            values(&[
                0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2
            ])
        );
        let unsuback: Vec<u8> = UnsubAckReasonCode::ALL.iter().map(|c| c.as_u8()).collect();
        assert_eq!(
            unsuback,
            values(&[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91])
        );
        let disconnect: Vec<u8> = DisconnectReasonCode::ALL
            .iter()
            .map(|c| c.as_u8())
            .collect();
        assert_eq!(
            disconnect,
            values(&[
                0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93,
                0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1,
                0xA2
            ])
        );
        let auth: Vec<u8> = AuthReasonCode::ALL.iter().map(|c| c.as_u8()).collect();
        assert_eq!(auth, values(&[0x00, 0x18, 0x19]));
        for value in 0..=255u8 {
            assert_eq!(
                PubRelReasonCode::from_u8(value).is_some(),
                value == 0 || value == 0x92
            );
        }
    }
}
