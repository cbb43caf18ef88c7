//! Everything that exists only in a browser, behind one small seam: pages call these and
//! carry no feature gates of their own. On the server (rendering) each call does nothing.
use crate::lock::LockCtx;

pub use imp::*;

#[cfg(feature = "hydrate")]
mod imp {
    use super::LockCtx;
    use crate::api::{report_activity, security_state};
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;

    /// Other tabs of this browser learn about lock and unlock through this localStorage key.
    const STORAGE_KEY: &str = "portcullis-lock";

    /// Runs `fut` on the page's event loop.
    pub fn spawn(fut: impl std::future::Future<Output = ()> + 'static) {
        leptos::task::spawn_local(fut);
    }

    /// After a client-side navigation: the new page's heading takes the focus once it shows
    /// (a page's data may still be loading), as reading starts there after a full page load.
    /// A page that put the focus somewhere itself (a field with `autofocus`) keeps it.
    pub fn focus_heading_soon() {
        spawn(async move {
            for _ in 0..60 {
                gloo_timers::future::TimeoutFuture::new(50).await;
                let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
                if doc.active_element().is_some_and(|e| e.tag_name() != "BODY") {
                    return;
                }
                if let Ok(Some(h)) = doc.query_selector("main h1") {
                    if let Ok(h) = h.dyn_into::<web_sys::HtmlElement>() {
                        let _ = h.set_attribute("tabindex", "-1");
                        let _ = h.focus();
                    }
                    return;
                }
            }
        });
    }

    /// Puts `text` on the clipboard; answers whether the browser took it.
    pub fn copy_to_clipboard(text: &str) -> bool {
        match web_sys::window() {
            Some(w) => {
                let _ = w.navigator().clipboard().write_text(text);
                true
            }
            None => false,
        }
    }

    /// Asks the browser's WebAuthn to make a passkey for `options` (WebAuthn's JSON form,
    /// `{publicKey: …}`); answers the new credential as JSON (`credential.toJSON()`), or what
    /// went wrong in words.
    pub async fn create_passkey(options: &str) -> Result<String, String> {
        webauthn(options, true).await
    }

    /// Asks the browser's WebAuthn for an assertion by one of the passkeys `options` allows;
    /// answers it as JSON, or what went wrong in words.
    pub async fn use_passkey(options: &str) -> Result<String, String> {
        webauthn(options, false).await
    }

    /// `navigator.credentials.create()` (or `.get()`) on WebAuthn's JSON forms, through
    /// `Reflect`: web-sys's bindings of the JSON helpers are unstable.
    async fn webauthn(options: &str, create: bool) -> Result<String, String> {
        use js_sys::{Function, Reflect, JSON};
        use wasm_bindgen::JsValue;
        let unsupported = || "This browser cannot use passkeys.".to_owned();
        let unreadable = || "The server's passkey options did not read.".to_owned();
        let function = |of: &JsValue, name: &str| -> Result<Function, String> {
            Reflect::get(of, &JsValue::from_str(name))
                .ok()
                .and_then(|f| f.dyn_into().ok())
                .ok_or_else(unsupported)
        };
        let window = web_sys::window().ok_or_else(unsupported)?;
        let pkc =
            Reflect::get(&window, &JsValue::from_str("PublicKeyCredential")).map_err(|_| unsupported())?;
        let parse = function(
            &pkc,
            if create { "parseCreationOptionsFromJSON" } else { "parseRequestOptionsFromJSON" },
        )?;
        let options = JSON::parse(options).map_err(|_| unreadable())?;
        let public_key = Reflect::get(&options, &JsValue::from_str("publicKey")).map_err(|_| unreadable())?;
        let parsed = parse.call1(&pkc, &public_key).map_err(|_| unreadable())?;
        let request = js_sys::Object::new();
        Reflect::set(&request, &JsValue::from_str("publicKey"), &parsed).map_err(|_| unsupported())?;
        let credentials = Reflect::get(&window.navigator(), &JsValue::from_str("credentials"))
            .map_err(|_| unsupported())?;
        let call = function(&credentials, if create { "create" } else { "get" })?;
        let promise: js_sys::Promise = call
            .call1(&credentials, &request)
            .ok()
            .and_then(|p| p.dyn_into().ok())
            .ok_or_else(unsupported)?;
        let credential = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|e| {
            let name = Reflect::get(&e, &JsValue::from_str("name")).ok().and_then(|n| n.as_string());
            match (name.as_deref(), create) {
                (Some("NotAllowedError" | "AbortError"), true) => {
                    "No passkey was made (cancelled or timed out).".to_owned()
                }
                (Some("NotAllowedError" | "AbortError"), false) => {
                    "No passkey was used (cancelled or timed out).".to_owned()
                }
                (Some("InvalidStateError"), true) => {
                    "This device has a passkey for your account already.".to_owned()
                }
                (_, true) => "The browser could not make a passkey.".to_owned(),
                (_, false) => "The browser could not use a passkey.".to_owned(),
            }
        })?;
        let json = function(&credential, "toJSON")?.call0(&credential).map_err(|_| unsupported())?;
        JSON::stringify(&json).ok().and_then(|s| s.as_string()).ok_or_else(unsupported)
    }

    /// Tells this browser's other tabs that the lock state changed (`lock` or `unlock`).
    pub fn tell_other_tabs(kind: &str) {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(STORAGE_KEY, &format!("{kind}:{}", js_sys::Date::now()));
        }
    }

    /// Starts the inactivity timer and the cross-tab listener (see `lock::IdleWatch`).
    pub fn watch_idle(ctx: LockCtx) {
        use std::cell::Cell;
        use std::rc::Rc;
        use std::time::Duration;
        Effect::new(move |installed: Option<()>| {
            if installed.is_some() {
                return;
            }
            let last_input = Rc::new(Cell::new(js_sys::Date::now()));
            let last_report = Rc::new(Cell::new(0.0f64));
            let idle_too_long = {
                let last_input = last_input.clone();
                move || match ctx.lock_after.try_get_untracked().flatten() {
                    Some(m) => js_sys::Date::now() - last_input.get() >= (m as f64) * 60_000.0,
                    None => false,
                }
            };
            let on_input = {
                let (last_input, last_report, idle_too_long) =
                    (last_input.clone(), last_report.clone(), idle_too_long.clone());
                move |_: web_sys::Event| {
                    if ctx.locked.try_get_untracked().unwrap_or(true)
                        || ctx.lock_after.try_get_untracked().flatten().is_none()
                    {
                        return;
                    }
                    if idle_too_long() {
                        ctx.engage();
                        return;
                    }
                    let now = js_sys::Date::now();
                    last_input.set(now);
                    if now - last_report.get() >= 60_000.0 {
                        last_report.set(now);
                        leptos::task::spawn_local(async move {
                            if let Err(e) = report_activity().await {
                                ctx.note(&e);
                            }
                        });
                    }
                }
            };
            // Everything installed here is removed when the frame unmounts (client-side navigation
            // mounts a new frame with its own watcher).
            let mut listeners = Vec::new();
            for name in
                ["pointerdown", "pointermove", "keydown", "touchstart", "wheel", "scroll", "visibilitychange"]
            {
                let handler = on_input.clone();
                listeners.push(window_event_listener_untyped(name, move |ev| {
                    if name == "visibilitychange"
                        && document().visibility_state() != web_sys::VisibilityState::Visible
                    {
                        return;
                    }
                    handler(ev)
                }));
            }
            let follow_server = move || {
                leptos::task::spawn_local(async move {
                    if let Ok(Some(s)) = security_state().await {
                        ctx.set_locked(s.locked);
                    }
                });
            };
            listeners.push(window_event_listener_untyped("storage", move |ev| {
                let key = ev.dyn_ref::<web_sys::StorageEvent>().and_then(|e| e.key());
                if key.as_deref() == Some(STORAGE_KEY) {
                    follow_server();
                }
            }));
            // `enhance.js` unlocked this page with a passkey.
            listeners.push(window_event_listener_untyped("portcullis-unlocked", move |_| follow_server()));
            let ticker = set_interval_with_handle(
                move || {
                    if !ctx.locked.try_get_untracked().unwrap_or(true) && idle_too_long() {
                        ctx.engage();
                    }
                },
                Duration::from_secs(1),
            )
            .ok();
            on_cleanup(move || {
                for l in listeners {
                    l.remove();
                }
                if let Some(t) = ticker {
                    t.clear();
                }
            });
        });
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    use super::LockCtx;

    pub fn spawn(fut: impl std::future::Future<Output = ()> + 'static) {
        drop(fut);
    }

    pub fn focus_heading_soon() {}

    pub fn copy_to_clipboard(_text: &str) -> bool {
        false
    }

    pub async fn create_passkey(_options: &str) -> Result<String, String> {
        Err("Passkeys are made in the browser.".to_owned())
    }

    pub async fn use_passkey(_options: &str) -> Result<String, String> {
        Err("Passkeys are used in the browser.".to_owned())
    }

    pub fn tell_other_tabs(_kind: &str) {}

    pub fn watch_idle(_ctx: LockCtx) {}
}
