//! The one filter form Atlassian supports: `attribute eq "string"`, with `"` and `\` escaped.
//! Everything else is `invalidFilter` (never "no results").

/// A parsed `attr eq "value"` comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EqFilter {
    /// Canonical attribute name, as listed in `allowed`.
    pub attr: String,
    /// The unescaped value.
    pub value: String,
}

/// Reads a double-quoted JSON string at the start of `s`; returns it and the rest.
pub(crate) fn quoted(s: &str) -> Result<(String, &str), String> {
    if !s.starts_with('"') {
        return Err("the value must be a double-quoted string".into());
    }
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => {
                let lit = &s[..=i];
                let v: String = serde_json::from_str(lit)
                    .map_err(|e| format!("bad escape in string value: {e}"))?;
                return Ok((v, &s[i + 1..]));
            }
            _ => i += 1,
        }
    }
    Err("unterminated string value".into())
}

/// Parses `filter` against the attributes this endpoint can filter on.
pub(crate) fn parse(filter: &str, allowed: &[&str], schema_urn: &str) -> Result<EqFilter, String> {
    let f = filter.trim_start();
    let end = f
        .find(char::is_whitespace)
        .ok_or_else(|| format!("unsupported filter: {filter}"))?;
    let mut attr = &f[..end];
    if !schema_urn.is_empty()
        && attr.len() > schema_urn.len() + 1
        && attr
            .get(..schema_urn.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(schema_urn))
        && attr.as_bytes()[schema_urn.len()] == b':'
    {
        attr = &attr[schema_urn.len() + 1..];
    }
    let canon = allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(attr))
        .ok_or_else(|| {
            format!(
                "filtering on '{attr}' is not supported; supported: {}",
                allowed.join(", ")
            )
        })?;
    let rest = f[end..].trim_start();
    let op_end = rest
        .find(char::is_whitespace)
        .ok_or_else(|| format!("unsupported filter: {filter}"))?;
    let op = &rest[..op_end];
    if !op.eq_ignore_ascii_case("eq") {
        return Err(format!("operator '{op}' is not supported; only 'eq' is"));
    }
    let (value, tail) = quoted(rest[op_end..].trim_start())?;
    if !tail.trim().is_empty() {
        return Err(format!(
            "only a single comparison is supported, found trailing '{}'",
            tail.trim()
        ));
    }
    Ok(EqFilter {
        attr: canon.to_string(),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    const U: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    #[test]
    fn parses_escaped_values() {
        let f = parse(
            r#"externalId eq "a \"q\" \\ b""#,
            &["userName", "externalId"],
            U,
        )
        .unwrap();
        assert_eq!(f.attr, "externalId");
        assert_eq!(f.value, r#"a "q" \ b"#);
        let f = parse(r#"USERNAME EQ "o'neil+x@exämple.com""#, &["userName"], U).unwrap();
        assert_eq!(f.attr, "userName");
        assert_eq!(f.value, "o'neil+x@exämple.com");
        let f = parse(&format!(r#"{U}:userName eq "a""#), &["userName"], U).unwrap();
        assert_eq!(f.value, "a");
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            r#"userName co "a""#,
            r#"userName sw "a""#,
            r#"userName eq "a" and externalId eq "b""#,
            r#"userName eq "a" or userName eq "b""#,
            r#"emails.value eq "a""#,
            r#"userName eq a"#,
            r#"userName eq "unterminated"#,
            r#"userName pr"#,
            r#"not (userName eq "a")"#,
            "",
            "ééééééééééééééééééééééééééééééééééééééééééééééééé eq \"x\"",
            "userName eq \"\\é\"",
        ] {
            assert!(parse(bad, &["userName", "externalId"], U).is_err(), "{bad}");
        }
    }
}
