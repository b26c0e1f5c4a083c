//! Shared support for the integration tests: one runtime per test binary, the built-in
//! connector, the hostile test guest, tenants pointing at a local server, and secret scans.
#![allow(dead_code)]

use host_harness::component::LoadBuiltin as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use lifecycle_host::recorder::Exchange;
use lifecycle_host::{LoadedConnector, OperatorPolicy, Runtime, RuntimeOptions, Tenant};

/// Secret values used by the tests; none of them may ever show up in any output.
pub const SCIM_TOKEN: &str = "scim-token-5f0c2e9a";
/// The org API key used by the tests.
pub const ADMIN_KEY: &str = "admin-key-b81d44c7";
/// The product API token used by the tests.
pub const PRODUCT_TOKEN: &str = "product-token-2a6e91f3";
/// The directory id in the tests' SCIM URLs.
pub const DIRECTORY: &str = "dir-7c1e";
/// The organization id of the tests.
pub const ORG: &str = "org-31a8";

/// One runtime per test binary. Its compiled-component cache sits in the target directory and
/// is shared by every test binary, so the component is compiled once per build, not once per
/// binary (an unoptimised Cranelift takes seconds). The tests' servers listen on loopback, so
/// its operator policy allows loopback.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        Runtime::new(RuntimeOptions {
            cache_dir: Some(PathBuf::from(concat!(
                env!("CARGO_TARGET_TMPDIR"),
                "/cli-cache/host-harness"
            ))),
            operator: OperatorPolicy::local_simulator(),
            ..RuntimeOptions::default()
        })
        .expect("runtime")
    })
}

/// The built-in connector component, loaded once.
pub fn connector() -> &'static LoadedConnector {
    static CONNECTOR: OnceLock<LoadedConnector> = OnceLock::new();
    CONNECTOR.get_or_init(|| runtime().load_builtin().expect("built-in connector loads"))
}

/// The hostile test guest (`test-guests/`), built on first use with the same toolchain.
pub fn test_guest() -> &'static LoadedConnector {
    static GUEST: OnceLock<LoadedConnector> = OnceLock::new();
    GUEST.get_or_init(|| {
        // A 0.1.0 component: the harness declares its (Atlassian) egress for it.
        host_harness::component::with_legacy_egress(
            runtime()
                .load(&test_guest_bytes())
                .expect("test guest loads"),
        )
    })
}

/// Builds `test-guests/` for wasm32-wasip2 and returns the component's bytes.
pub fn test_guest_bytes() -> Vec<u8> {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    let path = PATH.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        host_harness::guest_build::test_guest(&root).expect("test-guests build")
    });
    std::fs::read(path).expect("test guest component exists")
}

/// The SCIM user listing URL of the tests' directory on the server at `base`.
pub fn scim_users_url(base: &str) -> String {
    format!("{base}/scim/directory/{DIRECTORY}/Users")
}

/// A mock server that answers every request with `template`.
pub async fn server_answering(template: wiremock::ResponseTemplate) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// A full tenant (SCIM + admin) whose APIs all point at `base` (a local mock server).
pub fn full_tenant(base: &str) -> Tenant {
    scim_only_tenant(base)
        .with_setting("scim_organization_id", ORG)
        .with_setting("atlassian_api_url", base)
        .with_secret("admin_api_key", ADMIN_KEY)
}

/// A SCIM-only tenant (the Oleria form) pointing at `base`.
pub fn scim_only_tenant(base: &str) -> Tenant {
    Tenant::default()
        .with_setting("instance_name", "test-org")
        .with_setting("scim_url", format!("{base}/scim/directory/{DIRECTORY}"))
        .with_secret("scim_token", SCIM_TOKEN)
}

/// Fails if any secret value of the tests appears in `text`.
pub fn assert_no_secret(what: &str, text: &str) {
    for secret in [SCIM_TOKEN, ADMIN_KEY, PRODUCT_TOKEN] {
        assert!(
            !text.contains(secret),
            "{what} contains a secret value: {text}"
        );
    }
}

/// Fails if any recorded exchange mentions a secret value.
pub fn assert_exchanges_clean(exchanges: &[Exchange]) {
    let json = serde_json::to_string(exchanges).expect("exchanges serialize");
    assert_no_secret("the exchange record", &json);
}

#[allow(unused_imports)] // each test binary uses its own subset
pub use lifecycle_conformance::support::{sim_scim_only, sim_tenant};

/// Fails if any of the simulator's secret values appears in `text`.
pub fn assert_no_sim_secret(sim: &atlassian_simulator::Simulator, what: &str, text: &str) {
    let tenant = sim_tenant(sim);
    for secret in tenant.secrets.values() {
        assert!(
            !text.contains(secret.expose()),
            "{what} contains a secret value"
        );
    }
}

/// A JSON answer of the test servers below.
fn json_response(
    status: u16,
    body: String,
) -> hyper::Response<http_body_util::Full<hyper::body::Bytes>> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
        .expect("a valid response")
}

/// Serves one accepted connection with `service` on a task of its own.
fn serve_connection<S>(stream: tokio::net::TcpStream, service: S)
where
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = hyper::Response<http_body_util::Full<hyper::body::Bytes>>,
            Error = std::convert::Infallible,
        > + Send
        + 'static,
    S::Future: Send + 'static,
{
    tokio::spawn(async move {
        let io = hyper_util::rt::TokioIo::new(stream);
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(io, service)
            .await;
    });
}

/// A loopback HTTP server that holds every request until `quorum` requests are in flight at
/// once, then answers all of them `200 {}`: it proves that requests run concurrently by
/// ordering alone, whatever the machine's speed. Requests that never reach the quorum (a host
/// that sends one at a time) are answered `409` after [`GateServer::GIVE_UP`], and so are all
/// requests after that, so such a host fails the test instead of hanging it.
pub struct GateServer {
    /// `http://127.0.0.1:PORT`.
    pub uri: String,
    state: std::sync::Arc<std::sync::Mutex<GateCounts>>,
    accept: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct GateCounts {
    received: usize,
    in_flight: usize,
    peak: usize,
    given_up: bool,
}

impl GateServer {
    /// How long a request waits for the quorum before the gate gives up. Only a host that fails
    /// the test waits this long; the guest's request timeout must be longer.
    pub const GIVE_UP: std::time::Duration = std::time::Duration::from_secs(20);

    /// Starts the server on the current Tokio runtime.
    pub async fn start(quorum: usize) -> GateServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let uri = format!("http://{}", listener.local_addr().expect("local address"));
        let state = std::sync::Arc::new(std::sync::Mutex::new(GateCounts::default()));
        let (open_tx, open_rx) = tokio::sync::watch::channel(false);
        let open_tx = std::sync::Arc::new(open_tx);
        let counts = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (counts, open_tx, open_rx) = (counts.clone(), open_tx.clone(), open_rx.clone());
                let service = hyper::service::service_fn(move |_request| {
                    let (counts, open_tx, mut open_rx) =
                        (counts.clone(), open_tx.clone(), open_rx.clone());
                    async move {
                        {
                            let mut c = counts.lock().unwrap();
                            c.received += 1;
                            c.in_flight += 1;
                            c.peak = c.peak.max(c.in_flight);
                            if c.in_flight >= quorum {
                                open_tx.send_replace(true);
                            }
                        }
                        let opened = !counts.lock().unwrap().given_up
                            && tokio::time::timeout(Self::GIVE_UP, open_rx.wait_for(|open| *open))
                                .await
                                .is_ok_and(|r| r.is_ok());
                        let mut c = counts.lock().unwrap();
                        c.in_flight -= 1;
                        c.given_up |= !opened;
                        let (status, body) = if opened {
                            (200, "{}".to_owned())
                        } else {
                            (
                                409,
                                format!(
                                    "gave up: at most {} of {quorum} requests were in flight at once",
                                    c.peak
                                ),
                            )
                        };
                        Ok::<_, std::convert::Infallible>(json_response(status, body))
                    }
                });
                serve_connection(stream, service);
            }
        });
        GateServer { uri, state, accept }
    }

    /// Requests received so far.
    pub fn received(&self) -> usize {
        self.state.lock().unwrap().received
    }

    /// The most requests that were in flight at once.
    pub fn peak(&self) -> usize {
        self.state.lock().unwrap().peak
    }
}

impl Drop for GateServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// A loopback HTTP server that holds the first request it receives until `others` more have
/// been received, and answers every other request at once (`200 {}`). A host whose
/// `send-all` window waits for its oldest request before starting another never sends the
/// rest, and the held request is answered `409` after [`GateServer::GIVE_UP`] instead:
/// ordering again, not a clock.
pub struct HeadServer {
    /// `http://127.0.0.1:PORT`.
    pub uri: String,
    received: std::sync::Arc<std::sync::Mutex<usize>>,
    accept: tokio::task::JoinHandle<()>,
}

impl HeadServer {
    /// Starts the server on the current Tokio runtime.
    pub async fn start(others: usize) -> HeadServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let uri = format!("http://{}", listener.local_addr().expect("local address"));
        let received = std::sync::Arc::new(std::sync::Mutex::new(0usize));
        let (open_tx, open_rx) = tokio::sync::watch::channel(false);
        let open_tx = std::sync::Arc::new(open_tx);
        let counter = received.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (counter, open_tx, open_rx) =
                    (counter.clone(), open_tx.clone(), open_rx.clone());
                let service = hyper::service::service_fn(move |_request| {
                    let (counter, open_tx, mut open_rx) =
                        (counter.clone(), open_tx.clone(), open_rx.clone());
                    async move {
                        let first = {
                            let mut n = counter.lock().unwrap();
                            *n += 1;
                            if *n > others {
                                open_tx.send_replace(true);
                            }
                            *n == 1
                        };
                        let opened = !first
                            || tokio::time::timeout(
                                GateServer::GIVE_UP,
                                open_rx.wait_for(|open| *open),
                            )
                            .await
                            .is_ok_and(|r| r.is_ok());
                        let (status, body) = if opened {
                            (200, "{}".to_owned())
                        } else {
                            let n = *counter.lock().unwrap();
                            (
                                409,
                                format!("gave up: {} of {others} others arrived", n - 1),
                            )
                        };
                        Ok::<_, std::convert::Infallible>(json_response(status, body))
                    }
                });
                serve_connection(stream, service);
            }
        });
        HeadServer {
            uri,
            received,
            accept,
        }
    }

    /// Requests received so far.
    pub fn received(&self) -> usize {
        *self.received.lock().unwrap()
    }
}

impl Drop for HeadServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
