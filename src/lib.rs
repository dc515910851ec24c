//! # mqtt-sansio
//!
//! A sans-IO implementation of MQTT 3.1, 3.1.1 and 5.0: it turns bytes into packets and
//! packets into bytes, and does no I/O of its own, so any runtime, device or test harness can
//! drive it.
//!
//! Two parts so far:
//!
//! - the **codec**: every control packet of the three versions (CONNECT to AUTH), every MQTT
//!   5.0 property and reason code, Topic Name and Topic Filter validation and matching;
//! - the **client**, [`Client`]: a state machine that takes received bytes and the current
//!   time ([`Instant`]) and gives back bytes to send, [`Event`]s and its next deadline, with
//!   no socket, clock, thread or async inside. Its module docs give the run loop a driver
//!   follows; the README drives it over a `TcpStream` in 30 lines.
//!
//! The codec:
//!
//! - **Zero-copy decoding** in two flavours from one parser: from a `&[u8]` with no allocation
//!   but the box of a CONNECT or CONNACK ([`Packet::decode`]), or from [`Bytes`](bytes::Bytes) into packets that share the
//!   input's storage ([`Packet::decode_bytes`], [`Decoder`]). See [`codec`] for the design.
//! - **Incremental**: short input is [`Decoded::Incomplete`], never an error; the maximum
//!   packet size ([`Limits`]) is enforced from the fixed header, before the body is buffered.
//! - **Strict**: every rule that one packet can break is a typed [`DecodeError`] naming it,
//!   with the reason code a receiver sends ([`DecodeError::reason_code`]). Validated newtypes
//!   ([`TopicName`], [`TopicFilter`], [`PacketId`], [`MqttString`], ...) keep the encoder from
//!   producing what the decoder would refuse; what a version cannot carry is an
//!   [`EncodeError`], never silently dropped.
//! - **Exact encoding** into any [`BufMut`](bytes::BufMut), with the size known first
//!   ([`Packet::encoded_len`]).
//! - **`no_std`** with `alloc`, the client included; the `std` feature (default) only adds
//!   `std::error::Error` support in dependencies.
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use mqtt_sansio::{Decoded, Limits, Packet, ProtocolVersion, Publish, TopicName};
//!
//! // Encode a PUBLISH for an MQTT 5.0 connection...
//! let publish = Publish::new(TopicName::new("sensors/temp")?, &b"21.5"[..]);
//! let mut wire = BytesMut::new();
//! Packet::Publish(publish.clone()).encode(ProtocolVersion::V5, &mut wire)?;
//!
//! // ...and decode it back, without allocating, one byte short and then whole.
//! let limits = Limits::default();
//! let short = Packet::decode(ProtocolVersion::V5, &wire[..wire.len() - 1], &limits)?;
//! assert_eq!(short, Decoded::Incomplete { needed: 1 });
//! let Decoded::Complete { packet, consumed } = Packet::decode(ProtocolVersion::V5, &wire, &limits)? else {
//!     unreachable!("the whole packet is there");
//! };
//! assert_eq!(packet, Packet::Publish(publish));
//! assert_eq!(consumed, wire.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `std` (default): enables `std` in the `bytes` dependency. Without it the crate needs only
//!   `core` and `alloc` and builds for targets such as `thumbv7m-none-eabi`.
//! - `arbitrary`: implements [`arbitrary::Arbitrary`](https://docs.rs/arbitrary) for
//!   `Packet<Bytes>` and its parts, producing only valid values, for structure-aware fuzzing
//!   (see `fuzz/README.md`).

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// The library must build without `std`; tests, examples and benches may use it freely.
#![warn(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::arithmetic_side_effects
    )
)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "arbitrary")]
mod arbitrary;
mod broker;
mod client;
pub mod codec;
mod decoder;
mod error;
mod packet;
pub mod property;
mod reason;
mod time;
pub mod topic;
mod types;

pub use client::{
    Client, ClientConfig, ConnectOptions, Connected, DisconnectReason, Disconnected, Event,
    PublishError, ServerLimits, SessionState, SessionStateError, State, Transmit, WillError,
};
pub use codec::{
    BinaryData, Buffer, Decoded, Limits, MAX_PACKET_SIZE, MqttString, StringError, WireList,
    WireListIter,
};
pub use decoder::{DecodeFailure, Decoder, Reply};
pub use error::{DecodeError, EncodeError, PeerError, ProtocolError, UsageError};
pub use packet::{
    Auth, ConnAck, Connect, Delivery, Disconnect, Outgoing, Packet, PacketType, PingReq, PingResp,
    PubAck, PubComp, PubRec, PubRel, Publish, RetainHandling, SubAck, Subscribe, Subscription,
    SubscriptionOptions, TopicAliasUse, UnsubAck, Unsubscribe, Will,
};
pub use property::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    MaximumQos, MessageProperties, MessagePropertiesBuilder, PayloadFormat, PropertyId,
    PublishProperties, SubscribeProperties, SubscriptionId, UnsubscribeProperties, UserProperty,
    WillProperties,
};
pub use reason::{
    AuthReasonCode, ConnectReasonCode, ConnectReturnCode, DisconnectReasonCode, PubAckReasonCode,
    PubCompReasonCode, PubRecReasonCode, PubRelReasonCode, ReasonCode, SubAckReasonCode,
    UnsubAckReasonCode,
};
pub use time::Instant;
pub use topic::{SharedFilter, TopicError, TopicFilter, TopicLevel, TopicName};
pub use types::{PacketId, ProtocolVersion, QoS, Side};

#[doc(hidden)]
pub use broker::__internal;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
