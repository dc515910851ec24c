//! Large messages through the broker example over TCP, where it writes each socket with one
//! `writev` of the heads in its buffer and the payloads the core shares by reference
//! (`Broker::poll_transmit_vectored`): a 768 KiB message reaches several subscribers whole, and a
//! subscriber that pauses while more than the socket buffers hold is published gets every
//! message, in order, once it reads again (the unwritten rest of a `writev` kept as its tail).

#[path = "common/broker_server.rs"]
mod broker_server;

use bytes::Bytes;
use bytestring::ByteString;
use mqtt_sansio::{
    Connect, MqttString, Packet, PacketId, ProtocolVersion, QoS, Subscribe, Subscription,
    TopicFilter,
};

use broker_server::{BrokerServer, RawClient, qos1, unique};

const VERSION: ProtocolVersion = ProtocolVersion::V3_1_1;

/// A connected raw client called `client_id`.
fn client(server: &BrokerServer, client_id: &str) -> RawClient {
    let mut client = RawClient::connect(server.addr(), VERSION);
    let id = MqttString::new(ByteString::from(client_id)).expect("client id");
    client.send(Connect::<Bytes>::new(VERSION, id));
    assert!(matches!(client.receive(), Some(Packet::ConnAck(_))));
    client
}

/// A client subscribed to `topic` at `qos`.
fn subscriber(server: &BrokerServer, topic: &str, qos: QoS) -> RawClient {
    let mut client = client(server, &unique("large-sub"));
    let filter = TopicFilter::new(ByteString::from(topic)).expect("filter");
    client.send(Subscribe::<Bytes>::new(
        PacketId::new(1).expect("id"),
        [Subscription::new(filter, qos)],
    ));
    assert!(matches!(client.receive(), Some(Packet::SubAck(_))));
    client
}

/// The payload of the next packet, which must be a PUBLISH.
#[track_caller]
fn next_payload(client: &mut RawClient) -> Bytes {
    match client.receive() {
        Some(Packet::Publish(publish)) => publish.payload,
        other => panic!("expected PUBLISH, got {other:?}"),
    }
}

/// One 768 KiB message (12 times the driver's write buffer) reaches three subscribers, byte
/// for byte.
#[test]
fn a_large_message_reaches_every_subscriber_whole() {
    let server = BrokerServer::start(&["--sys-interval", "0"]);
    let topic = unique("large/one");
    let mut subscribers: Vec<RawClient> = (0..3)
        .map(|_| subscriber(&server, &topic, QoS::AtMostOnce))
        .collect();
    let payload: Bytes = (0..768 * 1024).map(|n: u32| (n % 251) as u8).collect();
    let mut publisher = client(&server, &unique("large-pub"));
    publisher.send(qos1(&topic, payload.clone()));
    assert!(matches!(publisher.receive(), Some(Packet::PubAck(_))));
    for subscriber in &mut subscribers {
        assert!(
            next_payload(subscriber) == payload,
            "the message arrives whole"
        );
    }
}

/// A subscriber that reads nothing while 16 MiB of 64 KiB messages are published for it
/// gets every message, in order, when it reads again.
#[test]
fn a_paused_subscriber_gets_every_large_message_in_order() {
    let server = BrokerServer::start(&["--sys-interval", "0", "--max-queued-bytes", "67108864"]);
    let topic = unique("large/pause");
    let mut paused = subscriber(&server, &topic, QoS::AtMostOnce);
    let mut publisher = client(&server, &unique("large-flood"));
    let count = 256u32;
    publisher.publish_numbered(&topic, count, 64 * 1024);
    assert_eq!(
        server.stats().connections,
        2,
        "the subscriber is still connected"
    );
    for n in 0..count {
        let payload = next_payload(&mut paused);
        assert_eq!(payload.len(), 64 * 1024);
        assert_eq!(payload[..4], n.to_be_bytes(), "message {n} in order");
    }
}
