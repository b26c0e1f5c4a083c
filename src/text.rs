//! Text helpers shared by messages and matching: [`quoted`] (a value quoted for a message),
//! [`fold_case`] (the one case fold every case-insensitive comparison uses), and [`find`] /
//! [`split_once`] (substring search). Written out: `str::to_lowercase` cost the component
//! ~6 KB, `{:?}` drags in the Debug escaper, and a `&str` pattern brings core's two-way
//! substring searcher with its slicing panic (which formats with the Debug escaper).

/// The byte offset of the first `needle` in `hay`, as `hay.find(needle)` answers (a plain
/// byte scan: the texts searched are short).
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let last = h.len().checked_sub(n.len())?;
    (0..=last).find(|&i| h.get(i..i + n.len()) == Some(n))
}

/// `s.chars().count()`: the bytes that start a character (core's counter is ~900 bytes of
/// unrolled code).
pub fn char_count(s: &str) -> usize {
    let mut n = 0;
    for b in s.bytes() {
        if b & 0xC0 != 0x80 {
            n += 1;
        }
    }
    n
}

/// `parts.join(sep)`, written out: the standard `join` is ~1.2 KB of generic copying.
pub fn join(parts: &[&str], sep: &str) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(p);
    }
    out
}

/// `hay.split_once(needle)`: the text before and after the first `needle`.
pub fn split_once<'a>(hay: &'a str, needle: &str) -> Option<(&'a str, &'a str)> {
    let i = find(hay, needle)?;
    Some((hay.get(..i)?, hay.get(i + needle.len()..)?))
}

/// `value` in double quotes for a message, `"` and `\` escaped and control characters
/// written `\u{..}`: what `{:?}` shows for text, without the Debug formatter.
pub fn quoted(value: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            continue;
        }
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `s` folded for a case-insensitive comparison: every character lowercased on its own (the
/// Unicode lowercase mapping), and the final sigma `ς` folded to `σ` as Unicode case folding
/// does, so `ΟΔΟΣ`, `οδος` and `οδοσ` compare equal whatever position a sigma takes. Both
/// sides of a comparison go through this function.
pub fn fold_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if c == 'ς' {
            out.push('σ');
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_escapes_like_debug() {
        for s in [
            "plain",
            "a \"b\" \\c",
            "tab\there",
            "nl\n",
            "\u{1b}[31m",
            "é",
        ] {
            let debug = format!("{s:?}");
            let ours = quoted(s);
            if s.contains(['\t', '\n']) {
                assert!(ours.contains("\\u{"), "{ours}");
            } else {
                assert_eq!(ours, debug);
            }
        }
    }

    #[test]
    fn fold_case_is_unicode_aware_and_symmetric() {
        assert_eq!(fold_case("Ada@Example.COM"), "ada@example.com");
        assert_eq!(fold_case("ÄÖÜ Straße"), "äöü straße");
        assert_eq!(fold_case("ΟΔΟΣ"), fold_case("οδος"));
        assert_eq!(fold_case("İ").chars().next(), Some('i'));
        for s in ["Jira Users", "ÉQUIPE", "Σίσυφος"] {
            assert_eq!(fold_case(s), fold_case(&s.to_lowercase()));
            assert_eq!(fold_case(s), fold_case(&s.to_uppercase()));
        }
    }
}
