//! The product APIs used for discovery (Jira, Confluence, Bitbucket): URL builders, page
//! shapes and error bodies. Unknown attributes are ignored; parsers never panic.

use serde::Deserialize;
use serde_json::Value;

use crate::encode::{query, segment};
use crate::upstream::{ErrorDetail, fallback_detail};
use crate::wire;

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
        "{api}/2.0/repositories/{}?pagelen={pagelen}",
        segment(workspace)
    )
}

/// A Jira project.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct JiraProject {
    /// `id` (a numeric string).
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub id: Option<String>,
    /// `key`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub key: Option<String>,
    /// `name`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub name: Option<String>,
    /// `self`.
    #[serde(rename = "self", default, deserialize_with = "wire::opt_string")]
    pub self_url: Option<String>,
}

/// A page of Jira's project search. `values` is required.
#[derive(Debug, Clone, Deserialize)]
pub struct JiraProjectPage {
    /// `values`.
    #[serde(deserialize_with = "wire::null_as_empty")]
    pub values: Vec<JiraProject>,
    /// `isLast`.
    #[serde(rename = "isLast", default)]
    pub is_last: Option<bool>,
    /// `startAt`.
    #[serde(rename = "startAt", default, deserialize_with = "wire::opt_u64")]
    pub start_at: Option<u64>,
    /// `total`.
    #[serde(default, deserialize_with = "wire::opt_u64")]
    pub total: Option<u64>,
}

/// A Confluence space.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct ConfluenceSpace {
    /// `id`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub id: Option<String>,
    /// `key`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub key: Option<String>,
    /// `name`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub name: Option<String>,
}

/// `_links` of a Confluence page.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct ConfluenceLinks {
    /// `next`: a relative URL of the next page.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub next: Option<String>,
}

/// A page of Confluence spaces. `results` is required; the next page is in `_links.next`
/// or the `Link` header.
#[derive(Debug, Clone, Deserialize)]
pub struct ConfluenceSpacePage {
    /// `results`.
    #[serde(deserialize_with = "wire::null_as_empty")]
    pub results: Vec<ConfluenceSpace>,
    /// `_links`.
    #[serde(rename = "_links", default)]
    pub links: Option<ConfluenceLinks>,
}

/// A Bitbucket repository.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct BitbucketRepository {
    /// `uuid`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub uuid: Option<String>,
    /// `slug`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub slug: Option<String>,
    /// `name`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub name: Option<String>,
    /// `full_name`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub full_name: Option<String>,
}

/// A page of Bitbucket repositories. `values` is required; follow `next` until absent.
#[derive(Debug, Clone, Deserialize)]
pub struct BitbucketRepositoryPage {
    /// `values`.
    #[serde(deserialize_with = "wire::null_as_empty")]
    pub values: Vec<BitbucketRepository>,
    /// `next`: the absolute URL of the next page.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub next: Option<String>,
}

/// Parses a product error body: Jira `{"errorMessages":[…],"errors":{field:msg}}`,
/// Confluence `{"errors":[{"status","code","title","detail"}]}`, Bitbucket
/// `{"type":"error","error":{"message","detail"}}`, or the common `{"message"}` forms.
pub fn parse_error(body: &[u8]) -> Option<ErrorDetail> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let text = |o: &Value, k: &str| {
        o.get(k)
            .and_then(wire::value_to_string)
            .filter(|s| !s.is_empty())
    };
    // Jira
    let mut jira: Vec<String> = v
        .get("errorMessages")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(wire::value_to_string).collect())
        .unwrap_or_default();
    if let Some(fields) = v.get("errors").and_then(Value::as_object) {
        jira.extend(
            fields
                .iter()
                .filter_map(|(k, m)| wire::value_to_string(m).map(|m| format!("{k}: {m}"))),
        );
    }
    if !jira.is_empty() {
        return Some(ErrorDetail {
            code: None,
            message: jira.join("; "),
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
        let j: JiraProjectPage = serde_json::from_slice(
            br#"{"values":[{"id":"10000","key":"ENG","name":"Eng"}],"isLast":true,"startAt":0}"#,
        )
        .unwrap();
        assert_eq!(j.values[0].key.as_deref(), Some("ENG"));
        let c: ConfluenceSpacePage = serde_json::from_slice(br#"{"results":[{"id":123,"key":"DOC","name":"Docs"}],"_links":{"next":"/wiki/api/v2/spaces?cursor=x"}}"#).unwrap();
        assert_eq!(c.results[0].id.as_deref(), Some("123"));
        assert!(c.links.unwrap().next.is_some());
        let b: BitbucketRepositoryPage =
            serde_json::from_slice(br#"{"values":[{"slug":"r","name":"R"}],"next":null}"#).unwrap();
        assert_eq!(b.next, None);
        assert!(serde_json::from_slice::<JiraProjectPage>(br#"{"projects":[]}"#).is_err());
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
