//! Accounts: first-run setup, registration, the password's life (change, replace) and
//! deleting one's own account.
use super::audit::{self, Event};
use super::identity::{Account, AdminUser, Caller, ClientMeta, SignedIn};
use super::passwords;
use super::rate_limit::{self, Limit};
use super::sessions;
use super::settings::{self, Toggle};
use crate::audit::EventType;
use crate::domain::{DisplayName, Password, Username};
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{
    self,
    users::{Admission, NewUser},
};
use crate::ssr::keys::new_id;
use crate::ssr::AppState;

pub async fn needs_setup(state: &AppState) -> Result<bool, AppError> {
    use std::sync::atomic::Ordering;
    if state.set_up.load(Ordering::Relaxed) {
        return Ok(false);
    }
    let exists = db::users::any_exist(&state.pool).await?;
    if exists {
        state.set_up.store(true, Ordering::Relaxed);
    }
    Ok(!exists)
}

pub async fn find_account(state: &AppState, user_id: &str) -> Result<Account, AppError> {
    db::users::find_by_id(&state.pool, user_id)
        .await?
        .map(Account::from)
        .ok_or_else(|| AppError::of(ErrorKind::UserNotFound, "No such user."))
}

/// A new account's name and first password, both checked before either is refused, so a form
/// hears about every wrong field at once.
fn name_and_password(username: &str, password: &str) -> Result<Username, AppError> {
    let name = Username::parse(username);
    let password = Password::parse_for("password", password.to_owned()).map(drop);
    match (name, password) {
        (Ok(name), Ok(())) => Ok(name),
        (name, password) => {
            Err(AppError::all([name.err(), password.err()].into_iter().flatten().map(AppError::from))
                .unwrap_or_else(|| AppError::bug("a refused account form names no error")))
        }
    }
}

async fn new_password_hash(
    field: &'static str,
    username: &Username,
    display: &str,
    raw: String,
) -> Result<String, AppError> {
    let password = Password::parse_for(field, raw)?;
    passwords::check_strength(field, &password, &[username.as_ref(), display]).await?;
    passwords::hash(&password).await
}

/// Creates the first administrator and signs them in. Refused once any user exists.
#[tracing::instrument(skip_all)]
pub async fn set_up_instance(
    state: &AppState,
    username: &str,
    password: String,
    display_name: &str,
    policy: settings::StartingPolicy,
    client: &ClientMeta,
) -> Result<SignedIn, AppError> {
    let already =
        || AppError::of(ErrorKind::AlreadySetUp, "This instance is already set up; sign in instead.");
    if !needs_setup(state).await? {
        return Err(already());
    }
    let username = name_and_password(username, &password)?;
    let display = DisplayName::parse(display_name, &username)?;
    let hash = new_password_hash("password", &username, display.as_ref(), password).await?;
    let id = new_id();
    let key = username.key();
    let user = NewUser {
        id: &id,
        username: username.as_ref(),
        username_key: &key,
        display_name: display.as_ref(),
        password_hash: Some(&hash),
        ldap_dn: None,
        oidc: None,
        now: state.now(),
    };
    // The emptiness check is repeated inside the INSERT: of two racing setups only one wins.
    let mut change = audit::Change::begin(state).await?;
    db::users::insert(change.tx(), &user, Admission::OnlyFirst).await?.ok_or_else(already)?;
    settings::apply_at_setup(change.tx(), policy).await?;
    change.record(audit::registered(&id, username.as_ref(), "setup", true)).await?;
    change.commit().await?;
    tracing::info!(username = %username.as_ref(), ?policy, "instance set up; first administrator created");
    let account = find_account(state, &id).await?;
    let event = Event::new(EventType::SetupCompleted)
        .detail("method", "password")
        .detail("open_registration", policy.open_registration)
        .detail("password_reset", policy.password_reset);
    sessions::start_session(state, account, client, false, event).await
}

/// Registers a user; the first one becomes admin (and may register even with registration off).
/// Answers whether the new user is an admin.
#[tracing::instrument(skip_all)]
///
/// Registration hashes for anyone who asks, so it is limited: 20 per hour per client network.
pub async fn register(
    state: &AppState,
    username: &str,
    password: String,
    ip: &str,
) -> Result<bool, AppError> {
    let first = needs_setup(state).await?;
    if !first && !settings::toggle(state, Toggle::Registration).await? {
        return Err(AppError::of(
            ErrorKind::RegistrationDisabled,
            "Registration is turned off on this instance.",
        ));
    }
    let username = name_and_password(username, &password)?;
    rate_limit::take(state, &Limit::new("register-ip", &rate_limit::client_network(ip), 20, 3600)).await?;
    let (_, is_admin) =
        add_password_account(state, &username, None, password, Admission::AdminIfFirst, None).await?;
    Ok(is_admin)
}

/// An administrator creates an account (registration may be off): a user, or another
/// administrator. Answers the new account's id.
#[tracing::instrument(skip_all)]
pub async fn create_account(
    admin: &AdminUser,
    state: &AppState,
    username: &str,
    display_name: &str,
    password: String,
    make_admin: bool,
) -> Result<String, AppError> {
    // A new account is a new way in: the admin must have signed in (or typed the password
    // again) in the last ten minutes, as for a role change.
    admin.caller().require_recent_authentication(state.now())?;
    let username = name_and_password(username, &password)?;
    let display = DisplayName::parse(display_name, &username)?;
    let admission = if make_admin { Admission::Admin } else { Admission::User };
    let (id, _) =
        add_password_account(state, &username, Some(&display), password, admission, Some(admin)).await?;
    Ok(id)
}

/// Inserts a password account (username not yet taken, password strong enough) and records
/// it; answers its id and whether it is an admin.
async fn add_password_account(
    state: &AppState,
    username: &Username,
    display: Option<&DisplayName>,
    password: String,
    admission: Admission,
    by: Option<&AdminUser>,
) -> Result<(String, bool), AppError> {
    let key = username.key();
    let taken = || {
        AppError::of(ErrorKind::UsernameTaken, "That username is taken.")
            .with_field("username", "That username is taken.")
    };
    if db::users::find_by_key(&state.pool, &key).await?.is_some() {
        return Err(taken());
    }
    let display = display.map_or(username.as_ref(), |d| d.as_ref());
    let hash = new_password_hash("password", username, display, password).await?;
    let id = new_id();
    let user = NewUser {
        id: &id,
        username: username.as_ref(),
        username_key: &key,
        display_name: display,
        password_hash: Some(&hash),
        ldap_dn: None,
        oidc: None,
        now: state.now(),
    };
    let mut change = audit::Change::begin(state).await?;
    match db::users::insert(change.tx(), &user, admission).await {
        Ok(is_admin) => {
            let is_admin = is_admin.unwrap_or(false);
            let event = audit::registered(&id, username.as_ref(), "password", is_admin);
            change
                .record(match by {
                    Some(admin) => event.by_admin(admin),
                    None => event,
                })
                .await?;
            change.commit().await?;
            tracing::info!(username = %username.as_ref(), is_admin, by_admin = by.is_some(), "account created");
            Ok((id, is_admin))
        }
        Err(e) if db::is_unique_violation(&e) => Err(taken()),
        Err(e) => Err(e.into()),
    }
}

pub async fn count_users(_admin: &AdminUser, state: &AppState) -> Result<i64, AppError> {
    Ok(db::users::count(&state.pool).await?)
}

/// Changes the caller's password. Every session of the user ends (this one too), every token
/// issued before now stops working, trusted devices are forgotten and an open reset is voided.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    state: &AppState,
    caller: &Caller,
    old_password: String,
    new_password: String,
) -> Result<(), AppError> {
    if new_password.is_empty() {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("newPassword"),
            "Enter a new password.",
        ));
    }
    let result = change_own_password(state, caller, old_password, new_password).await;
    audit::on_failure(state, result, |e| Event::new(EventType::PasswordChanged).by(caller).failed(e)).await
}

async fn change_own_password(
    state: &AppState,
    caller: &Caller,
    old_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let user = db::users::find_by_id(&state.pool, &caller.user_id)
        .await?
        .ok_or(AppError::from(ErrorKind::Unauthenticated))?;
    passwords::confirm(state, &user, &caller.reauth_source(), "oldPassword", old_password.clone()).await?;
    let username =
        Username::parse(&user.username).map_err(|_| AppError::bug("a stored username no longer parses"))?;
    let hash = new_password_hash("newPassword", &username, &user.display_name, new_password.clone()).await?;
    // A vault created by another request between the look and the write: wrap that one too.
    let mut tries = 0;
    loop {
        let vault = super::vault::rewrap(state, &user.id, &old_password, &new_password).await?;
        let event = Event::new(EventType::PasswordChanged).by(caller);
        if replace_password(state, &user.id, &hash, vault, event).await? {
            break;
        }
        tries += 1;
        if tries == 3 {
            return Err(AppError::of(ErrorKind::Unavailable, "Your vault changed meanwhile. Try again."));
        }
    }
    tracing::info!(user = %user.id, "password changed; every session ended");
    Ok(())
}

/// Stores a new password hash (with what it does to the vault) and cuts off everything the
/// old one let in. False when a vault appeared meanwhile and `Keep` no longer holds.
pub(crate) async fn replace_password(
    state: &AppState,
    user_id: &str,
    hash: &str,
    vault: db::vault::VaultChange,
    event: Event,
) -> Result<bool, AppError> {
    let now = state.now();
    let mut change = audit::Change::begin(state).await?;
    if !db::vault::set_password(change.tx(), user_id, hash, now, vault).await? {
        return Ok(false);
    }
    db::sessions::drop_vault_keys_of_user(change.tx(), user_id).await?;
    let ended = db::sessions::revoke_all_for_user(change.tx(), user_id, None, now).await?;
    db::totp::forget_trusted_devices(change.tx(), user_id).await?;
    db::password_resets::delete(change.tx(), user_id).await?;
    change.record(event.detail("sessions_ended", ended)).await?;
    change.commit().await?;
    Ok(true)
}

/// Whether the caller is the one administrator left (and so cannot delete their account).
pub async fn is_last_admin(state: &AppState, caller: &Caller) -> Result<bool, AppError> {
    Ok(caller.is_admin && db::users::other_admins(&state.pool, &caller.user_id).await? == 0)
}

/// Deletes the caller's own account after the password is confirmed. Accounts without a
/// password (single sign-on only) and the last admin cannot.
#[tracing::instrument(skip_all)]
pub async fn delete_own_account(state: &AppState, caller: &Caller, password: String) -> Result<(), AppError> {
    let result = delete_after_confirming(state, caller, password).await;
    audit::on_failure(state, result, |e| Event::new(EventType::AccountDeleted).by(caller).failed(e)).await
}

async fn delete_after_confirming(
    state: &AppState,
    caller: &Caller,
    password: String,
) -> Result<(), AppError> {
    let user = db::users::find_by_id(&state.pool, &caller.user_id)
        .await?
        .ok_or(AppError::from(ErrorKind::Unauthenticated))?;
    passwords::confirm(state, &user, &caller.reauth_source(), "password", password).await?;
    let mut change = audit::Change::begin(state).await?;
    if !db::users::delete(change.tx(), &user.id).await? {
        return Err(AppError::of(
            ErrorKind::LastAdmin,
            "You are the last admin: make someone else admin first.",
        ));
    }
    change.record(Event::new(EventType::AccountDeleted).by(caller).target("user", &user.id)).await?;
    change.commit().await?;
    tracing::info!(user = %user.id, "account deleted by its owner");
    Ok(())
}
