//! `/`: what the starter is, and who you are.

use leptos::{either::Either, prelude::*};

use crate::site::use_site;

#[component]
pub fn HomePage() -> impl IntoView {
    let (count, set_count) = signal(0u32);
    // Effects run only in the browser, so this flips once hydration has attached the handlers.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    let site = use_site();

    view! {
        <section class="hero">
            <h1>"Leptos + Clerk starter"</h1>
            <p>
                "A full-stack Rust app: Clerk users mirrored into your own database, verified "
                "session tokens in every server function, Svix-verified webhooks and an admin for staff."
            </p>
            <Transition fallback=|| ()>
                {move || {
                    site.and_then(|s| s.get())
                        .and_then(|r| r.ok())
                        .map(|info| match info.user {
                            Some(user) => Either::Left(view! {
                                <p data-testid="signed-in-state">
                                    "Signed in as " <strong>{user.email}</strong> ". " <a href="/account">"Your account"</a>
                                </p>
                            }),
                            None => Either::Right(view! {
                                <p data-testid="signed-in-state">
                                    "You are not signed in. " <a href="/sign-in">"Sign in"</a>
                                </p>
                            }),
                        })
                }}
            </Transition>
            <button
                data-testid="hydration-probe"
                data-hydrated=move || hydrated.get().to_string()
                on:click=move |_| set_count.update(|n| *n += 1)
            >
                {move || format!("Clicked {} times", count.get())}
            </button>
        </section>
    }
}
