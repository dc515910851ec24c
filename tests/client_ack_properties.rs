//! What the client puts in the acknowledgements and AUTH packets it sends (5.0): never a
//! Reason String or User Property, so that no ack or AUTH it writes can exceed the server's
//! Maximum Packet Size because of them. Each is the four-byte form (or, for AUTH, its method
//! and data alone), even when the server allows only small packets.
#![cfg(feature = "v5")]

mod common;

use std::num::NonZeroU32;

use common::client::{Harness, connack_with, incoming, message};
use mqtt_sansio::{
    Auth, AuthReasonCode, ClientConfig, ConnAckProperties, ConnectOptions, Event, Packet,
    ProtocolVersion, PubComp, PubRec, PubRel, QoS,
};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// The server's smallest sensible Maximum Packet Size for these flows.
const SMALL: u32 = 32;

fn small_server() -> ConnAckProperties {
    ConnAckProperties {
        maximum_packet_size: NonZeroU32::new(SMALL),
        ..ConnAckProperties::default()
    }
}

/// PUBACK, PUBREC, PUBREL and PUBCOMP from the client carry neither a Reason String nor User
/// Properties, so each is four bytes, within any Maximum Packet Size.
/// conformance: v5:MQTT-3.4.2-2, v5:MQTT-3.4.2-3, v5:MQTT-3.5.2-2, v5:MQTT-3.5.2-3,
/// v5:MQTT-3.6.2-2, v5:MQTT-3.6.2-3, v5:MQTT-3.7.2-2, v5:MQTT-3.7.2-3
#[test]
fn acks_from_the_client_carry_no_optional_properties() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect_with(
        ConnectOptions::new(V5, "client").unwrap(),
        connack_with(small_server()),
    );
    // The client receives QoS 1 and QoS 2: PUBACK, PUBREC, then PUBCOMP.
    h.receive(incoming("a", b"1", QoS::AtLeastOnce, 1));
    h.receive(incoming("a", b"2", QoS::ExactlyOnce, 2));
    let acks = h.sent_bytes();
    assert_eq!(acks, [0x40, 0x02, 0x00, 0x01, 0x50, 0x02, 0x00, 0x02]);
    h.receive(PubRel::new(common::pid(2)));
    assert_eq!(h.sent_bytes(), [0x70, 0x02, 0x00, 0x02]);
    // The client publishes QoS 2: its PUBREL.
    let id = h
        .client
        .publish(h.now, message("b", b"3", QoS::ExactlyOnce))
        .unwrap()
        .unwrap();
    assert!(matches!(&h.sent()[..], [Packet::Publish(_)]));
    h.receive(PubRec::new(id));
    let [high, low] = id.get().to_be_bytes();
    assert_eq!(h.sent_bytes(), [0x62, 0x02, high, low]);
    h.receive(PubComp::new(id));
    assert!(
        h.events()
            .iter()
            .all(|event| matches!(event, Event::Message(_) | Event::Published { .. }))
    );
}

/// An AUTH from the client carries its Authentication Method and Data and nothing optional:
/// no Reason String, no User Property.
/// conformance: v5:MQTT-3.15.2-2, v5:MQTT-3.15.2-3
#[test]
fn auth_from_the_client_carries_no_optional_properties() {
    let mut h = Harness::new(ClientConfig::default());
    h.connect(
        ConnectOptions::new(V5, "client")
            .unwrap()
            .authentication("M", Some(b"d"))
            .unwrap(),
    );
    let mut challenge = Auth::new(AuthReasonCode::ContinueAuthentication);
    challenge.properties.authentication_method = Some(common::client::text("M"));
    h.receive(challenge);
    assert!(matches!(&h.events()[..], [Event::AuthChallenge(_)]));
    h.client
        .authenticate(h.now, Some(bytes::Bytes::from_static(b"x")))
        .unwrap();
    let sent = h.sent();
    let [Packet::Auth(auth)] = &sent[..] else {
        panic!("{sent:?}")
    };
    assert_eq!(auth.reason_code, AuthReasonCode::ContinueAuthentication);
    assert_eq!(auth.properties.reason_string, None);
    assert!(auth.properties.user_properties.is_empty());
    let mut connack = connack_with(small_server());
    connack.properties.authentication_method = Some(common::client::text("M"));
    h.receive(connack);
    assert!(matches!(&h.events()[..], [Event::Connected(_)]));
    h.client
        .reauthenticate(h.now, Some(bytes::Bytes::from_static(b"y")))
        .unwrap();
    let sent = h.sent();
    let [Packet::Auth(reauth)] = &sent[..] else {
        panic!("{sent:?}")
    };
    assert_eq!(reauth.reason_code, AuthReasonCode::ReAuthenticate);
    assert_eq!(reauth.properties.reason_string, None);
    assert!(reauth.properties.user_properties.is_empty());
    let len = reauth.encoded_len(V5).unwrap();
    assert!(len <= SMALL as usize, "{len} bytes");
}
