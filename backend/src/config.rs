//! The typed configuration: read once from the environment (plus an optional `.env`),
//! validated at the edge, and printable with every secret redacted.

use crate::invalid_value::InvalidValue;
use std::{collections::HashMap, fmt, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::clerk::publishable_key::PublishableKey;

/// Where the database lives, parsed from `DATABASE_URL`. Its `Debug` is redacted too.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub const DEFAULT: &'static str = "sqlite://data/app.db";

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let raw = raw.trim();
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(InvalidValue::new("a sqlite URL needs a file path, e.g. sqlite://data/app.db"));
            }
            return Ok(Self::Sqlite(raw.to_owned()));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let url = Url::parse(raw).map_err(|e| InvalidValue::new(format!("not a valid postgres URL ({e})")))?;
            if url.host_str().unwrap_or_default().is_empty() {
                return Err(InvalidValue::new("a postgres URL needs a host"));
            }
            return Ok(Self::Postgres(raw.to_owned()));
        }
        Err(InvalidValue::new("must start with sqlite: or postgres://"))
    }

    /// The URL with any password replaced, for logs: the userinfo one and any `password`-like
    /// query parameter (libpq takes `?password=`, and `sslpassword=`).
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(url) => url.clone(),
            Self::Postgres(url) => match Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
                    if pairs.iter().any(|(k, _)| k.to_ascii_lowercase().contains("password")) {
                        let mut query = parsed.query_pairs_mut();
                        query.clear();
                        for (k, v) in &pairs {
                            let secret = k.to_ascii_lowercase().contains("password");
                            query.append_pair(k, if secret { "***" } else { v });
                        }
                    }
                    parsed.to_string()
                }
                Err(_) => "postgres://***".into(),
            },
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Sqlite(url) | Self::Postgres(url) => url,
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A bad or missing setting. The message names the variable, so a start-up failure is one line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

fn bad(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { var, reason: reason.into() }
}

/// Everything the server reads from its environment.
///
/// No `Debug` derive: it holds secrets. Use its `Display`, which redacts them.
#[derive(Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub clerk_secret_key: Option<SecretString>,
    pub clerk_publishable_key: Option<PublishableKey>,
    pub clerk_jwt_key: Option<SecretString>,
    pub clerk_api_url: Url,
    pub clerk_webhook_signing_secret: Option<SecretString>,
    pub clerk_authorized_parties: Vec<String>,
    pub session_revalidation: Duration,
    pub user_cache_ttl: Duration,
    pub org_cache_ttl: Duration,
    pub clock_skew: Duration,
    pub auto_generate_username: bool,
    pub username_prefix: String,
    /// True when the Leptos env is PROD: dev mode is off.
    pub production: bool,
    /// `COOKIE_SECURE`: server session cookies carry `Secure`. Default on in release builds and
    /// with `LEPTOS_ENV=PROD`; `COOKIE_SECURE=false` allows testing a release build over plain HTTP.
    pub cookie_secure: bool,
    /// Where dev mode keeps its signing key (`CLERK_DEV_KEY_FILE`).
    pub dev_key_file: std::path::PathBuf,
    /// Dev tokens' lifetime (`CLERK_DEV_TOKEN_TTL_SECONDS`, default 60 like Clerk's).
    pub dev_token_ttl: Duration,
    /// `METRICS_ADDR`: where `/metrics` listens (off when unset; keep it off the public network).
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Plans and features dev tokens claim (`CLERK_DEV_PLANS`, `CLERK_DEV_FEATURES`).
    pub dev_billing: crate::devmode::DevBilling,
    /// `TRUST_PROXY_HEADERS`: behind a load balancer, the client IP (for login throttling) is
    /// the last address in `X-Forwarded-For`. Off by default: the header is trivially forged.
    pub trust_proxy_headers: bool,
    /// `TRUSTED_PROXIES` (comma-separated CIDRs; default loopback and the private ranges): with
    /// `TRUST_PROXY_HEADERS`, the client is the right-most `X-Forwarded-For` address outside
    /// them, and a peer outside them is the client whatever it forwards.
    pub trusted_proxies: crate::proxy::TrustedProxies,
    /// `ADMIN_CACHE_SECONDS` (default 2, 0 turns it off): how long the admin's list pages and
    /// staff accounts may be served from memory. Changes made through the app drop them at once
    /// on every instance; this bounds only changes made around it.
    pub admin_cache_ttl: Duration,
    /// `SESSION_CACHE_SECONDS` (default 2, 0 turns it off): how long a server session record
    /// read from the database may be reused. Logout, login and revocation drop it at once on
    /// every instance; this bounds only what the invalidation bus cannot see.
    pub session_cache_ttl: Duration,
    /// `CLERK_ALLOW_PENDING_SESSIONS` (default false): treat a v2 token with `sts: pending` (a
    /// session with a task left, such as choosing an organization) as signed in. Clerk's own
    /// default is signed out.
    pub allow_pending_sessions: bool,
    /// `CLERK_KEEP_DELETED_USER_DATA` (default false): a user deleted in Clerk keeps their
    /// email, names, image and metadata on the local tombstone. By default they are erased.
    pub keep_deleted_user_data: bool,
    /// `CLERK_RECONCILE_INTERVAL` (off by default; e.g. `6h`): how often one instance runs the
    /// users and organizations sync in the background, repairing what missed webhooks left.
    pub reconcile_interval: Option<Duration>,
    /// `CLERK_PRUNE_MAX_PERCENT` (default 5): a prune (the CLI's `--prune`, the reconciliation)
    /// that would tombstone more than this share of the live rows tombstones nothing.
    pub prune_max_percent: f64,
    /// `CLERK_ORGANIZATION_PATTERNS` and `CLERK_PERSONAL_ACCOUNT_PATTERNS` (comma-separated;
    /// Clerk's `/orgs/:slug,/orgs/:slug/(.*)` and `/me,/me/(.*)` by default; empty turns a side
    /// off): on a page whose path matches, the URL's organization is the active one for members,
    /// and on a personal one none is.
    pub org_urls: crate::org_urls::OrgUrls,
    /// `CLERK_MACHINE_TOKEN_CACHE_SECONDS` (default 60, at most 60): how long a machine token
    /// Clerk verified (an API key, an opaque M2M or OAuth token) is trusted without asking
    /// again, so a revocation made elsewhere takes effect within it.
    pub machine_token_cache_ttl: Duration,
    /// `CLERK_MACHINE_TOKEN_CACHE_SIZE` (default 10000): how many machine-token verdicts are
    /// kept in memory, good and bad together.
    pub machine_token_cache_size: u64,
}

impl Config {
    /// Reads the process environment, after filling it from `.env` where it has gaps.
    pub fn from_env() -> Result<Self, ConfigError> {
        // Only ./.env, as the contract says (dotenvy::dotenv() would also search parent folders).
        // A missing one is normal; real variables always win over it.
        let _ = dotenvy::from_path(".env");
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::from_lookup(|name| vars.get(name).cloned())
    }

    /// Builds the config from any lookup, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // Empty values count as unset: `FOO=` in a .env file should not be an error.
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let database_url = match get("DATABASE_URL") {
            Some(raw) => DatabaseUrl::parse(&raw).map_err(|r| bad("DATABASE_URL", r))?,
            None => DatabaseUrl::Sqlite(DatabaseUrl::DEFAULT.into()),
        };

        let clerk_secret_key = get("CLERK_SECRET_KEY")
            .map(|key| {
                if key.starts_with("sk_test_") || key.starts_with("sk_live_") {
                    Ok(SecretString::from(key))
                } else {
                    Err(bad("CLERK_SECRET_KEY", "must start with sk_test_ or sk_live_"))
                }
            })
            .transpose()?;

        let clerk_publishable_key = get("CLERK_PUBLISHABLE_KEY")
            .map(|key| PublishableKey::parse(&key).map_err(|reason| bad("CLERK_PUBLISHABLE_KEY", reason)))
            .transpose()?;

        let clerk_jwt_key = get("CLERK_JWT_KEY")
            .map(|pem| {
                // .env files often carry the PEM on one line with literal \n.
                let pem = pem.replace("\\n", "\n");
                if pem.contains("-----BEGIN PUBLIC KEY-----") {
                    Ok(SecretString::from(pem))
                } else {
                    Err(bad("CLERK_JWT_KEY", "must be a PEM public key (-----BEGIN PUBLIC KEY-----)"))
                }
            })
            .transpose()?;

        let clerk_api_url = match get("CLERK_API_URL") {
            Some(raw) => parse_http_url(&raw).map_err(|r| bad("CLERK_API_URL", r))?,
            None => Url::parse("https://api.clerk.com").map_err(|e| bad("CLERK_API_URL", e.to_string()))?,
        };

        let clerk_webhook_signing_secret = aliased(&get, "CLERK_WEBHOOK_SIGNING_SECRET", "CLERK_WEBHOOK_SIGNING_KEY")
            .map(|(var, secret)| {
                if secret.starts_with("whsec_") {
                    Ok(SecretString::from(secret))
                } else {
                    Err(bad(var, "must start with whsec_"))
                }
            })
            .transpose()?;

        let clerk_authorized_parties = match aliased(&get, "CLERK_AUTHORIZED_PARTIES", "CLERK_FRONTEND_HOSTS") {
            Some((var, raw)) => raw
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    parse_http_url(p)
                        .map(|_| p.trim_end_matches('/').to_owned())
                        .map_err(|r| bad(var, format!("{p:?} is not an origin: {r}")))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };

        let leptos_env = get("LEPTOS_ENV").unwrap_or_default();
        let production = leptos_env.eq_ignore_ascii_case("prod") || leptos_env.eq_ignore_ascii_case("production");

        Ok(Self {
            database_url,
            clerk_secret_key,
            clerk_publishable_key,
            clerk_jwt_key,
            clerk_api_url,
            clerk_webhook_signing_secret,
            clerk_authorized_parties,
            session_revalidation: seconds(&get, "CLERK_SESSION_REVALIDATION_SECONDS", 300)?,
            user_cache_ttl: seconds(&get, "CLERK_CACHE_TIMEOUT", 300)?,
            org_cache_ttl: seconds(&get, "CLERK_ORG_CACHE_TIMEOUT", 900)?,
            clock_skew: seconds(&get, "CLERK_CLOCK_SKEW_SECONDS", 5)?,
            auto_generate_username: flag(&get, "CLERK_AUTO_GENERATE_USERNAME", false)?,
            username_prefix: match get("CLERK_AUTO_GENERATE_USERNAME_PREFIX") {
                Some(prefix) if prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => prefix,
                Some(_) => {
                    return Err(bad(
                        "CLERK_AUTO_GENERATE_USERNAME_PREFIX",
                        "may hold only letters, digits, '_' and '-'",
                    ));
                }
                None => "user".into(),
            },
            production,
            cookie_secure: flag(&get, "COOKIE_SECURE", production || !cfg!(debug_assertions))?,
            dev_key_file: get("CLERK_DEV_KEY_FILE").unwrap_or_else(|| crate::devmode::DEFAULT_KEY_FILE.into()).into(),
            dev_token_ttl: seconds(&get, "CLERK_DEV_TOKEN_TTL_SECONDS", crate::devmode::DEFAULT_TOKEN_TTL_SECS as u64)?,
            dev_billing: crate::devmode::DevBilling {
                plans: get("CLERK_DEV_PLANS"),
                features: get("CLERK_DEV_FEATURES"),
            },
            metrics_addr: get("METRICS_ADDR")
                .map(|raw| {
                    raw.parse().map_err(|_| bad("METRICS_ADDR", "expected an address and port, like 127.0.0.1:9100"))
                })
                .transpose()?,
            trust_proxy_headers: flag(&get, "TRUST_PROXY_HEADERS", false)?,
            trusted_proxies: match get("TRUSTED_PROXIES") {
                Some(raw) => {
                    crate::proxy::TrustedProxies::parse(&raw).map_err(|reason| bad("TRUSTED_PROXIES", reason))?
                }
                None => crate::proxy::TrustedProxies::default(),
            },
            admin_cache_ttl: seconds(&get, "ADMIN_CACHE_SECONDS", 2)?,
            session_cache_ttl: seconds(&get, "SESSION_CACHE_SECONDS", 2)?,
            allow_pending_sessions: flag(&get, "CLERK_ALLOW_PENDING_SESSIONS", false)?,
            keep_deleted_user_data: flag(&get, "CLERK_KEEP_DELETED_USER_DATA", false)?,
            reconcile_interval: parse_interval(&get("CLERK_RECONCILE_INTERVAL").unwrap_or_default())
                .map_err(|reason| bad("CLERK_RECONCILE_INTERVAL", reason))?,
            prune_max_percent: match get("CLERK_PRUNE_MAX_PERCENT") {
                Some(raw) => parse_percent(&raw).map_err(|reason| bad("CLERK_PRUNE_MAX_PERCENT", reason))?,
                None => DEFAULT_PRUNE_MAX_PERCENT,
            },
            org_urls: crate::org_urls::OrgUrls::parse(
                &get("CLERK_ORGANIZATION_PATTERNS")
                    .unwrap_or_else(|| crate::org_urls::DEFAULT_ORGANIZATION_PATTERNS.to_owned()),
                &get("CLERK_PERSONAL_ACCOUNT_PATTERNS")
                    .unwrap_or_else(|| crate::org_urls::DEFAULT_PERSONAL_ACCOUNT_PATTERNS.to_owned()),
            )
            .map_err(|reason| bad("CLERK_ORGANIZATION_PATTERNS", reason))?,
            machine_token_cache_ttl: match seconds(&get, "CLERK_MACHINE_TOKEN_CACHE_SECONDS", 60)? {
                ttl if ttl <= Duration::from_secs(60) => ttl,
                _ => return Err(bad("CLERK_MACHINE_TOKEN_CACHE_SECONDS", "may be at most 60")),
            },
            machine_token_cache_size: match get("CLERK_MACHINE_TOKEN_CACHE_SIZE") {
                Some(raw) => raw.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    bad("CLERK_MACHINE_TOKEN_CACHE_SIZE", format!("{raw:?} is not a positive number"))
                })?,
                None => 10_000,
            },
        })
    }

    /// Whether the built-in stand-in for Clerk runs (see `devmode`).
    pub fn dev_mode(&self) -> bool {
        crate::devmode::dev_mode_allowed(cfg!(debug_assertions), self.production, self.has_clerk_keys())
    }

    /// Serving needs Clerk keys, or dev mode.
    pub fn check_can_serve(&self) -> Result<(), ConfigError> {
        if self.has_clerk_keys() || self.dev_mode() {
            return Ok(());
        }
        Err(bad(
            "CLERK_SECRET_KEY",
            "no Clerk keys are set: set CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY (or CLERK_JWT_KEY); \
             the keyless dev mode exists only in debug builds outside LEPTOS_ENV=PROD",
        ))
    }

    /// True when a Clerk instance is configured, either by secret key or by a networkless JWT key.
    pub fn has_clerk_keys(&self) -> bool {
        self.clerk_secret_key.is_some() || self.clerk_jwt_key.is_some()
    }

    /// A warning when this server listens on loopback (a developer's machine) but
    /// `CLERK_AUTHORIZED_PARTIES` names neither `http://127.0.0.1:{port}` nor
    /// `http://localhost:{port}`: every token from a browser there would be refused. Behind a
    /// proxy the origin differs from the listen address, so nothing is said there.
    pub fn authorized_parties_warning(&self, listening: std::net::SocketAddr) -> Option<String> {
        if self.clerk_authorized_parties.is_empty() || !listening.ip().is_loopback() {
            return None;
        }
        let port = listening.port();
        let local = [format!("http://127.0.0.1:{port}"), format!("http://localhost:{port}")];
        let served = self.clerk_authorized_parties.iter().any(|p| local.iter().any(|l| p.trim_end_matches('/') == l));
        (!served).then(|| {
            format!(
                "CLERK_AUTHORIZED_PARTIES ({}) names neither {} nor {}, where this server listens: tokens from a \
                 browser there will be refused (azp mismatch)",
                self.clerk_authorized_parties.join(","),
                local[0],
                local[1]
            )
        })
    }

    /// Warnings worth logging at start.
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if self.clerk_authorized_parties.is_empty() {
            warnings.push("CLERK_AUTHORIZED_PARTIES is empty: the azp claim of session tokens is not checked");
        }
        if self.clerk_webhook_signing_secret.is_none() {
            warnings.push("CLERK_WEBHOOK_SIGNING_SECRET is not set: POST /webhooks/clerk answers 503");
        }
        if self.reconcile_interval.is_some() && self.clerk_secret_key.is_none() {
            warnings.push("CLERK_RECONCILE_INTERVAL is set but CLERK_SECRET_KEY is not: reconciliation is off");
        }
        warnings
    }
}

fn aliased(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    alias: &'static str,
) -> Option<(&'static str, String)> {
    get(name).map(|v| (name, v)).or_else(|| get(alias).map(|v| (alias, v)))
}

fn parse_http_url(raw: &str) -> Result<Url, InvalidValue> {
    let url = Url::parse(raw).map_err(|e| InvalidValue::new(format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(InvalidValue::new("must be an http(s) URL with a host"));
    }
    Ok(url)
}

/// The default `CLERK_PRUNE_MAX_PERCENT`.
pub const DEFAULT_PRUNE_MAX_PERCENT: f64 = 5.0;

/// `CLERK_RECONCILE_INTERVAL`: `off` (or unset), or a number with `s`, `m`, `h` or `d`.
pub fn parse_interval(raw: &str) -> Result<Option<Duration>, InvalidValue> {
    let raw = raw.trim();
    if raw.is_empty() || raw.eq_ignore_ascii_case("off") || raw == "0" {
        return Ok(None);
    }
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let number: u64 = number.parse().map_err(|_| InvalidValue::new(format!("{raw:?} is not like 6h, 30m or 90s")))?;
    let unit_secs = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(InvalidValue::new(format!("{raw:?}: the unit must be s, m, h or d"))),
    };
    Ok((number > 0).then(|| Duration::from_secs(number.saturating_mul(unit_secs))))
}

/// A percentage from 0 to 100 (`5`, `2.5`).
pub fn parse_percent(raw: &str) -> Result<f64, InvalidValue> {
    match raw.trim().trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(InvalidValue::new(format!("{raw:?} is not a percentage from 0 to 100"))),
    }
}

fn seconds(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: u64) -> Result<Duration, ConfigError> {
    match get(var) {
        Some(raw) => raw
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| bad(var, format!("{raw:?} is not a whole number of seconds"))),
        None => Ok(Duration::from_secs(default)),
    }
}

fn flag(get: &impl Fn(&str) -> Option<String>, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match get(var).map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
        Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
        Some(v) => Err(bad(var, format!("{v:?} is not a boolean (true/false)"))),
    }
}

fn redact(secret: &Option<SecretString>) -> &'static str {
    match secret {
        Some(s) if !s.expose_secret().is_empty() => "set (redacted)",
        _ => "unset",
    }
}

/// The effective configuration for the start-up log. Secrets show only as set or unset.
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "database={} clerk_api_url={} secret_key={} jwt_key={} publishable_key={} webhook_secret={} \
             authorized_parties={:?} revalidation={}s user_cache={}s org_cache={}s admin_cache={}s session_cache={}s skew={}s \
             auto_username={} username_prefix={} production={} cookie_secure={} dev_mode={}",
            self.database_url.redacted(),
            self.clerk_api_url,
            redact(&self.clerk_secret_key),
            redact(&self.clerk_jwt_key),
            self.clerk_publishable_key.as_ref().map(PublishableKey::as_str).unwrap_or("unset"),
            redact(&self.clerk_webhook_signing_secret),
            self.clerk_authorized_parties,
            self.session_revalidation.as_secs(),
            self.user_cache_ttl.as_secs(),
            self.org_cache_ttl.as_secs(),
            self.admin_cache_ttl.as_secs(),
            self.session_cache_ttl.as_secs(),
            self.clock_skew.as_secs(),
            self.auto_generate_username,
            self.username_prefix,
            self.production,
            self.cookie_secure,
            self.dev_mode(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_like_durations() {
        assert_eq!(parse_interval("6h"), Ok(Some(Duration::from_secs(21_600))));
        assert_eq!(parse_interval("30m"), Ok(Some(Duration::from_secs(1800))));
        assert_eq!(parse_interval("90"), Ok(Some(Duration::from_secs(90))));
        assert_eq!(parse_interval("1d"), Ok(Some(Duration::from_secs(86_400))));
        assert_eq!(parse_interval("off"), Ok(None));
        assert_eq!(parse_interval("0s"), Ok(None));
        assert!(parse_interval("6 hours").is_err());
        assert!(parse_interval("h").is_err());
    }
}
