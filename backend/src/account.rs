//! The signed-in user's edits to their own local-only fields (Clerk owns the rest).

use crate::{
    db::{Db, users, users::User},
    invalidation::{Changed, Invalidation},
};

pub const BIO_MAX_CHARS: usize = 280;

#[derive(Debug, thiserror::Error)]
pub enum BioError {
    #[error("The bio can be at most {BIO_MAX_CHARS} characters")]
    TooLong,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Sets `user`'s bio (trimmed) and returns it as stored.
pub async fn set_bio(db: &Db, user: &User, bio: &str) -> Result<Changed<String>, BioError> {
    let bio = bio.trim();
    if bio.chars().count() > BIO_MAX_CHARS {
        return Err(BioError::TooLong);
    }
    users::set_bio(db, user.id, bio).await?;
    // Every instance's cached copy of this user goes, not only this one's.
    let stale = user.clerk_id.clone().map(Invalidation::User).into_iter().collect();
    Ok(Changed::new(bio.to_owned(), stale))
}
