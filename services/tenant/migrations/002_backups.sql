-- The catalogue of tenant backups; the archives themselves live in object storage
-- (services/tenant/backup.py). A row is written before the archive and completed after it.
CREATE TABLE platform.tenant_backups (
    id uuid PRIMARY KEY,
    -- No cascade: a tenant's archives are removed with its catalogue rows (BackupService.purge).
    tenant_id uuid NOT NULL REFERENCES platform.tenants (id),
    kind text NOT NULL CHECK (kind IN ('manual', 'scheduled')),
    state text NOT NULL DEFAULT 'creating' CHECK (state IN ('creating', 'ready', 'failed')),
    description text NOT NULL DEFAULT '',
    -- Client-chosen key that makes CreateBackup retries return the first backup.
    request_id text,
    -- The schema the dump was taken from, and the archive's place in the object store.
    schema_name text NOT NULL,
    object_key text NOT NULL,
    storage_uri text NOT NULL,
    format_version integer NOT NULL,
    size_bytes bigint NOT NULL DEFAULT 0,
    row_count bigint NOT NULL DEFAULT 0,
    -- Hex SHA-256 of the stored archive, checked before every restore.
    sha256 text NOT NULL DEFAULT '',
    -- Tables with their columns and row counts, and sequence values.
    manifest jsonb NOT NULL DEFAULT '{}',
    error text NOT NULL DEFAULT '',
    create_time timestamptz NOT NULL DEFAULT now(),
    complete_time timestamptz,
    UNIQUE (tenant_id, request_id)
);
-- Listing newest first, pruning, the health report's last backup, and the daily schedule.
CREATE INDEX tenant_backups_tenant_time ON platform.tenant_backups
    (tenant_id, create_time DESC, id DESC);
