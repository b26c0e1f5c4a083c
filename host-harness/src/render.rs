//! The readable text of an action's outcome and of a health report: what the CLI prints, and
//! what the conformance suite checks for secrets (one rendering, so the check sees what a
//! person would).

use lifecycle_host::bindings::types::{ChangeStatus, HealthReport, Outcome, ProbeStatus};

/// The readable form of an outcome: the user, then one line per change.
pub fn outcome(action: &str, outcome: &Outcome) -> String {
    let mut out = String::new();
    match &outcome.user {
        Some(u) => out.push_str(&format!(
            "{action}: {}{}{}\n",
            u.email.as_deref().unwrap_or("(no email)"),
            u.ids
                .iter()
                .map(|i| format!("  {} {}", i.namespace, i.value))
                .collect::<String>(),
            match u.active {
                Some(true) => "  active",
                Some(false) => "  inactive",
                None => "",
            }
        )),
        None => out.push_str(&format!("{action}:\n")),
    }
    if outcome.changes.is_empty() {
        out.push_str("  no changes\n");
    }
    for change in &outcome.changes {
        let status = match &change.status {
            ChangeStatus::Failed(_) => "FAILED".to_owned(),
            other => other.to_string(),
        };
        let mut line = format!(
            "  {status:<13} {:<18} {}",
            change.kind.to_string(),
            change.target
        );
        match (&change.before, &change.after) {
            (Some(b), Some(a)) => line.push_str(&format!("  ({b} -> {a})")),
            (None, Some(a)) => line.push_str(&format!("  ({a})")),
            (Some(b), None) => line.push_str(&format!("  (was {b})")),
            (None, None) => {}
        }
        if let ChangeStatus::Failed(e) = &change.status {
            line.push_str(&format!("\n                {}", e.message()));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(if outcome.completed {
        "  completed\n"
    } else {
        "  NOT completed: run the same command again to finish the remaining changes\n"
    });
    out
}

/// The readable report: one line per probe.
pub fn health(instance: &str, report: &HealthReport) -> String {
    let mut out = format!(
        "{instance}: {}\n",
        if report.healthy {
            "healthy"
        } else {
            "UNHEALTHY"
        }
    );
    for probe in &report.probes {
        let mark = match probe.status {
            ProbeStatus::Ok => "ok  ",
            ProbeStatus::Warning(_) => "warn",
            ProbeStatus::Unknown(_) => "?   ",
            ProbeStatus::Skipped(_) => "skip",
            ProbeStatus::Failed(_) => "FAIL",
        };
        out.push_str(&format!(
            "  [{mark}] {:<11} {:<15} {}\n",
            probe.name, probe.credential, probe.target
        ));
        if !matches!(probe.status, ProbeStatus::Ok) {
            out.push_str(&format!("         {}\n", probe.status));
        }
    }
    out
}
