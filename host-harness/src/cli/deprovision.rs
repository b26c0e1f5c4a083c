//! `host-harness deprovision` and `host-harness delete`: remove a person's access.

use crate::dispatch::Action;
use crate::user_ref::parse as parse_user_ref;
use lifecycle_host::LoadedConnector;
use lifecycle_host::bindings::types::{ActionOptions, DeleteOptions, UserRef};

/// Arguments of `deprovision`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeprovisionArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: super::target::ChangeArgs,
    /// The person: an email, or scim:ID, account:ID, external:ID.
    #[arg(long, value_parser = parse_user_ref)]
    pub user: UserRef,
    /// Also delete the person's personal API tokens, where the user-management preflight
    /// lets the organization key (one change per token; never a token's value).
    #[arg(long)]
    pub revoke_api_tokens: bool,
    /// Show the plan without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `deprovision`: every membership and direct role removed (and, with
/// `--revoke-api-tokens`, every personal API token), then the user deactivated (reversible).
pub async fn run(connector: &LoadedConnector, args: &DeprovisionArgs) -> anyhow::Result<u8> {
    let target = args.target.resolve()?;
    let options = ActionOptions {
        dry_run: args.dry_run,
    };
    let action = Action::Deprovision(args.user.clone(), options, args.revoke_api_tokens);
    target.run(connector, &action, args.json).await
}

/// Arguments of `delete`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: super::target::ChangeArgs,
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
    let target = args.target.resolve()?;
    let options = DeleteOptions {
        purge_account: args.purge_account,
        dry_run: args.dry_run,
    };
    let action = Action::Delete(args.user.clone(), options);
    target.run(connector, &action, args.json).await
}
