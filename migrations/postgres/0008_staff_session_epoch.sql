-- Bumped whenever a staff account's credentials or access shrink (password reset, deactivation,
-- demotion). A staff session remembers the value it logged in under and ends once it differs,
-- so a reactivated account does not bring old sessions back.
ALTER TABLE users ADD COLUMN staff_epoch BIGINT NOT NULL DEFAULT 0;
