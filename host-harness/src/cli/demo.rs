//! `host-harness demo`: the connector in its sandbox against the embedded Atlassian
//! simulator, with no credentials and no network. The README's main command.

use std::io::Write as _;

use crate::bindings::types::ProbeStatus;
use crate::cli::{EXIT_FAILED, EXIT_OK};
use crate::simulator::Simulator;
use crate::{LoadedConnector, Tenant};

/// Arguments of `demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {}

/// Runs the demo: start the simulator with a small organization, load the connector, describe
/// it, and check the health of every credential through the sandbox.
pub async fn run(connector: &LoadedConnector, _args: &DemoArgs) -> anyhow::Result<u8> {
    let sim = Simulator::builder().demo_org().start().await?;
    let tenant = Tenant::from_toml(&sim.config_toml())
        .map_err(|e| anyhow::anyhow!("the simulator's config is malformed: {e}"))?;
    let mut out = std::io::stdout().lock();

    let info = connector.describe().await?;
    writeln!(
        out,
        "== connector: {} {} (contract {}), component {} bytes, loaded in {:.1} ms",
        info.name,
        info.version,
        info.contract_version,
        connector.info().size,
        connector.info().load_time.as_secs_f64() * 1e3
    )?;
    writeln!(
        out,
        "\n== simulated Atlassian organization at {}",
        sim.base_url()
    )?;
    super::simulate::print_organization(&sim, &mut out)?;

    writeln!(
        out,
        "\n== health check of every credential, through the sandbox"
    )?;
    let health = connector.check_health(&tenant).await;
    let code = match &health.result {
        Ok(report) => {
            write!(out, "{}", super::health::render(tenant.name(), report))?;
            let failed = report
                .probes
                .iter()
                .any(|p| matches!(p.status, ProbeStatus::Failed(_)));
            if failed { EXIT_FAILED } else { EXIT_OK }
        }
        Err(e) => {
            writeln!(out, "health check failed: {e}")?;
            EXIT_FAILED
        }
    };
    writeln!(out, "\n== what the host let through (never a secret)")?;
    for x in &health.exchanges {
        writeln!(
            out,
            "  {:<6} {:<70} {:>4}  {:>6.1} ms  auth: {}",
            x.method,
            x.url,
            x.status.map_or("-".into(), |s| s.to_string()),
            x.duration.as_secs_f64() * 1e3,
            x.auth.as_deref().unwrap_or("none")
        )?;
    }
    writeln!(
        out,
        "\nThe simulator saw {} requests. Try `host-harness simulate` to keep one running.",
        sim.requests().len()
    )?;
    Ok(code)
}
