//! The interop scenarios of `tests/interop/` (Python paho-mqtt and MQTT.js, real clients we
//! did not write) pass against our broker example, strictly: no departure from the spec is
//! allowed, unlike for mosquitto (`tests/interop_mosquitto.rs`).
//!
//! Each test runs `tests/interop/setup.sh`, starts the broker example in-process on
//! 127.0.0.1 (ports the system chooses: one TCP listener and one WebSocket listener on
//! `/mqtt`, which MQTT.js's WebSocket scenarios use), runs one script and stops the broker,
//! also when the test fails. Needs `python3`, `node` and `npm`: without one the tests are skipped with a
//! note, except on CI (`CI` set and non-empty), where a missing program is a failure.
// The scenarios mix 3.1.1 and 5.0 sessions.
#![cfg(feature = "v5")]

#[path = "common/broker_server.rs"]
mod broker_server;
#[path = "common/interop.rs"]
mod interop;

use std::process::Command;

use broker_server::BrokerServer;
use broker_server::listener::ListenerKind;
use interop::{Tools, interop_dir, run_script, setup};

/// The broker the scripts run against: TCP and WebSocket (`/mqtt`) on 127.0.0.1, no `$SYS`
/// (the scenarios count the messages they get).
fn start() -> BrokerServer {
    BrokerServer::start(&[
        "--sys-interval",
        "0",
        "-l",
        "127.0.0.1:0",
        "-l",
        "ws://127.0.0.1:0/mqtt",
    ])
}

/// The paho-mqtt scenarios (3.1.1 and 5.0 over TCP) all pass against our broker.
#[test]
fn paho_scenarios_pass_against_our_broker() {
    let Some(_tools) = Tools::find() else {
        return;
    };
    let python = setup();
    let broker = start();
    run_script(
        "paho",
        Command::new(python)
            .arg(interop_dir().join("paho_scenarios.py"))
            .args(["--host", "127.0.0.1", "--port", &broker.port()]),
        || format!("{:?}", broker.stats()),
    );
}

/// The MQTT.js scenarios over TCP and WebSocket (3.1.1 and 5.0) all pass against our broker.
#[test]
fn mqttjs_scenarios_pass_against_our_broker() {
    let Some(tools) = Tools::find() else {
        return;
    };
    setup();
    let broker = start();
    let ws_url = format!("ws://{}/mqtt", broker.addr_of(ListenerKind::WebSocket));
    run_script(
        "mqttjs",
        Command::new(&tools.node)
            .arg(interop_dir().join("mqttjs_scenarios.mjs"))
            .args(["--host", "127.0.0.1", "--port", &broker.port()])
            .args(["--ws-url", &ws_url]),
        || format!("{:?}", broker.stats()),
    );
}
