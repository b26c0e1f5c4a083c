//! `host-harness groups`: add and remove one person's group memberships and roles on
//! resources (`--add-role ROLE@KIND:ID`, parsed by [`crate::entitlement`]).

use crate::dispatch::Action;
use crate::entitlement::{entitlements, parse_group, parse_role};
use crate::user_ref::parse as parse_user_ref;
use lifecycle_host::LoadedConnector;
use lifecycle_host::bindings::types::{ActionOptions, RoleGrant};

/// Arguments of `groups`.
#[derive(Debug, Clone, clap::Args)]
pub struct GroupsArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: super::target::ChangeArgs,
    /// The person: an email, or scim:ID, account:ID, external:ID.
    #[arg(long, value_parser = parse_user_ref)]
    pub user: lifecycle_host::bindings::types::UserRef,
    /// A group to add the person to, by display name (repeatable).
    #[arg(long = "add", value_name = "NAME", value_parser = parse_group)]
    pub add: Vec<String>,
    /// A group to remove the person from, by display name (repeatable).
    #[arg(long = "remove", value_name = "NAME", value_parser = parse_group)]
    pub remove: Vec<String>,
    /// A role to grant, as ROLE@KIND:ID, e.g. atlassian/user@workspace:jira-software/acme
    /// (repeatable).
    #[arg(long = "add-role", value_name = "ROLE@KIND:ID", value_parser = parse_role)]
    pub add_role: Vec<RoleGrant>,
    /// A role to revoke, as ROLE@KIND:ID (repeatable).
    #[arg(long = "remove-role", value_name = "ROLE@KIND:ID", value_parser = parse_role)]
    pub remove_role: Vec<RoleGrant>,
    /// Show the plan without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `groups`.
pub async fn run(connector: &LoadedConnector, args: &GroupsArgs) -> anyhow::Result<u8> {
    if args.add.is_empty()
        && args.remove.is_empty()
        && args.add_role.is_empty()
        && args.remove_role.is_empty()
    {
        anyhow::bail!(
            "nothing to do: give at least one --add NAME, --remove NAME, \
             --add-role ROLE@KIND:ID or --remove-role ROLE@KIND:ID"
        );
    }
    let target = args.target.resolve()?;
    let options = ActionOptions {
        dry_run: args.dry_run,
    };
    let action = Action::Groups {
        user: args.user.clone(),
        add: entitlements(&args.add, &args.add_role),
        remove: entitlements(&args.remove, &args.remove_role),
        options,
    };
    target.run(connector, &action, args.json).await
}
