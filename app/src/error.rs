//! The one error type at the edge. Each variant names its HTTP status; server functions return
//! it so the client can match on it, and the guards set the status on the response.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 401: nobody is signed in, or the credentials are bad.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("not found")]
    NotFound,
    /// 400: the input is invalid; the message says why.
    #[error("{0}")]
    BadRequest(String),
    /// 422: some fields are invalid; each message belongs beside its field.
    #[error("Please correct the highlighted fields")]
    Validation(Vec<FieldMessage>),
    /// 422: Clerk refused the change, with Clerk's message. Nothing was changed.
    #[error("Clerk refused the change: {0}")]
    ClerkRefused(String),
    /// 429: too many attempts; the message says for how long.
    #[error("{0}")]
    TooManyAttempts(String),
    /// 503: a dependency (database, Clerk) is unavailable; retrying may work.
    #[error("the service is temporarily unavailable")]
    Unavailable,
    /// 500: the cause is logged on the server, never sent.
    #[error("something went wrong")]
    Internal,
    /// Transport and encoding errors from the server-function machinery.
    #[error("{0}")]
    ServerFn(String),
}

/// A message for one form field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

impl AppError {
    /// The message for `field`, when this is a validation error that has one.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            Self::Validation(fields) => fields.iter().find(|f| f.field == field).map(|f| f.message.clone()),
            _ => None,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound => 404,
            Self::BadRequest(_) => 400,
            Self::Validation(_) | Self::ClerkRefused(_) => 422,
            Self::TooManyAttempts(_) => 429,
            Self::Unavailable => 503,
            Self::Internal | Self::ServerFn(_) => 500,
        }
    }

    pub fn unauthenticated() -> Self {
        Self::Unauthorized("Authentication required".into())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::ServerFn(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Logs `cause` with its chain, and returns the opaque 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::Internal
    }

    /// `Err(self)`, with its status set on the response: the way a guard or a server function
    /// fails.
    pub fn fail<T>(self) -> Result<T, AppError> {
        self.set_response_status();
        Err(self)
    }

    /// Sets this error's status on the response being built (SSR or server function). Not for
    /// a form posted without JavaScript: that answer must stay the redirect back to the form,
    /// which carries the error in its URL.
    pub fn set_response_status(&self) {
        use leptos::prelude::use_context;
        let plain_form_post = use_context::<http::request::Parts>().is_some_and(|p| {
            p.method == http::Method::POST
                && p.headers
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
        });
        if plain_form_post {
            return;
        }
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = http::StatusCode::from_u16(self.status())
        {
            res.set_status(status);
        }
    }
}

/// Why the request's authentication was refused, in the words the browser gets.
#[cfg(feature = "ssr")]
impl From<&backend::auth::Rejection> for AppError {
    fn from(rejection: &backend::auth::Rejection) -> Self {
        use backend::auth::Rejection;
        match rejection {
            Rejection::Unavailable => Self::Unavailable,
            Rejection::Inactive => Self::Unauthorized("User is inactive".into()),
            Rejection::SessionEnded => Self::Unauthorized("Session ended".into()),
            Rejection::Pending => Self::Unauthorized(
                "The session is pending: it has a task left (such as choosing an organization)".into(),
            ),
            Rejection::Token(err) => Self::Unauthorized(err.to_string()),
        }
    }
}

/// For plain axum handlers: the variant's status and `{"error": message}`, with
/// `WWW-Authenticate: Bearer` on a 401. (Server functions answer through `FromServerFnError`,
/// and `server_fn_status` gives them the same status.)
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        use http::{HeaderValue, StatusCode, header};
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(serde_json::json!({ "error": self.to_string() }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}
