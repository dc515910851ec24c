//! What the client does with each packet the server sends.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::time::Duration;

use bytes::Bytes;

use super::event::{Connected, DisconnectReason, Disconnected, Event, PublishError, ServerLimits};
use super::inbound::{Arrival, Release};
use super::outbound::{Entry, Phase};
use super::transmit::Pending;
use super::{AuthExchange, Client, Farewell, State};
use crate::error::{PeerError, ProtocolError};
use crate::packet::{Auth, ConnAck, Disconnect, Packet, PubAck, PubComp, PubRec, PubRel, Publish};
use crate::packet::{SubAck, UnsubAck};
use crate::property::{ConnAckProperties, MaximumQos};
use crate::reason::{AuthReasonCode, PubAckReasonCode, PubCompReasonCode, PubRelReasonCode};
use crate::types::{PacketType, ProtocolVersion, QoS};

impl Client {
    /// Decodes and handles every complete packet received, until the connection ends.
    pub(super) fn process_input(&mut self) {
        while self.state != State::Disconnected {
            match self.decoder.decode_from_server() {
                Ok(Some(packet)) => self.handle_packet(packet),
                Ok(None) => break,
                Err(failure) => self.fail(failure.error),
            }
        }
    }

    fn handle_packet(&mut self, packet: Packet<Bytes>) {
        // Any packet shows the server is alive.
        self.timers.ping_deadline = None;
        let connecting = self.state == State::Connecting;
        let result = match packet {
            Packet::ConnAck(connack) if connecting => self.on_connack(*connack),
            // AUTH exists only in 5.0, and the decoder refuses it in other versions; the guard
            // tells the compiler, so that a build without 5.0 links no AUTH handling.
            Packet::Auth(auth) if cfg!(feature = "v5") => self.on_auth(auth),
            Packet::Disconnect(disconnect) => {
                self.on_disconnect(disconnect);
                Ok(())
            }
            packet if connecting => Err(ProtocolError::Unexpected(packet.packet_type())),
            Packet::Publish(publish) => self.on_publish(publish),
            Packet::PubAck(ack) => self.on_puback(&ack),
            Packet::PubRec(rec) => self.on_pubrec(&rec),
            Packet::PubRel(rel) => self.on_pubrel(&rel),
            Packet::PubComp(comp) => self.on_pubcomp(&comp),
            Packet::SubAck(suback) => self.on_suback(suback),
            Packet::UnsubAck(unsuback) => self.on_unsuback(unsuback),
            Packet::PingResp(_) => Ok(()),
            // The decoder lets through only what a server may send; a second CONNACK is left.
            packet => Err(ProtocolError::Unexpected(packet.packet_type())),
        };
        if let Err(error) = result {
            self.fail(PeerError::Protocol(error));
        }
    }

    fn on_connack(&mut self, connack: ConnAck<Bytes>) -> Result<(), ProtocolError> {
        let properties = &connack.properties;
        if connack.reason_code.is_error() {
            // [MQTT-4.13.2-1] (5.0): a refusing CONNACK closes the connection.
            let mut disconnected =
                Disconnected::new(DisconnectReason::Refused(connack.reason_code));
            if cfg!(feature = "v5") {
                disconnected.reason_string = properties.reason_string.clone();
                disconnected.server_reference = properties.server_reference.clone();
            }
            self.close_with(disconnected, Farewell::Nothing);
            return Ok(());
        }
        let Some(connect) = self.connect.as_ref() else {
            return Err(ProtocolError::Unexpected(PacketType::ConnAck));
        };
        // [MQTT-3.2.2-4] (5.0): Session Present answering Clean Start is a session the client
        // cannot hold; the server broke [MQTT-3.2.2-2] (5.0) / [MQTT-3.2.2-1] (3.1.1).
        if connack.session_present && connect.clean_start {
            return Err(ProtocolError::UnexpectedSession);
        }
        let mut server = ServerLimits::DEFAULT;
        let mut keep_alive = connect.keep_alive;
        let mut key = connect.client_id.as_str();
        // Only a 5.0 CONNACK has properties; the guard lets a build without 5.0 drop this.
        if cfg!(feature = "v5") {
            // [MQTT-4.12.0-5] (5.0): a successful CONNACK names the CONNECT's method.
            let method = connect.properties.authentication_method.as_ref();
            if method.is_some() && properties.authentication_method.as_ref() != method {
                return Err(ProtocolError::AuthMethodMismatch);
            }
            server = server_limits(properties);
            // [MQTT-3.1.2-21], [MQTT-3.2.2-21] (5.0): the server's Keep Alive replaces ours.
            keep_alive = properties.server_keep_alive.unwrap_or(keep_alive);
            if let Some(expiry) = properties.session_expiry_interval {
                self.session_expiry = expiry;
            }
            if let Some(assigned) = &properties.assigned_client_identifier {
                key = assigned.as_str();
            }
        }
        self.session_key = Some(bytestring::ByteString::from(key));
        self.server = server;
        self.state = State::Connected;
        if self.auth == AuthExchange::Connecting {
            self.auth = AuthExchange::None;
        }
        self.timers.connack_deadline = None;
        self.timers.keep_alive = Duration::from_secs(u64::from(keep_alive));
        self.outgoing_aliases.reset(
            self.config
                .outgoing_topic_aliases
                .min(server.topic_alias_maximum),
        );
        // MQTT 3.1's CONNACK has no Session Present flag: a server keeps the session of a
        // client that asked it to, so the client resumes its own.
        let session_present = if self.version == ProtocolVersion::V3_1 {
            !connect.clean_start
        } else {
            connack.session_present
        };
        if session_present {
            self.resend_session();
        } else {
            // [MQTT-3.2.2-5] (5.0): no session on the server, so none here either.
            self.discard_session();
        }
        self.emit(Event::Connected(Box::new(Connected {
            connack,
            session_present,
            server,
            keep_alive,
        })));
        self.flush_held();
        Ok(())
    }

    /// Re-sends, before anything new, every unacknowledged PUBLISH with DUP set and every
    /// PUBREL, in their original order (3.1.1 and 5.0 `[MQTT-4.4.0-1]`, `[MQTT-4.6.0-1]`),
    /// within the new send quota; the PUBLISH packets beyond it wait at the head of the
    /// queue.
    fn resend_session(&mut self) {
        let mut order = core::mem::take(&mut self.scratch);
        self.outbound.resend_order(&mut order);
        let quota = self.server.receive_maximum;
        let mut deferred = Vec::new();
        let mut in_flight: u16 = 0;
        for &(id, is_pubrel) in &order {
            if is_pubrel {
                in_flight = in_flight.saturating_add(1);
                self.pending
                    .push_back(Pending::PubRel(id, PubRelReasonCode::Success));
                continue;
            }
            // This server may take less than the one the message first went to.
            let verdict = match self.outbound.get(id) {
                Some(Entry::Publish(publish, Phase::Sent)) => self.sendable(publish),
                _ => continue,
            };
            if let Err(error) = verdict {
                self.outbound.remove(id);
                self.emit(Event::Published {
                    packet_id: id,
                    result: Err(error),
                });
            } else if in_flight < quota {
                in_flight = in_flight.saturating_add(1);
                self.pending.push_back(Pending::Publish(id));
            } else {
                deferred.push(id);
            }
        }
        self.outbound.defer(&deferred);
        order.clear();
        self.scratch = order;
    }

    fn on_publish(&mut self, mut publish: Publish<Bytes>) -> Result<(), ProtocolError> {
        // Topic Aliases exist only in 5.0 (the guard lets a build without it drop this).
        if cfg!(feature = "v5")
            && let Some(alias) = publish.properties.topic_alias.take()
        {
            let alias = alias.get();
            // [MQTT-3.3.2-10] (5.0): aliases 1 to our Topic Alias Maximum are accepted, no
            // other.
            if alias > self.config.topic_alias_maximum {
                return Err(ProtocolError::TopicAliasInvalid(alias));
            }
            match &publish.topic {
                Some(topic) => self.incoming_aliases.set(alias, topic.clone()),
                None => match self.incoming_aliases.get(alias) {
                    Some(topic) => publish.topic = Some(topic.clone()),
                    None => return Err(ProtocolError::TopicAliasInvalid(alias)),
                },
            }
        }
        let Some(id) = publish.packet_id() else {
            // [MQTT-3.3.4-1]: nothing to answer for QoS 0.
            self.emit(Event::Message(publish));
            return Ok(());
        };
        let qos = publish.qos();
        let manual = self.config.manual_acks;
        match self.inbound.arrive(
            id,
            qos,
            publish.is_dup(),
            manual,
            self.config.receive_maximum.get(),
        ) {
            // [MQTT-3.3.4-9] (5.0): more than our Receive Maximum.
            Arrival::OverLimit => return Err(ProtocolError::ReceiveMaximumExceeded),
            Arrival::Deliver { ack_now } => {
                self.emit(Event::Message(publish));
                if ack_now {
                    // [MQTT-4.3.2-4], [MQTT-4.3.3-8] (5.0): acknowledged in arrival order.
                    self.pending.push_back(match qos {
                        QoS::ExactlyOnce => Pending::PubRec(id, PubAckReasonCode::Success),
                        _ => Pending::PubAck(id, PubAckReasonCode::Success),
                    });
                }
            }
            // [MQTT-4.3.3-10] (5.0): answered again, not delivered again.
            Arrival::RepeatPubRec => {
                self.pending
                    .push_back(Pending::PubRec(id, PubAckReasonCode::Success));
            }
            Arrival::Pending => {}
        }
        Ok(())
    }

    fn on_puback(&mut self, ack: &PubAck<Bytes>) -> Result<(), ProtocolError> {
        match self.outbound.get(ack.packet_id) {
            Some(Entry::Publish(publish, Phase::Sent)) if publish.qos() == QoS::AtLeastOnce => {}
            // An identifier the client holds for another flow.
            Some(_) => return Err(ProtocolError::AckMismatch(PacketType::PubAck)),
            // Nothing held: a duplicate, harmless.
            None => return Ok(()),
        }
        self.outbound.remove(ack.packet_id);
        let result = if ack.reason_code.is_error() {
            // [MQTT-4.4.0-2] (5.0): refused, so acknowledged and never sent again.
            Err(PublishError::Refused(ack.reason_code))
        } else {
            Ok(())
        };
        self.emit(Event::Published {
            packet_id: ack.packet_id,
            result,
        });
        self.send_waiting();
        Ok(())
    }

    fn on_pubrec(&mut self, rec: &PubRec<Bytes>) -> Result<(), ProtocolError> {
        let id = rec.packet_id;
        match self.outbound.get(id) {
            Some(Entry::Publish(publish, Phase::Sent)) if publish.qos() == QoS::ExactlyOnce => {}
            // A repeated PUBREC: the PUBREL goes again.
            Some(Entry::Released) => {
                self.pending
                    .push_back(Pending::PubRel(id, PubRelReasonCode::Success));
                return Ok(());
            }
            Some(_) => return Err(ProtocolError::AckMismatch(PacketType::PubRec)),
            None => {
                // 5.0: PUBREL "Packet Identifier not found" completes the server's flow.
                if self.version.is_v5() {
                    self.pending.push_back(Pending::PubRel(
                        id,
                        PubRelReasonCode::PacketIdentifierNotFound,
                    ));
                }
                return Ok(());
            }
        }
        if rec.reason_code.is_error() {
            // [MQTT-4.4.0-2] (5.0): the flow ends here, without PUBREL.
            self.outbound.remove(id);
            self.emit(Event::Published {
                packet_id: id,
                result: Err(PublishError::Refused(rec.reason_code)),
            });
            self.send_waiting();
        } else {
            // [MQTT-4.3.3-4], [MQTT-4.3.3-6] (5.0): PUBREL with the same identifier; the
            // PUBLISH is never sent again.
            self.outbound.release(id);
            self.pending
                .push_back(Pending::PubRel(id, PubRelReasonCode::Success));
        }
        Ok(())
    }

    fn on_pubrel(&mut self, rel: &PubRel<Bytes>) -> Result<(), ProtocolError> {
        let code = match self.inbound.release(rel.packet_id) {
            // [MQTT-4.3.3-11] (5.0)
            Release::Known => PubCompReasonCode::Success,
            // Benign in 5.0: PUBCOMP "Packet Identifier not found".
            Release::Unknown if self.version.is_v5() => PubCompReasonCode::PacketIdentifierNotFound,
            Release::Unknown => PubCompReasonCode::Success,
            // The server cannot release what it has not seen a PUBREC for.
            Release::BeforePubRec => return Err(ProtocolError::AckMismatch(PacketType::PubRel)),
        };
        self.pending
            .push_back(Pending::PubComp(rel.packet_id, code));
        Ok(())
    }

    fn on_pubcomp(&mut self, comp: &PubComp<Bytes>) -> Result<(), ProtocolError> {
        match self.outbound.get(comp.packet_id) {
            Some(Entry::Released) => {}
            Some(_) => return Err(ProtocolError::AckMismatch(PacketType::PubComp)),
            None => return Ok(()),
        }
        self.outbound.remove(comp.packet_id);
        let result = if comp.reason_code.is_error() {
            Err(PublishError::Incomplete(comp.reason_code))
        } else {
            Ok(())
        };
        self.emit(Event::Published {
            packet_id: comp.packet_id,
            result,
        });
        self.send_waiting();
        Ok(())
    }

    fn on_suback(&mut self, suback: SubAck<Bytes>) -> Result<(), ProtocolError> {
        match self.outbound.get(suback.packet_id) {
            // [MQTT-3.9.3-1] (5.0), [MQTT-3.8.4-5] (3.1.1): one reason code per filter.
            Some(Entry::Subscribe(subscribe))
                if subscribe.subscriptions.len() == suback.reason_codes.len() => {}
            Some(_) => return Err(ProtocolError::AckMismatch(PacketType::SubAck)),
            None => return Ok(()),
        }
        self.outbound.remove(suback.packet_id);
        self.emit(Event::Subscribed(suback));
        Ok(())
    }

    fn on_unsuback(&mut self, unsuback: UnsubAck<Bytes>) -> Result<(), ProtocolError> {
        match self.outbound.get(unsuback.packet_id) {
            // 3.x UNSUBACK carries no reason codes; a 5.0 one carries one per filter.
            Some(Entry::Unsubscribe(unsubscribe))
                if !self.version.is_v5()
                    || unsubscribe.filters.len() == unsuback.reason_codes.len() => {}
            Some(_) => return Err(ProtocolError::AckMismatch(PacketType::UnsubAck)),
            None => return Ok(()),
        }
        self.outbound.remove(unsuback.packet_id);
        self.emit(Event::Unsubscribed(unsuback));
        Ok(())
    }

    fn on_disconnect(&mut self, disconnect: Disconnect<Bytes>) {
        let properties = disconnect.properties;
        let mut disconnected =
            Disconnected::new(DisconnectReason::ByServer(disconnect.reason_code));
        disconnected.reason_string = properties.reason_string;
        disconnected.server_reference = properties.server_reference;
        self.close_with(disconnected, Farewell::Nothing);
    }

    fn on_auth(&mut self, auth: Auth<Bytes>) -> Result<(), ProtocolError> {
        let method = self
            .connect
            .as_ref()
            .and_then(|connect| connect.properties.authentication_method.as_ref());
        // [MQTT-4.12.0-7] (5.0): no method, no exchange; an AUTH now is out of place.
        let Some(method) = method else {
            return Err(ProtocolError::Unexpected(PacketType::Auth));
        };
        if auth.properties.authentication_method.as_ref() != Some(method) {
            return Err(ProtocolError::AuthMethodMismatch);
        }
        match (self.auth, auth.reason_code) {
            (
                AuthExchange::Connecting | AuthExchange::Reauthenticating,
                AuthReasonCode::ContinueAuthentication,
            ) => {
                self.emit(Event::AuthChallenge(auth));
            }
            (AuthExchange::Reauthenticating, AuthReasonCode::Success) => {
                self.auth = AuthExchange::None;
                self.emit(Event::Reauthenticated(auth));
            }
            _ => return Err(ProtocolError::Unexpected(PacketType::Auth)),
        }
        Ok(())
    }
}

/// What a 5.0 CONNACK's properties say the server supports; what they leave out is allowed.
fn server_limits(properties: &ConnAckProperties<Bytes>) -> ServerLimits {
    ServerLimits {
        receive_maximum: properties
            .receive_maximum
            .map_or(u16::MAX, |value| value.get()),
        maximum_qos: match properties.maximum_qos {
            Some(MaximumQos::AtMostOnce) => QoS::AtMostOnce,
            Some(MaximumQos::AtLeastOnce) => QoS::AtLeastOnce,
            None => QoS::ExactlyOnce,
        },
        retain_available: properties.retain_available.unwrap_or(true),
        maximum_packet_size: properties.maximum_packet_size.map(|size| size.get()),
        topic_alias_maximum: properties.topic_alias_maximum.unwrap_or(0),
        wildcard_subscriptions: properties.wildcard_subscription_available.unwrap_or(true),
        subscription_identifiers: properties
            .subscription_identifiers_available
            .unwrap_or(true),
        shared_subscriptions: properties.shared_subscription_available.unwrap_or(true),
    }
}
