//! The contract's output records as plain Rust (the inputs are the SDK's `records`), so the connector's logic never names a generated
//! type and unit-tests natively; `contract.rs` maps them to and from the bindings (wasm32).

/// The id namespace of every id this connector issues or accepts: the service's SCIM `id`.
pub const SCIM_NAMESPACE: &str = "scim";

/// The input records every connector shares, from the guest SDK.
pub use lifecycle_connector_sdk::records::{Config, Identity, PageRequest, SyncOptions};

/// How an action names an existing person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// By `userName`, compared case-insensitively.
    Email(String),
    /// By SCIM id (namespace [`SCIM_NAMESPACE`]).
    ScimId(String),
    /// By `externalId`.
    ExternalId(String),
}

/// Something a person can be granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entitlement {
    /// Membership of a group, by display name.
    Group(String),
    /// A role on a resource: the role's name and the resource's kind and id.
    Role(String, String, String),
}

/// The person an action resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    /// The SCIM id.
    pub id: String,
    /// The `userName`.
    pub email: Option<String>,
    /// Whether the record is active, when known.
    pub active: Option<bool>,
}

/// The kinds of change this connector makes (a subset of the contract's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A new user record.
    CreateUser,
    /// Attributes of an existing user.
    UpdateUser,
    /// A deactivated user made active again.
    ReactivateUser,
    /// A group membership added.
    AddMembership,
    /// A group membership removed.
    RemoveMembership,
    /// The user deactivated (`active=false`).
    DeactivateUser,
    /// The user record deleted.
    DeleteUser,
}

/// What became of one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeStatus {
    /// Written and accepted.
    Applied,
    /// The target state already held.
    AlreadyDone,
    /// Dry run: a real run would write it.
    Planned,
    /// Deliberately not made; says why.
    Skipped(String),
    /// Attempted and refused.
    Failed(ConnectorError),
}

/// One change an action planned or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What kind of change.
    pub kind: ChangeKind,
    /// What it applies to: a user id or a group's display name.
    pub target: String,
    /// The state before, when it helps.
    pub before: Option<String>,
    /// The state after.
    pub after: Option<String>,
    /// What became of it.
    pub status: ChangeStatus,
}

impl Change {
    /// A change with no before/after summary.
    pub fn new(kind: ChangeKind, target: &str, status: ChangeStatus) -> Self {
        Change {
            kind,
            target: target.to_string(),
            before: None,
            after: None,
            status,
        }
    }
}

/// The result of every mutating action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The person resolved, when one was found or created.
    pub user: Option<ResolvedUser>,
    /// Every change, in order.
    pub changes: Vec<Change>,
    /// True when no change failed.
    pub completed: bool,
}

impl Outcome {
    /// The outcome of these changes: complete when none failed.
    pub fn of(user: Option<ResolvedUser>, changes: Vec<Change>) -> Self {
        let completed = !changes
            .iter()
            .any(|c| matches!(c.status, ChangeStatus::Failed(_)));
        Outcome {
            user,
            changes,
            completed,
        }
    }
}

/// The result of one health probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeStatus {
    /// The credential worked.
    Ok,
    /// The probe failed.
    Failed(ConnectorError),
}

/// One read-only probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Which API.
    pub name: String,
    /// The credential's key.
    pub credential: String,
    /// The URL read.
    pub target: String,
    /// What happened.
    pub status: ProbeStatus,
}

/// The result of `check-health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// Every probe.
    pub probes: Vec<Probe>,
    /// True when no probe failed.
    pub healthy: bool,
}

/// A user as the directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The SCIM id.
    pub id: String,
    /// The `userName`.
    pub user_name: String,
    /// `displayName`, when set.
    pub display_name: Option<String>,
    /// `externalId`, when set.
    pub external_id: Option<String>,
    /// `active`.
    pub active: bool,
}

/// A group as the directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// The SCIM id.
    pub id: String,
    /// `displayName`.
    pub name: String,
    /// Members' SCIM ids.
    pub members: Vec<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// Every way a call can fail (the contract's `connector-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorError {
    /// A configuration key is missing or wrong: `(key, message)`.
    InvalidConfig(String, String),
    /// The identity or arguments are malformed.
    InvalidInput(String),
    /// The token was refused (401).
    Unauthorized(String),
    /// The token lacks a permission (403).
    Forbidden(String),
    /// A user or group does not exist.
    NotFound(String),
    /// The change conflicts with the current state (409).
    Conflict(String),
    /// The rate limit did not clear: the hint in milliseconds, and what was said.
    RateLimited(Option<u64>, String),
    /// The service stayed unavailable.
    Unavailable(String),
    /// An answer the connector cannot accept: status, SCIM `scimType`, message.
    Upstream(Option<u16>, Option<String>, String),
    /// Not offered by this connector.
    Unsupported(String),
    /// Anything else.
    Other(String),
}
