//! The instance key and the keys derived from it; random tokens and their digests.
use crate::error::AppError;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Keys derived from the instance key, one per purpose, so a leak of one tells nothing of another.
pub struct InstanceKeys {
    jwt: [u8; 32],
    encryption: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("PORTCULLIS_SECRET_KEY must be at least 32 characters")]
    TooShort,
    #[error("cannot read or create the instance key at {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the instance key file {0} is not 64 hex digits")]
    Corrupt(String),
}

impl InstanceKeys {
    /// From a configured secret (at least 32 characters).
    pub fn from_secret(secret: &str) -> Result<Self, KeyError> {
        if secret.chars().count() < 32 {
            return Err(KeyError::TooShort);
        }
        Ok(Self::derive(secret.as_bytes()))
    }

    /// Reads `<data_dir>/instance.key`, creating it (mode 0600) with 32 random bytes on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, KeyError> {
        let path = data_dir.join("instance.key");
        let io = |source| KeyError::Io { path: path.display().to_string(), source };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes =
                    hex::decode(text.trim()).map_err(|_| KeyError::Corrupt(path.display().to_string()))?;
                if bytes.len() != 32 {
                    return Err(KeyError::Corrupt(path.display().to_string()));
                }
                Ok(Self::derive(&bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io)?;
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                write_private(&path, hex::encode(key).as_bytes()).map_err(io)?;
                Ok(Self::derive(&key))
            }
            Err(e) => Err(io(e)),
        }
    }

    #[allow(clippy::expect_used, reason = "HMAC accepts a key of any length")]
    fn derive(master: &[u8]) -> Self {
        let sub = |label: &[u8]| -> [u8; 32] {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("HMAC takes any key length");
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        Self { jwt: sub(b"portcullis/jwt/v1"), encryption: sub(b"portcullis/encryption/v1") }
    }

    pub fn jwt_secret(&self) -> &[u8] {
        &self.jwt
    }

    pub fn encryption_key(&self) -> &[u8; 32] {
        &self.encryption
    }
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, data)
}

/// `n` random bytes from the OS CSPRNG, as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A new random identifier for rows.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A new identifier for rows of a table that only grows at "now" (sessions): a UUIDv7, the
/// creation time in milliseconds then 74 random bits. New rows land beside each other at the end
/// of the primary-key index instead of on a random page of it, which is what keeps sign-ins fast
/// with millions of sessions. It tells its reader when the row was made, which the session
/// list shows anyway; it is never a credential (the signed token is).
pub fn new_time_ordered_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// SHA-256 of a high-entropy token, as stored in place of the token itself.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_instance_key_is_private_and_stable_across_restarts() {
        let dir = std::env::temp_dir().join(format!("pc-key-{}", random_hex(6)));
        let a = InstanceKeys::load_or_create(&dir).unwrap();
        let b = InstanceKeys::load_or_create(&dir).unwrap();
        assert_eq!(a.jwt_secret(), b.jwt_secret());
        assert_ne!(a.jwt_secret(), a.encryption_key().as_slice());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("instance.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_short_configured_secret_is_refused() {
        assert!(matches!(InstanceKeys::from_secret("short"), Err(KeyError::TooShort)));
    }
}

/// Encryption at rest with the instance key: AES-256-GCM, a random nonce per value, and
/// associated data naming what the value is and whose it is, so a sealed value moved to
/// another row or purpose does not open.
impl InstanceKeys {
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, crate::error::AppError> {
        seal_with(&self.encryption, plaintext, context)
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, crate::error::AppError> {
        open_with(&self.encryption, sealed, context).ok_or_else(|| {
            AppError::bug(&format!("a sealed {context} value does not open with the instance key"))
        })
    }
}

/// A secret only one token carries (its `vk` claim) and the server never stores: what was
/// sealed with it (a session's vault key) opens only where that token is presented, on any
/// node, and not from a copy of the database, with or without the instance key.
#[derive(Clone)]
pub struct TokenSecret(zeroize::Zeroizing<[u8; 32]>);

impl TokenSecret {
    pub fn random() -> Self {
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, AppError> {
        seal_with(&self.0, plaintext, context)
    }

    pub fn open(&self, sealed: &str, context: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        open_with(&self.0, sealed, context).map(zeroize::Zeroizing::new)
    }
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret([redacted])")
    }
}

impl serde::Serialize for TokenSecret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        s.serialize_str(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0.as_ref()))
    }
}

impl<'de> serde::Deserialize<'de> for TokenSecret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine;
        let text = zeroize::Zeroizing::new(String::deserialize(d)?);
        let raw = zeroize::Zeroizing::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text.as_bytes())
                .map_err(serde::de::Error::custom)?,
        );
        let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
        if raw.len() != 32 {
            return Err(serde::de::Error::custom("a token secret is 32 bytes"));
        }
        bytes.copy_from_slice(&raw);
        Ok(Self(bytes))
    }
}

/// AES-256-GCM with a random nonce, `context` as associated data; base64 of nonce ‖ ciphertext.
pub fn seal_with(key: &[u8; 32], plaintext: &[u8], context: &str) -> Result<String, crate::error::AppError> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use aes_gcm::{Aes256Gcm, Nonce};
    use base64::Engine;
    let cipher =
        Aes256Gcm::new_from_slice(key).map_err(|_| AppError::bug("an encryption key is not 32 bytes"))?;
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
        .map_err(|_| AppError::bug("AES-GCM sealing failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// Opens what [`seal_with`] sealed; `None` for a wrong key, context or a damaged value.
pub fn open_with(key: &[u8; 32], sealed: &str, context: &str) -> Option<Vec<u8>> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use aes_gcm::{Aes256Gcm, Nonce};
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(sealed).ok()?;
    if raw.len() < 12 + 16 {
        return None;
    }
    let cipher = Aes256Gcm::new_from_slice(key).ok()?;
    cipher.decrypt(Nonce::from_slice(&raw[..12]), Payload { msg: &raw[12..], aad: context.as_bytes() }).ok()
}

#[cfg(test)]
mod sealing_tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let k = InstanceKeys::from_secret("0123456789abcdef0123456789abcdef").unwrap();
        let other = InstanceKeys::from_secret("fedcba9876543210fedcba9876543210").unwrap();
        let s = k.seal(b"seed", "totp:user-1").unwrap();
        assert_eq!(k.open(&s, "totp:user-1").unwrap(), b"seed");
        assert!(k.open(&s, "totp:user-2").is_err());
        assert!(other.open(&s, "totp:user-1").is_err());
        assert_ne!(k.seal(b"seed", "totp:user-1").unwrap(), s, "a fresh nonce each time");
    }
}
