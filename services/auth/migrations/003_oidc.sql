-- Accounts signed in through an OpenID Connect provider: within a tenant, (issuer, subject)
-- names one user; the same person may hold accounts in several tenants.
CREATE TABLE auth.oidc_links (
    tenant_id uuid NOT NULL,
    issuer text NOT NULL,
    subject text NOT NULL,
    user_id uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, issuer, subject)
);
