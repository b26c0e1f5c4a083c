//! Batch runs: one action over many identities read from a CSV or JSON file, run with bounded
//! concurrency, resumable after an interruption, and guarded against mass changes.
//!
//! - [`items`] reads and validates the whole file before anything runs.
//! - [`journal`] records, per batch, which items were started and which are done, so a batch
//!   that was stopped half way resumes where it stopped.
//! - [`guard`] refuses a deprovision or delete batch that touches too large a share of the
//!   organization's users.
//! - [`runner`] runs the items on one loaded connector (a fresh instance per invocation) and
//!   records every outcome in the audit log.

pub mod guard;
pub mod items;
pub mod journal;
pub mod runner;

use std::fmt;

use sha2::{Digest as _, Sha256};

use lifecycle_host::Tenant;

/// The action a batch applies to each of its items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Create or update each person (and, with `add`/`remove`, set their groups).
    Sync,
    /// Add and remove each person's group memberships.
    Groups,
    /// Remove every membership of each person, then deactivate them.
    Deprovision,
    /// Delete each person's SCIM record (and, with `--purge-account`, their account).
    Delete,
    /// Bring each person back (rehire): active again, a suspension lifted, their memberships
    /// converged to `add` (the groups they should be in) and their direct roles revoked.
    Reactivate,
}

impl Action {
    /// The action's name as the command line and the audit log spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Groups => "groups",
            Self::Deprovision => "deprovision",
            Self::Delete => "delete",
            Self::Reactivate => "reactivate",
        }
    }

    /// Whether the action removes people (and so is subject to the mass-change guard).
    pub fn removes_people(self) -> bool {
        matches!(self, Self::Deprovision | Self::Delete)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that makes two batch runs the same batch: the action, the organization it
/// writes to (the SCIM directory, the organization id, the admin API's base URL), the options
/// that change what is written, and the input's bytes. A run resumes an earlier one only when
/// every part is the same; the journal records them all, so a resume can check.
///
/// The integration's name is not part of it: a name is a label, and two organizations can
/// share one (or one organization be reached under two names).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchIdentity {
    /// The action's name.
    pub action: String,
    /// The tenant's `scim_url` (without trailing slashes): the directory every SCIM write
    /// goes to.
    pub scim_url: String,
    /// The tenant's `scim_organization_id`, if set: the organization admin writes go to.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// The tenant's `atlassian_api_url`, if set (without trailing slashes).
    #[serde(default)]
    pub atlassian_api_url: Option<String>,
    /// `--purge-account`.
    pub purge_account: bool,
    /// SHA-256 of the batch file's bytes, in hex.
    pub input_sha256: String,
}

impl BatchIdentity {
    /// The identity of `action` with these options over `input` on `tenant`.
    pub fn new(action: Action, tenant: &Tenant, input: &[u8], purge_account: bool) -> Self {
        let setting = |key: &str| {
            tenant
                .settings
                .get(key)
                .map(|v| v.trim().trim_end_matches('/').to_owned())
        };
        Self {
            action: action.name().to_owned(),
            scim_url: setting("scim_url").unwrap_or_default(),
            organization_id: setting("scim_organization_id"),
            atlassian_api_url: setting("atlassian_api_url"),
            purge_account,
            input_sha256: hex(&Sha256::digest(input)),
        }
    }

    /// The batch's stable key, `<action>-<16 hex digits>`, a digest of every part: the name of
    /// its journal file.
    pub fn key(&self) -> String {
        let mut hash = Sha256::new();
        let none = "\u{0}none";
        for part in [
            self.action.as_str(),
            self.scim_url.as_str(),
            self.organization_id.as_deref().unwrap_or(none),
            self.atlassian_api_url.as_deref().unwrap_or(none),
            if self.purge_account { "purge" } else { "keep" },
            self.input_sha256.as_str(),
        ] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
        format!("{}-{}", self.action, hex(&hash.finalize()[..8]))
    }

    /// What differs between an earlier run's identity (`earlier`) and this one, one phrase
    /// per part, naming both values; empty when they are the same batch.
    pub fn differences(&self, earlier: &Self) -> Vec<String> {
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not set)".to_owned());
        let mut out = Vec::new();
        let mut part = |name: &str, then: String, now: String| {
            if then != now {
                out.push(format!("{name}: `{then}` then, `{now}` now"));
            }
        };
        part("the action", earlier.action.clone(), self.action.clone());
        part(
            "the SCIM URL (scim_url)",
            earlier.scim_url.clone(),
            self.scim_url.clone(),
        );
        part(
            "the organization id (scim_organization_id)",
            shown(&earlier.organization_id),
            shown(&self.organization_id),
        );
        part(
            "the admin API URL (atlassian_api_url)",
            shown(&earlier.atlassian_api_url),
            shown(&self.atlassian_api_url),
        );
        part(
            "--purge-account",
            earlier.purge_account.to_string(),
            self.purge_account.to_string(),
        );
        part(
            "the batch file's SHA-256",
            earlier.input_sha256.clone(),
            self.input_sha256.clone(),
        );
        out
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(scim: &str, org: &str) -> Tenant {
        Tenant::default()
            .with_setting("instance_name", "acme")
            .with_setting("scim_url", scim)
            .with_setting("scim_organization_id", org)
    }

    #[test]
    fn the_key_depends_on_the_target_and_everything_that_changes_what_is_written() {
        let acme = tenant("https://api.atlassian.com/scim/directory/d1", "o1");
        let id = |action, tenant: &Tenant, input: &[u8], purge| {
            BatchIdentity::new(action, tenant, input, purge)
        };
        let base = id(Action::Delete, &acme, b"user\na@x\n", false);
        assert_eq!(base, id(Action::Delete, &acme, b"user\na@x\n", false));
        assert!(base.differences(&base).is_empty());
        let key = base.key();
        assert!(key.starts_with("delete-") && key.len() == "delete-".len() + 16);
        // A trailing slash is the same directory.
        let slash = tenant("https://api.atlassian.com/scim/directory/d1/", "o1");
        assert_eq!(key, id(Action::Delete, &slash, b"user\na@x\n", false).key());
        for (other, what) in [
            (
                id(Action::Deprovision, &acme, b"user\na@x\n", false),
                "the action",
            ),
            (
                id(
                    Action::Delete,
                    &tenant("https://api.atlassian.com/scim/directory/d2", "o1"),
                    b"user\na@x\n",
                    false,
                ),
                "the SCIM URL",
            ),
            (
                id(
                    Action::Delete,
                    &tenant("https://api.atlassian.com/scim/directory/d1", "o2"),
                    b"user\na@x\n",
                    false,
                ),
                "the organization id",
            ),
            (
                id(
                    Action::Delete,
                    &acme
                        .clone()
                        .with_setting("atlassian_api_url", "https://x.example"),
                    b"user\na@x\n",
                    false,
                ),
                "the admin API URL",
            ),
            (
                id(Action::Delete, &acme, b"user\nb@x\n", false),
                "the batch file",
            ),
            (
                id(Action::Delete, &acme, b"user\na@x\n", true),
                "--purge-account",
            ),
        ] {
            assert_ne!(key[7..], other.key()[other.key().find('-').unwrap() + 1..]);
            let differences = other.differences(&base);
            assert_eq!(differences.len(), 1, "{differences:?}");
            assert!(differences[0].starts_with(what), "{differences:?}");
        }
        // The integration's name is a label, not the target.
        let renamed = acme.clone().with_setting("instance_name", "other");
        assert_eq!(
            key,
            id(Action::Delete, &renamed, b"user\na@x\n", false).key()
        );
    }
}
