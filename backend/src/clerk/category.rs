//! Which tokens are session tokens. Clerk signs several kinds with the instance key: only a
//! session token (or one with no category, or the "ignore" one) may sign anyone in. JWT-template
//! and machine tokens are refused here, before any claim is trusted.

use base64::Engine;
use serde::Deserialize;

/// The header's `cat` of a session token (Clerk's tokens/jwtCategories.ts).
pub const SESSION: &str = "cl_B7d4PD111AAA";
/// A JWT-template token's `cat`.
pub const JWT_TEMPLATE: &str = "cl_B7d4PD222AAA";
/// A machine-to-machine token's `cat`.
pub const MACHINE: &str = "cl_B7d4PD333AAA";
/// The category Clerk says to ignore.
pub const IGNORE: &str = "cl_I7d4PD111III";

#[derive(Deserialize)]
struct RawHeader {
    cat: Option<serde_json::Value>,
    typ: Option<serde_json::Value>,
}

/// Whether the token's header allows it to be a session token: `cat` absent, session or
/// ignore; `typ` absent or `JWT` (machine access tokens say `at+jwt`). An unreadable header is
/// not a session token either.
pub fn header_allows_session(token: &str) -> bool {
    let Some(header) = token.split('.').next() else { return false };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')) else {
        return false;
    };
    let Ok(raw) = serde_json::from_slice::<RawHeader>(&bytes) else { return false };
    let category_ok = match &raw.cat {
        None => true,
        Some(serde_json::Value::String(cat)) => cat == SESSION || cat == IGNORE,
        Some(_) => false,
    };
    let typ_ok = match &raw.typ {
        None => true,
        Some(serde_json::Value::String(typ)) => typ == "JWT",
        Some(_) => false,
    };
    category_ok && typ_ok
}

/// Machine tokens share the format but are not sessions (Clerk's tokens/machine.ts).
pub fn is_machine_subject(sub: &str) -> bool {
    sub.starts_with("mch_")
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use serde_json::json;

    use super::*;

    fn token_with(header: serde_json::Value) -> String {
        let enc = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.sig", enc(&header), enc(&json!({ "sub": "user_1" })))
    }

    #[test]
    fn session_ignore_and_absent_categories_are_session_tokens() {
        for header in [
            json!({ "alg": "RS256", "kid": "ins_1", "typ": "JWT" }),
            json!({ "alg": "RS256", "kid": "ins_1", "cat": SESSION }),
            json!({ "alg": "RS256", "kid": "ins_1", "cat": IGNORE, "typ": "JWT" }),
        ] {
            assert!(header_allows_session(&token_with(header.clone())), "{header}");
        }
    }

    #[test]
    fn template_machine_and_unknown_categories_are_refused() {
        for header in [
            json!({ "alg": "RS256", "cat": JWT_TEMPLATE }),
            json!({ "alg": "RS256", "cat": MACHINE }),
            json!({ "alg": "RS256", "cat": "cl_something_new" }),
            json!({ "alg": "RS256", "cat": 1 }),
            json!({ "alg": "RS256", "typ": "at+jwt" }),
            json!({ "alg": "RS256", "typ": "application/at+jwt" }),
        ] {
            assert!(!header_allows_session(&token_with(header.clone())), "{header}");
        }
        assert!(!header_allows_session("not a token"));
    }

    #[test]
    fn machine_subjects_are_recognised() {
        assert!(is_machine_subject("mch_2abc"));
        assert!(!is_machine_subject("user_2abc"));
    }
}
