//! Wire primitives and the shape of decoding: [`Buffer`], [`Decoded`], [`Limits`] and the
//! streaming [`Decoder`](crate::Decoder).
//!
//! # One decoder, two kinds of output
//!
//! Every packet type is generic over its storage `B: Buffer`, and each packet has a single
//! decoder written against [`Buffer`]:
//!
//! - decoding from a `&'a [u8]` gives packets whose strings are `&'a str` and whose binary
//!   fields and payload are `&'a [u8]`: no allocation at all, which is what a microcontroller
//!   client wants ([`Packet::decode`](crate::Packet::decode));
//! - decoding from a [`Bytes`](bytes::Bytes) gives packets whose fields are `Bytes` and
//!   [`ByteString`](bytestring::ByteString) slices sharing the input's storage: no copy, and
//!   the packet can outlive the read buffer, which is what a broker that stores and fans out
//!   messages wants ([`Packet::decode_bytes`](crate::Packet::decode_bytes), [`Decoder`](crate::Decoder)).
//!
//! The alternatives were two parsers (one borrowing, one owning), which would drift apart,
//! or an owned packet built from a borrowed one, which copies. A generic parser costs nothing
//! at run time: it is compiled once per buffer type.
//!
//! # Incremental input
//!
//! Decoding never fails on input that is merely short: it returns
//! [`Decoded::Incomplete`] with the number of bytes still needed, and the caller tries again
//! with more. As soon as the fixed header is complete its type, flags and Remaining Length
//! are checked against the version and [`Limits::max_packet_size`], so an oversized packet is
//! refused from its first five bytes without waiting for, or buffering, its body.

pub(crate) mod buffer;
pub(crate) mod frame;
pub(crate) mod int;
pub(crate) mod list;
pub(crate) mod reader;
pub(crate) mod scan;
pub(crate) mod string;

pub use buffer::Buffer;
pub use int::MAX_VAR_INT;
pub use list::{Iter as WireListIter, WireList};
pub use string::{BinaryData, MAX_STRING_LEN, MqttString, StringError};

/// The largest packet any version can carry: a five-byte fixed header and a Remaining Length of
/// 268,435,455.
pub const MAX_PACKET_SIZE: u32 = MAX_VAR_INT + 5;

/// The result of decoding from input that may hold only part of a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Decoded<T> {
    /// A whole packet was decoded from the start of the input.
    Complete {
        /// The packet.
        packet: T,
        /// How many bytes of the input it took; the next packet starts there.
        consumed: usize,
    },
    /// The input ends before the packet does.
    Incomplete {
        /// At least this many more bytes are needed (exact once the fixed header is complete).
        needed: usize,
    },
}

impl<T> Decoded<T> {
    /// The packet and the bytes it took, if complete.
    #[must_use]
    pub fn complete(self) -> Option<(T, usize)> {
        match self {
            Self::Complete { packet, consumed } => Some((packet, consumed)),
            Self::Incomplete { .. } => None,
        }
    }

    /// Whether a whole packet was decoded.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        matches!(self, Self::Complete { .. })
    }

    /// Converts the packet, keeping the byte counts.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Decoded<U> {
        match self {
            Self::Complete { packet, consumed } => Decoded::Complete {
                packet: f(packet),
                consumed,
            },
            Self::Incomplete { needed } => Decoded::Incomplete { needed },
        }
    }
}

/// Bounds applied while decoding.
///
/// ```
/// use mqtt_sansio::Limits;
///
/// let limits = Limits::new(64 * 1024);
/// assert_eq!(limits.max_packet_size, 65_536);
/// assert_eq!(Limits::default().max_packet_size, 1024 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// The largest packet accepted, in bytes, fixed header included (MQTT 5.0's Maximum
    /// Packet Size counts the same way). A larger packet is refused with
    /// [`DecodeError::PacketTooLarge`](crate::DecodeError::PacketTooLarge), whose reason code
    /// is 0x95.
    pub max_packet_size: u32,
}

impl Limits {
    /// The default maximum packet size: 1 MiB, enough for most deployments and small enough
    /// that a peer cannot make a buffering reader hold much. Raise it for larger messages.
    pub const DEFAULT_MAX_PACKET_SIZE: u32 = 1024 * 1024;

    /// Limits with this maximum packet size; values above [`MAX_PACKET_SIZE`] mean no limit
    /// beyond the protocol's own.
    #[must_use]
    pub const fn new(max_packet_size: u32) -> Self {
        Self { max_packet_size }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_PACKET_SIZE)
    }
}
