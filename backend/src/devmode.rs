//! Dev mode: a local stand-in for Clerk, so the starter runs with no Clerk account and no
//! network. It has its own RSA key (persisted, so `cargo leptos watch` restarts keep you signed
//! in) and mints real session tokens that the normal verification path checks.
//!
//! It exists only in debug builds, never when the Leptos env is PROD, and only while no Clerk
//! keys are set; see [`dev_mode_allowed`].

use ids::{ClerkSessionId, ClerkUserId};
use std::path::{Path, PathBuf};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::{
    RsaPrivateKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding},
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::clerk::OrgClaims;

/// Where the dev signing key lives unless `CLERK_DEV_KEY_FILE` says otherwise (git-ignored).
pub const DEFAULT_KEY_FILE: &str = "data/dev-signing-key.pem";
/// Like Clerk's own session tokens.
pub const DEFAULT_TOKEN_TTL_SECS: i64 = 60;

/// Dev mode runs only in a debug build, outside PROD, with no Clerk keys configured.
pub fn dev_mode_allowed(debug_build: bool, production: bool, has_clerk_keys: bool) -> bool {
    debug_build && !production && !has_clerk_keys
}

/// Why the dev signing key could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum DevKeyError {
    #[error("{path}: not a PKCS#8 RSA key ({source})")]
    NotAKey { path: PathBuf, source: rsa::pkcs8::Error },
    #[error("{path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
    #[error("generating the key: {0}")]
    Generate(#[from] rsa::Error),
    #[error("encoding the key: {0}")]
    Encode(#[from] rsa::pkcs8::Error),
    #[error("encoding the public key: {0}")]
    EncodePublic(#[from] rsa::pkcs8::spki::Error),
    #[error("the key is not usable for signing: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
}

/// The dev stand-in's signing key. No `Debug`: it holds a private key.
pub struct DevClerk {
    encoding: EncodingKey,
    public_pem: String,
    token_ttl: i64,
    billing: DevBilling,
}

/// What dev tokens claim of Clerk Billing, in Clerk's own formats (`CLERK_DEV_PLANS`, say
/// `u:free,o:pro`, becomes `pla`; `CLERK_DEV_FEATURES` becomes `fea`), so `require_plan` and
/// `require_feature` can be tried without a Clerk account.
#[derive(Clone, Debug, Default)]
pub struct DevBilling {
    pub plans: Option<String>,
    pub features: Option<String>,
}

impl DevClerk {
    /// Loads the key from `path`, or creates it (and its folder) on first use.
    pub fn load_or_create(path: &Path, token_ttl: i64) -> Result<Self, DevKeyError> {
        let private = match std::fs::read_to_string(path) {
            Ok(pem) => RsaPrivateKey::from_pkcs8_pem(&pem)
                .map_err(|source| DevKeyError::NotAKey { path: path.to_owned(), source })?,
            Err(_) => create(path)?,
        };
        let pem = private.to_pkcs8_pem(LineEnding::LF)?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())?;
        let public_pem = private.to_public_key().to_public_key_pem(LineEnding::LF)?;
        Ok(Self { encoding, public_pem, token_ttl, billing: DevBilling::default() })
    }

    /// Dev tokens claim these plans and features from now on.
    pub fn with_billing(mut self, billing: DevBilling) -> Self {
        self.billing = billing;
        self
    }

    /// The public key, for the verifier (the same path as `CLERK_JWT_KEY`).
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    pub fn token_ttl(&self) -> i64 {
        self.token_ttl
    }

    /// A v2 session token, as Clerk would mint it.
    pub fn mint(
        &self,
        sub: &ClerkUserId,
        sid: &ClerkSessionId,
        org: Option<&OrgClaims>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = crate::clerk::verify::unix_now();
        let mut claims = json!({
            "sub": sub, "sid": sid, "iss": "https://dev-mode.localhost", "v": 2,
            "iat": now, "nbf": now - 10, "exp": now + self.token_ttl,
        });
        if let Some(org) = org {
            claims["o"] = json!({
                "id": org.id,
                "slg": org.slug,
                "rol": org.role.as_deref().map(|r| r.trim_start_matches("org:")),
                "per": org.permissions.iter().map(|p| p.trim_start_matches("org:")).collect::<Vec<_>>().join(","),
            });
        }
        if let Some(plans) = &self.billing.plans {
            claims["pla"] = json!(plans);
        }
        if let Some(features) = &self.billing.features {
            claims["fea"] = json!(features);
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("ins_dev_mode".into());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
    }
}

/// A stable Clerk-style id for a dev user or organization, from its name.
pub fn dev_id(prefix: &str, name: &str) -> String {
    let digest = Sha256::digest(name.trim().to_lowercase().as_bytes());
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_dev_{hex}")
}

/// A fresh session id.
pub fn new_session_id() -> ClerkSessionId {
    ClerkSessionId::new(format!("sess_dev_{}", uuid::Uuid::new_v4().simple()))
}

fn create(path: &Path) -> Result<RsaPrivateKey, DevKeyError> {
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
    let pem = key.to_pkcs8_pem(LineEnding::LF)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| DevKeyError::File { path: dir.to_owned(), source })?;
    }
    // Write then rename, so a concurrent start never reads half a key.
    let tmp: PathBuf = path.with_extension(format!("tmp{}", std::process::id()));
    // Left by a crash of an earlier process with this pid (pid 1 in a container, say).
    let _ = std::fs::remove_file(&tmp);
    write_private(&tmp, pem.as_bytes()).map_err(|source| DevKeyError::File { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, path).map_err(|source| DevKeyError::File { path: path.to_owned(), source })?;
    tracing::info!(path = %path.display(), "created the dev-mode signing key");
    Ok(key)
}

/// Creates `path` readable by its owner only from the first byte (mode 0600 at `open`, not a
/// `chmod` after the key is already on disk).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::{DevClerk, dev_mode_allowed};

    #[test]
    fn dev_mode_only_in_debug_builds_outside_prod_without_keys() {
        assert!(dev_mode_allowed(true, false, false));
        assert!(!dev_mode_allowed(false, false, false), "never in a release build");
        assert!(!dev_mode_allowed(true, true, false), "never in PROD");
        assert!(!dev_mode_allowed(true, false, true), "not when Clerk keys are set");
    }

    #[cfg(unix)]
    #[test]
    fn the_signing_key_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys/dev.pem");
        DevClerk::load_or_create(&path, 60).expect("created");
        let mode = std::fs::metadata(&path).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        DevClerk::load_or_create(&path, 60).expect("and read back");
    }
}
