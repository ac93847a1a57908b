-- When the user's last Clerk session ended (session.ended, .removed or .revoked), as the
-- original package's last_logout. Only moves forward: session events arrive out of order.
ALTER TABLE users ADD COLUMN last_logout TEXT;
