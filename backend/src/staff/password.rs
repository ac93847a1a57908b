//! Passwords: argon2id hashes (PHC strings), a minimum length, and a verification that costs the
//! same whether or not the account exists.

use std::sync::OnceLock;

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version,
    password_hash::{Output, SaltString, rand_core::OsRng},
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
    verify_in(candidate, stored, &mut Vec::new())
}

/// [`verify`], with argon2's working memory (~19 MiB) in `memory`, which the caller keeps for
/// the next check: allocating it anew each time leaves the freed blocks in malloc's per-thread
/// arenas, and a burst of logins then holds hundreds of megabytes long after it is over.
pub fn verify_in(candidate: &str, stored: Option<&str>, memory: &mut Vec<Block>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_str("no account has this password").unwrap_or_default());
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let matches = matches_phc(candidate, hash, memory).unwrap_or(false);
    matches && real
}

/// What `PasswordVerifier::verify_password` does, but into the given memory.
fn matches_phc(candidate: &str, phc: &str, memory: &mut Vec<Block>) -> Option<bool> {
    let parsed = PasswordHash::new(phc).ok()?;
    let (salt, expected) = (parsed.salt?, parsed.hash?);
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed.version.map_or(Ok(Version::default()), Version::try_from).ok()?;
    let params = Params::try_from(&parsed).ok()?;
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).ok()?;
    memory.resize(params.block_count(), Block::default());
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = out.get_mut(..expected.len())?;
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(candidate.as_bytes(), salt, out, &mut memory[..])
        .ok()?;
    // Output's equality is constant-time.
    Some(Output::new(out).ok()? == expected)
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

    #[test]
    fn verifying_into_kept_memory_agrees_with_the_argon2_crate() {
        use argon2::PasswordVerifier;
        let hash = NewPassword::parse("correct horse battery").and_then(|p| p.hash()).expect("hash");
        let parsed = PasswordHash::new(&hash).expect("phc");
        let mut memory = Vec::new();
        for candidate in ["correct horse battery", "correct horse batterx", ""] {
            let theirs = Argon2::default().verify_password(candidate.as_bytes(), &parsed).is_ok();
            assert_eq!(verify_in(candidate, Some(&hash), &mut memory), theirs, "{candidate}");
        }
        assert_eq!(memory.len(), Params::DEFAULT_M_COST as usize, "one block per KiB of m_cost, kept");
        // A hash made with other parameters (as an older deployment may have stored) still verifies.
        let params = Params::new(8192, 3, 1, None).expect("params");
        let salt = SaltString::generate(&mut OsRng);
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"older password here", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_in("older password here", Some(&other), &mut memory));
        assert!(!verify_in("older password herE", Some(&other), &mut memory));
    }
}
