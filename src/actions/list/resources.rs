//! `list-resources`: Jira projects, Confluence spaces and Bitbucket repositories, with the
//! product credential (Basic `product_user`:`product_token`); the kind `workspace` is the
//! admin API's, in [`super::workspaces`].
//!
//! - Jira: `GET {site_url}/rest/api/3/project/search?startAt=N&maxResults=C`; advance by the
//!   projects received; the end is `isLast`, an empty page, or (without `isLast`) `total`
//!   reached or a page shorter than the `maxResults` the server says it used.
//! - Confluence: `GET {site_url}/wiki/api/v2/spaces?limit=C`, then the next page from
//!   `_links.next` (a relative URL) or a `Link: <…>; rel="next"` header.
//! - Bitbucket: `GET {bitbucket_api_url}/2.0/repositories/{workspace}?pagelen=C`, then `next`
//!   (absolute) until absent.
//!
//! A next link must stay on the configured base URL (origin and endpoint path); only its
//! query string is kept, and re-attached to the configured base.

use super::cursor::{Cursor, Listing};
use super::{fetch, fill, get, malformed, page_limit, repeated, start, window};
use crate::config::{BITBUCKET_WORKSPACE, ConnectorConfig, PRODUCT_TOKEN, PRODUCT_USER, SITE_URL};
use crate::error::ConnectorError;
use crate::model::{Config, PageRequest, ResourceKind, ResourcePage, ResourceRecord};
use crate::products;
use crate::transport::{Auth, Transport};
use crate::upstream::{self, Api, Context};

/// One page of discovered resources of one kind.
pub fn list_resources(
    config: &Config,
    transport: &dyn Transport,
    kind: ResourceKind,
    page: &PageRequest,
) -> Result<ResourcePage, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    let product = match kind {
        ResourceKind::Workspace => {
            return super::workspaces::list_workspaces(&cfg, transport, page);
        }
        ResourceKind::JiraProject => Product::Jira,
        ResourceKind::ConfluenceSpace => Product::Confluence,
        ResourceKind::BitbucketRepository => Product::Bitbucket,
    };
    let limit = page_limit(page)?;
    let target = Target::of(&cfg, product)?;
    let listing = match product {
        Product::Jira => Listing::Jira,
        Product::Confluence => Listing::Confluence,
        Product::Bitbucket => Listing::Bitbucket,
    };
    let first = match start(page, listing)? {
        Some(c) => c,
        None => match product {
            Product::Jira => Cursor::Jira { start_at: 0 },
            Product::Confluence => Cursor::Confluence {
                query: format!("limit={}", limit.min(products::CONFLUENCE_MAX_LIMIT)),
                skip: 0,
            },
            Product::Bitbucket => Cursor::Bitbucket {
                query: format!("pagelen={}", limit.min(products::BITBUCKET_MAX_PAGELEN)),
                skip: 0,
            },
        },
    };
    let (items, next_cursor) = fill(first, |cursor| match cursor {
        Cursor::Jira { start_at } => jira(&target, transport, start_at, limit),
        Cursor::Confluence { query, skip } => confluence(&target, transport, query, skip, limit),
        Cursor::Bitbucket { query, skip } => bitbucket(&target, transport, query, skip, limit),
        _ => Err(ConnectorError::InvalidInput(
            "the page cursor is not one of list-resources".to_string(),
        )),
    })?;
    Ok(ResourcePage { items, next_cursor })
}

/// The kinds listed with the product credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Product {
    /// Jira projects.
    Jira,
    /// Confluence spaces.
    Confluence,
    /// Bitbucket repositories.
    Bitbucket,
}

/// Where one kind of resource is listed.
struct Target {
    /// `site_url`, or `bitbucket_api_url`.
    base: String,
    /// The endpoint path under `base`.
    endpoint: String,
    api: Api,
    subject: String,
}

impl Target {
    fn of(cfg: &ConnectorConfig, product: Product) -> Result<Target, ConnectorError> {
        let (what, needs) = match product {
            Product::Jira => ("Jira projects", SITE_URL),
            Product::Confluence => ("Confluence spaces", SITE_URL),
            Product::Bitbucket => ("Bitbucket repositories", BITBUCKET_WORKSPACE),
        };
        if !cfg.product_credentials {
            return Err(ConnectorError::config(
                PRODUCT_USER,
                format!(
                    "is not configured: listing {what} needs product_user and product_token \
                     (and {needs})"
                ),
            ));
        }
        let missing =
            || ConnectorError::config(needs, format!("is not configured: listing {what} needs it"));
        Ok(match product {
            Product::Jira | Product::Confluence => {
                let site = cfg.site_url.clone().ok_or_else(missing)?;
                let (endpoint, api) = if product == Product::Jira {
                    ("/rest/api/3/project/search".to_string(), Api::Jira)
                } else {
                    (
                        products::CONFLUENCE_SPACES_PATH.to_string(),
                        Api::Confluence,
                    )
                };
                Target {
                    subject: format!("{} on site_url {site}", api.label()),
                    base: site,
                    endpoint,
                    api,
                }
            }
            Product::Bitbucket => {
                let ws = cfg.bitbucket_workspace.clone().ok_or_else(missing)?;
                Target {
                    base: cfg.bitbucket_api_url.clone(),
                    endpoint: products::bitbucket_repositories_path(&ws),
                    api: Api::Bitbucket,
                    subject: format!("Bitbucket workspace `{ws}` (bitbucket_workspace)"),
                }
            }
        })
    }

    fn ctx(&self) -> Context<'_> {
        Context {
            api: self.api,
            credential: PRODUCT_TOKEN,
            subject: &self.subject,
        }
    }

    /// The query of a next link, checked to stay on this target.
    fn next_query(&self, link: &str, status: u16) -> Result<String, ConnectorError> {
        products::next_query(&self.base, &self.endpoint, link).map_err(|why| {
            ConnectorError::upstream(
                status,
                None,
                format!("the {} gave an unusable next page: {why}", self.api.label()),
            )
        })
    }
}

fn auth() -> Auth {
    Auth::basic(PRODUCT_USER, PRODUCT_TOKEN)
}

type Step = Result<(Vec<ResourceRecord>, Option<Cursor>), ConnectorError>;

fn jira(t: &Target, transport: &dyn Transport, start_at: u64, limit: u32) -> Step {
    let url = products::jira_projects_url(&t.base, start_at, limit);
    let resp = fetch(transport, &t.ctx(), get(url, auth()))?;
    let page: products::JiraProjectPage = upstream::parse_json(t.api, &resp)?;
    let received = page.values.len();
    let (values, consumed, _) = window(page.values, 0, limit);
    let mut items = Vec::with_capacity(values.len());
    for p in values {
        let id =
            p.id.filter(|s| !s.is_empty())
                .ok_or_else(|| malformed(t.api, resp.status, "a listed project has no `id`"))?;
        items.push(ResourceRecord {
            kind: ResourceKind::JiraProject,
            name: p
                .name
                .or_else(|| p.key.clone())
                .unwrap_or_else(|| id.clone()),
            id,
            key: p.key,
            url: p.self_url,
        });
    }
    let count = u64::try_from(consumed).unwrap_or(u64::MAX);
    let next_start = start_at.saturating_add(count);
    let ended = received == 0
        || (consumed == received
            && match page.is_last {
                Some(is_last) => is_last,
                None => {
                    let page_size = page.max_results.unwrap_or(u64::from(limit));
                    page.total.is_some_and(|total| next_start >= total)
                        || u64::try_from(received).unwrap_or(u64::MAX) < page_size
                }
            });
    let next = (!ended).then_some(Cursor::Jira {
        start_at: next_start,
    });
    Ok((items, next))
}

fn confluence(t: &Target, transport: &dyn Transport, query: String, skip: u32, limit: u32) -> Step {
    let url = products::with_query(&t.base, &t.endpoint, &query);
    let resp = fetch(transport, &t.ctx(), get(url, auth()))?;
    let page: products::ConfluenceSpacePage = upstream::parse_json(t.api, &resp)?;
    let links = page.links.unwrap_or_default();
    let next_link = links
        .next
        .filter(|n| !n.is_empty())
        .or_else(|| products::link_header_next(&resp));
    let web_base = links.base.unwrap_or_else(|| format!("{}/wiki", t.base));
    let (spaces, consumed, len) = window(page.results, skip, limit);
    let mut items = Vec::with_capacity(spaces.len());
    for s in spaces {
        let id =
            s.id.filter(|v| !v.is_empty())
                .ok_or_else(|| malformed(t.api, resp.status, "a listed space has no `id`"))?;
        items.push(ResourceRecord {
            kind: ResourceKind::ConfluenceSpace,
            name: s
                .name
                .or_else(|| s.key.clone())
                .unwrap_or_else(|| id.clone()),
            url: s
                .links
                .and_then(|l| l.webui)
                .map(|w| format!("{web_base}{w}")),
            id,
            key: s.key,
        });
    }
    let next = resume(
        t,
        consumed,
        len,
        &query,
        next_link,
        resp.status,
        |query, skip| Cursor::Confluence { query, skip },
    )?;
    Ok((items, next))
}

fn bitbucket(t: &Target, transport: &dyn Transport, query: String, skip: u32, limit: u32) -> Step {
    let url = products::with_query(&t.base, &t.endpoint, &query);
    let resp = fetch(transport, &t.ctx(), get(url, auth()))?;
    let page: products::BitbucketRepositoryPage = upstream::parse_json(t.api, &resp)?;
    let next_link = page.next.filter(|n| !n.is_empty());
    let (repos, consumed, len) = window(page.values, skip, limit);
    let mut items = Vec::with_capacity(repos.len());
    for r in repos {
        let url = r.html_url();
        let id = r
            .uuid
            .or_else(|| r.full_name.clone())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| malformed(t.api, resp.status, "a listed repository has no `uuid`"))?;
        items.push(ResourceRecord {
            kind: ResourceKind::BitbucketRepository,
            name: r
                .name
                .or_else(|| r.slug.clone())
                .unwrap_or_else(|| id.clone()),
            id,
            key: r.slug,
            url,
        });
    }
    let next = resume(
        t,
        consumed,
        len,
        &query,
        next_link,
        resp.status,
        |query, skip| Cursor::Bitbucket { query, skip },
    )?;
    Ok((items, next))
}

/// The cursor after a link-paged page: the rest of the same page, the next page, or the end.
fn resume(
    t: &Target,
    consumed: usize,
    len: usize,
    query: &str,
    next_link: Option<String>,
    status: u16,
    make: impl Fn(String, u32) -> Cursor,
) -> Result<Option<Cursor>, ConnectorError> {
    if consumed < len {
        return Ok(Some(make(
            query.to_string(),
            u32::try_from(consumed).unwrap_or(u32::MAX),
        )));
    }
    let Some(link) = next_link else {
        return Ok(None);
    };
    let next = t.next_query(&link, status)?;
    if next == query {
        return Err(repeated(t.api, status, "page link"));
    }
    Ok(Some(make(next, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{FakeTransport, Method, Response};

    const SITE: &str = "https://acme.atlassian.net";
    const BB: &str = "https://api.bitbucket.org/2.0/repositories/acme";

    fn cfg() -> Config {
        Config::new(
            &[
                ("scim_url", "https://api.atlassian.com/scim/directory/d1"),
                ("product_user", "bot@acme.com"),
                ("site_url", SITE),
                ("bitbucket_workspace", "acme"),
            ],
            &["scim_token", "product_token"],
        )
    }

    fn req(cursor: Option<String>, limit: Option<u32>) -> PageRequest {
        PageRequest { cursor, limit }
    }

    fn walk(fake: &FakeTransport, kind: ResourceKind, limit: Option<u32>) -> Vec<ResourceRecord> {
        let mut all = Vec::new();
        let mut cursor = None;
        for _ in 0..50 {
            let p = list_resources(&cfg(), fake, kind, &req(cursor, limit)).unwrap();
            all.extend(p.items);
            match p.next_cursor {
                Some(c) => cursor = Some(c),
                None => return all,
            }
        }
        panic!("did not end");
    }

    fn projects(from: usize, n: usize) -> String {
        (from..from + n)
            .map(|i| format!(r#"{{"id":"{i}","key":"P{i}","name":"Project {i}"}}"#))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn jira_url(start: u64) -> String {
        format!("{SITE}/rest/api/3/project/search?startAt={start}&maxResults=100")
    }

    fn err(fake: &FakeTransport, kind: ResourceKind, cursor: Option<&str>) -> ConnectorError {
        list_resources(&cfg(), fake, kind, &req(cursor.map(str::to_string), None)).unwrap_err()
    }

    #[test]
    fn jira_advances_by_what_it_received_and_stops_on_is_last() {
        let fake = FakeTransport::new();
        fake.on_get(
            &jira_url(0),
            200,
            &format!(
                r#"{{"maxResults":2,"startAt":0,"isLast":false,"values":[{}]}}"#,
                projects(0, 2)
            ),
        )
        .on_get(
            &jira_url(2),
            200,
            &format!(
                r#"{{"maxResults":2,"startAt":2,"isLast":true,"values":[{}]}}"#,
                projects(2, 1)
            ),
        );
        let all = walk(&fake, ResourceKind::JiraProject, None);
        let keys: Vec<&str> = all.iter().filter_map(|r| r.key.as_deref()).collect();
        assert_eq!(keys, ["P0", "P1", "P2"]);
        assert!(
            fake.requests()
                .iter()
                .all(|r| r.auth == Some(Auth::basic("product_user", "product_token")))
        );
    }

    #[test]
    fn jira_without_is_last_uses_total_then_a_short_page_then_an_empty_one() {
        // total reached.
        let fake = FakeTransport::new();
        fake.on_get(
            &jira_url(0),
            200,
            &format!(r#"{{"total":2,"values":[{}]}}"#, projects(0, 2)),
        );
        assert_eq!(walk(&fake, ResourceKind::JiraProject, None).len(), 2);
        assert_eq!(fake.requests().len(), 1);
        // A page of the server's size continues; a shorter one ends.
        let fake = FakeTransport::new();
        fake.on_get(
            &jira_url(0),
            200,
            &format!(r#"{{"maxResults":2,"values":[{}]}}"#, projects(0, 2)),
        )
        .on_get(
            &jira_url(2),
            200,
            &format!(r#"{{"maxResults":2,"values":[{}]}}"#, projects(2, 1)),
        );
        assert_eq!(walk(&fake, ResourceKind::JiraProject, None).len(), 3);
        // isLast false but nothing received: the end, not a loop.
        let fake = FakeTransport::new();
        fake.on_get(&jira_url(0), 200, r#"{"isLast":false,"values":[]}"#);
        assert!(walk(&fake, ResourceKind::JiraProject, None).is_empty());
        assert_eq!(fake.requests().len(), 1);
    }

    fn spaces(from: usize, n: usize) -> String {
        (from..from + n)
            .map(|i| {
                format!(r#"{{"id":{i},"key":"S{i}","name":"Space {i}","_links":{{"webui":"/spaces/S{i}"}}}}"#)
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn confluence_follows_body_links_and_link_headers() {
        let first = format!("{SITE}/wiki/api/v2/spaces?limit=100");
        let second = format!("{SITE}/wiki/api/v2/spaces?limit=2&cursor=b");
        let third = format!("{SITE}/wiki/api/v2/spaces?limit=2&cursor=c");
        let fake = FakeTransport::new();
        fake.on_get(
            &first,
            200,
            &format!(
                r#"{{"results":[{}],"_links":{{"base":"{SITE}/wiki","next":"/wiki/api/v2/spaces?limit=2&cursor=b"}}}}"#,
                spaces(0, 2)
            ),
        )
        .on(
            Method::Get,
            &second,
            Ok(Response::json(200, &format!(r#"{{"results":[{}],"_links":{{}}}}"#, spaces(2, 2)))
                .with_header(
                    "Link",
                    &format!(r#"<{SITE}/wiki/api/v2/spaces?limit=2&cursor=c>; rel="next", <x>; rel="prev""#),
                )),
        )
        .on_get(&third, 200, &format!(r#"{{"results":[{}]}}"#, spaces(4, 1)));
        let all = walk(&fake, ResourceKind::ConfluenceSpace, None);
        assert_eq!(all.len(), 5);
        assert_eq!(all[0].id, "0");
        assert_eq!(
            all[0].url.as_deref(),
            Some("https://acme.atlassian.net/wiki/spaces/S0")
        );
        let urls: Vec<String> = fake.requests().into_iter().map(|r| r.url).collect();
        assert_eq!(urls, [first, second, third]);
    }

    #[test]
    fn next_links_off_the_configured_base_are_refused() {
        let first = format!("{SITE}/wiki/api/v2/spaces?limit=100");
        for next in [
            "https://evil.example/wiki/api/v2/spaces?cursor=x",
            "//evil.example/wiki/api/v2/spaces?cursor=x",
            "http://acme.atlassian.net/wiki/api/v2/spaces?cursor=x",
            "https://acme.atlassian.net:8443/wiki/api/v2/spaces?cursor=x",
            "https://acme.atlassian.net@evil.example/wiki/api/v2/spaces?cursor=x",
            "/wiki/api/v2/pages?cursor=x",
            "/wiki/api/v2/spaces/../../admin?cursor=x",
            "wiki/api/v2/spaces?cursor=x",
            "/wiki/api/v2/spaces?cursor=a b",
            "/wiki/api/v2/spaces?cursor=x#frag",
        ] {
            let fake = FakeTransport::new();
            fake.on_get(
                &first,
                200,
                &format!(
                    r#"{{"results":[{}],"_links":{{"next":"{next}"}}}}"#,
                    spaces(0, 1)
                ),
            );
            let e = err(&fake, ResourceKind::ConfluenceSpace, None);
            assert!(
                matches!(&e, ConnectorError::Upstream(u) if u.message.contains("unusable next page")),
                "{next}: {e:?}"
            );
            assert_eq!(fake.requests().len(), 1, "{next}: nothing followed");
        }
    }

    #[test]
    fn a_repeated_next_link_is_an_upstream_error() {
        let first = format!("{SITE}/wiki/api/v2/spaces?limit=100");
        let fake = FakeTransport::new();
        fake.on_get(
            &first,
            200,
            r#"{"results":[],"_links":{"next":"/wiki/api/v2/spaces?limit=100"}}"#,
        );
        let e = err(&fake, ResourceKind::ConfluenceSpace, None);
        assert!(
            matches!(&e, ConnectorError::Upstream(u) if u.message.contains("same next page link")),
            "{e:?}"
        );

        let fake = FakeTransport::new();
        let again = format!("{BB}?page=2&pagelen=10");
        fake.on_get(&again, 200, &format!(r#"{{"values":[],"next":"{again}"}}"#));
        let e = err(
            &fake,
            ResourceKind::BitbucketRepository,
            Some("v1:bitbucket:page%3D2%26pagelen%3D10:0"),
        );
        assert!(matches!(e, ConnectorError::Upstream(_)), "{e:?}");
    }

    #[test]
    fn bitbucket_follows_next_and_resumes_inside_a_page() {
        let fake = FakeTransport::new();
        let repo = |i: usize| {
            format!(
                r#"{{"uuid":"{{u{i}}}","slug":"r{i}","name":"Repo {i}","links":{{"html":{{"href":"https://bitbucket.org/acme/r{i}"}}}}}}"#
            )
        };
        fake.on_get(
            &format!("{BB}?pagelen=2"),
            200,
            &format!(
                r#"{{"values":[{},{},{}],"next":"{BB}?page=2&pagelen=2"}}"#,
                repo(0),
                repo(1),
                repo(2)
            ),
        )
        .on_get(
            &format!("{BB}?page=2&pagelen=2"),
            200,
            &format!(r#"{{"values":[{}]}}"#, repo(3)),
        );
        let all = walk(&fake, ResourceKind::BitbucketRepository, Some(2));
        let slugs: Vec<&str> = all.iter().filter_map(|r| r.key.as_deref()).collect();
        assert_eq!(slugs, ["r0", "r1", "r2", "r3"]);
        assert_eq!(all[0].id, "{u0}");
        assert_eq!(all[0].url.as_deref(), Some("https://bitbucket.org/acme/r0"));
        // The first page was fetched again (same query) to resume after r1.
        assert_eq!(fake.requests().len(), 3);

        let fake = FakeTransport::new();
        fake.on_get(
            &format!("{BB}?pagelen=100"),
            200,
            r#"{"values":[],"next":"https://api.bitbucket.org.evil.example/2.0/repositories/acme?page=2"}"#,
        );
        assert!(matches!(
            err(&fake, ResourceKind::BitbucketRepository, None),
            ConnectorError::Upstream(_)
        ));
    }

    #[test]
    fn malformed_pages_are_upstream_errors() {
        let cases = [
            (ResourceKind::JiraProject, jira_url(0), r#"{"projects":[]}"#),
            (
                ResourceKind::JiraProject,
                jira_url(0),
                r#"{"values":[{"key":"NOID"}]}"#,
            ),
            (
                ResourceKind::ConfluenceSpace,
                format!("{SITE}/wiki/api/v2/spaces?limit=100"),
                r#"{"spaces":[]}"#,
            ),
            (
                ResourceKind::BitbucketRepository,
                format!("{BB}?pagelen=100"),
                r#"{"size":0}"#,
            ),
            (
                ResourceKind::BitbucketRepository,
                format!("{BB}?pagelen=100"),
                "<html></html>",
            ),
        ];
        for (kind, url, body) in cases {
            let fake = FakeTransport::new();
            fake.on(Method::Get, &url, Ok(Response::new(200, body)));
            assert!(
                matches!(err(&fake, kind, None), ConnectorError::Upstream(u) if u.status == Some(200)),
                "{kind:?} {body}"
            );
        }
    }

    #[test]
    fn unconfigured_products_name_the_missing_key_and_cursors_are_per_kind() {
        let fake = FakeTransport::new();
        let only_bb = Config::new(
            &[
                ("scim_url", "https://api.atlassian.com/scim/directory/d1"),
                ("product_user", "bot@acme.com"),
                ("bitbucket_workspace", "acme"),
            ],
            &["scim_token", "product_token"],
        );
        let e = list_resources(&only_bb, &fake, ResourceKind::JiraProject, &req(None, None));
        assert_eq!(e.unwrap_err().config_key(), Some("site_url"));
        let only_site = Config::new(
            &[
                ("scim_url", "https://api.atlassian.com/scim/directory/d1"),
                ("product_user", "bot@acme.com"),
                ("site_url", SITE),
            ],
            &["scim_token", "product_token"],
        );
        let e = list_resources(
            &only_site,
            &fake,
            ResourceKind::BitbucketRepository,
            &req(None, None),
        );
        assert_eq!(e.unwrap_err().config_key(), Some("bitbucket_workspace"));
        let no_products = Config::new(
            &[("scim_url", "https://api.atlassian.com/scim/directory/d1")],
            &["scim_token"],
        );
        let e = list_resources(
            &no_products,
            &fake,
            ResourceKind::ConfluenceSpace,
            &req(None, None),
        );
        assert_eq!(e.unwrap_err().config_key(), Some("product_user"));
        let e = err(&fake, ResourceKind::ConfluenceSpace, Some("v1:jira:5"));
        assert!(matches!(e, ConnectorError::InvalidInput(m) if m.contains("Jira")));
        assert!(fake.requests().is_empty());
    }
}
