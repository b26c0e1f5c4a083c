//! Which IP addresses a connection may reach: the guard against server-side request forgery.
//!
//! A tenant's URLs name hosts; a host name can resolve to anything, the platform's own
//! loopback, its private network or the cloud's metadata service at `169.254.169.254`
//! included. So every connection is checked *after* name resolution and *before* connecting:
//! the outbound client resolves names only through a [`GuardedResolver`], which refuses an
//! answer holding any blocked address. It runs for every new connection, so a name that
//! resolved to a public address once and to a private one later (DNS rebinding) is refused the
//! second time. IP-literal URLs never reach a resolver, so the egress check
//! ([`crate::egress`]) applies the same [`AddressRules`] to them.
//!
//! Blocked, IPv4 and IPv6 alike (an IPv6 address that embeds an IPv4 one, `::ffff:a.b.c.d`,
//! `::a.b.c.d`, `64:ff9b::a.b.c.d` and 6to4 `2002:…`, is judged by the IPv4 address):
//!
//! | rule | ranges | the operator may allow it with |
//! | --- | --- | --- |
//! | `loopback` | 127.0.0.0/8, ::1 | `allow_loopback` |
//! | `private` | 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 | `allow_private_networks` |
//! | `unique-local` | fc00::/7, fec0::/10 | `allow_private_networks` |
//! | `link-local` | 169.254.0.0/16, fe80::/10 | never |
//! | `multicast` | 224.0.0.0/4, ff00::/8 | never |
//! | `unspecified` | 0.0.0.0/8, :: | never |
//! | `broadcast` | 255.255.255.255 | never |
//! | `reserved` | 192.0.0.0/24, 192.0.2.0/24, 198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24, 240.0.0.0/4, 2001:db8::/32, 100::/64 | never |
//!
//! The rules come from the operator ([`crate::operator::OperatorPolicy`]), never from a tenant.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address is refused: the rule it falls under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockedRule {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 (shared address space).
    Private,
    /// fc00::/7 and the deprecated site-local fec0::/10.
    UniqueLocal,
    /// 169.254.0.0/16 (the cloud metadata services), fe80::/10.
    LinkLocal,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// 255.255.255.255.
    Broadcast,
    /// Ranges set aside for protocols, documentation, benchmarks and future use.
    Reserved,
}

impl BlockedRule {
    /// The rule's stable name, as in messages: `loopback`, `link-local`, ...
    pub fn name(self) -> &'static str {
        match self {
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::UniqueLocal => "unique-local",
            Self::LinkLocal => "link-local",
            Self::Multicast => "multicast",
            Self::Unspecified => "unspecified",
            Self::Broadcast => "broadcast",
            Self::Reserved => "reserved",
        }
    }

    /// The operator setting that lifts the rule, if any may.
    pub fn lifted_by(self) -> Option<&'static str> {
        match self {
            Self::Loopback => Some("allow_loopback"),
            Self::Private | Self::UniqueLocal => Some("allow_private_networks"),
            _ => None,
        }
    }

    /// The rule an address falls under, or `None` for an address that may be reached
    /// (whatever the operator allows).
    pub fn of(ip: IpAddr) -> Option<Self> {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => match embedded_v4(v6) {
                Some(v4) => Self::of_v4(v4),
                None => Self::of_v6(v6),
            },
        }
    }

    fn of_v4(ip: Ipv4Addr) -> Option<Self> {
        let [a, b, c, _] = ip.octets();
        Some(if a == 0 {
            Self::Unspecified
        } else if ip.is_loopback() {
            Self::Loopback
        } else if ip.is_private() || (a == 100 && (b & 0xc0) == 64) {
            Self::Private
        } else if ip.is_link_local() {
            Self::LinkLocal
        } else if ip.is_multicast() {
            Self::Multicast
        } else if ip.is_broadcast() {
            Self::Broadcast
        } else if ip.is_documentation()
            || (a == 192 && b == 0 && c == 0)
            || (a == 198 && (b & 0xfe) == 18)
            || a >= 240
        {
            Self::Reserved
        } else {
            return None;
        })
    }

    fn of_v6(ip: Ipv6Addr) -> Option<Self> {
        let s = ip.segments();
        Some(if ip.is_unspecified() {
            Self::Unspecified
        } else if ip.is_loopback() {
            Self::Loopback
        } else if ip.is_unique_local() || (s[0] & 0xffc0) == 0xfec0 {
            Self::UniqueLocal
        } else if ip.is_unicast_link_local() {
            Self::LinkLocal
        } else if ip.is_multicast() {
            Self::Multicast
        } else if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) {
            Self::Reserved
        } else {
            return None;
        })
    }
}

impl fmt::Display for BlockedRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped `::ffff:a.b.c.d`, the deprecated
/// IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::/48`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let low = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if s[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback() {
        return Some(low(s[6], s[7]));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(low(s[1], s[2]));
    }
    None
}

/// The operator's exceptions to the blocked ranges (see the module's table).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AddressRules {
    /// Loopback addresses may be reached (a local simulator).
    pub allow_loopback: bool,
    /// Private and unique-local addresses may be reached (an upstream inside the network).
    pub allow_private_networks: bool,
}

impl AddressRules {
    /// `Ok` when `ip` may be reached, else the rule that refuses it.
    pub fn check(&self, ip: IpAddr) -> Result<(), BlockedRule> {
        match BlockedRule::of(ip) {
            None => Ok(()),
            Some(BlockedRule::Loopback) if self.allow_loopback => Ok(()),
            Some(BlockedRule::Private | BlockedRule::UniqueLocal)
                if self.allow_private_networks =>
            {
                Ok(())
            }
            Some(rule) => Err(rule),
        }
    }

    /// `Ok` when `ip`, named by `host`, may be reached, else the typed refusal.
    pub fn check_host(&self, host: &str, ip: IpAddr) -> Result<(), BlockedAddress> {
        self.check(ip).map_err(|rule| BlockedAddress {
            host: host.to_owned(),
            addr: ip,
            rule,
        })
    }
}

/// A connection refused before it was made: `host` is, or resolved to, `addr`, which `rule`
/// blocks. The guest sees it as `http-error::denied` with this message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct BlockedAddress {
    /// The host the URL named (a name, or the address itself).
    pub host: String,
    /// The address it is, or resolved to.
    pub addr: IpAddr,
    /// The rule that blocks it.
    pub rule: BlockedRule,
}

impl fmt::Display for BlockedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blocked address ({}): ", self.rule)?;
        let bare = self.host.trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<IpAddr>().is_ok() {
            write!(f, "{} is", self.host)?;
        } else {
            write!(f, "{} resolves to {}", self.host, self.addr)?;
        }
        if let IpAddr::V6(v6) = self.addr
            && let Some(v4) = embedded_v4(v6)
        {
            write!(f, " (IPv4 {v4} embedded in IPv6)")?;
        }
        write!(f, ", a {} address; refused before connecting", self.rule)?;
        match self.rule.lifted_by() {
            Some(setting) => write!(f, " (only the host operator can allow it: {setting})"),
            None => Ok(()),
        }
    }
}

/// A name resolver the host's outbound client can use: the system's by default, or one a test
/// injects. Every answer still passes through a [`GuardedResolver`].
#[derive(Clone)]
pub struct Resolver(Arc<dyn Resolve>);

impl Resolver {
    /// The system's resolver (`getaddrinfo`, off the async threads).
    pub fn system() -> Self {
        Self(Arc::new(SystemResolver))
    }

    /// Any [`Resolve`] implementation, e.g. a [`StaticResolver`].
    pub fn new(resolver: impl Resolve + 'static) -> Self {
        Self(Arc::new(resolver))
    }

    /// True when both are the same resolver.
    pub fn same_as(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Default for Resolver {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver")
    }
}

/// The system's resolver.
struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Wraps a resolver and refuses any answer holding an address the [`AddressRules`] block,
/// with a [`BlockedAddress`] error, so the connection is never attempted. The outbound client
/// calls it for every new connection.
pub struct GuardedResolver {
    inner: Resolver,
    rules: AddressRules,
}

impl GuardedResolver {
    /// `inner`'s answers, checked against `rules`.
    pub fn new(inner: Resolver, rules: AddressRules) -> Self {
        Self { inner, rules }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let answer = self.inner.0.resolve(name);
        let rules = self.rules;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = answer.await?.collect();
            // One blocked address refuses the whole answer: a name that mixes a public and a
            // private address is either misconfigured or an attack.
            for addr in &addrs {
                rules.check_host(&host, addr.ip())?;
            }
            if addrs.is_empty() {
                return Err(format!("{host} resolved to no address").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A resolver answering from a fixed table, for tests: no DNS. Each name has a queue of
/// answers; a look-up takes the next one, and the last answer repeats (so a name can change
/// its answer between connections, as in DNS rebinding). Clones share the table and the
/// look-up counts.
#[derive(Clone, Default)]
pub struct StaticResolver {
    table: Arc<Mutex<StaticTable>>,
}

#[derive(Default)]
struct StaticTable {
    answers: HashMap<String, VecDeque<Vec<IpAddr>>>,
    lookups: HashMap<String, usize>,
}

impl StaticResolver {
    /// An empty table: every name is unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `addrs` as the next answer for `name` (builder style).
    pub fn answer(self, name: &str, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        self.lock()
            .answers
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push_back(addrs.into_iter().collect());
        self
    }

    /// How many times `name` was looked up.
    pub fn lookups(&self, name: &str) -> usize {
        self.lock()
            .lookups
            .get(&name.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StaticTable> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Resolve for StaticResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let answer = {
            let mut table = self.lock();
            *table.lookups.entry(host.clone()).or_default() += 1;
            table.answers.get_mut(&host).and_then(|queue| {
                if queue.len() > 1 {
                    queue.pop_front()
                } else {
                    queue.front().cloned()
                }
            })
        };
        Box::pin(async move {
            let addrs = answer.ok_or_else(|| format!("{host} is not in the test's table"))?;
            Ok(Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0))) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_blocked_range_is_named_by_its_rule() {
        use BlockedRule::*;
        for (addr, rule) in [
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("::1", Loopback),
            ("10.1.2.3", Private),
            ("172.16.0.1", Private),
            ("172.31.255.254", Private),
            ("192.168.1.1", Private),
            ("100.64.0.1", Private),
            ("fd00::1", UniqueLocal),
            ("fc12::1", UniqueLocal),
            ("fec0::1", UniqueLocal),
            ("169.254.169.254", LinkLocal),
            ("fe80::1", LinkLocal),
            ("224.0.0.1", Multicast),
            ("ff02::1", Multicast),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("::", Unspecified),
            ("255.255.255.255", Broadcast),
            ("240.0.0.1", Reserved),
            ("192.0.2.1", Reserved),
            ("198.18.0.1", Reserved),
            ("2001:db8::1", Reserved),
            // IPv6 forms of IPv4 addresses are judged by the IPv4 address.
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:0.0.0.0", Unspecified),
            ("::127.0.0.1", Loopback),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("2002:7f00:1::", Loopback),
        ] {
            assert_eq!(BlockedRule::of(ip(addr)), Some(rule), "{addr}");
        }
        for public in [
            "104.192.141.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(BlockedRule::of(ip(public)), None, "{public}");
        }
    }

    #[test]
    fn only_loopback_and_private_ranges_can_be_allowed() {
        let open = AddressRules {
            allow_loopback: true,
            allow_private_networks: true,
        };
        for allowed in [
            "127.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "10.0.0.1",
            "fd00::1",
        ] {
            assert_eq!(open.check(ip(allowed)), Ok(()), "{allowed}");
            assert!(AddressRules::default().check(ip(allowed)).is_err());
        }
        for never in ["169.254.169.254", "fe80::1", "0.0.0.0", "::", "224.0.0.1"] {
            assert!(open.check(ip(never)).is_err(), "{never}");
        }
    }

    #[test]
    fn the_refusal_names_the_rule_and_who_can_lift_it() {
        let e = AddressRules::default()
            .check_host("meta.test", ip("169.254.169.254"))
            .unwrap_err();
        assert_eq!(e.rule, BlockedRule::LinkLocal);
        let text = e.to_string();
        assert!(
            text.starts_with("blocked address (link-local): meta.test resolves to 169.254.169.254"),
            "{text}"
        );
        assert!(!text.contains("allow_"), "{text}");
        let e = AddressRules::default()
            .check_host("[::ffff:127.0.0.1]", ip("::ffff:127.0.0.1"))
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("[::ffff:127.0.0.1] is"), "{text}");
        assert!(text.contains("IPv4 127.0.0.1 embedded"), "{text}");
        assert!(text.contains("allow_loopback"), "{text}");
    }

    #[tokio::test]
    async fn the_guard_refuses_an_answer_with_any_blocked_address_on_every_look_up() {
        let table = StaticResolver::new()
            .answer("rebind.test", [ip("127.0.0.1")])
            .answer("rebind.test", [ip("8.8.8.8"), ip("10.0.0.1")]);
        let guard = GuardedResolver::new(
            Resolver::new(table.clone()),
            AddressRules {
                allow_loopback: true,
                ..AddressRules::default()
            },
        );
        let first: Vec<_> = guard
            .resolve("rebind.test".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(first, [SocketAddr::new(ip("127.0.0.1"), 0)]);
        for _ in 0..2 {
            let err = match guard.resolve("rebind.test".parse().unwrap()).await {
                Ok(_) => panic!("a private address in the answer must refuse it"),
                Err(e) => e,
            };
            let blocked = err.downcast_ref::<BlockedAddress>().expect("typed");
            assert_eq!(blocked.rule, BlockedRule::Private);
        }
        assert_eq!(table.lookups("rebind.test"), 3);
    }
}
