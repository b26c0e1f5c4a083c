//! The mass-change guard: a batch that would deprovision or delete more than a set share of
//! the organization's users stops before its first write, unless explicitly allowed. A wrong
//! export (everyone instead of the leavers) should cost a re-run, not the organization.
//!
//! The share is the items about to run over the users the organization has now: a resumed
//! batch counts only the items it has left.

use lifecycle_host::{LoadedConnector, Tenant};

/// The default largest share of the organization's users one batch may remove.
pub const DEFAULT_MAX_SHARE: f64 = 0.10;

/// Users asked for per page while counting.
const PAGE_SIZE: u32 = 100;

/// The guard's verdict on a batch.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Verdict {
    /// Items the batch would remove.
    pub items: usize,
    /// The organization's users (every SCIM user, active or not).
    pub users: usize,
    /// `items / users` (infinite when the organization has no users).
    pub share: f64,
    /// The largest share allowed.
    pub max_share: f64,
}

impl Verdict {
    /// The verdict for removing `items` of `users` with `max_share` allowed.
    pub fn new(items: usize, users: usize, max_share: f64) -> Self {
        let share = if users == 0 {
            f64::INFINITY
        } else {
            items as f64 / users as f64
        };
        Self {
            items,
            users,
            share,
            max_share,
        }
    }

    /// Whether the batch stays within the allowed share.
    pub fn allowed(&self) -> bool {
        self.items == 0 || self.share <= self.max_share
    }

    /// Why the batch is refused, naming the numbers and how to go ahead anyway.
    pub fn refusal(&self, action: &str) -> String {
        let share = if self.share.is_finite() {
            format!("{:.0}%", self.share * 100.0)
        } else {
            "all".to_owned()
        };
        format!(
            "mass-change guard: this batch would {action} {items} of the organization's {users} users \
             ({share}, more than the allowed {max:.0}%); nothing was changed. Check the batch file; \
             to run it anyway, pass --allow-mass-change (or a larger --max-share)",
            items = self.items,
            users = self.users,
            max = self.max_share * 100.0,
        )
    }
}

/// Counts the organization's users by walking `list-users` page by page.
pub async fn count_users(
    connector: &LoadedConnector,
    tenant: &Tenant,
) -> Result<usize, lifecycle_host::paging::WalkError> {
    let limits = lifecycle_host::paging::WalkLimits::default();
    let (count, _) = lifecycle_host::paging::walk(
        "counting the organization's users",
        PAGE_SIZE,
        limits,
        |p| async move { connector.list_users(tenant, &p).await },
        |_| {},
    )
    .await?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_more_than_the_share_and_names_the_numbers() {
        assert!(Verdict::new(1, 10, 0.10).allowed());
        assert!(!Verdict::new(2, 10, 0.10).allowed());
        assert!(Verdict::new(0, 0, 0.10).allowed());
        assert!(!Verdict::new(1, 0, 0.10).allowed());
        assert!(Verdict::new(10, 10, 1.0).allowed());
        let message = Verdict::new(5, 20, 0.10).refusal("deprovision");
        assert!(
            message.contains("deprovision 5 of the organization's 20 users (25%")
                && message.contains("allowed 10%")
                && message.contains("--allow-mass-change"),
            "{message}"
        );
        assert!(Verdict::new(3, 0, 0.1).refusal("delete").contains("(all,"));
    }
}
