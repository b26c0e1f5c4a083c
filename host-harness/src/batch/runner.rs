//! Running a batch's items: at most `concurrency` at a time, each invocation in a fresh
//! instance of the one loaded connector, every outcome recorded in the audit log under the
//! batch's run id, and every item's start and end in the journal.
//!
//! The order on disk for one item is: `started` in the journal, the invocation(s), their audit
//! records, `done` in the journal. So whatever moment the process is killed at, an item is
//! either `done` with its records on disk, or it runs again on resume in recovery mode, where
//! the changes it finds already done are recorded with a note instead of being lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt as _;

use super::Action;
use super::items::Item;
use super::journal::{DoneStatus, Journal};
use crate::audit::{AuditContext, AuditLog};
use crate::dispatch::{Action as Bound, Dispatched, Dispatcher};
use lifecycle_host::bindings::types::{
    ActionOptions, ChangeKind, ChangeStatus, ConnectorError, DeleteOptions, Outcome, SyncOptions,
};
use lifecycle_host::{CallError, Invocation, LoadedConnector, Tenant};

/// How an item ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemStatus {
    /// At least one change was applied and none failed.
    Completed,
    /// Nothing needed changing: every change was already done.
    AlreadyDone,
    /// A dry run: the changes it would make.
    Planned,
    /// A change failed (the others may have been applied).
    Failed,
    /// The connector refused the action as a whole (bad input, not found, denied): no write.
    Refused,
    /// The host ended an invocation (timeout, crash): run the batch again to finish it.
    Interrupted,
    /// The upstream did not answer (transport error, `unavailable`, timeout): a write may have
    /// been committed without its answer; run the batch again to recover it.
    Unanswered,
    /// Not run: the batch was stopped first (Ctrl-C) or could not journal it.
    NotRun,
}

impl ItemStatus {
    /// Whether the item succeeded.
    pub fn is_success(self) -> bool {
        matches!(self, Self::Completed | Self::AlreadyDone | Self::Planned)
    }

    /// The status as the journal records it (`None` for an item that did not run).
    pub fn journal(self) -> Option<DoneStatus> {
        Some(match self {
            Self::Completed | Self::AlreadyDone | Self::Planned => DoneStatus::Completed,
            Self::Failed => DoneStatus::Failed,
            Self::Refused => DoneStatus::Refused,
            Self::Interrupted => DoneStatus::Interrupted,
            Self::Unanswered => DoneStatus::Unanswered,
            Self::NotRun => return None,
        })
    }
}

/// The result of one item.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ItemResult {
    /// The item's index in the batch (0-based, file order).
    pub index: usize,
    /// The item's line in the batch file.
    pub line: usize,
    /// The person as given.
    pub user: String,
    /// How it ended.
    pub status: ItemStatus,
    /// Changes applied.
    pub applied: usize,
    /// Why it did not succeed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether it ran again to complete an interrupted run.
    pub recovered: bool,
}

/// One item to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Work {
    /// The item's index.
    pub index: usize,
    /// Whether an earlier run may have changed something for it without recording it.
    pub recover: bool,
    /// With `recover`: the kind of a change whose answer the earlier attempt lost.
    pub lost: Option<String>,
}

/// Options of a batch run.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Plan only: nothing is written upstream.
    pub dry_run: bool,
    /// `delete`: also delete the Atlassian account.
    pub purge_account: bool,
    /// Items in flight at most.
    pub concurrency: usize,
    /// Stop starting items after this many unanswered items in a row (the upstream is down);
    /// 0 never stops.
    pub max_unanswered: usize,
}

/// Everything a batch run shares between its items.
pub struct Runner {
    /// The loaded connector; each invocation gets its own store and instance.
    pub connector: LoadedConnector,
    /// The tenant.
    pub tenant: Tenant,
    /// The integration's name, for the audit log.
    pub integration: String,
    /// The action.
    pub action: Action,
    /// The run's id, in every audit record.
    pub run: String,
    /// The audit log.
    pub audit: AuditLog,
    /// The journal (none in a dry run).
    pub journal: Option<Journal>,
    /// The items.
    pub items: Vec<Item>,
    /// Options.
    pub options: RunOptions,
    /// Set to stop starting new items (items in flight finish).
    pub stop: Arc<AtomicBool>,
    /// Set when the run stopped early because the upstream stopped answering.
    pub gave_up: AtomicBool,
}

impl Runner {
    /// Runs `work`, calling `on_done` as each item ends (in completion order), and returns
    /// every result in item order.
    pub async fn run(
        self: Arc<Self>,
        work: Vec<Work>,
        mut on_done: impl FnMut(&ItemResult),
    ) -> Vec<ItemResult> {
        let concurrency = self.options.concurrency.max(1);
        let mut stream = futures::stream::iter(work)
            .map(|w| {
                let this = self.clone();
                let mine = w.clone();
                let handle = tokio::spawn(async move { this.run_item(mine).await });
                let this = self.clone();
                async move {
                    handle.await.unwrap_or_else(|e| {
                        this.result(
                            &w,
                            ItemStatus::Interrupted,
                            0,
                            Some(format!("the item's task ended: {e}")),
                        )
                    })
                }
            })
            .buffer_unordered(concurrency);
        let mut results = Vec::new();
        let mut unanswered_in_a_row = 0;
        while let Some(result) = stream.next().await {
            match result.status {
                ItemStatus::Unanswered => unanswered_in_a_row += 1,
                ItemStatus::NotRun => {}
                _ => unanswered_in_a_row = 0,
            }
            let max = self.options.max_unanswered;
            if max > 0 && unanswered_in_a_row >= max && !self.stop.swap(true, Ordering::SeqCst) {
                self.gave_up.store(true, Ordering::SeqCst);
            }
            on_done(&result);
            results.push(result);
        }
        results.sort_by_key(|r| r.index);
        results
    }

    fn result(
        &self,
        work: &Work,
        status: ItemStatus,
        applied: usize,
        error: Option<String>,
    ) -> ItemResult {
        let item = &self.items[work.index];
        ItemResult {
            index: work.index,
            line: item.line,
            user: item.user.clone(),
            status,
            applied,
            error,
            recovered: work.recover,
        }
    }

    async fn run_item(&self, work: Work) -> ItemResult {
        if self.stop.load(Ordering::SeqCst) {
            return self.result(&work, ItemStatus::NotRun, 0, None);
        }
        let item = &self.items[work.index];
        if let Some(journal) = &self.journal
            && let Err(e) = journal.started(work.index, item.line)
        {
            return self.result(&work, ItemStatus::NotRun, 0, Some(e.to_string()));
        }
        let dispatcher = Dispatcher {
            connector: &self.connector,
            tenant: &self.tenant,
            integration: &self.integration,
            audit: &self.audit,
        };
        // The person as the batch file gives them, under the batch's run id.
        let context = |action: &Bound| AuditContext {
            requested: item.user.clone(),
            run: Some(self.run.clone()),
            recovering: work.recover.then(|| match &work.lost {
                Some(_) => format!("completes the unanswered attempt of run {}", self.run),
                None => format!("completes interrupted run {}", self.run),
            }),
            lost: work.lost.clone(),
            ..dispatcher.context(action)
        };
        let dry_run = self.options.dry_run;
        let action = match self.action {
            Action::Sync => Bound::Sync(
                item.identity(),
                SyncOptions {
                    create_missing: true,
                    update_existing: true,
                    dry_run,
                },
            ),
            Action::Groups => self.groups(item),
            Action::Deprovision => {
                Bound::Deprovision(item.user_ref.clone(), ActionOptions { dry_run }, false)
            }
            Action::Delete => Bound::Delete(
                item.user_ref.clone(),
                DeleteOptions {
                    purge_account: self.options.purge_account,
                    dry_run,
                },
            ),
            Action::Reactivate => Bound::Reactivate(
                item.user_ref.clone(),
                crate::entitlement::entitlements(&item.add, &[]),
                ActionOptions { dry_run },
            ),
        };
        let Dispatched {
            invocation: first,
            recorded,
        } = dispatcher.run(&action, &context(&action)).await;
        if let Err(e) = recorded {
            return self.unrecorded(&work, e);
        }
        let mut summary = Summary::of(&first);
        // A sync item with groups sets them once the person exists. In a dry run, a person
        // who would be created cannot be looked up yet: their groups are part of the plan.
        let planned_create = first.result.as_ref().is_ok_and(|o| {
            o.changes
                .iter()
                .any(|c| c.kind == ChangeKind::CreateUser && c.status == ChangeStatus::Planned)
        });
        if self.action == Action::Sync
            && item.has_groups()
            && summary.status.is_success()
            && !planned_create
        {
            let groups = self.groups(item);
            let Dispatched {
                invocation: second,
                recorded,
            } = dispatcher.run(&groups, &context(&groups)).await;
            if let Err(e) = recorded {
                return self.unrecorded(&work, e);
            }
            summary = summary.then(Summary::of(&second));
        }
        if !dry_run
            && let Some(journal) = &self.journal
            && let Some(status) = summary.status.journal()
            && let Err(e) = journal.done(work.index, item.line, status, summary.lost.clone())
        {
            // The item ran and its records are on disk; only the journal missed its end, so a
            // resumed run will repeat it in recovery mode (marked in the audit log).
            return self.result(
                &work,
                ItemStatus::Failed,
                summary.applied,
                Some(format!(
                    "{e} (the item ran; re-running the batch repeats it, marked)"
                )),
            );
        }
        self.result(&work, summary.status, summary.applied, summary.error)
    }

    /// The item's group changes as an action.
    fn groups(&self, item: &Item) -> Bound {
        Bound::Groups {
            user: item.user_ref.clone(),
            add: item.to_add(),
            remove: item.to_remove(),
            options: ActionOptions {
                dry_run: self.options.dry_run,
            },
        }
    }

    /// An item whose audit records could not be written: it stays `started` in the journal, so
    /// a resumed run repeats it in recovery mode.
    fn unrecorded(&self, work: &Work, e: crate::audit::AuditError) -> ItemResult {
        self.result(
            work,
            ItemStatus::Failed,
            0,
            Some(format!("the audit log could not record this item: {e}")),
        )
    }
}

/// What one or two invocations of an item amount to.
struct Summary {
    status: ItemStatus,
    applied: usize,
    error: Option<String>,
    /// The kind of a change that got no answer (`unanswered` items).
    lost: Option<String>,
}

/// Whether a connector error means the upstream did not answer, so a write may have been
/// committed without the connector learning of it.
fn unanswered(e: &ConnectorError) -> bool {
    matches!(e, ConnectorError::Unavailable(_))
}

impl Summary {
    fn of(invocation: &Invocation<Outcome>) -> Self {
        match &invocation.result {
            Err(e @ CallError::Connector(c)) => Self {
                status: if unanswered(c) {
                    ItemStatus::Unanswered
                } else {
                    ItemStatus::Refused
                },
                applied: 0,
                error: Some(e.to_string()),
                lost: None,
            },
            Err(e @ CallError::Host(_)) => Self {
                status: ItemStatus::Interrupted,
                applied: 0,
                error: Some(e.to_string()),
                lost: None,
            },
            Ok(outcome) => {
                let applied = outcome
                    .changes
                    .iter()
                    .filter(|c| c.status == ChangeStatus::Applied)
                    .count();
                let failed = outcome.changes.iter().find_map(|c| match &c.status {
                    ChangeStatus::Failed(e) => Some((
                        c.kind.clone(),
                        unanswered(e),
                        format!("{} {}: {}", c.kind, c.target, e.message()),
                    )),
                    _ => None,
                });
                let lost = failed
                    .as_ref()
                    .filter(|(_, unanswered, _)| *unanswered)
                    .map(|(kind, ..)| kind.to_string());
                let (status, error) = if let Some((_, unanswered, error)) = failed {
                    let status = if unanswered {
                        ItemStatus::Unanswered
                    } else {
                        ItemStatus::Failed
                    };
                    (status, Some(error))
                } else if !outcome.completed {
                    (
                        ItemStatus::Failed,
                        Some("the action did not complete".to_owned()),
                    )
                } else if applied > 0 {
                    (ItemStatus::Completed, None)
                } else if outcome
                    .changes
                    .iter()
                    .any(|c| c.status == ChangeStatus::Planned)
                {
                    (ItemStatus::Planned, None)
                } else {
                    (ItemStatus::AlreadyDone, None)
                };
                Self {
                    status,
                    applied,
                    error,
                    lost,
                }
            }
        }
    }

    /// The item's result after a second invocation: its failure wins, else the most done.
    fn then(self, next: Self) -> Self {
        let either = |s: ItemStatus| self.status == s || next.status == s;
        let status = if !next.status.is_success() {
            next.status
        } else if either(ItemStatus::Completed) {
            ItemStatus::Completed
        } else if either(ItemStatus::Planned) {
            ItemStatus::Planned
        } else {
            ItemStatus::AlreadyDone
        };
        Self {
            status,
            applied: self.applied + next.applied,
            error: next.error.or(self.error),
            lost: next.lost.or(self.lost),
        }
    }
}
