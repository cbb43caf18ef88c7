//! The WASM entry point: hydrate the server-rendered page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // The page's buttons act now: `enhance.js` stops standing in for them, and tests and
    // scripts can wait for `html[data-ready]`.
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
