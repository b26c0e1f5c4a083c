//! K1 and K2: listings whose cost grows with the data, not with its square.

use std::collections::BTreeSet;

use crate::check::{Check, Difference, Step, ok, start};
use crate::support::sim_tenant;
use atlassian_simulator::{Simulator, SimulatorBuilder};
use lifecycle_host::LoadedConnector;
use lifecycle_host::bindings::types::{GroupRecord, PageRequest};

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
