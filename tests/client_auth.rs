//! MQTT 5.0 enhanced authentication: the AUTH exchange before CONNACK, re-authentication on
//! an open connection, and what the client does when the server breaks the exchange.
#![cfg(feature = "v5")]

mod common;

use bytes::Bytes;
use common::client::{Harness, connack_with, message, only_disconnected, text};
use mqtt_sansio::{
    Auth, AuthReasonCode, BinaryData, ClientConfig, ConnAck, ConnAckProperties, ConnectOptions,
    ConnectReasonCode, Disconnect, DisconnectReason, DisconnectReasonCode, Event, Packet,
    PeerError, ProtocolError, ProtocolVersion, QoS, State, UsageError,
};

const V5: ProtocolVersion = ProtocolVersion::V5;
const METHOD: &str = "SCRAM-SHA-256";

/// An AUTH with this reason code, Authentication Method and Authentication Data.
fn auth(code: AuthReasonCode, method: &str, data: Option<&'static [u8]>) -> Auth {
    let mut auth = Auth::new(code);
    auth.properties.authentication_method = Some(text(method));
    auth.properties.authentication_data =
        data.map(|data| BinaryData::new(Bytes::from_static(data)).unwrap());
    auth
}

/// Options for a 5.0 connection with enhanced authentication.
fn with_auth() -> ConnectOptions {
    ConnectOptions::new(V5, "c")
        .unwrap()
        .keep_alive(1)
        .authentication(METHOD, Some(b"client-first".as_slice()))
        .unwrap()
}

/// The successful CONNACK that ends an exchange: it names the CONNECT's method.
fn auth_connack() -> ConnAck {
    connack_with(ConnAckProperties {
        authentication_method: Some(text(METHOD)),
        ..ConnAckProperties::default()
    })
}

/// A client connected with enhanced authentication.
fn authenticated() -> Harness {
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(with_auth(), auth_connack());
    h
}

/// The server's 5.0 reaction to a broken exchange, seen from the wire and the events: one
/// DISCONNECT Protocol Error, one `Event::Disconnected` with `error`, nothing after.
#[track_caller]
fn assert_protocol_error(h: &mut Harness, error: ProtocolError) {
    let disconnected = only_disconnected(h.events());
    assert_eq!(
        disconnected.reason,
        DisconnectReason::ProtocolError(PeerError::Protocol(error))
    );
    assert_eq!(
        h.sent(),
        [Packet::Disconnect(Disconnect::new(
            DisconnectReasonCode::ProtocolError
        ))]
    );
    assert_eq!(h.client.state(), State::Disconnected);
    assert_eq!(h.sent_bytes(), b"");
}

/// The CONNECT carries the Authentication Method and initial data; each AUTH Continue
/// authentication (0x18) from the server is an `Event::AuthChallenge`, and `authenticate`
/// answers it with AUTH 0x18 carrying the same method and the given data; the CONNACK that
/// names the method completes the connection.
/// conformance: v5:MQTT-4.12.0-3, v5:MQTT-4.12.0-5
#[test]
fn challenge_and_answer_complete_the_connection() {
    let mut h = Harness::new(ClientConfig::default());
    let Packet::Connect(connect) = h.connect(with_auth()) else {
        panic!("no CONNECT")
    };
    assert_eq!(connect.properties.authentication_method, Some(text(METHOD)));
    assert_eq!(
        connect.properties.authentication_data,
        Some(BinaryData::new(Bytes::from_static(b"client-first")).unwrap())
    );
    for (challenge, answer) in [
        (&b"server-first"[..], &b"client-final"[..]),
        (b"server-final", b""),
    ] {
        let from_server = auth(
            AuthReasonCode::ContinueAuthentication,
            METHOD,
            Some(challenge),
        );
        h.receive(from_server.clone());
        assert_eq!(h.events(), [Event::AuthChallenge(from_server)]);
        assert_eq!(h.sent(), []);
        h.client
            .authenticate(h.now, Some(Bytes::from_static(answer)))
            .unwrap();
        assert_eq!(
            h.sent(),
            [Packet::Auth(auth(
                AuthReasonCode::ContinueAuthentication,
                METHOD,
                Some(answer)
            ))]
        );
    }
    h.receive(auth_connack());
    assert!(matches!(&h.events()[..], [Event::Connected(_)]));
    assert!(h.client.is_connected());
    // No exchange is under way now.
    assert_eq!(
        h.client.authenticate(h.now, None),
        Err(UsageError::NoAuthentication)
    );
    assert_eq!(h.sent(), []);
}

/// Until the CONNACK, a client that set an Authentication Method sends AUTH and DISCONNECT
/// only: messages published meanwhile, and PINGREQs, wait; AUTH answers go out at once.
/// conformance: v5:MQTT-3.1.2-30
#[test]
fn only_auth_or_disconnect_before_connack() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect(with_auth());
    h.client
        .publish(h.now, message("t", b"0", QoS::AtMostOnce))
        .unwrap();
    let qos1 = h
        .client
        .publish(h.now, message("t", b"1", QoS::AtLeastOnce))
        .unwrap()
        .unwrap();
    h.advance(3_000);
    assert_eq!(h.sent(), []);
    h.receive(auth(
        AuthReasonCode::ContinueAuthentication,
        METHOD,
        Some(b"c"),
    ));
    h.events();
    h.client.authenticate(h.now, None).unwrap();
    let sent = h.sent();
    assert!(matches!(&sent[..], [Packet::Auth(_)]), "{sent:?}");
    h.receive(auth_connack());
    assert!(matches!(&h.events()[..], [Event::Connected(_)]));
    let sent = h.sent();
    assert!(
        matches!(&sent[..], [Packet::Publish(a), Packet::Publish(b)]
            if a.qos() == QoS::AtMostOnce && b.packet_id() == Some(qos1)),
        "{sent:?}"
    );

    // A DISCONNECT may end the exchange.
    let mut h = Harness::new(ClientConfig::default());
    h.connect(with_auth());
    h.client
        .publish(h.now, message("t", b"0", QoS::AtMostOnce))
        .unwrap();
    h.client
        .disconnect(
            h.now,
            Disconnect::new(DisconnectReasonCode::NormalDisconnection),
        )
        .unwrap();
    assert_eq!(
        h.sent(),
        [Packet::Disconnect(Disconnect::new(
            DisconnectReasonCode::NormalDisconnection
        ))]
    );
}

/// An AUTH, or a successful CONNACK, naming another Authentication Method than the CONNECT (or
/// none) breaks the exchange: DISCONNECT Protocol Error and close.
/// conformance: v5:MQTT-4.12.0-5, v5:MQTT-4.13.2-1
#[test]
fn another_method_is_a_protocol_error() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect(with_auth());
    h.receive(auth(
        AuthReasonCode::ContinueAuthentication,
        "PLAIN",
        Some(b"x"),
    ));
    assert_protocol_error(&mut h, ProtocolError::AuthMethodMismatch);

    for method in [Some("PLAIN"), None] {
        let mut h = Harness::new(ClientConfig::default());
        h.connect(with_auth());
        h.receive(connack_with(ConnAckProperties {
            authentication_method: method.map(text),
            ..ConnAckProperties::default()
        }));
        assert_protocol_error(&mut h, ProtocolError::AuthMethodMismatch);
    }

    let mut h = authenticated();
    h.client.reauthenticate(h.now, None).unwrap();
    h.sent();
    h.receive(auth(AuthReasonCode::Success, "PLAIN", None));
    assert_protocol_error(&mut h, ProtocolError::AuthMethodMismatch);
}

/// An AUTH the exchange has no place for is a Protocol Error: Success (0x00) or Re-authenticate
/// (0x19) before the CONNACK, and any AUTH on an open connection where no re-authentication is
/// under way.
/// conformance: v5:MQTT-4.13.2-1
#[test]
fn auth_out_of_place_is_a_protocol_error() {
    for code in [AuthReasonCode::Success, AuthReasonCode::ReAuthenticate] {
        let mut h = Harness::new(ClientConfig::default());
        h.connect(with_auth());
        h.receive(auth(code, METHOD, None));
        assert_protocol_error(
            &mut h,
            ProtocolError::Unexpected(mqtt_sansio::PacketType::Auth),
        );
    }
    for code in [
        AuthReasonCode::Success,
        AuthReasonCode::ContinueAuthentication,
        AuthReasonCode::ReAuthenticate,
    ] {
        let mut h = authenticated();
        h.receive(auth(code, METHOD, None));
        assert_protocol_error(
            &mut h,
            ProtocolError::Unexpected(mqtt_sansio::PacketType::Auth),
        );
    }
}

/// Without an Authentication Method in the CONNECT the client never sends AUTH: `authenticate`
/// and `reauthenticate` are refused before and after the CONNACK, and write nothing. An AUTH
/// from the server on such a connection is a Protocol Error.
/// conformance: v5:MQTT-4.12.0-7
#[test]
fn no_auth_without_a_method() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect(ConnectOptions::new(V5, "c").unwrap());
    assert_eq!(
        h.client.authenticate(h.now, Some(Bytes::from_static(b"x"))),
        Err(UsageError::NoAuthentication)
    );
    assert_eq!(
        h.client.reauthenticate(h.now, None),
        Err(UsageError::NotConnected)
    );
    assert_eq!(h.sent(), []);
    h.receive(ConnAck::new(false, ConnectReasonCode::Success));
    h.events();
    assert_eq!(
        h.client.authenticate(h.now, None),
        Err(UsageError::NoAuthentication)
    );
    assert_eq!(
        h.client.reauthenticate(h.now, None),
        Err(UsageError::NoAuthentication)
    );
    assert_eq!(h.sent(), []);
    assert!(h.client.is_connected());

    h.receive(auth(AuthReasonCode::ContinueAuthentication, METHOD, None));
    assert_protocol_error(
        &mut h,
        ProtocolError::Unexpected(mqtt_sansio::PacketType::Auth),
    );
}

/// 3.1 and 3.1.1 have no AUTH: both commands are refused and nothing is written.
#[test]
fn no_auth_in_v3() {
    for version in [ProtocolVersion::V3_1, ProtocolVersion::V3_1_1] {
        let mut h = Harness::connected(ClientConfig::default(), version);
        assert_eq!(
            h.client.authenticate(h.now, None),
            Err(UsageError::NoAuthentication)
        );
        assert!(matches!(
            h.client.reauthenticate(h.now, None),
            Err(UsageError::NotInVersion { .. })
        ));
        assert_eq!(h.sent_bytes(), b"");
    }
}

/// Re-authentication sends AUTH Re-authenticate (0x19) with the CONNECT's Authentication
/// Method; challenges are answered with 0x18 and the same method; other packets keep flowing
/// meanwhile; the server's AUTH Success ends it with `Event::Reauthenticated`, after which a
/// new one may start. A second one while one is under way is refused.
/// conformance: v5:MQTT-4.12.1-1, v5:MQTT-4.12.0-3, v5:MQTT-4.12.0-5
#[test]
fn reauthentication_uses_the_same_method() {
    let mut h = authenticated();
    h.client
        .reauthenticate(h.now, Some(Bytes::from_static(b"again")))
        .unwrap();
    assert_eq!(
        h.sent(),
        [Packet::Auth(auth(
            AuthReasonCode::ReAuthenticate,
            METHOD,
            Some(b"again")
        ))]
    );
    assert_eq!(
        h.client.reauthenticate(h.now, None),
        Err(UsageError::NoAuthentication)
    );
    assert_eq!(h.sent(), []);

    let challenge = auth(
        AuthReasonCode::ContinueAuthentication,
        METHOD,
        Some(b"nonce"),
    );
    h.receive(challenge.clone());
    assert_eq!(h.events(), [Event::AuthChallenge(challenge)]);
    h.client
        .publish(h.now, message("t", b"during", QoS::AtMostOnce))
        .unwrap();
    h.client
        .authenticate(h.now, Some(Bytes::from_static(b"proof")))
        .unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(matches!(&sent[0], Packet::Publish(p) if p.payload == "during"));
    assert_eq!(
        sent[1],
        Packet::Auth(auth(
            AuthReasonCode::ContinueAuthentication,
            METHOD,
            Some(b"proof")
        ))
    );

    let success = auth(AuthReasonCode::Success, METHOD, Some(b"verifier"));
    h.receive(success.clone());
    assert_eq!(h.events(), [Event::Reauthenticated(success)]);
    assert!(h.client.is_connected());
    assert_eq!(
        h.client.authenticate(h.now, None),
        Err(UsageError::NoAuthentication)
    );
    h.client.reauthenticate(h.now, None).unwrap();
    assert_eq!(
        h.sent(),
        [Packet::Auth(auth(
            AuthReasonCode::ReAuthenticate,
            METHOD,
            None
        ))]
    );
}

/// Re-authentication is for an open connection only.
#[test]
fn reauthentication_needs_an_open_connection() {
    let mut h = Harness::new(ClientConfig::default());
    assert_eq!(
        h.client.reauthenticate(h.now, None),
        Err(UsageError::NotConnected)
    );
    h.connect(with_auth());
    assert_eq!(
        h.client.reauthenticate(h.now, None),
        Err(UsageError::NotConnected)
    );
    assert_eq!(h.sent(), []);
}

/// A failed re-authentication: the server's DISCONNECT ends the connection with one
/// `Event::Disconnected` carrying its reason code and Reason String; nothing is written after,
/// and the exchange cannot be continued.
/// conformance: v5:MQTT-4.12.1-2, v5:MQTT-4.13.2-1
#[test]
fn failed_reauthentication_ends_the_connection() {
    for code in [
        DisconnectReasonCode::NotAuthorized,
        DisconnectReasonCode::ProtocolError,
        DisconnectReasonCode::UnspecifiedError,
    ] {
        let mut h = authenticated();
        h.client.reauthenticate(h.now, None).unwrap();
        h.sent();
        let mut refusal = Disconnect::new(code);
        refusal.properties.reason_string = Some(text("credentials expired"));
        h.receive(refusal);
        let disconnected = only_disconnected(h.events());
        assert_eq!(disconnected.reason, DisconnectReason::ByServer(code));
        assert_eq!(
            disconnected.reason_string.as_ref().map(|s| s.as_str()),
            Some("credentials expired")
        );
        assert_eq!(h.sent_bytes(), b"");
        assert_eq!(h.client.state(), State::Disconnected);
        assert_eq!(
            h.client.authenticate(h.now, None),
            Err(UsageError::NoAuthentication)
        );
        h.receive(auth(AuthReasonCode::Success, METHOD, None));
        assert_eq!(h.events(), []);
        assert_eq!(h.sent_bytes(), b"");
    }
}

/// A server that refuses the authentication with its CONNACK ends the connection as any
/// refusal does.
/// conformance: v5:MQTT-4.13.2-1
#[test]
fn refused_authentication_ends_the_connection() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect(with_auth());
    h.receive(auth(
        AuthReasonCode::ContinueAuthentication,
        METHOD,
        Some(b"c"),
    ));
    h.events();
    h.client
        .authenticate(h.now, Some(Bytes::from_static(b"wrong")))
        .unwrap();
    h.sent();
    h.receive(ConnAck::new(
        false,
        ConnectReasonCode::BadAuthenticationMethod,
    ));
    let disconnected = only_disconnected(h.events());
    assert_eq!(
        disconnected.reason,
        DisconnectReason::Refused(ConnectReasonCode::BadAuthenticationMethod)
    );
    assert_eq!(h.sent_bytes(), b"");
    assert_eq!(
        h.client.authenticate(h.now, None),
        Err(UsageError::NoAuthentication)
    );
}
