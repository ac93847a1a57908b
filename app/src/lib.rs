//! The Leptos application: the HTML shell, the router, pages and their server functions.
//! Server-only code (state, database access) sits behind the `ssr` feature.

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::{
    Lazy, ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use crate::lazy_pages as lazy;

#[cfg(feature = "ssr")]
mod assets;
pub mod clerk_actions;
pub mod compact;
pub mod components;
pub mod examples;
pub mod lazy_pages;
pub mod pages;
pub mod site;

// The shared parts (`app-core`) and the admin (`admin`) are crates of their own, so an edit here
// recompiles neither; their modules keep the paths they had in this crate.
pub use admin;
#[cfg(feature = "ssr")]
pub use app_core::state;
pub use app_core::{auth, error};

/// The document around the app, rendered on the server only.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <assets::SiteAssets options />
                <ClerkScripts />
                <leptos_meta::MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// With real keys: ClerkJS from the instance's Frontend API, and our small glue script.
#[cfg(feature = "ssr")]
#[component]
fn ClerkScripts() -> impl IntoView {
    let key = use_context::<state::AppState>()
        .filter(|s| s.dev.is_none())
        .and_then(|s| s.config.clerk_publishable_key.clone());
    key.map(|pk| {
        view! {
            <script
                async
                crossorigin="anonymous"
                data-clerk-publishable-key=pk.as_str().to_owned()
                src=pk.clerk_js_url()
                type="text/javascript"
            ></script>
            <script src="/clerk-glue.js" defer></script>
        }
    })
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title text="Leptos + Clerk starter" />
        <Router>
            <WithSite>
                <components::header::Header />
                <main>
                    // No <ErrorBoundary> here: around <Routes> it costs every visitor's first download
                    // 8 KB. Pages that render `Result`s sit inside one (SignedInOnly, AdminShell).
                    <Routes fallback=pages::not_found::NotFound>
                        // Async: resources here resolve on the server at once, and one
                        // complete body costs one write instead of a chunk per <Transition>.
                        <Route path=StaticSegment("") view=pages::home::HomePage ssr=SsrMode::Async />
                        <Route path=StaticSegment("sign-in") view={Lazy::<lazy::SignIn>::new()} />
                        <Route path=StaticSegment("account") view={Lazy::<lazy::Account>::new()} ssr=SsrMode::Async />
                        <Route path=StaticSegment("me") view={Lazy::<lazy::Personal>::new()} ssr=SsrMode::Async />
                        <Route
                            path=(StaticSegment("orgs"), ParamSegment("slug"))
                            view={Lazy::<lazy::OrgHome>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("orgs"), ParamSegment("slug"), StaticSegment("settings"))
                            view={Lazy::<lazy::OrgSettings>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route path=(StaticSegment("admin"), StaticSegment("login")) view={Lazy::<lazy::AdminLogin>::new()} />
                        <Route path=StaticSegment("admin") view={Lazy::<lazy::AdminDashboard>::new()} ssr=SsrMode::Async />
                        <Route
                            path=(StaticSegment("admin"), StaticSegment("users"))
                            view={Lazy::<lazy::AdminUsers>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("admin"), StaticSegment("users"), ParamSegment("id"))
                            view={Lazy::<lazy::AdminUser>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("admin"), StaticSegment("orgs"))
                            view={Lazy::<lazy::AdminOrgs>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("admin"), StaticSegment("orgs"), ParamSegment("id"))
                            view={Lazy::<lazy::AdminOrg>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("admin"), StaticSegment("plans"))
                            view={Lazy::<lazy::AdminPlans>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("admin"), StaticSegment("staff"))
                            view={Lazy::<lazy::AdminStaff>::new()}
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=(StaticSegment("admin"), StaticSegment("audit"))
                            view={Lazy::<lazy::AdminAudit>::new()}
                            ssr=SsrMode::Async
                        />
                    </Routes>
                </main>
            </WithSite>
        </Router>
    }
}

/// Who is signed in, for the header and the pages; inside the router, since it follows the URL.
#[component]
fn WithSite(children: Children) -> impl IntoView {
    site::provide_site();
    children()
}
