//! What a [`Client`](super::Client) is allowed to hold and how long it waits: every bound on
//! its memory and every timer, fixed when it is created.

use core::num::NonZeroU16;
use core::time::Duration;

/// The bounds and timers of a [`Client`](super::Client).
///
/// Every queue and table the client keeps is bounded here, so its memory has a ceiling that
/// does not depend on what the server sends. The defaults suit a server application; a device
/// lowers them.
///
/// ```
/// use core::time::Duration;
/// use mqtt_sansio::ClientConfig;
///
/// let config = ClientConfig {
///     max_outgoing: 4,
///     receive_maximum: core::num::NonZeroU16::new(4).unwrap(),
///     max_packet_size: 2048,
///     connect_timeout: Duration::from_secs(5),
///     ..ClientConfig::default()
/// };
/// assert_eq!(config.max_queued_qos0, 32);
/// ```
///
/// The fields are public so that a configuration reads as one struct expression; new fields
/// come with a minor version bump while the crate is below 1.0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// QoS 1 and 2 messages held at once, whether in flight or waiting for the server's send
    /// quota, plus SUBSCRIBE and UNSUBSCRIBE packets awaiting their acknowledgement. It bounds
    /// the outgoing Packet Identifiers in use; at most 65,535.
    pub max_outgoing: u16,
    /// QoS 0 messages waiting to be written.
    pub max_queued_qos0: u16,
    /// Accept messages while no connection is open, to send them on the next one (within
    /// the two bounds above). Off: publishing while disconnected is
    /// [`UsageError::NotConnected`](crate::UsageError::NotConnected).
    pub queue_while_offline: bool,
    /// Unacknowledged QoS 1 and 2 messages the server may send at once: the 5.0 Receive
    /// Maximum (a server that exceeds it is disconnected with 0x93), and in 3.1 and 3.1.1 the
    /// bound on the QoS 2 identifiers remembered, past which the connection is closed.
    /// Re-deliveries (DUP), which the server may no longer count, are held to twice it, so
    /// the table holds at most twice this many identifiers.
    pub receive_maximum: NonZeroU16,
    /// The largest packet accepted, fixed header included: the 5.0 Maximum Packet Size (a
    /// server that exceeds it is disconnected with 0x95), and the decoder's limit in every
    /// version.
    pub max_packet_size: u32,
    /// Topic Aliases the server may set up on a 5.0 connection (its Topic Alias Maximum); 0
    /// accepts none.
    pub topic_alias_maximum: u16,
    /// Topic Aliases the client assigns on its own PUBLISH packets, within the server's Topic
    /// Alias Maximum; 0 (the default) sends none.
    ///
    /// Policy: a topic gets the next free alias the first time it is sent on a connection (its
    /// name and the alias go out together), and the alias alone afterwards. Once every alias
    /// is taken, other topics go by name; an alias is never moved to another topic, so no
    /// alias can name a different topic than the server remembers. Topics of three bytes or
    /// fewer go by name (an alias would not make them shorter), and so does a packet that the
    /// alias would make larger than the server's Maximum Packet Size.
    pub outgoing_topic_aliases: u16,
    /// Deliver QoS 1 and 2 messages without acknowledging them: the PUBACK or PUBREC waits
    /// for [`Client::ack`](super::Client::ack), and acknowledgements still go out in the order
    /// the messages arrived.
    pub manual_acks: bool,
    /// How long to wait for CONNACK after CONNECT.
    pub connect_timeout: Duration,
    /// How long to wait for any packet after a PINGREQ before the connection is declared dead.
    pub ping_timeout: Duration,
}

impl ClientConfig {
    /// The defaults: 32 outgoing QoS 1/2 messages, 32 queued QoS 0 messages, no offline
    /// queue, a Receive Maximum of 32, 1 MiB packets, 16 incoming Topic Aliases and no
    /// outgoing ones, automatic acknowledgement, 10 s to connect and 10 s for a PINGRESP.
    pub const DEFAULT: Self = Self {
        max_outgoing: 32,
        max_queued_qos0: 32,
        queue_while_offline: false,
        receive_maximum: match NonZeroU16::new(32) {
            Some(value) => value,
            None => NonZeroU16::MAX,
        },
        max_packet_size: 1024 * 1024,
        topic_alias_maximum: 16,
        outgoing_topic_aliases: 0,
        manual_acks: false,
        connect_timeout: Duration::from_secs(10),
        ping_timeout: Duration::from_secs(10),
    };
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
