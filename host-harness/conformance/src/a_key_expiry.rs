//! A7: health reports the organization key's expiry (API notes §7.7), read from the
//! organization's API-key list by the configured label, judged against the guest's wall clock.

use crate::Subject;
use crate::c_relationships::org_builder;
use crate::check::{Check, Difference, Step, ok, start};
use crate::support::sim_tenant;
use atlassian_simulator::Simulator;
use lifecycle_host::bindings::types::{HealthReport, ProbeStatus};

const LABEL: &str = "lifecycle-connector";
const PROBE: &str = "admin-key-expiry";

/// Health with `label` configured (or none), and the expiry probe's status.
async fn expiry(
    connector: &dyn Subject,
    sim: &Simulator,
    label: Option<&str>,
) -> Step<(HealthReport, ProbeStatus)> {
    let mut tenant = sim_tenant(sim);
    if let Some(l) = label {
        tenant = tenant.with_setting("admin_api_key_label", l);
    }
    let report = ok("check-health", connector.check_health(&tenant).await.result)?;
    let status = report
        .probes
        .iter()
        .find(|p| p.name == PROBE)
        .map(|p| p.status.clone())
        .ok_or_else(|| Difference::new("the probes", format!("a `{PROBE}` probe"), "none"))?;
    Ok((report, status))
}

fn text(s: &ProbeStatus) -> String {
    match s {
        ProbeStatus::Ok => "ok".into(),
        ProbeStatus::Warning(m) => format!("warning: {m}"),
        ProbeStatus::Unknown(m) => format!("unknown: {m}"),
        ProbeStatus::Skipped(m) => format!("skipped: {m}"),
        ProbeStatus::Failed(e) => format!("failed: {e}"),
    }
}

/// Far from expiry: ok; inside 30 days: a warning naming the date; no label, no key of that
/// label, or a list the key may not read (403): unknown and still healthy; the key found on
/// a later page. Only reads, and the simulator's keys unchanged on a fresh read.
pub(crate) async fn a7(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    sim.add_org_api_key("someone-else", 3);
    sim.add_org_api_key("another", 400);
    sim.add_org_api_key(LABEL, 200);
    let (report, status) = expiry(connector, &sim, Some(LABEL)).await?;
    c.eq("far from expiry", "ok".to_owned(), text(&status));
    c.that("healthy", report.healthy, "true", "false");

    sim.configure(|o| o.api_keys_page_size = 1);
    sim.clear_requests();
    let (_, status) = expiry(connector, &sim, Some(LABEL)).await?;
    c.eq("found on the third page", "ok".to_owned(), text(&status));
    c.eq(
        "key-list pages read",
        3,
        sim.count("GET", "/admin/api-access/"),
    );

    let soon = start(org_builder()).await?;
    let key = soon.add_org_api_key(LABEL, 10);
    let (report, status) = expiry(connector, &soon, Some(LABEL)).await?;
    let date = key.expires_at.get(..10).unwrap_or_default().to_owned();
    c.that(
        "inside 30 days",
        matches!(&status, ProbeStatus::Warning(m) if m.contains(&date)),
        format!("a warning naming {date}"),
        text(&status),
    );
    c.that("a warning is healthy", report.healthy, "true", "false");

    for (what, label, needle) in [
        ("no label configured", None, "admin_api_key_label"),
        ("no key of that label", Some("not-this-one"), "not-this-one"),
    ] {
        let (report, status) = expiry(connector, &sim, label).await?;
        c.that(
            what,
            matches!(&status, ProbeStatus::Unknown(m) if m.contains(needle)),
            format!("unknown, naming {needle}"),
            text(&status),
        );
        c.that(format!("{what}: healthy"), report.healthy, "true", "false");
    }
    sim.configure(|o| o.api_keys_forbidden = true);
    let (report, status) = expiry(connector, &sim, Some(LABEL)).await?;
    c.that(
        "a list the key may not read (403)",
        matches!(&status, ProbeStatus::Unknown(_)),
        "unknown",
        text(&status),
    );
    c.that("403: still healthy", report.healthy, "true", "false");
    c.writes(&sim, 0);
    c.eq(
        "the organization's keys on a fresh read",
        3,
        sim.org_api_keys().len(),
    );
    Ok(())
}
