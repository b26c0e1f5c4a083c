//! Reads: `check-health` (one GET of `/ServiceProviderConfig` with the token), and
//! `list-users` / `list-groups` paged by `startIndex` and `count` behind an opaque cursor.

use lifecycle_connector_sdk::transport::Transport;

use crate::client::{Group, Scim, User};
use crate::config::{MAX_PAGE_SIZE, ScimConfig, TOKEN};
use crate::model::{
    Config, ConnectorError, GroupRecord, HealthReport, Page, PageRequest, Probe, ProbeStatus,
    UserRecord,
};

/// The prefix of every cursor this connector issues (then the 1-based `startIndex`).
const CURSOR_PREFIX: &str = "scim-start:";

/// `check-health`: one read-only probe of the token against the base URL.
pub fn check_health(
    config: &Config,
    transport: &dyn Transport,
) -> Result<HealthReport, ConnectorError> {
    let config = ScimConfig::parse(config)?;
    let scim = Scim::new(&config, transport);
    let path = "/ServiceProviderConfig";
    let status = match scim.get(path, "reading the ServiceProviderConfig") {
        Ok(Some(_)) => ProbeStatus::Ok,
        Ok(None) => ProbeStatus::Failed(ConnectorError::NotFound(format!(
            "{} answered 404: is base_url the SCIM base URL?",
            scim.url(path)
        ))),
        Err(e) => ProbeStatus::Failed(e),
    };
    let healthy = status == ProbeStatus::Ok;
    Ok(HealthReport {
        probes: vec![Probe {
            name: "scim".into(),
            credential: TOKEN.into(),
            target: scim.url(path),
            status,
        }],
        healthy,
    })
}

/// The `startIndex` a cursor names (1 for none).
fn start_of(cursor: Option<&str>) -> Result<u64, ConnectorError> {
    let Some(cursor) = cursor else { return Ok(1) };
    cursor
        .strip_prefix(CURSOR_PREFIX)
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            ConnectorError::InvalidInput(format!(
                "cursor {cursor:?} is not one this connector issued"
            ))
        })
}

/// One page of `resource` (`Users` or `Groups`), each item parsed by `parse`.
fn page<T>(
    config: &Config,
    transport: &dyn Transport,
    resource: &str,
    request: &PageRequest,
    parse: impl Fn(&serde_json::Value) -> Option<T>,
) -> Result<Page<T>, ConnectorError> {
    let config = ScimConfig::parse(config)?;
    let start = start_of(request.cursor.as_deref())?;
    let count = request
        .limit
        .unwrap_or(config.page_size)
        .clamp(1, MAX_PAGE_SIZE);
    let scim = Scim::new(&config, transport);
    let what = format!("listing {resource}");
    let listed = scim.list(
        &format!("/{resource}?startIndex={start}&count={count}"),
        &what,
    )?;
    let mut items = Vec::with_capacity(listed.resources.len());
    for r in &listed.resources {
        items.push(parse(r).ok_or_else(|| {
            ConnectorError::Upstream(None, None, format!("{what}: an item has no id or name"))
        })?);
    }
    let next = start.saturating_add(u64::try_from(items.len()).unwrap_or(u64::MAX));
    let next_cursor =
        (!items.is_empty() && next <= listed.total).then(|| format!("{CURSOR_PREFIX}{next}"));
    Ok(Page { items, next_cursor })
}

/// `list-users`: one page.
pub fn list_users(
    config: &Config,
    transport: &dyn Transport,
    request: &PageRequest,
) -> Result<Page<UserRecord>, ConnectorError> {
    page(config, transport, "Users", request, |v| {
        User::parse(v).map(|u| UserRecord {
            id: u.id,
            user_name: u.user_name,
            display_name: u.display_name,
            external_id: u.external_id,
            active: u.active,
        })
    })
}

/// `list-groups`: one page, with members.
pub fn list_groups(
    config: &Config,
    transport: &dyn Transport,
    request: &PageRequest,
) -> Result<Page<GroupRecord>, ConnectorError> {
    page(config, transport, "Groups", request, |v| {
        Group::parse(v).map(|g| GroupRecord {
            id: g.id,
            name: g.name,
            members: g.members,
        })
    })
}

/// `list-resources` always fails: SCIM declares no resource kinds. The error is the
/// configuration's when it is invalid, `unsupported` otherwise.
pub fn list_resources(config: &Config, kind: &str) -> ConnectorError {
    match ScimConfig::parse(config) {
        Err(e) => e,
        Ok(_) => ConnectorError::Unsupported(format!(
            "resource kind {kind:?}: generic-scim declares no resource kinds"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{BASE, config, list, user_json};
    use lifecycle_connector_sdk::transport::FakeTransport;
    use serde_json::Value;

    #[test]
    fn health_probes_the_token_and_reports_a_refusal() {
        let fake = FakeTransport::new();
        fake.on_get(&format!("{BASE}/ServiceProviderConfig"), 200, "{}");
        let report = check_health(&config(), &fake).unwrap();
        assert!(report.healthy);
        let fake = FakeTransport::new();
        fake.on_get(&format!("{BASE}/ServiceProviderConfig"), 401, "{}");
        let report = check_health(&config(), &fake).unwrap();
        assert!(!report.healthy);
        assert!(matches!(
            &report.probes[0].status,
            ProbeStatus::Failed(ConnectorError::Unauthorized(_))
        ));
    }

    #[test]
    fn users_page_with_an_opaque_cursor_to_the_end() {
        let fake = FakeTransport::new();
        let u = |i: u32| -> Value {
            serde_json::from_str(&user_json(&format!("u{i}"), &format!("{i}@x.com"), true)).unwrap()
        };
        let page1 = serde_json::json!({"totalResults": 3, "Resources": [u(1), u(2)]});
        fake.on_get(
            &format!("{BASE}/Users?startIndex=1&count=2"),
            200,
            &page1.to_string(),
        );
        fake.on_get(
            &format!("{BASE}/Users?startIndex=3&count=2"),
            200,
            &list(&[u(3)]),
        );
        let first = list_users(
            &config(),
            &fake,
            &PageRequest {
                cursor: None,
                limit: Some(2),
            },
        )
        .unwrap();
        assert_eq!(first.items.len(), 2);
        let cursor = first.next_cursor.clone();
        assert_eq!(cursor.as_deref(), Some("scim-start:3"));
        let second = list_users(
            &config(),
            &fake,
            &PageRequest {
                cursor,
                limit: Some(2),
            },
        )
        .unwrap();
        assert_eq!(second.items[0].id, "u3");
        assert_eq!(second.next_cursor, None);
        let bad = PageRequest {
            cursor: Some("7".into()),
            limit: None,
        };
        assert!(matches!(
            list_users(&config(), &fake, &bad),
            Err(ConnectorError::InvalidInput(_))
        ));
        assert!(matches!(
            list_resources(&config(), "repo"),
            ConnectorError::Unsupported(_)
        ));
    }
}
