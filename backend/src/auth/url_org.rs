//! The organization a URL names (`crate::org_urls`), made the request's active one for a member.

use super::{Authenticator, CurrentUser, Rejection};
use crate::{
    clerk::OrgClaims,
    db::organizations::{self, Organization},
    org_urls::OrgRef,
};

impl Authenticator {
    /// The organization `reference` names, with the user's role and permissions in it, if it is
    /// live here and the user is a member; `Ok(None)` otherwise (unknown, deleted or not a
    /// member alike, so a page can answer 404 without saying which).
    pub async fn org_in_url(
        &self,
        user: &CurrentUser,
        reference: &OrgRef,
    ) -> Result<Option<(Organization, OrgClaims)>, Rejection> {
        let db = self.directory.db();
        let found = match reference {
            // Clerk's slugs are lowercase: anything else names nothing.
            OrgRef::Slug(slug) if slug.len() <= 64 => organizations::find_by_slug(db, slug).await,
            OrgRef::Slug(_) => Ok(None),
            OrgRef::Id(id) => organizations::find_by_clerk_id(db, id).await,
        };
        let org = match found {
            Ok(Some(org)) if org.deleted_at.is_none() => org,
            Ok(_) => return Ok(None),
            Err(err) => {
                tracing::warn!(error = %err, "loading the URL's organization failed");
                return Err(Rejection::Unavailable);
            }
        };
        let membership = self.directory.membership(user.user.id, &org.clerk_id).await.map_err(|err| {
            tracing::warn!(error = %err, "loading a membership failed");
            Rejection::Unavailable
        })?;
        Ok(membership.map(|m| {
            let claims = OrgClaims {
                id: org.clerk_id.clone(),
                slug: org.slug.clone(),
                role: Some(m.role.clone()),
                permissions: m.permissions.0.clone(),
            };
            (org, claims)
        }))
    }
}
