//! The example's executable stops gracefully on SIGTERM: exit status 0, and the `--persist`
//! file written on the way out, holding the session a client left.

#[path = "common/broker_server.rs"]
mod broker_server;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::mpsc;

use bytes::Bytes;
use bytestring::ByteString;
use mqtt_sansio::{Connect, Disconnect, DisconnectReasonCode, MqttString, Packet, ProtocolVersion};

use broker_server::{ChildGuard, RawClient, TempDir, WAIT, example_binary, program};

#[test]
fn sigterm_stops_the_broker_with_status_0_and_writes_the_snapshot() {
    let Some(kill) = program("kill") else {
        return;
    };
    let dir = TempDir::new("sigterm");
    let file = dir.path().join("broker.db");
    let mut broker = ChildGuard::spawn(
        Command::new(example_binary())
            .args(["-l", "127.0.0.1:0", "--sys-interval", "0", "--persist"])
            .arg(&file),
    );
    // The log names the port the system chose: "... info: listening on tcp 127.0.0.1:PORT".
    let stderr = broker.0.stderr.take().expect("stderr");
    let (sender, receiver) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut log = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.split("listening on tcp ").nth(1) {
                let _ = sender.send(addr.trim().parse::<SocketAddr>().ok());
            }
            log.push_str(&line);
            log.push('\n');
        }
        log
    });
    let addr = receiver
        .recv_timeout(WAIT)
        .ok()
        .flatten()
        .expect("the broker did not log its address");

    // A client leaves a session behind (Clean Session 0), so the snapshot has one.
    let mut client = RawClient::connect(addr, ProtocolVersion::V3_1_1);
    let id = MqttString::new(ByteString::from("left-behind")).unwrap();
    let mut connect = Connect::<Bytes>::new(ProtocolVersion::V3_1_1, id);
    connect.clean_start = false;
    client.send(connect);
    assert!(matches!(client.receive(), Some(Packet::ConnAck(_))));
    client.send(Disconnect::<Bytes>::new(
        DisconnectReasonCode::NormalDisconnection,
    ));
    assert!(client.closed_by_server());

    let pid = broker.0.id().to_string();
    let (status, _, stderr) = ChildGuard::spawn(Command::new(kill).args(["-TERM", &pid])).finish();
    assert!(status.success(), "kill -TERM: {stderr}");
    let (status, _, _) = broker.finish();
    let log = reader.join().expect("the log reader");
    assert_eq!(status.code(), Some(0), "exit status; log:\n{log}");
    assert!(log.contains("SIGTERM received"), "log:\n{log}");
    let snapshot = std::fs::read(&file).expect("the snapshot file");
    assert!(snapshot.starts_with(b"MQBS"), "not a snapshot");
    let needle = b"left-behind";
    assert!(
        snapshot
            .windows(needle.len())
            .any(|window| window == needle),
        "the session is not in the snapshot"
    );
}
