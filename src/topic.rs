//! Topic Names and Topic Filters ([§4.7]): validated newtypes, shared subscriptions ([§4.8.2])
//! and filter matching.
//!
//! [§4.7]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901241
//! [§4.8.2]: https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901250

use core::fmt;
use core::ops::Deref;

use bytes::Bytes;

use crate::codec::arena::{Arena, Detach, detach_methods};
use crate::codec::buffer::Buffer;
use crate::codec::reader::Reader;
use crate::codec::scan::{has_nul, has_nul_or_wildcard, name_has_nul_or_wildcard};
use crate::codec::string::MAX_STRING_LEN;
use crate::error::DecodeError;
pub use crate::error::TopicError;

/// A broker's default for the most levels a Topic Filter may have
/// ([`TopicFilter::check_levels`]); mosquitto uses the same figure.
///
/// A filter of 65,535 bytes may hold 32,768 levels (`a/a/...`), each a node of a
/// subscription trie; a limit keeps one SUBSCRIBE from costing that much memory and time.
pub const DEFAULT_MAX_TOPIC_LEVELS: usize = 200;

/// The prefix of a shared subscription's Topic Filter.
const SHARE_PREFIX: &str = "$share/";

/// A Topic Name: the topic of a PUBLISH, with no wildcards.
///
/// It is non-empty, at most 65,535 bytes, without U+0000, `+` or `#`. (An MQTT 5.0 PUBLISH
/// that uses a Topic Alias may leave its topic out; [`Publish::topic`](crate::Publish) is an
/// `Option` for that reason.)
///
/// ```
/// use mqtt_sansio::{TopicName, TopicError};
///
/// let name = TopicName::<&[u8]>::new("sport/tennis/player1").unwrap();
/// assert_eq!(name.levels().count(), 3);
/// assert_eq!(TopicName::<&[u8]>::new("sport/+"), Err(TopicError::WildcardInName));
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicName<B: Buffer>(B::Str);

impl<B: Buffer> TopicName<B> {
    /// Checks `value` against the Topic Name rules.
    pub fn new(value: impl Into<B::Str>) -> Result<Self, TopicError> {
        let value = value.into();
        check_name(value.as_bytes())?;
        Ok(Self(value))
    }

    /// The topic.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying string, sharing storage with the packet it came from.
    #[must_use]
    pub fn into_inner(self) -> B::Str {
        self.0
    }

    /// The topic levels, split at `/`.
    pub fn levels(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// How many levels the topic has: one more than the number of `/`, counted byte by byte
    /// (faster than counting [`levels`](Self::levels)).
    ///
    /// ```
    /// use mqtt_sansio::TopicName;
    ///
    /// assert_eq!(TopicName::<&[u8]>::new("site/7/status")?.level_count(), 3);
    /// assert_eq!(TopicName::<&[u8]>::new("/")?.level_count(), 2);
    /// # Ok::<(), mqtt_sansio::TopicError>(())
    /// ```
    #[must_use]
    pub fn level_count(&self) -> usize {
        level_count(&self.0)
    }

    /// Whether the topic starts with `$` (a server topic, which wildcards at the start of a
    /// filter do not match).
    #[must_use]
    pub fn is_system(&self) -> bool {
        self.0.starts_with('$')
    }

    /// Wraps a string that has already passed [`check_name`].
    pub(crate) fn from_checked(value: B::Str) -> Self {
        Self(value)
    }
}

impl<B: Buffer> Deref for TopicName<B> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<B: Buffer> AsRef<str> for TopicName<B> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<B: Buffer> fmt::Debug for TopicName<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<B: Buffer> fmt::Display for TopicName<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Topic Filter: the subject of a subscription, possibly with wildcards.
///
/// It is non-empty, at most 65,535 bytes, without U+0000; `#` stands alone as the last
/// level and `+` fills a whole level. A filter of the form `$share/{ShareName}/{filter}` is
/// a shared subscription in MQTT 5.0 ([`TopicFilter::shared`]); MQTT 3.1.1 reads it as an
/// ordinary filter, so the share rules are applied when a 5.0 SUBSCRIBE or UNSUBSCRIBE is
/// encoded or decoded, not here.
///
/// ```
/// use mqtt_sansio::{TopicFilter, TopicName};
///
/// let filter = TopicFilter::<&[u8]>::new("sport/tennis/+").unwrap();
/// assert!(filter.matches("sport/tennis/player1"));
/// assert!(!filter.matches("sport/tennis/player1/ranking"));
/// assert!(TopicFilter::<&[u8]>::new("sport/tennis#").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicFilter<B: Buffer>(B::Str);

impl<B: Buffer> TopicFilter<B> {
    /// Checks `value` against the Topic Filter rules.
    pub fn new(value: impl Into<B::Str>) -> Result<Self, TopicError> {
        let value = value.into();
        check_filter(value.as_bytes())?;
        Ok(Self(value))
    }

    /// The filter.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The underlying string, sharing storage with the packet it came from.
    #[must_use]
    pub fn into_inner(self) -> B::Str {
        self.0
    }

    /// Whether the filter contains `+` or `#`.
    #[must_use]
    pub fn has_wildcards(&self) -> bool {
        self.0.bytes().any(|byte| byte == b'+' || byte == b'#')
    }

    /// The share name and filter of a well-formed MQTT 5.0 shared subscription
    /// (`$share/{ShareName}/{filter}`); `None` for any other filter.
    #[must_use]
    pub fn shared(&self) -> Option<SharedFilter<'_>> {
        parse_shared(&self.0).unwrap_or_default()
    }

    /// Whether this is a well-formed MQTT 5.0 shared subscription,
    /// `$share/{ShareName}/{filter}` ([`shared`](Self::shared) gives its parts).
    #[must_use]
    pub fn is_shared(&self) -> bool {
        self.shared().is_some()
    }

    /// The filter's levels, split at `/`, read literally: a shared filter's `$share` and
    /// ShareName come first, as MQTT 3.1.1 (which has no shared subscriptions) reads them and
    /// as [`matches`](Self::matches) does. A 5.0 broker's subscription trie wants the levels
    /// of the inner filter: take them from [`SharedFilter::levels`], and the group from
    /// [`SharedFilter::share_name`].
    ///
    /// ```
    /// use mqtt_sansio::TopicFilter;
    /// use mqtt_sansio::topic::TopicLevel;
    ///
    /// let filter = TopicFilter::<&[u8]>::new("sport/+/#").unwrap();
    /// let levels: Vec<_> = filter.levels().collect();
    /// assert_eq!(
    ///     levels,
    ///     [TopicLevel::Literal("sport"), TopicLevel::SingleWildcard, TopicLevel::MultiWildcard]
    /// );
    ///
    /// let shared = TopicFilter::<&[u8]>::new("$share/group/sport/+").unwrap();
    /// assert_eq!(shared.levels().count(), 4);
    /// let inner = shared.shared().unwrap();
    /// assert_eq!(inner.share_name, "group");
    /// assert_eq!(inner.levels().count(), 2);
    /// ```
    pub fn levels(&self) -> Levels<'_> {
        Levels::new(&self.0)
    }

    /// How many levels the filter has, read literally as [`levels`](Self::levels) reads it:
    /// one more than the number of `/`.
    #[must_use]
    pub fn level_count(&self) -> usize {
        level_count(&self.0)
    }

    /// Checks that the filter has at most `max` levels, counted as
    /// [`level_count`](Self::level_count) counts them (so a shared filter's `$share` and
    /// ShareName count too: the bound holds whichever levels a broker stores).
    ///
    /// A broker calls this when it accepts a subscription, with
    /// [`DEFAULT_MAX_TOPIC_LEVELS`] or its own limit. A filter that is too deep is a valid
    /// filter the broker declines, not a malformed packet: the SUBSCRIBE is answered with a
    /// per-filter refusal in the SUBACK (5.0 reason code 0x8F Topic Filter invalid, 3.1.1
    /// return code 0x80 Failure) and the connection stays open.
    ///
    /// ```
    /// use mqtt_sansio::{TopicError, TopicFilter};
    /// use mqtt_sansio::topic::DEFAULT_MAX_TOPIC_LEVELS;
    ///
    /// let deep = "a/".repeat(300) + "#";
    /// let filter = TopicFilter::<&[u8]>::new(deep.as_str()).unwrap();
    /// assert_eq!(filter.check_levels(DEFAULT_MAX_TOPIC_LEVELS), Err(TopicError::TooManyLevels));
    /// assert_eq!(filter.check_levels(301), Ok(()));
    /// ```
    pub fn check_levels(&self, max: usize) -> Result<(), TopicError> {
        if self.level_count() > max {
            Err(TopicError::TooManyLevels)
        } else {
            Ok(())
        }
    }

    /// Whether this filter matches `topic` under the rules of section 4.7, reading the filter
    /// literally (a `$share/` prefix is not stripped; match [`SharedFilter::filter`] for that).
    #[must_use]
    pub fn matches(&self, topic: &str) -> bool {
        matches(&self.0, topic)
    }

    /// Wraps a string that has already passed [`check_filter`].
    pub(crate) fn from_checked(value: B::Str) -> Self {
        Self(value)
    }
}

impl<B: Buffer> Deref for TopicFilter<B> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<B: Buffer> AsRef<str> for TopicFilter<B> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<B: Buffer> fmt::Debug for TopicFilter<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<B: Buffer> fmt::Display for TopicFilter<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<B: Buffer> Detach for TopicName<B> {
    type Detached = TopicName<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> TopicName<Bytes> {
        TopicName(arena.string(self.as_str()))
    }
}

impl<B: Buffer> Detach for TopicFilter<B> {
    type Detached = TopicFilter<Bytes>;

    fn detach_in(&self, arena: &mut Arena) -> TopicFilter<Bytes> {
        TopicFilter(arena.string(self.as_str()))
    }
}

detach_methods!(TopicName, "the Topic Name");
detach_methods!(TopicFilter, "the Topic Filter");

/// The parts of a shared subscription's filter, `$share/{share_name}/{filter}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SharedFilter<'a> {
    /// The ShareName: at least one character, no `/`, `+` or `#`.
    pub share_name: &'a str,
    /// The Topic Filter the group subscribes to.
    pub filter: &'a str,
}

impl<'a> SharedFilter<'a> {
    /// Whether the shared filter matches `topic`.
    #[must_use]
    pub fn matches(&self, topic: &str) -> bool {
        matches(self.filter, topic)
    }

    /// The levels of the inner filter (after `$share/{ShareName}/`), split at `/`.
    pub fn levels(&self) -> Levels<'a> {
        Levels::new(self.filter)
    }
}

/// One level of a Topic Filter, as [`TopicFilter::levels`] yields it.
///
/// Not `#[non_exhaustive]`: section 4.7.1 defines exactly two wildcards and every other level
/// is literal, so the set is closed, and a subscription trie should be able to match on it
/// exhaustively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TopicLevel<'a> {
    /// A level matched exactly (possibly empty, as in `a//b`).
    Literal(&'a str),
    /// `+`: matches exactly one level.
    SingleWildcard,
    /// `#`: matches the parent level and any number of levels below it; always the last.
    MultiWildcard,
}

/// The levels of a Topic Filter: the iterator [`TopicFilter::levels`] and
/// [`SharedFilter::levels`] return.
#[derive(Clone, Debug)]
pub struct Levels<'a> {
    inner: core::str::Split<'a, char>,
}

impl<'a> Levels<'a> {
    fn new(filter: &'a str) -> Self {
        Self {
            inner: filter.split('/'),
        }
    }
}

impl<'a> Iterator for Levels<'a> {
    type Item = TopicLevel<'a>;

    fn next(&mut self) -> Option<TopicLevel<'a>> {
        self.inner.next().map(|level| match level {
            "+" => TopicLevel::SingleWildcard,
            "#" => TopicLevel::MultiWildcard,
            literal => TopicLevel::Literal(literal),
        })
    }
}

impl core::iter::FusedIterator for Levels<'_> {}

/// How many levels `filter` has: one more than its number of `/`.
fn level_count(filter: &str) -> usize {
    filter
        .bytes()
        .filter(|&byte| byte == b'/')
        .count()
        .saturating_add(1)
}

/// Splits an MQTT 5.0 shared subscription filter into its parts.
///
/// `Ok(None)` means the filter does not start with `$share/` and is an ordinary filter. A
/// filter that does start with it must have a non-empty ShareName without `+` or `#`
/// (`[MQTT-4.8.2-1]`), followed by `/` and a non-empty filter (`[MQTT-4.8.2-2]`). The filter
/// after the ShareName obeys the ordinary rules when the whole filter has passed
/// the Topic Filter rules ([`TopicFilter::new`]), since its levels are levels of the whole.
pub fn parse_shared(filter: &str) -> Result<Option<SharedFilter<'_>>, TopicError> {
    let Some(rest) = filter.strip_prefix(SHARE_PREFIX) else {
        return Ok(None);
    };
    // Byte searches rather than `str` patterns, whose generic machinery a firmware would
    // link for this alone; `/`, `+` and `#` are ASCII, so the split is at a char boundary.
    let slash = rest
        .bytes()
        .position(|byte| byte == b'/')
        .ok_or(TopicError::MissingSharedFilter)?;
    let (share_name, inner) = (
        rest.get(..slash).unwrap_or_default(),
        rest.get(slash.saturating_add(1)..).unwrap_or_default(),
    );
    if share_name.is_empty() || share_name.bytes().any(|byte| byte == b'+' || byte == b'#') {
        return Err(TopicError::InvalidShareName);
    }
    if inner.is_empty() {
        return Err(TopicError::MissingSharedFilter);
    }
    Ok(Some(SharedFilter {
        share_name,
        filter: inner,
    }))
}

/// Checks the Topic Name rules on raw bytes (UTF-8 is checked separately).
#[inline]
pub(crate) fn check_name(bytes: &[u8]) -> Result<(), TopicError> {
    if bytes.is_empty() {
        return Err(TopicError::Empty);
    }
    if bytes.len() > MAX_STRING_LEN {
        return Err(TopicError::TooLong);
    }
    // One pass for the three forbidden bytes; the common case finds none.
    if name_has_nul_or_wildcard(bytes) {
        return Err(if bytes.contains(&0) {
            TopicError::Nul
        } else {
            TopicError::WildcardInName
        });
    }
    Ok(())
}

/// Checks the Topic Filter rules on raw bytes (UTF-8 is checked separately).
///
/// Most filters hold no wildcard at all, and the word-at-a-time scan settles those; the rest
/// take one byte loop that looks only at the neighbours of each wildcard (no per-level split).
pub(crate) fn check_filter(bytes: &[u8]) -> Result<(), TopicError> {
    if bytes.is_empty() {
        return Err(TopicError::Empty);
    }
    if bytes.len() > MAX_STRING_LEN {
        return Err(TopicError::TooLong);
    }
    if !has_nul_or_wildcard(bytes) {
        return Ok(());
    }
    // U+0000 first, wherever it stands, as for every other string.
    if has_nul(bytes) {
        return Err(TopicError::Nul);
    }
    check_wildcards(bytes)
}

/// The byte loop of [`check_filter`], for a caller that has already scanned `bytes`, found a
/// wildcard in them and refused U+0000: checks where each wildcard stands.
pub(crate) fn check_wildcards(bytes: &[u8]) -> Result<(), TopicError> {
    for (at, &byte) in bytes.iter().enumerate() {
        // U+0000, `#` and `+` all sort at or below `+`; most other bytes skip the checks. U+0000
        // is refused here too, so the loop is safe to call on its own.
        if byte > b'+' {
            continue;
        }
        let starts_level = at
            .checked_sub(1)
            .and_then(|before| bytes.get(before))
            .is_none_or(|&before| before == b'/');
        let next = bytes.get(at.wrapping_add(1)).copied();
        match byte {
            0 => return Err(TopicError::Nul),
            // `#` alone in the last level (3.1.1 [MQTT-4.7.1-2]; 5.0 §4.7.1.2 has no id for it).
            b'#' if !starts_level || next.is_some() => {
                return Err(TopicError::MisplacedMultiLevelWildcard);
            }
            // `+` alone in its level (3.1.1 [MQTT-4.7.1-3], 5.0 [MQTT-4.7.1-2]).
            b'+' if !starts_level || next.is_some_and(|next| next != b'/') => {
                return Err(TopicError::MisplacedSingleLevelWildcard);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `filter` matches `topic` under the rules of section 4.7, reading the filter
/// literally.
///
/// Iterative, one level at a time: `+` matches exactly one level (possibly empty), `#` matches
/// the parent level and any number of levels below it, and a filter starting with a wildcard
/// never matches a topic starting with `$` (`[MQTT-4.7.2-1]`).
///
/// ```
/// use mqtt_sansio::topic::matches;
///
/// assert!(matches("sport/#", "sport"));
/// assert!(matches("+/+", "/finance"));
/// assert!(!matches("#", "$SYS/uptime"));
/// assert!(matches("$SYS/#", "$SYS/uptime"));
/// ```
#[must_use]
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut filter_levels = filter.split('/');
    let mut topic_levels = topic.split('/');
    loop {
        match (filter_levels.next(), topic_levels.next()) {
            (Some("#"), _) => return true,
            (None, None) => return true,
            (Some("+"), Some(_)) => {}
            (Some(wanted), Some(level)) if wanted == level => {}
            _ => return false,
        }
    }
}

/// Topic fields read from a packet: the string rules and the section 4.7 rules checked together.
impl<B: Buffer> Reader<'_, B> {
    /// Reads a string that is to be a Topic Name, checking the string and Topic Name rules in
    /// one pass over its bytes; returns an error naming the first rule broken, in the order:
    /// U+0000, UTF-8, then the section 4.7 rules (an empty name is left to the caller, since a
    /// 5.0 PUBLISH may carry one with a Topic Alias).
    #[inline]
    pub(crate) fn topic_name_str(&mut self, field: &'static str) -> Result<B::Str, DecodeError> {
        let bytes = self.prefixed(field)?;
        if name_has_nul_or_wildcard(bytes.as_ref()) {
            // Rare: find out exactly which rule is broken, in the usual order.
            let text = Self::checked_str(bytes, field)?;
            return match check_name(text.as_bytes()) {
                Ok(()) => Ok(text),
                Err(error) => Err(DecodeError::InvalidTopic { field, error }),
            };
        }
        bytes
            .try_into_str()
            .map_err(|_| DecodeError::InvalidUtf8 { field })
    }

    /// Reads a non-empty Topic Name (a Will Topic or a Response Topic).
    #[inline]
    pub(crate) fn topic_name(&mut self, field: &'static str) -> Result<TopicName<B>, DecodeError> {
        let text = self.topic_name_str(field)?;
        if text.is_empty() {
            return Err(DecodeError::InvalidTopic {
                field,
                error: TopicError::Empty,
            });
        }
        Ok(TopicName::from_checked(text))
    }

    /// Reads a string that is to be a Topic Filter, checking the string and Topic Filter rules
    /// with one scan in the common case; errors come in the order U+0000, UTF-8, then the
    /// section 4.7 rules, as [`topic_name_str`](Self::topic_name_str) does for names.
    #[inline(always)]
    pub(crate) fn topic_filter_str(&mut self, field: &'static str) -> Result<B::Str, DecodeError> {
        let bytes = self.prefixed(field)?;
        let invalid = |error| DecodeError::InvalidTopic { field, error };
        if has_nul_or_wildcard(bytes.as_ref()) {
            // A wildcard (or U+0000): check where it stands.
            let text = Self::checked_str(bytes, field)?;
            check_wildcards(text.as_bytes()).map_err(invalid)?;
            return Ok(text);
        }
        if bytes.as_ref().is_empty() {
            return Err(invalid(TopicError::Empty));
        }
        bytes
            .try_into_str()
            .map_err(|_| DecodeError::InvalidUtf8 { field })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Name = TopicName<&'static [u8]>;
    type Filter = TopicFilter<&'static [u8]>;

    /// The filter rules read level by level, as section 4.7.1 states them: the oracle for the
    /// byte loop of [`check_filter`].
    fn filter_by_levels(bytes: &[u8]) -> Result<(), TopicError> {
        let mut levels = bytes.split(|&byte| byte == b'/').peekable();
        while let Some(level) = levels.next() {
            if level.contains(&0) {
                return Err(TopicError::Nul);
            }
            if level.contains(&b'#') && (level != b"#" || levels.peek().is_some()) {
                return Err(TopicError::MisplacedMultiLevelWildcard);
            }
            if level.contains(&b'+') && level != b"+" {
                return Err(TopicError::MisplacedSingleLevelWildcard);
            }
        }
        Ok(())
    }

    /// Every filter of up to six bytes over `a / + # NUL` gets the same verdict from the byte
    /// loop as from the level-by-level reading.
    ///
    /// conformance: v311:MQTT-4.7.1-2, v311:MQTT-4.7.1-3, v5:MQTT-4.7.1-2
    #[test]
    fn filter_byte_loop_agrees_with_levels() {
        const ALPHABET: [u8; 5] = [b'a', b'/', b'+', b'#', 0];
        for len in 1..=6u32 {
            for mut index in 0..ALPHABET.len().pow(len) {
                let mut filter = Vec::new();
                for _ in 0..len {
                    filter.push(ALPHABET[index % ALPHABET.len()]);
                    index /= ALPHABET.len();
                }
                let expected = filter_by_levels(&filter);
                let actual = check_filter(&filter);
                assert_eq!(actual.is_ok(), expected.is_ok(), "{filter:?}");
                if filter.contains(&0) {
                    assert_eq!(actual, Err(TopicError::Nul), "{filter:?}");
                }
            }
        }
    }

    /// conformance: v311:MQTT-4.7.1-1, v5:MQTT-4.7.0-1
    #[test]
    fn names_reject_wildcards() {
        assert_eq!(Name::new("a/+/b"), Err(TopicError::WildcardInName));
        assert_eq!(Name::new("a/#"), Err(TopicError::WildcardInName));
        assert_eq!(Name::new("#"), Err(TopicError::WildcardInName));
        assert!(Filter::new("a/+/b").is_ok());
        assert!(Name::new("a/b c/d").is_ok());
    }

    /// conformance: v311:MQTT-4.7.1-2, v5:MQTT-4.7.1-1
    #[test]
    fn multi_level_wildcard_stands_alone_at_the_end() {
        for ok in ["#", "sport/#", "sport/tennis/#", "/#", "+/#"] {
            assert!(Filter::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "sport/tennis#",
            "sport/tennis/#/ranking",
            "#/",
            "##",
            "a/#b",
            "#/#",
        ] {
            assert_eq!(
                Filter::new(bad),
                Err(TopicError::MisplacedMultiLevelWildcard),
                "{bad}"
            );
        }
    }

    /// conformance: v311:MQTT-4.7.1-3, v5:MQTT-4.7.1-2
    #[test]
    fn single_level_wildcard_fills_its_level() {
        for ok in ["+", "+/tennis/#", "sport/+/player1", "/+", "+/+", "+/"] {
            assert!(Filter::new(ok).is_ok(), "{ok}");
        }
        for bad in ["sport+", "sport/+tennis", "++", "a/b+/c"] {
            assert_eq!(
                Filter::new(bad),
                Err(TopicError::MisplacedSingleLevelWildcard),
                "{bad}"
            );
        }
    }

    /// conformance: v311:MQTT-4.7.3-1, v5:MQTT-4.7.3-1
    #[test]
    fn topics_are_not_empty() {
        assert_eq!(Name::new(""), Err(TopicError::Empty));
        assert_eq!(Filter::new(""), Err(TopicError::Empty));
        assert!(Name::new("/").is_ok());
    }

    /// conformance: v311:MQTT-4.7.3-2, v5:MQTT-4.7.3-2
    #[test]
    fn topics_reject_nul() {
        assert_eq!(Name::new("a\0b"), Err(TopicError::Nul));
        assert_eq!(Filter::new("a/\0"), Err(TopicError::Nul));
    }

    /// conformance: v311:MQTT-4.7.3-3, v5:MQTT-4.7.3-3
    #[test]
    fn topics_are_at_most_65535_bytes() {
        let longest = "a".repeat(65_535);
        assert!(TopicName::<&[u8]>::new(longest.as_str()).is_ok());
        assert!(TopicFilter::<&[u8]>::new(longest.as_str()).is_ok());
        let too_long = "a".repeat(65_536);
        assert_eq!(
            TopicName::<&[u8]>::new(too_long.as_str()),
            Err(TopicError::TooLong)
        );
        assert_eq!(
            TopicFilter::<&[u8]>::new(too_long.as_str()),
            Err(TopicError::TooLong)
        );
    }

    /// conformance: v5:MQTT-4.8.2-1, v5:MQTT-4.8.2-2
    #[test]
    fn shared_subscriptions_parse() {
        assert_eq!(
            parse_shared("$share/group/sport/+"),
            Ok(Some(SharedFilter {
                share_name: "group",
                filter: "sport/+"
            }))
        );
        assert_eq!(parse_shared("sport/+"), Ok(None));
        assert_eq!(parse_shared("$share//a"), Err(TopicError::InvalidShareName));
        assert_eq!(
            parse_shared("$share/+/a"),
            Err(TopicError::InvalidShareName)
        );
        assert_eq!(
            parse_shared("$share/g#/a"),
            Err(TopicError::InvalidShareName)
        );
        assert_eq!(
            parse_shared("$share/group"),
            Err(TopicError::MissingSharedFilter)
        );
        assert_eq!(
            parse_shared("$share/group/"),
            Err(TopicError::MissingSharedFilter)
        );
        // `$sharex/...` and `$share` alone are ordinary filters.
        assert_eq!(parse_shared("$sharex/a/b"), Ok(None));
        assert_eq!(parse_shared("$share"), Ok(None));
        let filter = Filter::new("$share/g/a/#").unwrap();
        assert_eq!(filter.shared().unwrap().filter, "a/#");
        assert!(filter.shared().unwrap().matches("a/b/c"));
    }

    #[test]
    fn levels_name_each_wildcard() {
        let filter = Filter::new("+/a//#").unwrap();
        assert_eq!(
            filter.levels().collect::<Vec<_>>(),
            [
                TopicLevel::SingleWildcard,
                TopicLevel::Literal("a"),
                TopicLevel::Literal(""),
                TopicLevel::MultiWildcard,
            ]
        );
        assert_eq!(filter.level_count(), 4);
        assert_eq!(Filter::new("/").unwrap().level_count(), 2);
        assert_eq!(Filter::new("#").unwrap().level_count(), 1);
    }

    /// A shared filter's own levels are literal; its inner filter's come from `shared()`.
    ///
    /// conformance: v5:MQTT-4.8.2-1
    #[test]
    fn shared_filter_levels_are_literal_and_inner_levels_come_from_shared() {
        let filter = Filter::new("$share/g/a/+").unwrap();
        assert!(filter.is_shared());
        assert_eq!(
            filter.levels().take(2).collect::<Vec<_>>(),
            [TopicLevel::Literal("$share"), TopicLevel::Literal("g")]
        );
        let shared = filter.shared().unwrap();
        assert_eq!(
            shared.levels().collect::<Vec<_>>(),
            [TopicLevel::Literal("a"), TopicLevel::SingleWildcard]
        );
        assert!(!Filter::new("$share/g").unwrap().is_shared());
        assert!(!Filter::new("$sharex/g/a").unwrap().is_shared());
        assert!(!Filter::new("a/$share/g/b").unwrap().is_shared());
    }

    #[test]
    fn check_levels_refuses_only_deeper_filters() {
        let deepest = "a/".repeat(DEFAULT_MAX_TOPIC_LEVELS - 1) + "#";
        let filter = TopicFilter::<&[u8]>::new(deepest.as_str()).unwrap();
        assert_eq!(filter.level_count(), DEFAULT_MAX_TOPIC_LEVELS);
        assert_eq!(filter.check_levels(DEFAULT_MAX_TOPIC_LEVELS), Ok(()));
        assert_eq!(
            filter.check_levels(DEFAULT_MAX_TOPIC_LEVELS - 1),
            Err(TopicError::TooManyLevels)
        );
        // The worst case the limit exists for: 32,768 one-byte levels in 65,535 bytes.
        let widest = "a/".repeat(32_767) + "a";
        let filter = TopicFilter::<&[u8]>::new(widest.as_str()).unwrap();
        assert_eq!(filter.level_count(), 32_768);
        assert_eq!(
            filter.check_levels(DEFAULT_MAX_TOPIC_LEVELS),
            Err(TopicError::TooManyLevels)
        );
        assert_eq!(
            Filter::new("a").unwrap().check_levels(0),
            Err(TopicError::TooManyLevels)
        );
    }
}
