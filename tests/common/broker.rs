//! A virtual-time harness for the broker: several raw connections to one [`Broker`], the test
//! playing every client byte by byte.
//!
//! [`Harness::send`] encodes a packet in the connection's version and hands it to the broker;
//! [`Harness::sent`] decodes what the broker wrote for that connection with a client-side
//! [`Decoder`] of its own (so an invalid packet from the broker fails the test);
//! [`Harness::advance`] moves the clock and fires the broker's timers. After every input the
//! harness acts as a driver would: it drains every [`poll_transmit`](Broker::poll_transmit)
//! into per-connection buffers, collects the events, and for an [`Event::Close`] writes the
//! last bytes and calls [`handle_closed`](Broker::handle_closed). Time never passes unless a
//! test moves it.

use std::time::Duration;

use bytes::Bytes;
use mqtt_sansio::broker::{AllowAll, CloseReason, ConnectionHandle, Event, Policy};
use mqtt_sansio::{
    Broker, BrokerConfig, ConnAck, Connect, ConnectReasonCode, Decoder, Delivery, Instant, Limits,
    MqttString, Packet, PacketId, ProtocolVersion, Publish, QoS, SubAck, SubAckReasonCode,
    Subscribe, Subscription, SubscriptionOptions, TopicFilter, TopicName,
};

/// A connection of the harness, by its place in the harness's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Conn(usize);

/// One client's end of a connection.
struct Client {
    /// The broker's handle of the connection.
    handle: ConnectionHandle,
    /// The version the client speaks: packets are encoded and decoded in it.
    version: ProtocolVersion,
    /// Reads what the broker wrote, as a client of `version` would.
    decoder: Decoder,
    /// Bytes the broker wrote that the test has not looked at yet.
    inbox: Vec<u8>,
    /// Why the broker closed it, once it did.
    closed: Option<CloseReason>,
    /// The next Packet Identifier for a SUBSCRIBE or UNSUBSCRIBE the harness builds.
    next_id: u16,
}

/// A broker, the clients' ends of its connections, and the virtual clock.
pub(crate) struct Harness<P: Policy = AllowAll> {
    /// The broker under test.
    pub(crate) broker: Broker<P>,
    /// The virtual clock: every input is given this time.
    pub(crate) now: Instant,
    /// The clients' ends of the connections, by [`Conn`].
    clients: Vec<Client>,
    /// Events not yet taken by [`Harness::events`].
    events: Vec<Event>,
    /// The size of the buffer handed to `poll_transmit`.
    buffer: usize,
}

impl Harness<AllowAll> {
    /// A broker with `config` that allows everything, at time 0.
    pub(crate) fn new(config: BrokerConfig) -> Self {
        Self::with_policy(config, AllowAll)
    }
}

impl<P: Policy> Harness<P> {
    /// A broker with `config` and `policy`, at time 0.
    pub(crate) fn with_policy(config: BrokerConfig, policy: P) -> Self {
        Self {
            broker: Broker::with_policy(config, policy),
            now: Instant::ZERO,
            clients: Vec::new(),
            events: Vec::new(),
            buffer: 64 * 1024,
        }
    }

    /// Hands `poll_transmit` buffers of `size` bytes from now on.
    pub(crate) fn set_buffer_size(&mut self, size: usize) {
        self.buffer = size;
    }

    // ---- connections ----

    /// A new socket the broker accepts; its bytes are read as `version` speaks (what the
    /// CONNECT sent on it should say).
    pub(crate) fn open(&mut self, version: ProtocolVersion) -> Conn {
        let handle = self.broker.accept(self.now).expect("accept");
        self.clients.push(Client {
            handle,
            version,
            decoder: Decoder::client(version, Limits::default()),
            inbox: Vec::new(),
            closed: None,
            next_id: 100,
        });
        Conn(self.clients.len() - 1)
    }

    /// Opens a connection and sends `connect` on it; returns the connection, the CONNACK
    /// (which must be the first thing the broker wrote) and whatever followed it.
    #[track_caller]
    pub(crate) fn connect_with(&mut self, connect: Connect) -> (Conn, ConnAck, Vec<Packet>) {
        let conn = self.open(connect.protocol_version);
        self.send(conn, connect);
        let mut sent = self.sent(conn).into_iter();
        match sent.next() {
            Some(Packet::ConnAck(connack)) => (conn, *connack, sent.collect()),
            other => panic!("expected a CONNACK first, got {other:?}"),
        }
    }

    /// Connects `client_id` in `version` with a Clean Start, no Keep Alive and no Session
    /// Expiry; panics unless the CONNACK accepts it without a session and nothing follows.
    #[track_caller]
    pub(crate) fn connect(&mut self, version: ProtocolVersion, client_id: &str) -> Conn {
        let (conn, connack, rest) = self.connect_with(connect_packet(version, client_id));
        assert_eq!(
            connack.reason_code,
            ConnectReasonCode::Success,
            "{connack:?}"
        );
        assert!(!connack.session_present, "{connack:?}");
        assert_eq!(rest, [], "{version} {client_id}: nothing after CONNACK");
        conn
    }

    /// Connects `client_id` in `version` keeping its session: Clean Start 0 and, in 5.0, a
    /// Session Expiry Interval of `expiry` seconds. Panics unless the CONNACK accepts it;
    /// returns the connection, the Session Present flag and what followed the CONNACK.
    #[track_caller]
    pub(crate) fn resume(
        &mut self,
        version: ProtocolVersion,
        client_id: &str,
        expiry: u32,
    ) -> (Conn, bool, Vec<Packet>) {
        let (conn, connack, rest) = self.connect_with(keep_session(version, client_id, expiry));
        assert_eq!(
            connack.reason_code,
            ConnectReasonCode::Success,
            "{connack:?}"
        );
        (conn, connack.session_present, rest)
    }

    /// The protocol version `conn` speaks.
    pub(crate) fn version(&self, conn: Conn) -> ProtocolVersion {
        self.clients[conn.0].version
    }

    /// The broker's handle of `conn`.
    pub(crate) fn handle(&self, conn: Conn) -> ConnectionHandle {
        self.clients[conn.0].handle
    }

    /// Why the broker closed `conn`, if it did.
    pub(crate) fn closed(&self, conn: Conn) -> Option<CloseReason> {
        self.clients[conn.0].closed
    }

    /// The client's socket closes (no DISCONNECT): the broker sees an abnormal end.
    pub(crate) fn drop_socket(&mut self, conn: Conn) {
        let handle = self.clients[conn.0].handle;
        self.broker.handle_closed(self.now, handle);
        self.drain();
    }

    // ---- input ----

    /// The client sends `packet`, encoded in the connection's version.
    #[track_caller]
    pub(crate) fn send(&mut self, conn: Conn, packet: impl Into<Packet>) {
        let bytes = self.encode(conn, packet);
        self.send_bytes(conn, &bytes);
    }

    /// The client sends `packets` in one write, so the broker reads them in one call.
    #[track_caller]
    pub(crate) fn send_all(&mut self, conn: Conn, packets: impl IntoIterator<Item = Packet>) {
        let mut bytes = Vec::new();
        for packet in packets {
            bytes.extend(self.encode(conn, packet));
        }
        self.send_bytes(conn, &bytes);
    }

    /// `packet` in the connection's version.
    #[track_caller]
    pub(crate) fn encode(&self, conn: Conn, packet: impl Into<Packet>) -> Vec<u8> {
        let mut bytes = Vec::new();
        packet
            .into()
            .encode(self.clients[conn.0].version, &mut bytes)
            .expect("encodable packet");
        bytes
    }

    /// The client sends raw bytes.
    pub(crate) fn send_bytes(&mut self, conn: Conn, bytes: &[u8]) {
        let handle = self.clients[conn.0].handle;
        self.broker.handle_data(self.now, handle, bytes);
        self.drain();
    }

    /// Moves the clock forward by `millis` and fires the broker's timers.
    pub(crate) fn advance(&mut self, millis: u64) {
        self.now = self.now + Duration::from_millis(millis);
        self.broker.handle_timeout(self.now);
        self.drain();
    }

    /// Calls a command of the broker as the driver would, at the harness's time, then takes
    /// its output.
    pub(crate) fn command<R>(&mut self, command: impl FnOnce(&mut Broker<P>, Instant) -> R) -> R {
        let result = command(&mut self.broker, self.now);
        self.drain();
        result
    }

    // ---- output ----

    /// Every packet the broker wrote for `conn` since the last call, decoded as its client
    /// reads them; panics if the broker wrote an invalid packet or a partial one.
    #[track_caller]
    pub(crate) fn sent(&mut self, conn: Conn) -> Vec<Packet> {
        let client = &mut self.clients[conn.0];
        let bytes = std::mem::take(&mut client.inbox);
        client.decoder.push(&bytes);
        let mut packets = Vec::new();
        loop {
            match client.decoder.decode() {
                Ok(Some(packet)) => packets.push(packet),
                Ok(None) => break,
                Err(failure) => panic!("the broker wrote an invalid packet: {failure:?}"),
            }
        }
        assert_eq!(
            client.decoder.buffered(),
            0,
            "a partial packet: {bytes:02x?}"
        );
        packets
    }

    /// Every byte the broker wrote for `conn` since the last call, undecoded.
    pub(crate) fn sent_bytes(&mut self, conn: Conn) -> Vec<u8> {
        std::mem::take(&mut self.clients[conn.0].inbox)
    }

    /// Every event the broker reported since the last call.
    pub(crate) fn events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Acts as the driver: writes everything the broker has for every connection into their
    /// buffers, takes its events, and closes the sockets it names once their bytes are out.
    fn drain(&mut self) {
        let mut buf = vec![0u8; self.buffer];
        for _ in 0..100_000 {
            let mut moved = false;
            while let Some(transmit) = self.broker.poll_transmit(&mut buf) {
                moved = true;
                assert!(transmit.len > 0, "an empty transmit");
                let client = self
                    .clients
                    .iter_mut()
                    .find(|client| client.handle == transmit.connection)
                    .expect("a transmit for a connection the harness opened");
                client.inbox.extend_from_slice(&buf[..transmit.len]);
            }
            while let Some(event) = self.broker.poll_event() {
                moved = true;
                if let Event::Close { connection, reason } = event {
                    // The last bytes first, then the socket, as a driver does.
                    while let Some(transmit) = self.broker.poll_transmit(&mut buf) {
                        if let Some(client) = self
                            .clients
                            .iter_mut()
                            .find(|client| client.handle == transmit.connection)
                        {
                            client.inbox.extend_from_slice(&buf[..transmit.len]);
                        }
                    }
                    if let Some(client) = self
                        .clients
                        .iter_mut()
                        .find(|client| client.handle == connection)
                    {
                        assert!(client.closed.is_none(), "closed twice: {connection:?}");
                        client.closed = Some(reason);
                    }
                    self.broker.handle_closed(self.now, connection);
                }
                self.events.push(event);
            }
            if !moved {
                return;
            }
        }
        panic!("the broker never went quiet");
    }

    // ---- subscriptions ----

    /// The next Packet Identifier for a SUBSCRIBE or UNSUBSCRIBE on `conn`.
    pub(crate) fn next_id(&mut self, conn: Conn) -> PacketId {
        let client = &mut self.clients[conn.0];
        client.next_id += 1;
        pid(client.next_id)
    }

    /// Subscribes `conn` to `filter` at `qos`; panics unless the first packet back is a SUBACK
    /// with its identifier granting `qos`. Returns what followed (retained messages).
    #[track_caller]
    pub(crate) fn subscribe(&mut self, conn: Conn, filter: &str, qos: QoS) -> Vec<Packet> {
        self.subscribe_with(conn, filter, SubscriptionOptions::new(qos), None)
    }

    /// Subscribes `conn` to `filter` with `options` and, in 5.0, Subscription Identifier `id`;
    /// panics unless the SUBACK grants `options.qos`. Returns what followed the SUBACK.
    #[track_caller]
    pub(crate) fn subscribe_with(
        &mut self,
        conn: Conn,
        filter: &str,
        options: SubscriptionOptions,
        id: Option<u32>,
    ) -> Vec<Packet> {
        let packet_id = self.next_id(conn);
        let mut subscribe = Subscribe::new(
            packet_id,
            [Subscription {
                filter: topic_filter(filter),
                options,
            }],
        );
        subscribe.properties.subscription_identifier =
            id.map(|id| mqtt_sansio::SubscriptionId::new(id).unwrap());
        self.send(conn, subscribe);
        let mut sent = self.sent(conn).into_iter();
        let expected = SubAck::new(packet_id, [granted(options.qos)]);
        match sent.next() {
            Some(Packet::SubAck(suback)) => assert_eq!(suback, expected, "{filter}"),
            other => panic!("expected a SUBACK for {filter}, got {other:?}"),
        }
        sent.collect()
    }
}

// ---- packets ----

/// A CONNECT of `client_id` in `version`: Clean Start, no Keep Alive, will or properties.
pub(crate) fn connect_packet(version: ProtocolVersion, client_id: &str) -> Connect {
    Connect::new(version, text(client_id))
}

/// A CONNECT that keeps the session: Clean Start 0 and, in 5.0, Session Expiry `expiry`.
pub(crate) fn keep_session(version: ProtocolVersion, client_id: &str, expiry: u32) -> Connect {
    let mut connect = connect_packet(version, client_id);
    connect.clean_start = false;
    if version.is_v5() {
        connect.properties.session_expiry_interval = Some(expiry);
    }
    connect
}

/// A UTF-8 string field.
pub(crate) fn text(value: &str) -> MqttString<Bytes> {
    MqttString::new(bytestring::ByteString::from(value)).unwrap()
}

/// A Topic Name.
pub(crate) fn topic(value: &str) -> TopicName<Bytes> {
    TopicName::new(bytestring::ByteString::from(value)).unwrap()
}

/// A Topic Filter.
pub(crate) fn topic_filter(value: &str) -> TopicFilter<Bytes> {
    TopicFilter::new(bytestring::ByteString::from(value)).unwrap()
}

/// A Packet Identifier, which must not be 0.
pub(crate) fn pid(value: u16) -> PacketId {
    PacketId::new(value).expect("non-zero packet identifier")
}

/// A PUBLISH of `payload` on `topic` at `qos`, with Packet Identifier `id` for QoS 1 and 2
/// (ignored for QoS 0), DUP 0 and RETAIN 0.
pub(crate) fn publish(topic_name: &str, payload: &[u8], qos: QoS, id: u16) -> Publish {
    let mut publish = Publish::new(topic(topic_name), Bytes::copy_from_slice(payload));
    if qos != QoS::AtMostOnce {
        publish.delivery = Delivery::new(qos, pid(id));
    }
    publish
}

/// The same PUBLISH with RETAIN set.
pub(crate) fn retained(mut publish: Publish) -> Publish {
    publish.retain = true;
    publish
}

/// The SUBACK code that grants `qos`.
pub(crate) fn granted(qos: QoS) -> SubAckReasonCode {
    match qos {
        QoS::AtMostOnce => SubAckReasonCode::GrantedQoS0,
        QoS::AtLeastOnce => SubAckReasonCode::GrantedQoS1,
        QoS::ExactlyOnce => SubAckReasonCode::GrantedQoS2,
    }
}

/// Subscription options: `qos` with the 5.0 flags given.
pub(crate) fn options(
    qos: QoS,
    no_local: bool,
    retain_as_published: bool,
    retain_handling: mqtt_sansio::RetainHandling,
) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        no_local,
        retain_as_published,
        retain_handling,
    }
}

/// What a delivered PUBLISH says, in a form easy to compare: topic, payload, QoS, RETAIN,
/// DUP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Got {
    /// The Topic Name.
    pub(crate) topic: String,
    /// The payload.
    pub(crate) payload: Vec<u8>,
    /// The QoS.
    pub(crate) qos: QoS,
    /// The RETAIN flag.
    pub(crate) retain: bool,
    /// The DUP flag.
    pub(crate) dup: bool,
}

/// A delivery of `payload` on `topic` at `qos`, RETAIN and DUP 0.
pub(crate) fn got(topic: &str, payload: &[u8], qos: QoS) -> Got {
    Got {
        topic: topic.to_owned(),
        payload: payload.to_vec(),
        qos,
        retain: false,
        dup: false,
    }
}

impl Got {
    /// The same delivery with RETAIN set.
    pub(crate) fn retained(mut self) -> Self {
        self.retain = true;
        self
    }
}

/// The PUBLISH packets among `packets`, as [`Got`]; panics on any other packet.
#[track_caller]
pub(crate) fn deliveries(packets: &[Packet]) -> Vec<Got> {
    packets
        .iter()
        .map(|packet| match packet {
            Packet::Publish(publish) => Got {
                topic: publish.topic.as_ref().expect("a topic").as_str().to_owned(),
                payload: publish.payload.to_vec(),
                qos: publish.qos(),
                retain: publish.retain,
                dup: publish.is_dup(),
            },
            other => panic!("expected only PUBLISH packets, got {other:?}"),
        })
        .collect()
}

/// The one PUBLISH among `packets`; panics unless there is exactly one packet.
#[track_caller]
pub(crate) fn only_publish(packets: Vec<Packet>) -> Publish {
    match <[Packet; 1]>::try_from(packets) {
        Ok([Packet::Publish(publish)]) => publish,
        Ok(other) => panic!("expected one PUBLISH, got {other:?}"),
        Err(packets) => panic!("expected one PUBLISH, got {packets:?}"),
    }
}

/// The one DISCONNECT among `packets`' reason code; panics unless there is exactly one packet.
#[track_caller]
pub(crate) fn only_disconnect(packets: Vec<Packet>) -> mqtt_sansio::Disconnect {
    match <[Packet; 1]>::try_from(packets) {
        Ok([Packet::Disconnect(disconnect)]) => disconnect,
        Ok(other) => panic!("expected one DISCONNECT, got {other:?}"),
        Err(packets) => panic!("expected one DISCONNECT, got {packets:?}"),
    }
}
