//! The broker example publishes a client's Will when the client dies without a DISCONNECT:
//! mosquitto_sub with `--will-topic` is killed (SIGKILL, so its socket just closes) and another
//! subscriber receives the will, in each protocol version.

#[path = "common/broker_server.rs"]
mod broker_server;

use broker_server::{BrokerServer, ChildGuard, mosquitto_client, program, unique};

/// A client with a Will in `version` is killed; the Will reaches a subscriber to its topic.
fn will_published_when_client_killed(version: &str) {
    let Some(sub) = program("mosquitto_sub") else {
        return;
    };
    let server = BrokerServer::start(&[]);
    let will_topic = unique(&format!("will/{version}"));
    let watcher = ChildGuard::spawn(mosquitto_client(&sub, &server, version).args([
        "-q",
        "1",
        "-t",
        &will_topic,
        "-C",
        "1",
        "-v",
        "-W",
        "20",
    ]));
    server.wait_for("the watcher's subscription", |stats| {
        stats.subscriptions == 1
    });
    let mut doomed = ChildGuard::spawn(mosquitto_client(&sub, &server, version).args([
        "-t",
        "will/unrelated",
        "--will-topic",
        &will_topic,
        "--will-payload",
        "gone",
        "--will-qos",
        "1",
    ]));
    server.wait_for("the doomed client's subscription", |stats| {
        stats.subscriptions == 2
    });
    doomed.kill();
    let (status, stdout, stderr) = watcher.finish();
    assert!(status.success(), "mosquitto_sub: {status}: {stderr}");
    assert_eq!(stdout, format!("{will_topic} gone\n"));
}

#[test]
fn will_published_when_client_killed_v31() {
    will_published_when_client_killed("mqttv31");
}

#[test]
fn will_published_when_client_killed_v311() {
    will_published_when_client_killed("mqttv311");
}

#[test]
#[cfg(feature = "v5")]
fn will_published_when_client_killed_v5() {
    will_published_when_client_killed("mqttv5");
}
