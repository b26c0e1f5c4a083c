//! One sanitiser for every text that comes out of a guest (and so, through it, from an
//! upstream) before the host prints or records it.
//!
//! An upstream error `detail` can hold `ESC[2J`, an OSC title sequence, CR/LF that forge
//! `[ok  ]` lines, or U+202E that reverses what follows; it can also be 10 MB long. Every
//! message of an outcome, an error or a health report passes [`text`] once, where the
//! invocation ends ([`crate::invoke`]): control characters are written as escapes (`\n`,
//! `\u{1b}`), Unicode bidi controls as `\u{202e}`, and anything past [`MAX_TEXT_BYTES`] is cut
//! and marked. Records of listings (names, ids) are data, not messages: they are left as they
//! are, and every JSON writer escapes control characters anyway.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::bindings::types::{
    ChangeStatus, ConnectorError, HealthReport, Outcome, ProbeStatus, ResolvedUser,
};

/// The longest message kept, in bytes; the rest is cut and marked.
pub const MAX_TEXT_BYTES: usize = 4 << 10;

/// Unicode's bidi formatting characters (embeddings, overrides, isolates, marks).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` with control and bidi characters escaped and at most [`MAX_TEXT_BYTES`] of it kept
/// (cut on a character boundary, marked with how much was cut). Borrowed when nothing needs
/// changing.
pub fn text(s: &str) -> Cow<'_, str> {
    let clean =
        s.len() <= MAX_TEXT_BYTES && !s.chars().any(|c| c.is_control() || is_bidi_control(c));
    if clean {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().min(MAX_TEXT_BYTES) + 32);
    let mut kept = 0;
    for (i, c) in s.char_indices() {
        if out.len() >= MAX_TEXT_BYTES {
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
        kept = i + c.len_utf8();
    }
    if kept < s.len() {
        let _ = write!(out, "… [cut: {} more bytes]", s.len() - kept);
    }
    Cow::Owned(out)
}

fn clean(s: &mut String) {
    if let Cow::Owned(o) = text(s) {
        *s = o;
    }
}

fn clean_opt(s: &mut Option<String>) {
    if let Some(s) = s {
        clean(s);
    }
}

/// Values whose messages the host sanitises when an invocation ends.
pub trait Sanitize {
    /// Replaces every message in place by its [`text`] form.
    fn sanitize(&mut self);
}

impl Sanitize for ConnectorError {
    fn sanitize(&mut self) {
        match self {
            ConnectorError::InvalidConfig(e) => {
                clean(&mut e.key);
                clean(&mut e.message);
            }
            ConnectorError::Upstream(e) => {
                clean_opt(&mut e.code);
                clean(&mut e.message);
            }
            ConnectorError::RateLimited(e) => clean(&mut e.message),
            ConnectorError::InvalidInput(m)
            | ConnectorError::Unauthorized(m)
            | ConnectorError::Forbidden(m)
            | ConnectorError::NotFound(m)
            | ConnectorError::Conflict(m)
            | ConnectorError::Unavailable(m)
            | ConnectorError::Unsupported(m)
            | ConnectorError::PolicyDenied(m)
            | ConnectorError::Other(m) => clean(m),
        }
    }
}

impl Sanitize for ResolvedUser {
    fn sanitize(&mut self) {
        for id in &mut self.ids {
            clean(&mut id.namespace);
            clean(&mut id.value);
        }
        clean_opt(&mut self.email);
    }
}

impl Sanitize for Outcome {
    fn sanitize(&mut self) {
        if let Some(u) = &mut self.user {
            u.sanitize();
        }
        for c in &mut self.changes {
            clean(&mut c.target);
            clean_opt(&mut c.before);
            clean_opt(&mut c.after);
            match &mut c.status {
                ChangeStatus::Failed(e) => e.sanitize(),
                ChangeStatus::Skipped(why) => clean(why),
                ChangeStatus::Applied | ChangeStatus::AlreadyDone | ChangeStatus::Planned => {}
            }
            if let crate::bindings::types::ChangeKind::Other(name) = &mut c.kind {
                clean(name);
            }
        }
    }
}

impl Sanitize for HealthReport {
    fn sanitize(&mut self) {
        for p in &mut self.probes {
            clean(&mut p.name);
            clean(&mut p.credential);
            clean(&mut p.target);
            match &mut p.status {
                ProbeStatus::Skipped(m) | ProbeStatus::Warning(m) | ProbeStatus::Unknown(m) => {
                    clean(m)
                }
                ProbeStatus::Failed(e) => e.sanitize(),
                ProbeStatus::Ok => {}
            }
        }
    }
}

/// Listings and the self-description are data: only their errors are messages.
macro_rules! data {
    ($($t:ty),*) => {$(impl Sanitize for $t { fn sanitize(&mut self) {} })*};
}
data!(
    crate::bindings::types::ConnectorInfo,
    crate::bindings::types::UserPage,
    crate::bindings::types::GroupPage,
    crate::bindings::types::ResourcePage,
    ()
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_controls_and_bidi_are_escaped() {
        let hostile = "ok\u{1b}[2J\u{1b}]0;owned\u{7}\r\n[ok  ] done \u{202e}txt.exe";
        let shown = text(hostile);
        assert!(
            !shown.chars().any(|c| c.is_control() || is_bidi_control(c)),
            "{shown}"
        );
        assert_eq!(
            shown,
            "ok\\u{1b}[2J\\u{1b}]0;owned\\u{7}\\r\\n[ok  ] done \\u{202e}txt.exe"
        );
        assert!(matches!(text("plain message, é ü"), Cow::Borrowed(_)));
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary_and_marked() {
        let long = "é".repeat(10 << 20);
        let shown = text(&long);
        assert!(shown.len() < MAX_TEXT_BYTES + 64, "{}", shown.len());
        assert!(
            shown.ends_with("more bytes]"),
            "{}",
            &shown[shown.len() - 40..]
        );
        let cut: usize = shown
            .trim_end_matches(|c: char| c != '…')
            .trim_end_matches('…')
            .len();
        assert!(cut <= MAX_TEXT_BYTES + 2);
    }

    #[test]
    fn every_message_of_an_outcome_is_cleaned() {
        use crate::bindings::types::{Change, ChangeKind};
        let mut o = Outcome {
            user: None,
            changes: vec![Change {
                kind: ChangeKind::CreateUser,
                target: "t\u{1b}".into(),
                before: Some("b\n".into()),
                after: None,
                status: ChangeStatus::Failed(ConnectorError::Other("x\u{202e}".repeat(5000))),
            }],
            completed: false,
        };
        o.sanitize();
        let c = &o.changes[0];
        assert_eq!(c.target, "t\\u{1b}");
        assert_eq!(c.before.as_deref(), Some("b\\n"));
        let ChangeStatus::Failed(ConnectorError::Other(m)) = &c.status else {
            panic!()
        };
        assert!(m.len() < MAX_TEXT_BYTES + 64 && m.contains("[cut:"));
    }
}
