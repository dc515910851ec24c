//! Heap per idle session on the broker core: 10,000 MQTT 3.1.1 clients connected with a
//! 16-character Client Identifier and nothing else, then each with one subscription, measured
//! with a counting allocator around the core alone (no sockets).

use mqtt_sansio::{Broker, BrokerConfig, Instant, Packet, ProtocolVersion};

const SESSIONS: usize = 10_000;

fn connect_packet(client_id: &str) -> Vec<u8> {
    let connect = mqtt_sansio::Connect::<bytes::Bytes>::new(
        ProtocolVersion::V3_1_1,
        mqtt_sansio::MqttString::new(bytestring::ByteString::from(client_id)).unwrap(),
    );
    let mut wire = Vec::new();
    Packet::from(connect)
        .encode(ProtocolVersion::V3_1_1, &mut wire)
        .unwrap();
    wire
}

fn subscribe_packet(filter: &str) -> Vec<u8> {
    let subscribe = mqtt_sansio::Subscribe::<bytes::Bytes>::new(
        mqtt_sansio::PacketId::new(1).unwrap(),
        [mqtt_sansio::Subscription::new(
            mqtt_sansio::TopicFilter::new(bytestring::ByteString::from(filter)).unwrap(),
            mqtt_sansio::QoS::AtLeastOnce,
        )],
    );
    let mut wire = Vec::new();
    Packet::Subscribe(subscribe)
        .encode(ProtocolVersion::V3_1_1, &mut wire)
        .unwrap();
    wire
}

/// Bytes of heap held per session after connecting (and after subscribing once), with every
/// CONNACK and SUBACK written out and the events taken every 100 connections, as a driver does
/// on each wake-up.
///
/// The budget: 512 B idle and 1 KiB with one subscription. An idle connected session
/// holds its connection (160 B boxed: no decoder, no flows), its session (112 B boxed, the
/// Client Identifier stored once), one Keep Alive timer and a 16-byte index entry.
#[test]
fn heap_per_idle_session_is_within_budget() {
    let now = Instant::ZERO;
    let ids: Vec<String> = (0..SESSIONS).map(|n| format!("client-{n:09}")).collect();
    let connects: Vec<Vec<u8>> = ids.iter().map(|id| connect_packet(id)).collect();
    let subscribes: Vec<Vec<u8>> = (0..SESSIONS)
        .map(|n| subscribe_packet(&format!("site/{n}/status")))
        .collect();
    let mut buf = vec![0u8; 4096];
    let mut broker = Broker::new(BrokerConfig {
        max_connections: SESSIONS,
        ..BrokerConfig::default()
    });
    let mut handles = Vec::with_capacity(SESSIONS);
    let idle = allocation_counter::measure(|| {
        for (n, connect) in connects.iter().enumerate() {
            let handle = broker.accept(now).unwrap();
            broker.handle_data(now, handle, connect);
            handles.push(handle);
            if n % 100 == 99 {
                while broker.poll_transmit(&mut buf).is_some() {}
                while broker.poll_event().is_some() {}
            }
        }
        while broker.poll_transmit(&mut buf).is_some() {}
        while broker.poll_event().is_some() {}
    });
    let idle_bytes = idle.bytes_current as f64 / SESSIONS as f64;
    let subscribed = allocation_counter::measure(|| {
        for (handle, subscribe) in handles.iter().zip(&subscribes) {
            broker.handle_data(now, *handle, subscribe);
        }
        while broker.poll_transmit(&mut buf).is_some() {}
    });
    let subscribed_bytes = idle_bytes + subscribed.bytes_current as f64 / SESSIONS as f64;
    println!(
        "heap per idle session: {idle_bytes:.0} B ({} allocations per session); with one \
         subscription: {subscribed_bytes:.0} B",
        idle.count_current as usize / SESSIONS
    );
    assert_eq!(broker.stats().sessions, SESSIONS);
    assert_eq!(broker.stats().subscriptions, SESSIONS);
    assert!(idle_bytes <= 512.0, "{idle_bytes:.0} B per idle session");
    assert!(
        subscribed_bytes <= 1024.0,
        "{subscribed_bytes:.0} B per subscribed session"
    );
}

/// A PUBLISH of `payload` on `topic` at `qos` (identifier 1), in 3.1.1.
fn publish_packet(topic: &str, payload: &[u8], qos: mqtt_sansio::QoS, retain: bool) -> Vec<u8> {
    let mut publish = mqtt_sansio::Publish::new(
        mqtt_sansio::TopicName::new(bytestring::ByteString::from(topic)).unwrap(),
        bytes::Bytes::copy_from_slice(payload),
    );
    if qos != mqtt_sansio::QoS::AtMostOnce {
        publish.delivery = mqtt_sansio::Delivery::new(qos, mqtt_sansio::PacketId::new(1).unwrap());
    }
    publish.retain = retain;
    let mut wire = Vec::new();
    Packet::Publish(publish)
        .encode(ProtocolVersion::V3_1_1, &mut wire)
        .unwrap();
    wire
}

/// Messages the broker keeps for long (retained, or queued for an absent client) hold copies
/// of their own, not the receive buffer they were read in: a 16-byte message read with
/// 64 KiB of other traffic, handed over without a copy, costs its own size once the read is
/// done, not 64 KiB.
#[test]
fn kept_messages_do_not_hold_their_receive_buffer() {
    let now = Instant::ZERO;
    let mut broker = Broker::new(BrokerConfig::default());
    let mut buf = vec![0u8; 1 << 17];
    // An absent subscriber with a session, to queue for.
    let mut resume = connect_packet("absent-subscriber");
    resume[9] = 0x00; // Clean Session 0: the session outlives the connection.
    let absent = broker.accept(now).unwrap();
    broker.handle_data(now, absent, &resume);
    broker.handle_data(now, absent, &subscribe_packet("queued/#"));
    broker.handle_closed(now, absent);
    let publisher = broker.accept(now).unwrap();
    broker.handle_data(now, publisher, &connect_packet("publisher"));
    while broker.poll_transmit(&mut buf).is_some() {}
    while broker.poll_event().is_some() {}

    for (topic, qos, retain) in [
        ("kept/retained", mqtt_sansio::QoS::AtMostOnce, true),
        ("queued/offline", mqtt_sansio::QoS::AtLeastOnce, false),
    ] {
        let held = allocation_counter::measure(|| {
            let mut read = publish_packet(topic, &[7; 16], qos, retain);
            read.extend(publish_packet(
                "elsewhere",
                &[0; 64 * 1024],
                mqtt_sansio::QoS::AtMostOnce,
                false,
            ));
            broker.handle_bytes(now, publisher, bytes::Bytes::from(read));
            while broker.poll_transmit(&mut buf).is_some() {}
        });
        assert!(
            held.bytes_current < 4096,
            "{topic}: {} B held after the read",
            held.bytes_current
        );
    }
    assert_eq!(broker.stats().retained, 1);
    assert_eq!(broker.stats().stored_messages, 2);
}
