//! The JSON API's routes (`docs/openapi.yaml`) and how the contract's error classes map to
//! HTTP statuses.

/// One operation of the API, each onto one `lifecycle` export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `GET /v1/describe`.
    Describe,
    /// `POST /v1/check-health`.
    CheckHealth,
    /// `POST /v1/sync-identity`.
    SyncIdentity,
    /// `POST /v1/manage-relationships`.
    ManageRelationships,
    /// `POST /v1/deprovision-identity`.
    DeprovisionIdentity,
    /// `POST /v1/delete-identity`.
    DeleteIdentity,
    /// `POST /v1/list-users`.
    ListUsers,
    /// `POST /v1/list-groups`.
    ListGroups,
    /// `POST /v1/list-resources`.
    ListResources,
    /// `POST /v1/reactivate-identity`.
    ReactivateIdentity,
    /// `POST /v1/manage-group-roles`.
    ManageGroupRoles,
}

impl Action {
    /// Every action, with its path below `/v1/`.
    pub const ALL: [(Action, &'static str); 11] = [
        (Action::Describe, "describe"),
        (Action::CheckHealth, "check-health"),
        (Action::SyncIdentity, "sync-identity"),
        (Action::ManageRelationships, "manage-relationships"),
        (Action::DeprovisionIdentity, "deprovision-identity"),
        (Action::DeleteIdentity, "delete-identity"),
        (Action::ListUsers, "list-users"),
        (Action::ListGroups, "list-groups"),
        (Action::ListResources, "list-resources"),
        (Action::ReactivateIdentity, "reactivate-identity"),
        (Action::ManageGroupRoles, "manage-group-roles"),
    ];

    /// The HTTP method the action takes: `GET` for `describe`, `POST` for the others.
    pub fn method(self) -> &'static str {
        if self == Action::Describe {
            "GET"
        } else {
            "POST"
        }
    }

    /// True when the action can write (and so takes `options.dry_run`).
    pub fn mutates(self) -> bool {
        matches!(
            self,
            Action::SyncIdentity
                | Action::ManageRelationships
                | Action::DeprovisionIdentity
                | Action::DeleteIdentity
                | Action::ReactivateIdentity
                | Action::ManageGroupRoles
        )
    }
}

/// A request the API refuses before calling the connector: the HTTP status and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// 404 for an unknown path, 405 for a known one with another method, 400 for a bad body.
    pub status: u16,
    /// What is wrong.
    pub message: String,
}

/// The action of `method` on `path` (a query string is ignored).
pub fn route(method: &str, path: &str) -> Result<Action, Refused> {
    let path = path.split('?').next().unwrap_or("");
    let name = path.strip_prefix("/v1/").unwrap_or("");
    let Some((action, _)) = Action::ALL.iter().find(|(_, n)| *n == name) else {
        return Err(Refused {
            status: 404,
            message: format!("no such operation: {path}"),
        });
    };
    if !method.eq_ignore_ascii_case(action.method()) {
        return Err(Refused {
            status: 405,
            message: format!("{path} takes {}", action.method()),
        });
    }
    Ok(*action)
}

/// The HTTP status of a `connector-error` class (its WIT case name). The upstream service's
/// refusals of the connector's credentials are 502, not 401/403: the caller of this API did
/// nothing wrong, the platform's configured credential did.
pub fn status_of(class: &str) -> u16 {
    match class {
        "invalid-input" => 400,
        "policy-denied" => 403,
        "not-found" => 404,
        "conflict" => 409,
        "rate-limited" => 429,
        "unsupported" => 501,
        "unauthorized" | "forbidden" | "upstream" => 502,
        "unavailable" => 503,
        // invalid-config (the platform's configuration), other, and any later case.
        _ => 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_take_their_method() {
        assert_eq!(route("GET", "/v1/describe"), Ok(Action::Describe));
        assert_eq!(
            route("post", "/v1/sync-identity?x=1"),
            Ok(Action::SyncIdentity)
        );
        assert_eq!(route("GET", "/v1/sync-identity").unwrap_err().status, 405);
        assert_eq!(route("POST", "/v1/nothing").unwrap_err().status, 404);
        assert_eq!(route("POST", "/sync-identity").unwrap_err().status, 404);
    }

    #[test]
    fn error_classes_have_statuses() {
        assert_eq!(status_of("not-found"), 404);
        assert_eq!(status_of("unauthorized"), 502);
        assert_eq!(status_of("invalid-config"), 500);
        assert_eq!(status_of("something-new"), 500);
    }
}
