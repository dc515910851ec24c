//! `-l` names the transport with a scheme (`tcp://` or none, `tls://`, `ws://`, `wss://`) and,
//! for WebSocket, the path (`/mqtt` when none is given); a TLS listener without `--tls-cert`
//! and `--tls-key` is refused with a message naming both, and so is a path on a listener that
//! has none, or an unknown scheme.

#[path = "common/broker_server.rs"]
mod broker_server;

use broker_server::args::{self, Options, Parsed};
use broker_server::listener::ListenerKind;

/// The options of `argv`, which must parse.
fn parse(argv: &[&str]) -> Options {
    match args::parse(argv) {
        Ok(Parsed::Run(options)) => *options,
        other => panic!("{argv:?}: {other:?}"),
    }
}

/// The error of `argv`, which must not parse.
fn refused(argv: &[&str]) -> String {
    match args::parse(argv) {
        Err(message) => message,
        other => panic!("{argv:?} accepted: {other:?}"),
    }
}

/// The kind, address and path of each listener of `argv`.
fn listeners(argv: &[&str]) -> Vec<(ListenerKind, String, String)> {
    parse(argv)
        .listeners
        .into_iter()
        .map(|spec| (spec.kind, spec.addr.to_string(), spec.path))
        .collect()
}

const TLS_FILES: [&str; 4] = ["--tls-cert", "cert.pem", "--tls-key", "key.pem"];

#[test]
fn each_scheme_names_its_transport() {
    let mut argv = vec![
        "-l",
        "127.0.0.1:1883",
        "-l",
        "tcp://0.0.0.0:1884",
        "-l",
        "tls://[::1]:8883",
        "-l",
        "ws://127.0.0.1:8080",
        "-l",
        "wss://127.0.0.1:8081/broker/mqtt",
        "-p",
        "1885",
    ];
    argv.extend(TLS_FILES);
    let tcp = ListenerKind::Tcp;
    let none = String::new;
    assert_eq!(
        listeners(&argv),
        [
            (tcp, "127.0.0.1:1883".to_owned(), none()),
            (tcp, "0.0.0.0:1884".to_owned(), none()),
            (ListenerKind::Tls, "[::1]:8883".to_owned(), none()),
            (
                ListenerKind::WebSocket,
                "127.0.0.1:8080".to_owned(),
                "/mqtt".to_owned()
            ),
            (
                ListenerKind::SecureWebSocket,
                "127.0.0.1:8081".to_owned(),
                "/broker/mqtt".to_owned()
            ),
            (tcp, "127.0.0.1:1885".to_owned(), none()),
        ]
    );
}

#[test]
fn plain_websocket_needs_no_certificate() {
    let options = parse(&["-l", "ws://127.0.0.1:8080/"]);
    assert_eq!(options.listeners[0].kind, ListenerKind::WebSocket);
    assert_eq!(options.listeners[0].path, "/");
    assert!(options.tls_cert.is_none());
}

#[test]
fn tls_listener_without_certificate_or_key_is_refused_naming_both_options() {
    for listener in ["tls://127.0.0.1:8883", "wss://127.0.0.1:8081"] {
        for files in [
            &[][..],
            &["--tls-cert", "cert.pem"][..],
            &["--tls-key", "key.pem"][..],
        ] {
            let mut argv = vec!["-l", listener];
            argv.extend(files);
            let message = refused(&argv);
            assert!(
                message.contains("--tls-cert") && message.contains("--tls-key"),
                "{argv:?}: {message}"
            );
            assert!(message.contains(listener), "{argv:?}: {message}");
        }
    }
}

#[test]
fn path_on_a_listener_without_websocket_is_refused() {
    for listener in ["127.0.0.1:1883/mqtt", "tcp://127.0.0.1:1883/mqtt"] {
        let message = refused(&["-l", listener]);
        assert!(message.contains("path"), "{listener}: {message}");
    }
    let mut argv = vec!["-l", "tls://127.0.0.1:8883/mqtt"];
    argv.extend(TLS_FILES);
    assert!(refused(&argv).contains("path"));
}

#[test]
fn unknown_scheme_is_refused_listing_the_known_ones() {
    let message = refused(&["-l", "quic://127.0.0.1:1883"]);
    assert!(message.contains("quic"), "{message}");
    for known in ["tcp", "tls", "ws", "wss"] {
        assert!(message.contains(known), "{message}");
    }
}

#[test]
fn certificate_that_cannot_be_read_stops_the_server_from_starting() {
    let options = parse(&[
        "-l",
        "tls://127.0.0.1:0",
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    let message = broker_server::server::Server::new(&options).expect_err("no certificate");
    assert!(message.contains("/nonexistent/cert.pem"), "{message}");
}
