//! v2 `suspend` and `restore` of a user's access (`atlassian-api.md` §7.3): the only
//! reversible switch for accounts the SCIM directory does not manage, and what a rehire of a
//! suspended account needs.
//!
//! Requests: ONE `GET …/directories` (suspension is per directory, and the admin user object
//! does not say which directory holds the person), then ONE `send_all` of the `POST` (no body)
//! to every directory. A 404 in one directory means "not in this one"; 200 with or without a
//! body and 204 are success; a 409 is a repeat, checked with ONE `GET …/users/{accountId}`
//! before it counts as done; a 400 (an org admin) is a failed change.

use crate::config::AdminConfig;
use crate::error::ConnectorError;
use crate::model::{AccountId, Change, ChangeKind, ChangeStatus};
use crate::transport::Transport;
use crate::upstream::{self, Api};
use crate::{admin, wire};
use serde_json::Value;

use super::common::{admin_ctx, admin_get, admin_post_empty, send_batch};

/// The suspend (`suspend: true`) or restore change of `account`, whose current state is
/// `suspended`. `blocked` (why an earlier change failed) keeps the write for the next run.
pub(super) fn change(
    transport: &dyn Transport,
    a: &AdminConfig,
    account: &AccountId,
    suspend: bool,
    suspended: bool,
    dry_run: bool,
    blocked: Option<&str>,
) -> Change {
    let kind = if suspend {
        ChangeKind::SuspendUser
    } else {
        ChangeKind::RestoreUser
    };
    let status = if suspended == suspend {
        ChangeStatus::AlreadyDone
    } else if let Some(why) = blocked {
        ChangeStatus::Failed(ConnectorError::Other(format!(
            "not attempted: {why}; run the action again to finish"
        )))
    } else if dry_run {
        ChangeStatus::Planned
    } else {
        send(transport, a, account, suspend)
    };
    Change {
        kind,
        target: account.to_string(),
        before: Some(
            if suspended {
                "access suspended"
            } else {
                "access active"
            }
            .into(),
        ),
        after: Some(
            if suspend {
                "access suspended (v2); the account and its history kept"
            } else {
                "access restored (v2)"
            }
            .into(),
        ),
        status,
    }
}

fn send(
    transport: &dyn Transport,
    a: &AdminConfig,
    account: &AccountId,
    suspend: bool,
) -> ChangeStatus {
    let subject = format!("account `{account}`");
    let ctx = admin_ctx(&subject);
    // Read as a plain document: a typed page of directories would cost the component a
    // parser of its own for one field.
    let url = admin::directories_url(&a.api_url, &a.org_id);
    let dirs = match upstream::check(&ctx, transport.send(admin_get(url)))
        .and_then(|r| upstream::parse_json::<Value>(Api::Admin, &r))
    {
        Ok(v) => v,
        Err(e) => return ChangeStatus::Failed(e),
    };
    let mut writes = Vec::new();
    for d in wire::field_list(&dirs, "data") {
        if let Some(dir) = wire::field_string(d, "directoryId").filter(|i| !i.is_empty()) {
            let url = admin::suspension_url(&a.api_url, &a.org_id, &dir, account, suspend);
            writes.push(admin_post_empty(url));
        }
    }
    let directories = writes.len();
    let (mut done, mut failed) = (None, None);
    for answer in send_batch(transport, writes) {
        let next = match answer {
            Ok(r) if r.status == 409 => verify(transport, a, account, suspend, &ctx),
            other => match upstream::check(&ctx, other) {
                Ok(_) => ChangeStatus::Applied,
                // Not in this directory.
                Err(ConnectorError::NotFound(_)) => continue,
                Err(e) => ChangeStatus::Failed(e),
            },
        };
        match next {
            ChangeStatus::Failed(_) => failed = failed.or(Some(next)),
            ChangeStatus::Applied => done = Some(next),
            _ => done = done.or(Some(next)),
        }
    }
    failed.or(done).unwrap_or_else(|| {
        ChangeStatus::Failed(ConnectorError::NotFound(format!(
            "{subject} is in none of the organization's {directories} directories"
        )))
    })
}

/// A 409 is counted done only when a re-read shows the state it asked for.
fn verify(
    transport: &dyn Transport,
    a: &AdminConfig,
    account: &AccountId,
    suspend: bool,
    ctx: &upstream::Context<'_>,
) -> ChangeStatus {
    let url = admin::user_url(&a.api_url, &a.org_id, admin::ALL_DIRECTORIES, account);
    let user = upstream::check(ctx, transport.send(admin_get(url))).and_then(|r| {
        upstream::parse_json::<Value>(Api::Admin, &r)
            .map(|v| admin::User::from_value(v.get("data").unwrap_or(&v)))
    });
    match user {
        Ok(u) if u.is_suspended() == suspend => ChangeStatus::AlreadyDone,
        Ok(u) => ChangeStatus::Failed(ConnectorError::Conflict(format!(
            "the {} answered 409 but the account's status is still `{}`",
            if suspend { "suspend" } else { "restore" },
            u.membership_status.or(u.status).unwrap_or_default()
        ))),
        Err(e) => ChangeStatus::Failed(e),
    }
}
