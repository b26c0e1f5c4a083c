//! K1 and K2: listings whose cost grows with the data, not with its square.

use std::collections::BTreeSet;

use crate::check::{Check, Difference, Step, ok, start};
use crate::support::sim_tenant;
use atlassian_simulator::{Simulator, SimulatorBuilder};
use lifecycle_host::LoadedConnector;
use lifecycle_host::bindings::types::{GroupRecord, PageRequest};

/// Users of the K1 directory.
const K1_USERS: usize = 1_234;

/// K1: a directory over many server-capped pages (50 a page, whatever is asked), walked with
/// the connector's largest pages: the pages after the first go out in `send-all` waves within
/// the host's limits, every user comes back exactly once, and the walk ends.
pub(crate) async fn k1(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = start(Simulator::builder().users(K1_USERS).scim_page_size(50)).await?;
    let tenant = sim_tenant(&sim);
    let mut cursor: Option<String> = None;
    let (mut ids, mut calls, mut batches, mut largest) = (BTreeSet::new(), 0, 0, 0);
    let (mut total, mut requests) = (0, 0);
    loop {
        calls += 1;
        if calls > 50 {
            return Err(Difference::new(
                "list-users",
                "an end",
                "more than 50 calls",
            ));
        }
        let page = PageRequest {
            cursor: cursor.clone(),
            limit: Some(10_000),
        };
        let inv = connector.list_users(&tenant, &page).await;
        let got = ok("list-users", inv.result.clone())?;
        let mut per_batch = std::collections::BTreeMap::new();
        for e in &inv.exchanges {
            requests += 1;
            if let Some(b) = e.batch {
                *per_batch.entry(b).or_insert(0usize) += 1;
            }
        }
        batches += per_batch.len();
        largest = largest.max(per_batch.values().copied().max().unwrap_or(0));
        total += got.items.len();
        for u in &got.items {
            ids.insert(u.user_name.clone());
        }
        match got.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    c.eq("users listed", K1_USERS, total);
    c.eq("distinct users", K1_USERS, ids.len());
    let pages = K1_USERS.div_ceil(50);
    c.eq("requests (one per server page)", pages, requests);
    let width = connector
        .limits()
        .send_all_concurrency
        .min(connector.limits().max_batch);
    c.that(
        "largest wave",
        largest > 1 && largest <= width,
        format!("more than one page and at most the host's width {width}"),
        largest,
    );
    c.note(format!(
        "{K1_USERS} users in {pages} pages of 50: {calls} calls, {batches} waves (largest {largest})"
    ));
    Ok(())
}

/// Users of the K2 organization.
const USERS: usize = 600;
/// Its small admin groups (two members each), besides one of every user.
const SMALL: usize = 249;
/// The admin API's page size, and the most ids one filtered search is sent.
const PAGE: usize = 100;

/// 600 users; one admin group of all of them and 249 of two each; one synced group.
fn k2_org() -> SimulatorBuilder {
    let emails: Vec<String> = (1..=USERS)
        .map(|i| format!("user{i}@example.com"))
        .collect();
    let all: Vec<&str> = emails.iter().map(String::as_str).collect();
    let mut b = Simulator::builder()
        .users(USERS)
        .synced_group("synced-staff", &all[..10])
        .admin_group("everyone", &all);
    for j in 0..SMALL {
        b = b.admin_group(&format!("small-{j:03}"), &all[2 * j..2 * j + 2]);
    }
    b.admin_page_size(PAGE)
}

/// K2: list-groups costs O(memberships ÷ page size). Each call of the admin phase lists one
/// page of groups with one group search, then one users search filtered by the page's
/// group ids: 1 + max(1, ⌈U ÷ 100⌉) requests for U distinct members, asserted per call.
pub(crate) async fn k2(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = start(k2_org()).await?;
    let tenant = sim_tenant(&sim);
    let search = format!("/admin/v2/orgs/{}/directories/-/users/search", sim.org_id());
    let mut cursor: Option<String> = None;
    let mut listed: Vec<GroupRecord> = Vec::new();
    let (mut searches, mut expected, mut calls) = (0, 0, 0);
    loop {
        calls += 1;
        if calls > 50 {
            return Err(Difference::new(
                "list-groups",
                "an end",
                "more than 50 calls",
            ));
        }
        let page = PageRequest {
            cursor: cursor.clone(),
            limit: Some(100),
        };
        let inv = connector.list_groups(&tenant, &page).await;
        let got = ok("list-groups", inv.result.clone())?;
        let admin: Vec<&GroupRecord> = got.items.iter().filter(|g| !g.synced).collect();
        let here = inv
            .exchanges
            .iter()
            .filter(|e| e.method == "POST" && e.url.ends_with(&search))
            .count();
        let mut distinct = BTreeSet::new();
        for g in &admin {
            distinct.extend(sim.group_members(&g.name));
        }
        let want = if admin.is_empty() {
            0
        } else {
            distinct.len().div_ceil(PAGE).max(1)
        };
        c.eq(
            format!(
                "call {calls}: users searches for {} distinct members",
                distinct.len()
            ),
            want,
            here,
        );
        searches += here;
        expected += want;
        listed.extend(got.items);
        match got.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    c.eq("groups listed", SMALL + 2, listed.len());
    for g in &listed {
        let found = g.members.len();
        let want = sim.group_members(&g.name).len();
        if found != want {
            c.eq(format!("members of {}", g.name), want, found);
        }
    }
    let memberships = USERS + 2 * SMALL;
    let groups = SMALL + 1;
    let bound = 2 * groups.div_ceil(PAGE) + memberships.div_ceil(PAGE);
    c.that(
        "admin-phase requests",
        searches + groups.div_ceil(PAGE) <= bound,
        format!("at most 2⌈G/100⌉ + ⌈M/100⌉ = {bound} (G = {groups}, M = {memberships})"),
        searches + groups.div_ceil(PAGE),
    );
    c.note(format!(
        "{searches} filtered users searches (formula: {expected}) for {groups} admin groups \
         holding {memberships} memberships; a walk of every user per page would cost {}",
        groups.div_ceil(PAGE) * USERS.div_ceil(PAGE)
    ));
    Ok(())
}
