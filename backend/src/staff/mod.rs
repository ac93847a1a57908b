//! Staff accounts: argon2 passwords, login with throttling, and the staff half of a server
//! session. Clerk is for end users; staff sign in here with an email and a password.

pub mod login;
pub mod login_session;
pub mod password;
pub mod verify_gate;

pub use login::{LoggedIn, LoginError, log_in};
pub use password::{NewPassword, PasswordError};

pub use crate::proxy::ClientIp;
