//! K3 and K4: the host's rate governor against the simulator's rate-limit mode.
//!
//! Both assert counts, never times: what each rate-limit window of the simulator received,
//! how many attempts and how much governor wait each exchange took. A slow machine sends
//! fewer requests per window, which only makes the bounds easier to keep.

use crate::b_sync::{SYNC, identity};
use crate::check::{Check, Step, ok, start};
use crate::support::sim_tenant;
use atlassian_simulator::{Fault, RateLimit, RetryHint, Route, Simulator};
use lifecycle_host::LoadedConnector;
use lifecycle_host::recorder::Exchange;

/// The simulator's budget per window in K3.
const BUDGET: u32 = 10;
/// Invocations of one tenant at once in K3.
const CONCURRENT: usize = 8;
/// Identities each of them syncs, one after the other.
const EACH: usize = 3;

/// K3: eight concurrent invocations of one tenant against a budget of 10 requests per
/// window: every window received at most the budget plus one window's burst, no item failed.
pub(crate) async fn k3(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = start(Simulator::builder().options(|o| {
        o.rate_limit = Some(RateLimit {
            budget: BUDGET,
            window_ms: 500,
            retry_after: false,
        });
    }))
    .await?;
    let tenant = sim_tenant(&sim);
    let runs = (0..CONCURRENT).map(|run| {
        let tenant = &tenant;
        async move {
            let mut results = Vec::new();
            for i in 0..EACH {
                let who = identity(&format!("k3-{run}-{i}@example.com"));
                results.push(connector.sync_identity(tenant, &who, SYNC).await);
            }
            results
        }
    });
    let invocations: Vec<_> = futures::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    let mut exchanges: Vec<&Exchange> = Vec::new();
    for (i, inv) in invocations.iter().enumerate() {
        let outcome = ok(&format!("sync-identity #{i}"), inv.result.clone())?;
        c.completed(&outcome, true);
        exchanges.extend(&inv.exchanges);
    }
    c.eq(
        "SCIM users created",
        CONCURRENT * EACH,
        sim.scim_user_count(),
    );
    let counts = sim.rate_counts();
    let worst = counts
        .iter()
        .map(|w| w.accepted + w.rejected)
        .max()
        .unwrap_or(0);
    c.that(
        "requests received in any window",
        worst <= 2 * BUDGET,
        format!(
            "at most the budget plus one window's burst ({})",
            2 * BUDGET
        ),
        worst,
    );
    let rejected: u32 = counts.iter().map(|w| w.rejected).sum();
    let paced = exchanges.iter().filter(|e| !e.pace_wait.is_zero()).count();
    c.note(format!(
        "{} requests over {} windows of {BUDGET}; {rejected} answered 429; {paced} paced by the governor",
        exchanges.len(),
        counts.len()
    ));
    Ok(())
}

/// K4: a 429 storm on tenant A (every request answered 429) while tenant B works: B's
/// actions succeed with one attempt per request and no governor wait; A's end, bounded, in
/// `rate-limited`.
pub(crate) async fn k4(connector: &LoadedConnector, c: &mut Check) -> Step {
    let storm = start(Simulator::builder()).await?;
    storm.fault_always(Route::any(), Fault::RateLimited(RetryHint::Seconds(1)));
    let calm = start(Simulator::builder().users(3)).await?;
    let (a, b) = (sim_tenant(&storm), sim_tenant(&calm));

    let storming = futures::future::join_all((0..4).map(|i| {
        let a = &a;
        async move {
            let who = identity(&format!("storm-{i}@example.com"));
            connector.sync_identity(a, &who, SYNC).await
        }
    }));
    let working = async {
        // B starts once A's storm is under way: A has been answered 429 at least four times.
        while storm.requests().iter().filter(|r| r.status == 429).count() < 4 {
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let mut results = Vec::new();
        for i in 0..5 {
            let who = identity(&format!("calm-{i}@example.com"));
            results.push(connector.sync_identity(&b, &who, SYNC).await);
        }
        let user = lifecycle_host::bindings::types::UserRef::Email("user1@example.com".into());
        let off = connector
            .deprovision_identity(
                &b,
                &user,
                lifecycle_host::bindings::types::ActionOptions { dry_run: false },
            )
            .await;
        (results, off)
    };
    let (stormed, (synced, off)) = futures::join!(storming, working);

    let mut b_exchanges: Vec<&Exchange> = Vec::new();
    for (i, inv) in synced.iter().enumerate() {
        let o = ok(&format!("tenant B: sync-identity #{i}"), inv.result.clone())?;
        c.completed(&o, true);
        b_exchanges.extend(&inv.exchanges);
    }
    let o = ok("tenant B: deprovision-identity", off.result.clone())?;
    c.completed(&o, true);
    b_exchanges.extend(&off.exchanges);
    let retried = b_exchanges.iter().filter(|e| e.attempts != 1).count();
    let paced = b_exchanges
        .iter()
        .filter(|e| !e.pace_wait.is_zero() || !e.retry_wait.is_zero())
        .count();
    c.eq("tenant B: requests sent more than once", 0, retried);
    c.eq("tenant B: requests that waited", 0, paced);
    c.eq(
        "tenant B: answers 429",
        0,
        calm.requests().iter().filter(|r| r.status == 429).count(),
    );
    for (i, inv) in stormed.iter().enumerate() {
        let class = match &inv.result {
            Err(lifecycle_host::CallError::Connector(e)) => e.class(),
            Err(lifecycle_host::CallError::Host(e)) => e.class(),
            Ok(_) => "success",
        };
        c.eq(
            format!("tenant A: sync-identity #{i} in the storm"),
            "rate-limited",
            class,
        );
    }
    c.note(format!(
        "tenant A answered 429 {} times; tenant B's {} requests each went once, unpaced",
        storm.requests().iter().filter(|r| r.status == 429).count(),
        b_exchanges.len()
    ));
    Ok(())
}
