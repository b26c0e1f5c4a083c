//! F. Discovery and extraction: every listing walked by handing each page's cursor back.

use std::collections::BTreeSet;

use crate::Subject;
use crate::c_relationships::org_builder;
use crate::check::{Check, Difference, Step, connector_error, ensure, ok, start};
use crate::i_roles::manage;
use crate::ids::{ACCOUNT, GROUP, SCIM};
use crate::support::{
    groups, many_groups, resources, sim_scim_only, sim_tenant, start_indexes, users,
};
use atlassian_simulator::{Api, Fault, LinkStyle, Route, Simulator};
use lifecycle_host::CallError;
use lifecycle_host::bindings::types::{
    ActionOptions, ConnectorError, DeleteOptions, Entitlement, PageRequest, ResourceRef, RoleGrant,
    UserRecord, UserRef,
};

/// The resource kinds the built-in connector declares.
const JIRA: &str = "jira-project";
const CONFLUENCE: &str = "confluence-space";
const BITBUCKET: &str = "bitbucket-repository";
/// The kind of the resources product roles are granted on.
const WORKSPACE: &str = "workspace";

fn unique_users(c: &mut Check, what: &str, users: &[UserRecord], sim: &Simulator) {
    let ids: BTreeSet<&str> = users.iter().filter_map(|u| u.id(SCIM)).collect();
    let names: BTreeSet<String> = users.iter().map(|u| u.user_name.clone()).collect();
    let want: BTreeSet<String> = sim.users().into_iter().map(|u| u.email).collect();
    c.eq(format!("{what}: users listed"), want.len(), users.len());
    c.eq(format!("{what}: unique SCIM ids"), want.len(), ids.len());
    c.that(
        format!("{what}: userNames"),
        names == want,
        "exactly the simulator's users",
        format!("{} listed, {} in the simulator", names.len(), want.len()),
    );
}

async fn users_sim(n: usize, server_page: usize) -> Step<Simulator> {
    start(Simulator::builder().users(n).scim_page_size(server_page)).await
}

/// 250 users, server page 100 ignoring a larger count; exact-multiple, short and empty last
/// pages all end the walk.
pub(crate) async fn f1(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = users_sim(250, 100).await?;
    let tenant = sim_scim_only(&sim);
    let (listed, calls) = users(connector, &tenant, Some(250)).await?;
    unique_users(c, "250 users", &listed, &sim);
    // The pages after the first go out as one wave of the same call (K1).
    c.eq("250 users: calls", 1, calls);
    // One wave's requests are in flight at once: they arrive in any order.
    let mut indexes = start_indexes(&sim);
    indexes.sort_unstable();
    c.eq(
        "250 users: startIndex of each request",
        vec![1, 101, 201],
        indexes,
    );
    if let (Some(u7), Some(view)) = (
        listed.iter().find(|u| u.user_name == "user7@example.com"),
        sim.user_by_email("user7@example.com"),
    ) {
        c.eq(
            "user7: account id",
            Some(view.account_id.as_str()),
            u7.id(ACCOUNT),
        );
        c.eq(
            "user7: external id",
            Some("idp-7".to_owned()),
            u7.external_id.clone(),
        );
        c.eq("user7: SCIM id", view.scim_id.as_deref(), u7.id(SCIM));
        c.eq("user7: active", true, u7.active);
    }
    c.eq("250 users: writes", 0, sim.writes().len());
    // A limit below the server's page: pages are resumed inside, never skipped.
    sim.clear_requests();
    let (listed, calls) = users(connector, &tenant, Some(40)).await?;
    unique_users(c, "250 users by 40", &listed, &sim);
    c.eq("250 users by 40: calls", 7, calls);
    c.eq(
        "250 users by 40: startIndex of each request",
        vec![1, 41, 81, 121, 161, 201, 241],
        start_indexes(&sim),
    );

    for (n, pages) in [(200, vec![1, 101]), (130, vec![1, 101])] {
        let sim = users_sim(n, 100).await?;
        let (listed, _) = users(connector, &sim_scim_only(&sim), None).await?;
        unique_users(c, &format!("{n} users"), &listed, &sim);
        c.eq(
            format!("{n} users: startIndex of each request"),
            pages,
            start_indexes(&sim),
        );
    }

    // The directory shrinks between two pages: the next page is empty, and ends the walk.
    let sim = users_sim(110, 100).await?;
    let tenant = sim_scim_only(&sim);
    let first = ok(
        "list-users",
        connector
            .list_users(
                &tenant,
                &PageRequest {
                    cursor: None,
                    limit: None,
                },
            )
            .await
            .result,
    )?;
    c.eq("110 users: first page", 100, first.items.len());
    let Some(next) = first.next_cursor else {
        return Err(Difference::new(
            "110 users: first page",
            "a next cursor",
            "none",
        ));
    };
    let purge = DeleteOptions {
        purge_account: false,
        dry_run: false,
    };
    for i in 101..=110 {
        let user = UserRef::Email(format!("user{i}@example.com"));
        ok(
            "delete-identity",
            connector
                .delete_identity(&tenant, &user, purge)
                .await
                .result,
        )?;
    }
    let last = ok(
        "list-users",
        connector
            .list_users(
                &tenant,
                &PageRequest {
                    cursor: Some(next),
                    limit: None,
                },
            )
            .await
            .result,
    )?;
    c.eq("the empty last page: items", 0, last.items.len());
    c.eq("the empty last page: next cursor", None, last.next_cursor);
    c.eq("SCIM users left", 100, sim.scim_user_count());
    Ok(())
}

/// Five synced and three admin groups over SCIM pages of 2 and admin pages of 3, one group of
/// 150 members and one of 120: every group once, with exactly its members.
pub(crate) async fn f2(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(many_groups()).await?;
    let tenant = sim_tenant(&sim);
    let (groups, calls) = groups(connector, &tenant, None).await?;
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    c.eq("groups listed", 8, names.len());
    c.eq("unique group names", 8, unique.len());
    c.that("calls", calls <= 8, "at most 8", calls);
    for view in sim.groups() {
        let Some(g) = groups.iter().find(|g| g.name == view.name) else {
            c.push(Difference::new(&view.name, "listed", "missing"));
            continue;
        };
        c.eq(format!("{}: synced", view.name), view.synced, g.synced);
        c.eq(
            format!("{}: admin id", view.name),
            Some(view.admin_id.as_str()),
            g.id(GROUP),
        );
        c.eq(
            format!("{}: SCIM id", view.name),
            view.scim_id.as_deref(),
            g.id(SCIM),
        );
        // Synced groups list SCIM user ids, admin-managed ones account ids.
        let want: BTreeSet<String> = if view.synced {
            view.member_emails
                .iter()
                .filter_map(|e| sim.user_by_email(e).and_then(|u| u.scim_id))
                .collect()
        } else {
            view.member_account_ids.iter().cloned().collect()
        };
        let members_in = if view.synced { SCIM } else { ACCOUNT };
        let got: BTreeSet<String> = g
            .members
            .iter()
            .filter(|m| m.namespace == members_in)
            .map(|m| m.value.clone())
            .collect();
        c.eq(
            format!("{}: members listed", view.name),
            want.len(),
            g.members.len(),
        );
        c.that(
            format!("{}: members", view.name),
            got == want,
            format!("exactly its {} members", want.len()),
            format!(
                "{} members, {} of them right",
                got.len(),
                got.intersection(&want).count()
            ),
        );
    }
    c.writes(&sim, 0);
    Ok(())
}

/// 23 Jira projects (cap 5), 17 Confluence spaces (cap 4; next link in the body, then in a
/// `Link` header) and 12 Bitbucket repositories (cap 5), each walked to its end.
pub(crate) async fn f3(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(
        Simulator::builder()
            .products(23, 17, 12)
            .jira_page_size(5)
            .confluence_page_size(4)
            .bitbucket_page_size(5),
    )
    .await?;
    let tenant = sim_tenant(&sim);
    let expected = |kind| match kind {
        JIRA => (23, 5, "/rest/api/3/project/search".to_owned()),
        CONFLUENCE => (17, 5, "/wiki/api/v2/spaces".to_owned()),
        _ => (12, 3, format!("/2.0/repositories/{}", sim.workspace())),
    };
    let runs = [
        (JIRA, LinkStyle::Body),
        (CONFLUENCE, LinkStyle::Body),
        (CONFLUENCE, LinkStyle::Header),
        (BITBUCKET, LinkStyle::Body),
    ];
    for (kind, style) in runs {
        sim.configure(|o| o.confluence_link_style = style);
        sim.clear_requests();
        let what = match kind {
            CONFLUENCE => format!("{kind} ({style:?} link)"),
            _ => kind.to_string(),
        };
        let (items, calls) = resources(connector, &tenant, kind, None).await?;
        let (n, pages, path) = expected(kind);
        let ids: BTreeSet<&str> = items.iter().map(|r| r.id.as_str()).collect();
        c.eq(format!("{what}: items"), n, items.len());
        c.eq(format!("{what}: unique ids"), n, ids.len());
        c.that(
            format!("{what}: records"),
            items.iter().all(|r| r.kind == kind && !r.name.is_empty()),
            format!("all {kind} with a name"),
            "another kind or an empty name",
        );
        c.eq(format!("{what}: calls"), pages, calls);
        c.eq(
            format!("{what}: page requests"),
            pages,
            sim.count("GET", &path),
        );
    }
    c.eq("writes", 0, sim.writes().len());
    Ok(())
}

/// A 400 answering a listing (users on the first page and mid-walk, groups, Jira) is an
/// upstream error, never an empty page; the same cursor works once the error clears.
pub(crate) async fn f4(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = users_sim(250, 100).await?;
    let tenant = sim_tenant(&sim);
    let first_page = PageRequest {
        cursor: None,
        limit: None,
    };
    let upstream_400 =
        |c: &mut Check, what: &str, result: Result<String, CallError>| match connector_error(
            what, result,
        ) {
            Ok(ConnectorError::Upstream(u)) => {
                c.eq(format!("{what}: status"), Some(400), u.status);
            }
            Ok(other) => c.push(Difference::new(
                what,
                "an upstream 400 error",
                other.message(),
            )),
            Err(d) => c.push(d),
        };
    sim.fault(Route::scim("/Users"), Fault::Status(400), 1);
    let r = connector.list_users(&tenant, &first_page).await.result;
    upstream_400(
        c,
        "list-users, first page",
        r.map(|p| format!("{} users", p.items.len())),
    );

    let first = ok(
        "list-users",
        connector.list_users(&tenant, &first_page).await.result,
    )?;
    let next = PageRequest {
        cursor: first.next_cursor,
        limit: None,
    };
    sim.fault(Route::scim("/Users"), Fault::Status(400), 1);
    let r = connector.list_users(&tenant, &next).await.result;
    upstream_400(
        c,
        "list-users, second page",
        r.map(|p| format!("{} users", p.items.len())),
    );
    let retry = ok(
        "list-users, the same cursor again",
        connector.list_users(&tenant, &next).await.result,
    )?;
    c.eq("the same cursor again: users", 100, retry.items.len());

    sim.fault(Route::scim("/Groups"), Fault::Status(400), 1);
    let r = connector.list_groups(&tenant, &first_page).await.result;
    upstream_400(
        c,
        "list-groups",
        r.map(|p| format!("{} groups", p.items.len())),
    );
    sim.fault(Route::api(Api::Jira), Fault::Status(400), 1);
    let r = connector
        .list_resources(&tenant, JIRA, &first_page)
        .await
        .result;
    upstream_400(
        c,
        "list-resources jira-project",
        r.map(|p| format!("{} projects", p.items.len())),
    );
    c.eq("faults left unused", 0, sim.pending_faults());
    c.eq("writes", 0, sim.writes().len());
    Ok(())
}

/// A listed resource as F5 compares it: kind, id, key, name, url.
type Listed = (String, String, Option<String>, String, Option<String>);

/// The workspaces of two sites (six) listed through `list-resources(workspace)` four a page:
/// two pages, the second asked with the cursor alone; each record the simulator's workspace
/// (id, product key, site name, host URL). A role granted on an id exactly as listed is held
/// `direct` on a fresh read. Without the organization key: `invalid-config` naming
/// `admin_api_key`, nothing sent.
pub(crate) async fn f5(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let globex = sim.add_site("globex");
    let info = ok("describe", connector.describe().await)?;
    c.that(
        "describe: resource kinds",
        info.resource_kinds.iter().any(|k| k.name == WORKSPACE),
        "declares `workspace`",
        format!(
            "{:?}",
            info.resource_kinds
                .iter()
                .map(|k| k.name.as_str())
                .collect::<Vec<_>>()
        ),
    );
    let tenant = sim_tenant(&sim);
    let (items, calls) = resources(connector, &tenant, WORKSPACE, Some(4)).await?;
    c.eq("workspaces: calls", 2, calls);
    let listed: Vec<Listed> = items
        .iter()
        .map(|r| {
            (
                r.kind.clone(),
                r.id.clone(),
                r.key.clone(),
                r.name.clone(),
                r.url.clone(),
            )
        })
        .collect();
    let want: Vec<Listed> = sim
        .workspaces()
        .into_iter()
        .map(|w| {
            (
                WORKSPACE.to_owned(),
                w.id,
                Some(w.type_key),
                w.name,
                Some(w.host_url),
            )
        })
        .collect();
    c.eq("workspaces: records, in order", want, listed);
    let path = format!("/admin/v2/orgs/{}/workspaces", sim.org_id());
    let bodies: Vec<serde_json::Value> = sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .map(|r| serde_json::from_str(&r.body).unwrap_or_default())
        .collect();
    c.eq("workspaces: pages requested", 2, bodies.len());
    c.eq(
        "workspaces: the first page's body",
        Some(&serde_json::json!({"limit": 4})),
        bodies.first(),
    );
    c.that(
        "workspaces: the second page's body",
        bodies
            .get(1)
            .and_then(|b| b.as_object())
            .is_some_and(|o| o.len() == 1 && o.get("cursor").is_some_and(|v| v.is_string())),
        "the cursor alone",
        format!("{:?}", bodies.get(1)),
    );

    // A role on the second site's Confluence, named by the id exactly as listed.
    let Some(target) = items
        .iter()
        .find(|r| r.key.as_deref() == Some("confluence") && r.name == "globex")
    else {
        return Err(Difference::new(
            "workspaces",
            "globex's Confluence listed",
            "missing",
        ));
    };
    ensure(
        globex.contains(&target.id),
        "globex's Confluence",
        "one of the ids the simulator added",
        &target.id,
    )?;
    let grant = [Entitlement::Role(RoleGrant {
        role: "atlassian/user".into(),
        resource: ResourceRef {
            kind: target.kind.clone(),
            id: target.id.clone(),
        },
    })];
    sim.clear_requests();
    let o = ok(
        "grant on the listed id",
        manage(
            connector,
            &sim,
            &grant,
            &[],
            ActionOptions { dry_run: false },
        )
        .await
        .result,
    )?;
    c.completed(&o, true);
    c.that(
        "the change names the listed id",
        o.changes.iter().any(|ch| ch.target.contains(&target.id)),
        &target.id,
        format!(
            "{:?}",
            o.changes.iter().map(|ch| &ch.target).collect::<Vec<_>>()
        ),
    );
    let held: Vec<(String, String, Vec<String>)> = sim
        .user_roles("ada@example.com")
        .into_iter()
        .map(|r| (r.resource, r.role, r.methods))
        .collect();
    c.eq(
        "Ada's roles on a fresh read",
        vec![(
            target.id.clone(),
            "atlassian/user".to_owned(),
            vec!["direct".to_owned()],
        )],
        held,
    );
    c.writes(&sim, 1);

    // Without the organization key: invalid-config naming it, before any request.
    sim.clear_requests();
    let r = connector
        .list_resources(
            &sim_scim_only(&sim),
            WORKSPACE,
            &PageRequest {
                cursor: None,
                limit: Some(4),
            },
        )
        .await
        .result;
    match connector_error("list-resources workspace without admin_api_key", r)? {
        ConnectorError::InvalidConfig(e) => c.eq(
            "without admin_api_key: the key named",
            "admin_api_key",
            e.key.as_str(),
        ),
        other => c.that(
            "without admin_api_key",
            false,
            "invalid-config",
            other.message(),
        ),
    };
    c.eq("without admin_api_key: requests", 0, sim.requests().len());
    Ok(())
}
