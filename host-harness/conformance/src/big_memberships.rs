//! C10 and D6: memberships by the thousand, within the host's limits.
//!
//! A user in 1,000 groups (big Jira organizations have them) must be added, removed and
//! offboarded in one call each: the connector reads the host's limits and splits its batches
//! to fit, so no `send-all` is ever refused and a re-run is never needed.

use std::collections::BTreeMap;

use crate::check::{Check, Step, ok, start};
use crate::support::{all, sim_tenant};
use atlassian_simulator::{SeedUser, Simulator, SimulatorBuilder};
use lifecycle_host::bindings::types::{ActionOptions, ChangeStatus, Outcome};
use lifecycle_host::recorder::Exchange;
use lifecycle_host::{Invocation, LoadedConnector};

use super::d_deprovision::{ADA, ada};

const APPLY: ActionOptions = ActionOptions { dry_run: false };
/// Groups in each case: half synced from the identity provider, half admin-managed.
const GROUPS: usize = 1_000;

fn group_names() -> Vec<String> {
    (0..GROUPS)
        .map(|i| {
            if i % 2 == 0 {
                format!("synced-{i:04}")
            } else {
                format!("admin-{i:04}")
            }
        })
        .collect()
}

/// Ada and Grace; the 1,000 groups, each holding `members`.
fn org(members: &[&str]) -> SimulatorBuilder {
    let mut b = Simulator::builder()
        .user(SeedUser::new(ADA).name("Ada Lovelace"))
        .user(SeedUser::new("grace@example.com").name("Grace Hopper"));
    for name in group_names() {
        b = if name.starts_with("synced-") {
            b.synced_group(&name, members)
        } else {
            b.admin_group(&name, members)
        };
    }
    b
}

/// Checks that every `send-all` of the invocation fit the host's `max-batch` and that no
/// request met a host limit.
fn within_limits(c: &mut Check, what: &str, connector: &LoadedConnector, exchanges: &[Exchange]) {
    let max = connector.limits().max_batch;
    let mut per_batch: BTreeMap<usize, usize> = BTreeMap::new();
    for e in exchanges {
        if let Some(b) = e.batch {
            *per_batch.entry(b).or_default() += 1;
        }
    }
    let largest = per_batch.values().copied().max().unwrap_or(0);
    c.that(
        format!("{what}: largest send-all"),
        largest <= max,
        format!("at most max-batch = {max}"),
        largest,
    );
    let refused: Vec<&str> = exchanges
        .iter()
        .filter(|e| !e.was_sent())
        .filter_map(|e| e.error.as_deref())
        .collect();
    c.that(
        format!("{what}: refused requests"),
        refused.is_empty(),
        "none",
        format!("{} e.g. {:?}", refused.len(), refused.first()),
    );
}

fn outcome(what: &str, inv: &Invocation<Outcome>) -> Step<Outcome> {
    ok(what, inv.result.clone())
}

fn ada_groups(sim: &Simulator) -> usize {
    sim.user_by_email(ADA).map_or(0, |u| u.groups.len())
}

/// C10: add 1,000 groups in one call, again (all `already-done`, zero writes), then remove
/// all 1,000 in one call.
pub(crate) async fn c10(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = start(org(&[])).await?;
    let tenant = sim_tenant(&sim);
    let names = group_names();

    let inv = connector
        .manage_groups(&tenant, &ada(), &names, &[], APPLY)
        .await;
    within_limits(c, "add", connector, &inv.exchanges);
    let o = outcome("manage-relationships (add)", &inv)?;
    c.completed(&o, true);
    c.that(
        "add: changes",
        o.changes.len() == GROUPS && all(&o, &ChangeStatus::Applied),
        format!("{GROUPS} applied"),
        o.changes.len(),
    );
    c.eq(
        "add: Ada's groups on a fresh read",
        GROUPS,
        ada_groups(&sim),
    );

    sim.clear_requests();
    let again = connector
        .manage_groups(&tenant, &ada(), &names, &[], APPLY)
        .await;
    let o = outcome("manage-relationships (again)", &again)?;
    c.all_changes("again: every change", &o, &ChangeStatus::AlreadyDone);
    c.writes(&sim, 0);

    let inv = connector
        .manage_groups(&tenant, &ada(), &[], &names, APPLY)
        .await;
    within_limits(c, "remove", connector, &inv.exchanges);
    let o = outcome("manage-relationships (remove)", &inv)?;
    c.completed(&o, true);
    c.all_changes("remove: every change", &o, &ChangeStatus::Applied);
    c.eq("remove: Ada's groups on a fresh read", 0, ada_groups(&sim));
    c.note(format!(
        "{GROUPS} groups added, re-run already-done, removed; every send-all within max-batch {}",
        connector.limits().max_batch
    ));
    Ok(())
}

/// D6: deprovision a user in 1,000 groups in one call: no memberships remain, inactive.
pub(crate) async fn d6(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = start(org(&[ADA, "grace@example.com"])).await?;
    let inv = connector
        .deprovision_identity(&sim_tenant(&sim), &ada(), APPLY)
        .await;
    within_limits(c, "deprovision", connector, &inv.exchanges);
    let o = outcome("deprovision-identity", &inv)?;
    c.completed(&o, true);
    c.eq("removals", GROUPS + 1, o.changes.len());
    let ada_now = sim.user_by_email(ADA);
    c.eq("Ada's groups on a fresh read", 0, ada_groups(&sim));
    c.eq(
        "Ada active on a fresh read",
        Some(false),
        ada_now.as_ref().map(|u| u.active),
    );
    c.that(
        "Ada's SCIM record",
        ada_now.as_ref().is_some_and(|u| u.scim_id.is_some()),
        "kept",
        "gone",
    );
    c.eq(
        "Grace's groups (untouched)",
        GROUPS,
        sim.user_by_email("grace@example.com")
            .map_or(0, |u| u.groups.len()),
    );
    c.note(format!(
        "{GROUPS} memberships removed and deactivated in one call; every send-all within max-batch {}",
        connector.limits().max_batch
    ));
    Ok(())
}
