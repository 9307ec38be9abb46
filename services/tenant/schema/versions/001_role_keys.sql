-- Custom roles are named by a stable key (the id in "roles/{role_id}") that users' role lists
-- and tokens carry, and may build on a built-in role. Rows written without a key get one.
ALTER TABLE roles ADD COLUMN role_key text NOT NULL
    DEFAULT 'r' || replace(gen_random_uuid()::text, '-', '')
    CHECK (role_key ~ '^[a-z][a-z0-9-]{1,62}$');
CREATE UNIQUE INDEX roles_role_key ON roles (role_key);
ALTER TABLE roles ADD COLUMN inherits text NOT NULL DEFAULT ''
    CHECK (inherits IN ('', 'viewer', 'trader', 'admin', 'owner'));
