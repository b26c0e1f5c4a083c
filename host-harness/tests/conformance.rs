//! The conformance suite's cases, one test each (named after the case id), run through the
//! library against the built-in connector: each must pass. The same functions back the
//! `host-harness conformance` command.

use host_harness::component::LoadBuiltin as _;
use std::sync::OnceLock;

use host_harness::conformance_platform::HarnessPlatform;
use lifecycle_conformance::{self as conformance, CaseResult};
use lifecycle_host::{LoadedConnector, Runtime, RuntimeOptions};

/// The built-in connector, compiled once for this test binary.
fn connector() -> &'static LoadedConnector {
    static CONNECTOR: OnceLock<LoadedConnector> = OnceLock::new();
    CONNECTOR.get_or_init(|| {
        // The compiled-component cache is shared with the other test binaries.
        Runtime::new(RuntimeOptions {
            cache_dir: Some(concat!(env!("CARGO_TARGET_TMPDIR"), "/cli-cache/host-harness").into()),
            ..RuntimeOptions::default()
        })
        .and_then(|r| Ok(r.load_builtin()?))
        .expect("the built-in connector loads")
    })
}

fn assert_passed(id: &str, result: CaseResult) {
    if let CaseResult::Fail { differences } = &result {
        let lines: Vec<String> = differences.iter().map(ToString::to_string).collect();
        panic!("{id} failed:\n  {}", lines.join("\n  "));
    }
}

macro_rules! case_tests {
    ($($id:literal $name:ident;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                assert_passed($id, conformance::$name(connector(), &HarnessPlatform).await);
            }
        )*

        #[test]
        fn every_case_of_the_list_has_a_test() {
            let tested = [$($id),*];
            let listed: Vec<&str> = conformance::cases().iter().map(|c| c.id).collect();
            assert_eq!(listed, tested);
        }
    };
}

case_tests! {
    "A1" a1_health_with_valid_credentials;
    "A2" a2_malformed_config_names_the_key;
    "A3" a3_wrong_scim_token;
    "A4" a4_bad_admin_key;
    "A5" a5_scim_only_config;
    "A6" a6_wrong_directory_id;
    "A7" a7_admin_key_expiry;
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
    "C8" c8_ten_groups_one_batch;
    "C9" c9_group_name_case;
    "C10" c10_thousand_groups_within_host_limits;
    "D1" d1_deprovision;
    "D2" d2_deprovision_again;
    "D3" d3_deprovision_resumes;
    "D4" d4_deprovision_protected_user;
    "D5" d5_deprovision_unknown_user;
    "D6" d6_deprovision_thousand_groups;
    "D8" d8_deprovision_unverifiable_memberships;
    "E1" e1_delete;
    "E2" e2_delete_twice;
    "E3" e3_purge_account;
    "E4" e4_delete_protected_user;
    "F1" f1_users_over_pages;
    "F2" f2_groups_over_pages;
    "F3" f3_products_over_pages;
    "F4" f4_listing_error_is_not_empty;
    "G1" g1_dry_run_then_real_run;
    "G2" g2_audit_records;
    "G3" g3_no_secret_anywhere;
    "H1" h1_rate_limit_hints_waited_out;
    "H2" h2_limits_that_never_clear;
    "H3" h3_client_errors_not_retried;
    "H4" h4_malformed_answers;
    "H5" h5_destination_outside_allow_list;
    "H6" h6_runaway_invocations;
    "H7" h7_blocked_addresses_refused_before_connecting;
    "H8" h8_echoed_credentials_are_scrubbed;
    "I1" i1_grant_a_product_role;
    "I2" i2_revoke_a_direct_role;
    "I3" i3_group_and_inferred_roles_are_reported;
    "I4" i4_unknown_roles_and_limits;
    "I5" i5_deprovision_revokes_direct_roles;
    "I6" i6_deprovision_revokes_api_tokens;
    "I7" i7_grant_and_revoke_group_roles;
    "I8" i8_group_roles_dry_run_and_unknowns;
    "J1" j1_reactivate_a_scim_user;
    "J2" j2_suspend_and_restore_an_unmanaged_account;
    "J3" j3_purge_consults_the_preflight;
    "J4" j4_reactivate_and_suspend_dry_run;
    "K1" k1_users_in_parallel_page_waves;
    "K2" k2_list_groups_linear_in_memberships;
    "K3" k3_rate_limit_budget_kept;
    "K4" k4_storm_on_one_tenant_spares_another;
}

/// A platform whose audit log forgets failed changes: the suite checks the platform it is
/// handed, so G2 must fail on it (and pass on the harness itself, above).
struct ForgetfulPlatform;

/// The harness's audit log, minus every record of a failed change.
struct ForgetfulLog(Box<dyn conformance::AuditLog>);

impl conformance::AuditLog for ForgetfulLog {
    fn record(
        &self,
        call: &conformance::AuditedCall,
        invocation: &lifecycle_host::Invocation<lifecycle_host::bindings::types::Outcome>,
    ) -> Result<Vec<conformance::AuditEntry>, String> {
        let kept = self.0.record(call, invocation)?;
        Ok(kept.into_iter().filter(|r| r.status != "failed").collect())
    }

    fn read(&self) -> Result<(Vec<conformance::AuditEntry>, String), String> {
        let (records, text) = self.0.read()?;
        Ok((
            records
                .into_iter()
                .filter(|r| r.status != "failed")
                .collect(),
            text,
        ))
    }
}

impl conformance::Platform for ForgetfulPlatform {
    fn open_audit_log(&self) -> Result<Box<dyn conformance::AuditLog>, String> {
        Ok(Box::new(ForgetfulLog(HarnessPlatform.open_audit_log()?)))
    }

    fn tenant_label(&self, tenant: &lifecycle_host::Tenant) -> String {
        HarnessPlatform.tenant_label(tenant)
    }

    fn show_outcome(
        &self,
        action: &str,
        outcome: &lifecycle_host::bindings::types::Outcome,
    ) -> String {
        HarnessPlatform.show_outcome(action, outcome)
    }

    fn show_health(
        &self,
        tenant: &str,
        report: &lifecycle_host::bindings::types::HealthReport,
    ) -> String {
        HarnessPlatform.show_health(tenant, report)
    }
}

#[tokio::test]
async fn g2_fails_on_a_platform_whose_audit_log_drops_failed_changes() {
    let result = conformance::g2_audit_records(connector(), &ForgetfulPlatform).await;
    let CaseResult::Fail { differences } = result else {
        panic!("G2 passed on an audit log without its failed changes");
    };
    let text: Vec<String> = differences.iter().map(ToString::to_string).collect();
    assert!(
        text.iter().any(|d| d.contains("records")),
        "G2 failed, but not on the records: {text:?}"
    );
}
