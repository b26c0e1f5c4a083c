//! The built-in Atlassian connector's vocabulary that the harness uses: the id namespaces its
//! `describe` declares (and the host's 0.1.0 binding names that contract's fixed id fields),
//! and the `instance_name` setting that labels a tenant.

use lifecycle_host::Tenant;
use lifecycle_host::bindings::types::{NamespacedId, UserRef};

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

/// SCIM user and group ids.
pub const SCIM: &str = "scim";
/// Atlassian account ids.
pub const ACCOUNT: &str = "account";
/// The organization's group ids (admin API).
pub const GROUP: &str = "group";

/// A user named by SCIM id.
pub fn scim(id: impl Into<String>) -> UserRef {
    UserRef::Id(NamespacedId::new(SCIM, id))
}

/// A user named by account id.
pub fn account(id: impl Into<String>) -> UserRef {
    UserRef::Id(NamespacedId::new(ACCOUNT, id))
}
