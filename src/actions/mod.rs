//! The lifecycle actions, one file each, written against core types and the
//! [`Transport`](crate::transport::Transport) trait only, so they run natively under a fake.
//!
//! Not built, because Atlassian offers no API for them (`atlassian-api.md` §6) and the WIT
//! contract exposes no action for them either: forcing a logout, removing a single product
//! licence, managing devices, and password operations. Should the contract gain such
//! actions, they answer `unsupported` naming that reason.

pub mod common;
pub mod delete;
pub mod deprovision;
pub mod describe;
pub mod group_roles;
pub mod health;
mod index;
pub mod key_expiry;
pub mod list;
pub mod reactivate;
pub mod relationships;
pub mod roles;
pub mod suspension;
pub mod sync;
pub mod tokens;

pub use delete::delete_identity;
pub use deprovision::deprovision_identity;
pub use describe::describe;
pub use group_roles::manage_group_roles;
pub use health::check_health;
pub use list::{list_groups, list_resources, list_users};
pub use reactivate::reactivate_identity;
pub use relationships::manage_relationships;
pub use sync::sync_identity;
