//! Property tests: the parsers that face untrusted input never panic, and the filter builder
//! round-trips every value. (A panic in the guest is a trap in the host, so "never panics" is a
//! sandbox property, not only a quality one.)

use atlassian_connector::config::ConnectorConfig;
use atlassian_connector::model::Config;
use atlassian_connector::transport::Response;
use atlassian_connector::upstream::{self, Api, Context};
use atlassian_connector::{admin, base_url, encode, products, scim};
use lifecycle_host::egress::EgressPolicy;
use lifecycle_host::{OperatorPolicy, Tenant, retry};
use proptest::prelude::*;

const KEYS: &[&str] = &[
    "scim_url",
    "scim_token",
    "admin_api_key",
    "scim_organization_id",
    "product_user",
    "product_token",
    "instance_name",
    "atlassian_api_url",
    "site_url",
    "bitbucket_api_url",
    "bitbucket_workspace",
    "unknown",
    "",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(KEYS).prop_map(str::to_owned),
        ".{0,20}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("https://api.atlassian.com/scim/directory/d-1".to_owned()),
        Just("http://127.0.0.1:8080/scim/directory/d".to_owned()),
        "(https?|ftp)://[a-z0-9.:@%/\\[\\]-]{0,40}",
        ".{0,60}",
    ]
}

/// Reads back the value of `attr eq "…"`, undoing the escaping as a SCIM server would.
fn unescape_filter(filter: &str, attribute: &str) -> Option<String> {
    let quoted = filter
        .strip_prefix(&format!("{attribute} eq \""))?
        .strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None, // an unescaped quote would end the string early
            c => out.push(c),
        }
    }
    Some(out)
}

fn ctx() -> Context<'static> {
    Context {
        api: Api::Scim,
        credential: "scim_token",
        subject: "the SCIM directory",
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn config_parser_never_panics_and_errors_name_a_key(
        settings in prop::collection::vec((key(), value()), 0..8),
        secrets in prop::collection::vec(key(), 0..4),
    ) {
        let config = Config { settings, secrets };
        if let Err(e) = ConnectorConfig::parse(&config) {
            let key = e.config_key().map(str::to_owned);
            prop_assert!(key.is_some(), "a config error must name its key: {e:?}");
        }
    }

    #[test]
    fn percent_encoding_round_trips_and_leaves_only_unreserved_characters(v in "\\PC{0,30}|.{0,30}") {
        let encoded = encode::query(&v);
        prop_assert!(
            encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
            "{}", encoded
        );
        prop_assert_eq!(encode::decode(&encoded), v.clone());
        if !encode::is_dot_segment(&v) {
            prop_assert_eq!(encode::segment(&v), encoded);
        }
    }

    #[test]
    fn percent_decoding_never_panics(s in "[%0-9a-fA-FgG.]{0,20}|.{0,20}") {
        let _ = encode::decode(&s);
    }

    #[test]
    fn base_url_parser_never_panics(s in ".{0,80}") {
        let _ = base_url::parse(&s);
    }

    #[test]
    fn filter_values_round_trip_exactly(v in ".{0,40}") {
        let filter = scim::filter_eq("userName", &v);
        prop_assert_eq!(unescape_filter(&filter, "userName"), Some(v));
    }

    #[test]
    fn response_parsers_never_panic(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            "[{}\\[\\]\":,a-z0-9 .-]{0,200}".prop_map(String::into_bytes),
        ],
        status in prop_oneof![Just(200u16), Just(401), Just(404), Just(409), Just(429), Just(503), any::<u16>()],
        header in prop::option::of(("[a-zA-Z-]{1,20}", ".{0,30}")),
    ) {
        let _ = scim::parse_list::<scim::User>(&body);
        let _ = scim::parse_error(&body);
        let _ = admin::parse_error(&body);
        let _ = products::parse_error(&body);
        let mut resp = Response::new(status, body.clone());
        if let Some((name, value)) = &header {
            resp = resp.with_header(name, value);
        }
        let _ = upstream::parse_json::<serde_json::Value>(Api::Admin, &resp);
        if let Err(e) = upstream::classify(&ctx(), resp) {
            prop_assert!(!(200..300).contains(&status), "a 2xx became {e:?}");
        }
    }

    #[test]
    fn host_config_files_never_panic_and_never_echo_secrets(text in ".{0,200}") {
        let with_secret = format!("[secrets]\nscim_token = \"s3cr3t-value\"\n{text}");
        if let Err(message) = Tenant::from_toml(&with_secret) {
            prop_assert!(!message.contains("s3cr3t-value"), "{message}");
        }
    }

    #[test]
    fn egress_checks_never_panic(url in ".{0,80}", secret in prop::option::of(key())) {
        let tenant = Tenant::default()
            .with_setting("scim_url", "https://api.atlassian.com/scim/directory/d")
            .with_secret("scim_token", "t");
        let declaration = host_harness::component::atlassian_v0_1_0();
        let _ = EgressPolicy::for_tenant(&tenant, &declaration, &OperatorPolicy::default())
            .check(&url, secret.as_deref());
    }

    #[test]
    fn retry_hints_never_panic(name in "[a-zA-Z-]{0,20}", value in ".{0,40}") {
        let headers = vec![(name.to_ascii_lowercase(), value)];
        let _ = retry::hint(&headers, std::time::SystemTime::now());
    }
}
