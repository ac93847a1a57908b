//! Email addresses typed by people (dev sign-in, `create-staff`): trimmed, lower-cased, and
//! shaped like `local@domain.tld`. Clerk verifies real addresses; this only refuses nonsense.

/// RFC 5321's limit on a forward path.
pub const MAX_LEN: usize = 254;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        // Measured before any copy: a request can bring megabytes.
        if raw.len() > MAX_LEN {
            return None;
        }
        let email = raw.to_lowercase();
        let valid = email.len() <= MAX_LEN
            && !email.contains(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        valid.then_some(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    #[test]
    fn addresses_are_normalized_and_nonsense_refused() {
        assert_eq!(
            EmailAddress::parse(" Ada@Example.COM ").map(|e| e.as_str().to_owned()),
            Some("ada@example.com".into())
        );
        for bad in ["", "ada", "@example.com", "ada@example", "a da@example.com", &format!("{}@x.io", "a".repeat(250))]
        {
            assert_eq!(EmailAddress::parse(bad), None, "{bad:?}");
        }
    }
}
