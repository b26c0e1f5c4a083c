//! Product roles of a user (API notes §7.1): planning and applying role grants and revokes for
//! `manage-relationships`, and the revocation of every direct role for `deprovision`.
//!
//! A role is named by a [`RoleGrant`]: the role (`atlassian/user`, or just `user`) and a
//! resource of kind `workspace` whose id is the workspace id or ARI from the workspaces
//! listing, or `<product>/<site>` (`jira-software/acme`: the product's `typeKey` and the
//! site's name or host). Requests, in round trips:
//! 1. ONE `send_all`: the first page of the workspaces listing (`{"limit":1000}`, so one page
//!    for any real organization) and the first page of the user's role assignments; further
//!    pages follow their cursors.
//! 2. ONE `send_all` of every write (`roles/assign` and `roles/revoke`, v1, still current).
//!
//! Every role and resource is resolved before the first write: an unknown role is
//! `invalid-input`, an unknown resource `not-found`, each naming every one at fault.
//! `already-done` is judged from the assignments: a role held `direct` is granted already; a
//! role not held is revoked already. A role held only through a group (`group_direct`) or by
//! inference is never sent to the user-level revoke: the change is `skipped`, naming where
//! it comes from and who can change it. A repeated grant answering 409 `ADMIN-UAM-409-2` is
//! `already-done`; so is a revoke answering 400 or 404 for a role a re-read shows gone.

use crate::config::AdminConfig;
use crate::error::ConnectorError;
use crate::model::{AccountId, Change, ChangeKind, ChangeStatus, RoleGrant};
use crate::roles::{
    self, Assignment, AssignmentPage, RESOURCE_KIND, USER_ROLES, Workspace, WorkspacePage,
};
use crate::transport::{HttpError, Request, Response, Transport};
use crate::upstream::{self, Api};
use crate::wire::FromJson;
use crate::{admin, text};

use super::common::{admin_ctx, admin_get, admin_post, admin_search, send_batch};
use super::relationships::{MAX_SEARCH_PAGES, quoted_list};

/// One role change wanted, with its canonical role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// `atlassian/…`.
    pub role: String,
    /// The resource as the caller named it.
    pub resource: String,
    /// Grant (true) or revoke.
    pub grant: bool,
}

/// Checks the roles to grant a user and revoke before any request: the kind is `workspace`,
/// the role one the user endpoints take (`org-admin` is `unsupported`), no role both granted
/// and revoked.
pub fn wanted(add: &[RoleGrant], remove: &[RoleGrant]) -> Result<Vec<Wanted>, ConnectorError> {
    wanted_for(add, remove, USER_ROLES, "a user")
}

/// [`wanted`] for a holder (`a user`, `a group`) whose endpoints take the roles `allowed`.
pub fn wanted_for(
    add: &[RoleGrant],
    remove: &[RoleGrant],
    allowed: &[&str],
    holder: &str,
) -> Result<Vec<Wanted>, ConnectorError> {
    let mut out: Vec<Wanted> = Vec::new();
    let mut bad: Vec<&str> = Vec::new();
    for (list, grant) in [(add, true), (remove, false)] {
        for r in list {
            if r.kind != RESOURCE_KIND {
                return Err(ConnectorError::Unsupported(format!(
                    "role `{}` on {} `{}`: a role's resource must be of kind \
                     `{RESOURCE_KIND}` (a product on a site); nothing was changed",
                    r.role, r.kind, r.id
                )));
            }
            if roles::strip_role_prefixes(&r.role) == "org-admin" {
                return Err(ConnectorError::Unsupported(
                    "the org-admin role is granted through the organization's role \
                     assignments, which this connector does not manage; nothing was changed"
                        .into(),
                ));
            }
            if r.id.trim().is_empty() || r.id.chars().any(char::is_control) {
                return Err(ConnectorError::InvalidInput(format!(
                    "the resource of role `{}` is empty or not an identifier",
                    r.role
                )));
            }
            let Some(role) = roles::canonical_role(&r.role, allowed) else {
                bad.push(&r.role);
                continue;
            };
            let w = Wanted {
                role,
                resource: r.id.trim().to_string(),
                grant,
            };
            let twin = out.iter().find(|o| {
                o.role == w.role && text::fold_case(&o.resource) == text::fold_case(&w.resource)
            });
            match twin {
                Some(t) if t.grant != grant => {
                    return Err(ConnectorError::InvalidInput(format!(
                        "role `{}` on `{}` is both granted and revoked: say which",
                        w.role, w.resource
                    )));
                }
                Some(_) => {}
                None => out.push(w),
            }
        }
    }
    if !bad.is_empty() {
        return Err(ConnectorError::InvalidInput(format!(
            "unknown role(s) {}: {holder} may hold atlassian/ + one of {}",
            quoted_list(&bad),
            text::join(allowed, ", ")
        )));
    }
    Ok(out)
}

/// The organization's workspaces and the user's current assignments.
pub struct Current {
    /// Every workspace.
    pub workspaces: Vec<Workspace>,
    /// Every role the user holds.
    pub assignments: Vec<Assignment>,
}

/// The request for one page of the workspaces listing.
pub(super) fn workspaces_page(a: &AdminConfig, cursor: Option<&str>) -> Request {
    admin_search(
        roles::workspaces_url(&a.api_url, &a.org_id),
        roles::workspaces_body(cursor),
    )
}

fn assignments_page(a: &AdminConfig, account: &str, cursor: Option<&str>) -> Request {
    admin_get(roles::user_assignments_url(
        &a.api_url, &a.org_id, account, cursor,
    ))
}

/// One page's answer, parsed.
fn parse<T: FromJson>(
    subject: &str,
    answer: Result<Response, HttpError>,
) -> Result<T, ConnectorError> {
    let resp = upstream::check(&admin_ctx(subject), answer)?;
    upstream::parse_json(Api::Admin, &resp)
}

/// Reads every page of `first`'s listing: `next` gives a page's items and cursor, `more` the
/// request for the page after a cursor. At most [`MAX_SEARCH_PAGES`] pages.
pub(super) fn follow<T, P: FromJson>(
    transport: &dyn Transport,
    subject: &str,
    first: Result<Response, HttpError>,
    split: impl Fn(P) -> (Vec<T>, Option<String>),
    more: impl Fn(&str) -> Request,
) -> Result<Vec<T>, ConnectorError> {
    let (mut items, mut next) = split(parse(subject, first)?);
    let mut pages = 1;
    while let Some(cursor) = next {
        if pages >= MAX_SEARCH_PAGES {
            return Err(ConnectorError::Other(format!(
                "{subject} spans more than {MAX_SEARCH_PAGES} pages; giving up"
            )));
        }
        let (mut page, n) = split(parse(subject, transport.send(more(&cursor)))?);
        items.append(&mut page);
        next = n;
        pages += 1;
    }
    Ok(items)
}

/// Reads the workspaces (when `with_workspaces`) and the assignments of `account`: one
/// `send_all` for both first pages.
pub fn read(
    transport: &dyn Transport,
    a: &AdminConfig,
    account: &AccountId,
    with_workspaces: bool,
) -> Result<Current, ConnectorError> {
    let mut batch = vec![assignments_page(a, account, None)];
    if with_workspaces {
        batch.push(workspaces_page(a, None));
    }
    let mut answers = send_batch(transport, batch).into_iter();
    let mut next = || {
        answers
            .next()
            .unwrap_or_else(|| Err(HttpError::Other("no result for this request".into())))
    };
    let who = format!("the role assignments of account `{account}`");
    let assignments = follow(
        transport,
        &who,
        next(),
        |p: AssignmentPage| (p.data, p.next),
        |c| assignments_page(a, account, Some(c)),
    )?;
    let workspaces = if with_workspaces {
        workspaces(transport, a, next())?
    } else {
        Vec::new()
    };
    Ok(Current {
        workspaces,
        assignments,
    })
}

/// Every workspace of the organization, from the answer to the first page's request
/// ([`workspaces_page`]) on.
pub(super) fn workspaces(
    transport: &dyn Transport,
    a: &AdminConfig,
    first: Result<Response, HttpError>,
) -> Result<Vec<Workspace>, ConnectorError> {
    follow(
        transport,
        "the organization's workspaces",
        first,
        |p: WorkspacePage| (p.data, p.next),
        |c| workspaces_page(a, Some(c)),
    )
}

/// The workspace a resource names: its id (an ARI), or `<product>/<site>`.
fn find<'a>(workspaces: &'a [Workspace], resource: &str) -> Option<&'a Workspace> {
    if let Some(w) = workspaces.iter().find(|w| w.id == resource) {
        return Some(w);
    }
    let (product, site) = resource.split_once('/')?;
    if resource.starts_with("ari:") {
        return None;
    }
    workspaces
        .iter()
        .find(|w| w.product.eq_ignore_ascii_case(product) && w.on_site(site))
}

/// One role change, planned.
pub struct Planned {
    /// `add-role` or `remove-role`.
    pub kind: ChangeKind,
    /// `atlassian/user@workspace:ari:cloud:jira-software::site/…`.
    pub target: String,
    /// The role.
    pub role: String,
    /// The resource id.
    pub resource: String,
    /// Where the role comes from today, for `before`.
    pub before: String,
    /// The write, when one is needed and it is no dry run.
    pub write: Option<Request>,
    /// What became of it.
    pub status: ChangeStatus,
}

impl Planned {
    /// The outcome's change.
    pub fn into_change(self) -> Change {
        let after = match self.kind {
            ChangeKind::AddRole => "held directly",
            _ => "not held directly",
        };
        Change {
            kind: self.kind,
            target: self.target,
            before: Some(self.before),
            after: Some(after.into()),
            status: self.status,
        }
    }
}

fn describe_holding(held: Option<&Assignment>) -> String {
    match held {
        None => "not held".into(),
        Some(a) => {
            let mut parts: Vec<&str> = Vec::new();
            if a.direct() {
                parts.push("directly");
            }
            parts.extend(a.other_sources());
            format!("held {}", text::join(&parts, " and "))
        }
    }
}

/// The write of one role change.
fn write(a: &AdminConfig, account: &str, role: &str, resource: &str, grant: bool) -> Request {
    admin_post(
        roles::user_role_url(&a.api_url, &a.org_id, account, grant),
        roles::user_role_body(role, resource),
    )
}

fn skipped_reason(held: &Assignment) -> String {
    format!(
        "`{}` is held {} only: a user-level revoke cannot take it away; an administrator \
         must change the group's roles or the user's membership (or the role it is inferred from)",
        held.role,
        text::join(&held.other_sources(), " and ")
    )
}

/// Resolves every wanted role against `current` (every resource known, or `not-found`
/// naming each unknown one) and plans each change.
pub fn plan(
    a: &AdminConfig,
    account: &AccountId,
    wanted: &[Wanted],
    current: &Current,
    dry_run: bool,
) -> Result<Vec<Planned>, ConnectorError> {
    plan_with(wanted, current, dry_run, &|role, resource, grant| {
        write(a, account, role, resource, grant)
    })
}

/// [`plan`] for any holder: `write(role, resource, grant)` is the request of one change.
pub fn plan_with(
    wanted: &[Wanted],
    current: &Current,
    dry_run: bool,
    write: &dyn Fn(&str, &str, bool) -> Request,
) -> Result<Vec<Planned>, ConnectorError> {
    let mut unknown: Vec<&str> = Vec::new();
    let mut out = Vec::with_capacity(wanted.len());
    for w in wanted {
        let Some(ws) = find(&current.workspaces, &w.resource) else {
            unknown.push(&w.resource);
            continue;
        };
        let held = current
            .assignments
            .iter()
            .find(|h| h.resource == ws.id && h.role == w.role);
        let direct = held.is_some_and(Assignment::direct);
        let status = match (w.grant, held) {
            (true, _) if direct => ChangeStatus::AlreadyDone,
            (false, None) => ChangeStatus::AlreadyDone,
            (false, Some(h)) if !direct => ChangeStatus::Skipped(skipped_reason(h)),
            _ => ChangeStatus::Planned,
        };
        let needs_write = matches!(status, ChangeStatus::Planned) && !dry_run;
        out.push(Planned {
            kind: if w.grant {
                ChangeKind::AddRole
            } else {
                ChangeKind::RemoveRole
            },
            target: target(&w.role, ws),
            role: w.role.clone(),
            resource: ws.id.clone(),
            before: describe_holding(held),
            write: needs_write.then(|| write(&w.role, &ws.id, w.grant)),
            status,
        });
    }
    if !unknown.is_empty() {
        return Err(ConnectorError::NotFound(format!(
            "unknown resource(s) {}: not among the organization's workspaces (name one by its \
             id, or as <product>/<site>, e.g. jira-software/acme); nothing was changed",
            quoted_list(&unknown)
        )));
    }
    Ok(out)
}

/// How a change names its role and resource: `ROLE@workspace:ID`, the text the host's
/// surfaces (CLI, workflows, batch, audit log) write an entitlement in, with the workspace's
/// own id, so a change's target can be given back as it is.
pub fn target(role: &str, ws: &Workspace) -> String {
    format!("{role}@{RESOURCE_KIND}:{}", ws.id)
}

/// Plans the revocation of every direct role of `current` (deprovision), and reports each
/// role held only through a group or by inference as `skipped`.
pub fn revoke_all(
    a: &AdminConfig,
    account: &AccountId,
    current: &Current,
    dry_run: bool,
) -> Vec<Planned> {
    let mut out = Vec::with_capacity(current.assignments.len());
    for h in &current.assignments {
        let direct = h.direct();
        let ws = Workspace {
            id: h.resource.clone(),
            ..Workspace::default()
        };
        out.push(Planned {
            kind: ChangeKind::RemoveRole,
            target: target(&h.role, &ws),
            role: h.role.clone(),
            resource: h.resource.clone(),
            before: describe_holding(Some(h)),
            write: (direct && !dry_run).then(|| write(a, account, &h.role, &h.resource, false)),
            status: if direct {
                ChangeStatus::Planned
            } else {
                ChangeStatus::Skipped(skipped_reason(h))
            },
        });
    }
    out
}

/// Sends every planned write in one `send_all` and judges each answer. A revoke answering
/// 400 or 404 is judged by one re-read of the assignments: gone is `already-done`.
pub fn apply(
    transport: &dyn Transport,
    a: &AdminConfig,
    account: &AccountId,
    planned: &mut [Planned],
) {
    apply_with(transport, planned, &|| {
        read(transport, a, account, false)
            .ok()
            .map(|now| now.assignments)
    });
}

/// [`apply`] for any holder: `reread` reads the holder's assignments again (`None` when
/// that read fails: the refused revokes then stay failed).
pub fn apply_with(
    transport: &dyn Transport,
    planned: &mut [Planned],
    reread: &dyn Fn() -> Option<Vec<Assignment>>,
) {
    let mut writes = Vec::new();
    for p in planned.iter() {
        if let Some(w) = &p.write {
            writes.push(w.clone());
        }
    }
    let mut answers = send_batch(transport, writes).into_iter();
    let mut recheck = false;
    for p in planned.iter_mut().filter(|p| p.write.is_some()) {
        let answer = answers
            .next()
            .unwrap_or_else(|| Err(HttpError::Other("the host returned no result".into())));
        p.status = judge(p, answer);
        recheck |= matches!(p.status, ChangeStatus::Failed(_)) && p.kind == ChangeKind::RemoveRole;
    }
    if !recheck {
        return;
    }
    let Some(now) = reread() else {
        return;
    };
    for p in planned.iter_mut() {
        let gone = !now
            .iter()
            .any(|h| h.resource == p.resource && h.role == p.role && h.direct());
        let refused = matches!(&p.status, ChangeStatus::Failed(ConnectorError::NotFound(_)))
            || matches!(&p.status, ChangeStatus::Failed(ConnectorError::Upstream(u)) if u.status == Some(400));
        if p.kind == ChangeKind::RemoveRole && refused && gone {
            p.status = ChangeStatus::AlreadyDone;
        }
    }
}

fn judge(p: &Planned, answer: Result<Response, HttpError>) -> ChangeStatus {
    let resp = match answer {
        Ok(r) => r,
        Err(e) => return ChangeStatus::Failed(upstream::from_http_error(Api::Admin, e)),
    };
    let code = upstream::error_code(Api::Admin, &resp);
    if p.kind == ChangeKind::AddRole
        && resp.status == 409
        && code.as_deref() == Some(admin::ALREADY_MEMBER)
    {
        return ChangeStatus::AlreadyDone;
    }
    let subject = format!("role {}", p.target);
    match upstream::classify(&admin_ctx(&subject), resp) {
        Ok(_) => ChangeStatus::Applied,
        Err(e) => ChangeStatus::Failed(e),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::actions::deprovision::tests::*;
    use crate::actions::manage_relationships;
    use crate::model::{ActionOptions, Entitlement, Outcome};
    use crate::transport::{FakeTransport, Method};

    pub const ARI: &str = "ari:cloud:jira-software::site/c-1";
    const ASSIGNMENTS: &str = "https://api.atlassian.com/admin/v2/orgs/org-1/directories/-/users/712020%3Aabc/role-assignments?limit=100";
    pub const WORKSPACES: &str = "https://api.atlassian.com/admin/v2/orgs/org-1/workspaces";
    pub const ASSIGN: &str =
        "https://api.atlassian.com/admin/v1/orgs/org-1/users/712020%3Aabc/roles/assign";
    pub const REVOKE: &str =
        "https://api.atlassian.com/admin/v1/orgs/org-1/users/712020%3Aabc/roles/revoke";

    /// The requests that change something (the searches and the workspaces POST are reads).
    fn writes(fake: &FakeTransport) -> Vec<Request> {
        fake.requests()
            .into_iter()
            .filter(|r| r.method != Method::Get && !r.read_only)
            .collect()
    }

    fn role(role: &str, id: &str) -> Entitlement {
        Entitlement::Role(RoleGrant {
            role: role.into(),
            kind: RESOURCE_KIND.into(),
            id: id.into(),
        })
    }

    /// Ada found, the site's one workspace, and her assignments: (role, methods).
    fn script(fake: &FakeTransport, held: &[(&str, &[&str])]) {
        fake.on_get(ADA_LOOKUP, 200, &scim_ada(&[], true).to_string());
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, &admin_ada(&[], "active"))),
        );
        let ws = format!(
            r#"{{"data":[{{"id":"{ARI}","attributes":{{"typeKey":"jira-software","name":"acme","hostUrl":"https://acme.atlassian.net"}}}}],"links":{{}}}}"#
        );
        fake.on(Method::Post, WORKSPACES, Ok(Response::json(200, &ws)));
        let roles: Vec<String> = held
            .iter()
            .map(|(r, m)| {
                let methods: Vec<String> = m.iter().map(|x| format!("\"{x}\"")).collect();
                format!(
                    r#"{{"role":"{r}","roleAssignmentMethods":[{}]}}"#,
                    methods.join(",")
                )
            })
            .collect();
        let body = format!(
            r#"{{"data":[{{"resourceId":"{ARI}","roleAssignments":[{}]}}],"links":{{}}}}"#,
            roles.join(",")
        );
        fake.on_get(ASSIGNMENTS, 200, &body);
    }

    fn run(
        fake: &FakeTransport,
        add: &[Entitlement],
        remove: &[Entitlement],
        dry_run: bool,
    ) -> Result<Outcome, ConnectorError> {
        manage_relationships(
            &with_admin(None),
            fake,
            &ada(),
            add,
            remove,
            ActionOptions { dry_run },
        )
    }

    fn statuses(o: &Outcome) -> Vec<(ChangeKind, ChangeStatus)> {
        o.changes
            .iter()
            .map(|c| (c.kind, c.status.clone()))
            .collect()
    }

    #[test]
    fn i1_a_grant_is_one_assign_after_two_read_round_trips() {
        let fake = FakeTransport::new();
        script(&fake, &[]);
        fake.on(Method::Post, ASSIGN, Ok(Response::new(204, "")));
        let o = run(&fake, &[role("user", "jira-software/acme")], &[], false).unwrap();
        assert!(o.completed, "{o:?}");
        assert_eq!(statuses(&o), [(ChangeKind::AddRole, ChangeStatus::Applied)]);
        assert!(o.changes[0].target.contains(ARI), "{}", o.changes[0].target);
        let b = batches(&fake);
        assert_eq!(b.len(), 3, "{b:?}");
        assert_eq!(b[1].len(), 2, "assignments and workspaces together");
        assert!(b[1][1].read_only, "the workspaces POST is a read");
        let w = writes(&fake);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].url, ASSIGN);
        assert_eq!(
            w[0].json_body(),
            serde_json::json!({"role": "atlassian/user", "resource": ARI})
        );
    }

    #[test]
    fn i1_held_directly_is_already_done_and_a_409_2_too() {
        let fake = FakeTransport::new();
        script(&fake, &[("atlassian/user", &["group_direct", "direct"])]);
        let o = run(&fake, &[role("atlassian/user", ARI)], &[], false).unwrap();
        assert_eq!(
            statuses(&o),
            [(ChangeKind::AddRole, ChangeStatus::AlreadyDone)]
        );
        assert!(writes(&fake).is_empty());
        let fake = FakeTransport::new();
        script(&fake, &[]);
        fake.on(
            Method::Post,
            ASSIGN,
            Ok(Response::json(
                409,
                r#"{"errors":[{"status":409,"code":"ADMIN-UAM-409-2"}]}"#,
            )),
        );
        let o = run(&fake, &[role("user", ARI)], &[], false).unwrap();
        assert_eq!(
            statuses(&o),
            [(ChangeKind::AddRole, ChangeStatus::AlreadyDone)]
        );
    }

    #[test]
    fn i2_revoke_a_direct_role_and_one_not_held() {
        let fake = FakeTransport::new();
        script(&fake, &[("atlassian/admin", &["direct"])]);
        fake.on(Method::Post, REVOKE, Ok(Response::new(204, "")));
        let o = run(
            &fake,
            &[],
            &[role("admin", ARI), role("guest", "JIRA-SOFTWARE/Acme")],
            false,
        )
        .unwrap();
        assert_eq!(
            statuses(&o),
            [
                (ChangeKind::RemoveRole, ChangeStatus::Applied),
                (ChangeKind::RemoveRole, ChangeStatus::AlreadyDone)
            ]
        );
        let w = writes(&fake);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].url, REVOKE);
    }

    #[test]
    fn a_revoke_refused_404_for_a_role_gone_on_re_read_is_already_done() {
        let fake = FakeTransport::new();
        script(&fake, &[("atlassian/admin", &["direct"])]);
        fake.on_get(ASSIGNMENTS, 200, r#"{"data":[],"links":{}}"#);
        fake.on(
            Method::Post,
            REVOKE,
            Ok(Response::json(
                404,
                r#"{"errors":[{"code":"ADMIN-UAM-404-1"}]}"#,
            )),
        );
        let o = run(&fake, &[], &[role("admin", ARI)], false).unwrap();
        assert_eq!(
            statuses(&o),
            [(ChangeKind::RemoveRole, ChangeStatus::AlreadyDone)]
        );
    }

    #[test]
    fn i3_group_granted_and_inferred_roles_are_skipped_with_their_source() {
        let fake = FakeTransport::new();
        script(
            &fake,
            &[
                ("atlassian/user", &["group_direct"]),
                ("atlassian/admin", &["inferred"]),
            ],
        );
        let o = run(&fake, &[], &[role("user", ARI), role("admin", ARI)], false).unwrap();
        assert!(o.completed);
        for c in &o.changes {
            let ChangeStatus::Skipped(why) = &c.status else {
                panic!("{c:?}");
            };
            assert!(why.contains("administrator"), "{why}");
        }
        assert!(
            matches!(&o.changes[0].status, ChangeStatus::Skipped(w) if w.contains("group_direct"))
        );
        assert!(matches!(&o.changes[1].status, ChangeStatus::Skipped(w) if w.contains("inferred")));
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn i4_unknown_role_kind_or_resource_fail_before_any_write() {
        let fake = FakeTransport::new();
        let e = run(&fake, &[role("overlord", ARI)], &[], false).unwrap_err();
        assert!(matches!(&e, ConnectorError::InvalidInput(m) if m.contains("overlord")));
        let e = run(&fake, &[role("org-admin", ARI)], &[], false).unwrap_err();
        assert!(matches!(e, ConnectorError::Unsupported(_)));
        let other_kind = Entitlement::Role(RoleGrant {
            role: "user".into(),
            kind: "jira-project".into(),
            id: "P".into(),
        });
        let e = run(&fake, &[other_kind], &[], false).unwrap_err();
        assert!(matches!(e, ConnectorError::Unsupported(_)));
        let e = run(&fake, &[role("user", ARI)], &[role("user", ARI)], false).unwrap_err();
        assert!(matches!(e, ConnectorError::InvalidInput(_)));
        assert!(fake.calls().is_empty(), "no request for a malformed call");

        script(&fake, &[]);
        let e = run(
            &fake,
            &[role("user", ARI), role("user", "confluence/acme")],
            &[Entitlement::Group("g".into())],
            false,
        )
        .unwrap_err();
        assert!(
            matches!(&e, ConnectorError::NotFound(m) if m.contains("confluence/acme")),
            "{e:?}"
        );
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn i4_licence_limit_is_a_failed_change() {
        let fake = FakeTransport::new();
        script(&fake, &[]);
        fake.on(
            Method::Post,
            ASSIGN,
            Ok(Response::json(
                409,
                r#"{"errors":[{"status":409,"code":"ADMIN-UAM-409-3","title":"Conflict"}]}"#,
            )),
        );
        let o = run(&fake, &[role("user", ARI)], &[], false).unwrap();
        assert!(!o.completed);
        assert!(
            matches!(&o.changes[0].status, ChangeStatus::Failed(ConnectorError::Conflict(m)) if m.contains("409-3"))
        );
    }

    #[test]
    fn dry_run_plans_with_reads_only_and_a_scim_only_config_names_the_admin_key() {
        let fake = FakeTransport::new();
        script(&fake, &[]);
        let o = run(&fake, &[role("user", ARI)], &[], true).unwrap();
        assert_eq!(statuses(&o), [(ChangeKind::AddRole, ChangeStatus::Planned)]);
        assert!(writes(&fake).is_empty());
        let fake = FakeTransport::new();
        let e = manage_relationships(
            &scim_only(),
            &fake,
            &ada(),
            &[role("user", ARI)],
            &[],
            ActionOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.config_key(), Some("admin_api_key"));
        assert!(fake.calls().is_empty());
    }
}
