//! `host-harness workflow run FILE --set NAME=VALUE …` and `workflow show FILE`: run a
//! declarative workflow step by step, each step's outcome printed and audited, stopping at the
//! first step that does not complete (the same command again finishes it: every action is
//! idempotent).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use crate::audit::AuditContext;
use crate::cli::target::{ChangeArgs, Target};
use crate::cli::{EXIT_ERROR, EXIT_FAILED, EXIT_OK};
use crate::dispatch::{Action, Dispatched};
use crate::workflow::Workflow;
use lifecycle_host::{CallError, LoadedConnector};

/// `workflow` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum WorkflowCommand {
    /// Run a workflow's steps in order against one integration.
    Run(RunArgs),
    /// Check a workflow file and print its parameters and steps.
    Show {
        /// The workflow file (TOML).
        file: PathBuf,
    },
}

/// Arguments of `workflow`.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkflowArgs {
    #[command(subcommand)]
    #[allow(missing_docs)]
    pub command: WorkflowCommand,
}

/// Arguments of `workflow run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The workflow file (TOML; see `examples/workflows/`).
    pub file: PathBuf,
    /// A parameter's value (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = super::parse_key_value)]
    pub params: Vec<(String, String)>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub target: ChangeArgs,
    /// Plan every step without writing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `workflow …`.
pub async fn run(
    connector: impl FnOnce() -> anyhow::Result<LoadedConnector>,
    args: &WorkflowArgs,
) -> anyhow::Result<u8> {
    match &args.command {
        WorkflowCommand::Show { file } => {
            let workflow = Workflow::from_file(file)?;
            print!("{}", describe(&workflow));
            Ok(EXIT_OK)
        }
        WorkflowCommand::Run(args) => {
            let workflow = Workflow::from_file(&args.file)?;
            let params: BTreeMap<_, _> = args.params.iter().cloned().collect();
            let actions = workflow.bind(&params, args.dry_run)?;
            let target = args.target.resolve()?;
            let connector = connector()?;
            let run = run_id(&workflow.name);
            run_steps(
                &connector,
                &target,
                &workflow,
                &actions,
                &run,
                &mut std::io::stdout().lock(),
            )
            .await
        }
    }
}

/// A run id: the workflow's name and a short random suffix.
pub fn run_id(workflow: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{workflow}-{}", &id[..8])
}

/// The parameters and steps of a workflow, readable.
pub fn describe(workflow: &Workflow) -> String {
    let mut out = format!("{}: {}\n", workflow.name, workflow.description);
    for (name, p) in &workflow.params {
        out.push_str(&format!(
            "  --set {name}=…  {}{}\n",
            p.description,
            p.default
                .as_ref()
                .map(|d| format!(" (default {d})"))
                .unwrap_or_default()
        ));
    }
    for (i, step) in workflow.steps.iter().enumerate() {
        out.push_str(&format!("  step {}: {step:?}\n", i + 1));
    }
    out
}

/// Runs the steps in order, printing and auditing each; stops at the first step that does not
/// complete. Returns the exit code.
pub async fn run_steps(
    connector: &LoadedConnector,
    target: &Target,
    workflow: &Workflow,
    actions: &[Action],
    run: &str,
    out: &mut impl Write,
) -> anyhow::Result<u8> {
    writeln!(
        out,
        "workflow {} (run {run}) on {}: {} step{}",
        workflow.name,
        target.integration,
        actions.len(),
        if actions.len() == 1 { "" } else { "s" }
    )?;
    let dispatcher = target.dispatcher(connector);
    for (i, action) in actions.iter().enumerate() {
        let context = AuditContext {
            run: Some(run.to_owned()),
            ..dispatcher.context(action)
        };
        let Dispatched {
            invocation,
            recorded,
        } = dispatcher.run(action, &context).await;
        write!(
            out,
            "step {}/{}  {:.0} ms  ",
            i + 1,
            actions.len(),
            invocation.elapsed.as_secs_f64() * 1e3
        )?;
        let code = match &invocation.result {
            Ok(outcome) => {
                write!(out, "{}", crate::render::outcome(action.name(), outcome))?;
                if outcome.completed {
                    EXIT_OK
                } else {
                    EXIT_FAILED
                }
            }
            Err(e) => {
                writeln!(out, "{} {}: {e}", action.name(), action.user_text())?;
                match e {
                    CallError::Connector(_) => EXIT_ERROR,
                    CallError::Host(_) => EXIT_FAILED,
                }
            }
        };
        if let Err(e) = recorded {
            writeln!(out, "the audit log could not record step {}: {e}", i + 1)?;
            return Ok(code.max(EXIT_FAILED));
        }
        if code != EXIT_OK {
            writeln!(
                out,
                "stopped at step {}: the later steps were not run; run the same workflow again to finish",
                i + 1
            )?;
            return Ok(code);
        }
    }
    writeln!(out, "workflow {} completed", workflow.name)?;
    Ok(EXIT_OK)
}
