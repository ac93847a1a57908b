//! `/admin/staff`: the staff accounts. A superuser adds one or resets another's password; every
//! staff member with a password changes their own (which ends their other sessions).

use ids::UserId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::layout::{AdminShell, admin_error, field_error};
use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRow {
    pub id: UserId,
    pub email: String,
    pub is_superuser: bool,
    pub is_active: bool,
    /// Logs in with a password here (rather than through Clerk).
    pub password: bool,
    pub last_login: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffPage {
    pub rows: Vec<StaffRow>,
    pub viewer_id: UserId,
    pub viewer_is_superuser: bool,
    /// The viewer logged in with a password, so may change it here.
    pub viewer_has_password: bool,
}

#[server(prefix = "/api/admin", endpoint = "staff")]
pub async fn list_staff() -> Result<StaffPage, AppError> {
    let (admin, state) = super::ssr::admin()?;
    let rows = backend::db::staff_accounts::list(&state.db).await.map_err(AppError::internal)?;
    Ok(StaffPage {
        rows: rows
            .into_iter()
            .map(|u| StaffRow {
                id: u.id,
                email: u.email,
                is_superuser: u.is_superuser,
                is_active: u.is_active,
                password: u.clerk_id.is_none(),
                last_login: u.last_login.map(super::ssr::time),
            })
            .collect(),
        viewer_id: admin.user_id,
        viewer_is_superuser: admin.is_superuser,
        viewer_has_password: admin.password_session,
    })
}

/// A superuser adds a staff account.
#[server(prefix = "/api/admin", endpoint = "staff-create")]
pub async fn create_staff(
    #[server(default)] email: String,
    #[server(default)] password: String,
    #[server(default)] password_confirm: String,
    is_superuser: Option<String>,
) -> Result<(), AppError> {
    let (admin, state) = super::ssr::admin()?;
    let superuser = is_superuser.is_some();
    let changed =
        backend::admin::staff::create(&state.db, admin.actor(), &email, &password, &password_confirm, superuser)
            .await
            .map_err(crate::error::edit_error)?;
    state.invalidations.settle(changed).await;
    Ok(())
}

/// A superuser sets a new password for another staff account; its sessions end.
#[server(prefix = "/api/admin", endpoint = "staff-reset-password")]
pub async fn reset_staff_password(
    id: UserId,
    #[server(default)] password: String,
    #[server(default)] password_confirm: String,
) -> Result<(), AppError> {
    let (admin, state) = super::ssr::admin()?;
    let changed = backend::admin::staff::reset_password(&state.db, admin.actor(), id, &password, &password_confirm)
        .await
        .map_err(crate::error::edit_error)?;
    state.invalidations.settle(changed).await;
    Ok(())
}

/// The viewer changes their own password. Their other sessions end; this one carries on (with a
/// new id). Wrong current passwords count like failed logins.
#[server(prefix = "/api/admin", endpoint = "staff-change-password")]
pub async fn change_own_password(
    #[server(default)] current_password: String,
    #[server(default)] password: String,
    #[server(default)] password_confirm: String,
) -> Result<(), AppError> {
    use backend::{admin::EditError, staff::login};

    let (admin, state) = super::ssr::admin()?;
    if !admin.password_session {
        return Err(AppError::Forbidden("This account signs in with Clerk, not a password".into()));
    }
    let client = super::ssr::client_ip();
    let email = admin.email.to_lowercase();
    let Some(attempt) = login::reserve_attempt(&state.db, &email, &client).await.map_err(AppError::internal)? else {
        return Err(AppError::TooManyAttempts(login::LoginError::Throttled.to_string()));
    };
    let changed = backend::admin::staff::change_own_password(
        &state.db,
        admin.actor(),
        &current_password,
        &password,
        &password_confirm,
    )
    .await;
    let wrong_current = |fields: &[backend::admin::FieldError]| fields.iter().any(|f| f.field == "current_password");
    let epoch = match changed {
        Ok(changed) => state.invalidations.settle(changed).await,
        // A wrong current password keeps its attempt.
        Err(EditError::Invalid(fields)) if wrong_current(&fields) => {
            return Err(crate::error::edit_error(EditError::Invalid(fields)));
        }
        // The current password was right; only the new one was refused.
        Err(err @ EditError::Invalid(_)) => {
            login::forgive_attempts(&state.db, &email, &client).await.map_err(AppError::internal)?;
            return Err(crate::error::edit_error(err));
        }
        // Never checked (busy, or gone): the attempt does not count.
        Err(err) => {
            login::release_attempt(&state.db, attempt).await.map_err(AppError::internal)?;
            return Err(crate::error::edit_error(err));
        }
    };
    login::forgive_attempts(&state.db, &email, &client).await.map_err(AppError::internal)?;
    let session = crate::state::server_session()?;
    backend::staff::login_session::start(&session, admin.user_id, epoch).await.map_err(AppError::internal)?;
    Ok(())
}

#[component]
pub fn StaffPage() -> impl IntoView {
    let create = ServerAction::<CreateStaff>::new();
    let reset = ServerAction::<ResetStaffPassword>::new();
    let change = ServerAction::<ChangeOwnPassword>::new();
    let staff = Resource::new(move || create.version().get(), |_| list_staff());
    view! {
        <AdminShell>
            <h1>"Staff"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || staff.get().map(|r| match r {
                    Ok(page) => view! { <StaffView page create reset change /> }.into_any(),
                    Err(e) => admin_error(e),
                })}
            </Transition>
        </AdminShell>
    }
}

/// `done` after success, or the error that belongs to no field after failure.
fn outcome<T, S>(value: S, done: &'static str) -> impl Fn() -> Option<AnyView> + Send + Sync + 'static
where
    T: Send + Sync + 'static,
    S: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        let failed = value.with(|v| match v {
            Some(Ok(_)) => Some(None),
            Some(Err(AppError::Validation(_))) | None => None,
            Some(Err(e)) => Some(Some(e.to_string())),
        })?;
        Some(match failed {
            None => view! { <p class="ok" role="status">{done}</p> }.into_any(),
            Some(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        })
    }
}

// The three "password, password again" pairs are written out: each shared form of them tried (a
// component, a plain function) moved 58 KB (23 KB brotli) into the wasm module every visitor of
// `/` downloads, past its 150 KB brotli budget (measured with `cargo leptos build --release`).
#[component]
fn StaffView(
    page: StaffPage,
    create: ServerAction<CreateStaff>,
    reset: ServerAction<ResetStaffPassword>,
    change: ServerAction<ChangeOwnPassword>,
) -> impl IntoView {
    let resettable: Vec<(UserId, String)> =
        page.rows.iter().filter(|r| r.password && r.id != page.viewer_id).map(|r| (r.id, r.email.clone())).collect();
    view! {
        <div class="table-wrap"><table class="data" data-testid="staff-table">
            <thead><tr><th>"Email"</th><th>"Role"</th><th>"Active"</th><th>"Signs in with"</th><th>"Last login"</th></tr></thead>
            <tbody>
                {page.rows.iter().map(|r| view! {
                    <tr>
                        <td><a href=format!("/admin/users/{}", r.id)>{r.email.clone()}</a></td>
                        <td>{if r.is_superuser { "superuser" } else { "staff" }}</td>
                        <td>{if r.is_active { "yes" } else { "no" }}</td>
                        <td>{if r.password { "password" } else { "Clerk" }}</td>
                        <td>{r.last_login.clone().unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>

        <div class="columns">
            {page.viewer_is_superuser.then(|| view! {
                <section>
                    <h2>"Add staff"</h2>
                    <ActionForm action=create attr:class="stack-form" attr:data-testid="staff-create-form">
                        <label>"Email" <input type="email" name="email" required autocomplete="off" />
                            {field_error(create.value(), "email")}</label>
                        <label>"Password" <input type="password" name="password" required autocomplete="new-password" />
                            {field_error(create.value(), "password")}</label>
                        <label>"Password (again)" <input type="password" name="password_confirm" required autocomplete="new-password" />
                            {field_error(create.value(), "password_confirm")}</label>
                        <label class="check"><input type="checkbox" name="is_superuser" /> "Superuser"</label>
                        <button type="submit">"Add staff"</button>
                        {outcome(create.value(), "Staff account added.")}
                    </ActionForm>
                </section>
            })}
            {(page.viewer_is_superuser && !resettable.is_empty()).then(|| view! {
                <section>
                    <h2>"Reset a password"</h2>
                    <p class="muted">"Ends every session of that account."</p>
                    <ActionForm action=reset attr:class="stack-form" attr:data-testid="staff-reset-form">
                        <label>"Account"
                            <select name="id">
                                {resettable.iter().map(|(id, email)| view! { <option value=id.to_string()>{email.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"New password" <input type="password" name="password" required autocomplete="new-password" />
                            {field_error(reset.value(), "password")}</label>
                        <label>"New password (again)" <input type="password" name="password_confirm" required autocomplete="new-password" />
                            {field_error(reset.value(), "password_confirm")}</label>
                        <button type="submit">"Reset password"</button>
                        {outcome(reset.value(), "Password reset.")}
                    </ActionForm>
                </section>
            })}
            {page.viewer_has_password.then(|| view! {
                <section>
                    <h2>"Your password"</h2>
                    <p class="muted">"Changing it logs you out everywhere else."</p>
                    <ActionForm action=change attr:class="stack-form" attr:data-testid="staff-change-form">
                        <label>"Current password" <input type="password" name="current_password" required autocomplete="current-password" />
                            {field_error(change.value(), "current_password")}</label>
                        <label>"New password" <input type="password" name="password" required autocomplete="new-password" />
                            {field_error(change.value(), "password")}</label>
                        <label>"New password (again)" <input type="password" name="password_confirm" required autocomplete="new-password" />
                            {field_error(change.value(), "password_confirm")}</label>
                        <button type="submit">"Change password"</button>
                        {outcome(change.value(), "Password changed.")}
                    </ActionForm>
                </section>
            })}
        </div>
    }
}
