//! Pages split out of the first wasm download: a visitor of `/` loads none of their code.
//! Each is a [`LazyRoute`]; built with `cargo leptos build --split`, its code lands in its own
//! wasm chunk, which the server names in a preload hint on the pages that use it, and which the
//! browser fetches on a client-side navigation to it. Without `--split` they behave as plain
//! routes. Add a rarely used page here rather than in the router directly.
//!
//! Written out one by one: the chunk id comes from where `#[lazy_route]` is expanded, so a
//! macro generating them would give every page the same chunk.

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

use crate::{admin, pages};

/// A lazy page's view, after naming its wasm chunks in the head (see
/// [`crate::assets::register_split_preloads`]).
fn page(view: impl IntoView + 'static) -> AnyView {
    #[cfg(feature = "ssr")]
    crate::assets::register_split_preloads();
    view.into_any()
}

pub struct SignIn;
#[lazy_route]
impl LazyRoute for SignIn {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <pages::sign_in::SignInPage /> })
    }
}

pub struct Account;
#[lazy_route]
impl LazyRoute for Account {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <crate::auth::SignedInOnly><pages::account::AccountPage /></crate::auth::SignedInOnly> })
    }
}

pub struct AdminLogin;
#[lazy_route]
impl LazyRoute for AdminLogin {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <admin::login::LoginPage /> })
    }
}

pub struct AdminDashboard;
#[lazy_route]
impl LazyRoute for AdminDashboard {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <admin::dashboard::DashboardPage /> })
    }
}

pub struct AdminUsers;
#[lazy_route]
impl LazyRoute for AdminUsers {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <admin::users::list::UsersPage /> })
    }
}

pub struct AdminUser;
#[lazy_route]
impl LazyRoute for AdminUser {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <admin::users::detail::UserPage /> })
    }
}

pub struct AdminOrgs;
#[lazy_route]
impl LazyRoute for AdminOrgs {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <admin::orgs::list::OrgsPage /> })
    }
}

pub struct AdminOrg;
#[lazy_route]
impl LazyRoute for AdminOrg {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <admin::orgs::detail::OrgPage /> })
    }
}

pub struct AdminAudit;
#[lazy_route]
impl LazyRoute for AdminAudit {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <admin::audit::AuditPage /> })
    }
}

pub struct AdminStaff;
#[lazy_route]
impl LazyRoute for AdminStaff {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <admin::staff::StaffPage /> })
    }
}

pub struct OrgHome;
#[lazy_route]
impl LazyRoute for OrgHome {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <crate::auth::SignedInOnly><pages::orgs::OrgHomePage /></crate::auth::SignedInOnly> })
    }
}

pub struct OrgSettings;
#[lazy_route]
impl LazyRoute for OrgSettings {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <crate::auth::SignedInOnly><pages::orgs::OrgSettingsPage /></crate::auth::SignedInOnly> })
    }
}

pub struct Personal;
#[lazy_route]
impl LazyRoute for Personal {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <crate::auth::SignedInOnly><pages::orgs::PersonalPage /></crate::auth::SignedInOnly> })
    }
}

pub struct AdminPlans;
#[lazy_route]
impl LazyRoute for AdminPlans {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        page(view! { <admin::billing::PlansPage /> })
    }
}
