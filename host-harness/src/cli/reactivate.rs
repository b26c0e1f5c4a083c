//! `host-harness reactivate`: the way back after a deprovision (rehire, mistaken offboarding).

use crate::dispatch::Action;
use crate::entitlement::{entitlements, parse_group, parse_role};
use crate::user_ref::parse as parse_user_ref;
use lifecycle_host::LoadedConnector;
use lifecycle_host::bindings::types::{ActionOptions, RoleGrant, UserRef};

/// Arguments of `reactivate`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReactivateArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: super::target::ChangeArgs,
    /// The person: an email, or scim:ID, account:ID, external:ID.
    #[arg(long, value_parser = parse_user_ref)]
    pub user: UserRef,
    /// A group the person should be in, by display name (repeatable); memberships kept
    /// through the deactivation that are not listed are removed.
    #[arg(long = "group", value_name = "NAME", value_parser = parse_group)]
    pub groups: Vec<String>,
    /// A role the person should hold directly, as ROLE@KIND:ID (repeatable); direct roles
    /// not listed are revoked.
    #[arg(long = "role", value_name = "ROLE@KIND:ID", value_parser = parse_role)]
    pub roles: Vec<RoleGrant>,
    /// Show the plan without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `reactivate`: SCIM `active=true`, v2 `restore` of a suspension, then the memberships
/// and direct roles converged to the desired set.
pub async fn run(connector: &LoadedConnector, args: &ReactivateArgs) -> anyhow::Result<u8> {
    let target = args.target.resolve()?;
    let options = ActionOptions {
        dry_run: args.dry_run,
    };
    let desired = entitlements(&args.groups, &args.roles);
    let action = Action::Reactivate(args.user.clone(), desired, options);
    target.run(connector, &action, args.json).await
}
