//! The journal of a batch: what a batch run started and finished, item by item, so that a run
//! stopped half way (a killed process, a lost machine, Ctrl-C) resumes where it stopped.
//!
//! One JSON Lines file per batch in the harness's home, `batches/<key>.jsonl` (the key is
//! [`super::batch_key`]), each line appended and synced to disk before the harness moves on:
//!
//! ```text
//! {"event":"begin","run":"sync-3f…","action":"sync","integration":"acme","items":40,"time":"…"}
//! {"event":"started","item":0,"line":2}        before the item's first invocation
//! {"event":"done","item":0,"line":2,"status":"completed"}   after its audit records are synced
//! {"event":"finished","time":"…"}              every item completed
//! ```
//!
//! An item that was `started` but is not `done` may have changed something that the audit log
//! does not hold yet; when the run resumes, it runs again and the audit log records the changes
//! it finds already done, marked as completing the interrupted run. A finished batch run again
//! begins a new run (`<key>.2`, `<key>.3`, …) in the same file. The file holds item numbers,
//! names of actions and integrations, and times: never a secret.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::integrations::Home;

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
    /// Another process holds the journal: the same batch is running there.
    #[error(
        "this batch is already running in another process (its journal {path} is locked); wait for it to end, or stop it"
    )]
    Busy {
        /// The journal file.
        path: String,
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
    /// How many runs began in this file.
    pub runs: u32,
    /// Whether the latest run finished (every item completed).
    pub finished: bool,
    /// Items of the latest run that were started.
    pub started: BTreeSet<usize>,
    /// Items of the latest run that ended, with how (the last word for each).
    pub done: BTreeMap<usize, DoneStatus>,
    /// Whether a line could not be read (e.g. cut short by a crash). Then every item not
    /// completed is treated as possibly started.
    pub damaged: bool,
}

impl JournalState {
    /// Reads the journal at `path`; `None` when there is none.
    pub fn read(path: &Path) -> Result<Option<Self>, JournalError> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(Self::parse(&String::from_utf8_lossy(&bytes)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(cause) => Err(JournalError::Io {
                path: path.display().to_string(),
                cause,
            }),
        }
    }

    /// Reads a journal's text. A line that is not an entry marks the state damaged.
    pub fn parse(text: &str) -> Self {
        let mut state = Self::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<Entry>(line) {
                Ok(Entry::Begin { run, .. }) => {
                    state = Self {
                        run: Some(run),
                        runs: state.runs + 1,
                        damaged: state.damaged,
                        ..Self::default()
                    };
                }
                Ok(Entry::Started { item, .. }) => {
                    state.started.insert(item);
                }
                Ok(Entry::Done { item, status, .. }) => {
                    state.done.insert(item, status);
                }
                Ok(Entry::Finished { .. }) => state.finished = true,
                Err(_) => state.damaged = true,
            }
        }
        state
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
    /// Decides what to run, from the batch's key, its journal's state, `--restart` and the
    /// number of items in the batch.
    pub fn decide(key: &str, state: Option<&JournalState>, restart: bool, items: usize) -> Self {
        let Some(state) = state else {
            return Self::New {
                run: key.to_owned(),
                reason: None,
            };
        };
        let next = || match state.runs {
            0 => key.to_owned(),
            n => format!("{key}.{}", n + 1),
        };
        match &state.run {
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
                                    None | Some(DoneStatus::Interrupted)
                                ))
                    })
                    .collect();
                Self::Resume {
                    run: run.clone(),
                    completed,
                    recover,
                }
            }
        }
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
    path: PathBuf,
    file: Mutex<File>,
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
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(JournalError::Busy {
                    path: path.display().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one entry and syncs it to disk before returning.
    pub fn append(&self, entry: &Entry) -> Result<(), JournalError> {
        let io = |cause| JournalError::Io {
            path: self.path.display().to_string(),
            cause,
        };
        let mut line = crate::json::to_vec(entry).map_err(|e| io(e.into()))?;
        line.push(b'\n');
        let file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (&*file)
            .write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(io)
    }

    /// Records that a run begins.
    pub fn begin(
        &self,
        run: &str,
        action: &str,
        integration: &str,
        items: usize,
    ) -> Result<(), JournalError> {
        self.append(&Entry::Begin {
            run: run.to_owned(),
            action: action.to_owned(),
            integration: integration.to_owned(),
            items,
            time: crate::audit::now(),
        })
    }

    /// Records that an item is about to run.
    pub fn started(&self, item: usize, line: usize) -> Result<(), JournalError> {
        self.append(&Entry::Started { item, line })
    }

    /// Records that an item ended (after its audit records are on disk).
    pub fn done(&self, item: usize, line: usize, status: DoneStatus) -> Result<(), JournalError> {
        self.append(&Entry::Done { item, line, status })
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

    fn set(items: &[usize]) -> BTreeSet<usize> {
        items.iter().copied().collect()
    }

    #[test]
    fn a_fresh_batch_is_a_new_run_named_by_its_key() {
        assert_eq!(
            Plan::decide("sync-ab", None, false, 3),
            Plan::New {
                run: "sync-ab".into(),
                reason: None
            }
        );
    }

    #[test]
    fn an_interrupted_run_resumes_and_recovers_what_was_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let path = Journal::path_in(&Home::at(dir.path()), "sync-ab");
        let journal = Journal::open(&path).unwrap();
        journal.begin("sync-ab", "sync", "acme", 5).unwrap();
        for i in 0..5 {
            journal.started(i, i + 2).unwrap();
        }
        journal.done(0, 2, DoneStatus::Completed).unwrap();
        journal.done(1, 3, DoneStatus::Failed).unwrap();
        journal.done(2, 4, DoneStatus::Interrupted).unwrap();
        // A second process cannot run the same batch at the same time.
        assert!(matches!(
            Journal::open(&path),
            Err(JournalError::Busy { .. })
        ));
        drop(journal);
        let state = JournalState::read(&path).unwrap().unwrap();
        assert_eq!(state.runs, 1);
        assert_eq!(
            Plan::decide("sync-ab", Some(&state), false, 6),
            Plan::Resume {
                run: "sync-ab".into(),
                completed: set(&[0]),
                // 1 failed with its records written: it runs again as usual.
                recover: set(&[2, 3, 4]),
            }
        );
        assert_eq!(
            Plan::decide("sync-ab", Some(&state), true, 6),
            Plan::New {
                run: "sync-ab.2".into(),
                reason: Some(NewReason::Restart)
            }
        );
    }

    #[test]
    fn a_finished_run_begins_a_new_one_and_a_cut_line_recovers_everything_open() {
        let finished = "{\"event\":\"begin\",\"run\":\"k\",\"action\":\"sync\",\"integration\":\"a\",\"items\":2,\"time\":\"t\"}\n\
             {\"event\":\"finished\",\"time\":\"t\"}\n";
        let state = JournalState::parse(finished);
        assert!(state.finished);
        assert_eq!(
            Plan::decide("k", Some(&state), false, 2),
            Plan::New {
                run: "k.2".into(),
                reason: Some(NewReason::Finished)
            }
        );
        let cut = format!(
            "{}{{\"event\":\"started\",\"item\":0,\"line\":2}}\n{{\"event\":\"done\",\"item\":0,\"line\":2,\"status\":\"failed\"}}\n{{\"event\":\"sta",
            finished.lines().next().unwrap().to_owned() + "\n"
        );
        let state = JournalState::parse(&cut);
        assert!(state.damaged && !state.finished);
        assert!(matches!(
            Plan::decide("k", Some(&state), false, 2),
            Plan::Resume { recover, .. } if recover == set(&[0, 1])
        ));
    }
}
