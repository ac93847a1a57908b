//! Passwords: argon2id hashes (PHC strings), a minimum length, and a verification that costs the
//! same whether or not the account exists.

use std::sync::OnceLock;

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use secrecy::{ExposeSecret, SecretString};

pub const MIN_LENGTH: usize = 12;
const MAX_LENGTH: usize = 1024;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_LENGTH} characters")]
    TooShort,
    #[error("the password must be at most {MAX_LENGTH} characters")]
    TooLong,
    #[error("hashing the password failed")]
    Hashing,
}

/// A password that meets the rules, to be hashed. Secret: no `Debug` or `Display` of its value.
pub struct NewPassword(SecretString);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        let length = raw.chars().count();
        if length < MIN_LENGTH {
            return Err(PasswordError::TooShort);
        }
        if length > MAX_LENGTH {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    /// An argon2id PHC string with a random salt.
    pub fn hash(&self) -> Result<String, PasswordError> {
        hash_str(self.0.expose_secret())
    }
}

fn hash_str(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// Whether `candidate` matches `stored`. Without a stored hash (no such account), a dummy hash
/// is verified instead, so that unknown emails take as long as wrong passwords.
pub fn verify(candidate: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_str("no account has this password").unwrap_or_default());
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let matches = Argon2::default().verify_password(candidate.as_bytes(), &parsed).is_ok();
    matches && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_shorter_than_twelve_characters_are_refused() {
        assert_eq!(NewPassword::parse("elevenchars").err(), Some(PasswordError::TooShort));
        assert!(NewPassword::parse("twelve chars").is_ok());
        // Characters, not bytes.
        assert_eq!(NewPassword::parse("ééééééééééé").err(), Some(PasswordError::TooShort));
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = NewPassword::parse("correct horse battery").and_then(|p| p.hash()).expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&hash)));
        assert!(!verify("correct horse battery!", Some(&hash)));
        assert!(!verify("no account has this password", None), "the dummy never signs anyone in");
        assert!(!verify("anything", Some("not a phc string")));
    }
}
