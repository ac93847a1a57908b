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
