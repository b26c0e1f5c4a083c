//! Paged extraction beyond the conformance cases F1–F4 (those are in
//! `host-harness/tests/conformance.rs`): the default page size, tampered cursors, how many
//! requests a group listing makes, limits below the server's page for groups and products,
//! the records' keys and URLs, and unconfigured products. Every listing is walked with the
//! library's walkers, passing each page's cursor back.

mod common;

use std::collections::BTreeSet;

use atlassian_simulator::{LinkStyle, Simulator, SimulatorBuilder};
use common::*;
use lifecycle_conformance::support::{groups, many_groups, resources, start_indexes, users};
use lifecycle_host::CallError;
use lifecycle_host::bindings::types::{ConnectorError, PageRequest};

async fn start(builder: SimulatorBuilder) -> Simulator {
    builder.start().await.expect("simulator starts")
}

fn page(cursor: Option<&str>) -> PageRequest {
    PageRequest {
        cursor: cursor.map(str::to_owned),
        limit: None,
    }
}

#[tokio::test]
async fn the_default_limit_reads_whole_server_pages() {
    let sim = start(Simulator::builder().users(250).scim_page_size(100)).await;
    let (listed, calls) = users(connector(), &sim_scim_only(&sim), None)
        .await
        .unwrap();
    assert_eq!(listed.len(), 250);
    assert_eq!(calls, 3);
    assert_eq!(start_indexes(&sim), [1, 101, 201]);
}

#[tokio::test]
async fn tampered_cursors_are_invalid_input_and_send_nothing() {
    let sim = start(Simulator::builder().users(3)).await;
    let tenant = sim_scim_only(&sim);
    for bad in [
        "v1:users:0",
        "v1:jira:1",
        "v9:users:1",
        "users:1",
        "v1:users:1x",
    ] {
        let inv = connector().list_users(&tenant, &page(Some(bad))).await;
        match inv.result {
            Err(CallError::Connector(ConnectorError::InvalidInput(_))) => {}
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn a_group_listing_makes_one_request_per_server_page() {
    let sim = start(many_groups()).await;
    let (listed, _) = groups(connector(), &sim_tenant(&sim), None).await.unwrap();
    assert_eq!(listed.len(), 8);
    // SCIM pages of 2: 5 synced groups in 3 requests; admin pages of 3 over 8 groups.
    let scim_groups = format!("/scim/directory/{}/Groups", sim.directory_id());
    assert_eq!(sim.count("GET", &scim_groups), 3);
    let search = |what: &str| {
        sim.count(
            "POST",
            &format!(
                "/admin/v2/orgs/{}/directories/-/{what}/search",
                sim.org_id()
            ),
        )
    };
    assert_eq!(search("groups"), 3);
    // Admin members come from one user search filtered by the page's group ids (pages of 3):
    // at most ⌈memberships ÷ 3⌉ plus one per admin page, not a walk of all 150 users per page.
    let user_searches = search("users");
    assert!(
        user_searches > 0 && user_searches <= (120 + 5usize).div_ceil(3) + 3,
        "{user_searches}"
    );
}

#[tokio::test]
async fn a_group_limit_of_one_resumes_inside_server_pages_and_scim_only_lists_synced_groups() {
    let sim = start(
        Simulator::builder()
            .users(4)
            .synced_group("s1", &["user1@example.com"])
            .synced_group("s2", &[])
            .synced_group("s3", &["user2@example.com", "user3@example.com"])
            .admin_group("a1", &["user4@example.com"])
            .admin_group("a2", &[])
            .admin_group("a3", &["user1@example.com", "user4@example.com"]),
    )
    .await;
    let (listed, _) = groups(connector(), &sim_tenant(&sim), Some(1))
        .await
        .unwrap();
    let names: Vec<&str> = listed.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["s1", "s2", "s3", "a1", "a2", "a3"]);
    let a3 = listed.iter().find(|g| g.name == "a3").expect("a3");
    assert_eq!(a3.members.len(), 2);
    assert!(!a3.synced && a3.id(host_harness::ids::SCIM).is_none());

    // SCIM only: synced groups, no admin id, and no admin request at all.
    sim.clear_requests();
    let (listed, _) = groups(connector(), &sim_scim_only(&sim), None)
        .await
        .unwrap();
    let names: Vec<&str> = listed.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["s1", "s2", "s3"]);
    assert!(
        listed
            .iter()
            .all(|g| g.synced && g.id(host_harness::ids::GROUP).is_none())
    );
    assert!(sim.requests().iter().all(|r| r.path.starts_with("/scim/")));
}

async fn products_sim(style: LinkStyle) -> Simulator {
    start(
        Simulator::builder()
            .products(23, 17, 12)
            .jira_page_size(5)
            .confluence_page_size(4)
            .bitbucket_page_size(5)
            .confluence_link_style(style),
    )
    .await
}

#[tokio::test]
async fn jira_projects_carry_keys_and_resume_at_the_servers_start_at() {
    let sim = products_sim(LinkStyle::Body).await;
    let (items, _) = resources(connector(), &sim_tenant(&sim), "jira-project", None)
        .await
        .unwrap();
    assert!(items.iter().all(|r| r.key.is_some()));
    // maxResults=100 is capped to 5 by the server: the fifth page starts at 20.
    let starts: Vec<String> = sim
        .requests()
        .iter()
        .filter_map(|r| r.query.clone())
        .collect();
    assert!(starts[4].contains("startAt=20"), "{starts:?}");
}

#[tokio::test]
async fn confluence_spaces_carry_their_url_and_a_small_limit_resumes_inside_pages() {
    for style in [LinkStyle::Body, LinkStyle::Header] {
        let sim = products_sim(style).await;
        let tenant = sim_tenant(&sim);
        let kind = "confluence-space";
        let (items, _) = resources(connector(), &tenant, kind, None).await.unwrap();
        let first = items.first().expect("spaces");
        let key = first.key.clone().expect("key");
        assert_eq!(
            first.url.as_deref(),
            Some(format!("{}/wiki/spaces/{key}", sim.base_url()).as_str())
        );
        let (small, calls) = resources(connector(), &tenant, kind, Some(3))
            .await
            .unwrap();
        assert_eq!(small, items, "{style:?}");
        assert_eq!(calls, 6, "{style:?}");
        let ids: BTreeSet<&str> = small.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), 17, "{style:?}");
    }
}

#[tokio::test]
async fn unconfigured_products_are_invalid_config_naming_the_key() {
    let sim = products_sim(LinkStyle::Body).await;
    let tenant = sim_scim_only(&sim);
    for kind in ["jira-project", "confluence-space", "bitbucket-repository"] {
        let inv = connector().list_resources(&tenant, kind, &page(None)).await;
        match inv.result {
            Err(CallError::Connector(ConnectorError::InvalidConfig(c))) => {
                assert_eq!(c.key, "product_user")
            }
            other => panic!("{kind:?}: {other:?}"),
        }
    }
    assert!(sim.requests().is_empty());
}

/// A server that ignores `startIndex` and claims a billion users: the walk stops at the
/// second page (it repeats the first) with an `upstream` error saying why, instead of
/// paging for hours.
#[tokio::test]
async fn a_server_that_ignores_start_index_and_lies_about_the_total_is_stopped() {
    use host_harness::cli::extract::{ExtractError, PageSizes, snapshot};
    use lifecycle_host::paging::WalkError;
    let users: Vec<serde_json::Value> = (1..=100)
        .map(|i| serde_json::json!({"id": format!("u{i}"), "userName": format!("u{i}@example.com"), "active": true}))
        .collect();
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 1_000_000_000u64, "startIndex": 1, "itemsPerPage": 100,
        "Resources": users,
    });
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path_regex("/Users$"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    // The groups, walked beside the users, are an honest empty directory.
    wiremock::Mock::given(wiremock::matchers::path_regex("/Groups$"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": [],
            })),
        )
        .mount(&server)
        .await;
    let err = snapshot(
        connector(),
        &scim_only_tenant(&server.uri()),
        PageSizes {
            page: 100,
            groups: 100,
            users: 100,
        },
        Vec::new(),
    )
    .await
    .expect_err("the walk must stop");
    assert!(
        matches!(&err, ExtractError::Walk(WalkError::Upstream(m)) if m.contains("repeats")),
        "{err}"
    );
    let pages = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/Users"))
        .count();
    assert_eq!(pages, 2, "stopped at the first repeated page");
}

/// K2 over several admin pages in one call: each next groups page goes out beside the
/// members search of the page before it, so 300 admin groups (three full pages of 100, one
/// member each) cost the same six requests in four round trips, not six; a call of 100
/// sends nothing ahead.
#[tokio::test]
async fn k2_one_call_reads_several_admin_pages_with_one_round_trip_less_each() {
    const GROUPS: usize = 300;
    let emails: Vec<String> = (1..=GROUPS)
        .map(|i| format!("user{i}@example.com"))
        .collect();
    let mut b = Simulator::builder().users(GROUPS).admin_page_size(100);
    for (j, email) in emails.iter().enumerate() {
        b = b.admin_group(&format!("g-{j:04}"), &[email.as_str()]);
    }
    let sim = start(b).await;
    let call = |limit| {
        let tenant = sim_tenant(&sim);
        async move {
            let page = PageRequest {
                cursor: Some("v1:groups:admin::100:0".into()),
                limit: Some(limit),
            };
            connector().list_groups(&tenant, &page).await
        }
    };
    let inv = call(300).await;
    let page = inv.result.expect("the groups are listed");
    assert_eq!(page.items.len(), GROUPS);
    assert_eq!(page.next_cursor, None);
    for g in &page.items {
        let want: Vec<String> = sim
            .group_members(&g.name)
            .iter()
            .map(|email| sim.user_by_email(email).expect("seeded").account_id)
            .collect();
        let got: Vec<String> = g.members.iter().map(|m| m.value.clone()).collect();
        assert_eq!(got, want, "members of {}", g.name);
    }
    assert_eq!(
        inv.exchanges.len(),
        6,
        "3 groups pages and 3 members searches"
    );
    assert_eq!(lifecycle_host::recorder::round_trips(&inv.exchanges), 4);
    let inv = call(100).await;
    assert_eq!(inv.result.expect("a page is listed").items.len(), 100);
    assert_eq!(inv.exchanges.len(), 2);
    assert_eq!(lifecycle_host::recorder::round_trips(&inv.exchanges), 2);
}

/// Users in 1,000 groups each: the admin phase's users search answers every member with all
/// its groups expanded, so one page of 100 such users is 100,000 group objects (about 6 MB
/// of body). Read as a JSON tree that took more than the guest's 64 MiB and the call died
/// out of memory; read as it streams past, the call keeps the page and the member ids only.
#[tokio::test]
async fn a_page_of_users_in_1000_groups_each_fits_the_guests_memory() {
    const USERS: usize = 100;
    const GROUPS: usize = 1_000;
    let emails: Vec<String> = (1..=USERS)
        .map(|i| format!("user{i}@example.com"))
        .collect();
    let all: Vec<&str> = emails.iter().map(String::as_str).collect();
    let mut b = Simulator::builder().users(USERS).admin_page_size(100);
    for j in 0..GROUPS {
        b = b.admin_group(&format!("g-{j:04}"), &all);
    }
    let sim = start(b).await;
    let admin_phase = PageRequest {
        cursor: Some("v1:groups:admin::100:0".into()),
        limit: Some(100),
    };
    let inv = connector()
        .list_groups(&sim_tenant(&sim), &admin_phase)
        .await;
    let page = inv.result.expect("the page is listed");
    assert_eq!(page.items.len(), 100);
    let accounts: BTreeSet<String> = sim.users().into_iter().map(|u| u.account_id).collect();
    assert_eq!(accounts.len(), USERS);
    for g in &page.items {
        assert_eq!(sim.group_members(&g.name).len(), USERS, "{}", g.name);
        let got: BTreeSet<String> = g.members.iter().map(|m| m.value.clone()).collect();
        assert_eq!(got, accounts, "members of {}", g.name);
        assert_eq!(g.members.len(), USERS, "each member once in {}", g.name);
    }
    let body: usize = inv.exchanges.iter().map(|e| e.response_bytes).sum();
    assert!(
        body > 5 << 20,
        "the users search answers every group: {body} bytes"
    );
    let peak = inv.peak_memory;
    assert!(
        peak < 24 << 20,
        "peak guest memory {:.1} MiB for {:.1} MiB of answers",
        peak as f64 / f64::from(1 << 20),
        body as f64 / f64::from(1 << 20)
    );
}

/// A snapshot walks the resources beside the groups, not after them: the first SCIM groups
/// page is held (a barrier in the simulator) until the first Jira project search arrives.
/// Walked one after the other, the groups would wait for it until the hold gives up (30 s)
/// and the search would come after every groups request.
#[tokio::test]
async fn the_resources_are_walked_beside_the_groups() {
    use atlassian_simulator::{Fault, Route};
    use host_harness::cli::extract::{PageSizes, snapshot};
    let sim = start(
        Simulator::builder()
            .users(3)
            .synced_group("Engineering", &["user1@example.com"])
            .admin_group("Finance", &["user2@example.com"])
            .products(2, 1, 1),
    )
    .await;
    let projects = "/rest/api/3/project";
    sim.fault(
        Route::scim("/Groups"),
        Fault::HoldUntil(Box::new(Route::path(projects))),
        1,
    );
    let (counts, out) = snapshot(
        connector(),
        &sim_tenant(&sim),
        PageSizes::default(),
        Vec::new(),
    )
    .await
    .expect("the snapshot is written");
    assert_eq!((counts.users, counts.groups), (3, 2));
    assert!(counts.resources >= 4, "{} resources", counts.resources);
    serde_json::from_slice::<serde_json::Value>(&out).expect("the snapshot is JSON");
    let log = sim.requests();
    let at = |what: &dyn Fn(&atlassian_simulator::LoggedRequest) -> bool| log.iter().position(what);
    let held = at(&|r| r.fault.as_deref() == Some("held")).expect("the groups page was held");
    let search = at(&|r| r.path.starts_with(projects)).expect("the projects are listed");
    let after = at(&|r| r.path.contains("/groups/search")).expect("the admin groups are listed");
    assert!(
        held < search && search < after,
        "the project search arrived at {search}, the held groups page at {held}, the next \
         groups request at {after}"
    );
}
