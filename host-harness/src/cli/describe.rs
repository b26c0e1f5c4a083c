//! `host-harness describe [--json]`: the connector's capabilities and config schema.

use crate::cli::EXIT_OK;
use lifecycle_host::LoadedConnector;
use lifecycle_host::bindings::types::ConfigKind;

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
        let kind = key.kind.to_string();
        if matches!(key.kind, ConfigKind::Secret) {
            flags.push("secret: put it under [secrets]");
        } else {
            flags.push(&kind);
        }
        let default = key.default.as_ref().map(|d| format!("default {d}"));
        if let Some(default) = &default {
            flags.push(default);
        }
        let requires =
            (!key.requires.is_empty()).then(|| format!("with {}", key.requires.join(", ")));
        if let Some(requires) = &requires {
            flags.push(requires);
        }
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(" ({})", flags.join(", "))
        };
        println!("  {}{flags}\n      {}", key.key, key.description);
    }
    let declaration = connector.declaration().await?;
    println!("\negress (declared by the connector, bounded by the operator's policy):");
    for rule in declaration.rules() {
        let enabled = if rule.enabled_by.is_empty() {
            String::new()
        } else {
            format!(
                " (its default once {} is set)",
                rule.enabled_by.join(" or ")
            )
        };
        println!(
            "  {}{}{enabled} <- {}",
            rule.url_key,
            if rule.path_prefix.is_empty() {
                ""
            } else {
                &rule.path_prefix
            },
            if rule.secrets.is_empty() {
                "no secret".to_owned()
            } else {
                rule.secrets.join(", ")
            }
        );
    }
    if !info.id_namespaces.is_empty() {
        println!("\nid namespaces:");
        for ns in &info.id_namespaces {
            println!("  {:<10} {}", ns.name, ns.description);
        }
    }
    if !info.resource_kinds.is_empty() {
        println!("\nresource kinds:");
        for kind in &info.resource_kinds {
            println!("  {:<22} {}", kind.name, kind.description);
        }
    }
    Ok(EXIT_OK)
}
