//! One walk over a paged listing (`list-users`, `list-groups`, `list-resources`) through the
//! connector's opaque cursors, with every guard a hostile or broken upstream needs.
//!
//! A server that ignores `startIndex` and claims a billion results would otherwise keep a walk
//! going for hours, its memory growing with every page. The walk stops with an `upstream`
//! error naming the reason when:
//! - the connector hands back a cursor it already gave (a loop);
//! - a page holds an item already seen (the server repeats itself, e.g. ignores the offset),
//!   or a non-final page holds nothing (no progress);
//! - the listing passes [`WalkLimits::max_items`] items or [`WalkLimits::max_pages`] pages;
//! - the walk takes longer than [`WalkLimits::max_time`].

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::bindings::types::{
    GroupPage, GroupRecord, PageRequest, ResourcePage, ResourceRecord, UserPage, UserRecord,
};
use crate::{CallError, Invocation};

/// Why a walk ended without reaching the listing's end.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// A page's call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The upstream's answers cannot be a finite, consistent listing: the walk stopped.
    #[error("upstream: {0}")]
    Upstream(String),
}

impl WalkError {
    /// The error's class, as in the contract: the call's own, or `upstream`.
    pub fn class(&self) -> &'static str {
        match self {
            WalkError::Call(CallError::Connector(e)) => e.class(),
            WalkError::Call(CallError::Host(e)) => e.class(),
            WalkError::Upstream(_) => "upstream",
        }
    }
}

/// The bounds of one walk.
#[derive(Clone, Copy, Debug)]
pub struct WalkLimits {
    /// Most items one listing may hold (the largest directories hold 150,000 users).
    pub max_items: usize,
    /// Most pages one listing may take.
    pub max_pages: usize,
    /// Longest one listing may take, end to end.
    pub max_time: Duration,
}

impl Default for WalkLimits {
    fn default() -> Self {
        Self {
            max_items: 1_000_000,
            max_pages: 100_000,
            max_time: Duration::from_secs(3_600),
        }
    }
}

/// A page of a listing: its items, each with the id that must be unique, and the cursor of
/// the next page.
pub trait Page {
    /// The record type.
    type Item;
    /// The items and the next cursor.
    fn split(self) -> (Vec<Self::Item>, Option<String>);
    /// The id that identifies an item within its listing.
    fn id(item: &Self::Item) -> String;
}

impl Page for UserPage {
    type Item = UserRecord;
    fn split(self) -> (Vec<UserRecord>, Option<String>) {
        (self.items, self.next_cursor)
    }
    fn id(item: &UserRecord) -> String {
        // `namespace:value` of each id, NUL-separated, built in one string: a walk makes one
        // for each of up to 150,000 users.
        let mut id = String::new();
        for (k, i) in item.ids.iter().enumerate() {
            if k > 0 {
                id.push('\u{0}');
            }
            id.push_str(&i.namespace);
            id.push(':');
            id.push_str(&i.value);
        }
        id
    }
}

impl Page for GroupPage {
    type Item = GroupRecord;
    fn split(self) -> (Vec<GroupRecord>, Option<String>) {
        (self.items, self.next_cursor)
    }
    fn id(item: &GroupRecord) -> String {
        // A group listed by both APIs is one record; its ids or its name identify it.
        let mut id: String = item
            .ids
            .iter()
            .map(|i| format!("{}:{}\u{0}", i.namespace, i.value))
            .collect();
        id.push_str(&item.name.to_lowercase());
        id
    }
}

impl Page for ResourcePage {
    type Item = ResourceRecord;
    fn split(self) -> (Vec<ResourceRecord>, Option<String>) {
        (self.items, self.next_cursor)
    }
    fn id(item: &ResourceRecord) -> String {
        item.id.clone()
    }
}

fn stop(message: String) -> WalkError {
    WalkError::Upstream(message)
}

/// Walks a listing to its end, handing each page's items to `sink` (so a caller can stream
/// them), and returns the number of items and of HTTP requests the walk made.
pub async fn walk<P, F, Fut>(
    what: &str,
    page_size: u32,
    limits: WalkLimits,
    mut fetch: F,
    mut sink: impl FnMut(Vec<P::Item>),
) -> Result<(usize, usize), WalkError>
where
    P: Page,
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Invocation<P>>,
{
    let started = Instant::now();
    let mut cursors: HashSet<String> = HashSet::new();
    let mut ids: HashSet<String> = HashSet::new();
    let mut cursor = None;
    let mut requests = 0;
    for page in 1..=limits.max_pages {
        if started.elapsed() > limits.max_time {
            return Err(stop(format!(
                "{what}: the listing took longer than {:?}; stopping after {page} pages",
                limits.max_time
            )));
        }
        let invocation = fetch(PageRequest {
            cursor: cursor.clone(),
            limit: Some(page_size),
        })
        .await;
        requests += invocation.exchanges.len();
        let (items, next) = invocation.result.map_err(WalkError::Call)?.split();
        if items.is_empty() && next.is_some() {
            return Err(stop(format!(
                "{what}: page {page} is empty but not the last; the upstream makes no progress"
            )));
        }
        for item in &items {
            if !ids.insert(P::id(item)) {
                return Err(stop(format!(
                    "{what}: page {page} repeats an item of an earlier page (the upstream \
                     ignores the paging offset or changes under the walk); stopping"
                )));
            }
        }
        if ids.len() > limits.max_items {
            return Err(stop(format!(
                "{what}: more than {} items; stopping",
                limits.max_items
            )));
        }
        sink(items);
        match next {
            None => return Ok((ids.len(), requests)),
            Some(next) if !cursors.insert(next.clone()) => {
                return Err(stop(format!(
                    "{what}: the connector returned the same cursor twice; stopping"
                )));
            }
            Some(next) => cursor = Some(next),
        }
    }
    Err(stop(format!(
        "{what}: more than {} pages; stopping",
        limits.max_pages
    )))
}
