//! Product discovery paging and credentials per API.

mod simulator_support;

use atlassian_simulator::{LinkStyle, Simulator, Tokens};
use serde_json::{Value, json};
use simulator_support::*;

#[tokio::test]
async fn jira_project_search_pages_with_a_server_cap() {
    let sim = Simulator::builder()
        .products(120, 0, 0)
        .jira_page_size(50)
        .start()
        .await
        .unwrap();
    let first = product(&sim, "/rest/api/3/project/search?startAt=0&maxResults=100").await;
    assert_eq!(first.status, 200, "{}", first.text);
    let v = first.json();
    assert_eq!(v["maxResults"], 50, "the server caps maxResults");
    assert_eq!(v["values"].as_array().unwrap().len(), 50);
    assert_eq!(v["isLast"], false);
    assert_eq!(v["total"], 120);
    let mut keys = std::collections::BTreeSet::new();
    let mut start = 0;
    loop {
        let v = product(
            &sim,
            &format!("/rest/api/3/project/search?startAt={start}&maxResults=100"),
        )
        .await
        .json();
        let values = v["values"].as_array().unwrap();
        for p in values {
            keys.insert(p["key"].as_str().unwrap().to_string());
        }
        start += values.len();
        if v["isLast"] == true {
            break;
        }
    }
    assert_eq!(keys.len(), 120);
    let r = product(&sim, "/rest/api/3/project/search?startAt=x").await;
    assert_eq!(r.status, 400);
    assert!(r.json()["errorMessages"].is_array());
}

async fn confluence_walk(sim: &Simulator) -> Vec<String> {
    let mut url = "/wiki/api/v2/spaces?limit=250".to_string();
    let mut keys = Vec::new();
    loop {
        let r = product(sim, &url).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let v = r.json();
        for s in v["results"].as_array().unwrap() {
            keys.push(s["key"].as_str().unwrap().to_string());
        }
        let next = match sim.options().confluence_link_style {
            LinkStyle::Body => {
                assert!(r.header("link").is_none());
                v["_links"]["next"].as_str().map(str::to_string)
            }
            LinkStyle::Header => {
                assert!(v["_links"].get("next").is_none());
                r.header("link").map(|l| {
                    assert!(l.ends_with("; rel=\"next\""), "{l}");
                    l[1..l.find('>').unwrap()].to_string()
                })
            }
        };
        match next {
            Some(n) => url = n,
            None => return keys,
        }
    }
}

#[tokio::test]
async fn confluence_spaces_page_with_either_next_link_style() {
    let sim = Simulator::builder()
        .products(0, 60, 0)
        .confluence_page_size(25)
        .start()
        .await
        .unwrap();
    let keys = confluence_walk(&sim).await;
    assert_eq!(keys.len(), 60);
    assert_eq!(
        keys.iter().collect::<std::collections::BTreeSet<_>>().len(),
        60
    );
    sim.configure(|o| o.confluence_link_style = LinkStyle::Header);
    assert_eq!(confluence_walk(&sim).await, keys);
    let r = product(&sim, "/wiki/api/v2/spaces?cursor=bogus").await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn bitbucket_repositories_follow_next_until_absent() {
    let sim = Simulator::builder()
        .products(0, 0, 23)
        .workspace("acme")
        .bitbucket_page_size(10)
        .start()
        .await
        .unwrap();
    let mut url = format!("{}/2.0/repositories/acme?pagelen=100", sim.base_url());
    let mut slugs = Vec::new();
    let mut pages = 0;
    loop {
        let r = send("GET", &url, &product_auth(&sim), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let v = r.json();
        assert_eq!(v["pagelen"], 10);
        for repo in v["values"].as_array().unwrap() {
            slugs.push(repo["slug"].as_str().unwrap().to_string());
        }
        pages += 1;
        match v["next"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    assert_eq!((slugs.len(), pages), (23, 3));
    let r = product(&sim, "/2.0/repositories/other").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["type"], "error");
}

#[tokio::test]
async fn each_credential_works_only_on_its_own_api() {
    let sim = Simulator::builder().demo_org().start().await.unwrap();
    let t = sim.tokens();
    let scim_url = format!("{}/Users", sim.scim_url());
    let admin_url = format!(
        "{}/admin/v2/orgs/{}/directories",
        sim.base_url(),
        sim.org_id()
    );
    let ada = sim.user_by_email("ada@example.com").unwrap().account_id;
    let life_url = format!(
        "{}/users/{}/manage/lifecycle/enable",
        sim.base_url(),
        seg(&ada)
    );
    let jira = format!("{}/rest/api/3/project/search", sim.base_url());
    let conf = format!("{}/wiki/api/v2/spaces", sim.base_url());
    let bb = format!("{}/2.0/repositories/{}", sim.base_url(), sim.workspace());
    let scim_tok = Auth::Bearer(t.scim_token.clone());
    let admin_key = Auth::Bearer(t.admin_api_key.clone());
    let basic = Auth::Basic(sim.product_user(), t.product_token.clone());
    let basic_bad = Auth::Basic(sim.product_user(), "wrong".into());

    // The right credential on each API.
    assert_eq!(send("GET", &scim_url, &scim_tok, None).await.status, 200);
    assert_eq!(send("GET", &admin_url, &admin_key, None).await.status, 200);
    assert_eq!(send("POST", &life_url, &admin_key, None).await.status, 204);
    for u in [&jira, &conf, &bb] {
        assert_eq!(send("GET", u, &basic, None).await.status, 200, "{u}");
    }

    // SCIM: 401 {"error","traceId"}.
    for a in [
        &Auth::None,
        &admin_key,
        &basic,
        &Auth::Bearer("nope".into()),
    ] {
        let r = send("GET", &scim_url, a, None).await;
        assert_eq!(r.status, 401, "{a:?}");
        let v = r.json();
        assert!(v["error"].is_string() && v["traceId"].is_string(), "{v}");
    }
    // Admin: 401 gateway body; lifecycle: its documented `{"key",…}` (the gateway's body
    // behind a switch).
    for a in [&Auth::None, &scim_tok, &basic] {
        let r = send("GET", &admin_url, a, None).await;
        assert_eq!(r.status, 401, "{a:?}");
        let v = r.json();
        assert_eq!(v["status"], 401);
        assert_eq!(v["error"], "Unauthorized");
        let r = send("POST", &life_url, a, None).await;
        assert_eq!(r.status, 401, "{a:?}");
        assert_eq!(r.json()["key"], "unauthorized");
    }
    sim.configure(|o| o.lifecycle_401_gateway = true);
    let r = send("POST", &life_url, &Auth::None, None).await;
    assert_eq!(
        (r.status, &r.json()["error"]),
        (401, &json!("Unauthorized"))
    );
    sim.configure(|o| o.lifecycle_401_gateway = false);
    // The right key on another organization: 403.
    let other = format!("{}/admin/v2/orgs/someone-else/directories", sim.base_url());
    let r = send("GET", &other, &admin_key, None).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["errors"][0]["status"], 403);
    // Products: 401 in each product's format, with WWW-Authenticate.
    for (u, check) in [(&jira, "errorMessages"), (&conf, "errors"), (&bb, "error")] {
        for a in [&Auth::None, &admin_key, &scim_tok, &basic_bad] {
            let r = send("GET", u, a, None).await;
            assert_eq!(r.status, 401, "{u} {a:?}");
            assert!(r.json().get(check).is_some(), "{}", r.text);
            assert!(r.header("www-authenticate").is_some());
        }
    }
    // Malformed Authorization headers never panic.
    let r = send_raw("GET", &scim_url, &Auth::Basic("x".into(), "y".into()), None)
        .await
        .unwrap();
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn rotated_tokens_stop_working_at_once() {
    let fixed = Tokens {
        scim_token: "scim-fixed".into(),
        admin_api_key: "admin-fixed".into(),
        product_token: "product-fixed".into(),
    };
    let sim = Simulator::builder()
        .tokens(fixed.clone())
        .start()
        .await
        .unwrap();
    assert_eq!(sim.tokens(), fixed);
    assert_eq!(scim(&sim, "GET", "/Users", None).await.status, 200);
    let old = Auth::Bearer(fixed.scim_token.clone());
    let new = sim.rotate_tokens();
    assert_ne!(new, fixed);
    let url = format!("{}/Users", sim.scim_url());
    assert_eq!(send("GET", &url, &old, None).await.status, 401);
    assert_eq!(scim(&sim, "GET", "/Users", None).await.status, 200);
    // Tokens are random per instance, and Debug never shows them.
    let other = Simulator::builder().start().await.unwrap();
    assert_ne!(other.tokens(), sim.tokens());
    let dbg = format!("{:?}", sim.tokens());
    assert!(!dbg.contains(&new.scim_token) && dbg.contains("redacted"));
    let _: Value = sim.dump();
}

#[tokio::test]
async fn garbage_requests_get_error_bodies_and_the_server_keeps_running() {
    let sim = Simulator::builder().demo_org().start().await.unwrap();
    let b = sim.base_url().to_string();
    let org = sim.org_id();
    let dir = sim.directory_id();
    let scim_a = scim_auth(&sim);
    let admin_a = admin_auth(&sim);
    let prod_a = product_auth(&sim);
    let garbage: Vec<u8> = vec![0xff, 0xfe, b'{', 0];
    let cases: Vec<(&str, String, &Auth)> = vec![
        ("GET", format!("{b}/scim/directory/"), &scim_a),
        ("GET", format!("{b}/scim/directory/{dir}"), &scim_a),
        (
            "OPTIONS",
            format!("{b}/scim/directory/{dir}/Users"),
            &scim_a,
        ),
        (
            "PATCH",
            format!("{b}/scim/directory/{dir}/Users/x/extra"),
            &scim_a,
        ),
        ("POST", format!("{b}/scim/directory/{dir}/Groups"), &scim_a),
        (
            "PATCH",
            format!("{b}/scim/directory/{dir}/Groups/%FF%FE"),
            &scim_a,
        ),
        (
            "GET",
            format!(
                "{b}/scim/directory/{dir}/Users?filter=%FF%FE&count=1e9&startIndex=99999999999999999999"
            ),
            &scim_a,
        ),
        ("GET", format!("{b}/admin/v2/orgs/{org}"), &admin_a),
        (
            "POST",
            format!("{b}/admin/v2/orgs/{org}/directories/{dir}/users/search"),
            &admin_a,
        ),
        (
            "POST",
            format!("{b}/admin/v2/orgs/{org}/directories/{dir}/groups/search"),
            &admin_a,
        ),
        (
            "PUT",
            format!("{b}/admin/v2/orgs/{org}/directories/{dir}/groups/x"),
            &admin_a,
        ),
        (
            "POST",
            format!("{b}/admin/v2/orgs/{org}/directories/{dir}/groups/x/memberships"),
            &admin_a,
        ),
        (
            "GET",
            format!("{b}/admin/user-provisioning/v1/org/{org}/user"),
            &admin_a,
        ),
        ("POST", format!("{b}/users/x/manage/lifecycle"), &admin_a),
        (
            "GET",
            format!("{b}/users/x/manage/lifecycle/disable"),
            &admin_a,
        ),
        ("POST", format!("{b}/rest/api/3/project/search"), &prod_a),
        ("GET", format!("{b}/rest/api/3/myself"), &prod_a),
        ("GET", format!("{b}/wiki/api/v2/spaces?limit=-4"), &prod_a),
        ("GET", format!("{b}/2.0/repositories"), &prod_a),
        (
            "GET",
            format!("{b}/2.0/repositories/{}?page=0&pagelen=0", sim.workspace()),
            &prod_a,
        ),
        ("DELETE", format!("{b}/%FF"), &Auth::None),
        (
            "GET",
            format!(
                "{b}/rest/api/3/project/search?startAt=9223372036854775807&maxResults=9223372036854775807"
            ),
            &prod_a,
        ),
        (
            "GET",
            format!(
                "{b}/2.0/repositories/{}?page=9223372036854775807&pagelen=100",
                sim.workspace()
            ),
            &prod_a,
        ),
        (
            "GET",
            format!(
                "{b}/scim/directory/{dir}/Users?startIndex=9223372036854775807&count=9223372036854775807"
            ),
            &scim_a,
        ),
        (
            "GET",
            format!("{b}/wiki/api/v2/spaces?cursor=c3BhY2VzOjE4NDQ2NzQ0MDczNzA5NTUxNjE1"),
            &prod_a,
        ),
    ];
    for (m, url, auth) in cases {
        let r = send_raw(m, &url, auth, Some(garbage.clone()))
            .await
            .unwrap();
        assert!(
            (200..500).contains(&r.status) || r.status == 501,
            "{m} {url}: {} {}",
            r.status,
            r.text
        );
        if r.status >= 400 && m != "HEAD" {
            assert!(
                serde_json::from_str::<Value>(&r.text).is_ok(),
                "{m} {url}: {}",
                r.text
            );
        }
    }
    assert_eq!(scim(&sim, "GET", "/Users", None).await.status, 200);
}
