//! The egress allow-list: which URLs a tenant's connector may reach, and with which secrets.
//!
//! The list is derived from the tenant's configuration, never from the guest. Each grant is
//! an origin plus a path prefix plus the secrets that may be sent there, so the SCIM token only
//! ever travels to the SCIM directory, the org API key only to the admin and lifecycle APIs,
//! and the product token only to the product sites.
//!
//! The host operator's policy ([`OperatorPolicy`]) bounds it: a grant is made only for a host
//! the operator allows, plain http only to loopback and only when the operator allows loopback,
//! and an IP-literal URL (which no resolver sees) must pass the same address rules that the
//! outbound client applies to every resolved name ([`crate::network`]).

use url::Url;

use crate::operator::{OperatorPolicy, is_loopback_host};
use crate::tenant::Tenant;

/// Default base URL of Atlassian's platform APIs (admin, lifecycle).
pub const DEFAULT_ATLASSIAN_API_URL: &str = "https://api.atlassian.com";
/// Default base URL of the Bitbucket Cloud API.
pub const DEFAULT_BITBUCKET_API_URL: &str = "https://api.bitbucket.org";

/// One allowed destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    scheme: String,
    host: String,
    port: u16,
    /// Path prefix, always ending in `/`.
    path_prefix: String,
    /// Secret key names that may be attached to requests to this destination.
    secrets: Vec<String>,
}

impl Grant {
    fn new(base: &Url, extra_path: &str, secrets: &[&str]) -> Option<Self> {
        let mut prefix = base.path().trim_end_matches('/').to_owned();
        prefix.push_str(extra_path);
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        Some(Self {
            scheme: base.scheme().to_owned(),
            host: base.host_str()?.to_ascii_lowercase(),
            port: base.port_or_known_default()?,
            path_prefix: prefix,
            secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    fn covers(&self, url: &Url) -> bool {
        let path = url.path();
        url.scheme() == self.scheme
            && url.host_str().map(str::to_ascii_lowercase).as_deref() == Some(&self.host)
            && url.port_or_known_default() == Some(self.port)
            && (path.starts_with(&self.path_prefix) || format!("{path}/") == self.path_prefix)
    }

    /// A readable form, for messages and the `describe` output.
    pub fn describe(&self) -> String {
        format!(
            "{}://{}:{}{} [{}]",
            self.scheme,
            self.host,
            self.port,
            self.path_prefix,
            self.secrets.join(", ")
        )
    }
}

/// Why a request was refused before it was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

/// The tenant's allow-list.
#[derive(Clone, Debug, Default)]
pub struct EgressPolicy {
    grants: Vec<Grant>,
    operator: OperatorPolicy,
}

impl EgressPolicy {
    /// Derives the allow-list from a tenant's settings, within the operator's policy.
    /// Unparseable URLs, and URLs naming a host the operator does not allow, grant nothing
    /// (the connector, or the host before it, reports them as `invalid-config`).
    pub fn for_tenant(tenant: &Tenant, operator: &OperatorPolicy) -> Self {
        let allowed = |url: Url| {
            url.host()
                .is_some_and(|h| operator.allows_host(&h))
                .then_some(url)
        };
        let setting = |key: &str| tenant.settings.get(key).and_then(|v| Url::parse(v).ok());
        let has_secret = |key: &str| tenant.secrets.get(key).is_some();
        let mut grants = Vec::new();
        if let Some(scim) = setting("scim_url").and_then(allowed) {
            grants.extend(Grant::new(&scim, "", &["scim_token"]));
        }
        let admin_configured =
            has_secret("admin_api_key") || tenant.settings.contains_key("atlassian_api_url");
        if admin_configured {
            let api =
                setting("atlassian_api_url").or_else(|| Url::parse(DEFAULT_ATLASSIAN_API_URL).ok());
            if let Some(api) = api.and_then(allowed) {
                // Admin API v2, SCIM-link look-ups, and the user-management lifecycle API.
                grants.extend(Grant::new(&api, "/admin/", &["admin_api_key"]));
                grants.extend(Grant::new(&api, "/users/", &["admin_api_key"]));
            }
        }
        if let Some(site) = setting("site_url").and_then(allowed) {
            grants.extend(Grant::new(&site, "/rest/api/", &["product_token"]));
            grants.extend(Grant::new(&site, "/wiki/", &["product_token"]));
        }
        if tenant.settings.contains_key("bitbucket_workspace")
            || tenant.settings.contains_key("bitbucket_api_url")
        {
            let bb =
                setting("bitbucket_api_url").or_else(|| Url::parse(DEFAULT_BITBUCKET_API_URL).ok());
            if let Some(bb) = bb.and_then(allowed) {
                grants.extend(Grant::new(&bb, "/2.0/", &["product_token"]));
            }
        }
        Self {
            grants,
            operator: operator.clone(),
        }
    }

    /// The grants, for reports.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Checks one request: its URL, and the secret it asks the host to attach.
    pub fn check(&self, url: &str, secret: Option<&str>) -> Result<Url, Denied> {
        // The parser below resolves `.` and `..` away (and `%2e` forms, and `\` as `/`), so
        // the raw text is checked first: no segment of the guest's path may be a dot segment.
        if has_raw_dot_segment(url) {
            return Err(Denied("dot segments in the path are refused".into()));
        }
        let url = Url::parse(url).map_err(|e| Denied(format!("malformed URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if self.operator.allow_loopback && is_loopback(&url) => {}
            "http" if is_loopback(&url) => {
                return Err(Denied(
                    "plain http is refused (the host allows it only to loopback, and only when \
                     the host operator allows loopback)"
                        .into(),
                ));
            }
            "http" => return Err(Denied("plain http is refused; use https".into())),
            other => return Err(Denied(format!("scheme `{other}` is refused"))),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Denied("credentials in the URL are refused".into()));
        }
        if url.path_segments().into_iter().flatten().any(|s| {
            matches!(
                s.to_ascii_lowercase().as_str(),
                "%2e" | "%2e%2e" | ".%2e" | "%2e."
            )
        }) {
            return Err(Denied("dot segments in the path are refused".into()));
        }
        let matching: Vec<&Grant> = self.grants.iter().filter(|g| g.covers(&url)).collect();
        if matching.is_empty() {
            return Err(Denied(format!(
                "{}://{}{} is not on the tenant's allow-list",
                url.scheme(),
                url.host_str().unwrap_or(""),
                url.port().map(|p| format!(":{p}")).unwrap_or_default()
            )));
        }
        // An IP literal is connected to as it is, without a resolver: check it here.
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal {
            self.operator
                .address_rules()
                .check_host(url.host_str().unwrap_or(""), ip)
                .map_err(|blocked| Denied(blocked.to_string()))?;
        }
        if let Some(secret) = secret
            && !matching
                .iter()
                .any(|g| g.secrets.iter().any(|s| s == secret))
        {
            return Err(Denied(format!(
                "secret `{secret}` may not be sent to {}",
                url.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }
}

/// True when the path of the raw URL text has a segment that a URL parser would read as `.`
/// or `..` (literally or percent-encoded, `/` or `\` as the separator).
fn has_raw_dot_segment(raw: &str) -> bool {
    let after_scheme = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    let end = after_scheme.find(['?', '#']).unwrap_or(after_scheme.len());
    let Some(start) = after_scheme[..end].find(['/', '\\']) else {
        return false;
    };
    after_scheme[start..end].split(['/', '\\']).any(|segment| {
        matches!(
            segment.to_ascii_lowercase().as_str(),
            "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
        )
    })
}

fn is_loopback(url: &Url) -> bool {
    url.host().is_some_and(|h| is_loopback_host(&h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> EgressPolicy {
        let t = Tenant::default()
            .with_setting("scim_url", "https://api.atlassian.com/scim/directory/d1")
            .with_setting("site_url", "https://acme.atlassian.net")
            .with_setting("bitbucket_workspace", "acme")
            .with_secret("scim_token", "a")
            .with_secret("admin_api_key", "b")
            .with_secret("product_token", "c");
        EgressPolicy::for_tenant(&t, &OperatorPolicy::default())
    }

    #[test]
    fn secrets_only_travel_to_their_own_api() {
        let p = full();
        let scim = "https://api.atlassian.com/scim/directory/d1/Users";
        assert!(p.check(scim, Some("scim_token")).is_ok());
        assert!(p.check(scim, Some("admin_api_key")).is_err());
        let admin = "https://api.atlassian.com/admin/v2/orgs/o/directories";
        assert!(p.check(admin, Some("admin_api_key")).is_ok());
        assert!(p.check(admin, Some("scim_token")).is_err());
        let jira = "https://acme.atlassian.net/rest/api/3/project/search";
        assert!(p.check(jira, Some("product_token")).is_ok());
        assert!(p.check(jira, Some("admin_api_key")).is_err());
        let bb = "https://api.bitbucket.org/2.0/repositories/acme";
        assert!(p.check(bb, Some("product_token")).is_ok());
    }

    #[test]
    fn other_hosts_directories_and_schemes_are_denied() {
        let p = full();
        for url in [
            "https://evil.example.com/scim/directory/d1/Users",
            "https://api.atlassian.com/scim/directory/d2/Users",
            "https://api.atlassian.com:8443/admin/v2/orgs",
            "http://api.atlassian.com/admin/v2/orgs",
            "ftp://api.atlassian.com/admin/",
            "https://user:pw@api.atlassian.com/admin/v2",
            "https://api.atlassian.com/scim/directory/d1/%2e%2e/d2",
            "not a url",
        ] {
            assert!(p.check(url, None).is_err(), "{url} should be denied");
        }
        // `..` would be resolved by the URL parser: refused in the raw text, whatever it
        // would resolve to, even inside the grant.
        for url in [
            "https://api.atlassian.com/scim/directory/d1/../d2/Users",
            "https://api.atlassian.com/scim/directory/d1/Users/x/..",
            "https://api.atlassian.com/scim/directory/d1/Users/./u",
            "https://api.atlassian.com/scim/directory/d1/Users/%2E%2E/u",
            "https://api.atlassian.com/scim/directory/d1/Users\\..\\u",
        ] {
            assert!(p.check(url, None).is_err(), "{url} should be denied");
        }
        assert!(
            p.check(
                "https://api.atlassian.com/scim/directory/d1/Users?a=../b",
                None
            )
            .is_ok(),
            "a query may hold dots"
        );
        assert!(
            p.check(
                "https://api.atlassian.com/scim/directory/d1/Users/a..b",
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn plain_http_only_to_loopback_and_only_when_the_operator_allows_it() {
        let t = Tenant::default().with_setting("scim_url", "http://127.0.0.1:9/scim/directory/d");
        let url = "http://127.0.0.1:9/scim/directory/d/Users";
        let listed = OperatorPolicy::default()
            .allowing_domain("127.0.0.1")
            .unwrap();
        let err = EgressPolicy::for_tenant(&t, &listed)
            .check(url, None)
            .unwrap_err();
        assert!(err.0.contains("plain http"), "{err}");
        let sim = OperatorPolicy::local_simulator();
        assert!(EgressPolicy::for_tenant(&t, &sim).check(url, None).is_ok());
        assert!(
            EgressPolicy::for_tenant(&t, &sim)
                .check("http://127.0.0.1:10/scim/directory/d/Users", None)
                .is_err()
        );
    }

    #[test]
    fn hosts_the_operator_does_not_allow_get_no_grant() {
        let t = Tenant::default()
            .with_setting("scim_url", "https://internal.corp/scim/directory/d")
            .with_setting("site_url", "https://acme.atlassian.net");
        let p = EgressPolicy::for_tenant(&t, &OperatorPolicy::default());
        assert_eq!(p.grants().len(), 2, "{:?}", p.grants());
        let err = p
            .check("https://internal.corp/scim/directory/d/Users", None)
            .unwrap_err();
        assert!(err.0.contains("allow-list"), "{err}");
    }

    #[test]
    fn ip_literals_pass_the_address_rules_too() {
        let any = OperatorPolicy::default().allowing_domain("*").unwrap();
        for (host, rule) in [
            ("127.0.0.1", "loopback"),
            ("[::1]", "loopback"),
            ("169.254.169.254", "link-local"),
            ("10.0.0.1", "private"),
            ("[fd00::1]", "unique-local"),
            ("0.0.0.0", "unspecified"),
            ("[::]", "unspecified"),
            ("[::ffff:127.0.0.1]", "loopback"),
            ("[::ffff:a9fe:a9fe]", "link-local"),
            ("224.0.0.1", "multicast"),
        ] {
            let base = format!("https://{host}/scim/directory/d");
            let t = Tenant::default().with_setting("scim_url", &base);
            let err = EgressPolicy::for_tenant(&t, &any)
                .check(&format!("{base}/Users"), None)
                .unwrap_err();
            assert!(
                err.0.starts_with(&format!("blocked address ({rule})")),
                "{host}: {err}"
            );
        }
        let base = "https://104.192.141.1/scim/directory/d";
        let t = Tenant::default().with_setting("scim_url", base);
        assert!(
            EgressPolicy::for_tenant(&t, &any)
                .check(&format!("{base}/Users"), None)
                .is_ok()
        );
    }
}
