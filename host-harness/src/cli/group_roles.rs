//! `host-harness group-roles`: product roles granted to or revoked from a group (v2 group
//! role assignments), an administrator's action on a group: every member holds its roles.

use crate::dispatch::Action;
use crate::entitlement::{parse_group, parse_role};
use lifecycle_host::LoadedConnector;
use lifecycle_host::bindings::types::{ActionOptions, RoleGrant};

/// Arguments of `group-roles`.
#[derive(Debug, Clone, clap::Args)]
pub struct GroupRolesArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: super::target::ChangeArgs,
    /// The group, by display name (compared case-insensitively).
    #[arg(long, value_name = "NAME", value_parser = parse_group)]
    pub group: String,
    /// A role to grant the group, as ROLE@KIND:ID (repeatable), e.g.
    /// atlassian/user@workspace:jira-software/acme.
    #[arg(long = "add-role", value_name = "ROLE@KIND:ID", value_parser = parse_role)]
    pub add_roles: Vec<RoleGrant>,
    /// A role to revoke from the group, as ROLE@KIND:ID (repeatable).
    #[arg(long = "remove-role", value_name = "ROLE@KIND:ID", value_parser = parse_role)]
    pub remove_roles: Vec<RoleGrant>,
    /// Show the plan without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `group-roles`: the group and every role resolved before the first write, then the
/// grants and revokes.
pub async fn run(connector: &LoadedConnector, args: &GroupRolesArgs) -> anyhow::Result<u8> {
    if args.add_roles.is_empty() && args.remove_roles.is_empty() {
        anyhow::bail!("group-roles: give at least one --add-role or --remove-role");
    }
    let target = args.target.resolve()?;
    let action = Action::GroupRoles {
        group: args.group.clone(),
        add: args.add_roles.clone(),
        remove: args.remove_roles.clone(),
        options: ActionOptions {
            dry_run: args.dry_run,
        },
    };
    target.run(connector, &action, args.json).await
}
