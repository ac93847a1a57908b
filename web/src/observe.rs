//! One span per request, its `x-request-id`, and the HTTP metrics. The id is the caller's when it
//! is a plausible one (bounded, plain characters), else a new UUID; either way the response
//! carries it. Routes are labelled by their template (`/admin/users/{id}`), never the raw path,
//! so whatever paths arrive the label set stays closed.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::{HeaderName, HeaderValue, Method},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const MAX_REQUEST_ID: usize = 128;

pub async fn observe(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&req);
    req.headers_mut().insert(X_REQUEST_ID.clone(), id.clone());
    let method = method_label(req.method());
    let route = route_label(&req);
    let span = tracing::info_span!(
        "request",
        request_id = id.to_str().unwrap_or_default(),
        method,
        route,
        user_id = tracing::field::Empty,
        org_id = tracing::field::Empty,
    );
    req.extensions_mut().insert(RequestSpan(span.clone()));
    let mut res = next.run(req).instrument(span.clone()).await;
    let status = res.status();
    let took = started.elapsed();
    backend::measure::http_request(method, route, status, took);
    span.in_scope(|| {
        let micros = took.as_micros() as u64;
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), micros, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), micros, "request");
        }
    });
    res.headers_mut().insert(X_REQUEST_ID.clone(), id);
    res
}

/// The request's span, in its extensions: inner layers open spans of their own (the session
/// layer's `call`), so `Span::current()` there is not this one.
#[derive(Clone)]
pub struct RequestSpan(pub tracing::Span);

/// Names the request's span with who made it: Clerk ids only, never tokens or emails.
pub fn record_caller(req: &Request, user_id: Option<&str>, org_id: Option<&str>) {
    let Some(RequestSpan(span)) = req.extensions().get::<RequestSpan>() else { return };
    if let Some(id) = user_id {
        span.record("user_id", id);
    }
    if let Some(id) = org_id {
        span.record("org_id", id);
    }
}

fn request_id(req: &Request) -> HeaderValue {
    let given = req.headers().get(&X_REQUEST_ID).filter(|v| {
        let bytes = v.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:=+/;".contains(b))
    });
    match given {
        Some(id) => id.clone(),
        // A v4 UUID from the thread's RNG: `Uuid::new_v4` asks the kernel (a syscall) every time.
        None => {
            HeaderValue::from_str(&uuid::Builder::from_random_bytes(rand::random()).into_uuid().simple().to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("invalid"))
        }
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The matched route's template; files under `/pkg/` share one label, and everything else the
/// router did not match (other static files, and every 404) shares another.
fn route_label(req: &Request) -> &'static str {
    match req.extensions().get::<MatchedPath>() {
        Some(path) => intern(path.as_str()),
        None if req.uri().path().starts_with("/pkg/") => "/pkg/{file}",
        None => "fallback",
    }
}

/// Route templates as `&'static str`: the router's templates are a fixed set, leaked once each.
fn intern(template: &str) -> &'static str {
    use std::{collections::HashSet, sync::RwLock};
    static SEEN: RwLock<Option<HashSet<&'static str>>> = RwLock::new(None);
    if let Ok(seen) = SEEN.read()
        && let Some(found) = seen.as_ref().and_then(|s| s.get(template))
    {
        return found;
    }
    let Ok(mut seen) = SEEN.write() else { return "unknown" };
    let seen = seen.get_or_insert_with(HashSet::new);
    if let Some(found) = seen.get(template) {
        return found;
    }
    let leaked: &'static str = Box::leak(template.to_owned().into_boxed_str());
    seen.insert(leaked);
    leaked
}
