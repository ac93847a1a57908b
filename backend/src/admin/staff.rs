//! Staff accounts from the admin, with the CLI's rules (argon2id, at least 12 characters): a
//! superuser creates one or resets another's password; every password staff member changes
//! their own. Each is audited, and a new password ends the account's other sessions.

use ids::UserId;

use serde_json::Value;

use super::{Actor, Changes, EditError, Validation, record_audit};
use crate::{
    db::{Db, staff_accounts, users::User},
    email::EmailAddress,
    invalidation::{Changed, Invalidation},
    staff::{NewPassword, verify_gate},
};

const TAKEN: &str = "An account with this email signs in here already: see its page under Users";

/// A new password typed twice, checked against the rules: the field errors, or the password.
fn check_new_password(v: &mut Validation, password: &str, confirm: &str) -> Option<NewPassword> {
    let parsed = match NewPassword::parse(password) {
        Ok(p) => Some(p),
        Err(err) => {
            v.check(false, "password", &capitalized(&err.to_string()));
            None
        }
    };
    v.check(password == confirm, "password_confirm", "The passwords do not match");
    parsed.filter(|_| password == confirm)
}

/// [`check_new_password`], then its hash once every field is valid.
async fn new_password(mut v: Validation, password: &str, confirm: &str) -> Result<String, EditError> {
    let parsed = check_new_password(&mut v, password, confirm);
    v.finish()?;
    let parsed = parsed.ok_or(EditError::NotFound)?;
    verify_gate::hash(parsed).await.ok_or(EditError::Busy)
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
) -> Result<Changed<User>, EditError> {
    if !actor.is_superuser {
        return Err(EditError::Forbidden("Only a superuser can add staff".into()));
    }
    let mut v = Validation::default();
    let email = EmailAddress::parse(email);
    v.check(email.is_some(), "email", "Enter a valid email address");
    if let Some(email) = &email {
        let taken = staff_accounts::find_id_by_email(db, email.as_str()).await?.is_some();
        v.check(!taken, "email", TAKEN);
    }
    let parsed = check_new_password(&mut v, password, confirm);
    v.finish()?;
    let (Some(email), Some(parsed)) = (email, parsed) else { return Err(EditError::NotFound) };
    let hash = verify_gate::hash(parsed).await.ok_or(EditError::Busy)?;

    let mut tx = db.begin().await?;
    let user = match staff_accounts::create_in(tx.conn(), email.as_str(), superuser, &hash).await {
        Ok(user) => user,
        // Another superuser added the same email meanwhile.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(EditError::Invalid(vec![super::FieldError { field: "email", message: TAKEN.into() }]));
        }
        Err(e) => return Err(e.into()),
    };
    let mut changes = Changes::default();
    changes.field("email", Value::Null, user.email.clone());
    changes.field("is_staff", false, true);
    changes.field("is_superuser", false, user.is_superuser);
    record_audit(&mut tx, actor, "staff.create", "user", &user.id.to_string(), changes).await?;
    tx.commit().await?;
    Ok(Changed::new(user, vec![Invalidation::Listings]))
}

/// A superuser sets a new password for another staff account, which ends its sessions.
/// Staff sessions read the account fresh, so nothing cached goes stale.
pub async fn reset_password(
    db: &Db,
    actor: Actor,
    id: UserId,
    password: &str,
    confirm: &str,
) -> Result<Changed<()>, EditError> {
    if !actor.is_superuser {
        return Err(EditError::Forbidden("Only a superuser can reset a staff password".into()));
    }
    if actor.user_id == id {
        return Err(EditError::Forbidden("Change your own password under “Your password”".into()));
    }
    let hash = new_password(Validation::default(), password, confirm).await?;
    let mut tx = db.begin().await?;
    if !staff_accounts::set_password_in(tx.conn(), id, &hash).await? {
        return Err(EditError::NotFound);
    }
    let mut changes = Changes::default();
    changes.context("password", "reset");
    record_audit(&mut tx, actor, "staff.password_reset", "user", &id.to_string(), changes).await?;
    tx.commit().await?;
    Ok(Changed::nothing(()))
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
) -> Result<Changed<i64>, EditError> {
    let Some(stored) = staff_accounts::password_hash(db, actor.user_id).await? else {
        return Err(EditError::Forbidden("This account signs in with Clerk, not a password".into()));
    };
    let Some(matches) = verify_gate::verify(current, Some(stored.clone())).await else { return Err(EditError::Busy) };
    let mut v = Validation::default();
    v.check(matches, "current_password", "That is not your current password");
    v.check(password != current, "password", "Choose a password you have not used here");
    let hash = new_password(v, password, confirm).await?;
    let mut tx = db.begin().await?;
    if !staff_accounts::replace_password_in(tx.conn(), actor.user_id, &stored, &hash).await? {
        return Err(EditError::Forbidden("Your password was reset meanwhile: log in again".into()));
    }
    let epoch = staff_accounts::epoch_in(tx.conn(), actor.user_id).await?;
    let id = actor.user_id.to_string();
    let mut changes = Changes::default();
    changes.context("password", "changed");
    record_audit(&mut tx, actor, "staff.password_change", "user", &id, changes).await?;
    tx.commit().await?;
    Ok(Changed::nothing(epoch))
}
