//! Shared support for the integration tests: one runtime per test binary, the built-in
//! connector, the hostile test guest, tenants pointing at a local server, and secret scans.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use host_harness::recorder::Exchange;
use host_harness::{LoadedConnector, OperatorPolicy, Runtime, RuntimeOptions, Tenant};

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
        runtime()
            .load(&test_guest_bytes())
            .expect("test guest loads")
    })
}

/// Builds `test-guests/` for wasm32-wasip2 and returns the component's bytes.
pub fn test_guest_bytes() -> Vec<u8> {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    let path = PATH.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        host_harness::conformance::support::build_test_guest(&root).expect("test-guests build")
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
pub use host_harness::conformance::support::{sim_scim_only, sim_tenant};

/// Fails if any of the simulator's secret values appears in `text`.
pub fn assert_no_sim_secret(sim: &host_harness::simulator::Simulator, what: &str, text: &str) {
    let tenant = sim_tenant(sim);
    for secret in tenant.secrets.values() {
        assert!(
            !text.contains(secret.expose()),
            "{what} contains a secret value"
        );
    }
}
