//! Parses and validates the tenant's `config` into a typed [`ConnectorConfig`].
//!
//! One table, [`KEYS`], drives both validation and the schema `describe` publishes, so the
//! two can never disagree. Every error is `invalid-config` naming the key at fault.

use crate::error::ConnectorError;
use crate::model::{Config, ConfigKey, ConfigKind};
use crate::{base_url, encode};

/// The SCIM directory base URL (required setting).
pub const SCIM_URL: &str = "scim_url";
/// The SCIM directory API key (required secret).
pub const SCIM_TOKEN: &str = "scim_token";
/// The organization API key (secret).
pub const ADMIN_API_KEY: &str = "admin_api_key";
/// The organization id.
pub const SCIM_ORGANIZATION_ID: &str = "scim_organization_id";
/// The product API user (email).
pub const PRODUCT_USER: &str = "product_user";
/// The product API token (secret).
pub const PRODUCT_TOKEN: &str = "product_token";
/// A free label for reports.
pub const INSTANCE_NAME: &str = "instance_name";
/// Base URL of the admin and lifecycle APIs.
pub const ATLASSIAN_API_URL: &str = "atlassian_api_url";
/// The Jira/Confluence site URL.
pub const SITE_URL: &str = "site_url";
/// Base URL of the Bitbucket API.
pub const BITBUCKET_API_URL: &str = "bitbucket_api_url";
/// The Bitbucket workspace slug.
pub const BITBUCKET_WORKSPACE: &str = "bitbucket_workspace";

/// Emails and account ids that deprovision and delete refuse.
pub const PROTECTED_USERS: &str = "protected_users";
/// Whether deprovision also revokes the person's personal API tokens.
pub const REVOKE_API_TOKENS: &str = "revoke_api_tokens";
/// The label of the organization key in the organization's API-key list (health reads its
/// expiry there).
pub const ADMIN_API_KEY_LABEL: &str = "admin_api_key_label";

/// Default for `atlassian_api_url`.
pub const DEFAULT_ATLASSIAN_API_URL: &str = "https://api.atlassian.com";
/// Default for `bitbucket_api_url`.
pub const DEFAULT_BITBUCKET_API_URL: &str = "https://api.bitbucket.org";

/// One row of the configuration table: the schema's [`ConfigKey`], whose `kind` also says
/// how the value is checked ([`ConfigKind::Url`] values are checked as URLs,
/// [`ConfigKind::Secret`] keys go in `secrets`).
pub type KeySpec = ConfigKey;

/// Every key the connector accepts: the single source of validation and of the schema.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        key: SCIM_URL,
        kind: ConfigKind::Url,
        required: true,
        default: None,
        requires: &[],
        description: "SCIM directory base URL, https://api.atlassian.com/scim/directory/{directoryId}. \
                      Every SCIM call goes here; the directory id is its last path segment.",
    },
    KeySpec {
        key: SCIM_TOKEN,
        kind: ConfigKind::Secret,
        required: true,
        default: None,
        requires: &[],
        description: "SCIM directory API key (Bearer). Works on SCIM only.",
    },
    KeySpec {
        key: ADMIN_API_KEY,
        kind: ConfigKind::Secret,
        required: false,
        default: None,
        requires: &[SCIM_ORGANIZATION_ID],
        description: "Organization API key (Bearer) for the admin API v2 and the user lifecycle API. \
                      Needs scim_organization_id. Required for admin-managed groups and purge-account.",
    },
    KeySpec {
        key: SCIM_ORGANIZATION_ID,
        kind: ConfigKind::String,
        required: false,
        default: None,
        requires: &[ADMIN_API_KEY],
        description: "Organization id shown next to the organization API key. Needs admin_api_key.",
    },
    KeySpec {
        key: PRODUCT_USER,
        kind: ConfigKind::String,
        required: false,
        default: None,
        requires: &[PRODUCT_TOKEN],
        description: "Atlassian account email for product discovery (Basic auth user). Needs product_token \
                      and site_url or bitbucket_workspace.",
    },
    KeySpec {
        key: PRODUCT_TOKEN,
        kind: ConfigKind::Secret,
        required: false,
        default: None,
        requires: &[PRODUCT_USER],
        description: "API token of product_user for product discovery (Basic auth password).",
    },
    KeySpec {
        key: INSTANCE_NAME,
        kind: ConfigKind::String,
        required: false,
        default: None,
        requires: &[],
        description: "Free label such as acme-atlassian-prod, shown in reports and audit records.",
    },
    KeySpec {
        key: ATLASSIAN_API_URL,
        kind: ConfigKind::Url,
        required: false,
        default: Some(DEFAULT_ATLASSIAN_API_URL),
        requires: &[],
        description: "Base URL of the admin and lifecycle APIs. Default https://api.atlassian.com.",
    },
    KeySpec {
        key: SITE_URL,
        kind: ConfigKind::Url,
        required: false,
        default: None,
        requires: &[],
        description: "Jira and Confluence site URL, for example https://acme.atlassian.net.",
    },
    KeySpec {
        key: BITBUCKET_API_URL,
        kind: ConfigKind::Url,
        required: false,
        default: Some(DEFAULT_BITBUCKET_API_URL),
        requires: &[],
        description: "Base URL of the Bitbucket API. Default https://api.bitbucket.org.",
    },
    KeySpec {
        key: BITBUCKET_WORKSPACE,
        kind: ConfigKind::String,
        required: false,
        default: None,
        requires: &[],
        description: "Bitbucket workspace slug whose repositories discovery lists.",
    },
    KeySpec {
        key: PROTECTED_USERS,
        kind: ConfigKind::List,
        required: false,
        default: None,
        requires: &[],
        description: "Comma-separated emails (any case) and Atlassian account ids that \
                      deprovision and delete refuse with policy-denied.",
    },
    KeySpec {
        key: REVOKE_API_TOKENS,
        kind: ConfigKind::Bool,
        required: false,
        default: Some("false"),
        requires: &[ADMIN_API_KEY],
        description: "true: deprovision also deletes the person's personal API tokens, where \
                      the user-management preflight allows the organization key to.",
    },
    KeySpec {
        key: ADMIN_API_KEY_LABEL,
        kind: ConfigKind::String,
        required: false,
        default: None,
        requires: &[ADMIN_API_KEY],
        description: "The organization key's label in admin.atlassian.com's API-key list: \
                      health reads its expiry there and warns within 30 days.",
    },
];

/// The schema `describe` publishes: [`KEYS`] itself.
pub fn schema() -> &'static [ConfigKey] {
    KEYS
}

fn spec(key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.key == key)
}

/// The SCIM side of the configuration (always present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimConfig {
    /// Base URL, normalized, without a trailing `/`.
    pub url: String,
    /// The directory id taken from the URL's `/scim/directory/{id}` ending, decoded.
    pub directory_id: Option<String>,
}

/// The admin side, present when `admin_api_key` and `scim_organization_id` are configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// Base URL of the admin and lifecycle APIs, without a trailing `/`.
    pub api_url: String,
    /// The organization id.
    pub org_id: String,
    /// The SCIM directory id (from `scim_url`).
    pub directory_id: String,
}

/// The validated, typed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorConfig {
    /// SCIM settings.
    pub scim: ScimConfig,
    /// Admin settings, when configured.
    pub admin: Option<AdminConfig>,
    /// Base URL of the admin and lifecycle APIs (default applied).
    pub atlassian_api_url: String,
    /// True when `product_user` and `product_token` are both configured.
    pub product_credentials: bool,
    /// Jira/Confluence site URL.
    pub site_url: Option<String>,
    /// Bitbucket API base URL (default applied).
    pub bitbucket_api_url: String,
    /// Bitbucket workspace.
    pub bitbucket_workspace: Option<String>,
    /// Free label.
    pub instance_name: Option<String>,
    /// Protected emails and account ids, lower-cased.
    pub protected_users: Vec<String>,
    /// Deprovision revokes personal API tokens too.
    pub revoke_api_tokens: bool,
    /// The organization key's label in the API-key list, for its expiry (health).
    pub admin_api_key_label: Option<String>,
}

impl ConnectorConfig {
    /// Parses and validates `config`. Every error is `invalid-config` naming its key.
    pub fn parse(config: &Config) -> Result<Self, ConnectorError> {
        // Plain vectors, not hash sets: there are a dozen keys, and std's RandomState would
        // make the component import `wasi:random` for nothing.
        let mut seen: Vec<&'static str> = Vec::new();
        let mut values: Vec<(&'static str, String)> = Vec::new();
        let mut secrets: Vec<&'static str> = Vec::new();

        for (key, value) in &config.settings {
            let Some(spec) = spec(key) else {
                return Err(ConnectorError::config(
                    key.as_str(),
                    format!("unknown setting; accepted keys are: {}", key_list()),
                ));
            };
            if spec.is_secret() {
                return Err(ConnectorError::config(
                    spec.key,
                    "is a secret: store it with the tenant's secrets, not in the settings",
                ));
            }
            if seen.contains(&spec.key) {
                return Err(ConnectorError::config(spec.key, "is set more than once"));
            }
            seen.push(spec.key);
            if value.trim().is_empty() {
                return Err(ConnectorError::config(spec.key, "is empty"));
            }
            let value = match spec.kind {
                ConfigKind::Url => check_url(spec.key, value)?,
                _ => value.trim().to_string(),
            };
            values.push((spec.key, value));
        }
        for name in &config.secrets {
            let Some(spec) = spec(name) else {
                return Err(ConnectorError::config(
                    name.as_str(),
                    format!("unknown secret; accepted keys are: {}", key_list()),
                ));
            };
            if !spec.is_secret() {
                return Err(ConnectorError::config(
                    spec.key,
                    "is not a secret: put it in the settings, not with the secrets",
                ));
            }
            if seen.contains(&spec.key) {
                return Err(ConnectorError::config(spec.key, "is set more than once"));
            }
            seen.push(spec.key);
            secrets.push(spec.key);
        }

        let get = |key: &str| {
            values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        };
        let has = |key: &str| secrets.contains(&key) || values.iter().any(|(k, _)| *k == key);

        for spec in KEYS.iter().filter(|k| k.required) {
            if !has(spec.key) {
                let place = if spec.is_secret() {
                    "secret"
                } else {
                    "setting"
                };
                return Err(ConnectorError::config(
                    spec.key,
                    format!("required {place} is missing: {}", spec.description),
                ));
            }
        }

        let scim_url = get(SCIM_URL).unwrap_or_default();
        let directory_id = directory_id(&scim_url);
        let atlassian_api_url =
            get(ATLASSIAN_API_URL).unwrap_or_else(|| DEFAULT_ATLASSIAN_API_URL.to_string());

        let admin = match (get(SCIM_ORGANIZATION_ID), has(ADMIN_API_KEY)) {
            (None, false) => None,
            (Some(_), false) => {
                return Err(ConnectorError::config(
                    ADMIN_API_KEY,
                    "is missing: scim_organization_id is set, and the admin API needs the \
                     organization API key too",
                ));
            }
            (None, true) => {
                return Err(ConnectorError::config(
                    SCIM_ORGANIZATION_ID,
                    "is missing: admin_api_key is set, and the admin API needs the \
                     organization id too",
                ));
            }
            (Some(org_id), true) => {
                let Some(directory_id) = directory_id.clone() else {
                    return Err(ConnectorError::config(
                        SCIM_URL,
                        "has no directory id: with admin features configured it must end in \
                         /scim/directory/{directoryId}",
                    ));
                };
                Some(AdminConfig {
                    api_url: atlassian_api_url.clone(),
                    org_id,
                    directory_id,
                })
            }
        };

        let product_credentials = match (get(PRODUCT_USER).is_some(), has(PRODUCT_TOKEN)) {
            (false, false) => false,
            (true, false) => {
                return Err(ConnectorError::config(
                    PRODUCT_TOKEN,
                    "is missing: product_user is set, and product discovery needs its API token",
                ));
            }
            (false, true) => {
                return Err(ConnectorError::config(
                    PRODUCT_USER,
                    "is missing: product_token is set, and product discovery needs the \
                     account email it belongs to",
                ));
            }
            (true, true) => true,
        };
        let site_url = get(SITE_URL);
        let bitbucket_workspace = get(BITBUCKET_WORKSPACE);
        if product_credentials && site_url.is_none() && bitbucket_workspace.is_none() {
            return Err(ConnectorError::config(
                SITE_URL,
                "is missing: product credentials are set, so set site_url (Jira, Confluence) \
                 or bitbucket_workspace (Bitbucket)",
            ));
        }

        let protected_users: Vec<String> = get(PROTECTED_USERS)
            .map(|v| {
                let mut out = Vec::new();
                for p in v.split(',') {
                    out.push(crate::text::fold_case(p.trim()));
                }
                out
            })
            .unwrap_or_default();
        if protected_users.iter().any(String::is_empty) {
            return Err(ConnectorError::config(
                PROTECTED_USERS,
                "has an empty entry: list emails or account ids separated by commas",
            ));
        }

        let revoke_api_tokens = match get(REVOKE_API_TOKENS).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(ConnectorError::config(
                    REVOKE_API_TOKENS,
                    "must be true or false",
                ));
            }
        };
        if revoke_api_tokens && admin.is_none() {
            return Err(ConnectorError::config(
                ADMIN_API_KEY,
                "is not configured: revoke_api_tokens needs the organization API key",
            ));
        }

        Ok(ConnectorConfig {
            scim: ScimConfig {
                url: scim_url,
                directory_id,
            },
            admin,
            atlassian_api_url,
            product_credentials,
            site_url,
            bitbucket_api_url: get(BITBUCKET_API_URL)
                .unwrap_or_else(|| DEFAULT_BITBUCKET_API_URL.to_string()),
            bitbucket_workspace,
            instance_name: get(INSTANCE_NAME),
            protected_users,
            revoke_api_tokens,
            admin_api_key_label: get(ADMIN_API_KEY_LABEL),
        })
    }

    /// `policy-denied` naming the first of `ids` (emails or account ids, any case) that
    /// `protected_users` lists.
    pub fn refuse_protected(&self, ids: &[Option<&str>]) -> Result<(), ConnectorError> {
        for id in ids.iter().flatten() {
            if self.protected_users.contains(&crate::text::fold_case(id)) {
                return Err(ConnectorError::PolicyDenied(format!(
                    "`{id}` is a protected user (protected_users): nothing was changed"
                )));
            }
        }
        Ok(())
    }

    /// The admin configuration, or `invalid-config` naming `admin_api_key` for admin-only
    /// actions on a SCIM-only configuration.
    pub fn require_admin(&self) -> Result<&AdminConfig, ConnectorError> {
        self.admin.as_ref().ok_or_else(|| {
            ConnectorError::config(
                ADMIN_API_KEY,
                "is not configured: this action needs the organization API key \
                 (admin_api_key, with scim_organization_id)",
            )
        })
    }
}

fn key_list() -> String {
    let mut out = String::new();
    for (i, k) in KEYS.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k.key);
    }
    out
}

/// Checks a URL value and returns it normalized, without a trailing `/`.
fn check_url(key: &str, value: &str) -> Result<String, ConnectorError> {
    let url = base_url::parse(value).map_err(|why| ConnectorError::config(key, why))?;
    if url.scheme == "http" && !url.is_loopback() {
        return Err(ConnectorError::config(
            key,
            "must use https (plain http is allowed only for localhost, 127.0.0.0/8 or [::1])",
        ));
    }
    Ok(url.to_string())
}

/// The directory id of a SCIM base URL ending in `/scim/directory/{id}`, decoded.
pub fn directory_id(scim_url: &str) -> Option<String> {
    let url = base_url::parse(scim_url).ok()?;
    let segments: Vec<&str> = url.segments().collect();
    match segments.as_slice() {
        [.., scim, directory, id] if *scim == "scim" && *directory == "directory" => {
            let id = encode::decode(id);
            (!id.trim().is_empty()).then_some(id)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCIM: &str = "https://api.atlassian.com/scim/directory/dir-123";

    fn parse(
        settings: &[(&str, &str)],
        secrets: &[&str],
    ) -> Result<ConnectorConfig, ConnectorError> {
        ConnectorConfig::parse(&Config::new(settings, secrets))
    }

    fn err_key(settings: &[(&str, &str)], secrets: &[&str]) -> String {
        match parse(settings, secrets) {
            Err(ConnectorError::InvalidConfig(e)) => e.key,
            other => panic!("expected invalid-config, got {other:?}"),
        }
    }

    fn err_message(settings: &[(&str, &str)], secrets: &[&str]) -> String {
        match parse(settings, secrets) {
            Err(ConnectorError::InvalidConfig(e)) => e.message,
            other => panic!("expected invalid-config, got {other:?}"),
        }
    }

    fn full() -> Vec<(&'static str, &'static str)> {
        vec![
            (SCIM_URL, SCIM),
            (SCIM_ORGANIZATION_ID, "org-1"),
            (PRODUCT_USER, "bot@acme.com"),
            (INSTANCE_NAME, "acme-prod"),
            (ATLASSIAN_API_URL, "https://api.atlassian.com/"),
            (SITE_URL, "https://acme.atlassian.net/"),
            (BITBUCKET_API_URL, "https://api.bitbucket.org"),
            (BITBUCKET_WORKSPACE, "acme"),
        ]
    }
    const ALL_SECRETS: &[&str] = &[SCIM_TOKEN, ADMIN_API_KEY, PRODUCT_TOKEN];

    #[test]
    fn scim_only_config_is_valid() {
        let c = parse(&[(SCIM_URL, SCIM)], &[SCIM_TOKEN]).unwrap();
        assert_eq!(c.scim.url, SCIM);
        assert_eq!(c.scim.directory_id.as_deref(), Some("dir-123"));
        assert_eq!(c.admin, None);
        assert!(!c.product_credentials);
        assert_eq!(c.atlassian_api_url, DEFAULT_ATLASSIAN_API_URL);
        assert_eq!(c.bitbucket_api_url, DEFAULT_BITBUCKET_API_URL);
        let e = c.require_admin().unwrap_err();
        assert_eq!(e.config_key(), Some(ADMIN_API_KEY));
    }

    #[test]
    fn full_config_is_valid_and_trimmed() {
        let c = parse(&full(), ALL_SECRETS).unwrap();
        let admin = c.require_admin().unwrap();
        assert_eq!(admin.org_id, "org-1");
        assert_eq!(admin.directory_id, "dir-123");
        assert_eq!(admin.api_url, "https://api.atlassian.com");
        assert!(c.product_credentials);
        assert_eq!(c.site_url.as_deref(), Some("https://acme.atlassian.net"));
        assert_eq!(c.bitbucket_workspace.as_deref(), Some("acme"));
        assert_eq!(c.instance_name.as_deref(), Some("acme-prod"));
    }

    #[test]
    fn text_values_are_trimmed() {
        let c = parse(
            &[(SCIM_URL, SCIM), (SCIM_ORGANIZATION_ID, " org-1\t")],
            &[SCIM_TOKEN, ADMIN_API_KEY],
        )
        .unwrap();
        assert_eq!(c.require_admin().map(|a| a.org_id.as_str()), Ok("org-1"));
    }

    #[test]
    fn required_keys() {
        assert_eq!(err_key(&[], &[]), SCIM_URL);
        assert_eq!(err_key(&[], &[SCIM_TOKEN]), SCIM_URL);
        assert_eq!(err_key(&[(SCIM_URL, SCIM)], &[]), SCIM_TOKEN);
        assert!(err_message(&[(SCIM_URL, SCIM)], &[]).contains("required secret is missing"));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert_eq!(
            err_key(&[(SCIM_URL, SCIM), ("scim_uri", "x")], &[SCIM_TOKEN]),
            "scim_uri"
        );
        assert!(
            err_message(&[(SCIM_URL, SCIM), ("scim_uri", "x")], &[SCIM_TOKEN])
                .contains("unknown setting")
        );
        assert_eq!(
            err_key(&[(SCIM_URL, SCIM)], &[SCIM_TOKEN, "password"]),
            "password"
        );
    }

    #[test]
    fn duplicates_are_rejected() {
        assert_eq!(
            err_key(&[(SCIM_URL, SCIM), (SCIM_URL, SCIM)], &[SCIM_TOKEN]),
            SCIM_URL
        );
        assert_eq!(
            err_key(&[(SCIM_URL, SCIM)], &[SCIM_TOKEN, SCIM_TOKEN]),
            SCIM_TOKEN
        );
    }

    #[test]
    fn misplaced_secrets_and_settings() {
        let m = err_message(&[(SCIM_URL, SCIM), (SCIM_TOKEN, "abc")], &[SCIM_TOKEN]);
        assert!(m.contains("is a secret"), "{m}");
        assert!(
            !m.contains("abc"),
            "a misplaced secret value must not be echoed: {m}"
        );
        assert_eq!(
            err_key(&[(SCIM_URL, SCIM), (SCIM_TOKEN, "abc")], &[]),
            SCIM_TOKEN
        );
        assert_eq!(
            err_key(&[(SCIM_URL, SCIM)], &[SCIM_TOKEN, SCIM_URL]),
            SCIM_URL
        );
        assert!(err_message(&[(SCIM_URL, SCIM)], &[SCIM_TOKEN, SCIM_URL]).contains("settings"));
    }

    #[test]
    fn empty_values_are_rejected() {
        assert_eq!(err_key(&[(SCIM_URL, "")], &[SCIM_TOKEN]), SCIM_URL);
        assert_eq!(
            err_key(&[(SCIM_URL, SCIM), (INSTANCE_NAME, "  ")], &[SCIM_TOKEN]),
            INSTANCE_NAME
        );
    }

    #[test]
    fn url_rules() {
        let bad = [
            "http://api.atlassian.com/scim/directory/d",
            "ftp://api.atlassian.com/scim/directory/d",
            "not a url",
            "/scim/directory/d",
            "https://user:pw@api.atlassian.com/scim/directory/d",
            "https://api.atlassian.com/scim/directory/d?x=1",
            "https://api.atlassian.com/scim/directory/d#frag",
            "http://10.0.0.1/scim/directory/d",
            "http://localhost.evil.com/scim/directory/d",
        ];
        for url in bad {
            assert_eq!(
                err_key(&[(SCIM_URL, url)], &[SCIM_TOKEN]),
                SCIM_URL,
                "{url}"
            );
        }
        let m = err_message(&[(SCIM_URL, bad[4])], &[SCIM_TOKEN]);
        assert!(!m.contains("pw"), "{m}");
        assert!(err_message(&[(SCIM_URL, bad[0])], &[SCIM_TOKEN]).contains("https"));
        for url in [
            "http://localhost:8080/scim/directory/d",
            "http://127.0.0.1:1/scim/directory/d",
            "http://127.9.9.9/scim/directory/d/",
            "http://[::1]:9/scim/directory/d",
            "HTTPS://API.atlassian.com/scim/directory/d/",
        ] {
            let c = parse(&[(SCIM_URL, url)], &[SCIM_TOKEN]).unwrap();
            assert!(!c.scim.url.ends_with('/'), "{}", c.scim.url);
            assert_eq!(c.scim.directory_id.as_deref(), Some("d"), "{url}");
        }
        // Other URL keys follow the same rules and are named.
        let mut s = full();
        s.push((SITE_URL, "http://acme.atlassian.net"));
        s.retain(|(k, v)| *k != SITE_URL || v.starts_with("http:"));
        assert_eq!(err_key(&s, ALL_SECRETS), SITE_URL);
        let mut s = full();
        s.retain(|(k, _)| *k != ATLASSIAN_API_URL);
        s.push((ATLASSIAN_API_URL, "http://api.atlassian.com"));
        assert_eq!(err_key(&s, ALL_SECRETS), ATLASSIAN_API_URL);
    }

    #[test]
    fn directory_id_rules() {
        assert_eq!(directory_id(SCIM).as_deref(), Some("dir-123"));
        assert_eq!(
            directory_id("https://h/prefix/scim/directory/a%20b").as_deref(),
            Some("a b")
        );
        assert_eq!(directory_id("https://h/scim/directory/"), None);
        assert_eq!(directory_id("https://h/scim/directory/d/Users"), None);
        assert_eq!(directory_id("https://h/scim"), None);
        // Without admin features a URL without directory id is fine...
        let c = parse(&[(SCIM_URL, "https://h/scim")], &[SCIM_TOKEN]).unwrap();
        assert_eq!(c.scim.directory_id, None);
        // ...with them it is an error naming scim_url.
        assert_eq!(
            err_key(
                &[(SCIM_URL, "https://h/scim"), (SCIM_ORGANIZATION_ID, "o")],
                &[SCIM_TOKEN, ADMIN_API_KEY]
            ),
            SCIM_URL
        );
    }

    #[test]
    fn pairs_name_the_missing_half() {
        assert_eq!(
            err_key(&[(SCIM_URL, SCIM)], &[SCIM_TOKEN, ADMIN_API_KEY]),
            SCIM_ORGANIZATION_ID
        );
        assert_eq!(
            err_key(
                &[(SCIM_URL, SCIM), (SCIM_ORGANIZATION_ID, "o")],
                &[SCIM_TOKEN]
            ),
            ADMIN_API_KEY
        );
        assert_eq!(
            err_key(
                &[
                    (SCIM_URL, SCIM),
                    (PRODUCT_USER, "u"),
                    (SITE_URL, "https://a.net")
                ],
                &[SCIM_TOKEN]
            ),
            PRODUCT_TOKEN
        );
        assert_eq!(
            err_key(
                &[(SCIM_URL, SCIM), (SITE_URL, "https://a.net")],
                &[SCIM_TOKEN, PRODUCT_TOKEN]
            ),
            PRODUCT_USER
        );
        assert_eq!(
            err_key(
                &[(SCIM_URL, SCIM), (PRODUCT_USER, "u")],
                &[SCIM_TOKEN, PRODUCT_TOKEN]
            ),
            SITE_URL
        );
        // Bitbucket alone is enough for product credentials.
        let c = parse(
            &[
                (SCIM_URL, SCIM),
                (PRODUCT_USER, "u"),
                (BITBUCKET_WORKSPACE, "w"),
            ],
            &[SCIM_TOKEN, PRODUCT_TOKEN],
        )
        .unwrap();
        assert!(c.product_credentials);
        assert_eq!(c.site_url, None);
    }

    #[test]
    fn schema_comes_from_the_table() {
        let s = schema();
        assert_eq!(s.len(), KEYS.len());
        let required: Vec<&str> = s.iter().filter(|k| k.required).map(|k| k.key).collect();
        assert_eq!(required, vec![SCIM_URL, SCIM_TOKEN]);
        let secret: Vec<&str> = s.iter().filter(|k| k.is_secret()).map(|k| k.key).collect();
        assert_eq!(secret, vec![SCIM_TOKEN, ADMIN_API_KEY, PRODUCT_TOKEN]);
        assert!(s.iter().all(|k| !k.description.is_empty()));
    }
}
