//! `host-harness health --config FILE [--json]`: probe every configured credential.

use crate::cli::{EXIT_ERROR, EXIT_FAILED, EXIT_OK};
use crate::ids::TenantLabel as _;
use lifecycle_host::{CallError, LoadedConnector};

/// Arguments of `health`.
#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: super::target::TenantArgs,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `health`; exits 0 when every probe passed, 1 when one failed, 2 on a config error.
pub async fn run(connector: &LoadedConnector, args: &HealthArgs) -> anyhow::Result<u8> {
    let (tenant, _) = args.target.tenant()?;
    let invocation = crate::dispatch::health(connector, &tenant).await;
    if args.json {
        let value = match &invocation.result {
            Ok(report) => serde_json::json!({
                "instance": tenant.name(),
                "report": lifecycle_host::json::to_value(report)?,
            }),
            Err(e) => serde_json::json!({
                "instance": tenant.name(),
                "error": lifecycle_host::json::to_value(e)?,
            }),
        };
        println!("{}", lifecycle_host::json::to_string_pretty(&value)?);
    }
    match invocation.result {
        Ok(report) => {
            if !args.json {
                print!("{}", crate::render::health(tenant.name(), &report));
            }
            Ok(if report.healthy { EXIT_OK } else { EXIT_FAILED })
        }
        Err(e) => {
            if !args.json {
                eprintln!("{}: health check failed: {e}", tenant.name());
            }
            Ok(match e {
                CallError::Connector(_) => EXIT_ERROR,
                CallError::Host(_) => EXIT_FAILED,
            })
        }
    }
}
