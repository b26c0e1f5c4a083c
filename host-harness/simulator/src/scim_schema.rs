//! SCIM discovery documents (Schemas, ResourceTypes, ServiceProviderConfig) and the schema-driven
//! input sanitizer: unknown attributes are ignored, read-only ones dropped, names canonicalized.

use serde_json::{Map, Value, json};

pub(crate) const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(crate) const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub(crate) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub(crate) const ATLASSIAN: &str = "urn:scim:schemas:extension:atlassian-external:1.0";
pub(crate) const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub(crate) const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub(crate) const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[allow(clippy::too_many_arguments)]
fn attr(
    name: &str,
    ty: &str,
    multi: bool,
    required: bool,
    mutability: &str,
    returned: &str,
    uniqueness: &str,
    subs: Vec<Value>,
) -> Value {
    let mut a = json!({
        "name": name, "type": ty, "multiValued": multi, "description": name,
        "required": required, "caseExact": false, "mutability": mutability,
        "returned": returned, "uniqueness": uniqueness,
    });
    if !subs.is_empty() {
        a["subAttributes"] = Value::Array(subs);
    }
    a
}

fn s(name: &str) -> Value {
    attr(
        name,
        "string",
        false,
        false,
        "readWrite",
        "default",
        "none",
        vec![],
    )
}

fn with(mut v: Value, key: &str, val: Value) -> Value {
    v[key] = val;
    v
}

fn user_attrs() -> Vec<Value> {
    vec![
        attr(
            "userName",
            "string",
            false,
            true,
            "readWrite",
            "default",
            "server",
            vec![],
        ),
        attr(
            "name",
            "complex",
            false,
            false,
            "readWrite",
            "default",
            "none",
            vec![
                s("formatted"),
                s("familyName"),
                s("givenName"),
                s("middleName"),
                s("honorificPrefix"),
                s("honorificSuffix"),
            ],
        ),
        s("displayName"),
        s("nickName"),
        s("title"),
        s("preferredLanguage"),
        s("timezone"),
        attr(
            "active",
            "boolean",
            false,
            false,
            "readWrite",
            "default",
            "none",
            vec![],
        ),
        attr(
            "emails",
            "complex",
            true,
            false,
            "readWrite",
            "default",
            "none",
            vec![
                s("value"),
                with(
                    s("type"),
                    "canonicalValues",
                    json!(["work", "home", "other"]),
                ),
                attr(
                    "primary",
                    "boolean",
                    false,
                    false,
                    "readWrite",
                    "default",
                    "none",
                    vec![],
                ),
            ],
        ),
        attr(
            "groups",
            "complex",
            true,
            false,
            "readOnly",
            "default",
            "none",
            vec![
                attr(
                    "value",
                    "string",
                    false,
                    false,
                    "readOnly",
                    "default",
                    "none",
                    vec![],
                ),
                with(
                    attr(
                        "$ref",
                        "reference",
                        false,
                        false,
                        "readOnly",
                        "default",
                        "none",
                        vec![],
                    ),
                    "referenceTypes",
                    json!(["Group"]),
                ),
                attr(
                    "display",
                    "string",
                    false,
                    false,
                    "readOnly",
                    "default",
                    "none",
                    vec![],
                ),
                attr(
                    "type",
                    "string",
                    false,
                    false,
                    "readOnly",
                    "default",
                    "none",
                    vec![],
                ),
            ],
        ),
    ]
}

fn group_attrs() -> Vec<Value> {
    vec![
        attr(
            "displayName",
            "string",
            false,
            true,
            "readWrite",
            "default",
            "server",
            vec![],
        ),
        attr(
            "members",
            "complex",
            true,
            false,
            "readWrite",
            "default",
            "none",
            vec![
                attr(
                    "value",
                    "string",
                    false,
                    false,
                    "immutable",
                    "default",
                    "none",
                    vec![],
                ),
                with(
                    attr(
                        "$ref",
                        "reference",
                        false,
                        false,
                        "immutable",
                        "default",
                        "none",
                        vec![],
                    ),
                    "referenceTypes",
                    json!(["User"]),
                ),
                attr(
                    "display",
                    "string",
                    false,
                    false,
                    "readOnly",
                    "default",
                    "none",
                    vec![],
                ),
                with(
                    attr(
                        "type",
                        "string",
                        false,
                        false,
                        "immutable",
                        "default",
                        "none",
                        vec![],
                    ),
                    "canonicalValues",
                    json!(["User"]),
                ),
            ],
        ),
    ]
}

fn enterprise_attrs() -> Vec<Value> {
    vec![s("department"), s("organization")]
}

fn atlassian_attrs() -> Vec<Value> {
    vec![attr(
        "atlassianAccountId",
        "string",
        false,
        false,
        "readOnly",
        "default",
        "none",
        vec![],
    )]
}

fn schema_doc(id: &str, name: &str, attrs: Vec<Value>, base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id, "name": name, "description": name, "attributes": attrs,
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")}
    })
}

/// All schema documents.
pub(crate) fn schemas(base: &str, atlassian: bool) -> Vec<Value> {
    let mut v = vec![
        schema_doc(CORE_USER, "User", user_attrs(), base),
        schema_doc(CORE_GROUP, "Group", group_attrs(), base),
        schema_doc(ENTERPRISE, "EnterpriseUser", enterprise_attrs(), base),
    ];
    if atlassian {
        v.push(schema_doc(
            ATLASSIAN,
            "AtlassianExternal",
            atlassian_attrs(),
            base,
        ));
    }
    v
}

/// Both resource types.
pub(crate) fn resource_types(base: &str, atlassian: bool) -> Vec<Value> {
    let mut extensions = vec![json!({"schema": ENTERPRISE, "required": false})];
    if atlassian {
        extensions.push(json!({"schema": ATLASSIAN, "required": false}));
    }
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users", "description": "User Account",
            "schema": CORE_USER,
            "schemaExtensions": extensions,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")}
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Group",
            "schema": CORE_GROUP,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")}
        }),
    ]
}

/// The ServiceProviderConfig document.
pub(crate) fn service_provider_config(base: &str, page: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://support.atlassian.com/provisioning-users/docs/understand-user-provisioning/",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": page},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken", "name": "OAuth Bearer Token",
            "description": "Authentication with the directory API key", "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")}
    })
}

/// Which resource a sanitizer works for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Group,
}

fn find<'a>(attrs: &'a [Value], name: &str) -> Option<&'a Value> {
    attrs.iter().find(|a| {
        a["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

/// Canonical attribute definition for `name` in `kind` (core schema only).
pub(crate) fn core_attr(kind: Kind, name: &str) -> Option<Value> {
    let attrs = match kind {
        Kind::User => user_attrs(),
        Kind::Group => group_attrs(),
    };
    find(&attrs, name).cloned()
}

/// Extension URNs a kind accepts, with their attributes.
pub(crate) fn extensions(kind: Kind) -> Vec<(&'static str, Vec<Value>)> {
    match kind {
        Kind::User => vec![
            (ENTERPRISE, enterprise_attrs()),
            (ATLASSIAN, atlassian_attrs()),
        ],
        Kind::Group => vec![],
    }
}

/// Canonical extension URN for `name`, if known.
pub(crate) fn extension_urn(kind: Kind, name: &str) -> Option<&'static str> {
    extensions(kind)
        .into_iter()
        .map(|(u, _)| u)
        .find(|u| u.eq_ignore_ascii_case(name))
}

/// An input problem: (scimType, detail).
pub(crate) type Invalid = (&'static str, String);

fn check_type(def: &Value, v: &Value, path: &str) -> Result<(), Invalid> {
    let ok = match def["type"].as_str().unwrap_or("string") {
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "decimal" => v.is_number(),
        "complex" => v.is_object(),
        _ => v.is_string(),
    };
    if ok {
        Ok(())
    } else {
        Err((
            "invalidValue",
            format!(
                "attribute {path} must be of type {}",
                def["type"].as_str().unwrap_or("string")
            ),
        ))
    }
}

fn clean_value(def: &Value, v: &Value, path: &str) -> Result<Option<Value>, Invalid> {
    if v.is_null() {
        return Ok(None);
    }
    if def["type"] == "complex" {
        let subs = def["subAttributes"].as_array().cloned().unwrap_or_default();
        let Value::Object(obj) = v else {
            return Err((
                "invalidValue",
                format!("attribute {path} must be an object"),
            ));
        };
        let mut out = Map::new();
        for (k, sv) in obj {
            let Some(sd) = find(&subs, k) else { continue };
            if sd["mutability"] == "readOnly" || sv.is_null() {
                continue;
            }
            let name = sd["name"].as_str().unwrap_or(k).to_string();
            check_type(sd, sv, &format!("{path}.{name}"))?;
            out.insert(name, sv.clone());
        }
        return Ok((!out.is_empty()).then_some(Value::Object(out)));
    }
    check_type(def, v, path)?;
    Ok(Some(v.clone()))
}

/// Keeps the known, writable attributes of `input` under their canonical names.
pub(crate) fn sanitize(
    kind: Kind,
    input: &Map<String, Value>,
) -> Result<Map<String, Value>, Invalid> {
    let attrs = match kind {
        Kind::User => user_attrs(),
        Kind::Group => group_attrs(),
    };
    let mut out = Map::new();
    for (k, v) in input {
        if k.eq_ignore_ascii_case("externalId") {
            match v {
                Value::Null => {}
                Value::String(_) => {
                    out.insert("externalId".into(), v.clone());
                }
                _ => return Err(("invalidValue", "externalId must be a string".into())),
            }
            continue;
        }
        if let Some(urn) = extension_urn(kind, k) {
            let ext_attrs = extensions(kind)
                .into_iter()
                .find(|(u, _)| *u == urn)
                .map(|(_, a)| a)
                .unwrap_or_default();
            let Value::Object(obj) = v else { continue };
            let mut ext = Map::new();
            for (ek, ev) in obj {
                let Some(def) = find(&ext_attrs, ek) else {
                    continue;
                };
                if def["mutability"] == "readOnly" {
                    continue;
                }
                let name = def["name"].as_str().unwrap_or(ek).to_string();
                if let Some(cv) = clean_value(def, ev, &name)? {
                    ext.insert(name, cv);
                }
            }
            if !ext.is_empty() {
                out.insert(urn.to_string(), Value::Object(ext));
            }
            continue;
        }
        let Some(def) = find(&attrs, k) else { continue };
        if def["mutability"] == "readOnly" {
            continue;
        }
        let name = def["name"].as_str().unwrap_or(k).to_string();
        if def["multiValued"] == true {
            let items: Vec<Value> = match v {
                Value::Null => continue,
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            let mut clean = Vec::new();
            for it in &items {
                if let Some(cv) = clean_value(def, it, &name)? {
                    clean.push(cv);
                }
            }
            if !clean.is_empty() {
                out.insert(name, Value::Array(clean));
            }
        } else if let Some(cv) = clean_value(def, v, &name)? {
            out.insert(name, cv);
        }
    }
    Ok(out)
}
