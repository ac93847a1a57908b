//! Static files from the site root (`target/site`): precompressed brotli/gzip variants when the
//! build made them, immutable caching for names that really are their content's hash,
//! revalidation for everything else. Whatever is not a file falls through to the app's 404 page.

use app_core::state::AppState;
use axum::{
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::Response,
};
use leptos::prelude::{AnyView, LeptosOptions, provide_context};
use std::{collections::HashSet, sync::Arc};
use tower_http::services::ServeDir;

/// A year, the longest that caches honour; hashed names change whenever their content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Revalidate every time (cheap: ServeDir answers conditional requests with 304).
const REVALIDATE: &str = "no-cache";

pub fn service(state: &AppState, shell: fn(LeptosOptions) -> AnyView) -> axum::routing::Router {
    let not_found = not_found_page(state, shell);
    let root = std::path::Path::new(&*state.leptos_options.site_root);
    let immutable = Arc::new(content_hashed_files(root));
    let files = ServeDir::new(root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .fallback(not_found);
    axum::routing::Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(move |req, next| cache_headers(Arc::clone(&immutable), req, next)))
}

/// The app's own 404 page, rendered as its routes are (Leptos's `file_and_error_handler` would
/// look the file up a second time, and give the page no signed-in user).
fn not_found_page(state: &AppState, shell: fn(LeptosOptions) -> AnyView) -> axum::routing::MethodRouter {
    let options = state.leptos_options.clone();
    let state = state.clone();
    let render = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(state.clone());
            crate::auth::provide_request_context();
        },
        move || shell(options.clone()),
    );
    axum::routing::any(move |req: Request| {
        let page = render(req);
        async move {
            let mut res = page.await;
            // The router's fallback sets 404; anything else it answered is still not a file.
            if res.status() == StatusCode::OK {
                *res.status_mut() = StatusCode::NOT_FOUND;
            }
            res
        }
    })
}

/// The URL paths (`/pkg/…`) whose hashed name is the MD5 of their content, as cargo-leptos
/// names them. Checked once at start, because cargo-leptos rewrites some files after naming
/// them (the main JS gets the final wasm and split-loader names; chunks get the loader's):
/// caching such a file forever would let a browser keep old code under a name that now
/// holds new code. Those revalidate instead (a 304 when unchanged).
fn content_hashed_files(root: &std::path::Path) -> HashSet<String> {
    use base64::Engine;
    use md5::Digest;
    let mut verified = HashSet::new();
    let Ok(entries) = std::fs::read_dir(root.join("pkg")) else { return verified };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(hash) = name_hash(&name) else { continue };
        let Ok(bytes) = std::fs::read(entry.path()) else { continue };
        let actual = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(md5::Md5::digest(&bytes));
        if actual == hash {
            verified.insert(format!("/pkg/{name}"));
        }
    }
    verified
}

async fn cache_headers(immutable: Arc<HashSet<String>>, req: Request, next: Next) -> Response {
    // Precompressed variants are chosen by Accept-Encoding: the path is the file's own name.
    let hashed = immutable.contains(req.uri().path());
    let mut res = next.run(req).await;
    let served_file = res.status().is_success() || res.status() == axum::http::StatusCode::NOT_MODIFIED;
    if served_file && !res.headers().contains_key(header::CACHE_CONTROL) {
        let value = if hashed { IMMUTABLE } else { REVALIDATE };
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// cargo-leptos `hash-files` names look like `clerk-starter.<hash>.wasm`: a middle part of at
/// least 8 URL-safe characters between the name and the extension.
fn name_hash(file: &str) -> Option<&str> {
    let parts: Vec<&str> = file.split('.').collect();
    let hash = *parts.get(parts.len().checked_sub(2)?)?;
    let ok =
        parts.len() >= 3 && hash.len() >= 8 && hash.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    ok.then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::name_hash;

    #[test]
    fn hashed_names_are_recognised() {
        assert_eq!(name_hash("clerk-starter.Ab3dEf9h_kL.wasm"), Some("Ab3dEf9h_kL"));
        assert_eq!(name_hash("clerk-starter.0123456789abcdef.css"), Some("0123456789abcdef"));
        assert_eq!(name_hash("clerk-starter.wasm"), None);
        assert_eq!(name_hash("clerk-starter.css"), None);
        assert_eq!(name_hash("favicon.svg"), None);
        assert_eq!(name_hash("clerk-starter.abc.js"), None);
    }
}
