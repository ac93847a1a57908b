//! Who may use the admin, and which paths are the admin's: the one rule the server's middleware,
//! its plain handlers and the app's guards all apply. The app only renders.

use crate::{auth::Auth, db::users::User, staff::login_session::StaffSession};
use ids::{ClerkUserId, UserId};

use super::Actor;

/// The staff login page.
pub const LOGIN_PATH: &str = "/admin/login";

/// Whether `path` is an admin page (staff only; others are sent to the login page).
pub fn is_admin_page(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// Whether `path` is for staff only: an admin page or an admin server function.
pub fn is_admin_path(path: &str) -> bool {
    is_admin_page(path) || path.starts_with("/api/admin/")
}

/// A staff member using the admin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffMember {
    pub user_id: UserId,
    pub email: String,
    pub is_superuser: bool,
    /// Signed in with a staff password (rather than a Clerk session).
    pub password_session: bool,
    /// The Clerk user impersonating this staff member, if anyone.
    pub impersonated_by: Option<ClerkUserId>,
}

impl StaffMember {
    /// The same person as the author of a change.
    pub fn actor(&self) -> Actor {
        Actor { user_id: self.user_id, is_superuser: self.is_superuser, impersonated_by: self.impersonated_by.clone() }
    }
}

/// Who may use the admin: a staff password session, or a signed-in Clerk user whose mirrored row
/// is staff. An impersonated session acts as plain staff: whoever impersonates a superuser gets
/// none of a superuser's powers (export, access flags, staff accounts).
pub fn admin_of(staff: Option<&StaffSession>, auth: Option<&Auth>) -> Option<StaffMember> {
    let member = |user: &User, password_session, impersonated_by: Option<ClerkUserId>| StaffMember {
        user_id: user.id,
        email: user.email.clone(),
        is_superuser: user.is_superuser && impersonated_by.is_none(),
        password_session,
        impersonated_by,
    };
    match (staff, auth) {
        (Some(StaffSession(Some(user))), _) => Some(member(user, true, None)),
        (_, Some(Auth::SignedIn(current))) if current.user.is_staff => {
            Some(member(&current.user, false, current.actor.as_ref().map(|a| a.sub.clone())))
        }
        _ => None,
    }
}
