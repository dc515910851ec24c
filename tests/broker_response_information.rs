//! Response Information (5.0 §3.1.2.11.6, §3.2.2.3.15): with
//! `BrokerConfig::response_information` set, a 5.0 client that asks for it gets the prefix
//! followed by its Client Identifier in CONNACK; one that does not ask, a 3.x client, and a
//! broker without the option send none.
#![cfg(feature = "v5")]

mod common;

use std::num::NonZeroU32;

use common::broker::{Harness, connect_packet};
use mqtt_sansio::{BrokerConfig, Connect, ProtocolVersion};

const V5: ProtocolVersion = ProtocolVersion::V5;

fn config(prefix: Option<&str>) -> BrokerConfig {
    BrokerConfig {
        response_information: prefix.map(String::from),
        ..BrokerConfig::default()
    }
}

/// A 5.0 CONNECT of `client_id` with Request Response Information `request`.
fn asking(client_id: &str, request: Option<bool>) -> Connect {
    let mut connect = connect_packet(V5, client_id);
    connect.properties.request_response_information = request;
    connect
}

/// A client that sets Request Response Information to 1 gets the prefix followed by its
/// Client Identifier; a client whose identifier the broker assigned gets it with the
/// assigned one.
#[test]
fn requesting_client_gets_the_prefix_and_its_client_id() {
    let mut h = Harness::new(config(Some("reply/")));
    let (_, connack, _) = h.connect_with(asking("dev1", Some(true)));
    assert_eq!(
        connack.properties.response_information.as_deref(),
        Some("reply/dev1")
    );

    let (_, connack, _) = h.connect_with(asking("", Some(true)));
    let assigned = connack
        .properties
        .assigned_client_identifier
        .as_deref()
        .expect("an assigned identifier")
        .to_owned();
    assert_eq!(
        connack.properties.response_information.as_deref(),
        Some(format!("reply/{assigned}").as_str())
    );
}

/// Request Response Information 0, or absent (which means 0), gets no Response Information
/// even with the option set.
/// conformance: v5:MQTT-3.1.2-28
#[test]
fn client_that_does_not_ask_gets_none() {
    let mut h = Harness::new(config(Some("reply/")));
    for (client_id, request) in [("zero", Some(false)), ("absent", None)] {
        let (_, connack, _) = h.connect_with(asking(client_id, request));
        assert_eq!(connack.properties.response_information, None, "{client_id}");
    }
}

/// Without the option, a client that asks gets none; a 3.1.1 client's CONNACK has no
/// properties either way.
#[test]
fn no_option_or_v311_gets_none() {
    let mut h = Harness::new(config(None));
    let (_, connack, _) = h.connect_with(asking("dev1", Some(true)));
    assert_eq!(connack.properties.response_information, None);

    let mut h = Harness::new(config(Some("reply/")));
    let conn = h.open(ProtocolVersion::V3_1_1);
    h.send(conn, connect_packet(ProtocolVersion::V3_1_1, "old"));
    assert_eq!(h.sent_bytes(conn), [0x20, 0x02, 0x00, 0x00]);
}

/// A client whose Maximum Packet Size leaves no room for the Response Information still
/// gets its CONNACK, within the limit, without it.
/// conformance: v5:MQTT-3.1.2-24
#[test]
fn response_information_is_left_out_when_the_connack_would_not_fit() {
    let prefix = "responses/for/this/broker/".repeat(4);
    let mut h = Harness::new(config(Some(&prefix)));
    let mut connect = asking("dev1", Some(true));
    connect.properties.maximum_packet_size = NonZeroU32::new(40);
    let (_, connack, _) = h.connect_with(connect);
    assert_eq!(connack.properties.response_information, None);
    assert!(connack.encoded_len(V5).unwrap() <= 40);
}
