//! The `host-harness` command line: one module per subcommand.

pub mod audit;
pub mod batch;
pub mod bench;
pub(crate) mod bench_scale;
pub mod conformance;
pub mod demo;
pub mod deprovision;
pub mod describe;
pub mod extract;
pub mod group_roles;
pub mod groups;
pub mod health;
pub mod inspect;
pub mod integrations;
pub mod outcome;
pub mod reactivate;
pub mod schema_args;
pub mod simulate;
pub mod sync;
pub mod target;
pub mod workflow;

use crate::component::LoadBuiltin as _;
use std::path::{Path, PathBuf};

use lifecycle_host::operator::OperatorPolicy;
use lifecycle_host::{LoadedConnector, Runtime, RuntimeOptions};

/// Exit code for success (every change applied or already done).
pub const EXIT_OK: u8 = 0;
/// Exit code when the command ran but found a failure: a failed probe, a change that failed
/// (partial failure: the same command again finishes the rest), or an invocation the host ended.
pub const EXIT_FAILED: u8 = 1;
/// Exit code when nothing could be done: bad input (config, identity, arguments), an unknown
/// user or group, a denied action, an unloadable component.
pub const EXIT_ERROR: u8 = 2;

/// An error and its causes on one line, `error: cause: cause`, each cause shown once: a
/// cause that the text so far already ends with (an error that prints its own source) is not
/// repeated.
pub fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.is_empty() {
            text = part;
        } else if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
    }
    text
}

/// Parses a repeatable `--set NAME=VALUE` (the name trimmed, the value as given).
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

/// The host operator's egress policy, from harness-level flags (given before or after the
/// subcommand) and an optional operator config file; never from a tenant's config or a saved
/// integration.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct OperatorArgs {
    /// The operator's egress policy file (TOML: `allowed_domains`, `allow_loopback`,
    /// `allow_private_networks`); default: Atlassian's public API hosts only, no loopback, no
    /// private networks.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "HOST_HARNESS_OPERATOR_CONFIG"
    )]
    pub operator_config: Option<PathBuf>,
    /// Let tenants reach loopback (plain http included): for a local simulator.
    #[arg(long, global = true)]
    pub allow_loopback: bool,
    /// Let tenants reach private and unique-local addresses (10/8, 172.16/12, 192.168/16,
    /// 100.64/10, fc00::/7).
    #[arg(long, global = true)]
    pub allow_private_networks: bool,
    /// One more host tenant URLs may name: `name`, `*.domain`, an IP address or `*`.
    /// Repeatable; adds to the file's (or the default) list.
    #[arg(long = "allow-upstream-domain", global = true, value_name = "PATTERN")]
    pub allow_upstream_domains: Vec<String>,
}

impl OperatorArgs {
    /// The policy: the file's (or the default), widened by the flags.
    pub fn policy(&self) -> anyhow::Result<OperatorPolicy> {
        let defaults = default_operator_policy();
        let mut policy = match &self.operator_config {
            Some(path) => OperatorPolicy::from_file(path, &defaults).map_err(anyhow::Error::msg)?,
            None => defaults,
        };
        policy.allow_loopback |= self.allow_loopback;
        policy.allow_private_networks |= self.allow_private_networks;
        for pattern in &self.allow_upstream_domains {
            policy = policy
                .allowing_domain(pattern)
                .map_err(|e| anyhow::anyhow!("--allow-upstream-domain: {e}"))?;
        }
        Ok(policy)
    }
}

/// The harness's operator policy when no file says otherwise: Atlassian's public API hosts
/// ([`crate::component::DEFAULT_ALLOWED_DOMAINS`]), no loopback, no private networks.
pub fn default_operator_policy() -> OperatorPolicy {
    OperatorPolicy::allowing_only(crate::component::DEFAULT_ALLOWED_DOMAINS).unwrap_or_default()
}

/// Builds a runtime with the on-disk component cache and the operator's egress policy, and
/// loads the connector.
pub fn load_connector(
    component: Option<&Path>,
    operator: &OperatorPolicy,
) -> anyhow::Result<LoadedConnector> {
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: default_cache_dir(),
        operator: operator.clone(),
        ..RuntimeOptions::default()
    })?;
    Ok(match component {
        Some(path) => crate::component::with_legacy_egress(runtime.load_file(path)?),
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

#[cfg(test)]
mod error_text_tests {
    #[test]
    fn a_cause_the_message_already_shows_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("audit log /tmp/x: {source}")]
        struct Shows {
            source: std::io::Error,
        }
        let io = || std::io::Error::from_raw_os_error(21);
        let e = anyhow::Error::new(Shows { source: io() });
        let text = super::error_text(&e);
        assert_eq!(text.matches(&io().to_string()).count(), 1, "{text}");
        let e = anyhow::Error::new(io()).context("cannot open the audit log");
        assert_eq!(
            super::error_text(&e),
            format!("cannot open the audit log: {}", io())
        );
    }
}
