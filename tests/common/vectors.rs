//! Assertions for hand-written byte vectors: a valid vector must decode by both paths to the
//! expected packet and encode back; a malformed one must be refused the same way by every
//! decoder; an encoder refusal must write nothing.

use bytes::Bytes;
use mqtt_sansio::{
    Buffer, DecodeError, Decoded, Decoder, EncodeError, Limits, Packet, ProtocolVersion, ReasonCode,
};

use super::{LIMITS, decode_one, decode_one_bytes, encode, hex};

/// Checks a valid vector both ways.
///
/// Both decode paths give the expected packet (`borrowed` for `Packet::decode`, `owned` for
/// `Packet::decode_bytes`) and take every byte; the expected packets and the decoded ones all
/// encode to exactly `wire`, with `encoded_len` agreeing; and every proper prefix of `wire` is
/// incomplete (never an error), the last one missing exactly one byte.
///
/// Build the two expected packets with one generic function, see [`Make`](super::Make).
pub(crate) fn assert_vector<'w>(
    version: ProtocolVersion,
    wire: &'w [u8],
    borrowed: Packet<&'w [u8]>,
    owned: Packet<Bytes>,
) {
    assert_decodes_to(version, wire, borrowed, owned.clone(), wire);
    assert_eq!(
        encode(&owned, version),
        wire,
        "MQTT {version}: encode (Bytes)"
    );
    assert_eq!(
        encode(&decode_one_bytes(version, wire), version),
        wire,
        "MQTT {version}: re-encode (Bytes)"
    );

    for cut in 0..wire.len() {
        match Packet::decode(version, &wire[..cut], &LIMITS) {
            Ok(Decoded::Incomplete { needed }) => {
                assert!(
                    needed >= 1 && cut + needed <= wire.len(),
                    "MQTT {version}: prefix {cut} of {wire:02x?} needs {needed}"
                );
            }
            other => panic!("MQTT {version}: prefix {cut} of {wire:02x?} gave {other:?}"),
        }
    }
    assert_eq!(
        Packet::decode(version, &wire[..wire.len() - 1], &LIMITS),
        Ok(Decoded::Incomplete { needed: 1 }),
        "MQTT {version}: all of {wire:02x?} but the last byte"
    );
}

/// Checks that both decode paths take all of `wire` and give the expected packet (`borrowed`
/// for `Packet::decode`, `owned` for `Packet::decode_bytes`), and that the expected and the
/// borrowed decoded packet encode to `canonical`.
///
/// On its own, for a vector that is valid but not in the encoder's shortest or canonical form;
/// [`assert_vector`] calls it with `canonical` = `wire`.
pub(crate) fn assert_decodes_to<'w>(
    version: ProtocolVersion,
    wire: &'w [u8],
    borrowed: Packet<&'w [u8]>,
    owned: Packet<Bytes>,
    canonical: &[u8],
) {
    let decoded = decode_one(version, wire)
        .unwrap_or_else(|error| panic!("MQTT {version}: {error} in {wire:02x?}"));
    assert_eq!(
        decoded, borrowed,
        "MQTT {version}: borrowed decode of {wire:02x?}"
    );
    assert_eq!(
        encode(&borrowed, version),
        canonical,
        "MQTT {version}: encode (borrowed)"
    );
    assert_eq!(
        encode(&decoded, version),
        canonical,
        "MQTT {version}: re-encode (borrowed) of {wire:02x?}"
    );
    assert_eq!(
        decode_one_bytes(version, wire),
        owned,
        "MQTT {version}: Bytes decode of {wire:02x?}"
    );
}

/// The error every decoder gives for `wire` in `version` under the default limits: see
/// [`decode_error_with`].
pub(crate) fn decode_error(version: ProtocolVersion, wire: &[u8]) -> DecodeError {
    decode_error_with(version, wire, LIMITS)
}

/// The error `wire` gets in `version` under `limits`: both decode paths and a [`Decoder`]
/// must refuse it, with the same error.
pub(crate) fn decode_error_with(
    version: ProtocolVersion,
    wire: &[u8],
    limits: Limits,
) -> DecodeError {
    let Err(borrowed) = Packet::decode(version, wire, &limits) else {
        panic!("MQTT {version}: the borrowed decoder accepts {wire:02x?}");
    };
    let Err(shared) = Packet::decode_bytes(version, &Bytes::copy_from_slice(wire), &limits) else {
        panic!("MQTT {version}: the Bytes decoder accepts {wire:02x?}");
    };
    assert_eq!(
        borrowed, shared,
        "MQTT {version}: the two paths disagree on {wire:02x?}"
    );
    let mut decoder = Decoder::with_version(version, limits);
    decoder.push(wire);
    assert_eq!(
        decoder.decode().map_err(super::failure_error),
        Err(borrowed),
        "MQTT {version}: the Decoder disagrees on {wire:02x?}"
    );
    borrowed
}

/// Asserts `actual` is `expected` and maps to `reason`.
pub(crate) fn assert_refused(actual: DecodeError, expected: DecodeError, reason: ReasonCode) {
    assert_eq!(actual, expected);
    assert_eq!(actual.reason_code(), reason, "reason code of {actual:?}");
}

/// Asserts that `wire` (hex) is refused in each of `versions` with `error`, which maps to
/// `reason`.
pub(crate) fn assert_refused_in(
    versions: &[ProtocolVersion],
    wire: &str,
    error: DecodeError,
    reason: ReasonCode,
) {
    let bytes = hex(wire);
    for &version in versions {
        let actual = decode_error(version, &bytes);
        assert_eq!(actual, error, "MQTT {version}: {wire}");
        assert_refused(actual, error, reason);
    }
}

/// Asserts that encoding `packet` in `version` fails with `error`, from `encoded_len` too,
/// and writes nothing.
pub(crate) fn assert_encode_error<B: Buffer>(
    packet: &Packet<B>,
    version: ProtocolVersion,
    error: EncodeError,
) {
    let mut out = Vec::new();
    assert_eq!(
        packet.encode(version, &mut out),
        Err(error),
        "MQTT {version}: encode"
    );
    assert!(
        out.is_empty(),
        "MQTT {version}: wrote {out:02x?} before failing"
    );
    assert_eq!(
        packet.encoded_len(version),
        Err(error),
        "MQTT {version}: encoded_len"
    );
}

/// Asserts that encoding `packet` into a `&mut [u8]` one byte short fails before writing
/// anything, and that the exact size takes what [`encode`] writes.
pub(crate) fn assert_short_slice_is_refused(version: ProtocolVersion, packet: &Packet<&[u8]>) {
    let needed = packet.encoded_len(version).unwrap();
    let mut storage = vec![0xAAu8; needed];
    let mut short: &mut [u8] = &mut storage[..needed - 1];
    assert_eq!(
        packet.encode(version, &mut short),
        Err(EncodeError::BufferTooSmall {
            needed,
            available: needed - 1
        }),
        "MQTT {version}: {packet:?}"
    );
    assert!(storage.iter().all(|&byte| byte == 0xAA), "nothing written");
    let mut exact: &mut [u8] = &mut storage[..];
    assert_eq!(packet.encode(version, &mut exact), Ok(needed));
    assert!(exact.is_empty());
    assert_eq!(storage, encode(packet, version));
}
