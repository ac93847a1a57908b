//! JSON endpoints: `GET /api/me`.

use app::auth::UserView;
use axum::Json;

use crate::auth::RequireUser;

/// The signed-in user, exactly as the contract shapes it.
pub async fn me(RequireUser(user): RequireUser) -> Json<UserView> {
    Json(UserView::from(&user))
}
