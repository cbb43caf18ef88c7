//! Password hashing (argon2id on a blocking thread) and the strength rule for new passwords.
use crate::domain::Password;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::users::UserRow;
use crate::ssr::AppState;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

/// argon2id at OWASP's floor: 19 MiB, two passes, one lane.
#[allow(clippy::expect_used, reason = "the parameters are constants within argon2's bounds")]
pub(crate) fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(secret: &[u8]) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
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

/// Hashes any secret (password, passcode, backup code) off the async runtime.
#[tracing::instrument(skip_all)]
pub async fn hash_secret(secret: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_blocking(secret.as_bytes()))
        .await
        .map_err(|e| AppError::internal("hashing task failed", &e))?
}

pub async fn hash(password: &Password) -> Result<String, AppError> {
    hash_secret(password.expose().to_owned()).await
}

/// Verifies off the async runtime; `None` (no such user, or no password) still costs one verify.
#[tracing::instrument(skip_all)]
pub async fn verify(secret: String, stored: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let (stored, real) = match &stored {
            Some(h) => (h.as_str(), true),
            None => (dummy_hash(), false),
        };
        let ok = PasswordHash::new(stored)
            .map(|parsed| argon2().verify_password(secret.as_bytes(), &parsed).is_ok());
        match ok {
            Ok(ok) => Ok(ok && real),
            Err(e) => {
                tracing::error!(error = %e, "stored hash is unreadable");
                Ok(false)
            }
        }
    })
    .await
    .map_err(|e| AppError::internal("verify task failed", &e))?
}

/// Refuses passwords that are common or easy to guess (zxcvbn score below 3), judged also
/// against the user's own names.
pub fn check_strength(field: &str, password: &Password, user_inputs: &[&str]) -> Result<(), AppError> {
    let mut inputs: Vec<&str> = user_inputs.to_vec();
    inputs.push("portcullis");
    let entropy = zxcvbn::zxcvbn(password.expose(), &inputs);
    if u8::from(entropy.score()) < 3 {
        let hint = entropy
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "It is too common or too easy to guess.".into());
        return Err(AppError::invalid(
            ErrorKind::WeakPassword,
            Some(field),
            format!("Choose a stronger password. {hint} A few unrelated words make a strong one."),
        ));
    }
    Ok(())
}

/// Re-authentication: checks the caller's current password for a sensitive change. Wrong guesses count toward the
/// same per-username failure limit as sign-in, so a borrowed session cannot brute-force it.
pub async fn confirm(
    state: &AppState,
    user: &UserRow,
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
    let limit = super::rate_limit::Limit::login_user(&user.username.to_ascii_lowercase());
    super::rate_limit::check(state, &limit).await?;
    if !verify(password, Some(stored)).await? {
        super::rate_limit::record(state, &limit).await?;
        return Err(AppError::from(ErrorKind::WrongPassword));
    }
    Ok(())
}

/// Warms the dummy hash at start so the first unknown-user login is not faster than the rest.
pub fn warm_up() {
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

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        for weak in ["password123", "qwertyuiop", "alice2024!", "11111111"] {
            let p = Password::parse(weak.into()).unwrap();
            assert!(check_strength("password", &p, &["alice"]).is_err(), "{weak} should be weak");
        }
        let strong = Password::parse("grumpy-lantern-orbit-41".into()).unwrap();
        assert!(check_strength("password", &strong, &["alice"]).is_ok());
    }
}
