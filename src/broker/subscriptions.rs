//! The subscription trie: which sessions a PUBLISH goes to.
//!
//! Every Topic Filter is a path of levels from the root: a literal level is a child looked up
//! by its text, `+` and `#` have a dedicated child each. A node holds the sessions subscribed
//! to the filter that ends there and, for `$share/{group}/{filter}`, one entry per share group
//! whose members take turns. Matching a topic walks its levels: at each node the literal
//! child of the next level and the `+` child go on, and the `#` child's subscribers match
//! whatever is left.
//!
//! # Complexity
//!
//! - [`matches`](Subscriptions::matches): one child lookup (`O(log c)` string comparisons,
//!   `c` the node's children) per visited node, plus one entry per match. The visited nodes
//!   are those whose filter prefix matches the topic's prefix: at most a literal and a `+`
//!   child per level, so it grows with the topic's depth and with how many filters match,
//!   never with the number of filters that do not. (Deliberately wide trees such as `+/+/+`
//!   beside `a/b/c` at every level double the branches per level, `2^depth` at worst.) It
//!   does not allocate once `out` and an internal stack have grown to their largest use.
//! - [`subscribe`](Subscriptions::subscribe) and [`unsubscribe`](Subscriptions::unsubscribe):
//!   one lookup per level, a binary search among the node's subscribers (kept sorted by key,
//!   so inserting one shifts the entries after it) and, on unsubscribe, pruning of the nodes
//!   left empty.
//!
//! # Memory
//!
//! Nodes live in an [`Arena`] of 1,024-node chunks and name each other by `u32` index; a
//! node is 72 bytes (on 64-bit targets), plus 24 bytes for its entry in its parent's child
//! list, plus 12 bytes per subscriber with a 4-byte key (capacities are grown exactly while
//! small). A level of up to 7 bytes is stored inside that entry ([`Label`]); a longer one
//! adds its bytes on the heap. A node with more than [`SPLIT_ABOVE`] literal children keeps
//! them in a `BTreeMap` instead of a sorted `Vec`, so one subscription among millions under
//! `clients/{id}` costs a logarithmic insert, not a shift of a million entries. Nodes left
//! empty by an unsubscribe are pruned at once: their allocations are freed and their slots
//! reused by the next subscribe; when the trie is empty the arena itself is released.
//! `benches/broker_match.rs` measures about 92 bytes per subscription at 1 M subscriptions.
//!
//! Where the time goes on a large trie is cache misses, one or more per visited node, so the
//! layout keeps what a lookup reads together: short labels inline in the child list (no
//! pointer to follow per comparison), the `+` and `#` children in the node itself.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::collections::btree_map;
use alloc::string::String;
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use core::mem;
use core::num::NonZeroU32;
use core::slice;

use crate::codec::Buffer;
use crate::packet::SubscriptionOptions;
use crate::property::SubscriptionId;
use crate::topic::{TopicFilter, parse_shared};

/// The index of the root in the arena.
const ROOT: usize = 0;

/// A node's literal children move from a sorted `Vec` to a `BTreeMap` above this many.
pub(super) const SPLIT_ABOVE: usize = 32;

/// ... and back to a sorted `Vec` below this many (lower, so that a node hovering around the
/// threshold does not convert on every change).
const MERGE_BELOW: usize = 16;

/// A node with at most this many literal children looks one up by a linear scan rather than
/// a binary search.
const LINEAR_UP_TO: usize = 4;

/// The trie has as many nodes as its limit allows, so the subscription (or retained
/// message) was not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrieFull;

/// One subscription that matched a topic, as [`Subscriptions::matches`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match<K> {
    /// The subscriber (a session).
    pub key: K,
    /// The subscription's options.
    pub options: SubscriptionOptions,
    /// The subscription's identifier, if it was given one (MQTT 5.0).
    pub id: Option<SubscriptionId>,
    /// Whether the match came through a shared subscription. A broker merges a session's
    /// overlapping non-shared matches into one delivery, but a shared match is a delivery of
    /// its own: a client with a shared and a non-shared subscription that both match may get
    /// the message twice (MQTT 5.0 §4.8.2).
    pub shared: bool,
    /// The share group of a shared match (`Some` exactly when `shared`): what a delivery
    /// remembers, so that [`Subscriptions::next_member`] can find the group again.
    pub group: Option<GroupId>,
}

/// A share group, named by a number the trie gives it when its first member joins and no
/// other group gets while it lives: 4 bytes a delivery can carry without allocating. A group
/// that goes with its last member takes its id with it; one that forms again on the same
/// filter and name has a new one. Ids count up to `u32::MAX` before any is used again, and
/// never while a group holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(NonZeroU32);

/// The subscription trie: Topic Filters and their subscribers, keyed by `K` (a session).
///
/// ```text
/// subscribe("a/+/c", s1)    root ── a ──┬── + ── c   {s1}
/// subscribe("a/b/#", s2)                └── b ── #   {s2}
/// subscribe("$share/g/a/b/#", s3)                    {s2; group g: [s3]}
/// matches("a/b/c") = [s2, s3 (one of group g), s1]
/// ```
#[derive(Debug)]
pub struct Subscriptions<K> {
    /// The nodes; the root is at [`ROOT`].
    nodes: Arena<Node<K>>,
    /// The subscriptions stored (share group members included).
    len: usize,
    /// The most nodes the trie may hold besides its root.
    max_nodes: usize,
    /// The `+` branches [`matches`](Self::matches) has yet to walk, kept to reuse its
    /// allocation: a node and the byte offset of the topic level that comes next (`None` once
    /// all are matched).
    stack: Vec<(usize, Option<usize>)>,
    /// The path of [`unsubscribe`](Self::unsubscribe), kept to reuse its allocation.
    path: Vec<usize>,
    /// Where each share group lives: the node of its filter. A node holding a group is never
    /// pruned, so its index stays valid while the group does.
    groups: BTreeMap<GroupId, u32>,
    /// The id the next group is given, unless a live group holds it.
    next_group: NonZeroU32,
}

impl<K: Copy + Ord> Subscriptions<K> {
    /// An empty trie that may grow to as many nodes as a `u32` index names.
    #[must_use]
    pub fn new() -> Self {
        Self::with_max_nodes(u32::MAX as usize)
    }

    /// An empty trie that holds at most `max_nodes` nodes besides its root (one per distinct
    /// filter level path): a bound on its memory that holds whatever sessions subscribe to.
    #[must_use]
    pub fn with_max_nodes(max_nodes: usize) -> Self {
        Self {
            nodes: Arena::new(),
            len: 0,
            max_nodes: max_nodes.min(u32::MAX as usize),
            stack: Vec::new(),
            path: Vec::new(),
            groups: BTreeMap::new(),
            next_group: NonZeroU32::MIN,
        }
    }

    /// How many subscriptions the trie holds (a member of a share group counts as one).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the trie holds no subscription.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many nodes the trie holds besides its root: one per distinct filter prefix.
    #[must_use]
    pub fn nodes(&self) -> usize {
        self.nodes.live()
    }

    /// Subscribes `key` to `filter`, or replaces its options and identifier if it already
    /// was subscribed to that very filter (3.1.1 and 5.0 `[MQTT-3.8.4-3]`); returns whether
    /// it replaced one.
    ///
    /// A well-formed `$share/{group}/{filter}` joins share group `group` on `filter`, as
    /// mosquitto does for every protocol version (MQTT 3.1.1 has no shared subscriptions and
    /// reads such a filter literally; a broker that wants that reading must not pass it
    /// here). A session is a member of a group once, whatever it re-subscribes with.
    ///
    /// # Errors
    ///
    /// [`TrieFull`] if the filter needs more nodes than the trie's limit leaves; nothing is
    /// changed then.
    pub fn subscribe<B: Buffer>(
        &mut self,
        filter: &TopicFilter<B>,
        key: K,
        options: SubscriptionOptions,
        id: Option<SubscriptionId>,
    ) -> Result<bool, TrieFull> {
        let (group, filter) = split_shared(filter.as_str());
        if self.nodes().saturating_add(self.missing_nodes(filter)) > self.max_nodes {
            return Err(TrieFull);
        }
        // Unreachable `None`: every node index in the trie names a slot, and the check above
        // leaves room for the nodes the path needs.
        let index = self.path_to(filter).ok_or(TrieFull)?;
        let new_group = match group {
            Some(name)
                if !self
                    .nodes
                    .get(index)
                    .is_some_and(|node| node.groups.iter().any(|g| *g.name == *name)) =>
            {
                Some(self.new_group_id(index))
            }
            _ => None,
        };
        let node = self.nodes.get_mut(index).ok_or(TrieFull)?;
        let entry = Entry { key, options, id };
        let replaced = match group {
            None => upsert(&mut node.subscribers, entry),
            Some(name) => {
                let at = match node.groups.iter().position(|g| *g.name == *name) {
                    Some(at) => at,
                    None => {
                        let mut groups = mem::take(&mut node.groups).into_vec();
                        groups.push(Group {
                            name: name.into(),
                            id: new_group.ok_or(TrieFull)?,
                            members: Vec::new(),
                            next: 0,
                        });
                        node.groups = groups.into_boxed_slice();
                        node.groups.len().saturating_sub(1)
                    }
                };
                let group = node.groups.get_mut(at).ok_or(TrieFull)?;
                upsert(&mut group.members, entry)
            }
        };
        if !replaced {
            self.len = self.len.saturating_add(1);
        }
        Ok(replaced)
    }

    /// Removes `key`'s subscription to `filter`, compared level by level with the filters
    /// subscribed, never matched as a pattern (3.1.1 and 5.0 `[MQTT-3.10.4-1]`); a
    /// `$share/{group}/{filter}` leaves that group. Returns whether there was one. Nodes left
    /// empty are pruned.
    pub fn unsubscribe(&mut self, filter: &str, key: K) -> bool {
        let (group, filter) = split_shared(filter);
        let mut path = mem::take(&mut self.path);
        path.clear();
        path.push(ROOT);
        let mut at = ROOT;
        for level in filter.split('/') {
            match self.nodes.get(at).and_then(|node| node.child(level)) {
                Some(child) => {
                    at = child.index();
                    path.push(at);
                }
                None => {
                    self.path = path;
                    return false;
                }
            }
        }
        let (removed, gone) = self
            .nodes
            .get_mut(at)
            .map_or((false, None), |node| node.remove(group, key));
        if let Some(gone) = gone {
            self.groups.remove(&gone);
        }
        if removed {
            self.len = self.len.saturating_sub(1);
            self.prune(&path, filter);
        }
        self.path = path;
        removed
    }

    /// The options and identifier of `key`'s subscription to `filter`, compared level by
    /// level as [`unsubscribe`](Self::unsubscribe) does (a `$share/{group}/{filter}` names
    /// its membership of that group), if it has one.
    #[must_use]
    pub fn get(
        &self,
        filter: &str,
        key: K,
    ) -> Option<(SubscriptionOptions, Option<SubscriptionId>)> {
        let (group, filter) = split_shared(filter);
        let mut at = ROOT;
        for level in filter.split('/') {
            at = self.nodes.get(at)?.child(level)?.index();
        }
        let node = self.nodes.get(at)?;
        let entries = match group {
            None => &node.subscribers,
            Some(name) => &node.groups.iter().find(|g| *g.name == *name)?.members,
        };
        let found = entries.binary_search_by(|probe| probe.key.cmp(&key)).ok()?;
        entries.get(found).map(|entry| (entry.options, entry.id))
    }

    /// How many sessions subscribe to exactly `filter`, compared level by level as
    /// [`unsubscribe`](Self::unsubscribe) does: for `$share/{group}/{filter}`, the members of
    /// that group. One lookup per level; no allocation.
    ///
    /// ```text
    /// subscribe("a/#", s1); subscribe("a/#", s2); subscribe("$share/g/a/#", s3)
    /// subscribers("a/#") = 2    subscribers("$share/g/a/#") = 1    subscribers("a/+") = 0
    /// ```
    #[must_use]
    pub fn subscribers(&self, filter: &str) -> usize {
        let (group, filter) = split_shared(filter);
        let mut at = ROOT;
        for level in filter.split('/') {
            match self.nodes.get(at).and_then(|node| node.child(level)) {
                Some(child) => at = child.index(),
                None => return 0,
            }
        }
        let Some(node) = self.nodes.get(at) else {
            return 0;
        };
        match group {
            None => node.subscribers.len(),
            Some(name) => node
                .groups
                .iter()
                .find(|g| *g.name == *name)
                .map_or(0, |g| g.members.len()),
        }
    }

    /// Pushes onto `out` every subscription whose filter matches `topic`: every non-shared
    /// one, and for each matching share group one member, taken in turn (round robin) among
    /// those `is_eligible` accepts (connected sessions, say), or the next in turn if it
    /// accepts none. A filter that starts with a wildcard does not match a topic that starts
    /// with `$` (3.1.1 and 5.0 `[MQTT-4.7.2-1]`). Levels are compared byte for byte, with no
    /// normalisation (`[MQTT-4.7.3-4]`).
    ///
    /// A session with several matching filters appears once per filter: the broker merges
    /// them. Takes `&mut self` for the share groups' turns; does not allocate once `out` has
    /// room (the module docs give the cost).
    #[inline]
    pub fn matches(
        &mut self,
        topic: &str,
        is_eligible: impl Fn(K) -> bool,
        out: &mut Vec<Match<K>>,
    ) {
        if !self.nodes.has_root() {
            return;
        }
        let system = topic.starts_with('$');
        let mut stack = mem::take(&mut self.stack);
        stack.clear();
        // The walk follows the literal child of each level in a loop of its own; only a `+`
        // child waits on the stack for its turn, so a trie without `+` on the topic's path
        // (the common case) never touches the stack.
        let mut next_walk = Some((ROOT, Some(0)));
        while let Some((start, start_rest)) = next_walk {
            let (mut index, mut rest) = (start, start_rest);
            while let Some(node) = self.nodes.get(index) {
                let Some(at) = rest else {
                    // Every level matched: the filter ending here matches, and so does `#`
                    // below it, which also matches its parent level (`sport/#` matches
                    // `sport`).
                    let hash = node.hash;
                    self.collect(index, &is_eligible, out);
                    if let Some(hash) = hash {
                        self.collect(hash.index(), &is_eligible, out);
                    }
                    break;
                };
                let tail = topic.get(at..).unwrap_or_default();
                // A byte search (`/` is ASCII), a word at a time.
                let (level, next) = match crate::codec::scan::find_byte(tail.as_bytes(), b'/') {
                    Some(end) => (
                        tail.get(..end).unwrap_or_default(),
                        Some(at.saturating_add(end).saturating_add(1)),
                    ),
                    None => (tail, None),
                };
                let child = node.children.get(level);
                // [MQTT-4.7.2-1]: no wildcard at the first level for a `$` topic.
                let wildcards = !(system && index == ROOT);
                if wildcards {
                    let (plus, hash) = (node.plus, node.hash);
                    if let Some(plus) = plus {
                        stack.push((plus.index(), next));
                    }
                    if let Some(hash) = hash {
                        self.collect(hash.index(), &is_eligible, out);
                    }
                }
                match child {
                    Some(child) => (index, rest) = (child.index(), next),
                    None => break,
                }
            }
            next_walk = stack.pop();
        }
        self.stack = stack;
    }

    /// The member of share group `group` whose turn it is, as a match of that group (the
    /// turn moves past it): the first from the turn onwards that `is_eligible` accepts, or,
    /// unless `only_eligible`, the one whose turn it is if it accepts none. `None` if the
    /// group is gone (its last member left), or if `only_eligible` and it accepts none.
    ///
    /// This is how a broker hands a delivery to another member when the member it went to
    /// leaves: a logarithmic lookup of the group, then the members in turn.
    pub fn next_member(
        &mut self,
        group: GroupId,
        is_eligible: impl Fn(K) -> bool,
        only_eligible: bool,
    ) -> Option<Match<K>> {
        let index = *self.groups.get(&group)?;
        let node = self.nodes.get_mut(index as usize)?;
        let found = node.groups.iter_mut().find(|g| g.id == group)?;
        if only_eligible && !found.members.iter().any(|entry| is_eligible(entry.key)) {
            return None;
        }
        found
            .take_turn(&is_eligible)
            .map(|entry| entry.to_match(Some(group)))
    }

    /// A new group's id, recorded as living at node `index`.
    fn new_group_id(&mut self, index: usize) -> GroupId {
        loop {
            let id = GroupId(self.next_group);
            self.next_group = self.next_group.checked_add(1).unwrap_or(NonZeroU32::MIN);
            if let btree_map::Entry::Vacant(vacant) = self.groups.entry(id) {
                vacant.insert(u32::try_from(index).unwrap_or(u32::MAX));
                return id;
            }
        }
    }

    /// Pushes the subscriptions of the filter that ends at `index`: every subscriber and one
    /// member per share group.
    #[inline]
    fn collect(&mut self, index: usize, is_eligible: &impl Fn(K) -> bool, out: &mut Vec<Match<K>>) {
        let Some(node) = self.nodes.get_mut(index) else {
            return;
        };
        out.extend(node.subscribers.iter().map(|entry| entry.to_match(None)));
        if node.groups.is_empty() {
            return;
        }
        for group in &mut node.groups {
            if let Some(entry) = group.take_turn(is_eligible) {
                out.push(entry.to_match(Some(group.id)));
            }
        }
    }

    /// How many nodes subscribing to `filter` (unshared) would add.
    fn missing_nodes(&self, filter: &str) -> usize {
        let mut at = Some(ROOT);
        let mut missing = 0usize;
        for level in filter.split('/') {
            at = at
                .and_then(|index| self.nodes.get(index))
                .and_then(|node| node.child(level))
                .map(NodeId::index);
            if at.is_none() {
                missing = missing.saturating_add(1);
            }
        }
        missing
    }

    /// The node where `filter` (unshared) ends, created with the nodes leading to it.
    fn path_to(&mut self, filter: &str) -> Option<usize> {
        self.nodes.ensure_root()?;
        let mut at = ROOT;
        for level in filter.split('/') {
            let child = match self.nodes.get(at)?.child(level) {
                Some(child) => child,
                None => {
                    let child = self.nodes.allocate()?;
                    self.nodes.get_mut(at)?.set_child(level, child);
                    child
                }
            };
            at = child.index();
        }
        Some(at)
    }

    /// Removes the nodes at the end of `path` (the nodes along `filter`, root first) that
    /// are left empty, deepest first.
    fn prune(&mut self, path: &[usize], filter: &str) {
        let mut levels = filter.rsplit('/');
        for pair in path.windows(2).rev() {
            let (Some(&parent), Some(&child), Some(level)) =
                (pair.first(), pair.get(1), levels.next())
            else {
                break;
            };
            if !self.nodes.get(child).is_some_and(Node::is_empty) {
                break;
            }
            if let Some(parent) = self.nodes.get_mut(parent) {
                parent.remove_child(level);
            }
            self.nodes.release(child);
        }
    }
}

impl<K: Copy + Ord> Default for Subscriptions<K> {
    fn default() -> Self {
        Self::new()
    }
}

/// The share group and the filter of a subscription: `$share/{group}/{filter}` when well
/// formed, the whole filter with no group otherwise.
fn split_shared(filter: &str) -> (Option<&str>, &str) {
    match parse_shared(filter) {
        Ok(Some(shared)) => (Some(shared.share_name), shared.filter),
        _ => (None, filter),
    }
}

/// The slots of an [`Arena`]'s chunks after the first (which grows to this size by
/// doubling, so that a small trie stays small).
const CHUNK: usize = 1024;

/// The nodes of a trie, named by index, in chunks of [`CHUNK`]: growing never moves (or
/// doubles) the nodes already there, so a large trie has at most one chunk of unused slots
/// and no insert stalls to copy the whole arena. A freed slot holds an empty node and is
/// reused first; when only the root is left, everything is released.
#[derive(Debug)]
pub(super) struct Arena<T> {
    /// The chunks; all but the last are full.
    chunks: Vec<Vec<T>>,
    /// The slots in use or free (the root's included).
    len: usize,
    /// Free slots, reused first.
    free: Vec<NodeId>,
}

impl<T: Default> Arena<T> {
    /// An arena without even a root.
    pub(super) const fn new() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
            free: Vec::new(),
        }
    }

    /// The node at `index`.
    pub(super) fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }

    /// The node at `index`, to change.
    pub(super) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.chunks.get_mut(index / CHUNK)?.get_mut(index % CHUNK)
    }

    /// Whether the root exists.
    pub(super) fn has_root(&self) -> bool {
        self.len > 0
    }

    /// Creates the root (at [`ROOT`]) if it does not exist.
    pub(super) fn ensure_root(&mut self) -> Option<()> {
        if self.len == 0 {
            self.push()?;
        }
        Some(())
    }

    /// A slot for a new, empty node (not the root's).
    pub(super) fn allocate(&mut self) -> Option<NodeId> {
        if let Some(id) = self.free.pop() {
            return Some(id);
        }
        let id = NodeId::new(self.len)?;
        self.push()?;
        Some(id)
    }

    /// Empties the (unlinked) node at `index`, freeing its allocations, and frees its slot.
    pub(super) fn release(&mut self, index: usize) {
        if let (Some(node), Some(id)) = (self.get_mut(index), NodeId::new(index)) {
            *node = T::default();
            self.free.push(id);
        }
        if self.live() == 0 {
            // Only the root is left: give everything back.
            *self = Self::new();
        }
    }

    /// The slots in use besides the root's.
    pub(super) fn live(&self) -> usize {
        self.len.saturating_sub(1).saturating_sub(self.free.len())
    }

    /// Every slot's node, free ones (empty) included.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// Appends an empty node.
    fn push(&mut self) -> Option<()> {
        if self.chunks.last().is_none_or(|chunk| chunk.len() >= CHUNK) {
            self.chunks.push(Vec::new());
        }
        let first = self.chunks.len() == 1;
        let chunk = self.chunks.last_mut()?;
        if chunk.len() == chunk.capacity() {
            // The first chunk doubles up to a whole one; the others are allocated whole.
            let room = if first { chunk.len().max(1) } else { CHUNK };
            chunk.reserve_exact(room.min(CHUNK.saturating_sub(chunk.len())));
        }
        chunk.push(T::default());
        self.len = self.len.saturating_add(1);
        Some(())
    }
}

/// The arena index of a node other than the root (which is never anyone's child), so that
/// `Option<NodeId>` takes 4 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct NodeId(NonZeroU32);

impl NodeId {
    /// The id of arena slot `index`; `None` for the root's slot or one past `u32::MAX`.
    pub(super) fn new(index: usize) -> Option<Self> {
        u32::try_from(index)
            .ok()
            .and_then(NonZeroU32::new)
            .map(Self)
    }

    /// The arena slot.
    pub(super) fn index(self) -> usize {
        usize::try_from(self.0.get()).unwrap_or(usize::MAX)
    }
}

/// The literal children of a trie node by their level's text: a sorted `Vec` while there are
/// few (compact, and a binary search is as fast as a map), a `BTreeMap` beyond
/// [`SPLIT_ABOVE`] (so that an insert among many does not shift them all).
#[derive(Debug)]
pub(super) enum Children {
    /// Sorted by label.
    Few(Vec<(Label, NodeId)>),
    /// More than [`SPLIT_ABOVE`] at some point, and not yet fewer than [`MERGE_BELOW`].
    #[allow(
        clippy::box_collection,
        reason = "boxed, the enum fits in the Vec's 24 bytes (its capacity's niche is the tag)"
    )]
    Many(Box<BTreeMap<Label, NodeId>>),
}

impl Default for Children {
    fn default() -> Self {
        Self::Few(Vec::new())
    }
}

impl Children {
    /// The child at `label`.
    #[inline]
    pub(super) fn get(&self, label: &str) -> Option<NodeId> {
        let label = label.as_bytes();
        match self {
            // A few: compared for equality one by one, which compares lengths before bytes.
            Self::Few(few) if few.len() <= LINEAR_UP_TO => few
                .iter()
                .find(|(key, _)| key.as_bytes() == label)
                .map(|&(_, id)| id),
            Self::Few(few) => few
                .binary_search_by(|(key, _)| key.as_bytes().cmp(label))
                .ok()
                .and_then(|at| few.get(at))
                .map(|&(_, id)| id),
            Self::Many(many) => many.get(label).copied(),
        }
    }

    /// Links `id` at `label`, replacing any child there.
    pub(super) fn insert(&mut self, label: &str, id: NodeId) {
        match self {
            Self::Few(few) => {
                match few.binary_search_by(|(key, _)| key.as_bytes().cmp(label.as_bytes())) {
                    Ok(at) => {
                        if let Some(entry) = few.get_mut(at) {
                            entry.1 = id;
                        }
                    }
                    Err(at) => {
                        grow_exact(few);
                        few.insert(at, (Label::new(label), id));
                    }
                }
                if few.len() > SPLIT_ABOVE {
                    *self = Self::Many(Box::new(mem::take(few).into_iter().collect()));
                }
            }
            Self::Many(many) => {
                many.insert(Label::new(label), id);
            }
        }
    }

    /// Unlinks the child at `label`.
    pub(super) fn remove(&mut self, label: &str) {
        let label = label.as_bytes();
        match self {
            Self::Few(few) => {
                if let Ok(at) = few.binary_search_by(|(key, _)| key.as_bytes().cmp(label)) {
                    few.remove(at);
                    if few.len() < few.capacity() / 4 {
                        few.shrink_to(few.len().saturating_mul(2));
                    }
                }
            }
            Self::Many(many) => {
                many.remove(label);
                if many.len() < MERGE_BELOW {
                    *self = Self::Few(mem::take(&mut **many).into_iter().collect());
                }
            }
        }
    }

    /// Whether there is no child.
    pub(super) fn is_empty(&self) -> bool {
        match self {
            Self::Few(few) => few.is_empty(),
            Self::Many(many) => many.is_empty(),
        }
    }

    /// The children, in label order, with their labels' bytes.
    pub(super) fn iter(&self) -> ChildrenIter<'_> {
        match self {
            Self::Few(few) => ChildrenIter::Few(few.iter()),
            Self::Many(many) => ChildrenIter::Many(many.iter()),
        }
    }
}

/// The iterator [`Children::iter`] returns.
#[derive(Debug)]
pub(super) enum ChildrenIter<'a> {
    /// Over a sorted `Vec`.
    Few(slice::Iter<'a, (Label, NodeId)>),
    /// Over a `BTreeMap`.
    Many(btree_map::Iter<'a, Label, NodeId>),
}

impl<'a> Iterator for ChildrenIter<'a> {
    type Item = (&'a [u8], NodeId);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Few(few) => few.next().map(|(label, id)| (label.as_bytes(), *id)),
            Self::Many(many) => many.next().map(|(label, id)| (label.as_bytes(), *id)),
        }
    }
}

/// The most bytes a [`Label`] holds inline.
const INLINE: usize = 7;

/// A level's text as a child key: up to [`INLINE`] bytes inline, longer on the heap, in 16
/// bytes either way (the `Box`'s non-null pointer is the tag).
///
/// Most levels are short (`site`, `device`, `42`), and inline they cost no allocation, and
/// comparing them during a lookup reads the key where it lies instead of following a pointer
/// to another cache line: on a trie too large for the cache, that is most of a match's time.
/// Ordered and compared by bytes, as `str` is.
pub(super) enum Label {
    /// `len` bytes of `bytes`.
    Inline {
        /// How many bytes of `bytes` are the label.
        len: u8,
        /// The label, then zeros.
        bytes: [u8; INLINE],
    },
    /// A longer label.
    Heap(Box<str>),
}

impl Label {
    /// The label `text`.
    pub(super) fn new(text: &str) -> Self {
        let source = text.as_bytes();
        match (u8::try_from(source.len()), source.len() <= INLINE) {
            (Ok(len), true) => {
                let mut bytes = [0; INLINE];
                for (to, from) in bytes.iter_mut().zip(source) {
                    *to = *from;
                }
                Self::Inline { len, bytes }
            }
            _ => Self::Heap(text.into()),
        }
    }

    /// The label's bytes (a whole `str`'s).
    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Self::Heap(text) => text.as_bytes(),
        }
    }
}

impl Borrow<[u8]> for Label {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for Label {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Label {}

impl PartialOrd for Label {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Label {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&String::from_utf8_lossy(self.as_bytes()), f)
    }
}

/// Grows a full `Vec` by its length (at least one) rather than to `Vec`'s minimum of four,
/// so that the many nodes with one child or one subscriber pay for one.
fn grow_exact<T>(vec: &mut Vec<T>) {
    if vec.len() == vec.capacity() {
        vec.reserve_exact(vec.len().max(1));
    }
}

/// One subscriber of a filter, or one member of a share group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry<K> {
    /// The session.
    key: K,
    /// Its options.
    options: SubscriptionOptions,
    /// Its Subscription Identifier.
    id: Option<SubscriptionId>,
}

impl<K: Copy> Entry<K> {
    /// The match this entry makes, through share group `group` if it is a member's.
    fn to_match(self, group: Option<GroupId>) -> Match<K> {
        Match {
            key: self.key,
            options: self.options,
            id: self.id,
            shared: group.is_some(),
            group,
        }
    }
}

/// Inserts `entry` into `entries` (sorted by key) or replaces the one with its key; returns
/// whether it replaced one.
fn upsert<K: Ord + Copy>(entries: &mut Vec<Entry<K>>, entry: Entry<K>) -> bool {
    match entries.binary_search_by(|probe| probe.key.cmp(&entry.key)) {
        Ok(at) => {
            if let Some(old) = entries.get_mut(at) {
                *old = entry;
            }
            true
        }
        Err(at) => {
            grow_exact(entries);
            entries.insert(at, entry);
            false
        }
    }
}

/// Removes the entry of `key` from `entries` (sorted by key); returns whether there was one.
fn remove_entry<K: Ord + Copy>(entries: &mut Vec<Entry<K>>, key: K) -> bool {
    let Ok(at) = entries.binary_search_by(|probe| probe.key.cmp(&key)) else {
        return false;
    };
    entries.remove(at);
    if entries.len() < entries.capacity() / 4 {
        entries.shrink_to(entries.len().saturating_mul(2));
    }
    true
}

/// A share group on one filter: its members take turns.
#[derive(Debug)]
struct Group<K> {
    /// The ShareName.
    name: Box<str>,
    /// Its id, which deliveries through it carry.
    id: GroupId,
    /// The members, sorted by key.
    members: Vec<Entry<K>>,
    /// The index of the member whose turn is next (modulo the number of members).
    next: usize,
}

impl<K: Copy> Group<K> {
    /// The member whose turn it is: the first from the turn onwards that `is_eligible`
    /// accepts, or the one whose turn it is if it accepts none. The turn moves past it.
    fn take_turn(&mut self, is_eligible: &impl Fn(K) -> bool) -> Option<Entry<K>> {
        let start = self.next.checked_rem(self.members.len())?;
        let (before, after) = self.members.split_at_checked(start)?;
        let chosen = after
            .iter()
            .position(|entry| is_eligible(entry.key))
            .map(|offset| start.saturating_add(offset))
            .or_else(|| before.iter().position(|entry| is_eligible(entry.key)))
            .unwrap_or(start);
        self.next = chosen.wrapping_add(1);
        self.members.get(chosen).copied()
    }
}

/// A node of the trie: the filter that ends here and the ways on.
#[derive(Debug)]
struct Node<K> {
    /// Literal next levels.
    children: Children,
    /// The `+` next level.
    plus: Option<NodeId>,
    /// The `#` next level (a node with subscribers only).
    hash: Option<NodeId>,
    /// The sessions subscribed to the filter ending here, sorted by key.
    subscribers: Vec<Entry<K>>,
    /// The share groups on the filter ending here (a boxed slice, 8 bytes smaller than a
    /// `Vec` in every node, for the few nodes that have any).
    groups: Box<[Group<K>]>,
}

impl<K> Default for Node<K> {
    fn default() -> Self {
        Self {
            children: Children::default(),
            plus: None,
            hash: None,
            subscribers: Vec::new(),
            groups: Box::default(),
        }
    }
}

impl<K: Copy + Ord> Node<K> {
    /// The child at filter level `level`.
    fn child(&self, level: &str) -> Option<NodeId> {
        match level {
            "+" => self.plus,
            "#" => self.hash,
            literal => self.children.get(literal),
        }
    }

    /// Links `child` at filter level `level`.
    fn set_child(&mut self, level: &str, child: NodeId) {
        match level {
            "+" => self.plus = Some(child),
            "#" => self.hash = Some(child),
            literal => self.children.insert(literal, child),
        }
    }

    /// Unlinks the child at filter level `level`.
    fn remove_child(&mut self, level: &str) {
        match level {
            "+" => self.plus = None,
            "#" => self.hash = None,
            literal => self.children.remove(literal),
        }
    }

    /// Removes `key` as a subscriber, or as a member of share group `group`; returns whether
    /// it was one, and the id of the group if it went (a group left without members goes).
    fn remove(&mut self, group: Option<&str>, key: K) -> (bool, Option<GroupId>) {
        let Some(name) = group else {
            return (remove_entry(&mut self.subscribers, key), None);
        };
        let Some(at) = self.groups.iter().position(|g| *g.name == *name) else {
            return (false, None);
        };
        let Some(group) = self.groups.get_mut(at) else {
            return (false, None);
        };
        let removed = remove_entry(&mut group.members, key);
        let mut gone = None;
        if group.members.is_empty() {
            gone = Some(group.id);
            let mut groups = mem::take(&mut self.groups).into_vec();
            groups.swap_remove(at);
            self.groups = groups.into_boxed_slice();
        }
        (removed, gone)
    }

    /// Whether nothing ends here and nothing goes on from here.
    fn is_empty(&self) -> bool {
        self.subscribers.is_empty()
            && self.groups.is_empty()
            && self.plus.is_none()
            && self.hash.is_none()
            && self.children.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeSet;
    use alloc::string::String;
    use alloc::vec;

    use proptest::prelude::*;

    use super::*;
    use crate::topic::matches as filter_matches;
    use crate::types::QoS;

    type Filter = TopicFilter<&'static [u8]>;

    fn filter(text: &'static str) -> Filter {
        Filter::new(text).unwrap()
    }

    fn options(qos: QoS) -> SubscriptionOptions {
        SubscriptionOptions::new(qos)
    }

    fn id(value: u32) -> Option<SubscriptionId> {
        SubscriptionId::new(value)
    }

    /// A trie with `key` subscribed at QoS 0 to each of `filters` (key = position).
    fn trie(filters: &[&'static str]) -> Subscriptions<u32> {
        let mut trie = Subscriptions::new();
        for (key, text) in (0u32..).zip(filters) {
            assert_eq!(
                trie.subscribe(&filter(text), key, options(QoS::AtMostOnce), None),
                Ok(false)
            );
        }
        trie
    }

    fn matched(trie: &mut Subscriptions<u32>, topic: &str) -> Vec<Match<u32>> {
        let mut out = Vec::new();
        trie.matches(topic, |_| true, &mut out);
        out.sort_by_key(|m| (m.key, m.shared, m.id));
        out
    }

    /// The keys of the subscriptions that match `topic`, sorted.
    fn keys(trie: &mut Subscriptions<u32>, topic: &str) -> Vec<u32> {
        matched(trie, topic).iter().map(|m| m.key).collect()
    }

    /// `subscribers` counts the sessions of one filter exactly, a share group's members apart
    /// from the filter's own subscribers, and drops to zero when the last one leaves.
    #[test]
    fn subscribers_counts_one_filter_exactly() {
        let mut trie = Subscriptions::new();
        for key in [1u32, 2] {
            trie.subscribe(&filter("a/#"), key, options(QoS::AtMostOnce), None)
                .unwrap();
        }
        trie.subscribe(&filter("$share/g/a/#"), 3, options(QoS::AtMostOnce), None)
            .unwrap();
        assert_eq!(trie.subscribers("a/#"), 2);
        assert_eq!(trie.subscribers("$share/g/a/#"), 1);
        assert_eq!(trie.subscribers("$share/h/a/#"), 0);
        assert_eq!(trie.subscribers("a/+"), 0);
        assert_eq!(trie.subscribers("a"), 0);
        assert!(trie.unsubscribe("a/#", 1));
        assert_eq!(trie.subscribers("a/#"), 1);
        assert!(trie.unsubscribe("a/#", 2));
        assert_eq!(trie.subscribers("a/#"), 0);
        assert_eq!(trie.subscribers("$share/g/a/#"), 1);
        assert!(trie.unsubscribe("$share/g/a/#", 3));
        assert_eq!(trie.subscribers("$share/g/a/#"), 0);
    }

    /// Section 4.7.1.2's examples of `#`, including that it matches its parent level.
    ///
    /// (3.1.1 and 5.0 §4.7.1.2.)
    #[test]
    fn multi_level_wildcard_matches_the_spec_examples() {
        let mut trie = trie(&["sport/tennis/player1/#", "sport/#", "#"]);
        for topic in [
            "sport/tennis/player1",
            "sport/tennis/player1/ranking",
            "sport/tennis/player1/score/wimbledon",
        ] {
            assert_eq!(keys(&mut trie, topic), [0, 1, 2], "{topic}");
        }
        assert_eq!(keys(&mut trie, "sport"), [1, 2]);
        assert_eq!(keys(&mut trie, "sport/tennis"), [1, 2]);
        assert_eq!(keys(&mut trie, "sports"), [2]);
        assert_eq!(keys(&mut trie, "/sport"), [2]);
    }

    /// Section 4.7.1.3's examples of `+`.
    ///
    /// (3.1.1 and 5.0 §4.7.1.3.)
    #[test]
    fn single_level_wildcard_matches_the_spec_examples() {
        let mut trie = trie(&["sport/tennis/+", "sport/+", "+/+", "/+", "+", "+/tennis/#"]);
        assert_eq!(keys(&mut trie, "sport/tennis/player1"), [0, 5]);
        assert_eq!(keys(&mut trie, "sport/tennis/player2"), [0, 5]);
        assert_eq!(keys(&mut trie, "sport/tennis/player1/ranking"), [5]);
        assert_eq!(keys(&mut trie, "sport"), [4]);
        assert_eq!(keys(&mut trie, "sport/"), [1, 2]);
        assert_eq!(keys(&mut trie, "/finance"), [2, 3]);
        assert_eq!(keys(&mut trie, "sport/tennis"), [1, 2, 5]);
    }

    /// Section 4.7.2: a leading wildcard does not match a `$` topic, even inside a shared
    /// subscription; a filter that names the `$` level does.
    ///
    /// conformance: v311:MQTT-4.7.2-1, v5:MQTT-4.7.2-1
    #[test]
    fn leading_wildcards_do_not_match_dollar_topics() {
        let mut trie = trie(&[
            "#",
            "+/monitor/Clients",
            "$SYS/#",
            "$SYS/monitor/+",
            "$share/g/#",
            "+",
        ]);
        assert_eq!(keys(&mut trie, "$SYS/monitor/Clients"), [2, 3]);
        assert_eq!(keys(&mut trie, "$SYS"), [2]);
        assert_eq!(keys(&mut trie, "$"), Vec::<u32>::new());
        assert_eq!(keys(&mut trie, "a/monitor/Clients"), [0, 1, 4]);
        // Only the first level counts: `$` further down is an ordinary character.
        assert_eq!(keys(&mut trie, "a/$SYS"), [0, 4]);
        assert_eq!(keys(&mut trie, "SYS"), [0, 4, 5]);
    }

    /// Section 4.7.3: levels are compared byte for byte: case, spaces and a leading `/`
    /// count, and nothing is normalised.
    ///
    /// conformance: v311:MQTT-4.7.3-4, v5:MQTT-4.7.3-4
    #[test]
    fn levels_are_compared_exactly() {
        let mut trie = trie(&["ACCOUNTS", "Accounts payable", "/finance", "caf\u{e9}"]);
        assert_eq!(keys(&mut trie, "ACCOUNTS"), [0]);
        assert_eq!(keys(&mut trie, "Accounts"), Vec::<u32>::new());
        assert_eq!(keys(&mut trie, "Accounts payable"), [1]);
        assert_eq!(keys(&mut trie, "finance"), Vec::<u32>::new());
        assert_eq!(keys(&mut trie, "/finance"), [2]);
        // The same text decomposed (e + combining acute) is another topic.
        assert_eq!(keys(&mut trie, "cafe\u{301}"), Vec::<u32>::new());
        assert_eq!(keys(&mut trie, "caf\u{e9}"), [3]);
    }

    /// Subscribing again to the same filter replaces the options and identifier: one
    /// subscription, not two.
    ///
    /// conformance: v5:MQTT-3.8.4-3
    #[test]
    fn resubscribing_replaces_the_subscription() {
        let mut trie = Subscriptions::new();
        let a = filter("a/+");
        assert_eq!(
            trie.subscribe(&a, 7, options(QoS::AtMostOnce), id(1)),
            Ok(false)
        );
        assert_eq!(
            trie.subscribe(&a, 7, options(QoS::ExactlyOnce), id(2)),
            Ok(true)
        );
        assert_eq!(
            trie.subscribe(&a, 8, options(QoS::AtLeastOnce), None),
            Ok(false)
        );
        assert_eq!(trie.len(), 2);
        assert_eq!(
            matched(&mut trie, "a/b"),
            [
                Match {
                    key: 7,
                    options: options(QoS::ExactlyOnce),
                    id: id(2),
                    shared: false,
                    group: None
                },
                Match {
                    key: 8,
                    options: options(QoS::AtLeastOnce),
                    id: None,
                    shared: false,
                    group: None
                },
            ]
        );
    }

    /// A session with overlapping filters is reported once per filter, each with its own
    /// options and identifier, for the broker to merge.
    #[test]
    fn overlapping_filters_each_report_their_subscription() {
        let mut trie = Subscriptions::new();
        trie.subscribe(&filter("a/+"), 1, options(QoS::AtMostOnce), id(10))
            .unwrap();
        trie.subscribe(&filter("a/#"), 1, options(QoS::AtLeastOnce), id(11))
            .unwrap();
        trie.subscribe(&filter("a/b"), 1, options(QoS::ExactlyOnce), None)
            .unwrap();
        let found: BTreeSet<_> = matched(&mut trie, "a/b")
            .into_iter()
            .map(|m| (m.key, m.options.qos, m.id))
            .collect();
        let expected: BTreeSet<_> = [
            (1, QoS::AtMostOnce, id(10)),
            (1, QoS::AtLeastOnce, id(11)),
            (1, QoS::ExactlyOnce, None),
        ]
        .into_iter()
        .collect();
        assert_eq!(found, expected);
    }

    /// Unsubscribe compares the filter as text, not as a pattern, and only removes the
    /// given session's subscription.
    ///
    /// conformance: v311:MQTT-3.10.4-1, v5:MQTT-3.10.4-1
    #[test]
    fn unsubscribe_compares_filters_exactly() {
        let mut trie = trie(&["a/+", "a/b", "a/#"]);
        assert!(!trie.unsubscribe("a/b", 0));
        assert!(!trie.unsubscribe("a/c", 1));
        assert!(!trie.unsubscribe("+/b", 1));
        assert!(!trie.unsubscribe("$share/g/a/b", 1));
        assert!(trie.unsubscribe("a/b", 1));
        assert!(!trie.unsubscribe("a/b", 1));
        assert_eq!(trie.len(), 2);
        assert_eq!(keys(&mut trie, "a/b"), [0, 2]);
        assert!(trie.unsubscribe("a/#", 2));
        assert_eq!(keys(&mut trie, "a/b"), [0]);
    }

    /// Unsubscribing prunes the nodes left empty and keeps those still in use; when the
    /// last subscription goes, the arena is released.
    #[test]
    fn unsubscribe_prunes_empty_nodes() {
        let mut trie = trie(&["a/b/c", "a/b", "a/+/#", "$share/g/a/b/c/d"]);
        // a, a/b, a/b/c, a/b/c/d, a/+, a/+/#
        assert_eq!(trie.nodes(), 6);
        assert!(trie.unsubscribe("$share/g/a/b/c/d", 3));
        assert_eq!(trie.nodes(), 5);
        assert!(trie.unsubscribe("a/b/c", 0));
        assert_eq!(trie.nodes(), 4); // a, b, +, #
        assert!(trie.unsubscribe("a/+/#", 2));
        assert_eq!(trie.nodes(), 2);
        assert_eq!(keys(&mut trie, "a/b"), [1]);
        assert!(trie.unsubscribe("a/b", 1));
        assert_eq!((trie.len(), trie.nodes()), (0, 0));
        assert_eq!(trie.nodes.chunks.capacity(), 0);
        assert_eq!(trie.nodes.free.capacity(), 0);
        // And it works again from empty.
        trie.subscribe(&filter("x"), 5, options(QoS::AtMostOnce), None)
            .unwrap();
        assert_eq!(keys(&mut trie, "x"), [5]);
    }

    /// Freed slots are reused before the arena grows.
    #[test]
    fn freed_nodes_are_reused() {
        let mut trie = trie(&["keep", "a/b/c"]);
        let slots = trie.nodes.len;
        assert!(trie.unsubscribe("a/b/c", 1));
        assert_eq!(trie.nodes.free.len(), 3);
        trie.subscribe(&filter("x/y/z"), 2, options(QoS::AtMostOnce), None)
            .unwrap();
        assert_eq!(trie.nodes.len, slots);
        assert!(trie.nodes.free.is_empty());
        assert_eq!(keys(&mut trie, "x/y/z"), [2]);
        assert_eq!(keys(&mut trie, "a/b/c"), Vec::<u32>::new());
    }

    /// A node with many children keeps them in a map, and goes back to a list when most
    /// are gone; lookups work in both.
    #[test]
    fn many_children_move_to_a_map_and_back() {
        let mut trie = Subscriptions::new();
        let names: Vec<String> = (0..100).map(|n| alloc::format!("c/{n}")).collect();
        for (key, name) in (0u32..).zip(&names) {
            let f = TopicFilter::<&[u8]>::new(name.as_str()).unwrap();
            trie.subscribe(&f, key, options(QoS::AtMostOnce), None)
                .unwrap();
        }
        let c = trie.nodes.get(ROOT).unwrap().children.get("c").unwrap();
        let c = c.index();
        assert!(matches!(
            trie.nodes.get(c).unwrap().children,
            Children::Many(_)
        ));
        for (key, name) in (0u32..).zip(&names) {
            assert_eq!(keys(&mut trie, name), [key]);
        }
        for (key, name) in (0u32..).zip(&names).skip(10) {
            assert!(trie.unsubscribe(name, key));
        }
        assert!(matches!(
            trie.nodes.get(c).unwrap().children,
            Children::Few(_)
        ));
        for (key, name) in (0u32..).zip(&names) {
            let expected = if key < 10 { vec![key] } else { Vec::new() };
            assert_eq!(keys(&mut trie, name), expected);
        }
        for (key, name) in (0u32..).zip(&names).take(10) {
            assert!(trie.unsubscribe(name, key));
        }
        assert_eq!(trie.nodes(), 0);
    }

    /// A share group delivers each message to one member, in turn, beside the non-shared
    /// subscribers of the same filter, and each delivery carries the chosen member's own
    /// options and identifier.
    ///
    /// (This gives the broker what 5.0 `MQTT-4.8.2-3` needs: the chosen member's granted QoS.)
    #[test]
    fn share_group_members_take_turns() {
        let mut trie = Subscriptions::new();
        let shared = filter("$share/g/a/+");
        for key in [3u32, 1, 2] {
            trie.subscribe(&shared, key, options(QoS::AtLeastOnce), id(key))
                .unwrap();
        }
        trie.subscribe(&filter("a/+"), 9, options(QoS::ExactlyOnce), None)
            .unwrap();
        assert_eq!(trie.len(), 4);
        let mut chosen = Vec::new();
        for _ in 0..6 {
            let found = matched(&mut trie, "a/x");
            assert_eq!(found.len(), 2, "{found:?}");
            let (shared, own): (Vec<_>, Vec<_>) = found.into_iter().partition(|m| m.shared);
            assert_eq!(own.iter().map(|m| m.key).collect::<Vec<_>>(), [9]);
            let [member] = shared[..] else {
                panic!("one member: {shared:?}")
            };
            assert_eq!(member.id, id(member.key));
            assert_eq!(member.options, options(QoS::AtLeastOnce));
            chosen.push(member.key);
        }
        assert_eq!(chosen, [1, 2, 3, 1, 2, 3]);
    }

    /// The turn skips members the broker does not accept (disconnected sessions), and falls
    /// back to the member whose turn it is when it accepts none.
    #[test]
    fn share_group_prefers_eligible_members() {
        let mut trie = Subscriptions::new();
        let shared = filter("$share/g/t");
        for key in 1u32..=4 {
            trie.subscribe(&shared, key, options(QoS::AtMostOnce), None)
                .unwrap();
        }
        let pick = |trie: &mut Subscriptions<u32>, eligible: &[u32]| {
            let mut out = Vec::new();
            trie.matches("t", |key| eligible.contains(&key), &mut out);
            assert_eq!(out.len(), 1, "{out:?}");
            out[0].key
        };
        let turns: Vec<u32> = (0..4).map(|_| pick(&mut trie, &[2, 4])).collect();
        assert_eq!(turns, [2, 4, 2, 4]);
        assert_eq!(pick(&mut trie, &[3]), 3);
        // Nobody eligible: still one member, in turn.
        let turns: Vec<u32> = (0..4).map(|_| pick(&mut trie, &[])).collect();
        assert_eq!(turns, [4, 1, 2, 3]);
    }

    /// A shared match names its group; the group's id finds its next member, in turn with
    /// the matches, eligible first (or none at all with `only_eligible`), until the group
    /// goes with its last member: a group formed again on the same filter has a new id.
    #[test]
    fn share_group_id_finds_the_next_member_until_the_group_goes() {
        let mut trie = Subscriptions::new();
        let shared = filter("$share/g/t");
        for key in 1u32..=3 {
            trie.subscribe(&shared, key, options(QoS::AtLeastOnce), id(key))
                .unwrap();
        }
        trie.subscribe(&filter("t"), 9, options(QoS::AtMostOnce), None)
            .unwrap();
        let found = matched(&mut trie, "t");
        let plain = found.iter().find(|m| !m.shared).unwrap();
        assert_eq!(plain.group, None);
        let member = found.iter().find(|m| m.shared).unwrap();
        assert_eq!(member.key, 1);
        let group = member.group.unwrap();
        let next = trie.next_member(group, |_| true, false).unwrap();
        assert_eq!((next.key, next.id, next.group), (2, id(2), Some(group)));
        assert_eq!(
            trie.next_member(group, |key| key == 1, true).unwrap().key,
            1
        );
        assert_eq!(trie.next_member(group, |_| false, true), None);
        assert_eq!(trie.next_member(group, |_| false, false).unwrap().key, 2);
        for key in 1u32..=3 {
            assert!(trie.unsubscribe("$share/g/t", key));
        }
        assert_eq!(trie.next_member(group, |_| true, false), None);
        trie.subscribe(&shared, 4, options(QoS::AtLeastOnce), None)
            .unwrap();
        let again = matched(&mut trie, "t")
            .into_iter()
            .find(|m| m.shared)
            .unwrap();
        assert_ne!(again.group, Some(group));
        assert_eq!(
            trie.next_member(again.group.unwrap(), |_| true, false)
                .unwrap()
                .key,
            4
        );
    }

    /// Two groups on one filter each deliver once; a session in both gets both; leaving a
    /// group is by its full shared filter, and the group goes with its last member.
    #[test]
    fn share_groups_are_independent() {
        let mut trie = Subscriptions::new();
        trie.subscribe(&filter("$share/g/t"), 1, options(QoS::AtMostOnce), None)
            .unwrap();
        trie.subscribe(&filter("$share/h/t"), 1, options(QoS::AtMostOnce), None)
            .unwrap();
        trie.subscribe(&filter("$share/h/t"), 2, options(QoS::AtMostOnce), None)
            .unwrap();
        // Re-joining a group replaces the membership.
        assert_eq!(
            trie.subscribe(&filter("$share/h/t"), 2, options(QoS::AtLeastOnce), None),
            Ok(true)
        );
        assert_eq!(trie.len(), 3);
        let found = matched(&mut trie, "t");
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|m| m.shared));
        assert!(!trie.unsubscribe("t", 1));
        assert!(!trie.unsubscribe("$share/x/t", 1));
        assert!(trie.unsubscribe("$share/g/t", 1));
        assert!(trie.unsubscribe("$share/h/t", 1));
        assert_eq!(keys(&mut trie, "t"), [2]);
        assert!(trie.unsubscribe("$share/h/t", 2));
        assert_eq!((trie.len(), trie.nodes()), (0, 0));
    }

    /// A malformed `$share` filter is an ordinary filter, matched literally.
    #[test]
    fn malformed_share_filters_are_literal() {
        let mut trie = trie(&["$share/g", "$sharex/g/t"]);
        assert_eq!(keys(&mut trie, "$share/g"), [0]);
        assert_eq!(keys(&mut trie, "$sharex/g/t"), [1]);
        assert_eq!(keys(&mut trie, "t"), Vec::<u32>::new());
    }

    /// The node limit refuses a filter that needs more nodes and changes nothing; one that
    /// reuses existing nodes still fits.
    #[test]
    fn node_limit_refuses_and_changes_nothing() {
        let mut trie = Subscriptions::with_max_nodes(3);
        let opts = options(QoS::AtMostOnce);
        assert_eq!(trie.subscribe(&filter("a/b/c"), 1, opts, None), Ok(false));
        assert_eq!(
            trie.subscribe(&filter("a/b/d"), 1, opts, None),
            Err(TrieFull)
        );
        assert_eq!(trie.subscribe(&filter("a/b"), 1, opts, None), Ok(false));
        assert_eq!(
            trie.subscribe(&filter("$share/g/a"), 2, opts, None),
            Ok(false)
        );
        assert_eq!((trie.len(), trie.nodes()), (3, 3));
        assert_eq!(keys(&mut trie, "a/b/d"), Vec::<u32>::new());
        assert!(trie.unsubscribe("a/b/c", 1));
        assert_eq!(trie.subscribe(&filter("a/b/d"), 1, opts, None), Ok(false));
    }

    /// A node stays at 72 bytes on 64-bit targets: the figure the module docs give, and
    /// most of the trie's memory with one subscription per node.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn nodes_stay_small() {
        assert_eq!(size_of::<Node<u32>>(), 72);
        assert_eq!(size_of::<Children>(), 24);
        assert_eq!(size_of::<Entry<u32>>(), 12);
        assert_eq!(size_of::<(Label, NodeId)>(), 24);
    }

    /// Labels up to seven bytes live inline, longer ones on the heap, and either way they
    /// order as their text does (the order the children's binary search relies on).
    #[test]
    fn labels_inline_short_text_and_order_as_text() {
        assert!(matches!(Label::new(""), Label::Inline { len: 0, .. }));
        assert!(matches!(
            Label::new("sensor7"),
            Label::Inline { len: 7, .. }
        ));
        assert!(matches!(Label::new("sensor42"), Label::Heap(_)));
        assert!(matches!(
            Label::new("\u{e9}t\u{e9}"),
            Label::Inline { len: 5, .. }
        ));
        let texts = [
            "",
            "a",
            "a\u{1}",
            "ab",
            "abcdefg",
            "abcdefgh",
            "abcdefg\u{1}",
            "b",
            "\u{e9}",
        ];
        for a in texts {
            assert_eq!(Label::new(a).as_bytes(), a.as_bytes());
            for b in texts {
                assert_eq!(Label::new(a).cmp(&Label::new(b)), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    /// The arena doubles its first chunk up to [`CHUNK`] slots, then adds whole chunks
    /// without moving the nodes already there; indices work across chunks, freed slots are
    /// reused, and releasing the last node gives everything back.
    #[test]
    fn arena_grows_in_chunks() {
        let mut arena = Arena::<u64>::new();
        arena.ensure_root().unwrap();
        assert_eq!(arena.chunks[0].capacity(), 1);
        let ids: Vec<NodeId> = (0..3000).map(|_| arena.allocate().unwrap()).collect();
        assert_eq!(arena.live(), 3000);
        assert_eq!(arena.chunks.len(), 3);
        assert!(arena.chunks.iter().all(|chunk| chunk.capacity() == CHUNK));
        for (value, id) in (1u64..).zip(&ids) {
            *arena.get_mut(id.index()).unwrap() = value;
        }
        for (value, id) in (1u64..).zip(&ids) {
            assert_eq!(arena.get(id.index()), Some(&value));
        }
        assert_eq!(arena.get(3001), None);
        arena.release(ids[1500].index());
        assert_eq!(arena.get(ids[1500].index()), Some(&0));
        assert_eq!(arena.allocate(), Some(ids[1500]));
        for id in &ids {
            arena.release(id.index());
        }
        assert_eq!(
            (arena.live(), arena.chunks.capacity(), arena.has_root()),
            (0, 0, false)
        );
    }

    /// An empty trie matches nothing; an empty level is a level like any other.
    #[test]
    fn empty_levels_and_empty_trie() {
        let mut trie = Subscriptions::<u32>::new();
        assert_eq!(keys(&mut trie, "a"), Vec::<u32>::new());
        let mut trie = trie_of_empty_levels();
        assert_eq!(keys(&mut trie, "/"), [0, 1]);
        assert_eq!(keys(&mut trie, "//"), [1, 2]);
        assert_eq!(keys(&mut trie, "a/"), [1]);
    }

    fn trie_of_empty_levels() -> Subscriptions<u32> {
        trie(&["/", "+/#", "//"])
    }

    /// One operation of the model-based test.
    #[derive(Clone, Debug)]
    enum Op {
        Subscribe {
            filter: String,
            key: u32,
            qos: QoS,
            id: Option<u32>,
        },
        Unsubscribe {
            filter: String,
            key: u32,
        },
        Match {
            topic: String,
            eligible: u8,
        },
    }

    fn level() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["a", "b", "", "$x"])
    }

    fn topic() -> impl Strategy<Value = String> {
        // A Topic Name is never empty: a single empty level becomes `/`, two of them.
        prop::collection::vec(level(), 1..5).prop_map(|levels| match levels.join("/") {
            topic if topic.is_empty() => String::from("/"),
            topic => topic,
        })
    }

    fn any_filter() -> impl Strategy<Value = String> {
        let levels = prop::collection::vec(prop_oneof![3 => level(), 1 => Just("+")], 0..4);
        let share = prop::option::weighted(0.25, prop::sample::select(vec!["g", "h"]));
        (levels, any::<bool>(), share).prop_map(|(mut levels, hash, share)| {
            if hash || levels.is_empty() {
                levels.push("#");
            }
            let mut inner = levels.join("/");
            if inner.is_empty() {
                inner.push('#');
            }
            match share {
                Some(group) => alloc::format!("$share/{group}/{inner}"),
                None => inner,
            }
        })
    }

    fn op() -> impl Strategy<Value = Op> {
        let qos = prop::sample::select(vec![QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]);
        prop_oneof![
            3 => (any_filter(), 0u32..4, qos, prop::option::of(1u32..4))
                .prop_map(|(filter, key, qos, id)| Op::Subscribe { filter, key, qos, id }),
            1 => (any_filter(), 0u32..4).prop_map(|(filter, key)| Op::Unsubscribe { filter, key }),
            3 => (topic(), any::<u8>()).prop_map(|(topic, eligible)| Op::Match { topic, eligible }),
        ]
    }

    /// The naive reference: a list of subscriptions, each filter checked with
    /// `topic::matches`.
    #[derive(Default)]
    struct Reference {
        /// (filter as given, key) → (options, id).
        subscriptions: BTreeMap<(String, u32), (SubscriptionOptions, Option<SubscriptionId>)>,
    }

    impl Reference {
        fn subscribe(
            &mut self,
            filter: &str,
            key: u32,
            value: (SubscriptionOptions, Option<SubscriptionId>),
        ) -> bool {
            self.subscriptions
                .insert((filter.into(), key), value)
                .is_some()
        }

        fn unsubscribe(&mut self, filter: &str, key: u32) -> bool {
            self.subscriptions.remove(&(filter.into(), key)).is_some()
        }

        /// The non-shared matches, sorted, and the matching groups as (group, inner filter)
        /// → members.
        #[allow(clippy::type_complexity)]
        fn matches(
            &self,
            topic: &str,
        ) -> (
            Vec<(u32, SubscriptionOptions, Option<SubscriptionId>)>,
            BTreeMap<(&str, &str), Vec<(u32, SubscriptionOptions, Option<SubscriptionId>)>>,
        ) {
            let mut own = Vec::new();
            let mut groups: BTreeMap<_, Vec<_>> = BTreeMap::new();
            for ((filter, key), (options, id)) in &self.subscriptions {
                match parse_shared(filter) {
                    Ok(Some(shared)) => {
                        if filter_matches(shared.filter, topic) {
                            groups
                                .entry((shared.share_name, shared.filter))
                                .or_default()
                                .push((*key, *options, *id));
                        }
                    }
                    _ => {
                        if filter_matches(filter, topic) {
                            own.push((*key, *options, *id));
                        }
                    }
                }
            }
            own.sort_by_key(|&(key, options, id)| (key, options.to_byte(), id));
            (own, groups)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Random subscribes, unsubscribes and matches give the naive reference's results:
        /// the same non-shared matches, and one member of each matching share group, an
        /// eligible one whenever the group has one; unsubscribing everything empties the
        /// trie.
        ///
        /// conformance: v311:MQTT-4.7.2-1, v5:MQTT-4.7.2-1, v5:MQTT-3.8.4-3, v311:MQTT-3.10.4-1, v5:MQTT-3.10.4-1
        #[test]
        fn matches_agree_with_a_naive_reference(ops in prop::collection::vec(op(), 1..60)) {
            let mut trie = Subscriptions::new();
            let mut reference = Reference::default();
            let mut out = Vec::new();
            for op in ops {
                match op {
                    Op::Subscribe { filter, key, qos, id } => {
                        let value = (options(qos), id.and_then(SubscriptionId::new));
                        let valid = TopicFilter::<&[u8]>::new(filter.as_str()).unwrap();
                        let replaced = trie.subscribe(&valid, key, value.0, value.1).unwrap();
                        prop_assert_eq!(replaced, reference.subscribe(&filter, key, value));
                    }
                    Op::Unsubscribe { filter, key } => {
                        prop_assert_eq!(trie.unsubscribe(&filter, key), reference.unsubscribe(&filter, key));
                    }
                    Op::Match { topic, eligible } => {
                        let is_eligible = |key: u32| eligible & (1 << key) != 0;
                        out.clear();
                        trie.matches(&topic, is_eligible, &mut out);
                        let (mut own, shared): (Vec<&Match<u32>>, Vec<&Match<u32>>) = out.iter().partition(|m| !m.shared);
                        own.sort_by_key(|m| (m.key, m.options.to_byte(), m.id));
                        let own: Vec<_> = own.iter().map(|m| (m.key, m.options, m.id)).collect();
                        let (expected, groups) = reference.matches(&topic);
                        prop_assert_eq!(own, expected);
                        prop_assert_eq!(shared.len(), groups.len());
                        for m in shared {
                            let fits = groups.values().any(|members| {
                                members.contains(&(m.key, m.options, m.id))
                                    && (is_eligible(m.key) || !members.iter().any(|&(k, _, _)| is_eligible(k)))
                            });
                            prop_assert!(fits, "{:?} in {:?}", m, groups);
                        }
                    }
                }
                prop_assert_eq!(trie.len(), reference.subscriptions.len());
            }
            for (filter, key) in reference.subscriptions.keys() {
                prop_assert!(trie.unsubscribe(filter, *key));
            }
            prop_assert_eq!((trie.len(), trie.nodes()), (0, 0));
        }
    }
}
