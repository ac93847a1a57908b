//! The wasm entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes (`app::lazy_pages`): hydration first loads the page's split-out wasm chunk, so
    // it completes in a task, as `leptos::mount::hydrate_lazy` does; the marker waits for it.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body();
        let Some(body) = body else { return };
        let mounted = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        mounted.forget();
        // A marker for browser tests and the time-to-interactive benchmark.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}

/// Slack for the wasm splitter (`cargo leptos build --split`, `wasm_split_cli_support` 0.2.3):
/// it lays each output module's data out again, aligned, and if that comes out even a few bytes
/// longer than the original data segment it gives up and keeps *all* data in the main module
/// ("Overlong segment 0 … putting it in main module"), 26 KB of brotli that a small edit
/// anywhere could add or take away. These bytes sit in the original segment, and no function
/// uses them, so no output keeps them: the relaid data has room, and ships without them. 1 KB
/// was too little once the admin became a crate of its own (177 KB for `/` instead of 149 KB).
#[used]
static SPLIT_DATA_SLACK: [u8; 8192] = [0x5a; 8192];
