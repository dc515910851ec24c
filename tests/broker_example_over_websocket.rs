//! The broker example serves MQTT over WebSocket (`-l ws://ADDR:PORT[/PATH]`) and over
//! WebSocket over TLS (`-l wss://...`), beside plain TCP on the same server: a tungstenite
//! client subscribes and another publishes at QoS 1, and the message arrives whole, also one
//! larger than the loop's 64 KiB buffers (many WebSocket messages each way, read to the end
//! and written through the unwritten tail); a subscriber that pauses reading while far more
//! than the kernel's socket buffers pile up gets every message once it reads again (the loop
//! waits for WRITABLE while TLS and WebSocket hold bytes). A graceful stop ends a `wss://` connection
//! politely: DISCONNECT, then a close frame, then TLS close_notify.
#![cfg(feature = "v5")]

#[path = "common/broker_server.rs"]
mod broker_server;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use bytestring::ByteString;
use mqtt_sansio::{
    Connect, Decoder, Delivery, DisconnectReasonCode, Limits, MqttString, Packet, PacketId,
    ProtocolVersion, QoS, Subscribe, Subscription, TopicFilter,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

use broker_server::listener::ListenerKind;
use broker_server::{BrokerServer, RawClient, WAIT, qos1, unique};

/// A fixture file of `tests/fixtures/broker/`.
fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/broker")
        .join(name)
}

/// A server with a TCP, a `ws://` (path `/mqtt`) and a `wss://` (path `/broker`) listener,
/// and `extra` options.
fn start_with(extra: &[&str]) -> BrokerServer {
    let cert = fixture("tls-server.pem").display().to_string();
    let key = fixture("tls-server-key.pem").display().to_string();
    BrokerServer::start(
        &[
            "--sys-interval",
            "0",
            "-l",
            "127.0.0.1:0",
            "-l",
            "ws://127.0.0.1:0",
            "-l",
            "wss://127.0.0.1:0/broker",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--max-packet-size",
            "1048576",
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .collect::<Vec<_>>(),
    )
}

/// [`start_with`] no more options.
fn start() -> BrokerServer {
    start_with(&[])
}

/// A TCP connection to `addr` that gives up reading after [`WAIT`].
fn socket(addr: SocketAddr) -> TcpStream {
    let socket = TcpStream::connect(addr).expect("connect to the broker");
    socket.set_read_timeout(Some(WAIT)).expect("read timeout");
    socket
}

/// TLS to `addr` as "localhost", trusting only the test CA.
fn tls_socket(addr: SocketAddr) -> StreamOwned<ClientConnection, TcpStream> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(fixture("tls-ca.pem")).expect("CA file") {
        roots.add(cert.expect("CA certificate")).expect("CA");
    }
    #[allow(deprecated)] // ring's provider, as the server uses (see examples/broker/tls.rs).
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").expect("name");
    let conn = ClientConnection::new(Arc::new(config), name).expect("client connection");
    StreamOwned::new(conn, socket(addr))
}

/// An MQTT client over a blocking WebSocket: packets out as binary messages, packets in
/// decoded from the payloads however they are split.
struct WsClient<S: Read + Write> {
    ws: WebSocket<S>,
    decoder: Decoder,
    version: ProtocolVersion,
}

impl<S: Read + Write> WsClient<S> {
    /// Upgrades `stream` on `path` offering the subprotocol `mqtt`, then connects as
    /// `client_id` and checks the CONNACK.
    fn connect(stream: S, path: &str, version: ProtocolVersion, client_id: &str) -> Self {
        let mut request = format!("ws://localhost{path}")
            .into_client_request()
            .expect("request");
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "mqtt".parse().expect("header"));
        let ws = match tungstenite::client(request, stream) {
            Ok((ws, _)) => ws,
            Err(HandshakeError::Failure(e)) => panic!("upgrade on {path}: {e}"),
            Err(HandshakeError::Interrupted(_)) => unreachable!("a blocking socket"),
        };
        let mut client = Self {
            ws,
            decoder: Decoder::client(version, Limits::default()),
            version,
        };
        let id = MqttString::new(ByteString::from(client_id)).expect("client id");
        client.send(Connect::<Bytes>::new(version, id));
        match client.receive() {
            Packet::ConnAck(ack) => assert!(!ack.session_present),
            other => panic!("expected CONNACK, got {other:?}"),
        }
        client
    }

    /// Sends `packet` as one binary message.
    fn send(&mut self, packet: impl Into<Packet>) {
        let mut bytes = Vec::new();
        packet
            .into()
            .encode(self.version, &mut bytes)
            .expect("encode");
        self.ws
            .send(Message::Binary(Bytes::from(bytes)))
            .expect("send a message");
    }

    /// The next packet from the server (within [`WAIT`] per read).
    fn receive(&mut self) -> Packet {
        loop {
            if let Some(packet) = self.decoder.decode().expect("a valid packet") {
                return packet;
            }
            match self.ws.read().expect("a message from the broker") {
                Message::Binary(payload) => self.decoder.push(&payload),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("expected a binary message, got {other:?}"),
            }
        }
    }

    /// Subscribes to `topic` at QoS 1 and checks the SUBACK.
    fn subscribe(&mut self, topic: &str) {
        let filter = TopicFilter::new(ByteString::from(topic)).expect("filter");
        self.send(Subscribe::<Bytes>::new(
            PacketId::new(1).expect("id"),
            [Subscription::new(filter, QoS::AtLeastOnce)],
        ));
        assert!(matches!(self.receive(), Packet::SubAck(_)));
    }

    /// Waits for a PUBLISH; returns its topic and payload.
    fn next_message(&mut self) -> (String, Bytes) {
        match self.receive() {
            Packet::Publish(publish) => {
                let topic = publish.topic.expect("a topic").as_str().to_owned();
                (topic, publish.payload)
            }
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }
}

/// Over `ws://` in `version`: subscribe, publish from a second WebSocket client, the message
/// arrives and the publisher gets its PUBACK.
fn round_trip_over_ws(version: ProtocolVersion, payload: Bytes) {
    let server = start();
    let addr = server.addr_of(ListenerKind::WebSocket);
    let topic = unique("ws/round-trip");
    let mut subscriber = WsClient::connect(socket(addr), "/mqtt", version, &unique("ws-sub"));
    subscriber.subscribe(&topic);
    let mut publisher = WsClient::connect(socket(addr), "/mqtt", version, &unique("ws-pub"));
    publisher.send(qos1(&topic, payload.clone()));
    assert!(matches!(publisher.receive(), Packet::PubAck(_)));
    let (got_topic, got_payload) = subscriber.next_message();
    assert_eq!(got_topic, topic);
    assert_eq!(got_payload.len(), payload.len());
    assert!(got_payload == payload, "the payload arrives unchanged");
}

#[test]
fn message_goes_round_trip_over_websocket_v311() {
    round_trip_over_ws(ProtocolVersion::V3_1_1, Bytes::from_static(b"over ws"));
}

#[test]
fn message_goes_round_trip_over_websocket_v5() {
    round_trip_over_ws(ProtocolVersion::V5, Bytes::from_static(b"over ws"));
}

#[test]
fn message_larger_than_the_loop_buffers_goes_round_trip_over_websocket() {
    let payload: Vec<u8> = (0..300 * 1024).map(|i| (i % 251) as u8).collect();
    round_trip_over_ws(ProtocolVersion::V5, Bytes::from(payload));
}

/// Over `wss://` on its own path: a subscriber there gets what a plain TCP client publishes.
#[test]
fn message_from_tcp_arrives_over_secure_websocket() {
    let server = start();
    let topic = unique("wss/from-tcp");
    let version = ProtocolVersion::V3_1_1;
    let wss = tls_socket(server.addr_of(ListenerKind::SecureWebSocket));
    let mut subscriber = WsClient::connect(wss, "/broker", version, &unique("wss-sub"));
    subscriber.subscribe(&topic);
    let mut publisher = RawClient::connect(server.addr_of(ListenerKind::Tcp), version);
    let id = MqttString::new(ByteString::from(unique("tcp-pub"))).unwrap();
    publisher.send(Connect::<Bytes>::new(version, id));
    assert!(matches!(publisher.receive(), Some(Packet::ConnAck(_))));
    let payload: Vec<u8> = (0..200 * 1024).map(|i| (i % 253) as u8).collect();
    publisher.send(qos1(&topic, Bytes::from(payload.clone())));
    assert!(matches!(publisher.receive(), Some(Packet::PubAck(_))));
    let (got_topic, got_payload) = subscriber.next_message();
    assert_eq!(got_topic, topic);
    assert!(got_payload == payload, "the payload arrives unchanged");
}

/// Packets in WebSocket messages sent back to back (so that they reach the server in one
/// read of its socket) are all answered: the loop reads a WebSocket to its end, not only to
/// the first short read.
#[test]
fn messages_sent_back_to_back_over_websocket_are_all_answered() {
    let server = start();
    let addr = server.addr_of(ListenerKind::WebSocket);
    let version = ProtocolVersion::V3_1_1;
    let topic = unique("ws/burst");
    let mut client = WsClient::connect(socket(addr), "/mqtt", version, &unique("ws-burst"));
    let count = 20u16;
    for n in 1..=count {
        let mut message = qos1(&topic, Bytes::from_static(b"burst"));
        message.delivery = Delivery::AtLeastOnce {
            packet_id: PacketId::new(n).unwrap(),
            dup: false,
        };
        let mut bytes = Vec::new();
        Packet::from(message)
            .encode(version, &mut bytes)
            .expect("encode");
        // Queued only: the whole burst goes out in one flush below.
        client
            .ws
            .write(Message::Binary(Bytes::from(bytes)))
            .expect("queue a message");
    }
    client.ws.flush().expect("send the burst");
    for n in 1..=count {
        match client.receive() {
            Packet::PubAck(ack) => assert_eq!(ack.packet_id.get(), n),
            other => panic!("expected PUBACK {n}, got {other:?}"),
        }
    }
}

/// A graceful stop, over `wss://` to a 5.0 client: DISCONNECT Server shutting down, then a
/// normal close frame, then the TLS close_notify (a TLS stream that ends without one reads as
/// an error, not as the end).
#[test]
fn stop_ends_a_secure_websocket_with_disconnect_close_frame_and_close_notify() {
    let server = start();
    let wss = tls_socket(server.addr_of(ListenerKind::SecureWebSocket));
    let mut client = WsClient::connect(wss, "/broker", ProtocolVersion::V5, &unique("wss-stop"));
    server.stop().expect("a graceful stop");
    match client.receive() {
        Packet::Disconnect(disconnect) => assert_eq!(
            disconnect.reason_code,
            DisconnectReasonCode::ServerShuttingDown
        ),
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
    match client.ws.read() {
        Ok(Message::Close(frame)) => {
            assert_eq!(frame.map(|f| f.code), Some(CloseCode::Normal));
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    let mut rest = Vec::new();
    let read = client.ws.get_mut().read_to_end(&mut rest);
    assert!(
        matches!(read, Ok(0)),
        "the TLS stream ends with close_notify: {read:?}"
    );
}

/// A `wss://` subscriber that reads nothing while 32 MiB are published for it (more than
/// loopback's socket buffers hold, less than the unwritten-tail limit set here) gets every
/// message, in order, once it reads again.
#[test]
fn subscriber_pausing_over_secure_websocket_gets_every_message_when_it_reads_again() {
    let server = start_with(&["--max-queued-bytes", "67108864"]);
    let version = ProtocolVersion::V3_1_1;
    let topic = unique("wss/pause");
    let wss = tls_socket(server.addr_of(ListenerKind::SecureWebSocket));
    let mut subscriber = WsClient::connect(wss, "/broker", version, &unique("wss-pause"));
    let filter = TopicFilter::new(ByteString::from(topic.as_str())).expect("filter");
    subscriber.send(Subscribe::<Bytes>::new(
        PacketId::new(1).expect("id"),
        [Subscription::new(filter, QoS::AtMostOnce)],
    ));
    assert!(matches!(subscriber.receive(), Packet::SubAck(_)));
    let mut publisher = RawClient::connect(server.addr_of(ListenerKind::Tcp), version);
    let id = MqttString::new(ByteString::from(unique("tcp-flood"))).unwrap();
    publisher.send(Connect::<Bytes>::new(version, id));
    assert!(matches!(publisher.receive(), Some(Packet::ConnAck(_))));
    let count = 2048u32;
    let size = 16 * 1024;
    publisher.publish_numbered(&topic, count, size);
    assert_eq!(
        server.stats().connections,
        2,
        "the subscriber is still connected"
    );
    for n in 0..count {
        let (_, payload) = subscriber.next_message();
        assert_eq!(payload.len(), size);
        assert_eq!(payload[..4], n.to_be_bytes(), "message {n} in order");
    }
}
