//! `host-harness batch`, run as a user would: the binary as a process against the simulator
//! started in the test, with its own home directory (journal and audit log) per test.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use atlassian_simulator::{Fault, Route, Simulator};
use host_harness::audit::{AuditLog, AuditRecord};
use host_harness::batch::{Action, BatchIdentity};
use lifecycle_host::Tenant;
use support::text;

/// Runs the harness with `home` as its home directory.
/// The binary as the host operator runs it against the simulator: loopback allowed.
fn command(home: &Path, args: &[&str]) -> Command {
    support::command(Some(home), &with_loopback(args))
}

fn harness(home: &Path, args: &[&str]) -> Output {
    support::run(Some(home), &with_loopback(args))
}

fn with_loopback<'a>(args: &[&'a str]) -> Vec<&'a str> {
    ["--allow-loopback"].iter().chain(args).copied().collect()
}

struct Setup {
    sim: Simulator,
    dir: tempfile::TempDir,
    config: String,
}

impl Setup {
    async fn new() -> Self {
        let sim = Simulator::builder().demo_org().start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("sim.toml");
        std::fs::write(&config, sim.config_toml()).unwrap();
        Self {
            sim,
            config: config.to_str().unwrap().to_owned(),
            dir,
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn file(&self, name: &str, contents: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// `batch --action ACTION --input FILE --config CONFIG ...`.
    fn batch(&self, action: &str, input: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "batch",
            "--action",
            action,
            "--input",
            input,
            "--config",
            &self.config,
        ];
        args.extend_from_slice(extra);
        let out = harness(&self.home(), &args);
        self.assert_no_secret(&text(&out));
        out
    }

    fn audit(&self) -> Vec<AuditRecord> {
        AuditLog::read_all(&self.home().join("audit.jsonl")).unwrap()
    }

    fn journal_text(&self) -> String {
        let dir = self.home().join("batches");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return String::new();
        };
        entries
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
            .collect()
    }

    fn assert_no_secret(&self, shown: &str) {
        let tokens = self.sim.tokens();
        for secret in [
            tokens.scim_token,
            tokens.admin_api_key,
            tokens.product_token,
        ] {
            assert!(!shown.contains(&secret), "a secret was printed: {shown}");
        }
    }

    fn assert_nothing_written(&self, what: &str) {
        assert!(
            self.sim.mutations().is_empty(),
            "{what}: the organization changed: {:?}",
            self.sim.mutations()
        );
        assert!(
            !self.home().join("audit.jsonl").exists(),
            "{what}: an audit log was written"
        );
        assert!(
            !self.home().join("batches").exists(),
            "{what}: a journal was written"
        );
    }

    /// How many users with this email exist.
    fn users_named(&self, email: &str) -> usize {
        self.sim
            .users()
            .iter()
            .filter(|u| u.email.eq_ignore_ascii_case(email))
            .count()
    }
}

fn onboarding_csv(n: usize, first: usize) -> String {
    let mut csv = String::from("email,name,external_id,add\n");
    for i in first..first + n {
        csv.push_str(&format!(
            "hire{i}@example.com,Hire {i},idp-hire-{i},engineering;jira-software-users\n"
        ));
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_sync_batch_with_groups_creates_everyone_exactly_once() {
    let s = Setup::new().await;
    let input = s.file("onboarding.csv", &onboarding_csv(6, 1));
    let out = s.batch("sync", &input, &["--concurrency", "3"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("summary: 6 items"), "{shown}");
    assert!(shown.contains("completed          6"), "{shown}");
    assert!(shown.contains("every item succeeded"), "{shown}");
    for i in 1..=6 {
        let email = format!("hire{i}@example.com");
        assert_eq!(s.users_named(&email), 1, "{email}");
        for group in ["engineering", "jira-software-users"] {
            assert!(
                s.sim.group_members(group).contains(&email),
                "{email} {group}"
            );
        }
    }
    assert_eq!(
        s.sim.count("POST", "/scim/directory/"),
        6,
        "one create each"
    );

    // One record per change, all under the batch's run id.
    let audit = s.audit();
    assert_eq!(audit.len(), 6 * 3, "{audit:#?}");
    let run = audit[0].run.clone().expect("a run id");
    assert!(run.starts_with("sync-"), "{run}");
    assert!(audit.iter().all(|r| r.run.as_ref() == Some(&run)));
    assert!(audit.iter().all(|r| r.status == "applied"));
    assert!(s.journal_text().contains("\"finished\""));
    s.assert_no_secret(&s.journal_text());
    s.assert_no_secret(&std::fs::read_to_string(s.home().join("audit.jsonl")).unwrap());

    // The same batch again: a new run, nothing to change, nothing written.
    let mutations = s.sim.mutations().len();
    let out = s.batch("sync", &input, &[]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("finished earlier"), "{shown}");
    assert!(shown.contains("already done       6"), "{shown}");
    assert_eq!(s.sim.mutations().len(), mutations);
    assert_eq!(s.audit().len(), 6 * 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_groups_batch_reports_json() {
    let s = Setup::new().await;
    let input = s.file(
        "groups.json",
        r#"[
  {"user": "ada@example.com", "add": ["research"], "remove": ["engineering"]},
  {"email": "alan@example.com", "add": ["research", "site-admins"],
   "add_role": ["atlassian/user@workspace:confluence/simulated-site"]}
]"#,
    );
    let out = s.batch("groups", &input, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["items"], 2);
    assert_eq!(report["counts"]["completed"], 2);
    assert_eq!(report["succeeded"], true);
    assert_eq!(report["failed_items"].as_array().unwrap().len(), 0);
    let research = s.sim.group_members("research");
    assert!(research.contains(&"ada@example.com".to_owned()));
    assert!(research.contains(&"alan@example.com".to_owned()));
    assert!(
        !s.sim
            .group_members("engineering")
            .contains(&"ada@example.com".to_owned())
    );
    assert!(
        s.sim
            .group_members("site-admins")
            .contains(&"alan@example.com".to_owned())
    );
    // The role went in the item's one call, and is recorded as the batch file writes it.
    let confluence = s.sim.workspace_id("confluence").unwrap();
    let roles = s.sim.user_roles("alan@example.com");
    assert!(
        roles
            .iter()
            .any(|r| r.resource == confluence && r.role == "atlassian/user"),
        "{roles:?}"
    );
    let audit = s.audit();
    assert_eq!(audit.len(), 5);
    assert!(audit.iter().any(|r| r.change.as_deref() == Some("add-role")
        && r.target.as_deref() == Some(format!("atlassian/user@workspace:{confluence}").as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_batch_files_exit_two_with_a_clear_message_and_change_nothing() {
    let s = Setup::new().await;
    let good = s.file("good.csv", "email\nnew@example.com\n");
    let missing = s.dir.path().join("missing.csv");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "sync",
            missing.to_str().unwrap().to_owned(),
            "cannot read batch file",
        ),
        (
            "sync",
            s.file("people.txt", "email\na@example.com\n"),
            "name it `.csv`",
        ),
        (
            "sync",
            s.file(
                "ragged.csv",
                "email,name\na@example.com,A\nb@example.com,B,extra\n",
            ),
            "line 3: 3 fields where the header row has 2",
        ),
        (
            "sync",
            s.file("broken.json", "[{\"email\": \"a@example.com\"},"),
            "not valid JSON",
        ),
        (
            "sync",
            s.file("object.json", "{\"email\": \"a@example.com\"}"),
            "not a JSON array of objects",
        ),
        (
            "sync",
            s.file("unknown.csv", "email,nickname\na@example.com,Al\n"),
            "line 1: unknown column `nickname`",
        ),
        (
            "sync",
            s.file("no-email.csv", "email,name\na@example.com,A\n,Nobody\n"),
            "line 3: `email` is missing",
        ),
        (
            "sync",
            s.file(
                "twice.json",
                "[\n {\"email\": \"a@example.com\"},\n {\"email\": \"A@example.com\"}\n]",
            ),
            "line 3: `A@example.com` is listed twice (first on line 2)",
        ),
        (
            "deprovision",
            s.file("dup.csv", "user\nscim:1\nscim:1\n"),
            "line 3: `scim:1` is listed twice",
        ),
        ("sync", s.file("empty.csv", ""), "no header row"),
        ("sync", s.file("header-only.csv", "email\n"), "no items"),
    ];
    for (action, input, expected) in &cases {
        let out = s.batch(action, input, &[]);
        let shown = text(&out);
        assert_eq!(out.status.code(), Some(2), "{input}: {shown}");
        assert!(
            shown.contains(expected),
            "{input}: expected `{expected}` in {shown}"
        );
        assert!(shown.contains("host-harness:"), "{shown}");
        s.assert_nothing_written(input);
    }

    // An unknown integration, options that do not go together, bad flags.
    let out = harness(
        &s.home(),
        &[
            "batch",
            "--action",
            "sync",
            "--input",
            &good,
            "--integration",
            "nope",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no integration named `nope`"),
        "{}",
        text(&out)
    );
    let out = s.batch("sync", &good, &["--purge-account"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--purge-account goes with --action delete"));
    for flags in [["--concurrency", "0"], ["--max-share", "1.5"]] {
        let out = s.batch("sync", &good, &flags);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    }
    s.assert_nothing_written("bad options");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mass_change_guard_refuses_a_large_deprovision_before_any_write() {
    let s = Setup::new().await;
    let input = s.file(
        "leavers.csv",
        "user\nalan@example.com\nmargaret@example.com\n",
    );
    let out = s.batch("deprovision", &input, &[]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("deprovision 2 of the organization's 5 users (40%")
            && shown.contains("allowed 10%")
            && shown.contains("--allow-mass-change"),
        "{shown}"
    );
    s.assert_nothing_written("the guard");

    // A dry run shows the plan and warns; it writes nothing either way.
    let out = s.batch("deprovision", &input, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("warning: without --dry-run"),
        "{}",
        text(&out)
    );
    assert!(s.sim.mutations().is_empty());

    // Delete is guarded too, and a larger --max-share lets a batch through.
    let out = s.batch("delete", &input, &["--max-share", "0.3"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(s.sim.mutations().is_empty());

    let out = s.batch("deprovision", &input, &["--allow-mass-change"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("allowed by --allow-mass-change"), "{shown}");
    for email in ["alan@example.com", "margaret@example.com"] {
        assert!(!s.sim.user_by_email(email).unwrap().active, "{email}");
    }
    assert!(
        !s.sim
            .group_members("engineering")
            .contains(&"alan@example.com".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_item_fails_the_batch_is_listed_and_is_retried_on_the_next_run() {
    let s = Setup::new().await;
    let input = s.file(
        "mixed.csv",
        "email,name,add\n\
         one@example.com,One,engineering\n\
         two@example.com,Two,no-such-group\n\
         three@example.com,Three,research\n",
    );
    // A server fault on one request too: the first membership write fails for good.
    s.sim.fault(
        Route::scim("/Groups").method("PATCH"),
        Fault::Status(400),
        1,
    );
    let out = s.batch("sync", &input, &["--concurrency", "1"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("batch FAILED: 2 of 3 items"), "{shown}");
    assert!(
        shown.contains("line 3     two@example.com  refused:") && shown.contains("no-such-group"),
        "{shown}"
    );
    assert!(
        shown.contains("line 2     one@example.com  failed: add-membership engineering"),
        "{shown}"
    );
    // Everyone was created: the failures are in their groups.
    for email in ["one@example.com", "two@example.com", "three@example.com"] {
        assert_eq!(s.users_named(email), 1, "{email}");
    }
    let audit = s.audit();
    assert!(
        audit
            .iter()
            .any(|r| r.status == "failed" && r.user.is("one@example.com"))
    );
    assert!(
        audit
            .iter()
            .any(|r| r.status == "refused" && r.user.is("two@example.com"))
    );

    let out = s.batch("sync", &input, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["resumed"], true);
    assert_eq!(report["skipped"], 1, "three@ completed the first time");
    assert_eq!(
        report["counts"]["completed"], 1,
        "one@ now joins engineering"
    );
    assert_eq!(report["counts"]["refused"], 1);
    assert_eq!(report["failed_items"][0]["line"], 3);
    assert!(
        s.sim
            .group_members("engineering")
            .contains(&"one@example.com".to_owned())
    );
}

/// Counts `done` lines in the journal(s).
fn done_lines(s: &Setup) -> usize {
    s.journal_text()
        .lines()
        .filter(|l| l.contains("\"event\":\"done\""))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_batch_resumes_and_records_every_change_once_or_marked() {
    const ITEMS: usize = 40;
    let s = Setup::new().await;
    let input = s.file("onboarding.csv", &onboarding_csv(ITEMS, 1));
    // Slow answers: the changes commit at once, the replies come later, so the kill lands
    // between a change and its record.
    s.sim
        .fault_always(Route::any(), Fault::Latency(Duration::from_millis(40)));
    let mut child = command(
        &s.home(),
        &[
            "batch",
            "--action",
            "sync",
            "--input",
            &input,
            "--config",
            &s.config,
            "--concurrency",
            "4",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("host-harness starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    // Kill once some items are done and another has created its person but is not done: a
    // change is on the server with no record of it yet.
    let created = || s.sim.scim_user_count() - 5;
    while !(done_lines(&s) >= 8 && created() > done_lines(&s)) {
        assert!(Instant::now() < deadline, "the batch made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended too soon"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done_at_kill = done_lines(&s);
    assert!(done_at_kill < ITEMS, "killed too late: {done_at_kill} done");
    assert!(!s.journal_text().contains("\"finished\""));

    s.sim.clear_faults();
    let out = s.batch("sync", &input, &["--concurrency", "8"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("resuming interrupted run"), "{shown}");
    assert!(shown.contains("every item succeeded"), "{shown}");
    assert!(s.journal_text().contains("\"finished\""));

    // The organization: everyone exactly once, in both groups.
    assert_eq!(s.sim.scim_user_count(), 5 + ITEMS);
    for i in 1..=ITEMS {
        let email = format!("hire{i}@example.com");
        assert_eq!(s.users_named(&email), 1, "{email}");
        for group in ["engineering", "jira-software-users"] {
            let members = s.sim.group_members(group);
            assert_eq!(
                members.iter().filter(|m| **m == email).count(),
                1,
                "{email} in {group}"
            );
        }
    }

    // The audit log: every change once, or marked as completing the interrupted run.
    let audit = s.audit();
    let run = audit[0].run.clone().unwrap();
    assert!(
        audit.iter().all(|r| r.run.as_ref() == Some(&run)),
        "one run id"
    );
    let note = format!("completes interrupted run {run}");
    assert!(
        audit
            .iter()
            .all(|r| r.note.is_none() || r.note.as_ref() == Some(&note)),
        "{audit:#?}"
    );
    assert!(
        audit
            .iter()
            .all(|r| r.status == "applied" || (r.status == "already-done" && r.note.is_some())),
        "{audit:#?}"
    );
    let mut unmarked: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut any: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &audit {
        let email = r.user.email.clone().unwrap_or_default();
        let change = r.change.clone().unwrap_or_default();
        let target = r.target.clone().unwrap_or_default();
        if r.note.is_none() {
            *unmarked
                .entry((email.clone(), change, target.clone()))
                .or_default() += 1;
        }
        *any.entry((email, target)).or_default() += 1;
    }
    assert!(
        unmarked.values().all(|n| *n == 1),
        "a change recorded twice without a mark: {unmarked:?}"
    );
    let marked = audit.iter().filter(|r| r.note.is_some()).count();
    assert!(
        marked > 0,
        "the change in flight at the kill is not marked: {audit:#?}"
    );
    for i in 1..=ITEMS {
        let email = format!("hire{i}@example.com");
        // The person's creation is recorded, or found done and marked.
        assert!(
            any.contains_key(&(email.clone(), email.clone())),
            "no record of {email}'s creation"
        );
        for group in ["engineering", "jira-software-users"] {
            assert!(
                any.contains_key(&(email.clone(), group.to_owned())),
                "no record of {email} joining {group}"
            );
        }
    }
    eprintln!(
        "killed with {done_at_kill} of {ITEMS} done; {} records, {marked} marked",
        audit.len()
    );
}

fn scim_url(config: &str) -> String {
    Tenant::from_toml(config).unwrap().settings["scim_url"].clone()
}

/// The journal file the batch `action` over `input` on the tenant of `config` uses.
fn journal_of(home: &Path, action: Action, config: &str, input: &str) -> PathBuf {
    let tenant = Tenant::from_toml(config).unwrap();
    let bytes = std::fs::read(input).unwrap();
    let key = BatchIdentity::new(action, &tenant, &bytes, false).key();
    home.join("batches").join(format!("{key}.jsonl"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_file_on_another_organization_of_the_same_name_is_another_batch() {
    const ITEMS: usize = 4;
    let s = Setup::new().await;
    let other = Simulator::builder().demo_org().start().await.unwrap();
    let other_toml = other.config_toml();
    let other_config = s.file("other-org.toml", &other_toml);
    // Two organizations, one integration name.
    let name = "instance_name = \"simulated-org\"";
    assert!(s.sim.config_toml().contains(name) && other_toml.contains(name));
    assert_ne!(s.sim.org_id(), other.org_id());
    let input = s.file("onboarding.csv", &onboarding_csv(ITEMS, 1));

    // On the first organization one item fails: its run stays unfinished, the rest completed.
    s.sim.fault(
        Route::scim("/Groups").method("PATCH"),
        Fault::Status(400),
        1,
    );
    let out = s.batch("sync", &input, &["--concurrency", "1"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("batch FAILED: 1 of 4 items"), "{shown}");
    let first = journal_of(&s.home(), Action::Sync, &s.sim.config_toml(), &input);
    assert!(first.exists(), "the first organization's journal");

    // A journal of the first organization's run found under the second's key (a copied home,
    // a digest collision): refused, naming what differs, before anything is written.
    let second = journal_of(&s.home(), Action::Sync, &other_toml, &input);
    assert_ne!(first, second, "the key names the organization");
    std::fs::copy(&first, &second).unwrap();
    let run_on_other = |extra: &[&str]| {
        let mut args = vec![
            "batch",
            "--action",
            "sync",
            "--input",
            &input,
            "--config",
            &other_config,
        ];
        args.extend_from_slice(extra);
        let out = harness(&s.home(), &args);
        let shown = text(&out);
        for secret in [
            other.tokens().scim_token,
            other.tokens().admin_api_key,
            other.tokens().product_token,
        ] {
            assert!(!shown.contains(&secret), "a secret was printed: {shown}");
        }
        out
    };
    let out = run_on_other(&[]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    for expected in [
        "of another batch, so it is not resumed",
        &format!(
            "the SCIM URL (scim_url): `{}` then, `{}` now",
            scim_url(&s.sim.config_toml()),
            scim_url(&other_toml)
        ),
        &format!(
            "the organization id (scim_organization_id): `{}` then, `{}` now",
            s.sim.org_id(),
            other.org_id()
        ),
        "nothing was changed",
        "--restart",
    ] {
        assert!(shown.contains(expected), "expected `{expected}` in {shown}");
    }
    assert!(
        other.mutations().is_empty(),
        "the second organization changed: {:?}",
        other.mutations()
    );
    std::fs::remove_file(&second).unwrap();

    // The same file on the second organization: a batch of its own, every item runs.
    let out = run_on_other(&[]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(!shown.contains("skipped"), "{shown}");
    assert!(shown.contains("completed          4"), "{shown}");
    for i in 1..=ITEMS {
        let email = format!("hire{i}@example.com");
        let found = other
            .users()
            .iter()
            .filter(|u| u.email.eq_ignore_ascii_case(&email))
            .count();
        assert_eq!(found, 1, "{email} on the second organization");
        for group in ["engineering", "jira-software-users"] {
            assert!(
                other.group_members(group).contains(&email),
                "{email} {group}"
            );
        }
    }

    // The first organization's unfinished run is untouched: it resumes there, alone.
    let out = s.batch("sync", &input, &[]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("continuing run") && shown.contains("3 items completed earlier, skipped"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_item_with_a_duplicate_key_is_refused_naming_the_key_and_line() {
    let s = Setup::new().await;
    let input = s.file(
        "dup.json",
        "[\n  {\"email\": \"ada@example.com\", \"add\": [\"research\"]},\n  {\"email\": \"alan@example.com\",\n   \"email\": \"ada@example.com\", \"add\": [\"research\"]}\n]",
    );
    let out = s.batch("groups", &input, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("line 4") && shown.contains("`email` appears twice"),
        "{shown}"
    );
    assert!(
        !s.sim
            .group_members("research")
            .contains(&"ada@example.com".to_owned()),
        "nothing ran"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_input_that_is_a_device_even_behind_a_symlink_is_refused_quickly() {
    let s = Setup::new().await;
    let link = s.dir.path().join("zero.json");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let home = s.home();
    let args = with_loopback(&[
        "batch",
        "--action",
        "groups",
        "--input",
        link.to_str().unwrap(),
        "--config",
        &s.config,
    ]);
    let out = support::run_guarded(Some(&home), &args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("batch file") && shown.contains("not a regular file"),
        "{shown}"
    );
}

/// Conformance B6 in a batch: the create commits but its answer is lost (and so is the
/// connector's look-up after it), so the first run can only record `create-user failed
/// (unavailable)`. The item is `unanswered`, and the next run recovers it like an interrupted
/// one: the audit log then says the person was created, marked as completing that attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b6_a_lost_create_in_a_batch_is_recorded_as_done_by_the_next_run() {
    let s = Setup::new().await;
    let input = s.file(
        "lost.csv",
        "email,name\nlost.create@example.com,Lost Create\n",
    );
    s.sim
        .fault(Route::scim("/Users").method("POST"), Fault::DropResponse, 1);
    // The connector's look-up after the lost POST fails too (the first GET is its search).
    s.sim.fault_after(
        Route::scim("/Users").method("GET"),
        1,
        Fault::Status(400),
        1,
    );
    let out = s.batch("sync", &input, &["--concurrency", "1"]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("unanswered"), "{shown}");
    assert_eq!(s.users_named("lost.create@example.com"), 1);
    let first = s.audit();
    assert!(
        first
            .iter()
            .any(|r| r.change.as_deref() == Some("create-user") && r.status == "failed"),
        "{first:?}"
    );

    let out = s.batch("sync", &input, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["resumed"], true);
    assert_eq!(report["recovered"], 1);
    let audit = s.audit();
    let run = audit[0].run.clone().unwrap();
    let created: Vec<_> = audit
        .iter()
        .filter(|r| r.change.as_deref() == Some("create-user") && r.status != "failed")
        .collect();
    assert_eq!(created.len(), 1, "{audit:?}");
    assert_eq!(created[0].status, "already-done");
    assert!(created[0].user.is("lost.create@example.com"));
    let note = created[0].note.as_deref().unwrap_or_default();
    assert!(
        note.contains(&format!("completes the unanswered attempt of run {run}")),
        "{note}"
    );
    assert_eq!(s.users_named("lost.create@example.com"), 1);
}

/// When the upstream is down, a batch stops after `--max-unanswered` items in a row got no
/// answer, says so, and counts them `unanswered`, not `refused`; the rest are not tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_stops_early_when_the_upstream_stops_answering() {
    let s = Setup::new().await;
    let input = s.file("down.csv", &onboarding_csv(8, 0));
    s.sim.fault_always(
        Route::any(),
        Fault::Unavailable {
            retry_after: Some(0),
        },
    );
    let out = s.batch(
        "sync",
        &input,
        &["--concurrency", "1", "--max-unanswered", "3", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["counts"]["unanswered"], 3, "{report}");
    assert_eq!(report["counts"]["not-run"], 5, "{report}");
    assert_eq!(report["counts"]["refused"], 0, "{report}");
    assert_eq!(report["stopped_unanswered"], 3, "{report}");

    let out = s.batch(
        "sync",
        &input,
        &["--concurrency", "1", "--max-unanswered", "3"],
    );
    let shown = text(&out);
    assert!(
        shown.contains("batch STOPPED EARLY: 3 items in a row got no answer"),
        "{shown}"
    );
}

/// `batch --json` prints a batch that cannot run as JSON, not as plain text only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_json_prints_its_errors_as_json() {
    let s = Setup::new().await;
    let ragged = s.file(
        "ragged.csv",
        "email,name\na@example.com,A\nb@example.com,B,extra\n",
    );
    let out = s.batch("sync", &ragged, &["--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["succeeded"], false);
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("line 3")),
        "{report}"
    );
    s.assert_nothing_written("a ragged file");
}

/// A dry run batch writes no audit record, not even for an item the connector refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_batch_leaves_no_audit_record_even_for_refused_items() {
    let s = Setup::new().await;
    let input = s.file("nogroup.csv", "user,add\nada@example.com,no-such-group\n");
    let out = s.batch("groups", &input, &["--dry-run"]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("refused"), "{}", text(&out));
    assert!(s.sim.mutations().is_empty());
    assert!(s.audit().is_empty(), "{:?}", s.audit());
}
