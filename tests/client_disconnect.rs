//! Ending a connection: the application's DISCONNECT, the server's DISCONNECT, a broken
//! transport, what of the session survives each, and a client that ignores everything once
//! the connection has ended.
#![cfg(feature = "v5")]

mod common;

use std::num::NonZeroU32;

use bytes::Bytes;
use common::client::{
    Harness, connack_with, incoming, keep_session, message, only_disconnected, subscription, text,
};
use mqtt_sansio::{
    ClientConfig, ConnAck, ConnAckProperties, ConnectOptions, ConnectReasonCode, Disconnect,
    DisconnectReason, DisconnectReasonCode, EncodeError, Event, Packet, PacketId, ProtocolVersion,
    PubAck, PubComp, PubCompReasonCode, PubRec, PubRel, PublishError, QoS, State, SubAck,
    SubAckReasonCode, SubscribeProperties, TopicFilter, UnsubAck, UnsubAckReasonCode,
    UnsubscribeProperties, UsageError, UserProperty,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// A plain DISCONNECT with this reason code.
fn disconnect(code: DisconnectReasonCode) -> Disconnect {
    Disconnect::new(code)
}

/// A DISCONNECT with a Reason String and User Properties.
fn disconnect_with(
    code: DisconnectReasonCode,
    reason_string: Option<&str>,
    user_properties: &[(&str, &str)],
) -> Disconnect {
    let mut disconnect = Disconnect::new(code);
    disconnect.properties.reason_string = reason_string.map(text);
    for (name, value) in user_properties {
        disconnect
            .properties
            .user_properties
            .push(UserProperty::new(text(name), text(value)));
    }
    disconnect
}

/// The end of a connection that had QoS 0 messages queued: one `Event::Disconnected`, then
/// one `Event::Dropped` per message, whose payloads are returned.
#[track_caller]
fn disconnected_and_dropped(events: Vec<Event>) -> (mqtt_sansio::Disconnected, Vec<Bytes>) {
    let mut events = events.into_iter();
    let Some(Event::Disconnected(disconnected)) = events.next() else {
        panic!("no Event::Disconnected first");
    };
    let dropped = events
        .map(|event| match event {
            Event::Dropped(publish) => publish.payload,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    (disconnected, dropped)
}

/// The client's `disconnect` writes everything queued before it, then the DISCONNECT, then
/// nothing: later commands and input write nothing more on that connection, no timer runs,
/// and `Event::Disconnected(ByClient)` tells the driver to close the transport.
/// conformance: v311:MQTT-3.14.4-1, v311:MQTT-3.14.4-2, v5:MQTT-3.14.4-1, v5:MQTT-3.14.4-2
#[test]
fn disconnect_writes_the_queue_then_disconnect_then_nothing() {
    for &version in VERSIONS {
        let config = ClientConfig {
            queue_while_offline: true,
            ..ClientConfig::default()
        };
        let mut h = Harness::new(config);
        // A session that outlives the connection, so that ending it reports nothing lost.
        h.connect_with(
            keep_session(version).keep_alive(5),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        h.client
            .publish(h.now, message("t", b"0", QoS::AtMostOnce))
            .unwrap();
        let qos1 = h
            .client
            .publish(h.now, message("t", b"1", QoS::AtLeastOnce))
            .unwrap()
            .unwrap();
        let sub = h
            .client
            .subscribe(
                h.now,
                [subscription("s", QoS::AtMostOnce)],
                SubscribeProperties::default(),
            )
            .unwrap();
        h.receive(incoming("in", b"x", QoS::AtLeastOnce, 3));
        assert!(matches!(&h.events()[..], [Event::Message(_)]));

        h.client
            .disconnect(h.now, disconnect(DisconnectReasonCode::NormalDisconnection))
            .unwrap();
        let disconnected = only_disconnected(h.events());
        assert_eq!(
            disconnected.reason,
            DisconnectReason::ByClient(DisconnectReasonCode::NormalDisconnection)
        );
        assert_eq!(h.client.state(), State::Disconnected);
        assert_eq!(h.client.poll_timeout(), None);

        // Accepted by the offline queue, but not for this connection.
        h.client
            .publish(h.now, message("t", b"late", QoS::AtMostOnce))
            .unwrap();
        let bytes = h.sent_bytes();
        assert_eq!(
            &bytes[bytes.len() - 2..],
            [0xE0, 0x00],
            "MQTT {version}: DISCONNECT is last"
        );
        let mut server = mqtt_sansio::Decoder::with_version(version, Default::default());
        server.push(&bytes);
        let mut kinds = Vec::new();
        while let Some(packet) = server.decode().unwrap() {
            kinds.push(match packet {
                Packet::Publish(p) => match p.packet_id() {
                    None => "qos0",
                    Some(id) if id == qos1 => "qos1",
                    Some(_) => "other publish",
                },
                Packet::Subscribe(s) if s.packet_id == sub => "subscribe",
                Packet::PubAck(a) if a.packet_id.get() == 3 => "puback",
                Packet::Disconnect(_) => "disconnect",
                other => panic!("MQTT {version}: {other:?}"),
            });
        }
        kinds[..4].sort_unstable();
        assert_eq!(
            kinds,
            ["puback", "qos0", "qos1", "subscribe", "disconnect"],
            "MQTT {version}"
        );

        h.advance(3_600_000);
        h.receive(incoming("in", b"y", QoS::AtLeastOnce, 4));
        assert_eq!(
            h.sent_bytes(),
            b"",
            "MQTT {version}: written after DISCONNECT"
        );
        assert_eq!(h.events(), []);
    }
}

/// A packet cut short by a small buffer when `disconnect` is called is finished first; the
/// DISCONNECT follows it, and nothing follows the DISCONNECT.
/// conformance: v5:MQTT-3.14.4-1, v311:MQTT-3.14.4-2
#[test]
fn disconnect_after_a_packet_written_in_part_finishes_it_first() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        h.client
            .publish(h.now, message("t", &[9; 100], QoS::AtMostOnce))
            .unwrap();
        let mut buf = [0u8; 10];
        let first = h.client.poll_transmit(&mut buf).unwrap();
        let mut bytes = buf[..first.len].to_vec();
        h.client
            .disconnect(h.now, disconnect(DisconnectReasonCode::NormalDisconnection))
            .unwrap();
        bytes.extend(h.sent_bytes());
        let mut server = mqtt_sansio::Decoder::with_version(version, Default::default());
        server.push(&bytes);
        assert!(matches!(server.decode(), Ok(Some(Packet::Publish(_)))));
        assert!(matches!(server.decode(), Ok(Some(Packet::Disconnect(_)))));
        assert_eq!(server.decode(), Ok(None));
        assert_eq!(server.buffered(), 0, "MQTT {version}");
    }
}

/// 3.1 and 3.1.1 DISCONNECT has no reason code and no properties: asking for either is the
/// caller's error, and the connection stays as it was.
#[test]
fn v3_disconnect_is_plain() {
    for version in [ProtocolVersion::V3_1, ProtocolVersion::V3_1_1] {
        let mut h = Harness::connected(ClientConfig::default(), version);
        for attempt in [
            disconnect(DisconnectReasonCode::DisconnectWithWillMessage),
            disconnect_with(DisconnectReasonCode::NormalDisconnection, Some("bye"), &[]),
        ] {
            let result = h.client.disconnect(h.now, attempt);
            assert!(
                matches!(
                    result,
                    Err(UsageError::Encode(EncodeError::NotInVersion { .. }))
                ),
                "MQTT {version}: {result:?}"
            );
            assert!(h.client.is_connected());
            assert_eq!(h.sent_bytes(), b"");
            assert_eq!(h.events(), []);
        }
    }
}

/// A 5.0 DISCONNECT goes out with the reason code and properties given, and the event names
/// the reason code.
#[test]
fn v5_disconnect_carries_its_reason_code_and_properties() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(
        keep_session(V5),
        ConnAck::new(false, ConnectReasonCode::Success),
    );
    let mut farewell = disconnect_with(
        DisconnectReasonCode::DisconnectWithWillMessage,
        Some("battery low"),
        &[("k", "v")],
    );
    farewell.properties.session_expiry_interval = Some(30);
    h.client.disconnect(h.now, farewell.clone()).unwrap();
    assert_eq!(h.sent(), [Packet::Disconnect(farewell)]);
    let disconnected = only_disconnected(h.events());
    assert_eq!(
        disconnected.reason,
        DisconnectReason::ByClient(DisconnectReasonCode::DisconnectWithWillMessage)
    );
}

/// The Reason String and User Properties of a 5.0 DISCONNECT are left out when they would make
/// it larger than the server's Maximum Packet Size; what fits is kept, and the DISCONNECT never
/// exceeds the limit.
/// conformance: v5:MQTT-3.14.2-3, v5:MQTT-3.14.2-4, v5:MQTT-3.2.2-15
#[test]
fn v5_disconnect_properties_are_trimmed_to_the_server_maximum() {
    const MAXIMUM: u32 = 32;
    let long = "r".repeat(40);
    let big_value = "v".repeat(30);
    // (what the application asks for, what the server must get)
    let cases = [
        (
            disconnect_with(
                DisconnectReasonCode::DisconnectWithWillMessage,
                Some(&long),
                &[("k", "v")],
            ),
            disconnect_with(
                DisconnectReasonCode::DisconnectWithWillMessage,
                None,
                &[("k", "v")],
            ),
        ),
        (
            disconnect_with(
                DisconnectReasonCode::DisconnectWithWillMessage,
                None,
                &[("a", &big_value), ("b", &big_value)],
            ),
            disconnect(DisconnectReasonCode::DisconnectWithWillMessage),
        ),
        (
            disconnect_with(
                DisconnectReasonCode::UnspecifiedError,
                Some(&long),
                &[("a", &big_value)],
            ),
            disconnect(DisconnectReasonCode::UnspecifiedError),
        ),
        (
            disconnect_with(
                DisconnectReasonCode::DisconnectWithWillMessage,
                Some("short"),
                &[("k", "v")],
            ),
            disconnect_with(
                DisconnectReasonCode::DisconnectWithWillMessage,
                Some("short"),
                &[("k", "v")],
            ),
        ),
    ];
    for (index, (asked, expected)) in cases.into_iter().enumerate() {
        let mut h = Harness::new(ClientConfig::default());
        h.connect_with(
            ConnectOptions::new(V5, "c").unwrap(),
            connack_with(ConnAckProperties {
                maximum_packet_size: NonZeroU32::new(MAXIMUM),
                ..ConnAckProperties::default()
            }),
        );
        h.client.disconnect(h.now, asked).unwrap();
        let bytes = h.sent_bytes();
        assert!(
            bytes.len() <= MAXIMUM as usize,
            "case {index}: {} bytes",
            bytes.len()
        );
        let mut server = mqtt_sansio::Decoder::with_version(V5, Default::default());
        server.push(&bytes);
        assert_eq!(
            server.decode(),
            Ok(Some(Packet::Disconnect(expected))),
            "case {index}"
        );
        only_disconnected(h.events());
    }
}

/// A non-zero Session Expiry Interval in the DISCONNECT after a CONNECT that had none (0) is
/// refused: the connection stays open and nothing is written. 0 is allowed.
/// conformance: v5:§3.14.2.2.2
#[test]
fn session_expiry_in_disconnect_needs_one_in_connect() {
    let mut h = Harness::connected(ClientConfig::default(), V5);
    let mut farewell = disconnect(DisconnectReasonCode::NormalDisconnection);
    farewell.properties.session_expiry_interval = Some(30);
    assert!(matches!(
        h.client.disconnect(h.now, farewell),
        Err(UsageError::NotSettable(_))
    ));
    assert!(h.client.is_connected());
    assert_eq!(h.sent_bytes(), b"");
    assert_eq!(h.events(), []);
    let mut farewell = disconnect(DisconnectReasonCode::NormalDisconnection);
    farewell.properties.session_expiry_interval = Some(0);
    h.client.disconnect(h.now, farewell.clone()).unwrap();
    assert_eq!(h.sent(), [Packet::Disconnect(farewell)]);
}

/// The rule looks at the CONNECT, not at the interval the server chose: after a CONNECT with
/// Session Expiry 0, a DISCONNECT may not set one even if the CONNACK named its own.
/// conformance: v5:§3.14.2.2.2
#[test]
fn session_expiry_in_disconnect_follows_the_connect_not_the_connack() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(
        ConnectOptions::new(V5, "c").unwrap(),
        connack_with(ConnAckProperties {
            session_expiry_interval: Some(60),
            ..ConnAckProperties::default()
        }),
    );
    let mut farewell = disconnect(DisconnectReasonCode::NormalDisconnection);
    farewell.properties.session_expiry_interval = Some(30);
    assert!(matches!(
        h.client.disconnect(h.now, farewell),
        Err(UsageError::NotSettable(_))
    ));
    assert_eq!(h.sent_bytes(), b"");
}

/// A DISCONNECT with Session Expiry 0 ends a session that would otherwise outlive the
/// connection: its flows are reported lost. Without it the session is kept.
/// conformance: v5:MQTT-3.1.2-23
#[test]
fn disconnect_with_session_expiry_0_ends_the_session() {
    for expiry in [Some(0), None] {
        let mut h = Harness::new(ClientConfig::default());
        h.connect_with(
            keep_session(V5),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        let id = h
            .client
            .publish(h.now, message("t", b"x", QoS::AtLeastOnce))
            .unwrap()
            .unwrap();
        h.sent();
        let mut farewell = disconnect(DisconnectReasonCode::NormalDisconnection);
        farewell.properties.session_expiry_interval = expiry;
        h.client.disconnect(h.now, farewell).unwrap();
        let events = h.events();
        let lost = Event::Published {
            packet_id: id,
            result: Err(PublishError::SessionLost),
        };
        assert_eq!(events.contains(&lost), expiry == Some(0), "{events:?}");
        assert_eq!(h.client.session().len(), usize::from(expiry.is_none()));
    }
}

/// A 5.0 DISCONNECT from the server ends the connection with one `Event::Disconnected` that
/// carries its reason code, Reason String and Server Reference; the client writes nothing, runs
/// no timer and ignores what follows.
/// conformance: v5:MQTT-4.13.2-1
#[test]
fn server_disconnect_ends_the_connection_with_its_reason() {
    for code in [
        DisconnectReasonCode::NormalDisconnection,
        DisconnectReasonCode::ServerShuttingDown,
        DisconnectReasonCode::SessionTakenOver,
        DisconnectReasonCode::UseAnotherServer,
        DisconnectReasonCode::KeepAliveTimeout,
    ] {
        let mut h = Harness::connected(ClientConfig::default(), V5);
        h.client
            .publish(h.now, message("t", b"x", QoS::AtMostOnce))
            .unwrap();
        let mut from_server = disconnect_with(code, Some("maintenance"), &[("k", "v")]);
        from_server.properties.server_reference = Some(text("other.example:1883"));
        h.receive(from_server);
        let (disconnected, dropped) = disconnected_and_dropped(h.events());
        assert_eq!(
            dropped,
            [Bytes::from_static(b"x")],
            "the unsent message is reported"
        );
        assert_eq!(disconnected.reason, DisconnectReason::ByServer(code));
        assert_eq!(
            disconnected.reason_string.as_ref().map(|s| s.as_str()),
            Some("maintenance")
        );
        assert_eq!(
            disconnected.server_reference.as_ref().map(|s| s.as_str()),
            Some("other.example:1883")
        );
        assert_eq!(
            h.sent_bytes(),
            b"",
            "{code:?}: written after the server's DISCONNECT"
        );
        assert_eq!(h.client.poll_timeout(), None);
        assert_eq!(h.client.state(), State::Disconnected);
    }
}

/// A broken transport ends the connection with one `Event::Disconnected(TransportClosed)`,
/// whether connecting or connected; nothing is left to write on it, and a second report of the
/// same loss changes nothing.
#[test]
fn transport_loss_ends_the_connection_once() {
    for &version in VERSIONS {
        for connected in [false, true] {
            let mut h = Harness::new(ClientConfig::default());
            h.connect(ConnectOptions::new(version, "c").unwrap());
            if connected {
                h.receive(ConnAck::new(false, ConnectReasonCode::Success));
                h.events();
                h.client
                    .publish(h.now, message("t", b"unsent", QoS::AtMostOnce))
                    .unwrap();
            }
            h.drop_transport();
            let (disconnected, dropped) = disconnected_and_dropped(h.events());
            assert_eq!(dropped.len(), usize::from(connected));
            assert_eq!(disconnected.reason, DisconnectReason::TransportClosed);
            assert_eq!(disconnected.reason_string, None);
            assert_eq!(h.sent_bytes(), b"", "MQTT {version}");
            assert_eq!(h.client.poll_timeout(), None);
            h.drop_transport();
            assert_eq!(h.events(), []);
        }
    }
}

/// A packet half-written when the transport breaks is not continued: there is no transport
/// left to write it to.
#[test]
fn nothing_left_to_write_after_transport_loss_mid_packet() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        h.client
            .publish(h.now, message("t", &[1; 100], QoS::AtMostOnce))
            .unwrap();
        let mut buf = [0u8; 10];
        let _ = h.client.poll_transmit(&mut buf).unwrap();
        h.drop_transport();
        only_disconnected(h.events());
        assert_eq!(h.client.poll_transmit(&mut buf), None, "MQTT {version}");
    }
}

/// A session kept across connections keeps everything in it: the unacknowledged PUBLISH goes
/// again with DUP, the PUBREL goes again, unanswered SUBSCRIBE and UNSUBSCRIBE go again, and
/// an incoming QoS 2 identifier is still known (its repeat is answered, not delivered, and its
/// PUBREL completes normally). It does not matter whether the transport broke or the
/// application disconnected.
/// conformance: v5:MQTT-3.1.2-23, v311:MQTT-3.1.2-4, v5:MQTT-4.4.0-1, v311:MQTT-4.4.0-1
#[test]
fn resumed_session_keeps_flows_and_requests() {
    for &version in VERSIONS {
        for by_client in [false, true] {
            let mut h = Harness::new(ClientConfig::default());
            h.connect_with(
                keep_session(version),
                ConnAck::new(false, ConnectReasonCode::Success),
            );
            let sub = h
                .client
                .subscribe(
                    h.now,
                    [subscription("s/#", QoS::AtLeastOnce)],
                    SubscribeProperties::default(),
                )
                .unwrap();
            let unsub = h
                .client
                .unsubscribe(
                    h.now,
                    [TopicFilter::new("old").unwrap()],
                    UnsubscribeProperties::default(),
                )
                .unwrap();
            let qos1 = h
                .client
                .publish(h.now, message("t", b"1", QoS::AtLeastOnce))
                .unwrap()
                .unwrap();
            let qos2 = h
                .client
                .publish(h.now, message("t", b"2", QoS::ExactlyOnce))
                .unwrap()
                .unwrap();
            assert_eq!(h.sent().len(), 4);
            h.receive(PubRec::new(qos2));
            assert_eq!(h.sent(), [Packet::PubRel(PubRel::new(qos2))]);
            let inbound = incoming("in", b"q2", QoS::ExactlyOnce, 5);
            h.receive(inbound.clone());
            assert_eq!(h.events().len(), 1);
            assert_eq!(h.sent().len(), 1);

            if by_client {
                h.client
                    .disconnect(h.now, disconnect(DisconnectReasonCode::NormalDisconnection))
                    .unwrap();
                h.sent();
            } else {
                h.drop_transport();
            }
            only_disconnected(h.events());

            let present = version != ProtocolVersion::V3_1;
            h.connect_with(
                keep_session(version),
                ConnAck::new(present, ConnectReasonCode::Success),
            );
            let mut resent: Vec<String> = h
                .sent()
                .into_iter()
                .map(|packet| match packet {
                    Packet::Publish(p) if p.packet_id() == Some(qos1) && p.is_dup() => {
                        "publish".into()
                    }
                    Packet::PubRel(r) if r.packet_id == qos2 => "pubrel".into(),
                    Packet::Subscribe(s) if s.packet_id == sub => "subscribe".into(),
                    Packet::Unsubscribe(u) if u.packet_id == unsub => "unsubscribe".into(),
                    other => format!("{other:?}"),
                })
                .collect();
            resent.sort();
            assert_eq!(
                resent,
                ["publish", "pubrel", "subscribe", "unsubscribe"],
                "MQTT {version}, by client {by_client}"
            );

            h.receive(SubAck::new(sub, [SubAckReasonCode::GrantedQoS1]));
            let codes = if version.is_v5() {
                vec![UnsubAckReasonCode::Success]
            } else {
                vec![]
            };
            h.receive(UnsubAck::new(unsub, codes));
            h.receive(PubAck::new(qos1));
            h.receive(PubComp::new(qos2));
            let events = h.events();
            assert_eq!(events.len(), 4, "{events:?}");
            assert!(matches!(&events[0], Event::Subscribed(s) if s.packet_id == sub));
            assert!(matches!(&events[1], Event::Unsubscribed(u) if u.packet_id == unsub));
            assert_eq!(
                events[2..],
                [
                    Event::Published {
                        packet_id: qos1,
                        result: Ok(())
                    },
                    Event::Published {
                        packet_id: qos2,
                        result: Ok(())
                    }
                ]
            );

            let mut repeat = inbound;
            repeat.delivery = repeat.delivery.with_dup(true);
            h.receive(repeat);
            assert_eq!(h.events(), [], "MQTT {version}: delivered twice");
            let five = PacketId::new(5).unwrap();
            assert_eq!(h.sent(), [Packet::PubRec(PubRec::new(five))]);
            h.receive(PubRel::new(five));
            let mut complete = PubComp::new(five);
            complete.reason_code = PubCompReasonCode::Success;
            assert_eq!(h.sent(), [Packet::PubComp(complete)]);
        }
    }
}

/// A session that ends with its connection loses no SUBSCRIBE or UNSUBSCRIBE that got no
/// answer: nothing is reported lost, and both go out again on the next connection, where they
/// are answered.
#[test]
fn unanswered_requests_outlive_a_session_that_ends() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        let sub = h
            .client
            .subscribe(
                h.now,
                [subscription("s", QoS::AtMostOnce)],
                SubscribeProperties::default(),
            )
            .unwrap();
        let unsub = h
            .client
            .unsubscribe(
                h.now,
                [TopicFilter::new("s").unwrap()],
                UnsubscribeProperties::default(),
            )
            .unwrap();
        let first = h.sent();
        assert_eq!(first.len(), 2);
        h.drop_transport();
        let events = h.events();
        assert!(
            matches!(&events[..], [Event::Disconnected(_)]),
            "MQTT {version}: {events:?}"
        );
        h.connect_with(
            ConnectOptions::new(version, "client").unwrap(),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        assert_eq!(h.sent(), first, "MQTT {version}");
        assert_eq!(h.client.outgoing_len(), 2);
        let _ = (sub, unsub);
    }
}

/// A way for a connection to end: its name, and what ends it.
type Ending = (&'static str, fn(&mut Harness));

/// However the connection ended, the client then ignores every input: bytes (a CONNACK, a
/// PUBLISH, garbage), timeouts and transport reports produce no event, nothing to write and no
/// deadline; and commands that need a connection are refused.
#[test]
fn after_disconnected_every_input_is_a_no_op() {
    let endings: [Ending; 6] = [
        ("by client", |h| {
            h.client
                .disconnect(h.now, disconnect(DisconnectReasonCode::NormalDisconnection))
                .unwrap();
        }),
        ("transport closed", |h| h.drop_transport()),
        ("protocol error", |h| h.receive_bytes(&[0xC0, 0x00])),
        ("keep alive timeout", |h| {
            h.advance(60_000);
            h.advance(10_000);
        }),
        ("server disconnect or close", |h| {
            if h.version.is_v5() {
                h.receive(disconnect(DisconnectReasonCode::ServerBusy));
            } else {
                h.drop_transport();
            }
        }),
        ("refused", |_| {}),
    ];
    for &version in VERSIONS {
        for (name, end) in endings {
            let mut h = Harness::new(ClientConfig::default());
            h.connect(ConnectOptions::new(version, "c").unwrap());
            if name == "refused" {
                h.receive_bytes(&[0x20, 0x02, 0x00, if version.is_v5() { 0x87 } else { 5 }]);
            } else {
                h.receive(ConnAck::new(false, ConnectReasonCode::Success));
                h.events();
                end(&mut h);
            }
            only_disconnected(h.events());
            h.sent_bytes();

            let mut connack = Vec::new();
            Packet::<Bytes>::from(ConnAck::new(false, ConnectReasonCode::Success))
                .encode(version, &mut connack)
                .unwrap();
            let mut publish = Vec::new();
            Packet::from(incoming("t", b"x", QoS::AtLeastOnce, 1))
                .encode(version, &mut publish)
                .unwrap();
            h.receive_bytes(&connack);
            h.receive_bytes(&publish);
            h.client
                .handle_bytes(h.now, Bytes::from_static(b"\xff\xff\xff\xff\xff"));
            h.receive_bytes(&[0x00, 0x00, 0xF0]);
            h.advance(1_000_000);
            h.drop_transport();
            assert_eq!(h.events(), [], "MQTT {version}, {name}");
            assert_eq!(h.sent_bytes(), b"", "MQTT {version}, {name}");
            assert_eq!(h.client.poll_timeout(), None, "MQTT {version}, {name}");
            assert_eq!(h.client.state(), State::Disconnected);

            assert_eq!(
                h.client
                    .disconnect(h.now, disconnect(DisconnectReasonCode::NormalDisconnection)),
                Err(UsageError::NotConnected)
            );
            assert_eq!(
                h.client.publish(h.now, message("t", b"x", QoS::AtMostOnce)),
                Err(UsageError::NotConnected)
            );
            assert_eq!(
                h.client.subscribe(
                    h.now,
                    [subscription("s", QoS::AtMostOnce)],
                    SubscribeProperties::default()
                ),
                Err(UsageError::NotConnected)
            );
            assert_eq!(
                h.client.reauthenticate(h.now, None),
                Err(UsageError::NotConnected)
            );
            assert_eq!(h.sent_bytes(), b"");
        }
    }
}
