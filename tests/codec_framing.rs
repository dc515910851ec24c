//! Framing through the public API, in MQTT 3.1 (`MQIsdp`, level 3), 3.1.1 (level 4) and 5.0
//! (level 5): PINGREQ and PINGRESP, the fixed header (packet type and flags), the Remaining
//! Length, incomplete input anywhere in a packet, several packets in one buffer, the streaming
//! [`Decoder`] and the maximum packet size of [`Limits`].
#![cfg(feature = "v5")]

mod common;

use bytes::Bytes;
use common::{
    V5, V31, V311, assert_refused_in, assert_vector, decode_error_with, decode_one, encode, hex,
};
use mqtt_sansio::{
    Connect, DecodeError, Decoded, Decoder, Limits, MAX_PACKET_SIZE, Packet, PacketType, PingReq,
    PingResp, ProtocolVersion, Publish, ReasonCode, TopicName,
};

/// CONNECT, Clean Session, Keep Alive 60, Client Identifier "c", in each version's layout.
const CONNECT_V31: &str = "10 0f 0006 4d5149736470 03 02 003c 0001 63";
const CONNECT_V311: &str = "10 0d 0004 4d515454 04 02 003c 0001 63";
const CONNECT_V5: &str = "10 0e 0004 4d515454 05 02 003c 00 0001 63";

/// The packets of one stream, hand-written for `version`, each valid on its own.
fn stream_pieces(version: ProtocolVersion) -> Vec<Vec<u8>> {
    let texts: &[&str] = if version == V5 {
        &[
            "30 08 0003 612f62 00 6869",
            "3b 0a 0003 612f62 000a 00 6869",
            "40 02 000a",
            "50 03 000a 10",
            "62 09 000a 92 05 1f0002 6e6f",
            "70 02 000a",
            "82 09 0001 00 0003 612f62 00",
            "90 04 0001 00 01",
            "a2 08 000b 00 0003 612f62",
            "b0 05 000b 00 00 11",
            "c0 00",
            "d0 00",
        ]
    } else {
        &[
            "30 07 0003 612f62 6869",
            "3b 09 0003 612f62 000a 6869",
            "40 02 000a",
            "50 02 000a",
            "62 02 000a",
            "70 02 000a",
            "82 08 0001 0003 612f62 00",
            "90 03 0001 01",
            "a2 07 000b 0003 612f62",
            "b0 02 000b",
            "c0 00",
            "d0 00",
        ]
    };
    let mut pieces: Vec<Vec<u8>> = texts.iter().map(|text| hex(text)).collect();
    // A PUBLISH with a two-byte Remaining Length, 203 (`cb 01`): topic "t" (3 bytes), in 5.0
    // a Property Length (1 byte), and the payload.
    let (mut big, payload_len) = if version == V5 {
        (hex("30 cb01 0001 74 00"), 199)
    } else {
        (hex("30 cb01 0001 74"), 200)
    };
    big.extend(std::iter::repeat_n(b'x', payload_len));
    pieces.push(big);
    pieces
}

/// Drains every packet the decoder can give now, as encoded bytes.
fn drain(decoder: &mut Decoder, version: ProtocolVersion, out: &mut Vec<Vec<u8>>) {
    while let Some(packet) = decoder
        .decode()
        .map_err(common::failure_error)
        .expect("valid stream")
    {
        out.push(encode(&packet, version));
    }
}

// ---------------------------------------------------------------------------------------------
// PINGREQ and PINGRESP
// ---------------------------------------------------------------------------------------------

/// A fixed header with Remaining Length 0 and nothing else, in every version (3.1.1 §3.12,
/// §3.13; 5.0 §3.12, §3.13).
#[test]
fn ping_in_every_version_including_mqtt31() {
    for &version in ProtocolVersion::ALL {
        assert_vector(
            version,
            &[0xc0, 0x00],
            Packet::PingReq(PingReq),
            Packet::PingReq(PingReq),
        );
        assert_vector(
            version,
            &[0xd0, 0x00],
            Packet::PingResp(PingResp),
            Packet::PingResp(PingResp),
        );
        let mut buf = Vec::new();
        assert_eq!(PingReq.encode(version, &mut buf), Ok(2));
        assert_eq!(PingResp.encode(version, &mut buf), Ok(2));
        assert_eq!(buf, [0xc0, 0x00, 0xd0, 0x00]);
        assert_eq!(PingReq.encoded_len(version), Ok(2));
    }
}

/// PINGREQ and PINGRESP have no variable header and no payload: a body is trailing bytes.
#[test]
fn ping_with_a_body_is_malformed() {
    let all = ProtocolVersion::ALL;
    assert_refused_in(
        all,
        "c0 01 00",
        DecodeError::TrailingBytes {
            packet: PacketType::PingReq,
            count: 1,
        },
        ReasonCode::MalformedPacket,
    );
    assert_refused_in(
        all,
        "d0 02 0000",
        DecodeError::TrailingBytes {
            packet: PacketType::PingResp,
            count: 2,
        },
        ReasonCode::MalformedPacket,
    );
}

// ---------------------------------------------------------------------------------------------
// Fixed header: packet type and flags
// ---------------------------------------------------------------------------------------------

/// What the fixed-header tables say of a first byte (3.1 §2.1, 3.1.1 §2.2, 5.0 §2.1): `None`
/// if the type and flags are valid, else the error.
fn header_rule(version: ProtocolVersion, first: u8) -> Option<DecodeError> {
    let nibble = first >> 4;
    let flags = first & 0x0f;
    let Some(packet) = PacketType::from_nibble(nibble) else {
        return Some(DecodeError::ReservedPacketType(nibble));
    };
    if packet == PacketType::Auth && version != V5 {
        return Some(DecodeError::ReservedPacketType(nibble));
    }
    let valid = match packet {
        PacketType::Publish => {
            let qos = (flags >> 1) & 0b11;
            if qos == 3 {
                return Some(DecodeError::InvalidQos {
                    field: "PUBLISH fixed header",
                });
            }
            if qos == 0 && flags & 0b1000 != 0 {
                return Some(DecodeError::DupWithQos0);
            }
            true
        }
        // MQTT 3.1 also sends these with DUP when it sends them again.
        PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => {
            flags == 0b0010 || (version == V31 && flags == 0b1010)
        }
        _ => flags == 0,
    };
    (!valid).then_some(DecodeError::InvalidFixedHeaderFlags { packet, flags })
}

/// Every first byte in every version: reserved types and every reserved flag combination are
/// refused with the error naming them; the others pass the header check.
/// conformance: v311:MQTT-2.2.2-1, v311:MQTT-2.2.2-2, v5:MQTT-2.1.3-1, v311:MQTT-3.3.1-4,
/// v5:MQTT-3.3.1-4, v311:MQTT-3.3.1-2, v5:MQTT-3.3.1-2
#[test]
fn every_first_byte_in_every_version() {
    let limits = Limits::default();
    for &version in ProtocolVersion::ALL {
        for first in 0..=255u8 {
            let wire = [first, 0x00];
            let borrowed = Packet::decode(version, &wire, &limits);
            let shared = Packet::decode_bytes(version, &Bytes::copy_from_slice(&wire), &limits);
            match header_rule(version, first) {
                Some(error) => {
                    assert_eq!(borrowed, Err(error), "MQTT {version}: {first:#04x}");
                    assert_eq!(shared, Err(error), "MQTT {version}: {first:#04x}");
                    assert_eq!(error.reason_code(), ReasonCode::MalformedPacket);
                }
                None => {
                    // The header is fine; an empty body may still be too short for the type.
                    assert!(
                        !matches!(
                            borrowed,
                            Err(DecodeError::ReservedPacketType(_)
                                | DecodeError::InvalidFixedHeaderFlags { .. }
                                | DecodeError::InvalidQos { .. }
                                | DecodeError::DupWithQos0)
                        ),
                        "MQTT {version}: {first:#04x} gave {borrowed:?}"
                    );
                    assert_eq!(
                        borrowed.is_ok(),
                        shared.is_ok(),
                        "MQTT {version}: {first:#04x}"
                    );
                }
            }
        }
    }
}

/// Type 0 is reserved in every version, type 15 before 5.0 (where it is AUTH).
#[test]
fn reserved_packet_types() {
    for (versions, wire, nibble) in [
        (ProtocolVersion::ALL, "00 00", 0),
        (ProtocolVersion::ALL, "02 02 000a", 0),
        (&[V31, V311], "f0 00", 15),
    ] {
        assert_refused_in(
            versions,
            wire,
            DecodeError::ReservedPacketType(nibble),
            ReasonCode::MalformedPacket,
        );
    }
    assert!(matches!(decode_one(V5, &[0xf0, 0x00]), Ok(Packet::Auth(_))));
}

// ---------------------------------------------------------------------------------------------
// Remaining Length
// ---------------------------------------------------------------------------------------------

/// The boundaries of the Remaining Length table (3.1.1 §2.2.3, 5.0 §1.5.5): one byte up to
/// 127, two up to 16,383, three up to 2,097,151, four beyond. Each PUBLISH is encoded with the
/// expected header and decoded back.
#[test]
fn remaining_length_boundaries() {
    let limits = Limits::new(MAX_PACKET_SIZE);
    for (remaining, header) in [
        (3usize, "30 03"),
        (127, "30 7f"),
        (128, "30 8001"),
        (16_383, "30 ff7f"),
        (16_384, "30 808001"),
        (2_097_151, "30 ffff7f"),
        (2_097_152, "30 80808001"),
    ] {
        // Topic "t" takes 3 bytes of the Remaining Length, the payload the rest.
        let payload = vec![0xa5; remaining - 3];
        let publish = Publish::<&[u8]>::new(TopicName::new("t").unwrap(), &payload[..]);
        let wire = encode(&Packet::Publish(publish.clone()), V311);
        let prefix = hex(&format!("{header} 0001 74"));
        assert_eq!(
            wire[..prefix.len()],
            prefix[..],
            "Remaining Length {remaining}"
        );
        assert_eq!(wire.len(), prefix.len() - 3 + remaining);
        let decoded = Packet::decode(V311, &wire, &limits).unwrap();
        assert_eq!(
            decoded,
            Decoded::Complete {
                packet: Packet::Publish(publish),
                consumed: wire.len()
            }
        );
    }
    assert_eq!(encode(&Packet::<&[u8]>::PingReq(PingReq), V5), [0xc0, 0x00]);
}

/// The largest Remaining Length, 268,435,455 (`ff ff ff 7f`), is read exactly: with no size
/// limit the decoder asks for that many bytes.
#[test]
fn largest_remaining_length_is_read() {
    assert_eq!(MAX_PACKET_SIZE, 268_435_460);
    for limits in [Limits::new(MAX_PACKET_SIZE), Limits::new(u32::MAX)] {
        let wire = hex("30 ffffff7f");
        assert_eq!(
            Packet::decode(V5, &wire, &limits),
            Ok(Decoded::Incomplete {
                needed: 268_435_455
            })
        );
    }
}

/// A Remaining Length in more bytes than needed is malformed (5.0 §1.5.5; this crate applies
/// the same rule to 3.1 and 3.1.1, whose text gives only the minimal encoding).
/// conformance: v5:MQTT-1.5.5-1
#[test]
fn non_minimal_remaining_length_is_malformed() {
    let error = DecodeError::VarIntNotMinimal {
        field: "remaining length",
    };
    // 0, 127, 1 and 0 again, each in more bytes than its value needs.
    for wire in ["c0 8000", "30 ff00", "30 8100", "30 808000", "30 80808000"] {
        assert_refused_in(
            ProtocolVersion::ALL,
            wire,
            error,
            ReasonCode::MalformedPacket,
        );
    }
    // A first byte of 0x80 is fine when a later byte is not 0: 128 is `80 01`.
    assert_eq!(
        Packet::decode(V311, &hex("30 8001"), &Limits::default()),
        Ok(Decoded::Incomplete { needed: 128 })
    );
}

/// A Remaining Length has at most four bytes: a fourth byte with the continuation bit is
/// refused at once, without waiting for a fifth.
#[test]
fn five_byte_remaining_length_is_malformed() {
    let error = DecodeError::VarIntTooLong {
        field: "remaining length",
    };
    let all = ProtocolVersion::ALL;
    for wire in ["30 ffffffff7f", "30 80808080", "30 ffffffff"] {
        assert_refused_in(all, wire, error, ReasonCode::MalformedPacket);
    }
    // Three continuation bytes may still end well.
    for &version in all {
        assert_eq!(
            Packet::decode(version, &hex("30 808080"), &Limits::new(u32::MAX)),
            Ok(Decoded::Incomplete { needed: 1 })
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Incomplete input
// ---------------------------------------------------------------------------------------------

/// Every strict prefix of a valid packet is `Incomplete`, never an error, through both paths.
/// Once the fixed header is complete `needed` is exactly what is missing; before that it is at
/// least 1 and never more than what is missing.
/// conformance: v311:MQTT-6.0.0-2, v5:MQTT-6.0.0-2
#[test]
fn every_prefix_is_incomplete_with_the_right_needed() {
    let mut cases: Vec<(ProtocolVersion, Vec<u8>)> = Vec::new();
    for &version in ProtocolVersion::ALL {
        for piece in stream_pieces(version) {
            cases.push((version, piece));
        }
    }
    // A four-byte Remaining Length: 16,388 = topic (3) + property length (1) + 16,384.
    let mut large = hex("30 848001 0001 74 00");
    large.extend(std::iter::repeat_n(0x5a, 16_384));
    cases.push((V5, large));
    cases.push((V31, hex(CONNECT_V31)));
    cases.push((V311, hex(CONNECT_V311)));
    cases.push((V5, hex(CONNECT_V5)));

    let limits = Limits::default();
    for (version, wire) in cases {
        let header_len = 2 + wire[1..]
            .iter()
            .take_while(|&&byte| byte & 0x80 != 0)
            .count();
        let input = Bytes::from(wire.clone());
        for len in 0..wire.len() {
            let missing = wire.len() - len;
            let borrowed = Packet::decode(version, &wire[..len], &limits);
            let Ok(Decoded::Incomplete { needed }) = borrowed else {
                panic!("MQTT {version}: prefix {len} of {wire:02x?} gave {borrowed:?}");
            };
            if len >= header_len {
                assert_eq!(needed, missing, "MQTT {version}: prefix {len}");
            } else {
                assert!(
                    (1..=missing).contains(&needed),
                    "MQTT {version}: prefix {len}"
                );
            }
            let shared = Packet::decode_bytes(version, &input.slice(..len), &limits);
            assert_eq!(shared, Ok(Decoded::Incomplete { needed }));
        }
        let whole = Packet::decode(version, &wire, &limits).unwrap();
        assert_eq!(
            whole.complete().map(|(_, consumed)| consumed),
            Some(wire.len())
        );
    }
}

/// The first packet of a connection, decoded with `Connect::decode`, is incomplete the same
/// way.
#[test]
fn every_connect_prefix_is_incomplete() {
    let limits = Limits::default();
    for (version, text) in [(V31, CONNECT_V31), (V311, CONNECT_V311), (V5, CONNECT_V5)] {
        let wire = hex(text);
        for len in 0..wire.len() {
            let Ok(Decoded::Incomplete { needed }) = Connect::decode(&wire[..len], &limits) else {
                panic!("MQTT {version}: prefix {len} not incomplete");
            };
            if len >= 2 {
                assert_eq!(needed, wire.len() - len);
            } else {
                assert!((1..=wire.len() - len).contains(&needed));
            }
        }
        let (connect, consumed) = Connect::decode(&wire, &limits).unwrap().complete().unwrap();
        assert_eq!((connect.protocol_version, consumed), (version, wire.len()));
    }
}

// ---------------------------------------------------------------------------------------------
// Several packets in one buffer
// ---------------------------------------------------------------------------------------------

/// Packets back to back in one buffer decode in turn, each reporting the bytes it took,
/// through both paths; the `Bytes` path hands out slices of the one input.
/// conformance: v311:MQTT-6.0.0-2, v5:MQTT-6.0.0-2
#[test]
fn packets_back_to_back_decode_in_sequence() {
    let limits = Limits::default();
    for &version in ProtocolVersion::ALL {
        let pieces = stream_pieces(version);
        let wire = pieces.concat();
        let input = Bytes::from(wire.clone());
        let mut offset = 0;
        for piece in &pieces {
            let (packet, consumed) = Packet::decode(version, &wire[offset..], &limits)
                .unwrap()
                .complete()
                .unwrap();
            assert_eq!(consumed, piece.len(), "MQTT {version} at {offset}");
            assert_eq!(&encode(&packet, version), piece);

            let (packet, consumed) = Packet::decode_bytes(version, &input.slice(offset..), &limits)
                .unwrap()
                .complete()
                .unwrap();
            assert_eq!(consumed, piece.len(), "MQTT {version} at {offset}");
            assert_eq!(&encode(&packet, version), piece);
            if let Packet::Publish(publish) = &packet {
                let payload_at = offset + piece.len() - publish.payload.len();
                assert_eq!(publish.payload.as_ptr(), input[payload_at..].as_ptr());
            }
            offset += consumed;
        }
        assert_eq!(offset, wire.len());
        assert_eq!(
            Packet::decode(version, &wire[offset..], &limits),
            Ok(Decoded::Incomplete { needed: 2 })
        );
    }
}

/// A valid packet followed by a malformed one: the first decodes, the error comes with the
/// second.
#[test]
fn a_bad_packet_after_a_good_one_fails_on_its_own_turn() {
    let limits = Limits::default();
    let wire = hex("40 02 000a 42 02 000a");
    let (packet, consumed) = Packet::decode(V311, &wire, &limits)
        .unwrap()
        .complete()
        .unwrap();
    assert_eq!((packet.packet_type(), consumed), (PacketType::PubAck, 4));
    assert_eq!(
        Packet::decode(V311, &wire[consumed..], &limits),
        Err(DecodeError::InvalidFixedHeaderFlags {
            packet: PacketType::PubAck,
            flags: 2
        })
    );
    let mut decoder = Decoder::with_version(V311, limits);
    decoder.push(&wire);
    assert!(matches!(
        decoder.decode().map_err(common::failure_error),
        Ok(Some(Packet::PubAck(_)))
    ));
    let error = decoder.decode().map_err(common::failure_error).unwrap_err();
    assert!(matches!(error, DecodeError::InvalidFixedHeaderFlags { .. }));
    // The stream cannot be resynchronised: the error sticks.
    decoder.push(&hex("c0 00"));
    assert_eq!(decoder.decode().map_err(common::failure_error), Err(error));
}

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

/// Fed one byte at a time, the decoder gives the same packets as from the whole buffer, and
/// only once each packet is complete.
/// conformance: v311:MQTT-6.0.0-2, v5:MQTT-6.0.0-2
#[test]
fn decoder_fed_one_byte_at_a_time() {
    for &version in ProtocolVersion::ALL {
        let pieces = stream_pieces(version);
        let mut decoder = Decoder::with_version(version, Limits::default());
        assert_eq!(decoder.version(), Some(version));
        let mut out = Vec::new();
        let mut ends = Vec::new();
        let mut end = 0;
        for piece in &pieces {
            end += piece.len();
            ends.push(end);
        }
        for (index, byte) in pieces.concat().into_iter().enumerate() {
            decoder.push(&[byte]);
            let before = out.len();
            drain(&mut decoder, version, &mut out);
            // A packet comes out exactly when its last byte went in.
            assert_eq!(
                out.len() > before,
                ends.contains(&(index + 1)),
                "byte {index}"
            );
        }
        assert_eq!(out, pieces, "MQTT {version}");
        assert_eq!(decoder.buffered(), 0);
    }
}

/// Split anywhere into two chunks, or cut into chunks of every size from 1 to 9, the stream
/// gives the same packets.
/// conformance: v311:MQTT-6.0.0-2, v5:MQTT-6.0.0-2
#[test]
fn decoder_handles_any_split() {
    for &version in ProtocolVersion::ALL {
        let pieces = stream_pieces(version);
        let wire = pieces.concat();
        for split in 0..=wire.len() {
            let mut decoder = Decoder::with_version(version, Limits::default());
            let mut out = Vec::new();
            decoder.push(&wire[..split]);
            drain(&mut decoder, version, &mut out);
            decoder.push(&wire[split..]);
            drain(&mut decoder, version, &mut out);
            assert_eq!(out, pieces, "MQTT {version}, split at {split}");
        }
        for size in 1..=9 {
            let mut decoder = Decoder::with_version(version, Limits::default());
            let mut out = Vec::new();
            for chunk in wire.chunks(size) {
                decoder.buffer_mut().extend_from_slice(chunk);
                drain(&mut decoder, version, &mut out);
            }
            assert_eq!(out, pieces, "MQTT {version}, chunks of {size}");
        }
    }
}

/// Packets from the decoder share its buffer's storage: no copy of the payload.
#[test]
fn decoder_packets_share_the_buffer() {
    let mut decoder = Decoder::with_version(V311, Limits::default());
    decoder.push(&hex("32 09 0003 612f62 000a 6869 c0 00"));
    let base = decoder.buffer_mut().as_ptr();
    let Some(Packet::Publish(publish)) = decoder.decode().map_err(common::failure_error).unwrap()
    else {
        panic!("not a PUBLISH");
    };
    assert_eq!(publish.payload.as_ptr(), base.wrapping_add(9));
    assert_eq!(
        publish.topic.as_ref().unwrap().as_ptr(),
        base.wrapping_add(4)
    );
    assert_eq!(decoder.buffered(), 2);
    assert_eq!(
        decoder.decode().map_err(common::failure_error),
        Ok(Some(Packet::PingReq(PingReq)))
    );
    assert_eq!(decoder.decode().map_err(common::failure_error), Ok(None));
}

/// A server-side decoder learns the version from the CONNECT's Protocol Level and decodes the
/// rest of the stream in it: the same PUBLISH bytes read as a 5.0 property block or as 3.1.1
/// payload, and a SUBSCRIBE with DUP passes only in 3.1.
#[test]
fn server_decoder_learns_the_version_from_connect() {
    for (version, connect) in [(V31, CONNECT_V31), (V311, CONNECT_V311), (V5, CONNECT_V5)] {
        let mut decoder = Decoder::new(Limits::default());
        assert_eq!(decoder.version(), None);
        for byte in hex(connect) {
            assert_eq!(decoder.version(), None);
            decoder.push(&[byte]);
            if let Some(packet) = decoder.decode().map_err(common::failure_error).unwrap() {
                let Packet::Connect(connect) = packet else {
                    panic!("not a CONNECT");
                };
                assert_eq!(connect.protocol_version, version);
                assert_eq!(connect.client_id, "c");
            }
        }
        assert_eq!(decoder.version(), Some(version));

        decoder.push(&hex("30 05 0001 74 00 78"));
        let Some(Packet::Publish(publish)) =
            decoder.decode().map_err(common::failure_error).unwrap()
        else {
            panic!("not a PUBLISH");
        };
        let expected: &[u8] = if version == V5 { b"x" } else { b"\x00x" };
        assert_eq!(publish.payload, expected, "MQTT {version}");

        decoder.push(&hex("8a 08 0001 0003 612f62 00"));
        if version == V31 {
            assert!(matches!(
                decoder.decode().map_err(common::failure_error),
                Ok(Some(Packet::Subscribe(_)))
            ));
        } else {
            assert_eq!(
                decoder.decode().map_err(common::failure_error),
                Err(DecodeError::InvalidFixedHeaderFlags {
                    packet: PacketType::Subscribe,
                    flags: 0b1010
                })
            );
        }
    }
}

/// Before CONNECT nothing else is accepted, and the refusal sticks.
/// conformance: v311:MQTT-3.1.0-1, v5:MQTT-3.1.0-1
#[test]
fn server_decoder_refuses_a_first_packet_other_than_connect() {
    for (wire, nibble) in [
        ("30 07 0003 612f62 6869", 3),
        ("c0 00", 12),
        ("82 08 0001 0003 612f62 00", 8),
        ("e0 00", 14),
        ("f0 00", 15),
    ] {
        let error = DecodeError::ExpectedConnect(nibble);
        let mut decoder = Decoder::new(Limits::default());
        decoder.push(&hex(wire));
        assert_eq!(
            decoder.decode().map_err(common::failure_error),
            Err(error),
            "{wire}"
        );
        decoder.push(&hex(CONNECT_V311));
        assert_eq!(
            decoder.decode().map_err(common::failure_error),
            Err(error),
            "{wire}"
        );
        assert_eq!(decoder.version(), None);
        // `Connect::decode` is the same first-packet check without a stream.
        assert_eq!(Connect::decode(&hex(wire), &Limits::default()), Err(error));
        assert_eq!(error.reason_code(), ReasonCode::ProtocolError);
    }
    // The refusal needs only the first byte.
    let mut decoder = Decoder::new(Limits::default());
    decoder.push(&[0x30]);
    assert_eq!(
        decoder.decode().map_err(common::failure_error),
        Err(DecodeError::ExpectedConnect(3))
    );
}

// ---------------------------------------------------------------------------------------------
// Limits: maximum packet size
// ---------------------------------------------------------------------------------------------

/// A PUBLISH announcing the largest Remaining Length is refused from its five header bytes,
/// by both paths and by the decoder, with reason code 0x95 (Packet too large).
#[test]
fn oversized_publish_is_refused_from_its_header() {
    let header = hex("30 ffffff7f");
    let error = DecodeError::PacketTooLarge {
        size: 268_435_460,
        max: Limits::DEFAULT_MAX_PACKET_SIZE,
    };
    assert_eq!(Limits::default().max_packet_size, 1_048_576);
    for &version in ProtocolVersion::ALL {
        assert_eq!(
            decode_error_with(version, &header, Limits::default()),
            error
        );
    }
    assert_eq!(error.reason_code(), ReasonCode::PacketTooLarge);
    assert_eq!(error.reason_code().as_u8(), 0x95);

    let mut decoder = Decoder::with_version(V5, Limits::default());
    decoder.push(&header);
    assert_eq!(decoder.decode().map_err(common::failure_error), Err(error));
    // The failed stream is dead: its bytes are released and later ones ignored.
    assert_eq!(decoder.buffered(), 0);
    decoder.push(&[0u8; 64]);
    assert_eq!(decoder.buffered(), 0);
    assert_eq!(decoder.decode().map_err(common::failure_error), Err(error));

    // A server-side decoder applies the limit to the CONNECT too.
    let mut decoder = Decoder::new(Limits::default());
    decoder.push(&hex("10 ffffff7f"));
    assert_eq!(decoder.decode().map_err(common::failure_error), Err(error));
    assert_eq!(
        Connect::decode(&hex("10 ffffff7f"), &Limits::default()),
        Err(error)
    );
}

/// The limit counts the whole packet, fixed header included: a packet of exactly the maximum
/// passes, one byte more is refused from its fixed header alone.
#[test]
fn maximum_packet_size_counts_the_whole_packet() {
    let wire = hex("30 07 0003 612f62 6869");
    assert_eq!(wire.len(), 9);
    for version in [V31, V311] {
        let decoded = Packet::decode(version, &wire, &Limits::new(9)).unwrap();
        assert_eq!(decoded.complete().map(|(_, consumed)| consumed), Some(9));
        let error = DecodeError::PacketTooLarge { size: 9, max: 8 };
        assert_eq!(decode_error_with(version, &wire, Limits::new(8)), error);
        assert_eq!(
            decode_error_with(version, &wire[..2], Limits::new(8)),
            error
        );
        assert_eq!(error.reason_code(), ReasonCode::PacketTooLarge);
    }
    // A two-byte Remaining Length counts too: 3 + 203 bytes.
    let error = DecodeError::PacketTooLarge {
        size: 206,
        max: 205,
    };
    assert_eq!(
        decode_error_with(V5, &hex("30 cb01"), Limits::new(205)),
        error
    );
    let mut big = hex("30 cb01 0001 74 00");
    big.extend(std::iter::repeat_n(b'x', 199));
    assert!(
        Packet::decode(V5, &big, &Limits::new(206))
            .unwrap()
            .is_complete()
    );
}
