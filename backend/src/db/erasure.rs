//! The rest of a deleted person's data, beyond their own row: what the audit log says about
//! them (names before and after an edit, their email as a member or invitee), invitations
//! addressed to their email, and their memberships' metadata. Run in the deletion's transaction.

use ids::UserId;

use super::{Conn, Tx};

/// What an erased audit entry's `changes` becomes: the entry (who did what, when) stays.
const ERASED: &str = r#"{"erased":true}"#;

/// Erases what other tables hold about the user with local id `user_id` and address `email`.
pub async fn erase_person_in(tx: &mut Tx, user_id: UserId, email: &str) -> Result<(), sqlx::Error> {
    let object_id = user_id.to_string();
    let email = email.trim().to_lowercase();
    match tx.conn() {
        Conn::Sqlite(c) => {
            sqlx::query(
                "UPDATE audit_log SET changes = $3 WHERE (object_type = 'user' AND object_id = $1) \
                 OR ($2 <> '' AND (lower(json_extract(changes, '$.member')) = $2 \
                     OR lower(json_extract(changes, '$.email')) = $2))",
            )
            .bind(&object_id)
            .bind(&email)
            .bind(ERASED)
            .execute(&mut *c)
            .await?;
        }
        Conn::Postgres(c) => {
            sqlx::query(
                "UPDATE audit_log SET changes = $3::jsonb WHERE (object_type = 'user' AND object_id = $1) \
                 OR ($2 <> '' AND (lower(changes->>'member') = $2 OR lower(changes->>'email') = $2))",
            )
            .bind(&object_id)
            .bind(&email)
            .bind(ERASED)
            .execute(&mut *c)
            .await?;
        }
    }
    if !email.is_empty() {
        crate::on_conn!(tx.conn(), c => sqlx::query(
            "UPDATE organization_invitations SET email_address = '', public_metadata = '{}' \
             WHERE lower(email_address) = $1")
            .bind(&email)
            .execute(&mut *c)
            .await
            .map(|_| ()))?;
    }
    crate::on_conn!(tx.conn(), c => sqlx::query(
        "UPDATE organization_memberships SET public_metadata = '{}' WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}
