//! A tenant: one configured integration, read from the harness's TOML config file.
//!
//! ```toml
//! label = "acme-prod"               # connector settings at the top level
//! base_url = "https://api.example.com/directory/0b1c…"
//! organization_id = "5a1b…"
//!
//! [secrets]                                    # values the guest never sees
//! api_token = "…"
//! admin_key = "…"
//! ```
//!
//! A tenant holds no host policy: what the host lets any tenant reach (loopback, private
//! networks, the allowed upstream domains) is the operator's ([`crate::operator`]). A file
//! that still has the old `[host]` table is refused, so no tenant can grant itself loopback.

use std::collections::BTreeMap;
use std::path::Path;

use crate::secrets::{SecretValue, Secrets};

/// Why a config file could not be turned into a tenant.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// The file could not be read: missing, not a regular file, too large.
    #[error(transparent)]
    Read(#[from] crate::files::FileError),
    /// The file is not valid TOML of the expected shape. The message never quotes values.
    #[error("config file {path} is malformed: {message}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong, by key.
        message: String,
    },
}

/// Why a `[host]` table in a tenant's file is refused.
pub const HOST_TABLE_REFUSED: &str = "`[host]` is not a tenant setting: what the host lets a \
    tenant reach (loopback, private networks, allowed upstream domains) is the host operator's \
    policy, given with `--allow-loopback` or `--operator-config FILE`; remove the `[host]` table";

/// One tenant: the connector's non-secret settings and its secrets.
#[derive(Clone, Debug, Default)]
pub struct Tenant {
    /// Non-secret connector settings, passed to the guest as they are.
    pub settings: BTreeMap<String, String>,
    /// Secrets, injected by the host into requests by key name.
    pub secrets: Secrets,
}

impl Tenant {
    /// Sets a non-secret setting (builder style).
    pub fn with_setting(mut self, key: &str, value: impl Into<String>) -> Self {
        self.settings.insert(key.to_owned(), value.into());
        self
    }

    /// Sets a secret (builder style).
    pub fn with_secret(mut self, key: &str, value: impl Into<String>) -> Self {
        self.secrets.insert(key, SecretValue::new(value));
        self
    }

    /// Reads a tenant from a TOML config file.
    pub fn from_file(path: &Path) -> Result<Self, TenantError> {
        let text = crate::files::read_text(path, crate::files::Kind::Config)?;
        Self::from_toml(&text).map_err(|message| TenantError::Malformed {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses a tenant from TOML text. The error names keys and the type each needs, never a
    /// value: the file is read as a plain table first, so serde's "invalid type: integer
    /// `12345678901234`, expected a string" (which quotes what may be a secret) never forms.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            // toml's message may quote the offending line, which could hold a secret:
            // keep only the part before any quoted source.
            let msg = e.message().to_owned();
            match e.span() {
                Some(span) => format!("{msg} (at byte {})", span.start),
                None => msg,
            }
        })?;
        let mut file_settings = table;
        let secrets_table = match file_settings.remove("secrets") {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => t,
            Some(other) => {
                return Err(format!(
                    "`secrets` must be a table of strings, not {}",
                    other.type_str()
                ));
            }
        };
        let mut secrets = Secrets::default();
        for (key, value) in secrets_table {
            match value {
                toml::Value::String(v) => {
                    if let Some(reason) = SecretValue::check(&key, &v) {
                        return Err(reason);
                    }
                    secrets.insert(key, SecretValue::new(v))
                }
                other => {
                    return Err(format!(
                        "secret `{key}` must be a string, not {}",
                        other.type_str()
                    ));
                }
            }
        }
        let mut settings = BTreeMap::new();
        for (key, value) in file_settings {
            if key == "host" && value.is_table() {
                return Err(HOST_TABLE_REFUSED.to_owned());
            }
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Array(items) => items
                    .into_iter()
                    .map(|v| match v {
                        toml::Value::String(s) => Ok(s),
                        _ => Err(format!("`{key}` must be a list of strings")),
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","),
                other => {
                    return Err(format!(
                        "`{key}` must be a string, not {}",
                        other.type_str()
                    ));
                }
            };
            settings.insert(key, value);
        }
        Ok(Self { settings, secrets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_settings_and_secrets() {
        let t = Tenant::from_toml(
            "label = \"acme\"\nbase_url = \"https://x/directory/d\"\n\
             [secrets]\napi_token = \"s3cr3t\"\n",
        )
        .unwrap();
        assert_eq!(t.settings.get("label").map(String::as_str), Some("acme"));
        assert_eq!(t.settings.len(), 2);
        assert_eq!(t.secrets.get("api_token").unwrap().expose(), "s3cr3t");
        assert!(!format!("{t:?}").contains("s3cr3t"));
    }

    #[test]
    fn a_tenant_cannot_grant_itself_host_policy() {
        for text in [
            "base_url = \"http://127.0.0.1:1/directory/d\"\n[host]\nallow_http_loopback = true\n",
            "[host]\n",
            "host = { allow_loopback = true }\n",
        ] {
            let err = Tenant::from_toml(text).unwrap_err();
            assert_eq!(err, HOST_TABLE_REFUSED, "{text}");
        }
    }

    #[test]
    fn type_errors_name_the_key_and_the_type_never_the_value() {
        let err = Tenant::from_toml("[secrets]\napi_token = 12345678901234\n").unwrap_err();
        assert!(!err.contains("12345678901234"), "{err}");
        assert!(
            err.contains("`api_token`") && err.contains("string"),
            "{err}"
        );
        let err = Tenant::from_toml("secrets = 98765432109876\n").unwrap_err();
        assert!(
            !err.contains("98765432109876") && err.contains("`secrets`"),
            "{err}"
        );
        let err = Tenant::from_toml("base_url = { a = \"s3cr3t-x\" }\n").unwrap_err();
        assert!(
            !err.contains("s3cr3t") && err.contains("`base_url`"),
            "{err}"
        );
    }

    #[test]
    fn malformed_file_errors_never_quote_secret_values() {
        let err = Tenant::from_toml("[secrets]\napi_token = s3cr3t-unquoted\n").unwrap_err();
        assert!(!err.contains("s3cr3t"), "{err}");
        let err = Tenant::from_toml("[other]\nunknown = 1\n").unwrap_err();
        assert!(err.contains("other"), "{err}");
        let err = Tenant::from_toml("[secrets]\napi_token = 5\n").unwrap_err();
        assert!(!err.contains('5') || err.contains("byte"), "{err}");
    }
}
