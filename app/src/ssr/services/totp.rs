//! The second factor: TOTP enrollment, codes accepted once, backup codes and trusted devices.
//! The second sign-in step itself (challenge, session) belongs to `sign_in`.
use super::audit::{self, Event};
use super::identity::{AdminUser, Caller, ClientMeta};
use super::passwords;
use super::rate_limit::{self, Attempt, Limit};
use crate::audit::EventType;
use crate::domain::SecondFactor;
use crate::error::{AppError, ErrorKind};
use crate::ssr::db::{self, totp as totp_db, users::UserRow};
use crate::ssr::keys::{digest, new_id, random_hex};
use crate::ssr::AppState;
use rand::Rng;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

pub const STEP_SECS: u64 = 30;
pub const TRUSTED_DEVICE_SECS: i64 = 30 * 24 * 3600;
pub const BACKUP_CODE_COUNT: usize = 8;
const ISSUER: &str = "Portcullis";

/// Wrong second factors per user: 5 per 5 minutes, then `429`.
fn failures(user_id: &str) -> Limit {
    Limit::new("mfa", user_id, 5, 5 * 60)
}

fn totp(secret: Vec<u8>, account: &str) -> Result<TOTP, AppError> {
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECS, secret, Some(ISSUER.into()), account.into())
        .map_err(|e| AppError::internal("cannot build a TOTP", &e))
}

/// The 6-digit code for `secret` at Unix time `t` (SHA-1, 30 s steps).
pub fn code_at(secret: &[u8], t: u64) -> String {
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, STEP_SECS, secret.to_vec(), None, String::new()).generate(t)
}

fn seed_context(user_id: &str) -> String {
    format!("totp-seed:{user_id}")
}

/// What the enrollment screen shows. The secret is shown once, to its owner.
pub struct Enrollment {
    pub secret_base32: String,
    pub otpauth_url: String,
    /// `data:image/svg+xml;base64,…` of the otpauth URL.
    pub qr_code: String,
}

async fn load_user(state: &AppState, user_id: &str) -> Result<UserRow, AppError> {
    db::users::find_by_id(&state.pool, user_id).await?.ok_or(AppError::from(ErrorKind::Unauthenticated))
}

/// Starts (or restarts) enrollment: a fresh 160-bit seed, stored sealed as pending. Nothing
/// about sign-in changes until [`enable`] confirms a code.
#[tracing::instrument(skip_all)]
pub async fn begin_enrollment(state: &AppState, caller: &Caller) -> Result<Enrollment, AppError> {
    caller.require_recent_authentication(state.now())?;
    let user = load_user(state, &caller.user_id).await?;
    if user.totp_enabled {
        return Err(AppError::invalid(
            ErrorKind::TotpAlreadyEnabled,
            None,
            "Two-factor sign-in is already on.",
        ));
    }
    let mut seed = [0u8; 20];
    rand::rngs::OsRng.fill(&mut seed);
    let t = totp(seed.to_vec(), &user.username)?;
    let sealed = state.keys.seal(&seed, &seed_context(&user.id))?;
    db::users::set_totp_pending(&state.pool, &user.id, &sealed).await?;
    let url = t.get_url();
    let svg = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| AppError::internal("QR encoding failed", &e))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    use base64::Engine;
    Ok(Enrollment {
        secret_base32: t.get_secret_base32(),
        otpauth_url: url,
        qr_code: format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(svg)
        ),
    })
}

/// Accepts `code` for `secret` within ±1 step, and only once: the matching step is claimed in
/// the database, so the same code (or an older one) is refused afterwards.
async fn accept_code(state: &AppState, user_id: &str, secret: &[u8], code: &str) -> Result<bool, AppError> {
    let now = state.now().max(0) as u64;
    let current = now / STEP_SECS;
    for step in [current + 1, current, current.saturating_sub(1)] {
        let expected = code_at(secret, step * STEP_SECS);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            return Ok(db::users::claim_totp_step(&state.pool, user_id, step as i64).await?);
        }
    }
    Ok(false)
}

fn active_seed(state: &AppState, user: &UserRow) -> Result<Vec<u8>, AppError> {
    let sealed = user
        .totp_secret_enc
        .as_deref()
        .ok_or_else(|| AppError::bug("two-factor is on but no seed is stored"))?;
    state.keys.open(sealed, &seed_context(&user.id))
}

/// Reserves one of the user's tries before a code is judged, or refuses with `429` once they
/// are used up. A right code gives its try back ([`rate_limit::refund`]).
async fn guard(state: &AppState, user_id: &str) -> Result<Attempt, AppError> {
    rate_limit::reserve(state, &failures(user_id)).await
}

/// Answers `429` when the user has no tries left in the window, without taking one (so a
/// caller can tell "out of tries" before anything else).
pub async fn refuse_when_out_of_tries(state: &AppState, user_id: &str) -> Result<(), AppError> {
    rate_limit::refuse_when_full(state, &failures(user_id)).await
}

/// The `401` for a wrong code (its try stays counted), with what is left.
async fn wrong(state: &AppState, user_id: &str) -> Result<AppError, AppError> {
    let left = rate_limit::remaining(state, &failures(user_id)).await?;
    Ok(AppError::from(ErrorKind::WrongCode).with_remaining_attempts(left as u32))
}

fn new_backup_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..10).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// Makes 8 new backup codes, stores their argon2id hashes (replacing the old ones) and
/// answers them for display as `xxxxx-xxxxx`, once.
/// New backup codes as shown once (`xxxxx-xxxxx`) and their rows to store `(id, hash)`.
async fn new_backup_codes() -> Result<(Vec<String>, Vec<(String, String)>), AppError> {
    let codes: Vec<String> = (0..BACKUP_CODE_COUNT).map(|_| new_backup_code()).collect();
    let mut rows = Vec::with_capacity(codes.len());
    for c in &codes {
        rows.push((new_id(), passwords::hash_secret(c.clone()).await?));
    }
    Ok((codes.into_iter().map(|c| format!("{}-{}", &c[..5], &c[5..])).collect(), rows))
}

/// Spends a backup code if it is one of the user's unused ones.
async fn accept_backup_code(state: &AppState, user_id: &str, code: &str) -> Result<bool, AppError> {
    for row in totp_db::unused_backup_codes(&state.pool, user_id).await? {
        if passwords::verify(code.to_owned(), Some(row.code_hash)).await? {
            return Ok(totp_db::use_backup_code(&state.pool, &row.id, state.now()).await?);
        }
    }
    Ok(false)
}

/// Confirms enrollment with a current code: turns two-factor on, answers 8 backup codes, and
/// signs out the user's other sessions and trusted devices.
pub async fn enable(state: &AppState, caller: &Caller, code: &str) -> Result<Vec<String>, AppError> {
    let result = confirm_enrollment(state, caller, code).await;
    audit::on_failure(state, result, |e| Event::new(EventType::TwoFactorEnabled).by(caller).failed(e)).await
}

#[tracing::instrument(skip_all)]
async fn confirm_enrollment(state: &AppState, caller: &Caller, code: &str) -> Result<Vec<String>, AppError> {
    caller.require_recent_authentication(state.now())?;
    let code = SecondFactor::parse_totp("totp_code", code)?;
    let user = load_user(state, &caller.user_id).await?;
    if user.totp_enabled {
        return Err(AppError::invalid(
            ErrorKind::TotpAlreadyEnabled,
            None,
            "Two-factor sign-in is already on.",
        ));
    }
    let sealed = user.totp_pending_enc.as_deref().ok_or_else(|| {
        AppError::invalid(ErrorKind::TotpSetupRequired, None, "Start two-factor setup first.")
    })?;
    let attempt = guard(state, &user.id).await?;
    let seed = state.keys.open(sealed, &seed_context(&user.id))?;
    if !accept_code(state, &user.id, &seed, &code).await? {
        return Err(wrong(state, &user.id).await?);
    }
    rate_limit::refund(state, attempt).await?;
    let (codes, rows) = new_backup_codes().await?;
    let mut change = audit::Change::begin(state).await?;
    if !db::users::enable_totp(change.tx(), &user.id, sealed).await? {
        return Err(AppError::invalid(
            ErrorKind::TotpAlreadyEnabled,
            None,
            "Two-factor sign-in is already on.",
        ));
    }
    totp_db::replace_backup_codes(change.tx(), &user.id, &rows).await?;
    let ended =
        db::sessions::revoke_all_for_user(change.tx(), &user.id, Some(&caller.session_id), state.now())
            .await?;
    totp_db::forget_trusted_devices(change.tx(), &user.id).await?;
    change
        .record(Event::new(EventType::TwoFactorEnabled).by(caller).detail("other_sessions_revoked", ended))
        .await?;
    change.commit().await?;
    tracing::info!(user = %user.id, "two-factor sign-in enabled");
    Ok(codes)
}

/// What proves it is really the user before two-factor is turned off or its codes replaced.
#[derive(Default)]
pub struct Proof {
    pub password: Option<String>,
    pub totp_code: Option<String>,
}

async fn check_proof(state: &AppState, user: &UserRow, proof: Proof) -> Result<(), AppError> {
    let password = proof.password.filter(|p| !p.is_empty());
    let code = proof.totp_code.filter(|c| !c.trim().is_empty());
    if !user.totp_enabled {
        return Err(AppError::invalid(ErrorKind::TotpNotEnabled, None, "Two-factor sign-in is not on."));
    }
    if password.is_none() && code.is_none() {
        return Err(AppError::invalid(
            ErrorKind::InvalidRequest,
            None,
            "Give your password or a current code from your app.",
        ));
    }
    let attempt = guard(state, &user.id).await?;
    let ok = match code {
        Some(code) => {
            let code = SecondFactor::parse_totp("totp_code", &code)?;
            let seed = active_seed(state, user)?;
            if !accept_code(state, &user.id, &seed, &code).await? {
                return Err(wrong(state, &user.id).await?);
            }
            true
        }
        None => passwords::verify(password.unwrap_or_default(), user.password_hash.clone()).await?,
    };
    if !ok {
        return Err(ErrorKind::InvalidCredentials.into());
    }
    rate_limit::refund(state, attempt).await
}

pub async fn disable(state: &AppState, caller: &Caller, proof: Proof) -> Result<(), AppError> {
    let result = turn_off(state, caller, proof).await;
    audit::on_failure(state, result, |e| Event::new(EventType::TwoFactorDisabled).by(caller).failed(e)).await
}

#[tracing::instrument(skip_all)]
async fn turn_off(state: &AppState, caller: &Caller, proof: Proof) -> Result<(), AppError> {
    let user = load_user(state, &caller.user_id).await?;
    check_proof(state, &user, proof).await?;
    let mut change = audit::Change::begin(state).await?;
    db::users::disable_totp(change.tx(), &user.id).await?;
    totp_db::delete_backup_codes(change.tx(), &user.id).await?;
    totp_db::forget_trusted_devices(change.tx(), &user.id).await?;
    change.record(Event::new(EventType::TwoFactorDisabled).by(caller)).await?;
    change.commit().await?;
    tracing::info!(user = %user.id, "two-factor sign-in disabled");
    Ok(())
}

pub async fn regenerate_backup_codes(
    state: &AppState,
    caller: &Caller,
    proof: Proof,
) -> Result<Vec<String>, AppError> {
    let result = regenerate(state, caller, proof).await;
    audit::on_failure(state, result, |e| Event::new(EventType::BackupCodesRegenerated).by(caller).failed(e))
        .await
}

#[tracing::instrument(skip_all)]
async fn regenerate(state: &AppState, caller: &Caller, proof: Proof) -> Result<Vec<String>, AppError> {
    caller.require_recent_authentication(state.now())?;
    let user = load_user(state, &caller.user_id).await?;
    check_proof(state, &user, proof).await?;
    let (codes, rows) = new_backup_codes().await?;
    let mut change = audit::Change::begin(state).await?;
    totp_db::replace_backup_codes(change.tx(), &user.id, &rows).await?;
    change.record(Event::new(EventType::BackupCodesRegenerated).by(caller)).await?;
    change.commit().await?;
    Ok(codes)
}

/// An admin turns a user's two-factor off (a lost phone and lost backup codes): the TOTP seed,
/// backup codes and trusted devices go; the user signs in with the password alone until they
/// enrol again.
pub async fn reset_for_user(admin: &AdminUser, state: &AppState, user_id: &str) -> Result<(), AppError> {
    let result = reset(admin, state, user_id).await;
    audit::on_failure(state, result, |e| {
        Event::new(EventType::TwoFactorReset)
            .by_admin(admin)
            .about(user_id, "")
            .target("user", user_id)
            .failed(e)
    })
    .await
}

#[tracing::instrument(skip_all)]
async fn reset(admin: &AdminUser, state: &AppState, user_id: &str) -> Result<(), AppError> {
    admin.caller().require_recent_authentication(state.now())?;
    let user = db::users::find_by_id(&state.pool, user_id.trim())
        .await?
        .ok_or_else(|| AppError::of(ErrorKind::UserNotFound, "No such user."))?;
    let mut change = audit::Change::begin(state).await?;
    db::users::disable_totp(change.tx(), &user.id).await?;
    totp_db::delete_backup_codes(change.tx(), &user.id).await?;
    totp_db::forget_trusted_devices(change.tx(), &user.id).await?;
    change
        .record(
            Event::new(EventType::TwoFactorReset)
                .by_admin(admin)
                .about(&user.id, &user.username)
                .target("user", &user.id),
        )
        .await?;
    change.commit().await?;
    tracing::warn!(user = %user.id, by = %admin.caller().user_id, "two-factor sign-in reset by an admin");
    Ok(())
}

/// Proves a current TOTP code for a signed-in user (terminal locks): one use per code, wrong
/// codes counted toward the same 5-per-5-minutes limit as sign-in.
pub async fn prove_code(state: &AppState, user_id: &str, code: &str) -> Result<(), AppError> {
    let code = SecondFactor::parse_totp("code", code)?;
    let user = load_user(state, user_id).await?;
    if !user.totp_enabled {
        return Err(AppError::invalid(ErrorKind::MfaRequired, None, "Two-factor sign-in is not on."));
    }
    let attempt = guard(state, user_id).await?;
    if accept_code(state, user_id, &active_seed(state, &user)?, &code).await? {
        rate_limit::refund(state, attempt).await
    } else {
        Err(wrong(state, user_id).await?)
    }
}

pub async fn is_enabled(state: &AppState, user_id: &str) -> Result<bool, AppError> {
    Ok(load_user(state, user_id).await?.totp_enabled)
}

/// Whether this browser's trusted-device cookie vouches for the user.
pub async fn is_trusted_device(
    state: &AppState,
    user_id: &str,
    device_token: Option<&str>,
) -> Result<bool, AppError> {
    match device_token {
        Some(t) if t.len() == 64 => {
            Ok(totp_db::is_trusted_device(&state.pool, user_id, &digest(t), state.now()).await?)
        }
        _ => Ok(false),
    }
}

/// Remembers this browser for 30 days; answers the cookie value (only its digest is stored).
pub async fn trust_device(state: &AppState, user_id: &str, client: &ClientMeta) -> Result<String, AppError> {
    let now = state.now();
    let token = random_hex(32);
    let (_, info) = client.device();
    totp_db::insert_trusted_device(
        &state.pool,
        &new_id(),
        user_id,
        &digest(&token),
        &info,
        now,
        now + TRUSTED_DEVICE_SECS,
    )
    .await?;
    Ok(token)
}

/// The second sign-in step's check: a TOTP code (once per step) or an unused backup code.
/// Every answer takes one of 5 tries per 5 minutes before it is judged; wrong ones answer
/// `401` with what is left, a right one gives its try back.
pub async fn check_second_factor(
    state: &AppState,
    user: &UserRow,
    factor: &SecondFactor,
) -> Result<(), AppError> {
    let attempt = guard(state, &user.id).await?;
    let verdict = match factor {
        SecondFactor::Totp(c) => match active_seed(state, user) {
            Ok(seed) => accept_code(state, &user.id, &seed, c).await,
            Err(e) => Err(e),
        },
        SecondFactor::Backup(c) => accept_backup_code(state, &user.id, c).await,
    };
    let (ok, attempt) = rate_limit::judged(state, attempt, verdict).await?;
    if !ok {
        return Err(wrong(state, &user.id).await?);
    }
    rate_limit::refund(state, attempt).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hotp(secret: &[u8], counter: u64, digits: usize, alg: Algorithm) -> String {
        // A TOTP with a 1-second step at time t is HOTP at counter t.
        TOTP::new_unchecked(alg, digits, 0, 1, secret.to_vec(), None, String::new()).generate(counter)
    }

    #[test]
    fn rfc_4226_hotp_vectors_pass() {
        let secret = b"12345678901234567890";
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
            "520489",
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(hotp(secret, counter as u64, 6, Algorithm::SHA1), *want, "counter {counter}");
        }
    }

    #[test]
    fn rfc_6238_appendix_b_vectors_pass() {
        let sha1 = b"12345678901234567890".to_vec();
        let sha256 = b"12345678901234567890123456789012".to_vec();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".to_vec();
        let table: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (t, a, b, c) in table {
            let gen = |alg, secret: &Vec<u8>| {
                TOTP::new_unchecked(alg, 8, 0, 30, secret.clone(), None, String::new()).generate(t)
            };
            assert_eq!(gen(Algorithm::SHA1, &sha1), a, "SHA1 at {t}");
            assert_eq!(gen(Algorithm::SHA256, &sha256), b, "SHA256 at {t}");
            assert_eq!(gen(Algorithm::SHA512, &sha512), c, "SHA512 at {t}");
        }
    }

    #[test]
    fn our_six_digit_codes_are_the_low_digits_of_the_rfc_values() {
        assert_eq!(code_at(b"12345678901234567890", 59), "287082");
        assert_eq!(code_at(b"12345678901234567890", 1111111109), "081804");
    }

    #[test]
    fn backup_codes_are_ten_unambiguous_characters() {
        let c = new_backup_code();
        assert_eq!(c.len(), 10);
        assert!(c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit()));
        assert!(!c.contains(['0', '1', 'l', 'o', 'i']));
        assert_eq!(
            SecondFactor::parse("c", &format!("{}-{}", &c[..5], &c[5..])).unwrap(),
            SecondFactor::Backup(c)
        );
    }
}
