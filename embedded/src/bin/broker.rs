//! The client against the crate's own `Broker`, both on the Cortex-M3: the broker core is
//! `no_std` too, and this runs it there.
//!
//! One `Client` (on the device heap) and one `Broker` (on the peer heap, as a second device
//! would hold it) talk through in-memory buffers on virtual time. In 3.1.1, then in 5.0 (with
//! the `v5` feature), the client connects, subscribes to `fw/#` at QoS 2, publishes one
//! message at each QoS and receives each back from the broker at the QoS it was sent, sends
//! PINGREQ when its Keep Alive elapses and gets the PINGRESP, and disconnects. Every event of
//! both sides is checked, and so are the broker's counters; the broker ends with no
//! connection and no stored message, and both heaps are empty once both are dropped.
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../setup.rs"]
mod setup;

use alloc::vec::Vec;
use core::time::Duration;

use cortex_m_rt::entry;
use mqtt_sansio::broker::{CloseReason, ConnectionHandle, Event as BrokerEvent};
use mqtt_sansio::{
    Broker, BrokerConfig, Client, ConnectOptions, Disconnect, DisconnectReason,
    DisconnectReasonCode, Event, Instant, ProtocolVersion, QoS, SubAckReasonCode,
};
use mqtt_sansio_firmware::{
    as_peer, check, device_heap, exit_success, fail_at, hprintln, init, must, peer_heap,
    reset_device_peak, stack_peak,
};
use setup::{CONFIG, KEEP_ALIVE, is_message, message, subscribe_to_all, take_events};

/// The size of each side's write buffer: the client's and the broker's packets here are
/// well below it.
const WRITE_BUFFER: usize = 256;

#[entry]
fn main() -> ! {
    init();
    reset_device_peak();
    let mut now = Instant::ZERO;
    let mut client = Client::new(CONFIG);
    let mut broker = as_peer(|| Broker::new(BrokerConfig::default()));
    session(&mut client, &mut broker, &mut now, ProtocolVersion::V3_1_1);
    #[cfg(feature = "v5")]
    {
        now = now + Duration::from_secs(60);
        session(&mut client, &mut broker, &mut now, ProtocolVersion::V5);
    }
    let stats = broker.stats();
    let sessions = if cfg!(feature = "v5") { 2 } else { 1 };
    check!(
        stats.messages_in == 3 * sessions && stats.messages_out == 3 * sessions,
        "the broker counted each session's 3 messages in and out: {:?}",
        stats
    );
    check!(
        stats.connections == 0 && stats.stored_messages == 0 && stats.subscriptions == 0,
        "the broker holds no connection, message or subscription at the end: {:?}",
        stats
    );
    let broker_peak = peer_heap();
    as_peer(|| drop(broker));
    drop(client);
    check!(
        device_heap().requested == 0 && peer_heap().requested == 0,
        "both heaps are empty once the client and the broker are gone"
    );
    if cfg!(feature = "v5") {
        hprintln!("all checks passed: the client against the Broker, MQTT 3.1.1 and 5.0");
    } else {
        hprintln!(
            "all checks passed: the client against the Broker, MQTT 3.1.1 (built without 5.0)"
        );
    }
    hprintln!("heap, broker (peer heap), whole run: {}", broker_peak);
    hprintln!("heap, client (device heap), whole run: {}", device_heap());
    hprintln!("stack: peak {} B", stack_peak());
    exit_success()
}

/// One connection of `client` to `broker` in `version`, through every flow.
fn session(client: &mut Client, broker: &mut Broker, now: &mut Instant, version: ProtocolVersion) {
    let connection = must!(as_peer(|| broker.accept(*now)), "the broker accepts");
    let mut link = Link {
        connection,
        now: *now,
    };

    // CONNECT, CONNACK.
    let client_id = if version.is_v5() { "fw-5" } else { "fw-311" };
    let options =
        must!(ConnectOptions::new(version, client_id), "a valid client id").keep_alive(KEEP_ALIVE);
    must!(client.connect(*now, options), "connect() accepted");
    let broker_events = link.pump(client, broker);
    check!(
        matches!(broker_events.as_slice(), [BrokerEvent::Connected { connection, client_id: id, version: v, session_present: false }]
            if *connection == link.connection && id.as_str() == client_id && *v == version),
        "the broker reports the connection in the version asked for"
    );
    as_peer(|| drop(broker_events));
    let events = take_events(client);
    check!(
        matches!(events.as_slice(), [Event::Connected(connected)] if !connected.session_present && connected.keep_alive == KEEP_ALIVE),
        "one Connected event, no session present, our Keep Alive"
    );
    drop(events);

    // SUBSCRIBE, SUBACK.
    let (_, sub_id) = subscribe_to_all(client, *now);
    link.quiet(client, broker);
    let events = take_events(client);
    check!(
        matches!(events.as_slice(), [Event::Subscribed(suback)]
            if suback.packet_id == sub_id && suback.reason_codes.iter().eq([SubAckReasonCode::GrantedQoS2])),
        "Subscribed: the SUBACK for our id, QoS 2 granted"
    );
    drop(events);

    // Each QoS out and back: the broker delivers at the QoS it was sent (the subscription
    // grants 2), under an identifier of its own; the QoS 1 and 2 flows complete both ways.
    for (topic, payload, qos) in [
        ("fw/qos0", &b"zero"[..], QoS::AtMostOnce),
        ("fw/qos1", &b"one"[..], QoS::AtLeastOnce),
        ("fw/qos2", &b"two"[..], QoS::ExactlyOnce),
    ] {
        let id = must!(
            client.publish(*now, message(topic, payload, qos)),
            "publish() accepted"
        );
        check!(
            id.is_some() == (qos != QoS::AtMostOnce),
            "an identifier for QoS 1 and 2"
        );
        link.quiet(client, broker);
        let events = take_events(client);
        let (echo, completed): (Vec<_>, Vec<_>) = events
            .iter()
            .partition(|event| matches!(event, Event::Message(_)));
        let [Event::Message(echo)] = echo.as_slice() else {
            fail_at!("one Message event for {}", topic)
        };
        check!(
            echo.delivery.qos() == qos && is_message(echo, topic, payload, echo.delivery),
            "the message on {} came back at the QoS it was sent",
            topic
        );
        match id {
            None => check!(completed.is_empty(), "nothing to complete at QoS 0"),
            Some(id) => check!(
                matches!(completed.as_slice(), [Event::Published { packet_id, result: Ok(()) }] if *packet_id == id),
                "the {:?} message completed",
                qos
            ),
        }
        drop(events);
        check!(client.in_flight() == 0, "nothing left in flight");
    }

    // PINGREQ once the Keep Alive elapses on virtual time, and the PINGRESP.
    let deadline = must!(client.poll_timeout().ok_or(()), "a Keep Alive deadline");
    check!(
        deadline == *now + Duration::from_secs(u64::from(KEEP_ALIVE)),
        "the deadline is the Keep Alive after the last packet sent"
    );
    *now = deadline;
    link.now = deadline;
    client.handle_timeout(*now);
    link.quiet(client, broker);
    check!(
        client.is_connected() && take_events(client).is_empty(),
        "still connected after the ping, with nothing to report"
    );
    check!(
        client.poll_timeout() == Some(*now + Duration::from_secs(u64::from(KEEP_ALIVE))),
        "the next ping is a Keep Alive later"
    );

    // DISCONNECT: the broker closes the connection as the client asked.
    must!(
        client.disconnect(
            *now,
            Disconnect::new(DisconnectReasonCode::NormalDisconnection)
        ),
        "disconnect() accepted"
    );
    let broker_events = link.pump(client, broker);
    check!(
        matches!(broker_events.as_slice(), [BrokerEvent::Close { connection, reason: CloseReason::ClientDisconnected }]
            if *connection == link.connection),
        "the broker closes the connection: the client disconnected"
    );
    as_peer(|| drop(broker_events));
    as_peer(|| broker.handle_closed(*now, link.connection));
    client.handle_closed(*now);
    let events = take_events(client);
    check!(
        matches!(events.as_slice(), [Event::Disconnected(gone)]
            if gone.reason == DisconnectReason::ByClient(DisconnectReasonCode::NormalDisconnection)),
        "one Disconnected event: by us"
    );
}

/// The in-memory connection between the client and the broker.
struct Link {
    connection: ConnectionHandle,
    now: Instant,
}

impl Link {
    /// Moves bytes both ways until neither side has anything to send; returns the broker's
    /// events (allocated on the peer heap).
    fn pump(&self, client: &mut Client, broker: &mut Broker) -> Vec<BrokerEvent> {
        let mut buf = [0u8; WRITE_BUFFER];
        let mut events = as_peer(Vec::new);
        for _ in 0..64 {
            let mut moved = false;
            while let Some(transmit) = client.poll_transmit(&mut buf) {
                moved = true;
                let written = &buf[..transmit.len];
                as_peer(|| broker.handle_data(self.now, self.connection, written));
            }
            while let Some(transmit) = as_peer(|| broker.poll_transmit(&mut buf)) {
                moved = true;
                check!(
                    transmit.connection == self.connection,
                    "the broker writes to our connection"
                );
                client.handle_data(self.now, &buf[..transmit.len]);
            }
            as_peer(|| events.extend(core::iter::from_fn(|| broker.poll_event())));
            if !moved {
                return events;
            }
        }
        fail_at!("the exchange never settled")
    }

    /// [`pump`](Self::pump), with no broker event expected.
    fn quiet(&self, client: &mut Client, broker: &mut Broker) {
        let events = self.pump(client, broker);
        check!(events.is_empty(), "no broker event: {:?}", events);
        as_peer(|| drop(events));
    }
}
