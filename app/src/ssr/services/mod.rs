//! The service layer: every rule of the product lives here, one file per domain concept.
//!
//! The services form a one-way graph (an arrow is "uses"); nothing points back up:
//!
//! ```text
//! sign_in ──► ldap, oidc            (prove who someone is)
//!    │    ──► totp                  (the second factor)
//!    │    ──► sessions, vault, passwords, rate_limit, settings, tokens
//! accounts ──► sessions, vault, passwords, settings
//! password_reset ──► accounts, passwords, rate_limit, settings, tokens
//! screen_lock ──► sessions, passwords, rate_limit
//! terminals ──► totp
//! auth ──► tokens                   (the authentication core: builds every Caller)
//! api_keys ──► auth (the key prefix)
//! admin, settings, totp, vault, sessions, ldap, oidc ──► identity
//! passwords ──► rate_limit          (re-authentication counts toward the sign-in limit)
//! identity, tokens, rate_limit      (leaves)
//! ```
//!
//! Every service may use `db`, `keys`, `clock` and `crate::domain`; none uses an adapter.
pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod identity;
pub mod ldap;
pub mod oidc;
pub mod password_reset;
pub mod passwords;
pub mod rate_limit;
pub mod screen_lock;
pub mod sessions;
pub mod settings;
pub mod sign_in;
pub mod terminals;
pub mod tokens;
pub mod totp;
pub mod vault;
