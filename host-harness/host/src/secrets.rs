//! Tenant secrets: values the host holds and injects by name, and never shows; and the
//! [`Scrubber`] that takes them out of whatever an upstream sends back.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest as _, Sha256};

/// A secret value. Its `Debug` and `Display` are redacted, so it cannot reach a log or an
/// error message by accident; the only way to the value is [`SecretValue::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value read from a trusted source (config file, secret store, stdin).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Why `value` cannot be the secret `key`, or `None`: a secret goes into an HTTP header,
    /// so a newline or any other control character in it is refused where it is loaded (a
    /// config error), not when the first request is refused. The reason never quotes it.
    pub fn check(key: &str, value: &str) -> Option<String> {
        if value.contains(['\n', '\r']) {
            Some(format!("secret `{key}` has a line break inside it"))
        } else if value.chars().any(char::is_control) {
            Some(format!("secret `{key}` has a control character in it"))
        } else {
            None
        }
    }

    /// The value itself. Call only where it is put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A tenant's secrets by key name (for example `api_token`).
#[derive(Clone, Default, Debug)]
pub struct Secrets(BTreeMap<String, SecretValue>);

impl Secrets {
    /// Adds or replaces a secret.
    pub fn insert(&mut self, key: impl Into<String>, value: SecretValue) {
        self.0.insert(key.into(), value);
    }

    /// Removes a secret, returning it if it was there.
    pub fn remove(&mut self, key: &str) -> Option<SecretValue> {
        self.0.remove(key)
    }

    /// Looks a secret up by key name.
    pub fn get(&self, key: &str) -> Option<&SecretValue> {
        self.0.get(key)
    }

    /// The key names, which are all the guest ever learns about secrets.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Every secret value, for scanning output that must not contain any of them.
    pub fn values(&self) -> impl Iterator<Item = &SecretValue> {
        self.0.values()
    }
}

impl FromIterator<(String, SecretValue)> for Secrets {
    fn from_iter<I: IntoIterator<Item = (String, SecretValue)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// What a scrubbed secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Patterns shorter than this many bytes match only as a whole token (see [`Scrubber`]).
pub const SHORT_PATTERN: usize = 8;

/// How many tenants' scrubbers [`Scrubber::shared_for_tenant`] keeps.
pub const CACHED_TENANTS: usize = 64;

/// How many leading bytes of each pattern the [`Scrubber`]'s pre-pass looks for.
const PREFIX: usize = 8;

/// Base64 fragments (see [`Scrubber`]) are used only when at least this many characters long.
const MIN_FRAGMENT: usize = 16;

/// Everything but the unreserved characters of RFC 3986, which no encoder escapes.
const URL_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Takes a tenant's secret values out of text that came from outside: built once from the
/// secrets (and the settings, for Basic credentials), then applied to every response body,
/// header and transport error before the guest, a terminal or a record sees it.
///
/// For each non-empty secret value it finds:
/// - the value itself, JSON-escaped (`\"`, `\\`, `\/`) and percent-encoded;
/// - its base64, standard and URL-safe alphabets, with and without padding;
/// - the base64 of `user:value` for every setting value as `user` (the Basic credential the
///   host builds, whichever setting the guest named as the user), in the same four forms;
/// - base64 fragments: the encoding of the value's bytes at each of the three alignments a
///   base64 stream can put them at, so the value is found inside *any* encoded text
///   (`Bearer value`, `someone:value`, a whole header encoded) — the few characters at
///   each end that also encode neighbouring bytes stay, never more than two bytes of the
///   value. Used only when a fragment is at least 16 characters, so it cannot match by
///   chance.
///
/// Each occurrence (overlapping ones merged) becomes [`REDACTED`]. Matching is one pass of an
/// Aho-Corasick automaton: linear in the text, whatever the number of patterns. Before it, a
/// pass for the patterns' distinct first [`PREFIX`] bytes (a few dozen patterns share a
/// handful of prefixes, which a SIMD search skips over at several GB/s) decides whether
/// the full pass is needed at all: an answer in which no prefix occurs holds no pattern, and
/// almost every answer is such an answer.
///
/// The length rule: a pattern of at least [`SHORT_PATTERN`] bytes is replaced wherever it
/// occurs. A shorter one (a secret of fewer than 8 characters, or its base64) is never
/// skipped, but matches only as a whole token — not preceded or followed by an ASCII letter,
/// digit, `-` or `_` — so that a 3-character secret is still taken out of `Bearer abc` or
/// `"token": "abc"` while the words and JSON keys that merely contain it are left readable.
/// Such a secret is no real credential; the rule keeps it from turning every answer into
/// noise without letting an echo of it through.
#[derive(Clone, Default)]
pub struct Scrubber {
    matcher: Option<AhoCorasick>,
    /// The patterns' distinct first [`PREFIX`] bytes: where none occurs, nothing matches.
    prefixes: Option<AhoCorasick>,
    /// Per pattern id: whether it matches only as a whole token.
    bounded: Vec<bool>,
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scrubber({} patterns)", self.bounded.len())
    }
}

impl Scrubber {
    /// A scrubber for `secrets`, with every string of `users` as a possible Basic user.
    pub fn new<'a>(
        secrets: impl IntoIterator<Item = &'a SecretValue>,
        users: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let users: Vec<&str> = users.into_iter().filter(|u| !u.is_empty()).collect();
        let mut patterns: BTreeSet<Vec<u8>> = BTreeSet::new();
        for secret in secrets {
            let value = secret.expose();
            if value.is_empty() {
                continue;
            }
            patterns.insert(value.as_bytes().to_vec());
            let json = serde_json::to_string(value).unwrap_or_default();
            let json = json
                .strip_prefix('"')
                .and_then(|j| j.strip_suffix('"'))
                .unwrap_or(value);
            patterns.insert(json.as_bytes().to_vec());
            patterns.insert(json.replace('/', "\\/").into_bytes());
            patterns.insert(
                utf8_percent_encode(value, URL_ESCAPED)
                    .to_string()
                    .into_bytes(),
            );
            for engine in BASE64 {
                patterns.insert(engine.encode(value).into_bytes());
                for user in &users {
                    patterns.insert(engine.encode(format!("{user}:{value}")).into_bytes());
                }
            }
            let bytes = value.as_bytes();
            for align in 0..3 {
                let Some(rest) = bytes.get(align..) else {
                    break;
                };
                let whole = rest.len() / 3 * 3;
                if whole / 3 * 4 < MIN_FRAGMENT {
                    break;
                }
                let fragment = &rest[..whole];
                for engine in [&BASE64[1], &BASE64[3]] {
                    patterns.insert(engine.encode(fragment).into_bytes());
                }
            }
        }
        patterns.remove(&Vec::new());
        if patterns.is_empty() {
            return Self::default();
        }
        let patterns: Vec<Vec<u8>> = patterns.into_iter().collect();
        let bounded = patterns.iter().map(|p| p.len() < SHORT_PATTERN).collect();
        let prefixes: BTreeSet<&[u8]> = patterns
            .iter()
            .map(|p| p.get(..PREFIX).unwrap_or(p))
            .collect();
        // Leftmost-first: a search that reports a match whenever any prefix occurs, and lets
        // the builder pick its fastest searcher. Without it, every answer takes the full pass.
        let prefixes = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(prefixes)
            .ok();
        // A contiguous NFA: built in microseconds (a DFA takes orders of magnitude longer for
        // little gain on a few dozen patterns), and still one linear pass to search.
        match AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&patterns)
        {
            Ok(matcher) => Self {
                matcher: Some(matcher),
                prefixes,
                bounded,
            },
            // Cannot happen for a tenant's few patterns; fail closed all the same.
            Err(_) => Self {
                matcher: None,
                prefixes: None,
                bounded: vec![false],
            },
        }
    }

    /// A scrubber for a tenant's secrets, with its settings' values as possible Basic users.
    pub fn for_tenant(tenant: &crate::Tenant) -> Self {
        Self::new(
            tenant.secrets.values(),
            tenant.settings.values().map(String::as_str),
        )
    }

    /// The scrubber of a tenant, built once per tenant: invocations of a tenant whose secrets
    /// and settings are unchanged share one (the process keeps the last [`CACHED_TENANTS`],
    /// by a digest of those values). A changed secret or setting is another tenant.
    pub fn shared_for_tenant(tenant: &crate::Tenant) -> Arc<Self> {
        static CACHE: Mutex<Vec<([u8; 32], Arc<Scrubber>)>> = Mutex::new(Vec::new());
        let mut hash = Sha256::new();
        for (kind, values) in [
            (
                "secrets",
                tenant
                    .secrets
                    .values()
                    .map(SecretValue::expose)
                    .collect::<Vec<_>>(),
            ),
            (
                "settings",
                tenant.settings.values().map(String::as_str).collect(),
            ),
        ] {
            hash.update(kind.as_bytes());
            hash.update((values.len() as u64).to_le_bytes());
            for value in values {
                hash.update((value.len() as u64).to_le_bytes());
                hash.update(value.as_bytes());
            }
        }
        let key: [u8; 32] = hash.finalize().into();
        let mut cache = CACHE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(i) = cache.iter().position(|(k, _)| *k == key) {
            // Most recently used last.
            let entry = cache.remove(i);
            let scrubber = entry.1.clone();
            cache.push(entry);
            return scrubber;
        }
        let scrubber = Arc::new(Self::for_tenant(tenant));
        if cache.len() >= CACHED_TENANTS {
            cache.remove(0);
        }
        cache.push((key, scrubber.clone()));
        scrubber
    }

    /// Whether there is nothing to scrub (a tenant without secrets).
    pub fn is_empty(&self) -> bool {
        self.bounded.is_empty()
    }

    /// `input` with every secret form replaced by [`REDACTED`]; borrowed when there was none.
    pub fn scrub_bytes<'a>(&self, input: &'a [u8]) -> Cow<'a, [u8]> {
        if self.is_empty() {
            return Cow::Borrowed(input);
        }
        let Some(matcher) = &self.matcher else {
            return Cow::Owned(REDACTED.as_bytes().to_vec());
        };
        // Every occurrence of a pattern begins with its prefix: none, no occurrence.
        if let Some(prefixes) = &self.prefixes
            && prefixes.try_find(input).is_ok_and(|m| m.is_none())
        {
            return Cow::Borrowed(input);
        }
        let Ok(matches) = matcher.try_find_overlapping_iter(input) else {
            return Cow::Owned(REDACTED.as_bytes().to_vec());
        };
        let word = |i: usize| {
            input
                .get(i)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        };
        // A short pattern counts only with no word character right before or after it.
        let alone = |start: usize, end: usize| {
            let before = start.checked_sub(1).is_some_and(word);
            !before && !word(end)
        };
        let mut spans: Vec<(usize, usize)> = matches
            .filter(|m| {
                !self
                    .bounded
                    .get(m.pattern().as_usize())
                    .copied()
                    .unwrap_or(false)
                    || alone(m.start(), m.end())
            })
            .map(|m| (m.start(), m.end()))
            .collect();
        if spans.is_empty() {
            return Cow::Borrowed(input);
        }
        spans.sort_unstable();
        let mut out = Vec::with_capacity(input.len());
        let mut copied = 0;
        let mut spans = spans.into_iter().peekable();
        while let Some((start, mut end)) = spans.next() {
            // Overlapping occurrences are one: every byte of each is covered.
            while let Some(&(s, e)) = spans.peek() {
                if s >= end {
                    break;
                }
                end = end.max(e);
                spans.next();
            }
            out.extend_from_slice(input.get(copied..start).unwrap_or_default());
            out.extend_from_slice(REDACTED.as_bytes());
            copied = end;
        }
        out.extend_from_slice(input.get(copied..).unwrap_or_default());
        Cow::Owned(out)
    }

    /// `input` with every secret form replaced by [`REDACTED`]; borrowed when there was none.
    pub fn scrub<'a>(&self, input: &'a str) -> Cow<'a, str> {
        match self.scrub_bytes(input.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(input),
            // Patterns are whole UTF-8 strings, so they start and end on character boundaries.
            Cow::Owned(bytes) => Cow::Owned(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }
}

/// The four base64 forms: standard and URL-safe, padded and not (index 1 and 3 unpadded).
const BASE64: [base64::engine::GeneralPurpose; 4] = [
    base64::engine::general_purpose::STANDARD,
    base64::engine::general_purpose::STANDARD_NO_PAD,
    base64::engine::general_purpose::URL_SAFE,
    base64::engine::general_purpose::URL_SAFE_NO_PAD,
];

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    const TOKEN: &str = "ATATT3xFfGF0-s3cr3t/t0k3n+value=="; // has every awkward character

    fn scrubber() -> Scrubber {
        let secrets = [
            SecretValue::new(TOKEN),
            SecretValue::new("0th3r-k3y-abcdefgh"),
        ];
        Scrubber::new(&secrets, ["bot@example.com", "https://x.example"])
    }

    fn assert_clean(scrubbed: &str) {
        for leak in [
            TOKEN.to_owned(),
            STANDARD.encode(TOKEN),
            URL_SAFE_NO_PAD.encode(TOKEN),
            STANDARD.encode(format!("bot@example.com:{TOKEN}")),
        ] {
            assert!(!scrubbed.contains(&leak), "{scrubbed}");
        }
        // Nothing of the value longer than two bytes survives.
        for window in TOKEN.as_bytes().windows(8) {
            let window = std::str::from_utf8(window).unwrap();
            assert!(!scrubbed.contains(window), "`{window}` in {scrubbed}");
        }
    }

    #[test]
    fn every_form_of_every_secret_is_replaced() {
        let s = scrubber();
        let basic = STANDARD.encode(format!("bot@example.com:{TOKEN}"));
        let json = serde_json::to_string(&serde_json::json!({ "auth": TOKEN })).unwrap();
        for (text, expected) in [
            (
                format!("Authorization: Bearer {TOKEN}"),
                "Authorization: Bearer [redacted]".to_owned(),
            ),
            (format!("Basic {basic}"), "Basic [redacted]".to_owned()),
            (
                format!("Basic {}", basic.trim_end_matches('=')),
                "Basic [redacted]".to_owned(),
            ),
            (
                format!("b64url {}", URL_SAFE_NO_PAD.encode(TOKEN)),
                "b64url [redacted]".to_owned(),
            ),
            (json.clone(), r#"{"auth":"[redacted]"}"#.to_owned()),
            (
                json.replace('/', "\\/"),
                r#"{"auth":"[redacted]"}"#.to_owned(),
            ),
            (
                format!("?t={}", utf8_percent_encode(TOKEN, URL_ESCAPED)),
                "?t=[redacted]".to_owned(),
            ),
            (
                format!("{TOKEN}{TOKEN}0th3r-k3y-abcdefgh"),
                "[redacted][redacted][redacted]".to_owned(),
            ),
        ] {
            let scrubbed = s.scrub(&text);
            assert_eq!(scrubbed, expected, "{text}");
            assert_clean(&scrubbed);
        }
    }

    #[test]
    fn the_secret_is_found_inside_any_base64_text() {
        let s = scrubber();
        // A user the settings do not hold, the whole header encoded, any prefix length.
        for prefix in [
            "",
            "a",
            "ab",
            "abc",
            "someone@else:",
            "Authorization: Bearer ",
        ] {
            let encoded = STANDARD.encode(format!("{prefix}{TOKEN} and more"));
            let scrubbed = s.scrub(&encoded);
            assert_eq!(
                scrubbed.matches(REDACTED).count(),
                1,
                "{prefix}: {scrubbed}"
            );
            // The characters taken out encode all of the value but at most two bytes at
            // each end: 4 characters per 3 bytes.
            let removed = encoded.len() + REDACTED.len() - scrubbed.len();
            assert!(
                removed >= (TOKEN.len() - 4) / 3 * 4,
                "{prefix}: only {removed} characters taken out of {encoded}"
            );
        }
    }

    #[test]
    fn overlapping_occurrences_are_covered_whole_and_text_without_secrets_is_borrowed() {
        let secrets = [
            SecretValue::new("abcdefghij"),
            SecretValue::new("fghijklmnop"),
        ];
        let s = Scrubber::new(&secrets, []);
        assert_eq!(s.scrub("x abcdefghijklmnop y"), "x [redacted] y");
        assert!(matches!(s.scrub("nothing to see"), Cow::Borrowed(_)));
        assert!(matches!(s.scrub_bytes(b"\xff\xfe"), Cow::Borrowed(_)));
        let none = Scrubber::new([], []);
        assert!(none.is_empty());
        assert_eq!(none.scrub("abcdefghij"), "abcdefghij");
        // An empty secret is nothing to scrub, never "everything".
        assert!(Scrubber::new(&[SecretValue::new("")], ["u"]).is_empty());
    }

    #[test]
    fn the_prefix_pass_skips_only_text_without_any_pattern() {
        let s = scrubber();
        // The first eight bytes of the token, without the rest: nothing to replace.
        let near_miss = format!("x {} y", &TOKEN[..PREFIX]);
        assert!(matches!(s.scrub(&near_miss), Cow::Borrowed(_)));
        // A near miss first, the secret later: the full pass still finds it.
        let later = format!("{near_miss} then {TOKEN}");
        assert_eq!(s.scrub(&later), format!("{near_miss} then [redacted]"));
        // A secret shorter than the prefix is its own prefix.
        let short = Scrubber::new(&[SecretValue::new("abc")], []);
        assert_eq!(short.scrub("Bearer abc"), "Bearer [redacted]");
        assert!(matches!(short.scrub("Bearer xyz"), Cow::Borrowed(_)));
    }

    #[test]
    fn short_secrets_are_scrubbed_as_whole_tokens_only() {
        let secrets = [SecretValue::new("abc")];
        let s = Scrubber::new(&secrets, ["me"]);
        for (text, expected) in [
            ("Bearer abc", "Bearer [redacted]"),
            (r#"{"token":"abc"}"#, r#"{"token":"[redacted]"}"#),
            ("abc.", "[redacted]."),
            ("abcdef and xabc and abc_d", "abcdef and xabc and abc_d"),
            // base64("abc") and base64("me:abc"), which is long enough to match anywhere.
            ("Basic YWJj", "Basic [redacted]"),
            ("Basic bWU6YWJj", "Basic [redacted]"),
            ("xbWU6YWJjx", "x[redacted]x"),
        ] {
            assert_eq!(s.scrub(text), expected, "{text}");
        }
    }

    #[test]
    fn a_tenant_shares_its_scrubber_until_a_secret_or_setting_changes() {
        let tenant = crate::Tenant::default()
            .with_setting("portal_user", "bot@example.com")
            .with_secret("api_token", "first-secret-value-0123");
        let first = Scrubber::shared_for_tenant(&tenant);
        assert!(Arc::ptr_eq(
            &first,
            &Scrubber::shared_for_tenant(&tenant.clone())
        ));
        assert_eq!(first.scrub("x first-secret-value-0123"), "x [redacted]");
        // A rotated secret is another tenant: never a stale scrubber that misses it.
        let rotated = tenant
            .clone()
            .with_secret("api_token", "second-secret-value-4567");
        let second = Scrubber::shared_for_tenant(&rotated);
        assert_eq!(second.scrub("x second-secret-value-4567"), "x [redacted]");
        // So is a changed setting (the Basic users).
        let user = STANDARD.encode("other@example.com:first-secret-value-0123");
        let moved = tenant.with_setting("portal_user", "other@example.com");
        assert_eq!(
            Scrubber::shared_for_tenant(&moved).scrub(&user),
            "[redacted]"
        );
    }

    #[test]
    fn the_debug_form_shows_no_pattern() {
        let shown = format!("{:?}", scrubber());
        assert!(
            !shown.contains("s3cr3t") && shown.starts_with("Scrubber("),
            "{shown}"
        );
    }
}
