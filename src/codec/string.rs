//! Length-prefixed strings and binary data ([§1.5.4], [§1.5.6]): [`MqttString`] and
//! [`BinaryData`].
//!
//! [§1.5.4]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901010
//! [§1.5.6]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901012

use core::fmt;
use core::ops::Deref;

use bytes::{BufMut, Bytes};

use crate::codec::arena::{Arena, Detach, detach_methods};
use crate::codec::buffer::Buffer;
use crate::codec::reader::Reader;
use crate::codec::scan::has_nul;
use crate::error::DecodeError;

/// The most bytes a string or binary field can hold: its length prefix is 16 bits.
pub const MAX_STRING_LEN: usize = 65_535;

/// Why a value cannot be an MQTT string or binary field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StringError {
    /// Longer than 65,535 bytes.
    #[error("longer than 65,535 bytes")]
    TooLong,
    /// Contains U+0000.
    #[error("contains U+0000")]
    Nul,
}

/// A UTF-8 Encoded String: well-formed UTF-8 without U+0000, at most 65,535 bytes.
///
/// Rust's `str` already excludes surrogates and overlong forms (`[MQTT-1.5.4-1]`); this type
/// adds the U+0000 rule (`[MQTT-1.5.4-2]`) and the length limit. A U+FEFF (bytes EF BB BF) is
/// an ordinary character and is kept (`[MQTT-1.5.4-3]`). The code points the spec says SHOULD
/// NOT appear (controls, non-characters) are accepted, as the spec allows.
///
/// ```
/// use mqtt_sansio::MqttString;
///
/// let name = MqttString::<&[u8]>::new("sensor-1").unwrap();
/// assert_eq!(name.as_str(), "sensor-1");
/// assert!(MqttString::<&[u8]>::new("a\0b").is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MqttString<B: Buffer>(B::Str);

impl<B: Buffer> MqttString<B> {
    /// Checks `value` against the string rules.
    pub fn new(value: impl Into<B::Str>) -> Result<Self, StringError> {
        let value = value.into();
        check_str(value.as_bytes())?;
        Ok(Self(value))
    }

    /// The string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying string, sharing storage with the packet it came from.
    #[must_use]
    pub fn into_inner(self) -> B::Str {
        self.0
    }

    /// The encoded size: the two-byte length and the bytes.
    #[inline]
    pub(crate) fn encoded_len(&self) -> usize {
        self.0.len().saturating_add(2)
    }

    /// Writes the two-byte length and the bytes.
    #[inline]
    pub(crate) fn write(&self, buf: &mut impl BufMut) {
        put_prefixed(buf, self.0.as_bytes());
    }
}

impl<B: Buffer> Deref for MqttString<B> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<B: Buffer> AsRef<str> for MqttString<B> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<B: Buffer> PartialEq<str> for MqttString<B> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl<B: Buffer> PartialEq<&str> for MqttString<B> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl<B: Buffer> fmt::Debug for MqttString<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<B: Buffer> fmt::Display for MqttString<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Binary Data: up to 65,535 bytes with a two-byte length prefix.
///
/// ```
/// use mqtt_sansio::BinaryData;
///
/// let data = BinaryData::<&[u8]>::new(&b"\x00\x01"[..]).unwrap();
/// assert_eq!(data.as_bytes(), b"\x00\x01");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BinaryData<B: Buffer>(B);

impl<B: Buffer> BinaryData<B> {
    /// Checks the length of `value`.
    pub fn new(value: impl Into<B>) -> Result<Self, StringError> {
        let value = value.into();
        if value.as_ref().len() > MAX_STRING_LEN {
            return Err(StringError::TooLong);
        }
        Ok(Self(value))
    }

    /// The bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_ref()
    }

    /// The underlying buffer, sharing storage with the packet it came from.
    #[must_use]
    pub fn into_inner(self) -> B {
        self.0
    }

    /// How many bytes there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.as_ref().len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_empty()
    }

    /// The encoded size: the two-byte length and the bytes.
    #[inline]
    pub(crate) fn encoded_len(&self) -> usize {
        self.len().saturating_add(2)
    }

    /// Writes the two-byte length and the bytes.
    #[inline]
    pub(crate) fn write(&self, buf: &mut impl BufMut) {
        put_prefixed(buf, self.0.as_ref());
    }
}

impl<B: Buffer> AsRef<[u8]> for BinaryData<B> {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl<B: Buffer> fmt::Debug for BinaryData<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BinaryData({:02x?})", self.as_bytes())
    }
}

impl<B: Buffer> Detach for MqttString<B> {
    type Detached = MqttString<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> MqttString<Bytes> {
        MqttString(arena.string(self.as_str()))
    }
}

impl<B: Buffer> Detach for BinaryData<B> {
    type Detached = BinaryData<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> BinaryData<Bytes> {
        BinaryData(arena.bytes(self.as_bytes()))
    }
}

detach_methods!(MqttString, "the string");
detach_methods!(BinaryData, "the data");

/// Checks the rules every string obeys beyond being UTF-8: no U+0000 and at most 65,535 bytes.
///
/// In well-formed UTF-8 the byte 0x00 only ever encodes U+0000, so a byte scan suffices.
#[inline]
pub(crate) fn check_str(bytes: &[u8]) -> Result<(), StringError> {
    if bytes.len() > MAX_STRING_LEN {
        Err(StringError::TooLong)
    } else if has_nul(bytes) {
        Err(StringError::Nul)
    } else {
        Ok(())
    }
}

/// Writes a two-byte length and the bytes; callers guarantee at most 65,535 bytes.
#[inline]
pub(crate) fn put_prefixed(buf: &mut impl BufMut, bytes: &[u8]) {
    buf.put_u16(u16::try_from(bytes.len()).unwrap_or(u16::MAX));
    buf.put_slice(bytes);
}

impl<B: Buffer> Reader<'_, B> {
    /// Reads a two-byte length and that many bytes.
    #[inline]
    pub(crate) fn prefixed(&mut self, field: &'static str) -> Result<B, DecodeError> {
        let len = self.u16(field)?;
        self.take(usize::from(len), field)
    }

    /// Reads a UTF-8 Encoded String, rejecting ill-formed UTF-8 (`[MQTT-1.5.4-1]`) and
    /// U+0000 (`[MQTT-1.5.4-2]`).
    #[inline]
    pub(crate) fn str(&mut self, field: &'static str) -> Result<B::Str, DecodeError> {
        let bytes = self.prefixed(field)?;
        Self::checked_str(bytes, field)
    }

    /// Checks the U+0000 and UTF-8 rules on `bytes` read for `field`.
    pub(crate) fn checked_str(bytes: B, field: &'static str) -> Result<B::Str, DecodeError> {
        if has_nul(bytes.as_ref()) {
            return Err(DecodeError::NulCharacter { field });
        }
        bytes
            .try_into_str()
            .map_err(|_| DecodeError::InvalidUtf8 { field })
    }

    /// Reads a UTF-8 Encoded String as an [`MqttString`].
    #[inline]
    pub(crate) fn string(&mut self, field: &'static str) -> Result<MqttString<B>, DecodeError> {
        self.str(field).map(MqttString)
    }

    /// Reads Binary Data.
    #[inline]
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<BinaryData<B>, DecodeError> {
        self.prefixed(field).map(BinaryData)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<&str, DecodeError> {
        let mut reader = Reader::new(&bytes, 0..bytes.len());
        reader.str("s")
    }

    #[test]
    fn reads_a_string() {
        assert_eq!(read(&[0x00, 0x02, b'h', b'i']), Ok("hi"));
        assert_eq!(read(&[0x00, 0x00]), Ok(""));
        assert_eq!(
            read(&[0x00, 0x03, b'h', b'i']),
            Err(DecodeError::UnexpectedEnd { field: "s" })
        );
    }

    /// Surrogates, overlong forms and stray continuation bytes are ill-formed.
    /// conformance: v311:MQTT-1.5.3-1, v5:MQTT-1.5.4-1
    #[test]
    fn ill_formed_utf8_is_rejected() {
        let invalid = Err(DecodeError::InvalidUtf8 { field: "s" });
        // U+D800 encoded as if it were a scalar value.
        assert_eq!(read(&[0x00, 0x03, 0xED, 0xA0, 0x80]), invalid);
        // Overlong '/'.
        assert_eq!(read(&[0x00, 0x02, 0xC0, 0xAF]), invalid);
        assert_eq!(read(&[0x00, 0x01, 0x80]), invalid);
        assert_eq!(read(&[0x00, 0x01, 0xFF]), invalid);
    }

    /// conformance: v311:MQTT-1.5.3-2, v5:MQTT-1.5.4-2
    #[test]
    fn nul_is_rejected() {
        assert_eq!(
            read(&[0x00, 0x03, b'a', 0x00, b'b']),
            Err(DecodeError::NulCharacter { field: "s" })
        );
        assert_eq!(MqttString::<&[u8]>::new("a\0"), Err(StringError::Nul));
    }

    /// The spec's own example: "A" followed by U+2A6D4 and a BOM that must be kept.
    /// conformance: v311:MQTT-1.5.3-3, v5:MQTT-1.5.4-3
    #[test]
    fn byte_order_mark_is_kept() {
        let bytes = [0x00, 0x05, b'A', 0xEF, 0xBB, 0xBF, b'B'];
        assert_eq!(read(&bytes), Ok("A\u{FEFF}B"));
        let spec = [0x00, 0x05, 0x41, 0xF0, 0xAA, 0x9B, 0x94];
        assert_eq!(read(&spec), Ok("A\u{2A6D4}"));
    }

    #[test]
    fn limits_are_enforced_on_construction() {
        let long = "x".repeat(MAX_STRING_LEN + 1);
        assert_eq!(
            MqttString::<&[u8]>::new(long.as_str()),
            Err(StringError::TooLong)
        );
        assert_eq!(
            BinaryData::<&[u8]>::new(long.as_bytes()),
            Err(StringError::TooLong)
        );
        assert!(MqttString::<&[u8]>::new(&long[1..]).is_ok());
    }
}
