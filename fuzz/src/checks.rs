//! The properties the fuzz targets check, shared by the libFuzzer targets
//! (`fuzz/fuzz_targets/*.rs`, nightly) and by `tests/fuzz_replay.rs`, which replays every
//! committed corpus and regression input on stable through the same functions.
//!
//! Every function panics on a violation and returns normally otherwise; "no panic" is itself
//! the first property, since the codec promises never to panic on any input.

#[path = "broker.rs"]
pub mod broker;
#[cfg(feature = "arbitrary")]
#[path = "client.rs"]
pub mod client;
#[path = "restore.rs"]
pub mod restore;

use crate::topic_reference;
#[cfg(feature = "arbitrary")]
use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
#[cfg(feature = "arbitrary")]
use core::num::NonZeroU16;
use mqtt_sansio::{
    Buffer, Connect, DecodeError, DecodeFailure, Decoded, Decoder, Limits, MAX_PACKET_SIZE, Packet,
    PacketType, PeerError, ProtocolError, ProtocolVersion, Reply, Side, TopicFilter, TopicName,
};
#[cfg(feature = "arbitrary")]
use mqtt_sansio::{
    Delivery, EncodeError, Outgoing, PacketId, Publish, PublishProperties, QoS, SubscriptionId,
    TopicAliasUse, codec::MAX_VAR_INT,
};

/// Every fuzz target, by the name of its corpus and regression directories.
pub const TARGETS: &[&str] = &[
    "decode_v31",
    "decode_v311",
    "decode_v5",
    "decode_connect",
    "stream_chunks",
    "roundtrip",
    "topic_match",
    "client_session",
    "broker_session",
    "broker_restore",
];

/// Runs the check of fuzz target `target` on `data`; `false` if there is no such target.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "decode_v31" => decode_v31(data),
        "decode_v311" => decode_v311(data),
        "decode_v5" => decode_v5(data),
        "decode_connect" => decode_connect(data),
        "stream_chunks" => stream_chunks(data),
        "roundtrip" => {
            #[cfg(feature = "arbitrary")]
            roundtrip(data);
        }
        "topic_match" => topic_match(data),
        "client_session" => {
            #[cfg(feature = "arbitrary")]
            client::client_session(data);
        }
        "broker_session" => broker::broker_session(data),
        "broker_restore" => restore::broker_restore(data),
        _ => return false,
    }
    true
}

/// Target `decode_v31`: see [`decode`].
pub fn decode_v31(data: &[u8]) {
    decode(ProtocolVersion::V3_1, data);
}

/// Target `decode_v311`: see [`decode`].
pub fn decode_v311(data: &[u8]) {
    decode(ProtocolVersion::V3_1_1, data);
}

/// Target `decode_v5`: see [`decode`].
pub fn decode_v5(data: &[u8]) {
    decode(ProtocolVersion::V5, data);
}

/// Raw bytes as the next packet of a `version` connection, under the default limits and a
/// tiny one: the borrowed and the owned decode paths agree (see [`agree`]), and a decoded
/// packet cut short by one byte is incomplete, needing exactly that byte.
pub fn decode(version: ProtocolVersion, data: &[u8]) {
    let shared = Bytes::copy_from_slice(data);
    for limits in limits() {
        let borrowed = Packet::decode(version, data, &limits);
        if let Ok(Decoded::Complete { consumed, .. }) = borrowed {
            let short = Packet::decode(version, &data[..consumed - 1], &limits);
            assert_eq!(
                short.map(|d| d.map(drop)),
                Ok(Decoded::Incomplete { needed: 1 }),
                "a packet one byte short is not incomplete"
            );
        }
        agree(
            version,
            data,
            borrowed,
            Packet::decode_bytes(version, &shared, &limits),
        );
    }
}

/// Target `decode_connect`: raw bytes as the first packet of a connection, whose version is
/// not known yet. Both paths agree; and when the first byte says CONNECT, decoding it as the
/// next packet of a connection of any version gives the same result, since a CONNECT is
/// always decoded in the version it names.
pub fn decode_connect(data: &[u8]) {
    let shared = Bytes::copy_from_slice(data);
    for limits in limits() {
        let owned = Connect::decode_bytes(&shared, &limits).map(|d| d.map(Packet::from));
        agree(
            // Unused: a CONNECT is re-encoded in its own version.
            ProtocolVersion::V5,
            data,
            Connect::decode(data, &limits).map(|d| d.map(Packet::from)),
            owned.clone(),
        );
        if data.first().is_some_and(|first| first >> 4 == 1) {
            for &version in ProtocolVersion::ALL {
                assert_eq!(
                    Packet::decode_bytes(version, &shared, &limits),
                    owned,
                    "CONNECT decoded as a {version} packet differs from the first packet"
                );
            }
        }
    }
}

/// Target `stream_chunks`: `[mode, chunking, stream @ ..]`. `mode % 4` picks the version: 0
/// none yet (CONNECT first, which sets it), 1 to 3 for 3.1, 3.1.1 or 5.0. `mode & 4` picks the
/// decoder: 0 the connection decoder, [`Decoder::server`] when the version is not yet known
/// and [`Decoder::client`] otherwise; 4 the direction-neutral [`Decoder::new`] or
/// [`Decoder::with_version`]. `chunking` seeds the chunk sizes, 1 to `max(chunking, 1)` bytes
/// each (so 1 feeds the stream byte by byte).
///
/// The stream fed in chunks gives exactly the packets, the final error and the leftover of
/// the same stream pushed at once. For the neutral decoder these match a hand-written loop over
/// [`Packet::decode_bytes`]; the connection decoder gives a prefix of those packets, none of
/// which breaks a rule of its side, and differs only by stopping at the first packet that
/// does (see [`check_connection_stream`]). After every chunk the decoder keeps exactly the
/// bytes it was given minus those of the packets it returned, holds no buffer when it keeps
/// no bytes, and after an error it keeps returning that error and holds nothing.
pub fn stream_chunks(data: &[u8]) {
    let [mode, chunking, stream @ ..] = data else {
        return;
    };
    let version = match mode % 4 {
        0 => None,
        1 => Some(ProtocolVersion::V3_1),
        2 => Some(ProtocolVersion::V3_1_1),
        _ => Some(ProtocolVersion::V5),
    };
    let side = match (mode & 4, version) {
        (0, None) => Some(Side::Server),
        (0, Some(_)) => Some(Side::Client),
        _ => None,
    };
    let limits = Limits::default();
    let decoder = || match (side, version) {
        (Some(Side::Server), _) => Decoder::server(limits),
        (Some(_), Some(version)) => Decoder::client(version, limits),
        (_, None) => Decoder::new(limits),
        (_, Some(version)) => Decoder::with_version(version, limits),
    };

    let (packet_by_packet, sizes) = decode_stream(version, stream, &limits);

    let mut whole = decoder();
    whole.push(stream);
    let (at_once, failure) = drain(&mut whole);
    match side {
        None => assert_eq!(
            at_once, packet_by_packet,
            "Decoder differs from decoding packet by packet"
        ),
        Some(side) => check_connection_stream(
            side,
            whole.version(),
            stream,
            &packet_by_packet,
            &sizes,
            &at_once,
            failure.as_ref(),
        ),
    }
    check_failed_decoder_is_empty(&whole, failure.as_ref());

    let mut chunked = decoder();
    let mut packets = Vec::new();
    let mut rest = stream;
    let mut given = 0usize;
    let mut state = u32::from(*chunking) | 0x9E37_0000;
    let max_chunk = usize::from(*chunking).max(1);
    let mut end = None;
    let mut chunked_failure = None;
    while end.is_none() && !rest.is_empty() {
        let size = (1 + xorshift(&mut state) as usize % max_chunk).min(rest.len());
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        chunked.push(chunk);
        given += size;
        let (
            Stream {
                packets: more,
                end: this_end,
            },
            this_failure,
        ) = drain(&mut chunked);
        packets.extend(more);
        if this_end.is_err() {
            end = Some(this_end);
            chunked_failure = this_failure;
        } else {
            let taken: usize = sizes
                .get(..packets.len())
                .expect("more packets than the reference")
                .iter()
                .sum();
            assert_eq!(
                chunked.buffered(),
                given - taken,
                "the decoder keeps other than the {given} bytes given minus {taken} returned"
            );
            if chunked.buffered() == 0 {
                assert_eq!(
                    chunked.buffer_capacity(),
                    0,
                    "an idle decoder holds a buffer"
                );
            }
        }
    }
    let chunked_result = Stream {
        packets,
        end: end.unwrap_or(Ok(chunked.buffered())),
    };
    assert_eq!(
        chunked_result, at_once,
        "chunked decoding differs from decoding at once"
    );
    assert_eq!(
        chunked_failure, failure,
        "chunked decoding fails otherwise than decoding at once"
    );
    if let Some(failure) = failure {
        chunked.push(&[0xC0, 0x00]);
        assert_eq!(chunked.decode(), Err(failure), "a failed decoder recovered");
        check_failed_decoder_is_empty(&chunked, Some(&failure));
    }
}

/// A failed decoder keeps no bytes and no buffer.
fn check_failed_decoder_is_empty(decoder: &Decoder, failure: Option<&DecodeFailure>) {
    if failure.is_some() {
        assert_eq!(decoder.buffered(), 0, "a failed decoder keeps bytes");
        assert_eq!(
            decoder.buffer_capacity(),
            0,
            "a failed decoder keeps a buffer"
        );
    }
}

/// Checks what a connection decoder for `side` made of `stream` against the packet-by-packet
/// decoding of the same stream, `reference`, whose packets take `sizes` bytes each; `version`
/// is the decoder's version after decoding:
///
/// - its packets are a prefix of the reference's, and none breaks a rule of `side`: each may
///   flow towards it, a server gets one CONNECT only, and no 5.0 PUBLISH to a server carries a
///   Subscription Identifier;
/// - if it ends without a connection-level error, it ends exactly as the reference;
/// - if it ends with one, the next packet in the stream (whose first byte is there) breaks
///   the rule the error names;
/// - its reply is a CONNACK only on a server's first packet, a DISCONNECT only in 5.0.
fn check_connection_stream(
    side: Side,
    version: Option<ProtocolVersion>,
    stream: &[u8],
    reference: &Stream,
    sizes: &[usize],
    got: &Stream,
    failure: Option<&DecodeFailure>,
) {
    let count = got.packets.len();
    assert!(
        reference.packets.starts_with(&got.packets),
        "the {side} decoder returned other packets than the reference"
    );
    for (index, packet) in got.packets.iter().enumerate() {
        let packet_type = packet.packet_type();
        if side == Side::Server && index == 0 {
            assert_eq!(packet_type, PacketType::Connect, "first packet to a server");
            continue;
        }
        let version = version.expect("a version once a packet is decoded");
        assert!(
            side.may_receive(packet_type, version),
            "a {side} decoder returned a {packet_type}"
        );
        assert!(
            !(side == Side::Server && packet_type == PacketType::Connect),
            "a server decoder returned a second CONNECT"
        );
        if let (Side::Server, Packet::Publish(publish)) = (side, packet) {
            assert!(
                publish.properties.subscription_identifiers.is_empty(),
                "a server decoder returned a PUBLISH with a subscription identifier"
            );
        }
    }
    match (&got.end, failure) {
        (Ok(_), None) => assert_eq!(got, reference, "the {side} decoder ends otherwise"),
        (Err(PeerError::Protocol(error)), Some(_)) => {
            let offset: usize = sizes.get(..count).expect("a prefix").iter().sum();
            let first = *stream
                .get(offset)
                .expect("the offending packet's first byte");
            let nibble = first >> 4;
            match error {
                ProtocolError::WrongDirection { packet, receiver } => {
                    assert_eq!(*receiver, side);
                    assert_eq!(*packet as u8, nibble);
                }
                ProtocolError::SecondConnect => {
                    assert_eq!(side, Side::Server);
                    assert_eq!(nibble, 1);
                    assert!(count >= 1, "the first CONNECT refused as a second");
                }
                ProtocolError::SubscriptionIdFromClient => {
                    assert_eq!(side, Side::Server);
                    let Some(Packet::Publish(publish)) = reference.packets.get(count) else {
                        panic!("subscription identifier refused on no PUBLISH");
                    };
                    assert!(!publish.properties.subscription_identifiers.is_empty());
                }
                _ => {}
            }
        }
        (Err(error), Some(_)) => assert_eq!(
            (&got.packets, Err(*error)),
            (&reference.packets, reference.end),
            "the {side} decoder fails otherwise than the reference"
        ),
        (end, failure) => panic!("inconsistent end {end:?} and failure {failure:?}"),
    }
    if let Some(failure) = failure {
        match failure.reply {
            Reply::ConnAck { .. } => assert!(
                side == Side::Server && count == 0,
                "CONNACK as the reply to other than a server's first packet"
            ),
            Reply::Disconnect(_) => assert_eq!(
                failure.version,
                Some(ProtocolVersion::V5),
                "DISCONNECT as the reply outside 5.0"
            ),
            _ => {}
        }
    }
}

/// Target `roundtrip`: an arbitrary valid packet (the crate's `arbitrary` feature) is
/// encoded in every version that can carry it; `encoded_len` equals the bytes written, both
/// decode paths give the packet back, and a buffer one byte short is refused untouched. A
/// version that cannot carry the packet must say so with a version error, and at least one
/// version must carry it.
#[cfg(feature = "arbitrary")]
pub fn roundtrip(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(packet) = Packet::<Bytes>::arbitrary(&mut u) else {
        return;
    };
    if let Packet::Publish(publish) = &packet {
        fan_out(publish, &mut u);
    }
    let limits = Limits::new(MAX_PACKET_SIZE);
    let mut encodable = false;
    for &version in ProtocolVersion::ALL {
        let len = match packet.encoded_len(version) {
            Ok(len) => len,
            Err(error) => {
                assert!(
                    matches!(
                        error,
                        EncodeError::NotInVersion { .. }
                            | EncodeError::VersionMismatch { .. }
                            | EncodeError::MissingTopic
                            | EncodeError::InvalidTopicFilter(_)
                            | EncodeError::EmptyPayload { .. }
                    ),
                    "{version}: unexpected {error:?} for {packet:?}"
                );
                let mut buf = Vec::new();
                assert_eq!(packet.encode(version, &mut buf), Err(error));
                assert!(buf.is_empty(), "a refused encode wrote {buf:02x?}");
                continue;
            }
        };
        encodable = true;
        let wire = encode(&packet, version);
        assert_eq!(wire.len(), len);

        let shared = Bytes::from(wire.clone());
        assert_eq!(
            Packet::decode_bytes(version, &shared, &limits),
            Ok(Decoded::Complete {
                packet: packet.clone(),
                consumed: len,
            }),
            "{version}: {wire:02x?}"
        );
        match Packet::decode(version, &wire, &limits) {
            Ok(Decoded::Complete { packet, consumed }) => {
                assert_eq!(consumed, len);
                assert_eq!(encode(&packet, version), wire);
            }
            other => panic!("{version}: borrowed decode of {wire:02x?} gave {other:?}"),
        }

        let mut room = vec![0u8; len - 1];
        assert_eq!(
            packet.encode(version, &mut room.as_mut_slice()),
            Err(EncodeError::BufferTooSmall {
                needed: len,
                available: len - 1,
            })
        );
        assert!(room.iter().all(|&byte| byte == 0), "a refused encode wrote");
    }
    assert!(encodable, "{packet:?} encodes in no version");
}

/// The fan-out half of `roundtrip`: one delivery of `publish`, its per-delivery values drawn
/// from what is left of the input, encoded with `encode_for` in every version, equals encoding
/// an edited clone of the message (the reference); the head is the delivery up to its payload.
#[cfg(feature = "arbitrary")]
fn fan_out(publish: &Publish, u: &mut Unstructured<'_>) {
    let delivery = match u.int_in_range(0..=2u8).unwrap_or(0) {
        0 => Delivery::AtMostOnce,
        qos => {
            let id = PacketId::new(u.arbitrary::<u16>().unwrap_or(1)).unwrap_or(PacketId::MIN);
            let dup = u.arbitrary::<bool>().unwrap_or(false);
            let qos = if qos == 1 {
                QoS::AtLeastOnce
            } else {
                QoS::ExactlyOnce
            };
            Delivery::new(qos, id).with_dup(dup)
        }
    };
    let alias = NonZeroU16::new(u.arbitrary::<u16>().unwrap_or(1)).unwrap_or(NonZeroU16::MIN);
    let topic_alias = match u.int_in_range(0..=2u8).unwrap_or(0) {
        0 => TopicAliasUse::None,
        1 => TopicAliasUse::Set(alias),
        _ => TopicAliasUse::Use(alias),
    };
    let count = u.int_in_range(0..=3usize).unwrap_or(0);
    let ids: Vec<SubscriptionId> = (0..count)
        .filter_map(|_| SubscriptionId::new(u.int_in_range(1..=MAX_VAR_INT).ok()?))
        .collect();
    let outgoing = Outgoing {
        delivery,
        retain: u.arbitrary().unwrap_or(false),
        topic_alias,
        subscription_ids: &ids,
        message_expiry_interval: u.arbitrary().unwrap_or(None),
    };
    for &version in ProtocolVersion::ALL {
        let mut edited = publish.clone();
        edited.delivery = outgoing.delivery;
        edited.retain = outgoing.retain;
        let mut expected_error = None;
        if version.is_v5() {
            edited.properties.message_expiry_interval = outgoing.message_expiry_interval;
            edited.properties.subscription_identifiers = ids.iter().copied().collect();
            edited.properties.topic_alias = match topic_alias {
                TopicAliasUse::None => None,
                TopicAliasUse::Set(alias) => {
                    if edited.topic.is_none() {
                        expected_error = Some(EncodeError::MissingTopic);
                    }
                    Some(alias)
                }
                TopicAliasUse::Use(alias) => {
                    edited.topic = None;
                    Some(alias)
                }
            };
        } else {
            edited.properties = PublishProperties::new();
        }
        let mut reference = Vec::new();
        let reference = match expected_error {
            Some(error) => Err(error),
            None => edited.encode(version, &mut reference).map(|_| reference),
        };
        let mut wire = Vec::new();
        let written = publish
            .encode_for(version, &outgoing, &mut wire)
            .map(|_| wire);
        assert_eq!(written, reference, "{version}: {outgoing:?}");
        assert_eq!(
            publish.encoded_len_for(version, &outgoing),
            written.as_ref().map(Vec::len).map_err(|error| *error)
        );
        if let Ok(whole) = written {
            let mut head = Vec::new();
            let head_len = publish
                .encode_head_for(version, &outgoing, &mut head)
                .expect("the whole delivery encodes");
            assert_eq!(head_len, head.len());
            assert_eq!(whole[..head_len], head[..]);
            assert_eq!(whole[head_len..], publish.payload[..]);
        }
    }
}

/// Target `topic_match`: `[mode, rest @ ..]`. An even `mode` reads `rest` as UTF-8 text
/// `filter '\n' name`; an odd one generates a valid filter and name from `rest` (the crate's
/// `arbitrary` feature). Validation agrees with the rules of section 4.7 written out naively,
/// matching never panics, and on a valid filter and name it agrees with
/// the reference matcher of `tests/common/topic_reference.rs`; so does the filter part of a
/// shared subscription.
pub fn topic_match(data: &[u8]) {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let Ok(text) = core::str::from_utf8(rest) else {
            return;
        };
        let (filter, name) = text.split_once('\n').unwrap_or((text, ""));
        let matched = mqtt_sansio::topic::matches(filter, name);
        let valid_filter = TopicFilter::<&[u8]>::new(filter).is_ok();
        let valid_name = TopicName::<&[u8]>::new(name).is_ok();
        assert_eq!(
            valid_filter,
            topic_reference::filter_violations(filter).is_empty(),
            "filter {filter:?}"
        );
        assert_eq!(
            valid_name,
            topic_reference::name_violations(name).is_empty(),
            "name {name:?}"
        );
        if valid_filter && valid_name {
            assert_eq!(
                matched,
                topic_reference::matches(filter, name),
                "{filter:?} on {name:?}"
            );
        }
    } else {
        #[cfg(feature = "arbitrary")]
        structured_topics(rest);
    }
}

/// The structured half of [`topic_match`].
#[cfg(feature = "arbitrary")]
fn structured_topics(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let (Ok(filter), Ok(name)) = (
        TopicFilter::<Bytes>::arbitrary(&mut u),
        TopicName::<Bytes>::arbitrary(&mut u),
    ) else {
        return;
    };
    assert_eq!(
        filter.matches(&name),
        topic_reference::matches(&filter, &name),
        "{filter:?} on {name:?}"
    );
    if let Some(shared) = filter.shared() {
        assert_eq!(
            shared.matches(&name),
            topic_reference::matches(shared.filter, &name),
            "{filter:?} on {name:?}"
        );
    }
}

/// What decoding a stream gave: the packets, then the bytes left over or the error.
#[derive(Debug, PartialEq)]
struct Stream {
    packets: Vec<Packet<Bytes>>,
    end: Result<usize, PeerError>,
}

/// Takes every packet a decoder has ready, then its leftover or its error; also returns the
/// whole failure, if it failed.
fn drain(decoder: &mut Decoder) -> (Stream, Option<DecodeFailure>) {
    let mut packets = Vec::new();
    loop {
        match decoder.decode() {
            Ok(Some(packet)) => packets.push(packet),
            Ok(None) => {
                let end = Ok(decoder.buffered());
                return (Stream { packets, end }, None);
            }
            Err(failure) => {
                let end = Err(failure.error);
                return (Stream { packets, end }, Some(failure));
            }
        }
    }
}

/// Decodes `stream` packet by packet with [`Connect::decode_bytes`] (while the version is
/// unknown) and [`Packet::decode_bytes`]; also returns the size of each packet.
fn decode_stream(
    mut version: Option<ProtocolVersion>,
    stream: &[u8],
    limits: &Limits,
) -> (Stream, Vec<usize>) {
    let input = Bytes::copy_from_slice(stream);
    let mut packets = Vec::new();
    let mut sizes = Vec::new();
    let mut pos = 0;
    loop {
        let rest = input.slice(pos..);
        let decoded = match version {
            None => Connect::decode_bytes(&rest, limits).map(|d| d.map(Packet::from)),
            Some(version) => Packet::decode_bytes(version, &rest, limits),
        };
        match decoded {
            Err(error) => {
                let end = Err(error.into());
                return (Stream { packets, end }, sizes);
            }
            Ok(Decoded::Incomplete { .. }) => {
                let end = Ok(rest.len());
                return (Stream { packets, end }, sizes);
            }
            Ok(Decoded::Complete { packet, consumed }) => {
                if let (None, Packet::Connect(connect)) = (version, &packet) {
                    version = Some(connect.protocol_version);
                }
                pos += consumed;
                packets.push(packet);
                sizes.push(consumed);
            }
        }
    }
}

/// Checks that the borrowed and the owned decoding of `data` agree, and what a decoded
/// packet must satisfy:
///
/// - both give the same error, or both need the same number (at least 1) of further bytes,
///   or both decode a packet taking the same bytes;
/// - the two packets encode to the same bytes in their version, no longer than the input
///   they came from (the encoder writes the shortest form), with `encoded_len` exact;
/// - decoding that encoding gives the owned packet back (so anything the decoder accepts,
///   the encoder can write, and the two agree on its meaning).
fn agree(
    version: ProtocolVersion,
    data: &[u8],
    borrowed: Result<Decoded<Packet<&[u8]>>, DecodeError>,
    owned: Result<Decoded<Packet<Bytes>>, DecodeError>,
) {
    match (borrowed, owned) {
        (Err(a), Err(b)) => assert_eq!(a, b, "the two paths fail differently"),
        (Ok(Decoded::Incomplete { needed: a }), Ok(Decoded::Incomplete { needed: b })) => {
            assert_eq!(a, b, "the two paths need different byte counts");
            assert!(a > 0, "incomplete, but needing no more bytes");
        }
        (
            Ok(Decoded::Complete {
                packet: borrowed,
                consumed: a,
            }),
            Ok(Decoded::Complete {
                packet: owned,
                consumed: b,
            }),
        ) => {
            assert_eq!(a, b, "the two paths take different byte counts");
            assert!(
                (2..=data.len()).contains(&a),
                "consumed {a} of {}",
                data.len()
            );
            let version = match &owned {
                Packet::Connect(connect) => connect.protocol_version,
                _ => version,
            };
            let wire = encode(&owned, version);
            assert_eq!(
                encode(&borrowed, version),
                wire,
                "the two packets encode apart"
            );
            assert!(
                wire.len() <= a,
                "re-encoding {:02x?} gave the longer {wire:02x?}",
                &data[..a]
            );
            let again = Packet::decode_bytes(version, &Bytes::from(wire.clone()), &unlimited());
            assert_eq!(
                again,
                Ok(Decoded::Complete {
                    packet: owned,
                    consumed: wire.len(),
                }),
                "{version}: {:02x?} re-encoded as {wire:02x?} decodes differently",
                &data[..a]
            );
        }
        (borrowed, owned) => panic!("borrowed {borrowed:?} but owned {owned:?}"),
    }
}

/// Encodes a packet that must be encodable, checking `encoded_len` against what is written.
fn encode<B: Buffer>(packet: &Packet<B>, version: ProtocolVersion) -> Vec<u8> {
    let len = packet
        .encoded_len(version)
        .unwrap_or_else(|error| panic!("{version}: cannot encode {packet:?}: {error}"));
    let mut buf = Vec::with_capacity(len);
    let written = packet
        .encode(version, &mut buf)
        .unwrap_or_else(|error| panic!("{version}: encode failed after encoded_len: {error}"));
    assert_eq!(written, len, "encode wrote other than encoded_len said");
    assert_eq!(buf.len(), len, "encode returned other than it wrote");
    buf
}

/// The limits the raw decoders run under: the default, and one small enough that many inputs
/// hit it.
fn limits() -> [Limits; 2] {
    [Limits::default(), Limits::new(32)]
}

/// No limit beyond the protocol's own.
fn unlimited() -> Limits {
    Limits::new(MAX_PACKET_SIZE)
}

/// One step of a xorshift generator: deterministic chunk sizes from one input byte.
fn xorshift(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}
