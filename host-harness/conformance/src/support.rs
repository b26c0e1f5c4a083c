//! Helpers the cases share with the integration tests: tenants pointing at a simulator, walks
//! of the paged listings, and short readable forms of outcomes.

use std::future::Future;

use crate::Subject;
use crate::check::Difference;
use atlassian_simulator::{Simulator, SimulatorBuilder};
use lifecycle_host::bindings::types::{
    ChangeKind, ChangeStatus, GroupRecord, Outcome, PageRequest, ResourceRecord, UserRecord,
};
use lifecycle_host::paging;
use lifecycle_host::{Invocation, LoadedConnector, Tenant};

/// The tenant a simulator's own config file describes (full: SCIM, admin and products).
///
/// The simulator always writes a valid file; were it not to, the tenant would be empty and
/// every call would fail with `invalid-config` rather than panic.
pub fn sim_tenant(sim: &Simulator) -> Tenant {
    Tenant::from_toml(&sim.config_toml()).unwrap_or_default()
}

/// The SCIM-only shape of a simulator's tenant: `scim_url` and `scim_token` only.
pub fn sim_scim_only(sim: &Simulator) -> Tenant {
    let full = sim_tenant(sim);
    let mut tenant = Tenant::default();
    if let Some(url) = full.settings.get("scim_url") {
        tenant = tenant.with_setting("scim_url", url.clone());
    }
    if let Some(token) = full.secrets.get("scim_token") {
        tenant = tenant.with_secret("scim_token", token.expose());
    }
    tenant
}

/// `connector` under its operator's policy with loopback allowed: what the host operator
/// decides when it points tenants at a local simulator. The difference says why it failed.
pub fn on_simulator(connector: &LoadedConnector) -> Result<LoadedConnector, Difference> {
    connector
        .with_operator(connector.operator().clone().allowing_loopback())
        .map_err(|e| Difference::new("the outbound client", "built", e))
}

/// More calls than any walk needs: a walk that does not end is a difference.
pub const MAX_CALLS: usize = 200;

/// Walks a listing to its end through [`lifecycle_host::paging::walk`] (so with its guards:
/// a repeated cursor or item, an empty page that is not the last, more than [`MAX_CALLS`]
/// pages), asking for `limit` items a page (`None`: the connector's default): every item, and
/// how many calls.
pub async fn walk<P, F, Fut>(
    what: &str,
    limit: Option<u32>,
    mut list: F,
) -> Result<(Vec<P::Item>, usize), Difference>
where
    P: paging::Page,
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Invocation<P>>,
{
    let limits = paging::WalkLimits {
        max_pages: MAX_CALLS,
        ..paging::WalkLimits::default()
    };
    let (mut items, mut calls) = (Vec::new(), 0);
    // The walk asks for `page_size` items a page; the request's limit is set here instead,
    // so that `None` leaves the page size to the connector.
    let walked = paging::walk(
        what,
        0,
        limits,
        |p| {
            calls += 1;
            list(PageRequest { limit, ..p })
        },
        |page| items.extend(page),
    )
    .await;
    match walked {
        Ok(_) => Ok((items, calls)),
        Err(paging::WalkError::Call(e)) => Err(Difference::new(what, "success", e)),
        Err(e @ paging::WalkError::Upstream(_)) => Err(Difference::new(
            what,
            format!("an end within {MAX_CALLS} calls"),
            e,
        )),
    }
}

/// Walks `list-users` to its end: every user, and how many calls.
pub async fn users(
    connector: &dyn Subject,
    tenant: &Tenant,
    limit: Option<u32>,
) -> Result<(Vec<UserRecord>, usize), Difference> {
    walk("list-users", limit, |p| async move {
        connector.list_users(tenant, &p).await
    })
    .await
}

/// Walks `list-groups` to its end: every group, and how many calls.
pub async fn groups(
    connector: &dyn Subject,
    tenant: &Tenant,
    limit: Option<u32>,
) -> Result<(Vec<GroupRecord>, usize), Difference> {
    walk("list-groups", limit, |p| async move {
        connector.list_groups(tenant, &p).await
    })
    .await
}

/// Walks `list-resources` of `kind` to its end: every record, and how many calls.
pub async fn resources(
    connector: &dyn Subject,
    tenant: &Tenant,
    kind: &str,
    limit: Option<u32>,
) -> Result<(Vec<ResourceRecord>, usize), Difference> {
    walk(&format!("list-resources {kind}"), limit, |p| async move {
        connector.list_resources(tenant, kind, &p).await
    })
    .await
}

/// The `startIndex` of every SCIM user listing request, in order.
pub fn start_indexes(sim: &Simulator) -> Vec<u64> {
    let path = format!("/scim/directory/{}/Users", sim.directory_id());
    sim.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == path)
        .map(|r| {
            r.query
                .as_deref()
                .unwrap_or("")
                .split('&')
                .find_map(|kv| kv.strip_prefix("startIndex="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        })
        .collect()
}

/// 150 users; five synced groups (one of all 150) and three admin-managed ones (one of 120),
/// over SCIM pages of 2 and admin pages of 3.
pub fn many_groups() -> SimulatorBuilder {
    let emails: Vec<String> = (1..=150).map(|i| format!("user{i}@example.com")).collect();
    let all: Vec<&str> = emails.iter().map(String::as_str).collect();
    Simulator::builder()
        .users(150)
        .synced_group("all-staff", &all)
        .synced_group("engineering", &all[..10])
        .synced_group("sales", &all[10..20])
        .synced_group("support", &[])
        .synced_group("design", &all[20..25])
        .admin_group("jira-users", &all[..120])
        .admin_group("confluence-users", &all[100..105])
        .admin_group("bitbucket-users", &[])
        .scim_page_size(2)
        .admin_page_size(3)
}

/// `kind target status` of every change, e.g. `add-membership jira-users applied`.
pub(crate) fn changes(outcome: &Outcome) -> Vec<String> {
    outcome
        .changes
        .iter()
        .map(|c| format!("{} {} {}", c.kind, c.target, c.status))
        .collect()
}

/// `(kind, target)` of every change: the shape a dry run and a real run must share.
pub(crate) fn plan(outcome: &Outcome) -> Vec<(ChangeKind, String)> {
    outcome
        .changes
        .iter()
        .map(|c| (c.kind.clone(), c.target.clone()))
        .collect()
}

/// The status of the change aimed at `target` (case-insensitive), if any.
pub(crate) fn status_of(outcome: &Outcome, target: &str) -> Option<ChangeStatus> {
    outcome
        .changes
        .iter()
        .find(|c| c.target.eq_ignore_ascii_case(target))
        .map(|c| c.status.clone())
}

/// True when every change has this status (and there is at least one).
pub(crate) fn all(outcome: &Outcome, status: &ChangeStatus) -> bool {
    !outcome.changes.is_empty() && outcome.changes.iter().all(|c| &c.status == status)
}

/// Every form in which a credential can leave the host: each secret value, its base64
/// (standard and URL-safe, padded or not), and for Basic the `user:token` pair and its base64.
pub fn secret_forms(tokens: &atlassian_simulator::Tokens, user: &str) -> Vec<(String, String)> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let tokens = tokens.clone();
    let mut forms = Vec::new();
    let basic = format!("{user}:{}", tokens.product_token);
    for (name, value) in [
        ("scim_token", tokens.scim_token),
        ("admin_api_key", tokens.admin_api_key),
        ("product_token", tokens.product_token),
        ("product_user:product_token", basic),
    ] {
        forms.push((name.to_owned(), value.clone()));
        for (engine, label) in [
            (STANDARD, "base64"),
            (STANDARD_NO_PAD, "unpadded base64"),
            (URL_SAFE, "base64url"),
            (URL_SAFE_NO_PAD, "unpadded base64url"),
        ] {
            forms.push((format!("{label} of {name}"), engine.encode(&value)));
        }
    }
    forms
}
