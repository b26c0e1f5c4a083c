//! The host operator's egress policy: settings only the platform running the host may set,
//! never a tenant or a saved integration, so no integration can widen its own egress.
//!
//! - `allowed_domains`: the hosts a tenant-supplied URL (any of the connector's declared
//!   `url` keys, see [`crate::egress::Declaration`]) may name. A tenant URL naming any other
//!   host is `invalid-config` naming the key, before the connector runs. Patterns: an exact
//!   name (`api.example.com`), `*.` and a suffix for any name below it (`*.example.net`, not
//!   `example.net` itself), an IP address (`10.0.0.7`, `[fd00::7]`), or `*` for any host.
//!   Default: `*` (a platform narrows it to the services its connectors talk to).
//! - `allow_loopback`: connections to loopback addresses, plain `http://` to a loopback host,
//!   and loopback hosts (`localhost`, 127.0.0.0/8, `[::1]`) in tenant URLs. Off by default;
//!   the local simulator's mode.
//! - `allow_private_networks`: connections to private and unique-local addresses. Off by
//!   default.
//!
//! Every other blocked range of [`crate::network`] (link-local, the metadata service,
//! multicast, unspecified, reserved) stays blocked whatever the operator says, whatever the
//! list of domains.
//!
//! As a file (TOML):
//!
//! ```toml
//! allowed_domains = ["api.example.com", "*.example.net"]
//! allow_loopback = false
//! allow_private_networks = false
//! ```

use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::egress::Declaration;
use crate::network::AddressRules;
use crate::tenant::Tenant;

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
    vec![DomainPattern(Pattern::Any)]
}

/// An operator file as written: every field optional, filled from a default policy.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    allowed_domains: Option<Vec<DomainPattern>>,
    allow_loopback: Option<bool>,
    allow_private_networks: Option<bool>,
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
    /// The setting, e.g. `base_url`.
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

    /// The default policy with exactly these allowed domain patterns.
    pub fn allowing_only(patterns: &[&str]) -> Result<Self, String> {
        Ok(Self {
            allowed_domains: patterns
                .iter()
                .map(|p| DomainPattern::parse(p))
                .collect::<Result<_, _>>()?,
            ..Self::default()
        })
    }

    /// The same policy with one more allowed domain pattern (builder style).
    pub fn allowing_domain(mut self, pattern: &str) -> Result<Self, String> {
        self.allowed_domains.push(DomainPattern::parse(pattern)?);
        Ok(self)
    }

    /// Reads a policy from a TOML file; what the file leaves out comes from `defaults`.
    pub fn from_file(path: &Path, defaults: &OperatorPolicy) -> Result<Self, String> {
        let text = crate::files::read_text(path, crate::files::Kind::OperatorConfig)
            .map_err(|e| e.to_string())?;
        Self::from_toml(&text, defaults)
            .map_err(|e| format!("operator config {} is malformed: {e}", path.display()))
    }

    /// Parses a policy from TOML text; what the text leaves out comes from `defaults`.
    pub fn from_toml(text: &str, defaults: &OperatorPolicy) -> Result<Self, String> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        Ok(Self {
            allowed_domains: file
                .allowed_domains
                .unwrap_or_else(|| defaults.allowed_domains.clone()),
            allow_loopback: file.allow_loopback.unwrap_or(defaults.allow_loopback),
            allow_private_networks: file
                .allow_private_networks
                .unwrap_or(defaults.allow_private_networks),
        })
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

    /// Checks every tenant-supplied URL (the values of the connector's declared URL keys)
    /// against the allowed domains. A value that is not a URL at all is left to the
    /// connector, which reports it as `invalid-config` itself.
    pub fn check_tenant(
        &self,
        tenant: &Tenant,
        declaration: &Declaration,
    ) -> Result<(), DomainRefused> {
        for key in declaration.url_keys() {
            let Some(url) = tenant.settings.get(key).and_then(|v| Url::parse(v).ok()) else {
                continue;
            };
            if let Some(host) = url.host()
                && !self.allows_host(&host)
            {
                return Err(DomainRefused {
                    key: key.to_owned(),
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
    fn a_list_covers_names_below_a_suffix_and_loopback_only_when_allowed() {
        let p = OperatorPolicy::allowing_only(&["api.example.com", "*.example.net"]).unwrap();
        for ok in [
            "https://api.example.com/dir/d",
            "https://API.Example.com",
            "https://acme.example.net",
            "https://a.b.example.net",
        ] {
            assert!(allows(&p, ok), "{ok}");
        }
        for refused in [
            "https://example.net",
            "https://evilexample.net",
            "https://example.net.evil.example",
            "https://api.example.com.evil.example",
            "https://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "https://[::1]/",
            "https://internal.corp",
        ] {
            assert!(!allows(&p, refused), "{refused}");
        }
        let sim = p.clone().allowing_loopback();
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:2",
        ] {
            assert!(allows(&sim, ok), "{ok}");
        }
        assert!(!allows(&sim, "https://10.0.0.1"));
        assert!(allows(
            &OperatorPolicy::default(),
            "https://anything.example"
        ));
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
        let defaults = OperatorPolicy::default();
        let p = OperatorPolicy::from_toml(
            "allowed_domains = [\"*.Example.com\", \"10.0.0.7\", \"[fd00::7]\", \"*\"]\n\
             allow_private_networks = true\n",
            &defaults,
        )
        .unwrap();
        assert!(p.allow_private_networks && !p.allow_loopback);
        let text: Vec<String> = p.allowed_domains.iter().map(|d| d.to_string()).collect();
        assert_eq!(text, ["*.example.com", "10.0.0.7", "[fd00::7]", "*"]);
        let narrow = OperatorPolicy::allowing_only(&["a.example"]).unwrap();
        assert_eq!(OperatorPolicy::from_toml("", &narrow).unwrap(), narrow);
        let err = OperatorPolicy::from_toml("allow_http_loopback = true", &defaults).unwrap_err();
        assert!(err.contains("allow_http_loopback"), "{err}");
        let err = OperatorPolicy::from_toml("allowed_domains = [\"a b\"]", &defaults).unwrap_err();
        assert!(err.contains("a b"), "{err}");
    }

    #[test]
    fn a_tenant_url_outside_the_list_names_its_key() {
        let p = OperatorPolicy::allowing_only(&["api.example.com", "*.example.net"]).unwrap();
        let declaration = crate::egress::tests::declaration();
        let good = Tenant::default()
            .with_setting("directory_url", "https://api.example.com/dir/d")
            .with_setting("portal_url", "https://acme.example.net")
            .with_setting("url", "https://anything.example");
        assert_eq!(p.check_tenant(&good, &declaration), Ok(()));
        let keys: Vec<&str> = declaration.url_keys().collect();
        assert_eq!(keys, ["directory_url", "api_url", "portal_url", "code_url"]);
        for key in keys {
            let bad = good
                .clone()
                .with_setting(key, "https://169.254.169.254/latest");
            let err = p.check_tenant(&bad, &declaration).unwrap_err();
            assert_eq!(err.key, key);
            assert_eq!(err.host, "169.254.169.254");
            assert!(err.to_string().contains("api.example.com"), "{err}");
        }
        // Not a URL at all: the connector names it itself.
        assert_eq!(
            p.check_tenant(
                &good.with_setting("directory_url", "not a url"),
                &declaration
            ),
            Ok(())
        );
    }
}
