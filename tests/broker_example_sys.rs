//! The broker example publishes its counters under `$SYS/broker/` every `--sys-interval`,
//! retained: a client that subscribes later gets the current number of connected clients at
//! once, flagged as retained.

#[path = "common/broker_server.rs"]
mod broker_server;

use std::process::Command;

use broker_server::{BrokerServer, ChildGuard, program};

#[test]
fn sys_topics_are_published_retained() {
    let Some(sub) = program("mosquitto_sub") else {
        return;
    };
    let server = BrokerServer::start(&["--sys-interval", "1"]);
    server.wait_for("the $SYS messages", |stats| stats.retained >= 16);
    // %r is the RETAIN flag, %t the topic, %p the payload.
    let (status, stdout, stderr) = ChildGuard::spawn(Command::new(sub).args([
        "-h",
        "127.0.0.1",
        "-p",
        &server.port(),
        "-t",
        "$SYS/broker/clients/connected",
        "-C",
        "1",
        "-F",
        "%r %t %p",
        "-W",
        "20",
    ]))
    .finish();
    assert!(status.success(), "mosquitto_sub: {status}: {stderr}");
    let line = stdout.trim_end();
    let value = line
        .strip_prefix("1 $SYS/broker/clients/connected ")
        .unwrap_or_else(|| panic!("unexpected: {line}"));
    // Published before this client connected (0), or after (1).
    assert!(value == "0" || value == "1", "{line}");
}
