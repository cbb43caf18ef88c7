//! Signed tokens: one algorithm, fixed issuer and audience, and a kind that is never interchangeable.
use crate::error::AppError;
use crate::ssr::keys::{InstanceKeys, TokenSecret};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "portcullis";
const AUDIENCE: &str = "portcullis";

/// What a token may be used for. Part of the signed claims, checked on every use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A signed-in session.
    Access,
    /// Password accepted, second factor still owed.
    MfaPending,
    /// A verified password-reset code.
    Reset,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The session (or challenge) row this token stands for.
    pub sid: String,
    pub kind: TokenKind,
    pub iat: i64,
    pub exp: i64,
    /// Session and MFA-pending tokens: the secret that opens the vault key sealed for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vk: Option<TokenSecret>,
}

pub fn mint(
    keys: &InstanceKeys,
    kind: TokenKind,
    user_id: &str,
    sid: &str,
    iat: i64,
    exp: i64,
    vk: Option<&TokenSecret>,
) -> Result<String, AppError> {
    let claims = Claims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: user_id.into(),
        sid: sid.into(),
        kind,
        iat,
        exp,
        vk: vk.cloned(),
    };
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(keys.jwt_secret()))
        .map_err(|e| AppError::internal("token signing failed", &e))
}

/// Checks signature (HS256 only, so `alg: none` and key confusion fail), issuer, audience,
/// expiry against our clock, and that the token is of the `expected` kind.
/// Any failure is `None`; callers choose the error their route answers with.
pub fn verify(keys: &InstanceKeys, token: &str, expected: TokenKind, now: i64) -> Option<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    v.validate_exp = false; // checked below against the injected clock
    v.set_required_spec_claims(&["iss", "aud", "sub", "exp"]);
    let data = decode::<Claims>(token, &DecodingKey::from_secret(keys.jwt_secret()), &v).ok()?;
    let c = data.claims;
    (c.kind == expected && c.exp > now && c.iat <= now + 60).then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> InstanceKeys {
        InstanceKeys::from_secret("0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn a_token_of_one_kind_is_not_accepted_as_another() {
        let t = mint(&keys(), TokenKind::MfaPending, "u", "s", 100, 200, None).unwrap();
        assert!(verify(&keys(), &t, TokenKind::Access, 150).is_none());
        assert!(verify(&keys(), &t, TokenKind::MfaPending, 150).is_some());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let t = mint(&keys(), TokenKind::Access, "u", "s", 100, 200, None).unwrap();
        assert!(verify(&keys(), &t, TokenKind::Access, 200).is_none());
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = InstanceKeys::from_secret("another-secret-another-secret-xx").unwrap();
        let t = mint(&other, TokenKind::Access, "u", "s", 100, 200, None).unwrap();
        assert!(verify(&keys(), &t, TokenKind::Access, 150).is_none());
    }
}
