//! `host-harness batch`: one action over every identity of a CSV or JSON file, with bounded
//! concurrency, a progress bar on a terminal, a summary, resumption after an interruption and
//! a mass-change guard. The work itself is in [`crate::batch`].

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::batch::guard::{self, DEFAULT_MAX_SHARE, Verdict};
use crate::batch::journal::{Journal, JournalState, NewReason, Plan};
use crate::batch::runner::{ItemResult, ItemStatus, RunOptions, Runner, Work};
use crate::batch::{Action, BatchIdentity, items};
use crate::cli::{EXIT_FAILED, EXIT_OK};
use lifecycle_host::LoadedConnector;

/// Arguments of `batch`.
#[derive(Debug, Clone, clap::Args)]
pub struct BatchArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: super::target::TenantArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub audit: super::target::AuditArgs,
    /// The action applied to every item.
    #[arg(long, value_enum)]
    pub action: Action,
    /// The items: `.csv` with a header row, or `.json` with an array of objects (see the README).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Items in flight at once (1 to 64).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// The largest share of the organization's users a deprovision or delete batch may touch
    /// without --allow-mass-change (a fraction: 0.10 is 10%).
    #[arg(long, default_value_t = DEFAULT_MAX_SHARE, value_parser = parse_share, value_name = "FRACTION")]
    pub max_share: f64,
    /// Run a deprovision or delete batch even when it exceeds --max-share.
    #[arg(long)]
    pub allow_mass_change: bool,
    /// With --action delete: also delete each Atlassian account.
    #[arg(long)]
    pub purge_account: bool,
    /// Plan every item without writing anything (no journal either).
    #[arg(long)]
    pub dry_run: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Ignore an unfinished earlier run of this batch and run every item again.
    #[arg(long)]
    pub restart: bool,
    /// Stop starting items after this many in a row got no answer from the upstream (it is
    /// down); 0 tries every item.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub max_unanswered: usize,
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{s}` is not a fraction between 0 and 1 (0.10 is 10%)"
        )),
    }
}

/// The machine-readable summary (`--json`).
#[derive(Debug, Serialize)]
pub struct Report {
    /// The run's id (in every audit record it wrote).
    pub run: String,
    /// The action.
    pub action: Action,
    /// The integration.
    pub integration: String,
    /// The batch file.
    pub input: String,
    /// Items in the batch.
    pub items: usize,
    /// Whether nothing was written upstream.
    pub dry_run: bool,
    /// Whether this run resumed an interrupted one.
    pub resumed: bool,
    /// Items skipped because an earlier attempt of this run completed them.
    pub skipped: usize,
    /// Items run again to complete an interrupted attempt.
    pub recovered: usize,
    /// Items by how they ended (`skipped` included).
    pub counts: BTreeMap<String, usize>,
    /// The mass-change guard's verdict, for deprovision and delete batches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<Verdict>,
    /// Wall-clock time of the run, in milliseconds.
    pub elapsed_ms: u128,
    /// Whether every item succeeded.
    pub succeeded: bool,
    /// Set when the run stopped starting items because this many in a row got no answer
    /// from the upstream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_unanswered: Option<usize>,
    /// The items that did not succeed, with why (items stopped before they started are only
    /// counted, as `not-run`).
    pub failed_items: Vec<ItemResult>,
}

/// Runs `batch`. With `--json`, a batch that cannot run prints its error as JSON
/// (`{"error": "…", "succeeded": false}`) on standard output too.
pub async fn run(connector: &LoadedConnector, args: &BatchArgs) -> anyhow::Result<u8> {
    match run_batch(connector, args).await {
        Err(e) if args.json => {
            let message = crate::cli::error_text(&e);
            println!(
                "{}",
                lifecycle_host::json::to_string_pretty(&serde_json::json!({
                    "error": message,
                    "succeeded": false,
                }))?
            );
            eprintln!("host-harness: {message}");
            Ok(crate::cli::EXIT_ERROR)
        }
        other => other,
    }
}

async fn run_batch(connector: &LoadedConnector, args: &BatchArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    if args.purge_account && args.action != Action::Delete {
        bail!("--purge-account goes with --action delete only");
    }
    // Everything that can refuse the batch comes before anything is written.
    let (items, bytes) = items::load(&args.input, args.action)?;
    let (tenant, integration) = args.target.tenant()?;
    // The journal is keyed on the target organization, not the integration's name: the same
    // file against another organization (under the same name or not) is another batch.
    let identity = BatchIdentity::new(args.action, &tenant, &bytes, args.purge_account);
    let key = identity.key();
    let mut journal = None;
    let plan = if args.dry_run {
        Plan::New {
            run: format!("{key}.dry-run"),
            reason: None,
        }
    } else {
        let path = Journal::path_in(&args.target.home.home()?, &key);
        let state = if path.exists() {
            // Lock before reading, so two processes never run the same batch.
            journal = Some(Journal::open(&path)?);
            let state = JournalState::read(&path)?;
            if let Some(line) = state.as_ref().and_then(|s| s.torn) {
                eprintln!(
                    "warning: {} (its items not completed run again in recovery mode)",
                    crate::jsonl::torn_warning("batch journal", &path, line)
                );
            }
            state
        } else {
            None
        };
        Plan::decide(
            &identity,
            state.as_ref().map(|s| (path.as_path(), s)),
            args.restart,
            items.len(),
        )?
    };
    let work: Vec<Work> = match &plan {
        Plan::New { .. } => (0..items.len())
            .map(|index| Work {
                index,
                recover: false,
                lost: None,
            })
            .collect(),
        Plan::Resume {
            completed,
            recover,
            lost,
            ..
        } => (0..items.len())
            .filter(|i| !completed.contains(i))
            .map(|index| Work {
                index,
                recover: recover.contains(&index),
                lost: lost.get(&index).cloned(),
            })
            .collect(),
    };
    let verdict = if args.action.removes_people() && !work.is_empty() {
        let users = guard::count_users(connector, &tenant)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot count the organization's users for the mass-change guard: {e}; nothing was changed"
                )
            })?;
        let verdict = Verdict::new(work.len(), users, args.max_share);
        if !verdict.allowed() && !args.allow_mass_change && !args.dry_run {
            bail!("{}", verdict.refusal(args.action.name()));
        }
        Some(verdict)
    } else {
        None
    };

    // The batch starts: from here on, every write is journalled and audited.
    let out = Output { json: args.json };
    let run_id = plan.run().to_owned();
    out.line(&format!(
        "batch {run_id}: {} {} item{} from {} on {}{}",
        args.action,
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        args.input.display(),
        integration,
        if args.dry_run {
            " (dry run: nothing is written)"
        } else {
            ""
        },
    ));
    match &plan {
        Plan::New {
            reason: Some(NewReason::Finished),
            ..
        } => out.line("this batch finished earlier: running it again as a new run"),
        Plan::New {
            reason: Some(NewReason::Restart),
            ..
        } => out.line("--restart: a new run; every item runs again"),
        Plan::Resume {
            completed, recover, ..
        } => {
            let skipped = format!(
                "{} item{} completed earlier, skipped",
                completed.len(),
                if completed.len() == 1 { "" } else { "s" }
            );
            out.line(&if recover.is_empty() {
                format!("continuing run {run_id}: {skipped}; the rest run again")
            } else {
                format!(
                    "resuming interrupted run {run_id}: {skipped}; {} in flight when it stopped, run again (what they find already done is recorded as completing the interrupted run)",
                    recover.len()
                )
            })
        }
        Plan::New { reason: None, .. } => {}
    }
    if let Some(v) = &verdict
        && !v.allowed()
    {
        if args.dry_run {
            out.line(&format!(
                "warning: without --dry-run, {}",
                v.refusal(args.action.name())
            ));
        } else {
            out.line(&format!(
                "mass-change guard: {} of {} users, allowed by --allow-mass-change",
                v.items, v.users
            ));
        }
    }
    let journal = if args.dry_run {
        None
    } else {
        let journal = match journal.take() {
            Some(journal) => journal,
            None => Journal::open(&Journal::path_in(&args.target.home.home()?, &key))?,
        };
        if let Plan::New { run, .. } = &plan {
            journal.begin(run, &identity, &integration, items.len())?;
        }
        Some(journal)
    };
    let audit = args.audit.open(&args.target.home)?;

    let skipped = items.len() - work.len();
    let recovered = work.iter().filter(|w| w.recover).count();
    let progress = progress_bar(work.len() as u64);
    let stop = Arc::new(AtomicBool::new(false));
    let interrupt = {
        let (stop, progress) = (stop.clone(), progress.clone());
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.store(true, Ordering::SeqCst);
                progress.println(
                    "interrupted: finishing the items in flight (Ctrl-C again to stop at once); run the same command again to resume",
                );
            }
            // A second Ctrl-C stops at once: the journal makes that as safe as a kill.
            if tokio::signal::ctrl_c().await.is_ok() {
                progress.abandon();
                eprintln!("stopped; run the same command again to resume");
                std::process::exit(130);
            }
        })
    };
    let total = items.len();
    let runner = Arc::new(Runner {
        connector: connector.clone(),
        tenant,
        integration: integration.clone(),
        action: args.action,
        run: run_id.clone(),
        audit,
        journal,
        items,
        options: RunOptions {
            dry_run: args.dry_run,
            purge_account: args.purge_account,
            concurrency: usize::from(args.concurrency),
            max_unanswered: args.max_unanswered,
        },
        stop,
        gave_up: AtomicBool::new(false),
    });
    let results = runner
        .clone()
        .run(work, |result| {
            progress.inc(1);
            if !result.status.is_success() {
                progress.set_message(format!("last problem: line {}", result.line));
            }
        })
        .await;
    interrupt.abort();
    progress.finish_and_clear();

    let succeeded = results.iter().all(|r| r.status.is_success());
    let stopped_unanswered = runner
        .gave_up
        .load(Ordering::SeqCst)
        .then_some(args.max_unanswered);
    if succeeded
        && !args.dry_run
        && let Some(journal) = &runner.journal
        && let Err(e) = journal.finished()
    {
        eprintln!("warning: {e}");
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for status in [
        ItemStatus::Completed,
        ItemStatus::AlreadyDone,
        ItemStatus::Failed,
        ItemStatus::Refused,
    ] {
        counts.insert(status_name(status).to_owned(), 0);
    }
    for result in &results {
        *counts
            .entry(status_name(result.status).to_owned())
            .or_default() += 1;
    }
    if skipped > 0 {
        counts.insert("skipped".to_owned(), skipped);
    }
    let report = Report {
        run: run_id,
        action: args.action,
        integration,
        input: args.input.display().to_string(),
        items: total,
        dry_run: args.dry_run,
        resumed: matches!(plan, Plan::Resume { .. }),
        skipped,
        recovered,
        counts,
        guard: verdict,
        elapsed_ms: started.elapsed().as_millis(),
        succeeded,
        stopped_unanswered,
        // Items stopped before they started are counted, not listed one by one.
        failed_items: results
            .into_iter()
            .filter(|r| {
                !r.status.is_success() && (r.status != ItemStatus::NotRun || r.error.is_some())
            })
            .collect(),
    };
    if args.json {
        println!("{}", lifecycle_host::json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report, started.elapsed()));
    }
    Ok(if succeeded { EXIT_OK } else { EXIT_FAILED })
}

/// Informational lines: standard output, or standard error when standard output is JSON.
struct Output {
    json: bool,
}

impl Output {
    fn line(&self, text: &str) {
        if self.json {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }
}

/// A progress bar on standard error when it is a terminal; hidden otherwise.
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} items, eta {eta} {msg}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn status_name(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::Completed => "completed",
        ItemStatus::AlreadyDone => "already-done",
        ItemStatus::Planned => "planned",
        ItemStatus::Failed => "failed",
        ItemStatus::Refused => "refused",
        ItemStatus::Interrupted => "interrupted",
        ItemStatus::Unanswered => "unanswered",
        ItemStatus::NotRun => "not-run",
    }
}

/// The readable summary.
pub fn render(report: &Report, elapsed: Duration) -> String {
    let mut out = format!(
        "summary: {} item{} in {:.1}s\n",
        report.items,
        if report.items == 1 { "" } else { "s" },
        elapsed.as_secs_f64()
    );
    let order = [
        "completed",
        "already-done",
        "planned",
        "skipped",
        "failed",
        "refused",
        "interrupted",
        "unanswered",
        "not-run",
    ];
    for name in order {
        let Some(count) = report.counts.get(name) else {
            continue;
        };
        let note = match name {
            "skipped" => "  (completed by an earlier attempt of this run)",
            "already-done" => "  (nothing needed changing)",
            "not-run" => "  (stopped before they started)",
            "unanswered" => "  (no answer from the upstream: run again to recover them)",
            _ => "",
        };
        out.push_str(&format!(
            "  {:<13} {count:>6}{note}\n",
            name.replace('-', " ")
        ));
    }
    if report.recovered > 0 {
        out.push_str(&format!(
            "  ({} item{} run again to complete the interrupted run)\n",
            report.recovered,
            if report.recovered == 1 { "" } else { "s" }
        ));
    }
    if !report.failed_items.is_empty() {
        out.push_str("failed items:\n");
        for item in &report.failed_items {
            out.push_str(&format!(
                "  line {:<5} {}  {}: {}\n",
                item.line,
                item.user,
                status_name(item.status),
                item.error.as_deref().unwrap_or("no reason given")
            ));
        }
    }
    if report.succeeded {
        out.push_str(&format!(
            "batch {}: every item {}\n",
            if report.dry_run {
                "planned"
            } else {
                "completed"
            },
            if report.dry_run {
                "planned"
            } else {
                "succeeded"
            }
        ));
    } else {
        let not_run = report.counts.get("not-run").copied().unwrap_or(0);
        let failed = report.failed_items.len();
        if let Some(n) = report.stopped_unanswered {
            out.push_str(&format!(
                "batch STOPPED EARLY: {n} items in a row got no answer from the upstream, so the rest were not tried (--max-unanswered); run the same command again once it answers (unanswered items are recovered, marked)\n"
            ));
        }
        if not_run > 0 {
            out.push_str(&format!(
                "batch INTERRUPTED: {not_run} of {} items did not run; run the same command again to resume\n",
                report.items
            ));
        }
        if failed > 0 {
            out.push_str(&format!(
                "batch FAILED: {failed} of {} items did not succeed; run the same command again to retry them (completed items are skipped), or fix them in a new batch file\n",
                report.items
            ));
        }
    }
    out
}
