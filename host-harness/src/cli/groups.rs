//! `host-harness groups`: add and remove one person's group memberships.

use crate::dispatch::Action;
use crate::user_ref::parse as parse_user_ref;
use lifecycle_host::LoadedConnector;
use lifecycle_host::bindings::types::ActionOptions;

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
    #[arg(long = "add", value_name = "NAME")]
    pub add: Vec<String>,
    /// A group to remove the person from, by display name (repeatable).
    #[arg(long = "remove", value_name = "NAME")]
    pub remove: Vec<String>,
    /// Show the plan without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `groups`.
pub async fn run(connector: &LoadedConnector, args: &GroupsArgs) -> anyhow::Result<u8> {
    if args.add.is_empty() && args.remove.is_empty() {
        anyhow::bail!("nothing to do: give at least one --add NAME or --remove NAME");
    }
    let target = args.target.resolve()?;
    let options = ActionOptions {
        dry_run: args.dry_run,
    };
    let action = Action::Groups {
        user: args.user.clone(),
        add: args.add.clone(),
        remove: args.remove.clone(),
        options,
    };
    target.run(connector, &action, args.json).await
}
