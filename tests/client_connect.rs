//! Opening a connection: the CONNECT the client builds from its options and configuration,
//! what it does with the CONNACK (accepted, refused, late), what it may send before it, and
//! what becomes of the session state it holds.
#![cfg(feature = "v5")]

mod common;

use std::num::{NonZeroU16, NonZeroU32};

use bytes::Bytes;
use common::client::{
    Harness, connack_with, incoming, keep_session, message, only_disconnected, subscription, text,
};
use mqtt_sansio::{
    BinaryData, ClientConfig, ConnAck, ConnAckProperties, Connect, ConnectOptions,
    ConnectReasonCode, DisconnectReason, DisconnectReasonCode, EncodeError, Event, MaximumQos,
    MessageProperties, Packet, PeerError, ProtocolError, ProtocolVersion, PubAck, PubRec,
    PublishError, QoS, ServerLimits, State, SubscribeProperties, SubscriptionId, TopicName,
    UsageError, Will,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// A plain accepting CONNACK with this Session Present flag.
fn accepted(session_present: bool) -> ConnAck {
    ConnAck::new(session_present, ConnectReasonCode::Success)
}

/// The CONNECT out of a packet the server decoded.
#[track_caller]
fn connect_of(packet: Packet) -> Connect {
    match packet {
        Packet::Connect(connect) => *connect,
        other => panic!("expected CONNECT, got {other:?}"),
    }
}

/// A 5.0 CONNECT carries every option given, and the Receive Maximum, Maximum Packet Size and
/// Topic Alias Maximum of the client's configuration, exactly as the server decodes it.
#[test]
fn v5_connect_carries_every_option_and_the_configured_limits() {
    let config = ClientConfig {
        receive_maximum: NonZeroU16::new(10).unwrap(),
        max_packet_size: 2048,
        topic_alias_maximum: 5,
        ..ClientConfig::default()
    };
    let mut will = Will::new(
        TopicName::new("dev/1/status").unwrap(),
        BinaryData::new(Bytes::from_static(b"offline")).unwrap(),
    );
    will.qos = QoS::AtLeastOnce;
    will.retain = true;
    will.properties.will_delay_interval = Some(30);
    will.properties.message_expiry_interval = Some(600);
    will.properties.message = MessageProperties::builder()
        .content_type("text/plain")
        .user_property("why", "lost")
        .build()
        .unwrap();
    let options = ConnectOptions::new(V5, "dev-1")
        .unwrap()
        .clean_start(false)
        .session_expiry_interval(300)
        .keep_alive(30)
        .will(will.clone())
        .credentials("user", Some(b"secret".as_slice()))
        .unwrap()
        .authentication("SCRAM-SHA-256", Some(b"client-first".as_slice()))
        .unwrap()
        .request_response_information(true)
        .request_problem_information(false)
        .user_property("site", "north")
        .unwrap()
        .user_property("site", "south")
        .unwrap();

    let mut h = Harness::new(config);
    let sent = connect_of(h.connect(options));

    let mut expected = Connect::new(V5, text("dev-1"));
    expected.clean_start = false;
    expected.keep_alive = 30;
    expected.will = Some(will);
    expected.username = Some(text("user"));
    expected.password = Some(BinaryData::new(Bytes::from_static(b"secret")).unwrap());
    let properties = &mut expected.properties;
    properties.session_expiry_interval = Some(300);
    properties.receive_maximum = NonZeroU16::new(10);
    properties.maximum_packet_size = NonZeroU32::new(2048);
    properties.topic_alias_maximum = Some(5);
    properties.request_response_information = Some(true);
    properties.request_problem_information = Some(false);
    properties.authentication_method = Some(text("SCRAM-SHA-256"));
    properties.authentication_data =
        Some(BinaryData::new(Bytes::from_static(b"client-first")).unwrap());
    properties
        .user_properties
        .push(mqtt_sansio::UserProperty::new(text("site"), text("north")));
    properties
        .user_properties
        .push(mqtt_sansio::UserProperty::new(text("site"), text("south")));
    assert_eq!(sent, expected);
}

/// The default options and configuration give this exact 5.0 CONNECT: Clean Start, Keep Alive
/// 60 and the three limits; limits at the protocol's own defaults (Receive Maximum 65,535, no
/// packet size limit, no Topic Aliases) and options left alone are not sent at all.
#[test]
fn v5_connect_bytes_with_default_and_with_unlimited_configuration() {
    let mut h = Harness::new(ClientConfig::default());
    h.client
        .connect(h.now, ConnectOptions::new(V5, "c").unwrap())
        .unwrap();
    assert_eq!(
        h.sent_bytes(),
        b"\x10\x19\x00\x04MQTT\x05\x02\x00\x3c\
          \x0b\x21\x00\x20\x27\x00\x10\x00\x00\x22\x00\x10\
          \x00\x01c"
    );

    let unlimited = ClientConfig {
        receive_maximum: NonZeroU16::MAX,
        max_packet_size: mqtt_sansio::MAX_PACKET_SIZE,
        topic_alias_maximum: 0,
        ..ClientConfig::default()
    };
    let mut h = Harness::new(unlimited);
    h.client
        .connect(h.now, ConnectOptions::new(V5, "c").unwrap())
        .unwrap();
    assert_eq!(
        h.sent_bytes(),
        b"\x10\x0e\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x01c"
    );
}

/// A 3.1 and 3.1.1 CONNECT carries the Clean Session flag, Keep Alive, Will and credentials,
/// and none of the 5.0 limits of the configuration.
#[test]
fn v3_connect_carries_will_and_credentials_and_no_properties() {
    for version in [ProtocolVersion::V3_1, ProtocolVersion::V3_1_1] {
        let mut will = Will::new(
            TopicName::new("w/t").unwrap(),
            BinaryData::new(Bytes::from_static(b"bye")).unwrap(),
        );
        will.qos = QoS::ExactlyOnce;
        let options = ConnectOptions::new(version, "dev-1")
            .unwrap()
            .clean_start(false)
            .keep_alive(10)
            .will(will.clone())
            .credentials("u", Some(b"p".as_slice()))
            .unwrap();
        let mut h = Harness::new(ClientConfig::default());
        let sent = connect_of(h.connect(options));

        let mut expected = Connect::new(version, text("dev-1"));
        expected.clean_start = false;
        expected.keep_alive = 10;
        expected.will = Some(will);
        expected.username = Some(text("u"));
        expected.password = Some(BinaryData::new(Bytes::from_static(b"p")).unwrap());
        assert_eq!(sent, expected, "MQTT {version}");
    }
}

/// A 5.0-only option on a 3.x CONNECT is the caller's error: `connect` refuses it, nothing is
/// written and the client stays disconnected.
#[test]
fn v3_connect_with_a_v5_option_is_refused() {
    for version in [ProtocolVersion::V3_1, ProtocolVersion::V3_1_1] {
        let attempts = [
            ConnectOptions::new(version, "c")
                .unwrap()
                .session_expiry_interval(5),
            ConnectOptions::new(version, "c")
                .unwrap()
                .user_property("k", "v")
                .unwrap(),
            ConnectOptions::new(version, "c")
                .unwrap()
                .authentication("m", None)
                .unwrap(),
        ];
        for options in attempts {
            let mut h = Harness::new(ClientConfig::default());
            let result = h.client.connect(h.now, options);
            assert!(
                matches!(
                    result,
                    Err(UsageError::Encode(EncodeError::NotInVersion { .. }))
                ),
                "MQTT {version}: {result:?}"
            );
            assert_eq!(h.client.state(), State::Disconnected);
            assert_eq!(h.sent_bytes(), b"");
        }
    }
}

/// 3.1.1: an empty Client Identifier needs Clean Session 1; with Clean Session 0 `connect`
/// refuses and writes nothing, with Clean Session 1 the empty identifier goes out. 5.0 lets
/// the server assign one either way; 3.1 never allows an empty one.
/// conformance: v311:MQTT-3.1.3-7
#[test]
fn empty_client_id_needs_clean_session_in_311() {
    let mut h = Harness::new(ClientConfig::default());
    let options = ConnectOptions::new(ProtocolVersion::V3_1_1, "")
        .unwrap()
        .clean_start(false);
    assert_eq!(
        h.client.connect(h.now, options),
        Err(UsageError::EmptyClientIdWithoutCleanStart)
    );
    assert_eq!(h.client.state(), State::Disconnected);
    assert_eq!(h.sent_bytes(), b"");

    let sent = connect_of(h.connect(ConnectOptions::new(ProtocolVersion::V3_1_1, "").unwrap()));
    assert_eq!(sent.client_id.as_str(), "");
    assert!(sent.clean_start);

    for clean in [true, false] {
        let mut h = Harness::new(ClientConfig::default());
        let options = ConnectOptions::new(V5, "").unwrap().clean_start(clean);
        let sent = connect_of(h.connect(options));
        assert_eq!(sent.client_id.as_str(), "");
    }

    let mut h = Harness::new(ClientConfig::default());
    let result = h.client.connect(
        h.now,
        ConnectOptions::new(ProtocolVersion::V3_1, "").unwrap(),
    );
    assert_eq!(
        result,
        Err(UsageError::Encode(EncodeError::InvalidClientId))
    );
    assert_eq!(h.sent_bytes(), b"");
}

/// `connect` while a connection is opening or open is refused, and writes nothing.
#[test]
fn connect_twice_is_refused() {
    for &version in VERSIONS {
        let mut h = Harness::new(ClientConfig::default());
        h.connect(ConnectOptions::new(version, "c").unwrap());
        let again = h
            .client
            .connect(h.now, ConnectOptions::new(version, "c").unwrap());
        assert_eq!(again, Err(UsageError::AlreadyConnected));
        assert_eq!(h.sent(), []);
        h.receive(accepted(false));
        assert!(matches!(&h.events()[..], [Event::Connected(_)]));
        let again = h
            .client
            .connect(h.now, ConnectOptions::new(version, "c").unwrap());
        assert_eq!(again, Err(UsageError::AlreadyConnected));
        assert_eq!(h.sent(), []);
    }
}

/// Everything a 5.0 CONNACK says is reported in `Event::Connected` and becomes the limits the
/// client obeys: Session Present, Assigned Client Identifier, Server Keep Alive (which replaces
/// ours), Receive Maximum, Maximum QoS, Retain Available, Maximum Packet Size, Topic Alias
/// Maximum and the three feature flags.
/// conformance: v5:MQTT-3.1.2-21, v5:MQTT-3.2.2-21
#[test]
fn v5_connack_properties_are_reported_and_adopted() {
    let mut h = Harness::new(ClientConfig::default());
    let properties = ConnAckProperties {
        assigned_client_identifier: Some(text("srv-42")),
        server_keep_alive: Some(20),
        receive_maximum: NonZeroU16::new(5),
        maximum_qos: Some(MaximumQos::AtLeastOnce),
        retain_available: Some(false),
        maximum_packet_size: NonZeroU32::new(500),
        topic_alias_maximum: Some(3),
        wildcard_subscription_available: Some(false),
        subscription_identifiers_available: Some(false),
        shared_subscription_available: Some(false),
        response_information: Some(text("resp/")),
        ..ConnAckProperties::default()
    };
    let connack = connack_with(properties);
    let connected = h.connect_with(
        ConnectOptions::new(V5, "").unwrap().keep_alive(60),
        connack.clone(),
    );
    let mut expected = ServerLimits::DEFAULT;
    expected.receive_maximum = 5;
    expected.maximum_qos = QoS::AtLeastOnce;
    expected.retain_available = false;
    expected.maximum_packet_size = Some(500);
    expected.topic_alias_maximum = 3;
    expected.wildcard_subscriptions = false;
    expected.subscription_identifiers = false;
    expected.shared_subscriptions = false;
    assert_eq!(connected.connack, connack);
    assert!(!connected.session_present);
    assert_eq!(connected.assigned_client_id(), Some("srv-42"));
    assert_eq!(connected.keep_alive, 20);
    assert_eq!(connected.server, expected);
    assert_eq!(h.client.server_limits(), &expected);
    assert!(h.client.is_connected());
    // The server's Keep Alive is the one in force: a PINGREQ is due 20 s after the CONNECT.
    assert_eq!(h.client.poll_timeout().map(|t| t.as_millis()), Some(20_000));
}

/// A CONNACK without properties (any 3.x CONNACK) leaves every limit at the spec's default,
/// and our own Keep Alive in force; Session Present is reported as the CONNACK says (3.1,
/// which has no such flag: true exactly when the CONNECT kept the session).
#[test]
fn connack_without_properties_gives_every_default() {
    for &version in VERSIONS {
        for clean in [true, false] {
            let mut h = Harness::new(ClientConfig::default());
            let present = !clean && version != ProtocolVersion::V3_1;
            let options = ConnectOptions::new(version, "c")
                .unwrap()
                .keep_alive(25)
                .clean_start(clean);
            let connected = h.connect_with(options, accepted(present));
            assert_eq!(connected.server, ServerLimits::DEFAULT, "MQTT {version}");
            assert_eq!(connected.keep_alive, 25);
            assert_eq!(connected.session_present, !clean, "MQTT {version}");
            assert_eq!(connected.assigned_client_id(), None);
            assert_eq!(h.client.poll_timeout().map(|t| t.as_millis()), Some(25_000));
        }
    }
}

/// A publish above the server's Maximum QoS is refused with `QosNotSupported`, and nothing is
/// written or queued; at or below it, the message goes out.
/// conformance: v5:MQTT-3.2.2-11
#[test]
fn publish_above_maximum_qos_is_refused() {
    for (maximum_qos, maximum) in [
        (MaximumQos::AtMostOnce, QoS::AtMostOnce),
        (MaximumQos::AtLeastOnce, QoS::AtLeastOnce),
    ] {
        let mut h = Harness::new(ClientConfig::default());
        h.connect_with(
            ConnectOptions::new(V5, "c").unwrap(),
            connack_with(ConnAckProperties {
                maximum_qos: Some(maximum_qos),
                ..ConnAckProperties::default()
            }),
        );
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            let held = h.client.outgoing_len();
            let result = h.client.publish(h.now, message("t", b"x", qos));
            if qos > maximum {
                assert_eq!(
                    result,
                    Err(UsageError::QosNotSupported {
                        requested: qos,
                        maximum
                    })
                );
                assert_eq!(h.sent(), []);
                assert_eq!(h.client.outgoing_len(), held);
            } else {
                result.unwrap();
                let sent = h.sent();
                assert!(
                    matches!(&sent[..], [Packet::Publish(p)] if p.qos() == qos),
                    "{sent:?}"
                );
            }
        }
    }
}

/// A retained publish to a server without Retain Available is refused and nothing is written;
/// a non-retained one goes out.
/// conformance: v5:MQTT-3.2.2-14
#[test]
fn retained_publish_without_retain_available_is_refused() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(
        ConnectOptions::new(V5, "c").unwrap(),
        connack_with(ConnAckProperties {
            retain_available: Some(false),
            ..ConnAckProperties::default()
        }),
    );
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let mut retained = message("t", b"x", qos);
        retained.retain = true;
        assert_eq!(
            h.client.publish(h.now, retained),
            Err(UsageError::RetainNotSupported)
        );
        assert_eq!(h.sent(), []);
    }
    h.client
        .publish(h.now, message("t", b"x", QoS::AtMostOnce))
        .unwrap();
    assert!(matches!(&h.sent()[..], [Packet::Publish(p)] if !p.retain));
}

/// Messages queued before the CONNACK are held to the limits it brings: none goes out above the
/// server's Maximum QoS or with RETAIN where Retain Available is 0, and the application hears
/// what became of each.
/// conformance: v5:MQTT-3.2.2-11, v5:MQTT-3.2.2-14
#[test]
fn messages_queued_before_connack_obey_its_qos_and_retain_limits() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect(ConnectOptions::new(V5, "c").unwrap());
    let qos1 = h
        .client
        .publish(h.now, message("t", b"1", QoS::AtLeastOnce))
        .unwrap()
        .unwrap();
    let mut retained = message("t", b"r", QoS::AtMostOnce);
    retained.retain = true;
    h.client.publish(h.now, retained).unwrap();
    h.receive(connack_with(ConnAckProperties {
        maximum_qos: Some(MaximumQos::AtMostOnce),
        retain_available: Some(false),
        ..ConnAckProperties::default()
    }));
    for packet in h.sent() {
        if let Packet::Publish(publish) = &packet {
            assert_eq!(publish.qos(), QoS::AtMostOnce, "{packet:?}");
            assert!(!publish.retain, "{packet:?}");
        }
    }
    let events = h.events();
    assert!(
        events.iter().any(|event| matches!(
            event,
            Event::Published { packet_id, result: Err(_) } if *packet_id == qos1
        )),
        "the QoS 1 message is reported: {events:?}"
    );
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Event::Dropped(p) if p.payload == "r")),
        "the retained message is reported: {events:?}"
    );
}

/// SUBSCRIBE packets the server said it does not support are refused: a wildcard filter, a
/// shared subscription, a Subscription Identifier; plain ones still go out.
#[test]
fn subscribe_refused_for_features_the_server_lacks() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(
        ConnectOptions::new(V5, "c").unwrap(),
        connack_with(ConnAckProperties {
            wildcard_subscription_available: Some(false),
            subscription_identifiers_available: Some(false),
            shared_subscription_available: Some(false),
            ..ConnAckProperties::default()
        }),
    );
    for filter in ["a/+", "a/#", "#"] {
        let result = h.client.subscribe(
            h.now,
            [subscription(filter, QoS::AtMostOnce)],
            SubscribeProperties::default(),
        );
        assert_eq!(
            result,
            Err(UsageError::NotSupported("wildcard subscriptions"))
        );
    }
    let result = h.client.subscribe(
        h.now,
        [subscription("$share/g/a", QoS::AtMostOnce)],
        SubscribeProperties::default(),
    );
    assert_eq!(
        result,
        Err(UsageError::NotSupported("shared subscriptions"))
    );
    let identified = SubscribeProperties {
        subscription_identifier: SubscriptionId::new(7),
        ..SubscribeProperties::default()
    };
    let result = h
        .client
        .subscribe(h.now, [subscription("a/b", QoS::AtMostOnce)], identified);
    assert_eq!(
        result,
        Err(UsageError::NotSupported("subscription identifiers"))
    );
    assert_eq!(h.sent(), []);
    assert_eq!(h.client.outgoing_len(), 0);
    h.client
        .subscribe(
            h.now,
            [subscription("a/b", QoS::AtMostOnce)],
            SubscribeProperties::default(),
        )
        .unwrap();
    assert!(matches!(&h.sent()[..], [Packet::Subscribe(_)]));
}

/// A SUBSCRIBE queued before the CONNACK is held to the features it announces: one the server
/// does not support is not sent, and the application hears that it was not.
#[test]
fn subscribe_queued_before_connack_obeys_its_feature_flags() {
    let mut h = Harness::new(ClientConfig::default());
    // A resumed session, so that nothing is discarded with a new one.
    h.connect(keep_session(V5));
    let wildcard = h
        .client
        .subscribe(
            h.now,
            [subscription("a/#", QoS::AtMostOnce)],
            SubscribeProperties::default(),
        )
        .unwrap();
    let mut connack = connack_with(ConnAckProperties {
        wildcard_subscription_available: Some(false),
        ..ConnAckProperties::default()
    });
    connack.session_present = true;
    h.receive(connack);
    assert!(
        !h.sent()
            .iter()
            .any(|packet| matches!(packet, Packet::Subscribe(_))),
        "the wildcard SUBSCRIBE went out"
    );
    let events = h.events();
    assert!(
        events.iter().any(|event| matches!(
            event,
            Event::RequestFailed { packet_id, error: UsageError::NotSupported(_) } if *packet_id == wildcard
        )),
        "{events:?}"
    );
}

/// The server's Receive Maximum is the send quota: no more QoS 1 and 2 PUBLISH packets in
/// flight than it allows; the next goes out when one completes, and other packets are not held
/// back meanwhile.
/// conformance: v5:MQTT-3.3.4-7, v5:MQTT-3.3.4-8, v5:MQTT-4.9.0-2, v5:MQTT-4.9.0-3
#[test]
fn server_receive_maximum_limits_qos_publishes_in_flight() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(
        ConnectOptions::new(V5, "c").unwrap(),
        connack_with(ConnAckProperties {
            receive_maximum: NonZeroU16::new(2),
            ..ConnAckProperties::default()
        }),
    );
    let ids: Vec<_> = (0..3)
        .map(|_| {
            h.client
                .publish(h.now, message("t", b"x", QoS::AtLeastOnce))
                .unwrap()
                .unwrap()
        })
        .collect();
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(h.client.in_flight(), 2);
    h.client
        .publish(h.now, message("t", b"0", QoS::AtMostOnce))
        .unwrap();
    h.client
        .subscribe(
            h.now,
            [subscription("s", QoS::AtMostOnce)],
            SubscribeProperties::default(),
        )
        .unwrap();
    let sent = h.sent();
    assert!(
        matches!(&sent[..], [Packet::Publish(p), Packet::Subscribe(_)] if p.qos() == QoS::AtMostOnce),
        "{sent:?}"
    );
    h.receive(PubAck::new(ids[0]));
    let sent = h.sent();
    assert!(
        matches!(&sent[..], [Packet::Publish(p)] if p.packet_id() == Some(ids[2])),
        "{sent:?}"
    );
}

/// The client's own Topic Aliases stay within the server's Topic Alias Maximum, and without one
/// it sends none.
/// conformance: v5:MQTT-3.2.2-17, v5:MQTT-3.3.2-9, v5:MQTT-3.2.2-18
#[test]
fn outgoing_topic_aliases_stay_within_the_server_maximum() {
    let config = ClientConfig {
        outgoing_topic_aliases: 10,
        ..ClientConfig::default()
    };
    let mut h = Harness::new(config.clone());
    h.connect_with(
        ConnectOptions::new(V5, "c").unwrap(),
        connack_with(ConnAckProperties {
            topic_alias_maximum: Some(1),
            ..ConnAckProperties::default()
        }),
    );
    for topic in ["topic/a", "topic/a", "topic/b", "topic/b"] {
        h.client
            .publish(h.now, message(topic, b"x", QoS::AtMostOnce))
            .unwrap();
    }
    let named: Vec<_> = h
        .sent()
        .into_iter()
        .map(|packet| match packet {
            Packet::Publish(p) => (
                p.topic.map(|t| t.as_str().to_owned()),
                p.properties.topic_alias.map(NonZeroU16::get),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        named,
        [
            (Some("topic/a".to_owned()), Some(1)),
            (None, Some(1)),
            (Some("topic/b".to_owned()), None),
            (Some("topic/b".to_owned()), None),
        ]
    );

    let mut h = Harness::new(config);
    h.connect_with(ConnectOptions::new(V5, "c").unwrap(), accepted(false));
    for topic in ["topic/a", "topic/a"] {
        h.client
            .publish(h.now, message(topic, b"x", QoS::AtMostOnce))
            .unwrap();
    }
    for packet in h.sent() {
        assert!(
            matches!(&packet, Packet::Publish(p) if p.properties.topic_alias.is_none() && p.topic.is_some()),
            "{packet:?}"
        );
    }
}

/// A 5.0 CONNACK refusing the connection ends it: one `Event::Disconnected` with
/// `Refused(code)`, the Reason String and the Server Reference; nothing is written, no timer
/// runs, and later input is ignored.
/// conformance: v5:MQTT-4.13.2-1
#[test]
fn v5_refused_connack_ends_the_connection_with_its_reason() {
    for code in [
        ConnectReasonCode::UnspecifiedError,
        ConnectReasonCode::ClientIdentifierNotValid,
        ConnectReasonCode::BadUserNameOrPassword,
        ConnectReasonCode::NotAuthorized,
        ConnectReasonCode::ServerBusy,
        ConnectReasonCode::Banned,
        ConnectReasonCode::UseAnotherServer,
        ConnectReasonCode::ServerMoved,
    ] {
        let mut h = Harness::new(ClientConfig::default());
        h.connect(ConnectOptions::new(V5, "c").unwrap());
        let mut refusal = ConnAck::new(false, code);
        refusal.properties.reason_string = Some(text("go away"));
        refusal.properties.server_reference = Some(text("other.example:1883"));
        h.receive(refusal);
        let disconnected = only_disconnected(h.events());
        assert_eq!(disconnected.reason, DisconnectReason::Refused(code));
        assert_eq!(
            disconnected.reason_string.as_ref().map(|s| s.as_str()),
            Some("go away")
        );
        assert_eq!(
            disconnected.server_reference.as_ref().map(|s| s.as_str()),
            Some("other.example:1883")
        );
        assert_eq!(h.client.state(), State::Disconnected);
        assert_eq!(h.client.poll_timeout(), None);
        assert_eq!(h.sent_bytes(), b"");
        h.receive(accepted(false));
        assert_eq!(h.events(), []);
        assert!(!h.client.is_connected());
    }
}

/// A 3.1 or 3.1.1 CONNACK with a non-zero return code ends the connection with one
/// `Event::Disconnected` carrying the 5.0 reason code of the same meaning; nothing is written.
#[test]
fn v3_refused_connack_ends_the_connection_with_its_return_code() {
    for version in [ProtocolVersion::V3_1, ProtocolVersion::V3_1_1] {
        for (return_code, meaning) in [
            (1, ConnectReasonCode::UnsupportedProtocolVersion),
            (2, ConnectReasonCode::ClientIdentifierNotValid),
            (3, ConnectReasonCode::ServerUnavailable),
            (4, ConnectReasonCode::BadUserNameOrPassword),
            (5, ConnectReasonCode::NotAuthorized),
        ] {
            let mut h = Harness::new(ClientConfig::default());
            h.connect(ConnectOptions::new(version, "c").unwrap());
            h.receive_bytes(&[0x20, 0x02, 0x00, return_code]);
            let disconnected = only_disconnected(h.events());
            assert_eq!(
                disconnected.reason,
                DisconnectReason::Refused(meaning),
                "MQTT {version}"
            );
            assert_eq!(disconnected.reason_string, None);
            assert_eq!(h.client.state(), State::Disconnected);
            assert_eq!(h.sent_bytes(), b"");
        }
    }
}

/// No CONNACK within the connect timeout ends the connection (`ConnectTimeout`) at exactly that
/// moment, without writing anything; a CONNACK after that is ignored.
#[test]
fn no_connack_within_the_connect_timeout_closes() {
    for &version in VERSIONS {
        let config = ClientConfig {
            connect_timeout: std::time::Duration::from_secs(3),
            ..ClientConfig::default()
        };
        let mut h = Harness::new(config);
        h.advance(1_000);
        h.connect(ConnectOptions::new(version, "c").unwrap().keep_alive(1));
        assert_eq!(h.client.poll_timeout().map(|t| t.as_millis()), Some(4_000));
        h.advance(2_999);
        assert_eq!(h.events(), []);
        assert_eq!(h.sent(), []);
        h.advance(1);
        let disconnected = only_disconnected(h.events());
        assert_eq!(disconnected.reason, DisconnectReason::ConnectTimeout);
        assert_eq!(h.sent_bytes(), b"");
        assert_eq!(h.client.poll_timeout(), None);
        h.receive(accepted(false));
        assert_eq!(h.events(), []);
        assert!(!h.client.is_connected());
    }
}

/// The first packet on a connection is the CONNECT, and nothing else goes out before the
/// CONNACK: messages queued offline or while connecting wait for it, then go out in the order
/// they were queued.
/// conformance: v311:MQTT-3.1.0-1, v5:MQTT-3.1.0-1
#[test]
fn nothing_but_connect_before_connack() {
    for &version in VERSIONS {
        let config = ClientConfig {
            queue_while_offline: true,
            ..ClientConfig::default()
        };
        let mut h = Harness::new(config);
        h.client
            .publish(h.now, message("offline", b"a", QoS::AtMostOnce))
            .unwrap();
        let offline_qos1 = h
            .client
            .publish(h.now, message("offline", b"b", QoS::AtLeastOnce))
            .unwrap()
            .unwrap();
        assert_eq!(h.sent_bytes(), b"", "MQTT {version}: written while offline");
        // `Harness::connect` decodes with a fresh server decoder, which fails unless the very
        // first packet is a CONNECT, and checks that it is the only packet.
        h.connect(ConnectOptions::new(version, "c").unwrap().keep_alive(5));
        h.client
            .publish(h.now, message("connecting", b"c", QoS::AtMostOnce))
            .unwrap();
        let connecting_qos2 = h
            .client
            .publish(h.now, message("connecting", b"d", QoS::ExactlyOnce))
            .unwrap()
            .unwrap();
        h.advance(4_000);
        assert_eq!(h.sent(), [], "MQTT {version}: written before CONNACK");
        h.receive(accepted(false));
        let events = h.events();
        assert!(
            matches!(&events[..], [Event::Connected(_)]),
            "MQTT {version}: {events:?}"
        );
        let publishes: Vec<_> = h
            .sent()
            .into_iter()
            .map(|packet| match packet {
                Packet::Publish(p) => (p.payload.clone(), p.packet_id()),
                other => panic!("MQTT {version}: {other:?}"),
            })
            .collect();
        assert_eq!(
            publishes,
            [
                (Bytes::from_static(b"a"), None),
                (Bytes::from_static(b"c"), None),
                (Bytes::from_static(b"b"), Some(offline_qos1)),
                (Bytes::from_static(b"d"), Some(connecting_qos2)),
            ],
            "MQTT {version}"
        );
    }
}

/// A SUBSCRIBE queued offline and an UNSUBSCRIBE queued while connecting are not session state
/// the server could have lost: after a clean CONNACK they go out, in the order they were
/// queued, and nothing reports them lost.
/// conformance: v311:MQTT-3.1.0-1, v5:MQTT-3.1.0-1
#[test]
fn requests_queued_before_connack_go_out_after_it() {
    for &version in VERSIONS {
        let config = ClientConfig {
            queue_while_offline: true,
            ..ClientConfig::default()
        };
        let mut h = Harness::new(config);
        let offline_sub = h
            .client
            .subscribe(
                h.now,
                [subscription("s/offline", QoS::AtLeastOnce)],
                SubscribeProperties::default(),
            )
            .unwrap();
        h.connect(ConnectOptions::new(version, "c").unwrap());
        let connecting_unsub = h
            .client
            .unsubscribe(
                h.now,
                [mqtt_sansio::TopicFilter::new("s/old").unwrap()],
                Default::default(),
            )
            .unwrap();
        assert_eq!(h.sent(), [], "MQTT {version}: written before CONNACK");
        h.receive(accepted(false));
        let events = h.events();
        assert!(
            matches!(&events[..], [Event::Connected(_)]),
            "MQTT {version}: {events:?}"
        );
        let requests: Vec<_> = h
            .sent()
            .into_iter()
            .map(|packet| match packet {
                Packet::Subscribe(s) => s.packet_id,
                Packet::Unsubscribe(u) => u.packet_id,
                other => panic!("MQTT {version}: {other:?}"),
            })
            .collect();
        assert_eq!(requests, [offline_sub, connecting_unsub], "MQTT {version}");
    }
}

/// A packet cut off by a broken transport does not leak into the next connection: its first
/// bytes are a CONNECT.
/// conformance: v311:MQTT-3.1.0-1, v5:MQTT-3.1.0-1
#[test]
fn connect_comes_first_after_a_packet_cut_off_by_transport_loss() {
    for &version in VERSIONS {
        let mut h = Harness::connected(ClientConfig::default(), version);
        h.client
            .publish(h.now, message("t", &[7; 200], QoS::AtMostOnce))
            .unwrap();
        let mut small = [0u8; 16];
        let transmit = h.client.poll_transmit(&mut small).unwrap();
        assert_eq!(transmit.len, 16);
        assert_eq!(transmit.packets, 0);
        h.drop_transport();
        only_disconnected(h.events());
        // A fresh server decoder: anything before the CONNECT fails the harness.
        let sent = connect_of(h.connect(ConnectOptions::new(version, "c").unwrap()));
        assert_eq!(sent.client_id.as_str(), "c");
    }
}

/// Clean Start (Clean Session) discards the session state the client held: QoS 1 and 2 flows
/// in flight are reported lost at once and never re-sent, and an incoming QoS 2 identifier
/// awaiting PUBREL is forgotten, so a PUBLISH reusing it is a new message.
/// conformance: v5:MQTT-3.1.2-4, v311:MQTT-3.1.2-6
#[test]
fn clean_start_discards_the_session_state() {
    for &version in VERSIONS {
        let mut h = Harness::new(ClientConfig::default());
        h.connect_with(keep_session(version), accepted(false));
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
        assert_eq!(h.sent().len(), 2);
        h.receive(PubRec::new(qos2));
        assert_eq!(h.sent().len(), 1, "PUBREL");
        h.receive(incoming("in", b"q2", QoS::ExactlyOnce, 9));
        assert_eq!(h.events().len(), 1);
        assert_eq!(h.sent().len(), 1, "PUBREC");
        h.drop_transport();
        only_disconnected(h.events());
        assert_eq!(
            h.client.session().len(),
            3,
            "MQTT {version}: kept while offline"
        );

        h.connect(ConnectOptions::new(version, "client").unwrap());
        let mut lost: Vec<_> = h
            .events()
            .into_iter()
            .map(|event| match event {
                Event::Published {
                    packet_id,
                    result: Err(PublishError::SessionLost),
                } => packet_id,
                other => panic!("MQTT {version}: {other:?}"),
            })
            .collect();
        lost.sort();
        assert_eq!(lost, [qos1, qos2], "MQTT {version}");
        assert!(h.client.session().is_empty());
        h.receive(accepted(false));
        assert!(matches!(&h.events()[..], [Event::Connected(_)]));
        assert_eq!(h.sent(), [], "MQTT {version}: re-sent a discarded flow");
        h.receive(incoming("in", b"again", QoS::ExactlyOnce, 9));
        assert!(
            matches!(&h.events()[..], [Event::Message(m)] if m.payload == "again"),
            "MQTT {version}: the identifier was still held"
        );
    }
}

/// Session Present 0 answering a CONNECT that asked to resume: the client discards its state,
/// reports the flows in flight lost, re-sends none of them, and sends a message it had queued
/// but never sent as a new one (DUP 0).
/// conformance: v5:MQTT-3.2.2-5
#[test]
fn session_present_0_discards_the_session_and_reports_losses() {
    for version in [ProtocolVersion::V3_1_1, V5] {
        let mut h = Harness::new(ClientConfig::default());
        let connack = if version.is_v5() {
            connack_with(ConnAckProperties {
                receive_maximum: NonZeroU16::new(1),
                ..ConnAckProperties::default()
            })
        } else {
            accepted(false)
        };
        h.connect_with(keep_session(version), connack);
        let sent_one = h
            .client
            .publish(h.now, message("t", b"sent", QoS::AtLeastOnce))
            .unwrap()
            .unwrap();
        let waiting = h
            .client
            .publish(h.now, message("t", b"waiting", QoS::AtLeastOnce))
            .unwrap()
            .unwrap();
        let expected_sent = if version.is_v5() { 1 } else { 2 };
        assert_eq!(h.sent().len(), expected_sent);
        h.receive(incoming("in", b"q2", QoS::ExactlyOnce, 4));
        h.sent();
        h.events();
        h.drop_transport();
        only_disconnected(h.events());

        h.connect(keep_session(version));
        assert_eq!(h.events(), []);
        h.receive(accepted(false));
        let events = h.events();
        assert!(
            events.contains(&Event::Published {
                packet_id: sent_one,
                result: Err(PublishError::SessionLost)
            }),
            "MQTT {version}: {events:?}"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Connected(c) if !c.session_present)),
            "{events:?}"
        );
        let sent = h.sent();
        if version.is_v5() {
            // The message that never went out goes now, as a new one.
            assert!(
                matches!(&sent[..], [Packet::Publish(p)]
                    if p.packet_id() == Some(waiting) && !p.is_dup() && p.payload == "waiting"),
                "{sent:?}"
            );
        } else {
            // 3.1.1 had no quota: both were sent, both are lost.
            assert!(events.contains(&Event::Published {
                packet_id: waiting,
                result: Err(PublishError::SessionLost)
            }));
            assert_eq!(sent, []);
        }
        h.receive(incoming("in", b"new", QoS::ExactlyOnce, 4));
        assert!(matches!(&h.events()[..], [Event::Message(m)] if m.payload == "new"));
    }
}

/// Session Present 1 answering Clean Start 1 is a session the client cannot have: 5.0 sends
/// DISCONNECT Protocol Error (0x82) and closes, 3.1.1 closes without a word; either way one
/// `Event::Disconnected` with the protocol error.
/// conformance: v5:MQTT-3.2.2-4, v5:MQTT-4.13.2-1, v311:MQTT-4.8.0-1
#[test]
fn session_present_1_on_a_clean_start_is_a_protocol_error() {
    for version in [ProtocolVersion::V3_1_1, V5] {
        let mut h = Harness::new(ClientConfig::default());
        h.connect(ConnectOptions::new(version, "c").unwrap());
        h.receive(accepted(true));
        let disconnected = only_disconnected(h.events());
        assert_eq!(
            disconnected.reason,
            DisconnectReason::ProtocolError(PeerError::Protocol(ProtocolError::UnexpectedSession))
        );
        let sent = h.sent();
        if version.is_v5() {
            assert_eq!(
                sent,
                [Packet::Disconnect(mqtt_sansio::Disconnect::new(
                    DisconnectReasonCode::ProtocolError
                ))]
            );
        } else {
            assert_eq!(sent, []);
        }
        assert!(!h.client.is_connected());
    }
}

/// A Session Expiry Interval above 0 keeps the session when the connection ends (nothing is
/// reported lost) and Session Present 1 resumes it; with 0, or when the CONNACK lowers it to
/// 0, the session ends with the connection and its flows are reported lost. In 3.x, Clean
/// Session 0 keeps it and Clean Session 1 does not.
/// conformance: v5:MQTT-3.1.2-23, v311:MQTT-3.1.2-4, v311:MQTT-3.1.2-6
#[test]
fn session_outlives_the_connection_only_when_asked_to() {
    // (version, options, CONNACK, whether the session survives)
    let cases = [
        (
            V5,
            ConnectOptions::new(V5, "client")
                .unwrap()
                .session_expiry_interval(60),
            accepted(false),
            true,
        ),
        (
            V5,
            ConnectOptions::new(V5, "client").unwrap(),
            accepted(false),
            false,
        ),
        (
            V5,
            ConnectOptions::new(V5, "client")
                .unwrap()
                .session_expiry_interval(60),
            connack_with(ConnAckProperties {
                session_expiry_interval: Some(0),
                ..ConnAckProperties::default()
            }),
            false,
        ),
        (
            ProtocolVersion::V3_1_1,
            keep_session(ProtocolVersion::V3_1_1),
            accepted(false),
            true,
        ),
        (
            ProtocolVersion::V3_1_1,
            ConnectOptions::new(ProtocolVersion::V3_1_1, "client").unwrap(),
            accepted(false),
            false,
        ),
        (
            ProtocolVersion::V3_1,
            keep_session(ProtocolVersion::V3_1),
            accepted(false),
            true,
        ),
        (
            ProtocolVersion::V3_1,
            ConnectOptions::new(ProtocolVersion::V3_1, "client").unwrap(),
            accepted(false),
            false,
        ),
    ];
    for (index, (version, options, connack, survives)) in cases.into_iter().enumerate() {
        let mut h = Harness::new(ClientConfig::default());
        h.connect_with(options, connack);
        let id = h
            .client
            .publish(h.now, message("t", b"x", QoS::AtLeastOnce))
            .unwrap()
            .unwrap();
        assert_eq!(h.sent().len(), 1);
        h.drop_transport();
        let events = h.events();
        let lost = Event::Published {
            packet_id: id,
            result: Err(PublishError::SessionLost),
        };
        assert_eq!(
            events.contains(&lost),
            !survives,
            "case {index}: {events:?}"
        );
        assert_eq!(
            h.client.session().len(),
            usize::from(survives),
            "case {index}"
        );
        if survives {
            let present = version != ProtocolVersion::V3_1;
            h.connect_with(keep_session(version), accepted(present));
            let sent = h.sent();
            assert!(
                matches!(&sent[..], [Packet::Publish(p)] if p.packet_id() == Some(id) && p.is_dup()),
                "case {index}: {sent:?}"
            );
        }
    }
}

/// The session state belongs to the Client Identifier it was made under: connecting with
/// another identifier never re-sends the first identifier's messages into the second one's
/// session.
/// conformance: v311:MQTT-3.1.3-2, v5:MQTT-3.1.3-2
#[test]
fn session_state_is_keyed_by_client_id() {
    for version in [ProtocolVersion::V3_1_1, V5] {
        let mut h = Harness::new(ClientConfig::default());
        let options = |id: &str| {
            let options = ConnectOptions::new(version, id).unwrap().clean_start(false);
            if version.is_v5() {
                options.session_expiry_interval(60)
            } else {
                options
            }
        };
        h.connect_with(options("alice"), accepted(false));
        let id = h
            .client
            .publish(h.now, message("alice/t", b"x", QoS::AtLeastOnce))
            .unwrap()
            .unwrap();
        assert_eq!(h.sent().len(), 1);
        h.drop_transport();
        h.events();

        // The client may refuse to connect under another identifier while it holds a session,
        // or set that session aside; it must not resume it under "bob".
        let Ok(sent) = h.try_connect(options("bob")) else {
            continue;
        };
        assert!(matches!(&sent[..], [Packet::Connect(_)]), "{sent:?}");
        h.receive(accepted(true));
        let sent = h.sent();
        assert!(
            !sent
                .iter()
                .any(|p| matches!(p, Packet::Publish(p) if p.packet_id() == Some(id))),
            "MQTT {version}: alice's message re-sent into bob's session: {sent:?}"
        );
    }
}
