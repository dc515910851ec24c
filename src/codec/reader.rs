//! [`Reader`]: a cursor over one packet's bytes that hands out slices sharing its buffer.

use core::ops::Range;

use crate::codec::buffer::Buffer;
use crate::codec::int::read_var_int;
use crate::error::DecodeError;
use crate::types::PacketType;

/// A bounded cursor over `buf[pos..end]`.
///
/// Every read checks the bytes left before it trusts a length, so no read can pass `end`:
/// a packet's fields are bounded by its Remaining Length, and a property's by its Property
/// Length. Slices come from [`Buffer`], so they share the input's storage.
///
/// `pub` only because the sealed list-item trait mentions it; the module is private, so it is
/// not part of the API.
#[derive(Debug)]
#[allow(unreachable_pub)]
pub struct Reader<'b, B> {
    buf: &'b B,
    pos: usize,
    end: usize,
}

impl<'b, B: Buffer> Reader<'b, B> {
    /// A reader over `range` of `buf`; an out-of-bounds range reads as empty.
    #[inline]
    pub(crate) fn new(buf: &'b B, range: Range<usize>) -> Self {
        let len = buf.as_ref().len();
        let end = range.end.min(len);
        Self {
            buf,
            pos: range.start.min(end),
            end,
        }
    }

    /// The unread bytes.
    #[inline]
    pub(crate) fn bytes(&self) -> &'b [u8] {
        self.buf
            .as_ref()
            .get(self.pos..self.end)
            .unwrap_or_default()
    }

    /// How many bytes are left.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// Whether every byte has been read.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    /// The absolute position in the buffer.
    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The buffer this reader reads from.
    #[inline]
    pub(crate) fn buffer(&self) -> &'b B {
        self.buf
    }

    /// Moves past `len` bytes that a caller has already inspected through [`Self::bytes`].
    #[inline]
    fn advance(&mut self, len: usize) {
        self.pos = self.pos.saturating_add(len).min(self.end);
    }

    /// Reads one byte.
    #[inline]
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let byte = *self
            .bytes()
            .first()
            .ok_or(DecodeError::UnexpectedEnd { field })?;
        self.advance(1);
        Ok(byte)
    }

    /// Reads a big-endian Two Byte Integer.
    #[inline]
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        match *self.bytes() {
            [high, low, ..] => {
                self.advance(2);
                Ok(u16::from_be_bytes([high, low]))
            }
            _ => Err(DecodeError::UnexpectedEnd { field }),
        }
    }

    /// Reads a big-endian Four Byte Integer.
    #[inline]
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        match *self.bytes() {
            [a, b, c, d, ..] => {
                self.advance(4);
                Ok(u32::from_be_bytes([a, b, c, d]))
            }
            _ => Err(DecodeError::UnexpectedEnd { field }),
        }
    }

    /// Reads a Variable Byte Integer in its shortest form.
    #[inline]
    pub(crate) fn var_int(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let (value, len) =
            read_var_int(self.bytes(), field)?.ok_or(DecodeError::UnexpectedEnd { field })?;
        self.advance(len);
        Ok(value)
    }

    /// Takes the next `len` bytes as a slice sharing the buffer.
    #[inline]
    pub(crate) fn take(&mut self, len: usize, field: &'static str) -> Result<B, DecodeError> {
        if len > self.remaining() {
            return Err(DecodeError::UnexpectedEnd { field });
        }
        let start = self.pos;
        let slice = self
            .buf
            .slice_checked(start..start.saturating_add(len))
            .ok_or(DecodeError::UnexpectedEnd { field })?;
        self.advance(len);
        Ok(slice)
    }

    /// Takes every byte that is left.
    #[inline]
    pub(crate) fn take_rest(&mut self, field: &'static str) -> Result<B, DecodeError> {
        self.take(self.remaining(), field)
    }

    /// Skips the next `len` bytes.
    #[inline]
    pub(crate) fn skip(&mut self, len: usize, field: &'static str) -> Result<(), DecodeError> {
        if len > self.remaining() {
            return Err(DecodeError::UnexpectedEnd { field });
        }
        self.advance(len);
        Ok(())
    }

    /// Checks that every byte of the packet body has been read: bytes after the last field
    /// make the packet malformed.
    #[inline]
    pub(crate) fn finish(&self, packet: PacketType) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                packet,
                count: u32::try_from(self.remaining()).unwrap_or(u32::MAX),
            })
        }
    }

    /// Splits off a reader over the next `len` bytes and moves this one past them.
    #[inline]
    pub(crate) fn sub_reader(
        &mut self,
        len: usize,
        field: &'static str,
    ) -> Result<Self, DecodeError> {
        if len > self.remaining() {
            return Err(DecodeError::UnexpectedEnd { field });
        }
        let start = self.pos;
        self.advance(len);
        Ok(Self {
            buf: self.buf,
            pos: start,
            end: self.pos,
        })
    }
}
