//! A person's personal API tokens (API notes §7.4), revoked by `deprovision` when
//! `revoke_api_tokens` is set: the user-management preflight first
//! (`GET /users/{accountId}/manage?privileges=…`); when it allows `apiToken.read` and
//! `apiToken.delete`, the token listing, then ONE `send_all` of a `DELETE` per token. One
//! `revoke-credential` change per token, named by its label and id with its dates; a token's
//! value is never read, so it cannot appear anywhere. A preflight that forbids it is one
//! `skipped` change naming the reason key (`externalDirectory.scim`, …), never a silent
//! success.

use crate::config::ADMIN_API_KEY;
use crate::error::ConnectorError;
use crate::manage::{self, ApiTokens, Preflight};
use crate::model::{AccountId, Change, ChangeKind, ChangeStatus};
use crate::transport::{Auth, HttpError, Request, Response, Transport};
use crate::upstream::{self, Api, Context};

use super::common::{READ_TIMEOUT_MS, WRITE_TIMEOUT_MS, send_batch};

fn ctx(subject: &str) -> Context<'_> {
    Context {
        api: Api::Lifecycle,
        credential: ADMIN_API_KEY,
        subject,
    }
}

fn get(url: String) -> Request {
    Request::get(url, Auth::bearer(ADMIN_API_KEY), READ_TIMEOUT_MS)
}

/// The preflight for `account`: `Ok(Err(reason))` when the organization may not manage the
/// account at all (403 `forbidden`, `forbidden.targetUnverified`).
pub fn preflight(
    transport: &dyn Transport,
    api: &str,
    account: &AccountId,
) -> Result<Result<Preflight, String>, ConnectorError> {
    let answer = transport.send(get(manage::preflight_url(api, account)));
    if let Ok(resp) = &answer
        && resp.status == 403
    {
        let reason = manage::refusal_reason(&resp.body).unwrap_or_else(|| "forbidden".into());
        return Ok(Err(reason));
    }
    let subject = format!("account `{account}`");
    let resp = upstream::check(&ctx(&subject), answer)?;
    Ok(Ok(upstream::parse_json(Api::Lifecycle, &resp)?))
}

fn one(target: String, status: ChangeStatus) -> Vec<Change> {
    vec![Change {
        kind: ChangeKind::RevokeCredential,
        target,
        before: None,
        after: Some("no personal API token".into()),
        status,
    }]
}

/// Why the preflight stops the revocation, if it does.
fn refused(p: &Preflight) -> Option<String> {
    for privilege in ["apiToken.read", "apiToken.delete"] {
        if let Err(reason) = p.check(privilege) {
            return Some(format!(
                "the user-management preflight refuses `{privilege}` (reason `{reason}`): the \
                 organization key may not revoke this person's API tokens; whoever manages \
                 the account (its own organization or identity provider) must"
            ));
        }
    }
    None
}

/// Revokes every personal API token of `account`, one change per token.
pub fn revoke_tokens(
    transport: &dyn Transport,
    api: &str,
    account: &AccountId,
    dry_run: bool,
) -> Vec<Change> {
    let all = format!("the API tokens of account `{account}`");
    let check = match preflight(transport, api, account) {
        Ok(c) => c,
        Err(e) => return one(all, ChangeStatus::Failed(e)),
    };
    let reason = match check {
        Err(reason) => Some(format!(
            "the user-management preflight answered 403 (`{reason}`): this account is not the \
             organization's to manage, so its API tokens stay"
        )),
        Ok(p) => refused(&p),
    };
    if let Some(reason) = reason {
        return one(all, ChangeStatus::Skipped(reason));
    }
    let listed = transport.send(get(manage::api_tokens_url(api, account)));
    let tokens = match upstream::check(&ctx(&all), listed)
        .and_then(|r| upstream::parse_json::<ApiTokens>(Api::Lifecycle, &r))
    {
        Ok(t) => t.0,
        Err(e) => return one(all, ChangeStatus::Failed(e)),
    };
    let mut writes = Vec::new();
    if !dry_run {
        for t in &tokens {
            writes.push(Request::delete(
                manage::api_token_url(api, account, &t.id),
                Auth::bearer(ADMIN_API_KEY),
                WRITE_TIMEOUT_MS,
            ));
        }
    }
    let mut answers = send_batch(transport, writes).into_iter();
    let mut out = Vec::with_capacity(tokens.len());
    for t in tokens {
        let status = if dry_run {
            ChangeStatus::Planned
        } else {
            let answer = answers
                .next()
                .unwrap_or_else(|| Err(HttpError::Other("the host returned no result".into())));
            judge(&t.label, answer)
        };
        out.push(Change {
            kind: ChangeKind::RevokeCredential,
            target: format!("API token `{}` ({})", t.label, t.id),
            before: Some(format!(
                "created {}, last access {}",
                t.created_at.as_deref().unwrap_or("unknown"),
                t.last_access.as_deref().unwrap_or("never")
            )),
            after: Some("deleted".into()),
            status,
        });
    }
    out
}

fn judge(label: &str, answer: Result<Response, HttpError>) -> ChangeStatus {
    let subject = format!("API token `{label}`");
    match upstream::check(&ctx(&subject), answer) {
        Ok(_) => ChangeStatus::Applied,
        // Deleted meanwhile (a second delete answers 404): done.
        Err(ConnectorError::NotFound(_)) => ChangeStatus::AlreadyDone,
        Err(e) => ChangeStatus::Failed(e),
    }
}
