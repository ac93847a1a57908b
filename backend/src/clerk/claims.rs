//! Session-token claims, with v1 (`org_*`) and v2 (`o`) organization claims read into one type.
//! See https://clerk.com/docs/backend-requests/resources/session-tokens

use ids::{ClerkOrgId, ClerkSessionId, ClerkUserId};
use serde::Deserialize;
use serde_json::Value;

/// The active organization named by a token.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrgClaims {
    pub id: ClerkOrgId,
    pub slug: Option<String>,
    /// With the `org:` prefix, as v1 tokens and the Backend API spell it (e.g. `org:admin`).
    pub role: Option<String>,
    pub permissions: Vec<String>,
}

/// The verified claims we use.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionClaims {
    pub sub: ClerkUserId,
    pub sid: Option<ClerkSessionId>,
    pub azp: Option<String>,
    pub exp: i64,
    pub iat: Option<i64>,
    pub org: Option<OrgClaims>,
    /// v2 `fea`: the plan's features, by scope.
    pub features: Features,
    /// `pla` (Clerk Billing): the user's and the active organization's plans, by scope.
    pub plans: Features,
    /// v2 `sts`; v1 tokens (no `sts`) are active.
    pub status: SessionStatus,
    /// `act`: who is impersonating the user, when someone is.
    pub actor: Option<Actor>,
    /// `fva`: minutes since the first and second factor were last verified (`-1`: never), for
    /// step-up reverification (`crate::auth::reverification`).
    pub factor_verification_age: Option<[f64; 2]>,
}

/// A session's status: `pending` means signed in but with a task left (e.g. choosing an
/// organization where one is required), which Clerk treats as signed out by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    #[default]
    Active,
    Pending,
}

/// The `act` claim of an impersonation session: the actor's user id and session.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    pub sub: ClerkUserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<ClerkSessionId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `fea` or `pla` split by scope: `o` names belong to the active organization, `u` ones to the
/// user, and `ou`/`uo` to both. (Plans use the same shape: `pla=u:free,o:pro`.)
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Features {
    pub org: Vec<String>,
    pub user: Vec<String>,
}

impl Features {
    /// Clerk's `has({feature})` / `has({plan})` (`checkForFeatureOrPlan` in `@clerk/shared`
    /// 4.41.0): `org:x`, `o:x`, `organization:x` ask the organization's, `user:x`, `u:x` the
    /// user's, a bare `x` either; any other prefix matches nothing. Only the first two
    /// `:`-separated parts of the request count, as in Clerk.
    pub fn has(&self, wanted: &str) -> bool {
        let contains = |list: &[String], name: &str| list.iter().any(|f| f == name);
        let mut parts = wanted.split(':');
        let scope = parts.next().unwrap_or_default();
        let Some(name) = parts.next() else { return contains(&self.org, scope) || contains(&self.user, scope) };
        // Clerk's `rawId || rawScope`: `user:` asks for a name called "user".
        let name = if name.is_empty() { scope } else { name };
        match scope {
            "o" | "org" | "organization" => contains(&self.org, name),
            "u" | "user" => contains(&self.user, name),
            _ => false,
        }
    }

    /// Clerk's `splitByScope`, exactly: `,`-separated, each part trimmed and split at its first
    /// `:`; scopes `o`, `u`, `ou`, `uo` (others are skipped). A part with no `:` (an empty one
    /// from a trailing comma included) makes the whole claim grant nothing, as Clerk's `has()`
    /// catches its parser's throw and answers false.
    pub fn split_by_scope(claim: &str) -> Option<Self> {
        let mut split = Self::default();
        if claim.is_empty() {
            return Some(split);
        }
        for part in claim.split(',') {
            let (scope, value) = part.trim().split_once(':')?;
            match scope {
                "o" => split.org.push(value.to_owned()),
                "u" => split.user.push(value.to_owned()),
                "ou" | "uo" => {
                    split.org.push(value.to_owned());
                    split.user.push(value.to_owned());
                }
                _ => {}
            }
        }
        Some(split)
    }
}

#[derive(Deserialize)]
pub(crate) struct RawClaims {
    sub: Option<Value>,
    sid: Option<String>,
    azp: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    v: Option<i64>,
    o: Option<RawOrgV2>,
    fea: Option<Value>,
    pla: Option<Value>,
    sts: Option<Value>,
    act: Option<Value>,
    fva: Option<Value>,
    org_id: Option<String>,
    org_slug: Option<String>,
    org_role: Option<String>,
    org_permissions: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawOrgV2 {
    id: Option<String>,
    slg: Option<String>,
    rol: Option<String>,
    per: Option<String>,
    fpm: Option<String>,
}

/// Why claims are unusable, before any time check.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ClaimsProblem {
    MissingSub,
    MachineToken,
    MissingExp,
}

impl RawClaims {
    pub(crate) fn nbf(&self) -> Option<i64> {
        self.nbf
    }

    pub(crate) fn into_claims(self) -> Result<SessionClaims, ClaimsProblem> {
        let sub = match self.sub {
            Some(Value::String(s)) if !s.is_empty() => ClerkUserId::new(s),
            _ => return Err(ClaimsProblem::MissingSub),
        };
        if super::category::is_machine_subject(sub.as_str()) {
            return Err(ClaimsProblem::MachineToken);
        }
        let exp = self.exp.ok_or(ClaimsProblem::MissingExp)?;
        let v2 = self.v.unwrap_or(1) >= 2;
        // A malformed `fea` grants nothing, but never refuses the token.
        let features = match (v2, &self.fea) {
            (true, Some(Value::String(fea))) => parse_features(fea).unwrap_or_default(),
            _ => Features::default(),
        };
        // Clerk reads `pla` whatever the token's version; a malformed one grants nothing.
        let plans = match &self.pla {
            Some(Value::String(pla)) => Features::split_by_scope(pla).unwrap_or_default(),
            _ => Features::default(),
        };
        let org = if v2 {
            // A v2 token's flat org_* claims are ignored.
            self.o.and_then(|o| parse_v2_org(o, self.fea.as_ref().and_then(Value::as_str)))
        } else {
            self.org_id.map(|id| OrgClaims {
                id: ClerkOrgId::new(id),
                slug: self.org_slug,
                role: self.org_role,
                permissions: self.org_permissions.unwrap_or_default(),
            })
        };
        let status = match self.sts.as_ref().and_then(Value::as_str) {
            Some("pending") => SessionStatus::Pending,
            _ => SessionStatus::Active,
        };
        // An `act` without a usable `sub` names nobody: ignore it rather than refuse the token.
        let actor =
            self.act.and_then(|a| serde_json::from_value::<Actor>(a).ok()).filter(|a| !a.sub.as_str().is_empty());
        let factor_verification_age = self.fva.as_ref().and_then(crate::auth::reverification::parse_fva);
        Ok(SessionClaims {
            sub,
            sid: self.sid.map(ClerkSessionId::new),
            azp: self.azp,
            exp,
            iat: self.iat,
            org,
            features,
            plans,
            status,
            actor,
            factor_verification_age,
        })
    }
}

/// `fea` is `scope:name,…`; an element without a scope makes the whole claim malformed (Clerk's
/// own parser throws on it), and so does an unknown scope.
fn parse_features(fea: &str) -> Option<Features> {
    let mut features = Features::default();
    for item in fea.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (scope, name) = item.split_once(':')?;
        if name.is_empty() || scope.is_empty() || !scope.chars().all(|c| c == 'o' || c == 'u') {
            return None;
        }
        if scope.contains('o') {
            features.org.push(name.to_owned());
        }
        if scope.contains('u') {
            features.user.push(name.to_owned());
        }
    }
    Some(features)
}

/// v2's `o` claim: `rol` lacks the `org:` prefix. Permissions are encoded against the plan's
/// organization features: `fpm` holds one decimal mask per org-scoped feature of `fea`, in
/// order, and bit *i* (from the least significant) grants `per[i]` as `org:{feature}:{per[i]}`.
/// Anything malformed grants no permissions (the organization itself still counts).
fn parse_v2_org(o: RawOrgV2, fea: Option<&str>) -> Option<OrgClaims> {
    let id = o.id.filter(|id| !id.is_empty())?;
    let permissions = decode_permissions(fea, o.per.as_deref(), o.fpm.as_deref()).unwrap_or_default();
    Some(OrgClaims {
        id: ClerkOrgId::new(id),
        slug: o.slg,
        role: o.rol.map(|r| if r.starts_with("org:") { r } else { format!("org:{r}") }),
        permissions,
    })
}

/// Clerk's documented example: `fea=o:dashboard,o:teams`, `per=manage,read`, `fpm=3,2` gives
/// `org:dashboard:manage`, `org:dashboard:read` and `org:teams:read`.
pub(crate) fn decode_permissions(fea: Option<&str>, per: Option<&str>, fpm: Option<&str>) -> Option<Vec<String>> {
    let (Some(fea), Some(per), Some(fpm)) = (fea, per, fpm) else { return Some(Vec::new()) };
    let org_features = parse_features(fea)?.org;
    let names: Vec<&str> = per.split(',').map(str::trim).collect();
    if names.iter().any(|n| n.is_empty()) || names.len() > 128 {
        return None;
    }
    let masks = fpm.split(',').map(|m| m.trim().parse::<u128>().ok()).collect::<Option<Vec<u128>>>()?;
    let mut permissions = Vec::new();
    for (feature, mask) in org_features.iter().zip(masks) {
        for (bit, name) in names.iter().enumerate() {
            if mask >> bit & 1 == 1 {
                permissions.push(format!("org:{feature}:{name}"));
            }
        }
    }
    Some(permissions)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: Value) -> SessionClaims {
        serde_json::from_value::<RawClaims>(v).expect("raw").into_claims().expect("claims")
    }

    #[test]
    fn v2_org_claims_are_read_from_o_and_get_the_org_prefix() {
        let claims = parse(json!({
            "sub": "user_1", "exp": 10, "v": 2, "fea": "o:posts",
            "o": { "id": "org_1", "slg": "acme", "rol": "admin", "per": "read,manage", "fpm": "3" },
            "org_id": "org_ignored", "org_role": "org:ignored"
        }));
        let org = claims.org.expect("org");
        assert_eq!(org.id, "org_1");
        assert_eq!(org.slug.as_deref(), Some("acme"));
        assert_eq!(org.role.as_deref(), Some("org:admin"));
        assert_eq!(org.permissions, vec!["org:posts:read", "org:posts:manage"]);
    }

    #[test]
    fn clerks_documented_permission_example_decodes_exactly() {
        let got = decode_permissions(Some("o:dashboard,o:teams"), Some("manage,read"), Some("3,2"));
        assert_eq!(got.expect("decodes"), vec!["org:dashboard:manage", "org:dashboard:read", "org:teams:read"]);
    }

    #[test]
    fn only_org_scoped_features_take_a_mask_in_order() {
        // `u:` features have no mask; `ou`/`uo` ones do, in the order they appear.
        let got =
            decode_permissions(Some("u:billing,o:posts,ou:teams,u:x,uo:reports"), Some("read,write"), Some("1,2,3"));
        assert_eq!(
            got.expect("decodes"),
            vec!["org:posts:read", "org:teams:write", "org:reports:read", "org:reports:write"]
        );
    }

    #[test]
    fn masks_wider_than_32_bits_grant_the_high_permissions() {
        let per: Vec<String> = (0..40).map(|i| format!("p{i}")).collect();
        let mask = (1u64 << 33) | (1u64 << 39) | 1;
        let got = decode_permissions(Some("o:big"), Some(&per.join(",")), Some(&mask.to_string()));
        assert_eq!(got.expect("decodes"), vec!["org:big:p0", "org:big:p33", "org:big:p39"]);
    }

    #[test]
    fn malformed_feature_claims_grant_nothing() {
        for (fea, per, fpm) in [
            ("dashboard", "read", "1"),     // no scope: Clerk's parser throws
            ("x:dashboard", "read", "1"),   // unknown scope
            ("o:", "read", "1"),            // no name
            ("o:dashboard", "read", "one"), // not a number
            ("o:dashboard", "read", "-1"),
            ("o:dashboard", "read,,write", "1"),
            ("o:dashboard", "read", "340282366920938463463374607431768211456"), // over 128 bits
        ] {
            let got = decode_permissions(Some(fea), Some(per), Some(fpm)).unwrap_or_default();
            assert!(got.is_empty(), "{fea} / {per} / {fpm} gave {got:?}");
        }
    }

    #[test]
    fn a_token_with_malformed_feature_claims_is_still_accepted_without_permissions() {
        let claims = parse(json!({
            "sub": "user_1", "exp": 10, "v": 2, "fea": "garbage",
            "o": { "id": "org_1", "rol": "admin", "per": "read", "fpm": "zz" }
        }));
        let org = claims.org.expect("the organization still counts");
        assert_eq!(org.role.as_deref(), Some("org:admin"));
        assert!(org.permissions.is_empty());
        assert_eq!(claims.features, Features::default());
        // Wrong JSON types are no worse.
        let claims = parse(json!({ "sub": "user_1", "exp": 10, "v": 2, "fea": 7, "sts": 1, "act": "x" }));
        assert_eq!(claims.features, Features::default());
        assert_eq!(claims.status, SessionStatus::Active);
        assert_eq!(claims.actor, None);
    }

    #[test]
    fn features_answer_has_by_scope() {
        let claims = parse(json!({ "sub": "user_1", "exp": 10, "v": 2, "fea": "o:teams,u:beta,ou:reports" }));
        let f = &claims.features;
        assert!(f.has("teams") && f.has("org:teams") && !f.has("user:teams"));
        assert!(f.has("beta") && f.has("user:beta") && !f.has("org:beta"));
        assert!(f.has("org:reports") && f.has("user:reports"));
        assert!(!f.has("nothing"));
    }

    #[test]
    fn plans_split_and_answer_as_clerks_parser_does() {
        let plans = |pla: &str| Features::split_by_scope(pla);
        let p = plans("u:free,o:pro").expect("parses");
        assert!(p.has("free") && p.has("pro") && p.has("user:free") && p.has("u:free"));
        assert!(p.has("org:pro") && p.has("o:pro") && p.has("organization:pro"));
        assert!(!p.has("org:free") && !p.has("foo:pro") && !p.has("Free"));
        assert!(p.has("user:free:x"), "only two parts of the request count");
        assert_eq!(plans(" u:free , o:pro ").expect("trimmed"), p);
        assert_eq!(plans("u:a:b").expect("first colon").user, ["a:b"]);
        assert_eq!(plans("x:free,u:a").expect("unknown scope skipped").user, ["a"]);
        assert_eq!(plans("ou:x").expect("both").org, ["x"]);
        for bad in ["free", "u:free,", "u:free,,o:pro", " "] {
            assert_eq!(plans(bad), None, "{bad:?}");
        }
        let claims = parse(json!({ "sub": "user_1", "exp": 10, "pla": "u:free,o:pro" }));
        assert!(claims.plans.has("pro"), "read whatever the version");
        let claims = parse(json!({ "sub": "user_1", "exp": 10, "v": 2, "pla": "u:free,oops" }));
        assert_eq!(claims.plans, Features::default(), "malformed grants nothing, the token stands");
    }

    #[test]
    fn pending_status_and_the_actor_are_read() {
        let claims = parse(json!({
            "sub": "user_1", "exp": 10, "v": 2, "sts": "pending",
            "act": { "sub": "user_admin", "sid": "sess_a", "iss": "https://dashboard.clerk.com" }
        }));
        assert_eq!(claims.status, SessionStatus::Pending);
        let actor = claims.actor.expect("actor");
        assert_eq!(actor.sub, "user_admin");
        assert_eq!(actor.sid.as_ref().map(|s| s.as_str()), Some("sess_a"));
        assert_eq!(parse(json!({ "sub": "user_1", "exp": 10, "v": 2, "sts": "active" })).status, SessionStatus::Active);
    }

    #[test]
    fn v1_org_claims_are_read_from_flat_claims() {
        let claims = parse(json!({
            "sub": "user_1", "exp": 10,
            "org_id": "org_1", "org_slug": "acme", "org_role": "org:member",
            "org_permissions": ["org:admin:example_permission"]
        }));
        let org = claims.org.expect("org");
        assert_eq!(org.role.as_deref(), Some("org:member"));
        assert_eq!(org.permissions, vec!["org:admin:example_permission"]);
    }

    #[test]
    fn a_token_without_an_org_has_none() {
        assert_eq!(parse(json!({ "sub": "user_1", "exp": 10, "v": 2 })).org, None);
    }

    #[test]
    fn sub_is_required_and_machine_tokens_are_refused() {
        let raw = |v| serde_json::from_value::<RawClaims>(v).expect("raw").into_claims();
        assert_eq!(raw(json!({ "exp": 10 })).err(), Some(ClaimsProblem::MissingSub));
        assert_eq!(raw(json!({ "sub": 5, "exp": 10 })).err(), Some(ClaimsProblem::MissingSub));
        assert_eq!(raw(json!({ "sub": "mch_1", "exp": 10 })).err(), Some(ClaimsProblem::MachineToken));
        assert_eq!(raw(json!({ "sub": "user_1" })).err(), Some(ClaimsProblem::MissingExp));
    }
}
