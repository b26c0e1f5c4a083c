//! `describe`: name, versions, capabilities, the configuration schema, the egress rules, the
//! id namespaces and the resource kinds. Makes no request.

use crate::config::{
    self, ADMIN_API_KEY, ATLASSIAN_API_URL, BITBUCKET_API_URL, BITBUCKET_WORKSPACE, PRODUCT_TOKEN,
    SCIM_TOKEN, SCIM_URL, SITE_URL,
};
use crate::model::{Capability, ConnectorInfo, EgressRule, ID_NAMESPACES, ResourceKind};

/// The connector's stable machine name.
pub const NAME: &str = "atlassian-cloud";
/// The WIT contract version implemented (`lifecycle:connector@0.2.0`).
pub const CONTRACT_VERSION: &str = "0.2.0";

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
    Capability::ReactivateIdentity,
    Capability::ManageGroupRoles,
];

/// Where each secret may travel: the SCIM token to the SCIM directory only, the organization
/// key to the admin and lifecycle APIs only (in force with the key, at its default URL unless
/// `atlassian_api_url` says otherwise), the product token to the Jira and Confluence REST
/// APIs of the site and to the Bitbucket API (in force with a workspace).
pub const EGRESS: &[EgressRule] = &[
    EgressRule {
        url_key: SCIM_URL,
        path_prefix: "",
        secrets: &[SCIM_TOKEN],
        enabled_by: &[],
    },
    EgressRule {
        url_key: ATLASSIAN_API_URL,
        path_prefix: "/admin/",
        secrets: &[ADMIN_API_KEY],
        enabled_by: &[ADMIN_API_KEY],
    },
    EgressRule {
        url_key: ATLASSIAN_API_URL,
        path_prefix: "/users/",
        secrets: &[ADMIN_API_KEY],
        enabled_by: &[ADMIN_API_KEY],
    },
    EgressRule {
        url_key: SITE_URL,
        path_prefix: "/rest/api/",
        secrets: &[PRODUCT_TOKEN],
        enabled_by: &[],
    },
    EgressRule {
        url_key: SITE_URL,
        path_prefix: "/wiki/",
        secrets: &[PRODUCT_TOKEN],
        enabled_by: &[],
    },
    EgressRule {
        url_key: BITBUCKET_API_URL,
        path_prefix: "/2.0/",
        secrets: &[PRODUCT_TOKEN],
        enabled_by: &[BITBUCKET_WORKSPACE],
    },
];

/// The connector's self-description.
pub fn describe() -> ConnectorInfo {
    ConnectorInfo {
        name: NAME.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        contract_version: CONTRACT_VERSION.to_string(),
        capabilities: CAPABILITIES.to_vec(),
        config_schema: config::schema(),
        egress: EGRESS,
        id_namespaces: ID_NAMESPACES,
        resource_kinds: ResourceKind::ALL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConfigKind;

    #[test]
    fn describes_itself() {
        let info = describe();
        assert_eq!(info.name, "atlassian-cloud");
        assert_eq!(info.version, "0.1.0");
        assert_eq!(info.contract_version, "0.2.0");
        assert_eq!(
            info.capabilities,
            [
                Capability::SyncIdentities,
                Capability::ManageRelationships,
                Capability::DeprovisionIdentity,
                Capability::DeleteIdentity,
                Capability::Discover,
                Capability::ReactivateIdentity,
                Capability::ManageGroupRoles
            ]
        );
        assert_eq!(info.config_schema.len(), config::KEYS.len());
        assert!(
            info.config_schema
                .iter()
                .any(|k| k.key == "scim_token" && k.is_secret() && k.required)
        );
        let names: Vec<&str> = info.id_namespaces.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["scim", "account", "group"]);
        let kinds: Vec<&str> = info.resource_kinds.iter().map(|k| k.name()).collect();
        assert_eq!(
            kinds,
            ["jira-project", "confluence-space", "bitbucket-repository"]
        );
    }

    #[test]
    fn the_schema_is_typed() {
        let key = |name: &str| {
            config::KEYS
                .iter()
                .find(|k| k.key == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        assert_eq!(key("atlassian_api_url").kind, ConfigKind::Url);
        assert_eq!(
            key("atlassian_api_url").default,
            Some("https://api.atlassian.com")
        );
        assert_eq!(
            key("bitbucket_api_url").default,
            Some("https://api.bitbucket.org")
        );
        assert_eq!(key("product_user").requires, ["product_token"]);
        assert_eq!(key("protected_users").kind, ConfigKind::List);
        assert!(
            config::KEYS
                .iter()
                .all(|k| !k.is_secret() || k.default.is_none())
        );
    }

    /// Every rule names a `url` key of the schema and only secret keys, and every secret of
    /// the schema may travel somewhere.
    #[test]
    fn egress_rules_name_keys_of_the_schema() {
        let kind = |name: &str| config::KEYS.iter().find(|k| k.key == name).map(|k| k.kind);
        for rule in EGRESS {
            assert_eq!(kind(rule.url_key), Some(ConfigKind::Url), "{rule:?}");
            assert!(
                rule.secrets
                    .iter()
                    .all(|s| kind(s) == Some(ConfigKind::Secret))
            );
            assert!(rule.enabled_by.iter().all(|k| kind(k).is_some()));
        }
        for secret in config::KEYS.iter().filter(|k| k.is_secret()) {
            assert!(
                EGRESS.iter().any(|r| r.secrets.contains(&secret.key)),
                "{}",
                secret.key
            );
        }
    }
}
