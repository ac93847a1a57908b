//! `/sign-in`: Clerk's SignIn component, or in dev mode a simple form that creates or picks a
//! local user and sets a real, locally signed session token (`crate::clerk_actions::dev_sign_in`).

use leptos::prelude::*;

use crate::site::{ClerkMode, use_site};

#[component]
pub fn SignInPage() -> impl IntoView {
    let site = use_site();
    view! {
        <section class="sign-in">
            <h1>"Sign in"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    site.and_then(|s| s.get())
                        .map(|info| match info {
                            Ok(info) if info.mode == ClerkMode::Dev => view! { <DevSignInForm /> }.into_any(),
                            Ok(_) => view! { <div id="clerk-sign-in" class="clerk-mount"></div> }.into_any(),
                            Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn DevSignInForm() -> impl IntoView {
    let action = use_context::<crate::site::AuthActions>().map(|a| a.sign_in).unwrap_or_default();
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <p class="muted">
            "Dev mode: sign-in is simulated. Enter any email; the same email signs in as the same user."
        </p>
        <ActionForm action=action attr:class="stack-form">
            <label>"Email" <input type="email" name="email" required autocomplete="email" /></label>
            <label>"First name (optional)" <input type="text" name="first_name" /></label>
            <label>"Last name (optional)" <input type="text" name="last_name" /></label>
            <label>"Organization (optional)" <input type="text" name="org_name" /></label>
            <label>
                "Role in it"
                <select name="org_role">
                    <option value="member">"member"</option>
                    <option value="admin">"admin"</option>
                </select>
            </label>
            <button type="submit">"Sign in"</button>
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </ActionForm>
    }
}
