//! The broker example serves MQTT over TLS (`-l tls://ADDR:PORT --tls-cert --tls-key`):
//! Debian's `mosquitto_sub` and `mosquitto_pub`, verifying the server against the test CA
//! (`--cafile`, host name checked: the test certificate names 127.0.0.1), carry a QoS 1
//! message through it in MQTT 3.1.1 and 5.0. The server also has a plain TCP listener, which
//! must not get in the way.

#[path = "common/broker_server.rs"]
mod broker_server;

use std::path::PathBuf;
use std::process::Command;

use broker_server::listener::ListenerKind;
use broker_server::{BrokerServer, ChildGuard, program, unique};

/// A fixture file of `tests/fixtures/broker/`, as an argument.
fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/broker")
        .join(name)
        .display()
        .to_string()
}

/// One QoS 1 message in `version` (mosquitto's `-V` name) from mosquitto_pub to mosquitto_sub,
/// both over TLS.
fn message_arrives_over_tls(version: &str) {
    let (Some(sub), Some(publish)) = (program("mosquitto_sub"), program("mosquitto_pub")) else {
        return;
    };
    let (cert, key, ca) = (
        fixture("tls-server.pem"),
        fixture("tls-server-key.pem"),
        fixture("tls-ca.pem"),
    );
    let server = BrokerServer::start(&[
        "-l",
        "127.0.0.1:0",
        "-l",
        "tls://127.0.0.1:0",
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ]);
    let port = server.addr_of(ListenerKind::Tls).port().to_string();
    assert_ne!(
        port,
        server.port(),
        "the TLS listener has a port of its own"
    );
    let topic = unique(&format!("tls/{version}"));
    let payload = format!("over TLS in {version}");
    let common = [
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "--cafile",
        &ca,
        "-V",
        version,
        "-q",
        "1",
        "-t",
        &topic,
    ];
    let subscriber = ChildGuard::spawn(
        Command::new(sub)
            .args(common)
            .args(["-C", "1", "-v", "-W", "20"]),
    );
    server.wait_for("the subscription", |stats| stats.subscriptions == 1);
    let (status, _, stderr) =
        ChildGuard::spawn(Command::new(publish).args(common).args(["-m", &payload])).finish();
    assert!(status.success(), "mosquitto_pub: {status}: {stderr}");
    let (status, stdout, stderr) = subscriber.finish();
    assert!(status.success(), "mosquitto_sub: {status}: {stderr}");
    assert_eq!(stdout, format!("{topic} {payload}\n"));
}

#[test]
fn qos_1_message_arrives_over_tls_v311() {
    message_arrives_over_tls("mqttv311");
}

#[test]
#[cfg(feature = "v5")]
fn qos_1_message_arrives_over_tls_v5() {
    message_arrives_over_tls("mqttv5");
}

/// A client that trusts another CA refuses the server: the listener really is TLS with the
/// certificate given, not plain TCP.
#[test]
fn client_trusting_another_ca_cannot_publish_over_tls() {
    let Some(publish) = program("mosquitto_pub") else {
        return;
    };
    let (cert, key) = (fixture("tls-server.pem"), fixture("tls-server-key.pem"));
    let server = BrokerServer::start(&[
        "-l",
        "tls://127.0.0.1:0",
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ]);
    let port = server.addr_of(ListenerKind::Tls).port().to_string();
    let other_ca = fixture("tls-other-ca.pem");
    let (status, _, _) = ChildGuard::spawn(Command::new(publish).args([
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "--cafile",
        &other_ca,
        "-t",
        "t",
        "-m",
        "m",
        "-q",
        "1",
    ]))
    .finish();
    assert!(
        !status.success(),
        "mosquitto_pub trusted a server its CA did not sign"
    );
}
