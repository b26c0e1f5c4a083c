//! I. Product roles of a group (I7–I8): grants and revokes through `manage-group-roles`, an
//! administrator's action on a group, judged on a fresh read of the simulator's group role
//! assignments and of a member's own (where the role shows as `group_direct`).

use crate::Subject;
use crate::c_relationships::org_builder;
use crate::check::{Check, Step, ok, start};
use crate::i_roles::{on, roles_of};
use crate::support::sim_tenant;
use atlassian_simulator::Simulator;
use lifecycle_host::Invocation;
use lifecycle_host::bindings::types::{ActionOptions, Outcome, ResourceRef, RoleGrant};

const APPLY: ActionOptions = ActionOptions { dry_run: false };
const DRY_RUN: ActionOptions = ActionOptions { dry_run: true };
/// A seeded admin-managed group; Ada is a member.
const GROUP: &str = "engineering";
const ADA: &str = "ada@example.com";

fn grant(role: &str, resource: &str) -> RoleGrant {
    RoleGrant {
        role: role.into(),
        resource: ResourceRef {
            kind: "workspace".into(),
            id: resource.into(),
        },
    }
}

async fn group_roles(
    connector: &dyn Subject,
    sim: &Simulator,
    group: &str,
    add: &[RoleGrant],
    remove: &[RoleGrant],
    options: ActionOptions,
) -> Invocation<Outcome> {
    connector
        .manage_group_roles(&sim_tenant(sim), group, add, remove, options)
        .await
}

/// `kind status` of each change.
fn summary(o: &Outcome) -> Vec<String> {
    o.changes
        .iter()
        .map(|c| {
            let status = c.status.to_string();
            let status = status.split(':').next().unwrap_or_default().to_owned();
            format!("{} {status}", c.kind)
        })
        .collect()
}

/// The group's roles on a fresh read: `role on product`, sorted.
fn of_group(sim: &Simulator) -> Vec<String> {
    let products: Vec<(String, String)> = sim
        .workspaces()
        .into_iter()
        .map(|w| (w.id, w.type_key))
        .collect();
    let mut out: Vec<String> = sim
        .group_roles(GROUP)
        .into_iter()
        .map(|(resource, role)| {
            let product = products
                .iter()
                .find(|(id, _)| *id == resource)
                .map_or(resource.as_str(), |(_, p)| p.as_str());
            format!("{role} on {product}")
        })
        .collect();
    out.sort();
    out
}

/// Grant two roles to a group (one by `<product>/<site>`, one by workspace id) and revoke
/// one it holds: the v2 group writes in the group's directory; the group's roles and a
/// member's (`group_direct`) on re-read; again: `already-done`, no write.
pub(crate) async fn i7(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let confluence = sim.workspace_id("confluence").unwrap_or_default();
    let servicedesk = sim.workspace_id("jira-servicedesk").unwrap_or_default();
    sim.grant_group_role(GROUP, &servicedesk, "atlassian/user");
    let add = [
        grant("user", &on("jira-software")),
        grant("atlassian/admin", &confluence),
    ];
    let remove = [grant("user", &servicedesk)];
    let o = ok(
        "group roles",
        group_roles(connector, &sim, GROUP, &add, &remove, APPLY)
            .await
            .result,
    )?;
    c.completed(&o, true);
    c.eq(
        "changes",
        vec![
            "add-role applied".to_owned(),
            "add-role applied".to_owned(),
            "remove-role applied".to_owned(),
        ],
        summary(&o),
    );
    c.eq(
        "the group's roles on re-read",
        vec![
            "atlassian/admin on confluence".to_owned(),
            "atlassian/user on jira-software".to_owned(),
        ],
        of_group(&sim),
    );
    let mut member = roles_of(&sim, ADA);
    member.sort();
    c.eq(
        "a member's roles on re-read",
        vec![
            "atlassian/admin on confluence [group_direct]".to_owned(),
            "atlassian/user on jira-software [group_direct]".to_owned(),
        ],
        member,
    );
    let paths: Vec<String> = sim.mutations().iter().map(|r| r.decoded_path()).collect();
    c.that(
        "the writes",
        paths.len() == 3
            && paths
                .iter()
                .all(|p| p.contains("/groups/") && p.contains("/role-assignments/")),
        "three v2 group role-assignments writes",
        paths.join(", "),
    );
    sim.clear_requests();
    let again = ok(
        "again",
        group_roles(connector, &sim, GROUP, &add, &remove, APPLY)
            .await
            .result,
    )?;
    c.eq(
        "again",
        vec![
            "add-role already-done".to_owned(),
            "add-role already-done".to_owned(),
            "remove-role already-done".to_owned(),
        ],
        summary(&again),
    );
    c.writes(&sim, 0);
    Ok(())
}

/// A dry run: the exact plan, zero writes. An unknown group, a role groups cannot hold
/// (`site-admin`) and an unknown resource: a typed failure naming it, zero writes.
pub(crate) async fn i8(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let add = [grant("user", &on("confluence"))];
    let o = ok(
        "dry run",
        group_roles(connector, &sim, GROUP, &add, &[], DRY_RUN)
            .await
            .result,
    )?;
    c.eq("the plan", vec!["add-role planned".to_owned()], summary(&o));
    c.writes(&sim, 0);
    c.eq("the group's roles", Vec::<String>::new(), of_group(&sim));

    let r = group_roles(connector, &sim, "no-such-team", &add, &[], APPLY).await;
    c.error("unknown group", r.result, "not-found", &["no-such-team"])?;
    let r = group_roles(
        connector,
        &sim,
        GROUP,
        &[grant("site-admin", &on("confluence"))],
        &[],
        APPLY,
    )
    .await;
    c.error(
        "a role groups cannot hold",
        r.result,
        "invalid-input",
        &["site-admin"],
    )?;
    let r = group_roles(
        connector,
        &sim,
        GROUP,
        &[grant("user", "bamboo/simulated-site")],
        &[],
        APPLY,
    )
    .await;
    c.error(
        "unknown resource",
        r.result,
        "not-found",
        &["bamboo/simulated-site"],
    )?;
    c.writes(&sim, 0);
    c.eq("the group's roles", Vec::<String>::new(), of_group(&sim));
    Ok(())
}
