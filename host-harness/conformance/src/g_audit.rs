//! G. Dry run and audit.

use crate::Subject;
use crate::b_sync::{full_identity, identity};
use crate::c_relationships::{self, email, manage};
use crate::check::{Check, Difference, Step, ok, start};
use crate::d_deprovision::{self, ada};
use crate::platform::{AuditEntry, AuditedCall, Platform};
use crate::support::{changes, plan, sim_tenant};
use atlassian_simulator::{Fault, Route, Simulator};
use lifecycle_host::bindings::types::{
    ActionOptions, ChangeStatus, DeleteOptions, Identity, Outcome, SyncOptions,
};
use lifecycle_host::{CallError, Invocation, LoadedConnector};

const DRY: ActionOptions = ActionOptions { dry_run: true };
const APPLY: ActionOptions = ActionOptions { dry_run: false };

/// Compares a dry run with the real run that followed it: the dry run planned and wrote
/// nothing; the real run has the same changes, each planned one applied, each already-done
/// one still already done, and exactly one write per applied change.
fn compare(
    c: &mut Check,
    what: &str,
    sim: &Simulator,
    dry: &Outcome,
    dry_writes: usize,
    real: &Outcome,
) {
    c.eq(format!("{what}: writes of the dry run"), 0, dry_writes);
    c.that(
        format!("{what}: the dry run"),
        dry.changes
            .iter()
            .any(|c| c.status == ChangeStatus::Planned)
            && dry
                .changes
                .iter()
                .all(|c| matches!(c.status, ChangeStatus::Planned | ChangeStatus::AlreadyDone)),
        "planned changes (or already-done ones)",
        format!("{:?}", changes(dry)),
    );
    c.eq(
        format!("{what}: the real run's changes"),
        plan(dry),
        plan(real),
    );
    let expected: Vec<ChangeStatus> = dry
        .changes
        .iter()
        .map(|c| match c.status {
            ChangeStatus::Planned => ChangeStatus::Applied,
            _ => ChangeStatus::AlreadyDone,
        })
        .collect();
    let found: Vec<ChangeStatus> = real.changes.iter().map(|c| c.status.clone()).collect();
    c.eq(format!("{what}: the real run's statuses"), expected, found);
    let applied = real
        .changes
        .iter()
        .filter(|c| c.status == ChangeStatus::Applied)
        .count();
    c.eq(
        format!("{what}: writes of the real run"),
        applied,
        sim.mutations().len(),
    );
}

async fn pair<F, Fut>(c: &mut Check, what: &str, sim: &Simulator, mut run: F) -> Step
where
    F: FnMut(bool) -> Fut,
    Fut: std::future::Future<Output = Invocation<Outcome>>,
{
    sim.clear_requests();
    let dry = ok(what, run(true).await.result)?;
    let dry_writes = sim.mutations().len();
    sim.clear_requests();
    let real = ok(what, run(false).await.result)?;
    compare(c, what, sim, &dry, dry_writes, &real);
    Ok(())
}

/// Sync (a create and an update), relationships (adds, an already-done add, a remove),
/// deprovision and delete with purge: each dry run plans with zero writes, and the real run
/// applies exactly that plan.
pub(crate) async fn g1(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(c_relationships::org_builder()).await?;
    let tenant = sim_tenant(&sim);
    let sync = |who: Identity| {
        let tenant = &tenant;
        move |dry_run| {
            let who = who.clone();
            async move {
                let options = SyncOptions {
                    create_missing: true,
                    update_existing: true,
                    dry_run,
                };
                connector.sync_identity(tenant, &who, options).await
            }
        }
    };
    pair(
        c,
        "sync (create)",
        &sim,
        sync(full_identity("katherine@example.com")),
    )
    .await?;
    let renamed = Identity {
        display_name: Some("The Enchantress of Numbers".into()),
        ..identity("ada@example.com")
    };
    pair(c, "sync (update)", &sim, sync(renamed)).await?;
    pair(c, "manage-relationships", &sim, |dry_run| {
        let tenant = &tenant;
        async move {
            let options = if dry_run { DRY } else { APPLY };
            manage(
                connector,
                tenant,
                &email("grace@example.com"),
                &["confluence-users", "research", "jira-users"],
                &["engineering"],
                options,
            )
            .await
        }
    })
    .await?;
    c.eq(
        "grace's groups",
        Some(vec![
            "confluence-users".to_owned(),
            "jira-users".to_owned(),
            "research".to_owned(),
        ]),
        sim.user_by_email("grace@example.com").map(|u| {
            let mut g = u.groups;
            g.sort();
            g
        }),
    );

    let sim = start(d_deprovision::org_builder()).await?;
    let tenant = sim_tenant(&sim);
    pair(c, "deprovision-identity", &sim, |dry_run| {
        let tenant = &tenant;
        async move {
            let options = if dry_run { DRY } else { APPLY };
            connector
                .deprovision_identity(tenant, &ada(), options)
                .await
        }
    })
    .await?;
    pair(c, "delete-identity with purge-account", &sim, |dry_run| {
        let tenant = &tenant;
        async move {
            let options = DeleteOptions {
                purge_account: true,
                dry_run,
            };
            connector.delete_identity(tenant, &ada(), options).await
        }
    })
    .await?;
    let ada = sim.user_by_email(d_deprovision::ADA);
    c.eq(
        "ada after the real runs",
        Some((None, false)),
        ada.map(|u| (u.scim_id, u.active)),
    );
    Ok(())
}

/// The audit records of one invocation as `kind target status` (the shape shared with the
/// outcome's applied and failed changes).
fn audited(records: &[AuditEntry]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r.change.as_deref().unwrap_or("-"),
                r.target.as_deref().unwrap_or("-"),
                r.status
            )
        })
        .collect()
}

/// The outcome's changes that are changes (applied or failed), as `kind target status`.
fn recordable(outcome: &Outcome) -> Vec<String> {
    outcome
        .changes
        .iter()
        .filter_map(|c| match &c.status {
            ChangeStatus::Applied => Some(format!("{} {} applied", c.kind, c.target)),
            ChangeStatus::Failed(_) => Some(format!("{} {} failed", c.kind, c.target)),
            _ => None,
        })
        .collect()
}

/// Runs a create, relationships with an applied, an already-done and a failed (licence
/// limit) change, a deprovision, a delete with purge, a dry run and a refused call, each
/// recorded by the host's audit log ([`crate::Platform::open_audit_log`]) as the CLI records it; then reads the
/// log back. Each applied or failed change has exactly one record with the time, the
/// integration, the action, the user's ids (as the simulator holds them), the change and its
/// status (and error class); nothing else is recorded but the refused call; and the applied
/// records match the writes the simulator committed, one for one.
pub(crate) async fn g2(
    connector: &LoadedConnector,
    platform: &dyn Platform,
    c: &mut Check,
) -> Step {
    let sim = start(c_relationships::org_builder().licence_limit("jira-users", 1)).await?;
    let tenant = sim_tenant(&sim);
    let audit = platform
        .open_audit_log()
        .map_err(|e| Difference::new("a temporary audit log", "opens", e))?;
    let context = |action: &str, requested: &str| AuditedCall {
        integration: platform.tenant_label(&tenant),
        action: action.to_owned(),
        requested: requested.to_owned(),
    };
    let sync = SyncOptions {
        create_missing: true,
        update_existing: true,
        dry_run: false,
    };
    let katherine = full_identity("katherine@example.com");
    let purge = DeleteOptions {
        purge_account: true,
        dry_run: false,
    };
    let mut runs: Vec<(&str, &str, Invocation<Outcome>)> = Vec::new();
    runs.push((
        "sync",
        "katherine@example.com",
        connector.sync_identity(&tenant, &katherine, sync).await,
    ));
    let ids_of = |email: &str| {
        sim.user_by_email(email)
            .map(|u| (u.scim_id, Some(u.account_id)))
            .unwrap_or_default()
    };
    let katherine_ids = ids_of("katherine@example.com");
    runs.push((
        "groups",
        "ada@example.com",
        manage(
            connector,
            &tenant,
            &email("ada@example.com"),
            &["jira-users", "research", "engineering"],
            &[],
            APPLY,
        )
        .await,
    ));
    runs.push((
        "deprovision",
        "alan@example.com",
        connector
            .deprovision_identity(&tenant, &email("alan@example.com"), APPLY)
            .await,
    ));
    runs.push((
        "delete",
        "katherine@example.com",
        connector
            .delete_identity(&tenant, &email("katherine@example.com"), purge)
            .await,
    ));
    runs.push((
        "sync",
        "dry@example.com",
        connector
            .sync_identity(
                &tenant,
                &identity("dry@example.com"),
                SyncOptions {
                    dry_run: true,
                    ..sync
                },
            )
            .await,
    ));
    let writes_before_refused = sim.mutations().len();
    runs.push((
        "groups",
        "ada@example.com",
        manage(
            connector,
            &tenant,
            &email("ada@example.com"),
            &["no-such-group"],
            &[],
            APPLY,
        )
        .await,
    ));
    let mut written = Vec::new();
    for (action, requested, inv) in &runs {
        let records = audit
            .record(&context(action, requested), inv)
            .map_err(|e| Difference::new("the audit log", "written", e))?;
        written.push(records.len());
    }
    let (records, _) = audit
        .read()
        .map_err(|e| Difference::new("the audit log", "read back", e))?;
    c.eq(
        "records read back",
        written.iter().sum::<usize>(),
        records.len(),
    );

    let mut rest = records.as_slice();
    let mut applied_records = 0;
    for ((action, requested, inv), n) in runs.iter().zip(&written) {
        let (mine, later) = rest.split_at((*n).min(rest.len()));
        rest = later;
        let what = format!("{action} {requested}");
        for r in mine {
            c.that(
                format!("{what}: record time"),
                time::OffsetDateTime::parse(
                    &r.time,
                    &time::format_description::well_known::Rfc3339,
                )
                .is_ok(),
                "an RFC 3339 time",
                &r.time,
            );
            c.eq(
                format!("{what}: record integration"),
                platform.tenant_label(&tenant).as_str(),
                r.integration.as_str(),
            );
            c.eq(format!("{what}: record action"), *action, r.action.as_str());
            c.eq(
                format!("{what}: record user"),
                *requested,
                r.requested.as_str(),
            );
        }
        match &inv.result {
            Ok(outcome) => {
                c.eq(
                    format!("{what}: records"),
                    recordable(outcome),
                    audited(mine),
                );
                applied_records += mine.iter().filter(|r| r.status == "applied").count();
                let expected_ids = if *requested == "katherine@example.com" {
                    katherine_ids.clone()
                } else {
                    ids_of(requested)
                };
                for r in mine {
                    c.eq(
                        format!("{what}: record user ids"),
                        &expected_ids,
                        &(r.scim_id.clone(), r.account_id.clone()),
                    );
                    if r.status == "failed" {
                        let class = outcome
                            .changes
                            .iter()
                            .find(|ch| Some(&ch.target) == r.target.as_ref())
                            .and_then(|ch| match &ch.status {
                                ChangeStatus::Failed(e) => Some(e.class().to_owned()),
                                _ => None,
                            });
                        c.eq(
                            format!("{what}: failed record's error class"),
                            class,
                            r.error_class.clone(),
                        );
                    }
                }
            }
            Err(e) => {
                let classes: Vec<(String, Option<String>)> = mine
                    .iter()
                    .map(|r| (r.status.clone(), r.error_class.clone()))
                    .collect();
                let class = match e {
                    CallError::Connector(e) => e.class(),
                    CallError::Host(e) => e.class(),
                };
                c.eq(
                    format!("{what}: records"),
                    vec![("refused".to_owned(), Some(class.to_owned()))],
                    classes,
                );
            }
        }
    }
    let groups = &runs[1].2;
    if let Ok(o) = &groups.result {
        let failed = o
            .changes
            .iter()
            .filter(|c| matches!(c.status, ChangeStatus::Failed(_)))
            .count();
        c.eq(
            "groups: failed changes to record (licence limit)",
            1,
            failed,
        );
    }
    c.eq(
        "writes of the refused call",
        writes_before_refused,
        sim.mutations().len(),
    );
    let committed = sim.mutations().iter().filter(|r| r.status < 300).count();
    c.eq(
        "applied records against the writes the simulator committed",
        committed,
        applied_records,
    );
    Ok(())
}

/// Runs successful and failing calls (faults, rotated keys, bad input) and scans everything
/// they produced — outcomes, errors, the CLI's rendered lines, the host's exchange records,
/// the audit log the host wrote for them, the simulator's request log and state dump — for
/// the secret values in use.
pub(crate) async fn g3(
    connector: &LoadedConnector,
    platform: &dyn Platform,
    c: &mut Check,
) -> Step {
    let sim = start(Simulator::builder().demo_org().products(3, 3, 3)).await?;
    let tenant = sim_tenant(&sim);
    let audit = platform
        .open_audit_log()
        .map_err(|e| Difference::new("a temporary audit log", "opens", e))?;
    let mut produced: Vec<(String, String)> = Vec::new();
    let mut record = |what: &str, text: String| produced.push((what.to_owned(), text));

    let health = connector.check_health(&tenant).await;
    record(
        "exchanges",
        lifecycle_host::json::to_string(&health.exchanges).unwrap_or_default(),
    );
    match &health.result {
        Ok(report) => record(
            "health",
            platform.show_health(&platform.tenant_label(&tenant), report),
        ),
        Err(e) => record("health error", e.to_string()),
    }
    let who = Identity {
        name: Some("Scan Me".into()),
        ..identity("scan@example.com")
    };
    let options = SyncOptions {
        create_missing: true,
        update_existing: true,
        dry_run: false,
    };
    let synced = connector.sync_identity(&tenant, &who, options).await;
    let bad = connector
        .sync_identity(&tenant, &identity("not-an-email"), options)
        .await;
    let groups = manage(
        connector,
        &tenant,
        &email("scan@example.com"),
        &["engineering", "missing-group"],
        &[],
        APPLY,
    )
    .await;
    let deprovision = connector
        .deprovision_identity(&tenant, &email("scan@example.com"), DRY)
        .await;
    let purge = DeleteOptions {
        purge_account: true,
        dry_run: true,
    };
    let delete = connector
        .delete_identity(&tenant, &email("scan@example.com"), purge)
        .await;
    sim.fault(Route::any(), Fault::Status(500), 3);
    let faulted = connector.sync_identity(&tenant, &who, options).await;
    let old = sim.tokens();
    sim.rotate_tokens();
    let rotated = connector.check_health(&tenant).await;
    let rotated_sync = connector.sync_identity(&tenant, &who, options).await;
    for (what, inv) in [
        ("sync", synced),
        ("sync bad input", bad),
        ("groups", groups),
        ("deprovision", deprovision),
        ("delete", delete),
        ("sync faulted", faulted),
        ("sync rotated", rotated_sync),
    ] {
        let context = AuditedCall {
            integration: platform.tenant_label(&tenant),
            action: what.to_owned(),
            requested: "scan@example.com".to_owned(),
        };
        audit
            .record(&context, &inv)
            .map_err(|e| Difference::new("the audit log", "written", e))?;
        record(
            what,
            lifecycle_host::json::to_string(&inv.exchanges).unwrap_or_default(),
        );
        match &inv.result {
            Ok(o) => {
                record(what, platform.show_outcome(what, o));
                record(what, lifecycle_host::json::to_string(o).unwrap_or_default());
            }
            Err(e) => {
                record(what, e.to_string());
                record(what, lifecycle_host::json::to_string(e).unwrap_or_default());
            }
        }
    }
    record(
        "rotated health",
        lifecycle_host::json::to_string(&rotated.exchanges).unwrap_or_default(),
    );
    record("rotated health", format!("{:?}", rotated.result));
    let (records, text) = audit
        .read()
        .map_err(|e| Difference::new("the audit log", "read back", e))?;
    c.that("audit records", !records.is_empty(), "some", "none");
    record("audit log", text);
    record("tenant", format!("{tenant:?}"));
    for r in sim.requests() {
        record(
            "request",
            format!("{} {} {:?} {}", r.method, r.path, r.query, r.body),
        );
    }
    record("state", sim.dump().to_string());

    let size: usize = produced.iter().map(|(_, text)| text.len()).sum();
    c.that(
        "output scanned",
        size > 2_000,
        "more than 2,000 bytes",
        size,
    );
    let new = sim.tokens();
    for (name, value) in [
        ("scim_token", &old.scim_token),
        ("admin_api_key", &old.admin_api_key),
        ("product_token", &old.product_token),
        ("rotated scim_token", &new.scim_token),
        ("rotated admin_api_key", &new.admin_api_key),
        ("rotated product_token", &new.product_token),
    ] {
        c.nowhere(
            format!("where the value of {name} appears"),
            value,
            &produced,
        );
    }
    Ok(())
}
