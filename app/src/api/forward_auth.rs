//! Server functions of forward-auth: the step-up page and the access rules on the admin page.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the step-up page shows before it asks for a code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepUpView {
    /// Two-factor sign-in is on, so a code can be given.
    pub can_confirm: bool,
    /// A passkey can be used instead.
    pub has_passkey: bool,
}

#[server(prefix = "/rpc")]
pub async fn step_up_state() -> Result<StepUpView, AppError> {
    use crate::ssr::services::{forward_auth, identity::Gate};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let info = forward_auth::step_up_info(&state, &caller).await?;
    Ok(StepUpView { can_confirm: info.can_confirm, has_passkey: info.has_passkey })
}

/// The step-up page's form: a code opens `terminal` for 15 minutes (or, without one, counts as
/// this session's second factor), then back to `rd` when it is a URL a browser may return to.
#[server(prefix = "/rpc")]
pub async fn confirm_step_up(
    code: String,
    terminal: Option<String>,
    rd: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr::services::{forward_auth, identity::Gate, terminals::Proof};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let terminal = step_up_terminal(terminal.as_deref())?;
    forward_auth::step_up(&state, &caller, Proof::Code(code), terminal.as_ref()).await?;
    leptos_axum::redirect(&super::edge::back_to(&state, rd.as_deref()));
    Ok(())
}

/// The step-up page's terminal, when it names one.
#[cfg(feature = "ssr")]
pub(super) fn step_up_terminal(
    terminal: Option<&str>,
) -> Result<Option<crate::domain::ContainerId>, AppError> {
    terminal.filter(|t| !t.is_empty()).map(crate::domain::ContainerId::parse).transpose().map_err(Into::into)
}

/// One access rule as the admin page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessRule {
    pub id: String,
    pub host: String,
    pub path: String,
    pub policy: String,
    pub subjects: Vec<String>,
}

/// The stored rule `index` must still be `id` (the page may be out of date).
#[cfg(feature = "ssr")]
fn still(
    rows: &[crate::ssr::db::access_rules::AccessRuleRow],
    index: usize,
    id: &str,
) -> Result<(), AppError> {
    match rows.get(index) {
        Some(r) if r.id == id => Ok(()),
        _ => Err(AppError::bad_request("The rules changed meanwhile; reload the page.")),
    }
}

#[server(prefix = "/rpc")]
pub async fn access_rules() -> Result<Vec<AccessRule>, AppError> {
    let (state, admin) = super::edge::admin().await?;
    Ok(crate::ssr::services::access_rules::list(&admin, &state)
        .await?
        .into_iter()
        .map(|r| AccessRule { id: r.id, host: r.host, path: r.path, policy: r.policy, subjects: r.subjects })
        .collect())
}

/// Adds a rule after the others. `subjects` is comma-separated (`group:admins, user:alice`).
#[server(prefix = "/rpc")]
pub async fn add_access_rule(
    host: String,
    path: String,
    policy: String,
    subjects: String,
) -> Result<(), AppError> {
    use crate::ssr::services::access_rules::{self, Rule, RuleInput};
    let (state, admin) = super::edge::admin().await?;
    let subjects = subjects.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let rule = RuleInput { host, path, policy, subjects };
    // The new rule's errors name the form's fields, not its place in the list.
    Rule::parse(0, &rule).map_err(|e| {
        let field = e.field().and_then(|f| f.rsplit('.').next()).map(|f| format!("rule_{f}"));
        let text = e.to_string();
        let sentence = text.split_once(": ").map_or(text.as_str(), |(_, s)| s);
        let mut chars = sentence.chars();
        let sentence: String =
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
        match field {
            Some(f) => e.with_field(&f, sentence),
            None => e,
        }
    })?;
    access_rules::edit(&admin, &state, move |rules, _| {
        rules.push(rule);
        Ok(())
    })
    .await
    .map(|_| ())
}

/// Removes the rule `id` (the `index`-th as the page listed them).
#[server(prefix = "/rpc")]
pub async fn remove_access_rule(index: usize, id: String) -> Result<(), AppError> {
    let (state, admin) = super::edge::admin().await?;
    crate::ssr::services::access_rules::edit(&admin, &state, move |rules, rows| {
        still(rows, index, &id)?;
        rules.remove(index);
        Ok(())
    })
    .await
    .map(|_| ())
}

/// Moves the rule at `index` one place up (checked earlier) or down.
#[server(prefix = "/rpc")]
pub async fn move_access_rule(index: usize, id: String, up: bool) -> Result<(), AppError> {
    let (state, admin) = super::edge::admin().await?;
    crate::ssr::services::access_rules::edit(&admin, &state, move |rules, rows| {
        still(rows, index, &id)?;
        let other = if up { index.checked_sub(1) } else { Some(index + 1).filter(|i| *i < rules.len()) };
        if let Some(other) = other {
            rules.swap(index, other);
        }
        Ok(())
    })
    .await
    .map(|_| ())
}
