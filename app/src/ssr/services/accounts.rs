//! Accounts: first-run setup, registration and password sign-in.
use super::auth::Caller;
use super::passwords;
use super::rate_limit::{self, Limit};
use super::sessions::{self, ClientMeta, SignedIn};
use super::settings::{self, Toggle};
use crate::domain::{DisplayName, LoginPassword, Password, Username};
use crate::error::AppError;
use crate::ssr::db::{self, users::{Admission, NewUser, UserRow}};
use crate::ssr::keys::new_id;
use crate::ssr::AppState;

/// A user as the services hand it around (no secrets).
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub is_oidc: bool,
    pub has_password: bool,
    pub totp_enabled: bool,
}

impl From<UserRow> for Account {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            is_admin: u.is_admin,
            is_oidc: u.is_oidc,
            has_password: u.password_hash.is_some(),
            totp_enabled: u.totp_enabled,
        }
    }
}

/// What a password sign-in ends in.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    SignedIn(SignedIn),
    /// The password was right; a second factor is owed. `mfa_token` is MFA-pending only.
    MfaRequired { mfa_token: String },
}

/// What a password sign-in is given besides the credentials.
pub struct SignInContext<'a> {
    pub remember: bool,
    pub client: &'a ClientMeta,
    /// This browser's trusted-device cookie, if any.
    pub trusted_device: Option<&'a str>,
    /// Lifetime of the MFA-pending token: [`super::totp::MFA_TTL_AUTH_API`] or
    /// [`super::totp::MFA_TTL_USERS_API`], as the route's document gives.
    pub mfa_ttl: i64,
}

pub async fn needs_setup(state: &AppState) -> Result<bool, AppError> {
    Ok(!db::users::any_exist(&state.pool).await?)
}

pub async fn find_account(state: &AppState, user_id: &str) -> Result<Account, AppError> {
    db::users::find_by_id(&state.pool, user_id)
        .await?
        .map(Account::from)
        .ok_or_else(|| AppError::not_found("user_not_found", "No such user."))
}

async fn new_password_hash(field: &'static str, username: &Username, display: &str, raw: String) -> Result<String, AppError> {
    let password = Password::parse_for(field, raw)?;
    passwords::check_strength(field, &password, &[username.as_ref(), display])?;
    passwords::hash(&password).await
}

/// Creates the first administrator and signs them in. Refused once any user exists.
#[tracing::instrument(skip_all)]
pub async fn set_up_instance(
    state: &AppState,
    username: &str,
    password: String,
    display_name: &str,
    client: &ClientMeta,
) -> Result<SignedIn, AppError> {
    let already = || AppError::forbidden("already_set_up", "This instance is already set up; sign in instead.");
    if !needs_setup(state).await? {
        return Err(already());
    }
    let username = Username::parse(username)?;
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
        oidc_subject: None,
        now: state.now(),
    };
    // The emptiness check is repeated inside the INSERT: of two racing setups only one wins.
    db::users::insert(&state.pool, &user, Admission::OnlyFirst).await?.ok_or_else(already)?;
    tracing::info!(username = %username.as_ref(), "instance set up; first administrator created");
    let account = find_account(state, &id).await?;
    sessions::start_session(state, account, client, false).await
}

/// Registers a user; the first one becomes admin (and may register even with registration off).
/// Answers whether the new user is an admin.
#[tracing::instrument(skip_all)]
pub async fn register(state: &AppState, username: &str, password: String) -> Result<bool, AppError> {
    let first = needs_setup(state).await?;
    if !first && !settings::toggle(state, Toggle::Registration).await? {
        return Err(AppError::forbidden("registration_disabled", "Registration is turned off on this instance."));
    }
    let username = Username::parse(username)?;
    let key = username.key();
    let taken = || AppError::conflict("username_taken", "That username is taken.");
    if db::users::find_by_key(&state.pool, &key).await?.is_some() {
        return Err(taken());
    }
    let hash = new_password_hash("password", &username, "", password).await?;
    let id = new_id();
    let user = NewUser {
        id: &id,
        username: username.as_ref(),
        username_key: &key,
        display_name: username.as_ref(),
        password_hash: Some(&hash),
        ldap_dn: None,
        oidc_subject: None,
        now: state.now(),
    };
    match db::users::insert(&state.pool, &user, Admission::AdminIfFirst).await {
        Ok(is_admin) => {
            let is_admin = is_admin.unwrap_or(false);
            tracing::info!(username = %username.as_ref(), is_admin, "user registered");
            Ok(is_admin)
        }
        Err(e) if db::is_unique_violation(&e) => Err(taken()),
        Err(e) => Err(e.into()),
    }
}

/// Password sign-in shared by `/auth/login`, `/users/login` and the login page.
///
/// Limits: 30 attempts per 15 minutes per client IP, and 10 failures per 15 minutes per
/// username. An unknown user costs one argon2 verify like a known one.
#[tracing::instrument(skip_all)]
pub async fn sign_in_with_password(
    state: &AppState,
    username: &str,
    password: String,
    ctx: SignInContext<'_>,
) -> Result<LoginOutcome, AppError> {
    let client = ctx.client;
    if username.trim().is_empty() {
        return Err(AppError::invalid("invalid_request", Some("username"), "Enter your username."));
    }
    let password = LoginPassword::parse(password)?;
    if !settings::toggle(state, Toggle::PasswordLogin).await? {
        return Err(AppError::forbidden("password_login_disabled", "Password sign-in is turned off on this instance."));
    }
    rate_limit::take(state, &Limit::login_ip(&client.ip)).await?;
    let key = username.trim().to_ascii_lowercase();
    let user_limit = Limit::login_user(&key);
    rate_limit::check(state, &user_limit).await?;

    let user = db::users::find_by_key(&state.pool, &key).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = passwords::verify(password.expose().to_owned(), stored).await?;
    let Some(user) = user.filter(|_| ok) else {
        rate_limit::record(state, &user_limit).await?;
        tracing::info!(ip = %client.ip, "password sign-in failed");
        return Err(AppError::InvalidCredentials);
    };
    rate_limit::clear(state, &user_limit).await?;
    finish_first_factor(state, user, &ctx, Some(password.expose())).await
}

/// After the first factor (a local or a directory password): the second step when TOTP is on
/// and this browser is not trusted, else the session. `vault_password` opens the user's vault
/// when it is their local password.
pub(crate) async fn finish_first_factor(
    state: &AppState,
    user: UserRow,
    ctx: &SignInContext<'_>,
    vault_password: Option<&str>,
) -> Result<LoginOutcome, AppError> {
    if user.totp_enabled && !super::totp::is_trusted_device(state, &user.id, ctx.trusted_device).await? {
        let (mfa_token, challenge) = super::totp::open_challenge(state, &user.id, ctx.remember, ctx.mfa_ttl).await?;
        if let Some(p) = vault_password {
            super::vault::unlock_on_sign_in(state, &user.id, p, &super::vault::challenge_slot(&challenge)).await?;
        }
        return Ok(LoginOutcome::MfaRequired { mfa_token });
    }
    let signed_in = sessions::start_session(state, Account::from(user), ctx.client, ctx.remember).await?;
    if let Some(p) = vault_password {
        super::vault::unlock_on_sign_in(state, &signed_in.account.id, p, &signed_in.session_id).await?;
    }
    Ok(LoginOutcome::SignedIn(signed_in))
}

pub async fn count_users(_admin: &super::auth::AdminUser, state: &AppState) -> Result<i64, AppError> {
    Ok(db::users::count(&state.pool).await?)
}

/// Checks the caller's current password for a sensitive change. Wrong guesses count toward the
/// same per-username failure limit as sign-in, so a borrowed session cannot brute-force it.
pub(crate) async fn confirm_password(state: &AppState, user: &UserRow, field: &'static str, password: String) -> Result<(), AppError> {
    if password.is_empty() {
        return Err(AppError::invalid("invalid_request", Some(field), "Enter your current password."));
    }
    let Some(stored) = user.password_hash.clone() else {
        return Err(AppError::forbidden("oidc_only", "This account signs in through single sign-on and has no password."));
    };
    let limit = Limit::login_user(&user.username.to_ascii_lowercase());
    rate_limit::check(state, &limit).await?;
    if !passwords::verify(password, Some(stored)).await? {
        rate_limit::record(state, &limit).await?;
        return Err(AppError::wrong_password());
    }
    Ok(())
}

/// Changes the caller's password. Every session of the user ends (this one too), every token
/// issued before now stops working, trusted devices are forgotten and an open reset is voided.
#[tracing::instrument(skip_all)]
pub async fn change_password(state: &AppState, caller: &Caller, old_password: String, new_password: String) -> Result<(), AppError> {
    if new_password.is_empty() {
        return Err(AppError::invalid("invalid_request", Some("newPassword"), "Enter a new password."));
    }
    let user = db::users::find_by_id(&state.pool, &caller.user_id).await?.ok_or(AppError::Unauthenticated)?;
    confirm_password(state, &user, "oldPassword", old_password.clone()).await?;
    let username = Username::parse(&user.username).map_err(|_| AppError::Internal)?;
    let hash = new_password_hash("newPassword", &username, &user.display_name, new_password.clone()).await?;
    let vault = super::vault::rewrap(state, &user.id, &old_password, &new_password).await?;
    replace_password(state, &user.id, &hash, vault).await?;
    tracing::info!(user = %user.id, "password changed; every session ended");
    Ok(())
}

/// Stores a new password hash (with what it does to the vault) and cuts off everything the
/// old one let in.
pub(crate) async fn replace_password(state: &AppState, user_id: &str, hash: &str, vault: db::vault::VaultChange) -> Result<(), AppError> {
    let now = state.now();
    db::vault::set_password(&state.pool, user_id, hash, now, vault).await?;
    state.vault.forget_user(user_id);
    db::sessions::revoke_all_for_user(&state.pool, user_id, None, now).await?;
    db::two_factor::forget_trusted_devices(&state.pool, user_id).await?;
    db::password_resets::delete(&state.pool, user_id).await?;
    Ok(())
}

/// Deletes the caller's own account after the password is confirmed. Accounts without a
/// password (single sign-on only) and the last admin cannot.
#[tracing::instrument(skip_all)]
pub async fn delete_own_account(state: &AppState, caller: &Caller, password: String) -> Result<(), AppError> {
    let user = db::users::find_by_id(&state.pool, &caller.user_id).await?.ok_or(AppError::Unauthenticated)?;
    confirm_password(state, &user, "password", password).await?;
    state.vault.forget_user(&user.id);
    if !db::users::delete(&state.pool, &user.id).await? {
        return Err(AppError::forbidden("last_admin", "You are the last admin: make someone else admin first."));
    }
    tracing::info!(user = %user.id, "account deleted by its owner");
    Ok(())
}
