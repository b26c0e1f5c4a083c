//! Saved integrations: one tenant config per integration, kept in the harness's home directory
//! with owner-only permissions, written atomically (a temporary file, synced, then renamed) so a
//! crash never leaves half an integration behind.
//!
//! ```text
//! $HOST_HARNESS_HOME/                 (default: $XDG_CONFIG_HOME/host-harness, ~/.config/host-harness)
//!   audit.jsonl                       the audit log
//!   batches/                          0700, one journal per batch (see [`crate::batch::journal`])
//!   integrations/                     0700
//!     acme-prod.toml                  0600, the tenant config format of [`lifecycle_host::tenant`]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use lifecycle_host::tenant::{Tenant, TenantError};

/// Why an integration could not be found, read or saved.
#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    /// No integration of that name is saved.
    #[error("no integration named `{name}` (saved: {})", if .known.is_empty() { "none; create one with `host-harness connect`".to_owned() } else { .known.join(", ") })]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// An integration of that name already exists.
    #[error(
        "an integration named `{0}` already exists: use `host-harness integrations update {0}` to change it, or remove it first"
    )]
    Exists(String),
    /// The name cannot be used as an integration name.
    #[error(
        "`{0}` is not a valid integration name: use 1 to 64 letters, digits, `-`, `_` or `.`, starting with a letter or digit"
    )]
    InvalidName(String),
    /// The stored file is unreadable or malformed.
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// The home directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Neither `HOST_HARNESS_HOME`, `XDG_CONFIG_HOME` nor `HOME` is set.
    #[error("cannot find a home directory: set HOST_HARNESS_HOME or pass --home")]
    NoHome,
}

/// The harness's home directory: saved integrations and the audit log.
#[derive(Clone, Debug)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// The home at `root`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `explicit` if given (the `--home` flag or `HOST_HARNESS_HOME`), else
    /// `$XDG_CONFIG_HOME/host-harness`, else `~/.config/host-harness`.
    pub fn resolve(explicit: Option<&Path>) -> Result<Self, IntegrationError> {
        if let Some(root) = explicit {
            return Ok(Self::at(root));
        }
        std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .map(|d| Self::at(d.join("host-harness")))
            .ok_or(IntegrationError::NoHome)
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The audit log's path.
    pub fn audit_log(&self) -> PathBuf {
        self.root.join("audit.jsonl")
    }

    fn integrations_dir(&self) -> PathBuf {
        self.root.join("integrations")
    }

    fn file(&self, name: &str) -> Result<PathBuf, IntegrationError> {
        validate_name(name)?;
        Ok(self.integrations_dir().join(format!("{name}.toml")))
    }

    /// The names of every saved integration, sorted.
    pub fn names(&self) -> Result<Vec<String>, IntegrationError> {
        let dir = self.integrations_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(io_error(&dir, source)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| io_error(&dir, e))?.path();
            if path.extension().is_some_and(|e| e == "toml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && validate_name(stem).is_ok()
            {
                names.push(stem.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// True when an integration of that name is saved.
    pub fn exists(&self, name: &str) -> Result<bool, IntegrationError> {
        Ok(self.file(name)?.is_file())
    }

    /// Loads a saved integration.
    pub fn load(&self, name: &str) -> Result<Tenant, IntegrationError> {
        let path = self.file(name)?;
        if !path.is_file() {
            return Err(IntegrationError::Unknown {
                name: name.to_owned(),
                known: self.names()?,
            });
        }
        Ok(Tenant::from_file(&path)?)
    }

    /// Saves an integration, replacing one of the same name only when `replace` is set. The
    /// file is owner-only from its first byte and appears whole or not at all.
    pub fn save(&self, name: &str, tenant: &Tenant, replace: bool) -> Result<(), IntegrationError> {
        use lifecycle_host::files::{FileError, Kind, Replace};
        let path = self.file(name)?;
        if !replace && path.exists() {
            return Err(IntegrationError::Exists(name.to_owned()));
        }
        // The home directory too is owner-only when this creates it.
        create_private_dir(&self.root)?;
        let text = to_toml(tenant);
        let mode = if replace { Replace::Yes } else { Replace::No };
        // Without `replace`, the final link fails if the name appeared since the check above:
        // of concurrent `connect`s of one name exactly one saves.
        match lifecycle_host::files::write_private(&path, text.as_bytes(), Kind::Config, mode) {
            Ok(()) => Ok(()),
            Err(FileError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                Err(IntegrationError::Exists(name.to_owned()))
            }
            Err(FileError::Io { source, .. }) => Err(io_error(&path, source)),
            Err(other) => Err(io_error(&path, std::io::Error::other(other.to_string()))),
        }
    }

    /// Removes a saved integration.
    pub fn remove(&self, name: &str) -> Result<(), IntegrationError> {
        let path = self.file(name)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(IntegrationError::Unknown {
                name: name.to_owned(),
                known: self.names()?,
            }),
            Err(source) => Err(io_error(&path, source)),
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> IntegrationError {
    IntegrationError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn validate_name(name: &str) -> Result<(), IntegrationError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(IntegrationError::InvalidName(name.to_owned()))
    }
}

fn create_private_dir(dir: &Path) -> Result<(), IntegrationError> {
    lifecycle_host::files::create_private_dir(dir).map_err(|e| io_error(dir, e))
}

#[derive(Serialize)]
struct File<'a> {
    #[serde(flatten)]
    settings: &'a BTreeMap<String, String>,
    secrets: BTreeMap<&'a str, &'a str>,
}

/// The tenant in the config file format [`Tenant::from_toml`] reads.
fn to_toml(tenant: &Tenant) -> String {
    let file = File {
        settings: &tenant.settings,
        secrets: tenant
            .secrets
            .names()
            .filter_map(|k| tenant.secrets.get(k).map(|v| (k, v.expose())))
            .collect(),
    };
    // Strings and maps of strings always serialise.
    toml::to_string(&file).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Tenant {
        Tenant::default()
            .with_setting("instance_name", "acme")
            .with_setting("scim_url", "https://api.atlassian.com/scim/directory/d")
            .with_secret("scim_token", "tok\"en = 1")
    }

    #[test]
    fn saves_owner_only_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        home.save("acme", &tenant(), false).unwrap();
        let back = home.load("acme").unwrap();
        assert_eq!(back.settings, tenant().settings);
        assert_eq!(
            back.secrets.get("scim_token").unwrap().expose(),
            "tok\"en = 1"
        );
        assert_eq!(home.names().unwrap(), ["acme"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir.path().join("integrations/acme.toml")), 0o600);
            assert_eq!(mode(&dir.path().join("integrations")), 0o700);
        }
    }

    #[test]
    fn a_saved_integration_with_host_policy_is_refused_on_load() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        home.save("acme", &tenant(), false).unwrap();
        let path = dir.path().join("integrations/acme.toml");
        let mut text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("[host]"), "{text}");
        text.push_str("\n[host]\nallow_http_loopback = true\n");
        std::fs::write(&path, text).unwrap();
        let err = home.load("acme").unwrap_err().to_string();
        assert!(
            err.contains(lifecycle_host::tenant::HOST_TABLE_REFUSED),
            "{err}"
        );
        assert!(!err.contains("tok"), "{err}");
    }

    #[test]
    fn refuses_duplicates_unknown_names_and_path_tricks() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path());
        home.save("acme", &tenant(), false).unwrap();
        assert!(matches!(
            home.save("acme", &tenant(), false),
            Err(IntegrationError::Exists(_))
        ));
        home.save("acme", &tenant(), true).unwrap();
        let err = home.load("other").unwrap_err();
        assert!(err.to_string().contains("saved: acme"), "{err}");
        for bad in ["../x", "", ".hidden", "a/b", "x y"] {
            assert!(matches!(
                home.load(bad),
                Err(IntegrationError::InvalidName(_))
            ));
        }
        home.remove("acme").unwrap();
        assert!(matches!(
            home.remove("acme"),
            Err(IntegrationError::Unknown { .. })
        ));
        assert!(home.names().unwrap().is_empty());
    }
}
