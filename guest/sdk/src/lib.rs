//! The guest SDK of the `lifecycle:connector@0.2.0` contract (`wit/since_v0.2.0`).
//!
//! A connector written against it:
//! - sends its HTTP through the [`Transport`](transport::Transport) trait, which natively is
//!   plain Rust (so its logic unit-tests without a wasm runtime) and on wasm32 is
//!   [`HostTransport`], the host's `http-client` import;
//! - implements the generated `Guest` trait of [`wit`] (wasm32 only) and exports it with
//!   [`export_connector!`], without naming wit-bindgen itself;
//! - takes its inputs as the plain [`records`] (with conversions from the bindings on
//!   wasm32), shared by every connector;
//! - tests against `FakeTransport` (the `testing` feature, for `[dev-dependencies]` only:
//!   it is never part of a component).
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod clock;
pub mod records;
pub mod transport;

#[cfg(feature = "testing")]
pub mod fake;

#[cfg(target_arch = "wasm32")]
mod host;

#[cfg(target_arch = "wasm32")]
pub use host::HostTransport;

/// The wit-bindgen bindings of world `connector` of `wit/since_v0.2.0`: the `types` and
/// `http-client` imports, and the `lifecycle` export's `Guest` trait. Use
/// [`export_connector!`] to export an implementation.
#[cfg(target_arch = "wasm32")]
#[allow(missing_docs)]
pub mod wit {
    wit_bindgen::generate!({
        path: "../../wit/since_v0.2.0",
        world: "connector",
        pub_export_macro: true,
        default_bindings_module: "lifecycle_connector_sdk::wit",
    });
}

/// Exports a type implementing the `lifecycle` interface's `Guest` trait
/// (`lifecycle_connector_sdk::wit::exports::lifecycle::connector::lifecycle::Guest`) as the
/// component's `lifecycle` export. Use it once, at a connector crate's root, on wasm32.
#[macro_export]
macro_rules! export_connector {
    ($ty:ident) => {
        $crate::wit::export!($ty with_types_in $crate::wit);
    };
}
