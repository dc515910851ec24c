//! The protocol's vocabulary, shared by every layer above it: [`ProtocolVersion`], [`QoS`],
//! [`PacketId`], [`PacketType`], [`PropertyId`] and [`Side`]. Nothing here imports from the rest of the
//! crate.

use core::fmt;
use core::num::NonZeroU16;

mod packet_type;
mod property_id;
mod side;
pub(crate) mod stored;

pub use packet_type::PacketType;
pub use property_id::PropertyId;
pub(crate) use property_id::ValueKind;
pub use side::Side;

/// The MQTT protocol version of a connection, as carried by the CONNECT Protocol Level.
///
/// The version is learnt from CONNECT and then passed to every encode and decode call, because
/// the same packet type has a different layout in each version (5.0 adds properties and
/// reason codes).
///
/// `V5` exists only with the `v5` feature (on by default): a build without it
/// leaves every 5.0 path out, and reads a CONNECT of level 5 as an unsupported version. The
/// enum is `#[non_exhaustive]` so that a crate matching on it keeps compiling whichever
/// crate in the build turns `v5` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// MQTT 3.1: protocol name `MQIsdp`, level 3.
    V3_1 = 3,
    /// MQTT 3.1.1 (OASIS Standard, 2014): protocol name `MQTT`, level 4.
    V3_1_1 = 4,
    /// MQTT 5.0 (OASIS Standard, 2019): protocol name `MQTT`, level 5.
    #[cfg(feature = "v5")]
    V5 = 5,
}

impl ProtocolVersion {
    /// All versions this build speaks, oldest first.
    pub const ALL: &'static [Self] = &[
        Self::V3_1,
        Self::V3_1_1,
        #[cfg(feature = "v5")]
        Self::V5,
    ];

    /// The newest version this build speaks: 5.0, or 3.1.1 without the `v5` feature.
    #[cfg(feature = "v5")]
    pub const LATEST: Self = Self::V5;
    /// The newest version this build speaks: 5.0, or 3.1.1 without the `v5` feature.
    #[cfg(not(feature = "v5"))]
    pub const LATEST: Self = Self::V3_1_1;

    /// The Protocol Level byte of CONNECT.
    #[must_use]
    pub const fn level(self) -> u8 {
        self as u8
    }

    /// The Protocol Name of CONNECT: `MQIsdp` for 3.1, `MQTT` otherwise.
    #[must_use]
    pub const fn protocol_name(self) -> &'static str {
        match self {
            Self::V3_1 => "MQIsdp",
            #[cfg(feature = "v5")]
            Self::V5 => "MQTT",
            Self::V3_1_1 => "MQTT",
        }
    }

    /// The version for a Protocol Level byte, if this build speaks it (5 needs the `v5`
    /// feature).
    #[must_use]
    pub const fn from_level(level: u8) -> Option<Self> {
        match level {
            3 => Some(Self::V3_1),
            4 => Some(Self::V3_1_1),
            #[cfg(feature = "v5")]
            5 => Some(Self::V5),
            _ => None,
        }
    }

    /// Whether packets of this version carry properties and reason codes (MQTT 5.0).
    ///
    /// Without the `v5` feature this is the constant `false`, which is what lets the compiler
    /// leave out every 5.0 path behind it.
    #[must_use]
    pub const fn is_v5(self) -> bool {
        #[cfg(feature = "v5")]
        return matches!(self, Self::V5);
        #[cfg(not(feature = "v5"))]
        return false;
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V3_1 => "3.1",
            Self::V3_1_1 => "3.1.1",
            #[cfg(feature = "v5")]
            Self::V5 => "5.0",
        })
    }
}

/// Quality of Service: the delivery guarantee of an Application Message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum QoS {
    /// QoS 0: delivered at most once, never acknowledged.
    #[default]
    AtMostOnce = 0,
    /// QoS 1: delivered at least once, acknowledged by PUBACK.
    AtLeastOnce = 1,
    /// QoS 2: delivered exactly once, by the PUBREC, PUBREL, PUBCOMP exchange.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS for its two-bit wire value; `None` for 3, which no packet may carry.
    #[must_use]
    pub const fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            0 => Some(Self::AtMostOnce),
            1 => Some(Self::AtLeastOnce),
            2 => Some(Self::ExactlyOnce),
            _ => None,
        }
    }

    /// The two-bit wire value.
    #[must_use]
    pub const fn bits(self) -> u8 {
        self as u8
    }
}

/// A Packet Identifier: the non-zero 16-bit number that pairs a packet with its
/// acknowledgement.
///
/// Zero is not a valid identifier (`[MQTT-2.3.1-1]` in 3.1.1, `[MQTT-2.2.1-3]` in 5.0), so it
/// cannot be represented.
///
/// ```
/// use mqtt_sansio::PacketId;
///
/// let id = PacketId::new(10).expect("non-zero");
/// assert_eq!(id.get(), 10);
/// assert!(PacketId::new(0).is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PacketId(NonZeroU16);

impl PacketId {
    /// The smallest identifier, 1.
    pub const MIN: Self = Self(NonZeroU16::MIN);
    /// The largest identifier, 65,535.
    pub const MAX: Self = Self(NonZeroU16::MAX);

    /// The identifier with this value, or `None` for 0.
    #[must_use]
    pub const fn new(value: u16) -> Option<Self> {
        match NonZeroU16::new(value) {
            Some(id) => Some(Self(id)),
            None => None,
        }
    }

    /// The identifier's value.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0.get()
    }

    /// The identifier that follows this one, wrapping from 65,535 to 1.
    #[must_use]
    pub const fn next(self) -> Self {
        match self.0.checked_add(1) {
            Some(id) => Self(id),
            None => Self::MIN,
        }
    }
}

impl From<NonZeroU16> for PacketId {
    fn from(value: NonZeroU16) -> Self {
        Self(value)
    }
}

impl From<PacketId> for u16 {
    fn from(value: PacketId) -> Self {
        value.get()
    }
}

impl fmt::Display for PacketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_id_wraps_to_one() {
        assert_eq!(PacketId::MAX.next(), PacketId::MIN);
        assert_eq!(PacketId::MIN.next().get(), 2);
    }

    #[test]
    fn version_levels_round_trip() {
        for &version in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::from_level(version.level()), Some(version));
        }
        assert_eq!(ProtocolVersion::from_level(6), None);
    }

    #[test]
    fn qos_three_does_not_exist() {
        assert_eq!(QoS::from_bits(3), None);
        assert_eq!(QoS::from_bits(2), Some(QoS::ExactlyOnce));
    }
}
