//! The egress allow-list: which URLs a tenant's connector may reach, and with which secrets.
//!
//! The list is derived from the tenant's configuration, never from the guest. Each grant is
//! an origin plus a path prefix plus the secrets that may be sent there, so the SCIM token only
//! ever travels to the SCIM directory, the org API key only to the admin and lifecycle APIs,
//! and the product token only to the product sites.

use std::net::IpAddr;

use url::Url;

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
    allow_http_loopback: bool,
}

impl EgressPolicy {
    /// Derives the allow-list from a tenant's settings. Unparseable URLs grant nothing
    /// (the connector reports them as `invalid-config`).
    pub fn for_tenant(tenant: &Tenant) -> Self {
        let setting = |key: &str| tenant.settings.get(key).and_then(|v| Url::parse(v).ok());
        let has_secret = |key: &str| tenant.secrets.get(key).is_some();
        let mut grants = Vec::new();
        if let Some(scim) = setting("scim_url") {
            grants.extend(Grant::new(&scim, "", &["scim_token"]));
        }
        let admin_configured =
            has_secret("admin_api_key") || tenant.settings.contains_key("atlassian_api_url");
        if admin_configured {
            let api =
                setting("atlassian_api_url").or_else(|| Url::parse(DEFAULT_ATLASSIAN_API_URL).ok());
            if let Some(api) = api {
                // Admin API v2, SCIM-link look-ups, and the user-management lifecycle API.
                grants.extend(Grant::new(&api, "/admin/", &["admin_api_key"]));
                grants.extend(Grant::new(&api, "/users/", &["admin_api_key"]));
            }
        }
        if let Some(site) = setting("site_url") {
            grants.extend(Grant::new(&site, "/rest/api/", &["product_token"]));
            grants.extend(Grant::new(&site, "/wiki/", &["product_token"]));
        }
        if tenant.settings.contains_key("bitbucket_workspace")
            || tenant.settings.contains_key("bitbucket_api_url")
        {
            let bb =
                setting("bitbucket_api_url").or_else(|| Url::parse(DEFAULT_BITBUCKET_API_URL).ok());
            if let Some(bb) = bb {
                grants.extend(Grant::new(&bb, "/2.0/", &["product_token"]));
            }
        }
        Self {
            grants,
            allow_http_loopback: tenant.host.allow_http_loopback,
        }
    }

    /// The grants, for reports.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Checks one request: its URL, and the secret it asks the host to attach.
    pub fn check(&self, url: &str, secret: Option<&str>) -> Result<Url, Denied> {
        let url = Url::parse(url).map_err(|e| Denied(format!("malformed URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http_loopback && is_loopback(&url) => {}
            "http" if is_loopback(&url) => {
                return Err(Denied(
                    "plain http is refused (the host allows it only for loopback when \
                     [host] allow_http_loopback = true)"
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

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
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
        EgressPolicy::for_tenant(&t)
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
        // `..` is resolved by the URL parser, so it cannot escape the prefix either.
        assert!(
            p.check(
                "https://api.atlassian.com/scim/directory/d1/../d2/Users",
                None
            )
            .is_err()
        );
    }

    #[test]
    fn plain_http_only_to_loopback_and_only_when_allowed() {
        let t = Tenant::default().with_setting("scim_url", "http://127.0.0.1:9/scim/directory/d");
        let url = "http://127.0.0.1:9/scim/directory/d/Users";
        assert!(EgressPolicy::for_tenant(&t).check(url, None).is_err());
        let t = t.allow_http_loopback();
        assert!(EgressPolicy::for_tenant(&t).check(url, None).is_ok());
        assert!(
            EgressPolicy::for_tenant(&t)
                .check("http://127.0.0.1:10/scim/directory/d/Users", None)
                .is_err()
        );
    }
}
