//! Shared helpers for the simulator's own integration tests (loopback HTTP only).
#![allow(dead_code)]

use atlassian_simulator::Simulator;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// Which credential a request carries.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Bearer(String),
    Basic(String, String),
}

/// A response, read completely.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

pub async fn send(method: &str, url: &str, auth: &Auth, body: Option<Value>) -> Resp {
    try_send(method, url, auth, body)
        .await
        .expect("request failed")
}

pub async fn try_send(
    method: &str,
    url: &str,
    auth: &Auth,
    body: Option<Value>,
) -> Result<Resp, reqwest::Error> {
    send_raw(method, url, auth, body.map(|b| b.to_string().into_bytes())).await
}

pub async fn send_raw(
    method: &str,
    url: &str,
    auth: &Auth,
    body: Option<Vec<u8>>,
) -> Result<Resp, reqwest::Error> {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut rb = client().request(m, url);
    rb = match auth {
        Auth::None => rb,
        Auth::Bearer(t) => rb.bearer_auth(t),
        Auth::Basic(u, p) => rb.basic_auth(u, Some(p)),
    };
    if let Some(b) = body {
        rb = rb.header("content-type", "application/json").body(b);
    }
    let r = rb.send().await?;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await?;
    Ok(Resp {
        status,
        headers,
        text,
    })
}

pub fn scim_auth(sim: &Simulator) -> Auth {
    Auth::Bearer(sim.tokens().scim_token)
}
pub fn admin_auth(sim: &Simulator) -> Auth {
    Auth::Bearer(sim.tokens().admin_api_key)
}
pub fn product_auth(sim: &Simulator) -> Auth {
    Auth::Basic(sim.product_user(), sim.tokens().product_token)
}

/// A SCIM request relative to the SCIM base URL (e.g. `/Users`).
pub async fn scim(sim: &Simulator, method: &str, rel: &str, body: Option<Value>) -> Resp {
    send(
        method,
        &format!("{}{rel}", sim.scim_url()),
        &scim_auth(sim),
        body,
    )
    .await
}

/// An admin request relative to `/admin/v2/orgs/{orgId}`.
pub async fn admin(sim: &Simulator, method: &str, rel: &str, body: Option<Value>) -> Resp {
    let url = format!("{}/admin/v2/orgs/{}{rel}", sim.base_url(), sim.org_id());
    send(method, &url, &admin_auth(sim), body).await
}

/// An admin request on the simulator's directory (`…/directories/{dirId}{rel}`).
pub async fn admin_dir(sim: &Simulator, method: &str, rel: &str, body: Option<Value>) -> Resp {
    admin(
        sim,
        method,
        &format!("/directories/{}{rel}", sim.directory_id()),
        body,
    )
    .await
}

/// A product request (absolute path on the simulator) with Basic auth.
pub async fn product(sim: &Simulator, path_and_query: &str) -> Resp {
    send(
        "GET",
        &format!("{}{path_and_query}", sim.base_url()),
        &product_auth(sim),
        None,
    )
    .await
}

/// Percent-encodes a path segment (account ids contain ':').
pub fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `filter=…` query value, fully percent-encoded.
pub fn filter_query(filter: &str) -> String {
    format!("filter={}", seg(filter))
}

/// Creates a SCIM user and returns its JSON.
pub async fn create_user(sim: &Simulator, email: &str) -> Value {
    let r = scim(
        sim,
        "POST",
        "/Users",
        Some(serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": email,
            "emails": [{"value": email, "type": "work", "primary": true}],
            "name": {"formatted": "Test User", "givenName": "Test", "familyName": "User"},
            "displayName": "Test User",
            "active": true
        })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

/// SCIM error body assertions: schema, string status, scimType.
pub fn assert_scim_error(r: &Resp, status: u16, scim_type: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.text);
    let v = r.json();
    assert_eq!(
        v["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(
        v["status"],
        Value::String(status.to_string()),
        "status must be a string"
    );
    if let Some(t) = scim_type {
        assert_eq!(v["scimType"], t, "{}", r.text);
    }
    assert!(v["detail"].is_string());
}
