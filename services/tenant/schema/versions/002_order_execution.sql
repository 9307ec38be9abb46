-- What the trading engine keeps per order to rebuild its books after a restart, and signed
-- positions for plans that allow short selling (the domain enforces which plans may).
ALTER TABLE orders
    -- The worst price a market or stop order may fill at (its price protection).
    ADD COLUMN protection_price numeric CHECK (protection_price > 0),
    -- Whether a stop order's stop price has been reached.
    ADD COLUMN triggered boolean NOT NULL DEFAULT false,
    -- Time priority in the book: creation, or the last change that lost priority.
    ADD COLUMN priority_time timestamptz,
    -- The figures behind a rejection (required, available, ...), replayed to retries.
    ADD COLUMN reject_details jsonb;
-- Orders placed today, for the plan's daily order limit.
CREATE INDEX orders_create_time ON orders (create_time);

ALTER TABLE positions DROP CONSTRAINT positions_quantity_check;
ALTER TABLE positions DROP CONSTRAINT positions_cost_basis_check;
