//! The built-in Atlassian connector's vocabulary that the harness uses: the id namespaces its
//! `describe` declares (named once, by the conformance list: [`lifecycle_conformance::ids`]),
//! and the `instance_name` setting that labels a tenant.

use lifecycle_host::Tenant;

pub use lifecycle_conformance::ids::{ACCOUNT, GROUP, SCIM, account, scim};

/// A tenant's display label.
pub trait TenantLabel {
    /// The `instance_name` setting, or `unnamed`.
    fn name(&self) -> &str;
}

impl TenantLabel for Tenant {
    fn name(&self) -> &str {
        self.settings
            .get("instance_name")
            .map(String::as_str)
            .unwrap_or("unnamed")
    }
}
