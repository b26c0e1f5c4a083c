//! `host-harness conformance [--json] [--only ID...]`: every conformance case against the
//! embedded simulator, through the component under test; one line per case.

use crate::cli::{EXIT_ERROR, EXIT_FAILED, EXIT_OK};
use crate::conformance_platform::HarnessPlatform;
use lifecycle_conformance as conformance;
use lifecycle_host::LoadedConnector;

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
}

/// Runs the suite; exits 0 when every case passed, 1 when one failed, 2 for an unknown id.
pub async fn run(connector: &LoadedConnector, args: &ConformanceArgs) -> anyhow::Result<u8> {
    let cases = match conformance::select(&args.only) {
        Ok(cases) => cases,
        Err(message) => {
            eprintln!("host-harness: {message}");
            return Ok(EXIT_ERROR);
        }
    };
    let report = conformance::run(connector, &HarnessPlatform::shared(), &cases, CONCURRENCY).await;
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
