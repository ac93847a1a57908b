//! Which kind of token a request carries, and which kinds a route accepts: Clerk's
//! `getMachineTokenType` and `acceptsToken` (`@clerk/backend` 3.25.0, `src/tokens/machine.ts`).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

/// The kinds of token Clerk issues, named as Clerk's `tokenType` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    SessionToken,
    ApiKey,
    M2mToken,
    OauthToken,
}

/// Clerk's prefixes of opaque machine tokens.
pub const API_KEY_PREFIX: &str = "ak_";
pub const M2M_TOKEN_PREFIX: &str = "mt_";
pub const OAUTH_TOKEN_PREFIX: &str = "oat_";
/// The subject of an M2M token: a machine.
pub const MACHINE_SUBJECT_PREFIX: &str = "mch_";
/// The header `typ` of an OAuth access token in JWT form (RFC 9068).
pub const OAUTH_JWT_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionToken => "session_token",
            Self::ApiKey => "api_key",
            Self::M2mToken => "m2m_token",
            Self::OauthToken => "oauth_token",
        }
    }

    /// The kind of `token`, in Clerk's order: `mt_` or a JWT whose `sub` is a machine, then
    /// `oat_` or a JWT typed `at+jwt`, then `ak_`; anything else is treated as a session token.
    /// Nothing here is verified.
    pub fn of(token: &str) -> Self {
        let jwt = decode_unverified(token);
        let (header, payload) = match &jwt {
            Some((h, p)) => (Some(h), Some(p)),
            None => (None, None),
        };
        let machine_sub = payload
            .and_then(|p| p.get("sub"))
            .and_then(serde_json::Value::as_str)
            .is_some_and(|sub| sub.starts_with(MACHINE_SUBJECT_PREFIX));
        let oauth_typ = header
            .and_then(|h| h.get("typ"))
            .and_then(serde_json::Value::as_str)
            .is_some_and(|typ| OAUTH_JWT_TYPES.contains(&typ));
        if token.starts_with(M2M_TOKEN_PREFIX) || machine_sub {
            Self::M2mToken
        } else if token.starts_with(OAUTH_TOKEN_PREFIX) || oauth_typ {
            Self::OauthToken
        } else {
            Self::by_prefix(token).unwrap_or(Self::SessionToken)
        }
    }

    /// The kind an opaque machine token's prefix names, without decoding anything: the check
    /// every Bearer request can afford. A JWT-shaped machine token is told apart only once the
    /// session verifier has refused it ([`TokenKind::of`]).
    pub fn by_prefix(token: &str) -> Option<Self> {
        [(M2M_TOKEN_PREFIX, Self::M2mToken), (OAUTH_TOKEN_PREFIX, Self::OauthToken), (API_KEY_PREFIX, Self::ApiKey)]
            .into_iter()
            .find_map(|(prefix, kind)| token.starts_with(prefix).then_some(kind))
    }

    /// Whether the token is a JWT (verified locally) rather than an opaque secret (verified by
    /// the Backend API).
    pub fn is_jwt(token: &str) -> bool {
        let mut parts = token.split('.');
        let ok = |p: Option<&str>| {
            p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        };
        ok(parts.next()) && ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
    }
}

/// A JWT's header and payload as JSON objects, unverified; `None` unless `token` is shaped like one.
fn decode_unverified(token: &str) -> Option<(serde_json::Value, serde_json::Value)> {
    if !TokenKind::is_jwt(token) {
        return None;
    }
    let mut parts = token.split('.');
    let mut part = || -> Option<serde_json::Value> {
        let value: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next()?).ok()?).ok()?;
        value.is_object().then_some(value)
    };
    Some((part()?, part()?))
}

/// Which kinds of token a route accepts (Clerk's `acceptsToken`). Routes accept session tokens
/// only unless they say otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptsToken(u8);

impl AcceptsToken {
    pub const SESSION_TOKEN: Self = Self(1);
    pub const API_KEY: Self = Self(2);
    pub const M2M_TOKEN: Self = Self(4);
    pub const OAUTH_TOKEN: Self = Self(8);
    /// Every machine kind, no session token.
    pub const MACHINE: Self = Self(2 | 4 | 8);
    /// Clerk's `"any"`.
    pub const ANY: Self = Self(1 | 2 | 4 | 8);

    pub const fn accepts(self, kind: TokenKind) -> bool {
        let bit = match kind {
            TokenKind::SessionToken => 1,
            TokenKind::ApiKey => 2,
            TokenKind::M2mToken => 4,
            TokenKind::OauthToken => 8,
        };
        self.0 & bit != 0
    }

    /// Both sets: `AcceptsToken::SESSION_TOKEN.or(AcceptsToken::API_KEY)`.
    pub const fn or(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl std::ops::BitOr for AcceptsToken {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        self.or(other)
    }
}

impl Default for AcceptsToken {
    fn default() -> Self {
        Self::SESSION_TOKEN
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn jwt(header: serde_json::Value, payload: serde_json::Value) -> String {
        let enc = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", enc(&header), enc(&payload))
    }

    #[test]
    fn kinds_follow_clerks_order() {
        let alg = json!({ "alg": "RS256" });
        assert_eq!(TokenKind::of("ak_abc"), TokenKind::ApiKey);
        assert_eq!(TokenKind::of("mt_abc"), TokenKind::M2mToken);
        assert_eq!(TokenKind::of("oat_abc"), TokenKind::OauthToken);
        assert_eq!(TokenKind::of(&jwt(alg.clone(), json!({ "sub": "mch_1" }))), TokenKind::M2mToken);
        // A machine subject wins over an OAuth typ, as in Clerk.
        let both = jwt(json!({ "alg": "RS256", "typ": "at+jwt" }), json!({ "sub": "mch_1" }));
        assert_eq!(TokenKind::of(&both), TokenKind::M2mToken);
        for typ in OAUTH_JWT_TYPES {
            let token = jwt(json!({ "alg": "RS256", "typ": typ }), json!({ "sub": "user_1" }));
            assert_eq!(TokenKind::of(&token), TokenKind::OauthToken);
        }
        assert_eq!(TokenKind::of(&jwt(alg, json!({ "sub": "user_1" }))), TokenKind::SessionToken);
        assert_eq!(TokenKind::of("garbage"), TokenKind::SessionToken);
        assert_eq!(TokenKind::of("a.b.c"), TokenKind::SessionToken);
        assert_eq!(TokenKind::of("AK_abc"), TokenKind::SessionToken);
    }

    #[test]
    fn accepts_combines_kinds() {
        let default = AcceptsToken::default();
        assert!(default.accepts(TokenKind::SessionToken));
        assert!(!default.accepts(TokenKind::ApiKey));
        let both = AcceptsToken::SESSION_TOKEN | AcceptsToken::API_KEY;
        assert!(both.accepts(TokenKind::ApiKey) && !both.accepts(TokenKind::M2mToken));
        assert!(!AcceptsToken::MACHINE.accepts(TokenKind::SessionToken));
        for kind in [TokenKind::SessionToken, TokenKind::ApiKey, TokenKind::M2mToken, TokenKind::OauthToken] {
            assert!(AcceptsToken::ANY.accepts(kind));
        }
    }
}
