//! Property tests of decoding byte streams: packets split at arbitrary points, short input,
//! and arbitrary or corrupted bytes.

mod strategies;

use bytes::Bytes;
use mqtt_sansio::{Connect, Decoded, Decoder, Limits, MAX_PACKET_SIZE, Packet, ProtocolVersion};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use strategies::{encode_to_vec, encoding_version, fixed_header_len, for_versions, to_owned};

const ALL: &[ProtocolVersion] = ProtocolVersion::ALL;

/// Large enough for every generated packet (some carry payloads of 2 MiB).
fn limits() -> Limits {
    Limits::new(MAX_PACKET_SIZE)
}

/// A CONNECT of `version` followed by 1 to 40 packets of that version.
fn session(version: ProtocolVersion) -> BoxedStrategy<Vec<Packet<Bytes>>> {
    (
        strategies::connect(version),
        vec(strategies::packet(version), 1..40),
    )
        .prop_map(|(connect, mut packets)| {
            packets.insert(0, Packet::from(connect));
            packets
        })
        .boxed()
}

/// A stream: the packets, their concatenated encoding, and where each packet ends.
struct Stream {
    packets: Vec<Packet<Bytes>>,
    wire: Vec<u8>,
    ends: Vec<usize>,
    header_lens: Vec<usize>,
}

impl Stream {
    fn new(version: ProtocolVersion, packets: Vec<Packet<Bytes>>) -> Self {
        let mut wire = Vec::new();
        let mut ends = Vec::new();
        let mut header_lens = Vec::new();
        for packet in &packets {
            let encoded = encode_to_vec(packet, version).expect("a valid packet encodes");
            header_lens.push(fixed_header_len(&encoded));
            wire.extend_from_slice(&encoded);
            ends.push(wire.len());
        }
        Self {
            packets,
            wire,
            ends,
            header_lens,
        }
    }

    /// The stream cut at `cuts` (any order, duplicates allowed) into chunks, some empty.
    fn chunks(&self, cuts: &[Index]) -> Vec<&[u8]> {
        let mut points: Vec<usize> = cuts
            .iter()
            .map(|cut| cut.index(self.wire.len() + 1))
            .collect();
        points.push(0);
        points.push(self.wire.len());
        points.sort_unstable();
        points
            .windows(2)
            .map(|pair| &self.wire[pair[0]..pair[1]])
            .collect()
    }
}

/// Checks what `Packet::decode` says about `available`, a proper prefix of `whole` (one
/// packet whose fixed header is `header_len` bytes): `Incomplete { needed }` with `needed` at
/// most what is missing and, once the fixed header is there, exactly what is missing, so that
/// adding `needed` bytes completes the packet.
/// How a test hands chunks to a [`Decoder`].
#[derive(Clone, Copy, Debug)]
enum Feed {
    Copy,
    Share,
    Alternate,
}

fn check_incomplete(
    version: ProtocolVersion,
    whole: &[u8],
    available: usize,
    header_len: usize,
) -> Result<(), TestCaseError> {
    let missing = whole.len() - available;
    let needed = match Packet::decode(version, &whole[..available], &limits()) {
        Ok(Decoded::Incomplete { needed }) => needed,
        other => {
            return Err(TestCaseError::fail(format!(
                "{available} of {} bytes gave {other:?}",
                whole.len()
            )));
        }
    };
    prop_assert!(needed >= 1, "needed 0 bytes");
    prop_assert!(
        needed <= missing,
        "needed {} but only {} are missing",
        needed,
        missing
    );
    if available >= header_len {
        prop_assert_eq!(needed, missing, "fixed header complete, hint not exact");
        let completed = Packet::decode(version, &whole[..available + needed], &limits());
        let completed = matches!(
            completed,
            Ok(Decoded::Complete { consumed, .. }) if consumed == whole.len()
        );
        prop_assert!(
            completed,
            "adding the needed bytes did not complete the packet"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A session (CONNECT, then many packets of its version) cut into chunks at arbitrary
    /// points decodes to the same packets (a) through a `Decoder` fed chunk by chunk, learning
    /// the version from the CONNECT or told it up front, and (b) through `Packet::decode` on a
    /// growing buffer; whenever a packet is incomplete, `needed` never overstates what is
    /// missing and, once the fixed header is complete, adding exactly `needed` bytes completes
    /// the packet.
    /// conformance: v311:MQTT-6.0.0-2, v5:MQTT-6.0.0-2
    #[test]
    fn split_stream_decodes_to_the_same_packets(
        (version, packets) in for_versions(ALL, session),
        cuts in vec(any::<Index>(), 0..48),
    ) {
        let stream = Stream::new(version, packets);
        let chunks = stream.chunks(&cuts);

        // (a) The streaming decoder, both kinds, fed by copy (`push`), by handing over each
        // chunk (`push_bytes`), and alternating the two.
        let decoders = [Feed::Copy, Feed::Share, Feed::Alternate].into_iter().flat_map(|feed| {
            [
                (Decoder::new(limits()), feed),
                (Decoder::with_version(version, limits()), feed),
            ]
        });
        for (mut decoder, feed) in decoders {
            let mut decoded = Vec::new();
            for (index, chunk) in chunks.iter().enumerate() {
                match (feed, index % 2) {
                    (Feed::Copy, _) | (Feed::Alternate, 0) => decoder.push(chunk),
                    _ => decoder.push_bytes(Bytes::copy_from_slice(chunk)),
                }
                while let Some(packet) = decoder.decode().map_err(decode_error).map_err(|error| {
                    TestCaseError::fail(format!("decoder failed: {error}"))
                })? {
                    decoded.push(packet);
                }
            }
            prop_assert_eq!(&decoded, &stream.packets);
            prop_assert_eq!(decoder.buffered(), 0);
            prop_assert_eq!(decoder.version(), Some(version));
        }

        // (b) `Packet::decode` on a growing buffer.
        let mut buffer: Vec<u8> = Vec::new();
        let mut start = 0;
        let mut next = 0;
        for chunk in &chunks {
            buffer.extend_from_slice(chunk);
            loop {
                match Packet::decode(version, &buffer[start..], &limits()) {
                    Ok(Decoded::Complete { packet, consumed }) => {
                        prop_assert!(next < stream.packets.len(), "more packets than sent");
                        prop_assert_eq!(&to_owned(&packet), &stream.packets[next]);
                        prop_assert_eq!(start + consumed, stream.ends[next]);
                        start += consumed;
                        next += 1;
                    }
                    Ok(Decoded::Incomplete { .. }) if start == buffer.len()
                        && next == stream.packets.len() => break,
                    Ok(Decoded::Incomplete { .. }) => {
                        prop_assert!(next < stream.packets.len(), "incomplete after the end");
                        let whole = &stream.wire[start..stream.ends[next]];
                        check_incomplete(
                            version,
                            whole,
                            buffer.len() - start,
                            stream.header_lens[next],
                        )?;
                        break;
                    }
                    Err(error) => prop_assert!(false, "decode failed: {}", error),
                }
            }
        }
        prop_assert_eq!(next, stream.packets.len());
        prop_assert_eq!(start, stream.wire.len());
    }

    /// Every proper prefix of a packet is `Incomplete`, with a `needed` that never overstates
    /// what is missing and is exact once the fixed header is complete.
    #[test]
    fn short_input_reports_what_is_missing(
        (version, packet) in for_versions(ALL, strategies::packet),
        samples in vec(any::<Index>(), 32),
    ) {
        let wire = encode_to_vec(&packet, version).expect("a valid packet encodes");
        let header_len = fixed_header_len(&wire);
        // Every prefix of a small packet; for a large one the edges and a sample.
        let mut prefixes: Vec<usize> = if wire.len() <= 512 {
            (0..wire.len()).collect()
        } else {
            samples.iter().map(|sample| sample.index(wire.len())).collect()
        };
        prefixes.extend([0, 1, header_len - 1, header_len, wire.len() - 1]);
        for available in prefixes.into_iter().filter(|&available| available < wire.len()) {
            check_incomplete(version, &wire, available, header_len)?;
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Arbitrary and corrupted input
// -------------------------------------------------------------------------------------------------

/// One change to a valid encoding.
#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(Index, u8),
    Overwrite(Index, u8),
    Insert(Index, u8),
    Remove(Index),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit(at, bit)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Overwrite(at, byte)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert(at, byte)),
        2 => any::<Index>().prop_map(Mutation::Remove),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match *mutation {
        Mutation::FlipBit(at, bit) if len > 0 => bytes[at.index(len)] ^= 1 << bit,
        Mutation::Overwrite(at, byte) if len > 0 => bytes[at.index(len)] = byte,
        Mutation::Insert(at, byte) => bytes.insert(at.index(len + 1), byte),
        Mutation::Remove(at) if len > 0 => {
            bytes.remove(at.index(len));
        }
        Mutation::Truncate(at) => bytes.truncate(at.index(len + 1)),
        _ => {}
    }
}

/// Writes `first` and a Remaining Length for `body`, then `body`.
fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut wire = vec![first];
    let mut rest = body.len();
    loop {
        let byte = (rest & 0x7F) as u8;
        rest >>= 7;
        if rest == 0 {
            wire.push(byte);
            break;
        }
        wire.push(byte | 0x80);
    }
    wire.extend_from_slice(body);
    wire
}

/// A first byte with a valid type and flags for some version.
fn plausible_first_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        6 => select_first_bytes(),
        2 => (0u8..=0x0F).prop_map(|flags| 0x30 | flags),
        1 => any::<u8>(),
    ]
}

fn select_first_bytes() -> impl Strategy<Value = u8> {
    proptest::sample::select(vec![
        0x10, 0x20, 0x40, 0x50, 0x62, 0x6A, 0x70, 0x82, 0x8A, 0x90, 0xA2, 0xAA, 0xB0, 0xC0, 0xD0,
        0xE0, 0xF0,
    ])
}

/// Input for the decoders: random bytes, a plausible fixed header over a random body, or a
/// valid packet of some version with a few mutations (its Remaining Length sometimes fixed up
/// afterwards, so that the body decoders see the damage instead of the framing).
fn hostile_input() -> impl Strategy<Value = Vec<u8>> {
    let mutated = (
        for_versions(ALL, strategies::packet),
        vec(mutation(), 1..4),
        any::<bool>(),
    )
        .prop_map(|((version, packet), mutations, reframe)| {
            let mut wire = encode_to_vec(&packet, version).expect("a valid packet encodes");
            if reframe {
                let header_len = fixed_header_len(&wire);
                let first = wire[0];
                let mut body = wire.split_off(header_len);
                for mutation in &mutations {
                    mutate(&mut body, mutation);
                }
                frame(first, &body)
            } else {
                for mutation in &mutations {
                    mutate(&mut wire, mutation);
                }
                wire
            }
        });
    prop_oneof![
        1 => vec(any::<u8>(), 0..64),
        3 => (plausible_first_byte(), vec(any::<u8>(), 0..96))
            .prop_map(|(first, body)| frame(first, &body)),
        8 => mutated,
    ]
}

/// Small limits, sometimes tiny; often the default, so that large packets get decoded too.
fn small_limits() -> impl Strategy<Value = Limits> {
    prop_oneof![
        1 => (0u32..8).prop_map(Limits::new),
        4 => (8u32..2_048).prop_map(Limits::new),
        3 => Just(Limits::default()),
    ]
}

/// Checks that the borrowed and the owned path agree on `input`: the same packet (compared
/// field by field and by re-encoding), the same `Incomplete`, or the same error; that a
/// decoded packet fits the limits and re-encodes into bytes that decode to it again; and that
/// the streaming `Decoder` agrees as well.
fn check_paths_agree(
    version: ProtocolVersion,
    input: &[u8],
    limits: &Limits,
) -> Result<(), TestCaseError> {
    let bytes = Bytes::copy_from_slice(input);
    let owned = Packet::decode_bytes(version, &bytes, limits);
    let borrowed = Packet::decode(version, input, limits);
    match (&borrowed, &owned) {
        (
            Ok(Decoded::Complete {
                packet: borrowed,
                consumed: borrowed_len,
            }),
            Ok(Decoded::Complete { packet, consumed }),
        ) => {
            prop_assert_eq!(borrowed_len, consumed);
            prop_assert!(*consumed <= input.len());
            prop_assert!(*consumed as u64 <= u64::from(limits.max_packet_size));
            prop_assert_eq!(&to_owned(borrowed), packet);
            let encode_in = encoding_version(packet, version);
            let rewire = encode_to_vec(packet, encode_in);
            prop_assert_eq!(&encode_to_vec(borrowed, encode_in), &rewire);
            // What the decoder accepts, the encoder can write, and it decodes the same.
            let rewire = rewire.map_err(|error| {
                TestCaseError::fail(format!("decoded {packet:?} but cannot encode it: {error}"))
            })?;
            let again = Packet::decode_bytes(
                encode_in,
                &Bytes::from(rewire.clone()),
                &Limits::new(MAX_PACKET_SIZE),
            );
            prop_assert_eq!(
                again,
                Ok(Decoded::Complete {
                    packet: packet.clone(),
                    consumed: rewire.len(),
                })
            );
        }
        (Ok(Decoded::Incomplete { needed: a }), Ok(Decoded::Incomplete { needed: b })) => {
            prop_assert_eq!(a, b);
            prop_assert!(*a >= 1);
            // Once the fixed header is complete the hint is exact: with `needed` more bytes
            // the packet is complete or malformed, never still incomplete.
            if let Some(packet_len) = announced_len(input) {
                prop_assert_eq!(input.len() + a, packet_len);
                prop_assert!(packet_len as u64 <= u64::from(limits.max_packet_size));
                let mut longer = input.to_vec();
                longer.resize(packet_len, 0);
                let completed = Packet::decode(version, &longer, limits);
                let still_incomplete = matches!(completed, Ok(Decoded::Incomplete { .. }));
                prop_assert!(!still_incomplete, "still incomplete after the needed bytes");
            }
        }
        (Err(a), Err(b)) => prop_assert_eq!(a, b),
        _ => prop_assert!(
            false,
            "paths disagree: borrowed {:?}, owned {:?}",
            borrowed,
            owned
        ),
    }

    // The streaming decoder frames the same way.
    let mut decoder = Decoder::with_version(version, *limits);
    decoder.push(input);
    let streamed = decoder.decode().map_err(decode_error);
    match (&owned, streamed) {
        (Ok(Decoded::Complete { packet, .. }), Ok(Some(streamed))) => {
            prop_assert_eq!(packet, &streamed);
        }
        (Ok(Decoded::Incomplete { .. }), Ok(None)) => {}
        (Err(a), Err(b)) => {
            prop_assert_eq!(*a, b);
            // After an error the stream stays failed.
            decoder.push(&[0xC0, 0x00]);
            prop_assert_eq!(decoder.decode().map_err(decode_error), Err(b));
        }
        (owned, streamed) => {
            prop_assert!(false, "decoder disagrees: {:?} vs {:?}", owned, streamed);
        }
    }
    Ok(())
}

/// The whole length of the packet whose fixed header starts `input`, if the fixed header is
/// complete (a first byte and a Remaining Length of at most four bytes).
fn announced_len(input: &[u8]) -> Option<usize> {
    let mut remaining = 0;
    for (at, &byte) in input.get(1..)?.iter().enumerate().take(4) {
        remaining |= usize::from(byte & 0x7F) << (7 * at);
        if byte & 0x80 == 0 {
            return Some(1 + at + 1 + remaining);
        }
    }
    None
}

/// The same for the first packet of a connection, whose version is unknown.
fn check_connect_paths_agree(input: &[u8], limits: &Limits) -> Result<(), TestCaseError> {
    let bytes = Bytes::copy_from_slice(input);
    let owned = Connect::decode_bytes(&bytes, limits);
    let borrowed = Connect::decode(input, limits)
        .map(|decoded| decoded.map(|connect| to_owned(&Packet::from(connect))));
    let owned_as_packet = owned.clone().map(|decoded| decoded.map(Packet::from));
    prop_assert_eq!(&borrowed, &owned_as_packet);

    if let Ok(Decoded::Complete { packet, consumed }) = &owned {
        prop_assert!(*consumed <= input.len());
        let rewire = encode_to_vec(&Packet::from(packet.clone()), packet.protocol_version)
            .map_err(|error| {
                TestCaseError::fail(format!("decoded {packet:?} but cannot encode it: {error}"))
            })?;
        let again =
            Connect::decode_bytes(&Bytes::from(rewire.clone()), &Limits::new(MAX_PACKET_SIZE));
        prop_assert_eq!(
            again,
            Ok(Decoded::Complete {
                packet: packet.clone(),
                consumed: rewire.len(),
            })
        );
    }

    let mut decoder = Decoder::new(*limits);
    decoder.push(input);
    match (&owned, decoder.decode().map_err(decode_error)) {
        (Ok(Decoded::Complete { packet, .. }), Ok(Some(Packet::Connect(streamed)))) => {
            prop_assert_eq!(packet, &*streamed);
            prop_assert_eq!(decoder.version(), Some(packet.protocol_version));
        }
        (Ok(Decoded::Incomplete { .. }), Ok(None)) => {}
        (Err(a), Err(b)) => prop_assert_eq!(*a, b),
        (owned, streamed) => {
            prop_assert!(false, "decoder disagrees: {:?} vs {:?}", owned, streamed);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes, plausible frames with random bodies, and valid packets with flipped
    /// bits, truncations, insertions and removals never make a decoder panic, in any version
    /// and under small limits: `Packet::decode`, `Packet::decode_bytes`, `Connect::decode`,
    /// `Connect::decode_bytes` and `Decoder` all agree (same packet, same `Incomplete`, or
    /// same error), a decoded packet respects the maximum packet size, and it can be encoded
    /// again into bytes that decode to the same packet.
    #[test]
    fn hostile_input_never_panics_and_both_paths_agree(
        input in hostile_input(),
        limits in small_limits(),
    ) {
        for &version in ProtocolVersion::ALL {
            check_paths_agree(version, &input, &limits)?;
        }
        check_connect_paths_agree(&input, &limits)?;
    }
}

/// The [`DecodeError`] a direction-neutral [`Decoder`] failed with (it raises no
/// connection-level errors).
fn decode_error(failure: mqtt_sansio::DecodeFailure) -> mqtt_sansio::DecodeError {
    match failure.error {
        mqtt_sansio::PeerError::Decode(error) => error,
        other => panic!("not a decode error: {other:?}"),
    }
}
