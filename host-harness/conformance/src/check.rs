//! What a case returns (pass, or fail with what differed), and the accumulator cases use to
//! compare what they expected with what they found.

use std::fmt;

use serde::Serialize;

use atlassian_simulator::{Simulator, SimulatorBuilder};
use lifecycle_host::CallError;
use lifecycle_host::bindings::types::{ChangeStatus, ConnectorError, Outcome};

/// Longest expected or found text kept in a difference; the rest is cut with `…`.
const MAX_TEXT: usize = 400;

/// One thing a case found other than it expected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// What was checked, e.g. `scim probe` or `members of jira-users`.
    pub what: String,
    /// What the case expected.
    pub expected: String,
    /// What it found instead.
    pub found: String,
}

impl Difference {
    /// A difference, with over-long texts shortened.
    pub fn new(
        what: impl Into<String>,
        expected: impl fmt::Display,
        found: impl fmt::Display,
    ) -> Self {
        Self {
            what: what.into(),
            expected: shorten(expected.to_string()),
            found: shorten(found.to_string()),
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.what, self.expected, self.found
        )
    }
}

fn shorten(mut s: String) -> String {
    if let Some((cut, _)) = s.char_indices().nth(MAX_TEXT) {
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// The result of one conformance case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum CaseResult {
    /// Everything the case checked was as expected.
    Pass {
        /// What the case checked, when that needs saying (e.g. which host limits H6 tried).
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Something differed.
    Fail {
        /// Each difference, in the order found.
        differences: Vec<Difference>,
    },
    /// Not run: the case needs what the subject does not have (our host's own records,
    /// policy or limits), and says which.
    Skipped {
        /// Why the case cannot run on this subject.
        why: String,
    },
}

impl CaseResult {
    /// True for [`CaseResult::Pass`].
    pub fn passed(&self) -> bool {
        matches!(self, Self::Pass { .. })
    }

    /// The differences of a failed case (empty when it passed).
    pub fn differences(&self) -> &[Difference] {
        match self {
            Self::Pass { .. } | Self::Skipped { .. } => &[],
            Self::Fail { differences } => differences,
        }
    }

    /// A failure with one difference.
    pub fn fail(
        what: impl Into<String>,
        expected: impl fmt::Display,
        found: impl fmt::Display,
    ) -> Self {
        Self::Fail {
            differences: vec![Difference::new(what, expected, found)],
        }
    }
}

/// A step that cannot go on when it fails (the case stops with that difference).
pub(crate) type Step<T = ()> = Result<T, Difference>;

/// Collects the differences of one case.
#[derive(Debug, Default)]
pub(crate) struct Check {
    differences: Vec<Difference>,
    note: Option<String>,
}

impl Check {
    /// Records a difference unless `expected == found`; returns whether they were equal.
    pub(crate) fn eq<T: PartialEq + fmt::Debug>(
        &mut self,
        what: impl Into<String>,
        expected: T,
        found: T,
    ) -> bool {
        let same = expected == found;
        if !same {
            self.differences.push(Difference::new(
                what,
                format!("{expected:?}"),
                format!("{found:?}"),
            ));
        }
        same
    }

    /// Records a difference unless `ok`; returns `ok`.
    pub(crate) fn that(
        &mut self,
        what: impl Into<String>,
        ok: bool,
        expected: impl fmt::Display,
        found: impl fmt::Display,
    ) -> bool {
        if !ok {
            self.differences
                .push(Difference::new(what, expected, found));
        }
        ok
    }

    /// Records a difference.
    pub(crate) fn push(&mut self, difference: Difference) {
        self.differences.push(difference);
    }

    /// Records a difference unless the outcome's `completed` is `expected`.
    pub(crate) fn completed(&mut self, outcome: &Outcome, expected: bool) -> bool {
        self.that(
            "completed",
            outcome.completed == expected,
            expected,
            format!(
                "{}: {:?}",
                outcome.completed,
                super::support::changes(outcome)
            ),
        )
    }

    /// Records a difference unless the outcome has changes and every one has `status`.
    pub(crate) fn all_changes(
        &mut self,
        what: impl Into<String>,
        outcome: &Outcome,
        status: &ChangeStatus,
    ) -> bool {
        self.that(
            what,
            super::support::all(outcome, status),
            format!("all {status}"),
            format!("{:?}", super::support::changes(outcome)),
        )
    }

    /// Records a difference unless the simulator holds exactly `expected` writes (on a fresh
    /// read of its request log).
    pub(crate) fn writes(&mut self, sim: &Simulator, expected: usize) -> bool {
        let found: Vec<String> = sim
            .mutations()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        self.that(
            "writes",
            found.len() == expected,
            expected,
            format!("{} {found:?}", found.len()),
        )
    }

    /// Records a difference unless the simulator's group has exactly these members.
    pub(crate) fn members(&mut self, sim: &Simulator, group: &str, expected: &[&str]) -> bool {
        self.eq(
            format!("members of {group}"),
            expected.to_vec(),
            sim.group_members(group)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        )
    }

    /// Expects a connector error of `class` (e.g. `not-found`) whose message names each of
    /// `names`; records a difference otherwise. A success or a host error stops the case.
    pub(crate) fn error<T: fmt::Debug>(
        &mut self,
        what: &str,
        result: Result<T, CallError>,
        class: &str,
        names: &[&str],
    ) -> Step<ConnectorError> {
        let e = connector_error(what, result)?;
        let message = e.message();
        if self.eq(format!("{what}: error class"), class, e.class()) {
            for name in names {
                self.that(
                    format!("{what}: the message"),
                    message.contains(name),
                    format!("names {name}"),
                    &message,
                );
            }
        }
        Ok(e)
    }

    /// Records a difference naming every place in `produced` (what, text) that holds
    /// `value`, a secret: the difference says where it appeared, never the value.
    pub(crate) fn nowhere(&mut self, what: String, value: &str, produced: &[(String, String)]) {
        let found: Vec<&str> = produced
            .iter()
            .filter(|(_, text)| text.contains(value))
            .map(|(where_, _)| where_.as_str())
            .collect();
        self.eq(what, Vec::<&str>::new(), found);
    }

    /// Says what a passing case checked.
    pub(crate) fn note(&mut self, note: impl Into<String>) {
        self.note = Some(note.into());
    }

    /// The case's result, with the difference that stopped it (if any) last.
    pub(crate) fn finish(mut self, step: Step) -> CaseResult {
        if let Err(d) = step {
            self.differences.push(d);
        }
        if self.differences.is_empty() {
            CaseResult::Pass { note: self.note }
        } else {
            CaseResult::Fail {
                differences: self.differences,
            }
        }
    }
}

/// Starts a simulator, or stops the case saying why it could not.
pub(crate) async fn start(builder: SimulatorBuilder) -> Step<Simulator> {
    builder
        .start()
        .await
        .map_err(|e| Difference::new("the simulator", "starts", format!("{e:#}")))
}

/// The value of a call that should succeed, or the difference that stops the case.
pub(crate) fn ok<T>(what: &str, result: Result<T, CallError>) -> Step<T> {
    result.map_err(|e| Difference::new(what, "success", e))
}

/// The connector error of a call that should fail with one, or the difference that stops
/// the case.
pub(crate) fn connector_error<T: fmt::Debug>(
    what: &str,
    result: Result<T, CallError>,
) -> Step<ConnectorError> {
    match result {
        Err(CallError::Connector(e)) => Ok(e),
        Err(CallError::Host(e)) => Err(Difference::new(what, "a connector error", e)),
        Ok(v) => Err(Difference::new(what, "an error", format!("success: {v:?}"))),
    }
}

/// Stops the case unless `ok`.
pub(crate) fn ensure(
    ok: bool,
    what: impl Into<String>,
    expected: impl fmt::Display,
    found: impl fmt::Display,
) -> Step {
    if ok {
        Ok(())
    } else {
        Err(Difference::new(what, expected, found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_fails_with_every_difference_and_the_one_that_stopped_it() {
        let mut c = Check::default();
        assert!(c.eq("same", 1, 1));
        assert!(!c.eq("members", vec!["a"], vec!["b"]));
        let r = c.finish(Err(Difference::new("call", "success", "not found")));
        assert!(!r.passed());
        assert_eq!(r.differences().len(), 2);
        assert_eq!(
            r.differences()[0].to_string(),
            "members: expected [\"a\"], found [\"b\"]"
        );
    }

    #[test]
    fn long_texts_are_shortened_on_a_character_boundary() {
        let d = Difference::new("x", "é".repeat(1000), "ok");
        assert_eq!(d.expected.chars().count(), MAX_TEXT + 1);
        assert!(d.expected.ends_with('…'));
    }

    #[test]
    fn a_case_without_differences_passes_with_its_note() {
        let mut c = Check::default();
        c.note("checked timeout");
        assert_eq!(
            c.finish(Ok(())),
            CaseResult::Pass {
                note: Some("checked timeout".into())
            }
        );
    }
}
