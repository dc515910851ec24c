//! The broker example keeps a persistent session while its client is away: mosquitto_sub
//! with `-c -i ID -q 1` subscribes and leaves, QoS 1 messages are published meanwhile, and
//! the same client back receives every one of them, in order, in each protocol version.

#[path = "common/broker_server.rs"]
mod broker_server;

use broker_server::{BrokerServer, ChildGuard, mosquitto_client, program, unique};

/// Messages published while a persistent `version` subscriber is away arrive when it is back.
fn messages_wait_for_returning_subscriber(version: &str) {
    let (Some(sub), Some(publish)) = (program("mosquitto_sub"), program("mosquitto_pub")) else {
        return;
    };
    let server = BrokerServer::start(&[]);
    let topic = unique(&format!("session/{version}"));
    let client_id = unique("persistent");
    // -E: exit once subscribed, leaving the session behind (-c; in 5.0 it never expires).
    let session = ["-c", "-i", &client_id, "-q", "1"];
    let (status, _, stderr) = ChildGuard::spawn(
        mosquitto_client(&sub, &server, version)
            .args(session)
            .args(["-t", &topic, "-E"]),
    )
    .finish();
    assert!(status.success(), "mosquitto_sub -E: {status}: {stderr}");
    server.wait_for("the subscriber to leave", |stats| stats.connections == 0);
    for n in 1..=3 {
        let (status, _, stderr) =
            ChildGuard::spawn(mosquitto_client(&publish, &server, version).args([
                "-q",
                "1",
                "-t",
                &topic,
                "-m",
                &format!("message {n}"),
            ]))
            .finish();
        assert!(status.success(), "mosquitto_pub: {status}: {stderr}");
    }
    let (status, stdout, stderr) = ChildGuard::spawn(
        mosquitto_client(&sub, &server, version)
            .args(session)
            .args(["-t", &topic, "-C", "3", "-W", "20"]),
    )
    .finish();
    assert!(status.success(), "mosquitto_sub: {status}: {stderr}");
    assert_eq!(stdout, "message 1\nmessage 2\nmessage 3\n");
}

#[test]
fn messages_wait_for_returning_subscriber_v31() {
    messages_wait_for_returning_subscriber("mqttv31");
}

#[test]
fn messages_wait_for_returning_subscriber_v311() {
    messages_wait_for_returning_subscriber("mqttv311");
}

#[test]
#[cfg(feature = "v5")]
fn messages_wait_for_returning_subscriber_v5() {
    messages_wait_for_returning_subscriber("mqttv5");
}
