//! Staff accounts from the admin, with the CLI's rules (argon2id, at least 12 characters): a
//! superuser creates one or resets another's password; every password staff member changes
//! their own. Each is audited, and a new password ends the account's other sessions.

use serde_json::Value;

use super::{Actor, Changes, EditError, Validation, record_audit};
use crate::{
    db::{Db, staff_accounts, users::User},
    email::EmailAddress,
    staff::{NewPassword, verify_gate},
};

/// A new password typed twice, checked against the rules: the field errors, or the hash.
async fn new_password(v: &mut Validation, password: &str, confirm: &str) -> Result<Option<String>, EditError> {
    let parsed = match NewPassword::parse(password) {
        Ok(p) => Some(p),
        Err(err) => {
            v.check(false, "password", &capitalized(&err.to_string()));
            None
        }
    };
    v.check(password == confirm, "password_confirm", "The passwords do not match");
    let Some(parsed) = parsed.filter(|_| password == confirm) else { return Ok(None) };
    verify_gate::hash(parsed).await.map(Some).ok_or(EditError::Busy)
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A superuser creates a staff account (`email` not taken by another staff account).
pub async fn create(
    db: &Db,
    actor: Actor,
    email: &str,
    password: &str,
    confirm: &str,
    superuser: bool,
) -> Result<User, EditError> {
    if !actor.is_superuser {
        return Err(EditError::Forbidden("Only a superuser can add staff".into()));
    }
    let mut v = Validation::default();
    let email = EmailAddress::parse(email);
    v.check(email.is_some(), "email", "Enter a valid email address");
    if let Some(email) = &email {
        let taken = staff_accounts::find_id_by_email(db, email.as_str()).await?.is_some();
        v.check(!taken, "email", "A staff account with this email exists: reset its password instead");
    }
    let hash = new_password(&mut v, password, confirm).await?;
    v.finish()?;
    let (Some(email), Some(hash)) = (email, hash) else { return Err(EditError::NotFound) };

    let mut tx = db.begin().await?;
    let user = staff_accounts::create_in(tx.conn(), email.as_str(), superuser, &hash).await?;
    let mut changes = Changes::default();
    changes.field("email", Value::Null, user.email.clone());
    changes.field("is_staff", false, true);
    changes.field("is_superuser", false, user.is_superuser);
    record_audit(&mut tx, actor, "staff.create", "user", &user.id.to_string(), changes).await?;
    tx.commit().await?;
    Ok(user)
}

/// A superuser sets a new password for another staff account, which ends its sessions.
pub async fn reset_password(db: &Db, actor: Actor, id: i64, password: &str, confirm: &str) -> Result<(), EditError> {
    if !actor.is_superuser {
        return Err(EditError::Forbidden("Only a superuser can reset a staff password".into()));
    }
    if actor.user_id == id {
        return Err(EditError::Forbidden("Change your own password under “Your password”".into()));
    }
    let mut v = Validation::default();
    let hash = new_password(&mut v, password, confirm).await?;
    v.finish()?;
    let Some(hash) = hash else { return Err(EditError::NotFound) };
    let mut tx = db.begin().await?;
    if !staff_accounts::set_password_in(tx.conn(), id, &hash).await? {
        return Err(EditError::NotFound);
    }
    let mut changes = Changes::default();
    changes.context("password", "reset");
    record_audit(&mut tx, actor, "staff.password_reset", "user", &id.to_string(), changes).await?;
    tx.commit().await?;
    Ok(())
}

/// A staff member with a password changes it, proving the current one. Returns the account's
/// new staff epoch: every session under the old one (this one too, unless the caller re-stamps
/// it) has ended. The caller throttles attempts like logins.
pub async fn change_own_password(
    db: &Db,
    actor: Actor,
    current: &str,
    password: &str,
    confirm: &str,
) -> Result<i64, EditError> {
    let stored = staff_accounts::password_hash(db, actor.user_id).await?;
    if stored.is_none() {
        return Err(EditError::Forbidden("This account signs in with Clerk, not a password".into()));
    }
    let Some(matches) = verify_gate::verify(current, stored).await else { return Err(EditError::Busy) };
    let mut v = Validation::default();
    v.check(matches, "current_password", "That is not your current password");
    let hash = if matches { new_password(&mut v, password, confirm).await? } else { None };
    v.check(password != current, "password", "Choose a password you have not used here");
    v.finish()?;
    let Some(hash) = hash else { return Err(EditError::NotFound) };
    let mut tx = db.begin().await?;
    if !staff_accounts::set_password_in(tx.conn(), actor.user_id, &hash).await? {
        return Err(EditError::NotFound);
    }
    let epoch = staff_accounts::epoch_in(tx.conn(), actor.user_id).await?;
    let id = actor.user_id.to_string();
    let mut changes = Changes::default();
    changes.context("password", "changed");
    record_audit(&mut tx, actor, "staff.password_change", "user", &id, changes).await?;
    tx.commit().await?;
    Ok(epoch)
}
