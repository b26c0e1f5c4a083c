//! Helpers shared by the mutating actions: timeouts, request builders by credential, error
//! contexts, batches, and picking the right user out of a SCIM look-up.

use crate::config::{ADMIN_API_KEY, ConnectorConfig, SCIM_TOKEN};
use crate::error::ConnectorError;
use crate::model::ResolvedUser;
use crate::scim;
use crate::transport::{Auth, HttpError, Method, Request, Response, Transport};
use crate::upstream::{self, Api, Context};

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

/// An admin API search (a read carried by a `POST`) with the organization key.
pub fn admin_search(url: String, body: Vec<u8>) -> Request {
    Request::with_json(
        Method::Post,
        url,
        Auth::bearer(ADMIN_API_KEY),
        READ_TIMEOUT_MS,
        body,
    )
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

/// Sends independent requests in one `send_all` (none when the list is empty). A host that
/// answers fewer results than requests gets an error for each missing one, never a panic.
pub fn send_batch(
    transport: &dyn Transport,
    requests: Vec<Request>,
) -> Vec<Result<Response, HttpError>> {
    if requests.is_empty() {
        return Vec::new();
    }
    let n = requests.len();
    let mut results = transport.send_all(requests);
    results.truncate(n);
    while results.len() < n {
        results.push(Err(HttpError::Other(
            "the host returned no result for this request".to_string(),
        )));
    }
    results
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
    Ok(upstream::parse_json::<scim::ListResponse<scim::User>>(Api::Scim, &resp)?.resources)
}

/// The user of a `userName` look-up whose `userName` equals `email` ignoring case (an exact
/// match preferred); the server's own matching is not trusted blindly.
pub fn pick_by_user_name(users: Vec<scim::User>, email: &str) -> Option<scim::User> {
    let folded = email.to_lowercase();
    let mut candidates: Vec<scim::User> = users
        .into_iter()
        .filter(|u| u.id.as_deref().is_some_and(|id| !id.is_empty()))
        .filter(|u| {
            u.user_name
                .as_deref()
                .is_some_and(|n| n.to_lowercase() == folded)
        })
        .collect();
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
        scim_id: user.id.clone(),
        account_id: user.account_id().map(str::to_string),
        email: user.user_name.clone(),
        active: user.active,
    }
}

/// True when `a` and `b` are equal ignoring case (Unicode-aware).
pub fn same_ignoring_case(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}
