//! The egress grants: which URLs a tenant's connector may reach, and with which secrets.
//!
//! The connector declares what it needs ([`Declaration`], from `describe`'s `egress` rules and
//! the defaults of its `url` configuration keys): for each base-URL key, a path prefix below
//! it and the secrets that may travel there. The tenant's configuration fills the URLs in; the
//! host operator's policy ([`OperatorPolicy`]) bounds them: a grant is made only for a host the
//! operator allows, plain http only to loopback and only when the operator allows loopback,
//! and an IP-literal URL (which no resolver sees) must pass the same address rules that the
//! outbound client applies to every resolved name ([`crate::network`]). Nothing the guest
//! says at run time widens a grant; the host itself names no service.

use url::Url;

use crate::bindings::types::{ConfigKind, ConnectorInfo, EgressRule};
use crate::operator::{OperatorPolicy, is_loopback_host};
use crate::tenant::Tenant;

/// What a connector declared about its destinations: its egress rules and the defaults of its
/// `url` keys. Built from `describe` ([`Declaration::of`]), or by the embedder for a component
/// whose contract version declares nothing ([`Declaration::new`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Declaration {
    rules: Vec<EgressRule>,
    /// Every URL key, with its default when it has one: the rules' keys in the order the
    /// rules name them, then the schema's other `url` keys.
    url_keys: Vec<(String, Option<String>)>,
}

/// Adds `key` (with `default`) unless it is there; a default fills in a key listed without.
fn add_key(keys: &mut Vec<(String, Option<String>)>, key: &str, default: Option<&str>) {
    match keys.iter_mut().find(|(k, _)| k == key) {
        Some((_, d)) => {
            if d.is_none() {
                *d = default.map(str::to_owned);
            }
        }
        None => keys.push((key.to_owned(), default.map(str::to_owned))),
    }
}

impl Declaration {
    /// The declaration in a connector's self-description.
    pub fn of(info: &ConnectorInfo) -> Self {
        let mut url_keys = Vec::new();
        let default_of = |key: &str| {
            info.config_schema
                .iter()
                .find(|k| k.key == key)
                .and_then(|k| k.default.as_deref())
        };
        for rule in &info.egress {
            add_key(&mut url_keys, &rule.url_key, default_of(&rule.url_key));
        }
        for key in &info.config_schema {
            if matches!(key.kind, ConfigKind::Url) {
                add_key(&mut url_keys, &key.key, key.default.as_deref());
            }
        }
        Self {
            rules: info.egress.clone(),
            url_keys,
        }
    }

    /// A declaration made by the embedder: `rules`, and the default of each URL key they name.
    pub fn new(rules: Vec<EgressRule>, defaults: &[(&str, &str)]) -> Self {
        let mut url_keys = Vec::new();
        for rule in &rules {
            let default = defaults
                .iter()
                .find(|(k, _)| *k == rule.url_key)
                .map(|(_, d)| *d);
            add_key(&mut url_keys, &rule.url_key, default);
        }
        Self { rules, url_keys }
    }

    /// The declared rules.
    pub fn rules(&self) -> &[EgressRule] {
        &self.rules
    }

    /// The configuration keys whose values are upstream base URLs: the operator's allowed
    /// domains apply to each.
    pub fn url_keys(&self) -> impl Iterator<Item = &str> {
        self.url_keys.iter().map(|(k, _)| k.as_str())
    }

    /// The base URL a rule names for a tenant: the key's value, or its default when any of
    /// the rule's `enabled-by` keys is configured.
    fn base(&self, rule: &EgressRule, tenant: &Tenant) -> Option<Url> {
        if let Some(value) = tenant.settings.get(&rule.url_key) {
            return Url::parse(value).ok();
        }
        let enabled = rule
            .enabled_by
            .iter()
            .any(|k| tenant.settings.contains_key(k) || tenant.secrets.get(k).is_some());
        let default = self
            .url_keys
            .iter()
            .find(|(k, _)| *k == rule.url_key)?
            .1
            .as_deref()?;
        enabled.then(|| Url::parse(default).ok()).flatten()
    }
}

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
    fn new(base: &Url, extra_path: &str, secrets: &[String]) -> Option<Self> {
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
            secrets: secrets.to_vec(),
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

/// The tenant's grants.
#[derive(Clone, Debug, Default)]
pub struct EgressPolicy {
    grants: Vec<Grant>,
    operator: OperatorPolicy,
}

impl EgressPolicy {
    /// The grants of a connector's declaration for a tenant, within the operator's policy.
    /// Unparseable URLs, and URLs naming a host the operator does not allow, grant nothing
    /// (the connector, or the host before it, reports them as `invalid-config`).
    pub fn for_tenant(
        tenant: &Tenant,
        declaration: &Declaration,
        operator: &OperatorPolicy,
    ) -> Self {
        let grants = declaration
            .rules
            .iter()
            .filter_map(|rule| {
                let base = declaration.base(rule, tenant)?;
                base.host()
                    .is_some_and(|h| operator.allows_host(&h))
                    .then(|| Grant::new(&base, &rule.path_prefix, &rule.secrets))
                    .flatten()
            })
            .collect();
        Self {
            grants,
            operator: operator.clone(),
        }
    }

    /// The grants, for reports.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// The first grant covering `url` (a URL [`Self::check`] allowed): the API it belongs to.
    pub fn grant_for(&self, url: &Url) -> Option<&Grant> {
        self.grants.iter().find(|g| g.covers(url))
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
pub(crate) mod tests {
    use super::*;

    fn rule(url_key: &str, prefix: &str, secrets: &[&str], enabled_by: &[&str]) -> EgressRule {
        EgressRule {
            url_key: url_key.into(),
            path_prefix: prefix.into(),
            secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
            enabled_by: enabled_by.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// A connector with a directory, an API with two prefixes and a default URL, a portal, and
    /// a code host whose default URL comes into force with a workspace setting.
    pub(crate) fn declaration() -> Declaration {
        Declaration::new(
            vec![
                rule("directory_url", "", &["directory_token"], &[]),
                rule("api_url", "/admin/", &["api_key"], &["api_key"]),
                rule("api_url", "/users/", &["api_key"], &["api_key"]),
                rule("portal_url", "/rest/api/", &["portal_token"], &[]),
                rule("portal_url", "/wiki/", &["portal_token"], &[]),
                rule("code_url", "/2.0/", &["portal_token"], &["code_workspace"]),
            ],
            &[
                ("api_url", "https://api.example.com"),
                ("code_url", "https://code.example.org"),
            ],
        )
    }

    fn policy(t: &Tenant, operator: &OperatorPolicy) -> EgressPolicy {
        EgressPolicy::for_tenant(t, &declaration(), operator)
    }

    fn full() -> EgressPolicy {
        let t = Tenant::default()
            .with_setting("directory_url", "https://api.example.com/dir/d1")
            .with_setting("portal_url", "https://acme.example.net")
            .with_setting("code_workspace", "acme")
            .with_secret("directory_token", "a")
            .with_secret("api_key", "b")
            .with_secret("portal_token", "c");
        policy(&t, &OperatorPolicy::default())
    }

    #[test]
    fn secrets_only_travel_to_their_own_api() {
        let p = full();
        let dir = "https://api.example.com/dir/d1/Users";
        assert!(p.check(dir, Some("directory_token")).is_ok());
        assert!(p.check(dir, Some("api_key")).is_err());
        let admin = "https://api.example.com/admin/v2/orgs/o/directories";
        assert!(p.check(admin, Some("api_key")).is_ok());
        assert!(p.check(admin, Some("directory_token")).is_err());
        let portal = "https://acme.example.net/rest/api/3/project/search";
        assert!(p.check(portal, Some("portal_token")).is_ok());
        assert!(p.check(portal, Some("api_key")).is_err());
        let code = "https://code.example.org/2.0/repositories/acme";
        assert!(p.check(code, Some("portal_token")).is_ok());
    }

    #[test]
    fn a_defaulted_url_needs_a_key_that_enables_it() {
        let t = Tenant::default().with_setting("directory_url", "https://api.example.com/dir/d");
        let p = policy(&t, &OperatorPolicy::default());
        assert_eq!(p.grants().len(), 1, "{:?}", p.grants());
        assert!(p.check("https://api.example.com/admin/v2", None).is_err());
        let t = t.with_secret("api_key", "k");
        assert_eq!(policy(&t, &OperatorPolicy::default()).grants().len(), 3);
        // An explicit URL is in force without the enabling key.
        let t = Tenant::default().with_setting("code_url", "https://code.example.com");
        let p = policy(&t, &OperatorPolicy::default());
        assert!(p.check("https://code.example.com/2.0/x", None).is_ok());
    }

    #[test]
    fn other_hosts_directories_and_schemes_are_denied() {
        let p = full();
        for url in [
            "https://evil.example.com/dir/d1/Users",
            "https://api.example.com/dir/d2/Users",
            "https://api.example.com:8443/admin/v2/orgs",
            "http://api.example.com/admin/v2/orgs",
            "ftp://api.example.com/admin/",
            "https://user:pw@api.example.com/admin/v2",
            "https://api.example.com/dir/d1/%2e%2e/d2",
            "not a url",
        ] {
            assert!(p.check(url, None).is_err(), "{url} should be denied");
        }
        // `..` would be resolved by the URL parser: refused in the raw text, whatever it
        // would resolve to, even inside the grant.
        for url in [
            "https://api.example.com/dir/d1/../d2/Users",
            "https://api.example.com/dir/d1/Users/x/..",
            "https://api.example.com/dir/d1/Users/./u",
            "https://api.example.com/dir/d1/Users/%2E%2E/u",
            "https://api.example.com/dir/d1/Users\\..\\u",
        ] {
            assert!(p.check(url, None).is_err(), "{url} should be denied");
        }
        assert!(
            p.check("https://api.example.com/dir/d1/Users?a=../b", None)
                .is_ok(),
            "a query may hold dots"
        );
        assert!(
            p.check("https://api.example.com/dir/d1/Users/a..b", None)
                .is_ok()
        );
    }

    #[test]
    fn plain_http_only_to_loopback_and_only_when_the_operator_allows_it() {
        let t = Tenant::default().with_setting("directory_url", "http://127.0.0.1:9/dir/d");
        let url = "http://127.0.0.1:9/dir/d/Users";
        let listed = OperatorPolicy::allowing_only(&["127.0.0.1"]).unwrap();
        let err = policy(&t, &listed).check(url, None).unwrap_err();
        assert!(err.0.contains("plain http"), "{err}");
        let sim = OperatorPolicy::local_simulator();
        assert!(policy(&t, &sim).check(url, None).is_ok());
        assert!(
            policy(&t, &sim)
                .check("http://127.0.0.1:10/dir/d/Users", None)
                .is_err()
        );
    }

    #[test]
    fn hosts_the_operator_does_not_allow_get_no_grant() {
        let t = Tenant::default()
            .with_setting("directory_url", "https://internal.corp/dir/d")
            .with_setting("portal_url", "https://acme.example.net");
        let operator = OperatorPolicy::allowing_only(&["*.example.net"]).unwrap();
        let p = policy(&t, &operator);
        assert_eq!(p.grants().len(), 2, "{:?}", p.grants());
        let err = p
            .check("https://internal.corp/dir/d/Users", None)
            .unwrap_err();
        assert!(err.0.contains("allow-list"), "{err}");
    }

    #[test]
    fn ip_literals_pass_the_address_rules_too() {
        let any = OperatorPolicy::default();
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
            let base = format!("https://{host}/dir/d");
            let t = Tenant::default().with_setting("directory_url", &base);
            let err = policy(&t, &any)
                .check(&format!("{base}/Users"), None)
                .unwrap_err();
            assert!(
                err.0.starts_with(&format!("blocked address ({rule})")),
                "{host}: {err}"
            );
        }
        let base = "https://104.192.141.1/dir/d";
        let t = Tenant::default().with_setting("directory_url", base);
        assert!(
            policy(&t, &any)
                .check(&format!("{base}/Users"), None)
                .is_ok()
        );
    }
}
