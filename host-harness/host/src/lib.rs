#![deny(missing_docs)]
//! An embeddable wasmtime host for lifecycle connector components.
//!
//! A platform loads a connector component into a sandbox ([`runtime`], [`invoke`]), gives it
//! exactly one way out ([`http_client`]) policed by the tenant's egress grants ([`egress`])
//! within the host operator's policy ([`operator`], [`network`]: allowed upstream domains, no
//! loopback, private or metadata addresses after name resolution), injects secrets by name
//! ([`secrets`]), retries within bounds ([`retry`], [`limits`]), paces each tenant's requests to its
//! upstreams' rate limits ([`governor`]) and records every exchange
//! ([`recorder`]). Everything a connector says is sanitised before a caller sees it
//! ([`sanitize`]). The crate names no vendor: what a connector needs reaches it through the
//! contract (`wit/`).

pub mod bindings;
pub mod display;
pub mod egress;
pub mod files;
pub mod governor;
pub mod http_client;
pub mod invoke;
pub mod json;
pub mod limits;
pub mod network;
pub mod operator;
pub mod paging;
pub mod recorder;
pub mod retry;
pub mod runtime;
pub mod sanitize;
pub mod secrets;
pub mod tenant;
pub mod wasi;

pub use invoke::{CallError, Invocation, InvokeError, LoadedConnector};
pub use operator::OperatorPolicy;
pub use runtime::{LoadError, Runtime, RuntimeOptions};
pub use tenant::Tenant;
