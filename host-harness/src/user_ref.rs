//! A person as the CLI's `--user`, a batch file's `user` and a workflow's `user` name them:
//! an email, or `scim:ID`, `account:ID`, `external:ID`. Parsing and the text form, shared by
//! the CLI, batch, workflows and the audit log.

use lifecycle_host::bindings::types::UserRef;

/// Parses a user reference: an email, or `scim:ID`, `account:ID`, `external:ID`.
pub fn parse(s: &str) -> Result<UserRef, String> {
    let user = match s.split_once(':') {
        Some(("scim", id)) => UserRef::ScimId(id.to_owned()),
        Some(("account", id)) => UserRef::AccountId(id.to_owned()),
        Some(("external", id)) => UserRef::ExternalId(id.to_owned()),
        _ if s.contains('@') => UserRef::Email(s.to_owned()),
        _ => {
            return Err(format!(
                "`{s}` is not a user: give an email, or scim:ID, account:ID or external:ID"
            ));
        }
    };
    Ok(user)
}

/// The text form of a user reference, as [`parse`] takes it.
pub fn text(user: &UserRef) -> String {
    match user {
        UserRef::Email(e) => e.clone(),
        UserRef::ScimId(id) => format!("scim:{id}"),
        UserRef::AccountId(id) => format!("account:{id}"),
        UserRef::ExternalId(id) => format!("external:{id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_it_prints() {
        for s in ["a@x.io", "scim:1", "account:2", "external:3"] {
            assert_eq!(text(&parse(s).unwrap()), s);
        }
        assert!(parse("nobody").unwrap_err().contains("not a user"));
    }
}
