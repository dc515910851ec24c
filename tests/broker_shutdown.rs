//! The driver ends connections: `Broker::disconnect` ends one (5.0: DISCONNECT with the
//! driver's code, 3.x and unconnected: closed without a word), `Broker::shutdown` ends all with
//! Server shutting down (0x8B); wills fire as for any end the client did not ask for, and
//! sessions that outlive their connection stay for the snapshot.
#![cfg(feature = "v5")]

mod common;

use common::broker::{Harness, connect_packet, deliveries, got, keep_session, only_disconnect};
use mqtt_sansio::broker::{CloseReason, Event};
use mqtt_sansio::{
    BinaryData, Broker, BrokerConfig, DisconnectReasonCode, ProtocolVersion, QoS, UsageError, Will,
};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// A connected 5.0 client is sent a DISCONNECT with the driver's code, then its connection
/// closes with `CloseReason::ServerDisconnect`.
#[test]
fn disconnect_sends_a_5_0_client_the_drivers_reason_code() {
    let mut h = Harness::new(BrokerConfig::default());
    let conn = h.connect(V5, "kicked");
    let handle = h.handle(conn);
    h.command(|broker, now| {
        broker.disconnect(now, handle, DisconnectReasonCode::AdministrativeAction)
    })
    .unwrap();
    assert_eq!(
        only_disconnect(h.sent(conn)).reason_code,
        DisconnectReasonCode::AdministrativeAction
    );
    assert_eq!(
        h.closed(conn),
        Some(CloseReason::ServerDisconnect(
            DisconnectReasonCode::AdministrativeAction
        ))
    );
}

/// A 3.x client has no server DISCONNECT: its connection closes without a packet.
#[test]
fn disconnect_closes_a_3_x_client_without_a_packet() {
    for version in [ProtocolVersion::V3_1, ProtocolVersion::V3_1_1] {
        let mut h = Harness::new(BrokerConfig::default());
        let conn = h.connect(version, "kicked");
        let handle = h.handle(conn);
        h.command(|broker, now| {
            broker.disconnect(now, handle, DisconnectReasonCode::ServerShuttingDown)
        })
        .unwrap();
        assert_eq!(h.sent(conn), [], "{version}");
        assert!(
            matches!(h.closed(conn), Some(CloseReason::ServerDisconnect(_))),
            "{version}"
        );
    }
}

/// No DISCONNECT goes to a 5.0 client whose CONNECT has not been answered.
/// conformance: v5:MQTT-3.14.0-1
#[test]
fn disconnect_before_connack_sends_nothing() {
    let mut h = Harness::new(BrokerConfig {
        allow_anonymous: false,
        ..BrokerConfig::default()
    });
    let conn = h.open(V5);
    h.send(conn, connect_packet(V5, "waiting"));
    assert!(
        h.events()
            .iter()
            .any(|event| matches!(event, Event::Authenticate { .. })),
        "the CONNECT waits for the driver"
    );
    let handle = h.handle(conn);
    h.command(|broker, now| {
        broker.disconnect(now, handle, DisconnectReasonCode::ServerShuttingDown)
    })
    .unwrap();
    assert_eq!(h.sent(conn), []);
    assert!(h.closed(conn).is_some());
}

/// A connection closed or closing is the caller's mistake, reported as such.
#[test]
fn disconnect_of_a_closed_connection_is_a_usage_error() {
    let mut h = Harness::new(BrokerConfig::default());
    let conn = h.connect(V5, "gone");
    let handle = h.handle(conn);
    h.drop_socket(conn);
    let result = h.command(|broker, now| {
        broker.disconnect(now, handle, DisconnectReasonCode::ServerShuttingDown)
    });
    assert_eq!(result, Err(UsageError::NotConnected));
}

/// A server-initiated end is not the client's normal DISCONNECT: the will is published.
/// conformance: v5:MQTT-3.1.2-8
#[test]
fn shutdown_publishes_the_wills() {
    let mut h = Harness::new(BrokerConfig::default());
    let mut connect = connect_packet(V5, "dying");
    connect.will = Some(Will::new(
        common::broker::topic("wills/dying"),
        BinaryData::new(bytes::Bytes::from_static(b"gone")).unwrap(),
    ));
    let (_dying, _, _) = h.connect_with(connect);
    let watcher = h.connect(ProtocolVersion::V3_1_1, "watcher");
    h.subscribe(watcher, "wills/#", QoS::AtMostOnce);
    h.command(|broker, now| broker.shutdown(now));
    assert_eq!(
        deliveries(&h.sent(watcher)),
        [got("wills/dying", b"gone", QoS::AtMostOnce)]
    );
}

/// Shutdown ends every connection, each 5.0 one with Server shutting down (0x8B); the sessions
/// that outlive their connection are in the snapshot taken after it, those that do not are
/// gone.
#[test]
fn shutdown_disconnects_everyone_and_keeps_lasting_sessions() {
    let mut h = Harness::new(BrokerConfig::default());
    let lasting = h.connect_with(keep_session(V5, "lasting", 3600)).0;
    let passing = h.connect(V5, "passing");
    let old = h.connect(ProtocolVersion::V3_1_1, "old");
    let silent = h.open(V5);
    h.command(|broker, now| broker.shutdown(now));
    for conn in [lasting, passing] {
        assert_eq!(
            only_disconnect(h.sent(conn)).reason_code,
            DisconnectReasonCode::ServerShuttingDown
        );
    }
    assert_eq!(h.sent(old), []);
    for conn in [lasting, passing, old, silent] {
        assert_eq!(
            h.closed(conn),
            Some(CloseReason::ServerDisconnect(
                DisconnectReasonCode::ServerShuttingDown
            ))
        );
    }
    assert_eq!(h.broker.stats().connections, 0);
    assert_eq!(
        h.broker.stats().sessions,
        1,
        "only the lasting session is left"
    );
    let snapshot = h.broker.snapshot(h.now).unwrap();
    let restored = Broker::restore(
        BrokerConfig::default(),
        mqtt_sansio::broker::AllowAll,
        h.now,
        &snapshot,
    )
    .unwrap();
    assert_eq!(restored.stats().sessions, 1);
}
