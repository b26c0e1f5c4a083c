//! Admin API v2 under `/admin/v2/orgs/{orgId}`: directories, user and group search, get group,
//! memberships with the synced-group rule, the existing-member and licence-limit 409s, cursors.

use super::http::{Reply, Req};
use super::state::{AccountStatus, Group, State};
use super::util;
use base64::Engine;
use serde_json::{Value, json};

/// An admin error body: `{"errors":[{id,status,code,title,detail}]}`.
pub(crate) fn error(st: &State, status: u16, code: &str, detail: &str) -> Reply {
    let s = if st.options.admin_error_status_as_string {
        json!(status.to_string())
    } else {
        json!(status)
    };
    Reply::json(
        status,
        json!({"errors": [{"id": util::trace_id(), "status": s, "code": code,
                           "title": super::http::reason(status), "detail": detail}]}),
    )
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

/// `(offset, limit)` from a cursor and a limit; a bad value is a 400.
pub(crate) fn paging(
    st: &State,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<(usize, usize), Reply> {
    let offset = match cursor {
        None | Some("") => 0,
        Some(c) => decode_cursor(c)
            .ok_or_else(|| error(st, 400, "ADMIN-400", "The cursor is invalid or expired"))?,
    };
    let limit = match limit {
        None => 20,
        Some(l) if (1..=100).contains(&l) => l as usize,
        Some(l) => {
            return Err(error(
                st,
                400,
                "ADMIN-400",
                &format!("limit must be between 1 and 100, got {l}"),
            ));
        }
    };
    Ok((offset, limit.min(st.options.admin_page_size.max(1))))
}

pub(crate) fn page<T: Clone>(items: &[T], offset: usize, limit: usize) -> (Vec<T>, Value) {
    let slice: Vec<T> = items.iter().skip(offset).take(limit).cloned().collect();
    let links = if offset.saturating_add(limit) < items.len() {
        json!({"next": encode_cursor(offset.saturating_add(limit))})
    } else {
        json!({})
    };
    (slice, links)
}

pub(crate) fn render_group(st: &State, g: &Group) -> Value {
    let synced = g.synced();
    json!({
        "id": g.admin_id, "name": g.name, "description": g.description,
        "directoryId": g.directory_id, "externalSynced": synced, "managedBy": g.managed_by,
        "managementAccess": {"modifiable": !synced, "deletable": !synced, "readable": true},
        "counts": {"users": st.admin_member_count(&g.admin_id)}
    })
}

fn render_user(st: &State, account_id: &str, expand_groups: bool) -> Value {
    let Some(a) = st.account(account_id) else {
        return Value::Null;
    };
    let status = match (a.status, a.suspended) {
        (AccountStatus::ForDeletion, _) => "for_deletion",
        (AccountStatus::Deactivated, _) => "deactivated",
        (AccountStatus::Active, true) => "suspended",
        (AccountStatus::Active, false) => "active",
    };
    let mut v = json!({
        "accountId": a.account_id, "email": a.email, "name": a.display_name,
        "status": status,
        "accountStatus": match a.status { AccountStatus::Active => "active", AccountStatus::Deactivated => "inactive", AccountStatus::ForDeletion => "closed" },
        "membershipStatus": if a.suspended { "suspended" } else { "active" },
        "managementSource": if st.scim_user_by_account(account_id).is_some() { "idp" } else { "org" },
    });
    if let Some(d) = &a.delete_after {
        v["deleteAfter"] = json!(d);
    }
    if expand_groups {
        v["groups"] = Value::Array(
            st.groups
                .iter()
                .filter(|g| st.admin_is_member(&g.admin_id, account_id))
                .map(|g| json!({"id": g.admin_id, "name": g.name}))
                .collect(),
        );
    }
    v
}

/// The request body as a JSON object (`{}` when empty); anything else is a 400.
pub(crate) fn body(st: &State, req: &Req) -> Result<Value, Reply> {
    match req.json() {
        Ok(Value::Null) => Ok(json!({})),
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(error(
            st,
            400,
            "ADMIN-400",
            "The body must be a JSON object",
        )),
        Err(e) => Err(error(st, 400, "ADMIN-400", &e)),
    }
}

fn strings(st: &State, v: &Value, key: &str) -> Result<Option<Vec<String>>, Reply> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    error(
                        st,
                        400,
                        "ADMIN-400",
                        &format!("{key} must be a list of strings"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(error(
            st,
            400,
            "ADMIN-400",
            &format!("{key} must be a list of strings"),
        )),
    }
}

/// Entry point for `/admin/v2/orgs/{orgId}/…` (auth and org already checked).
pub(crate) fn handle(st: &mut State, req: &Req) -> Reply {
    let r = route(st, req);
    st.admin_tick();
    r
}

fn route(st: &mut State, req: &Req) -> Reply {
    if let Some(r) = super::roles::route(st, req) {
        return r;
    }
    let rest: Vec<&str> = req.segs[4..].iter().map(String::as_str).collect();
    let m = req.method.as_str();
    if rest.first() != Some(&"directories") {
        return error(
            st,
            404,
            "ADMIN-404",
            &format!("No such resource: {}", req.path),
        );
    }
    if rest.len() == 1 {
        return match m {
            "GET" => Reply::json(
                200,
                json!({"data": [{"directoryId": st.dir_id, "name": st.dir_name}], "links": {}}),
            ),
            _ => error(st, 405, "ADMIN-405", "Method not allowed"),
        };
    }
    let dir = rest[1];
    let is_write = !matches!(m, "GET") && rest.last().is_none_or(|l| *l != "search");
    if dir == "-" && is_write {
        return error(
            st,
            400,
            "ADMIN-400",
            "Writes need the group's real directoryId, not '-'",
        );
    }
    if dir != "-" && dir != st.dir_id {
        return error(st, 404, "ADMIN-404", &format!("Directory {dir} not found"));
    }
    match (m, &rest[2..]) {
        ("POST", ["users", "search"]) => search_users(st, req),
        ("GET", ["users", acc]) => match st.account(acc) {
            Some(_) => Reply::json(200, json!({"data": render_user(st, acc, true)})),
            None => error(st, 404, "ADMIN-404", &format!("User {acc} not found")),
        },
        ("POST", ["users", acc, action @ ("suspend" | "restore")]) => {
            suspension(st, acc, *action == "suspend")
        }
        ("POST", ["groups", "search"]) => search_groups(st, req),
        ("GET", ["groups", gid]) => match st.group_by_admin_id(gid) {
            Some(g) => Reply::json(200, json!({"data": render_group(st, g)})),
            None => error(st, 404, "ADMIN-404", &format!("Group {gid} not found")),
        },
        ("POST", ["groups", gid, "memberships"]) => add_member(st, req, gid),
        ("DELETE", ["groups", gid, "memberships", acc]) => remove_member(st, gid, acc),
        (_, ["users" | "groups", ..]) => error(st, 405, "ADMIN-405", "Method not allowed"),
        _ => error(
            st,
            404,
            "ADMIN-404",
            &format!("No such resource: {}", req.path),
        ),
    }
}

/// v2 `suspend` / `restore` (§7.3): 400 for an org admin, 409 on a repeat when switched on,
/// otherwise the configured success answer.
fn suspension(st: &mut State, acc: &str, suspend: bool) -> Reply {
    let (reply, repeat_conflict) = (st.options.suspend_reply, st.options.suspend_repeat_conflict);
    let admins = st.options.org_admins.clone();
    let Some(a) = st.account_mut(acc) else {
        return error(
            st,
            404,
            "ADMIN-UAM-404-1",
            "One or more user not found in the directory",
        );
    };
    if suspend && admins.iter().any(|e| e.eq_ignore_ascii_case(&a.email)) {
        return error(
            st,
            400,
            "ADMIN-UAM-400",
            "An organization admin cannot be suspended",
        );
    }
    if a.suspended == suspend && repeat_conflict {
        return error(
            st,
            409,
            "ADMIN-UAM-409",
            "The user's access is already in that state",
        );
    }
    a.suspended = suspend;
    let (verb, email) = (
        if suspend { "suspended" } else { "restored" },
        a.email.clone(),
    );
    let org = st.org_id.clone();
    match reply {
        super::options::LifecycleReply::Message => Reply::json(
            200,
            json!({"message": format!("Access to organization {org} was {verb} for user {email}")}),
        ),
        super::options::LifecycleReply::NoContent => Reply::empty(204),
        super::options::LifecycleReply::EmptyOk => Reply::empty(200),
    }
}

fn search_users(st: &State, req: &Req) -> Reply {
    let b = match body(st, req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (emails, ids, expand) = match (
        strings(st, &b, "emails"),
        strings(st, &b, "accountIds"),
        strings(st, &b, "expand"),
    ) {
        (Ok(e), Ok(i), Ok(x)) => (e, i, x),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
    };
    let expand_groups = expand.is_some_and(|x| x.iter().any(|s| s == "groups"));
    let (offset, limit) = match paging(st, b["cursor"].as_str(), b["limit"].as_i64()) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let groups = match strings(st, &b, "groupIds") {
        Ok(g) => g,
        Err(r) => return r,
    };
    let candidates: Vec<usize> = match (&emails, &groups) {
        (None, Some(gids)) if ids.is_none() => match super::member_search::members_of(st, gids) {
            Ok(found) => found,
            Err(r) => return r,
        },
        _ => match &emails {
            Some(es) => {
                let mut found: Vec<usize> =
                    es.iter().flat_map(|e| st.accounts_by_email(e)).collect();
                found.sort_unstable();
                found.dedup();
                found
            }
            None => match &ids {
                Some(is) => {
                    let mut found: Vec<usize> =
                        is.iter().filter_map(|i| st.account_index(i)).collect();
                    found.sort_unstable();
                    found.dedup();
                    found
                }
                None => (0..st.accounts.len()).collect(),
            },
        },
    };
    let matching: Vec<String> = candidates
        .into_iter()
        .filter_map(|i| st.accounts.get(i))
        .filter(|a| {
            emails
                .as_ref()
                .is_none_or(|es| es.iter().any(|e| e.eq_ignore_ascii_case(&a.email)))
                && ids.as_ref().is_none_or(|is| is.contains(&a.account_id))
        })
        .map(|a| a.account_id.clone())
        .collect();
    let (slice, links) = page(&matching, offset, limit);
    let data: Vec<Value> = slice
        .iter()
        .map(|a| render_user(st, a, expand_groups))
        .collect();
    Reply::json(200, json!({"data": data, "links": links}))
}

fn search_groups(st: &State, req: &Req) -> Reply {
    let b = match body(st, req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let names = match strings(st, &b, "groupNames") {
        Ok(n) => n,
        Err(r) => return r,
    };
    let (offset, limit) = match paging(st, b["cursor"].as_str(), b["limit"].as_i64()) {
        Ok(p) => p,
        Err(r) => return r,
    };
    // Each name folded once, each group's name once: O(groups + names), not their product.
    let wanted: Option<std::collections::HashSet<String>> = names
        .as_ref()
        .map(|ns| ns.iter().map(|n| n.to_lowercase()).collect());
    let matching: Vec<&Group> = st
        .groups
        .iter()
        .filter(|g| {
            wanted
                .as_ref()
                .is_none_or(|w| w.contains(&g.name.to_lowercase()))
        })
        .collect();
    let (slice, links) = page(&matching, offset, limit);
    let data: Vec<Value> = slice.iter().map(|g| render_group(st, g)).collect();
    Reply::json(200, json!({"data": data, "links": links}))
}

fn writable_group(st: &State, gid: &str) -> Result<Group, Reply> {
    let Some(g) = st.group_by_admin_id(gid) else {
        return Err(error(
            st,
            404,
            "ADMIN-404",
            &format!("Group {gid} not found"),
        ));
    };
    if g.synced() {
        return Err(error(
            st,
            403,
            "ADMIN-UAM-403-1",
            "This group is synced from your identity provider: change its membership through SCIM",
        ));
    }
    Ok(g.clone())
}

fn add_member(st: &mut State, req: &Req, gid: &str) -> Reply {
    let b = match body(st, req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(acc) = b["accountId"].as_str().map(str::to_string) else {
        return error(st, 400, "ADMIN-400", "accountId is required");
    };
    let g = match writable_group(st, gid) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if st.account(&acc).is_none() {
        return error(st, 404, "ADMIN-404", &format!("User {acc} not found"));
    }
    let key = (g.admin_id.clone(), acc.clone());
    if st.members.contains(&key) {
        return if st.options.existing_member_conflict {
            error(
                st,
                409,
                "ADMIN-UAM-409-2",
                "The user is already a member of the group",
            )
        } else {
            Reply::empty(204)
        };
    }
    let seats = st
        .options
        .licence_limits
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(&g.name))
        .map(|(_, s)| *s);
    if let Some(seats) = seats
        && st.member_ids(&g.admin_id).len() >= seats
    {
        return error(
            st,
            409,
            "ADMIN-UAM-409-3",
            "Adding this user would exceed the product licence limit",
        );
    }
    st.members.insert(key);
    let i = st.group_admin_index(&g.admin_id);
    if let Some(gm) = i.and_then(|i| st.groups.get_mut(i)) {
        gm.modified = util::now_iso();
    }
    Reply::empty(204)
}

fn remove_member(st: &mut State, gid: &str, acc: &str) -> Reply {
    let g = match writable_group(st, gid) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if st.account(acc).is_none() {
        return error(st, 404, "ADMIN-404", &format!("User {acc} not found"));
    }
    st.members.remove(&(g.admin_id.clone(), acc.to_string()));
    Reply::empty(204)
}
