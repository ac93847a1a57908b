//! The error page: what went wrong, without internals (those stay in the server log).

use leptos::prelude::*;

#[component]
pub fn ErrorPage(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <section class="error-page">
            <h1>"Something went wrong"</h1>
            <ul>
                {move || errors.get().into_iter().map(|(_, e)| view! { <li>{e.to_string()}</li> }).collect_view()}
            </ul>
            <p><a href="/">"Go home"</a></p>
        </section>
    }
}

/// The error boundary every page wrapper uses: views inside that render an `Err` show
/// [`ErrorPage`] instead.
#[component]
pub fn ErrorPageBoundary(children: Children) -> impl IntoView {
    view! { <ErrorBoundary fallback=|errors| view! { <ErrorPage errors /> }>{children()}</ErrorBoundary> }
}
