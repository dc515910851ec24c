//! The `inspect` example: exact output lines and exit status for hand-written captures.
//!
//! Most tests call the example's `run` in-process; one runs the compiled example through
//! `cargo run`. Every byte vector below is checked against the spec's packet layouts in the
//! comment above it.

#[path = "../examples/inspect.rs"]
#[allow(dead_code, unreachable_pub)]
mod inspect;

use std::io::Write as _;
use std::process::{Command, Stdio};

/// Runs the inspector in-process.
fn run(args: &[&str], stdin: &str) -> (String, String, i32) {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    inspect::run(&args, stdin)
}

/// The expected stdout: each line followed by a line break.
fn lines(lines: &[&str]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// Asserts stdout and exit status, and that nothing went to stderr.
#[track_caller]
fn assert_output(output: (String, String, i32), expected: &[&str], status: i32) {
    let (stdout, stderr, code) = output;
    assert_eq!(stdout, lines(expected));
    assert_eq!(stderr, "");
    assert_eq!(code, status);
}

/// Asserts a usage error: nothing on stdout, `error: <message>` and the usage on stderr, 2.
#[track_caller]
fn assert_usage_error(output: (String, String, i32), message: &str) {
    let (stdout, stderr, code) = output;
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with(&format!("error: {message}\nusage: inspect ")),
        "stderr: {stderr:?}"
    );
    assert_eq!(code, 2);
}

/// A 5.0 PUBLISH, QoS 1 (first byte 0x32), Packet Identifier 10, with four properties:
/// Payload Format Indicator 1 (01 01), Message Expiry Interval 60 (02 0000003c), Topic Alias 5
/// (23 0005), User Property k=v (26 0001 6b 0001 76): 17 bytes of properties. Remaining
/// Length 5 (topic "a/b") + 2 (id) + 1 + 17 (properties) + 2 (payload "hi") = 27 = 0x1b.
#[test]
#[cfg(feature = "v5")]
fn shows_v5_publish_with_its_properties() {
    let hex = "32 1b 0003 612f62 000a 11 0101 020000003c 230005 2600016b000176 6869";
    assert_output(
        run(&["--level", "5", hex], ""),
        &[
            "ok PUBLISH qos=1 id=10 dup=0 retain=0 topic=\"a/b\" payload=2B \"hi\" \
             props={Message Expiry Interval=60, Topic Alias=5, Payload Format Indicator=1, \
             User Property=(\"k\",\"v\")}",
        ],
        0,
    );
}

/// The example from the issue: a 5.0 QoS 0 PUBLISH with no properties (Property Length 0).
#[test]
#[cfg(feature = "v5")]
fn shows_v5_publish_without_properties() {
    assert_output(
        run(&["--level", "5", "30 0a 00 03 61 2f 62 00 68 69 21 21"], ""),
        &["ok PUBLISH qos=0 dup=0 retain=0 topic=\"a/b\" payload=4B \"hi!!\" props={}"],
        0,
    );
}

/// Without `--level`, a 3.1.1 CONNECT (Protocol Name "MQTT", level 4) sets the version.
///
/// CONNECT flags 0xee: User Name, Password, Will Retain, Will QoS 1, Will Flag, Clean
/// Session. Keep Alive 60. Payload in spec order: Client Identifier "c1", Will Topic "w", Will
/// Message "bye", User Name "u", Password "secret". Remaining Length 10 + 23 = 33 = 0x21.
/// Then CONNACK with Session Present and return code 0, SUBSCRIBE id 1 to "a/+" at QoS 1,
/// SUBACK granting QoS 1 and refusing the second entry (0x80, "Failure" in 3.1.1), a QoS 0
/// PUBLISH (no Packet Identifier, no properties), PINGREQ, DISCONNECT.
#[test]
fn connect_sets_the_version_of_a_v311_session() {
    let hex = "
        10 21 0004 4d515454 04 ee 003c 0002 6331 0001 77 0003 627965 0001 75 0006 736563726574
        20 02 01 00
        82 08 0001 0003 612f2b 01
        90 04 0001 01 80
        30 05 0001 61 6869
        c0 00
        e0 00
    ";
    let output = run(&[hex], "");
    assert!(!output.0.contains("secret"), "the password is printed");
    assert_output(
        output,
        &[
            "ok CONNECT protocol=\"MQTT\" level=4 clean_session=1 keep_alive=60 client_id=\"c1\" \
             will={qos=1 retain=1 topic=\"w\" payload=3B \"bye\"} user=\"u\" password=6B",
            "ok CONNACK session_present=1 return_code=0x00(Accepted)",
            "ok SUBSCRIBE id=1 filters=[\"a/+\" qos=1]",
            "ok SUBACK id=1 return_codes=[0x01(GrantedQoS1), 0x80(Failure)]",
            "ok PUBLISH qos=0 dup=0 retain=0 topic=\"a\" payload=2B \"hi\"",
            "ok PINGREQ",
            "ok DISCONNECT",
        ],
        0,
    );
}

/// A 3.1 CONNECT: Protocol Name "MQIsdp", level 3, Clean Session, Keep Alive 60, Client
/// Identifier "abc"; Remaining Length 8 + 1 + 1 + 2 + 5 = 17. The 3.1 CONNACK has no Session
/// Present flag, so none is shown.
#[test]
fn connect_sets_the_version_of_an_mqtt31_session() {
    let hex = "10 11 0006 4d5149736470 03 02 003c 0003 616263
               20 02 00 00
               82 08 0001 0003 612f2b 01
               90 03 0001 01";
    assert_output(
        run(&[hex], ""),
        &[
            "ok CONNECT protocol=\"MQIsdp\" level=3 clean_session=1 keep_alive=60 \
             client_id=\"abc\" will=none user=none password=none",
            "ok CONNACK return_code=0x00(Accepted)",
            "ok SUBSCRIBE id=1 filters=[\"a/+\" qos=1]",
            "ok SUBACK id=1 return_codes=[0x01(GrantedQoS1)]",
        ],
        0,
    );
}

/// MQTT 3.1 has no SUBACK failure code: 0x80 there is an error, and output stops at it.
#[test]
fn mqtt31_suback_failure_code_is_an_error() {
    let hex = "10 11 0006 4d5149736470 03 02 003c 0003 616263  90 03 0001 80  c0 00";
    let (stdout, _, code) = run(&[hex], "");
    assert_eq!(
        stdout,
        lines(&[
            "ok CONNECT protocol=\"MQIsdp\" level=3 clean_session=1 keep_alive=60 \
             client_id=\"abc\" will=none user=none password=none",
            "err 0x81 SUBACK: reason code 0x80 not allowed",
        ])
    );
    assert_eq!(code, 1);
}

/// A 5.0 CONNECT without `--level`, then a DISCONNECT decoded as 5.0 because of it.
///
/// Flags 0xc6: User Name, Password, Will Flag (Will QoS 0, no retain), Clean Start. Keep Alive
/// 10. Properties (8 bytes): Session Expiry Interval 120 (11 00000078), Receive Maximum 20
/// (21 0014). Payload: empty Client Identifier (allowed in 5.0), Will Properties (12 bytes:
/// Will Delay Interval 5, User Property a=b), Will Topic "lwt", Will Payload 00 ff, User Name
/// "me", Password "pw". Remaining Length 19 + 32 = 51 = 0x33. The DISCONNECT has reason 0x04
/// (Disconnect with Will Message) and a Reason String "bye" (6 bytes of properties).
#[test]
#[cfg(feature = "v5")]
fn shows_v5_connect_with_will_and_properties() {
    let hex = "10 33 0004 4d515454 05 c6 000a 08 1100000078 210014 0000
               0c 1800000005 26000161000162 0003 6c7774 0002 00ff 0002 6d65 0002 7077
               e0 08 04 06 1f 0003 627965";
    assert_output(
        run(&[hex], ""),
        &[
            "ok CONNECT protocol=\"MQTT\" level=5 clean_start=1 keep_alive=10 client_id=\"\" \
             will={qos=0 retain=0 topic=\"lwt\" payload=2B \"\\x00\\xff\" \
             props={Will Delay Interval=5, User Property=(\"a\",\"b\")}} user=\"me\" \
             password=2B props={Session Expiry Interval=120, Receive Maximum=20}",
            "ok DISCONNECT reason=0x04(DisconnectWithWillMessage) props={Reason String=\"bye\"}",
        ],
        0,
    );
}

/// Several 5.0 packets in one input, split across arguments at arbitrary points.
///
/// CONNACK with Receive Maximum 10 (21 000a), Assigned Client Identifier "id" (12 0002 6964),
/// Maximum QoS 1 (24 01): 10 bytes of properties. PUBREC id 11, reason 0x10 (No matching
/// subscribers) and Reason String "no". PUBREL id 11 with the short form (Remaining Length 2).
/// PUBCOMP id 11 with reason 0x92 and no Property Length (Remaining Length 3). SUBSCRIBE id 2
/// with Subscription Identifier 7 (0b 07) to "s/#" with options 0x2d: QoS 1, No Local,
/// Retain As Published, Retain Handling 2. SUBACK id 2 with 0x01 and 0x80. UNSUBSCRIBE id 3
/// of "s/#". UNSUBACK id 3 with 0x11 (No subscription existed). AUTH 0x18 (Continue
/// authentication) with Authentication Method "SCRM" and Authentication Data 01 02.
#[test]
#[cfg(feature = "v5")]
fn shows_every_packet_of_a_v5_input() {
    let args = [
        "--level",
        "5",
        "20 0d 00 00 0a 210 00a 12 0002 6964 2401",
        "50 09 000b 10 05 1f 0002 6e6f   62 02 000b   70 03 000b 92",
        "82 0b 0002 02 0b07 0003 732f23 2d   90 05 0002 00 01 80",
        "a2 08 0003 00 0003 732f23   b0 04 0003 00 11",
        "f0 0e 18 0c 15 0004 5343524d 16 0002 0102",
    ];
    assert_output(
        run(&args, ""),
        &[
            "ok CONNACK session_present=0 reason=0x00(Success) \
             props={Receive Maximum=10, Maximum QoS=1, Assigned Client Identifier=\"id\"}",
            "ok PUBREC id=11 reason=0x10(NoMatchingSubscribers) props={Reason String=\"no\"}",
            "ok PUBREL id=11 reason=0x00(Success) props={}",
            "ok PUBCOMP id=11 reason=0x92(PacketIdentifierNotFound) props={}",
            "ok SUBSCRIBE id=2 filters=[\"s/#\" qos=1 no_local=1 retain_as_published=1 \
             retain_handling=2] props={Subscription Identifier=7}",
            "ok SUBACK id=2 reasons=[0x01(GrantedQoS1), 0x80(UnspecifiedError)] props={}",
            "ok UNSUBSCRIBE id=3 filters=[\"s/#\"] props={}",
            "ok UNSUBACK id=3 reasons=[0x11(NoSubscriptionExisted)] props={}",
            "ok AUTH reason=0x18(ContinueAuthentication) \
             props={Authentication Method=\"SCRM\", Authentication Data=2B \"\\x01\\x02\"}",
        ],
        0,
    );
}

/// Strings escape quotes and control characters; payload previews escape every byte outside
/// printable ASCII. Topic `a"b` followed by U+0001 (4 bytes), payload 0a 22 5c 00 ff.
#[test]
fn escapes_strings_and_payloads() {
    assert_output(
        run(&["--level", "4", "30 0b 0004 61226201 0a225c00ff"], ""),
        &["ok PUBLISH qos=0 dup=0 retain=0 topic=\"a\\\"b\\u{1}\" \
           payload=5B \"\\n\\\"\\\\\\x00\\xff\""],
        0,
    );
}

/// A payload longer than 32 bytes shows its first 32 and `...`; QoS 2 with DUP and RETAIN
/// (first byte 0x3d), Packet Identifier 0xffff.
#[test]
fn cuts_long_payload_previews() {
    let payload = "30313233343536373839".repeat(4);
    // Topic "t" (3 bytes) + id (2) + 40 bytes = 45 = 0x2d.
    let hex = format!("3d 2d 0001 74 ffff {payload}");
    assert_output(
        run(&["--level", "4", &hex], ""),
        &["ok PUBLISH qos=2 id=65535 dup=1 retain=1 topic=\"t\" \
           payload=40B \"01234567890123456789012345678901\"..."],
        0,
    );
}

/// After the first error nothing more is decoded and the exit status is 1. A PUBLISH with
/// both QoS bits set (0x36) is a Malformed Packet (`[MQTT-3.3.1-4]`): reason code 0x81.
#[test]
fn stops_at_the_first_error() {
    assert_output(
        run(&["--level", "4", "c0 00  36 00  c0 00"], ""),
        &["ok PINGREQ", "err 0x81 PUBLISH fixed header: invalid QoS"],
        1,
    );
}

/// A CONNECT naming a protocol level the crate does not speak (6) gives reason code 0x84
/// (Unsupported Protocol Version).
#[test]
fn reports_unsupported_protocol_level() {
    assert_output(
        run(&["10 0d 0004 4d515454 06 02 003c 0001 61"], ""),
        &["err 0x84 CONNECT: unsupported protocol level 6"],
        1,
    );
}

/// Input that ends inside a packet: a PUBLISH announcing 5 bytes with 3 present needs 2
/// more; a first byte alone needs at least the Remaining Length byte.
#[test]
fn reports_a_trailing_partial_packet() {
    assert_output(
        run(&["--level", "4", "c0 00 30 05 00 01 61"], ""),
        &["ok PINGREQ", "incomplete: need 2 more bytes"],
        1,
    );
    #[cfg(feature = "v5")]
    assert_output(
        run(&["--level", "5", "d0 00 30"], ""),
        &["ok PINGRESP", "incomplete: need 1 more bytes"],
        1,
    );
}

/// Without `--level` the first packet must be a CONNECT (`[MQTT-3.1.0-1]`); a PUBLISH is an
/// error, and stderr says how to decode it.
#[test]
fn needs_level_when_the_first_packet_is_not_connect() {
    let (stdout, stderr, code) = run(&["30 05 0001 61 6869"], "");
    assert_eq!(
        stdout,
        lines(&["err 0x82 first packet of a connection has type 3, not CONNECT"])
    );
    assert!(stderr.contains("--level"), "stderr: {stderr:?}");
    assert_eq!(code, 1);
}

/// Anything but hex digits and whitespace, or an odd number of digits, is a usage error.
#[test]
fn bad_hex_is_a_usage_error() {
    assert_usage_error(
        run(&["--level", "4", "c0 0g"], ""),
        "invalid hex: 'g' is not a hex digit",
    );
    assert_usage_error(
        run(&["--level", "4", "0xc0"], ""),
        "invalid hex: 'x' is not a hex digit",
    );
    assert_usage_error(
        run(&["--level", "4", "c0 0"], ""),
        "invalid hex: odd number of hex digits (3)",
    );
    assert_usage_error(
        run(&["--level", "4"], "c0 00 d"),
        "invalid hex: odd number of hex digits (5)",
    );
}

/// `--level` takes 3, 4 or 5, once; unknown options are usage errors too.
#[test]
fn bad_level_is_a_usage_error() {
    assert_usage_error(
        run(&["--level", "6", "c000"], ""),
        "--level must be 3, 4 or 5, not \"6\"",
    );
    assert_usage_error(
        run(&["--level=five", "c000"], ""),
        "--level must be 3, 4 or 5, not \"five\"",
    );
    assert_usage_error(
        run(&["c000", "--level"], ""),
        "--level needs a value: 3, 4 or 5",
    );
    assert_usage_error(
        run(&["--level", "4", "--level=5", "c000"], ""),
        "--level is given more than once",
    );
    assert_usage_error(
        run(&["--verbose", "c000"], ""),
        "unknown option \"--verbose\"",
    );
}

/// With no hex argument the hex comes from stdin, whitespace and line breaks included.
#[test]
fn reads_hex_from_stdin() {
    assert_output(
        run(&["--level=4"], "c0 00\n\td0\r\n00\n"),
        &["ok PINGREQ", "ok PINGRESP"],
        0,
    );
    // Arguments win over stdin.
    assert_output(run(&["--level", "4", "c000"], "d0 00"), &["ok PINGREQ"], 0);
}

/// Empty input holds no packet and no partial packet: nothing to print, status 0.
#[test]
fn empty_input_prints_nothing() {
    assert_output(run(&[], " \n"), &[], 0);
}

/// `--help` prints the usage on stdout.
#[test]
fn help_prints_usage() {
    let (stdout, stderr, code) = run(&["--help"], "");
    assert!(stdout.starts_with("usage: inspect [--level 3|4|5] [HEX...]"));
    assert_eq!((stderr.as_str(), code), ("", 0));
}

/// The compiled example, end to end: hex from arguments with a trailing partial packet
/// (status 1), and hex from stdin (status 0).
#[test]
fn compiled_example_prints_and_exits_with_status() {
    let cargo = || {
        let mut command = Command::new(env!("CARGO"));
        command
            .args(["run", "--quiet", "--example", "inspect", "--manifest-path"])
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .arg("--");
        command
    };

    let output = cargo()
        .args([
            "--level",
            "5",
            "30 0a 00 03 61 2f 62 00 68 69 21 21",
            "c0 00 40",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("cargo runs");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        lines(&[
            "ok PUBLISH qos=0 dup=0 retain=0 topic=\"a/b\" payload=4B \"hi!!\" props={}",
            "ok PINGREQ",
            "incomplete: need 1 more bytes",
        ])
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");

    let mut child = cargo()
        .args(["--level", "4"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo runs");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(b"40 02 00 0a\nd0 00\n")
        .expect("write stdin");
    let output = child.wait_with_output().expect("cargo finishes");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        lines(&["ok PUBACK id=10", "ok PINGRESP"])
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}
