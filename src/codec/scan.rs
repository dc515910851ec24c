//! Word-at-a-time searches for the bytes that make strings and topics invalid.
//!
//! The checks every string and Topic Name needs (no U+0000; no `+` or `#` in a Topic Name) are
//! searches for a few byte values. Reading eight bytes at a time and testing all of them with a
//! handful of integer operations is several times faster than a byte loop or `memchr` on the
//! short strings MQTT carries, and needs no `unsafe`.
//!
//! A Topic Name (not a filter, which usually holds a wildcard) is first tested for any byte
//! below `,` (0x2C), one subtraction per word:
//! U+0000, `#` (0x23) and `+` (0x2B) all lie below it, and the bytes topics are usually made
//! of (letters, digits, `/`, `-`, `_`, `.`) do not, so most names are settled by that test
//! alone and only the rest take the exact three-way search.

/// 0x01 in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;
/// 0x80 in every byte.
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// `byte` repeated in every byte of a word.
const fn splat(byte: u8) -> u64 {
    ONES.wrapping_mul(byte as u64)
}

/// Non-zero if and only if some byte of `word` is zero.
///
/// Exact as a yes/no answer: subtracting 1 from each byte borrows into the byte's high bit only
/// for a zero byte or a byte whose high bit was already set, and `!word` clears the latter.
/// (Which bits are set says nothing reliable about *where* the zero is.)
#[inline(always)]
const fn zero_byte_mask(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// Non-zero if and only if some byte of `word` is below `limit`, for `limit` at most 0x80.
///
/// Exact as a yes/no answer for the same reason as [`zero_byte_mask`], which is the case
/// `limit == 1`.
#[inline(always)]
const fn below_mask(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(splat(limit)) & !word & HIGHS
}

/// The byte a slice shorter than a word is padded with: `a`, which none of the searches here
/// look for (it is neither U+0000, `+` nor `#`, and not below `,`).
const PAD: u8 = b'a';

/// Whether `mask` is non-zero for some word of `bytes`, eight bytes at a time.
///
/// The masks of all words are OR-ed together and tested once: the strings are short and a hit
/// is rare, so a branch per word would cost more than it saves. A tail shorter than a word is
/// tested as the last eight bytes of `bytes`, overlapping the previous word (harmless for an
/// "any" search); a slice shorter than a word is packed into one word padded with [`PAD`].
#[inline(always)]
fn any_word(bytes: &[u8], mask: impl Fn(u64) -> u64) -> bool {
    let mut found = 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        found |= mask(word_of(chunk));
    }
    if !chunks.remainder().is_empty() {
        let last = match bytes
            .len()
            .checked_sub(8)
            .and_then(|start| bytes.get(start..))
        {
            Some(last) => word_of(last),
            None => bytes
                .iter()
                .rev()
                .fold(splat(PAD), |word, &byte| (word << 8) | u64::from(byte)),
        };
        found |= mask(last);
    }
    found != 0
}

/// The eight bytes of `chunk` as a little-endian word.
///
/// Callers pass exactly eight bytes; for anything else the word is 0, which every search here
/// reports as a hit, so the caller falls back to its exact byte-by-byte check.
#[inline(always)]
fn word_of(chunk: &[u8]) -> u64 {
    <[u8; 8]>::try_from(chunk).map_or(0, u64::from_le_bytes)
}

/// Whether `bytes` contains 0x00, the only encoding of U+0000 in well-formed UTF-8.
#[inline]
pub(crate) fn has_nul(bytes: &[u8]) -> bool {
    any_word(bytes, zero_byte_mask)
}

/// Whether `bytes` contains 0x00, `+` or `#`, searched for exactly: for Topic Filters, which
/// usually hold a wildcard.
#[inline]
pub(crate) fn has_nul_or_wildcard(bytes: &[u8]) -> bool {
    any_word(bytes, |word| {
        zero_byte_mask(word)
            | zero_byte_mask(word ^ splat(b'+'))
            | zero_byte_mask(word ^ splat(b'#'))
    })
}

/// The same answer as [`has_nul_or_wildcard`], for Topic Names, which almost never hold any of
/// the three: all lie below `,`, so a name without such a byte is settled by one test per word.
#[inline]
pub(crate) fn name_has_nul_or_wildcard(bytes: &[u8]) -> bool {
    any_word(bytes, |word| below_mask(word, b',')) && has_nul_or_wildcard(bytes)
}

/// The position of the first `byte` in `bytes`, eight bytes at a time (for the level
/// separator of a topic: levels are short, and a byte loop costs a branch per byte).
///
/// In the word test, the lowest byte flagged is always a match: a byte's borrow reaches only
/// the bytes above it, so only those can be flagged falsely.
#[inline]
pub(crate) fn find_byte(bytes: &[u8], byte: u8) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0usize;
    for chunk in &mut chunks {
        let found = zero_byte_mask(word_of(chunk) ^ splat(byte));
        if found != 0 {
            return Some(at.saturating_add((found.trailing_zeros() / 8) as usize));
        }
        at = at.saturating_add(8);
    }
    // The tail, packed low byte first and padded with a byte other than `byte`.
    let pad = if byte == PAD {
        PAD.wrapping_add(1)
    } else {
        PAD
    };
    let tail = chunks
        .remainder()
        .iter()
        .rev()
        .fold(splat(pad), |word, &next| (word << 8) | u64::from(next));
    let found = zero_byte_mask(tail ^ splat(byte));
    (found != 0).then(|| at.saturating_add((found.trailing_zeros() / 8) as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every position, every length up to three words, and every byte value agree with a
    /// byte-by-byte search.
    #[test]
    fn below_mask_agrees_with_a_byte_loop() {
        for len in 0..=24 {
            for position in 0..len {
                for value in 0..=255u8 {
                    let mut bytes = vec![b'z'; len];
                    bytes[position] = value;
                    let below = any_word(&bytes, |word| below_mask(word, b','));
                    assert_eq!(below, bytes.iter().any(|&b| b < b','), "{bytes:?}");
                }
            }
        }
    }

    /// Every position of the first match, in every length up to three words, and bytes
    /// that borrow (0x00, 0x80, the byte above) around it.
    #[test]
    fn find_byte_agrees_with_position() {
        for len in 0..=24 {
            for position in 0..=len {
                for filler in [b'a', 0x00, 0x80, b'/' + 1, b'/' - 1, 0xFF] {
                    let mut bytes = vec![filler; len];
                    if let Some(byte) = bytes.get_mut(position) {
                        *byte = b'/';
                    }
                    if position + 1 < len {
                        bytes[position + 1] = b'/';
                    }
                    let expected = bytes.iter().position(|&b| b == b'/');
                    assert_eq!(find_byte(&bytes, b'/'), expected, "{bytes:?}");
                }
            }
        }
        assert_eq!(find_byte(b"aaa", PAD), Some(0));
        assert_eq!(find_byte(b"bbb", PAD), None);
    }

    #[test]
    fn agrees_with_a_byte_loop() {
        for len in 0..=24 {
            for position in 0..len {
                for value in 0..=255u8 {
                    let mut bytes = vec![b'a'; len];
                    bytes[position] = value;
                    assert_eq!(has_nul(&bytes), bytes.contains(&0), "{bytes:?}");
                    let expected = bytes.iter().any(|&b| matches!(b, 0 | b'+' | b'#'));
                    assert_eq!(has_nul_or_wildcard(&bytes), expected, "{bytes:?}");
                    assert_eq!(name_has_nul_or_wildcard(&bytes), expected, "{bytes:?}");
                }
            }
            assert!(!has_nul(&vec![0xFF; len]));
            assert!(!has_nul_or_wildcard(&vec![0x80; len]));
            // Bytes below `,` that are none of the three take the exact search and pass it.
            assert!(!name_has_nul_or_wildcard(&vec![b'$'; len]));
            assert!(!name_has_nul_or_wildcard(&vec![b' '; len]));
        }
    }
}
