-- Commission schedule per tenant plan, used to estimate and (issue 6) charge fees.
CREATE SCHEMA IF NOT EXISTS trading;

CREATE TABLE trading.fee_schedules (
    plan text PRIMARY KEY CHECK (plan IN ('basic', 'professional', 'enterprise')),
    -- Commission in basis points of notional, and the minimum per order.
    rate_bps numeric NOT NULL CHECK (rate_bps >= 0),
    minimum_fee numeric NOT NULL CHECK (minimum_fee >= 0),
    currency_code char(3) NOT NULL DEFAULT 'USD'
);

INSERT INTO trading.fee_schedules (plan, rate_bps, minimum_fee) VALUES
    ('basic', 10, 1.00),
    ('professional', 5, 0.50),
    ('enterprise', 2, 0.00);
