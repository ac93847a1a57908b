//! Who the client is behind proxies (`TRUST_PROXY_HEADERS`, `TRUSTED_PROXIES`). Each proxy
//! appends the address it received the request from to `X-Forwarded-For`, so reading from the
//! right, every address until the first one outside our own proxies was written by a proxy we
//! run; anything further left is whatever the client claimed.

use crate::invalid_value::InvalidValue;
use std::net::IpAddr;

use ipnet::IpNet;

/// The client as login throttling counts it: its IP address as the server sees it (the peer, or
/// with `TRUST_PROXY_HEADERS` the last `X-Forwarded-For` hop), left in the request by the auth
/// middleware. An IPv6 client is its /64: one host usually holds a whole /64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl ClientIp {
    pub fn from_addr(ip: std::net::IpAddr) -> Self {
        use std::net::IpAddr;
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => {
                let [a, b, c, d, ..] = v6.segments();
                Self(format!("{a:x}:{b:x}:{c:x}:{d:x}::/64"))
            }
        }
    }

    /// A forwarded address: an IP, or an `ip:port` / `[v6]:port` as some proxies send (the port
    /// dropped, or every connection would be a new client); anything else is kept as sent
    /// (bounded), so junk still counts as one client.
    pub fn from_forwarded(raw: &str) -> Self {
        let raw = raw.trim();
        if let Ok(ip) = raw.parse::<std::net::IpAddr>() {
            return Self::from_addr(ip);
        }
        match raw.parse::<std::net::SocketAddr>() {
            Ok(addr) => Self::from_addr(addr.ip()),
            Err(_) => Self(raw.chars().take(64).collect()),
        }
    }
}

/// The networks our own proxies send from. The default is loopback and the private ranges, where
/// a load balancer in front of the app usually lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

const PRIVATE_NETWORKS: [&str; 6] =
    ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

impl Default for TrustedProxies {
    fn default() -> Self {
        Self(PRIVATE_NETWORKS.iter().filter_map(|net| net.parse().ok()).collect())
    }
}

impl TrustedProxies {
    /// Comma-separated CIDRs (`10.0.0.0/8, 2001:db8::/32`); a bare address is its own /32 or /128.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let nets = raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| InvalidValue::new(format!("{s:?} is not an IP network like 10.0.0.0/8")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(nets))
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that `peer` sent us with these `X-Forwarded-For` lines (in
    /// order). A peer outside our proxies is the client itself, whatever it forwards. Otherwise
    /// the right-most forwarded address outside them; if every one is ours, the left-most. An
    /// entry that is not an address ends the walk: a proxy of ours wrote down what it was told.
    pub fn client<'a>(&self, peer: IpAddr, forwarded: impl DoubleEndedIterator<Item = &'a str>) -> ClientIp {
        if !self.contains(peer) {
            return ClientIp::from_addr(peer);
        }
        let mut client = ClientIp::from_addr(peer);
        for line in forwarded.rev() {
            for hop in line.rsplit(',').map(str::trim).filter(|h| !h.is_empty()) {
                client = ClientIp::from_forwarded(hop);
                match forwarded_ip(hop) {
                    Some(ip) if self.contains(ip) => continue,
                    _ => return client,
                }
            }
        }
        client
    }
}

/// The address in one `X-Forwarded-For` entry (`ip`, `ip:port` or `[v6]:port`).
fn forwarded_ip(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a = ClientIp::from_forwarded("2001:db8:1:2:aaaa::1");
        let b = ClientIp::from_forwarded("2001:db8:1:2:ffff:1:2:3");
        assert_eq!(a, b);
        assert_eq!(a.0, "2001:db8:1:2::/64");
        assert_ne!(a, ClientIp::from_forwarded("2001:db8:1:3::1"));
        assert_eq!(ClientIp::from_forwarded("::ffff:10.0.0.7").0, "10.0.0.7");
        assert_eq!(ClientIp::from_forwarded(" 10.0.0.7 ").0, "10.0.0.7");
        assert_eq!(ClientIp::from_forwarded("10.0.0.7:51234").0, "10.0.0.7", "the port is not the client");
        assert_eq!(ClientIp::from_forwarded("[2001:db8:1:2::9]:443"), a);
        assert_eq!(ClientIp::from_forwarded(&"x".repeat(500)).0.len(), 64);
    }

    fn client(proxies: &TrustedProxies, peer: &str, lines: &[&str]) -> String {
        proxies.client(peer.parse().unwrap(), lines.iter().copied()).0
    }

    #[test]
    fn the_client_is_the_right_most_address_outside_our_proxies() {
        let ours = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        // Two proxies of ours: the client is what the first one saw, not the claim left of it.
        assert_eq!(client(&ours, "10.0.0.2", &["6.6.6.6, 203.0.113.9, 10.0.0.1"]), "203.0.113.9");
        assert_eq!(client(&ours, "192.0.2.7", &["6.6.6.6", "203.0.113.9"]), "203.0.113.9");
        // A peer that is not ours is the client, whatever it forwards.
        assert_eq!(client(&ours, "203.0.113.50", &["1.2.3.4"]), "203.0.113.50");
        // Nothing forwarded, or only our own hops.
        assert_eq!(client(&ours, "10.0.0.2", &[]), "10.0.0.2");
        assert_eq!(client(&ours, "10.0.0.2", &["10.1.1.1, 10.0.0.1"]), "10.1.1.1");
        // Junk ends the walk and counts as one (bounded) client.
        assert_eq!(client(&ours, "10.0.0.2", &["1.1.1.1, junk"]), "junk");
        assert_eq!(client(&ours, "10.0.0.2", &["203.0.113.9:4711"]), "203.0.113.9");
    }

    #[test]
    fn the_default_trusts_loopback_and_private_networks_only() {
        let default = TrustedProxies::default();
        assert_eq!(client(&default, "127.0.0.1", &["198.51.100.4"]), "198.51.100.4");
        assert_eq!(client(&default, "::ffff:10.9.9.9", &["198.51.100.4"]), "198.51.100.4");
        assert_eq!(client(&default, "198.51.100.77", &["1.2.3.4"]), "198.51.100.77");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("nonsense").is_err());
    }
}
