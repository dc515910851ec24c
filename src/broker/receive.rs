//! What the broker does with each packet a client sends.

use alloc::boxed::Box;
use alloc::vec::Vec;

use bytes::Bytes;

use super::connection::{Ack, Out, Phase};
use super::event::{CloseReason, ConnectionHandle};
use super::session::{Delivery, SessionKey};
use super::store::MessageId;
use super::{Broker, Policy};
use crate::decoder::Reply;
use crate::packet::{Disconnect, Packet, SubAck, Subscribe, UnsubAck, Unsubscribe};
use crate::reason::{
    ConnectReasonCode, DisconnectReasonCode, PubAckReasonCode, ReasonCode, SubAckReasonCode,
    UnsubAckReasonCode,
};
use crate::topic::TopicName;
use crate::types::{PacketId, PacketType, QoS};

impl<P: Policy> Broker<P> {
    /// Decodes and handles every complete packet received on `handle`, until it closes or
    /// waits for the driver's verdict on its CONNECT, after `push` gave the working decoder
    /// what arrived; the bytes left unread go back to the connection.
    pub(super) fn process_input(
        &mut self,
        handle: ConnectionHandle,
        push: impl FnOnce(&mut crate::decoder::Decoder),
    ) {
        let limits = crate::codec::Limits::new(self.config.max_packet_size);
        let Some(conn) = self.connection_mut(handle) else {
            return;
        };
        if matches!(conn.phase, Phase::Closing) {
            return;
        }
        let unread = conn.unread.take().map(|unread| *unread);
        let version = (!matches!(conn.phase, Phase::AwaitingConnect)).then_some(conn.version);
        self.decoder.resume(unread, version, limits);
        push(&mut self.decoder);
        self.decode_all(handle);
        let unread = self.decoder.suspend();
        let Some(conn) = self.connection_mut(handle) else {
            return;
        };
        if matches!(conn.phase, Phase::Closing) {
            return;
        }
        // Packets behind a CONNECT wait for the driver's verdict, up to one maximum-size
        // packet's worth: past that, the buffer is full, a transient error that closes the
        // connection (`[MQTT-4.8.0-2]` in 3.1.1).
        let Some(unread) = unread else {
            return;
        };
        let overflow = matches!(conn.phase, Phase::Authenticating(_))
            && unread.len() > limits.max_packet_size as usize;
        if overflow {
            self.close(handle, CloseReason::BufferFull, None);
        } else {
            conn.unread = Some(Box::new(unread));
        }
    }

    /// Handles the packets the working decoder holds for `handle`, until it closes or waits.
    fn decode_all(&mut self, handle: ConnectionHandle) {
        loop {
            // Nothing left is the usual end: tested before the connection is looked up.
            if self.decoder.buffered() == 0 {
                return;
            }
            let Some(conn) = self.connection_mut(handle) else {
                return;
            };
            if matches!(conn.phase, Phase::Closing) || conn.awaits_verdict() {
                return;
            }
            // A PUBLISH, and acknowledgements in their short form, skip building a packet.
            if self.decoder.next_is_publish() {
                // Decoded straight into the store, where it stays if it is routed.
                let id = self.store.insert_blank(self.now);
                let decoded = match self.store.get_mut(id) {
                    Some(stored) => self.decoder.decode_publish_into(&mut stored.publish),
                    None => Ok(None),
                };
                match decoded {
                    Ok(Some(wire)) => {
                        // A 3.x QoS 0 PUBLISH without RETAIN (first byte 0x30) is, byte for
                        // byte, what each plain QoS 0 delivery of it to a 3.x subscriber
                        // writes.
                        let plain = self.decoder.version().is_some_and(|v| !v.is_v5())
                            && wire.first() == Some(&0x30);
                        self.store.filled(id, plain.then_some(wire));
                        self.handle_publish(handle, id);
                    }
                    Ok(None) => {
                        self.store.release_if_unused(id);
                        return;
                    }
                    Err(failure) => {
                        // Counted as decoded (if it was, before a later check refused it),
                        // so that dropping it leaves the store's byte count right.
                        self.store.filled(id, None);
                        self.store.release_if_unused(id);
                        self.decode_failed(handle, failure);
                        return;
                    }
                }
                // Dropped unless routed to someone.
                self.store.release_if_unused(id);
                continue;
            }
            if let Some((kind, id)) = self.decoder.short_ack() {
                self.handle_short_ack(handle, kind, id);
                continue;
            }
            let decoded = self.decoder.decode();
            match decoded {
                Ok(Some(packet)) => self.handle_packet(handle, packet),
                Ok(None) => return,
                Err(failure) => {
                    self.decode_failed(handle, failure);
                    return;
                }
            }
        }
    }

    /// The working decoder failed on `handle`'s stream: the reply it calls for, then close.
    #[cold]
    fn decode_failed(&mut self, handle: ConnectionHandle, failure: crate::decoder::DecodeFailure) {
        let farewell = match failure.reply {
            Reply::ConnAck { version, code } => {
                let code = if version.is_v5() {
                    code
                } else {
                    match crate::reason::ConnectReturnCode::from_reason_code(code) {
                        Some(code) => code.to_reason_code(),
                        None => ConnectReasonCode::UnspecifiedError,
                    }
                };
                if let Some(conn) = self.connection_mut(handle) {
                    conn.version = version;
                }
                Some(Out::ConnAck(Box::new(crate::packet::ConnAck::new(
                    false, code,
                ))))
            }
            Reply::Disconnect(code) => self.protocol_farewell(handle, code),
            _ => None,
        };
        let code = failure.error.disconnect_reason_code();
        self.close(handle, CloseReason::ProtocolError(code), farewell);
    }

    /// A protocol error: 5.0 DISCONNECT with `code`, 3.x close (`[MQTT-4.8.0-1]`).
    pub(super) fn violation(&mut self, handle: ConnectionHandle, code: DisconnectReasonCode) {
        let farewell = self.protocol_farewell(handle, code);
        self.close(handle, CloseReason::ProtocolError(code), farewell);
    }

    /// A packet arrived on `handle`: the Keep Alive clock starts again, and the session it
    /// is for, if the connection has one yet, is returned.
    fn packet_arrived(&mut self, handle: ConnectionHandle) -> Option<Option<SessionKey>> {
        let now = self.now;
        let conn = self.connection_mut(handle)?;
        if conn.keep_alive != 0 {
            conn.deadline = conn.silence_deadline(now);
        }
        Some(conn.session)
    }

    /// A PUBACK, PUBREC, PUBREL or PUBCOMP of Packet Identifier `id` with no reason code
    /// (Success) and no properties, as [`Decoder::short_ack`] reads it.
    ///
    /// [`Decoder::short_ack`]: crate::decoder::Decoder::short_ack
    fn handle_short_ack(&mut self, handle: ConnectionHandle, kind: PacketType, id: PacketId) {
        let Some(session) = self.packet_arrived(handle) else {
            return;
        };
        let Some(key) = session else {
            // Before CONNACK ([MQTT-3.1.2-30] in 5.0).
            self.violation(handle, DisconnectReasonCode::ProtocolError);
            return;
        };
        match kind {
            PacketType::PubAck => self.on_puback(key, id),
            PacketType::PubRec => self.on_pubrec(handle, key, id, false),
            PacketType::PubRel => self.on_pubrel(handle, key, id),
            _ => self.on_pubcomp(key, id),
        }
    }

    /// A PUBLISH decoded into message `id` of the store.
    fn handle_publish(&mut self, handle: ConnectionHandle, id: MessageId) {
        let Some(session) = self.packet_arrived(handle) else {
            return;
        };
        let Some(key) = session else {
            // Before CONNACK ([MQTT-3.1.2-30] in 5.0), as `handle_unconnected` has it.
            self.violation(handle, DisconnectReasonCode::ProtocolError);
            return;
        };
        self.on_publish(handle, key, id);
    }

    fn handle_packet(&mut self, handle: ConnectionHandle, packet: Packet<Bytes>) {
        let Some(session) = self.packet_arrived(handle) else {
            return;
        };
        let Some(key) = session else {
            self.handle_unconnected(handle, packet);
            return;
        };
        // Matched as it is, not in a tuple: a PUBLISH is large, and every wrapping copies it.
        match packet {
            Packet::Publish(publish) => {
                let id = self.store.insert(publish, self.now);
                self.on_publish(handle, key, id);
                self.store.release_if_unused(id);
            }
            Packet::PubAck(ack) => self.on_puback(key, ack.packet_id),
            Packet::PubRec(rec) => {
                self.on_pubrec(handle, key, rec.packet_id, rec.reason_code.is_error());
            }
            Packet::PubRel(rel) => self.on_pubrel(handle, key, rel.packet_id),
            Packet::PubComp(comp) => self.on_pubcomp(key, comp.packet_id),
            Packet::Subscribe(subscribe) => self.on_subscribe(handle, key, &subscribe),
            Packet::Unsubscribe(unsubscribe) => self.on_unsubscribe(handle, key, &unsubscribe),
            Packet::PingReq(_) => self.send(handle, Out::PingResp),
            Packet::Disconnect(disconnect) => self.on_disconnect(handle, key, &disconnect),
            Packet::Auth(auth) => self.on_auth(handle, auth),
            // The decoder refuses a second CONNECT and what flows only to clients.
            _ => self.violation(handle, DisconnectReasonCode::ProtocolError),
        }
    }

    /// A packet on a connection with no session yet: its CONNECT, or a step of the enhanced
    /// authentication that comes before CONNACK.
    #[cold]
    fn handle_unconnected(&mut self, handle: ConnectionHandle, packet: Packet<Bytes>) {
        match packet {
            Packet::Connect(connect) => self.on_connect(handle, *connect),
            Packet::Auth(auth) => self.on_auth(handle, auth),
            // A client may give up during an enhanced authentication exchange.
            Packet::Disconnect(_) => self.close(handle, CloseReason::ClientDisconnected, None),
            // Anything before CONNECT is refused by the decoder; anything but AUTH and
            // DISCONNECT before CONNACK is a Protocol Error ([MQTT-3.1.2-30] in 5.0).
            _ => self.violation(handle, DisconnectReasonCode::ProtocolError),
        }
    }

    /// A PUBLISH from session `key`'s client, stored as `message` with no holder: routed
    /// unless refused (the caller drops it if no one holds it then).
    fn on_publish(&mut self, handle: ConnectionHandle, key: SessionKey, message: MessageId) {
        let (version, max_alias) = match self.connection(handle) {
            Some(conn) => (conn.version, self.config.topic_alias_maximum),
            None => return,
        };
        let Some(stored) = self.store.get_mut(message) else {
            return;
        };
        let publish = &mut stored.publish;
        // Topic Alias (5.0): set with a topic, used without one ([MQTT-3.3.2-10..12]).
        if let Some(alias) = publish.properties.topic_alias {
            let alias = alias.get();
            if alias > max_alias {
                self.violation(handle, DisconnectReasonCode::TopicAliasInvalid);
                return;
            }
            let index = usize::from(alias).saturating_sub(1);
            let Some(conn) = super::connection_in(&mut self.connections, handle) else {
                return;
            };
            match &publish.topic {
                Some(topic) => {
                    let inbound = &mut conn.aliases.get_or_insert_with(Box::default).inbound;
                    if inbound.len() <= index {
                        inbound.resize(index.saturating_add(1), None);
                    }
                    if let Some(slot) = inbound.get_mut(index) {
                        // A copy of its own: a slice would hold the buffer it was read in
                        // for as long as the alias lives.
                        *slot = TopicName::new(bytestring::ByteString::from(topic.as_str())).ok();
                    }
                }
                None => {
                    let known = conn
                        .aliases
                        .as_deref()
                        .and_then(|aliases| aliases.inbound.get(index).cloned().flatten());
                    match known {
                        Some(topic) => publish.topic = Some(topic),
                        None => {
                            self.violation(handle, DisconnectReasonCode::TopicAliasInvalid);
                            return;
                        }
                    }
                }
            }
        }
        let Some(publish) = self.store.get(message).map(|stored| &stored.publish) else {
            return;
        };
        let qos = publish.qos();
        // [MQTT-3.2.2-12] (5.0): above Maximum QoS; [MQTT-3.2.2-13]: RETAIN unavailable.
        if qos > self.config.maximum_qos {
            self.violation(handle, DisconnectReasonCode::QoSNotSupported);
            return;
        }
        if publish.retain && !self.config.retain_available {
            self.violation(handle, DisconnectReasonCode::RetainNotSupported);
            return;
        }
        let Some(topic) = publish.topic.as_ref() else {
            self.violation(handle, DisconnectReasonCode::ProtocolError);
            return;
        };
        // A topic has at most one level more than it has bytes: most need no count.
        let max_levels = self.config.max_topic_levels;
        let too_deep = topic.as_str().len() >= max_levels && topic.level_count() > max_levels;
        let allowed = !too_deep
            && self
                .session(key)
                .is_some_and(|session| self.policy.may_publish(&session.client_id, topic.as_str()));
        let Some(id) = publish.packet_id() else {
            if allowed {
                self.route_stored(message, Some(key));
            }
            return;
        };
        // [MQTT-3.3.4-9] (5.0): no more unacknowledged QoS 1 and 2 than our Receive Maximum.
        let receive_maximum = self.config.receive_maximum;
        let unacknowledged = self
            .connection(handle)
            .map_or(0, |conn| conn.unacknowledged);
        if unacknowledged >= receive_maximum && version.is_v5() {
            self.violation(handle, DisconnectReasonCode::ReceiveMaximumExceeded);
            return;
        }
        let refused = if too_deep {
            PubAckReasonCode::TopicNameInvalid
        } else {
            PubAckReasonCode::NotAuthorized
        };
        // 3.x has no refusing acknowledgement: a refused message is acknowledged and dropped.
        let code = if !version.is_v5() || allowed {
            PubAckReasonCode::Success.as_u8()
        } else {
            refused.as_u8()
        };
        if qos == QoS::AtLeastOnce {
            if allowed {
                self.route_stored(message, Some(key));
            }
            self.send(handle, Out::Ack(Ack::PubAck(id, code)));
            return;
        }
        // QoS 2: [MQTT-4.3.3-9]/[MQTT-4.3.3-10] (5.0): delivered once, PUBREC until PUBREL.
        let first = self
            .session_mut(key)
            .is_some_and(|session| session.receive_qos2(id));
        if first {
            if let Some(conn) = self.connection_mut(handle) {
                conn.unacknowledged = conn.unacknowledged.saturating_add(1);
            }
            if allowed {
                self.route_stored(message, Some(key));
            }
        }
        self.send(handle, Out::Ack(Ack::PubRec(id, code)));
        if !allowed && version.is_v5() {
            // A refusing PUBREC ends the flow ([MQTT-4.3.3-9] in 5.0).
            if let Some(session) = self.session_mut(key) {
                session.release_qos2(id);
            }
            if let Some(conn) = self.connection_mut(handle) {
                conn.unacknowledged = conn.unacknowledged.saturating_sub(1);
            }
        }
    }

    fn on_puback(&mut self, key: SessionKey, packet_id: PacketId) {
        let Some(session) = self.session_mut(key) else {
            return;
        };
        let Some(at) = session.inflight_position(packet_id) else {
            return;
        };
        let is_qos1 = session
            .flows()
            .inflight
            .get(at)
            .is_some_and(|inflight| inflight.delivery.qos == QoS::AtLeastOnce);
        if !is_qos1 {
            return;
        }
        if let Some(inflight) = session.flows_mut().remove_inflight(at) {
            self.store.release(inflight.delivery.message);
        }
        self.fill_window(key);
    }

    /// A PUBREC; `refused` if its reason code is 0x80 or above (5.0).
    fn on_pubrec(
        &mut self,
        handle: ConnectionHandle,
        key: SessionKey,
        packet_id: PacketId,
        refused: bool,
    ) {
        let v5 = self
            .connection(handle)
            .is_some_and(|conn| conn.version.is_v5());
        let Some(session) = self.session_mut(key) else {
            return;
        };
        let Some(at) = session.inflight_position(packet_id) else {
            if v5 {
                self.send(
                    handle,
                    Out::Ack(Ack::PubRel(
                        packet_id,
                        ReasonCode::PacketIdentifierNotFound.as_u8(),
                    )),
                );
            }
            return;
        };
        if refused {
            // [MQTT-4.4.0-2] (5.0): the flow ends without PUBREL.
            if let Some(inflight) = session.flows_mut().remove_inflight(at) {
                self.store.release(inflight.delivery.message);
            }
            self.fill_window(key);
            return;
        }
        if let Some(inflight) = session.flows_mut().inflight.get_mut(at) {
            inflight.released = true;
        }
        self.send(handle, Out::Ack(Ack::PubRel(packet_id, 0)));
    }

    fn on_pubrel(&mut self, handle: ConnectionHandle, key: SessionKey, packet_id: PacketId) {
        let known = self
            .session_mut(key)
            .is_some_and(|session| session.release_qos2(packet_id));
        let v5 = match self.connection_mut(handle) {
            Some(conn) => {
                if known {
                    conn.unacknowledged = conn.unacknowledged.saturating_sub(1);
                }
                conn.version.is_v5()
            }
            None => return,
        };
        let code = if known || !v5 {
            0
        } else {
            ReasonCode::PacketIdentifierNotFound.as_u8()
        };
        self.send(handle, Out::Ack(Ack::PubComp(packet_id, code)));
    }

    fn on_pubcomp(&mut self, key: SessionKey, packet_id: PacketId) {
        let Some(session) = self.session_mut(key) else {
            return;
        };
        let Some(at) = session.inflight_position(packet_id) else {
            return;
        };
        if session
            .flows()
            .inflight
            .get(at)
            .is_some_and(|inflight| inflight.released)
        {
            if let Some(inflight) = session.flows_mut().remove_inflight(at) {
                self.store.release(inflight.delivery.message);
            }
            self.fill_window(key);
        }
    }

    fn on_subscribe(
        &mut self,
        handle: ConnectionHandle,
        key: SessionKey,
        subscribe: &Subscribe<Bytes>,
    ) {
        let now = self.now;
        let Some(version) = self.connection(handle).map(|conn| conn.version) else {
            return;
        };
        let sub_id = subscribe.properties.subscription_identifier;
        if sub_id.is_some() && !self.config.subscription_identifiers {
            self.violation(
                handle,
                DisconnectReasonCode::SubscriptionIdentifiersNotSupported,
            );
            return;
        }
        let mut codes = Vec::with_capacity(subscribe.subscriptions.len());
        let mut retained_for = Vec::new();
        for subscription in subscribe.subscriptions.iter() {
            let filter = &subscription.filter;
            let failure = |code: SubAckReasonCode| {
                if version.is_v5() {
                    code
                } else {
                    SubAckReasonCode::UnspecifiedError
                }
            };
            let code = if filter.is_shared() && !self.config.shared_subscriptions {
                failure(SubAckReasonCode::SharedSubscriptionsNotSupported)
            } else if filter.has_wildcards() && !self.config.wildcard_subscriptions {
                failure(SubAckReasonCode::WildcardSubscriptionsNotSupported)
            } else if filter.check_levels(self.config.max_topic_levels).is_err() {
                failure(SubAckReasonCode::TopicFilterInvalid)
            } else if !self.session(key).is_some_and(|session| {
                self.policy
                    .may_subscribe(&session.client_id, filter.as_str())
            }) {
                failure(SubAckReasonCode::NotAuthorized)
            } else {
                let mut options = subscription.options;
                options.qos = options.qos.min(self.config.maximum_qos);
                let known = self
                    .session(key)
                    .is_some_and(|session| session.filters.iter().any(|f| &**f == filter.as_str()));
                let full = self
                    .session(key)
                    .is_some_and(|session| session.filters.len() >= self.config.max_subscriptions);
                if !known && full {
                    failure(SubAckReasonCode::QuotaExceeded)
                } else {
                    // [MQTT-3.8.4-3]: the same filter replaces the subscription.
                    let Ok(replaced) = self.subscriptions.subscribe(filter, key, options, sub_id)
                    else {
                        codes.push(failure(SubAckReasonCode::QuotaExceeded));
                        continue;
                    };
                    if !replaced {
                        self.interest_gained(filter.as_str());
                    }
                    if !known && let Some(session) = self.session_mut(key) {
                        // A copy of its own (a slice would hold the SUBSCRIBE's buffer), in a
                        // list that grows by one: sessions hold few filters.
                        session.filters.reserve_exact(1);
                        session.filters.push(Box::from(filter.as_str()));
                    }
                    use crate::packet::RetainHandling;
                    let send_retained = !filter.is_shared()
                        && match options.retain_handling {
                            RetainHandling::SendAtSubscribe => true,
                            RetainHandling::SendAtSubscribeIfNew => !replaced,
                            RetainHandling::DoNotSend => false,
                        };
                    if send_retained {
                        retained_for.push((filter.clone(), options.qos, sub_id));
                    }
                    match options.qos {
                        QoS::AtMostOnce => SubAckReasonCode::GrantedQoS0,
                        QoS::AtLeastOnce => SubAckReasonCode::GrantedQoS1,
                        QoS::ExactlyOnce => SubAckReasonCode::GrantedQoS2,
                    }
                }
            };
            codes.push(code);
        }
        // MQTT 3.1's SUBACK has no failure code: a refused subscription can only be answered
        // by closing the connection.
        if version == crate::types::ProtocolVersion::V3_1
            && codes.iter().any(|code| code.is_error())
        {
            self.close(
                handle,
                CloseReason::ProtocolError(DisconnectReasonCode::NotAuthorized),
                None,
            );
            return;
        }
        let suback = SubAck::new(subscribe.packet_id, codes);
        self.send(handle, Out::SubAck(Box::new(suback)));
        // Retained messages after the SUBACK, with RETAIN set ([MQTT-3.3.1-8] in 3.1.1; 5.0
        // section 3.3.1.3 says the same).
        for (filter, granted, sub_id) in retained_for {
            let mut found = core::mem::take(&mut self.retained_scratch);
            found.clear();
            self.retained.matching(&filter, now, &mut found);
            for retained in &found {
                let qos = retained.publish.qos().min(granted);
                let message = self
                    .store
                    .insert(retained.publish.clone(), retained.received_at);
                let mut sub_ids = super::session::SubIds::None;
                if let Some(sub_id) = sub_id {
                    sub_ids.push(sub_id);
                }
                let delivery = Delivery {
                    message,
                    qos,
                    retain: true,
                    sub_ids,
                    group: None,
                };
                self.deliver(key, delivery);
                self.store.release_if_unused(message);
            }
            self.retained_scratch = found;
        }
    }

    fn on_unsubscribe(
        &mut self,
        handle: ConnectionHandle,
        key: SessionKey,
        unsubscribe: &Unsubscribe<Bytes>,
    ) {
        let mut codes = Vec::with_capacity(unsubscribe.filters.len());
        for filter in unsubscribe.filters.iter() {
            let existed = self.subscriptions.unsubscribe(filter.as_str(), key);
            if existed {
                self.interest_lost(filter.as_str());
            }
            if existed && let Some(session) = self.session_mut(key) {
                session.filters.retain(|f| &**f != filter.as_str());
            }
            codes.push(if existed {
                UnsubAckReasonCode::Success
            } else {
                UnsubAckReasonCode::NoSubscriptionExisted
            });
        }
        let v5 = self
            .connection(handle)
            .is_some_and(|conn| conn.version.is_v5());
        let unsuback = if v5 {
            UnsubAck::new(unsubscribe.packet_id, codes)
        } else {
            UnsubAck::new(unsubscribe.packet_id, [])
        };
        self.send(handle, Out::UnsubAck(Box::new(unsuback)));
    }

    fn on_disconnect(
        &mut self,
        handle: ConnectionHandle,
        key: SessionKey,
        disconnect: &Disconnect<Bytes>,
    ) {
        if let Some(expiry) = disconnect.properties.session_expiry_interval {
            // v5 §3.14.2.2.2: a CONNECT with 0 cannot be followed by a DISCONNECT with more.
            let was_zero = self.session(key).is_some_and(|session| session.expiry == 0);
            if was_zero && expiry != 0 {
                self.violation(handle, DisconnectReasonCode::ProtocolError);
                return;
            }
            let maximum = self.config.max_session_expiry;
            if let Some(session) = self.session_mut(key) {
                session.expiry = expiry.min(maximum);
            }
        }
        if disconnect.reason_code == DisconnectReasonCode::DisconnectWithWillMessage {
            // 5.0: the client asks for its will: ending as if abnormally publishes it.
            self.end_connection(handle, true);
        }
        self.close(handle, CloseReason::ClientDisconnected, None);
    }
}
