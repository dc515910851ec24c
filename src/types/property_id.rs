//! [`PropertyId`]: the MQTT 5.0 property identifiers of section 2.2.2.2, and the type of each
//! one's value.

use core::fmt;

/// A property identifier ([§2.2.2.2]).
///
/// [§2.2.2.2]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901029
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum PropertyId {
    /// 0x01 Payload Format Indicator (byte).
    PayloadFormatIndicator = 0x01,
    /// 0x02 Message Expiry Interval (four byte integer).
    MessageExpiryInterval = 0x02,
    /// 0x03 Content Type (string).
    ContentType = 0x03,
    /// 0x08 Response Topic (string).
    ResponseTopic = 0x08,
    /// 0x09 Correlation Data (binary).
    CorrelationData = 0x09,
    /// 0x0B Subscription Identifier (variable byte integer).
    SubscriptionIdentifier = 0x0B,
    /// 0x11 Session Expiry Interval (four byte integer).
    SessionExpiryInterval = 0x11,
    /// 0x12 Assigned Client Identifier (string).
    AssignedClientIdentifier = 0x12,
    /// 0x13 Server Keep Alive (two byte integer).
    ServerKeepAlive = 0x13,
    /// 0x15 Authentication Method (string).
    AuthenticationMethod = 0x15,
    /// 0x16 Authentication Data (binary).
    AuthenticationData = 0x16,
    /// 0x17 Request Problem Information (byte).
    RequestProblemInformation = 0x17,
    /// 0x18 Will Delay Interval (four byte integer).
    WillDelayInterval = 0x18,
    /// 0x19 Request Response Information (byte).
    RequestResponseInformation = 0x19,
    /// 0x1A Response Information (string).
    ResponseInformation = 0x1A,
    /// 0x1C Server Reference (string).
    ServerReference = 0x1C,
    /// 0x1F Reason String (string).
    ReasonString = 0x1F,
    /// 0x21 Receive Maximum (two byte integer).
    ReceiveMaximum = 0x21,
    /// 0x22 Topic Alias Maximum (two byte integer).
    TopicAliasMaximum = 0x22,
    /// 0x23 Topic Alias (two byte integer).
    TopicAlias = 0x23,
    /// 0x24 Maximum QoS (byte).
    MaximumQos = 0x24,
    /// 0x25 Retain Available (byte).
    RetainAvailable = 0x25,
    /// 0x26 User Property (string pair).
    UserProperty = 0x26,
    /// 0x27 Maximum Packet Size (four byte integer).
    MaximumPacketSize = 0x27,
    /// 0x28 Wildcard Subscription Available (byte).
    WildcardSubscriptionAvailable = 0x28,
    /// 0x29 Subscription Identifier Available (byte).
    SubscriptionIdentifierAvailable = 0x29,
    /// 0x2A Shared Subscription Available (byte).
    SharedSubscriptionAvailable = 0x2A,
}

/// The data type of a property's value ([§1.5]).
///
/// [§1.5]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901006
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueKind {
    Byte,
    TwoByteInteger,
    FourByteInteger,
    VariableByteInteger,
    String,
    Binary,
    StringPair,
}

impl PropertyId {
    /// The identifier for a number, if MQTT 5.0 defines it.
    #[must_use]
    pub const fn from_u32(id: u32) -> Option<Self> {
        Some(match id {
            0x01 => Self::PayloadFormatIndicator,
            0x02 => Self::MessageExpiryInterval,
            0x03 => Self::ContentType,
            0x08 => Self::ResponseTopic,
            0x09 => Self::CorrelationData,
            0x0B => Self::SubscriptionIdentifier,
            0x11 => Self::SessionExpiryInterval,
            0x12 => Self::AssignedClientIdentifier,
            0x13 => Self::ServerKeepAlive,
            0x15 => Self::AuthenticationMethod,
            0x16 => Self::AuthenticationData,
            0x17 => Self::RequestProblemInformation,
            0x18 => Self::WillDelayInterval,
            0x19 => Self::RequestResponseInformation,
            0x1A => Self::ResponseInformation,
            0x1C => Self::ServerReference,
            0x1F => Self::ReasonString,
            0x21 => Self::ReceiveMaximum,
            0x22 => Self::TopicAliasMaximum,
            0x23 => Self::TopicAlias,
            0x24 => Self::MaximumQos,
            0x25 => Self::RetainAvailable,
            0x26 => Self::UserProperty,
            0x27 => Self::MaximumPacketSize,
            0x28 => Self::WildcardSubscriptionAvailable,
            0x29 => Self::SubscriptionIdentifierAvailable,
            0x2A => Self::SharedSubscriptionAvailable,
            _ => return None,
        })
    }

    /// The identifier byte.
    #[must_use]
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The property's name as the spec writes it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::PayloadFormatIndicator => "Payload Format Indicator",
            Self::MessageExpiryInterval => "Message Expiry Interval",
            Self::ContentType => "Content Type",
            Self::ResponseTopic => "Response Topic",
            Self::CorrelationData => "Correlation Data",
            Self::SubscriptionIdentifier => "Subscription Identifier",
            Self::SessionExpiryInterval => "Session Expiry Interval",
            Self::AssignedClientIdentifier => "Assigned Client Identifier",
            Self::ServerKeepAlive => "Server Keep Alive",
            Self::AuthenticationMethod => "Authentication Method",
            Self::AuthenticationData => "Authentication Data",
            Self::RequestProblemInformation => "Request Problem Information",
            Self::WillDelayInterval => "Will Delay Interval",
            Self::RequestResponseInformation => "Request Response Information",
            Self::ResponseInformation => "Response Information",
            Self::ServerReference => "Server Reference",
            Self::ReasonString => "Reason String",
            Self::ReceiveMaximum => "Receive Maximum",
            Self::TopicAliasMaximum => "Topic Alias Maximum",
            Self::TopicAlias => "Topic Alias",
            Self::MaximumQos => "Maximum QoS",
            Self::RetainAvailable => "Retain Available",
            Self::UserProperty => "User Property",
            Self::MaximumPacketSize => "Maximum Packet Size",
            Self::WildcardSubscriptionAvailable => "Wildcard Subscription Available",
            Self::SubscriptionIdentifierAvailable => "Subscription Identifier Available",
            Self::SharedSubscriptionAvailable => "Shared Subscription Available",
        }
    }

    pub(crate) const fn kind(self) -> ValueKind {
        match self {
            Self::PayloadFormatIndicator
            | Self::RequestProblemInformation
            | Self::RequestResponseInformation
            | Self::MaximumQos
            | Self::RetainAvailable
            | Self::WildcardSubscriptionAvailable
            | Self::SubscriptionIdentifierAvailable
            | Self::SharedSubscriptionAvailable => ValueKind::Byte,
            Self::ServerKeepAlive
            | Self::ReceiveMaximum
            | Self::TopicAliasMaximum
            | Self::TopicAlias => ValueKind::TwoByteInteger,
            Self::MessageExpiryInterval
            | Self::SessionExpiryInterval
            | Self::WillDelayInterval
            | Self::MaximumPacketSize => ValueKind::FourByteInteger,
            Self::SubscriptionIdentifier => ValueKind::VariableByteInteger,
            Self::ContentType
            | Self::ResponseTopic
            | Self::AssignedClientIdentifier
            | Self::AuthenticationMethod
            | Self::ResponseInformation
            | Self::ServerReference
            | Self::ReasonString => ValueKind::String,
            Self::CorrelationData | Self::AuthenticationData => ValueKind::Binary,
            Self::UserProperty => ValueKind::StringPair,
        }
    }
}

impl fmt::Display for PropertyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:02X})", self.name(), self.as_u8())
    }
}
