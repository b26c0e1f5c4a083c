//! C. Manage relationships.

use crate::CaseResult;
use crate::Subject;
use crate::check::{Check, Difference, Step, ok, start};
use crate::support::{changes, sim_tenant, status_of};
use atlassian_simulator::{
    Fault, Route, Seed, SeedMembership, SeedUser, Simulator, SimulatorBuilder,
};
use lifecycle_host::bindings::types::{ActionOptions, ChangeKind, ChangeStatus, Outcome, UserRef};
use lifecycle_host::{Invocation, LoadedConnector, Tenant};

const APPLY: ActionOptions = ActionOptions { dry_run: false };

/// ada, grace, alan; `engineering` (synced, all three), `research` (synced, empty),
/// `jira-users` (admin-managed, grace), `confluence-users` (admin-managed, empty).
pub(crate) fn org_builder() -> SimulatorBuilder {
    Simulator::builder()
        .user(SeedUser::new("ada@example.com").name("Ada Lovelace"))
        .user(SeedUser::new("grace@example.com").name("Grace Hopper"))
        .user(SeedUser::new("alan@example.com").name("Alan Turing"))
        .synced_group(
            "engineering",
            &["ada@example.com", "grace@example.com", "alan@example.com"],
        )
        .synced_group("research", &[])
        .admin_group("jira-users", &["grace@example.com"])
        .admin_group("confluence-users", &[])
}

pub(crate) fn email(e: &str) -> UserRef {
    UserRef::Email(e.into())
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

pub(crate) async fn manage(
    connector: &dyn Subject,
    tenant: &Tenant,
    user: &UserRef,
    add: &[&str],
    remove: &[&str],
    options: ActionOptions,
) -> Invocation<Outcome> {
    connector
        .manage_groups(tenant, user, &names(add), &names(remove), options)
        .await
}

fn status(o: &Outcome, group: &str) -> String {
    status_of(o, group).map_or_else(|| "no change".to_owned(), |s| s.to_string())
}

/// Starts the simulator `builder` seeds and applies one manage-relationships call for
/// `user` with the simulator's own tenant.
async fn apply(
    connector: &dyn Subject,
    builder: SimulatorBuilder,
    user: &str,
    add: &[&str],
    remove: &[&str],
) -> Step<(Simulator, Invocation<Outcome>)> {
    let sim = start(builder).await?;
    let inv = manage(
        connector,
        &sim_tenant(&sim),
        &email(user),
        add,
        remove,
        APPLY,
    )
    .await;
    Ok((sim, inv))
}

/// [`apply`] to the standard org for a call that must succeed: the simulator and the outcome.
async fn applied(
    connector: &dyn Subject,
    user: &str,
    add: &[&str],
    remove: &[&str],
) -> Step<(Simulator, Outcome)> {
    let (sim, inv) = apply(connector, org_builder(), user, add, remove).await?;
    Ok((sim, ok("manage-relationships", inv.result)?))
}

/// Records each group's expected status in the outcome.
fn statuses(c: &mut Check, o: &Outcome, expected: &[(&str, &str)]) {
    for (group, want) in expected {
        c.eq(*group, *want, &status(o, group));
    }
}

fn admin_membership_writes(sim: &Simulator) -> usize {
    sim.mutations()
        .iter()
        .filter(|r| r.path.starts_with("/admin/") && r.path.contains("/memberships"))
        .count()
}

fn scim_group_patches(sim: &Simulator) -> Vec<serde_json::Value> {
    sim.mutations()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/Groups/"))
        .map(|r| r.json())
        .collect()
}

fn scim_id(sim: &Simulator, email: &str) -> Option<String> {
    sim.user_by_email(email).and_then(|u| u.scim_id)
}

/// An admin-managed group: one admin membership POST to the group's own directory.
pub(crate) async fn c1(connector: &dyn Subject, c: &mut Check) -> Step {
    let (sim, o) = applied(connector, "ada@example.com", &["jira-users"], &[]).await?;
    c.completed(&o, true);
    c.eq(
        "changes",
        vec!["add-membership jira-users applied".to_owned()],
        changes(&o),
    );
    c.members(
        &sim,
        "jira-users",
        &["ada@example.com", "grace@example.com"],
    );
    c.eq("SCIM group PATCHes", 0, scim_group_patches(&sim).len());
    c.writes(&sim, 1);
    if let (Some(w), Some(g)) = (sim.mutations().first(), sim.group_by_name("jira-users")) {
        let path = format!(
            "/directories/{}/groups/{}/memberships",
            g.directory_id, g.admin_id
        );
        c.that(
            "the write",
            w.method == "POST" && w.path.contains(&path),
            format!("POST …{path}"),
            format!("{} {}", w.method, w.path),
        );
    }
    Ok(())
}

/// A synced group: one SCIM PATCH `add members`; the admin API is not used for the write.
pub(crate) async fn c2(connector: &dyn Subject, c: &mut Check) -> Step {
    let (sim, o) = applied(connector, "alan@example.com", &["research"], &[]).await?;
    c.completed(&o, true);
    statuses(c, &o, &[("research", "applied")]);
    c.members(&sim, "research", &["alan@example.com"]);
    c.eq("admin membership writes", 0, admin_membership_writes(&sim));
    let patches = scim_group_patches(&sim);
    c.eq("SCIM group PATCHes", 1, patches.len());
    if let Some(p) = patches.first() {
        let op = &p["Operations"][0];
        let alan = scim_id(&sim, "alan@example.com");
        c.that(
            "the PATCH operation",
            op["op"] == "add"
                && op["path"] == "members"
                && op["value"][0]["value"].as_str() == alan.as_deref(),
            format!("add members [{}]", alan.unwrap_or_default()),
            op,
        );
    }
    Ok(())
}

/// Another admin adds ada to `jira-users` between the connector's read ("not a member") and
/// its write: the simulator's scripted concurrent change, applied just before the write is
/// handled, so the ordering is certain on any machine. The write meets an existing member,
/// answered 204 or 409 `ADMIN-UAM-409-2`, and the run succeeds.
async fn add_meets_a_concurrent_add(connector: &dyn Subject, conflict: bool) -> CaseResult {
    let label = if conflict {
        "409 ADMIN-UAM-409-2"
    } else {
        "204"
    };
    let mut c = Check::default();
    let step = async {
        let sim = start(org_builder().existing_member_conflict(conflict)).await?;
        let rival = Seed {
            memberships: vec![SeedMembership::new("jira-users", "ada@example.com")],
            ..Seed::default()
        };
        sim.fault(
            Route::admin("/directories")
                .method("POST")
                .containing("/memberships"),
            Fault::Concurrent(Box::new(rival)),
            1,
        );
        let tenant = sim_tenant(&sim);
        let user = email("ada@example.com");
        let inv = manage(connector, &tenant, &user, &["jira-users"], &[], APPLY).await;
        let o = ok("manage-relationships", inv.result)?;
        c.that(
            format!("{label}: completed"),
            o.completed,
            "true",
            format!("false: {:?}", changes(&o)),
        );
        c.eq(
            format!("{label}: the concurrent change came between read and write"),
            0,
            sim.pending_faults(),
        );
        c.eq(
            format!("{label}: admin membership writes"),
            1,
            admin_membership_writes(&sim),
        );
        let answered: Vec<u16> = sim
            .mutations()
            .iter()
            .filter(|r| r.path.starts_with("/admin/") && r.path.contains("/memberships"))
            .map(|r| r.status)
            .collect();
        let status = status(&o, "jira-users");
        if conflict {
            c.eq(format!("{label}: the write answered"), vec![409], answered);
            c.eq(format!("{label}: status"), "already-done", &status);
        } else {
            c.eq(format!("{label}: the write answered"), vec![204], answered);
            c.that(
                format!("{label}: status"),
                status == "applied" || status == "already-done",
                "applied or already-done",
                &status,
            );
        }
        c.eq(
            format!("{label}: members of jira-users"),
            vec!["ada@example.com".to_owned(), "grace@example.com".to_owned()],
            sim.group_members("jira-users"),
        );
        Ok(())
    }
    .await;
    c.finish(step)
}

/// Already a member (read first), and the 204 and 409 `ADMIN-UAM-409-2` answers to a racing
/// add: `already-done`, success.
pub(crate) async fn c3(connector: &dyn Subject, c: &mut Check) -> Step {
    let (sim, o) = applied(
        connector,
        "grace@example.com",
        &["jira-users", "engineering"],
        &[],
    )
    .await?;
    c.completed(&o, true);
    statuses(
        c,
        &o,
        &[
            ("jira-users", "already-done"),
            ("engineering", "already-done"),
        ],
    );
    c.writes(&sim, 0);
    let (r204, r409) = futures::join!(
        add_meets_a_concurrent_add(connector, false),
        add_meets_a_concurrent_add(connector, true)
    );
    for d in r204.differences().iter().chain(r409.differences()) {
        c.push(d.clone());
    }
    Ok(())
}

/// Removing one of three members: exactly that member goes, with the filtered SCIM path.
pub(crate) async fn c4(connector: &dyn Subject, c: &mut Check) -> Step {
    let (sim, o) = applied(connector, "grace@example.com", &[], &["engineering"]).await?;
    c.completed(&o, true);
    c.eq(
        "changes",
        vec!["remove-membership engineering applied".to_owned()],
        changes(&o),
    );
    c.members(
        &sim,
        "engineering",
        &["ada@example.com", "alan@example.com"],
    );
    let patches = scim_group_patches(&sim);
    c.eq("SCIM group PATCHes", 1, patches.len());
    if let Some(p) = patches.first() {
        let grace = scim_id(&sim, "grace@example.com").unwrap_or_default();
        let op = &p["Operations"][0];
        let path = format!("members[value eq \"{grace}\"]");
        c.that(
            "the PATCH operation",
            op["op"] == "remove" && op["path"] == path.as_str(),
            format!("remove {path}"),
            op,
        );
    }
    Ok(())
}

/// Removing a non-member of a synced and an admin group: `already-done`, no write.
pub(crate) async fn c5(connector: &dyn Subject, c: &mut Check) -> Step {
    let (sim, o) = applied(
        connector,
        "ada@example.com",
        &[],
        &["research", "confluence-users"],
    )
    .await?;
    c.completed(&o, true);
    statuses(
        c,
        &o,
        &[
            ("research", "already-done"),
            ("confluence-users", "already-done"),
        ],
    );
    c.writes(&sim, 0);
    c.eq(
        "ada's groups",
        Some(vec!["engineering".to_owned()]),
        sim.user_by_email("ada@example.com").map(|u| u.groups),
    );
    Ok(())
}

/// Unknown names fail the call naming them, before the first write of the known ones.
pub(crate) async fn c6(connector: &dyn Subject, c: &mut Check) -> Step {
    let (sim, inv) = apply(
        connector,
        org_builder(),
        "ada@example.com",
        &["jira-users", "no-such-group", "research"],
        &["also-missing"],
    )
    .await?;
    let e = c.error(
        "manage-relationships",
        inv.result,
        "not-found",
        &["no-such-group", "also-missing"],
    )?;
    c.that(
        "the message",
        !e.message().contains("jira-users"),
        "names only the unknown groups",
        e.message(),
    );
    c.writes(&sim, 0);
    c.members(&sim, "jira-users", &["grace@example.com"]);
    c.members(&sim, "research", &[]);
    Ok(())
}

/// A licence limit (409 `ADMIN-UAM-409-3`): a failed change with that reason; the other
/// change still applies and the call is not complete.
pub(crate) async fn c7(connector: &dyn Subject, c: &mut Check) -> Step {
    let (sim, inv) = apply(
        connector,
        org_builder().licence_limit("jira-users", 1),
        "ada@example.com",
        &["jira-users", "research"],
        &[],
    )
    .await?;
    let o = ok("manage-relationships", inv.result)?;
    c.completed(&o, false);
    match status_of(&o, "jira-users") {
        Some(ChangeStatus::Failed(e)) => {
            let m = format!("{e:?}");
            c.that(
                "the failure",
                m.contains("ADMIN-UAM-409-3") || m.to_lowercase().contains("licen"),
                "names ADMIN-UAM-409-3 or the licence",
                m,
            );
        }
        other => c.push(Difference::new(
            "jira-users",
            "a failed change",
            format!("{other:?}"),
        )),
    }
    statuses(c, &o, &[("research", "applied")]);
    c.members(&sim, "jira-users", &["grace@example.com"]);
    c.members(&sim, "research", &["ada@example.com"]);
    Ok(())
}

/// Ten groups (five synced, five admin) in one call: the ten writes go out as one `send-all`.
pub(crate) async fn c8(connector: &LoadedConnector, c: &mut Check) -> Step {
    let groups: Vec<String> = (1..=10).map(|i| format!("team-{i:02}")).collect();
    let mut builder = org_builder();
    for (i, g) in groups.iter().enumerate() {
        builder = if i % 2 == 0 {
            builder.admin_group(g, &[])
        } else {
            builder.synced_group(g, &[])
        };
    }
    let refs: Vec<&str> = groups.iter().map(String::as_str).collect();
    let (sim, inv) = apply(connector, builder, "ada@example.com", &refs, &[]).await?;
    let batches: Vec<Option<usize>> = inv
        .exchanges
        .iter()
        .filter(|e| e.is_write())
        .map(|e| e.batch)
        .collect();
    c.eq("writes", 10, batches.len());
    c.that(
        "the writes",
        batches.first().is_some_and(|b| b.is_some()) && batches.windows(2).all(|w| w[0] == w[1]),
        "one send-all batch",
        format!("batches {batches:?}"),
    );
    let o = ok("manage-relationships", inv.result)?;
    c.completed(&o, true);
    for g in &refs {
        c.members(&sim, g, &["ada@example.com"]);
    }
    Ok(())
}

/// `Jira-Users`, `JIRA-USERS` and `Research`: two groups, one write each.
pub(crate) async fn c9(connector: &dyn Subject, c: &mut Check) -> Step {
    let (sim, o) = applied(
        connector,
        "ada@example.com",
        &["Jira-Users", "JIRA-USERS", "Research"],
        &[],
    )
    .await?;
    c.completed(&o, true);
    c.eq("changes", 2, o.changes.len());
    c.that(
        "change kinds",
        o.changes
            .iter()
            .all(|c| c.kind == ChangeKind::AddMembership),
        "add-membership",
        format!("{:?}", changes(&o)),
    );
    c.eq("admin membership writes", 1, admin_membership_writes(&sim));
    c.eq("SCIM group PATCHes", 1, scim_group_patches(&sim).len());
    for g in ["jira-users", "research"] {
        c.that(
            format!("members of {g}"),
            sim.group_members(g).iter().any(|m| m == "ada@example.com"),
            "include ada@example.com",
            format!("{:?}", sim.group_members(g)),
        );
    }
    c.eq("groups", 4, sim.groups().len());
    Ok(())
}
