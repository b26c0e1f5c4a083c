//! Paging knobs and quirk switches: one switch per behaviour the API notes call uncertain.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where Confluence puts the link to the next page of spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LinkStyle {
    /// `_links.next` in the body (a relative URL).
    #[default]
    Body,
    /// A `Link: <…>; rel="next"` response header, nothing in the body.
    Header,
}

/// How lifecycle `delete` and `cancel-delete` answer a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LifecycleReply {
    /// `200 {"message":…}`, as the published spec documents.
    #[default]
    Message,
    /// `204` without a body (as the simulator answered before).
    NoContent,
    /// `200` with an empty body.
    EmptyOk,
}

/// How the v1 `roles/revoke` answers for a role the user does not hold directly (undocumented).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RevokeMissing {
    /// `204`, as for a revoke that took something away.
    #[default]
    NoContent,
    /// `400 ADMIN-UAM-400-3`.
    BadRequest,
    /// `404 ADMIN-UAM-404-1`.
    NotFound,
}

/// Paging sizes and quirk switches. Every field can be changed while the simulator runs with
/// [`Simulator::configure`](super::Simulator::configure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimOptions {
    /// The SCIM server page size: a larger `count` is ignored (Atlassian is seen using 100).
    pub scim_page_size: usize,
    /// Admin API v2 cap on `limit` (documented maximum 100); the default limit is 20.
    pub admin_page_size: usize,
    /// Jira cap on `maxResults`.
    pub jira_page_size: usize,
    /// Confluence cap on `limit`.
    pub confluence_page_size: usize,
    /// Bitbucket cap on `pagelen`.
    pub bitbucket_page_size: usize,
    /// How Confluence announces its next page.
    pub confluence_link_style: LinkStyle,
    /// Adding an existing member through the admin API answers 409 `ADMIN-UAM-409-2`
    /// instead of 204.
    pub existing_member_conflict: bool,
    /// A freshly created SCIM user carries no account id (the extension is absent) for this
    /// many responses: 2 = the creation response and the first read after it (the account
    /// links asynchronously); 0 = off (default); `u32::MAX` = never linked.
    pub account_id_pending_reads: u32,
    /// Licence limits: group name (case-insensitive) → seats. Adding a member beyond the seats
    /// through the admin API answers 409 `ADMIN-UAM-409-3`.
    pub licence_limits: BTreeMap<String, usize>,
    /// SCIM `meta.resourceType` in capitals (`USER`/`GROUP`), as some documents show it.
    pub resource_type_upper: bool,
    /// Older documents: SCIM `DELETE /Users/{id}` only deactivates (the record stays).
    pub delete_deactivates_only: bool,
    /// The org API key has scopes: the lifecycle endpoints answer 403.
    pub admin_key_scoped: bool,
    /// The org API key is genuine but has lost its access to this organization (revoked by
    /// another admin, or its admin's role removed): admin and lifecycle requests with it
    /// answer 403, where a wrong or missing key answers 401.
    pub admin_key_forbidden: bool,
    /// How lifecycle `delete` and `cancel-delete` answer a success.
    pub lifecycle_delete_reply: LifecycleReply,
    /// The user-management API's 401 is the gateway's flat body
    /// (`{"timestamp","status","error","message"}`) instead of the documented `{"key",…}`.
    pub lifecycle_401_gateway: bool,
    /// A repeated v1 `roles/assign` answers 409 `ADMIN-UAM-409-2` instead of 204.
    pub role_repeat_conflict: bool,
    /// How `roles/revoke` answers for a role the user does not hold directly.
    pub role_revoke_missing: RevokeMissing,
    /// Products (workspace `typeKey`s) the organization holds no licence for: a role grant on
    /// them answers 400 `ADMIN-UAM-400-4`.
    pub unlicensed_products: Vec<String>,
    /// Licence limits on roles: workspace id → seats (users with a direct role there). A grant
    /// beyond them answers 409 `ADMIN-UAM-409-3`.
    pub role_licence_limits: BTreeMap<String, usize>,
    /// The preflight and the API-token endpoints refuse `apiToken.*` with this reason key
    /// (`externalDirectory.scim`, `managedAccount`, …); `None`: allowed.
    pub api_tokens_forbidden_reason: Option<String>,
    /// The organization's API-key list answers 403 (a key that may not read it).
    pub api_keys_forbidden: bool,
    /// The API-key list's largest page (`pageSize` above it is capped).
    pub api_keys_page_size: usize,
    /// The preflight refuses `lifecycle.*` with this reason key (SCIM-synced accounts are
    /// always refused `lifecycle.enablement` with `externalDirectory.scim`).
    pub lifecycle_forbidden_reason: Option<String>,
    /// The preflight answers 403 `forbidden`: the account is not the organization's to manage.
    pub preflight_forbidden: bool,
    /// The preflight's `allowed` is the string `"true"`/`"false"`, not a JSON boolean.
    pub preflight_allowed_as_string: bool,
    /// Admin error bodies carry `status` as a string (`"409"`) instead of a number.
    pub admin_error_status_as_string: bool,
    /// Verified email domains; SCIM writes with an email elsewhere answer 400. Empty: any domain.
    pub verified_domains: Vec<String>,
    /// Lifecycle delete grace period in days.
    pub delete_grace_days: u64,
    /// Eventual consistency: a membership change made through SCIM stays invisible to the admin
    /// API (group counts, a user's groups) for this many admin API requests. 0 = immediate.
    pub admin_sync_lag: u32,
    /// `/Schemas` and `/ResourceTypes` advertise the `atlassian-external:1.0` extension
    /// (resources carry it either way). Off only for clients whose path grammar cannot parse a
    /// URN ending in a version number (scim2-models).
    pub advertise_atlassian_extension: bool,
    /// Milliseconds every response takes, counted from the request's arrival (a fault's own
    /// latency takes its place; the simulator's work on the request is part of it): the
    /// round trip to Atlassian, for a simulator running in a process of its own (`simulate
    /// --seed`), where faults cannot be injected.
    pub latency_ms: u64,
    /// The rate-limit mode ([`RateLimit`](super::RateLimit)): a budget of requests per
    /// window per API, `X-RateLimit-*` on every answer, 429 beyond it. `None` (default): off.
    pub rate_limit: Option<super::rate_limit::RateLimit>,
    /// The users search's `groupIds` answers 400 above this many ids (0, the default: no cap).
    pub group_ids_limit: usize,
    /// The users search's `groupIds` keeps users in every listed group (AND) instead of any
    /// (OR, the default).
    pub group_ids_match_all: bool,
    /// How v2 `suspend` and `restore` answer a success (undocumented: 200 with the v1
    /// message by default, 204, or 200 without a body).
    pub suspend_reply: LifecycleReply,
    /// A repeated `suspend` (or a `restore` of an account that is not suspended) answers 409
    /// instead of succeeding again.
    pub suspend_repeat_conflict: bool,
    /// Emails of organization admins: suspending them answers 400 (as v1 did).
    pub org_admins: Vec<String>,
    /// SCIM `active=false` keeps the user's group memberships (Atlassian preserves them;
    /// default on). Off: a deactivation drops them.
    pub keep_groups_on_deactivate: bool,
    /// The SCIM server keeps no `groups` attribute on users (omitted even when the user is in
    /// groups); by default it is always present, `[]` when empty.
    pub scim_omits_user_groups: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            scim_page_size: 100,
            admin_page_size: 100,
            jira_page_size: 50,
            confluence_page_size: 25,
            bitbucket_page_size: 10,
            confluence_link_style: LinkStyle::Body,
            existing_member_conflict: false,
            account_id_pending_reads: 0,
            licence_limits: BTreeMap::new(),
            resource_type_upper: false,
            delete_deactivates_only: false,
            admin_key_scoped: false,
            admin_key_forbidden: false,
            lifecycle_delete_reply: LifecycleReply::Message,
            lifecycle_401_gateway: false,
            role_repeat_conflict: false,
            role_revoke_missing: RevokeMissing::NoContent,
            unlicensed_products: Vec::new(),
            role_licence_limits: BTreeMap::new(),
            api_tokens_forbidden_reason: None,
            api_keys_forbidden: false,
            api_keys_page_size: 100,
            lifecycle_forbidden_reason: None,
            preflight_forbidden: false,
            preflight_allowed_as_string: false,
            admin_error_status_as_string: false,
            verified_domains: Vec::new(),
            delete_grace_days: 14,
            advertise_atlassian_extension: true,
            admin_sync_lag: 0,
            latency_ms: 0,
            rate_limit: None,
            group_ids_limit: 0,
            group_ids_match_all: false,
            suspend_reply: LifecycleReply::Message,
            suspend_repeat_conflict: false,
            org_admins: Vec::new(),
            keep_groups_on_deactivate: true,
            scim_omits_user_groups: false,
        }
    }
}
