//! The standard host for the composed component: wasmtime's own `wasi:http` implementation
//! with its default hooks (the code `wasmtime serve` runs: no hook of ours, no policy of ours)
//! and `wasi:config` values, served on loopback with one fresh store per request.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::server::conn::http1;
use tokio::net::TcpListener;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_config::{WasiConfig, WasiConfigVariables};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The composed component (connector + adapter + front) this harness was built with.
pub const BUILTIN_HTTP: &[u8] = include_bytes!(env!("CONNECTOR_HTTP_WASM"));

/// Per-request state, as `wasmtime serve` keeps it: WASI, wasi:http, wasi:config.
pub struct Ctx {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    config: Arc<WasiConfigVariables>,
}

impl WasiView for Ctx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for Ctx {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: Default::default(),
        }
    }
}

/// A `wasi:http/proxy` component compiled and linked against the standard implementations,
/// ready to be served with any tenant's `wasi:config` values.
#[derive(Clone)]
pub struct Proxy {
    pre: ProxyPre<Ctx>,
}

impl Proxy {
    /// Compiles `wasm` (a `wasi:http/proxy` component) with wasmtime's default configuration.
    pub fn compile(wasm: &[u8]) -> anyhow::Result<Self> {
        let engine = Engine::new(&Config::new())?;
        let component = Component::from_binary(&engine, wasm)?;
        let mut linker = Linker::<Ctx>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        wasmtime_wasi_config::add_to_linker(&mut linker, |c: &mut Ctx| {
            WasiConfig::from(&*c.config)
        })?;
        let pre = ProxyPre::new(linker.instantiate_pre(&component)?)?;
        Ok(Self { pre })
    }

    /// Serves the component on a loopback port with `config` until the [`Served`] is dropped.
    pub async fn serve(&self, config: WasiConfigVariables) -> std::io::Result<Served> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (pre, config) = (self.pre.clone(), Arc::new(config));
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let (pre, config) = (pre.clone(), config.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        handle(pre.clone(), config.clone(), req)
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(client), service)
                        .await;
                });
            }
        });
        Ok(Served { addr, task })
    }
}

/// One deployment of the component: its address; it stops accepting when dropped.
#[derive(Debug)]
pub struct Served {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    pre: ProxyPre<Ctx>,
    config: Arc<WasiConfigVariables>,
    req: hyper::Request<hyper::body::Incoming>,
) -> wasmtime::Result<hyper::Response<HyperOutgoingBody>> {
    let mut store = Store::new(
        pre.engine(),
        Ctx {
            table: ResourceTable::new(),
            wasi: WasiCtx::builder().inherit_stderr().build(),
            http: WasiHttpCtx::new(),
            config,
        },
    );
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let req = store
        .data_mut()
        .http()
        .new_incoming_request(Scheme::Http, req)?;
    let out = store.data_mut().http().new_response_outparam(sender)?;
    let task = tokio::spawn(async move {
        let proxy = pre.instantiate_async(&mut store).await?;
        proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut store, req, out)
            .await
    });
    match receiver.await {
        Ok(Ok(resp)) => Ok(resp),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(match task.await {
            Ok(Ok(())) => wasmtime::Error::msg("the guest set no response"),
            Ok(Err(e)) => e,
            Err(e) => e.into(),
        }),
    }
}
