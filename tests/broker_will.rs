//! Wills on the broker: published when a connection ends abnormally (socket dropped, Keep
//! Alive, protocol error, takeover), discarded by a normal DISCONNECT, published on a 5.0
//! DISCONNECT 0x04; the 5.0 Will Delay Interval (cancelled by a reconnect, cut short by the
//! session's end) and the will's properties.
#![cfg(feature = "v5")]

mod common;

use bytes::Bytes;
use common::broker::{Conn, Harness, connect_packet, deliveries, got, keep_session, topic};
use mqtt_sansio::{
    BinaryData, BrokerConfig, Connect, ConnectReasonCode, Disconnect, DisconnectReasonCode,
    MessageProperties, PayloadFormat, ProtocolVersion, QoS, Will,
};

const VERSIONS: &[ProtocolVersion] = ProtocolVersion::ALL;
const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// `connect` with a will of `payload` on `will_topic` at `qos`, retained if `retain`.
fn with_will(
    mut connect: Connect,
    will_topic: &str,
    payload: &'static [u8],
    qos: QoS,
    retain: bool,
) -> Connect {
    let mut will = Will::new(
        topic(will_topic),
        BinaryData::new(Bytes::from_static(payload)).unwrap(),
    );
    will.qos = qos;
    will.retain = retain;
    connect.will = Some(will);
    connect
}

/// Connects `connect`, which must be accepted; the connection.
#[track_caller]
fn connected(h: &mut Harness, connect: Connect) -> Conn {
    let (conn, connack, _) = h.connect_with(connect);
    assert_eq!(connack.reason_code, ConnectReasonCode::Success);
    conn
}

/// A 5.0 watcher subscribed to `wills/#` at QoS 2.
fn watcher(h: &mut Harness) -> Conn {
    let watcher = h.connect(V5, "watcher");
    h.subscribe(watcher, "wills/#", QoS::ExactlyOnce);
    watcher
}

/// A 5.0 CONNECT of `client_id` keeping its session `expiry` seconds, with a QoS 1 will on
/// `wills/{client_id}` delayed `delay` seconds.
fn delayed_will(client_id: &str, expiry: u32, delay: u32) -> Connect {
    let mut connect = with_will(
        keep_session(V5, client_id, expiry),
        &format!("wills/{client_id}"),
        b"gone",
        QoS::AtLeastOnce,
        false,
    );
    connect
        .will
        .as_mut()
        .unwrap()
        .properties
        .will_delay_interval = Some(delay);
    connect
}

/// When the socket drops without a DISCONNECT, the will goes out at its QoS to the
/// subscribers, not retained when Will Retain is 0.
/// conformance: v311:MQTT-3.1.2-8, v311:MQTT-3.1.2-16, v5:MQTT-3.1.2-7, v5:MQTT-3.1.2-8,
/// v5:MQTT-3.1.2-14
#[test]
fn will_is_published_when_the_socket_drops() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let watcher = watcher(&mut h);
        let dying = connected(
            &mut h,
            with_will(
                connect_packet(version, "dying"),
                "wills/dying",
                b"gone",
                QoS::AtLeastOnce,
                false,
            ),
        );
        assert_eq!(h.sent(watcher), [], "{version}: nothing while it lives");
        h.drop_socket(dying);
        assert_eq!(
            deliveries(&h.sent(watcher)),
            [got("wills/dying", b"gone", QoS::AtLeastOnce)],
            "{version}"
        );
        assert_eq!(h.broker.stats().retained, 0, "{version}");
    }
}

/// A will with Will Retain 1 is published as a retained message: a later subscriber gets it
/// with RETAIN set.
/// conformance: v311:MQTT-3.1.2-17, v5:MQTT-3.1.2-15
#[test]
fn will_with_will_retain_is_published_retained() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let dying = connected(
            &mut h,
            with_will(
                connect_packet(version, "dying"),
                "wills/dying",
                b"gone",
                QoS::AtMostOnce,
                true,
            ),
        );
        h.drop_socket(dying);
        assert_eq!(h.broker.stats().retained, 1, "{version}");
        let late = h.connect(V311, "late");
        assert_eq!(
            deliveries(&h.subscribe(late, "wills/+", QoS::AtLeastOnce)),
            [got("wills/dying", b"gone", QoS::AtMostOnce).retained()],
            "{version}"
        );
    }
}

/// A DISCONNECT (5.0: Normal disconnection) discards the will: it is not published when the
/// socket then closes.
/// conformance: v311:MQTT-3.1.2-10, v311:MQTT-3.14.4-3, v5:MQTT-3.1.2-10, v5:MQTT-3.14.4-3,
/// v5:MQTT-3.1.2-8
#[test]
fn disconnect_discards_the_will() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let watcher = watcher(&mut h);
        let polite = connected(
            &mut h,
            with_will(
                connect_packet(version, "polite"),
                "wills/polite",
                b"gone",
                QoS::AtLeastOnce,
                false,
            ),
        );
        h.send(
            polite,
            Disconnect::new(DisconnectReasonCode::NormalDisconnection),
        );
        h.drop_socket(polite);
        h.advance(60_000);
        assert_eq!(h.sent(watcher), [], "{version}");
        assert_eq!(h.broker.stats().messages_in, 0, "{version}");
    }
}

/// Without a will (Will Flag 0), nothing is published when the connection breaks.
/// conformance: v311:MQTT-3.1.2-12
#[test]
fn no_will_flag_no_will() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let watcher = h.connect(V5, "watcher");
        h.subscribe(watcher, "#", QoS::ExactlyOnce);
        let plain = h.connect(version, "plain");
        h.drop_socket(plain);
        assert_eq!(h.sent(watcher), [], "{version}");
        assert_eq!(h.broker.stats().messages_in, 0, "{version}");
    }
}

/// A 5.0 DISCONNECT with reason 0x04 (Disconnect with Will Message) publishes the will.
/// conformance: v5:MQTT-3.1.2-8
#[test]
fn v5_disconnect_with_will_message_publishes_it() {
    let mut h = Harness::new(BrokerConfig::default());
    let watcher = watcher(&mut h);
    let leaving = connected(
        &mut h,
        with_will(
            connect_packet(V5, "leaving"),
            "wills/leaving",
            b"bye",
            QoS::ExactlyOnce,
            false,
        ),
    );
    h.send(
        leaving,
        Disconnect::new(DisconnectReasonCode::DisconnectWithWillMessage),
    );
    assert_eq!(
        deliveries(&h.sent(watcher)),
        [got("wills/leaving", b"bye", QoS::ExactlyOnce)]
    );
    assert!(h.closed(leaving).is_some());
}

/// A connection the broker closes (Keep Alive timeout, protocol error) ends abnormally: its
/// will is published, once; a later abnormal end of the same session (with no will of its
/// own) publishes nothing more.
/// conformance: v311:MQTT-3.1.2-8, v311:MQTT-3.1.2-10, v5:MQTT-3.1.2-8, v5:MQTT-3.1.2-10
#[test]
fn will_is_published_when_the_broker_closes_the_connection() {
    for &version in VERSIONS {
        let mut h = Harness::new(BrokerConfig::default());
        let watcher = watcher(&mut h);
        let mut connect = with_will(
            keep_session(version, "silent", 600),
            "wills/silent",
            b"timeout",
            QoS::AtMostOnce,
            false,
        );
        connect.keep_alive = 2;
        let silent = connected(&mut h, connect);
        h.advance(3_000);
        assert!(h.closed(silent).is_some(), "{version}");
        assert_eq!(
            deliveries(&h.sent(watcher)),
            [got("wills/silent", b"timeout", QoS::AtMostOnce)],
            "{version}"
        );
        let (again, _, _) = h.resume(version, "silent", 600);
        h.drop_socket(again);
        assert_eq!(h.sent(watcher), [], "{version}: published once");

        let rude = connected(
            &mut h,
            with_will(
                connect_packet(version, "rude"),
                "wills/rude",
                b"violation",
                QoS::AtMostOnce,
                false,
            ),
        );
        h.send(rude, connect_packet(version, "rude"));
        assert!(h.closed(rude).is_some(), "{version}: a second CONNECT");
        assert_eq!(
            deliveries(&h.sent(watcher)),
            [got("wills/rude", b"violation", QoS::AtMostOnce)],
            "{version}"
        );
    }
}

/// A 5.0 will with a Will Delay Interval goes out that long after the connection broke, not a
/// millisecond before.
/// conformance: v5:MQTT-3.1.2-8
#[test]
fn v5_will_is_published_after_its_delay() {
    let mut h = Harness::new(BrokerConfig::default());
    let watcher = watcher(&mut h);
    let dying = connected(&mut h, delayed_will("dying", 600, 10));
    h.drop_socket(dying);
    h.advance(9_999);
    assert_eq!(h.sent(watcher), []);
    h.advance(1);
    assert_eq!(
        deliveries(&h.sent(watcher)),
        [got("wills/dying", b"gone", QoS::AtLeastOnce)]
    );
}

/// Resuming the session within the Will Delay Interval cancels the will: it never goes out.
/// conformance: v5:MQTT-3.1.3-9, v5:MQTT-3.1.2-8
#[test]
fn v5_reconnect_within_the_will_delay_cancels_the_will() {
    let mut h = Harness::new(BrokerConfig::default());
    let watcher = watcher(&mut h);
    let dying = connected(&mut h, delayed_will("dying", 600, 10));
    h.drop_socket(dying);
    h.advance(5_000);
    let (back, session_present, _) = h.resume(V5, "dying", 600);
    assert!(session_present);
    h.advance(60_000);
    assert_eq!(h.sent(watcher), []);
    assert_eq!(h.closed(back), None);
}

/// A new connection for the Client Identifier within the Will Delay Interval cancels the will
/// even when it starts a new session (Clean Start 1), ending the old one.
/// conformance: v5:MQTT-3.1.2-8, v5:MQTT-3.1.3-9
#[test]
fn v5_clean_start_reconnect_within_the_will_delay_cancels_the_will() {
    let mut h = Harness::new(BrokerConfig::default());
    let watcher = watcher(&mut h);
    let dying = connected(&mut h, delayed_will("dying", 600, 10));
    h.drop_socket(dying);
    h.advance(5_000);
    h.connect(V5, "dying");
    h.advance(60_000);
    assert_eq!(h.sent(watcher), []);
}

/// The will goes out when the session ends, if that comes before the Will Delay Interval has
/// passed: at the Session Expiry Interval, or at once with Session Expiry 0.
/// conformance: v5:MQTT-3.1.2-8
#[test]
fn v5_will_is_published_at_the_session_end_when_that_comes_first() {
    let mut h = Harness::new(BrokerConfig::default());
    let watcher = watcher(&mut h);
    let short = connected(&mut h, delayed_will("short", 5, 10));
    let none = connected(&mut h, delayed_will("none", 0, 10));
    h.drop_socket(short);
    h.drop_socket(none);
    assert_eq!(
        deliveries(&h.sent(watcher)),
        [got("wills/none", b"gone", QoS::AtLeastOnce)]
    );
    h.advance(4_999);
    assert_eq!(h.sent(watcher), []);
    h.advance(1);
    assert_eq!(
        deliveries(&h.sent(watcher)),
        [got("wills/short", b"gone", QoS::AtLeastOnce)]
    );
    assert_eq!(h.broker.stats().sessions, 1, "only the watcher's");
}

/// A 5.0 session taken over keeps its will only if it has a delay: with none, the old
/// connection's will goes out when it is closed; with one, the new connection cancels it.
/// conformance: v5:MQTT-3.1.4-3, v5:MQTT-3.1.3-9
#[test]
fn v5_takeover_publishes_an_undelayed_will_and_cancels_a_delayed_one() {
    let mut h = Harness::new(BrokerConfig::default());
    let watcher = watcher(&mut h);
    connected(&mut h, delayed_will("now", 600, 0));
    connected(&mut h, delayed_will("later", 600, 10));
    h.resume(V5, "now", 600);
    h.resume(V5, "later", 600);
    assert_eq!(
        deliveries(&h.sent(watcher)),
        [got("wills/now", b"gone", QoS::AtLeastOnce)]
    );
    h.advance(60_000);
    assert_eq!(h.sent(watcher), []);
}

/// A 5.0 will's properties are published with it: Payload Format Indicator, Content Type,
/// Response Topic, Correlation Data and User Properties unchanged and in their order, and its
/// Message Expiry Interval (counted from the publication, not from the CONNECT).
/// conformance: v5:MQTT-3.1.3-10, v5:MQTT-3.3.2-4, v5:MQTT-3.3.2-15, v5:MQTT-3.3.2-16,
/// v5:MQTT-3.3.2-17, v5:MQTT-3.3.2-18, v5:MQTT-3.3.2-20
#[test]
fn v5_will_properties_are_forwarded() {
    let mut h = Harness::new(BrokerConfig::default());
    let watcher = watcher(&mut h);
    let message = MessageProperties::builder()
        .user_property("z", "1")
        .payload_format(PayloadFormat::Utf8)
        .content_type("text/plain")
        .user_property("a", "2")
        .response_topic("replies/dying")
        .correlation_data(b"\x00\x01\xff")
        .user_property("z", "3")
        .build()
        .unwrap();
    let mut connect = delayed_will("dying", 600, 30);
    let properties = &mut connect.will.as_mut().unwrap().properties;
    properties.message = message.clone();
    properties.message_expiry_interval = Some(100);
    let dying = connected(&mut h, connect);
    h.drop_socket(dying);
    h.advance(30_000);
    let sent = h.sent(watcher);
    let [mqtt_sansio::Packet::Publish(publish)] = &sent[..] else {
        panic!("{sent:?}")
    };
    assert_eq!(publish.properties.message, message);
    assert_eq!(publish.properties.message_expiry_interval, Some(100));
    let users: Vec<_> = publish.properties.message.user_properties().collect();
    assert_eq!(users, [("z", "1"), ("a", "2"), ("z", "3")]);
}
