//! The machine side of the Backend API: API keys (`/api_keys`: list, create, get, revoke,
//! secret, verify), and the verify endpoints of opaque M2M and OAuth tokens. Shapes follow
//! `@clerk/backend` 3.25.0's `APIKey`, `M2MToken` and `IdPOAuthAccessToken`; verify answers 404
//! for a token that is unknown, revoked or expired, as Clerk's SDK expects.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::clerk_error;
use crate::{Shared, now_millis};

/// A machine token the fake issued: its object, and its secret.
#[derive(Clone, Debug)]
pub(crate) struct Issued {
    pub object: Value,
    pub secret: String,
}

/// Why Clerk refuses a new key (422): its error code and message.
pub(crate) struct Refusal(&'static str, &'static str);

/// Creates an API key for `subject` (a `user_…` or `org_…`); the object carries its `secret`.
pub(crate) fn new_api_key(shared: &Shared, body: &Value) -> Result<Value, Refusal> {
    let name = body["name"].as_str().unwrap_or_default().trim().to_owned();
    let subject = body["subject"].as_str().unwrap_or_default().to_owned();
    if name.is_empty() || name.len() > 200 {
        return Err(Refusal("form_param_missing", "name is required"));
    }
    if !(subject.starts_with("user_") || subject.starts_with("org_")) {
        return Err(Refusal("form_param_value_invalid", "subject must be a user or an organization"));
    }
    let scopes = match &body["scopes"] {
        Value::Null => json!([]),
        Value::Array(list) if list.iter().all(Value::is_string) => json!(list),
        _ => return Err(Refusal("form_param_format_invalid", "scopes must be a list of strings")),
    };
    let now = now_millis();
    let expiration = body["seconds_until_expiration"].as_i64().map(|secs| now + secs * 1000);
    let mut data = shared.lock();
    data.created += 1;
    let id = format!("ak_id_{:09}", data.created);
    let secret = format!("ak_{}{:032x}", data.created, rand::random::<u128>());
    let object = json!({
        "object": "api_key",
        "id": id,
        "type": "api_key",
        "name": name,
        "subject": subject,
        "scopes": scopes,
        "claims": body.get("claims").cloned().unwrap_or(Value::Null),
        "revoked": false,
        "revocation_reason": null,
        "expired": false,
        "expiration": expiration,
        "created_by": body.get("created_by").cloned().unwrap_or(Value::Null),
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "last_used_at": null,
        "created_at": now,
        "updated_at": now,
    });
    data.machine_tokens.insert(id, Issued { object: object.clone(), secret: secret.clone() });
    let mut created = object;
    created["secret"] = json!(secret);
    Ok(created)
}

/// Issues an opaque M2M (`mt_`) or OAuth (`oat_`) token: `object` gets its id and times.
pub(crate) fn new_token(shared: &Shared, prefix: &str, mut object: Value, ttl_secs: Option<i64>) -> (String, String) {
    let now = now_millis();
    let mut data = shared.lock();
    data.created += 1;
    let id = format!("{prefix}id_{:09}", data.created);
    let secret = format!("{prefix}{}{:032x}", data.created, rand::random::<u128>());
    object["id"] = json!(id);
    object["revoked"] = json!(false);
    object["revocation_reason"] = Value::Null;
    object["expired"] = json!(false);
    object["expiration"] = json!(ttl_secs.map(|secs| now + secs * 1000));
    object["created_at"] = json!(now);
    object["updated_at"] = json!(now);
    data.machine_tokens.insert(id.clone(), Issued { object, secret: secret.clone() });
    (id, secret)
}

/// The object as Clerk shows it now: `expired` once its expiration has passed.
fn current(issued: &Issued) -> Value {
    let mut object = issued.object.clone();
    if object["expiration"].as_i64().is_some_and(|exp| exp <= now_millis()) {
        object["expired"] = json!(true);
    }
    object
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    subject: Option<String>,
    include_invalid: Option<bool>,
}

pub(super) async fn list(State(shared): State<Shared>, Query(query): Query<ListQuery>) -> Json<Value> {
    let data = shared.lock();
    let mut keys: Vec<Value> = data
        .machine_tokens
        .values()
        .map(current)
        .filter(|k| k["object"] == "api_key")
        .filter(|k| query.subject.as_ref().is_none_or(|s| k["subject"] == s.as_str()))
        .filter(|k| query.include_invalid == Some(true) || (k["revoked"] == false && k["expired"] == false))
        .collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k["created_at"].as_i64()));
    let total = keys.len();
    Json(json!({ "data": keys, "total_count": total }))
}

pub(super) async fn create(State(shared): State<Shared>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return clerk_error(StatusCode::BAD_REQUEST, "form_param_format_invalid", "body must be a JSON object");
    };
    match new_api_key(&shared, &body) {
        Ok(created) => Json(created).into_response(),
        Err(Refusal(code, message)) => clerk_error(StatusCode::UNPROCESSABLE_ENTITY, code, message),
    }
}

pub(super) async fn get(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    match shared.lock().machine_tokens.get(&id).filter(|k| k.object["object"] == "api_key") {
        Some(issued) => Json(current(issued)).into_response(),
        None => clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found"),
    }
}

pub(super) async fn secret(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    match shared.lock().machine_tokens.get(&id).filter(|k| k.object["object"] == "api_key") {
        Some(issued) => Json(json!({ "secret": issued.secret })).into_response(),
        None => clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found"),
    }
}

pub(super) async fn revoke(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let reason =
        serde_json::from_slice::<Value>(&body).ok().and_then(|b| b["revocation_reason"].as_str().map(str::to_owned));
    let mut data = shared.lock();
    let Some(issued) = data.machine_tokens.get_mut(&id) else {
        return clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found");
    };
    issued.object["revoked"] = json!(true);
    issued.object["revocation_reason"] = json!(reason);
    issued.object["updated_at"] = json!(now_millis());
    Json(current(issued)).into_response()
}

/// `POST /v1/{api_keys,m2m_tokens,oauth_applications/access_tokens}/verify`: the token's
/// object if it is one of that kind and still valid, else 404.
fn verify(shared: &Shared, object_kind: &str, field: &str, body: &Bytes) -> Response {
    let Some(secret) = serde_json::from_slice::<Value>(body).ok().and_then(|b| b[field].as_str().map(str::to_owned))
    else {
        return clerk_error(StatusCode::UNPROCESSABLE_ENTITY, "form_param_missing", &format!("{field} is required"));
    };
    let data = shared.lock();
    let found = data.machine_tokens.values().find(|t| t.secret == secret && t.object["object"] == object_kind);
    match found.map(current).filter(|o| o["revoked"] == false && o["expired"] == false) {
        Some(object) => Json(object).into_response(),
        None => clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found"),
    }
}

pub(super) async fn verify_api_key(State(shared): State<Shared>, body: Bytes) -> Response {
    verify(&shared, "api_key", "secret", &body)
}

pub(super) async fn verify_m2m(State(shared): State<Shared>, body: Bytes) -> Response {
    verify(&shared, "machine_to_machine_token", "token", &body)
}

pub(super) async fn verify_oauth(State(shared): State<Shared>, body: Bytes) -> Response {
    verify(&shared, "clerk_idp_oauth_access_token", "access_token", &body)
}
