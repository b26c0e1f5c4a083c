//! The journal of a batch: what a batch run started and finished, item by item, so that a run
//! stopped half way (a killed process, a lost machine, Ctrl-C) resumes where it stopped.
//!
//! One JSON Lines file per batch in the harness's home, `batches/<key>.jsonl` (the key is
//! [`super::BatchIdentity::key`], a digest of the target organization, the action, its options
//! and the input's bytes), each line appended and synced to disk before the harness moves on:
//!
//! ```text
//! {"event":"begin","run":"sync-3f…","action":"sync","integration":"acme","items":40,"time":"…",
//!  "identity":{"action":"sync","scim_url":"https://…/scim/directory/…","organization_id":"…",
//!              "atlassian_api_url":null,"purge_account":false,"input_sha256":"…"}}
//! {"event":"started","item":0,"line":2}        before the item's first invocation
//! {"event":"done","item":0,"line":2,"status":"completed"}   after its audit records are synced
//! {"event":"finished","time":"…"}              every item completed
//! ```
//!
//! An item that was `started` but is not `done` may have changed something that the audit log
//! does not hold yet; when the run resumes, it runs again and the audit log records the changes
//! it finds already done, marked as completing the interrupted run. A finished batch run again
//! begins a new run (`<key>.2`, `<key>.3`, …) in the same file. A run resumes only when the
//! identity its `begin` recorded is the current batch's, part for part: an unfinished run of
//! another batch (another organization, action, option or file) is refused, naming what
//! differs, rather than have its completed items skipped here. The file holds item numbers,
//! names of actions and integrations, the target's URLs and ids, digests and times: never a
//! secret.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::BatchIdentity;
use crate::integrations::Home;
use crate::jsonl::{Appender, Locking};

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be opened, read, written or synced.
    #[error("batch journal {path}: {cause}")]
    Io {
        /// The journal file.
        path: String,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// A line before the last is not an entry: the journal was damaged by something other
    /// than a write cut short, so it is not trusted to say what is done.
    #[error("batch journal {path}, line {line}: not a journal entry: {message}")]
    Malformed {
        /// The journal file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Another process holds the journal: the same batch is running there.
    #[error(
        "this batch is already running in another process (its journal {path} is locked); wait for it to end, or stop it"
    )]
    Busy {
        /// The journal file.
        path: String,
    },
    /// The journal's unfinished run is of another batch: resuming it would skip items that
    /// were completed somewhere else (or with other options, or from another file).
    #[error(
        "the journal {path} holds unfinished run {run} of another batch, so it is not resumed (its completed items would be skipped here): {}; nothing was changed. Give --restart to run every item of this batch as a new run",
        differences.join("; ")
    )]
    OtherBatch {
        /// The journal file.
        path: String,
        /// The unfinished run.
        run: String,
        /// What differs, one phrase each.
        differences: Vec<String>,
    },
}

/// How an item ended, as the journal records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DoneStatus {
    /// Every change applied or already done (or planned, in a dry run).
    Completed,
    /// A change failed; its record is in the audit log.
    Failed,
    /// The connector refused the action as a whole (bad input, not found, denied).
    Refused,
    /// The host ended an invocation: what it changed is unknown until it runs again.
    Interrupted,
    /// A write got no answer (transport error, `unavailable`, timeout): the upstream may have
    /// committed it, so the item runs again in recovery mode, like an interrupted one.
    Unanswered,
}

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Entry {
    /// A run begins.
    Begin {
        /// The run's id (also in every audit record it writes).
        run: String,
        /// The action.
        action: String,
        /// The integration.
        integration: String,
        /// How many items the batch has.
        items: usize,
        /// When, RFC 3339 UTC.
        time: String,
        /// What the run acts on and how (absent in journals written before it was recorded:
        /// such a run is never resumed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<Box<BatchIdentity>>,
    },
    /// An item's first invocation is about to start.
    Started {
        /// The item's index (0-based, in file order).
        item: usize,
        /// The item's line in the batch file (for people reading the journal).
        line: usize,
    },
    /// An item ended and its audit records are on disk.
    Done {
        /// The item's index.
        item: usize,
        /// The item's line in the batch file.
        line: usize,
        /// How it ended.
        status: DoneStatus,
        /// With `unanswered`: the kind of the change whose answer was lost (`create-user`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lost: Option<String>,
    },
    /// Every item of the run completed.
    Finished {
        /// When, RFC 3339 UTC.
        time: String,
    },
}

/// What a journal file says about the batch's latest run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JournalState {
    /// The latest run's id, if any run began.
    pub run: Option<String>,
    /// What the latest run acts on, as its `begin` recorded it.
    pub identity: Option<Box<BatchIdentity>>,
    /// How many runs began in this file.
    pub runs: u32,
    /// Whether the latest run finished (every item completed).
    pub finished: bool,
    /// Items of the latest run that were started.
    pub started: BTreeSet<usize>,
    /// Items of the latest run that ended, with how (the last word for each).
    pub done: BTreeMap<usize, DoneStatus>,
    /// Items whose last attempt lost the answer to a change, with the change's kind.
    pub lost: BTreeMap<usize, String>,
    /// Whether the last line could not be read (cut short by a crash or a full disk). Then
    /// every item not completed is treated as possibly started.
    pub damaged: bool,
    /// The 1-based number of that torn last line (ignored), to report.
    pub torn: Option<usize>,
}

impl JournalState {
    /// Reads the journal at `path`; `None` when there is none.
    pub fn read(path: &Path) -> Result<Option<Self>, JournalError> {
        let kind = lifecycle_host::files::Kind::Journal;
        match lifecycle_host::files::read_bounded(path, kind, kind.limit()) {
            Ok(bytes) => Self::parse(&String::from_utf8_lossy(&bytes))
                .map(Some)
                .map_err(|bad| JournalError::Malformed {
                    path: path.display().to_string(),
                    line: bad.line,
                    message: bad.message,
                }),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(JournalError::Io {
                path: path.display().to_string(),
                cause: std::io::Error::other(e.to_string()),
            }),
        }
    }

    /// Reads a journal's text. A last line that is not an entry (cut short) marks the state
    /// damaged; a bad line before it is an error (line number and what is wrong).
    pub fn parse(text: &str) -> Result<Self, crate::jsonl::BadLine> {
        let lines = crate::jsonl::parse::<Entry>(text)?;
        let mut state = Self::default();
        for (_, entry) in lines.records {
            match entry {
                Entry::Begin { run, identity, .. } => {
                    state = Self {
                        run: Some(run),
                        identity,
                        runs: state.runs + 1,
                        ..Self::default()
                    };
                }
                Entry::Started { item, .. } => {
                    state.started.insert(item);
                }
                Entry::Done {
                    item, status, lost, ..
                } => {
                    state.done.insert(item, status);
                    match lost {
                        Some(kind) => state.lost.insert(item, kind),
                        None => state.lost.remove(&item),
                    };
                }
                Entry::Finished { .. } => state.finished = true,
            }
        }
        state.torn = lines.torn;
        state.damaged = lines.torn.is_some();
        Ok(state)
    }
}

/// What a run of a batch does with the items of an earlier run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// A new run: every item runs.
    New {
        /// The new run's id.
        run: String,
        /// Why it is new when a journal existed: `None` for the batch's first run.
        reason: Option<NewReason>,
    },
    /// The latest run goes on.
    Resume {
        /// The run's id.
        run: String,
        /// Items completed in the earlier attempt: skipped.
        completed: BTreeSet<usize>,
        /// Items that may have changed something without recording it: they run again, and
        /// the audit log records what they find already done, marked.
        recover: BTreeSet<usize>,
        /// Of those, the items whose last attempt got no answer to a change, with its kind.
        lost: BTreeMap<usize, String>,
    },
}

/// Why a batch with a journal begins a new run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewReason {
    /// The latest run completed every item.
    Finished,
    /// `--restart` was given.
    Restart,
}

impl Plan {
    /// Decides what to run, from the batch's identity, its journal (path and state),
    /// `--restart` and the number of items in the batch. An unfinished run recorded for
    /// another identity is an error rather than a resume.
    pub fn decide(
        identity: &BatchIdentity,
        journal: Option<(&Path, &JournalState)>,
        restart: bool,
        items: usize,
    ) -> Result<Self, JournalError> {
        let key = identity.key();
        let Some((path, state)) = journal else {
            return Ok(Self::New {
                run: key,
                reason: None,
            });
        };
        let next = || match state.runs {
            0 => key.to_owned(),
            n => format!("{key}.{}", n + 1),
        };
        Ok(match &state.run {
            None => Self::New {
                run: next(),
                reason: None,
            },
            Some(_) if restart => Self::New {
                run: next(),
                reason: Some(NewReason::Restart),
            },
            Some(_) if state.finished => Self::New {
                run: next(),
                reason: Some(NewReason::Finished),
            },
            Some(run) => {
                let differences = match &state.identity {
                    Some(earlier) => identity.differences(earlier),
                    None => vec!["its run does not record which organization, action, options and file it was for".to_owned()],
                };
                if !differences.is_empty() {
                    return Err(JournalError::OtherBatch {
                        path: path.display().to_string(),
                        run: run.clone(),
                        differences,
                    });
                }
                let completed: BTreeSet<usize> = state
                    .done
                    .iter()
                    .filter(|(_, s)| **s == DoneStatus::Completed)
                    .map(|(i, _)| *i)
                    .collect();
                let recover = (0..items)
                    .filter(|i| !completed.contains(i))
                    .filter(|i| {
                        state.damaged
                            || (state.started.contains(i)
                                && matches!(
                                    state.done.get(i),
                                    None | Some(DoneStatus::Interrupted | DoneStatus::Unanswered)
                                ))
                    })
                    .collect();
                let lost = state
                    .lost
                    .iter()
                    .filter(|(i, _)| state.done.get(i) == Some(&DoneStatus::Unanswered))
                    .map(|(i, k)| (*i, k.clone()))
                    .collect();
                Self::Resume {
                    run: run.clone(),
                    completed,
                    recover,
                    lost,
                }
            }
        })
    }

    /// The run's id.
    pub fn run(&self) -> &str {
        match self {
            Self::New { run, .. } | Self::Resume { run, .. } => run,
        }
    }
}

/// An open journal, locked against other processes for as long as it is open.
#[derive(Debug)]
pub struct Journal {
    file: Appender,
}

impl Journal {
    /// The journal file of the batch `key` in `home`.
    pub fn path_in(home: &Home, key: &str) -> PathBuf {
        home.root().join("batches").join(format!("{key}.jsonl"))
    }

    /// Opens (creating it, owner-only, if absent) the journal for appending and takes its lock.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        let io = |cause| JournalError::Io {
            path: path.display().to_string(),
            cause,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(io)?;
        }
        let file = Appender::open(path, Locking::Held).map_err(io)?;
        match file.with_file(|f| f.try_lock()) {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::Busy {
                    path: path.display().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        Ok(Self { file })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Appends one entry and syncs it to disk before returning; an append that fails leaves
    /// the file ending at an entry boundary.
    pub fn append(&self, entry: &Entry) -> Result<(), JournalError> {
        self.file.append(entry).map_err(|cause| JournalError::Io {
            path: self.path().display().to_string(),
            cause,
        })
    }

    /// Records that a run of the batch `identity` begins.
    pub fn begin(
        &self,
        run: &str,
        identity: &BatchIdentity,
        integration: &str,
        items: usize,
    ) -> Result<(), JournalError> {
        self.append(&Entry::Begin {
            run: run.to_owned(),
            action: identity.action.clone(),
            integration: integration.to_owned(),
            items,
            time: crate::audit::now(),
            identity: Some(Box::new(identity.clone())),
        })
    }

    /// Records that an item is about to run.
    pub fn started(&self, item: usize, line: usize) -> Result<(), JournalError> {
        self.append(&Entry::Started { item, line })
    }

    /// Records that an item ended (after its audit records are on disk); `lost` names the
    /// kind of a change whose answer was lost.
    pub fn done(
        &self,
        item: usize,
        line: usize,
        status: DoneStatus,
        lost: Option<String>,
    ) -> Result<(), JournalError> {
        self.append(&Entry::Done {
            item,
            line,
            status,
            lost,
        })
    }

    /// Records that every item of the run completed.
    pub fn finished(&self) -> Result<(), JournalError> {
        self.append(&Entry::Finished {
            time: crate::audit::now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Action;
    use lifecycle_host::Tenant;

    fn set(items: &[usize]) -> BTreeSet<usize> {
        items.iter().copied().collect()
    }

    fn identity(directory: &str) -> BatchIdentity {
        let tenant = Tenant::default()
            .with_setting("instance_name", "acme")
            .with_setting(
                "scim_url",
                format!("https://api.atlassian.com/scim/directory/{directory}"),
            )
            .with_setting("scim_organization_id", "org-1");
        BatchIdentity::new(Action::Sync, &tenant, b"email\na@x\n", false)
    }

    #[test]
    fn a_fresh_batch_is_a_new_run_named_by_its_key() {
        let id = identity("d1");
        assert_eq!(
            Plan::decide(&id, None, false, 3).unwrap(),
            Plan::New {
                run: id.key(),
                reason: None
            }
        );
    }

    #[test]
    fn an_interrupted_run_resumes_and_recovers_what_was_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let id = identity("d1");
        let key = id.key();
        let path = Journal::path_in(&Home::at(dir.path()), &key);
        let journal = Journal::open(&path).unwrap();
        journal.begin(&key, &id, "acme", 5).unwrap();
        for i in 0..5 {
            journal.started(i, i + 2).unwrap();
        }
        journal.done(0, 2, DoneStatus::Completed, None).unwrap();
        journal.done(1, 3, DoneStatus::Failed, None).unwrap();
        journal.done(2, 4, DoneStatus::Interrupted, None).unwrap();
        journal
            .done(3, 5, DoneStatus::Unanswered, Some("create-user".into()))
            .unwrap();
        // A second process cannot run the same batch at the same time.
        assert!(matches!(
            Journal::open(&path),
            Err(JournalError::Busy { .. })
        ));
        drop(journal);
        let state = JournalState::read(&path).unwrap().unwrap();
        assert_eq!(state.runs, 1);
        assert_eq!(state.identity.as_deref(), Some(&id));
        assert_eq!(
            Plan::decide(&id, Some((&path, &state)), false, 6).unwrap(),
            Plan::Resume {
                run: key.clone(),
                completed: set(&[0]),
                // 1 failed with its records written: it runs again as usual; 3's create got
                // no answer: it may have been committed, so it is recovered like 2 and 4.
                recover: set(&[2, 3, 4]),
                lost: [(3, "create-user".to_owned())].into_iter().collect(),
            }
        );
        assert_eq!(
            Plan::decide(&id, Some((&path, &state)), true, 6).unwrap(),
            Plan::New {
                run: format!("{key}.2"),
                reason: Some(NewReason::Restart)
            }
        );
    }

    #[test]
    fn an_unfinished_run_of_another_batch_is_refused_naming_what_differs() {
        let dir = tempfile::tempdir().unwrap();
        let there = identity("d1");
        let path = Journal::path_in(&Home::at(dir.path()), &there.key());
        let journal = Journal::open(&path).unwrap();
        journal.begin(&there.key(), &there, "acme", 2).unwrap();
        journal.started(0, 2).unwrap();
        journal.done(0, 2, DoneStatus::Completed, None).unwrap();
        drop(journal);
        let state = JournalState::read(&path).unwrap().unwrap();

        // The same journal read for a batch on another directory (a copied file, a collision).
        let here = identity("d2");
        let refused = Plan::decide(&here, Some((&path, &state)), false, 2).unwrap_err();
        let message = refused.to_string();
        assert!(matches!(refused, JournalError::OtherBatch { .. }));
        for expected in [
            "of another batch",
            "the SCIM URL (scim_url): `https://api.atlassian.com/scim/directory/d1` then, `https://api.atlassian.com/scim/directory/d2` now",
            "nothing was changed",
            "--restart",
        ] {
            assert!(message.contains(expected), "{expected}: {message}");
        }
        assert!(!message.contains("organization id"), "{message}");
        // --restart begins a new run of this batch; a finished run never resumes either.
        assert!(matches!(
            Plan::decide(&here, Some((&path, &state)), true, 2),
            Ok(Plan::New {
                reason: Some(NewReason::Restart),
                ..
            })
        ));

        // A run that did not record its identity (an older journal) is never resumed.
        let old = "{\"event\":\"begin\",\"run\":\"k\",\"action\":\"sync\",\"integration\":\"a\",\"items\":2,\"time\":\"t\"}\n\
             {\"event\":\"started\",\"item\":0,\"line\":2}\n";
        let state = JournalState::parse(old).unwrap();
        let message = Plan::decide(&here, Some((&path, &state)), false, 2)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("does not record which organization"),
            "{message}"
        );
    }

    #[test]
    fn a_finished_run_begins_a_new_one_and_a_cut_line_recovers_everything_open() {
        let id = identity("d1");
        let key = id.key();
        let begin = serde_json::to_string(&Entry::Begin {
            run: key.clone(),
            action: "sync".into(),
            integration: "a".into(),
            items: 2,
            time: "t".into(),
            identity: Some(Box::new(id.clone())),
        })
        .unwrap();
        let finished = format!("{begin}\n{{\"event\":\"finished\",\"time\":\"t\"}}\n");
        let path = Path::new("journal.jsonl");
        let state = JournalState::parse(&finished).unwrap();
        assert!(state.finished);
        assert_eq!(
            Plan::decide(&id, Some((path, &state)), false, 2).unwrap(),
            Plan::New {
                run: format!("{key}.2"),
                reason: Some(NewReason::Finished)
            }
        );
        // A finished run of another batch is no obstacle either: nothing would be skipped.
        assert!(Plan::decide(&identity("d2"), Some((path, &state)), false, 2).is_ok());
        let cut = format!(
            "{begin}\n{{\"event\":\"started\",\"item\":0,\"line\":2}}\n{{\"event\":\"done\",\"item\":0,\"line\":2,\"status\":\"failed\"}}\n{{\"event\":\"sta"
        );
        let state = JournalState::parse(&cut).unwrap();
        assert!(state.damaged && !state.finished);
        assert_eq!(state.torn, Some(4));
        // A bad line before the last is not a cut write: the journal is not trusted.
        let bad =
            format!("{begin}\nnot an entry\n{{\"event\":\"started\",\"item\":0,\"line\":2}}\n");
        assert_eq!(JournalState::parse(&bad).unwrap_err().line, 2);
        assert!(matches!(
            Plan::decide(&id, Some((path, &state)), false, 2),
            Ok(Plan::Resume { recover, .. }) if recover == set(&[0, 1])
        ));
    }
}
