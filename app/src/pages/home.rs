//! `/`: what the starter is.

use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let (count, set_count) = signal(0u32);
    // Effects run only in the browser, so this flips once hydration has attached the handlers.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <section class="hero">
            <h1>"Leptos + Clerk starter"</h1>
            <p>
                "A full-stack Rust app: Clerk users mirrored into your own database, verified "
                "session tokens in every server function, Svix-verified webhooks and an admin for staff."
            </p>
            <button
                data-testid="hydration-probe"
                data-hydrated=move || hydrated.get().to_string()
                on:click=move |_| set_count.update(|n| *n += 1)>
                {move || format!("Clicked {} times", count.get())}
            </button>
        </section>
    }
}
