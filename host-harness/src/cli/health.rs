//! `host-harness health --config FILE [--json]`: probe every configured credential.

use crate::cli::{EXIT_ERROR, EXIT_FAILED, EXIT_OK};
use lifecycle_host::bindings::types::{HealthReport, ProbeStatus};
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
    let invocation = connector.check_health(&tenant).await;
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
                print!("{}", render(tenant.name(), &report));
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

/// The readable report: one line per probe.
pub fn render(instance: &str, report: &HealthReport) -> String {
    let mut out = format!(
        "{instance}: {}\n",
        if report.healthy {
            "healthy"
        } else {
            "UNHEALTHY"
        }
    );
    for probe in &report.probes {
        let mark = match probe.status {
            ProbeStatus::Ok => "ok  ",
            ProbeStatus::Warning(_) => "warn",
            ProbeStatus::Unknown(_) => "?   ",
            ProbeStatus::Skipped(_) => "skip",
            ProbeStatus::Failed(_) => "FAIL",
        };
        out.push_str(&format!(
            "  [{mark}] {:<11} {:<15} {}\n",
            probe.name, probe.credential, probe.target
        ));
        if !matches!(probe.status, ProbeStatus::Ok) {
            out.push_str(&format!("         {}\n", probe.status));
        }
    }
    out
}
