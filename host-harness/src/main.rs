//! `host-harness`: run the Atlassian lifecycle connector in a sandbox, as a platform would.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use host_harness::cli::integrations::CredentialArgs;
use host_harness::cli::{self, EXIT_ERROR};
use lifecycle_host::LoadedConnector;

/// mimalloc keeps freed pages for reuse where glibc's malloc trims and refaults them: an
/// extraction moves ~100 MB of page bodies through the host and the simulator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "host-harness", version, about, propagate_version = true)]
struct Cli {
    /// Load this component instead of the built-in connector.
    #[arg(long, global = true, value_name = "PATH")]
    component: Option<PathBuf>,
    #[command(flatten)]
    operator: cli::OperatorArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the connector against the embedded Atlassian simulator: no credentials needed.
    Demo(cli::demo::DemoArgs),
    /// Connect an organization: check the credentials' health, save the integration if healthy.
    /// The settings and secrets flags come from the connector's config schema.
    Connect(cli::integrations::ConnectArgs),
    /// List, update (rotate a key, re-validated first) or remove saved integrations.
    Integrations(cli::integrations::IntegrationsArgs),
    /// Run a declarative workflow (onboarding, role change, offboarding, ...) step by step.
    Workflow(cli::workflow::WorkflowArgs),
    /// Show the audit log, or one person's history in it.
    Audit(cli::audit::AuditCmdArgs),
    /// Probe every configured credential (read-only) and report each separately.
    Health(cli::health::HealthArgs),
    /// Create or update one person (SCIM), changing only the attributes that differ.
    Sync(cli::sync::SyncArgs),
    /// Add or remove one person's group memberships, groups named by display name.
    Groups(cli::groups::GroupsArgs),
    /// Remove every group membership of one person, then deactivate them (reversible).
    Deprovision(cli::deprovision::DeprovisionArgs),
    /// Delete one person's SCIM record; with --purge-account also their Atlassian account.
    Delete(cli::deprovision::DeleteArgs),
    /// Run one action over every identity of a CSV or JSON file: bounded concurrency,
    /// resumable, guarded against mass deprovisioning or deletion.
    Batch(cli::batch::BatchArgs),
    /// Write a JSON snapshot of users, groups and discovered product resources.
    Extract(cli::extract::ExtractArgs),
    /// Print the connector's capabilities and configuration schema.
    Describe(cli::describe::DescribeArgs),
    /// Measure load, instantiation, latency against the critical path, bulk throughput and
    /// memory, side by side (use a release build; --quick only checks it runs).
    Bench(cli::bench::BenchArgs),
    /// Print the component's size and imports, and time its load and instantiation.
    Inspect(cli::inspect::InspectArgs),
    /// Serve the stateful Atlassian Cloud simulator on loopback until interrupted, and print
    /// (or write) a ready-to-use config file pointing at it.
    Simulate(cli::simulate::SimulateArgs),
    /// Run every conformance case (A1-K4) against the embedded simulator through the component
    /// (or, with --over-http, the composed wasi:http component); one line per case, exit 1 if
    /// any fails.
    Conformance(cli::conformance::ConformanceArgs),
    /// Bring a deprovisioned person back (rehire, mistaken offboarding): active again, a
    /// suspension lifted, memberships and direct roles converged to --group and --role.
    Reactivate(cli::reactivate::ReactivateArgs),
    /// Grant or revoke product roles of a group (every member holds them through it):
    /// --add-role / --remove-role ROLE@KIND:ID; needs the organization key.
    GroupRoles(cli::group_roles::GroupRolesArgs),
}

const CONNECT: &[&str] = &["connect"];
const UPDATE: &[&str] = &["integrations", "update"];

impl Command {
    /// The subcommand path whose flags come from the connector's config schema, and its
    /// credential arguments.
    fn schema_args(&mut self) -> Option<(&'static [&'static str], &mut CredentialArgs)> {
        match self {
            Command::Connect(a) => Some((CONNECT, &mut a.credentials)),
            Command::Integrations(a) => a.credentials_mut().map(|c| (UPDATE, c)),
            _ => None,
        }
    }
}

/// For a command whose flags come from the connector's config schema: loads the connector,
/// parses the command line again with the schema's flags, and returns the connector (when the
/// second parse kept the component and the operator's flags).
async fn with_schema_flags(args: &mut Cli) -> anyhow::Result<Option<LoadedConnector>> {
    let Some((path, _)) = args.command.schema_args() else {
        return Ok(None);
    };
    let connector = cli::load_connector(args.component.as_deref(), &args.operator.policy()?)?;
    let schema = connector.describe().await?.config_schema;
    let (mut reparsed, flags, given) =
        cli::schema_args::reparse::<Cli>(std::env::args_os(), path, &schema)
            .unwrap_or_else(|e| e.exit());
    if reparsed.component != args.component {
        anyhow::bail!("give --component before the connector's flags");
    }
    if let Some((_, credentials)) = reparsed.command.schema_args() {
        credentials.resolve(flags, given);
    }
    let same_policy = reparsed.operator == args.operator;
    *args = reparsed;
    Ok(same_policy.then_some(connector))
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Cli::parse();
    let result = async {
        let loaded = with_schema_flags(&mut args).await?;
        let args = &args;
        let connector = || match loaded {
            Some(c) => Ok(c),
            None => cli::load_connector(args.component.as_deref(), &args.operator.policy()?),
        };
        match &args.command {
            Command::Demo(a) => cli::demo::run(&connector()?, a).await,
            Command::Simulate(a) => cli::simulate::run(a.clone()).await,
            Command::Connect(a) => cli::integrations::connect(&connector()?, a).await,
            Command::Integrations(a) => cli::integrations::run(connector, a).await,
            Command::Workflow(a) => cli::workflow::run(connector, a).await,
            Command::Audit(a) => cli::audit::run(a),
            Command::Health(a) => cli::health::run(&connector()?, a).await,
            Command::Sync(a) => cli::sync::run(&connector()?, a).await,
            Command::Groups(a) => cli::groups::run(&connector()?, a).await,
            Command::Deprovision(a) => cli::deprovision::run(&connector()?, a).await,
            Command::Delete(a) => cli::deprovision::run_delete(&connector()?, a).await,
            Command::Reactivate(a) => cli::reactivate::run(&connector()?, a).await,
            Command::GroupRoles(a) => cli::group_roles::run(&connector()?, a).await,
            Command::Batch(a) => cli::batch::run(&connector()?, a).await,
            Command::Extract(a) => cli::extract::run(&connector()?, a).await,
            Command::Describe(a) => cli::describe::run(&connector()?, a).await,
            Command::Bench(a) => cli::bench::run(args.component.as_deref(), a).await,
            Command::Inspect(a) => cli::inspect::run(args.component.as_deref(), a).await,
            Command::Conformance(a) => cli::conformance::run(connector, a).await,
        }
    }
    .await;
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("host-harness: {}", cli::error_text(&e));
            ExitCode::from(EXIT_ERROR)
        }
    }
}
