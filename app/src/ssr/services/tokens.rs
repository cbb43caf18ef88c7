//! Signed tokens: one algorithm, fixed issuer and audience, and a kind that is never interchangeable.
use crate::error::AppError;
use crate::ssr::keys::{InstanceKeys, TokenSecret};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
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

/// The one header [`mint`] writes, `{"typ":"JWT","alg":"HS256"}`, base64url-encoded.
const HEADER: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9";
/// Longer than any token we mint (about 400 bytes); anything longer is refused unread.
const MAX_TOKEN: usize = 2048;

/// Checks signature, issuer, audience, expiry against our clock, and that the token is of the
/// `expected` kind. Any failure is `None`; callers choose the error their route answers with.
///
/// Every request runs this, so it does only what our own tokens need: the header must be
/// exactly the one we write (HS256, so `alg: none` and key confusion cannot even be expressed),
/// the HMAC-SHA256 is compared in constant time before the claims are read, and the claims are
/// parsed once.
pub fn verify(keys: &InstanceKeys, token: &str, expected: TokenKind, now: i64) -> Option<Claims> {
    use base64::engine::{general_purpose::URL_SAFE_NO_PAD, Engine};
    use hmac::{Hmac, Mac};
    if token.len() > MAX_TOKEN {
        return None;
    }
    let (signed, signature) = token.rsplit_once('.')?;
    let (header, payload) = signed.split_once('.')?;
    if header != HEADER {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(keys.jwt_secret()).ok()?;
    mac.update(signed.as_bytes());
    mac.verify_slice(&signature).ok()?;
    let c: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (c.iss == ISSUER && c.aud == AUDIENCE && c.kind == expected && c.exp > now && c.iat <= now + 60)
        .then_some(c)
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

    fn sign(keys: &InstanceKeys, header_json: &str, claims_json: &str) -> String {
        use base64::engine::{general_purpose::URL_SAFE_NO_PAD, Engine};
        use hmac::{Hmac, Mac};
        let signed =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header_json), URL_SAFE_NO_PAD.encode(claims_json));
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(keys.jwt_secret()).unwrap();
        mac.update(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    const CLAIMS: &str =
        r#"{"iss":"portcullis","aud":"portcullis","sub":"u","sid":"s","kind":"access","iat":100,"exp":200}"#;

    #[test]
    fn the_minted_header_is_the_one_verify_expects() {
        let t = mint(&keys(), TokenKind::Access, "u", "s", 100, 200, None).unwrap();
        assert_eq!(t.split('.').next(), Some(HEADER));
        assert!(verify(
            &keys(),
            &sign(&keys(), r#"{"typ":"JWT","alg":"HS256"}"#, CLAIMS),
            TokenKind::Access,
            150
        )
        .is_some());
    }

    #[test]
    fn another_header_is_refused_even_when_signed() {
        for header in [
            r#"{"alg":"none"}"#,
            r#"{"typ":"JWT","alg":"none"}"#,
            r#"{"typ":"JWT","alg":"HS512"}"#,
            r#"{"typ":"JWT","alg":"HS256","kid":"x"}"#,
            r#"{"alg":"HS256","typ":"JWT"}"#,
        ] {
            assert!(
                verify(&keys(), &sign(&keys(), header, CLAIMS), TokenKind::Access, 150).is_none(),
                "{header}"
            );
        }
        // `alg: none` with an empty signature.
        let unsigned = sign(&keys(), r#"{"typ":"JWT","alg":"none"}"#, CLAIMS);
        let unsigned = format!("{}.", unsigned.rsplit_once('.').unwrap().0);
        assert!(verify(&keys(), &unsigned, TokenKind::Access, 150).is_none());
    }

    #[test]
    fn a_changed_payload_or_signature_is_refused() {
        let t = mint(&keys(), TokenKind::Access, "u", "s", 100, 200, None).unwrap();
        let (signed, sig) = t.rsplit_once('.').unwrap();
        let (header, _) = signed.split_once('.').unwrap();
        use base64::engine::{general_purpose::URL_SAFE_NO_PAD, Engine};
        let forged =
            format!("{header}.{}.{sig}", URL_SAFE_NO_PAD.encode(CLAIMS.replace("\"u\"", "\"admin\"")));
        assert!(verify(&keys(), &forged, TokenKind::Access, 150).is_none());
        let mut bad_sig = sig.to_owned();
        bad_sig.replace_range(0..1, if sig.starts_with('A') { "B" } else { "A" });
        assert!(verify(&keys(), &format!("{signed}.{bad_sig}"), TokenKind::Access, 150).is_none());
        assert!(
            verify(&keys(), &format!("{signed}.{}", &sig[..sig.len() - 2]), TokenKind::Access, 150).is_none()
        );
    }

    #[test]
    fn wrong_issuer_audience_or_early_issue_is_refused() {
        for claims in [
            CLAIMS.replace(r#""iss":"portcullis""#, r#""iss":"other""#),
            CLAIMS.replace(r#""aud":"portcullis""#, r#""aud":"other""#),
            CLAIMS.replace(r#""iat":100"#, r#""iat":300"#),
            CLAIMS.replace(r#","exp":200"#, ""),
        ] {
            let t = sign(&keys(), r#"{"typ":"JWT","alg":"HS256"}"#, &claims);
            assert!(verify(&keys(), &t, TokenKind::Access, 150).is_none(), "{claims}");
        }
    }

    #[test]
    fn malformed_tokens_are_refused_without_panicking() {
        let long = "a".repeat(MAX_TOKEN + 1);
        for t in [
            "",
            ".",
            "..",
            "a.b",
            "a.b.c",
            "a.b.c.d",
            &format!("{HEADER}..") as &str,
            &format!("{HEADER}.%%.%%"),
            &long,
        ] {
            assert!(verify(&keys(), t, TokenKind::Access, 150).is_none(), "{t}");
        }
    }
}
