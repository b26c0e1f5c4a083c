//! J. Accounts the organization may not purge (J3): `delete --purge-account` consults the
//! user-management preflight first; a refusal is explained with its reason key, and nothing
//! is written.

use crate::Subject;
use crate::c_relationships::{email, org_builder};
use crate::check::{Check, Step, start};
use crate::support::sim_tenant;
use lifecycle_host::bindings::types::DeleteOptions;

/// Purge where the preflight refuses `lifecycle.delete`: `forbidden` naming the reason key,
/// zero writes, the SCIM record and the account still there on re-read.
pub(crate) async fn j3(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    sim.configure(|o| o.lifecycle_forbidden_reason = Some("externalDirectory.scim".into()));
    let r = connector
        .delete_identity(
            &sim_tenant(&sim),
            &email("ada@example.com"),
            DeleteOptions {
                purge_account: true,
                dry_run: false,
            },
        )
        .await;
    c.error(
        "purge refused by the preflight",
        r.result,
        "forbidden",
        &["externalDirectory.scim", "lifecycle.delete"],
    )?;
    c.writes(&sim, 0);
    let ada = sim.user_by_email("ada@example.com");
    c.eq(
        "the SCIM record on re-read",
        true,
        ada.as_ref().is_some_and(|u| u.scim_id.is_some()),
    );
    c.eq("the account on re-read", Some(true), ada.map(|u| u.active));
    Ok(())
}
