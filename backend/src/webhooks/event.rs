//! A delivery's event, parsed once: which of Clerk's event types it is (each one the mirror
//! handles has its own variant, so the dispatch cannot misspell one), with its `data` payload.
//! Any other type is kept by name, to be recorded as ignored.

use serde_json::Value;

/// How a session ended (`session.ended`, `.removed`, `.revoked`): all end ours the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    Ended,
    Removed,
    Revoked,
}

/// A change to a mirrored object: created, updated or deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Deleted,
}

/// An invitation's step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationStep {
    Created,
    Accepted,
    Revoked,
}

/// Which of Clerk's event types a delivery is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    User(Change),
    SessionCreated,
    SessionEnded(SessionEnd),
    Organization(Change),
    Membership(Change),
    Invitation(InvitationStep),
    /// Clerk Billing: `subscription.*` (a subscription and its items).
    Subscription,
    /// `subscriptionItem.*`: one item (its status says which step).
    SubscriptionItem,
    /// `paymentAttempt.*`: the items it paid for.
    PaymentAttempt,
    /// A type the mirror does not handle (its name stays in [`ClerkEvent::name`]).
    Other,
}

/// Every type the mirror handles, by Clerk's name: the one table both directions read.
const KNOWN: [(&str, EventKind); 32] = {
    use Change::*;
    use EventKind::*;
    [
        ("user.created", User(Created)),
        ("user.updated", User(Updated)),
        ("user.deleted", User(Deleted)),
        ("session.created", SessionCreated),
        ("session.ended", SessionEnded(SessionEnd::Ended)),
        ("session.removed", SessionEnded(SessionEnd::Removed)),
        ("session.revoked", SessionEnded(SessionEnd::Revoked)),
        ("organization.created", Organization(Created)),
        ("organization.updated", Organization(Updated)),
        ("organization.deleted", Organization(Deleted)),
        ("organizationMembership.created", Membership(Created)),
        ("organizationMembership.updated", Membership(Updated)),
        ("organizationMembership.deleted", Membership(Deleted)),
        ("organizationInvitation.created", Invitation(InvitationStep::Created)),
        ("organizationInvitation.accepted", Invitation(InvitationStep::Accepted)),
        ("organizationInvitation.revoked", Invitation(InvitationStep::Revoked)),
        // Clerk Billing (`@clerk/backend` 3.25.0, `WebhookEventType`).
        ("subscription.created", Subscription),
        ("subscription.updated", Subscription),
        ("subscription.active", Subscription),
        ("subscription.pastDue", Subscription),
        ("subscriptionItem.created", SubscriptionItem),
        ("subscriptionItem.updated", SubscriptionItem),
        ("subscriptionItem.active", SubscriptionItem),
        ("subscriptionItem.canceled", SubscriptionItem),
        ("subscriptionItem.upcoming", SubscriptionItem),
        ("subscriptionItem.ended", SubscriptionItem),
        ("subscriptionItem.abandoned", SubscriptionItem),
        ("subscriptionItem.incomplete", SubscriptionItem),
        ("subscriptionItem.pastDue", SubscriptionItem),
        ("subscriptionItem.freeTrialEnding", SubscriptionItem),
        ("paymentAttempt.created", PaymentAttempt),
        ("paymentAttempt.updated", PaymentAttempt),
    ]
};

#[derive(Clone, Debug, PartialEq)]
pub struct ClerkEvent {
    pub kind: EventKind,
    /// Clerk's name for it (`user.created`), as the webhook log and hooks record it.
    name: String,
    /// The event's `data` payload.
    pub data: Value,
    /// The envelope's `timestamp` (Unix milliseconds): the version of Billing objects whose
    /// payload has no `updated_at`.
    pub timestamp: Option<i64>,
}

impl ClerkEvent {
    /// Clerk's name for a type the mirror handles, or `other`: a closed set, for metric labels.
    pub fn type_label(&self) -> &'static str {
        KNOWN.iter().find(|(name, _)| *name == self.name).map_or("other", |(name, _)| name)
    }

    pub fn parse(event_type: &str, data: Value) -> Self {
        let kind = KNOWN.iter().find(|(name, _)| *name == event_type).map_or(EventKind::Other, |(_, kind)| *kind);
        Self { kind, name: event_type.to_owned(), data, timestamp: None }
    }

    /// The same event, sent at `timestamp` (Unix milliseconds).
    pub fn at(self, timestamp: Option<i64>) -> Self {
        Self { timestamp, ..self }
    }

    /// Every type the mirror handles, by Clerk's name (for tests and the docs).
    pub fn handled() -> impl Iterator<Item = &'static str> {
        KNOWN.iter().map(|(name, _)| *name)
    }

    /// Clerk's name for it, as the webhook log and hooks record it.
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::{ClerkEvent, EventKind};

    #[test]
    fn every_handled_type_round_trips_and_others_keep_their_name() {
        for name in [
            "user.created",
            "user.updated",
            "user.deleted",
            "session.created",
            "session.ended",
            "session.removed",
            "session.revoked",
            "organization.created",
            "organization.updated",
            "organization.deleted",
            "organizationMembership.created",
            "organizationMembership.updated",
            "organizationMembership.deleted",
            "organizationInvitation.created",
            "organizationInvitation.accepted",
            "organizationInvitation.revoked",
            "email.created",
        ] {
            let event = ClerkEvent::parse(name, serde_json::json!({ "id": "x" }));
            assert_eq!(event.name(), name);
            assert_eq!(event.data["id"], "x");
            assert_eq!(event.kind == EventKind::Other, name == "email.created", "{name}");
        }
    }
}
