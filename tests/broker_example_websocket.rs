//! The broker example's WebSocket transport (`examples/broker/websocket.rs` behind
//! `examples/broker/transport.rs`), against a tungstenite client on loopback, as browsers and
//! MQTT.js use it: the upgrade on `/mqtt` only (others get 404) selecting the subprotocol
//! `mqtt` (or the old `mqttv3.1`), MQTT bytes in binary messages whatever their split (a packet
//! over two messages, two packets in one), each `write` one binary message back, pings
//! answered, a text message or an oversized one closing the connection with the matching
//! close code, and the same over TLS (`wss://`). Where a test needs an MQTT peer, the real
//! broker answers behind the transport.

#[path = "../examples/broker/tls.rs"]
mod tls;
#[path = "../examples/broker/transport.rs"]
mod transport;
#[path = "../examples/broker/websocket.rs"]
mod websocket;

mod broker_example_transport;

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;

use broker_example_transport::{
    CONNACK, CONNECT, End, PINGREQ, PINGRESP, Peer, Server, fixture, pair,
};
use mqtt_sansio::BrokerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use transport::Transport;
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::StatusCode;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Bytes, Error, Message, WebSocket};
use websocket::WsConfig;

/// The default settings, for the broker's default maximum packet size.
fn ws_config() -> Arc<WsConfig> {
    Arc::new(WsConfig::new(BrokerConfig::default().max_packet_size))
}

/// The server side of a `ws://` connection on `socket`.
fn ws_server(socket: mio::net::TcpStream) -> Transport {
    Transport::websocket(socket, ws_config())
}

/// Upgrades `stream` on `path`, offering `protocols` (a `Sec-WebSocket-Protocol` value);
/// returns the WebSocket and the subprotocol the server selected.
fn upgrade<S: Read + Write>(
    stream: S,
    path: &str,
    protocols: Option<&str>,
) -> Result<(WebSocket<S>, Option<String>), Error> {
    let mut request = format!("ws://localhost{path}").into_client_request()?;
    if let Some(protocols) = protocols {
        let value = protocols.parse().expect("header value");
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", value);
    }
    match tungstenite::client(request, stream) {
        Ok((ws, response)) => {
            let selected = response
                .headers()
                .get("Sec-WebSocket-Protocol")
                .map(|v| v.to_str().expect("ASCII").to_owned());
            Ok((ws, selected))
        }
        Err(HandshakeError::Failure(e)) => Err(e),
        Err(HandshakeError::Interrupted(_)) => unreachable!("a blocking socket"),
    }
}

/// Reads binary messages until `len` bytes came; returns each message's payload.
fn read_binary<S: Read + Write>(ws: &mut WebSocket<S>, len: usize) -> Vec<Bytes> {
    let mut messages = Vec::new();
    while messages.iter().map(Bytes::len).sum::<usize>() < len {
        match ws.read().expect("a message") {
            Message::Binary(payload) => messages.push(payload),
            other => panic!("expected a binary message, got {other:?}"),
        }
    }
    messages
}

/// Reads until the server's close frame; returns its code.
fn read_close<S: Read + Write>(ws: &mut WebSocket<S>) -> Option<CloseCode> {
    loop {
        match ws.read() {
            Ok(Message::Close(frame)) => return frame.map(|f| f.code),
            Ok(_) => {}
            Err(e) => panic!("expected a close frame, got {e}"),
        }
    }
}

#[test]
fn upgrade_selects_mqtt_and_the_broker_answers_connect_with_connack() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        let (mut ws, selected) = upgrade(socket, "/mqtt", Some("mqtt")).expect("upgrade");
        ws.send(Message::Binary(Bytes::from_static(&CONNECT)))
            .expect("send");
        (selected, read_binary(&mut ws, CONNACK.len()))
    });
    let mut server = Server::with_broker(ws_server(server_socket));

    server.until("the CONNECT", |s| {
        s.received.len() >= CONNECT.len() || s.end.is_some()
    });
    assert_eq!(server.received, CONNECT);
    server.until_sent();

    let (selected, messages) = peer.join();
    assert_eq!(
        selected.as_deref(),
        Some("mqtt"),
        "the subprotocol mqtt is selected"
    );
    assert_eq!(
        messages,
        [&CONNACK[..]],
        "the CONNACK in one binary message"
    );
}

#[test]
fn old_mqttv31_subprotocol_is_selected_when_only_it_is_offered() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        let (mut ws, selected) = upgrade(socket, "/mqtt", Some("mqttv3.1")).expect("upgrade");
        ws.send(Message::Binary(Bytes::from_static(&PINGREQ)))
            .expect("send");
        selected
    });
    let mut server = Server::new(ws_server(server_socket));

    server.until("the PINGREQ", |s| {
        s.received.len() >= PINGREQ.len() || s.end.is_some()
    });
    assert_eq!(server.received, PINGREQ);
    assert_eq!(peer.join().as_deref(), Some("mqttv3.1"));
}

#[test]
fn mqtt_is_preferred_among_several_offered_subprotocols() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        let offered = Some("mqttv3.1, mqtt");
        let (mut ws, selected) = upgrade(socket, "/mqtt", offered).expect("upgrade");
        ws.send(Message::Binary(Bytes::from_static(&PINGREQ)))
            .expect("send");
        selected
    });
    let mut server = Server::new(ws_server(server_socket));

    server.until("the PINGREQ", |s| {
        s.received.len() >= PINGREQ.len() || s.end.is_some()
    });
    assert_eq!(peer.join().as_deref(), Some("mqtt"));
}

#[test]
fn other_path_is_refused_with_404() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        match upgrade(socket, "/other", Some("mqtt")) {
            Err(Error::Http(response)) => Some(response.status()),
            Err(e) => panic!("expected an HTTP refusal, got {e}"),
            Ok(_) => None,
        }
    });
    let mut server = Server::new(ws_server(server_socket));

    server.until("the refusal", |s| s.end.is_some());
    match &server.end {
        Some(End::Failed(e)) => assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}"),
        other => panic!("expected a refused upgrade, got {other:?}"),
    }
    assert_eq!(peer.join(), Some(StatusCode::NOT_FOUND));
}

#[test]
fn connect_split_over_two_messages_arrives_whole() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        let (mut ws, _) = upgrade(socket, "/mqtt", Some("mqtt")).expect("upgrade");
        ws.send(Message::Binary(Bytes::copy_from_slice(&CONNECT[..5])))
            .expect("send");
        ws.send(Message::Binary(Bytes::copy_from_slice(&CONNECT[5..])))
            .expect("send");
        read_binary(&mut ws, CONNACK.len())
    });
    let mut server = Server::with_broker(ws_server(server_socket));

    server.until("the CONNECT", |s| {
        s.received.len() >= CONNECT.len() || s.end.is_some()
    });
    assert_eq!(server.received, CONNECT, "both halves, in order");
    server.until_sent();
    assert_eq!(
        peer.join(),
        [&CONNACK[..]],
        "the broker saw one whole CONNECT"
    );
}

#[test]
fn two_packets_in_one_message_both_arrive() {
    let (client, server_socket) = pair();
    let both = [&CONNECT[..], &PINGREQ[..]].concat();
    let sent = both.clone();
    let peer = Peer::spawn(client, move |socket| {
        let (mut ws, _) = upgrade(socket, "/mqtt", Some("mqtt")).expect("upgrade");
        ws.send(Message::Binary(sent.into())).expect("send");
        read_binary(&mut ws, CONNACK.len() + PINGRESP.len()).concat()
    });
    let mut server = Server::with_broker(ws_server(server_socket));

    server.until("both packets", |s| {
        s.received.len() >= both.len() || s.end.is_some()
    });
    assert_eq!(server.received, both);
    server.until_sent();
    assert_eq!(
        peer.join(),
        [&CONNACK[..], &PINGRESP[..]].concat(),
        "both answered"
    );
}

#[test]
fn each_write_goes_out_as_one_binary_message() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        let (mut ws, _) = upgrade(socket, "/mqtt", Some("mqtt")).expect("upgrade");
        read_binary(&mut ws, 5)
    });
    let mut server = Server::new(ws_server(server_socket));

    server.until("the upgrade", |s| match &s.transport {
        Transport::WebSocket(ws) => (ws.is_open() && !ws.wants_write()) || s.end.is_some(),
        _ => unreachable!("a WebSocket transport"),
    });
    assert_eq!(server.transport.write(&[1, 2, 3]).expect("write"), 3);
    server.until_sent();
    assert_eq!(server.transport.write(&[4, 5]).expect("write"), 2);
    server.until_sent();

    assert_eq!(peer.join(), [&[1, 2, 3][..], &[4, 5][..]]);
}

#[test]
fn write_before_the_upgrade_is_refused_as_would_block() {
    let (_client, server_socket) = pair();
    let mut transport = ws_server(server_socket);
    let error = transport.write(&CONNACK).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WouldBlock);
}

#[test]
fn ping_is_answered_with_pong() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        let (mut ws, _) = upgrade(socket, "/mqtt", Some("mqtt")).expect("upgrade");
        ws.send(Message::Ping(Bytes::from_static(b"hi")))
            .expect("ping");
        let pong = ws.read().expect("a message");
        ws.send(Message::Binary(Bytes::from_static(&PINGREQ)))
            .expect("send");
        pong
    });
    let mut server = Server::new(ws_server(server_socket));

    server.until("the PINGREQ", |s| {
        s.received.len() >= PINGREQ.len() || s.end.is_some()
    });
    assert_eq!(server.received, PINGREQ, "the ping carried no MQTT bytes");
    assert_eq!(peer.join(), Message::Pong(Bytes::from_static(b"hi")));
}

#[test]
fn text_message_closes_with_unsupported_data() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        let (mut ws, _) = upgrade(socket, "/mqtt", Some("mqtt")).expect("upgrade");
        ws.send(Message::text("hello")).expect("send");
        read_close(&mut ws)
    });
    let mut server = Server::new(ws_server(server_socket));

    server.until("the close", |s| s.end.is_some());
    match &server.end {
        Some(End::Failed(e)) => assert_eq!(e.kind(), ErrorKind::InvalidData, "{e}"),
        other => panic!("expected a failed connection, got {other:?}"),
    }
    assert!(server.received.is_empty(), "the text passed on no bytes");
    assert_eq!(peer.join(), Some(CloseCode::Unsupported), "close code 1003");
}

#[test]
fn message_over_the_limit_closes_with_message_too_big() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        let (mut ws, _) = upgrade(socket, "/mqtt", Some("mqtt")).expect("upgrade");
        ws.send(Message::Binary(vec![0; 100].into())).expect("send");
        read_close(&mut ws)
    });
    let config = WsConfig {
        max_message_size: 64,
        ..WsConfig::new(64)
    };
    let mut server = Server::new(Transport::websocket(server_socket, Arc::new(config)));

    server.until("the close", |s| s.end.is_some());
    assert!(
        matches!(server.end, Some(End::Failed(_))),
        "{:?}",
        server.end
    );
    assert!(
        server.received.is_empty(),
        "no byte of the oversized message passed"
    );
    assert_eq!(peer.join(), Some(CloseCode::Size), "close code 1009");
}

#[test]
fn peer_close_frame_ends_the_stream() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        let (mut ws, _) = upgrade(socket, "/mqtt", Some("mqtt")).expect("upgrade");
        ws.close(None).expect("close");
        // The server's reply close frame ends the close handshake (the server then closes
        // the TCP connection, which the test's loop leaves to the example's loop).
        matches!(ws.read(), Ok(Message::Close(None)))
    });
    let mut server = Server::new(ws_server(server_socket));

    server.until("the close", |s| s.end.is_some());
    assert!(matches!(server.end, Some(End::Closed)), "{:?}", server.end);
    assert!(peer.join(), "the client saw the close handshake complete");
}

#[test]
fn connect_gets_connack_over_websocket_over_tls() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(fixture("tls-ca.pem")).expect("CA file") {
            roots
                .add(cert.expect("CA certificate"))
                .expect("CA accepted");
        }
        #[allow(deprecated)] // ring's provider, as the server uses (see tls.rs).
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from("localhost").expect("name");
        let conn = ClientConnection::new(Arc::new(config), name).expect("client connection");
        let tls = StreamOwned::new(conn, socket);
        let (mut ws, selected) = upgrade(tls, "/mqtt", Some("mqtt")).expect("upgrade");
        ws.send(Message::Binary(Bytes::from_static(&CONNECT)))
            .expect("send");
        (selected, read_binary(&mut ws, CONNACK.len()))
    });
    let tls = tls::server_config(&fixture("tls-server.pem"), &fixture("tls-server-key.pem"))
        .expect("the test certificate and key load");
    let transport = Transport::secure_websocket(server_socket, tls, ws_config()).unwrap();
    let mut server = Server::with_broker(transport);

    server.until("the CONNECT", |s| {
        s.received.len() >= CONNECT.len() || s.end.is_some()
    });
    assert_eq!(server.received, CONNECT);
    server.until_sent();

    let (selected, messages) = peer.join();
    assert_eq!(selected.as_deref(), Some("mqtt"));
    assert_eq!(messages, [&CONNACK[..]]);
}

#[test]
fn close_sends_a_normal_close_frame() {
    let (client, server_socket) = pair();
    let peer = Peer::spawn(client, |socket| {
        let (mut ws, _) = upgrade(socket, "/mqtt", Some("mqtt")).expect("upgrade");
        read_close(&mut ws)
    });
    let mut server = Server::new(ws_server(server_socket));

    server.until("the upgrade", |s| match &s.transport {
        Transport::WebSocket(ws) => (ws.is_open() && !ws.wants_write()) || s.end.is_some(),
        _ => unreachable!("a WebSocket transport"),
    });
    server.transport.close();
    server.until_sent();
    assert_eq!(peer.join(), Some(CloseCode::Normal), "close code 1000");
}
