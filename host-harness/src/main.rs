mod cli;

use clap::{Parser, Subcommand};
use cli::simulate::{self, SimulateArgs};
use std::process::ExitCode;

/// Wasmtime host standing in for an identity platform.
#[derive(Parser)]
#[command(name = "host-harness", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the stateful Atlassian Cloud simulator on loopback until interrupted.
    Simulate(SimulateArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => simulate::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
