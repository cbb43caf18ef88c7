//! Password sign-in.
use crate::api::{
    ldap_sign_in_open, passkey_sign_in_open, password_reset_open, registration_open, sso_open, SignIn,
};
use crate::components::{field_error, form_error, AuthCard, Field, FormStatus, PasskeyBox, Submit};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let result = Signal::derive(move || action.value().get());
    let open = Resource::new(|| (), |_| registration_open());
    let reset_open = Resource::new(|| (), |_| password_reset_open());
    let ldap_open = Resource::new(|| (), |_| ldap_sign_in_open());
    let sso = Resource::new(|| (), |_| sso_open());
    let passkeys = Resource::new(|| (), |_| passkey_sign_in_open());
    let query = use_query_map();
    // A single sign-on that failed comes back here with the reason.
    let sso_error = move || {
        let q = query.read();
        q.get("error").or_else(|| q.get("sso_error")).filter(|m| !m.is_empty())
    };
    // What the previous page finished, said once here.
    let notice = move || {
        let q = query.read();
        [
            ("registered", "Account created. Sign in with it now."),
            (
                "password_changed",
                "Password changed and every session signed out. Sign in with your new password.",
            ),
            ("password_reset", "Password reset. Sign in with your new password."),
            ("account_deleted", "Your account has been deleted."),
            ("signed_out", "You have signed out."),
        ]
        .into_iter()
        .find(|(k, _)| q.get(k).is_some())
        .map(|(_, m)| m)
    };
    // The name of an account just registered: filled in, and the password comes next. Only
    // after registering, and only a name that could be one (a link cannot prefill anything else).
    let known = {
        let q = query.read_untracked();
        q.get("registered")
            .and(q.get("username"))
            .filter(|u| crate::domain::Username::parse(u).is_ok_and(|n| n.as_ref() == u.as_str()))
    };
    let typing_password = known.is_some();
    view! {
        <AuthCard title="Sign in" lead="Sign in to reach your terminals.">
            <p class="notice notice-ok" role="status" hidden=move || notice().is_none()>{move || notice().unwrap_or_default()}</p>
            <p class="notice notice-error" role="alert" hidden=move || sso_error().is_none() data-testid="sso-error">{move || sso_error().unwrap_or_default()}</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    sso.await.unwrap_or(false).then(|| view! {
                        <a class="btn btn-ghost btn-block" rel="external" href=move || {
                            // The way back (forward-auth's `rd`) goes along to the provider and back.
                            match query.read().get("rd").filter(|r| !r.is_empty()) {
                                Some(rd) => format!("/api/users/oidc/login?rd={}", crate::api::encode_query(&rd)),
                                None => "/api/users/oidc/login".to_owned(),
                            }
                        }>"Sign in with SSO"</a>
                        <p class="divider"><span>"or"</span></p>
                    })
                })}
            </Suspense>
            <ActionForm action=action attr:class="stack" attr:novalidate=true>
                // `webauthn`: the browser's autofill may offer this site's passkeys here.
                <Field name="username" label="Username" autocomplete="username webauthn" required=true autofocus=!typing_password
                    value=known.unwrap_or_default() error=field_error(result, "username")/>
                <Field name="password" label="Password" kind="password" autocomplete="current-password" required=true
                    autofocus=typing_password error=field_error(result, "password")/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        ldap_open.await.unwrap_or(false).then(|| view! {
                            <fieldset class="methods">
                                <legend>"Account"</legend>
                                <label class="check"><input type="radio" name="method" value="local" checked=true/><span>"Portcullis account"</span></label>
                                <label class="check"><input type="radio" name="method" value="ldap"/><span>"Directory (LDAP) account"</span></label>
                            </fieldset>
                        })
                    })}
                </Suspense>
                <label class="check">
                    <input type="checkbox" name="remember" value="on"/>
                    <span>"Keep me signed in for 30 days"</span>
                </label>
                // Where forward-auth sent this browser from: it goes back there once signed in.
                {move || query.read().get("rd").filter(|r| !r.is_empty()).map(|rd| view! {
                    <input type="hidden" name="rd" value=rd/>
                })}
                <FormStatus error=form_error(result)/>
                <Submit label="Sign in" busy_label="Signing in…" pending=action.pending()/>
            </ActionForm>
            // Passkeys need the browser's WebAuthn: `enhance.js` runs this box, which shows only
            // where the browser can.
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    passkeys.await.unwrap_or(false).then(|| view! {
                        <PasskeyBox action="sign-in" label="Sign in with a passkey" busy="Signing in…" divider=true/>
                    })
                })}
            </Suspense>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let register = open.await.unwrap_or(false);
                    let reset = reset_open.await.unwrap_or(false);
                    view! {
                        {reset.then(|| view! { <p class="switch"><a href="/reset">"Forgot your password?"</a></p> })}
                        {register.then(|| view! { <p class="switch">"New here? " <a href="/register">"Create an account"</a></p> })}
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}
