//! The HTTP side of the fake: JWKS and the Backend API endpoints a user mirror needs.

use std::time::Duration;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};

mod invitations;
pub(crate) mod machines;
mod users;

use crate::{Fault, Recorded, Shared, now_millis, test_keys};

pub(crate) fn router(shared: Shared) -> Router {
    Router::new()
        .route("/v1/jwks", get(jwks))
        .route("/__fake/session-tokens", axum::routing::post(mint_session_token))
        .route("/__fake/fapi/settings", axum::routing::post(crate::fapi::settings))
        .route("/v1/sessions/{id}/revoke", axum::routing::post(crate::fapi::revoke))
        .route("/v1/users", get(users::list).post(users::create))
        .route("/v1/users/{id}", get(users::get).patch(users::patch))
        .route("/v1/organizations", get(list_organizations))
        .route("/v1/organizations/{id}", get(get_organization).patch(patch_organization))
        .route("/v1/organizations/{id}/memberships", get(list_memberships))
        .route("/v1/organizations/{id}/invitations", axum::routing::post(invitations::create))
        .route("/v1/organizations/{id}/invitations/{invitation_id}/revoke", axum::routing::post(invitations::revoke))
        .route(
            "/v1/organizations/{id}/memberships/{user_id}",
            axum::routing::patch(patch_membership).delete(delete_membership),
        )
        .route("/api_keys", get(machines::list).post(machines::create))
        .route("/api_keys/verify", axum::routing::post(machines::verify_api_key))
        .route("/api_keys/{id}", get(machines::get))
        .route("/api_keys/{id}/secret", get(machines::secret))
        .route("/api_keys/{id}/revoke", axum::routing::post(machines::revoke))
        .route("/m2m_tokens/verify", axum::routing::post(machines::verify_m2m))
        .route("/oauth_applications/access_tokens/verify", axum::routing::post(machines::verify_oauth))
        .route("/__fake/machine-tokens", axum::routing::post(issue_machine_token))
        .route("/v1/billing/plans", get(list_billing_plans))
        .route("/v1/billing/subscription_items/{id}", axum::routing::delete(cancel_subscription_item))
        .route("/v1/users/{id}/billing/subscription", get(billing_subscription))
        .route("/v1/organizations/{id}/billing/subscription", get(billing_subscription))
        .layer(middleware::from_fn_with_state(shared.clone(), record_and_misbehave))
        .with_state(shared)
}

pub(crate) fn clerk_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({
        "errors": [{ "message": message, "long_message": message, "code": code, "meta": {} }],
        "meta": {},
        "clerk_trace_id": "trace_fake"
    });
    (status, Json(body)).into_response()
}

/// Records each request, checks the bearer secret, and applies any fault set for its path.
async fn record_and_misbehave(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    // Faults match on the path and query, so a test can fail one page of a listing.
    let target = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| path.clone());
    let method = req.method().to_string();
    let authorized = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", shared.secret_key));

    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let parsed = serde_json::from_slice::<Value>(&bytes).ok();

    let hold = {
        let mut data = shared.lock();
        data.requests.push(Recorded { method: method.clone(), path: path.clone(), body: parsed.clone() });
        data.holds.iter().find(|(prefix, _)| target.starts_with(prefix.as_str())).map(|(_, gate)| gate.clone())
    };
    // A held request waits (bounded) until the test releases it: the test changes the data
    // while a run is between two pages.
    if let Some(mut gate) = hold {
        let _ = tokio::time::timeout(Duration::from_secs(30), gate.wait_for(|released| *released)).await;
    }
    let fault = {
        let mut data = shared.lock();
        let mut hit = None;
        // JWKS is not rate limited (Clerk's system limits), nor the fake's own routes.
        if path != "/v1/jwks"
            && !path.starts_with("/__fake/")
            && let Some(Err(retry_after_secs)) = data.rate_limit.as_mut().map(|l| l.take())
        {
            hit = Some(Fault::RateLimited { retry_after_secs });
        }
        for (prefix, fault, count) in data.faults.iter_mut() {
            if hit.is_some() {
                break;
            }
            if target.starts_with(prefix.as_str()) && count.is_none_or(|c| c > 0) {
                if let Some(c) = count {
                    *c -= 1;
                }
                hit = Some(fault.clone());
                break;
            }
        }
        hit
    };

    match fault {
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return clerk_error(status, "fake_fault", "injected failure");
        }
        Some(Fault::RateLimited { retry_after_secs }) => {
            let mut res = clerk_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "Too many requests");
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return res;
        }
        Some(Fault::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        None => {}
    }
    if !authorized {
        return clerk_error(StatusCode::UNAUTHORIZED, "clerk_key_invalid", "The provided Clerk Secret Key is invalid.");
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

async fn jwks(State(shared): State<Shared>) -> Json<Value> {
    let (primary, rotated) = test_keys();
    let mut keys = vec![primary.jwk.clone()];
    if shared.lock().rotated {
        keys.push(rotated.jwk.clone());
    }
    Json(json!({ "keys": keys }))
}

/// Not Clerk's: lets a browser test outside this process sign in as a user. The body's claims
/// are laid over a fresh session token's (`sub` is required); `ttl_secs` sets `exp`.
async fn mint_session_token(body: Bytes) -> Response {
    let Ok(Value::Object(mut overrides)) = serde_json::from_slice::<Value>(&body) else {
        return clerk_error(StatusCode::BAD_REQUEST, "form_param_format_invalid", "body must be a JSON object");
    };
    let Some(sub) = overrides.get("sub").and_then(Value::as_str).map(str::to_owned) else {
        return clerk_error(StatusCode::UNPROCESSABLE_ENTITY, "form_param_missing", "sub is required");
    };
    let mut claims = crate::session_claims(&sub);
    if let Some(ttl) = overrides.remove("ttl_secs").and_then(|v| v.as_i64()) {
        claims["exp"] = json!(crate::now_secs() + ttl);
    }
    for (key, value) in overrides {
        claims[key] = value;
    }
    Json(json!({ "jwt": test_keys().0.sign(&claims) })).into_response()
}

/// Not Clerk's: lets a test outside this process (the browser tests, the bench) get a machine
/// token. Body: `{kind: "m2m"|"m2m_jwt"|"oauth"|"oauth_jwt"|"api_key", subject, scopes, ttl_secs}`;
/// answers `{id, token}`.
async fn issue_machine_token(State(shared): State<Shared>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return clerk_error(StatusCode::BAD_REQUEST, "form_param_format_invalid", "body must be a JSON object");
    };
    let subject = body["subject"].as_str().unwrap_or_default();
    let scopes: Vec<&str> =
        body["scopes"].as_array().map(|l| l.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let ttl = body["ttl_secs"].as_i64();
    let fake = crate::FakeClerkHandle(shared);
    let (id, token) = match body["kind"].as_str().unwrap_or_default() {
        "m2m" => fake.create_m2m_token(subject, &scopes, ttl),
        "oauth" => fake.create_oauth_token(subject, "client_fake", &scopes, ttl),
        "m2m_jwt" => (String::new(), crate::m2m_jwt(subject, &scopes, ttl.unwrap_or(3600))),
        "oauth_jwt" => (String::new(), crate::oauth_jwt(subject, "client_fake", &scopes, ttl.unwrap_or(3600))),
        "api_key" => fake.create_api_key(subject, "issued", &scopes, ttl),
        _ => return clerk_error(StatusCode::UNPROCESSABLE_ENTITY, "form_param_value_invalid", "unknown kind"),
    };
    Json(json!({ "id": id, "token": token })).into_response()
}

/// `GET /v1/{users,organizations}/{id}/billing/subscription`: the payer's, or 404.
async fn billing_subscription(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    match shared.lock().billing_subscriptions.get(&id) {
        Some(subscription) => Json(subscription.clone()).into_response(),
        None => clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found"),
    }
}

/// `GET /v1/billing/plans?payer_type=user|org`: newest first, as Clerk documents it, paged.
async fn list_billing_plans(State(shared): State<Shared>, Query(page): Query<Page>) -> Json<Value> {
    let data = shared.lock();
    let all: Vec<&Value> = data
        .billing_plans
        .values()
        .rev()
        .filter(|p| page.payer_type.as_deref().is_none_or(|t| p["for_payer_type"] == t))
        .collect();
    page.of(&all)
}

/// `DELETE /v1/billing/subscription_items/{id}`: canceled at the end of its period (or now,
/// with `end_now=true`); the updated item.
async fn cancel_subscription_item(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let mut data = shared.lock();
    let Some(item) = data.subscription_items.get_mut(&id) else {
        return clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found");
    };
    let now = now_millis();
    item["status"] = json!(if query.get("end_now").is_some_and(|v| v == "true") { "ended" } else { "canceled" });
    item["canceled_at"] = json!(now);
    item["updated_at"] = json!(now);
    Json(item.clone()).into_response()
}

#[derive(Deserialize)]
struct Page {
    limit: Option<usize>,
    offset: Option<usize>,
    /// `GET /v1/organizations/{id}/memberships?user_id=`: that user's membership only.
    user_id: Option<String>,
    /// `GET /v1/billing/plans?payer_type=`: `user` or `org`.
    payer_type: Option<String>,
}

impl Page {
    /// `{data, total_count}`: this page of `all` (Clerk's default limit 10, at most 500).
    fn of(&self, all: &[&Value]) -> Json<Value> {
        let limit = self.limit.unwrap_or(10).clamp(1, 500);
        let slice: Vec<Value> = all.iter().skip(self.offset.unwrap_or(0)).take(limit).map(|v| (*v).clone()).collect();
        Json(json!({ "data": slice, "total_count": all.len() }))
    }
}

async fn list_organizations(State(shared): State<Shared>, Query(page): Query<Page>) -> Json<Value> {
    let data = shared.lock();
    let all: Vec<&Value> = data.organizations.values().collect();
    page.of(&all)
}

async fn get_organization(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    let data = shared.lock();
    let found = data.organizations.get(&id).or_else(|| data.organizations.values().find(|o| o["slug"] == id.as_str()));
    match found {
        Some(org) => Json(org.clone()).into_response(),
        None => clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found"),
    }
}

async fn patch_organization(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Json(changes): Json<Value>,
) -> Response {
    let mut data = shared.lock();
    let Some(org) = data.organizations.get_mut(&id) else {
        return clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found");
    };
    if let Some(fields) = changes.as_object() {
        for (key, value) in fields {
            org[key.as_str()] = value.clone();
        }
    }
    org["updated_at"] = json!(now_millis());
    Json(org.clone()).into_response()
}

async fn list_memberships(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> Json<Value> {
    let data = shared.lock();
    let all: Vec<&Value> = data
        .memberships
        .iter()
        .filter(|((org, user), _)| *org == id && page.user_id.as_ref().is_none_or(|u| u == user))
        .map(|(_, m)| m)
        .collect();
    page.of(&all)
}

async fn patch_membership(
    State(shared): State<Shared>,
    Path((org, user)): Path<(String, String)>,
    Json(changes): Json<Value>,
) -> Response {
    let mut data = shared.lock();
    let Some(membership) = data.memberships.get_mut(&(org, user)) else {
        return clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found");
    };
    if let Some(role) = changes.get("role") {
        membership["role"] = role.clone();
    }
    membership["updated_at"] = json!(now_millis());
    Json(membership.clone()).into_response()
}

async fn delete_membership(
    State(shared): State<Shared>,
    Path((org, user)): Path<(String, String)>,
    _h: HeaderMap,
) -> Response {
    match shared.lock().memberships.remove(&(org, user)) {
        Some(membership) => Json(membership).into_response(),
        None => clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found"),
    }
}
