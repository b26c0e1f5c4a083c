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
    self, ActionOptions, Config, ConnectorError, ConnectorInfo, DeleteOptions, Entitlement,
    GroupPage, HealthReport, Identity, Outcome, PageRequest, ResourcePage, RoleGrant, SyncOptions,
    UserPage, UserRef,
};
use crate::bindings::{ContractVersion, v0_1_0, v0_2_0};
use crate::egress::{Declaration, EgressPolicy};
use crate::governor::{Governor, Priority};
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

/// A 0.1.0 guest's `http-client`: its requests converted up, the answers down, one
/// implementation behind both.
impl v0_1_0::http_client::Host for GuestState {
    async fn limits(&mut self) -> wasmtime::Result<v0_1_0::http_client::HostLimits> {
        Ok(v0_1_0::host_limits(self.http.limits()))
    }

    async fn send(
        &mut self,
        request: v0_1_0::http_client::Request,
    ) -> wasmtime::Result<Result<v0_1_0::http_client::Response, v0_1_0::http_client::HttpError>>
    {
        let clock = self.clock.clone();
        let request = v0_1_0::request(request);
        let answer = Timed::new(self.http.send(request), clock, Spent::HostCall).await;
        Ok(v0_1_0::response(answer, &self.http.limits(), 1))
    }

    async fn send_all(
        &mut self,
        requests: Vec<v0_1_0::http_client::Request>,
    ) -> wasmtime::Result<Vec<Result<v0_1_0::http_client::Response, v0_1_0::http_client::HttpError>>>
    {
        let clock = self.clock.clone();
        let batch = requests.len();
        let requests = requests.into_iter().map(v0_1_0::request).collect();
        let answers = Timed::new(self.http.send_all(requests), clock, Spent::HostCall).await;
        let limits = self.http.limits();
        Ok(answers
            .into_iter()
            .map(|a| v0_1_0::response(a, &limits, batch))
            .collect())
    }
}

impl v0_1_0::types::Host for GuestState {}

/// A component pre-instantiated through the binding of its contract version.
#[derive(Clone)]
pub(crate) enum Pre {
    /// Built against 0.1.0.
    V0_1_0(v0_1_0::ConnectorPre<GuestState>),
    /// Built against 0.2.0.
    V0_2_0(v0_2_0::ConnectorPre<GuestState>),
}

/// One instance, of the version its component was built against.
enum Instance {
    V0_1_0(v0_1_0::Connector),
    V0_2_0(v0_2_0::Connector),
}

impl Pre {
    async fn instantiate(&self, store: &mut Store<GuestState>) -> wasmtime::Result<Instance> {
        Ok(match self {
            Pre::V0_1_0(pre) => Instance::V0_1_0(pre.instantiate_async(store).await?),
            Pre::V0_2_0(pre) => Instance::V0_2_0(pre.instantiate_async(store).await?),
        })
    }
}

/// A 0.1.0 call's answer, brought up to the current contract's types.
fn up<T, U: From<T>>(
    r: wasmtime::Result<Result<T, v0_1_0::types::ConnectorError>>,
) -> wasmtime::Result<Result<U, ConnectorError>> {
    r.map(|r| r.map(U::from).map_err(ConnectorError::from))
}

/// Facts about a loaded component.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ComponentInfo {
    /// SHA-256 of the component's bytes (the cache key).
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: usize,
    /// Its imports, all within the allow-list.
    pub imports: Vec<String>,
    /// The contract version it was built against (read from its exports).
    pub contract: ContractVersion,
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
    /// The rate governor every invocation of every tenant shares.
    pub(crate) governor: Arc<Governor>,
}

/// A component loaded, checked and pre-instantiated: ready to be invoked many times.
#[derive(Clone)]
pub struct LoadedConnector {
    runtime: Arc<RuntimeInner>,
    pre: Pre,
    info: ComponentInfo,
    /// Its egress declaration: from its `describe` on first need, or the embedder's
    /// ([`Self::with_declaration`]) for a component whose contract declares none.
    declaration: Arc<tokio::sync::OnceCell<Arc<Declaration>>>,
    /// The limits its invocations run under: the runtime's, unless [`Self::with_limits`].
    limits: Arc<crate::limits::Limits>,
    /// The operator's policy and upstream: the runtime's, unless [`Self::with_operator`].
    egress: Egress,
}

impl LoadedConnector {
    pub(crate) fn new(runtime: Arc<RuntimeInner>, pre: Pre, info: ComponentInfo) -> Self {
        let limits = runtime.limits.clone();
        let egress = runtime.egress.clone();
        Self {
            runtime,
            pre,
            info,
            declaration: Arc::default(),
            limits,
            egress,
        }
    }

    /// The contract version the component was built against.
    pub fn contract_version(&self) -> ContractVersion {
        self.info.contract
    }

    /// The same component with its egress declared by the embedder instead of by its
    /// `describe`: for a component of a contract version that declares none (0.1.0), whose
    /// requests are otherwise all denied. The operator's policy still bounds every grant.
    pub fn with_declaration(&self, declaration: Declaration) -> Self {
        Self {
            declaration: Arc::new(tokio::sync::OnceCell::new_with(Some(Arc::new(declaration)))),
            ..self.clone()
        }
    }

    /// The egress declaration its invocations are granted from: the embedder's, or its own
    /// `describe` (called once per loaded component).
    pub async fn declaration(&self) -> Result<Arc<Declaration>, CallError> {
        self.declaration
            .get_or_try_init(|| async {
                self.describe()
                    .await
                    .map(|info| Arc::new(Declaration::of(&info)))
            })
            .await
            .cloned()
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
                governor: self.egress.governor.clone(),
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
        declaration: &Declaration,
        recorder: Recorder,
        priority: Priority,
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
                Arc::new(EgressPolicy::for_tenant(
                    tenant,
                    declaration,
                    &self.egress.operator,
                )),
                limits.clone(),
                recorder,
            )
            .governed(self.egress.governor.clone(), priority),
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
        let (mut store, _, _) = self.new_store(
            &Tenant::default(),
            &Declaration::default(),
            Recorder::default(),
            Priority::Normal,
        );
        self.pre
            .instantiate(&mut store)
            .await
            .map(|_| ())
            .map_err(|e| InvokeError::Instantiate(format!("{e:#}")))
    }

    /// An invocation refused before the component ran.
    fn refused<R>(started: Instant, error: CallError) -> Invocation<R> {
        Invocation {
            result: Err(error),
            exchanges: Vec::new(),
            elapsed: started.elapsed(),
            peak_memory: 0,
        }
    }

    /// Runs one action: the tenant's URLs checked against the operator's domains, its grants
    /// built from the connector's declaration, then a fresh instance. `dry_run` makes the host
    /// deny every write of a connector whose contract marks its reads (0.2.0 on).
    /// `priority` is its place in the tenant's rate-governor lanes.
    async fn invoke_at<R, F>(
        &self,
        tenant: &Tenant,
        dry_run: bool,
        priority: Priority,
        call: F,
    ) -> Invocation<R>
    where
        R: Send + crate::sanitize::Sanitize,
        F: for<'a> FnOnce(
                &'a Instance,
                &'a mut Store<GuestState>,
            ) -> CallFuture<'a, Result<R, ConnectorError>>
            + Send,
    {
        let started = Instant::now();
        let declaration = match self.declaration().await {
            Ok(declaration) => declaration,
            Err(error) => return Self::refused(started, error),
        };
        self.run(tenant, &declaration, (dry_run, priority), started, call)
            .await
    }

    async fn run<R, F>(
        &self,
        tenant: &Tenant,
        declaration: &Declaration,
        (dry_run, priority): (bool, Priority),
        started: Instant,
        call: F,
    ) -> Invocation<R>
    where
        R: Send + crate::sanitize::Sanitize,
        F: for<'a> FnOnce(
                &'a Instance,
                &'a mut Store<GuestState>,
            ) -> CallFuture<'a, Result<R, ConnectorError>>
            + Send,
    {
        // A tenant URL naming a host outside the operator's domains: refused before the
        // connector runs, as the connector refuses a malformed one.
        if let Err(refused) = self.egress.operator.check_tenant(tenant, declaration) {
            let error = ConnectorError::InvalidConfig(types::ConfigError {
                message: refused.to_string(),
                key: refused.key,
            });
            return Self::refused(started, CallError::Connector(error));
        }
        let recorder = Recorder::default();
        let (mut store, stderr, clock) =
            self.new_store(tenant, declaration, recorder.clone(), priority);
        if dry_run && self.info.contract >= ContractVersion::V0_2_0 {
            store.data_mut().http.refuse_writes();
        }
        let wall = self.limits.wall_time;
        let run = async {
            let instance = self
                .pre
                .instantiate(&mut store)
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

    /// `describe`: needs no tenant and makes no request (it is granted nothing).
    pub async fn describe(&self) -> Result<ConnectorInfo, CallError> {
        let started = Instant::now();
        let tenant = Tenant::default();
        let how = (true, Priority::Normal);
        self.run(&tenant, &Declaration::default(), how, started, |c, s| {
            Box::pin(async move {
                match c {
                    Instance::V0_2_0(c) => c
                        .lifecycle_connector_lifecycle()
                        .call_describe(s)
                        .await
                        .map(Ok),
                    Instance::V0_1_0(c) => c
                        .lifecycle_connector_lifecycle()
                        .call_describe(s)
                        .await
                        .map(|info| Ok(info.into())),
                }
            })
        })
        .await
        .result
    }

    /// `check-health` for a tenant.
    pub async fn check_health(&self, tenant: &Tenant) -> Invocation<HealthReport> {
        let config = Self::guest_config(tenant);
        self.invoke_at(tenant, false, Priority::Normal, move |c, s| {
            Box::pin(async move {
                match c {
                    Instance::V0_2_0(c) => {
                        c.lifecycle_connector_lifecycle()
                            .call_check_health(s, &config)
                            .await
                    }
                    Instance::V0_1_0(c) => up(c
                        .lifecycle_connector_lifecycle()
                        .call_check_health(s, &v0_1_0::config(&config))
                        .await),
                }
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
        self.invoke_at(tenant, options.dry_run, Priority::Normal, move |c, s| {
            Box::pin(async move {
                match c {
                    Instance::V0_2_0(c) => {
                        c.lifecycle_connector_lifecycle()
                            .call_sync_identity(s, &config, &identity, options)
                            .await
                    }
                    Instance::V0_1_0(c) => up(c
                        .lifecycle_connector_lifecycle()
                        .call_sync_identity(
                            s,
                            &v0_1_0::config(&config),
                            &v0_1_0::identity(&identity),
                            v0_1_0::sync_options(options),
                        )
                        .await),
                }
            })
        })
        .await
    }

    /// `manage-relationships` for a tenant: entitlements added and removed.
    pub async fn manage_relationships(
        &self,
        tenant: &Tenant,
        user: &UserRef,
        add: &[Entitlement],
        remove: &[Entitlement],
        options: ActionOptions,
    ) -> Invocation<Outcome> {
        let started = Instant::now();
        let config = Self::guest_config(tenant);
        let (user, add, remove) = (user.clone(), add.to_vec(), remove.to_vec());
        let legacy = match self.info.contract {
            ContractVersion::V0_1_0 => match (
                v0_1_0::user_ref(&user),
                v0_1_0::entitlements(&add),
                v0_1_0::entitlements(&remove),
            ) {
                (Ok(u), Ok(a), Ok(r)) => Some((u, a, r)),
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                    return Self::refused(started, CallError::Connector(e));
                }
            },
            ContractVersion::V0_2_0 => None,
        };
        self.invoke_at(tenant, options.dry_run, Priority::Normal, move |c, s| {
            Box::pin(async move {
                match (c, legacy) {
                    (Instance::V0_1_0(c), Some((user, add, remove))) => up(c
                        .lifecycle_connector_lifecycle()
                        .call_manage_relationships(
                            s,
                            &v0_1_0::config(&config),
                            &user,
                            &add,
                            &remove,
                            v0_1_0::action_options(options),
                        )
                        .await),
                    (Instance::V0_2_0(c), _) => {
                        c.lifecycle_connector_lifecycle()
                            .call_manage_relationships(s, &config, &user, &add, &remove, options)
                            .await
                    }
                    (Instance::V0_1_0(_), None) => Ok(Err(version_mismatch())),
                }
            })
        })
        .await
    }

    /// `manage-relationships` with group memberships only, groups named by display name.
    pub async fn manage_groups(
        &self,
        tenant: &Tenant,
        user: &UserRef,
        add: &[String],
        remove: &[String],
        options: ActionOptions,
    ) -> Invocation<Outcome> {
        let groups = |names: &[String]| -> Vec<Entitlement> {
            names.iter().cloned().map(Entitlement::Group).collect()
        };
        self.manage_relationships(tenant, user, &groups(add), &groups(remove), options)
            .await
    }

    /// `deprovision-identity` for a tenant.
    pub async fn deprovision_identity(
        &self,
        tenant: &Tenant,
        user: &UserRef,
        options: ActionOptions,
    ) -> Invocation<Outcome> {
        let started = Instant::now();
        let config = Self::guest_config(tenant);
        let user = user.clone();
        let legacy = match self.legacy_user(&user) {
            Ok(legacy) => legacy,
            Err(e) => return Self::refused(started, e),
        };
        self.invoke_at(tenant, options.dry_run, Priority::High, move |c, s| {
            Box::pin(async move {
                match (c, legacy) {
                    (Instance::V0_1_0(c), Some(user)) => up(c
                        .lifecycle_connector_lifecycle()
                        .call_deprovision_identity(
                            s,
                            &v0_1_0::config(&config),
                            &user,
                            v0_1_0::action_options(options),
                        )
                        .await),
                    (Instance::V0_2_0(c), _) => {
                        c.lifecycle_connector_lifecycle()
                            .call_deprovision_identity(s, &config, &user, options)
                            .await
                    }
                    (Instance::V0_1_0(_), None) => Ok(Err(version_mismatch())),
                }
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
        let started = Instant::now();
        let config = Self::guest_config(tenant);
        let user = user.clone();
        let legacy = match self.legacy_user(&user) {
            Ok(legacy) => legacy,
            Err(e) => return Self::refused(started, e),
        };
        self.invoke_at(tenant, options.dry_run, Priority::High, move |c, s| {
            Box::pin(async move {
                match (c, legacy) {
                    (Instance::V0_1_0(c), Some(user)) => up(c
                        .lifecycle_connector_lifecycle()
                        .call_delete_identity(
                            s,
                            &v0_1_0::config(&config),
                            &user,
                            v0_1_0::delete_options(options),
                        )
                        .await),
                    (Instance::V0_2_0(c), _) => {
                        c.lifecycle_connector_lifecycle()
                            .call_delete_identity(s, &config, &user, options)
                            .await
                    }
                    (Instance::V0_1_0(_), None) => Ok(Err(version_mismatch())),
                }
            })
        })
        .await
    }

    /// The 0.1.0 form of a user reference, when the component is 0.1.0.
    fn legacy_user(&self, user: &UserRef) -> Result<Option<v0_1_0::types::UserRef>, CallError> {
        match self.info.contract {
            ContractVersion::V0_1_0 => v0_1_0::user_ref(user)
                .map(Some)
                .map_err(CallError::Connector),
            ContractVersion::V0_2_0 => Ok(None),
        }
    }

    /// `list-users`: one page.
    pub async fn list_users(&self, tenant: &Tenant, page: &PageRequest) -> Invocation<UserPage> {
        let config = Self::guest_config(tenant);
        let page = page.clone();
        self.invoke_at(tenant, false, Priority::Normal, move |c, s| {
            Box::pin(async move {
                match c {
                    Instance::V0_2_0(c) => {
                        c.lifecycle_connector_lifecycle()
                            .call_list_users(s, &config, &page)
                            .await
                    }
                    Instance::V0_1_0(c) => up(c
                        .lifecycle_connector_lifecycle()
                        .call_list_users(s, &v0_1_0::config(&config), &v0_1_0::page_request(&page))
                        .await),
                }
            })
        })
        .await
    }

    /// `list-groups`: one page.
    pub async fn list_groups(&self, tenant: &Tenant, page: &PageRequest) -> Invocation<GroupPage> {
        let config = Self::guest_config(tenant);
        let page = page.clone();
        self.invoke_at(tenant, false, Priority::Normal, move |c, s| {
            Box::pin(async move {
                match c {
                    Instance::V0_2_0(c) => {
                        c.lifecycle_connector_lifecycle()
                            .call_list_groups(s, &config, &page)
                            .await
                    }
                    Instance::V0_1_0(c) => up(c
                        .lifecycle_connector_lifecycle()
                        .call_list_groups(s, &v0_1_0::config(&config), &v0_1_0::page_request(&page))
                        .await),
                }
            })
        })
        .await
    }

    /// `list-resources`: one page of one kind (a kind the connector's `describe` declares).
    pub async fn list_resources(
        &self,
        tenant: &Tenant,
        kind: &str,
        page: &PageRequest,
    ) -> Invocation<ResourcePage> {
        let started = Instant::now();
        let config = Self::guest_config(tenant);
        let page = page.clone();
        let kind = kind.to_owned();
        let legacy = match self.info.contract {
            ContractVersion::V0_1_0 => match v0_1_0::resource_kind(&kind) {
                Ok(k) => Some(k),
                Err(e) => return Self::refused(started, CallError::Connector(e)),
            },
            ContractVersion::V0_2_0 => None,
        };
        self.invoke_at(tenant, false, Priority::Normal, move |c, s| {
            Box::pin(async move {
                match (c, legacy) {
                    (Instance::V0_1_0(c), Some(kind)) => up(c
                        .lifecycle_connector_lifecycle()
                        .call_list_resources(
                            s,
                            &v0_1_0::config(&config),
                            kind,
                            &v0_1_0::page_request(&page),
                        )
                        .await),
                    (Instance::V0_2_0(c), _) => {
                        c.lifecycle_connector_lifecycle()
                            .call_list_resources(s, &config, &kind, &page)
                            .await
                    }
                    (Instance::V0_1_0(_), None) => Ok(Err(version_mismatch())),
                }
            })
        })
        .await
    }

    /// `reactivate-identity` (contract 0.2.0): the person active again, their entitlements
    /// converged to `desired`. A 0.1.0 component has no such function: `unsupported`.
    pub async fn reactivate_identity(
        &self,
        tenant: &Tenant,
        user: &UserRef,
        desired: &[Entitlement],
        options: ActionOptions,
    ) -> Invocation<Outcome> {
        let started = Instant::now();
        if self.info.contract == ContractVersion::V0_1_0 {
            return Self::refused(
                started,
                CallError::Connector(ConnectorError::Unsupported(
                    "reactivate-identity needs a connector of contract 0.2.0; this one \
                     implements 0.1.0"
                        .into(),
                )),
            );
        }
        let config = Self::guest_config(tenant);
        let (user, desired) = (user.clone(), desired.to_vec());
        self.invoke_at(tenant, options.dry_run, Priority::High, move |c, s| {
            Box::pin(async move {
                match c {
                    Instance::V0_2_0(c) => {
                        c.lifecycle_connector_lifecycle()
                            .call_reactivate_identity(s, &config, &user, &desired, options)
                            .await
                    }
                    Instance::V0_1_0(_) => Ok(Err(version_mismatch())),
                }
            })
        })
        .await
    }
    /// `manage-group-roles` (contract 0.2.0): roles granted to and revoked from the group
    /// named `group`, an administrator's action (normal priority). A 0.1.0 component has no
    /// such function: `unsupported`.
    pub async fn manage_group_roles(
        &self,
        tenant: &Tenant,
        group: &str,
        add: &[RoleGrant],
        remove: &[RoleGrant],
        options: ActionOptions,
    ) -> Invocation<Outcome> {
        let started = Instant::now();
        if self.info.contract == ContractVersion::V0_1_0 {
            return Self::refused(
                started,
                CallError::Connector(ConnectorError::Unsupported(
                    "manage-group-roles needs a connector of contract 0.2.0; this one \
                     implements 0.1.0"
                        .into(),
                )),
            );
        }
        let config = Self::guest_config(tenant);
        let (group, add, remove) = (group.to_string(), add.to_vec(), remove.to_vec());
        self.invoke_at(tenant, options.dry_run, Priority::Normal, move |c, s| {
            Box::pin(async move {
                match c {
                    Instance::V0_2_0(c) => {
                        c.lifecycle_connector_lifecycle()
                            .call_manage_group_roles(s, &config, &group, &add, &remove, options)
                            .await
                    }
                    Instance::V0_1_0(_) => Ok(Err(version_mismatch())),
                }
            })
        })
        .await
    }
}

/// A 0.1.0 instance whose arguments were not converted: cannot happen, since both are chosen
/// from the same component's version; answered as an error rather than a panic.
fn version_mismatch() -> ConnectorError {
    ConnectorError::Other("host error: arguments prepared for another contract version".into())
}
