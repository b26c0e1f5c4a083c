//! `host-harness inspect`: size, imports, load and instantiation cost of a component.

use crate::component::LoadBuiltin as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::cli::EXIT_OK;
use lifecycle_host::{Runtime, RuntimeOptions};

/// Arguments of `inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// How many instantiations to time.
    #[arg(long, default_value_t = 2000)]
    pub iterations: u32,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `inspect`: compiles the component in a fresh runtime (no disk cache), loads it again
/// from the memory cache, then times instantiation into a fresh store, many times.
pub async fn run(component: Option<&Path>, args: &InspectArgs) -> anyhow::Result<u8> {
    let runtime = Runtime::new(RuntimeOptions::default())?;
    let load = |rt: &Runtime| match component {
        Some(p) => rt.load_file(p).map(crate::component::with_legacy_egress),
        None => rt.load_builtin(),
    };
    let first = load(&runtime)?;
    let cached = load(&runtime)?;
    let n = args.iterations.max(1);
    // Warm up once, then time.
    cached.instantiate_only().await?;
    let mut samples = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let t = Instant::now();
        cached.instantiate_only().await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    let p99 = samples[(samples.len() * 99 / 100).min(samples.len() - 1)];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let info = first.info();
    if args.json {
        println!(
            "{}",
            lifecycle_host::json::to_string_pretty(&serde_json::json!({
                "size_bytes": info.size,
                "sha256": info.sha256,
                "imports": info.imports,
                "compile_ms": info.load_time.as_secs_f64() * 1e3,
                "cached_load_ms": cached.info().load_time.as_secs_f64() * 1e3,
                "instantiate_median_us": us(median),
                "instantiate_p99_us": us(p99),
                "iterations": n,
            }))?
        );
    } else {
        println!(
            "component size:      {} bytes (sha256 {})",
            info.size, info.sha256
        );
        println!("imports:             {}", info.imports.join(", "));
        println!(
            "first load (compile): {:.1} ms",
            info.load_time.as_secs_f64() * 1e3
        );
        println!(
            "cached load:          {:.3} ms",
            cached.info().load_time.as_secs_f64() * 1e3
        );
        println!(
            "instantiate:          median {:.1} µs, p99 {:.1} µs over {n} runs",
            us(median),
            us(p99)
        );
    }
    Ok(EXIT_OK)
}
