//! The size probe: an application as small as one can be that still uses every client command
//! (connect in 3.1.1 and 5.0, subscribe, publish at QoS 0, 1 and 2, unsubscribe, the Keep Alive
//! timer, disconnect) and every output. What code is linked depends on which functions are
//! called, not on the bytes fed, so `minimal` minus `baseline` is what the crate adds to such an
//! application, without the checking scaffolding of `device` (its transcripts and their
//! interpreter).
//!
//! The server's bytes are a CONNACK, a SUBACK, acknowledgements and one message, read through
//! `black_box` so the optimizer cannot treat them as constants. It checks only that each
//! connection came up and that the expected number of events arrived, and prints what it
//! counted.
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../setup.rs"]
mod setup;

use core::hint::black_box;
use core::time::Duration;

use bytestring::ByteString;
use cortex_m_rt::entry;
use mqtt_sansio::{
    Client, ConnectOptions, Disconnect, DisconnectReasonCode, Event, Instant, ProtocolVersion, QoS,
    SubscribeProperties, Subscription, TopicFilter, UnsubscribeProperties,
};
use mqtt_sansio_firmware::{
    check, device_heap, exit_success, hprintln, init, must, reset_device_peak, stack_peak,
};
use setup::{CONFIG, KEEP_ALIVE, message};

/// What the server says in 3.1.1: CONNACK, SUBACK (id 1), PUBACK (id 2), PUBREC (id 3),
/// PUBCOMP (id 3), a QoS 0 message, UNSUBACK (id 4), PINGRESP.
const SERVER_V311: &[u8] = b"\x20\x02\x00\x00\x90\x03\x00\x01\x02\x40\x02\x00\x02\x50\x02\x00\x03\
\x70\x02\x00\x03\x30\x06\x00\x01tmsg\xb0\x02\x00\x04\xd0\x00";
/// The same in 5.0 (with the `v5` feature), with Property Lengths and reason codes where 5.0
/// has them, for the identifiers the client hands out on its second connection: each slot of
/// its outgoing table gives its next identifier (slots are reused last freed first), so
/// SUBSCRIBE gets 8, the QoS 1 and 2 messages 7 and 6, and UNSUBSCRIBE 5.
#[cfg(feature = "v5")]
const SERVER_V5: &[u8] = b"\x20\x03\x00\x00\x00\x90\x04\x00\x08\x00\x02\x40\x02\x00\x07\x50\x02\
\x00\x06\x70\x02\x00\x06\x30\x07\x00\x01t\x00msg\xb0\x04\x00\x05\x00\x00\xd0\x00";

#[entry]
fn main() -> ! {
    init();
    reset_device_peak();
    let mut client = Client::new(CONFIG);
    let mut now = Instant::ZERO;
    let mut written = 0;
    let mut events = 0;
    for (version, server) in [
        (ProtocolVersion::V3_1_1, SERVER_V311),
        #[cfg(feature = "v5")]
        (ProtocolVersion::V5, SERVER_V5),
    ] {
        let options = must!(ConnectOptions::new(version, "probe"), "a client id");
        must!(
            client.connect(now, options.keep_alive(KEEP_ALIVE)),
            "connect"
        );
        let filter = must!(TopicFilter::new(ByteString::from_static("t/#")), "a filter");
        // The commands are queued before the CONNACK arrives, as an application that does
        // not wait for it queues them; they go out once it has.
        must!(
            client.subscribe(
                now,
                [Subscription::new(filter.clone(), QoS::ExactlyOnce)],
                SubscribeProperties::new()
            ),
            "subscribe"
        );
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
            must!(
                client.publish(now, message("t/x", b"probe", qos)),
                "publish"
            );
        }
        must!(
            client.unsubscribe(now, [filter], UnsubscribeProperties::new()),
            "unsubscribe"
        );
        written += drain(&mut client);
        client.handle_data(now, black_box(server));
        written += drain(&mut client);
        now = now + Duration::from_secs(KEEP_ALIVE.into());
        if let Some(deadline) = client.poll_timeout() {
            client.handle_timeout(deadline.max(now));
        }
        written += drain(&mut client);
        must!(
            client.disconnect(
                now,
                Disconnect::new(DisconnectReasonCode::NormalDisconnection)
            ),
            "disconnect"
        );
        written += drain(&mut client);
        let mut connected = false;
        while let Some(event) = client.poll_event() {
            events += 1;
            match event {
                Event::Connected(_) => connected = true,
                Event::Message(publish) => written += publish.payload.len(),
                _ => {}
            }
        }
        check!(connected, "the probe connected");
    }
    // Per connection: Connected, Subscribed, two Published, Message, Unsubscribed,
    // Disconnected.
    let expected = if cfg!(feature = "v5") { 14 } else { 7 };
    check!(events == expected, "{} events, not {}", expected, events);
    let heap = device_heap();
    drop(client);
    hprintln!(
        "minimal: {} bytes written and received, {} events",
        written,
        events
    );
    hprintln!("heap, device, whole run: {}", heap);
    hprintln!("stack: peak {} B", stack_peak());
    exit_success()
}

/// Writes everything the client has queued into a small buffer and counts the bytes.
fn drain(client: &mut Client) -> usize {
    let mut buf = [0u8; 128];
    let mut total = 0;
    while let Some(transmit) = client.poll_transmit(&mut buf) {
        black_box(&buf[..transmit.len]);
        total += transmit.len;
    }
    total
}
