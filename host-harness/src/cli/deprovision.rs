//! `host-harness deprovision` and `host-harness delete`: remove a person's access.

use std::path::PathBuf;

use crate::bindings::types::{ActionOptions, DeleteOptions, UserRef};
use crate::cli::outcome::{parse_user_ref, report};
use crate::{LoadedConnector, Tenant};

/// Arguments of `deprovision`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeprovisionArgs {
    /// The tenant's config file.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The person: an email, or scim:ID, account:ID, external:ID.
    #[arg(long, value_parser = parse_user_ref)]
    pub user: UserRef,
    /// Show the plan without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `deprovision`: every membership removed, then the user deactivated (reversible).
pub async fn run(connector: &LoadedConnector, args: &DeprovisionArgs) -> anyhow::Result<u8> {
    let tenant = Tenant::from_file(&args.config)?;
    let options = ActionOptions {
        dry_run: args.dry_run,
    };
    let invocation = connector
        .deprovision_identity(&tenant, &args.user, options)
        .await;
    report("deprovision", &invocation, args.json)
}

/// Arguments of `delete`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeleteArgs {
    /// The tenant's config file.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The person: an email, or scim:ID, account:ID, external:ID.
    #[arg(long, value_parser = parse_user_ref)]
    pub user: UserRef,
    /// Also delete the Atlassian account (permanent after Atlassian's 14-day grace period).
    #[arg(long)]
    pub purge_account: bool,
    /// Show the plan without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `delete`: the SCIM record (and, with `--purge-account`, the account).
pub async fn run_delete(connector: &LoadedConnector, args: &DeleteArgs) -> anyhow::Result<u8> {
    let tenant = Tenant::from_file(&args.config)?;
    let options = DeleteOptions {
        purge_account: args.purge_account,
        dry_run: args.dry_run,
    };
    let invocation = connector
        .delete_identity(&tenant, &args.user, options)
        .await;
    report("delete", &invocation, args.json)
}
