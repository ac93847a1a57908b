//! Typed ids. Every id the code passes around has its own type, so swapping two arguments (a
//! local user id for an organization id, a Clerk user id for a session id) does not compile.
//! Each is transparent on the wire (serde) and in the database (sqlx, server only).

use std::{borrow::Borrow, fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A row id of one of our tables.
macro_rules! local_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(pub i64);

        impl $name {
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    };
}

/// An id Clerk assigned (`user_…`, `org_…`): opaque text.
macro_rules! clerk_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // Hash and Eq agree with str's, so maps keyed by the id are looked up by a &str.
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

local_id!(
    /// `users.id`: a mirrored Clerk user or a staff-only account.
    UserId
);
local_id!(
    /// `organizations.id`.
    OrgId
);
local_id!(
    /// `organization_memberships.id`.
    MembershipId
);
clerk_id!(
    /// Clerk's user id, `user_…` (a JWT's `sub`).
    ClerkUserId
);
clerk_id!(
    /// Clerk's organization id, `org_…` (a JWT's `o.id`).
    ClerkOrgId
);
clerk_id!(
    /// Clerk's session id, `sess_…` (a JWT's `sid`).
    ClerkSessionId
);
clerk_id!(
    /// A webhook delivery's id (`svix-id`, `msg_…`), the key of its idempotency record.
    DeliveryId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_transparent_on_the_wire() {
        assert_eq!(serde_json::to_string(&UserId(7)).ok().as_deref(), Some("7"));
        let id: ClerkUserId = serde_json::from_str("\"user_1\"").expect("a string");
        assert_eq!(id, "user_1");
    }
}
