//! The authentication middleware, and extractors for plain axum handlers.

use app::state::AppState;
use axum::{
    Json,
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use backend::auth::{Auth, CurrentUser, Rejection, TokenSource};
use serde_json::json;
use tower_sessions::Session;

/// Clerk's session cookie.
const SESSION_COOKIE: &str = "__session";

/// Reads the token (Bearer header first, then the `__session` cookie), authenticates it against
/// the server session, and stores the resulting [`Auth`] in the request extensions.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = token_from(req.headers());
    let org_header = req.headers().get("x-organization-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let session = req.extensions().get::<Session>().cloned();
    let auth = state.auth.authenticate(token, session.as_ref(), org_header.as_deref()).await;
    req.extensions_mut().insert(auth);
    next.run(req).await
}

/// Sends anonymous browsers asking for a signed-in page (`app::SIGNED_IN_PAGES`) to `/sign-in`.
pub async fn redirect_anonymous_pages(req: Request, next: Next) -> Response {
    let protected = req.method() == axum::http::Method::GET && app::SIGNED_IN_PAGES.contains(&req.uri().path());
    let signed_in = matches!(req.extensions().get::<Auth>(), Some(Auth::SignedIn(_)));
    if protected && !signed_in {
        return axum::response::Redirect::to("/sign-in").into_response();
    }
    next.run(req).await
}

fn token_from(headers: &HeaderMap) -> Option<TokenSource> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let value = value.trim();
        // Clerk takes "Bearer <t>", or a bare token; other schemes are not ours.
        if let Some(token) = value.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty()) {
            return Some(TokenSource::Header(token.to_owned()));
        }
        if !value.contains(' ') && !value.is_empty() {
            return Some(TokenSource::Header(value.to_owned()));
        }
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| TokenSource::Cookie(value.to_owned()))
}

/// A JSON error for plain handlers: `{"error": …}`, with `WWW-Authenticate: Bearer` on 401.
pub struct AuthError(StatusCode, String);

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let mut res = (self.0, Json(json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

fn auth_of(parts: &Parts) -> Auth {
    parts.extensions.get::<Auth>().cloned().unwrap_or(Auth::Anonymous)
}

fn rejection(r: &Rejection) -> AuthError {
    match r {
        Rejection::Unavailable => {
            AuthError(StatusCode::SERVICE_UNAVAILABLE, "Authentication is temporarily unavailable".into())
        }
        Rejection::Inactive => AuthError(StatusCode::UNAUTHORIZED, "User is inactive".into()),
        Rejection::SessionEnded => AuthError(StatusCode::UNAUTHORIZED, "Session ended".into()),
        Rejection::Token(err) => AuthError(StatusCode::UNAUTHORIZED, err.to_string()),
    }
}

/// The signed-in user; 401 (or 503) otherwise.
pub struct RequireUser(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for RequireUser {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match auth_of(parts) {
            Auth::SignedIn(user) => Ok(Self(user)),
            Auth::Anonymous => Err(AuthError(StatusCode::UNAUTHORIZED, "Authentication required".into())),
            Auth::Rejected(r) => Err(rejection(&r)),
        }
    }
}

/// The signed-in user if any. A bad token is still rejected, not treated as anonymous.
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match auth_of(parts) {
            Auth::SignedIn(user) => Ok(Self(Some(user))),
            Auth::Anonymous => Ok(Self(None)),
            Auth::Rejected(r) => Err(rejection(&r)),
        }
    }
}
