//! [`Side`]: which end of a connection a packet is received on.

use core::fmt;

use crate::types::{PacketType, ProtocolVersion};

/// Which end of a network connection the library plays: the one that sent CONNECT (the
/// client) or the one that received it (the server).
///
/// Each packet type flows in one direction or both ([§2.1.2]); a receiver must treat a packet
/// that may not flow towards it as a protocol violation. [`may_receive`](Self::may_receive)
/// holds that table.
///
/// ```
/// use mqtt_sansio::{PacketType, ProtocolVersion, Side};
///
/// assert!(Side::Server.may_receive(PacketType::Subscribe, ProtocolVersion::V5));
/// assert!(!Side::Client.may_receive(PacketType::Subscribe, ProtocolVersion::V5));
/// // A 5.0 server may send DISCONNECT; a 3.1.1 server may not.
/// assert!(Side::Client.may_receive(PacketType::Disconnect, ProtocolVersion::V5));
/// assert!(!Side::Client.may_receive(PacketType::Disconnect, ProtocolVersion::V3_1_1));
/// ```
///
/// [§2.1.2]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901022
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Side {
    /// The end that opens the connection with CONNECT and receives the server's packets.
    Client,
    /// The end that accepts connections and receives the client's packets.
    Server,
}

impl Side {
    /// Whether a packet of `packet_type` may be sent to this side in `version`, by the
    /// direction-of-flow column of the packet-type table (3.1.1 §2.2.1, 5.0 §2.1.2).
    ///
    /// PUBLISH, its acknowledgements and AUTH flow both ways. A client receives CONNACK,
    /// SUBACK, UNSUBACK and PINGRESP, and DISCONNECT only in 5.0 (3.1 and 3.1.1 define it as
    /// client to server). A server receives CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ and
    /// DISCONNECT. Whether the type exists in `version` at all (AUTH before 5.0) is the
    /// decoder's business, not this table's.
    #[must_use]
    pub const fn may_receive(self, packet_type: PacketType, version: ProtocolVersion) -> bool {
        match packet_type {
            PacketType::Publish
            | PacketType::PubAck
            | PacketType::PubRec
            | PacketType::PubRel
            | PacketType::PubComp
            | PacketType::Auth => true,
            PacketType::Connect
            | PacketType::Subscribe
            | PacketType::Unsubscribe
            | PacketType::PingReq => matches!(self, Self::Server),
            PacketType::ConnAck
            | PacketType::SubAck
            | PacketType::UnsubAck
            | PacketType::PingResp => matches!(self, Self::Client),
            PacketType::Disconnect => matches!(self, Self::Server) || version.is_v5(),
        }
    }

    /// The other end of the connection.
    #[must_use]
    pub const fn peer(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Client => "client",
            Self::Server => "server",
        })
    }
}
