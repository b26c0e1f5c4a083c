//! Host-side bindings of every contract version this host runs, generated from `wit/`, and
//! the dispatch between them (the pattern of Zed's extension host).
//!
//! [`v0_2_0`] is the current contract: its types ([`types`], [`http_client`]) are the ones the
//! host's API speaks. [`v0_1_0`] is frozen (`wit/since_v0.1.0/`); a component built against it
//! runs through its own binding, its arguments converted down and its answers converted up
//! ([`v0_1_0`]'s conversions). [`ContractVersion::of`] reads which version a component
//! exports, at load; an unknown version is refused with the versions this host runs.
//!
//! The generated types derive `Serialize` with their Rust case names (`UpdateUser`); the host
//! writes JSON through [`crate::json`], which spells every case as the WIT does
//! (`update-user`). They do not derive `Deserialize`: the host reads back only its own
//! records (audit log, batch journal), never a contract value.

pub mod v0_1_0;
pub mod v0_2_0;

pub use v0_2_0::{http_client, types};

/// The package every contract version's interfaces belong to.
pub const PACKAGE: &str = "lifecycle:connector";

/// A version of the contract this host can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum ContractVersion {
    /// `lifecycle:connector@0.1.0`, frozen in `wit/since_v0.1.0/`.
    #[serde(rename = "0.1.0")]
    V0_1_0,
    /// `lifecycle:connector@0.2.0`, the current contract (`wit/since_v0.2.0/`).
    #[serde(rename = "0.2.0")]
    V0_2_0,
}

impl ContractVersion {
    /// Every version this host runs, oldest first.
    pub const ALL: [ContractVersion; 2] = [ContractVersion::V0_1_0, ContractVersion::V0_2_0];

    /// The version's semver text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V0_1_0 => "0.1.0",
            Self::V0_2_0 => "0.2.0",
        }
    }

    /// The version named by semver text, if this host runs it.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }

    /// The contract version a component was built against, read from the name of its
    /// `lifecycle` export (`lifecycle:connector/lifecycle@X.Y.Z`).
    ///
    /// `Err` says what the component exports instead: no `lifecycle` interface at all, or a
    /// version this host does not run (the text names the versions it does).
    pub fn of<'a>(exports: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let prefix = format!("{PACKAGE}/lifecycle@");
        let mut found = Vec::new();
        for name in exports {
            if let Some(version) = name.strip_prefix(&prefix) {
                if let Some(known) = Self::parse(version) {
                    return Ok(known);
                }
                found.push(version.to_owned());
            }
        }
        let supported: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
        Err(if found.is_empty() {
            format!(
                "the component exports no `{prefix}…` interface: it is not a lifecycle connector"
            )
        } else {
            format!(
                "the component implements contract version {} of `{PACKAGE}`; this host runs {}",
                found.join(", "),
                supported.join(" and ")
            )
        })
    }
}

impl std::fmt::Display for ContractVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_read_from_the_lifecycle_export() {
        let v1 = ["wasi:cli/run@0.2.0", "lifecycle:connector/lifecycle@0.1.0"];
        assert_eq!(ContractVersion::of(v1), Ok(ContractVersion::V0_1_0));
        let v2 = ["lifecycle:connector/lifecycle@0.2.0"];
        assert_eq!(ContractVersion::of(v2), Ok(ContractVersion::V0_2_0));
    }

    #[test]
    fn an_unknown_version_is_refused_naming_the_ones_that_run() {
        let err = ContractVersion::of(["lifecycle:connector/lifecycle@9.0.0"]).unwrap_err();
        assert!(
            err.contains("9.0.0") && err.contains("0.1.0 and 0.2.0"),
            "{err}"
        );
        let err = ContractVersion::of(["wasi:cli/run@0.2.0"]).unwrap_err();
        assert!(err.contains("not a lifecycle connector"), "{err}");
    }
}
