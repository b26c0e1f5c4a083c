//! A. Configuration and health.

use crate::Subject;
use crate::check::{Check, Difference, Step, connector_error, ensure, ok, start};
use crate::support::{sim_scim_only, sim_tenant};
use atlassian_simulator::{SeedUser, Simulator, Tokens};
use lifecycle_host::bindings::types::{
    ActionOptions, ConnectorError, DeleteOptions, HealthReport, ProbeStatus, UserRef,
};
use lifecycle_host::{LoadedConnector, Tenant};

/// Ada and one admin-managed group: enough for every probe to have something to read.
async fn org() -> Step<Simulator> {
    start(
        Simulator::builder()
            .user(SeedUser::new("ada@example.com").name("Ada Lovelace"))
            .admin_group("jira-users", &["ada@example.com"])
            .products(2, 2, 2),
    )
    .await
}

fn probe<'a>(report: &'a HealthReport, name: &str) -> Step<&'a ProbeStatus> {
    report
        .probes
        .iter()
        .find(|p| p.name == name)
        .map(|p| &p.status)
        .ok_or_else(|| {
            let names: Vec<&str> = report.probes.iter().map(|p| p.name.as_str()).collect();
            Difference::new(
                "the probes",
                format!("a `{name}` probe"),
                format!("{names:?}"),
            )
        })
}

async fn health(connector: &dyn Subject, tenant: &Tenant) -> Step<HealthReport> {
    let inv = connector.check_health(tenant).await;
    ok("check-health", inv.result)
}

/// The probe's error, or the difference that stops the case.
fn failed<'a>(report: &'a HealthReport, name: &str) -> Step<&'a ConnectorError> {
    match probe(report, name)? {
        ProbeStatus::Failed(e) => Ok(e),
        other => Err(Difference::new(format!("{name} probe"), "failed", other)),
    }
}

/// Every probe ok, and the simulator saw only reads, each once, and no change of state.
pub(crate) async fn a1(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = org().await?;
    let before = sim.dump();
    let inv = connector.check_health(&sim_tenant(&sim)).await;
    let report = ok("check-health", inv.result)?;
    c.that("healthy", report.healthy, "true", "false");
    for (name, credential) in [
        ("scim", "scim_token"),
        ("admin", "admin_api_key"),
        ("jira", "product_token"),
        ("confluence", "product_token"),
        ("bitbucket", "product_token"),
    ] {
        c.eq(
            format!("{name} probe"),
            &ProbeStatus::Ok,
            probe(&report, name)?,
        );
        let named = report.probes.iter().find(|p| p.name == name);
        c.eq(
            format!("{name} probe's credential"),
            Some(credential),
            named.map(|p| p.credential.as_str()),
        );
    }
    // The probes are independent reads: one `send-all` round trip.
    let batches: Vec<Option<usize>> = inv.exchanges.iter().map(|e| e.batch).collect();
    c.that(
        "the probes' requests",
        batches.first().is_some_and(Option::is_some) && batches.windows(2).all(|w| w[0] == w[1]),
        "one send-all batch",
        format!("batches {batches:?}"),
    );
    let log = sim.requests();
    let writes: Vec<String> = log
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    c.eq("requests other than GET", Vec::<String>::new(), writes);
    c.eq("requests, one per probe", 5, log.len());
    // The state, leaving out the request counter (reads are logged, and that is all).
    let mut after = sim.dump();
    if let (Some(a), Some(b)) = (after.as_object_mut(), before.as_object()) {
        a.insert(
            "requests".into(),
            b.get("requests").cloned().unwrap_or_default(),
        );
    }
    c.that(
        "the simulator's state",
        after == before,
        "unchanged",
        "changed",
    );
    Ok(())
}

/// Each malformed config is `invalid-config` naming its key, before any request.
pub(crate) async fn a2(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = org().await?;
    let full = sim_tenant(&sim);
    let scim_url = sim.scim_url();
    let mut missing_url = full.clone();
    missing_url.settings.remove("scim_url");
    let cases: Vec<(&str, Tenant, &[&str])> = vec![
        (
            "empty config",
            Tenant::default(),
            &["scim_url", "scim_token"],
        ),
        ("missing scim_url", missing_url, &["scim_url"]),
        (
            "http:// to a non-loopback host",
            full.clone().with_setting(
                "scim_url",
                format!("http://example.com/scim/directory/{}", sim.directory_id()),
            ),
            &["scim_url"],
        ),
        (
            "no directory id with admin configured",
            full.clone()
                .with_setting("scim_url", format!("{}/scim", sim.base_url())),
            &["scim_url"],
        ),
        (
            "unknown key",
            full.clone().with_setting("scim_urll", scim_url),
            &["scim_urll"],
        ),
        (
            "admin key without organization id",
            sim_scim_only(&sim).with_secret("admin_api_key", sim.tokens().admin_api_key),
            &["scim_organization_id"],
        ),
    ];
    for (case, tenant, keys) in cases {
        let inv = connector.check_health(&tenant).await;
        match connector_error(case, inv.result)? {
            ConnectorError::InvalidConfig(e) => {
                c.that(
                    format!("{case}: the key named"),
                    keys.contains(&e.key.as_str()),
                    keys.join(" or "),
                    &e.key,
                );
                c.that(
                    format!("{case}: the message"),
                    !e.message.is_empty(),
                    "says what is wrong",
                    "empty",
                );
            }
            other => c.push(Difference::new(case, "invalid-config", other.message())),
        }
        c.eq(
            format!("{case}: requests the guest asked for"),
            0,
            inv.exchanges.len(),
        );
    }
    c.eq("requests the simulator received", 0, sim.requests().len());
    Ok(())
}

/// A rotated SCIM token: the SCIM probe is unauthorized naming `scim_token`, sent once.
pub(crate) async fn a3(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = org().await?;
    let tenant = sim_tenant(&sim);
    let old = sim.tokens();
    sim.set_tokens(Tokens {
        scim_token: Tokens::random().scim_token,
        ..old
    });
    let inv = connector.check_health(&tenant).await;
    let report = ok("check-health", inv.result)?;
    c.that("healthy", !report.healthy, "false", "true");
    match failed(&report, "scim")? {
        ConnectorError::Unauthorized(m) => {
            c.that(
                "the message",
                m.contains("scim_token"),
                "names scim_token",
                m,
            );
        }
        other => c.push(Difference::new(
            "scim probe",
            "unauthorized",
            other.message(),
        )),
    }
    c.eq("admin probe", &ProbeStatus::Ok, probe(&report, "admin")?);
    let attempts: Vec<u32> = inv
        .exchanges
        .iter()
        .filter(|e| e.url.contains("/scim/"))
        .map(|e| e.attempts)
        .collect();
    c.eq("attempts of the SCIM probe", vec![1], attempts);
    let scim: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/scim/"))
        .map(|r| r.status)
        .collect();
    c.eq("SCIM requests the simulator answered", vec![401], scim);
    Ok(())
}

/// A wrong admin key (401) and a genuine one without access (403): the admin probe names
/// `admin_api_key` with the right class, and the SCIM probe still passes.
pub(crate) async fn a4(connector: &dyn Subject, c: &mut Check) -> Step {
    for (status, expected) in [(401u16, "unauthorized"), (403, "forbidden")] {
        let sim = org().await?;
        let tenant = sim_tenant(&sim);
        if status == 401 {
            let old = sim.tokens();
            sim.set_tokens(Tokens {
                admin_api_key: Tokens::random().admin_api_key,
                ..old
            });
        } else {
            sim.configure(|o| o.admin_key_forbidden = true);
        }
        let report = health(connector, &tenant).await?;
        c.that(
            format!("{status}: healthy"),
            !report.healthy,
            "false",
            "true",
        );
        c.eq(
            format!("{status}: scim probe"),
            &ProbeStatus::Ok,
            probe(&report, "scim")?,
        );
        let e = failed(&report, "admin")?;
        c.eq(format!("{status}: admin probe class"), expected, e.class());
        let message = e.message();
        c.that(
            format!("{status}: admin probe message"),
            message.contains("admin_api_key"),
            "names admin_api_key",
            &message,
        );
        let leaked = tenant
            .secrets
            .values()
            .any(|s| message.contains(s.expose()));
        c.that(
            format!("{status}: admin probe message"),
            !leaked,
            "no secret value",
            "a secret value",
        );
        let admin: Vec<u16> = sim
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/admin/"))
            .map(|r| r.status)
            .collect();
        c.eq(
            format!("{status}: admin requests answered"),
            vec![status],
            admin,
        );
    }
    Ok(())
}

/// SCIM only: healthy with the admin probe skipped; admin-only actions are `invalid-config`
/// naming `admin_api_key`, before any request.
pub(crate) async fn a5(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = org().await?;
    let tenant = sim_scim_only(&sim);
    let report = health(connector, &tenant).await?;
    c.that("healthy", report.healthy, "true", "false");
    c.eq("scim probe", &ProbeStatus::Ok, probe(&report, "scim")?);
    match probe(&report, "admin")? {
        ProbeStatus::Skipped(why) => {
            c.that(
                "admin probe",
                why.contains("admin_api_key"),
                "skipped naming admin_api_key",
                why,
            );
        }
        other => c.push(Difference::new("admin probe", "skipped", other)),
    }
    for name in ["jira", "confluence", "bitbucket"] {
        let status = probe(&report, name)?;
        c.that(
            format!("{name} probe (not configured)"),
            matches!(status, ProbeStatus::Skipped(_)),
            "skipped",
            status,
        );
    }
    let ada = UserRef::Email("ada@example.com".into());
    let purge = DeleteOptions {
        purge_account: true,
        dry_run: false,
    };
    let account = sim
        .user_by_email("ada@example.com")
        .map(|u| u.account_id)
        .unwrap_or_default();
    let before = sim.requests().len();
    let deleted = connector.delete_identity(&tenant, &ada, purge).await;
    let by_account = connector
        .manage_groups(
            &tenant,
            &crate::ids::account(account),
            &["jira-users".to_owned()],
            &[],
            ActionOptions { dry_run: false },
        )
        .await;
    for (what, result, exchanges) in [
        (
            "delete-identity with purge-account",
            deleted.result.map(|_| ()),
            deleted.exchanges.len(),
        ),
        (
            "manage-relationships by account id",
            by_account.result.map(|_| ()),
            by_account.exchanges.len(),
        ),
    ] {
        match connector_error(what, result)? {
            ConnectorError::InvalidConfig(e) => {
                c.eq(format!("{what}: key"), "admin_api_key", &e.key)
            }
            other => c.that(what, false, "invalid-config", other.message()),
        };
        c.eq(format!("{what}: requests"), 0, exchanges);
    }
    c.eq("requests after health", before, sim.requests().len());
    c.that(
        "only SCIM was asked",
        sim.requests().iter().all(|r| r.path.starts_with("/scim/")),
        "every request under /scim/",
        "a request elsewhere",
    );
    let ada = sim.user_by_email("ada@example.com");
    ensure(
        ada.as_ref()
            .is_some_and(|u| u.scim_id.is_some() && u.active),
        "ada",
        "still present and active",
        format!("{ada:?}"),
    )
}

/// Another directory id: the SCIM probe is `not-found` naming that directory.
pub(crate) async fn a6(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = org().await?;
    let wrong = "0b1c2d3e-no-such-directory";
    let tenant = sim_tenant(&sim).with_setting(
        "scim_url",
        format!("{}/scim/directory/{wrong}", sim.base_url()),
    );
    let report = health(connector, &tenant).await?;
    c.that("healthy", !report.healthy, "false", "true");
    match failed(&report, "scim")? {
        ConnectorError::NotFound(m) => {
            c.that(
                "the message",
                m.contains(wrong),
                format!("names {wrong}"),
                m,
            );
        }
        other => c.push(Difference::new("scim probe", "not-found", other.message())),
    }
    let answered: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.path.contains(wrong))
        .map(|r| r.status)
        .collect();
    c.eq("requests to the wrong directory", vec![404], answered);
    Ok(())
}
