//! The list of cases with their stable ids and names, running a selection concurrently, and
//! the printed table.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;

use super::CaseResult;
use std::sync::Arc;

use crate::{Platform, Subject};

/// Longest a case may run before it is reported as failed (the slowest takes seconds).
const CASE_TIMEOUT: Duration = Duration::from_secs(180);

/// The future of one running case.
pub type CaseFuture = Pin<Box<dyn Future<Output = CaseResult> + Send>>;

/// One conformance case: its stable id, its name, and how to run it.
#[derive(Clone, Copy)]
pub struct Case {
    /// The stable id, e.g. `A1`.
    pub id: &'static str,
    /// What the case checks, in a few words.
    pub name: &'static str,
    /// Why the case needs our host (its records, policy, limits or audit), if it does: a
    /// subject without one ([`Subject::host`]) skips it with this reason.
    pub needs_host: Option<&'static str>,
    run: fn(Arc<dyn Subject>, Arc<dyn Platform>) -> CaseFuture,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.id, self.name)
    }
}

impl Case {
    /// Runs the case against `subject` on `platform` (skipped, with why, when it needs our
    /// host and `subject` has none).
    pub fn run(&self, subject: &Arc<dyn Subject>, platform: &Arc<dyn Platform>) -> CaseFuture {
        if let (Some(why), None) = (self.needs_host, subject.host()) {
            let why = why.to_owned();
            return Box::pin(async move { CaseResult::Skipped { why } });
        }
        (self.run)(Arc::clone(subject), Arc::clone(platform))
    }
}

macro_rules! list {
    ($($id:literal $name:literal $f:ident;)*) => {
        vec![$(Case {
            id: $id,
            name: $name,
            needs_host: super::host_only::$f,
            run: |subject, platform| Box::pin(async move { super::$f(subject.as_ref(), platform.as_ref()).await }),
        }),*]
    };
}

/// Every case, in the order of the conformance list.
pub fn cases() -> Vec<Case> {
    list! {
        "A1" "Health with valid SCIM and admin credentials" a1_health_with_valid_credentials;
        "A2" "Empty or malformed config: invalid-config naming the key" a2_malformed_config_names_the_key;
        "A3" "Wrong SCIM token: unauthorized, no retry" a3_wrong_scim_token;
        "A4" "Bad admin key: unauthorized vs forbidden, SCIM still ok" a4_bad_admin_key;
        "A5" "SCIM-only config: healthy, admin actions name the key" a5_scim_only_config;
        "A6" "Wrong directory id: not-found naming the directory" a6_wrong_directory_id;
        "A7" "Admin key expiry: ok, warning < 30 days, else unknown" a7_admin_key_expiry;
        "B1" "Create a new user with every mapped attribute" b1_create_a_new_user;
        "B2" "Sync the same identity again: no write" b2_sync_again_writes_nothing;
        "B3" "Update one attribute: only that attribute changes" b3_update_one_attribute;
        "B4" "create-missing / update-existing off: no write" b4_create_and_update_switches;
        "B5" "POST answers 409 uniqueness: found and updated" b5_conflict_on_create;
        "B6" "Lost POST response: next run finds the user" b6_lost_create_response;
        "B7" "Filter escaping of emails and external ids" b7_filter_escaping;
        "B8" "Email case never makes a duplicate" b8_email_case;
        "B9" "Invalid identity: invalid-input, zero requests" b9_invalid_identity;
        "B10" "Account id in the outcome, or said to be pending" b10_account_id_or_pending;
        "C1" "Add to an admin-managed group via the admin API" c1_add_to_admin_group;
        "C2" "Add to a synced group via SCIM only" c2_add_to_synced_group;
        "C3" "Add an existing member (204, 409-2): already-done" c3_add_existing_member;
        "C4" "Remove one of three members, filtered SCIM path" c4_remove_one_of_three;
        "C5" "Remove a non-member: already-done" c5_remove_non_member;
        "C6" "Unknown group: not-found before any write" c6_unknown_group;
        "C7" "Licence limit 409-3: a failed change" c7_licence_limit;
        "C8" "Add 10 groups: the writes in one send-all" c8_ten_groups_one_batch;
        "C9" "Group names differing only in case: one group" c9_group_name_case;
        "C10" "1,000 groups added, re-run, removed, within limits" c10_thousand_groups_within_host_limits;
        "D1" "Deprovision: no memberships, inactive, record kept" d1_deprovision;
        "D2" "Deprovision again: already-done, zero writes" d2_deprovision_again;
        "D3" "Fault after the first removal: next run completes" d3_deprovision_resumes;
        "D4" "Deprovision a protected user: policy-denied" d4_deprovision_protected_user;
        "D5" "Deprovision an unknown user: not-found" d5_deprovision_unknown_user;
        "D6" "Deprovision a user in 1,000 groups in one call" d6_deprovision_thousand_groups;
        "D8" "SCIM server without user groups: memberships unverifiable" d8_deprovision_unverifiable_memberships;
        "E1" "Delete: SCIM record (404) and memberships gone" e1_delete;
        "E2" "Delete twice: already-done" e2_delete_twice;
        "E3" "purge-account: lifecycle delete, recorded" e3_purge_account;
        "E4" "Delete a protected user: policy-denied" e4_delete_protected_user;
        "F1" "250 users, capped pages; exact/empty/short ends" f1_users_over_pages;
        "F2" "Groups over pages, a group of 150 members" f2_groups_over_pages;
        "F3" "Jira, Confluence (2 link styles), Bitbucket pages" f3_products_over_pages;
        "F4" "A 400 on a listing is an error, never empty" f4_listing_error_is_not_empty;
        "G1" "Dry run: planned, zero writes; real run = plan" g1_dry_run_then_real_run;
        "G2" "One audit record per applied or failed change" g2_audit_records;
        "G3" "No secret in outcomes, errors, records, requests" g3_no_secret_anywhere;
        "H1" "429 Retry-After / X-RateLimit-Reset waited out" h1_rate_limit_hints_waited_out;
        "H2" "429/503 never clearing: error after bounded tries" h2_limits_that_never_clear;
        "H3" "400/401/403/404/409 never retried" h3_client_errors_not_retried;
        "H4" "Malformed/HTML/truncated/oversized: upstream" h4_malformed_answers;
        "H5" "Destination outside the allow-list: denied" h5_destination_outside_allow_list;
        "H6" "Runaway invocation fails alone; next one runs" h6_runaway_invocations;
        "H7" "Private/loopback/metadata address: refused" h7_blocked_addresses_refused_before_connecting;
        "H8" "Echoed Authorization: no secret form gets out" h8_echoed_credentials_are_scrubbed;
        "I1" "Grant a product role: direct on re-read; again already-done" i1_grant_a_product_role;
        "I2" "Revoke a direct role; one not held: already-done" i2_revoke_a_direct_role;
        "I3" "Group-granted/inferred roles: reported, never revoked" i3_group_and_inferred_roles_are_reported;
        "I4" "Unknown role/resource before writes; limits fail" i4_unknown_roles_and_limits;
        "I5" "Deprovision revokes direct roles, then deactivates" i5_deprovision_revokes_direct_roles;
        "I6" "Deprovision deletes API tokens; refusals reported" i6_deprovision_revokes_api_tokens;
        "I7" "Group roles: v2 grant/revoke, members group_direct; again done" i7_grant_and_revoke_group_roles;
        "I8" "Group roles: dry run; unknown group/role/resource first" i8_group_roles_dry_run_and_unknowns;
        "J1" "Reactivate to a desired set; again already-done" j1_reactivate_a_scim_user;
        "J2" "No SCIM record: suspend after access removed; restore" j2_suspend_and_restore_an_unmanaged_account;
        "J3" "Purge consults the preflight; a refusal writes nothing" j3_purge_consults_the_preflight;
        "J4" "Dry run of reactivate and suspend: plan, zero writes" j4_reactivate_and_suspend_dry_run;
        "K1" "Users over many pages in bounded parallel waves, once each" k1_users_in_parallel_page_waves;
        "K2" "list-groups: O(memberships / page size), formula held" k2_list_groups_linear_in_memberships;
        "K3" "Per-org rate limit: within budget + one burst, no failure" k3_rate_limit_budget_kept;
        "K4" "429 storm on tenant A: tenant B unpaced, unretried" k4_storm_on_one_tenant_spares_another;
    }
}

/// The cases with these ids (any case, in the list's order), or every case for none; an
/// unknown id is an error naming it.
pub fn select(ids: &[String]) -> Result<Vec<Case>, String> {
    let all = cases();
    let unknown: Vec<&str> = ids
        .iter()
        .filter(|id| !all.iter().any(|c| c.id.eq_ignore_ascii_case(id)))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let first = all.first().map_or("", |c| c.id);
        let last = all.last().map_or("", |c| c.id);
        return Err(format!(
            "unknown case id {}: the ids run from {first} to {last} (`conformance` without \
             --only lists every one)",
            unknown.join(", ")
        ));
    }
    Ok(all
        .into_iter()
        .filter(|c| ids.is_empty() || ids.iter().any(|id| c.id.eq_ignore_ascii_case(id)))
        .collect())
}

/// One case's result.
#[derive(Clone, Debug, Serialize)]
pub struct CaseReport {
    /// The case's id.
    pub id: &'static str,
    /// The case's name.
    pub name: &'static str,
    /// Pass or fail, with the differences.
    #[serde(flatten)]
    pub result: CaseResult,
    /// How long it ran.
    #[serde(serialize_with = "millis")]
    pub elapsed: Duration,
}

/// The results of a run, in the list's order.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Which path the calls took ([`Subject::name`]).
    pub subject: String,
    /// One entry per case run.
    pub cases: Vec<CaseReport>,
    /// How many passed.
    pub passed: usize,
    /// How many failed.
    pub failed: usize,
    /// How many were skipped, each with why (cases that need our host, on another subject).
    pub skipped: usize,
    /// Wall-clock time of the whole run.
    #[serde(serialize_with = "millis")]
    pub elapsed: Duration,
}

impl Report {
    /// True when every case passed.
    pub fn all_passed(&self) -> bool {
        self.failed == 0
    }
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Runs `cases` against `subject` on `platform`, at most `concurrency` at a time, each on its own task
/// with its own simulator. A case that panics or runs over its time is a failure, never the
/// end of the run; one the subject cannot run is skipped with why. Needs a Tokio runtime.
pub async fn run(
    subject: &Arc<dyn Subject>,
    platform: &Arc<dyn Platform>,
    cases: &[Case],
    concurrency: usize,
) -> Report {
    let started = Instant::now();
    let reports: Vec<CaseReport> = futures::stream::iter(cases.iter().copied())
        .map(|case| {
            let future = case.run(subject, platform);
            async move {
                let started = Instant::now();
                let task = tokio::spawn(tokio::time::timeout(CASE_TIMEOUT, future));
                let result = match task.await {
                    Ok(Ok(result)) => result,
                    Ok(Err(_)) => CaseResult::fail(
                        "the case",
                        format!("to end within {CASE_TIMEOUT:?}"),
                        "still running",
                    ),
                    Err(e) => CaseResult::fail("the case", "to run to its end", panic_text(e)),
                };
                CaseReport {
                    id: case.id,
                    name: case.name,
                    result,
                    elapsed: started.elapsed(),
                }
            }
        })
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let passed = reports.iter().filter(|r| r.result.passed()).count();
    let skipped = reports
        .iter()
        .filter(|r| matches!(r.result, CaseResult::Skipped { .. }))
        .count();
    Report {
        subject: subject.name(),
        failed: reports.len() - passed - skipped,
        passed,
        skipped,
        cases: reports,
        elapsed: started.elapsed(),
    }
}

fn panic_text(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return "it was cancelled".into();
    }
    let payload = e.into_panic();
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("it panicked: {text}")
}

/// The table: one line per case (id, name, PASS or FAIL, and on failure what differed; on a
/// pass, what it checked when the case says so), then a summary line.
pub fn render(report: &Report) -> String {
    let width = report
        .cases
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for case in &report.cases {
        let (mark, detail) = match &case.result {
            CaseResult::Pass { note } => ("PASS", note.clone().unwrap_or_default()),
            CaseResult::Fail { differences } => (
                "FAIL",
                differences
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            CaseResult::Skipped { why } => ("SKIP", format!("needs our host: {why}")),
        };
        let line = format!("{:<4} {:<width$}  {mark}  {detail}", case.id, case.name);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let skipped = match report.skipped {
        0 => String::new(),
        n => format!(", {n} skipped"),
    };
    out.push_str(&format!(
        "{} cases: {} passed, {} failed{skipped} ({:.1} s)\n",
        report.cases.len(),
        report.passed,
        report.failed,
        report.elapsed.as_secs_f64()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_selected_in_list_order_any_case() {
        let all = cases();
        let mut ids: Vec<&str> = all.iter().map(|c| c.id).collect();
        let n = ids.len();
        assert!(n >= 48, "{n}");
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "ids are unique");
        let picked = select(&["h6".into(), "A1".into()]).unwrap();
        assert_eq!(
            picked.iter().map(|c| c.id).collect::<Vec<_>>(),
            ["A1", "H6"]
        );
        assert_eq!(select(&[]).unwrap().len(), n);
        let err = select(&["Z9".into(), "A1".into()]).unwrap_err();
        assert!(err.contains("Z9") && !err.contains("A1,"), "{err}");
    }

    #[test]
    fn a_case_that_needs_our_host_is_declared_with_why() {
        let all = cases();
        let needs = |id: &str| all.iter().find(|c| c.id == id).and_then(|c| c.needs_host);
        assert!(needs("B1").is_none() && needs("E4").is_none());
        assert!(needs("C8").is_some_and(|why| why.contains("exchange records")));
        assert!(needs("G2").is_some() && needs("H8").is_some());
    }

    #[test]
    fn the_table_has_one_line_per_case_and_a_summary() {
        let report = Report {
            subject: "our host".into(),
            cases: vec![
                CaseReport {
                    id: "A1",
                    name: "first",
                    result: CaseResult::Pass { note: None },
                    elapsed: Duration::ZERO,
                },
                CaseReport {
                    id: "B10",
                    name: "second case",
                    result: CaseResult::fail("writes", 0, 2),
                    elapsed: Duration::ZERO,
                },
                CaseReport {
                    id: "C8",
                    name: "third",
                    result: CaseResult::Skipped {
                        why: "its records".into(),
                    },
                    elapsed: Duration::ZERO,
                },
            ],
            passed: 1,
            failed: 1,
            skipped: 1,
            elapsed: Duration::from_millis(1500),
        };
        let text = render(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "A1   first        PASS");
        assert_eq!(
            lines[1],
            "B10  second case  FAIL  writes: expected 0, found 2"
        );
        assert_eq!(
            lines[2],
            "C8   third        SKIP  needs our host: its records"
        );
        assert_eq!(lines[3], "3 cases: 1 passed, 1 failed, 1 skipped (1.5 s)");
    }
}
