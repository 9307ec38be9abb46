-- Accounts signed in through an OpenID Connect provider: (issuer, subject) names one user.
CREATE TABLE auth.oidc_links (
    issuer text NOT NULL,
    subject text NOT NULL,
    user_id uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
