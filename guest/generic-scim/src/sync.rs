//! `sync-identity`: find the user by `userName eq`, create them when absent, otherwise
//! PATCH only the attributes that differ (and reactivate a deactivated user). Nothing
//! differing is `already-done` with no write; a dry run reads and plans.

use lifecycle_connector_sdk::transport::{Method, Transport};
use serde_json::{Map, Value, json};

use crate::client::{Scim, USER_SCHEMA, User};
use crate::config::ScimConfig;
use crate::model::{
    Change, ChangeKind, ChangeStatus, Config, ConnectorError, Identity, Outcome, ResolvedUser,
    SyncOptions,
};

/// Checks the identity before anything is sent.
pub fn check_identity(identity: &Identity) -> Result<(), ConnectorError> {
    let email = identity.email.trim();
    let bad = |m: &str| Err(ConnectorError::InvalidInput(format!("identity email: {m}")));
    if email.is_empty() {
        return bad("required");
    }
    if email.len() > 320 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must be one address without spaces or control characters");
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => bad("must look like name@domain"),
    }
}

/// The attributes that differ between `user` and `identity`, as PATCH `replace` operations
/// `(path, value)`; only attributes the identity sets are compared.
pub fn differences(user: &User, identity: &Identity) -> Vec<(&'static str, Value)> {
    let mut ops = Vec::new();
    let mut compare = |path: &'static str, have: &Option<String>, want: &Option<String>| {
        if let Some(want) = want
            && have.as_deref() != Some(want.as_str())
        {
            ops.push((path, json!(want)));
        }
    };
    compare("displayName", &user.display_name, &identity.display_name);
    compare("externalId", &user.external_id, &identity.external_id);
    compare("name.formatted", &user.formatted, &identity.name);
    compare("name.givenName", &user.given_name, &identity.given_name);
    compare("name.familyName", &user.family_name, &identity.family_name);
    let email_same = user
        .email
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case(identity.email.trim()));
    if !email_same {
        ops.push(("emails", emails(identity)));
    }
    ops
}

fn emails(identity: &Identity) -> Value {
    json!([{"value": identity.email.trim(), "type": "work", "primary": true}])
}

/// The POST body creating `identity`.
pub fn user_document(identity: &Identity) -> Value {
    let mut doc = Map::new();
    doc.insert("schemas".into(), json!([USER_SCHEMA]));
    doc.insert("userName".into(), json!(identity.email.trim()));
    doc.insert("emails".into(), emails(identity));
    doc.insert("active".into(), json!(true));
    let mut name = Map::new();
    for (key, value) in [
        ("formatted", &identity.name),
        ("givenName", &identity.given_name),
        ("familyName", &identity.family_name),
    ] {
        if let Some(v) = value {
            name.insert(key.into(), json!(v));
        }
    }
    if !name.is_empty() {
        doc.insert("name".into(), Value::Object(name));
    }
    if let Some(d) = &identity.display_name {
        doc.insert("displayName".into(), json!(d));
    }
    if let Some(x) = &identity.external_id {
        doc.insert("externalId".into(), json!(x));
    }
    Value::Object(doc)
}

fn resolved(user: &User, active: bool) -> ResolvedUser {
    ResolvedUser {
        id: user.id.clone(),
        email: Some(user.user_name.clone()),
        active: Some(active),
    }
}

/// The one user whose `userName` is `email`, when there is one.
pub fn find_by_email(scim: &Scim, email: &str) -> Result<Option<User>, ConnectorError> {
    let mut found = scim.find_users("userName", email)?;
    if found.len() > 1 {
        return Err(ConnectorError::Conflict(format!(
            "{} users have userName {email}",
            found.len()
        )));
    }
    Ok(found.pop())
}

/// `sync-identity`.
pub fn sync_identity(
    config: &Config,
    transport: &dyn Transport,
    identity: &Identity,
    options: SyncOptions,
) -> Result<Outcome, ConnectorError> {
    let config = ScimConfig::parse(config)?;
    check_identity(identity)?;
    let scim = Scim::new(&config, transport);
    let email = identity.email.trim();
    let existing = match find_by_email(&scim, email)? {
        Some(user) => user,
        None if !options.create_missing => {
            return Err(ConnectorError::NotFound(format!(
                "user {email} (create-missing is off)"
            )));
        }
        None if options.dry_run => {
            let change = Change::new(ChangeKind::CreateUser, email, ChangeStatus::Planned);
            return Ok(Outcome::of(None, vec![change]));
        }
        None => match create(&scim, identity)? {
            Created::New(user) => {
                let change = Change::new(ChangeKind::CreateUser, &user.id, ChangeStatus::Applied);
                return Ok(Outcome::of(Some(resolved(&user, true)), vec![change]));
            }
            // Created meanwhile (or our earlier create's answer was lost): update it.
            Created::Exists(user) => user,
        },
    };
    update(&scim, existing, identity, options)
}

enum Created {
    New(User),
    Exists(User),
}

fn create(scim: &Scim, identity: &Identity) -> Result<Created, ConnectorError> {
    let email = identity.email.trim();
    let what = format!("creating user {email}");
    match scim.write(
        Method::Post,
        "/Users",
        Some(&user_document(identity)),
        &what,
    ) {
        Ok(Some(body)) => User::parse(&body).map(Created::New).ok_or_else(|| {
            ConnectorError::Upstream(
                None,
                None,
                format!("{what}: the answer has no id or userName"),
            )
        }),
        Ok(None) => Err(ConnectorError::NotFound(format!(
            "{what}: /Users answered 404"
        ))),
        Err(ConnectorError::Conflict(m)) => match find_by_email(scim, email)? {
            Some(user) => Ok(Created::Exists(user)),
            None => Err(ConnectorError::Conflict(m)),
        },
        Err(e) => Err(e),
    }
}

fn update(
    scim: &Scim,
    user: User,
    identity: &Identity,
    options: SyncOptions,
) -> Result<Outcome, ConnectorError> {
    let mut ops = differences(&user, identity);
    let paths: Vec<&str> = ops.iter().map(|(p, _)| *p).collect();
    let mut update = Change::new(ChangeKind::UpdateUser, &user.id, ChangeStatus::AlreadyDone);
    if !paths.is_empty() {
        update.before = Some(format!("differs: {}", paths.join(", ")));
        update.after = Some(format!("set: {}", paths.join(", ")));
    }
    let mut reactivation = (!user.active).then(|| {
        Change::new(
            ChangeKind::ReactivateUser,
            &user.id,
            ChangeStatus::AlreadyDone,
        )
    });
    let mut active = user.active;
    if !options.update_existing {
        let skipped = ChangeStatus::Skipped("update-existing is off".into());
        if !paths.is_empty() {
            update.status = skipped.clone();
        }
        if let Some(r) = &mut reactivation {
            r.status = skipped;
        }
    } else if !paths.is_empty() || reactivation.is_some() {
        if reactivation.is_some() {
            ops.push(("active", json!(true)));
        }
        let status = if options.dry_run {
            ChangeStatus::Planned
        } else {
            match scim.patch_user(&user.id, &ops) {
                Ok(Some(_)) => {
                    active = true;
                    ChangeStatus::Applied
                }
                Ok(None) => ChangeStatus::Failed(ConnectorError::NotFound(format!(
                    "user {} disappeared while being updated",
                    user.id
                ))),
                Err(e) => ChangeStatus::Failed(e),
            }
        };
        if !paths.is_empty() {
            update.status = status.clone();
        }
        if let Some(r) = &mut reactivation {
            r.status = status;
        }
    }
    let mut changes = vec![update];
    changes.extend(reactivation);
    Ok(Outcome::of(Some(resolved(&user, active)), changes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{BASE, config, list, user_json};
    use lifecycle_connector_sdk::transport::{FakeTransport, Response};

    const LOOKUP: &str = "/Users?filter=userName%20eq%20%22ada%40example.com%22";

    fn ada() -> Identity {
        Identity {
            email: "ada@example.com".into(),
            name: Some("Ada Lovelace".into()),
            ..Identity::default()
        }
    }

    const ALL: SyncOptions = SyncOptions {
        create_missing: true,
        update_existing: true,
        dry_run: false,
    };

    #[test]
    fn absent_user_is_created_with_every_attribute() {
        let fake = FakeTransport::new();
        fake.on_get(&format!("{BASE}{LOOKUP}"), 200, &list(&[]));
        fake.on(
            Method::Post,
            &format!("{BASE}/Users"),
            Ok(Response::json(
                201,
                &user_json("u1", "ada@example.com", true),
            )),
        );
        let out = sync_identity(&config(), &fake, &ada(), ALL).unwrap();
        assert!(out.completed);
        assert_eq!(out.changes[0].kind, ChangeKind::CreateUser);
        assert_eq!(out.changes[0].status, ChangeStatus::Applied);
        let post = &fake.non_get_requests()[0];
        let body = post.json_body();
        assert_eq!(body["userName"], "ada@example.com");
        assert_eq!(body["name"]["formatted"], "Ada Lovelace");
        assert_eq!(body["emails"][0]["primary"], true);
    }

    #[test]
    fn nothing_differing_is_already_done_and_writes_nothing() {
        let fake = FakeTransport::new();
        let mut u: Value = serde_json::from_str(&user_json("u1", "Ada@Example.com", true)).unwrap();
        u["name"] = json!({"formatted": "Ada Lovelace"});
        fake.on_get(&format!("{BASE}{LOOKUP}"), 200, &list(&[u]));
        let out = sync_identity(&config(), &fake, &ada(), ALL).unwrap();
        assert_eq!(out.changes.len(), 1);
        assert_eq!(out.changes[0].status, ChangeStatus::AlreadyDone);
        assert!(fake.non_get_requests().is_empty());
    }

    #[test]
    fn differing_attributes_are_patched_or_planned() {
        let u: Value = serde_json::from_str(&user_json("u1", "ada@example.com", false)).unwrap();
        let fake = FakeTransport::new();
        fake.on_get(&format!("{BASE}{LOOKUP}"), 200, &list(&[u]));
        let dry = SyncOptions {
            dry_run: true,
            ..ALL
        };
        let out = sync_identity(&config(), &fake, &ada(), dry).unwrap();
        assert!(
            out.changes
                .iter()
                .all(|c| c.status == ChangeStatus::Planned)
        );
        assert!(fake.non_get_requests().is_empty());

        fake.on(
            Method::Patch,
            &format!("{BASE}/Users/u1"),
            Ok(Response::json(200, "{}")),
        );
        let out = sync_identity(&config(), &fake, &ada(), ALL).unwrap();
        assert_eq!(out.changes[0].after.as_deref(), Some("set: name.formatted"));
        assert_eq!(out.changes[1].kind, ChangeKind::ReactivateUser);
        let ops = fake.non_get_requests()[0].json_body()["Operations"].clone();
        assert_eq!(ops[0]["path"], "name.formatted");
        assert_eq!(
            ops[1],
            json!({"op": "replace", "path": "active", "value": true})
        );
    }

    #[test]
    fn bad_identities_and_absent_users_are_typed_errors() {
        let fake = FakeTransport::new();
        for email in ["", "no-at", "a b@c", "@x", "a@"] {
            let id = Identity {
                email: email.into(),
                ..Identity::default()
            };
            assert!(matches!(
                sync_identity(&config(), &fake, &id, ALL),
                Err(ConnectorError::InvalidInput(_))
            ));
        }
        assert!(fake.requests().is_empty());
        fake.on_get(&format!("{BASE}{LOOKUP}"), 200, &list(&[]));
        let no_create = SyncOptions {
            create_missing: false,
            ..ALL
        };
        assert!(matches!(
            sync_identity(&config(), &fake, &ada(), no_create),
            Err(ConnectorError::NotFound(m)) if m.contains("ada@example.com")
        ));
    }

    #[test]
    fn a_conflicting_create_updates_the_user_found() {
        let fake = FakeTransport::new();
        let url = format!("{BASE}{LOOKUP}");
        fake.on_get(&url, 200, &list(&[]));
        let u: Value = serde_json::from_str(&user_json("u1", "ada@example.com", true)).unwrap();
        fake.on_get(&url, 200, &list(&[u]));
        fake.on(
            Method::Post,
            &format!("{BASE}/Users"),
            Ok(Response::json(409, "{}")),
        );
        fake.on(
            Method::Patch,
            &format!("{BASE}/Users/u1"),
            Ok(Response::json(200, "{}")),
        );
        let out = sync_identity(&config(), &fake, &ada(), ALL).unwrap();
        assert_eq!(out.changes[0].kind, ChangeKind::UpdateUser);
        assert_eq!(out.changes[0].status, ChangeStatus::Applied);
    }
}
