//! The `host-harness` binary, run as a user would: readable output, JSON output, exit codes,
//! and clear messages for bad input. Upstream APIs are wiremock stubs started by each test.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::json;
use support::text;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SCIM_TOKEN: &str = "cli-scim-token-93be";

/// The binary as the host operator runs it against the tests' loopback servers: loopback
/// allowed.
fn harness(args: &[&str]) -> Output {
    let args: Vec<&str> = ["--allow-loopback"].iter().chain(args).copied().collect();
    harness_strict(&args)
}

/// The binary's home in these tests: saved integrations and the audit log stay inside the
/// test target directory too.
const HOME: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/cli-home");

/// The binary with only the operator flags in `args`.
fn harness_strict(args: &[&str]) -> Output {
    support::run(Some(Path::new(HOME)), args)
}

fn write_config(dir: &Path, base: &str) -> std::path::PathBuf {
    let file = dir.join("tenant.toml");
    std::fs::write(
        &file,
        format!(
            "instance_name = \"cli-test\"\n\
             scim_url = \"{base}/scim/directory/d-1\"\n\n\
             [secrets]\nscim_token = \"{SCIM_TOKEN}\"\n"
        ),
    )
    .unwrap();
    file
}

async fn scim_server(status: u16) -> MockServer {
    let server = MockServer::start().await;
    let body = if status == 200 {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
               "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
    } else {
        json!({"error": "Unauthorized", "traceId": "t-1"})
    };
    Mock::given(method("GET"))
        .and(path("/scim/directory/d-1/Users"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn health_reports_each_probe_and_exits_zero_when_healthy() {
    let server = scim_server(200).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri());
    let out = harness(&["health", "--config", config.to_str().unwrap()]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("cli-test: healthy"), "{shown}");
    assert!(
        shown.contains("scim") && shown.contains("scim_token"),
        "{shown}"
    );
    assert!(shown.contains("skip"), "{shown}");
    assert!(!shown.contains(SCIM_TOKEN));

    let out = harness(&["health", "--json", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(value["report"]["healthy"], true);
    assert_eq!(value["instance"], "cli-test");
}

#[tokio::test]
async fn health_exits_non_zero_when_a_probe_fails() {
    let server = scim_server(401).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri());
    let out = harness(&["health", "--config", config.to_str().unwrap()]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("UNHEALTHY") && shown.contains("unauthorized"),
        "{shown}"
    );
    assert!(!shown.contains(SCIM_TOKEN));
}

#[tokio::test]
async fn only_the_host_operator_can_let_a_tenant_reach_loopback() {
    let server = scim_server(200).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri());
    let cfg = config.to_str().unwrap();

    // Without the operator's permission the tenant's loopback URL is invalid-config.
    let out = harness_strict(&["health", "--config", cfg]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(shown.contains("scim_url"), "{shown}");
    assert!(shown.contains("allowed upstream domains"), "{shown}");
    // Listed, but loopback still not allowed: plain http is refused, nothing is sent.
    let out = harness_strict(&[
        "health",
        "--config",
        cfg,
        "--allow-upstream-domain",
        "127.0.0.1",
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("plain http is refused"), "{shown}");
    assert!(server.received_requests().await.unwrap().is_empty());

    // A tenant's file cannot grant it: the old `[host]` table is refused.
    let granting = dir.path().join("granting.toml");
    let text_with_host =
        std::fs::read_to_string(&config).unwrap() + "\n[host]\nallow_http_loopback = true\n";
    std::fs::write(&granting, text_with_host).unwrap();
    let out = harness(&["health", "--config", granting.to_str().unwrap()]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("`[host]` is not a tenant setting"),
        "{shown}"
    );
    assert!(!shown.contains(SCIM_TOKEN), "{shown}");
    assert!(server.received_requests().await.unwrap().is_empty());

    // The operator's file can.
    let operator = dir.path().join("operator.toml");
    std::fs::write(&operator, "allow_loopback = true\n").unwrap();
    let out = harness_strict(&[
        "--operator-config",
        operator.to_str().unwrap(),
        "health",
        "--config",
        cfg,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    std::fs::write(&operator, "allow_http_loopback = true\n").unwrap();
    let out = harness_strict(&[
        "--operator-config",
        operator.to_str().unwrap(),
        "health",
        "--config",
        cfg,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("allow_http_loopback"), "{}", text(&out));
}

#[test]
fn bad_input_gets_a_clear_message_and_exit_code_two() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let out = harness(&["health", "--config", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("cannot read config file"),
        "{}",
        text(&out)
    );

    let malformed = dir.path().join("bad.toml");
    std::fs::write(
        &malformed,
        "scim_url = \n[secrets]\nscim_token = \"t0p-s3cret\"\n",
    )
    .unwrap();
    let out = harness(&["health", "--config", malformed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("malformed"), "{}", text(&out));
    assert!(!text(&out).contains("t0p-s3cret"));

    let invalid = dir.path().join("invalid.toml");
    std::fs::write(
        &invalid,
        "scim_url = \"http://example.com/scim/directory/d\"\n[secrets]\nscim_token = \"x\"\n",
    )
    .unwrap();
    let out = harness(&["health", "--config", invalid.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("scim_url"), "{}", text(&out));

    let not_wasm = dir.path().join("x.wasm");
    std::fs::write(&not_wasm, b"nope").unwrap();
    let out = harness(&["describe", "--component", not_wasm.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("not a valid component"),
        "{}",
        text(&out)
    );
}

#[test]
fn describe_prints_the_config_schema() {
    let out = harness(&["describe"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("atlassian-cloud"), "{shown}");
    assert!(
        shown.contains("scim_token") && shown.contains("[secrets]"),
        "{shown}"
    );
    let out = harness(&["describe", "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        value["config_schema"]
            .as_array()
            .is_some_and(|a| a.len() >= 10),
        "{value}"
    );
}

/// Issue 14 item 3: `connect`'s flags are the config schema's keys, each named after its key
/// (a secret `--KEY-file`), so a new schema key needs no CLI change; `--instance-name` is
/// connect's own and sets `instance_name`.
#[test]
fn connect_flags_are_derived_from_the_config_schema() {
    let out = harness(&["describe", "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let expected: Vec<String> = value["config_schema"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["key"] != "instance_name")
        .map(|k| {
            let flag = format!("--{}", k["key"].as_str().unwrap().replace('_', "-"));
            if k["kind"] == "secret" {
                format!("{flag}-file")
            } else {
                flag
            }
        })
        .collect();
    let out = harness(&["connect", "--list-flags"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listed: Vec<String> = support::stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("  --"))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|f| *f != "set")
        .map(|f| format!("--{f}"))
        .collect();
    assert_eq!(listed, expected);
    for flag in [
        "--scim-url",
        "--scim-token-file",
        "--admin-api-key-file",
        "--scim-organization-id",
        "--product-user",
        "--product-token-file",
    ] {
        assert!(listed.iter().any(|l| l == flag), "{flag}: {listed:?}");
    }
    // The static help says where the flags come from and how to list them.
    let help = support::stdout(&harness(&["connect", "--help"]));
    assert!(
        help.contains("config schema") && help.contains("--list-flags"),
        "{help}"
    );
}

/// Issue 14 item 3: the schema-derived flags are checked against the schema before anything
/// is read or sent: an unknown flag or key, a secret as a value, a missing required key, half
/// of a `requires` pair. Exit 2, nothing saved, no secret echoed.
#[test]
fn connect_refuses_what_the_config_schema_does_not_allow_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let token = dir.path().join("scim.secret");
    std::fs::write(&token, "file-secret-5e1f\n").unwrap();
    let token = token.to_str().unwrap();
    // An unreachable URL: a check that let anything through would fail differently.
    let url = "https://scim.invalid/scim/directory/d";
    // connect's own flags may follow the connector's: the second parse knows them all.
    let base = ["connect", "--scim-url", url, "--instance-name", "refused"];
    let cases: [(&[&str], &[&str]); 7] = [
        (
            &["--scim-token-file", token, "--org-id", "o-1"],
            &["unknown flag `--org-id`", "--scim-organization-id VALUE"],
        ),
        (
            &["--scim-token-file", token, "--set", "nope=1"],
            &["no key `nope`", "scim_organization_id"],
        ),
        (
            &["--scim-token", "argv-secret-77ab"],
            &["`scim_token` is a secret", "--scim-token-file FILE"],
        ),
        (
            &[
                "--scim-token-file",
                token,
                "--set",
                "admin_api_key=argv-secret-77ab",
            ],
            &["`admin_api_key` is a secret", "--admin-api-key-file FILE"],
        ),
        (&[], &["missing required", "--scim-token-file FILE"]),
        (
            &["--scim-token-file", token, "--admin-api-key-file", token],
            &[
                "`admin_api_key` needs `scim_organization_id`",
                "--scim-organization-id",
            ],
        ),
        (
            &["--scim-token-file", token, "--site-url", "acme.example"],
            &["`site_url` must be an absolute https URL"],
        ),
    ];
    for (extra, expected) in cases {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let out = support::run(Some(&home), &args);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {shown}");
        for e in expected {
            assert!(shown.contains(e), "{extra:?}: {e}: {shown}");
        }
        assert!(!shown.contains("argv-secret-77ab"), "{shown}");
        assert!(!shown.contains("file-secret-5e1f"), "{shown}");
        assert!(
            !shown.contains("health"),
            "checked before any request: {shown}"
        );
    }
    assert!(!home.join("integrations/refused.toml").exists());
}

#[test]
fn inspect_measures_the_component() {
    let out = harness(&["inspect", "--iterations", "20", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(value["size_bytes"].as_u64().unwrap() > 10_000);
    assert!(value["instantiate_median_us"].as_f64().unwrap() > 0.0);
    assert!(
        value["imports"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| !i.as_str().unwrap().starts_with("wasi:filesystem"))
    );
}

#[test]
fn demo_runs_onboarding_role_change_and_offboarding_with_an_audit_trail() {
    let out = harness(&["demo"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("demo-acme: healthy"), "{shown}");
    for probe in ["scim", "admin", "jira", "confluence", "bitbucket"] {
        assert!(
            shown.contains(&format!("[ok  ] {probe}")),
            "{probe}: {shown}"
        );
    }
    for done in [
        "workflow onboarding completed",
        "workflow role-change completed",
        "workflow offboarding completed",
    ] {
        assert!(shown.contains(done), "{done}: {shown}");
    }
    // The trail: one line per change, from creation to deactivation.
    let trail = &shown[shown.find("== the audit trail").expect("a trail")..];
    let records: Vec<&str> = trail.lines().filter(|l| l.contains(" applied")).collect();
    assert_eq!(records.len(), 8, "{trail}");
    assert!(records[0].contains("create-user") && records[7].contains("deactivate-user"));
    assert!(
        shown.contains("katherine@example.com: deactivated") && shown.contains("groups: none"),
        "{shown}"
    );
    // The demo shows the simulated organization but never a config with its tokens.
    assert!(
        !shown.contains("[secrets]") && !shown.contains("scim_token = "),
        "{shown}"
    );
}

async fn simulated_config(dir: &Path) -> (atlassian_simulator::Simulator, std::path::PathBuf) {
    let sim = atlassian_simulator::Simulator::builder()
        .demo_org()
        .start()
        .await
        .unwrap();
    let file = dir.join("sim.toml");
    std::fs::write(&file, sim.config_toml()).unwrap();
    (sim, file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_and_groups_change_the_organization_and_report_it() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = simulated_config(dir.path()).await;
    let config = config.to_str().unwrap();
    let out = harness(&[
        "sync",
        "--config",
        config,
        "--email",
        "new.hire@example.com",
        "--name",
        "New Hire",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("planned"), "{}", text(&out));
    assert!(
        sim.user_by_email("new.hire@example.com").is_none(),
        "a dry run wrote"
    );

    let out = harness(&[
        "sync",
        "--json",
        "--config",
        config,
        "--email",
        "new.hire@example.com",
        "--name",
        "New Hire",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(value["outcome"]["completed"], true);
    assert!(sim.user_by_email("new.hire@example.com").is_some());

    let out = harness(&[
        "groups",
        "--config",
        config,
        "--user",
        "new.hire@example.com",
        "--add",
        "engineering",
        "--add",
        "jira-software-users",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        sim.group_members("engineering")
            .contains(&"new.hire@example.com".to_owned())
    );
    assert!(
        sim.group_members("jira-software-users")
            .contains(&"new.hire@example.com".to_owned())
    );

    // An unknown group refuses the whole call: exit 2, nothing changed.
    let out = harness(&[
        "groups",
        "--config",
        config,
        "--user",
        "new.hire@example.com",
        "--remove",
        "engineering",
        "--add",
        "no-such-group",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no-such-group"), "{}", text(&out));
    assert!(
        sim.group_members("engineering")
            .contains(&"new.hire@example.com".to_owned())
    );
    let out = harness(&["groups", "--config", config, "--user", "not an email"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extract_writes_a_snapshot_of_the_organization() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = simulated_config(dir.path()).await;
    let snapshot = dir.path().join("snapshot.json");
    let out = harness(&[
        "extract",
        "--config",
        config.to_str().unwrap(),
        "--out",
        snapshot.to_str().unwrap(),
        "--page-size",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&snapshot).unwrap()).unwrap();
    assert_eq!(value["users"].as_array().unwrap().len(), sim.users().len());
    assert_eq!(
        value["groups"].as_array().unwrap().len(),
        sim.groups().len()
    );
    assert!(!value["resources"].as_array().unwrap().is_empty());
    // The workspaces roles are granted on, listed two a page, each with the id a role takes.
    let workspaces: Vec<&str> = value["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "workspace")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let want: Vec<String> = sim.workspaces().into_iter().map(|w| w.id).collect();
    assert_eq!(workspaces, want);
    let shown = text(&out) + &String::from_utf8_lossy(&std::fs::read(&snapshot).unwrap());
    for secret in [
        sim.tokens().scim_token,
        sim.tokens().admin_api_key,
        sim.tokens().product_token,
    ] {
        assert!(
            !shown.contains(&secret),
            "the snapshot or output holds a secret"
        );
    }
}

#[test]
fn bench_still_runs_in_quick_mode() {
    let out = harness(&[
        "bench",
        "--quick",
        "--identities",
        "16",
        "--concurrency",
        "4",
        "--latency-ms",
        "5",
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    for row in [
        "instantiation",
        "the same core logic",
        "waves ×",
        "adding 100 groups",
        "removing 100 groups",
        "deprovision of a user in 100 groups",
        "bulk onboarding",
        "peak host memory",
        "guest linear memory",
        // Item 9 splits its wall between the users' waves and the groups' walk.
        "× their",
        "round trips in sequence",
    ] {
        assert!(shown.contains(row), "{row}: {shown}");
    }
    assert!(shown.contains(", 0 failed"), "{shown}");
    // Item 5 builds bench-guest/ on demand; a failure there is reported, not fatal, but here
    // it must have run.
    assert!(!shown.contains("not measured"), "{shown}");
}

/// Every Rust-style spelling of a contract case the host could write, none of which may
/// appear in its JSON: the WIT spells them `create-user`, `already-done`, `jira-project`, ...
const RUST_SPELLINGS: &[&str] = &[
    "\"CreateUser\"",
    "\"UpdateUser\"",
    "\"AddMembership\"",
    "\"RemoveMembership\"",
    "\"DeactivateUser\"",
    "\"Applied\"",
    "\"AlreadyDone\"",
    "\"Planned\"",
    "\"Failed\"",
    "\"JiraProject\"",
    "\"ConfluenceSpace\"",
    "\"BitbucketRepository\"",
    "\"SyncIdentities\"",
    "\"ManageRelationships\"",
    "\"Discover\"",
    "\"NotFound\"",
    "\"InvalidConfig\"",
    "\"InvalidInput\"",
    "\"Unauthorized\"",
    "\"Ok\"",
    "\"Skipped\"",
];

fn assert_wit_spelling(what: &str, json: &str) {
    for rust in RUST_SPELLINGS {
        assert!(
            !json.contains(rust),
            "{what} spells a contract case Rust-style ({rust}):\n{json}"
        );
    }
}

/// `--json` outputs, the extract snapshot and the audit log spell the contract's enum and
/// variant cases as the WIT does, so a consumer can match them against `wit/types.wit`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_outputs_spell_contract_cases_as_the_wit_does() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, config) = simulated_config(dir.path()).await;
    let config = config.to_str().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let audit = audit.to_str().unwrap();
    let json = |args: &[&str]| {
        // The simulator listens on loopback: the operator allows it.
        let args: Vec<&str> = ["--allow-loopback"].iter().chain(args).copied().collect();
        let args = args.as_slice();
        let out = support::run(Some(dir.path()), args);
        let stdout = support::stdout(&out);
        let value: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", text(&out)));
        assert_wit_spelling(&args.join(" "), &stdout);
        value
    };

    let describe = json(&["describe", "--json"]);
    assert!(
        describe["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("sync-identities")),
        "{describe}"
    );

    let email = "wit.spelling@example.com";
    let sync = |name: &str| {
        json(&[
            "sync",
            "--json",
            "--config",
            config,
            "--audit-log",
            audit,
            "--email",
            email,
            "--name",
            name,
        ])
    };
    let created = sync("Wit Spelling");
    assert_eq!(
        created["outcome"]["changes"][0]["kind"], "create-user",
        "{created}"
    );
    assert_eq!(
        created["outcome"]["changes"][0]["status"], "applied",
        "{created}"
    );
    let updated = sync("Wit Spelled");
    assert_eq!(
        updated["outcome"]["changes"][0]["kind"], "update-user",
        "{updated}"
    );

    let groups = json(&[
        "groups",
        "--json",
        "--config",
        config,
        "--audit-log",
        audit,
        "--user",
        email,
        "--add",
        "engineering",
        "--add",
        "no-such-group",
    ]);
    assert!(
        groups["error"].get("not-found").is_some(),
        "a refused action names its error class as the WIT does: {groups}"
    );

    let health = json(&["health", "--json", "--config", config]);
    let statuses: Vec<_> = health["report"]["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].clone())
        .collect();
    assert!(statuses.contains(&json!("ok")), "{health}");

    let snapshot = dir.path().join("snapshot.json");
    let out = harness(&[
        "extract",
        "--config",
        config,
        "--out",
        snapshot.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let snapshot = std::fs::read_to_string(&snapshot).unwrap();
    assert_wit_spelling("the extract snapshot", &snapshot);
    let snapshot: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
    let kinds: Vec<_> = snapshot["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"jira-project".to_owned()), "{kinds:?}");

    let log = std::fs::read_to_string(audit).unwrap();
    assert_wit_spelling("the audit log", &log);
    assert!(
        log.contains(r#""change":"update-user""#) && log.contains(r#""status":"applied""#),
        "{log}"
    );
    assert!(log.contains(r#""error_class":"not-found""#), "{log}");
}

/// A config whose secret is a number, or whose setting is a table: the error names the key and
/// the type it needs, exits 2, and never quotes the value (it may be a secret).
#[test]
fn config_type_errors_name_the_key_never_the_value() {
    let dir = tempfile::tempdir().unwrap();
    for (toml, key) in [
        (
            "scim_url = \"https://api.atlassian.com/scim/directory/d\"\n[secrets]\nscim_token = 12345678901234\n",
            "scim_token",
        ),
        ("scim_url = { token = \"12345678901234\" }\n", "scim_url"),
    ] {
        let config = dir.path().join("tenant.toml");
        std::fs::write(&config, toml).unwrap();
        let out = harness(&["health", "--config", config.to_str().unwrap()]);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(2), "{shown}");
        assert!(shown.contains(&format!("`{key}`")), "{shown}");
        assert!(!shown.contains("12345678901234"), "{shown}");
    }
}

/// An upstream whose error detail carries terminal escapes, a forged `[ok  ]` line, a bidi
/// override and 10 MB of text: what the CLI prints and the audit log records is escaped and
/// cut to a few KiB, marked as cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_upstream_text_is_escaped_and_cut_before_printing_and_recording() {
    let server = MockServer::start().await;
    let detail = format!(
        "\u{1b}[2J\u{1b}]0;pwned\u{7}\r\n[ok  ] all good \u{202e}gpj.exe {}",
        "x".repeat(10 << 20)
    );
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "400", "scimType": "invalidFilter", "detail": detail,
        })))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri());
    let audit = dir.path().join("audit.jsonl");
    let out = harness(&[
        "sync",
        "--config",
        config.to_str().unwrap(),
        "--audit-log",
        audit.to_str().unwrap(),
        "--email",
        "ada@example.com",
    ]);
    let shown = text(&out);
    assert_ne!(
        out.status.code(),
        Some(0),
        "{}",
        &shown[..shown.len().min(2000)]
    );
    let recorded = std::fs::read_to_string(&audit).unwrap_or_default();
    for (what, s) in [("output", &shown), ("audit log", &recorded)] {
        assert!(s.len() < 64 << 10, "{what}: {} bytes", s.len());
        assert!(
            !s.chars()
                .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}' || c == '\r'),
            "{what} holds a raw control or bidi character"
        );
    }
    assert!(
        shown.contains("\\u{1b}[2J") && shown.contains("[cut:"),
        "{}",
        &shown[..shown.len().min(2000)]
    );
}

/// Issue 13 item 3: every file the CLI reads is bounded, and a device is refused before it
/// is read, directly or behind a symlink, as a config, a workflow or a secret.
#[cfg(unix)]
#[test]
fn devices_and_oversized_files_are_refused_quickly_naming_the_kind_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let link = link.to_str().unwrap();
    let home = dir.path().join("home");
    let refused = |args: &[&str], expect: &[&str]| {
        let out = support::run_guarded(Some(&home), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let shown = text(&out);
        for e in expect {
            assert!(shown.contains(e), "{args:?}: {e:?} not in {shown}");
        }
    };
    for config in ["/dev/zero", link] {
        refused(
            &["health", "--config", config],
            &["config file", config, "not a regular file"],
        );
        refused(
            &["workflow", "show", config],
            &["workflow file", config, "not a regular file"],
        );
        refused(
            &["--operator-config", config, "health", "--config", config],
            &["operator config", "not a regular file"],
        );
    }
    let connect = |scim: &str| {
        vec![
            "connect".to_owned(),
            "--instance-name".into(),
            "zero".into(),
            "--scim-url".into(),
            "https://api.atlassian.com/scim/directory/d".into(),
            "--scim-token-file".into(),
            scim.into(),
        ]
    };
    let args = connect("/dev/zero");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(&args, &["secret file", "/dev/zero", "not a regular file"]);
    // A regular file larger than a secret may be: the limit is named.
    let big = dir.path().join("big.secret");
    std::fs::write(&big, "x".repeat(17 << 10)).unwrap();
    let args = connect(big.to_str().unwrap());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(&args, &["scim_token", "16 KiB"]);
    assert!(!home.join("integrations/zero.toml").exists());
}

/// Issue 13 item 3: a secret with a line break or a control character inside is a config
/// error at load (exit 2) naming its key, never quoting it; the trailing newline an editor
/// adds is not part of it.
#[test]
fn a_secret_with_a_line_break_or_control_character_inside_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    for (name, value) in [
        ("newline", "abc-secret\ndef\n"),
        ("cr", "abc-secret\r\ndef"),
        ("nul", "abc-secret\u{0}def"),
        ("esc", "abc-secret\u{1b}def"),
    ] {
        let file = dir.path().join(format!("{name}.secret"));
        std::fs::write(&file, value).unwrap();
        let out = support::run(
            Some(&home),
            &[
                "connect",
                "--instance-name",
                "ctl",
                "--scim-url",
                "https://api.atlassian.com/scim/directory/d",
                "--scim-token-file",
                file.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out));
        let shown = text(&out);
        assert!(
            shown.contains("secret `scim_token`") && !shown.contains("abc-secret"),
            "{name}: {shown}"
        );
    }
    // The same in a config file's [secrets] table.
    let config = dir.path().join("t.toml");
    std::fs::write(
        &config,
        "instance_name = \"t\"\nscim_url = \"https://api.atlassian.com/scim/directory/d\"\n\
         [secrets]\nscim_token = \"abc-secret\\ndef\"\n",
    )
    .unwrap();
    let out = support::run(
        Some(&home),
        &["health", "--config", config.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("secret `scim_token`") && !shown.contains("abc-secret"),
        "{shown}"
    );
}

/// Issue 13 item 7: the snapshot is tenant data, written owner-only and whole; a file that
/// cannot be written is named.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extract_out_is_owner_only_and_an_unwritable_out_is_named() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let (_sim, config) = simulated_config(dir.path()).await;
    let snapshot = dir.path().join("snapshot.json");
    std::fs::write(&snapshot, "old").unwrap();
    std::fs::set_permissions(&snapshot, std::fs::Permissions::from_mode(0o644)).unwrap();
    let args = |out: &Path| {
        vec![
            "extract".to_owned(),
            "--config".into(),
            config.to_str().unwrap().into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ]
    };
    let a = args(&snapshot);
    let out = harness(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mode = std::fs::metadata(&snapshot).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        std::fs::read_to_string(&snapshot)
            .unwrap()
            .contains("users")
    );
    // A path that cannot be written (its "directory" is a file): the error names the file.
    let target = snapshot.join("snap.json");
    let a = args(&target);
    let out = harness(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(target.to_str().unwrap()),
        "{}",
        text(&out)
    );
}

/// A full disk under the snapshot: `extract` to a standard output that refuses every write
/// (`/dev/full`, ENOSPC) while the users are written on the writer thread (2,000 users, far
/// more than one buffer) stops, exits non-zero and says why, instead of hanging on a
/// thread that stopped or reporting success.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extract_to_a_full_disk_fails_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let sim = atlassian_simulator::Simulator::builder()
        .users(2_000)
        .start()
        .await
        .unwrap();
    let config = dir.path().join("sim.toml");
    std::fs::write(&config, sim.config_toml()).unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = support::command(
        Some(Path::new(HOME)),
        &[
            "--allow-loopback",
            "extract",
            "--config",
            config.to_str().unwrap(),
        ],
    )
    .stdout(full)
    .output()
    .unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("extract failed: cannot write the snapshot")
            && shown.contains(&std::io::Error::from_raw_os_error(28).to_string()),
        "{shown}"
    );
}

/// A full disk (`/dev/full` answers every write with ENOSPC): the change is made upstream, but
/// its record cannot be written, so the action does not report success.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_whose_audit_record_cannot_be_written_exits_non_zero_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = simulated_config(dir.path()).await;
    let config = config.to_str().unwrap();
    let out = harness(&[
        "sync",
        "--config",
        config,
        "--audit-log",
        "/dev/full",
        "--email",
        "full.disk@example.com",
        "--name",
        "Full Disk",
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("the audit log could not record this action")
            && shown.contains("/dev/full")
            && shown.contains(&std::io::Error::from_raw_os_error(28).to_string()),
        "{shown}"
    );
    assert!(sim.user_by_email("full.disk@example.com").is_some());
}

/// A dry run writes nothing, not even the record of its refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_dry_run_leaves_no_audit_record() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, config) = simulated_config(dir.path()).await;
    let log = dir.path().join("audit.jsonl");
    let out = harness(&[
        "groups",
        "--config",
        config.to_str().unwrap(),
        "--audit-log",
        log.to_str().unwrap(),
        "--user",
        "nobody.here@example.com",
        "--add",
        "engineering",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        host_harness::audit::AuditLog::read_all(&log)
            .unwrap()
            .is_empty(),
        "a dry run left a record"
    );
}

/// An error shows its cause once: "audit log DIR: Is a directory", not twice over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_does_not_repeat_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, config) = simulated_config(dir.path()).await;
    let out = harness(&[
        "sync",
        "--config",
        config.to_str().unwrap(),
        "--audit-log",
        dir.path().to_str().unwrap(),
        "--email",
        "dir@example.com",
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    let cause = std::io::Error::from_raw_os_error(21).to_string();
    assert_eq!(shown.matches(&cause).count(), 1, "{shown}");
}

/// `audit` reads a log whose last record was cut short, and says so; a bad line before the
/// last is still refused.
#[test]
fn audit_reads_a_log_with_a_torn_last_line_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let record = r#"{"time":"2026-01-01T00:00:00.000Z","integration":"acme","action":"sync","user":{"requested":"ada@example.com"},"change":"create-user","target":"ada@example.com","status":"applied"}"#;
    std::fs::write(&log, format!("{record}\n{{\"time\":\"2026-01-0")).unwrap();
    let out = harness(&["audit", "--audit-log", log.to_str().unwrap()]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("create-user ada@example.com"), "{shown}");
    assert!(
        shown.contains("line 2: the last line is an incomplete record"),
        "{shown}"
    );
    std::fs::write(&log, format!("{record}\nnot a record\n{record}\n")).unwrap();
    let out = harness(&["audit", "--audit-log", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("line 2: not an audit record"),
        "{}",
        text(&out)
    );
}

/// Issue 13 item 10: more group names than one invocation's request budget can ever read is
/// `invalid-input` naming the limit, exit 2, before any request — not a policy denial, not a
/// CPU timeout, not a "run again" that can never help.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_group_names_than_the_request_budget_is_refused_up_front_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = simulated_config(dir.path()).await;
    let user = sim.users().first().map(|u| u.email.clone()).unwrap();
    let names: Vec<String> = (0..6_000).map(|i| format!("team-{i}")).collect();
    let mut args = vec![
        "groups".to_owned(),
        "--config".to_owned(),
        config.to_str().unwrap().to_owned(),
        "--user".to_owned(),
        user,
    ];
    for n in &names {
        args.push("--add".to_owned());
        args.push(n.clone());
    }
    sim.clear_requests();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = harness(&args);
    let shown = text(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        &shown[..shown.len().min(2000)]
    );
    assert!(
        shown.contains("max-requests"),
        "{}",
        &shown[..shown.len().min(2000)]
    );
    assert!(
        !shown.contains("policy denied"),
        "{}",
        &shown[..shown.len().min(2000)]
    );
    assert!(sim.requests().is_empty(), "refused before any request");
}

/// A SCIM server that answers `GET …/Users` only once a `GET …/Groups` has arrived (or
/// refuses it with 400 after 30 s): an `extract` that walks the groups after the users, not
/// beside them, never gets its users.
async fn users_wait_for_groups_server() -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (seen, _) = tokio::sync::watch::channel(false);
    let seen = std::sync::Arc::new(seen);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                let list = |total: usize, resources: serde_json::Value| {
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                           "totalResults": total, "startIndex": 1, "itemsPerPage": total,
                           "Resources": resources})
                };
                let (status, body) = if line.contains("/Groups") {
                    seen.send_replace(true);
                    (200, list(0, json!([])))
                } else if line.contains("/Users") {
                    let mut groups_seen = seen.subscribe();
                    let waited = tokio::time::timeout(
                        std::time::Duration::from_secs(30),
                        groups_seen.wait_for(|s| *s),
                    )
                    .await;
                    match waited {
                        Ok(Ok(_)) => (
                            200,
                            list(
                                1,
                                json!([{"id": "u1", "userName": "u1@example.com", "active": true}]),
                            ),
                        ),
                        _ => (
                            400,
                            json!({"detail": "no groups request came beside the users'"}),
                        ),
                    }
                } else {
                    (404, json!({"detail": "not found"}))
                };
                let body = body.to_string();
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    base
}

/// Issue 16 item 9: `extract` walks the groups beside the users (their round trips overlap),
/// and still writes one whole snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extract_walks_the_groups_beside_the_users() {
    let base = users_wait_for_groups_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &base);
    let snapshot = dir.path().join("snapshot.json");
    let out = harness(&[
        "extract",
        "--config",
        config.to_str().unwrap(),
        "--out",
        snapshot.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&snapshot).unwrap()).unwrap();
    assert_eq!(value["users"][0]["user_name"], "u1@example.com", "{value}");
    assert_eq!(value["groups"], json!([]), "{value}");
    assert_eq!(value["requests"], 2, "{value}");
}

/// Issue 13 item 5, as the CLI meets it: `extract` against a server that ignores `startIndex`
/// and claims a billion users stops at the first repeated page with an `upstream` error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extract_stops_on_a_server_that_repeats_its_pages() {
    let users: Vec<serde_json::Value> = (1..=100)
        .map(|i| json!({"id": format!("u{i}"), "userName": format!("u{i}@example.com"), "active": true}))
        .collect();
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::path_regex("/Users$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 1_000_000_000u64, "startIndex": 1, "itemsPerPage": 100,
            "Resources": users,
        })))
        .mount(&server)
        .await;
    // The groups, walked beside the users, are an honest empty directory.
    Mock::given(wiremock::matchers::path_regex("/Groups$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": [],
        })))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri());
    let out = harness(&["extract", "--config", config.to_str().unwrap()]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("upstream") && shown.contains("repeats"),
        "{shown}"
    );
    // The first page, then one wave of the next pages (at most the host's 64 in flight).
    let sent = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/Users"))
        .count();
    assert!((2..=65).contains(&sent), "{sent}");
}

/// Issue 13 item 9: `.` and `..` are path segments, not ids: `--user scim:..` would address
/// the directory's user listing. Refused as invalid input, exit 2, before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segment_ids_are_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = simulated_config(dir.path()).await;
    for user in ["scim:..", "scim:.", "account:..", "external:."] {
        sim.clear_requests();
        let out = harness(&[
            "deprovision",
            "--config",
            config.to_str().unwrap(),
            "--user",
            user,
        ]);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(2), "{user}: {shown}");
        assert!(shown.contains("path segment"), "{user}: {shown}");
        assert!(sim.requests().is_empty(), "{user}: a request was sent");
    }
}

/// Issue 15 point 3 (I6 from the CLI): `deprovision --revoke-api-tokens` deletes the person's
/// API tokens, one line per token naming its label, and never prints a token's value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprovision_revoke_api_tokens_deletes_each_token_i6() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = simulated_config(dir.path()).await;
    let token = sim.add_api_token("ada@example.com", "build-bot").unwrap();
    let out = harness(&[
        "deprovision",
        "--config",
        config.to_str().unwrap(),
        "--user",
        "ada@example.com",
        "--revoke-api-tokens",
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("revoke-credential") && shown.contains("build-bot"),
        "{shown}"
    );
    assert!(!shown.contains(&token.value));
    assert!(sim.api_tokens("ada@example.com").is_empty());
}

/// Issue 15 point 5 (J1, J4 from the CLI): `reactivate` with `--group` and `--role`; the dry
/// run writes nothing, the real run brings the person back with exactly those entitlements
/// (the stale membership kept through the deactivation removed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactivate_brings_a_person_back_to_the_given_groups_and_roles_j1_j4() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = simulated_config(dir.path()).await;
    let args = |dry_run: bool| {
        let mut a = vec![
            "reactivate",
            "--config",
            config.to_str().unwrap(),
            "--user",
            "linus@example.com",
            "--group",
            "engineering",
            "--role",
            "atlassian/user@workspace:jira-software/simulated-site",
        ];
        if dry_run {
            a.extend(["--dry-run", "--json"]);
        }
        a
    };
    let out = harness(&args(true));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("\"reactivate-user\""), "{}", text(&out));
    assert!(sim.mutations().is_empty(), "{:?}", sim.mutations());
    let out = harness(&args(false));
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let linus = sim.user_by_email("linus@example.com").unwrap();
    assert!(linus.active, "{shown}");
    assert_eq!(linus.groups, ["engineering"], "{shown}");
    assert_eq!(sim.user_roles("linus@example.com").len(), 1, "{shown}");
}

/// Issue 15 point 1, roles for groups from the CLI (I7, I8): `group-roles` grants a role to
/// a group; the dry run writes nothing; the real run shows on a fresh read of the group's
/// roles; an unknown group is `not-found` with nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_roles_grants_and_revokes_a_groups_roles_i7_i8() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, config) = simulated_config(dir.path()).await;
    let args = |group: &'static str, dry_run: bool| {
        let mut a = vec![
            "group-roles",
            "--config",
            config.to_str().unwrap(),
            "--group",
            group,
            "--add-role",
            "atlassian/user@workspace:confluence/simulated-site",
        ];
        if dry_run {
            a.extend(["--dry-run", "--json"]);
        }
        a
    };
    let out = harness(&args("engineering", true));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("\"planned\""), "{}", text(&out));
    assert!(sim.mutations().is_empty(), "{:?}", sim.mutations());
    let out = harness(&args("engineering", false));
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let confluence = sim.workspace_id("confluence").unwrap();
    assert_eq!(
        sim.group_roles("engineering"),
        [(confluence, "atlassian/user".to_string())],
        "{shown}"
    );
    sim.clear_requests();
    let out = harness(&args("no-such-team", false));
    let shown = text(&out);
    assert_ne!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("no-such-team"), "{shown}");
    assert!(sim.mutations().is_empty(), "{:?}", sim.mutations());
    let out = harness(&[
        "group-roles",
        "--config",
        config.to_str().unwrap(),
        "--group",
        "x",
    ]);
    assert_ne!(out.status.code(), Some(0), "no role given");
}
