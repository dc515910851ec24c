//! MQTT 5.0 enhanced authentication (§4.12) and re-authentication (§4.12.1): the AUTH
//! exchange between a client and the driver, with the broker keeping the turns and the
//! Authentication Method.
//!
//! A CONNECT with an Authentication Method always goes to the driver as
//! [`Event::Authenticate`], whatever [`BrokerConfig::allow_anonymous`] says; the driver
//! answers it, and every [`Event::AuthenticationData`] after it, with one of
//! [`Broker::accept_connect`], [`Broker::accept_authentication`],
//! [`Broker::continue_authentication`] or [`Broker::refuse_connect`]. A connected client that
//! authenticated with a method may start again with AUTH Re-authenticate (0x19): that is
//! [`Event::Reauthenticate`], answered with [`Broker::continue_authentication`],
//! [`Broker::accept_authentication`] or [`Broker::refuse_reauthentication`], while its
//! messages keep flowing.
//!
//! [`BrokerConfig::allow_anonymous`]: super::BrokerConfig::allow_anonymous

use alloc::boxed::Box;

use bytes::Bytes;
use bytestring::ByteString;

use super::connection::{Connection, Out, Phase};
use super::event::{CloseReason, ConnectionHandle, Event};
use super::{Broker, Policy};
use crate::codec::MqttString;
use crate::error::UsageError;
use crate::packet::{Auth, ConnAck};
use crate::property::AuthProperties;
use crate::reason::{AuthReasonCode, ConnectReasonCode, DisconnectReasonCode};
use crate::time::Instant;
use crate::types::ProtocolVersion;

/// The enhanced authentication of one connection whose CONNECT named an Authentication
/// Method.
#[derive(Debug)]
pub(crate) struct Authentication {
    /// The CONNECT's Authentication Method, a copy of its own: every AUTH and the successful
    /// CONNACK carry it (`[MQTT-4.12.0-5]`), and the client's AUTH packets must too.
    pub(crate) method: MqttString<Bytes>,
    /// Whose turn it is in the exchange.
    pub(crate) turn: Turn,
}

/// Who acts next in an authentication exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turn {
    /// No exchange under way: the client is connected and may start a re-authentication.
    Idle,
    /// The driver owes a verdict or the next challenge.
    Driver,
    /// The broker sent AUTH Continue authentication (0x18) and waits for the client's.
    Client,
}

impl Connection {
    /// Whether the connection's CONNECT waits for the driver with what the client sent
    /// afterwards unread: a refused CONNECT processes none of it (`[MQTT-3.1.4-6]` in 5.0),
    /// an accepted one processes it after the CONNACK.
    ///
    /// During an enhanced authentication exchange the client may send nothing but AUTH (when
    /// the broker asked) and DISCONNECT before CONNACK (`[MQTT-3.1.2-30]` in 5.0), so its
    /// packets are read as they come: anything else is a Protocol Error at once.
    pub(crate) fn awaits_verdict(&self) -> bool {
        matches!(self.phase, Phase::Authenticating(_)) && self.auth.is_none()
    }

    /// The exchange waiting for the driver, and whether it is the connecting one (not a
    /// re-authentication); the usage error for a command given out of turn.
    fn driver_turn(&mut self) -> Result<(&mut Authentication, bool), UsageError> {
        let connecting = match self.phase {
            Phase::Authenticating(_) => true,
            Phase::Connected => false,
            _ => return Err(UsageError::NoAuthentication),
        };
        match self.auth.as_deref_mut() {
            Some(auth) if auth.turn == Turn::Driver => Ok((auth, connecting)),
            _ => Err(UsageError::NoAuthentication),
        }
    }

    /// The client's Maximum Packet Size and whether it accepts Reason Strings and User
    /// Properties beyond CONNACK, DISCONNECT and PUBLISH, from its CONNECT while connecting.
    fn client_limits(&self) -> (Option<u32>, bool) {
        match &self.phase {
            Phase::Authenticating(connect) => (
                connect
                    .properties
                    .maximum_packet_size
                    .map(core::num::NonZeroU32::get),
                connect
                    .properties
                    .request_problem_information
                    .unwrap_or(true),
            ),
            _ => (
                self.max_packet_size.map(core::num::NonZeroU32::get),
                self.problem_information,
            ),
        }
    }
}

/// The CONNECT's Authentication Method as the broker keeps it: a copy, so that the string
/// does not hold the CONNECT's receive buffer alive for the connection's lifetime.
pub(crate) fn own_method(method: &MqttString<Bytes>) -> Authentication {
    let method = MqttString::new(ByteString::from(method.as_str())).unwrap_or_default();
    Authentication {
        method,
        turn: Turn::Driver,
    }
}

/// Fits an AUTH the broker sends within the client's Maximum Packet Size: the Reason String
/// goes first, then the User Properties (`[MQTT-3.15.2-2]`, `[MQTT-3.15.2-3]`); both go when
/// the client asked for no problem information (`[MQTT-3.1.2-29]`). Fails if the
/// Authentication Method and Data alone are too large.
fn fit_auth(
    auth: &mut Auth<Bytes>,
    maximum: Option<u32>,
    problem_information: bool,
) -> Result<(), UsageError> {
    if !problem_information {
        auth.properties.reason_string = None;
        auth.properties.user_properties = Default::default();
    }
    let Some(maximum) = maximum else {
        return Ok(());
    };
    let limit = usize::try_from(maximum).unwrap_or(usize::MAX);
    // AUTH is 5.0's alone: `LATEST` is 5.0 in every build that reaches this.
    let len = |auth: &Auth<Bytes>| {
        auth.encoded_len(ProtocolVersion::LATEST)
            .unwrap_or(usize::MAX)
    };
    if len(auth) > limit {
        auth.properties.reason_string = None;
    }
    if len(auth) > limit {
        auth.properties.user_properties = Default::default();
    }
    let size = len(auth);
    if size > limit {
        return Err(UsageError::PacketTooLarge { size, maximum });
    }
    Ok(())
}

impl<P: Policy> Broker<P> {
    /// Asks the client for more: sends AUTH Continue authentication (0x18) with the CONNECT's
    /// Authentication Method and `properties` (`[MQTT-4.12.0-2]`, `[MQTT-4.12.0-5]`), in answer
    /// to [`Event::Authenticate`] for a CONNECT with an Authentication Method, to
    /// [`Event::AuthenticationData`], or to [`Event::Reauthenticate`]. The client's answer comes
    /// back as [`Event::AuthenticationData`].
    ///
    /// `properties` carries the Authentication Data, and may carry a Reason String and User
    /// Properties; its Authentication Method is replaced by the CONNECT's. The Reason String,
    /// then the User Properties, are left out if the AUTH would exceed the client's Maximum
    /// Packet Size (`[MQTT-3.15.2-2]`, `[MQTT-3.15.2-3]`), and both if the client set Request
    /// Problem Information to 0 (`[MQTT-3.1.2-29]`).
    ///
    /// While connecting, the connect timeout keeps running: a client that does not finish the
    /// exchange in time is closed.
    ///
    /// # Errors
    ///
    /// [`UsageError::NoAuthentication`] unless the connection waits for the driver in an
    /// exchange (its CONNECT had an Authentication Method, and no answer was given to the
    /// last event); [`UsageError::PacketTooLarge`] if the Authentication Method and Data alone
    /// exceed the client's Maximum Packet Size (nothing is sent: refuse instead).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mqtt_sansio::broker::Event;
    /// use mqtt_sansio::{AuthProperties, BinaryData, Broker, BrokerConfig, Instant};
    ///
    /// let mut broker = Broker::new(BrokerConfig::default());
    /// let now = Instant::ZERO;
    /// let connection = broker.accept(now)?;
    /// // A 5.0 CONNECT of "dev1" with Authentication Method "X" and no data.
    /// broker.handle_data(now, connection, b"\x10\x15\x00\x04MQTT\x05\x02\x00\x3c\x04\x15\x00\x01X\x00\x04dev1");
    /// let Some(Event::Authenticate { connect, .. }) = broker.poll_event() else { panic!() };
    /// assert_eq!(connect.properties.authentication_method.as_deref(), Some("X"));
    ///
    /// let mut challenge = AuthProperties::new();
    /// challenge.authentication_data = Some(BinaryData::new(Bytes::from_static(b"nonce"))?);
    /// broker.continue_authentication(now, connection, challenge)?;
    /// let mut buf = [0u8; 64];
    /// let transmit = broker.poll_transmit(&mut buf).unwrap();
    /// // AUTH 0x18 with the method "X" and the data "nonce".
    /// assert_eq!(&buf[..transmit.len], b"\xf0\x0e\x18\x0c\x15\x00\x01X\x16\x00\x05nonce");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn continue_authentication(
        &mut self,
        now: Instant,
        connection: ConnectionHandle,
        properties: AuthProperties<Bytes>,
    ) -> Result<(), UsageError> {
        self.now = now;
        let conn = self
            .connection_mut(connection)
            .ok_or(UsageError::NotConnected)?;
        let (maximum, problem_information) = conn.client_limits();
        let (auth, _) = conn.driver_turn()?;
        let mut packet = Auth::new(AuthReasonCode::ContinueAuthentication);
        packet.properties = properties;
        packet.properties.authentication_method = Some(auth.method.clone());
        fit_auth(&mut packet, maximum, problem_information)?;
        auth.turn = Turn::Client;
        self.send(connection, Out::Auth(Box::new(packet)));
        Ok(())
    }

    /// Ends an exchange in success, with final Authentication Data for the client in
    /// `properties`: while connecting, the CONNECT is accepted and its CONNACK carries the
    /// Authentication Method and `properties`; in a re-authentication, AUTH Success (0x00)
    /// with the Authentication Method and `properties` is sent (`[MQTT-4.12.0-5]`).
    ///
    /// The Authentication Method in `properties` is replaced by the CONNECT's; the Reason
    /// String and User Properties are left out as for
    /// [`continue_authentication`](Self::continue_authentication).
    /// [`accept_connect`](Self::accept_connect) is the same as this with no properties while
    /// connecting.
    ///
    /// # Errors
    ///
    /// [`UsageError::NoAuthentication`] unless the connection waits for the driver in an
    /// exchange (a CONNECT without Authentication Method is answered with
    /// [`accept_connect`](Self::accept_connect)); [`UsageError::PacketTooLarge`] if the
    /// Authentication Method and Data alone make a packet larger than the client's Maximum
    /// Packet Size (nothing is sent: refuse instead).
    pub fn accept_authentication(
        &mut self,
        now: Instant,
        connection: ConnectionHandle,
        properties: AuthProperties<Bytes>,
    ) -> Result<(), UsageError> {
        self.now = now;
        let conn = self
            .connection_mut(connection)
            .ok_or(UsageError::NotConnected)?;
        let (maximum, problem_information) = conn.client_limits();
        let (auth, connecting) = conn.driver_turn()?;
        let mut packet = Auth::new(AuthReasonCode::Success);
        packet.properties = properties;
        packet.properties.authentication_method = Some(auth.method.clone());
        if !connecting {
            fit_auth(&mut packet, maximum, problem_information)?;
            auth.turn = Turn::Idle;
            self.send(connection, Out::Auth(Box::new(packet)));
            return Ok(());
        }
        // The CONNACK must fit with the method and data at least; its optional properties
        // are fitted when it is built.
        let mut bare = ConnAck::<Bytes>::new(false, ConnectReasonCode::Success);
        bare.properties.authentication_method = packet.properties.authentication_method.take();
        bare.properties.authentication_data = packet.properties.authentication_data.take();
        // Authentication is 5.0's alone: `LATEST` is 5.0 in every build that reaches this.
        let size = bare
            .encoded_len(ProtocolVersion::LATEST)
            .unwrap_or(usize::MAX);
        if let Some(maximum) = maximum
            && size > usize::try_from(maximum).unwrap_or(usize::MAX)
        {
            return Err(UsageError::PacketTooLarge { size, maximum });
        }
        let connect = self.take_authenticating(connection)?;
        let mut extra = bare.properties;
        extra.reason_string = packet.properties.reason_string;
        extra.user_properties = packet.properties.user_properties;
        self.complete_connect_with(connection, connect, extra);
        Ok(())
    }

    /// Fails a re-authentication: DISCONNECT with `code` (for example Not authorized, 0x87),
    /// then the connection closes (`[MQTT-4.12.1-2]`) with
    /// [`CloseReason::ReauthenticationRefused`]; its Will is published as for any end the
    /// client did not ask for.
    ///
    /// It may be given at any step of the re-authentication, also while the broker waits for
    /// the client's answer to a challenge.
    ///
    /// # Errors
    ///
    /// [`UsageError::NoAuthentication`] unless a re-authentication of the connection is under
    /// way (a connecting exchange is refused with [`refuse_connect`](Self::refuse_connect)).
    pub fn refuse_reauthentication(
        &mut self,
        now: Instant,
        connection: ConnectionHandle,
        code: DisconnectReasonCode,
    ) -> Result<(), UsageError> {
        self.now = now;
        let conn = self
            .connection_mut(connection)
            .ok_or(UsageError::NotConnected)?;
        let reauthenticating = matches!(conn.phase, Phase::Connected)
            && conn
                .auth
                .as_deref()
                .is_some_and(|auth| auth.turn != Turn::Idle);
        if !reauthenticating {
            return Err(UsageError::NoAuthentication);
        }
        self.close(
            connection,
            CloseReason::ReauthenticationRefused(code),
            Some(Out::Disconnect(code)),
        );
        Ok(())
    }

    /// An AUTH from the client: the next step of an exchange the broker asked for, or the
    /// start of a re-authentication; anything else is a Protocol Error.
    pub(super) fn on_auth(&mut self, handle: ConnectionHandle, auth: Auth<Bytes>) {
        let Some(conn) = self.connection_mut(handle) else {
            return;
        };
        let connecting = matches!(conn.phase, Phase::Authenticating(_));
        // [MQTT-4.12.0-7]: no AUTH from a client whose CONNECT had no method;
        // [MQTT-4.12.0-5], [MQTT-4.12.1-1]: the same method throughout.
        let step = conn.auth.as_deref_mut().and_then(|state| {
            if auth.properties.authentication_method.as_ref() != Some(&state.method) {
                return None;
            }
            let event = match (state.turn, auth.reason_code) {
                // [MQTT-4.12.0-3]: the answer to the broker's AUTH is Continue.
                (Turn::Client, AuthReasonCode::ContinueAuthentication) => {
                    Event::AuthenticationData {
                        connection: handle,
                        auth: Box::new(auth),
                    }
                }
                // [MQTT-4.12.1-1]: after CONNACK, with no exchange under way.
                (Turn::Idle, AuthReasonCode::ReAuthenticate) if !connecting => {
                    Event::Reauthenticate {
                        connection: handle,
                        auth: Box::new(auth),
                    }
                }
                _ => return None,
            };
            state.turn = Turn::Driver;
            Some(event)
        });
        match step {
            Some(event) => self.events.push_back(event),
            None => self.violation(handle, DisconnectReasonCode::ProtocolError),
        }
    }

    /// What a 5.0 client is sent before a close for a protocol error `code`: a CONNACK
    /// refusing it while it is still connecting (no DISCONNECT comes before a successful
    /// CONNACK, `[MQTT-3.14.0-1]` in 5.0), a DISCONNECT afterwards. A 3.x client gets
    /// nothing.
    pub(super) fn protocol_farewell(
        &self,
        handle: ConnectionHandle,
        code: DisconnectReasonCode,
    ) -> Option<Out> {
        let conn = self.connection(handle)?;
        if !conn.version.is_v5() {
            return None;
        }
        if matches!(conn.phase, Phase::Authenticating(_)) {
            let code = ConnectReasonCode::from_u8(code.as_u8())
                .unwrap_or(ConnectReasonCode::ProtocolError);
            return Some(Out::ConnAck(Box::new(ConnAck::new(false, code))));
        }
        Some(Out::Disconnect(code))
    }
}
