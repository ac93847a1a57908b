//! One module per page.

pub mod account;
pub mod api_keys;
pub mod home;
pub mod not_found;
pub mod orgs;
pub mod sign_in;

pub use app_core::error_page as error;
