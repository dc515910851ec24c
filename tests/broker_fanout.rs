//! One message fanned out to many subscribers: each gets exactly the bytes the message encodes
//! to for it alone (its version, RETAIN as its options say, its Subscription Identifier,
//! the Message Expiry left), whether the broker wrote them from the head it keeps for plain
//! QoS 0 deliveries or encoded them one by one.
#![cfg(feature = "v5")]

mod common;

use common::broker::{Harness, options, publish, retained};
use mqtt_sansio::{
    BrokerConfig, Delivery, Outgoing, ProtocolVersion, QoS, RetainHandling, SubscriptionId,
};

/// One kind of subscriber: its version, Retain As Published, Subscription Identifier.
struct Kind {
    version: ProtocolVersion,
    retain_as_published: bool,
    id: Option<u32>,
}

/// Subscribers of every kind, two of each (so that no delivery is the message's last
/// holder until the end), get the bytes `encode_for` gives for them, for a plain message, a
/// retained one, and one with a Message Expiry.
#[test]
fn every_subscriber_gets_the_bytes_the_message_encodes_to_for_it() {
    let kinds = [
        Kind {
            version: ProtocolVersion::V3_1,
            retain_as_published: false,
            id: None,
        },
        Kind {
            version: ProtocolVersion::V3_1_1,
            retain_as_published: false,
            id: None,
        },
        Kind {
            version: ProtocolVersion::V5,
            retain_as_published: false,
            id: None,
        },
        Kind {
            version: ProtocolVersion::V5,
            retain_as_published: true,
            id: None,
        },
        Kind {
            version: ProtocolVersion::V5,
            retain_as_published: false,
            id: Some(9),
        },
    ];
    let mut expiring = publish("fan/out", b"expiring", QoS::AtMostOnce, 0);
    expiring.properties.message_expiry_interval = Some(60);
    let messages = [
        publish("fan/out", b"plain", QoS::AtMostOnce, 0),
        retained(publish("fan/out", b"retained", QoS::AtMostOnce, 0)),
        expiring,
    ];
    for message in messages {
        let mut harness = Harness::new(BrokerConfig::default());
        let mut subscribers = Vec::new();
        for (n, kind) in kinds.iter().enumerate() {
            for copy in 0..2 {
                let conn = harness.connect(kind.version, &format!("sub-{n}-{copy}"));
                let rap = kind.retain_as_published;
                let sub_options =
                    options(QoS::AtMostOnce, false, rap, RetainHandling::SendAtSubscribe);
                harness.subscribe_with(conn, "fan/#", sub_options, kind.id);
                subscribers.push((conn, kind));
            }
        }
        let publisher = harness.connect(ProtocolVersion::V5, "publisher");
        harness.send(publisher, message.clone());
        for (conn, kind) in subscribers {
            let ids: Vec<SubscriptionId> = kind
                .id
                .into_iter()
                .filter_map(SubscriptionId::new)
                .collect();
            let outgoing = Outgoing {
                retain: kind.retain_as_published && message.retain,
                subscription_ids: &ids,
                message_expiry_interval: message.properties.message_expiry_interval,
                ..Outgoing::new(Delivery::AtMostOnce)
            };
            let mut expected = Vec::new();
            message
                .encode_for(kind.version, &outgoing, &mut expected)
                .unwrap();
            assert_eq!(
                harness.sent_bytes(conn),
                expected,
                "{} RAP {} id {:?}: {:?}",
                kind.version,
                kind.retain_as_published,
                kind.id,
                message.payload
            );
        }
    }
}
