//! Sign-in methods: the password switches, the directory (LDAP) and single sign-on (OIDC).
use crate::api::{
    instance_settings, ldap_settings, oidc_settings, InstanceView, LdapView, OidcView, SaveLdapSettings,
    SaveOidcSettings, SaveSignInSettings,
};
use crate::components::{field_error, outcome, Field, StatusLine, Submit};
use crate::lock::LockCtx;
use leptos::prelude::*;

/// Password sign-in and accounts, the directory, single sign-on.
#[component]
pub(super) fn SignInTab() -> impl IntoView {
    let lock = LockCtx::get();
    let settings =
        Resource::new(move || lock.unlocks(), move |_| async move { lock.check(instance_settings().await) });
    let directory =
        Resource::new(move || lock.unlocks(), move |_| async move { lock.check(ldap_settings().await) });
    let sso =
        Resource::new(move || lock.unlocks(), move |_| async move { lock.check(oidc_settings().await) });
    // Each part waits for its own data; nothing is created inside another part's wait, so the
    // page hydrates the same way every time.
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move { super::part(settings.await, |s| view! { <PasswordSection s=s/> }) })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move { directory.await.ok().map(|d| view! { <LdapSection d=d/> }) })}
        </Suspense>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move { sso.await.ok().map(|o| view! { <OidcSection o=o/> }) })}
        </Suspense>
    }
}

#[component]
fn PasswordSection(s: InstanceView) -> impl IntoView {
    let save = ServerAction::<SaveSignInSettings>::new();
    LockCtx::get().watch(move || save.value().get());
    let result = Signal::derive(move || save.value().get());
    let status = outcome(save.pending().into(), result, |_| "Sign-in settings saved.".into());
    view! {
        <section class="card section" aria-labelledby="si-title">
            <h2 id="si-title">"Passwords and accounts"</h2>
            <ActionForm action=save attr:class="stack">
                <fieldset class="checks">
                    <legend class="visually-hidden">"Sign-in options"</legend>
                    <label class="check"><input type="checkbox" name="registration" value="on" checked=s.registration/>
                        <span>"Anyone can create an account "<span class="muted">"(off: only administrators add people, under Users)"</span></span></label>
                    <label class="check"><input type="checkbox" name="password_login" value="on" checked=s.password_login/>
                        <span>"Password sign-in"</span></label>
                    <label class="check"><input type="checkbox" name="password_reset" value="on" checked=s.password_reset/>
                        <span>"Password reset with a code from the server log"</span></label>
                </fieldset>
                <StatusLine status=status/>
                <Submit label="Save sign-in settings" busy_label="Saving…" pending=save.pending()/>
            </ActionForm>
        </section>
    }
}

#[component]
fn LdapSection(d: LdapView) -> impl IntoView {
    let save = ServerAction::<SaveLdapSettings>::new();
    LockCtx::get().watch(move || save.value().get());
    let result = Signal::derive(move || save.value().get());
    let status = outcome(save.pending().into(), result, |m: &String| m.clone());
    let password_hint = if d.has_bind_password {
        "Leave empty to keep the stored password."
    } else {
        "Stored encrypted; never shown again."
    };
    view! {
        <section class="card section" aria-labelledby="ldap-title">
            <h2 id="ldap-title">"Directory (LDAP)"</h2>
            <p class="muted">"People sign in with their directory name and password; an account is made for them at their first sign-in. The service account only searches."</p>
            <ActionForm action=save attr:class="stack narrow" attr:novalidate=true>
                <label class="check"><input type="checkbox" name="enabled" value="on" checked=d.enabled/>
                    <span>"Allow sign-in with directory accounts"</span></label>
                <Field name="url" id="ldap-url" label="Directory URL" hint="ldap://host:389 or ldaps://host:636" value=d.url required=true
                    error=field_error(result, "url")/>
                <Field name="bind_dn" label="Service account DN" hint="For example cn=reader,dc=example,dc=org" value=d.bind_dn required=true
                    error=field_error(result, "bind_dn")/>
                <Field name="bind_password" label="Service account password" kind="password" autocomplete="new-password" hint=password_hint
                    error=field_error(result, "bind_password")/>
                <Field name="search_base" label="Search base" hint="Where people are, for example ou=people,dc=example,dc=org" value=d.search_base
                    required=true error=field_error(result, "search_base")/>
                <div class="two-col">
                    <Field name="user_attribute" label="Username attribute" hint="uid, or sAMAccountName for Active Directory" value=d.user_attribute
                        error=field_error(result, "user_attribute")/>
                    <Field name="display_name_attribute" label="Display name attribute" value=d.display_name_attribute
                        error=field_error(result, "display_name_attribute")/>
                </div>
                <StatusLine status=status/>
                <div class="row">
                    <Submit label="Save directory settings" busy_label="Working…" pending=save.pending()/>
                    <button type="submit" name="test" value="1" class="btn btn-ghost" disabled=move || save.pending().get()>"Test connection"</button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn OidcSection(o: OidcView) -> impl IntoView {
    let save = ServerAction::<SaveOidcSettings>::new();
    LockCtx::get().watch(move || save.value().get());
    let result = Signal::derive(move || save.value().get());
    let status = outcome(save.pending().into(), result, |m: &String| m.clone());
    let secret_hint =
        if o.has_client_secret { "Leave empty to keep the stored secret." } else { "Stored encrypted." };
    view! {
        <section class="card section" aria-labelledby="oidc-title">
            <div class="section-head">
                <h2 id="oidc-title">"Single sign-on (OpenID Connect)"</h2>
                <span class=if o.configured { "badge badge-ok" } else { "badge" }>{if o.configured { "On" } else { "Off" }}</span>
            </div>
            <p class="muted">"Register Portcullis with your provider using this redirect URI: " <code>{o.redirect_uri.clone()}</code></p>
            <ActionForm action=save attr:class="stack narrow" attr:novalidate=true>
                <Field name="client_id" id="oidc-client-id" label="Client ID" value=o.client_id error=field_error(result, "client_id")/>
                <Field name="client_secret" id="oidc-client-secret" label="Client secret" kind="password" autocomplete="new-password"
                    hint=secret_hint error=field_error(result, "client_secret")/>
                <Field name="issuer_url" label="Issuer URL" hint="For example https://auth.example.org" value=o.issuer_url error=field_error(result, "issuer_url")/>
                <Field name="authorization_url" label="Authorization URL" value=o.authorization_url error=field_error(result, "authorization_url")/>
                <Field name="token_url" label="Token URL" value=o.token_url error=field_error(result, "token_url")/>
                <Field name="userinfo_url" label="Userinfo URL (optional)" hint="Found through discovery when empty." value=o.userinfo_url
                    error=field_error(result, "userinfo_url")/>
                <div class="two-col">
                    <Field name="identifier_path" label="Identifier claim" value=o.identifier_path error=field_error(result, "identifier_path")/>
                    <Field name="name_path" label="Display name claim" value=o.name_path error=field_error(result, "name_path")/>
                </div>
                <Field name="scopes" label="Scopes" value=o.scopes error=field_error(result, "scopes")/>
                <Field name="allowed_users" label="Allowed users (optional)" hint="Comma-separated identifiers or @domains; empty allows everyone the provider signs in."
                    value=o.allowed_users error=field_error(result, "allowed_users")/>
                <StatusLine status=status/>
                <div class="row">
                    <Submit label="Save single sign-on" busy_label="Saving…" pending=save.pending()/>
                    {o.configured.then(|| view! {
                        <button type="submit" name="remove" value="1" class="btn btn-danger" disabled=move || save.pending().get()>"Turn off"</button>
                    })}
                </div>
            </ActionForm>
        </section>
    }
}
