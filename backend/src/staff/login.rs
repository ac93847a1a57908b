//! Staff login: throttled per email and per IP (in the database, so every instance agrees),
//! one password verification whatever the email, and one answer for every wrong credential.

use chrono::Duration;

use super::password;
use crate::db::{Db, login_attempts, staff_accounts, users::User};

/// Failures within this window count towards a lockout.
pub const WINDOW_MINUTES: i64 = 15;
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
pub const MAX_FAILURES_PER_IP: i64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email, wrong password, or an account that may not log in: deliberately one case.
    #[error("Invalid email or password.")]
    InvalidCredentials,
    #[error("Too many failed attempts. Try again in {WINDOW_MINUTES} minutes.")]
    Throttled,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Checks the password of the staff account `email`, from the client at `ip`.
pub async fn log_in(db: &Db, email: &str, password: &str, ip: &str) -> Result<User, LoginError> {
    let email = email.trim().to_lowercase();
    let since = crate::db::now() - Duration::minutes(WINDOW_MINUTES);
    let (by_email, by_ip) = login_attempts::failures_since(db, &email, ip, since).await?;
    if by_email >= MAX_FAILURES_PER_EMAIL || by_ip >= MAX_FAILURES_PER_IP {
        tracing::warn!(%email, %ip, by_email, by_ip, "staff login refused: too many failed attempts");
        return Err(LoginError::Throttled);
    }

    let credentials = staff_accounts::credentials(db, &email).await?;
    let (stored, candidate) = (credentials.as_ref().map(|c| c.password_hash.clone()), password.to_owned());
    // Argon2 is deliberately slow: keep it off the async workers.
    let matches =
        tokio::task::spawn_blocking(move || password::verify(&candidate, stored.as_deref())).await.unwrap_or(false);

    let user = match (matches, credentials) {
        (true, Some(c)) => staff_accounts::active_staff(db, c.user_id).await?,
        _ => None,
    };
    let Some(user) = user else {
        login_attempts::record_failure(db, &email, ip).await?;
        tracing::info!(%email, %ip, "staff login failed");
        return Err(LoginError::InvalidCredentials);
    };
    login_attempts::clear_email(db, &email).await?;
    staff_accounts::record_login(db, user.id).await?;
    tracing::info!(user_id = user.id, %ip, "staff logged in");
    Ok(user)
}
