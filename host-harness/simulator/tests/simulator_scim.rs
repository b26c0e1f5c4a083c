//! The simulator's SCIM behaviour, over HTTP on loopback.

mod simulator_support;

use atlassian_simulator::{SeedUser, Simulator};
use serde_json::{Value, json};
use simulator_support::*;

const EXT: &str = "urn:scim:schemas:extension:atlassian-external:1.0";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[tokio::test]
async fn create_and_read_a_user_with_the_atlassian_extension() {
    let sim = Simulator::builder().start().await.unwrap();
    let r = scim(
        &sim,
        "POST",
        "/Users",
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "userName": "ada@example.com",
            "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
            "name": {"formatted": "Ada Lovelace", "givenName": "Ada", "familyName": "Lovelace"},
            "displayName": "Ada L.",
            "externalId": "idp-123",
            "active": true,
            "favouriteColour": "ignored",
            ENTERPRISE: {"department": "Engines"},
            EXT: {"atlassianAccountId": "read-only, ignored"}
        })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.header("content-type").unwrap(), "application/scim+json");
    let created = r.json();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.header("location").unwrap(),
        format!("{}/Users/{id}", sim.scim_url())
    );
    assert_eq!(created["meta"]["resourceType"], "User");
    assert!(created["meta"]["created"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        created["meta"]["location"],
        format!("{}/Users/{id}", sim.scim_url())
    );
    assert!(
        created.get("favouriteColour").is_none(),
        "unknown attributes are ignored"
    );
    assert_eq!(created[ENTERPRISE]["department"], "Engines");
    let account = created[EXT]["atlassianAccountId"].as_str().unwrap();
    assert!(account.starts_with("712020:"), "{account}");
    let schemas = created["schemas"].as_array().unwrap();
    assert!(schemas.contains(&json!(EXT)) && schemas.contains(&json!(ENTERPRISE)));

    let got = scim(&sim, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), created);

    let view = sim.user_by_email("ADA@example.com").unwrap();
    assert_eq!(view.account_id, account);
    assert_eq!(view.scim_id.as_deref(), Some(id.as_str()));
    assert_eq!(view.external_id.as_deref(), Some("idp-123"));
    assert_eq!(view.display_name, "Ada L.");
    assert!(view.active);
}

#[tokio::test]
async fn duplicate_user_name_is_a_409_uniqueness_in_any_case() {
    let sim = Simulator::builder().start().await.unwrap();
    create_user(&sim, "ada@example.com").await;
    let r = scim(
        &sim,
        "POST",
        "/Users",
        Some(json!({"userName": "ADA@EXAMPLE.COM"})),
    )
    .await;
    assert_scim_error(&r, 409, Some("uniqueness"));
    assert_eq!(sim.scim_user_count(), 1);
}

#[tokio::test]
async fn missing_user_name_and_bad_json_are_400s() {
    let sim = Simulator::builder().start().await.unwrap();
    let r = scim(&sim, "POST", "/Users", Some(json!({"displayName": "x"}))).await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    let r = send_raw(
        "POST",
        &format!("{}/Users", sim.scim_url()),
        &scim_auth(&sim),
        Some(b"{not json".to_vec()),
    )
    .await
    .unwrap();
    assert_scim_error(&r, 400, Some("invalidSyntax"));
    let r = scim(&sim, "POST", "/Users", Some(json!([1, 2]))).await;
    assert_scim_error(&r, 400, Some("invalidSyntax"));
    let r = scim(&sim, "POST", "/Users", Some(json!({"userName": 42}))).await;
    assert_scim_error(&r, 400, Some("invalidValue"));
}

#[tokio::test]
async fn verified_domains_refuse_other_emails() {
    let sim = Simulator::builder()
        .options(|o| o.verified_domains = vec!["example.com".into()])
        .start()
        .await
        .unwrap();
    let r = scim(
        &sim,
        "POST",
        "/Users",
        Some(json!({"userName": "x@elsewhere.org"})),
    )
    .await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    create_user(&sim, "x@example.com").await;
}

async fn find(sim: &Simulator, filter: &str) -> Value {
    let r = scim(
        sim,
        "GET",
        &format!("/Users?{}", filter_query(filter)),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{filter}: {}", r.text);
    r.json()
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[tokio::test]
async fn eq_filters_round_trip_escaped_values() {
    let mut b = Simulator::builder();
    let emails = ["o'neil@example.com", "a+b@example.com", "zoë@exämple.com"];
    let externals = [r#"has "quotes""#, r"back\slash", "with  spaces"];
    for (e, x) in emails.iter().zip(externals) {
        b = b.user(SeedUser::new(e).external_id(x));
    }
    b = b.user(SeedUser::new("plain@example.com").external_id("plain"));
    let sim = b.start().await.unwrap();
    for e in emails {
        let v = find(&sim, &format!("userName eq {}", quote(e))).await;
        assert_eq!(v["totalResults"], 1, "{e}");
        assert_eq!(v["Resources"][0]["userName"], e);
    }
    for (e, x) in emails.iter().zip(externals) {
        let v = find(&sim, &format!("externalId eq {}", quote(x))).await;
        assert_eq!(v["totalResults"], 1, "{x}");
        assert_eq!(v["Resources"][0]["userName"], *e);
    }
    // userName compares case-insensitively, externalId exactly.
    let v = find(&sim, "userName eq \"PLAIN@EXAMPLE.COM\"").await;
    assert_eq!(v["totalResults"], 1);
    let v = find(&sim, "externalId eq \"PLAIN\"").await;
    assert_eq!(v["totalResults"], 0);
    assert_eq!(v["Resources"], json!([]));
    // The exact wire form of the API notes.
    let r = scim(
        &sim,
        "GET",
        "/Users?filter=userName%20eq%20%22a%2Bb%40example.com%22",
        None,
    )
    .await;
    assert_eq!(r.json()["totalResults"], 1);
}

#[tokio::test]
async fn unsupported_filters_are_400_invalid_filter_never_empty() {
    let sim = Simulator::builder().users(2).start().await.unwrap();
    for f in [
        "userName co \"user\"",
        "userName sw \"user\"",
        "userName eq \"user1@example.com\" and externalId eq \"idp-1\"",
        "userName eq \"a\" or userName eq \"b\"",
        "emails.value eq \"user1@example.com\"",
        "displayName eq \"User 1\"",
        "userName eq user1",
        "userName pr",
        "userName eq \"unterminated",
        "(userName eq \"a\")",
    ] {
        let r = scim(&sim, "GET", &format!("/Users?{}", filter_query(f)), None).await;
        assert_scim_error(&r, 400, Some("invalidFilter"));
    }
    let r = scim(
        &sim,
        "GET",
        &format!("/Groups?{}", filter_query("displayName co \"x\"")),
        None,
    )
    .await;
    assert_scim_error(&r, 400, Some("invalidFilter"));
    let r = scim(
        &sim,
        "GET",
        &format!("/Groups?{}", filter_query("userName eq \"x\"")),
        None,
    )
    .await;
    assert_scim_error(&r, 400, Some("invalidFilter"));
}

async fn page(sim: &Simulator, start: usize, count: usize) -> Value {
    let r = scim(
        sim,
        "GET",
        &format!("/Users?startIndex={start}&count={count}"),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

#[tokio::test]
async fn paging_is_one_based_and_caps_the_count_at_the_server_page_size() {
    let sim = Simulator::builder()
        .users(250)
        .scim_page_size(100)
        .start()
        .await
        .unwrap();
    let first = page(&sim, 1, 500).await;
    assert_eq!(
        first["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(first["totalResults"], 250);
    assert_eq!(first["startIndex"], 1);
    assert_eq!(first["itemsPerPage"], 100, "a larger count is ignored");
    assert_eq!(first["Resources"].as_array().unwrap().len(), 100);
    assert_eq!(first["Resources"][0]["userName"], "user1@example.com");
    let mut seen = std::collections::BTreeSet::new();
    let mut start = 1;
    loop {
        let p = page(&sim, start, 1000).await;
        let got = p["Resources"].as_array().unwrap();
        if got.is_empty() {
            break;
        }
        for u in got {
            seen.insert(u["id"].as_str().unwrap().to_string());
        }
        start += got.len();
        if start > 250 {
            break;
        }
    }
    assert_eq!(seen.len(), 250);
    let last = page(&sim, 201, 100).await;
    assert_eq!(last["itemsPerPage"], 50, "short last page");
    let past = page(&sim, 251, 100).await;
    assert_eq!(past["itemsPerPage"], 0);
    assert_eq!(past["Resources"], json!([]));
    assert_eq!(past["totalResults"], 250);
    let small = page(&sim, 3, 2).await;
    assert_eq!(small["Resources"][0]["userName"], "user3@example.com");
    let zero = page(&sim, 1, 0).await;
    assert_eq!(zero["itemsPerPage"], 0);
    // No count: the server page size. Bad numbers: 400, never a panic.
    let r = scim(&sim, "GET", "/Users", None).await;
    assert_eq!(r.json()["itemsPerPage"], 100);
    let r = scim(&sim, "GET", "/Users?startIndex=abc", None).await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    let r = scim(&sim, "GET", "/Users?startIndex=-5&count=-1", None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn exact_multiple_of_the_page_size_ends_on_an_empty_page() {
    let sim = Simulator::builder()
        .users(200)
        .scim_page_size(100)
        .start()
        .await
        .unwrap();
    assert_eq!(page(&sim, 101, 100).await["itemsPerPage"], 100);
    let empty = page(&sim, 201, 100).await;
    assert_eq!(empty["itemsPerPage"], 0);
}

#[tokio::test]
async fn put_replaces_every_attribute_but_leaves_active_alone_when_absent() {
    let sim = Simulator::builder().start().await.unwrap();
    let u = create_user(&sim, "ada@example.com").await;
    let id = u["id"].as_str().unwrap();
    let r = scim(
        &sim,
        "PUT",
        &format!("/Users/{id}"),
        Some(json!({"userName": "ada@example.com", "title": "Countess"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["title"], "Countess");
    assert!(
        v.get("displayName").is_none(),
        "PUT clears unspecified attributes"
    );
    assert!(v.get("name").is_none());
    assert_eq!(v["active"], true);
    assert_eq!(v["id"], id);
    let r = scim(&sim, "PUT", "/Users/nope", Some(json!({"userName": "x"}))).await;
    assert_scim_error(&r, 404, None);
}

#[tokio::test]
async fn patch_active_deactivates_and_restores_everywhere() {
    let sim = Simulator::builder().start().await.unwrap();
    let u = create_user(&sim, "ada@example.com").await;
    let id = u["id"].as_str().unwrap();
    let patch = |v: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": v}]});
    let r = scim(
        &sim,
        "PATCH",
        &format!("/Users/{id}"),
        Some(patch(json!(false))),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["active"], false);
    assert_eq!(
        scim(&sim, "GET", &format!("/Users/{id}"), None)
            .await
            .json()["active"],
        false
    );
    let acc = sim.user_by_email("ada@example.com").unwrap().account_id;
    let a = admin_dir(&sim, "GET", &format!("/users/{}", seg(&acc)), None).await;
    assert_eq!(a.json()["data"]["status"], "deactivated");
    // A string is not a boolean.
    let r = scim(
        &sim,
        "PATCH",
        &format!("/Users/{id}"),
        Some(patch(json!("True"))),
    )
    .await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    let r = scim(
        &sim,
        "PATCH",
        &format!("/Users/{id}"),
        Some(patch(json!(true))),
    )
    .await;
    assert_eq!(r.json()["active"], true);
    assert!(sim.user_by_email("ada@example.com").unwrap().active);
}

#[tokio::test]
async fn patch_paths_values_and_errors() {
    let sim = Simulator::builder().start().await.unwrap();
    let u = create_user(&sim, "ada@example.com").await;
    let url = format!("/Users/{}", u["id"].as_str().unwrap());
    let ops = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let r = scim(
        &sim,
        "PATCH",
        &url,
        Some(ops(json!([
            {"op": "replace", "path": "name.givenName", "value": "Augusta"},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "augusta@example.com"},
            {"op": "add", "path": format!("{ENTERPRISE}:department"), "value": "Maths"},
            {"op": "replace", "value": {"displayName": "A. Ada", "title": "Countess"}},
            {"op": "remove", "path": "title"}
        ]))),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["name"]["givenName"], "Augusta");
    assert_eq!(v["name"]["familyName"], "User", "other sub-attributes stay");
    assert_eq!(v["emails"][0]["value"], "augusta@example.com");
    assert_eq!(v[ENTERPRISE]["department"], "Maths");
    assert_eq!(v["displayName"], "A. Ada");
    assert!(v.get("title").is_none());
    assert_eq!(
        sim.user_by_email("augusta@example.com")
            .unwrap()
            .display_name,
        "A. Ada"
    );
    for (body, t) in [
        (ops(json!([{"op": "remove"}])), "noTarget"),
        (
            ops(json!([{"op": "jump", "path": "title", "value": 1}])),
            "invalidSyntax",
        ),
        (
            ops(json!([{"op": "replace", "path": "id", "value": "x"}])),
            "mutability",
        ),
        (
            ops(json!([{"op": "replace", "path": "groups", "value": []}])),
            "mutability",
        ),
        (
            ops(
                json!([{"op": "replace", "path": format!("{EXT}:atlassianAccountId"), "value": "x"}]),
            ),
            "mutability",
        ),
        (
            ops(json!([{"op": "remove", "path": "userName"}])),
            "invalidValue",
        ),
        (
            ops(json!([{"op": "replace", "path": "emails[type sw \"w\"].value", "value": "x"}])),
            "invalidFilter",
        ),
        (
            json!({"schemas": ["wrong"], "Operations": []}),
            "invalidSyntax",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}),
            "invalidSyntax",
        ),
    ] {
        let r = scim(&sim, "PATCH", &url, Some(body.clone())).await;
        assert_scim_error(&r, 400, Some(t));
    }
    let r = scim(&sim, "PATCH", "/Users/missing", Some(ops(json!([])))).await;
    assert_scim_error(&r, 404, None);
}

#[tokio::test]
async fn account_id_can_be_absent_on_the_first_read_after_creation() {
    let sim = Simulator::builder()
        .account_id_pending(true)
        .start()
        .await
        .unwrap();
    let created = create_user(&sim, "ada@example.com").await;
    assert!(created.get(EXT).is_none(), "{created}");
    assert!(!created["schemas"].as_array().unwrap().contains(&json!(EXT)));
    let url = format!("/Users/{}", created["id"].as_str().unwrap());
    let first = scim(&sim, "GET", &url, None).await.json();
    assert!(first.get(EXT).is_none());
    let second = scim(&sim, "GET", &url, None).await.json();
    assert_eq!(
        second[EXT]["atlassianAccountId"],
        sim.user_by_email("ada@example.com").unwrap().account_id
    );
}

#[tokio::test]
async fn delete_removes_the_record_and_synced_memberships_and_deactivates_the_account() {
    let sim = Simulator::builder()
        .user(SeedUser::new("ada@example.com"))
        .user(SeedUser::new("bob@example.com"))
        .synced_group("engineering", &["ada@example.com", "bob@example.com"])
        .admin_group("jira-users", &["ada@example.com"])
        .start()
        .await
        .unwrap();
    let before = sim.user_by_email("ada@example.com").unwrap();
    let id = before.scim_id.clone().unwrap();
    let r = scim(&sim, "DELETE", &format!("/Users/{id}"), None).await;
    assert_eq!(r.status, 204);
    assert!(r.text.is_empty());
    assert_scim_error(
        &scim(&sim, "GET", &format!("/Users/{id}"), None).await,
        404,
        None,
    );
    assert_scim_error(
        &scim(&sim, "DELETE", &format!("/Users/{id}"), None).await,
        404,
        None,
    );
    assert_eq!(sim.group_members("engineering"), vec!["bob@example.com"]);
    assert_eq!(
        sim.group_members("jira-users"),
        vec!["ada@example.com"],
        "admin groups untouched"
    );
    let after = sim.user_by_email("ada@example.com").unwrap();
    assert_eq!(after.scim_id, None);
    assert!(!after.active, "the account is deactivated, not removed");
    // Only a new POST brings the person back, linked to the same account.
    let again = create_user(&sim, "ada@example.com").await;
    assert_ne!(again["id"], json!(id));
    assert_eq!(again[EXT]["atlassianAccountId"], before.account_id);
    assert!(sim.user_by_email("ada@example.com").unwrap().active);
}

#[tokio::test]
async fn delete_can_be_a_plain_deactivation_as_older_documents_say() {
    let sim = Simulator::builder()
        .user(SeedUser::new("ada@example.com"))
        .options(|o| o.delete_deactivates_only = true)
        .start()
        .await
        .unwrap();
    let id = sim
        .user_by_email("ada@example.com")
        .unwrap()
        .scim_id
        .unwrap();
    assert_eq!(
        scim(&sim, "DELETE", &format!("/Users/{id}"), None)
            .await
            .status,
        204
    );
    let v = scim(&sim, "GET", &format!("/Users/{id}"), None).await;
    assert_eq!(v.status, 200);
    assert_eq!(v.json()["active"], false);
}

#[tokio::test]
async fn groups_crud_and_membership_patches() {
    let sim = Simulator::builder()
        .user(SeedUser::new("a@example.com"))
        .user(SeedUser::new("b@example.com"))
        .user(SeedUser::new("c@example.com"))
        .start()
        .await
        .unwrap();
    let ids: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|n| {
            sim.user_by_email(&format!("{n}@example.com"))
                .unwrap()
                .scim_id
                .unwrap()
        })
        .collect();
    let r = scim(
        &sim,
        "POST",
        "/Groups",
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering",
                     "members": [{"value": ids[0]}]})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let g = r.json();
    let gid = g["id"].as_str().unwrap().to_string();
    assert_eq!(g["members"][0]["value"], ids[0]);
    assert_eq!(g["meta"]["resourceType"], "Group");
    let dup = scim(
        &sim,
        "POST",
        "/Groups",
        Some(json!({"displayName": "engineering"})),
    )
    .await;
    assert_scim_error(&dup, 409, Some("uniqueness"));
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let url = format!("/Groups/{gid}");
    let r = scim(&sim, "PATCH", &url, Some(patch(json!([{"op": "add", "path": "members", "value": [{"value": ids[1]}, {"value": ids[2]}, {"value": ids[0]}]}])))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["members"].as_array().unwrap().len(), 3);
    // Filtered remove: exactly that member goes.
    let path = format!("members[value eq \"{}\"]", ids[1]);
    let r = scim(
        &sim,
        "PATCH",
        &url,
        Some(patch(json!([{"op": "remove", "path": path}]))),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        sim.group_members("engineering"),
        vec!["a@example.com", "c@example.com"]
    );
    // Removing a non-member changes nothing.
    let r = scim(
        &sim,
        "PATCH",
        &url,
        Some(patch(json!([{"op": "remove", "path": path}]))),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(sim.group_members("engineering").len(), 2);
    // The group shows in the user's groups.
    let u = scim(&sim, "GET", &format!("/Users/{}", ids[0]), None)
        .await
        .json();
    assert_eq!(u["groups"][0]["value"], gid);
    assert_eq!(u["groups"][0]["display"], "Engineering");
    // An unknown member is refused; a rename is refused.
    let r = scim(
        &sim,
        "PATCH",
        &url,
        Some(patch(
            json!([{"op": "add", "path": "members", "value": [{"value": "ghost"}]}]),
        )),
    )
    .await;
    assert_scim_error(&r, 400, Some("invalidValue"));
    let r = scim(
        &sim,
        "PATCH",
        &url,
        Some(patch(
            json!([{"op": "replace", "path": "displayName", "value": "Other"}]),
        )),
    )
    .await;
    assert_scim_error(&r, 400, Some("mutability"));
    // Filter by displayName, case-insensitively; members inline.
    let r = scim(
        &sim,
        "GET",
        &format!("/Groups?{}", filter_query("displayName eq \"ENGINEERING\"")),
        None,
    )
    .await;
    let v = r.json();
    assert_eq!(v["totalResults"], 1);
    assert_eq!(v["Resources"][0]["members"].as_array().unwrap().len(), 2);
    // A bare remove of members empties the group (why the connector must never send one).
    let r = scim(
        &sim,
        "PATCH",
        &url,
        Some(patch(
            json!([{"op": "remove", "path": "members", "value": [{"value": ids[0]}]}]),
        )),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(sim.group_members("engineering").is_empty());
    // PUT replaces the members.
    let r = scim(
        &sim,
        "PUT",
        &url,
        Some(json!({"displayName": "Engineering", "members": [{"value": ids[2]}]})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(sim.group_members("engineering"), vec!["c@example.com"]);
    assert_eq!(scim(&sim, "DELETE", &url, None).await.status, 204);
    assert_scim_error(&scim(&sim, "GET", &url, None).await, 404, None);
    assert!(sim.group_by_name("engineering").is_none());
}

#[tokio::test]
async fn scim_lists_only_groups_synced_from_the_identity_provider() {
    let sim = Simulator::builder().demo_org().start().await.unwrap();
    let v = scim(&sim, "GET", "/Groups", None).await.json();
    let names: Vec<&str> = v["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["engineering", "research"]);
    let v = scim(&sim, "GET", "/Groups?excludedAttributes=members", None)
        .await
        .json();
    assert!(v["Resources"][0].get("members").is_none());
}

/// RFC 7644 §3.4.2.5 on users: `excludedAttributes` leaves what it names out of a listing and
/// a read, `attributes` keeps only what it names; `id` and `schemas` always come back.
#[tokio::test]
async fn scim_user_reads_honour_attributes_and_excluded_attributes() {
    let sim = Simulator::builder().demo_org().start().await.unwrap();
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let full = scim(&sim, "GET", "/Users?count=1", None).await.json();
    let full = &full["Resources"][0];
    for attr in ["groups", "meta", "emails", "name", "userName", "active"] {
        assert!(full.get(attr).is_some(), "{attr} in {full}");
    }
    let url = "/Users?count=1&excludedAttributes=groups,META,emails,name";
    let trimmed = scim(&sim, "GET", url, None).await.json();
    let trimmed = &trimmed["Resources"][0];
    let mut expected: Vec<String> = keys(full)
        .into_iter()
        .filter(|k| !["groups", "meta", "emails", "name"].contains(&k.as_str()))
        .collect();
    expected.sort();
    assert_eq!(keys(trimmed), expected);
    for attr in expected {
        assert_eq!(trimmed[&attr], full[&attr], "{attr}");
    }
    let id = full["id"].as_str().unwrap();
    let one = scim(
        &sim,
        "GET",
        &format!("/Users/{id}?attributes=userName"),
        None,
    )
    .await
    .json();
    assert_eq!(keys(&one), ["id", "schemas", "userName"]);
}

#[tokio::test]
async fn scim_group_reads_honour_projections_and_list_as_they_read_alone() {
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let sim = Simulator::builder()
        .user(SeedUser::new("a@example.com"))
        .user(SeedUser::new("b@example.com"))
        .start()
        .await
        .unwrap();
    let ids: Vec<String> = ["a", "b"]
        .iter()
        .map(|n| {
            let u = sim.user_by_email(&format!("{n}@example.com")).unwrap();
            u.scim_id.unwrap()
        })
        .collect();
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                      "displayName": "Engineering", "externalId": "idp-eng",
                      "members": [{"value": ids[0]}, {"value": ids[1]}]});
    let created = scim(&sim, "POST", "/Groups", Some(body)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let gid = created.json()["id"].as_str().unwrap().to_string();
    let alone = scim(&sim, "GET", &format!("/Groups/{gid}"), None).await;
    let page = scim(&sim, "GET", "/Groups", None).await;
    assert!(
        page.text
            .contains(r#"[{"displayName":"Engineering","externalId":"idp-eng","id":"#),
        "a page writes a group's keys in sorted order, as a read does: {}",
        page.text
    );
    assert_eq!(
        page.json()["Resources"][0],
        alone.json(),
        "a page renders a group as a read"
    );
    let g = alone.json();
    let expected = [
        "displayName",
        "externalId",
        "id",
        "members",
        "meta",
        "schemas",
    ];
    assert_eq!(keys(&g), expected);
    let mut members = g["members"].as_array().unwrap().clone();
    members.sort_by_key(|m| m["display"].as_str().unwrap().to_string());
    for (m, (name, id)) in members.iter().zip(["a", "b"].iter().zip(&ids)) {
        let want = json!({"$ref": format!("{}/Users/{id}", sim.scim_url()),
                          "display": format!("{name}@example.com"), "type": "User",
                          "value": id});
        assert_eq!(m, &want);
    }
    assert_eq!(
        g["meta"]["location"],
        format!("{}/Groups/{gid}", sim.scim_url())
    );
    let without = scim(&sim, "GET", "/Groups?excludedAttributes=members,meta", None)
        .await
        .json();
    let without = &without["Resources"][0];
    assert_eq!(
        keys(without),
        ["displayName", "externalId", "id", "schemas"]
    );
    let only = scim(
        &sim,
        "GET",
        &format!("/Groups/{gid}?attributes=members.value"),
        None,
    )
    .await
    .json();
    assert_eq!(
        keys(&only),
        ["id", "members", "schemas"],
        "a sub-attribute keeps its parent"
    );
}

#[tokio::test]
async fn discovery_documents() {
    let sim = Simulator::builder()
        .scim_page_size(100)
        .start()
        .await
        .unwrap();
    let spc = scim(&sim, "GET", "/ServiceProviderConfig", None).await;
    assert_eq!(spc.status, 200);
    let spc = spc.json();
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["sort"]["supported"], false);
    assert_eq!(spc["etag"]["supported"], false);
    assert_eq!(spc["filter"]["maxResults"], 100);
    let schemas = scim(&sim, "GET", "/Schemas", None).await.json();
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:User"));
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:Group"));
    assert!(ids.contains(&EXT));
    let one = scim(&sim, "GET", &format!("/Schemas/{EXT}"), None)
        .await
        .json();
    assert_eq!(one["attributes"][0]["name"], "atlassianAccountId");
    assert_eq!(one["attributes"][0]["mutability"], "readOnly");
    let rts = scim(&sim, "GET", "/ResourceTypes", None).await.json();
    assert_eq!(rts["totalResults"], 2);
    let user = scim(&sim, "GET", "/ResourceTypes/User", None).await.json();
    assert_eq!(user["endpoint"], "/Users");
    assert_scim_error(
        &scim(&sim, "GET", "/ResourceTypes/Nope", None).await,
        404,
        None,
    );
}

#[tokio::test]
async fn resource_type_can_be_upper_case() {
    let sim = Simulator::builder()
        .options(|o| o.resource_type_upper = true)
        .start()
        .await
        .unwrap();
    let u = create_user(&sim, "a@example.com").await;
    assert_eq!(u["meta"]["resourceType"], "USER");
}

#[tokio::test]
async fn error_bodies_for_unknown_things() {
    let sim = Simulator::builder().start().await.unwrap();
    assert_scim_error(&scim(&sim, "GET", "/Users/nope", None).await, 404, None);
    assert_scim_error(&scim(&sim, "GET", "/Nothing", None).await, 404, None);
    assert_scim_error(&scim(&sim, "DELETE", "/Users", None).await, 405, None);
    assert_scim_error(
        &scim(&sim, "POST", "/Bulk", Some(json!({}))).await,
        501,
        None,
    );
    // A wrong directory id answers 404, naming the directory.
    let url = format!("{}/scim/directory/wrong-dir/Users", sim.base_url());
    let r = send("GET", &url, &scim_auth(&sim), None).await;
    assert_scim_error(&r, 404, None);
    assert!(r.json()["detail"].as_str().unwrap().contains("wrong-dir"));
    // Unknown API paths: 404 too, never a panic.
    let r = send(
        "GET",
        &format!("{}/whatever", sim.base_url()),
        &Auth::None,
        None,
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn excluded_members_are_left_out_of_group_reads_and_patch_answers() {
    let sim = Simulator::builder()
        .user(SeedUser::new("a@example.com"))
        .user(SeedUser::new("b@example.com"))
        .synced_group("Big", &["a@example.com"])
        .start()
        .await
        .unwrap();
    let b = sim.user_by_email("b@example.com").unwrap().scim_id.unwrap();
    let filter = "/Groups?filter=displayName%20eq%20%22big%22";
    let with = scim(&sim, "GET", filter, None).await.json();
    assert_eq!(with["Resources"][0]["members"].as_array().unwrap().len(), 1);
    let without = scim(
        &sim,
        "GET",
        &format!("{filter}&excludedAttributes=members"),
        None,
    )
    .await
    .json();
    let group = &without["Resources"][0];
    assert!(group.get("members").is_none(), "{group}");
    let gid = group["id"].as_str().unwrap().to_string();
    // A membership PATCH asking for no members answers with the group without them, and
    // changes the membership exactly as one without the parameter does.
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    let url = format!("/Groups/{gid}?excludedAttributes=members");
    let r = scim(
        &sim,
        "PATCH",
        &url,
        Some(patch(
            json!([{"op": "add", "path": "members", "value": [{"value": b}]}]),
        )),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json().get("members").is_none(), "{}", r.text);
    assert_eq!(r.json()["displayName"], "Big");
    assert_eq!(
        sim.group_members("Big"),
        vec!["a@example.com", "b@example.com"]
    );
    let path = format!("members[value eq \"{b}\"]");
    let r = scim(
        &sim,
        "PATCH",
        &url,
        Some(patch(json!([{"op": "remove", "path": path}]))),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(sim.group_members("Big"), vec!["a@example.com"]);
    // An unknown member still takes the general path and its 400.
    let r = scim(
        &sim,
        "PATCH",
        &url,
        Some(patch(
            json!([{"op": "add", "path": "members", "value": [{"value": "nobody"}]}]),
        )),
    )
    .await;
    assert_scim_error(&r, 400, Some("invalidValue"));
}

#[tokio::test]
async fn a_listed_user_is_written_as_the_user_read_alone() {
    // A listing page is written straight from the state, a single read through a JSON tree:
    // both give the same bytes, whichever attributes are asked for.
    let sim = Simulator::builder().start().await.unwrap();
    let r = scim(
        &sim,
        "POST",
        "/Users",
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "userName": "ada@example.com",
            "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "displayName": "Ada L.",
            "externalId": "idp-123",
            ENTERPRISE: {"department": "Engines"}
        })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_string();
    create_user(&sim, "grace@example.com").await;
    let r = scim(
        &sim,
        "POST",
        "/Groups",
        Some(json!({"displayName": "engines", "members": [{"value": id}]})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    for query in [
        "",
        "excludedAttributes=groups,meta,emails,name",
        "attributes=userName",
    ] {
        let one = scim(&sim, "GET", &format!("/Users/{id}?{query}"), None).await;
        let list = scim(&sim, "GET", &format!("/Users?count=10&{query}"), None).await;
        assert_eq!((one.status, list.status), (200, 200), "{query}");
        assert!(
            list.text.contains(&one.text),
            "{query}: {} in {}",
            one.text,
            list.text
        );
        let page = list.json();
        let listed = page["Resources"].as_array().unwrap();
        assert_eq!(listed.len(), 2, "{query}");
        assert_eq!(listed[0], one.json(), "{query}");
        assert_eq!(
            (page["totalResults"].clone(), page["itemsPerPage"].clone()),
            (json!(2), json!(2))
        );
        assert_eq!(page["startIndex"], 1);
        assert_eq!(
            page["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
        );
    }
    let v = scim(&sim, "GET", "/Users?count=10", None).await.json();
    assert_eq!(v["Resources"][0]["groups"][0]["display"], "engines");
    assert_eq!(v["Resources"][0][ENTERPRISE]["department"], "Engines");
}
