//! `/admin/login` and `/admin/logout`: staff password login. The form is an `ActionForm`, so it
//! works as a plain POST without JavaScript and as a fetch once hydrated.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;

/// Where to go after login: a local admin path only, so `next` cannot send staff elsewhere, and
/// nothing a `Location` header cannot carry (a control character would fail the response).
pub fn safe_next(next: &str) -> String {
    let local = next.starts_with("/admin")
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if local && next != super::LOGIN_PATH && !next.starts_with("/admin/login?") {
        next.to_owned()
    } else {
        "/admin".to_owned()
    }
}

/// Checks the password and starts a staff session (with a new session id).
#[server(prefix = "/admin", endpoint = "login")]
pub async fn staff_login(email: String, password: String, #[server(default)] next: String) -> Result<(), AppError> {
    use backend::staff::{LoginError, log_in, login_session};

    let state = crate::state::app_state()?;
    let client = super::ssr::client_ip();
    let logged_in = match log_in(&state.db, &email, &password, &client).await {
        Ok(logged_in) => logged_in,
        Err(LoginError::InvalidCredentials) => {
            return Err(AppError::Unauthorized(LoginError::InvalidCredentials.to_string()));
        }
        Err(err @ (LoginError::Throttled | LoginError::Busy)) => {
            return Err(AppError::TooManyAttempts(err.to_string()));
        }
        Err(LoginError::Database(err)) => return Err(AppError::internal(err)),
    };
    let server_session = crate::state::server_session()?;
    login_session::start(&server_session, logged_in.user.id, logged_in.epoch).await.map_err(AppError::internal)?;
    leptos_axum::redirect(&safe_next(&next));
    Ok(())
}

/// Ends the staff session: the server session is deleted, on every instance.
#[server(prefix = "/admin", endpoint = "logout")]
pub async fn staff_logout() -> Result<(), AppError> {
    let server_session = crate::state::server_session()?;
    backend::staff::login_session::end(&server_session).await.map_err(AppError::internal)?;
    leptos_axum::redirect(super::LOGIN_PATH);
    Ok(())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<StaffLogin>::new();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let error = move || match login.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    view! {
        <section class="admin-login">
            <h1>"Staff login"</h1>
            <p class="muted">"For staff accounts created with " <code>"server create-staff"</code> "."</p>
            <ActionForm action=login attr:class="stack-form">
                <input type="hidden" name="next" value=next />
                <label>"Email" <input type="email" name="email" required autocomplete="username" /></label>
                <label>
                    "Password"
                    <input type="password" name="password" required autocomplete="current-password" />
                </label>
                <button type="submit">"Log in"</button>
                {move || error().map(|e| view! { <p class="error" role="alert" data-testid="login-error">{e}</p> })}
            </ActionForm>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_inside_the_admin() {
        for (next, expected) in [
            ("/admin/users?q=ada", "/admin/users?q=ada"),
            ("/admin", "/admin"),
            ("", "/admin"),
            ("https://evil.test/admin", "/admin"),
            ("//evil.test/admin", "/admin"),
            ("/account", "/admin"),
            ("/admin/login?next=/admin", "/admin"),
            ("/admin\\@evil.test", "/admin"),
            ("/admin\n", "/admin"),
            ("/admin/users?q=a\r\nSet-Cookie: x=1", "/admin"),
            ("/admin/users?q=\u{7f}", "/admin"),
            ("/admin/users?q=é", "/admin/users?q=é"),
        ] {
            assert_eq!(safe_next(next), expected, "{next}");
        }
    }
}
