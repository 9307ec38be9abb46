-- The transactional mail outbox (services/auth/mail.py). A mail is inserted in the same
-- transaction as the change that causes it, so an acknowledged registration always has its
-- verification mail queued; the MailSender delivers it over SMTP, or holds it in the outbox
-- when no SMTP server is configured (the embedded default). Independent of 001.
CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE IF NOT EXISTS auth.outbox_mail (
    id uuid PRIMARY KEY,
    -- No foreign key: the outbox is a delivery log and must not block deleting a tenant.
    tenant_id uuid NOT NULL,
    recipient text NOT NULL,
    subject text NOT NULL,
    -- Holds the token of a verification or reset mail; emptied once the mail left the queue
    -- (sent or failed), kept while it is queued or held.
    body_text text NOT NULL,
    kind text NOT NULL CHECK (kind IN (
        'email_verification', 'password_reset', 'security_notice', 'account_locked')),
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'held')),
    create_time timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Not before this time: the retry backoff, and the lease of a sender working on it.
    send_after timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    sent_time timestamptz
);

-- What the senders claim: queued mail in due order.
CREATE INDEX IF NOT EXISTS outbox_mail_due
    ON auth.outbox_mail (send_after, id) WHERE status = 'queued';
-- Listing, newest first, across tenants or within one.
CREATE INDEX IF NOT EXISTS outbox_mail_newest ON auth.outbox_mail (create_time DESC, id DESC);
CREATE INDEX IF NOT EXISTS outbox_mail_tenant_newest
    ON auth.outbox_mail (tenant_id, create_time DESC, id DESC);
