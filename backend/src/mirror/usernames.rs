//! Generated usernames (`{prefix}_{8 hex}`), for users Clerk gives none. Generated once: a user
//! who already has one keeps it across every later update.

use super::MirrorPolicy;
use crate::db::{Tx, users, users::ClerkUserFields};

pub fn generate(prefix: &str) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", &hex[..8])
}

/// Fills `fields.username` when Clerk has none: the stored one if any, else a fresh unique one.
pub async fn assign_username(
    tx: &mut Tx,
    policy: &MirrorPolicy,
    fields: &mut ClerkUserFields,
) -> Result<(), sqlx::Error> {
    let Some(prefix) = &policy.username_prefix else { return Ok(()) };
    if fields.username.is_some() {
        return Ok(());
    }
    if let Some(existing) = users::find_by_clerk_id_in(tx.conn(), &fields.clerk_id).await?.and_then(|u| u.username) {
        fields.username = Some(existing);
        return Ok(());
    }
    fields.username = Some(free_username(tx, prefix).await?);
    fields.push_username = Some(true);
    Ok(())
}

/// A generated name nobody here has. 32 random bits make a clash rare; five makes it a fault.
pub async fn free_username(tx: &mut Tx, prefix: &str) -> Result<String, sqlx::Error> {
    for _ in 0..5 {
        let candidate = generate(prefix);
        if !users::username_taken_in(tx.conn(), &candidate).await? {
            return Ok(candidate);
        }
    }
    Err(sqlx::Error::Protocol("could not find a free username".into()))
}
