//! `list-resources`: Jira projects, Confluence spaces and Bitbucket repositories, with the
//! product credential (Basic `product_user`:`product_token`).
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

/// One page of discovered product resources of one kind.
pub fn list_resources(
    config: &Config,
    transport: &dyn Transport,
    kind: ResourceKind,
    page: &PageRequest,
) -> Result<ResourcePage, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    let limit = page_limit(page)?;
    let listing = match kind {
        ResourceKind::JiraProject => Listing::Jira,
        ResourceKind::ConfluenceSpace => Listing::Confluence,
        ResourceKind::BitbucketRepository => Listing::Bitbucket,
    };
    let target = Target::of(&cfg, kind)?;
    let first = match start(page, listing)? {
        Some(c) => c,
        None => match kind {
            ResourceKind::JiraProject => Cursor::Jira { start_at: 0 },
            ResourceKind::ConfluenceSpace => Cursor::Confluence {
                query: format!("limit={}", limit.min(products::CONFLUENCE_MAX_LIMIT)),
                skip: 0,
            },
            ResourceKind::BitbucketRepository => Cursor::Bitbucket {
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
    fn of(cfg: &ConnectorConfig, kind: ResourceKind) -> Result<Target, ConnectorError> {
        let (what, needs) = match kind {
            ResourceKind::JiraProject => ("Jira projects", SITE_URL),
            ResourceKind::ConfluenceSpace => ("Confluence spaces", SITE_URL),
            ResourceKind::BitbucketRepository => ("Bitbucket repositories", BITBUCKET_WORKSPACE),
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
        Ok(match kind {
            ResourceKind::JiraProject | ResourceKind::ConfluenceSpace => {
                let site = cfg.site_url.clone().ok_or_else(missing)?;
                let (endpoint, api) = if kind == ResourceKind::JiraProject {
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
            ResourceKind::BitbucketRepository => {
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
    let items = values
        .into_iter()
        .map(|p| {
            let id =
                p.id.filter(|s| !s.is_empty())
                    .ok_or_else(|| malformed(t.api, resp.status, "a listed project has no `id`"))?;
            Ok(ResourceRecord {
                kind: ResourceKind::JiraProject,
                name: p
                    .name
                    .or_else(|| p.key.clone())
                    .unwrap_or_else(|| id.clone()),
                id,
                key: p.key,
                url: p.self_url,
            })
        })
        .collect::<Result<Vec<_>, ConnectorError>>()?;
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
    let items = spaces
        .into_iter()
        .map(|s| {
            let id =
                s.id.filter(|v| !v.is_empty())
                    .ok_or_else(|| malformed(t.api, resp.status, "a listed space has no `id`"))?;
            Ok(ResourceRecord {
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
            })
        })
        .collect::<Result<Vec<_>, ConnectorError>>()?;
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
    let items = repos
        .into_iter()
        .map(|r| {
            let url = r.html_url();
            let id = r
                .uuid
                .or_else(|| r.full_name.clone())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    malformed(t.api, resp.status, "a listed repository has no `uuid`")
                })?;
            Ok(ResourceRecord {
                kind: ResourceKind::BitbucketRepository,
                name: r
                    .name
                    .or_else(|| r.slug.clone())
                    .unwrap_or_else(|| id.clone()),
                id,
                key: r.slug,
                url,
            })
        })
        .collect::<Result<Vec<_>, ConnectorError>>()?;
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
