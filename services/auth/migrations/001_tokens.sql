-- Auth's own tables: signing keys, refresh tokens, one-time tokens, MFA, lockouts, attempts.
CREATE SCHEMA IF NOT EXISTS auth;

-- JWT signing keys. A key is published (JWKS) before it signs and after it stops signing,
-- until the last token it signed has expired.
CREATE TABLE auth.signing_keys (
    kid text PRIMARY KEY,
    algorithm text NOT NULL,
    public_jwk jsonb NOT NULL,
    private_key bytea NOT NULL,          -- PKCS8, encrypted with the auth master key
    create_time timestamptz NOT NULL DEFAULT now(),
    activate_time timestamptz NOT NULL,  -- signs from here on
    retire_time timestamptz              -- signs no more from here on
);

-- Opaque refresh tokens, stored as SHA-256 only; rotated on every use.
CREATE TABLE auth.refresh_tokens (
    id uuid PRIMARY KEY,
    family_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL,
    session_id text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    create_time timestamptz NOT NULL DEFAULT now(),
    expire_time timestamptz NOT NULL,
    used_time timestamptz,
    revoked_time timestamptz
);
CREATE INDEX refresh_tokens_family ON auth.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON auth.refresh_tokens (user_id);

-- Single-use, expiring tokens mailed to users (email verification, password reset).
CREATE TABLE auth.one_time_tokens (
    token_hash bytea PRIMARY KEY,
    purpose text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    user_id uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now(),
    expire_time timestamptz NOT NULL,
    used_time timestamptz
);

-- Failed-login state per account: progressive delay, then a lock with a retry time.
CREATE TABLE auth.lockouts (
    user_id uuid PRIMARY KEY REFERENCES platform.users (id) ON DELETE CASCADE,
    failed_count integer NOT NULL DEFAULT 0,
    last_failure_time timestamptz,
    locked_until timestamptz
);

-- Every login attempt, for audit: who, from where, with what outcome.
CREATE TABLE auth.login_attempts (
    id bigserial PRIMARY KEY,
    tenant_id uuid,
    email text NOT NULL,
    user_id uuid,
    ip_address text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    success boolean NOT NULL,
    reason text NOT NULL DEFAULT '',
    attempt_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_user_time ON auth.login_attempts (user_id, attempt_time);

-- TOTP second factor and its single-use recovery codes.
CREATE TABLE auth.mfa (
    user_id uuid PRIMARY KEY REFERENCES platform.users (id) ON DELETE CASCADE,
    secret bytea NOT NULL,               -- encrypted with the auth master key
    enabled boolean NOT NULL DEFAULT false,
    last_used_step bigint NOT NULL DEFAULT 0,  -- a TOTP code is accepted once
    create_time timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE auth.recovery_codes (
    user_id uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_time timestamptz,
    PRIMARY KEY (user_id, code_hash)
);
