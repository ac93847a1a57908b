//! Who is calling a route that accepts more than session tokens: a signed-in user or a
//! verified machine token ([`Caller`]), resolved from the request's [`Auth`] by what the route
//! accepts (Clerk's `auth({ acceptsToken })`).

use std::sync::Arc;

use ids::{ClerkOrgId, ClerkUserId};

use super::{Auth, Authenticator, CurrentUser, Rejection};
use crate::{
    clerk::TokenError,
    machine::{AcceptsToken, Machine, MachineError, TokenKind},
};

/// A caller a route accepted.
// Built once per request on routes that accept machines: boxing the user would add an
// allocation to save bytes nobody copies (as `Auth`).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Caller {
    User(CurrentUser),
    Machine(Arc<Machine>),
}

impl Caller {
    pub fn token_type(&self) -> TokenKind {
        match self {
            Self::User(_) => TokenKind::SessionToken,
            Self::Machine(m) => m.kind,
        }
    }

    /// The Clerk user the caller acts for: the signed-in user, an API key's user, an OAuth
    /// token's user. `None` for M2M tokens and organization keys.
    pub fn user_id(&self) -> Option<ClerkUserId> {
        match self {
            Self::User(u) => u.user.clerk_id.clone(),
            Self::Machine(m) => m.user_id(),
        }
    }

    /// The active organization, or an organization API key's organization.
    pub fn org_id(&self) -> Option<ClerkOrgId> {
        match self {
            Self::User(u) => u.org.as_ref().map(|o| o.id.clone()),
            Self::Machine(m) => m.org_id(),
        }
    }

    pub fn machine(&self) -> Option<&Machine> {
        match self {
            Self::Machine(m) => Some(m),
            Self::User(_) => None,
        }
    }
}

impl From<MachineError> for Rejection {
    fn from(err: MachineError) -> Self {
        match err {
            MachineError::Invalid(_) => Rejection::Token(TokenError::MachineTokenInvalid),
            MachineError::NotConfigured => Rejection::Token(TokenError::NoKeysConfigured),
            MachineError::Unavailable { .. } => Rejection::Unavailable,
        }
    }
}

impl Authenticator {
    /// The caller, if `accepts` takes the request's token: `Ok(None)` when nobody signed in;
    /// a token of a kind the route does not take is refused (401) before anything is verified.
    /// A machine token is verified here, on first use (opaque ones through the Backend API,
    /// cached).
    pub async fn caller(&self, auth: &Auth, accepts: AcceptsToken) -> Result<Option<Caller>, Rejection> {
        match auth {
            Auth::SignedIn(user) if accepts.accepts(TokenKind::SessionToken) => Ok(Some(Caller::User(user.clone()))),
            Auth::SignedIn(_) => Err(Rejection::Token(TokenError::TypeNotAccepted)),
            Auth::Machine(credential) if accepts.accepts(credential.kind) => {
                let machine = self.machines.verify(&self.verifier, credential).await?;
                Ok(Some(Caller::Machine(machine)))
            }
            // Clerk's words for a machine token where only session tokens go.
            Auth::Machine(_) if accepts == AcceptsToken::SESSION_TOKEN => {
                Err(Rejection::Token(TokenError::NotASessionToken))
            }
            Auth::Machine(_) => Err(Rejection::Token(TokenError::TypeNotAccepted)),
            Auth::Anonymous | Auth::Rejected(Rejection::Pending) => Ok(None),
            Auth::Rejected(rejection) => Err(rejection.clone()),
        }
    }
}
