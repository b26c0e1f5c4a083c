//! `delete-identity`: SCIM `DELETE /Users/{id}` (the SCIM record and its SCIM memberships go,
//! Atlassian deactivates the managed account); with `purge-account`, then the
//! user-management lifecycle delete of the Atlassian account, which Atlassian carries out
//! after a 14-day grace period. Each is its own change, in that order.
//!
//! Requests: the user reads of one `send_all` (with `purge-account`, the admin users search
//! rides along for the account id and its status, and then the user-management preflight:
//! a refused `lifecycle.delete` is `forbidden` naming its reason key, with zero writes), then
//! the SCIM `DELETE`, then
//! `POST {atlassian_api_url}/users/{accountId}/manage/lifecycle/delete` (no body: the API
//! declares none). An absent user is
//! `already-done` (a second delete writes nothing); so is an account already scheduled for
//! deletion, or one the lifecycle API answers 404 `accountNotFound` for.

use crate::config::{ADMIN_API_KEY, ConnectorConfig};
use crate::error::ConnectorError;
use crate::model::{
    AccountId, Change, ChangeKind, ChangeStatus, Config, DeleteOptions, Outcome, ScimId, UserRef,
};
use crate::transport::Transport;
use crate::upstream::{Api, Context};
use crate::{admin, scim};

use super::common::{admin_post_empty, outcome, scim_ctx, scim_delete};
use super::deprovision::{guard, refuse_protected, settle};

/// Deletes `user`'s SCIM record and, with `purge-account`, their Atlassian account.
pub fn delete_identity(
    config: &Config,
    transport: &dyn Transport,
    user: &UserRef,
    options: DeleteOptions,
) -> Result<Outcome, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    if options.purge_account {
        cfg.require_admin()?;
    }
    let run = guard(&cfg, transport, user)?;
    let person = run.find(user, options.purge_account)?;
    refuse_protected(&cfg, &person)?;
    if options.purge_account {
        purge_allowed(&cfg, transport, &person)?;
    }

    let scim_status = match &person.scim_id {
        None => ChangeStatus::AlreadyDone,
        Some(_) if options.dry_run => ChangeStatus::Planned,
        Some(id) => {
            let answer = transport.send(scim_delete(scim::user_url(&cfg.scim.url, id)));
            settle(&scim_ctx(id), answer, true)
        }
    };
    let scim_failed = matches!(scim_status, ChangeStatus::Failed(_));
    let mut changes = vec![Change {
        kind: ChangeKind::DeleteUser,
        target: person
            .scim_id
            .clone()
            .map_or_else(|| user.value().to_string(), ScimId::into_string),
        before: person.scim_id.as_ref().map(|_| "SCIM record exists".into()),
        after: Some("SCIM record and its SCIM memberships deleted; account deactivated".into()),
        status: scim_status,
    }];

    if options.purge_account {
        let account = person.account_id.clone();
        let scheduled = person
            .admin_user
            .as_ref()
            .is_some_and(|u| u.status.as_deref() == Some("for_deletion"));
        let status = match &account {
            None if !person.found() => ChangeStatus::AlreadyDone,
            None => ChangeStatus::Failed(ConnectorError::NotFound(
                "the SCIM user is not linked to an Atlassian account (yet), so the account \
                 cannot be deleted; retry once Atlassian has linked it"
                    .into(),
            )),
            Some(_) if scheduled => ChangeStatus::AlreadyDone,
            Some(_) if scim_failed => ChangeStatus::Failed(ConnectorError::Other(
                "not attempted: the SCIM delete failed".into(),
            )),
            Some(_) if options.dry_run => ChangeStatus::Planned,
            Some(acc) => {
                let url = admin::lifecycle_url(&cfg.atlassian_api_url, acc, "delete");
                let answer = transport.send(admin_post_empty(url));
                let ctx = Context {
                    api: Api::Lifecycle,
                    credential: ADMIN_API_KEY,
                    subject: acc,
                };
                settle(&ctx, answer, true)
            }
        };
        changes.push(Change {
            kind: ChangeKind::DeleteAccount,
            target: account.map_or_else(|| user.value().to_string(), AccountId::into_string),
            before: None,
            after: Some("deleted after Atlassian's 14-day grace period".into()),
            status,
        });
    }
    let found = person.found().then(|| person.resolved());
    Ok(outcome(found, changes))
}

/// Consults the user-management preflight before anything is written: a purge the
/// organization key may not make (`lifecycle.delete` refused, or the account not the
/// organization's to manage) is `forbidden`, naming the reason key, with zero writes. An
/// account already scheduled for deletion, or gone, needs no preflight.
fn purge_allowed(
    cfg: &ConnectorConfig,
    transport: &dyn Transport,
    person: &super::common::Person,
) -> Result<(), ConnectorError> {
    let scheduled = person
        .admin_user
        .as_ref()
        .is_some_and(|u| u.status.as_deref() == Some("for_deletion"));
    let Some(acc) = person.account_id.as_ref().filter(|_| !scheduled) else {
        return Ok(());
    };
    let reason = match super::tokens::preflight(transport, &cfg.atlassian_api_url, acc) {
        Ok(Ok(p)) => p.check("lifecycle.delete").err(),
        Ok(Err(reason)) => Some(reason),
        Err(ConnectorError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(ConnectorError::Forbidden(format!(
            "the user-management preflight refuses `lifecycle.delete` for account `{acc}` \
             (reason `{reason}`): admin_api_key may not delete this account, so nothing was \
             changed; whoever manages the account (its identity provider or organization) must"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::deprovision::{self, tests::*};
    use crate::actions::list::{list_groups, list_resources, list_users};
    use crate::model::{ActionOptions, PageRequest, ResourceKind};
    use crate::transport::{FakeTransport, Method, Response};

    const LIFECYCLE: &str = "https://api.atlassian.com/users/712020%3Aabc/manage/lifecycle/delete";

    fn opts(purge_account: bool, dry_run: bool) -> DeleteOptions {
        DeleteOptions {
            purge_account,
            dry_run,
        }
    }

    const PREFLIGHT: &str = "https://api.atlassian.com/users/712020%3Aabc/manage?privileges=lifecycle.enablement&privileges=lifecycle.delete&privileges=apiToken.read&privileges=apiToken.delete";

    fn script(fake: &FakeTransport, status: &str) {
        fake.on_get(PREFLIGHT, 200, r#"{"lifecycle.delete":{"allowed":true}}"#);
        fake.on_get(ADA_LOOKUP, 200, &scim_ada(&["sg-1"], true).to_string());
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, &admin_ada(&["sg-1"], status))),
        );
        fake.on(Method::Delete, USER_URL, Ok(Response::new(204, "")));
    }

    fn kinds(o: &Outcome) -> Vec<(ChangeKind, ChangeStatus)> {
        o.changes
            .iter()
            .map(|c| (c.kind, c.status.clone()))
            .collect()
    }

    #[test]
    fn e1_one_lookup_then_the_scim_delete() {
        let fake = FakeTransport::new();
        script(&fake, "active");
        let o = delete_identity(&scim_only(), &fake, &ada(), opts(false, false)).unwrap();
        assert!(o.completed);
        assert_eq!(kinds(&o), [(ChangeKind::DeleteUser, ChangeStatus::Applied)]);
        let b = batches(&fake);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].len(), 1);
        assert_eq!(
            (b[1][0].method, b[1][0].url.as_str()),
            (Method::Delete, USER_URL)
        );
    }

    #[test]
    fn e2_an_absent_user_is_already_done_with_zero_writes() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, r#"{"totalResults":0,"Resources":[]}"#);
        let o = delete_identity(&scim_only(), &fake, &ada(), opts(false, false)).unwrap();
        assert!(o.completed);
        assert_eq!(o.user, None);
        assert_eq!(
            kinds(&o),
            [(ChangeKind::DeleteUser, ChangeStatus::AlreadyDone)]
        );
        assert_eq!(o.changes[0].target, "ada@example.com");
        assert!(writes(&fake).is_empty());
        // By SCIM id: the GET answers 404.
        let fake = FakeTransport::new();
        fake.on_get(USER_URL, 404, r#"{"status":"404"}"#);
        let o = delete_identity(
            &scim_only(),
            &fake,
            &UserRef::ScimId("u-1".into()),
            opts(false, false),
        )
        .unwrap();
        assert_eq!(
            kinds(&o),
            [(ChangeKind::DeleteUser, ChangeStatus::AlreadyDone)]
        );
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn e3_purge_deletes_the_account_after_the_scim_record() {
        let fake = FakeTransport::new();
        script(&fake, "active");
        fake.on(Method::Post, LIFECYCLE, Ok(Response::new(204, "")));
        let o = delete_identity(&with_admin(None), &fake, &ada(), opts(true, false)).unwrap();
        assert!(o.completed, "{o:?}");
        assert_eq!(
            kinds(&o),
            [
                (ChangeKind::DeleteUser, ChangeStatus::Applied),
                (ChangeKind::DeleteAccount, ChangeStatus::Applied)
            ]
        );
        assert_eq!(o.changes[1].target, ACCOUNT);
        assert!(
            o.changes[1]
                .after
                .as_deref()
                .is_some_and(|a| a.contains("14-day"))
        );
        let b = batches(&fake);
        assert_eq!(b.len(), 4);
        assert_eq!(b[0].len(), 2);
        assert_eq!(b[1][0].url, PREFLIGHT, "the preflight before any write");
        assert_eq!(b[2][0].url, USER_URL);
        assert_eq!(
            (b[3][0].method, b[3][0].url.as_str()),
            (Method::Post, LIFECYCLE)
        );
        // The API declares no body for `delete`: none is sent, nor a content type.
        assert_eq!(b[3][0].body, None);
        assert!(!b[3][0].headers.iter().any(|(n, _)| n == "content-type"));
        // Scheduled for deletion already: no write at all.
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, r#"{"totalResults":0,"Resources":[]}"#);
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, &admin_ada(&[], "for_deletion"))),
        );
        let o = delete_identity(&with_admin(None), &fake, &ada(), opts(true, false)).unwrap();
        assert!(
            o.changes
                .iter()
                .all(|c| c.status == ChangeStatus::AlreadyDone)
        );
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn lifecycle_404_is_already_done_and_403_names_the_admin_key() {
        for (status, body) in [
            (404, r#"{"key":"accountNotFound","message":"gone"}"#),
            (403, r#"{"key":"forbidden","message":"scoped"}"#),
        ] {
            let fake = FakeTransport::new();
            script(&fake, "deactivated");
            fake.on(Method::Post, LIFECYCLE, Ok(Response::json(status, body)));
            let o = delete_identity(&with_admin(None), &fake, &ada(), opts(true, false)).unwrap();
            let s = &o.changes[1].status;
            if status == 404 {
                assert_eq!(*s, ChangeStatus::AlreadyDone);
                assert!(o.completed);
            } else {
                assert!(
                    matches!(s, ChangeStatus::Failed(ConnectorError::Forbidden(m)) if m.contains("admin_api_key")),
                    "{s:?}"
                );
                assert!(!o.completed);
                assert_eq!(o.changes[0].status, ChangeStatus::Applied);
            }
        }
    }

    #[test]
    fn an_unlinked_account_fails_the_purge_with_a_reason() {
        let fake = FakeTransport::new();
        fake.on_get(
            ADA_LOOKUP,
            200,
            r#"{"totalResults":1,"Resources":[{"id":"u-1","userName":"ada@example.com","active":true}]}"#,
        );
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, r#"{"data":[],"links":{}}"#)),
        );
        fake.on(Method::Delete, USER_URL, Ok(Response::new(204, "")));
        let o = delete_identity(&with_admin(None), &fake, &ada(), opts(true, false)).unwrap();
        assert_eq!(o.changes[0].status, ChangeStatus::Applied);
        assert!(
            matches!(&o.changes[1].status, ChangeStatus::Failed(ConnectorError::NotFound(m)) if m.contains("not linked"))
        );
        assert!(!o.completed);
    }

    #[test]
    fn j3_a_purge_the_preflight_refuses_is_forbidden_naming_the_reason_with_zero_writes() {
        let fake = FakeTransport::new();
        fake.on_get(
            PREFLIGHT,
            200,
            r#"{"lifecycle.delete":{"allowed":false,"reason":{"key":"externalDirectory.scim"}}}"#,
        );
        script(&fake, "active");
        let e = delete_identity(&with_admin(None), &fake, &ada(), opts(true, false)).unwrap_err();
        assert!(
            matches!(&e, ConnectorError::Forbidden(m) if m.contains("externalDirectory.scim")),
            "{e:?}"
        );
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn dry_run_plans_both_with_reads_only() {
        let fake = FakeTransport::new();
        script(&fake, "active");
        let o = delete_identity(&with_admin(None), &fake, &ada(), opts(true, true)).unwrap();
        assert_eq!(
            kinds(&o),
            [
                (ChangeKind::DeleteUser, ChangeStatus::Planned),
                (ChangeKind::DeleteAccount, ChangeStatus::Planned)
            ]
        );
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn e4_protected_users_are_refused_with_zero_writes() {
        let fake = FakeTransport::new();
        let cfg = with_admin(Some(ACCOUNT));
        let by_account = UserRef::AccountId(ACCOUNT.into());
        let e = delete_identity(&cfg, &fake, &by_account, opts(true, false)).unwrap_err();
        assert!(matches!(&e, ConnectorError::PolicyDenied(m) if m.contains(ACCOUNT)));
        assert!(fake.calls().is_empty());
        script(&fake, "active");
        let e = delete_identity(&cfg, &fake, &ada(), opts(false, false)).unwrap_err();
        assert!(matches!(e, ConnectorError::PolicyDenied(_)));
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn purge_on_a_scim_only_config_is_invalid_config_before_any_request_a5() {
        let fake = FakeTransport::new();
        let user = UserRef::ScimId("u1".into());
        let e = delete_identity(&scim_only(), &fake, &user, opts(true, false)).unwrap_err();
        assert_eq!(e.config_key(), Some("admin_api_key"));
        assert!(fake.calls().is_empty());
    }

    #[test]
    fn bad_config_comes_first_and_no_request_is_made() {
        let fake = FakeTransport::new();
        let bad = Config::new(&[], &[]);
        let user = ada();
        let page = PageRequest::default();
        let results = [
            deprovision::deprovision_identity(&bad, &fake, &user, ActionOptions::default()).err(),
            delete_identity(&bad, &fake, &user, DeleteOptions::default()).err(),
            list_users(&bad, &fake, &page).err(),
            list_groups(&bad, &fake, &page).err(),
            list_resources(&bad, &fake, ResourceKind::JiraProject, &page).err(),
        ];
        for r in results {
            assert_eq!(
                r.as_ref().and_then(|e| e.config_key()),
                Some("scim_url"),
                "{r:?}"
            );
        }
        assert!(fake.calls().is_empty());
    }
}
