//! The WASM entry point: hydrate the server-rendered page.
//!
//! Hydration is asynchronous because the administration pages are lazy routes, split into WASM
//! files of their own (`cargo leptos build --split`): opened directly, such a page hydrates
//! once its file has arrived. The page is marked ready only then.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let app = leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App).await;
        app.forget();
        ready();
    });
}

/// The page's buttons act now: `enhance.js` stops standing in for them, and tests and scripts
/// can wait for `html[data-ready]`.
fn ready() {
    let document = leptos::prelude::document();
    if let Some(body) = document.body() {
        let _ = body.set_attribute("data-hydrated", "1");
    }
    if let Some(note) = document.get_element_by_id("loading-note") {
        note.remove();
    }
    if let Some(html) = document.document_element() {
        let _ = html.set_attribute("data-ready", "1");
    }
}
