//! `/admin/orgs` and `/admin/orgs/{id}`.

pub mod detail;
pub mod list;
