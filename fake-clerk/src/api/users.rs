//! `/v1/users`: list (with the email and external-id filters), get, create and update.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use super::clerk_error;
use crate::{Data, Shared, now_millis};

/// The hashers Clerk accepts with `password_digest`, and the prefix each digest must have.
const HASHERS: [(&str, &str); 3] =
    [("argon2id", "$argon2id$"), ("bcrypt", "$2"), ("pbkdf2_sha256_django", "pbkdf2_sha256$")];

/// `GET /v1/users`: a plain array in id order (ids are given in creation order, which models
/// `+created_at`). `email_address` and `external_id` filter, repeated or with `[]`, like Clerk.
pub(super) async fn list(State(shared): State<Shared>, RawQuery(query): RawQuery) -> Json<Value> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let values = |name: &str| -> Vec<String> {
        let with_brackets = format!("{name}[]");
        pairs.iter().filter(|(k, _)| k == name || *k == with_brackets).map(|(_, v)| v.to_lowercase()).collect()
    };
    let number = |name: &str| pairs.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.parse::<usize>().ok());
    let (emails, external_ids) = (values("email_address"), values("external_id"));
    let limit = number("limit").unwrap_or(10).clamp(1, 500);
    let offset = number("offset").unwrap_or(0);
    let data = shared.lock();
    let matches = |user: &&Value| {
        (emails.is_empty() || user_emails(user).any(|e| emails.contains(&e.to_lowercase())))
            && (external_ids.is_empty()
                || user["external_id"].as_str().is_some_and(|id| external_ids.contains(&id.to_lowercase())))
    };
    // Walking the map keeps a 100,000-user listing cheap for the sync benchmark.
    Json(Value::Array(data.users.values().filter(matches).skip(offset).take(limit).cloned().collect()))
}

pub(super) async fn get(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    match shared.lock().users.get(&id) {
        Some(user) => Json(user.clone()).into_response(),
        None => clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found"),
    }
}

/// `POST /v1/users`, with Clerk's checks: a valid email nobody has, a free username, and a
/// `password_digest` that matches its `password_hasher`. A refused request creates nothing.
pub(super) async fn create(State(shared): State<Shared>, body: Bytes) -> Response {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&body) else {
        return clerk_error(StatusCode::BAD_REQUEST, "form_param_format_invalid", "body must be a JSON object");
    };
    let mut data = shared.lock();
    let email = match check_new_user(&data, &body) {
        Ok(email) => email,
        Err(refusal) => return refusal.into_response(),
    };
    data.created += 1;
    let id = format!("user_n{:09}", data.created);
    let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
    let mut user = crate::user(&id, &email, text("first_name"), text("last_name"));
    // One email, verified: Clerk marks addresses created through the Backend API verified.
    let primary = user["email_addresses"][1].clone();
    user["email_addresses"] = json!([primary]);
    user["external_id"] = body.get("external_id").cloned().unwrap_or(Value::Null);
    user["username"] = body.get("username").cloned().unwrap_or(Value::Null);
    user["image_url"] = json!("");
    user["has_image"] = json!(false);
    user["last_sign_in_at"] = Value::Null;
    user["created_at"] = json!(now_millis());
    if let Some(digest) = body.get("password_digest").and_then(Value::as_str) {
        user["password_enabled"] = json!(true);
        data.digests.insert(id.clone(), (text("password_hasher").to_owned(), digest.to_owned()));
    }
    data.users.insert(id, user.clone());
    Json(user).into_response()
}

fn check_new_user(data: &Data, body: &Map<String, Value>) -> Result<String, Refusal> {
    let emails: Vec<&str> =
        body.get("email_address").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
    let Some(email) = emails.first().map(|e| e.trim().to_owned()) else {
        return Err(Refusal { code: "form_param_missing", message: "Enter email address.", param: "email_address" });
    };
    let valid = email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if !valid {
        return Err(Refusal {
            code: "form_param_format_invalid",
            message: "email_address must be a valid email address.",
            param: "email_address",
        });
    }
    if data.users.values().any(|u| user_emails(u).any(|e| e.eq_ignore_ascii_case(&email))) {
        return Err(Refusal {
            code: "form_identifier_exists",
            message: "That email address is taken. Please try another.",
            param: "email_address",
        });
    }
    if let Some(username) = body.get("username").and_then(Value::as_str) {
        username_free(data, username, None)?;
    }
    if let Some(digest) = body.get("password_digest").and_then(Value::as_str) {
        let hasher = body.get("password_hasher").and_then(Value::as_str).unwrap_or_default();
        match HASHERS.iter().find(|(name, _)| *name == hasher) {
            None => {
                return Err(Refusal {
                    code: "form_param_value_invalid",
                    message: "Unknown password hasher.",
                    param: "password_hasher",
                });
            }
            Some((_, prefix)) if !digest.starts_with(prefix) => {
                return Err(Refusal {
                    code: "form_password_digest_invalid",
                    message: "The password digest is not valid for the given hasher.",
                    param: "password_digest",
                });
            }
            Some(_) => {}
        }
    }
    Ok(email)
}

/// Clerk's rules: 4–64 characters of letters, digits, `-` and `_`, and nobody else's.
fn username_free(data: &Data, username: &str, owner: Option<&str>) -> Result<(), Refusal> {
    let valid = (4..=64).contains(&username.len())
        && username.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(Refusal { code: "form_username_invalid", message: "Username is invalid.", param: "username" });
    }
    let taken = data.users.iter().any(|(id, u)| Some(id.as_str()) != owner && u["username"] == username);
    if taken {
        return Err(Refusal {
            code: "form_identifier_exists",
            message: "That username is taken. Please try another.",
            param: "username",
        });
    }
    Ok(())
}

/// Applies the fields Clerk's PATCH accepts; like Clerk, a refused change applies none of it.
pub(super) async fn patch(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(&body) else {
        return clerk_error(StatusCode::BAD_REQUEST, "form_param_format_invalid", "body must be a JSON object");
    };
    let mut data = shared.lock();
    if !data.users.contains_key(&id) {
        return clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found");
    }
    if let Some(username) = changes.get("username").and_then(Value::as_str)
        && let Err(refusal) = username_free(&data, username, Some(&id))
    {
        return refusal.into_response();
    }
    let Some(user) = data.users.get_mut(&id) else {
        return clerk_error(StatusCode::NOT_FOUND, "resource_not_found", "not found");
    };
    for (key, value) in changes {
        user[key] = value;
    }
    user["updated_at"] = json!(now_millis());
    Json(user.clone()).into_response()
}

fn user_emails(user: &Value) -> impl Iterator<Item = &str> {
    user["email_addresses"].as_array().into_iter().flatten().filter_map(|e| e["email_address"].as_str())
}

/// A request Clerk refuses with 422, naming the parameter at fault.
struct Refusal {
    code: &'static str,
    message: &'static str,
    param: &'static str,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let Self { code, message, param } = self;
        let body = json!({
            "errors": [{ "message": message, "long_message": message, "code": code, "meta": { "param_name": param } }],
            "meta": {},
            "clerk_trace_id": "trace_fake"
        });
        (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
    }
}
