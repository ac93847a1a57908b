-- A membership's public metadata, mirrored from Clerk like the user's and organization's.
ALTER TABLE organization_memberships ADD COLUMN public_metadata JSONB NOT NULL DEFAULT '{}';
