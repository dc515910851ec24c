//! A graceful stop of the broker example tells a connected MQTT 5.0 client why: it receives
//! DISCONNECT Server shutting down (0x8B) before the connection closes, and the stop returns
//! without error.
#![cfg(feature = "v5")]

#[path = "common/broker_server.rs"]
mod broker_server;

use bytes::Bytes;
use bytestring::ByteString;
use mqtt_sansio::{Connect, DisconnectReasonCode, MqttString, Packet, ProtocolVersion};

use broker_server::{BrokerServer, RawClient};

#[test]
fn stop_sends_server_shutting_down_to_v5_clients() {
    let server = BrokerServer::start(&["--sys-interval", "0"]);
    let mut client = RawClient::connect(server.addr(), ProtocolVersion::V5);
    let id = MqttString::new(ByteString::from("stays")).unwrap();
    client.send(Connect::<Bytes>::new(ProtocolVersion::V5, id));
    assert!(matches!(client.receive(), Some(Packet::ConnAck(_))));
    server.stop().expect("a graceful stop");
    match client.receive() {
        Some(Packet::Disconnect(disconnect)) => {
            assert_eq!(
                disconnect.reason_code,
                DisconnectReasonCode::ServerShuttingDown
            );
        }
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
    assert!(client.receive().is_none(), "the connection stays open");
}
