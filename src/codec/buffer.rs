//! [`Buffer`]: the byte-string type a decoded packet shares with its input.

use core::fmt::Debug;
use core::hash::Hash;
use core::ops::{Deref, Range};
use core::str::Utf8Error;

use bytes::Bytes;
use bytestring::ByteString;

/// The storage a packet's strings, binary fields and payload live in.
///
/// A packet type such as [`Publish<B>`](crate::Publish) is generic over `B`, and the one
/// decoder written against this trait serves both kinds of user:
///
/// | `B` | strings ([`Buffer::Str`]) | decoded from | allocation |
/// | --- | --- | --- | --- |
/// | `&'a [u8]` | `&'a str` | a borrowed slice | none |
/// | [`Bytes`] | [`ByteString`] | a shared `Bytes` | none; fields share the input's storage |
///
/// The trait is sealed: the decoder's zero-copy and no-panic guarantees depend on how these
/// two types slice themselves.
///
/// ```
/// use bytes::Bytes;
/// use mqtt_sansio::{Buffer, Limits, Packet, ProtocolVersion};
///
/// fn topic_len<B: Buffer>(packet: &Packet<B>) -> usize {
///     match packet {
///         Packet::Publish(publish) => publish.topic.as_ref().map_or(0, |topic| topic.len()),
///         _ => 0,
///     }
/// }
///
/// let wire = [0x30, 0x06, 0x00, 0x03, b'a', b'/', b'b', b'!'];
/// let limits = Limits::default();
/// let borrowed = Packet::decode(ProtocolVersion::V3_1_1, &wire, &limits)?;
/// let owned = Packet::decode_bytes(ProtocolVersion::V3_1_1, &Bytes::copy_from_slice(&wire), &limits)?;
/// assert_eq!(topic_len(&borrowed.complete().unwrap().0), 3);
/// assert_eq!(topic_len(&owned.complete().unwrap().0), 3);
/// # Ok::<(), mqtt_sansio::DecodeError>(())
/// ```
pub trait Buffer:
    Clone
    + Default
    + AsRef<[u8]>
    + Debug
    + Eq
    + Hash
    + sealed::Sealed<SealedStr = <Self as Buffer>::Str>
{
    /// The UTF-8 string type that shares storage with `Self`.
    type Str: Clone + Default + Debug + Eq + Ord + Hash + AsRef<str> + Deref<Target = str>;
}

pub(crate) mod sealed {
    use super::{Range, Utf8Error};

    /// The operations the decoder needs; private so that only this crate implements them.
    pub trait Sealed: Sized {
        /// The string type of the implementing buffer.
        type SealedStr;

        /// The bytes in `range`, sharing storage, or `None` if `range` is out of bounds.
        fn slice_checked(&self, range: Range<usize>) -> Option<Self>;

        /// The bytes as a string, sharing storage, if they are valid UTF-8.
        fn try_into_str(self) -> Result<Self::SealedStr, Utf8Error>;
    }
}

impl<'a> Buffer for &'a [u8] {
    type Str = &'a str;
}

impl<'a> sealed::Sealed for &'a [u8] {
    type SealedStr = &'a str;

    #[inline]
    fn slice_checked(&self, range: Range<usize>) -> Option<Self> {
        self.get(range)
    }

    #[inline]
    fn try_into_str(self) -> Result<&'a str, Utf8Error> {
        core::str::from_utf8(self)
    }
}

impl Buffer for Bytes {
    type Str = ByteString;
}

impl sealed::Sealed for Bytes {
    type SealedStr = ByteString;

    #[inline]
    fn slice_checked(&self, range: Range<usize>) -> Option<Self> {
        // `Bytes::slice` panics on a bad range; check it first.
        if range.start <= range.end && range.end <= self.len() {
            Some(self.slice(range))
        } else {
            None
        }
    }

    #[inline]
    fn try_into_str(self) -> Result<ByteString, Utf8Error> {
        // One validation pass; the string keeps sharing the input's storage.
        ByteString::try_from(self)
    }
}
