//! Static files: precompressed variants, cache headers, and keep-alive latency.

use crate::common;

use std::time::{Duration, Instant};

use common::TestApp;
use reqwest::StatusCode;
use testkit::Backend;

/// Named by the base64url MD5 of its content (`\0asm raw bytes`), as cargo-leptos names it.
const WASM: &str = "/pkg/clerk-starter.Y0D4ZDm_pvPC8er2NFmTzg.wasm";
/// A hashed-looking name whose content changed after naming (as cargo-leptos does to the main JS).
const REWRITTEN_JS: &str = "/pkg/clerk-starter.Ab3dEf9hXYz.js";

/// A site root like cargo-leptos makes one, with a brotli variant beside the wasm.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let pkg = dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    std::fs::write(pkg.join("clerk-starter.Y0D4ZDm_pvPC8er2NFmTzg.wasm"), b"\0asm raw bytes").expect("wasm");
    std::fs::write(pkg.join("clerk-starter.Y0D4ZDm_pvPC8er2NFmTzg.wasm.br"), b"brotli bytes").expect("wasm.br");
    std::fs::write(pkg.join("clerk-starter.Ab3dEf9hXYz.js"), b"import './__wasm_split.new.js';").expect("js");
    std::fs::write(pkg.join("clerk-starter.css"), "body { color: black; }".repeat(50)).expect("css");
    std::fs::write(dir.path().join("favicon.svg"), "<svg/>").expect("favicon");
    dir
}

async fn get(app: &TestApp, path: &str, encoding: &str) -> reqwest::Response {
    app.client.get(app.url(path)).header("accept-encoding", encoding).send().await.expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wasm_is_served_brotli_encoded_when_asked() {
    let dir = site();
    let app = TestApp::spawn_with_site(Backend::Sqlite, &dir.path().display().to_string()).await;
    let res = get(&app, WASM, "gzip, deflate, br").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("br"));
    assert_eq!(res.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/wasm"));
    assert_eq!(res.bytes().await.expect("body").as_ref(), b"brotli bytes");

    let plain = get(&app, WASM, "identity").await;
    assert_eq!(plain.headers().get("content-encoding"), None);
    assert_eq!(plain.bytes().await.expect("body").as_ref(), b"\0asm raw bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_hashed_files_are_immutable_and_the_rest_revalidate() {
    let dir = site();
    let app = TestApp::spawn_with_site(Backend::Sqlite, &dir.path().display().to_string()).await;
    let cache =
        |res: &reqwest::Response| res.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let wasm = get(&app, WASM, "br").await;
    assert_eq!(cache(&wasm).as_deref(), Some("public, max-age=31536000, immutable"));
    for path in ["/pkg/clerk-starter.css", "/favicon.svg", REWRITTEN_JS] {
        assert_eq!(cache(&get(&app, path, "identity").await).as_deref(), Some("no-cache"), "{path}");
    }
    let missing = get(&app, "/pkg/nothing.js", "identity").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_ne!(cache(&missing).as_deref(), Some("public, max-age=31536000, immutable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_keep_alive_requests_for_the_css_take_well_under_200_ms() {
    let dir = site();
    let app = TestApp::spawn_with_site(Backend::Sqlite, &dir.path().display().to_string()).await;
    // Warm the connection, then time 20 sequential requests on it.
    assert_eq!(get(&app, "/pkg/clerk-starter.css", "identity").await.status(), StatusCode::OK);
    let started = Instant::now();
    for _ in 0..20 {
        let res = get(&app, "/pkg/clerk-starter.css", "identity").await;
        assert_eq!(res.status(), StatusCode::OK);
        res.bytes().await.expect("body");
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(200), "20 requests took {elapsed:?}");
}
