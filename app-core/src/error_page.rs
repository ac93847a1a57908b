//! The error page: what went wrong, without internals (those stay in the server log).

use leptos::prelude::*;

use crate::error::AppError;

/// On the server, the page's status is the one the first `AppError` names (a guard's 403, a
/// missing row's 404): the one place a page gets an error's status, as `server_fn_status` is
/// for server functions. Call sites only return the error.
#[component]
pub fn ErrorPage(errors: ArcRwSignal<Errors>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_status(&errors);
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

#[cfg(feature = "ssr")]
fn set_status(errors: &ArcRwSignal<Errors>) {
    let first = errors.with_untracked(|errors| errors.iter().find_map(|(_, e)| e.downcast_ref::<AppError>().cloned()));
    if let Some(err) = first {
        set_page_status(&err);
    }
}

/// Gives the page being rendered on the server the status `err` names. Every view that shows an
/// error instead of its page calls it (the error page, the admin's), so a guard's 403 or a
/// missing row's 404 reaches the browser as such; in the browser it does nothing.
pub fn set_page_status(err: &AppError) {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(err.status_code());
    }
    #[cfg(not(feature = "ssr"))]
    let _ = err;
}

/// The error boundary every page wrapper uses: views inside that render an `Err` show
/// [`ErrorPage`] instead.
#[component]
pub fn ErrorPageBoundary(children: Children) -> impl IntoView {
    view! { <ErrorBoundary fallback=|errors| view! { <ErrorPage errors /> }>{children()}</ErrorBoundary> }
}
