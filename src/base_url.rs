//! A strict parser for the base URLs a tenant configures (`scim_url`, `site_url`, ...).
//!
//! It accepts a deliberately small subset of URLs: `http`/`https`, an ASCII host (a DNS
//! name, a dotted-quad IPv4 address or a bracketed IPv6 address), an optional port and a
//! plain path; no user info, query or fragment, no dot segments, nothing that a WHATWG
//! parser on the host side could read differently. Hand-written instead of `url::Url`
//! because the `url` crate's IDNA tables would double the component's size, and anything
//! international must be given in punycode here anyway.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The host of a [`BaseUrl`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name, lowercased.
    Domain(String),
    /// A dotted-quad IPv4 address.
    Ipv4(Ipv4Addr),
    /// A bracketed IPv6 address.
    Ipv6(Ipv6Addr),
}

/// A validated base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `https` or `http`.
    pub scheme: &'static str,
    /// The host.
    pub host: Host,
    /// The port, when not the scheme's default.
    pub port: Option<u16>,
    /// The path without trailing `/` (empty for the root), still percent-encoded.
    pub path: String,
}

impl BaseUrl {
    /// True for `localhost`, 127.0.0.0/8 and `[::1]`.
    pub fn is_loopback(&self) -> bool {
        match &self.host {
            Host::Domain(d) => d == "localhost",
            Host::Ipv4(ip) => ip.is_loopback(),
            Host::Ipv6(ip) => *ip == Ipv6Addr::LOCALHOST,
        }
    }

    /// The non-empty path segments, still percent-encoded.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.path.split('/').filter(|s| !s.is_empty())
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        match &self.host {
            Host::Domain(d) => f.write_str(d)?,
            Host::Ipv4(ip) => {
                // Written out: `Ipv4Addr`'s `Display` has a buffer type of its own.
                let [a, b, c, d] = ip.octets();
                write!(f, "{a}.{b}.{c}.{d}")?;
            }
            Host::Ipv6(ip) => write_ipv6(f, ip)?,
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        f.write_str(&self.path)
    }
}

/// `[ip]` as RFC 5952 and the WHATWG URL standard write it: lowercase hex, the first
/// longest run of two or more zero groups as `::`, and no dotted IPv4 tail (`[::ffff:7f00:1]`,
/// as a URL parser serializes it). Written out here because `Ipv6Addr`'s `Display` costs
/// the component 2 KB.
fn write_ipv6(f: &mut fmt::Formatter<'_>, ip: &Ipv6Addr) -> fmt::Result {
    let groups = ip.segments();
    // The first longest run of zero groups, if at least two long.
    let (mut run_at, mut run_len) = (groups.len(), 1);
    let mut i = 0;
    while i < groups.len() {
        let mut j = i;
        while groups.get(j) == Some(&0) {
            j += 1;
        }
        if j - i > run_len {
            (run_at, run_len) = (i, j - i);
        }
        i = j + 1;
    }
    f.write_str("[")?;
    let mut i = 0;
    while let Some(g) = groups.get(i) {
        if i == run_at {
            f.write_str("::")?;
            i += run_len;
            continue;
        }
        if i > 0 && i != run_at + run_len {
            f.write_str(":")?;
        }
        write!(f, "{g:x}")?;
        i += 1;
    }
    f.write_str("]")
}

/// Parses `value`; the error says what is wrong, in words for the person configuring it.
pub fn parse(value: &str) -> Result<BaseUrl, String> {
    let value = value.trim();
    if value
        .chars()
        .any(|c| !c.is_ascii() || c.is_ascii_control() || c == ' ' || c == '\\')
    {
        return Err(
            "contains spaces, control characters, backslashes or non-ASCII characters \
                    (percent-encode them, and write international host names in punycode)"
                .to_string(),
        );
    }
    let Some((scheme, rest)) = crate::text::split_once(value, "://") else {
        return Err("is not an absolute URL (expected https://host/path)".to_string());
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "https" => "https",
        "http" => "http",
        other => return Err(format!("must be an https URL, not {other}:")),
    };
    if rest.contains('#') {
        return Err("must not contain a fragment (#...)".to_string());
    }
    if rest.contains('?') {
        return Err("must not contain a query string (?...)".to_string());
    }
    // `split_at_checked`: `split_at`'s panic path formats with the Debug escaper (~5 KB).
    let (authority, path) = rest
        .find('/')
        .and_then(|i| rest.split_at_checked(i))
        .unwrap_or((rest, ""));
    if authority.contains('@') {
        return Err(
            "must not contain a user name or password: credentials belong in the secrets"
                .to_string(),
        );
    }
    let (host, port) = parse_authority(authority)?;
    let port = port.filter(|p| !matches!((scheme, p), ("https", 443) | ("http", 80)));
    check_path(path)?;
    Ok(BaseUrl {
        scheme,
        host,
        port,
        path: path.trim_end_matches('/').to_string(),
    })
}

fn parse_authority(authority: &str) -> Result<(Host, Option<u16>), String> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let Some((v6, after)) = inner.split_once(']') else {
            return Err("has an unterminated IPv6 address".to_string());
        };
        let ip = ip::parse_ipv6(v6).ok_or("has an invalid IPv6 address")?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("has an invalid port")?),
        };
        (Host::Ipv6(ip), port)
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        (parse_host(host)?, port)
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => Some(
            p.parse::<u16>()
                .map_err(|_| "has an invalid port".to_string())?,
        ),
        Some(_) => return Err("has an invalid port".to_string()),
    };
    Ok((host, port))
}

fn parse_host(host: &str) -> Result<Host, String> {
    if host.is_empty() {
        return Err("has no host".to_string());
    }
    let host = host.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    // A WHATWG parser reads a host whose last label is numeric as IPv4 (`127.1`, `0x7f.1`):
    // accept only the unambiguous dotted quad.
    let last = labels.last().copied().unwrap_or_default();
    if !last.is_empty() && (last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x")) {
        return ip::parse_ipv4(&host)
            .map(Host::Ipv4)
            .ok_or_else(|| "has an invalid IPv4 address (use four decimal parts)".to_string());
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if host.len() > 253 || !labels.iter().all(label_ok) {
        return Err("has an invalid host name".to_string());
    }
    Ok(Host::Domain(host))
}

fn check_path(path: &str) -> Result<(), String> {
    check_rfc3986(path, "path", b"")?;
    let dot = |s: &str| {
        // `replace("%2e", ".")`, without the substring searcher.
        let lower = s.to_ascii_lowercase();
        let (mut s, mut rest) = (String::with_capacity(lower.len()), lower.as_str());
        while let Some((before, after)) = crate::text::split_once(rest, "%2e") {
            s.push_str(before);
            s.push('.');
            rest = after;
        }
        s.push_str(rest);
        s == "." || s == ".."
    };
    if path.split('/').any(dot) {
        return Err("must not contain . or .. path segments".to_string());
    }
    Ok(())
}

/// Checks that `s` holds only the characters RFC 3986 allows in a path (unreserved,
/// sub-delimiters, `:`, `@`, `/`) plus `extra`, and that every `%` starts a valid escape.
/// `part` names the URL part in the error.
pub fn check_rfc3986(s: &str, part: &str, extra: &[u8]) -> Result<(), String> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    return Err(format!("has a malformed percent-escape in its {part}"));
                }
                i += 3;
                continue;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => {}
            b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+'
            | b',' | b';' | b'=' | b':' | b'@' | b'/' => {}
            _ if extra.contains(&b) => {}
            _ => {
                return Err(format!(
                    "has a character that must be percent-encoded in its {part}: {}",
                    crate::text::quoted(char::from(b).encode_utf8(&mut [0; 4]))
                ));
            }
        }
        i += 1;
    }
    Ok(())
}

/// IP address literals read exactly as `Ipv4Addr`'s and `Ipv6Addr`'s `FromStr` read them
/// (the same grammar, checked against them in the tests): core's parser costs the component
/// ~4 KB. A byte cursor whose reads either succeed or leave it where it was.
mod ip {
    use std::net::{Ipv4Addr, Ipv6Addr};

    struct Cursor<'a> {
        s: &'a [u8],
        at: usize,
    }

    impl Cursor<'_> {
        /// Runs `read`, putting the cursor back when it fails.
        fn atomically<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
            let at = self.at;
            let out = read(self);
            if out.is_none() {
                self.at = at;
            }
            out
        }

        fn given(&mut self, b: u8) -> Option<()> {
            (self.s.get(self.at) == Some(&b)).then(|| self.at += 1)
        }

        /// 1 to `max_digits` digits of `radix` (more is a failure), fitting `limit`;
        /// a leading zero only when `zero_prefix` or alone.
        fn number(
            &mut self,
            radix: u32,
            max_digits: usize,
            limit: u32,
            zero_prefix: bool,
        ) -> Option<u32> {
            self.atomically(|p| {
                let leading_zero = p.s.get(p.at) == Some(&b'0');
                let (mut value, mut digits) = (0u32, 0);
                while let Some(d) = p.s.get(p.at).and_then(|&b| char::from(b).to_digit(radix)) {
                    p.at += 1;
                    value = value * radix + d;
                    digits += 1;
                    if digits > max_digits || value > limit {
                        return None;
                    }
                }
                let bad_zero = !zero_prefix && leading_zero && digits > 1;
                (digits > 0 && !bad_zero).then_some(value)
            })
        }

        /// `sep` first unless `index` is 0, then `read`.
        fn separated<T>(
            &mut self,
            sep: u8,
            index: usize,
            read: impl FnOnce(&mut Self) -> Option<T>,
        ) -> Option<T> {
            self.atomically(|p| {
                if index > 0 {
                    p.given(sep)?;
                }
                read(p)
            })
        }

        fn ipv4(&mut self) -> Option<[u8; 4]> {
            self.atomically(|p| {
                let mut octets = [0u8; 4];
                for (i, o) in octets.iter_mut().enumerate() {
                    let n = p.separated(b'.', i, |p| p.number(10, 3, 255, false))?;
                    *o = u8::try_from(n).ok()?;
                }
                Some(octets)
            })
        }

        /// Up to `groups.len()` groups; how many were read and whether an IPv4 tail ended them.
        fn groups(&mut self, groups: &mut [u16]) -> (usize, bool) {
            let limit = groups.len();
            for i in 0..limit {
                if i + 1 < limit
                    && let Some([a, b, c, d]) = self.separated(b':', i, Self::ipv4)
                {
                    for (k, g) in [u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])]
                        .into_iter()
                        .enumerate()
                    {
                        if let Some(slot) = groups.get_mut(i + k) {
                            *slot = g;
                        }
                    }
                    return (i + 2, true);
                }
                match self.separated(b':', i, |p| p.number(16, 4, 0xffff, true)) {
                    Some(g) => {
                        if let Some(slot) = groups.get_mut(i) {
                            *slot = u16::try_from(g).unwrap_or_default();
                        }
                    }
                    None => return (i, false),
                }
            }
            (limit, false)
        }

        fn ipv6(&mut self) -> Option<[u16; 8]> {
            let mut head = [0u16; 8];
            let (head_size, head_ipv4) = self.groups(&mut head);
            if head_size == 8 {
                return Some(head);
            }
            if head_ipv4 {
                return None;
            }
            self.given(b':')?;
            self.given(b':')?;
            let mut tail = [0u16; 7];
            let limit = 7 - head_size;
            let (tail_size, _) = self.groups(tail.get_mut(..limit)?);
            let (Some(dst), Some(src)) = (head.get_mut(8 - tail_size..), tail.get(..tail_size))
            else {
                return None;
            };
            dst.copy_from_slice(src);
            Some(head)
        }

        fn end(&self) -> bool {
            self.at == self.s.len()
        }
    }

    /// `s.parse::<Ipv4Addr>()`.
    pub fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
        let mut p = Cursor {
            s: s.as_bytes(),
            at: 0,
        };
        p.ipv4().filter(|_| p.end()).map(Ipv4Addr::from)
    }

    /// `s.parse::<Ipv6Addr>()`.
    pub fn parse_ipv6(s: &str) -> Option<Ipv6Addr> {
        let mut p = Cursor {
            s: s.as_bytes(),
            at: 0,
        };
        p.ipv6().filter(|_| p.end()).map(Ipv6Addr::from)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_exactly_what_the_standard_parsers_read() {
            let cases = [
                "",
                "1",
                "1.2.3.4",
                "0.0.0.0",
                "255.255.255.255",
                "256.1.1.1",
                "01.2.3.4",
                "1.2.3.04",
                "1.2.3",
                "1.2.3.4.5",
                "1..2.3",
                "1.2.3.4 ",
                "0x7f.0.0.1",
                "1.2.3.-4",
                "1234.1.1.1",
                "::",
                "::1",
                "1::",
                "1::2",
                "::ffff:1.2.3.4",
                "1:2:3:4:5:6:7:8",
                "1:2:3:4:5:6:7:8:9",
                "1:2:3:4:5:6:7::",
                "::2:3:4:5:6:7:8",
                "1:2:3:4:5:6::8",
                "1:2:3:4:5:6:1.2.3.4",
                "1:2:3:4:5:6:7:1.2.3.4",
                "1.2.3.4::",
                "::1.2.3.4:5",
                "12345::",
                "ABCD:ef01::",
                "0000:0:00:000::",
                ":::",
                "1:::2",
                "1::2::3",
                ":1::",
                "::1:",
                "fe80::1%eth0",
                "::1.2.3.04",
                "::1.2.3",
                "::01.2.3.4",
                "g::",
                "1:2",
                "::ffff:255.255.255.256",
                "1::2:3:4:5:6:7",
                "1::2:3:4:5:6:7:8",
            ];
            for s in cases {
                assert_eq!(parse_ipv4(s), s.parse::<Ipv4Addr>().ok(), "{s:?}");
                assert_eq!(parse_ipv6(s), s.parse::<Ipv6Addr>().ok(), "{s:?}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        parse(s)
            .map(|u| u.to_string())
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn accepts_and_normalizes() {
        assert_eq!(ok("https://api.atlassian.com"), "https://api.atlassian.com");
        assert_eq!(
            ok(" HTTPS://API.Atlassian.com/scim/directory/D1/ "),
            "https://api.atlassian.com/scim/directory/D1"
        );
        assert_eq!(ok("https://h.example:443/x//"), "https://h.example/x");
        assert_eq!(
            ok("http://localhost:8080/a%20b"),
            "http://localhost:8080/a%20b"
        );
        assert_eq!(ok("http://[::1]:9/"), "http://[::1]:9");
        // IPv6 as a URL parser writes it: the first longest zero run compressed, lowercase
        // hex, no dotted IPv4 tail.
        for (given, written) in [
            ("[::]", "[::]"),
            ("[0:0:0:0:0:0:0:1]", "[::1]"),
            ("[1::]", "[1::]"),
            ("[2001:DB8:0:0:1:0:0:1]", "[2001:db8::1:0:0:1]"),
            ("[2001:db8:0:1:1:1:1:1]", "[2001:db8:0:1:1:1:1:1]"),
            ("[1:0:0:2:0:0:0:3]", "[1:0:0:2::3]"),
            ("[::ffff:127.0.0.1]", "[::ffff:7f00:1]"),
            ("[fe80::1:2]", "[fe80::1:2]"),
        ] {
            assert_eq!(ok(&format!("http://{given}")), format!("http://{written}"));
        }
        assert_eq!(ok("http://127.0.0.1:80/"), "http://127.0.0.1");
        assert!(parse("http://127.2.3.4").unwrap().is_loopback());
        assert!(parse("http://LOCALHOST").unwrap().is_loopback());
        assert!(!parse("http://localhost.evil.com").unwrap().is_loopback());
        assert!(!parse("http://[::2]").unwrap().is_loopback());
        let u = parse("https://h/p/scim/directory/x").unwrap();
        assert_eq!(
            u.segments().collect::<Vec<_>>(),
            ["p", "scim", "directory", "x"]
        );
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "api.atlassian.com",
            "/scim",
            "ftp://h",
            "https://",
            "https://:443",
            "https://u:p@h",
            "https://u@h",
            "https://h?x",
            "https://h/#f",
            "https://h/a b",
            "https://h/ä",
            "https://bücher.de",
            "https://h:99999",
            "https://h:",
            "https://h:8a",
            "https://[::1",
            "https://[zz]",
            "https://[::1]x",
            "http://127.1",
            "http://0x7f.0.0.1",
            "https://1.2.3.4.5",
            "https://a..b",
            "https://-.x/",
            "https://h/../x",
            "https://h/a/%2E%2e",
            "https://h/%zz",
            "https://h/%4",
            "https://h/a\"b",
            "https://h\\x",
            "https://h/a\tb",
        ] {
            assert!(
                parse(bad).is_err(),
                "{bad:?} was accepted: {:?}",
                parse(bad)
            );
        }
        assert!(
            parse("https://u:secret@h")
                .unwrap_err()
                .contains("user name")
        );
        assert!(!parse("https://u:secret@h").unwrap_err().contains("secret@"));
    }
}
