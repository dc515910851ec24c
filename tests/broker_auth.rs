//! 5.0 enhanced authentication (§4.12) and re-authentication (§4.12.1) on the broker: a
//! CONNECT with an Authentication Method reaches the driver, which answers with AUTH
//! challenges, a CONNACK with final data, or a refusal; a connected client re-authenticates
//! while its messages keep flowing; every AUTH out of turn, with another method or with a
//! reason code that does not fit is a Protocol Error; what the driver adds to an AUTH is cut
//! to the client's limits. The last test runs the exchange with the crate's own `Client`.
#![cfg(feature = "v5")]

mod common;

use std::num::NonZeroU32;

use bytes::Bytes;
use common::broker::{Conn, Harness, connect_packet, publish, text, topic};
use common::pair::Network;
use mqtt_sansio::broker::{CloseReason, Event};
use mqtt_sansio::{
    Auth, AuthProperties, AuthReasonCode, BinaryData, BrokerConfig, ClientConfig, ConnAck, Connect,
    ConnectOptions, ConnectReasonCode, Disconnect, DisconnectReasonCode, Packet, ProtocolVersion,
    PubAck, QoS, UsageError, UserProperty, Will,
};

const V5: ProtocolVersion = ProtocolVersion::V5;
const METHOD: &str = "SCRAM-SHA-256";

/// A 5.0 CONNECT of `client_id` with [`METHOD`] and `data`.
fn auth_connect(client_id: &str, data: Option<&[u8]>) -> Connect {
    let mut connect = connect_packet(V5, client_id);
    connect.properties.authentication_method = Some(text(METHOD));
    connect.properties.authentication_data = data.map(binary);
    connect
}

fn binary(data: &[u8]) -> BinaryData<Bytes> {
    BinaryData::new(Bytes::copy_from_slice(data)).unwrap()
}

/// AUTH properties with this Authentication Data, as a driver gives them.
fn with_data(data: &[u8]) -> AuthProperties<Bytes> {
    let mut properties = AuthProperties::new();
    properties.authentication_data = Some(binary(data));
    properties
}

/// An AUTH as a client sends it: `code`, `method` and `data`.
fn auth(code: AuthReasonCode, method: &str, data: &[u8]) -> Auth {
    let mut auth = Auth::new(code);
    auth.properties.authentication_method = Some(text(method));
    auth.properties.authentication_data = Some(binary(data));
    auth
}

/// The AUTH the broker should send: `code` with [`METHOD`] and `data`.
fn broker_auth(code: AuthReasonCode, data: &[u8]) -> Packet {
    Packet::Auth(auth(code, METHOD, data))
}

/// Opens a connection and sends `connect`; asserts that the broker sent nothing and asked
/// the driver with `Event::Authenticate` carrying the CONNECT.
#[track_caller]
fn start(h: &mut Harness, connect: Connect) -> Conn {
    let conn = h.open(V5);
    h.send(conn, connect.clone());
    assert_eq!(h.sent(conn), [], "nothing before the driver answers");
    match &h.events()[..] {
        [
            Event::Authenticate {
                connection,
                connect: asked,
                ..
            },
        ] => {
            assert_eq!(*connection, h.handle(conn));
            assert_eq!(**asked, connect);
        }
        other => panic!("expected Event::Authenticate, got {other:?}"),
    }
    conn
}

/// The one `Event::AuthenticationData` among the events: its AUTH.
#[track_caller]
fn authentication_data(h: &mut Harness, conn: Conn) -> Auth {
    match <[Event; 1]>::try_from(h.events()) {
        Ok([Event::AuthenticationData { connection, auth }]) => {
            assert_eq!(connection, h.handle(conn));
            *auth
        }
        other => panic!("expected Event::AuthenticationData, got {other:?}"),
    }
}

/// The one `Event::Reauthenticate` among the events: its AUTH.
#[track_caller]
fn reauthenticate(h: &mut Harness, conn: Conn) -> Auth {
    match <[Event; 1]>::try_from(h.events()) {
        Ok([Event::Reauthenticate { connection, auth }]) => {
            assert_eq!(connection, h.handle(conn));
            *auth
        }
        other => panic!("expected Event::Reauthenticate, got {other:?}"),
    }
}

/// A client connected with [`METHOD`], accepted by the driver at once; the CONNACK and the
/// events are taken.
#[track_caller]
fn connected(h: &mut Harness, connect: Connect) -> Conn {
    let conn = start(h, connect);
    h.broker.accept_connect(h.now, h.handle(conn)).unwrap();
    h.advance(0);
    match &h.sent(conn)[..] {
        [Packet::ConnAck(connack)] => {
            assert_eq!(connack.reason_code, ConnectReasonCode::Success);
        }
        other => panic!("expected a CONNACK, got {other:?}"),
    }
    assert!(matches!(&h.events()[..], [Event::Connected { .. }]));
    conn
}

/// The CONNACK refusing with `code`.
fn refusal(code: ConnectReasonCode) -> Packet {
    Packet::ConnAck(Box::new(ConnAck::new(false, code)))
}

/// A DISCONNECT with `code`.
fn disconnect(code: DisconnectReasonCode) -> Packet {
    Packet::Disconnect(Disconnect::new(code))
}

/// A full exchange while connecting: the CONNECT's method and data reach the driver even
/// though anonymous clients are allowed; the driver's challenge goes out as AUTH Continue
/// authentication (0x18) with the same method; the client's answer comes back as
/// `Event::AuthenticationData`; a second challenge and answer; the driver accepts with
/// final data, which the CONNACK carries beside the same method, and the client is
/// connected.
/// conformance: v5:MQTT-4.12.0-2, v5:MQTT-4.12.0-5, v5:MQTT-3.1.4-5
#[test]
fn exchange_of_challenges_ends_in_a_connack_with_the_method_and_final_data() {
    let mut h = Harness::new(BrokerConfig::default());
    let conn = start(&mut h, auth_connect("dev1", Some(b"client-first")));
    let handle = h.handle(conn);

    for round in 1..=2u8 {
        let challenge = [b's', round];
        h.broker
            .continue_authentication(h.now, handle, with_data(&challenge))
            .unwrap();
        h.advance(0);
        assert_eq!(
            h.sent(conn),
            [broker_auth(
                AuthReasonCode::ContinueAuthentication,
                &challenge
            )]
        );
        assert_eq!(h.events(), []);
        let answer = [b'c', round];
        h.send(
            conn,
            auth(AuthReasonCode::ContinueAuthentication, METHOD, &answer),
        );
        assert_eq!(h.sent(conn), []);
        assert_eq!(
            authentication_data(&mut h, conn),
            auth(AuthReasonCode::ContinueAuthentication, METHOD, &answer)
        );
    }

    h.broker
        .accept_authentication(h.now, handle, with_data(b"server-final"))
        .unwrap();
    h.advance(0);
    let sent = h.sent(conn);
    let [Packet::ConnAck(connack)] = &sent[..] else {
        panic!("expected a CONNACK, got {sent:?}");
    };
    assert_eq!(connack.reason_code, ConnectReasonCode::Success);
    assert_eq!(
        connack.properties.authentication_method.as_deref(),
        Some(METHOD)
    );
    assert_eq!(
        connack.properties.authentication_data,
        Some(binary(b"server-final"))
    );
    assert!(matches!(
        &h.events()[..],
        [Event::Connected { client_id, .. }] if client_id.as_str() == "dev1"
    ));
    assert_eq!(h.broker.stats().sessions, 1);
    assert_eq!(h.closed(conn), None);
}

/// `accept_connect` on a CONNECT with an Authentication Method sends a CONNACK that carries
/// the same method, without data.
/// conformance: v5:MQTT-4.12.0-5
#[test]
fn accept_connect_puts_the_method_in_connack() {
    let mut h = Harness::new(BrokerConfig::default());
    let conn = start(&mut h, auth_connect("dev1", Some(b"token")));
    h.broker.accept_connect(h.now, h.handle(conn)).unwrap();
    h.advance(0);
    let sent = h.sent(conn);
    let [Packet::ConnAck(connack)] = &sent[..] else {
        panic!("expected a CONNACK, got {sent:?}");
    };
    assert_eq!(connack.reason_code, ConnectReasonCode::Success);
    assert_eq!(
        connack.properties.authentication_method.as_deref(),
        Some(METHOD)
    );
    assert_eq!(connack.properties.authentication_data, None);
}

/// The driver may refuse at any step of the exchange, after the client's answer or while
/// waiting for it: the CONNACK carries its code, the connection closes, nothing is
/// connected, and an answer that arrives afterwards is not read.
/// conformance: v5:MQTT-4.12.0-4, v5:MQTT-4.13.2-1
#[test]
fn refusal_after_a_challenge_sends_connack_and_closes() {
    for (code, answered) in [
        (ConnectReasonCode::NotAuthorized, true),
        (ConnectReasonCode::BadUserNameOrPassword, false),
    ] {
        let mut h = Harness::new(BrokerConfig::default());
        let conn = start(&mut h, auth_connect("dev1", None));
        let handle = h.handle(conn);
        h.broker
            .continue_authentication(h.now, handle, with_data(b"nonce"))
            .unwrap();
        h.advance(0);
        h.sent(conn);
        let answer = auth(AuthReasonCode::ContinueAuthentication, METHOD, b"wrong");
        if answered {
            h.send(conn, answer.clone());
            authentication_data(&mut h, conn);
        }
        h.broker.refuse_connect(h.now, handle, code).unwrap();
        h.advance(0);
        assert_eq!(h.sent(conn), [refusal(code)], "{code:?}");
        assert_eq!(h.closed(conn), Some(CloseReason::Refused));
        assert_eq!(h.broker.stats().sessions, 0);
        assert_eq!(h.broker.stats().connections, 0);
        h.send(conn, answer);
        assert!(
            h.events()
                .iter()
                .all(|event| matches!(event, Event::Close { .. })),
            "{code:?}"
        );
    }
}

/// The connect timeout keeps running during the exchange: a client that does not finish
/// in time is closed when it ends, with nothing sent, whoever had the turn.
/// conformance: v5:MQTT-3.1.4-2
#[test]
fn connect_timeout_ends_an_unfinished_exchange() {
    let mut h = Harness::new(BrokerConfig {
        connect_timeout: std::time::Duration::from_secs(5),
        ..BrokerConfig::default()
    });
    // The client's turn at the deadline.
    let silent = start(&mut h, auth_connect("silent", None));
    // The driver's turn at the deadline, after one round.
    let slow = start(&mut h, auth_connect("slow", None));
    h.advance(1_000);
    for conn in [silent, slow] {
        h.broker
            .continue_authentication(h.now, h.handle(conn), with_data(b"nonce"))
            .unwrap();
    }
    h.advance(3_000);
    h.send(
        slow,
        auth(AuthReasonCode::ContinueAuthentication, METHOD, b"answer"),
    );
    authentication_data(&mut h, slow);
    for conn in [silent, slow] {
        assert_eq!(h.sent(conn).len(), 1, "the challenge");
    }
    h.advance(999);
    assert_eq!(h.closed(silent), None);
    assert_eq!(h.closed(slow), None);
    h.advance(1);
    for conn in [silent, slow] {
        assert_eq!(h.closed(conn), Some(CloseReason::ConnectTimeout));
        assert_eq!(h.sent_bytes(conn), []);
    }
}

/// While connecting, an AUTH with another method, an AUTH Re-authenticate (0x19), an AUTH
/// the broker did not ask for (the driver's turn) and any packet but AUTH and DISCONNECT are
/// Protocol Errors: the client gets CONNACK 0x82 (never a DISCONNECT before a successful
/// CONNACK) and the connection closes.
/// conformance: v5:MQTT-4.12.0-5, v5:MQTT-3.14.0-1, v5:MQTT-4.13.1-1
#[test]
fn wrong_packets_during_the_connecting_exchange_get_connack_0x82() {
    let cases: Vec<(&str, bool, Packet)> = vec![
        (
            "another method",
            true,
            auth(AuthReasonCode::ContinueAuthentication, "PLAIN", b"x").into(),
        ),
        (
            "re-authenticate",
            true,
            auth(AuthReasonCode::ReAuthenticate, METHOD, b"x").into(),
        ),
        (
            "not asked",
            false,
            auth(AuthReasonCode::ContinueAuthentication, METHOD, b"x").into(),
        ),
        (
            "publish",
            true,
            publish("t", b"early", QoS::AtMostOnce, 0).into(),
        ),
        ("pingreq", false, mqtt_sansio::PingReq.into()),
        ("second connect", true, auth_connect("again", None).into()),
    ];
    for (name, asked, packet) in cases {
        let mut h = Harness::new(BrokerConfig::default());
        let conn = start(&mut h, auth_connect("dev1", None));
        if asked {
            h.broker
                .continue_authentication(h.now, h.handle(conn), with_data(b"nonce"))
                .unwrap();
            h.advance(0);
            h.sent(conn);
        }
        h.send(conn, packet);
        assert_eq!(
            h.sent(conn),
            [refusal(ConnectReasonCode::ProtocolError)],
            "{name}"
        );
        assert!(
            matches!(h.closed(conn), Some(CloseReason::ProtocolError(_))),
            "{name}: {:?}",
            h.closed(conn)
        );
        assert!(
            h.events()
                .iter()
                .all(|event| !matches!(event, Event::Connected { .. })),
            "{name}"
        );
        // The driver's late answer finds no exchange.
        assert!(
            h.broker.accept_connect(h.now, h.handle(conn)).is_err(),
            "{name}"
        );
    }
}

/// A client may give up during the exchange with DISCONNECT: the connection closes with
/// nothing sent and no session made.
/// conformance: v5:MQTT-3.14.4-3
#[test]
fn disconnect_during_the_exchange_closes_quietly() {
    let mut h = Harness::new(BrokerConfig::default());
    let conn = start(&mut h, auth_connect("dev1", None));
    h.broker
        .continue_authentication(h.now, h.handle(conn), with_data(b"nonce"))
        .unwrap();
    h.advance(0);
    h.sent(conn);
    h.send(
        conn,
        Disconnect::new(DisconnectReasonCode::NormalDisconnection),
    );
    assert_eq!(h.sent(conn), []);
    assert_eq!(h.closed(conn), Some(CloseReason::ClientDisconnected));
    assert_eq!(h.broker.stats().sessions, 0);
}

/// AUTH as the first packet is not a CONNECT: the connection closes with nothing sent.
/// conformance: v5:MQTT-3.1.0-1
#[test]
fn auth_before_connect_closes_without_a_reply() {
    let mut h = Harness::new(BrokerConfig::default());
    let conn = h.open(V5);
    h.send(
        conn,
        auth(AuthReasonCode::ContinueAuthentication, METHOD, b"x"),
    );
    assert_eq!(h.sent_bytes(conn), []);
    assert!(matches!(
        h.closed(conn),
        Some(CloseReason::ProtocolError(_))
    ));
}

/// 3.1.1 has no AUTH: packet type 15 from a 3.1.1 client is malformed and closes the
/// connection with nothing sent.
/// conformance: v311:MQTT-4.8.0-1
#[test]
fn auth_from_a_v311_client_is_malformed() {
    let mut h = Harness::new(BrokerConfig::default());
    let conn = h.connect(ProtocolVersion::V3_1_1, "old");
    let mut bytes = Vec::new();
    auth(AuthReasonCode::ReAuthenticate, METHOD, b"x")
        .encode(V5, &mut bytes)
        .unwrap();
    h.send_bytes(conn, &bytes);
    assert_eq!(h.sent_bytes(conn), []);
    assert!(matches!(
        h.closed(conn),
        Some(CloseReason::ProtocolError(_))
    ));
}

/// After CONNACK, an AUTH from a client whose CONNECT had no Authentication Method, an
/// AUTH with another method, an AUTH Continue authentication (0x18) the broker did not ask
/// for, and an AUTH Success (0x00, the server's code) are Protocol Errors: DISCONNECT 0x82,
/// then close.
/// conformance: v5:MQTT-4.12.0-5, v5:MQTT-4.13.1-1
#[test]
fn wrong_auth_after_connack_gets_disconnect_0x82() {
    let success_with_method = {
        let mut auth = Auth::new(AuthReasonCode::Success);
        auth.properties.authentication_method = Some(text(METHOD));
        auth
    };
    let cases: Vec<(&str, bool, Auth)> = vec![
        (
            "no method in CONNECT",
            false,
            auth(AuthReasonCode::ReAuthenticate, METHOD, b"x"),
        ),
        (
            "another method",
            true,
            auth(AuthReasonCode::ReAuthenticate, "PLAIN", b"x"),
        ),
        (
            "continue not asked",
            true,
            auth(AuthReasonCode::ContinueAuthentication, METHOD, b"x"),
        ),
        ("success", true, success_with_method),
        ("short success", true, Auth::new(AuthReasonCode::Success)),
    ];
    for (name, with_method, packet) in cases {
        let mut h = Harness::new(BrokerConfig::default());
        let conn = if with_method {
            connected(&mut h, auth_connect("dev1", None))
        } else {
            let conn = h.connect(V5, "dev1");
            h.events();
            conn
        };
        h.send(conn, packet);
        assert_eq!(
            h.sent(conn),
            [disconnect(DisconnectReasonCode::ProtocolError)],
            "{name}"
        );
        assert_eq!(
            h.closed(conn),
            Some(CloseReason::ProtocolError(
                DisconnectReasonCode::ProtocolError
            )),
            "{name}"
        );
        assert!(
            h.events()
                .iter()
                .all(|event| matches!(event, Event::Close { .. })),
            "{name}"
        );
    }
}

/// Re-authentication: AUTH Re-authenticate (0x19) from a connected client that used a method
/// reaches the driver; while the exchange runs the client's messages keep flowing both ways;
/// the driver's challenge goes out as AUTH 0x18 and the client's answer comes back; the
/// driver's success is AUTH Success (0x00) with the same method and final data. The client
/// may re-authenticate again afterwards.
/// conformance: v5:MQTT-4.12.0-2, v5:MQTT-4.12.0-5
#[test]
fn reauthentication_succeeds_while_messages_keep_flowing() {
    let mut h = Harness::new(BrokerConfig::default());
    let conn = connected(&mut h, auth_connect("dev1", Some(b"first")));
    let handle = h.handle(conn);
    h.subscribe(conn, "t", QoS::AtLeastOnce);

    h.send(conn, auth(AuthReasonCode::ReAuthenticate, METHOD, b"again"));
    assert_eq!(
        reauthenticate(&mut h, conn),
        auth(AuthReasonCode::ReAuthenticate, METHOD, b"again")
    );
    assert_eq!(h.sent(conn), []);

    // Messages during the driver's turn.
    h.send(conn, publish("t", b"during", QoS::AtLeastOnce, 1));
    let sent = h.sent(conn);
    assert!(
        sent.contains(&Packet::PubAck(PubAck::new(common::broker::pid(1)))),
        "{sent:?}"
    );
    assert!(
        sent.iter()
            .any(|packet| matches!(packet, Packet::Publish(p) if p.payload == b"during"[..])),
        "{sent:?}"
    );

    h.broker
        .continue_authentication(h.now, handle, with_data(b"challenge"))
        .unwrap();
    h.advance(0);
    assert_eq!(
        h.sent(conn),
        [broker_auth(
            AuthReasonCode::ContinueAuthentication,
            b"challenge"
        )]
    );

    // Messages during the client's turn.
    h.send(conn, publish("t", b"still", QoS::AtMostOnce, 0));
    assert_eq!(h.sent(conn).len(), 1, "the delivery");

    h.send(
        conn,
        auth(AuthReasonCode::ContinueAuthentication, METHOD, b"answer"),
    );
    assert_eq!(
        authentication_data(&mut h, conn),
        auth(AuthReasonCode::ContinueAuthentication, METHOD, b"answer")
    );
    h.broker
        .accept_authentication(h.now, handle, with_data(b"done"))
        .unwrap();
    h.advance(0);
    assert_eq!(
        h.sent(conn),
        [broker_auth(AuthReasonCode::Success, b"done")]
    );
    assert_eq!(h.closed(conn), None);

    // Once more, accepted at once.
    h.send(conn, auth(AuthReasonCode::ReAuthenticate, METHOD, b"third"));
    reauthenticate(&mut h, conn);
    h.broker
        .accept_authentication(h.now, handle, AuthProperties::new())
        .unwrap();
    h.advance(0);
    let mut success = Auth::new(AuthReasonCode::Success);
    success.properties.authentication_method = Some(text(METHOD));
    assert_eq!(h.sent(conn), [Packet::Auth(success)]);
}

/// A failed re-authentication: the driver's refusal, here while the client has the turn
/// after a challenge, sends DISCONNECT with its code (Not authorized) and closes the
/// connection; the Will is published, as for any end the client did not ask for.
/// conformance: v5:MQTT-4.12.1-2, v5:MQTT-4.13.2-1
#[test]
fn failed_reauthentication_disconnects_with_the_code_and_closes() {
    let mut h = Harness::new(BrokerConfig::default());
    let watcher = h.connect(V5, "watcher");
    h.subscribe(watcher, "wills", QoS::AtMostOnce);
    h.events();
    let mut connect = auth_connect("dev1", None);
    connect.will = Some(Will::new(
        topic("wills"),
        BinaryData::new(Bytes::from_static(b"gone")).unwrap(),
    ));
    let conn = connected(&mut h, connect);
    let handle = h.handle(conn);
    h.send(conn, auth(AuthReasonCode::ReAuthenticate, METHOD, b"stale"));
    reauthenticate(&mut h, conn);
    h.broker
        .continue_authentication(h.now, handle, with_data(b"nonce"))
        .unwrap();
    h.broker
        .refuse_reauthentication(h.now, handle, DisconnectReasonCode::NotAuthorized)
        .unwrap();
    h.advance(0);
    assert_eq!(
        h.sent(conn),
        [
            broker_auth(AuthReasonCode::ContinueAuthentication, b"nonce"),
            disconnect(DisconnectReasonCode::NotAuthorized)
        ]
    );
    assert_eq!(
        h.closed(conn),
        Some(CloseReason::ReauthenticationRefused(
            DisconnectReasonCode::NotAuthorized
        ))
    );
    let wills = h.sent(watcher);
    assert!(
        matches!(&wills[..], [Packet::Publish(p)] if p.payload == b"gone"[..]),
        "{wills:?}"
    );
}

/// A second AUTH Re-authenticate while one is under way is a Protocol Error.
/// conformance: v5:MQTT-4.13.1-1
#[test]
fn reauthenticate_during_a_reauthentication_is_a_protocol_error() {
    let mut h = Harness::new(BrokerConfig::default());
    let conn = connected(&mut h, auth_connect("dev1", None));
    h.send(conn, auth(AuthReasonCode::ReAuthenticate, METHOD, b"one"));
    reauthenticate(&mut h, conn);
    h.send(conn, auth(AuthReasonCode::ReAuthenticate, METHOD, b"two"));
    assert_eq!(
        h.sent(conn),
        [disconnect(DisconnectReasonCode::ProtocolError)]
    );
    // The driver's answer to the first finds the connection gone.
    assert_eq!(
        h.broker
            .accept_authentication(h.now, h.handle(conn), AuthProperties::new()),
        Err(UsageError::NotConnected)
    );
}

/// The authentication commands are refused out of turn, with nothing sent: on a CONNECT
/// without method, on a connected client with no exchange, while the client has the turn,
/// `refuse_reauthentication` while connecting, `refuse_connect` during a re-authentication,
/// and on a closed connection. (A refusal is allowed at any step of its exchange, the
/// client's turn included: see the refusal tests.)
#[test]
fn commands_out_of_turn_are_usage_errors() {
    let mut h = Harness::new(BrokerConfig {
        allow_anonymous: false,
        ..BrokerConfig::default()
    });
    let none = AuthProperties::new;
    let no_auth = Err(UsageError::NoAuthentication);

    // A CONNECT without method waiting for its verdict.
    let plain = h.open(V5);
    h.send(plain, connect_packet(V5, "plain"));
    h.events();
    let handle = h.handle(plain);
    assert_eq!(
        h.broker.continue_authentication(h.now, handle, none()),
        no_auth
    );
    assert_eq!(
        h.broker.accept_authentication(h.now, handle, none()),
        no_auth
    );

    // The client's turn while connecting.
    let waiting = start(&mut h, auth_connect("waiting", None));
    let handle = h.handle(waiting);
    h.broker
        .continue_authentication(h.now, handle, with_data(b"nonce"))
        .unwrap();
    assert_eq!(
        h.broker.continue_authentication(h.now, handle, none()),
        no_auth
    );
    assert_eq!(
        h.broker.accept_authentication(h.now, handle, none()),
        no_auth
    );
    assert_eq!(h.broker.accept_connect(h.now, handle), no_auth);
    assert_eq!(
        h.broker
            .refuse_reauthentication(h.now, handle, DisconnectReasonCode::NotAuthorized),
        no_auth
    );
    h.advance(0);
    assert_eq!(h.sent(waiting).len(), 1, "the one challenge");
    assert_eq!(h.closed(waiting), None);

    // Connected, no exchange; then a re-authentication waiting for the driver.
    let conn = start(&mut h, auth_connect("dev1", None));
    let handle = h.handle(conn);
    h.broker.accept_connect(h.now, handle).unwrap();
    h.advance(0);
    h.sent(conn);
    assert_eq!(
        h.broker.continue_authentication(h.now, handle, none()),
        no_auth
    );
    assert_eq!(
        h.broker
            .refuse_reauthentication(h.now, handle, DisconnectReasonCode::NotAuthorized),
        no_auth
    );
    h.send(conn, auth(AuthReasonCode::ReAuthenticate, METHOD, b"x"));
    h.events();
    assert_eq!(h.broker.accept_connect(h.now, handle), no_auth);
    assert_eq!(
        h.broker
            .refuse_connect(h.now, handle, ConnectReasonCode::NotAuthorized),
        no_auth
    );
    assert_eq!(h.sent(conn), []);

    // A closed connection.
    h.drop_socket(conn);
    assert_eq!(
        h.broker.continue_authentication(h.now, handle, none()),
        Err(UsageError::NotConnected)
    );
}

/// AUTH properties the driver adds to fit the client's Maximum Packet Size: the Reason
/// String is left out first, then the User Properties, and the AUTH never exceeds the
/// limit; if the method and data alone exceed it, the command fails and nothing is sent,
/// and the driver can still refuse. A 5.0 client that asked for no problem information gets
/// neither on AUTH, however large its limit.
/// conformance: v5:MQTT-3.15.2-2, v5:MQTT-3.15.2-3, v5:MQTT-3.1.2-24, v5:MQTT-3.1.2-29
#[test]
fn auth_properties_are_cut_to_the_client_limits() {
    let mut extras = with_data(b"nonce");
    extras.reason_string = Some(text("a long reason string that does not fit"));
    extras
        .user_properties
        .push(UserProperty::new(text("k"), text("v")));
    // Method and data alone: 2 + 1 + 1 + 16 + 8 bytes.
    let bare = {
        let mut auth = Auth::new(AuthReasonCode::ContinueAuthentication);
        auth.properties = with_data(b"nonce");
        auth.properties.authentication_method = Some(text(METHOD));
        auth.encoded_len(V5).unwrap()
    };
    let with_user = bare + 7;
    // (limit, expect reason string, expect user property)
    let cases = [
        (10_000, true, true),
        (with_user + 3, false, true),
        (with_user, false, true),
        (with_user - 1, false, false),
        (bare, false, false),
    ];
    for (limit, reason, user) in cases {
        let mut h = Harness::new(BrokerConfig::default());
        let mut connect = auth_connect("dev1", None);
        connect.properties.maximum_packet_size = NonZeroU32::new(limit as u32);
        let conn = start(&mut h, connect);
        h.broker
            .continue_authentication(h.now, h.handle(conn), extras.clone())
            .unwrap();
        h.advance(0);
        let sent = h.sent(conn);
        let [Packet::Auth(auth)] = &sent[..] else {
            panic!("{limit}: expected an AUTH, got {sent:?}");
        };
        assert!(auth.encoded_len(V5).unwrap() <= limit, "{limit}: {auth:?}");
        assert_eq!(auth.properties.reason_string.is_some(), reason, "{limit}");
        assert_eq!(!auth.properties.user_properties.is_empty(), user, "{limit}");
        assert_eq!(
            auth.properties.authentication_data,
            Some(binary(b"nonce")),
            "{limit}"
        );
    }

    // Method and data alone too large.
    let mut h = Harness::new(BrokerConfig::default());
    let mut connect = auth_connect("dev1", None);
    connect.properties.maximum_packet_size = NonZeroU32::new(bare as u32 - 1);
    let conn = start(&mut h, connect);
    let handle = h.handle(conn);
    assert!(matches!(
        h.broker
            .continue_authentication(h.now, handle, extras.clone()),
        Err(UsageError::PacketTooLarge { size, .. }) if size == bare
    ));
    h.advance(0);
    assert_eq!(h.sent(conn), []);
    h.broker
        .refuse_connect(
            h.now,
            handle,
            ConnectReasonCode::ImplementationSpecificError,
        )
        .unwrap();
    h.advance(0);
    assert_eq!(
        h.sent(conn),
        [refusal(ConnectReasonCode::ImplementationSpecificError)]
    );

    // Request Problem Information 0: neither, on a challenge or a re-authentication's
    // success.
    let mut h = Harness::new(BrokerConfig::default());
    let mut connect = auth_connect("dev1", None);
    connect.properties.request_problem_information = Some(false);
    let conn = start(&mut h, connect);
    let handle = h.handle(conn);
    h.broker
        .continue_authentication(h.now, handle, extras.clone())
        .unwrap();
    h.advance(0);
    assert_eq!(
        h.sent(conn),
        [broker_auth(
            AuthReasonCode::ContinueAuthentication,
            b"nonce"
        )]
    );
    h.send(
        conn,
        auth(AuthReasonCode::ContinueAuthentication, METHOD, b"answer"),
    );
    h.events();
    h.broker
        .accept_authentication(h.now, handle, AuthProperties::new())
        .unwrap();
    h.advance(0);
    h.sent(conn);
    h.events();
    h.send(conn, auth(AuthReasonCode::ReAuthenticate, METHOD, b"again"));
    h.events();
    h.broker
        .accept_authentication(h.now, handle, extras.clone())
        .unwrap();
    h.advance(0);
    assert_eq!(
        h.sent(conn),
        [broker_auth(AuthReasonCode::Success, b"nonce")]
    );
}

/// The CONNACK that ends an exchange with the driver's Reason String and User Properties
/// fits the client's Maximum Packet Size: the Reason String goes first, then the User
/// Properties; the method and data stay.
/// conformance: v5:MQTT-3.2.2-19, v5:MQTT-3.2.2-20, v5:MQTT-4.12.0-5
#[test]
fn final_connack_properties_are_cut_to_the_client_maximum() {
    let mut extras = with_data(b"final");
    extras.reason_string = Some(text("welcome back, this is a long reason"));
    extras
        .user_properties
        .push(UserProperty::new(text("k"), text("v")));
    let connack_len = |limit: u32| {
        let mut h = Harness::new(BrokerConfig::default());
        let mut connect = auth_connect("dev1", None);
        connect.properties.maximum_packet_size = NonZeroU32::new(limit);
        let conn = start(&mut h, connect);
        h.broker
            .accept_authentication(h.now, h.handle(conn), extras.clone())
            .unwrap();
        h.advance(0);
        let sent = h.sent(conn);
        let [Packet::ConnAck(connack)] = &sent[..] else {
            panic!("{limit}: expected a CONNACK, got {sent:?}");
        };
        assert_eq!(connack.reason_code, ConnectReasonCode::Success);
        assert_eq!(
            connack.properties.authentication_method.as_deref(),
            Some(METHOD)
        );
        assert_eq!(
            connack.properties.authentication_data,
            Some(binary(b"final"))
        );
        let len = connack.encoded_len(V5).unwrap();
        assert!(len <= limit as usize, "{limit}: {len}");
        (
            len,
            connack.properties.reason_string.is_some(),
            !connack.properties.user_properties.is_empty(),
        )
    };
    let (full, reason, user) = connack_len(10_000);
    assert!(reason && user);
    let (_, reason, user) = connack_len(full as u32 - 1);
    assert!(!reason && user);
    let (_, reason, user) = connack_len(full as u32 - 40);
    assert!(!reason && !user);
}

/// The crate's own `Client` completes an enhanced authentication with the broker (one
/// challenge, then a CONNACK with final data) and then a re-authentication (one challenge,
/// then AUTH Success), reporting `AuthChallenge`, `Connected` and `Reauthenticated`.
/// conformance: v5:MQTT-4.12.0-2, v5:MQTT-4.12.0-5
#[test]
fn crate_client_completes_enhanced_authentication_and_reauthentication() {
    let mut net = Network::new(BrokerConfig::default());
    let peer = net.add(ClientConfig::default());
    let options = ConnectOptions::new(V5, "dev1")
        .unwrap()
        .authentication(METHOD, Some(b"client-first"))
        .unwrap();
    let events = net.connect(peer, options);
    assert_eq!(events, []);
    let connection = net.peers[peer].connection.unwrap();
    let asked = std::mem::take(&mut net.broker_events);
    assert!(
        matches!(&asked[..], [Event::Authenticate { connect, .. }]
            if connect.properties.authentication_data == Some(binary(b"client-first"))),
        "{asked:?}"
    );

    net.broker
        .continue_authentication(net.now, connection, with_data(b"server-first"))
        .unwrap();
    net.pump();
    let events = net.take_events(peer);
    let [mqtt_sansio::Event::AuthChallenge(challenge)] = &events[..] else {
        panic!("expected AuthChallenge, got {events:?}");
    };
    assert_eq!(
        challenge.properties.authentication_data,
        Some(binary(b"server-first"))
    );
    net.peers[peer]
        .client
        .authenticate(net.now, Some(Bytes::from_static(b"client-final")))
        .unwrap();
    net.pump();
    let answered = std::mem::take(&mut net.broker_events);
    assert!(
        matches!(&answered[..], [Event::AuthenticationData { auth, .. }]
            if auth.properties.authentication_data == Some(binary(b"client-final"))),
        "{answered:?}"
    );
    net.broker
        .accept_authentication(net.now, connection, with_data(b"server-final"))
        .unwrap();
    net.pump();
    let events = net.take_events(peer);
    let [mqtt_sansio::Event::Connected(connected)] = &events[..] else {
        panic!("expected Connected, got {events:?}");
    };
    assert_eq!(
        connected.connack.properties.authentication_data,
        Some(binary(b"server-final"))
    );

    net.peers[peer]
        .client
        .reauthenticate(net.now, Some(Bytes::from_static(b"again")))
        .unwrap();
    net.pump();
    let asked = std::mem::take(&mut net.broker_events);
    assert!(
        matches!(&asked[..], [Event::Connected { .. }, Event::Reauthenticate { auth, .. }]
            if auth.properties.authentication_data == Some(binary(b"again"))),
        "{asked:?}"
    );
    net.broker
        .continue_authentication(net.now, connection, with_data(b"prove it"))
        .unwrap();
    net.pump();
    assert!(matches!(
        &net.take_events(peer)[..],
        [mqtt_sansio::Event::AuthChallenge(_)]
    ));
    net.peers[peer]
        .client
        .authenticate(net.now, Some(Bytes::from_static(b"proof")))
        .unwrap();
    net.pump();
    assert!(matches!(
        &std::mem::take(&mut net.broker_events)[..],
        [Event::AuthenticationData { .. }]
    ));
    net.broker
        .accept_authentication(net.now, connection, with_data(b"ok"))
        .unwrap();
    net.pump();
    let events = net.take_events(peer);
    let [mqtt_sansio::Event::Reauthenticated(auth)] = &events[..] else {
        panic!("expected Reauthenticated, got {events:?}");
    };
    assert_eq!(auth.properties.authentication_data, Some(binary(b"ok")));
    assert_eq!(net.peers[peer].connection, Some(connection));
}

/// The crate's own `Client` hears a failed re-authentication and a refused enhanced
/// CONNECT: `Disconnected` with the broker's code, the connection closed on both sides.
/// conformance: v5:MQTT-4.12.1-2, v5:MQTT-4.12.0-4
#[test]
fn crate_client_hears_refused_authentication() {
    use mqtt_sansio::DisconnectReason;

    let mut net = Network::new(BrokerConfig::default());
    let peer = net.add(ClientConfig::default());
    let options = ConnectOptions::new(V5, "dev1")
        .unwrap()
        .authentication(METHOD, None)
        .unwrap();
    net.connect(peer, options.clone());
    let connection = net.peers[peer].connection.unwrap();
    net.broker.accept_connect(net.now, connection).unwrap();
    net.pump();
    assert!(matches!(
        &net.take_events(peer)[..],
        [mqtt_sansio::Event::Connected(_)]
    ));
    net.peers[peer]
        .client
        .reauthenticate(net.now, Some(Bytes::from_static(b"stale")))
        .unwrap();
    net.pump();
    net.broker
        .refuse_reauthentication(net.now, connection, DisconnectReasonCode::NotAuthorized)
        .unwrap();
    net.pump();
    let events = net.take_events(peer);
    assert!(
        matches!(&events[..], [mqtt_sansio::Event::Disconnected(d)]
            if d.reason == DisconnectReason::ByServer(DisconnectReasonCode::NotAuthorized)),
        "{events:?}"
    );
    assert_eq!(net.peers[peer].connection, None);
    assert_eq!(net.broker.stats().connections, 0);

    net.connect(peer, options);
    let connection = net.peers[peer].connection.unwrap();
    net.broker
        .continue_authentication(net.now, connection, with_data(b"nonce"))
        .unwrap();
    net.pump();
    net.take_events(peer);
    net.broker
        .refuse_connect(net.now, connection, ConnectReasonCode::NotAuthorized)
        .unwrap();
    net.pump();
    let events = net.take_events(peer);
    assert!(
        matches!(&events[..], [mqtt_sansio::Event::Disconnected(d)]
            if d.reason == DisconnectReason::Refused(ConnectReasonCode::NotAuthorized)),
        "{events:?}"
    );
    assert_eq!(net.broker.stats().connections, 0);
}
