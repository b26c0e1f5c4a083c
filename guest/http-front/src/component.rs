//! The `wasi:http/incoming-handler` export (wasm32): one incoming request is one invocation.
//! It routes the request, reads its JSON body, asks the connector for its declaration
//! (`describe`), has the adapter configure the tenant from `wasi:config` (`tenant.configure`:
//! only names of secrets come back), calls the action, and answers with JSON.

use serde_json::{Map, Value, json};

use crate::routes::{self, Action};
use crate::{json_in, json_out};

#[allow(missing_docs)]
pub(crate) mod bindings {
    wit_bindgen::generate!({
        path: ["../../wit/since_v0.2.0", "../platform-wit"],
        world: "lifecycle:platform/http-front",
        generate_all,
    });
}

use bindings::exports::wasi::http::incoming_handler::Guest;
use bindings::lifecycle::connector::lifecycle as connector;
use bindings::lifecycle::platform::tenant;
use bindings::wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use bindings::wasi::io::streams::StreamError;

/// Largest request body the API reads.
const MAX_BODY_BYTES: usize = 1 << 20;

/// Why a request got no answer from the connector.
enum Fail {
    /// Refused by the API itself: status, class, message.
    Api(u16, &'static str, String),
    /// The connector's error.
    Connector(bindings::lifecycle::connector::types::ConnectorError),
}

fn bad_input(message: String) -> Fail {
    Fail::Api(400, "invalid-input", message)
}

fn method(m: Method) -> String {
    match m {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(s) => s,
    }
}

fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, Fail> {
    let unreadable = || Fail::Api(400, "invalid-input", "the body could not be read".into());
    let incoming = request.consume().map_err(|()| unreadable())?;
    let mut body = Vec::new();
    {
        let stream = incoming.stream().map_err(|()| unreadable())?;
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => body.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(_)) => return Err(unreadable()),
            }
            if body.len() > MAX_BODY_BYTES {
                return Err(Fail::Api(
                    413,
                    "invalid-input",
                    format!("the body exceeds {MAX_BODY_BYTES} bytes"),
                ));
            }
        }
    }
    drop(bindings::wasi::http::types::IncomingBody::finish(incoming));
    Ok(body)
}

fn run(action: Action, body: &Map<String, Value>) -> Result<Value, Fail> {
    let info = connector::describe();
    if action == Action::Describe {
        return Ok(json_out::info(&info));
    }
    let dry_run = action.mutates() && json_in::dry_run(body);
    let config =
        tenant::configure(&info, dry_run).map_err(|m| Fail::Api(500, "invalid-config", m))?;
    let c = Fail::Connector;
    Ok(match action {
        Action::Describe => json_out::info(&info),
        Action::CheckHealth => json_out::health(&connector::check_health(&config).map_err(c)?),
        Action::SyncIdentity => {
            let identity = json_in::identity(body).map_err(bad_input)?;
            let options = json_in::sync_options(body).map_err(bad_input)?;
            json_out::outcome(&connector::sync_identity(&config, &identity, options).map_err(c)?)
        }
        Action::ManageRelationships => {
            let user = json_in::user(body).map_err(bad_input)?;
            let add = json_in::entitlements(body, "add").map_err(bad_input)?;
            let remove = json_in::entitlements(body, "remove").map_err(bad_input)?;
            let options = json_in::action_options(body).map_err(bad_input)?;
            json_out::outcome(
                &connector::manage_relationships(&config, &user, &add, &remove, options)
                    .map_err(c)?,
            )
        }
        Action::DeprovisionIdentity => {
            let user = json_in::user(body).map_err(bad_input)?;
            let options = json_in::action_options(body).map_err(bad_input)?;
            json_out::outcome(&connector::deprovision_identity(&config, &user, options).map_err(c)?)
        }
        Action::DeleteIdentity => {
            let user = json_in::user(body).map_err(bad_input)?;
            let options = json_in::delete_options(body).map_err(bad_input)?;
            json_out::outcome(&connector::delete_identity(&config, &user, options).map_err(c)?)
        }
        Action::ListUsers => {
            let page = json_in::page(body).map_err(bad_input)?;
            json_out::users(&connector::list_users(&config, &page).map_err(c)?)
        }
        Action::ListGroups => {
            let page = json_in::page(body).map_err(bad_input)?;
            json_out::groups(&connector::list_groups(&config, &page).map_err(c)?)
        }
        Action::ListResources => {
            let kind = json_in::kind(body).map_err(bad_input)?;
            let page = json_in::page(body).map_err(bad_input)?;
            json_out::resources(&connector::list_resources(&config, &kind, &page).map_err(c)?)
        }
        Action::ReactivateIdentity => {
            let user = json_in::user(body).map_err(bad_input)?;
            let desired = json_in::entitlements(body, "desired").map_err(bad_input)?;
            let options = json_in::action_options(body).map_err(bad_input)?;
            json_out::outcome(
                &connector::reactivate_identity(&config, &user, &desired, options).map_err(c)?,
            )
        }
        Action::ManageGroupRoles => {
            let group = json_in::group(body).map_err(bad_input)?;
            let add = json_in::role_grants(body, "add").map_err(bad_input)?;
            let remove = json_in::role_grants(body, "remove").map_err(bad_input)?;
            let options = json_in::action_options(body).map_err(bad_input)?;
            json_out::outcome(
                &connector::manage_group_roles(&config, &group, &add, &remove, options)
                    .map_err(c)?,
            )
        }
    })
}

fn answer(request: &IncomingRequest) -> (u16, Value) {
    let path = request.path_with_query().unwrap_or_default();
    let result = routes::route(&method(request.method()), &path)
        .map_err(|r| {
            let class = if r.status == 404 {
                "not-found"
            } else {
                "unsupported"
            };
            Fail::Api(r.status, class, r.message)
        })
        .and_then(|action| {
            let body = read_body(request)?;
            let body = json_in::object(&body).map_err(bad_input)?;
            run(action, &body)
        });
    match result {
        Ok(value) => (200, value),
        Err(Fail::Api(status, class, message)) => (
            status,
            json!({"error": {"class": class, "message": message, "detail": null}}),
        ),
        Err(Fail::Connector(e)) => {
            let (class, detail) = json_out::error(&e);
            let message = json_out::error_message(&e);
            (
                routes::status_of(class),
                json!({"error": {"class": class, "message": message, "detail": detail}}),
            )
        }
    }
}

fn respond(out: ResponseOutparam, status: u16, value: &Value) {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let headers = Fields::from_list(&[("content-type".into(), b"application/json".to_vec())])
        .unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let Ok(body) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(stream) = body.write() {
        for chunk in bytes.chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
    }
    let _ = OutgoingBody::finish(body, None);
}

struct Front;

impl Guest for Front {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let (status, value) = answer(&request);
        drop(request);
        respond(out, status, &value);
    }
}

bindings::export!(Front with_types_in bindings);
