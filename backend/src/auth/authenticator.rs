//! Turns a request's token, server session and `X-Organization-Id` into an [`Auth`].

use ids::{ClerkOrgId, ClerkSessionId};

use std::time::Duration;

use tower_sessions::Session;

use super::{
    Auth, AuthVia, CurrentUser, Rejection,
    clerk_session::{self, ClerkSessionRecord},
    directory::UserDirectory,
};
use crate::{
    clerk::{
        OrgClaims, SessionClaims, SessionStatus, TokenError, TokenVerifier,
        verify::{unix_now, unverified_iat},
    },
    invalidation::Changed,
    machine::{MachineCredential, MachineVerifier, TokenKind},
};

/// Where the token came from: the `Authorization` header wins over the `__session` cookie.
#[derive(Clone, Debug)]
pub enum TokenSource {
    Header(String),
    Cookie(String),
}

impl TokenSource {
    fn value(&self) -> &str {
        match self {
            Self::Header(t) | Self::Cookie(t) => t,
        }
    }
}

/// What Clerk's `__client_uat` cookie says about the browser's Clerk client: ClerkJS sets it to
/// the time of the last sign-in change, and to `0` when it signs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientUat {
    /// No cookie: ClerkJS never ran here.
    Absent,
    /// `0`, or no number at all: ClerkJS signed this browser out.
    SignedOut,
    /// The time (Unix seconds) the browser's Clerk client last changed its sign-in.
    Active(i64),
}

impl ClientUat {
    /// From the cookie's value, read as `@clerk/backend` reads it (`parseInt(v) || 0`): the
    /// leading integer counts (`12.7` is 12, `17abc` is 17), and only 0 or no number is
    /// signed out.
    pub fn parse(value: Option<&str>) -> Self {
        let Some(value) = value else { return Self::Absent };
        let value = value.trim_start();
        let (sign, digits) = match value.as_bytes().first() {
            Some(b'-') => (-1, &value[1..]),
            Some(b'+') => (1, &value[1..]),
            _ => (1, value),
        };
        let end = digits.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
        // Past i64 the time is nonsense anyway: saturate rather than fail.
        let number = digits[..end].bytes().fold(0i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')));
        match sign * number {
            0 => Self::SignedOut,
            at => Self::Active(at),
        }
    }
}

pub struct Authenticator {
    pub verifier: TokenVerifier,
    pub directory: UserDirectory,
    revalidation: i64,
    allow_pending: bool,
    /// Clerk sessions ended by a webhook: refused even while their last token is unexpired.
    ended_sessions: moka::sync::Cache<ClerkSessionId, (), crate::CacheHasher>,
    /// API keys, M2M and OAuth tokens, for routes that accept them.
    pub machines: MachineVerifier,
}

impl Authenticator {
    pub fn new(
        verifier: TokenVerifier,
        directory: UserDirectory,
        machines: MachineVerifier,
        revalidation: Duration,
        allow_pending: bool,
    ) -> Self {
        Self {
            verifier,
            directory,
            machines,
            revalidation: revalidation.as_secs() as i64,
            allow_pending,
            // As long as the database remembers them.
            ended_sessions: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(revalidation.max(crate::db::ended_sessions::retention().to_std().unwrap_or_default()))
                .build_with_hasher(crate::CacheHasher::default()),
        }
    }

    /// Marks a Clerk session as ended on this instance.
    pub fn session_ended(&self, sid: &ClerkSessionId) {
        self.ended_sessions.insert(sid.clone(), ());
    }

    /// Loads the sessions the database remembers as ended (at start: the in-memory list is a
    /// cache of `ended_clerk_sessions`, which webhooks write with their effect).
    pub async fn load_ended_sessions(&self, db: &crate::Db) -> Result<usize, sqlx::Error> {
        let ended = crate::db::ended_sessions::active(db).await?;
        let count = ended.len();
        for sid in ended {
            self.ended_sessions.insert(sid, ());
        }
        Ok(count)
    }

    /// The server session stands in for Clerk's token only where Clerk itself would still
    /// consider the browser signed in: a token that is present but expired (the tab slept), or
    /// no token while `__client_uat` says the Clerk client has a session (ClerkJS is fetching a
    /// new one). No token and no `__client_uat`, or `__client_uat=0`, is a sign-out: the
    /// session's Clerk record is removed at once, so the next person at this browser is nobody.
    ///
    /// A user provisioned on the way is a write: what it made stale comes back with the verdict,
    /// for the caller to settle on the bus.
    pub async fn authenticate(
        &self,
        token: Option<TokenSource>,
        client_uat: ClientUat,
        session: Option<&Session>,
        org_header: Option<&str>,
    ) -> Changed<Auth> {
        // A machine token (Clerk reads them from the header only) is verified by the routes that
        // accept it; nothing is looked up here. An opaque one is known by its prefix; a JWT one
        // once the session verifier refuses it (below), so a cached session token costs no decode.
        if let Some(TokenSource::Header(token)) = &token
            && let Some(kind) = TokenKind::by_prefix(token)
        {
            return Changed::nothing(Auth::Machine(MachineCredential::new(kind, token)));
        }
        // Like Clerk, a header token takes the API path and ignores cookies, so the server
        // session is not even read: no database round trip for Bearer requests.
        let session = if matches!(token, Some(TokenSource::Header(_))) { None } else { session };
        // Clerk's cookie rules (`authenticateRequest` in @clerk/backend): a cookie token needs an
        // active `__client_uat` ("session-token-but-no-client-uat"), and one minted before the
        // client last changed belongs to a sign-in that is over ("…-iat-before-client-uat"), so
        // no server session may stand in for it either.
        let signed_out = match (&token, client_uat) {
            (Some(TokenSource::Header(_)), _) => false,
            (Some(TokenSource::Cookie(token)), ClientUat::Active(uat)) => {
                unverified_iat(token).is_some_and(|iat| iat < uat)
            }
            (Some(TokenSource::Cookie(_)), _) => true,
            (None, client_uat) => !matches!(client_uat, ClientUat::Active(_)),
        };
        let record = match session {
            Some(s) => clerk_session::load(s).await,
            None => None,
        };
        if signed_out {
            if let (Some(session), Some(_)) = (session, &record) {
                clerk_session::clear(session).await;
            }
            return Changed::nothing(Auth::Anonymous);
        }
        let Some(token) = token else {
            return Changed::nothing(self.signed_in_by_session(record, session, org_header, None).await);
        };
        let auth = match self.verifier.verify(token.value()).await {
            Ok(claims) => return self.signed_in_by_token(&claims, &token, session, record, org_header).await,
            // An expired token (Clerk's last one, for a tab that slept) may be covered by the session.
            Err(err) if err.is_expiry() => self.signed_in_by_session(record, session, org_header, Some(err)).await,
            Err(TokenError::KeysUnavailable) => Auth::Rejected(Rejection::Unavailable),
            // A JWT M2M or OAuth token is "not a session token" to the session verifier; Clerk's
            // rules tell which machine kind it is (`TokenKind::of`), for routes that accept it.
            Err(TokenError::NotASessionToken) if matches!(token, TokenSource::Header(_)) => {
                match TokenKind::of(token.value()) {
                    TokenKind::SessionToken => Auth::Rejected(Rejection::Token(TokenError::NotASessionToken)),
                    kind => Auth::Machine(MachineCredential::new(kind, token.value())),
                }
            }
            Err(err) => Auth::Rejected(Rejection::Token(err)),
        };
        Changed::nothing(auth)
    }

    async fn signed_in_by_token(
        &self,
        claims: &SessionClaims,
        token: &TokenSource,
        session: Option<&Session>,
        record: Option<ClerkSessionRecord>,
        org_header: Option<&str>,
    ) -> Changed<Auth> {
        if claims.sid.as_ref().is_some_and(|sid| self.ended_sessions.contains_key(sid)) {
            return Changed::nothing(Auth::Rejected(Rejection::SessionEnded));
        }
        // A pending session is signed in with a task left; Clerk treats it as signed out.
        if claims.status == SessionStatus::Pending && !self.allow_pending {
            return Changed::nothing(Auth::Rejected(Rejection::Pending));
        }
        let Changed { value: user, stale } = match self.directory.user_or_provision(&claims.sub, claims.exp).await {
            Ok(changed) => changed,
            Err(err) => {
                tracing::warn!(clerk_id = %claims.sub, error = %err, "loading the signed-in user failed");
                return Changed::nothing(Auth::Rejected(Rejection::Unavailable));
            }
        };
        if !user.can_sign_in() {
            return Changed::new(Auth::Rejected(Rejection::Inactive), stale);
        }
        let fresh = ClerkSessionRecord::verified_now(claims);
        // Only browser sessions (cookie tokens) get a server session; API clients send a Bearer each time.
        if let (TokenSource::Cookie(_), Some(session)) = (token, session) {
            clerk_session::store(session, &fresh, record.as_ref()).await;
        }
        let org = self.resolve_org(&user, fresh.org.clone(), org_header).await;
        Changed::new(Auth::SignedIn(CurrentUser::from_record(user, org, fresh, AuthVia::Token)), stale)
    }

    async fn signed_in_by_session(
        &self,
        record: Option<ClerkSessionRecord>,
        session: Option<&Session>,
        org_header: Option<&str>,
        token_error: Option<TokenError>,
    ) -> Auth {
        let not_signed_in = || match &token_error {
            Some(err) => Auth::Rejected(Rejection::Token(err.clone())),
            None => Auth::Anonymous,
        };
        let Some(record) = record else { return not_signed_in() };
        if unix_now() - record.verified_at > self.revalidation {
            return not_signed_in();
        }
        if record.sid.as_ref().is_some_and(|sid| self.ended_sessions.contains_key(sid)) {
            if let Some(session) = session {
                clerk_session::clear(session).await;
            }
            return Auth::Rejected(Rejection::SessionEnded);
        }
        let user = match self.directory.user(&record.user).await {
            Ok(Some(user)) => user,
            Ok(None) => return not_signed_in(),
            Err(err) => {
                tracing::warn!(error = %err, "loading the session's user failed");
                return Auth::Rejected(Rejection::Unavailable);
            }
        };
        if !user.can_sign_in() {
            return Auth::Rejected(Rejection::Inactive);
        }
        let org = self.resolve_org(&user, record.org.clone(), org_header).await;
        Auth::SignedIn(CurrentUser::from_record(user, org, record, AuthVia::ServerSession))
    }

    /// The token's organization, unless `X-Organization-Id` names another one the user belongs to locally.
    async fn resolve_org(
        &self,
        user: &crate::db::users::User,
        from_token: Option<OrgClaims>,
        header: Option<&str>,
    ) -> Option<OrgClaims> {
        // Anything not shaped like a Clerk org id is ignored before any cache or query.
        let requested = header.map(str::trim).filter(|h| is_clerk_org_id(h)).map(ClerkOrgId::from);
        let Some(requested) = requested else { return from_token };
        if from_token.as_ref().is_some_and(|o| o.id == requested) {
            return from_token;
        }
        // Boxed: only requests naming another organization pay for the membership load's future.
        match Box::pin(self.directory.membership(user.id, &requested)).await {
            Ok(Some(m)) => Some(OrgClaims {
                id: requested.clone(),
                slug: None,
                role: Some(m.role.clone()),
                permissions: m.permissions.0.clone(),
            }),
            Ok(None) => from_token,
            Err(err) => {
                tracing::warn!(error = %err, "loading an organization membership failed");
                from_token
            }
        }
    }
}

/// `org_` plus 1 to 64 ASCII letters and digits, as Clerk's organization ids are.
fn is_clerk_org_id(value: &str) -> bool {
    value
        .strip_prefix("org_")
        .is_some_and(|rest| (1..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The authenticator's caches: users and memberships (its directory's), and ended sessions.
#[async_trait::async_trait]
impl crate::invalidation::Forget for Authenticator {
    async fn forget(&self, item: &crate::invalidation::Invalidation) {
        use crate::invalidation::Invalidation as I;
        match item {
            I::User(clerk_id) => self.directory.invalidate_user(clerk_id).await,
            I::Memberships => self.directory.invalidate_memberships(),
            I::SessionEnded(sid) => self.session_ended(sid),
            I::All => self.directory.invalidate_all(),
            I::MachineToken(id) => self.machines.opaque.forget(id),
            I::ServerSession(_) | I::ServerSessions | I::Listings => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ClientUat, is_clerk_org_id};

    #[test]
    fn client_uat_reads_like_javascripts_parse_int() {
        let parse = |v: &str| ClientUat::parse(Some(v));
        assert_eq!(ClientUat::parse(None), ClientUat::Absent);
        for (value, expected) in [
            ("1700000000", ClientUat::Active(1_700_000_000)),
            (" 12.7", ClientUat::Active(12)),
            ("17abc", ClientUat::Active(17)),
            ("-5", ClientUat::Active(-5)),
            ("0", ClientUat::SignedOut),
            ("", ClientUat::SignedOut),
            ("soon", ClientUat::SignedOut),
            ("-", ClientUat::SignedOut),
        ] {
            assert_eq!(parse(value), expected, "{value:?}");
        }
        assert_eq!(parse(&"9".repeat(40)), ClientUat::Active(i64::MAX));
    }

    #[test]
    fn only_clerk_shaped_org_ids_are_accepted() {
        assert!(is_clerk_org_id("org_2abcDEF123"));
        assert!(is_clerk_org_id(&format!("org_{}", "a".repeat(64))));
        for bad in ["", "org_", "org_a-b", "org_ä", "ORG_abc", "user_abc", "org_abc ", "x".repeat(5000).as_str()] {
            assert!(!is_clerk_org_id(bad), "{bad:?}");
        }
        assert!(!is_clerk_org_id(&format!("org_{}", "a".repeat(65))));
    }
}
