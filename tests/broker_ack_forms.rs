//! The broker reads an acknowledgement in its short form (PUBACK, PUBREC, PUBREL or PUBCOMP of
//! four bytes: a Packet Identifier alone) without building a packet; these tests hold that
//! path to what the full decoder does: the same flows, the same refusals, in any chunking.
#![cfg(feature = "v5")]

mod common;

use common::broker::{Conn, Harness, pid, publish};
use mqtt_sansio::broker::CloseReason;
use mqtt_sansio::{
    BrokerConfig, DisconnectReasonCode, Packet, ProtocolVersion, PubRec, PubRecReasonCode, QoS,
};

const V5: ProtocolVersion = ProtocolVersion::V5;

/// A subscriber to `t/#` at QoS 2 and a publisher, in `version`.
fn pair(h: &mut Harness, version: ProtocolVersion) -> (Conn, Conn) {
    let sub = h.connect(version, "sub");
    h.subscribe(sub, "t/#", QoS::ExactlyOnce);
    let publisher = h.connect(version, "pub");
    (sub, publisher)
}

/// The Packet Identifier of the only PUBLISH among `packets`.
#[track_caller]
fn only_publish_id(packets: &[Packet]) -> u16 {
    match packets {
        [Packet::Publish(publish)] => publish.packet_id().expect("QoS 1 or 2").get(),
        other => panic!("expected one PUBLISH, got {other:?}"),
    }
}

/// A short PUBACK arriving one byte at a time completes the QoS 1 flow: the message is
/// released once its last byte is in, not before.
/// conformance: v311:MQTT-4.3.2-1, v5:MQTT-4.3.2-1
#[test]
fn short_puback_in_single_bytes_completes_the_flow() {
    for &version in ProtocolVersion::ALL {
        let mut h = Harness::new(BrokerConfig::default());
        let (sub, publisher) = pair(&mut h, version);
        h.send(publisher, publish("t/1", b"one", QoS::AtLeastOnce, 1));
        h.sent(publisher);
        let [high, low] = only_publish_id(&h.sent(sub)).to_be_bytes();
        for (n, byte) in [0x40, 0x02, high, low].into_iter().enumerate() {
            assert_eq!(h.broker.stats().stored_messages, 1, "{version}: byte {n}");
            h.send_bytes(sub, &[byte]);
        }
        assert_eq!(h.broker.stats().stored_messages, 0, "{version}");
        assert_eq!(h.closed(sub), None, "{version}");
    }
}

/// Short PUBREC, PUBREL and PUBCOMP in one read with other packets run both QoS 2 flows: the
/// broker answers the subscriber's PUBREC with PUBREL and the publisher's PUBREL with
/// PUBCOMP, and releases the message on PUBCOMP.
/// conformance: v311:MQTT-4.3.3-1, v5:MQTT-4.3.3-1
#[test]
fn short_qos2_acks_among_other_packets_run_both_flows() {
    for &version in ProtocolVersion::ALL {
        let mut h = Harness::new(BrokerConfig::default());
        let (sub, publisher) = pair(&mut h, version);
        let mut burst = h.encode(publisher, publish("t/2", b"two", QoS::ExactlyOnce, 7));
        burst.extend_from_slice(&[0x62, 0x02, 0x00, 0x07, 0xc0, 0x00]); // PUBREL 7, PINGREQ
        h.send_bytes(publisher, &burst);
        let answers = h.sent_bytes(publisher);
        assert_eq!(
            answers,
            [0x50, 0x02, 0x00, 0x07, 0x70, 0x02, 0x00, 0x07, 0xd0, 0x00],
            "{version}: PUBREC, PUBCOMP, PINGRESP"
        );
        let [high, low] = only_publish_id(&h.sent(sub)).to_be_bytes();
        h.send_bytes(sub, &[0x50, 0x02, high, low]);
        assert_eq!(h.sent_bytes(sub), [0x62, 0x02, high, low], "{version}");
        h.send_bytes(sub, &[0x70, 0x02, high, low]);
        assert_eq!(h.broker.stats().stored_messages, 0, "{version}");
    }
}

/// A PUBREL whose reserved flags are not 0010 is malformed, however short: the connection
/// closes (5.0: DISCONNECT 0x81 first).
/// conformance: v311:MQTT-3.6.1-1, v5:MQTT-3.6.1-1
#[test]
fn pubrel_with_wrong_flags_is_malformed() {
    for &version in ProtocolVersion::ALL {
        let mut h = Harness::new(BrokerConfig::default());
        let (_, publisher) = pair(&mut h, version);
        h.send(publisher, publish("t/2", b"two", QoS::ExactlyOnce, 7));
        h.sent(publisher);
        h.send_bytes(publisher, &[0x60, 0x02, 0x00, 0x07]);
        assert_eq!(
            h.closed(publisher),
            Some(CloseReason::ProtocolError(
                DisconnectReasonCode::MalformedPacket
            )),
            "{version}"
        );
    }
}

/// Packet Identifier 0 in a short PUBACK is refused as the full decoder refuses it.
#[test]
fn short_puback_with_identifier_zero_is_refused() {
    for &version in ProtocolVersion::ALL {
        let mut h = Harness::new(BrokerConfig::default());
        let (sub, _) = pair(&mut h, version);
        h.send_bytes(sub, &[0x40, 0x02, 0x00, 0x00]);
        assert!(
            matches!(h.closed(sub), Some(CloseReason::ProtocolError(_))),
            "{version}: {:?}",
            h.closed(sub)
        );
    }
}

/// The long 5.0 forms still carry their reason code: a PUBREC with 0x80 ends the flow without
/// PUBREL, where the short one continues it.
/// conformance: v5:MQTT-4.4.0-2
#[test]
fn long_v5_pubrec_with_an_error_code_ends_the_flow() {
    let mut h = Harness::new(BrokerConfig::default());
    let (sub, publisher) = pair(&mut h, V5);
    h.send(publisher, publish("t/2", b"two", QoS::ExactlyOnce, 1));
    let id = only_publish_id(&h.sent(sub));
    let mut refusal = PubRec::new(pid(id));
    refusal.reason_code = PubRecReasonCode::UnspecifiedError;
    h.send(sub, refusal);
    assert_eq!(h.sent(sub), [], "no PUBREL after a refusal");
    assert_eq!(h.broker.stats().stored_messages, 0);
}
