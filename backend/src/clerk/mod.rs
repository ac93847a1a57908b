//! Everything that talks Clerk: session-token verification (JWKS or a PEM key), the Backend API
//! client, and the mapping from Clerk's objects to our rows.

pub mod api;
pub mod category;
pub mod claims;
pub mod keys;
pub mod mapping;
pub mod publishable_key;
pub mod verify;

pub use claims::{Actor, Features, OrgClaims, SessionClaims, SessionStatus};
pub use verify::{TokenError, TokenVerifier};
