-- A local-only profile field: the worked example of data Clerk does not own.
ALTER TABLE users ADD COLUMN bio TEXT NOT NULL DEFAULT '';
