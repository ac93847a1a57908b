//! `POST /webhooks/clerk`: buffers the raw body (the signature covers its exact bytes) and
//! hands it to the webhook processor. Status codes follow the contract: 400 refused,
//! 200 with a status, 503 when nothing could be recorded.

use app::state::AppState;
use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use backend::webhooks::{MAX_BODY_BYTES, Refusal, WebhookError};
use serde_json::json;

pub async fn clerk(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return refused(&Refusal::TooLarge);
    };
    match state.webhooks.handle(&headers, &bytes).await {
        Ok(answer) => (StatusCode::OK, Json(json!({ "status": answer.as_str() }))).into_response(),
        Err(WebhookError::Refused(refusal)) => refused(&refusal),
        Err(WebhookError::NotConfigured) => {
            tracing::warn!("a webhook arrived but CLERK_WEBHOOK_SIGNING_SECRET is not set: answering 503");
            unavailable("webhooks are not configured")
        }
        Err(WebhookError::Unavailable(message)) => unavailable(&message),
    }
}

fn refused(refusal: &Refusal) -> Response {
    tracing::info!(reason = %refusal, "webhook refused");
    (StatusCode::BAD_REQUEST, Json(json!({ "error": refusal.to_string() }))).into_response()
}

fn unavailable(message: &str) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": message }))).into_response()
}
