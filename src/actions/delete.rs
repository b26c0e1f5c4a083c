//! `delete-identity`: SCIM `DELETE /Users/{id}` (the SCIM record and its SCIM memberships go,
//! Atlassian deactivates the managed account); with `purge-account`, then the
//! user-management lifecycle delete of the Atlassian account, which Atlassian carries out
//! after a 14-day grace period. Each is its own change, in that order.
//!
//! Requests: the user reads of one `send_all` (with `purge-account`, the admin users search
//! rides along for the account id and its status), then the SCIM `DELETE`, then
//! `POST {atlassian_api_url}/users/{accountId}/manage/lifecycle/delete`. An absent user is
//! `already-done` (a second delete writes nothing); so is an account already scheduled for
//! deletion, or one the lifecycle API answers 404 `accountNotFound` for.

use crate::config::{ADMIN_API_KEY, ConnectorConfig};
use crate::error::ConnectorError;
use crate::model::{Change, ChangeKind, ChangeStatus, Config, DeleteOptions, Outcome, UserRef};
use crate::transport::Transport;
use crate::upstream::{Api, Context};
use crate::{admin, scim};

use super::common::{admin_post, scim_ctx, scim_delete};
use super::deprovision::{guard, refuse_protected, settle};
use super::relationships::outcome;

/// Deletes `user`'s SCIM record and, with `purge-account`, their Atlassian account.
pub fn delete_identity(
    config: &Config,
    transport: &dyn Transport,
    user: &UserRef,
    options: DeleteOptions,
) -> Result<Outcome, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    if options.purge_account {
        cfg.require_admin()?;
    }
    let run = guard(&cfg, transport, user)?;
    let person = run.find(user, options.purge_account)?;
    refuse_protected(&cfg, &person)?;

    let scim_status = match &person.scim_id {
        None => ChangeStatus::AlreadyDone,
        Some(_) if options.dry_run => ChangeStatus::Planned,
        Some(id) => {
            let answer = transport.send(scim_delete(scim::user_url(&cfg.scim.url, id)));
            settle(&scim_ctx(id), answer, true)
        }
    };
    let scim_failed = matches!(scim_status, ChangeStatus::Failed(_));
    let mut changes = vec![Change {
        kind: ChangeKind::DeleteUser,
        target: person
            .scim_id
            .clone()
            .unwrap_or_else(|| ref_value(user).into()),
        before: person.scim_id.as_ref().map(|_| "SCIM record exists".into()),
        after: Some("SCIM record and its SCIM memberships deleted; account deactivated".into()),
        status: scim_status,
    }];

    if options.purge_account {
        let account = person.account_id.clone();
        let scheduled = person
            .admin_user
            .as_ref()
            .is_some_and(|u| u.status.as_deref() == Some("for_deletion"));
        let status = match &account {
            None if !person.found() => ChangeStatus::AlreadyDone,
            None => ChangeStatus::Failed(ConnectorError::NotFound(
                "the SCIM user is not linked to an Atlassian account (yet), so the account \
                 cannot be deleted; retry once Atlassian has linked it"
                    .into(),
            )),
            Some(_) if scheduled => ChangeStatus::AlreadyDone,
            Some(_) if scim_failed => ChangeStatus::Failed(ConnectorError::Other(
                "not attempted: the SCIM delete failed".into(),
            )),
            Some(_) if options.dry_run => ChangeStatus::Planned,
            Some(acc) => {
                let url = admin::lifecycle_url(&cfg.atlassian_api_url, acc, "delete");
                let answer = transport.send(admin_post(url, admin::LIFECYCLE_BODY.to_vec()));
                let ctx = Context {
                    api: Api::Lifecycle,
                    credential: ADMIN_API_KEY,
                    subject: acc,
                };
                settle(&ctx, answer, true)
            }
        };
        changes.push(Change {
            kind: ChangeKind::DeleteAccount,
            target: account.unwrap_or_default(),
            before: None,
            after: Some("deleted after Atlassian's 14-day grace period".into()),
            status,
        });
    }
    let found = person.found().then(|| person.resolved());
    Ok(outcome(found, changes))
}

fn ref_value(user: &UserRef) -> &str {
    match user {
        UserRef::Email(v) | UserRef::ScimId(v) | UserRef::AccountId(v) | UserRef::ExternalId(v) => {
            v
        }
    }
}
