//! The one consistent model behind every API: accounts, SCIM records, groups, memberships,
//! product resources. SCIM and admin views are both rendered from it.

use super::faults::FaultRule;
use super::log::LoggedRequest;
use super::options::SimOptions;
use super::util;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Lifecycle status of an Atlassian account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Active account.
    Active,
    /// Deactivated (SCIM `active=false`, lifecycle disable, or SCIM DELETE).
    Deactivated,
    /// Lifecycle delete pending, inside the grace period (shows as deactivated).
    ForDeletion,
}

/// An Atlassian account (exists independently of the SCIM record).
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    pub status: AccountStatus,
    pub suspended: bool,
    pub delete_after: Option<String>,
}

/// A SCIM user record, linked to an account.
#[derive(Debug, Clone)]
pub(crate) struct ScimUser {
    pub id: String,
    pub account_id: String,
    /// Writable SCIM attributes with canonical names (no `active`, `id`, `meta`, `groups`).
    pub attrs: Map<String, Value>,
    pub created: String,
    pub modified: String,
    /// Reads left before the account id shows (quirk `account_id_pending`).
    pub pending_reads: u32,
}

/// A group. Synced groups have a SCIM id; admin-managed ones only an admin id.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub admin_id: String,
    pub scim_id: Option<String>,
    pub name: String,
    pub description: String,
    pub directory_id: String,
    pub managed_by: String,
    pub external_id: Option<String>,
    pub created: String,
    pub modified: String,
}

impl Group {
    pub fn synced(&self) -> bool {
        self.managed_by == "external"
    }
}

/// A Jira project, Confluence space or Bitbucket repository.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProductItem {
    pub id: String,
    pub key: String,
    pub name: String,
}

/// The secrets of one simulator instance. `Debug` never shows the values.
#[derive(Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
pub struct Tokens {
    /// SCIM directory API key (Bearer, SCIM only).
    pub scim_token: String,
    /// Organization API key (Bearer, admin, lifecycle, SCIM links).
    pub admin_api_key: String,
    /// Product API token of [`Simulator::product_user`](super::Simulator::product_user) (Basic).
    pub product_token: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens { scim_token: <redacted>, admin_api_key: <redacted>, product_token: <redacted> }")
    }
}

impl Tokens {
    /// Fresh random tokens.
    pub fn random() -> Tokens {
        Tokens {
            scim_token: util::secret("scim-"),
            admin_api_key: util::secret("ATCTT3x"),
            product_token: util::secret("ATATT3x"),
        }
    }
}

/// Which vector and key a [`Hints`] entry locates.
#[derive(Clone, Copy)]
enum HintKind {
    AccountById = 0,
    ScimUserById = 1,
    ScimUserByAccount = 2,
    GroupByAdminId = 3,
    GroupByScimId = 4,
    ScimGroupByName = 5,
}

type HintMap = std::collections::HashMap<String, usize>;

/// Remembered positions of records in [`State`]'s vectors, so a look-up by id costs O(1)
/// instead of a scan of every user (a bulk run makes tens of thousands of them). A hint is
/// checked on every use, so whatever changes the vectors can only cost a scan, never give a
/// wrong answer.
#[derive(Default)]
pub(crate) struct Hints(std::cell::RefCell<[HintMap; 6]>);

impl Hints {
    fn find<T>(
        &self,
        kind: HintKind,
        items: &[T],
        key: &str,
        is: impl Fn(&T) -> bool,
    ) -> Option<usize> {
        let mut maps = self.0.borrow_mut();
        let map = &mut maps[kind as usize];
        if let Some(&i) = map.get(key)
            && items.get(i).is_some_and(&is)
        {
            return Some(i);
        }
        let found = items.iter().position(is);
        match found {
            Some(i) => map.insert(key.to_string(), i),
            None => map.remove(key),
        };
        found
    }

    /// Remembers the position of every item by `key`, in one pass (the first of equal keys,
    /// as a scan finds it): seeding 150,000 users then costs no scan per first look-up.
    fn prime<T>(&self, kind: HintKind, items: &[T], key: impl Fn(&T) -> &str) {
        let mut maps = self.0.borrow_mut();
        let map = &mut maps[kind as usize];
        for (i, item) in items.iter().enumerate() {
            map.entry(key(item).to_string()).or_insert(i);
        }
    }
}

/// Ids by case-folded name (`to_lowercase`), kept up to date by every change of a SCIM
/// user's `userName` or an account's email: a filter or uniqueness check looks at the
/// few candidates instead of every user. Callers still confirm each candidate.
#[derive(Default)]
pub(crate) struct NameIndex(std::collections::HashMap<String, Vec<String>>);

impl NameIndex {
    fn update(&mut self, id: &str, old: Option<&str>, new: Option<&str>) {
        if let Some(old) = old
            && let Some(ids) = self.0.get_mut(&old.to_lowercase())
        {
            ids.retain(|x| x != id);
        }
        if let Some(new) = new {
            self.0
                .entry(new.to_lowercase())
                .or_default()
                .push(id.to_string());
        }
    }

    fn get(&self, name: &str) -> &[String] {
        self.0.get(&name.to_lowercase()).map_or(&[], Vec::as_slice)
    }
}

fn user_name(u: &ScimUser) -> Option<&str> {
    u.attrs.get("userName").and_then(Value::as_str)
}

/// Everything the simulator knows, behind one mutex.
pub(crate) struct State {
    pub org_id: String,
    pub dir_id: String,
    pub dir_name: String,
    pub workspace: String,
    pub product_user: String,
    pub tokens: Tokens,
    pub options: SimOptions,
    pub base_url: String,
    pub accounts: Vec<Account>,
    pub scim_users: Vec<ScimUser>,
    pub groups: Vec<Group>,
    /// Group memberships, by group and by account.
    pub members: super::memberships::Memberships,
    pub jira: Vec<ProductItem>,
    pub confluence: Vec<ProductItem>,
    pub bitbucket: Vec<ProductItem>,
    pub faults: Vec<FaultRule>,
    /// Responses held by [`Fault::HoldUntil`](super::Fault::HoldUntil): the route each waits
    /// for, and what releases it.
    pub holds: Vec<(super::Route, std::sync::Arc<tokio::sync::Notify>)>,
    pub log: Vec<LoggedRequest>,
    /// SCIM membership changes the admin API does not show yet (quirk `admin_sync_lag`):
    /// (group admin id, account id) → (added, admin requests left).
    pub admin_lag: std::collections::BTreeMap<(String, String), (bool, u32)>,
    /// Positions of records looked up by id.
    pub hints: Hints,
    /// SCIM user ids by `userName`.
    pub user_names: NameIndex,
    /// Account ids by email.
    pub emails: NameIndex,
    /// Workspaces and product-role assignments.
    pub roles: super::roles::Roles,
    /// Personal API tokens: (account id, token).
    pub api_tokens: Vec<(String, super::manage::ApiToken)>,
    /// The organization's API keys (`/admin/api-access/v1/orgs/{org}/api-keys`).
    pub api_keys: Vec<super::api_keys::OrgApiKey>,
    /// What each rate-limit window received (the rate-limit mode).
    pub rate: super::rate_limit::Meter,
}

impl State {
    /// The position of an account in `accounts` (its creation order).
    pub fn account_index(&self, account_id: &str) -> Option<usize> {
        self.hints
            .find(HintKind::AccountById, &self.accounts, account_id, |a| {
                a.account_id == account_id
            })
    }
    pub fn account(&self, account_id: &str) -> Option<&Account> {
        self.accounts.get(self.account_index(account_id)?)
    }
    pub fn account_mut(&mut self, account_id: &str) -> Option<&mut Account> {
        let i = self.account_index(account_id)?;
        self.accounts.get_mut(i)
    }
    pub fn account_by_email(&self, email: &str) -> Option<&Account> {
        self.accounts_by_email(email)
            .into_iter()
            .filter_map(|i| self.accounts.get(i))
            .find(|a| a.email.eq_ignore_ascii_case(email))
    }
    /// Positions of the accounts whose email folds to the same lowercase as `email`,
    /// in creation order.
    pub fn accounts_by_email(&self, email: &str) -> Vec<usize> {
        let folded = email.to_lowercase();
        let mut found: Vec<usize> = self
            .emails
            .get(email)
            .iter()
            .filter_map(|id| self.account_index(id))
            .filter(|&i| self.accounts[i].email.to_lowercase() == folded)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
    /// Positions of the SCIM users whose `userName` folds to the same lowercase as `name`,
    /// in creation order.
    pub fn scim_users_by_name(&self, name: &str) -> Vec<usize> {
        let folded = name.to_lowercase();
        let mut found: Vec<usize> = self
            .user_names
            .get(name)
            .iter()
            .filter_map(|id| self.scim_user_index(id))
            .filter(|&i| user_name(&self.scim_users[i]).is_some_and(|n| n.to_lowercase() == folded))
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
    /// Adds an account (the only way accounts are made).
    pub fn push_account(&mut self, account: Account) {
        self.emails
            .update(&account.account_id, None, Some(&account.email));
        self.accounts.push(account);
    }
    /// Changes an account's email.
    pub fn set_account_email(&mut self, account_id: &str, email: String) {
        let Some(i) = self.account_index(account_id) else {
            return;
        };
        let old = std::mem::replace(&mut self.accounts[i].email, email);
        self.emails
            .update(account_id, Some(&old), Some(&self.accounts[i].email));
    }
    /// Adds a SCIM user.
    pub fn push_scim_user(&mut self, user: ScimUser) {
        self.user_names.update(&user.id, None, user_name(&user));
        self.scim_users.push(user);
    }
    /// Replaces a SCIM user's attributes.
    pub fn set_scim_attrs(&mut self, i: usize, attrs: Map<String, Value>) {
        let u = &mut self.scim_users[i];
        let old = std::mem::replace(&mut u.attrs, attrs);
        let new = user_name(u).map(str::to_string);
        let old = old.get("userName").and_then(Value::as_str);
        let id = u.id.clone();
        self.user_names.update(&id, old, new.as_deref());
    }
    /// Removes a SCIM user.
    pub fn remove_scim_user(&mut self, i: usize) {
        let u = self.scim_users.remove(i);
        self.user_names.update(&u.id, user_name(&u), None);
    }
    /// The position of a SCIM user in `scim_users`, by SCIM id.
    pub fn scim_user_index(&self, id: &str) -> Option<usize> {
        self.hints
            .find(HintKind::ScimUserById, &self.scim_users, id, |u| u.id == id)
    }
    pub fn scim_user(&self, id: &str) -> Option<&ScimUser> {
        self.scim_users.get(self.scim_user_index(id)?)
    }
    /// Primes the look-ups by account id and SCIM id with every record (after a bulk seed).
    pub fn prime_hints(&self) {
        self.hints
            .prime(HintKind::AccountById, &self.accounts, |a| &a.account_id);
        self.hints
            .prime(HintKind::ScimUserById, &self.scim_users, |u| &u.id);
        self.hints
            .prime(HintKind::ScimUserByAccount, &self.scim_users, |u| {
                &u.account_id
            });
    }
    pub fn scim_user_by_account(&self, account_id: &str) -> Option<&ScimUser> {
        let i = self.hints.find(
            HintKind::ScimUserByAccount,
            &self.scim_users,
            account_id,
            |u| u.account_id == account_id,
        )?;
        self.scim_users.get(i)
    }
    /// The position of a group in `groups`, by admin id.
    pub fn group_admin_index(&self, id: &str) -> Option<usize> {
        self.hints
            .find(HintKind::GroupByAdminId, &self.groups, id, |g| {
                g.admin_id == id
            })
    }
    pub fn group_by_admin_id(&self, id: &str) -> Option<&Group> {
        self.groups.get(self.group_admin_index(id)?)
    }
    /// The position of a SCIM group in `groups`, by SCIM id.
    pub fn scim_group_index(&self, scim_id: &str) -> Option<usize> {
        self.hints
            .find(HintKind::GroupByScimId, &self.groups, scim_id, |g| {
                g.scim_id.as_deref() == Some(scim_id)
            })
    }
    /// The position of the SCIM group named `name` (ignoring case) in `groups`.
    pub fn scim_group_by_name(&self, name: &str) -> Option<usize> {
        let key = name.to_lowercase();
        self.hints
            .find(HintKind::ScimGroupByName, &self.groups, &key, |g| {
                g.scim_id.is_some() && g.name.to_lowercase() == key
            })
    }
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.name.to_lowercase() == name.to_lowercase())
    }
    /// Account ids of a group's members, in account creation order.
    pub fn member_ids(&self, group_admin_id: &str) -> Vec<String> {
        let mut found: Vec<(usize, &str)> = self
            .members
            .of_group(group_admin_id)
            .filter_map(|a| Some((self.account_index(a)?, a)))
            .collect();
        found.sort_unstable();
        found.into_iter().map(|(_, a)| a.to_string()).collect()
    }

    /// How many members the admin API shows for a group (SCIM changes appear after a lag).
    pub fn admin_member_count(&self, group_admin_id: &str) -> usize {
        let stored = self.members.of_group(group_admin_id).count();
        // Pending SCIM additions are not shown yet; pending removals still are.
        self.admin_lag
            .iter()
            .filter(|((g, _), _)| g == group_admin_id)
            .fold(
                stored,
                |n, (_, (added, _))| {
                    if *added { n.saturating_sub(1) } else { n + 1 }
                },
            )
    }
    /// Adds or removes a membership through SCIM, recording it for the admin API's lag.
    pub fn scim_set_member(&mut self, group_admin_id: &str, account_id: &str, member: bool) {
        let changed = if member {
            self.members.insert(group_admin_id, account_id)
        } else {
            self.members.remove(group_admin_id, account_id)
        };
        let lag = self.options.admin_sync_lag;
        if !changed || lag == 0 {
            return;
        }
        let key = (group_admin_id.to_string(), account_id.to_string());
        // A change back to what the admin API still shows cancels the pending one.
        if self.admin_lag.remove(&key).is_none() {
            self.admin_lag.insert(key, (member, lag));
        }
    }

    /// Drops every membership of `account_id` (a deactivation on a server that does not keep
    /// them, quirk `keep_groups_on_deactivate` off).
    pub fn drop_memberships(&mut self, account_id: &str) {
        self.members.remove_account(account_id);
    }

    /// Membership as the admin API shows it (SCIM changes appear after a lag).
    pub fn admin_is_member(&self, group_admin_id: &str, account_id: &str) -> bool {
        if self.admin_lag.is_empty() {
            return self.members.contains(group_admin_id, account_id);
        }
        let key = (group_admin_id.to_string(), account_id.to_string());
        match self.admin_lag.get(&key) {
            Some((added, _)) => !added,
            None => self.members.contains(group_admin_id, account_id),
        }
    }

    /// One admin API request went by: pending SCIM changes come closer to showing.
    pub fn admin_tick(&mut self) {
        for v in self.admin_lag.values_mut() {
            v.1 = v.1.saturating_sub(1);
        }
        self.admin_lag.retain(|_, v| v.1 > 0);
    }

    /// Positions in `groups` of the groups an account belongs to, in group creation order.
    pub fn group_indexes_of(&self, account_id: &str) -> Vec<usize> {
        let mut found: Vec<usize> = self
            .members
            .of_account(account_id)
            .filter_map(|g| self.group_admin_index(g))
            .collect();
        found.sort_unstable();
        found
    }
    /// Positions in `groups` of the groups the admin API shows `account_id` in (SCIM changes
    /// appear after a lag), in group creation order.
    pub fn admin_group_indexes_of(&self, account_id: &str) -> Vec<usize> {
        let mut found = self.group_indexes_of(account_id);
        // A pending SCIM removal still shows; a pending addition does not yet.
        found.extend(
            self.admin_lag
                .keys()
                .filter(|(_, a)| a == account_id)
                .filter_map(|(g, _)| self.group_admin_index(g)),
        );
        found.sort_unstable();
        found.dedup();
        found.retain(|&i| {
            self.groups
                .get(i)
                .is_some_and(|g| self.admin_is_member(&g.admin_id, account_id))
        });
        found
    }
    /// The groups an account belongs to, in group creation order.
    pub fn groups_of(&self, account_id: &str) -> Vec<&Group> {
        self.group_indexes_of(account_id)
            .into_iter()
            .filter_map(|i| self.groups.get(i))
            .collect()
    }
    pub fn is_active(&self, account_id: &str) -> bool {
        self.account(account_id)
            .map(|a| a.status == AccountStatus::Active)
            .unwrap_or(false)
    }

    /// Creates an account (and optionally its SCIM record) for seeding.
    pub fn seed_user(&mut self, u: &super::seed::SeedUser, name: &str) -> String {
        let (email, display_name, external_id, account_id, active, scim) = (
            u.email.as_str(),
            u.display_name.as_deref(),
            u.external_id.as_deref(),
            u.account_id.as_deref(),
            u.active,
            u.scim,
        );
        let account_id = account_id
            .map(str::to_string)
            .unwrap_or_else(util::account_id);
        let display = display_name.unwrap_or(name).to_string();
        self.push_account(Account {
            account_id: account_id.clone(),
            email: email.to_string(),
            display_name: display.clone(),
            status: if active {
                AccountStatus::Active
            } else {
                AccountStatus::Deactivated
            },
            suspended: u.suspended,
            delete_after: None,
        });
        if scim {
            let mut attrs = Map::new();
            attrs.insert("userName".into(), json!(email));
            attrs.insert(
                "emails".into(),
                json!([{"value": email, "type": "work", "primary": true}]),
            );
            let mut parts = name.splitn(2, ' ');
            let given = parts.next().unwrap_or_default();
            let family = parts.next().unwrap_or_default();
            attrs.insert(
                "name".into(),
                json!({"formatted": name, "givenName": given, "familyName": family}),
            );
            attrs.insert("displayName".into(), json!(display));
            if let Some(x) = external_id {
                attrs.insert("externalId".into(), json!(x));
            }
            let now = util::now_iso();
            self.push_scim_user(ScimUser {
                id: util::uuid(),
                account_id: account_id.clone(),
                attrs,
                created: now.clone(),
                modified: now,
                pending_reads: 0,
            });
        }
        account_id
    }

    /// Creates a group for seeding; returns its admin id.
    pub fn seed_group(&mut self, name: &str, synced: bool, description: &str) -> String {
        let now = util::now_iso();
        let admin_id = util::uuid();
        self.groups.push(Group {
            admin_id: admin_id.clone(),
            scim_id: synced.then(util::uuid),
            name: name.to_string(),
            description: description.to_string(),
            directory_id: self.dir_id.clone(),
            managed_by: if synced { "external" } else { "admins" }.to_string(),
            external_id: None,
            created: now.clone(),
            modified: now,
        });
        admin_id
    }

    /// The public view of a user, by account id.
    pub fn user_view(&self, account_id: &str) -> Option<UserView> {
        let a = self.account(account_id)?;
        let s = self.scim_user_by_account(account_id);
        Some(UserView {
            account_id: a.account_id.clone(),
            email: a.email.clone(),
            display_name: a.display_name.clone(),
            status: a.status,
            active: a.status == AccountStatus::Active,
            suspended: a.suspended,
            scim_id: s.map(|s| s.id.clone()),
            external_id: s
                .and_then(|s| s.attrs.get("externalId"))
                .and_then(Value::as_str)
                .map(str::to_string),
            scim: s.map(|s| Value::Object(s.attrs.clone())),
            groups: self
                .groups_of(account_id)
                .iter()
                .map(|g| g.name.clone())
                .collect(),
        })
    }

    /// The public view of a group.
    pub fn group_view(&self, g: &Group) -> GroupView {
        let members = self.member_ids(&g.admin_id);
        GroupView {
            name: g.name.clone(),
            admin_id: g.admin_id.clone(),
            scim_id: g.scim_id.clone(),
            directory_id: g.directory_id.clone(),
            managed_by: g.managed_by.clone(),
            synced: g.synced(),
            member_emails: members
                .iter()
                .filter_map(|a| self.account(a).map(|a| a.email.clone()))
                .collect(),
            member_account_ids: members,
        }
    }

    /// The whole state as JSON (never the tokens).
    pub fn dump(&self) -> Value {
        let users: Vec<Value> = self
            .accounts
            .iter()
            .filter_map(|a| self.user_view(&a.account_id))
            .map(|v| serde_json::to_value(v).unwrap_or(Value::Null))
            .collect();
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|g| serde_json::to_value(self.group_view(g)).unwrap_or(Value::Null))
            .collect();
        json!({
            "orgId": self.org_id,
            "directoryId": self.dir_id,
            "directoryName": self.dir_name,
            "workspace": self.workspace,
            "productUser": self.product_user,
            "users": users,
            "groups": groups,
            "jiraProjects": self.jira,
            "confluenceSpaces": self.confluence,
            "bitbucketRepositories": self.bitbucket,
            "options": self.options,
            "requests": self.log.len(),
        })
    }
}

/// A user as the tests see it: account and SCIM record together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserView {
    /// Atlassian account id.
    pub account_id: String,
    /// Account email.
    pub email: String,
    /// Account display name.
    pub display_name: String,
    /// Account lifecycle status.
    pub status: AccountStatus,
    /// Whether the account is active (SCIM `active`).
    pub active: bool,
    /// Suspended through the admin API.
    pub suspended: bool,
    /// SCIM id, `None` once the SCIM record was deleted (or never existed).
    pub scim_id: Option<String>,
    /// SCIM `externalId`.
    pub external_id: Option<String>,
    /// The stored SCIM attributes.
    pub scim: Option<Value>,
    /// Names of the groups the account belongs to.
    pub groups: Vec<String>,
}

/// A group as the tests see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupView {
    /// Display name.
    pub name: String,
    /// Admin API group id.
    pub admin_id: String,
    /// SCIM id (synced groups only).
    pub scim_id: Option<String>,
    /// Directory the group lives in.
    pub directory_id: String,
    /// `external` (synced from the identity provider) or `admins`.
    pub managed_by: String,
    /// Synced from the identity provider.
    pub synced: bool,
    /// Members' emails, ordered like `member_account_ids`.
    pub member_emails: Vec<String>,
    /// Members' account ids, in account creation order.
    pub member_account_ids: Vec<String>,
}
