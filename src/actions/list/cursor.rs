//! The opaque page cursor of the `list-*` actions: a small, versioned, self-describing token.
//!
//! `v1:<listing>:<field>:…`, every free-text field percent-encoded (so `:` never appears
//! inside one). The host treats it as opaque; the connector checks every byte of it on the
//! way back in: a token that is malformed, not canonical, too long, or issued for another
//! listing is `invalid-input`. No token carries a host: product positions are kept as the
//! query string of the next page, re-attached to the configured base URL.
//!
//! | listing | token |
//! |---|---|
//! | `list-users` | `v1:users:<scim startIndex>` |
//! | `list-groups`, SCIM phase | `v1:groups:scim:<scim startIndex>` |
//! | `list-groups`, admin phase | `v1:groups:admin:<admin cursor>:<page limit>:<skip>` |
//! | Jira projects | `v1:jira:<startAt>` |
//! | Confluence spaces | `v1:confluence:<query of the page>:<skip>` |
//! | Bitbucket repositories | `v1:bitbucket:<query of the page>:<skip>` |
//! | workspaces | `v1:workspaces:<admin cursor>:<page limit>:<skip>` |
//!
//! `skip` counts the items of that page already returned, for when the caller's `limit` is
//! smaller than the page the server sent; `page limit` is the admin `limit` that page was
//! fetched with, so the same page comes back. An empty admin cursor stands for the first
//! page.

use crate::encode;
use crate::error::ConnectorError;
use crate::products::check_query;

/// The version prefix of every token.
const VERSION: &str = "v1";
/// The longest token accepted.
pub const MAX_TOKEN_LEN: usize = 4096;
/// The largest `skip` accepted (no page is that long).
const MAX_SKIP: u64 = 100_000;
/// The largest offset accepted (`startIndex`, `startAt`).
const MAX_OFFSET: u64 = 1 << 53;

/// Which listing a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// `list-users`.
    Users,
    /// `list-groups`.
    Groups,
    /// `list-resources(jira-project)`.
    Jira,
    /// `list-resources(confluence-space)`.
    Confluence,
    /// `list-resources(bitbucket-repository)`.
    Bitbucket,
    /// `list-resources(workspace)`.
    Workspaces,
}

impl Listing {
    fn tag(self) -> &'static str {
        match self {
            Listing::Users => "users",
            Listing::Groups => "groups",
            Listing::Jira => "jira",
            Listing::Confluence => "confluence",
            Listing::Bitbucket => "bitbucket",
            Listing::Workspaces => "workspaces",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Listing::Users => "list-users",
            Listing::Groups => "list-groups",
            Listing::Jira => "list-resources of Jira projects",
            Listing::Confluence => "list-resources of Confluence spaces",
            Listing::Bitbucket => "list-resources of Bitbucket repositories",
            Listing::Workspaces => "list-resources of workspaces",
        }
    }
}

/// A position in one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// SCIM `/Users` from this 1-based `startIndex`.
    Users {
        /// The next `startIndex`.
        start_index: u64,
        /// The page size the server was seen to use (0: not known yet, the next call learns
        /// it with one request before sending the rest as one wave).
        page: u32,
        /// The `totalResults` it gave with that page.
        total: u64,
    },
    /// SCIM `/Groups` from this 1-based `startIndex`.
    GroupsScim {
        /// The next `startIndex`.
        start_index: u64,
    },
    /// Admin API group search.
    GroupsAdmin {
        /// The admin cursor of the page (`None`: the first page).
        cursor: Option<String>,
        /// The admin `limit` the page was fetched with.
        page_limit: u32,
        /// Items of that page already returned.
        skip: u32,
    },
    /// Jira project search from this 0-based `startAt`.
    Jira {
        /// The next `startAt`.
        start_at: u64,
    },
    /// Confluence spaces: the page with this query.
    Confluence {
        /// Query string of the page (no `?`).
        query: String,
        /// Items of that page already returned.
        skip: u32,
    },
    /// Bitbucket repositories: the page with this query.
    Bitbucket {
        /// Query string of the page (no `?`).
        query: String,
        /// Items of that page already returned.
        skip: u32,
    },
    /// The organization's workspaces (admin API, cursor-paged).
    Workspaces {
        /// The admin cursor of the page (`None`: the first page).
        cursor: Option<String>,
        /// The `limit` the first page is fetched with.
        page_limit: u32,
        /// Items of that page already returned.
        skip: u32,
    },
}

impl Cursor {
    /// The listing this cursor belongs to.
    pub fn listing(&self) -> Listing {
        match self {
            Cursor::Users { .. } => Listing::Users,
            Cursor::GroupsScim { .. } | Cursor::GroupsAdmin { .. } => Listing::Groups,
            Cursor::Jira { .. } => Listing::Jira,
            Cursor::Confluence { .. } => Listing::Confluence,
            Cursor::Bitbucket { .. } => Listing::Bitbucket,
            Cursor::Workspaces { .. } => Listing::Workspaces,
        }
    }

    /// The token handed to the host.
    pub fn encode(&self) -> String {
        let tag = self.listing().tag();
        let e = encode::query;
        match self {
            Cursor::Users {
                start_index,
                page: 0,
                ..
            } => format!("{VERSION}:{tag}:{start_index}"),
            Cursor::Users {
                start_index,
                page,
                total,
            } => format!("{VERSION}:{tag}:{start_index}:{page}:{total}"),
            Cursor::GroupsScim { start_index } => format!("{VERSION}:{tag}:scim:{start_index}"),
            Cursor::GroupsAdmin {
                cursor,
                page_limit,
                skip,
            } => format!(
                "{VERSION}:{tag}:admin:{}:{page_limit}:{skip}",
                e(cursor.as_deref().unwrap_or_default())
            ),
            Cursor::Workspaces {
                cursor,
                page_limit,
                skip,
            } => format!(
                "{VERSION}:{tag}:{}:{page_limit}:{skip}",
                e(cursor.as_deref().unwrap_or_default())
            ),
            Cursor::Jira { start_at } => format!("{VERSION}:{tag}:{start_at}"),
            Cursor::Confluence { query, skip } | Cursor::Bitbucket { query, skip } => {
                format!("{VERSION}:{tag}:{}:{skip}", e(query))
            }
        }
    }

    /// Reads a token back for `expected`; anything this connector did not issue for that
    /// listing is `invalid-input`, and nothing is sent.
    pub fn decode(token: &str, expected: Listing) -> Result<Cursor, ConnectorError> {
        let bad = |why: &str| {
            ConnectorError::InvalidInput(format!(
                "the page cursor is not one this connector issued for {}: {why}",
                expected.describe()
            ))
        };
        if token.len() > MAX_TOKEN_LEN {
            return Err(bad("it is too long"));
        }
        let fields: Vec<&str> = token.split(':').collect();
        let (version, tag, rest) = match fields.as_slice() {
            [version, tag, rest @ ..] => (*version, *tag, rest),
            _ => return Err(bad("it is malformed")),
        };
        if version != VERSION {
            return Err(bad("unknown cursor version"));
        }
        if tag != expected.tag() {
            let other = [
                Listing::Users,
                Listing::Groups,
                Listing::Jira,
                Listing::Confluence,
                Listing::Bitbucket,
                Listing::Workspaces,
            ]
            .into_iter()
            .find(|l| l.tag() == tag);
            return Err(match other {
                Some(l) => bad(&format!("it belongs to {}", l.describe())),
                None => bad("it is malformed"),
            });
        }
        let number = |s: &str, min: u64, max: u64| -> Result<u64, ConnectorError> {
            if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("a position is not a number"));
            }
            match s.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) && n.to_string() == s => Ok(n),
                _ => Err(bad("a position is out of range")),
            }
        };
        let text = |s: &str| -> Result<String, ConnectorError> {
            let decoded = encode::decode(s);
            if encode::query(&decoded) != s || decoded.chars().any(char::is_control) {
                return Err(bad("a field is not canonically encoded"));
            }
            Ok(decoded)
        };
        let skip = |s: &str| number(s, 0, MAX_SKIP).map(|n| u32::try_from(n).unwrap_or(0));
        let query = |s: &str| -> Result<String, ConnectorError> {
            let q = text(s)?;
            check_query(&q).map_err(|why| bad(&format!("its query {why}")))?;
            Ok(q)
        };
        let cursor = match (expected, rest) {
            (Listing::Users, [s]) => Cursor::Users {
                start_index: number(s, 1, MAX_OFFSET)?,
                page: 0,
                total: 0,
            },
            (Listing::Users, [s, p, t]) => Cursor::Users {
                start_index: number(s, 1, MAX_OFFSET)?,
                page: u32::try_from(number(p, 1, u64::from(super::MAX_LIMIT))?).unwrap_or(1),
                total: number(t, 1, MAX_OFFSET)?,
            },
            (Listing::Groups, ["scim", s]) => Cursor::GroupsScim {
                start_index: number(s, 1, MAX_OFFSET)?,
            },
            (Listing::Groups, ["admin", c, l, k]) => Cursor::GroupsAdmin {
                cursor: Some(text(c)?).filter(|c| !c.is_empty()),
                page_limit: number(l, 1, u64::from(crate::admin::MAX_LIMIT))
                    .map(|n| u32::try_from(n).unwrap_or(1))?,
                skip: skip(k)?,
            },
            (Listing::Jira, [s]) => Cursor::Jira {
                start_at: number(s, 0, MAX_OFFSET)?,
            },
            (Listing::Confluence, [q, k]) => Cursor::Confluence {
                query: query(q)?,
                skip: skip(k)?,
            },
            (Listing::Bitbucket, [q, k]) => Cursor::Bitbucket {
                query: query(q)?,
                skip: skip(k)?,
            },
            (Listing::Workspaces, [c, l, k]) => Cursor::Workspaces {
                cursor: Some(text(c)?).filter(|c| !c.is_empty()),
                page_limit: number(l, 1, u64::from(crate::roles::WORKSPACES_LIMIT))
                    .map(|n| u32::try_from(n).unwrap_or(1))?,
                skip: skip(k)?,
            },
            _ => return Err(bad("it is malformed")),
        };
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Cursor> {
        vec![
            Cursor::Users {
                start_index: 101,
                page: 0,
                total: 0,
            },
            Cursor::GroupsScim { start_index: 1 },
            Cursor::GroupsAdmin {
                cursor: None,
                page_limit: 100,
                skip: 0,
            },
            Cursor::GroupsAdmin {
                cursor: Some("b2Zmc2V0OjEwMA==:x y/é".into()),
                page_limit: 20,
                skip: 7,
            },
            Cursor::Jira { start_at: 0 },
            Cursor::Confluence {
                query: "limit=25&cursor=abc%3D".into(),
                skip: 3,
            },
            Cursor::Bitbucket {
                query: "page=2&pagelen=10".into(),
                skip: 0,
            },
            Cursor::Workspaces {
                cursor: None,
                page_limit: 1000,
                skip: 0,
            },
            Cursor::Workspaces {
                cursor: Some("eyJvZmZzZXQiOjJ9:x/y".into()),
                page_limit: 2,
                skip: 1,
            },
        ]
    }

    #[test]
    fn round_trips() {
        for c in all() {
            let token = c.encode();
            assert!(token.starts_with("v1:"), "{token}");
            assert_eq!(
                Cursor::decode(&token, c.listing()),
                Ok(c.clone()),
                "{token}"
            );
        }
        assert_eq!(
            Cursor::Users {
                start_index: 101,
                page: 0,
                total: 0,
            }
            .encode(),
            "v1:users:101"
        );
        assert_eq!(
            Cursor::Confluence {
                query: "limit=25&cursor=a".into(),
                skip: 2
            }
            .encode(),
            "v1:confluence:limit%3D25%26cursor%3Da:2"
        );
    }

    #[test]
    fn wrong_listing_is_invalid_input() {
        let token = Cursor::Users {
            start_index: 5,
            page: 100,
            total: 250,
        }
        .encode();
        let e = Cursor::decode(&token, Listing::Groups).unwrap_err();
        assert!(
            matches!(&e, ConnectorError::InvalidInput(m) if m.contains("belongs to list-users")),
            "{e:?}"
        );
        let token = Cursor::Jira { start_at: 5 }.encode();
        assert!(Cursor::decode(&token, Listing::Confluence).is_err());
        let token = Cursor::Workspaces {
            cursor: Some("c".into()),
            page_limit: 5,
            skip: 0,
        }
        .encode();
        let e = Cursor::decode(&token, Listing::Jira).unwrap_err();
        assert!(
            matches!(&e, ConnectorError::InvalidInput(m) if m.contains("belongs to list-resources of workspaces")),
            "{e:?}"
        );
        let token = Cursor::GroupsAdmin {
            cursor: Some("c".into()),
            page_limit: 5,
            skip: 0,
        }
        .encode();
        let e = Cursor::decode(&token, Listing::Workspaces).unwrap_err();
        assert!(
            matches!(&e, ConnectorError::InvalidInput(m) if m.contains("belongs to list-groups")),
            "{e:?}"
        );
    }

    #[test]
    fn tampering_is_invalid_input() {
        let bad = [
            "",
            "v1",
            "v1:users",
            "v2:users:1",
            "V1:users:1",
            "v1:users:0",
            "v1:users:-1",
            "v1:users:+1",
            "v1:users:01",
            "v1:users:1.5",
            "v1:users:99999999999999999999",
            "v1:users:1:2",
            "v1:users: 1",
            "v1:nope:1",
            "v1:groups:1",
            "v1:groups:scim:",
            "v1:groups:admin:c:101:0",
            "v1:groups:admin:c:0:0",
            "v1:groups:admin:c:10",
            "v1:groups:admin:a:b:10:0",
            "v1:groups:admin:%0A:10:0",
            "v1:groups:admin:%zz:10:0",
            "v1:groups:admin:a%2fb:10:0",
            "v1:jira:x",
            "v1:confluence:limit%3D1",
            "v1:confluence:a%20b:0",
            "v1:confluence:a%23b:0",
            "v1:confluence:%2F%2Fevil.com:999999",
            "v1:bitbucket:a:1:2",
            "v1:workspaces:c:0:0",
            "v1:workspaces:c:1001:0",
            "v1:workspaces:c:10",
            "v1:workspaces:c:10:0:0",
            "v1:workspaces:%0A:10:0",
            "v1:workspaces:a%2fb:10:0",
            "v1:workspaces:c:10:100001",
        ];
        for token in bad {
            let listing = match token.split(':').nth(1) {
                Some("groups") => Listing::Groups,
                Some("jira") => Listing::Jira,
                Some("confluence") => Listing::Confluence,
                Some("bitbucket") => Listing::Bitbucket,
                Some("workspaces") => Listing::Workspaces,
                _ => Listing::Users,
            };
            let r = Cursor::decode(token, listing);
            assert!(
                matches!(r, Err(ConnectorError::InvalidInput(_))),
                "{token:?} gave {r:?}"
            );
        }
        let long = format!("v1:users:{}", "1".repeat(MAX_TOKEN_LEN));
        assert!(Cursor::decode(&long, Listing::Users).is_err());
    }
}
