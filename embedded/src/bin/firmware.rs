//! The mqtt-sansio client on a Cortex-M3, against a scripted server in the same firmware.
//!
//! Client and server talk over an in-memory byte pipe: what the client writes through
//! `poll_transmit` is decoded by the server with `Decoder::server`; what the server answers is
//! encoded and handed to the client in 7-byte pieces, so packets arrive split as a TCP stream
//! may split them. Time is virtual: an `Instant` the script moves forward.
//!
//! One client connects in MQTT 3.1.1, then again in 5.0, and in each session subscribes,
//! publishes at QoS 0, 1 and 2 and receives its own messages back (the server echoes them with
//! its own Packet Identifiers), holds 4 QoS 1 messages in flight while the server withholds its
//! acknowledgements, unsubscribes, pings on virtual time and disconnects. Every event and
//! every packet either side sees is checked; a failed check prints what and where and exits
//! with a failure, and the end exits with success.
//!
//! It prints the device heap (the client and the application: what a real device needs; the
//! server allocates from a heap of its own) with 4 messages in flight and at its peak.
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../setup.rs"]
mod setup;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::mem;
use core::num::{NonZeroU16, NonZeroU32};
use core::time::Duration;

use bytes::Bytes;
use cortex_m_rt::entry;
use mqtt_sansio::{
    Client, ConnAck, ConnectOptions, ConnectReasonCode, Decoder, Delivery, Disconnect,
    DisconnectReason, DisconnectReasonCode, Event, Instant, Limits, MessageProperties, Packet,
    PacketId, PingResp, ProtocolVersion, PubAck, PubComp, PubRec, PubRel, Publish, QoS, State,
    SubAck, SubAckReasonCode, TopicFilter, UnsubAck, UnsubAckReasonCode, UnsubscribeProperties,
    UsageError,
};
use mqtt_sansio_firmware::{
    HeapStats, as_peer, check, device_heap, exit_success, fail_at, hprintln, init, must, peer_heap,
    reset_device_peak, stack_peak,
};
use setup::{CONFIG, KEEP_ALIVE, is_message, message, subscribe_to_all, take_events};

/// The server's Receive Maximum in 5.0: exactly the 4 messages the script keeps in flight.
const SERVER_RECEIVE_MAXIMUM: u16 = 4;
/// The driver's write buffer: larger than any packet of the script, as a TCP send buffer is.
const WRITE_BUFFER: usize = 256;
/// The size of the pieces the server's bytes reach the client in.
const CHUNK: usize = 7;
/// The server's first Packet Identifier, far from the client's.
const SERVER_FIRST_ID: u16 = 1000;
/// Message properties of the 5.0 QoS 1 message: Content Type "text/plain" and the User
/// Property ("unit", "C"), as the wire has them (a device builds them without allocating).
const PROPERTIES: &[u8] = b"\x03\x00\x0atext/plain\x26\x00\x04unit\x00\x01C";

#[entry]
fn main() -> ! {
    init();
    reset_device_peak();
    let mut now = Instant::ZERO;
    let mut client = Client::new(CONFIG);
    let v311 = session(&mut client, &mut now, ProtocolVersion::V3_1_1);
    #[cfg(feature = "v5")]
    let v5 = {
        now = now + Duration::from_secs(60);
        session(&mut client, &mut now, ProtocolVersion::V5)
    };
    let whole_run = device_heap();
    drop(client);
    let after = device_heap();
    check!(
        after.requested == 0,
        "the device heap holds {} B once the client is gone",
        after.requested
    );
    #[cfg(feature = "v5")]
    hprintln!("all checks passed: MQTT 3.1.1 and 5.0 sessions");
    #[cfg(not(feature = "v5"))]
    hprintln!("all checks passed: MQTT 3.1.1 session (built without 5.0)");
    hprintln!("heap, 4 messages in flight, 3.1.1: {}", v311);
    #[cfg(feature = "v5")]
    hprintln!("heap, 4 messages in flight, 5.0: {}", v5);
    hprintln!("heap, device, whole run: {}", whole_run);
    hprintln!("heap, scripted server (not on a device): {}", peer_heap());
    hprintln!("stack: peak {} B", stack_peak());
    exit_success()
}

/// One connection of `client` in `version`, through every flow; returns the device heap's
/// counters with 4 QoS 1 messages in flight (peak: since the firmware started).
fn session(client: &mut Client, now: &mut Instant, version: ProtocolVersion) -> HeapStats {
    let v5 = version.is_v5();
    let mut server = as_peer(|| Server::new(version));

    // CONNECT, CONNACK.
    let client_id = if v5 { "fw-5" } else { "fw-311" };
    let options =
        must!(ConnectOptions::new(version, client_id), "a valid client id").keep_alive(KEEP_ALIVE);
    must!(client.connect(*now, options), "connect() accepted");
    check!(
        client.state() == State::Connecting,
        "connecting after connect()"
    );
    pump(client, &mut server, *now);
    let received = server.take_received();
    let [Packet::Connect(connect)] = received.as_slice() else {
        fail_at!("the server received one CONNECT")
    };
    check!(
        connect.protocol_version == version,
        "CONNECT in the version asked for"
    );
    check!(
        connect.client_id.as_str() == client_id,
        "CONNECT carries the client id"
    );
    check!(
        connect.keep_alive == KEEP_ALIVE && connect.clean_start,
        "CONNECT: Keep Alive and Clean Start"
    );
    if v5 {
        let properties = &connect.properties;
        check!(
            properties.receive_maximum == NonZeroU16::new(4)
                && properties.maximum_packet_size == NonZeroU32::new(1024)
                && properties.topic_alias_maximum.is_none(),
            "the 5.0 CONNECT states the configured Receive Maximum, Maximum Packet Size and no Topic Alias Maximum"
        );
    }
    let events = take_events(client);
    let [Event::Connected(connected)] = events.as_slice() else {
        fail_at!("one Connected event")
    };
    check!(!connected.session_present, "no session present");
    check!(
        connected.keep_alive == KEEP_ALIVE,
        "the Keep Alive in force is ours"
    );
    let quota = if v5 { SERVER_RECEIVE_MAXIMUM } else { u16::MAX };
    check!(
        connected.server.receive_maximum == quota
            && client.server_limits().receive_maximum == quota,
        "the client obeys the server's Receive Maximum"
    );
    check!(client.is_connected(), "connected after CONNACK");
    drop(events);

    // SUBSCRIBE, SUBACK.
    let (filter, sub_id) = subscribe_to_all(client, *now);
    pump(client, &mut server, *now);
    let received = server.take_received();
    let [Packet::Subscribe(subscribe)] = received.as_slice() else {
        fail_at!("the server received one SUBSCRIBE")
    };
    check!(
        subscribe.packet_id == sub_id,
        "SUBSCRIBE carries the id subscribe() returned"
    );
    let mut entries = subscribe.subscriptions.iter();
    check!(
        matches!(entries.next(), Some(entry) if entry.filter == filter && entry.options.qos == QoS::ExactlyOnce)
            && entries.next().is_none(),
        "SUBSCRIBE holds the one filter at QoS 2"
    );
    let events = take_events(client);
    let [Event::Subscribed(suback)] = events.as_slice() else {
        fail_at!("one Subscribed event")
    };
    check!(
        suback.packet_id == sub_id
            && suback
                .reason_codes
                .iter()
                .eq([SubAckReasonCode::GrantedQoS2]),
        "Subscribed: the SUBACK for our id, QoS 2 granted"
    );
    drop(events);

    // QoS 0: out and back.
    let id = must!(
        client.publish(*now, message("fw/qos0", b"zero", QoS::AtMostOnce)),
        "publish() at QoS 0 accepted"
    );
    check!(id.is_none(), "a QoS 0 message has no Packet Identifier");
    pump(client, &mut server, *now);
    let received = server.take_received();
    let [Packet::Publish(publish)] = received.as_slice() else {
        fail_at!("the server received one PUBLISH")
    };
    check!(
        is_message(publish, "fw/qos0", b"zero", Delivery::AtMostOnce),
        "the QoS 0 PUBLISH as sent"
    );
    let events = take_events(client);
    let [Event::Message(echo)] = events.as_slice() else {
        fail_at!("one Message event for the QoS 0 echo")
    };
    check!(
        is_message(echo, "fw/qos0", b"zero", Delivery::AtMostOnce),
        "the QoS 0 message came back"
    );
    drop(events);

    // QoS 1: PUBACK, and the echo at QoS 1 under the server's id, acknowledged by the client.
    let mut qos1 = message("fw/qos1", b"21.5", QoS::AtLeastOnce);
    if v5 {
        qos1.properties.message = must!(
            MessageProperties::from_block(Bytes::from_static(PROPERTIES)),
            "valid message properties"
        );
    }
    let id = must!(
        must!(client.publish(*now, qos1), "publish() at QoS 1 accepted").ok_or(()),
        "a QoS 1 message has a Packet Identifier"
    );
    check!(client.in_flight() == 1, "one message in flight");
    pump(client, &mut server, *now);
    let echo_id = server.last_id();
    let received = server.take_received();
    let [Packet::Publish(publish), Packet::PubAck(puback)] = received.as_slice() else {
        fail_at!("the server received PUBLISH, then the PUBACK of its echo")
    };
    check!(
        is_message(
            publish,
            "fw/qos1",
            b"21.5",
            Delivery::new(QoS::AtLeastOnce, id)
        ),
        "the QoS 1 PUBLISH as sent, with its id"
    );
    check!(
        *puback == PubAck::new(echo_id),
        "the client acknowledged the echo with the server's id"
    );
    let events = take_events(client);
    let [published, Event::Message(echo)] = events.as_slice() else {
        fail_at!("Published, then a Message for the QoS 1 echo")
    };
    check!(
        *published
            == Event::Published {
                packet_id: id,
                result: Ok(())
            },
        "Published Ok for the QoS 1 id"
    );
    check!(
        is_message(
            echo,
            "fw/qos1",
            b"21.5",
            Delivery::new(QoS::AtLeastOnce, echo_id)
        ),
        "the QoS 1 message came back under the server's id"
    );
    if v5 {
        let message = &echo.properties.message;
        check!(
            message.content_type() == Some("text/plain")
                && message.user_properties().eq([("unit", "C")]),
            "the echo carries the message properties"
        );
    }
    check!(client.in_flight() == 0, "nothing in flight");
    drop(events);

    // QoS 2: PUBREC, PUBREL, PUBCOMP both ways; the echo arrives with the server's PUBREC.
    let id = must!(
        must!(
            client.publish(*now, message("fw/qos2", b"once", QoS::ExactlyOnce)),
            "publish() at QoS 2 accepted"
        )
        .ok_or(()),
        "a QoS 2 message has a Packet Identifier"
    );
    pump(client, &mut server, *now);
    let echo_id = server.last_id();
    let received = server.take_received();
    let [
        Packet::Publish(publish),
        Packet::PubRel(pubrel),
        Packet::PubRec(pubrec),
        Packet::PubComp(pubcomp),
    ] = received.as_slice()
    else {
        fail_at!("the server received PUBLISH, PUBREL, then PUBREC and PUBCOMP for its echo")
    };
    check!(
        is_message(
            publish,
            "fw/qos2",
            b"once",
            Delivery::new(QoS::ExactlyOnce, id)
        ),
        "the QoS 2 PUBLISH as sent"
    );
    check!(
        *pubrel == PubRel::new(id),
        "PUBREL for our id after the server's PUBREC"
    );
    check!(
        *pubrec == PubRec::new(echo_id) && *pubcomp == PubComp::new(echo_id),
        "PUBREC and PUBCOMP for the server's id"
    );
    let events = take_events(client);
    let [Event::Message(echo), published] = events.as_slice() else {
        fail_at!("a Message for the QoS 2 echo, then Published")
    };
    check!(
        is_message(
            echo,
            "fw/qos2",
            b"once",
            Delivery::new(QoS::ExactlyOnce, echo_id)
        ),
        "the QoS 2 message came back once, under the server's id"
    );
    check!(
        *published
            == Event::Published {
                packet_id: id,
                result: Ok(())
            },
        "Published Ok for the QoS 2 id after PUBCOMP"
    );
    check!(server.settled(), "the server has no flow left open");
    drop(events);

    // 4 QoS 1 messages in flight: the server withholds its answers until they are all out.
    server.hold = true;
    let mut ids = [PacketId::MIN; 4];
    for (n, slot) in ids.iter_mut().enumerate() {
        *slot = must!(
            must!(
                client.publish(*now, message("fw/burst", PAYLOADS[n], QoS::AtLeastOnce)),
                "publish() of message {} of 4 accepted",
                n + 1
            )
            .ok_or(()),
            "a QoS 1 message has a Packet Identifier"
        );
    }
    check!(
        matches!(
            client.publish(*now, message("fw/burst", b"fifth", QoS::AtLeastOnce)),
            Err(UsageError::QueueFull(_))
        ),
        "a fifth message is refused: max_outgoing is 4"
    );
    pump(client, &mut server, *now);
    check!(
        client.in_flight() == 4,
        "4 messages in flight, {} reported",
        client.in_flight()
    );
    let in_flight = device_heap();
    let received = server.take_received();
    check!(
        received.len() == 4,
        "the server received 4 PUBLISH packets, not {}",
        received.len()
    );
    for (n, packet) in received.iter().enumerate() {
        check!(
            matches!(packet, Packet::Publish(p)
                if is_message(p, "fw/burst", PAYLOADS[n], Delivery::new(QoS::AtLeastOnce, ids[n]))),
            "PUBLISH {} of 4 as sent",
            n + 1
        );
    }
    check!(
        take_events(client).is_empty(),
        "no event before the server answers"
    );
    let first_echo = server.last_id().get() - 3;
    drop(received);
    server.release();
    pump(client, &mut server, *now);
    let events = take_events(client);
    check!(
        events.len() == 8,
        "8 events (4 Published, 4 Message), not {}",
        events.len()
    );
    for (n, pair) in events.chunks(2).enumerate() {
        let echo_id = must!(
            PacketId::new(first_echo + n as u16).ok_or(()),
            "a server id"
        );
        check!(
            pair[0]
                == Event::Published {
                    packet_id: ids[n],
                    result: Ok(())
                },
            "Published Ok for message {} of 4",
            n + 1
        );
        check!(
            matches!(&pair[1], Event::Message(m)
                if is_message(m, "fw/burst", PAYLOADS[n], Delivery::new(QoS::AtLeastOnce, echo_id))),
            "message {} of 4 came back",
            n + 1
        );
    }
    let received = server.take_received();
    check!(
        received.len() == 4
            && received.iter().enumerate().all(|(n, packet)| {
                *packet
                    == Packet::PubAck(PubAck::new(
                        PacketId::new(first_echo + n as u16).unwrap_or(PacketId::MIN),
                    ))
            }),
        "the client acknowledged the 4 echoes in order"
    );
    check!(
        client.in_flight() == 0 && server.settled(),
        "every flow completed"
    );
    drop((events, received));

    // UNSUBSCRIBE, UNSUBACK; then our messages no longer come back.
    let unsub_id = must!(
        client.unsubscribe(*now, [filter], UnsubscribeProperties::new()),
        "unsubscribe() accepted"
    );
    pump(client, &mut server, *now);
    let received = server.take_received();
    check!(
        matches!(received.as_slice(), [Packet::Unsubscribe(u)] if u.packet_id == unsub_id),
        "the server received the UNSUBSCRIBE"
    );
    let events = take_events(client);
    let [Event::Unsubscribed(unsuback)] = events.as_slice() else {
        fail_at!("one Unsubscribed event")
    };
    let codes_ok = if v5 {
        unsuback
            .reason_codes
            .iter()
            .eq([UnsubAckReasonCode::Success])
    } else {
        unsuback.reason_codes.is_empty()
    };
    check!(
        unsuback.packet_id == unsub_id && codes_ok,
        "Unsubscribed: the UNSUBACK for our id"
    );
    drop((events, received));
    let id = must!(
        must!(
            client.publish(*now, message("fw/after", b"x", QoS::AtLeastOnce)),
            "publish() accepted"
        )
        .ok_or(()),
        "a Packet Identifier"
    );
    pump(client, &mut server, *now);
    check!(
        matches!(server.take_received().as_slice(), [Packet::Publish(_)]),
        "one PUBLISH and no acknowledgement of an echo"
    );
    check!(
        take_events(client).as_slice()
            == [Event::Published {
                packet_id: id,
                result: Ok(())
            }],
        "Published, and no message back after UNSUBSCRIBE"
    );

    // Keep Alive on virtual time: nothing before it elapses, PINGREQ when it does.
    let keep_alive = Duration::from_secs(KEEP_ALIVE.into());
    check!(
        client.poll_timeout() == Some(*now + keep_alive),
        "the next deadline is a Keep Alive after the last packet sent"
    );
    let early = *now + (keep_alive - Duration::from_millis(1));
    client.handle_timeout(early);
    pump(client, &mut server, early);
    check!(
        server.take_received().is_empty(),
        "no PINGREQ before the Keep Alive elapsed"
    );
    *now = *now + keep_alive;
    client.handle_timeout(*now);
    pump(client, &mut server, *now);
    check!(
        matches!(server.take_received().as_slice(), [Packet::PingReq(_)]),
        "PINGREQ once the Keep Alive elapsed"
    );
    check!(
        take_events(client).is_empty() && client.is_connected(),
        "PINGRESP keeps the connection, without an event"
    );
    check!(
        client.poll_timeout() == Some(*now + keep_alive),
        "the next PINGREQ is due a Keep Alive later"
    );
    // A second round trip, a Keep Alive later.
    *now = *now + keep_alive;
    client.handle_timeout(*now);
    pump(client, &mut server, *now);
    check!(
        matches!(server.take_received().as_slice(), [Packet::PingReq(_)]),
        "a second PINGREQ"
    );
    check!(
        take_events(client).is_empty() && client.is_connected(),
        "still connected"
    );

    // DISCONNECT.
    *now = *now + Duration::from_millis(10);
    must!(
        client.disconnect(
            *now,
            Disconnect::new(DisconnectReasonCode::NormalDisconnection)
        ),
        "disconnect() accepted"
    );
    let events = take_events(client);
    check!(
        matches!(events.as_slice(), [Event::Disconnected(d)]
            if d.reason == DisconnectReason::ByClient(DisconnectReasonCode::NormalDisconnection)),
        "one Disconnected event, by the client"
    );
    pump(client, &mut server, *now);
    let received = server.take_received();
    check!(
        matches!(received.as_slice(), [Packet::Disconnect(d)]
            if d.reason_code == DisconnectReasonCode::NormalDisconnection),
        "the server received DISCONNECT"
    );
    check!(
        client.state() == State::Disconnected && client.poll_timeout().is_none(),
        "disconnected, with no deadline"
    );
    check!(
        client.outgoing_len() == 0 && server.settled(),
        "nothing left over"
    );
    drop((events, received));
    as_peer(|| drop(server));
    in_flight
}

/// The payloads of the 4 messages in flight.
const PAYLOADS: [&[u8]; 4] = [b"first", b"second", b"third", b"fourth"];

/// Moves bytes both ways until neither side has anything left to say.
fn pump(client: &mut Client, server: &mut Server, now: Instant) {
    let mut buf = [0u8; WRITE_BUFFER];
    for _ in 0..64 {
        let mut moved = false;
        while let Some(transmit) = client.poll_transmit(&mut buf) {
            moved = true;
            let written = &buf[..transmit.len];
            as_peer(|| server.receive(written));
        }
        let answer = server.take_outbox();
        if !answer.is_empty() {
            moved = true;
            for piece in answer.chunks(CHUNK) {
                client.handle_data(now, piece);
            }
        }
        as_peer(|| drop(answer));
        if !moved {
            return;
        }
    }
    fail_at!("the exchange never settled")
}

/// A scripted MQTT server for one connection: it decodes what the client writes with
/// `Decoder::server` and answers as a broker would, echoing each PUBLISH to the subscription
/// it matches under an identifier of its own. Any packet it does not expect fails the run.
struct Server {
    decoder: Decoder,
    version: ProtocolVersion,
    subscriptions: Vec<(TopicFilter<Bytes>, QoS)>,
    next_id: u16,
    /// Our QoS 1 deliveries awaiting PUBACK.
    awaiting_puback: Vec<PacketId>,
    /// Our QoS 2 deliveries awaiting PUBREC, then PUBCOMP.
    awaiting_pubrec: Vec<PacketId>,
    awaiting_pubcomp: Vec<PacketId>,
    /// The client's QoS 2 messages awaiting PUBREL.
    awaiting_pubrel: Vec<PacketId>,
    /// Everything received, for the script to check.
    received: Vec<Packet>,
    /// Bytes for the client.
    outbox: Vec<u8>,
    /// Answers withheld while `hold` is set.
    held: Vec<u8>,
    hold: bool,
}

impl Server {
    fn new(version: ProtocolVersion) -> Self {
        Self {
            decoder: Decoder::server(Limits::new(1024)),
            version,
            subscriptions: Vec::new(),
            next_id: SERVER_FIRST_ID,
            awaiting_puback: Vec::new(),
            awaiting_pubrec: Vec::new(),
            awaiting_pubcomp: Vec::new(),
            awaiting_pubrel: Vec::new(),
            received: Vec::new(),
            outbox: Vec::new(),
            held: Vec::new(),
            hold: false,
        }
    }

    /// Bytes the client wrote.
    fn receive(&mut self, bytes: &[u8]) {
        self.decoder.push(bytes);
        loop {
            match self.decoder.decode() {
                Ok(Some(packet)) => self.handle(packet),
                Ok(None) => return,
                Err(_) => fail_at!("the server could not decode what the client wrote"),
            }
        }
    }

    fn handle(&mut self, packet: Packet) {
        match &packet {
            Packet::Connect(_) => {
                check!(
                    self.received.is_empty() && self.decoder.version() == Some(self.version),
                    "CONNECT first, in the version expected"
                );
                let mut connack = ConnAck::new(false, ConnectReasonCode::Success);
                if self.version.is_v5() {
                    connack.properties.receive_maximum = NonZeroU16::new(SERVER_RECEIVE_MAXIMUM);
                }
                self.answer(Packet::ConnAck(Box::new(connack)));
            }
            Packet::Subscribe(subscribe) => {
                let mut codes = Vec::new();
                for entry in subscribe.subscriptions.iter() {
                    let qos = entry.options.qos;
                    codes.push(match qos {
                        QoS::AtMostOnce => SubAckReasonCode::GrantedQoS0,
                        QoS::AtLeastOnce => SubAckReasonCode::GrantedQoS1,
                        QoS::ExactlyOnce => SubAckReasonCode::GrantedQoS2,
                    });
                    self.subscriptions.push((entry.filter.clone(), qos));
                }
                self.answer(Packet::SubAck(SubAck::new(subscribe.packet_id, codes)));
            }
            Packet::Unsubscribe(unsubscribe) => {
                let mut codes = Vec::new();
                for filter in unsubscribe.filters.iter() {
                    self.subscriptions.retain(|(held, _)| *held != filter);
                    codes.push(UnsubAckReasonCode::Success);
                }
                if !self.version.is_v5() {
                    codes.clear();
                }
                self.answer(Packet::UnsubAck(UnsubAck::new(
                    unsubscribe.packet_id,
                    codes,
                )));
            }
            Packet::Publish(publish) => {
                let mut forward = true;
                match publish.delivery {
                    Delivery::AtMostOnce => {}
                    Delivery::AtLeastOnce { packet_id, .. } => {
                        self.answer(Packet::PubAck(PubAck::new(packet_id)));
                    }
                    Delivery::ExactlyOnce { packet_id, .. } => {
                        // A repeated QoS 2 PUBLISH is answered again, not forwarded again.
                        forward = !self.awaiting_pubrel.contains(&packet_id);
                        if forward {
                            self.awaiting_pubrel.push(packet_id);
                        }
                        self.answer(Packet::PubRec(PubRec::new(packet_id)));
                    }
                }
                if forward {
                    self.forward(publish);
                }
            }
            Packet::PubAck(puback) => {
                check!(
                    take(&mut self.awaiting_puback, puback.packet_id),
                    "PUBACK for a QoS 1 delivery of the server"
                );
            }
            Packet::PubRec(pubrec) => {
                check!(
                    take(&mut self.awaiting_pubrec, pubrec.packet_id),
                    "PUBREC for a QoS 2 delivery of the server"
                );
                self.awaiting_pubcomp.push(pubrec.packet_id);
                self.answer(Packet::PubRel(PubRel::new(pubrec.packet_id)));
            }
            Packet::PubRel(pubrel) => {
                check!(
                    take(&mut self.awaiting_pubrel, pubrel.packet_id),
                    "PUBREL for a QoS 2 message the server received"
                );
                self.answer(Packet::PubComp(PubComp::new(pubrel.packet_id)));
            }
            Packet::PubComp(pubcomp) => {
                check!(
                    take(&mut self.awaiting_pubcomp, pubcomp.packet_id),
                    "PUBCOMP for a QoS 2 delivery of the server"
                );
            }
            Packet::PingReq(_) => self.answer(Packet::PingResp(PingResp)),
            Packet::Disconnect(_) => {}
            _ => fail_at!("a packet the server does not expect"),
        }
        self.received.push(packet);
    }

    /// Sends `publish` to the client if a subscription matches it, at the lower of the two
    /// QoS, under the server's own Packet Identifier.
    fn forward(&mut self, publish: &Publish) {
        let Some(topic) = &publish.topic else {
            fail_at!("a PUBLISH without a topic, though no alias was allowed")
        };
        let Some(granted) = self
            .subscriptions
            .iter()
            .find(|(filter, _)| filter.matches(topic.as_str()))
            .map(|(_, qos)| *qos)
        else {
            return;
        };
        let qos = publish.qos().min(granted);
        let mut copy = publish.clone();
        copy.retain = false;
        copy.delivery = match qos {
            QoS::AtMostOnce => Delivery::AtMostOnce,
            _ => {
                let id = must!(PacketId::new(self.next_id).ok_or(()), "a server id");
                self.next_id += 1;
                if qos == QoS::AtLeastOnce {
                    self.awaiting_puback.push(id);
                } else {
                    self.awaiting_pubrec.push(id);
                }
                Delivery::new(qos, id)
            }
        };
        self.answer(Packet::Publish(copy));
    }

    fn answer(&mut self, packet: Packet) {
        let out = if self.hold {
            &mut self.held
        } else {
            &mut self.outbox
        };
        must!(
            packet.encode(self.version, out),
            "the server encodes its answer"
        );
    }

    /// Sends everything withheld, and stops withholding.
    fn release(&mut self) {
        self.hold = false;
        as_peer(|| self.outbox.append(&mut self.held));
    }

    /// The identifier of the server's last delivery.
    fn last_id(&self) -> PacketId {
        PacketId::new(self.next_id - 1).unwrap_or(PacketId::MIN)
    }

    /// Whether every flow either way has completed.
    fn settled(&self) -> bool {
        self.awaiting_puback.is_empty()
            && self.awaiting_pubrec.is_empty()
            && self.awaiting_pubcomp.is_empty()
            && self.awaiting_pubrel.is_empty()
    }

    fn take_received(&mut self) -> Vec<Packet> {
        mem::take(&mut self.received)
    }

    fn take_outbox(&mut self) -> Vec<u8> {
        mem::take(&mut self.outbox)
    }
}

/// Removes `id` from `ids`; whether it was there.
fn take(ids: &mut Vec<PacketId>, id: PacketId) -> bool {
    let before = ids.len();
    ids.retain(|held| *held != id);
    ids.len() != before
}
