//! The Clerk half of a hybrid server session: which Clerk user and session it stands for, and
//! when their token was last verified. Staff password sessions use a different key and never mix.

use ids::{ClerkSessionId, ClerkUserId};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

pub use crate::db::session_index::{EndSessions, end_clerk_sessions_in};
use crate::{
    clerk::{Actor, Features, OrgClaims, SessionClaims, SessionStatus},
    invalidation::Invalidation,
    invalidation_bus::InvalidationBus,
};

/// The session key under which the Clerk record lives. The session store indexes it.
pub const CLERK_KEY: &str = "clerk";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClerkSessionRecord {
    /// The Clerk user id (`sub`).
    pub user: ClerkUserId,
    /// The Clerk session id (`sid`).
    pub sid: Option<ClerkSessionId>,
    pub org: Option<OrgClaims>,
    /// Unix seconds of the last successful token verification.
    pub verified_at: i64,
    /// The rest of the last token's claims, so a session standing in for it grants no more
    /// and no less. Defaults keep records written by older versions readable.
    #[serde(default)]
    pub actor: Option<Actor>,
    #[serde(default)]
    pub features: Features,
    #[serde(default)]
    pub plans: Features,
    #[serde(default)]
    pub status: SessionStatus,
    /// The token's `fva` (minutes since each factor was verified), as of `verified_at`.
    #[serde(default)]
    pub factor_verification_age: Option<[f64; 2]>,
}

impl ClerkSessionRecord {
    /// The record of a token verified just now.
    pub fn verified_now(claims: &SessionClaims) -> Self {
        Self {
            user: claims.sub.clone(),
            sid: claims.sid.clone(),
            org: claims.org.clone(),
            verified_at: crate::clerk::verify::unix_now(),
            actor: claims.actor.clone(),
            features: claims.features.clone(),
            plans: claims.plans.clone(),
            status: claims.status,
            factor_verification_age: claims.factor_verification_age,
        }
    }

    /// `fva` as of now: each verified factor is older by the minutes since `verified_at`.
    pub fn factor_verification_age_now(&self) -> Option<[f64; 2]> {
        let minutes = (crate::clerk::verify::unix_now() - self.verified_at).max(0) as f64 / 60.0;
        self.factor_verification_age.map(|ages| ages.map(|age| if age == -1.0 { age } else { age + minutes }))
    }

    /// Whether both records say the same about the session, whenever they were verified.
    /// Destructured, so a new field must be decided on here.
    fn same_claims(&self, other: &Self) -> bool {
        let Self { user, sid, org, verified_at: _, actor, features, plans, status, factor_verification_age } = self;
        (user, sid, org, actor, features, plans, status, factor_verification_age)
            == (
                &other.user,
                &other.sid,
                &other.org,
                &other.actor,
                &other.features,
                &other.plans,
                &other.status,
                &other.factor_verification_age,
            )
    }
}

pub async fn load(session: &Session) -> Option<ClerkSessionRecord> {
    match session.get::<ClerkSessionRecord>(CLERK_KEY).await {
        Ok(record) => record,
        Err(err) => {
            tracing::warn!(error = %err, "reading the Clerk session record failed");
            None
        }
    }
}

/// Writes the record. The session id is cycled whenever the record would vouch for a user or
/// Clerk session that the session did not already carry (none before, another user, another
/// Clerk session): an id someone planted in the browser beforehand never comes to stand for
/// the person who signs in (session fixation). Skips the write while nothing but a recent
/// `verified_at` would change.
pub async fn store(session: &Session, record: &ClerkSessionRecord, previous: Option<&ClerkSessionRecord>) {
    const REFRESH_EVERY: i64 = 30;
    if let Some(prev) = previous
        && prev.same_claims(record)
        && record.verified_at - prev.verified_at < REFRESH_EVERY
    {
        return;
    }
    let same_holder = previous.is_some_and(|prev| prev.user == record.user && prev.sid == record.sid);
    if !same_holder && let Err(err) = session.cycle_id().await {
        tracing::warn!(error = %err, "cycling the session id failed");
    }
    if let Err(err) = session.insert(CLERK_KEY, record).await {
        tracing::warn!(error = %err, "writing the Clerk session record failed");
    }
}

pub async fn clear(session: &Session) {
    let _ = session.remove_value(CLERK_KEY).await;
}

/// Deletes the matching server sessions at once, and has every instance drop its cached copies,
/// returning how many ended.
pub async fn end_clerk_sessions(bus: &InvalidationBus, which: EndSessions<'_>) -> Result<u64, sqlx::Error> {
    let mut tx = bus.db().begin().await?;
    let ended = end_clerk_sessions_in(tx.conn(), which).await?;
    tx.commit().await?;
    let stale = match which {
        EndSessions::ClerkSession(sid) => Invalidation::SessionEnded(sid.clone()),
        EndSessions::ClerkUser(_) => Invalidation::ServerSessions,
    };
    bus.invalidate(&[stale]).await;
    Ok(ended)
}
