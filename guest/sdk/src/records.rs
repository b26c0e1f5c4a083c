//! The contract's input records as plain Rust, shared by every connector: what the host hands
//! a connector (its [`Config`], an [`Identity`], [`SyncOptions`], a [`PageRequest`]) and the
//! [`Capability`] list `describe` publishes. Natively they are plain types a connector's logic
//! and tests use; on wasm32 they convert from and to the generated bindings.

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

/// A person as the platform wants them to be (WIT `identity`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Work email; the person's user name and primary email.
    pub email: String,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// The platform's own id for the person.
    pub external_id: Option<String>,
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

/// Where a paged listing starts (WIT `page-request`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// Opaque cursor from the previous page; `None` for the first page.
    pub cursor: Option<String>,
    /// The most items wanted.
    pub limit: Option<u32>,
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
    /// `reactivate-identity`.
    ReactivateIdentity,
    /// `manage-group-roles`.
    ManageGroupRoles,
}

#[cfg(target_arch = "wasm32")]
mod wit_conversions {
    use super::*;
    use crate::wit::lifecycle::connector::types as wit;

    impl From<wit::Config> for Config {
        fn from(c: wit::Config) -> Self {
            Config {
                settings: c.settings,
                secrets: c.secrets,
            }
        }
    }

    impl From<wit::Identity> for Identity {
        fn from(i: wit::Identity) -> Self {
            Identity {
                email: i.email,
                name: i.name,
                given_name: i.given_name,
                family_name: i.family_name,
                display_name: i.display_name,
                external_id: i.external_id,
            }
        }
    }

    impl From<wit::SyncOptions> for SyncOptions {
        fn from(o: wit::SyncOptions) -> Self {
            SyncOptions {
                create_missing: o.create_missing,
                update_existing: o.update_existing,
                dry_run: o.dry_run,
            }
        }
    }

    impl From<wit::PageRequest> for PageRequest {
        fn from(p: wit::PageRequest) -> Self {
            PageRequest {
                cursor: p.cursor,
                limit: p.limit,
            }
        }
    }

    impl From<Capability> for wit::Capability {
        fn from(c: Capability) -> Self {
            match c {
                Capability::SyncIdentities => wit::Capability::SyncIdentities,
                Capability::ManageRelationships => wit::Capability::ManageRelationships,
                Capability::DeprovisionIdentity => wit::Capability::DeprovisionIdentity,
                Capability::DeleteIdentity => wit::Capability::DeleteIdentity,
                Capability::Discover => wit::Capability::Discover,
                Capability::ReactivateIdentity => wit::Capability::ReactivateIdentity,
                Capability::ManageGroupRoles => wit::Capability::ManageGroupRoles,
            }
        }
    }
}
