//! The broker example holds only what its limits allow, whatever clients do: a flood of
//! connections past `--max-connections` is closed at once, a socket that never sends CONNECT
//! is closed by the connect timeout, and a client that goes silent (a half-open connection) is
//! closed by its Keep Alive. The last two are the core's timers, which only fire if the event
//! loop sleeps no longer than `poll_timeout` says.

#[path = "common/broker_server.rs"]
mod broker_server;

use std::net::TcpStream;
use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;
use mqtt_sansio::{Connect, MqttString, Packet, ProtocolVersion};

use broker_server::args::{self, Parsed};
use broker_server::{BrokerServer, RawClient, loopback_any_port};

/// Connections past the limit are accepted and closed at once, and never counted; once the
/// clients leave, the count is back to zero.
#[test]
fn connections_past_max_connections_are_closed_at_once() {
    let server = BrokerServer::start(&["--max-connections", "5", "--sys-interval", "0"]);
    let kept: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(server.addr()).unwrap())
        .collect();
    server.wait_for("five connections", |stats| stats.connections == 5);
    for _ in 0..50 {
        let mut extra = RawClient::connect(server.addr(), ProtocolVersion::V3_1_1);
        assert!(
            extra.closed_by_server(),
            "a connection past the limit stayed open"
        );
    }
    assert_eq!(server.stats().connections, 5);
    drop(kept);
    server.wait_for("the connections to close", |stats| stats.connections == 0);
}

/// A socket that sends nothing is closed when the connect timeout passes.
#[test]
fn socket_without_connect_is_closed_by_the_connect_timeout() {
    let mut options = options();
    options.broker.connect_timeout = Duration::from_millis(200);
    let server = BrokerServer::start_with(options);
    let mut silent = RawClient::connect(server.addr(), ProtocolVersion::V3_1_1);
    assert!(silent.closed_by_server());
    server.wait_for("the connection to be freed", |stats| stats.connections == 0);
}

/// A connected client with a Keep Alive of 1 s that sends nothing more (its peer vanished) is
/// closed after one and a half times that.
#[test]
fn silent_client_is_closed_by_its_keep_alive() {
    let server = BrokerServer::start_with(options());
    let mut client = RawClient::connect(server.addr(), ProtocolVersion::V3_1_1);
    let id = MqttString::new(ByteString::from("silent")).unwrap();
    let mut connect = Connect::<Bytes>::new(ProtocolVersion::V3_1_1, id);
    connect.keep_alive = 1;
    client.send(connect);
    assert!(matches!(client.receive(), Some(Packet::ConnAck(_))));
    assert!(client.closed_by_server());
    server.wait_for("the connection to be freed", |stats| stats.connections == 0);
}

/// Default options on 127.0.0.1:0, quiet, without `$SYS`.
fn options() -> args::Options {
    let Ok(Parsed::Run(options)) = args::parse(&["--log-level", "warn", "--sys-interval", "0"])
    else {
        panic!("default options refused");
    };
    let mut options = *options;
    options.listeners = vec![loopback_any_port()];
    options
}
