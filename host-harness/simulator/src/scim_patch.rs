//! RFC 7644 §3.5.2 PATCH over a resource's writable attributes (a JSON object with canonical
//! names). Supports `attr`, `attr.sub`, `urn:…:attr`, `attr[sub eq "v"]` and
//! `attr[sub eq "v"].sub`; a bare `remove` of a multi-valued attribute empties it, as the RFC
//! says (which is why the connector must never send one for `members`).

use super::scim_filter;
use super::scim_schema::{self, Invalid, Kind};
use serde_json::{Map, Value, json};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Add,
    Replace,
    Remove,
}

struct PPath {
    ext: Option<&'static str>,
    /// `None`: the whole extension object.
    attr: Option<(String, Value)>,
    filter: Option<(String, String)>,
    sub: Option<String>,
}

fn simple_string_def(name: &str) -> Value {
    json!({"name": name, "type": "string", "multiValued": false, "mutability": "readWrite"})
}

fn lookup(kind: Kind, ext: Option<&str>, name: &str) -> Option<Value> {
    match ext {
        None if name.eq_ignore_ascii_case("externalId") => Some(simple_string_def("externalId")),
        None => scim_schema::core_attr(kind, name),
        Some(u) => scim_schema::extensions(kind)
            .into_iter()
            .find(|(x, _)| *x == u)
            .and_then(|(_, attrs)| {
                attrs.into_iter().find(|a| {
                    a["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
            }),
    }
}

fn sub_name(def: &Value, name: &str) -> Option<(String, bool)> {
    def["subAttributes"].as_array()?.iter().find_map(|s| {
        let n = s["name"].as_str()?;
        n.eq_ignore_ascii_case(name)
            .then(|| (n.to_string(), s["mutability"] == "readOnly"))
    })
}

fn invalid_path(p: &str) -> Invalid {
    ("invalidPath", format!("invalid path: {p}"))
}

/// `Ok(None)`: a path naming an unknown attribute (ignored, like unknown attributes in bodies).
fn parse_path(kind: Kind, path: &str) -> Result<Option<PPath>, Invalid> {
    let mut s = path.trim();
    let mut ext = None;
    if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
        let core = match kind {
            Kind::User => scim_schema::CORE_USER,
            Kind::Group => scim_schema::CORE_GROUP,
        };
        let mut candidates: Vec<(&'static str, bool)> = vec![(core, true)];
        candidates.extend(
            scim_schema::extensions(kind)
                .into_iter()
                .map(|(u, _)| (u, false)),
        );
        let Some((u, is_core)) = candidates.into_iter().find(|(u, _)| {
            s.get(..u.len()).is_some_and(|p| p.eq_ignore_ascii_case(u))
                && (s.len() == u.len() || s.as_bytes()[u.len()] == b':')
        }) else {
            return Ok(None);
        };
        let rest = &s[u.len()..];
        if rest.is_empty() {
            if is_core {
                return Err(invalid_path(path));
            }
            if u == scim_schema::ATLASSIAN {
                return Err(("mutability", format!("{u} is read-only")));
            }
            return Ok(Some(PPath {
                ext: Some(u),
                attr: None,
                filter: None,
                sub: None,
            }));
        }
        s = &rest[1..];
        if !is_core {
            ext = Some(u);
        }
    }
    let name_end = s.find(['[', '.']).unwrap_or(s.len());
    let name = &s[..name_end];
    if name.is_empty() {
        return Err(invalid_path(path));
    }
    if ["id", "meta", "schemas", "groups"]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
        && ext.is_none()
    {
        return Err(("mutability", format!("attribute {name} is read-only")));
    }
    let Some(def) = lookup(kind, ext, name) else {
        return Ok(None);
    };
    if def["mutability"] == "readOnly" {
        return Err(("mutability", format!("attribute {name} is read-only")));
    }
    let canon = def["name"].as_str().unwrap_or(name).to_string();
    let mut rest = &s[name_end..];
    let mut filter = None;
    if rest.starts_with('[') {
        let close = find_close(rest).ok_or_else(|| invalid_path(path))?;
        let inner = &rest[1..close];
        let subs: Vec<String> = def["subAttributes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let allowed: Vec<&str> = subs.iter().map(String::as_str).collect();
        let f = scim_filter::parse(inner, &allowed, "")
            .map_err(|e| ("invalidFilter", format!("{e} (in path {path})")))?;
        filter = Some((f.attr, f.value));
        rest = &rest[close + 1..];
    }
    let mut sub = None;
    if let Some(r) = rest.strip_prefix('.') {
        match sub_name(&def, r) {
            Some((n, false)) => sub = Some(n),
            Some((_, true)) => return Err(("mutability", format!("{path} is read-only"))),
            None => return Ok(None),
        }
    } else if !rest.is_empty() {
        return Err(invalid_path(path));
    }
    Ok(Some(PPath {
        ext,
        attr: Some((canon, def)),
        filter,
        sub,
    }))
}

fn find_close(s: &str) -> Option<usize> {
    let mut in_str = false;
    let mut esc = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if esc => esc = false,
            '\\' if in_str => esc = true,
            '"' => in_str = !in_str,
            ']' if !in_str => return Some(i),
            _ => {}
        }
    }
    None
}

fn values(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

fn elem_matches(e: &Value, f: &(String, String)) -> bool {
    match &e[&f.0] {
        Value::String(s) => s.eq_ignore_ascii_case(&f.1),
        Value::Bool(b) => b.to_string() == f.1,
        _ => false,
    }
}

fn merge(into: &mut Value, from: &Value) {
    if !into.is_object() {
        *into = json!({});
    }
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        for (k, v) in b {
            a.insert(k.clone(), v.clone());
        }
    }
}

fn apply_attr(
    container: &mut Map<String, Value>,
    p: &PPath,
    op: Op,
    value: Option<&Value>,
) -> Result<(), Invalid> {
    let (name, def) = p.attr.as_ref().expect("attribute path");
    let need = || {
        value.ok_or((
            "invalidSyntax",
            format!("operation {op:?} on {name} needs a value"),
        ))
    };
    if def["multiValued"] == true {
        let arr = container.entry(name.clone()).or_insert_with(|| json!([]));
        if !arr.is_array() {
            *arr = json!([]);
        }
        let items = arr.as_array_mut().expect("array");
        match (&p.filter, &p.sub, op) {
            (None, None, Op::Remove) => items.clear(),
            (None, Some(s), Op::Remove) => items.iter_mut().for_each(|e| {
                if let Value::Object(o) = e {
                    o.remove(s);
                }
            }),
            (None, None, Op::Add) => {
                for v in values(need()?) {
                    let dup = items.iter().any(|e| {
                        e == &v
                            || (name == "members"
                                && e.get("value").is_some()
                                && e.get("value") == v.get("value"))
                    });
                    if !dup {
                        items.push(v);
                    }
                }
            }
            (None, None, Op::Replace) => *items = values(need()?),
            (None, Some(s), _) => {
                let v = need()?.clone();
                if items.is_empty() {
                    items.push(json!({ s.clone(): v }));
                } else {
                    for e in items.iter_mut() {
                        merge(e, &json!({ s.clone(): v.clone() }));
                    }
                }
            }
            (Some(f), sub, op) => {
                let idx: Vec<usize> = (0..items.len())
                    .filter(|i| elem_matches(&items[*i], f))
                    .collect();
                match (sub, op) {
                    (None, Op::Remove) => {
                        let mut i = 0;
                        items.retain(|_| {
                            let keep = !idx.contains(&i);
                            i += 1;
                            keep
                        });
                    }
                    (Some(s), Op::Remove) => {
                        for i in idx {
                            if let Value::Object(o) = &mut items[i] {
                                o.remove(s);
                            }
                        }
                    }
                    (Some(s), _) => {
                        let v = need()?.clone();
                        if idx.is_empty() {
                            items.push(json!({ f.0.clone(): f.1.clone(), s.clone(): v }));
                        } else {
                            for i in idx {
                                merge(&mut items[i], &json!({ s.clone(): v.clone() }));
                            }
                        }
                    }
                    (None, _) => {
                        let v = need()?.clone();
                        if !v.is_object() {
                            return Err((
                                "invalidValue",
                                format!("{name}[…] needs an object value"),
                            ));
                        }
                        if idx.is_empty() {
                            let mut nv = v;
                            nv[&f.0] = Value::String(f.1.clone());
                            items.push(nv);
                        } else {
                            for i in idx {
                                merge(&mut items[i], &v);
                            }
                        }
                    }
                }
            }
        }
        if items.is_empty() {
            container.remove(name);
        }
        return Ok(());
    }
    if p.filter.is_some() {
        return Err(("invalidPath", format!("{name} is not multi-valued")));
    }
    if def["type"] == "complex" {
        match (&p.sub, op) {
            (None, Op::Remove) => {
                container.remove(name);
            }
            (Some(s), Op::Remove) => {
                if let Some(Value::Object(o)) = container.get_mut(name) {
                    o.remove(s);
                }
            }
            (None, _) => {
                let v = need()?;
                if !v.is_object() {
                    return Err(("invalidValue", format!("{name} needs an object value")));
                }
                merge(
                    container.entry(name.clone()).or_insert_with(|| json!({})),
                    v,
                );
            }
            (Some(s), _) => {
                let v = need()?.clone();
                merge(
                    container.entry(name.clone()).or_insert_with(|| json!({})),
                    &json!({ s.clone(): v }),
                );
            }
        }
        return Ok(());
    }
    if p.sub.is_some() {
        return Err(("invalidPath", format!("{name} has no sub-attributes")));
    }
    match op {
        Op::Remove => {
            container.remove(name);
        }
        _ => {
            let v = need()?.clone();
            if v.is_null() {
                container.remove(name);
            } else {
                container.insert(name.clone(), v);
            }
        }
    }
    Ok(())
}

fn apply_path(
    kind: Kind,
    doc: &mut Map<String, Value>,
    path: &str,
    op: Op,
    value: Option<&Value>,
) -> Result<(), Invalid> {
    let Some(p) = parse_path(kind, path)? else {
        return Ok(());
    };
    if p.attr.is_none() {
        let urn = p.ext.expect("extension");
        match (op, value) {
            (Op::Remove, _) => {
                doc.remove(urn);
            }
            (_, Some(Value::Object(obj))) => {
                if op == Op::Replace {
                    doc.remove(urn);
                }
                for (k, v) in obj {
                    apply_path(kind, doc, &format!("{urn}:{k}"), Op::Add, Some(v))?;
                }
            }
            _ => return Err(("invalidValue", format!("{urn} needs an object value"))),
        }
        return Ok(());
    }
    match p.ext {
        None => apply_attr(doc, &p, op, value),
        Some(urn) => {
            let ext = doc.entry(urn.to_string()).or_insert_with(|| json!({}));
            if !ext.is_object() {
                *ext = json!({});
            }
            let r = apply_attr(ext.as_object_mut().expect("object"), &p, op, value);
            if doc
                .get(urn)
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
            {
                doc.remove(urn);
            }
            r
        }
    }
}

/// Applies a PatchOp body to `doc`.
pub(crate) fn apply(kind: Kind, doc: &mut Map<String, Value>, body: &Value) -> Result<(), Invalid> {
    let Value::Object(b) = body else {
        return Err(("invalidSyntax", "the body must be a PatchOp object".into()));
    };
    if let Some(s) = b.get("schemas")
        && !s
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(scim_schema::PATCH_OP)))
    {
        return Err((
            "invalidSyntax",
            format!("schemas must contain {}", scim_schema::PATCH_OP),
        ));
    }
    let ops = b
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .and_then(|(_, v)| v.as_array())
        .ok_or(("invalidSyntax", "Operations must be an array".to_string()))?;
    for o in ops {
        let op = match o
            .get("op")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("add") => Op::Add,
            Some("replace") => Op::Replace,
            Some("remove") => Op::Remove,
            other => {
                return Err((
                    "invalidSyntax",
                    format!("unknown op {}", other.unwrap_or("(missing)")),
                ));
            }
        };
        let value = o.get("value");
        match o.get("path").and_then(Value::as_str) {
            Some(path) if !path.trim().is_empty() => apply_path(kind, doc, path, op, value)?,
            _ => {
                if op == Op::Remove {
                    return Err(("noTarget", "remove needs a path".into()));
                }
                let Some(Value::Object(obj)) = value else {
                    return Err((
                        "invalidValue",
                        "an operation without path needs an object value".into(),
                    ));
                };
                for (k, v) in obj {
                    if ["schemas", "id", "meta"]
                        .iter()
                        .any(|r| r.eq_ignore_ascii_case(k))
                    {
                        continue;
                    }
                    apply_path(kind, doc, k, op, Some(v))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Map<String, Value> {
        json!({"userName": "a", "emails": [{"value": "a@x", "type": "work", "primary": true}],
               "name": {"givenName": "A"}, "active": true})
        .as_object()
        .unwrap()
        .clone()
    }

    fn patch(ops: Value) -> Value {
        json!({"schemas": [scim_schema::PATCH_OP], "Operations": ops})
    }

    #[test]
    fn replace_simple_and_complex() {
        let mut d = doc();
        apply(Kind::User, &mut d, &patch(json!([
            {"op": "replace", "path": "active", "value": false},
            {"op": "Replace", "path": "name.familyName", "value": "B"},
            {"op": "add", "path": "emails[type eq \"work\"].value", "value": "b@x"},
            {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"},
            {"op": "replace", "value": {"DISPLAYNAME": "Bee", "unknownThing": 1}}
        ]))).unwrap();
        assert_eq!(d["active"], false);
        assert_eq!(d["name"], json!({"givenName": "A", "familyName": "B"}));
        assert_eq!(d["emails"][0]["value"], "b@x");
        assert_eq!(d[scim_schema::ENTERPRISE]["department"], "R&D");
        assert_eq!(d["displayName"], "Bee");
        assert!(d.get("unknownThing").is_none());
    }

    #[test]
    fn members_filtered_remove_and_bare_remove() {
        let mut d = json!({"displayName": "g", "members": [{"value": "1"}, {"value": "2"}, {"value": "3"}]})
            .as_object().unwrap().clone();
        apply(
            Kind::Group,
            &mut d,
            &patch(json!([{"op": "remove", "path": "members[value eq \"2\"]"}])),
        )
        .unwrap();
        assert_eq!(d["members"], json!([{"value": "1"}, {"value": "3"}]));
        apply(Kind::Group, &mut d, &patch(json!([{"op": "add", "path": "members", "value": [{"value": "1"}, {"value": "4"}]}]))).unwrap();
        assert_eq!(d["members"].as_array().unwrap().len(), 3);
        apply(
            Kind::Group,
            &mut d,
            &patch(json!([{"op": "remove", "path": "members", "value": [{"value": "1"}]}])),
        )
        .unwrap();
        assert!(
            d.get("members").is_none(),
            "a bare remove empties the attribute"
        );
    }

    #[test]
    fn errors() {
        let mut d = doc();
        assert_eq!(
            apply(Kind::User, &mut d, &patch(json!([{"op": "remove"}])))
                .unwrap_err()
                .0,
            "noTarget"
        );
        assert_eq!(
            apply(
                Kind::User,
                &mut d,
                &patch(json!([{"op": "move", "path": "a"}]))
            )
            .unwrap_err()
            .0,
            "invalidSyntax"
        );
        assert_eq!(
            apply(
                Kind::User,
                &mut d,
                &patch(json!([{"op": "replace", "path": "id", "value": "x"}]))
            )
            .unwrap_err()
            .0,
            "mutability"
        );
        assert_eq!(
            apply(Kind::User, &mut d, &json!({"Operations": 3}))
                .unwrap_err()
                .0,
            "invalidSyntax"
        );
        assert_eq!(
            apply(
                Kind::User,
                &mut d,
                &patch(json!([{"op": "add", "path": "emails[type co \"w\"]", "value": {}}]))
            )
            .unwrap_err()
            .0,
            "invalidFilter"
        );
        // Multi-byte paths never panic.
        for p in [
            "ürn:x",
            "urn:ietf:params:scim:schemas:extension:enterpriseé",
            "é",
            "emails[é",
            "name.é",
            r#"emails[value eq "\é"]"#,
        ] {
            let _ = apply(
                Kind::User,
                &mut d,
                &patch(json!([{"op": "add", "path": p, "value": "x"}])),
            );
        }
    }
}
