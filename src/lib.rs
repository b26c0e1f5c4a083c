//! Atlassian Cloud identity lifecycle connector, delivered as a WebAssembly component.
//!
//! Built on the guest SDK (`guest/sdk`, `lifecycle_connector_sdk`), which holds the bindings
//! of contract 0.2.0 and the [`Transport`] over the host's `http-client`. This file holds only
//! the module declarations; on wasm32 with the default `component` feature, `contract.rs`
//! maps the generated types to the core model and exports `lifecycle`. Every piece of logic
//! lives in modules that never name a generated type, so the crate compiles and unit-tests
//! natively, and another component can use it as a library without the `component` feature
//! (`bench-guest/` does, to run the core logic inside a component of its own).
//!
//! [`Transport`]: transport::Transport
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

pub mod actions;
pub mod admin;
pub mod base_url;
pub mod bench_loop;
pub mod config;
pub mod encode;
pub mod error;
mod lenient;
pub mod manage;
pub mod model;
pub mod products;
pub mod roles;
pub mod scim;
pub mod text;
pub mod upstream;
pub mod wire;

#[cfg(test)]
mod robustness_tests;

pub use error::ConnectorError;
/// The SDK's [`Transport`](transport::Transport) and the request and response types the
/// core sends through it (with the `testing` feature of the SDK, its `FakeTransport` too).
pub use lifecycle_connector_sdk::transport;

/// The `lifecycle` export of `lifecycle:connector@0.2.0`: conversions between the SDK's
/// generated types and the core model, and nothing else.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod contract;
