//! The broker example's TLS transport (`examples/broker/tls.rs` behind
//! `examples/broker/transport.rs`): a rustls client that trusts the test CA connects over
//! loopback, the handshake runs inside `Transport::read`, and the real broker answers a
//! CONNECT with a CONNACK through it. A client that trusts another CA refuses the server;
//! unreadable certificate or key files give errors naming the file.
//!
//! The certificates are test fixtures (`tests/fixtures/broker/tls-*`, see the README there).

#[path = "../examples/broker/tls.rs"]
mod tls;
#[path = "../examples/broker/transport.rs"]
mod transport;
#[path = "../examples/broker/websocket.rs"]
mod websocket;

mod broker_example_transport;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use broker_example_transport::{CONNACK, CONNECT, End, Peer, Server, fixture, pair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use transport::Transport;

/// The server's configuration from the test certificate and key.
fn server_config() -> Arc<rustls::ServerConfig> {
    tls::server_config(&fixture("tls-server.pem"), &fixture("tls-server-key.pem"))
        .expect("the test certificate and key load")
}

/// A client configuration trusting only the CA in fixture `ca`, offering `alpn`.
fn client_config(ca: &str, alpn: &[&[u8]]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(fixture(ca)).expect("CA file") {
        roots
            .add(cert.expect("CA certificate"))
            .expect("CA accepted");
    }
    #[allow(deprecated)] // ring's provider, as the server uses (see tls.rs).
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// The client's script: TLS to "localhost", send CONNECT, read the 4-byte CONNACK; returns it
/// and the agreed ALPN protocol.
fn connect(
    socket: TcpStream,
    config: Arc<ClientConfig>,
) -> std::io::Result<(Vec<u8>, Option<Vec<u8>>)> {
    let name = ServerName::try_from("localhost").expect("name");
    let conn = ClientConnection::new(config, name).expect("client connection");
    let mut tls = StreamOwned::new(conn, socket);
    tls.write_all(&CONNECT)?;
    tls.flush()?;
    let mut connack = vec![0; CONNACK.len()];
    tls.read_exact(&mut connack)?;
    let alpn = tls.conn.alpn_protocol().map(<[u8]>::to_vec);
    Ok((connack, alpn))
}

#[test]
fn connect_gets_connack_from_the_broker_over_tls() {
    let (client, server_socket) = pair();
    let config = client_config("tls-ca.pem", &[]);
    let peer = Peer::spawn(client, move |socket| connect(socket, config));
    let mut server = Server::with_broker(Transport::tls(server_socket, server_config()).unwrap());

    server.until("the CONNECT", |s| {
        s.received.len() >= CONNECT.len() || s.end.is_some()
    });
    assert_eq!(
        server.received, CONNECT,
        "the plaintext is the CONNECT, whole"
    );
    server.until_sent();
    assert!(
        server.end.is_none(),
        "the connection stays open: {:?}",
        server.end
    );

    let (connack, alpn) = peer.join().expect("the client's TLS exchange");
    assert_eq!(
        connack, CONNACK,
        "the broker's CONNACK came back through TLS"
    );
    assert_eq!(alpn, None, "no ALPN offered, none agreed");
}

#[test]
fn alpn_mqtt_is_agreed_when_offered() {
    let (client, server_socket) = pair();
    let config = client_config("tls-ca.pem", &[b"mqtt"]);
    let peer = Peer::spawn(client, move |socket| connect(socket, config));
    let mut server = Server::with_broker(Transport::tls(server_socket, server_config()).unwrap());

    server.until("the CONNECT", |s| {
        s.received.len() >= CONNECT.len() || s.end.is_some()
    });
    server.until_sent();
    let Transport::Tls(stream) = &server.transport else {
        unreachable!("a TLS transport")
    };
    assert_eq!(
        stream.alpn_protocol(),
        Some(&b"mqtt"[..]),
        "the server agreed on mqtt"
    );

    let (connack, alpn) = peer.join().expect("the client's TLS exchange");
    assert_eq!(connack, CONNACK);
    assert_eq!(
        alpn.as_deref(),
        Some(&b"mqtt"[..]),
        "the client sees mqtt agreed"
    );
}

#[test]
fn client_trusting_another_ca_refuses_the_server() {
    let (client, server_socket) = pair();
    let config = client_config("tls-other-ca.pem", &[]);
    let peer = Peer::spawn(client, move |socket| connect(socket, config));
    let mut server = Server::new(Transport::tls(server_socket, server_config()).unwrap());

    server.until("the client to give up", |s| s.end.is_some());
    assert!(server.received.is_empty(), "no plaintext got through");
    assert!(
        matches!(server.end, Some(End::Failed(_))),
        "the client's alert fails the server side: {:?}",
        server.end
    );

    let error = peer.join().expect_err("the client refuses the certificate");
    let rustls_error = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    assert_eq!(
        rustls_error,
        Some(&rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer
        )),
        "refused for its unknown issuer: {error}"
    );
}

#[test]
fn missing_certificate_file_is_named_in_the_error() {
    let cert = fixture("tls-missing.pem");
    let error = tls::server_config(&cert, &fixture("tls-server-key.pem")).unwrap_err();
    assert!(
        error.to_string().contains(&*cert.to_string_lossy()),
        "{error}"
    );
}

#[test]
fn missing_key_file_is_named_in_the_error() {
    let key = fixture("tls-missing-key.pem");
    let error = tls::server_config(&fixture("tls-server.pem"), &key).unwrap_err();
    assert!(
        error.to_string().contains(&*key.to_string_lossy()),
        "{error}"
    );
}

#[test]
fn certificate_file_without_certificate_is_named_in_the_error() {
    let cert = fixture("tls-server-key.pem");
    let error = tls::server_config(&cert, &fixture("tls-server-key.pem")).unwrap_err();
    let message = error.to_string();
    assert!(message.contains(&*cert.to_string_lossy()), "{message}");
    assert!(message.contains("no PEM certificate"), "{message}");
}

#[test]
fn key_file_without_key_is_named_in_the_error() {
    let key = fixture("tls-ca.pem");
    let error = tls::server_config(&fixture("tls-server.pem"), &key).unwrap_err();
    let message = error.to_string();
    assert!(message.contains(&*key.to_string_lossy()), "{message}");
    assert!(message.contains("no PEM private key"), "{message}");
}

#[test]
fn key_that_does_not_fit_the_certificate_names_both_files() {
    // The CA's certificate with the server's key: a pair that does not match.
    let (cert, key) = (fixture("tls-ca.pem"), fixture("tls-server-key.pem"));
    let error = tls::server_config(&cert, &key).unwrap_err();
    let message = error.to_string();
    assert!(message.contains(&*cert.to_string_lossy()), "{message}");
    assert!(message.contains(&*key.to_string_lossy()), "{message}");
}

#[test]
fn close_sends_close_notify() {
    let (client, server_socket) = pair();
    let config = client_config("tls-ca.pem", &[]);
    let peer = Peer::spawn(client, move |socket| {
        let name = ServerName::try_from("localhost").expect("name");
        let conn = ClientConnection::new(config, name).expect("client connection");
        let mut tls = StreamOwned::new(conn, socket);
        tls.write_all(&CONNECT)?;
        tls.flush()?;
        // Ok(0) only after a close_notify: a bare TCP close would be UnexpectedEof.
        tls.read(&mut [0; 16])
    });
    let mut server = Server::new(Transport::tls(server_socket, server_config()).unwrap());

    server.until("the CONNECT", |s| {
        s.received.len() >= CONNECT.len() || s.end.is_some()
    });
    server.transport.close();
    server.until_sent();
    assert_eq!(
        peer.join().expect("a clean end"),
        0,
        "the client read the close_notify"
    );
}
