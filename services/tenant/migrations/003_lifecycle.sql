-- Tenant lifecycle and per-tenant limit overrides (on top of the plan's defaults).
ALTER TABLE platform.tenants
    ADD COLUMN IF NOT EXISTS limits jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS deactivate_time timestamptz;
