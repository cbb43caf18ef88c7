//! Access rules: which signed-in people forward-auth lets through to which app.
use crate::api::{access_rules, AccessRule, AddAccessRule, MoveAccessRule, RemoveAccessRule};
use crate::components::{describe, empty_form_when, field_error, outcome, Field, StatusLine, Submit};
use crate::error::ErrorKind;
use crate::lock::LockCtx;
use leptos::prelude::*;

/// How each policy reads on the page.
const POLICIES: [(&str, &str); 5] = [
    ("one_factor", "Signed in (one_factor)"),
    ("two_factor", "Signed in with a second factor (two_factor)"),
    ("step_up", "A fresh code for each terminal (step_up)"),
    ("bypass", "Open to anyone (bypass)"),
    ("deny", "Refused (deny)"),
];

#[component]
pub(super) fn AccessRulesSection() -> impl IntoView {
    let add = ServerAction::<AddAccessRule>::new();
    let remove = ServerAction::<RemoveAccessRule>::new();
    let reorder = ServerAction::<MoveAccessRule>::new();
    let lock = LockCtx::get();
    lock.watch(move || add.value().get());
    lock.watch(move || remove.value().get());
    lock.watch(move || reorder.value().get());
    let rules = Resource::new(
        move || (add.version().get(), remove.version().get(), reorder.version().get(), lock.unlocks()),
        move |_| async move { lock.check(access_rules().await) },
    );
    let added = Signal::derive(move || add.value().get());
    let add_status =
        outcome(add.pending().into(), added, |_| "Rule added. It applies from the next request.".into());
    let removed = outcome(remove.pending().into(), Signal::derive(move || remove.value().get()), |_| {
        "Rule removed. It stopped applying at once.".into()
    });
    let moved = outcome(reorder.pending().into(), Signal::derive(move || reorder.value().get()), |_| {
        "Order saved.".into()
    });
    // One notice at a time: an action that starts clears what the others said; an added rule
    // empties the form for the next one.
    Effect::new(move |_| {
        if add.pending().get() {
            remove.clear();
            reorder.clear();
        }
    });
    Effect::new(move |_| {
        // A refused rule keeps its form open with its errors; only "Rule added" gives way.
        if (remove.pending().get() || reorder.pending().get())
            && matches!(add.value().get_untracked(), Some(Ok(_)))
        {
            add.clear();
        }
    });
    Effect::new(move |_| {
        if remove.pending().get() {
            reorder.clear();
        }
        if reorder.pending().get() {
            remove.clear();
        }
    });
    let form = NodeRef::<leptos::html::Form>::new();
    empty_form_when(form, move || matches!(added.get(), Some(Ok(_))));
    view! {
        <section class="card section" aria-labelledby="rules-title" data-testid="access-rules"
            hidden=move || matches!(rules.get(), Some(Err(e)) if e.is(ErrorKind::Forbidden))>
            <h2 id="rules-title">"Forward-auth access rules"</h2>
            <p class="muted">"What a reverse proxy in front of your terminals lets through. Rules are checked from the top; the first whose host and path match decides. With no rules, every signed-in session passes; once there is one, a request no rule matches is refused."</p>
            <StatusLine status=add_status/>
            <StatusLine status=removed/>
            <StatusLine status=moved/>
            <Transition fallback=|| view! { <p class="muted">"Loading rules…"</p> }>
                {move || Suspend::new(async move {
                    match rules.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted" data-testid="no-rules">"No rules yet."</p>
                        }.into_any(),
                        Ok(list) => {
                            let last = list.len() - 1;
                            view! {
                                <ol class="rows" data-testid="rule-list">
                                    {list.into_iter().enumerate().map(|(n, r)| view! {
                                        <RuleRow n=n last=last r=r remove=remove reorder=reorder/>
                                    }).collect_view()}
                                </ol>
                            }.into_any()
                        }
                        Err(e) if e.is(ErrorKind::Forbidden) => ().into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <details class="confirm" open=move || matches!(added.get(), Some(Err(_)))>
                <summary class="btn btn-primary">"Add a rule…"</summary>
                <ActionForm action=add node_ref=form attr:class="stack narrow" attr:novalidate=true>
                    <Field name="host" id="rule-host" label="Host" hint="term.example.com, *.example.com, or empty for any host."
                        maxlength="253" autocomplete="off" error=field_error(added, "rule_host")/>
                    <Field name="path" id="rule-path" label="Path" hint="/terminal/{id} names a terminal (step_up); /public/* takes everything under it; empty for any path."
                        maxlength="512" autocomplete="off" error=field_error(added, "rule_path")/>
                    <div class="field">
                        <label for="rule-policy">"Needs"</label>
                        <select id="rule-policy" name="policy" class="select">
                            {POLICIES.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
                        </select>
                    </div>
                    <Field name="subjects" id="rule-subjects" label="Only for (optional)" hint="group:admins, user:alice … comma-separated. Empty: everyone."
                        maxlength="2000" autocomplete="off" error=field_error(added, "rule_subjects")/>
                    <Submit label="Add rule" busy_label="Adding…" pending=add.pending()/>
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn RuleRow(
    n: usize,
    last: usize,
    r: AccessRule,
    remove: ServerAction<RemoveAccessRule>,
    reorder: ServerAction<MoveAccessRule>,
) -> impl IntoView {
    let host = if r.host.is_empty() { "any host".to_owned() } else { r.host.clone() };
    let path = if r.path.is_empty() { "any path".to_owned() } else { r.path.clone() };
    let needs =
        POLICIES.iter().find(|(v, _)| *v == r.policy).map_or(r.policy.as_str(), |(_, l)| l).to_owned();
    let who = if r.subjects.is_empty() { "everyone".to_owned() } else { r.subjects.join(", ") };
    let label = format!("rule {} ({host} {path})", n + 1);
    let (up_label, down_label, rm_label) =
        (format!("Move {label} up"), format!("Move {label} down"), format!("Remove {label}"));
    let busy = move || remove.pending().get() || reorder.pending().get();
    let (id_up, id_down, id_rm) = (r.id.clone(), r.id.clone(), r.id.clone());
    view! {
        <li class="row-item" data-testid="rule-row">
            <div class="row-main">
                <p class="row-title"><span class="muted">{format!("{}. ", n + 1)}</span><code>{host}</code>" "<code>{path}</code></p>
                <p class="muted small">{format!("{needs} · for {who}")}</p>
            </div>
            <div class="row">
                <ActionForm action=reorder>
                    <input type="hidden" name="index" value=n.to_string()/>
                    <input type="hidden" name="id" value=id_up/>
                    <input type="hidden" name="up" value="true"/>
                    <button type="submit" class="btn btn-ghost" aria-label=up_label disabled=move || n == 0 || busy()>"Up"</button>
                </ActionForm>
                <ActionForm action=reorder>
                    <input type="hidden" name="index" value=n.to_string()/>
                    <input type="hidden" name="id" value=id_down/>
                    <input type="hidden" name="up" value="false"/>
                    <button type="submit" class="btn btn-ghost" aria-label=down_label disabled=move || n == last || busy()>"Down"</button>
                </ActionForm>
                <ActionForm action=remove>
                    <input type="hidden" name="index" value=n.to_string()/>
                    <input type="hidden" name="id" value=id_rm/>
                    <button type="submit" class="btn btn-danger" aria-label=rm_label disabled=busy>"Remove"</button>
                </ActionForm>
            </div>
        </li>
    }
}
