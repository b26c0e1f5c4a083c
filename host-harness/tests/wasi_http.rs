//! The composed component (connector + adapter + front, `CONNECTOR_HTTP_WASM`) on a standard
//! host: wasmtime's own `wasi:http` implementation with its default hooks (the code
//! `wasmtime serve` runs: no hook of ours, no policy of ours) and `wasi:config` values, served
//! on loopback. Each test drives the JSON API over HTTP against its own simulator and checks
//! the simulator's state afterwards. The tests named after a conformance case (B1, C2, D1,
//! E1, ...) are that case through HTTP: same seed, same action, same check of the state.

use std::net::SocketAddr;
use std::sync::Arc;

use atlassian_simulator::{SeedUser, Simulator, SimulatorBuilder};
use hyper::server::conn::http1;
use serde_json::{Value, json};
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

/// Per-request state, as `wasmtime serve` keeps it: WASI, wasi:http, wasi:config.
struct Ctx {
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

/// The composed component, compiled once per test binary.
fn component() -> &'static (Engine, Component) {
    static COMPONENT: std::sync::OnceLock<(Engine, Component)> = std::sync::OnceLock::new();
    COMPONENT.get_or_init(|| {
        let engine = Engine::new(&Config::new()).unwrap();
        let component = Component::from_file(&engine, env!("CONNECTOR_HTTP_WASM")).unwrap();
        (engine, component)
    })
}

/// The simulator's tenant as `wasi:config` values: its settings and secrets under their
/// configuration keys, and plain http to loopback allowed (the simulator listens there).
fn config_values(sim: &Simulator) -> WasiConfigVariables {
    let table: toml::Table = sim.config_toml().parse().unwrap();
    let mut vars = WasiConfigVariables::new();
    for (key, value) in &table {
        match value {
            toml::Value::String(s) => {
                vars.insert(key, s);
            }
            toml::Value::Table(secrets) => {
                for (k, v) in secrets {
                    vars.insert(k, v.as_str().unwrap());
                }
            }
            _ => {}
        }
    }
    vars.insert("adapter_allow_loopback_http", "true");
    vars
}

/// Serves the composed component on loopback with `config`, one fresh store per request.
async fn serve(config: WasiConfigVariables) -> SocketAddr {
    let (engine, component) = component();
    let mut linker = Linker::<Ctx>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).unwrap();
    wasmtime_wasi_config::add_to_linker(&mut linker, |c: &mut Ctx| WasiConfig::from(&*c.config))
        .unwrap();
    let pre = ProxyPre::new(linker.instantiate_pre(component).unwrap()).unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let (pre, config) = (pre.clone(), config.clone());
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req| handle(pre.clone(), config.clone(), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(client), service)
                    .await;
            });
        }
    });
    addr
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

/// A simulator and the composed component serving its tenant.
struct Served {
    sim: Simulator,
    base: String,
    client: reqwest::Client,
}

impl Served {
    async fn start(builder: SimulatorBuilder) -> Self {
        let sim = builder.start().await.unwrap();
        let addr = serve(config_values(&sim)).await;
        Self {
            sim,
            base: format!("http://{addr}/v1"),
            client: reqwest::Client::new(),
        }
    }

    /// `POST /v1/{op}` with `body`: the status and the JSON answer.
    async fn post(&self, op: &str, body: Value) -> (u16, Value) {
        let resp = self
            .client
            .post(format!("{}/{op}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        answer(resp).await
    }

    /// Like [`Served::post`], asserting 200.
    async fn ok(&self, op: &str, body: Value) -> Value {
        let (status, answer) = self.post(op, body).await;
        assert_eq!(status, 200, "{op}: {answer:#}");
        answer
    }

    /// A re-run: every change `already-done`, and nothing written.
    fn assert_nothing_left_to_do(&self, outcome: &Value) {
        assert!(
            statuses(outcome)
                .iter()
                .all(|(_, st)| st == "\"already-done\""),
            "{outcome:#}"
        );
        let written = self.sim.mutations();
        assert!(written.is_empty(), "{written:?}");
    }

    /// No secret of the simulator's tenant appears in `text`.
    fn assert_no_secret(&self, text: &str) {
        let t = self.sim.tokens();
        for secret in [t.scim_token, t.admin_api_key, t.product_token] {
            assert!(!text.contains(&secret), "a secret leaked into {text}");
        }
    }
}

/// The status and JSON body of an answer.
async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{status}: not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, value)
}

fn statuses(outcome: &Value) -> Vec<(String, String)> {
    outcome["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].to_string(), c["status"].to_string()))
        .collect()
}

fn org() -> SimulatorBuilder {
    Simulator::builder()
        .user(SeedUser::new("ada@example.com").name("Ada Lovelace"))
        .user(SeedUser::new("grace@example.com").name("Grace Hopper"))
        .synced_group("engineering", &["ada@example.com", "grace@example.com"])
        .synced_group("research", &[])
        .admin_group("jira-users", &["grace@example.com"])
}

fn new_person() -> Value {
    json!({"identity": {
        "email": "ann.new@example.com",
        "given_name": "Ann",
        "family_name": "New",
        "display_name": "Ann New",
        "external_id": "hr-1001",
    }})
}

/// The whole lifecycle over HTTP: describe, health, sync, groups, deprovision, delete; the
/// simulator's state after each step, and no secret in any answer.
#[tokio::test]
async fn sync_groups_deprovision_delete_over_wasi_http() {
    let s = Served::start(org()).await;
    let (status, info) = answer(
        s.client
            .get(format!("{}/describe", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{info:#}");
    assert_eq!(info["contract_version"], "0.2.0", "{info:#}");
    let health = s.ok("check-health", json!({})).await;
    assert_eq!(health["healthy"], true, "{health:#}");

    let synced = s.ok("sync-identity", new_person()).await;
    assert_eq!(synced["completed"], true, "{synced:#}");
    let user = s.sim.user_by_email("ann.new@example.com").unwrap();
    assert!(user.active && user.scim_id.is_some(), "{user:?}");
    assert_eq!(user.external_id.as_deref(), Some("hr-1001"));

    let ann = json!({"email": "ann.new@example.com"});
    let groups = s
        .ok(
            "manage-relationships",
            json!({"user": ann, "add": [{"group": "engineering"}, {"group": "jira-users"}]}),
        )
        .await;
    assert_eq!(groups["completed"], true, "{groups:#}");
    let mut member_of = s.sim.user_by_email("ann.new@example.com").unwrap().groups;
    member_of.sort();
    assert_eq!(member_of, ["engineering", "jira-users"]);

    let gone = s.ok("deprovision-identity", json!({"user": ann})).await;
    assert_eq!(gone["completed"], true, "{gone:#}");
    let user = s.sim.user_by_email("ann.new@example.com").unwrap();
    assert!(!user.active && user.groups.is_empty(), "{user:?}");
    assert!(user.scim_id.is_some(), "deprovision keeps the record");

    let deleted = s.ok("delete-identity", json!({"user": ann})).await;
    assert_eq!(deleted["completed"], true, "{deleted:#}");
    let user = s.sim.user_by_email("ann.new@example.com").unwrap();
    assert!(user.scim_id.is_none(), "{user:?}");

    let answers = [info, health, synced, groups, gone, deleted];
    s.assert_no_secret(&serde_json::to_string(&answers).unwrap());
}

/// B1 through HTTP: a new user is created with one look-up and one POST, every mapped
/// attribute on re-read.
#[tokio::test]
async fn b1_create_a_new_user_over_wasi_http() {
    let s = Served::start(org()).await;
    let out = s.ok("sync-identity", new_person()).await;
    assert_eq!(
        statuses(&out),
        [("\"create-user\"".into(), "\"applied\"".into())]
    );
    let user = s.sim.user_by_email("ann.new@example.com").unwrap();
    let scim = user.scim.unwrap();
    assert_eq!(scim["name"]["givenName"], "Ann");
    assert_eq!(scim["name"]["familyName"], "New");
    assert_eq!(scim["displayName"], "Ann New");
    assert_eq!(s.sim.count("POST", "/scim/"), 1);
}

/// B2 through HTTP: the same identity again writes nothing.
#[tokio::test]
async fn b2_sync_again_writes_nothing_over_wasi_http() {
    let s = Served::start(org()).await;
    s.ok("sync-identity", new_person()).await;
    s.sim.clear_requests();
    let again = s.ok("sync-identity", new_person()).await;
    s.assert_nothing_left_to_do(&again);
}

/// B9 through HTTP: an invalid identity is `invalid-input` (400), with zero requests.
#[tokio::test]
async fn b9_invalid_identity_over_wasi_http() {
    let s = Served::start(org()).await;
    let (status, answer) = s
        .post(
            "sync-identity",
            json!({"identity": {"email": "not an email"}}),
        )
        .await;
    assert_eq!(status, 400, "{answer:#}");
    assert_eq!(answer["error"]["class"], "invalid-input", "{answer:#}");
    assert!(s.sim.requests().is_empty());
}

/// C1 and C2 through HTTP: an admin-managed group through the admin API, a synced group
/// through SCIM only.
#[tokio::test]
async fn c1_c2_add_to_admin_and_synced_groups_over_wasi_http() {
    let s = Served::start(org()).await;
    let ada = json!({"email": "ada@example.com"});
    let out = s
        .ok(
            "manage-relationships",
            json!({"user": ada, "add": [{"group": "jira-users"}, {"group": "research"}]}),
        )
        .await;
    assert_eq!(out["completed"], true, "{out:#}");
    assert!(
        s.sim
            .group_members("jira-users")
            .contains(&"ada@example.com".to_owned())
    );
    assert!(
        s.sim
            .group_members("research")
            .contains(&"ada@example.com".to_owned())
    );
    assert_eq!(s.sim.count("PATCH", "/scim/"), 1, "research through SCIM");
}

/// C4 through HTTP: one member of a synced group removed, the others stay.
#[tokio::test]
async fn c4_remove_one_member_over_wasi_http() {
    let s = Served::start(org()).await;
    let out = s
        .ok(
            "manage-relationships",
            json!({"user": {"email": "ada@example.com"}, "remove": [{"group": "engineering"}]}),
        )
        .await;
    assert_eq!(out["completed"], true, "{out:#}");
    assert_eq!(s.sim.group_members("engineering"), ["grace@example.com"]);
}

/// C6 through HTTP: an unknown group is `not-found` (404) before any write.
#[tokio::test]
async fn c6_unknown_group_over_wasi_http() {
    let s = Served::start(org()).await;
    let (status, answer) = s
        .post(
            "manage-relationships",
            json!({"user": {"email": "ada@example.com"}, "add": [{"group": "no-such-group"}]}),
        )
        .await;
    assert_eq!(status, 404, "{answer:#}");
    assert_eq!(answer["error"]["class"], "not-found");
    assert!(s.sim.mutations().is_empty());
}

/// D1 and D2 through HTTP: deprovision leaves no memberships and an inactive user with record
/// and account kept; again, everything is `already-done` with zero writes.
#[tokio::test]
async fn d1_d2_deprovision_and_again_over_wasi_http() {
    let s = Served::start(org()).await;
    let grace = json!({"user": {"email": "grace@example.com"}});
    let out = s.ok("deprovision-identity", grace.clone()).await;
    assert_eq!(out["completed"], true, "{out:#}");
    let user = s.sim.user_by_email("grace@example.com").unwrap();
    assert!(
        !user.active && user.groups.is_empty() && user.scim_id.is_some(),
        "{user:?}"
    );
    s.sim.clear_requests();
    let again = s.ok("deprovision-identity", grace).await;
    s.assert_nothing_left_to_do(&again);
}

/// D5 through HTTP: an unknown user is `not-found` (404).
#[tokio::test]
async fn d5_deprovision_unknown_user_over_wasi_http() {
    let s = Served::start(org()).await;
    let (status, answer) = s
        .post(
            "deprovision-identity",
            json!({"user": {"email": "nobody@example.com"}}),
        )
        .await;
    assert_eq!(
        (status, &answer["error"]["class"]),
        (404, &json!("not-found"))
    );
}

/// J1 through HTTP: `POST /v1/reactivate-identity` brings a deprovisioned person back,
/// active and in the desired group; again, everything is `already-done` with zero writes.
#[tokio::test]
async fn j1_reactivate_over_wasi_http() {
    let s = Served::start(org()).await;
    let grace = json!({"user": {"email": "grace@example.com"}});
    s.ok("deprovision-identity", grace.clone()).await;
    let back = json!({"user": {"email": "grace@example.com"},
                      "desired": [{"group": "engineering"}]});
    let out = s.ok("reactivate-identity", back.clone()).await;
    assert_eq!(out["completed"], true, "{out:#}");
    let user = s.sim.user_by_email("grace@example.com").unwrap();
    assert!(user.active && user.groups == ["engineering"], "{user:?}");
    s.sim.clear_requests();
    let again = s.ok("reactivate-identity", back).await;
    s.assert_nothing_left_to_do(&again);
}

/// E1 and E2 through HTTP: delete removes the SCIM record and its memberships; twice is
/// `already-done`.
#[tokio::test]
async fn e1_e2_delete_and_again_over_wasi_http() {
    let s = Served::start(org()).await;
    let ada = json!({"user": {"email": "ada@example.com"}});
    let out = s.ok("delete-identity", ada.clone()).await;
    assert_eq!(out["completed"], true, "{out:#}");
    let user = s.sim.user_by_email("ada@example.com").unwrap();
    assert!(user.scim_id.is_none() && user.groups.is_empty(), "{user:?}");
    s.sim.clear_requests();
    let again = s.ok("delete-identity", ada).await;
    s.assert_nothing_left_to_do(&again);
}

/// G1 through HTTP (sync): a dry run plans and writes nothing; the adapter refuses writes.
#[tokio::test]
async fn g1_dry_run_writes_nothing_over_wasi_http() {
    let s = Served::start(org()).await;
    let mut body = new_person();
    body["options"] = json!({"dry_run": true});
    let out = s.ok("sync-identity", body).await;
    assert_eq!(
        statuses(&out),
        [("\"create-user\"".into(), "\"planned\"".into())]
    );
    assert!(s.sim.mutations().is_empty());
    assert!(s.sim.user_by_email("ann.new@example.com").is_none());
}

/// Listings and the API's own refusals: unknown path 404, wrong method 405, bad JSON 400.
#[tokio::test]
async fn listings_and_refusals_over_wasi_http() {
    let s = Served::start(org()).await;
    let users = s.ok("list-users", json!({"limit": 10})).await;
    assert_eq!(users["items"].as_array().unwrap().len(), 2, "{users:#}");
    let groups = s.ok("list-groups", json!({})).await;
    assert!(
        !groups["items"].as_array().unwrap().is_empty(),
        "{groups:#}"
    );
    assert_eq!(s.post("no-such-thing", json!({})).await.0, 404);
    let get = s
        .client
        .get(format!("{}/sync-identity", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status().as_u16(), 405);
    let bad = s
        .client
        .post(format!("{}/sync-identity", s.base))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
}

/// Egress through the adapter: with a SCIM URL the connector's declaration does not cover at
/// run time (loopback not allowed), the request is denied inside the component, never sent.
#[tokio::test]
async fn the_adapter_denies_plain_http_unless_the_platform_allows_loopback() {
    let sim = org().start().await.unwrap();
    let mut vars = config_values(&sim);
    vars.insert("adapter_allow_loopback_http", "false");
    let addr = serve(vars).await;
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/v1/sync-identity"))
        .body(new_person().to_string())
        .send()
        .await
        .unwrap();
    let (status, answer) = answer(resp).await;
    assert_ne!(status, 200, "{answer:#}");
    assert!(answer.to_string().contains("plain http"), "{answer:#}");
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}
