//! The broker example carries messages at QoS 0, 1 and 2 between Debian's `mosquitto_pub` and
//! `mosquitto_sub`, in MQTT 3.1, 3.1.1 and 5.0: the subscriber prints the topic and payload
//! published, and the publisher (which waits for PUBACK or PUBCOMP) exits 0.

#[path = "common/broker_server.rs"]
mod broker_server;

use broker_server::{BrokerServer, ChildGuard, mosquitto_client, program, unique};

/// One message at `qos` in `version` (mosquitto's `-V` name) from mosquitto_pub to
/// mosquitto_sub through the example.
fn message_arrives(version: &str, qos: u8) {
    let (Some(sub), Some(publish)) = (program("mosquitto_sub"), program("mosquitto_pub")) else {
        return;
    };
    let server = BrokerServer::start(&[]);
    let topic = unique(&format!("qos/{version}/{qos}"));
    let payload = format!("hello at {qos} in {version}");
    let qos = qos.to_string();
    let subscriber = ChildGuard::spawn(
        mosquitto_client(&sub, &server, version)
            .args(["-q", &qos, "-t", &topic, "-C", "1", "-v", "-W", "20"]),
    );
    server.wait_for("the subscription", |stats| stats.subscriptions == 1);
    let (status, _, stderr) = ChildGuard::spawn(
        mosquitto_client(&publish, &server, version)
            .args(["-q", &qos, "-t", &topic, "-m", &payload]),
    )
    .finish();
    assert!(status.success(), "mosquitto_pub: {status}: {stderr}");
    let (status, stdout, stderr) = subscriber.finish();
    assert!(status.success(), "mosquitto_sub: {status}: {stderr}");
    assert_eq!(stdout, format!("{topic} {payload}\n"));
}

#[test]
fn qos_0_message_arrives_v31() {
    message_arrives("mqttv31", 0);
}

#[test]
fn qos_1_message_arrives_v31() {
    message_arrives("mqttv31", 1);
}

#[test]
fn qos_2_message_arrives_v31() {
    message_arrives("mqttv31", 2);
}

#[test]
fn qos_0_message_arrives_v311() {
    message_arrives("mqttv311", 0);
}

#[test]
fn qos_1_message_arrives_v311() {
    message_arrives("mqttv311", 1);
}

#[test]
fn qos_2_message_arrives_v311() {
    message_arrives("mqttv311", 2);
}

#[test]
#[cfg(feature = "v5")]
fn qos_0_message_arrives_v5() {
    message_arrives("mqttv5", 0);
}

#[test]
#[cfg(feature = "v5")]
fn qos_1_message_arrives_v5() {
    message_arrives("mqttv5", 1);
}

#[test]
#[cfg(feature = "v5")]
fn qos_2_message_arrives_v5() {
    message_arrives("mqttv5", 2);
}
