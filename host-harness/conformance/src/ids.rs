//! The id namespaces the conformance list names for the Atlassian connector, as its
//! `describe` declares them (the host's 0.1.0 binding names that contract's fixed id fields
//! the same way): SCIM ids, account ids and the admin API's group ids.

use lifecycle_host::bindings::types::{NamespacedId, UserRef};

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
