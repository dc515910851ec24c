//! A PUBLISH the broker decodes straight into its message store and then refuses leaves the
//! store's counts as they were: the messages and payload bytes `stats()` reports are those of
//! the messages it still holds.
#![cfg(feature = "v5")]

mod common;

use common::broker::{Harness, publish};
use common::hex;
use mqtt_sansio::broker::CloseReason;
use mqtt_sansio::{BrokerConfig, DisconnectReasonCode, ProtocolVersion, QoS};

const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// A 5.0 PUBLISH carrying a Subscription Identifier is decoded whole before it is refused
/// (`[MQTT-3.3.4-6]`: only a server sends one); the message held for a subscriber keeps the
/// store at one message of five bytes.
#[test]
fn publish_refused_after_decoding_leaves_stored_bytes_unchanged() {
    let mut h = Harness::new(BrokerConfig::default());
    let sub = h.connect(V311, "sub");
    h.subscribe(sub, "t", QoS::AtLeastOnce);
    let publisher = h.connect(V311, "pub");
    // Held in flight: the subscriber does not acknowledge it.
    h.send(publisher, publish("t", b"12345", QoS::AtLeastOnce, 1));
    let held = h.broker.stats();
    assert_eq!((held.stored_messages, held.stored_bytes), (1, 5));

    let offender = h.connect(V5, "offender");
    // PUBLISH QoS 0 to "t", properties: Subscription Identifier 1, payload "abcdef".
    h.send_bytes(offender, &hex("30 0C 0001 74 02 0B01 616263646566"));
    assert_eq!(
        h.closed(offender),
        Some(CloseReason::ProtocolError(
            DisconnectReasonCode::ProtocolError
        ))
    );
    let after = h.broker.stats();
    assert_eq!((after.stored_messages, after.stored_bytes), (1, 5));
}
