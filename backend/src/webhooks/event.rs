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

#[derive(Clone, Debug, PartialEq)]
pub enum ClerkEvent {
    User(Change, Value),
    SessionCreated(Value),
    SessionEnded(SessionEnd, Value),
    Organization(Change, Value),
    Membership(Change, Value),
    Invitation(InvitationStep, Value),
    /// A type the mirror does not handle, by its name.
    Other {
        event_type: String,
        data: Value,
    },
}

impl ClerkEvent {
    pub fn parse(event_type: &str, data: Value) -> Self {
        use Change::*;
        match event_type {
            "user.created" => Self::User(Created, data),
            "user.updated" => Self::User(Updated, data),
            "user.deleted" => Self::User(Deleted, data),
            "session.created" => Self::SessionCreated(data),
            "session.ended" => Self::SessionEnded(SessionEnd::Ended, data),
            "session.removed" => Self::SessionEnded(SessionEnd::Removed, data),
            "session.revoked" => Self::SessionEnded(SessionEnd::Revoked, data),
            "organization.created" => Self::Organization(Created, data),
            "organization.updated" => Self::Organization(Updated, data),
            "organization.deleted" => Self::Organization(Deleted, data),
            "organizationMembership.created" => Self::Membership(Created, data),
            "organizationMembership.updated" => Self::Membership(Updated, data),
            "organizationMembership.deleted" => Self::Membership(Deleted, data),
            "organizationInvitation.created" => Self::Invitation(InvitationStep::Created, data),
            "organizationInvitation.accepted" => Self::Invitation(InvitationStep::Accepted, data),
            "organizationInvitation.revoked" => Self::Invitation(InvitationStep::Revoked, data),
            other => Self::Other { event_type: other.to_owned(), data },
        }
    }

    /// Clerk's name for it, as the webhook log and hooks record it.
    pub fn name(&self) -> &str {
        use Change::*;
        match self {
            Self::User(Created, _) => "user.created",
            Self::User(Updated, _) => "user.updated",
            Self::User(Deleted, _) => "user.deleted",
            Self::SessionCreated(_) => "session.created",
            Self::SessionEnded(SessionEnd::Ended, _) => "session.ended",
            Self::SessionEnded(SessionEnd::Removed, _) => "session.removed",
            Self::SessionEnded(SessionEnd::Revoked, _) => "session.revoked",
            Self::Organization(Created, _) => "organization.created",
            Self::Organization(Updated, _) => "organization.updated",
            Self::Organization(Deleted, _) => "organization.deleted",
            Self::Membership(Created, _) => "organizationMembership.created",
            Self::Membership(Updated, _) => "organizationMembership.updated",
            Self::Membership(Deleted, _) => "organizationMembership.deleted",
            Self::Invitation(InvitationStep::Created, _) => "organizationInvitation.created",
            Self::Invitation(InvitationStep::Accepted, _) => "organizationInvitation.accepted",
            Self::Invitation(InvitationStep::Revoked, _) => "organizationInvitation.revoked",
            Self::Other { event_type, .. } => event_type,
        }
    }

    /// The event's `data` payload, taken out.
    pub fn into_data(self) -> Value {
        match self {
            Self::User(_, data)
            | Self::SessionCreated(data)
            | Self::SessionEnded(_, data)
            | Self::Organization(_, data)
            | Self::Membership(_, data)
            | Self::Invitation(_, data)
            | Self::Other { data, .. } => data,
        }
    }

    /// The event's `data` payload.
    pub fn data(&self) -> &Value {
        match self {
            Self::User(_, data)
            | Self::SessionCreated(data)
            | Self::SessionEnded(_, data)
            | Self::Organization(_, data)
            | Self::Membership(_, data)
            | Self::Invitation(_, data)
            | Self::Other { data, .. } => data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ClerkEvent;

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
            assert_eq!(event.data()["id"], "x");
        }
        assert!(matches!(ClerkEvent::parse("email.created", serde_json::json!({})), ClerkEvent::Other { .. }));
    }
}
