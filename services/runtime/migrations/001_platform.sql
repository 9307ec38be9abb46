-- The platform schema shared by the services (DESIGN.md §3): tenants, users, credentials.
CREATE SCHEMA IF NOT EXISTS platform;

CREATE TABLE platform.tenants (
    id uuid PRIMARY KEY,
    display_name text NOT NULL,
    plan text NOT NULL CHECK (plan IN ('basic', 'professional', 'enterprise')),
    state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'deactivated')),
    -- Client-chosen key that makes CreateTenant retries return the first result.
    request_id text UNIQUE,
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenants_create_time_id ON platform.tenants (create_time, id);

CREATE TABLE platform.users (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES platform.tenants (id),
    email text NOT NULL,
    display_name text NOT NULL DEFAULT '',
    email_verified boolean NOT NULL DEFAULT false,
    roles text[] NOT NULL DEFAULT ARRAY['trader'],
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now()
);
-- Email is unique per tenant, compared case-insensitively.
CREATE UNIQUE INDEX users_tenant_email ON platform.users (tenant_id, lower(email));

CREATE TABLE platform.credentials (
    user_id uuid PRIMARY KEY REFERENCES platform.users (id) ON DELETE CASCADE,
    password_hash text NOT NULL,
    update_time timestamptz NOT NULL DEFAULT now()
);
