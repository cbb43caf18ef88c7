//! Boots the real router on port 0 with a fresh SQLite file per test and speaks HTTP to it.
mod helpers;
mod auth_routes;
mod sessions_routes;
mod settings_routes;
mod tokens;
mod rate_limits;
mod totp;
mod screen_lock;
mod terminals;
mod accounts_admin;
mod api_keys;
mod password_reset;
mod vault;
mod directory;
mod ldap;
mod oidc;
