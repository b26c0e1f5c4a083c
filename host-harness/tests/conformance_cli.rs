//! `host-harness conformance` run as a process: every case passes against the built-in
//! connector; a component that is not the connector gives FAIL lines and exit 1, never a
//! crash; bad ids and `--json`; `--over-http` on the composed component.

mod support;

use std::path::Path;
use std::process::Output;

use lifecycle_conformance as conformance;
use support::{stderr, stdout};

fn harness(args: &[&str]) -> Output {
    support::run(None, args)
}

/// The line of case `id` (it starts with the id and a space).
fn line<'a>(text: &'a str, id: &str) -> Option<&'a str> {
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(id))
}

#[test]
fn every_case_passes_against_the_built_in_connector() {
    let out = harness(&["conformance"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    for case in conformance::cases() {
        let l = line(&text, case.id).unwrap_or_else(|| panic!("no line for {}: {text}", case.id));
        assert!(l.contains(case.name) && l.contains(" PASS"), "{l}");
    }
    let summary = text.lines().last().unwrap_or_default();
    let n = conformance::cases().len();
    assert!(
        summary.starts_with(&format!("{n} cases: {n} passed, 0 failed")),
        "{summary}"
    );
}

#[test]
fn a_component_that_is_not_the_connector_fails_every_case_without_crashing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let guest = host_harness::guest_build::test_guest(&root).expect("the test guest builds");
    let out = harness(&[
        "--component",
        guest.to_str().unwrap(),
        "conformance",
        "--only",
        "A1",
        "B1",
        "C4",
        "E3",
        "F1",
        "H6",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    for id in ["A1", "B1", "C4", "E3", "F1", "H6"] {
        let l = line(&text, id).unwrap_or_else(|| panic!("no line for {id}: {text}"));
        assert!(l.contains(" FAIL ") && l.contains("expected"), "{l}");
    }
    assert!(
        text.contains("sync-identity: expected success, found unsupported: test guest"),
        "{text}"
    );
    assert!(text.contains("6 cases: 0 passed, 6 failed"), "{text}");
}

#[test]
fn only_selects_cases_json_reports_them_and_unknown_ids_are_refused() {
    let out = harness(&["conformance", "--json", "--only", "a2", "H5"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ids: Vec<&str> = report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["A2", "H5"]);
    assert_eq!(report["cases"][0]["result"], "pass");
    assert_eq!(report["passed"], 2);

    let out = harness(&["conformance", "--only", "A1", "Z9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown case id Z9"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

/// `--over-http`: the suite on the built-in composed component, served by the standard
/// wasi:http host; every case runs (PASS) or needs our host and says why (SKIP), none fails.
#[test]
fn over_http_runs_the_suite_on_the_composed_component_and_says_what_it_skips() {
    let out = harness(&["conformance", "--over-http"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let mut passed = 0;
    for case in conformance::cases() {
        let l = line(&text, case.id).unwrap_or_else(|| panic!("no line for {}: {text}", case.id));
        match case.needs_host {
            Some(why) => assert!(l.contains(" SKIP ") && l.contains(why), "{l}"),
            None => {
                assert!(l.contains(" PASS"), "{l}");
                passed += 1;
            }
        }
    }
    for id in ["B1", "C1", "D1", "E1"] {
        assert!(line(&text, id).unwrap().contains(" PASS"), "{text}");
    }
    let n = conformance::cases().len();
    let summary = text.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with(&format!(
            "{n} cases: {passed} passed, 0 failed, {} skipped",
            n - passed
        )),
        "{summary}"
    );

    let out = harness(&["conformance", "--over-http", "--json", "--only", "C8"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["cases"][0]["result"], "skipped", "{report:#}");
    assert_eq!(report["skipped"], 1, "{report:#}");
    assert_eq!(out.status.code(), Some(0));
}
