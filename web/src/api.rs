//! JSON endpoints: `GET /api/me`, `GET /api/whoami`, and a superuser's download of one person's data.

use app_core::{auth::UserView, error::AppError, state::AppState};
use axum::{
    Extension, Json,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
};
use backend::{
    admin::access,
    auth::Auth,
    export::{ExportError, Person, export_person},
    staff::login_session::StaffSession,
};

use crate::auth::{AnyToken, RequireUser};

/// The signed-in user, exactly as the contract shapes it.
pub async fn me(RequireUser(user): RequireUser) -> Json<UserView> {
    Json(UserView::from(&user))
}

/// Who called, whatever the kind of token: `GET /api/whoami` accepts session tokens, API keys,
/// M2M and OAuth tokens (Clerk's `acceptsToken: 'any'`).
#[derive(serde::Serialize)]
pub struct WhoAmI {
    pub token_type: backend::machine::TokenKind,
    pub subject: Option<String>,
    pub user_id: Option<ids::ClerkUserId>,
    pub org_id: Option<ids::ClerkOrgId>,
    pub scopes: Option<Vec<String>>,
    pub name: Option<String>,
}

pub async fn whoami(AnyToken(caller): AnyToken) -> Json<WhoAmI> {
    let (subject, scopes, name) = match caller.machine() {
        Some(m) => (Some(m.subject.clone()), Some(m.scopes.clone()), m.name.clone()),
        None => (caller.user_id().map(|id| id.to_string()), None, None),
    };
    Json(WhoAmI {
        token_type: caller.token_type(),
        subject,
        user_id: caller.user_id(),
        org_id: caller.org_id(),
        scopes,
        name,
    })
}

/// `GET /admin/users/{id}/export`: what `server export-user` prints, as a download. Superusers
/// only: it holds everything we store about a person.
pub async fn export_user(
    State(state): State<AppState>,
    Path(id): Path<ids::UserId>,
    Extension(staff): Extension<StaffSession>,
    Extension(auth): Extension<Auth>,
) -> Result<Response, AppError> {
    let Some(admin) = access::admin_of(Some(&staff), Some(&auth)).filter(|admin| admin.is_superuser) else {
        return Err(AppError::Forbidden("Superuser access required".into()));
    };
    let document = export_person(&state.db, Person::Local(id)).await.map_err(|err| match err {
        ExportError::NotFound => AppError::NotFound,
        err => AppError::internal(format!("exporting user {id}: {err}")),
    })?;
    // A download of everything about a person is itself recorded, before it is served.
    backend::admin::users::record_export(&state.db, admin.actor(), id).await.map_err(AppError::internal)?;
    Ok((
        [
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"user-{id}.json\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Json(document),
    )
        .into_response())
}
