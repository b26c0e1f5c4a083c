//! The adapter component of the platform path (`guest/platform-wit`, world `http-adapter`):
//! it exports the contract's `http-client` and implements it on `wasi:http/outgoing-handler`,
//! so a connector runs unchanged on a host that knows only the standard worlds.
//!
//! It holds the tenant's secrets, read from `wasi:config/store`, in its own linear memory:
//! components share nothing, so the connector composed with it still only names them. Every
//! request passes the same rules as in our host, in the same order: the request budget, a
//! dry run's refusal of writes, the method, the secret's existence, the egress grants built
//! from the connector's declaration ([`grants`]), the header rules, the size caps
//! ([`rules`]); then the credential is attached and the request goes out with timeouts,
//! without following redirects (`wasi:http` never does), and the answer comes back capped in
//! size with the secrets taken out of it.
//!
//! What only a platform can do moves to it: resolving names and checking the addresses they
//! resolve to, its own allowed-hosts list, retries and rate limiting across invocations, and
//! the audit trail (`docs/platforms.md`).
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

pub mod grants;
pub mod rules;

#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(target_arch = "wasm32")]
mod outbound;
