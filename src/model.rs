//! Core mirrors of the WIT `types` records, free of any generated type, so the logic compiles
//! and unit-tests natively. The wasm glue in `contract.rs` converts between these and the
//! generated bindings.
//!
//! Ids are typed: a [`ScimId`], an [`AccountId`] or a [`GroupId`], never a bare string that
//! might be empty. Where they cross the contract they become an [`Id`], which knows its
//! namespace (`describe` declares the three in [`ID_NAMESPACES`]).

use std::fmt;
use std::ops::Deref;

use crate::error::ConnectorError;

/// The input records every connector shares, from the guest SDK.
pub use lifecycle_connector_sdk::records::{
    Capability, Config, Identity, PageRequest, SyncOptions,
};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The id as the issuing system spells it.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }

            /// The id in an optional wire field; an absent or empty one is no id.
            pub fn from_wire(s: Option<&str>) -> Option<Self> {
                s.filter(|s| !s.is_empty()).map(|s| $name(s.to_string()))
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A SCIM id, of a user or of a group, issued by the SCIM directory (namespace `scim`).
    ScimId
);
id_type!(
    /// An Atlassian account id (namespace `account`).
    AccountId
);
id_type!(
    /// A group id of the organization's admin API (namespace `group`).
    GroupId
);

/// The namespace of [`ScimId`]s.
pub const NS_SCIM: &str = "scim";
/// The namespace of [`AccountId`]s.
pub const NS_ACCOUNT: &str = "account";
/// The namespace of [`GroupId`]s.
pub const NS_GROUP: &str = "group";

/// The id namespaces `describe` declares, `(name, description)`.
pub const ID_NAMESPACES: &[(&str, &str)] = &[
    (
        NS_SCIM,
        "SCIM ids of users and groups in the configured SCIM directory.",
    ),
    (
        NS_ACCOUNT,
        "Atlassian account ids (the person behind a SCIM user).",
    ),
    (
        NS_GROUP,
        "Group ids of the organization's admin API (admin-managed and synced groups).",
    ),
];

/// An id with its namespace, as it crosses the contract (WIT `namespaced-id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Id {
    /// A SCIM user or group id.
    Scim(ScimId),
    /// An Atlassian account id.
    Account(AccountId),
    /// An admin API group id.
    Group(GroupId),
}

impl Id {
    /// The namespace, one of [`ID_NAMESPACES`].
    pub fn namespace(&self) -> &'static str {
        match self {
            Id::Scim(_) => NS_SCIM,
            Id::Account(_) => NS_ACCOUNT,
            Id::Group(_) => NS_GROUP,
        }
    }

    /// The id itself.
    pub fn value(&self) -> &str {
        match self {
            Id::Scim(v) => v,
            Id::Account(v) => v,
            Id::Group(v) => v,
        }
    }

    /// The id itself, owned.
    pub fn into_value(self) -> String {
        match self {
            Id::Scim(v) => v.into_string(),
            Id::Account(v) => v.into_string(),
            Id::Group(v) => v.into_string(),
        }
    }
}

/// The type of a configuration key's value (WIT `config-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    /// Free text.
    String,
    /// An absolute `https` URL.
    Url,
    /// A secret: the host stores it, the connector only names it.
    Secret,
    /// A comma-separated list of text items.
    List,
    /// `true` or `false`.
    Bool,
}

/// One key of the configuration schema (WIT `config-key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigKey {
    /// The key as written in the configuration.
    pub key: &'static str,
    /// The type of its value.
    pub kind: ConfigKind,
    /// True when every configuration must set it.
    pub required: bool,
    /// The value used when the key is not set, when there is one.
    pub default: Option<&'static str>,
    /// Keys that must be set whenever this one is.
    pub requires: &'static [&'static str],
    /// What the key is and when it is needed.
    pub description: &'static str,
}

impl ConfigKey {
    /// True when the value is a secret held by the host.
    pub fn is_secret(&self) -> bool {
        self.kind == ConfigKind::Secret
    }
}

/// One destination the connector needs (WIT `egress-rule`): the value (or default) of the
/// `url` key `url_key` with `path_prefix` appended; in force when `url_key` is set, or when
/// it has a default and any of `enabled_by` is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EgressRule {
    /// The `url` configuration key whose value is the base URL.
    pub url_key: &'static str,
    /// Appended to the base URL's path; `""` grants its whole path.
    pub path_prefix: &'static str,
    /// The secret keys the host may attach under this destination.
    pub secrets: &'static [&'static str],
    /// Keys whose presence brings a defaulted `url_key` into force.
    pub enabled_by: &'static [&'static str],
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
    pub config_schema: &'static [ConfigKey],
    /// Every destination the connector may send requests to.
    pub egress: &'static [EgressRule],
    /// The id namespaces, `(name, description)`.
    pub id_namespaces: &'static [(&'static str, &'static str)],
    /// The resource kinds `list-resources` takes.
    pub resource_kinds: &'static [ResourceKind],
}

/// The result of one health probe (WIT `probe-status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeStatus {
    /// The credential worked and the read succeeded.
    Ok,
    /// Not configured, so not probed; says which keys would enable it.
    Skipped(String),
    /// The credential works but needs attention (it expires soon); says what.
    Warning(String),
    /// The probe could not tell (the key may not read its own expiry); not a failure.
    Unknown(String),
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

/// How an action names an existing person (WIT `user-ref`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// By email (`userName`), case-insensitive.
    Email(String),
    /// By SCIM user id.
    ScimId(ScimId),
    /// By Atlassian account id.
    AccountId(AccountId),
    /// By external id.
    ExternalId(String),
}

impl UserRef {
    /// The email, id or external id the reference carries.
    pub fn value(&self) -> &str {
        match self {
            UserRef::Email(v) | UserRef::ExternalId(v) => v,
            UserRef::ScimId(v) => v,
            UserRef::AccountId(v) => v,
        }
    }

    /// The reference by an id of namespace `namespace`: `scim` or `account`; any other is
    /// `invalid-input` naming the namespaces accepted.
    pub fn by_id(namespace: &str, value: String) -> Result<Self, ConnectorError> {
        match namespace {
            NS_SCIM => Ok(UserRef::ScimId(ScimId(value))),
            NS_ACCOUNT => Ok(UserRef::AccountId(AccountId(value))),
            other => Err(ConnectorError::InvalidInput(format!(
                "a user id in namespace `{other}` cannot name a person: use `{NS_SCIM}` (a \
                 SCIM user id) or `{NS_ACCOUNT}` (an Atlassian account id)"
            ))),
        }
    }
}

/// A role on a resource (WIT `role-grant`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    /// The role's name.
    pub role: String,
    /// The resource's kind, as `describe` declares it.
    pub kind: String,
    /// The resource's id, key or name.
    pub id: String,
}

/// Something a person can be granted (WIT `entitlement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entitlement {
    /// Membership of a group, by display name.
    Group(String),
    /// A role on a resource.
    Role(RoleGrant),
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
    pub scim_id: Option<ScimId>,
    /// Atlassian account id; `None` when not linked yet.
    pub account_id: Option<AccountId>,
    /// Email (`userName`).
    pub email: Option<String>,
    /// Whether the SCIM record is active, when known.
    pub active: Option<bool>,
}

impl ResolvedUser {
    /// Every id known, the SCIM id first, then the account id when linked.
    pub fn ids(&self) -> Vec<Id> {
        user_ids(self.scim_id.clone(), self.account_id.clone())
    }
}

/// A user's ids in contract order: the SCIM id first, then the account id when linked.
fn user_ids(scim: Option<ScimId>, account: Option<AccountId>) -> Vec<Id> {
    two_ids(scim.map(Id::Scim), account.map(Id::Account))
}

/// `first` then `second`, those present. (Pushes, not an iterator chain: each chain
/// instantiated costs the component hundreds of bytes.)
fn two_ids(first: Option<Id>, second: Option<Id>) -> Vec<Id> {
    let mut ids = Vec::with_capacity(2);
    if let Some(id) = first {
        ids.push(id);
    }
    if let Some(id) = second {
        ids.push(id);
    }
    ids
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
    /// A product role granted.
    AddRole,
    /// A product role revoked.
    RemoveRole,
    /// A personal credential (an API token) revoked.
    RevokeCredential,
    /// A SCIM user set to `active=false`.
    DeactivateUser,
    /// The SCIM record deleted.
    DeleteUser,
    /// The Atlassian account deleted.
    DeleteAccount,
    /// The user's access suspended (v2 `suspend`, for accounts SCIM does not manage).
    SuspendUser,
    /// A deactivated SCIM user made active again.
    ReactivateUser,
    /// A suspended user's access restored (v2 `restore`).
    RestoreUser,
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
    /// Deliberately not made; says why and who can make it.
    Skipped(String),
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

/// A user as the directory lists it (WIT `user-record`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRecord {
    /// SCIM user id.
    pub scim_id: ScimId,
    /// Atlassian account id, once linked.
    pub account_id: Option<AccountId>,
    /// SCIM `userName`.
    pub user_name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Whether the SCIM record is active.
    pub active: bool,
}

impl UserRecord {
    /// Every id, the SCIM id first, then the account id when linked.
    pub fn ids(&self) -> Vec<Id> {
        user_ids(Some(self.scim_id.clone()), self.account_id.clone())
    }
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
    pub scim_id: Option<ScimId>,
    /// Admin API group id.
    pub group_id: Option<GroupId>,
    /// True when synced from the identity provider.
    pub synced: bool,
    /// Members: SCIM user ids for synced groups, account ids for admin-managed ones.
    pub members: Vec<Id>,
}

impl GroupRecord {
    /// Every id, the SCIM id first, then the admin API group id.
    pub fn ids(&self) -> Vec<Id> {
        two_ids(
            self.scim_id.clone().map(Id::Scim),
            self.group_id.clone().map(Id::Group),
        )
    }
}

/// A page of groups (WIT `group-page`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupPage {
    /// The groups of this page.
    pub items: Vec<GroupRecord>,
    /// Cursor of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// Resource kinds discovery can list (WIT `resource-kind`): product resources, and the
/// workspaces product roles are granted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// A Jira project.
    JiraProject,
    /// A Confluence space.
    ConfluenceSpace,
    /// A Bitbucket repository.
    BitbucketRepository,
    /// A product of a site (the organization's workspaces listing): what a role's resource
    /// names.
    Workspace,
}

impl ResourceKind {
    /// Every kind, in the order `describe` declares them.
    pub const ALL: &'static [ResourceKind] = &[
        ResourceKind::JiraProject,
        ResourceKind::ConfluenceSpace,
        ResourceKind::BitbucketRepository,
        ResourceKind::Workspace,
    ];

    /// The kind's name in the contract.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::JiraProject => "jira-project",
            ResourceKind::ConfluenceSpace => "confluence-space",
            ResourceKind::BitbucketRepository => "bitbucket-repository",
            ResourceKind::Workspace => crate::roles::RESOURCE_KIND,
        }
    }

    /// What it is, for people.
    pub fn description(self) -> &'static str {
        match self {
            ResourceKind::JiraProject => "A Jira project of the site (site_url).",
            ResourceKind::ConfluenceSpace => "A Confluence space of the site (site_url).",
            ResourceKind::BitbucketRepository => {
                "A repository of the Bitbucket workspace (bitbucket_workspace)."
            }
            ResourceKind::Workspace => {
                "A product of a site, on which product roles are granted (ROLE@workspace:ID); \
                 needs the organization key (admin_api_key)."
            }
        }
    }

    /// The kind named `name`; any other name is `unsupported`, naming the kinds offered.
    pub fn parse(name: &str) -> Result<Self, ConnectorError> {
        ResourceKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                ConnectorError::Unsupported(format!(
                    "resource kind `{name}` is not offered: list-resources takes \
                     jira-project, confluence-space, bitbucket-repository or workspace"
                ))
            })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_by_its_name_and_an_unknown_one_names_them_all() {
        for kind in ResourceKind::ALL {
            assert_eq!(ResourceKind::parse(kind.name()), Ok(*kind));
            assert!(!kind.description().is_empty());
        }
        let Err(ConnectorError::Unsupported(message)) = ResourceKind::parse("site") else {
            panic!("an unknown kind is unsupported");
        };
        for kind in ResourceKind::ALL {
            assert!(message.contains(kind.name()), "{message}");
        }
    }
}
