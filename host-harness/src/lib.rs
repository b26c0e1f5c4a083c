//! The host harness: a wasmtime host standing in for an identity platform.
//!
//! It loads the Atlassian connector component into a sandbox ([`runtime`], [`invoke`]),
//! gives it exactly one way out ([`http_client`]) policed by the tenant's allow-list
//! ([`egress`]) within the host operator's policy ([`operator`], [`network`]: allowed upstream
//! domains, no loopback, private or metadata addresses after name resolution), with secrets
//! injected by name ([`secrets`]), and records every exchange ([`recorder`]).

pub mod audit;
pub mod batch;
pub mod bindings;
pub mod cli;
pub mod component;
pub mod conformance;
pub mod display;
pub mod egress;
pub mod files;
pub mod guest_build;
pub mod http_client;
pub mod integrations;
pub mod invoke;
pub mod json;
pub mod jsonl;
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
pub mod workflow;

pub use invoke::{CallError, Invocation, InvokeError, LoadedConnector};
pub use operator::OperatorPolicy;
pub use runtime::{LoadError, Runtime, RuntimeOptions};
pub use tenant::Tenant;
pub mod simulator;
