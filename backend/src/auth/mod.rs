//! Who is making a request: a verified Clerk token, or a recent server session standing in for
//! one. The result is an [`Auth`] that middleware stores and guards read.

mod authenticator;
mod caller;
pub mod clerk_session;
mod directory;
pub mod reverification;
mod url_org;

pub use authenticator::{Authenticator, ClientUat, TokenSource};
pub use caller::Caller;
pub use directory::{DirectoryError, UserDirectory};

use ids::{ClerkOrgId, ClerkSessionId};
use std::sync::Arc;

use crate::{
    clerk::{Actor, Features, OrgClaims, SessionStatus, TokenError},
    db::users::User,
};

/// How the user was recognised on this request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthVia {
    /// A Clerk session token verified on this request.
    Token,
    /// A server session, within the revalidation window of its last verified token.
    ServerSession,
}

/// A signed-in, active Clerk user.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: Arc<User>,
    /// The active organization: from the token, or from `X-Organization-Id` if the user is a member.
    pub org: Option<OrgClaims>,
    /// Clerk's session id (`sid`).
    pub clerk_session_id: Option<ClerkSessionId>,
    pub via: AuthVia,
    /// `pending` only when `CLERK_ALLOW_PENDING_SESSIONS` lets such sessions in.
    pub status: SessionStatus,
    /// Who is impersonating this user (Clerk's `act`), if anyone.
    pub actor: Option<Actor>,
    /// The plan's features (v2 `fea`), for [`CurrentUser::has_feature`].
    pub features: Features,
    /// The plans (`pla`), for [`CurrentUser::has_plan`].
    pub plans: Features,
    /// The organization the token's `o:` features and plans describe: they count only while
    /// it is the active one (not when a URL or `X-Organization-Id` made another one active).
    pub token_org: Option<ClerkOrgId>,
    /// Minutes since each factor was verified (`fva`, aged to now), for
    /// [`CurrentUser::has_reverified`].
    pub factor_verification_age: Option<[f64; 2]>,
}

impl CurrentUser {
    /// The user a verified token, or a server session standing in for one, describes; `org` is
    /// the active organization as resolved for this request.
    pub fn from_record(
        user: Arc<User>,
        org: Option<OrgClaims>,
        record: clerk_session::ClerkSessionRecord,
        via: AuthVia,
    ) -> Self {
        let factor_verification_age = record.factor_verification_age_now();
        Self {
            user,
            org,
            factor_verification_age,
            token_org: record.org.as_ref().map(|o| o.id.clone()),
            plans: record.plans,
            clerk_session_id: record.sid,
            via,
            status: record.status,
            actor: record.actor,
            features: record.features,
        }
    }

    /// Clerk's `has({ reverification })`: whether the user verified recently enough for it.
    pub fn has_reverified(&self, required: reverification::Reverification) -> bool {
        required.is_met_by(self.factor_verification_age)
    }

    pub fn has_org_role(&self, role: &str) -> bool {
        let wanted = normalize_org_name(role);
        self.org.as_ref().and_then(|o| o.role.as_deref()).is_some_and(|r| r == wanted)
    }

    pub fn has_org_permission(&self, permission: &str) -> bool {
        let wanted = normalize_org_name(permission);
        self.org.as_ref().is_some_and(|o| o.permissions.contains(&wanted))
    }

    /// Clerk's `has({feature})`: `org:x` and `user:x` ask one scope, a bare `x` either. Org
    /// features count only while the token's organization is the active one.
    pub fn has_feature(&self, feature: &str) -> bool {
        self.scoped(&self.features).has(feature)
    }

    /// Clerk's `has({plan})` over `pla`: `org:pro` and `user:free` ask one side, a bare `pro`
    /// either; org plans count only while the token's organization is the active one.
    pub fn has_plan(&self, plan: &str) -> bool {
        self.scoped(&self.plans).has(plan)
    }

    /// `names` without its organization side unless the token's organization is active.
    fn scoped<'a>(&self, names: &'a Features) -> std::borrow::Cow<'a, Features> {
        let org_active = self.org.as_ref().is_some_and(|o| self.token_org.as_ref() == Some(&o.id));
        if org_active {
            std::borrow::Cow::Borrowed(names)
        } else {
            std::borrow::Cow::Owned(Features { org: Vec::new(), user: names.user.clone() })
        }
    }
}

/// `admin` and `org:admin` name the same role.
fn normalize_org_name(name: &str) -> String {
    if name.starts_with("org:") { name.to_owned() } else { format!("org:{name}") }
}

/// Why a request that presented credentials is not signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// 401: the token failed verification.
    Token(TokenError),
    /// 401: the user is inactive or deleted.
    Inactive,
    /// 401: Clerk ended this session.
    SessionEnded,
    /// 401: the session has a task left (`sts: pending`); guards see nobody signed in.
    Pending,
    /// 503: keys or the user could not be loaded; retrying may work.
    Unavailable,
}

/// The authentication state of one request.
// One per request, moved into the request's extensions once: boxing the common variant would
// cost an allocation on every signed-in request to save bytes nobody copies.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Auth {
    Anonymous,
    SignedIn(CurrentUser),
    /// A machine token in the `Authorization` header, verified only by a route that accepts
    /// its kind ([`Authenticator::caller`]); to every other route it is not a session token.
    Machine(crate::machine::MachineCredential),
    Rejected(Rejection),
}

impl Auth {
    pub fn user(&self) -> Option<&CurrentUser> {
        match self {
            Self::SignedIn(user) => Some(user),
            _ => None,
        }
    }

    /// The verdict for a route that takes session tokens only (every route unless it says
    /// otherwise): the user, `Ok(None)` for nobody (a pending session included, as Clerk), or
    /// why not.
    pub fn session_user(&self) -> Result<Option<&CurrentUser>, Rejection> {
        match self {
            Self::SignedIn(user) => Ok(Some(user)),
            Self::Anonymous | Self::Rejected(Rejection::Pending) => Ok(None),
            Self::Machine(_) => Err(Rejection::Token(crate::clerk::TokenError::NotASessionToken)),
            Self::Rejected(rejection) => Err(rejection.clone()),
        }
    }
}
