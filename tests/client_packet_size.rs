//! Packet sizes: the client never sends more than the server's Maximum Packet Size, refuses
//! (or reports) what would not fit, disconnects a server that exceeds its own, and writes a
//! packet of any size into a buffer of any size.
#![cfg(feature = "v5")]

mod common;

use std::num::NonZeroU32;

use bytes::Bytes;
use common::client::{Harness, connack_with, incoming, message, only_disconnected, subscription};
use mqtt_sansio::{
    ClientConfig, ConnAck, ConnAckProperties, ConnectOptions, ConnectReasonCode, Decoder,
    Disconnect, DisconnectReasonCode, Event, Limits, Packet, ProtocolVersion, Publish,
    PublishError, QoS, SubscribeProperties, TopicFilter, TopicName, UnsubscribeProperties,
    UsageError,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;
const QOS: [QoS; 3] = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];

/// The CONNACK of a server whose Maximum Packet Size is `maximum`.
fn limited(maximum: u32) -> ConnAck {
    connack_with(ConnAckProperties {
        maximum_packet_size: NonZeroU32::new(maximum),
        ..ConnAckProperties::default()
    })
}

/// A message on "t" at `qos` whose 5.0 PUBLISH is exactly `size` bytes (below 128).
fn sized(qos: QoS, size: usize) -> Publish {
    let empty = Publish::new(TopicName::new("t").unwrap(), Bytes::new()).with_qos(qos);
    let base = empty.encoded_len(V5).unwrap();
    let message = Publish::new(
        TopicName::new("t").unwrap(),
        Bytes::from(vec![b'p'; size - base]),
    )
    .with_qos(qos);
    assert_eq!(message.encoded_len(V5).unwrap(), size);
    message
}

/// Every packet in `bytes`, read as a server reads them; panics on leftovers.
fn decode_all(version: ProtocolVersion, bytes: &[u8]) -> Vec<Packet> {
    let mut server = Decoder::with_version(version, Limits::default());
    server.push(bytes);
    let mut packets = Vec::new();
    while let Some(packet) = server.decode().unwrap() {
        packets.push(packet);
    }
    assert_eq!(server.buffered(), 0, "a packet was cut off");
    packets
}

/// A PUBLISH of exactly the server's Maximum Packet Size goes out; one byte more is refused
/// with `PacketTooLarge` naming both sizes, and nothing is written or queued. Every QoS.
/// conformance: v5:MQTT-3.2.2-15
#[test]
fn publish_above_the_server_maximum_is_refused() {
    for qos in QOS {
        let mut h = Harness::new(ClientConfig::default());
        h.connect_with(ConnectOptions::new(V5, "c").unwrap(), limited(100));
        h.client.publish(h.now, sized(qos, 100)).unwrap();
        assert_eq!(h.sent_bytes().len(), 100, "{qos:?}");
        let held = h.client.outgoing_len();
        assert_eq!(
            h.client.publish(h.now, sized(qos, 101)),
            Err(UsageError::PacketTooLarge {
                size: 101,
                maximum: 100
            })
        );
        assert_eq!(h.sent_bytes(), b"");
        assert_eq!(h.client.outgoing_len(), held);
        assert!(h.client.is_connected());
    }
}

/// SUBSCRIBE and UNSUBSCRIBE packets above the server's Maximum Packet Size are refused, and
/// nothing is written; smaller ones go out.
/// conformance: v5:MQTT-3.2.2-15
#[test]
fn subscribe_and_unsubscribe_above_the_server_maximum_are_refused() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(ConnectOptions::new(V5, "c").unwrap(), limited(40));
    let long = "f".repeat(40);
    let result = h.client.subscribe(
        h.now,
        [subscription(&long, QoS::AtMostOnce)],
        SubscribeProperties::default(),
    );
    assert!(
        matches!(result, Err(UsageError::PacketTooLarge { maximum: 40, size }) if size > 40),
        "{result:?}"
    );
    let result = h.client.unsubscribe(
        h.now,
        [TopicFilter::new(long.as_str()).unwrap()],
        UnsubscribeProperties::default(),
    );
    assert!(
        matches!(result, Err(UsageError::PacketTooLarge { maximum: 40, size }) if size > 40),
        "{result:?}"
    );
    assert_eq!(h.sent_bytes(), b"");
    assert_eq!(h.client.outgoing_len(), 0);
    h.client
        .subscribe(
            h.now,
            [subscription("short", QoS::AtMostOnce)],
            SubscribeProperties::default(),
        )
        .unwrap();
    h.client
        .unsubscribe(
            h.now,
            [TopicFilter::new("short").unwrap()],
            UnsubscribeProperties::default(),
        )
        .unwrap();
    let bytes = h.sent_bytes();
    let packets = decode_all(V5, &bytes);
    assert!(matches!(
        &packets[..],
        [Packet::Subscribe(_), Packet::Unsubscribe(_)]
    ));
}

/// An AUTH for re-authentication above the server's Maximum Packet Size is refused.
/// conformance: v5:MQTT-3.2.2-15
#[test]
fn auth_above_the_server_maximum_is_refused() {
    let mut h = Harness::new(ClientConfig::default());
    let mut connack = limited(50);
    connack.properties.authentication_method = Some(common::client::text("M"));
    h.connect_with(
        ConnectOptions::new(V5, "c")
            .unwrap()
            .authentication("M", None)
            .unwrap(),
        connack,
    );
    let result = h
        .client
        .reauthenticate(h.now, Some(Bytes::from(vec![0; 100])));
    assert!(
        matches!(result, Err(UsageError::PacketTooLarge { maximum: 50, .. })),
        "{result:?}"
    );
    assert_eq!(h.sent_bytes(), b"");
    h.client
        .reauthenticate(h.now, Some(Bytes::from_static(b"ok")))
        .unwrap();
    assert!(matches!(&h.sent()[..], [Packet::Auth(_)]));
}

/// Messages accepted before the server's limit was known (offline, or while connecting) and too
/// large for it are not sent: a QoS 0 message is reported `Dropped`, a QoS 1 or 2 message
/// `Published` with `TooLarge`; those that fit go out.
/// conformance: v5:MQTT-3.2.2-15
#[test]
fn queued_messages_too_large_for_the_server_are_reported() {
    let config = ClientConfig {
        queue_while_offline: true,
        ..ClientConfig::default()
    };
    let mut h = Harness::new(config);
    h.client
        .publish(h.now, sized(QoS::AtMostOnce, 120))
        .unwrap();
    h.client.publish(h.now, sized(QoS::AtMostOnce, 60)).unwrap();
    let big_qos1 = h
        .client
        .publish(h.now, sized(QoS::AtLeastOnce, 120))
        .unwrap()
        .unwrap();
    let small_qos1 = h
        .client
        .publish(h.now, sized(QoS::AtLeastOnce, 60))
        .unwrap()
        .unwrap();
    h.connect(ConnectOptions::new(V5, "c").unwrap());
    let big_qos2 = h
        .client
        .publish(h.now, sized(QoS::ExactlyOnce, 120))
        .unwrap()
        .unwrap();
    h.receive(limited(100));
    let events = h.events();
    assert!(matches!(&events[0], Event::Connected(_)), "{events:?}");
    let mut dropped = 0;
    let mut too_large = Vec::new();
    for event in &events[1..] {
        match event {
            Event::Dropped(publish) => {
                assert_eq!(publish.encoded_len(V5).unwrap(), 120);
                dropped += 1;
            }
            Event::Published {
                packet_id,
                result: Err(PublishError::TooLarge),
            } => too_large.push(*packet_id),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(dropped, 1);
    too_large.sort();
    assert_eq!(too_large, [big_qos1, big_qos2]);
    let bytes = h.sent_bytes();
    let sent = decode_all(V5, &bytes);
    assert_eq!(sent.len(), 2, "{sent:?}");
    for packet in &sent {
        let Packet::Publish(publish) = packet else {
            panic!("{packet:?}")
        };
        assert!(publish.encoded_len(V5).unwrap() <= 100);
    }
    assert!(
        sent.iter()
            .any(|p| matches!(p, Packet::Publish(p) if p.packet_id() == Some(small_qos1)))
    );
}

/// A SUBSCRIBE accepted before the server's limit was known and too large for it is not sent,
/// and the application hears that it was not.
/// conformance: v5:MQTT-3.2.2-15
#[test]
fn queued_subscribe_too_large_for_the_server_is_not_sent() {
    let mut h = Harness::new(ClientConfig::default());
    // A resumed session, so that nothing is discarded with a new one.
    h.connect(
        ConnectOptions::new(V5, "c")
            .unwrap()
            .clean_start(false)
            .session_expiry_interval(60),
    );
    let long = "f".repeat(100);
    let id = h
        .client
        .subscribe(
            h.now,
            [subscription(&long, QoS::AtMostOnce)],
            SubscribeProperties::default(),
        )
        .unwrap();
    let mut connack = limited(50);
    connack.session_present = true;
    h.receive(connack);
    let bytes = h.sent_bytes();
    assert!(bytes.len() <= 50, "{} bytes sent", bytes.len());
    let events = h.events();
    assert!(
        events.iter().any(|event| matches!(
            event,
            Event::RequestFailed { packet_id, error: UsageError::PacketTooLarge { .. } } if *packet_id == id
        )),
        "{events:?}"
    );
}

/// A resumed session meets a server whose Maximum Packet Size is now smaller than a message it
/// holds: the message is not re-sent, and is reported `TooLarge`.
/// conformance: v5:MQTT-3.2.2-15
#[test]
fn resumed_message_too_large_for_the_server_is_not_resent() {
    let options = ConnectOptions::new(V5, "c")
        .unwrap()
        .clean_start(false)
        .session_expiry_interval(60);
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(
        options.clone(),
        ConnAck::new(false, ConnectReasonCode::Success),
    );
    let id = h
        .client
        .publish(h.now, sized(QoS::AtLeastOnce, 120))
        .unwrap()
        .unwrap();
    assert_eq!(h.sent_bytes().len(), 120);
    h.drop_transport();
    only_disconnected(h.events());
    let mut connack = limited(100);
    connack.session_present = true;
    h.connect(options);
    h.receive(connack);
    let bytes = h.sent_bytes();
    assert!(bytes.len() <= 100, "{} bytes re-sent", bytes.len());
    let events = h.events();
    assert!(
        events.contains(&Event::Published {
            packet_id: id,
            result: Err(PublishError::TooLarge)
        }),
        "{events:?}"
    );
}

/// A packet from the server of exactly the client's Maximum Packet Size is accepted; one byte
/// more is Packet too large: DISCONNECT 0x95 in 5.0, a close in 3.x.
/// conformance: v5:MQTT-4.13.2-1, v311:MQTT-4.8.0-1
#[test]
fn received_packet_above_our_maximum_closes_with_0x95() {
    for &version in VERSIONS {
        let config = ClientConfig {
            max_packet_size: 80,
            ..ClientConfig::default()
        };
        let publish = |size: usize| {
            let empty = incoming("t", b"", QoS::AtMostOnce, 1);
            let base = Packet::from(empty).encoded_len(version).unwrap();
            let mut bytes = Vec::new();
            let mut publish = incoming("t", b"", QoS::AtMostOnce, 1);
            publish.payload = Bytes::from(vec![b'p'; size - base]);
            Packet::from(publish).encode(version, &mut bytes).unwrap();
            assert_eq!(bytes.len(), size);
            bytes
        };
        let mut h = Harness::connected(config, version);
        h.receive_bytes(&publish(80));
        assert!(matches!(&h.events()[..], [Event::Message(_)]));
        h.receive_bytes(&publish(81));
        let disconnected = only_disconnected(h.events());
        assert!(
            matches!(disconnected.reason, mqtt_sansio::DisconnectReason::ProtocolError(e)
                if e.disconnect_reason_code() == DisconnectReasonCode::PacketTooLarge),
            "MQTT {version}: {disconnected:?}"
        );
        if version.is_v5() {
            assert_eq!(
                h.sent(),
                [Packet::Disconnect(Disconnect::new(
                    DisconnectReasonCode::PacketTooLarge
                ))]
            );
        } else {
            assert_eq!(h.sent_bytes(), b"");
        }
    }
}

/// Queues the same mix of packets on a connected client: a large QoS 0 PUBLISH, a SUBSCRIBE,
/// a QoS 1 PUBLISH and a PUBACK.
fn busy(version: ProtocolVersion) -> Harness {
    let mut h = Harness::connected(ClientConfig::default(), version);
    h.client
        .publish(h.now, message("big", &[0xAB; 300], QoS::AtMostOnce))
        .unwrap();
    h.client
        .subscribe(
            h.now,
            [subscription("s/+", QoS::AtLeastOnce)],
            SubscribeProperties::default(),
        )
        .unwrap();
    h.client
        .publish(h.now, message("t", b"small", QoS::AtLeastOnce))
        .unwrap();
    h.receive(incoming("in", b"x", QoS::AtLeastOnce, 5));
    h.events();
    h
}

/// `poll_transmit` with a buffer smaller than a packet (7 bytes, or even 1) writes it in pieces
/// that never overrun the buffer and reassemble to exactly the bytes a large buffer gets; each
/// packet is counted once, in the call that writes its last byte.
#[test]
fn small_buffer_writes_packets_in_pieces() {
    for &version in VERSIONS {
        let whole = busy(version).sent_bytes();
        assert_eq!(decode_all(version, &whole).len(), 4);
        for size in [1, 2, 7, 13, 64] {
            let mut h = busy(version);
            let mut buf = vec![0u8; size];
            let mut pieces = Vec::new();
            let mut packets = 0;
            for _ in 0..10_000 {
                let Some(transmit) = h.client.poll_transmit(&mut buf) else {
                    break;
                };
                assert!(transmit.len > 0 && transmit.len <= size);
                pieces.extend_from_slice(&buf[..transmit.len]);
                packets += transmit.packets;
            }
            assert_eq!(pieces, whole, "MQTT {version}, {size}-byte buffer");
            assert_eq!(packets, 4, "MQTT {version}, {size}-byte buffer");
        }
    }
}

/// A QoS 0 message that does not fit behind another waits, whole and in order, for the next
/// call: one message per call when the buffer holds one.
#[test]
fn qos0_message_that_does_not_fit_waits_for_the_next_call() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        for payload in [b"first".as_slice(), b"second", b"third"] {
            h.client
                .publish(h.now, message("topic", payload, QoS::AtMostOnce))
                .unwrap();
        }
        let mut buf = [0u8; 24];
        let mut payloads = Vec::new();
        for _ in 0..10 {
            let Some(transmit) = h.client.poll_transmit(&mut buf) else {
                break;
            };
            assert_eq!(transmit.packets, 1, "MQTT {version}");
            for packet in decode_all(version, &buf[..transmit.len]) {
                let Packet::Publish(publish) = packet else {
                    panic!("MQTT {version}: not a PUBLISH")
                };
                payloads.push(publish.payload);
            }
        }
        assert_eq!(
            payloads,
            [&b"first"[..], b"second", b"third"],
            "MQTT {version}"
        );
    }
}

/// A CONNECT larger than the buffer is written in pieces too, and an empty buffer writes
/// nothing and loses nothing.
#[test]
fn connect_in_pieces_and_empty_buffer() {
    for &version in VERSIONS {
        let mut h = Harness::new(ClientConfig::default());
        h.client
            .connect(
                h.now,
                ConnectOptions::new(version, "a-client-id")
                    .unwrap()
                    .credentials("user", Some(b"password".as_slice()))
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(h.client.poll_transmit(&mut []), None);
        let mut buf = [0u8; 7];
        let mut bytes = Vec::new();
        let mut packets = 0;
        while let Some(transmit) = h.client.poll_transmit(&mut buf) {
            bytes.extend_from_slice(&buf[..transmit.len]);
            packets += transmit.packets;
            assert_eq!(h.client.poll_transmit(&mut []), None);
        }
        assert_eq!(packets, 1);
        let mut server = Decoder::server(Limits::default());
        server.push(&bytes);
        let Ok(Some(Packet::Connect(connect))) = server.decode() else {
            panic!("MQTT {version}: not a CONNECT")
        };
        assert_eq!(connect.client_id.as_str(), "a-client-id");
        assert_eq!(server.buffered(), 0);
    }
}

/// A protocol error while a packet is half-written: in 5.0 the rest of that packet goes out
/// first (a packet cannot be cut), then the DISCONNECT, and nothing else that was queued; in
/// 3.x, which has no DISCONNECT to send, the connection closes as it stands.
/// conformance: v5:MQTT-4.13.2-1, v311:MQTT-4.8.0-1
#[test]
fn protocol_error_after_a_partial_write_finishes_the_packet_first() {
    for &version in VERSIONS {
        let mut h = busy(version);
        let mut buf = [0u8; 7];
        let first = h.client.poll_transmit(&mut buf).unwrap();
        let mut bytes = buf[..first.len].to_vec();
        h.receive_bytes(&[0x42, 0x02, 0x00, 0x01]);
        let events = h.events();
        assert!(
            matches!(&events[0], Event::Disconnected(_)),
            "MQTT {version}: {events:?}"
        );
        while let Some(transmit) = h.client.poll_transmit(&mut buf) {
            bytes.extend_from_slice(&buf[..transmit.len]);
        }
        if !version.is_v5() {
            // 3.x has no DISCONNECT to send: the connection is closed as it stands, and
            // nothing more is written to it.
            assert_eq!(bytes.len(), first.len, "MQTT {version}");
            continue;
        }
        let packets = decode_all(version, &bytes);
        assert!(
            matches!(&packets[0], Packet::Publish(p) if p.payload.len() == 300),
            "MQTT {version}: {packets:?}"
        );
        if version.is_v5() {
            assert_eq!(
                packets[1..],
                [Packet::Disconnect(Disconnect::new(
                    DisconnectReasonCode::MalformedPacket
                ))]
            );
        } else {
            assert_eq!(packets.len(), 1, "MQTT {version}: {packets:?}");
        }
    }
}
