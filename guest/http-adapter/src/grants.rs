//! The egress grants of one tenant, built from the connector's declared egress rules and the
//! tenant's settings, as the host builds them: a request must fall under a grant (scheme,
//! host, port, path prefix), and a secret travels only to a grant that lists it. Plain http
//! only to loopback, and only when the platform's configuration allows it; no credentials in
//! the URL, no dot segments; an IP-literal host must be a public address.

use std::net::IpAddr;

use url::{Host, Url};

/// One egress rule as the connector declares it (`describe`'s `egress`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    /// The `url` configuration key whose value is the base URL.
    pub url_key: String,
    /// Appended to the base URL's path.
    pub path_prefix: String,
    /// The secrets that may travel under this destination.
    pub secrets: Vec<String>,
    /// Keys whose presence brings a defaulted `url_key` into force.
    pub enabled_by: Vec<String>,
}

/// What the tenant configured, as far as the grants need it.
pub trait Configured {
    /// The value of a non-secret setting.
    fn setting(&self, key: &str) -> Option<&str>;
    /// True when a setting or a secret named `key` is set.
    fn is_set(&self, key: &str) -> bool;
}

/// One allowed destination.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Grant {
    scheme: String,
    host: String,
    port: u16,
    /// Always ends in `/`.
    prefix: String,
    secrets: Vec<String>,
}

impl Grant {
    fn covers(&self, url: &Url) -> bool {
        let path = url.path();
        url.scheme() == self.scheme
            && url.host_str().map(str::to_ascii_lowercase).as_deref() == Some(self.host.as_str())
            && url.port_or_known_default() == Some(self.port)
            && (path.starts_with(&self.prefix) || format!("{path}/") == self.prefix)
    }
}

/// The grants of one tenant.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    grants: Vec<Grant>,
    allow_loopback: bool,
}

impl Grants {
    /// The grants `rules` make for `tenant`; `defaults` are the `(key, default)` pairs of the
    /// schema's `url` keys. A rule is in force when its key is set, or when it has a default
    /// and one of its `enabled-by` keys is set. `allow_loopback` lets plain http reach
    /// loopback (for a local simulator); nothing else does.
    pub fn new(
        rules: &[Rule],
        defaults: &[(String, String)],
        tenant: &impl Configured,
        allow_loopback: bool,
    ) -> Self {
        let mut grants = Vec::new();
        for rule in rules {
            let base = match tenant.setting(&rule.url_key) {
                Some(value) => Some(value),
                None if rule.enabled_by.iter().any(|k| tenant.is_set(k)) => defaults
                    .iter()
                    .find(|(k, _)| *k == rule.url_key)
                    .map(|(_, d)| d.as_str()),
                None => None,
            };
            let Some(base) = base.and_then(|b| Url::parse(b).ok()) else {
                continue;
            };
            let (Some(host), Some(port)) = (base.host_str(), base.port_or_known_default()) else {
                continue;
            };
            let mut prefix = base.path().trim_end_matches('/').to_owned();
            prefix.push_str(&rule.path_prefix);
            if !prefix.ends_with('/') {
                prefix.push('/');
            }
            grants.push(Grant {
                scheme: base.scheme().to_owned(),
                host: host.to_ascii_lowercase(),
                port,
                prefix,
                secrets: rule.secrets.clone(),
            });
        }
        Self {
            grants,
            allow_loopback,
        }
    }

    /// How many destinations are granted.
    pub fn len(&self) -> usize {
        self.grants.len()
    }

    /// True when nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.grants.is_empty()
    }

    /// Checks a request's URL and the secret it names; the parsed URL when allowed, the rule
    /// that refused it otherwise.
    pub fn check(&self, raw: &str, secret: Option<&str>) -> Result<Url, String> {
        if dot_segment(raw) {
            return Err("dot segments in the path are refused".into());
        }
        let url = Url::parse(raw).map_err(|e| format!("malformed URL: {e}"))?;
        let loopback = url.host().is_some_and(|h| is_loopback(&h));
        match url.scheme() {
            "https" => {}
            "http" if loopback && self.allow_loopback => {}
            "http" if loopback => {
                return Err(
                    "plain http is refused (allowed only to loopback, and only when \
                            the platform's configuration allows loopback)"
                        .into(),
                );
            }
            "http" => return Err("plain http is refused; use https".into()),
            other => return Err(format!("scheme `{other}` is refused")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("credentials in the URL are refused".into());
        }
        let matching: Vec<&Grant> = self.grants.iter().filter(|g| g.covers(&url)).collect();
        if matching.is_empty() {
            return Err(format!(
                "{}://{}{} is not on the tenant's allow-list",
                url.scheme(),
                url.host_str().unwrap_or(""),
                url.port().map(|p| format!(":{p}")).unwrap_or_default()
            ));
        }
        let literal = match url.host() {
            Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal
            && let Some(rule) = blocked(ip, self.allow_loopback)
        {
            return Err(format!(
                "blocked address ({rule}): {} is a {rule} address; refused before connecting",
                url.host_str().unwrap_or("")
            ));
        }
        if let Some(secret) = secret
            && !matching
                .iter()
                .any(|g| g.secrets.iter().any(|s| s == secret))
        {
            return Err(format!(
                "secret `{secret}` may not be sent to {}",
                url.origin().ascii_serialization()
            ));
        }
        Ok(url)
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// The rule that blocks an IP literal, if any: only public unicast addresses are reached
/// (loopback too when `allow_loopback`). Names are resolved by the platform, which alone can
/// check the addresses they resolve to.
fn blocked(ip: IpAddr, allow_loopback: bool) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let rule = match ip {
        IpAddr::V4(v4) if v4.is_loopback() => "loopback",
        IpAddr::V4(v4) if v4.is_unspecified() => "unspecified",
        IpAddr::V4(v4) if v4.is_link_local() => "link-local",
        IpAddr::V4(v4) if v4.is_private() => "private",
        IpAddr::V4(v4) if v4.is_multicast() || v4.is_broadcast() => "multicast",
        IpAddr::V4(v4) if v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 => "shared",
        IpAddr::V6(v6) if v6.is_loopback() => "loopback",
        IpAddr::V6(v6) if v6.is_unspecified() => "unspecified",
        IpAddr::V6(v6) if v6.is_unicast_link_local() => "link-local",
        IpAddr::V6(v6) if v6.is_unique_local() => "unique-local",
        IpAddr::V6(v6) if v6.is_multicast() => "multicast",
        _ => return None,
    };
    (rule != "loopback" || !allow_loopback).then_some(rule)
}

/// True when the path of the raw URL text has a segment a URL parser would read as `.` or
/// `..` (literally or percent-encoded, `/` or `\` as the separator).
fn dot_segment(raw: &str) -> bool {
    let rest = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let Some(start) = rest.find(['/', '\\']) else {
        return false;
    };
    rest.get(start..).unwrap_or("").split(['/', '\\']).any(|s| {
        matches!(
            s.to_ascii_lowercase().as_str(),
            "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct T(BTreeMap<&'static str, &'static str>);

    impl Configured for T {
        fn setting(&self, key: &str) -> Option<&str> {
            self.0.get(key).copied()
        }
        fn is_set(&self, key: &str) -> bool {
            self.0.contains_key(key)
        }
    }

    fn rule(key: &str, prefix: &str, secrets: &[&str], enabled_by: &[&str]) -> Rule {
        Rule {
            url_key: key.into(),
            path_prefix: prefix.into(),
            secrets: secrets.iter().map(|s| (*s).into()).collect(),
            enabled_by: enabled_by.iter().map(|s| (*s).into()).collect(),
        }
    }

    fn grants(loopback: bool) -> Grants {
        let rules = [
            rule("directory_url", "", &["directory_token"], &[]),
            rule("api_url", "/admin/", &["api_key"], &["api_key"]),
            rule("ip_url", "", &[], &[]),
        ];
        let defaults = [("api_url".to_owned(), "https://api.example.com".to_owned())];
        let t = T([
            ("directory_url", "https://api.example.com/dir/d1"),
            ("api_key", "k"),
            ("ip_url", "https://10.0.0.1/x"),
        ]
        .into());
        Grants::new(&rules, &defaults, &t, loopback)
    }

    #[test]
    fn secrets_travel_only_to_their_own_destination() {
        let g = grants(false);
        assert_eq!(g.len(), 3);
        let dir = "https://api.example.com/dir/d1/Users";
        assert!(g.check(dir, Some("directory_token")).is_ok());
        assert!(g.check(dir, Some("api_key")).is_err());
        let admin = "https://api.example.com/admin/v2/orgs";
        assert!(g.check(admin, Some("api_key")).is_ok());
        assert!(g.check(admin, Some("directory_token")).is_err());
    }

    #[test]
    fn other_hosts_paths_schemes_and_tricks_are_refused() {
        let g = grants(true);
        for url in [
            "https://evil.example.com/dir/d1/Users",
            "https://api.example.com/dir/d2/Users",
            "https://api.example.com:8443/admin/v2",
            "http://api.example.com/admin/v2",
            "ftp://api.example.com/admin/",
            "https://u:p@api.example.com/admin/v2",
            "https://api.example.com/dir/d1/../d2",
            "https://api.example.com/dir/d1/%2E%2E/d2",
            "https://api.example.com/dir/d1\\..\\d2",
            "https://10.0.0.1/x/y",
            "not a url",
        ] {
            assert!(g.check(url, None).is_err(), "{url} should be refused");
        }
        assert!(
            g.check("https://api.example.com/dir/d1/U?a=../b", None)
                .is_ok()
        );
    }

    #[test]
    fn plain_http_reaches_loopback_only_when_allowed() {
        let rules = [rule("directory_url", "", &[], &[])];
        let t = T([("directory_url", "http://127.0.0.1:9/dir")].into());
        let url = "http://127.0.0.1:9/dir/Users";
        let err = Grants::new(&rules, &[], &t, false)
            .check(url, None)
            .unwrap_err();
        assert!(err.contains("plain http"), "{err}");
        assert!(Grants::new(&rules, &[], &t, true).check(url, None).is_ok());
    }

    #[test]
    fn a_defaulted_url_needs_its_enabling_key() {
        let rules = [rule("api_url", "/admin/", &["api_key"], &["api_key"])];
        let defaults = [("api_url".to_owned(), "https://api.example.com".to_owned())];
        assert!(Grants::new(&rules, &defaults, &T::default(), false).is_empty());
    }
}
