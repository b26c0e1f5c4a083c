#![deny(missing_docs)]
//! A stateful Atlassian Cloud simulator: SCIM, Admin API v2, user lifecycle, SCIM links and
//! product discovery on one loopback HTTP server, with scriptable faults and a request log.
//!
//! It behaves like Atlassian as its public API documentation describes it; each uncertain
//! behaviour has a switch in [`SimOptions`].
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use atlassian_simulator::*;
//! let sim = Simulator::builder()
//!     .user(SeedUser::new("ada@example.com").name("Ada Lovelace"))
//!     .group(SeedGroup::admin("jira-users", &["ada@example.com"]))
//!     .scim_page_size(100)
//!     .start()
//!     .await?;
//! sim.fault(Route::scim("/Users").method("POST"), Fault::DropResponse, 1);
//! // … run the connector against sim.config_toml() …
//! assert_eq!(sim.group_members("jira-users"), vec!["ada@example.com"]);
//! assert!(sim.writes().is_empty());
//! # Ok(()) }
//! ```
//!
//! Staging the conformance cases (ids as in the README):
//! - A3/A4/A6: put a wrong token, another organization id (403) or another directory id (404)
//!   in the config; [`Simulator::rotate_tokens`] makes the old secrets stop working at once;
//!   `admin_key_scoped` makes the lifecycle API answer 403, `admin_key_forbidden` the whole
//!   admin API (a genuine key without access, where a wrong key answers 401).
//! - B5: `sim.fault(Route::scim("/Users").method("POST"), Fault::Concurrent(Box::new(seed)), 1)`
//!   where `seed` holds the same user: the POST answers a real 409 `uniqueness`.
//! - B6: `sim.fault(Route::scim("/Users").method("POST"), Fault::DropResponse, 1)`.
//! - B10: [`SimulatorBuilder::account_id_pending`].
//! - C3: default 204, or `configure(|o| o.existing_member_conflict = true)` for 409
//!   `ADMIN-UAM-409-2`; a [`Fault::Concurrent`] on the membership POST whose seed holds a
//!   [`SeedMembership`] makes the write meet a member added after the connector's read. C7: [`SimulatorBuilder::licence_limit`] (409 `ADMIN-UAM-409-3`).
//! - D3: `sim.fault_after(Route::admin("").method("DELETE").containing("/memberships/"), 1,
//!   Fault::Unavailable { retry_after: None }, 1)` (or `Route::scim("/Groups").method("PATCH")`).
//! - F1–F3: [`SimulatorBuilder::users`], [`SimulatorBuilder::products`] and the page-size knobs;
//!   [`LinkStyle::Header`] for Confluence's `Link` header. F4: any filter but one `eq`.
//! - H1: [`Fault::RateLimited`] with [`RetryHint::Seconds`], [`RetryHint::HttpDate`] or
//!   [`RetryHint::RateLimitReset`], hints counted from [`LoggedRequest::received_at`]; H2: [`Simulator::fault_always`]; H3: [`Fault::Status`];
//!   H4: [`Fault::MalformedJson`], [`Fault::HtmlErrorPage`], [`Fault::TruncatedBody`],
//!   [`Fault::OversizedBody`]. H8: [`Fault::EchoAuthorization`].
//! - K3/K4: [`SimOptions::rate_limit`] (or [`Simulator::rate_limit`]) with a [`RateLimit`];
//!   [`Simulator::rate_counts`] tells what each window received.
//! - G1/G3: [`Simulator::mutations`] (writes minus admin searches); the log never holds headers.
//!
//! # The server
//!
//! hyper 1 on a loopback listener, one task per connection, keep-alive, on a thread and
//! runtime of its own. It keeps no request once answered: the request log is the only record,
//! and bodies are read bounded by [`MAX_REQUEST_BODY`] (413 beyond). Dropping the
//! [`Simulator`] stops it without waiting.
//!
//! Dropped responses ([`Fault::DropResponse`]): the request runs through the API (the state
//! change commits and is logged), then the service returns an error, on which hyper closes the
//! connection without writing any response. The client sees a connection error at once (no
//! timeout needed).

mod admin;
mod api_keys;
mod auth;
mod faults;
mod http;
mod lifecycle;
mod log;
mod manage;
mod member_search;
mod memberships;
mod options;
mod products;
mod rate_limit;
mod roles;
mod scim;
mod scim_filter;
mod scim_patch;
mod scim_schema;
mod seed;
mod server;
mod state;
mod util;

pub use api_keys::OrgApiKey;
pub use faults::{Fault, RetryHint, Route};
pub use http::Api;
pub use log::{LoggedRequest, is_mutation};
pub use manage::ApiToken;
pub use options::{LifecycleReply, LinkStyle, RevokeMissing, SimOptions};
pub use rate_limit::{RateLimit, WindowCount};
pub use roles::{RoleView, Workspace};
pub use seed::{SEED_FILE_LIMIT, Seed, SeedGroup, SeedMembership, SeedUser};
pub use server::MAX_REQUEST_BODY;
pub use state::{AccountStatus, GroupView, Tokens, UserView};

use faults::FaultRule;
use http::{Shared, lock};
use serde_json::Value;
use state::State;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Builds a [`Simulator`]: seed data, paging, quirks, port.
#[derive(Debug, Clone, Default)]
pub struct SimulatorBuilder {
    seed: Seed,
    port: u16,
}

impl SimulatorBuilder {
    /// The port to bind on 127.0.0.1 (0, the default, picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Replaces the whole seed.
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }
    /// Replaces the seed with the contents of a JSON (`.json`) or TOML file.
    pub fn seed_from_file(self, path: impl AsRef<Path>) -> anyhow::Result<Self> {
        Ok(self.seed(Seed::from_file(path.as_ref())?))
    }
    /// Replaces the seed with the small demo organization ([`Seed::demo`]), keeping the options
    /// set so far.
    pub fn demo_org(self) -> Self {
        let opts = self.seed.options.clone();
        let mut b = self.seed(Seed::demo());
        b.seed.options = opts;
        b
    }
    /// Fixes the organization id.
    pub fn org_id(mut self, id: &str) -> Self {
        self.seed.org_id = Some(id.to_string());
        self
    }
    /// Fixes the SCIM directory id.
    pub fn directory_id(mut self, id: &str) -> Self {
        self.seed.directory_id = Some(id.to_string());
        self
    }
    /// Sets the Bitbucket workspace slug.
    pub fn workspace(mut self, ws: &str) -> Self {
        self.seed.workspace = Some(ws.to_string());
        self
    }
    /// Fixes the secrets (random otherwise).
    pub fn tokens(mut self, tokens: Tokens) -> Self {
        self.seed.tokens = Some(tokens);
        self
    }
    /// Adds a user.
    pub fn user(mut self, user: SeedUser) -> Self {
        self.seed.users.push(user);
        self
    }
    /// Adds `n` users `user{i}@example.com` (i from 1), all SCIM-provisioned.
    pub fn users(mut self, n: usize) -> Self {
        let start = self.seed.users.len() + 1;
        for i in start..start + n {
            self.seed.users.push(
                SeedUser::new(&format!("user{i}@example.com"))
                    .name(&format!("User {i}"))
                    .external_id(&format!("idp-{i}")),
            );
        }
        self
    }
    /// Adds a group.
    pub fn group(mut self, group: SeedGroup) -> Self {
        self.seed.groups.push(group);
        self
    }
    /// Adds a group synced from the identity provider with these members (emails).
    pub fn synced_group(self, name: &str, members: &[&str]) -> Self {
        self.group(SeedGroup::synced(name, members))
    }
    /// Adds an admin-managed group with these members (emails).
    pub fn admin_group(self, name: &str, members: &[&str]) -> Self {
        self.group(SeedGroup::admin(name, members))
    }
    /// Generates Jira projects, Confluence spaces and Bitbucket repositories.
    pub fn products(mut self, jira: usize, confluence: usize, bitbucket: usize) -> Self {
        self.seed.jira_projects = jira;
        self.seed.confluence_spaces = confluence;
        self.seed.bitbucket_repositories = bitbucket;
        self
    }
    /// Changes any option.
    pub fn options(mut self, f: impl FnOnce(&mut SimOptions)) -> Self {
        f(self.seed.options.get_or_insert_with(SimOptions::default));
        self
    }
    /// SCIM server page size (larger `count`s are ignored).
    pub fn scim_page_size(self, n: usize) -> Self {
        self.options(|o| o.scim_page_size = n)
    }
    /// Admin API page cap.
    pub fn admin_page_size(self, n: usize) -> Self {
        self.options(|o| o.admin_page_size = n)
    }
    /// Jira `maxResults` cap.
    pub fn jira_page_size(self, n: usize) -> Self {
        self.options(|o| o.jira_page_size = n)
    }
    /// Confluence `limit` cap.
    pub fn confluence_page_size(self, n: usize) -> Self {
        self.options(|o| o.confluence_page_size = n)
    }
    /// Bitbucket `pagelen` cap.
    pub fn bitbucket_page_size(self, n: usize) -> Self {
        self.options(|o| o.bitbucket_page_size = n)
    }
    /// Where Confluence puts its next link.
    pub fn confluence_link_style(self, s: LinkStyle) -> Self {
        self.options(|o| o.confluence_link_style = s)
    }
    /// Existing member: 409 `ADMIN-UAM-409-2` (true) or 204 (false, default).
    pub fn existing_member_conflict(self, on: bool) -> Self {
        self.options(|o| o.existing_member_conflict = on)
    }
    /// Account id absent from the creation response and the first read after it.
    pub fn account_id_pending(self, on: bool) -> Self {
        self.options(|o| o.account_id_pending_reads = if on { 2 } else { 0 })
    }
    /// A licence limit on an admin group: more than `seats` members answers 409 `ADMIN-UAM-409-3`.
    pub fn licence_limit(self, group: &str, seats: usize) -> Self {
        self.options(|o| {
            o.licence_limits.insert(group.to_string(), seats);
        })
    }

    /// Binds 127.0.0.1, seeds the state and starts serving.
    pub async fn start(self) -> anyhow::Result<Simulator> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port))?;
        let port = listener.local_addr()?.port();
        let base_url = format!("http://127.0.0.1:{port}");
        let seed = self.seed;
        let mut st = State {
            org_id: seed.org_id.clone().unwrap_or_else(util::uuid),
            dir_id: seed.directory_id.clone().unwrap_or_else(util::uuid),
            dir_name: seed
                .directory_name
                .clone()
                .unwrap_or_else(|| "Simulated identity provider".into()),
            workspace: seed
                .workspace
                .clone()
                .unwrap_or_else(|| "simulated-workspace".into()),
            product_user: seed
                .product_user
                .clone()
                .unwrap_or_else(|| "discovery@example.com".into()),
            tokens: seed.tokens.clone().unwrap_or_else(Tokens::random),
            options: seed.options.clone().unwrap_or_default(),
            base_url: base_url.clone(),
            accounts: Vec::new(),
            scim_users: Vec::new(),
            groups: Vec::new(),
            members: Default::default(),
            jira: Vec::new(),
            confluence: Vec::new(),
            bitbucket: Vec::new(),
            faults: Vec::new(),
            holds: Vec::new(),
            log: Vec::new(),
            admin_lag: Default::default(),
            hints: Default::default(),
            user_names: Default::default(),
            emails: Default::default(),
            roles: roles::Roles::one_site(),
            api_tokens: Vec::new(),
            api_keys: Vec::new(),
            rate: Default::default(),
        };
        seed.apply(&mut st)?;
        let shared: Shared = Arc::new(Mutex::new(st));
        let server = server::spawn(listener, shared.clone())?;
        Ok(Simulator {
            _server: server,
            shared,
            base_url,
        })
    }
}

/// A running simulator. Dropping it stops the server (without waiting for it): the port
/// closes, idle connections close, a response being written is finished first.
pub struct Simulator {
    _server: server::Running,
    shared: Shared,
    base_url: String,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl Simulator {
    /// A builder with an empty organization.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.shared)
    }

    /// `http://127.0.0.1:PORT` (admin, lifecycle, site and Bitbucket host).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// The SCIM base URL `http://127.0.0.1:PORT/scim/directory/{directoryId}`.
    pub fn scim_url(&self) -> String {
        format!("{}/scim/directory/{}", self.base_url, self.directory_id())
    }
    /// Organization id.
    pub fn org_id(&self) -> String {
        self.st().org_id.clone()
    }
    /// SCIM directory id.
    pub fn directory_id(&self) -> String {
        self.st().dir_id.clone()
    }
    /// Bitbucket workspace.
    pub fn workspace(&self) -> String {
        self.st().workspace.clone()
    }
    /// Product API user (Basic auth user name).
    pub fn product_user(&self) -> String {
        self.st().product_user.clone()
    }
    /// The current secrets.
    pub fn tokens(&self) -> Tokens {
        self.st().tokens.clone()
    }
    /// Replaces the secrets: the old ones stop working at once (key rotation).
    pub fn set_tokens(&self, tokens: Tokens) {
        self.st().tokens = tokens;
    }
    /// Rotates every secret to a fresh random value and returns the new ones.
    pub fn rotate_tokens(&self) -> Tokens {
        let t = Tokens::random();
        self.set_tokens(t.clone());
        t
    }

    /// The tenant configuration file pointing at this simulator (contains the secrets). The
    /// simulator listens on plain http on loopback, which the host reaches only when its
    /// operator allows loopback (`--allow-loopback`); the file cannot grant that itself.
    pub fn config_toml(&self) -> String {
        let st = self.st();
        let b = &self.base_url;
        format!(
            "instance_name = \"simulated-org\"\n\
             scim_url = {scim}\n\
             scim_organization_id = {org}\n\
             atlassian_api_url = {b2}\n\
             site_url = {b2}\n\
             bitbucket_api_url = {b2}\n\
             bitbucket_workspace = {ws}\n\
             product_user = {pu}\n\
             \n\
             [secrets]\n\
             scim_token = {t1}\n\
             admin_api_key = {t2}\n\
             product_token = {t3}\n",
            scim = toml_str(&format!("{b}/scim/directory/{}", st.dir_id)),
            org = toml_str(&st.org_id),
            b2 = toml_str(b),
            ws = toml_str(&st.workspace),
            pu = toml_str(&st.product_user),
            t1 = toml_str(&st.tokens.scim_token),
            t2 = toml_str(&st.tokens.admin_api_key),
            t3 = toml_str(&st.tokens.product_token),
        )
    }

    /// The current options.
    pub fn options(&self) -> SimOptions {
        self.st().options.clone()
    }
    /// Changes options (paging, quirks) while running.
    pub fn configure(&self, f: impl FnOnce(&mut SimOptions)) {
        f(&mut self.st().options);
    }
    /// Adds more users, groups and products while running.
    pub fn add(&self, seed: &Seed) -> anyhow::Result<()> {
        seed.apply(&mut self.st())
    }

    /// Scripts a fault: the next `times` requests matching `route` get `fault`.
    pub fn fault(&self, route: Route, fault: Fault, times: u32) {
        self.fault_after(route, 0, fault, times);
    }
    /// Scripts a fault after letting `skip` matching requests through (e.g. "fail the second
    /// membership removal").
    pub fn fault_after(&self, route: Route, skip: u32, fault: Fault, times: u32) {
        if times == 0 {
            return;
        }
        self.st().faults.push(FaultRule {
            route,
            fault,
            skip,
            remaining: times,
        });
    }
    /// Scripts a fault that never clears.
    pub fn fault_always(&self, route: Route, fault: Fault) {
        self.fault_after(route, 0, fault, u32::MAX);
    }
    /// Removes every scripted fault.
    pub fn clear_faults(&self) {
        self.st().faults.clear();
    }
    /// Scripted faults not used up yet.
    pub fn pending_faults(&self) -> usize {
        self.st().faults.len()
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.st().log.clone()
    }
    /// POST/PUT/PATCH/DELETE requests (including the admin searches, which are POSTs).
    pub fn writes(&self) -> Vec<LoggedRequest> {
        log::writes(&self.st().log)
    }
    /// Requests that can change state (writes that are not admin searches).
    pub fn mutations(&self) -> Vec<LoggedRequest> {
        self.st()
            .log
            .iter()
            .filter(|r| is_mutation(r))
            .cloned()
            .collect()
    }
    /// How many requests used `method` on a path starting with `prefix` (decoded or not).
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.st()
            .log
            .iter()
            .filter(|r| r.matches(method, prefix))
            .count()
    }
    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.st().log.clear();
    }

    /// Turns the rate-limit mode on (`Some`) or off, keeping the counts so far.
    pub fn rate_limit(&self, limit: Option<RateLimit>) {
        self.st().options.rate_limit = limit;
    }

    /// What each window of each API received in the rate-limit mode, in API then window order.
    pub fn rate_counts(&self) -> Vec<WindowCount> {
        self.st().rate.counts()
    }

    /// Forgets the rate-limit counts.
    pub fn clear_rate_counts(&self) {
        self.st().rate.clear();
    }

    /// A user by email (case-insensitive).
    pub fn user_by_email(&self, email: &str) -> Option<UserView> {
        let st = self.st();
        let id = st.account_by_email(email)?.account_id.clone();
        st.user_view(&id)
    }
    /// A user by account id.
    pub fn user_by_account_id(&self, account_id: &str) -> Option<UserView> {
        self.st().user_view(account_id)
    }
    /// A user by SCIM id.
    pub fn user_by_scim_id(&self, scim_id: &str) -> Option<UserView> {
        let st = self.st();
        let id = st.scim_user(scim_id)?.account_id.clone();
        st.user_view(&id)
    }
    /// Every user (accounts, with their SCIM records).
    pub fn users(&self) -> Vec<UserView> {
        let st = self.st();
        st.accounts
            .iter()
            .filter_map(|a| st.user_view(&a.account_id))
            .collect()
    }
    /// Number of SCIM user records.
    pub fn scim_user_count(&self) -> usize {
        self.st().scim_users.len()
    }
    /// A group by name (case-insensitive).
    pub fn group_by_name(&self, name: &str) -> Option<GroupView> {
        let st = self.st();
        st.group_by_name(name).map(|g| st.group_view(g))
    }
    /// Every group.
    pub fn groups(&self) -> Vec<GroupView> {
        let st = self.st();
        st.groups.iter().map(|g| st.group_view(g)).collect()
    }
    /// Emails of a group's members (empty when the group does not exist).
    pub fn group_members(&self, name: &str) -> Vec<String> {
        self.group_by_name(name)
            .map(|g| g.member_emails)
            .unwrap_or_default()
    }
    /// The whole state as JSON (never the secrets).
    pub fn dump(&self) -> Value {
        self.st().dump()
    }
}
