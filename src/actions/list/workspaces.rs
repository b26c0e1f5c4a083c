//! `list-resources(workspace)`: the organization's workspaces (a product on a site each), the
//! resources product roles are granted on (API notes §7.1), read with the organization key.
//!
//! `POST {atlassian_api_url}/admin/v2/orgs/{org}/workspaces` with `{"limit":N}` for the first
//! page, then `{"cursor":…}` alone from `links.next` (the wire format and its parser are
//! [`crate::roles`]'s, shared with role grants). N is the caller's `limit` (1..=1000, the
//! range the API takes). A cursor's page is as long as its first page was asked to be, so a
//! page longer than the caller's `limit` is cut and resumed within the same page.
//!
//! A record: `id` the workspace id (an ARI) exactly as a role grant takes it
//! (`ROLE@workspace:ID`), `key` the product (`typeKey`, e.g. `jira-software`), `name` the
//! site's name, `url` its `hostUrl`.

use super::cursor::{Cursor, Listing};
use super::{fetch, fill, malformed, page_limit, post_json, repeated, start, window};
use crate::actions::common::admin_ctx;
use crate::config::{ADMIN_API_KEY, AdminConfig, ConnectorConfig};
use crate::error::ConnectorError;
use crate::model::{PageRequest, ResourceKind, ResourcePage, ResourceRecord};
use crate::roles::{self, WorkspacePage};
use crate::transport::{Auth, Transport};
use crate::upstream::{self, Api};

/// One page of the organization's workspaces. Without the organization key (or id) it is
/// `invalid-config` naming `admin_api_key`, before any request.
pub fn list_workspaces(
    cfg: &ConnectorConfig,
    transport: &dyn Transport,
    page: &PageRequest,
) -> Result<ResourcePage, ConnectorError> {
    let admin = cfg.require_admin()?;
    let limit = page_limit(page)?;
    let first = start(page, Listing::Workspaces)?.unwrap_or(Cursor::Workspaces {
        cursor: None,
        page_limit: limit.min(roles::WORKSPACES_LIMIT),
        skip: 0,
    });
    let (items, next_cursor) = fill(first, |cursor| match cursor {
        Cursor::Workspaces {
            cursor,
            page_limit,
            skip,
        } => workspaces(admin, transport, cursor, page_limit, skip, limit),
        _ => Err(ConnectorError::InvalidInput(
            "the page cursor is not one of list-resources of workspaces".to_string(),
        )),
    })?;
    Ok(ResourcePage { items, next_cursor })
}

/// One workspaces page from `cursor` (`None`: the first, asked with `page_limit`), its first
/// `skip` items already returned: at most `limit` records and the cursor after them.
fn workspaces(
    admin: &AdminConfig,
    transport: &dyn Transport,
    cursor: Option<String>,
    page_limit: u32,
    skip: u32,
    limit: u32,
) -> Result<(Vec<ResourceRecord>, Option<Cursor>), ConnectorError> {
    let subject = format!(
        "the workspaces of organization `{}` (scim_organization_id)",
        admin.org_id
    );
    let request = post_json(
        roles::workspaces_url(&admin.api_url, &admin.org_id),
        roles::workspaces_body(cursor.as_deref(), page_limit),
        Auth::bearer(ADMIN_API_KEY),
    );
    let resp = fetch(transport, &admin_ctx(&subject), request)?;
    let page: WorkspacePage = upstream::parse_json(Api::Admin, &resp)?;
    let (listed, consumed, len) = window(page.data, skip, limit);
    let mut items = Vec::with_capacity(listed.len());
    for w in listed {
        if w.id.is_empty() {
            return Err(malformed(
                Api::Admin,
                resp.status,
                "a listed workspace has no `id`",
            ));
        }
        let name = if !w.name.is_empty() {
            w.name
        } else if !w.product.is_empty() {
            w.product.clone()
        } else {
            w.id.clone()
        };
        items.push(ResourceRecord {
            kind: ResourceKind::Workspace,
            key: Some(w.product).filter(|p| !p.is_empty()),
            url: Some(w.host_url).filter(|u| !u.is_empty()),
            name,
            id: w.id,
        });
    }
    let next = if consumed < len {
        Some(Cursor::Workspaces {
            cursor,
            page_limit,
            skip: u32::try_from(consumed).unwrap_or(u32::MAX),
        })
    } else {
        match page.next {
            None => None,
            Some(n) if cursor.as_deref() == Some(n.as_str()) => {
                return Err(repeated(Api::Admin, resp.status, "cursor"));
            }
            Some(n) => Some(Cursor::Workspaces {
                cursor: Some(n),
                page_limit,
                skip: 0,
            }),
        }
    };
    Ok((items, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::list::list_resources;
    use crate::model::Config;
    use crate::transport::{FakeTransport, HttpError, Method, Request, Response};

    const URL: &str = "https://api.atlassian.com/admin/v2/orgs/org-1/workspaces";

    fn cfg() -> Config {
        Config::new(
            &[
                ("scim_url", "https://api.atlassian.com/scim/directory/d1"),
                ("scim_organization_id", "org-1"),
            ],
            &["scim_token", "admin_api_key"],
        )
    }

    fn list(fake: &FakeTransport, cursor: Option<String>, limit: Option<u32>) -> ResourcePage {
        list_resources(
            &cfg(),
            fake,
            ResourceKind::Workspace,
            &PageRequest { cursor, limit },
        )
        .unwrap()
    }

    fn err(fake: &FakeTransport, config: &Config, cursor: Option<&str>) -> ConnectorError {
        list_resources(
            config,
            fake,
            ResourceKind::Workspace,
            &PageRequest {
                cursor: cursor.map(str::to_string),
                limit: None,
            },
        )
        .unwrap_err()
    }

    /// A workspaces page of `products` on site `acme`, with a next cursor when given.
    fn page(products: &[&str], next: Option<&str>) -> Response {
        let data: Vec<serde_json::Value> = products
            .iter()
            .map(|p| {
                serde_json::json!({"id": format!("ari:cloud:{p}::site/c-1"), "type": "workspace",
                    "attributes": {"typeKey": p, "name": "acme",
                                   "hostUrl": "https://acme.atlassian.net", "status": "online"}})
            })
            .collect();
        let body = serde_json::json!({"data": data, "links": {"self": null, "next": next}});
        Response::json(200, &body.to_string())
    }

    fn bodies(fake: &FakeTransport) -> Vec<serde_json::Value> {
        fake.requests().iter().map(Request::json_body).collect()
    }

    #[test]
    fn pages_follow_the_cursor_alone_after_a_first_page_of_the_callers_limit() {
        let fake = FakeTransport::new();
        fake.on(
            Method::Post,
            URL,
            Ok(page(&["jira-software", "confluence"], Some("c2"))),
        )
        .on(Method::Post, URL, Ok(page(&["jira-servicedesk"], None)));
        let first = list(&fake, None, Some(2));
        let records: Vec<(&str, Option<&str>, &str, Option<&str>)> = first
            .items
            .iter()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.key.as_deref(),
                    r.name.as_str(),
                    r.url.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            records,
            [
                (
                    "ari:cloud:jira-software::site/c-1",
                    Some("jira-software"),
                    "acme",
                    Some("https://acme.atlassian.net")
                ),
                (
                    "ari:cloud:confluence::site/c-1",
                    Some("confluence"),
                    "acme",
                    Some("https://acme.atlassian.net")
                ),
            ]
        );
        assert!(
            first
                .items
                .iter()
                .all(|r| r.kind == ResourceKind::Workspace)
        );
        let next = first.next_cursor.expect("a next page");
        assert_eq!(next, "v1:workspaces:c2:2:0");
        let last = list(&fake, Some(next), Some(2));
        assert_eq!(last.items.len(), 1);
        assert_eq!(last.items[0].key.as_deref(), Some("jira-servicedesk"));
        assert_eq!(last.next_cursor, None, "the last page ends the walk");
        assert_eq!(
            bodies(&fake),
            [
                serde_json::json!({"limit": 2}),
                serde_json::json!({"cursor": "c2"})
            ]
        );
        for r in fake.requests() {
            assert_eq!(r.method, Method::Post);
            assert_eq!(r.url, URL);
            assert!(r.read_only, "a listing is a read");
            assert_eq!(r.auth, Some(Auth::bearer("admin_api_key")));
        }
    }

    #[test]
    fn the_limit_is_the_apis_range_and_a_longer_page_is_resumed_inside() {
        let fake = FakeTransport::new();
        fake.on(Method::Post, URL, Ok(page(&["confluence"], None)));
        list(&fake, None, None);
        list(&fake, None, Some(u32::MAX));
        assert_eq!(
            bodies(&fake),
            [
                serde_json::json!({"limit": 100}),
                serde_json::json!({"limit": 1000})
            ]
        );
        let zero = list_resources(
            &cfg(),
            &fake,
            ResourceKind::Workspace,
            &PageRequest {
                cursor: None,
                limit: Some(0),
            },
        );
        assert!(matches!(zero, Err(ConnectorError::InvalidInput(_))));

        // A cursor issued with limit 3, then walked with limit 1: the same page three times.
        let fake = FakeTransport::new();
        fake.on(
            Method::Post,
            URL,
            Ok(page(
                &["jira-software", "confluence", "jira-servicedesk"],
                None,
            )),
        );
        let mut keys = Vec::new();
        let mut cursor = Some("v1:workspaces:c3:3:0".to_string());
        for _ in 0..5 {
            let p = list(&fake, cursor, Some(1));
            keys.extend(p.items.into_iter().filter_map(|r| r.key));
            cursor = p.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(keys, ["jira-software", "confluence", "jira-servicedesk"]);
        assert_eq!(cursor, None);
        assert!(
            bodies(&fake)
                .iter()
                .all(|b| *b == serde_json::json!({"cursor": "c3"}))
        );
    }

    #[test]
    fn without_the_organization_key_it_names_admin_api_key_before_any_request() {
        let fake = FakeTransport::new();
        let scim_only = Config::new(
            &[("scim_url", "https://api.atlassian.com/scim/directory/d1")],
            &["scim_token"],
        );
        let e = err(&fake, &scim_only, None);
        assert_eq!(e.config_key(), Some("admin_api_key"), "{e:?}");
        // The product credential is not what lists workspaces.
        let products_only = Config::new(
            &[
                ("scim_url", "https://api.atlassian.com/scim/directory/d1"),
                ("product_user", "bot@acme.com"),
                ("site_url", "https://acme.atlassian.net"),
            ],
            &["scim_token", "product_token"],
        );
        let e = err(&fake, &products_only, None);
        assert_eq!(e.config_key(), Some("admin_api_key"), "{e:?}");
        assert!(fake.requests().is_empty());
    }

    #[test]
    fn a_cursor_of_another_listing_or_a_tampered_one_is_invalid_input() {
        let fake = FakeTransport::new();
        for token in [
            "v1:jira:5",
            "v1:groups:admin:c:100:0",
            "v1:workspaces:c:0:0",
            "v1:workspaces:a%2fb:10:0",
            "v1:workspaces:c",
        ] {
            let e = err(&fake, &cfg(), Some(token));
            assert!(
                matches!(&e, ConnectorError::InvalidInput(m) if m.contains("workspaces")),
                "{token}: {e:?}"
            );
        }
        assert!(fake.requests().is_empty());
    }

    #[test]
    fn upstream_errors_are_typed_and_a_repeated_cursor_stops() {
        // Answers that are no workspaces page: `upstream`, with the status.
        let malformed: [(Response, u16); 4] = [
            (
                Response::json(400, r#"{"errors":[{"code":"ADMIN-400"}]}"#),
                400,
            ),
            (Response::new(200, "<html></html>"), 200),
            (Response::json(200, "[]"), 200),
            (Response::json(200, r#"{"data":[{"attributes":{}}]}"#), 200),
        ];
        for (answer, status) in malformed {
            let fake = FakeTransport::new();
            fake.on(Method::Post, URL, Ok(answer));
            let e = err(&fake, &cfg(), Some("v1:workspaces:c1:100:0"));
            assert!(
                matches!(&e, ConnectorError::Upstream(u) if u.status == Some(status)),
                "{status}: {e:?}"
            );
        }
        // The same next cursor as the one just sent: an error, never an endless walk.
        let fake = FakeTransport::new();
        fake.on(Method::Post, URL, Ok(page(&["confluence"], Some("c1"))));
        let e = err(&fake, &cfg(), Some("v1:workspaces:c1:100:0"));
        assert!(
            matches!(&e, ConnectorError::Upstream(u) if u.message.contains("same next cursor")),
            "{e:?}"
        );
        // The key without the scope, a 404 naming the organization, a transport failure.
        let fake = FakeTransport::new();
        fake.on(
            Method::Post,
            URL,
            Ok(Response::json(403, r#"{"errors":[{"code":"ADMIN-403"}]}"#)),
        );
        let e = err(&fake, &cfg(), None);
        assert!(
            matches!(&e, ConnectorError::Forbidden(m) if m.contains("admin_api_key")),
            "{e:?}"
        );
        let fake = FakeTransport::new();
        fake.on(
            Method::Post,
            URL,
            Ok(Response::json(404, r#"{"errors":[{"code":"ADMIN-404"}]}"#)),
        );
        let e = err(&fake, &cfg(), None);
        assert!(
            matches!(&e, ConnectorError::NotFound(m) if m.contains("organization `org-1`")),
            "{e:?}"
        );
        let fake = FakeTransport::new();
        fake.on(Method::Post, URL, Err(HttpError::Timeout));
        let e = err(&fake, &cfg(), None);
        assert!(
            matches!(&e, ConnectorError::Unavailable(m) if m.contains("timeout")),
            "{e:?}"
        );
    }
}
