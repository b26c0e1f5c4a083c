//! A platform embedding the host: load a connector component, configure a tenant, run one
//! action, read the outcome.
//!
//! `cargo run -p lifecycle-host --example embed -- CONNECTOR.wasm TENANT.toml EMAIL`
//! syncs one person (created when absent) into the tenant the TOML file describes.

use lifecycle_host::bindings::types::{ChangeStatus, Identity, SyncOptions};
use lifecycle_host::{CallError, OperatorPolicy, Runtime, RuntimeOptions, Tenant};

/// One runtime per process: the engine, the component cache, the operator's egress policy.
pub fn runtime(operator: OperatorPolicy) -> anyhow::Result<Runtime> {
    Runtime::new(RuntimeOptions {
        operator,
        ..RuntimeOptions::default()
    })
}

/// Syncs `email` into `tenant` with the connector `wasm` and returns one line per change.
pub async fn sync_one(
    runtime: &Runtime,
    wasm: &[u8],
    tenant: &Tenant,
    email: &str,
) -> anyhow::Result<Vec<String>> {
    // Compiled once, imports checked, contract version read, pre-instantiated.
    let connector = runtime.load(wasm)?;
    // A fresh sandbox per call; the tenant's grants come from the connector's declaration.
    let identity = Identity {
        email: email.to_owned(),
        name: None,
        given_name: None,
        family_name: None,
        display_name: None,
        external_id: None,
    };
    let options = SyncOptions {
        create_missing: true,
        update_existing: true,
        dry_run: false,
    };
    let invocation = connector.sync_identity(tenant, &identity, options).await;
    // The outcome, or a typed error: the connector's own, or the host's (trap, limit, timeout).
    match invocation.result {
        Ok(outcome) => Ok(outcome
            .changes
            .iter()
            .map(|c| match &c.status {
                ChangeStatus::Failed(e) => {
                    format!("{} {}: failed: {}", c.kind, c.target, e.message())
                }
                status => format!("{} {}: {status}", c.kind, c.target),
            })
            .collect()),
        Err(CallError::Connector(e)) => anyhow::bail!("the connector refused: {}", e.message()),
        Err(CallError::Host(e)) => anyhow::bail!("the host stopped the call: {e}"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [wasm, tenant, email] = args.as_slice() else {
        anyhow::bail!("usage: embed CONNECTOR.wasm TENANT.toml EMAIL");
    };
    let wasm = std::fs::read(wasm)?;
    let tenant =
        Tenant::from_toml(&std::fs::read_to_string(tenant)?).map_err(anyhow::Error::msg)?;
    let runtime = runtime(OperatorPolicy::default())?;
    for line in sync_one(&runtime, &wasm, &tenant, email).await? {
        println!("{line}");
    }
    Ok(())
}
