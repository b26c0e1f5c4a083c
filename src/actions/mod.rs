//! The lifecycle actions, one file each, written against core types and the
//! [`Transport`](crate::transport::Transport) trait only, so they run natively under a fake.

pub mod common;
pub mod describe;
pub mod health;
pub mod list;
pub mod pending;
pub mod relationships;
pub mod sync;

pub use describe::describe;
pub use health::check_health;
pub use list::{list_groups, list_resources, list_users};
pub use pending::{delete_identity, deprovision_identity};
pub use relationships::manage_relationships;
pub use sync::sync_identity;
