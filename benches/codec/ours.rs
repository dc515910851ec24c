//! Our codec: borrowed (`Packet::decode` on `&[u8]`) and owned (`Packet::decode_bytes` on
//! `Bytes`, and the streaming `Decoder`) decoding, and encoding into a reused `BytesMut`.

use core::hint::black_box;

use bytes::{Buf, Bytes, BytesMut};
use mqtt_sansio::{Decoded, Decoder, Packet};

use crate::fixtures::{self, Row, Stream, Version};
use crate::suite::Group;

pub(crate) fn decode(group: &mut impl Group, version: Version, row: Row, wire: &[u8]) {
    let v = version.ours();
    let limits = fixtures::limits();
    // Checked once: the borrowed decode takes the whole input and re-encodes to the same
    // bytes; the owned decode equals the packet the wire bytes were made from.
    let (packet, consumed) = Packet::decode(v, wire, &limits)
        .expect("valid")
        .complete()
        .expect("complete");
    assert_eq!(consumed, wire.len());
    let mut again = BytesMut::new();
    packet.encode(v, &mut again).expect("encodable");
    assert_eq!(&again[..], wire);
    let bytes = Bytes::copy_from_slice(wire);
    let (owned, _) = Packet::decode_bytes(v, &bytes, &limits)
        .expect("valid")
        .complete()
        .expect("complete");
    assert_eq!(owned, fixtures::packet(row, version));

    group.plain("ours_borrowed", || {
        Packet::decode(black_box(v), black_box(wire), black_box(&limits))
    });
    group.plain("ours_owned", || {
        Packet::decode_bytes(black_box(v), black_box(&bytes), black_box(&limits))
    });
}

pub(crate) fn encode(group: &mut impl Group, version: Version, row: Row, wire: &[u8]) {
    let v = version.ours();
    let packet = fixtures::packet(row, version);
    let mut buf = fixtures::out_buffer();
    packet.encode(v, &mut buf).expect("encodable");
    assert_eq!(&buf[..], wire);
    group.plain("ours", || {
        buf.clear();
        black_box(&packet).encode(black_box(v), &mut buf)
    });
}

pub(crate) fn stream(group: &mut impl Group, version: Version, stream: &Stream) {
    let v = version.ours();
    let limits = fixtures::limits();

    let borrowed = |input: &[u8]| {
        let mut input = input;
        let mut packets = 0;
        while !input.is_empty() {
            let Ok(Decoded::Complete { packet, consumed }) =
                Packet::decode(black_box(v), input, &limits)
            else {
                panic!("the stream holds whole, valid packets");
            };
            black_box(&packet);
            input = &input[consumed..];
            packets += 1;
        }
        packets
    };
    let owned = |input: &Bytes| {
        let mut input = input.clone();
        let mut packets = 0;
        while !input.is_empty() {
            let Ok(Decoded::Complete { packet, consumed }) =
                Packet::decode_bytes(black_box(v), &input, &limits)
            else {
                panic!("the stream holds whole, valid packets");
            };
            black_box(&packet);
            input.advance(consumed);
            packets += 1;
        }
        packets
    };
    let decoder = |decoder: &mut Decoder| {
        let mut packets = 0;
        while let Some(packet) = decoder.decode().expect("valid packets") {
            black_box(&packet);
            packets += 1;
        }
        packets
    };
    let new_decoder = || {
        let mut decoder = Decoder::with_version(v, limits);
        decoder.push(&stream.bytes);
        decoder
    };

    // Checked once: every packet, every PUBLISH and every payload byte comes out.
    let bytes = Bytes::copy_from_slice(&stream.bytes);
    assert_eq!(borrowed(&stream.bytes), stream.packets);
    assert_eq!(owned(&bytes), stream.packets);
    let mut check = new_decoder();
    let (mut publishes, mut payload_bytes) = (0, 0);
    while let Some(packet) = check.decode().expect("valid packets") {
        if let Packet::Publish(publish) = packet {
            publishes += 1;
            payload_bytes += publish.payload.len();
        }
    }
    assert_eq!(
        (publishes, payload_bytes),
        (stream.publishes, stream.payload_bytes)
    );
    assert_eq!(decoder(&mut new_decoder()), stream.packets);

    group.plain("ours_borrowed", || borrowed(black_box(&stream.bytes)));
    group.plain("ours_owned", || owned(black_box(&bytes)));
    group.batched("ours_decoder", stream.bytes.len(), new_decoder, decoder);
}
