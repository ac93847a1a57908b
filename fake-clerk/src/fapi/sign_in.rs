//! Sign-in with email (or username) and password: the attempt is created with the identifier,
//! then completed by the password, either in the same request or in `attempt_first_factor`.

use super::{
    call::{Call, fapi_error},
    json,
    state::{SessionState, SignInState},
    with_client,
};
use crate::{Data, Shared, now_millis};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};

/// `POST /v1/client/sign_ins` with `identifier` and, from a filled-in password field, `password`.
pub(crate) async fn create(State(shared): State<Shared>, call: Call) -> Response {
    let mut data = shared.lock();
    let identifier = call.field("identifier").unwrap_or_default().trim().to_owned();
    let Some(user_id) = find_user(&data, &identifier) else {
        return fapi_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_identifier_not_found",
            "Couldn't find your account.",
            Some("identifier"),
        );
    };
    let id = data.fapi.new_id("sia");
    let attempt = SignInState {
        id: id.clone(),
        client_key: call.key.clone(),
        identifier,
        user_id,
        created_session_id: None,
        created_at: now_millis(),
    };
    data.fapi.sign_ins.insert(id.clone(), attempt);
    // The UI reads the attempt from the piggybacked client, not from the response.
    let client = data.fapi.client_mut(&call.key);
    client.sign_in = Some(id.clone());
    client.touch();
    if let Some(password) = call.field("password") {
        return check_password(&mut data, &call, &id, password);
    }
    let attempt = json::sign_in(&data, &data.fapi.sign_ins[&id]);
    with_client(&data, &call, attempt)
}

/// `POST /v1/client/sign_ins/{id}/attempt_first_factor` with `strategy=password&password=…`.
pub(crate) async fn attempt_first_factor(State(shared): State<Shared>, Path(id): Path<String>, call: Call) -> Response {
    let mut data = shared.lock();
    let ours = data.fapi.sign_ins.get(&id).is_some_and(|a| a.client_key == call.key && a.created_session_id.is_none());
    if !ours {
        return fapi_error(StatusCode::NOT_FOUND, "resource_not_found", "sign-in attempt not found", None);
    }
    if call.field("strategy") != Some("password") {
        return fapi_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "strategy_for_user_invalid",
            "Only the password strategy is supported here.",
            Some("strategy"),
        );
    }
    let password = call.field("password").unwrap_or_default().to_owned();
    check_password(&mut data, &call, &id, &password)
}

/// A right password creates an active session on this client and completes the attempt.
fn check_password(data: &mut Data, call: &Call, attempt_id: &str, password: &str) -> Response {
    let user_id = data.fapi.sign_ins[attempt_id].user_id.clone();
    if data.fapi.passwords.get(&user_id).is_none_or(|p| p != password) {
        return fapi_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_password_incorrect",
            "Password is incorrect. Try again, or use another method.",
            Some("password"),
        );
    }
    let sid = data.fapi.new_id("sess");
    let now = now_millis();
    let session = SessionState {
        id: sid.clone(),
        client_key: call.key.clone(),
        user_id,
        org_id: None,
        status: "active",
        created_at: now,
        updated_at: now,
    };
    data.fapi.sessions.insert(sid.clone(), session);
    if let Some(attempt) = data.fapi.sign_ins.get_mut(attempt_id) {
        attempt.created_session_id = Some(sid.clone());
    }
    // Single-session mode: the new session replaces any other on this client.
    let previous = data.fapi.clients.get(&call.key).map(|c| c.sessions.clone()).unwrap_or_default();
    for old in previous {
        data.fapi.end_session(&old, "ended");
    }
    let client = data.fapi.client_mut(&call.key);
    client.sessions.push(sid.clone());
    client.last_active_session_id = Some(sid);
    client.touch();
    let attempt = json::sign_in(data, &data.fapi.sign_ins[attempt_id]);
    with_client(data, call, attempt)
}

/// A user by any of their email addresses (case-insensitive) or their username.
fn find_user(data: &Data, identifier: &str) -> Option<String> {
    if identifier.is_empty() {
        return None;
    }
    let wanted = identifier.to_lowercase();
    data.users.values().find_map(|user| {
        let by_email = user["email_addresses"].as_array().is_some_and(|all| {
            all.iter().any(|e| e["email_address"].as_str().is_some_and(|a| a.to_lowercase() == wanted))
        });
        let by_username = user["username"].as_str().is_some_and(|u| u.to_lowercase() == wanted);
        (by_email || by_username).then(|| user["id"].as_str().map(str::to_owned)).flatten()
    })
}
