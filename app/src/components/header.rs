//! The site header (brand, navigation, who is signed in) and the dev-mode banner and token refresher.

use leptos::prelude::*;

use crate::site::{SiteInfo, use_site};
#[cfg(debug_assertions)]
use crate::{
    clerk_actions::refresh_session,
    site::{AuthActions, ClerkMode},
};

#[component]
pub fn Header() -> impl IntoView {
    let site = use_site();
    view! {
        <DevBanner />
        <header class="site-header">
            <a href="/" class="brand">"Leptos + Clerk starter"</a>
            <nav>
                <a href="/">"Home"</a>
                <a href="/account">"Account"</a>
            </nav>
            <div class="auth-area">
                <Transition fallback=|| ()>
                    {move || site.and_then(|s| s.get()).and_then(|r| r.ok()).map(|info| view! { <AuthArea info /> })}
                </Transition>
            </div>
        </header>
    }
}

/// Dev mode exists in debug builds only, so a release build carries no banner code.
#[cfg(debug_assertions)]
#[component]
fn DevBanner() -> impl IntoView {
    let site = use_site();
    view! {
        <Transition fallback=|| ()>
            {move || {
                site.and_then(|s| s.get()).and_then(|r| r.ok()).filter(SiteInfo::dev_mode).map(|_| view! {
                    <div class="dev-banner" role="note" data-testid="dev-banner">
                        "Dev mode: sign-in is simulated locally. Set your Clerk keys to use real Clerk."
                    </div>
                })
            }}
        </Transition>
    }
}

#[cfg(not(debug_assertions))]
#[component]
fn DevBanner() -> impl IntoView {}

#[component]
fn AuthArea(info: SiteInfo) -> impl IntoView {
    match (&info.mode, info.user.clone()) {
        // Dev mode exists in debug builds only; release wasm leaves its UI out.
        #[cfg(debug_assertions)]
        (ClerkMode::Dev, Some(user)) => {
            let actions = use_context::<AuthActions>();
            let sign_out = actions.map(|a| a.sign_out);
            view! {
                <span class="who" data-testid="header-user">{user.email.clone()}</span>
                {sign_out.map(|action| view! {
                    <ActionForm action=action attr:class="inline-form">
                        <button type="submit" class="link-button">"Sign out"</button>
                    </ActionForm>
                })}
                <DevTokenRefresher ttl=info.token_ttl_secs />
            }
            .into_any()
        }
        // With real Clerk, ClerkJS mounts its UserButton (sign-out included) here.
        (_, Some(user)) => {
            let impersonation = user.actor.map(|actor| {
                view! {
                    <span class="impersonation" data-testid="header-impersonation">
                        {format!("impersonated by {}", actor.sub)}
                    </span>
                }
            });
            // Who the server rendered, so clerk-glue.js can tell when ClerkJS has moved on.
            let (clerk_user, clerk_org) =
                (user.clerk_id.unwrap_or_default(), user.org.map(|o| o.id).unwrap_or_default());
            view! {
                {impersonation}
                <div id="clerk-user-button" class="clerk-mount" data-user=clerk_user data-org=clerk_org></div>
            }
            .into_any()
        }
        // A staff password session is not a Clerk sign-in: it links back to the admin, whose nav logs it out.
        (_, None) => match info.staff {
            Some(email) => {
                view! { <a href="/admin" class="who" data-testid="header-staff">{format!("{email} · staff")}</a> }
                    .into_any()
            }
            None => view! { <a href="/sign-in" class="sign-in-link">"Sign in"</a> }.into_any(),
        },
    }
}

/// Keeps a long-open tab signed in: refreshes the dev token at half its lifetime, as ClerkJS
/// does for Clerk's 60 s tokens. Runs only in the browser.
#[cfg(debug_assertions)]
#[component]
fn DevTokenRefresher(ttl: i64) -> impl IntoView {
    Effect::new(move |_| {
        let every = std::time::Duration::from_millis((ttl.max(2) as u64) * 500);
        let handle = set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    let _ = refresh_session().await;
                })
            },
            every,
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    });
}
