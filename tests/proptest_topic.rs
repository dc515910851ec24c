//! Property tests of topics: `TopicName` and `TopicFilter` validation, filter matching and
//! shared subscriptions agree with reference implementations written here from the rules of
//! sections 4.7 and 4.8.2, on inputs from a small alphabet so that the interesting cases
//! (wildcards, empty levels, `$` topics, matches) are frequent.
//!
//! The references work character by character, unlike the crate, which splits into levels.

mod common;

use common::topic_reference::{
    self as reference, MAX_TOPIC_LEN, SPEC_MATCH_EXAMPLES, filter_violations, name_violations,
};
use mqtt_sansio::topic::{self, TopicLevel, matches};
use mqtt_sansio::{SharedFilter, TopicError, TopicFilter, TopicName};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// Topics borrowing the test's strings.
type Name<'a> = TopicName<&'a [u8]>;
type Filter<'a> = TopicFilter<&'a [u8]>;

// -------------------------------------------------------------------------------------------------
// Strategies
// -------------------------------------------------------------------------------------------------

/// A short string over the small alphabet, with a rare U+0000 or multi-byte character.
fn alphabet_string() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        12 => select(vec!['a', 'b', '/', '+', '#', '$']),
        1 => select(vec!['\0', 'é', '\u{FEFF}']),
    ];
    vec(c, 0..10).prop_map(|chars| chars.into_iter().collect())
}

/// A string at the 65,535-byte edge: ASCII or two-byte characters, with a short suffix from
/// the alphabet.
fn edge_length_string() -> impl Strategy<Value = String> {
    (
        select(vec!["a", "é"]),
        (MAX_TOPIC_LEN - 4)..=(MAX_TOPIC_LEN + 4),
        alphabet_string(),
    )
        .prop_map(|(unit, bytes, suffix)| {
            let count = bytes.saturating_sub(suffix.len()) / unit.len();
            unit.repeat(count) + &suffix
        })
}

/// Any string to validate: mostly short ones over the alphabet.
fn candidate() -> impl Strategy<Value = String> {
    prop_oneof![20 => alphabet_string(), 1 => edge_length_string()]
}

/// A valid Topic Filter over the alphabet, built level by level; a few short levels, so that
/// matches are frequent.
fn valid_filter() -> impl Strategy<Value = String> {
    let level = prop_oneof![
        4 => Just("a"),
        1 => Just("b"),
        4 => Just("+"),
        1 => Just(""),
        1 => select(vec!["$", "$a", "ab"]),
    ];
    (vec(level, 1..4), any::<bool>()).prop_map(|(levels, multi_level)| {
        let mut filter = levels.join("/");
        if multi_level {
            filter = if filter.is_empty() {
                "#".to_owned()
            } else {
                filter + "/#"
            };
        }
        if filter.is_empty() {
            "+".to_owned()
        } else {
            filter
        }
    })
}

/// A valid Topic Name over the alphabet plus a capital letter and two spellings of "é", so
/// that matching is seen to compare exactly, without case folding or normalisation.
fn valid_name() -> impl Strategy<Value = String> {
    let level = prop_oneof![
        5 => Just("a"),
        1 => Just("b"),
        1 => Just(""),
        2 => select(vec!["$", "$a"]),
        1 => select(vec!["ab", "A", "\u{e9}", "e\u{301}"]),
    ];
    vec(level, 1..4).prop_map(|levels| {
        let name = levels.join("/");
        if name.is_empty() {
            "/".to_owned()
        } else {
            name
        }
    })
}

/// A Topic Filter to match: built to be valid, or any string over the alphabet.
fn filter_for_matching() -> impl Strategy<Value = String> {
    prop_oneof![4 => valid_filter(), 1 => alphabet_string()]
}

/// A Topic Name to match.
fn name_for_matching() -> impl Strategy<Value = String> {
    prop_oneof![4 => valid_name(), 1 => alphabet_string()]
}

/// A candidate shared subscription: `$share/` (or `$share` or a look-alike), a candidate
/// ShareName, maybe a `/`, then a filter.
fn shared_candidate() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        6 => Just("$share/"),
        1 => select(vec!["$share", "$sharex/", "$SHARE/", "share/"]),
    ];
    let share_name = select(vec!["g", "gb", "$", "", "+", "#", "a+", "g#"]);
    let separator = prop_oneof![4 => Just("/"), 1 => Just("")];
    let rest = prop_oneof![
        4 => valid_filter(),
        1 => alphabet_string(),
        1 => Just(String::new()),
    ];
    (prefix, share_name, separator, rest).prop_map(|(prefix, share_name, separator, rest)| {
        format!("{prefix}{share_name}{separator}{rest}")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// `TopicName::new` accepts exactly the strings the reference accepts, and a refusal names
    /// one of the rules the string breaks: non-empty, no U+0000, at most 65,535 bytes (two-byte
    /// characters count twice), no wildcard characters.
    /// conformance: v311:MQTT-4.7.1-1, v5:MQTT-4.7.0-1, v311:MQTT-4.7.3-1, v5:MQTT-4.7.3-1
    /// conformance: v311:MQTT-4.7.3-2, v5:MQTT-4.7.3-2, v311:MQTT-4.7.3-3, v5:MQTT-4.7.3-3
    #[test]
    fn topic_names_follow_section_4_7(name in candidate()) {
        let broken = name_violations(&name);
        match Name::new(name.as_str()) {
            Ok(accepted) => {
                prop_assert!(broken.is_empty(), "accepted {:?}, which breaks {:?}", name, broken);
                prop_assert_eq!(accepted.as_str(), name.as_str());
            }
            Err(error) => prop_assert!(
                broken.contains(&error),
                "refused {:?} for {:?}; it breaks {:?}",
                name,
                error,
                broken
            ),
        }
    }

    /// `TopicFilter::new` accepts exactly the strings the reference accepts: `#` only last and
    /// alone in its level, `+` filling its whole level, and the rules of §4.7.3; a refusal names
    /// one of the rules the string breaks.
    /// conformance: v311:MQTT-4.7.1-2, v5:MQTT-4.7.1-1, v311:MQTT-4.7.1-3, v5:MQTT-4.7.1-2
    /// conformance: v311:MQTT-4.7.3-1, v5:MQTT-4.7.3-1, v311:MQTT-4.7.3-2, v5:MQTT-4.7.3-2
    /// conformance: v311:MQTT-4.7.3-3, v5:MQTT-4.7.3-3
    #[test]
    fn topic_filters_follow_section_4_7(filter in candidate()) {
        let broken = filter_violations(&filter);
        match Filter::new(filter.as_str()) {
            Ok(accepted) => {
                prop_assert!(broken.is_empty(), "accepted {:?}, which breaks {:?}", filter, broken);
                prop_assert_eq!(accepted.as_str(), filter.as_str());
                prop_assert_eq!(
                    accepted.has_wildcards(),
                    filter.contains('+') || filter.contains('#')
                );
            }
            Err(error) => prop_assert!(
                broken.contains(&error),
                "refused {:?} for {:?}; it breaks {:?}",
                filter,
                error,
                broken
            ),
        }
    }

    /// `TopicFilter::matches` and `topic::matches` agree with the character-by-character
    /// reference on every valid filter and name: `+` matches exactly one level, `#` the parent
    /// level and everything below it, a leading wildcard never matches a `$` topic, and names
    /// are compared exactly (no case folding, no Unicode normalisation).
    /// conformance: v311:MQTT-4.7.2-1, v5:MQTT-4.7.2-1, v311:MQTT-4.7.3-4, v5:MQTT-4.7.3-4
    #[test]
    fn matching_agrees_with_the_reference(
        filter in filter_for_matching(),
        name in name_for_matching(),
    ) {
        let (Ok(parsed_filter), Ok(parsed_name)) =
            (Filter::new(filter.as_str()), Name::new(name.as_str()))
        else {
            return Ok(());
        };
        let expected = reference::matches(&filter, &name);
        prop_assert_eq!(matches(&filter, &name), expected, "{} vs {}", filter, name);
        prop_assert_eq!(parsed_filter.matches(parsed_name.as_str()), expected);
        // A filter without wildcards matches exactly the name equal to it.
        if !parsed_filter.has_wildcards() {
            prop_assert_eq!(expected, filter == name);
        }
    }

    /// `parse_shared` and `TopicFilter::shared` agree with the reference for §4.8.2 on every
    /// valid filter: not shared unless it starts with `$share/`, and then a non-empty
    /// ShareName without `+`, `#` or `/`, followed by `/` and a non-empty filter; the shared
    /// filter matches what its inner filter matches.
    /// conformance: v5:MQTT-4.8.2-1, v5:MQTT-4.8.2-2
    #[test]
    fn shared_subscriptions_follow_section_4_8_2(
        filter in prop_oneof![3 => shared_candidate(), 1 => alphabet_string()],
        name in valid_name(),
    ) {
        let Ok(parsed) = Filter::new(filter.as_str()) else {
            return Ok(());
        };
        let expected = reference::shared(&filter);
        let actual = topic::parse_shared(&filter);
        match (&expected, &actual) {
            (None, Ok(None)) => prop_assert_eq!(parsed.shared(), None),
            (Some(Ok((share_name, inner))), Ok(Some(shared))) => {
                prop_assert_eq!(
                    *shared,
                    SharedFilter { share_name: share_name.as_str(), filter: inner.as_str() }
                );
                prop_assert_eq!(parsed.shared(), Some(*shared));
                prop_assert_eq!(shared.matches(&name), reference::matches(inner, &name));
            }
            (Some(Err(())), Err(error)) => {
                prop_assert!(
                    matches!(error, TopicError::InvalidShareName | TopicError::MissingSharedFilter),
                    "{:?}",
                    error
                );
                prop_assert_eq!(parsed.shared(), None);
            }
            _ => prop_assert!(false, "{:?}: reference {:?}, crate {:?}", filter, expected, actual),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// `TopicFilter::levels`, `level_count` and `check_levels` agree with a naive split at
    /// `/` of every valid filter, and `SharedFilter::levels` with a split of the inner filter.
    #[test]
    fn levels_agree_with_a_split(
        filter in prop_oneof![3 => valid_filter(), 1 => shared_candidate()],
        max in 0usize..8,
    ) {
        let Ok(parsed) = Filter::new(filter.as_str()) else {
            return Ok(());
        };
        let level = |text| match text {
            "+" => TopicLevel::SingleWildcard,
            "#" => TopicLevel::MultiWildcard,
            text => TopicLevel::Literal(text),
        };
        let expected: Vec<_> = filter.split('/').map(level).collect();
        prop_assert_eq!(parsed.levels().collect::<Vec<_>>(), expected.clone());
        prop_assert_eq!(parsed.level_count(), expected.len());
        prop_assert_eq!(parsed.check_levels(max).is_ok(), expected.len() <= max);
        if let Some(Ok((_, inner))) = reference::shared(&filter) {
            prop_assert!(parsed.is_shared());
            let shared = parsed.shared().unwrap();
            let inner_levels: Vec<_> = inner.split('/').map(level).collect();
            prop_assert_eq!(shared.levels().collect::<Vec<_>>(), inner_levels);
        } else {
            prop_assert!(!parsed.is_shared());
        }
    }
}

/// The crate's matcher, and the reference it is judged against, give the answers of the
/// examples in sections 4.7.1 and 4.7.2.
/// conformance: v311:MQTT-4.7.2-1, v5:MQTT-4.7.2-1
#[test]
fn matching_follows_the_spec_examples() {
    for &(filter, name, expected) in SPEC_MATCH_EXAMPLES {
        assert_eq!(matches(filter, name), expected, "crate: {filter} vs {name}");
        assert_eq!(
            reference::matches(filter, name),
            expected,
            "reference: {filter} vs {name}"
        );
    }
}
