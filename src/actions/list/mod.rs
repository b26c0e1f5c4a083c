//! Extraction and discovery: `list-users`, `list-groups` and `list-resources` (product
//! resources in [`resources`], the workspaces roles are granted on in [`workspaces`]).
//!
//! Each call returns ONE page and an opaque [`cursor`] the host passes back. Servers cap page
//! sizes on their own, so no listing assumes its requested size was honoured: SCIM and Jira
//! advance by the number of items received, cursor-paged APIs follow the server's next
//! link, and a page longer than the caller's `limit` is cut and resumed within the same page.
//! A next cursor equal to the one just used is an `upstream` error, never an endless loop.

pub mod cursor;
pub mod groups;
pub mod resources;
pub mod users;
pub mod workspaces;

pub use groups::list_groups;
pub use resources::list_resources;
pub use users::list_users;

use crate::error::ConnectorError;
use crate::model::PageRequest;
use crate::scim;
use crate::transport::{Auth, Method, Request, Response, Transport};
use crate::upstream::{self, Api, Context};
use cursor::{Cursor, Listing};

/// A set of strings on serde_json's object map, whose B-tree code the component already
/// carries for every JSON object: a `BTreeSet` (or a map of another key and value type)
/// would add a second copy of it (~5 KB each).
#[derive(Default)]
pub(crate) struct StringSet(serde_json::Map<String, serde_json::Value>);

impl StringSet {
    /// Adds `s`; false when it was already there.
    pub(crate) fn insert(&mut self, s: String) -> bool {
        self.0.insert(s, serde_json::Value::Null).is_none()
    }
}

/// Items per page when the caller gives no `limit`.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most items per page; a larger `limit` is lowered to this.
pub const MAX_LIMIT: u32 = 1000;
/// Per-request timeout of every listing request, in milliseconds.
pub const TIMEOUT_MS: u32 = 30_000;
/// Pages fetched in one call while they come back empty but announce more (filtered pages,
/// the step from SCIM to admin groups), before returning an empty page with a cursor.
const MAX_EMPTY_STEPS: usize = 10;

/// The caller's `limit`: default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`], 0 refused.
pub fn page_limit(page: &PageRequest) -> Result<u32, ConnectorError> {
    match page.limit {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(ConnectorError::InvalidInput(
            "limit must be at least 1".to_string(),
        )),
        Some(n) => Ok(n.min(MAX_LIMIT)),
    }
}

/// The caller's cursor for `listing`, checked; `None` on the first page.
pub fn start(page: &PageRequest, listing: Listing) -> Result<Option<Cursor>, ConnectorError> {
    page.cursor
        .as_deref()
        .map(|t| Cursor::decode(t, listing))
        .transpose()
}

/// Runs `step` from `first` until it yields items or the listing ends (at most
/// [`MAX_EMPTY_STEPS`] pages), and encodes the next cursor.
pub(crate) fn fill<T>(
    first: Cursor,
    mut step: impl FnMut(Cursor) -> Result<(Vec<T>, Option<Cursor>), ConnectorError>,
) -> Result<(Vec<T>, Option<String>), ConnectorError> {
    let mut cursor = first;
    for _ in 0..MAX_EMPTY_STEPS {
        match step(cursor)? {
            (items, Some(next)) if items.is_empty() => cursor = next,
            (items, next) => return Ok((items, next.map(|c| c.encode()))),
        }
    }
    Ok((Vec::new(), Some(cursor.encode())))
}

/// Sends `req` and classifies the answer.
pub(crate) fn fetch(
    transport: &dyn Transport,
    ctx: &Context<'_>,
    req: Request,
) -> Result<Response, ConnectorError> {
    upstream::check(ctx, transport.send(req))
}

/// A GET accepting JSON.
pub(crate) fn get(url: String, auth: Auth) -> Request {
    Request::get(url, auth, TIMEOUT_MS)
}

/// A POST of a JSON body accepting JSON (the admin searches): a read, so `read_only`.
pub(crate) fn post_json(url: String, body: Vec<u8>, auth: Auth) -> Request {
    Request::with_json(Method::Post, url, auth, TIMEOUT_MS, body).read_only()
}

/// The error for a server that hands back the cursor it was just given.
pub(crate) fn repeated(api: Api, status: u16, what: &str) -> ConnectorError {
    ConnectorError::upstream(
        status,
        None,
        format!(
            "the {} returned the same next {what} it was just given: paging would never end",
            api.label()
        ),
    )
}

/// The error for an item the connector cannot list (no id, no name).
pub(crate) fn malformed(api: Api, status: u16, what: &str) -> ConnectorError {
    ConnectorError::upstream(
        status,
        None,
        format!("malformed {} response: {what}", api.label()),
    )
}

/// One SCIM ListResponse page from `start_index`: its resources (at most `limit`) and the
/// next `startIndex`, `None` at the end. The end is an empty page, or `startIndex` plus the
/// resources received passing `totalResults`; the requested `count` is never trusted.
pub(crate) fn scim_page<T: serde::de::DeserializeOwned>(
    transport: &dyn Transport,
    ctx: &Context<'_>,
    url: String,
    start_index: u64,
    limit: u32,
) -> Result<(Vec<T>, Option<u64>), ConnectorError> {
    let resp = fetch(transport, ctx, get(url, Auth::bearer(ctx.credential)))?;
    scim_items(&resp, start_index, limit).map(|(items, next, _)| (items, next))
}

/// A SCIM ListResponse answer from `start_index`: its resources (at most `limit`), the next
/// `startIndex` (`None` at the end) and `totalResults`.
pub(crate) fn scim_items<T: serde::de::DeserializeOwned>(
    resp: &Response,
    start_index: u64,
    limit: u32,
) -> Result<(Vec<T>, Option<u64>, u64), ConnectorError> {
    let page = upstream::read(Api::Scim, resp, scim::parse_page::<T>)?;
    let mut items = match page.resources {
        Some(items) => items,
        None if start_index > page.total_results => Vec::new(),
        None => {
            return Err(malformed(
                Api::Scim,
                resp.status,
                &format!(
                    "`Resources` is missing although totalResults is {} at startIndex {start_index}",
                    page.total_results
                ),
            ));
        }
    };
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let received = u64::try_from(items.len()).unwrap_or(u64::MAX);
    let next = start_index
        .checked_add(received)
        .filter(|next| received > 0 && *next <= page.total_results);
    Ok((items, next, page.total_results))
}

/// Takes at most `limit` items of `raw` after the first `skip`; returns them and how many
/// items of `raw` are consumed (so `consumed < raw.len()` means the page has more).
pub(crate) fn window<T>(raw: Vec<T>, skip: u32, limit: u32) -> (Vec<T>, usize, usize) {
    let len = raw.len();
    let skip = usize::try_from(skip).unwrap_or(usize::MAX).min(len);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let items: Vec<T> = raw.into_iter().skip(skip).take(limit).collect();
    let consumed = skip.saturating_add(items.len());
    (items, consumed, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let p = |l| PageRequest {
            cursor: None,
            limit: l,
        };
        assert_eq!(page_limit(&p(None)), Ok(DEFAULT_LIMIT));
        assert_eq!(page_limit(&p(Some(7))), Ok(7));
        assert_eq!(page_limit(&p(Some(u32::MAX))), Ok(MAX_LIMIT));
        assert!(matches!(
            page_limit(&p(Some(0))),
            Err(ConnectorError::InvalidInput(_))
        ));
    }

    /// Answers every request with the same response.
    struct Always(Response);

    impl Transport for Always {
        fn send(&self, _: Request) -> Result<Response, crate::transport::HttpError> {
            Ok(self.0.clone())
        }
        fn send_all(
            &self,
            reqs: Vec<Request>,
        ) -> Vec<Result<Response, crate::transport::HttpError>> {
            reqs.iter().map(|_| Ok(self.0.clone())).collect()
        }
    }

    #[test]
    fn hostile_answers_and_cursors_never_panic_nor_loop() {
        use crate::model::{Config, ResourceKind};
        let cfg = Config::new(
            &[
                ("scim_url", "https://api.atlassian.com/scim/directory/d1"),
                ("scim_organization_id", "o1"),
                ("product_user", "bot@acme.com"),
                ("site_url", "https://acme.atlassian.net"),
                ("bitbucket_workspace", "acme"),
            ],
            &["scim_token", "admin_api_key", "product_token"],
        );
        let bodies = [
            "",
            "null",
            "[]",
            "{}",
            "{\"totalResults\":18446744073709551615,\"Resources\":[]}",
            "{\"totalResults\":5,\"Resources\":[{\"id\":\"u\",\"userName\":\"x\"}]}",
            "{\"totalResults\":5,\"Resources\":[{\"id\":\"g\",\"displayName\":\"x\",\"members\":[{}]}]}",
            "{\"data\":[{\"id\":\"a\",\"groups\":[{}]}],\"links\":{\"next\":\"n\"}}",
            "{\"data\":[],\"links\":{\"next\":\"\"}}",
            "{\"data\":[{\"id\":\"ari:x\",\"attributes\":[]}],\"links\":{\"next\":\"n\"}}",
            "{\"data\":[],\"links\":{\"next\":\"n\"}}",
            "{\"data\":{},\"links\":[]}",
            "{\"values\":[{\"id\":\"1\"}],\"isLast\":false,\"maxResults\":0}",
            "{\"values\":[{\"uuid\":\"1\"}],\"next\":\"https://api.bitbucket.org/2.0/repositories/acme?page=2\"}",
            "{\"results\":[{\"id\":1}],\"_links\":{\"next\":\"/wiki/api/v2/spaces?c=%zz\"}}",
            "{\"results\":[],\"_links\":{\"next\":\"/wiki/api/v2/spaces?c=1\"}}",
        ];
        let links = [
            "",
            "<",
            "<>; rel=next",
            "<//evil>; rel=\"next\"",
            ",,,<a>;;;rel",
        ];
        let cursors = [
            None,
            Some("v1:users:18446744073709551615".to_string()),
            Some("v1:groups:admin:%E9:100:99".to_string()),
            Some("v1:jira:9007199254740992".to_string()),
            Some("v1:confluence:c%3D1:100000".to_string()),
            Some("v1:bitbucket::0".to_string()),
            Some("v1:workspaces:n:2:0".to_string()),
            Some("v1:workspaces::1000:99999".to_string()),
            Some("\u{0}:\u{feff}".to_string()),
        ];
        for body in bodies {
            for link in links {
                let t = Always(Response::json(200, body).with_header("link", link));
                for cursor in &cursors {
                    let page = PageRequest {
                        cursor: cursor.clone(),
                        limit: Some(2),
                    };
                    let _ = list_users(&cfg, &t, &page);
                    let _ = list_groups(&cfg, &t, &page);
                    for kind in ResourceKind::ALL {
                        let _ = list_resources(&cfg, &t, *kind, &page);
                    }
                }
            }
        }
    }

    #[test]
    fn windows() {
        assert_eq!(window(vec![1, 2, 3, 4], 0, 10), (vec![1, 2, 3, 4], 4, 4));
        assert_eq!(window(vec![1, 2, 3, 4], 1, 2), (vec![2, 3], 3, 4));
        assert_eq!(window(vec![1, 2], 5, 2), (Vec::<i32>::new(), 2, 2));
    }
}
