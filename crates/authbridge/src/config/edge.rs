//! The network edge: connection limits and timeouts, which hosts the server answers for, which
//! peers are proxies whose `X-Forwarded-*` headers are believed, the public origin, and the
//! optional second listener for operations endpoints. Every key is top-level (file and
//! environment alike); see docs/configuration.md.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::schema::{section, Rules};
use super::{parse, ConfigError, RawValue};

/// Django's `ALLOWED_HOSTS` when it is empty and `DEBUG` is on: the local host only.
pub const DEFAULT_ALLOWED_HOSTS: &[&str] = &[".localhost", "127.0.0.1", "[::1]"];
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_HTTP2_MAX_STREAMS: u32 = 100;
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;
/// File descriptors kept back from the connection cap for the database pool, the SQLite files,
/// the listeners and the log.
const RESERVED_FDS: u64 = 128;

/// An IP network (`10.0.0.0/8`, `::1/128`); a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Option<Self> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Self { addr, prefix })
    }

    /// The prefix length: 0 is "every address".
    pub fn prefix_len(&self) -> u8 {
        self.prefix
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer seen on a dual-stack socket as ::ffff:a.b.c.d is the IPv4 address.
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// `::ffff:a.b.c.d` as `a.b.c.d`.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

section! {
    /// The network edge (all top-level keys).
    pub struct EdgeSettings {
        /// Django's `ALLOWED_HOSTS` patterns, lower-cased.
        "AUTHBRIDGE_ALLOWED_HOSTS" allowed_hosts: Vec<String> =
            DEFAULT_ALLOWED_HOSTS.iter().map(|s| s.to_string()).collect(), allowed_hosts;
        /// Peers whose `X-Forwarded-*` headers are believed.
        "AUTHBRIDGE_TRUSTED_PROXIES" trusted_proxies: Vec<IpNet> = Vec::new(), trusted_proxies;
        /// The server's own origin (`scheme://host[:port]`), used by the CSRF check instead of the
        /// request's `Host` and `X-Forwarded-Proto`.
        "AUTHBRIDGE_PUBLIC_URL" public_origin: Option<String> = None, public_origin;
        /// A second listener for `/healthz`, `/readyz` and `/metrics`.
        "AUTHBRIDGE_OPS_BIND" ops_bind: Option<SocketAddr> = None, ops_bind;
        /// A request's headers must arrive within this time.
        "AUTHBRIDGE_HEADER_READ_TIMEOUT" header_read_timeout: Duration =
            DEFAULT_HEADER_READ_TIMEOUT, duration;
        /// A connection without a request in progress is closed after this time.
        "AUTHBRIDGE_IDLE_TIMEOUT" idle_timeout: Duration = DEFAULT_IDLE_TIMEOUT, duration;
        /// A request body must be complete this long after its headers.
        "AUTHBRIDGE_BODY_READ_TIMEOUT" body_read_timeout: Duration =
            DEFAULT_BODY_READ_TIMEOUT, duration;
        /// Open connections at once (per listener); more wait in the kernel's accept backlog.
        "AUTHBRIDGE_MAX_CONNECTIONS" max_connections: usize = default_max_connections(),
            parse::int_in(1, 1_000_000);
        /// Concurrent HTTP/2 streams per connection.
        "AUTHBRIDGE_HTTP2_MAX_STREAMS" http2_max_streams: u32 = DEFAULT_HTTP2_MAX_STREAMS,
            parse::int_in(1, 10_000);
        /// Bound on a request's header block (HTTP/1 read buffer, HTTP/2 header list).
        "AUTHBRIDGE_MAX_HEADER_BYTES" max_header_bytes: usize = DEFAULT_MAX_HEADER_BYTES,
            parse::int_in(8192, 1_048_576);
    }
}

impl Rules for EdgeSettings {}

fn allowed_hosts(key: &str, value: &RawValue) -> Result<Vec<String>, ConfigError> {
    let list = parse::string_list(key, value)?;
    Ok(list.iter().map(|h| h.to_ascii_lowercase()).collect())
}

fn trusted_proxies(key: &str, value: &RawValue) -> Result<Vec<IpNet>, ConfigError> {
    parse::string_list(key, value)?
        .iter()
        .map(|s| {
            IpNet::parse(s)
                .ok_or_else(|| invalid(key, format!("{s:?} is not an IP address or CIDR network")))
        })
        .collect()
}

fn public_origin(key: &str, value: &RawValue) -> Result<Option<String>, ConfigError> {
    parse::optional_string(key, value)?
        .map(|s| origin_of(key, &s))
        .transpose()
}

fn ops_bind(key: &str, value: &RawValue) -> Result<Option<SocketAddr>, ConfigError> {
    parse::optional_string(key, value)?
        .map(|s| {
            s.parse()
                .map_err(|_| invalid(key, format!("{s:?} is not HOST:PORT")))
        })
        .transpose()
}

/// The soft `RLIMIT_NOFILE` (from `/proc/self/limits` on Linux), when known.
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line.split_whitespace().nth(3)?;
    if soft == "unlimited" {
        return Some(u64::MAX);
    }
    soft.parse().ok()
}

/// Three quarters of the file descriptors left after a reserve, between 64 and 10,000: the
/// server always keeps descriptors for its database and its listener, so a flood of connections
/// can never make it unreachable (accept failing with EMFILE), and the cap stays below what one
/// process serves comfortably. Without a known limit (not Linux): 1,024.
pub fn default_max_connections() -> usize {
    match open_files_limit() {
        Some(limit) => {
            let usable = limit.saturating_sub(RESERVED_FDS).saturating_mul(3) / 4;
            usize::try_from(usable.clamp(64, 10_000)).unwrap_or(10_000)
        }
        None => 1024,
    }
}

use parse::invalid;

/// A duration: an integer (seconds), or a number with `ms`, `s` or `m` (`"500ms"`, `"1.5s"`).
pub(super) fn duration(key: &str, value: &RawValue) -> Result<Duration, ConfigError> {
    let (number, unit) = match value {
        RawValue::Toml(toml::Value::Integer(i)) => (*i as f64, 1.0),
        RawValue::Toml(toml::Value::Float(f)) => (*f, 1.0),
        RawValue::Env(s) | RawValue::Toml(toml::Value::String(s)) => {
            let s = s.trim();
            let (num, unit) = if let Some(n) = s.strip_suffix("ms") {
                (n, 0.001)
            } else if let Some(n) = s.strip_suffix('s') {
                (n, 1.0)
            } else if let Some(n) = s.strip_suffix('m') {
                (n, 60.0)
            } else {
                (s, 1.0)
            };
            let n: f64 = num.trim().parse().map_err(|_| {
                invalid(key, format!("{s:?} is not a duration (e.g. 10, \"500ms\")"))
            })?;
            (n, unit)
        }
        RawValue::Toml(_) => return Err(invalid(key, "expected seconds or a duration string")),
    };
    let secs = number * unit;
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
        return Err(invalid(key, "must be more than 0 and at most one day"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Django's `split_domain_port`: `host_validation_re` (`(domain)(:port)?`, a domain of
/// `[a-z0-9.-]+` or a bracketed IPv6 literal) on the lower-cased host; the domain loses a
/// trailing dot. `None` for a host Django calls invalid.
pub fn split_domain_port(host: &str) -> Option<(String, String)> {
    let h = host.to_ascii_lowercase();
    let (domain, rest) = if h.starts_with('[') {
        let end = h.find(']')? + 1;
        let (d, rest) = h.split_at(end);
        // `\[[a-f0-9]*:[a-f0-9.:]+\]`
        let (first, after) = d[1..d.len() - 1].split_once(':')?;
        let ok = first.bytes().all(|b| b.is_ascii_hexdigit())
            && !after.is_empty()
            && after
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':');
        if !ok {
            return None;
        }
        (d, rest)
    } else {
        let (d, rest) = h.split_at(h.find(':').unwrap_or(h.len()));
        let ok = !d.is_empty()
            && d.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        if !ok {
            return None;
        }
        (d, rest)
    };
    let port = match rest.strip_prefix(':') {
        None if rest.is_empty() => "",
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p,
        _ => return None,
    };
    Some((
        domain.strip_suffix('.').unwrap_or(domain).to_string(),
        port.to_string(),
    ))
}

/// Django's `is_same_domain`: `.example.com` matches it and its subdomains, anything else is an
/// exact match.
fn is_same_domain(host: &str, pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    match pattern.strip_prefix('.') {
        Some(bare) => host.ends_with(pattern) || host == bare,
        None => host == pattern,
    }
}

/// The origin of a URL: `scheme://host[:port]`, the port only when not the scheme's default.
fn origin_of(key: &str, raw: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(raw).map_err(|e| invalid(key, format!("{raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(key, format!("{raw:?} is not an http(s) URL")));
    }
    match url.origin() {
        url::Origin::Tuple(..) => Ok(url.origin().ascii_serialization()),
        url::Origin::Opaque(_) => Err(invalid(key, format!("{raw:?} has no origin"))),
    }
}

impl EdgeSettings {
    /// Whether `ip` (the TCP peer) is a configured proxy.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(ip))
    }

    /// Django's `get_host` check: the host (port ignored) matches an `ALLOWED_HOSTS` pattern.
    pub fn host_allowed(&self, host: &str) -> bool {
        match split_domain_port(host) {
            Some((domain, _)) if !domain.is_empty() => self
                .allowed_hosts
                .iter()
                .any(|p| p == "*" || is_same_domain(&domain, p)),
            _ => false,
        }
    }

    /// Whether the host list is still the local-only default.
    pub fn allowed_hosts_are_default(&self) -> bool {
        self.allowed_hosts
            .iter()
            .map(String::as_str)
            .eq(DEFAULT_ALLOWED_HOSTS.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::schema::Section;
    use crate::config::Settings;

    fn load(pairs: &[(&str, &str)]) -> Result<EdgeSettings, ConfigError> {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Settings::load(None, env).map(|s| s.edge)
    }

    #[test]
    fn every_key_is_a_top_level_key() {
        for key in EdgeSettings::KEYS {
            assert!(Settings::is_key(key.name), "{}", key.name);
        }
    }

    #[test]
    fn networks() {
        let net = IpNet::parse("10.0.0.0/8").expect("net");
        assert!(net.contains("10.1.2.3".parse().expect("ip")));
        assert!(!net.contains("11.0.0.1".parse().expect("ip")));
        assert!(net.contains("::ffff:10.9.9.9".parse().expect("ip")));
        let one = IpNet::parse("192.0.2.7").expect("net");
        assert!(one.contains("192.0.2.7".parse().expect("ip")));
        assert!(!one.contains("192.0.2.8".parse().expect("ip")));
        let v6 = IpNet::parse("2001:db8::/32").expect("net");
        assert!(v6.contains("2001:db8:1::5".parse().expect("ip")));
        assert!(!v6.contains("2001:db9::".parse().expect("ip")));
        assert!(IpNet::parse("0.0.0.0/0")
            .expect("net")
            .contains("8.8.8.8".parse().expect("ip")));
        assert!(IpNet::parse("10.0.0.0/33").is_none());
        assert!(IpNet::parse("example.com").is_none());
        assert!(load(&[("AUTHBRIDGE_TRUSTED_PROXIES", "10.0.0.0/8, ::1")]).is_ok());
        assert!(load(&[("AUTHBRIDGE_TRUSTED_PROXIES", "10.0.0.0/99")]).is_err());
    }

    #[test]
    fn allowed_hosts_like_django() {
        let e = load(&[]).expect("defaults");
        assert!(e.allowed_hosts_are_default());
        for ok in [
            "localhost",
            "localhost:8080",
            "app.localhost",
            "127.0.0.1:1",
            "[::1]:80",
            "LOCALHOST.",
        ] {
            assert!(e.host_allowed(ok), "{ok}");
        }
        for bad in [
            "example.com",
            "127.0.0.2",
            "[::2]",
            "",
            "localhost:x",
            "a b",
            "evil.com#localhost",
        ] {
            assert!(!e.host_allowed(bad), "{bad}");
        }
        let e = load(&[(
            "AUTHBRIDGE_ALLOWED_HOSTS",
            ".Example.com, auth.test, [2001:db8::1]",
        )])
        .expect("hosts");
        for ok in [
            "example.com",
            "a.b.example.com:443",
            "auth.test",
            "[2001:db8::1]:8443",
        ] {
            assert!(e.host_allowed(ok), "{ok}");
        }
        for bad in [
            "badexample.com",
            "x.auth.test",
            "localhost",
            "example.com.evil.test",
        ] {
            assert!(!e.host_allowed(bad), "{bad}");
        }
        let e = load(&[("AUTHBRIDGE_ALLOWED_HOSTS", "*")]).expect("hosts");
        assert!(e.host_allowed("anything.test:1"));
        assert!(!e.host_allowed("not valid"));
    }

    #[test]
    fn timeouts_and_limits() {
        let e = load(&[
            ("AUTHBRIDGE_HEADER_READ_TIMEOUT", "500ms"),
            ("AUTHBRIDGE_IDLE_TIMEOUT", "2"),
            ("AUTHBRIDGE_BODY_READ_TIMEOUT", "1.5s"),
            ("AUTHBRIDGE_MAX_CONNECTIONS", "3"),
        ])
        .expect("edge");
        assert_eq!(e.header_read_timeout, Duration::from_millis(500));
        assert_eq!(e.idle_timeout, Duration::from_secs(2));
        assert_eq!(e.body_read_timeout, Duration::from_millis(1500));
        assert_eq!(e.max_connections, 3);
        assert!(load(&[("AUTHBRIDGE_IDLE_TIMEOUT", "0")]).is_err());
        assert!(load(&[("AUTHBRIDGE_IDLE_TIMEOUT", "soon")]).is_err());
        assert!(load(&[("AUTHBRIDGE_MAX_CONNECTIONS", "0")]).is_err());
        let d = default_max_connections();
        assert!((64..=10_000).contains(&d), "{d}");
    }

    #[test]
    fn public_url_is_an_origin() {
        let e = load(&[(
            "AUTHBRIDGE_PUBLIC_URL",
            "https://Auth.Example.com:443/base/",
        )])
        .expect("edge");
        assert_eq!(e.public_origin.as_deref(), Some("https://auth.example.com"));
        let e = load(&[("AUTHBRIDGE_PUBLIC_URL", "http://auth.test:8080")]).expect("edge");
        assert_eq!(e.public_origin.as_deref(), Some("http://auth.test:8080"));
        assert!(load(&[("AUTHBRIDGE_PUBLIC_URL", "auth.test")]).is_err());
        assert!(load(&[("AUTHBRIDGE_PUBLIC_URL", "ftp://auth.test")]).is_err());
    }
}
