//! B. Sync identities.

use serde_json::Value;

use crate::Subject;
use crate::check::{Check, Difference, Step, ensure, ok, start};
use crate::support::{changes, sim_tenant};
use atlassian_simulator::{Fault, Route, Seed, SeedUser, Simulator};
use lifecycle_host::Tenant;
use lifecycle_host::bindings::types::{ChangeKind, ChangeStatus, Identity, Outcome, SyncOptions};

pub(crate) const SYNC: SyncOptions = SyncOptions {
    create_missing: true,
    update_existing: true,
    dry_run: false,
};

pub(crate) fn identity(email: &str) -> Identity {
    Identity {
        email: email.into(),
        name: None,
        given_name: None,
        family_name: None,
        display_name: None,
        external_id: None,
    }
}

pub(crate) fn full_identity(email: &str) -> Identity {
    Identity {
        name: Some("Katherine Johnson".into()),
        given_name: Some("Katherine".into()),
        family_name: Some("Johnson".into()),
        display_name: Some("Katherine J.".into()),
        external_id: Some("idp-4471".into()),
        ..identity(email)
    }
}

async fn org() -> Step<Simulator> {
    start(Simulator::builder().user(SeedUser::new("ada@example.com").name("Ada Lovelace"))).await
}

async fn sync(
    connector: &dyn Subject,
    tenant: &Tenant,
    who: &Identity,
    options: SyncOptions,
) -> Step<Outcome> {
    ok(
        "sync-identity",
        connector.sync_identity(tenant, who, options).await.result,
    )
}

/// The SCIM record the simulator holds for an email (a fresh read).
fn record(sim: &Simulator, email: &str) -> Step<Value> {
    sim.user_by_email(email)
        .and_then(|u| u.scim)
        .ok_or_else(|| Difference::new(format!("the SCIM record of {email}"), "present", "absent"))
}

/// Records a difference unless the SCIM record's string at `pointer` (e.g.
/// `/name/formatted`) is `expected`.
fn attr(c: &mut Check, what: impl Into<String>, record: &Value, pointer: &str, expected: &str) {
    c.eq(
        what,
        expected,
        record
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or(""),
    );
}

fn users_named(sim: &Simulator, email: &str) -> usize {
    sim.users()
        .iter()
        .filter(|u| u.email.eq_ignore_ascii_case(email))
        .count()
}

fn writes(sim: &Simulator) -> Vec<String> {
    sim.mutations()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// One look-up, one POST; the re-read matches every mapped attribute.
pub(crate) async fn b1(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = org().await?;
    let who = full_identity("katherine@example.com");
    let o = sync(connector, &sim_tenant(&sim), &who, SYNC).await?;
    c.completed(&o, true);
    c.eq(
        "changes",
        vec!["create-user katherine@example.com applied".to_owned()],
        changes(&o),
    );
    let requests: Vec<String> = sim
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path.rsplit('/').next().unwrap_or("")))
        .collect();
    c.eq(
        "requests",
        vec!["GET Users".to_owned(), "POST Users".to_owned()],
        requests,
    );
    let r = record(&sim, "katherine@example.com")?;
    attr(c, "userName", &r, "/userName", "katherine@example.com");
    let primary_work = r["emails"].as_array().is_some_and(|emails| {
        emails.iter().any(|e| {
            e["value"] == "katherine@example.com" && e["primary"] == true && e["type"] == "work"
        })
    });
    c.that(
        "emails",
        primary_work,
        "a primary work email katherine@example.com",
        &r["emails"],
    );
    attr(
        c,
        "name.formatted",
        &r,
        "/name/formatted",
        "Katherine Johnson",
    );
    attr(c, "name.givenName", &r, "/name/givenName", "Katherine");
    attr(c, "name.familyName", &r, "/name/familyName", "Johnson");
    attr(c, "displayName", &r, "/displayName", "Katherine J.");
    attr(c, "externalId", &r, "/externalId", "idp-4471");
    let view = sim.user_by_email("katherine@example.com");
    c.that(
        "active",
        view.as_ref().is_some_and(|u| u.active),
        "true",
        "false",
    );
    c.eq(
        "the outcome's SCIM id",
        view.and_then(|v| v.scim_id),
        o.user
            .as_ref()
            .and_then(|u| u.id(crate::ids::SCIM))
            .map(str::to_owned),
    );
    Ok(())
}

/// The same identity again: one look-up, no write, every change already done.
pub(crate) async fn b2(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = org().await?;
    let tenant = sim_tenant(&sim);
    let who = full_identity("katherine@example.com");
    sync(connector, &tenant, &who, SYNC).await?;
    let before = record(&sim, "katherine@example.com")?;
    sim.clear_requests();
    let o = sync(connector, &tenant, &who, SYNC).await?;
    c.completed(&o, true);
    c.all_changes("changes", &o, &ChangeStatus::AlreadyDone);
    c.eq("writes", Vec::<String>::new(), writes(&sim));
    c.eq("requests", 1, sim.requests().len());
    c.eq(
        "the SCIM record",
        before,
        record(&sim, "katherine@example.com")?,
    );
    Ok(())
}

/// One attribute changed: one PATCH with one `replace`; the rest and `active` untouched.
pub(crate) async fn b3(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(
        Simulator::builder().user(SeedUser::new("linus@example.com").name("Linus").inactive()),
    )
    .await?;
    let tenant = sim_tenant(&sim);
    let who = full_identity("katherine@example.com");
    sync(connector, &tenant, &who, SYNC).await?;
    let before = record(&sim, "katherine@example.com")?;
    sim.clear_requests();
    let changed = Identity {
        display_name: Some("Dr. Katherine Johnson".into()),
        ..who
    };
    let o = sync(connector, &tenant, &changed, SYNC).await?;
    c.eq(
        "change kinds",
        vec![(ChangeKind::UpdateUser, ChangeStatus::Applied)],
        o.changes
            .iter()
            .map(|c| (c.kind.clone(), c.status.clone()))
            .collect(),
    );
    let m = sim.mutations();
    c.eq(
        "writes",
        vec!["PATCH".to_owned()],
        m.iter().map(|r| r.method.clone()).collect(),
    );
    if let Some(w) = m.first() {
        let ops = w.json()["Operations"].clone();
        c.that(
            "the PATCH operations",
            ops.as_array().is_some_and(|a| a.len() == 1) && ops[0]["op"] == "replace",
            "one replace",
            &ops,
        );
    }
    let after = record(&sim, "katherine@example.com")?;
    attr(
        c,
        "displayName",
        &after,
        "/displayName",
        "Dr. Katherine Johnson",
    );
    for unchanged in ["userName", "name", "externalId", "emails", "active"] {
        c.eq(unchanged, &before[unchanged], &after[unchanged]);
    }
    // A deactivated user stays deactivated when another attribute is synced.
    let linus = Identity {
        name: Some("Linus Torvalds".into()),
        ..identity("linus@example.com")
    };
    sync(connector, &tenant, &linus, SYNC).await?;
    attr(
        c,
        "linus name.formatted",
        &record(&sim, "linus@example.com")?,
        "/name/formatted",
        "Linus Torvalds",
    );
    let active = sim.user_by_email("linus@example.com").map(|u| u.active);
    c.eq("linus active (was deactivated)", Some(false), active);
    Ok(())
}

/// `create-missing = false`: `not-found`, no write; `update-existing = false`: no write.
pub(crate) async fn b4(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = org().await?;
    let tenant = sim_tenant(&sim);
    let no_create = SyncOptions {
        create_missing: false,
        ..SYNC
    };
    let inv = connector
        .sync_identity(&tenant, &identity("nobody@example.com"), no_create)
        .await;
    c.error(
        "sync without create-missing",
        inv.result,
        "not-found",
        &["nobody@example.com"],
    )?;
    let no_update = SyncOptions {
        update_existing: false,
        ..SYNC
    };
    let changed = Identity {
        display_name: Some("Countess".into()),
        ..identity("ada@example.com")
    };
    let o = sync(connector, &tenant, &changed, no_update).await?;
    c.completed(&o, true);
    c.eq("writes", Vec::<String>::new(), writes(&sim));
    c.eq("users", 1, sim.users().len());
    c.that(
        "ada's displayName",
        record(&sim, "ada@example.com")?["displayName"] != "Countess",
        "unchanged",
        "Countess",
    );
    Ok(())
}

/// A rival creates the user between look-up and POST (a real 409): it is found and updated.
pub(crate) async fn b5(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = org().await?;
    let rival = Seed {
        users: vec![SeedUser::new("katherine@example.com").display_name("Created elsewhere")],
        ..Seed::default()
    };
    sim.fault(
        Route::scim("/Users").method("POST"),
        Fault::Concurrent(Box::new(rival)),
        1,
    );
    let o = sync(
        connector,
        &sim_tenant(&sim),
        &full_identity("katherine@example.com"),
        SYNC,
    )
    .await?;
    c.completed(&o, true);
    c.eq(
        "users named katherine@example.com",
        1,
        users_named(&sim, "katherine@example.com"),
    );
    attr(
        c,
        "displayName",
        &record(&sim, "katherine@example.com")?,
        "/displayName",
        "Katherine J.",
    );
    c.that(
        "the POST",
        sim.requests()
            .iter()
            .any(|r| r.method == "POST" && r.status == 409),
        "answered 409",
        "no 409",
    );
    Ok(())
}

/// The POST commits but its answer is lost: the next run finds the user; one user exists.
pub(crate) async fn b6(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = org().await?;
    let tenant = sim_tenant(&sim);
    sim.fault(Route::scim("/Users").method("POST"), Fault::DropResponse, 1);
    let who = full_identity("katherine@example.com");
    // Whatever the first run concludes, the next run must find the user and create nothing.
    let _ = connector.sync_identity(&tenant, &who, SYNC).await;
    let o = sync(connector, &tenant, &who, SYNC).await?;
    c.completed(&o, true);
    c.that(
        "the second run's changes",
        o.changes.iter().all(|c| c.kind != ChangeKind::CreateUser),
        "no create-user",
        format!("{:?}", changes(&o)),
    );
    c.eq(
        "users named katherine@example.com",
        1,
        users_named(&sim, "katherine@example.com"),
    );
    c.eq("SCIM POSTs", 1, sim.count("POST", "/scim/"));
    Ok(())
}

/// Emails with `'`, `+` and non-ASCII letters and external ids with `"`, `\` and spaces
/// round-trip to exactly that user, never to a look-alike.
pub(crate) async fn b7(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(
        Simulator::builder()
            .user(SeedUser::new("obrien@example.com"))
            .user(SeedUser::new("ada@example.com"))
            .user(SeedUser::new("zoe.muller@example.com")),
    )
    .await?;
    let tenant = sim_tenant(&sim);
    for (i, email) in [
        "o'brien@example.com",
        "ada+atlassian@example.com",
        "zoë.müller@example.com",
    ]
    .iter()
    .enumerate()
    {
        let external = format!("ext \"{i}\" \\ with spaces");
        let who = Identity {
            external_id: Some(external.clone()),
            display_name: Some(format!("Person {i}")),
            ..identity(email)
        };
        let o = sync(connector, &tenant, &who, SYNC).await?;
        c.eq(
            format!("{email}: changes"),
            vec![format!("create-user {email} applied")],
            changes(&o),
        );
        let r = record(&sim, email)?;
        attr(c, format!("{email}: userName"), &r, "/userName", email);
        attr(
            c,
            format!("{email}: externalId"),
            &r,
            "/externalId",
            &external,
        );
        let again = sync(connector, &tenant, &who, SYNC).await?;
        c.all_changes(
            format!("{email}: second run"),
            &again,
            &ChangeStatus::AlreadyDone,
        );
        c.eq(format!("users named {email}"), 1, users_named(&sim, email));
    }
    for plain in [
        "obrien@example.com",
        "ada@example.com",
        "zoe.muller@example.com",
    ] {
        let r = record(&sim, plain)?;
        c.that(
            format!("{plain} (a look-alike)"),
            r.get("externalId").is_none_or(Value::is_null),
            "untouched",
            &r["externalId"],
        );
    }
    c.eq("SCIM users", 6, sim.scim_user_count());
    Ok(())
}

/// `ADA@EXAMPLE.COM` finds `ada@example.com`: no create, no write, one user.
pub(crate) async fn b8(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = org().await?;
    let o = sync(
        connector,
        &sim_tenant(&sim),
        &identity("ADA@EXAMPLE.COM"),
        SYNC,
    )
    .await?;
    c.completed(&o, true);
    c.that(
        "changes",
        o.changes.iter().all(|c| c.kind != ChangeKind::CreateUser),
        "no create-user",
        format!("{:?}", changes(&o)),
    );
    c.eq("writes", Vec::<String>::new(), writes(&sim));
    c.eq(
        "users named ada@example.com",
        1,
        users_named(&sim, "ada@example.com"),
    );
    attr(
        c,
        "userName",
        &record(&sim, "ada@example.com")?,
        "/userName",
        "ada@example.com",
    );
    Ok(())
}

/// No email, malformed emails, over-long attributes: `invalid-input`, zero requests.
pub(crate) async fn b9(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = org().await?;
    let tenant = sim_tenant(&sim);
    let long = "x".repeat(300);
    let cases = [
        ("no email", identity("")),
        ("no @", identity("not-an-email")),
        ("two @", identity("two@@example.com")),
        ("a space", identity("spaces in@example.com")),
        (
            "display name of 300",
            Identity {
                display_name: Some(long.clone()),
                ..identity("ok@example.com")
            },
        ),
        (
            "external id of 300",
            Identity {
                external_id: Some(long),
                ..identity("ok@example.com")
            },
        ),
        (
            "email of 272",
            identity(&format!("{}@example.com", "a".repeat(260))),
        ),
    ];
    for (case, who) in cases {
        let inv = connector.sync_identity(&tenant, &who, SYNC).await;
        if let Err(d) = c.error(case, inv.result, "invalid-input", &[]) {
            c.push(d);
        }
        c.eq(format!("{case}: requests"), 0, inv.exchanges.len());
    }
    c.eq("requests the simulator received", 0, sim.requests().len());
    c.eq("users", 1, sim.users().len());
    Ok(())
}

/// A fresh user whose account is not linked yet: the outcome says so; a linked one carries
/// the account id.
pub(crate) async fn b10(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(
        Simulator::builder()
            .user(SeedUser::new("ada@example.com"))
            .account_id_pending(true),
    )
    .await?;
    let tenant = sim_tenant(&sim);
    let o = sync(connector, &tenant, &identity("new@example.com"), SYNC).await?;
    c.completed(&o, true);
    let (scim_id, account_id) = o
        .user
        .map(|u| {
            let id = |ns| u.id(ns).map(str::to_owned);
            (id(crate::ids::SCIM), id(crate::ids::ACCOUNT))
        })
        .unwrap_or_default();
    c.that(
        "the new user's SCIM id",
        scim_id.is_some(),
        "present",
        "absent",
    );
    c.eq(
        "the new user's account id (not linked yet)",
        None,
        account_id,
    );
    let o = sync(connector, &tenant, &identity("ada@example.com"), SYNC).await?;
    let expected = sim.user_by_email("ada@example.com").map(|u| u.account_id);
    c.eq(
        "ada's account id",
        expected,
        o.user
            .as_ref()
            .and_then(|u| u.id(crate::ids::ACCOUNT))
            .map(str::to_owned),
    );
    ensure(
        sim.user_by_email("new@example.com").is_some(),
        "new@example.com",
        "created",
        "absent",
    )
}
