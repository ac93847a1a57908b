//! The shell's links to the site's CSS, JS and wasm, under their hashed names. Leptos's
//! `HashedStylesheet` and `HydrationScripts` read `hash.txt` on every request (a stat and a read
//! each, about 4% of `/`). The names cannot change while the process runs, so they are read
//! once, and the markup that depends on them is built once.

use std::{collections::HashMap, sync::OnceLock};

use leptos::{WasmSplitManifest, nonce::use_nonce, prelude::*};

/// What every page links to, built on the first request.
struct Assets {
    stylesheet: String,
    js: String,
    wasm: String,
    /// Loads the JS, which fetches the wasm and hydrates the page.
    script: String,
    /// Which wasm chunks each lazy route needs (`cargo leptos build --split`); Leptos reads it
    /// from context to preload a page's chunks.
    splits: Option<WasmSplitManifest>,
}

fn assets(options: &LeptosOptions) -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
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
        let splits = read_split_manifest(options, &manifest)
            .map(|map| WasmSplitManifest(ArcStoredValue::new((format!("/{pkg}"), map, split_js))));
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
    if let Some(splits) = &assets.splits {
        provide_context(splits.clone());
    }
    let nonce = use_nonce();
    view! {
        <link id="leptos" rel="stylesheet" href=assets.stylesheet.as_str() />
        <link rel="modulepreload" href=assets.js.as_str() />
        <link rel="preload" href=assets.wasm.as_str() r#as="fetch" r#type="application/wasm" crossorigin="" />
        <script type="module" nonce=nonce>{assets.script.as_str()}</script>
    }
}
