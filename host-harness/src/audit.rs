//! The audit log: append-only JSON Lines, one record per change, each flushed and synced to
//! disk before the next is written.
//!
//! A record says when, which integration, which action, whom it touched (every id the
//! connector resolved), what changed and how it ended, with the error's class when it failed.
//! Only `applied` and `failed` changes are changes: `already-done` and `planned` wrote nothing
//! and leave no record. An action refused as a whole (bad input, not found, denied) leaves one
//! `refused` record, and an invocation the host ended leaves one `interrupted` record, because
//! changes it made before it was stopped are unknown until the action is run again.
//!
//! Nothing in a record is a secret: the connector's outcome never holds one, and the host's
//! errors name keys, never values.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::jsonl::{Appender, Locking};
use lifecycle_host::bindings::types::{ChangeStatus, Outcome};
use lifecycle_host::{CallError, Invocation};

/// Why the audit log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The file could not be opened, written, synced or read.
    #[error("audit log {path}: {cause}")]
    Io {
        /// The audit log.
        path: String,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// A line of the file is not an audit record.
    #[error("audit log {path}, line {line}: not an audit record: {message}")]
    Malformed {
        /// The audit log.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Whom a record is about: the reference the action was given, and every id the connector
/// resolved it to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditUser {
    /// The reference as given: an email, or `scim:ID`, `account:ID`, `external:ID`.
    pub requested: String,
    /// The user's email, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The SCIM user id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim_id: Option<String>,
    /// The Atlassian account id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

impl AuditUser {
    /// True when this record is about `email` (compared case-insensitively with the resolved
    /// email and the reference as given).
    pub fn is(&self, email: &str) -> bool {
        self.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
            || self.requested.eq_ignore_ascii_case(email)
    }
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the record was written, RFC 3339 in UTC.
    pub time: String,
    /// The integration (its instance name).
    pub integration: String,
    /// The action: `sync`, `groups`, `deprovision` or `delete`.
    pub action: String,
    /// Whom it touched.
    pub user: AuditUser,
    /// The kind of change (`create-user`, `add-membership`, ...); absent for `refused` and
    /// `interrupted` records, which are about the action as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// What the change applies to: a user id or a group's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The state before, when the connector summarised it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The state after, when the connector summarised it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// `applied`, `failed`, `refused` (the action as a whole) or `interrupted` (the host ended
    /// the invocation; run it again to learn and finish what it did).
    pub status: String,
    /// The error's class (`conflict`, `policy-denied`, `timeout`, ...) when it did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<String>,
    /// The error's message when it did not succeed (never holds a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The workflow or batch run this change belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// A remark that qualifies the record, e.g. that it completes an interrupted run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What the audit log needs to know about an invocation besides its outcome.
#[derive(Clone, Debug, Default)]
pub struct AuditContext {
    /// The integration's instance name.
    pub integration: String,
    /// The action's name.
    pub action: String,
    /// The user reference the action was given.
    pub requested: String,
    /// The workflow or batch run, if any.
    pub run: Option<String>,
    /// Set when the action re-runs an item an earlier run was interrupted in: changes found
    /// `already-done` are then recorded (marked with this note), because the interrupted run
    /// may have applied them without getting to record them.
    pub recovering: Option<String>,
    /// With `recovering`: the kind of a change whose answer the earlier attempt lost
    /// (`create-user`). When this run finds the person and does not create them, a record of
    /// that change, `already-done` and marked, says it was done after all.
    pub lost: Option<String>,
    /// A dry run: it writes nothing upstream, so it leaves no record either, not even when it
    /// is refused.
    pub dry_run: bool,
}

/// An open audit log. Records are appended under a process-wide lock and an advisory file
/// lock, so concurrent writers (threads or processes) never interleave lines; an append that
/// fails (a full disk) leaves the file ending at a record boundary (see [`crate::jsonl`]).
#[derive(Debug)]
pub struct AuditLog {
    file: Appender,
}

/// The records of an audit log, and whether its last line was cut short.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditTrail {
    /// Every record, oldest first.
    pub records: Vec<AuditRecord>,
    /// The 1-based number of a last line that is an incomplete record (ignored).
    pub torn: Option<usize>,
}

impl AuditLog {
    /// Opens (creating it, owner-only, if absent) the audit log at `path` for appending.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        let io = |cause| AuditError::Io {
            path: path.display().to_string(),
            cause,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Often the first thing written to the home directory: it is owner-only.
            lifecycle_host::files::create_private_dir(dir).map_err(io)?;
        }
        Ok(Self {
            file: Appender::open(path, Locking::PerAppend).map_err(io)?,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Appends one record and syncs it to disk before returning.
    pub fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        self.file.append(record).map_err(|cause| AuditError::Io {
            path: self.path().display().to_string(),
            cause,
        })
    }

    /// Writes the records an invocation calls for (see the module docs) and returns them.
    pub fn record(
        &self,
        context: &AuditContext,
        invocation: &Invocation<Outcome>,
    ) -> Result<Vec<AuditRecord>, AuditError> {
        let records = records_for(context, invocation, now());
        for record in &records {
            self.append(record)?;
        }
        Ok(records)
    }

    /// Every record in the file, oldest first (a torn last line is ignored: see [`Self::read`]).
    pub fn read_all(path: &Path) -> Result<Vec<AuditRecord>, AuditError> {
        Ok(Self::read(path)?.records)
    }

    /// Every record in the file, oldest first, and whether the last line is an incomplete
    /// record (cut short by a crash or a full disk), which is ignored. A bad line before the
    /// last is an error. An absent file holds no records.
    pub fn read(path: &Path) -> Result<AuditTrail, AuditError> {
        // The log grows without bound, so no size cap; but it must be a regular file.
        let read = lifecycle_host::files::open_checked(path, lifecycle_host::files::Kind::AuditLog)
            .and_then(|mut f| {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut f, &mut bytes)
                    .map(|_| bytes)
                    .map_err(|source| lifecycle_host::files::FileError::Io {
                        op: "read",
                        kind: lifecycle_host::files::Kind::AuditLog,
                        path: path.to_owned(),
                        source,
                    })
            });
        let text = match read {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.is_not_found() => return Ok(AuditTrail::default()),
            Err(e) => {
                return Err(AuditError::Io {
                    path: path.display().to_string(),
                    cause: std::io::Error::other(e.to_string()),
                });
            }
        };
        let lines =
            crate::jsonl::parse::<AuditRecord>(&text).map_err(|bad| AuditError::Malformed {
                path: path.display().to_string(),
                line: bad.line,
                message: bad.message,
            })?;
        Ok(AuditTrail {
            records: lines.records.into_iter().map(|(_, r)| r).collect(),
            torn: lines.torn,
        })
    }
}

/// The records an invocation calls for, stamped with `time`.
pub fn records_for(
    context: &AuditContext,
    invocation: &Invocation<Outcome>,
    time: String,
) -> Vec<AuditRecord> {
    if context.dry_run {
        return Vec::new();
    }
    let base = |user: AuditUser| AuditRecord {
        time: time.clone(),
        integration: context.integration.clone(),
        action: context.action.clone(),
        user,
        change: None,
        target: None,
        before: None,
        after: None,
        status: String::new(),
        error_class: None,
        error: None,
        run: context.run.clone(),
        note: None,
    };
    let requested = || AuditUser {
        requested: context.requested.clone(),
        ..AuditUser::default()
    };
    match &invocation.result {
        Ok(outcome) => {
            let user = match &outcome.user {
                Some(u) => AuditUser {
                    requested: context.requested.clone(),
                    email: u.email.clone(),
                    scim_id: u.id(crate::ids::SCIM).map(str::to_owned),
                    account_id: u.id(crate::ids::ACCOUNT).map(str::to_owned),
                },
                None => requested(),
            };
            let found_created = context.recovering.is_some()
                && context.lost.as_deref() == Some("create-user")
                && outcome.user.is_some()
                && !outcome
                    .changes
                    .iter()
                    .any(|c| c.kind.to_string() == "create-user");
            let created = found_created.then(|| AuditRecord {
                change: Some("create-user".to_owned()),
                target: Some(
                    user.email
                        .clone()
                        .unwrap_or_else(|| context.requested.clone()),
                ),
                status: "already-done".to_owned(),
                note: context
                    .recovering
                    .as_ref()
                    .map(|n| format!("{n}: its create-user got no answer, and the person exists")),
                ..base(user.clone())
            });
            created
                .into_iter()
                .chain(outcome.changes.iter().filter_map(|change| {
                    let (status, error_class, error, note) = match &change.status {
                        ChangeStatus::Applied => ("applied", None, None, None),
                        ChangeStatus::Failed(e) => (
                            "failed",
                            Some(e.class().to_owned()),
                            Some(e.message()),
                            None,
                        ),
                        ChangeStatus::AlreadyDone => match &context.recovering {
                            Some(note) => ("already-done", None, None, Some(note.clone())),
                            None => return None,
                        },
                        // Deliberately not made: recorded, since a person must know what
                        // remains for an administrator.
                        ChangeStatus::Skipped(why) => ("skipped", None, None, Some(why.clone())),
                        ChangeStatus::Planned => return None,
                    };
                    Some(AuditRecord {
                        change: Some(change.kind.to_string()),
                        target: Some(change.target.clone()),
                        before: change.before.clone(),
                        after: change.after.clone(),
                        status: status.to_owned(),
                        error_class,
                        error,
                        note,
                        ..base(user.clone())
                    })
                }))
                .collect()
        }
        Err(e) => {
            let (status, class) = match e {
                CallError::Connector(c) => ("refused", c.class()),
                CallError::Host(h) => ("interrupted", h.class()),
            };
            vec![AuditRecord {
                status: status.to_owned(),
                error_class: Some(class.to_owned()),
                error: Some(e.to_string()),
                ..base(requested())
            }]
        }
    }
}

/// The current time, RFC 3339 in UTC with milliseconds.
pub fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&format)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use lifecycle_host::bindings::types::{
        Change, ChangeKind, ConnectorError, NamespacedId, ResolvedUser,
    };

    /// Issue 13 item 7: the audit log is often the first file in a new home directory; the
    /// directory it creates is owner-only.
    #[cfg(unix)]
    #[test]
    fn opening_the_log_creates_its_directory_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("new-home");
        AuditLog::open(&home.join("audit.jsonl")).unwrap();
        let mode = std::fs::metadata(&home).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    fn invocation(result: Result<Outcome, CallError>) -> Invocation<Outcome> {
        Invocation {
            result,
            exchanges: Vec::new(),
            elapsed: Duration::ZERO,
            peak_memory: 0,
        }
    }

    fn change(kind: ChangeKind, target: &str, status: ChangeStatus) -> Change {
        Change {
            kind,
            target: target.into(),
            before: None,
            after: None,
            status,
        }
    }

    fn context() -> AuditContext {
        AuditContext {
            integration: "acme".into(),
            action: "groups".into(),
            requested: "ada@example.com".into(),
            ..AuditContext::default()
        }
    }

    fn outcome() -> Outcome {
        Outcome {
            user: Some(ResolvedUser {
                email: Some("ada@example.com".into()),
                ids: vec![
                    NamespacedId::new(crate::ids::SCIM, "s-1"),
                    NamespacedId::new(crate::ids::ACCOUNT, "a-1"),
                ],
                active: Some(true),
            }),
            changes: vec![
                change(ChangeKind::AddMembership, "eng", ChangeStatus::Applied),
                change(ChangeKind::AddMembership, "ops", ChangeStatus::AlreadyDone),
                change(
                    ChangeKind::AddMembership,
                    "paid",
                    ChangeStatus::Failed(ConnectorError::Conflict("licence limit".into())),
                ),
            ],
            completed: false,
        }
    }

    #[test]
    fn one_record_per_applied_or_failed_change() {
        let records = records_for(&context(), &invocation(Ok(outcome())), "t".into());
        let summary: Vec<_> = records
            .iter()
            .map(|r| {
                (
                    r.target.as_deref(),
                    r.status.as_str(),
                    r.error_class.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (Some("eng"), "applied", None),
                (Some("paid"), "failed", Some("conflict"))
            ]
        );
        assert_eq!(records[0].user.account_id.as_deref(), Some("a-1"));
        assert_eq!(records[0].change.as_deref(), Some("add-membership"));
    }

    #[test]
    fn recovering_records_already_done_changes_with_a_note() {
        let ctx = AuditContext {
            recovering: Some("completes interrupted run r1".into()),
            ..context()
        };
        let records = records_for(&ctx, &invocation(Ok(outcome())), "t".into());
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].status, "already-done");
        assert_eq!(
            records[1].note.as_deref(),
            Some("completes interrupted run r1")
        );
    }

    #[test]
    fn refused_and_interrupted_actions_leave_one_record() {
        let refused = invocation(Err(CallError::Connector(ConnectorError::PolicyDenied(
            "protected".into(),
        ))));
        let records = records_for(&context(), &refused, "t".into());
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status, "refused");
        assert_eq!(records[0].error_class.as_deref(), Some("policy-denied"));
        assert_eq!(records[0].user.requested, "ada@example.com");

        let killed = invocation(Err(CallError::Host(
            lifecycle_host::InvokeError::WallTimeout(Duration::from_secs(1)),
        )));
        let records = records_for(&context(), &killed, "t".into());
        assert_eq!(records[0].status, "interrupted");
        assert_eq!(records[0].error_class.as_deref(), Some("timeout"));
    }

    #[test]
    fn appends_lines_that_read_back_and_filter_by_user() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.record(&context(), &invocation(Ok(outcome()))).unwrap();
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        log.record(&context(), &invocation(Ok(outcome()))).unwrap();
        let all = AuditLog::read_all(&path).unwrap();
        assert_eq!(all.len(), 4);
        assert!(all.iter().all(|r| r.user.is("ADA@example.com")));
        assert!(!all[0].time.is_empty() && all[0].time.ends_with('Z'));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_recovered_lost_create_is_recorded_when_the_person_is_found() {
        let ctx = AuditContext {
            action: "sync".into(),
            recovering: Some("completes the unanswered attempt of run r1".into()),
            lost: Some("create-user".into()),
            ..context()
        };
        let found = Outcome {
            changes: vec![change(
                ChangeKind::UpdateUser,
                "ada@example.com",
                ChangeStatus::AlreadyDone,
            )],
            completed: true,
            ..outcome()
        };
        let records = records_for(&ctx, &invocation(Ok(found)), "t".into());
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].change.as_deref(), Some("create-user"));
        assert_eq!(records[0].status, "already-done");
        assert_eq!(records[0].target.as_deref(), Some("ada@example.com"));
        assert!(
            records[0]
                .note
                .as_deref()
                .is_some_and(|n| n.contains("run r1") && n.contains("the person exists")),
            "{records:?}"
        );
        // Without the lost create, nothing is made up.
        let plain = AuditContext { lost: None, ..ctx };
        let found = Outcome {
            changes: Vec::new(),
            completed: true,
            ..outcome()
        };
        assert!(records_for(&plain, &invocation(Ok(found)), "t".into()).is_empty());
    }

    #[test]
    fn a_dry_run_leaves_no_record_even_when_refused() {
        let ctx = AuditContext {
            dry_run: true,
            ..context()
        };
        let refused = invocation(Err(CallError::Connector(ConnectorError::NotFound(
            "no such user".into(),
        ))));
        assert!(records_for(&ctx, &refused, "t".into()).is_empty());
        assert!(records_for(&ctx, &invocation(Ok(outcome())), "t".into()).is_empty());
    }

    #[test]
    fn a_torn_last_record_is_reported_ignored_and_the_next_append_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.record(&context(), &invocation(Ok(outcome()))).unwrap();
        drop(log);
        // A crash half way through a write (before this appender) left a fragment.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"time\":\"2026-");
        std::fs::write(&path, &text).unwrap();
        let trail = AuditLog::read(&path).unwrap();
        assert_eq!((trail.records.len(), trail.torn), (2, Some(3)));
        let warning = crate::jsonl::torn_warning("audit log", &path, 3);
        assert!(
            warning.contains("line 3: the last line is an incomplete record"),
            "{warning}"
        );
        // The next writer cuts the fragment off: its record is whole, and nothing is torn.
        let log = AuditLog::open(&path).unwrap();
        log.record(&context(), &invocation(Ok(outcome()))).unwrap();
        let trail = AuditLog::read(&path).unwrap();
        assert_eq!((trail.records.len(), trail.torn), (4, None));
    }

    #[test]
    fn a_malformed_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(
            &path,
            "{\"not\": \"a record\"}\n{\"not\": \"one either\"}\n",
        )
        .unwrap();
        let err = AuditLog::read_all(&path).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(
            AuditLog::read_all(&dir.path().join("absent"))
                .unwrap()
                .is_empty()
        );
    }
}
