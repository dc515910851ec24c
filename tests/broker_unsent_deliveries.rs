//! A QoS 1 or 2 delivery queued on a connection and not yet written refers to its message
//! through the session's in-flight entry only: when that entry goes before the bytes are
//! written (the session ends in a takeover with Clean Start, or the client acknowledges the
//! Packet Identifier before it saw the PUBLISH), the message's store slot is freed and may
//! hold another client's message by the time the connection is written.
//!
//! These tests feed several inputs before the driver writes anything, as a driver that reads
//! every ready socket before writing does.
#![cfg(feature = "v5")]

mod common;

use common::broker::{Conn, Harness, connect_packet, deliveries, publish};
use mqtt_sansio::{BrokerConfig, Packet, ProtocolVersion, PubAck, QoS};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// Feeds `packet` from `conn` to the broker without writing anything out.
fn feed(h: &mut Harness, conn: Conn, packet: impl Into<Packet>) {
    let bytes = h.encode(conn, packet);
    let handle = h.handle(conn);
    h.broker.handle_data(h.now, handle, &bytes);
}

/// The topics of the PUBLISH packets among `packets`.
fn topics(packets: &[Packet]) -> Vec<String> {
    let publishes: Vec<Packet> = packets
        .iter()
        .filter(|packet| matches!(packet, Packet::Publish(_)))
        .cloned()
        .collect();
    deliveries(&publishes)
        .into_iter()
        .map(|got| got.topic)
        .collect()
}

/// A client subscribed to `t` ("c"), an offline client whose session queues `secret`
/// ("away"), and a publisher.
fn setup() -> (Harness, Conn, Conn) {
    let mut h = Harness::new(BrokerConfig::default());
    let (c, _, _) = h.resume(V5, "c", 3600);
    h.subscribe(c, "t", QoS::AtLeastOnce);
    let (away, _, _) = h.resume(V5, "away", 3600);
    h.subscribe(away, "secret", QoS::AtLeastOnce);
    h.drop_socket(away);
    let publisher = h.connect(V5, "pub");
    (h, c, publisher)
}

/// A connection taken over by a Clean Start CONNECT, whose session ends, writes no message
/// that is not its own.
///
/// conformance: v5:MQTT-3.1.4-3
#[test]

fn a_taken_over_connection_writes_no_other_clients_message() {
    let (mut h, c, publisher) = setup();
    feed(
        &mut h,
        publisher,
        publish("t", b"for c", QoS::AtLeastOnce, 1),
    );
    let new = h.open(V5);
    feed(&mut h, new, connect_packet(V5, "c"));
    feed(
        &mut h,
        publisher,
        publish("secret", b"not c's", QoS::AtLeastOnce, 2),
    );
    h.advance(0);
    let sent = h.sent(c);
    assert!(!topics(&sent).contains(&"secret".to_owned()), "{sent:?}");
}

/// A client that acknowledges a Packet Identifier before the PUBLISH with it was written
/// gets no other client's message under that identifier.
#[test]

fn an_early_puback_exposes_no_other_clients_message() {
    let (mut h, c, publisher) = setup();
    feed(
        &mut h,
        publisher,
        publish("t", b"for c", QoS::AtLeastOnce, 1),
    );
    // Packet Identifiers are given in order from 1: the client can guess the next one.
    feed(&mut h, c, PubAck::new(common::broker::pid(1)));
    feed(
        &mut h,
        publisher,
        publish("secret", b"not c's", QoS::AtLeastOnce, 2),
    );
    h.advance(0);
    let sent = h.sent(c);
    assert!(!topics(&sent).contains(&"secret".to_owned()), "{sent:?}");
}
