//! The broker example keeps a retained message: a subscriber that arrives after it was
//! published receives it at once, flagged as retained, in each protocol version.

#[path = "common/broker_server.rs"]
mod broker_server;

use broker_server::{BrokerServer, ChildGuard, mosquitto_client, program, unique};

/// mosquitto_pub retains a message in `version`; a later mosquitto_sub gets it with RETAIN.
fn later_subscriber_gets_retained(version: &str) {
    let (Some(sub), Some(publish)) = (program("mosquitto_sub"), program("mosquitto_pub")) else {
        return;
    };
    let server = BrokerServer::start(&[]);
    let topic = unique(&format!("retained/{version}"));
    let (status, _, stderr) = ChildGuard::spawn(
        mosquitto_client(&publish, &server, version)
            .args(["-q", "1", "-r", "-t", &topic, "-m", "kept"]),
    )
    .finish();
    assert!(status.success(), "mosquitto_pub: {status}: {stderr}");
    server.wait_for("the retained message", |stats| stats.retained >= 1);
    // %r is the RETAIN flag, %t the topic, %p the payload.
    let (status, stdout, stderr) =
        ChildGuard::spawn(mosquitto_client(&sub, &server, version).args([
            "-q", "1", "-t", &topic, "-C", "1", "-F", "%r %t %p", "-W", "20",
        ]))
        .finish();
    assert!(status.success(), "mosquitto_sub: {status}: {stderr}");
    assert_eq!(stdout, format!("1 {topic} kept\n"));
}

#[test]
fn later_subscriber_gets_retained_message_v31() {
    later_subscriber_gets_retained("mqttv31");
}

#[test]
fn later_subscriber_gets_retained_message_v311() {
    later_subscriber_gets_retained("mqttv311");
}

#[test]
#[cfg(feature = "v5")]
fn later_subscriber_gets_retained_message_v5() {
    later_subscriber_gets_retained("mqttv5");
}
