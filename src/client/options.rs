//! What one connection asks of the server: the CONNECT a [`Client`](super::Client) sends.

use bytes::Bytes;

use crate::codec::{BinaryData, MqttString, StringError};
use crate::packet::{Connect, Will};
use crate::property::UserProperty;
use crate::topic::{TopicError, TopicName};
use crate::types::{ProtocolVersion, QoS};

/// Why [`ConnectOptions::will_message`] refused its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WillError {
    /// The topic is not a valid Topic Name.
    #[error("will topic: {0}")]
    Topic(#[from] TopicError),
    /// The payload is longer than 65,535 bytes.
    #[error("will payload: {0}")]
    Payload(#[from] StringError),
}

/// The CONNECT to send: protocol version, Client Identifier, session, Keep Alive, Will,
/// credentials, enhanced authentication and user properties.
///
/// The limits a CONNECT also carries (Receive Maximum, Maximum Packet Size, Topic Alias
/// Maximum) come from the [`ClientConfig`](super::ClientConfig), because the client enforces
/// them.
///
/// ```
/// use mqtt_sansio::{ConnectOptions, ProtocolVersion};
///
/// let options = ConnectOptions::new(ProtocolVersion::V5, "sensor-7")?
///     .clean_start(false)
///     .session_expiry_interval(3600)
///     .keep_alive(30)
///     .credentials("user", Some(b"secret".as_slice()))?;
/// assert_eq!(options.packet().client_id.as_str(), "sensor-7");
/// # Ok::<(), mqtt_sansio::StringError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    connect: Connect<Bytes>,
}

impl ConnectOptions {
    /// A CONNECT in `version` for `client_id` (empty asks the server to assign one), with
    /// Clean Start, a Keep Alive of 60 s and nothing else.
    pub fn new(version: ProtocolVersion, client_id: &str) -> Result<Self, StringError> {
        let client_id = MqttString::new(bytestring::ByteString::from(client_id))?;
        let mut connect = Connect::new(version, client_id);
        connect.keep_alive = 60;
        Ok(Self { connect })
    }

    /// Options taking every field from a CONNECT packet; the three limits the client sets
    /// from its configuration are overwritten when it connects.
    #[must_use]
    pub fn from_packet(connect: Connect<Bytes>) -> Self {
        Self { connect }
    }

    /// Clean Start (5.0) or Clean Session (3.x): start a new session instead of resuming one.
    #[must_use]
    pub fn clean_start(mut self, clean_start: bool) -> Self {
        self.connect.clean_start = clean_start;
        self
    }

    /// Keep Alive in seconds; 0 switches it off. A 5.0 server may override it.
    #[must_use]
    pub fn keep_alive(mut self, seconds: u16) -> Self {
        self.connect.keep_alive = seconds;
        self
    }

    /// The 5.0 Session Expiry Interval in seconds (0: the session ends with the connection;
    /// `u32::MAX`: it never expires).
    #[must_use]
    pub fn session_expiry_interval(mut self, seconds: u32) -> Self {
        self.connect.properties.session_expiry_interval = (seconds != 0).then_some(seconds);
        self
    }

    /// The Will Message, published by the server if the connection ends abnormally.
    #[must_use]
    pub fn will(mut self, will: Will<Bytes>) -> Self {
        self.connect.will = Some(will);
        self
    }

    /// The Will Message from its parts: a topic, a payload, its QoS and RETAIN flag. Set
    /// [`Will::properties`] through [`will`](Self::will) for 5.0 properties and a Will Delay.
    ///
    /// ```
    /// use mqtt_sansio::{ConnectOptions, ProtocolVersion, QoS};
    ///
    /// let options = ConnectOptions::new(ProtocolVersion::V3_1_1, "sensor-7")?
    ///     .will_message("sensors/7/status", b"offline", QoS::AtLeastOnce, true)?;
    /// assert_eq!(options.packet().will.as_ref().unwrap().topic.as_str(), "sensors/7/status");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn will_message(
        self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<Self, WillError> {
        let topic = TopicName::new(bytestring::ByteString::from(topic))?;
        let payload = BinaryData::new(Bytes::copy_from_slice(payload))?;
        let mut will = Will::new(topic, payload);
        will.qos = qos;
        will.retain = retain;
        Ok(self.will(will))
    }

    /// User Name and, optionally, Password.
    pub fn credentials(
        mut self,
        username: &str,
        password: Option<&[u8]>,
    ) -> Result<Self, StringError> {
        self.connect.username = Some(MqttString::new(bytestring::ByteString::from(username))?);
        self.connect.password = match password {
            Some(password) => Some(BinaryData::new(Bytes::copy_from_slice(password))?),
            None => None,
        };
        Ok(self)
    }

    /// 5.0 enhanced authentication: the Authentication Method and the initial data. The
    /// server's challenges arrive as [`Event::AuthChallenge`](super::Event::AuthChallenge).
    pub fn authentication(
        mut self,
        method: &str,
        data: Option<&[u8]>,
    ) -> Result<Self, StringError> {
        let properties = &mut self.connect.properties;
        properties.authentication_method =
            Some(MqttString::new(bytestring::ByteString::from(method))?);
        properties.authentication_data = match data {
            Some(data) => Some(BinaryData::new(Bytes::copy_from_slice(data))?),
            None => None,
        };
        Ok(self)
    }

    /// Asks a 5.0 server for Response Information in CONNACK.
    #[must_use]
    pub fn request_response_information(mut self, request: bool) -> Self {
        self.connect.properties.request_response_information = request.then_some(true);
        self
    }

    /// Whether a 5.0 server may send Reason Strings and User Properties on packets other than
    /// PUBLISH, CONNACK and DISCONNECT (it may by default).
    #[must_use]
    pub fn request_problem_information(mut self, request: bool) -> Self {
        self.connect.properties.request_problem_information = (!request).then_some(false);
        self
    }

    /// Adds a 5.0 User Property to the CONNECT.
    pub fn user_property(mut self, name: &str, value: &str) -> Result<Self, StringError> {
        self.connect
            .properties
            .user_properties
            .push(UserProperty::new(
                MqttString::new(bytestring::ByteString::from(name))?,
                MqttString::new(bytestring::ByteString::from(value))?,
            ));
        Ok(self)
    }

    /// The CONNECT as it stands.
    #[must_use]
    pub fn packet(&self) -> &Connect<Bytes> {
        &self.connect
    }

    /// The protocol version.
    #[must_use]
    pub fn version(&self) -> ProtocolVersion {
        self.connect.protocol_version
    }

    pub(crate) fn into_packet(self) -> Connect<Bytes> {
        self.connect
    }
}
