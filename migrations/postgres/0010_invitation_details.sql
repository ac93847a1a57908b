-- Who sent an invitation (Clerk's inviter_id) and its public metadata, mirrored from Clerk.
ALTER TABLE organization_invitations ADD COLUMN inviter_id TEXT;
ALTER TABLE organization_invitations ADD COLUMN public_metadata JSONB NOT NULL DEFAULT '{}';
