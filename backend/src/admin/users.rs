//! Editing a mirrored user: names and username through Clerk, access flags locally.

use ids::UserId;

use serde_json::{Map, Value};

use super::{Actor, Changes, ClerkWrites, EditError, Validation, name_ok, now_millis, record_audit};
use crate::{
    clerk::mapping,
    db::{
        Db, staff_accounts,
        users::{self, ClerkUserFields, User},
    },
    invalidation::{Changed, Invalidation},
    mirror::{MirrorPolicy, usernames::assign_username},
};

/// The edit form, as submitted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserEdit {
    pub first_name: String,
    pub last_name: String,
    /// Empty means none.
    pub username: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
}

/// Clerk's username rule: 4 to 64 letters, digits, `_` or `-`.
fn username_ok(value: &str) -> bool {
    (4..=64).contains(&value.chars().count())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// One user's admin edits run one at a time: in this process a mutex (SQLite has one writing
/// instance), across instances a Postgres advisory lock on the user's id. Held across the Clerk
/// call, which is why it is not a row lock: no transaction waits on the network.
struct EditLock {
    _local: tokio::sync::MutexGuard<'static, ()>,
    postgres: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
}

/// The advisory-lock class of user edits (the first key of `pg_advisory_lock(int, int)`).
const EDIT_LOCK_CLASS: i32 = 0x5553_4544;

impl EditLock {
    async fn acquire(db: &Db, id: UserId) -> Result<Self, sqlx::Error> {
        static LOCAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let local = LOCAL.lock().await;
        let postgres = match db {
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::query("SELECT pg_advisory_lock($1, $2)")
                    .bind(EDIT_LOCK_CLASS)
                    .bind(id.get() as i32)
                    .execute(&mut *conn)
                    .await?;
                Some(conn)
            }
            Db::Sqlite(_) => None,
        };
        Ok(Self { _local: local, postgres })
    }

    async fn release(self) {
        let Some(mut conn) = self.postgres else { return };
        // The key is recomputed from nothing: unlock every hold of this session, ours alone.
        if sqlx::query("SELECT pg_advisory_unlock_all()").execute(&mut *conn).await.is_err() {
            // A connection that may still hold the lock must not go back to the pool.
            let _ = sqlx::Connection::close(conn.detach()).await;
        }
    }
}

/// Whether `actor` may edit `target` as `edit` asks. Staff and superuser rows are a superuser's
/// alone (any field: a name, the active flag or the access flags); plain staff edit ordinary
/// users, and never grant access.
pub fn may_edit(actor: &Actor, target: &User) -> bool {
    actor.is_superuser || !(target.is_staff || target.is_superuser)
}

fn authorize(actor: &Actor, target: &User, edit: &UserEdit) -> Result<(), EditError> {
    if !may_edit(actor, target) {
        return Err(EditError::Forbidden("Only a superuser can change a staff or superuser account".into()));
    }
    let access_changed = edit.is_staff != target.is_staff || edit.is_superuser != target.is_superuser;
    if access_changed && !actor.is_superuser {
        return Err(EditError::Forbidden("Only a superuser can change staff or superuser access".into()));
    }
    Ok(())
}

/// Applies `edit` to user `id`. Clerk-owned fields go to Clerk first; only if Clerk accepts are
/// they stored (from Clerk's answer), together with the local flags and one audit entry.
/// With generated usernames on (`policy`), a username is never dropped: clearing it is refused,
/// and a Clerk answer without one (not pushed yet) keeps the stored one.
pub async fn edit_user(
    db: &Db,
    writes: &ClerkWrites,
    policy: &MirrorPolicy,
    actor: Actor,
    id: UserId,
    edit: UserEdit,
) -> Result<Changed<User>, EditError> {
    // Taken before anything is decided or sent to Clerk: an edit that races a promotion of the
    // same user waits for it, and is then judged on the promoted row.
    let lock = EditLock::acquire(db, id).await?;
    let result = edit_locked(db, writes, policy, actor, id, edit).await;
    lock.release().await;
    result
}

async fn edit_locked(
    db: &Db,
    writes: &ClerkWrites,
    policy: &MirrorPolicy,
    actor: Actor,
    id: UserId,
    edit: UserEdit,
) -> Result<Changed<User>, EditError> {
    let before = users::find_by_id(db, id).await?.ok_or(EditError::NotFound)?;
    if before.deleted_at.is_some() {
        return Err(EditError::Forbidden("A deleted user cannot be edited".into()));
    }
    let first_name = edit.first_name.trim().to_owned();
    let last_name = edit.last_name.trim().to_owned();
    let username = Some(edit.username.trim().to_owned()).filter(|u| !u.is_empty());

    // Only what the form changes is checked: a value Clerk already holds (a 2-letter username
    // its instance allows, say) must not block an edit of another field.
    let mut v = Validation::default();
    let first_ok = first_name == before.first_name || name_ok(&first_name);
    let last_ok = last_name == before.last_name || name_ok(&last_name);
    let username_valid = username == before.username || username.as_deref().is_none_or(username_ok);
    v.check(first_ok, "first_name", "At most 256 characters, without control characters");
    v.check(last_ok, "last_name", "At most 256 characters, without control characters");
    v.check(username_valid, "username", "4 to 64 characters: letters, digits, _ or -");
    let keeps_username = username.is_some() || before.username.is_none() || policy.username_prefix.is_none();
    v.check(keeps_username, "username", "Required: every user has a username here (CLERK_AUTO_GENERATE_USERNAME)");
    if actor.user_id == id {
        v.check(edit.is_staff && edit.is_active, "is_staff", "You cannot remove your own staff access");
    }
    v.finish()?;
    authorize(&actor, &before, &edit)?;

    let mut patch = Map::new();
    if first_name != before.first_name {
        patch.insert("first_name".into(), Value::from(first_name.clone()));
    }
    if last_name != before.last_name {
        patch.insert("last_name".into(), Value::from(last_name.clone()));
    }
    if username != before.username {
        // Clerk decides whether a username may be removed; it answers 422 when it may not.
        patch.insert("username".into(), Value::from(username.clone().unwrap_or_default()));
    }
    let from_clerk = match (&before.clerk_id, patch.is_empty()) {
        (Some(clerk_id), false) => Some(match writes {
            ClerkWrites::Api(api) => {
                let answer = api.patch_user(clerk_id, &Value::Object(patch.clone())).await?;
                mapping::user_fields(&answer).map_err(|e| EditError::ClerkAnswer(e.to_string()))?
            }
            ClerkWrites::DevLocal => ClerkUserFields {
                clerk_id: clerk_id.clone(),
                email: before.email.clone(),
                username: username.clone(),
                first_name: first_name.clone(),
                last_name: last_name.clone(),
                image_url: before.image_url.clone(),
                public_metadata: before.public_metadata.0.clone(),
                last_sign_in_at: before.last_sign_in_at,
                is_active: before.is_active,
                clerk_updated_at: now_millis().max(before.clerk_updated_at.unwrap_or(0) + 1),
                push_username: None,
            },
        }),
        _ => None,
    };

    let mut tx = db.begin().await?;
    // Checked again on the row as it is now, under its lock: a concurrent promotion or demotion
    // must not be undone by a form read before it.
    let current = users::find_by_id_for_update_in(tx.conn(), id).await?.ok_or(EditError::NotFound)?;
    authorize(&actor, &current, &edit)?;
    match (from_clerk, &before.clerk_id) {
        (Some(mut fields), _) => {
            assign_username(&mut tx, policy, &mut fields).await?;
            users::upsert_from_clerk_in(tx.conn(), &fields).await?;
        }
        (None, None) if !patch.is_empty() => {
            users::set_names_in(tx.conn(), id, &first_name, &last_name, username.as_deref()).await?;
        }
        _ => {}
    }
    let active = (edit.is_active != current.is_active).then_some(edit.is_active);
    users::set_local_flags_in(tx.conn(), id, active, edit.is_staff, edit.is_superuser).await?;
    let shrinks = (current.is_active && !edit.is_active)
        || (current.is_staff && !edit.is_staff)
        || (current.is_superuser && !edit.is_superuser);
    if shrinks {
        staff_accounts::bump_epoch_in(tx.conn(), id).await?;
    }
    let after = users::find_by_id_in(tx.conn(), id).await?.ok_or(EditError::NotFound)?;

    let mut changes = Changes::default();
    changes.field("first_name", current.first_name.clone(), after.first_name.clone());
    changes.field("last_name", current.last_name.clone(), after.last_name.clone());
    changes.field("username", current.username.clone(), after.username.clone());
    changes.field("is_active", current.is_active, after.is_active);
    changes.field("is_staff", current.is_staff, after.is_staff);
    changes.field("is_superuser", current.is_superuser, after.is_superuser);
    record_audit(&mut tx, actor, "user.update", "user", &id.to_string(), changes).await?;
    tx.commit().await?;
    let stale = match &after.clerk_id {
        Some(clerk_id) => Invalidation::User(clerk_id.clone()),
        None => Invalidation::Listings,
    };
    Ok(Changed::new(after, vec![stale]))
}

/// Records that `actor` downloaded everything stored about user `id` (the admin's export).
pub async fn record_export(db: &Db, actor: Actor, id: UserId) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut changes = Changes::default();
    changes.context("exported", true);
    record_audit(&mut tx, actor, "user.export", "user", &id.to_string(), changes).await?;
    tx.commit().await
}
