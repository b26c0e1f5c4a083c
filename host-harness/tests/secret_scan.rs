//! Conformance G3 and the secret scan: everything a run produces — command output and errors,
//! JSON outcomes, the snapshot, the host's exchange records and the simulator's request log
//! (paths, queries, bodies), the audit log and the workflow and audit commands' output — is
//! collected and searched for the secret values in use. None may appear, on success or on
//! failure.

mod support;

use atlassian_simulator::{Fault, Route, Simulator, Tokens};
use host_harness::component::LoadBuiltin as _;
use lifecycle_host::{OperatorPolicy, Runtime, RuntimeOptions, Tenant};

/// This test's own harness home: its audit log is scanned too.
const HOME: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/secret-scan-home");

/// The binary as the host operator runs it against the simulator: loopback allowed.
fn harness(args: &[&str]) -> String {
    let args: Vec<&str> = ["--allow-loopback"].iter().chain(args).copied().collect();
    support::text(&support::run(Some(std::path::Path::new(HOME)), &args))
}

fn secrets(tokens: &Tokens) -> [String; 3] {
    [
        tokens.scim_token.clone(),
        tokens.admin_api_key.clone(),
        tokens.product_token.clone(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_record_or_request_ever_contains_a_secret() {
    let sim = Simulator::builder().demo_org().start().await.unwrap();
    let _ = std::fs::remove_dir_all(HOME);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sim.toml");
    std::fs::write(&config, sim.config_toml()).unwrap();
    let cfg = config.to_str().unwrap();
    let snapshot = dir.path().join("snap.json");
    let mut produced = String::new();

    // Every command, successful runs and failing ones.
    for args in [
        vec!["describe", "--json"],
        vec!["health", "--config", cfg],
        vec!["health", "--json", "--config", cfg],
        vec![
            "sync",
            "--json",
            "--config",
            cfg,
            "--email",
            "scan@example.com",
            "--name",
            "Scan",
        ],
        vec!["sync", "--config", cfg, "--email", "not-an-email"],
        vec![
            "groups",
            "--json",
            "--config",
            cfg,
            "--user",
            "scan@example.com",
            "--add",
            "engineering",
            "--add",
            "jira-software-users",
        ],
        vec![
            "groups",
            "--config",
            cfg,
            "--user",
            "scan@example.com",
            "--add",
            "missing-group",
        ],
        vec![
            "extract",
            "--config",
            cfg,
            "--out",
            snapshot.to_str().unwrap(),
        ],
        vec![
            "deprovision",
            "--json",
            "--config",
            cfg,
            "--user",
            "scan@example.com",
            "--dry-run",
        ],
        vec![
            "delete",
            "--json",
            "--config",
            cfg,
            "--user",
            "scan@example.com",
            "--purge-account",
            "--dry-run",
        ],
        vec![
            "workflow",
            "run",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../examples/workflows/offboarding.toml"
            ),
            "--config",
            cfg,
            "--set",
            "email=scan@example.com",
        ],
        vec!["audit"],
        vec!["audit", "--json"],
        vec!["integrations", "list"],
    ] {
        produced.push_str(&harness(&args));
    }
    produced.push_str(&std::fs::read_to_string(&snapshot).unwrap_or_default());
    let audit_log = std::fs::read_to_string(format!("{HOME}/audit.jsonl")).unwrap_or_default();
    assert!(
        audit_log.contains("deactivate-user"),
        "the audit log was not written: {audit_log}"
    );
    produced.push_str(&audit_log);

    // Failures that handle credentials: a faulting API, and rotated (now wrong) keys.
    sim.fault(Route::any(), Fault::Status(500), 3);
    produced.push_str(&harness(&["health", "--json", "--config", cfg]));
    let old = sim.tokens();
    sim.rotate_tokens();
    produced.push_str(&harness(&["health", "--json", "--config", cfg]));
    produced.push_str(&harness(&[
        "sync",
        "--json",
        "--config",
        cfg,
        "--email",
        "x@example.com",
    ]));

    // The library's own records of the same kind of run.
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: Some(concat!(env!("CARGO_TARGET_TMPDIR"), "/cli-cache/host-harness").into()),
        operator: OperatorPolicy::local_simulator(),
        ..RuntimeOptions::default()
    })
    .unwrap();
    let connector = runtime.load_builtin().unwrap();
    let tenant = Tenant::from_toml(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let inv = connector.check_health(&tenant).await;
    produced.push_str(&serde_json::to_string(&inv.exchanges).unwrap());
    produced.push_str(&format!("{:?}", inv.result));
    produced.push_str(&format!("{tenant:?}"));

    // The simulator's full request log and state dump.
    for r in sim.requests() {
        produced.push_str(&format!(
            "{} {} {:?} {}\n",
            r.method, r.path, r.query, r.body
        ));
    }
    produced.push_str(&sim.dump().to_string());

    assert!(
        produced.len() > 2_000,
        "the scan saw too little output to mean anything"
    );
    for secret in secrets(&old).iter().chain(secrets(&sim.tokens()).iter()) {
        assert!(
            secret.len() >= 16,
            "test secrets must be long enough to be unique"
        );
        assert!(
            !produced.contains(secret.as_str()),
            "a secret value appeared in the output"
        );
    }
}

/// Conformance H8 through the command line: a server that echoes the `Authorization` header,
/// the raw token and Basic's `user:token` in its error bodies and headers. Standard output,
/// standard error and the audit log hold the echo, with no form of any secret in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h8_an_upstream_echoing_credentials_gets_none_printed_or_recorded() {
    let sim = Simulator::builder()
        .demo_org()
        .products(1, 1, 1)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let config = dir.path().join("sim.toml");
    std::fs::write(&config, sim.config_toml()).unwrap();
    let cfg = config.to_str().unwrap();
    let batch = dir.path().join("hires.csv");
    std::fs::write(&batch, "email,name\nhire1@example.com,Hire One\n").unwrap();
    let user = Tenant::from_toml(&sim.config_toml()).unwrap().settings["product_user"].clone();
    let (mut stdout, mut stderr) = (String::new(), String::new());
    let mut run = |args: &[&str]| {
        // The simulator listens on loopback: the operator allows it.
        let args: Vec<&str> = ["--allow-loopback"].iter().chain(args).copied().collect();
        let out = support::run(Some(&home), &args);
        stdout.push_str(&support::stdout(&out));
        stderr.push_str(&support::stderr(&out));
    };

    // Every request echoes: the health check sends all three credentials, Bearer and Basic.
    sim.fault_always(Route::any(), Fault::EchoAuthorization(401));
    run(&["health", "--config", cfg]);
    run(&["health", "--json", "--config", cfg]);
    // Writes that fail with the echo: a create, a deprovision's writes, a batch's creates.
    sim.clear_faults();
    sim.fault_always(
        Route::scim("/Users").method("POST"),
        Fault::EchoAuthorization(400),
    );
    run(&[
        "sync",
        "--config",
        cfg,
        "--email",
        "echo@example.com",
        "--name",
        "Echo",
    ]);
    run(&[
        "sync",
        "--json",
        "--config",
        cfg,
        "--email",
        "echo@example.com",
    ]);
    run(&[
        "batch",
        "--action",
        "sync",
        "--input",
        batch.to_str().unwrap(),
        "--config",
        cfg,
    ]);
    sim.clear_faults();
    for method in ["PATCH", "PUT", "DELETE"] {
        sim.fault_always(Route::any().method(method), Fault::EchoAuthorization(403));
    }
    run(&["deprovision", "--config", cfg, "--user", "ada@example.com"]);
    run(&["audit"]);
    // An error that ends the command, on standard error: the mass-change guard cannot count
    // the organization's users when every read echoes.
    sim.clear_faults();
    sim.fault_always(Route::any(), Fault::EchoAuthorization(401));
    let leavers = dir.path().join("leavers.csv");
    std::fs::write(&leavers, "user\nalan@example.com\n").unwrap();
    run(&[
        "batch",
        "--action",
        "deprovision",
        "--input",
        leavers.to_str().unwrap(),
        "--config",
        cfg,
    ]);
    let audit_log = std::fs::read_to_string(home.join("audit.jsonl")).unwrap_or_default();

    let echoed = sim
        .requests()
        .iter()
        .filter(|r| r.fault.as_deref() == Some("echo-authorization"))
        .count();
    assert!(echoed >= 5, "only {echoed} echoing answers");
    for (what, text) in [
        ("standard output", &stdout),
        ("standard error", &stderr),
        ("the audit log", &audit_log),
    ] {
        // The echo got this far, each secret in it replaced.
        assert!(
            text.contains("[redacted]"),
            "no echo in {what}: {} bytes",
            text.len()
        );
        for (form, value) in lifecycle_conformance::support::secret_forms(&sim.tokens(), &user) {
            // Never print the value: say which form appeared where.
            assert!(!text.contains(&value), "the {form} appeared in {what}");
        }
    }
}
