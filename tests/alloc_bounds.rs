//! Allocation bounds of the decoders, measured with a counting global allocator.
//!
//! The codec promises that no input makes it allocate without bound: a header announcing a
//! huge packet costs nothing, decoding from a `&[u8]` allocates nothing at all, decoding from
//! shared `Bytes` allocates nothing for the topic and payload (they are slices of the input),
//! and the streaming [`Decoder`] keeps only bytes it was given.
//!
//! The crate forbids `unsafe`, so the allocator is `allocation-counter`'s (a dev-dependency
//! that installs itself as the global allocator of this test binary). Its counters are per
//! thread, so tests running in parallel do not disturb each other's measurements.
#![cfg(feature = "v5")]

mod common;

use allocation_counter::{AllocationInfo, measure};
use bytes::{Bytes, BytesMut};
use common::hex;
use common::packets::{V5_PACKETS, V311_PACKETS};
use mqtt_sansio::{
    Connect, DecodeError, Decoded, Decoder, Limits, MAX_PACKET_SIZE, Packet, ProtocolVersion,
};

const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// The fixed header of a PUBLISH with the largest Remaining Length, 268,435,455.
const LARGEST_HEADER: [u8; 5] = [0x30, 0xFF, 0xFF, 0xFF, 0x7F];

/// The counting allocator is installed, so that the zero counts below cannot pass vacuously.
#[test]
fn allocations_are_counted() {
    let (buf, info) = counted(|| Vec::<u8>::with_capacity(100));
    assert_eq!(buf.capacity(), 100);
    assert_eq!((info.count_total, info.bytes_total), (1, 100), "{info:?}");
}

/// A header announcing 268,435,455 bytes is refused under the default limit, and accepted as
/// incomplete without a limit, in every decode path, and neither allocates a byte.
#[test]
fn header_announcing_the_largest_packet_allocates_nothing() {
    let refused = Err(DecodeError::PacketTooLarge {
        size: 268_435_460,
        max: Limits::DEFAULT_MAX_PACKET_SIZE,
    });
    let shared = Bytes::from_static(&LARGEST_HEADER);
    for &version in ProtocolVersion::ALL {
        for (limits, expected) in [
            (Limits::default(), refused.clone()),
            (
                Limits::new(MAX_PACKET_SIZE),
                Ok(Decoded::Incomplete {
                    needed: 268_435_455,
                }),
            ),
        ] {
            let (borrowed, info) =
                counted(|| Packet::decode(version, &LARGEST_HEADER, &limits).map(|d| d.map(drop)));
            assert_eq!(borrowed, expected, "{version}");
            assert_eq!(info.count_total, 0, "{version} borrowed: {info:?}");

            let (owned, info) =
                counted(|| Packet::decode_bytes(version, &shared, &limits).map(|d| d.map(drop)));
            assert_eq!(owned, expected, "{version}");
            assert_eq!(info.count_total, 0, "{version} owned: {info:?}");
        }
    }
    // As the first packet of a connection the type must be CONNECT.
    let connect = [0x10, 0xFF, 0xFF, 0xFF, 0x7F];
    let (result, info) =
        counted(|| Connect::decode(&connect, &Limits::default()).map(|d| d.map(drop)));
    assert_eq!(result, refused);
    assert_eq!(info.count_total, 0, "{info:?}");
}

/// The streaming decoder refuses the same header as soon as it has it; deciding so allocates
/// nothing beyond the buffer holding the five bytes it was given.
#[test]
fn decoder_refuses_the_largest_header_without_buffering_its_body() {
    let mut decoder = Decoder::with_version(V5, Limits::default());
    let ((), pushed) = counted(|| decoder.push(&LARGEST_HEADER));
    assert!(pushed.bytes_total <= 8, "{pushed:?}");
    let (result, info) = counted(|| {
        decoder
            .decode()
            .map_err(common::failure_error)
            .map(|packet| packet.is_some())
    });
    assert!(
        matches!(result, Err(DecodeError::PacketTooLarge { .. })),
        "{result:?}"
    );
    assert_eq!(info.count_total, 0, "{info:?}");
}

/// Decoding from a `&[u8]` allocates nothing, for every packet type of both versions, and
/// neither does walking the decoded lists (User Properties, subscriptions, reason codes),
/// which are read from the input as they are iterated.
#[test]
fn borrowed_decoding_allocates_nothing() {
    for (version, vectors) in [(V311, V311_PACKETS), (V5, V5_PACKETS)] {
        for vector in vectors {
            let wire = hex(vector);
            let (entries, info) = counted(|| {
                let Ok(Decoded::Complete { packet, consumed }) =
                    Packet::decode(version, &wire, &Limits::default())
                else {
                    return None;
                };
                Some((consumed, list_entries(&packet)))
            });
            let (consumed, _) =
                entries.unwrap_or_else(|| panic!("{version}: {vector} does not decode"));
            assert_eq!(consumed, wire.len(), "{version}: {vector}");
            assert_eq!(
                info.count_total,
                boxes(&wire),
                "{version}: {vector}: {info:?}"
            );
        }
    }
}

/// Decoding from `Bytes` whose storage is already shared allocates nothing either: the
/// topic, payload, strings and lists are slices of the input, which the packet keeps alive
/// by reference count.
#[test]
fn owned_decoding_from_shared_bytes_allocates_nothing() {
    for (version, vectors) in [(V311, V311_PACKETS), (V5, V5_PACKETS)] {
        for vector in vectors {
            let input = shared(&hex(vector));
            let (entries, info) = counted(|| {
                let Ok(Decoded::Complete { packet, .. }) =
                    Packet::decode_bytes(version, &input, &Limits::default())
                else {
                    return None;
                };
                Some(list_entries(&packet))
            });
            assert!(entries.is_some(), "{version}: {vector} does not decode");
            assert_eq!(
                info.count_total,
                boxes(&input),
                "{version}: {vector}: {info:?}"
            );
        }
    }
}

/// The topic and payload of an owned PUBLISH point into the input: nothing was copied.
#[test]
fn owned_publish_topic_and_payload_are_slices_of_the_input() {
    let mut wire = hex("32 00 0003 612F62 0001 00");
    wire.extend(std::iter::repeat_n(0xAB, 100));
    wire[1] = u8::try_from(wire.len() - 2).expect("short packet");
    let input = shared(&wire);
    let (publish, info) = counted(
        || match Packet::decode_bytes(V5, &input, &Limits::default()) {
            Ok(Decoded::Complete {
                packet: Packet::Publish(publish),
                ..
            }) => Some(publish),
            _ => None,
        },
    );
    let publish = publish.expect("a PUBLISH");
    assert_eq!(info.count_total, 0, "{info:?}");
    let within = |ptr: *const u8, len: usize| {
        let range = input.as_ptr_range();
        range.start <= ptr && ptr.wrapping_add(len) <= range.end
    };
    assert_eq!(publish.payload.len(), 100);
    assert!(within(publish.payload.as_ptr(), publish.payload.len()));
    let topic = publish.topic.expect("a topic");
    assert_eq!(topic.as_str(), "a/b");
    assert!(within(topic.as_ptr(), topic.len()));
}

/// `Bytes` made from a `Vec` is not shared yet: its first slice allocates the shared header
/// once (`bytes` promotes the storage lazily), and from then on decoding allocates nothing.
/// This is why the tests above build their input with [`shared`].
#[test]
fn owned_decoding_from_a_vec_allocates_at_most_the_one_time_promotion() {
    let input = Bytes::from(hex(V5_PACKETS[2]));
    let decode = || {
        Packet::decode_bytes(V5, &input, &Limits::default()).map(|decoded| decoded.is_complete())
    };
    let (first, info) = counted(decode);
    assert_eq!(first, Ok(true));
    assert!(info.count_total <= 1, "{info:?}");
    let (second, info) = counted(decode);
    assert_eq!(second, Ok(true));
    assert_eq!(info.count_total, 0, "{info:?}");
}

/// While a packet is incomplete, the decoder keeps exactly the bytes it was given, and its
/// heap never exceeds what it was given; the 268,435,455 bytes the header announces are
/// never reserved. Fed in one piece the buffer is exactly the input's size; fed in pieces,
/// `BytesMut` grows by doubling, so it may hold up to twice what it was given, never more.
#[test]
fn incomplete_packet_keeps_no_more_than_it_was_given() {
    let unlimited = Limits::new(MAX_PACKET_SIZE);

    // One piece: header and 64 KiB of body.
    let mut one_piece = LARGEST_HEADER.to_vec();
    one_piece.resize(64 * 1024, 0x61);
    let mut decoder = Decoder::with_version(V311, unlimited);
    let (result, info) = counted(|| {
        decoder.push(&one_piece);
        decoder
            .decode()
            .map_err(common::failure_error)
            .map(|packet| packet.is_some())
    });
    assert_eq!(result, Ok(false));
    assert_eq!(decoder.buffered(), one_piece.len());
    assert_eq!(
        info.bytes_current,
        i64::try_from(one_piece.len()).unwrap(),
        "{info:?}"
    );

    // Many pieces: the header, then 1 KiB at a time.
    let mut decoder = Decoder::with_version(V311, unlimited);
    let mut given = 0usize;
    let mut live = 0i64;
    for step in 0..=64 {
        let chunk: Vec<u8> = if step == 0 {
            LARGEST_HEADER.to_vec()
        } else {
            vec![0x61; 1024]
        };
        let (result, info) = counted(|| {
            decoder.push(&chunk);
            decoder
                .decode()
                .map_err(common::failure_error)
                .map(|packet| packet.is_some())
        });
        given += chunk.len();
        live += info.bytes_current;
        assert_eq!(result, Ok(false), "step {step}");
        assert_eq!(decoder.buffered(), given, "step {step}");
        let given = i64::try_from(given).unwrap();
        assert!(
            live <= 2 * given.max(8),
            "step {step}: {live} bytes held after {given} given"
        );
    }
}

/// Each `Decoder::decode` call allocates at most once (when it splits a packet off a buffer
/// that is not yet shared), however many packets the buffer holds.
#[test]
fn decoder_allocates_at_most_once_per_packet() {
    let mut decoder = Decoder::with_version(V5, Limits::default());
    let mut stream = Vec::new();
    for vector in V5_PACKETS {
        stream.extend(hex(vector));
    }
    decoder.push(&stream);
    let mut packets = 0;
    loop {
        let next = &stream[stream.len() - decoder.buffered()..];
        let (result, info) = counted(|| {
            decoder
                .decode()
                .map_err(common::failure_error)
                .map(|packet| packet.is_some())
        });
        assert!(
            info.count_total <= 1 + boxes(next),
            "packet {packets}: {info:?}"
        );
        match result {
            Ok(true) => packets += 1,
            Ok(false) => break,
            Err(error) => panic!("packet {packets}: {error}"),
        }
    }
    assert_eq!(packets, V5_PACKETS.len());
    assert_eq!(decoder.buffered(), 0);
}

/// The allocations decoding `wire` into a [`Packet`] makes: one box for a CONNECT or CONNACK,
/// which `Packet` holds boxed so that every other packet's decode result stays small, and
/// none for anything else.
fn boxes(wire: &[u8]) -> u64 {
    u64::from(matches!(wire.first(), Some(0x10 | 0x20)))
}

/// Runs `f`, returning its result and what it allocated on this thread.
fn counted<R>(f: impl FnOnce() -> R) -> (R, AllocationInfo) {
    let mut result = None;
    let info = measure(|| result = Some(f()));
    (result.expect("ran"), info)
}

/// Copies `wire` into a `BytesMut` and splits it off, as the streaming decoder does, so that
/// the frozen `Bytes` has shared storage and slicing it only bumps a reference count.
fn shared(wire: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(wire.len());
    buf.extend_from_slice(wire);
    buf.split().freeze()
}

/// Walks every list a packet holds and counts the entries.
fn list_entries<B: mqtt_sansio::Buffer>(packet: &Packet<B>) -> usize {
    match packet {
        Packet::Connect(connect) => {
            connect.properties.user_properties.iter().count()
                + connect
                    .will
                    .as_ref()
                    .map_or(0, |will| will.properties.message.user_properties().count())
        }
        Packet::Publish(publish) => {
            publish.properties.message.user_properties().count()
                + publish.properties.subscription_identifiers.iter().count()
        }
        Packet::PubAck(ack) => ack.properties.user_properties.iter().count(),
        Packet::PubRec(ack) => ack.properties.user_properties.iter().count(),
        Packet::PubRel(ack) => ack.properties.user_properties.iter().count(),
        Packet::PubComp(ack) => ack.properties.user_properties.iter().count(),
        Packet::Subscribe(subscribe) => {
            subscribe.subscriptions.iter().count()
                + subscribe.properties.user_properties.iter().count()
        }
        Packet::SubAck(suback) => {
            suback.reason_codes.iter().count() + suback.properties.user_properties.iter().count()
        }
        Packet::Unsubscribe(unsubscribe) => {
            unsubscribe.filters.iter().count()
                + unsubscribe.properties.user_properties.iter().count()
        }
        Packet::UnsubAck(unsuback) => {
            unsuback.reason_codes.iter().count()
                + unsuback.properties.user_properties.iter().count()
        }
        Packet::Disconnect(disconnect) => disconnect.properties.user_properties.iter().count(),
        Packet::Auth(auth) => auth.properties.user_properties.iter().count(),
        Packet::ConnAck(connack) => connack.properties.user_properties.iter().count(),
        Packet::PingReq(_) | Packet::PingResp(_) => 0,
    }
}

/// Fanning one message out allocates nothing: `encode_for` and `encode_head_for` write the
/// per-delivery values over the shared message into a buffer the caller already has.
#[test]
fn encoding_for_a_subscriber_allocates_nothing() {
    use mqtt_sansio::{
        Delivery, MessageProperties, Outgoing, PacketId, Publish, QoS, SubscriptionId, TopicName,
    };

    let mut message = Publish::new(TopicName::new("a/b").unwrap(), Bytes::from(vec![1u8; 4096]));
    message.properties.message = MessageProperties::builder()
        .content_type("text/plain")
        .user_property("k", "v")
        .build()
        .unwrap();
    let ids = [SubscriptionId::new(3).unwrap()];
    let outgoing = Outgoing {
        subscription_ids: &ids,
        message_expiry_interval: Some(30),
        ..Outgoing::new(Delivery::new(QoS::AtLeastOnce, PacketId::new(9).unwrap()))
    };
    let mut buf = BytesMut::with_capacity(8192);
    let ((), info) = counted(|| {
        for &version in ProtocolVersion::ALL {
            buf.clear();
            message.encode_for(version, &outgoing, &mut buf).unwrap();
            buf.clear();
            message
                .encode_head_for(version, &outgoing, &mut buf)
                .unwrap();
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}
