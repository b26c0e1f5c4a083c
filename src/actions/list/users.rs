//! `list-users`: SCIM `/Users`, walked by `startIndex`, the pages after the first in waves.
//!
//! SCIM pages are addressed by `startIndex`, so once a page has shown the server's page size
//! P and `totalResults` T, the following pages are independent. A call whose cursor knows
//! them sends up to W = min(⌈limit ÷ P⌉, the host's `max-in-flight`, `max-batch`, requests
//! left) pages as one `send-all` wave: `GET {scim_url}/Users?startIndex=S+kP&count=P`. A call
//! that does not know them yet (the first) sends one `GET …?startIndex=S&count=limit`, then
//! a wave for the rest of its limit. So n users cost about 1 + ⌈n ÷ (P·W)⌉ round trips.
//! Every page also names, in `excludedAttributes`, what a listing does not read
//! ([`scim::USER_LISTING_EXCLUDES`]): a server that honours it sends a third of the bytes.
//!
//! The server is never trusted: pages are taken in order while each is full; a short page
//! ends the wave there (the later ones started at offsets that are no longer right and are
//! dropped) and, unless it is the end, the next call goes on from what was received, with
//! the smaller page size. An empty page ends the listing whatever `totalResults` says; a
//! user seen twice in one call is an `upstream` error (a server ignoring `startIndex`).

use super::cursor::{Cursor, Listing};
use super::{StringSet, fetch, get, malformed, scim_items, start};
use crate::config::{ConnectorConfig, SCIM_TOKEN};
use crate::error::ConnectorError;
use crate::model::{AccountId, Config, PageRequest, ScimId, UserPage, UserRecord};
use crate::scim;
use crate::transport::{Auth, Response, Transport};
use crate::upstream::{self, Api, Context};

/// The most users one call returns: larger than other listings', so that one wave of pages
/// (64 pages of 100 by default) fits in one call.
pub const MAX_USERS_LIMIT: u32 = 10_000;

/// One page of the directory's users.
pub fn list_users(
    config: &Config,
    transport: &dyn Transport,
    page: &PageRequest,
) -> Result<UserPage, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    let limit = match page.limit {
        Some(n) if n > super::MAX_LIMIT => n.min(MAX_USERS_LIMIT),
        _ => super::page_limit(page)?,
    };
    let first = start(page, Listing::Users)?.unwrap_or(Cursor::Users {
        start_index: 1,
        page: 0,
        total: 0,
    });
    let subject = scim_subject(&cfg);
    let ctx = Context {
        api: Api::Scim,
        credential: SCIM_TOKEN,
        subject: &subject,
    };
    let Cursor::Users {
        start_index,
        page: size,
        total,
    } = first
    else {
        return Err(ConnectorError::InvalidInput(
            "the page cursor is not one of list-users".to_string(),
        ));
    };
    let mut items = Vec::new();
    let mut seen = StringSet::default();
    let (mut at, mut size, mut total) = (start_index, size, total);
    if size == 0 {
        // Learn the server's page size and the total from one page.
        let url = scim::users_page_url(&cfg.scim.url, at, limit.min(super::MAX_LIMIT));
        let resp = fetch(transport, &ctx, get(url, Auth::bearer(SCIM_TOKEN)))?;
        let (received, after, server_total) = take(&resp, at, limit, &mut seen, &mut items)?;
        let Some(after) = after else {
            return Ok(UserPage {
                items,
                next_cursor: None,
            });
        };
        (at, size, total) = (after, received.max(1), server_total);
    }
    let want = limit.saturating_sub(u32::try_from(items.len()).unwrap_or(u32::MAX));
    if want == 0 {
        let next = Cursor::Users {
            start_index: at,
            page: size,
            total,
        };
        return Ok(UserPage {
            items,
            next_cursor: Some(next.encode()),
        });
    }
    let host = transport.limits();
    let width = host
        .max_in_flight
        .min(host.max_batch)
        .min(host.requests_remaining)
        .max(1);
    let by_total = total
        .saturating_add(1)
        .saturating_sub(at)
        .div_ceil(u64::from(size));
    let pages = u64::from(want.div_ceil(size))
        .min(u64::from(width))
        .min(by_total.max(1));
    let mut requests = Vec::new();
    for k in 0..pages {
        let s = at.saturating_add(k.saturating_mul(u64::from(size)));
        let url = scim::users_page_url(&cfg.scim.url, s, size);
        requests.push(get(url, Auth::bearer(SCIM_TOKEN)));
    }
    let mut next = None;
    let mut left = want;
    for answer in transport.send_all(requests) {
        let resp = upstream::check(&ctx, answer)?;
        let (received, after, server_total) =
            take(&resp, at, left.min(size), &mut seen, &mut items)?;
        left = left.saturating_sub(received);
        total = server_total;
        let Some(after) = after else {
            next = None;
            break;
        };
        next = Some(Cursor::Users {
            start_index: after,
            page: size.min(received.max(1)),
            total,
        });
        at = after;
        if received < size || left == 0 {
            break;
        }
    }
    Ok(UserPage {
        items,
        next_cursor: next.map(|c| c.encode()),
    })
}

/// Adds the users of one SCIM page (at most `cap`) to `items`: how many it held, where the
/// next page starts and the server's total. A user listed before is an upstream error: the
/// server ignores `startIndex`, and paging would never end.
fn take(
    resp: &Response,
    at: u64,
    cap: u32,
    seen: &mut StringSet,
    items: &mut Vec<UserRecord>,
) -> Result<(u32, Option<u64>, u64), ConnectorError> {
    let (users, after, total) = scim_items::<scim::User>(resp, at, cap)?;
    let received = u32::try_from(users.len()).unwrap_or(u32::MAX);
    for u in users {
        let r = record(u)?;
        if !seen.insert(r.scim_id.as_str().to_string()) {
            return Err(ConnectorError::upstream(
                resp.status,
                None,
                "the SCIM API repeats a user it already listed (it ignores startIndex): \
                 paging would never end",
            ));
        }
        items.push(r);
    }
    Ok((received, after, total))
}

/// What a SCIM 404 names.
pub(crate) fn scim_subject(cfg: &ConnectorConfig) -> String {
    match &cfg.scim.directory_id {
        Some(id) => format!("SCIM directory `{id}` (the directory id in scim_url)"),
        None => format!("the SCIM directory at scim_url {}", cfg.scim.url),
    }
}

fn record(u: scim::User) -> Result<UserRecord, ConnectorError> {
    let account_id = AccountId::from_wire(u.account_id());
    let (Some(scim_id), Some(user_name)) = (u.id.filter(|s| !s.is_empty()), u.user_name) else {
        return Err(malformed(
            Api::Scim,
            200,
            "a listed user has no `id` or no `userName`",
        ));
    };
    Ok(UserRecord {
        scim_id: ScimId::from(scim_id),
        account_id,
        user_name,
        display_name: u.display_name,
        external_id: u.external_id,
        // Atlassian always sends `active`; a record without it is active by default.
        active: u.active.unwrap_or(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{FakeTransport, HttpError, Method, Response};

    const SCIM: &str = "https://api.atlassian.com/scim/directory/d1";

    fn cfg() -> Config {
        Config::new(&[("scim_url", SCIM)], &["scim_token"])
    }

    fn url(start: u64, count: u32) -> String {
        format!(
            "{SCIM}/Users?startIndex={start}&count={count}\
             &excludedAttributes=groups,meta,emails,name"
        )
    }

    fn users(from: usize, n: usize) -> String {
        (from..from + n)
            .map(|i| {
                format!(
                    r#"{{"id":"u{i}","userName":"user{i}@example.com","active":true,
                    "urn:scim:schemas:extension:atlassian-external:1.0":{{"atlassianAccountId":"acc-{i}"}}}}"#
                )
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    fn list(total: usize, from: usize, n: usize) -> String {
        format!(
            r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":{total},"startIndex":{from},"itemsPerPage":{n},"Resources":[{}]}}"#,
            users(from, n)
        )
    }

    fn req(cursor: Option<String>, limit: Option<u32>) -> PageRequest {
        PageRequest { cursor, limit }
    }

    /// Walks every page; returns the users and the number of calls.
    fn walk(fake: &FakeTransport, limit: Option<u32>) -> (Vec<UserRecord>, usize) {
        let mut all = Vec::new();
        let mut cursor = None;
        for calls in 1..100 {
            let page = list_users(&cfg(), fake, &req(cursor, limit)).unwrap();
            all.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return (all, calls),
            }
        }
        panic!("paging did not end");
    }

    #[test]
    fn walks_a_server_capped_page_size_and_maps_records() {
        // 250 users, the server caps every page at 100 whatever count asks for.
        let fake = FakeTransport::new();
        fake.on_get(&url(1, 250), 200, &list(250, 1, 100))
            .on_get(&url(101, 100), 200, &list(250, 101, 100))
            .on_get(&url(201, 100), 200, &list(250, 201, 50));
        let (all, calls) = walk(&fake, Some(250));
        assert_eq!(calls, 1, "the pages after the first in one wave");
        assert_eq!(all.len(), 250);
        let mut ids: Vec<&str> = all.iter().map(|u| u.scim_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 250);
        assert_eq!(
            all[0],
            UserRecord {
                scim_id: "u1".into(),
                account_id: Some("acc-1".into()),
                user_name: "user1@example.com".into(),
                display_name: None,
                external_id: None,
                active: true,
            }
        );
        assert_eq!(fake.requests().len(), 3);
        assert!(fake.requests().iter().all(|r| r.method == Method::Get));
    }

    #[test]
    fn a_server_that_ignores_the_exclusion_gives_the_same_records() {
        // What Atlassian sends without `excludedAttributes`: every attribute, a `$ref` per
        // group. The listing reads the same record from it as from the trimmed one.
        let full = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[{
            "schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1",
            "userName":"ada@example.com","displayName":"Ada","externalId":"idp-ada",
            "active":false,"name":{"givenName":"Ada","familyName":"Lovelace"},
            "emails":[{"value":"ada@example.com","type":"work","primary":true}],
            "groups":[{"value":"g1","display":"eng","type":"direct","$ref":"https://x/Groups/g1"}],
            "meta":{"resourceType":"User","location":"https://x/Users/u1"},
            "urn:scim:schemas:extension:atlassian-external:1.0":{"atlassianAccountId":"acc-1"}}]}"#;
        let trimmed = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[{
            "schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1",
            "userName":"ada@example.com","displayName":"Ada","externalId":"idp-ada",
            "active":false,
            "urn:scim:schemas:extension:atlassian-external:1.0":{"atlassianAccountId":"acc-1"}}]}"#;
        let records = |body: &str| {
            let fake = FakeTransport::new();
            fake.on_get(&url(1, 100), 200, body);
            walk(&fake, None).0
        };
        let expected = vec![UserRecord {
            scim_id: "u1".into(),
            account_id: Some("acc-1".into()),
            user_name: "ada@example.com".into(),
            display_name: Some("Ada".into()),
            external_id: Some("idp-ada".into()),
            active: false,
        }];
        assert_eq!(records(full), expected);
        assert_eq!(records(trimmed), expected);
    }

    #[test]
    fn exact_multiple_ends_without_an_extra_request() {
        let fake = FakeTransport::new();
        fake.on_get(&url(1, 100), 200, &list(200, 1, 100)).on_get(
            &url(101, 100),
            200,
            &list(200, 101, 100),
        );
        let (all, calls) = walk(&fake, None);
        assert_eq!((all.len(), calls, fake.requests().len()), (200, 2, 2));
    }

    #[test]
    fn an_empty_page_ends_even_when_total_says_more() {
        let fake = FakeTransport::new();
        fake.on_get(&url(1, 100), 200, &list(300, 1, 100)).on_get(
            &url(101, 100),
            200,
            &list(300, 101, 0),
        );
        let (all, _) = walk(&fake, None);
        assert_eq!(all.len(), 100);
        assert_eq!(fake.requests().len(), 2);
        // Absent `Resources` past the end is an empty page too.
        let fake = FakeTransport::new();
        fake.on_get(&url(1, 100), 200, r#"{"totalResults":0}"#);
        let (all, _) = walk(&fake, None);
        assert!(all.is_empty());
    }

    #[test]
    fn a_short_last_page_ends() {
        let fake = FakeTransport::new();
        fake.on_get(&url(1, 100), 200, &list(130, 1, 100)).on_get(
            &url(101, 100),
            200,
            &list(130, 101, 30),
        );
        let (all, calls) = walk(&fake, None);
        assert_eq!((all.len(), calls), (130, 2));
    }

    #[test]
    fn a_page_longer_than_the_limit_is_cut_and_resumed() {
        let fake = FakeTransport::new();
        fake.on_get(&url(1, 2), 200, &list(5, 1, 5))
            .on_get(&url(3, 2), 200, &list(5, 3, 3))
            .on_get(&url(5, 2), 200, &list(5, 5, 1));
        let (all, calls) = walk(&fake, Some(2));
        assert_eq!(calls, 3);
        let ids: Vec<&str> = all.iter().map(|u| u.scim_id.as_str()).collect();
        assert_eq!(ids, ["u1", "u2", "u3", "u4", "u5"]);
    }

    #[test]
    fn k1_later_pages_go_as_one_wave_within_the_host_limits_and_a_lying_server_still_ends() {
        use crate::transport::HostLimits;
        // 1,000 users, pages capped at 100, at most 4 in flight: one page, then waves of 4.
        let fake = FakeTransport::with_limits(HostLimits {
            max_batch: 8,
            max_in_flight: 4,
            max_requests: 100,
            requests_remaining: 100,
        });
        fake.on_get(&url(1, 1000), 200, &list(1000, 1, 100));
        for k in 1..10 {
            let s = k * 100 + 1;
            fake.on_get(&url(s as u64, 100), 200, &list(1000, s, 100));
        }
        let (all, calls) = walk(&fake, Some(1000));
        assert_eq!(all.len(), 1000);
        // 1 + 4 in the first call (its limit allows 10 pages, the host 4 in flight), then 4, 1.
        assert_eq!((calls, fake.requests().len()), (3, 10));

        // totalResults lies (says 10,000): the empty page ends it.
        let fake = FakeTransport::new();
        fake.on_get(&url(1, 300), 200, &list(10_000, 1, 100))
            .on_get(&url(101, 100), 200, &list(10_000, 101, 100))
            .on_get(&url(201, 100), 200, &list(10_000, 201, 0));
        let (all, _) = walk(&fake, Some(300));
        assert_eq!(all.len(), 200);

        // A server that ignores startIndex repeats its first page: an upstream error.
        let fake = FakeTransport::new();
        fake.on_get(&url(1, 1000), 200, &list(500, 1, 100)).on_get(
            &url(101, 100),
            200,
            &list(500, 1, 100),
        );
        let e = list_users(&cfg(), &fake, &req(None, Some(1000))).unwrap_err();
        assert!(matches!(e, ConnectorError::Upstream(_)), "{e:?}");

        // The cap shrinks mid-walk (100, then 60): the short page ends the wave there and the
        // next call goes on from what came back.
        let fake = FakeTransport::new();
        fake.on_get(&url(1, 1000), 200, &list(300, 1, 100))
            .on_get(&url(101, 100), 200, &list(300, 101, 60))
            .on_get(&url(201, 100), 200, &list(300, 201, 60))
            .on_get(&url(161, 60), 200, &list(300, 161, 60))
            .on_get(&url(221, 60), 200, &list(300, 221, 60))
            .on_get(&url(281, 60), 200, &list(300, 281, 20));
        let (all, _) = walk(&fake, Some(1000));
        let mut ids: Vec<&str> = all.iter().map(|u| u.scim_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!((all.len(), ids.len()), (300, 300));
    }

    #[test]
    fn the_cursor_is_versioned_and_checked() {
        let fake = FakeTransport::new();
        fake.on_get(&url(1, 100), 200, &list(250, 1, 100));
        let page = list_users(&cfg(), &fake, &req(None, None)).unwrap();
        assert_eq!(page.next_cursor.as_deref(), Some("v1:users:101:100:250"));
        for bad in [
            "v1:users:0",
            "v1:groups:scim:101",
            "garbage",
            "v1:users:101:x",
        ] {
            let e = list_users(&cfg(), &fake, &req(Some(bad.into()), None)).unwrap_err();
            assert!(matches!(e, ConnectorError::InvalidInput(_)), "{bad}: {e:?}");
        }
        assert_eq!(fake.requests().len(), 1, "no request for a bad cursor");
        let e = list_users(&cfg(), &fake, &req(None, Some(0))).unwrap_err();
        assert!(matches!(e, ConnectorError::InvalidInput(_)));
    }

    #[test]
    fn malformed_pages_are_upstream_errors() {
        for body in [
            r#"{"totalResults":5}"#,
            r#"{"totalResults":5,"Resources":null}"#,
            r#"{"Resources":[]}"#,
            r#"{"totalResults":1,"Resources":[{"userName":"no-id@example.com"}]}"#,
            r#"{"totalResults":1,"Resources":[{"id":"u1"}]}"#,
            "<html>oops</html>",
        ] {
            let fake = FakeTransport::new();
            fake.on(Method::Get, &url(1, 100), Ok(Response::new(200, body)));
            let e = list_users(&cfg(), &fake, &req(None, None)).unwrap_err();
            assert!(
                matches!(&e, ConnectorError::Upstream(u) if u.status == Some(200)),
                "{body}: {e:?}"
            );
        }
    }

    #[test]
    fn f4_invalid_filter_400_is_an_error_not_an_empty_page() {
        let fake = FakeTransport::new();
        fake.on_get(
            &url(1, 100),
            400,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"unsupported filter"}"#,
        );
        let e = list_users(&cfg(), &fake, &req(None, None)).unwrap_err();
        match e {
            ConnectorError::Upstream(u) => {
                assert_eq!(u.status, Some(400));
                assert_eq!(u.code.as_deref(), Some("invalidFilter"));
            }
            other => panic!("{other:?}"),
        }
        let fake = FakeTransport::new();
        fake.on(Method::Get, &url(1, 100), Err(HttpError::Timeout));
        assert!(matches!(
            list_users(&cfg(), &fake, &req(None, None)),
            Err(ConnectorError::Unavailable(_))
        ));
    }
}
