//! Tenant secrets: values the host holds and injects by name, and never shows.

use std::collections::BTreeMap;
use std::fmt;

/// A secret value. Its `Debug` and `Display` are redacted, so it cannot reach a log or an
/// error message by accident; the only way to the value is [`SecretValue::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value read from a trusted source (config file, secret store, stdin).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Call only where it is put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A tenant's secrets by key name (for example `scim_token`).
#[derive(Clone, Default, Debug)]
pub struct Secrets(BTreeMap<String, SecretValue>);

impl Secrets {
    /// Adds or replaces a secret.
    pub fn insert(&mut self, key: impl Into<String>, value: SecretValue) {
        self.0.insert(key.into(), value);
    }

    /// Removes a secret, returning it if it was there.
    pub fn remove(&mut self, key: &str) -> Option<SecretValue> {
        self.0.remove(key)
    }

    /// Looks a secret up by key name.
    pub fn get(&self, key: &str) -> Option<&SecretValue> {
        self.0.get(key)
    }

    /// The key names, which are all the guest ever learns about secrets.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Every secret value, for scanning output that must not contain any of them.
    pub fn values(&self) -> impl Iterator<Item = &SecretValue> {
        self.0.values()
    }
}

impl FromIterator<(String, SecretValue)> for Secrets {
    fn from_iter<I: IntoIterator<Item = (String, SecretValue)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}
