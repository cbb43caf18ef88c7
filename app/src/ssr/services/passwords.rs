//! Password hashing (argon2id on the password workers, `ssr::hashing`) and the strength rule for new passwords.
use super::identity::Caller;
use super::rate_limit::{self, Attempt, Limit};
use crate::domain::Password;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::users::UserRow;
use crate::ssr::hashing;
use crate::ssr::AppState;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Version};
use std::sync::OnceLock;

fn hash_blocking(secret: &[u8]) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, hashing::params())
        .hash_password(secret, &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal("argon2 hashing failed", &e))
}

/// A hash of nothing anyone knows, verified against when the user does not exist, so an
/// unknown username costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking(crate::ssr::keys::random_hex(16).as_bytes()).unwrap_or_default())
}

/// Hashes any secret (password, passcode, backup code) on a password worker.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn hash_secret(secret: String) -> Result<String, AppError> {
    hashing::run(move |scratch| scratch.hash(secret.as_bytes())).await
}

pub async fn hash(password: &Password) -> Result<String, AppError> {
    hash_secret(password.expose().to_owned()).await
}

/// Verifies on a password worker; `None` (no such user, or no password) still costs one verify.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn verify(secret: String, stored: Option<String>) -> Result<bool, AppError> {
    hashing::run(move |scratch| {
        let (stored, real) = match &stored {
            Some(h) => (h.as_str(), true),
            None => (dummy_hash(), false),
        };
        match scratch.verify(secret.as_bytes(), stored) {
            Ok(ok) => Ok(ok && real),
            Err(e) => {
                tracing::error!(error = %e, "stored hash is unreadable");
                Ok(false)
            }
        }
    })
    .await
}

/// Refuses passwords that are common or easy to guess (zxcvbn score below 3), judged also
/// against the user's own names.
///
/// zxcvbn's cost grows with the length, so it runs in the password work queue (off the async
/// workers) on at most the first 128 characters: a longer password is judged by its start.
pub async fn check_strength(field: &str, password: &Password, user_inputs: &[&str]) -> Result<(), AppError> {
    const JUDGED_CHARS: usize = 128;
    let judged: String = password.expose().chars().take(JUDGED_CHARS).collect();
    let mut inputs: Vec<String> =
        user_inputs.iter().map(|s| s.chars().take(JUDGED_CHARS).collect()).collect();
    inputs.push("portcullis".into());
    let hint = hashing::run(move |_| {
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let entropy = zxcvbn::zxcvbn(&judged, &inputs);
        Ok((u8::from(entropy.score()) < 3).then(|| {
            entropy
                .feedback()
                .and_then(|f| f.warning().map(|w| w.to_string()))
                .unwrap_or_else(|| "It is too common or too easy to guess.".into())
        }))
    })
    .await?;
    match hint {
        Some(hint) => Err(AppError::invalid(
            ErrorKind::WeakPassword,
            Some(field),
            format!("Choose a stronger password. {hint} A few unrelated words make a strong one."),
        )),
        None => Ok(()),
    }
}

/// Re-authentication: checks the caller's current password for a sensitive change. Each try
/// takes a slot of the same account limits as sign-in (`from` names the session), so a
/// borrowed session cannot brute-force it.
pub async fn confirm(
    state: &AppState,
    user: &UserRow,
    from: &str,
    field: &'static str,
    password: String,
) -> Result<(), AppError> {
    if password.is_empty() {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            Some(field),
            "Enter your current password.",
        ));
    }
    let Some(stored) = user.password_hash.clone() else {
        return Err(AppError::of(
            ErrorKind::OidcOnly,
            "This account signs in through single sign-on and has no password.",
        ));
    };
    let attempt = reserve_attempt(state, &user.username.to_ascii_lowercase(), from).await?;
    let (ok, attempt) = judge(state, attempt, password, Some(stored)).await?;
    if !ok {
        return Err(AppError::from(ErrorKind::WrongPassword));
    }
    attempt.refund(state).await
}

/// One password attempt on an account, reserved in both of its buckets (this client network,
/// and the account from anywhere) before the hash is checked.
#[must_use = "refund it when the password was right"]
pub struct PasswordAttempt {
    network: Attempt,
    account: Attempt,
}

impl PasswordAttempt {
    /// A right password gives both slots back.
    pub async fn refund(self, state: &AppState) -> Result<(), AppError> {
        rate_limit::refund_all(state, [self.network, self.account]).await
    }
}

impl rate_limit::Reservation for PasswordAttempt {
    async fn give_back(self, state: &AppState) -> Result<(), AppError> {
        self.refund(state).await
    }
}

/// Checks `typed` against `stored` for a reserved attempt ([`rate_limit::judged`]): the
/// verdict, and the reservation to give back on a right answer.
pub async fn judge<R: rate_limit::Reservation>(
    state: &AppState,
    reserved: R,
    typed: String,
    stored: Option<String>,
) -> Result<(bool, R), AppError> {
    rate_limit::judged(state, reserved, verify(typed, stored).await).await
}

/// Reserves a password attempt on `username_key` from `from` (a client address, or a session
/// for re-authentication), or refuses with `429`.
pub async fn reserve_attempt(
    state: &AppState,
    username_key: &str,
    from: &str,
) -> Result<PasswordAttempt, AppError> {
    let limits = [&Limit::login_user(username_key, from), &Limit::login_account(username_key)];
    let [network, account] = rate_limit::reserve_all(state, limits).await?;
    Ok(PasswordAttempt { network, account })
}

/// A sign-in's password attempt: [`reserve_attempt`] from the client address `ip`, and one of
/// that network's sign-in attempts, which counts whatever the verdict. One statement, so a
/// sign-in pays for one write before its hash, not three.
pub async fn reserve_sign_in(
    state: &AppState,
    username_key: &str,
    ip: &str,
) -> Result<PasswordAttempt, AppError> {
    let limits =
        [&Limit::login_ip(ip), &Limit::login_user(username_key, ip), &Limit::login_account(username_key)];
    let [_counted, network, account] = rate_limit::reserve_all(state, limits).await?;
    Ok(PasswordAttempt { network, account })
}

/// `POST /users/reauthenticate`: the caller types their password again; factor changes are
/// open for 10 minutes from now on this session.
pub async fn reauthenticate(state: &AppState, caller: &Caller, password: String) -> Result<(), AppError> {
    let event = || super::audit::Event::new(crate::audit::EventType::Reauthenticated).by(caller);
    let result = confirm_again(state, caller, password).await;
    super::audit::on_failure(state, result, |e| event().failed(e)).await?;
    let mut change = super::audit::Change::begin(state).await?;
    crate::ssr::db::sessions::set_authenticated_at(change.tx(), &caller.session_id, state.now()).await?;
    change.record(event()).await?;
    change.commit().await
}

async fn confirm_again(state: &AppState, caller: &Caller, password: String) -> Result<(), AppError> {
    caller.session()?;
    let user = crate::ssr::db::users::find_by_id(&state.pool, &caller.user_id)
        .await?
        .ok_or(AppError::from(ErrorKind::Unauthenticated))?;
    confirm(state, &user, &caller.reauth_source(), "password", password).await.map_err(|e| {
        if e.is(ErrorKind::WrongPassword) {
            e.with_field("password", "That is not your password.")
        } else {
            e
        }
    })
}

/// Starts the password workers and warms the dummy hash, so the first unknown-user login is
/// not faster than the rest.
pub fn warm_up() {
    hashing::start();
    let _ = dummy_hash();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let p = Password::parse("grumpy-lantern-orbit-41".into()).unwrap();
        let h = hash(&p).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("grumpy-lantern-orbit-41".into(), Some(h.clone())).await.unwrap());
        assert!(!verify("grumpy-lantern-orbit-42".into(), Some(h)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn common_and_guessable_passwords_are_refused() {
        for weak in ["password123", "qwertyuiop", "alice2024!", "11111111"] {
            let p = Password::parse(weak.into()).unwrap();
            assert!(check_strength("password", &p, &["alice"]).await.is_err(), "{weak} should be weak");
        }
        let strong = Password::parse("grumpy-lantern-orbit-41".into()).unwrap();
        assert!(check_strength("password", &strong, &["alice"]).await.is_ok());
    }
}
