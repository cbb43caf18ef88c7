//! Per-user encrypted data ("the vault").
//!
//! Each user has a random 256-bit data key. It is stored only wrapped (AES-256-GCM) by a key
//! derived from their password with argon2id (19 MiB, t=2, p=1) and a per-user salt, so the
//! database and the instance key together still cannot open anyone's items. "Unlocked" means
//! this process holds the data key for a live session, in memory only.
//!
//! Decisions: the vault is created on the first `unlock-data` (users who never use it pay no
//! extra hash at sign-in); once it exists, a password sign-in unlocks it for the new session
//! (after the second step, on the node that took the password). A restart, or a request that
//! lands on another node, finds it locked again: `423 data_locked`, and the page asks for the
//! password (`unlock-data`). A password change re-wraps the same key; a reset cannot, so it
//! clears the items and says so. API keys have no session and cannot unlock the vault.
use super::identity::Caller;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{
    self,
    vault::{VaultChange, WrappedKey},
};
use crate::ssr::keys::{open_with, seal_with};
use crate::ssr::AppState;
use rand::RngCore;
use std::collections::HashMap;
use std::sync::Mutex;
use zeroize::Zeroizing;

type DataKey = Zeroizing<[u8; 32]>;

/// Longest item name (characters) and value (bytes).
pub const MAX_NAME: usize = 128;
pub const MAX_VALUE: usize = 64 * 1024;

struct Held {
    user_id: String,
    key: DataKey,
    since: i64,
}

/// The data keys this process holds, by session id (or `mfa:<challenge>` between the two
/// sign-in steps). Never written anywhere.
#[derive(Default)]
pub struct KeyRing(Mutex<HashMap<String, Held>>);

impl KeyRing {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, Held>) -> R) -> R {
        let mut map = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut map)
    }

    fn put(&self, slot: &str, user_id: &str, key: DataKey, now: i64) {
        self.with(|m| m.insert(slot.to_owned(), Held { user_id: user_id.to_owned(), key, since: now }));
    }

    fn get(&self, slot: &str, user_id: &str) -> Option<DataKey> {
        self.with(|m| m.get(slot).filter(|h| h.user_id == user_id).map(|h| h.key.clone()))
    }

    /// Moves a held key to another slot (second sign-in step done, or unlock's new session).
    pub fn carry(&self, from: &str, to: &str) {
        self.with(|m| {
            if let Some(h) = m.remove(from) {
                m.insert(to.to_owned(), h);
            }
        });
    }

    pub fn forget(&self, slot: &str) {
        self.with(|m| m.remove(slot));
    }

    pub fn forget_user(&self, user_id: &str) {
        self.with(|m| m.retain(|_, h| h.user_id != user_id));
    }

    fn slots(&self) -> Vec<(String, i64)> {
        self.with(|m| m.iter().map(|(k, h)| (k.clone(), h.since)).collect())
    }
}

/// The slot a key waits in between the password step and the second step.
pub fn challenge_slot(challenge_id: &str) -> String {
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
    super::passwords::run_bounded(move || {
        let mut out = Zeroizing::new([0u8; 32]);
        super::passwords::argon2()
            .hash_password_into(password.as_bytes(), &salt, out.as_mut())
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
        .ok_or_else(|| AppError::bug("the vault key does not open with the verified password"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    if raw.len() != 32 {
        return Err(AppError::bug("an opened vault key is not 32 bytes"));
    }
    key.copy_from_slice(&raw);
    Ok(Some(key))
}

/// After a password sign-in: unlocks an existing vault into `slot`. Does nothing without one.
pub async fn unlock_on_sign_in(
    state: &AppState,
    user_id: &str,
    password: &str,
    slot: &str,
) -> Result<(), AppError> {
    if let Some(key) = open_key(state, user_id, password.to_owned()).await? {
        state.vault.put(slot, user_id, key, state.now());
    }
    Ok(())
}

/// `POST /users/unlock-data`: checks the password (wrong ones count toward the per-username
/// sign-in failure limit), then unlocks the vault for this session, creating it on first use.
pub async fn unlock_with_password(
    state: &AppState,
    caller: &Caller,
    password: String,
) -> Result<(), AppError> {
    caller.session()?;
    let user = db::users::find_by_id(&state.pool, &caller.user_id)
        .await?
        .ok_or(AppError::from(ErrorKind::Unauthenticated))?;
    super::passwords::confirm(state, &user, &caller.reauth_source(), "password", password.clone()).await?;
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
    state.vault.put(session, &caller.user_id, key, state.now());
    Ok(())
}

pub fn is_unlocked(state: &AppState, caller: &Caller) -> bool {
    caller.session().ok().is_some_and(|s| state.vault.get(s, &caller.user_id).is_some())
}

fn held_key(state: &AppState, caller: &Caller) -> Result<DataKey, AppError> {
    let session = caller.session()?;
    state.vault.get(session, &caller.user_id).ok_or_else(|| AppError::from(ErrorKind::DataLocked))
}

/// One item as the vault lists it. No `Debug`: it holds the decrypted value.
#[derive(Clone)]
pub struct Item {
    pub name: String,
    pub value: String,
    pub updated_at: i64,
}

pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Item>, AppError> {
    let key = held_key(state, caller)?;
    db::vault::items(&state.pool, &caller.user_id)
        .await?
        .into_iter()
        .map(|row| {
            let plain = open_with(&key, &row.value_enc, &item_context(&caller.user_id, &row.name))
                .ok_or_else(|| AppError::bug("a vault item does not open with the user's data key"))?;
            let value =
                String::from_utf8(plain).map_err(|e| AppError::internal("a vault item is not UTF-8", &e))?;
            Ok(Item { name: row.name, value, updated_at: row.updated_at })
        })
        .collect()
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
    let key = held_key(state, caller)?;
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

/// Drops keys whose session ended and second steps never finished. Run now and then.
pub async fn prune(state: &AppState) -> Result<(), AppError> {
    let now = state.now();
    for (slot, since) in state.vault.slots() {
        let live = if slot.starts_with("mfa:") {
            now - since < 15 * 60
        } else {
            db::sessions::find(&state.pool, &slot)
                .await?
                .is_some_and(|s| s.revoked_at.is_none() && s.expires_at > now)
        };
        if !live {
            state.vault.forget(&slot);
        }
    }
    Ok(())
}
