//! Svix signature verification on the raw body, before anything is parsed (by the Standard
//! Webhooks reference library: Svix signs by that standard).
//! See https://docs.svix.com/receiving/verifying-payloads/how-manual

use http::{HeaderMap, HeaderName, HeaderValue};
use ids::DeliveryId;
use serde_json::Value;
use standardwebhooks::Webhook;

/// Webhook bodies larger than this are refused before verification.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Why a delivery was refused with 400. Nothing is written for any of these.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("missing svix-id, svix-timestamp or svix-signature header")]
    MissingHeader,
    #[error("invalid signature")]
    BadSignature,
    #[error("timestamp outside the 5 minute tolerance")]
    StaleTimestamp,
    #[error("the body is larger than 1 MiB")]
    TooLarge,
    #[error("the body must be a JSON object with a string type and an object data")]
    BadShape,
}

/// A verified delivery: its Svix id and its event, parsed once.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub svix_id: DeliveryId,
    pub event: super::event::ClerkEvent,
    /// Fetched before the writer, so no transaction waits on Clerk: for a membership event
    /// naming a user we lack, that user; for an invitation to an organization we lack, it.
    pub fetched: Option<crate::mirror::Fetched>,
}

/// Svix's header names, and the Standard Webhooks ones, which Svix also sends.
const SVIX_HEADERS: [&str; 3] = ["svix-id", "svix-timestamp", "svix-signature"];
const STANDARD_HEADERS: [&str; 3] = ["webhook-id", "webhook-timestamp", "webhook-signature"];

/// The delivery's id (text), timestamp and signature: the first complete set of either names.
fn signed_headers(headers: &HeaderMap) -> Option<(&str, [&HeaderValue; 3])> {
    [SVIX_HEADERS, STANDARD_HEADERS].into_iter().find_map(|names| {
        let [id, timestamp, signature] = names.map(|name| headers.get(name));
        let id = id?;
        let text = id.to_str().ok().filter(|v| !v.is_empty())?;
        Some((text, [id, timestamp?, signature?]))
    })
}

/// Verifies the signature over the exact bytes received, then checks the envelope's shape.
pub fn verify(webhook: &Webhook, headers: &HeaderMap, body: &[u8]) -> Result<Delivery, Refusal> {
    use standardwebhooks::WebhookError as E;

    let (svix_id, values) = signed_headers(headers).ok_or(Refusal::MissingHeader)?;
    if body.len() > MAX_BODY_BYTES {
        return Err(Refusal::TooLarge);
    }
    // The reference library reads the Standard Webhooks names only.
    let mut signed = HeaderMap::with_capacity(3);
    for (name, value) in STANDARD_HEADERS.into_iter().zip(values) {
        signed.insert(HeaderName::from_static(name), value.clone());
    }
    webhook.verify(body, &signed).map_err(|e| match e {
        E::TimestampTooOldError | E::FutureTimestampError => Refusal::StaleTimestamp,
        E::MissingHeader(_) => Refusal::MissingHeader,
        _ => Refusal::BadSignature,
    })?;

    // Only now is the body trusted enough to parse, once, straight into its parts.
    let envelope: Envelope = serde_json::from_slice(body).map_err(|_| Refusal::BadShape)?;
    if envelope.event_type.is_empty() || !envelope.data.is_object() {
        return Err(Refusal::BadShape);
    }
    let event = super::event::ClerkEvent::parse(&envelope.event_type, envelope.data).at(envelope.timestamp);
    Ok(Delivery { svix_id: DeliveryId::new(svix_id.to_owned()), event, fetched: None })
}

/// Svix's envelope around Clerk's event; other fields are skipped unparsed.
#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    event_type: String,
    data: Value,
    /// Unix milliseconds; anything else is read as absent.
    #[serde(default, deserialize_with = "lenient_millis")]
    timestamp: Option<i64>,
}

fn lenient_millis<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(<Value as serde::Deserialize>::deserialize(deserializer)?.as_i64())
}
