//! `sync-identity`: create the person when absent, or PATCH only the attributes that differ.
//!
//! Request sequence (every case reads before it writes, and never re-reads what it holds):
//! - present and unchanged: 1 (look-up by `userName`);
//! - present, N attributes differ: 2 (look-up, one `PATCH /Users/{id}` with N `replace`s);
//! - absent: 2 (look-up, `POST /Users`);
//! - create race (409 `uniqueness`): look-up, POST, look-up again, then the update case;
//! - POST answer lost (timeout, transport error, 5xx): look-up, POST, one look-up that tells
//!   whether the server committed it.
//!
//! Options: `create-missing = false` turns an absent person into `not-found`;
//! `update-existing = false` leaves a present person untouched and reports no change at all
//! (not even `already-done`: nothing was compared on the caller's behalf); `dry-run` reports
//! the same changes as `planned` and writes nothing.
//!
//! Attributes the identity leaves out (`None` or an empty string) are not managed: they are
//! neither sent on create nor compared or cleared on update. `active` is never a sync
//! attribute; new users are created active.

use crate::config::ConnectorConfig;
use crate::error::ConnectorError;
use crate::model::{
    Change, ChangeKind, ChangeStatus, Config, Identity, Outcome, ResolvedUser, SyncOptions,
};
use crate::scim::{self, Attribute, PatchOperation};
use crate::transport::{HttpError, Method, Response, Transport};
use crate::upstream::{self, Api};

use super::common::{
    LOOKUP_COUNT, parse_users, pick_by_user_name, resolved, same_ignoring_case, scim_ctx, scim_get,
    scim_subject, scim_write,
};

/// The longest email accepted, in characters (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// The longest name, given/family name, display name or external id accepted, in characters.
pub const MAX_ATTRIBUTE_CHARS: usize = 255;

/// Creates or updates `identity` in the SCIM directory. See the module docs for the request
/// sequence and the meaning of each option.
pub fn sync_identity(
    config: &Config,
    transport: &dyn Transport,
    identity: &Identity,
    options: SyncOptions,
) -> Result<Outcome, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    let desired = desired_attributes(identity)?;
    let sync = Sync {
        cfg: &cfg,
        transport,
        email: identity.email.as_str(),
        desired,
        options,
    };
    match sync.look_up()? {
        Some(user) => Ok(sync.update(user, Vec::new())),
        None if !options.create_missing => Err(ConnectorError::NotFound(format!(
            "no SCIM user has the email `{}` (userName), and create-missing is off",
            identity.email
        ))),
        None if options.dry_run => Ok(Outcome {
            user: None,
            changes: vec![sync.create_change(ChangeStatus::Planned)],
            completed: true,
        }),
        None => Ok(sync.create()),
    }
}

/// Validates `identity` and maps it to SCIM attributes, in [`Attribute::ALL`] order.
/// Fails with `invalid-input` naming the field, before any request.
pub fn desired_attributes(identity: &Identity) -> Result<Vec<(Attribute, String)>, ConnectorError> {
    check_email(&identity.email)?;
    let mut out = vec![
        (Attribute::UserName, identity.email.clone()),
        (Attribute::Emails, identity.email.clone()),
    ];
    let optional = [
        ("name", &identity.name, Attribute::NameFormatted),
        ("given-name", &identity.given_name, Attribute::GivenName),
        ("family-name", &identity.family_name, Attribute::FamilyName),
        (
            "display-name",
            &identity.display_name,
            Attribute::DisplayName,
        ),
        ("external-id", &identity.external_id, Attribute::ExternalId),
    ];
    for (field, value, attribute) in optional {
        let Some(value) = value.as_deref().filter(|v| !v.is_empty()) else {
            continue;
        };
        check_text(field, value)?;
        out.push((attribute, value.to_string()));
    }
    Ok(out)
}

fn invalid(message: String) -> ConnectorError {
    ConnectorError::InvalidInput(message)
}

fn check_email(email: &str) -> Result<(), ConnectorError> {
    if email.is_empty() {
        return Err(invalid("email is required".into()));
    }
    if crate::text::char_count(email) > MAX_EMAIL_CHARS {
        return Err(invalid(format!(
            "email is longer than {MAX_EMAIL_CHARS} characters"
        )));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "email must not contain whitespace or control characters".into(),
        ));
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid(format!(
            "email `{email}` must contain exactly one `@`"
        )));
    };
    if local.is_empty() {
        return Err(invalid(format!(
            "email `{email}` has nothing before the `@`"
        )));
    }
    if !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return Err(invalid(format!(
            "email `{email}` needs a domain with a dot after the `@`, like example.com"
        )));
    }
    Ok(())
}

fn check_text(field: &str, value: &str) -> Result<(), ConnectorError> {
    if crate::text::char_count(value) > MAX_ATTRIBUTE_CHARS {
        return Err(invalid(format!(
            "{field} is longer than {MAX_ATTRIBUTE_CHARS} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    if value.trim().is_empty() {
        return Err(invalid(format!("{field} is blank")));
    }
    Ok(())
}

/// One attribute that differs: its path, the current value and the wanted one.
struct Diff<'a> {
    attribute: Attribute,
    current: Option<&'a str>,
    wanted: &'a str,
}

struct Sync<'a> {
    cfg: &'a ConnectorConfig,
    transport: &'a dyn Transport,
    email: &'a str,
    desired: Vec<(Attribute, String)>,
    options: SyncOptions,
}

impl Sync<'_> {
    /// One `GET /Users?filter=userName eq "…"`; the match is case-insensitive.
    fn look_up(&self) -> Result<Option<scim::User>, ConnectorError> {
        let url = scim::users_filter_url(&self.cfg.scim.url, "userName", self.email, LOOKUP_COUNT);
        let subject = scim_subject(self.cfg);
        let users = parse_users(&scim_ctx(&subject), self.transport.send(scim_get(url)))?;
        Ok(pick_by_user_name(users, self.email))
    }

    fn attribute_list(&self) -> String {
        let mut out = String::new();
        for (a, _) in &self.desired {
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(a.path());
        }
        out
    }

    fn create_change(&self, status: ChangeStatus) -> Change {
        Change {
            kind: ChangeKind::CreateUser,
            target: self.email.to_string(),
            before: None,
            after: Some(format!("active user with {}", self.attribute_list())),
            status,
        }
    }

    /// `POST /Users`, then whatever the answer calls for (see the module docs).
    fn create(&self) -> Outcome {
        let attributes: Vec<(Attribute, &str)> =
            self.desired.iter().map(|(a, v)| (*a, v.as_str())).collect();
        let request = scim_write(
            Method::Post,
            scim::users_collection_url(&self.cfg.scim.url),
            scim::create_user_body(&attributes),
        );
        let subject = scim_subject(self.cfg);
        let ctx = scim_ctx(&subject);
        match self.transport.send(request) {
            Ok(resp) if resp.is_success() => {
                match upstream::read(Api::Scim, &resp, scim::parse_user) {
                    Ok(user) if user.id.as_deref().is_some_and(|id| !id.is_empty()) => Outcome {
                        user: Some(resolved(&user)),
                        changes: vec![self.create_change(ChangeStatus::Applied)],
                        completed: true,
                    },
                    // Created, but the answer is unusable: find the record instead.
                    Ok(_) => self.recover_lost_create(ConnectorError::upstream(
                        resp.status,
                        None,
                        "the SCIM API created the user but its answer carried no id",
                    )),
                    Err(e) => self.recover_lost_create(e),
                }
            }
            Ok(resp) if resp.status == 409 && is_uniqueness(&resp) => {
                let conflict = upstream::classify(&ctx, resp).err();
                // Someone created the person meanwhile: find them and update instead.
                match self.look_up() {
                    Ok(Some(user)) => self.update(user, Vec::new()),
                    Ok(None) | Err(_) => self.failed_create(conflict.unwrap_or_else(|| {
                        ConnectorError::Conflict("the user already exists".into())
                    })),
                }
            }
            Ok(resp) if resp.status >= 500 => {
                let e = upstream::classify(&ctx, resp)
                    .err()
                    .unwrap_or_else(|| ConnectorError::Other("create failed".into()));
                self.recover_lost_create(e)
            }
            Ok(resp) => self.failed_create(
                upstream::classify(&ctx, resp)
                    .err()
                    .unwrap_or_else(|| ConnectorError::Other("create failed".into())),
            ),
            Err(e @ HttpError::Denied(_)) => {
                self.failed_create(upstream::from_http_error(Api::Scim, e))
            }
            Err(e) => self.recover_lost_create(upstream::from_http_error(Api::Scim, e)),
        }
    }

    /// The POST may have been committed although its answer was lost (conformance B6):
    /// one look-up decides. Found → created; absent (or the look-up fails too) → `failed`.
    fn recover_lost_create(&self, error: ConnectorError) -> Outcome {
        match self.look_up() {
            Ok(Some(user)) => self.update(user, vec![self.create_change(ChangeStatus::Applied)]),
            Ok(None) | Err(_) => self.failed_create(error),
        }
    }

    fn failed_create(&self, error: ConnectorError) -> Outcome {
        Outcome {
            user: None,
            changes: vec![self.create_change(ChangeStatus::Failed(error))],
            completed: false,
        }
    }

    fn diffs<'u>(&'u self, user: &'u scim::User) -> Vec<Diff<'u>> {
        self.desired
            .iter()
            .filter_map(|(attribute, wanted)| {
                let current = user.attribute(*attribute);
                let same = match current {
                    Some(c) if attribute.case_insensitive() => same_ignoring_case(c, wanted),
                    Some(c) => c == wanted,
                    None => false,
                };
                (!same).then_some(Diff {
                    attribute: *attribute,
                    current,
                    wanted,
                })
            })
            .collect()
    }

    /// Brings a present user in line. `changes` holds what came before (a recovered create).
    fn update(&self, user: scim::User, mut changes: Vec<Change>) -> Outcome {
        // A recovered create already says what happened; "unchanged" would only repeat it.
        let created = !changes.is_empty();
        let diffs = self.diffs(&user);
        let target = user
            .user_name
            .clone()
            .unwrap_or_else(|| self.email.to_string());
        let mut resolved_user = resolved(&user);
        let change = |before: Option<String>, after: String, status| Change {
            kind: ChangeKind::UpdateUser,
            target: target.clone(),
            before,
            after: Some(after),
            status,
        };
        if !self.options.update_existing && !created {
            // Left as is by request: nothing compared on the caller's behalf, nothing to report.
        } else if diffs.is_empty() {
            if !created {
                changes.push(change(
                    None,
                    format!("unchanged: {}", self.attribute_list()),
                    ChangeStatus::AlreadyDone,
                ));
            }
        } else if self.options.update_existing {
            let before = summary(diffs.iter().map(|d| (d.attribute, d.current)));
            let after = summary(diffs.iter().map(|d| (d.attribute, Some(d.wanted))));
            let status = if self.options.dry_run {
                ChangeStatus::Planned
            } else {
                let (status, updated) = self.patch(&user, &diffs);
                match updated {
                    Some(u) => resolved_user = resolved(&u),
                    None if matches!(status, ChangeStatus::Applied) => {
                        apply_to_resolved(&mut resolved_user, &diffs)
                    }
                    None => {}
                }
                status
            };
            changes.push(change(Some(before), after, status));
        }
        let completed = !changes
            .iter()
            .any(|c| matches!(c.status, ChangeStatus::Failed(_)));
        Outcome {
            user: Some(resolved_user),
            changes,
            completed,
        }
    }

    /// One `PATCH /Users/{id}` with a `replace` per differing attribute, never a PUT.
    fn patch(&self, user: &scim::User, diffs: &[Diff<'_>]) -> (ChangeStatus, Option<scim::User>) {
        let id = user.id.as_deref().unwrap_or_default();
        let ops: Vec<PatchOperation> = diffs
            .iter()
            .map(|d| PatchOperation::replace(d.attribute, d.wanted))
            .collect();
        let request = scim_write(
            Method::Patch,
            scim::user_url(&self.cfg.scim.url, id),
            scim::patch_body(&ops),
        );
        let subject = format!("SCIM user `{id}`");
        match upstream::check(&scim_ctx(&subject), self.transport.send(request)) {
            Ok(resp) => {
                let updated = upstream::read(Api::Scim, &resp, scim::parse_user)
                    .ok()
                    .filter(|u| u.id.is_some());
                (ChangeStatus::Applied, updated)
            }
            Err(e) => (ChangeStatus::Failed(e), None),
        }
    }
}

fn is_uniqueness(resp: &Response) -> bool {
    upstream::error_code(Api::Scim, resp).is_none_or(|c| c.eq_ignore_ascii_case(scim::UNIQUENESS))
}

/// After a PATCH answered without a body, the resolved email is the new `userName`.
fn apply_to_resolved(user: &mut ResolvedUser, diffs: &[Diff<'_>]) {
    if let Some(d) = diffs.iter().find(|d| d.attribute == Attribute::UserName) {
        user.email = Some(d.wanted.to_string());
    }
}

/// `path="value"; path=(none)`: names every changed attribute. Values are the person's
/// directory attributes, never credentials.
fn summary<'a>(items: impl Iterator<Item = (Attribute, Option<&'a str>)>) -> String {
    let mut out = String::new();
    for (a, v) in items {
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(a.path());
        out.push('=');
        match v {
            Some(v) => out.push_str(&crate::text::quoted(v)),
            None => out.push_str("(none)"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{Auth, Call, FakeTransport, Request};
    use serde_json::{Value, json};

    const SCIM: &str = "https://api.atlassian.com/scim/directory/dir-1";
    const USERS: &str = "https://api.atlassian.com/scim/directory/dir-1/Users";
    const ADA_LOOKUP: &str = "https://api.atlassian.com/scim/directory/dir-1/Users?filter=userName%20eq%20%22ada%40example.com%22&startIndex=1&count=10";
    const ADA_URL: &str = "https://api.atlassian.com/scim/directory/dir-1/Users/u-1";

    fn config() -> Config {
        Config::new(&[("scim_url", SCIM)], &["scim_token"])
    }

    fn ada() -> Identity {
        Identity {
            email: "ada@example.com".into(),
            name: Some("Ada Lovelace".into()),
            display_name: Some("Ada L.".into()),
            ..Identity::default()
        }
    }

    fn opts() -> SyncOptions {
        SyncOptions {
            create_missing: true,
            update_existing: true,
            dry_run: false,
        }
    }

    fn dry() -> SyncOptions {
        SyncOptions {
            dry_run: true,
            ..opts()
        }
    }

    /// A stored user as the SCIM API returns it.
    fn stored(display: &str, account: Option<&str>) -> Value {
        let mut u = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u-1", "userName": "ada@example.com", "active": true,
            "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
            "name": {"formatted": "Ada Lovelace"}, "displayName": display,
            "meta": {"resourceType": "User"}
        });
        if let (Some(a), Some(obj)) = (account, u.as_object_mut()) {
            obj.insert(
                scim::ATLASSIAN_EXTENSION.into(),
                json!({"atlassianAccountId": a}),
            );
        }
        u
    }

    fn list(users: &[Value]) -> String {
        json!({"schemas": [scim::LIST_RESPONSE], "totalResults": users.len(),
               "startIndex": 1, "itemsPerPage": users.len(), "Resources": users})
        .to_string()
    }

    fn req(fake: &FakeTransport, i: usize) -> Request {
        fake.requests()[i].clone()
    }

    fn assert_scim_auth(fake: &FakeTransport) {
        for r in fake.requests() {
            assert_eq!(r.auth, Some(Auth::Bearer("scim_token".into())), "{}", r.url);
            assert!(r.headers.iter().all(|(n, _)| n != "authorization"));
        }
    }

    #[test]
    fn b1_creates_a_new_user_with_one_lookup_and_one_post() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[]));
        let created = stored("Ada L.", Some("712020:abc"));
        fake.on(
            Method::Post,
            USERS,
            Ok(Response::json(201, &created.to_string())),
        );
        let out = sync_identity(&config(), &fake, &ada(), opts()).unwrap();

        assert_eq!(fake.requests().len(), 2);
        assert_eq!(req(&fake, 0).method, Method::Get);
        assert_eq!(req(&fake, 0).url, ADA_LOOKUP);
        let post = req(&fake, 1);
        assert_eq!((post.method, post.url.as_str()), (Method::Post, USERS));
        assert_eq!(
            post.json_body(),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "ada@example.com",
                   "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
                   "name": {"formatted": "Ada Lovelace"}, "displayName": "Ada L.",
                   "active": true})
        );
        assert_scim_auth(&fake);
        let user = out.user.unwrap();
        assert_eq!(user.scim_id.as_deref(), Some("u-1"));
        assert_eq!(user.account_id.as_deref(), Some("712020:abc"));
        assert_eq!(user.email.as_deref(), Some("ada@example.com"));
        assert_eq!(user.active, Some(true));
        assert_eq!(out.changes.len(), 1);
        assert_eq!(out.changes[0].kind, ChangeKind::CreateUser);
        assert_eq!(out.changes[0].status, ChangeStatus::Applied);
        assert!(out.completed);
    }

    #[test]
    fn b2_unchanged_user_is_one_read_and_already_done() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[stored("Ada L.", Some("a-1"))]));
        let out = sync_identity(&config(), &fake, &ada(), opts()).unwrap();
        assert_eq!(fake.requests().len(), 1);
        assert!(fake.non_get_requests().is_empty());
        assert_eq!(out.changes.len(), 1);
        let c = &out.changes[0];
        assert_eq!(
            (c.kind, &c.status),
            (ChangeKind::UpdateUser, &ChangeStatus::AlreadyDone)
        );
        assert!(c.after.as_deref().unwrap().starts_with("unchanged"));
        assert!(out.completed);
        assert_eq!(out.user.unwrap().account_id.as_deref(), Some("a-1"));
    }

    #[test]
    fn b3_one_changed_attribute_is_one_patch_with_only_that_op() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[stored("Old Name", Some("a-1"))]));
        fake.on(
            Method::Patch,
            ADA_URL,
            Ok(Response::json(
                200,
                &stored("Ada L.", Some("a-1")).to_string(),
            )),
        );
        let out = sync_identity(&config(), &fake, &ada(), opts()).unwrap();
        assert_eq!(fake.requests().len(), 2);
        let patch = req(&fake, 1);
        assert_eq!((patch.method, patch.url.as_str()), (Method::Patch, ADA_URL));
        assert_eq!(
            patch.json_body(),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "path": "displayName", "value": "Ada L."}]})
        );
        assert!(fake.requests().iter().all(|r| r.method != Method::Put));
        assert_scim_auth(&fake);
        let c = &out.changes[0];
        assert_eq!(c.status, ChangeStatus::Applied);
        assert_eq!(c.before.as_deref(), Some(r#"displayName="Old Name""#));
        assert_eq!(c.after.as_deref(), Some(r#"displayName="Ada L.""#));
        assert!(out.completed);
    }

    #[test]
    fn several_differences_still_make_one_patch_and_active_is_never_touched() {
        let fake = FakeTransport::new();
        let mut old = stored("Old", None);
        old["active"] = json!(false);
        old["name"] = json!({"formatted": "Ada B."});
        fake.on_get(ADA_LOOKUP, 200, &list(&[old]));
        fake.on(Method::Patch, ADA_URL, Ok(Response::new(204, "")));
        let id = Identity {
            given_name: Some("Ada".into()),
            external_id: Some("idp-1".into()),
            ..ada()
        };
        let out = sync_identity(&config(), &fake, &id, opts()).unwrap();
        let ops = req(&fake, 1).json_body()["Operations"].clone();
        let paths: Vec<&str> = ops
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                "name.formatted",
                "name.givenName",
                "displayName",
                "externalId"
            ]
        );
        assert!(
            !req(&fake, 1)
                .body
                .unwrap()
                .windows(6)
                .any(|w| w == b"active")
        );
        // A 204 without a body keeps what was read.
        assert_eq!(out.user.unwrap().active, Some(false));
        assert!(out.completed);
    }

    #[test]
    fn b5_create_race_409_turns_into_lookup_and_update() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[])).on_get(
            ADA_LOOKUP,
            200,
            &list(&[stored("Someone", Some("a-1"))]),
        );
        fake.on(
            Method::Post,
            USERS,
            Ok(Response::json(
                409,
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"exists"}"#,
            )),
        );
        fake.on(Method::Patch, ADA_URL, Ok(Response::new(204, "")));
        let out = sync_identity(&config(), &fake, &ada(), opts()).unwrap();
        let methods: Vec<Method> = fake.requests().iter().map(|r| r.method).collect();
        assert_eq!(
            methods,
            [Method::Get, Method::Post, Method::Get, Method::Patch]
        );
        assert_eq!(out.changes.len(), 1);
        assert_eq!(out.changes[0].kind, ChangeKind::UpdateUser);
        assert_eq!(out.changes[0].status, ChangeStatus::Applied);
        assert_eq!(out.user.unwrap().scim_id.as_deref(), Some("u-1"));
        assert!(out.completed);
    }

    #[test]
    fn a_409_whose_user_cannot_be_found_is_a_failed_create_not_a_duplicate() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[]));
        fake.on(
            Method::Post,
            USERS,
            Ok(Response::json(
                409,
                r#"{"status":"409","scimType":"uniqueness","detail":"exists"}"#,
            )),
        );
        let out = sync_identity(&config(), &fake, &ada(), opts()).unwrap();
        assert_eq!(fake.non_get_requests().len(), 1, "one POST only");
        assert!(!out.completed);
        assert!(matches!(
            &out.changes[0].status,
            ChangeStatus::Failed(ConnectorError::Conflict(m)) if m.contains("uniqueness")
        ));
    }

    #[test]
    fn b6_lost_post_answer_is_resolved_by_one_lookup() {
        for lost in [
            Err(HttpError::Transport("connection reset".into())),
            Err(HttpError::Timeout),
            Ok(Response::new(502, "")),
        ] {
            let fake = FakeTransport::new();
            fake.on_get(ADA_LOOKUP, 200, &list(&[])).on_get(
                ADA_LOOKUP,
                200,
                &list(&[stored("Ada L.", None)]),
            );
            fake.on(Method::Post, USERS, lost.clone());
            let out = sync_identity(&config(), &fake, &ada(), opts()).unwrap();
            let methods: Vec<Method> = fake.requests().iter().map(|r| r.method).collect();
            assert_eq!(
                methods,
                [Method::Get, Method::Post, Method::Get],
                "{lost:?}"
            );
            assert_eq!(out.changes.len(), 1, "{lost:?}");
            assert_eq!(out.changes[0].kind, ChangeKind::CreateUser);
            assert_eq!(out.changes[0].status, ChangeStatus::Applied);
            let user = out.user.unwrap();
            assert_eq!(user.scim_id.as_deref(), Some("u-1"));
            assert_eq!(user.account_id, None, "not linked yet is not an error");
            assert!(out.completed);
        }
    }

    #[test]
    fn lost_post_not_committed_reports_the_failure() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[]));
        fake.on(Method::Post, USERS, Err(HttpError::Timeout));
        let out = sync_identity(&config(), &fake, &ada(), opts()).unwrap();
        assert_eq!(fake.requests().len(), 3);
        assert!(!out.completed);
        assert_eq!(out.user, None);
        assert!(matches!(
            &out.changes[0].status,
            ChangeStatus::Failed(ConnectorError::Unavailable(_))
        ));
    }

    #[test]
    fn refused_or_denied_post_is_not_looked_up_again() {
        for answer in [
            Err(HttpError::Denied("host not allowed".into())),
            Ok(Response::json(
                400,
                r#"{"status":"400","scimType":"invalidValue","detail":"domain not verified"}"#,
            )),
        ] {
            let fake = FakeTransport::new();
            fake.on_get(ADA_LOOKUP, 200, &list(&[]));
            fake.on(Method::Post, USERS, answer);
            let out = sync_identity(&config(), &fake, &ada(), opts()).unwrap();
            assert_eq!(fake.requests().len(), 2);
            assert!(!out.completed);
            assert!(matches!(out.changes[0].status, ChangeStatus::Failed(_)));
        }
    }

    #[test]
    fn b4_create_missing_false_is_not_found_without_a_write() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[]));
        let o = SyncOptions {
            create_missing: false,
            ..opts()
        };
        let e = sync_identity(&config(), &fake, &ada(), o).unwrap_err();
        assert!(matches!(&e, ConnectorError::NotFound(m) if m.contains("ada@example.com")));
        assert_eq!(fake.requests().len(), 1);
    }

    #[test]
    fn b4_update_existing_false_writes_nothing_and_reports_no_change() {
        for display in ["Old", "Ada L."] {
            let fake = FakeTransport::new();
            fake.on_get(ADA_LOOKUP, 200, &list(&[stored(display, Some("a-1"))]));
            let o = SyncOptions {
                update_existing: false,
                dry_run: display == "Old",
                ..opts()
            };
            let out = sync_identity(&config(), &fake, &ada(), o).unwrap();
            assert_eq!(fake.requests().len(), 1);
            assert!(out.changes.is_empty(), "{display}: {:?}", out.changes);
        }
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[stored("Old", Some("a-1"))]));
        let o = SyncOptions {
            update_existing: false,
            ..opts()
        };
        let out = sync_identity(&config(), &fake, &ada(), o).unwrap();
        assert_eq!(fake.requests().len(), 1);
        assert!(out.changes.is_empty());
        assert!(out.completed);
        assert_eq!(out.user.unwrap().scim_id.as_deref(), Some("u-1"));
    }

    #[test]
    fn dry_run_plans_the_same_changes_with_zero_writes() {
        // Absent: a planned create.
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[]));
        let out = sync_identity(&config(), &fake, &ada(), dry()).unwrap();
        assert!(fake.non_get_requests().is_empty());
        assert_eq!(out.changes[0].kind, ChangeKind::CreateUser);
        assert_eq!(out.changes[0].status, ChangeStatus::Planned);
        assert!(out.completed);
        // Present and different: a planned update naming the attribute.
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[stored("Old", Some("a-1"))]));
        let out = sync_identity(&config(), &fake, &ada(), dry()).unwrap();
        assert!(fake.non_get_requests().is_empty());
        assert_eq!(fake.requests().len(), 1);
        assert_eq!(out.changes[0].status, ChangeStatus::Planned);
        assert_eq!(
            out.changes[0].after.as_deref(),
            Some(r#"displayName="Ada L.""#)
        );
        // Present and equal: already done, also in a dry run.
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[stored("Ada L.", Some("a-1"))]));
        let out = sync_identity(&config(), &fake, &ada(), dry()).unwrap();
        assert_eq!(out.changes[0].status, ChangeStatus::AlreadyDone);
    }

    #[test]
    fn b9_invalid_identities_fail_before_any_request() {
        let long = "x".repeat(MAX_ATTRIBUTE_CHARS + 1);
        let long_email = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS));
        let cases: Vec<(Identity, &str)> = vec![
            (Identity::default(), "email"),
            (ada_with_email("ada.example.com"), "email"),
            (ada_with_email("a@b@example.com"), "email"),
            (ada_with_email("@example.com"), "email"),
            (ada_with_email("ada@localhost"), "email"),
            (ada_with_email("ada@example..com"), "email"),
            (ada_with_email("ada @example.com"), "email"),
            (ada_with_email(" ada@example.com"), "email"),
            (ada_with_email("ada@exam\u{7}ple.com"), "email"),
            (ada_with_email(&long_email), "email"),
            (
                Identity {
                    name: Some(long.clone()),
                    ..ada()
                },
                "name",
            ),
            (
                Identity {
                    display_name: Some("Ada\nL.".into()),
                    ..ada()
                },
                "display-name",
            ),
            (
                Identity {
                    given_name: Some("   ".into()),
                    ..ada()
                },
                "given-name",
            ),
            (
                Identity {
                    family_name: Some(long.clone()),
                    ..ada()
                },
                "family-name",
            ),
            (
                Identity {
                    external_id: Some(long),
                    ..ada()
                },
                "external-id",
            ),
        ];
        for (identity, field) in cases {
            let fake = FakeTransport::new();
            match sync_identity(&config(), &fake, &identity, opts()) {
                Err(ConnectorError::InvalidInput(m)) => assert!(m.starts_with(field), "{m}"),
                other => panic!("{identity:?}: {other:?}"),
            }
            assert!(fake.calls().is_empty());
        }
        // The limits themselves are accepted.
        let edge = Identity {
            email: format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS - 12)),
            display_name: Some("é".repeat(MAX_ATTRIBUTE_CHARS)),
            ..Identity::default()
        };
        assert!(desired_attributes(&edge).is_ok());
    }

    fn ada_with_email(email: &str) -> Identity {
        Identity {
            email: email.into(),
            ..ada()
        }
    }

    #[test]
    fn b7_lookup_filters_are_escaped_and_encoded() {
        let cases = [
            (
                "o'hara@example.com",
                "userName%20eq%20%22o%27hara%40example.com%22",
            ),
            (
                "ada+test@example.com",
                "userName%20eq%20%22ada%2Btest%40example.com%22",
            ),
            (
                "zoë@exämple.com",
                "userName%20eq%20%22zo%C3%AB%40ex%C3%A4mple.com%22",
            ),
            (
                r#""a\b"@example.com"#,
                "userName%20eq%20%22%5C%22a%5C%5Cb%5C%22%40example.com%22",
            ),
        ];
        for (email, filter) in cases {
            let url = format!("{USERS}?filter={filter}&startIndex=1&count=10");
            let fake = FakeTransport::new();
            let mut user = stored("Ada L.", None);
            user["userName"] = json!(email);
            user["emails"][0]["value"] = json!(email);
            fake.on_get(&url, 200, &list(&[user]));
            let id = ada_with_email(email);
            let out = sync_identity(&config(), &fake, &id, opts()).unwrap();
            assert_eq!(req(&fake, 0).url, url);
            assert_eq!(out.changes[0].status, ChangeStatus::AlreadyDone, "{email}");
        }
    }

    #[test]
    fn external_ids_with_quotes_backslashes_and_spaces_round_trip_in_bodies() {
        let x = r#"idp "7" \ x y"#;
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[stored("Ada L.", None)]));
        fake.on(Method::Patch, ADA_URL, Ok(Response::new(204, "")));
        let id = Identity {
            external_id: Some(x.into()),
            ..ada()
        };
        sync_identity(&config(), &fake, &id, opts()).unwrap();
        assert_eq!(
            req(&fake, 1).json_body()["Operations"][0],
            json!({"op": "replace", "path": "externalId", "value": x})
        );
    }

    #[test]
    fn b8_lookup_is_case_insensitive_and_case_alone_is_no_change() {
        let upper = "https://api.atlassian.com/scim/directory/dir-1/Users?filter=userName%20eq%20%22ADA%40EXAMPLE.COM%22&startIndex=1&count=10";
        let fake = FakeTransport::new();
        // The server matched case-insensitively; a record with another name is ignored.
        let mut other = stored("x", None);
        other["userName"] = json!("someone@example.com");
        other["id"] = json!("u-9");
        fake.on_get(upper, 200, &list(&[other, stored("Ada L.", Some("a-1"))]));
        let out =
            sync_identity(&config(), &fake, &ada_with_email("ADA@EXAMPLE.COM"), opts()).unwrap();
        assert_eq!(fake.requests().len(), 1, "no POST, no PATCH of userName");
        assert_eq!(out.changes[0].status, ChangeStatus::AlreadyDone);
        assert_eq!(out.user.unwrap().scim_id.as_deref(), Some("u-1"));
    }

    #[test]
    fn b10_account_id_present_or_not_linked_yet() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[]));
        let mut created = stored("Ada L.", None);
        created[scim::ATLASSIAN_EXTENSION] = json!({"atlassianAccountId": null});
        fake.on(
            Method::Post,
            USERS,
            Ok(Response::json(201, &created.to_string())),
        );
        let out = sync_identity(&config(), &fake, &ada(), opts()).unwrap();
        assert!(out.completed);
        let user = out.user.unwrap();
        assert_eq!(user.scim_id.as_deref(), Some("u-1"));
        assert_eq!(user.account_id, None);
    }

    #[test]
    fn lookup_errors_are_typed_and_stop_before_writes() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 401, r#"{"error":"Unauthorized","traceId":"t"}"#);
        let e = sync_identity(&config(), &fake, &ada(), opts()).unwrap_err();
        assert!(matches!(e, ConnectorError::Unauthorized(m) if m.contains("scim_token")));
        assert!(matches!(fake.calls().as_slice(), [Call::Send(_)]));
    }

    #[test]
    fn failed_patch_is_a_failed_change() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, &list(&[stored("Old", Some("a-1"))]));
        fake.on(
            Method::Patch,
            ADA_URL,
            Ok(Response::json(
                400,
                r#"{"status":"400","scimType":"mutability","detail":"nope"}"#,
            )),
        );
        let out = sync_identity(&config(), &fake, &ada(), opts()).unwrap();
        assert!(!out.completed);
        assert!(matches!(
            &out.changes[0].status,
            ChangeStatus::Failed(ConnectorError::Upstream(u)) if u.status == Some(400) && u.code.as_deref() == Some("mutability")
        ));
    }

    #[test]
    fn a_bad_config_is_invalid_config_before_validation_and_requests() {
        let fake = FakeTransport::new();
        let e =
            sync_identity(&Config::new(&[], &[]), &fake, &Identity::default(), opts()).unwrap_err();
        assert_eq!(e.config_key(), Some("scim_url"));
        assert!(fake.calls().is_empty());
    }
}
