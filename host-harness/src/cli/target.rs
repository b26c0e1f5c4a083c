//! What every action command shares: which tenant it acts on (`--config FILE` or
//! `--integration NAME`), where the harness's home is, and recording the outcome in the audit
//! log before reporting it.

use crate::ids::TenantLabel as _;
use std::path::PathBuf;

use crate::audit::AuditLog;
use crate::dispatch::{Action, Dispatched, Dispatcher};
use crate::integrations::Home;
use lifecycle_host::{LoadedConnector, Tenant};

/// `--home DIR`: the harness's home (saved integrations and the audit log).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HomeArgs {
    /// The harness's home directory: saved integrations and the audit log
    /// [default: $XDG_CONFIG_HOME/host-harness or ~/.config/host-harness].
    #[arg(long, env = "HOST_HARNESS_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,
}

impl HomeArgs {
    /// The home directory these arguments name.
    pub fn home(&self) -> anyhow::Result<Home> {
        Ok(Home::resolve(self.home.as_deref())?)
    }
}

/// Which tenant an action runs against, and where its audit records go.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TenantArgs {
    /// A tenant config file (TOML; see the README).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "integration",
        required_unless_present = "integration"
    )]
    pub config: Option<PathBuf>,
    /// A saved integration (see `host-harness connect`).
    #[arg(long, value_name = "NAME")]
    pub integration: Option<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub home: HomeArgs,
}

/// Where a changing command records what it changed.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuditArgs {
    /// Append audit records here instead of the home directory's `audit.jsonl`.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

impl AuditArgs {
    /// The audit log's path: `--audit-log`, else the home directory's `audit.jsonl`.
    pub fn path(&self, home: &HomeArgs) -> anyhow::Result<PathBuf> {
        Ok(match &self.audit_log {
            Some(path) => path.clone(),
            None => home.home()?.audit_log(),
        })
    }

    /// Opens the audit log (creating it if absent).
    pub fn open(&self, home: &HomeArgs) -> anyhow::Result<AuditLog> {
        Ok(AuditLog::open(&self.path(home)?)?)
    }
}

/// What a command that changes something needs: the tenant, and where its audit records go.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ChangeArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub tenant: TenantArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub audit: AuditArgs,
}

impl ChangeArgs {
    /// Loads the tenant and opens its audit log.
    pub fn resolve(&self) -> anyhow::Result<Target> {
        self.tenant.resolve(&self.audit)
    }
}

/// A resolved tenant with its audit log.
pub struct Target {
    /// The tenant.
    pub tenant: Tenant,
    /// The integration's name (the saved name, or the config's `instance_name`).
    pub integration: String,
    /// Where this target's changes are recorded.
    pub audit: AuditLog,
}

impl TenantArgs {
    /// Loads the tenant, and names it: the saved integration's name, or the config file's
    /// `instance_name`.
    pub fn tenant(&self) -> anyhow::Result<(Tenant, String)> {
        Ok(match (&self.config, &self.integration) {
            (Some(path), _) => {
                let tenant = Tenant::from_file(path)?;
                let name = tenant.name().to_owned();
                (tenant, name)
            }
            (None, Some(name)) => (self.home.home()?.load(name)?, name.clone()),
            (None, None) => anyhow::bail!("give --config FILE or --integration NAME"),
        })
    }

    /// Loads the tenant and opens the audit log its changes go to.
    pub fn resolve(&self, audit: &AuditArgs) -> anyhow::Result<Target> {
        let (tenant, integration) = self.tenant()?;
        Ok(Target {
            tenant,
            integration,
            audit: audit.open(&self.home)?,
        })
    }
}

impl Target {
    /// The dispatcher that runs actions on `connector` for this target and records them here.
    pub fn dispatcher<'a>(&'a self, connector: &'a LoadedConnector) -> Dispatcher<'a> {
        Dispatcher {
            connector,
            tenant: &self.tenant,
            integration: &self.integration,
            audit: &self.audit,
        }
    }

    /// Runs one action through the dispatcher (recording its changes in the audit log), then
    /// prints the outcome and returns the exit code. A change that could not be recorded is
    /// reported, and the command fails.
    pub async fn run(
        &self,
        connector: &LoadedConnector,
        action: &Action,
        json: bool,
    ) -> anyhow::Result<u8> {
        let dispatcher = self.dispatcher(connector);
        let Dispatched {
            invocation,
            recorded,
        } = dispatcher.run(action, &dispatcher.context(action)).await;
        let code = super::outcome::report(action.name(), &invocation, json)?;
        match recorded {
            Ok(_) => Ok(code),
            Err(e) => {
                eprintln!(
                    "{}: the audit log could not record this action: {e}; what it changed upstream is not in the audit trail",
                    action.name()
                );
                Ok(code.max(super::EXIT_FAILED))
            }
        }
    }
}
