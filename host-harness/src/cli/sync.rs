//! `host-harness sync`: create or update one person in Atlassian.

use crate::dispatch::Action;
use lifecycle_host::LoadedConnector;
use lifecycle_host::bindings::types::{Identity, SyncOptions};

/// Arguments of `sync`.
#[derive(Debug, Clone, clap::Args)]
pub struct SyncArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: super::target::ChangeArgs,
    /// Work email: the SCIM userName and primary email.
    #[arg(long)]
    pub email: String,
    /// Full name (name.formatted).
    #[arg(long)]
    pub name: Option<String>,
    /// Given name (name.givenName).
    #[arg(long)]
    pub given_name: Option<String>,
    /// Family name (name.familyName).
    #[arg(long)]
    pub family_name: Option<String>,
    /// Display name.
    #[arg(long)]
    pub display_name: Option<String>,
    /// The platform's id for the person (externalId).
    #[arg(long)]
    pub external_id: Option<String>,
    /// Do not create the person when absent (absent is then `not-found`).
    #[arg(long)]
    pub no_create: bool,
    /// Do not update a person who exists.
    #[arg(long)]
    pub no_update: bool,
    /// Show the plan without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `sync`.
pub async fn run(connector: &LoadedConnector, args: &SyncArgs) -> anyhow::Result<u8> {
    let target = args.target.resolve()?;
    let identity = Identity {
        email: args.email.clone(),
        name: args.name.clone(),
        given_name: args.given_name.clone(),
        family_name: args.family_name.clone(),
        display_name: args.display_name.clone(),
        external_id: args.external_id.clone(),
    };
    let options = SyncOptions {
        create_missing: !args.no_create,
        update_existing: !args.no_update,
        dry_run: args.dry_run,
    };
    target
        .run(connector, &Action::Sync(identity, options), args.json)
        .await
}
