//! The engine a process runs every connector on: one wasmtime `Engine` with the pooling
//! allocator and epoch interruption, a compiled-component cache, and the load-time checks.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::{ContractVersion, v0_1_0, v0_2_0};
use crate::invoke::{GuestState, LoadedConnector, Pre};
use crate::limits::Limits;
use crate::network::Resolver;
use crate::operator::OperatorPolicy;

/// How often the epoch advances; the CPU limit is enforced at this granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Settings of a [`Runtime`].
#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    /// Limits applied to every invocation.
    pub limits: Limits,
    /// Most guest instances alive at once (sizes the pooling allocator).
    pub max_instances: u32,
    /// Where compiled components are kept between processes; `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// The host operator's egress policy: which upstream domains tenant URLs may name and
    /// which address ranges (loopback, private) connections may reach. The operator's alone:
    /// no tenant or saved integration can change it.
    pub operator: OperatorPolicy,
    /// How host names are resolved: the system's resolver unless a test injects one. Every
    /// answer is checked against the operator's address rules before connecting.
    pub resolver: Resolver,
    /// How the rate governor paces every tenant's requests ([`crate::governor`]).
    pub governor: crate::governor::GovernorPolicy,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            max_instances: 128,
            cache_dir: None,
            operator: OperatorPolicy::default(),
            resolver: Resolver::system(),
            governor: crate::governor::GovernorPolicy::default(),
        }
    }
}

/// Why a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read component {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a valid component for this engine.
    #[error("not a valid component: {0}")]
    Invalid(String),
    /// The component imports something outside the sandbox's allow-list.
    #[error("component refused: it imports `{0}`, which is outside the sandbox's allow-list")]
    ForbiddenImport(String),
    /// The component exports no `lifecycle` interface, or one of a contract version this host
    /// does not run; the message names the versions it runs.
    #[error("component refused: {0}")]
    UnsupportedContract(String),
    /// The component does not fit the world of the contract version it declares.
    #[error("component does not fit the lifecycle:connector@{version} contract: {message}")]
    Contract {
        /// The version it declares.
        version: crate::bindings::ContractVersion,
        /// What does not fit.
        message: String,
    },
}

/// Where a load found its compiled code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadSource {
    /// Compiled now.
    Compiled,
    /// Found in this process's memory cache.
    MemoryCache,
    /// Deserialized from the on-disk cache written by this host.
    DiskCache,
}

pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    linker: Linker<GuestState>,
    pub(crate) egress: crate::invoke::Egress,
    pub(crate) limits: Arc<Limits>,
    cache: Mutex<HashMap<String, Component>>,
    cache_dir: Option<PathBuf>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// A process-wide runtime: create one and load any number of components into it.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

impl Runtime {
    /// Builds the engine, the linker with exactly the allowed imports, and the epoch ticker.
    pub fn new(options: RuntimeOptions) -> anyhow::Result<Self> {
        let upstream = crate::http_client::Upstream::network(
            options.operator.address_rules(),
            &options.resolver,
        )?;
        Self::with_upstream(options, upstream)
    }

    /// [`Runtime::new`] with requests answered by `upstream` once the sandbox let them
    /// through (an in-process answerer for measurements; every policy still applies, the
    /// operator's included).
    pub fn with_upstream(
        options: RuntimeOptions,
        upstream: crate::http_client::Upstream,
    ) -> anyhow::Result<Self> {
        let mut pool = PoolingAllocationConfig::new();
        let n = options.max_instances.max(1);
        pool.total_component_instances(n)
            .total_core_instances(n * 8)
            .total_memories(n * 2)
            .total_tables(n * 8)
            .total_stacks(n)
            .max_memory_size(options.limits.memory_bytes);
        let mut config = Config::new();
        config
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .epoch_interruption(true)
            .wasm_component_model(true)
            // Reserve (not commit) the whole 32-bit index space plus a guard for every pooled
            // memory, so compiled code needs no explicit bounds check on each load and store
            // (a slot the size of the limit made the guest run 1.5-2x slower). Growth is still
            // capped at the memory limit by the pool and by the store's limiter.
            .memory_reservation(4 << 30)
            .memory_guard_size(32 << 20)
            .memory_reservation_for_growth(0)
            .max_wasm_stack(512 << 10);
        let engine = Engine::new(&config)?;

        let mut linker = Linker::<GuestState>::new(&engine);
        crate::wasi::add_to_linker(&mut linker)?;
        // Every contract version's imports: a component links against the one it was built for.
        v0_1_0::Connector::add_to_linker::<GuestState, HasSelf<GuestState>>(&mut linker, |s| s)?;
        v0_2_0::Connector::add_to_linker::<GuestState, HasSelf<GuestState>>(&mut linker, |s| s)?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.weak();
            let stop = ticker_stop.clone();
            std::thread::Builder::new()
                .name("epoch-ticker".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        match engine.upgrade() {
                            Some(engine) => engine.increment_epoch(),
                            None => break,
                        }
                    }
                })?;
        }

        Ok(Self {
            inner: Arc::new(RuntimeInner {
                engine,
                linker,
                egress: crate::invoke::Egress {
                    operator: Arc::new(options.operator),
                    resolver: options.resolver,
                    upstream,
                    governor: Arc::new(crate::governor::Governor::new(options.governor)),
                },
                limits: Arc::new(options.limits),
                cache: Mutex::new(HashMap::new()),
                cache_dir: options.cache_dir,
                ticker_stop,
            }),
        })
    }

    /// The engine, for measurements.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The limits every invocation runs under.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The operator's egress policy every connector loaded here starts with.
    pub fn operator(&self) -> &OperatorPolicy {
        &self.inner.egress.operator
    }

    /// Loads a component from a file.
    pub fn load_file(&self, path: &Path) -> Result<LoadedConnector, LoadError> {
        let kind = crate::files::Kind::Component;
        let bytes =
            crate::files::read_bounded(path, kind, kind.limit()).map_err(|e| LoadError::Read {
                path: path.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            })?;
        self.load(&bytes)
    }

    /// Loads a component: compiles it (or takes it from the cache), checks its imports against
    /// the allow-list, reads the contract version it exports and pre-instantiates it through
    /// that version's binding, so each invocation only instantiates.
    pub fn load(&self, wasm: &[u8]) -> Result<LoadedConnector, LoadError> {
        let started = Instant::now();
        let (component, sha256, source) = self.compile_cached(wasm)?;
        let imports = check_imports(&self.inner.engine, &component)?;
        let ty = component.component_type();
        let version = ContractVersion::of(ty.exports(&self.inner.engine).map(|(name, _)| name))
            .map_err(LoadError::UnsupportedContract)?;
        let contract = |e: wasmtime::Error| LoadError::Contract {
            version,
            message: format!("{e:#}"),
        };
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(contract)?;
        let pre = match version {
            ContractVersion::V0_1_0 => {
                Pre::V0_1_0(v0_1_0::ConnectorPre::new(pre).map_err(contract)?)
            }
            ContractVersion::V0_2_0 => {
                Pre::V0_2_0(v0_2_0::ConnectorPre::new(pre).map_err(contract)?)
            }
        };
        Ok(LoadedConnector::new(
            self.inner.clone(),
            pre,
            crate::invoke::ComponentInfo {
                sha256,
                size: wasm.len(),
                imports,
                contract: version,
                source,
                load_time: started.elapsed(),
            },
        ))
    }

    fn compile_cached(&self, wasm: &[u8]) -> Result<(Component, String, LoadSource), LoadError> {
        let sha256 = hex(&Sha256::digest(wasm));
        let mut cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.get(&sha256) {
            return Ok((c.clone(), sha256, LoadSource::MemoryCache));
        }
        let disk_path = self.inner.cache_dir.as_ref().map(|dir| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            self.inner
                .engine
                .precompile_compatibility_hash()
                .hash(&mut h);
            dir.join(format!("{sha256}-{:016x}.cwasm", h.finish()))
        });
        if let Some(path) = &disk_path
            && path.is_file()
        {
            // SAFETY: the cache directory is private to this host (mode 0700), its files are
            // only ever written by `Component::serialize` below, and the name binds both the
            // source hash and the engine's compatibility hash.
            if let Ok(c) = unsafe { Component::deserialize_file(&self.inner.engine, path) } {
                cache.insert(sha256.clone(), c.clone());
                return Ok((c, sha256, LoadSource::DiskCache));
            }
        }
        let component = Component::new(&self.inner.engine, wasm)
            .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        if let Some(path) = &disk_path
            && let Ok(bytes) = component.serialize()
        {
            // Best effort: a cache that cannot be written only costs a recompile next time.
            let _ = write_private(path, &bytes);
        }
        cache.insert(sha256.clone(), component.clone());
        Ok((component, sha256, LoadSource::Compiled))
    }
}

/// Lists a component's imports and refuses any outside the allow-list.
fn check_imports(engine: &Engine, component: &Component) -> Result<Vec<String>, LoadError> {
    let ty = component.component_type();
    let mut names = Vec::new();
    for (name, _) in ty.imports(engine) {
        if !crate::wasi::is_allowed_import(name) {
            return Err(LoadError::ForbiddenImport(name.to_owned()));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("cache path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), rand_suffix()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn rand_suffix() -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    Instant::now().hash(&mut h);
    std::thread::current().id().hash(&mut h);
    h.finish()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
