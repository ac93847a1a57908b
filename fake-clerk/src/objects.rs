//! Realistic Clerk objects, shaped as the Backend API and webhooks send them.

use serde_json::{Value, json};

use crate::now_millis;

/// A full Clerk User with one verified primary email address.
pub fn user(id: &str, email: &str, first_name: &str, last_name: &str) -> Value {
    let now = now_millis();
    let email_id = format!("idn_{id}");
    json!({
        "object": "user",
        "id": id,
        "external_id": null,
        "primary_email_address_id": email_id,
        "primary_phone_number_id": null,
        "primary_web3_wallet_id": null,
        "username": null,
        "first_name": first_name,
        "last_name": last_name,
        "image_url": format!("https://img.clerk.com/{id}.png"),
        "has_image": true,
        "public_metadata": {},
        "private_metadata": {},
        "unsafe_metadata": {},
        "email_addresses": [
            {
                "id": format!("idn_other_{id}"),
                "object": "email_address",
                "email_address": format!("secondary+{email}"),
                "reserved": false,
                "verification": { "status": "verified", "strategy": "email_code", "attempts": 1, "expire_at": null },
                "linked_to": [],
                "created_at": now,
                "updated_at": now
            },
            {
                "id": email_id,
                "object": "email_address",
                "email_address": email,
                "reserved": false,
                "verification": { "status": "verified", "strategy": "from_oauth_google", "attempts": null, "expire_at": null },
                "linked_to": [{ "type": "oauth_google", "id": format!("idn_google_{id}") }],
                "created_at": now,
                "updated_at": now
            }
        ],
        "phone_numbers": [],
        "web3_wallets": [],
        "passkeys": [],
        "external_accounts": [],
        "saml_accounts": [],
        "enterprise_accounts": [],
        "password_enabled": false,
        "two_factor_enabled": false,
        "totp_enabled": false,
        "backup_code_enabled": false,
        "banned": false,
        "locked": false,
        "delete_self_enabled": true,
        "create_organization_enabled": true,
        "mfa_enabled_at": null,
        "mfa_disabled_at": null,
        "last_sign_in_at": now,
        "last_active_at": now,
        "legal_accepted_at": null,
        "lockout_expires_in_seconds": null,
        "verification_attempts_remaining": 100,
        "created_at": now - 86_400_000,
        "updated_at": now
    })
}

/// A full Clerk Organization.
pub fn organization(id: &str, name: &str, slug: &str) -> Value {
    let now = now_millis();
    json!({
        "object": "organization",
        "id": id,
        "name": name,
        "slug": slug,
        "image_url": format!("https://img.clerk.com/{id}.png"),
        "has_image": false,
        "members_count": 1,
        "pending_invitations_count": 0,
        "max_allowed_memberships": 5,
        "admin_delete_enabled": true,
        "public_metadata": {},
        "private_metadata": {},
        "created_by": null,
        "created_at": now - 86_400_000,
        "updated_at": now
    })
}

/// A full OrganizationMembership, embedding the organization and the user's public data.
pub fn membership(id: &str, organization: &Value, user: &Value, role: &str) -> Value {
    let now = now_millis();
    json!({
        "object": "organization_membership",
        "id": id,
        "role": role,
        "role_name": role.trim_start_matches("org:"),
        "permissions": ["org:sys_profile:read", "org:sys_memberships:read"],
        "public_metadata": {},
        "private_metadata": {},
        "organization": organization,
        "public_user_data": {
            "user_id": user["id"],
            "first_name": user["first_name"],
            "last_name": user["last_name"],
            "image_url": user["image_url"],
            "has_image": true,
            "identifier": user["email_addresses"][1]["email_address"],
            "username": user["username"]
        },
        "created_at": now,
        "updated_at": now
    })
}
