//! `host-harness conformance [--json] [--only ID...] [--over-http]`: every conformance case
//! against the embedded simulator, through the component under test in our host, or (with
//! `--over-http`) through the built-in composed component on the standard wasi:http host
//! ([`crate::over_http`]); one line per case.

use crate::cli::{EXIT_ERROR, EXIT_FAILED, EXIT_OK};
use crate::conformance_platform::HarnessPlatform;
use crate::over_http::HttpSubject;
use lifecycle_conformance as conformance;
use lifecycle_conformance::Subject;
use lifecycle_host::LoadedConnector;
use std::sync::Arc;

/// Cases running at once (each with its own simulator); small, the host shares its cores.
const CONCURRENCY: usize = 4;

/// Arguments of `conformance`.
#[derive(Debug, clap::Args)]
pub struct ConformanceArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Run only these cases (ids such as A1 or h6; several after one flag or the flag again).
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub only: Vec<String>,
    /// Run the cases through the built-in composed component (connector + adapter + front),
    /// served by wasmtime's standard wasi:http implementation and called over its JSON API;
    /// the cases that need our host are reported as skipped, with why.
    #[arg(long)]
    pub over_http: bool,
}

/// Runs the suite on the component `connector` loads (or, with `--over-http`, on the composed
/// one); exits 0 when no case failed, 1 when one failed, 2 for an unknown id.
pub async fn run(
    connector: impl FnOnce() -> anyhow::Result<LoadedConnector>,
    args: &ConformanceArgs,
) -> anyhow::Result<u8> {
    let cases = match conformance::select(&args.only) {
        Ok(cases) => cases,
        Err(message) => {
            eprintln!("host-harness: {message}");
            return Ok(EXIT_ERROR);
        }
    };
    let subject: Arc<dyn Subject> = if args.over_http {
        Arc::new(HttpSubject::builtin()?)
    } else {
        Arc::new(connector()?)
    };
    let report = conformance::run(&subject, &HarnessPlatform::shared(), &cases, CONCURRENCY).await;
    if args.json {
        println!("{}", lifecycle_host::json::to_string_pretty(&report)?);
    } else {
        print!("{}", conformance::render(&report));
    }
    Ok(if report.all_passed() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}
