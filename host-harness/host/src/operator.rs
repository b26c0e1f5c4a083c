//! The host operator's egress policy: settings only the platform running the host may set,
//! never a tenant or a saved integration, so no integration can widen its own egress.
//!
//! - `allowed_domains`: the hosts a tenant-supplied URL (`scim_url`, `atlassian_api_url`,
//!   `site_url`, `bitbucket_api_url`) may name. A tenant URL naming any other host is
//!   `invalid-config` naming the key, before the connector runs. Patterns: an exact name
//!   (`api.atlassian.com`), `*.` and a suffix for any name below it (`*.atlassian.net`, not
//!   `atlassian.net` itself), an IP address (`10.0.0.7`, `[fd00::7]`), or `*` for any host.
//!   Default: [`DEFAULT_ALLOWED_DOMAINS`].
//! - `allow_loopback`: connections to loopback addresses, plain `http://` to a loopback host,
//!   and loopback hosts (`localhost`, 127.0.0.0/8, `[::1]`) in tenant URLs. Off by default;
//!   the local simulator's mode.
//! - `allow_private_networks`: connections to private and unique-local addresses. Off by
//!   default.
//!
//! Every other blocked range of [`crate::network`] (link-local, the metadata service,
//! multicast, unspecified, reserved) stays blocked whatever the operator says.
//!
//! As a file (`host-harness --operator-config FILE`):
//!
//! ```toml
//! allowed_domains = ["api.atlassian.com", "*.atlassian.net", "api.bitbucket.org"]
//! allow_loopback = false
//! allow_private_networks = false
//! ```

use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::network::AddressRules;
use crate::tenant::Tenant;

/// The hosts tenant-supplied URLs may name unless the operator says otherwise: Atlassian's
/// public API hosts.
pub const DEFAULT_ALLOWED_DOMAINS: &[&str] =
    &["api.atlassian.com", "*.atlassian.net", "api.bitbucket.org"];

/// The tenant settings that hold upstream URLs, checked against the allowed domains.
pub const TENANT_URL_KEYS: &[&str] = &[
    "scim_url",
    "atlassian_api_url",
    "site_url",
    "bitbucket_api_url",
];

/// One entry of `allowed_domains`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainPattern(Pattern);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    Any,
    Exact(String),
    Below(String),
    Ip(IpAddr),
}

impl DomainPattern {
    /// Parses a pattern: `name`, `*.suffix`, an IP address (IPv6 with or without brackets)
    /// or `*`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim().to_ascii_lowercase();
        let bare = t.trim_start_matches('[').trim_end_matches(']');
        if t == "*" {
            return Ok(Self(Pattern::Any));
        }
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Self(Pattern::Ip(ip)));
        }
        let (below, name) = match t.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, t.as_str()),
        };
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
            return Err(format!(
                "`{text}` is not a domain pattern: use a host name, `*.` and a domain, an IP \
                 address, or `*`"
            ));
        }
        Ok(Self(if below {
            Pattern::Below(name.to_owned())
        } else {
            Pattern::Exact(name.to_owned())
        }))
    }

    /// True when the pattern covers `host`.
    pub fn matches(&self, host: &Host<&str>) -> bool {
        match (&self.0, host) {
            (Pattern::Any, _) => true,
            (Pattern::Exact(name), Host::Domain(d)) => d.eq_ignore_ascii_case(name),
            (Pattern::Below(suffix), Host::Domain(d)) => {
                let d = d.to_ascii_lowercase();
                d.len() > suffix.len() + 1
                    && d.ends_with(suffix.as_str())
                    && d.as_bytes()[d.len() - suffix.len() - 1] == b'.'
            }
            (Pattern::Ip(ip), Host::Ipv4(v4)) => *ip == IpAddr::V4(*v4),
            (Pattern::Ip(ip), Host::Ipv6(v6)) => *ip == IpAddr::V6(*v6),
            _ => false,
        }
    }
}

impl std::fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Pattern::Any => f.write_str("*"),
            Pattern::Exact(name) => f.write_str(name),
            Pattern::Below(suffix) => write!(f, "*.{suffix}"),
            Pattern::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            Pattern::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
        }
    }
}

impl TryFrom<String> for DomainPattern {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl From<DomainPattern> for String {
    fn from(p: DomainPattern) -> String {
        p.to_string()
    }
}

/// The operator's egress policy. It lives in the host's options
/// ([`crate::RuntimeOptions::operator`], [`crate::LoadedConnector::with_operator`]), never in a
/// tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorPolicy {
    /// Hosts tenant-supplied URLs may name.
    #[serde(default = "default_domains")]
    pub allowed_domains: Vec<DomainPattern>,
    /// Loopback addresses may be reached (plain http to a loopback host included), and
    /// tenant URLs may name loopback hosts: for local simulators.
    #[serde(default)]
    pub allow_loopback: bool,
    /// Private (RFC 1918, 100.64.0.0/10) and unique-local (fc00::/7) addresses may be reached.
    #[serde(default)]
    pub allow_private_networks: bool,
}

fn default_domains() -> Vec<DomainPattern> {
    DEFAULT_ALLOWED_DOMAINS
        .iter()
        .filter_map(|d| DomainPattern::parse(d).ok())
        .collect()
}

impl Default for OperatorPolicy {
    fn default() -> Self {
        Self {
            allowed_domains: default_domains(),
            allow_loopback: false,
            allow_private_networks: false,
        }
    }
}

/// A tenant URL naming a host outside the operator's allowed domains.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "names host `{host}`, which is not on the host operator's list of allowed upstream domains ({allowed})"
)]
pub struct DomainRefused {
    /// The setting, e.g. `scim_url`.
    pub key: String,
    /// The host it names.
    pub host: String,
    /// The allowed patterns, for the message.
    pub allowed: String,
}

impl OperatorPolicy {
    /// The default policy with loopback allowed: for the local simulator and tests.
    pub fn local_simulator() -> Self {
        Self::default().allowing_loopback()
    }

    /// The same policy with loopback allowed (builder style).
    pub fn allowing_loopback(mut self) -> Self {
        self.allow_loopback = true;
        self
    }

    /// The same policy with one more allowed domain pattern (builder style).
    pub fn allowing_domain(mut self, pattern: &str) -> Result<Self, String> {
        self.allowed_domains.push(DomainPattern::parse(pattern)?);
        Ok(self)
    }

    /// Reads a policy from a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = crate::files::read_text(path, crate::files::Kind::OperatorConfig)
            .map_err(|e| e.to_string())?;
        Self::from_toml(&text)
            .map_err(|e| format!("operator config {} is malformed: {e}", path.display()))
    }

    /// Parses a policy from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.message().to_owned())
    }

    /// The address exceptions the outbound client enforces after name resolution.
    pub fn address_rules(&self) -> AddressRules {
        AddressRules {
            allow_loopback: self.allow_loopback,
            allow_private_networks: self.allow_private_networks,
        }
    }

    /// True when a tenant URL may name `host`.
    pub fn allows_host(&self, host: &Host<&str>) -> bool {
        (self.allow_loopback && is_loopback_host(host))
            || self.allowed_domains.iter().any(|p| p.matches(host))
    }

    /// Checks every tenant-supplied URL against the allowed domains. A value that is not a
    /// URL at all is left to the connector, which reports it as `invalid-config` itself.
    pub fn check_tenant(&self, tenant: &Tenant) -> Result<(), DomainRefused> {
        for key in TENANT_URL_KEYS {
            let Some(url) = tenant.settings.get(*key).and_then(|v| Url::parse(v).ok()) else {
                continue;
            };
            if let Some(host) = url.host()
                && !self.allows_host(&host)
            {
                return Err(DomainRefused {
                    key: (*key).to_owned(),
                    host: host.to_string(),
                    allowed: self.describe_domains(),
                });
            }
        }
        Ok(())
    }

    fn describe_domains(&self) -> String {
        let mut parts: Vec<String> = self.allowed_domains.iter().map(|p| p.to_string()).collect();
        if self.allow_loopback {
            parts.push("loopback".into());
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
}

/// `localhost`, 127.0.0.0/8 or `[::1]`.
pub fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(url: &str) -> Host<String> {
        Url::parse(url).unwrap().host().unwrap().to_owned()
    }

    fn allows(p: &OperatorPolicy, url: &str) -> bool {
        let h = host(url);
        let h = match &h {
            Host::Domain(d) => Host::Domain(d.as_str()),
            Host::Ipv4(ip) => Host::Ipv4(*ip),
            Host::Ipv6(ip) => Host::Ipv6(*ip),
        };
        p.allows_host(&h)
    }

    #[test]
    fn the_default_list_is_atlassians_public_api_hosts() {
        let p = OperatorPolicy::default();
        for ok in [
            "https://api.atlassian.com/scim/directory/d",
            "https://API.Atlassian.com",
            "https://acme.atlassian.net",
            "https://a.b.atlassian.net",
            "https://api.bitbucket.org/2.0",
        ] {
            assert!(allows(&p, ok), "{ok}");
        }
        for refused in [
            "https://atlassian.net",
            "https://evilatlassian.net",
            "https://atlassian.net.evil.example",
            "https://api.atlassian.com.evil.example",
            "https://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "https://[::1]/",
            "https://internal.corp",
        ] {
            assert!(!allows(&p, refused), "{refused}");
        }
        let sim = OperatorPolicy::local_simulator();
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:2",
        ] {
            assert!(allows(&sim, ok), "{ok}");
        }
        assert!(!allows(&sim, "https://10.0.0.1"));
    }

    #[test]
    fn patterns_parse_strictly_and_round_trip_through_toml() {
        for bad in [
            "",
            "*.",
            "a..b",
            "*.*.x",
            "-a.example",
            "exa mple.com",
            "a*.b",
        ] {
            assert!(DomainPattern::parse(bad).is_err(), "{bad}");
        }
        let p = OperatorPolicy::from_toml(
            "allowed_domains = [\"*.Example.com\", \"10.0.0.7\", \"[fd00::7]\", \"*\"]\n\
             allow_private_networks = true\n",
        )
        .unwrap();
        assert!(p.allow_private_networks && !p.allow_loopback);
        let text: Vec<String> = p.allowed_domains.iter().map(|d| d.to_string()).collect();
        assert_eq!(text, ["*.example.com", "10.0.0.7", "[fd00::7]", "*"]);
        assert_eq!(
            OperatorPolicy::from_toml("").unwrap(),
            OperatorPolicy::default()
        );
        let err = OperatorPolicy::from_toml("allow_http_loopback = true").unwrap_err();
        assert!(err.contains("allow_http_loopback"), "{err}");
        let err = OperatorPolicy::from_toml("allowed_domains = [\"a b\"]").unwrap_err();
        assert!(err.contains("a b"), "{err}");
    }

    #[test]
    fn a_tenant_url_outside_the_list_names_its_key() {
        let p = OperatorPolicy::default();
        let good = Tenant::default()
            .with_setting("scim_url", "https://api.atlassian.com/scim/directory/d")
            .with_setting("site_url", "https://acme.atlassian.net")
            .with_setting("url", "https://anything.example");
        assert_eq!(p.check_tenant(&good), Ok(()));
        for key in TENANT_URL_KEYS {
            let bad = good
                .clone()
                .with_setting(key, "https://169.254.169.254/latest");
            let err = p.check_tenant(&bad).unwrap_err();
            assert_eq!(err.key, *key);
            assert_eq!(err.host, "169.254.169.254");
            assert!(err.to_string().contains("api.atlassian.com"), "{err}");
        }
        // Not a URL at all: the connector names it itself.
        assert_eq!(
            p.check_tenant(&good.with_setting("scim_url", "not a url")),
            Ok(())
        );
    }
}
