//! Integers on the wire: big-endian `u16`/`u32` and the Variable Byte Integer ([§1.5.5]).
//!
//! [§1.5.5]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901011

use bytes::BufMut;

use crate::error::DecodeError;

/// The largest value a Variable Byte Integer can carry: 268,435,455.
pub const MAX_VAR_INT: u32 = 268_435_455;

/// How many bytes the Variable Byte Integer encoding of `value` takes (1 to 4).
///
/// Values above [`MAX_VAR_INT`] are never encoded: callers check them first.
#[inline]
pub(crate) const fn var_int_len(value: usize) -> usize {
    // One byte, and one more for each 7-bit boundary passed: comparisons without branches,
    // fewer instructions than a match wherever this is inlined. The sum is at most 4.
    1usize
        .wrapping_add((value > 127) as usize)
        .wrapping_add((value > 16_383) as usize)
        .wrapping_add((value > 2_097_151) as usize)
}

/// Writes `value` (at most [`MAX_VAR_INT`]) as a Variable Byte Integer in its shortest form.
#[inline]
pub(crate) fn put_var_int(buf: &mut impl BufMut, value: usize) {
    let mut rest = value;
    loop {
        // The low seven bits; `as` keeps them exactly.
        let byte = (rest & 0x7F) as u8;
        rest >>= 7;
        if rest == 0 {
            buf.put_u8(byte);
            return;
        }
        buf.put_u8(byte | 0x80);
    }
}

/// Reads a Variable Byte Integer from the start of `input`.
///
/// Returns the value and its length, `Ok(None)` if `input` ends before the last byte, or an
/// error for a fifth continuation byte or a non-minimal encoding (`[MQTT-1.5.5-1]` in 5.0; this
/// crate applies the same rule to 3.1 and 3.1.1, whose text describes only the minimal form).
#[inline]
pub(crate) fn read_var_int(
    input: &[u8],
    field: &'static str,
) -> Result<Option<(u32, usize)>, DecodeError> {
    let mut value: u32 = 0;
    let mut shift: u32 = 0;
    // `len` counts the bytes read so far, 1 to 4.
    for (len, &byte) in (1..=4).zip(input) {
        value |= u32::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            // A last byte of 0 after a first byte means a longer encoding than needed.
            if byte == 0 && len > 1 {
                return Err(DecodeError::VarIntNotMinimal { field });
            }
            return Ok(Some((value, len)));
        }
        shift = shift.wrapping_add(7);
    }
    if input.len() >= 4 {
        Err(DecodeError::VarIntTooLong { field })
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_match_the_spec_table() {
        // §1.5.5 gives the ranges of each length.
        for (value, len) in [
            (0, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (2_097_151, 3),
            (2_097_152, 4),
            (268_435_455, 4),
        ] {
            let mut buf = Vec::new();
            put_var_int(&mut buf, value);
            assert_eq!(buf.len(), len, "{value}");
            assert_eq!(var_int_len(value), len, "{value}");
            assert_eq!(read_var_int(&buf, "test"), Ok(Some((value as u32, len))));
        }
    }

    #[test]
    fn spec_examples_decode() {
        assert_eq!(read_var_int(&[0x00], "t"), Ok(Some((0, 1))));
        assert_eq!(read_var_int(&[0x80, 0x01], "t"), Ok(Some((128, 2))));
        assert_eq!(
            read_var_int(&[0xFF, 0xFF, 0xFF, 0x7F], "t"),
            Ok(Some((MAX_VAR_INT, 4)))
        );
    }

    /// conformance: v5:MQTT-1.5.5-1
    #[test]
    fn non_minimal_encodings_are_rejected() {
        let error = Err(DecodeError::VarIntNotMinimal { field: "t" });
        assert_eq!(read_var_int(&[0x80, 0x00], "t"), error);
        assert_eq!(read_var_int(&[0xFF, 0x80, 0x00], "t"), error);
        assert_eq!(read_var_int(&[0x81, 0x80, 0x80, 0x00], "t"), error);
    }

    #[test]
    fn fifth_byte_is_rejected_and_short_input_is_incomplete() {
        assert_eq!(
            read_var_int(&[0x80, 0x80, 0x80, 0x80, 0x01], "t"),
            Err(DecodeError::VarIntTooLong { field: "t" })
        );
        assert_eq!(read_var_int(&[0x80, 0x80, 0x80], "t"), Ok(None));
        assert_eq!(read_var_int(&[], "t"), Ok(None));
    }
}
