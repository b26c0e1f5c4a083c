//! `describe`: name, versions, capabilities and the configuration schema. Makes no request.

use crate::config;
use crate::model::{Capability, ConnectorInfo};

/// The connector's stable machine name.
pub const NAME: &str = "atlassian-cloud";
/// The WIT contract version implemented (`lifecycle:connector@0.1.0`).
pub const CONTRACT_VERSION: &str = "0.1.0";

/// The capabilities actually implemented.
///
/// `check-health` is always available and is not a capability; a platform shows only what
/// is declared.
pub const CAPABILITIES: &[Capability] = &[
    Capability::SyncIdentities,
    Capability::ManageRelationships,
    Capability::DeprovisionIdentity,
    Capability::DeleteIdentity,
    Capability::Discover,
];

/// The connector's self-description.
pub fn describe() -> ConnectorInfo {
    ConnectorInfo {
        name: NAME.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        contract_version: CONTRACT_VERSION.to_string(),
        capabilities: CAPABILITIES.to_vec(),
        config_schema: config::schema(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_itself() {
        let info = describe();
        assert_eq!(info.name, "atlassian-cloud");
        assert_eq!(info.version, "0.1.0");
        assert_eq!(info.contract_version, "0.1.0");
        assert_eq!(
            info.capabilities,
            [
                Capability::SyncIdentities,
                Capability::ManageRelationships,
                Capability::DeprovisionIdentity,
                Capability::DeleteIdentity,
                Capability::Discover
            ]
        );
        assert_eq!(info.config_schema.len(), config::KEYS.len());
        assert!(
            info.config_schema
                .iter()
                .any(|k| k.key == "scim_token" && k.secret && k.required)
        );
    }
}
