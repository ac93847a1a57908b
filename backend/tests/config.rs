//! Configuration: defaults, aliases, one clear message per bad value, and redaction.

use std::{collections::HashMap, time::Duration};

use backend::{Config, config::DatabaseUrl};

fn load(pairs: &[(&str, &str)]) -> Result<Config, backend::ConfigError> {
    let vars: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Config::from_lookup(|name| vars.get(name).cloned())
}

#[test]
fn defaults_apply_when_nothing_is_set() {
    let config = load(&[]).expect("empty environment is valid");
    assert_eq!(config.database_url, DatabaseUrl::Sqlite("sqlite://data/app.db".into()));
    assert_eq!(config.clerk_api_url.as_str(), "https://api.clerk.com/");
    assert!(config.clerk_secret_key.is_none());
    assert!(config.clerk_authorized_parties.is_empty());
    assert_eq!(config.session_revalidation, Duration::from_secs(300));
    assert_eq!(config.user_cache_ttl, Duration::from_secs(300));
    assert_eq!(config.org_cache_ttl, Duration::from_secs(900));
    assert_eq!(config.clock_skew, Duration::from_secs(5));
    assert!(!config.auto_generate_username);
    assert_eq!(config.username_prefix, "user");
    assert!(!config.production);
    assert!(!config.has_clerk_keys());
}

#[test]
fn each_bad_value_names_its_variable() {
    let cases: &[(&str, &str, &str)] = &[
        ("DATABASE_URL", "mysql://localhost/db", "must start with sqlite: or postgres://"),
        ("DATABASE_URL", "postgres://", "postgres"),
        ("DATABASE_URL", "sqlite://", "file path"),
        ("CLERK_SECRET_KEY", "pk_test_abc", "sk_test_"),
        ("CLERK_PUBLISHABLE_KEY", "sk_test_abc", "pk_test_"),
        ("CLERK_JWT_KEY", "not a pem", "PEM"),
        ("CLERK_API_URL", "ftp://example.com", "http(s)"),
        ("CLERK_API_URL", "not a url", "not a URL"),
        ("CLERK_WEBHOOK_SIGNING_SECRET", "secret", "whsec_"),
        ("CLERK_WEBHOOK_SIGNING_KEY", "secret", "whsec_"),
        ("CLERK_AUTHORIZED_PARTIES", "http://ok.example, nope", "not an origin"),
        ("CLERK_FRONTEND_HOSTS", "nope", "not an origin"),
        ("CLERK_SESSION_REVALIDATION_SECONDS", "five", "whole number"),
        ("CLERK_CACHE_TIMEOUT", "-1", "whole number"),
        ("CLERK_ORG_CACHE_TIMEOUT", "1.5", "whole number"),
        ("CLERK_CLOCK_SKEW_SECONDS", "x", "whole number"),
        ("CLERK_AUTO_GENERATE_USERNAME", "maybe", "boolean"),
        ("CLERK_AUTO_GENERATE_USERNAME_PREFIX", "a b", "letters"),
    ];
    for (var, value, expected) in cases {
        let err = load(&[(var, value)]).err().unwrap_or_else(|| panic!("{var}={value} should be rejected"));
        assert_eq!(err.var, *var, "{var}={value}");
        let message = err.to_string();
        assert!(message.starts_with(&format!("{var}: ")), "{message}");
        assert!(message.contains(expected), "{var}={value}: {message:?} lacks {expected:?}");
        assert!(!message.contains('\n'), "the message is one line: {message:?}");
    }
}

#[test]
fn alias_names_are_accepted() {
    let config = load(&[
        ("CLERK_WEBHOOK_SIGNING_KEY", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("CLERK_FRONTEND_HOSTS", "http://localhost:3000, https://app.example.com/"),
    ])
    .expect("aliases are valid");
    assert!(config.clerk_webhook_signing_secret.is_some());
    assert_eq!(config.clerk_authorized_parties, vec!["http://localhost:3000", "https://app.example.com"]);
}

#[test]
fn the_primary_name_wins_over_its_alias() {
    let config = load(&[
        ("CLERK_AUTHORIZED_PARTIES", "https://primary.example"),
        ("CLERK_FRONTEND_HOSTS", "https://alias.example"),
    ])
    .expect("valid");
    assert_eq!(config.clerk_authorized_parties, vec!["https://primary.example"]);
}

#[test]
fn valid_values_are_parsed() {
    let config = load(&[
        ("DATABASE_URL", "postgres://app:pw@db.internal:5432/app"),
        ("CLERK_SECRET_KEY", "sk_live_abc"),
        ("CLERK_API_URL", "http://127.0.0.1:9999"),
        ("CLERK_CACHE_TIMEOUT", "60"),
        ("CLERK_AUTO_GENERATE_USERNAME", "true"),
        ("CLERK_AUTO_GENERATE_USERNAME_PREFIX", "member"),
        ("LEPTOS_ENV", "PROD"),
    ])
    .expect("valid");
    assert!(matches!(config.database_url, DatabaseUrl::Postgres(_)));
    assert_eq!(config.user_cache_ttl, Duration::from_secs(60));
    assert!(config.auto_generate_username);
    assert_eq!(config.username_prefix, "member");
    assert!(config.production);
    assert!(config.has_clerk_keys());
}

#[test]
fn the_summary_redacts_every_secret() {
    let secret_key = "sk_test_SUPERSECRETvalue123";
    let webhook = "whsec_TOPSECRETsigningSecret99";
    let jwt_pem =
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsecretish\n-----END PUBLIC KEY-----";
    let db_password = "dbPassw0rdHidden";
    let config = load(&[
        ("CLERK_SECRET_KEY", secret_key),
        ("CLERK_WEBHOOK_SIGNING_SECRET", webhook),
        ("CLERK_JWT_KEY", jwt_pem),
        ("DATABASE_URL", &format!("postgres://app:{db_password}@127.0.0.1/app")),
    ])
    .expect("valid");
    let summary = config.to_string();
    for secret in [secret_key, webhook, "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsecretish", db_password] {
        assert!(!summary.contains(secret), "summary leaks a secret: {summary}");
    }
    assert!(summary.contains("secret_key=set (redacted)"), "{summary}");
    assert!(summary.contains("webhook_secret=set (redacted)"), "{summary}");
    assert!(summary.contains("127.0.0.1"), "{summary}");
}

#[test]
fn a_local_server_warns_when_its_address_is_not_an_authorized_party() {
    let addr = |s: &str| s.parse::<std::net::SocketAddr>().expect("addr");
    let with = |parties: &str| load(&[("CLERK_AUTHORIZED_PARTIES", parties)]).expect("valid");
    let warning = with("http://localhost:4000").authorized_parties_warning(addr("127.0.0.1:3000"));
    assert!(warning.as_deref().is_some_and(|w| w.contains("http://127.0.0.1:3000")), "{warning:?}");
    for ok in ["http://127.0.0.1:3000", "http://localhost:3000/", "https://app.test,http://localhost:3000"] {
        assert_eq!(with(ok).authorized_parties_warning(addr("127.0.0.1:3000")), None, "{ok}");
    }
    assert_eq!(
        load(&[]).expect("valid").authorized_parties_warning(addr("127.0.0.1:3000")),
        None,
        "empty: warned elsewhere"
    );
    assert_eq!(with("https://app.test").authorized_parties_warning(addr("0.0.0.0:3000")), None, "behind a proxy");
}

#[test]
fn a_database_url_prints_without_its_password() {
    let url = DatabaseUrl::parse("postgres://app:hunter2hunter@db.internal/app?password=other5ecret&sslmode=require")
        .expect("valid");
    for shown in [url.redacted(), format!("{url:?}")] {
        assert!(!shown.contains("hunter2hunter") && !shown.contains("other5ecret"), "{shown}");
        assert!(shown.contains("db.internal/app") && shown.contains("sslmode=require"), "{shown}");
    }
}
