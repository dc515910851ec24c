//! Helpers shared by the integration tests.
//!
//! Here: [`hex`] for hand-written vectors, [`decode_one`] and [`decode_one_bytes`] for one whole
//! packet through each decode path, [`encode`], the three versions and [`pid`]. The byte-vector
//! tests (`codec_*.rs`) also use [`Make`], which builds an expected packet for either storage
//! type, and the assertions of `vectors.rs`.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

pub(crate) mod broker;
pub(crate) mod client;
mod make;
pub(crate) mod naive_broker;
pub(crate) mod packets;
pub(crate) mod pair;
pub(crate) mod topic_reference;
mod vectors;

use bytes::Bytes;
use mqtt_sansio::{Buffer, DecodeError, Decoded, Limits, Packet, PacketId, ProtocolVersion};

#[allow(unused_imports)]
pub(crate) use make::Make;
#[allow(unused_imports)]
pub(crate) use vectors::{
    assert_decodes_to, assert_encode_error, assert_refused, assert_refused_in,
    assert_short_slice_is_refused, assert_vector, decode_error, decode_error_with,
};

/// MQTT 3.1 (`MQIsdp`, level 3).
pub(crate) const V31: ProtocolVersion = ProtocolVersion::V3_1;
/// MQTT 3.1.1 (level 4).
pub(crate) const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
/// MQTT 5.0 (level 5).
#[cfg(feature = "v5")]
pub(crate) const V5: ProtocolVersion = ProtocolVersion::V5;

/// The default limits, as a constant.
pub(crate) const LIMITS: Limits = Limits::new(Limits::DEFAULT_MAX_PACKET_SIZE);

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
    match Packet::decode(version, bytes, &LIMITS)? {
        Decoded::Complete { packet, consumed } => {
            assert_eq!(consumed, bytes.len(), "packet did not take every byte");
            Ok(packet)
        }
        Decoded::Incomplete { needed } => panic!("incomplete: {needed} more bytes needed"),
    }
}

/// Decodes exactly one whole packet from a copy of `wire` (shared `Bytes` path), asserting
/// that it is accepted and takes every byte.
pub(crate) fn decode_one_bytes(version: ProtocolVersion, wire: &[u8]) -> Packet<Bytes> {
    let input = Bytes::copy_from_slice(wire);
    match Packet::decode_bytes(version, &input, &LIMITS) {
        Ok(Decoded::Complete { packet, consumed }) => {
            assert_eq!(
                consumed,
                wire.len(),
                "MQTT {version}: packet did not take every byte of {wire:02x?}"
            );
            packet
        }
        other => panic!("MQTT {version}: decode_bytes of {wire:02x?} gave {other:?}"),
    }
}

/// Encodes `packet` for `version`, checking `encoded_len` against what was written.
pub(crate) fn encode<B: Buffer>(packet: &Packet<B>, version: ProtocolVersion) -> Vec<u8> {
    let mut buf = Vec::new();
    let written = packet
        .encode(version, &mut buf)
        .unwrap_or_else(|e| panic!("encode {version}: {e}"));
    assert_eq!(written, buf.len(), "encode returned a wrong length");
    assert_eq!(
        packet.encoded_len(version),
        Ok(written),
        "encoded_len disagrees"
    );
    buf
}

/// A Packet Identifier, which must not be 0.
pub(crate) fn pid(value: u16) -> PacketId {
    PacketId::new(value).expect("non-zero packet identifier")
}

/// The [`DecodeError`] a [`mqtt_sansio::Decoder`] failed with; panics on a connection-level
/// [`mqtt_sansio::ProtocolError`], which the byte-vector tests never provoke.
#[track_caller]
pub(crate) fn failure_error(failure: mqtt_sansio::DecodeFailure) -> DecodeError {
    match failure.error {
        mqtt_sansio::PeerError::Decode(error) => error,
        other => panic!("not a decode error: {other:?}"),
    }
}

/// The environment variable naming the mosquitto broker the wire tests talk to.
pub(crate) const BROKER_VAR: &str = "MQTT_SANSIO_BROKER";

/// The broker address from [`BROKER_VAR`]; `None` (the test is skipped, and says so) when it
/// is unset, except on CI (`CI` set and non-empty), where a missing broker fails the test.
pub(crate) fn broker_address() -> Option<String> {
    if let Some(address) = std::env::var(BROKER_VAR)
        .ok()
        .filter(|value| !value.is_empty())
    {
        return Some(address);
    }
    let on_ci = std::env::var_os("CI").is_some_and(|value| !value.is_empty());
    assert!(
        !on_ci,
        "{BROKER_VAR} is not set but CI is: the mosquitto tests must run on CI. Start \
         mosquitto on 127.0.0.1 as .ci/run does and export {BROKER_VAR}=127.0.0.1:<port>"
    );
    println!("skipped: {BROKER_VAR} is not set (export {BROKER_VAR}=host:port to run this test)");
    None
}
