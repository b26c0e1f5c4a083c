//! The host harness: the CLI and the platform stand-in around the embeddable host library
//! ([`lifecycle_host`]): saved integrations, the audit log, workflows, batch runs, the bench,
//! the conformance suite's platform side ([`conformance_platform`]), all run against the Atlassian simulator ([`atlassian_simulator`]).

pub mod audit;
pub mod batch;
pub mod cli;
pub mod component;
pub mod conformance_platform;
pub mod dispatch;
pub mod entitlement;
pub mod guest_build;
pub mod ids;
pub mod integrations;
pub mod jsonl;
pub mod over_http;
pub mod render;
pub mod user_ref;
pub mod workflow;
