//! Sign-in, the whole of it: a first factor (password, directory or single sign-on) → the
//! second step when two-factor is on and the browser is not trusted → the session → the vault
//! key. `ldap` and `oidc` only prove who someone is; `totp` only checks the second factor.
//!
//! The two documents' sign-ins differ only in what [`Family`] says: how long the second step
//! may take and whether "remember me" exists.
use super::audit::{self, Event};
use super::identity::{Account, ClientMeta, SignedIn};
use super::settings::{self, Toggle};
use super::tokens::{self, TokenKind};
use super::{ldap, oidc, passkeys, passwords, sessions, totp, vault};
use crate::audit::EventType;
use crate::domain::{LoginPassword, SecondFactor};
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{self, totp as totp_db, users::UserRow};
use crate::ssr::keys::{new_id, TokenSecret};
use crate::ssr::metrics;
use crate::ssr::AppState;

/// Which document's sign-in this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// auth-api.txt: `mfaToken` valid 5 minutes, no "remember me".
    Auth,
    /// users-api.txt and the pages: `temp_token` valid 10 minutes, "remember me" for 30 days.
    Users,
}

impl Family {
    /// How long the MFA-pending token lives.
    pub const fn mfa_ttl(self) -> i64 {
        match self {
            Self::Auth => 5 * 60,
            Self::Users => 10 * 60,
        }
    }
}

/// What a sign-in is given besides the credentials.
pub struct SignInContext<'a> {
    pub family: Family,
    /// "Keep me signed in for 30 days" (always off for [`Family::Auth`]).
    pub remember: bool,
    pub client: &'a ClientMeta,
    /// This browser's trusted-device cookie, if any.
    pub trusted_device: Option<&'a str>,
}

/// What a first factor ends in.
#[derive(Clone)]
pub enum LoginOutcome {
    SignedIn(SignedIn),
    /// The first factor was right; a second is owed. `mfa_token` is MFA-pending only.
    MfaRequired {
        mfa_token: String,
    },
}

fn username_given(username: &str) -> Result<(), AppError> {
    if username.trim().is_empty() {
        return Err(AppError::invalid(ErrorKind::InvalidRequest, Some("username"), "Enter your username."));
    }
    Ok(())
}

/// Password sign-in shared by `/auth/login`, `/users/login` and the sign-in page.
///
/// Limits: 30 attempts per 15 minutes per client network, and per account 10 per 15 minutes
/// from one network and 100 from anywhere, reserved before the hash is checked (a right
/// password gives its account slots back). An unknown user costs one argon2 verify like a known one.
pub async fn with_password(
    state: &AppState,
    username: &str,
    password: String,
    ctx: SignInContext<'_>,
) -> Result<LoginOutcome, AppError> {
    let client = ctx.client;
    let result = counted("password", password_factor(state, username, password, ctx).await);
    audit::on_failure(state, result, |e| failed_sign_in("password", client, e).about_name(username)).await
}

/// `POST /auth/login/passkey`, `/users/login/passkey` and the sign-in page's passkey: the
/// passkey (user verified) proves both factors, so no second step follows. It stands in for the
/// account's own way in, never around it: directory accounts while the directory is on,
/// single-sign-on accounts while SSO is set up, password accounts while password sign-in is
/// on. Every refusal is `401 invalid_credentials`.
pub async fn with_passkey(
    state: &AppState,
    challenge_id: &str,
    credential: serde_json::Value,
    ctx: SignInContext<'_>,
) -> Result<LoginOutcome, AppError> {
    let client = ctx.client;
    let result = counted("passkey", passkey_factors(state, challenge_id, credential, ctx).await);
    audit::on_failure(state, result, |e| failed_sign_in("passkey", client, e)).await
}

#[tracing::instrument(skip_all)]
async fn passkey_factors(
    state: &AppState,
    challenge_id: &str,
    credential: serde_json::Value,
    ctx: SignInContext<'_>,
) -> Result<LoginOutcome, AppError> {
    let passkey = passkeys::verify_passwordless(state, challenge_id, credential, ctx.client).await?;
    let refused = || AppError::from(ErrorKind::InvalidCredentials);
    let user = db::users::find_by_id(&state.pool, &passkey.user_id).await?.ok_or_else(refused)?;
    let allowed = if user.ldap_dn.is_some() {
        ldap::is_enabled(state).await?
    } else if user.password_hash.is_none() {
        oidc::config(state).await?.is_some()
    } else {
        settings::toggle(state, Toggle::PasswordLogin).await?
    };
    if !allowed {
        tracing::info!(ip = %ctx.client.ip, "passkey sign-in refused: the account's own sign-in method is off");
        return Err(refused());
    }
    let remember = ctx.remember && ctx.family == Family::Users;
    let event =
        Event::new(EventType::SignIn).detail("method", "passkey").detail("passkey", passkey.name.as_str());
    let signed_in = sessions::start_session(state, Account::from(user), ctx.client, remember, event).await?;
    db::sessions::set_second_factor_at(&state.pool, &signed_in.session_id, state.now()).await?;
    Ok(LoginOutcome::SignedIn(signed_in))
}

/// A sign-in that failed, before any account is known to be behind it.
fn failed_sign_in(method: &'static str, client: &ClientMeta, e: &AppError) -> Event {
    Event::new(EventType::SignIn).detail("method", method).from_client(client).failed(e)
}

#[tracing::instrument(skip_all)]
async fn password_factor(
    state: &AppState,
    username: &str,
    password: String,
    ctx: SignInContext<'_>,
) -> Result<LoginOutcome, AppError> {
    username_given(username)?;
    let password = LoginPassword::parse(password)?;
    if !settings::toggle(state, Toggle::PasswordLogin).await? {
        return Err(AppError::of(
            ErrorKind::PasswordLoginDisabled,
            "Password sign-in is turned off on this instance.",
        ));
    }
    let key = username.trim().to_ascii_lowercase();
    let attempt = passwords::reserve_sign_in(state, &key, &ctx.client.ip).await?;

    let user = db::users::find_by_key(&state.pool, &key).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let (ok, attempt) = passwords::judge(state, attempt, password.expose().to_owned(), stored).await?;
    let Some(user) = user.filter(|_| ok) else {
        tracing::info!(ip = %ctx.client.ip, "password sign-in failed");
        return Err(ErrorKind::InvalidCredentials.into());
    };
    attempt.refund(state).await?;
    finish_first_factor(state, user, &ctx, "password", Some(password.expose())).await
}

/// `POST /auth/login/ldap` and the page's directory choice: the directory checks the
/// password; the same second step and session follow.
pub async fn with_directory(
    state: &AppState,
    username: &str,
    password: String,
    ctx: SignInContext<'_>,
) -> Result<LoginOutcome, AppError> {
    let client = ctx.client;
    let result = counted("ldap", directory_factor(state, username, password, ctx).await);
    audit::on_failure(state, result, |e| failed_sign_in("ldap", client, e).about_name(username)).await
}

#[tracing::instrument(skip_all)]
async fn directory_factor(
    state: &AppState,
    username: &str,
    password: String,
    ctx: SignInContext<'_>,
) -> Result<LoginOutcome, AppError> {
    username_given(username)?;
    let password = LoginPassword::parse(password)?;
    let user = ldap::prove(state, username, &password, ctx.client).await?;
    finish_first_factor(state, user, &ctx, "ldap", None).await
}

/// The end of a single sign-on at the callback: the provider proves who it is, and "remember
/// me" is what the flow was started with. Answers the outcome and where the browser goes back
/// to when the flow was started with a way back (`rd`).
pub async fn with_sso(
    state: &AppState,
    flow: oidc::Flow,
    callback: &oidc::Callback,
    browser: Option<&str>,
    client: &ClientMeta,
    trusted_device: Option<&str>,
) -> Result<(LoginOutcome, Option<String>), AppError> {
    let (result, back) = match sso_factor(state, flow, callback, browser, client, trusted_device).await {
        Ok((outcome, back)) => (Ok(outcome), back),
        Err(e) => (Err(e), None),
    };
    let result = counted("sso", result);
    Ok((audit::on_failure(state, result, |e| failed_sign_in("sso", client, e)).await?, back))
}

#[tracing::instrument(skip_all)]
async fn sso_factor(
    state: &AppState,
    flow: oidc::Flow,
    callback: &oidc::Callback,
    browser: Option<&str>,
    client: &ClientMeta,
    trusted_device: Option<&str>,
) -> Result<(LoginOutcome, Option<String>), AppError> {
    let proven = oidc::prove(state, flow, callback, browser).await?;
    let ctx = SignInContext { family: Family::Users, remember: proven.remember, client, trusted_device };
    Ok((finish_first_factor(state, proven.user, &ctx, "sso", None).await?, proven.return_to))
}

/// Counts a first factor's end for the metrics.
fn counted(method: &'static str, result: Result<LoginOutcome, AppError>) -> Result<LoginOutcome, AppError> {
    metrics::sign_in(
        method,
        match &result {
            Ok(LoginOutcome::SignedIn(_)) => "success",
            Ok(LoginOutcome::MfaRequired { .. }) => "second_step",
            Err(e) => metrics::outcome_of(e),
        },
    );
    result
}

/// After the first factor: the second step when TOTP is on and this browser is not trusted,
/// else the session. `vault_password` opens the user's vault when it is their local password.
async fn finish_first_factor(
    state: &AppState,
    user: UserRow,
    ctx: &SignInContext<'_>,
    method: &'static str,
    vault_password: Option<&str>,
) -> Result<LoginOutcome, AppError> {
    let remember = ctx.remember && ctx.family == Family::Users;
    let trusted = user.totp_enabled && totp::is_trusted_device(state, &user.id, ctx.trusted_device).await?;
    if user.totp_enabled && !trusted {
        let event = Event::new(EventType::SecondStepRequired)
            .by_account(&user.id, &user.username)
            .from_client(ctx.client)
            .detail("method", method);
        let (mfa_token, challenge, secret) =
            open_challenge(state, &user.id, remember, ctx.family.mfa_ttl(), event).await?;
        if let Some(p) = vault_password {
            if let Err(e) = vault::open_for_second_step(state, &user.id, p, &challenge, &secret).await {
                tracing::warn!(error = %e, "the vault stays locked for this sign-in");
            }
        }
        return Ok(LoginOutcome::MfaRequired { mfa_token });
    }
    let event = Event::new(EventType::SignIn).detail("method", method);
    let event = if trusted { event.detail("trusted_device", true) } else { event };
    let signed_in = sessions::start_session(state, Account::from(user), ctx.client, remember, event).await?;
    // The sign-in stands even if the vault cannot be opened (it then asks for the password).
    if let Some(p) = vault_password {
        if let Err(e) = vault::open_on_sign_in(state, &signed_in, p).await {
            tracing::warn!(error = %e, "the vault stays locked for this session");
        }
    }
    Ok(LoginOutcome::SignedIn(signed_in))
}

/// Opens a second-step challenge; answers its MFA-pending token, its id and the secret the
/// token carries.
async fn open_challenge(
    state: &AppState,
    user_id: &str,
    remember: bool,
    ttl: i64,
    event: Event,
) -> Result<(String, String, TokenSecret), AppError> {
    let now = state.now();
    let id = new_id();
    totp_db::prune_challenges(&state.pool, now - 3600).await?;
    let mut change = audit::Change::begin(state).await?;
    totp_db::insert_challenge(change.tx(), &id, user_id, remember, now, now + ttl).await?;
    change.record(event).await?;
    change.commit().await?;
    let secret = TokenSecret::random();
    let token =
        tokens::mint(&state.keys, TokenKind::MfaPending, user_id, &id, now, now + ttl, Some(&secret))?;
    Ok((token, id, secret))
}

/// A completed second step: the session, and the trusted-device cookie value when asked for.
pub struct SecondStep {
    pub signed_in: SignedIn,
    pub trusted_device: Option<String>,
}

/// What proves the second factor: a TOTP or backup code, or a passkey.
pub enum SecondProof {
    Code(String),
    Passkey(passkeys::Answer),
}

impl SecondProof {
    fn method(&self) -> &'static str {
        match self {
            Self::Code(code) => match SecondFactor::parse("code", code) {
                Ok(SecondFactor::Backup(_)) => "backup_code",
                _ => "totp",
            },
            Self::Passkey(_) => "passkey",
        }
    }
}

/// Finishes a sign-in with a TOTP or backup code. The MFA-pending token works once; wrong
/// codes answer `401` with `remainingAttempts`, and the sixth in 5 minutes `429`.
pub async fn complete_second_step(
    state: &AppState,
    mfa_token: &str,
    code: &str,
    remember: bool,
    trust_device: bool,
    client: &ClientMeta,
) -> Result<SecondStep, AppError> {
    let proof = SecondProof::Code(code.to_owned());
    complete_second_step_with(state, mfa_token, proof, remember, trust_device, client).await
}

/// Finishes a sign-in's second step with either proof (see [`complete_second_step`]; a
/// passkey that does not check out answers `400 passkey_failed`).
pub async fn complete_second_step_with(
    state: &AppState,
    mfa_token: &str,
    proof: SecondProof,
    remember: bool,
    trust_device: bool,
    client: &ClientMeta,
) -> Result<SecondStep, AppError> {
    let method = proof.method();
    let result = second_step(state, mfa_token, proof, remember, trust_device, client).await;
    metrics::second_step(result.as_ref().map_or_else(metrics::outcome_of, |_| "success"));
    if let Err(e) = &result {
        if audit::worth_recording(e) && !audit::refused_by_limit(e) {
            let mut event = failed_sign_in(method, client, e);
            // Whose sign-in it was, when the token says (its signature checked, its use not).
            if let Some(claims) = tokens::verify(&state.keys, mfa_token, TokenKind::MfaPending, state.now()) {
                let name =
                    db::users::find_by_id(&state.pool, &claims.sub).await.ok().flatten().map(|u| u.username);
                event = event.about(&claims.sub, name.as_deref().unwrap_or(""));
            }
            audit::record(state, event).await;
        }
    }
    result
}

/// The second step a live MFA-pending token stands for: its claims, challenge and user.
async fn pending_step(
    state: &AppState,
    mfa_token: &str,
) -> Result<(tokens::Claims, totp_db::ChallengeRow, UserRow), AppError> {
    let now = state.now();
    let invalid = || AppError::from(ErrorKind::InvalidToken);
    let claims = tokens::verify(&state.keys, mfa_token, TokenKind::MfaPending, now).ok_or_else(invalid)?;
    let challenge = totp_db::find_challenge(&state.pool, &claims.sid).await?.ok_or_else(invalid)?;
    if challenge.user_id != claims.sub || challenge.used_at.is_some() || challenge.expires_at <= now {
        return Err(invalid());
    }
    let user = db::users::find_by_id(&state.pool, &challenge.user_id).await?.ok_or_else(invalid)?;
    // Not enabled any more, or the password changed since this token was issued.
    if !user.totp_enabled || claims.iat < user.tokens_valid_after {
        return Err(invalid());
    }
    Ok((claims, challenge, user))
}

/// Whether the second-step page may offer a passkey: the token is live and its user has one.
pub async fn second_step_has_passkey(state: &AppState, mfa_token: &str) -> Result<bool, AppError> {
    let (_, _, user) = pending_step(state, mfa_token).await?;
    passkeys::offered_to(state, &user.id).await
}

/// Starts a passkey ceremony for the second step of a live MFA-pending token.
pub async fn second_step_passkey_options(
    state: &AppState,
    mfa_token: &str,
) -> Result<passkeys::Ceremony, AppError> {
    let (_, challenge, user) = pending_step(state, mfa_token).await?;
    passkeys::begin_for(state, &user.id, passkeys::Use::SecondStep(&challenge.id)).await
}

#[tracing::instrument(skip_all)]
async fn second_step(
    state: &AppState,
    mfa_token: &str,
    proof: SecondProof,
    remember: bool,
    trust_device: bool,
    client: &ClientMeta,
) -> Result<SecondStep, AppError> {
    let now = state.now();
    let invalid = || AppError::from(ErrorKind::InvalidToken);
    let (claims, challenge, user) = pending_step(state, mfa_token).await?;
    // A user out of tries hears `429` first; then the token's own count: it dies after five
    // wrong answers (codes or passkeys), whatever the user's window says.
    let take_try = || async {
        totp::refuse_when_out_of_tries(state, &user.id).await?;
        if totp_db::take_challenge_try(&state.pool, &challenge.id).await? {
            Ok(())
        } else {
            Err(invalid())
        }
    };
    let method = match proof {
        SecondProof::Code(code) => {
            let factor = SecondFactor::parse("code", &code)?;
            take_try().await?;
            totp::check_second_factor(state, &user, &factor).await?;
            match factor {
                SecondFactor::Totp(_) => "totp",
                SecondFactor::Backup(_) => "backup_code",
            }
        }
        SecondProof::Passkey(answer) => {
            take_try().await?;
            passkeys::verify_for(state, &user.id, passkeys::Use::SecondStep(&challenge.id), answer).await?;
            "passkey"
        }
    };
    if !totp_db::use_challenge(&state.pool, &challenge.id, now).await? {
        return Err(invalid());
    }
    let event = Event::new(EventType::SignIn).detail("method", method);
    let signed_in =
        sessions::start_session(state, Account::from(user), client, remember || challenge.remember, event)
            .await?;
    db::sessions::set_second_factor_at(&state.pool, &signed_in.session_id, now).await?;
    vault::carry_from_second_step(
        state,
        &challenge.id,
        challenge.vault_key_sealed.as_deref(),
        claims.vk.as_ref(),
        &signed_in,
    )
    .await?;
    let trusted_device = if trust_device {
        Some(totp::trust_device(state, &signed_in.account.id, client).await?)
    } else {
        None
    };
    Ok(SecondStep { signed_in, trusted_device })
}
