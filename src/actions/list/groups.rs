//! `list-groups`: SCIM groups first (synced groups, members inline as SCIM user ids), then,
//! when the admin API is configured, the organization's other groups (admin-managed, members
//! as account ids).
//!
//! Requests per page:
//! - SCIM phase: `GET {scim_url}/Groups?startIndex=S&count=C`; with admin configured also
//!   `POST …/directories/{dirId}/groups/search {"groupNames":[names of the page]}` (pages
//!   followed), to merge each synced group with its admin id: it appears once.
//! - admin phase: `POST …/directories/-/groups/search {"limit","cursor"}`; groups synced
//!   into this SCIM directory are skipped (they were listed with SCIM). For the rest, the
//!   members come from one `POST …/directories/-/users/search {"groupIds":[ids of the
//!   page],"expand":["groups"],"limit":100}`, its pages followed (atlassian-api §7.5).
//!
//! So an admin page of groups whose distinct members number U costs 1 + max(1, ⌈U ÷ 100⌉)
//! requests, and the whole admin phase ⌈G ÷ 100⌉ + Σ max(1, ⌈U_page ÷ 100⌉) ≤
//! 2 ⌈G ÷ 100⌉ + ⌈M ÷ 100⌉ for G groups holding M memberships: O(memberships ÷ page
//! size), whatever the size of the directory (conformance K2 asserts it).
//!
//! A call of more than 100 groups reads several admin pages: when a page leaves a whole
//! page of room in the call (its synced groups, skipped, leave room too), the next page's
//! groups search goes out in one `send-all` beside the page's first members search. The
//! same requests, one round trip fewer per page after the first; no page is asked twice,
//! except the one read ahead when a call stops at [`MAX_CALL_MEMBERS`] memberships.

use super::cursor::{Cursor, Listing};
use super::users::scim_subject;
use super::{StringSet, fill, malformed, page_limit, post_json, repeated, scim_page, start};
use crate::actions::index::FoldedIndex;
use crate::admin;
use crate::config::{ADMIN_API_KEY, AdminConfig, ConnectorConfig, SCIM_TOKEN};
use crate::error::ConnectorError;
use crate::model::{AccountId, Config, GroupId, GroupPage, GroupRecord, Id, PageRequest, ScimId};
use crate::scim;
use crate::transport::{Auth, HttpError, Request, Response, Transport};
use crate::upstream::{self, Api, Context};

/// Most pages of one admin walk (a directory holds at most 150,000 users: 1,500 pages).
const MAX_WALK_PAGES: usize = 2_000;

/// One page of the organization's groups, with their members.
pub fn list_groups(
    config: &Config,
    transport: &dyn Transport,
    page: &PageRequest,
) -> Result<GroupPage, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    let limit = page_limit(page)?;
    let first = start(page, Listing::Groups)?.unwrap_or(Cursor::GroupsScim { start_index: 1 });
    if matches!(first, Cursor::GroupsAdmin { .. }) {
        cfg.require_admin()?;
    }
    let (items, next_cursor) = fill(first, |cursor| match cursor {
        Cursor::GroupsScim { start_index } => scim_step(&cfg, transport, start_index, limit),
        Cursor::GroupsAdmin {
            cursor,
            page_limit,
            skip,
        } => admin_step(
            cfg.require_admin()?,
            transport,
            (cursor, page_limit, skip),
            limit,
            None,
            MAX_CALL_MEMBERS,
        ),
        _ => Err(ConnectorError::InvalidInput(
            "the page cursor is not one of list-groups".to_string(),
        )),
    })?;
    Ok(GroupPage { items, next_cursor })
}

type Step = Result<(Vec<GroupRecord>, Option<Cursor>), ConnectorError>;

/// A groups search answer sent ahead, with the members search of the page before it.
type Ahead = Option<Result<Response, HttpError>>;

/// The memberships after which a call reads no further admin page (a few MiB of the guest's
/// memory): a call of 1,000 groups of thousands of members each would not fit.
const MAX_CALL_MEMBERS: usize = 100_000;

fn scim_step(
    cfg: &ConnectorConfig,
    transport: &dyn Transport,
    start_index: u64,
    limit: u32,
) -> Step {
    let subject = scim_subject(cfg);
    let ctx = Context {
        api: Api::Scim,
        credential: SCIM_TOKEN,
        subject: &subject,
    };
    let url = scim::groups_url(&cfg.scim.url, start_index, limit);
    let (groups, next) = scim_page::<scim::Group>(transport, &ctx, url, start_index, limit)?;
    let mut records = Vec::with_capacity(groups.len());
    for g in groups {
        let (Some(id), Some(name)) = (g.id.filter(|s| !s.is_empty()), g.display_name) else {
            return Err(malformed(
                Api::Scim,
                200,
                "a listed group has no `id` or no `displayName`",
            ));
        };
        records.push(GroupRecord {
            name,
            scim_id: Some(ScimId::from(id)),
            group_id: None,
            synced: true,
            members: {
                // Moved, not copied: a synced group may hold 35,000 members.
                let mut ids = Vec::with_capacity(g.members.len());
                for m in g.members {
                    if let Some(id) = m.value.filter(|v| !v.is_empty()) {
                        ids.push(Id::Scim(ScimId::from(id)));
                    }
                }
                ids
            },
        });
    }
    if let Some(admin) = &cfg.admin
        && !records.is_empty()
    {
        merge_admin_ids(admin, transport, &mut records)?;
    }
    let next = match next {
        Some(start_index) => Some(Cursor::GroupsScim { start_index }),
        None => cfg.admin.as_ref().map(|_| Cursor::GroupsAdmin {
            cursor: None,
            page_limit: admin::MAX_LIMIT,
            skip: 0,
        }),
    };
    Ok((records, next))
}

fn admin_ctx(admin: &AdminConfig) -> (String, Api) {
    (
        format!("organization `{}` (scim_organization_id)", admin.org_id),
        Api::Admin,
    )
}

/// True for a group synced into this SCIM directory: SCIM lists it, so the admin phase skips
/// it and the SCIM phase merges its admin id.
fn synced_here(g: &admin::Group, admin: &AdminConfig) -> bool {
    g.is_synced()
        && g.directory_id
            .as_deref()
            .is_none_or(|d| d == admin.directory_id)
}

/// One admin groups search: the request.
fn groups_search(admin: &AdminConfig, directory: &str, body: Vec<u8>) -> Request {
    let url = admin::groups_search_url(&admin.api_url, &admin.org_id, directory);
    post_json(url, body, Auth::bearer(ADMIN_API_KEY))
}

/// One admin search page, sent now or already answered (`ahead`).
fn admin_search(
    admin: &AdminConfig,
    transport: &dyn Transport,
    directory: &str,
    body: Vec<u8>,
    ahead: Ahead,
) -> Result<(admin::Page<admin::Group>, Response), ConnectorError> {
    let (subject, api) = admin_ctx(admin);
    let ctx = Context {
        api,
        credential: ADMIN_API_KEY,
        subject: &subject,
    };
    let answer = match ahead {
        Some(answer) => answer,
        None => transport.send(groups_search(admin, directory, body)),
    };
    let resp = upstream::check(&ctx, answer)?;
    let page = upstream::parse_json(Api::Admin, &resp)?;
    Ok((page, resp))
}

fn next_of<T>(page: &admin::Page<T>) -> Option<String> {
    page.links
        .as_ref()
        .and_then(|l| l.next.clone())
        .filter(|n| !n.is_empty())
}

/// Sets `admin_id` of each SCIM group from the admin group of the same name synced into
/// this directory (one search per 100 names, its pages followed).
fn merge_admin_ids(
    admin: &AdminConfig,
    transport: &dyn Transport,
    records: &mut [GroupRecord],
) -> Result<(), ConnectorError> {
    let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
    let mut found: Vec<admin::Group> = Vec::new();
    for chunk in names.chunks(usize::try_from(admin::MAX_LIMIT).unwrap_or(100)) {
        let mut cursor: Option<String> = None;
        let mut seen = StringSet::default();
        for _ in 0..MAX_WALK_PAGES {
            let body = admin::groups_search_body(Some(chunk), admin::MAX_LIMIT, cursor.as_deref());
            let (page, resp) = admin_search(admin, transport, &admin.directory_id, body, None)?;
            let next = next_of(&page);
            found.extend(page.data.into_iter().filter(|g| synced_here(g, admin)));
            match next {
                None => break,
                Some(n) if !seen.insert(n.clone()) => {
                    return Err(repeated(Api::Admin, resp.status, "cursor"));
                }
                Some(n) => cursor = Some(n),
            }
        }
    }
    for r in records.iter_mut() {
        r.group_id = found
            .iter()
            .find(|g| {
                g.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&r.name))
            })
            .and_then(|g| GroupId::from_wire(g.id.as_deref()));
    }
    Ok(())
}

/// The admin phase from a page of groups (`cursor`, `page_limit`, `skip`): at most `limit`
/// groups, with their members; `ahead` is the page's groups search when it went out with
/// the page before. When every group of a full page is kept, a full page of room is left
/// and the page ends on a boundary, the next page's groups search goes out in one
/// `send-all` with this page's first members search, and the call goes on with it: each
/// further page costs one round trip less and no request more (the call reads that page
/// anyway, whole, so no later call asks for it again); a call so reads at most
/// ⌈limit ÷ 100⌉ pages, and stops early once it holds `budget` memberships (the page sent
/// ahead is then asked again by the next call: one request more). A page of only skipped
/// groups ends the step, and `fill` goes on.
fn admin_step(
    admin: &AdminConfig,
    transport: &dyn Transport,
    (cursor, page_limit, skip): (Option<String>, u32, u32),
    limit: u32,
    ahead: Ahead,
    budget: usize,
) -> Step {
    // Resuming inside a page needs that page again: same cursor, same limit.
    let request_limit = if skip > 0 {
        page_limit
    } else {
        limit.min(admin::MAX_LIMIT)
    };
    let body = admin::groups_search_body::<&str>(None, request_limit, cursor.as_deref());
    let (page, resp) = admin_search(admin, transport, admin::ALL_DIRECTORIES, body, ahead)?;
    let next_page = next_of(&page);
    // Skipped groups (synced here) do not count towards the limit: take groups one by one.
    let len = page.data.len();
    let mut consumed = usize::try_from(skip).unwrap_or(usize::MAX).min(len);
    let mut groups = Vec::new();
    for g in page.data.into_iter().skip(consumed) {
        if groups.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            break;
        }
        consumed = consumed.saturating_add(1);
        if !synced_here(&g, admin) {
            groups.push(g);
        }
    }
    let next = if consumed < len {
        Some(Cursor::GroupsAdmin {
            cursor: cursor.clone(),
            page_limit: request_limit,
            skip: u32::try_from(consumed).unwrap_or(u32::MAX),
        })
    } else {
        match next_page {
            None => None,
            Some(n) if Some(&n) == cursor.as_ref() => {
                return Err(repeated(Api::Admin, resp.status, "cursor"));
            }
            Some(n) => Some(Cursor::GroupsAdmin {
                cursor: Some(n),
                page_limit: request_limit,
                skip: 0,
            }),
        }
    };
    // The page's group ids by position: a group listed twice is searched once, for its
    // first position, and its record there gets the members.
    let ids = FoldedIndex::exact(groups.iter().map(|g| g.id.as_deref().unwrap_or_default()));
    let wanted: Vec<&str> = groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| g.id.as_deref().filter(|id| ids.first(id) == Some(i)))
        .collect();
    // The next page, sent with the members search when this call will read it anyway, and
    // whole: a full page of room left, so no later call asks for the same page again. This
    // page's synced groups (skipped) leave that room too.
    let left = limit.saturating_sub(u32::try_from(groups.len()).unwrap_or(u32::MAX));
    let host = transport.limits();
    let overlap = host.max_batch.min(host.max_in_flight) >= 2;
    let read_ahead = match &next {
        Some(Cursor::GroupsAdmin {
            cursor: Some(c),
            skip: 0,
            ..
        }) if left >= admin::MAX_LIMIT && !wanted.is_empty() && overlap => {
            let body = admin::groups_search_body::<&str>(None, admin::MAX_LIMIT, Some(c));
            Some(groups_search(admin, admin::ALL_DIRECTORIES, body))
        }
        _ => None,
    };
    let (mut members, sent_ahead) = if wanted.is_empty() {
        (Vec::new(), None)
    } else {
        admin_members(admin, transport, &wanted, &ids, groups.len(), read_ahead)?
    };
    let mut records: Vec<GroupRecord> = Vec::with_capacity(groups.len());
    for (i, g) in groups.iter().enumerate() {
        let Some(id) = g.id.as_deref().filter(|s| !s.is_empty()) else {
            return Err(malformed(
                Api::Admin,
                resp.status,
                "a listed group has no `id`",
            ));
        };
        // Moved into the group's record, copied only for a repeat (a group may hold 35,000
        // members); `records[j]` is the record of the page's group j.
        let group_members = match ids.first(id) {
            Some(first) if first < i => records
                .get(first)
                .map(|r| r.members.clone())
                .unwrap_or_default(),
            _ => members.get_mut(i).map(std::mem::take).unwrap_or_default(),
        };
        records.push(GroupRecord {
            name: g.name.clone().unwrap_or_else(|| id.to_string()),
            scim_id: None,
            synced: g.is_synced(),
            members: group_members,
            group_id: Some(GroupId::from(id.to_string())),
        });
    }
    let held: usize = records.iter().map(|r| r.members.len()).sum();
    match (next, sent_ahead) {
        (
            Some(Cursor::GroupsAdmin {
                cursor,
                page_limit,
                skip,
            }),
            Some(ahead),
        ) if held < budget => {
            let at = (cursor, page_limit, skip);
            let (more, next) = admin_step(admin, transport, at, left, Some(ahead), budget - held)?;
            records.extend(more);
            Ok((records, next))
        }
        (next, _) => Ok((records, next)),
    }
}

/// The members (account ids) of the groups `wanted` (distinct ids), by the position
/// `index` gives each id among the page's `groups`, from one users search filtered by
/// their ids (atlassian-api §7.5), its pages followed:
/// ⌈distinct members ÷ 100⌉ requests (at least one), not a walk over every user. A 400 on
/// more than one id (the server caps the list) halves the list and tries again. Users come
/// back with all their groups expanded: each is counted for the wanted ones only, found
/// through an index (a user in 1,000 groups, a page of 100 such users: 100,000 look-ups).
fn admin_members(
    admin: &AdminConfig,
    transport: &dyn Transport,
    wanted: &[&str],
    index: &FoldedIndex,
    groups: usize,
    next_page: Option<Request>,
) -> Result<(Vec<Vec<Id>>, Ahead), ConnectorError> {
    let mut found = Found {
        index,
        members: vec![Vec::new(); groups],
        pairs: StringSet::default(),
        next_page,
        ahead: None,
    };
    let mut pending: Vec<&[&str]> = vec![wanted];
    while let Some(chunk) = pending.pop() {
        match members_search(admin, transport, chunk, &mut found)? {
            Searched::Done => {}
            Searched::TooMany => {
                let (a, b) = chunk.split_at(chunk.len() / 2);
                pending.push(b);
                pending.push(a);
            }
        }
    }
    Ok((found.members, found.ahead))
}

/// Where a users search puts what it finds: the positions of the page's groups, their
/// members, the (group, account) pairs already counted (each once, keyed unambiguously: the
/// group's position, then the id), and the next groups page to send with the first search.
struct Found<'a> {
    index: &'a FoldedIndex,
    members: Vec<Vec<Id>>,
    pairs: StringSet,
    next_page: Option<Request>,
    ahead: Ahead,
}

impl Found<'_> {
    /// Counts `account` as a member of group `gid` if that group is wanted and the pair new.
    fn add(&mut self, gid: &str, account: &str) {
        let Some(at) = self.index.first(gid) else {
            return;
        };
        if self.pairs.insert(format!("{at}:{account}"))
            && let Some(m) = self.members.get_mut(at)
        {
            m.push(Id::Account(AccountId::from(account)));
        }
    }
}

/// How one filtered search ended.
enum Searched {
    /// Every page read.
    Done,
    /// 400 on the first page for a list of more than one id: halve it.
    TooMany,
}

/// One users search for the members of `chunk`, its pages followed, each member added to
/// its wanted groups in `found`; the next groups page, if still unsent, goes out with the
/// first request.
fn members_search(
    admin: &AdminConfig,
    transport: &dyn Transport,
    chunk: &[&str],
    found: &mut Found<'_>,
) -> Result<Searched, ConnectorError> {
    let (subject, api) = admin_ctx(admin);
    let ctx = Context {
        api,
        credential: ADMIN_API_KEY,
        subject: &subject,
    };
    let url = admin::users_search_url(&admin.api_url, &admin.org_id, admin::ALL_DIRECTORIES);
    let mut cursor: Option<String> = None;
    let mut seen = StringSet::default();
    for _ in 0..MAX_WALK_PAGES {
        let body = admin::users_in_groups_body(chunk, admin::MAX_LIMIT, cursor.as_deref());
        let search = post_json(url.clone(), body, Auth::bearer(ADMIN_API_KEY));
        let answer = match found.next_page.take() {
            None => transport.send(search),
            Some(next_page) => {
                let mut answers = transport.send_all(vec![search, next_page]);
                found.ahead = answers.pop();
                answers.pop().unwrap_or(Err(HttpError::Timeout))
            }
        };
        if cursor.is_none() && chunk.len() > 1 && matches!(&answer, Ok(r) if r.status == 400) {
            return Ok(Searched::TooMany);
        }
        let resp = upstream::check(&ctx, answer)?;
        // Read without a tree: 100 users in 1,000 groups each is 100,000 group objects.
        let page = upstream::read(Api::Admin, &resp, admin::parse_members_page)?;
        let next = next_of(&page);
        for user in page.data {
            let Some(account) = user.account_id.filter(|a| !a.is_empty()) else {
                continue;
            };
            for gid in user.groups.iter().flatten() {
                found.add(gid, &account);
            }
        }
        match next {
            None => return Ok(Searched::Done),
            Some(n) if !seen.insert(n.clone()) => {
                return Err(repeated(Api::Admin, resp.status, "cursor"));
            }
            Some(n) => cursor = Some(n),
        }
    }
    Err(ConnectorError::upstream(
        None,
        None,
        format!("the admin API user search did not end within {MAX_WALK_PAGES} pages"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scim(id: &str) -> Id {
        Id::Scim(id.into())
    }

    fn account(id: &str) -> Id {
        Id::Account(id.into())
    }
    use crate::transport::{FakeTransport, Method, Response};

    const SCIM: &str = "https://api.atlassian.com/scim/directory/d1";
    const ORG: &str = "https://api.atlassian.com/admin/v2/orgs/o1/directories";

    fn scim_only() -> Config {
        Config::new(&[("scim_url", SCIM)], &["scim_token"])
    }

    fn full() -> Config {
        Config::new(
            &[("scim_url", SCIM), ("scim_organization_id", "o1")],
            &["scim_token", "admin_api_key"],
        )
    }

    fn groups_url(start: u64, count: u32) -> String {
        format!("{SCIM}/Groups?startIndex={start}&count={count}")
    }

    fn req(cursor: Option<String>, limit: Option<u32>) -> PageRequest {
        PageRequest { cursor, limit }
    }

    /// The first page of the admin phase, default limit.
    fn first_admin_page(fake: &FakeTransport) -> GroupPage {
        list_groups(
            &full(),
            fake,
            &req(Some("v1:groups:admin::100:0".into()), None),
        )
        .unwrap()
    }

    fn post(fake: &FakeTransport, url: &str, body: &str) {
        fake.on(Method::Post, url, Ok(Response::json(200, body)));
    }

    const SCIM_PAGE_1: &str = r#"{"totalResults":3,"Resources":[
        {"id":"g1","displayName":"Engineering","members":[{"value":"u1"},{"value":"u2"}]},
        {"id":"g2","displayName":"sales"}]}"#;
    const SCIM_PAGE_2: &str =
        r#"{"totalResults":3,"Resources":[{"id":"g3","displayName":"ops","members":null}]}"#;

    #[test]
    fn scim_only_walks_scim_groups_and_ends() {
        let fake = FakeTransport::new();
        fake.on_get(&groups_url(1, 2), 200, SCIM_PAGE_1).on_get(
            &groups_url(3, 2),
            200,
            SCIM_PAGE_2,
        );
        let p1 = list_groups(&scim_only(), &fake, &req(None, Some(2))).unwrap();
        assert_eq!(p1.items.len(), 2);
        assert_eq!(p1.items[0].members, [scim("u1"), scim("u2")]);
        assert!(p1.items.iter().all(|g| g.synced && g.group_id.is_none()));
        assert_eq!(p1.next_cursor.as_deref(), Some("v1:groups:scim:3"));
        let p2 = list_groups(&scim_only(), &fake, &req(p1.next_cursor, Some(2))).unwrap();
        assert_eq!(p2.items[0].name, "ops");
        assert_eq!(p2.next_cursor, None);
        assert_eq!(fake.requests().len(), 2);
        // An admin-phase cursor without the admin key names the missing key.
        let e = list_groups(
            &scim_only(),
            &fake,
            &req(Some("v1:groups:admin::100:0".into()), None),
        )
        .unwrap_err();
        assert_eq!(e.config_key(), Some("admin_api_key"));
    }

    /// Three admin pages of 100 groups (each group one member), scripted in order.
    fn three_full_admin_pages(fake: &FakeTransport) {
        admin_pages(fake, false);
    }

    /// [`three_full_admin_pages`], the first group of the first page synced into this
    /// directory when `synced_first`.
    fn admin_pages(fake: &FakeTransport, synced_first: bool) {
        let all = format!("{ORG}/-/groups/search");
        let users = format!("{ORG}/-/users/search");
        for page in 1..=3 {
            let groups: Vec<String> = (0..100)
                .map(|i| {
                    let how = if synced_first && page == 1 && i == 0 {
                        r#""directoryId":"d1","externalSynced":true"#
                    } else {
                        r#""managedBy":"admins""#
                    };
                    format!(r#"{{"id":"g{page}-{i}","name":"group {page}-{i}",{how}}}"#)
                })
                .collect();
            let next = if page < 3 {
                format!(r#""next":"c{}""#, page + 1)
            } else {
                String::new()
            };
            post(
                fake,
                &all,
                &format!(r#"{{"data":[{}],"links":{{{next}}}}}"#, groups.join(",")),
            );
            let members: Vec<String> = (0..100)
                .map(|i| {
                    format!(r#"{{"accountId":"acc{page}-{i}","groups":[{{"id":"g{page}-{i}"}}]}}"#)
                })
                .collect();
            post(
                fake,
                &users,
                &format!(r#"{{"data":[{}],"links":{{}}}}"#, members.join(",")),
            );
        }
    }

    /// Each call's shape: `1` for a `send`, `n` for a `send_all` of n.
    fn shape(fake: &FakeTransport) -> Vec<usize> {
        use lifecycle_connector_sdk::fake::Call;
        fake.calls()
            .iter()
            .map(|c| match c {
                Call::Send(_) => 1,
                Call::SendAll(rs) => rs.len(),
            })
            .collect()
    }

    #[test]
    fn k2_a_call_over_several_admin_pages_sends_each_next_page_with_the_members_search() {
        let fake = FakeTransport::new();
        three_full_admin_pages(&fake);
        let cursor = Some("v1:groups:admin::100:0".to_string());
        let page = list_groups(&full(), &fake, &req(cursor, Some(300))).unwrap();
        assert_eq!(page.items.len(), 300);
        assert_eq!(page.items[299].members, [account("acc3-99")]);
        assert_eq!(page.next_cursor, None);
        // Six requests as one page per call would make (3 groups pages, 3 members
        // searches), in four round trips instead of six.
        assert_eq!(shape(&fake), [1, 2, 2, 1]);
        let bodies: Vec<serde_json::Value> = fake
            .requests()
            .iter()
            .map(|r| serde_json::from_slice(r.body.as_deref().unwrap()).unwrap())
            .collect();
        // Every groups page is asked whole, with the cursor the page before gave.
        assert_eq!(bodies[2]["cursor"], "c2");
        assert_eq!(bodies[4]["cursor"], "c3");
        assert!(bodies.iter().all(|b| b["limit"] == 100));
    }

    #[test]
    fn k2_a_page_with_a_synced_group_skipped_still_sends_the_next_page_ahead() {
        let fake = FakeTransport::new();
        admin_pages(&fake, true);
        let cursor = Some("v1:groups:admin::100:0".to_string());
        let page = list_groups(&full(), &fake, &req(cursor, Some(300))).unwrap();
        assert_eq!(page.items.len(), 299, "the synced group is SCIM's to list");
        assert!(page.items.iter().all(|g| g.name != "group 1-0"));
        assert_eq!(page.next_cursor, None);
        assert_eq!(shape(&fake), [1, 2, 2, 1]);
    }

    #[test]
    fn k2_nothing_is_sent_ahead_without_a_full_page_of_room_or_a_batch_of_two() {
        // 150 wanted: after the first page only 50 fit, so the next page is the next
        // call's, asked whole then (never fetched twice).
        let fake = FakeTransport::new();
        three_full_admin_pages(&fake);
        let cursor = Some("v1:groups:admin::100:0".to_string());
        let page = list_groups(&full(), &fake, &req(cursor, Some(150))).unwrap();
        assert_eq!(page.items.len(), 100);
        assert_eq!(
            page.next_cursor.as_deref(),
            Some("v1:groups:admin:c2:100:0")
        );
        assert_eq!(shape(&fake), [1, 1]);
        // A host that allows one request at a time: the same requests, one by one.
        let one = FakeTransport::with_limits(crate::transport::HostLimits {
            max_batch: 1,
            ..crate::transport::HostLimits::UNLIMITED
        });
        three_full_admin_pages(&one);
        let cursor = Some("v1:groups:admin::100:0".to_string());
        let page = list_groups(&full(), &one, &req(cursor, Some(300))).unwrap();
        assert_eq!(page.items.len(), 100);
        assert_eq!(shape(&one), [1, 1]);
    }

    #[test]
    fn merges_synced_groups_then_lists_admin_groups_with_members_from_the_user_search() {
        let fake = FakeTransport::new();
        fake.on_get(
            &groups_url(1, 100),
            200,
            &SCIM_PAGE_1.replace(r#""totalResults":3"#, r#""totalResults":2"#),
        );
        // Name look-up in this directory: Engineering is synced here; "sales" only exists
        // as an admin-managed group, which is not merged.
        post(
            &fake,
            &format!("{ORG}/d1/groups/search"),
            r#"{"data":[{"id":"a-eng","name":"engineering","directoryId":"d1","externalSynced":true},
                        {"id":"a-sales","name":"Sales","directoryId":"d1","managedBy":"admins"}],"links":{}}"#,
        );
        let p1 = list_groups(&full(), &fake, &req(None, None)).unwrap();
        assert_eq!(p1.items[0].group_id.as_deref(), Some("a-eng"));
        assert_eq!(
            p1.items[0].ids(),
            [
                scim(p1.items[0].scim_id.as_deref().unwrap()),
                Id::Group("a-eng".into())
            ]
        );
        assert_eq!(p1.items[1].group_id, None);
        // The SCIM walk ends at totalResults: next is the admin phase.
        assert_eq!(p1.next_cursor.as_deref(), Some("v1:groups:admin::100:0"));
        let search = &fake.non_get_requests()[0];
        let body: serde_json::Value =
            serde_json::from_slice(search.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body["groupNames"],
            serde_json::json!(["Engineering", "sales"])
        );

        // Admin phase: the synced-here group is skipped, the others listed.
        let all = format!("{ORG}/-/groups/search");
        post(
            &fake,
            &all,
            r#"{"data":[{"id":"a-eng","name":"engineering","directoryId":"d1","managedBy":"external"},
                        {"id":"a-sales","name":"Sales","directoryId":"d1","managedBy":"admins"},
                        {"id":"a-x","name":"other-idp","directoryId":"d9","externalSynced":true}],
                "links":{"next":"c2"}}"#,
        );
        post(
            &fake,
            &all,
            r#"{"data":[{"id":"a-last","name":"last","managedBy":"admins"}],"links":{}}"#,
        );
        let users = format!("{ORG}/-/users/search");
        post(
            &fake,
            &users,
            r#"{"data":[{"accountId":"acc1","groups":[{"id":"a-sales"},{"id":"a-eng"}]},
                        {"accountId":"acc2","groups":null}],"links":{"next":"u2"}}"#,
        );
        post(
            &fake,
            &users,
            r#"{"data":[{"accountId":"acc3","groups":[{"id":"a-sales"},{"id":"a-x"}]},
                        {"accountId":"acc1","groups":[{"id":"a-sales"}]}],"links":{}}"#,
        );
        let p2 = list_groups(&full(), &fake, &req(p1.next_cursor, None)).unwrap();
        let names: Vec<&str> = p2.items.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["Sales", "other-idp"]);
        assert_eq!(
            p2.items[0].members,
            [account("acc1"), account("acc3")],
            "deduplicated"
        );
        assert!(!p2.items[0].synced && p2.items[0].scim_id.is_none());
        assert_eq!(p2.items[1].members, [account("acc3")]);
        assert!(p2.items[1].synced);
        assert_eq!(p2.next_cursor.as_deref(), Some("v1:groups:admin:c2:100:0"));
        let bodies: Vec<serde_json::Value> = fake
            .non_get_requests()
            .iter()
            .map(|r| serde_json::from_slice(r.body.as_deref().unwrap()).unwrap())
            .collect();
        assert_eq!(bodies[1], serde_json::json!({"limit":100}));
        assert_eq!(
            bodies[3],
            serde_json::json!({"groupIds":["a-sales","a-x"],"expand":["groups"],"limit":100,"cursor":"u2"})
        );
    }

    #[test]
    fn a_400_on_many_group_ids_halves_the_list() {
        let fake = FakeTransport::new();
        post(
            &fake,
            &format!("{ORG}/-/groups/search"),
            r#"{"data":[{"id":"a1","name":"a1"},{"id":"a2","name":"a2"},{"id":"a3","name":"a3"}],"links":{}}"#,
        );
        let users = format!("{ORG}/-/users/search");
        fake.on(
            Method::Post,
            &users,
            Ok(Response::json(
                400,
                r#"{"errors":[{"code":"too many ids"}]}"#,
            )),
        );
        post(
            &fake,
            &users,
            r#"{"data":[{"accountId":"x","groups":[{"id":"a1"},{"id":"a9"}]}],"links":{}}"#,
        );
        post(
            &fake,
            &users,
            r#"{"data":[{"accountId":"y","groups":[{"id":"a3"}]}],"links":{}}"#,
        );
        let p = first_admin_page(&fake);
        let members: Vec<&[Id]> = p.items.iter().map(|g| g.members.as_slice()).collect();
        assert_eq!(members, [&[account("x")][..], &[], &[account("y")]]);
        let ids: Vec<serde_json::Value> = fake
            .non_get_requests()
            .iter()
            .skip(1)
            .map(|r| {
                serde_json::from_slice::<serde_json::Value>(r.body.as_deref().unwrap()).unwrap()
                        ["groupIds"]
                        .clone()
            })
            .collect();
        assert_eq!(
            ids,
            [
                serde_json::json!(["a1", "a2", "a3"]),
                serde_json::json!(["a1"]),
                serde_json::json!(["a2", "a3"])
            ]
        );
    }

    #[test]
    fn a_small_limit_resumes_inside_the_admin_page_with_the_same_limit() {
        let fake = FakeTransport::new();
        let all = format!("{ORG}/-/groups/search");
        post(
            &fake,
            &all,
            r#"{"data":[{"id":"a1","name":"a1"},{"id":"a2","name":"a2"},{"id":"a3","name":"a3"}],"links":{}}"#,
        );
        post(
            &fake,
            &format!("{ORG}/-/users/search"),
            r#"{"data":[],"links":{}}"#,
        );
        let p = list_groups(
            &full(),
            &fake,
            &req(Some("v1:groups:admin:c:50:1".into()), Some(1)),
        )
        .unwrap();
        assert_eq!(p.items[0].name, "a2");
        assert_eq!(p.next_cursor.as_deref(), Some("v1:groups:admin:c:50:2"));
        let body: serde_json::Value =
            serde_json::from_slice(fake.non_get_requests()[0].body.as_deref().unwrap()).unwrap();
        assert_eq!(body, serde_json::json!({"limit":50,"cursor":"c"}));
    }

    #[test]
    fn repeated_admin_cursors_are_upstream_errors() {
        let fake = FakeTransport::new();
        post(
            &fake,
            &format!("{ORG}/-/groups/search"),
            r#"{"data":[],"links":{"next":"same"}}"#,
        );
        let e = list_groups(
            &full(),
            &fake,
            &req(Some("v1:groups:admin:same:100:0".into()), None),
        )
        .unwrap_err();
        assert!(
            matches!(&e, ConnectorError::Upstream(u) if u.message.contains("same next cursor")),
            "{e:?}"
        );

        // In the member walk: a cycle of cursors is caught too.
        let fake = FakeTransport::new();
        post(
            &fake,
            &format!("{ORG}/-/groups/search"),
            r#"{"data":[{"id":"a1","name":"a1"}],"links":{}}"#,
        );
        let users = format!("{ORG}/-/users/search");
        for next in ["x", "y", "x"] {
            post(
                &fake,
                &users,
                &format!(r#"{{"data":[],"links":{{"next":"{next}"}}}}"#),
            );
        }
        let e = list_groups(
            &full(),
            &fake,
            &req(Some("v1:groups:admin::100:0".into()), None),
        )
        .unwrap_err();
        assert!(matches!(e, ConnectorError::Upstream(_)), "{e:?}");
        assert_eq!(fake.requests().len(), 4);
    }

    #[test]
    fn a_group_listed_twice_in_a_page_is_searched_once_and_keeps_its_members_in_both() {
        let fake = FakeTransport::new();
        post(
            &fake,
            &format!("{ORG}/-/groups/search"),
            r#"{"data":[{"id":"a1","name":"a1"},{"id":"a2","name":"a2"},{"id":"a1","name":"a1"}],"links":{}}"#,
        );
        post(
            &fake,
            &format!("{ORG}/-/users/search"),
            r#"{"data":[{"accountId":"x","groups":[{"id":"a1"},{"id":"a9"},{"id":"a1"}]},
                        {"accountId":"y","groups":[{"id":"a2"},{"id":"a1"}]}],"links":{}}"#,
        );
        let p = first_admin_page(&fake);
        let members: Vec<&[Id]> = p.items.iter().map(|g| g.members.as_slice()).collect();
        assert_eq!(
            members,
            [
                &[account("x"), account("y")][..],
                &[account("y")],
                &[account("x"), account("y")]
            ]
        );
        let search = &fake.non_get_requests()[1];
        let body: serde_json::Value =
            serde_json::from_slice(search.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["groupIds"], serde_json::json!(["a1", "a2"]));
    }

    #[test]
    fn malformed_pages_are_upstream_errors() {
        let fake = FakeTransport::new();
        fake.on_get(&groups_url(1, 100), 200, r#"{"totalResults":2}"#);
        assert!(matches!(
            list_groups(&scim_only(), &fake, &req(None, None)),
            Err(ConnectorError::Upstream(_))
        ));
        let fake = FakeTransport::new();
        fake.on_get(
            &groups_url(1, 100),
            200,
            r#"{"totalResults":1,"Resources":[{"id":"g"}]}"#,
        );
        assert!(matches!(
            list_groups(&scim_only(), &fake, &req(None, None)),
            Err(ConnectorError::Upstream(_))
        ));
        let fake = FakeTransport::new();
        post(&fake, &format!("{ORG}/-/groups/search"), r#"{"groups":[]}"#);
        let e = list_groups(
            &full(),
            &fake,
            &req(Some("v1:groups:admin::100:0".into()), None),
        )
        .unwrap_err();
        assert!(
            matches!(&e, ConnectorError::Upstream(u) if u.message.contains("data")),
            "{e:?}"
        );
    }
}
