//! `/admin/users/{id}`: everything we mirror about a user, their memberships, recent webhook
//! events and audit entries, and the edit form.

use ids::{ClerkUserId, OrgId, UserId};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    AuditView, EventView,
    dashboard::EventsTable,
    error::AppError,
    layout::{AdminShell, admin_error, field_error},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub id: UserId,
    pub clerk_id: Option<ClerkUserId>,
    pub email: String,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub image_url: String,
    pub public_metadata: String,
    pub bio: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub deactivated_here: bool,
    pub last_login: Option<String>,
    pub last_sign_in_at: Option<String>,
    pub clerk_updated_at: Option<i64>,
    pub deleted_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// (organization id, name, role, joined).
    pub memberships: Vec<(OrgId, String, String, String)>,
    pub events: Vec<EventView>,
    pub audit: Vec<AuditView>,
    /// Whether the viewer may change staff and superuser flags.
    pub viewer_is_superuser: bool,
    /// Whether the viewer may change this user at all (a staff or superuser row is a
    /// superuser's alone). The server checks again on save.
    pub viewer_may_edit: bool,
}

#[server(prefix = "/api/admin", endpoint = "user")]
pub async fn get_user_detail(id: UserId) -> Result<UserDetail, AppError> {
    use backend::db::{audit_log, org_search, users, webhook_events};

    use crate::ssr::time;

    let (admin, state) = crate::ssr::admin()?;
    let db = &state.db;
    let Some(u) = users::find_by_id(db, id).await.map_err(AppError::internal)? else {
        return Err(AppError::NotFound);
    };
    let memberships = org_search::memberships_of_user(db, id).await.map_err(AppError::internal)?;
    let events = match &u.clerk_id {
        Some(clerk_id) => webhook_events::for_object(db, clerk_id.as_str(), 20).await.map_err(AppError::internal)?,
        None => Vec::new(),
    };
    let audit = audit_log::for_object(db, "user", &id.to_string(), 20).await.map_err(AppError::internal)?;
    Ok(UserDetail {
        id: u.id,
        clerk_id: u.clerk_id.clone(),
        email: u.email.clone(),
        username: u.username.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        image_url: u.image_url.clone(),
        public_metadata: serde_json::to_string_pretty(&u.public_metadata.0).unwrap_or_default(),
        bio: u.bio.clone(),
        is_active: u.is_active,
        is_staff: u.is_staff,
        is_superuser: u.is_superuser,
        deactivated_here: u.deactivated_locally,
        last_login: u.last_login.map(time),
        last_sign_in_at: u.last_sign_in_at.map(time),
        clerk_updated_at: u.clerk_updated_at,
        deleted_at: u.deleted_at.map(time),
        created_at: time(u.created_at),
        updated_at: time(u.updated_at),
        memberships: memberships
            .into_iter()
            .map(|m| (m.organization_id, m.org_name, m.role, time(m.joined_at)))
            .collect(),
        events: events.into_iter().map(EventView::from).collect(),
        audit: audit.into_iter().map(AuditView::from).collect(),
        viewer_is_superuser: admin.is_superuser,
        viewer_may_edit: backend::admin::users::may_edit(&admin.actor(), &u),
    })
}

/// Saves the edit form. Names and username go to Clerk first (in dev mode, to the local
/// stand-in); the flags are ours. Unchecked boxes are absent from the form, hence `Option`.
#[server(prefix = "/api/admin", endpoint = "user-update")]
pub async fn update_user(
    id: UserId,
    #[server(default)] first_name: String,
    #[server(default)] last_name: String,
    #[server(default)] username: String,
    is_active: Option<String>,
    is_staff: Option<String>,
    is_superuser: Option<String>,
) -> Result<(), AppError> {
    use backend::admin::users::{UserEdit, edit_user};

    let (admin, state) = crate::ssr::admin()?;
    let edit = UserEdit {
        first_name,
        last_name,
        username,
        is_active: is_active.is_some(),
        is_staff: is_staff.is_some(),
        is_superuser: is_superuser.is_some(),
    };
    let policy = backend::mirror::MirrorPolicy::from_config(&state.config);
    let changed = edit_user(&state.db, &state.clerk_writes, &policy, admin.actor(), id, edit)
        .await
        .map_err(crate::error::edit_error)?;
    state.invalidations.settle(changed).await;
    Ok(())
}

#[component]
pub fn UserPage() -> impl IntoView {
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<UserId>().ok()).unwrap_or(UserId(0))));
    let save = ServerAction::<UpdateUser>::new();
    let user = Resource::new(move || (id.get(), save.version().get()), |(id, _)| get_user_detail(id));
    view! {
        <AdminShell>
            <p><a href="/admin/users">"← Users"</a></p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || user.get().map(|r| match r {
                    Ok(u) => view! { <UserView u save /> }.into_any(),
                    Err(e) => admin_error(e),
                })}
            </Transition>
        </AdminShell>
    }
}

#[component]
fn UserView(u: UserDetail, save: ServerAction<UpdateUser>) -> impl IntoView {
    let title = if u.email.is_empty() { format!("User {}", u.id) } else { u.email.clone() };
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let general_error = move || match save.value().get() {
        Some(Err(AppError::Validation(_))) | None | Some(Ok(())) => None,
        Some(Err(e)) => Some(e.to_string()),
    };
    let clerk_note = if u.clerk_id.is_some() {
        "Names and username are Clerk's: saving writes them to Clerk first."
    } else {
        "A staff-only account: every field is stored here."
    };
    let fact = |label: &'static str, value: String| view! { <dt>{label}</dt><dd>{value}</dd> };
    view! {
        <h1 data-testid="user-title">{title}</h1>
        <div class="columns">
            <section>
                <h2>"Mirrored"</h2>
                <dl class="facts">
                    {fact("Id", u.id.to_string())}
                    {fact("Clerk id", u.clerk_id.as_ref().map_or_else(|| "— (staff only)".into(), ToString::to_string))}
                    {fact("Email", u.email.clone())}
                    {fact("Name", format!("{} {}", u.first_name, u.last_name))}
                    {fact("Username", u.username.clone().unwrap_or_default())}
                    {fact("Image", u.image_url.clone())}
                    {fact("Active", if u.is_active { "yes".into() } else if u.deactivated_here { "no (deactivated here)".into() } else { "no".into() })}
                    {fact("Last Clerk sign-in", u.last_sign_in_at.clone().unwrap_or_default())}
                    {fact("Last login", u.last_login.clone().unwrap_or_default())}
                    {fact("Clerk updated_at", u.clerk_updated_at.map(|t| t.to_string()).unwrap_or_default())}
                    {fact("Deleted", u.deleted_at.clone().unwrap_or_else(|| "no".into()))}
                    {fact("Created", u.created_at.clone())}
                    {fact("Updated", u.updated_at.clone())}
                    {fact("Bio (local)", u.bio.clone())}
                </dl>
                <h3>"Public metadata"</h3>
                <pre class="json">{u.public_metadata.clone()}</pre>
                // Everything stored about the person (as `server export-user`); the route checks too.
                {u.viewer_is_superuser.then(|| view! {
                    <p><a href=format!("/admin/users/{}/export", u.id) download data-testid="export-user">
                        "Download everything stored about this person (JSON)"
                    </a></p>
                })}
            </section>
            <section>
                <h2>"Edit"</h2>
                <p class="muted">{clerk_note}</p>
                <ActionForm action=save attr:class="stack-form" attr:data-testid="user-form">
                    <input type="hidden" name="id" value=u.id.to_string() />
                    <fieldset class="plain" disabled=!u.viewer_may_edit>
                    <label>"First name" <input type="text" name="first_name" value=u.first_name.clone() />
                        {field_error(save.value(), "first_name")}</label>
                    <label>"Last name" <input type="text" name="last_name" value=u.last_name.clone() />
                        {field_error(save.value(), "last_name")}</label>
                    <label>"Username" <input type="text" name="username" value=u.username.clone().unwrap_or_default() />
                        {field_error(save.value(), "username")}</label>
                    <label class="check"><input type="checkbox" name="is_active" checked=u.is_active /> "Active"</label>
                    <label class="check">
                        <input type="checkbox" name="is_staff" checked=u.is_staff disabled=!u.viewer_is_superuser />
                        "Staff (may use this admin)"
                        {field_error(save.value(), "is_staff")}
                    </label>
                    <label class="check">
                        <input type="checkbox" name="is_superuser" checked=u.is_superuser disabled=!u.viewer_is_superuser />
                        "Superuser"
                    </label>
                    {(!u.viewer_is_superuser).then(|| view! {
                        <>
                            {u.is_staff.then(|| view! { <input type="hidden" name="is_staff" value="on" /> })}
                            {u.is_superuser.then(|| view! { <input type="hidden" name="is_superuser" value="on" /> })}
                        </>
                    })}
                    </fieldset>
                    {if u.viewer_may_edit {
                        view! { <button type="submit">"Save"</button> }.into_any()
                    } else {
                        view! {
                            <p class="muted" data-testid="read-only">
                                "Read-only: only a superuser can change a staff or superuser account."
                            </p>
                        }.into_any()
                    }}
                    {move || saved().then(|| view! { <p class="ok" role="status">"Saved."</p> })}
                    {move || general_error().map(|e| view! { <p class="error" role="alert" data-testid="save-error">{e}</p> })}
                </ActionForm>
            </section>
        </div>

        <h2>"Memberships"</h2>
        {if u.memberships.is_empty() {
            view! { <p class="muted">"No organizations."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap"><table class="data">
                    <thead><tr><th>"Organization"</th><th>"Role"</th><th>"Joined"</th></tr></thead>
                    <tbody>
                        {u.memberships.iter().map(|(org_id, name, role, joined)| view! {
                            <tr>
                                <td><a href=format!("/admin/orgs/{org_id}")>{name.clone()}</a></td>
                                <td>{role.clone()}</td>
                                <td>{joined.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table></div>
            }.into_any()
        }}

        <crate::billing::BillingSection kind="user" id=u.id.0 />

        <h2>"Recent webhook events"</h2>
        <EventsTable events=u.events.clone() />

        <h2>"History"</h2>
        <crate::audit::AuditTable entries=u.audit.clone() />
    }
}
