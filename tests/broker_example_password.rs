//! The broker example's password file (`examples/broker/password.rs`) reads what
//! `mosquitto_passwd` writes: both hash kinds verify the right password and refuse a wrong
//! one, and a bad line is refused with its line number.
//!
//! `tests/fixtures/broker/passwd` was written by mosquitto 2.0's `mosquitto_passwd -b`:
//! `alice` with the default `$7$` (PBKDF2, 101 iterations), `bob` with `-H sha512` (`$6$`),
//! `carol` with `-I 1000`. Their passwords are in [`FIXTURE_USERS`]. One test also runs
//! `mosquitto_passwd` at test time; without the program it is skipped with a note, except on
//! CI (`CI` set), where that is a failure.

#[path = "../examples/broker/password.rs"]
mod password;

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use password::{MAX_ITERATIONS, Passwords};

/// The users of the fixture file and their passwords.
const FIXTURE_USERS: [(&str, &str); 3] = [
    ("alice", "correct horse"),
    ("bob", "b0b:with colon"),
    ("carol", "pässwörd"),
];

/// A `$7$` line of the fixture, to build variants of.
const ALICE: &str = "alice:$7$101$1XAAVD4pORLt04AX$goTG9ib2cSoGWtbhRbM85pJQzvckI48+KCHMx2eHIYsLwh+9kuuNEQW/Z/2jfSRzzjvqaSkynXjdqtgqLl8apQ==";

/// The salt and digest fields of [`ALICE`].
const ALICE_SALT: &str = "1XAAVD4pORLt04AX";
const ALICE_DIGEST: &str =
    "goTG9ib2cSoGWtbhRbM85pJQzvckI48+KCHMx2eHIYsLwh+9kuuNEQW/Z/2jfSRzzjvqaSkynXjdqtgqLl8apQ==";

/// The fixture written by `mosquitto_passwd`.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broker/passwd")
}

/// Each user of a file `mosquitto_passwd` wrote gets in with their password, in both hash
/// kinds and at a non-default iteration count, and with no other: not a wrong one, not another
/// user's, not one of theirs with a byte changed; a user not in the file never gets in.
#[test]
fn mosquitto_passwd_file_accepts_each_users_own_password() {
    let passwords = Passwords::load(&fixture()).expect("the fixture loads");
    assert_eq!(passwords.len(), FIXTURE_USERS.len());
    for (user, password) in FIXTURE_USERS {
        assert!(passwords.check(user, password.as_bytes()), "{user}");
        assert!(!passwords.check(user, b"wrong"), "{user}");
        assert!(!passwords.check(user, b""), "{user}");
        let mut changed = password.as_bytes().to_vec();
        changed[0] ^= 1;
        assert!(!passwords.check(user, &changed), "{user}");
        let longer = format!("{password} ");
        assert!(!passwords.check(user, longer.as_bytes()), "{user}");
        for (other, _) in FIXTURE_USERS.iter().filter(|(other, _)| *other != user) {
            assert!(
                !passwords.check(other, password.as_bytes()),
                "{user} as {other}"
            );
        }
    }
    assert!(!passwords.check("mallory", b"correct horse"));
    assert!(!passwords.check("", b""));
    assert!(
        !passwords.check("Alice", b"correct horse"),
        "names are case-sensitive"
    );
}

/// Empty lines, comment lines, surrounding blanks and CRLF line ends are allowed; an empty
/// file has no user, and then nobody gets in.
#[test]
fn comments_blank_lines_and_crlf_are_skipped() {
    let text = format!("# users\r\n\r\n   \n  {ALICE}  \r\n# end\n");
    let passwords = Passwords::parse(&text).expect("parses");
    assert_eq!(passwords.len(), 1);
    assert!(passwords.check("alice", b"correct horse"));

    let empty = Passwords::parse("").expect("an empty file parses");
    assert_eq!(empty.len(), 0);
    assert!(!empty.check("alice", b"correct horse"));
}

/// Every kind of bad line is refused as `InvalidData`, with a message that starts with its
/// line number (after a comment line, so that counting from one is checked).
#[test]
fn bad_lines_are_refused_with_their_line_number() {
    let salt = ALICE_SALT;
    let digest = ALICE_DIGEST;
    let cases: Vec<(String, &str)> = vec![
        ("alice".to_owned(), "expected `user:hash`"),
        (format!(":$7$101${salt}${digest}"), "empty user name"),
        ("alice:secret".to_owned(), "plain-text"),
        ("alice:".to_owned(), "missing hash type"),
        (
            format!("alice:$5${salt}${digest}"),
            "unknown hash type `$5$`",
        ),
        (
            format!("alice:$argon2id${salt}${digest}"),
            "unknown hash type",
        ),
        ("alice:$".to_owned(), "missing hash type"),
        (format!("alice:$7$0${salt}${digest}"), "iteration count 0"),
        (
            format!("alice:$7$-1${salt}${digest}"),
            "bad iteration count",
        ),
        (
            format!("alice:$7$lots${salt}${digest}"),
            "bad iteration count",
        ),
        (format!("alice:$7${salt}${digest}"), "bad iteration count"),
        (format!("alice:$7$101${digest}"), "salt has 64 bytes"),
        ("alice:$6$".to_owned(), "salt has 0 bytes"),
        (format!("alice:$6$***${digest}"), "salt is not base64"),
        (
            format!("alice:$6$AAAA${digest}"),
            "salt has 3 bytes, not 12",
        ),
        (format!("alice:$6${salt}$AAAA"), "hash has 3 bytes, not 64"),
        (format!("alice:$6${salt}"), "missing hash"),
        (format!("alice:$6${salt}${digest}$x"), "too many `$` fields"),
        (
            format!("{ALICE}\nalice:$6${salt}${digest}"),
            "user `alice` is already on line 2",
        ),
    ];
    for (body, expected) in cases {
        let text = format!("# header\n{body}\n");
        let line = 1 + body.lines().count();
        let error = Passwords::parse(&text).expect_err(&body);
        assert_eq!(error.kind(), ErrorKind::InvalidData, "{body}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("line {line}: ")),
            "{body}: {message}"
        );
        assert!(message.contains(expected), "{body}: {message}");
    }
}

/// A `$7$` hash may ask for at most [`MAX_ITERATIONS`] iterations: one more, or a count that
/// does not fit 32 bits, is refused when the file is read, so that no CONNECT can make the
/// broker compute it.
#[test]
fn iteration_counts_above_the_cap_are_refused() {
    let at_cap = format!("alice:$7${MAX_ITERATIONS}${ALICE_SALT}${ALICE_DIGEST}");
    let passwords = Passwords::parse(&at_cap).expect("the cap itself is allowed");
    // Same salt and digest, another iteration count: a different hash.
    assert!(!passwords.check("alice", b"correct horse"));
    for count in [
        u64::from(MAX_ITERATIONS) + 1,
        u64::from(u32::MAX),
        u64::from(u32::MAX) + 1,
    ] {
        let line = format!("alice:$7${count}${ALICE_SALT}${ALICE_DIGEST}");
        let error = Passwords::parse(&line).expect_err(&line);
        assert_eq!(error.kind(), ErrorKind::InvalidData);
        assert!(error.to_string().starts_with("line 1: "), "{error}");
    }
}

/// `load` names the file and the line of a bad entry, and passes on the error of a file that
/// cannot be read.
#[test]
fn load_names_the_file_and_line_of_a_bad_entry() {
    let dir = TempDir::new("load");
    let path = dir.path().join("passwd");
    std::fs::write(&path, format!("{ALICE}\nbob\n")).unwrap();
    let error = Passwords::load(&path).expect_err("a bad line");
    assert_eq!(error.kind(), ErrorKind::InvalidData);
    let message = error.to_string();
    assert!(message.contains("passwd: line 2: "), "{message}");

    let missing = Passwords::load(&dir.path().join("absent")).expect_err("no file");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

/// A file `mosquitto_passwd -b -c` writes now, with today's default hash, lets its user in
/// with the right password and not with a wrong one.
#[test]
fn file_written_by_mosquitto_passwd_now_checks_passwords() {
    let program = "mosquitto_passwd";
    let dir = TempDir::new("run");
    let path = dir.path().join("passwd");
    let output = match Command::new(program)
        .args(["-b", "-c"])
        .arg(&path)
        .args(["dora", "s3cret pass"])
        .output()
    {
        Ok(output) => output,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            let on_ci = std::env::var_os("CI").is_some_and(|value| !value.is_empty());
            assert!(!on_ci, "{program} is missing on CI");
            eprintln!("skipped: {program} is not installed");
            return;
        }
        Err(error) => panic!("{program}: {error}"),
    };
    assert!(output.status.success(), "{program}: {output:?}");
    let passwords = Passwords::load(&path).expect("mosquitto_passwd's file loads");
    assert_eq!(passwords.len(), 1);
    assert!(passwords.check("dora", b"s3cret pass"));
    assert!(!passwords.check("dora", b"s3cret pas"));
    assert!(!passwords.check("dora", b"S3cret pass"));
}

/// A directory of its own under the system's temporary directory, removed on drop (also when
/// the test fails).
struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory whose name holds `name`, the process id and a time stamp.
    fn new(name: &str) -> Self {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "mqtt-sansio-password-{name}-{}-{stamp}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// The directory.
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
