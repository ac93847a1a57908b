//! The publishable key names the instance's Frontend API host: `pk_test_`/`pk_live_` followed by
//! unpadded base64 of `{host}$`. ClerkJS is loaded from that host.

use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};

use crate::invalid_value::InvalidValue;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishableKey {
    key: String,
    frontend_api: String,
    live: bool,
}

impl PublishableKey {
    pub fn parse(key: &str) -> Result<Self, InvalidValue> {
        let invalid = |reason: &str| InvalidValue::new(reason);
        let (live, encoded) = if let Some(rest) = key.strip_prefix("pk_live_") {
            (true, rest)
        } else if let Some(rest) = key.strip_prefix("pk_test_") {
            (false, rest)
        } else {
            return Err(invalid("must start with pk_test_ or pk_live_"));
        };
        if encoded.is_empty() || encoded.contains('_') {
            return Err(invalid("is not a publishable key (expected pk_test_<base64>)"));
        }
        let decoded = STANDARD_NO_PAD
            .decode(encoded.trim_end_matches('='))
            .map_err(|_| invalid("is not valid base64 after its prefix"))?;
        let decoded = String::from_utf8(decoded).map_err(|_| invalid("does not decode to text"))?;
        let host = decoded.strip_suffix('$').ok_or_else(|| invalid("does not decode to a host ending in '$'"))?;
        let valid_host = !host.is_empty()
            && host.contains('.')
            && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !valid_host {
            return Err(invalid("does not decode to a Frontend API host"));
        }
        Ok(Self { key: key.to_owned(), frontend_api: host.to_owned(), live })
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The Frontend API host, e.g. `allowed-lemming-9.clerk.accounts.dev`.
    pub fn frontend_api(&self) -> &str {
        &self.frontend_api
    }

    pub fn is_live(&self) -> bool {
        self.live
    }

    /// Where ClerkJS v5 is served for this instance.
    pub fn clerk_js_url(&self) -> String {
        format!("https://{}/npm/@clerk/clerk-js@5/dist/clerk.browser.js", self.frontend_api)
    }
}

#[cfg(test)]
mod tests {
    use super::PublishableKey;

    #[test]
    fn real_key_shapes_decode_to_their_frontend_api() {
        let test = PublishableKey::parse("pk_test_YWxsb3dlZC1sZW1taW5nLTkuY2xlcmsuYWNjb3VudHMuZGV2JA").expect("valid");
        assert_eq!(test.frontend_api(), "allowed-lemming-9.clerk.accounts.dev");
        assert!(!test.is_live());
        let live = PublishableKey::parse("pk_live_Y2xlcmsuZmluZG15ZmllbGQub25saW5lJA").expect("valid");
        assert_eq!(live.frontend_api(), "clerk.findmyfield.online");
        assert!(live.is_live());
        assert_eq!(live.clerk_js_url(), "https://clerk.findmyfield.online/npm/@clerk/clerk-js@5/dist/clerk.browser.js");
        // Padded keys are accepted too.
        assert!(PublishableKey::parse("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k").is_ok());
    }

    #[test]
    fn malformed_keys_are_rejected() {
        for key in [
            "",
            "sk_test_YWxsb3dlZC5kZXYk",
            "pk_test_",
            "pk_prod_Y2xlcmsuZXhhbXBsZS5jb20k",
            "pk_test_!!!!",
            "pk_test_Y2xlcmsuZXhhbXBsZS5jb20",    // "clerk.example.com" without '$'
            "pk_test_bG9jYWxob3N0JA",             // "localhost$": no dot
            "pk_test_Y2xlcmsuZXhhbXBsZS5jb20kJA", // two '$'
            "pk_test_YWJjX2RlZg_extra",
        ] {
            assert!(PublishableKey::parse(key).is_err(), "{key:?} should be rejected");
        }
    }
}
