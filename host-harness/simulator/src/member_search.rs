//! The admin users search filtered by group ids (`"groupIds": […]`, atlassian-api §7.5): the
//! members of many groups in one paged search instead of a walk over every user.
//!
//! How several ids combine is undocumented: any of them (OR) by default, every one of them
//! with [`SimOptions::group_ids_match_all`](super::SimOptions::group_ids_match_all); a list
//! longer than [`SimOptions::group_ids_limit`](super::SimOptions::group_ids_limit) (when not
//! 0) answers 400, as an undocumented cap would.

use super::admin::error;
use super::http::Reply;
use super::state::State;

/// The positions in `accounts` of the members of `ids` (OR, or AND when switched), in
/// creation order; a 400 for a list over the cap.
pub(crate) fn members_of(st: &State, ids: &[String]) -> Result<Vec<usize>, Reply> {
    let cap = st.options.group_ids_limit;
    if cap > 0 && ids.len() > cap {
        return Err(error(
            st,
            400,
            "ADMIN-400",
            &format!("groupIds may hold at most {cap} ids"),
        ));
    }
    let of = |gid: &String| -> Vec<&str> { st.members.of_group(gid).collect() };
    let mut accounts: Vec<&str> = Vec::new();
    if st.options.group_ids_match_all {
        if let Some((first, rest)) = ids.split_first() {
            let others: Vec<Vec<&str>> = rest.iter().map(of).collect();
            accounts = of(first)
                .into_iter()
                .filter(|a| others.iter().all(|o| o.contains(a)))
                .collect();
        }
    } else {
        for gid in ids {
            accounts.extend(of(gid));
        }
    }
    let mut found: Vec<usize> = accounts
        .into_iter()
        .filter_map(|a| st.account_index(a))
        .collect();
    found.sort_unstable();
    found.dedup();
    Ok(found)
}
