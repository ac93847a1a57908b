//! What the site's pages and the admin share: who is calling and the guards over it, the error
//! type every server function returns, the application state in context, and the error page.

pub mod auth;
pub mod error;
pub mod error_page;
#[cfg(feature = "ssr")]
pub mod state;
