//! H8: an upstream that echoes the credential it was sent.

use crate::b_sync::identity;
use crate::check::{Check, Difference, Step, start};
use crate::d_deprovision::ada;
use crate::platform::{AuditLog, AuditedCall, Platform};
use crate::support::{secret_forms, sim_tenant};
use atlassian_simulator::{Fault, Route, Simulator};
use lifecycle_host::bindings::types::{ActionOptions, Identity, SyncOptions};
use lifecycle_host::secrets::REDACTED;
use lifecycle_host::{Invocation, LoadedConnector};

/// The SCIM, admin and product credentials sent to a server that echoes each (header, raw
/// token, Basic's `user:token`) in its error bodies and headers, on a health check, a sync
/// whose create fails and a deprovision whose writes fail: no form of any secret is in the
/// outcomes, errors, rendered output, exchange records or audit log — the guest was handed
/// the echo with each secret replaced.
pub(crate) async fn h8(
    connector: &LoadedConnector,
    platform: &dyn Platform,
    c: &mut Check,
) -> Step {
    let sim = start(Simulator::builder().demo_org().products(1, 1, 1)).await?;
    let tenant = sim_tenant(&sim);
    let user = tenant
        .settings
        .get("product_user")
        .cloned()
        .unwrap_or_default();
    let audit = platform
        .open_audit_log()
        .map_err(|e| Difference::new("a temporary audit log", "opens", e))?;
    let mut produced: Vec<(String, String)> = Vec::new();

    // Every request of a health check: the three credentials, Bearer and Basic.
    sim.fault_always(Route::any(), Fault::EchoAuthorization(401));
    let health = connector.check_health(&tenant).await;
    sim.clear_faults();
    produced.push((
        "health exchanges".into(),
        serde_json::to_string(&health.exchanges).unwrap_or_default(),
    ));
    let health_text = match &health.result {
        Ok(report) => format!(
            "{}{}",
            platform.show_health(&platform.tenant_label(&tenant), report),
            serde_json::to_string(report).unwrap_or_default()
        ),
        Err(e) => e.to_string(),
    };
    c.that(
        "the health check's report",
        health_text.contains(REDACTED),
        format!("the echoed credentials, each as {REDACTED}"),
        "no echo in it",
    );
    produced.push(("health report".into(), health_text));

    // A write that fails with the echo, and a deprovision whose every write does.
    let who = Identity {
        name: Some("Echo Me".into()),
        ..identity("echo@example.com")
    };
    let sync = SyncOptions {
        create_missing: true,
        update_existing: true,
        dry_run: false,
    };
    sim.fault(
        Route::scim("/Users").method("POST"),
        Fault::EchoAuthorization(400),
        1,
    );
    let synced = connector.sync_identity(&tenant, &who, sync).await;
    for method in ["PATCH", "PUT", "DELETE"] {
        sim.fault_always(Route::any().method(method), Fault::EchoAuthorization(403));
    }
    let deprovisioned = connector
        .deprovision_identity(&tenant, &ada(), ActionOptions { dry_run: false })
        .await;
    sim.clear_faults();
    for (what, requested, inv) in [
        ("sync", "echo@example.com", synced),
        ("deprovision", "ada", deprovisioned),
    ] {
        record(
            c,
            platform,
            audit.as_ref(),
            &mut produced,
            what,
            requested,
            &inv,
        )?;
    }
    let (records, text) = audit
        .read()
        .map_err(|e| Difference::new("the audit log", "read back", e))?;
    c.that(
        "audit records of the failed writes",
        records.iter().any(|r| r.status == "failed"),
        "some failed",
        format!("{} records", records.len()),
    );
    c.that(
        "the audit log",
        text.contains(REDACTED),
        format!("the echoed credentials, each as {REDACTED}"),
        "no echo in it",
    );
    produced.push(("audit log".into(), text));

    let echoed = sim
        .requests()
        .iter()
        .filter(|r| r.fault.as_deref() == Some("echo-authorization"))
        .count();
    c.that(
        "requests answered with the echo",
        echoed >= 5,
        "at least 5",
        echoed,
    );
    for (form, value) in secret_forms(&sim.tokens(), &user) {
        c.nowhere(format!("where the {form} appears"), &value, &produced);
    }
    Ok(())
}

/// Records an invocation in the audit log and keeps everything it shows.
fn record(
    c: &mut Check,
    platform: &dyn Platform,
    audit: &dyn AuditLog,
    produced: &mut Vec<(String, String)>,
    what: &str,
    requested: &str,
    inv: &Invocation<lifecycle_host::bindings::types::Outcome>,
) -> Step {
    let context = AuditedCall {
        integration: "echo".to_owned(),
        action: what.to_owned(),
        requested: requested.to_owned(),
    };
    audit
        .record(&context, inv)
        .map_err(|e| Difference::new("the audit log", "written", e))?;
    produced.push((
        format!("{what} exchanges"),
        serde_json::to_string(&inv.exchanges).unwrap_or_default(),
    ));
    let shown = match &inv.result {
        Ok(o) => format!(
            "{}{}",
            platform.show_outcome(what, o),
            serde_json::to_string(o).unwrap_or_default()
        ),
        Err(e) => format!("{e}{}", serde_json::to_string(e).unwrap_or_default()),
    };
    c.that(
        format!("the {what} outcome"),
        shown.contains(REDACTED),
        format!("the echoed credential as {REDACTED}"),
        "no echo in it",
    );
    produced.push((format!("{what} outcome"), shown));
    Ok(())
}
