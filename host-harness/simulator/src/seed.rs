//! Seeding: the starting organization, from a builder or a JSON/TOML file.

use super::options::SimOptions;
use super::state::{ProductItem, State, Tokens};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A user to create at start (an account, and normally its SCIM record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedUser {
    /// Email, also the SCIM `userName`.
    pub email: String,
    /// Full name (`name.formatted`); defaults to the email's local part.
    #[serde(default)]
    pub name: Option<String>,
    /// SCIM `displayName`; defaults to the name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// SCIM `externalId`.
    #[serde(default)]
    pub external_id: Option<String>,
    /// A fixed account id (random `712020:<uuid>` otherwise).
    #[serde(default)]
    pub account_id: Option<String>,
    /// Account active (default true).
    #[serde(default = "yes")]
    pub active: bool,
    /// Has a SCIM record (default true); false: an account managed outside SCIM.
    #[serde(default = "yes")]
    pub scim: bool,
    /// Access suspended through the admin API (v2 `suspend`; default false).
    #[serde(default)]
    pub suspended: bool,
}

fn yes() -> bool {
    true
}

impl SeedUser {
    /// An active SCIM-provisioned user.
    pub fn new(email: &str) -> SeedUser {
        SeedUser {
            email: email.to_string(),
            name: None,
            display_name: None,
            external_id: None,
            account_id: None,
            active: true,
            scim: true,
            suspended: false,
        }
    }
    /// Sets the full name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }
    /// Sets the display name.
    pub fn display_name(mut self, d: &str) -> Self {
        self.display_name = Some(d.to_string());
        self
    }
    /// Sets the external id.
    pub fn external_id(mut self, x: &str) -> Self {
        self.external_id = Some(x.to_string());
        self
    }
    /// Fixes the account id.
    pub fn account_id(mut self, id: &str) -> Self {
        self.account_id = Some(id.to_string());
        self
    }
    /// Starts deactivated.
    pub fn inactive(mut self) -> Self {
        self.active = false;
        self
    }
    /// An account without a SCIM record.
    pub fn without_scim(mut self) -> Self {
        self.scim = false;
        self
    }
    /// Starts with its access suspended (v2 `suspend`).
    pub fn suspended(mut self) -> Self {
        self.suspended = true;
        self
    }
}

/// A group to create at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedGroup {
    /// Display name.
    pub name: String,
    /// Synced from the identity provider (SCIM group, `managedBy: external`); otherwise
    /// admin-managed.
    #[serde(default)]
    pub synced: bool,
    /// Description (admin API).
    #[serde(default)]
    pub description: String,
    /// Members' emails (they must be seeded users).
    #[serde(default)]
    pub members: Vec<String>,
}

impl SeedGroup {
    /// A group synced from the identity provider.
    pub fn synced(name: &str, members: &[&str]) -> SeedGroup {
        SeedGroup {
            name: name.to_string(),
            synced: true,
            description: String::new(),
            members: members.iter().map(|m| m.to_string()).collect(),
        }
    }
    /// An admin-managed group.
    pub fn admin(name: &str, members: &[&str]) -> SeedGroup {
        SeedGroup {
            synced: false,
            ..SeedGroup::synced(name, members)
        }
    }
}

/// A member added to a group that already exists when the seed is applied: one seeded earlier
/// in the same seed, or, in a [`Fault::Concurrent`](super::Fault::Concurrent), one of the
/// running simulator (another admin adds someone between a client's read and its write).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMembership {
    /// The group's display name (case-insensitive).
    pub group: String,
    /// The member's email (a seeded user; for a synced group, one with a SCIM record).
    pub member: String,
}

impl SeedMembership {
    /// `member` (an email) joins `group` (a display name).
    pub fn new(group: &str, member: &str) -> SeedMembership {
        SeedMembership {
            group: group.to_string(),
            member: member.to_string(),
        }
    }
}

/// The starting state of a simulator. Everything is optional; ids and tokens are random
/// unless given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// Organization id.
    pub org_id: Option<String>,
    /// SCIM directory id.
    pub directory_id: Option<String>,
    /// Directory name.
    pub directory_name: Option<String>,
    /// Bitbucket workspace slug (default `simulated-workspace`).
    pub workspace: Option<String>,
    /// Product API user (default `discovery@example.com`).
    pub product_user: Option<String>,
    /// Fixed secrets (random otherwise).
    pub tokens: Option<Tokens>,
    /// Users.
    pub users: Vec<SeedUser>,
    /// Groups.
    pub groups: Vec<SeedGroup>,
    /// Members added to existing groups, after `groups` (already a member is no change).
    pub memberships: Vec<SeedMembership>,
    /// Number of Jira projects to generate.
    pub jira_projects: usize,
    /// Number of Confluence spaces to generate.
    pub confluence_spaces: usize,
    /// Number of Bitbucket repositories to generate.
    pub bitbucket_repositories: usize,
    /// Paging and quirks.
    pub options: Option<SimOptions>,
}

impl Seed {
    /// The small organization `simulate` starts with: five users, two groups synced from the
    /// identity provider, three admin-managed groups, a few product resources.
    pub fn demo() -> Seed {
        let u = |e: &str, n: &str, x: &str| SeedUser::new(e).name(n).external_id(x);
        Seed {
            users: vec![
                u("ada@example.com", "Ada Lovelace", "idp-ada"),
                u("grace@example.com", "Grace Hopper", "idp-grace"),
                u("alan@example.com", "Alan Turing", "idp-alan"),
                u("margaret@example.com", "Margaret Hamilton", "idp-margaret"),
                u("linus@example.com", "Linus Torvalds", "idp-linus").inactive(),
            ],
            groups: vec![
                SeedGroup::synced(
                    "engineering",
                    &["ada@example.com", "alan@example.com", "grace@example.com"],
                ),
                SeedGroup::synced("research", &["margaret@example.com"]),
                SeedGroup::admin(
                    "jira-software-users",
                    &[
                        "ada@example.com",
                        "grace@example.com",
                        "margaret@example.com",
                    ],
                ),
                SeedGroup::admin(
                    "confluence-users",
                    &["ada@example.com", "linus@example.com"],
                ),
                SeedGroup::admin("site-admins", &["grace@example.com"]),
            ],
            jira_projects: 3,
            confluence_spaces: 3,
            bitbucket_repositories: 3,
            ..Seed::default()
        }
    }

    /// Reads a seed from a `.json` file, or TOML otherwise: a regular file (not a device, a
    /// pipe or a directory) of at most [`SEED_FILE_LIMIT`] bytes.
    pub fn from_file(path: &Path) -> anyhow::Result<Seed> {
        Seed::parse(path, &read_seed_file(path)?)
    }

    /// Parses a seed read from `path` (JSON when its name ends in `.json`, TOML otherwise), for
    /// a caller that reads its files itself.
    pub fn parse(path: &Path, text: &str) -> anyhow::Result<Seed> {
        let seed = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            serde_json::from_str(text)
                .map_err(|e| anyhow::anyhow!("invalid seed file {}: {e}", path.display()))?
        } else {
            toml::from_str(text)
                .map_err(|e| anyhow::anyhow!("invalid seed file {}: {e}", path.display()))?
        };
        Ok(seed)
    }

    /// Adds users, groups and products to `st`.
    pub(crate) fn apply(&self, st: &mut State) -> anyhow::Result<()> {
        for u in &self.users {
            if st.account_by_email(&u.email).is_some() {
                anyhow::bail!("seed user {} is listed twice", u.email);
            }
            let name = u
                .name
                .clone()
                .unwrap_or_else(|| u.email.split('@').next().unwrap_or_default().to_string());
            st.seed_user(u, &name);
        }
        // Members are looked up by account: one pass, not a scan per member.
        st.prime_hints();
        for g in &self.groups {
            if st.group_by_name(&g.name).is_some() {
                anyhow::bail!("seed group {} is listed twice", g.name);
            }
            let mut accounts = Vec::new();
            for m in &g.members {
                let a = st
                    .account_by_email(m)
                    .ok_or_else(|| anyhow::anyhow!("group {} lists unknown member {m}", g.name))?;
                if g.synced && st.scim_user_by_account(&a.account_id).is_none() {
                    anyhow::bail!("synced group {} lists {m}, who has no SCIM record", g.name);
                }
                accounts.push(a.account_id.clone());
            }
            let gid = st.seed_group(&g.name, g.synced, &g.description);
            for a in accounts {
                st.members.insert((gid.clone(), a));
            }
        }
        for m in &self.memberships {
            let g = st
                .group_by_name(&m.group)
                .ok_or_else(|| anyhow::anyhow!("membership in unknown group {}", m.group))?;
            let (gid, synced) = (g.admin_id.clone(), g.synced());
            let a = st.account_by_email(&m.member).ok_or_else(|| {
                anyhow::anyhow!("membership of {} names unknown user {}", m.group, m.member)
            })?;
            let account = a.account_id.clone();
            if synced && st.scim_user_by_account(&account).is_none() {
                anyhow::bail!(
                    "synced group {} gets {}, who has no SCIM record",
                    m.group,
                    m.member
                );
            }
            st.members.insert((gid, account));
        }
        let make = |n: usize, off: usize, prefix: &str, name: &str| -> Vec<ProductItem> {
            (off + 1..=off + n)
                .map(|i| ProductItem {
                    id: format!("{}", 10_000 + i),
                    key: format!("{prefix}{i}"),
                    name: format!("{name} {i}"),
                })
                .collect()
        };
        let (j, c, b) = (st.jira.len(), st.confluence.len(), st.bitbucket.len());
        st.jira
            .extend(make(self.jira_projects, j, "PRJ", "Project"));
        st.confluence
            .extend(make(self.confluence_spaces, c, "SPACE", "Space"));
        st.bitbucket
            .extend(make(self.bitbucket_repositories, b, "repo-", "Repository"));
        Ok(())
    }
}

/// The largest seed file [`Seed::from_file`] reads: 256 MiB (the bench seeds 100,000 users).
pub const SEED_FILE_LIMIT: u64 = 256 << 20;

/// Reads a seed file: a regular file only (checked on what was opened, so a device or a pipe
/// behind a symlink is refused before anything is read), at most [`SEED_FILE_LIMIT`] bytes.
fn read_seed_file(path: &Path) -> anyhow::Result<String> {
    use std::io::Read as _;
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("cannot read seed file {shown}: {e}"))?;
    if !meta.is_file() {
        anyhow::bail!("seed file {shown} is not a regular file");
    }
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot read seed file {shown}: {e}"))?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        anyhow::bail!("seed file {shown} is not a regular file");
    }
    let mut bytes = Vec::new();
    file.take(SEED_FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot read seed file {shown}: {e}"))?;
    if bytes.len() as u64 > SEED_FILE_LIMIT {
        anyhow::bail!(
            "seed file {shown} is larger than {} MiB",
            SEED_FILE_LIMIT >> 20
        );
    }
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("seed file {shown} is not UTF-8 text"))
}
