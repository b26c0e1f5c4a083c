//! Shared fixtures of the unit tests.

use serde_json::{Value, json};

use crate::model::Config;

/// The base URL of [`config`].
pub const BASE: &str = "https://scim.example.com/v2";

/// A valid configuration pointing at [`BASE`].
pub fn config() -> Config {
    Config::new(&[("base_url", BASE)], &["token"])
}

/// A `ListResponse` of these resources.
pub fn list(resources: &[Value]) -> String {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
           "totalResults": resources.len(), "Resources": resources})
    .to_string()
}

/// A user resource.
pub fn user_json(id: &str, user_name: &str, active: bool) -> String {
    json!({"id": id, "userName": user_name, "active": active,
           "emails": [{"value": user_name.to_lowercase(), "primary": true}]})
    .to_string()
}
