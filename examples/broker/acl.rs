//! The broker's access control list, read from a file in mosquitto's `acl_file` format, as a
//! [`Policy`] for the broker core.
//!
//! # The file
//!
//! ```text
//! # A comment: a line whose first non-blank character is `#` (never after a rule).
//! # Before any `user` line: the rules of anonymous clients.
//! topic read $SYS/#
//! # The rules below, up to the next `user` line, are alice's.
//! user alice
//! topic readwrite home/alice/#
//! topic deny home/alice/secret
//! # No access keyword: readwrite.
//! topic sensors/+
//! # Patterns apply to every client, wherever they stand.
//! pattern write devices/%c/#
//! pattern read users/%u/inbox
//! ```
//!
//! - `topic [read|write|readwrite|deny] FILTER`: a rule for the current section: anonymous
//!   clients before the first `user` line, that user after it. Without a keyword the access
//!   is `readwrite`, and a single word is the filter (`topic read` is the topic `read`, as in
//!   mosquitto). A filter may hold spaces once the keyword is given.
//! - `user NAME`: starts NAME's section (the CONNECT's User Name, not its Client Identifier).
//!   Two sections of one name are one.
//! - `pattern [read|write|readwrite|deny] FILTER`: a rule for every client, in which `%c`
//!   stands for its Client Identifier and `%u` for its User Name, anywhere in a level
//!   (`dev-%c` too). A pattern with `%u` does not apply to a client without a User Name.
//!
//! A filter is an MQTT Topic Filter (`+` and `#` as in subscriptions). A line that is none of
//! these, an unknown access keyword or an invalid filter refuses the whole file, naming the
//! line.
//!
//! # Decisions
//!
//! A client's rules are its section's `topic` rules and every `pattern`. A client bound to a
//! User Name that has no section gets the patterns only (not the anonymous section), as in
//! mosquitto; a client without a User Name, or never [bound](Acl::bind), gets the anonymous
//! section.
//!
//! - **PUBLISH** to a topic needs a `write` or `readwrite` rule whose filter matches the topic,
//!   and no `deny` rule whose filter matches it.
//! - **SUBSCRIBE** to a filter needs read access to every topic the filter can match: a `read`
//!   or `readwrite` rule whose filter *covers* the subscribed one (rule `a/#` covers `a/+/b`,
//!   `a/#` and `a`; rule `a/+` covers `a/x` and `a/+` but not `a/#`), and no `deny` rule that
//!   can match a topic the subscribed filter matches. For a shared subscription
//!   (`$share/GROUP/FILTER`) the check is on FILTER. A wildcard in the first level never
//!   matches a topic that starts with `$`, so rule `#` grants neither `$SYS/x` nor `$SYS/#`.
//! - A `deny` always wins over a grant, whichever section or pattern each comes from.
//! - An empty file allows nothing. [`Acl::allow_all`] allows everything (no ACL configured).
//!
//! # Differences from mosquitto
//!
//! - mosquitto checks read access at each delivery, topic by topic, and accepts every
//!   SUBSCRIBE. The broker core asks once, at SUBSCRIBE, so a subscription is granted only
//!   when every message it could bring is readable: `topic read a/x` lets a client receive
//!   `a/x` through a subscription to `a/x` but refuses the filter `a/+`, which mosquitto
//!   would accept and then filter message by message.
//! - mosquitto decides a client's `topic` rules (their denials first) before it looks at the
//!   patterns, so a `topic` grant wins over a `pattern deny`; here any `deny` wins.
//! - A Client Identifier or User Name that holds `+`, `#` or `/` is never substituted into a
//!   pattern: a pattern that would use it grants nothing and, if it is a `deny`, matches every
//!   topic, so it fails closed. mosquitto 2.0 refuses `+` and `#` and then denies the client
//!   everything its `topic` rules did not grant; 1.x refused `/` too. We refuse `/` as well,
//!   because user `a/b` in `pattern readwrite home/%u/#` would otherwise reach into user
//!   `a`'s tree.
//! - Lines with leading blanks are allowed, and a comment may be indented.
//!
//! # Cost
//!
//! [`Policy::may_publish`] runs for every PUBLISH. It never allocates: topics and filters are
//! walked level by level, and `%c` and `%u` are compared in place. It costs one hash lookup
//! of the Client Identifier (a client's section is found once, when it is bound) and a walk
//! of the rules of that section and of the patterns. An [`Acl::allow_all`] answers after one
//! branch, without looking up the client.

use std::collections::HashMap;
use std::io;
use std::path::Path;

use mqtt_sansio::broker::Policy;

/// A mosquitto-style access control list, and which User Name each connected client has.
#[derive(Debug)]
pub(crate) struct Acl {
    /// The rules; `None` allows everything.
    rules: Option<Box<Rules>>,
    /// The User Name of each bound client, by Client Identifier.
    bindings: HashMap<Box<str>, Binding>,
}

impl Acl {
    /// The list that allows every client everything: the broker without an ACL file.
    pub(crate) fn allow_all() -> Self {
        Self {
            rules: None,
            bindings: HashMap::new(),
        }
    }

    /// Reads the mosquitto ACL file at `path`; a bad line is an
    /// [`InvalidData`](io::ErrorKind::InvalidData) error that names the file and the line.
    pub(crate) fn load(path: &Path) -> io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Self::parse(&text)
            .map_err(|error| io::Error::new(error.kind(), format!("{}: {error}", path.display())))
    }

    /// Parses the text of a mosquitto ACL file; a bad line is an
    /// [`InvalidData`](io::ErrorKind::InvalidData) error whose message starts with
    /// `line N:`.
    pub(crate) fn parse(text: &str) -> io::Result<Self> {
        let mut rules = Rules::default();
        let mut user: Option<Box<str>> = None;
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (keyword, rest) = first_word(line);
            match keyword {
                "topic" | "pattern" => {
                    let pattern = keyword == "pattern";
                    let (first, after) = first_word(rest);
                    let after = after.trim();
                    if first.is_empty() {
                        return Err(bad_line(number, &format!("`{keyword}` needs a filter")));
                    }
                    let (access, filter) = if after.is_empty() {
                        (Access::ReadWrite, first)
                    } else {
                        let access = Access::parse(first).ok_or_else(|| {
                            bad_line(
                                number,
                                &format!(
                                    "unknown access `{first}` (read, write, readwrite or deny)"
                                ),
                            )
                        })?;
                        (access, after)
                    };
                    let rule = Rule::parse(access, filter, pattern).map_err(|why| {
                        bad_line(number, &format!("invalid filter `{filter}`: {why}"))
                    })?;
                    let section = if pattern {
                        &mut rules.patterns
                    } else if let Some(name) = &user {
                        let Rules {
                            users, sections, ..
                        } = &mut rules;
                        let index = *users.entry(name.clone()).or_insert_with(|| {
                            sections.push(Section::default());
                            sections.len() - 1
                        });
                        &mut sections[index]
                    } else {
                        &mut rules.anonymous
                    };
                    section.push(rule);
                }
                "user" => {
                    let name = rest.trim();
                    if name.is_empty() {
                        return Err(bad_line(number, "`user` needs a user name"));
                    }
                    user = Some(name.into());
                }
                other => {
                    return Err(bad_line(
                        number,
                        &format!("unknown keyword `{other}` (topic, user or pattern)"),
                    ));
                }
            }
        }
        Ok(Self {
            rules: Some(Box::new(rules)),
            bindings: HashMap::new(),
        })
    }

    /// Records that `client_id` authenticated as `username` (`None`: anonymous); the driver
    /// calls it before [`accept_connect`](mqtt_sansio::Broker::accept_connect). Bindings are
    /// counted, and the latest User Name is the one that counts: a client that takes over the
    /// session of a connection with the same Client Identifier keeps its binding when the old
    /// connection's [`unbind`](Self::unbind) comes. Pair each `bind` with one `unbind`.
    ///
    /// A CONNECT with an empty Client Identifier gets one from the broker inside
    /// `accept_connect`, so it cannot be bound before: bind the identifier that
    /// [`Event::Connected`](mqtt_sansio::broker::Event::Connected) reports instead. Packets
    /// that came in the same read as that CONNECT are decided inside `accept_connect`, as
    /// the anonymous client's (a gap of the core's API, shown by an ignored test).
    pub(crate) fn bind(&mut self, client_id: &str, username: Option<&str>) {
        let Some(rules) = self.rules.as_deref() else {
            return;
        };
        let place = rules.place(username);
        let user = username.map(Box::from);
        match self.bindings.get_mut(client_id) {
            Some(binding) => {
                binding.user = user;
                binding.place = place;
                binding.count = binding.count.saturating_add(1);
            }
            None => {
                let binding = Binding {
                    user,
                    place,
                    count: 1,
                };
                self.bindings.insert(client_id.into(), binding);
            }
        }
    }

    /// Forgets one [`bind`](Self::bind) of `client_id`, when its connection closed; after the
    /// last one the client is anonymous again.
    pub(crate) fn unbind(&mut self, client_id: &str) {
        let Some(binding) = self.bindings.get_mut(client_id) else {
            return;
        };
        binding.count -= 1;
        if binding.count == 0 {
            self.bindings.remove(client_id);
        }
    }

    /// The User Name `client_id` is bound to, if any.
    pub(crate) fn username(&self, client_id: &str) -> Option<&str> {
        self.bindings.get(client_id)?.user.as_deref()
    }

    /// The rules that apply to `client_id`, and who it is for the patterns.
    fn lookup<'a>(
        &'a self,
        rules: &'a Rules,
        client_id: &'a str,
    ) -> (Option<&'a Section>, Who<'a>) {
        let (place, user) = match self.bindings.get(client_id) {
            Some(binding) => (binding.place, binding.user.as_deref()),
            None => (Place::Anonymous, None),
        };
        (rules.section(place), Who { client_id, user })
    }
}

impl Acl {
    /// Whether `client_id` may act: no deny rule of its section or of the patterns `denies`,
    /// and a grant rule whose access `wanted` accepts `grants`. Without rules, everything is
    /// allowed.
    fn allows(
        &self,
        client_id: &str,
        wanted: fn(Access) -> bool,
        denies: impl Fn(&[Level], &Who<'_>) -> bool,
        grants: impl Fn(&[Level], &Who<'_>) -> bool,
    ) -> bool {
        let Some(rules) = self.rules.as_deref() else {
            return true;
        };
        let (section, who) = self.lookup(rules, client_id);
        let sections = [section, Some(&rules.patterns)];
        let sections = sections.iter().flatten();
        let denied = sections.clone().any(|section| {
            section
                .deny
                .iter()
                .any(|rule| rule.decide(&who, true, &denies))
        });
        !denied
            && sections.into_iter().any(|section| {
                section
                    .grant
                    .iter()
                    .any(|rule| wanted(rule.access) && rule.decide(&who, false, &grants))
            })
    }
}

impl Policy for Acl {
    fn may_publish(&self, client_id: &str, topic: &str) -> bool {
        let hits = |levels: &[Level], who: &Who<'_>| matches(levels, topic, who);
        self.allows(client_id, Access::writes, hits, hits)
    }

    fn may_subscribe(&self, client_id: &str, filter: &str) -> bool {
        let filter = unshare(filter);
        self.allows(
            client_id,
            Access::reads,
            |levels, who| overlaps(levels, filter, who),
            |levels, who| covers(levels, filter, who),
        )
    }
}

/// The rules of a file.
#[derive(Debug, Default)]
struct Rules {
    /// The `topic` rules before the first `user` line: anonymous clients'.
    anonymous: Section,
    /// The place of each user's section in `sections`, by User Name.
    users: HashMap<Box<str>, usize>,
    /// The users' `topic` rules.
    sections: Vec<Section>,
    /// The `pattern` rules: everyone's.
    patterns: Section,
}

impl Rules {
    /// Where the rules of a client with User Name `user` are.
    fn place(&self, user: Option<&str>) -> Place {
        match user {
            None => Place::Anonymous,
            Some(name) => self
                .users
                .get(name)
                .map_or(Place::Nowhere, |&i| Place::User(i)),
        }
    }

    /// The section at `place`, if it has one.
    fn section(&self, place: Place) -> Option<&Section> {
        match place {
            Place::Anonymous => Some(&self.anonymous),
            Place::User(index) => self.sections.get(index),
            Place::Nowhere => None,
        }
    }
}

/// Where a client's `topic` rules are, found once when it is bound.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// The anonymous section.
    Anonymous,
    /// Its user's section, by its index.
    User(usize),
    /// None: its user has no section, so only the patterns apply.
    Nowhere,
}

/// The rules of one section, denials apart.
#[derive(Debug, Default)]
struct Section {
    /// The `deny` rules.
    deny: Vec<Rule>,
    /// The rules that grant read, write or both.
    grant: Vec<Rule>,
}

impl Section {
    /// Adds `rule` to its list.
    fn push(&mut self, rule: Rule) {
        if rule.access == Access::Deny {
            self.deny.push(rule);
        } else {
            self.grant.push(rule);
        }
    }
}

/// A bound client.
#[derive(Debug)]
struct Binding {
    /// Its User Name, `None` when it connected without one.
    user: Option<Box<str>>,
    /// Where its user's `topic` rules are.
    place: Place,
    /// How many binds are not yet unbound.
    count: u32,
}

/// Who a client is, for `%c` and `%u`.
#[derive(Clone, Copy, Debug)]
struct Who<'a> {
    /// Its Client Identifier.
    client_id: &'a str,
    /// Its User Name, if it has one.
    user: Option<&'a str>,
}

/// What a rule allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Subscribe (receive).
    Read,
    /// Publish.
    Write,
    /// Both.
    ReadWrite,
    /// Neither, whatever another rule grants.
    Deny,
}

impl Access {
    /// The access keyword `word`, if it is one.
    fn parse(word: &str) -> Option<Self> {
        match word {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "readwrite" => Some(Self::ReadWrite),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }

    /// Whether it grants subscribing.
    fn reads(self) -> bool {
        matches!(self, Self::Read | Self::ReadWrite)
    }

    /// Whether it grants publishing.
    fn writes(self) -> bool {
        matches!(self, Self::Write | Self::ReadWrite)
    }
}

/// One `topic` or `pattern` line.
#[derive(Debug)]
struct Rule {
    /// What it allows.
    access: Access,
    /// Its filter, level by level.
    levels: Vec<Level>,
    /// Whether a level substitutes the Client Identifier.
    uses_client_id: bool,
    /// Whether a level substitutes the User Name.
    uses_user: bool,
}

impl Rule {
    /// The rule with `access` on `filter`, in which `%c` and `%u` are substitutions if it is
    /// a `pattern`; the error says what is wrong with the filter.
    fn parse(access: Access, filter: &str, pattern: bool) -> Result<Self, &'static str> {
        if filter.is_empty() {
            return Err("empty");
        }
        if filter.contains('\0') {
            return Err("contains U+0000");
        }
        let count = filter.split('/').count();
        let mut levels = Vec::with_capacity(count);
        let (mut uses_client_id, mut uses_user) = (false, false);
        for (index, level) in filter.split('/').enumerate() {
            let level = match level {
                "#" if index + 1 == count => Level::Hash,
                "#" => return Err("`#` is not the last level"),
                "+" => Level::Plus,
                _ if level.contains(['+', '#']) => {
                    return Err("a wildcard shares a level with other characters");
                }
                _ if pattern && (level.contains("%c") || level.contains("%u")) => {
                    let parts = Part::split(level);
                    uses_client_id |= parts.contains(&Part::ClientId);
                    uses_user |= parts.contains(&Part::User);
                    Level::Template(parts)
                }
                _ => Level::Literal(level.into()),
            };
            levels.push(level);
        }
        Ok(Self {
            access,
            levels,
            uses_client_id,
            uses_user,
        })
    }

    /// Whether the rule applies to `who` and `test` says it matches: a rule that needs a User
    /// Name `who` lacks does not apply; one whose substitution is unsafe (holds `+`, `#` or
    /// `/`) matches everything if it is a `deny` and nothing otherwise.
    fn decide(&self, who: &Who<'_>, deny: bool, test: impl Fn(&[Level], &Who<'_>) -> bool) -> bool {
        if self.uses_user && who.user.is_none() {
            return false;
        }
        let unsafe_client = self.uses_client_id && !is_safe(who.client_id);
        let unsafe_user = self.uses_user && !who.user.is_some_and(is_safe);
        if unsafe_client || unsafe_user {
            return deny;
        }
        test(&self.levels, who)
    }
}

/// One level of a rule's filter.
#[derive(Debug)]
enum Level {
    /// Text to equal.
    Literal(Box<str>),
    /// `+`: any one level.
    Plus,
    /// `#`: this level and all below, or none.
    Hash,
    /// A pattern's level with `%c` or `%u` in it.
    Template(Vec<Part>),
}

impl Level {
    /// Whether `level` of a topic is this level, with `who` substituted. Wildcards match.
    fn accepts(&self, level: &str, who: &Who<'_>) -> bool {
        match self {
            Self::Literal(text) => **text == *level,
            Self::Plus | Self::Hash => true,
            Self::Template(parts) => {
                let mut rest = level;
                for part in parts {
                    let text = match part {
                        Part::Text(text) => text,
                        Part::ClientId => who.client_id,
                        Part::User => who.user.unwrap_or_default(),
                    };
                    let Some(after) = rest.strip_prefix(text) else {
                        return false;
                    };
                    rest = after;
                }
                rest.is_empty()
            }
        }
    }

    /// Whether this level, as the first of a filter, can match a topic whose first level
    /// starts with `$` (only text can).
    fn may_start_with_dollar(&self) -> bool {
        !matches!(self, Self::Plus | Self::Hash)
    }
}

/// A piece of a pattern's level.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    /// Text to equal.
    Text(Box<str>),
    /// `%c`: the Client Identifier.
    ClientId,
    /// `%u`: the User Name.
    User,
}

impl Part {
    /// Splits a pattern's level at each `%c` and `%u`.
    fn split(level: &str) -> Vec<Self> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = level.chars().peekable();
        while let Some(c) = chars.next() {
            let part = match (c, chars.peek()) {
                ('%', Some('c')) => Self::ClientId,
                ('%', Some('u')) => Self::User,
                _ => {
                    text.push(c);
                    continue;
                }
            };
            chars.next();
            if !text.is_empty() {
                parts.push(Self::Text(std::mem::take(&mut text).into()));
            }
            parts.push(part);
        }
        if !text.is_empty() {
            parts.push(Self::Text(text.into()));
        }
        parts
    }
}

/// Whether the rule `levels` matches `topic` (a Topic Name, no wildcards).
fn matches(levels: &[Level], topic: &str, who: &Who<'_>) -> bool {
    let mut topic_levels = topic.split('/');
    for (index, level) in levels.iter().enumerate() {
        if index == 0 && topic.starts_with('$') && !level.may_start_with_dollar() {
            return false;
        }
        if matches!(level, Level::Hash) {
            return true;
        }
        match topic_levels.next() {
            Some(name) if level.accepts(name, who) => {}
            _ => return false,
        }
    }
    topic_levels.next().is_none()
}

/// Whether the rule `levels` matches every topic `filter` matches.
fn covers(levels: &[Level], filter: &str, who: &Who<'_>) -> bool {
    let mut filter_levels = filter.split('/');
    for (index, level) in levels.iter().enumerate() {
        // The filter's topics start with `$` only if its first level is text with `$`.
        if index == 0 && filter.starts_with('$') && !level.may_start_with_dollar() {
            return false;
        }
        if matches!(level, Level::Hash) {
            return true;
        }
        let Some(wanted) = filter_levels.next() else {
            // The filter ends here, the rule goes on: the filter matches a shorter topic.
            return false;
        };
        let covered = match wanted {
            // Deeper than one level (or none): only a `#` of the rule covers it.
            "#" => false,
            // Any one level: only a `+` of the rule covers it.
            "+" => matches!(level, Level::Plus),
            name => level.accepts(name, who),
        };
        if !covered {
            return false;
        }
    }
    filter_levels.next().is_none()
}

/// Whether some topic matches both the rule `levels` and `filter`.
fn overlaps(levels: &[Level], filter: &str, who: &Who<'_>) -> bool {
    let mut filter_levels = filter.split('/');
    for (index, level) in levels.iter().enumerate() {
        let wanted = filter_levels.next();
        if index == 0 {
            // A wildcard in the first level never matches a topic starting with `$`.
            let rule_dollar = match level {
                Level::Literal(text) => Some(text.starts_with('$')),
                Level::Plus | Level::Hash => Some(false),
                // Depends on who: assume it may (a deny then errs on the safe side).
                Level::Template(_) => None,
            };
            let filter_dollar = match wanted {
                Some("+" | "#") => Some(false),
                Some(name) => Some(name.starts_with('$')),
                None => None,
            };
            if let (Some(rule), Some(filter)) = (rule_dollar, filter_dollar)
                && rule != filter
            {
                return false;
            }
        }
        match (level, wanted) {
            (Level::Hash, _) | (_, Some("#")) => return true,
            (_, None) => return false,
            (_, Some("+")) => {}
            (level, Some(name)) => {
                if !level.accepts(name, who) {
                    return false;
                }
            }
        }
    }
    // The rule ends here: the filter must too, or go on with a `#` that matches no level.
    matches!(filter_levels.next(), None | Some("#"))
}

/// The filter a subscription to `filter` receives: FILTER of `$share/GROUP/FILTER`.
fn unshare(filter: &str) -> &str {
    filter
        .strip_prefix("$share/")
        .and_then(|rest| rest.split_once('/'))
        .map_or(filter, |(_, inner)| inner)
}

/// Whether `value` can be put into a level without changing the filter's shape.
fn is_safe(value: &str) -> bool {
    !value.contains(['+', '#', '/'])
}

/// The first word of `text` and what follows it.
fn first_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    text.split_once(char::is_whitespace).unwrap_or((text, ""))
}

/// The error for line `number` of the file.
fn bad_line(number: usize, why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("line {number}: {why}"))
}
