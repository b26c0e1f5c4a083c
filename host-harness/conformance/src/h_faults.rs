//! H. Faults and limits.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::b_sync::{SYNC, identity};
use crate::check::{Check, Difference, Step, ok, start};
use crate::support::sim_tenant;
use atlassian_simulator::{Fault, LoggedRequest, RetryHint, Route, Simulator};
use lifecycle_host::bindings::types::{ConnectorError, HealthReport, ProbeStatus};
use lifecycle_host::limits::Limits;
use lifecycle_host::network::{Resolver, StaticResolver};
use lifecycle_host::recorder::Exchange;
use lifecycle_host::{CallError, InvokeError, LoadedConnector, OperatorPolicy, Tenant};

async fn sim() -> Step<Simulator> {
    start(Simulator::builder().demo_org()).await
}

fn scim_probe(report: &HealthReport) -> Step<&ProbeStatus> {
    report
        .probes
        .iter()
        .find(|p| p.name == "scim")
        .map(|p| &p.status)
        .ok_or_else(|| Difference::new("the probes", "a scim probe", "none"))
}

/// The SCIM listing reads the simulator answered, by status.
fn scim_reads(sim: &Simulator) -> Vec<u16> {
    sim.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/Users"))
        .map(|r| r.status)
        .collect()
}

fn users_get() -> Route {
    Route::scim("/Users").method("GET")
}

/// The earliest time a 429 sent at `sent` with `hint` allows the retry: what its header
/// names, at the header's precision (HTTP dates and ISO times are cut to the second or the
/// minute, so never later than the simulator meant).
fn hinted_time(hint: &RetryHint, sent: SystemTime) -> SystemTime {
    let cut = |t: SystemTime, unit: u64| {
        let secs = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        UNIX_EPOCH + Duration::from_secs(secs - secs % unit)
    };
    match hint {
        RetryHint::None => sent,
        RetryHint::Seconds(n) => sent + Duration::from_secs(*n),
        RetryHint::HttpDate(n) | RetryHint::RateLimitReset(n) => {
            cut(sent + Duration::from_secs(*n), 1)
        }
        RetryHint::RateLimitResetMinutes(n) => cut(sent + Duration::from_secs(*n + 59), 60),
    }
}

/// One 429 with a hint: the host waits at least the hint, retries once, and the probe passes.
/// "At least the hint" is checked on the simulator's own clock (the retry arrives no earlier
/// than the time the header named), and for a hint in seconds also on the wait the host
/// recorded; a slow machine only makes the retry later, never earlier.
async fn rate_limited_once(
    connector: &LoadedConnector,
    name: &str,
    hint: RetryHint,
) -> Vec<Difference> {
    let mut c = Check::default();
    let step = async {
        let sim = sim().await?;
        sim.fault(users_get(), Fault::RateLimited(hint.clone()), 1);
        let inv = connector.check_health(&sim_tenant(&sim)).await;
        let report = ok("check-health", inv.result)?;
        c.eq(
            format!("{name}: scim probe"),
            &ProbeStatus::Ok,
            scim_probe(&report)?,
        );
        match inv.exchanges.iter().find(|e| e.url.contains("/Users")) {
            Some(x) => {
                c.eq(format!("{name}: attempts"), 2, x.attempts);
                if let RetryHint::Seconds(n) = hint {
                    c.that(
                        format!("{name}: wait"),
                        x.retry_wait >= Duration::from_secs(n),
                        format!("at least the {n} s hint"),
                        format!("{:?}", x.retry_wait),
                    );
                }
            }
            None => c.push(Difference::new(name, "a SCIM exchange", "none")),
        }
        c.eq(
            format!("{name}: SCIM reads answered"),
            vec![429, 200],
            scim_reads(&sim),
        );
        let reads: Vec<LoggedRequest> = sim
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path.ends_with("/Users"))
            .collect();
        if let [limited, retry] = reads.as_slice() {
            let allowed = hinted_time(&hint, limited.received_at);
            c.that(
                format!("{name}: the retry"),
                retry.received_at >= allowed,
                "no earlier than the hint allows",
                format!(
                    "{:?} too early",
                    allowed
                        .duration_since(retry.received_at)
                        .unwrap_or_default()
                ),
            );
        }
        Ok(())
    }
    .await;
    c.finish(step).differences().to_vec()
}

/// One 429 on the create of a sync: retried after the hint, and the user created once.
async fn rate_limited_create(connector: &LoadedConnector) -> Vec<Difference> {
    let mut c = Check::default();
    let step = async {
        let sim = sim().await?;
        sim.fault(
            Route::scim("/Users").method("POST"),
            Fault::RateLimited(RetryHint::Seconds(1)),
            1,
        );
        let who = identity("new.hire@example.com");
        let inv = connector.sync_identity(&sim_tenant(&sim), &who, SYNC).await;
        let o = ok("sync-identity", inv.result)?;
        c.completed(&o, true);
        let posts: Vec<u16> = sim
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.starts_with("/scim/"))
            .map(|r| r.status)
            .collect();
        c.eq(
            "a rate-limited create: POSTs answered",
            vec![429, 201],
            posts,
        );
        let users = sim.users().iter().filter(|u| u.email == who.email).count();
        c.eq("a rate-limited create: users created", 1, users);
        Ok(())
    }
    .await;
    c.finish(step).differences().to_vec()
}

/// `Retry-After` in seconds and as an HTTP date, and `X-RateLimit-Reset`: each waited out,
/// on a read and on a create.
pub(crate) async fn h1(connector: &LoadedConnector, c: &mut Check) -> Step {
    let (reads, create) = futures::join!(
        futures::future::join_all([
            rate_limited_once(connector, "Retry-After seconds", RetryHint::Seconds(1)),
            rate_limited_once(connector, "Retry-After HTTP date", RetryHint::HttpDate(2)),
            rate_limited_once(connector, "X-RateLimit-Reset", RetryHint::RateLimitReset(2)),
        ]),
        rate_limited_create(connector),
    );
    for d in reads.into_iter().flatten().chain(create) {
        c.push(d);
    }
    Ok(())
}

/// A health check against a simulator whose SCIM listing always answers `fault`: the
/// report, the reads the simulator answered, and the time the host recorded waiting between
/// attempts of the SCIM listing.
async fn never_clearing(
    connector: &LoadedConnector,
    fault: Fault,
) -> Step<(HealthReport, usize, Option<Duration>)> {
    let sim = sim().await?;
    sim.fault_always(users_get(), fault);
    let inv = connector.check_health(&sim_tenant(&sim)).await;
    let waited = inv
        .exchanges
        .iter()
        .find(|e| e.url.contains("/Users"))
        .map(|e| e.retry_wait);
    let report = ok("check-health", inv.result)?;
    Ok((report, scim_reads(&sim).len(), waited))
}

/// A 429 or 503 that never clears: after the host's bounded attempts and wait, the probe
/// fails `rate-limited` with the hint, or `unavailable`. The wait is the one the host
/// recorded (each 1 s hint waited out between attempts, within the policy's total), not a
/// stopwatch reading, so a slow machine cannot fail it.
pub(crate) async fn h2(connector: &LoadedConnector, c: &mut Check) -> Step {
    let policy = connector.limits().retry.clone();
    let attempts = policy.max_attempts as usize;
    let (rate, unavailable) = futures::join!(
        never_clearing(connector, Fault::RateLimited(RetryHint::Seconds(1))),
        never_clearing(
            connector,
            Fault::Unavailable {
                retry_after: Some(1)
            }
        ),
    );
    for (label, run) in [("429", rate), ("503", unavailable)] {
        let (report, reads, waited) = run?;
        match (label, scim_probe(&report)?) {
            ("429", ProbeStatus::Failed(ConnectorError::RateLimited(r))) => {
                c.eq("429: retry hint", Some(1000), r.retry_after_ms);
            }
            ("503", ProbeStatus::Failed(ConnectorError::Unavailable(m))) => {
                c.that(
                    "503: the error",
                    m.contains("1000") || m.contains("retry"),
                    "carries the retry hint",
                    m,
                );
            }
            (_, other) => c.push(Difference::new(
                format!("{label}: scim probe"),
                if label == "429" {
                    "rate-limited"
                } else {
                    "unavailable"
                },
                other,
            )),
        }
        c.eq(
            format!("{label}: attempts (the host's bound)"),
            attempts,
            reads,
        );
        let retries = u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX);
        c.that(
            format!("{label}: time waited between attempts"),
            waited.is_some_and(|w| {
                w >= Duration::from_secs(1) * retries && w <= policy.max_total_wait
            }),
            format!(
                "each 1 s hint waited out, {:?} at most",
                policy.max_total_wait
            ),
            format!("{waited:?}"),
        );
    }
    Ok(())
}

/// 400, 401, 403, 404 and 409: one attempt each.
pub(crate) async fn h3(connector: &LoadedConnector, c: &mut Check) -> Step {
    for status in [400u16, 401, 403, 404, 409] {
        let sim = sim().await?;
        sim.fault(users_get(), Fault::Status(status), 1);
        let inv = connector.check_health(&sim_tenant(&sim)).await;
        let attempts: Vec<u32> = inv.exchanges.iter().map(|e| e.attempts).collect();
        let report = ok("check-health", inv.result)?;
        c.that(
            format!("{status}: scim probe"),
            matches!(scim_probe(&report)?, ProbeStatus::Failed(_)),
            "failed",
            scim_probe(&report)?,
        );
        c.eq(
            format!("{status}: SCIM reads answered"),
            vec![status],
            scim_reads(&sim),
        );
        c.that(
            format!("{status}: attempts of every exchange"),
            attempts.iter().all(|a| *a == 1),
            "1",
            format!("{attempts:?}"),
        );
    }
    Ok(())
}

/// Malformed JSON, an HTML error page, a truncated body and a body over the host's cap
/// (64 KiB here): an `upstream` error; the same host answers the next call normally.
pub(crate) async fn h4(connector: &LoadedConnector, c: &mut Check) -> Step {
    let capped = connector.with_limits(Limits {
        max_response_bytes: 64 << 10,
        ..connector.limits().clone()
    });
    for (name, fault) in [
        ("malformed JSON", Fault::MalformedJson),
        ("HTML error page", Fault::HtmlErrorPage(200)),
        ("truncated body", Fault::TruncatedBody),
        ("oversized body", Fault::OversizedBody(100_000)),
    ] {
        let sim = sim().await?;
        sim.fault(users_get(), fault, 1);
        let report = ok(
            "check-health",
            capped.check_health(&sim_tenant(&sim)).await.result,
        )?;
        match scim_probe(&report)? {
            ProbeStatus::Failed(ConnectorError::Upstream(_)) => {}
            other => c.push(Difference::new(
                format!("{name}: scim probe"),
                "an upstream error",
                other,
            )),
        }
        let again = ok(
            "check-health",
            capped.check_health(&sim_tenant(&sim)).await.result,
        )?;
        c.eq(
            format!("{name}: the next call's scim probe"),
            &ProbeStatus::Ok,
            scim_probe(&again)?,
        );
        c.eq(format!("{name}: faults left"), 0, sim.pending_faults());
    }
    Ok(())
}

/// Plain http to loopback without the host operator's permission (the simulator's address on
/// the allowed domains, loopback not allowed): every probe is `policy-denied`, nothing is sent.
pub(crate) async fn h5(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = sim().await?;
    let operator = OperatorPolicy {
        allow_loopback: false,
        ..connector.operator().clone()
    }
    .allowing_domain("127.0.0.1")
    .map_err(|e| Difference::new("the operator policy", "valid", e))?;
    let strict = with_operator(connector, operator, None)?;
    // With a key label, the key-expiry probe sends a request too (denied like the others).
    let tenant = sim_tenant(&sim).with_setting("admin_api_key_label", "lifecycle-connector");
    let inv = strict.check_health(&tenant).await;
    let sent = inv.exchanges.iter().filter(|e| e.was_sent()).count();
    let report = ok("check-health", inv.result)?;
    for probe in &report.probes {
        c.that(
            format!("{} probe", probe.name),
            matches!(
                probe.status,
                ProbeStatus::Failed(ConnectorError::PolicyDenied(_))
            ),
            "policy-denied",
            &probe.status,
        );
    }
    c.that("probes", !report.probes.is_empty(), "some", "none");
    c.eq("exchanges sent", 0, sent);
    c.eq("requests the simulator received", 0, sim.requests().len());
    Ok(())
}

/// `connector` under `operator`, names resolved by `resolver` when given.
fn with_operator(
    connector: &LoadedConnector,
    operator: OperatorPolicy,
    resolver: Option<&StaticResolver>,
) -> Step<LoadedConnector> {
    match resolver {
        Some(table) => connector.with_egress(operator, Resolver::new(table.clone())),
        None => connector.with_operator(operator),
    }
    .map_err(|e| Difference::new("the outbound client", "built", e))
}

/// A TCP listener on loopback that counts the connections it accepts and drops each at once
/// (a TLS handshake with it fails). A connection is counted before the client can see it
/// fail, so once a call has returned its count is final.
struct CountingListener {
    port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingListener {
    async fn start() -> Step<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| Difference::new("a loopback listener", "bound", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| Difference::new("the listener's port", "known", e))?
            .port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(stream);
            }
        });
        Ok(Self {
            port,
            accepted,
            task,
        })
    }

    fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for CountingListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A SCIM-only tenant whose `scim_url` names `host` (a name or an IP literal) at `port`.
fn tenant_at(host: &str, port: u16) -> Tenant {
    Tenant::default()
        .with_setting("instance_name", "h7")
        .with_setting(
            "scim_url",
            format!("https://{host}:{port}/scim/directory/h7"),
        )
        .with_secret("scim_token", "h7-scim-token")
}

/// The single exchange of a health check, or the difference.
fn only_exchange<'a>(
    what: &str,
    inv: &'a lifecycle_host::Invocation<HealthReport>,
) -> Step<&'a Exchange> {
    match inv.exchanges.as_slice() {
        [one] => Ok(one),
        other => Err(Difference::new(
            format!("{what}: exchanges"),
            "exactly one (the scim probe)",
            format!("{other:?}"),
        )),
    }
}

/// Checks that `inv` was refused by the address `rule` before connecting: the scim probe is
/// `policy-denied` naming the rule, its one exchange is `denied: blocked address (rule)` and
/// was never sent.
fn refused_by(
    c: &mut Check,
    what: &str,
    inv: &lifecycle_host::Invocation<HealthReport>,
    rule: &str,
) -> Step {
    let exchange = only_exchange(what, inv)?;
    let expected = format!("denied: blocked address ({rule})");
    let error = exchange.error.as_deref().unwrap_or("none");
    c.that(
        format!("{what}: the exchange's error"),
        error.starts_with(&expected),
        &expected,
        error,
    );
    c.that(
        format!("{what}: the exchange"),
        !exchange.was_sent(),
        "never sent",
        "sent",
    );
    let report = ok(what, inv.result.clone())?;
    match scim_probe(&report)? {
        ProbeStatus::Failed(ConnectorError::PolicyDenied(m)) if m.contains(rule) => {}
        other => c.push(Difference::new(
            format!("{what}: scim probe"),
            format!("policy-denied naming `{rule}`"),
            format!("{other:?}"),
        )),
    }
    Ok(())
}

/// Tenant URLs naming hosts (`*.test`, on the operator's allowed domains) that resolve, through
/// a fixed table instead of DNS, to a blocked address: loopback without the operator's
/// permission, private, link-local (the metadata service), unique-local, unspecified and
/// IPv4-mapped addresses. Each is refused after resolution and before connecting, with the
/// rule named, and a loopback listener standing behind the loopback answers never sees a
/// connection; IP-literal URLs (which no resolver sees) are refused the same way. Then, with
/// loopback allowed, the same name does reach the listener (so it would have seen one), and a
/// name that answers loopback first and the metadata address next (DNS rebinding) is refused
/// on the retry: every connection is checked anew.
pub(crate) async fn h7(connector: &LoadedConnector, c: &mut Check) -> Step {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let listener = CountingListener::start().await?;
    let port = listener.port;
    let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
    let v6 = |s: &str| s.parse::<Ipv6Addr>().map(IpAddr::V6);
    let parse = |s: &str| v6(s).map_err(|e| Difference::new("an IPv6 address", s, e));
    let names: Vec<(&str, IpAddr, &str)> = vec![
        ("loopback.test", v4(127, 0, 0, 1), "loopback"),
        (
            "loopback6.test",
            IpAddr::V6(Ipv6Addr::LOCALHOST),
            "loopback",
        ),
        ("private10.test", v4(10, 0, 0, 1), "private"),
        ("private172.test", v4(172, 16, 0, 1), "private"),
        ("private192.test", v4(192, 168, 1, 1), "private"),
        ("metadata.test", v4(169, 254, 169, 254), "link-local"),
        ("link6.test", parse("fe80::1")?, "link-local"),
        ("unique-local.test", parse("fd00::1")?, "unique-local"),
        ("unspecified.test", v4(0, 0, 0, 0), "unspecified"),
        (
            "unspecified6.test",
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            "unspecified",
        ),
        ("mapped.test", parse("::ffff:127.0.0.1")?, "loopback"),
        (
            "mapped-metadata.test",
            parse("::ffff:169.254.169.254")?,
            "link-local",
        ),
    ];
    let mut table = StaticResolver::new();
    for (name, ip, _) in &names {
        table = table.answer(name, [*ip]);
    }
    let table = table
        .answer("rebind.test", [v4(127, 0, 0, 1)])
        .answer("rebind.test", [v4(169, 254, 169, 254)]);
    let operator = OperatorPolicy {
        allowed_domains: vec![],
        allow_loopback: false,
        allow_private_networks: false,
    }
    .allowing_domain("*.test")
    .map_err(|e| Difference::new("the operator policy", "valid", e))?;
    let strict = with_operator(connector, operator.clone(), Some(&table))?;

    for (name, _, rule) in &names {
        let inv = strict.check_health(&tenant_at(name, port)).await;
        refused_by(c, name, &inv, rule)?;
        c.eq(format!("{name}: look-ups"), 1, table.lookups(name));
    }

    let literals = with_operator(
        connector,
        operator
            .clone()
            .allowing_domain("*")
            .map_err(|e| Difference::new("the operator policy", "valid", e))?,
        Some(&table),
    )?;
    for (host, rule) in [
        ("127.0.0.1", "loopback"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("169.254.169.254", "link-local"),
        ("10.0.0.1", "private"),
        ("[fd00::1]", "unique-local"),
        ("0.0.0.0", "unspecified"),
    ] {
        let inv = literals.check_health(&tenant_at(host, port)).await;
        refused_by(c, host, &inv, rule)?;
    }
    c.eq("connections the listener accepted", 0, listener.accepted());

    // With loopback allowed the same name connects: the count above would have shown one.
    // Retries are immediate here; only their number matters.
    let open = with_operator(connector, operator.allowing_loopback(), Some(&table))?;
    let open = open.with_limits(Limits {
        retry: lifecycle_host::retry::RetryPolicy {
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            ..connector.limits().retry.clone()
        },
        ..connector.limits().clone()
    });
    let inv = open.check_health(&tenant_at("loopback.test", port)).await;
    let exchange = only_exchange("loopback.test, loopback allowed", &inv)?;
    let error = exchange.error.as_deref().unwrap_or("none");
    c.that(
        "loopback.test, loopback allowed: the exchange's error",
        error.starts_with("transport"),
        "a transport error (the listener hangs up)",
        error,
    );
    let reached = listener.accepted();
    c.that(
        "loopback.test, loopback allowed: connections",
        reached >= 1,
        "at least one",
        reached,
    );

    // DNS rebinding: loopback (allowed) on the first connection, the metadata address on the
    // retry's; the retry is refused before connecting.
    let inv = open.check_health(&tenant_at("rebind.test", port)).await;
    let exchange = only_exchange("rebind.test", &inv)?;
    c.eq("rebind.test: attempts", 2, exchange.attempts);
    let error = exchange.error.as_deref().unwrap_or("none");
    c.that(
        "rebind.test: the exchange's error",
        error.starts_with("denied: blocked address (link-local)"),
        "denied: blocked address (link-local) on the retry",
        error,
    );
    c.eq("rebind.test: look-ups", 2, table.lookups("rebind.test"));
    c.eq(
        "rebind.test: connections the listener accepted",
        reached + 1,
        listener.accepted(),
    );
    c.note(format!(
        "{} names and 7 IP literals refused before connecting; rebinding refused on the retry",
        names.len()
    ));
    Ok(())
}

/// The class of a host error, or what came back instead.
fn host_class<T: std::fmt::Debug>(result: &Result<T, CallError>) -> String {
    match result {
        Err(CallError::Host(e)) => e.class().to_owned(),
        Err(CallError::Connector(e)) => format!("a connector error ({})", e.message()),
        Ok(v) => format!("success ({v:?})"),
    }
}

/// A healthy report from `connector`, or the difference.
async fn healthy(
    c: &mut Check,
    what: &str,
    connector: &LoadedConnector,
    sim: &Simulator,
) -> Step<usize> {
    let inv = connector.check_health(&sim_tenant(sim)).await;
    let peak = inv.peak_memory;
    let report = ok(what, inv.result)?;
    c.that(what, report.healthy, "healthy", format!("{report:?}"));
    Ok(peak)
}

/// The host's limits on the component under test: a CPU budget it exceeds (10 ms, which a
/// normal health check fits in, against a 12 MiB answer to take in and parse), a memory limit it exceeds (1 MiB above its own peak, against an
/// 8 MiB answer), a wall-clock deadline (300 ms against a 1 min answer). Each invocation fails
/// with its class; the next invocation on the same engine succeeds.
pub(crate) async fn h6(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = sim().await?;
    let peak = healthy(c, "a normal invocation first", connector, &sim).await?;
    let standard = connector.limits().clone();

    let spin = connector.with_limits(Limits {
        cpu_time: Duration::from_millis(10),
        ..standard.clone()
    });
    sim.fault(users_get(), Fault::OversizedBody(12 << 20), 1);
    let inv = spin.check_health(&sim_tenant(&sim)).await;
    c.eq(
        "over the CPU budget",
        "timeout".to_owned(),
        host_class(&inv.result),
    );
    healthy(
        c,
        "the next invocation after the CPU timeout",
        connector,
        &sim,
    )
    .await?;

    let page = 64 << 10;
    let tight = (peak + (1 << 20)).div_ceil(page) * page;
    let small = connector.with_limits(Limits {
        memory_bytes: tight,
        ..standard.clone()
    });
    sim.clear_faults();
    sim.fault(users_get(), Fault::OversizedBody(8 << 20), 1);
    let inv = small.check_health(&sim_tenant(&sim)).await;
    c.eq(
        "over the memory limit",
        "out-of-memory".to_owned(),
        host_class(&inv.result),
    );
    if let Err(CallError::Host(InvokeError::OutOfMemory(limit))) = &inv.result {
        c.eq("the limit reported", tight, *limit);
    }
    healthy(
        c,
        "the next invocation under the same memory limit",
        &small,
        &sim,
    )
    .await?;

    // The answer takes a minute, far beyond the 300 ms deadline: a wall-clock timeout can only
    // come from the deadline, so no stopwatch is needed. The next invocation runs under the
    // standard limits (a normal health check is not promised to fit in 300 ms on a busy
    // machine), on the same engine.
    let hurried = connector.with_limits(Limits {
        wall_time: Duration::from_millis(300),
        ..standard
    });
    sim.clear_faults();
    sim.fault(users_get(), Fault::Latency(Duration::from_secs(60)), 1);
    let inv = hurried.check_health(&sim_tenant(&sim)).await;
    c.that(
        "over the wall-clock deadline",
        matches!(
            &inv.result,
            Err(CallError::Host(InvokeError::WallTimeout(d))) if *d == Duration::from_millis(300)
        ),
        "timeout (the 300 ms wall-clock deadline)",
        host_class(&inv.result),
    );
    healthy(c, "the next invocation after the deadline", connector, &sim).await?;
    c.note(
        "checked on the component under test: 10 ms CPU budget vs a 12 MiB answer -> timeout, \
         memory limit 1 MiB over its peak vs an 8 MiB answer -> out-of-memory, 300 ms deadline \
         vs a 1 min answer -> timeout, each followed by a successful invocation on the same \
         engine; a guest panic cannot be caused from outside a correct component (covered by \
         the hostile guest in tests/sandbox.rs)",
    );
    Ok(())
}
