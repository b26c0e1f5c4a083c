//! The connector component built into this harness (compiled by `build.rs` from the
//! workspace's root package). `--component PATH` loads another one instead.

use lifecycle_host::{LoadError, LoadedConnector, Runtime};

/// The bytes of the built-in `atlassian-connector` component.
pub const BUILTIN: &[u8] = include_bytes!(env!("CONNECTOR_WASM"));

/// Loading the built-in connector into a [`Runtime`].
pub trait LoadBuiltin {
    /// Loads the connector component built into this harness.
    fn load_builtin(&self) -> Result<LoadedConnector, LoadError>;
}

impl LoadBuiltin for Runtime {
    fn load_builtin(&self) -> Result<LoadedConnector, LoadError> {
        self.load(BUILTIN)
    }
}
