//! `POST /webhooks/clerk`: buffers the raw body (the signature covers its exact bytes) and
//! hands it to the webhook processor. Status codes follow the contract: 400 refused,
//! 200 with a status, 503 when nothing could be recorded.

use app_core::{error::AppError, state::AppState};
use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use backend::webhooks::{MAX_BODY_BYTES, Refusal, WebhookError};
use serde_json::json;

pub async fn clerk(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Result<Response, AppError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| refused(&Refusal::TooLarge))?;
    let answer = state.webhooks.handle(&headers, &bytes).await.map_err(|err| match err {
        WebhookError::Refused(refusal) => refused(&refusal),
        WebhookError::NotConfigured => {
            tracing::warn!("a webhook arrived but CLERK_WEBHOOK_SIGNING_SECRET is not set: answering 503");
            AppError::Unavailable
        }
        WebhookError::Unavailable(reason) => {
            tracing::warn!(%reason, "webhook not stored: answering 503 for Svix to retry");
            AppError::Unavailable
        }
    })?;
    Ok((StatusCode::OK, Json(json!({ "status": answer.as_str() }))).into_response())
}

fn refused(refusal: &Refusal) -> AppError {
    tracing::info!(reason = %refusal, "webhook refused");
    AppError::BadRequest(refusal.to_string())
}
