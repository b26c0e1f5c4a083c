//! Conformance cases B1–B10 (sync identities), through the real component in the real host
//! against the Atlassian simulator. Every case ends with a fresh read of the simulator's state
//! and its request log, not only the connector's answer.

mod common;

use common::*;
use host_harness::bindings::types::{
    ChangeKind, ChangeStatus, ConnectorError, Identity, Outcome, SyncOptions,
};
use host_harness::simulator::{Fault, Route, Seed, SeedUser, Simulator};
use host_harness::{CallError, Invocation, Tenant};
use serde_json::Value;

fn identity(email: &str) -> Identity {
    Identity {
        email: email.into(),
        name: None,
        given_name: None,
        family_name: None,
        display_name: None,
        external_id: None,
    }
}

fn full_identity(email: &str) -> Identity {
    Identity {
        name: Some("Katherine Johnson".into()),
        given_name: Some("Katherine".into()),
        family_name: Some("Johnson".into()),
        display_name: Some("Katherine J.".into()),
        external_id: Some("idp-4471".into()),
        ..identity(email)
    }
}

const SYNC: SyncOptions = SyncOptions {
    create_missing: true,
    update_existing: true,
    dry_run: false,
};

async fn sync(tenant: &Tenant, who: &Identity, options: SyncOptions) -> Invocation<Outcome> {
    connector().sync_identity(tenant, who, options).await
}

fn outcome(inv: Invocation<Outcome>) -> Outcome {
    match inv.result {
        Ok(o) => o,
        Err(e) => panic!("sync failed: {e}"),
    }
}

fn statuses(o: &Outcome) -> Vec<(ChangeKind, ChangeStatus)> {
    o.changes
        .iter()
        .map(|c| (c.kind, c.status.clone()))
        .collect()
}

/// The SCIM record the simulator holds for an email.
fn scim_record(sim: &Simulator, email: &str) -> Value {
    sim.user_by_email(email)
        .and_then(|u| u.scim)
        .unwrap_or_else(|| panic!("no SCIM record for {email}"))
}

fn users_named(sim: &Simulator, email: &str) -> usize {
    sim.users()
        .iter()
        .filter(|u| u.email.eq_ignore_ascii_case(email))
        .count()
}

async fn empty_sim() -> Simulator {
    Simulator::builder()
        .user(SeedUser::new("ada@example.com").name("Ada Lovelace"))
        .start()
        .await
        .expect("simulator starts")
}

#[tokio::test]
async fn b1_create_a_new_user_with_every_mapped_attribute() {
    let sim = empty_sim().await;
    let tenant = sim_tenant(&sim);
    let who = full_identity("katherine@example.com");
    let inv = sync(&tenant, &who, SYNC).await;
    assert_exchanges_clean(&inv.exchanges);
    let o = outcome(inv);
    assert!(o.completed);
    assert_eq!(
        statuses(&o),
        [(ChangeKind::CreateUser, ChangeStatus::Applied)]
    );
    let user = o.user.expect("the outcome names the user");
    let view = sim.user_by_email("katherine@example.com").expect("created");
    assert_eq!(user.scim_id, view.scim_id);

    // One look-up, one POST, nothing else.
    let log = sim.requests();
    assert_eq!(log.len(), 2, "{log:#?}");
    assert!(log[0].method == "GET" && log[0].path.ends_with("/Users"));
    assert!(log[1].method == "POST" && log[1].path.ends_with("/Users"));

    let r = scim_record(&sim, "katherine@example.com");
    assert_eq!(r["userName"], "katherine@example.com");
    let emails = r["emails"].as_array().expect("emails");
    assert!(emails.iter().any(|e| e["value"] == "katherine@example.com"
        && e["primary"] == true
        && e["type"] == "work"));
    assert_eq!(r["name"]["formatted"], "Katherine Johnson");
    assert_eq!(r["name"]["givenName"], "Katherine");
    assert_eq!(r["name"]["familyName"], "Johnson");
    assert_eq!(r["displayName"], "Katherine J.");
    assert_eq!(r["externalId"], "idp-4471");
    assert!(view.active, "created active");
}

#[tokio::test]
async fn b2_syncing_the_same_identity_again_writes_nothing() {
    let sim = empty_sim().await;
    let tenant = sim_tenant(&sim);
    let who = full_identity("katherine@example.com");
    outcome(sync(&tenant, &who, SYNC).await);
    sim.clear_requests();

    let o = outcome(sync(&tenant, &who, SYNC).await);
    assert!(o.completed);
    assert!(
        o.changes
            .iter()
            .all(|c| c.status == ChangeStatus::AlreadyDone),
        "{o:?}"
    );
    assert!(sim.mutations().is_empty());
    assert_eq!(sim.requests().len(), 1, "one look-up only");
}

#[tokio::test]
async fn b3_updating_one_attribute_patches_only_that_attribute() {
    let sim = empty_sim().await;
    let tenant = sim_tenant(&sim);
    let who = full_identity("katherine@example.com");
    outcome(sync(&tenant, &who, SYNC).await);
    let before = scim_record(&sim, "katherine@example.com");
    sim.clear_requests();

    let changed = Identity {
        display_name: Some("Dr. Katherine Johnson".into()),
        ..who.clone()
    };
    let o = outcome(sync(&tenant, &changed, SYNC).await);
    assert_eq!(
        statuses(&o),
        [(ChangeKind::UpdateUser, ChangeStatus::Applied)]
    );

    let writes = sim.mutations();
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(
        writes[0].method, "PATCH",
        "never a PUT that clears the rest"
    );
    let ops = writes[0].json()["Operations"].clone();
    assert_eq!(ops.as_array().map(Vec::len), Some(1), "{ops}");
    assert_eq!(ops[0]["op"], "replace");

    let after = scim_record(&sim, "katherine@example.com");
    assert_eq!(after["displayName"], "Dr. Katherine Johnson");
    assert!(sim.user_by_email("katherine@example.com").unwrap().active);
    for unchanged in ["userName", "name", "externalId", "emails"] {
        assert_eq!(after[unchanged], before[unchanged], "{unchanged} changed");
    }
}

#[tokio::test]
async fn b3_sync_never_touches_active() {
    let sim = Simulator::builder()
        .user(SeedUser::new("linus@example.com").name("Linus").inactive())
        .start()
        .await
        .unwrap();
    let tenant = sim_tenant(&sim);
    let who = Identity {
        name: Some("Linus Torvalds".into()),
        ..identity("linus@example.com")
    };
    outcome(sync(&tenant, &who, SYNC).await);
    let r = scim_record(&sim, "linus@example.com");
    assert_eq!(r["name"]["formatted"], "Linus Torvalds");
    let linus = sim.user_by_email("linus@example.com").unwrap();
    assert!(!linus.active, "sync reactivated a deactivated user");
}

#[tokio::test]
async fn b4_create_missing_and_update_existing_switches_prevent_writes() {
    let sim = empty_sim().await;
    let tenant = sim_tenant(&sim);
    let no_create = SyncOptions {
        create_missing: false,
        ..SYNC
    };
    let inv = sync(&tenant, &identity("nobody@example.com"), no_create).await;
    match inv.result {
        Err(CallError::Connector(ConnectorError::NotFound(m))) => {
            assert!(m.contains("nobody@example.com"), "{m}")
        }
        other => panic!("expected not-found, got {other:?}"),
    }
    let no_update = SyncOptions {
        update_existing: false,
        ..SYNC
    };
    let changed = Identity {
        display_name: Some("Countess".into()),
        ..identity("ada@example.com")
    };
    let o = outcome(sync(&tenant, &changed, no_update).await);
    assert!(o.completed);
    assert!(sim.mutations().is_empty(), "{:#?}", sim.mutations());
    assert_ne!(
        scim_record(&sim, "ada@example.com")["displayName"],
        "Countess"
    );
}

#[tokio::test]
async fn b5_a_concurrent_creation_turns_into_an_update_of_that_user() {
    let sim = empty_sim().await;
    let tenant = sim_tenant(&sim);
    let rival = Seed {
        users: vec![SeedUser::new("katherine@example.com").display_name("Created elsewhere")],
        ..Seed::default()
    };
    sim.fault(
        Route::scim("/Users").method("POST"),
        Fault::Concurrent(Box::new(rival)),
        1,
    );
    let who = full_identity("katherine@example.com");
    let o = outcome(sync(&tenant, &who, SYNC).await);
    assert!(o.completed, "{o:?}");
    assert_eq!(users_named(&sim, "katherine@example.com"), 1);
    let r = scim_record(&sim, "katherine@example.com");
    assert_eq!(
        r["displayName"], "Katherine J.",
        "the existing user was updated"
    );
    assert!(
        sim.requests()
            .iter()
            .any(|r| r.method == "POST" && r.status == 409)
    );
}

#[tokio::test]
async fn b6_a_lost_create_response_never_duplicates_the_user() {
    let sim = empty_sim().await;
    let tenant = sim_tenant(&sim);
    sim.fault(Route::scim("/Users").method("POST"), Fault::DropResponse, 1);
    let who = full_identity("katherine@example.com");
    let first = sync(&tenant, &who, SYNC).await;
    assert_exchanges_clean(&first.exchanges);
    // Whatever the first run concluded, the next run finds the user and creates nothing.
    let o = outcome(sync(&tenant, &who, SYNC).await);
    assert!(o.completed);
    assert!(
        o.changes.iter().all(|c| c.kind != ChangeKind::CreateUser),
        "{o:?}"
    );
    assert_eq!(users_named(&sim, "katherine@example.com"), 1);
    assert_eq!(sim.count("POST", "/scim/"), 1);
}

#[tokio::test]
async fn b7_emails_and_external_ids_with_special_characters_round_trip() {
    let tricky_emails = [
        "o'brien@example.com",
        "ada+atlassian@example.com",
        "zoë.müller@example.com",
    ];
    let sim = Simulator::builder()
        .user(SeedUser::new("obrien@example.com"))
        .user(SeedUser::new("ada@example.com"))
        .user(SeedUser::new("zoe.muller@example.com"))
        .start()
        .await
        .unwrap();
    let tenant = sim_tenant(&sim);
    for (i, email) in tricky_emails.iter().enumerate() {
        let external = format!("ext \"{i}\" \\ with spaces");
        let who = Identity {
            external_id: Some(external.clone()),
            display_name: Some(format!("Person {i}")),
            ..identity(email)
        };
        let o = outcome(sync(&tenant, &who, SYNC).await);
        assert_eq!(
            statuses(&o),
            [(ChangeKind::CreateUser, ChangeStatus::Applied)]
        );
        let r = scim_record(&sim, email);
        assert_eq!(r["userName"], *email);
        assert_eq!(r["externalId"], external.as_str());
        // The second run finds exactly this user through the escaped filter.
        let again = outcome(sync(&tenant, &who, SYNC).await);
        assert!(
            again
                .changes
                .iter()
                .all(|c| c.status == ChangeStatus::AlreadyDone),
            "{email}: {again:?}"
        );
        assert_eq!(users_named(&sim, email), 1);
    }
    // The look-alike users were never touched.
    for plain in [
        "obrien@example.com",
        "ada@example.com",
        "zoe.muller@example.com",
    ] {
        assert!(
            scim_record(&sim, plain)
                .get("externalId")
                .is_none_or(Value::is_null)
        );
    }
    assert_eq!(sim.scim_user_count(), 6);
}

#[tokio::test]
async fn b8_email_case_never_makes_a_duplicate() {
    let sim = empty_sim().await;
    let tenant = sim_tenant(&sim);
    let o = outcome(sync(&tenant, &identity("ADA@EXAMPLE.COM"), SYNC).await);
    assert!(o.completed);
    assert!(
        o.changes.iter().all(|c| c.kind != ChangeKind::CreateUser),
        "{o:?}"
    );
    assert_eq!(users_named(&sim, "ada@example.com"), 1);
    assert!(sim.mutations().is_empty(), "{:#?}", sim.mutations());
    assert_eq!(
        scim_record(&sim, "ada@example.com")["userName"],
        "ada@example.com"
    );
}

#[tokio::test]
async fn b9_invalid_identities_are_refused_before_any_request() {
    let sim = empty_sim().await;
    let tenant = sim_tenant(&sim);
    let long = "x".repeat(300);
    let cases = [
        identity(""),
        identity("not-an-email"),
        identity("two@@example.com"),
        identity("spaces in@example.com"),
        Identity {
            display_name: Some(long.clone()),
            ..identity("ok@example.com")
        },
        Identity {
            external_id: Some(long),
            ..identity("ok@example.com")
        },
        identity(&format!("{}@example.com", "a".repeat(260))),
    ];
    for who in cases {
        let inv = sync(&tenant, &who, SYNC).await;
        assert!(
            matches!(
                inv.result,
                Err(CallError::Connector(ConnectorError::InvalidInput(_)))
            ),
            "{who:?}: {:?}",
            inv.result
        );
        assert!(inv.exchanges.is_empty());
    }
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn b10_the_account_id_is_reported_or_said_to_be_pending() {
    let sim = Simulator::builder()
        .user(SeedUser::new("ada@example.com"))
        .account_id_pending(true)
        .start()
        .await
        .unwrap();
    let tenant = sim_tenant(&sim);
    // A fresh user: Atlassian links the account asynchronously.
    let o = outcome(sync(&tenant, &identity("new@example.com"), SYNC).await);
    assert!(o.completed);
    let user = o.user.expect("user");
    assert!(user.scim_id.is_some());
    assert_eq!(
        user.account_id, None,
        "not linked yet is said, not invented"
    );

    // A linked user: the outcome carries the id Jira, Confluence and Bitbucket know.
    let o = outcome(sync(&tenant, &identity("ada@example.com"), SYNC).await);
    let expected = sim.user_by_email("ada@example.com").unwrap().account_id;
    assert_eq!(o.user.unwrap().account_id, Some(expected));
}

#[tokio::test]
async fn g1_sync_dry_run_writes_nothing_and_a_real_run_applies_exactly_the_plan() {
    let sim = empty_sim().await;
    let tenant = sim_tenant(&sim);
    let dry = SyncOptions {
        dry_run: true,
        ..SYNC
    };
    for who in [
        full_identity("katherine@example.com"),
        Identity {
            display_name: Some("The Enchantress of Numbers".into()),
            ..identity("ada@example.com")
        },
    ] {
        sim.clear_requests();
        let plan = outcome(sync(&tenant, &who, dry).await);
        assert!(sim.mutations().is_empty(), "a dry run wrote");
        assert!(
            plan.changes
                .iter()
                .all(|c| c.status == ChangeStatus::Planned)
        );
        assert!(!plan.changes.is_empty());
        let done = outcome(sync(&tenant, &who, SYNC).await);
        let kinds = |o: &Outcome| {
            o.changes
                .iter()
                .map(|c| (c.kind, c.target.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(&plan), kinds(&done));
        assert!(
            done.changes
                .iter()
                .all(|c| c.status == ChangeStatus::Applied)
        );
        assert_eq!(sim.mutations().len(), done.changes.len());
    }
}

#[tokio::test]
async fn sync_works_with_a_scim_only_config() {
    let sim = empty_sim().await;
    let tenant = sim_scim_only(&sim);
    let o = outcome(sync(&tenant, &full_identity("katherine@example.com"), SYNC).await);
    assert!(o.completed);
    assert!(sim.user_by_email("katherine@example.com").is_some());
    assert!(sim.requests().iter().all(|r| r.path.starts_with("/scim/")));
}
