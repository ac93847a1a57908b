//! `/admin/users` and `/admin/users/{id}`.

pub mod detail;
pub mod list;
