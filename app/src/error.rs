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

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound => 404,
            Self::BadRequest(_) => 400,
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

    /// Sets this error's status on the response being built (SSR or server function).
    pub fn set_response_status(&self) {
        use leptos::prelude::use_context;
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = http::StatusCode::from_u16(self.status())
        {
            res.set_status(status);
        }
    }
}
