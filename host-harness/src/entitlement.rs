//! An entitlement as the CLI, batch files and workflows write it: a group by its display name,
//! a role on a resource as `ROLE@KIND:ID` (`atlassian/user@workspace:jira-software/acme`) —
//! the inverse of the host's `Display` for `Entitlement`, shared so that every surface and the
//! audit log spell it alike.

use lifecycle_host::bindings::types::{Entitlement, ResourceRef, RoleGrant};

/// Parses a role on a resource: `ROLE@KIND:ID`, every part non-empty.
pub fn parse_role(s: &str) -> Result<RoleGrant, String> {
    let bad = || {
        format!(
            "`{s}` is not a role: write ROLE@KIND:ID, for example \
             atlassian/user@workspace:jira-software/acme"
        )
    };
    let (role, resource) = s.split_once('@').ok_or_else(bad)?;
    let (kind, id) = resource.split_once(':').ok_or_else(bad)?;
    if role.trim().is_empty() || kind.trim().is_empty() || id.trim().is_empty() {
        return Err(bad());
    }
    Ok(RoleGrant {
        role: role.trim().to_owned(),
        resource: ResourceRef {
            kind: kind.trim().to_owned(),
            id: id.trim().to_owned(),
        },
    })
}

/// Parses a group by its display name (not empty).
pub fn parse_group(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("a group name is empty".into());
    }
    Ok(s.to_owned())
}

/// Groups and roles as one list of entitlements, groups first (the order the connector plans
/// them in does not depend on it).
pub fn entitlements(groups: &[String], roles: &[RoleGrant]) -> Vec<Entitlement> {
    let mut all: Vec<Entitlement> = groups.iter().cloned().map(Entitlement::Group).collect();
    all.extend(roles.iter().cloned().map(Entitlement::Role));
    all
}

/// The text form of an entitlement, as [`parse_group`] and [`parse_role`] take it.
pub fn text(e: &Entitlement) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_parses_to_what_it_prints() {
        for s in [
            "atlassian/user@workspace:jira-software/acme",
            "admin@workspace:ari:cloud:jira::site/1",
        ] {
            let role = parse_role(s).unwrap();
            assert_eq!(text(&Entitlement::Role(role)), s);
        }
        let r = parse_role("admin@workspace:ari:cloud:jira::site/1").unwrap();
        assert_eq!(
            (r.resource.kind.as_str(), r.resource.id.as_str()),
            ("workspace", "ari:cloud:jira::site/1")
        );
    }

    #[test]
    fn a_malformed_role_is_named() {
        for s in [
            "admin",
            "admin@workspace",
            "@workspace:x",
            "admin@:x",
            "admin@workspace: ",
        ] {
            let e = parse_role(s).unwrap_err();
            assert!(e.contains(s) && e.contains("ROLE@KIND:ID"), "{e}");
        }
        assert!(parse_group(" ").is_err());
    }

    #[test]
    fn groups_come_before_roles() {
        let role = parse_role("user@workspace:w").unwrap();
        let all = entitlements(&["g".into()], &[role]);
        let texts: Vec<String> = all.iter().map(text).collect();
        assert_eq!(texts, ["g", "user@workspace:w"]);
    }
}
