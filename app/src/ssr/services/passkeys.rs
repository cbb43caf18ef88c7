//! Passkeys (WebAuthn, with webauthn-rs): registering them, and signing in with one and no
//! password.
//!
//! Decisions:
//! - The relying party is `PORTCULLIS_PUBLIC_URL`: its host is the RP ID, its origin the only
//!   origin accepted. Browsers refuse passkeys on a bare IP address, so the default
//!   `http://127.0.0.1:3000` cannot use them; `http://localhost:…` or any `https://` URL can.
//! - Passkeys are discoverable (the browser offers them without a username) and always ask the
//!   authenticator to verify the user (PIN, fingerprint, face), as webauthn-rs' passkeys do:
//!   so a passkey sign-in proves two factors, and counts as the second step's too.
//! - Every ceremony's state is a row of `webauthn_challenges`, never a cookie: any node can
//!   finish it, it works once (deleted as it is read) and for 5 minutes.
//! - A stored credential that was not backup-eligible may become so (iCloud Keychain and
//!   KeePassXC have turned the flag on in updates); the other way round is refused
//!   ([`stored_for`]).
//! - A sign counter of 0 is what synced passkeys send and is not a clone; a counter that goes
//!   backwards is (webauthn-rs refuses it).
use super::audit::{self, Event};
use super::identity::{AdminUser, Caller, ClientMeta};
use super::rate_limit::{self, Limit};
use crate::audit::EventType;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{self, passkeys::PasskeyRow};
use crate::ssr::keys::new_id;
use crate::ssr::AppState;
use base64::Engine;
use serde_json::Value;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

/// The most passkeys one account may have.
pub const MAX_PER_USER: i64 = 10;

/// Longest passkey name, in characters.
pub const MAX_NAME: usize = 64;

/// Live passwordless ceremonies at most, across every client.
const MAX_SIGN_IN_CEREMONIES: i64 = 10_000;

/// How long a ceremony may take.
const CEREMONY_SECS: i64 = 5 * 60;

/// What a ceremony's row is for; checked when it is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Register,
    SignIn,
    SecondStep,
    Unlock,
    Terminal,
    StepUp,
}

impl Purpose {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::SignIn => "sign_in",
            Self::SecondStep => "second_step",
            Self::Unlock => "unlock",
            Self::Terminal => "terminal",
            Self::StepUp => "step_up",
        }
    }
}

/// A ceremony begun: its id, to send back with the authenticator's answer, and the options
/// for `navigator.credentials.create()` / `.get()` (`{publicKey: …}`, WebAuthn's JSON form).
pub struct Ceremony {
    pub challenge_id: String,
    pub options: Value,
}

fn failed(why: impl std::fmt::Display) -> AppError {
    tracing::info!(reason = %why, "a passkey ceremony failed");
    AppError::from(ErrorKind::PasskeyFailed)
}

/// The relying party this instance is, from its public URL.
fn relying_party(state: &AppState) -> Result<Webauthn, AppError> {
    let origin = Url::parse(&state.config.public_url)
        .map_err(|e| AppError::internal("the public URL does not parse", &e))?;
    let Some(rp_id) = origin.host_str().map(|h| h.trim_end_matches('.').to_owned()) else {
        return Err(AppError::bug("the public URL has no host"));
    };
    WebauthnBuilder::new(&rp_id, &origin).and_then(|b| b.rp_name("Portcullis").build()).map_err(|e| {
        tracing::warn!(error = %e, "passkeys cannot be bound to the public URL");
        AppError::from(ErrorKind::PasskeysUnavailable)
    })
}

/// Whether passkeys can work with this instance's public URL (not on a bare IP address).
pub fn available(state: &AppState) -> bool {
    Url::parse(&state.config.public_url)
        .ok()
        .and_then(|u| u.host_str().map(|h| WebauthnBuilder::new(h.trim_end_matches('.'), &u).is_ok()))
        .unwrap_or(false)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, AppError> {
    serde_json::to_value(value).map_err(|e| AppError::internal("a passkey value does not serialise", &e))
}

fn user_handle(user_id: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(user_id).map_err(|e| AppError::internal("a user id is not a UUID", &e))
}

fn encode_credential_id(raw: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn parse_passkey(row: &PasskeyRow) -> Result<Passkey, AppError> {
    serde_json::from_str(&row.passkey).map_err(|e| AppError::internal("a stored passkey does not parse", &e))
}

/// The authenticator's answer, as the browser's `credential.toJSON()` gives it.
fn parse_answer<T: serde::de::DeserializeOwned>(credential: Value) -> Result<T, AppError> {
    serde_json::from_value(credential).map_err(|_| {
        AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("credential"),
            "Send the authenticator's answer (credential.toJSON()).",
        )
    })
}

async fn open_ceremony(
    state: &AppState,
    purpose: Purpose,
    user_id: Option<&str>,
    session_id: Option<&str>,
    ceremony_state: &Value,
    options: Value,
) -> Result<Ceremony, AppError> {
    let now = state.now();
    db::passkeys::prune_challenges(&state.pool, now).await?;
    let id = new_id();
    let saved = serde_json::to_string(ceremony_state)
        .map_err(|e| AppError::internal("a passkey ceremony does not serialise", &e))?;
    db::passkeys::insert_challenge(
        &state.pool,
        &db::passkeys::NewChallenge {
            id: &id,
            purpose: purpose.as_str(),
            user_id,
            session_id,
            state: &saved,
            now,
            expires_at: now + CEREMONY_SECS,
        },
    )
    .await?;
    Ok(Ceremony { challenge_id: id, options })
}

/// Takes the ceremony `id` out (once) if it is for `purpose` and not over.
async fn take_ceremony(
    state: &AppState,
    id: &str,
    purpose: Purpose,
) -> Result<Option<db::passkeys::ChallengeRow>, AppError> {
    let row = db::passkeys::take_challenge(&state.pool, id).await?;
    Ok(row.filter(|c| c.purpose == purpose.as_str() && c.expires_at > state.now()))
}

fn valid_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("name"),
            format!("Name the passkey (1 to {MAX_NAME} characters), for example the device it is on."),
        ));
    }
    Ok(name.to_owned())
}

/// Starts adding a passkey to the caller's account: needs a recent sign-in or password, and
/// room under the limit. The authenticator is told to keep the passkey discoverable.
pub async fn begin_registration(state: &AppState, caller: &Caller) -> Result<Ceremony, AppError> {
    caller.require_recent_authentication(state.now())?;
    rate_limit::take(state, &user_ceremony_limit(&caller.user_id)).await?;
    let user = db::users::find_by_id(&state.pool, &caller.user_id)
        .await?
        .ok_or_else(|| AppError::from(ErrorKind::UserNotFound))?;
    let existing = db::passkeys::list_for_user(&state.pool, &user.id).await?;
    if existing.len() as i64 >= MAX_PER_USER {
        return Err(ErrorKind::TooManyPasskeys.into());
    }
    let exclude = existing
        .iter()
        .map(parse_passkey)
        .map(|p| p.map(|p| p.cred_id().clone()))
        .collect::<Result<_, _>>()?;
    let (options, registration) = relying_party(state)?
        .start_passkey_registration(user_handle(&user.id)?, &user.username, &user.display_name, Some(exclude))
        .map_err(|e| AppError::internal("a passkey registration could not start", &e))?;
    let mut options = to_json(&options)?;
    if let Some(selection) =
        options.pointer_mut("/publicKey/authenticatorSelection").and_then(Value::as_object_mut)
    {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
    open_ceremony(
        state,
        Purpose::Register,
        Some(&user.id),
        Some(caller.session()?),
        &to_json(&registration)?,
        options,
    )
    .await
}

/// Finishes adding a passkey: the ceremony must be this session's, the answer must verify,
/// and the credential must be new. Audited as `passkey_added`.
pub async fn finish_registration(
    state: &AppState,
    caller: &Caller,
    challenge_id: &str,
    name: &str,
    credential: Value,
) -> Result<PasskeyRow, AppError> {
    let name = valid_name(name)?;
    let answer: RegisterPublicKeyCredential = parse_answer(credential)?;
    let ceremony = take_ceremony(state, challenge_id, Purpose::Register)
        .await?
        .filter(|c| {
            c.user_id.as_deref() == Some(&caller.user_id)
                && c.session_id.as_deref() == Some(&caller.session_id)
        })
        .ok_or_else(|| failed("no such registration for this session"))?;
    // The browser was told to leave out the user's passkeys; an authenticator that answers
    // with one of them anyway hears so (webauthn-rs would only say "failed").
    let raw_id = encode_credential_id(answer.raw_id.as_ref());
    let own = db::passkeys::find_by_credential(&state.pool, &raw_id).await?;
    if own.is_some_and(|p| p.user_id == caller.user_id) {
        return Err(ErrorKind::PasskeyExists.into());
    }
    let registration: PasskeyRegistration = serde_json::from_str(&ceremony.state)
        .map_err(|e| AppError::internal("a stored passkey registration does not parse", &e))?;
    let passkey =
        relying_party(state)?.finish_passkey_registration(&answer, &registration).map_err(failed)?;
    let row = PasskeyRow {
        id: new_id(),
        user_id: caller.user_id.clone(),
        credential_id: encode_credential_id(passkey.cred_id().as_ref()),
        name,
        passkey: serde_json::to_string(&passkey)
            .map_err(|e| AppError::internal("a passkey does not serialise", &e))?,
        created_at: state.now(),
        last_used_at: None,
    };
    let mut change = audit::Change::begin(state).await?;
    db::passkeys::lock_user(change.tx(), &row.user_id).await?;
    let inserted = db::passkeys::insert(
        change.tx(),
        &db::passkeys::NewPasskey {
            id: &row.id,
            user_id: &row.user_id,
            credential_id: &row.credential_id,
            name: &row.name,
            passkey: &row.passkey,
            now: row.created_at,
        },
        MAX_PER_USER,
    )
    .await;
    match inserted {
        Ok(true) => {}
        Ok(false) => return Err(ErrorKind::TooManyPasskeys.into()),
        Err(e) if db::is_unique_violation(&e) => return Err(ErrorKind::PasskeyExists.into()),
        Err(e) => return Err(e.into()),
    }
    change
        .record(
            Event::new(EventType::PasskeyAdded)
                .by(caller)
                .target("passkey", &row.id)
                .detail("name", row.name.as_str()),
        )
        .await?;
    change.commit().await?;
    Ok(row)
}

/// The caller's passkeys, oldest first.
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<PasskeyRow>, AppError> {
    Ok(db::passkeys::list_for_user(&state.pool, &caller.user_id).await?)
}

/// Renames one of the caller's passkeys.
pub async fn rename(state: &AppState, caller: &Caller, id: &str, name: &str) -> Result<(), AppError> {
    let name = valid_name(name)?;
    let mut change = audit::Change::begin(state).await?;
    if !db::passkeys::rename(change.tx(), &caller.user_id, id, &name).await? {
        return Err(ErrorKind::PasskeyNotFound.into());
    }
    change
        .record(
            Event::new(EventType::PasskeyRenamed)
                .by(caller)
                .target("passkey", id)
                .detail("name", name.as_str()),
        )
        .await?;
    change.commit().await
}

/// Removes one of the caller's passkeys; it signs nobody in from the next request on.
pub async fn remove(state: &AppState, caller: &Caller, id: &str) -> Result<(), AppError> {
    // Removing a factor needs the owner at the keyboard, as adding one does.
    caller.require_recent_authentication(state.now())?;
    remove_of(state, caller, &caller.user_id, id).await
}

/// An admin's view of a user's passkeys.
pub async fn list_of(
    state: &AppState,
    _admin: &AdminUser,
    user_id: &str,
) -> Result<Vec<PasskeyRow>, AppError> {
    if db::users::find_by_id(&state.pool, user_id).await?.is_none() {
        return Err(ErrorKind::UserNotFound.into());
    }
    Ok(db::passkeys::list_for_user(&state.pool, user_id).await?)
}

/// An admin revokes one of a user's passkeys.
pub async fn revoke(state: &AppState, admin: &AdminUser, user_id: &str, id: &str) -> Result<(), AppError> {
    remove_of(state, admin.caller(), user_id, id).await
}

async fn remove_of(state: &AppState, by: &Caller, user_id: &str, id: &str) -> Result<(), AppError> {
    let mut change = audit::Change::begin(state).await?;
    let Some(name) = db::passkeys::delete(change.tx(), user_id, id).await? else {
        return Err(ErrorKind::PasskeyNotFound.into());
    };
    change
        .record(
            Event::new(EventType::PasskeyRemoved)
                .about(user_id, "")
                .by(by)
                .target("passkey", id)
                .detail("name", name.as_str()),
        )
        .await?;
    change.commit().await
}

/// Per client network, ceremonies a stranger may start per 15 minutes: 300 dialogs, and 1,000
/// autofill requests on a budget of their own (the sign-in page starts one each time it is
/// shown, so an office behind one address would otherwise spend the dialogs' budget by
/// opening the page).
fn ceremony_limit(ip: &str, autofill: bool) -> Limit {
    let network = rate_limit::client_network(ip);
    if autofill {
        Limit::new("passkey-autofill", &network, 1_000, 15 * 60)
    } else {
        Limit::new("passkey-ip", &network, 300, 15 * 60)
    }
}

/// Starts a sign-in without a username: the browser offers whichever passkey of this site it
/// holds. `autofill` asks for the browser's conditional mediation (passkeys in the username
/// field's suggestions) instead of a dialog.
pub async fn begin_sign_in(
    state: &AppState,
    client: &ClientMeta,
    autofill: bool,
) -> Result<Ceremony, AppError> {
    rate_limit::take(state, &ceremony_limit(&client.ip, autofill)).await?;
    // However many networks ask, the table stays bounded: past the cap passkey sign-in waits
    // (passwords still work) until ceremonies end, at most 5 minutes later.
    if db::passkeys::count_sign_in_challenges(&state.pool, state.now()).await? >= MAX_SIGN_IN_CEREMONIES {
        tracing::warn!("passkey sign-in ceremonies are at their cap");
        return Err(AppError::from(ErrorKind::Unavailable).with_retry_after(60));
    }
    let (mut options, authentication) = relying_party(state)?
        .start_discoverable_authentication()
        .map_err(|e| AppError::internal("a passkey sign-in could not start", &e))?;
    if !autofill {
        options.mediation = None;
    }
    open_ceremony(state, Purpose::SignIn, None, None, &to_json(&authentication)?, to_json(&options)?).await
}

/// The stored passkey an assertion is checked against. A passkey stored as not
/// backup-eligible whose authenticator now says it is (iCloud Keychain and KeePassXC turned
/// the flag on in updates) is taken as eligible: webauthn-rs would refuse the change, and with
/// it every later sign-in of that passkey. The signature still covers the flags; the new ones
/// are stored once it verifies. Eligible turning ineligible stays refused.
fn stored_for(row: &PasskeyRow, answer: &PublicKeyCredential) -> Result<(Passkey, bool), AppError> {
    const FLAGS: usize = 32;
    const BACKUP_ELIGIBLE: u8 = 0x08;
    let eligible_now =
        answer.response.authenticator_data.as_ref().get(FLAGS).is_some_and(|f| f & BACKUP_ELIGIBLE != 0);
    let mut stored: Value = serde_json::from_str(&row.passkey)
        .map_err(|e| AppError::internal("a stored passkey does not parse", &e))?;
    let mut patched = false;
    if let Some(flag) = stored.pointer_mut("/cred/backup_eligible") {
        if eligible_now && *flag == Value::Bool(false) {
            *flag = true.into();
            patched = true;
        }
    }
    let passkey = serde_json::from_value(stored)
        .map_err(|e| AppError::internal("a stored passkey does not parse", &e))?;
    Ok((passkey, patched))
}

/// Checks a passwordless answer; answers the passkey's row (its owner, its name). Every
/// refusal is the same `401 invalid_credentials`, whether the ceremony, the credential or its
/// owner was wrong, and each answer counts against the client network's sign-in limit like a
/// password (`sign_in::with_passkey` makes the session).
pub async fn verify_passwordless(
    state: &AppState,
    challenge_id: &str,
    credential: Value,
    client: &ClientMeta,
) -> Result<PasskeyRow, AppError> {
    let answer: PublicKeyCredential = parse_answer(credential)?;
    rate_limit::take(state, &Limit::login_ip(&client.ip)).await?;
    check_assertion(state, challenge_id, &answer, Purpose::SignIn, None).await?.map_err(|why| {
        tracing::info!(ip = %client.ip, reason = why, "passkey sign-in failed");
        AppError::from(ErrorKind::InvalidCredentials)
    })
}

/// Checks an assertion against the ceremony `challenge_id` (taken out once, for `purpose`,
/// and for `bound` — who and what — when given) and the passkey as stored now (so a passkey
/// removed after the ceremony began signs nothing, and the counter is today's). Stores the
/// new counter and flags. `Ok(Err(why))`: refused, for the log only.
async fn check_assertion(
    state: &AppState,
    challenge_id: &str,
    answer: &PublicKeyCredential,
    purpose: Purpose,
    bound: Option<(&str, &str)>,
) -> Result<Result<PasskeyRow, &'static str>, AppError> {
    let Some(ceremony) = take_ceremony(state, challenge_id, purpose).await? else {
        return Ok(Err("no such ceremony"));
    };
    if let Some((user_id, to)) = bound {
        if ceremony.user_id.as_deref() != Some(user_id) || ceremony.session_id.as_deref() != Some(to) {
            return Ok(Err("a ceremony for someone or something else"));
        }
    }
    let authentication: DiscoverableAuthentication = serde_json::from_str(&ceremony.state)
        .map_err(|e| AppError::internal("a stored passkey ceremony does not parse", &e))?;
    let rp = relying_party(state)?;
    // A discoverable passkey names its user; with a list of allowed passkeys (a known user) the
    // authenticator may leave the name out, and the credential alone must be that user's.
    let handle = answer.get_user_unique_id().map(|b| Uuid::from_slice(b).ok());
    if handle.is_none() && bound.is_none() {
        return Ok(Err("no user handle"));
    }
    let row = db::passkeys::find_by_credential(&state.pool, &encode_credential_id(answer.raw_id.as_ref()))
        .await?
        .filter(|r| {
            handle.is_none_or(|h| h.is_some_and(|u| Uuid::parse_str(&r.user_id).is_ok_and(|id| id == u)))
        })
        .filter(|r| bound.is_none_or(|(user_id, _)| r.user_id == user_id));
    let Some(row) = row else { return Ok(Err("unknown credential")) };
    let (mut passkey, patched) = stored_for(&row, answer)?;
    let Ok(result) =
        rp.finish_discoverable_authentication(answer, authentication, &[DiscoverableKey::from(&passkey)])
    else {
        return Ok(Err("the assertion does not verify"));
    };
    // Every passkey is asked to verify the user, so each use proves two factors.
    if !result.user_verified() {
        return Ok(Err("the authenticator did not verify the user"));
    }
    let saved = if passkey.update_credential(&result) == Some(true) || patched {
        Some(
            serde_json::to_string(&passkey)
                .map_err(|e| AppError::internal("a passkey does not serialise", &e))?,
        )
    } else {
        None
    };
    if !db::passkeys::record_use(&state.pool, &row.id, &row.passkey, saved.as_deref(), state.now()).await? {
        return Ok(Err("passkey removed or used meanwhile"));
    }
    Ok(Ok(row))
}

/// What an assertion by a known user is for, and what it is bound to: a ceremony begun for
/// one cannot finish another.
#[derive(Debug, Clone, Copy)]
pub enum Use<'a> {
    /// The second sign-in step of this MFA challenge.
    SecondStep(&'a str),
    /// Unlocking this session's screen lock.
    Unlock(&'a str),
    /// Opening (or unlocking) this terminal for this session.
    Terminal { session: &'a str, container: &'a str },
    /// A fresh second factor for this session (forward-auth's `two_factor` rules).
    StepUp(&'a str),
}

impl Use<'_> {
    fn purpose(self) -> Purpose {
        match self {
            Self::SecondStep(_) => Purpose::SecondStep,
            Self::Unlock(_) => Purpose::Unlock,
            Self::Terminal { .. } => Purpose::Terminal,
            Self::StepUp(_) => Purpose::StepUp,
        }
    }

    fn bound(self) -> String {
        match self {
            Self::SecondStep(challenge) => challenge.to_owned(),
            Self::Unlock(session) | Self::StepUp(session) => session.to_owned(),
            Self::Terminal { session, container } => format!("{session}/{container}"),
        }
    }
}

/// An authenticator's answer to a ceremony.
pub struct Answer {
    pub challenge_id: String,
    /// As the browser's `credential.toJSON()` gives it.
    pub credential: Value,
}

/// Per user, ceremonies for a known account: 60 per 15 minutes.
fn user_ceremony_limit(user_id: &str) -> Limit {
    Limit::new("passkey-user", user_id, 60, 15 * 60)
}

/// Whether the user has any passkey.
pub async fn has_any(state: &AppState, user_id: &str) -> Result<bool, AppError> {
    Ok(db::passkeys::count_for_user(&state.pool, user_id).await? > 0)
}

/// Whether a page may offer this user a passkey: passkeys work here and the user has one.
pub async fn offered_to(state: &AppState, user_id: &str) -> Result<bool, AppError> {
    Ok(available(state) && has_any(state, user_id).await?)
}

/// Starts an assertion by `user_id` (who is known already) for `what`: the browser offers
/// only this user's passkeys.
pub async fn begin_for(state: &AppState, user_id: &str, what: Use<'_>) -> Result<Ceremony, AppError> {
    rate_limit::take(state, &user_ceremony_limit(user_id)).await?;
    let rows = db::passkeys::list_for_user(&state.pool, user_id).await?;
    if rows.is_empty() {
        return Err(AppError::of(ErrorKind::PasskeyNotFound, "This account has no passkey."));
    }
    let allowed: Vec<Value> =
        rows.iter().map(|r| serde_json::json!({"type": "public-key", "id": r.credential_id})).collect();
    let (mut options, authentication) = relying_party(state)?
        .start_discoverable_authentication()
        .map_err(|e| AppError::internal("a passkey ceremony could not start", &e))?;
    options.mediation = None;
    let mut options = to_json(&options)?;
    if let Some(public_key) = options.get_mut("publicKey").and_then(Value::as_object_mut) {
        public_key.insert("allowCredentials".into(), allowed.into());
    }
    let bound = what.bound();
    open_ceremony(state, what.purpose(), Some(user_id), Some(&bound), &to_json(&authentication)?, options)
        .await
}

/// Checks `user_id`'s answer for `what`; answers the passkey's name. Anything wrong (another
/// ceremony, another user's passkey, a replay, a bad signature) is `400 passkey_failed`.
pub async fn verify_for(
    state: &AppState,
    user_id: &str,
    what: Use<'_>,
    answer: Answer,
) -> Result<String, AppError> {
    let credential: PublicKeyCredential = parse_answer(answer.credential)?;
    let bound = what.bound();
    check_assertion(state, &answer.challenge_id, &credential, what.purpose(), Some((user_id, &bound)))
        .await?
        .map(|row| row.name)
        .map_err(failed)
}
