//! Opening and ending connections and sessions: CONNECT and CONNACK, session takeover, Clean
//! Start, session expiry and wills.

use alloc::boxed::Box;
use core::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;

use super::auth::Turn;
use super::connection::{Out, Phase};
use super::event::{CloseReason, ConnectionHandle, Event};
use super::session::{Session, SessionKey};
use super::{Broker, Policy, Timer};
use crate::codec::MqttString;
use crate::error::UsageError;
use crate::packet::{ConnAck, Connect, Publish};
use crate::property::{ConnAckProperties, MaximumQos};
use crate::reason::ConnectReasonCode;
use crate::types::{ProtocolVersion, QoS};

impl<P: Policy> Broker<P> {
    /// A Client Identifier for a client that sent none: unique among current sessions
    /// (`[MQTT-3.2.2-16]` in 5.0), including one a client chose that looks assigned.
    fn assign_client_id(&mut self) -> Box<str> {
        loop {
            self.assigned_ids = self.assigned_ids.wrapping_add(1);
            let id = alloc::format!("auto-{:016x}", self.assigned_ids);
            if self.find_session(&id).is_none() {
                return id.into_boxed_str();
            }
        }
    }

    /// A CONNECT arrived: ask the driver, or accept it now.
    pub(super) fn on_connect(&mut self, handle: ConnectionHandle, connect: Connect<Bytes>) {
        if let Some(conn) = self.connection_mut(handle) {
            conn.version = connect.protocol_version;
        }
        // [MQTT-3.2.2-12], [MQTT-3.2.2-13] (5.0): a Will the broker could not publish.
        if let Some(will) = &connect.will {
            let refusal = if will.qos > self.config.maximum_qos {
                Some(ConnectReasonCode::QoSNotSupported)
            } else if will.retain && !self.config.retain_available {
                Some(ConnectReasonCode::RetainNotSupported)
            } else {
                None
            };
            if let Some(code) = refusal {
                self.refuse(handle, connect.protocol_version, code);
                return;
            }
        }
        // 5.0 enhanced authentication (§4.12): a CONNECT with an Authentication Method is
        // the driver's to judge, whether anonymous clients are allowed or not.
        let method = connect.properties.authentication_method.as_ref();
        if method.is_none() && self.config.allow_anonymous {
            self.complete_connect(handle, connect);
            return;
        }
        let auth = method.map(|method| Box::new(super::auth::own_method(method)));
        // The driver learns the identifier the session will have before it judges it.
        let assigned = connect.client_id.as_str().is_empty();
        let mut connect = connect;
        if assigned {
            let id = self.assign_client_id();
            connect.client_id = MqttString::new(ByteString::from(&*id)).unwrap_or_default();
        }
        let copy = Box::new(connect.clone());
        if let Some(conn) = self.connection_mut(handle) {
            conn.auth = auth;
            conn.assigned_id = assigned;
            conn.phase = Phase::Authenticating(Box::new(connect));
        }
        self.events.push_back(Event::Authenticate {
            connection: handle,
            connect: copy,
            client_id_assigned: assigned,
        });
    }

    /// The CONNECT waiting for the driver's verdict, to accept: during an enhanced
    /// authentication exchange, not while the client has the turn (the broker's AUTH
    /// challenge is unanswered).
    pub(super) fn take_authenticating(
        &mut self,
        handle: ConnectionHandle,
    ) -> Result<Connect<Bytes>, UsageError> {
        let conn = self
            .connection_mut(handle)
            .ok_or(UsageError::NotConnected)?;
        if conn
            .auth
            .as_deref()
            .is_some_and(|auth| auth.turn == Turn::Client)
        {
            return Err(UsageError::NoAuthentication);
        }
        self.take_connecting(handle)
    }

    /// The CONNECT waiting for the driver's verdict, to refuse: at any step of an enhanced
    /// authentication exchange (`[MQTT-4.12.0-4]`).
    pub(super) fn take_connecting(
        &mut self,
        handle: ConnectionHandle,
    ) -> Result<Connect<Bytes>, UsageError> {
        let conn = self
            .connection_mut(handle)
            .ok_or(UsageError::NotConnected)?;
        match core::mem::replace(&mut conn.phase, Phase::AwaitingConnect) {
            Phase::Authenticating(connect) => Ok(*connect),
            other => {
                conn.phase = other;
                Err(UsageError::NoAuthentication)
            }
        }
    }

    /// Refuses a CONNECT with a CONNACK carrying `code` (in 3.x the return code of the same
    /// meaning, or Not authorized), then closes (`[MQTT-3.2.2-7]` in 5.0).
    pub(super) fn refuse(
        &mut self,
        handle: ConnectionHandle,
        version: ProtocolVersion,
        code: ConnectReasonCode,
    ) {
        // 3.x has a return code for some refusals only: a refusal of the client's identity
        // (Banned, an authentication method) is Not authorized (0x05); for the others the
        // connection is closed without a CONNACK ([MQTT-3.2.2-6], [MQTT-3.1.4-1] in 3.1.1).
        let code = if version.is_v5() {
            Some(code)
        } else {
            match code {
                ConnectReasonCode::Banned | ConnectReasonCode::BadAuthenticationMethod => {
                    Some(ConnectReasonCode::NotAuthorized)
                }
                code => crate::reason::ConnectReturnCode::from_reason_code(code)
                    .map(|code| code.to_reason_code()),
            }
        };
        let farewell = code.map(|code| Out::ConnAck(Box::new(ConnAck::new(false, code))));
        self.close(handle, CloseReason::Refused, farewell);
    }

    /// Connects an accepted CONNECT to its session and queues the CONNACK.
    pub(super) fn complete_connect(&mut self, handle: ConnectionHandle, connect: Connect<Bytes>) {
        self.complete_connect_with(handle, connect, ConnAckProperties::new());
    }

    /// Connects an accepted CONNECT to its session and queues the CONNACK, which carries
    /// `extra` from the driver (Authentication Data, Reason String, User Properties) beside
    /// what the broker sets.
    pub(super) fn complete_connect_with(
        &mut self,
        handle: ConnectionHandle,
        connect: Connect<Bytes>,
        extra: ConnAckProperties<Bytes>,
    ) {
        let now = self.now;
        let version = connect.protocol_version;
        let mut connack = ConnAck::new(false, ConnectReasonCode::Success);
        if version.is_v5() {
            connack.properties = extra;
        }

        // The Client Identifier, assigned if empty ([MQTT-3.1.3-6] in 3.1.1, [MQTT-3.2.2-16]
        // in 5.0, which returns it): here, or when the CONNECT went to the driver.
        let assigned_earlier = self
            .connection_mut(handle)
            .is_some_and(|conn| core::mem::take(&mut conn.assigned_id));
        // One assigned for the driver is given afresh if a client took it meanwhile: a
        // client may not reach another's session by guessing the identifier it will get.
        let taken = assigned_earlier && self.find_session(connect.client_id.as_str()).is_some();
        let client_id: Box<str> = if connect.client_id.as_str().is_empty() || taken {
            let id = self.assign_client_id();
            if version.is_v5() {
                connack.properties.assigned_client_identifier =
                    MqttString::new(ByteString::from(&*id)).ok();
            }
            id
        } else if assigned_earlier {
            if version.is_v5() {
                connack.properties.assigned_client_identifier = Some(connect.client_id.clone());
            }
            Box::from(connect.client_id.as_str())
        } else {
            // A copy of its own: a slice would keep the whole CONNECT's buffer alive for as
            // long as the session lives.
            Box::from(connect.client_id.as_str())
        };
        let event_id = MqttString::new(ByteString::from(&*client_id)).unwrap_or_default();

        // Keep Alive, capped by the server's maximum (5.0 Server Keep Alive).
        let mut keep_alive = connect.keep_alive;
        if let Some(maximum) = self.config.max_keep_alive
            && version.is_v5()
            && (keep_alive == 0 || keep_alive > maximum)
        {
            keep_alive = maximum;
            connack.properties.server_keep_alive = Some(maximum);
        }

        // Session Expiry: 3.x keeps a session of Clean Session 0 (as long as the broker
        // allows), 5.0 as the client asks, within the maximum.
        let asked = if version.is_v5() {
            connect.properties.session_expiry_interval.unwrap_or(0)
        } else if connect.clean_start {
            0
        } else {
            u32::MAX
        };
        let expiry = asked.min(self.config.max_session_expiry);
        if version.is_v5() && expiry != asked {
            connack.properties.session_expiry_interval = Some(expiry);
        }

        // Takeover ([MQTT-3.1.4-3] in 5.0): the old connection gets DISCONNECT 0x8E (5.0)
        // and is closed; its will is due as for any abnormal end.
        let existing = self.find_session(&client_id);
        if let Some(index) = existing {
            let old = self
                .sessions
                .get(index as usize)
                .and_then(|slot| slot.session.as_ref())
                .and_then(|session| session.connection);
            if let Some(old) = old {
                let farewell = self
                    .connection(old)
                    .filter(|conn| conn.version.is_v5())
                    .map(|_| {
                        Out::Disconnect(crate::reason::DisconnectReasonCode::SessionTakenOver)
                    });
                self.close(old, CloseReason::SessionTakenOver, farewell);
            }
        }
        let mut key = existing.and_then(|index| self.key_of(index));
        // A new connection within the Will Delay cancels the pending will, whether it resumes
        // the session or not ([MQTT-3.1.3-9] in 5.0).
        if let Some(old) = key
            && let Some(session) = self.session_mut(old)
        {
            session.will_at = None;
            session.will = None;
        }
        // Clean Start ends the stored session ([MQTT-3.1.2-4] in 5.0, [MQTT-3.1.2-6] in
        // 3.1.1).
        if connect.clean_start
            && let Some(old) = key.take()
        {
            self.end_session(old);
        }
        // 3.1 has no Session Present flag ([MQTT-3.2.2-2] in 3.1.1: set when resumed); its
        // session is resumed all the same.
        let resumed = key.is_some();
        let session_present = resumed && version != ProtocolVersion::V3_1;
        let key = match key {
            Some(key) => key,
            None => self.new_session(client_id, version),
        };
        connack.session_present = session_present;

        // The limits this broker sets, advertised in 5.0.
        if version.is_v5() {
            let properties = &mut connack.properties;
            let config = &self.config;
            properties.receive_maximum = core::num::NonZeroU16::new(config.receive_maximum)
                .filter(|maximum| maximum.get() != u16::MAX);
            properties.maximum_qos = match config.maximum_qos {
                QoS::AtMostOnce => Some(MaximumQos::AtMostOnce),
                QoS::AtLeastOnce => Some(MaximumQos::AtLeastOnce),
                QoS::ExactlyOnce => None,
            };
            properties.retain_available = (!config.retain_available).then_some(false);
            properties.maximum_packet_size = core::num::NonZeroU32::new(config.max_packet_size)
                .filter(|size| size.get() < crate::codec::MAX_PACKET_SIZE);
            properties.topic_alias_maximum =
                (config.topic_alias_maximum != 0).then_some(config.topic_alias_maximum);
            properties.wildcard_subscription_available =
                (!config.wildcard_subscriptions).then_some(false);
            properties.subscription_identifiers_available =
                (!config.subscription_identifiers).then_some(false);
            properties.shared_subscription_available =
                (!config.shared_subscriptions).then_some(false);
            // [MQTT-3.1.2-28]: Response Information only when the client asked for it.
            if connect.properties.request_response_information == Some(true)
                && let Some(prefix) = &config.response_information
            {
                let value = alloc::format!("{prefix}{}", event_id.as_str());
                properties.response_information = MqttString::new(ByteString::from(value)).ok();
            }
        }
        // [MQTT-4.12.0-5]: the successful CONNACK of an enhanced authentication carries the
        // CONNECT's Authentication Method; [MQTT-4.12.0-6]: none without one.
        let method = self
            .connection_mut(handle)
            .and_then(|conn| conn.auth.as_deref_mut())
            .map(|auth| {
                auth.turn = Turn::Idle;
                auth.method.clone()
            });
        if version.is_v5() {
            connack.properties.authentication_method = method;
            fit_connack(&mut connack, &connect);
        }

        // The connection takes its client's limits and joins the session.
        // The connect timeout's timer gives way to the Keep Alive's.
        if let Some(deadline) = self.connection(handle).and_then(|conn| conn.deadline) {
            self.timers.remove(&(deadline, Timer::Connection(handle)));
        }
        if let Some(conn) = self.connection_mut(handle) {
            conn.phase = Phase::Connected;
            conn.version = version;
            conn.session = Some(key);
            conn.keep_alive = keep_alive;
            // [MQTT-3.1.2-24] (3.1.1), [MQTT-3.1.2-22] (5.0): one and a half times the Keep
            // Alive without a packet closes the connection.
            conn.deadline = conn.silence_deadline(now);
            if version.is_v5() {
                let properties = &connect.properties;
                conn.receive_maximum = properties.receive_maximum.map_or(u16::MAX, |max| max.get());
                conn.max_packet_size = properties.maximum_packet_size;
                conn.problem_information = properties.request_problem_information.unwrap_or(true);
                conn.alias_maximum = properties.topic_alias_maximum.unwrap_or(0);
            }
        }
        if let Some(deadline) = self.connection(handle).and_then(|conn| conn.deadline) {
            self.timers.insert((deadline, Timer::Connection(handle)));
        }
        if let Some(session) = self.session_mut(key) {
            session.connection = Some(handle);
            session.version = version;
            session.expiry = expiry;
            session.expires_at = None;
            // A reconnect within the Will Delay cancels the pending will
            // ([MQTT-3.1.3-9] in 5.0); the new connection's will replaces it.
            session.will_at = None;
            session.will = connect.will.map(Box::new);
        }
        self.send(handle, Out::ConnAck(Box::new(connack)));
        self.events.push_back(Event::Connected {
            connection: handle,
            client_id: event_id,
            version,
            session_present,
        });
        if resumed {
            self.resend_session(key, handle);
        }
        self.fill_window(key);
    }

    fn key_of(&self, index: u32) -> Option<SessionKey> {
        let slot = self.sessions.get(index as usize)?;
        slot.session.as_ref().map(|_| SessionKey {
            index,
            generation: slot.generation,
        })
    }

    fn new_session(&mut self, client_id: Box<str>, version: ProtocolVersion) -> SessionKey {
        self.place(Box::new(Session::new(client_id, version)))
    }

    /// A connection ends: it leaves its session, whose will is due if the end is abnormal,
    /// and which ends now or starts counting down its expiry.
    pub(super) fn end_connection(&mut self, handle: ConnectionHandle, abnormal: bool) {
        let now = self.now;
        let Some(key) = self
            .connection_mut(handle)
            .and_then(|conn| conn.session.take())
        else {
            return;
        };
        let Some(session) = self.session_mut(key) else {
            return;
        };
        if session.connection != Some(handle) {
            return;
        }
        session.connection = None;
        session.free_idle_flows();
        let expiry = session.expiry;
        if abnormal && let Some(will) = &session.will {
            // [MQTT-3.1.2-8] (3.1.1): published on an abnormal end; 5.0 after its delay, or
            // at the session's end if that comes first.
            let delay = will.properties.will_delay_interval.unwrap_or(0).min(expiry);
            session.will_at = Some(now.saturating_add(Duration::from_secs(u64::from(delay))));
        } else {
            // [MQTT-3.1.2-10] (3.1.1), [MQTT-3.14.4-3] (5.0): a DISCONNECT discards it.
            session.will = None;
        }
        if expiry == 0 {
            self.end_session(key);
            return;
        }
        if expiry != u32::MAX {
            session.expires_at = Some(now.saturating_add(Duration::from_secs(u64::from(expiry))));
        }
        let next = session.next_deadline();
        if let Some(at) = next {
            if at <= now {
                self.session_timer(key);
            } else {
                self.timers.insert((at, Timer::Session(key)));
            }
        }
        // Shared deliveries not sent yet go to a connected member (shared.rs).
        self.hand_over_queued(key);
    }

    /// A session's will or expiry is due.
    pub(super) fn session_timer(&mut self, key: SessionKey) {
        let now = self.now;
        let Some(session) = self.session_mut(key) else {
            return;
        };
        if session.connection.is_some() {
            return;
        }
        if session.will_at.is_some_and(|at| at <= now) {
            session.will_at = None;
            if let Some(will) = session.will.take() {
                self.publish_will(*will);
            }
        }
        let Some(session) = self.session(key) else {
            return;
        };
        if session.expires_at.is_some_and(|at| at <= now) {
            self.end_session(key);
            return;
        }
        let next = session.next_deadline();
        if let Some(at) = next {
            self.timers.insert((at, Timer::Session(key)));
        }
    }

    /// Ends a session: its pending will goes out, its subscriptions and messages go.
    pub(super) fn end_session(&mut self, key: SessionKey) {
        let Some(slot) = self.sessions.get_mut(key.index as usize) else {
            return;
        };
        if slot.generation != key.generation {
            return;
        }
        let Some(mut session) = slot.session.take() else {
            return;
        };
        self.free_sessions.push(key.index);
        self.by_client_id.remove(&session.client_id, key.index);
        if session.will_at.is_some()
            && let Some(will) = session.will.take()
        {
            self.publish_will(*will);
        }
        for filter in core::mem::take(&mut session.filters) {
            if self.subscriptions.unsubscribe(&filter, key) {
                self.interest_lost(&filter);
            }
        }
        // Shared deliveries go to another member of their group (shared.rs).
        self.release_ended_flows(session.take_flows());
    }

    fn publish_will(&mut self, will: crate::packet::Will<Bytes>) {
        let mut publish = Publish::new(will.topic, will.payload.into_inner());
        publish.delivery = crate::packet::Delivery::new(will.qos, crate::types::PacketId::MIN);
        publish.retain = will.retain;
        publish.properties.message_expiry_interval = will.properties.message_expiry_interval;
        publish.properties.message = will.properties.message;
        // The client is gone: No Local has no publishing connection to spare.
        self.route(publish, None);
    }
}

/// Fits a successful 5.0 CONNACK within the client's Maximum Packet Size (`[MQTT-3.1.2-24]`
/// in 5.0) by leaving out what the client can do without, in this order: the Reason String
/// and User Properties (`[MQTT-3.2.2-19]`, `[MQTT-3.2.2-20]`), then the Response
/// Information. The Authentication Method and Data were checked to fit before.
fn fit_connack(connack: &mut ConnAck<Bytes>, connect: &Connect<Bytes>) {
    let Some(maximum) = connect.properties.maximum_packet_size else {
        return;
    };
    let limit = usize::try_from(maximum.get()).unwrap_or(usize::MAX);
    let too_large = |connack: &ConnAck<Bytes>| {
        connack
            // A Maximum Packet Size comes in a 5.0 CONNECT only: `LATEST` is 5.0 in every
            // build that reaches this.
            .encoded_len(ProtocolVersion::LATEST)
            .map_or(true, |len| len > limit)
    };
    if too_large(connack) {
        connack.properties.reason_string = None;
    }
    if too_large(connack) {
        connack.properties.user_properties = Default::default();
    }
    if too_large(connack) {
        connack.properties.response_information = None;
    }
}
