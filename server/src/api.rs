//! JSON endpoints: `GET /api/me`, and a superuser's download of one person's data.

use app::{auth::UserView, state::AppState};
use axum::{
    Extension, Json,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use backend::{
    auth::Auth,
    export::{ExportError, Person, export_person},
    staff::login_session::StaffSession,
};

use crate::auth::RequireUser;

/// The signed-in user, exactly as the contract shapes it.
pub async fn me(RequireUser(user): RequireUser) -> Json<UserView> {
    Json(UserView::from(&user))
}

/// `GET /admin/users/{id}/export`: what `server export-user` prints, as a download. Superusers
/// only: it holds everything we store about a person.
pub async fn export_user(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Extension(staff): Extension<StaffSession>,
    Extension(auth): Extension<Auth>,
) -> Response {
    let Some(admin) = backend::admin::access::admin_of(Some(&staff), Some(&auth)).filter(|admin| admin.is_superuser)
    else {
        return (StatusCode::FORBIDDEN, "Superuser access required").into_response();
    };
    let exported = match export_person(&state.db, Person::Local(id)).await {
        // A download of everything about a person is itself recorded, before it is served.
        Ok(document) => backend::admin::users::record_export(&state.db, admin.actor(), id)
            .await
            .map(|()| document)
            .map_err(ExportError::from),
        Err(err) => Err(err),
    };
    match exported {
        Ok(document) => (
            [
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"user-{id}.json\"")),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            Json(document),
        )
            .into_response(),
        Err(ExportError::NotFound) => (StatusCode::NOT_FOUND, "No such user").into_response(),
        Err(err) => {
            tracing::error!(user_id = id, error = %err, "exporting a user failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Export failed").into_response()
        }
    }
}
