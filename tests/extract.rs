//! Conformance cases F1–F4 (paged extraction and discovery), through the real component in
//! the real host against the Atlassian simulator: every listing is walked by passing each
//! page's cursor back, and every case checks the simulator's request log too (how many page
//! requests, no endless loop, no write).

mod common;

use std::collections::BTreeSet;

use common::*;
use host_harness::bindings::types::{
    Capability, ConnectorError, GroupRecord, PageRequest, ResourceKind, ResourceRecord, UserRecord,
};
use host_harness::simulator::{Api, Fault, LinkStyle, Route, Simulator};
use host_harness::{CallError, Tenant};

/// More calls than any case here needs: a walk that does not end fails.
const MAX_CALLS: usize = 200;

fn page(cursor: Option<String>, limit: Option<u32>) -> PageRequest {
    PageRequest { cursor, limit }
}

fn connector_error(e: CallError) -> ConnectorError {
    match e {
        CallError::Connector(e) => e,
        CallError::Host(e) => panic!("the host ended the call: {e}"),
    }
}

/// Walks `list-users` to its end: every user and the number of calls.
async fn all_users(tenant: &Tenant, limit: Option<u32>) -> (Vec<UserRecord>, usize) {
    let mut out = Vec::new();
    let mut cursor = None;
    for calls in 1..=MAX_CALLS {
        let inv = connector().list_users(tenant, &page(cursor, limit)).await;
        assert_exchanges_clean(&inv.exchanges);
        let p = inv
            .result
            .unwrap_or_else(|e| panic!("list-users failed: {e}"));
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => return (out, calls),
        }
    }
    panic!("list-users did not end within {MAX_CALLS} calls");
}

async fn all_groups(tenant: &Tenant, limit: Option<u32>) -> (Vec<GroupRecord>, usize) {
    let mut out = Vec::new();
    let mut cursor = None;
    for calls in 1..=MAX_CALLS {
        let inv = connector().list_groups(tenant, &page(cursor, limit)).await;
        assert_exchanges_clean(&inv.exchanges);
        let p = inv
            .result
            .unwrap_or_else(|e| panic!("list-groups failed: {e}"));
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => return (out, calls),
        }
    }
    panic!("list-groups did not end within {MAX_CALLS} calls");
}

async fn all_resources(
    tenant: &Tenant,
    kind: ResourceKind,
    limit: Option<u32>,
) -> (Vec<ResourceRecord>, usize) {
    let mut out = Vec::new();
    let mut cursor = None;
    for calls in 1..=MAX_CALLS {
        let inv = connector()
            .list_resources(tenant, kind, &page(cursor, limit))
            .await;
        assert_exchanges_clean(&inv.exchanges);
        let p = inv
            .result
            .unwrap_or_else(|e| panic!("list-resources {kind:?} failed: {e}"));
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => return (out, calls),
        }
    }
    panic!("list-resources {kind:?} did not end within {MAX_CALLS} calls");
}

fn users_path(sim: &Simulator) -> String {
    format!("/scim/directory/{}/Users", sim.directory_id())
}

fn groups_path(sim: &Simulator) -> String {
    format!("/scim/directory/{}/Groups", sim.directory_id())
}

/// The `startIndex` of every SCIM user listing request, in order.
fn start_indexes(sim: &Simulator) -> Vec<u64> {
    let path = users_path(sim);
    sim.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == path)
        .map(|r| {
            let q = r.query.clone().unwrap_or_default();
            q.split('&')
                .find_map(|kv| kv.strip_prefix("startIndex="))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no startIndex in {q}"))
        })
        .collect()
}

fn assert_unique_users(users: &[UserRecord], n: usize) {
    let ids: BTreeSet<&str> = users.iter().map(|u| u.scim_id.as_str()).collect();
    let names: BTreeSet<&str> = users.iter().map(|u| u.user_name.as_str()).collect();
    assert_eq!(users.len(), n);
    assert_eq!(ids.len(), n, "duplicate SCIM ids");
    assert_eq!(names.len(), n, "duplicate userNames");
}

async fn users_sim(n: usize, server_page: usize) -> Simulator {
    Simulator::builder()
        .users(n)
        .scim_page_size(server_page)
        .start()
        .await
        .expect("simulator starts")
}

#[tokio::test]
async fn f1_250_users_server_page_100_ignoring_a_larger_count() {
    let sim = users_sim(250, 100).await;
    let tenant = sim_scim_only(&sim);
    // Ask for 250 a page: the server caps at 100, and the connector must notice.
    let (users, calls) = all_users(&tenant, Some(250)).await;
    assert_unique_users(&users, 250);
    assert_eq!(calls, 3);
    assert_eq!(start_indexes(&sim), [1, 101, 201]);
    let want: BTreeSet<String> = (1..=250).map(|i| format!("user{i}@example.com")).collect();
    let got: BTreeSet<String> = users.iter().map(|u| u.user_name.clone()).collect();
    assert_eq!(got, want);
    // Records carry the account id (atlassian-external extension) and external id.
    let ada = sim.user_by_email("user7@example.com").expect("seeded");
    let u7 = users
        .iter()
        .find(|u| u.user_name == "user7@example.com")
        .expect("listed");
    assert_eq!(u7.scim_id, ada.scim_id.clone().expect("SCIM record"));
    assert_eq!(u7.account_id.as_deref(), Some(ada.account_id.as_str()));
    assert_eq!(u7.external_id.as_deref(), Some("idp-7"));
    assert!(u7.active);
    assert!(sim.writes().is_empty());
}

#[tokio::test]
async fn f1_default_limit_and_a_smaller_limit_than_the_server_page() {
    let sim = users_sim(250, 100).await;
    let tenant = sim_scim_only(&sim);
    let (users, calls) = all_users(&tenant, None).await;
    assert_unique_users(&users, 250);
    assert_eq!(calls, 3);
    sim.clear_requests();
    let (users, calls) = all_users(&tenant, Some(40)).await;
    assert_unique_users(&users, 250);
    assert_eq!(calls, 7);
    assert_eq!(start_indexes(&sim), [1, 41, 81, 121, 161, 201, 241]);
}

#[tokio::test]
async fn f1_exact_multiple_ends_without_an_endless_loop() {
    let sim = users_sim(200, 100).await;
    let tenant = sim_scim_only(&sim);
    let (users, calls) = all_users(&tenant, None).await;
    assert_unique_users(&users, 200);
    assert_eq!(calls, 2);
    // totalResults says 200 after the second page: no trailing empty read is even needed.
    assert_eq!(start_indexes(&sim), [1, 101]);
}

#[tokio::test]
async fn f1_short_last_page_ends() {
    let sim = users_sim(130, 100).await;
    let tenant = sim_scim_only(&sim);
    let (users, calls) = all_users(&tenant, None).await;
    assert_unique_users(&users, 130);
    assert_eq!(calls, 2);
    assert_eq!(start_indexes(&sim), [1, 101]);
}

#[tokio::test]
async fn f1_empty_last_page_ends() {
    // A host resuming past the end (the directory shrank between two pages): the server
    // answers an empty page, which ends the listing.
    let sim = users_sim(200, 100).await;
    let tenant = sim_scim_only(&sim);
    let inv = connector()
        .list_users(&tenant, &page(Some("v1:users:201".into()), None))
        .await;
    let p = inv.result.expect("an empty last page is not an error");
    assert!(p.items.is_empty());
    assert_eq!(p.next_cursor, None);
    assert_eq!(start_indexes(&sim), [201]);
}

#[tokio::test]
async fn f1_tampered_cursors_are_invalid_input_and_send_nothing() {
    let sim = users_sim(3, 100).await;
    let tenant = sim_scim_only(&sim);
    for bad in [
        "v1:users:0",
        "v1:jira:1",
        "v9:users:1",
        "users:1",
        "v1:users:1x",
    ] {
        let inv = connector()
            .list_users(&tenant, &page(Some(bad.into()), None))
            .await;
        match inv.result.map_err(connector_error) {
            Err(ConnectorError::InvalidInput(_)) => {}
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn f2_groups_over_several_pages_with_a_group_of_more_than_100_members() {
    let emails: Vec<String> = (1..=150).map(|i| format!("user{i}@example.com")).collect();
    let all: Vec<&str> = emails.iter().map(String::as_str).collect();
    let sim = Simulator::builder()
        .users(150)
        .synced_group("all-staff", &all)
        .synced_group("engineering", &all[..10])
        .synced_group("sales", &all[10..20])
        .synced_group("support", &[])
        .synced_group("design", &all[20..25])
        .admin_group("jira-users", &all[..120])
        .admin_group("confluence-users", &all[100..105])
        .admin_group("bitbucket-users", &[])
        .scim_page_size(2)
        .admin_page_size(3)
        .start()
        .await
        .expect("simulator starts");
    let tenant = sim_tenant(&sim);
    let (groups, calls) = all_groups(&tenant, None).await;

    // Every group exactly once: synced groups merged with their admin id.
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), 8, "{names:?}");
    assert_eq!(unique.len(), 8, "{names:?}");
    for view in sim.groups() {
        let g = groups
            .iter()
            .find(|g| g.name == view.name)
            .unwrap_or_else(|| panic!("{} not listed", view.name));
        assert_eq!(g.synced, view.synced, "{}", view.name);
        assert_eq!(
            g.admin_id.as_deref(),
            Some(view.admin_id.as_str()),
            "{}",
            view.name
        );
        assert_eq!(g.scim_id, view.scim_id, "{}", view.name);
        // Synced groups list SCIM user ids, admin-managed ones account ids.
        let want: BTreeSet<String> = if view.synced {
            view.member_emails
                .iter()
                .map(|e| {
                    sim.user_by_email(e)
                        .and_then(|u| u.scim_id)
                        .expect("SCIM id")
                })
                .collect()
        } else {
            view.member_account_ids.iter().cloned().collect()
        };
        let got: BTreeSet<String> = g.members.iter().cloned().collect();
        assert_eq!(
            got.len(),
            g.members.len(),
            "duplicate members in {}",
            view.name
        );
        assert_eq!(got, want, "members of {}", view.name);
    }
    let big = |n: &str| groups.iter().find(|g| g.name == n).map(|g| g.members.len());
    assert_eq!(big("all-staff"), Some(150));
    assert_eq!(big("jira-users"), Some(120));

    // SCIM pages of 2: 5 synced groups in 3 requests; admin pages of 3 over 8 groups.
    assert_eq!(sim.count("GET", &groups_path(&sim)), 3);
    let group_searches = sim.count(
        "POST",
        &format!(
            "/admin/v2/orgs/{}/directories/-/groups/search",
            sim.org_id()
        ),
    );
    assert_eq!(group_searches, 3);
    // Admin members come from the user search (150 users, pages of 3), once per admin page
    // that holds an admin-managed group.
    let user_searches = sim.count(
        "POST",
        &format!("/admin/v2/orgs/{}/directories/-/users/search", sim.org_id()),
    );
    assert!(
        user_searches > 0 && user_searches % 50 == 0,
        "{user_searches}"
    );
    assert!(calls <= 8, "{calls} calls");
    assert!(sim.mutations().is_empty());
}

#[tokio::test]
async fn f2_a_small_limit_resumes_inside_server_pages() {
    let sim = Simulator::builder()
        .users(4)
        .synced_group("s1", &["user1@example.com"])
        .synced_group("s2", &[])
        .synced_group("s3", &["user2@example.com", "user3@example.com"])
        .admin_group("a1", &["user4@example.com"])
        .admin_group("a2", &[])
        .admin_group("a3", &["user1@example.com", "user4@example.com"])
        .start()
        .await
        .expect("simulator starts");
    let tenant = sim_tenant(&sim);
    let (groups, _) = all_groups(&tenant, Some(1)).await;
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["s1", "s2", "s3", "a1", "a2", "a3"]);
    let a3 = groups.iter().find(|g| g.name == "a3").expect("a3");
    assert_eq!(a3.members.len(), 2);
    assert!(!a3.synced && a3.scim_id.is_none());

    // SCIM only: synced groups, no admin id, and no admin request at all.
    sim.clear_requests();
    let (groups, _) = all_groups(&sim_scim_only(&sim), None).await;
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["s1", "s2", "s3"]);
    assert!(groups.iter().all(|g| g.synced && g.admin_id.is_none()));
    assert!(sim.requests().iter().all(|r| r.path.starts_with("/scim/")));
}

async fn products_sim(style: LinkStyle) -> Simulator {
    Simulator::builder()
        .products(23, 17, 12)
        .jira_page_size(5)
        .confluence_page_size(4)
        .bitbucket_page_size(5)
        .confluence_link_style(style)
        .start()
        .await
        .expect("simulator starts")
}

fn assert_unique_resources(items: &[ResourceRecord], n: usize, kind: ResourceKind) {
    let ids: BTreeSet<&str> = items.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(items.len(), n, "{kind:?}");
    assert_eq!(ids.len(), n, "{kind:?} duplicates");
    assert!(items.iter().all(|r| r.kind == kind && !r.name.is_empty()));
}

#[tokio::test]
async fn f3_jira_projects_over_server_capped_pages() {
    let sim = products_sim(LinkStyle::Body).await;
    let tenant = sim_tenant(&sim);
    // maxResults=100 is capped to 5 by the server: 23 projects in 5 pages.
    let (items, calls) = all_resources(&tenant, ResourceKind::JiraProject, None).await;
    assert_unique_resources(&items, 23, ResourceKind::JiraProject);
    assert!(items.iter().all(|r| r.key.is_some()));
    assert_eq!(calls, 5);
    assert_eq!(sim.count("GET", "/rest/api/3/project/search"), 5);
    let starts: Vec<String> = sim
        .requests()
        .iter()
        .filter_map(|r| r.query.clone())
        .collect();
    assert!(starts[4].contains("startAt=20"), "{starts:?}");
}

#[tokio::test]
async fn f3_confluence_spaces_with_links_in_the_body_and_in_the_link_header() {
    for style in [LinkStyle::Body, LinkStyle::Header] {
        let sim = products_sim(style).await;
        let tenant = sim_tenant(&sim);
        let (items, calls) = all_resources(&tenant, ResourceKind::ConfluenceSpace, None).await;
        assert_unique_resources(&items, 17, ResourceKind::ConfluenceSpace);
        assert_eq!(calls, 5, "{style:?}");
        assert_eq!(sim.count("GET", "/wiki/api/v2/spaces"), 5, "{style:?}");
        let first = items.first().expect("spaces");
        let key = first.key.clone().expect("key");
        assert_eq!(
            first.url.as_deref(),
            Some(format!("{}/wiki/spaces/{key}", sim.base_url()).as_str())
        );
        // With a limit smaller than the server page, pages are resumed, not skipped.
        sim.clear_requests();
        let (small, calls) = all_resources(&tenant, ResourceKind::ConfluenceSpace, Some(3)).await;
        assert_eq!(small, items, "{style:?}");
        assert_eq!(calls, 6, "{style:?}");
    }
}

#[tokio::test]
async fn f3_bitbucket_repositories_following_next() {
    let sim = products_sim(LinkStyle::Body).await;
    let tenant = sim_tenant(&sim);
    let (items, calls) = all_resources(&tenant, ResourceKind::BitbucketRepository, None).await;
    assert_unique_resources(&items, 12, ResourceKind::BitbucketRepository);
    assert_eq!(calls, 3);
    let path = format!("/2.0/repositories/{}", sim.workspace());
    assert_eq!(sim.count("GET", &path), 3);
    assert!(sim.writes().is_empty());
}

#[tokio::test]
async fn f3_unconfigured_products_are_invalid_config_naming_the_key() {
    let sim = products_sim(LinkStyle::Body).await;
    let tenant = sim_scim_only(&sim);
    for kind in [
        ResourceKind::JiraProject,
        ResourceKind::ConfluenceSpace,
        ResourceKind::BitbucketRepository,
    ] {
        let inv = connector()
            .list_resources(&tenant, kind, &page(None, None))
            .await;
        match inv.result.map_err(connector_error) {
            Err(ConnectorError::InvalidConfig(c)) => assert_eq!(c.key, "product_user"),
            other => panic!("{kind:?}: {other:?}"),
        }
    }
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn f4_a_400_is_an_error_never_an_empty_result() {
    let sim = users_sim(250, 100).await;
    let tenant = sim_tenant(&sim);
    // On the first page.
    sim.fault(Route::scim("/Users"), Fault::Status(400), 1);
    let inv = connector().list_users(&tenant, &page(None, None)).await;
    match inv.result.map_err(connector_error) {
        Err(ConnectorError::Upstream(u)) => assert_eq!(u.status, 400),
        other => panic!("{other:?}"),
    }
    // In the middle of a walk: the page fails, the cursor before it still works.
    let first = connector()
        .list_users(&tenant, &page(None, None))
        .await
        .result
        .expect("first page");
    sim.fault(Route::scim("/Users"), Fault::Status(400), 1);
    let inv = connector()
        .list_users(&tenant, &page(first.next_cursor.clone(), None))
        .await;
    assert!(matches!(
        inv.result.map_err(connector_error),
        Err(ConnectorError::Upstream(u)) if u.status == 400
    ));
    let retry = connector()
        .list_users(&tenant, &page(first.next_cursor, None))
        .await
        .result
        .expect("the same cursor again");
    assert_eq!(retry.items.len(), 100);
    // Groups and discovery too.
    sim.fault(Route::scim("/Groups"), Fault::Status(400), 1);
    let inv = connector().list_groups(&tenant, &page(None, None)).await;
    assert!(matches!(
        inv.result.map_err(connector_error),
        Err(ConnectorError::Upstream(u)) if u.status == 400
    ));
    sim.fault(Route::api(Api::Jira), Fault::Status(400), 1);
    let inv = connector()
        .list_resources(&tenant, ResourceKind::JiraProject, &page(None, None))
        .await;
    assert!(matches!(
        inv.result.map_err(connector_error),
        Err(ConnectorError::Upstream(u)) if u.status == 400
    ));
    assert_eq!(sim.pending_faults(), 0);
    assert!(sim.writes().is_empty());
}

#[tokio::test]
async fn the_component_declares_the_discover_capability() {
    let info = connector().describe().await.expect("describe");
    assert!(info.capabilities.contains(&Capability::Discover));
}
