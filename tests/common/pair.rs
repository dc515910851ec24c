//! Clients and a broker of this crate talking to each other in memory, on virtual time.
//!
//! [`Network::pump`] moves every byte both ways until nothing moves, so a test states what it
//! does and then what arrived.

use std::time::Duration;

use mqtt_sansio::broker::{ConnectionHandle, Event as BrokerEvent};
use mqtt_sansio::{
    Broker, BrokerConfig, Client, ClientConfig, ConnectOptions, Event, Instant, ProtocolVersion,
};

/// One client and its connection on the broker.
pub(crate) struct Peer {
    pub(crate) client: Client,
    pub(crate) connection: Option<ConnectionHandle>,
    pub(crate) events: Vec<Event>,
}

/// A broker and its clients.
pub(crate) struct Network {
    pub(crate) broker: Broker,
    pub(crate) peers: Vec<Peer>,
    pub(crate) broker_events: Vec<BrokerEvent>,
    pub(crate) now: Instant,
}

impl Network {
    pub(crate) fn new(config: BrokerConfig) -> Self {
        Self {
            broker: Broker::new(config),
            peers: Vec::new(),
            broker_events: Vec::new(),
            now: Instant::ZERO,
        }
    }

    /// Adds a client (not connected); returns its index.
    pub(crate) fn add(&mut self, config: ClientConfig) -> usize {
        self.peers.push(Peer {
            client: Client::new(config),
            connection: None,
            events: Vec::new(),
        });
        self.peers.len() - 1
    }

    /// Opens a transport for `peer` and sends its CONNECT; pumps until quiet. Returns the
    /// client's events.
    pub(crate) fn connect(&mut self, peer: usize, options: ConnectOptions) -> Vec<Event> {
        let connection = self.broker.accept(self.now).expect("accept");
        self.peers[peer].connection = Some(connection);
        self.peers[peer]
            .client
            .connect(self.now, options)
            .expect("connect");
        self.pump();
        self.take_events(peer)
    }

    /// Connects `peer` in `version` as `client_id` with a clean start; panics unless it is
    /// accepted.
    pub(crate) fn connected(&mut self, peer: usize, version: ProtocolVersion, client_id: &str) {
        let events = self.connect(peer, ConnectOptions::new(version, client_id).unwrap());
        assert!(
            matches!(events.first(), Some(Event::Connected(_))),
            "{client_id}: {events:?}"
        );
    }

    /// The events `peer` has had since the last call.
    pub(crate) fn take_events(&mut self, peer: usize) -> Vec<Event> {
        std::mem::take(&mut self.peers[peer].events)
    }

    /// Moves bytes until nothing moves (bounded).
    pub(crate) fn pump(&mut self) {
        let mut buf = vec![0u8; 64 * 1024];
        for _ in 0..10_000 {
            let mut moved = false;
            for peer in &mut self.peers {
                while let Some(transmit) = peer.client.poll_transmit(&mut buf) {
                    moved = true;
                    if let Some(connection) = peer.connection {
                        self.broker
                            .handle_data(self.now, connection, &buf[..transmit.len]);
                    }
                }
                while let Some(event) = peer.client.poll_event() {
                    moved = true;
                    if matches!(event, Event::Disconnected(_))
                        && let Some(connection) = peer.connection.take()
                    {
                        // The client is done with the transport: close it, as a driver would.
                        self.broker.handle_closed(self.now, connection);
                    }
                    peer.events.push(event);
                }
            }
            while let Some(transmit) = self.broker.poll_transmit(&mut buf) {
                moved = true;
                if let Some(peer) = self
                    .peers
                    .iter_mut()
                    .find(|peer| peer.connection == Some(transmit.connection))
                {
                    peer.client.handle_data(self.now, &buf[..transmit.len]);
                }
            }
            while let Some(event) = self.broker.poll_event() {
                moved = true;
                if let BrokerEvent::Close { connection, .. } = event {
                    // Deliver the last bytes, then close the socket both ways.
                    while let Some(transmit) = self.broker.poll_transmit(&mut buf) {
                        if let Some(peer) = self
                            .peers
                            .iter_mut()
                            .find(|peer| peer.connection == Some(transmit.connection))
                        {
                            peer.client.handle_data(self.now, &buf[..transmit.len]);
                        }
                    }
                    self.broker.handle_closed(self.now, connection);
                    if let Some(peer) = self
                        .peers
                        .iter_mut()
                        .find(|peer| peer.connection == Some(connection))
                    {
                        peer.connection = None;
                        peer.client.handle_closed(self.now);
                    }
                }
                self.broker_events.push(event);
            }
            if !moved {
                return;
            }
        }
        panic!("the network never went quiet");
    }

    /// Cuts `peer`'s transport without a DISCONNECT.
    pub(crate) fn cut(&mut self, peer: usize) {
        if let Some(connection) = self.peers[peer].connection.take() {
            self.broker.handle_closed(self.now, connection);
        }
        self.peers[peer].client.handle_closed(self.now);
        self.pump();
    }

    /// Moves the clock and fires every due timer; pumps.
    pub(crate) fn advance(&mut self, millis: u64) {
        self.now = self.now + Duration::from_millis(millis);
        self.broker.handle_timeout(self.now);
        for peer in &mut self.peers {
            peer.client.handle_timeout(self.now);
        }
        self.pump();
    }
}
