-- extends: professional
-- The enterprise plan adds an audit log and per-day profit-and-loss rollups for analytics.

-- Who did what to which resource, with the outcome. Append-only for the tenant role.
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    actor_user_id uuid,
    actor_session_id text,
    -- e.g. 'order.place', 'role.assign', 'cash.withdraw'.
    action text NOT NULL,
    -- The resource name acted on, e.g. 'orders/{id}'.
    resource text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
    request_id text,
    ip_address inet,
    user_agent text,
    details jsonb NOT NULL DEFAULT '{}',
    event_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_time ON audit_log (event_time, id);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, event_time);
CREATE INDEX audit_log_resource ON audit_log (resource, event_time);
GRANT SELECT, INSERT ON audit_log TO {role};

-- One row per portfolio and day, kept current as trades and prices arrive.
CREATE TABLE daily_pnl (
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    portfolio_id uuid NOT NULL REFERENCES portfolios (id),
    day date NOT NULL,
    realized_pnl numeric NOT NULL DEFAULT 0,
    unrealized_pnl numeric NOT NULL DEFAULT 0,
    turnover numeric NOT NULL DEFAULT 0 CHECK (turnover >= 0),
    fees numeric NOT NULL DEFAULT 0 CHECK (fees >= 0),
    trade_count integer NOT NULL DEFAULT 0 CHECK (trade_count >= 0),
    winning_trade_count integer NOT NULL DEFAULT 0 CHECK (winning_trade_count >= 0),
    losing_trade_count integer NOT NULL DEFAULT 0 CHECK (losing_trade_count >= 0),
    -- Equity at the open, close, high and low of the day, for drawdown.
    equity_open numeric,
    equity_close numeric,
    equity_high numeric,
    equity_low numeric,
    update_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (portfolio_id, day)
);
