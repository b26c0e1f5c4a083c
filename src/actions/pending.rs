//! Actions not built yet. Each validates the configuration first, so a bad configuration is
//! always `invalid-config` before anything else, then answers `unsupported`.
//! When an action is implemented, move it to its own file and declare its capability in
//! [`super::describe::CAPABILITIES`].

use crate::config::ConnectorConfig;
use crate::error::ConnectorError;
use crate::model::{ActionOptions, Config, DeleteOptions, Outcome, UserRef};
use crate::transport::Transport;

fn not_yet(action: &str) -> ConnectorError {
    ConnectorError::Unsupported(format!("{action} is not implemented yet"))
}

/// `deprovision-identity` (not implemented yet).
pub fn deprovision_identity(
    config: &Config,
    _transport: &dyn Transport,
    _user: &UserRef,
    _options: ActionOptions,
) -> Result<Outcome, ConnectorError> {
    ConnectorConfig::parse(config)?;
    Err(not_yet("deprovision-identity"))
}

/// `delete-identity` (not implemented yet). With `purge-account` the admin credential is
/// checked first, so a SCIM-only configuration fails with `invalid-config` naming
/// `admin_api_key` (conformance A5).
pub fn delete_identity(
    config: &Config,
    _transport: &dyn Transport,
    _user: &UserRef,
    options: DeleteOptions,
) -> Result<Outcome, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    if options.purge_account {
        cfg.require_admin()?;
    }
    Err(not_yet("delete-identity"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::list::{list_groups, list_resources, list_users};
    use crate::model::{PageRequest, ResourceKind};
    use crate::transport::FakeTransport;

    fn scim_only() -> Config {
        Config::new(
            &[("scim_url", "https://api.atlassian.com/scim/directory/d")],
            &["scim_token"],
        )
    }

    #[test]
    fn bad_config_comes_before_unsupported_and_no_request_is_made() {
        let fake = FakeTransport::new();
        let bad = Config::new(&[], &[]);
        let user = UserRef::Email("a@b.com".into());
        let page = PageRequest::default();
        let results = [
            deprovision_identity(&bad, &fake, &user, ActionOptions::default()).err(),
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

    #[test]
    fn purge_account_needs_admin_key_a5() {
        let fake = FakeTransport::new();
        let user = UserRef::ScimId("u1".into());
        let purge = DeleteOptions {
            purge_account: true,
            dry_run: false,
        };
        let e = delete_identity(&scim_only(), &fake, &user, purge).unwrap_err();
        assert_eq!(e.config_key(), Some("admin_api_key"));
        let e = delete_identity(&scim_only(), &fake, &user, DeleteOptions::default()).unwrap_err();
        assert!(matches!(e, ConnectorError::Unsupported(_)));
        assert!(fake.calls().is_empty());
    }
}
