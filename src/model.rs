//! Core mirrors of the WIT `types` records, free of any generated type, so the logic compiles
//! and unit-tests natively. The wasm glue in `lib.rs` converts between these and the
//! generated bindings one to one.

use crate::error::ConnectorError;

/// A tenant's configuration as the host hands it over (WIT `config`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Non-secret settings, one `(key, value)` pair per configured key.
    pub settings: Vec<(String, String)>,
    /// Names of the secrets the host holds for this tenant; never their values.
    pub secrets: Vec<String>,
}

impl Config {
    /// Builds a config from borrowed settings and secret names (handy in tests).
    pub fn new(settings: &[(&str, &str)], secrets: &[&str]) -> Self {
        Config {
            settings: settings
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            secrets: secrets.iter().map(|s| (*s).to_string()).collect(),
        }
    }
}

/// One key of the configuration schema (WIT `config-key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigKey {
    /// The key as written in the configuration.
    pub key: String,
    /// True when every configuration must set it.
    pub required: bool,
    /// True when the value is a secret held by the host.
    pub secret: bool,
    /// What the key is and when it is needed.
    pub description: String,
}

/// What a connector can do (WIT `capability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// `sync-identity`.
    SyncIdentities,
    /// `manage-relationships`.
    ManageRelationships,
    /// `deprovision-identity`.
    DeprovisionIdentity,
    /// `delete-identity`.
    DeleteIdentity,
    /// `list-users`, `list-groups`, `list-resources`.
    Discover,
}

/// The connector's self-description (WIT `connector-info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorInfo {
    /// Stable machine name.
    pub name: String,
    /// The connector's own version.
    pub version: String,
    /// The WIT contract version implemented.
    pub contract_version: String,
    /// The actions implemented.
    pub capabilities: Vec<Capability>,
    /// Every configuration key accepted.
    pub config_schema: Vec<ConfigKey>,
}

/// The result of one health probe (WIT `probe-status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeStatus {
    /// The credential worked and the read succeeded.
    Ok,
    /// Not configured, so not probed; says which keys would enable it.
    Skipped(String),
    /// The probe failed; the error says how.
    Failed(ConnectorError),
}

/// One read-only probe of one credential against one API (WIT `probe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// `scim`, `admin`, `jira`, `confluence` or `bitbucket`.
    pub name: String,
    /// The credential used, by key name.
    pub credential: String,
    /// The URL read (empty when skipped before a URL could be formed).
    pub target: String,
    /// What happened.
    pub status: ProbeStatus,
}

/// The result of `check-health` (WIT `health-report`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// Every probe, configured or skipped.
    pub probes: Vec<Probe>,
    /// True when no probe failed.
    pub healthy: bool,
}

impl HealthReport {
    /// The probe with this name, if any.
    pub fn probe(&self, name: &str) -> Option<&Probe> {
        self.probes.iter().find(|p| p.name == name)
    }
}

/// A person as the platform wants them to be (WIT `identity`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Work email; becomes `userName` and the primary work email.
    pub email: String,
    /// Full name (`name.formatted`).
    pub name: Option<String>,
    /// Given name (`name.givenName`).
    pub given_name: Option<String>,
    /// Family name (`name.familyName`).
    pub family_name: Option<String>,
    /// Display name (`displayName`).
    pub display_name: Option<String>,
    /// The platform's own id (`externalId`).
    pub external_id: Option<String>,
}

/// How an action names an existing person (WIT `user-ref`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// By email (`userName`), case-insensitive.
    Email(String),
    /// By SCIM user id.
    ScimId(String),
    /// By Atlassian account id.
    AccountId(String),
    /// By external id.
    ExternalId(String),
}

/// Options of `sync-identity` (WIT `sync-options`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncOptions {
    /// Create the person when absent.
    pub create_missing: bool,
    /// Update a present person whose attributes differ.
    pub update_existing: bool,
    /// Plan only, write nothing.
    pub dry_run: bool,
}

/// Options of actions with only a dry-run switch (WIT `action-options`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionOptions {
    /// Plan only, write nothing.
    pub dry_run: bool,
}

/// Options of `delete-identity` (WIT `delete-options`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// Also delete the Atlassian account (needs `admin_api_key`).
    pub purge_account: bool,
    /// Plan only, write nothing.
    pub dry_run: bool,
}

/// The person an action resolved (WIT `resolved-user`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedUser {
    /// SCIM user id.
    pub scim_id: Option<String>,
    /// Atlassian account id; `None` when not linked yet.
    pub account_id: Option<String>,
    /// Email (`userName`).
    pub email: Option<String>,
    /// Whether the SCIM record is active, when known.
    pub active: Option<bool>,
}

/// The kinds of change an action makes (WIT `change-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A new SCIM user.
    CreateUser,
    /// Attributes of an existing SCIM user.
    UpdateUser,
    /// A group membership added.
    AddMembership,
    /// A group membership removed.
    RemoveMembership,
    /// A SCIM user set to `active=false`.
    DeactivateUser,
    /// The SCIM record deleted.
    DeleteUser,
    /// The Atlassian account deleted.
    DeleteAccount,
}

/// What became of one change (WIT `change-status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeStatus {
    /// Written and accepted.
    Applied,
    /// The target state already held; nothing written.
    AlreadyDone,
    /// Dry run: a real run would write it.
    Planned,
    /// Attempted and refused.
    Failed(ConnectorError),
}

/// One change an action planned or made (WIT `change`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What kind of change.
    pub kind: ChangeKind,
    /// A user id, or a group's display name for memberships.
    pub target: String,
    /// Summary of the state before.
    pub before: Option<String>,
    /// Summary of the state after.
    pub after: Option<String>,
    /// What became of it.
    pub status: ChangeStatus,
}

/// The result of every mutating action (WIT `outcome`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The person resolved, when one was found or created.
    pub user: Option<ResolvedUser>,
    /// Every change, in order.
    pub changes: Vec<Change>,
    /// True when every change is applied, already done or planned.
    pub completed: bool,
}

/// Where a paged listing starts (WIT `page-request`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Opaque cursor from the previous page; `None` for the first page.
    pub cursor: Option<String>,
    /// The most items wanted.
    pub limit: Option<u32>,
}

/// A user as the directory lists it (WIT `user-record`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRecord {
    /// SCIM user id.
    pub scim_id: String,
    /// Atlassian account id, once linked.
    pub account_id: Option<String>,
    /// SCIM `userName`.
    pub user_name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Whether the SCIM record is active.
    pub active: bool,
}

/// A page of users (WIT `user-page`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPage {
    /// The users of this page.
    pub items: Vec<UserRecord>,
    /// Cursor of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// A group as the organization lists it (WIT `group-record`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRecord {
    /// Display name.
    pub name: String,
    /// SCIM group id.
    pub scim_id: Option<String>,
    /// Admin API group id.
    pub admin_id: Option<String>,
    /// True when synced from the identity provider.
    pub synced: bool,
    /// Members by SCIM user id or account id.
    pub members: Vec<String>,
}

/// A page of groups (WIT `group-page`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupPage {
    /// The groups of this page.
    pub items: Vec<GroupRecord>,
    /// Cursor of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// Product resource kinds discovery can list (WIT `resource-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// A Jira project.
    JiraProject,
    /// A Confluence space.
    ConfluenceSpace,
    /// A Bitbucket repository.
    BitbucketRepository,
}

/// One discovered product resource (WIT `resource-record`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRecord {
    /// What it is.
    pub kind: ResourceKind,
    /// The product's id.
    pub id: String,
    /// Short key, when any.
    pub key: Option<String>,
    /// Human name.
    pub name: String,
    /// A link, when given.
    pub url: Option<String>,
}

/// A page of resources (WIT `resource-page`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourcePage {
    /// The resources of this page.
    pub items: Vec<ResourceRecord>,
    /// Cursor of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}
