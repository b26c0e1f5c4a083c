//! `list-users`: one page of SCIM `/Users`, walked by `startIndex`.
//!
//! Requests: `GET {scim_url}/Users?startIndex=S&count=C` with C = the caller's limit; the
//! next `startIndex` is S plus the number of users received (the server may cap C).

use super::cursor::{Cursor, Listing};
use super::{fill, malformed, page_limit, scim_page, start};
use crate::config::{ConnectorConfig, SCIM_TOKEN};
use crate::error::ConnectorError;
use crate::model::{AccountId, Config, PageRequest, ScimId, UserPage, UserRecord};
use crate::scim;
use crate::transport::Transport;
use crate::upstream::{Api, Context};

/// One page of the directory's users.
pub fn list_users(
    config: &Config,
    transport: &dyn Transport,
    page: &PageRequest,
) -> Result<UserPage, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    let limit = page_limit(page)?;
    let first = start(page, Listing::Users)?.unwrap_or(Cursor::Users { start_index: 1 });
    let subject = scim_subject(&cfg);
    let ctx = Context {
        api: Api::Scim,
        credential: SCIM_TOKEN,
        subject: &subject,
    };
    let (items, next_cursor) = fill(first, |cursor| {
        let Cursor::Users { start_index } = cursor else {
            return Err(ConnectorError::InvalidInput(
                "the page cursor is not one of list-users".to_string(),
            ));
        };
        let url = scim::users_url(&cfg.scim.url, start_index, limit);
        let (users, next) = scim_page::<scim::User>(transport, &ctx, url, start_index, limit)?;
        let records = users
            .into_iter()
            .map(record)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((records, next.map(|s| Cursor::Users { start_index: s })))
    })?;
    Ok(UserPage { items, next_cursor })
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
        format!("{SCIM}/Users?startIndex={start}&count={count}")
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
            .on_get(&url(101, 250), 200, &list(250, 101, 100))
            .on_get(&url(201, 250), 200, &list(250, 201, 50));
        let (all, calls) = walk(&fake, Some(250));
        assert_eq!(calls, 3);
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
    fn the_cursor_is_versioned_and_checked() {
        let fake = FakeTransport::new();
        fake.on_get(&url(1, 100), 200, &list(250, 1, 100));
        let page = list_users(&cfg(), &fake, &req(None, None)).unwrap();
        assert_eq!(page.next_cursor.as_deref(), Some("v1:users:101"));
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
