//! The connector component built into this harness (compiled by `build.rs` from the
//! workspace's root package). `--component PATH` loads another one instead.

/// The bytes of the built-in `atlassian-connector` component.
pub const BUILTIN: &[u8] = include_bytes!(env!("CONNECTOR_WASM"));
