-- Custom roles are named by a stable, client-chosen key (the id in "roles/{role_id}") that
-- users' role lists and tokens carry, and may build on a built-in role.
ALTER TABLE roles ADD COLUMN role_key text;
UPDATE roles SET role_key = 'r' || replace(id::text, '-', '') WHERE role_key IS NULL;
ALTER TABLE roles ALTER COLUMN role_key SET NOT NULL;
ALTER TABLE roles ADD CONSTRAINT roles_role_key_shape CHECK (role_key ~ '^[a-z][a-z0-9-]{1,62}$');
CREATE UNIQUE INDEX roles_role_key ON roles (role_key);
ALTER TABLE roles ADD COLUMN inherits text NOT NULL DEFAULT ''
    CHECK (inherits IN ('', 'viewer', 'trader', 'admin', 'owner'));
