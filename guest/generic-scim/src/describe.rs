//! What `describe` says: name, versions, capabilities, the configuration schema
//! ([`crate::config::KEYS`]), the one egress rule (the token goes to `base_url` only) and the
//! `scim` id namespace. No resource kinds: SCIM has none.

use crate::config::{self, Key};
use crate::model::SCIM_NAMESPACE;
pub use lifecycle_connector_sdk::records::Capability;

/// The contract version this connector implements.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// One destination: the value of `url_key` plus `path_prefix`, and the secrets allowed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EgressRule {
    /// The `url` key whose value is the base URL.
    pub url_key: &'static str,
    /// Appended to its path.
    pub path_prefix: &'static str,
    /// The secrets the host may attach there.
    pub secrets: &'static [&'static str],
}

/// The connector's self-description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// Machine name.
    pub name: &'static str,
    /// The connector's version.
    pub version: &'static str,
    /// The contract version.
    pub contract_version: &'static str,
    /// What it can do.
    pub capabilities: &'static [Capability],
    /// Every configuration key.
    pub config_schema: &'static [Key],
    /// Every destination.
    pub egress: &'static [EgressRule],
    /// `(name, description)` of each id namespace.
    pub id_namespaces: &'static [(&'static str, &'static str)],
}

/// The connector's self-description.
pub fn describe() -> Info {
    Info {
        name: "generic-scim",
        version: env!("CARGO_PKG_VERSION"),
        contract_version: CONTRACT_VERSION,
        capabilities: &[
            Capability::SyncIdentities,
            Capability::ManageRelationships,
            Capability::DeprovisionIdentity,
            Capability::DeleteIdentity,
            Capability::Discover,
        ],
        config_schema: config::KEYS,
        egress: &[EgressRule {
            url_key: config::BASE_URL,
            path_prefix: "",
            secrets: &[config::TOKEN],
        }],
        id_namespaces: &[(
            SCIM_NAMESPACE,
            "The service's SCIM resource id (RFC 7643 §3.1 `id`) of a user or group.",
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_travels_to_the_base_url_only() {
        let info = describe();
        assert_eq!(info.name, "generic-scim");
        assert_eq!(info.egress.len(), 1);
        assert_eq!(info.egress[0].url_key, config::BASE_URL);
        assert_eq!(info.egress[0].secrets, [config::TOKEN]);
        let required: Vec<&str> = info
            .config_schema
            .iter()
            .filter(|k| k.required)
            .map(|k| k.key)
            .collect();
        assert_eq!(required, [config::BASE_URL, config::TOKEN]);
        assert!(
            info.config_schema
                .iter()
                .all(|k| k.kind != config::Kind::Secret || k.default.is_none())
        );
    }
}
