-- Bookkeeping of tenant schemas (services/tenant/provisioning.py): the schema and role each
-- tenant has, the plan template it was created from, and the tenant-schema versions applied.
CREATE TABLE platform.tenant_schemas (
    -- No cascade: a tenant row goes only after drop_tenant_schema removed its schema and role.
    tenant_id uuid PRIMARY KEY REFERENCES platform.tenants (id),
    schema_name text NOT NULL UNIQUE,
    role_name text NOT NULL UNIQUE,
    -- The template (services/tenant/schema/templates/<plan>.sql) the schema was created from.
    plan text NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now()
);

-- One row per version (services/tenant/schema/versions/NNN_name.sql) a tenant's schema has;
-- a tenant's current version is its highest, 0 (the template alone) when it has none.
CREATE TABLE platform.tenant_schema_versions (
    tenant_id uuid NOT NULL REFERENCES platform.tenant_schemas (tenant_id) ON DELETE CASCADE,
    version integer NOT NULL CHECK (version > 0),
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, version)
);
