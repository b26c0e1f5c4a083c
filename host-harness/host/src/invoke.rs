//! Invoking a loaded connector: a fresh `Store` per call, with memory, CPU and wall-clock
//! limits, a deny-all WASI context, and the tenant's HTTP policy. A trap ends only that call.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::http_client::{self, HttpError, Request, Response};
use crate::bindings::types::{
    self, ActionOptions, Config, ConnectorError, ConnectorInfo, DeleteOptions, GroupPage,
    HealthReport, Identity, Outcome, PageRequest, ResourceKind, ResourcePage, SyncOptions,
    UserPage, UserRef,
};
use crate::bindings::{Connector, ConnectorPre};
use crate::egress::EgressPolicy;
use crate::http_client::{HttpContext, Upstream};
use crate::limits::MemoryLimiter;
use crate::network::Resolver;
use crate::operator::OperatorPolicy;
use crate::recorder::{Exchange, Recorder};
use crate::runtime::{EPOCH_TICK, LoadSource, RuntimeInner};
use crate::tenant::Tenant;

/// Bytes of guest stderr kept for crash reports.
const STDERR_CAPACITY: usize = 16 << 10;

/// Everything a guest's store holds: its WASI context, its memory limiter, its HTTP state.
pub struct GuestState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    http: HttpContext,
    clock: Arc<RunClock>,
}

/// How long an invocation's guest has actually run on a thread: the time spent inside its
/// future's `poll`, less the time spent inside the host's own calls (`send`, `send-all`:
/// checking, sending, reading and scrubbing answers is the host's work, however many there
/// are). Waiting for the network or for a free executor thread does not count, so a busy host
/// never mistakes a patient guest for a spinning one, nor a guest making a thousand requests
/// for one that loops.
#[derive(Debug)]
struct RunClock {
    base: Instant,
    /// Nanoseconds of completed polls.
    active: AtomicU64,
    /// Nanoseconds of those spent polling host calls.
    host: AtomicU64,
    /// When the current poll began (nanoseconds since `base`), or `u64::MAX` between polls.
    poll_started: AtomicU64,
}

impl RunClock {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            active: AtomicU64::new(0),
            host: AtomicU64::new(0),
            poll_started: AtomicU64::new(u64::MAX),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// The running time so far, the current poll included.
    fn running(&self) -> Duration {
        let started = self.poll_started.load(Ordering::Relaxed);
        let current = if started == u64::MAX {
            0
        } else {
            self.now().saturating_sub(started)
        };
        let host = self.host.load(Ordering::Relaxed);
        Duration::from_nanos((self.active.load(Ordering::Relaxed) + current).saturating_sub(host))
    }
}

/// Whose time a [`Timed`] future's polls are.
#[derive(Clone, Copy)]
enum Spent {
    /// The whole invocation: every poll, the current one visible while it runs.
    Invocation,
    /// A host call inside it (`send`, `send-all`), taken back out of the guest's time.
    HostCall,
}

/// A future whose polls are timed by a [`RunClock`], as `spent`.
struct Timed<F> {
    inner: Pin<Box<F>>,
    clock: Arc<RunClock>,
    spent: Spent,
}

impl<F: Future> Timed<F> {
    fn new(inner: F, clock: Arc<RunClock>, spent: Spent) -> Self {
        Self {
            inner: Box::pin(inner),
            clock,
            spent,
        }
    }
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let start = self.clock.now();
        let invocation = matches!(self.spent, Spent::Invocation);
        if invocation {
            self.clock.poll_started.store(start, Ordering::Relaxed);
        }
        let result = self.inner.as_mut().poll(cx);
        let spent = self.clock.now().saturating_sub(start);
        if invocation {
            self.clock.poll_started.store(u64::MAX, Ordering::Relaxed);
            self.clock.active.fetch_add(spent, Ordering::Relaxed);
        } else {
            self.clock.host.fetch_add(spent, Ordering::Relaxed);
        }
        result
    }
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl http_client::Host for GuestState {
    async fn limits(&mut self) -> wasmtime::Result<http_client::HostLimits> {
        Ok(self.http.limits())
    }

    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HttpError>> {
        let clock = self.clock.clone();
        Ok(Timed::new(self.http.send(request), clock, Spent::HostCall).await)
    }

    async fn send_all(
        &mut self,
        requests: Vec<Request>,
    ) -> wasmtime::Result<Vec<Result<Response, HttpError>>> {
        let clock = self.clock.clone();
        Ok(Timed::new(self.http.send_all(requests), clock, Spent::HostCall).await)
    }
}

impl types::Host for GuestState {}

/// Facts about a loaded component.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ComponentInfo {
    /// SHA-256 of the component's bytes (the cache key).
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: usize,
    /// Its imports, all within the allow-list.
    pub imports: Vec<String>,
    /// Where the compiled code came from.
    pub source: LoadSource,
    /// How long the load took.
    #[serde(serialize_with = "millis")]
    pub load_time: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// Why an invocation failed in the host rather than in the connector's logic.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "class", content = "detail", rename_all = "kebab-case")]
pub enum InvokeError {
    /// The guest used more CPU time than its budget.
    #[error("timeout: the connector used more than {0:?} of CPU time")]
    CpuTimeout(Duration),
    /// The invocation as a whole took longer than its wall-clock budget.
    #[error("timeout: the invocation took longer than {0:?}")]
    WallTimeout(Duration),
    /// The guest tried to grow its memory past the limit.
    #[error("out of memory: the connector needed more than {0} bytes of linear memory")]
    OutOfMemory(usize),
    /// The guest trapped (a panic, an `unreachable`, a stack overflow, ...).
    #[error("guest crash: {trap}{}", if .message.is_empty() { String::new() } else { format!(" ({})", .message) })]
    GuestCrash {
        /// The trap.
        trap: String,
        /// What the guest wrote to stderr before it crashed (its panic message), if anything.
        message: String,
    },
    /// The component could not be instantiated.
    #[error("cannot instantiate the connector: {0}")]
    Instantiate(String),
}

impl InvokeError {
    /// A stable short name for the error's class, for reports and audit records.
    pub fn class(&self) -> &'static str {
        match self {
            Self::CpuTimeout(_) | Self::WallTimeout(_) => "timeout",
            Self::OutOfMemory(_) => "out-of-memory",
            Self::GuestCrash { .. } => "guest-crash",
            Self::Instantiate(_) => "instantiate",
        }
    }
}

/// The failure of one call: either the connector said no, or the host stopped it.
#[derive(Clone, Debug, PartialEq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum CallError {
    /// The connector returned a typed error.
    #[error("{}", .0.message())]
    Connector(ConnectorError),
    /// The host ended the invocation (trap, limit, timeout).
    #[error("{0}")]
    Host(InvokeError),
}

/// The result of one invocation, with the HTTP exchanges it made.
#[derive(Debug)]
pub struct Invocation<T> {
    /// What the call returned.
    pub result: Result<T, CallError>,
    /// Every HTTP exchange the guest asked for, in order (denied ones included).
    pub exchanges: Vec<Exchange>,
    /// Wall-clock time of the whole invocation.
    pub elapsed: Duration,
    /// The guest's largest linear memory during the invocation, in bytes.
    pub peak_memory: usize,
}

type CallFuture<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

/// The operator's egress policy and the upstream it applies to.
#[derive(Clone, Debug)]
pub(crate) struct Egress {
    pub(crate) operator: Arc<OperatorPolicy>,
    pub(crate) resolver: Resolver,
    pub(crate) upstream: Upstream,
}

/// A component loaded, checked and pre-instantiated: ready to be invoked many times.
#[derive(Clone)]
pub struct LoadedConnector {
    runtime: Arc<RuntimeInner>,
    pre: ConnectorPre<GuestState>,
    info: ComponentInfo,
    /// The limits its invocations run under: the runtime's, unless [`Self::with_limits`].
    limits: Arc<crate::limits::Limits>,
    /// The operator's policy and upstream: the runtime's, unless [`Self::with_operator`].
    egress: Egress,
}

impl LoadedConnector {
    pub(crate) fn new(
        runtime: Arc<RuntimeInner>,
        pre: ConnectorPre<GuestState>,
        info: ComponentInfo,
    ) -> Self {
        let limits = runtime.limits.clone();
        let egress = runtime.egress.clone();
        Self {
            runtime,
            pre,
            info,
            limits,
            egress,
        }
    }

    /// The same compiled component on the same engine, its invocations run under other
    /// limits (a host policy per tenant, or tightened limits to check that the host enforces
    /// them). Linear memory above the runtime's own limit is capped to it: the engine's
    /// pooling allocator reserves no more.
    pub fn with_limits(&self, mut limits: crate::limits::Limits) -> Self {
        limits.memory_bytes = limits.memory_bytes.min(self.runtime.limits.memory_bytes);
        Self {
            limits: Arc::new(limits),
            ..self.clone()
        }
    }

    /// The limits this connector's invocations run under.
    pub fn limits(&self) -> &crate::limits::Limits {
        &self.limits
    }

    /// The same compiled component on the same engine, its invocations run under another
    /// operator egress policy (the host's decision, e.g. loopback for a local simulator);
    /// names are resolved as before. Fails only when the outbound client cannot be built.
    pub fn with_operator(&self, operator: OperatorPolicy) -> reqwest::Result<Self> {
        self.with_egress(operator, self.egress.resolver.clone())
    }

    /// [`Self::with_operator`], with names resolved by `resolver` (a test's fixed table): every
    /// answer is still checked against the operator's address rules.
    pub fn with_egress(
        &self,
        operator: OperatorPolicy,
        resolver: Resolver,
    ) -> reqwest::Result<Self> {
        let rules = operator.address_rules();
        let upstream = match &self.egress.upstream {
            Upstream::Network(client)
                if client.rules() == rules && resolver.same_as(&self.egress.resolver) =>
            {
                self.egress.upstream.clone()
            }
            Upstream::Network(_) => Upstream::network(rules, &resolver)?,
            Upstream::InProcess(answer) => Upstream::InProcess(answer.clone()),
        };
        Ok(Self {
            egress: Egress {
                operator: Arc::new(operator),
                resolver,
                upstream,
            },
            ..self.clone()
        })
    }

    /// The operator's egress policy this connector's invocations run under.
    pub fn operator(&self) -> &OperatorPolicy {
        &self.egress.operator
    }

    /// Facts about the component.
    pub fn info(&self) -> &ComponentInfo {
        &self.info
    }

    /// The configuration a tenant's guest sees: its settings, and only the names of its secrets.
    pub fn guest_config(tenant: &Tenant) -> Config {
        Config {
            settings: tenant
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            secrets: tenant.secrets.names().map(str::to_owned).collect(),
        }
    }

    fn new_store(
        &self,
        tenant: &Tenant,
        recorder: Recorder,
    ) -> (Store<GuestState>, MemoryOutputPipe, Arc<RunClock>) {
        let limits = &self.limits;
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let state = GuestState {
            wasi: crate::wasi::deny_all_ctx(stderr.clone()),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(limits.memory_bytes),
            http: HttpContext::new(
                self.egress.upstream.clone(),
                Arc::new(tenant.clone()),
                Arc::new(EgressPolicy::for_tenant(tenant, &self.egress.operator)),
                limits.clone(),
                recorder,
            ),
            clock: Arc::new(RunClock::new()),
        };
        let clock = state.clock.clone();
        let mut store = Store::new(&self.runtime.engine, state);
        store.limiter(|s| &mut s.limiter);
        let budget = limits.cpu_time;
        let ticks = |d: Duration| (d.as_micros() / EPOCH_TICK.as_micros()).max(1) as u64;
        store.set_epoch_deadline(ticks(budget));
        // The deadline is reached by wall-clock epochs, but only the time the invocation
        // really ran counts: on each expiry compare its run clock with the budget.
        store.epoch_deadline_callback(move |ctx| {
            let guest_time = ctx.data().clock.running();
            if guest_time >= budget {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(ticks(budget - guest_time)))
            }
        });
        (store, stderr, clock)
    }

    /// Instantiates the component in a fresh store and drops it: the per-invocation fixed cost.
    pub async fn instantiate_only(&self) -> Result<(), InvokeError> {
        let (mut store, _, _) = self.new_store(&Tenant::default(), Recorder::default());
        self.pre
            .instantiate_async(&mut store)
            .await
            .map(|_| ())
            .map_err(|e| InvokeError::Instantiate(format!("{e:#}")))
    }

    async fn invoke<R, F>(&self, tenant: &Tenant, call: F) -> Invocation<R>
    where
        R: Send + crate::sanitize::Sanitize,
        F: for<'a> FnOnce(
                &'a Connector,
                &'a mut Store<GuestState>,
            ) -> CallFuture<'a, Result<R, ConnectorError>>
            + Send,
    {
        let started = Instant::now();
        // A tenant URL naming a host outside the operator's domains: refused before the
        // connector runs, as the connector refuses a malformed one.
        if let Err(refused) = self.egress.operator.check_tenant(tenant) {
            return Invocation {
                result: Err(CallError::Connector(ConnectorError::InvalidConfig(
                    types::ConfigError {
                        message: refused.to_string(),
                        key: refused.key,
                    },
                ))),
                exchanges: Vec::new(),
                elapsed: started.elapsed(),
                peak_memory: 0,
            };
        }
        let recorder = Recorder::default();
        let (mut store, stderr, clock) = self.new_store(tenant, recorder.clone());
        let wall = self.limits.wall_time;
        let run = async {
            let instance = self
                .pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| InvokeError::Instantiate(format!("{e:#}")))?;
            call(&instance, &mut store)
                .await
                .map_err(|e| self.classify_trap(e, &store, &stderr))
        };
        let run = Timed::new(run, clock, Spent::Invocation);
        // Every message out of the guest (and so from the upstream) is made safe to print
        // and record here, once: escaped controls and bidi characters, a bounded length.
        use crate::sanitize::Sanitize as _;
        let result = match tokio::time::timeout(wall, run).await {
            Ok(Ok(Ok(mut value))) => {
                value.sanitize();
                Ok(value)
            }
            Ok(Ok(Err(mut connector_error))) => {
                connector_error.sanitize();
                Err(CallError::Connector(connector_error))
            }
            Ok(Err(mut host_error)) => {
                // A guest's panic message is guest text too.
                if let InvokeError::GuestCrash { message, .. } = &mut host_error
                    && let std::borrow::Cow::Owned(clean) = crate::sanitize::text(message)
                {
                    *message = clean;
                }
                Err(CallError::Host(host_error))
            }
            Err(_) => Err(CallError::Host(InvokeError::WallTimeout(wall))),
        };
        Invocation {
            result,
            exchanges: recorder.snapshot(),
            elapsed: started.elapsed(),
            peak_memory: store.data().limiter.peak,
        }
    }

    fn classify_trap(
        &self,
        error: wasmtime::Error,
        store: &Store<GuestState>,
        stderr: &MemoryOutputPipe,
    ) -> InvokeError {
        if store.data().limiter.exhausted {
            return InvokeError::OutOfMemory(self.limits.memory_bytes);
        }
        if let Some(Trap::Interrupt) = error.downcast_ref::<Trap>() {
            return InvokeError::CpuTimeout(self.limits.cpu_time);
        }
        // Keep what the guest said (its panic location and message), not std's hint lines.
        let stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
        let said: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
            .collect();
        let joined = said.join(" ");
        let message = joined
            .char_indices()
            .nth_back(499)
            .map_or(joined.as_str(), |(i, _)| &joined[i..])
            .to_owned();
        let trap = match error.downcast_ref::<Trap>() {
            Some(trap) => trap.to_string(),
            None => format!("{error:#}"),
        };
        InvokeError::GuestCrash { trap, message }
    }

    /// `describe`: needs no tenant and makes no request.
    pub async fn describe(&self) -> Result<ConnectorInfo, CallError> {
        self.invoke(&Tenant::default(), |c, s| {
            Box::pin(async move {
                c.lifecycle_connector_lifecycle()
                    .call_describe(s)
                    .await
                    .map(Ok)
            })
        })
        .await
        .result
    }

    /// `check-health` for a tenant.
    pub async fn check_health(&self, tenant: &Tenant) -> Invocation<HealthReport> {
        let config = Self::guest_config(tenant);
        self.invoke(tenant, move |c, s| {
            Box::pin(async move {
                c.lifecycle_connector_lifecycle()
                    .call_check_health(s, &config)
                    .await
            })
        })
        .await
    }

    /// `sync-identity` for a tenant.
    pub async fn sync_identity(
        &self,
        tenant: &Tenant,
        identity: &Identity,
        options: SyncOptions,
    ) -> Invocation<Outcome> {
        let config = Self::guest_config(tenant);
        let identity = identity.clone();
        self.invoke(tenant, move |c, s| {
            Box::pin(async move {
                c.lifecycle_connector_lifecycle()
                    .call_sync_identity(s, &config, &identity, options)
                    .await
            })
        })
        .await
    }

    /// `manage-relationships` for a tenant.
    pub async fn manage_relationships(
        &self,
        tenant: &Tenant,
        user: &UserRef,
        add: &[String],
        remove: &[String],
        options: ActionOptions,
    ) -> Invocation<Outcome> {
        let config = Self::guest_config(tenant);
        let (user, add, remove) = (user.clone(), add.to_vec(), remove.to_vec());
        self.invoke(tenant, move |c, s| {
            Box::pin(async move {
                c.lifecycle_connector_lifecycle()
                    .call_manage_relationships(s, &config, &user, &add, &remove, options)
                    .await
            })
        })
        .await
    }

    /// `deprovision-identity` for a tenant.
    pub async fn deprovision_identity(
        &self,
        tenant: &Tenant,
        user: &UserRef,
        options: ActionOptions,
    ) -> Invocation<Outcome> {
        let config = Self::guest_config(tenant);
        let user = user.clone();
        self.invoke(tenant, move |c, s| {
            Box::pin(async move {
                c.lifecycle_connector_lifecycle()
                    .call_deprovision_identity(s, &config, &user, options)
                    .await
            })
        })
        .await
    }

    /// `delete-identity` for a tenant.
    pub async fn delete_identity(
        &self,
        tenant: &Tenant,
        user: &UserRef,
        options: DeleteOptions,
    ) -> Invocation<Outcome> {
        let config = Self::guest_config(tenant);
        let user = user.clone();
        self.invoke(tenant, move |c, s| {
            Box::pin(async move {
                c.lifecycle_connector_lifecycle()
                    .call_delete_identity(s, &config, &user, options)
                    .await
            })
        })
        .await
    }

    /// `list-users`: one page.
    pub async fn list_users(&self, tenant: &Tenant, page: &PageRequest) -> Invocation<UserPage> {
        let config = Self::guest_config(tenant);
        let page = page.clone();
        self.invoke(tenant, move |c, s| {
            Box::pin(async move {
                c.lifecycle_connector_lifecycle()
                    .call_list_users(s, &config, &page)
                    .await
            })
        })
        .await
    }

    /// `list-groups`: one page.
    pub async fn list_groups(&self, tenant: &Tenant, page: &PageRequest) -> Invocation<GroupPage> {
        let config = Self::guest_config(tenant);
        let page = page.clone();
        self.invoke(tenant, move |c, s| {
            Box::pin(async move {
                c.lifecycle_connector_lifecycle()
                    .call_list_groups(s, &config, &page)
                    .await
            })
        })
        .await
    }

    /// `list-resources`: one page of one kind.
    pub async fn list_resources(
        &self,
        tenant: &Tenant,
        kind: ResourceKind,
        page: &PageRequest,
    ) -> Invocation<ResourcePage> {
        let config = Self::guest_config(tenant);
        let page = page.clone();
        self.invoke(tenant, move |c, s| {
            Box::pin(async move {
                c.lifecycle_connector_lifecycle()
                    .call_list_resources(s, &config, kind, &page)
                    .await
            })
        })
        .await
    }
}
