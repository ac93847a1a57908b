//! The Leptos application: the HTML shell, the router, pages and their server functions.
//! Server-only code (state, database access) sits behind the `ssr` feature.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

pub mod auth;
pub mod error;
pub mod examples;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod state;

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="leptos" href="/pkg/clerk-starter.css" />
        <Title text="Leptos + Clerk starter" />
        <Router>
            <header class="site-header">
                <a href="/" class="brand">"Leptos + Clerk starter"</a>
            </header>
            <main>
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=StaticSegment("") view=pages::home::HomePage />
                </Routes>
            </main>
        </Router>
    }
}
