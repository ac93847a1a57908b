-- A deleted membership keeps its row as a tombstone (with Clerk's updated_at), so that a late
-- organizationMembership.created cannot bring it back. Reads skip tombstones.
ALTER TABLE organization_memberships ADD COLUMN deleted_at TIMESTAMPTZ;
