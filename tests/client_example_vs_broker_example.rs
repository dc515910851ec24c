//! Our own two examples talk to each other over real sockets: the client example's driver
//! (`examples/client/driver.rs`) against the broker example (`examples/broker/`, run
//! in-process), for every pair of protocol versions a publisher and a subscriber can speak.
//! Each pair carries five messages at each QoS, in order, every QoS 1 and 2 one acknowledged.

#[path = "common/broker_server.rs"]
mod broker_server;
#[path = "../examples/client/driver.rs"]
mod driver;

use std::time::{Duration, Instant as StdInstant};

use broker_server::{BrokerServer, unique};
use bytes::Bytes;
use driver::Driver;
use mqtt_sansio::{
    ClientConfig, ConnectOptions, Event, ProtocolVersion, Publish, QoS, Subscription, TopicFilter,
    TopicName,
};

/// The bound on one pair's whole exchange.
const EXCHANGE: Duration = Duration::from_secs(20);

/// A client of `version` called `client_id`, connected to `server`.
fn connected(server: &BrokerServer, version: ProtocolVersion, client_id: &str) -> Driver {
    let mut driver = Driver::new(ClientConfig::default());
    let options = ConnectOptions::new(version, client_id).expect("a valid client id");
    driver
        .connect(
            &server.addr().to_string(),
            options,
            StdInstant::now() + EXCHANGE,
        )
        .unwrap_or_else(|e| panic!("{version} {client_id}: connect: {e}"));
    driver
}

/// Five messages at each QoS from a `publisher` client to a `subscriber` client arrive in
/// order, with the QoS they were sent at (the subscription grants QoS 2).
fn pair_exchanges_messages(publisher: ProtocolVersion, subscriber: ProtocolVersion) {
    let server = BrokerServer::start(&["--sys-interval", "0"]);
    let until = StdInstant::now() + EXCHANGE;
    let name = unique("examples");
    let mut sub = connected(&server, subscriber, &format!("{name}-sub"));
    let mut publ = connected(&server, publisher, &format!("{name}-pub"));
    let filter = TopicFilter::new(bytestring::ByteString::from(format!("{name}/#")))
        .expect("a valid filter");
    sub.subscribe_and_wait([Subscription::new(filter, QoS::ExactlyOnce)], until)
        .unwrap_or_else(|e| panic!("{subscriber}: subscribe: {e}"));
    let pair = format!("{publisher} -> {subscriber}");
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let topic = format!("{name}/q{}", qos as u8);
        let payloads: Vec<String> = (0..5)
            .map(|n| format!("{pair} q{} #{n}", qos as u8))
            .collect();
        for payload in &payloads {
            let message = Publish::new(
                TopicName::new(bytestring::ByteString::from(topic.as_str())).expect("a topic"),
                Bytes::from(payload.clone()),
            )
            .with_qos(qos);
            publ.publish_and_wait(message, until)
                .unwrap_or_else(|e| panic!("{pair}: publish {payload}: {e}"));
        }
        for payload in &payloads {
            let event = sub
                .take(until, "a message", |event| {
                    matches!(event, Event::Message(_))
                })
                .unwrap_or_else(|e| panic!("{pair}: waiting for {payload}: {e}"));
            let Event::Message(message) = event else {
                unreachable!("take returns what its predicate accepts");
            };
            let topic_name = message.topic.as_ref().map(|t| t.as_str().to_owned());
            assert_eq!(topic_name.as_deref(), Some(topic.as_str()), "{pair}");
            assert_eq!(message.payload, payload.as_bytes(), "{pair}");
            assert_eq!(message.qos(), qos, "{pair}");
        }
    }
    publ.disconnect()
        .unwrap_or_else(|e| panic!("{publisher}: disconnect: {e}"));
    sub.disconnect()
        .unwrap_or_else(|e| panic!("{subscriber}: disconnect: {e}"));
}

#[test]
fn every_version_pair_exchanges_messages_at_every_qos() {
    for &publisher in ProtocolVersion::ALL {
        for &subscriber in ProtocolVersion::ALL {
            pair_exchanges_messages(publisher, subscriber);
        }
    }
}
