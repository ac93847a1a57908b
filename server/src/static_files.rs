//! Static files from the site root (`target/site`): precompressed brotli/gzip variants when the
//! build made them, immutable caching for hashed names, revalidation for everything else.
//! Whatever is not a file falls through to the app's 404 page.

use app::{shell, state::AppState};
use axum::{
    extract::Request,
    handler::Handler,
    http::{HeaderValue, header},
    middleware::{self, Next},
    response::Response,
};
use tower_http::services::ServeDir;

/// A year, the longest that caches honour; hashed names change whenever their content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Revalidate every time (cheap: ServeDir answers conditional requests with 304).
const REVALIDATE: &str = "no-cache";

pub fn service(state: &AppState) -> axum::routing::Router {
    let not_found = leptos_axum::file_and_error_handler::<AppState, _>(shell).with_state(state.clone());
    let files = ServeDir::new(&*state.leptos_options.site_root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .fallback(not_found);
    axum::routing::Router::new().fallback_service(files).layer(middleware::from_fn(cache_headers))
}

async fn cache_headers(req: Request, next: Next) -> Response {
    let hashed = is_hashed(req.uri().path());
    let mut res = next.run(req).await;
    let served_file = res.status().is_success() || res.status() == axum::http::StatusCode::NOT_MODIFIED;
    if served_file && !res.headers().contains_key(header::CACHE_CONTROL) {
        let value = if hashed { IMMUTABLE } else { REVALIDATE };
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// cargo-leptos `hash-files` names look like `/pkg/clerk-starter.<hash>.wasm`: a middle part of
/// at least 8 URL-safe characters between the name and the extension.
fn is_hashed(path: &str) -> bool {
    let Some(file) = path.rsplit('/').next() else { return false };
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3 && {
        let hash = parts[parts.len() - 2];
        hash.len() >= 8 && hash.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("/pkg/clerk-starter.Ab3dEf9h_kL.wasm"));
        assert!(is_hashed("/pkg/clerk-starter.0123456789abcdef.css"));
        assert!(!is_hashed("/pkg/clerk-starter.wasm"));
        assert!(!is_hashed("/pkg/clerk-starter.css"));
        assert!(!is_hashed("/favicon.svg"));
        assert!(!is_hashed("/pkg/clerk-starter.abc.js"));
    }
}
