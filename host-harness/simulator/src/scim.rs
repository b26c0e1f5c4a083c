//! SCIM 2.0 as Atlassian speaks it under `/scim/directory/{directoryId}`.

use super::http::{Reply, Req};
use super::scim_filter;
use super::scim_patch;
use super::scim_schema::{self as schema, Kind};
use super::state::{Account, AccountStatus, Group, ScimUser, State};
use super::util;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// A SCIM error body (`status` is a string).
pub(crate) fn error(status: u16, scim_type: Option<&str>, detail: &str) -> Reply {
    let mut v = json!({"schemas": [schema::ERROR], "status": status.to_string(), "detail": detail});
    if let Some(t) = scim_type {
        v["scimType"] = json!(t);
    }
    Reply::scim(status, v)
}

fn bad(inv: (&str, String)) -> Reply {
    error(400, Some(inv.0), &inv.1)
}

fn base(st: &State) -> String {
    format!("{}/scim/directory/{}", st.base_url, st.dir_id)
}

fn resource_type(st: &State, name: &str) -> String {
    if st.options.resource_type_upper {
        name.to_uppercase()
    } else {
        name.to_string()
    }
}

/// Entry point for every SCIM request (auth already checked).
pub(crate) fn handle(st: &mut State, req: &Req) -> Reply {
    if req.segs[2] != st.dir_id {
        return error(404, None, &format!("Directory {} not found", req.segs[2]));
    }
    let rest: Vec<&str> = req.segs[3..].iter().map(String::as_str).collect();
    let m = req.method.as_str();
    let b = base(st);
    let adv = st.options.advertise_atlassian_extension;
    match (m, rest.as_slice()) {
        ("GET", ["ServiceProviderConfig"]) => Reply::scim(
            200,
            schema::service_provider_config(&b, st.options.scim_page_size),
        ),
        ("GET", ["Schemas"]) => list_all(schema::schemas(&b, adv)),
        ("GET", ["Schemas", id]) => one_of(schema::schemas(&b, adv), id),
        ("GET", ["ResourceTypes"]) => list_all(schema::resource_types(&b, adv)),
        ("GET", ["ResourceTypes", id]) => one_of(schema::resource_types(&b, adv), id),
        ("GET", ["Users"]) => list_users(st, req),
        ("POST", ["Users"]) => create_user(st, req),
        ("GET", ["Users", id]) => get_user(st, req, id),
        ("PUT", ["Users", id]) => put_user(st, req, id),
        ("PATCH", ["Users", id]) => patch_user(st, req, id),
        ("DELETE", ["Users", id]) => delete_user(st, id),
        ("GET", ["Groups"]) => list_groups(st, req),
        ("POST", ["Groups"]) => create_group(st, req),
        ("GET", ["Groups", id]) => get_group(st, req, id),
        ("PUT", ["Groups", id]) => put_group(st, req, id),
        ("PATCH", ["Groups", id]) => patch_group(st, req, id),
        ("DELETE", ["Groups", id]) => delete_group(st, id),
        (_, ["Bulk"]) => error(501, None, "Bulk operations are not supported"),
        (_, [_, ".search"]) | (_, [".search"]) => error(501, None, "POST .search is not supported"),
        (
            _,
            [
                "ServiceProviderConfig" | "Schemas" | "ResourceTypes" | "Users" | "Groups",
                ..,
            ],
        ) => error(405, None, &format!("Method {m} is not allowed here")),
        _ => error(404, None, &format!("Endpoint {} not found", req.path)),
    }
}

fn list_response(resources: Vec<Value>, total: usize, start: usize) -> Reply {
    list_reply(&resources, total, start)
}

/// The one writer of a SCIM list response, its resources serialized straight into the body
/// (keys in the sorted order a `serde_json::Map` would give them).
fn list_reply<T: serde::Serialize>(resources: &[T], total: usize, start: usize) -> Reply {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ListJson<'a, T> {
        #[serde(rename = "Resources")]
        resources: &'a [T],
        items_per_page: usize,
        schemas: [&'a str; 1],
        start_index: usize,
        total_results: usize,
    }
    let list = ListJson {
        resources,
        items_per_page: resources.len(),
        schemas: [schema::LIST],
        start_index: start,
        total_results: total,
    };
    Reply::scim_body(200, serde_json::to_vec(&list).unwrap_or_default())
}

fn list_all(items: Vec<Value>) -> Reply {
    let n = items.len();
    list_response(items, n, 1)
}

fn one_of(items: Vec<Value>, id: &str) -> Reply {
    match items.into_iter().find(|i| i["id"].as_str() == Some(id)) {
        Some(v) => Reply::scim(200, v),
        None => error(404, None, &format!("{id} not found")),
    }
}

/// `(startIndex, count)` with Atlassian's server page size cap.
fn paging(st: &State, req: &Req) -> Result<(usize, usize), Reply> {
    let start = req
        .q_num("startIndex")
        .map_err(|e| error(400, Some("invalidValue"), &e))?
        .unwrap_or(1)
        .max(1) as usize;
    let page = st.options.scim_page_size.max(1);
    let count = req
        .q_num("count")
        .map_err(|e| error(400, Some("invalidValue"), &e))?
        .map(|c| c.max(0) as usize)
        .unwrap_or(page)
        .min(page);
    Ok((start, count))
}

/// A request's `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5), read once per
/// request: which top-level attributes a resource keeps (`id` and `schemas` always). The
/// renderers ask it before building an attribute, so what is left out costs nothing.
struct Projection {
    /// `attributes`: only these (a sub-attribute or an extension's attribute keeps its
    /// parent whole).
    only: Option<Vec<String>>,
    /// `excludedAttributes` (ignored when `attributes` is given).
    without: Vec<String>,
}

impl Projection {
    /// Every attribute: what a write answers with.
    const ALL: Projection = Projection {
        only: None,
        without: Vec::new(),
    };

    /// The projection `req` asks for.
    fn of(req: &Req) -> Projection {
        let split = |s: &str| -> Vec<String> {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        };
        match req.q("attributes") {
            Some(a) => Projection {
                only: Some(split(a)),
                without: Vec::new(),
            },
            None => Projection {
                only: None,
                without: req.q("excludedAttributes").map(split).unwrap_or_default(),
            },
        }
    }

    /// Whether the top-level attribute `k` is returned.
    fn keeps(&self, k: &str) -> bool {
        if k == "id" || k == "schemas" {
            return true;
        }
        match &self.only {
            Some(wanted) => wanted.iter().any(|w| {
                let top = w.rsplit_once(':').map(|(_, a)| a).unwrap_or(w);
                let top = top.split('.').next().unwrap_or(top);
                w.eq_ignore_ascii_case(k) || top.eq_ignore_ascii_case(k)
            }),
            None => !self.without.iter().any(|w| w.eq_ignore_ascii_case(k)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Users

fn user_index(st: &State, id: &str) -> Option<usize> {
    st.scim_user_index(id)
}

fn render_user(st: &State, u: &ScimUser, keep: &Projection) -> Value {
    serde_json::to_value(UserJson { st, u, keep }).unwrap_or(Value::Null)
}

/// A user resource as SCIM renders it, written straight from the state: a listing page of
/// 100 users costs no copy of their attributes and no tree of them. The attributes come in
/// the order a `serde_json::Map` keeps (sorted), so a resource reads the same whether it is
/// rendered alone ([`render_user`]) or in a page.
struct UserJson<'a> {
    st: &'a State,
    u: &'a ScimUser,
    keep: &'a Projection,
}

/// One top-level attribute of a [`UserJson`].
enum UserField<'a> {
    Schemas,
    Id,
    Attr(&'a Value),
    Active,
    Groups,
    Meta,
    Atlassian,
}

impl serde::Serialize for UserJson<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let (st, u, keep) = (self.st, self.u, self.keep);
        let mut fields: Vec<(&str, UserField)> = vec![("schemas", UserField::Schemas)];
        fields.push(("id", UserField::Id));
        for (k, v) in u.attrs.iter().filter(|(k, _)| keep.keeps(k)) {
            fields.push((k, UserField::Attr(v)));
        }
        if keep.keeps("active") {
            fields.push(("active", UserField::Active));
        }
        if !st.options.scim_omits_user_groups && keep.keeps("groups") {
            fields.push(("groups", UserField::Groups));
        }
        if keep.keeps("meta") {
            fields.push(("meta", UserField::Meta));
        }
        if u.pending_reads == 0 && keep.keeps(schema::ATLASSIAN) {
            fields.push((schema::ATLASSIAN, UserField::Atlassian));
        }
        // A later entry of the same name replaces an earlier one, as in a map.
        fields.sort_by(|a, b| a.0.cmp(b.0));
        fields.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
        let mut map = ser.serialize_map(Some(fields.len()))?;
        for (k, field) in &fields {
            match field {
                UserField::Schemas => {
                    let mut schemas = vec![schema::CORE_USER];
                    if u.attrs.contains_key(schema::ENTERPRISE) {
                        schemas.push(schema::ENTERPRISE);
                    }
                    if u.pending_reads == 0 {
                        schemas.push(schema::ATLASSIAN);
                    }
                    map.serialize_entry(k, &schemas)?;
                }
                UserField::Id => map.serialize_entry(k, &u.id)?,
                UserField::Attr(v) => map.serialize_entry(k, v)?,
                UserField::Active => map.serialize_entry(k, &st.is_active(&u.account_id))?,
                UserField::Groups => {
                    let groups: Vec<Value> = st
                        .groups_of(&u.account_id)
                        .into_iter()
                        .filter_map(|g| {
                            g.scim_id.as_ref().map(|sid| {
                                json!({"value": sid, "display": g.name, "type": "direct",
                                       "$ref": format!("{}/Groups/{sid}", base(st))})
                            })
                        })
                        .collect();
                    map.serialize_entry(k, &groups)?;
                }
                UserField::Meta => map.serialize_entry(
                    k,
                    &json!({"resourceType": resource_type(st, "User"), "created": u.created,
                            "lastModified": u.modified,
                            "location": format!("{}/Users/{}", base(st), u.id)}),
                )?,
                UserField::Atlassian => {
                    map.serialize_entry(k, &json!({"atlassianAccountId": u.account_id}))?;
                }
            }
        }
        map.end()
    }
}

/// Renders and counts one read against the `account_id_pending` quirk.
fn read_user(st: &mut State, i: usize, keep: &Projection) -> Value {
    let v = render_user(st, &st.scim_users[i], keep);
    count_read(&mut st.scim_users[i]);
    v
}

/// One read of `u` against the `account_id_pending` quirk.
fn count_read(u: &mut ScimUser) {
    if u.pending_reads != u32::MAX {
        u.pending_reads = u.pending_reads.saturating_sub(1);
    }
}

fn list_users(st: &mut State, req: &Req) -> Reply {
    let filter = match req.q("filter") {
        None => None,
        Some(f) => match scim_filter::parse(f, &["userName", "externalId"], schema::CORE_USER) {
            Ok(f) => Some(f),
            Err(e) => return error(400, Some("invalidFilter"), &e),
        },
    };
    let (start, count) = match paging(st, req) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (page, total) = match &filter {
        // No filter: the page is a range of the users, whatever the directory's size.
        None => {
            let total = st.scim_users.len();
            let first = (start - 1).min(total);
            let page: Vec<usize> = (first..first.saturating_add(count).min(total)).collect();
            (page, total)
        }
        Some(f) => {
            let wanted = f.value.to_lowercase();
            let candidates: Vec<usize> = if f.attr == "userName" {
                st.scim_users_by_name(&f.value)
            } else {
                (0..st.scim_users.len()).collect()
            };
            let matching: Vec<usize> = candidates
                .into_iter()
                .filter(|i| {
                    let u = &st.scim_users[*i];
                    if f.attr == "userName" {
                        u.attrs["userName"]
                            .as_str()
                            .is_some_and(|n| same_lowercase(n, &wanted))
                    } else {
                        u.attrs.get("externalId").and_then(Value::as_str) == Some(f.value.as_str())
                    }
                })
                .collect();
            let total = matching.len();
            (
                matching.into_iter().skip(start - 1).take(count).collect(),
                total,
            )
        }
    };
    let keep = Projection::of(req);
    let reply = {
        let resources: Vec<UserJson> = page
            .iter()
            .map(|&i| UserJson {
                st,
                u: &st.scim_users[i],
                keep: &keep,
            })
            .collect();
        list_reply(&resources, total, start)
    };
    for i in page {
        count_read(&mut st.scim_users[i]);
    }
    reply
}

/// `name.to_lowercase() == lowered`, without allocating for the ASCII names a filter scan
/// over every user mostly meets.
fn same_lowercase(name: &str, lowered: &str) -> bool {
    if name.is_ascii() && lowered.is_ascii() {
        name.eq_ignore_ascii_case(lowered)
    } else {
        name.to_lowercase() == lowered
    }
}

fn get_user(st: &mut State, req: &Req, id: &str) -> Reply {
    match user_index(st, id) {
        Some(i) => {
            let keep = Projection::of(req);
            Reply::scim(200, read_user(st, i, &keep))
        }
        None => error(404, None, &format!("User {id} not found")),
    }
}

fn body_object(req: &Req) -> Result<Map<String, Value>, Reply> {
    match req.json() {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(error(
            400,
            Some("invalidSyntax"),
            "the body must be a JSON object",
        )),
        Err(e) => Err(error(400, Some("invalidSyntax"), &e)),
    }
}

fn primary_email(attrs: &Map<String, Value>) -> Option<String> {
    let emails = attrs.get("emails")?.as_array()?;
    emails
        .iter()
        .find(|e| e["primary"] == true)
        .or_else(|| emails.first())
        .and_then(|e| e["value"].as_str())
        .map(str::to_string)
}

/// Checks a sanitized user document: required attributes, active type, domains, uniqueness.
fn validate_user(
    st: &State,
    attrs: &Map<String, Value>,
    own_id: Option<&str>,
) -> Result<(), Reply> {
    let Some(user_name) = attrs.get("userName").and_then(Value::as_str) else {
        return Err(error(400, Some("invalidValue"), "userName is required"));
    };
    if user_name.trim().is_empty() {
        return Err(error(
            400,
            Some("invalidValue"),
            "userName must not be empty",
        ));
    }
    if !st.options.verified_domains.is_empty() {
        let mut addrs = vec![user_name.to_string()];
        if let Some(e) = attrs.get("emails").and_then(Value::as_array) {
            addrs.extend(
                e.iter()
                    .filter_map(|x| x["value"].as_str().map(str::to_string)),
            );
        }
        for a in addrs.iter().filter(|a| a.contains('@')) {
            let domain = a.rsplit('@').next().unwrap_or_default();
            if !st
                .options
                .verified_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain))
            {
                return Err(error(
                    400,
                    Some("invalidValue"),
                    &format!("The email domain {domain} is not verified for this organization"),
                ));
            }
        }
    }
    let clash = st.scim_users_by_name(user_name).into_iter().any(|i| {
        let u = &st.scim_users[i];
        Some(u.id.as_str()) != own_id
            && u.attrs["userName"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(user_name))
    });
    if clash {
        return Err(error(
            409,
            Some("uniqueness"),
            &format!("A user with userName {user_name} already exists in this directory"),
        ));
    }
    Ok(())
}

/// Splits `active` out of a sanitized document.
fn take_active(attrs: &mut Map<String, Value>) -> Option<bool> {
    attrs.remove("active").and_then(|v| v.as_bool())
}

fn sync_account(
    st: &mut State,
    account_id: &str,
    attrs: &Map<String, Value>,
    active: Option<bool>,
) {
    let email = primary_email(attrs).or_else(|| attrs["userName"].as_str().map(str::to_string));
    let display = attrs
        .get("displayName")
        .and_then(Value::as_str)
        .or_else(|| attrs.get("name").and_then(|n| n["formatted"].as_str()))
        .map(str::to_string);
    if let Some(e) = email {
        st.set_account_email(account_id, e);
    }
    let mut deactivated = false;
    if let Some(a) = st.account_mut(account_id) {
        if let Some(d) = display {
            a.display_name = d;
        }
        match active {
            Some(true) if a.status == AccountStatus::Deactivated => {
                a.status = AccountStatus::Active
            }
            Some(false) if a.status == AccountStatus::Active => {
                a.status = AccountStatus::Deactivated;
                deactivated = true;
            }
            _ => {}
        }
    }
    if deactivated && !st.options.keep_groups_on_deactivate {
        st.drop_memberships(account_id);
    }
}

fn created_reply(v: Value, location: String) -> Reply {
    Reply::scim(201, v).header("Location", location)
}

fn create_user(st: &mut State, req: &Req) -> Reply {
    let input = match body_object(req) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let mut attrs = match schema::sanitize(Kind::User, &input) {
        Ok(a) => a,
        Err(e) => return bad(e),
    };
    let active = take_active(&mut attrs);
    if let Err(r) = validate_user(st, &attrs, None) {
        return r;
    }
    let email = primary_email(&attrs)
        .unwrap_or_else(|| attrs["userName"].as_str().unwrap_or_default().to_string());
    // An account with that email and no SCIM record is linked, not duplicated.
    let existing = st
        .account_by_email(&email)
        .filter(|a| st.scim_user_by_account(&a.account_id).is_none())
        .map(|a| a.account_id.clone());
    let account_id = match existing {
        Some(id) => {
            if let Some(a) = st.account_mut(&id)
                && a.status == AccountStatus::Deactivated
            {
                a.status = AccountStatus::Active;
            }
            id
        }
        None => {
            let id = util::account_id();
            st.push_account(Account {
                account_id: id.clone(),
                email: email.clone(),
                display_name: email.clone(),
                status: AccountStatus::Active,
                suspended: false,
                delete_after: None,
            });
            id
        }
    };
    let now = util::now_iso();
    let user = ScimUser {
        id: util::uuid(),
        account_id: account_id.clone(),
        attrs,
        created: now.clone(),
        modified: now,
        pending_reads: st.options.account_id_pending_reads,
    };
    let attrs = user.attrs.clone();
    st.push_scim_user(user);
    sync_account(st, &account_id, &attrs, Some(active.unwrap_or(true)));
    let i = st.scim_users.len() - 1;
    let v = read_user(st, i, &Projection::ALL);
    let loc = format!("{}/Users/{}", base(st), st.scim_users[i].id);
    created_reply(v, loc)
}

fn put_user(st: &mut State, req: &Req, id: &str) -> Reply {
    let Some(i) = user_index(st, id) else {
        return error(404, None, &format!("User {id} not found"));
    };
    let input = match body_object(req) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let mut attrs = match schema::sanitize(Kind::User, &input) {
        Ok(a) => a,
        Err(e) => return bad(e),
    };
    let active = take_active(&mut attrs);
    if let Err(r) = validate_user(st, &attrs, Some(id)) {
        return r;
    }
    commit_user(st, i, attrs, active)
}

fn commit_user(st: &mut State, i: usize, attrs: Map<String, Value>, active: Option<bool>) -> Reply {
    let account_id = st.scim_users[i].account_id.clone();
    st.set_scim_attrs(i, attrs.clone());
    st.scim_users[i].modified = util::now_iso();
    sync_account(st, &account_id, &attrs, active);
    let v = read_user(st, i, &Projection::ALL);
    Reply::scim(200, v)
}

fn patch_user(st: &mut State, req: &Req, id: &str) -> Reply {
    let Some(i) = user_index(st, id) else {
        return error(404, None, &format!("User {id} not found"));
    };
    let body = match req.json() {
        Ok(v) => v,
        Err(e) => return error(400, Some("invalidSyntax"), &e),
    };
    let mut doc = st.scim_users[i].attrs.clone();
    doc.insert(
        "active".into(),
        json!(st.is_active(&st.scim_users[i].account_id)),
    );
    if let Err(e) = scim_patch::apply(Kind::User, &mut doc, &body) {
        return bad(e);
    }
    let mut attrs = match schema::sanitize(Kind::User, &doc) {
        Ok(a) => a,
        Err(e) => return bad(e),
    };
    let active = take_active(&mut attrs);
    if let Err(r) = validate_user(st, &attrs, Some(id)) {
        return r;
    }
    commit_user(st, i, attrs, active)
}

fn delete_user(st: &mut State, id: &str) -> Reply {
    let Some(i) = user_index(st, id) else {
        return error(404, None, &format!("User {id} not found"));
    };
    let account_id = st.scim_users[i].account_id.clone();
    if let Some(a) = st.account_mut(&account_id)
        && a.status == AccountStatus::Active
    {
        a.status = AccountStatus::Deactivated;
    }
    if !st.options.delete_deactivates_only {
        st.remove_scim_user(i);
        let synced: BTreeSet<String> = st
            .groups
            .iter()
            .filter(|g| g.scim_id.is_some())
            .map(|g| g.admin_id.clone())
            .collect();
        for g in synced {
            st.scim_set_member(&g, &account_id, false);
        }
    }
    Reply::empty(204)
}

// ---------------------------------------------------------------------------------------------
// Groups

fn group_index(st: &State, scim_id: &str) -> Option<usize> {
    st.scim_group_index(scim_id)
}

fn render_group(st: &State, g: &Group, keep: &Projection) -> Value {
    serde_json::to_value(GroupJson { st, g, keep }).unwrap_or(Value::Null)
}

/// A group resource as SCIM renders it, written straight from the state: a synced group of
/// 35,000 members costs no tree of them first (a map and a formatted `$ref` each, built on
/// the simulator's one thread while every other request waits). Keys in sorted order, as
/// a `serde_json::Map` keeps them, whether rendered alone ([`render_group`]) or in a page.
struct GroupJson<'a> {
    st: &'a State,
    g: &'a Group,
    keep: &'a Projection,
}

/// One `members` entry of a [`GroupJson`].
struct MemberJson<'a> {
    base: &'a str,
    id: &'a str,
    display: &'a Value,
}

impl serde::Serialize for MemberJson<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = ser.serialize_map(Some(4))?;
        map.serialize_entry("$ref", &format_args!("{}/Users/{}", self.base, self.id))?;
        map.serialize_entry("display", self.display)?;
        map.serialize_entry("type", "User")?;
        map.serialize_entry("value", self.id)?;
        map.end()
    }
}

impl serde::Serialize for GroupJson<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap as _, SerializeSeq as _};
        let (st, g, keep) = (self.st, self.g, self.keep);
        let sid = g.scim_id.as_deref().unwrap_or_default();
        let base = base(st);
        let members: Vec<&ScimUser> = if keep.keeps("members") {
            st.member_ids(&g.admin_id)
                .iter()
                .filter_map(|a| st.scim_user_by_account(a))
                .collect()
        } else {
            Vec::new()
        };
        let mut map = ser.serialize_map(None)?;
        if keep.keeps("displayName") {
            map.serialize_entry("displayName", &g.name)?;
        }
        if let Some(x) = g.external_id.as_ref().filter(|_| keep.keeps("externalId")) {
            map.serialize_entry("externalId", x)?;
        }
        map.serialize_entry("id", sid)?;
        if !members.is_empty() {
            struct Members<'b>(&'b str, &'b [&'b ScimUser]);
            impl serde::Serialize for Members<'_> {
                fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                    let mut seq = ser.serialize_seq(Some(self.1.len()))?;
                    for u in self.1 {
                        seq.serialize_element(&MemberJson {
                            base: self.0,
                            id: &u.id,
                            display: u.attrs.get("userName").unwrap_or(&Value::Null),
                        })?;
                    }
                    seq.end()
                }
            }
            map.serialize_entry("members", &Members(&base, &members))?;
        }
        if keep.keeps("meta") {
            map.serialize_entry(
                "meta",
                &json!({"resourceType": resource_type(st, "Group"), "created": g.created,
                        "lastModified": g.modified, "location": format!("{base}/Groups/{sid}")}),
            )?;
        }
        map.serialize_entry("schemas", &[schema::CORE_GROUP])?;
        map.end()
    }
}

fn list_groups(st: &mut State, req: &Req) -> Reply {
    let filter = match req.q("filter") {
        None => None,
        Some(f) => match scim_filter::parse(f, &["displayName"], schema::CORE_GROUP) {
            Ok(f) => Some(f),
            Err(e) => return error(400, Some("invalidFilter"), &e),
        },
    };
    let (start, count) = match paging(st, req) {
        Ok(p) => p,
        Err(r) => return r,
    };
    // A `displayName eq` filter names one group (names are unique in a directory): found
    // through a checked position hint, not a scan that folds every group's name.
    let matching: Vec<&Group> = match &filter {
        Some(f) => st
            .scim_group_by_name(&f.value)
            .and_then(|i| st.groups.get(i))
            .into_iter()
            .collect(),
        None => st.groups.iter().filter(|g| g.scim_id.is_some()).collect(),
    };
    let total = matching.len();
    let keep = Projection::of(req);
    let resources: Vec<GroupJson> = matching
        .into_iter()
        .skip(start - 1)
        .take(count)
        .map(|g| GroupJson { st, g, keep: &keep })
        .collect();
    list_reply(&resources, total, start)
}

/// The group a write answers with, projected like a read (RFC 7644 §3.5.2).
fn group_reply(st: &State, req: &Req, i: usize) -> Reply {
    let keep = Projection::of(req);
    Reply::scim(200, render_group(st, &st.groups[i], &keep))
}

fn get_group(st: &mut State, req: &Req, id: &str) -> Reply {
    match group_index(st, id) {
        Some(i) => group_reply(st, req, i),
        None => error(404, None, &format!("Group {id} not found")),
    }
}

/// Account ids for sanitized `members`, or a 400 naming an unknown member.
fn member_accounts(st: &State, attrs: &Map<String, Value>) -> Result<BTreeSet<String>, Reply> {
    let mut out = BTreeSet::new();
    for m in attrs
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(v) = m["value"].as_str() else {
            return Err(error(400, Some("invalidValue"), "a member needs a value"));
        };
        match st.scim_user(v) {
            Some(u) => {
                out.insert(u.account_id.clone());
            }
            None => {
                return Err(error(
                    400,
                    Some("invalidValue"),
                    &format!("member {v} is not a user of this directory"),
                ));
            }
        }
    }
    Ok(out)
}

fn group_name_taken(st: &State, name: &str, own_admin_id: Option<&str>) -> bool {
    st.groups
        .iter()
        .any(|g| Some(g.admin_id.as_str()) != own_admin_id && g.name.eq_ignore_ascii_case(name))
}

fn create_group(st: &mut State, req: &Req) -> Reply {
    let input = match body_object(req) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let attrs = match schema::sanitize(Kind::Group, &input) {
        Ok(a) => a,
        Err(e) => return bad(e),
    };
    let Some(name) = attrs
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return error(400, Some("invalidValue"), "displayName is required");
    };
    if group_name_taken(st, &name, None) {
        return error(
            409,
            Some("uniqueness"),
            &format!("A group named {name} already exists"),
        );
    }
    let members = match member_accounts(st, &attrs) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let admin_id = st.seed_group(&name, true, "");
    let i = st.groups.len() - 1;
    st.groups[i].external_id = attrs
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_string);
    for a in members {
        st.scim_set_member(&admin_id, &a, true);
    }
    let v = render_group(st, &st.groups[i], &Projection::ALL);
    let loc = format!(
        "{}/Groups/{}",
        base(st),
        st.groups[i].scim_id.clone().unwrap_or_default()
    );
    created_reply(v, loc)
}

fn group_doc(st: &State, g: &Group) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("displayName".into(), json!(g.name));
    if let Some(x) = &g.external_id {
        doc.insert("externalId".into(), json!(x));
    }
    let members: Vec<Value> = st
        .member_ids(&g.admin_id)
        .iter()
        .filter_map(|a| st.scim_user_by_account(a))
        .map(|u| json!({"value": u.id}))
        .collect();
    if !members.is_empty() {
        doc.insert("members".into(), Value::Array(members));
    }
    doc
}

fn commit_group(st: &mut State, req: &Req, i: usize, attrs: Map<String, Value>) -> Reply {
    let Some(name) = attrs
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return error(400, Some("invalidValue"), "displayName is required");
    };
    if name != st.groups[i].name {
        return error(400, Some("mutability"), "Renaming a group is not supported");
    }
    let new_members = match member_accounts(st, &attrs) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let admin_id = st.groups[i].admin_id.clone();
    // Only members with a SCIM record are managed through SCIM.
    let old: Vec<String> = st
        .member_ids(&admin_id)
        .into_iter()
        .filter(|a| st.scim_user_by_account(a).is_some())
        .collect();
    for a in old.iter().filter(|a| !new_members.contains(*a)) {
        st.scim_set_member(&admin_id, a, false);
    }
    for a in new_members {
        st.scim_set_member(&admin_id, &a, true);
    }
    st.groups[i].external_id = attrs
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_string);
    st.groups[i].modified = util::now_iso();
    group_reply(st, req, i)
}

fn put_group(st: &mut State, req: &Req, id: &str) -> Reply {
    let Some(i) = group_index(st, id) else {
        return error(404, None, &format!("Group {id} not found"));
    };
    let input = match body_object(req) {
        Ok(m) => m,
        Err(r) => return r,
    };
    match schema::sanitize(Kind::Group, &input) {
        Ok(a) => commit_group(st, req, i, a),
        Err(e) => bad(e),
    }
}

fn patch_group(st: &mut State, req: &Req, id: &str) -> Reply {
    let Some(i) = group_index(st, id) else {
        return error(404, None, &format!("Group {id} not found"));
    };
    let body = match req.json() {
        Ok(v) => v,
        Err(e) => return error(400, Some("invalidSyntax"), &e),
    };
    if let Some(changes) = membership_only(st, &body) {
        let admin_id = st.groups[i].admin_id.clone();
        for (account, member) in changes {
            st.scim_set_member(&admin_id, &account, member);
        }
        st.groups[i].modified = util::now_iso();
        return group_reply(st, req, i);
    }
    let mut doc = group_doc(st, &st.groups[i]);
    if let Err(e) = scim_patch::apply(Kind::Group, &mut doc, &body) {
        return bad(e);
    }
    match schema::sanitize(Kind::Group, &doc) {
        Ok(a) => commit_group(st, req, i, a),
        Err(e) => bad(e),
    }
}

/// The membership changes of a PatchOp made only of member additions
/// (`add` `members` with `[{"value": id}]`) and filtered removals
/// (`remove` `members[value eq "id"]`), as `(account id, member)`: what the general path
/// would do, without rebuilding a group of thousands of members for each change. `None`
/// for anything else, including every error case, which the general path then reports.
fn membership_only(st: &State, body: &Value) -> Option<Vec<(String, bool)>> {
    let b = body.as_object()?;
    let schemas_ok = b.get("schemas").is_none_or(|s| {
        s.as_array()
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(schema::PATCH_OP)))
    });
    if !schemas_ok || b.keys().any(|k| k != "schemas" && k != "Operations") {
        return None;
    }
    let mut changes = Vec::new();
    for o in b.get("Operations")?.as_array()? {
        let o = o.as_object()?;
        if o.keys()
            .any(|k| !["op", "path", "value"].contains(&k.as_str()))
        {
            return None;
        }
        let op = o.get("op")?.as_str()?.to_ascii_lowercase();
        let path = o.get("path")?.as_str()?;
        match (op.as_str(), o.get("value")) {
            ("add", Some(Value::Array(values))) if path == "members" => {
                for v in values {
                    let v = v.as_object()?;
                    if v.keys().any(|k| k != "value") {
                        return None;
                    }
                    let user = st.scim_user(v.get("value")?.as_str()?)?;
                    changes.push((user.account_id.clone(), true));
                }
            }
            ("remove", None) => {
                let id = path
                    .strip_prefix("members[value eq \"")?
                    .strip_suffix("\"]")?;
                if id.contains(['"', '\\']) {
                    return None;
                }
                // A filter that matches no member removes nothing, as on the general path.
                if let Some(user) = st.scim_user(id) {
                    changes.push((user.account_id.clone(), false));
                }
            }
            _ => return None,
        }
    }
    Some(changes)
}

fn delete_group(st: &mut State, id: &str) -> Reply {
    let Some(i) = group_index(st, id) else {
        return error(404, None, &format!("Group {id} not found"));
    };
    let g = st.groups.remove(i);
    st.members.remove_group(&g.admin_id);
    Reply::empty(204)
}
