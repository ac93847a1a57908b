//! Svix signature verification on the raw body, before anything is parsed.
//! See https://docs.svix.com/receiving/verifying-payloads/how-manual

use http::HeaderMap;
use ids::DeliveryId;
use serde_json::Value;

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

/// The delivery's id from a complete set of headers: Svix's (`svix-*`) or the Standard
/// Webhooks names (`webhook-*`), which Svix also sends. The `svix` crate verifies either set.
fn delivery_id(headers: &HeaderMap) -> Option<String> {
    [("svix-id", "svix-timestamp", "svix-signature"), ("webhook-id", "webhook-timestamp", "webhook-signature")]
        .into_iter()
        .find_map(|(id, timestamp, signature)| {
            let id = headers.get(id).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty())?;
            (headers.contains_key(timestamp) && headers.contains_key(signature)).then(|| id.to_owned())
        })
}

/// Verifies the signature over the exact bytes received, then checks the envelope's shape.
pub fn verify(webhook: &svix::webhooks::Webhook, headers: &HeaderMap, body: &[u8]) -> Result<Delivery, Refusal> {
    use svix::webhooks::WebhookError as E;

    let svix_id = delivery_id(headers).ok_or(Refusal::MissingHeader)?;
    if body.len() > MAX_BODY_BYTES {
        return Err(Refusal::TooLarge);
    }
    webhook.verify(body, headers).map_err(|e| match e {
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
    Ok(Delivery { svix_id: DeliveryId::new(svix_id), event, fetched: None })
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
