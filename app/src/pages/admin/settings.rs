//! Instance settings: the server log and Guacamole.
use crate::api::{instance_settings, SaveGuacamole, SaveLogLevel};
use crate::components::{field_error, outcome, Field, StatusLine, Submit};
use crate::lock::LockCtx;
use leptos::prelude::*;

/// The server log and Guacamole.
#[component]
pub(super) fn SettingsTab() -> impl IntoView {
    let lock = LockCtx::get();
    let settings =
        Resource::new(move || lock.unlocks(), move |_| async move { lock.check(instance_settings().await) });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                super::part(settings.await, |s| view! {
                    <div class="two-col">
                        <LoggingSection level=s.log_level.clone()/>
                        <GuacamoleSection enabled=s.guacamole_enabled url=s.guacamole_url.clone()/>
                    </div>
                })
            })}
        </Suspense>
    }
}

#[component]
fn LoggingSection(level: String) -> impl IntoView {
    let save = ServerAction::<SaveLogLevel>::new();
    LockCtx::get().watch(move || save.value().get());
    let status = outcome(save.pending().into(), Signal::derive(move || save.value().get()), |_| {
        "Log level changed.".into()
    });
    view! {
        <section class="card section" aria-labelledby="log-title">
            <h2 id="log-title">"Server log"</h2>
            <ActionForm action=save attr:class="stack">
                <div class="field">
                    <label for="log-level">"Log level"</label>
                    <select id="log-level" name="level" class="select">
                        {["debug", "info", "warn", "error"].into_iter().map(|l| view! {
                            <option value=l selected=l == level>{l}</option>
                        }).collect_view()}
                    </select>
                    <p class="hint">"Takes effect at once. Reset codes are logged at warn."</p>
                </div>
                <StatusLine status=status/>
                <Submit label="Save" busy_label="Saving…" pending=save.pending()/>
            </ActionForm>
        </section>
    }
}

#[component]
fn GuacamoleSection(enabled: bool, url: String) -> impl IntoView {
    let save = ServerAction::<SaveGuacamole>::new();
    LockCtx::get().watch(move || save.value().get());
    let result = Signal::derive(move || save.value().get());
    let status = outcome(save.pending().into(), result, |_| "Guacamole settings saved.".into());
    view! {
        <section class="card section" aria-labelledby="guac-title">
            <h2 id="guac-title">"Remote desktop (Guacamole)"</h2>
            <ActionForm action=save attr:class="stack">
                <label class="check"><input type="checkbox" name="enabled" value="on" checked=enabled/>
                    <span>"Enable RDP and VNC through guacd"</span></label>
                <Field name="url" id="guac-url" label="guacd address" hint="host:port, for example guacd:4822" value=url required=true
                    error=field_error(result, "url")/>
                <StatusLine status=status/>
                <Submit label="Save" busy_label="Saving…" pending=save.pending()/>
            </ActionForm>
        </section>
    }
}
