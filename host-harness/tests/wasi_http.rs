//! The composed component (connector + adapter + front, `CONNECTOR_HTTP_WASM`) on a standard
//! host: wasmtime's own `wasi:http` implementation with its default hooks (the code
//! `wasmtime serve` runs: no hook of ours, no policy of ours) and `wasi:config` values, served
//! on loopback.
//!
//! The tests named after a conformance case (B1 … E4, and the A, F, G1, I and J cases) run the
//! suite's own case function with the HTTP subject (`host_harness::over_http`): the same
//! seed, calls and checks of the simulator's state as in our host, each call a request of the
//! front's JSON API. The other tests check what only the HTTP path has: the lifecycle end to
//! end as a caller of the API sees it, the front's routes and errors as JSON, and the egress rule read from `wasi:config`.

use std::sync::OnceLock;

use atlassian_simulator::{SeedUser, Simulator, SimulatorBuilder};
use host_harness::conformance_platform::HarnessPlatform;
use host_harness::over_http::{HttpSubject, Proxy, Served as Deployment};
use lifecycle_conformance::{self as conformance, CaseResult};
use serde_json::{Value, json};
use wasmtime_wasi_config::WasiConfigVariables;

/// The composed component, compiled once per test binary.
fn proxy() -> &'static Proxy {
    static PROXY: OnceLock<Proxy> = OnceLock::new();
    PROXY.get_or_init(|| {
        let wasm = std::fs::read(env!("CONNECTOR_HTTP_WASM")).unwrap();
        Proxy::compile(&wasm).unwrap()
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

/// A simulator and the composed component serving its tenant.
struct Served {
    sim: Simulator,
    base: String,
    client: reqwest::Client,
    _deployment: Deployment,
}

impl Served {
    async fn start(builder: SimulatorBuilder) -> Self {
        let sim = builder.start().await.unwrap();
        let deployment = proxy().serve(config_values(&sim)).await.unwrap();
        Self {
            sim,
            base: format!("http://{}/v1", deployment.addr()),
            client: reqwest::Client::new(),
            _deployment: deployment,
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
    let deployment = proxy().serve(vars).await.unwrap();
    let resp = reqwest::Client::new()
        .post(format!("http://{}/v1/sync-identity", deployment.addr()))
        .body(new_person().to_string())
        .send()
        .await
        .unwrap();
    let (status, answer) = answer(resp).await;
    assert_ne!(status, 200, "{answer:#}");
    assert!(answer.to_string().contains("plain http"), "{answer:#}");
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

/// Asserts that the case passed through HTTP (a skip is a failure here: these cases are the
/// ones the HTTP subject runs).
fn assert_passed(id: &str, result: CaseResult) {
    match result {
        CaseResult::Pass { .. } => {}
        CaseResult::Fail { differences } => {
            let lines: Vec<String> = differences.iter().map(ToString::to_string).collect();
            panic!("{id} over HTTP failed:\n  {}", lines.join("\n  "));
        }
        CaseResult::Skipped { why } => panic!("{id} was skipped over HTTP: {why}"),
    }
}

macro_rules! over_http {
    ($($id:literal $name:ident;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let subject = HttpSubject::new(proxy().clone());
                assert_passed($id, conformance::$name(&subject, &HarnessPlatform).await);
            }
        )*

        /// Every case of the suite either runs over HTTP here or needs our host and says why.
        #[test]
        fn every_case_runs_over_http_or_says_why_it_needs_our_host() {
            let here = [$($id),*];
            for case in conformance::cases() {
                let runs_here = here.contains(&case.id);
                assert!(
                    runs_here != case.needs_host.is_some(),
                    "{}: runs here {runs_here}, needs our host {:?}",
                    case.id,
                    case.needs_host,
                );
            }
            for id in ["B", "C", "D", "E"] {
                assert!(here.iter().any(|h| h.starts_with(id)), "no {id} case over HTTP");
            }
        }
    };
}

over_http! {
    "B1" b1_create_a_new_user;
    "B2" b2_sync_again_writes_nothing;
    "B3" b3_update_one_attribute;
    "B4" b4_create_and_update_switches;
    "B5" b5_conflict_on_create;
    "B6" b6_lost_create_response;
    "B7" b7_filter_escaping;
    "B8" b8_email_case;
    "B9" b9_invalid_identity;
    "B10" b10_account_id_or_pending;
    "C1" c1_add_to_admin_group;
    "C2" c2_add_to_synced_group;
    "C3" c3_add_existing_member;
    "C4" c4_remove_one_of_three;
    "C5" c5_remove_non_member;
    "C6" c6_unknown_group;
    "C7" c7_licence_limit;
    "C9" c9_group_name_case;
    "D1" d1_deprovision;
    "D2" d2_deprovision_again;
    "D3" d3_deprovision_resumes;
    "D4" d4_deprovision_protected_user;
    "D5" d5_deprovision_unknown_user;
    "E1" e1_delete;
    "E2" e2_delete_twice;
    "E3" e3_purge_account;
    "E4" e4_delete_protected_user;
    "A4" a4_bad_admin_key;
    "A5" a5_scim_only_config;
    "A6" a6_wrong_directory_id;
    "A7" a7_admin_key_expiry;
    "F1" f1_users_over_pages;
    "F2" f2_groups_over_pages;
    "F3" f3_products_over_pages;
    "F4" f4_listing_error_is_not_empty;
    "I1" i1_grant_a_product_role;
    "I2" i2_revoke_a_direct_role;
    "I3" i3_group_and_inferred_roles_are_reported;
    "I4" i4_unknown_roles_and_limits;
    "I5" i5_deprovision_revokes_direct_roles;
    "I6" i6_deprovision_revokes_api_tokens;
    "I7" i7_grant_and_revoke_group_roles;
    "I8" i8_group_roles_dry_run_and_unknowns;
    "J3" j3_purge_consults_the_preflight;
    "G1" g1_dry_run_then_real_run;
    "D8" d8_deprovision_unverifiable_memberships;
    "J1" j1_reactivate_a_scim_user;
    "J2" j2_suspend_and_restore_an_unmanaged_account;
    "J4" j4_reactivate_and_suspend_dry_run;
}
