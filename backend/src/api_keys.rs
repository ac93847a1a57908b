//! Self-service API keys (`/account`): a user lists, creates and revokes Clerk API keys for
//! themselves, or for the active organization when they administer it. Keys live in Clerk
//! (`/api_keys`); we keep nothing, and the secret passes through once, never logged.

use ids::{ClerkOrgId, ClerkUserId};
use serde_json::{Value, json};

use crate::clerk::api::{ApiError, ClerkApi};

/// At most this many scopes on a key, each at most [`MAX_SCOPE_LEN`] characters.
pub const MAX_SCOPES: usize = 20;
pub const MAX_SCOPE_LEN: usize = 64;
pub const MAX_NAME_LEN: usize = 100;
/// The expiries offered, in days (`None`: never).
pub const EXPIRY_DAYS: [Option<u32>; 5] = [None, Some(1), Some(7), Some(30), Some(90)];

/// A key as the account page shows it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub subject: String,
    pub scopes: Vec<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    pub expiration: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// Whose keys a user manages: their own, and their active organization's if they are its admin.
#[derive(Clone, Debug)]
pub struct Owners {
    pub user: ClerkUserId,
    pub admin_of: Option<ClerkOrgId>,
}

impl Owners {
    fn owns(&self, subject: &str) -> bool {
        subject == self.user.as_str() || self.admin_of.as_ref().is_some_and(|org| subject == org.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("no such key")]
    NotFound,
    #[error("API keys live in Clerk: set CLERK_SECRET_KEY (dev mode has none)")]
    NotConfigured,
    #[error("Clerk refused: {0}")]
    Refused(String),
    #[error(transparent)]
    Clerk(ApiError),
}

impl From<ApiError> for ApiKeyError {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::NotConfigured => Self::NotConfigured,
            ApiError::Status { status: 404, .. } => Self::NotFound,
            ApiError::Status { status: 400 | 422, message, .. } => Self::Refused(message),
            err => Self::Clerk(err),
        }
    }
}

/// What a user asks for.
pub struct NewApiKey<'a> {
    pub name: &'a str,
    /// Space- or comma-separated.
    pub scopes: &'a str,
    pub expires_in_days: Option<u32>,
    pub for_org: bool,
}

/// The owner's keys (the user's, then the organization's), valid ones only, newest first.
pub async fn list(api: &ClerkApi, owners: &Owners) -> Result<Vec<ApiKey>, ApiKeyError> {
    let mut keys = keys_of(api, owners.user.as_str()).await?;
    if let Some(org) = &owners.admin_of {
        keys.extend(keys_of(api, org.as_str()).await?);
    }
    Ok(keys)
}

async fn keys_of(api: &ClerkApi, subject: &str) -> Result<Vec<ApiKey>, ApiKeyError> {
    let page = api.list_api_keys(subject).await?;
    Ok(page["data"].as_array().map(|list| list.iter().filter_map(from_json).collect()).unwrap_or_default())
}

/// Creates a key; the secret comes back once, beside the key.
pub async fn create(api: &ClerkApi, owners: &Owners, new: &NewApiKey<'_>) -> Result<(ApiKey, String), ApiKeyError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(invalid("name", format!("a name of 1 to {MAX_NAME_LEN} characters is required")));
    }
    let scopes = parse_scopes(new.scopes)?;
    if !EXPIRY_DAYS.contains(&new.expires_in_days) {
        return Err(invalid("expires_in_days", "choose one of the offered expiries".into()));
    }
    let subject = match (&owners.admin_of, new.for_org) {
        (Some(org), true) => org.as_str().to_owned(),
        (None, true) => return Err(invalid("for_org", "only an admin of the active organization may".into())),
        (_, false) => owners.user.as_str().to_owned(),
    };
    let body = json!({
        "name": name,
        "subject": subject,
        "scopes": scopes,
        "created_by": owners.user.as_str(),
        "seconds_until_expiration": new.expires_in_days.map(|d| u64::from(d) * 86_400),
    });
    let created = api.create_api_key(&body).await?;
    let secret = created["secret"].as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    match (from_json(&created), secret) {
        (Some(key), Some(secret)) => Ok((key, secret)),
        _ => Err(ApiKeyError::Refused("Clerk's answer had no key or secret".into())),
    }
}

/// Revokes one of the owner's keys: anyone else's is "not found", whether it exists or not.
pub async fn revoke(api: &ClerkApi, owners: &Owners, id: &str) -> Result<(), ApiKeyError> {
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ApiKeyError::NotFound);
    }
    let key = api.get_api_key(id).await?;
    if !key["subject"].as_str().is_some_and(|s| owners.owns(s)) {
        return Err(ApiKeyError::NotFound);
    }
    api.revoke_api_key(id, Some("revoked by its owner on /account")).await?;
    Ok(())
}

fn parse_scopes(raw: &str) -> Result<Vec<String>, ApiKeyError> {
    let scopes: Vec<String> = raw.split([' ', ',', '\n']).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    if scopes.len() > MAX_SCOPES {
        return Err(invalid("scopes", format!("at most {MAX_SCOPES} scopes")));
    }
    let valid = |s: &str| {
        s.len() <= MAX_SCOPE_LEN
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'.'))
    };
    if let Some(bad) = scopes.iter().find(|s| !valid(s)) {
        let shown: String = bad.chars().take(20).collect();
        return Err(invalid("scopes", format!("{shown:?}: letters, digits and : _ - . only, at most {MAX_SCOPE_LEN}")));
    }
    Ok(scopes)
}

fn invalid(field: &'static str, message: String) -> ApiKeyError {
    ApiKeyError::Invalid { field, message }
}

fn from_json(key: &Value) -> Option<ApiKey> {
    Some(ApiKey {
        id: key["id"].as_str()?.to_owned(),
        name: key["name"].as_str().unwrap_or_default().to_owned(),
        subject: key["subject"].as_str()?.to_owned(),
        scopes: key["scopes"]
            .as_array()
            .map(|l| l.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        created_at: key["created_at"].as_i64().unwrap_or_default(),
        expiration: key["expiration"].as_i64(),
        last_used_at: key["last_used_at"].as_i64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_split_and_checked() {
        assert_eq!(parse_scopes("read:a, write:b\nx").unwrap(), ["read:a", "write:b", "x"]);
        assert!(parse_scopes("").unwrap().is_empty());
        assert!(parse_scopes("bad scope!").is_err());
        assert!(parse_scopes(&"a ".repeat(MAX_SCOPES + 1)).is_err());
        assert!(parse_scopes(&"a".repeat(MAX_SCOPE_LEN + 1)).is_err());
    }
}
