-- extends: base
-- The professional plan adds price alerts and the daily valuations historical analytics use.

CREATE TABLE price_alerts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    user_id uuid NOT NULL,
    symbol text NOT NULL,
    condition text NOT NULL CHECK (condition IN ('above', 'below')),
    threshold numeric NOT NULL CHECK (threshold > 0),
    state text NOT NULL DEFAULT 'armed' CHECK (state IN ('armed', 'triggered', 'canceled')),
    create_time timestamptz NOT NULL DEFAULT now(),
    trigger_time timestamptz,
    CHECK ((state = 'triggered') = (trigger_time IS NOT NULL))
);
-- What the price feed checks on every tick of a symbol.
CREATE INDEX price_alerts_armed ON price_alerts (symbol, threshold) WHERE state = 'armed';
CREATE INDEX price_alerts_user ON price_alerts (user_id, create_time);

-- A portfolio's valuation at a point in time (end of day, or on demand). Append-only.
CREATE TABLE portfolio_snapshots (
    tenant_id uuid NOT NULL DEFAULT current_setting('app.tenant_id')::uuid,
    portfolio_id uuid NOT NULL REFERENCES portfolios (id),
    snapshot_time timestamptz NOT NULL,
    cash_balance numeric NOT NULL,
    market_value numeric NOT NULL,
    equity numeric NOT NULL,
    realized_pnl numeric NOT NULL,
    unrealized_pnl numeric NOT NULL,
    PRIMARY KEY (portfolio_id, snapshot_time)
);
GRANT SELECT, INSERT ON portfolio_snapshots TO {role};
