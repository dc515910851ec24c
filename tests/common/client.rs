//! A virtual-time harness for the client: a [`Client`] against a scripted server.
//!
//! The test plays the server. [`Harness::sent`] drains what the client wrote and decodes it as
//! a server would (a fresh server-side decoder per connection, so the first packet must be a
//! CONNECT); [`Harness::receive`] encodes a packet in the connection's version and hands it to
//! the client; [`Harness::advance`] moves the virtual clock and fires the client's timer if it
//! is due. Time never passes unless a test moves it.

use std::time::Duration;

use bytes::Bytes;
use mqtt_sansio::{
    Client, ClientConfig, ConnAck, ConnectOptions, ConnectReasonCode, Connected, Decoder, Delivery,
    Event, Instant, Limits, Packet, PacketId, ProtocolVersion, Publish, QoS, TopicName,
};

/// A client, the server's view of the wire, and the virtual clock.
pub(crate) struct Harness {
    pub(crate) client: Client,
    pub(crate) now: Instant,
    pub(crate) version: ProtocolVersion,
    server: Decoder,
}

impl Harness {
    /// A client with `config`, not connected, at time 0.
    pub(crate) fn new(config: ClientConfig) -> Self {
        Self {
            client: Client::new(config),
            now: Instant::ZERO,
            version: ProtocolVersion::LATEST,
            server: Decoder::server(Limits::default()),
        }
    }

    /// Starts a connection with `options` (a new transport: the server's decoder starts
    /// over) and returns the CONNECT the client wrote.
    pub(crate) fn connect(&mut self, options: ConnectOptions) -> Packet {
        self.version = options.version();
        self.server = Decoder::server(Limits::default());
        self.client.connect(self.now, options).expect("connect");
        let sent = self.sent();
        assert_eq!(sent.len(), 1, "one CONNECT: {sent:?}");
        sent.into_iter().next().unwrap()
    }

    /// Connects with `options` and accepts with `connack`; returns what `Event::Connected`
    /// said. Any other event is a test failure.
    pub(crate) fn connect_with(&mut self, options: ConnectOptions, connack: ConnAck) -> Connected {
        self.connect(options);
        self.receive(connack);
        let mut connected = None;
        for event in self.events() {
            match event {
                Event::Connected(info) => connected = Some(*info),
                Event::Published { .. } => {}
                other => panic!("unexpected event while connecting: {other:?}"),
            }
        }
        connected.expect("Event::Connected")
    }

    /// Connects in `version` with a Clean Start and a plain accepting CONNACK.
    pub(crate) fn connected(config: ClientConfig, version: ProtocolVersion) -> Self {
        let mut harness = Self::new(config);
        harness.connect_with(
            ConnectOptions::new(version, "client").unwrap(),
            ConnAck::new(false, ConnectReasonCode::Success),
        );
        harness
    }

    /// Every packet the client has queued, decoded as the server reads them.
    pub(crate) fn sent(&mut self) -> Vec<Packet> {
        let bytes = self.sent_bytes();
        self.server.push(&bytes);
        let mut packets = Vec::new();
        while let Some(packet) = self
            .server
            .decode()
            .expect("the client sent a valid packet")
        {
            packets.push(packet);
        }
        packets
    }

    /// Every byte the client has queued, drained with a 4 KiB buffer.
    pub(crate) fn sent_bytes(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        for _ in 0..10_000 {
            let Some(transmit) = self.client.poll_transmit(&mut buf) else {
                return out;
            };
            out.extend_from_slice(&buf[..transmit.len]);
        }
        panic!("poll_transmit never ran dry");
    }

    /// The server sends `packet`, encoded in the connection's version.
    pub(crate) fn receive(&mut self, packet: impl Into<Packet>) {
        let packet = packet.into();
        let mut buf = Vec::new();
        packet
            .encode(self.version, &mut buf)
            .expect("encodable packet");
        self.client.handle_data(self.now, &buf);
    }

    /// The server sends raw bytes.
    pub(crate) fn receive_bytes(&mut self, bytes: &[u8]) {
        self.client.handle_data(self.now, bytes);
    }

    /// Every event the client has queued.
    pub(crate) fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }

    /// Moves the clock forward by `millis` and fires the client's timer if it is due.
    pub(crate) fn advance(&mut self, millis: u64) {
        self.now = self.now + Duration::from_millis(millis);
        self.client.handle_timeout(self.now);
    }

    /// Jumps to the client's next deadline and fires it; returns false if it has none.
    pub(crate) fn advance_to_deadline(&mut self) -> bool {
        let Some(deadline) = self.client.poll_timeout() else {
            return false;
        };
        self.now = self.now.max(deadline);
        self.client.handle_timeout(self.now);
        true
    }

    /// The transport breaks.
    pub(crate) fn drop_transport(&mut self) {
        self.client.handle_closed(self.now);
    }
}

/// A message on `topic` at `qos` (placeholder identifier), as an application passes it to
/// `Client::publish`.
pub(crate) fn message(topic: &str, payload: &'static [u8], qos: QoS) -> Publish {
    Publish::new(
        TopicName::new(bytestring::ByteString::from(topic)).unwrap(),
        Bytes::from_static(payload),
    )
    .with_qos(qos)
}

/// A PUBLISH from the server with this identifier.
pub(crate) fn incoming(topic: &str, payload: &'static [u8], qos: QoS, id: u16) -> Publish {
    let mut publish = message(topic, payload, qos);
    publish.delivery = Delivery::new(qos, PacketId::new(id).unwrap());
    publish
}

// ---- Shared by the client conformance tests (packet ids, QoS flows, sessions, aliases,
// quota, offline queue). ----

/// Connect options that keep the session between connections: Clean Start 0 and, in 5.0, a
/// Session Expiry Interval of an hour.
pub(crate) fn keep_session(version: ProtocolVersion) -> ConnectOptions {
    let options = ConnectOptions::new(version, "client")
        .unwrap()
        .clean_start(false);
    if version.is_v5() {
        options.session_expiry_interval(3600)
    } else {
        options
    }
}

/// The CONNACK of a server that kept the session: Session Present 1, except in MQTT 3.1,
/// whose CONNACK has no such flag (a 3.1 client resumes the session it asked to keep).
pub(crate) fn session_resumed(version: ProtocolVersion) -> ConnAck {
    ConnAck::new(version != ProtocolVersion::V3_1, ConnectReasonCode::Success)
}

/// The outgoing PUBLISH the server should read for a QoS 1 or 2 message: topic, payload,
/// identifier and DUP flag, nothing else.
pub(crate) fn sent_publish(
    topic: &str,
    payload: &'static [u8],
    qos: QoS,
    id: PacketId,
    dup: bool,
) -> Packet {
    let mut publish = message(topic, payload, qos);
    publish.delivery = Delivery::new(qos, id).with_dup(dup);
    Packet::Publish(publish)
}

/// The event of a QoS 1 or 2 message the server acknowledged.
pub(crate) fn published(packet_id: PacketId) -> Event {
    Event::Published {
        packet_id,
        result: Ok(()),
    }
}

impl Harness {
    /// Publishes `message`, which the client must accept; its Packet Identifier, if QoS > 0.
    pub(crate) fn publish(&mut self, message: Publish) -> Option<PacketId> {
        self.client.publish(self.now, message).expect("publish")
    }

    /// Subscribes to `filter` at QoS 1, which the client must accept; the identifier.
    pub(crate) fn subscribe(&mut self, filter: &str) -> PacketId {
        let filter = mqtt_sansio::TopicFilter::new(bytestring::ByteString::from(filter)).unwrap();
        let subscription = mqtt_sansio::Subscription::new(filter, QoS::AtLeastOnce);
        self.client
            .subscribe(self.now, [subscription], Default::default())
            .expect("subscribe")
    }

    /// Unsubscribes from `filter`, which the client must accept; the identifier.
    pub(crate) fn unsubscribe(&mut self, filter: &str) -> PacketId {
        let filter = mqtt_sansio::TopicFilter::new(bytestring::ByteString::from(filter)).unwrap();
        self.client
            .unsubscribe(self.now, [filter], Default::default())
            .expect("unsubscribe")
    }

    /// The server sends `packets` in one read, so the client handles them in one call.
    pub(crate) fn receive_all(&mut self, packets: impl IntoIterator<Item = Packet>) {
        let mut wire = Vec::new();
        for packet in packets {
            packet
                .encode(self.version, &mut wire)
                .expect("encodable packet");
        }
        self.client.handle_data(self.now, &wire);
    }

    /// The server grants a one-filter SUBSCRIBE at QoS 1.
    pub(crate) fn receive_suback(&mut self, id: PacketId) {
        self.receive(mqtt_sansio::SubAck::new(
            id,
            [mqtt_sansio::SubAckReasonCode::GrantedQoS1],
        ));
    }

    /// The server answers a one-filter UNSUBSCRIBE (a reason code only in 5.0).
    pub(crate) fn receive_unsuback(&mut self, id: PacketId) {
        let codes = self
            .version
            .is_v5()
            .then_some(mqtt_sansio::UnsubAckReasonCode::Success);
        self.receive(mqtt_sansio::UnsubAck::new(id, codes));
    }
}

/// A UTF-8 string field, for building expected packets.
pub(crate) fn text(value: &str) -> mqtt_sansio::MqttString<Bytes> {
    mqtt_sansio::MqttString::new(bytestring::ByteString::from(value)).unwrap()
}

/// A subscription to `filter` at `qos`.
pub(crate) fn subscription(filter: &str, qos: QoS) -> mqtt_sansio::Subscription {
    mqtt_sansio::Subscription::new(
        mqtt_sansio::TopicFilter::new(bytestring::ByteString::from(filter)).unwrap(),
        qos,
    )
}

/// An accepting CONNACK with these 5.0 properties.
pub(crate) fn connack_with(properties: mqtt_sansio::ConnAckProperties) -> ConnAck {
    let mut connack = ConnAck::new(false, ConnectReasonCode::Success);
    connack.properties = properties;
    connack
}

/// The end of a connection: panics unless `events` is exactly one `Event::Disconnected`.
#[track_caller]
pub(crate) fn only_disconnected(events: Vec<Event>) -> mqtt_sansio::Disconnected {
    match <[Event; 1]>::try_from(events) {
        Ok([Event::Disconnected(disconnected)]) => disconnected,
        Ok(other) => panic!("expected one Event::Disconnected, got {other:?}"),
        Err(events) => panic!("expected one Event::Disconnected, got {events:?}"),
    }
}

impl Harness {
    /// Like [`Harness::connect`], but hands back `connect`'s error instead of panicking; on
    /// success the server's decoder starts over (a new transport) and the packets written are
    /// returned.
    pub(crate) fn try_connect(
        &mut self,
        options: ConnectOptions,
    ) -> Result<Vec<Packet>, mqtt_sansio::UsageError> {
        let version = options.version();
        self.client.connect(self.now, options)?;
        self.version = version;
        self.server = Decoder::server(Limits::default());
        Ok(self.sent())
    }
}
