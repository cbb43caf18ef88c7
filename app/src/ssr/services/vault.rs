//! Per-user encrypted data ("the vault").
//!
//! Each user has a random 256-bit data key. It is stored only wrapped (AES-256-GCM) by a key
//! derived from their password with argon2id (19 MiB, t=2, p=1) and a per-user salt, so the
//! database and the instance key together still cannot open anyone's items. "Unlocked" means
//! this process holds the data key for a live session, in memory only.
//!
//! An open vault is the data key sealed (AES-256-GCM) for one session, under a 256-bit secret
//! that only that session's token carries (its `vk` claim) and the server never stores. Any
//! node the token reaches, or this one after a restart, opens it; a copy of the database does
//! not, with or without the instance key. Revoking or ending the session drops the sealed key;
//! a password change or reset drops it in every session of the user.
//!
//! Decisions: the vault is created on the first `unlock-data` (users who never use it pay no
//! extra hash at sign-in); once it exists, a password sign-in opens it for the new session
//! (between the two sign-in steps it waits sealed for the MFA-pending token). Sessions that
//! did not come from a password (SSO, directory, a new session after the screen lock when
//! the old one was closed) answer `423 data_locked` until the password is typed
//! (`unlock-data`). A password change re-wraps the same key; a reset cannot, so it clears the
//! items and says so. API keys have no session and cannot open the vault.
use super::audit::{self, Event};
use super::identity::Caller;
use crate::audit::EventType;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{
    self,
    vault::{VaultChange, WrappedKey},
};
use crate::ssr::keys::{open_with, seal_with, TokenSecret};
use crate::ssr::AppState;
use rand::RngCore;
use zeroize::Zeroizing;

type DataKey = Zeroizing<[u8; 32]>;

/// Longest item name (characters) and value (bytes).
pub const MAX_NAME: usize = 128;
pub const MAX_VALUE: usize = 64 * 1024;

/// The context a data key is sealed under for one session (or one second step).
fn session_context(slot: &str) -> String {
    format!("vault-session:{slot}")
}

fn seal_for(secret: &TokenSecret, slot: &str, key: &DataKey) -> Result<String, AppError> {
    secret.seal(key.as_ref(), &session_context(slot))
}

fn open_for(secret: &TokenSecret, slot: &str, sealed: &str) -> Option<DataKey> {
    let raw = secret.open(sealed, &session_context(slot))?;
    let mut key = Zeroizing::new([0u8; 32]);
    (raw.len() == 32).then(|| {
        key.copy_from_slice(&raw);
        key
    })
}

/// The slot name of a second step waiting for its code.
fn challenge_slot(challenge_id: &str) -> String {
    format!("mfa:{challenge_id}")
}

fn wrap_context(user_id: &str) -> String {
    format!("vault-key:{user_id}")
}

fn item_context(user_id: &str, name: &str) -> String {
    format!("vault-item:{user_id}:{name}")
}

/// argon2id(password, salt) → 32 bytes, in the password work queue.
async fn derive(password: String, salt: Vec<u8>) -> Result<DataKey, AppError> {
    crate::ssr::hashing::run(move |scratch| {
        let mut out = Zeroizing::new([0u8; 32]);
        scratch
            .derive(password.as_bytes(), &salt, out.as_mut())
            .map_err(|e| AppError::internal("vault key derivation failed", &e))?;
        Ok(out)
    })
    .await
}

fn decode_salt(w: &WrappedKey) -> Result<Vec<u8>, AppError> {
    hex::decode(&w.vault_salt).map_err(|e| AppError::internal("a stored vault salt is not hex", &e))
}

/// Wraps `key` with a fresh salt and a key derived from `password`.
async fn wrap(user_id: &str, key: &DataKey, password: String) -> Result<WrappedKey, AppError> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let kek = derive(password, salt.to_vec()).await?;
    Ok(WrappedKey {
        vault_salt: hex::encode(salt),
        vault_key_wrapped: seal_with(&kek, key.as_ref(), &wrap_context(user_id))?,
    })
}

/// The user's data key, opened with their (already verified) password. `None` when the user
/// has no vault yet.
async fn open_key(state: &AppState, user_id: &str, password: String) -> Result<Option<DataKey>, AppError> {
    let Some(w) = db::vault::wrapped_key(&state.pool, user_id).await? else { return Ok(None) };
    let kek = derive(password, decode_salt(&w)?).await?;
    let raw = open_with(&kek, &w.vault_key_wrapped, &wrap_context(user_id))
        .map(Zeroizing::new)
        .ok_or_else(|| AppError::bug("the vault key does not open with the verified password"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    if raw.len() != 32 {
        return Err(AppError::bug("an opened vault key is not 32 bytes"));
    }
    key.copy_from_slice(&raw);
    Ok(Some(key))
}

/// After a password sign-in that owes a second step: opens an existing vault and keeps its
/// key sealed for the MFA-pending token (`secret`) until the step is done.
pub async fn open_for_second_step(
    state: &AppState,
    user_id: &str,
    password: &str,
    challenge_id: &str,
    secret: &TokenSecret,
) -> Result<(), AppError> {
    if let Some(key) = open_key(state, user_id, password.to_owned()).await? {
        let sealed = seal_for(secret, &challenge_slot(challenge_id), &key)?;
        db::totp::set_challenge_vault_key(&state.pool, challenge_id, &sealed).await?;
    }
    Ok(())
}

/// After a password sign-in: opens an existing vault for the new session. Does nothing
/// without one.
pub async fn open_on_sign_in(
    state: &AppState,
    signed_in: &super::identity::SignedIn,
    password: &str,
) -> Result<(), AppError> {
    if let Some(key) = open_key(state, &signed_in.account.id, password.to_owned()).await? {
        keep_for_session(state, &signed_in.session_id, &signed_in.vault_secret, &key).await?;
    }
    Ok(())
}

/// The second step done: the key waiting for the MFA-pending token (`from`, its secret)
/// moves to the new session.
pub async fn carry_from_second_step(
    state: &AppState,
    challenge_id: &str,
    sealed: Option<&str>,
    from: Option<&TokenSecret>,
    to: &super::identity::SignedIn,
) -> Result<(), AppError> {
    let (Some(sealed), Some(from)) = (sealed, from) else { return Ok(()) };
    if let Some(key) = open_for(from, &challenge_slot(challenge_id), sealed) {
        keep_for_session(state, &to.session_id, &to.vault_secret, &key).await?;
    }
    Ok(())
}

/// A session replacing the caller's (the screen-lock unlock) keeps an open vault open: the
/// key the caller holds, sealed for the session `to` (none when the vault is not open).
pub fn resealed_for(caller: &Caller, to: &super::identity::SignedIn) -> Result<Option<String>, AppError> {
    match held_key(caller) {
        Ok(key) => Ok(Some(seal_for(&to.vault_secret, &to.session_id, &key)?)),
        Err(_) => Ok(None),
    }
}

async fn keep_for_session(
    state: &AppState,
    session_id: &str,
    secret: &TokenSecret,
    key: &DataKey,
) -> Result<(), AppError> {
    let sealed = seal_for(secret, session_id, key)?;
    db::sessions::set_vault_key(&state.pool, session_id, Some(&sealed)).await?;
    Ok(())
}

/// `POST /users/unlock-data`: checks the password (wrong ones count toward the per-username
/// sign-in failure limit), then unlocks the vault for this session, creating it on first use.
pub async fn unlock_with_password(
    state: &AppState,
    caller: &Caller,
    password: String,
) -> Result<(), AppError> {
    let event = || Event::new(EventType::VaultUnlocked).by(caller);
    let result = async {
        caller.session()?;
        let user = db::users::find_by_id(&state.pool, &caller.user_id)
            .await?
            .ok_or(AppError::from(ErrorKind::Unauthenticated))?;
        super::passwords::confirm(state, &user, &caller.reauth_source(), "password", password.clone()).await
    }
    .await;
    audit::on_failure(state, result, |e| event().failed(e)).await?;
    unlock(state, caller, password).await
}

async fn unlock(state: &AppState, caller: &Caller, password: String) -> Result<(), AppError> {
    let session = caller.session()?;
    let key = match open_key(state, &caller.user_id, password.clone()).await? {
        Some(k) => k,
        None => {
            let mut key = Zeroizing::new([0u8; 32]);
            rand::rngs::OsRng.fill_bytes(key.as_mut());
            let wrapped = wrap(&caller.user_id, &key, password.clone()).await?;
            if db::vault::create_wrapped_key(&state.pool, &caller.user_id, &wrapped).await? {
                tracing::info!(user = %caller.user_id, "vault created");
                key
            } else {
                // Another request created it first: use that one.
                open_key(state, &caller.user_id, password)
                    .await?
                    .ok_or_else(|| AppError::bug("a vault created by another request does not open"))?
            }
        }
    };
    let secret = caller.vault_secret.as_ref().ok_or_else(|| AppError::from(ErrorKind::DataLocked))?;
    let sealed = seal_for(secret, session, &key)?;
    let mut change = audit::Change::begin(state).await?;
    db::sessions::set_vault_key(change.tx(), session, Some(&sealed)).await?;
    change.record(Event::new(EventType::VaultUnlocked).by(caller)).await?;
    change.commit().await
}

pub fn is_unlocked(caller: &Caller) -> bool {
    held_key(caller).is_ok()
}

/// The data key sealed for the caller's session, opened with the secret their token carries.
fn held_key(caller: &Caller) -> Result<DataKey, AppError> {
    let session = caller.session()?;
    let locked = || AppError::from(ErrorKind::DataLocked);
    let (secret, sealed) = (
        caller.vault_secret.as_ref().ok_or_else(locked)?,
        caller.vault_key_sealed.as_deref().ok_or_else(locked)?,
    );
    open_for(secret, session, sealed).ok_or_else(locked)
}

/// One item as the vault lists it. No `Debug`: it holds the decrypted value.
#[derive(Clone)]
pub struct Item {
    pub name: String,
    pub value: String,
    pub updated_at: i64,
}

pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Item>, AppError> {
    let key = held_key(caller)?;
    db::vault::items(&state.pool, &caller.user_id)
        .await?
        .into_iter()
        .map(|row| open_item(&key, &caller.user_id, row))
        .collect()
}

/// A stored item opened with the user's data key.
fn open_item(key: &DataKey, user_id: &str, row: db::vault::ItemRow) -> Result<Item, AppError> {
    let plain = open_with(key, &row.value_enc, &item_context(user_id, &row.name))
        .ok_or_else(|| AppError::bug("a vault item does not open with the user's data key"))?;
    let value = String::from_utf8(plain).map_err(|e| AppError::internal("a vault item is not UTF-8", &e))?;
    Ok(Item { name: row.name, value, updated_at: row.updated_at })
}

/// One item's value (the page's "Show" and "Copy": values are sent only when asked for).
pub async fn value_of(state: &AppState, caller: &Caller, name: &str) -> Result<String, AppError> {
    let key = held_key(caller)?;
    let row = db::vault::item(&state.pool, &caller.user_id, name.trim())
        .await?
        .ok_or_else(|| AppError::of(ErrorKind::ItemNotFound, "No such item."))?;
    open_item(&key, &caller.user_id, row).map(|i| i.value)
}

fn check_name(name: &str) -> Result<&str, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("name"),
            "Name the item with 1 to 128 printable characters.",
        ));
    }
    Ok(name)
}

/// Stores (or replaces) one item, sealed with the user's data key.
pub async fn put(state: &AppState, caller: &Caller, name: &str, value: &str) -> Result<(), AppError> {
    let name = check_name(name)?;
    if value.len() > MAX_VALUE {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some("value"),
            "An item holds at most 64 KiB.",
        ));
    }
    let key = held_key(caller)?;
    let sealed = seal_with(&key, value.as_bytes(), &item_context(&caller.user_id, name))?;
    db::vault::put_item(&state.pool, &caller.user_id, name, &sealed, state.now()).await?;
    Ok(())
}

/// Deletes one item; needs no unlock (nothing is read).
pub async fn delete(state: &AppState, caller: &Caller, name: &str) -> Result<(), AppError> {
    // The vault belongs to a person at a keyboard: an API key can neither read nor change it.
    caller.session()?;
    if !db::vault::delete_item(&state.pool, &caller.user_id, name.trim()).await? {
        return Err(AppError::of(ErrorKind::ItemNotFound, "No such item."));
    }
    Ok(())
}

/// For a password change: the same data key, wrapped by the new password. The old password
/// was verified by the caller.
pub async fn rewrap(
    state: &AppState,
    user_id: &str,
    old_password: &str,
    new_password: &str,
) -> Result<VaultChange, AppError> {
    match open_key(state, user_id, old_password.to_owned()).await? {
        Some(key) => Ok(VaultChange::Rewrap(wrap(user_id, &key, new_password.to_owned()).await?)),
        None => Ok(VaultChange::Keep),
    }
}

/// Drops the sealed keys of sessions that ended. Run now and then.
pub async fn prune(state: &AppState) -> Result<(), AppError> {
    db::sessions::prune_vault_keys(&state.pool, state.now()).await?;
    Ok(())
}
