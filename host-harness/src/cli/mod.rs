//! The `host-harness` command line: one module per subcommand.

pub mod audit;
pub mod batch;
pub mod bench;
pub mod conformance;
pub mod demo;
pub mod deprovision;
pub mod describe;
pub mod extract;
pub mod groups;
pub mod health;
pub mod inspect;
pub mod integrations;
pub mod outcome;
pub mod simulate;
pub mod sync;
pub mod target;
pub mod workflow;

use std::path::{Path, PathBuf};

use crate::{LoadedConnector, Runtime, RuntimeOptions};

/// Exit code for success (every change applied or already done).
pub const EXIT_OK: u8 = 0;
/// Exit code when the command ran but found a failure: a failed probe, a change that failed
/// (partial failure: the same command again finishes the rest), or an invocation the host ended.
pub const EXIT_FAILED: u8 = 1;
/// Exit code when nothing could be done: bad input (config, identity, arguments), an unknown
/// user or group, a denied action, an unloadable component.
pub const EXIT_ERROR: u8 = 2;

/// Parses a repeatable `--set NAME=VALUE` (the name trimmed, the value as given).
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

/// Builds a runtime with the on-disk component cache and loads the connector.
pub fn load_connector(component: Option<&Path>) -> anyhow::Result<LoadedConnector> {
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: default_cache_dir(),
        ..RuntimeOptions::default()
    })?;
    Ok(match component {
        Some(path) => runtime.load_file(path)?,
        None => runtime.load_builtin()?,
    })
}

/// `$XDG_CACHE_HOME/host-harness` or `~/.cache/host-harness`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|d| d.join("host-harness"))
}
