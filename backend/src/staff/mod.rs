//! Staff accounts: argon2 passwords, login with throttling, and the staff half of a server
//! session. Clerk is for end users; staff sign in here with an email and a password.

pub mod login;
pub mod password;
pub mod session;

pub use login::{LoginError, log_in};
pub use password::{NewPassword, PasswordError};

/// The client's IP address as the server sees it (the peer, or with `TRUST_PROXY_HEADERS` the
/// last `X-Forwarded-For` hop), left in the request by the auth middleware.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIp(pub String);
