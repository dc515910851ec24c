//! Reference implementations of the topic rules of sections 4.7 and 4.8.2, written from the
//! spec's text character by character, independently of the crate's level-splitting code.
//!
//! Shared by the property tests (`tests/proptest_topic.rs`) and the `topic_match` fuzz target
//! (`fuzz/src/checks.rs`, which includes this file by path, also when `tests/fuzz_replay.rs`
//! replays it), so every test of the crate's topics is judged against the same reference.

#![allow(dead_code)]

use mqtt_sansio::TopicError;

/// The longest topic in bytes (§4.7.3).
pub(crate) const MAX_TOPIC_LEN: usize = 65_535;

/// The examples of sections 4.7.1 and 4.7.2, with the few edge cases the text implies.
pub(crate) const SPEC_MATCH_EXAMPLES: &[(&str, &str, bool)] = &[
    ("sport/tennis/player1/#", "sport/tennis/player1", true),
    (
        "sport/tennis/player1/#",
        "sport/tennis/player1/ranking",
        true,
    ),
    (
        "sport/tennis/player1/#",
        "sport/tennis/player1/score/wimbledon",
        true,
    ),
    ("sport/#", "sport", true),
    ("#", "sport/tennis", true),
    ("sport/tennis/+", "sport/tennis/player1", true),
    ("sport/tennis/+", "sport/tennis/player2", true),
    ("sport/tennis/+", "sport/tennis/player1/ranking", false),
    ("sport/+", "sport", false),
    ("sport/+", "sport/", true),
    ("+/+", "/finance", true),
    ("/+", "/finance", true),
    ("+", "/finance", false),
    ("#", "$SYS/monitor/Clients", false),
    ("+/monitor/Clients", "$SYS/monitor/Clients", false),
    ("$SYS/#", "$SYS/monitor/Clients", true),
    ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
    ("sport/tennis", "sport/tennis", true),
    ("sport/tennis", "sport/Tennis", false),
    ("sport/tennis", "sport/tennis/", false),
];

/// The rules a Topic Name breaks, by section 4.7: at least one character, no U+0000, at most
/// 65,535 bytes once encoded (§4.7.3), and no wildcard character (§4.7.1).
pub(crate) fn name_violations(name: &str) -> Vec<TopicError> {
    let mut broken = Vec::new();
    if name.is_empty() {
        broken.push(TopicError::Empty);
    }
    if name.len() > MAX_TOPIC_LEN {
        broken.push(TopicError::TooLong);
    }
    if name.contains('\0') {
        broken.push(TopicError::Nul);
    }
    if name.contains('+') || name.contains('#') {
        broken.push(TopicError::WildcardInName);
    }
    broken
}

/// The rules a Topic Filter breaks, by section 4.7: the §4.7.3 rules, `#` only as the last
/// character and either alone or right after `/`, and `+` with nothing but `/` (or the start
/// or end of the filter) on either side.
pub(crate) fn filter_violations(filter: &str) -> Vec<TopicError> {
    let mut broken = Vec::new();
    if filter.is_empty() {
        broken.push(TopicError::Empty);
    }
    if filter.len() > MAX_TOPIC_LEN {
        broken.push(TopicError::TooLong);
    }
    if filter.contains('\0') {
        broken.push(TopicError::Nul);
    }
    let chars: Vec<char> = filter.chars().collect();
    for (at, &c) in chars.iter().enumerate() {
        let starts_level = at == 0 || chars[at - 1] == '/';
        let is_last = at + 1 == chars.len();
        let ends_level = is_last || chars[at + 1] == '/';
        if c == '#' && !(starts_level && is_last) {
            broken.push(TopicError::MisplacedMultiLevelWildcard);
        }
        if c == '+' && !(starts_level && ends_level) {
            broken.push(TopicError::MisplacedSingleLevelWildcard);
        }
    }
    broken
}

/// Whether `filter` matches `name`, by section 4.7, character by character: `+` matches any
/// run of characters without `/` (an empty one included), `#` matches whatever is left, and a
/// final `/#` also matches nothing at all (the parent level). A filter that starts with a
/// wildcard does not match a name that starts with `$` (§4.7.2).
pub(crate) fn matches(filter: &str, name: &str) -> bool {
    if name.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    match_chars(filter.as_bytes(), name.as_bytes())
}

fn match_chars(filter: &[u8], name: &[u8]) -> bool {
    match filter {
        [] => name.is_empty(),
        [b'#'] => true,
        [b'/', b'#'] if name.is_empty() => true,
        [b'+', rest @ ..] => (0..=name.len())
            .take_while(|&taken| taken == 0 || name[taken - 1] != b'/')
            .any(|taken| match_chars(rest, &name[taken..])),
        [first, rest @ ..] => name.first() == Some(first) && match_chars(rest, &name[1..]),
    }
}

/// What section 4.8.2 makes of a valid Topic Filter: `None` if it is not a shared
/// subscription (does not start with `$share/`), otherwise the ShareName and the filter after
/// it, or `Err` if the ShareName is empty or holds `+` or `#`, or is not followed by `/` and a
/// non-empty Topic Filter.
pub(crate) fn shared(filter: &str) -> Option<Result<(String, String), ()>> {
    let rest = filter.strip_prefix("$share/")?;
    let mut share_name = String::new();
    let mut chars = rest.chars();
    for c in chars.by_ref() {
        if c == '/' {
            let inner: String = chars.collect();
            let valid = !share_name.is_empty() && !inner.is_empty();
            return Some(if valid {
                Ok((share_name, inner))
            } else {
                Err(())
            });
        }
        if c == '+' || c == '#' {
            return Some(Err(()));
        }
        share_name.push(c);
    }
    Some(Err(()))
}
