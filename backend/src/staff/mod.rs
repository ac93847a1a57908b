//! Staff accounts: argon2 passwords, login with throttling, and the staff half of a server
//! session. Clerk is for end users; staff sign in here with an email and a password.

pub mod login;
pub mod login_session;
pub mod password;
pub mod verify_gate;

pub use login::{LoggedIn, LoginError, log_in};
pub use password::{NewPassword, PasswordError};

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

#[cfg(test)]
mod tests {
    use super::ClientIp;

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
}
