//! Helpers shared by the mutating actions: timeouts, request builders by credential, error
//! contexts, batches, picking the right user out of a SCIM look-up, and finding the person an
//! action is about by any [`UserRef`] ([`Run::find`], [`Person`]).

use crate::config::{ADMIN_API_KEY, AdminConfig, ConnectorConfig, SCIM_TOKEN};
use crate::error::ConnectorError;
use crate::model::{AccountId, Change, ChangeStatus, Outcome, ResolvedUser, ScimId, UserRef};
use crate::text::fold_case;
use crate::transport::{Auth, HttpError, Method, Request, Response, Transport};
use crate::upstream::{self, Api, Context};
use crate::{admin, scim};

/// Per-request timeout of reads, in milliseconds.
pub const READ_TIMEOUT_MS: u32 = 15_000;
/// Per-request timeout of writes, in milliseconds.
pub const WRITE_TIMEOUT_MS: u32 = 30_000;
/// `count` of a SCIM look-up by `userName` or `externalId`. One match is expected; a few
/// more leave room for records differing only in case, so the exact one can be preferred.
pub const LOOKUP_COUNT: u32 = 10;

/// A SCIM GET with the SCIM token.
pub fn scim_get(url: String) -> Request {
    Request::get(url, Auth::bearer(SCIM_TOKEN), READ_TIMEOUT_MS)
}

/// A SCIM write (`POST`, `PATCH`) with a JSON body and the SCIM token.
pub fn scim_write(method: Method, url: String, body: Vec<u8>) -> Request {
    Request::with_json(
        method,
        url,
        Auth::bearer(SCIM_TOKEN),
        WRITE_TIMEOUT_MS,
        body,
    )
}

/// A SCIM `DELETE` with the SCIM token.
pub fn scim_delete(url: String) -> Request {
    Request::delete(url, Auth::bearer(SCIM_TOKEN), WRITE_TIMEOUT_MS)
}

/// An admin API GET with the organization key.
pub fn admin_get(url: String) -> Request {
    Request::get(url, Auth::bearer(ADMIN_API_KEY), READ_TIMEOUT_MS)
}

/// An admin API search (a read carried by a `POST`, so `read_only`) with the organization
/// key.
pub fn admin_search(url: String, body: Vec<u8>) -> Request {
    Request::with_json(
        Method::Post,
        url,
        Auth::bearer(ADMIN_API_KEY),
        READ_TIMEOUT_MS,
        body,
    )
    .read_only()
}

/// An admin API `POST` write with the organization key.
pub fn admin_post(url: String, body: Vec<u8>) -> Request {
    Request::with_json(
        Method::Post,
        url,
        Auth::bearer(ADMIN_API_KEY),
        WRITE_TIMEOUT_MS,
        body,
    )
}

/// An admin API `POST` write with no body (lifecycle `delete`, suspend, restore: the API
/// declares none, so none is sent and no `content-type` either).
pub fn admin_post_empty(url: String) -> Request {
    Request {
        method: Method::Post,
        ..Request::get(url, Auth::bearer(ADMIN_API_KEY), WRITE_TIMEOUT_MS)
    }
}

/// An admin API `DELETE` with the organization key.
pub fn admin_delete(url: String) -> Request {
    Request::delete(url, Auth::bearer(ADMIN_API_KEY), WRITE_TIMEOUT_MS)
}

/// How 404s of SCIM collection reads name the directory.
pub fn scim_subject(cfg: &ConnectorConfig) -> String {
    match &cfg.scim.directory_id {
        Some(id) => format!("SCIM directory `{id}` (the directory id in scim_url)"),
        None => format!("the SCIM directory at scim_url {}", cfg.scim.url),
    }
}

/// The error context of a SCIM request about `subject`.
pub fn scim_ctx(subject: &str) -> Context<'_> {
    Context {
        api: Api::Scim,
        credential: SCIM_TOKEN,
        subject,
    }
}

/// The error context of an admin API request about `subject`.
pub fn admin_ctx(subject: &str) -> Context<'_> {
    Context {
        api: Api::Admin,
        credential: ADMIN_API_KEY,
        subject,
    }
}

/// Sends independent requests with `send_all` (none when the list is empty), split into
/// batches that fit the host's `max-batch`, each a whole number of its waves, so a list of
/// any length costs ⌈N ÷ max-in-flight⌉ round trips. A host that answers fewer results than
/// requests gets an error for each missing one, never a panic.
pub fn send_batch(
    transport: &dyn Transport,
    requests: Vec<Request>,
) -> Vec<Result<Response, HttpError>> {
    let chunk = transport.limits().chunk().max(1);
    let mut results = Vec::with_capacity(requests.len());
    let mut rest = requests;
    while !rest.is_empty() {
        let tail = rest.split_off(chunk.min(rest.len()));
        let part = std::mem::replace(&mut rest, tail);
        let len = part.len();
        let mut answers = transport.send_all(part);
        answers.truncate(len);
        answers.resize_with(len, || {
            Err(HttpError::Other(
                "the host returned no result for this request".to_string(),
            ))
        });
        results.append(&mut answers);
    }
    results
}

/// `invalid-input` unless `needed` more requests fit the host's request budget: an action
/// that could never finish in one invocation is refused before it sends anything, naming
/// the limit, instead of failing half way on every run.
pub fn require_budget(
    transport: &dyn Transport,
    needed: usize,
    what: &str,
) -> Result<(), ConnectorError> {
    let limits = transport.limits();
    if needed <= limits.remaining() {
        return Ok(());
    }
    Err(ConnectorError::InvalidInput(format!(
        "{what} needs at least {needed} requests, more than the {} this invocation may still \
         make (the host's request budget, max-requests = {}): split it into smaller calls",
        limits.requests_remaining, limits.max_requests
    )))
}

/// Takes result `i` out of a batch (an error if it is missing).
pub fn take(
    results: &mut [Option<Result<Response, HttpError>>],
    i: usize,
) -> Result<Response, HttpError> {
    results
        .get_mut(i)
        .and_then(Option::take)
        .unwrap_or_else(|| Err(HttpError::Other("no result for this request".to_string())))
}

/// Parses a successful SCIM look-up into its users.
pub fn parse_users(
    ctx: &Context<'_>,
    result: Result<Response, HttpError>,
) -> Result<Vec<scim::User>, ConnectorError> {
    let resp = upstream::check(ctx, result)?;
    Ok(upstream::read(Api::Scim, &resp, scim::parse_list::<scim::User>)?.resources)
}

/// The user of a `userName` look-up whose `userName` equals `email` ignoring case (an exact
/// match preferred); the server's own matching is not trusted blindly.
pub fn pick_by_user_name(users: Vec<scim::User>, email: &str) -> Option<scim::User> {
    let folded = fold_case(email);
    let mut candidates: Vec<scim::User> = Vec::new();
    for u in users {
        if u.id.as_deref().is_some_and(|id| !id.is_empty())
            && u.user_name
                .as_deref()
                .is_some_and(|n| fold_case(n) == folded)
        {
            candidates.push(u);
        }
    }
    let exact = candidates
        .iter()
        .position(|u| u.user_name.as_deref() == Some(email))
        .unwrap_or(0);
    if exact < candidates.len() {
        Some(candidates.swap_remove(exact))
    } else {
        None
    }
}

/// The user of an `externalId` look-up whose `externalId` is exactly `external_id`.
pub fn pick_by_external_id(users: Vec<scim::User>, external_id: &str) -> Option<scim::User> {
    users.into_iter().find(|u| {
        u.external_id.as_deref() == Some(external_id)
            && u.id.as_deref().is_some_and(|id| !id.is_empty())
    })
}

/// The outcome's view of a SCIM user. A missing account id means "not linked yet".
pub fn resolved(user: &scim::User) -> ResolvedUser {
    ResolvedUser {
        scim_id: ScimId::from_wire(user.id.as_deref()),
        account_id: AccountId::from_wire(user.account_id()),
        email: user.user_name.clone(),
        active: user.active,
    }
}

/// True when `a` and `b` are equal ignoring case (Unicode-aware).
pub fn same_ignoring_case(a: &str, b: &str) -> bool {
    a == b || fold_case(a) == fold_case(b)
}

// ---- Finding the person an action is about (shared by relationships, deprovision, delete).

pub(super) fn push(batch: &mut Vec<Request>, request: Request) -> usize {
    batch.push(request);
    batch.len() - 1
}

fn users_search(a: &AdminConfig, query: admin::UserQuery<'_>) -> Request {
    admin_search(
        admin::users_search_url(&a.api_url, &a.org_id, admin::ALL_DIRECTORIES),
        admin::users_search_body(query),
    )
}

pub(super) fn check_user_ref(user: &UserRef) -> Result<(), ConnectorError> {
    let what = match user {
        UserRef::Email(_) => "email",
        UserRef::ScimId(_) => "scim-id",
        UserRef::AccountId(_) => "account-id",
        UserRef::ExternalId(_) => "external-id",
    };
    let value = user.value();
    if value.trim().is_empty() {
        return Err(ConnectorError::InvalidInput(format!(
            "the user's {what} is empty"
        )));
    }
    if crate::encode::is_dot_segment(value.trim()) {
        return Err(ConnectorError::InvalidInput(format!(
            "the user's {what} `{}` is a path segment, not an identifier",
            value.trim()
        )));
    }
    if value.chars().any(char::is_control) || crate::text::char_count(value) > 255 {
        return Err(ConnectorError::InvalidInput(format!(
            "the user's {what} is not a valid identifier"
        )));
    }
    Ok(())
}

/// Where the first batch's user reads sit.
#[derive(Default)]
pub(super) struct UserReads {
    scim: Option<usize>,
    admin_user: Option<usize>,
    links: Option<usize>,
}

/// What is known of the person after the reads.
#[derive(Default)]
pub(super) struct Person {
    pub(super) scim: Option<scim::User>,
    pub(super) scim_id: Option<ScimId>,
    pub(super) account_id: Option<AccountId>,
    pub(super) email: Option<String>,
    pub(super) admin_user: Option<admin::User>,
    /// True when the admin users search already ran (found or not).
    pub(super) admin_searched: bool,
}
impl Person {
    /// True when a SCIM user or an admin user was found.
    pub(super) fn found(&self) -> bool {
        self.scim_id.is_some() || self.admin_user.is_some()
    }

    pub(super) fn resolved(&self) -> ResolvedUser {
        let mut r = self.scim.as_ref().map(resolved).unwrap_or_default();
        r.scim_id = r.scim_id.or_else(|| self.scim_id.clone());
        r.account_id = r.account_id.or_else(|| self.account_id.clone());
        r.email = r.email.or_else(|| self.email.clone());
        r
    }
}

/// `not-found` for a user absent from the directory.
pub(super) fn not_found(cfg: &ConnectorConfig, user: &UserRef) -> ConnectorError {
    ConnectorError::NotFound(format!(
        "{} was not found in {}",
        describe_ref(user),
        scim_subject(cfg)
    ))
}

pub(super) fn describe_ref(user: &UserRef) -> String {
    match user {
        UserRef::Email(v) => format!("the user with email `{v}`"),
        UserRef::ScimId(v) => format!("SCIM user `{v}`"),
        UserRef::AccountId(v) => format!("account `{v}`"),
        UserRef::ExternalId(v) => format!("the user with external id `{v}`"),
    }
}

pub(super) struct Run<'a> {
    pub(super) cfg: &'a ConnectorConfig,
    pub(super) admin: Option<&'a AdminConfig>,
    pub(super) transport: &'a dyn Transport,
}
impl<'a> Run<'a> {
    /// The run of an action under `cfg`, the admin API when configured.
    pub(super) fn of(cfg: &'a ConnectorConfig, transport: &'a dyn Transport) -> Self {
        Run {
            cfg,
            admin: cfg.admin.as_ref(),
            transport,
        }
    }

    /// [`Self::find`] with the admin user, an unknown person `not-found`.
    pub(super) fn existing(&self, user: &UserRef) -> Result<Person, ConnectorError> {
        let person = self.find(user, true)?;
        if !person.found() {
            return Err(not_found(self.cfg, user));
        }
        Ok(person)
    }

    /// Queues the reads that find the person; admin reads only when groups are named.
    pub(super) fn user_reads(
        &self,
        user: &UserRef,
        any_groups: bool,
        batch: &mut Vec<Request>,
    ) -> UserReads {
        let base = &self.cfg.scim.url;
        let mut reads = UserReads::default();
        match user {
            UserRef::Email(email) => {
                let url = scim::users_filter_url(base, "userName", email, LOOKUP_COUNT);
                reads.scim = Some(push(batch, scim_get(url)));
                if let Some(a) = self.admin.filter(|_| any_groups) {
                    let query = admin::UserQuery::Email(email);
                    reads.admin_user = Some(push(batch, users_search(a, query)));
                }
            }
            UserRef::ScimId(id) => {
                reads.scim = Some(push(batch, scim_get(scim::user_url(base, id))));
            }
            UserRef::ExternalId(x) => {
                let url = scim::users_filter_url(base, "externalId", x, LOOKUP_COUNT);
                reads.scim = Some(push(batch, scim_get(url)));
            }
            UserRef::AccountId(acc) => {
                if let Some(a) = self.admin {
                    let query = admin::UserQuery::AccountId(acc);
                    reads.admin_user = Some(push(batch, users_search(a, query)));
                    let links = admin::scim_links_url(&a.api_url, &a.org_id, acc);
                    reads.links = Some(push(batch, admin_get(links)));
                }
            }
        }
        reads
    }

    /// Interprets the user reads of round trip 1.
    pub(super) fn lookup(
        &self,
        user: &UserRef,
        reads: &UserReads,
        results: &mut [Option<Result<Response, HttpError>>],
    ) -> Result<Person, ConnectorError> {
        let mut person = Person::default();
        let directory = scim_subject(self.cfg);
        if let Some(i) = reads.scim {
            let result = take(results, i);
            person.scim = match user {
                UserRef::Email(email) => {
                    pick_by_user_name(parse_users(&scim_ctx(&directory), result)?, email)
                }
                UserRef::ExternalId(x) => {
                    pick_by_external_id(parse_users(&scim_ctx(&directory), result)?, x)
                }
                _ => self.scim_user(user, result)?,
            };
        }
        if let Some(i) = reads.admin_user {
            person.admin_searched = true;
            person.admin_user = admin_user_from(user_search_result(take(results, i))?, user);
        }
        if let Some(i) = reads.links {
            let subject = describe_ref(user);
            match upstream::check(&admin_ctx(&subject), take(results, i)) {
                Ok(resp) => {
                    let links = upstream::parse_json::<admin::ScimLinks>(Api::Admin, &resp)?;
                    person.scim_id = ScimId::from_wire(
                        links.scim_user_id(self.cfg.scim.directory_id.as_deref()),
                    );
                }
                // The account exists (or not) without a SCIM record here: not an error yet.
                Err(ConnectorError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(u) = &person.scim {
            person.scim_id = ScimId::from_wire(u.id.as_deref());
            person.account_id = AccountId::from_wire(u.account_id());
            person.email = u.user_name.clone();
        }
        if let Some(u) = &person.admin_user {
            person.account_id = person
                .account_id
                .take()
                .or_else(|| AccountId::from_wire(u.account_id.as_deref()));
            person.email = person.email.take().or_else(|| u.email.clone());
        }
        if let UserRef::AccountId(acc) = user
            && (person.admin_user.is_some() || person.scim_id.is_some())
        {
            person.account_id = Some(acc.clone());
        }
        Ok(person)
    }

    /// [`Self::lookup`], with an unknown user `not-found`.
    pub(super) fn person(
        &self,
        user: &UserRef,
        reads: &UserReads,
        results: &mut [Option<Result<Response, HttpError>>],
    ) -> Result<Person, ConnectorError> {
        let person = self.lookup(user, reads, results)?;
        if !person.found() {
            return Err(not_found(self.cfg, user));
        }
        Ok(person)
    }

    /// Finds the person with one read batch, then the SCIM record when only its id is known
    /// (a user named by account id), then, with `with_admin`, the admin user when round trip
    /// 1 could not search for it. Absent: an empty [`Person`] (see [`Person::found`]).
    pub(super) fn find(&self, user: &UserRef, with_admin: bool) -> Result<Person, ConnectorError> {
        let mut batch = Vec::new();
        let reads = self.user_reads(user, with_admin, &mut batch);
        let mut results: Vec<Option<Result<Response, HttpError>>> = Vec::new();
        for r in send_batch(self.transport, batch) {
            results.push(Some(r));
        }
        let mut person = self.lookup(user, &reads, &mut results)?;
        if let (None, Some(id)) = (&person.scim, &person.scim_id) {
            let read = self
                .transport
                .send(scim_get(scim::user_url(&self.cfg.scim.url, id)));
            person.scim = self.scim_user(user, read)?;
            person.scim_id = person
                .scim
                .as_ref()
                .and_then(|u| ScimId::from_wire(u.id.as_deref()));
            person.email = person
                .email
                .take()
                .or_else(|| person.scim.as_ref().and_then(|u| u.user_name.clone()));
        }
        if let Some(a) = self.admin.filter(|_| with_admin && person.found())
            && !person.admin_searched
        {
            person.admin_user = self.admin_user_after_scim(a, &person)?;
            person.account_id = person.account_id.take().or_else(|| {
                person
                    .admin_user
                    .as_ref()
                    .and_then(|u| AccountId::from_wire(u.account_id.as_deref()))
            });
        }
        Ok(person)
    }

    /// A `GET /Users/{id}` answer: the user, or `None` on 404.
    pub(super) fn scim_user(
        &self,
        user: &UserRef,
        result: Result<Response, HttpError>,
    ) -> Result<Option<scim::User>, ConnectorError> {
        let subject = format!("{} in {}", describe_ref(user), scim_subject(self.cfg));
        match upstream::check(&scim_ctx(&subject), result) {
            Ok(resp) => Ok(Some(upstream::read(Api::Scim, &resp, scim::parse_user)?)
                .filter(|u| u.id.as_deref().is_some_and(|id| !id.is_empty()))),
            Err(ConnectorError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The admin users search for a person first found in SCIM (by SCIM id or external id).
    pub(super) fn admin_user_after_scim(
        &self,
        a: &AdminConfig,
        person: &Person,
    ) -> Result<Option<admin::User>, ConnectorError> {
        let (query, reference) = match (&person.account_id, &person.email) {
            (Some(acc), _) => (
                admin::UserQuery::AccountId(acc),
                UserRef::AccountId(acc.clone()),
            ),
            (None, Some(email)) => (
                admin::UserQuery::Email(email),
                UserRef::Email(email.clone()),
            ),
            (None, None) => return Ok(None),
        };
        let result = self.transport.send(users_search(a, query));
        Ok(admin_user_from(user_search_result(result)?, &reference))
    }
}

fn user_search_result(
    result: Result<Response, HttpError>,
) -> Result<admin::Page<admin::User>, ConnectorError> {
    let resp = upstream::check(&admin_ctx("the user"), result)?;
    upstream::parse_json(Api::Admin, &resp)
}

/// The searched-for user out of an admin users search page.
fn admin_user_from(page: admin::Page<admin::User>, user: &UserRef) -> Option<admin::User> {
    page.data.into_iter().find(|u| match user {
        UserRef::Email(e) => u.email.as_deref().is_some_and(|x| same_ignoring_case(x, e)),
        UserRef::AccountId(a) => u.account_id.as_deref() == Some(a.as_str()),
        _ => false,
    })
}

/// An outcome, complete when no change failed.
pub(super) fn outcome(user: Option<ResolvedUser>, changes: Vec<Change>) -> Outcome {
    let completed = !changes
        .iter()
        .any(|c| matches!(c.status, ChangeStatus::Failed(_)));
    Outcome {
        user,
        changes,
        completed,
    }
}
