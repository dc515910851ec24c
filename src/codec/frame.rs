//! The fixed header ([§2.1]): packet type, flags, Remaining Length, and the maximum packet
//! size check that runs as soon as the Remaining Length is known.
//!
//! [§2.1]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901020

use bytes::BufMut;

use crate::codec::int::{MAX_VAR_INT, put_var_int, read_var_int, var_int_len};
use crate::error::{DecodeError, EncodeError};
use crate::types::PacketType;
use crate::types::ProtocolVersion;

/// The smallest packet: a first byte and a one-byte Remaining Length of 0.
pub(crate) const MIN_PACKET_LEN: usize = 2;

/// A parsed fixed header whose type and flags are valid for the version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FixedHeader {
    /// The packet type.
    pub(crate) packet_type: PacketType,
    /// The low four bits of the first byte.
    pub(crate) flags: u8,
    /// The fixed header's own length, 2 to 5.
    pub(crate) header_len: usize,
    /// The Remaining Length.
    pub(crate) remaining_len: usize,
}

impl FixedHeader {
    /// The whole packet's length.
    pub(crate) fn packet_len(&self) -> usize {
        self.header_len.saturating_add(self.remaining_len)
    }
}

/// What [`parse`] found at the start of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Header {
    /// A complete, valid fixed header (the body may still be incomplete).
    Complete(FixedHeader),
    /// The fixed header itself is incomplete; at least `needed` more bytes are required.
    Incomplete { needed: usize },
}

/// Parses and checks the fixed header at the start of `input`.
///
/// Checks, in order, as soon as the bytes for each are present: the packet type is defined
/// for `version` (`None`: the first packet of a connection, which must be CONNECT), the flags
/// are the ones the spec requires (`[MQTT-2.2.2-1]`, `[MQTT-2.1.3-1]`), the Remaining Length
/// is a valid Variable Byte Integer, and the whole packet fits in `max_packet_size` (checked
/// before any byte of the body is needed, so an oversized packet is rejected at once).
pub(crate) fn parse(
    input: &[u8],
    version: Option<ProtocolVersion>,
    max_packet_size: u32,
) -> Result<Header, DecodeError> {
    let Some((&first, rest)) = input.split_first() else {
        return Ok(Header::Incomplete {
            needed: MIN_PACKET_LEN,
        });
    };
    // The table says whether the first byte is valid; only an invalid one takes the slower
    // path that works out which rule it breaks.
    let accepted = FIRST_BYTE_CONTEXTS
        .get(usize::from(first))
        .is_some_and(|contexts| contexts & context_bit(version) != 0);
    let packet_type = match PacketType::from_nibble(first >> 4) {
        Some(packet_type) if accepted => packet_type,
        _ => check_first_byte(first, version)?,
    };
    let (remaining_len, header_len) = match rest.first() {
        // Most packets are shorter than 128 bytes: a one-byte Remaining Length.
        Some(&len) if len < 0x80 => (usize::from(len), 2),
        _ => match read_var_int(rest, "remaining length")? {
            Some((len, len_len)) => (len as usize, len_len.saturating_add(1)),
            None => return Ok(Header::Incomplete { needed: 1 }),
        },
    };
    let size = header_len.saturating_add(remaining_len);
    if size > max_packet_size as usize {
        return Err(DecodeError::PacketTooLarge {
            size: u32::try_from(size).unwrap_or(u32::MAX),
            max: max_packet_size,
        });
    }
    Ok(Header::Complete(FixedHeader {
        packet_type,
        flags: first & 0x0F,
        header_len,
        remaining_len,
    }))
}

/// The decoding contexts: before CONNECT (`None`), then each version.
const CONTEXTS: &[Option<ProtocolVersion>] = &[
    None,
    Some(ProtocolVersion::V3_1),
    Some(ProtocolVersion::V3_1_1),
    #[cfg(feature = "v5")]
    Some(ProtocolVersion::V5),
];

/// The bit standing for a decoding context in [`FIRST_BYTE_CONTEXTS`].
const fn context_bit(version: Option<ProtocolVersion>) -> u8 {
    match version {
        None => 0b0001,
        Some(ProtocolVersion::V3_1) => 0b0010,
        Some(ProtocolVersion::V3_1_1) => 0b0100,
        #[cfg(feature = "v5")]
        Some(ProtocolVersion::V5) => 0b1000,
    }
}

/// For each possible first byte, the contexts in which [`check_first_byte`] accepts it,
/// computed at compile time by that same function, so the table cannot disagree with it.
static FIRST_BYTE_CONTEXTS: [u8; 256] = first_byte_contexts();

// The loops run over the table's own indices, 0 to 255 and 0 to 3.
#[allow(clippy::indexing_slicing)]
const fn first_byte_contexts() -> [u8; 256] {
    let mut table = [0; 256];
    let mut byte: usize = 0;
    while byte < table.len() {
        let mut context = 0;
        while context < CONTEXTS.len() {
            let version = CONTEXTS[context];
            if check_first_byte(byte as u8, version).is_ok() {
                table[byte] |= context_bit(version);
            }
            context = context.wrapping_add(1);
        }
        byte = byte.wrapping_add(1);
    }
    table
}

/// Checks the first byte of a packet: the packet type must be defined for `version` (`None`:
/// the first packet of a connection, which must be CONNECT, `[MQTT-3.1.0-1]`), and the flags
/// must be the ones the spec requires for that type.
///
/// PUBREL, SUBSCRIBE and UNSUBSCRIBE require `0010` (`[MQTT-3.6.1-1]`, `[MQTT-3.8.1-1]`,
/// `[MQTT-3.10.1-1]`); MQTT 3.1 also lets them carry DUP (`1010`) when re-sent, as its spec
/// describes. PUBLISH flags are DUP, QoS and RETAIN: QoS 3 is malformed (`[MQTT-3.3.1-4]`)
/// and so is DUP on QoS 0 (`[MQTT-3.3.1-2]`). Every other packet requires `0000`
/// (`[MQTT-2.2.2-1]` in 3.1.1, `[MQTT-2.1.3-1]` in 5.0).
const fn check_first_byte(
    first: u8,
    version: Option<ProtocolVersion>,
) -> Result<PacketType, DecodeError> {
    let nibble = first >> 4;
    let packet_type = match (nibble, version) {
        (1, _) => PacketType::Connect,
        (_, None) => return Err(DecodeError::ExpectedConnect(nibble)),
        (15, Some(ProtocolVersion::V3_1 | ProtocolVersion::V3_1_1)) => {
            return Err(DecodeError::ReservedPacketType(nibble));
        }
        (nibble, Some(_)) => match PacketType::from_nibble(nibble) {
            Some(packet_type) => packet_type,
            None => return Err(DecodeError::ReservedPacketType(nibble)),
        },
    };
    let flags = first & 0x0F;
    let valid = match packet_type {
        PacketType::Publish => {
            let qos = (flags >> 1) & 0b11;
            if qos == 3 {
                return Err(DecodeError::InvalidQos {
                    field: "PUBLISH fixed header",
                });
            }
            if qos == 0 && flags & 0b1000 != 0 {
                return Err(DecodeError::DupWithQos0);
            }
            true
        }
        PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => {
            flags == 0b0010 || (flags == 0b1010 && matches!(version, Some(ProtocolVersion::V3_1)))
        }
        _ => flags == 0,
    };
    if valid {
        Ok(packet_type)
    } else {
        Err(DecodeError::InvalidFixedHeaderFlags {
            packet: packet_type,
            flags,
        })
    }
}

/// The size of a fixed header for a body of `remaining_len` bytes, or an error if the body is
/// too large for any packet.
#[inline]
pub(crate) fn header_len(remaining_len: usize) -> Result<usize, EncodeError> {
    if remaining_len > MAX_VAR_INT as usize {
        return Err(EncodeError::PacketTooLarge {
            remaining_length: remaining_len,
        });
    }
    Ok(var_int_len(remaining_len).saturating_add(1))
}

/// Writes a fixed header.
#[inline]
pub(crate) fn write_header(buf: &mut impl BufMut, first_byte: u8, remaining_len: usize) {
    buf.put_u8(first_byte);
    put_var_int(buf, remaining_len);
}

// Most rows are 5.0 ones; the 3.1.1 framing is covered by the crate's tests without `v5`.
#[cfg(all(test, feature = "v5"))]
mod tests {
    use super::*;

    const V311: Option<ProtocolVersion> = Some(ProtocolVersion::V3_1_1);
    const V5: Option<ProtocolVersion> = Some(ProtocolVersion::V5);

    fn header(
        packet_type: PacketType,
        flags: u8,
        header_len: usize,
        remaining_len: usize,
    ) -> Header {
        Header::Complete(FixedHeader {
            packet_type,
            flags,
            header_len,
            remaining_len,
        })
    }

    #[test]
    fn parses_headers() {
        assert_eq!(
            parse(&[0xC0, 0x00], V311, 100),
            Ok(header(PacketType::PingReq, 0, 2, 0))
        );
        assert_eq!(
            parse(&[0x30, 0x80, 0x01], V5, 1000),
            Ok(header(PacketType::Publish, 0, 3, 128))
        );
        assert_eq!(parse(&[], V5, 100), Ok(Header::Incomplete { needed: 2 }));
        assert_eq!(
            parse(&[0x30], V5, 100),
            Ok(Header::Incomplete { needed: 1 })
        );
        assert_eq!(
            parse(&[0x30, 0x80], V5, 1000),
            Ok(Header::Incomplete { needed: 1 })
        );
    }

    /// A header announcing the largest possible packet is refused from its first five bytes.
    #[test]
    fn oversized_packet_is_refused_from_the_header() {
        let input = [0x30, 0xFF, 0xFF, 0xFF, 0x7F];
        assert_eq!(
            parse(&input, V5, 1024),
            Err(DecodeError::PacketTooLarge {
                size: 268_435_460,
                max: 1024
            })
        );
        assert_eq!(
            parse(&[0x30, 0x03], V5, 5),
            Ok(header(PacketType::Publish, 0, 2, 3))
        );
        assert_eq!(
            parse(&[0x30, 0x04], V5, 5),
            Err(DecodeError::PacketTooLarge { size: 6, max: 5 })
        );
    }

    #[test]
    fn reserved_packet_types_are_rejected() {
        assert_eq!(
            parse(&[0x00, 0x00], V5, 100),
            Err(DecodeError::ReservedPacketType(0))
        );
        assert_eq!(
            parse(&[0xF0, 0x00], V311, 100),
            Err(DecodeError::ReservedPacketType(15))
        );
        assert_eq!(
            parse(&[0xF0, 0x00], V5, 100),
            Ok(header(PacketType::Auth, 0, 2, 0))
        );
        // Before CONNECT the version is unknown and only CONNECT is allowed.
        assert_eq!(
            parse(&[0x30, 0x00], None, 100),
            Err(DecodeError::ExpectedConnect(3))
        );
    }

    /// Every reserved flag bit of every packet type is checked.
    /// conformance: v311:MQTT-2.2.2-1, v311:MQTT-2.2.2-2, v5:MQTT-2.1.3-1
    #[test]
    fn reserved_flags_are_rejected_for_every_packet_type() {
        for nibble in 1..=15u8 {
            for flags in 0..=15u8 {
                let first = (nibble << 4) | flags;
                let result = parse(&[first, 0x00], V5, 100);
                let expected_ok = match nibble {
                    3 => {
                        (flags >> 1) & 0b11 != 3
                            && !((flags >> 1) & 0b11 == 0 && flags & 0b1000 != 0)
                    }
                    6 | 8 | 10 => flags == 0b0010,
                    _ => flags == 0,
                };
                assert_eq!(result.is_ok(), expected_ok, "first byte {first:#04x}");
            }
        }
    }

    /// conformance: v311:MQTT-3.6.1-1, v5:MQTT-3.6.1-1, v311:MQTT-3.8.1-1, v5:MQTT-3.8.1-1,
    /// v311:MQTT-3.10.1-1, v5:MQTT-3.10.1-1
    #[test]
    fn pubrel_subscribe_unsubscribe_need_flags_0010() {
        for nibble in [6u8, 8, 10] {
            let packet_type = PacketType::from_nibble(nibble).unwrap();
            assert!(parse(&[(nibble << 4) | 0b0010, 0], V311, 100).is_ok());
            assert_eq!(
                parse(&[nibble << 4, 0], V311, 100),
                Err(DecodeError::InvalidFixedHeaderFlags {
                    packet: packet_type,
                    flags: 0
                })
            );
            // MQTT 3.1 allows DUP on a re-sent PUBREL, SUBSCRIBE or UNSUBSCRIBE; 3.1.1 does not.
            assert!(
                parse(
                    &[(nibble << 4) | 0b1010, 0],
                    Some(ProtocolVersion::V3_1),
                    100
                )
                .is_ok()
            );
            assert!(parse(&[(nibble << 4) | 0b1010, 0], V311, 100).is_err());
        }
    }

    /// conformance: v311:MQTT-3.14.1-1, v5:MQTT-3.14.1-1, v5:MQTT-3.15.1-1
    #[test]
    fn disconnect_and_auth_need_zero_flags() {
        assert_eq!(
            parse(&[0xE1, 0x00], V311, 100),
            Err(DecodeError::InvalidFixedHeaderFlags {
                packet: PacketType::Disconnect,
                flags: 1
            })
        );
        assert_eq!(
            parse(&[0xF8, 0x00], V5, 100),
            Err(DecodeError::InvalidFixedHeaderFlags {
                packet: PacketType::Auth,
                flags: 8
            })
        );
    }

    /// conformance: v311:MQTT-3.3.1-4, v5:MQTT-3.3.1-4, v311:MQTT-3.3.1-2, v5:MQTT-3.3.1-2
    #[test]
    fn publish_qos_3_and_dup_on_qos_0_are_rejected() {
        assert_eq!(
            parse(&[0x36, 0x00], V311, 100),
            Err(DecodeError::InvalidQos {
                field: "PUBLISH fixed header"
            })
        );
        assert_eq!(parse(&[0x38, 0x00], V5, 100), Err(DecodeError::DupWithQos0));
        assert!(parse(&[0x3D, 0x00], V5, 100).is_ok());
    }

    #[test]
    fn non_minimal_remaining_length_is_rejected() {
        assert_eq!(
            parse(&[0xC0, 0x80, 0x00], V5, 100),
            Err(DecodeError::VarIntNotMinimal {
                field: "remaining length"
            })
        );
        assert_eq!(
            parse(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], V5, u32::MAX),
            Err(DecodeError::VarIntTooLong {
                field: "remaining length"
            })
        );
    }
}
