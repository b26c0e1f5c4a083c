//! The conformance suite's other subject: the composed component (connector + adapter +
//! front, `atlassian_connector_http.wasm`) served by wasmtime's standard `wasi:http`
//! implementation ([`serve`]), called through the front's JSON API (`docs/openapi.yaml`) and
//! its answers read back into the contract's types ([`decode`]).
//!
//! Each tenant is a deployment of its own: the first call for a tenant serves the component
//! on a loopback port with that tenant's settings and secrets as `wasi:config` values (what a
//! platform configures per application), and later calls for the same tenant reuse it. The
//! subject sees what an HTTP caller sees: an [`Invocation`] here has no exchanges (the
//! adapter makes them inside the component) and `0` for memory, so the cases that read our
//! host's records are skipped on it ([`lifecycle_conformance::Case::needs_host`]).

pub mod decode;
pub mod serve;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use wasmtime_wasi_config::WasiConfigVariables;

use lifecycle_conformance::{Call, Difference, Subject};
use lifecycle_host::bindings::types::{
    ActionOptions, ConnectorInfo, DeleteOptions, Entitlement, GroupPage, HealthReport, Identity,
    Outcome, PageRequest, ResourcePage, RoleGrant, SyncOptions, UserPage, UserRef,
};
use lifecycle_host::{CallError, Invocation, InvokeError, LoadedConnector, Tenant};

pub use serve::{BUILTIN_HTTP, Proxy, Served};

/// The `wasi:config` key with which the platform lets the adapter call plain http on
/// loopback (the simulator listens there).
const ALLOW_LOOPBACK_KEY: &str = "adapter_allow_loopback_http";

/// A tenant's `wasi:config` values, sorted: the key of its deployment.
type TenantValues = Vec<(String, String)>;

/// The composed component on the standard wasi:http host, as the conformance cases call it.
#[derive(Clone)]
pub struct HttpSubject {
    proxy: Proxy,
    allow_loopback: bool,
    client: reqwest::Client,
    deployments: Arc<tokio::sync::Mutex<BTreeMap<TenantValues, Arc<Served>>>>,
}

impl HttpSubject {
    /// The subject for a compiled `wasi:http/proxy` component; loopback is refused until
    /// [`Subject::on_simulator`].
    pub fn new(proxy: Proxy) -> Self {
        Self {
            proxy,
            allow_loopback: false,
            client: reqwest::Client::new(),
            deployments: Arc::default(),
        }
    }

    /// The built-in composed component ([`BUILTIN_HTTP`]), compiled.
    pub fn builtin() -> anyhow::Result<Self> {
        Proxy::compile(BUILTIN_HTTP).map(Self::new)
    }

    /// `tenant` as `wasi:config` values: its settings and secrets under their keys, and
    /// whether plain http to loopback is allowed.
    fn values(&self, tenant: &Tenant) -> TenantValues {
        let mut values: BTreeMap<String, String> = tenant.settings.clone();
        for name in tenant.secrets.names() {
            if let Some(secret) = tenant.secrets.get(name) {
                values.insert(name.to_owned(), secret.expose().to_owned());
            }
        }
        values.insert(ALLOW_LOOPBACK_KEY.into(), self.allow_loopback.to_string());
        values.into_iter().collect()
    }

    /// The deployment serving `tenant`, started on first need.
    async fn deployment(&self, tenant: &Tenant) -> std::io::Result<Arc<Served>> {
        let values = self.values(tenant);
        let mut deployments = self.deployments.lock().await;
        if let Some(served) = deployments.get(&values) {
            return Ok(Arc::clone(served));
        }
        let config: WasiConfigVariables = values.iter().cloned().collect();
        let served = Arc::new(self.proxy.serve(config).await?);
        deployments.insert(values, Arc::clone(&served));
        Ok(served)
    }

    /// One request of the API: `GET /v1/describe` without a body, `POST /v1/{op}` with one.
    async fn request(&self, tenant: &Tenant, op: &str, body: Option<Value>) -> Answer {
        let served = self
            .deployment(tenant)
            .await
            .map_err(|e| format!("serving the component: {e}"))?;
        let url = format!("http://{}/v1/{op}", served.addr());
        let request = match body {
            None => self.client.get(url),
            Some(body) => self
                .client
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string()),
        };
        let response = request
            .send()
            .await
            .map_err(|e| format!("no answer to {op}: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("the answer to {op} was cut: {e}"))?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{status} to {op}, not JSON: {e}"))?;
        Ok((status, value))
    }

    /// A call of the API and its answer as an [`Invocation`].
    async fn call<T>(
        &self,
        tenant: &Tenant,
        op: &str,
        body: Option<Value>,
        read: fn(&Value) -> Result<T, String>,
    ) -> Invocation<T> {
        let started = Instant::now();
        let result = match self.request(tenant, op, body).await {
            Ok((200, value)) => {
                read(&value).map_err(|e| broken(format!("the answer to {op}: {e}")))
            }
            Ok((status, value)) => Err(error_answer(op, status, &value)),
            Err(why) => Err(broken(why)),
        };
        Invocation {
            result,
            exchanges: Vec::new(),
            elapsed: started.elapsed(),
            peak_memory: 0,
        }
    }
}

/// An HTTP status and the JSON body of an answer, or why there was none.
type Answer = Result<(u16, Value), String>;

/// A call that got no answer of the API's (a trap ends the connection): the host's error.
fn broken(why: String) -> CallError {
    CallError::Host(InvokeError::GuestCrash {
        trap: why,
        message: String::new(),
    })
}

/// The API's error body (`{"error": {"class", "message", "detail"}}`) as the call's error.
fn error_answer(op: &str, status: u16, value: &Value) -> CallError {
    let e = &value["error"];
    let class = e["class"].as_str().unwrap_or("");
    let message = e["message"].as_str().unwrap_or("").to_owned();
    if e["detail"].is_null() {
        return CallError::Connector(decode::refusal(class, message));
    }
    match decode::error(&e["detail"]) {
        Ok(error) => CallError::Connector(error),
        Err(why) => broken(format!("{status} to {op}: {why}")),
    }
}

/// A contract value as the API's JSON (the host's spelling, which the front reads).
fn wit(value: &impl serde::Serialize) -> Value {
    lifecycle_host::json::to_value(value).unwrap_or(Value::Null)
}

impl Subject for HttpSubject {
    fn name(&self) -> String {
        "the composed component on wasi:http".into()
    }

    fn host(&self) -> Option<&LoadedConnector> {
        None
    }

    fn on_simulator(&self) -> Result<Box<dyn Subject>, Difference> {
        Ok(Box::new(Self {
            allow_loopback: true,
            deployments: Arc::default(),
            ..self.clone()
        }))
    }

    fn describe(&self) -> Call<'_, Result<ConnectorInfo, CallError>> {
        Box::pin(async move {
            self.call(&Tenant::default(), "describe", None, decode::info)
                .await
                .result
        })
    }

    fn check_health<'a>(&'a self, tenant: &'a Tenant) -> Call<'a, Invocation<HealthReport>> {
        Box::pin(self.call(tenant, "check-health", Some(json!({})), decode::health))
    }

    fn sync_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        identity: &'a Identity,
        options: SyncOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        let body = json!({"identity": wit(identity), "options": wit(&options)});
        Box::pin(self.call(tenant, "sync-identity", Some(body), decode::outcome))
    }

    fn manage_relationships<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        add: &'a [Entitlement],
        remove: &'a [Entitlement],
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        let body = json!({
            "user": wit(user), "add": wit(&add), "remove": wit(&remove), "options": wit(&options),
        });
        Box::pin(self.call(tenant, "manage-relationships", Some(body), decode::outcome))
    }

    fn deprovision_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        let body = json!({"user": wit(user), "options": wit(&options)});
        Box::pin(self.call(tenant, "deprovision-identity", Some(body), decode::outcome))
    }

    fn delete_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        options: DeleteOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        let body = json!({"user": wit(user), "options": wit(&options)});
        Box::pin(self.call(tenant, "delete-identity", Some(body), decode::outcome))
    }

    fn list_users<'a>(
        &'a self,
        tenant: &'a Tenant,
        page: &'a PageRequest,
    ) -> Call<'a, Invocation<UserPage>> {
        Box::pin(self.call(tenant, "list-users", Some(wit(page)), decode::users))
    }

    fn list_groups<'a>(
        &'a self,
        tenant: &'a Tenant,
        page: &'a PageRequest,
    ) -> Call<'a, Invocation<GroupPage>> {
        Box::pin(self.call(tenant, "list-groups", Some(wit(page)), decode::groups))
    }

    fn list_resources<'a>(
        &'a self,
        tenant: &'a Tenant,
        kind: &'a str,
        page: &'a PageRequest,
    ) -> Call<'a, Invocation<ResourcePage>> {
        let mut body = wit(page);
        body["kind"] = json!(kind);
        Box::pin(self.call(tenant, "list-resources", Some(body), decode::resources))
    }

    fn reactivate_identity<'a>(
        &'a self,
        tenant: &'a Tenant,
        user: &'a UserRef,
        desired: &'a [Entitlement],
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        let body = json!({"user": wit(user), "desired": wit(&desired), "options": wit(&options)});
        Box::pin(self.call(tenant, "reactivate-identity", Some(body), decode::outcome))
    }

    fn manage_group_roles<'a>(
        &'a self,
        tenant: &'a Tenant,
        group: &'a str,
        add: &'a [RoleGrant],
        remove: &'a [RoleGrant],
        options: ActionOptions,
    ) -> Call<'a, Invocation<Outcome>> {
        let body = json!({"group": group, "add": wit(&add), "remove": wit(&remove),
                          "options": wit(&options)});
        Box::pin(self.call(tenant, "manage-group-roles", Some(body), decode::outcome))
    }
}
