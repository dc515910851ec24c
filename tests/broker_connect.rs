//! Opening a connection on the broker: the three versions side by side, the CONNACK and what
//! it advertises, Client Identifiers (assigned, refused), session takeover, refusals through
//! the driver, and the connect timeout.
//!
//! Enhanced authentication and re-authentication are tested in `broker_auth.rs`, Response
//! Information in `broker_response_information.rs`. 3.1.1 MQTT-7.0.0-1 (a server that
//! bridges) is outside the core.
#![cfg(feature = "v5")]

mod common;

use std::num::{NonZeroU16, NonZeroU32};
use std::time::Duration;

use common::broker::{Harness, connect_packet, keep_session, text};
use common::hex;
use mqtt_sansio::broker::{CloseReason, Event};
use mqtt_sansio::{
    BinaryData, BrokerConfig, ConnAck, ConnAckProperties, ConnectReasonCode, MaximumQos, Packet,
    ProtocolVersion, QoS, UsageError,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// The CONNACK a 5.0 client gets from a broker with the default configuration: the limits
/// that differ from the protocol's defaults, nothing else.
fn default_v5_connack() -> ConnAck {
    let mut connack = ConnAck::new(false, ConnectReasonCode::Success);
    connack.properties = ConnAckProperties {
        receive_maximum: NonZeroU16::new(64),
        maximum_packet_size: NonZeroU32::new(1024 * 1024),
        topic_alias_maximum: Some(10),
        ..ConnAckProperties::new()
    };
    connack
}

/// The `Event::Connected` among `events`: its client id, version and Session Present flag.
#[track_caller]
fn connected_event(events: &[Event]) -> (String, ProtocolVersion, bool) {
    match events {
        [
            Event::Connected {
                client_id,
                version,
                session_present,
                ..
            },
        ] => (client_id.as_str().to_owned(), *version, *session_present),
        other => panic!("expected one Event::Connected, got {other:?}"),
    }
}

/// A broker that asks the driver about every CONNECT.
fn authenticating() -> BrokerConfig {
    BrokerConfig {
        allow_anonymous: false,
        ..BrokerConfig::default()
    }
}

/// 3.1, 3.1.1 and 5.0 clients connect to one broker side by side, each answered first of
/// all by a CONNACK in its own version accepting it without a session: four bytes in 3.x,
/// the limits in 5.0.
/// conformance: v311:MQTT-3.2.0-1, v311:MQTT-3.1.4-4, v311:MQTT-3.2.2-1, v5:MQTT-3.2.0-1,
/// v5:MQTT-3.1.4-5, v5:MQTT-3.2.2-2
#[test]
fn three_versions_connect_side_by_side_each_answered_in_its_own() {
    let mut h = Harness::new(BrokerConfig::default());
    let mut conns = Vec::new();
    for &version in VERSIONS {
        let conn = h.open(version);
        h.send(
            conn,
            connect_packet(version, &format!("c{}", version.level())),
        );
        conns.push(conn);
    }
    assert_eq!(h.sent_bytes(conns[0]), hex("20 02 00 00"), "3.1");
    assert_eq!(h.sent_bytes(conns[1]), hex("20 02 00 00"), "3.1.1");
    assert_eq!(
        h.sent(conns[2]),
        [Packet::ConnAck(Box::new(default_v5_connack()))],
        "5.0"
    );
    let events = h.events();
    assert_eq!(events.len(), 3, "{events:?}");
    for (event, &version) in events.iter().zip(VERSIONS) {
        let (client_id, got, session_present) = connected_event(std::slice::from_ref(event));
        assert_eq!(
            (client_id, got, session_present),
            (format!("c{}", version.level()), version, false)
        );
    }
    assert_eq!(h.broker.stats().connections, 3);
    assert_eq!(h.broker.stats().sessions, 3);
}

/// A 5.0 CONNACK advertises every limit configured away from the protocol's default
/// (Receive Maximum, Maximum QoS, Retain Available, Maximum Packet Size, Topic Alias Maximum,
/// Wildcard / Subscription Identifier / Shared Subscription Available), and, for a CONNECT
/// without one, no Authentication Method; a 3.x CONNACK stays four bytes.
/// conformance: v5:MQTT-3.2.2-9, v5:MQTT-4.12.0-6
#[test]
fn v5_connack_advertises_every_configured_limit() {
    let config = BrokerConfig {
        receive_maximum: 5,
        maximum_qos: QoS::AtLeastOnce,
        retain_available: false,
        max_packet_size: 2000,
        topic_alias_maximum: 0,
        wildcard_subscriptions: false,
        subscription_identifiers: false,
        shared_subscriptions: false,
        ..BrokerConfig::default()
    };
    let mut h = Harness::new(config);
    let (_, connack, rest) = h.connect_with(connect_packet(V5, "c"));
    let mut expected = ConnAck::new(false, ConnectReasonCode::Success);
    expected.properties = ConnAckProperties {
        receive_maximum: NonZeroU16::new(5),
        maximum_qos: Some(MaximumQos::AtLeastOnce),
        retain_available: Some(false),
        maximum_packet_size: NonZeroU32::new(2000),
        wildcard_subscription_available: Some(false),
        subscription_identifiers_available: Some(false),
        shared_subscription_available: Some(false),
        ..ConnAckProperties::new()
    };
    assert_eq!((connack, rest), (expected, vec![]));

    let maximum_qos_0 = BrokerConfig {
        maximum_qos: QoS::AtMostOnce,
        ..BrokerConfig::default()
    };
    let mut h = Harness::new(maximum_qos_0);
    let (_, connack, _) = h.connect_with(connect_packet(V5, "c"));
    assert_eq!(connack.properties.maximum_qos, Some(MaximumQos::AtMostOnce));
    for version in [ProtocolVersion::V3_1, V311] {
        let conn = h.open(version);
        h.send(conn, connect_packet(version, "x"));
        assert_eq!(h.sent_bytes(conn), hex("20 02 00 00"), "{version}");
    }
}

/// A 5.0 Session Expiry Interval above the broker's maximum is granted at the maximum, and the
/// CONNACK says so; one within it is not echoed.
#[test]
fn v5_session_expiry_above_the_maximum_is_capped_in_connack() {
    let mut h = Harness::new(BrokerConfig {
        max_session_expiry: 100,
        ..BrokerConfig::default()
    });
    let (_, connack, _) = h.connect_with(keep_session(V5, "long", u32::MAX));
    assert_eq!(connack.properties.session_expiry_interval, Some(100));
    let (_, connack, _) = h.connect_with(keep_session(V5, "short", 100));
    assert_eq!(connack.properties.session_expiry_interval, None);
}

/// An empty Client Identifier gets one assigned, different for each client: 5.0 returns it as
/// Assigned Client Identifier, and the driver's `Event::Connected` names it in every version
/// that allows an empty one.
/// conformance: v311:MQTT-3.1.3-6, v5:MQTT-3.1.3-6, v5:MQTT-3.1.3-7, v5:MQTT-3.2.2-16
#[test]
fn empty_client_id_gets_a_unique_assigned_one() {
    let mut h = Harness::new(BrokerConfig::default());
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (_, connack, _) = h.connect_with(connect_packet(V5, ""));
        assert_eq!(connack.reason_code, ConnectReasonCode::Success);
        let assigned = connack
            .properties
            .assigned_client_identifier
            .expect("Assigned Client Identifier")
            .as_str()
            .to_owned();
        let (client_id, _, _) = connected_event(&h.events());
        assert_eq!(client_id, assigned);
        assert!(!assigned.is_empty());
        seen.push(assigned);
    }
    for _ in 0..2 {
        let conn = h.open(V311);
        h.send(conn, connect_packet(V311, ""));
        assert_eq!(h.sent_bytes(conn), hex("20 02 00 00"));
        let (client_id, _, _) = connected_event(&h.events());
        assert!(!client_id.is_empty());
        seen.push(client_id);
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "{seen:?}");
}

/// The next identifier after `id` if it ends in a hexadecimal counter, as an assigning broker
/// would likely produce it; `None` otherwise.
fn successor(id: &str) -> Option<String> {
    let digits = id.len() - id.trim_end_matches(|c: char| c.is_ascii_hexdigit()).len();
    if digits == 0 || digits > 16 {
        return None;
    }
    let (prefix, counter) = id.split_at(id.len() - digits);
    let next = u64::from_str_radix(counter, 16).ok()?.checked_add(1)?;
    Some(format!("{prefix}{next:0digits$x}"))
}

/// An assigned Client Identifier is not one a current session already uses, even when a
/// client chose that very identifier itself.
/// conformance: v5:MQTT-3.2.2-16
#[test]
fn assigned_client_id_is_not_used_by_any_current_session() {
    let mut h = Harness::new(BrokerConfig::default());
    let (_, connack, _) = h.connect_with(connect_packet(V5, ""));
    let first = connack.properties.assigned_client_identifier.unwrap();
    let next = successor(first.as_str()).expect("a counter to guess the next identifier from");
    let squatter = h.connect(V5, &next);
    h.events();
    let (_, connack, _) = h.connect_with(connect_packet(V5, ""));
    let assigned = connack.properties.assigned_client_identifier.unwrap();
    assert_ne!(assigned.as_str(), next);
    assert_eq!(
        h.closed(squatter),
        None,
        "the chosen identifier's client stays"
    );
    assert_eq!(h.sent(squatter), []);
}

/// The assigned Client Identifier is the session's key: reconnecting with it (Clean Start 0)
/// resumes the session the empty identifier created.
/// conformance: v5:MQTT-3.1.3-7, v5:MQTT-3.1.3-2
#[test]
fn assigned_client_id_keys_the_session() {
    let mut h = Harness::new(BrokerConfig::default());
    let (conn, connack, _) = h.connect_with(keep_session(V5, "", 60));
    let assigned = connack.properties.assigned_client_identifier.unwrap();
    h.subscribe(conn, "a/b", QoS::AtLeastOnce);
    h.drop_socket(conn);
    let (_, session_present, _) = h.resume(V5, assigned.as_str(), 60);
    assert!(session_present);
}

/// 3.1.1: an empty Client Identifier with Clean Session 0 is refused with return code 0x02
/// (identifier rejected, Session Present 0) and the connection closed; 3.1 allows no empty
/// identifier at all and refuses it the same way.
/// conformance: v311:MQTT-3.1.3-8, v311:MQTT-3.1.3-9, v311:MQTT-3.2.2-4, v311:MQTT-3.2.2-5
#[test]
fn v3_empty_client_id_that_may_not_be_empty_is_refused_with_0x02() {
    let cases = [
        (V311, "10 0C 0004 4D515454 04 00 0000 0000"),
        (
            ProtocolVersion::V3_1,
            "10 0E 0006 4D5149736470 03 02 0000 0000",
        ),
    ];
    for (version, connect) in cases {
        let mut h = Harness::new(BrokerConfig::default());
        let conn = h.open(version);
        h.send_bytes(conn, &hex(connect));
        assert_eq!(h.sent_bytes(conn), hex("20 02 00 02"), "{version}");
        assert!(
            matches!(h.closed(conn), Some(CloseReason::ProtocolError(_))),
            "{version}"
        );
        assert!(
            !h.events()
                .iter()
                .any(|event| matches!(event, Event::Connected { .. })),
            "{version}"
        );
        assert_eq!(h.broker.stats().sessions, 0);
    }
}

/// Client Identifiers of 1 to 23 letters and digits are accepted in every version.
/// conformance: v311:MQTT-3.1.3-5, v5:MQTT-3.1.3-5
#[test]
fn client_ids_of_23_letters_and_digits_are_accepted() {
    let mut h = Harness::new(BrokerConfig::default());
    for (&version, id) in VERSIONS.iter().zip(["a", "0123456789abcdefghijKLM", "Z9"]) {
        h.connect(version, id);
        let (client_id, _, _) = connected_event(&h.events());
        assert_eq!(client_id, id);
    }
}

/// A CONNECT with a Client Identifier that is connected takes the session over: a 5.0 client
/// on the old connection gets DISCONNECT 0x8E (no properties, Session Expiry least of all) as
/// its last packet, a 3.x client is closed without a word, whatever version the new client
/// speaks; the new one is accepted.
/// conformance: v5:MQTT-3.1.4-3, v311:MQTT-3.1.4-2, v5:MQTT-3.14.2-2, v5:MQTT-3.14.4-1,
/// v5:MQTT-3.14.4-2, v5:MQTT-3.14.0-1
#[test]
fn session_takeover_closes_the_old_connection_with_0x8e_in_v5() {
    for &old_version in VERSIONS {
        for &new_version in VERSIONS {
            let mut h = Harness::new(BrokerConfig::default());
            let old = h.connect(old_version, "same");
            h.events();
            let new = h.connect(new_version, "same");
            let case = format!("{old_version} -> {new_version}");
            if old_version.is_v5() {
                assert_eq!(h.sent_bytes(old), hex("E0 01 8E"), "{case}");
            } else {
                assert_eq!(h.sent_bytes(old), [], "{case}");
            }
            assert_eq!(h.closed(old), Some(CloseReason::SessionTakenOver), "{case}");
            assert_eq!(h.closed(new), None, "{case}");
            let events = h.events();
            assert!(
                matches!(
                    &events[..],
                    [
                        Event::Close {
                            reason: CloseReason::SessionTakenOver,
                            ..
                        },
                        Event::Connected { .. }
                    ]
                ),
                "{case}: {events:?}"
            );
            // The old connection's handle is dead: bytes on it change nothing.
            h.send(old, mqtt_sansio::PingReq);
            assert_eq!(h.sent_bytes(old), [], "{case}");
            assert_eq!(h.broker.stats().connections, 1, "{case}");
        }
    }
}

/// Taking a session over with Clean Start 0 keeps it: the new connection is told Session
/// Present 1 (3.1 has no such flag) and receives what the old one subscribed to.
/// conformance: v311:MQTT-3.1.4-3, v5:MQTT-3.1.4-4, v5:MQTT-3.1.2-5
#[test]
fn takeover_with_clean_start_0_keeps_the_session() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let (old, _, _) = h.resume(version, "same", 60);
        h.subscribe(old, "t", QoS::AtMostOnce);
        let (new, session_present, _) = h.resume(version, "same", 60);
        assert_eq!(
            session_present,
            version != ProtocolVersion::V3_1,
            "{version}"
        );
        let publisher = h.connect(V311, "pub");
        h.send(
            publisher,
            common::broker::publish("t", b"x", QoS::AtMostOnce, 0),
        );
        assert_eq!(h.sent(new).len(), 1, "{version}");
        assert!(
            !h.sent(old)
                .iter()
                .any(|packet| matches!(packet, Packet::Publish(_))),
            "{version}"
        );
    }
}

/// With `allow_anonymous` off, every CONNECT reaches the driver as `Event::Authenticate`
/// with its credentials; `refuse_connect` answers with the code in the client's version
/// (3.x: the return code of the same meaning; 5.0: the reason code), Session Present 0, and
/// closes; nothing is connected.
/// conformance: v311:MQTT-3.2.2-5, v311:MQTT-3.1.3-9, v5:MQTT-3.2.2-7, v5:MQTT-3.1.4-2,
/// v5:MQTT-3.1.3-8, v5:MQTT-4.13.2-1
#[test]
fn refused_connect_gets_the_code_of_its_version_and_is_closed() {
    let codes = [
        (ConnectReasonCode::UnsupportedProtocolVersion, 0x01),
        (ConnectReasonCode::ClientIdentifierNotValid, 0x02),
        (ConnectReasonCode::ServerUnavailable, 0x03),
        (ConnectReasonCode::BadUserNameOrPassword, 0x04),
        (ConnectReasonCode::NotAuthorized, 0x05),
    ];
    for &version in VERSIONS {
        for (code, return_code) in codes {
            let mut h = Harness::new(authenticating());
            let conn = h.open(version);
            let mut connect = connect_packet(version, "who");
            connect.username = Some(text("user"));
            connect.password = Some(BinaryData::new(bytes::Bytes::from_static(b"pw")).unwrap());
            h.send(conn, connect.clone());
            assert_eq!(h.sent_bytes(conn), [], "nothing before the driver decides");
            let events = h.events();
            let [
                Event::Authenticate {
                    connection,
                    connect: asked,
                    ..
                },
            ] = &events[..]
            else {
                panic!("{events:?}")
            };
            assert_eq!(*connection, h.handle(conn));
            assert_eq!(**asked, connect);
            h.broker
                .refuse_connect(h.now, h.handle(conn), code)
                .unwrap();
            h.advance(0);
            let expected = if version.is_v5() {
                vec![0x20, 0x03, 0x00, code.as_u8(), 0x00]
            } else {
                vec![0x20, 0x02, 0x00, return_code]
            };
            assert_eq!(h.sent_bytes(conn), expected, "{version} {code:?}");
            assert_eq!(h.closed(conn), Some(CloseReason::Refused));
            assert_eq!(h.broker.stats().sessions, 0);
            assert_eq!(h.broker.stats().connections, 0);
        }
    }
}

/// A refusal that 3.x has no return code for but that is one of authorisation (Banned) goes
/// out as 0x05 (Not authorized), the broker's documented choice.
#[test]
fn v3_refusal_without_a_matching_return_code_is_not_authorized() {
    for version in [ProtocolVersion::V3_1, V311] {
        let mut h = Harness::new(authenticating());
        let conn = h.open(version);
        h.send(conn, connect_packet(version, "who"));
        h.events();
        h.broker
            .refuse_connect(h.now, h.handle(conn), ConnectReasonCode::Banned)
            .unwrap();
        h.advance(0);
        assert_eq!(h.sent_bytes(conn), hex("20 02 00 05"), "{version}");
        assert_eq!(h.closed(conn), Some(CloseReason::Refused));
    }
}

/// A 3.x refusal for a reason none of the 3.x return codes means (a malformed or oversized
/// CONNECT, a protocol error) closes the connection without a CONNACK.
/// conformance: v311:MQTT-3.2.2-6, v311:MQTT-3.1.4-1
#[test]
fn v3_refusal_no_return_code_fits_closes_without_connack() {
    for code in [
        ConnectReasonCode::MalformedPacket,
        ConnectReasonCode::ProtocolError,
        ConnectReasonCode::PacketTooLarge,
    ] {
        for version in [ProtocolVersion::V3_1, V311] {
            let mut h = Harness::new(authenticating());
            let conn = h.open(version);
            h.send(conn, connect_packet(version, "who"));
            h.events();
            h.broker
                .refuse_connect(h.now, h.handle(conn), code)
                .unwrap();
            h.advance(0);
            assert_eq!(h.sent_bytes(conn), [], "{version} {code:?}");
            assert_eq!(h.closed(conn), Some(CloseReason::Refused));
        }
    }
}

/// A refused CONNECT gets Session Present 0 even when a session is stored for its Client
/// Identifier, and that session is left as it was.
/// conformance: v311:MQTT-3.2.2-4, v5:MQTT-3.2.2-6
#[test]
fn refusal_says_session_present_0_even_with_a_stored_session() {
    for version in [V311, V5] {
        let mut h = Harness::new(authenticating());
        let conn = h.open(version);
        h.send(conn, keep_session(version, "kept", 60));
        h.events();
        h.broker.accept_connect(h.now, h.handle(conn)).unwrap();
        h.advance(0);
        h.sent(conn);
        h.drop_socket(conn);
        let again = h.open(version);
        h.send(again, keep_session(version, "kept", 60));
        h.events();
        h.broker
            .refuse_connect(h.now, h.handle(again), ConnectReasonCode::NotAuthorized)
            .unwrap();
        h.advance(0);
        let bytes = h.sent_bytes(again);
        assert_eq!(
            bytes[2], 0x00,
            "{version}: Session Present 0 in {bytes:02x?}"
        );
        assert_eq!(h.broker.stats().sessions, 1, "{version}");
    }
}

/// Nothing the client sent after a refused CONNECT is processed: a retained PUBLISH written in
/// the same read is neither routed nor stored, and later bytes are ignored.
/// conformance: v311:MQTT-3.1.4-5, v5:MQTT-3.1.4-6
#[test]
fn nothing_after_a_refused_connect_is_processed() {
    for &version in VERSIONS {
        let mut h = Harness::new(authenticating());
        let conn = h.open(version);
        let mut message = common::broker::publish("r", b"kept", QoS::AtMostOnce, 0);
        message.retain = true;
        h.send_all(
            conn,
            [
                connect_packet(version, "who").into(),
                message.clone().into(),
            ],
        );
        h.events();
        h.broker
            .refuse_connect(h.now, h.handle(conn), ConnectReasonCode::NotAuthorized)
            .unwrap();
        h.advance(0);
        h.send(conn, message);
        let stats = h.broker.stats();
        assert_eq!(
            (stats.retained, stats.messages_in, stats.stored_messages),
            (0, 0, 0),
            "{version}"
        );
    }
}

/// `accept_connect` connects a CONNECT the driver vouched for: CONNACK 0x00 and
/// `Event::Connected`.
/// conformance: v311:MQTT-3.1.4-4, v5:MQTT-3.1.4-5
#[test]
fn driver_accepts_a_connect_later() {
    for &version in VERSIONS {
        let mut h = Harness::new(authenticating());
        let conn = h.open(version);
        h.send(conn, connect_packet(version, "who"));
        assert!(matches!(&h.events()[..], [Event::Authenticate { .. }]));
        h.advance(1_000);
        h.broker.accept_connect(h.now, h.handle(conn)).unwrap();
        h.advance(0);
        let sent = h.sent(conn);
        assert!(
            matches!(&sent[..], [Packet::ConnAck(connack)] if connack.reason_code == ConnectReasonCode::Success),
            "{version}: {sent:?}"
        );
        assert_eq!(connected_event(&h.events()).1, version);
        // A second verdict is a usage error.
        assert_eq!(
            h.broker.accept_connect(h.now, h.handle(conn)),
            Err(UsageError::NoAuthentication)
        );
    }
}

/// Packets a client wrote right after its CONNECT, in the same read, are handled once the
/// driver accepts the CONNECT, without waiting for more bytes from the client.
/// conformance: v311:MQTT-3.8.4-1, v5:MQTT-3.8.4-1
#[test]
fn packets_pipelined_behind_an_accepted_connect_are_handled() {
    for &version in VERSIONS {
        let mut h = Harness::new(authenticating());
        let conn = h.open(version);
        let id = h.next_id(conn);
        let subscribe = mqtt_sansio::Subscribe::new(
            id,
            [mqtt_sansio::Subscription::new(
                common::broker::topic_filter("t"),
                QoS::AtMostOnce,
            )],
        );
        h.send_all(
            conn,
            [connect_packet(version, "who").into(), subscribe.into()],
        );
        h.events();
        h.broker.accept_connect(h.now, h.handle(conn)).unwrap();
        h.advance(0);
        let sent = h.sent(conn);
        assert!(
            matches!(&sent[..], [Packet::ConnAck(_), Packet::SubAck(_)]),
            "{version}: {sent:?}"
        );
    }
}

/// A socket that sends no CONNECT (or only part of one) is closed at the connect timeout,
/// without a byte; so is one whose CONNECT the driver never answers.
#[test]
fn socket_without_a_connect_is_closed_at_the_connect_timeout() {
    let mut h = Harness::new(BrokerConfig {
        connect_timeout: Duration::from_secs(5),
        allow_anonymous: false,
        ..BrokerConfig::default()
    });
    let silent = h.open(V311);
    let partial = h.open(V311);
    h.send_bytes(partial, &hex("10 0C 00 04 4D 51"));
    let unanswered = h.open(V5);
    h.send(unanswered, connect_packet(V5, "who"));
    assert!(matches!(&h.events()[..], [Event::Authenticate { .. }]));
    assert_eq!(
        h.broker.poll_timeout().map(|at| at.as_millis()),
        Some(5_000)
    );
    h.advance(4_999);
    for conn in [silent, partial, unanswered] {
        assert_eq!(h.closed(conn), None);
    }
    h.advance(1);
    for conn in [silent, partial, unanswered] {
        assert_eq!(h.closed(conn), Some(CloseReason::ConnectTimeout));
        assert_eq!(h.sent_bytes(conn), []);
    }
    assert_eq!(h.broker.stats().connections, 0);
}

/// A 5.0 CONNECT asking for an authentication method goes to the driver even though the
/// broker accepts anonymous clients; a driver that does not offer the method refuses it with
/// Bad authentication method (0x8C), and the connection is closed.
/// conformance: v5:MQTT-4.12.0-1, v5:MQTT-3.2.2-7
#[test]
fn v5_connect_with_an_unknown_authentication_method_is_refused_0x8c() {
    let mut h = Harness::new(BrokerConfig::default());
    let mut connect = connect_packet(V5, "who");
    connect.properties.authentication_method = Some(text("NO-SUCH-METHOD"));
    let conn = h.open(V5);
    h.send(conn, connect);
    assert_eq!(h.sent(conn), [], "nothing before the driver's verdict");
    let events = h.events();
    let [Event::Authenticate { connect: asked, .. }] = &events[..] else {
        panic!("expected Event::Authenticate, got {events:?}");
    };
    assert_eq!(
        asked.properties.authentication_method.as_deref(),
        Some("NO-SUCH-METHOD")
    );
    h.broker
        .refuse_connect(
            h.now,
            h.handle(conn),
            ConnectReasonCode::BadAuthenticationMethod,
        )
        .unwrap();
    h.advance(0);
    assert_eq!(
        h.sent(conn),
        [Packet::ConnAck(Box::new(ConnAck::new(
            false,
            ConnectReasonCode::BadAuthenticationMethod
        )))]
    );
    assert_eq!(h.closed(conn), Some(CloseReason::Refused));
}

/// A CONNECT the driver judges names the identifier the broker assigns, already in
/// `Event::Authenticate`, and says that it did (so a driver can refuse such clients): a policy keyed by Client Identifier judges the client's first
/// PUBLISH, sent in the same read as its CONNECT, under that identifier; 5.0 returns it in
/// the CONNACK.
/// conformance: v5:MQTT-3.2.2-16
#[test]
fn a_connect_the_driver_judges_names_its_assigned_client_id() {
    /// Allows publishing to the client the driver names, and no other.
    #[derive(Default)]
    struct Named(String);
    impl mqtt_sansio::broker::Policy for Named {
        fn may_publish(&self, client_id: &str, _topic: &str) -> bool {
            client_id == self.0
        }
        fn may_subscribe(&self, _client_id: &str, _filter: &str) -> bool {
            true
        }
    }
    for version in [V5, V311] {
        let config = BrokerConfig {
            allow_anonymous: false,
            ..BrokerConfig::default()
        };
        let mut h = Harness::with_policy(config, Named::default());
        let watcher = h.open(V311);
        h.send(watcher, connect_packet(V311, "watcher"));
        assert!(
            h.events().iter().any(|event| matches!(
                event,
                Event::Authenticate {
                    client_id_assigned: false,
                    ..
                }
            )),
            "{version}: a client's own identifier is not called assigned"
        );
        let handle = h.handle(watcher);
        h.command(|broker, now| broker.accept_connect(now, handle))
            .unwrap();
        h.sent(watcher);
        h.subscribe(watcher, "a/b", QoS::AtMostOnce);
        h.events();
        let conn = h.open(version);
        let mut burst = h.encode(conn, connect_packet(version, ""));
        burst.extend(h.encode(
            conn,
            common::broker::publish("a/b", b"1", QoS::AtMostOnce, 0),
        ));
        h.send_bytes(conn, &burst);
        let (client_id, assigned) = h
            .events()
            .into_iter()
            .find_map(|event| match event {
                Event::Authenticate {
                    connect,
                    client_id_assigned,
                    ..
                } => Some((connect.client_id.as_str().to_owned(), client_id_assigned)),
                _ => None,
            })
            .expect("the CONNECT goes to the driver");
        assert!(client_id.starts_with("auto-"), "{version}: {client_id}");
        assert!(
            assigned,
            "{version}: the driver is told the identifier is the broker's"
        );
        h.broker.policy_mut().0 = client_id.clone();
        let handle = h.handle(conn);
        h.command(|broker, now| broker.accept_connect(now, handle))
            .unwrap();
        let sent = h.sent(conn);
        if version == V5 {
            let Some(Packet::ConnAck(connack)) = sent.first() else {
                panic!("{version}: {sent:?}");
            };
            assert_eq!(
                connack
                    .properties
                    .assigned_client_identifier
                    .as_ref()
                    .map(|id| id.as_str()),
                Some(client_id.as_str())
            );
        }
        let (connected_id, _, _) = connected_event(&h.events());
        assert_eq!(connected_id, client_id, "{version}");
        assert_eq!(
            common::broker::deliveries(&h.sent(watcher)),
            [common::broker::got("a/b", b"1", QoS::AtMostOnce)],
            "{version}: the early PUBLISH was judged as the assigned client's"
        );
    }
}
