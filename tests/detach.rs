//! Detaching decoded packets from their receive buffer: `into_owned` (from a borrowed
//! `&[u8]`) and `detach` (from shared `Bytes`) copy exactly the packet's fields into one
//! right-sized allocation, give an equal packet, and do not keep the input alive.
//!
//! Heap use is measured with `allocation-counter`, installed as this test binary's global
//! allocator (the crate forbids `unsafe`, so it cannot count for itself); its counters are per
//! thread, so tests running in parallel do not disturb each other.
#![cfg(feature = "v5")]

mod common;
mod strategies;

use allocation_counter::{AllocationInfo, measure};
use bytes::{BufMut, Bytes, BytesMut};
use common::packets::ALL_PACKETS;
use common::{LIMITS, hex};
use mqtt_sansio::{
    Connect, Decoded, Limits, MAX_PACKET_SIZE, Packet, ProtocolVersion, Publish, SubscriptionId,
    TopicName, WireList,
};
use proptest::prelude::*;
use strategies::{encode_to_vec, to_owned};

/// A PUBLISH of 16 bytes (topic "a/b", payload "0123456789abcdef", QoS 0, 3.1.1) decoded from a
/// 64 KiB read buffer holds the whole buffer; detached, it holds under 256 bytes of heap.
#[test]
fn small_message_detached_from_a_64_kib_buffer_holds_under_256_bytes() {
    let wire = hex("30 15 0003 612F62 30313233343536373839616263646566");
    assert_eq!(wire.len(), 23);
    let mut read_buf = BytesMut::with_capacity(64 * 1024);
    read_buf.put_slice(&wire);
    // The rest of the read: more packets, which the broker handles and drops.
    read_buf.put_bytes(0xC0, 64 * 1024 - wire.len());
    let input = read_buf.freeze();
    let Ok(Decoded::Complete { packet, consumed }) =
        Packet::decode_bytes(ProtocolVersion::V3_1_1, &input, &LIMITS)
    else {
        panic!("the PUBLISH decodes");
    };
    assert_eq!(consumed, wire.len());

    let (kept, info) = counted(|| packet.detach());
    assert_eq!(kept, packet);
    drop(packet);
    assert!(
        input.is_unique(),
        "the detached packet still refers to the input"
    );
    drop(input);

    // The fields (3 + 16 bytes) in one allocation, plus the reference count it shares.
    eprintln!("detached 16-byte PUBLISH holds {info:?}");
    assert!(info.bytes_current < 256, "{info:?}");
    assert_eq!(info.count_current, 2, "{info:?}");
    let Packet::Publish(publish) = kept else {
        panic!("a PUBLISH")
    };
    assert_eq!(publish.topic.as_deref(), Some("a/b"));
    assert_eq!(publish.payload, Bytes::from_static(b"0123456789abcdef"));
}

/// Every packet type of every version, detached from shared `Bytes` and copied out of a
/// borrowed slice, equals the decoded packet, encodes as it does, holds at most one
/// allocation of exactly its fields' size (plus the reference count), and leaves the input
/// unshared once the decoded packet is dropped.
#[test]
fn every_packet_detaches_to_an_equal_packet_in_one_allocation() {
    for &(version, vectors) in ALL_PACKETS {
        for vector in vectors {
            let wire = hex(vector);
            let input = shared(&wire);
            let Ok(Decoded::Complete { packet, .. }) =
                Packet::decode_bytes(version, &input, &LIMITS)
            else {
                panic!("{version}: {vector} does not decode");
            };

            // The fields' allocation and its shared header, and the box `Packet` keeps a
            // CONNECT or CONNACK in.
            let boxed = i64::from(matches!(wire.first(), Some(0x10 | 0x20)));
            let box_size = match &packet {
                Packet::Connect(_) => size_of::<Connect>(),
                Packet::ConnAck(_) => size_of::<mqtt_sansio::ConnAck>(),
                _ => 0,
            };
            let (detached, info) = counted(|| packet.detach());
            assert_eq!(detached, packet, "{version}: {vector}");
            assert_eq!(
                encode_to_vec(&detached, version).unwrap(),
                encode_to_vec(&packet, version).unwrap()
            );
            assert!(
                info.count_current <= 2 + boxed,
                "{version}: {vector}: {info:?}"
            );
            assert!(
                info.bytes_current <= (wire.len() + 64 + box_size) as i64,
                "{version}: {vector}: {info:?}"
            );
            drop(packet);
            assert!(input.is_unique(), "{version}: {vector}");

            let borrowed = common::decode_one(version, &wire).unwrap();
            let (owned, info) = counted(|| borrowed.clone().into_owned());
            assert_eq!(owned, detached, "{version}: {vector}");
            assert_eq!(owned, to_owned(&borrowed), "{version}: {vector}");
            assert!(
                info.count_current <= 2 + boxed,
                "{version}: {vector}: {info:?}"
            );
        }
    }
}

/// The lists of a detached packet are slices of its one allocation, even when the packet was
/// built from values: no `Vec` is allocated, and the entries read back equal.
#[test]
fn built_lists_are_detached_in_wire_form() {
    let mut publish = Publish::new(TopicName::new("t").unwrap(), Bytes::from_static(b"p"));
    publish.properties.subscription_identifiers = WireList::from(vec![
        SubscriptionId::new(1).unwrap(),
        SubscriptionId::new(300).unwrap(),
    ]);
    let packet = Packet::Publish(publish);
    let (detached, info) = counted(|| packet.detach());
    assert_eq!(detached, packet);
    assert_eq!(info.count_current, 2, "{info:?}");
    assert_eq!(
        encode_to_vec(&detached, ProtocolVersion::V5).unwrap(),
        encode_to_vec(&packet, ProtocolVersion::V5).unwrap()
    );
}

/// Forwarded properties that arrived interleaved with the ones a server edits are detached
/// together, without the others, and still read back in their order.
#[test]
fn interleaved_message_properties_detach_together() {
    // PUBLISH "t", QoS 0: Content Type "c", Message Expiry 60, User Property (k, v), then "p".
    let input = shared(&hex(
        "30 15 0001 74 10 03 0001 63 02 0000003c 26 0001 6b 0001 76 70",
    ));
    let Ok(Decoded::Complete { packet, .. }) =
        Packet::decode_bytes(ProtocolVersion::V5, &input, &LIMITS)
    else {
        panic!("does not decode");
    };
    let detached = packet.detach();
    assert_eq!(detached, packet);
    let Packet::Publish(publish) = &detached else {
        panic!("a PUBLISH");
    };
    assert_eq!(
        publish.properties.message.to_vec(),
        hex("03 0001 63 26 0001 6b 0001 76")
    );
    assert_eq!(publish.properties.message_expiry_interval, Some(60));
}

/// A packet without strings, binary fields or payload allocates nothing when detached.
#[test]
fn packets_without_fields_detach_without_allocating() {
    for vector in ["40 02 0001", "C0 00", "E0 00"] {
        let input = shared(&hex(vector));
        let Ok(Decoded::Complete { packet, .. }) =
            Packet::decode_bytes(ProtocolVersion::V5, &input, &LIMITS)
        else {
            panic!("{vector} does not decode");
        };
        let (detached, info) = counted(|| packet.detach());
        assert_eq!(detached, packet);
        assert_eq!(info.count_total, 0, "{vector}: {info:?}");
    }
}

/// A CONNECT's client id, kept for a session, and its Will, kept until the connection ends,
/// detach on their own too.
#[test]
fn connect_will_and_client_id_detach_on_their_own() {
    let wire = hex(ALL_PACKETS[2].1[0]);
    let input = shared(&wire);
    let Ok(Decoded::Complete { packet, .. }) = Connect::decode_bytes(&input, &LIMITS) else {
        panic!("the CONNECT decodes");
    };
    let client_id = packet.client_id.detach();
    let will = packet.will.as_ref().unwrap().detach();
    assert_eq!(client_id, packet.client_id);
    assert_eq!(Some(&will), packet.will.as_ref());
    let borrowed = Connect::decode(&wire, &LIMITS)
        .unwrap()
        .complete()
        .unwrap()
        .0
        .into_owned();
    assert_eq!(borrowed, packet);
    drop(packet);
    assert!(input.is_unique());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any packet of any version, built from values or decoded along either path, detaches
    /// to an equal packet that encodes to the same bytes.
    #[test]
    fn detach_and_into_owned_round_trip(
        (version, packet) in strategies::version()
            .prop_flat_map(|version| (Just(version), strategies::packet(version)))
    ) {
        let wire = encode_to_vec(&packet, version).unwrap();
        let detached = packet.detach();
        prop_assert_eq!(&detached, &packet);
        prop_assert_eq!(encode_to_vec(&detached, version).unwrap(), wire.clone());

        let limits = Limits::new(MAX_PACKET_SIZE);
        let Ok(Decoded::Complete { packet: borrowed, .. }) =
            Packet::decode(version, &wire, &limits)
        else {
            panic!("the encoding decodes");
        };
        prop_assert_eq!(&borrowed.into_owned(), &packet);

        let input = Bytes::from(wire);
        let Ok(Decoded::Complete { packet: decoded, .. }) =
            Packet::decode_bytes(version, &input, &limits)
        else {
            panic!("the encoding decodes");
        };
        let detached = decoded.detach();
        drop(decoded);
        prop_assert_eq!(&detached, &packet);
        prop_assert!(input.is_unique());
    }
}

fn counted<R>(f: impl FnOnce() -> R) -> (R, AllocationInfo) {
    let mut result = None;
    let info = measure(|| result = Some(f()));
    (result.expect("ran"), info)
}

/// Copies `wire` into a `BytesMut` and splits it off, as the streaming decoder does, so that
/// the frozen `Bytes` has shared storage.
fn shared(wire: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(wire.len());
    buf.extend_from_slice(wire);
    buf.split().freeze()
}
