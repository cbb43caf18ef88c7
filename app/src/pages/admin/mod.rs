//! The admin area: one route per task, users first. Every route shares one frame: the
//! heading, the tabs, and (for a visitor who is not an administrator) one refusal.
mod access;
mod keys;
mod sessions;
mod settings;
mod sign_in;
mod users;

use crate::api::whoami;
use crate::components::{describe, AppFrame};
use crate::error::{AppError, ErrorKind};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The admin area's tasks, in the order the tabs show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminTab {
    Users,
    Sessions,
    ApiKeys,
    SignIn,
    Access,
    Settings,
    Audit,
}

impl AdminTab {
    pub const ALL: [Self; 7] =
        [Self::Users, Self::Sessions, Self::ApiKeys, Self::SignIn, Self::Access, Self::Settings, Self::Audit];

    pub fn path(self) -> &'static str {
        match self {
            Self::Users => "/admin",
            Self::Sessions => "/admin/sessions",
            Self::ApiKeys => "/admin/api-keys",
            Self::SignIn => "/admin/sign-in",
            Self::Access => "/admin/access",
            Self::Settings => "/admin/settings",
            Self::Audit => "/admin/audit",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Users => "Users",
            Self::Sessions => "Sessions",
            Self::ApiKeys => "API keys",
            Self::SignIn => "Sign-in methods",
            Self::Access => "Access rules",
            Self::Settings => "Instance settings",
            Self::Audit => "Audit log",
        }
    }

    /// The tab a path opens (`/admin` and anything unknown: users).
    pub fn at(path: &str) -> Self {
        let path = path.trim_end_matches('/');
        Self::ALL.into_iter().find(|t| t.path() == path).unwrap_or(Self::Users)
    }
}

/// The admin route: the tab the address names.
#[component]
pub fn AdminPage() -> impl IntoView {
    let tab = AdminTab::at(&use_location().pathname.get_untracked());
    view! {
        <AdminFrame tab=tab>
            {match tab {
                AdminTab::Users => view! { <users::UsersTab/> }.into_any(),
                AdminTab::Sessions => view! { <sessions::SessionsTab/> }.into_any(),
                AdminTab::ApiKeys => view! { <keys::ApiKeysSection/> }.into_any(),
                AdminTab::SignIn => view! { <sign_in::SignInTab/> }.into_any(),
                AdminTab::Access => view! { <access::AccessRulesSection/> }.into_any(),
                AdminTab::Settings | AdminTab::Audit => view! { <settings::SettingsTab/> }.into_any(),
            }}
        </AdminFrame>
    }
}

/// The frame of every admin route: heading, tabs, and the refusal for non-administrators
/// (whose sections then show nothing: each part's data answers `403`).
#[component]
pub fn AdminFrame(tab: AdminTab, children: ChildrenFn) -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <AppFrame>
            <h1>"Administration"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(m)) if m.is_admin => view! { <AdminNav current=tab/> }.into_any(),
                        _ => view! {
                            <p class="notice notice-error" role="alert">"Only administrators can see this page."</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            {children()}
        </AppFrame>
    }
}

#[component]
fn AdminNav(current: AdminTab) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Administration">
            {AdminTab::ALL.into_iter().map(|t| view! {
                <a href=t.path() aria-current=(t == current).then_some("page")>{t.label()}</a>
            }).collect_view()}
        </nav>
    }
}

/// A part of an admin route once its data is in: the part, nothing for a visitor who is not
/// an administrator (the frame says so once), or what went wrong.
fn part<T, V: IntoView + 'static>(data: Result<T, AppError>, show: impl FnOnce(T) -> V) -> AnyView {
    match data {
        Ok(d) => show(d).into_any(),
        Err(e) if e.is(ErrorKind::Forbidden) => ().into_any(),
        Err(e) => view! { <p class="notice notice-error" role="alert">{describe(&e)}</p> }.into_any(),
    }
}
