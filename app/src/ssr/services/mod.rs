//! The service layer: every rule of the product lives here, one file per domain concept.
pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod auth;
pub mod oidc;
pub mod password_reset;
pub mod passwords;
pub mod rate_limit;
pub mod screen_lock;
pub mod sessions;
pub mod settings;
pub mod terminals;
pub mod tokens;
pub mod totp;
pub mod ldap;
pub mod vault;
