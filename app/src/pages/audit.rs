//! The audit log (admin): who did what, when, from where; filtered by the address bar's query
//! (a plain GET form, so it works before the WASM loads), paged, and exported.
use crate::api::{audit_page, AuditFilters, AuditRowView};
use crate::audit::EventType;
use crate::components::{describe, Field, Pager, Paging};
use crate::error::ErrorKind;
use crate::lock::LockCtx;
use crate::pages::{AdminFrame, AdminTab};
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let lock = LockCtx::get();
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        AuditFilters {
            user: get("user"),
            kind: get("type"),
            outcome: get("outcome"),
            ip: get("ip"),
            since: get("since"),
            until: get("until"),
        }
    });
    let paging = Paging::new();
    // New filters start from the first page.
    Effect::new(move |prev: Option<AuditFilters>| {
        let now = filters.get();
        if prev.is_some_and(|p| p != now) {
            paging.reset();
        }
        now
    });
    let events = Resource::new(
        move || (filters.get(), paging.cursor(), lock.unlocks()),
        move |(f, cursor, _)| async move { lock.check(audit_page(f, cursor).await) },
    );
    let error = move |field: &'static str| {
        Signal::derive(move || match events.get() {
            Some(Err(e)) if e.field() == Some(field) => Some(e.to_string()),
            _ => None,
        })
    };
    let export = move |format: &str| {
        let q = filters.get().query();
        if q.is_empty() {
            format!("/api/admin/audit/export?format={format}")
        } else {
            format!("/api/admin/audit/export?format={format}&{q}")
        }
    };
    view! {
        <AdminFrame tab=AdminTab::Audit>
            <div class="page-head">
                <div>
                    <h2>"Events"</h2>
                    <p class="lead">"Every sign-in, lock and change, with who did it, from where, and how it ended."</p>
                </div>
                <div class="row">
                    <a class="btn btn-ghost" href=move || export("csv") download="portcullis-audit.csv" data-testid="export-csv">"Export CSV"</a>
                    <a class="btn btn-ghost" href=move || export("ndjson") download="portcullis-audit.ndjson" data-testid="export-ndjson">"Export NDJSON"</a>
                </div>
            </div>
            <FilterForm f=filters.get_untracked() since_error=error("since") until_error=error("until")/>
            <Transition fallback=|| view! { <p class="muted" role="status">"Loading events…"</p> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Ok(page) if page.events.is_empty() => view! {
                            <p class="notice" role="status" data-testid="audit-empty">"No events match these filters."</p>
                        }.into_any(),
                        Ok(page) => {
                            let next = page.next_cursor.clone();
                            view! {
                                <section class="card section">
                                    <ul class="rows" data-testid="audit-events">
                                        {page.events.into_iter().map(|e| view! { <EventItem e=e/> }).collect_view()}
                                    </ul>
                                    <Pager paging=paging next=next label="Event pages"/>
                                </section>
                            }.into_any()
                        }
                        // The frame says it once.
                        Err(e) if e.is(ErrorKind::Forbidden) => ().into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AdminFrame>
    }
}

/// The filters as a plain GET form: the address bar holds them, so a filtered view can be
/// bookmarked and works before the WASM loads.
#[component]
fn FilterForm(
    f: AuditFilters,
    since_error: Signal<Option<String>>,
    until_error: Signal<Option<String>>,
) -> impl IntoView {
    let none = Signal::derive(|| None::<String>);
    view! {
    <section class="card section" aria-labelledby="audit-filters">
        <h2 id="audit-filters" class="visually-hidden">"Filters"</h2>
        <Form method="GET" action="/admin/audit">
            <div class="filters">
                <Field name="user" label="User" hint="A name or id" value=f.user.clone() error=none/>
                <div class="field">
                    <label for="f-type">"Event"</label>
                    <select id="f-type" name="type">
                        <option value="" selected=f.kind.is_empty()>"Any event"</option>
                        {EventType::ALL.iter().map(|t| {
                            let wire = t.as_str();
                            view! { <option value=wire selected=f.kind == wire>{wire.replace('_', " ")}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="f-outcome">"Outcome"</label>
                    <select id="f-outcome" name="outcome">
                        <option value="" selected=f.outcome.is_empty()>"Any outcome"</option>
                        {["success", "failure", "refused"].into_iter().map(|o| view! {
                            <option value=o selected=f.outcome == o>{o}</option>
                        }).collect_view()}
                    </select>
                </div>
                <Field name="ip" label="Address" hint="The client's IP" value=f.ip.clone() error=none/>
                <Field name="since" label="From" kind="date" value=f.since.clone() error=since_error/>
                <Field name="until" label="To" kind="date" value=f.until.clone() error=until_error/>
            </div>
            <div class="row">
                <button type="submit" class="btn btn-primary">"Apply filters"</button>
                <a class="btn btn-ghost" href="/admin/audit">"Clear"</a>
            </div>
        </Form>
    </section>
    }
}

/// One event: the sentence, when, the device, and how it ended.
#[component]
pub fn EventItem(e: AuditRowView) -> impl IntoView {
    let (badge, label) = match e.outcome.as_str() {
        "success" => ("badge badge-ok", "Success".to_string()),
        "refused" => ("badge badge-danger", "Refused".to_string()),
        _ => (
            "badge badge-danger",
            format!("Failed: {}", e.code.clone().unwrap_or_default().replace('_', " ")),
        ),
    };
    view! {
        <li class="row-item" data-testid="audit-event" data-type=e.kind.clone() data-outcome=e.outcome.clone()>
            <div class="row-main">
                <p class="row-title">
                    {e.sentence.clone()}
                    <span class=badge>{label}</span>
                    {e.new_device.then(|| view! { <span class="badge badge-warn" data-testid="new-device">"New device"</span> })}
                    {e.new_address.then(|| view! { <span class="badge badge-warn" data-testid="new-address">"New address"</span> })}
                </p>
                <p class="muted small">
                    <time datetime=e.at.clone()>{e.when.clone()}</time>
                    " · " {e.device.clone()}
                </p>
            </div>
        </li>
    }
}
