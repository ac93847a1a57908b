//! `/v1/organizations/{id}/invitations`: invite by email with a role, and revoke.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::clerk_error;
use crate::{Shared, now_millis};

/// Clerk's checks: an organization that exists, a valid email, a role, and no pending
/// invitation for the same address.
pub(super) async fn create(State(shared): State<Shared>, Path(org_id): Path<String>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return clerk_error(StatusCode::BAD_REQUEST, "form_param_format_invalid", "body must be a JSON object");
    };
    let email = body["email_address"].as_str().unwrap_or_default().trim().to_owned();
    let role = body["role"].as_str().unwrap_or_default().to_owned();
    let mut data = shared.lock();
    if !data.organizations.contains_key(&org_id) {
        return clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found");
    }
    if !email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.')) {
        let message = "email_address must be a valid email address.";
        return clerk_error(StatusCode::UNPROCESSABLE_ENTITY, "form_param_format_invalid", message);
    }
    if role.is_empty() {
        return clerk_error(StatusCode::UNPROCESSABLE_ENTITY, "form_param_missing", "role is required");
    }
    let pending = data.invitations.values().any(|i| {
        i["organization_id"] == org_id.as_str() && i["status"] == "pending" && i["email_address"] == email.as_str()
    });
    if pending {
        let message = "There is already a pending invitation for this email address.";
        return clerk_error(StatusCode::UNPROCESSABLE_ENTITY, "duplicate_record", message);
    }
    data.created += 1;
    let now = now_millis();
    let invitation = json!({
        "object": "organization_invitation",
        "id": format!("orginv_n{:09}", data.created),
        "email_address": email,
        "role": role,
        "role_name": role.trim_start_matches("org:"),
        "organization_id": org_id,
        "inviter_id": body.get("inviter_user_id").cloned().unwrap_or(Value::Null),
        "status": "pending",
        "public_metadata": body.get("public_metadata").cloned().unwrap_or(json!({})),
        "private_metadata": {},
        "url": null,
        "expires_at": now + 30 * 86_400_000i64,
        "created_at": now,
        "updated_at": now
    });
    data.invitations.insert(invitation["id"].as_str().unwrap_or_default().to_owned(), invitation.clone());
    Json(invitation).into_response()
}

pub(super) async fn revoke(State(shared): State<Shared>, Path((org_id, id)): Path<(String, String)>) -> Response {
    let mut data = shared.lock();
    let Some(invitation) = data.invitations.get_mut(&id).filter(|i| i["organization_id"] == org_id.as_str()) else {
        return clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found");
    };
    if invitation["status"] != "pending" {
        let message = "Only a pending invitation can be revoked.";
        return clerk_error(StatusCode::BAD_REQUEST, "organization_invitation_not_pending", message);
    }
    invitation["status"] = json!("revoked");
    invitation["updated_at"] = json!(now_millis());
    Json(invitation.clone()).into_response()
}
