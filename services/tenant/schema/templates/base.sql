-- The tables every plan has: portfolios and their cash ledger, orders, order events, trades,
-- positions, watchlists, preferences, activity, tenant-defined roles, idempotency keys and the
-- outbox of domain events.
--
-- Conventions for every template and version (provisioning.py refuses a table without
-- tenant_id, and adds the policy and default grants itself):
-- * It runs with search_path set to the tenant's schema, so names are unqualified; `{schema}`
--   and `{role}` are replaced by the schema and the tenant role where a name must be spelled.
-- * Every table has `tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid`;
--   provisioning enables row-level security on it with the policy `tenant_isolation`.
-- * A table the template grants nothing on gets SELECT, INSERT, UPDATE, DELETE for the tenant
--   role; a template narrows that by granting less itself (append-only tables below). Never
--   TRUNCATE, which row-level security does not cover.
-- * Money, prices and quantities are `numeric` (exact; the domain owns each instrument's
--   precision), times are `timestamptz`, enumerations are lower-case text with a CHECK.

CREATE TABLE portfolios (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    user_id uuid NOT NULL,
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    base_currency_code char(3) NOT NULL,
    state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'closed')),
    -- Running totals, changed in the same transaction as the ledger entry that explains them.
    cash_balance numeric NOT NULL DEFAULT 0,
    -- Cash held back for open buy orders (the sum of orders.reserved_cash).
    reserved_cash numeric NOT NULL DEFAULT 0 CHECK (reserved_cash >= 0),
    realized_pnl numeric NOT NULL DEFAULT 0,
    -- Incremented on every update, for optimistic concurrency.
    version bigint NOT NULL DEFAULT 1,
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now(),
    close_time timestamptz,
    CHECK ((state = 'closed') = (close_time IS NOT NULL))
);
CREATE INDEX portfolios_user ON portfolios (user_id, create_time, id);

CREATE TABLE orders (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    portfolio_id uuid NOT NULL REFERENCES portfolios (id),
    user_id uuid NOT NULL,
    -- The client's id; a retried placement finds the first order by it.
    client_order_id text NOT NULL CHECK (length(client_order_id) BETWEEN 1 AND 64),
    venue_order_id text,
    symbol text NOT NULL,
    side text NOT NULL CHECK (side IN ('buy', 'sell')),
    order_type text NOT NULL CHECK (order_type IN ('market', 'limit', 'stop', 'stop_limit')),
    time_in_force text NOT NULL DEFAULT 'day'
        CHECK (time_in_force IN ('day', 'gtc', 'ioc', 'fok')),
    quantity numeric NOT NULL CHECK (quantity > 0),
    limit_price numeric CHECK (limit_price > 0),
    stop_price numeric CHECK (stop_price > 0),
    status text NOT NULL DEFAULT 'new' CHECK (status IN (
        'new', 'accepted', 'partially_filled', 'filled', 'canceled', 'rejected', 'expired')),
    filled_quantity numeric NOT NULL DEFAULT 0
        CHECK (filled_quantity >= 0 AND filled_quantity <= quantity),
    average_fill_price numeric CHECK (average_fill_price > 0),
    fees numeric NOT NULL DEFAULT 0 CHECK (fees >= 0),
    -- Cash this order holds back while open (buy orders); zero once closed.
    reserved_cash numeric NOT NULL DEFAULT 0 CHECK (reserved_cash >= 0),
    currency_code char(3) NOT NULL,
    -- An error reason such as INSUFFICIENT_FUNDS, for rejected orders.
    reject_reason text,
    version bigint NOT NULL DEFAULT 1,
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now(),
    expire_time timestamptz,
    UNIQUE (portfolio_id, client_order_id),
    CHECK ((order_type IN ('limit', 'stop_limit')) = (limit_price IS NOT NULL)),
    CHECK ((order_type IN ('stop', 'stop_limit')) = (stop_price IS NOT NULL)),
    CHECK (status <> 'rejected' OR reject_reason IS NOT NULL)
);
-- Working orders: what the engine matches per symbol and CancelAllOrders walks.
CREATE INDEX orders_open ON orders (symbol, create_time)
    WHERE status IN ('new', 'accepted', 'partially_filled');
CREATE INDEX orders_portfolio_time ON orders (portfolio_id, create_time DESC, id DESC);
CREATE INDEX orders_user_time ON orders (user_id, create_time DESC, id DESC);

-- Fills. Append-only: a trade is never changed once recorded.
CREATE TABLE trades (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    order_id uuid NOT NULL REFERENCES orders (id),
    portfolio_id uuid NOT NULL REFERENCES portfolios (id),
    venue_trade_id text,
    symbol text NOT NULL,
    side text NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity numeric NOT NULL CHECK (quantity > 0),
    price numeric NOT NULL CHECK (price > 0),
    notional numeric NOT NULL CHECK (notional >= 0),
    fee numeric NOT NULL DEFAULT 0 CHECK (fee >= 0),
    -- Zero for fills that add to a position.
    realized_pnl numeric NOT NULL DEFAULT 0,
    currency_code char(3) NOT NULL,
    trade_time timestamptz NOT NULL,
    record_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trades_portfolio_time ON trades (portfolio_id, trade_time, id);
CREATE INDEX trades_order ON trades (order_id);
GRANT SELECT, INSERT ON trades TO {role};

-- Every movement of a portfolio's cash. Append-only: corrections are new entries.
CREATE TABLE cash_ledger_entries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    portfolio_id uuid NOT NULL REFERENCES portfolios (id),
    -- Booking order; balance_after follows it.
    sequence bigint GENERATED ALWAYS AS IDENTITY,
    entry_type text NOT NULL
        CHECK (entry_type IN ('deposit', 'withdrawal', 'trade', 'fee', 'adjustment')),
    -- Signed: positive adds cash, negative removes it.
    amount numeric NOT NULL CHECK (amount <> 0),
    balance_after numeric NOT NULL,
    currency_code char(3) NOT NULL,
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    order_id uuid REFERENCES orders (id),
    trade_id uuid REFERENCES trades (id),
    create_time timestamptz NOT NULL DEFAULT now(),
    CHECK (CASE entry_type WHEN 'deposit' THEN amount > 0
                           WHEN 'withdrawal' THEN amount < 0
                           WHEN 'fee' THEN amount < 0
                           WHEN 'trade' THEN trade_id IS NOT NULL
                           ELSE true END)
);
CREATE INDEX cash_ledger_entries_portfolio ON cash_ledger_entries (portfolio_id, sequence);
GRANT SELECT, INSERT ON cash_ledger_entries TO {role};

-- What happened to each order, in order. Append-only.
CREATE TABLE order_events (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    order_id uuid NOT NULL REFERENCES orders (id),
    sequence bigint GENERATED ALWAYS AS IDENTITY,
    event_type text NOT NULL CHECK (event_type IN (
        'submitted', 'accepted', 'rejected', 'filled', 'canceled', 'cancel_rejected',
        'replaced', 'replace_rejected', 'expired')),
    trade_id uuid REFERENCES trades (id),
    reason text,
    -- The order as it was right after the event.
    order_snapshot jsonb NOT NULL,
    -- When it happened in the engine, and when it was recorded here.
    event_time timestamptz NOT NULL,
    record_time timestamptz NOT NULL DEFAULT now(),
    CHECK ((event_type = 'filled') = (trade_id IS NOT NULL))
);
CREATE INDEX order_events_order ON order_events (order_id, sequence);
GRANT SELECT, INSERT ON order_events TO {role};

-- Holdings: one row per portfolio and instrument, long only (zero is flat).
CREATE TABLE positions (
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    portfolio_id uuid NOT NULL REFERENCES portfolios (id),
    symbol text NOT NULL,
    quantity numeric NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    -- Per unit, fees included.
    average_cost numeric NOT NULL DEFAULT 0 CHECK (average_cost >= 0),
    cost_basis numeric NOT NULL DEFAULT 0 CHECK (cost_basis >= 0),
    realized_pnl numeric NOT NULL DEFAULT 0,
    -- When the position was last opened from flat; null while flat.
    open_time timestamptz,
    update_time timestamptz NOT NULL DEFAULT now(),
    version bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (portfolio_id, symbol)
);

CREATE TABLE watchlists (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    user_id uuid NOT NULL,
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, display_name)
);

CREATE TABLE watchlist_items (
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    watchlist_id uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
    symbol text NOT NULL,
    -- Display order within the watchlist.
    position integer NOT NULL DEFAULT 0,
    add_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (watchlist_id, symbol)
);

-- One settings document per user; version is compared on update.
CREATE TABLE preferences (
    user_id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    version bigint NOT NULL DEFAULT 1,
    settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    update_time timestamptz NOT NULL DEFAULT now()
);

-- A user's activity feed (sign-ins, profile and preference changes, orders, cash). Append-only.
CREATE TABLE activities (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    user_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN (
        'login', 'login_failed', 'logout', 'password_changed', 'mfa_changed',
        'profile_updated', 'preferences_updated', 'roles_changed', 'order', 'cash')),
    description text NOT NULL DEFAULT '',
    ip_address inet,
    user_agent text NOT NULL DEFAULT '',
    session_id text,
    attributes jsonb NOT NULL DEFAULT '{}',
    create_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activities_user_time ON activities (user_id, create_time DESC, id DESC);
GRANT SELECT, INSERT ON activities TO {role};

-- Roles the tenant defines for its users, with their permissions (system ones are built in).
CREATE TABLE roles (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '',
    permissions text[] NOT NULL DEFAULT '{}',
    system boolean NOT NULL DEFAULT false,
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX roles_display_name ON roles (lower(display_name));

-- The first response to each mutating request id, so a retry returns it instead of acting twice.
CREATE TABLE idempotency_keys (
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    method text NOT NULL,
    request_id text NOT NULL CHECK (length(request_id) BETWEEN 1 AND 128),
    -- A retry whose request differs from the first is refused rather than answered.
    request_hash bytea NOT NULL,
    response bytea,
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, request_id)
);
-- Expiry sweeps delete the oldest keys.
CREATE INDEX idempotency_keys_create_time ON idempotency_keys (create_time);

-- Domain events written in the transaction that caused them; a relay publishes them in id
-- order (to Redis streams) and stamps publish_time.
CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    event_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    aggregate_type text NOT NULL,
    aggregate_id text NOT NULL,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    occur_time timestamptz NOT NULL DEFAULT now(),
    publish_time timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE publish_time IS NULL;
