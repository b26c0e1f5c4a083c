//! Printing an action's outcome, and the exit code it maps to.

use crate::cli::{EXIT_ERROR, EXIT_FAILED, EXIT_OK};
use lifecycle_host::bindings::types::{ChangeStatus, NamespacedId, Outcome, UserRef};
use lifecycle_host::{CallError, Invocation};

/// Parses `--user`: an email, `external:ID`, or `NAMESPACE:ID` for an id in one of the
/// connector's namespaces (`scim:ID`, `account:ID` for the built-in connector).
pub fn parse_user_ref(s: &str) -> Result<UserRef, String> {
    let namespace = |ns: &str| {
        !ns.is_empty()
            && ns
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    let user = match s.split_once(':') {
        Some(("external", id)) => UserRef::ExternalId(id.to_owned()),
        Some((ns, id)) if namespace(ns) => UserRef::Id(NamespacedId::new(ns, id)),
        _ if s.contains('@') => UserRef::Email(s.to_owned()),
        _ => {
            return Err(format!(
                "`{s}` is not a user: give an email, external:ID, or NAMESPACE:ID (scim:ID, \
                 account:ID)"
            ));
        }
    };
    Ok(user)
}

/// The readable form of an outcome: the user, then one line per change.
pub fn render(action: &str, outcome: &Outcome) -> String {
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

/// Prints an invocation's result (readable or JSON) and returns the exit code: 0 completed,
/// 1 partly failed (some change failed, or the host stopped the call), 2 the action was
/// refused as a whole (bad config or input, not found, denied).
pub fn report(action: &str, invocation: &Invocation<Outcome>, json: bool) -> anyhow::Result<u8> {
    if json {
        let value = match &invocation.result {
            Ok(outcome) => {
                serde_json::json!({"action": action, "outcome": lifecycle_host::json::to_value(outcome)?})
            }
            Err(e) => {
                serde_json::json!({"action": action, "error": lifecycle_host::json::to_value(e)?})
            }
        };
        println!("{}", lifecycle_host::json::to_string_pretty(&value)?);
    }
    Ok(match &invocation.result {
        Ok(outcome) => {
            if !json {
                print!("{}", render(action, outcome));
            }
            if outcome.completed {
                EXIT_OK
            } else {
                EXIT_FAILED
            }
        }
        Err(e) => {
            if !json {
                eprintln!("{action} failed: {e}");
            }
            match e {
                CallError::Connector(_) => EXIT_ERROR,
                CallError::Host(_) => EXIT_FAILED,
            }
        }
    })
}
