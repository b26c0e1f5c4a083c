//! Human-readable forms of the contract's types, for the CLI and for error messages.

use std::fmt;

use crate::bindings::types::{
    Capability, ChangeKind, ChangeStatus, ConfigKind, ConnectorError, Entitlement, NamespacedId,
    ProbeStatus, UserRef,
};

impl ConnectorError {
    /// A readable one-line message, e.g. ``invalid config: `base_url`: must be https``.
    /// (The generated `Display` prints the debug form; this is the one for people.)
    pub fn message(&self) -> String {
        let mut s = String::new();
        let _ = self.write_message(&mut s);
        s
    }

    fn write_message(&self, f: &mut impl fmt::Write) -> fmt::Result {
        match self {
            Self::InvalidConfig(e) => write!(f, "invalid config: `{}`: {}", e.key, e.message),
            Self::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Self::Unauthorized(m) => write!(f, "unauthorized: {m}"),
            Self::Forbidden(m) => write!(f, "forbidden: {m}"),
            Self::NotFound(m) => write!(f, "not found: {m}"),
            Self::Conflict(m) => write!(f, "conflict: {m}"),
            Self::RateLimited(r) => match r.retry_after_ms {
                Some(ms) => write!(f, "rate limited (retry after {ms} ms): {}", r.message),
                None => write!(f, "rate limited: {}", r.message),
            },
            Self::Unavailable(m) => write!(f, "unavailable: {m}"),
            Self::Upstream(u) => {
                f.write_str("upstream error")?;
                if let Some(status) = u.status {
                    write!(f, " {status}")?;
                }
                if let Some(code) = &u.code {
                    write!(f, " {code}")?;
                }
                write!(f, ": {}", u.message)
            }
            Self::Unsupported(m) => write!(f, "unsupported: {m}"),
            Self::PolicyDenied(m) => write!(f, "policy denied: {m}"),
            Self::Other(m) => write!(f, "error: {m}"),
        }
    }
}

impl ConnectorError {
    /// A stable short name of the error's class, for reports and audit records.
    pub fn class(&self) -> &'static str {
        match self {
            Self::InvalidConfig(_) => "invalid-config",
            Self::InvalidInput(_) => "invalid-input",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::Conflict(_) => "conflict",
            Self::RateLimited(_) => "rate-limited",
            Self::Unavailable(_) => "unavailable",
            Self::Upstream(_) => "upstream",
            Self::Unsupported(_) => "unsupported",
            Self::PolicyDenied(_) => "policy-denied",
            Self::Other(_) => "other",
        }
    }
}

impl fmt::Display for ProbeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::Warning(why) => write!(f, "warning: {why}"),
            Self::Unknown(why) => write!(f, "unknown: {why}"),
            Self::Skipped(why) => write!(f, "skipped: {why}"),
            Self::Failed(e) => f.write_str(&e.message()),
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SyncIdentities => "sync-identities",
            Self::ManageRelationships => "manage-relationships",
            Self::DeprovisionIdentity => "deprovision-identity",
            Self::DeleteIdentity => "delete-identity",
            Self::Discover => "discover",
            Self::ReactivateIdentity => "reactivate-identity",
            Self::ManageGroupRoles => "manage-group-roles",
            Self::Other(name) => name,
        })
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CreateUser => "create-user",
            Self::UpdateUser => "update-user",
            Self::AddMembership => "add-membership",
            Self::RemoveMembership => "remove-membership",
            Self::AddRole => "add-role",
            Self::RemoveRole => "remove-role",
            Self::RevokeCredential => "revoke-credential",
            Self::DeactivateUser => "deactivate-user",
            Self::SuspendUser => "suspend-user",
            Self::ReactivateUser => "reactivate-user",
            Self::RestoreUser => "restore-user",
            Self::DeleteUser => "delete-user",
            Self::DeleteAccount => "delete-account",
            Self::Other(name) => name,
        })
    }
}

impl fmt::Display for ChangeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Applied => f.write_str("applied"),
            Self::AlreadyDone => f.write_str("already-done"),
            Self::Planned => f.write_str("planned"),
            Self::Skipped(why) => write!(f, "skipped: {why}"),
            Self::Failed(e) => write!(f, "failed: {}", e.message()),
        }
    }
}

impl fmt::Display for NamespacedId {
    /// `namespace:value`, the form `--user` takes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.namespace, self.value)
    }
}

impl fmt::Display for UserRef {
    /// The reference as a person writes it: the email, `namespace:value`, `external:ID`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Email(e) => f.write_str(e),
            Self::Id(id) => id.fmt(f),
            Self::ExternalId(e) => write!(f, "external:{e}"),
        }
    }
}

impl fmt::Display for Entitlement {
    /// A group by its name; a role as `role@kind:id`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Group(name) => f.write_str(name),
            Self::Role(r) => write!(f, "{}@{}:{}", r.role, r.resource.kind, r.resource.id),
        }
    }
}

impl fmt::Display for ConfigKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::String => "string",
            Self::Url => "url",
            Self::Secret => "secret",
            Self::List => "list",
            Self::Bool => "bool",
            Self::Other(name) => name,
        })
    }
}
