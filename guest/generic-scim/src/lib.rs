//! A minimal generic SCIM 2.0 connector: users and group membership for any RFC 7644
//! service, SCIM only, on the guest SDK (`guest/sdk`, `lifecycle_connector_sdk`).
//!
//! It exists to prove that contract 0.2.0 is generic: the same host and CLI load it as they
//! load the Atlassian connector, and build its egress from its own `describe` (the `token`
//! secret may go to `base_url` only). The logic lives in modules that never name a generated
//! type, so it unit-tests natively against the SDK's `FakeTransport`; on wasm32,
//! `contract.rs` maps the bindings to [`model`] and exports `lifecycle`.
#![deny(missing_docs)]
// No panics on external data: outside tests, these are compile errors, not style.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo
    )
)]

pub mod access;
pub mod client;
pub mod config;
pub mod describe;
pub mod discover;
pub mod model;
pub mod sync;

#[cfg(test)]
mod testing;

/// The `lifecycle` export of `lifecycle:connector@0.2.0`: conversions between the SDK's
/// generated types and [`model`], and nothing else.
#[cfg(target_arch = "wasm32")]
mod contract;
