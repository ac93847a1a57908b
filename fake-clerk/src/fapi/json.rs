//! The Frontend API's objects as ClerkJS 5 reads them (Environment, Client, Session, User,
//! OrganizationMembership, SignIn), built from the users and organizations the Backend API fake
//! holds. Timestamps are milliseconds; every Session carries a freshly minted token.

use serde_json::{Value, json};

use super::state::{FRONTEND_API, SessionState, SignInState};
use crate::{Data, foreign_key, now_millis, now_secs, test_keys};

const DAY_MS: i64 = 86_400_000;

/// A session token for `session`, for `org` (None: the personal workspace), as Clerk mints v2
/// tokens: `o.rol` without the `org:` prefix, `azp` the page's origin.
pub fn token(data: &Data, session: &SessionState, org: Option<&str>, origin: Option<&str>) -> String {
    let now = now_secs();
    let mut claims = json!({
        "sub": session.user_id,
        "sid": session.id,
        "iss": format!("https://{FRONTEND_API}"),
        "iat": now,
        "nbf": now - 10,
        "exp": now + data.fapi.settings.token_ttl_secs,
        "v": 2,
        // Minutes since the first factor was verified; no second factor.
        "fva": [data.fapi.settings.first_factor_age_minutes, -1],
    });
    if let Some(origin) = origin {
        claims["azp"] = json!(origin);
    }
    if let Some(plans) = &data.fapi.settings.plans {
        claims["pla"] = json!(plans);
    }
    if let Some(membership) = org.and_then(|org| data.memberships.get(&(org.to_owned(), session.user_id.clone()))) {
        let organization = &membership["organization"];
        claims["o"] = json!({
            "id": organization["id"],
            "slg": organization["slug"],
            "rol": membership["role"].as_str().unwrap_or_default().trim_start_matches("org:"),
        });
    }
    let key = if data.fapi.settings.foreign_signing { foreign_key() } else { &test_keys().0 };
    key.sign(&claims)
}

pub fn token_object(jwt: String) -> Value {
    json!({ "object": "token", "jwt": jwt })
}

/// The client of dev browser `key`, or null when it has never signed in.
pub fn client(data: &Data, key: &str, origin: Option<&str>) -> Value {
    let Some(client) = data.fapi.clients.get(key) else { return Value::Null };
    let sessions: Vec<Value> = client
        .sessions
        .iter()
        .filter_map(|sid| data.fapi.sessions.get(sid))
        .map(|s| session(data, s, origin))
        .collect();
    let sign_in = client.sign_in.as_ref().and_then(|id| data.fapi.sign_ins.get(id)).map(|s| sign_in(data, s));
    json!({
        "object": "client",
        "id": client.id,
        "sessions": sessions,
        "sign_in": sign_in,
        "sign_up": null,
        "last_active_session_id": client.last_active_session_id,
        "last_authentication_strategy": null,
        // Null: a date under 8 days away makes setActive navigate to the FAPI's /client/touch.
        "cookie_expires_at": null,
        "captcha_bypass": false,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    })
}

pub fn session(data: &Data, session: &SessionState, origin: Option<&str>) -> Value {
    let now = now_millis();
    let user = user(data, &session.user_id);
    let jwt = token(data, session, session.org_id.as_deref(), origin);
    json!({
        "object": "session",
        "id": session.id,
        "status": session.status,
        "expire_at": now + 7 * DAY_MS,
        "abandon_at": now + 30 * DAY_MS,
        "last_active_at": session.updated_at,
        "last_active_organization_id": session.org_id,
        "actor": null,
        "tasks": null,
        "factor_verification_age": [0, -1],
        "public_user_data": public_user_data(data, &session.user_id),
        "user": user,
        // Without it ClerkJS drops __session on load until its next /tokens call.
        "last_active_token": token_object(jwt),
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    })
}

fn public_user_data(data: &Data, user_id: &str) -> Value {
    let user = data.users.get(user_id).cloned().unwrap_or(Value::Null);
    json!({
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "image_url": "",
        "has_image": false,
        "identifier": primary_email(&user),
    })
}

pub fn primary_email(user: &Value) -> Value {
    let primary = &user["primary_email_address_id"];
    user["email_addresses"]
        .as_array()
        .and_then(|all| all.iter().find(|e| &e["id"] == primary))
        .map(|e| e["email_address"].clone())
        .unwrap_or(Value::Null)
}

/// The signed-in user as the Frontend API shows them. Images are empty so that the UI draws
/// initials instead of fetching from img.clerk.com.
pub fn user(data: &Data, user_id: &str) -> Value {
    let user = data.users.get(user_id).cloned().unwrap_or(Value::Null);
    let emails: Vec<Value> = user["email_addresses"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|e| {
                    json!({
                        "object": "email_address",
                        "id": e["id"],
                        "email_address": e["email_address"],
                        "reserved": false,
                        "verification": { "status": "verified", "strategy": "email_code", "attempts": null, "expire_at": null },
                        "linked_to": [],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "object": "user",
        "id": user_id,
        "first_name": user["first_name"],
        "last_name": user["last_name"],
        "username": user["username"],
        "image_url": "",
        "has_image": false,
        "primary_email_address_id": user["primary_email_address_id"],
        "email_addresses": emails,
        "phone_numbers": [],
        "web3_wallets": [],
        "external_accounts": [],
        "passkeys": [],
        "saml_accounts": [],
        "enterprise_accounts": [],
        "organization_memberships": memberships_of(data, user_id),
        "password_enabled": data.fapi.passwords.contains_key(user_id),
        "two_factor_enabled": false,
        "totp_enabled": false,
        "backup_code_enabled": false,
        "public_metadata": user.get("public_metadata").cloned().unwrap_or_else(|| json!({})),
        "unsafe_metadata": {},
        "create_organization_enabled": false,
        "delete_self_enabled": false,
        "created_at": user["created_at"],
        "updated_at": user["updated_at"],
    })
}

/// The user's memberships, each with its organization as it is now.
pub fn memberships_of(data: &Data, user_id: &str) -> Vec<Value> {
    data.memberships
        .iter()
        .filter(|((_, user), _)| user == user_id)
        .map(|((org_id, _), m)| {
            let org = data.organizations.get(org_id).unwrap_or(&m["organization"]);
            json!({
                "object": "organization_membership",
                "id": m["id"],
                "role": m["role"],
                "permissions": m["permissions"],
                "public_metadata": m.get("public_metadata").cloned().unwrap_or_else(|| json!({})),
                "organization": {
                    "object": "organization",
                    "id": org["id"],
                    "name": org["name"],
                    "slug": org["slug"],
                    "image_url": "",
                    "has_image": false,
                    "members_count": org["members_count"],
                    "max_allowed_memberships": org["max_allowed_memberships"],
                    "admin_delete_enabled": true,
                    "public_metadata": org.get("public_metadata").cloned().unwrap_or_else(|| json!({})),
                    "created_at": org["created_at"],
                    "updated_at": org["updated_at"],
                },
                "created_at": m["created_at"],
                "updated_at": m["updated_at"],
            })
        })
        .collect()
}

pub fn sign_in(data: &Data, attempt: &SignInState) -> Value {
    let user = data.users.get(&attempt.user_id).cloned().unwrap_or(Value::Null);
    let complete = attempt.created_session_id.is_some();
    json!({
        "object": "sign_in_attempt",
        "id": attempt.id,
        "status": if complete { "complete" } else { "needs_first_factor" },
        "identifier": attempt.identifier,
        "supported_identifiers": ["email_address"],
        "supported_first_factors": [{ "strategy": "password" }],
        "supported_second_factors": null,
        "first_factor_verification": complete.then(|| json!({ "status": "verified", "strategy": "password" })),
        "second_factor_verification": null,
        "user_data": { "first_name": user["first_name"], "last_name": user["last_name"], "image_url": "", "has_image": false },
        "created_session_id": attempt.created_session_id,
        "abandon_at": attempt.created_at + DAY_MS,
    })
}

/// A development instance with email + password sign-in, single-session mode and
/// organizations on (without `enabled`, the OrganizationSwitcher shows a setup prompt instead).
pub fn environment(origin: Option<&str>) -> Value {
    let origin = origin.unwrap_or("http://127.0.0.1");
    let off = json!({
        "enabled": false, "required": false, "used_for_first_factor": false, "first_factors": [],
        "used_for_second_factor": false, "second_factors": [], "verifications": [], "verify_at_sign_up": false
    });
    json!({
        "object": "environment",
        "id": "env_fake",
        "auth_config": { "object": "auth_config", "id": "aac_fake", "single_session_mode": true, "session_minter": false },
        "display_config": {
            "object": "display_config", "id": "dc_fake", "instance_environment_type": "development",
            "application_name": "Fake Clerk", "preferred_sign_in_strategy": "password", "branded": false,
            "logo_image_url": "", "favicon_image_url": "",
            "sign_in_url": format!("{origin}/sign-in"), "sign_up_url": format!("{origin}/sign-in"),
            "home_url": origin, "after_sign_out_all_url": format!("{origin}/"),
            "captcha_heartbeat": false, "captcha_public_key": null, "show_devmode_warning": false, "theme": {}
        },
        "user_settings": {
            "attributes": {
                "email_address": {
                    "enabled": true, "required": true, "used_for_first_factor": true, "first_factors": ["email_code"],
                    "used_for_second_factor": false, "second_factors": [], "verifications": ["email_code"],
                    "verify_at_sign_up": true
                },
                "password": {
                    "enabled": true, "required": true, "used_for_first_factor": false, "first_factors": [],
                    "used_for_second_factor": false, "second_factors": [], "verifications": [], "verify_at_sign_up": false
                },
                "phone_number": off, "username": off, "web3_wallet": off, "first_name": off, "last_name": off,
                "authenticator_app": off, "backup_code": off, "passkey": off
            },
            "actions": { "delete_self": false, "create_organization": false },
            "social": {}, "saml": { "enabled": false }, "enterprise_sso": { "enabled": false },
            "sign_in": { "second_factor": { "required": false } },
            "sign_up": { "captcha_enabled": false, "mode": "public", "progressive": true, "legal_consent_enabled": false, "mfa": { "required": false } },
            "password_settings": { "min_length": 8, "max_length": 0, "disable_hibp": true, "show_zxcvbn": false, "min_zxcvbn_strength": 0 },
            "passkey_settings": { "allow_autofill": false, "show_sign_in_button": false }
        },
        "organization_settings": {
            "enabled": true, "max_allowed_memberships": 5, "force_organization_selection": false,
            "domains": { "enabled": false, "enrollment_modes": [] }, "actions": { "admin_delete": true }, "slug": { "disabled": false }
        },
        "maintenance_mode": false,
        "client_debug_mode": false,
        "partitioned_cookies": false
    })
}
