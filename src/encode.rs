//! Percent-encoding of path segments and query values, shared by every URL builder.
//!
//! Only RFC 3986 unreserved characters stay as they are, so `:` in account ids, `+` and `@`
//! in emails and `"` in SCIM filters are always encoded (`%20` for a space, never `+`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Everything but `A-Z a-z 0-9 - . _ ~` is encoded.
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Encodes one path segment. A value that is all dots and would be read as a dot segment
/// (`.`, `..`) is encoded dot by dot (`%2E`), so no value can silently change the path's
/// shape: URL parsers still treat `%2E%2E` as `..`, and the host refuses every URL with a
/// dot segment, so such a request is never sent. Callers refuse these ids before that.
pub fn segment(value: &str) -> String {
    if is_dot_segment(value) {
        return value.replace('.', "%2E");
    }
    utf8_percent_encode(value, STRICT).to_string()
}

/// True for `.` and `..`: ids that, put in a path, would address another resource.
pub fn is_dot_segment(value: &str) -> bool {
    matches!(value, "." | "..")
}

/// Encodes one query-string value (or name).
pub fn query(value: &str) -> String {
    utf8_percent_encode(value, STRICT).to_string()
}

/// Decodes a percent-encoded path segment; invalid UTF-8 is replaced, never a panic.
pub fn decode(value: &str) -> String {
    percent_decode_str(value).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_and_non_ascii() {
        assert_eq!(segment("712020:6c1e-a"), "712020%3A6c1e-a");
        assert_eq!(segment("a/b"), "a%2Fb");
        assert_eq!(
            query("userName eq \"a+b@x.com\""),
            "userName%20eq%20%22a%2Bb%40x.com%22"
        );
        assert_eq!(query("é"), "%C3%A9");
        assert_eq!(decode("abc%20d%FF"), "abc d\u{FFFD}");
    }

    #[test]
    fn dot_segments_never_stay_dots() {
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("."), "%2E");
        assert_eq!(segment("a..b"), "a..b");
        assert_eq!(segment("..."), "...");
    }
}
