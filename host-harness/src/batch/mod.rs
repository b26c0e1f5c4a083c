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
}

impl Action {
    /// The action's name as the command line and the audit log spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Groups => "groups",
            Self::Deprovision => "deprovision",
            Self::Delete => "delete",
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

/// The stable key of a batch: the same action, on the same integration, with the same input
/// bytes and the same options that change what is written, is the same batch (and resumes).
pub fn batch_key(action: Action, integration: &str, input: &[u8], purge_account: bool) -> String {
    let mut hash = Sha256::new();
    for part in [
        action.name().as_bytes(),
        integration.as_bytes(),
        if purge_account { b"purge" } else { b"keep" },
    ] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.update(input);
    let digest = hash.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", action.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_depends_on_everything_that_changes_what_is_written() {
        let base = batch_key(Action::Delete, "acme", b"user\na@x\n", false);
        assert_eq!(
            base,
            batch_key(Action::Delete, "acme", b"user\na@x\n", false)
        );
        assert!(base.starts_with("delete-") && base.len() == "delete-".len() + 16);
        for other in [
            batch_key(Action::Deprovision, "acme", b"user\na@x\n", false),
            batch_key(Action::Delete, "acme2", b"user\na@x\n", false),
            batch_key(Action::Delete, "acme", b"user\nb@x\n", false),
            batch_key(Action::Delete, "acme", b"user\na@x\n", true),
        ] {
            assert_ne!(base[7..], other[other.find('-').unwrap() + 1..]);
        }
    }
}
