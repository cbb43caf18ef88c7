//! The pages, one file each.
mod account;
mod admin;
mod audit;
mod home;
mod login;
mod mfa;
mod register;
mod reset;
mod security;
pub(crate) mod sessions;
mod setup;
mod step_up;
mod vault;

pub use account::AccountPage;
pub use admin::{AdminFrame, AdminPage, AdminTab};
pub use audit::{AuditPage, EventItem};
pub use home::HomePage;
pub use login::LoginPage;
pub use mfa::MfaPage;
pub use register::RegisterPage;
pub use reset::ResetPage;
pub use security::SecurityPage;
pub use sessions::SessionsPage;
pub use setup::SetupPage;
pub use step_up::StepUpPage;
pub use vault::VaultPage;
