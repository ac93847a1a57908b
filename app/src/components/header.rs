//! The site header (brand, navigation, who is signed in) and the dev-mode banner and token refresher.

use leptos::{either::EitherOf3, prelude::*};

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
    // Dev mode exists in debug builds only; release wasm leaves its UI out.
    #[cfg(debug_assertions)]
    if let (ClerkMode::Dev, Some(user)) = (&info.mode, &info.user) {
        let sign_out = use_context::<AuthActions>().map(|a| a.sign_out);
        return leptos::either::Either::Left(view! {
            <span class="who" data-testid="header-user">{user.email.clone()}</span>
            {sign_out.map(|action| view! {
                <ActionForm action=action attr:class="inline-form">
                    <button type="submit" class="link-button">"Sign out"</button>
                </ActionForm>
            })}
            <DevTokenRefresher ttl=info.token_ttl_secs />
        });
    }
    let area = clerk_area(info);
    #[cfg(debug_assertions)]
    let area = leptos::either::Either::Right(area);
    area
}

/// Typed branches rather than `AnyView`s: each `into_any` costs the first download its own
/// build, rebuild and hydrate code.
fn clerk_area(info: SiteInfo) -> impl IntoView {
    match (info.user, info.staff) {
        // With real Clerk, ClerkJS mounts its UserButton (sign-out included) here.
        (Some(user), _) => {
            let impersonation = user.actor.map(|actor| {
                view! {
                    <span class="impersonation" data-testid="header-impersonation">
                        {format!("impersonated by {}", actor.sub)}
                    </span>
                }
            });
            // Who the server rendered, so clerk-glue.js can tell when ClerkJS has moved on.
            let (clerk_user, clerk_org) = (
                user.clerk_id.map(String::from).unwrap_or_default(),
                user.org.map(|o| o.id.into_string()).unwrap_or_default(),
            );
            EitherOf3::A(view! {
                {impersonation}
                <div id="clerk-user-button" class="clerk-mount" data-user=clerk_user data-org=clerk_org></div>
            })
        }
        // A staff password session is not a Clerk sign-in: it links back to the admin, whose nav logs it out.
        (None, Some(email)) => EitherOf3::B(
            view! { <a href="/admin" class="who" data-testid="header-staff">{format!("{email} · staff")}</a> },
        ),
        (None, None) => EitherOf3::C(view! { <a href="/sign-in" class="sign-in-link">"Sign in"</a> }),
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
