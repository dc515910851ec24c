//! A packet inspector: decodes MQTT packets given as hex and prints one line per packet.
//!
//! # Usage
//!
//! ```text
//! cargo run --example inspect -- [--level 3|4|5] [HEX...]
//! ```
//!
//! The hex comes from the arguments, all joined, or from stdin when no argument holds any;
//! whitespace (spaces, tabs, line breaks) is ignored anywhere, so a capture can be pasted as
//! it is. `--level` (or `--level=N`) names the protocol version: 3 (MQTT 3.1), 4 (3.1.1) or 5
//! (5.0). Without it the first packet must be a CONNECT, and its Protocol Level sets the
//! version of every packet after it. A later CONNECT is decoded in the version it names, but
//! does not change the version of the packets after it.
//!
//! Decoding accepts packets up to the protocol's own limit ([`MAX_PACKET_SIZE`]), not the
//! library's default [`Limits`], since an inspector should show what is there.
//!
//! # Output
//!
//! One line per packet on stdout:
//!
//! - `ok <PACKET TYPE> <fields>` for each packet decoded;
//! - `err 0x<reason code> <error>` for the first packet that does not decode: the reason code a
//!   receiver would send ([`DecodeError::reason_code`]) in two lowercase hex digits, then the
//!   error's text. Nothing after it is decoded.
//! - `incomplete: need N more bytes` when the input ends inside a packet. N is exact once the
//!   fixed header is complete; before that it is a lower bound.
//!
//! The exit status is 0 when every byte belongs to a complete packet (an empty input
//! included), 1 after an `err` or `incomplete` line, and 2 for a usage error (bad hex, a bad
//! `--level`, an unknown option), which is printed to stderr with nothing on stdout.
//!
//! # Fields
//!
//! Fields are `key=value`, separated by single spaces, always in the same order for a packet
//! type and version; fields a version does not carry are left out (MQTT 3.1 and 3.1.1 packets
//! have no `reason=` or `props=`). Values are written as follows:
//!
//! - flags are `0` or `1`, numbers are decimal;
//! - strings (topics, filters, client identifiers, user names, string properties) are in double
//!   quotes, with `"`, `\`, and control characters escaped (`\n`, `\r`, `\t`, `\u{1b}`);
//! - binary data (payloads, will payloads, binary properties) is its length then a preview of
//!   at most 32 bytes, `2B "hi"`, where bytes outside printable ASCII are `\xNN` and `...`
//!   after the closing quote marks a cut preview;
//! - a password is only its length, `password=6B`: it is never printed;
//! - reason codes are the wire byte and a name, `0x87(NotAuthorized)`; MQTT 3.1 and 3.1.1 show
//!   the CONNACK `return_code` and SUBACK `return_codes` as they are on the wire;
//! - an absent optional field (will, user name, password) is `none`;
//! - lists are `[a, b]`; the entries of a SUBSCRIBE are `"filter" qos=N` plus, in 5.0, the
//!   other subscription options;
//! - MQTT 5.0 properties are `props={Name=value, ...}` with the names the spec uses, only those
//!   that are set, in a fixed order per packet (not the wire order); repeated ones (User
//!   Property, Subscription Identifier) appear once per occurrence, after the others, a User
//!   Property as `("name","value")`. Byte-valued properties show their wire value.
//!
//! The fields per packet type are:
//!
//! ```text
//! CONNECT     protocol level clean_session|clean_start keep_alive client_id
//!             will={qos retain topic payload [props]}|none user password [props]
//! CONNACK     [session_present] reason|return_code [props]   (3.1 has no session_present)
//! PUBLISH     qos [id] dup retain topic payload [props]       (id only for QoS 1 and 2)
//! PUBACK, PUBREC, PUBREL, PUBCOMP   id [reason props]
//! SUBSCRIBE   id filters=[...] [props]
//! SUBACK      id reasons|return_codes=[...] [props]
//! UNSUBSCRIBE id filters=[...] [props]
//! UNSUBACK    id [reasons=[...] props]
//! PINGREQ, PINGRESP                   (no fields)
//! DISCONNECT  [reason props]
//! AUTH        reason props
//! ```
//!
//! # Example
//!
//! ```text
//! $ cargo run --example inspect -- --level 5 '32 0d 00 03 61 2f 62 00 0a 03 23 00 05 68 69' \
//!       '40 02 00 0a  e0 00  30 05'
//! ok PUBLISH qos=1 id=10 dup=0 retain=0 topic="a/b" payload=2B "hi" props={Topic Alias=5}
//! ok PUBACK id=10 reason=0x00(Success) props={}
//! ok DISCONNECT reason=0x00(NormalDisconnection) props={}
//! incomplete: need 5 more bytes
//! $ echo $?
//! 1
//! ```

use core::num::{NonZeroU16, NonZeroU32};
use std::io::Read as _;

use mqtt_sansio::property::UserProperty;
use mqtt_sansio::{
    AckProperties, Auth, AuthProperties, BinaryData, ConnAck, ConnAckProperties, Connect,
    ConnectProperties, ConnectReturnCode, DecodeError, Decoded, Disconnect, DisconnectProperties,
    Limits, MAX_PACKET_SIZE, MaximumQos, MessageProperties, MqttString, Packet, PacketId,
    PayloadFormat, PropertyId, ProtocolVersion, Publish, PublishProperties, SubAck,
    SubAckReasonCode, Subscribe, SubscribeProperties, SubscriptionId, TopicName, UnsubAck,
    Unsubscribe, UnsubscribeProperties, Will, WillProperties,
};

/// Exit status: every byte decoded into complete packets.
const EXIT_OK: i32 = 0;
/// Exit status: a packet failed to decode, or the input ends inside one.
const EXIT_DECODE: i32 = 1;
/// Exit status: the command line or the hex is wrong.
const EXIT_USAGE: i32 = 2;

/// The one-line synopsis printed with usage errors and `--help`.
const USAGE: &str = "usage: inspect [--level 3|4|5] [HEX...]   (hex from stdin when none is given)";

/// How many bytes of a payload or binary field are shown.
const PREVIEW_LEN: usize = 32;

/// Runs the inspector on `args` (without the program name) and `stdin`, and returns what it
/// prints to stdout and stderr and its exit status.
///
/// `stdin` is only read when no argument holds hex.
pub fn run(args: &[String], stdin: &str) -> (String, String, i32) {
    let options = match Options::parse(args) {
        Ok(options) => options,
        Err(message) => return usage_error(&message),
    };
    if options.help {
        return (format!("{USAGE}\n"), String::new(), EXIT_OK);
    }
    let text = options.hex.as_deref().unwrap_or(stdin);
    let input = match parse_hex(text) {
        Ok(input) => input,
        Err(message) => return usage_error(&message),
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    let status = inspect(&input, options.level, &mut stdout, &mut stderr);
    (stdout, stderr, status)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut stdin = String::new();
    // Read stdin only when the arguments hold no hex, so that a run with hex arguments from a
    // terminal does not wait for input.
    if Options::parse(&args).is_ok_and(|options| options.hex.is_none() && !options.help)
        && let Err(error) = std::io::stdin().read_to_string(&mut stdin)
    {
        eprintln!("error: cannot read stdin: {error}");
        std::process::exit(EXIT_USAGE);
    }
    let (stdout, stderr, status) = run(&args, &stdin);
    print!("{stdout}");
    eprint!("{stderr}");
    std::process::exit(status);
}

/// The parsed command line.
#[derive(Debug, Default)]
struct Options {
    /// The version given by `--level`.
    level: Option<ProtocolVersion>,
    /// The hex arguments joined with spaces; `None` when there are none (read stdin).
    hex: Option<String>,
    /// `--help` or `-h`.
    help: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self::default();
        let mut hex: Vec<&str> = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let value = if arg == "--level" {
                Some(
                    args.next()
                        .ok_or("--level needs a value: 3, 4 or 5")?
                        .as_str(),
                )
            } else {
                arg.strip_prefix("--level=")
            };
            if let Some(value) = value {
                if options.level.is_some() {
                    return Err("--level is given more than once".to_owned());
                }
                options.level = Some(parse_level(value)?);
            } else if arg == "--help" || arg == "-h" {
                options.help = true;
            } else if arg.starts_with('-') {
                return Err(format!("unknown option {arg:?}"));
            } else {
                hex.push(arg);
            }
        }
        // An argument of whitespace alone holds no hex: stdin is read then too.
        if hex.iter().any(|arg| !arg.trim().is_empty()) {
            options.hex = Some(hex.join(" "));
        }
        Ok(options)
    }
}

fn parse_level(value: &str) -> Result<ProtocolVersion, String> {
    value
        .parse::<u8>()
        .ok()
        .and_then(ProtocolVersion::from_level)
        .ok_or_else(|| format!("--level must be 3, 4 or 5, not {value:?}"))
}

/// Bytes from hex text, ignoring whitespace anywhere.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let mut digits = Vec::with_capacity(text.len());
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        let digit = c
            .to_digit(16)
            .ok_or_else(|| format!("invalid hex: {c:?} is not a hex digit"))?;
        // A hex digit is below 16.
        digits.push(digit as u8);
    }
    if digits.len() % 2 != 0 {
        return Err(format!(
            "invalid hex: odd number of hex digits ({})",
            digits.len()
        ));
    }
    Ok(digits
        .chunks_exact(2)
        .map(|pair| (pair[0] << 4) | pair[1])
        .collect())
}

fn usage_error(message: &str) -> (String, String, i32) {
    (
        String::new(),
        format!("error: {message}\n{USAGE}\n"),
        EXIT_USAGE,
    )
}

/// Decodes `input` packet by packet, appending a line per packet to `stdout`, and returns the
/// exit status.
fn inspect(
    input: &[u8],
    level: Option<ProtocolVersion>,
    stdout: &mut String,
    stderr: &mut String,
) -> i32 {
    let limits = Limits::new(MAX_PACKET_SIZE);
    let mut version = level;
    let mut rest = input;
    while !rest.is_empty() {
        let decoded = match version {
            Some(version) => Packet::decode(version, rest, &limits),
            None => Connect::decode(rest, &limits).map(|decoded| decoded.map(Packet::from)),
        };
        match decoded {
            Ok(Decoded::Complete { packet, consumed }) => {
                let line = match &packet {
                    Packet::Connect(connect) => {
                        let version = *version.get_or_insert(connect.protocol_version);
                        describe(&packet, version)
                    }
                    // Only a CONNECT decodes while the version is unknown.
                    _ => describe(&packet, version.unwrap_or(ProtocolVersion::LATEST)),
                };
                stdout.push_str(&line);
                stdout.push('\n');
                rest = rest.get(consumed..).unwrap_or_default();
            }
            Ok(Decoded::Incomplete { needed }) => {
                stdout.push_str(&format!("incomplete: need {needed} more bytes\n"));
                return EXIT_DECODE;
            }
            Err(error) => {
                stdout.push_str(&error_line(&error));
                stdout.push('\n');
                if version.is_none() && rest.first().is_some_and(|first| first >> 4 != 1) {
                    stderr.push_str(
                        "note: without --level the first packet must be a CONNECT; \
                         give --level 3, 4 or 5 to decode other packets\n",
                    );
                }
                return EXIT_DECODE;
            }
        }
    }
    EXIT_OK
}

/// The `err` line for a decode error.
fn error_line(error: &DecodeError) -> String {
    format!("err 0x{:02x} {error}", error.reason_code().as_u8())
}

/// The `ok` line for a packet decoded in `version`.
fn describe(packet: &Packet<&[u8]>, version: ProtocolVersion) -> String {
    let mut line = Line::new(packet.packet_type().name());
    let v5 = version.is_v5();
    match packet {
        Packet::Connect(connect) => describe_connect(&mut line, connect),
        Packet::ConnAck(connack) => describe_connack(&mut line, connack, version),
        Packet::Publish(publish) => describe_publish(&mut line, publish, v5),
        Packet::PubAck(ack) => {
            let reason = code(ack.reason_code.as_u8(), ack.reason_code);
            describe_ack(&mut line, ack.packet_id, v5, reason, &ack.properties);
        }
        Packet::PubRec(ack) => {
            let reason = code(ack.reason_code.as_u8(), ack.reason_code);
            describe_ack(&mut line, ack.packet_id, v5, reason, &ack.properties);
        }
        Packet::PubRel(ack) => {
            let reason = code(ack.reason_code.as_u8(), ack.reason_code);
            describe_ack(&mut line, ack.packet_id, v5, reason, &ack.properties);
        }
        Packet::PubComp(ack) => {
            let reason = code(ack.reason_code.as_u8(), ack.reason_code);
            describe_ack(&mut line, ack.packet_id, v5, reason, &ack.properties);
        }
        Packet::Subscribe(subscribe) => describe_subscribe(&mut line, subscribe, v5),
        Packet::SubAck(suback) => describe_suback(&mut line, suback, v5),
        Packet::Unsubscribe(unsubscribe) => describe_unsubscribe(&mut line, unsubscribe, v5),
        Packet::UnsubAck(unsuback) => describe_unsuback(&mut line, unsuback, v5),
        Packet::PingReq(_) | Packet::PingResp(_) => {}
        Packet::Disconnect(disconnect) => describe_disconnect(&mut line, disconnect, v5),
        Packet::Auth(auth) => describe_auth(&mut line, auth),
    }
    line.0
}

fn describe_connect(line: &mut Line, connect: &Connect<&[u8]>) {
    let version = connect.protocol_version;
    let v5 = version.is_v5();
    line.field("protocol", quote(version.protocol_name()));
    line.field("level", version.level());
    let clean = if v5 { "clean_start" } else { "clean_session" };
    line.field(clean, flag(connect.clean_start));
    line.field("keep_alive", connect.keep_alive);
    line.field("client_id", quote(&connect.client_id));
    line.field(
        "will",
        connect
            .will
            .as_ref()
            .map_or_else(|| "none".to_owned(), |will| describe_will(will, v5)),
    );
    line.field(
        "user",
        connect
            .username
            .as_ref()
            .map_or_else(|| "none".to_owned(), |user| quote(user)),
    );
    // Only the length: a password must not end up in a terminal or a log.
    line.field(
        "password",
        connect.password.as_ref().map_or_else(
            || "none".to_owned(),
            |password| format!("{}B", password.len()),
        ),
    );
    if v5 {
        line.field("props", connect_properties(&connect.properties));
    }
}

fn describe_will(will: &Will<&[u8]>, v5: bool) -> String {
    let mut fields = Line(String::new());
    fields.field("qos", will.qos.bits());
    fields.field("retain", flag(will.retain));
    fields.field("topic", quote(&will.topic));
    fields.field("payload", binary(will.payload.as_bytes()));
    if v5 {
        fields.field("props", will_properties(&will.properties));
    }
    format!("{{{}}}", fields.0.trim_start())
}

fn describe_connack(line: &mut Line, connack: &ConnAck<&[u8]>, version: ProtocolVersion) {
    // MQTT 3.1 has no acknowledge flags.
    if version != ProtocolVersion::V3_1 {
        line.field("session_present", flag(connack.session_present));
    }
    let reason = connack.reason_code;
    if version.is_v5() {
        line.field("reason", code(reason.as_u8(), reason));
        line.field("props", connack_properties(&connack.properties));
    } else {
        // A 3.1 or 3.1.1 CONNACK decodes only the six return codes, so this always maps back.
        let shown = match ConnectReturnCode::from_reason_code(reason) {
            Some(return_code) => code(return_code.as_u8(), return_code),
            None => code(reason.as_u8(), reason),
        };
        line.field("return_code", shown);
    }
}

fn describe_publish(line: &mut Line, publish: &Publish<&[u8]>, v5: bool) {
    line.field("qos", publish.qos().bits());
    if let Some(packet_id) = publish.packet_id() {
        line.field("id", packet_id);
    }
    line.field("dup", flag(publish.is_dup()));
    line.field("retain", flag(publish.retain));
    // A 5.0 PUBLISH that names its topic by Topic Alias alone has an empty Topic Name.
    line.field("topic", quote(publish.topic.as_deref().unwrap_or_default()));
    line.field("payload", binary(publish.payload));
    if v5 {
        line.field("props", publish_properties(&publish.properties));
    }
}

/// PUBACK, PUBREC, PUBREL and PUBCOMP; `reason` is the 5.0 reason code, already shown.
fn describe_ack(
    line: &mut Line,
    packet_id: PacketId,
    v5: bool,
    reason: String,
    properties: &AckProperties<&[u8]>,
) {
    line.field("id", packet_id);
    if v5 {
        line.field("reason", reason);
        line.field("props", ack_properties(properties));
    }
}

fn describe_subscribe(line: &mut Line, subscribe: &Subscribe<&[u8]>, v5: bool) {
    line.field("id", subscribe.packet_id);
    let entries = subscribe.subscriptions.iter().map(|subscription| {
        let options = subscription.options;
        let mut entry = format!("{} qos={}", quote(&subscription.filter), options.qos.bits());
        if v5 {
            entry.push_str(&format!(
                " no_local={} retain_as_published={} retain_handling={}",
                flag(options.no_local),
                flag(options.retain_as_published),
                options.retain_handling as u8,
            ));
        }
        entry
    });
    line.field("filters", list(entries));
    if v5 {
        line.field("props", subscribe_properties(&subscribe.properties));
    }
}

fn describe_suback(line: &mut Line, suback: &SubAck<&[u8]>, v5: bool) {
    line.field("id", suback.packet_id);
    let codes = suback.reason_codes.iter().map(|reason| match reason {
        // MQTT 3.1.1 names its one failure code "Failure".
        SubAckReasonCode::UnspecifiedError if !v5 => named_code(reason.as_u8(), "Failure"),
        _ => code(reason.as_u8(), reason),
    });
    line.field(if v5 { "reasons" } else { "return_codes" }, list(codes));
    if v5 {
        line.field("props", ack_properties(&suback.properties));
    }
}

fn describe_unsubscribe(line: &mut Line, unsubscribe: &Unsubscribe<&[u8]>, v5: bool) {
    line.field("id", unsubscribe.packet_id);
    line.field(
        "filters",
        list(unsubscribe.filters.iter().map(|f| quote(&f))),
    );
    if v5 {
        line.field("props", unsubscribe_properties(&unsubscribe.properties));
    }
}

fn describe_unsuback(line: &mut Line, unsuback: &UnsubAck<&[u8]>, v5: bool) {
    line.field("id", unsuback.packet_id);
    if v5 {
        let codes = unsuback
            .reason_codes
            .iter()
            .map(|reason| code(reason.as_u8(), reason));
        line.field("reasons", list(codes));
        line.field("props", ack_properties(&unsuback.properties));
    }
}

fn describe_disconnect(line: &mut Line, disconnect: &Disconnect<&[u8]>, v5: bool) {
    if v5 {
        let reason = disconnect.reason_code;
        line.field("reason", code(reason.as_u8(), reason));
        line.field("props", disconnect_properties(&disconnect.properties));
    }
}

fn describe_auth(line: &mut Line, auth: &Auth<&[u8]>) {
    let reason = auth.reason_code;
    line.field("reason", code(reason.as_u8(), reason));
    line.field("props", auth_properties(&auth.properties));
}

/// One output line: the packet type, then ` key=value` fields.
struct Line(String);

impl Line {
    fn new(packet_type: &str) -> Self {
        Self(format!("ok {packet_type}"))
    }

    fn field(&mut self, key: &str, value: impl core::fmt::Display) {
        self.0.push_str(&format!(" {key}={value}"));
    }
}

/// A flag as `0` or `1`.
fn flag(value: bool) -> u8 {
    u8::from(value)
}

/// A reason or return code named by its enum variant: `0x87(NotAuthorized)`.
fn code(value: u8, name: impl core::fmt::Debug) -> String {
    named_code(value, &format!("{name:?}"))
}

/// A reason or return code with the name given.
fn named_code(value: u8, name: &str) -> String {
    format!("0x{value:02x}({name})")
}

/// A list: `[a, b]`.
fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

/// A string in double quotes, with quotes, backslashes and control characters escaped.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len().saturating_add(2));
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Binary data: its length and a preview, `5B "hello"`, cut after [`PREVIEW_LEN`] bytes.
fn binary(data: &[u8]) -> String {
    let shown = data.get(..PREVIEW_LEN).unwrap_or(data);
    let mut out = format!("{}B \"", data.len());
    for &byte in shown {
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7E => out.push(char::from(byte)),
            _ => out.push_str(&format!("\\x{byte:02x}")),
        }
    }
    out.push('"');
    if shown.len() < data.len() {
        out.push_str("...");
    }
    out
}

/// How a property value is shown.
trait Show {
    fn show(&self) -> String;
}

macro_rules! show_number {
    ($($ty:ty),+) => {
        $(
            impl Show for $ty {
                fn show(&self) -> String {
                    self.to_string()
                }
            }
        )+
    };
}

show_number!(u16, u32, NonZeroU16, NonZeroU32);

impl Show for bool {
    fn show(&self) -> String {
        flag(*self).to_string()
    }
}

impl Show for PayloadFormat {
    fn show(&self) -> String {
        (*self as u8).to_string()
    }
}

impl Show for MaximumQos {
    fn show(&self) -> String {
        (*self as u8).to_string()
    }
}

impl Show for SubscriptionId {
    fn show(&self) -> String {
        self.get().to_string()
    }
}

impl Show for MqttString<&[u8]> {
    fn show(&self) -> String {
        quote(self)
    }
}

impl Show for TopicName<&[u8]> {
    fn show(&self) -> String {
        quote(self)
    }
}

impl Show for BinaryData<&[u8]> {
    fn show(&self) -> String {
        binary(self.as_bytes())
    }
}

impl Show for UserProperty<&[u8]> {
    fn show(&self) -> String {
        format!("({},{})", quote(&self.name), quote(&self.value))
    }
}

/// Shows the properties of a set that are present: `{Name=value, ...}`.
///
/// The set is destructured without `..`, so a property added to the library and not listed
/// here fails to compile instead of going unseen.
macro_rules! properties {
    (
        $properties:expr, $set:ident {
            $($field:ident = $id:ident),* $(,)?
        } repeated {
            $($list:ident = $list_id:ident),+ $(,)?
        }
    ) => {{
        let $set { $($field,)* $($list,)+ } = $properties;
        let mut entries: Vec<String> = Vec::new();
        $(
            if let Some(value) = $field {
                entries.push(format!("{}={}", PropertyId::$id.name(), value.show()));
            }
        )*
        $(
            for value in $list.iter() {
                entries.push(format!("{}={}", PropertyId::$list_id.name(), value.show()));
            }
        )+
        format!("{{{}}}", entries.join(", "))
    }};
}

fn connect_properties(properties: &ConnectProperties<&[u8]>) -> String {
    properties!(properties, ConnectProperties {
        session_expiry_interval = SessionExpiryInterval,
        receive_maximum = ReceiveMaximum,
        maximum_packet_size = MaximumPacketSize,
        topic_alias_maximum = TopicAliasMaximum,
        request_response_information = RequestResponseInformation,
        request_problem_information = RequestProblemInformation,
        authentication_method = AuthenticationMethod,
        authentication_data = AuthenticationData,
    } repeated {
        user_properties = UserProperty,
    })
}

fn will_properties(properties: &WillProperties<&[u8]>) -> String {
    let WillProperties {
        will_delay_interval,
        message_expiry_interval,
        message,
    } = properties;
    let mut entries = Vec::new();
    if let Some(delay) = will_delay_interval {
        entries.push(format!("{}={delay}", PropertyId::WillDelayInterval.name()));
    }
    if let Some(expiry) = message_expiry_interval {
        entries.push(format!(
            "{}={expiry}",
            PropertyId::MessageExpiryInterval.name()
        ));
    }
    entries.extend(message_properties(message));
    format!("{{{}}}", entries.join(", "))
}

/// The forwarded properties of a PUBLISH or a Will, in the order they were sent.
fn message_properties(properties: &MessageProperties<&[u8]>) -> Vec<String> {
    let mut entries = Vec::new();
    if let Some(format) = properties.payload_format() {
        let name = PropertyId::PayloadFormatIndicator.name();
        entries.push(format!("{name}={}", format as u8));
    }
    if let Some(content_type) = properties.content_type() {
        entries.push(format!(
            "{}={}",
            PropertyId::ContentType.name(),
            quote(content_type)
        ));
    }
    if let Some(topic) = properties.response_topic() {
        entries.push(format!(
            "{}={}",
            PropertyId::ResponseTopic.name(),
            quote(topic)
        ));
    }
    if let Some(data) = properties.correlation_data() {
        entries.push(format!(
            "{}={}",
            PropertyId::CorrelationData.name(),
            binary(data)
        ));
    }
    for (name, value) in properties.user_properties() {
        let id = PropertyId::UserProperty.name();
        entries.push(format!("{id}=({},{})", quote(name), quote(value)));
    }
    entries
}

fn connack_properties(properties: &ConnAckProperties<&[u8]>) -> String {
    properties!(properties, ConnAckProperties {
        session_expiry_interval = SessionExpiryInterval,
        receive_maximum = ReceiveMaximum,
        maximum_qos = MaximumQos,
        retain_available = RetainAvailable,
        maximum_packet_size = MaximumPacketSize,
        assigned_client_identifier = AssignedClientIdentifier,
        topic_alias_maximum = TopicAliasMaximum,
        reason_string = ReasonString,
        wildcard_subscription_available = WildcardSubscriptionAvailable,
        subscription_identifiers_available = SubscriptionIdentifierAvailable,
        shared_subscription_available = SharedSubscriptionAvailable,
        server_keep_alive = ServerKeepAlive,
        response_information = ResponseInformation,
        server_reference = ServerReference,
        authentication_method = AuthenticationMethod,
        authentication_data = AuthenticationData,
    } repeated {
        user_properties = UserProperty,
    })
}

fn publish_properties(properties: &PublishProperties<&[u8]>) -> String {
    let PublishProperties {
        message_expiry_interval,
        topic_alias,
        subscription_identifiers,
        message,
    } = properties;
    let mut entries = Vec::new();
    if let Some(expiry) = message_expiry_interval {
        entries.push(format!(
            "{}={expiry}",
            PropertyId::MessageExpiryInterval.name()
        ));
    }
    if let Some(alias) = topic_alias {
        entries.push(format!("{}={alias}", PropertyId::TopicAlias.name()));
    }
    entries.extend(message_properties(message));
    for id in subscription_identifiers {
        let name = PropertyId::SubscriptionIdentifier.name();
        entries.push(format!("{name}={}", id.get()));
    }
    format!("{{{}}}", entries.join(", "))
}

fn ack_properties(properties: &AckProperties<&[u8]>) -> String {
    properties!(properties, AckProperties {
        reason_string = ReasonString,
    } repeated {
        user_properties = UserProperty,
    })
}

fn subscribe_properties(properties: &SubscribeProperties<&[u8]>) -> String {
    properties!(properties, SubscribeProperties {
        subscription_identifier = SubscriptionIdentifier,
    } repeated {
        user_properties = UserProperty,
    })
}

fn unsubscribe_properties(properties: &UnsubscribeProperties<&[u8]>) -> String {
    properties!(properties, UnsubscribeProperties {} repeated {
        user_properties = UserProperty,
    })
}

fn disconnect_properties(properties: &DisconnectProperties<&[u8]>) -> String {
    properties!(properties, DisconnectProperties {
        session_expiry_interval = SessionExpiryInterval,
        reason_string = ReasonString,
        server_reference = ServerReference,
    } repeated {
        user_properties = UserProperty,
    })
}

fn auth_properties(properties: &AuthProperties<&[u8]>) -> String {
    properties!(properties, AuthProperties {
        authentication_method = AuthenticationMethod,
        authentication_data = AuthenticationData,
        reason_string = ReasonString,
    } repeated {
        user_properties = UserProperty,
    })
}
