//! The one place an `AppError` gets its own HTTP status. A server function's `Err` leaves
//! Leptos as a 500 (marked with the `serverfnerror` header) unless the function set a status
//! itself; here the error is read back and answered with the status its variant names, so a
//! 403 or 400 never reaches the browser as a 500, whichever call site returned it.

use app_core::error::AppError;
use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// Errors are small JSON values; anything larger is left as it is.
const MAX_ERROR_BYTES: usize = 64 * 1024;

pub async fn app_error_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR || !res.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BYTES).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(err) = serde_json::from_slice::<AppError>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.status = err.status_code();
    // A reverification is answered in Clerk's own shape, which ClerkJS recognises.
    if let AppError::Reverification(_) = &err {
        let body = err.body().to_string();
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from(body));
    }
    Response::from_parts(parts, Body::from(bytes))
}
