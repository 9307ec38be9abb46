-- The user service's columns on platform.users: the profile a user edits (UpdateUser), and what
-- the activity consumer projects from domain events (last sign-in, whether MFA is on).
-- Defaults keep the inserts of the auth and tenant services valid without knowing them.
ALTER TABLE platform.users
    ADD COLUMN IF NOT EXISTS contact_phone text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS locale text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS time_zone text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS avatar_url text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS last_login_time timestamptz,
    ADD COLUMN IF NOT EXISTS mfa_enabled boolean NOT NULL DEFAULT false,
    -- The time of the MFA event mfa_enabled comes from, so events applied late never win.
    ADD COLUMN IF NOT EXISTS mfa_change_time timestamptz;
