//! The configuration schema ([`KEYS`], which `describe` publishes) and its validation into a
//! [`ScimConfig`]. Every error is `invalid-config` naming the key at fault; no value of a
//! secret is ever seen here (only its name).

use crate::model::{Config, ConnectorError};

/// The SCIM base URL (required `url` setting).
pub const BASE_URL: &str = "base_url";
/// The bearer token (required secret).
pub const TOKEN: &str = "token";
/// Items per listing page (optional).
pub const PAGE_SIZE: &str = "page_size";
/// A free label for reports (optional).
pub const INSTANCE_NAME: &str = "instance_name";

/// `page_size` when unset.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The largest `page_size` accepted.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// The type of a key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text.
    Text,
    /// A base URL.
    Url,
    /// A secret, named only.
    Secret,
}

/// One key of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub key: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Whether every configuration must set it.
    pub required: bool,
    /// Its default, when it has one.
    pub default: Option<&'static str>,
    /// What it is, for people.
    pub description: &'static str,
}

/// Every key the connector accepts; any other is refused.
pub const KEYS: &[Key] = &[
    Key {
        key: BASE_URL,
        kind: Kind::Url,
        required: true,
        default: None,
        description: "The service's SCIM 2.0 base URL (RFC 7644 §1.3), for example \
                      https://idp.example.com/scim/v2; /Users and /Groups are under it.",
    },
    Key {
        key: TOKEN,
        kind: Kind::Secret,
        required: true,
        default: None,
        description: "The SCIM bearer token, sent only to base_url.",
    },
    Key {
        key: PAGE_SIZE,
        kind: Kind::Text,
        required: false,
        default: Some("100"),
        description: "Users or groups asked for per listing page (1-1000), when the caller \
                      gives no limit.",
    },
    Key {
        key: INSTANCE_NAME,
        kind: Kind::Text,
        required: false,
        default: None,
        description: "A label for reports; never sent anywhere.",
    },
];

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimConfig {
    /// The base URL without a trailing `/`.
    pub base_url: String,
    /// Items per listing page.
    pub page_size: u32,
}

fn invalid(key: &str, message: impl Into<String>) -> ConnectorError {
    ConnectorError::InvalidConfig(key.to_string(), message.into())
}

impl ScimConfig {
    /// Validates `config`: every key known, the required ones set, values well formed.
    pub fn parse(config: &Config) -> Result<Self, ConnectorError> {
        for (key, _) in &config.settings {
            match KEYS.iter().find(|k| k.key == key) {
                None => return Err(invalid(key, "not a setting of generic-scim")),
                Some(k) if k.kind == Kind::Secret => {
                    return Err(invalid(
                        key,
                        "a secret: put it under [secrets], not settings",
                    ));
                }
                Some(_) => {}
            }
        }
        for name in &config.secrets {
            if name != TOKEN {
                return Err(invalid(
                    name,
                    "not a secret of generic-scim (only `token` is)",
                ));
            }
        }
        if !config.secrets.iter().any(|s| s == TOKEN) {
            return Err(invalid(TOKEN, "required: the SCIM bearer token is not set"));
        }
        let get = |key: &str| {
            config
                .settings
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim())
        };
        let base_url = match get(BASE_URL) {
            None | Some("") => return Err(invalid(BASE_URL, "required: the SCIM base URL")),
            Some(url) => check_url(url)?,
        };
        let page_size = match get(PAGE_SIZE) {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    return Err(invalid(
                        PAGE_SIZE,
                        format!("must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                    ));
                }
            },
        };
        Ok(ScimConfig {
            base_url,
            page_size,
        })
    }
}

/// An absolute http(s) URL with a host and no query, fragment or credentials, trailing `/`
/// removed. (Whether plain http or a given host may be reached is the host's policy.)
fn check_url(url: &str) -> Result<String, ConnectorError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid(BASE_URL, "must be an absolute https:// URL"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(invalid(BASE_URL, "has no host"));
    }
    if authority.contains('@') {
        return Err(invalid(
            BASE_URL,
            "must not carry credentials: use the token secret",
        ));
    }
    if url.contains(['?', '#']) {
        return Err(invalid(BASE_URL, "must not have a query or fragment"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            BASE_URL,
            "must not contain spaces or control characters",
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(settings: &[(&str, &str)], secrets: &[&str]) -> Config {
        Config::new(settings, secrets)
    }

    fn key_of(r: Result<ScimConfig, ConnectorError>) -> String {
        match r {
            Err(ConnectorError::InvalidConfig(key, _)) => key,
            other => panic!("expected invalid-config, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_config_parses_with_defaults() {
        let c = ScimConfig::parse(&config(
            &[
                (BASE_URL, "https://idp.example.com/scim/v2/"),
                (INSTANCE_NAME, "x"),
            ],
            &[TOKEN],
        ))
        .unwrap();
        assert_eq!(c.base_url, "https://idp.example.com/scim/v2");
        assert_eq!(c.page_size, DEFAULT_PAGE_SIZE);
    }

    #[test]
    fn every_error_names_its_key() {
        let url = (BASE_URL, "https://x.example");
        assert_eq!(key_of(ScimConfig::parse(&config(&[url], &[]))), TOKEN);
        assert_eq!(key_of(ScimConfig::parse(&config(&[], &[TOKEN]))), BASE_URL);
        for bad in [
            "ftp://x",
            "https://",
            "https://u:p@x",
            "https://x?a=1",
            "https://x y",
        ] {
            let r = ScimConfig::parse(&config(&[(BASE_URL, bad)], &[TOKEN]));
            assert_eq!(key_of(r), BASE_URL, "{bad}");
        }
        for bad in ["0", "1001", "ten", "-1"] {
            let r = ScimConfig::parse(&config(&[url, (PAGE_SIZE, bad)], &[TOKEN]));
            assert_eq!(key_of(r), PAGE_SIZE, "{bad}");
        }
        let r = ScimConfig::parse(&config(&[url, ("scim_url", "https://y")], &[TOKEN]));
        assert_eq!(key_of(r), "scim_url");
        let r = ScimConfig::parse(&config(&[url, (TOKEN, "oops")], &[TOKEN]));
        assert_eq!(key_of(r), TOKEN);
        let r = ScimConfig::parse(&config(&[url], &[TOKEN, "other"]));
        assert_eq!(key_of(r), "other");
    }
}
