//! From Clerk's objects (Backend API or webhook payloads) to our rows. Webhooks and sync use
//! the same functions, so a field is mapped one way everywhere.

use chrono::{DateTime, Utc};
use ids::{ClerkOrgId, ClerkUserId, OrgId, UserId};
use serde_json::Value;

use crate::db::{organizations::ClerkOrganizationFields, users::ClerkUserFields};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("the Clerk object is missing {0}")]
pub struct MappingError(pub &'static str);

fn millis(v: &Value) -> Option<DateTime<Utc>> {
    v.as_i64().and_then(DateTime::from_timestamp_millis)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A Clerk User object. The email is the address whose id is `primary_email_address_id`;
/// banned or locked users map to inactive.
pub fn user_fields(user: &Value) -> Result<ClerkUserFields, MappingError> {
    let clerk_id = ClerkUserId::from(user["id"].as_str().filter(|s| !s.is_empty()).ok_or(MappingError("id"))?);
    let clerk_updated_at = user["updated_at"].as_i64().ok_or(MappingError("updated_at"))?;
    let primary = user["primary_email_address_id"].as_str();
    let email = user["email_addresses"]
        .as_array()
        .and_then(|addresses| addresses.iter().find(|a| primary.is_some() && a["id"].as_str() == primary))
        .map(|a| text(&a["email_address"]))
        .unwrap_or_default();
    let banned = user["banned"].as_bool().unwrap_or(false);
    let locked = user["locked"].as_bool().unwrap_or(false);
    let username = user["username"].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(ClerkUserFields {
        clerk_id,
        email,
        push_username: username.is_some().then_some(false),
        username,
        first_name: text(&user["first_name"]),
        last_name: text(&user["last_name"]),
        image_url: text(&user["image_url"]),
        public_metadata: match &user["public_metadata"] {
            Value::Object(map) => Value::Object(map.clone()),
            _ => Value::Object(Default::default()),
        },
        last_sign_in_at: millis(&user["last_sign_in_at"]),
        is_active: !banned && !locked,
        clerk_updated_at,
    })
}

/// A Clerk Organization object (also embedded in membership payloads).
pub fn organization_fields(org: &Value) -> Result<ClerkOrganizationFields, MappingError> {
    let clerk_id = ClerkOrgId::from(org["id"].as_str().filter(|s| !s.is_empty()).ok_or(MappingError("id"))?);
    let clerk_updated_at = org["updated_at"].as_i64().ok_or(MappingError("updated_at"))?;
    Ok(ClerkOrganizationFields {
        clerk_id,
        name: text(&org["name"]),
        slug: org["slug"].as_str().map(str::to_owned),
        image_url: text(&org["image_url"]),
        members_count: org["members_count"].as_i64(),
        max_allowed_memberships: org["max_allowed_memberships"].as_i64(),
        public_metadata: match &org["public_metadata"] {
            Value::Object(map) => Value::Object(map.clone()),
            _ => Value::Object(Default::default()),
        },
        clerk_updated_at,
    })
}

/// The parts of an OrganizationMembership we store, besides its organization and user.
#[derive(Clone, Debug, PartialEq)]
pub struct MembershipParts {
    pub clerk_id: String,
    pub org_clerk_id: ClerkOrgId,
    pub user_clerk_id: ClerkUserId,
    pub role: String,
    pub permissions: Vec<String>,
    pub clerk_updated_at: i64,
    pub public_metadata: Value,
}

impl MembershipParts {
    /// The row to store, once the organization and user are known locally.
    pub fn into_fields(self, organization_id: OrgId, user_id: UserId) -> crate::db::memberships::MembershipFields {
        crate::db::memberships::MembershipFields {
            clerk_id: self.clerk_id,
            organization_id,
            user_id,
            role: self.role,
            permissions: self.permissions,
            clerk_updated_at: self.clerk_updated_at,
            public_metadata: self.public_metadata,
        }
    }
}

pub fn membership_parts(m: &Value) -> Result<MembershipParts, MappingError> {
    Ok(MembershipParts {
        clerk_id: m["id"].as_str().filter(|s| !s.is_empty()).ok_or(MappingError("id"))?.to_owned(),
        org_clerk_id: m["organization"]["id"].as_str().ok_or(MappingError("organization.id"))?.into(),
        user_clerk_id: m["public_user_data"]["user_id"]
            .as_str()
            .ok_or(MappingError("public_user_data.user_id"))?
            .into(),
        role: m["role"].as_str().ok_or(MappingError("role"))?.to_owned(),
        permissions: m["permissions"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        clerk_updated_at: m["updated_at"].as_i64().ok_or(MappingError("updated_at"))?,
        public_metadata: match &m["public_metadata"] {
            Value::Object(map) => Value::Object(map.clone()),
            _ => Value::Object(Default::default()),
        },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_primary_email_is_the_one_named_by_id_not_the_first() {
        let user = json!({
            "id": "user_1", "updated_at": 5, "primary_email_address_id": "idn_2",
            "email_addresses": [
                { "id": "idn_1", "email_address": "first@example.com" },
                { "id": "idn_2", "email_address": "primary@example.com" }
            ],
            "banned": false, "locked": false, "username": "", "last_sign_in_at": 1700000000000i64
        });
        let fields = user_fields(&user).expect("maps");
        assert_eq!(fields.email, "primary@example.com");
        assert_eq!(fields.username, None, "an empty username is no username");
        assert!(fields.is_active);
        assert_eq!(fields.last_sign_in_at.map(|t| t.timestamp()), Some(1_700_000_000));
    }

    #[test]
    fn banned_or_locked_users_are_inactive() {
        for (banned, locked) in [(true, false), (false, true)] {
            let user = json!({ "id": "user_1", "updated_at": 5, "banned": banned, "locked": locked });
            assert!(!user_fields(&user).expect("maps").is_active);
        }
    }

    #[test]
    fn id_and_updated_at_are_required() {
        assert_eq!(user_fields(&json!({ "updated_at": 1 })).err(), Some(MappingError("id")));
        assert_eq!(user_fields(&json!({ "id": "user_1" })).err(), Some(MappingError("updated_at")));
    }
}
