//! Helpers shared by the integration tests.

#![allow(dead_code)]

use mqtt_sansio::{DecodeError, Decoded, Limits, Packet, ProtocolVersion};

/// Bytes from hex text; whitespace, `_` and line breaks are ignored.
///
/// Panics on anything else, since test vectors are written by hand.
pub(crate) fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'_')
        .map(|b| {
            (b as char)
                .to_digit(16)
                .unwrap_or_else(|| panic!("bad hex digit {:?}", b as char)) as u8
        })
        .collect();
    assert!(
        digits.len().is_multiple_of(2),
        "odd number of hex digits in {text:?}"
    );
    digits
        .chunks(2)
        .map(|pair| pair[0] << 4 | pair[1])
        .collect()
}

/// Decodes exactly one whole packet from `bytes` (borrowed path), asserting it takes every byte.
pub(crate) fn decode_one(
    version: ProtocolVersion,
    bytes: &[u8],
) -> Result<Packet<&[u8]>, DecodeError> {
    match Packet::decode(version, bytes, &Limits::default())? {
        Decoded::Complete { packet, consumed } => {
            assert_eq!(consumed, bytes.len(), "packet did not take every byte");
            Ok(packet)
        }
        Decoded::Incomplete { needed } => panic!("incomplete: {needed} more bytes needed"),
    }
}

/// Encodes `packet` for `version`, checking `encoded_len` against what was written.
pub(crate) fn encode(packet: &Packet<&[u8]>, version: ProtocolVersion) -> Vec<u8> {
    let mut buf = Vec::new();
    let written = packet
        .encode(version, &mut buf)
        .unwrap_or_else(|e| panic!("encode {version}: {e}"));
    assert_eq!(written, buf.len());
    assert_eq!(packet.encoded_len(version), Ok(written));
    buf
}
