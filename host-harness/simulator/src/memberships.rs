//! Group memberships, indexed both ways: a group's members and an account's groups each cost
//! what the answer holds, not a scan of every group or every membership (rendering a SCIM
//! user of a directory of 150,000 users and 1,000 groups asks for its groups).

use std::collections::BTreeSet;

/// Every (group admin id, account id) pair, kept in two ordered sets that always hold the
/// same pairs: one by group, one by account.
#[derive(Debug, Default)]
pub(crate) struct Memberships {
    by_group: BTreeSet<(String, String)>,
    by_account: BTreeSet<(String, String)>,
}

impl Memberships {
    /// Adds `account` to `group`; false when it already was a member.
    pub fn insert(&mut self, group: &str, account: &str) -> bool {
        let added = self
            .by_group
            .insert((group.to_string(), account.to_string()));
        if added {
            self.by_account
                .insert((account.to_string(), group.to_string()));
        }
        added
    }

    /// Removes `account` from `group`; false when it was not a member.
    pub fn remove(&mut self, group: &str, account: &str) -> bool {
        let removed = self
            .by_group
            .remove(&(group.to_string(), account.to_string()));
        if removed {
            self.by_account
                .remove(&(account.to_string(), group.to_string()));
        }
        removed
    }

    /// Whether `account` is a member of `group`.
    pub fn contains(&self, group: &str, account: &str) -> bool {
        self.by_group
            .contains(&(group.to_string(), account.to_string()))
    }

    /// The account ids of `group`'s members, in account id order.
    pub fn of_group<'a>(&'a self, group: &str) -> impl Iterator<Item = &'a str> + use<'a> {
        seconds_of(&self.by_group, group)
    }

    /// The admin ids of the groups `account` belongs to, in group id order.
    pub fn of_account<'a>(&'a self, account: &str) -> impl Iterator<Item = &'a str> + use<'a> {
        seconds_of(&self.by_account, account)
    }

    /// Removes every membership of `account`.
    pub fn remove_account(&mut self, account: &str) {
        let groups: Vec<String> = self.of_account(account).map(str::to_string).collect();
        for g in groups {
            self.remove(&g, account);
        }
    }

    /// Removes every membership of `group` (the group is deleted).
    pub fn remove_group(&mut self, group: &str) {
        let accounts: Vec<String> = self.of_group(group).map(str::to_string).collect();
        for a in accounts {
            self.remove(group, &a);
        }
    }
}

/// The second ids of the pairs whose first id is `first`, in order.
fn seconds_of<'a>(
    set: &'a BTreeSet<(String, String)>,
    first: &str,
) -> impl Iterator<Item = &'a str> + use<'a> {
    let first = first.to_string();
    set.range((first.clone(), String::new())..)
        .take_while(move |(f, _)| *f == first)
        .map(|(_, second)| second.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_indexes_hold_the_same_pairs() {
        let mut m = Memberships::default();
        assert!(m.insert("g1", "a1"));
        assert!(m.insert("g1", "a2"));
        assert!(m.insert("g2", "a1"));
        assert!(!m.insert("g2", "a1"));
        assert_eq!(m.of_group("g1").collect::<Vec<_>>(), ["a1", "a2"]);
        assert_eq!(m.of_account("a1").collect::<Vec<_>>(), ["g1", "g2"]);
        assert!(m.contains("g2", "a1") && !m.contains("g2", "a2"));
        assert!(m.remove("g1", "a1"));
        assert!(!m.remove("g1", "a1"));
        assert_eq!(m.of_account("a1").collect::<Vec<_>>(), ["g2"]);
        m.remove_group("g2");
        m.insert("g3", "a1");
        m.remove_account("a1");
        assert_eq!(m.of_account("a1").count(), 0);
        assert_eq!(m.of_group("g1").collect::<Vec<_>>(), ["a2"]);
        // A prefix of another id is not that id.
        m.insert("g", "a2");
        assert_eq!(m.of_account("a2").collect::<Vec<_>>(), ["g", "g1"]);
        assert_eq!(m.of_group("g").collect::<Vec<_>>(), ["a2"]);
    }
}
