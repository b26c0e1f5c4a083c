//! I. Product roles (I1–I4): grants and revokes through `manage-relationships`, judged on a
//! fresh read of the simulator's role assignments.

use crate::Subject;
use crate::c_relationships::{email, org_builder};
use crate::check::{Check, Step, ok, start};
use crate::support::{changes, sim_tenant};
use atlassian_simulator::{RevokeMissing, Simulator};
use lifecycle_host::Invocation;
use lifecycle_host::bindings::types::{
    ActionOptions, Entitlement, Outcome, ResourceRef, RoleGrant,
};

const APPLY: ActionOptions = ActionOptions { dry_run: false };
/// The simulated site's name, as `<product>/<site>` resources name it.
const SITE: &str = "simulated-site";
const ADA: &str = "ada@example.com";

/// `role` on the workspace `resource` (an id, or `<product>/<site>`).
pub(crate) fn role(role: &str, resource: &str) -> Entitlement {
    Entitlement::Role(RoleGrant {
        role: role.into(),
        resource: ResourceRef {
            kind: "workspace".into(),
            id: resource.into(),
        },
    })
}

/// `product` on the simulated site.
pub(crate) fn on(product: &str) -> String {
    format!("{product}/{SITE}")
}

/// One manage-relationships call for Ada.
pub(crate) async fn manage(
    connector: &dyn Subject,
    sim: &Simulator,
    add: &[Entitlement],
    remove: &[Entitlement],
    options: ActionOptions,
) -> Invocation<Outcome> {
    connector
        .manage_relationships(&sim_tenant(sim), &email(ADA), add, remove, options)
        .await
}

/// Ada's roles on a fresh read: `role on product [methods]`.
pub(crate) fn roles_of(sim: &Simulator, who: &str) -> Vec<String> {
    let products: Vec<(String, String)> = sim
        .workspaces()
        .into_iter()
        .map(|w| (w.id, w.type_key))
        .collect();
    sim.user_roles(who)
        .into_iter()
        .map(|r| {
            let product = products
                .iter()
                .find(|(id, _)| *id == r.resource)
                .map_or(r.resource.as_str(), |(_, p)| p.as_str());
            format!("{} on {product} [{}]", r.role, r.methods.join(","))
        })
        .collect()
}

fn kinds_and_statuses(o: &Outcome) -> Vec<String> {
    o.changes
        .iter()
        .map(|c| {
            let status = c.status.to_string();
            let status = status.split(':').next().unwrap_or_default().to_owned();
            format!("{} {status}", c.kind)
        })
        .collect()
}

/// Grant a role: the v1 assign; re-read shows it `direct`; again (204 and 409 variants):
/// `already-done`, no write.
pub(crate) async fn i1(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let grant = [role("user", &on("jira-software"))];
    let o = ok(
        "grant",
        manage(connector, &sim, &grant, &[], APPLY).await.result,
    )?;
    c.completed(&o, true);
    c.eq(
        "changes",
        vec!["add-role applied".to_owned()],
        kinds_and_statuses(&o),
    );
    c.eq(
        "Ada's roles on re-read",
        vec!["atlassian/user on jira-software [direct]".to_owned()],
        roles_of(&sim, ADA),
    );
    let assigns: Vec<String> = sim
        .mutations()
        .iter()
        .map(|r| format!("{} {}", r.method, r.decoded_path()))
        .collect();
    let account = sim.user_by_email(ADA).map(|u| u.account_id);
    c.eq(
        "the write",
        vec![format!(
            "POST /admin/v1/orgs/{}/users/{}/roles/assign",
            sim.org_id(),
            account.unwrap_or_default()
        )],
        assigns,
    );
    for conflict in [false, true] {
        sim.configure(|o| o.role_repeat_conflict = conflict);
        sim.clear_requests();
        let again = ok(
            "grant again",
            manage(connector, &sim, &grant, &[], APPLY).await.result,
        )?;
        c.eq(
            format!("again (409 variant: {conflict})"),
            vec!["add-role already-done".to_owned()],
            kinds_and_statuses(&again),
        );
        c.writes(&sim, 0);
    }
    Ok(())
}

/// Revoke a direct role: gone on re-read; revoke one the user lacks (204, 400 and 404
/// variants): `already-done`.
pub(crate) async fn i2(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let confluence = sim.workspace_id("confluence").unwrap_or_default();
    sim.grant_user_role(ADA, &confluence, "atlassian/admin", false);
    let o = ok(
        "revoke",
        manage(
            connector,
            &sim,
            &[],
            &[role("atlassian/admin", &confluence)],
            APPLY,
        )
        .await
        .result,
    )?;
    c.completed(&o, true);
    c.eq(
        "changes",
        vec!["remove-role applied".to_owned()],
        kinds_and_statuses(&o),
    );
    c.eq(
        "Ada's roles on re-read",
        Vec::<String>::new(),
        roles_of(&sim, ADA),
    );
    for variant in [
        RevokeMissing::NoContent,
        RevokeMissing::BadRequest,
        RevokeMissing::NotFound,
    ] {
        sim.configure(|o| o.role_revoke_missing = variant);
        sim.clear_requests();
        let again = ok(
            "revoke a role not held",
            manage(connector, &sim, &[], &[role("guest", &confluence)], APPLY)
                .await
                .result,
        )?;
        c.eq(
            format!("not held ({variant:?})"),
            vec!["remove-role already-done".to_owned()],
            kinds_and_statuses(&again),
        );
        c.writes(&sim, 0);
    }
    Ok(())
}

/// A role held only through a group or by inference: reported with its source, never sent
/// to the user-level revoke.
pub(crate) async fn i3(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let jira = sim.workspace_id("jira-software").unwrap_or_default();
    sim.grant_group_role("engineering", &jira, "atlassian/user");
    sim.grant_user_role(ADA, &jira, "atlassian/admin", true);
    let o = ok(
        "revoke",
        manage(
            connector,
            &sim,
            &[],
            &[role("user", &jira), role("admin", &jira)],
            APPLY,
        )
        .await
        .result,
    )?;
    c.completed(&o, true);
    c.eq(
        "changes",
        vec![
            "remove-role skipped".to_owned(),
            "remove-role skipped".to_owned(),
        ],
        kinds_and_statuses(&o),
    );
    let text = changes(&o).join("\n");
    for source in ["group_direct", "inferred", "administrator"] {
        c.that(
            "the reasons",
            text.contains(source),
            format!("name {source}"),
            &text,
        );
    }
    c.writes(&sim, 0);
    c.eq(
        "Ada's roles on re-read",
        vec![
            "atlassian/admin on jira-software [inferred]".to_owned(),
            "atlassian/user on jira-software [group_direct]".to_owned(),
        ],
        roles_of(&sim, ADA),
    );
    Ok(())
}

/// Unknown role or resource: a typed failure naming it before any write. Unlicensed product
/// (400-4) and licence limit (409-3): a failed change, never success.
pub(crate) async fn i4(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let jira = on("jira-software");
    let r = manage(connector, &sim, &[role("overlord", &jira)], &[], APPLY).await;
    c.error("unknown role", r.result, "invalid-input", &["overlord"])?;
    c.eq("requests for an unknown role", 0, sim.requests().len());
    let r = manage(
        connector,
        &sim,
        &[role("user", &jira), role("user", "bamboo/simulated-site")],
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

    let servicedesk = sim.workspace_id("jira-servicedesk").unwrap_or_default();
    let confluence = sim.workspace_id("confluence").unwrap_or_default();
    sim.configure(|o| {
        o.unlicensed_products = vec!["jira-servicedesk".into()];
        o.role_licence_limits.insert(confluence.clone(), 0);
    });
    let o = ok(
        "limits",
        manage(
            connector,
            &sim,
            &[role("user", &servicedesk), role("user", &confluence)],
            &[],
            APPLY,
        )
        .await
        .result,
    )?;
    c.completed(&o, false);
    let text = changes(&o);
    c.that(
        "unlicensed product",
        text.first()
            .is_some_and(|t| t.contains("failed") && t.contains("400-4")),
        "failed with ADMIN-UAM-400-4",
        format!("{text:?}"),
    );
    c.that(
        "licence limit",
        text.get(1)
            .is_some_and(|t| t.contains("failed") && t.contains("409-3")),
        "failed with ADMIN-UAM-409-3",
        format!("{text:?}"),
    );
    c.eq(
        "Ada's roles on re-read",
        Vec::<String>::new(),
        roles_of(&sim, ADA),
    );
    Ok(())
}

/// Deprovision revokes every direct role after the memberships and before deactivation;
/// what only an administrator can change (an inferred role) is listed as `skipped`.
pub(crate) async fn i5(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let jira = sim.workspace_id("jira-software").unwrap_or_default();
    let confluence = sim.workspace_id("confluence").unwrap_or_default();
    sim.grant_user_role(ADA, &jira, "atlassian/admin", false);
    sim.grant_user_role(ADA, &confluence, "atlassian/user", true);
    sim.grant_group_role("engineering", &confluence, "atlassian/admin");
    let o = ok(
        "deprovision",
        connector
            .deprovision_identity(&sim_tenant(&sim), &email(ADA), APPLY)
            .await
            .result,
    )?;
    c.completed(&o, true);
    c.eq(
        "changes",
        vec![
            "remove-membership applied".to_owned(),
            // The simulator lists assignments by resource: Confluence, then Jira.
            "remove-role skipped".to_owned(),
            "remove-role applied".to_owned(),
            "deactivate-user applied".to_owned(),
        ],
        kinds_and_statuses(&o),
    );
    let skipped = changes(&o).get(1).cloned().unwrap_or_default();
    c.that(
        "what only an administrator can change",
        skipped.contains("inferred") && skipped.contains("administrator"),
        "the inferred role, naming its source",
        &skipped,
    );
    let order: Vec<String> = sim
        .mutations()
        .iter()
        .map(|r| {
            let p = r.decoded_path();
            let what = if p.contains("/Groups/") {
                "membership"
            } else if p.ends_with("/roles/revoke") {
                "revoke"
            } else if p.contains("/Users/") {
                "deactivate"
            } else {
                "other"
            };
            what.to_owned()
        })
        .collect();
    c.eq(
        "the order of the writes",
        vec!["membership", "revoke", "deactivate"],
        order.iter().map(String::as_str).collect(),
    );
    c.eq(
        "Ada's roles on re-read",
        vec!["atlassian/user on confluence [inferred]".to_owned()],
        roles_of(&sim, ADA),
    );
    let ada = sim.user_by_email(ADA);
    c.eq(
        "active on re-read",
        Some(false),
        ada.as_ref().map(|u| u.active),
    );
    c.eq(
        "groups on re-read",
        Some(Vec::<String>::new()),
        ada.map(|u| u.groups),
    );
    Ok(())
}

/// Deprovision with `revoke_api_tokens`: each personal API token deleted, one change per
/// token, no token value anywhere; a preflight that forbids it (`externalDirectory.scim`) is
/// reported as `skipped` with its reason, and the tokens stay.
pub(crate) async fn i6(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let tenant = sim_tenant(&sim).with_setting("revoke_api_tokens", "true");
    let tokens = [
        sim.add_api_token(ADA, "CI pipeline"),
        sim.add_api_token(ADA, "laptop"),
    ];
    let o = ok(
        "deprovision",
        connector
            .deprovision_identity(&tenant, &email(ADA), APPLY)
            .await
            .result,
    )?;
    c.completed(&o, true);
    let revoked: Vec<String> = o
        .changes
        .iter()
        .filter(|ch| ch.kind.to_string() == "revoke-credential")
        .map(|ch| format!("{} {}", ch.target, ch.status))
        .collect();
    c.eq("one change per token", 2, revoked.len());
    c.that(
        "the changes name the labels",
        revoked.iter().any(|t| t.contains("CI pipeline"))
            && revoked.iter().all(|t| t.contains("applied")),
        "CI pipeline and laptop, applied",
        format!("{revoked:?}"),
    );
    c.eq("tokens left on re-read", 0, sim.api_tokens(ADA).len());
    let mut produced: Vec<(String, String)> = vec![("the outcome".into(), format!("{o:?}"))];
    for r in sim.requests() {
        produced.push((
            format!("request {} {}", r.method, r.path),
            format!("{} {}", r.path, r.body),
        ));
    }
    for t in tokens.iter().flatten() {
        c.nowhere(
            format!("the value of token `{}`", t.label),
            &t.value,
            &produced,
        );
    }

    sim.configure(|o| o.api_tokens_forbidden_reason = Some("externalDirectory.scim".into()));
    sim.add_api_token("grace@example.com", "kept");
    let o = ok(
        "deprovision where the preflight refuses",
        connector
            .deprovision_identity(&tenant, &email("grace@example.com"), APPLY)
            .await
            .result,
    )?;
    c.completed(&o, true);
    let text = changes(&o).join("\n");
    c.that(
        "the refusal is reported",
        text.contains("revoke-credential")
            && text.contains("skipped")
            && text.contains("externalDirectory.scim"),
        "a skipped revoke-credential naming externalDirectory.scim",
        &text,
    );
    c.eq(
        "tokens kept on re-read",
        1,
        sim.api_tokens("grace@example.com").len(),
    );
    Ok(())
}
