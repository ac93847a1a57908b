//! The Svix signature scheme, written independently of the `svix` crate so tests can check
//! one against the other: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `svix-signature` header value for a delivery. `secret` is `whsec_<base64 key>`.
pub fn sign_webhook(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> String {
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).expect("secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// A signed delivery, as Svix would POST it.
#[derive(Clone, Debug)]
pub struct SignedWebhook {
    pub svix_id: String,
    pub timestamp: i64,
    pub body: String,
    pub signature: String,
}

impl SignedWebhook {
    /// The `svix-*` headers.
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("svix-id", self.svix_id.clone()),
            ("svix-timestamp", self.timestamp.to_string()),
            ("svix-signature", self.signature.clone()),
        ]
    }

    /// The same delivery under the Standard Webhooks names (`webhook-*`), which Svix also sends.
    pub fn standard_headers(&self) -> [(&'static str, String); 3] {
        [
            ("webhook-id", self.svix_id.clone()),
            ("webhook-timestamp", self.timestamp.to_string()),
            ("webhook-signature", self.signature.clone()),
        ]
    }
}

/// Wraps `data` in Clerk's event envelope and signs it with `secret`, timestamped now.
pub fn webhook(secret: &str, svix_id: &str, event_type: &str, data: &serde_json::Value) -> SignedWebhook {
    webhook_at(secret, svix_id, event_type, data, crate::now_secs())
}

/// [`webhook`] whose event says it was sent at `event_millis` (the envelope's `timestamp`, the
/// version of Billing objects that carry no `updated_at`), delivered now.
pub fn webhook_sent_at(
    secret: &str,
    svix_id: &str,
    event_type: &str,
    data: &serde_json::Value,
    event_millis: i64,
) -> SignedWebhook {
    let body = serde_json::json!({
        "data": data,
        "object": "event",
        "type": event_type,
        "timestamp": event_millis,
        "instance_id": "ins_fake_primary",
    });
    sign_raw(secret, svix_id, crate::now_secs(), body.to_string())
}

/// [`webhook`] with a chosen `svix-timestamp` (Unix seconds).
pub fn webhook_at(
    secret: &str,
    svix_id: &str,
    event_type: &str,
    data: &serde_json::Value,
    timestamp: i64,
) -> SignedWebhook {
    let body = serde_json::json!({
        "data": data,
        "object": "event",
        "type": event_type,
        "timestamp": crate::now_millis(),
        "instance_id": "ins_fake_primary",
        "event_attributes": { "http_request": { "client_ip": "127.0.0.1", "user_agent": "fake-clerk" } }
    })
    .to_string();
    sign_raw(secret, svix_id, timestamp, body)
}

/// Signs an arbitrary body, for tests of malformed payloads.
pub fn sign_raw(secret: &str, svix_id: &str, timestamp: i64, body: String) -> SignedWebhook {
    let signature = sign_webhook(secret, svix_id, timestamp, &body);
    SignedWebhook { svix_id: svix_id.to_owned(), timestamp, body, signature }
}

/// A fresh, valid signing secret for tests.
pub const TEST_WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[cfg(test)]
mod tests {
    #[test]
    fn matches_the_published_svix_test_vector() {
        let sig = super::sign_webhook(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            r#"{"email":"test@example.com","username":"test_user"}"#,
        );
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }
}
