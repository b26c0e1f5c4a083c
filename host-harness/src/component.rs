//! The connector component built into this harness (compiled by `build.rs` from the
//! workspace's root package), and the egress an embedder declares for a component of contract
//! 0.1.0, which declares none itself. `--component PATH` loads another component instead.

use lifecycle_host::bindings::ContractVersion;
use lifecycle_host::bindings::types::EgressRule;
use lifecycle_host::egress::Declaration;
use lifecycle_host::{LoadError, LoadedConnector, Runtime};

/// The bytes of the built-in `atlassian-connector` component.
pub const BUILTIN: &[u8] = include_bytes!(env!("CONNECTOR_WASM"));

/// Loading the built-in connector into a [`Runtime`].
pub trait LoadBuiltin {
    /// Loads the connector component built into this harness.
    fn load_builtin(&self) -> Result<LoadedConnector, LoadError>;
}

impl LoadBuiltin for Runtime {
    fn load_builtin(&self) -> Result<LoadedConnector, LoadError> {
        self.load(BUILTIN).map(with_legacy_egress)
    }
}

/// A 0.1.0 component with [`atlassian_v0_1_0`] as its declaration; a component of a later
/// contract declares its own and is returned as it is.
pub fn with_legacy_egress(connector: LoadedConnector) -> LoadedConnector {
    match connector.contract_version() {
        ContractVersion::V0_1_0 => connector.with_declaration(atlassian_v0_1_0()),
        _ => connector,
    }
}

/// The egress of the Atlassian connector as contract 0.1.0 implied it (the settings that
/// contract's connector documents): the SCIM token to the SCIM directory, the organization
/// key to the admin and user-management APIs, the product token to the product sites. The
/// harness declares it for 0.1.0 components; 0.2.0 connectors declare their own.
pub fn atlassian_v0_1_0() -> Declaration {
    let rule = |url_key: &str, path_prefix: &str, secret: &str, enabled_by: &[&str]| EgressRule {
        url_key: url_key.into(),
        path_prefix: path_prefix.into(),
        secrets: vec![secret.into()],
        enabled_by: enabled_by.iter().map(|k| (*k).to_owned()).collect(),
    };
    Declaration::new(
        vec![
            rule("scim_url", "", "scim_token", &[]),
            rule(
                "atlassian_api_url",
                "/admin/",
                "admin_api_key",
                &["admin_api_key"],
            ),
            rule(
                "atlassian_api_url",
                "/users/",
                "admin_api_key",
                &["admin_api_key"],
            ),
            rule("site_url", "/rest/api/", "product_token", &[]),
            rule("site_url", "/wiki/", "product_token", &[]),
            rule(
                "bitbucket_api_url",
                "/2.0/",
                "product_token",
                &["bitbucket_workspace"],
            ),
        ],
        &[
            ("atlassian_api_url", "https://api.atlassian.com"),
            ("bitbucket_api_url", "https://api.bitbucket.org"),
        ],
    )
}

/// The hosts the harness's operator policy allows by default: Atlassian's public API hosts,
/// the services the built-in connector talks to.
pub const DEFAULT_ALLOWED_DOMAINS: &[&str] =
    &["api.atlassian.com", "*.atlassian.net", "api.bitbucket.org"];
