//! Server functions of two-factor enrollment and its backup codes.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the enrollment step shows. No `Debug`: it holds the TOTP secret.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollmentView {
    pub secret: String,
    pub qr_code: String,
}

#[server(prefix = "/rpc")]
pub async fn two_factor_enabled() -> Result<bool, AppError> {
    use crate::ssr::services::{identity::Gate, totp};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    totp::is_enabled(&state, &caller.user_id).await
}

#[server(prefix = "/rpc")]
pub async fn start_two_factor() -> Result<EnrollmentView, AppError> {
    use crate::ssr::services::{identity::Gate, totp};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    let e = totp::begin_enrollment(&state, &caller).await?;
    Ok(EnrollmentView { secret: e.secret_base32, qr_code: e.qr_code })
}

#[server(prefix = "/rpc")]
pub async fn confirm_two_factor(totp_code: String) -> Result<Vec<String>, AppError> {
    use crate::ssr::services::{identity::Gate, totp};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    totp::enable(&state, &caller, &totp_code).await.map_err(|e| e.tie("totp_code", CODE_ERRORS))
}

/// What a wrong or malformed authenticator code answers: tied to the input it was typed in.
#[cfg(feature = "ssr")]
const CODE_ERRORS: &[crate::error::ErrorKind] =
    &[crate::error::ErrorKind::WrongCode, crate::error::ErrorKind::MalformedCode];

/// Either proof of a factor change, wrong: tied to the input that was filled.
#[cfg(feature = "ssr")]
fn tie_proof(e: AppError) -> AppError {
    e.tie("password", &[crate::error::ErrorKind::WrongPassword]).tie("totp_code", CODE_ERRORS)
}

#[server(prefix = "/rpc")]
pub async fn turn_off_two_factor(
    password: Option<String>,
    totp_code: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr::services::{identity::Gate, totp};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    totp::disable(&state, &caller, totp::Proof { password, totp_code }).await.map_err(tie_proof)
}

#[server(prefix = "/rpc")]
pub async fn replace_backup_codes(
    password: Option<String>,
    totp_code: Option<String>,
) -> Result<Vec<String>, AppError> {
    use crate::ssr::services::{identity::Gate, totp};
    let (state, caller) = super::edge::caller(Gate::Unlocked).await?;
    totp::regenerate_backup_codes(&state, &caller, totp::Proof { password, totp_code })
        .await
        .map_err(tie_proof)
}

/// An admin turns a user's two-factor off.
#[server(prefix = "/rpc")]
pub async fn reset_user_two_factor(user_id: String) -> Result<(), AppError> {
    let (state, admin) = super::edge::admin().await?;
    crate::ssr::services::totp::reset_for_user(&admin, &state, &user_id).await
}
