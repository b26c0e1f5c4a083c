//! `host-harness audit [--user EMAIL]`: read the audit log, or one person's history in it.

use std::io::Write as _;

use crate::audit::{AuditLog, AuditRecord};
use crate::cli::EXIT_OK;
use crate::cli::target::{AuditArgs, HomeArgs};

/// Arguments of `audit`.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditCmdArgs {
    /// Only records about this person (their email, compared case-insensitively).
    #[arg(long, value_name = "EMAIL")]
    pub user: Option<String>,
    /// Only records of this integration.
    #[arg(long, value_name = "NAME")]
    pub integration: Option<String>,
    /// Print the records as JSON Lines, as stored.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub audit: AuditArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub home: HomeArgs,
}

/// Runs `audit`.
pub fn run(args: &AuditCmdArgs) -> anyhow::Result<u8> {
    let path = args.audit.path(&args.home)?;
    let trail = AuditLog::read(&path)?;
    if let Some(line) = trail.torn {
        eprintln!(
            "warning: {}",
            crate::jsonl::torn_warning("audit log", &path, line)
        );
    }
    let records: Vec<AuditRecord> = trail
        .records
        .into_iter()
        .filter(|r| args.user.as_deref().is_none_or(|u| r.user.is(u)))
        .filter(|r| {
            args.integration
                .as_deref()
                .is_none_or(|i| r.integration == i)
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        for record in &records {
            writeln!(out, "{}", lifecycle_host::json::to_string(record)?)?;
        }
        return Ok(EXIT_OK);
    }
    if records.is_empty() {
        writeln!(
            out,
            "no audit records{} in {}",
            match &args.user {
                Some(u) => format!(" about {u}"),
                None => String::new(),
            },
            path.display()
        )?;
        return Ok(EXIT_OK);
    }
    write!(out, "{}", render(&records))?;
    Ok(EXIT_OK)
}

/// The readable trail: one line per record.
pub fn render(records: &[AuditRecord]) -> String {
    let mut out = String::new();
    for r in records {
        let what = match (&r.change, &r.target) {
            (Some(change), Some(target)) => format!("{change} {target}"),
            _ => "(the action as a whole)".to_owned(),
        };
        let who = r.user.email.as_deref().unwrap_or(&r.user.requested);
        out.push_str(&format!(
            "{}  {:<16} {:<12} {:<28} {:<40} {}",
            r.time, r.integration, r.action, who, what, r.status
        ));
        if let Some(class) = &r.error_class {
            out.push_str(&format!(" ({class})"));
        }
        if let Some(run) = &r.run {
            out.push_str(&format!("  run {run}"));
        }
        if let Some(note) = &r.note {
            out.push_str(&format!("  [{note}]"));
        }
        out.push('\n');
    }
    out
}
