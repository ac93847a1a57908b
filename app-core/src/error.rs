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
    /// 403 asking for step-up reverification; holds the requirement as Clerk names it (JSON:
    /// `"strict"`, or `{"level": …, "afterMinutes": …}`). On the wire it is Clerk's own body
    /// (`{"clerk_error": …}`, which ClerkJS answers with its reverification flow): plain routes
    /// write it themselves, and `server_fn_status` rewrites a server function's answer into it.
    /// (Clerk's untagged shape as a variant here cost every page 23 KB of brotli wasm.) Clerk's
    /// body reads back as this variant too (`clerk_error`, its content skipped), so a page's
    /// server-function call can tell a step-up from any other 403.
    #[error("Please verify it is you to continue")]
    #[serde(alias = "clerk_error")]
    Reverification(#[serde(deserialize_with = "text_or_skipped")] String),
}

/// The requirement as text; from Clerk's body (an object), nothing: the browser only needs to
/// know a step-up was asked for. `IgnoredAny` skips it without a JSON value type in the wasm.
fn text_or_skipped<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct TextOrSkipped;
    impl<'de> serde::de::Visitor<'de> for TextOrSkipped {
        type Value = String;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("text, or Clerk's reverification object")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<String, E> {
            Ok(text.to_owned())
        }

        fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<String, M::Error> {
            while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
            Ok(String::new())
        }
    }
    deserializer.deserialize_any(TextOrSkipped)
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
            Self::Forbidden(_) | Self::Reverification(_) => 403,
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
    /// [`AppError::status`] as an HTTP status, for the server's responses.
    pub fn status_code(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The 403 for a user who has not verified recently enough for `required`.
    pub fn reverification(required: backend::auth::reverification::Reverification) -> Self {
        Self::Reverification(required.config().to_string())
    }

    /// The body this error answers with: Clerk's for a reverification, `{"error": message}` for
    /// the rest.
    pub fn body(&self) -> serde_json::Value {
        match self {
            Self::Reverification(config) => backend::auth::reverification::error_body(
                serde_json::from_str(config).unwrap_or(serde_json::Value::Null),
            ),
            other => serde_json::json!({ "error": other.to_string() }),
        }
    }

    /// Logs `cause` with its chain, and returns the opaque 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::Internal
    }
}

/// A refused admin edit (`backend::admin`) in the words the browser gets.
#[cfg(feature = "ssr")]
pub fn edit_error(err: backend::admin::EditError) -> AppError {
    use backend::admin::EditError;
    match err {
        EditError::NotFound => AppError::NotFound,
        EditError::Invalid(fields) => AppError::Validation(
            fields.into_iter().map(|f| FieldMessage { field: f.field.to_owned(), message: f.message }).collect(),
        ),
        EditError::Forbidden(message) => AppError::Forbidden(message),
        EditError::ClerkRefused(message) => AppError::ClerkRefused(message),
        EditError::Busy => AppError::TooManyAttempts(EditError::Busy.to_string()),
        EditError::ClerkUnavailable(cause) => {
            tracing::warn!(%cause, "writing through to Clerk failed");
            AppError::Unavailable
        }
        other => AppError::internal(other),
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
/// `WWW-Authenticate: Bearer` on a 401. (Server functions answer through `FromServerFnError`:
/// `server_fn_status` gives them the same status, and a page showing one gets it from
/// `error_page::ErrorPage`.)
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        use http::{HeaderValue, StatusCode, header};
        let status = self.status_code();
        let mut res = (status, axum::Json(self.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn clerks_reverification_body_reads_back_as_a_step_up() {
        let clerks = r#"{"clerk_error":{"type":"forbidden","reason":"reverification-error","metadata":{"reverification":"strict"}}}"#;
        assert_eq!(serde_json::from_str::<AppError>(clerks).ok(), Some(AppError::Reverification(String::new())));
        let ours = serde_json::to_string(&AppError::Reverification("\"strict\"".into())).expect("encodes");
        assert_eq!(serde_json::from_str::<AppError>(&ours).ok(), Some(AppError::Reverification("\"strict\"".into())));
        assert!(serde_json::from_str::<AppError>(r#"{"Reverification":5}"#).is_err());
    }
}
