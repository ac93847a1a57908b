//! Session-token claims, with v1 (`org_*`) and v2 (`o`) organization claims read into one type.
//! See https://clerk.com/docs/backend-requests/resources/session-tokens

use serde::Deserialize;
use serde_json::Value;

/// The active organization named by a token.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrgClaims {
    pub id: String,
    pub slug: Option<String>,
    /// With the `org:` prefix, as v1 tokens and the Backend API spell it (e.g. `org:admin`).
    pub role: Option<String>,
    pub permissions: Vec<String>,
}

/// The verified claims we use.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionClaims {
    pub sub: String,
    pub sid: Option<String>,
    pub azp: Option<String>,
    pub exp: i64,
    pub iat: Option<i64>,
    pub org: Option<OrgClaims>,
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
            Some(Value::String(s)) if !s.is_empty() => s,
            _ => return Err(ClaimsProblem::MissingSub),
        };
        // Machine tokens share the format but are not sessions.
        if sub.starts_with("mch_") {
            return Err(ClaimsProblem::MachineToken);
        }
        let exp = self.exp.ok_or(ClaimsProblem::MissingExp)?;
        let org = if self.v.unwrap_or(1) >= 2 {
            // A v2 token's flat org_* claims are ignored.
            self.o.and_then(parse_v2_org)
        } else {
            self.org_id.map(|id| OrgClaims {
                id,
                slug: self.org_slug,
                role: self.org_role,
                permissions: self.org_permissions.unwrap_or_default(),
            })
        };
        Ok(SessionClaims { sub, sid: self.sid, azp: self.azp, exp, iat: self.iat, org })
    }
}

/// v2's `o` claim: `rol` lacks the `org:` prefix, `per` is comma-separated. Feature-scoped
/// permissions (`fpm`/`fea`) need the `fea` claim; plain `per` names are kept as `org:{name}`.
fn parse_v2_org(o: RawOrgV2) -> Option<OrgClaims> {
    let id = o.id.filter(|id| !id.is_empty())?;
    let _ = o.fpm;
    let permissions = o
        .per
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| if p.starts_with("org:") { p.to_owned() } else { format!("org:{p}") })
        .collect();
    Some(OrgClaims {
        id,
        slug: o.slg,
        role: o.rol.map(|r| if r.starts_with("org:") { r } else { format!("org:{r}") }),
        permissions,
    })
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
            "sub": "user_1", "exp": 10, "v": 2,
            "o": { "id": "org_1", "slg": "acme", "rol": "admin", "per": "read,manage" },
            "org_id": "org_ignored", "org_role": "org:ignored"
        }));
        let org = claims.org.expect("org");
        assert_eq!(org.id, "org_1");
        assert_eq!(org.slug.as_deref(), Some("acme"));
        assert_eq!(org.role.as_deref(), Some("org:admin"));
        assert_eq!(org.permissions, vec!["org:read", "org:manage"]);
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
