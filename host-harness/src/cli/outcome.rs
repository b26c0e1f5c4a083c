//! Printing an action's outcome, and the exit code it maps to.

use crate::cli::{EXIT_ERROR, EXIT_FAILED, EXIT_OK};
use lifecycle_host::bindings::types::Outcome;
use lifecycle_host::{CallError, Invocation};

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
                print!("{}", crate::render::outcome(action, outcome));
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
