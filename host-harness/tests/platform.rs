//! The platform stand-in as a user meets it, the binary run as a process: connecting an
//! integration (health-checked before it is saved), rotating its key, using it by name from the
//! action commands and workflows, and reading the audit log. Bad input gets a clear message, a
//! non-zero exit, and nothing saved or half-written. Every test has its own simulator and home.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use atlassian_simulator::{Simulator, Tokens};
use host_harness::audit::{AuditLog, AuditRecord};
use support::text;

const WORKFLOWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/workflows");

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the binary with this home, optionally feeding `stdin`, as the host operator runs
    /// it against the simulator: loopback allowed.
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let args: Vec<&str> = ["--allow-loopback"].iter().chain(args).copied().collect();
        support::run_with_stdin(Some(self.path()), &args, stdin)
    }

    /// Runs the binary with this home and the default operator policy (no loopback).
    fn run_strict(&self, args: &[&str]) -> Output {
        support::run_with_stdin(Some(self.path()), args, None)
    }

    /// Runs the binary and asserts its exit code.
    fn expect(&self, args: &[&str], code: i32) -> Output {
        let out = self.run(args, None);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out));
        out
    }

    /// Writes a secret to a file in the home's parent-less scratch space.
    fn secret_file(&self, name: &str, value: &str) -> PathBuf {
        let path = self.path().join(format!("{name}.secret"));
        std::fs::write(&path, format!("{value}\n")).unwrap();
        path
    }

    fn audit(&self) -> Vec<AuditRecord> {
        AuditLog::read_all(&self.path().join("audit.jsonl")).unwrap()
    }

    fn saved(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.path().join(format!("integrations/{name}.toml"))).ok()
    }
}

fn assert_no_secret(out: &Output, tokens: &Tokens) {
    let shown = text(out);
    for secret in [
        &tokens.scim_token,
        &tokens.admin_api_key,
        &tokens.product_token,
    ] {
        assert!(
            !shown.contains(secret.as_str()),
            "a secret was printed: {shown}"
        );
    }
}

async fn simulator() -> Simulator {
    Simulator::builder().demo_org().start().await.unwrap()
}

/// `connect` arguments for the simulator, with the given secret files.
fn connect_args(sim: &Simulator, name: &str, scim: &Path, admin: &Path) -> Vec<String> {
    let base = sim.base_url();
    let tenant = lifecycle_host::Tenant::from_toml(&sim.config_toml()).unwrap();
    let org = tenant.settings["scim_organization_id"].clone();
    let scim_url = tenant.settings["scim_url"].clone();
    [
        "connect",
        "--instance-name",
        name,
        "--scim-url",
        &scim_url,
        "--scim-token-file",
        scim.to_str().unwrap(),
        "--admin-api-key-file",
        admin.to_str().unwrap(),
        "--scim-organization-id",
        &org,
        "--set",
        &format!("atlassian_api_url={base}"),
    ]
    .map(str::to_owned)
    .to_vec()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Connects `name` to the simulator with its current tokens.
fn connect(home: &Home, sim: &Simulator, name: &str) {
    let tokens = sim.tokens();
    let scim = home.secret_file("scim", &tokens.scim_token);
    let admin = home.secret_file("admin", &tokens.admin_api_key);
    let out = home.run(&strs(&connect_args(sim, name, &scim, &admin)), None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_saves_a_healthy_integration_owner_only_and_never_prints_its_secrets() {
    let sim = simulator().await;
    let home = Home::new();
    let tokens = sim.tokens();
    // The SCIM token comes from standard input, the admin key from a file.
    let admin = home.secret_file("admin", &tokens.admin_api_key);
    let args = connect_args(&sim, "acme", Path::new("-"), &admin);
    let out = home.run(&strs(&args), Some(&format!("{}\n", tokens.scim_token)));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("acme: healthy"), "{}", text(&out));
    assert!(text(&out).contains("saved integration `acme`"));
    assert_no_secret(&out, &tokens);

    let saved = home.saved("acme").expect("saved");
    assert!(saved.contains(&tokens.scim_token), "the token is stored");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let file = home.path().join("integrations/acme.toml");
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let out = home.expect(&["integrations", "list"], 0);
    assert!(
        text(&out).contains("acme") && text(&out).contains("scim_token, admin_api_key")
            || text(&out).contains("admin_api_key, scim_token"),
        "{}",
        text(&out)
    );
    assert_no_secret(&out, &tokens);

    // The same name again is refused; the saved file is untouched.
    let scim = home.secret_file("scim", &tokens.scim_token);
    let out = home.run(&strs(&connect_args(&sim, "acme", &scim, &admin)), None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    assert_eq!(home.saved("acme").as_deref(), Some(saved.as_str()));
    assert!(sim.mutations().is_empty(), "connect only reads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_integration_never_carries_the_operators_loopback_permission() {
    let sim = simulator().await;
    let home = Home::new();
    connect(&home, &sim, "acme");
    let saved = home.saved("acme").expect("saved");
    assert!(
        !saved.contains("[host]") && !saved.contains("loopback"),
        "{saved}"
    );
    let before = sim.requests().len();
    // The same integration, run by an operator who does not allow loopback: refused by key.
    let out = home.run_strict(&["health", "--integration", "acme"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("scim_url"), "{}", text(&out));
    assert_eq!(sim.requests().len(), before, "nothing was sent");
    assert_no_secret(&out, &sim.tokens());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_refuses_unhealthy_or_incomplete_credentials_and_saves_nothing() {
    let sim = simulator().await;
    let home = Home::new();
    let tokens = sim.tokens();
    let good_scim = home.secret_file("scim", &tokens.scim_token);
    let bad_admin = home.secret_file("bad-admin", "not-the-admin-key");

    // A wrong admin key: the health check names it, exit 1, nothing saved.
    let out = home.run(
        &strs(&connect_args(&sim, "acme", &good_scim, &bad_admin)),
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("UNHEALTHY"), "{}", text(&out));
    assert!(text(&out).contains("not saved"), "{}", text(&out));
    assert!(!text(&out).contains("not-the-admin-key"));
    assert!(home.saved("acme").is_none());

    // A missing secret file, an empty one, a secret given as a setting, a bad name: exit 2.
    let missing = home.path().join("absent.secret");
    let empty = home.secret_file("empty", "  ");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            connect_args(&sim, "acme", &missing, &bad_admin),
            "cannot read `scim_token`",
        ),
        (
            connect_args(&sim, "acme", &empty, &bad_admin),
            "`scim_token` is empty",
        ),
        (
            [
                connect_args(&sim, "acme", &good_scim, &bad_admin),
                vec!["--set".into(), "admin_api_key=oops".into()],
            ]
            .concat(),
            "is a secret",
        ),
        (
            connect_args(&sim, "../escape", &good_scim, &bad_admin),
            "not a valid integration name",
        ),
        (
            connect_args(&sim, "acme", Path::new("-"), Path::new("-")),
            "only one secret can be read from standard input",
        ),
    ];
    for (args, expected) in cases {
        let out = home.run(&strs(&args), Some(""));
        assert_eq!(out.status.code(), Some(2), "{expected}: {}", text(&out));
        assert!(text(&out).contains(expected), "{expected}: {}", text(&out));
        assert!(!text(&out).contains("oops"));
    }
    // A config the connector refuses (a non-https URL to another host) before any request.
    let mut args = connect_args(&sim, "acme", &good_scim, &bad_admin);
    let at = args.iter().position(|a| a == "--scim-url").unwrap();
    args[at + 1] = "http://example.com/scim/directory/d".into();
    let out = home.run(&strs(&args), None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("scim_url"), "{}", text(&out));
    assert!(!home.path().join("integrations").exists() || home.saved("acme").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_rotates_a_key_only_after_the_new_one_passes_the_health_check() {
    let sim = simulator().await;
    let home = Home::new();
    connect(&home, &sim, "acme");
    let before = home.saved("acme").unwrap();

    // A wrong key is refused and the saved integration keeps the working one.
    let wrong = home.secret_file("wrong", "wrong-scim-token");
    let out = home.expect(
        &[
            "integrations",
            "update",
            "acme",
            "--scim-token-file",
            wrong.to_str().unwrap(),
        ],
        1,
    );
    assert!(text(&out).contains("not updated"), "{}", text(&out));
    assert_eq!(home.saved("acme").unwrap(), before);

    // Atlassian rotates the keys: the saved integration stops working, the new key replaces it.
    let rotated = sim.rotate_tokens();
    home.expect(&["health", "--integration", "acme"], 1);
    let scim = home.secret_file("scim-new", &rotated.scim_token);
    let admin = home.secret_file("admin-new", &rotated.admin_api_key);
    let out = home.expect(
        &[
            "integrations",
            "update",
            "acme",
            "--scim-token-file",
            scim.to_str().unwrap(),
            "--admin-api-key-file",
            admin.to_str().unwrap(),
        ],
        0,
    );
    assert_no_secret(&out, &rotated);
    home.expect(&["health", "--integration", "acme"], 0);

    // The rotation's flags are the schema's too, checked the same way.
    let saved = home.saved("acme").unwrap();
    let out = home.expect(&["integrations", "update", "acme", "--list-flags"], 0);
    assert!(
        text(&out).contains("--scim-token-file FILE"),
        "{}",
        text(&out)
    );
    let out = home.expect(&["integrations", "update", "acme", "--org-id", "o"], 2);
    assert!(
        text(&out).contains("--scim-organization-id"),
        "{}",
        text(&out)
    );
    assert_eq!(home.saved("acme").unwrap(), saved);

    // Unknown integrations: a clear message naming what exists, exit 2.
    for args in [
        vec![
            "integrations",
            "update",
            "nope",
            "--scim-token-file",
            scim.to_str().unwrap(),
        ],
        vec!["integrations", "remove", "nope"],
        vec!["sync", "--integration", "nope", "--email", "x@example.com"],
        vec!["health", "--integration", "nope"],
    ] {
        let out = home.run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("no integration named `nope` (saved: acme)"),
            "{args:?}: {}",
            text(&out)
        );
    }
    home.expect(&["integrations", "remove", "acme"], 0);
    assert!(home.saved("acme").is_none());
    let out = home.run(&["integrations", "list"], None);
    assert!(text(&out).contains("no integrations"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_by_integration_name_write_one_audit_record_per_change() {
    let sim = simulator().await;
    let home = Home::new();
    connect(&home, &sim, "acme");
    home.expect(
        &[
            "sync",
            "--integration",
            "acme",
            "--email",
            "joan@example.com",
            "--name",
            "Joan Clarke",
        ],
        0,
    );
    home.expect(
        &[
            "groups",
            "--integration",
            "acme",
            "--user",
            "joan@example.com",
            "--add",
            "research",
            "--add",
            "site-admins",
        ],
        0,
    );
    // A role by `ROLE@KIND:ID`, next to a group already held.
    home.expect(
        &[
            "groups",
            "--integration",
            "acme",
            "--user",
            "joan@example.com",
            "--add",
            "research",
            "--add-role",
            "atlassian/user@workspace:jira-software/simulated-site",
        ],
        0,
    );
    // Again: nothing changes, so nothing is recorded.
    home.expect(
        &[
            "groups",
            "--integration",
            "acme",
            "--user",
            "joan@example.com",
            "--add",
            "research",
            "--add-role",
            "user@workspace:jira-software/simulated-site",
        ],
        0,
    );
    // A malformed role is refused by the CLI before anything runs.
    home.expect(
        &[
            "groups",
            "--integration",
            "acme",
            "--user",
            "joan@example.com",
            "--add-role",
            "atlassian/user",
        ],
        2,
    );
    // Refused as a whole (a protected user is not configured here, so: an unknown user).
    home.expect(
        &[
            "deprovision",
            "--integration",
            "acme",
            "--user",
            "nobody@example.com",
        ],
        2,
    );

    let records = home.audit();
    let summary: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.action.as_str(),
                r.change.as_deref().unwrap_or("-"),
                r.status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("sync", "create-user", "applied"),
            ("groups", "add-membership", "applied"),
            ("groups", "add-membership", "applied"),
            ("groups", "add-role", "applied"),
            ("deprovision", "-", "refused"),
        ]
    );
    let jira = sim.workspace_id("jira-software").unwrap();
    assert_eq!(
        records[3].target.as_deref(),
        Some(format!("atlassian/user@workspace:{jira}").as_str()),
        "the audit log writes a role as the CLI takes it"
    );
    assert_eq!(
        sim.user_roles("joan@example.com")
            .iter()
            .map(|r| (r.resource.as_str(), r.role.as_str()))
            .collect::<Vec<_>>(),
        [(jira.as_str(), "atlassian/user")]
    );
    let joan = sim.user_by_email("joan@example.com").unwrap();
    assert!(records[..4].iter().all(|r| r.integration == "acme"
        && r.user.account_id.as_deref() == Some(joan.account_id.as_str())));
    assert_eq!(records[4].error_class.as_deref(), Some("not-found"));

    let out = home.expect(&["audit", "--user", "JOAN@example.com"], 0);
    let shown = text(&out);
    assert_eq!(shown.lines().count(), 4, "{shown}");
    assert!(
        shown.contains("create-user joan@example.com")
            && shown.contains("add-membership site-admins")
    );
    let out = home.run(&["audit", "--user", "joan@example.com", "--json"], None);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 4);
    let log = std::fs::read_to_string(home.path().join("audit.jsonl")).unwrap();
    for secret in [sim.tokens().scim_token, sim.tokens().admin_api_key] {
        assert!(!log.contains(&secret), "a secret in the audit log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_workflows_onboard_move_and_offboard_a_person() {
    let sim = simulator().await;
    let home = Home::new();
    connect(&home, &sim, "acme");
    let flow = |name: &str| format!("{WORKFLOWS}/{name}.toml");
    let run = |file: String, params: &[&str]| {
        let mut args = vec!["workflow", "run", file.as_str(), "--integration", "acme"];
        for p in params {
            args.extend(["--set", p]);
        }
        home.run(&args, None)
    };

    let onboarding = flow("onboarding");
    let out = run(
        onboarding.clone(),
        &[
            "email=mary@example.com",
            "name=Mary Jackson",
            "team=research",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("step 2/2"), "{}", text(&out));
    let mut groups = sim.user_by_email("mary@example.com").unwrap().groups;
    groups.sort();
    assert_eq!(groups, ["jira-software-users", "research"]);
    // Running it again changes nothing.
    let writes = sim.mutations().len();
    let out = run(
        onboarding,
        &[
            "email=mary@example.com",
            "name=Mary Jackson",
            "team=research",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(sim.mutations().len(), writes);

    // The role change moves the groups and grants the new role's product role.
    let out = run(
        flow("role-change"),
        &[
            "email=mary@example.com",
            "from=research",
            "to=engineering",
            "add_role=atlassian/user@workspace:jira-software/simulated-site",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut groups = sim.user_by_email("mary@example.com").unwrap().groups;
    groups.sort();
    assert_eq!(groups, ["engineering", "jira-software-users"]);
    let roles = |sim: &Simulator| -> Vec<(String, String, Vec<String>)> {
        sim.user_roles("mary@example.com")
            .into_iter()
            .map(|r| (r.resource, r.role, r.methods))
            .collect()
    };
    let jira = sim.workspace_id("jira-software").unwrap();
    let confluence = sim.workspace_id("confluence").unwrap();
    let direct = |id: &str| {
        (
            id.to_owned(),
            "atlassian/user".to_owned(),
            vec!["direct".to_owned()],
        )
    };
    assert_eq!(roles(&sim), [direct(&jira)]);
    // Back again: the old product role revoked, another granted by its workspace id.
    let out = run(
        flow("role-change"),
        &[
            "email=mary@example.com",
            "from=engineering",
            "to=research",
            &format!("add_role=atlassian/user@workspace:{confluence}"),
            "remove_role=atlassian/user@workspace:jira-software/simulated-site",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(roles(&sim), [direct(&confluence)]);

    let out = run(flow("offboarding"), &["email=mary@example.com"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mary = sim.user_by_email("mary@example.com").unwrap();
    assert!(!mary.active && mary.groups.is_empty() && mary.scim_id.is_some());
    assert!(
        roles(&sim).is_empty(),
        "offboarding revoked the direct role"
    );

    // A step that cannot complete stops the workflow before the later steps: exit 2 for a
    // refused action, and the audit log says so.
    let out = run(
        flow("role-change"),
        &[
            "email=mary@example.com",
            "from=research",
            "to=no-such-group",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no-such-group"), "{}", text(&out));
    let records = home.audit();
    assert_eq!(records.last().unwrap().status, "refused");
    let runs: std::collections::BTreeSet<_> =
        records.iter().filter_map(|r| r.run.clone()).collect();
    assert_eq!(
        runs.len(),
        5,
        "every run that changed something has its own id: {runs:?}"
    );

    // The rehire: active again, in the team's and the product-access group; again, no write.
    let out = run(flow("rehire"), &["email=mary@example.com", "team=research"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mary = sim.user_by_email("mary@example.com").unwrap();
    let mut groups = mary.groups.clone();
    groups.sort();
    assert!(mary.active, "{}", text(&out));
    assert_eq!(groups, ["jira-software-users", "research"]);
    let writes = sim.mutations().len();
    let out = run(flow("rehire"), &["email=mary@example.com", "team=research"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(sim.mutations().len(), writes);
    assert_eq!(home.audit().last().unwrap().action, "reactivate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_workflows_and_parameters_are_refused_before_any_step_runs() {
    let sim = simulator().await;
    let home = Home::new();
    connect(&home, &sim, "acme");
    let bad = home.path().join("bad.toml");
    let cases: [(&str, &[&str], &str); 5] = [
        (
            "name = \"x\"\n[[steps]]\naction = \"launch\"\n",
            &[],
            "launch",
        ),
        (
            "name = \"x\"\n[[steps]]\naction = \"deprovision\"\nuser = \"{who}\"\n",
            &[],
            "`{who}` is not a parameter",
        ),
        ("name = \"x\"\nsteps = [", &[], "malformed"),
        (
            "name = \"x\"\n[params]\nemail = {}\n[[steps]]\naction = \"deprovision\"\nuser = \"{email}\"\n",
            &[],
            "parameter `email` is required",
        ),
        (
            "name = \"x\"\n[params]\nemail = {}\n[[steps]]\naction = \"deprovision\"\nuser = \"{email}\"\n",
            &["--set", "email=ada@example.com", "--set", "emial=x"],
            "`emial` is not one of its parameters",
        ),
    ];
    for (file, extra, expected) in cases {
        std::fs::write(&bad, file).unwrap();
        let mut args = vec![
            "workflow",
            "run",
            bad.to_str().unwrap(),
            "--integration",
            "acme",
        ];
        args.extend(extra);
        let out = home.run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{expected}: {}", text(&out));
        assert!(text(&out).contains(expected), "{expected}: {}", text(&out));
    }
    let out = home.expect(
        &[
            "workflow",
            "run",
            "/no/such/workflow.toml",
            "--integration",
            "acme",
        ],
        2,
    );
    assert!(
        text(&out).contains("cannot read workflow"),
        "{}",
        text(&out)
    );
    assert!(sim.mutations().is_empty(), "nothing ran");
    assert!(home.audit().is_empty());

    let out = home.expect(
        &["workflow", "show", &format!("{WORKFLOWS}/onboarding.toml")],
        0,
    );
    assert!(text(&out).contains("--set email="), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scim_only_integration_connects_and_syncs() {
    let sim = simulator().await;
    let home = Home::new();
    let tenant = lifecycle_host::Tenant::from_toml(&sim.config_toml()).unwrap();
    let scim = home.secret_file("scim", &sim.tokens().scim_token);
    let out = home.expect(
        &[
            "connect",
            "--instance-name",
            "scim-only",
            "--scim-url",
            &tenant.settings["scim_url"],
            "--scim-token-file",
            scim.to_str().unwrap(),
        ],
        0,
    );
    assert!(text(&out).contains("[skip] admin"), "{}", text(&out));
    home.expect(
        &[
            "sync",
            "--integration",
            "scim-only",
            "--email",
            "dorothy@example.com",
        ],
        0,
    );
    assert!(sim.user_by_email("dorothy@example.com").is_some());
    // Admin-only work names the missing key.
    let out = home.expect(
        &[
            "groups",
            "--integration",
            "scim-only",
            "--user",
            "dorothy@example.com",
            "--add",
            "site-admins",
        ],
        2,
    );
    assert!(text(&out).contains("admin_api_key"), "{}", text(&out));
}

/// Issue 13 item 7: four `connect`s of one name at once: exactly one saves, the others fail
/// with "already exists" (exit 2), whatever the interleaving: the existence check before the
/// health check is only a courtesy, the final no-replace link is what decides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_connects_of_one_name_save_exactly_once() {
    let sim = simulator().await;
    let home = Home::new();
    let tokens = sim.tokens();
    let scim = home.secret_file("scim", &tokens.scim_token);
    let admin = home.secret_file("admin", &tokens.admin_api_key);
    let mut args = vec!["--allow-loopback".to_owned()];
    args.extend(connect_args(&sim, "race", &scim, &admin));
    let children: Vec<_> = (0..4)
        .map(|_| {
            support::command(Some(home.path()), &strs(&args))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<Output> = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect()
    })
    .await
    .unwrap();
    let saved = outs.iter().filter(|o| o.status.code() == Some(0)).count();
    assert_eq!(saved, 1, "{:?}", outs.iter().map(text).collect::<Vec<_>>());
    for out in outs.iter().filter(|o| o.status.code() != Some(0)) {
        assert_eq!(out.status.code(), Some(2), "{}", text(out));
        assert!(text(out).contains("already exists"), "{}", text(out));
        assert_no_secret(out, &tokens);
    }
    assert!(home.saved("race").is_some());
    let left: Vec<_> = std::fs::read_dir(home.path().join("integrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "no temporary file left behind: {left:?}");
}
