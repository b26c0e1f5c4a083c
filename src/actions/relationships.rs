//! `manage-relationships`: add and remove group memberships, groups named by display name,
//! and product roles (planned and applied by [`super::roles`]).
//!
//! Flow, in round trips on the critical path:
//! 1. ONE `send_all` of every independent read: the user (SCIM look-up by email or external
//!    id, `GET /Users/{id}`, or for an account id the admin users search plus the SCIM-link
//!    look-up), one SCIM `GET /Groups?filter=displayName eq "…"` per name (without members,
//!    see below), and, when the
//!    admin API is configured, ONE admin groups search with every name and the admin users
//!    search (`expand:["groups"]`) when the user is named by email or account id.
//! 2. ONE `send_all` of every write (SCIM `PATCH /Groups/{id}` and admin memberships).
//!
//! A user named by SCIM id or external id has no email or account id to search the admin
//! API with until the SCIM record is read, so when an admin-managed group is involved its
//! admin user search is one more round trip between the two. A dry run stops after the reads.
//!
//! Every name is resolved before the first write: an unknown group fails the whole call with
//! `not-found` naming every missing group, and nothing is written.
//!
//! Current membership, so already-member and not-member are `already-done` without a write:
//! - SCIM groups: the SCIM user's read-only `groups` attribute, which arrives with the user
//!   read the action makes anyway (zero extra requests); SCIM is authoritative for these
//!   groups — the admin API lags behind SCIM changes. The groups are therefore looked up
//!   with `excludedAttributes=members`: a synced group can hold 35,000 members, and reading
//!   them on every call would make each call O(members) and a bulk onboarding O(N²). Only a
//!   user named by account id, found through the SCIM-link look-up with no record of its
//!   own in hand, is judged by the group's inline `members` (read with them for that case).
//!   A server that ignores `excludedAttributes` costs time only: either source naming the
//!   user counts.
//! - Admin-managed groups: the admin users search with `expand:["groups"]`, the only
//!   one-request source (a group has no member list to read), which also gives the account
//!   id when the SCIM record does not carry it yet.

use crate::config::{AdminConfig, ConnectorConfig};
use crate::error::ConnectorError;
use crate::model::{
    AccountId, ActionOptions, Change, ChangeKind, ChangeStatus, Config, Entitlement, GroupId,
    Outcome, RoleGrant, ScimId, UserRef,
};
use crate::transport::{HostLimits, HttpError, Method, Request, Response, Transport};
use crate::upstream::{self, Api};
use crate::{admin, scim};

use super::common::{
    Person, Run, admin_ctx, admin_delete, admin_post, admin_search, check_user_ref, describe_ref,
    outcome, push, require_budget, same_ignoring_case, scim_ctx, scim_get, scim_subject,
    scim_write, send_batch, take,
};
use super::index::FoldedIndex;
use super::roles;

/// The longest group name accepted, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 255;
/// The most admin group-search pages followed (100 groups each) before giving up.
pub const MAX_SEARCH_PAGES: usize = 20;

const VIA_SCIM: &str = "via SCIM";
const VIA_ADMIN: &str = "via admin API";

/// Grants `user` the entitlements in `add` and takes away those in `remove`: group
/// memberships (see [`manage_groups`]) and product roles (see [`super::roles`]). Every group,
/// role and resource is resolved before the first write; the group changes come first, then
/// the role changes.
pub fn manage_relationships(
    config: &Config,
    transport: &dyn Transport,
    user: &UserRef,
    add: &[Entitlement],
    remove: &[Entitlement],
    options: ActionOptions,
) -> Result<Outcome, ConnectorError> {
    let ((add, add_roles), (remove, remove_roles)) = (split(add), split(remove));
    if add_roles.is_empty() && remove_roles.is_empty() {
        return manage_groups(config, transport, user, &add, &remove, options);
    }
    let cfg = ConnectorConfig::parse(config)?;
    let a = cfg.require_admin()?;
    let wanted = roles::wanted(&add_roles, &remove_roles)?;
    normalize_names(&add, &remove)?;
    check_user_ref(user)?;
    let run = Run::of(&cfg, transport);
    let person = run.existing(user)?;
    let Some(account) = person.account_id.clone() else {
        return Err(ConnectorError::NotFound(format!(
            "{} is not linked to an Atlassian account yet (Atlassian links new users \
             asynchronously), so its roles cannot change; retry shortly",
            describe_ref(user)
        )));
    };
    let current = roles::read(transport, a, &account, true)?;
    let mut planned = roles::plan(a, &account, &wanted, &current, options.dry_run)?;
    let (mut changes, mut resolved) = (Vec::new(), person.resolved());
    if !add.is_empty() || !remove.is_empty() {
        let groups = manage_groups(config, transport, user, &add, &remove, options)?;
        changes = groups.changes;
        resolved = groups.user.unwrap_or(resolved);
    }
    roles::apply(transport, a, &account, &mut planned);
    for p in planned {
        changes.push(p.into_change());
    }
    Ok(outcome(Some(resolved), changes))
}

/// The group names and the roles of `list`, each in order.
pub(super) fn split(list: &[Entitlement]) -> (Vec<String>, Vec<RoleGrant>) {
    let (mut groups, mut roles) = (Vec::new(), Vec::new());
    for e in list {
        match e {
            Entitlement::Group(name) => groups.push(name.clone()),
            Entitlement::Role(r) => roles.push(r.clone()),
        }
    }
    (groups, roles)
}

/// Adds `user` to the groups named in `add` and removes them from those in `remove`.
/// See the module docs for the requests it makes and how it decides what is already done.
pub fn manage_groups(
    config: &Config,
    transport: &dyn Transport,
    user: &UserRef,
    add: &[String],
    remove: &[String],
    options: ActionOptions,
) -> Result<Outcome, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    let (adds, removes) = normalize_names(add, remove)?;
    check_user_ref(user)?;
    if matches!(user, UserRef::AccountId(_)) {
        cfg.require_admin()?;
    }
    // Loops rather than iterator chains here: each chain costs the component hundreds of
    // bytes.
    let mut names: Vec<&str> = Vec::with_capacity(adds.len() + removes.len());
    for n in adds.iter().chain(&removes) {
        names.push(n);
    }
    let run = Run {
        cfg: &cfg,
        admin: cfg.admin.as_ref(),
        transport,
    };

    // Round trip 1: every independent read.
    let mut batch: Vec<Request> = Vec::new();
    let user_reads = run.user_reads(user, !names.is_empty(), &mut batch);
    // The user's own record lists its SCIM groups: the groups are then read without their
    // members. Only a user named by account id has no record in hand (the SCIM-link look-up
    // gives its id alone), so only then do the groups' inline members decide.
    let group_url = if matches!(user, UserRef::AccountId(_)) {
        scim::groups_by_name_url
    } else {
        scim::groups_by_name_without_members_url
    };
    let mut scim_group_reads: Vec<usize> = Vec::with_capacity(names.len());
    for n in &names {
        scim_group_reads.push(push(&mut batch, scim_get(group_url(&cfg.scim.url, n))));
    }
    let mut admin_groups_reads: Vec<usize> = Vec::new();
    if let Some(a) = run.admin {
        for chunk in name_chunks(&names) {
            admin_groups_reads.push(push(&mut batch, groups_search(a, chunk, None)));
        }
    }
    // The reads, and at least one write after them, must fit the host's request budget;
    // writes past it are left for the next run (see `apply`).
    require_budget(
        transport,
        batch.len() + 1,
        &format!("changing {} group membership(s)", names.len()),
    )?;
    let answers = send_batch(transport, batch);
    let mut results: Vec<Option<Result<Response, HttpError>>> = Vec::with_capacity(answers.len());
    for a in answers {
        results.push(Some(a));
    }

    let mut person = run.person(user, &user_reads, &mut results)?;
    let mut scim_groups = Vec::with_capacity(names.len());
    for (i, name) in scim_group_reads.iter().zip(&names) {
        scim_groups.push(run.scim_group(name, take(&mut results, *i))?);
    }
    let mut admin_groups = Vec::new();
    if let Some(a) = run.admin {
        for (chunk, i) in name_chunks(&names).zip(&admin_groups_reads) {
            admin_groups.extend(run.admin_groups(a, chunk, take(&mut results, *i))?);
        }
    }

    // Resolve every name before any write.
    let targets = run.resolve_groups(&names, scim_groups, &admin_groups)?;

    // The admin user, when an admin-managed group needs it and round trip 1 could not ask.
    if let Some(a) = run.admin
        && person.admin_user.is_none()
        && !person.admin_searched
        && targets
            .iter()
            .any(|t| matches!(t.route, Route::Admin { .. }))
    {
        person.admin_user = run.admin_user_after_scim(a, &person)?;
        if person.account_id.is_none() {
            person.account_id = person
                .admin_user
                .as_ref()
                .and_then(|u| AccountId::from_wire(u.account_id.as_deref()));
        }
    }
    person.check_routes(&targets, user)?;

    // Plan: adds in order, then removes.
    let mut planned: Vec<Planned> = Vec::with_capacity(names.len());
    let held = person.held();
    for (i, target) in targets.iter().enumerate() {
        let adding = i < adds.len();
        let member = person.is_member(&held, target);
        let already = member == adding;
        planned.push(Planned {
            kind: if adding {
                ChangeKind::AddMembership
            } else {
                ChangeKind::RemoveMembership
            },
            target,
            member,
            write: (!already && !options.dry_run)
                .then(|| run.write(target, adding, &person))
                .flatten(),
            status: if already {
                ChangeStatus::AlreadyDone
            } else {
                ChangeStatus::Planned
            },
        });
    }

    // Round trip 2: every write together.
    apply(transport, &mut planned, 0);
    Ok(outcome(Some(person.resolved()), into_changes(planned)))
}

/// Sends every planned write in ONE `send_all` wave (split to fit the host's batch limit)
/// and judges each answer. Writes past what is left of the host's request budget, less
/// `reserve` requests the caller needs afterwards, are not sent: they fail as "not
/// attempted", so the outcome is not completed and the next run, which finds the sent ones
/// already done, finishes them.
pub(super) fn apply(transport: &dyn Transport, planned: &mut [Planned<'_>], reserve: usize) {
    let limits = transport.limits();
    let mut writes: Vec<Request> = Vec::with_capacity(planned.len());
    for p in planned.iter() {
        if let Some(w) = &p.write {
            writes.push(w.clone());
        }
    }
    let sent = writes.len().min(limits.remaining().saturating_sub(reserve));
    writes.truncate(sent);
    let mut answers = send_batch(transport, writes).into_iter();
    for (i, p) in planned.iter_mut().filter(|p| p.write.is_some()).enumerate() {
        p.status = if i < sent {
            let answer = answers.next().unwrap_or_else(|| {
                Err(HttpError::Other("the host returned no result".to_string()))
            });
            judge(p, answer)
        } else {
            ChangeStatus::Failed(not_attempted_for_budget(&limits))
        };
    }
}

/// The changes the planned writes made, in order.
pub(super) fn into_changes(planned: Vec<Planned<'_>>) -> Vec<Change> {
    let mut out = Vec::with_capacity(planned.len());
    for p in planned {
        out.push(p.into_change());
    }
    out
}

/// The error of a write left out because the host's request budget was spent.
pub(super) fn not_attempted_for_budget(limits: &HostLimits) -> ConnectorError {
    ConnectorError::Other(format!(
        "not attempted: this invocation reached the host's request budget (max-requests = {}); \
         run the same action again to finish",
        limits.max_requests
    ))
}

/// The names of one admin groups search at most: one page of answers, and a request that
/// stays small (Atlassian documents no maximum for `groupNames`).
pub const NAMES_PER_SEARCH: usize = admin::MAX_LIMIT as usize;

/// `names` in the slices of at most [`NAMES_PER_SEARCH`] that the admin groups searches take.
pub(super) fn name_chunks<'a>(names: &'a [&'a str]) -> std::slice::Chunks<'a, &'a str> {
    names.chunks(NAMES_PER_SEARCH)
}

pub(super) fn groups_search(a: &AdminConfig, names: &[&str], cursor: Option<&str>) -> Request {
    admin_search(
        admin::groups_search_url(&a.api_url, &a.org_id, admin::ALL_DIRECTORIES),
        admin::groups_search_body(Some(names), admin::MAX_LIMIT, cursor),
    )
}

/// Checks the names and folds case: duplicates differing only in case become one (the
/// first spelling wins); a name both added and removed is `invalid-input`.
pub fn normalize_names(
    add: &[String],
    remove: &[String],
) -> Result<(Vec<String>, Vec<String>), ConnectorError> {
    fn dedupe(list: &[String], what: &str) -> Result<Vec<String>, ConnectorError> {
        let mut out: Vec<String> = Vec::with_capacity(list.len());
        for name in list {
            if name.trim().is_empty() {
                return Err(ConnectorError::InvalidInput(format!(
                    "a group name to {what} is empty"
                )));
            }
            if crate::text::char_count(name) > MAX_GROUP_NAME_CHARS {
                return Err(ConnectorError::InvalidInput(format!(
                    "the group name to {what} `{}…` is longer than {MAX_GROUP_NAME_CHARS} characters",
                    name.chars().take(40).collect::<String>()
                )));
            }
            if name.chars().any(char::is_control) {
                return Err(ConnectorError::InvalidInput(format!(
                    "the group name to {what} {} contains control characters",
                    crate::text::quoted(name)
                )));
            }
            out.push(name.clone());
        }
        // Keep the first spelling of each name, in order: O(n log n), not a scan per name.
        let folded = FoldedIndex::new(out.iter().map(String::as_str));
        let keep: Vec<bool> = out
            .iter()
            .enumerate()
            .map(|(i, name)| folded.first(name) == Some(i))
            .collect();
        let mut keep = keep.into_iter();
        out.retain(|_| keep.next().unwrap_or(true));
        Ok(out)
    }
    let adds = dedupe(add, "add")?;
    let removes = dedupe(remove, "remove")?;
    let removed = FoldedIndex::new(removes.iter().map(String::as_str));
    let both: Vec<&str> = adds
        .iter()
        .filter(|a| removed.first(a).is_some())
        .map(String::as_str)
        .collect();
    if !both.is_empty() {
        return Err(ConnectorError::InvalidInput(format!(
            "group{} {} both added and removed: say which",
            if both.len() == 1 { " is" } else { "s are" },
            quoted_list(&both)
        )));
    }
    Ok((adds, removes))
}

pub(super) fn quoted_list(names: &[&str]) -> String {
    let mut out = String::new();
    for n in names {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push('`');
        out.push_str(n);
        out.push('`');
    }
    out
}

/// How a group's membership changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// SCIM `PATCH /Groups/{id}`: synced groups, and groups only SCIM knows.
    Scim {
        group_id: ScimId,
        group: scim::Group,
    },
    /// Admin v2 memberships in the group's own directory.
    Admin {
        group_id: GroupId,
        directory_id: String,
    },
}

pub(super) struct Target {
    /// The group's display name as Atlassian spells it.
    pub(super) display: String,
    pub(super) route: Route,
}

impl Target {
    fn via(&self) -> &'static str {
        match self.route {
            Route::Scim { .. } => VIA_SCIM,
            Route::Admin { .. } => VIA_ADMIN,
        }
    }
}

/// The ids of the groups a person's own records list, indexed once: a call may name 1,000
/// groups for a user in 1,000, and a scan per group would be a million comparisons.
struct Held {
    /// The SCIM user's `groups` values.
    scim: FoldedIndex,
    /// The admin user's group ids.
    admin: FoldedIndex,
}

impl Person {
    fn held(&self) -> Held {
        let scim = self.scim.as_ref().map_or(&[][..], |u| &u.groups[..]);
        let admin = self.admin_user.as_ref().map_or(&[][..], |u| &u.groups[..]);
        Held {
            scim: FoldedIndex::exact(scim.iter().filter_map(|g| g.value.as_deref())),
            admin: FoldedIndex::exact(admin.iter().filter_map(|g| g.id.as_deref())),
        }
    }

    fn is_member(&self, held: &Held, target: &Target) -> bool {
        match &target.route {
            Route::Scim { group_id, group } => {
                held.scim.first(group_id).is_some()
                    || self
                        .scim_id
                        .as_deref()
                        .is_some_and(|id| group.has_member(id))
            }
            Route::Admin { group_id, .. } => held.admin.first(group_id).is_some(),
        }
    }

    /// Each route needs its id of the person: SCIM the SCIM user id, admin the account id.
    pub(super) fn check_routes(
        &self,
        targets: &[Target],
        user: &UserRef,
    ) -> Result<(), ConnectorError> {
        let who = describe_ref(user);
        let mut scim_groups: Vec<&str> = Vec::new();
        for t in targets {
            if matches!(t.route, Route::Scim { .. }) {
                scim_groups.push(t.display.as_str());
            }
        }
        if self.scim_id.is_none() && !scim_groups.is_empty() {
            return Err(ConnectorError::NotFound(format!(
                "{who} has no SCIM user in this directory, so the synced group(s) {} \
                 cannot change through SCIM",
                quoted_list(&scim_groups)
            )));
        }
        let mut admin_groups: Vec<&str> = Vec::new();
        for t in targets {
            if matches!(t.route, Route::Admin { .. }) {
                admin_groups.push(t.display.as_str());
            }
        }
        if self.account_id.is_none() && !admin_groups.is_empty() {
            return Err(ConnectorError::NotFound(format!(
                "{who} is not linked to an Atlassian account yet (Atlassian links new users \
                 asynchronously), so the admin-managed group(s) {} cannot change; retry shortly",
                quoted_list(&admin_groups)
            )));
        }
        Ok(())
    }
}

pub(super) struct Planned<'a> {
    pub(super) kind: ChangeKind,
    pub(super) target: &'a Target,
    pub(super) member: bool,
    pub(super) write: Option<Request>,
    pub(super) status: ChangeStatus,
}

impl Planned<'_> {
    pub(super) fn into_change(self) -> Change {
        let state = |m: bool| if m { "member" } else { "not a member" };
        let wanted = self.kind == ChangeKind::AddMembership;
        Change {
            kind: self.kind,
            target: self.target.display.clone(),
            before: Some(state(self.member).to_string()),
            after: Some(format!("{} {}", state(wanted), self.target.via())),
            status: self.status,
        }
    }
}

/// What a write's answer means for its change.
pub(super) fn judge(p: &Planned<'_>, answer: Result<Response, HttpError>) -> ChangeStatus {
    let adding = p.kind == ChangeKind::AddMembership;
    let subject = format!("group `{}`", p.target.display);
    let (ctx, api) = match p.target.route {
        Route::Scim { .. } => (scim_ctx(&subject), Api::Scim),
        Route::Admin { .. } => (admin_ctx(&subject), Api::Admin),
    };
    let resp = match answer {
        Ok(resp) => resp,
        Err(e) => return ChangeStatus::Failed(upstream::from_http_error(api, e)),
    };
    let code = upstream::error_code(api, &resp);
    let already = match (&p.target.route, adding) {
        // Adding an existing member: 409 ADMIN-UAM-409-2 is success.
        (Route::Admin { .. }, true) => {
            resp.status == 409 && code.as_deref() == Some(admin::ALREADY_MEMBER)
        }
        // A filtered remove that matched nobody: the member is gone already.
        (Route::Scim { .. }, false) => {
            resp.status == 400
                && code
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(scim::NO_TARGET))
        }
        _ => false,
    };
    if already {
        return ChangeStatus::AlreadyDone;
    }
    match upstream::classify(&ctx, resp) {
        Ok(_) => ChangeStatus::Applied,
        Err(e) => ChangeStatus::Failed(e),
    }
}

impl Run<'_> {
    fn scim_group(
        &self,
        name: &str,
        result: Result<Response, HttpError>,
    ) -> Result<Option<scim::Group>, ConnectorError> {
        let directory = scim_subject(self.cfg);
        let resp = upstream::check(&scim_ctx(&directory), result)?;
        let list = upstream::read(Api::Scim, &resp, scim::parse_list::<scim::Group>)?;
        Ok(list.resources.into_iter().find(|g| {
            g.id.as_deref().is_some_and(|id| !id.is_empty())
                && g.display_name
                    .as_deref()
                    .is_some_and(|d| same_ignoring_case(d, name))
        }))
    }

    /// Every group of the admin groups search, following its cursor (rarely: one page holds
    /// 100 groups).
    pub(super) fn admin_groups(
        &self,
        a: &AdminConfig,
        names: &[&str],
        first: Result<Response, HttpError>,
    ) -> Result<Vec<admin::Group>, ConnectorError> {
        let subject = format!("organization `{}` (scim_organization_id)", a.org_id);
        let ctx = admin_ctx(&subject);
        let mut groups = Vec::new();
        let mut result = first;
        for _ in 0..MAX_SEARCH_PAGES {
            let resp = upstream::check(&ctx, result)?;
            let page = upstream::parse_json::<admin::Page<admin::Group>>(Api::Admin, &resp)?;
            groups.extend(page.data);
            let next = page.links.and_then(|l| l.next).filter(|n| !n.is_empty());
            match next {
                Some(cursor) => {
                    result = self.transport.send(groups_search(a, names, Some(&cursor)));
                }
                None => return Ok(groups),
            }
        }
        Err(ConnectorError::upstream(
            None,
            None,
            format!("the admin groups search did not end within {MAX_SEARCH_PAGES} pages"),
        ))
    }

    /// Routes each name (design §4), or fails naming every unknown group.
    fn resolve_groups(
        &self,
        names: &[&str],
        scim_groups: Vec<Option<scim::Group>>,
        admin_groups: &[admin::Group],
    ) -> Result<Vec<Target>, ConnectorError> {
        let mut targets = Vec::with_capacity(names.len());
        let mut missing: Vec<&str> = Vec::new();
        let mut elsewhere: Vec<&str> = Vec::new();
        let by_name = FoldedIndex::new(
            admin_groups
                .iter()
                .map(|g| g.name.as_deref().unwrap_or_default()),
        );
        for (name, scim_group) in names.iter().zip(scim_groups) {
            let named: Vec<&admin::Group> = by_name
                .all(name)
                .filter_map(|i| admin_groups.get(i))
                .collect();
            let admin_group = named.first();
            // `scim_group` keeps only groups with an id.
            if let Some((group_id, g)) =
                scim_group.and_then(|g| Some((ScimId::from_wire(g.id.as_deref())?, g)))
            {
                // A SCIM group is synced by definition: it changes through SCIM only.
                targets.push(Target {
                    display: g
                        .display_name
                        .clone()
                        .unwrap_or_else(|| (*name).to_string()),
                    route: Route::Scim { group_id, group: g },
                });
                continue;
            }
            // Several admin groups may share a name across directories: prefer one we can
            // change (admin-managed, with the ids a membership write needs).
            let writable = named.iter().find_map(|g| {
                let directory_id = g.directory_id.as_deref().filter(|s| !s.is_empty())?;
                let group_id = GroupId::from_wire(g.id.as_deref())?;
                (!g.is_synced()).then(|| (g, group_id, directory_id.to_string()))
            });
            match (writable, admin_group) {
                (Some((g, group_id, directory_id)), _) => targets.push(Target {
                    display: g.name.clone().unwrap_or_else(|| (*name).to_string()),
                    route: Route::Admin {
                        group_id,
                        directory_id,
                    },
                }),
                (None, Some(_)) => elsewhere.push(name),
                (None, None) => missing.push(name),
            }
        }
        if !missing.is_empty() {
            let hint = if self.admin.is_none() {
                " (only SCIM groups are visible: admin-managed groups need admin_api_key and \
                 scim_organization_id)"
            } else {
                ""
            };
            return Err(ConnectorError::NotFound(format!(
                "group{} {} not found; nothing was changed{hint}",
                if missing.len() == 1 { "" } else { "s" },
                quoted_list(&missing)
            )));
        }
        if !elsewhere.is_empty() {
            return Err(ConnectorError::Unsupported(format!(
                "group(s) {} are synced from an identity provider into another directory, or \
                 lack the ids a membership write needs; they cannot change through this \
                 SCIM directory nor the admin API; nothing was changed",
                quoted_list(&elsewhere)
            )));
        }
        Ok(targets)
    }

    /// The write that makes `target` hold: a SCIM PATCH or an admin membership call. `None`
    /// when the person lacks the route's id (the SCIM user id, the account id), which
    /// [`Person::check_routes`] refuses before anything is planned.
    pub(super) fn write(&self, target: &Target, adding: bool, person: &Person) -> Option<Request> {
        Some(match &target.route {
            Route::Scim { group_id, .. } => {
                let user_id = person.scim_id.clone()?.into_string();
                let op = if adding {
                    scim::PatchOperation::AddMember(user_id)
                } else {
                    scim::PatchOperation::RemoveMember(user_id)
                };
                scim_write(
                    Method::Patch,
                    scim::group_patch_url(&self.cfg.scim.url, group_id),
                    scim::patch_body(&[op]),
                )
            }
            Route::Admin {
                group_id,
                directory_id,
            } => {
                let (api, org) = match self.admin {
                    Some(a) => (a.api_url.as_str(), a.org_id.as_str()),
                    None => (self.cfg.atlassian_api_url.as_str(), ""),
                };
                let account = person.account_id.as_deref()?;
                if adding {
                    admin_post(
                        admin::memberships_url(api, org, directory_id, group_id),
                        admin::add_member_body(account),
                    )
                } else {
                    admin_delete(admin::membership_url(
                        api,
                        org,
                        directory_id,
                        group_id,
                        account,
                    ))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{Auth, Call, FakeTransport};
    use serde_json::{Value, json};

    const SCIM: &str = "https://api.atlassian.com/scim/directory/dir-1";
    const ADA_LOOKUP: &str = "https://api.atlassian.com/scim/directory/dir-1/Users?filter=userName%20eq%20%22ada%40example.com%22&startIndex=1&count=10";
    const GROUPS_SEARCH: &str =
        "https://api.atlassian.com/admin/v2/orgs/org-1/directories/-/groups/search";
    const USERS_SEARCH: &str =
        "https://api.atlassian.com/admin/v2/orgs/org-1/directories/-/users/search";
    const ACCOUNT: &str = "712020:abc";

    fn with_admin() -> Config {
        Config::new(
            &[("scim_url", SCIM), ("scim_organization_id", "org-1")],
            &["scim_token", "admin_api_key"],
        )
    }

    fn scim_only() -> Config {
        Config::new(&[("scim_url", SCIM)], &["scim_token"])
    }

    fn ada() -> UserRef {
        UserRef::Email("ada@example.com".into())
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    fn real() -> ActionOptions {
        ActionOptions { dry_run: false }
    }

    /// The look-up of a group by name for a user whose own record is read (without members).
    fn group_lookup(name: &str) -> String {
        scim::groups_by_name_without_members_url(SCIM, name)
    }

    fn admin_members(dir: &str, gid: &str) -> String {
        format!(
            "https://api.atlassian.com/admin/v2/orgs/org-1/directories/{dir}/groups/{gid}/memberships"
        )
    }

    fn scim_user(scim_groups: &[&str], account: Option<&str>) -> Value {
        let groups: Vec<Value> = scim_groups.iter().map(|g| json!({"value": g})).collect();
        let mut u = json!({"id": "u-1", "userName": "ada@example.com", "active": true,
                           "groups": groups});
        if let Some(a) = account {
            u[scim::ATLASSIAN_EXTENSION] = json!({"atlassianAccountId": a});
        }
        u
    }

    fn list(items: &[Value]) -> String {
        json!({"totalResults": items.len(), "Resources": items}).to_string()
    }

    fn scim_group(id: &str, name: &str, members: &[&str]) -> Value {
        let m: Vec<Value> = members.iter().map(|v| json!({"value": v})).collect();
        json!({"id": id, "displayName": name, "members": m})
    }

    /// `(id, name, directoryId, synced)`.
    fn admin_groups(groups: &[(&str, &str, &str, bool)]) -> String {
        let data: Vec<Value> = groups
            .iter()
            .map(|(id, name, dir, synced)| {
                json!({"id": id, "name": name, "directoryId": dir, "externalSynced": synced,
                       "managedBy": if *synced { "external" } else { "admins" }})
            })
            .collect();
        json!({"data": data, "links": {}}).to_string()
    }

    fn admin_user(groups: &[(&str, &str)]) -> String {
        let g: Vec<Value> = groups
            .iter()
            .map(|(id, name)| json!({"id": id, "name": name}))
            .collect();
        json!({"data": [{"accountId": ACCOUNT, "email": "ada@example.com", "status": "active",
                         "groups": g}], "links": {}})
        .to_string()
    }

    /// Scripts the reads for Ada and the given groups.
    fn reads(
        fake: &FakeTransport,
        user: Value,
        scim: &[(&str, Option<Value>)],
        admin: &str,
        admin_user_body: &str,
    ) {
        fake.on_get(ADA_LOOKUP, 200, &list(&[user]));
        for (name, group) in scim {
            let items: Vec<Value> = group.iter().cloned().collect();
            fake.on_get(&group_lookup(name), 200, &list(&items));
        }
        fake.on(Method::Post, GROUPS_SEARCH, Ok(Response::json(200, admin)));
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, admin_user_body)),
        );
    }

    fn batches(fake: &FakeTransport) -> Vec<Vec<Request>> {
        fake.calls()
            .into_iter()
            .map(|c| match c {
                Call::SendAll(b) => b,
                Call::Send(r) => vec![r],
            })
            .collect()
    }

    fn writes(fake: &FakeTransport) -> Vec<Request> {
        fake.requests()
            .into_iter()
            .filter(|r| r.method != Method::Get && !r.url.ends_with("/search"))
            .collect()
    }

    #[test]
    fn c1_admin_managed_add_goes_through_admin_memberships_in_the_groups_own_directory() {
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&[], Some(ACCOUNT)),
            &[("JIRA-USERS", None)],
            &admin_groups(&[("ag-1", "jira-users", "org-dir", false)]),
            &admin_user(&[]),
        );
        fake.on(
            Method::Post,
            &admin_members("org-dir", "ag-1"),
            Ok(Response::new(204, "")),
        );
        let out = manage_groups(
            &with_admin(),
            &fake,
            &ada(),
            &names(&["JIRA-USERS"]),
            &[],
            real(),
        )
        .unwrap();

        let b = batches(&fake);
        assert_eq!(b.len(), 2, "one read batch, one write batch");
        assert!(matches!(
            fake.calls().as_slice(),
            [Call::SendAll(_), Call::SendAll(_)]
        ));
        let urls: Vec<&str> = b[0].iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                ADA_LOOKUP,
                USERS_SEARCH,
                group_lookup("JIRA-USERS").as_str(),
                GROUPS_SEARCH
            ]
        );
        assert_eq!(
            b[0][1].json_body(),
            json!({"emails": ["ada@example.com"], "expand": ["groups"], "limit": 100})
        );
        assert_eq!(
            b[0][3].json_body(),
            json!({"groupNames": ["JIRA-USERS"], "limit": 100})
        );
        assert_eq!(b[0][3].auth, Some(Auth::Bearer("admin_api_key".into())));
        assert_eq!(b[0][0].auth, Some(Auth::Bearer("scim_token".into())));
        let w = &b[1];
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].method, Method::Post);
        assert_eq!(w[0].url, admin_members("org-dir", "ag-1"));
        assert_eq!(w[0].json_body(), json!({"accountId": ACCOUNT}));
        assert_eq!(w[0].auth, Some(Auth::Bearer("admin_api_key".into())));

        assert!(out.completed);
        let c = &out.changes[0];
        assert_eq!(c.kind, ChangeKind::AddMembership);
        assert_eq!(c.target, "jira-users", "Atlassian's spelling");
        assert_eq!(c.status, ChangeStatus::Applied);
        assert_eq!(c.before.as_deref(), Some("not a member"));
        assert_eq!(c.after.as_deref(), Some("member via admin API"));
        let u = out.user.unwrap();
        assert_eq!(
            (u.scim_id.as_deref(), u.account_id.as_deref()),
            (Some("u-1"), Some(ACCOUNT))
        );
    }

    #[test]
    fn c2_synced_group_add_is_a_scim_patch_and_never_an_admin_write() {
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&[], Some(ACCOUNT)),
            &[("eng", Some(scim_group("sg-1", "Eng", &["u-7"])))],
            &admin_groups(&[("ag-9", "Eng", "dir-1", true)]),
            &admin_user(&[]),
        );
        let patch_url = format!("{SCIM}/Groups/sg-1?excludedAttributes=members");
        fake.on(Method::Patch, &patch_url, Ok(Response::new(204, "")));
        let out =
            manage_groups(&with_admin(), &fake, &ada(), &names(&["eng"]), &[], real()).unwrap();
        let w = writes(&fake);
        assert_eq!(w.len(), 1);
        assert_eq!(
            (w[0].method, w[0].url.as_str()),
            (Method::Patch, patch_url.as_str())
        );
        assert_eq!(
            w[0].json_body(),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "add", "path": "members", "value": [{"value": "u-1"}]}]})
        );
        assert_eq!(w[0].auth, Some(Auth::Bearer("scim_token".into())));
        assert!(
            !fake
                .requests()
                .iter()
                .any(|r| r.url.contains("/memberships"))
        );
        assert_eq!(out.changes[0].target, "Eng");
        assert_eq!(out.changes[0].after.as_deref(), Some("member via SCIM"));
        assert_eq!(out.changes[0].status, ChangeStatus::Applied);
        assert!(out.completed);
    }

    #[test]
    fn c3_already_member_by_read_or_by_204_or_409_2_is_success() {
        // The reads already show the membership: already-done, no write at all.
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&["sg-1"], Some(ACCOUNT)),
            &[
                ("eng", Some(scim_group("sg-1", "eng", &[]))),
                ("jira", None),
            ],
            &admin_groups(&[("ag-1", "jira", "org-dir", false)]),
            &admin_user(&[("ag-1", "jira")]),
        );
        let out = manage_groups(
            &with_admin(),
            &fake,
            &ada(),
            &names(&["eng", "jira"]),
            &[],
            real(),
        )
        .unwrap();
        assert_eq!(fake.calls().len(), 1, "reads only");
        assert!(
            out.changes
                .iter()
                .all(|c| c.status == ChangeStatus::AlreadyDone)
        );
        assert!(out.completed);

        // A stale read, and the admin API answers 409 ADMIN-UAM-409-2 (or 204): success.
        for (answer, expected) in [
            (
                Response::json(
                    409,
                    r#"{"errors":[{"status":409,"code":"ADMIN-UAM-409-2","title":"Conflict","detail":"already a member"}]}"#,
                ),
                ChangeStatus::AlreadyDone,
            ),
            (Response::new(204, ""), ChangeStatus::Applied),
        ] {
            let fake = FakeTransport::new();
            reads(
                &fake,
                scim_user(&[], Some(ACCOUNT)),
                &[("jira", None)],
                &admin_groups(&[("ag-1", "jira", "org-dir", false)]),
                &admin_user(&[]),
            );
            fake.on(Method::Post, &admin_members("org-dir", "ag-1"), Ok(answer));
            let out = manage_groups(&with_admin(), &fake, &ada(), &names(&["jira"]), &[], real())
                .unwrap();
            assert_eq!(out.changes[0].status, expected);
            assert!(out.completed);
        }
    }

    #[test]
    fn c4_remove_uses_the_filtered_members_path() {
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&["sg-1"], Some(ACCOUNT)),
            &[(
                "eng",
                Some(scim_group("sg-1", "eng", &["u-0", "u-1", "u-2"])),
            )],
            &admin_groups(&[("ag-9", "eng", "dir-1", true)]),
            &admin_user(&[("ag-9", "eng")]),
        );
        let patch_url = format!("{SCIM}/Groups/sg-1?excludedAttributes=members");
        fake.on(Method::Patch, &patch_url, Ok(Response::new(204, "")));
        let out =
            manage_groups(&with_admin(), &fake, &ada(), &[], &names(&["eng"]), real()).unwrap();
        let w = writes(&fake);
        assert_eq!(w.len(), 1);
        let body = w[0].json_body();
        assert_eq!(body["Operations"].as_array().unwrap().len(), 1);
        let op = &body["Operations"][0];
        assert_eq!(op["op"], "remove");
        assert_eq!(op["path"].as_str(), Some(r#"members[value eq "u-1"]"#));
        assert!(op.get("value").is_none());
        let c = &out.changes[0];
        assert_eq!(c.kind, ChangeKind::RemoveMembership);
        assert_eq!(c.status, ChangeStatus::Applied);
        assert_eq!(c.before.as_deref(), Some("member"));
        assert_eq!(c.after.as_deref(), Some("not a member via SCIM"));
    }

    #[test]
    fn admin_remove_deletes_the_membership_with_an_encoded_account_id() {
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&[], Some(ACCOUNT)),
            &[("jira", None)],
            &admin_groups(&[("ag-1", "jira", "org-dir", false)]),
            &admin_user(&[("ag-1", "jira")]),
        );
        let url = format!("{}/712020%3Aabc", admin_members("org-dir", "ag-1"));
        fake.on(Method::Delete, &url, Ok(Response::new(204, "")));
        let out =
            manage_groups(&with_admin(), &fake, &ada(), &[], &names(&["jira"]), real()).unwrap();
        let w = writes(&fake);
        assert_eq!(
            (w[0].method, w[0].url.as_str()),
            (Method::Delete, url.as_str())
        );
        assert_eq!(w[0].body, None);
        assert_eq!(out.changes[0].status, ChangeStatus::Applied);
    }

    #[test]
    fn c5_removing_a_non_member_is_already_done_without_a_write() {
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&[], Some(ACCOUNT)),
            &[
                ("eng", Some(scim_group("sg-1", "eng", &["u-0"]))),
                ("jira", None),
            ],
            &admin_groups(&[("ag-1", "jira", "org-dir", false)]),
            &admin_user(&[]),
        );
        let out = manage_groups(
            &with_admin(),
            &fake,
            &ada(),
            &[],
            &names(&["eng", "jira"]),
            real(),
        )
        .unwrap();
        assert!(writes(&fake).is_empty());
        assert_eq!(fake.calls().len(), 1);
        assert!(
            out.changes
                .iter()
                .all(|c| c.status == ChangeStatus::AlreadyDone)
        );
        assert!(out.completed);
    }

    #[test]
    fn a_filtered_remove_answered_no_target_is_already_done() {
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&["sg-1"], Some(ACCOUNT)),
            &[("eng", Some(scim_group("sg-1", "eng", &[])))],
            &admin_groups(&[]),
            &admin_user(&[]),
        );
        fake.on(
            Method::Patch,
            &format!("{SCIM}/Groups/sg-1?excludedAttributes=members"),
            Ok(Response::json(
                400,
                r#"{"status":"400","scimType":"noTarget","detail":"no member matched"}"#,
            )),
        );
        let out =
            manage_groups(&with_admin(), &fake, &ada(), &[], &names(&["eng"]), real()).unwrap();
        assert_eq!(out.changes[0].status, ChangeStatus::AlreadyDone);
    }

    #[test]
    fn c6_unknown_groups_fail_naming_all_of_them_before_any_write() {
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&[], Some(ACCOUNT)),
            &[
                ("eng", Some(scim_group("sg-1", "eng", &[]))),
                ("nope", None),
                ("ghost", None),
            ],
            &admin_groups(&[]),
            &admin_user(&[]),
        );
        let e = manage_groups(
            &with_admin(),
            &fake,
            &ada(),
            &names(&["eng", "nope"]),
            &names(&["ghost"]),
            real(),
        )
        .unwrap_err();
        match e {
            ConnectorError::NotFound(m) => {
                assert!(m.contains("`nope`") && m.contains("`ghost`"), "{m}");
                assert!(!m.contains("`eng`"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        assert!(writes(&fake).is_empty());
        assert_eq!(fake.calls().len(), 1);
    }

    #[test]
    fn c7_licence_limit_is_a_failed_change_and_the_rest_still_applies() {
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&[], Some(ACCOUNT)),
            &[("jira", None), ("conf", None)],
            &admin_groups(&[
                ("ag-1", "jira", "org-dir", false),
                ("ag-2", "conf", "org-dir", false),
            ]),
            &admin_user(&[]),
        );
        fake.on(
            Method::Post,
            &admin_members("org-dir", "ag-1"),
            Ok(Response::json(
                409,
                r#"{"errors":[{"status":"409","code":"ADMIN-UAM-409-3","title":"Conflict","detail":"Adding this user would exceed the product licence limit"}]}"#,
            )),
        );
        fake.on(
            Method::Post,
            &admin_members("org-dir", "ag-2"),
            Ok(Response::new(204, "")),
        );
        let out = manage_groups(
            &with_admin(),
            &fake,
            &ada(),
            &names(&["jira", "conf"]),
            &[],
            real(),
        )
        .unwrap();
        assert!(!out.completed);
        match &out.changes[0].status {
            ChangeStatus::Failed(ConnectorError::Conflict(m)) => {
                assert!(
                    m.contains("ADMIN-UAM-409-3") && m.contains("licence limit"),
                    "{m}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(out.changes[1].status, ChangeStatus::Applied);
    }

    #[test]
    fn c8_ten_groups_are_one_read_batch_and_one_write_batch_of_ten() {
        let fake = FakeTransport::new();
        let ids: Vec<String> = (0..10).map(|i| format!("ag-{i}")).collect();
        let group_names: Vec<String> = (0..10).map(|i| format!("team-{i}")).collect();
        let scim: Vec<(&str, Option<Value>)> =
            group_names.iter().map(|n| (n.as_str(), None)).collect();
        let admin: Vec<(&str, &str, &str, bool)> = ids
            .iter()
            .zip(&group_names)
            .map(|(i, n)| (i.as_str(), n.as_str(), "org-dir", false))
            .collect();
        reads(
            &fake,
            scim_user(&[], Some(ACCOUNT)),
            &scim,
            &admin_groups(&admin),
            &admin_user(&[]),
        );
        for id in &ids {
            fake.on(
                Method::Post,
                &admin_members("org-dir", id),
                Ok(Response::new(204, "")),
            );
        }
        let out = manage_groups(&with_admin(), &fake, &ada(), &group_names, &[], real()).unwrap();
        let calls = fake.calls();
        assert_eq!(calls.len(), 2);
        match calls.as_slice() {
            [Call::SendAll(r), Call::SendAll(w)] => {
                assert_eq!(
                    r.len(),
                    13,
                    "user, admin user, 10 SCIM groups, 1 admin search"
                );
                assert_eq!(w.len(), 10);
                assert!(w.iter().all(|x| x.method == Method::Post));
            }
            other => panic!("{other:?}"),
        }
        assert!(out.completed);
        let targets: Vec<&str> = out.changes.iter().map(|c| c.target.as_str()).collect();
        assert_eq!(
            targets,
            group_names.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }

    #[test]
    fn c9_names_differing_in_case_are_one_group() {
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&[], Some(ACCOUNT)),
            &[("Eng", Some(scim_group("sg-1", "eng", &[])))],
            &admin_groups(&[]),
            &admin_user(&[]),
        );
        fake.on(
            Method::Patch,
            &format!("{SCIM}/Groups/sg-1?excludedAttributes=members"),
            Ok(Response::new(204, "")),
        );
        let out = manage_groups(
            &with_admin(),
            &fake,
            &ada(),
            &names(&["Eng", "ENG", "eng"]),
            &[],
            real(),
        )
        .unwrap();
        assert_eq!(out.changes.len(), 1);
        assert_eq!(writes(&fake).len(), 1);
        assert_eq!(
            batches(&fake)[0]
                .iter()
                .filter(|r| r.url.contains("/Groups?"))
                .count(),
            1
        );
        assert_eq!(
            batches(&fake)[0][3].json_body()["groupNames"],
            json!(["Eng"])
        );
    }

    #[test]
    fn invalid_names_fail_before_any_request() {
        let fake = FakeTransport::new();
        let cases: [(&[&str], &[&str]); 4] = [
            (&["eng"], &["ENG"]),
            (&[""], &[]),
            (&[], &["  "]),
            (&["a\u{0}b"], &[]),
        ];
        for (add, remove) in cases {
            let e = manage_groups(
                &with_admin(),
                &fake,
                &ada(),
                &names(add),
                &names(remove),
                real(),
            )
            .unwrap_err();
            assert!(matches!(e, ConnectorError::InvalidInput(_)), "{e:?}");
        }
        let e = manage_groups(
            &with_admin(),
            &fake,
            &UserRef::Email(" ".into()),
            &names(&["eng"]),
            &[],
            real(),
        )
        .unwrap_err();
        assert!(matches!(e, ConnectorError::InvalidInput(_)));
        assert!(fake.calls().is_empty());
    }

    #[test]
    fn scim_only_config_sees_scim_groups_only() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[scim_user(&[], None)]));
        fake.on_get(
            &group_lookup("eng"),
            200,
            &list(&[scim_group("sg-1", "eng", &[])]),
        );
        fake.on_get(&group_lookup("jira"), 200, &list(&[]));
        fake.on(
            Method::Patch,
            &format!("{SCIM}/Groups/sg-1?excludedAttributes=members"),
            Ok(Response::new(204, "")),
        );
        // A synced group works without the admin key (and without an account id).
        let out =
            manage_groups(&scim_only(), &fake, &ada(), &names(&["eng"]), &[], real()).unwrap();
        assert_eq!(out.changes[0].status, ChangeStatus::Applied);
        assert!(fake.requests().iter().all(|r| !r.url.contains("/admin/")));
        assert_eq!(out.user.unwrap().account_id, None);
        // A name SCIM does not know is not-found, pointing at the admin key.
        let e =
            manage_groups(&scim_only(), &fake, &ada(), &names(&["jira"]), &[], real()).unwrap_err();
        assert!(
            matches!(&e, ConnectorError::NotFound(m) if m.contains("`jira`") && m.contains("admin_api_key")),
            "{e:?}"
        );
        // Naming the user by account id needs the admin API.
        let before = fake.requests().len();
        let e = manage_groups(
            &scim_only(),
            &fake,
            &UserRef::AccountId(ACCOUNT.into()),
            &names(&["eng"]),
            &[],
            real(),
        )
        .unwrap_err();
        assert_eq!(e.config_key(), Some("admin_api_key"));
        assert_eq!(fake.requests().len(), before);
    }

    #[test]
    fn resolution_by_account_id_reads_in_one_batch_and_writes_both_routes() {
        let fake = FakeTransport::new();
        let links = "https://api.atlassian.com/admin/user-provisioning/v1/org/org-1/user/712020%3Aabc/get-scim-links";
        fake.on_get(
            links,
            200,
            r#"{"scimLinks":[{"scimUserId":"u-1","atlassianAccountId":"712020:abc","orgId":"org-1","directoryId":"dir-1"}]}"#,
        );
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, &admin_user(&[]))),
        );
        fake.on_get(
            &scim::groups_by_name_url(SCIM, "eng"),
            200,
            &list(&[scim_group("sg-1", "eng", &["u-1"])]),
        );
        fake.on_get(&scim::groups_by_name_url(SCIM, "jira"), 200, &list(&[]));
        fake.on(
            Method::Post,
            GROUPS_SEARCH,
            Ok(Response::json(
                200,
                &admin_groups(&[("ag-1", "jira", "org-dir", false)]),
            )),
        );
        fake.on(
            Method::Post,
            &admin_members("org-dir", "ag-1"),
            Ok(Response::new(204, "")),
        );
        fake.on(
            Method::Patch,
            &format!("{SCIM}/Groups/sg-1?excludedAttributes=members"),
            Ok(Response::new(204, "")),
        );
        let out = manage_groups(
            &with_admin(),
            &fake,
            &UserRef::AccountId(ACCOUNT.into()),
            &names(&["jira"]),
            &names(&["eng"]),
            real(),
        )
        .unwrap();
        let b = batches(&fake);
        assert_eq!(b.len(), 2, "2 round trips");
        assert_eq!(b[0].len(), 5);
        assert_eq!(
            b[0][0].json_body(),
            json!({"accountIds": [ACCOUNT], "expand": ["groups"], "limit": 100})
        );
        assert_eq!(b[0][1].url, links);
        assert_eq!(b[1].len(), 2);
        assert_eq!(b[1][0].json_body(), json!({"accountId": ACCOUNT}));
        assert_eq!(
            b[1][1].json_body()["Operations"][0]["path"],
            r#"members[value eq "u-1"]"#
        );
        let u = out.user.unwrap();
        assert_eq!(u.scim_id.as_deref(), Some("u-1"));
        assert_eq!(u.account_id.as_deref(), Some(ACCOUNT));
        assert_eq!(u.email.as_deref(), Some("ada@example.com"));
        assert!(out.completed);
    }

    #[test]
    fn by_scim_id_an_admin_group_costs_one_more_read_round_trip() {
        let fake = FakeTransport::new();
        fake.on_get(
            &format!("{SCIM}/Users/u-1"),
            200,
            &scim_user(&[], Some(ACCOUNT)).to_string(),
        );
        fake.on_get(&group_lookup("jira"), 200, &list(&[]));
        fake.on(
            Method::Post,
            GROUPS_SEARCH,
            Ok(Response::json(
                200,
                &admin_groups(&[("ag-1", "jira", "org-dir", false)]),
            )),
        );
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, &admin_user(&[("ag-1", "jira")]))),
        );
        let out = manage_groups(
            &with_admin(),
            &fake,
            &UserRef::ScimId("u-1".into()),
            &names(&["jira"]),
            &[],
            real(),
        )
        .unwrap();
        let calls = fake.calls();
        assert!(
            matches!(calls.as_slice(), [Call::SendAll(r), Call::Send(s)] if r.len() == 3
            && s.json_body() == json!({"accountIds": [ACCOUNT], "expand": ["groups"], "limit": 100}))
        );
        assert_eq!(out.changes[0].status, ChangeStatus::AlreadyDone);
    }

    #[test]
    fn external_id_lookup_is_escaped_and_exact() {
        let x = r#"a "b" \ c"#;
        let url = format!(
            "{SCIM}/Users?filter=externalId%20eq%20%22a%20%5C%22b%5C%22%20%5C%5C%20c%22&startIndex=1&count=10"
        );
        let fake = FakeTransport::new();
        let mut other = scim_user(&[], None);
        other["externalId"] = json!("A \"B\" \\ C");
        other["id"] = json!("u-9");
        let mut me = scim_user(&[], None);
        me["externalId"] = json!(x);
        fake.on_get(&url, 200, &list(&[other, me]));
        let out = manage_groups(
            &scim_only(),
            &fake,
            &UserRef::ExternalId(x.into()),
            &[],
            &[],
            real(),
        )
        .unwrap();
        assert_eq!(fake.requests()[0].url, url);
        assert_eq!(out.user.unwrap().scim_id.as_deref(), Some("u-1"));
        assert!(out.changes.is_empty() && out.completed);
    }

    #[test]
    fn dry_run_makes_only_the_read_batch() {
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&["sg-1"], Some(ACCOUNT)),
            &[
                ("eng", Some(scim_group("sg-1", "eng", &[]))),
                ("jira", None),
            ],
            &admin_groups(&[("ag-1", "jira", "org-dir", false)]),
            &admin_user(&[]),
        );
        let out = manage_groups(
            &with_admin(),
            &fake,
            &ada(),
            &names(&["eng", "jira"]),
            &[],
            ActionOptions { dry_run: true },
        )
        .unwrap();
        assert_eq!(fake.calls().len(), 1);
        assert!(writes(&fake).is_empty());
        let statuses: Vec<&ChangeStatus> = out.changes.iter().map(|c| &c.status).collect();
        assert_eq!(
            statuses,
            [&ChangeStatus::AlreadyDone, &ChangeStatus::Planned]
        );
        assert!(out.completed);
    }

    #[test]
    fn unknown_user_and_unlinked_account_are_not_found() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[]));
        fake.on_get(&group_lookup("jira"), 200, &list(&[]));
        fake.on(
            Method::Post,
            GROUPS_SEARCH,
            Ok(Response::json(
                200,
                &admin_groups(&[("ag-1", "jira", "org-dir", false)]),
            )),
        );
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, r#"{"data":[],"links":{}}"#)),
        );
        let e = manage_groups(&with_admin(), &fake, &ada(), &names(&["jira"]), &[], real())
            .unwrap_err();
        assert!(
            matches!(&e, ConnectorError::NotFound(m) if m.contains("ada@example.com")),
            "{e:?}"
        );

        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&[], None),
            &[("jira", None)],
            &admin_groups(&[("ag-1", "jira", "org-dir", false)]),
            r#"{"data":[],"links":{}}"#,
        );
        let e = manage_groups(&with_admin(), &fake, &ada(), &names(&["jira"]), &[], real())
            .unwrap_err();
        assert!(
            matches!(&e, ConnectorError::NotFound(m) if m.contains("not linked")),
            "{e:?}"
        );
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn the_admin_groups_search_follows_its_cursor() {
        let fake = FakeTransport::new();
        reads(
            &fake,
            scim_user(&[], Some(ACCOUNT)),
            &[("jira", None)],
            r#"{"data":[{"id":"x","name":"other","directoryId":"d"}],"links":{"next":"c2"}}"#,
            &admin_user(&[]),
        );
        fake.on(
            Method::Post,
            GROUPS_SEARCH,
            Ok(Response::json(
                200,
                &admin_groups(&[("ag-1", "jira", "org-dir", false)]),
            )),
        );
        fake.on(
            Method::Post,
            &admin_members("org-dir", "ag-1"),
            Ok(Response::new(204, "")),
        );
        let out =
            manage_groups(&with_admin(), &fake, &ada(), &names(&["jira"]), &[], real()).unwrap();
        let searches: Vec<Value> = fake
            .requests()
            .iter()
            .filter(|r| r.url == GROUPS_SEARCH)
            .map(Request::json_body)
            .collect();
        assert_eq!(searches.len(), 2);
        assert_eq!(searches[1]["cursor"], "c2");
        assert_eq!(out.changes[0].status, ChangeStatus::Applied);
    }

    #[test]
    fn a_bad_config_is_invalid_config_before_anything_else() {
        let fake = FakeTransport::new();
        let e = manage_groups(
            &Config::new(&[], &[]),
            &fake,
            &ada(),
            &names(&["eng"]),
            &names(&["ENG"]),
            real(),
        )
        .unwrap_err();
        assert_eq!(e.config_key(), Some("scim_url"));
        assert!(fake.calls().is_empty());
    }

    #[test]
    fn hostile_answers_never_panic_and_never_lead_to_writes() {
        let bodies = [
            "",
            "null",
            "[]",
            "{}",
            "<html>",
            r#"{"totalResults":1,"Resources":[1,null,"x"]}"#,
            r#"{"totalResults":1,"Resources":[{"id":5,"displayName":[],"members":{}}]}"#,
            r#"{"data":null}"#,
            r#"{"data":[{"id":null,"name":7}],"links":{"next":5}}"#,
        ];
        for body in bodies {
            let fake = FakeTransport::new();
            reads(
                &fake,
                scim_user(&[], Some(ACCOUNT)),
                &[("eng", None)],
                body,
                body,
            );
            fake.on_get(&group_lookup("eng"), 200, body);
            let r = manage_groups(&with_admin(), &fake, &ada(), &names(&["eng"]), &[], real());
            assert!(r.is_err(), "{body}: {r:?}");
            assert!(writes(&fake).is_empty(), "{body}");
        }
    }

    /// `n` SCIM groups `g0…`, each with an id and a PATCH that answers 204.
    fn many_scim_groups(fake: &FakeTransport, n: usize) -> Vec<String> {
        let all: Vec<String> = (0..n).map(|i| format!("g{i}")).collect();
        let scim: Vec<(&str, Option<Value>)> = all
            .iter()
            .map(|n| (n.as_str(), Some(scim_group(&format!("sg-{n}"), n, &[]))))
            .collect();
        reads(
            fake,
            scim_user(&[], Some(ACCOUNT)),
            &scim,
            &admin_groups(&[]),
            &admin_user(&[]),
        );
        for name in &all {
            let url = format!("{SCIM}/Groups/sg-{name}?excludedAttributes=members");
            fake.on(Method::Patch, &url, Ok(Response::new(204, "")));
        }
        all
    }

    fn limits(max_batch: u32, max_in_flight: u32, max_requests: u32) -> HostLimits {
        HostLimits {
            max_batch,
            max_in_flight,
            max_requests,
            requests_remaining: max_requests,
        }
    }

    #[test]
    fn a_role_on_a_kind_other_than_workspace_is_unsupported_before_any_request() {
        use crate::model::RoleGrant;
        let fake = FakeTransport::new();
        let role = Entitlement::Role(RoleGrant {
            role: "administrators".into(),
            kind: "jira-project".into(),
            id: "ENG".into(),
        });
        let add = [Entitlement::Group("eng".into()), role];
        let err =
            manage_relationships(&with_admin(), &fake, &ada(), &add, &[], real()).unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Unsupported(m) if m.contains("role `administrators`") && m.contains("jira-project")),
            "{err:?}"
        );
        assert!(fake.requests().is_empty());
    }

    #[test]
    fn c10_batches_are_split_to_fit_the_hosts_max_batch_in_whole_waves() {
        // max-batch 10 with 4 in flight: batches of 8 (two whole waves), never more than 10.
        let fake = FakeTransport::with_limits(limits(10, 4, 1_000));
        let all = many_scim_groups(&fake, 30);
        let out = manage_groups(&with_admin(), &fake, &ada(), &all, &[], real()).unwrap();
        assert!(out.completed, "{out:?}");
        assert_eq!(out.changes.len(), 30);
        assert!(
            out.changes
                .iter()
                .all(|c| c.status == ChangeStatus::Applied)
        );
        let sizes: Vec<usize> = batches(&fake).iter().map(Vec::len).collect();
        assert!(sizes.iter().all(|n| *n <= 8), "{sizes:?}");
        // Reads: user + users search + 30 groups + 1 groups search = 33 → 8+8+8+8+1;
        // writes: 30 → 8+8+8+6.
        assert_eq!(sizes, [8, 8, 8, 8, 1, 8, 8, 8, 6]);
    }

    #[test]
    fn c10_writes_past_the_request_budget_are_left_for_the_next_run_not_failed_blindly() {
        // Reads take 33 requests; a budget of 40 leaves 7 writes this run.
        let fake = FakeTransport::with_limits(limits(256, 64, 40));
        let all = many_scim_groups(&fake, 30);
        let out = manage_groups(&with_admin(), &fake, &ada(), &all, &[], real()).unwrap();
        assert!(!out.completed);
        let applied = out
            .changes
            .iter()
            .filter(|c| c.status == ChangeStatus::Applied)
            .count();
        assert_eq!(applied, 7);
        for c in &out.changes[7..] {
            match &c.status {
                ChangeStatus::Failed(ConnectorError::Other(m)) => {
                    assert!(
                        m.contains("not attempted") && m.contains("max-requests = 40"),
                        "{m}"
                    )
                }
                other => panic!("expected not attempted, got {other:?}"),
            }
        }
        assert_eq!(fake.requests().len(), 40, "never past the budget");
    }

    #[test]
    fn c10_a_call_whose_reads_cannot_fit_the_budget_is_refused_before_any_request() {
        let fake = FakeTransport::with_limits(limits(256, 64, 30));
        let all = many_scim_groups(&fake, 30);
        let err = manage_groups(&with_admin(), &fake, &ada(), &all, &[], real()).unwrap_err();
        match err {
            ConnectorError::InvalidInput(m) => {
                assert!(
                    m.contains("request budget") && m.contains("max-requests = 30"),
                    "{m}"
                )
            }
            other => panic!("expected invalid-input, got {other:?}"),
        }
        assert!(fake.requests().is_empty());
    }

    #[test]
    fn the_admin_groups_search_takes_at_most_one_page_of_names_each_in_one_wave() {
        let fake = FakeTransport::new();
        let all = many_scim_groups(&fake, 250);
        manage_groups(&with_admin(), &fake, &ada(), &all, &[], real()).unwrap();
        let b = batches(&fake);
        let searches: Vec<&Request> = b[0].iter().filter(|r| r.url == GROUPS_SEARCH).collect();
        let counts: Vec<usize> = searches
            .iter()
            .map(|r| r.json_body()["groupNames"].as_array().map_or(0, Vec::len))
            .collect();
        assert_eq!(counts, [100, 100, 50]);
    }

    #[test]
    fn thousands_of_names_fold_in_n_log_n_keeping_the_first_spelling() {
        let mut add: Vec<String> = (0..5_000).map(|i| format!("Group-{i}")).collect();
        add.extend((0..5_000).map(|i| format!("GROUP-{i}")));
        let (adds, removes) = normalize_names(&add, &[]).unwrap();
        assert_eq!(adds.len(), 5_000);
        assert!(adds.iter().all(|n| n.starts_with("Group-")));
        assert!(removes.is_empty());
        let err = normalize_names(&names(&["a", "B"]), &names(&["b"])).unwrap_err();
        assert!(matches!(err, ConnectorError::InvalidInput(m) if m.contains("`B`")));
    }
}
