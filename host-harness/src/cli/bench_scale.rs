//! Bench items 9–11: Atlassian's maximum scale under a rate limit, each against a simulator
//! in a process of its own (so the host's memory is the host's alone).
//!
//! - 9: extraction of a big directory (150,000 users and 1,000 groups, one of 35,000 members,
//!   by default) streamed to a file: wall ÷ (⌈requests ÷ width⌉ × latency); host RSS; guest
//!   peak memory.
//! - 10: bulk onboarding against an organization limited to R requests per second per API:
//!   throughput ÷ (R ÷ requests per identity on the busiest API); share of 429s; failures.
//! - 11: during 10, an offboarding of a user in 20 groups on a second, unlimited tenant and
//!   on the limited one: latency ÷ its critical-path bound (waves × latency).
//!
//! Item 12 (a user in 1,000 groups deprovisioned at 20 ms) is item 6b's deprovision line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use atlassian_simulator::{RateLimit, SeedGroup, SeedUser, SimOptions};
use futures::StreamExt as _;
use lifecycle_host::bindings::types::{Identity, UserRef};
use lifecycle_host::recorder::{Exchange, waves};
use lifecycle_host::{LoadedConnector, Tenant};

use super::bench::{
    APPLY, Line, OwnSimulator, SYNC, against_trips, cpu_time, identity, peak_rss_bytes, trips_bound,
};

/// The sizes of items 9–11.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scale {
    /// Users of item 9's directory.
    pub users: usize,
    /// Members of its big synced group.
    pub big_group: usize,
    /// Its groups, the big one included.
    pub groups: usize,
    /// Identities of item 10.
    pub identities: usize,
    /// Item 10's budget per API per second.
    pub rate: u32,
    /// Item 10's concurrent invocations.
    pub concurrency: usize,
}

/// Item 9.
pub(crate) async fn extraction(
    connector: &LoadedConnector,
    scale: Scale,
    latency: Duration,
) -> anyhow::Result<Vec<Line>> {
    let users: Vec<SeedUser> = (1..=scale.users)
        .map(|i| SeedUser::new(&format!("user{i}@example.com")))
        .collect();
    let emails: Vec<String> = (1..=scale.big_group.min(scale.users))
        .map(|i| format!("user{i}@example.com"))
        .collect();
    let big: Vec<&str> = emails.iter().map(String::as_str).collect();
    let mut groups = vec![SeedGroup::synced("big-synced", &big)];
    for j in 1..scale.groups {
        let a = format!("user{}@example.com", (2 * j) % scale.users + 1);
        let b = format!("user{}@example.com", (2 * j + 1) % scale.users + 1);
        groups.push(SeedGroup::admin(&format!("group-{j:04}"), &[&a, &b]));
    }
    let seeding = Instant::now();
    let sim = OwnSimulator::start_with(SimOptions::default(), latency, users, groups)?;
    let seeded = seeding.elapsed();
    let tenant = Tenant::from_toml(&sim.config).map_err(anyhow::Error::msg)?;
    let path = sim.dir.join("snapshot.json");
    let file =
        lifecycle_host::files::PrivateFile::create(&path, lifecycle_host::files::Kind::Snapshot)?;
    let (host_cpu, sim_cpu) = (cpu_time(None), sim.cpu_time());
    let started = Instant::now();
    let (counts, file) =
        crate::cli::extract::snapshot(connector, &tenant, Default::default(), file)
            .await
            .map_err(|e| anyhow::anyhow!("extraction failed: {e}"))?;
    let elapsed = started.elapsed();
    // What the wall time went to: the host's CPU (guest included) and the simulator's.
    let spent = |before: Option<Duration>, after: Option<Duration>| match (before, after) {
        (Some(b), Some(a)) => format!("{:.2} s", a.saturating_sub(b).as_secs_f64()),
        _ => "unknown".to_owned(),
    };
    let (host_cpu, sim_cpu) = (
        spent(host_cpu, cpu_time(None)),
        spent(sim_cpu, sim.cpu_time()),
    );
    file.commit()?;
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    let width = connector.limits().send_all_concurrency.max(1);
    let trips = counts.requests.div_ceil(width);
    let (bound, ratio) = (
        trips_bound(latency, trips),
        against_trips(elapsed, latency, trips),
    );
    // Where the wall went: the users' pages go out in waves; the groups' requests follow
    // the admin API's cursors, one after another, beside the users' waves.
    let user_waves = counts.user_requests.div_ceil(width);
    let rest = counts.requests.saturating_sub(counts.user_requests);
    let users_ratio = against_trips(counts.users_elapsed, latency, user_waves);
    let phases = format!(
        "users: {} requests in {:.2} s = {users_ratio:.2} × their {user_waves} waves; \
         groups and resources, beside them: {rest} requests in {:.2} s (at most {rest} round trips in sequence)",
        counts.user_requests,
        counts.users_elapsed.as_secs_f64(),
        counts.rest_elapsed.as_secs_f64(),
    );
    let rss = peak_rss_bytes(None);
    // The guest's memory: one more call of each listing at its largest page.
    let page = lifecycle_host::bindings::types::PageRequest {
        cursor: None,
        limit: Some(10_000),
    };
    let users_peak = connector.list_users(&tenant, &page).await.peak_memory;
    let groups_peak = connector.list_groups(&tenant, &page).await.peak_memory;
    let peak = users_peak.max(groups_peak);
    let mib = |b: usize| b as f64 / (1 << 20) as f64;
    Ok(vec![
        Line {
            what: format!(
                "9: extraction of {} users + {} groups (one of {}) at {} ms, streamed ({:.0} MB): \
                 {} requests, bound ⌈requests ÷ {width}⌉ × latency = {:.0} ms; simulator seeded in {:.1} s; \
                 CPU during it: host {host_cpu}, simulator {sim_cpu}; {phases}",
                counts.users,
                counts.groups,
                scale.big_group.min(scale.users),
                latency.as_millis(),
                bytes as f64 / 1e6,
                counts.requests,
                bound.as_secs_f64() * 1e3,
                seeded.as_secs_f64()
            ),
            value: format!("{:.2} s = {ratio:.2} × the bound", elapsed.as_secs_f64()),
            target: "<= 1.5 × bound",
            met: Some(ratio <= 1.5 && counts.users == scale.users),
        },
        Line {
            what: "9: peak host memory (RSS, whole run so far)".into(),
            value: rss.map_or("unknown".into(), |b| format!("{:.0} MB", b as f64 / 1e6)),
            target: "<= 300 MB",
            met: rss.map(|b| b <= 300_000_000),
        },
        Line {
            what: format!(
                "9: guest linear memory, largest listing call (list-users {:.2} MiB, list-groups {:.2} MiB)",
                mib(users_peak),
                mib(groups_peak)
            ),
            value: format!("{:.2} MiB", mib(peak)),
            target: "<= 16 MiB",
            met: Some(peak <= 16 << 20),
        },
    ])
}

/// The seed of a user in 20 groups (half synced, half admin-managed).
fn leaver_groups(email: &str) -> Vec<SeedGroup> {
    (0..20)
        .map(|i| {
            let name = format!("leaver-{i:02}");
            if i % 2 == 0 {
                SeedGroup::admin(&name, &[email])
            } else {
                SeedGroup::synced(&name, &[email])
            }
        })
        .collect()
}

/// The most requests one identity sent to one API (by path prefix).
fn busiest_api(exchanges: &[Exchange]) -> usize {
    let on = |p: &str| exchanges.iter().filter(|e| e.url.contains(p)).count();
    on("/scim/").max(on("/admin/"))
}

/// Items 10 and 11.
pub(crate) async fn rate_limited(
    connector: &LoadedConnector,
    scale: Scale,
    latency: Duration,
) -> anyhow::Result<Vec<Line>> {
    let leaver = "leaver@example.com";
    let limited = SimOptions {
        rate_limit: Some(RateLimit::per_second(scale.rate)),
        ..SimOptions::default()
    };
    let mut groups = leaver_groups(leaver);
    groups.push(SeedGroup::admin("bulk-admin", &[]));
    groups.push(SeedGroup::synced("bulk-synced", &[]));
    let same = OwnSimulator::start_with(limited, latency, vec![SeedUser::new(leaver)], groups)?;
    let other = OwnSimulator::start_with(
        SimOptions::default(),
        latency,
        vec![SeedUser::new(leaver)],
        leaver_groups(leaver),
    )?;
    let tenant = Arc::new(Tenant::from_toml(&same.config).map_err(anyhow::Error::msg)?);
    let second = Tenant::from_toml(&other.config).map_err(anyhow::Error::msg)?;
    let bulk_groups = Arc::new(["bulk-admin".to_owned(), "bulk-synced".to_owned()]);
    let started = Instant::now();
    let identities = scale.identities;
    let mut stream = futures::stream::iter(0..identities)
        .map(|i| {
            let (connector, tenant, bulk_groups) =
                (connector.clone(), tenant.clone(), bulk_groups.clone());
            tokio::spawn(async move {
                let email = format!("bulk-{i:05}@example.com");
                let who: Identity = identity(email.clone());
                let sync = connector.sync_identity(&tenant, &who, SYNC).await;
                let user = UserRef::Email(email);
                let groups = connector
                    .manage_groups(&tenant, &user, &bulk_groups[..], &[], APPLY)
                    .await;
                (sync, groups)
            })
        })
        .buffer_unordered(scale.concurrency.max(1));
    let (mut failures, mut requests, mut retried, mut busiest) = (0, 0, 0, 0);
    let mut done = 0;
    let mut offboarding = None;
    while let Some(joined) = stream.next().await {
        let (sync, groups) = joined?;
        done += 1;
        if sync.result.is_err() || groups.result.is_err() {
            failures += 1;
        }
        let all: Vec<Exchange> = sync.exchanges.into_iter().chain(groups.exchanges).collect();
        requests += all.len();
        retried += all
            .iter()
            .map(|e| e.attempts.saturating_sub(1) as usize)
            .sum::<usize>();
        busiest = busiest.max(busiest_api(&all));
        if done == identities / 4 && offboarding.is_none() {
            // Item 11, in the middle of the bulk run: both offboardings at once.
            let (c1, c2, t1) = (connector.clone(), connector.clone(), tenant.clone());
            let user = UserRef::Email(leaver.into());
            let u2 = user.clone();
            let second = second.clone();
            offboarding = Some(tokio::spawn(async move {
                let a = c1.deprovision_identity(&second, &user, APPLY);
                let b = c2.deprovision_identity(&t1, &u2, APPLY);
                futures::join!(a, b)
            }));
        }
    }
    let elapsed = started.elapsed();
    let throughput = identities as f64 / elapsed.as_secs_f64();
    let bound = f64::from(scale.rate) / busiest.max(1) as f64;
    let share = retried as f64 / (requests + retried).max(1) as f64;
    let mut lines = vec![Line {
        what: format!(
            "10: bulk onboarding of {identities} (create + 2 groups) limited to {} requests/s per API, \
             concurrency {}: {busiest} requests per identity on the busiest API, {failures} failed",
            scale.rate, scale.concurrency
        ),
        value: format!(
            "{throughput:.1}/s = {:.2} of R ÷ {busiest} = {bound:.1}/s; {:.2} % answered 429",
            throughput / bound,
            share * 100.0
        ),
        target: ">= 0.9; <= 1 %; 0 failed",
        met: Some(throughput >= 0.9 * bound && share <= 0.01 && failures == 0),
    }];
    let width = connector.limits().send_all_concurrency;
    if let Some(handle) = offboarding {
        let (other_tenant, same_tenant) = handle.await?;
        for (inv, what, target) in [
            (&other_tenant, "another tenant", 1.5),
            (&same_tenant, "the limited tenant", 3.0),
        ] {
            let trips = waves(&inv.exchanges, width);
            let ratio = against_trips(inv.elapsed, latency, trips);
            let ok = inv.result.as_ref().is_ok_and(|o| o.completed);
            let retries: u32 = inv
                .exchanges
                .iter()
                .map(|e| e.attempts.saturating_sub(1))
                .sum();
            let paced: Duration = inv.exchanges.iter().map(|e| e.pace_wait).sum();
            let retry_wait: Duration = inv.exchanges.iter().map(|e| e.retry_wait).sum();
            lines.push(Line {
                what: format!(
                    "11: offboarding of a user in 20 groups on {what} during item 10: {} requests, {trips} waves × {} ms \
                     ({retries} retries, {:.0} ms paced, {:.0} ms retry waits, summed over requests){}",
                    inv.exchanges.len(),
                    latency.as_millis(),
                    paced.as_secs_f64() * 1e3,
                    retry_wait.as_secs_f64() * 1e3,
                    if ok { "" } else { ", NOT completed" }
                ),
                value: format!(
                    "{:.0} ms = {ratio:.2} × the bound",
                    inv.elapsed.as_secs_f64() * 1e3
                ),
                target: if target < 2.0 {
                    "<= 1.5 × bound"
                } else {
                    "<= 3 × bound"
                },
                met: Some(ok && ratio <= target),
            });
        }
    }
    Ok(lines)
}
