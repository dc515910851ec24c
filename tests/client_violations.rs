//! A server that breaks the protocol: each violation gets the spec's reaction (in 5.0 a
//! DISCONNECT with the right reason code, in 3.x a close without a word, then one
//! `Event::Disconnected(ProtocolError(..))`), benign oddities get none, and no input at all
//! makes the client panic.
#![cfg(feature = "v5")]

mod common;

use std::num::NonZeroU16;

use bytes::Bytes;
use common::client::{Harness, incoming, message, only_disconnected, subscription};
use mqtt_sansio::{
    ClientConfig, ConnAck, ConnectOptions, ConnectReasonCode, DecodeError, Disconnect,
    DisconnectReason, DisconnectReasonCode, Event, Packet, PacketId, PacketType, PeerError,
    PingReq, PingResp, ProtocolError, ProtocolVersion, PubAck, PubComp, PubCompReasonCode, PubRec,
    PubRel, PubRelReasonCode, Publish, QoS, State, SubAck, SubAckReasonCode, Subscribe,
    SubscribeProperties, TopicName, UnsubAck,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// A Packet Identifier.
fn pid(id: u16) -> PacketId {
    PacketId::new(id).unwrap()
}

/// `packet` encoded in `version`.
fn encoded(packet: impl Into<Packet>, version: ProtocolVersion) -> Vec<u8> {
    let mut bytes = Vec::new();
    packet.into().encode(version, &mut bytes).unwrap();
    bytes
}

/// A 5.0 PUBLISH on `topic` (or none) with this Topic Alias.
fn aliased(topic: Option<&str>, alias: u16) -> Publish {
    let mut publish = incoming("placeholder", b"x", QoS::AtMostOnce, 1);
    publish.topic = topic.map(|topic| TopicName::new(bytestring::ByteString::from(topic)).unwrap());
    publish.properties.topic_alias = NonZeroU16::new(alias);
    publish
}

/// The connection ended for a protocol violation: in 5.0 exactly one DISCONNECT with `code`
/// went out, in 3.x nothing; one `Event::Disconnected(ProtocolError(error))` whose error maps
/// to `code`; and the client ignores whatever the server sends next. Returns the error.
#[track_caller]
fn assert_closed_for(h: &mut Harness, code: DisconnectReasonCode) -> PeerError {
    let version = h.version;
    let disconnected = only_disconnected(h.events());
    let DisconnectReason::ProtocolError(error) = disconnected.reason else {
        panic!("MQTT {version}: not a protocol error: {disconnected:?}");
    };
    assert_eq!(
        error.disconnect_reason_code(),
        code,
        "MQTT {version}: {error:?}"
    );
    if version.is_v5() {
        assert_eq!(h.sent(), [Packet::Disconnect(Disconnect::new(code))]);
    } else {
        assert_eq!(
            h.sent_bytes(),
            b"",
            "MQTT {version}: 3.x closes without a word"
        );
    }
    assert_eq!(h.client.state(), State::Disconnected);
    assert_eq!(h.client.poll_timeout(), None);
    h.receive(PingResp);
    h.receive(incoming("t", b"x", QoS::AtLeastOnce, 1));
    assert_eq!(h.events(), []);
    assert_eq!(h.sent_bytes(), b"");
    error
}

/// Bytes that are not a valid packet: Malformed Packet (0x81) in 5.0, a close in 3.x.
/// conformance: v5:MQTT-4.13.2-1, v311:MQTT-4.8.0-1
#[test]
fn malformed_packet_closes_with_0x81() {
    let malformed: [(&str, &[u8]); 5] = [
        ("PUBACK with reserved flags set", &[0x42, 0x02, 0x00, 0x01]),
        ("PUBLISH with QoS 3", &[0x36, 0x04, 0x00, 0x01, b'a', 0x00]),
        (
            "PUBLISH topic with a wildcard",
            &[0x30, 0x05, 0x00, 0x03, b'a', b'/', b'+'],
        ),
        ("PINGRESP with a body", &[0xD0, 0x01, 0x00]),
        (
            "remaining length of five bytes",
            &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
        ),
    ];
    for &version in VERSIONS {
        for (name, bytes) in malformed {
            let mut h = Harness::connected(ClientConfig::default(), version);
            h.receive_bytes(bytes);
            let error = assert_closed_for(&mut h, DisconnectReasonCode::MalformedPacket);
            assert!(
                matches!(error, PeerError::Decode(_)),
                "MQTT {version}, {name}: {error:?}"
            );
        }
    }
}

/// A packet only a client sends (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ; in 3.x also
/// DISCONNECT) is a Protocol Error (0x82) in 5.0 and a close in 3.x; an AUTH in 3.x is a
/// reserved packet type (Malformed).
/// conformance: v5:MQTT-4.13.2-1, v311:MQTT-4.8.0-1
#[test]
fn packet_a_server_never_sends_closes_with_0x82() {
    for &version in VERSIONS {
        let mut packets: Vec<(&str, Vec<u8>)> = vec![
            (
                "CONNECT",
                encoded(
                    mqtt_sansio::Connect::new(version, common::client::text("x")),
                    version,
                ),
            ),
            (
                "SUBSCRIBE",
                encoded(
                    Subscribe::new(pid(1), [subscription("a", QoS::AtMostOnce)]),
                    version,
                ),
            ),
            (
                "UNSUBSCRIBE",
                encoded(
                    mqtt_sansio::Unsubscribe::new(
                        pid(1),
                        [mqtt_sansio::TopicFilter::new("a").unwrap()],
                    ),
                    version,
                ),
            ),
            ("PINGREQ", encoded(PingReq, version)),
        ];
        if !version.is_v5() {
            packets.push(("DISCONNECT", vec![0xE0, 0x00]));
        }
        for (name, bytes) in packets {
            let mut h = Harness::connected(ClientConfig::default(), version);
            h.receive_bytes(&bytes);
            let error = assert_closed_for(&mut h, DisconnectReasonCode::ProtocolError);
            assert!(
                matches!(
                    error,
                    PeerError::Protocol(ProtocolError::WrongDirection { .. })
                ),
                "MQTT {version}, {name}: {error:?}"
            );
        }
        if !version.is_v5() {
            let mut h = Harness::connected(ClientConfig::default(), version);
            h.receive_bytes(&[0xF0, 0x00]);
            let error = assert_closed_for(&mut h, DisconnectReasonCode::MalformedPacket);
            assert_eq!(
                error,
                PeerError::Decode(DecodeError::ReservedPacketType(15))
            );
        }
    }
}

/// Before the CONNACK the server may send nothing else (in 5.0, AUTH aside): a PUBLISH, an
/// acknowledgement or a PINGRESP there is a Protocol Error.
/// conformance: v5:MQTT-4.13.2-1, v311:MQTT-4.8.0-1
#[test]
fn anything_before_connack_closes_with_0x82() {
    for &version in VERSIONS {
        let before: [(&str, Packet); 4] = [
            ("PUBLISH", incoming("t", b"x", QoS::AtMostOnce, 1).into()),
            ("PUBACK", PubAck::new(pid(1)).into()),
            ("PINGRESP", PingResp.into()),
            (
                "SUBACK",
                SubAck::new(pid(1), [SubAckReasonCode::GrantedQoS0]).into(),
            ),
        ];
        for (name, packet) in before {
            let mut h = Harness::new(ClientConfig::default());
            h.connect(ConnectOptions::new(version, "c").unwrap());
            h.receive(packet);
            let error = assert_closed_for(&mut h, DisconnectReasonCode::ProtocolError);
            assert!(
                matches!(error, PeerError::Protocol(ProtocolError::Unexpected(_))),
                "MQTT {version}, {name}: {error:?}"
            );
            // The CONNACK that follows is too late.
            h.receive(ConnAck::new(false, ConnectReasonCode::Success));
            assert!(!h.client.is_connected());
        }
    }
}

/// A second CONNACK on a connection is a Protocol Error.
/// conformance: v5:MQTT-4.13.2-1, v311:MQTT-4.8.0-1
#[test]
fn second_connack_closes_with_0x82() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        h.receive(ConnAck::new(false, ConnectReasonCode::Success));
        let error = assert_closed_for(&mut h, DisconnectReasonCode::ProtocolError);
        assert_eq!(
            error,
            PeerError::Protocol(ProtocolError::Unexpected(PacketType::ConnAck))
        );
    }
}

/// The server's answer to a PUBLISH with this identifier.
type Answer = fn(PacketId) -> Packet;

/// An acknowledgement that does not fit the flow its Packet Identifier is in: a PUBACK for a
/// QoS 2 message, a PUBREC for a QoS 1 message, a PUBCOMP before the PUBREL, a SUBACK with
/// another number of reason codes than the SUBSCRIBE had filters.
/// conformance: v5:MQTT-4.13.2-1, v311:MQTT-4.8.0-1
#[test]
fn acknowledgement_for_the_wrong_flow_closes_with_0x82() {
    for &version in VERSIONS {
        // (what the client sends, what the server answers)
        let cases: [(QoS, Answer); 3] = [
            (QoS::ExactlyOnce, |id| PubAck::new(id).into()),
            (QoS::AtLeastOnce, |id| PubRec::new(id).into()),
            (QoS::ExactlyOnce, |id| PubComp::new(id).into()),
        ];
        for (qos, answer) in cases {
            let mut h = Harness::connected(ClientConfig::default(), version);
            let id = h
                .client
                .publish(h.now, message("t", b"x", qos))
                .unwrap()
                .unwrap();
            h.sent();
            h.receive(answer(id));
            let events = h.events();
            let Some(Event::Disconnected(disconnected)) = events.first() else {
                panic!("MQTT {version}: {events:?}");
            };
            assert!(
                matches!(
                    disconnected.reason,
                    DisconnectReason::ProtocolError(PeerError::Protocol(
                        ProtocolError::AckMismatch(_)
                    ))
                ),
                "MQTT {version}: {disconnected:?}"
            );
            let sent = h.sent_bytes();
            if version.is_v5() {
                assert_eq!(sent, [0xE0, 0x01, 0x82]);
            } else {
                assert_eq!(sent, b"");
            }
        }

        let mut h = Harness::connected(ClientConfig::default(), version);
        let id = h
            .client
            .subscribe(
                h.now,
                [
                    subscription("a", QoS::AtMostOnce),
                    subscription("b", QoS::AtMostOnce),
                ],
                SubscribeProperties::default(),
            )
            .unwrap();
        h.sent();
        h.receive(SubAck::new(id, [SubAckReasonCode::GrantedQoS0]));
        let events = h.events();
        assert!(
            matches!(&events[0], Event::Disconnected(d) if d.reason
            == DisconnectReason::ProtocolError(PeerError::Protocol(
                ProtocolError::AckMismatch(PacketType::SubAck)
            ))),
            "MQTT {version}: {events:?}"
        );
    }
}

/// 5.0 Topic Aliases from the server: alias 0, an alias above the Topic Alias Maximum the
/// client sent, and an alias never set on this connection are each Topic Alias invalid
/// (0x94). An alias set on an earlier connection is unknown on this one.
/// conformance: v5:MQTT-4.13.2-1, v5:MQTT-3.3.2-7
#[test]
fn invalid_topic_alias_closes_with_0x94() {
    let config = ClientConfig {
        topic_alias_maximum: 16,
        ..ClientConfig::default()
    };
    // Alias 0 cannot be built as a packet; the bytes are written out.
    let alias_zero = [0x30, 0x08, 0x00, 0x01, b'a', 0x03, 0x23, 0x00, 0x00, b'x'];
    let mut h = Harness::connected(config.clone(), V5);
    h.receive_bytes(&alias_zero);
    assert_closed_for(&mut h, DisconnectReasonCode::TopicAliasInvalid);

    for publish in [aliased(Some("a"), 17), aliased(None, 3)] {
        let mut h = Harness::connected(config.clone(), V5);
        h.receive(publish);
        let error = assert_closed_for(&mut h, DisconnectReasonCode::TopicAliasInvalid);
        assert!(matches!(
            error,
            PeerError::Protocol(ProtocolError::TopicAliasInvalid(_))
        ));
    }

    let none = ClientConfig {
        topic_alias_maximum: 0,
        ..ClientConfig::default()
    };
    let mut h = Harness::connected(none, V5);
    h.receive(aliased(Some("a"), 1));
    assert_closed_for(&mut h, DisconnectReasonCode::TopicAliasInvalid);

    // Set on one connection, unknown on the next.
    let mut h = Harness::connected(config, V5);
    h.receive(aliased(Some("a/b"), 2));
    assert!(matches!(&h.events()[..], [Event::Message(_)]));
    h.drop_transport();
    h.events();
    h.connect_with(
        ConnectOptions::new(V5, "c").unwrap(),
        ConnAck::new(false, ConnectReasonCode::Success),
    );
    h.receive(aliased(None, 2));
    assert_closed_for(&mut h, DisconnectReasonCode::TopicAliasInvalid);
}

/// Every Topic Alias from 1 to the Topic Alias Maximum the client sent is accepted: it names
/// the topic it was set with, until set again.
/// conformance: v5:MQTT-3.3.2-10
#[test]
fn topic_aliases_up_to_our_maximum_are_accepted() {
    let config = ClientConfig {
        topic_alias_maximum: 4,
        ..ClientConfig::default()
    };
    let mut h = Harness::connected(config, V5);
    for alias in 1..=4u16 {
        h.receive(aliased(Some(&format!("t/{alias}")), alias));
    }
    h.receive(aliased(Some("t/new"), 4));
    for alias in 1..=4u16 {
        h.receive(aliased(None, alias));
    }
    let topics: Vec<_> = h
        .events()
        .into_iter()
        .map(|event| match event {
            Event::Message(publish) => {
                assert_eq!(publish.properties.topic_alias, None, "alias left in");
                publish.topic.unwrap().as_str().to_owned()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        topics,
        [
            "t/1", "t/2", "t/3", "t/4", "t/new", "t/1", "t/2", "t/3", "t/new"
        ]
    );
    assert!(h.client.is_connected());
    assert_eq!(h.sent(), []);
}

/// More unacknowledged QoS 1 and 2 messages than the client's Receive Maximum: in 5.0
/// DISCONNECT Receive Maximum exceeded (0x93). In 3.x the same bound is the client's table of
/// QoS 2 identifiers; a server that overflows it gets the connection closed, as for any
/// error handling an inbound packet.
/// conformance: v5:MQTT-4.13.2-1, v311:MQTT-4.8.0-2
#[test]
fn more_unacknowledged_messages_than_receive_maximum_closes_with_0x93() {
    for &version in VERSIONS {
        for manual_acks in [false, true] {
            let config = ClientConfig {
                receive_maximum: NonZeroU16::new(2).unwrap(),
                manual_acks,
                ..ClientConfig::default()
            };
            let qos = if manual_acks {
                QoS::AtLeastOnce
            } else {
                QoS::ExactlyOnce
            };
            let mut h = Harness::connected(config, version);
            for id in 1..=2 {
                h.receive(incoming("t", b"x", qos, id));
                assert!(matches!(&h.events()[..], [Event::Message(_)]));
                h.sent();
            }
            h.receive(incoming("t", b"x", qos, 3));
            let error = assert_closed_for(&mut h, DisconnectReasonCode::ReceiveMaximumExceeded);
            assert_eq!(
                error,
                PeerError::Protocol(ProtocolError::ReceiveMaximumExceeded),
                "MQTT {version}"
            );
        }
    }
}

/// An acknowledged message frees its place: a server that stays within the Receive Maximum
/// is never disconnected, however many messages it sends in all.
#[test]
fn messages_within_receive_maximum_are_accepted() {
    for &version in VERSIONS {
        let config = ClientConfig {
            receive_maximum: NonZeroU16::new(2).unwrap(),
            ..ClientConfig::default()
        };
        let mut h = Harness::connected(config, version);
        for id in 1..=20u16 {
            h.receive(incoming("t", b"x", QoS::ExactlyOnce, id));
            h.receive(PubRel::new(pid(id)));
        }
        assert_eq!(h.events().len(), 20);
        assert!(h.client.is_connected());
    }
}

/// A packet larger than the client's Maximum Packet Size: Packet too large (0x95) in 5.0, a
/// close in 3.x.
/// conformance: v5:MQTT-4.13.2-1, v311:MQTT-4.8.0-1
#[test]
fn packet_above_our_maximum_closes_with_0x95() {
    for &version in VERSIONS {
        let config = ClientConfig {
            max_packet_size: 64,
            ..ClientConfig::default()
        };
        let mut h = Harness::connected(config, version);
        h.receive(incoming("t", &[0; 100], QoS::AtMostOnce, 1));
        let error = assert_closed_for(&mut h, DisconnectReasonCode::PacketTooLarge);
        assert!(matches!(
            error,
            PeerError::Decode(DecodeError::PacketTooLarge { max: 64, .. })
        ));
    }
}

/// Oddities the spec treats as benign get no disconnect: a PUBREL for an unknown identifier is
/// completed (5.0: PUBCOMP Packet Identifier not found, 0x92); a PUBREC for an unknown
/// identifier is released in 5.0 (PUBREL 0x92); a PUBACK, PUBCOMP, SUBACK or UNSUBACK for an
/// unknown identifier, a repeated acknowledgement and an unsolicited PINGRESP are ignored.
#[test]
fn benign_oddities_do_not_disconnect() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        h.receive(PubRel::new(pid(9)));
        let mut complete = PubComp::new(pid(9));
        if version.is_v5() {
            complete.reason_code = PubCompReasonCode::PacketIdentifierNotFound;
        }
        assert_eq!(h.sent(), [Packet::PubComp(complete)], "MQTT {version}");

        h.receive(PubRec::new(pid(10)));
        if version.is_v5() {
            let mut release = PubRel::new(pid(10));
            release.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
            assert_eq!(h.sent(), [Packet::PubRel(release)]);
        } else {
            assert_eq!(h.sent(), []);
        }

        let codes = if version.is_v5() {
            vec![mqtt_sansio::UnsubAckReasonCode::Success]
        } else {
            vec![]
        };
        let ignored: Vec<Packet> = vec![
            PubAck::new(pid(11)).into(),
            PubComp::new(pid(12)).into(),
            SubAck::new(pid(13), [SubAckReasonCode::GrantedQoS0]).into(),
            UnsubAck::new(pid(14), codes).into(),
            PingResp.into(),
        ];
        for packet in ignored {
            h.receive(packet.clone());
            assert_eq!(h.sent(), [], "MQTT {version}: {packet:?}");
            assert_eq!(h.events(), [], "MQTT {version}: {packet:?}");
        }

        // A repeated PUBACK after the flow completed.
        let id = h
            .client
            .publish(h.now, message("t", b"x", QoS::AtLeastOnce))
            .unwrap()
            .unwrap();
        h.sent();
        h.receive(PubAck::new(id));
        assert_eq!(h.events().len(), 1);
        h.receive(PubAck::new(id));
        assert_eq!(h.events(), []);
        assert_eq!(h.sent(), []);
        assert!(h.client.is_connected(), "MQTT {version}");
    }
}

/// A small deterministic generator (xorshift), so that the garbage is the same on every run.
struct Garbage(u64);

impl Garbage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, max_len: u64) -> Vec<u8> {
        let len = self.next() % (max_len + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Whatever the server sends, the client does not panic and stays consistent: it is either
/// still connected with nothing reported, or it reported exactly one `Event::Disconnected`;
/// what it wrote is valid MQTT, and after a protocol error it ends (in 5.0) with a DISCONNECT
/// carrying the error's reason code and (in 3.x) with no DISCONNECT at all.
#[test]
fn garbage_never_panics_and_ends_cleanly() {
    let mut garbage = Garbage(0x9E37_79B9_7F4A_7C15);
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for first in 0..=255u8 {
        for tail in [&[][..], &[0x00], &[0x02, 0x00, 0x01], &[0x7F, 0x01, 0x02]] {
            let mut input = vec![first];
            input.extend_from_slice(tail);
            inputs.push(input);
        }
    }
    for _ in 0..300 {
        inputs.push(garbage.bytes(48));
    }
    for &version in VERSIONS {
        for (index, input) in inputs.iter().enumerate() {
            let connected = index % 5 != 0;
            let mut h = Harness::new(ClientConfig {
                max_packet_size: 1024,
                ..ClientConfig::default()
            });
            h.connect(ConnectOptions::new(version, "c").unwrap());
            if connected {
                h.receive(ConnAck::new(false, ConnectReasonCode::Success));
                h.events();
            }
            // Fed in two pieces, to cross packet boundaries at random.
            let cut = (garbage.next() as usize) % (input.len() + 1);
            h.receive_bytes(&input[..cut]);
            h.client
                .handle_bytes(h.now, Bytes::copy_from_slice(&input[cut..]));
            h.advance(1);
            let sent = h.sent();
            let events = h.events();
            let ends: Vec<_> = events
                .iter()
                .filter_map(|event| match event {
                    Event::Disconnected(d) => Some(d),
                    _ => None,
                })
                .collect();
            match ends[..] {
                [] => assert_ne!(
                    h.client.state(),
                    State::Disconnected,
                    "MQTT {version}, {input:02x?}"
                ),
                [ended] => {
                    assert_eq!(h.client.state(), State::Disconnected);
                    if let DisconnectReason::ProtocolError(error) = ended.reason {
                        let last = sent.last();
                        if version.is_v5() {
                            assert_eq!(
                                last,
                                Some(&Packet::Disconnect(Disconnect::new(
                                    error.disconnect_reason_code()
                                ))),
                                "{input:02x?}"
                            );
                        } else {
                            assert!(
                                !sent.iter().any(|p| matches!(p, Packet::Disconnect(_))),
                                "{input:02x?}"
                            );
                        }
                    }
                }
                _ => panic!("MQTT {version}, {input:02x?}: {events:?}"),
            }
            // Whatever state it is in, more input is handled without a panic.
            h.receive_bytes(input);
            h.advance(60_000);
            h.sent();
            h.events();
        }
    }
}
