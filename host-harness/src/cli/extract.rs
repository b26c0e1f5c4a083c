//! `host-harness extract`: a JSON snapshot of users, groups and discovered resources, walked
//! page by page through the connector's opaque cursors.

use crate::ids::TenantLabel as _;
use std::path::PathBuf;

use serde::Serialize;

use crate::cli::{EXIT_ERROR, EXIT_OK};
use lifecycle_host::bindings::types::{ConnectorError, GroupRecord, ResourceRecord, UserRecord};
use lifecycle_host::paging::{Page, WalkError, WalkLimits, walk};
use lifecycle_host::{CallError, Invocation, LoadedConnector, Tenant};

/// Walks one listing to its end into a list, adding its requests to `requests`.
async fn collect<P, F, Fut>(
    what: &str,
    page_size: u32,
    requests: &mut usize,
    fetch: F,
) -> Result<Vec<P::Item>, WalkError>
where
    P: Page,
    F: FnMut(lifecycle_host::bindings::types::PageRequest) -> Fut,
    Fut: std::future::Future<Output = Invocation<P>>,
{
    let mut items = Vec::new();
    let (_, made) = walk(what, page_size, WalkLimits::default(), fetch, |page| {
        items.extend(page)
    })
    .await?;
    *requests += made;
    Ok(items)
}

/// Arguments of `extract`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExtractArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: super::target::TenantArgs,
    /// Write the snapshot here (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Items per page asked of the connector.
    #[arg(long, default_value_t = 100)]
    pub page_size: u32,
}

/// The snapshot.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    /// The tenant's `instance_name`.
    pub instance: String,
    /// Every user of the SCIM directory.
    pub users: Vec<UserRecord>,
    /// Every group, synced and admin-managed, with members.
    pub groups: Vec<GroupRecord>,
    /// Discovered product resources by kind (`jira-project`, ...).
    pub resources: Vec<ResourceRecord>,
    /// Resource kinds not listed, and why (for example an unconfigured product).
    pub skipped: Vec<String>,
    /// Requests the connector made.
    pub requests: usize,
}

/// Builds the snapshot of a tenant.
pub async fn snapshot(
    connector: &LoadedConnector,
    tenant: &Tenant,
    page_size: u32,
) -> Result<Snapshot, WalkError> {
    let mut requests = 0;
    let users = collect("users", page_size, &mut requests, |p| async move {
        connector.list_users(tenant, &p).await
    })
    .await?;
    let groups = collect("groups", page_size, &mut requests, |p| async move {
        connector.list_groups(tenant, &p).await
    })
    .await?;
    let mut resources = Vec::new();
    let mut skipped = Vec::new();
    // Every kind the connector declares it discovers.
    let kinds = connector
        .describe()
        .await
        .map_err(WalkError::Call)?
        .resource_kinds;
    for kind in kinds.iter().map(|k| k.name.as_str()) {
        let what = format!("{kind} resources");
        let listed = collect(&what, page_size, &mut requests, |p| async move {
            connector.list_resources(tenant, kind, &p).await
        })
        .await;
        match listed {
            Ok(items) => resources.extend(items),
            // A product that is not configured is skipped, not a failure of the snapshot.
            Err(WalkError::Call(CallError::Connector(e @ ConnectorError::InvalidConfig(_)))) => {
                skipped.push(format!("{kind}: {}", e.message()));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Snapshot {
        instance: tenant.name().to_owned(),
        users,
        groups,
        resources,
        skipped,
        requests,
    })
}

/// Runs `extract`.
pub async fn run(connector: &LoadedConnector, args: &ExtractArgs) -> anyhow::Result<u8> {
    let (tenant, _) = args.target.tenant()?;
    match snapshot(connector, &tenant, args.page_size.max(1)).await {
        Ok(snap) => {
            let json = lifecycle_host::json::to_string_pretty(&snap)?;
            match &args.out {
                Some(path) => {
                    // A snapshot is tenant data: owner-only, whole or not at all.
                    let (kind, replace) = (
                        lifecycle_host::files::Kind::Snapshot,
                        lifecycle_host::files::Replace::Yes,
                    );
                    lifecycle_host::files::write_private(
                        path,
                        (json + "\n").as_bytes(),
                        kind,
                        replace,
                    )?;
                    eprintln!(
                        "{}: {} users, {} groups, {} resources ({} requests) written to {}",
                        snap.instance,
                        snap.users.len(),
                        snap.groups.len(),
                        snap.resources.len(),
                        snap.requests,
                        path.display()
                    );
                }
                None => println!("{json}"),
            }
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!("extract failed: {e}");
            Ok(EXIT_ERROR)
        }
    }
}
