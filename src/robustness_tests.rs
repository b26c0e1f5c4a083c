//! Every parser and classifier fed hostile input: none may panic, and errors stay errors.

use crate::config::{ConnectorConfig, directory_id};
use crate::model::Config;
use crate::transport::Response;
use crate::upstream::{self, Api, Context};
use crate::{admin, base_url, products, scim};

fn bodies() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "", " ", "null", "true", "0", "-1", "1e400", "\"x\"", "[]", "{}", "[null]", "{\"a\":",
        "<html><head><title>502</title></head></html>", "\u{feff}{}", "{\"errors\":null}",
        "{\"errors\":[null]}", "{\"errors\":[]}", "{\"errors\":{\"a\":null,\"b\":[1]}}",
        "{\"errors\":[{\"status\":{},\"code\":[],\"title\":null,\"detail\":5}]}",
        "{\"error\":{\"message\":5}}", "{\"error\":{}}", "{\"error\":[1]}", "{\"status\":{}}",
        "{\"scimType\":null,\"detail\":null}", "{\"scimType\":7}", "{\"key\":null}",
        "{\"errorMessages\":[null,{}]}", "{\"totalResults\":-1}", "{\"totalResults\":1e400}",
        "{\"totalResults\":\"18446744073709551616\"}", "{\"totalResults\":1,\"Resources\":[1,\"a\",null]}",
        "{\"totalResults\":1,\"Resources\":{}}", "{\"data\":[1,2]}", "{\"data\":{}}",
        "{\"values\":[null]}", "{\"results\":\"x\"}", "{\"values\":[],\"next\":{}}",
        "{\"Resources\":[{\"emails\":\"x\",\"name\":[],\"urn:scim:schemas:extension:atlassian-external:1.0\":5}]}",
        "\"\\ud800\"", "{\"a\":\"\\u0000\"}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    v.push(vec![0xff, 0xfe, 0x00, 0x80]);
    v.push("[".repeat(100_000).into_bytes());
    v.push("{\"a\":".repeat(10_000).into_bytes());
    v.push("é".repeat(500).into_bytes());
    v.push(vec![b'"'; 3]);
    v
}

#[test]
fn parsers_and_classifier_never_panic() {
    let statuses = [
        0, 100, 200, 201, 204, 301, 400, 401, 403, 404, 409, 418, 429, 500, 503, 599, 65535,
    ];
    let headers = [
        "",
        "-0",
        "99999999999999999999",
        "1e308",
        "∞",
        " 7 ",
        "Wed, 21 Oct 2026 07:28:00 GMT",
    ];
    let apis = [
        Api::Scim,
        Api::Admin,
        Api::Lifecycle,
        Api::Jira,
        Api::Confluence,
        Api::Bitbucket,
    ];
    for body in bodies() {
        let _ = scim::parse_error(&body);
        let _ = admin::parse_error(&body);
        let _ = products::parse_error(&body);
        let _ = scim::parse_list::<scim::User>(&body);
        let _ = scim::parse_list::<scim::Group>(&body);
        let _ = crate::wire::parse::<admin::Page<admin::Group>>(&body);
        let _ = crate::wire::parse::<admin::Page<admin::User>>(&body);
        let _ = admin::parse_members_page(&body);
        let _ = crate::wire::parse::<products::JiraProjectPage>(&body);
        let _ = crate::wire::parse::<products::ConfluenceSpacePage>(&body);
        let _ = crate::wire::parse::<products::BitbucketRepositoryPage>(&body);
        let _ = upstream::body_snippet(&body);
        for api in apis {
            let ctx = Context {
                api,
                credential: "scim_token",
                subject: "x",
            };
            for status in statuses {
                for h in headers {
                    let resp = Response::new(status, body.clone())
                        .with_header("retry-after", h)
                        .with_header("x-ratelimit-reset", h);
                    let result = upstream::classify(&ctx, resp.clone());
                    assert_eq!(result.is_ok(), (200..300).contains(&status));
                    if status == 200 {
                        let parsed = upstream::read(api, &resp, scim::parse_list::<scim::User>);
                        if let Err(e) = parsed {
                            assert!(
                                matches!(e, crate::ConnectorError::Upstream(u) if u.status == Some(200))
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn url_and_config_parsing_never_panic() {
    let urls = [
        "",
        ":",
        "://",
        "https://",
        "https://[",
        "https://[]",
        "https://]",
        "https://@",
        "https://:",
        "https://a:b:c",
        "https://%",
        "https://h/%",
        "https://h/%e",
        "https://h/\u{0}",
        "https://h/é",
        "https://é/",
        "https://h:65536",
        "https://h:-1",
        "http://[::ffff:127.0.0.1]",
        "https://.",
        "https://..",
        "https://h./",
        "https://0x",
        "https://1.2.3",
        "https://999.1.1.1",
        "HTTP://LOCALHOST",
        "https://h/scim/directory/%ff%fe",
        "https://h/scim/directory/%20",
        "https://h/scim/directory/a%2Fb",
    ];
    for u in urls {
        let _ = base_url::parse(u);
        let _ = directory_id(u);
        let cfg = Config::new(&[("scim_url", u)], &["scim_token"]);
        match ConnectorConfig::parse(&cfg) {
            Ok(c) => assert!(c.scim.url.starts_with("http")),
            Err(e) => assert_eq!(e.config_key(), Some("scim_url"), "{u}: {e}"),
        }
    }
    assert_eq!(directory_id("https://h/scim/directory/%20"), None);
    assert_eq!(
        directory_id("https://h/scim/directory/a%2Fb").as_deref(),
        Some("a/b")
    );
    let weird = Config::new(&[("", ""), ("\u{0}", "x")], &["", "é"]);
    assert_eq!(
        ConnectorConfig::parse(&weird).unwrap_err().config_key(),
        Some("")
    );
}
