//! The pages, one file each.
mod home;
mod login;
mod register;
mod sessions;
mod setup;

pub use home::HomePage;
pub use login::LoginPage;
pub use register::RegisterPage;
pub use sessions::SessionsPage;
pub use setup::SetupPage;
