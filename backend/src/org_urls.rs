//! Organizations in the URL, as Clerk's `organizationSyncOptions` has them (`@clerk/backend`
//! 3.25.0, `OrganizationMatcher`): `/orgs/:slug` and `/orgs/:slug/(.*)` make that organization
//! the request's active one, `/me` and `/me/(.*)` the personal account. Patterns follow
//! path-to-regexp's defaults as Clerk uses them: literal segments match case-insensitively, one
//! trailing slash is allowed, the whole path must match, `:slug` or `:id` names one segment and
//! `(.*)` the rest; the parameter is taken raw (not URL-decoded). An organization pattern is
//! tried before a personal one.

use ids::ClerkOrgId;

use crate::invalid_value::InvalidValue;

/// Clerk's documented example patterns, our defaults.
pub const DEFAULT_ORGANIZATION_PATTERNS: &str = "/orgs/:slug,/orgs/:slug/(.*)";
pub const DEFAULT_PERSONAL_ACCOUNT_PATTERNS: &str = "/me,/me/(.*)";

/// What a URL asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlTarget {
    Organization(OrgRef),
    PersonalAccount,
}

/// How an organization pattern names it: by the `:slug` or the `:id` parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgRef {
    Slug(String),
    Id(ClerkOrgId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// Lowercased.
    Literal(String),
    Slug,
    Id,
    /// A parameter by another name: matches a segment, names nothing (Clerk: no target).
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    segments: Vec<Segment>,
    /// Ends in `/(.*)`: anything may follow, nothing included.
    rest: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgUrls {
    organization: Vec<Pattern>,
    personal: Vec<Pattern>,
}

impl OrgUrls {
    /// From comma-separated patterns; an empty list turns that side off.
    pub fn parse(organization: &str, personal: &str) -> Result<Self, InvalidValue> {
        let list = |raw: &str| -> Result<Vec<Pattern>, InvalidValue> {
            raw.split(',').map(str::trim).filter(|p| !p.is_empty()).map(Pattern::parse).collect()
        };
        let organization = list(organization)?;
        if let Some(p) =
            organization.iter().find(|p| !p.segments.iter().any(|s| matches!(s, Segment::Slug | Segment::Id)))
        {
            return Err(InvalidValue::new(format!("an organization pattern needs :slug or :id ({p:?})")));
        }
        Ok(Self { organization, personal: list(personal)? })
    }

    /// What `path` (no query) asks for, if anything.
    pub fn target(&self, path: &str) -> Option<UrlTarget> {
        let found = self.organization.iter().find_map(|p| p.captures(path)).flatten();
        if let Some(org) = found {
            return Some(UrlTarget::Organization(org));
        }
        self.personal.iter().any(|p| p.captures(path).is_some()).then_some(UrlTarget::PersonalAccount)
    }
}

impl Pattern {
    fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let bad = |why: &str| InvalidValue::new(format!("{raw:?}: {why}"));
        let body = raw.strip_prefix('/').ok_or_else(|| bad("must start with /"))?;
        let (body, rest) = match body.strip_suffix("(.*)") {
            Some(before) => (before.strip_suffix('/').ok_or_else(|| bad("(.*) must follow a /"))?, true),
            None => (body, false),
        };
        let mut segments = Vec::new();
        for part in body.split('/').filter(|p| !p.is_empty()) {
            segments.push(match part.strip_prefix(':') {
                Some("slug") => Segment::Slug,
                Some("id") => Segment::Id,
                Some(name) if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    Segment::Other
                }
                Some(_) => return Err(bad("a parameter is :name")),
                None if part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c)) => {
                    Segment::Literal(part.to_ascii_lowercase())
                }
                None => return Err(bad("only literal segments, :slug, :id and a final (.*) are supported")),
            });
        }
        Ok(Self { segments, rest })
    }

    /// `None` when `path` does not match; `Some(None)` when it matches but names no
    /// organization; `Some(Some(org))` otherwise.
    fn captures(&self, path: &str) -> Option<Option<OrgRef>> {
        let path = path.strip_prefix('/')?;
        // Most paths differ in their first segment: refused before any splitting.
        if let Some(Segment::Literal(lit)) = self.segments.first() {
            let first = path.get(..lit.len()).filter(|p| p.eq_ignore_ascii_case(lit));
            if first.is_none() || !matches!(path.as_bytes().get(lit.len()), None | Some(b'/')) {
                return None;
            }
        }
        let (fixed, tail) = if self.rest {
            // `/a/(.*)` needs the `/` after `a`; what follows may be anything, even nothing.
            let mut cut = 0;
            for _ in 0..self.segments.len() {
                let next = path[cut..].find('/').map(|i| cut + i)?;
                cut = next + 1;
            }
            (&path[..cut.saturating_sub(1)], Some(&path[cut..]))
        } else {
            (path.strip_suffix('/').unwrap_or(path), None)
        };
        if tail.is_some_and(|t| t.contains(['#', '?'])) {
            return None;
        }
        // Checked part by part, without collecting them: every signed-in GET runs this.
        let mut parts = (!fixed.is_empty()).then(|| fixed.split('/')).into_iter().flatten();
        let (mut slug, mut id) = (None, None);
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Literal(lit) if part.eq_ignore_ascii_case(lit) => {}
                Segment::Literal(_) => return None,
                _ if part.is_empty() => return None,
                Segment::Slug => slug = Some(part),
                Segment::Id => id = Some(part),
                Segment::Other => {}
            }
        }
        if parts.next().is_some() {
            return None;
        }
        // Clerk prefers the id when a pattern names both.
        Some(id.map(|id| OrgRef::Id(ClerkOrgId::from(id))).or(slug.map(|slug| OrgRef::Slug(slug.to_owned()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> OrgUrls {
        OrgUrls::parse(DEFAULT_ORGANIZATION_PATTERNS, DEFAULT_PERSONAL_ACCOUNT_PATTERNS).expect("defaults parse")
    }

    #[test]
    fn the_defaults_match_as_clerks_matcher_does() {
        let urls = defaults();
        let org = |s: &str| Some(UrlTarget::Organization(OrgRef::Slug(s.into())));
        assert_eq!(urls.target("/orgs/acme"), org("acme"));
        assert_eq!(urls.target("/orgs/acme/"), org("acme"));
        assert_eq!(urls.target("/orgs/acme/settings"), org("acme"));
        assert_eq!(urls.target("/orgs/acme/a/b/"), org("acme"));
        assert_eq!(urls.target("/ORGS/acme"), org("acme"), "literals are case-insensitive");
        assert_eq!(urls.target("/orgs/a%20b"), org("a%20b"), "taken raw");
        assert_eq!(urls.target("/me"), Some(UrlTarget::PersonalAccount));
        assert_eq!(urls.target("/me/settings"), Some(UrlTarget::PersonalAccount));
        for none in ["/orgs", "/orgs/", "/", "/account", "/mes", "/orgsx/acme", "/orgs//x"] {
            assert_eq!(urls.target(none), None, "{none}");
        }
    }

    #[test]
    fn ids_other_names_and_bad_patterns() {
        let urls = OrgUrls::parse("/o/:id,/o/:id/(.*),/t/:team/:slug", "").expect("parses");
        assert_eq!(urls.target("/o/org_1/x"), Some(UrlTarget::Organization(OrgRef::Id("org_1".into()))));
        assert_eq!(urls.target("/t/x/acme"), Some(UrlTarget::Organization(OrgRef::Slug("acme".into()))));
        assert_eq!(urls.target("/t/x"), None);
        assert_eq!(urls.target("/me"), None, "personal patterns off");
        assert!(OrgUrls::parse("/orgs/:team", "").is_err(), "no :slug or :id");
        for bad in ["orgs/:slug", "/orgs/:slug(.*)", "/orgs/*", "/orgs/:slug/x y"] {
            assert!(OrgUrls::parse(bad, "").is_err(), "{bad}");
        }
        assert_eq!(OrgUrls::parse("", "").expect("off").target("/orgs/acme"), None);
    }
}
