//! The front component of the platform path (`guest/platform-wit`, world `http-front`): it
//! exports `wasi:http/incoming-handler` and maps a small JSON API (`docs/openapi.yaml`) onto
//! the connector's `lifecycle` export, so a composed connector serves HTTP on any host of the
//! `wasi:http/proxy` world.
//!
//! One incoming request is one invocation: the front calls `describe`, hands the declaration
//! to the adapter (`tenant.configure`), which reads the tenant from `wasi:config/store` and
//! returns the settings and the *names* of the secrets it holds, then calls the action with
//! that configuration. Answers are the contract's values as JSON, spelled as `docs/json.md`
//! says; errors are `{"error": {"class", "message", "detail"}}` with the contract's error
//! class and an HTTP status for it ([`routes::status_of`]).
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

pub mod routes;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod json_in;
#[cfg(target_arch = "wasm32")]
mod json_out;
