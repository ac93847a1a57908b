//! Security headers on every answer, and a Content-Security-Policy on every HTML one. Each
//! request gets a fresh nonce: Leptos puts it on the scripts it writes inline (the hydration
//! bootstrap, streamed resources, the dev reload script) through `use_nonce`, and the policy
//! allows scripts with it, our own files, and ClerkJS's hosts. The Clerk sources follow Clerk's
//! own policy builder (`@clerk/nextjs` 7.9.17, `dist/esm/server/content-security-policy.js`):
//! the Frontend API, Cloudflare Turnstile, `img.clerk.com`, telemetry, `blob:` workers and
//! inline styles (ClerkJS's emotion injects them).

use app_core::state::AppState;
use axum::{
    extract::{Request, State},
    http::{HeaderName, HeaderValue, header},
    middleware::Next,
    response::Response,
};
use base64::Engine;

/// The nonce of this request's HTML, in the request's extensions for the Leptos context.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

pub async fn security_headers(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let nonce = CspNonce(base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>()));
    req.extensions_mut().insert(nonce.clone());
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    let is_html =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if is_html && let Ok(policy) = HeaderValue::from_str(&policy(&nonce.0, frontend_api(&state), reload_port(&state))) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    secure_prefixed_cookies(headers);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    // For browsers without `frame-ancestors`.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"),
    );
    res
}

/// A browser ignores a `__Host-`/`__Secure-` cookie without `Secure`, removals included.
/// tower-sessions builds its removal cookie from the one the request sent (a name and a value,
/// no attributes), so without this a logout would leave the `__Host-` session cookie in place.
fn secure_prefixed_cookies(headers: &mut http::HeaderMap) {
    let cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).iter().cloned().collect();
    let needs_secure = |v: &HeaderValue| {
        v.to_str().is_ok_and(|s| {
            (s.starts_with("__Host-") || s.starts_with("__Secure-"))
                && !s.split(';').skip(1).any(|a| a.trim().eq_ignore_ascii_case("secure"))
        })
    };
    if !cookies.iter().any(needs_secure) {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let fixed = match cookie.to_str() {
            Ok(s) if needs_secure(&cookie) => HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(cookie),
            _ => cookie,
        };
        headers.append(header::SET_COOKIE, fixed);
    }
}

/// The Frontend API host whose ClerkJS the pages load (none in dev mode: no ClerkJS).
fn frontend_api(state: &AppState) -> Option<&str> {
    if state.dev.is_some() {
        return None;
    }
    state.config.clerk_publishable_key.as_ref().map(|key| key.frontend_api())
}

/// `cargo leptos watch` reloads the page over a websocket on this port (debug builds only).
fn reload_port(state: &AppState) -> Option<u32> {
    cfg!(debug_assertions).then_some(state.leptos_options.reload_port)
}

/// The policy for one HTML answer.
pub fn policy(nonce: &str, frontend_api: Option<&str>, reload_port: Option<u32>) -> String {
    let fapi = frontend_api.map(|host| format!(" https://{host}")).unwrap_or_default();
    let clerk_scripts =
        if fapi.is_empty() { String::new() } else { format!("{fapi} https://challenges.cloudflare.com") };
    let clerk_connect = if fapi.is_empty() {
        String::new()
    } else {
        format!("{fapi} https://clerk-telemetry.com https://*.clerk-telemetry.com")
    };
    let reload = reload_port.map(|port| format!(" ws://*:{port}")).unwrap_or_default();
    format!(
        "default-src 'self'; \
         script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'{clerk_scripts}; \
         connect-src 'self'{clerk_connect}{reload}; \
         img-src 'self' data: https://img.clerk.com; \
         style-src 'self' 'unsafe-inline'; \
         worker-src 'self' blob:; \
         frame-src 'self' https://challenges.cloudflare.com; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::policy;

    #[test]
    fn the_policy_names_the_nonce_and_clerks_hosts_only_when_clerk_is_used() {
        let with_clerk = policy("abc", Some("clerk.example.com"), None);
        assert!(with_clerk.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval' https://clerk.example.com"));
        assert!(with_clerk.contains("connect-src 'self' https://clerk.example.com https://clerk-telemetry.com"));
        assert!(with_clerk.contains("frame-ancestors 'none'"));
        let dev = policy("abc", None, Some(3001));
        assert!(dev.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"), "{dev}");
        assert!(!dev.contains("telemetry"));
        assert!(dev.contains("connect-src 'self' ws://*:3001;"));
    }
}
