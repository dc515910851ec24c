//! A subscriber that stops reading cannot make the broker example hold its traffic without
//! bound: once the socket is full, what it leaves unwritten is kept only up to a limit
//! (`--max-queued-bytes` plus one packet, at least 64 KiB), past which the subscriber is
//! disconnected, while the publisher carries on.

#[path = "common/broker_server.rs"]
mod broker_server;

use bytes::Bytes;
use bytestring::ByteString;
use mqtt_sansio::{
    Connect, Delivery, MqttString, Packet, PacketId, ProtocolVersion, Publish, QoS, Subscribe,
    Subscription, TopicFilter, TopicName,
};

use broker_server::{BrokerServer, RawClient};

const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

fn connect(client: &mut RawClient, client_id: &str) {
    let id = MqttString::new(ByteString::from(client_id)).unwrap();
    client.send(Connect::<Bytes>::new(V311, id));
    assert!(matches!(client.receive(), Some(Packet::ConnAck(_))));
}

#[test]
fn subscriber_that_stops_reading_is_disconnected() {
    let server = BrokerServer::start(&[
        "--sys-interval",
        "0",
        "--max-queued-bytes",
        "65536",
        "--max-packet-size",
        "32768",
    ]);
    let mut subscriber = RawClient::connect(server.addr(), V311);
    connect(&mut subscriber, "sleeper");
    let filter = TopicFilter::new(ByteString::from("flood")).unwrap();
    subscriber.send(Subscribe::<Bytes>::new(
        PacketId::new(1).unwrap(),
        [Subscription::new(filter, QoS::AtMostOnce)],
    ));
    assert!(matches!(subscriber.receive(), Some(Packet::SubAck(_))));
    // From here on the subscriber reads nothing.
    let mut publisher = RawClient::connect(server.addr(), V311);
    connect(&mut publisher, "firehose");
    let payload = Bytes::from(vec![b'x'; 16 * 1024]);
    // Up to 64 MiB, far more than the kernel's socket buffers and the limit together, one
    // message per round trip (QoS 1 from the publisher) so that each reaches the subscriber's
    // socket rather than being dropped from a burst by the core's own queue limit.
    for n in 1..=4096 {
        let mut message = Publish::new(TopicName::new("flood").unwrap(), payload.clone());
        message.delivery = Delivery::AtLeastOnce {
            packet_id: PacketId::new(n).unwrap(),
            dup: false,
        };
        publisher.send(message);
        assert!(matches!(publisher.receive(), Some(Packet::PubAck(_))));
        if server.stats().connections == 1 {
            break;
        }
    }
    server.wait_for("the subscriber to be dropped", |stats| {
        stats.connections == 1
    });
    // The publisher is still served: a PINGREQ gets its PINGRESP.
    publisher.send(mqtt_sansio::PingReq);
    assert!(matches!(publisher.receive(), Some(Packet::PingResp(_))));
    drop(subscriber);
}
