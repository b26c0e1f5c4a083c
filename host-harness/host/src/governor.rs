//! The rate governor: one view of each upstream's rate limit, shared by every invocation of a
//! tenant, that paces requests before the limit is hit instead of letting each invocation
//! discover it on its own.
//!
//! A *lane* is one tenant and one API. The API is the egress grant a request falls under (the
//! connector declares its destinations, [`crate::egress`]: each rule is one API); the tenant is
//! known by its settings (two invocations with the same settings are the same tenant). Each
//! lane learns from every answer it gets:
//! - `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (any form that
//!   [`crate::retry::reset_hint`] reads) give the budget, what is left of it and when the
//!   window ends;
//! - a 429 (with `Retry-After`, or the reset) blocks the lane until the hint, or for
//!   [`GovernorPolicy::blind_backoff`] without one. For [`Priority::High`] the block ends at
//!   the earlier of `Retry-After` and the window's `X-RateLimit-Reset`: a server that gives
//!   `Retry-After` in whole seconds rounds the window's end up (a 429 200 ms before the reset
//!   says 1 s), and holding offboarding for the rounded-up second made it wait most of the
//!   next window behind the bulk's 429. Normal requests keep honouring `Retry-After`, so the
//!   bulk does not rush the new window; the high-priority requests admitted at the reset
//!   are the few of one offboarding, counted against the new window like any other, so the
//!   tenant stays within the budget (plus one window's burst, conformance K3).
//!
//! Before a request leaves, it is admitted by its lane: it goes at once while the lane's
//! estimate of the remaining budget is above zero, and otherwise waits for the window's end.
//! The estimate is the lowest of the answers' `Remaining`, each less the requests the lane
//! admitted after that answer's request (those the server had not counted when it answered).
//! Not less the requests in flight: those admitted before it were counted already, and an
//! answer handled out of order (common with 64 invocations on two cores) then made the lane
//! believe a third of the budget spent. A lane that has learned nothing (an upstream without
//! rate headers) never waits.
//!
//! Fairness: lanes are independent, so one tenant's 429 storm or bulk run waits only in its
//! own lanes and never delays another tenant. Within a lane, offboarding comes first
//! ([`Priority::High`]: the host gives it to `deprovision-identity` and `delete-identity`,
//! the security-critical actions): a normal request leaves the last
//! [`GovernorPolicy::reserve_percent`] of each window's budget (at least
//! [`GovernorPolicy::reserve_min`] requests) to high-priority ones until
//! the window's last [`GovernorPolicy::reserve_release`] (a reserve nobody claimed is then
//! spent but for a 2 % margin, so it costs the bulk little), and waits while one of them
//! waits: a high-priority request jumps every waiting normal one.
//!
//! The retry bounds of [`crate::retry`] hold as before; the governor's own wait before one
//! attempt is bounded by [`GovernorPolicy::max_wait`], after which the request goes anyway
//! and the server decides. Everything here is in-process memory: no state survives the
//! process, and no header value is kept beyond the numbers it carries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;
use tokio::time::Instant;

/// How urgent a request is within its tenant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Everything else (onboarding, updates, listings).
    #[default]
    Normal,
    /// Offboarding: `deprovision-identity`, `delete-identity`.
    High,
}

/// The governor's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GovernorPolicy {
    /// Off: every request goes at once (the retries still apply).
    pub enabled: bool,
    /// The share of each window's budget (in percent, rounded up, for budgets of 5 or more)
    /// that normal requests leave to high-priority ones.
    pub reserve_percent: u32,
    /// The least reserve, in requests, for budgets of 4 × this or more (a quarter of the
    /// budget below that): one offboarding's requests on one API (a user in 20 groups sends
    /// about 13 per API), so that it fits in the window it starts in even at 100/s.
    pub reserve_min: u32,
    /// The end of each window in which normal requests may spend the reserve too: a high
    /// priority request arriving then waits at most this long for the next window.
    pub reserve_release: Duration,
    /// The longest one attempt waits for its lane; then it goes anyway.
    pub max_wait: Duration,
    /// How long a lane stays blocked after a 429 without any hint.
    pub blind_backoff: Duration,
    /// Added to every learned window end and hint: clocks and windows are not exact.
    pub slack: Duration,
}

impl Default for GovernorPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            reserve_percent: 10,
            reserve_min: 20,
            reserve_release: Duration::from_millis(100),
            max_wait: Duration::from_secs(30),
            blind_backoff: Duration::from_secs(1),
            slack: Duration::from_millis(5),
        }
    }
}

/// One tenant and one API.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LaneKey {
    /// The tenant, by a digest of its settings.
    pub tenant: String,
    /// The API: the egress grant, as [`crate::egress::Grant::describe`] gives it.
    pub api: String,
}

impl LaneKey {
    /// The digest that names a tenant: SHA-256 of its settings (keys and values, in order).
    /// Secrets are not part of it.
    pub fn tenant_digest(tenant: &crate::Tenant) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for (k, v) in &tenant.settings {
            hash.update((k.len() as u64).to_le_bytes());
            hash.update(k.as_bytes());
            hash.update((v.len() as u64).to_le_bytes());
            hash.update(v.as_bytes());
        }
        hash.finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The lanes of every tenant, shared by every invocation of a runtime.
#[derive(Debug, Default)]
pub struct Governor {
    policy: GovernorPolicy,
    lanes: Mutex<HashMap<LaneKey, Arc<Lane>>>,
}

/// What a lane knows.
#[derive(Debug, Default)]
struct LaneState {
    /// The server's budget per window.
    limit: Option<u32>,
    /// The lowest `Remaining` the current window has shown, and the admission number of the
    /// request it answered (after a roll: the whole budget, as of the last admission).
    low: Option<(i64, u64)>,
    /// When the current window ends.
    window_end: Option<Instant>,
    /// No normal request before this (a 429's `Retry-After`, else its reset).
    blocked_until: Option<Instant>,
    /// No high-priority request before this: the earlier of the 429's `Retry-After` and the
    /// window's reset (the server counts afresh from the reset; `Retry-After` is rounded up).
    high_blocked_until: Option<Instant>,
    /// The admission numbers of the requests admitted and not yet answered.
    flying: std::collections::BTreeSet<u64>,
    /// Those given up without an answer in this window (the server may have counted them).
    lost: std::collections::BTreeSet<u64>,
    /// Answers (other than 429s, which the budget does not pay for) of the current window.
    answered: u32,
    /// Requests admitted so far (each permit keeps the count at its admission).
    admitted: u64,
    /// High-priority requests waiting.
    high_waiting: u32,
    /// 429s seen.
    rejected: u64,
}

/// One tenant's view of one API's rate limit.
#[derive(Debug, Default)]
pub struct Lane {
    state: Mutex<LaneState>,
    changed: Notify,
}

/// What a lane says about a request now.
enum Decision {
    Go,
    Until(Instant),
    Notified,
}

fn locked(m: &Mutex<LaneState>) -> MutexGuard<'_, LaneState> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A request admitted by its lane; report its answer with [`Permit::answered`]. Dropped
/// without an answer (a transport failure, a timeout), it only frees its place.
#[derive(Debug)]
pub struct Permit {
    lane: Option<Arc<Lane>>,
    policy: GovernorPolicy,
    /// The lane's admission count once this request was admitted.
    seq: u64,
    /// How long the request waited for its lane.
    pub waited: Duration,
}

impl Permit {
    /// A permit of no lane (the governor is off, or the request matches no grant).
    pub fn free() -> Self {
        Self {
            lane: None,
            policy: GovernorPolicy::default(),
            seq: 0,
            waited: Duration::ZERO,
        }
    }

    /// Teaches the lane what the answer said: its status and headers (names in any case).
    pub fn answered(mut self, status: u16, headers: &[(String, String)]) {
        if let Some(lane) = self.lane.take() {
            lane.learn(&self.policy, self.seq, status, headers, SystemTime::now());
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(lane) = self.lane.take() {
            let mut s = locked(&lane.state);
            if s.flying.remove(&self.seq) {
                s.lost.insert(self.seq);
            }
            drop(s);
            lane.changed.notify_waiters();
        }
    }
}

impl Governor {
    /// A governor with `policy`.
    pub fn new(policy: GovernorPolicy) -> Self {
        Self {
            policy,
            lanes: Mutex::default(),
        }
    }

    /// Its policy.
    pub fn policy(&self) -> &GovernorPolicy {
        &self.policy
    }

    /// The lane of `key`, made on first use.
    pub fn lane(&self, key: &LaneKey) -> Arc<Lane> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        lanes.entry(key.clone()).or_default().clone()
    }

    /// Waits until the lane of `key` admits a request of `priority` (at most
    /// [`GovernorPolicy::max_wait`]).
    pub async fn admit(&self, key: Option<&LaneKey>, priority: Priority) -> Permit {
        match key {
            Some(key) if self.policy.enabled => {
                let lane = self.lane(key);
                lane.admit(&self.policy, priority).await
            }
            _ => Permit::free(),
        }
    }

    /// The 429s a lane has seen so far (0 for a lane not made yet).
    pub fn rejected(&self, key: &LaneKey) -> u64 {
        let lanes = self.lanes.lock().unwrap_or_else(|e| e.into_inner());
        lanes.get(key).map_or(0, |l| locked(&l.state).rejected)
    }
}

/// The part of a window's budget kept for high priority.
fn reserve(policy: &GovernorPolicy, limit: Option<u32>) -> i64 {
    match limit {
        Some(l) if l >= 5 => {
            let share = (u64::from(l) * u64::from(policy.reserve_percent)).div_ceil(100);
            let floor = u64::from(policy.reserve_min.min(l / 4));
            i64::try_from(share.max(floor)).unwrap_or(i64::MAX)
        }
        _ => 0,
    }
}

impl LaneState {
    /// What is left of the window's budget, as far as the lane knows: the lowest `Remaining`
    /// less the requests admitted after its request and still in flight (one answered since
    /// was either counted in it, if it showed more, or is the lowest now).
    ///
    /// Capped at the budget less this window's answers and every request in flight or given
    /// up: a request admitted *before* the lowest answer's but received by the server after
    /// it (64 invocations on two cores reorder them) is in neither `Remaining` nor the
    /// requests after it, and such overestimates were the bulk's residual 429s.
    fn remaining(&self) -> Option<i64> {
        let (r, seq) = self.low?;
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let after = self.flying.range(seq.saturating_add(1)..).count()
            + self.lost.range(seq.saturating_add(1)..).count();
        let estimate = r.saturating_sub(count(after));
        Some(match self.limit {
            Some(limit) => estimate.min(
                i64::from(limit)
                    .saturating_sub(i64::from(self.answered))
                    .saturating_sub(count(self.flying.len() + self.lost.len())),
            ),
            None => estimate,
        })
    }

    /// A new window begins once the learned one has ended: its whole budget, as far as the
    /// lane knows.
    fn roll(&mut self, now: Instant) {
        if self.window_end.is_some_and(|end| end <= now) {
            self.window_end = None;
            // The requests still in flight from the old window may land in the new one:
            // counted against it until they are answered.
            let before = self
                .flying
                .first()
                .map_or(self.admitted, |f| f.saturating_sub(1));
            self.low = self.limit.map(|l| (i64::from(l), before));
            self.lost.clear();
            self.answered = 0;
        }
        if self.blocked_until.is_some_and(|t| t <= now) {
            self.blocked_until = None;
        }
        if self.high_blocked_until.is_some_and(|t| t <= now) {
            self.high_blocked_until = None;
        }
    }

    fn decide(&self, policy: &GovernorPolicy, priority: Priority, now: Instant) -> Decision {
        let blocked = match priority {
            Priority::Normal => self.blocked_until,
            Priority::High => self.high_blocked_until,
        };
        if let Some(t) = blocked {
            return Decision::Until(t);
        }
        if priority == Priority::Normal && self.high_waiting > 0 {
            return Decision::Notified;
        }
        let Some(remaining) = self.remaining() else {
            return Decision::Go;
        };
        let releasing = self
            .window_end
            .is_some_and(|end| end.saturating_duration_since(now) <= policy.reserve_release);
        let keep = match priority {
            Priority::Normal if !releasing => reserve(policy, self.limit),
            // The estimate may be a few requests off (answers handled out of order): the
            // bulk leaves a 2 % margin of the window even then, so it is not the one that
            // draws a 429 (which blocks the whole lane, offboarding included).
            Priority::Normal => self.limit.map_or(0, |l| i64::from(l.div_ceil(50))),
            Priority::High => 0,
        };
        if remaining > keep {
            return Decision::Go;
        }
        match self.window_end {
            // Kept out of the reserve only: look again once it is released.
            Some(end) if remaining > 0 => {
                Decision::Until(end.checked_sub(policy.reserve_release).unwrap_or(end))
            }
            Some(end) => Decision::Until(end),
            // The window is unknown (it rolled, nobody has heard since): one probe at a time.
            None if self.flying.is_empty() => Decision::Go,
            None => Decision::Notified,
        }
    }
}

/// A high-priority request waiting in its lane: counted until it goes or is given up.
struct HighWaiting(Arc<Lane>);

impl Drop for HighWaiting {
    fn drop(&mut self) {
        let mut s = locked(&self.0.state);
        s.high_waiting = s.high_waiting.saturating_sub(1);
    }
}

impl Lane {
    async fn admit(self: &Arc<Self>, policy: &GovernorPolicy, priority: Priority) -> Permit {
        let started = Instant::now();
        let deadline = started + policy.max_wait;
        let mut high: Option<HighWaiting> = None;
        let mut slept = false;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = Instant::now();
            let wait = {
                let mut s = locked(&self.state);
                s.roll(now);
                let decision = if now >= deadline {
                    Decision::Go
                } else {
                    s.decide(policy, priority, now)
                };
                match decision {
                    Decision::Go => {
                        s.admitted += 1;
                        let seq = s.admitted;
                        s.flying.insert(seq);
                        drop(s);
                        drop(high);
                        self.changed.notify_waiters();
                        return Permit {
                            lane: Some(self.clone()),
                            policy: policy.clone(),
                            seq,
                            waited: if slept { now - started } else { Duration::ZERO },
                        };
                    }
                    // A normal request kept out of the reserve looks again when it is
                    // released.
                    Decision::Until(t) => t.min(deadline),
                    Decision::Notified => deadline,
                }
            };
            if priority == Priority::High && high.is_none() {
                locked(&self.state).high_waiting += 1;
                high = Some(HighWaiting(self.clone()));
            }
            slept = true;
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(wait) => {}
            }
        }
    }

    fn learn(
        &self,
        policy: &GovernorPolicy,
        seq: u64,
        status: u16,
        headers: &[(String, String)],
        wall: SystemTime,
    ) {
        let now = Instant::now();
        let number = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.trim().parse::<i64>().ok())
        };
        let limit = number("x-ratelimit-limit").and_then(|l| u32::try_from(l).ok());
        let remaining = number("x-ratelimit-remaining");
        let reset = crate::retry::reset_hint(headers, wall).map(|d| now + d + policy.slack);
        let mut s = locked(&self.state);
        s.flying.remove(&seq);
        if limit.is_some() {
            s.limit = limit;
        }
        // An answer from a window that has already ended (handled late: 64 invocations on two
        // cores) says nothing of the current one.
        let stale = matches!((reset, s.window_end), (Some(end), Some(current)) if end + policy.slack < current);
        if status == 429 {
            s.rejected += 1;
            let hint = crate::retry::hint(headers, wall)
                .map(|d| now + d + policy.slack)
                .unwrap_or(now + policy.blind_backoff);
            // Normal requests honour `Retry-After` even from a late answer.
            s.blocked_until = Some(s.blocked_until.map_or(hint, |b| b.max(hint)));
            if stale {
                // The window it exhausted is over: the current one's budget is not spent, and
                // zeroing its estimate held offboarding until the end of a window the bulk
                // had not exhausted (bench item 11, up to a second per wave).
                drop(s);
                self.changed.notify_waiters();
                return;
            }
            // Offboarding waits for the window's reset only, when the server names it.
            let high = reset.map_or(hint, |end| end.min(hint));
            s.high_blocked_until = Some(s.high_blocked_until.map_or(high, |b| b.max(high)));
            s.low = Some((0, seq));
            if let Some(end) = reset {
                s.window_end = Some(s.window_end.map_or(end, |e| e.max(end)));
            }
        } else if let Some(r) = remaining {
            let lower = |low: Option<(i64, u64)>| match low {
                Some((mine, at)) if mine < r || (mine == r && at > seq) => (mine, at),
                _ => (r, seq),
            };
            match (reset, s.window_end) {
                // An answer from a window that has already ended: nothing to learn.
                _ if stale => {}
                // The same window: the lower of the two.
                (Some(end), Some(current)) if end <= current + policy.slack => {
                    s.low = Some(lower(s.low));
                    s.answered = s.answered.saturating_add(1);
                }
                (Some(end), _) => {
                    s.window_end = Some(end);
                    s.low = Some((r, seq));
                    s.lost.clear();
                    s.answered = 1;
                }
                (None, _) => {
                    s.low = Some(lower(s.low));
                    s.answered = s.answered.saturating_add(1);
                }
            }
        }
        drop(s);
        self.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(tenant: &str) -> LaneKey {
        LaneKey {
            tenant: tenant.into(),
            api: "https://api.example.net:443/admin/ [key]".into(),
        }
    }

    fn rate(limit: u32, remaining: u32, reset_secs: u64) -> Vec<(String, String)> {
        vec![
            ("X-RateLimit-Limit".into(), limit.to_string()),
            ("X-RateLimit-Remaining".into(), remaining.to_string()),
            ("X-RateLimit-Reset".into(), reset_secs.to_string()),
        ]
    }

    /// A governor that keeps no reserve for high priority.
    fn no_reserve() -> Governor {
        Governor::new(GovernorPolicy {
            reserve_percent: 0,
            reserve_min: 0,
            ..GovernorPolicy::default()
        })
    }

    /// `n` permits of lane `k`, each admitted at once (none waits).
    async fn admit_at_once(g: &Governor, k: &LaneKey, n: usize) -> Vec<Permit> {
        let mut permits = Vec::new();
        for _ in 0..n {
            let p = g.admit(Some(k), Priority::Normal).await;
            assert_eq!(p.waited, Duration::ZERO);
            permits.push(p);
        }
        permits
    }

    #[tokio::test(start_paused = true)]
    async fn a_lane_that_learned_nothing_never_waits() {
        let g = Governor::default();
        for _ in 0..100 {
            let p = g.admit(Some(&key("a")), Priority::Normal).await;
            assert_eq!(p.waited, Duration::ZERO);
            p.answered(200, &[]);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_is_paced_to_the_window_end() {
        let g = no_reserve();
        let k = key("a");
        // The server: 3 per window, this window ends in 2 s; 1 request used already.
        g.admit(Some(&k), Priority::Normal)
            .await
            .answered(200, &rate(3, 2, 2));
        let started = Instant::now();
        for left in [1, 0] {
            let p = g.admit(Some(&k), Priority::Normal).await;
            assert_eq!(p.waited, Duration::ZERO);
            p.answered(200, &rate(3, left, 2));
        }
        // The budget is spent: the next one waits for the window's end, then goes.
        let p = g.admit(Some(&k), Priority::Normal).await;
        assert!(p.waited >= Duration::from_secs(2), "{:?}", p.waited);
        assert!(started.elapsed() < Duration::from_secs(3));
        p.answered(200, &rate(3, 2, 1));
        assert_eq!(g.rejected(&k), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_blocks_the_tenant_lane_only() {
        let g = Arc::new(Governor::default());
        let (a, b) = (key("a"), key("b"));
        g.admit(Some(&a), Priority::Normal)
            .await
            .answered(429, &[("Retry-After".into(), "5".into())]);
        let p = g.admit(Some(&b), Priority::Normal).await;
        assert_eq!(p.waited, Duration::ZERO, "tenant B is not held up by A");
        let p = g.admit(Some(&a), Priority::Normal).await;
        assert!(p.waited >= Duration::from_secs(5), "{:?}", p.waited);
        assert_eq!((g.rejected(&a), g.rejected(&b)), (1, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn offboarding_goes_first_and_keeps_its_reserve() {
        let g = Arc::new(Governor::default());
        let k = key("a");
        // 20 per window, 6 left; the reserve (a quarter of 20 = 5) is the high priority's.
        g.admit(Some(&k), Priority::Normal)
            .await
            .answered(200, &rate(20, 6, 10));
        let normal = g.admit(Some(&k), Priority::Normal).await;
        assert_eq!(normal.waited, Duration::ZERO);
        normal.answered(200, &rate(20, 5, 10));
        // The last five are kept: a normal request waits for the reserve's release...
        let (g2, k2) = (g.clone(), k.clone());
        let normal = tokio::spawn(async move { g2.admit(Some(&k2), Priority::Normal).await });
        tokio::task::yield_now().await;
        // ...while an offboarding goes at once.
        let high = g.admit(Some(&k), Priority::High).await;
        assert_eq!(
            high.waited,
            Duration::ZERO,
            "high priority uses the reserve"
        );
        high.answered(200, &rate(20, 4, 10));
        // Unclaimed in the window's last 100 ms, the rest of the reserve is the bulk's.
        let normal = normal.await.unwrap();
        assert!(
            normal.waited >= Duration::from_millis(9_900),
            "{:?}",
            normal.waited
        );
        assert!(
            normal.waited < Duration::from_secs(10),
            "{:?}",
            normal.waited
        );
    }

    #[tokio::test(start_paused = true)]
    async fn offboarding_jumps_a_backlog_of_waiting_normal_requests() {
        let g = Arc::new(no_reserve());
        let k = key("a");
        // 20 per window, none left; the window ends in 10 s.
        g.admit(Some(&k), Priority::Normal)
            .await
            .answered(200, &rate(20, 0, 10));
        // 30 normal requests queue up first: more than the next window holds.
        let mut backlog = Vec::new();
        for _ in 0..30 {
            let (g, k) = (g.clone(), k.clone());
            backlog.push(tokio::spawn(async move {
                g.admit(Some(&k), Priority::Normal).await
            }));
        }
        tokio::task::yield_now().await;
        let high = g.admit(Some(&k), Priority::High).await;
        // It takes the next window's first token, not a place behind the 30.
        assert!(high.waited >= Duration::from_secs(10), "{:?}", high.waited);
        assert!(high.waited < Duration::from_secs(11), "{:?}", high.waited);
        let mut waits = Vec::new();
        for b in backlog {
            waits.push(b.await.unwrap().waited);
        }
        // The next window gives 19 more to the backlog; the other 11 wait longer.
        let later = waits
            .iter()
            .filter(|w| **w >= Duration::from_secs(20))
            .count();
        assert_eq!(later, 11, "{waits:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_unclaimed_reserve_is_spent_at_the_end_of_the_window() {
        let g = Governor::default();
        let k = key("a");
        // 100 per window, 20 left (the reserve: 10 %, at least 20), the window ends in 2 s.
        g.admit(Some(&k), Priority::Normal)
            .await
            .answered(200, &rate(100, 20, 2));
        let p = g.admit(Some(&k), Priority::Normal).await;
        // Held out of the reserve until the window's last 100 ms, not until its end.
        assert!(p.waited >= Duration::from_millis(1_800), "{:?}", p.waited);
        assert!(p.waited < Duration::from_secs(2), "{:?}", p.waited);
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_handled_out_of_order_does_not_count_the_others_twice() {
        let g = no_reserve();
        let k = key("a");
        g.admit(Some(&k), Priority::Normal)
            .await
            .answered(200, &rate(10, 8, 5));
        // Four go out together and reach the server in order (it has 4 left after them)...
        let mut out = admit_at_once(&g, &k, 4).await;
        // ...but the last one's answer is handled first: 4 left, not 4 less the 3 in flight.
        let last = out.pop().unwrap();
        last.answered(200, &rate(10, 4, 5));
        for (p, left) in out.into_iter().zip([7, 6, 5]) {
            p.answered(200, &rate(10, left, 5));
        }
        for _ in 0..4 {
            let p = g.admit(Some(&k), Priority::Normal).await;
            assert_eq!(p.waited, Duration::ZERO, "the budget has 4 left");
            drop(p);
        }
        let p = g.admit(Some(&k), Priority::Normal).await;
        assert!(p.waited >= Duration::from_secs(5), "{:?}", p.waited);
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_429_offboarding_goes_at_the_reset_and_the_bulk_after_retry_after() {
        let g = Arc::new(Governor::default());
        let k = key("a");
        // The bulk draws a 429: Retry-After 10 s (a server rounding up), the window resets in
        // 2 s. The reset is wall-clock time, so the bounds leave a second for the test's own
        // run time between writing the header and reading it.
        let wall = SystemTime::now() + Duration::from_secs(2);
        let iso = time::OffsetDateTime::from(wall)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        g.admit(Some(&k), Priority::Normal).await.answered(
            429,
            &[
                ("X-RateLimit-Limit".into(), "100".into()),
                ("X-RateLimit-Remaining".into(), "0".into()),
                ("X-RateLimit-Reset".into(), iso),
                ("Retry-After".into(), "10".into()),
            ],
        );
        let (g2, k2) = (g.clone(), k.clone());
        let normal = tokio::spawn(async move { g2.admit(Some(&k2), Priority::Normal).await });
        let high = g.admit(Some(&k), Priority::High).await;
        assert!(high.waited >= Duration::from_secs(1), "{:?}", high.waited);
        assert!(high.waited < Duration::from_secs(3), "{:?}", high.waited);
        drop(high);
        let normal = normal.await.unwrap();
        assert!(
            normal.waited >= Duration::from_secs(10),
            "{:?}",
            normal.waited
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_429_from_an_ended_window_leaves_the_current_one_to_offboarding() {
        let g = Governor::default();
        let k = key("a");
        // A bulk request of the window ending now, answered after the lane has heard from
        // the next window (90 of 100 left, ends in 1 s).
        let late = g.admit(Some(&k), Priority::Normal).await;
        g.admit(Some(&k), Priority::Normal)
            .await
            .answered(200, &rate(100, 90, 1));
        late.answered(
            429,
            &[
                ("X-RateLimit-Limit".into(), "100".into()),
                ("X-RateLimit-Remaining".into(), "0".into()),
                ("X-RateLimit-Reset".into(), "0".into()),
                ("Retry-After".into(), "1".into()),
            ],
        );
        assert_eq!(g.rejected(&k), 1);
        // Offboarding goes at once: the current window is far from spent.
        let high = g.admit(Some(&k), Priority::High).await;
        assert_eq!(high.waited, Duration::ZERO);
        high.answered(200, &rate(100, 88, 1));
        // The bulk still honours the late Retry-After.
        let normal = g.admit(Some(&k), Priority::Normal).await;
        assert!(
            normal.waited >= Duration::from_secs(1),
            "{:?}",
            normal.waited
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_the_server_counted_before_a_lower_answer_is_not_admitted_twice() {
        let g = no_reserve();
        let k = key("a");
        // A budget of 5 a window. Two requests fly; the server receives the second first
        // and answers it with 4 left, then counts the first (3 left), still unanswered.
        let first = g.admit(Some(&k), Priority::Normal).await;
        g.admit(Some(&k), Priority::Normal)
            .await
            .answered(200, &rate(5, 4, 1));
        // Three more fit (3 left); the next would draw a 429, so it waits for the window.
        let permits = admit_at_once(&g, &k, 3).await;
        let over = g.admit(Some(&k), Priority::Normal).await;
        assert!(
            over.waited >= Duration::from_millis(900),
            "{:?}",
            over.waited
        );
        drop((first, permits));
    }

    #[tokio::test(start_paused = true)]
    async fn the_wait_is_bounded() {
        let g = Governor::new(GovernorPolicy {
            max_wait: Duration::from_secs(3),
            ..GovernorPolicy::default()
        });
        let k = key("a");
        g.admit(Some(&k), Priority::Normal)
            .await
            .answered(429, &[("Retry-After".into(), "600".into())]);
        let p = g.admit(Some(&k), Priority::Normal).await;
        assert_eq!(p.waited, Duration::from_secs(3));
    }

    #[test]
    fn a_tenant_is_known_by_its_settings_not_its_secrets() {
        let t = crate::Tenant::default().with_setting("url", "https://x");
        let same = t.clone().with_secret("token", "other-secret-value");
        let other = crate::Tenant::default().with_setting("url", "https://y");
        assert_eq!(LaneKey::tenant_digest(&t), LaneKey::tenant_digest(&same));
        assert_ne!(LaneKey::tenant_digest(&t), LaneKey::tenant_digest(&other));
    }
}
