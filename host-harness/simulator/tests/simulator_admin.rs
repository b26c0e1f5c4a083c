//! The simulator's Admin API v2, lifecycle and SCIM-link behaviour, and the consistency of
//! the SCIM and admin views of one model.

mod simulator_support;

use atlassian_simulator::{SeedUser, Simulator};
use serde_json::{Value, json};
use simulator_support::*;

async fn org() -> Simulator {
    Simulator::builder()
        .user(SeedUser::new("ada@example.com").name("Ada Lovelace"))
        .user(SeedUser::new("bob@example.com").name("Bob B"))
        .user(SeedUser::new("cy@example.com").name("Cy C"))
        .user(SeedUser::new("dee@example.com").without_scim())
        .user(SeedUser::new("eve@example.com").inactive())
        .synced_group("engineering", &["ada@example.com", "bob@example.com"])
        .admin_group("Jira-Users", &["ada@example.com"])
        .start()
        .await
        .unwrap()
}

fn acc(sim: &Simulator, email: &str) -> String {
    sim.user_by_email(email).unwrap().account_id
}

fn assert_admin_error(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    let v = r.json();
    let e = &v["errors"][0];
    assert_eq!(e["code"], code, "{}", r.text);
    assert_eq!(e["status"], status);
    assert!(e["id"].is_string() && e["title"].is_string() && e["detail"].is_string());
}

#[tokio::test]
async fn directories_are_listed() {
    let sim = org().await;
    let r = admin(&sim, "GET", "/directories", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"][0]["directoryId"], sim.directory_id());
}

#[tokio::test]
async fn user_search_by_email_and_account_id_with_groups() {
    let sim = org().await;
    let r = admin_dir(
        &sim,
        "POST",
        "/users/search",
        Some(json!({"emails": ["ADA@example.com"], "expand": ["groups"]})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    let u = &v["data"][0];
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    assert_eq!(u["accountId"], acc(&sim, "ada@example.com"));
    assert_eq!(u["email"], "ada@example.com");
    assert_eq!(u["name"], "Ada Lovelace");
    assert_eq!(u["status"], "active");
    let groups: Vec<&str> = u["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(groups, vec!["engineering", "Jira-Users"]);
    let r = admin(
        &sim,
        "POST",
        "/directories/-/users/search",
        Some(json!({"accountIds": [acc(&sim, "eve@example.com")]})),
    )
    .await;
    let v = r.json();
    assert_eq!(v["data"][0]["status"], "deactivated");
    assert!(
        v["data"][0].get("groups").is_none(),
        "groups only with expand"
    );
    let r = admin_dir(
        &sim,
        "GET",
        &format!("/users/{}", seg(&acc(&sim, "dee@example.com"))),
        None,
    )
    .await;
    assert_eq!(r.json()["data"]["managementSource"], "org");
    assert_admin_error(
        &admin_dir(&sim, "GET", "/users/nobody", None).await,
        404,
        "ADMIN-404",
    );
}

#[tokio::test]
async fn cursor_paging_and_limits() {
    let sim = Simulator::builder().users(45).start().await.unwrap();
    let r = admin_dir(&sim, "POST", "/users/search", Some(json!({}))).await;
    let v = r.json();
    assert_eq!(v["data"].as_array().unwrap().len(), 20, "default page 20");
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let mut body = json!({"limit": 7});
        if let Some(c) = &cursor {
            body["cursor"] = json!(c);
        }
        let v = admin_dir(&sim, "POST", "/users/search", Some(body))
            .await
            .json();
        for u in v["data"].as_array().unwrap() {
            seen.push(u["email"].as_str().unwrap().to_string());
        }
        match v["links"]["next"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 45);
    assert_eq!(seen[44], "user45@example.com");
    assert_admin_error(
        &admin_dir(&sim, "POST", "/users/search", Some(json!({"limit": 101}))).await,
        400,
        "ADMIN-400",
    );
    assert_admin_error(
        &admin_dir(
            &sim,
            "POST",
            "/users/search",
            Some(json!({"cursor": "garbage!"})),
        )
        .await,
        400,
        "ADMIN-400",
    );
    assert_admin_error(
        &admin_dir(
            &sim,
            "POST",
            "/users/search",
            Some(json!({"emails": "not-a-list"})),
        )
        .await,
        400,
        "ADMIN-400",
    );
    // A server cap below the requested limit.
    sim.configure(|o| o.admin_page_size = 10);
    let v = admin_dir(&sim, "POST", "/users/search", Some(json!({"limit": 100})))
        .await
        .json();
    assert_eq!(v["data"].as_array().unwrap().len(), 10);
    assert!(v["links"]["next"].is_string());
}

#[tokio::test]
async fn workspaces_page_by_cursor_alone_across_sites() {
    let sim = org().await;
    let added = sim.add_site("globex");
    assert_eq!(added.len(), 3);
    let v = admin(&sim, "POST", "/workspaces", None).await.json();
    assert_eq!(v["data"].as_array().unwrap().len(), 6, "default page 20");
    assert!(v["links"]["next"].is_null());
    let mut body = json!({"limit": 4});
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let r = admin(&sim, "POST", "/workspaces", Some(body)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let v = r.json();
        pages += 1;
        for w in v["data"].as_array().unwrap() {
            seen.push((
                w["id"].as_str().unwrap().to_string(),
                w["attributes"]["name"].as_str().unwrap().to_string(),
            ));
        }
        match v["links"]["next"].as_str() {
            Some(n) => body = json!({"cursor": n}),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    let ids: Vec<String> = seen.iter().map(|(id, _)| id.clone()).collect();
    let want: Vec<String> = sim.workspaces().into_iter().map(|w| w.id).collect();
    assert_eq!(ids, want);
    assert_eq!(ids[3..], added[..]);
    assert_eq!(seen[5].1, "globex");
    let first = admin(&sim, "POST", "/workspaces", Some(json!({"limit": 4})))
        .await
        .json();
    let next = first["links"]["next"].as_str().unwrap().to_string();
    for bad in [
        json!({"cursor": next, "limit": 4}),
        json!({"cursor": "garbage!"}),
        json!({"cursor": "0:0"}),
        json!({"limit": 0}),
        json!({"limit": 1001}),
    ] {
        assert_admin_error(
            &admin(&sim, "POST", "/workspaces", Some(bad)).await,
            400,
            "ADMIN-400",
        );
    }
}

#[tokio::test]
async fn group_search_is_exact_and_case_insensitive_and_get_group_works() {
    let sim = org().await;
    let r = admin_dir(
        &sim,
        "POST",
        "/groups/search",
        Some(json!({"groupNames": ["jira-users", "ENGINEERING", "jira"]})),
    )
    .await;
    let v = r.json();
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    let eng = data.iter().find(|g| g["name"] == "engineering").unwrap();
    assert_eq!(eng["externalSynced"], true);
    assert_eq!(eng["managedBy"], "external");
    assert_eq!(eng["managementAccess"]["modifiable"], false);
    assert_eq!(eng["counts"]["users"], 2);
    assert_eq!(eng["directoryId"], sim.directory_id());
    let jira = data.iter().find(|g| g["name"] == "Jira-Users").unwrap();
    assert_eq!(jira["managedBy"], "admins");
    assert_eq!(jira["externalSynced"], false);
    let id = jira["id"].as_str().unwrap();
    let g = admin(&sim, "GET", &format!("/directories/-/groups/{id}"), None).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.json()["data"]["name"], "Jira-Users");
    assert_admin_error(
        &admin_dir(&sim, "GET", "/groups/nope", None).await,
        404,
        "ADMIN-404",
    );
    assert_admin_error(
        &admin(&sim, "GET", "/directories/other/groups/nope", None).await,
        404,
        "ADMIN-404",
    );
}

async fn group_id(sim: &Simulator, name: &str) -> String {
    sim.group_by_name(name).unwrap().admin_id
}

#[tokio::test]
async fn membership_add_and_remove_on_admin_groups() {
    let sim = org().await;
    let gid = group_id(&sim, "jira-users").await;
    let bob = acc(&sim, "bob@example.com");
    let r = admin_dir(
        &sim,
        "POST",
        &format!("/groups/{gid}/memberships"),
        Some(json!({"accountId": bob})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        sim.group_members("jira-users"),
        vec!["ada@example.com", "bob@example.com"]
    );
    let r = admin_dir(
        &sim,
        "DELETE",
        &format!("/groups/{gid}/memberships/{}", seg(&bob)),
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(sim.group_members("jira-users"), vec!["ada@example.com"]);
    // Unencoded ':' in the path works as well.
    let ada = acc(&sim, "ada@example.com");
    let r = admin_dir(
        &sim,
        "DELETE",
        &format!("/groups/{gid}/memberships/{ada}"),
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    assert!(sim.group_members("jira-users").is_empty());
    // Writes need the real directory id; bad bodies and unknown accounts are refused.
    let r = admin(
        &sim,
        "POST",
        &format!("/directories/-/groups/{gid}/memberships"),
        Some(json!({"accountId": bob})),
    )
    .await;
    assert_admin_error(&r, 400, "ADMIN-400");
    let r = admin_dir(
        &sim,
        "POST",
        &format!("/groups/{gid}/memberships"),
        Some(json!({})),
    )
    .await;
    assert_admin_error(&r, 400, "ADMIN-400");
    let r = admin_dir(
        &sim,
        "POST",
        &format!("/groups/{gid}/memberships"),
        Some(json!({"accountId": "ghost"})),
    )
    .await;
    assert_admin_error(&r, 404, "ADMIN-404");
}

#[tokio::test]
async fn synced_groups_refuse_admin_writes() {
    let sim = org().await;
    let gid = group_id(&sim, "engineering").await;
    let cy = acc(&sim, "cy@example.com");
    let r = admin_dir(
        &sim,
        "POST",
        &format!("/groups/{gid}/memberships"),
        Some(json!({"accountId": cy})),
    )
    .await;
    assert_admin_error(&r, 403, "ADMIN-UAM-403-1");
    let ada = acc(&sim, "ada@example.com");
    let r = admin_dir(
        &sim,
        "DELETE",
        &format!("/groups/{gid}/memberships/{}", seg(&ada)),
        None,
    )
    .await;
    assert_admin_error(&r, 403, "ADMIN-UAM-403-1");
    assert_eq!(
        sim.group_members("engineering"),
        vec!["ada@example.com", "bob@example.com"]
    );
}

#[tokio::test]
async fn existing_member_answers_204_or_409_admin_uam_409_2() {
    let sim = org().await;
    let gid = group_id(&sim, "jira-users").await;
    let ada = acc(&sim, "ada@example.com");
    let url = format!("/groups/{gid}/memberships");
    let r = admin_dir(&sim, "POST", &url, Some(json!({"accountId": ada}))).await;
    assert_eq!(r.status, 204);
    sim.configure(|o| o.existing_member_conflict = true);
    let r = admin_dir(&sim, "POST", &url, Some(json!({"accountId": ada}))).await;
    assert_admin_error(&r, 409, "ADMIN-UAM-409-2");
    sim.configure(|o| o.admin_error_status_as_string = true);
    let r = admin_dir(&sim, "POST", &url, Some(json!({"accountId": ada}))).await;
    assert_eq!(r.json()["errors"][0]["status"], "409");
    assert_eq!(sim.group_members("jira-users"), vec!["ada@example.com"]);
}

#[tokio::test]
async fn licence_limit_is_a_409_admin_uam_409_3() {
    let sim = Simulator::builder()
        .users(3)
        .admin_group("jira-users", &["user1@example.com"])
        .licence_limit("JIRA-USERS", 2)
        .start()
        .await
        .unwrap();
    let gid = group_id(&sim, "jira-users").await;
    let url = format!("/groups/{gid}/memberships");
    let r = admin_dir(
        &sim,
        "POST",
        &url,
        Some(json!({"accountId": acc(&sim, "user2@example.com")})),
    )
    .await;
    assert_eq!(r.status, 204);
    let r = admin_dir(
        &sim,
        "POST",
        &url,
        Some(json!({"accountId": acc(&sim, "user3@example.com")})),
    )
    .await;
    assert_admin_error(&r, 409, "ADMIN-UAM-409-3");
    assert_eq!(sim.group_members("jira-users").len(), 2);
}

#[tokio::test]
async fn suspend_and_restore() {
    // Success is 200 with a message by default (§7.3; 204 and an empty 200 are switches).
    let sim = org().await;
    let bob = seg(&acc(&sim, "bob@example.com"));
    let suspended = admin_dir(&sim, "POST", &format!("/users/{bob}/suspend"), None).await;
    assert_eq!(suspended.status, 200);
    let message = suspended.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("was suspended for user bob@example.com"),
        "{message}"
    );
    let v = admin_dir(&sim, "GET", &format!("/users/{bob}"), None)
        .await
        .json();
    assert_eq!(v["data"]["status"], "suspended");
    assert_eq!(v["data"]["membershipStatus"], "suspended");
    let restored = admin_dir(&sim, "POST", &format!("/users/{bob}/restore"), None).await;
    assert_eq!(restored.status, 200);
    assert!(!sim.user_by_email("bob@example.com").unwrap().suspended);
}

async fn lifecycle(sim: &Simulator, account: &str, action: &str) -> Resp {
    let url = format!(
        "{}/users/{}/manage/lifecycle/{action}",
        sim.base_url(),
        seg(account)
    );
    send(
        "POST",
        &url,
        &admin_auth(sim),
        Some(json!({"message": "test"})),
    )
    .await
}

#[tokio::test]
async fn lifecycle_disable_enable_delete_cancel() {
    let sim = org().await;
    let ada = acc(&sim, "ada@example.com");
    let scim_id = sim
        .user_by_email("ada@example.com")
        .unwrap()
        .scim_id
        .unwrap();
    assert_eq!(lifecycle(&sim, &ada, "disable").await.status, 204);
    assert_eq!(
        scim(&sim, "GET", &format!("/Users/{scim_id}"), None)
            .await
            .json()["active"],
        false
    );
    assert_eq!(lifecycle(&sim, &ada, "enable").await.status, 204);
    assert_eq!(
        scim(&sim, "GET", &format!("/Users/{scim_id}"), None)
            .await
            .json()["active"],
        true
    );
    // `delete` and `cancel-delete` answer 200 `{"message":…}` as documented.
    let r = lifecycle(&sim, &ada, "delete").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["message"], "Success");
    let v = admin_dir(&sim, "GET", &format!("/users/{}", seg(&ada)), None)
        .await
        .json();
    assert_eq!(v["data"]["status"], "for_deletion");
    assert!(v["data"]["deleteAfter"].is_string());
    assert_eq!(
        scim(&sim, "GET", &format!("/Users/{scim_id}"), None)
            .await
            .json()["active"],
        false,
        "shows as deactivated"
    );
    let r = lifecycle(&sim, &ada, "enable").await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["key"], "accountPendingDeletion");
    let r = lifecycle(&sim, &ada, "cancel-delete").await;
    assert_eq!(r.status, 200);
    assert!(r.json()["message"].is_string());
    assert_eq!(
        sim.user_by_email("ada@example.com").unwrap().status,
        atlassian_simulator::AccountStatus::Deactivated
    );
    let r = lifecycle(&sim, "712020:nobody", "disable").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["key"], "accountNotFound");
    let r = lifecycle(&sim, &ada, "explode").await;
    assert_eq!(r.status, 404);
    sim.configure(|o| o.admin_key_scoped = true);
    let r = lifecycle(&sim, &ada, "enable").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["key"], "forbidden");
}

#[tokio::test]
async fn lifecycle_delete_takes_any_body_and_its_reply_is_a_switch() {
    let sim = org().await;
    let ada = acc(&sim, "ada@example.com");
    let url = format!(
        "{}/users/{}/manage/lifecycle/delete",
        sim.base_url(),
        seg(&ada)
    );
    // No body, `{}` and `{message}` are all accepted.
    for body in [None, Some(json!({})), Some(json!({"message": "bye"}))] {
        let r = send("POST", &url, &admin_auth(&sim), body.clone()).await;
        assert_eq!(r.status, 200, "{body:?}");
    }
    for (reply, status, text) in [
        (atlassian_simulator::LifecycleReply::NoContent, 204, ""),
        (atlassian_simulator::LifecycleReply::EmptyOk, 200, ""),
    ] {
        sim.configure(|o| o.lifecycle_delete_reply = reply);
        let r = send("POST", &url, &admin_auth(&sim), None).await;
        assert_eq!((r.status, r.text.as_str()), (status, text));
    }
}

#[tokio::test]
async fn scim_links_follow_the_scim_record() {
    let sim = org().await;
    let ada = acc(&sim, "ada@example.com");
    let scim_id = sim
        .user_by_email("ada@example.com")
        .unwrap()
        .scim_id
        .unwrap();
    let url = |a: &str| {
        format!(
            "{}/admin/user-provisioning/v1/org/{}/user/{}/get-scim-links",
            sim.base_url(),
            sim.org_id(),
            seg(a)
        )
    };
    let r = send("GET", &url(&ada), &admin_auth(&sim), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let link = &r.json()["scimLinks"][0];
    assert_eq!(link["scimUserId"], scim_id);
    assert_eq!(link["atlassianAccountId"], ada);
    assert_eq!(link["orgId"], sim.org_id());
    assert_eq!(link["directoryId"], sim.directory_id());
    scim(&sim, "DELETE", &format!("/Users/{scim_id}"), None).await;
    let r = send("GET", &url(&ada), &admin_auth(&sim), None).await;
    assert_eq!(r.json()["scimLinks"], json!([]));
    let r = send("GET", &url("nobody"), &admin_auth(&sim), None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["key"], "accountNotFound");
    // The SCIM token does not work here.
    let r = send("GET", &url(&ada), &scim_auth(&sim), None).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn scim_and_admin_views_agree() {
    let sim = org().await;
    // A membership added through SCIM shows in the admin API.
    let eng_scim = sim.group_by_name("engineering").unwrap().scim_id.unwrap();
    let cy_scim = sim
        .user_by_email("cy@example.com")
        .unwrap()
        .scim_id
        .unwrap();
    let r = scim(
        &sim,
        "PATCH",
        &format!("/Groups/{eng_scim}"),
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "add", "path": "members", "value": [{"value": cy_scim}]}]})),
    )
    .await;
    assert_eq!(r.status, 200);
    let v = admin_dir(
        &sim,
        "POST",
        "/users/search",
        Some(json!({"emails": ["cy@example.com"], "expand": ["groups"]})),
    )
    .await
    .json();
    assert_eq!(v["data"][0]["groups"][0]["name"], "engineering");
    let eng_admin = sim.group_by_name("engineering").unwrap().admin_id;
    let g = admin_dir(&sim, "GET", &format!("/groups/{eng_admin}"), None)
        .await
        .json();
    assert_eq!(g["data"]["counts"]["users"], 3);
    // A membership added through the admin API shows in the state and in admin user reads.
    let jira = sim.group_by_name("jira-users").unwrap().admin_id;
    let cy = acc(&sim, "cy@example.com");
    admin_dir(
        &sim,
        "POST",
        &format!("/groups/{jira}/memberships"),
        Some(json!({"accountId": cy})),
    )
    .await;
    let u = admin_dir(&sim, "GET", &format!("/users/{}", seg(&cy)), None)
        .await
        .json();
    let names: Vec<&str> = u["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["engineering", "Jira-Users"]);
    // Deactivation through SCIM shows in the admin API; an email change too.
    deactivate_and_rename(&sim, &cy_scim).await;
    let u = admin_dir(&sim, "GET", &format!("/users/{}", seg(&cy)), None)
        .await
        .json();
    assert_eq!(u["data"]["status"], "deactivated");
    assert_eq!(u["data"]["email"], "cyrus@example.com");
    let dump = sim.dump();
    let user = dump["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["account_id"] == json!(cy))
        .unwrap()
        .clone();
    assert_eq!(user["active"], Value::Bool(false));
}

async fn deactivate_and_rename(sim: &Simulator, scim_id: &str) {
    let r = scim(
        sim,
        "PATCH",
        &format!("/Users/{scim_id}"),
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "active", "value": false},
                                   {"op": "replace", "path": "userName", "value": "cyrus@example.com"},
                                   {"op": "replace", "path": "emails", "value": [{"value": "cyrus@example.com", "primary": true}]}]})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn scim_membership_changes_can_reach_the_admin_api_late() {
    let sim = org().await;
    sim.configure(|o| o.admin_sync_lag = 2);
    let eng = sim.group_by_name("engineering").unwrap();
    let cy_scim = sim
        .user_by_email("cy@example.com")
        .unwrap()
        .scim_id
        .unwrap();
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "add", "path": "members", "value": [{"value": cy_scim}]}]});
    assert_eq!(
        scim(
            &sim,
            "PATCH",
            &format!("/Groups/{}", eng.scim_id.unwrap()),
            Some(add)
        )
        .await
        .status,
        200
    );
    assert_eq!(
        sim.group_members("engineering").len(),
        3,
        "the model has it at once"
    );
    let count = || async {
        admin_dir(&sim, "GET", &format!("/groups/{}", eng.admin_id), None)
            .await
            .json()["data"]["counts"]["users"]
            .clone()
    };
    assert_eq!(count().await, 2, "first admin read: not yet");
    assert_eq!(count().await, 2, "second admin read: not yet");
    assert_eq!(count().await, 3, "then it shows");
}
