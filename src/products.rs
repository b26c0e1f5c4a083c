//! The product APIs used for discovery (Jira, Confluence, Bitbucket): URL builders, page
//! shapes and error bodies. Unknown attributes are ignored; parsers never panic.

use serde_json::Value;

use crate::base_url;
use crate::encode::{decode, query, segment};
use crate::text::quoted;
use crate::transport::Response;
use crate::upstream::{ErrorDetail, fallback_detail};
use crate::wire::{self, FromJson};

/// The Confluence spaces endpoint, relative to `site_url`.
pub const CONFLUENCE_SPACES_PATH: &str = "/wiki/api/v2/spaces";
/// The largest Confluence `limit`.
pub const CONFLUENCE_MAX_LIMIT: u32 = 250;
/// The largest Bitbucket `pagelen`.
pub const BITBUCKET_MAX_PAGELEN: u32 = 100;

/// `{site}/rest/api/3/project/search?startAt=…&maxResults=…`.
pub fn jira_projects_url(site: &str, start_at: u64, max_results: u32) -> String {
    format!("{site}/rest/api/3/project/search?startAt={start_at}&maxResults={max_results}")
}

/// `{site}/wiki/api/v2/spaces?limit=…` (plus `&cursor=…` when given).
pub fn confluence_spaces_url(site: &str, limit: u32, cursor: Option<&str>) -> String {
    match cursor {
        Some(c) => format!(
            "{site}/wiki/api/v2/spaces?limit={limit}&cursor={}",
            query(c)
        ),
        None => format!("{site}/wiki/api/v2/spaces?limit={limit}"),
    }
}

/// `{api}/2.0/repositories/{workspace}?pagelen=…`.
pub fn bitbucket_repositories_url(api: &str, workspace: &str, pagelen: u32) -> String {
    format!(
        "{api}{}?pagelen={pagelen}",
        bitbucket_repositories_path(workspace)
    )
}

/// The Bitbucket repositories endpoint of `workspace`, relative to `bitbucket_api_url`.
pub fn bitbucket_repositories_path(workspace: &str) -> String {
    format!("/2.0/repositories/{}", segment(workspace))
}

/// `{base}{endpoint}?{query}` (no `?` for an empty query). `query` must come from
/// [`next_query`] or be built by the connector.
pub fn with_query(base: &str, endpoint: &str, query: &str) -> String {
    if query.is_empty() {
        format!("{base}{endpoint}")
    } else {
        format!("{base}{endpoint}?{query}")
    }
}

/// The target of the `rel="next"` entry of the response's `Link` headers, if any
/// (`Link: <url>; rel="next", <url2>; rel="prev"`; several headers and rel lists allowed).
pub fn link_header_next(resp: &Response) -> Option<String> {
    resp.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("link"))
        .flat_map(|(_, v)| link_entries(v))
        .find(|(_, params)| {
            params.split(';').any(|p| {
                let Some((k, v)) = p.split_once('=') else {
                    return false;
                };
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            })
        })
        .map(|(target, _)| target)
}

/// `(target, params)` of each `<target>; params` entry of one `Link` header value.
fn link_entries(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find('>') else { break };
        let target = after.get(..close).unwrap_or_default().trim().to_string();
        let tail = after.get(close + 1..).unwrap_or_default();
        // Parameters run to the next entry: a `,` followed (eventually) by `<`.
        let end = crate::text::find(tail, ", <")
            .or_else(|| crate::text::find(tail, ",<"))
            .unwrap_or(tail.len());
        out.push((target, tail.get(..end).unwrap_or_default().to_string()));
        rest = tail.get(end..).unwrap_or_default();
    }
    out
}

/// Checks a next-page link (absolute, or relative to the origin) from a product API and
/// returns its query string, so the caller can rebuild the URL from its configured base.
///
/// The link must address `{base}{endpoint}` on exactly the base's origin (scheme, host and
/// port). A relative link may also omit the base's own path (Atlassian's relative links are
/// relative to the site root). Anything else — another host, `//host/…`, another path,
/// characters a query may not hold — is refused with the reason.
pub fn next_query(base: &str, endpoint: &str, link: &str) -> Result<String, String> {
    let link = link.trim();
    let base = base_url::parse(base).map_err(|e| format!("the configured base URL {e}"))?;
    let (target, query) = link.split_once('?').unwrap_or((link, ""));
    let expected = format!("{}{endpoint}", base.path);
    let full_path =
        |path: &str| decode(path.trim_end_matches('/')).eq_ignore_ascii_case(&decode(&expected));
    let site_rooted = |path: &str| {
        !base.path.is_empty()
            && decode(path.trim_end_matches('/')).eq_ignore_ascii_case(&decode(endpoint))
    };
    if target.starts_with('/') && !target.starts_with("//") {
        if target.contains('\\') || !(full_path(target) || site_rooted(target)) {
            return Err(format!(
                "the next link {} leaves the endpoint {expected}",
                quoted(link)
            ));
        }
    } else {
        let parsed =
            base_url::parse(target).map_err(|e| format!("the next link {} {e}", quoted(link)))?;
        if parsed.scheme != base.scheme || parsed.host != base.host || parsed.port != base.port {
            return Err(format!(
                "the next link {} points off the configured host {base}",
                quoted(link)
            ));
        }
        if !full_path(&parsed.path) {
            return Err(format!(
                "the next link {} leaves the endpoint {expected}",
                quoted(link)
            ));
        }
    }
    check_query(query).map_err(|why| format!("the next link {} {why}", quoted(link)))?;
    Ok(query.to_string())
}

/// A query string the connector will append as is: RFC 3986 query characters only, valid
/// percent-escapes, at most 2048 characters.
pub fn check_query(query: &str) -> Result<(), String> {
    if query.len() > 2048 {
        return Err("has a query longer than 2048 characters".to_string());
    }
    crate::base_url::check_rfc3986(query, "query", b"?")
}

/// A Jira project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JiraProject {
    /// `id` (a numeric string).
    pub id: Option<String>,
    /// `key`.
    pub key: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `self`.
    pub self_url: Option<String>,
}

impl FromJson for JiraProject {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "a Jira project")?;
        Ok(JiraProject {
            id: wire::opt_string(o, "id"),
            key: wire::opt_string(o, "key"),
            name: wire::opt_string(o, "name"),
            self_url: wire::opt_string(o, "self"),
        })
    }
}

/// A page of Jira's project search. `values` is required.
#[derive(Debug, Clone)]
pub struct JiraProjectPage {
    /// `values`.
    pub values: Vec<JiraProject>,
    /// `isLast`.
    pub is_last: Option<bool>,
    /// `startAt`.
    pub start_at: Option<u64>,
    /// `total`.
    pub total: Option<u64>,
    /// `maxResults`: the page size the server really used.
    pub max_results: Option<u64>,
}

impl FromJson for JiraProjectPage {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "a Jira project page")?;
        Ok(JiraProjectPage {
            values: required_list(o, "values")?,
            is_last: wire::opt_bool(o.get("isLast"), "isLast")?,
            start_at: wire::opt_u64(o, "startAt"),
            total: wire::opt_u64(o, "total"),
            max_results: wire::opt_u64(o, "maxResults"),
        })
    }
}

/// The list `key`: required, `null` meaning empty.
fn required_list<T: FromJson>(
    o: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Vec<T>, String> {
    Ok(wire::opt_list(Some(wire::required(o, key)?), key)?.unwrap_or_default())
}

/// A Confluence space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfluenceSpace {
    /// `id`.
    pub id: Option<String>,
    /// `key`.
    pub key: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `_links` (`webui`: the space's path under `_links.base`).
    pub links: Option<ConfluenceLinks>,
}

impl FromJson for ConfluenceSpace {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "a Confluence space")?;
        Ok(ConfluenceSpace {
            id: wire::opt_string(o, "id"),
            key: wire::opt_string(o, "key"),
            name: wire::opt_string(o, "name"),
            links: wire::opt_object(o.get("_links"), "_links")?,
        })
    }
}

/// `_links` of a Confluence page or space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfluenceLinks {
    /// `next`: a relative URL of the next page.
    pub next: Option<String>,
    /// `base`: the absolute URL relative links of the page build on (e.g. `…/wiki`).
    pub base: Option<String>,
    /// `webui`: a space's path in the web UI, relative to `base`.
    pub webui: Option<String>,
}

impl FromJson for ConfluenceLinks {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "`_links`")?;
        Ok(ConfluenceLinks {
            next: wire::opt_string(o, "next"),
            base: wire::opt_string(o, "base"),
            webui: wire::opt_string(o, "webui"),
        })
    }
}

/// A page of Confluence spaces. `results` is required; the next page is in `_links.next`
/// or the `Link` header.
#[derive(Debug, Clone)]
pub struct ConfluenceSpacePage {
    /// `results`.
    pub results: Vec<ConfluenceSpace>,
    /// `_links`.
    pub links: Option<ConfluenceLinks>,
}

impl FromJson for ConfluenceSpacePage {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "a Confluence space page")?;
        Ok(ConfluenceSpacePage {
            results: required_list(o, "results")?,
            links: wire::opt_object(o.get("_links"), "_links")?,
        })
    }
}

/// A Bitbucket repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BitbucketRepository {
    /// `uuid`.
    pub uuid: Option<String>,
    /// `slug`.
    pub slug: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `full_name`.
    pub full_name: Option<String>,
    /// `links` (`html.href`: the repository's web page).
    pub links: Option<Value>,
}

impl FromJson for BitbucketRepository {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "a Bitbucket repository")?;
        Ok(BitbucketRepository {
            uuid: wire::opt_string(o, "uuid"),
            slug: wire::opt_string(o, "slug"),
            name: wire::opt_string(o, "name"),
            full_name: wire::opt_string(o, "full_name"),
            links: o.get("links").filter(|l| !l.is_null()).cloned(),
        })
    }
}

impl BitbucketRepository {
    /// `links.html.href`, when given.
    pub fn html_url(&self) -> Option<String> {
        self.links
            .as_ref()
            .and_then(|l| l.get("html"))
            .and_then(|h| h.get("href"))
            .and_then(wire::value_to_string)
    }
}

/// A page of Bitbucket repositories. `values` is required; follow `next` until absent.
#[derive(Debug, Clone)]
pub struct BitbucketRepositoryPage {
    /// `values`.
    pub values: Vec<BitbucketRepository>,
    /// `next`: the absolute URL of the next page.
    pub next: Option<String>,
}

impl FromJson for BitbucketRepositoryPage {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "a Bitbucket repository page")?;
        Ok(BitbucketRepositoryPage {
            values: required_list(o, "values")?,
            next: wire::opt_string(o, "next"),
        })
    }
}

/// Parses a product error body: Jira `{"errorMessages":[…],"errors":{field:msg}}`,
/// Confluence `{"errors":[{"status","code","title","detail"}]}`, Bitbucket
/// `{"type":"error","error":{"message","detail"}}`, or the common `{"message"}` forms.
pub fn parse_error(body: &[u8]) -> Option<ErrorDetail> {
    let v = wire::parse_value(body).ok()?;
    let text = |o: &Value, k: &str| {
        o.get(k)
            .and_then(wire::value_to_string)
            .filter(|s| !s.is_empty())
    };
    // Jira
    let mut jira = String::new();
    let mut push = |m: String| {
        if !jira.is_empty() {
            jira.push_str("; ");
        }
        jira.push_str(&m);
    };
    if let Some(a) = v.get("errorMessages").and_then(Value::as_array) {
        for m in a {
            if let Some(m) = wire::value_to_string(m) {
                push(m);
            }
        }
    }
    if let Some(fields) = v.get("errors").and_then(Value::as_object) {
        for (k, m) in fields {
            if let Some(m) = wire::value_to_string(m) {
                push(format!("{k}: {m}"));
            }
        }
    }
    if !jira.is_empty() {
        return Some(ErrorDetail {
            code: None,
            message: jira,
        });
    }
    // Confluence
    if let Some(first) = v
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        let code = text(first, "code");
        let message = text(first, "title")
            .or_else(|| text(first, "detail"))
            .or_else(|| code.clone())
            .unwrap_or_default();
        return Some(ErrorDetail { code, message });
    }
    // Bitbucket
    if let Some(err) = v.get("error").filter(|e| e.is_object()) {
        let message = match (text(err, "message"), text(err, "detail")) {
            (Some(m), Some(d)) => format!("{m}: {d}"),
            (Some(m), None) | (None, Some(m)) => m,
            (None, None) => return None,
        };
        return Some(ErrorDetail {
            code: None,
            message,
        });
    }
    fallback_detail(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            jira_projects_url("https://a.atlassian.net", 0, 1),
            "https://a.atlassian.net/rest/api/3/project/search?startAt=0&maxResults=1"
        );
        assert_eq!(
            confluence_spaces_url("https://a.atlassian.net", 1, Some("a b&c")),
            "https://a.atlassian.net/wiki/api/v2/spaces?limit=1&cursor=a%20b%26c"
        );
        assert_eq!(
            bitbucket_repositories_url("https://api.bitbucket.org", "my ws", 1),
            "https://api.bitbucket.org/2.0/repositories/my%20ws?pagelen=1"
        );
    }

    #[test]
    fn parses_pages() {
        let j: JiraProjectPage = wire::parse(
            br#"{"values":[{"id":"10000","key":"ENG","name":"Eng"}],"isLast":true,"startAt":0}"#,
        )
        .unwrap();
        assert_eq!(j.values[0].key.as_deref(), Some("ENG"));
        let c: ConfluenceSpacePage = wire::parse(br#"{"results":[{"id":123,"key":"DOC","name":"Docs"}],"_links":{"next":"/wiki/api/v2/spaces?cursor=x"}}"#).unwrap();
        assert_eq!(c.results[0].id.as_deref(), Some("123"));
        assert!(c.links.unwrap().next.is_some());
        let b: BitbucketRepositoryPage =
            wire::parse(br#"{"values":[{"slug":"r","name":"R"}],"next":null}"#).unwrap();
        assert_eq!(b.next, None);
        assert!(wire::parse::<JiraProjectPage>(br#"{"projects":[]}"#).is_err());
    }

    #[test]
    fn link_headers() {
        let r = |vals: &[&str]| {
            vals.iter()
                .fold(Response::new(200, ""), |r, v| r.with_header("Link", v))
        };
        assert_eq!(
            link_header_next(&r(&[r#"</wiki/api/v2/spaces?cursor=a>; rel="next""#])).as_deref(),
            Some("/wiki/api/v2/spaces?cursor=a")
        );
        assert_eq!(
            link_header_next(&r(&[
                r#"<https://h/p?x=1,2>; rel="prev", <https://h/n?c=3>; REL=next"#
            ]))
            .as_deref(),
            Some("https://h/n?c=3")
        );
        assert_eq!(
            link_header_next(&r(&[r#"<a>; rel="prev""#, r#"<b>; rel="last next""#])).as_deref(),
            Some("b")
        );
        assert_eq!(link_header_next(&r(&[r#"<a>; rel="prev""#])), None);
        assert_eq!(link_header_next(&r(&["garbage", "<unterminated"])), None);
        assert_eq!(link_header_next(&Response::new(200, "")), None);
    }

    #[test]
    fn next_queries_stay_on_the_base() {
        let site = "https://acme.atlassian.net";
        let ok = |base: &str, link: &str| next_query(base, CONFLUENCE_SPACES_PATH, link);
        assert_eq!(
            ok(site, "/wiki/api/v2/spaces?limit=25&cursor=x%3D").as_deref(),
            Ok("limit=25&cursor=x%3D")
        );
        assert_eq!(
            ok(
                site,
                "https://ACME.atlassian.net:443/wiki/api/v2/spaces?cursor=y"
            )
            .as_deref(),
            Ok("cursor=y")
        );
        // A base with a path: absolute links keep it, relative ones may be site-rooted.
        let gw = "https://api.atlassian.com/ex/confluence/cloud-1";
        assert_eq!(
            ok(
                gw,
                "https://api.atlassian.com/ex/confluence/cloud-1/wiki/api/v2/spaces?c=1"
            )
            .as_deref(),
            Ok("c=1")
        );
        assert_eq!(ok(gw, "/wiki/api/v2/spaces?c=2").as_deref(), Ok("c=2"));
        assert!(ok(gw, "https://api.atlassian.com/wiki/api/v2/spaces?c=1").is_err());
        for bad in [
            "https://evil.example/wiki/api/v2/spaces?c=1",
            "//evil.example/wiki/api/v2/spaces?c=1",
            "/\\evil.example/wiki/api/v2/spaces",
            "https://acme.atlassian.net/wiki/api/v2/pages?c=1",
            "javascript:alert(1)",
            "/wiki/api/v2/spaces?c=<x>",
            "",
        ] {
            assert!(ok(site, bad).is_err(), "{bad:?}");
        }
        let m = ok(site, "https://evil.example/wiki/api/v2/spaces").unwrap_err();
        assert!(m.contains("off the configured host"), "{m}");
        assert_eq!(
            with_query("https://h", "/2.0/repositories/ws", ""),
            "https://h/2.0/repositories/ws"
        );
    }

    #[test]
    fn parses_errors() {
        let e = parse_error(br#"{"errorMessages":["No project"],"errors":{"key":"bad"}}"#).unwrap();
        assert_eq!(e.message, "No project; key: bad");
        let e =
            parse_error(br#"{"errors":[{"status":403,"code":"FORBIDDEN","title":"Not allowed"}]}"#)
                .unwrap();
        assert_eq!(
            e,
            ErrorDetail {
                code: Some("FORBIDDEN".into()),
                message: "Not allowed".into()
            }
        );
        let e = parse_error(br#"{"type":"error","error":{"message":"Access denied"}}"#).unwrap();
        assert_eq!(e.message, "Access denied");
        let e = parse_error(br#"{"message":"Client must be authenticated"}"#).unwrap();
        assert_eq!(e.message, "Client must be authenticated");
    }
}
