//! The conformance suite: every case of the lifecycle-connector conformance list (ids A1–H8, K1–K4),
//! run against the embedded Atlassian simulator through the component under test.
//!
//! A crate of its own over the embeddable host ([`lifecycle_host`]) and the simulator
//! ([`atlassian_simulator`]): any platform that loads a component through the host runs it,
//! handing it what the G and H8 cases check of the platform itself (its audit log and the way
//! it shows answers, [`Platform`]).
//!
//! Each case is a named function taking the [`Subject`] to test (the component in our host,
//! a [`lifecycle_host::LoadedConnector`], or another platform's path to it, such as the
//! harness's composed component on wasi:http) and the [`Platform`] around it: it loads
//! nothing itself, runs with loopback allowed ([`Subject::on_simulator`]: its simulator
//! listens on loopback; H5 and H7 set their own), starts its own simulator (seeded, with
//! faults and quirks as the case needs), calls the component through the subject, and ends
//! with a fresh read of the simulator's state and request log rather than trusting the
//! connector's answer. A case that needs our host's own records, policy, limits or audit is
//! declared `| host(why)` in the list below: it takes the subject's host
//! ([`Subject::host`]), and a subject without one skips it with that reason. It returns a [`CaseResult`]:
//! pass, or fail with each [`Difference`] (what, expected, found).
//!
//! [`cases`] lists them with their stable ids and names; [`run`] runs a selection
//! concurrently (each case has its own simulator) and returns a [`Report`] that
//! [`render`] prints one line per case.

mod a_health;
mod a_key_expiry;
mod b_sync;
mod big_memberships;
mod c_relationships;
mod check;
mod d_deprovision;
mod e_delete;
mod f_extract;
mod g_audit;
mod h_echo;
mod h_faults;
mod i_group_roles;
mod i_roles;
pub mod ids;
mod j_purge;
mod j_reactivate;
mod k_rate;
mod k_scale;
pub mod platform;
mod runner;
pub mod subject;
pub mod support;

pub use check::{CaseResult, Difference};
pub use platform::{AuditEntry, AuditLog, AuditedCall, Platform};
pub use runner::{Case, CaseReport, Report, cases, render, run, select};
pub use subject::{Call, Subject};

use check::Check;

/// Declares the public, named function of each case around its body, and which cases need
/// our host (`host_only`, read by the runner as `Case::needs_host`).
///
/// A body for any subject takes `&dyn Subject` (and runs through HTTP too); one marked
/// `| host("why")` takes the subject's `&LoadedConnector`, and one marked
/// `| platform("why")` also the platform: on a subject without our host they are skipped
/// with that reason.
macro_rules! cases {
    (@call $body:path, $subject:expr, $platform:expr, $check:expr) => {{
        let _ = $platform;
        $body($subject, $check).await
    }};
    (@call $body:path, $subject:expr, $platform:expr, $check:expr, $how:ident $why:literal) => {{
        let Some(connector) = $subject.host() else {
            return CaseResult::Skipped { why: $why.into() };
        };
        cases!(@host $how $body, connector, $platform, $check)
    }};
    (@host host $body:path, $connector:expr, $platform:expr, $check:expr) => {{
        let _ = $platform;
        $body($connector, $check).await
    }};
    (@host platform $body:path, $connector:expr, $platform:expr, $check:expr) => {
        $body($connector, $platform, $check).await
    };
    (@why) => { None };
    (@why $how:ident $why:literal) => { Some($why) };
    ($($(#[$doc:meta])* $id:literal $name:ident => $body:path $(| $how:ident($why:literal))?;)*) => {
        $(
            $(#[$doc])*
            #[doc = concat!("\n\nConformance case ", $id, ".")]
            pub async fn $name(connector: &dyn Subject, platform: &dyn Platform) -> CaseResult {
                let subject = match connector.on_simulator() {
                    Ok(subject) => subject,
                    Err(difference) => return CaseResult::Fail { differences: vec![difference] },
                };
                let mut check = Check::default();
                let step = cases!(@call $body, subject.as_ref(), platform, &mut check $(, $how $why)?);
                check.finish(step)
            }
        )*

        /// Why each case needs our host (`None`: any subject runs it), by case function name.
        #[allow(non_upper_case_globals)]
        pub(crate) mod host_only {
            $(pub(crate) const $name: Option<&str> = cases!(@why $($how $why)?);)*
        }
    };
}

cases! {
    /// Health with valid SCIM, admin and product credentials: every probe ok, only reads.
    "A1" a1_health_with_valid_credentials => a_health::a1 | host("reads the probes' batch from our host's exchange records");
    /// Empty or malformed config: `invalid-config` naming the key, before any request.
    "A2" a2_malformed_config_names_the_key => a_health::a2 | host("an unknown key never reaches the connector on wasi:config: the adapter reads the schema's keys only");
    /// Wrong SCIM token (401): the SCIM probe is unauthorized, not retried.
    "A3" a3_wrong_scim_token => a_health::a3 | host("counts the probe's attempts in our host's exchange records");
    /// Bad admin key (401) or one without access (403): named, told apart; SCIM still passes.
    "A4" a4_bad_admin_key => a_health::a4;
    /// SCIM-only config: healthy; admin-only actions name `admin_api_key`.
    "A5" a5_scim_only_config => a_health::a5;
    /// Wrong directory id (404): an error naming the directory.
    "A6" a6_wrong_directory_id => a_health::a6;
    /// The organization key's expiry: ok, a warning within 30 days, unknown without a label,
    /// without a match or on a 403 (still healthy).
    "A7" a7_admin_key_expiry => a_key_expiry::a7;
    /// Create a new user: one look-up, one POST, every mapped attribute on re-read.
    "B1" b1_create_a_new_user => b_sync::b1;
    /// Sync the same identity again: no write.
    "B2" b2_sync_again_writes_nothing => b_sync::b2;
    /// Update one attribute: only that attribute changes.
    "B3" b3_update_one_attribute => b_sync::b3;
    /// `create-missing`/`update-existing` off: no write.
    "B4" b4_create_and_update_switches => b_sync::b4;
    /// A POST answering 409 uniqueness: the user is found and updated.
    "B5" b5_conflict_on_create => b_sync::b5;
    /// A lost POST response: the next run finds the user.
    "B6" b6_lost_create_response => b_sync::b6;
    /// Filter escaping of emails and external ids.
    "B7" b7_filter_escaping => b_sync::b7;
    /// Email case never makes a duplicate.
    "B8" b8_email_case => b_sync::b8;
    /// Invalid identities: `invalid-input`, zero requests.
    "B9" b9_invalid_identity => b_sync::b9;
    /// The account id in the outcome, or said to be pending.
    "B10" b10_account_id_or_pending => b_sync::b10;
    /// Add to an admin-managed group through the admin API.
    "C1" c1_add_to_admin_group => c_relationships::c1;
    /// Add to a synced group through SCIM only.
    "C2" c2_add_to_synced_group => c_relationships::c2;
    /// Add an existing member (204 and 409 `ADMIN-UAM-409-2`): `already-done`.
    "C3" c3_add_existing_member => c_relationships::c3;
    /// Remove one member of three with the filtered SCIM path.
    "C4" c4_remove_one_of_three => c_relationships::c4;
    /// Remove a non-member: `already-done`.
    "C5" c5_remove_non_member => c_relationships::c5;
    /// Unknown group: `not-found` before any write.
    "C6" c6_unknown_group => c_relationships::c6;
    /// Licence limit (409 `ADMIN-UAM-409-3`): a failed change.
    "C7" c7_licence_limit => c_relationships::c7;
    /// Ten groups: the writes go out as one `send-all`.
    "C8" c8_ten_groups_one_batch => c_relationships::c8 | host("reads the send-all batch from our host's exchange records");
    /// Group names differing only in case are one group.
    "C9" c9_group_name_case => c_relationships::c9;
    /// 1,000 groups added, re-run, removed, each in one call within the host's limits.
    "C10" c10_thousand_groups_within_host_limits => big_memberships::c10 | host("checks each batch against our host's limits and exchange records");
    /// Deprovision: no memberships, inactive, record and account kept.
    "D1" d1_deprovision => d_deprovision::d1;
    /// Deprovision again: all `already-done`, zero writes.
    "D2" d2_deprovision_again => d_deprovision::d2;
    /// A fault after the first removal: the next run completes the rest.
    "D3" d3_deprovision_resumes => d_deprovision::d3;
    /// Deprovision a protected user: `policy-denied`, zero writes.
    "D4" d4_deprovision_protected_user => d_deprovision::d4;
    /// Deprovision an unknown user: `not-found`.
    "D5" d5_deprovision_unknown_user => d_deprovision::d5;
    /// Deprovision a user in 1,000 groups: completes in one call; none remain; inactive.
    "D6" d6_deprovision_thousand_groups => big_memberships::d6 | host("checks each batch against our host's limits and exchange records");
    /// SCIM-only, a server that keeps no `groups` on users: memberships not verifiable.
    "D8" d8_deprovision_unverifiable_memberships => j_reactivate::d8;
    /// Delete: the SCIM record (404 on its old id) and its memberships gone.
    "E1" e1_delete => e_delete::e1;
    /// Delete twice: `already-done`.
    "E2" e2_delete_twice => e_delete::e2;
    /// `purge-account`: the lifecycle delete of the account, recorded.
    "E3" e3_purge_account => e_delete::e3;
    /// Delete a protected user: `policy-denied`, zero writes.
    "E4" e4_delete_protected_user => e_delete::e4;
    /// 250 users over server-capped pages; exact-multiple, short and empty last pages.
    "F1" f1_users_over_pages => f_extract::f1;
    /// Groups over several pages, a group of more than 100 members.
    "F2" f2_groups_over_pages => f_extract::f2;
    /// Jira, Confluence (both next-link styles) and Bitbucket over several pages.
    "F3" f3_products_over_pages => f_extract::f3;
    /// A 400 on a listing is an error, never an empty result.
    "F4" f4_listing_error_is_not_empty => f_extract::f4;
    /// Dry run of every action: planned, zero writes; the real run applies that plan.
    "G1" g1_dry_run_then_real_run => g_audit::g1;
    /// One audit record per applied or failed change.
    "G2" g2_audit_records => g_audit::g2 | platform("reads the audit log our host's platform writes");
    /// No secret in any outcome, error, rendered line, exchange record or request.
    "G3" g3_no_secret_anywhere => g_audit::g3 | platform("scans our host's exchange records and renderings");
    /// 429 hints (Retry-After seconds and date, X-RateLimit-Reset) waited out.
    "H1" h1_rate_limit_hints_waited_out => h_faults::h1 | host("our host's http-client waits out the hints");
    /// 429/503 that never clear: the error with the hint after bounded attempts.
    "H2" h2_limits_that_never_clear => h_faults::h2 | host("our host's http-client bounds the attempts");
    /// 400/401/403/404/409 are never retried.
    "H3" h3_client_errors_not_retried => h_faults::h3 | host("reads our host's exchange records");
    /// Malformed, HTML, truncated and oversized answers: `upstream`; the host runs on.
    "H4" h4_malformed_answers => h_faults::h4 | host("our host's answer checks, read from its exchange records");
    /// A destination outside the allow-list: denied, never sent.
    "H5" h5_destination_outside_allow_list => h_faults::h5 | host("sets our host's operator allow-list");
    /// Runaway invocations fail with their class; the next one succeeds.
    "H6" h6_runaway_invocations => h_faults::h6 | host("sets our host's CPU, memory and time limits");
    /// A tenant URL resolving to a loopback (without the operator's permission), private,
    /// link-local, unique-local, unspecified or IPv4-mapped address: refused before connecting,
    /// with a typed error naming the rule; re-checked on every connection.
    "H7" h7_blocked_addresses_refused_before_connecting => h_faults::h7 | host("our host's address rules (elsewhere the platform's own)");
    /// An upstream echoing the credentials: no form of any secret reaches guest, output or log.
    "H8" h8_echoed_credentials_are_scrubbed => h_echo::h8 | platform("our host's scrubbing of answers and exchange records");
    /// Grant a product role: the v1 assign, `direct` on re-read; again `already-done`.
    "I1" i1_grant_a_product_role => i_roles::i1;
    /// Revoke a direct role; revoking one not held is `already-done` (each answer variant).
    "I2" i2_revoke_a_direct_role => i_roles::i2;
    /// Group-granted and inferred roles: reported with their source, never revoked.
    "I3" i3_group_and_inferred_roles_are_reported => i_roles::i3;
    /// Unknown role or resource before any write; unlicensed and licence limit fail.
    "I4" i4_unknown_roles_and_limits => i_roles::i4;
    /// Deprovision revokes direct roles after memberships, before deactivation.
    "I5" i5_deprovision_revokes_direct_roles => i_roles::i5;
    /// Deprovision deletes each personal API token; a refusing preflight is reported.
    "I6" i6_deprovision_revokes_api_tokens => i_roles::i6;
    /// A group's roles (manage-group-roles): v2 grants and revokes, a member holds them
    /// `group_direct`; again `already-done`.
    "I7" i7_grant_and_revoke_group_roles => i_group_roles::i7;
    /// Group roles: dry run plans, zero writes; unknown group, role or resource fail first.
    "I8" i8_group_roles_dry_run_and_unknowns => i_group_roles::i8;
    /// Reactivate a deprovisioned SCIM user to a desired set; again `already-done`.
    "J1" j1_reactivate_a_scim_user => j_reactivate::j1;
    /// No SCIM record: deprovision suspends (v2) after memberships and roles; reactivate
    /// restores.
    "J2" j2_suspend_and_restore_an_unmanaged_account => j_reactivate::j2;
    /// Purge consults the preflight: a refusal names its reason key, zero writes.
    "J3" j3_purge_consults_the_preflight => j_purge::j3;
    /// Dry runs of J1 and J2: the exact plan, zero writes.
    "J4" j4_reactivate_and_suspend_dry_run => j_reactivate::j4;
    /// Extraction over many pages in bounded parallel waves: every user once, the walk ends.
    "K1" k1_users_in_parallel_page_waves => k_scale::k1 | host("reads our host's exchange records and limits");
    /// list-groups costs O(memberships ÷ page size): the request formula asserted per call.
    "K2" k2_list_groups_linear_in_memberships => k_scale::k2 | host("reads our host's limits and exchange records");
    /// A per-org rate limit: concurrent invocations of one tenant stay within the budget plus
    /// one window's burst; no item fails.
    "K3" k3_rate_limit_budget_kept => k_rate::k3 | host("our host's rate governor");
    /// A 429 storm on tenant A: tenant B's actions go unpaced and unretried.
    "K4" k4_storm_on_one_tenant_spares_another => k_rate::k4 | host("our host's rate governor");
}
