//! A person as the CLI's `--user`, a batch file's `user` and a workflow's `user` name them:
//! an email, `external:ID`, or `NAMESPACE:ID` for an id in one of the connector's namespaces
//! (`scim:ID`, `account:ID` for the built-in connector). Parsing and the text form, shared by
//! the CLI, batch, workflows and the audit log.

use lifecycle_host::bindings::types::{NamespacedId, UserRef};

/// Parses a user reference: an email, `external:ID` or `NAMESPACE:ID`.
pub fn parse(s: &str) -> Result<UserRef, String> {
    let namespace = |ns: &str| {
        !ns.is_empty()
            && ns
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    let user = match s.split_once(':') {
        Some(("external", id)) => UserRef::ExternalId(id.to_owned()),
        Some((ns, id)) if namespace(ns) => UserRef::Id(NamespacedId::new(ns, id)),
        _ if s.contains('@') => UserRef::Email(s.to_owned()),
        _ => {
            return Err(format!(
                "`{s}` is not a user: give an email, external:ID, or NAMESPACE:ID (scim:ID, \
                 account:ID)"
            ));
        }
    };
    Ok(user)
}

/// The text form of a user reference, as [`parse`] takes it.
pub fn text(user: &UserRef) -> String {
    user.to_string()
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
