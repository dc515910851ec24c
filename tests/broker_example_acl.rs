//! The broker example's ACL (`examples/broker/acl.rs`) reads mosquitto's `acl_file` format
//! and decides each PUBLISH and SUBSCRIBE as its module docs say: anonymous and user sections,
//! patterns with `%c` and `%u`, denials first, a subscribed filter granted only when a read
//! rule covers it, and no substitution of a Client Identifier or User Name that holds `+`,
//! `#` or `/`; deciding never allocates. The last tests run it inside the broker core, on the
//! virtual-time harness.
#![cfg(feature = "v5")]

mod common;

#[path = "../examples/broker/acl.rs"]
mod acl;

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use acl::Acl;
use allocation_counter::measure;
use common::broker::{Conn, Harness, connect_packet, publish, text, topic_filter};
use mqtt_sansio::broker::{Event, Policy};
use mqtt_sansio::{
    BrokerConfig, ConnectReasonCode, Packet, ProtocolVersion, PubAck, PubAckReasonCode, QoS,
    SubAckReasonCode, Subscribe, Subscription,
};

const V5: ProtocolVersion = ProtocolVersion::V5;
const V311: ProtocolVersion = ProtocolVersion::V3_1_1;

/// The ACL of `text`, which must parse.
#[track_caller]
fn parsed(text: &str) -> Acl {
    Acl::parse(text).unwrap_or_else(|error| panic!("{error}\n{text}"))
}

/// The fixture file, with every keyword.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broker/acl")
}

/// Asserts that `client` may publish to each topic of `allowed` and to none of `refused`.
#[track_caller]
fn assert_publish(acl: &Acl, client: &str, allowed: &[&str], refused: &[&str]) {
    for topic in allowed {
        assert!(acl.may_publish(client, topic), "{client} publishes {topic}");
    }
    for topic in refused {
        assert!(
            !acl.may_publish(client, topic),
            "{client} must not publish {topic}"
        );
    }
}

/// Asserts that `client` may subscribe to each filter of `allowed` and to none of `refused`.
#[track_caller]
fn assert_subscribe(acl: &Acl, client: &str, allowed: &[&str], refused: &[&str]) {
    for filter in allowed {
        assert!(
            acl.may_subscribe(client, filter),
            "{client} subscribes {filter}"
        );
    }
    for filter in refused {
        assert!(
            !acl.may_subscribe(client, filter),
            "{client} must not subscribe {filter}"
        );
    }
}

// ---- parsing ----

/// Every keyword and access parses, with comments (indented ones too), blank lines, CRLF,
/// runs of blanks and a filter with spaces; each rule lands in its section with its access.
#[test]
fn every_keyword_and_access_parses_into_its_section() {
    let text = "# anonymous\r\n\
                topic read anon/read\r\n\
                \r\n\
                topic   write   anon/write\n\
                topic readwrite anon/both\n\
                topic anon/default\n\
                \x20  # an indented comment\n\
                topic deny anon/both/no\n\
                topic read with space/x y\n\
                user alice\n\
                topic write alice/#\n\
                pattern read devices/%c/#\n\
                user  bob  \n\
                topic read bob\n";
    let acl = parsed(text);

    assert_publish(
        &acl,
        "anon",
        &["anon/write", "anon/both", "anon/default"],
        &["anon/read", "anon/both/no", "alice/x", "bob"],
    );
    assert_subscribe(
        &acl,
        "anon",
        &["anon/read", "anon/both", "anon/default", "with space/x y"],
        &["anon/write", "anon/both/no", "anon/both/#", "bob"],
    );
    // A pattern applies to everyone, though it stands in alice's section.
    assert_subscribe(&acl, "anon", &["devices/anon/#"], &["devices/other/#"]);

    let mut acl = acl;
    acl.bind("a1", Some("alice"));
    acl.bind("b1", Some("bob"));
    assert_eq!(acl.username("a1"), Some("alice"));
    assert_eq!(acl.username("b1"), Some("bob"), "the name is trimmed");
    assert_publish(&acl, "a1", &["alice/x"], &["anon/write", "bob"]);
    assert_subscribe(&acl, "a1", &["devices/a1/x"], &["alice/x", "anon/read"]);
    assert_subscribe(&acl, "b1", &["bob"], &["anon/read"]);
    assert_publish(&acl, "b1", &[], &["bob", "anon/write"]);
}

/// A bad line refuses the file as `InvalidData`, with a message that starts with its line
/// number: an unknown keyword, a rule without filter, an unknown access, a `user` without
/// name, and invalid filters (a trailing comment included: mosquitto has none).
#[test]
fn bad_lines_are_refused_with_their_line_number() {
    let cases = [
        ("topics a/b", "unknown keyword `topics`"),
        ("allow a/b", "unknown keyword `allow`"),
        ("topic", "`topic` needs a filter"),
        ("pattern   ", "`pattern` needs a filter"),
        ("topic reed a/b", "unknown access `reed`"),
        ("pattern all a/%c", "unknown access `all`"),
        ("user", "`user` needs a user name"),
        ("topic read a/#/b", "`#` is not the last level"),
        ("topic read a+/b", "a wildcard shares a level"),
        ("topic read a/b#", "a wildcard shares a level"),
        ("pattern read a/%c+", "a wildcard shares a level"),
        (
            "topic read a/b # a comment",
            "invalid filter `a/b # a comment`",
        ),
        ("topic read a/\0", "contains U+0000"),
    ];
    for (line, expected) in cases {
        let text = format!("# header\ntopic read ok\n{line}\ntopic read after\n");
        let error = Acl::parse(&text).expect_err(line);
        assert_eq!(error.kind(), ErrorKind::InvalidData, "{line}");
        let message = error.to_string();
        assert!(message.starts_with("line 3: "), "{line}: {message}");
        assert!(message.contains(expected), "{line}: {message}");
    }
}

/// `load` reads a file (the fixture), names the file and the line of a bad entry, and passes
/// on the error of a file that cannot be read.
#[test]
fn load_reads_a_file_and_names_the_line_of_a_bad_entry() {
    let mut acl = Acl::load(&fixture()).expect("the fixture loads");
    acl.bind("sensor-1", Some("sensor"));
    assert!(acl.may_publish("sensor-1", "sensors/sensor-1/temperature"));
    assert!(!acl.may_publish("sensor-1", "sensors/sensor-2/temperature"));
    assert!(acl.may_subscribe("anyone", "$SYS/broker/uptime"));

    let dir = std::env::temp_dir().join(format!("mqtt-sansio-acl-{}", std::process::id()));
    let _guard = RemoveOnDrop(dir.clone());
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("acl");
    std::fs::write(&path, "topic read a\n\ntopic wrote b\n").unwrap();
    let error = Acl::load(&path).expect_err("a bad line");
    assert_eq!(error.kind(), ErrorKind::InvalidData);
    assert!(error.to_string().contains("acl: line 3: "), "{error}");
    let missing = Acl::load(&dir.join("absent")).expect_err("no file");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

/// Removes a directory on drop, also when the test fails.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- sections and bindings ----

/// Rules before the first `user` line are for clients without a User Name and for clients
/// never bound; a user's section is theirs alone; a user without a section gets the patterns
/// only, not the anonymous rules; and sections of one name add up.
#[test]
fn sections_apply_to_anonymous_clients_and_to_their_users() {
    let mut acl = parsed(
        "topic public/#\n\
         pattern readwrite own/%c\n\
         user alice\n\
         topic alice/#\n\
         user bob\n\
         topic bob/#\n\
         user alice\n\
         topic shared/#\n",
    );
    acl.bind("anon", None);
    acl.bind("a", Some("alice"));
    acl.bind("c", Some("carol"));

    for client in ["never-bound", "anon"] {
        assert_publish(
            &acl,
            client,
            &["public/x", &format!("own/{client}")],
            &["alice/x", "bob/x", "shared/x"],
        );
    }
    assert_publish(
        &acl,
        "a",
        &["alice/x", "shared/x", "own/a"],
        &["public/x", "bob/x"],
    );
    assert_publish(&acl, "c", &["own/c"], &["public/x", "alice/x", "bob/x"]);
}

/// Bindings are counted: a client that takes over a Client Identifier keeps its User Name
/// when the old connection unbinds, and the last unbind makes it anonymous again; unbinding
/// an unknown client does nothing.
#[test]
fn bindings_survive_the_unbind_of_a_taken_over_connection() {
    let mut acl = parsed("topic public\nuser alice\ntopic alice\nuser bob\ntopic bob\n");
    acl.unbind("x");
    acl.bind("x", Some("alice"));
    assert!(acl.may_publish("x", "alice"));
    // A second connection with the same Client Identifier, as bob.
    acl.bind("x", Some("bob"));
    acl.unbind("x"); // alice's connection closes
    assert_eq!(acl.username("x"), Some("bob"));
    assert!(acl.may_publish("x", "bob"));
    assert!(!acl.may_publish("x", "alice"));
    acl.unbind("x");
    assert_eq!(acl.username("x"), None);
    assert!(acl.may_publish("x", "public"));
    assert!(!acl.may_publish("x", "bob"));
}

/// `allow_all` allows every client everything, bound or not; an empty file allows nothing.
#[test]
fn allow_all_allows_everything_and_an_empty_file_nothing() {
    let mut all = Acl::allow_all();
    all.bind("a", Some("alice"));
    assert_eq!(all.username("a"), None, "allow_all keeps no bindings");
    for client in ["a", "b", "+", "x/y"] {
        assert_publish(&all, client, &["a", "a/b", "$SYS/x", "/"], &[]);
        assert_subscribe(&all, client, &["#", "$SYS/#", "+/+", "$share/g/#"], &[]);
    }
    all.unbind("a");

    let none = parsed("# nothing\n\n");
    assert_publish(&none, "a", &[], &["a", "a/b", "$SYS/x"]);
    assert_subscribe(&none, "a", &[], &["a", "#", "$SYS/#"]);
}

// ---- decisions ----

/// `read` grants subscribing only, `write` publishing only, `readwrite` both.
#[test]
fn read_grants_subscribing_and_write_publishing() {
    let acl = parsed("topic read r\ntopic write w\ntopic readwrite rw\ntopic d\n");
    assert_publish(&acl, "c", &["w", "rw", "d"], &["r"]);
    assert_subscribe(&acl, "c", &["r", "rw", "d"], &["w"]);
}

/// A PUBLISH needs a write rule matching its topic: wildcards of the rule match as in
/// subscriptions, `#` also matching the parent level; a first-level wildcard never matches a
/// `$` topic.
#[test]
fn publish_needs_a_write_rule_matching_the_topic() {
    let acl =
        parsed("topic write a/+/c\ntopic write b/#\ntopic write +/x\ntopic write $SYS/own/#\n");
    assert_publish(
        &acl,
        "c",
        &[
            "a/b/c",
            "a//c",
            "b",
            "b/1",
            "b/1/2/3",
            "q/x",
            "/x",
            "$SYS/own",
            "$SYS/own/1",
        ],
        &[
            "a/b",
            "a/b/c/d",
            "a/c",
            "bb",
            "q/x/y",
            "$SYS/x",
            "$q/x",
            "$SYS/other",
        ],
    );
    let all = parsed("topic write #\n");
    assert_publish(&all, "c", &["a", "a/b", "/"], &["$SYS/broker", "$x"]);
}

/// A `deny` wins over every grant, its own section's and the patterns' both ways, wherever it
/// stands in the file; and a denied topic cannot be reached through a wildcard subscription.
#[test]
fn deny_wins_over_every_grant() {
    let mut acl = parsed(
        "topic readwrite a/#\n\
         topic deny a/secret/#\n\
         topic readwrite a/secret/really\n\
         pattern deny a/%c/private\n\
         user alice\n\
         topic readwrite a/#\n\
         pattern readwrite b/#\n\
         user bob\n\
         topic deny b/#\n",
    );
    acl.bind("a1", Some("alice"));
    acl.bind("b1", Some("bob"));
    assert_publish(
        &acl,
        "anon",
        &["a", "a/x", "a/anon/public"],
        &[
            "a/secret",
            "a/secret/really",
            "a/secret/x/y",
            "a/anon/private",
        ],
    );
    assert_subscribe(
        &acl,
        "anon",
        &["a/x", "a/public/#", "a/x/+"],
        // `a/#` and `a/+` could bring `a/secret`, `a/+/private` could bring a/anon/private.
        &["a/#", "a/+", "a/secret/really", "a/+/private", "#"],
    );
    // alice: the pattern deny applies to her too; the anonymous deny does not.
    assert_publish(&acl, "a1", &["a/secret/x", "b/y"], &["a/a1/private"]);
    // bob: his topic deny beats the pattern's grant.
    assert_publish(&acl, "b1", &[], &["b/y", "b"]);
    assert_subscribe(&acl, "b1", &[], &["b/#", "b/y"]);
}

/// A subscribed filter needs a read rule covering every topic it can match: rule `a/#` covers
/// `a/+/b`, `a/#` and `a`; rule `a/+` covers `a/x` and `a/+` but not `a/#` (which also matches
/// `a` and `a/x/y`); rule `#` does not cover `$SYS` filters, which need a rule of their own.
#[test]
fn subscribe_needs_a_read_rule_covering_the_filter() {
    let cases: [(&str, &[&str], &[&str]); 6] = [
        (
            "a/#",
            &["a/#", "a/+/b", "a", "a/x/y", "a/+/#", "a/+"],
            &["#", "+/x", "b", "+", "+/#"],
        ),
        (
            "a/+",
            &["a/x", "a/+", "a/"],
            &["a/#", "a", "a/x/y", "a/+/b", "+/x", "#"],
        ),
        ("a/x", &["a/x"], &["a/+", "a/#", "a", "a/x/y", "+/x"]),
        (
            "#",
            &["#", "+/x", "a/b/#", "+", "+/#"],
            &["$SYS/#", "$SYS/x", "$x"],
        ),
        (
            "+/b",
            &["x/b", "+/b", "/b"],
            &["$x/b", "x/#", "#", "x/b/c", "+/+"],
        ),
        (
            "$SYS/#",
            &["$SYS/#", "$SYS/broker/+", "$SYS"],
            &["#", "+/broker", "$SYSTEM/x"],
        ),
    ];
    for (rule, allowed, refused) in cases {
        let acl = parsed(&format!("topic read {rule}\n"));
        assert_subscribe(&acl, &format!("rule {rule}"), allowed, refused);
    }
}

/// A shared subscription is judged by the filter it shares: `$share/GROUP/FILTER` needs read
/// access to FILTER, whatever the group is called.
#[test]
fn shared_subscriptions_are_judged_by_their_filter() {
    let acl = parsed("topic read jobs/+\ntopic deny jobs/secret\n");
    assert_subscribe(
        &acl,
        "c",
        &["$share/workers/jobs/x", "$share/jobs/jobs/x"],
        &[
            "$share/workers/jobs/#",
            "$share/workers/other",
            "$share/g/jobs/+",
        ],
    );
}

/// `%c` and `%u` stand for the client's Client Identifier and User Name, as a whole level or
/// inside one; a pattern with `%u` does not apply to a client without a User Name; in a
/// `topic` rule they are plain text.
#[test]
fn patterns_substitute_client_id_and_user_name() {
    let mut acl = parsed(
        "pattern readwrite devices/%c/#\n\
         pattern read users/%u/inbox\n\
         pattern write log/dev-%c-%u\n\
         pattern deny devices/%c/locked\n\
         topic write literal/%c\n",
    );
    acl.bind("d1", Some("alice"));

    assert_publish(
        &acl,
        "d1",
        &["devices/d1", "devices/d1/temp", "log/dev-d1-alice"],
        &[
            "devices/d2/temp",
            "devices/d1/locked",
            "log/dev-d1-bob",
            "log/dev-d1-alice-x",
            "log/dev-d1",
        ],
    );
    assert_subscribe(
        &acl,
        "d1",
        &["devices/d1/temp", "devices/d1/+/x", "users/alice/inbox"],
        &[
            "devices/+/temp",
            "devices/#",
            "devices/d1/#",
            "users/+/inbox",
            "users/bob/inbox",
        ],
    );
    // Never bound: no User Name, so neither `%u` pattern applies; `%c` ones do.
    assert_publish(
        &acl,
        "d2",
        &["devices/d2/x", "literal/%c"],
        &[
            "log/dev-d2-",
            "log/dev-d2-%u",
            "devices/d2/locked",
            "literal/d2",
        ],
    );
    assert_subscribe(&acl, "d2", &[], &["users//inbox", "users/%u/inbox"]);
}

/// A Client Identifier or User Name with `+`, `#` or `/` never widens a pattern: user `a/b`
/// cannot reach user `a`'s tree through `home/%u/#`, nor `+` or `#` every user's; a grant
/// that would need such a value grants nothing, and a deny that would need one denies
/// everything (it fails closed), while patterns without the value still apply.
#[test]
fn wildcards_and_slashes_in_identities_are_never_substituted() {
    let mut acl = parsed(
        "pattern readwrite home/%u/#\n\
         pattern readwrite dev/%c\n\
         pattern read public/#\n",
    );
    for (client, user) in [("c1", "a/b"), ("c2", "+"), ("c3", "#"), ("c4", "x+y")] {
        acl.bind(client, Some(user));
        assert_publish(
            &acl,
            client,
            &[&format!("dev/{client}")],
            &[
                "home/a/b/x",
                "home/a/x",
                "home/a",
                "home/+/x",
                "home/x/y",
                "home/x+y/z",
            ],
        );
        assert_subscribe(
            &acl,
            client,
            &["public/#"],
            &["home/a/#", "home/+/#", "home/#"],
        );
    }
    acl.bind("a", Some("a"));
    assert_publish(&acl, "a", &["home/a/b/x", "dev/a"], &[]);
    for client in ["x/y", "+", "#", "a+"] {
        assert_publish(
            &acl,
            client,
            &[],
            &["dev/x/y", "dev/+", "dev/#", "dev/a+", "dev/x"],
        );
        assert_subscribe(&acl, client, &["public/x"], &[]);
    }

    let deny = parsed("topic readwrite #\npattern deny private/%c/#\n");
    assert_publish(&deny, "x", &["public"], &["private/x/1"]);
    assert_subscribe(&deny, "x", &["public/#"], &["#", "private/x/1"]);
    for client in ["x/y", "+", "#"] {
        assert_publish(&deny, client, &[], &["public", "private/x/1"]);
        assert_subscribe(&deny, client, &[], &["public/#"]);
    }
}

/// Deciding never allocates, for every kind of rule and client: the broker asks at every
/// PUBLISH. (`allocation-counter` installs a counting allocator in this test binary; the first
/// measure shows that it counts.)
#[test]
fn decisions_never_allocate() {
    let counted = measure(|| drop(std::hint::black_box(Vec::<u8>::with_capacity(10))));
    assert_eq!(counted.count_total, 1, "the allocator counts");

    let mut acl = parsed(
        "topic read $SYS/#\n\
         topic readwrite public/#\n\
         topic deny public/secret\n\
         pattern readwrite devices/%c/#\n\
         pattern read users/%u/+/inbox\n\
         pattern write log/dev-%c-%u\n\
         pattern deny devices/%c/locked\n\
         user alice\n\
         topic readwrite alice/#\n",
    );
    acl.bind("d1", Some("alice"));
    acl.bind("x/y", Some("a+b"));
    let all = Acl::allow_all();
    let topics = [
        "public/x",
        "public/secret",
        "devices/d1/t",
        "devices/d1/locked",
        "log/dev-d1-alice",
        "alice/a/b/c",
        "$SYS/broker/uptime",
        "users/alice/x/inbox",
    ];
    let filters = [
        "public/#",
        "public/+",
        "devices/d1/+/x",
        "users/alice/+/inbox",
        "$SYS/#",
        "#",
        "$share/group/alice/#",
        "+/+/+",
    ];
    let mut allowed = 0;
    let info = measure(|| {
        for client in ["d1", "x/y", "never-bound", "+"] {
            for topic in topics {
                allowed += usize::from(acl.may_publish(client, topic));
                allowed += usize::from(all.may_publish(client, topic));
            }
            for filter in filters {
                allowed += usize::from(acl.may_subscribe(client, filter));
                allowed += usize::from(all.may_subscribe(client, filter));
            }
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    assert!(allowed > 64, "allow_all alone allows 64: {allowed}");
}

// ---- in the broker core ----

/// The harness's broker with `acl`, allowing no anonymous CONNECT: every CONNECT comes to the
/// driver, which binds the client and accepts it.
fn harness(acl: Acl) -> Harness<Acl> {
    Harness::with_policy(
        BrokerConfig {
            allow_anonymous: false,
            ..BrokerConfig::default()
        },
        acl,
    )
}

/// Connects `client_id` in `version` with User Name `user`, as the broker example's driver
/// does: on `Event::Authenticate` it binds the client in the ACL, then accepts it.
#[track_caller]
fn connect_as(h: &mut Harness<Acl>, version: ProtocolVersion, client_id: &str, user: &str) -> Conn {
    let mut connect = connect_packet(version, client_id);
    connect.username = Some(text(user));
    let conn = h.open(version);
    h.send(conn, connect);
    let events = h.events();
    let [
        Event::Authenticate {
            connection,
            connect,
            ..
        },
    ] = &events[..]
    else {
        panic!("expected Event::Authenticate, got {events:?}");
    };
    let (connection, client_id) = (*connection, connect.client_id.as_str().to_owned());
    let username = connect
        .username
        .as_ref()
        .map(|name| name.as_str().to_owned());
    h.command(|broker, now| {
        broker.policy_mut().bind(&client_id, username.as_deref());
        broker.accept_connect(now, connection)
    })
    .expect("accept_connect");
    let events = h.events();
    assert!(
        matches!(&events[..], [Event::Connected { .. }]),
        "{events:?}"
    );
    match &h.sent(conn)[..] {
        [Packet::ConnAck(connack)] => {
            assert_eq!(connack.reason_code, ConnectReasonCode::Success);
        }
        other => panic!("expected a CONNACK, got {other:?}"),
    }
    conn
}

/// Subscribes `conn` to each of `filters` in one SUBSCRIBE and returns the SUBACK's codes.
#[track_caller]
fn subscribe(h: &mut Harness<Acl>, conn: Conn, filters: &[&str]) -> Vec<SubAckReasonCode> {
    let id = h.next_id(conn);
    let subscriptions = filters
        .iter()
        .map(|filter| Subscription::new(topic_filter(filter), QoS::AtLeastOnce));
    h.send(conn, Subscribe::new(id, subscriptions));
    match &h.sent(conn)[..] {
        [Packet::SubAck(suback)] => {
            assert_eq!(suback.packet_id, id);
            suback.reason_codes.iter().collect()
        }
        other => panic!("expected a SUBACK, got {other:?}"),
    }
}

/// In the broker, the ACL refuses a SUBSCRIBE with Not authorized (0x87) in 5.0 and Failure
/// (0x80) in 3.1.1, filter by filter, and a 5.0 QoS 1 PUBLISH with a PUBACK of 0x87 that
/// nobody receives, while the user's allowed messages flow.
#[test]
fn in_the_broker_refusals_carry_each_versions_codes() {
    let mut h = harness(parsed(
        "user alice\n\
         topic readwrite alice/#\n\
         topic deny alice/secret\n\
         user watcher\n\
         topic read #\n",
    ));
    let watcher = connect_as(&mut h, V5, "watch", "watcher");
    assert_eq!(
        subscribe(&mut h, watcher, &["#"]),
        [SubAckReasonCode::GrantedQoS1]
    );

    let v5 = connect_as(&mut h, V5, "alice-5", "alice");
    assert_eq!(
        subscribe(&mut h, v5, &["alice/open", "bob/#", "alice/+"]),
        [
            SubAckReasonCode::GrantedQoS1,
            SubAckReasonCode::NotAuthorized,
            SubAckReasonCode::NotAuthorized,
        ]
    );
    h.send(v5, publish("alice/secret", b"no", QoS::AtLeastOnce, 1));
    let mut refused = PubAck::new(common::broker::pid(1));
    refused.reason_code = PubAckReasonCode::NotAuthorized;
    assert_eq!(h.sent(v5), [Packet::PubAck(refused)]);
    h.send(v5, publish("alice/open", b"yes", QoS::AtLeastOnce, 2));
    // The PUBACK, and the message itself back through alice's subscription.
    let sent = h.sent(v5);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent.iter()
            .any(|packet| matches!(packet, Packet::PubAck(ack)
            if ack.reason_code == PubAckReasonCode::Success)),
        "{sent:?}"
    );
    assert!(
        sent.iter()
            .any(|packet| matches!(packet, Packet::Publish(message)
            if message.payload.as_ref() == b"yes")),
        "{sent:?}"
    );

    let v311 = connect_as(&mut h, V311, "alice-311", "alice");
    assert_eq!(
        subscribe(&mut h, v311, &["bob/x", "alice/x"]),
        [
            SubAckReasonCode::UnspecifiedError,
            SubAckReasonCode::GrantedQoS1
        ]
    );

    let seen: Vec<String> = h
        .sent(watcher)
        .into_iter()
        .filter_map(|packet| match packet {
            Packet::Publish(publish) => Some(publish.topic.unwrap().as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(seen, ["alice/open"], "the refused message went nowhere");
}

/// A CONNECT with an empty Client Identifier reaches the driver already naming the one the
/// broker assigns, so the driver binds that identifier before `accept_connect`, and a PUBLISH
/// that came in the same read as the CONNECT is judged under the user's rules.
#[test]
fn a_client_with_an_assigned_identifier_gets_its_users_rules() {
    let mut h = harness(parsed("user alice\ntopic readwrite alice/#\n"));
    let conn = h.open(V5);
    let mut connect = connect_packet(V5, "");
    connect.username = Some(text("alice"));
    let mut bytes = h.encode(conn, connect);
    bytes.extend(h.encode(conn, publish("alice/x", b"1", QoS::AtLeastOnce, 1)));
    h.send_bytes(conn, &bytes);
    let events = h.events();
    let [
        Event::Authenticate {
            connection,
            connect,
            ..
        },
    ] = &events[..]
    else {
        panic!("expected Event::Authenticate, got {events:?}");
    };
    let connection = *connection;
    let client_id = connect.client_id.as_str().to_owned();
    h.command(|broker, now| {
        broker.policy_mut().bind(&client_id, Some("alice"));
        broker.accept_connect(now, connection)
    })
    .expect("accept_connect");
    let sent = h.sent(conn);
    let acks: Vec<PubAckReasonCode> = sent
        .iter()
        .filter_map(|packet| match packet {
            Packet::PubAck(ack) => Some(ack.reason_code),
            _ => None,
        })
        .collect();
    assert_eq!(acks, [PubAckReasonCode::Success], "{sent:?}");
}
