//! The authentication middleware, and extractors for plain axum handlers.

use std::{net::SocketAddr, sync::Arc};

use app_core::{error::AppError, state::AppState};
use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{HeaderMap, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use backend::{
    admin::access,
    auth::{Auth, Caller, ClientUat, CurrentUser, TokenSource},
    machine::{AcceptsToken, Machine},
    org_urls::UrlTarget,
    staff::{ClientIp, login_session::StaffSession},
};
use leptos::prelude::{provide_context, use_context};
use tower_sessions::Session;

/// Clerk's session cookie.
const SESSION_COOKIE: &str = "__session";
/// Clerk's client cookie: when the browser's Clerk client last changed, `0` once signed out.
const CLIENT_UAT_COOKIE: &str = "__client_uat";

/// Reads the token (Bearer header first, then the `__session` cookie), authenticates it against
/// the server session, and stores the resulting [`Auth`] in the request extensions, with the
/// staff password session ([`StaffSession`]: the header names a logged-in staff member on every
/// page; only admin guards grant anything by it). On admin paths only, also the client's IP.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = token_from(req.headers());
    let org_header = req.headers().get("x-organization-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let session = req.extensions().get::<Session>().cloned();
    let client_uat = ClientUat::parse(cookie(req.headers(), CLIENT_UAT_COOKIE));
    let verdict = state.auth.authenticate(token, client_uat, session.as_ref(), org_header.as_deref()).await;
    let mut auth = state.invalidations.settle(verdict).await;
    // Only a signed-in user has an organization to follow: others skip the patterns.
    if req.method() == axum::http::Method::GET
        && matches!(auth, Auth::SignedIn(_))
        && let Some(target) = state.config.org_urls.target(req.uri().path())
    {
        Box::pin(follow_url_org(&state, &mut auth, &target)).await;
    }
    if let Auth::SignedIn(user) = &auth {
        let org = user.org.as_ref().map(|o| o.id.as_str());
        crate::observe::record_caller(&req, user.user.clerk_id.as_ref().map(|id| id.as_str()), org);
    }
    // A session without a staff record costs no query; a staff one reads the cached account.
    let staff = match &session {
        Some(session) => match backend::staff::login_session::resolve(&state.db, session).await {
            Ok(user) => user,
            Err(err) => {
                tracing::warn!(error = %err, "loading the staff session's account failed");
                None
            }
        },
        None => None,
    };
    req.extensions_mut().insert(StaffSession(staff));
    if access::is_admin_path(req.uri().path()) {
        let ip = client_ip(&req, &state.config);
        req.extensions_mut().insert(ip);
    }
    req.extensions_mut().insert(auth);
    next.run(req).await
}

/// Organizations in the URL (`CLERK_ORGANIZATION_PATTERNS`): on a page that names one, a member
/// has it as the active organization, whatever the token says (its features and plans count only
/// once ClerkJS has made it the token's, which `clerk-glue.js` asks for). On a personal-account
/// page none is active. Anyone else keeps the token's: the page's own data answers 404.
async fn follow_url_org(state: &AppState, auth: &mut Auth, target: &UrlTarget) {
    let Auth::SignedIn(user) = auth else { return };
    match target {
        UrlTarget::PersonalAccount => user.org = None,
        UrlTarget::Organization(reference) => match state.auth.org_in_url(user, reference).await {
            Ok(Some((_, claims))) => user.org = Some(claims),
            Ok(None) => {}
            Err(rejection) => *auth = Auth::Rejected(rejection),
        },
    }
}

/// What [`authenticate`] left in the request (the verdict and the staff session), as Leptos
/// context for guards in SSR and server functions alike.
pub fn provide_request_context() {
    if let Some(parts) = use_context::<Parts>() {
        provide_context(parts.extensions.get::<Auth>().cloned().unwrap_or(Auth::Anonymous));
        provide_context(parts.extensions.get::<StaffSession>().cloned().unwrap_or_default());
        // The nonce the response's Content-Security-Policy names (Leptos made its own first).
        if let Some(nonce) = parts.extensions.get::<crate::security_headers::CspNonce>() {
            provide_context(leptos::nonce::Nonce::from_value(nonce.0.as_str()));
        }
    }
}

/// The peer address, or with `TRUST_PROXY_HEADERS` the right-most `X-Forwarded-For` address
/// outside `TRUSTED_PROXIES` (see `backend::proxy`).
fn client_ip(req: &Request, config: &backend::Config) -> ClientIp {
    let Some(peer) = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
        return ClientIp("unknown".into());
    };
    if !config.trust_proxy_headers {
        return ClientIp::from_addr(peer);
    }
    let lines = req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    config.trusted_proxies.client(peer, lines.collect::<Vec<_>>().into_iter())
}

/// Sends anyone but staff asking for an admin page to `/admin/login?next=…`. (Pages for
/// signed-in users declare it on their route: `app::auth::SignedInOnly`.)
pub async fn redirect_anonymous_pages(req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::GET {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let auth = req.extensions().get::<Auth>();
    if access::is_admin_page(path) {
        let staff = access::admin_of(req.extensions().get::<StaffSession>(), auth).is_some();
        if path == access::LOGIN_PATH {
            if staff {
                return Redirect::to("/admin").into_response();
            }
        } else if !staff {
            let wanted = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or(path);
            let next: String = url::form_urlencoded::byte_serialize(wanted.as_bytes()).collect();
            return Redirect::to(&format!("{}?next={next}", access::LOGIN_PATH)).into_response();
        }
    }
    next.run(req).await
}

fn token_from(headers: &HeaderMap) -> Option<TokenSource> {
    // `from_utf8` checks a 700-byte token word by word, `to_str` byte by byte; any byte a token
    // cannot hold fails its verification anyway.
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| std::str::from_utf8(v.as_bytes()).ok()) {
        let value = value.trim();
        // Clerk takes "Bearer <t>", or a bare token; other schemes are not ours.
        if let Some(token) = value.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty()) {
            return Some(TokenSource::Header(token.to_owned()));
        }
        if !value.contains(' ') && !value.is_empty() {
            return Some(TokenSource::Header(value.to_owned()));
        }
    }
    cookie(headers, SESSION_COOKIE).filter(|v| !v.is_empty()).map(|value| TokenSource::Cookie(value.to_owned()))
}

/// The first cookie called `name`.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// What [`authenticate`] decided, borrowed: a guard clones only the user it hands out.
fn auth_of(parts: &Parts) -> &Auth {
    parts.extensions.get::<Auth>().unwrap_or(&Auth::Anonymous)
}

/// The signed-in user; 401 (or 503) otherwise.
pub struct RequireUser(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for RequireUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = auth_of(parts);
        match auth.session_user() {
            Ok(Some(user)) => Ok(Self(user.clone())),
            // A pending session is nobody, but says why.
            Ok(None) => Err(match auth {
                Auth::Rejected(rejection) => AppError::from(rejection),
                _ => AppError::unauthenticated(),
            }),
            Err(r) => Err(AppError::from(&r)),
        }
    }
}

/// The signed-in user if any. A bad token is still rejected, not treated as anonymous.
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let auth = auth_of(parts);
        auth.session_user().map(|user| Self(user.cloned())).map_err(|r| AppError::from(&r))
    }
}

/// Any caller Clerk can authenticate (`acceptsToken: 'any'`): a signed-in user, or a verified
/// API key, M2M or OAuth token. 401 otherwise; 503 when Clerk cannot verify an opaque token.
/// For another set of kinds, call `state.auth.caller(&auth, AcceptsToken::…)` in the handler.
pub struct AnyToken(pub Caller);

impl FromRequestParts<AppState> for AnyToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        caller(parts, state, AcceptsToken::ANY).await.map(Self)
    }
}

/// A verified API key, M2M or OAuth token; 401 for anything else (session tokens included).
pub struct RequireMachine(pub Arc<Machine>);

impl FromRequestParts<AppState> for RequireMachine {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match caller(parts, state, AcceptsToken::MACHINE).await? {
            Caller::Machine(machine) => Ok(Self(machine)),
            Caller::User(_) => Err(AppError::Unauthorized("A machine token is required".into())),
        }
    }
}

async fn caller(parts: &Parts, state: &AppState, accepts: AcceptsToken) -> Result<Caller, AppError> {
    match state.auth.caller(auth_of(parts), accepts).await {
        Ok(Some(caller)) => Ok(caller),
        Ok(None) => Err(AppError::unauthenticated()),
        Err(rejection) => Err(AppError::from(&rejection)),
    }
}
