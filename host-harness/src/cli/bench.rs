//! `host-harness bench`: the connector's cost beyond Atlassian's own round trips, measured side
//! by side in one run. Run it on a release build; `--quick` only checks that it still runs.

use crate::component::LoadBuiltin as _;
use std::time::{Duration, Instant};

use futures::StreamExt as _;

use crate::cli::EXIT_OK;
use atlassian_simulator::{Fault, Route, SeedUser, Simulator, SimulatorBuilder};
use lifecycle_host::bindings::http_client::Response;
use lifecycle_host::bindings::types::{
    ActionOptions, ChangeStatus, Identity, SyncOptions, UserRef,
};
use lifecycle_host::http_client::Upstream;
use lifecycle_host::recorder::{round_trips, waves};
use lifecycle_host::{CallError, Invocation, Runtime, RuntimeOptions, Tenant};

/// Arguments of `bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// A short run that only checks the benchmarks still work (small counts, not figures).
    #[arg(long)]
    pub quick: bool,
    /// Identities in the bulk onboarding run.
    #[arg(long, default_value_t = 10_000)]
    pub identities: usize,
    /// Concurrent invocations in the bulk onboarding run.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Latency added to every simulated request.
    #[arg(long, default_value_t = 20)]
    pub latency_ms: u64,
    /// Users of item 9's directory.
    #[arg(long, default_value_t = 150_000)]
    pub scale_users: usize,
    /// Identities of item 10's rate-limited bulk onboarding.
    #[arg(long, default_value_t = 10_000)]
    pub limited_identities: usize,
    /// Concurrent invocations in item 10's rate-limited run: each identity needs both APIs
    /// in turn, so a pool of 32 leaves one API's budget idle while all wait on the other.
    #[arg(long, default_value_t = 64)]
    pub limited_concurrency: usize,
    /// Item 10's budget per API per second (the simulator's rate-limit mode).
    #[arg(long, default_value_t = 100)]
    pub rate: u32,
    /// Run only items 9–12 (skip 1–8).
    #[arg(long)]
    pub scale_only: bool,
}

/// One line of the results table.
pub(crate) struct Line {
    pub(crate) what: String,
    pub(crate) value: String,
    pub(crate) target: &'static str,
    pub(crate) met: Option<bool>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ok<T>(what: &str, inv: Invocation<T>) -> anyhow::Result<Invocation<T>> {
    match &inv.result {
        Ok(_) => Ok(inv),
        Err(e) => anyhow::bail!("{what} failed: {e}"),
    }
}

pub(crate) fn identity(email: String) -> Identity {
    Identity {
        email,
        name: Some("Bench Person".into()),
        given_name: None,
        family_name: None,
        display_name: None,
        external_id: None,
    }
}

pub(crate) const SYNC: SyncOptions = SyncOptions {
    create_missing: true,
    update_existing: true,
    dry_run: false,
};
pub(crate) const APPLY: ActionOptions = ActionOptions { dry_run: false };

/// A simulator whose every request takes `latency` more.
async fn slow_sim(builder: SimulatorBuilder, latency: Duration) -> anyhow::Result<Simulator> {
    let sim = builder.start().await?;
    if !latency.is_zero() {
        sim.fault_always(Route::any(), Fault::Latency(latency));
    }
    Ok(sim)
}

/// Runs `bench` and prints the results table.
pub async fn run(component: Option<&std::path::Path>, args: &BenchArgs) -> anyhow::Result<u8> {
    let (identities, iterations) = if args.quick {
        (args.identities.min(64), 200)
    } else {
        (args.identities, 5_000)
    };
    let latency = Duration::from_millis(args.latency_ms);
    let mut lines = Vec::new();
    if args.scale_only {
        let runtime = Runtime::new(RuntimeOptions {
            operator: lifecycle_host::OperatorPolicy::local_simulator(),
            ..RuntimeOptions::default()
        })?;
        let connector = match component {
            Some(p) => runtime
                .load_file(p)
                .map(crate::component::with_legacy_egress)?,
            None => runtime.load_builtin()?,
        };
        lines.extend(scale_items(&connector, args, latency).await?);
        // 12: item 6b's deprovision line (a user in 1,000 groups), re-run on its own.
        let many = if args.quick { 100 } else { 1_000 };
        let mut six_b = many_groups(&connector, many, latency).await?;
        six_b.retain(|l| l.what.starts_with("deprovision"));
        for mut line in six_b {
            line.what = format!("12: {}", line.what);
            lines.push(line);
        }
        print_table(args, &lines);
        return Ok(EXIT_OK);
    }

    // 1: the component's size, as built (stripped release).
    let size = match component {
        Some(p) => std::fs::metadata(p)?.len(),
        None => crate::component::BUILTIN.len() as u64,
    };
    lines.push(Line {
        what: "component size (stripped release)".into(),
        value: format!("{size} B = {:.0} KB", size as f64 / 1e3),
        target: "<= 400 KB",
        met: Some(size <= 400_000),
    });

    // 2 and 3: compile versus cached load, and instantiation.
    // Its simulators listen on loopback: the bench, as the host's operator, allows it.
    let runtime = Runtime::new(RuntimeOptions {
        operator: lifecycle_host::OperatorPolicy::local_simulator(),
        ..RuntimeOptions::default()
    })?;
    let load = |rt: &Runtime| match component {
        Some(p) => rt.load_file(p).map(crate::component::with_legacy_egress),
        None => rt.load_builtin(),
    };
    let first = load(&runtime)?;
    let cached = load(&runtime)?;
    lines.push(Line {
        what: format!(
            "load: first compile {:.0} ms, cached",
            ms(first.info().load_time)
        ),
        value: format!("{:.3} ms", ms(cached.info().load_time)),
        target: "<= 2 ms",
        met: Some(cached.info().load_time <= Duration::from_millis(2)),
    });
    let mut samples = Vec::with_capacity(iterations);
    cached.instantiate_only().await?;
    for _ in 0..iterations {
        let t = Instant::now();
        cached.instantiate_only().await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    lines.push(Line {
        what: format!("instantiation (median of {iterations})"),
        value: format!("{:.1} µs", median.as_secs_f64() * 1e6),
        target: "<= 20 µs",
        met: Some(median <= Duration::from_micros(20)),
    });

    // 4: per-action overhead against an in-process zero-latency upstream (and, for
    // information, that action against the same core logic natively).
    let (overhead_lines, lookup_url) = overhead(component, iterations).await?;
    lines.extend(overhead_lines);
    // 5: the same core logic against the same FakeTransport, natively and inside a component.
    let (k, repetitions) = if args.quick { (200, 3) } else { (10_000, 7) };
    lines.extend(core_ratio(&runtime, &lookup_url, k, repetitions).await);

    // 6: latency against the critical-path bound.
    let connector = &cached;
    let groups: Vec<String> = (1..=20).map(|i| format!("bench-{i:02}")).collect();
    let mut builder = Simulator::builder()
        .user(SeedUser::new("joiner@example.com"))
        .user(SeedUser::new("leaver@example.com"));
    for (i, g) in groups.iter().enumerate() {
        builder = if i % 2 == 0 {
            builder.admin_group(g, &["leaver@example.com"])
        } else {
            builder.synced_group(g, &["leaver@example.com"])
        };
    }
    let sim = slow_sim(builder, latency).await?;
    let tenant = Tenant::from_toml(&sim.config_toml()).map_err(anyhow::Error::msg)?;
    let joiner = UserRef::Email("joiner@example.com".into());
    let inv = ok(
        "manage-relationships",
        connector
            .manage_groups(&tenant, &joiner, &groups[..10], &[], APPLY)
            .await,
    )?;
    let width = connector.limits().send_all_concurrency;
    lines.push(latency_line(
        "manage-relationships adding 10 groups",
        &inv,
        latency,
        width,
        1.2,
    ));
    let mut peak = inv.peak_memory;
    let leaver = UserRef::Email("leaver@example.com".into());
    let inv = ok(
        "deprovision-identity",
        connector
            .deprovision_identity(&tenant, &leaver, APPLY)
            .await,
    )?;
    lines.push(latency_line(
        "deprovision of a user in 20 groups",
        &inv,
        latency,
        width,
        1.2,
    ));
    peak = peak.max(inv.peak_memory);
    // 6c: offboarding with product roles and API tokens: the user in 4 groups, with 2
    // direct roles and 2 personal API tokens, deprovisioned with `revoke_api_tokens`; its
    // critical path is at most 9 round trips (docs/requests.md), whatever the counts.
    for (i, product) in ["jira-software", "confluence"].iter().enumerate() {
        let resource = sim.workspace_id(product).unwrap_or_default();
        sim.grant_user_role("joiner@example.com", &resource, "atlassian/user", false);
        sim.add_api_token("joiner@example.com", &format!("bench token {i}"));
    }
    let offboard = tenant.clone().with_setting("revoke_api_tokens", "true");
    let inv = ok(
        "deprovision-identity with roles and tokens",
        connector
            .deprovision_identity(&offboard, &joiner, APPLY)
            .await,
    )?;
    lines.push(latency_line(
        "deprovision of a user in 10 groups with 2 direct roles and 2 API tokens \
         (revoke_api_tokens; bound: at most 9 round trips)",
        &inv,
        latency,
        width,
        1.2,
    ));
    peak = peak.max(inv.peak_memory);

    // 7: bulk onboarding, create + 2 groups each, with bounded concurrency, against a
    // simulator in a process of its own: the host's memory is the host's alone (the
    // simulator's state and request log, ~100 MB at 10,000 identities, are not charged to it).
    let child = OwnSimulator::start(
        latency,
        Vec::new(),
        vec![
            atlassian_simulator::SeedGroup::admin("bulk-admin", &[]),
            atlassian_simulator::SeedGroup::synced("bulk-synced", &[]),
        ],
    )?;
    let tenant = Tenant::from_toml(&child.config).map_err(anyhow::Error::msg)?;
    let bulk_groups = ["bulk-admin".to_owned(), "bulk-synced".to_owned()];
    let started = Instant::now();
    let (host_cpu, sim_cpu) = (cpu_time(None), child.cpu_time());
    let mut critical_trips = 0;
    let mut failures = 0;
    // Each identity is a task of its own, as a host serving many requests would run them, so
    // the guests of different identities execute on every worker thread.
    let tenant = std::sync::Arc::new(tenant);
    let bulk_groups = std::sync::Arc::new(bulk_groups);
    let mut stream = futures::stream::iter(0..identities)
        .map(|i| {
            let (connector, tenant, bulk_groups) =
                (connector.clone(), tenant.clone(), bulk_groups.clone());
            tokio::spawn(async move {
                let email = format!("bulk-{i:05}@example.com");
                let sync = connector
                    .sync_identity(&tenant, &identity(email.clone()), SYNC)
                    .await;
                let user = UserRef::Email(email);
                let groups = connector
                    .manage_groups(&tenant, &user, &bulk_groups[..], &[], APPLY)
                    .await;
                (sync, groups)
            })
        })
        .buffer_unordered(args.concurrency.max(1));
    while let Some(joined) = stream.next().await {
        let (sync, groups) = joined?;
        let failed = |r: &Result<_, CallError>| r.is_err();
        if failed(&sync.result) || failed(&groups.result) {
            failures += 1;
        }
        critical_trips =
            critical_trips.max(round_trips(&sync.exchanges) + round_trips(&groups.exchanges));
        peak = peak.max(sync.peak_memory).max(groups.peak_memory);
    }
    let elapsed = started.elapsed();
    let per_identity = |before: Option<Duration>, after: Option<Duration>| match (before, after) {
        (Some(b), Some(a)) => format!("{:.2} ms", ms(a.saturating_sub(b)) / identities as f64),
        _ => "unknown".into(),
    };
    let cpu = format!(
        "CPU per identity: host {}, simulator {}",
        per_identity(host_cpu, cpu_time(None)),
        per_identity(sim_cpu, child.cpu_time())
    );
    let throughput = identities as f64 / elapsed.as_secs_f64();
    let bound = args.concurrency as f64 / (critical_trips as f64 * latency.as_secs_f64()).max(1e-9);
    lines.push(Line {
        what: format!(
            "bulk onboarding: {identities} identities (create + 2 groups), concurrency {}, {} failed, {cpu}",
            args.concurrency, failures
        ),
        value: format!("{throughput:.0}/s = {:.2} of the bound {bound:.0}/s", throughput / bound),
        target: ">= 0.8 of the bound",
        met: Some(failures == 0 && throughput >= 0.8 * bound),
    });
    let simulator_rss = child.peak_rss();
    drop(child);
    let rss = peak_rss_bytes(None);
    let mb = |b: Option<u64>| b.map_or("unknown".into(), |b| format!("{:.0} MB", b as f64 / 1e6));
    lines.push(Line {
        what: format!(
            "peak host memory (RSS, whole run; the simulator's own process peaked at {})",
            mb(simulator_rss)
        ),
        value: mb(rss),
        target: "<= 300 MB",
        met: rss.map(|b| b <= 300_000_000),
    });

    // 8: guest linear memory.
    lines.push(Line {
        what: "guest linear memory, largest after any action above".into(),
        value: format!("{:.2} MiB", peak as f64 / (1 << 20) as f64),
        target: "<= 2 MiB",
        met: Some(peak <= 2 << 20),
    });

    // 7b: validating a batch file (CSV and JSON) of many rows, with a duplicate at the end:
    // linear in the rows (line numbers from an index, not a count from the file's start).
    // After item 7's memory line: the 100,000-row files are the bench's, not the host's.
    let rows = if args.quick { 10_000 } else { 100_000 };
    lines.extend(batch_validation(rows));

    // 6b: a user in many groups (1,000; 100 in quick mode), half synced and half
    // admin-managed: add, remove and deprovision each in one call, in waves that fit the
    // host's limits, against a simulator in a process of its own (as item 7).
    let many = if args.quick { 100 } else { 1_000 };
    lines.extend(many_groups(connector, many, latency).await?);

    lines.extend(scale_items(connector, args, latency).await?);
    print_table(args, &lines);
    Ok(EXIT_OK)
}

/// Items 9–11 (12 is 6b's deprovision line), sized by the arguments.
async fn scale_items(
    connector: &lifecycle_host::LoadedConnector,
    args: &BenchArgs,
    latency: Duration,
) -> anyhow::Result<Vec<Line>> {
    let scale = super::bench_scale::Scale {
        users: if args.quick { 2_000 } else { args.scale_users },
        big_group: if args.quick { 500 } else { 35_000 },
        groups: if args.quick { 50 } else { 1_000 },
        identities: if args.quick {
            100
        } else {
            args.limited_identities
        },
        // Quick mode is a smoke check: a budget that lets 100 identities through in a second.
        rate: if args.quick {
            args.rate.max(1_000)
        } else {
            args.rate
        },
        concurrency: args.limited_concurrency,
    };
    let mut lines = super::bench_scale::extraction(connector, scale, latency).await?;
    lines.extend(super::bench_scale::rate_limited(connector, scale, latency).await?);
    Ok(lines)
}

fn print_table(args: &BenchArgs, lines: &[Line]) {
    if args.quick {
        println!("(quick mode: small counts, the figures are not meaningful)");
    }
    println!("| measurement | result | target | met |");
    println!("|---|---|---|---|");
    for l in lines {
        let met = match l.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        println!("| {} | {} | {} | {met} |", l.what, l.value, l.target);
    }
}

/// The tenant of the in-process measurements: SCIM only, Atlassian's real host (nothing
/// leaves the process, but the egress allow-list still checks every URL).
const IN_PROCESS_TENANT: &str = "instance_name = \"bench\"\n\
    scim_url = \"https://api.atlassian.com/scim/directory/bench-dir\"\n\
    [secrets]\nscim_token = \"bench-not-a-secret\"\n";
const UNCHANGED_EMAIL: &str = atlassian_connector::bench_loop::EMAIL;
const UNCHANGED_NAME: &str = atlassian_connector::bench_loop::NAME;

/// The SCIM look-up answer for a user whose every managed attribute already matches.
fn unchanged_user_body() -> Vec<u8> {
    serde_json::json!({
        "schemas": [atlassian_connector::scim::LIST_RESPONSE],
        "totalResults": 1, "startIndex": 1, "itemsPerPage": 1,
        "Resources": [{
            "schemas": [atlassian_connector::scim::CORE_USER],
            "id": "5f1c-bench", "userName": UNCHANGED_EMAIL, "active": true,
            "emails": [{"value": UNCHANGED_EMAIL, "type": "work", "primary": true}],
            "name": {"formatted": UNCHANGED_NAME},
            "meta": {"resourceType": "User"}
        }]
    })
    .to_string()
    .into_bytes()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Item 4: `sync-identity` of an unchanged user (one look-up, no write) through the
/// component against an in-process upstream — fresh store, instantiate, call, drop, the
/// whole sandbox policy on its one request — and, for information, the same action natively
/// per invocation. Also returns the look-up URL the connector asked for.
async fn overhead(
    component: Option<&std::path::Path>,
    iterations: usize,
) -> anyhow::Result<(Vec<Line>, String)> {
    let body = unchanged_user_body();
    let answer = body.clone();
    let upstream = Upstream::in_process(move |_| Response {
        status: 200,
        headers: vec![("content-type".into(), "application/scim+json".into())],
        body: answer.clone(),
    });
    let runtime = Runtime::with_upstream(RuntimeOptions::default(), upstream)?;
    let connector = match component {
        Some(p) => crate::component::with_legacy_egress(runtime.load_file(p)?),
        None => runtime.load_builtin()?,
    };
    let tenant = Tenant::from_toml(IN_PROCESS_TENANT).map_err(anyhow::Error::msg)?;
    let who = Identity {
        name: Some(UNCHANGED_NAME.into()),
        ..identity(UNCHANGED_EMAIL.into())
    };
    let first = ok(
        "sync-identity of an unchanged user",
        connector.sync_identity(&tenant, &who, SYNC).await,
    )?;
    let unchanged = first.result.as_ref().is_ok_and(|o| {
        o.changes
            .iter()
            .all(|c| matches!(c.status, ChangeStatus::AlreadyDone))
    });
    anyhow::ensure!(
        unchanged && first.exchanges.len() == 1,
        "the in-process sync of an unchanged user should make one request and change nothing"
    );
    let lookup_url = first.exchanges[0].url.clone();

    let mut per_action = Vec::with_capacity(iterations);
    let mut instantiation = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        let inv = connector.sync_identity(&tenant, &who, SYNC).await;
        per_action.push(t.elapsed());
        anyhow::ensure!(inv.result.is_ok(), "sync-identity failed in process");
        let t = Instant::now();
        connector.instantiate_only().await?;
        instantiation.push(t.elapsed());
    }
    let per_action = median(per_action);
    let instantiation = median(instantiation);
    // The host's fixed cost of an invocation beyond instantiation: `describe` takes no
    // tenant and makes no request.
    let mut fixed = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        connector.describe().await?;
        fixed.push(t.elapsed());
    }
    let fixed = median(fixed);

    // Natively: the same core function, the same answer, through the connector's own fake.
    let answer = String::from_utf8(body)?;
    let mut native = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        native_sync_loop(1, &lookup_url, &answer)?;
        native.push(t.elapsed());
    }
    let native = median(native);
    let call = per_action.saturating_sub(instantiation);
    let ratio = call.as_secs_f64() / native.as_secs_f64().max(1e-9);
    Ok((
        vec![
            Line {
                what: format!(
                    "per action, host + guest: sync of an unchanged user, in-process zero-latency \
                     upstream, fresh store + instantiate + call + drop (median of {iterations})"
                ),
                value: micros(per_action),
                target: "<= 200 µs",
                met: Some(per_action <= Duration::from_micros(200)),
            },
            Line {
                what: format!(
                    "(information, not item 5) per invocation: that action natively with \
                     FakeTransport ({}) vs a whole host invocation minus instantiation ({}; a \
                     `describe` with no tenant and no request takes {} per action)",
                    micros(native),
                    micros(call),
                    micros(fixed)
                ),
                value: format!("{ratio:.2} ×"),
                target: "-",
                met: None,
            },
        ],
        lookup_url,
    ))
}

/// Natively, the loop `bench-guest/` runs inside its component (the same function).
fn native_sync_loop(iterations: u32, lookup_url: &str, answer: &str) -> anyhow::Result<u64> {
    atlassian_connector::bench_loop::sync_unchanged(iterations, lookup_url, answer)
        .map_err(|e| anyhow::anyhow!("natively: {e}"))
}

/// Builds `bench-guest/` (the connector's core logic as a library inside a component of its
/// own) for `wasm32-wasip2` into `<target>/bench-guest` with the cargo of this toolchain, and
/// returns the component's path.
fn build_bench_guest() -> Result<std::path::PathBuf, String> {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the harness has no parent workspace")?
        .join("bench-guest");
    let target = std::path::PathBuf::from(env!("BENCH_GUEST_TARGET_DIR"));
    if !workspace.join("Cargo.toml").is_file() {
        return Err(format!("no bench guest at {}", workspace.display()));
    }
    eprintln!("bench: building {} (item 5) …", workspace.display());
    let mut cmd = crate::guest_build::command(&workspace, &target, &[]);
    let out = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or("see cargo's output");
        return Err(format!(
            "building bench-guest failed ({}): {why}",
            out.status
        ));
    }
    let wasm = target.join("wasm32-wasip2/release/bench_guest.wasm");
    if !wasm.is_file() {
        return Err(format!("the build produced no {}", wasm.display()));
    }
    Ok(wasm)
}

/// The store of the bench guest: the same deny-all WASI as a connector invocation.
struct BenchState {
    wasi: wasmtime_wasi::WasiCtx,
    table: wasmtime::component::ResourceTable,
}

impl wasmtime_wasi::WasiView for BenchState {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Item 5: `k` syncs of the unchanged user against the connector's `FakeTransport`, natively
/// and inside the bench guest (one invocation running all `k`), alternated `repetitions`
/// times; the medians per iteration and their ratio, and, for information, the same guest on
/// wasmtime's default engine configuration. A guest that cannot be built or run is reported
/// as not measured, not as a failed bench.
async fn core_ratio(runtime: &Runtime, lookup_url: &str, k: u32, repetitions: usize) -> Vec<Line> {
    let what = |detail: String| {
        format!(
            "the same core logic (sync of an unchanged user against FakeTransport, the same \
             answer): natively vs inside a component, {detail}"
        )
    };
    match measure_core_ratio(runtime, lookup_url, k, repetitions).await {
        Ok(m) => {
            let ratio = |d: Duration| d.as_secs_f64() / m.native.as_secs_f64().max(1e-12);
            vec![
                Line {
                    what: what(format!(
                        "{k} iterations in one invocation, median of {repetitions}: natively \
                         {} per iteration, in the component (the connector's engine) {} per \
                         iteration",
                        nanos(m.native),
                        nanos(m.guest)
                    )),
                    value: format!("{:.2} ×", ratio(m.guest)),
                    target: "<= 2 ×",
                    met: Some(ratio(m.guest) <= 2.0),
                },
                Line {
                    what: format!(
                        "(information) that component on wasmtime's default engine \
                         configuration (no epoch checks; 4 GiB reservation and guard, so no \
                         explicit bounds checks): {} per iteration",
                        nanos(m.guest_default_engine)
                    ),
                    value: format!("{:.2} ×", ratio(m.guest_default_engine)),
                    target: "-",
                    met: None,
                },
            ]
        }
        Err(e) => vec![Line {
            what: what("not measured".into()),
            value: format!("not measured: {e:#}"),
            target: "<= 2 ×",
            met: None,
        }],
    }
}

fn nanos(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

/// Medians per iteration of [`core_ratio`].
struct CoreTimes {
    native: Duration,
    guest: Duration,
    guest_default_engine: Duration,
}

/// The bench guest, instantiable on one engine.
struct BenchGuest {
    engine: wasmtime::Engine,
    pre: wasmtime::component::InstancePre<BenchState>,
}

impl BenchGuest {
    fn new(engine: &wasmtime::Engine, wasm: &std::path::Path) -> anyhow::Result<Self> {
        use wasmtime::component::{Component, Linker};
        let component = Component::from_file(engine, wasm)?;
        let mut linker = Linker::<BenchState>::new(engine);
        lifecycle_host::wasi::add_to_linker(&mut linker)?;
        let pre = linker.instantiate_pre(&component)?;
        Ok(Self {
            engine: engine.clone(),
            pre,
        })
    }

    /// Instantiates the guest in a fresh store (not timed) and times one `run` of `k`
    /// iterations; returns its checksum and the time of the call alone.
    async fn run(&self, k: u32, lookup_url: &str, answer: &str) -> anyhow::Result<(u64, Duration)> {
        let mut store = wasmtime::Store::new(
            &self.engine,
            BenchState {
                wasi: lifecycle_host::wasi::deny_all_ctx(
                    wasmtime_wasi::p2::pipe::MemoryOutputPipe::new(4096),
                ),
                table: wasmtime::component::ResourceTable::new(),
            },
        );
        // Where epochs tick (the connector's engine), they do as for a connector; the
        // deadline only ever extends.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(wasmtime::UpdateDeadline::Continue(1_000)));
        let instance = self.pre.instantiate_async(&mut store).await?;
        let run = instance
            .get_typed_func::<(u32, &str, &str), (Result<u64, String>,)>(&mut store, "run")?;
        let t = Instant::now();
        let (sum,) = run.call_async(&mut store, (k, lookup_url, answer)).await?;
        let elapsed = t.elapsed();
        let sum = sum.map_err(|e| anyhow::anyhow!("in the bench guest: {e}"))?;
        Ok((sum, elapsed))
    }
}

async fn measure_core_ratio(
    runtime: &Runtime,
    lookup_url: &str,
    k: u32,
    repetitions: usize,
) -> anyhow::Result<CoreTimes> {
    let wasm = build_bench_guest().map_err(anyhow::Error::msg)?;
    let answer = String::from_utf8(unchanged_user_body())?;
    // The connector's engine: the same compiler settings, pooling allocator and epoch checks.
    let guest = BenchGuest::new(runtime.engine(), &wasm)?;
    let default_engine = BenchGuest::new(&wasmtime::Engine::default(), &wasm)?;
    let per_iteration = |d: Duration| d / k.max(1);

    let (mut native, mut in_guest, mut in_default) = (Vec::new(), Vec::new(), Vec::new());
    // One warm-up round, then the measured rounds, each side in turn so that all see the
    // same machine load.
    for round in 0..=repetitions {
        let t = Instant::now();
        let native_sum = native_sync_loop(k, lookup_url, &answer)?;
        let native_time = t.elapsed();
        let (guest_sum, guest_time) = guest.run(k, lookup_url, &answer).await?;
        let (default_sum, default_time) = default_engine.run(k, lookup_url, &answer).await?;
        anyhow::ensure!(
            guest_sum == native_sum && default_sum == native_sum,
            "the bench guest's checksums {guest_sum}, {default_sum} differ from the native \
             {native_sum}"
        );
        if round > 0 {
            native.push(per_iteration(native_time));
            in_guest.push(per_iteration(guest_time));
            in_default.push(per_iteration(default_time));
        }
    }
    Ok(CoreTimes {
        native: median(native),
        guest: median(in_guest),
        guest_default_engine: median(in_default),
    })
}

/// Bench item 7b: a sync batch of `rows` people whose last row repeats the first, validated
/// as CSV and as JSON; met when each takes under 2 s per 100,000 rows.
fn batch_validation(rows: usize) -> Vec<Line> {
    use crate::batch::Action;
    use crate::batch::items::{Format, ParseError, parse};
    let mut csv = String::from("email,name,add\n");
    let mut json = vec![];
    for i in 0..rows {
        csv.push_str(&format!("p{i}@example.com,Person {i},team-a;team-b\n"));
        json.push(serde_json::json!({"email": format!("p{i}@example.com"), "name": format!("Person {i}")}));
    }
    csv.push_str("p0@example.com,Again,\n");
    json.push(serde_json::json!({"email": "p0@example.com"}));
    let json = serde_json::to_string_pretty(&json).unwrap_or_default();
    let budget = Duration::from_secs_f64(2.0 * rows as f64 / 100_000.0);
    [
        (Format::Csv, csv.as_bytes()),
        (Format::Json, json.as_bytes()),
    ]
    .into_iter()
    .map(|(format, bytes)| {
        let t = Instant::now();
        let found = parse(bytes, format, Action::Sync);
        let took = t.elapsed();
        let duplicate = matches!(&found, Err(ParseError::Invalid(p)) if p.len() == 1);
        Line {
            what: format!(
                "validate a {format:?} batch of {} rows, one duplicate",
                rows + 1
            ),
            value: format!("{:.0} ms", ms(took)),
            target: "< 2 s per 100,000 rows",
            met: Some(duplicate && took < budget),
        }
    })
    .collect()
}

/// Bench item 6b: add, remove and deprovision of `n` groups for one user, each against its
/// critical-path bound (target 1.3 ×), with the simulator in a process of its own.
async fn many_groups(
    connector: &lifecycle_host::LoadedConnector,
    n: usize,
    latency: Duration,
) -> anyhow::Result<Vec<Line>> {
    use atlassian_simulator::SeedGroup;
    let groups: Vec<String> = (0..n).map(|i| format!("many-{i:04}")).collect();
    let leaver = ["leaver@example.com"];
    let seeded = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if i % 2 == 0 {
                SeedGroup::admin(g, &leaver)
            } else {
                SeedGroup::synced(g, &leaver)
            }
        })
        .collect();
    let users = vec![
        SeedUser::new("member@example.com"),
        SeedUser::new("leaver@example.com"),
    ];
    let sim = OwnSimulator::start(latency, users, seeded)?;
    let tenant = Tenant::from_toml(&sim.config).map_err(anyhow::Error::msg)?;
    let width = connector.limits().send_all_concurrency;
    let member = UserRef::Email("member@example.com".into());
    let leaver = UserRef::Email("leaver@example.com".into());
    let mut lines = Vec::new();
    let add = ok(
        "manage-relationships",
        connector
            .manage_groups(&tenant, &member, &groups, &[], APPLY)
            .await,
    )?;
    let what = format!("manage-relationships adding {n} groups");
    lines.push(latency_line(&what, &add, latency, width, 1.3));
    let remove = ok(
        "manage-relationships",
        connector
            .manage_groups(&tenant, &member, &[], &groups, APPLY)
            .await,
    )?;
    let what = format!("manage-relationships removing {n} groups");
    lines.push(latency_line(&what, &remove, latency, width, 1.3));
    let off = ok(
        "deprovision-identity",
        connector
            .deprovision_identity(&tenant, &leaver, APPLY)
            .await,
    )?;
    let what = format!("deprovision of a user in {n} groups");
    lines.push(latency_line(&what, &off, latency, width, 1.3));
    for (inv, what) in [(&add, "add"), (&remove, "remove"), (&off, "deprovision")] {
        let done = inv.result.as_ref().is_ok_and(|o| o.completed);
        anyhow::ensure!(done, "{what} of {n} groups did not complete");
    }
    let peak = [&add, &remove]
        .iter()
        .map(|i| i.peak_memory)
        .max()
        .unwrap_or(0);
    let peak = peak.max(off.peak_memory);
    lines.push(Line {
        what: format!("(information) guest linear memory, largest of the {n}-group actions"),
        value: format!("{:.2} MiB", peak as f64 / (1 << 20) as f64),
        target: "-",
        met: None,
    });
    Ok(lines)
}

/// The invocation's latency against its critical-path bound: its waves (each `send-all`
/// costs ⌈N ÷ the host's in-flight width⌉) × the simulated latency; met at `target` × bound.
fn latency_line<T>(
    what: &str,
    inv: &Invocation<T>,
    latency: Duration,
    width: usize,
    target: f64,
) -> Line {
    let trips = waves(&inv.exchanges, width);
    let ratio = against_trips(inv.elapsed, latency, trips);
    Line {
        what: format!(
            "{what}: {} requests, {trips} waves × {} ms",
            inv.exchanges.len(),
            latency.as_millis()
        ),
        value: format!("{:.1} ms = {ratio:.2} × the bound", ms(inv.elapsed)),
        target: if target <= 1.2 {
            "<= 1.2 × bound"
        } else {
            "<= 1.3 × bound"
        },
        met: Some(ratio <= target),
    }
}

/// `trips` round trips at `latency`: a critical-path bound.
pub(crate) fn trips_bound(latency: Duration, trips: usize) -> Duration {
    latency * u32::try_from(trips).unwrap_or(u32::MAX)
}

/// `elapsed` as a multiple of `trips` round trips at `latency`.
pub(crate) fn against_trips(elapsed: Duration, latency: Duration, trips: usize) -> f64 {
    elapsed.as_secs_f64() / trips_bound(latency, trips).as_secs_f64().max(1e-9)
}

/// `host-harness simulate` in a child process, seeded with the bulk run's two groups and
/// `latency` on every response; killed when dropped.
pub(crate) struct OwnSimulator {
    child: std::process::Child,
    pub(crate) dir: std::path::PathBuf,
    pub(crate) config: String,
}

impl OwnSimulator {
    /// Starts `host-harness simulate` seeded with `users` and `groups`, answering after
    /// `latency`.
    fn start(
        latency: Duration,
        users: Vec<SeedUser>,
        groups: Vec<atlassian_simulator::SeedGroup>,
    ) -> anyhow::Result<Self> {
        Self::start_with(
            atlassian_simulator::SimOptions::default(),
            latency,
            users,
            groups,
        )
    }

    /// [`Self::start`] with the simulator's `options` (a rate limit, ...).
    pub(crate) fn start_with(
        options: atlassian_simulator::SimOptions,
        latency: Duration,
        users: Vec<SeedUser>,
        groups: Vec<atlassian_simulator::SeedGroup>,
    ) -> anyhow::Result<Self> {
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("host-harness-bench-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let seed = atlassian_simulator::Seed {
            users,
            groups,
            options: Some(atlassian_simulator::SimOptions {
                latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
                ..options
            }),
            ..Default::default()
        };
        let seed_path = dir.join("seed.json");
        let config_path = dir.join("tenant.toml");
        std::fs::write(&seed_path, serde_json::to_string(&seed)?)?;
        let _ = std::fs::remove_file(&config_path);
        let child = std::process::Command::new(std::env::current_exe()?)
            .arg("simulate")
            .arg("--seed")
            .arg(&seed_path)
            .arg("--write-config")
            .arg(&config_path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()?;
        let mut sim = OwnSimulator {
            child,
            dir,
            config: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while sim.config.is_empty() {
            if let Some(status) = sim.child.try_wait()? {
                anyhow::bail!("the simulator process exited early: {status}");
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the simulator process wrote no tenant configuration in 60 s"
            );
            std::thread::sleep(Duration::from_millis(20));
            sim.config = std::fs::read_to_string(&config_path).unwrap_or_default();
        }
        Ok(sim)
    }

    fn peak_rss(&self) -> Option<u64> {
        peak_rss_bytes(Some(self.child.id()))
    }

    pub(crate) fn cpu_time(&self) -> Option<Duration> {
        cpu_time(Some(self.child.id()))
    }
}

/// A process's user + system CPU time so far (this one by default), from `/proc/…/stat`.
pub(crate) fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // Clock ticks; 100 per second on Linux.
    Some(Duration::from_millis((utime + stime) * 10))
}

impl Drop for OwnSimulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A process's peak resident set size (this one by default), from `/proc/…/status` (Linux).
pub(crate) fn peak_rss_bytes(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
