-- Pre-trade risk limits per tenant plan; operators tune them here.
CREATE TABLE trading.risk_policies (
    plan text PRIMARY KEY CHECK (plan IN ('basic', 'professional', 'enterprise')),
    -- Largest order, and largest position per symbol, by notional; 0 means no limit.
    max_order_notional numeric NOT NULL CHECK (max_order_notional >= 0),
    max_position_notional numeric NOT NULL CHECK (max_position_notional >= 0),
    -- How far (basis points) a limit price may be from the last price, and how far a market
    -- or stop order may fill beyond its starting price.
    collar_bps numeric NOT NULL CHECK (collar_bps > 0),
    allow_short boolean NOT NULL
);

INSERT INTO trading.risk_policies VALUES
    ('basic', 100000, 250000, 1000, false),
    ('professional', 1000000, 5000000, 1000, false),
    ('enterprise', 10000000, 50000000, 1000, true);
