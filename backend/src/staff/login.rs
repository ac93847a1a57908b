//! Staff login: throttled per (email, client), per client and per email (in the database, so
//! every instance agrees), one password verification whatever the email, and one answer for
//! every wrong credential.

use chrono::Duration;

use super::verify_gate;
use crate::{
    db::{Db, login_attempts, staff_accounts, users::User},
    email::EmailAddress,
};

/// Longer passwords are refused before hashing: argon2's cost grows with the input, and no
/// password manager makes passwords this long.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Attempts within this window count towards a refusal.
pub const WINDOW_MINUTES: i64 = 15;
/// Attempts for one email from one client (a client that failed on it itself).
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
pub const MAX_FAILURES_PER_IP: i64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email, wrong password, or an account that may not log in: deliberately one case.
    #[error("Invalid email or password.")]
    InvalidCredentials,
    #[error("Too many failed attempts. Try again in {WINDOW_MINUTES} minutes.")]
    Throttled,
    #[error("Too many logins at once. Try again in a moment.")]
    Busy,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

fn limits() -> login_attempts::Limits {
    login_attempts::Limits {
        since: crate::db::now() - Duration::minutes(WINDOW_MINUTES),
        per_pair: MAX_FAILURES_PER_EMAIL,
        per_client: MAX_FAILURES_PER_IP,
        per_email: MAX_FAILURES_PER_EMAIL,
        email_wide_floor: 2,
    }
}

/// Counts one password check for `email` (lowercase) from `client` under the login limits, for
/// checks outside the login form (a current password): the attempt's id, or `None` when refused.
pub async fn reserve_attempt(db: &Db, email: &str, client: &str) -> Result<Option<i64>, sqlx::Error> {
    login_attempts::reserve(db, email, client, limits()).await
}

/// Takes back a reserved attempt whose password was never checked.
pub async fn release_attempt(db: &Db, attempt: i64) -> Result<(), sqlx::Error> {
    login_attempts::release(db, attempt).await
}

/// Forgives `client`'s attempts on `email` after a check that succeeded.
pub async fn forgive_attempts(db: &Db, email: &str, client: &str) -> Result<(), sqlx::Error> {
    login_attempts::forgive(db, email, client).await
}

/// A successful login: the account, and the staff epoch its session starts under.
pub struct LoggedIn {
    pub user: User,
    pub epoch: i64,
}

/// Checks the password of the staff account `email`, from `client` (see [`super::ClientIp`]).
///
/// The attempt is reserved before the password is checked, so a burst of parallel guesses
/// counts every one of them; it is taken back only if the check never ran (server too busy).
pub async fn log_in(db: &Db, email: &str, password: &str, client: &str) -> Result<LoggedIn, LoginError> {
    let result = check(db, email, password, client).await;
    crate::measure::staff_login(match &result {
        Ok(_) => "success",
        Err(LoginError::InvalidCredentials) => "invalid",
        Err(LoginError::Throttled) => "throttled",
        Err(LoginError::Busy) => "busy",
        Err(LoginError::Database(_)) => "error",
    });
    result
}

async fn check(db: &Db, email: &str, password: &str, client: &str) -> Result<LoggedIn, LoginError> {
    // Bounded before anything is stored, logged or hashed: every value here is the caller's.
    let Some(email) = EmailAddress::parse(email) else { return Err(LoginError::InvalidCredentials) };
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(LoginError::InvalidCredentials);
    }
    let email = email.as_str();
    let Some(attempt) = login_attempts::reserve(db, email, client, limits()).await? else {
        tracing::warn!(%email, %client, "staff login refused: too many failed attempts");
        return Err(LoginError::Throttled);
    };

    let credentials = staff_accounts::credentials(db, email).await?;
    let stored = credentials.as_ref().map(|c| c.password_hash.clone());
    let Some(matches) = verify_gate::verify(password, stored).await else {
        login_attempts::release(db, attempt).await?;
        tracing::warn!(%email, %client, "staff login refused: password checks are saturated");
        return Err(LoginError::Busy);
    };

    // The account as it is now, under the epoch of the hash just checked: a reset that landed
    // while argon2 ran must not let the old password start a session under the new epoch.
    let account = match (matches, credentials) {
        (true, Some(c)) => {
            staff_accounts::active_staff_with_epoch(db, c.user_id).await?.filter(|(_, epoch)| *epoch == c.epoch)
        }
        _ => None,
    };
    let Some((user, epoch)) = account else {
        tracing::info!(%email, %client, "staff login failed");
        return Err(LoginError::InvalidCredentials);
    };
    login_attempts::forgive(db, email, client).await?;
    staff_accounts::record_login(db, user.id).await?;
    tracing::info!(user_id = user.id.get(), %client, "staff logged in");
    Ok(LoggedIn { user, epoch })
}
