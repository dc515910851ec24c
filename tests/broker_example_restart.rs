//! The broker example loses no acknowledged message across a graceful restart with
//! `--persist`: QoS 1 messages a publisher got PUBACKs for, queued for an offline persistent
//! subscriber, are written to the file on stop, read by a new server from the same file, and
//! delivered to the subscriber when it comes back (with its session present).

#[path = "common/broker_server.rs"]
mod broker_server;

use bytes::Bytes;
use bytestring::ByteString;
use mqtt_sansio::{
    Connect, ConnectReasonCode, Delivery, Disconnect, DisconnectReasonCode, MqttString, Packet,
    PacketId, ProtocolVersion, PubAck, Publish, QoS, Subscribe, Subscription, TopicFilter,
    TopicName,
};

use broker_server::{BrokerServer, RawClient, TempDir};

const V311: ProtocolVersion = ProtocolVersion::V3_1_1;
/// Messages published while the subscriber is away.
const MESSAGES: u16 = 20;
const TOPIC: &str = "restart/feed";

/// Connects `client_id` with Clean Session 0 (`clean` false) and returns the CONNACK's
/// Session Present.
fn connect(client: &mut RawClient, client_id: &str, clean: bool) -> bool {
    let id = MqttString::new(ByteString::from(client_id)).unwrap();
    let mut connect = Connect::<Bytes>::new(V311, id);
    connect.clean_start = clean;
    connect.keep_alive = 60;
    client.send(connect);
    match client.receive() {
        Some(Packet::ConnAck(connack)) => {
            assert_eq!(connack.reason_code, ConnectReasonCode::Success);
            connack.session_present
        }
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

fn disconnect(mut client: RawClient) {
    client.send(Disconnect::<Bytes>::new(
        DisconnectReasonCode::NormalDisconnection,
    ));
    assert!(client.closed_by_server());
}

#[test]
fn acknowledged_messages_survive_a_graceful_restart() {
    let dir = TempDir::new("restart");
    let file = dir.path().join("broker.db");
    let file_arg = file.to_str().unwrap();

    let first = BrokerServer::start(&["--persist", file_arg, "--sys-interval", "0"]);
    let mut subscriber = RawClient::connect(first.addr(), V311);
    assert!(!connect(&mut subscriber, "keeper", false));
    let filter = TopicFilter::new(ByteString::from(TOPIC)).unwrap();
    subscriber.send(Subscribe::<Bytes>::new(
        PacketId::new(1).unwrap(),
        [Subscription::new(filter, QoS::AtLeastOnce)],
    ));
    assert!(matches!(subscriber.receive(), Some(Packet::SubAck(_))));
    disconnect(subscriber);

    let mut publisher = RawClient::connect(first.addr(), V311);
    connect(&mut publisher, "sender", true);
    for n in 1..=MESSAGES {
        let mut message = Publish::new(
            TopicName::new(TOPIC).unwrap(),
            Bytes::from(format!("message {n}")),
        );
        message.delivery = Delivery::AtLeastOnce {
            packet_id: PacketId::new(n).unwrap(),
            dup: false,
        };
        publisher.send(message);
    }
    for n in 1..=MESSAGES {
        match publisher.receive() {
            Some(Packet::PubAck(ack)) => assert_eq!(ack.packet_id.get(), n),
            other => panic!("expected PUBACK {n}, got {other:?}"),
        }
    }
    disconnect(publisher);
    first.stop().expect("a graceful stop");
    assert!(file.is_file(), "the snapshot was not written");

    let second = BrokerServer::start(&["--persist", file_arg, "--sys-interval", "0"]);
    assert_eq!(second.stats().sessions, 1, "the subscriber's session");
    let mut subscriber = RawClient::connect(second.addr(), V311);
    assert!(connect(&mut subscriber, "keeper", false), "session present");
    for n in 1..=MESSAGES {
        match subscriber.receive() {
            Some(Packet::Publish(message)) => {
                assert_eq!(message.payload, format!("message {n}").as_bytes());
                assert_eq!(message.qos(), QoS::AtLeastOnce);
                subscriber.send(PubAck::<Bytes>::new(message.packet_id().unwrap()));
            }
            other => panic!("expected message {n}, got {other:?}"),
        }
    }
    disconnect(subscriber);
    // The last PUBACK was read before the DISCONNECT: nothing is left in the store.
    second.wait_for("every message acknowledged", |stats| {
        stats.stored_messages == 0
    });
}
