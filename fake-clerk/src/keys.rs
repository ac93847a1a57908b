//! RSA signing keys, generated once per process (generation is the slow part of a test).

use std::sync::OnceLock;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::{
    RsaPrivateKey,
    pkcs1::EncodeRsaPrivateKey,
    pkcs8::{EncodePublicKey, LineEnding},
    traits::PublicKeyParts,
};
use serde_json::{Value, json};

/// The header `cat` of Clerk's session tokens.
pub const SESSION_CATEGORY: &str = "cl_B7d4PD111AAA";
/// The header `cat` of JWT-template tokens, signed with the same instance key.
pub const TEMPLATE_CATEGORY: &str = "cl_B7d4PD222AAA";
/// The header `cat` of machine-to-machine tokens.
pub const MACHINE_CATEGORY: &str = "cl_B7d4PD333AAA";

/// One RSA-2048 key: its kid, the private half for minting, and the public half as JWK and PEM.
pub struct KeyPair {
    pub kid: String,
    pub encoding: EncodingKey,
    pub jwk: Value,
    pub public_pem: String,
}

impl KeyPair {
    fn generate(kid: &str) -> Self {
        let mut rng = rand::thread_rng();
        let private = RsaPrivateKey::new(&mut rng, 2048).expect("generate RSA key");
        let der = private.to_pkcs1_der().expect("encode RSA key");
        let public = private.to_public_key();
        let jwk = json!({
            "use": "sig",
            "kty": "RSA",
            "kid": kid,
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        });
        let public_pem = public.to_public_key_pem(LineEnding::LF).expect("encode public key");
        Self { kid: kid.to_owned(), encoding: EncodingKey::from_rsa_der(der.as_bytes()), jwk, public_pem }
    }

    /// Signs `claims` as Clerk signs a session token: RS256, this key's kid, `typ: JWT` and the
    /// session category `cat: cl_B7d4PD111AAA` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({ "alg": "RS256", "kid": self.kid, "typ": "JWT", "cat": SESSION_CATEGORY }),
            claims,
        )
    }

    /// Signs `claims` under any header (e.g. a JWT-template `cat`); `alg` should say RS256.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        self.sign_with_alg(Algorithm::RS256, header, claims)
    }

    /// Signs with `alg` (RS256, RS384 or RS512) under any header, which should name it.
    pub fn sign_with_alg(&self, alg: Algorithm, header: &Value, claims: &Value) -> String {
        let message =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &self.encoding, alg).expect("sign");
        format!("{message}.{signature}")
    }

    /// Signs with any `kid` in the header (or none), to test lookups.
    pub fn sign_with_kid(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign token")
    }
}

/// The primary key (in the JWKS from the start) and the rotation key.
pub fn test_keys() -> &'static (KeyPair, KeyPair) {
    static KEYS: OnceLock<(KeyPair, KeyPair)> = OnceLock::new();
    KEYS.get_or_init(|| (KeyPair::generate("ins_fake_primary"), KeyPair::generate("ins_fake_rotated")))
}

/// A key that no JWKS ever publishes, under the primary key's kid: its tokens must fail.
pub fn foreign_key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(|| KeyPair::generate("ins_fake_primary"))
}
