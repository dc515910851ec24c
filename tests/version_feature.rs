//! The `v5` feature: a build without it speaks 3.1 and 3.1.1 only and says so the way a
//! 3.1.1 server must; the durable formats (the broker's snapshot, the client's session state)
//! name the packet layout they hold, so a build with `v5` reads what a build without it wrote
//! and a build without it refuses, by name, what it cannot read.
//!
//! CI runs the suite in both builds: `--all-features` and the default build have `v5`,
//! `--no-default-features` does not.

use bytes::Bytes;
use mqtt_sansio::broker::{AllowAll, SnapshotError};
use mqtt_sansio::{Broker, BrokerConfig, Instant, ProtocolVersion, SessionState};

/// A broker snapshot in format 2 (3.1.1 packets): no stored message, one retained message
/// (age 0, `a/b` = `hi`, QoS 0), no session.
const SNAPSHOT_V2: &[u8] = b"MQBS\x02\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\
\x31\x07\x00\x03a/bhi\0\0\0\0";

/// The same in format 1 (5.0 packets: a Property Length after the topic).
const SNAPSHOT_V1: &[u8] = b"MQBS\x01\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\
\x31\x08\x00\x03a/b\x00hi\0\0\0\0";

/// A client session state in format 2 (3.1.1 packets): one QoS 1 PUBLISH, id 1, not sent.
const SESSION_V2: &[u8] = b"MQSS\x02\0\0\0\x01\x32\x09\x00\x03a/b\x00\x01hi";

/// The same in format 1 (5.0 packets).
const SESSION_V1: &[u8] = b"MQSS\x01\0\0\0\x01\x32\x0a\x00\x03a/b\x00\x01\x00hi";

fn restore(snapshot: &[u8]) -> Result<Broker, SnapshotError> {
    Broker::restore(BrokerConfig::default(), AllowAll, Instant::ZERO, snapshot)
}

fn encoded(state: &SessionState) -> Vec<u8> {
    let mut out = Vec::new();
    state.encode(&mut out).unwrap();
    out
}

/// The newest version is the one the build speaks; `ALL` lists exactly the versions
/// `from_level` knows.
#[test]
fn latest_and_all_follow_the_feature() {
    let expected = if cfg!(feature = "v5") { 5 } else { 4 };
    assert_eq!(ProtocolVersion::LATEST.level(), expected);
    assert_eq!(ProtocolVersion::ALL.last(), Some(&ProtocolVersion::LATEST));
    let known: Vec<u8> = (0..=u8::MAX)
        .filter(|&level| ProtocolVersion::from_level(level).is_some())
        .collect();
    let listed: Vec<u8> = ProtocolVersion::ALL.iter().map(|v| v.level()).collect();
    assert_eq!(known, listed);
    assert_eq!(ProtocolVersion::LATEST.is_v5(), cfg!(feature = "v5"));
}

/// A build with `v5` restores a snapshot a build without it wrote, and writes it back in
/// its own format, 5.0 packets.
#[cfg(feature = "v5")]
#[test]
fn snapshot_of_a_build_without_v5_is_restored() {
    let broker = restore(SNAPSHOT_V2).unwrap();
    assert_eq!(broker.stats().retained, 1);
    assert_eq!(broker.snapshot(Instant::ZERO).unwrap(), SNAPSHOT_V1);
}

/// A build with `v5` restores a client session state a build without it wrote.
#[cfg(feature = "v5")]
#[test]
fn session_state_of_a_build_without_v5_is_restored() {
    use mqtt_sansio::{Client, ClientConfig};

    let state = SessionState::decode(Bytes::from_static(SESSION_V2)).unwrap();
    assert_eq!(state.len(), 1);
    assert_eq!(encoded(&state), SESSION_V1);
    let mut client = Client::new(ClientConfig::default());
    client.restore_session(state).unwrap();
    assert_eq!(client.session().len(), 1);
}

/// Without `v5`, a 5.0 CONNECT is answered as 3.1.1 requires of a server that does not speak
/// the requested level: CONNACK return code 0x01 (unacceptable protocol version), then close.
/// conformance: v311:MQTT-3.1.2-2
#[cfg(not(feature = "v5"))]
#[test]
fn connect_of_level_5_is_refused_with_return_code_1() {
    use mqtt_sansio::broker::Event;

    let mut broker = Broker::new(BrokerConfig::default());
    let conn = broker.accept(Instant::ZERO).unwrap();
    // CONNECT: "MQTT", level 5, Clean Start, Keep Alive 60, no properties, empty client id.
    broker.handle_data(
        Instant::ZERO,
        conn,
        b"\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00",
    );
    let mut buf = [0u8; 64];
    let transmit = broker.poll_transmit(&mut buf).unwrap();
    assert_eq!(transmit.connection, conn);
    assert_eq!(&buf[..transmit.len], b"\x20\x02\x00\x01");
    let mut closed = false;
    while let Some(event) = broker.poll_event() {
        closed |= matches!(event, Event::Close { connection, .. } if connection == conn);
    }
    assert!(closed, "the connection is closed after the CONNACK");
    assert_eq!(broker.stats().sessions, 0);
}

/// Without `v5`, the broker writes format 2 and reads it back; format 1, whose 5.0 packets it
/// cannot decode, is refused by its version.
#[cfg(not(feature = "v5"))]
#[test]
fn snapshot_is_format_2_and_format_1_is_refused() {
    let broker = restore(SNAPSHOT_V2).unwrap();
    assert_eq!(broker.stats().retained, 1);
    assert_eq!(broker.snapshot(Instant::ZERO).unwrap(), SNAPSHOT_V2);
    assert_eq!(restore(SNAPSHOT_V1).err(), Some(SnapshotError::Version(1)));
}

/// Without `v5`, the client's session state is format 2, and format 1 is refused.
#[cfg(not(feature = "v5"))]
#[test]
fn session_state_is_format_2_and_format_1_is_refused() {
    use mqtt_sansio::SessionStateError;

    let state = SessionState::decode(Bytes::from_static(SESSION_V2)).unwrap();
    assert_eq!(state.len(), 1);
    assert_eq!(encoded(&state), SESSION_V2);
    assert_eq!(
        SessionState::decode(Bytes::from_static(SESSION_V1)),
        Err(SessionStateError::Header)
    );
}
