//! The lifecycle actions, one file each, written against core types and the
//! [`Transport`](crate::transport::Transport) trait only, so they run natively under a fake.

pub mod describe;
pub mod health;
pub mod list;
pub mod pending;

pub use describe::describe;
pub use health::check_health;
pub use list::{list_groups, list_resources, list_users};
pub use pending::{delete_identity, deprovision_identity, manage_relationships, sync_identity};
