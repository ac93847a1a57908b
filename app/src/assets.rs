//! The shell's links to the site's CSS, JS and wasm, under their hashed names. Leptos's
//! `HashedStylesheet` and `HydrationScripts` read `hash.txt` on every request (a stat and a read
//! each, about 4% of `/`). The names cannot change while the process runs, so they are read
//! once, and the markup that depends on them is built once.
//!
//! The preloads of a lazy page's wasm chunks are ours too ([`register_split_preloads`]):
//! `leptos_integration_utils` 0.8.9 looks the split manifest up after an `SsrMode::Async` page
//! has rendered, through whichever reactive owner the worker thread last had, so identical
//! requests named them only sometimes (and could hand them to another request's page).

use std::{collections::HashMap, sync::OnceLock};

use leptos::{nonce::use_nonce, prelude::*};

/// What every page links to, built on the first request.
struct Assets {
    stylesheet: String,
    js: String,
    wasm: String,
    /// Loads the JS, which fetches the wasm and hydrates the page.
    script: String,
    /// Which wasm chunks each lazy route needs (`cargo leptos build --split`).
    splits: Option<Splits>,
}

struct Splits {
    /// `/pkg`.
    pkg: String,
    /// Chunk file stems by lazy route id (`__wasm_split_manifest.json`).
    chunks: HashMap<String, Vec<String>>,
    /// The split loader, `__wasm_split.<hash>.js`.
    loader: String,
}

static ASSETS: OnceLock<Assets> = OnceLock::new();

fn assets(options: &LeptosOptions) -> &'static Assets {
    ASSETS.get_or_init(|| {
        let hashes = options.hash_files.then(|| read_hashes(options)).flatten().unwrap_or_default();
        let hashed = |kind: &str| hashes.get(kind).map(|h| format!(".{h}")).unwrap_or_default();
        let (name, pkg) = (&options.output_name, &options.site_pkg_dir);
        // Unhashed, wasm-bindgen names the wasm `<name>_bg` unless cargo-leptos set the name.
        let bg = if !options.hash_files && option_env!("LEPTOS_OUTPUT_NAME").is_none() { "_bg" } else { "" };
        let js = format!("/{pkg}/{name}{}.js", hashed("js"));
        let wasm = format!("/{pkg}/{name}{}{bg}.wasm", hashed("wasm"));
        // JSON string literals are JS string literals.
        let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let script = format!(
            "import({}).then(m => m.default({{ module_or_path: {} }}).then(() => m.hydrate()));",
            quoted(&js),
            quoted(&wasm)
        );
        let split_js = format!("__wasm_split.{}.js", hashes.get("split").map_or("______________________", |h| h));
        let manifest = format!("__wasm_split_manifest{}.json", hashed("manifest"));
        let splits = read_split_manifest(options, &manifest).map(|chunks| Splits {
            pkg: format!("/{pkg}"),
            chunks,
            loader: split_js,
        });
        Assets { stylesheet: format!("/{pkg}/{name}{}.css", hashed("css")), js, wasm, script, splits }
    })
}

/// `hash.txt` beside the server binary: `kind: hash` lines written by cargo-leptos.
fn read_hashes(options: &LeptosOptions) -> Option<HashMap<String, String>> {
    let exe = std::env::current_exe().ok()?;
    let Ok(text) = std::fs::read_to_string(exe.parent()?.join(options.hash_file.as_ref())) else {
        tracing::error!("LEPTOS_HASH_FILES is on, but there is no {} beside the server", options.hash_file);
        return None;
    };
    let pairs = text.lines().filter_map(|l| l.split_once(':'));
    Some(pairs.map(|(kind, hash)| (kind.trim().to_owned(), hash.trim().to_owned())).collect())
}

fn read_split_manifest(options: &LeptosOptions, file: &str) -> Option<HashMap<String, Vec<String>>> {
    let path = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref()).join(file);
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).inspect_err(|err| tracing::error!(error = %err, "unreadable {file}")).ok()
}

/// The stylesheet, the JS and wasm preloads, and the script that hydrates the page.
#[component]
pub fn SiteAssets(options: LeptosOptions) -> impl IntoView {
    let assets = assets(&options);
    let nonce = use_nonce();
    view! {
        <link id="leptos" rel="stylesheet" href=assets.stylesheet.as_str() />
        <link rel="modulepreload" href=assets.js.as_str() />
        <link rel="preload" href=assets.wasm.as_str() r#as="fetch" r#type="application/wasm" crossorigin="" />
        <script type="module" nonce=nonce>{assets.script.as_str()}</script>
    }
}

/// Names, in the page's `<head>`, the wasm chunks of the lazy routes rendered so far and the
/// split loader, in a stable order. Called from a lazy route's view, which runs under that
/// route's owner: Leptos has just recorded its id, and `leptos_meta` finds this request's head.
pub(crate) fn register_split_preloads() {
    use leptos_meta::Link;
    let Some(splits) = ASSETS.get().and_then(|a| a.splits.as_ref()) else { return };
    let Some(seen) = use_context::<leptos::PrefetchLazyFn>() else { return };
    let mut ids: Vec<&'static str> = seen.0.try_read_value().map(|s| s.iter().copied().collect()).unwrap_or_default();
    ids.sort_unstable();
    let mut modules: Vec<&str> = Vec::new();
    for module in ids.iter().filter_map(|id| splits.chunks.get(*id)).flatten() {
        if !modules.contains(&module.as_str()) {
            modules.push(module);
        }
    }
    if modules.is_empty() {
        return;
    }
    // `to_html` on leptos_meta's components registers them with the head; it writes no body.
    for module in modules {
        let href = format!("{}/{module}.wasm", splits.pkg);
        let _ =
            view! { <Link rel="preload" href=href as_="fetch" type_="application/wasm" crossorigin="" /> }.to_html();
    }
    let href = format!("{}/{}", splits.pkg, splits.loader);
    let _ = view! { <Link rel="modulepreload" href=href crossorigin="" /> }.to_html();
}
