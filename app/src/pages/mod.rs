//! The pages, one file each.
mod home;
mod login;
mod mfa;
mod register;
mod security;
mod sessions;
mod setup;

pub use home::HomePage;
pub use login::LoginPage;
pub use mfa::MfaPage;
pub use register::RegisterPage;
pub use security::SecurityPage;
pub use sessions::SessionsPage;
pub use setup::SetupPage;
