//! Fault scripting, the request log, seeding, the state dump.

mod simulator_support;

use atlassian_simulator::{Fault, RetryHint, Route, Seed, SeedMembership, SeedUser, Simulator};
use serde_json::{Value, json};
use simulator_support::*;
use std::time::{Duration, Instant, SystemTime};

async fn sim() -> Simulator {
    Simulator::builder().demo_org().start().await.unwrap()
}

#[tokio::test]
async fn rate_limit_with_retry_after_seconds_then_clears() {
    let sim = sim().await;
    sim.fault(
        Route::scim("/Users"),
        Fault::RateLimited(RetryHint::Seconds(7)),
        1,
    );
    let r = scim(&sim, "GET", "/Users", None).await;
    assert_scim_error(&r, 429, None);
    assert_eq!(r.header("retry-after").as_deref(), Some("7"));
    assert_eq!(scim(&sim, "GET", "/Users", None).await.status, 200);
    assert_eq!(sim.pending_faults(), 0);
}

#[tokio::test]
async fn rate_limit_with_an_http_date_and_with_x_ratelimit_reset() {
    let sim = sim().await;
    let route = Route::admin("/directories");
    sim.fault(
        route.clone(),
        Fault::RateLimited(RetryHint::HttpDate(30)),
        1,
    );
    sim.fault(
        route.clone(),
        Fault::RateLimited(RetryHint::RateLimitReset(30)),
        1,
    );
    sim.fault(
        route.clone(),
        Fault::RateLimited(RetryHint::RateLimitResetMinutes(30)),
        1,
    );
    let r = admin(&sim, "GET", "/directories", None).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["errors"][0]["status"], 429);
    let date = httpdate::parse_http_date(&r.header("retry-after").unwrap()).unwrap();
    assert!(date > SystemTime::now() + Duration::from_secs(20));
    let r = admin(&sim, "GET", "/directories", None).await;
    assert_eq!(r.status, 429);
    let reset = r.header("x-ratelimit-reset").unwrap();
    assert!(reset.len() == 20 && reset.ends_with('Z'), "{reset}");
    assert_eq!(r.header("x-ratelimit-remaining").as_deref(), Some("0"));
    assert!(r.header("retry-after").is_none());
    let r = admin(&sim, "GET", "/directories", None).await;
    let reset = r.header("x-ratelimit-reset").unwrap();
    assert!(
        reset.len() == 17 && reset.ends_with('Z'),
        "minute precision: {reset}"
    );
    assert_eq!(admin(&sim, "GET", "/directories", None).await.status, 200);
}

#[tokio::test]
async fn unavailable_forever_until_cleared_and_nothing_commits() {
    let sim = sim().await;
    sim.fault_always(
        Route::scim("/Users").method("POST"),
        Fault::Unavailable {
            retry_after: Some(2),
        },
    );
    for _ in 0..3 {
        let r = scim(
            &sim,
            "POST",
            "/Users",
            Some(json!({"userName": "new@example.com"})),
        )
        .await;
        assert_scim_error(&r, 503, None);
        assert_eq!(r.header("retry-after").as_deref(), Some("2"));
    }
    assert!(
        sim.user_by_email("new@example.com").is_none(),
        "a gateway fault commits nothing"
    );
    assert_eq!(
        scim(&sim, "GET", "/Users", None).await.status,
        200,
        "other routes unaffected"
    );
    sim.clear_faults();
    assert_eq!(
        create_user(&sim, "new@example.com").await["userName"],
        "new@example.com"
    );
}

#[tokio::test]
async fn any_status_in_the_api_error_format() {
    let sim = sim().await;
    sim.fault(Route::path("/rest/api/3"), Fault::Status(500), 1);
    let r = product(&sim, "/rest/api/3/project/search").await;
    assert_eq!(r.status, 500);
    assert!(r.json()["errorMessages"].is_array());
    sim.fault(
        Route::api(atlassian_simulator::Api::UserManagement),
        Fault::Status(400),
        1,
    );
    let ada = sim.user_by_email("ada@example.com").unwrap().account_id;
    let url = format!(
        "{}/users/{}/manage/lifecycle/disable",
        sim.base_url(),
        seg(&ada)
    );
    let r = send("POST", &url, &admin_auth(&sim), None).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["key"].is_string());
    assert!(sim.user_by_email("ada@example.com").unwrap().active);
}

#[tokio::test]
async fn latency_delays_the_real_response() {
    let sim = sim().await;
    sim.fault(Route::any(), Fault::Latency(Duration::from_millis(400)), 1);
    let t = Instant::now();
    let r = scim(&sim, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(r.status, 200);
    // A lower bound only: a slow machine makes it later, never sooner.
    assert!(t.elapsed() >= Duration::from_millis(400));
    // The fault was used once: the next request is not delayed (as the log says, rather than
    // a stopwatch that a busy machine could push past 400 ms).
    let r = scim(&sim, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(r.status, 200);
    let faults: Vec<Option<String>> = sim.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(faults, [Some("latency".to_owned()), None]);
    assert_eq!(sim.pending_faults(), 0);
}

/// `HoldUntil` is a barrier: the held response waits for a request on its route, not for any
/// request, and is then the real one.
#[tokio::test]
async fn a_held_response_waits_for_a_request_on_its_route() {
    let sim = std::sync::Arc::new(sim().await);
    sim.fault(
        Route::scim("/Users"),
        Fault::HoldUntil(Box::new(Route::scim("/Groups"))),
        1,
    );
    let held = {
        let sim = sim.clone();
        tokio::spawn(async move { scim(&sim, "GET", "/Users", None).await })
    };
    // Once the held request is in the log, another route's request does not release it.
    while sim.requests().is_empty() {
        tokio::task::yield_now().await;
    }
    let r = scim(&sim, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(r.status, 200);
    assert!(
        !held.is_finished(),
        "released by a request on another route"
    );
    let r = scim(&sim, "GET", "/Groups", None).await;
    assert_eq!(r.status, 200);
    let r = held.await.expect("the held request's task");
    assert_eq!(r.status, 200);
    assert!(r.json()["Resources"].is_array(), "{}", r.text);
    let faults: Vec<Option<String>> = sim.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(faults, [Some("held".to_owned()), None, None]);
}

#[tokio::test]
async fn spoiled_bodies_malformed_html_truncated_oversized() {
    let sim = sim().await;
    let route = Route::scim("/Groups").method("GET");
    sim.fault(route.clone(), Fault::MalformedJson, 1);
    sim.fault(route.clone(), Fault::HtmlErrorPage(502), 1);
    sim.fault(route.clone(), Fault::TruncatedBody, 1);
    sim.fault(route.clone(), Fault::OversizedBody(3 << 20), 1);

    let r = scim(&sim, "GET", "/Groups", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(
        serde_json::from_str::<Value>(&r.text).is_err(),
        "{}",
        r.text
    );

    let r = scim(&sim, "GET", "/Groups", None).await;
    assert_eq!(r.status, 502);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text.starts_with("<!DOCTYPE html>"));

    let truncated = scim(&sim, "GET", "/Groups", None).await;
    assert_eq!(truncated.status, 200);
    assert!(serde_json::from_str::<Value>(&truncated.text).is_err());
    assert!(truncated.text.len() < 2000);
    assert_eq!(
        truncated
            .header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        truncated.text.len(),
        "the truncated body is delivered completely, with an honest length"
    );

    let oversized = scim(&sim, "GET", "/Groups", None).await;
    assert!(oversized.text.len() >= 3 << 20, "{}", oversized.text.len());
    assert_eq!(oversized.json()["totalResults"], 2, "still valid JSON");

    let normal = scim(&sim, "GET", "/Groups", None).await;
    assert!(normal.text.len() < 2000);
}

#[tokio::test]
async fn dropped_response_after_the_state_change_committed() {
    let sim = sim().await;
    sim.fault(Route::scim("/Users").method("POST"), Fault::DropResponse, 1);
    let err = try_send(
        "POST",
        &format!("{}/Users", sim.scim_url()),
        &scim_auth(&sim),
        Some(json!({"userName": "race@example.com"})),
    )
    .await
    .expect_err("the client must not get a response");
    // Dropped at once: not the client's timeout (a response held back would end in one).
    assert!(!err.is_timeout(), "{err:?}");
    // hyper: IncompleteMessage, "connection closed before message completed".
    assert!(err.is_request(), "{err:?}");
    // The user exists: the next run finds exactly one.
    let v = scim(
        &sim,
        "GET",
        &format!(
            "/Users?{}",
            filter_query("userName eq \"race@example.com\"")
        ),
        None,
    )
    .await
    .json();
    assert_eq!(v["totalResults"], 1);
    let again = scim(
        &sim,
        "POST",
        "/Users",
        Some(json!({"userName": "race@example.com"})),
    )
    .await;
    assert_scim_error(&again, 409, Some("uniqueness"));
    let logged = sim.requests();
    let dropped = logged
        .iter()
        .find(|r| r.fault.as_deref() == Some("dropped"))
        .unwrap();
    assert_eq!((dropped.method.as_str(), dropped.status), ("POST", 201));
}

#[tokio::test]
async fn a_concurrent_creation_makes_the_post_answer_409() {
    let sim = sim().await;
    let lookup = scim(
        &sim,
        "GET",
        &format!(
            "/Users?{}",
            filter_query("userName eq \"race@example.com\"")
        ),
        None,
    )
    .await;
    assert_eq!(lookup.json()["totalResults"], 0);
    let other = Seed {
        users: vec![SeedUser::new("race@example.com")],
        ..Seed::default()
    };
    sim.fault(
        Route::scim("/Users").method("POST"),
        Fault::Concurrent(Box::new(other)),
        1,
    );
    let r = scim(
        &sim,
        "POST",
        "/Users",
        Some(json!({"userName": "race@example.com"})),
    )
    .await;
    assert_scim_error(&r, 409, Some("uniqueness"));
    assert_eq!(sim.scim_user_count(), 6, "exactly one race@example.com");
    assert_eq!(
        sim.requests().last().unwrap().fault.as_deref(),
        Some("concurrent-change")
    );
}

#[tokio::test]
async fn dropped_response_works_on_admin_writes_too() {
    let sim = sim().await;
    let gid = sim.group_by_name("site-admins").unwrap().admin_id;
    let ada = sim.user_by_email("ada@example.com").unwrap().account_id;
    sim.fault(
        Route::admin("").containing("/memberships"),
        Fault::DropResponse,
        1,
    );
    let url = format!(
        "{}/admin/v2/orgs/{}/directories/{}/groups/{gid}/memberships",
        sim.base_url(),
        sim.org_id(),
        sim.directory_id()
    );
    assert!(
        try_send(
            "POST",
            &url,
            &admin_auth(&sim),
            Some(json!({"accountId": ada}))
        )
        .await
        .is_err()
    );
    assert_eq!(
        sim.group_members("site-admins"),
        vec!["ada@example.com", "grace@example.com"]
    );
}

#[tokio::test]
async fn fault_after_lets_the_first_requests_through() {
    let sim = sim().await;
    let gid = sim.group_by_name("jira-software-users").unwrap().admin_id;
    sim.fault_after(
        Route::admin("")
            .method("DELETE")
            .containing("/memberships/"),
        1,
        Fault::Unavailable { retry_after: None },
        1,
    );
    let members: Vec<String> = sim
        .group_by_name("jira-software-users")
        .unwrap()
        .member_account_ids;
    let mut statuses = Vec::new();
    for m in &members {
        let r = admin_dir(
            &sim,
            "DELETE",
            &format!("/groups/{gid}/memberships/{}", seg(m)),
            None,
        )
        .await;
        statuses.push(r.status);
    }
    assert_eq!(statuses, vec![204, 503, 204]);
    // Members go in account order (ada, grace, margaret): the second removal failed.
    assert_eq!(
        sim.group_members("jira-software-users"),
        vec!["grace@example.com"]
    );
}

#[tokio::test]
async fn routes_match_method_api_and_path() {
    let sim = sim().await;
    sim.fault(Route::scim("/Users").method("POST"), Fault::Status(500), 1);
    assert_eq!(scim(&sim, "GET", "/Users", None).await.status, 200);
    assert_eq!(scim(&sim, "GET", "/Groups", None).await.status, 200);
    assert_eq!(
        product(&sim, "/rest/api/3/project/search").await.status,
        200
    );
    assert_eq!(sim.pending_faults(), 1);
    sim.fault(Route::any(), Fault::Status(500), 0);
    assert_eq!(sim.pending_faults(), 1, "zero times is no fault");
}

#[tokio::test]
async fn request_log_records_everything_but_credentials() {
    let sim = sim().await;
    scim(
        &sim,
        "GET",
        &format!("/Users?{}", filter_query("userName eq \"ada@example.com\"")),
        None,
    )
    .await;
    let created = create_user(&sim, "new@example.com").await;
    admin_dir(
        &sim,
        "POST",
        "/users/search",
        Some(json!({"emails": ["x@example.com"]})),
    )
    .await;
    send(
        "GET",
        &format!("{}/Users", sim.scim_url()),
        &Auth::Bearer("wrong-token".into()),
        None,
    )
    .await;
    let log = sim.requests();
    assert_eq!(log.len(), 4);
    assert_eq!(log[0].method, "GET");
    assert!(log[0].path.ends_with("/Users"));
    assert_eq!(
        log[0].query.as_deref(),
        Some("filter=userName%20eq%20%22ada%40example.com%22")
    );
    assert_eq!(log[0].status, 200);
    assert_eq!(log[1].status, 201);
    assert_eq!(log[1].json()["userName"], "new@example.com");
    assert_eq!(log[3].status, 401);
    assert_eq!(sim.writes().len(), 2, "the POST and the admin search");
    assert_eq!(sim.mutations().len(), 1, "the search changes nothing");
    assert_eq!(
        sim.count(
            "POST",
            &format!("/scim/directory/{}/Users", sim.directory_id())
        ),
        1
    );
    assert_eq!(sim.count("GET", "/scim/"), 2);
    assert!(log[1].matches("post", "/scim/"));
    // No secret anywhere: log, dump, Debug.
    let t = sim.tokens();
    let text = format!(
        "{}{}{:?}{:?}",
        serde_json::to_string(&log).unwrap(),
        sim.dump(),
        sim,
        t
    );
    for secret in [&t.scim_token, &t.admin_api_key, &t.product_token] {
        assert!(!text.contains(secret.as_str()));
    }
    assert!(!text.contains("wrong-token"));
    assert!(created["id"].is_string());
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn seeding_from_the_builder() {
    let sim = Simulator::builder()
        .org_id("org-1")
        .directory_id("dir-1")
        .workspace("ws")
        .user(
            SeedUser::new("a@example.com")
                .name("A A")
                .external_id("x-a")
                .account_id("712020:fixed"),
        )
        .user(SeedUser::new("b@example.com").inactive())
        .user(SeedUser::new("c@example.com").without_scim())
        .synced_group("idp", &["a@example.com"])
        .admin_group("admins", &["b@example.com", "c@example.com"])
        .products(2, 3, 4)
        .start()
        .await
        .unwrap();
    assert_eq!(sim.org_id(), "org-1");
    assert_eq!(sim.directory_id(), "dir-1");
    assert_eq!(
        sim.scim_url(),
        format!("{}/scim/directory/dir-1", sim.base_url())
    );
    let a = sim.user_by_account_id("712020:fixed").unwrap();
    assert_eq!(a.email, "a@example.com");
    assert_eq!(a.groups, vec!["idp"]);
    assert_eq!(
        sim.user_by_scim_id(a.scim_id.as_deref().unwrap()).unwrap(),
        a
    );
    assert!(!sim.user_by_email("b@example.com").unwrap().active);
    assert!(
        sim.user_by_email("c@example.com")
            .unwrap()
            .scim_id
            .is_none()
    );
    let idp = sim.group_by_name("IDP").unwrap();
    assert!(idp.synced && idp.scim_id.is_some() && idp.managed_by == "external");
    let adm = sim.group_by_name("admins").unwrap();
    assert!(!adm.synced && adm.scim_id.is_none() && adm.managed_by == "admins");
    assert_eq!(sim.groups().len(), 2);
    assert_eq!(sim.users().len(), 3);
    assert_eq!(
        scim(&sim, "GET", "/Users", None).await.json()["totalResults"],
        2
    );
    let d = sim.dump();
    assert_eq!(d["jiraProjects"].as_array().unwrap().len(), 2);
    assert_eq!(d["confluenceSpaces"].as_array().unwrap().len(), 3);
    assert_eq!(d["bitbucketRepositories"].as_array().unwrap().len(), 4);
    assert_eq!(
        d["groups"][1]["member_emails"],
        json!(["b@example.com", "c@example.com"])
    );
    // Runtime additions.
    sim.add(&Seed {
        users: vec![SeedUser::new("d@example.com")],
        ..Seed::default()
    })
    .unwrap();
    assert!(sim.user_by_email("d@example.com").is_some());
    assert!(
        sim.add(&Seed {
            users: vec![SeedUser::new("d@example.com")],
            ..Seed::default()
        })
        .is_err()
    );
}

#[tokio::test]
async fn invalid_seeds_are_refused() {
    let bad = Simulator::builder()
        .admin_group("g", &["ghost@example.com"])
        .start()
        .await;
    assert!(bad.unwrap_err().to_string().contains("ghost@example.com"));
    let bad = Simulator::builder()
        .user(SeedUser::new("a@example.com").without_scim())
        .synced_group("g", &["a@example.com"])
        .start()
        .await;
    assert!(bad.is_err(), "a synced group member needs a SCIM record");
}

#[tokio::test]
async fn seed_memberships_join_existing_groups_and_unknown_names_are_refused() {
    let sim = Simulator::builder()
        .user(SeedUser::new("a@example.com"))
        .user(SeedUser::new("b@example.com"))
        .admin_group("admins", &["a@example.com"])
        .start()
        .await
        .unwrap();
    let join = |group: &str, member: &str| Seed {
        memberships: vec![SeedMembership::new(group, member)],
        ..Seed::default()
    };
    sim.add(&join("ADMINS", "b@example.com")).unwrap();
    sim.add(&join("admins", "b@example.com")).unwrap();
    assert_eq!(
        sim.group_members("admins"),
        ["a@example.com", "b@example.com"]
    );
    let err = sim.add(&join("nobody", "a@example.com")).unwrap_err();
    assert!(err.to_string().contains("nobody"), "{err}");
    let err = sim.add(&join("admins", "ghost@example.com")).unwrap_err();
    assert!(err.to_string().contains("ghost@example.com"), "{err}");
}

#[tokio::test]
async fn seeding_from_json_and_toml_files() {
    let dir = tempfile::tempdir().unwrap();
    let toml_path = dir.path().join("seed.toml");
    std::fs::write(
        &toml_path,
        r#"
org_id = "org-t"
directory_id = "dir-t"
jira_projects = 5

[tokens]
scim_token = "s"
admin_api_key = "a"
product_token = "p"

[[users]]
email = "ada@example.com"
name = "Ada Lovelace"
external_id = "idp-1"

[[users]]
email = "bob@example.com"
active = false

[[groups]]
name = "engineering"
synced = true
members = ["ada@example.com"]

[[groups]]
name = "jira-users"
members = ["ada@example.com", "bob@example.com"]

[options]
scim_page_size = 1
existing_member_conflict = true
"#,
    )
    .unwrap();
    let sim = Simulator::builder()
        .seed_from_file(&toml_path)
        .unwrap()
        .start()
        .await
        .unwrap();
    assert_eq!(sim.org_id(), "org-t");
    assert_eq!(sim.tokens().scim_token, "s");
    assert_eq!(sim.group_members("jira-users").len(), 2);
    assert!(sim.options().existing_member_conflict);
    assert_eq!(
        scim(&sim, "GET", "/Users", None).await.json()["itemsPerPage"],
        1
    );

    let json_path = dir.path().join("seed.json");
    let seed = Seed {
        users: vec![SeedUser::new("x@example.com")],
        bitbucket_repositories: 2,
        ..Seed::default()
    };
    std::fs::write(&json_path, serde_json::to_string(&seed).unwrap()).unwrap();
    let sim = Simulator::builder()
        .seed_from_file(&json_path)
        .unwrap()
        .start()
        .await
        .unwrap();
    assert!(sim.user_by_email("x@example.com").is_some());

    std::fs::write(&json_path, "{\"nonsense\": 1}").unwrap();
    assert!(Simulator::builder().seed_from_file(&json_path).is_err());
    assert!(
        Simulator::builder()
            .seed_from_file(dir.path().join("missing.toml"))
            .is_err()
    );
}

#[tokio::test]
async fn config_toml_points_at_the_simulator() {
    let sim = sim().await;
    let cfg: toml::Table = toml::from_str(&sim.config_toml()).unwrap();
    assert_eq!(cfg["instance_name"].as_str(), Some("simulated-org"));
    assert_eq!(cfg["scim_url"].as_str().unwrap(), sim.scim_url());
    assert_eq!(cfg["scim_organization_id"].as_str().unwrap(), sim.org_id());
    for k in ["atlassian_api_url", "site_url", "bitbucket_api_url"] {
        assert_eq!(cfg[k].as_str().unwrap(), sim.base_url());
    }
    assert_eq!(
        cfg["bitbucket_workspace"].as_str().unwrap(),
        sim.workspace()
    );
    assert_eq!(cfg["product_user"].as_str(), Some("discovery@example.com"));
    assert_eq!(
        cfg["secrets"]["scim_token"].as_str().unwrap(),
        sim.tokens().scim_token
    );
    assert_eq!(
        cfg["secrets"]["admin_api_key"].as_str().unwrap(),
        sim.tokens().admin_api_key
    );
    assert_eq!(
        cfg["secrets"]["product_token"].as_str().unwrap(),
        sim.tokens().product_token
    );
    assert!(cfg.get("host").is_none(), "host policy is the operator's");
    assert_eq!(cfg.len(), 9);
}
