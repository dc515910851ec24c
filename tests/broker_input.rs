//! How the broker reads its connections' bytes: one working decoder serves every connection,
//! and each connection keeps only the bytes it has not yet had decoded. Packets cut anywhere
//! and interleaved across connections come out whole, in order, on the right connection.
#![cfg(feature = "v5")]

mod common;

use common::broker::{Harness, connect_packet, deliveries, got, publish};
use mqtt_sansio::broker::Event;
use mqtt_sansio::{BrokerConfig, Packet, ProtocolVersion, QoS};

/// Two clients connect, subscribe and publish to each other, their bytes reaching the broker
/// one at a time and interleaved: each gets its CONNACK, SUBACK and the other's message.
#[test]
fn packets_cut_into_single_bytes_and_interleaved_are_read_whole() {
    for &version in ProtocolVersion::ALL {
        let mut harness = Harness::new(BrokerConfig::default());
        let conns = [harness.open(version), harness.open(version)];
        let streams: Vec<Vec<u8>> = conns
            .iter()
            .enumerate()
            .map(|(n, &conn)| {
                let mut bytes = harness.encode(conn, connect_packet(version, &format!("c{n}")));
                let filter = format!("to/{n}");
                let subscribe = mqtt_sansio::Subscribe::new(
                    common::broker::pid(1),
                    [mqtt_sansio::Subscription::new(
                        common::broker::topic_filter(&filter),
                        QoS::AtMostOnce,
                    )],
                );
                bytes.extend(harness.encode(conn, subscribe));
                bytes
            })
            .collect();
        let longest = streams.iter().map(Vec::len).max().unwrap_or(0);
        for at in 0..longest {
            for (conn, stream) in conns.iter().zip(&streams) {
                if let Some(byte) = stream.get(at) {
                    harness.send_bytes(*conn, &[*byte]);
                }
            }
        }
        for conn in conns {
            let sent = harness.sent(conn);
            assert!(
                matches!(sent.as_slice(), [Packet::ConnAck(_), Packet::SubAck(_)]),
                "{version}: {sent:?}"
            );
        }
        // Each publishes to the other, a byte at a time, interleaved again.
        let publishes: Vec<Vec<u8>> = conns
            .iter()
            .enumerate()
            .map(|(n, &conn)| {
                let topic = format!("to/{}", 1 - n);
                harness.encode(
                    conn,
                    publish(&topic, format!("from {n}").as_bytes(), QoS::AtMostOnce, 0),
                )
            })
            .collect();
        for at in 0..publishes[0].len().max(publishes[1].len()) {
            for (conn, bytes) in conns.iter().zip(&publishes) {
                if let Some(byte) = bytes.get(at) {
                    harness.send_bytes(*conn, &[*byte]);
                }
            }
        }
        for (n, conn) in conns.into_iter().enumerate() {
            let from = 1 - n;
            assert_eq!(
                deliveries(&harness.sent(conn)),
                [got(
                    &format!("to/{n}"),
                    format!("from {from}").as_bytes(),
                    QoS::AtMostOnce
                )],
                "{version}"
            );
        }
    }
}

/// Packets that arrive behind a CONNECT wait on their connection until the driver accepts it,
/// while other connections' packets are read meanwhile; then they are handled in order.
#[test]
fn packets_behind_an_undecided_connect_wait_on_their_connection() {
    let version = ProtocolVersion::V5;
    let mut harness = Harness::new(BrokerConfig {
        allow_anonymous: false,
        ..BrokerConfig::default()
    });
    let waiting = harness.open(version);
    let mut bytes = harness.encode(waiting, connect_packet(version, "waiting"));
    let subscribe = mqtt_sansio::Subscribe::new(
        common::broker::pid(7),
        [mqtt_sansio::Subscription::new(
            common::broker::topic_filter("news"),
            QoS::AtMostOnce,
        )],
    );
    bytes.extend(harness.encode(waiting, subscribe));
    // The SUBSCRIBE's last byte comes in a later read.
    let (first, last) = bytes.split_at(bytes.len() - 1);
    harness.send_bytes(waiting, first);
    let Some(Event::Authenticate { connection, .. }) = harness.events().into_iter().next() else {
        panic!("no Authenticate event");
    };
    assert_eq!(harness.sent(waiting), []);

    // Another client connects and publishes meanwhile.
    let other = harness.open(version);
    harness.send(other, connect_packet(version, "other"));
    for event in harness.events() {
        if let Event::Authenticate { connection, .. } = event {
            harness
                .broker
                .accept_connect(harness.now, connection)
                .unwrap();
        }
    }
    harness.send(other, publish("news", b"early", QoS::AtMostOnce, 0));
    harness.send_bytes(waiting, last);
    assert_eq!(harness.sent(waiting), [], "nothing before the verdict");

    harness
        .broker
        .accept_connect(harness.now, connection)
        .unwrap();
    harness.send(other, publish("news", b"late", QoS::AtMostOnce, 0));
    let sent = harness.sent(waiting);
    assert!(
        matches!(sent.as_slice(), [Packet::ConnAck(_), Packet::SubAck(suback), Packet::Publish(_)] if suback.packet_id.get() == 7),
        "{sent:?}"
    );
    assert_eq!(
        deliveries(&sent[2..]),
        [got("news", b"late", QoS::AtMostOnce)]
    );
}

/// A client that sends more than one maximum-size packet's worth behind a CONNECT still
/// waiting for the driver's verdict fills the buffer the broker keeps for it: a transient
/// error that closes the connection, before any of it is handled.
///
/// conformance: v311:MQTT-4.8.0-2
#[test]
fn input_behind_an_undecided_connect_is_bounded() {
    for version in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
        let mut harness = Harness::new(BrokerConfig {
            allow_anonymous: false,
            max_packet_size: 256,
            ..BrokerConfig::default()
        });
        let conn = harness.open(version);
        harness.send(conn, connect_packet(version, "flood"));
        let Some(Event::Authenticate { connection, .. }) = harness.events().into_iter().next()
        else {
            panic!("no Authenticate event");
        };
        let ping = harness.encode(conn, mqtt_sansio::PingReq);
        // 128 PINGREQs (256 bytes) still fit; the next byte does not.
        harness.send_bytes(conn, &ping.repeat(128));
        assert_eq!(harness.closed(conn), None, "{version}");
        harness.send_bytes(conn, &ping[..1]);
        assert_eq!(
            harness.closed(conn),
            Some(mqtt_sansio::broker::CloseReason::BufferFull),
            "{version}"
        );
        assert_eq!(harness.sent(conn), [], "{version}: nothing handled");
        assert!(
            harness
                .broker
                .accept_connect(harness.now, connection)
                .is_err(),
            "{version}: the verdict comes too late"
        );
    }
}
