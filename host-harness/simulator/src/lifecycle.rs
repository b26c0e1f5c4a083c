//! User-management lifecycle (`/users/{accountId}/manage/lifecycle/…`) and SCIM-link look-ups
//! (`/admin/user-provisioning/v1/org/{orgId}/user/{accountId}/get-scim-links`).

use super::http::{Reply, Req};
use super::options::LifecycleReply;
use super::state::{AccountStatus, State};
use super::util;
use serde_json::json;
use std::time::{Duration, SystemTime};

fn err(status: u16, key: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"key": key, "message": message, "traceId": util::trace_id()}),
    )
}

/// Entry point (auth already checked).
pub(crate) fn handle(st: &mut State, req: &Req) -> Reply {
    if let Some(r) = super::manage::route(st, req) {
        return r;
    }
    if let Some(r) = super::api_keys::route(st, req) {
        return r;
    }
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    match segs.as_slice() {
        [
            "admin",
            "user-provisioning",
            "v1",
            "org",
            _org,
            "user",
            acc,
            "get-scim-links",
        ] => {
            if req.method != "GET" {
                return err(405, "methodNotAllowed", "Method not allowed");
            }
            scim_links(st, acc)
        }
        ["users", acc, "manage", "lifecycle", action] => {
            if req.method != "POST" {
                return err(405, "methodNotAllowed", "Method not allowed");
            }
            if st.options.admin_key_scoped {
                return err(
                    403,
                    "forbidden",
                    "API keys with scopes cannot manage the user lifecycle",
                );
            }
            lifecycle(st, acc, action)
        }
        _ => err(404, "notFound", &format!("No such resource: {}", req.path)),
    }
}

fn scim_links(st: &State, acc: &str) -> Reply {
    if st.account(acc).is_none() {
        return err(404, "accountNotFound", &format!("Account {acc} not found"));
    }
    let links: Vec<_> = st
        .scim_user_by_account(acc)
        .map(|u| {
            json!({"scimUserId": u.id, "atlassianAccountId": acc, "orgId": st.org_id,
                   "directoryId": st.dir_id})
        })
        .into_iter()
        .collect();
    Reply::json(200, json!({"scimLinks": links}))
}

/// The success answer of `delete` and `cancel-delete`: 200 `{"message":…}` as documented,
/// or a [`LifecycleReply`] variant.
fn deletion_reply(reply: LifecycleReply, message: &str) -> Reply {
    match reply {
        LifecycleReply::Message => Reply::json(200, json!({ "message": message })),
        LifecycleReply::NoContent => Reply::empty(204),
        LifecycleReply::EmptyOk => Reply::empty(200),
    }
}

fn lifecycle(st: &mut State, acc: &str, action: &str) -> Reply {
    let grace = st.options.delete_grace_days;
    let reply = st.options.lifecycle_delete_reply;
    let Some(a) = st.account_mut(acc) else {
        return err(404, "accountNotFound", &format!("Account {acc} not found"));
    };
    match action {
        "disable" => {
            if a.status == AccountStatus::Active {
                a.status = AccountStatus::Deactivated;
            }
        }
        "enable" => match a.status {
            AccountStatus::ForDeletion => {
                return err(
                    409,
                    "accountPendingDeletion",
                    "The account is scheduled for deletion: cancel the deletion first",
                );
            }
            _ => a.status = AccountStatus::Active,
        },
        "delete" => {
            if a.status != AccountStatus::ForDeletion {
                a.status = AccountStatus::ForDeletion;
                a.delete_after = Some(util::iso_from(
                    SystemTime::now() + Duration::from_secs(grace * 86_400),
                ));
            }
            return deletion_reply(reply, "Success");
        }
        "cancel-delete" => {
            if a.status == AccountStatus::ForDeletion {
                a.status = AccountStatus::Deactivated;
                a.delete_after = None;
            }
            return deletion_reply(reply, "The deletion was cancelled");
        }
        other => {
            return err(
                404,
                "notFound",
                &format!("Unknown lifecycle action {other}"),
            );
        }
    }
    Reply::empty(204)
}
