//! A fake of Clerk's Frontend API, enough for the real ClerkJS 5 to load, sign in with a
//! password, switch organizations, refresh its token and sign out, all on loopback. It shares
//! users, organizations and memberships with the Backend API fake, and signs tokens with the key
//! that the fake's JWKS publishes. Facts and sources: shared/spec/clerkjs-fapi.md.

mod call;
mod json;
mod sign_in;
pub(crate) mod state;

use std::collections::HashMap;

use axum::{
    Json, Router,
    body::{Body, to_bytes},
    extract::{Path, Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{any, get, post},
};
use serde_json::{Value, json};

use self::call::{Call, fapi_error};
use crate::{Recorded, Shared};

pub(crate) fn router(shared: Shared) -> Router {
    Router::new()
        .route("/v1/dev_browser", post(dev_browser))
        .route("/v1/environment", any(environment))
        .route("/v1/client", get(client))
        .route("/v1/client/sign_ins", post(sign_in::create))
        .route("/v1/client/sign_ins/{id}/attempt_first_factor", post(sign_in::attempt_first_factor))
        .route("/v1/client/sessions", post(sign_out))
        .route("/v1/client/sessions/{sid}/touch", post(touch))
        .route("/v1/client/sessions/{sid}/tokens", post(tokens))
        .route("/v1/client/sessions/{sid}/remove", post(remove))
        .route("/v1/client/sessions/{sid}/end", post(end))
        .route("/v1/me/organization_memberships", get(my_memberships))
        .route("/v1/me/organization_invitations", get(empty_page))
        .route("/v1/me/organization_suggestions", get(empty_page))
        .layer(middleware::from_fn_with_state(shared.clone(), cors_and_record))
        .with_state(shared)
}

/// Every answer is for the page's exact origin with credentials, as ClerkJS fetches with
/// `credentials: 'include'`. Requests are recorded with the method ClerkJS meant.
async fn cors_and_record(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut res = if req.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        let (parts, body) = req.into_parts();
        let bytes = to_bytes(body, 64 * 1024).await.unwrap_or_default();
        let query: HashMap<String, String> =
            serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()).unwrap_or_default();
        let form: HashMap<String, String> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        shared.lock().requests.push(Recorded {
            method: query.get("_method").cloned().unwrap_or_else(|| parts.method.to_string()).to_uppercase(),
            path: parts.uri.path().to_owned(),
            body: Some(json!(form)),
        });
        next.run(Request::from_parts(parts, Body::from(bytes))).await
    };
    let headers = res.headers_mut();
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    }
    headers.insert(header::VARY, HeaderValue::from_static("origin"));
    res
}

/// ClerkJS reads only the id, and sends it back as `__clerk_db_jwt` on every request.
async fn dev_browser(State(shared): State<Shared>) -> Json<Value> {
    let id = shared.lock().fapi.new_id("dvb");
    Json(json!({ "object": "dev_browser", "id": id }))
}

async fn environment(call: Call) -> Json<Value> {
    Json(json::environment(call.origin()))
}

async fn client(State(shared): State<Shared>, call: Call) -> Json<Value> {
    let data = shared.lock();
    Json(json!({ "response": json::client(&data, &call.key, call.origin()), "client": null }))
}

/// `{response, client}`: ClerkJS replaces its client with the piggybacked one on every non-GET.
fn with_client(data: &crate::Data, call: &Call, response: Value) -> Response {
    Json(json!({ "response": response, "client": json::client(data, &call.key, call.origin()) })).into_response()
}

/// `DELETE /v1/client/sessions` (sent as POST): signs every session of this client out.
async fn sign_out(State(shared): State<Shared>, call: Call) -> Response {
    if call.method != "DELETE" {
        return fapi_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "use DELETE", None);
    }
    let mut data = shared.lock();
    let sessions = data.fapi.clients.get(&call.key).map(|c| c.sessions.clone()).unwrap_or_default();
    for sid in sessions {
        data.fapi.end_session(&sid, "ended");
    }
    if let Some(client) = data.fapi.clients.get_mut(&call.key) {
        client.sign_in = None;
        client.touch();
    }
    let client = json::client(&data, &call.key, call.origin());
    Json(json!({ "response": client, "client": client })).into_response()
}

/// Selects the session and, when `active_organization_id` is sent, its organization (empty: the
/// personal workspace). The answer's token is minted for the new organization.
async fn touch(State(shared): State<Shared>, Path(sid): Path<String>, call: Call) -> Response {
    let mut data = shared.lock();
    let Some(session) = data.fapi.live_session(&call.key, &sid) else {
        return fapi_error(StatusCode::NOT_FOUND, "resource_not_found", "session not found", None);
    };
    let user = session.user_id.clone();
    let org = match call.field("active_organization_id") {
        None => session.org_id.clone(),
        Some("") => None,
        Some(org) if data.memberships.contains_key(&(org.to_owned(), user)) => Some(org.to_owned()),
        Some(_) => {
            return fapi_error(
                StatusCode::NOT_FOUND,
                "resource_not_found",
                "not a member of that organization",
                Some("active_organization_id"),
            );
        }
    };
    let now = crate::now_millis();
    if let Some(session) = data.fapi.sessions.get_mut(&sid) {
        session.org_id = org;
        session.updated_at = now;
    }
    let client = data.fapi.client_mut(&call.key);
    client.last_active_session_id = Some(sid.clone());
    client.touch();
    let session = json::session(&data, &data.fapi.sessions[&sid], call.origin());
    with_client(&data, &call, session)
}

/// A bare Token (ClerkJS reads `jwt` at the top level), for `organization_id` when sent.
async fn tokens(State(shared): State<Shared>, Path(sid): Path<String>, call: Call) -> Response {
    let data = shared.lock();
    let Some(session) = data.fapi.live_session(&call.key, &sid) else {
        return fapi_error(StatusCode::UNAUTHORIZED, "authentication_invalid", "the session has ended", None);
    };
    let org = match call.field("organization_id") {
        None => session.org_id.as_deref(),
        Some("") => None,
        Some(org) => Some(org),
    };
    Json(json::token_object(json::token(&data, session, org, call.origin()))).into_response()
}

async fn remove(State(shared): State<Shared>, Path(sid): Path<String>, call: Call) -> Response {
    end_one(shared, sid, call, "removed")
}

async fn end(State(shared): State<Shared>, Path(sid): Path<String>, call: Call) -> Response {
    end_one(shared, sid, call, "ended")
}

fn end_one(shared: Shared, sid: String, call: Call, status: &'static str) -> Response {
    let mut data = shared.lock();
    if data.fapi.live_session(&call.key, &sid).is_none() {
        return fapi_error(StatusCode::NOT_FOUND, "resource_not_found", "session not found", None);
    }
    data.fapi.end_session(&sid, status);
    let session = json::session(&data, &data.fapi.sessions[&sid], call.origin());
    with_client(&data, &call, session)
}

/// The signed-in user's memberships, paged; ClerkJS names the session in `_clerk_session_id`.
async fn my_memberships(State(shared): State<Shared>, call: Call) -> Response {
    let data = shared.lock();
    let sid = call.query.get("_clerk_session_id").map(String::as_str).unwrap_or_default();
    let Some(session) = data.fapi.live_session(&call.key, sid) else {
        return fapi_error(StatusCode::UNAUTHORIZED, "authentication_invalid", "not signed in", None);
    };
    let all = json::memberships_of(&data, &session.user_id);
    let offset = call.query.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
    let limit = call.query.get("limit").and_then(|v| v.parse().ok()).unwrap_or(10);
    let page: Vec<Value> = all.iter().skip(offset).take(limit).cloned().collect();
    Json(json!({ "response": { "data": page, "total_count": all.len() } })).into_response()
}

async fn empty_page() -> Json<Value> {
    Json(json!({ "response": { "data": [], "total_count": 0 } }))
}

/// `POST /v1/sessions/{id}/revoke` on the Backend API: the session ends at once, so ClerkJS's
/// next token request fails and it signs out.
pub(crate) async fn revoke(State(shared): State<Shared>, Path(sid): Path<String>) -> Response {
    let mut data = shared.lock();
    match data.fapi.end_session(&sid, "revoked") {
        Some(session) => Json(json!({
            "object": "session",
            "id": session.id,
            "user_id": session.user_id,
            "status": session.status,
            "last_active_organization_id": session.org_id,
            "created_at": session.created_at,
            "updated_at": session.updated_at,
        }))
        .into_response(),
        None => fapi_error(StatusCode::NOT_FOUND, "resource_not_found", "not found", None),
    }
}

/// Test hook: replaces the settings (absent fields take their defaults).
pub(crate) async fn settings(State(shared): State<Shared>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<state::FapiSettings>(&body) {
        Ok(settings) => {
            shared.lock().fapi.settings = settings;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(err) => fapi_error(StatusCode::UNPROCESSABLE_ENTITY, "form_param_unknown", &err.to_string(), None),
    }
}
