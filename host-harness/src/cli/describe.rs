//! `host-harness describe [--json]`: the connector's capabilities and config schema.

use crate::cli::EXIT_OK;
use lifecycle_host::LoadedConnector;

/// Arguments of `describe`.
#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `describe`.
pub async fn run(connector: &LoadedConnector, args: &DescribeArgs) -> anyhow::Result<u8> {
    let info = connector.describe().await?;
    if args.json {
        println!("{}", lifecycle_host::json::to_string_pretty(&info)?);
        return Ok(EXIT_OK);
    }
    println!(
        "{} {} (contract lifecycle:connector@{})",
        info.name, info.version, info.contract_version
    );
    let caps: Vec<String> = info.capabilities.iter().map(ToString::to_string).collect();
    println!(
        "capabilities: {}",
        if caps.is_empty() {
            "none yet (health check only)".into()
        } else {
            caps.join(", ")
        }
    );
    println!(
        "component: {} bytes, sha256 {}",
        connector.info().size,
        connector.info().sha256
    );
    println!("\nconfiguration keys:");
    for key in &info.config_schema {
        let mut flags = Vec::new();
        if key.required {
            flags.push("required");
        }
        if key.secret {
            flags.push("secret: put it under [secrets]");
        }
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(" ({})", flags.join(", "))
        };
        println!("  {}{flags}\n      {}", key.key, key.description);
    }
    Ok(EXIT_OK)
}
