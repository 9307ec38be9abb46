-- The instrument catalogue, seeded with the symbols the simulated venue quotes.
CREATE SCHEMA IF NOT EXISTS market;

CREATE TABLE market.instruments (
    symbol text PRIMARY KEY,
    name text NOT NULL,
    asset_class text NOT NULL CHECK (asset_class IN ('equity', 'etf', 'crypto', 'fx')),
    exchange text NOT NULL,
    currency_code char(3) NOT NULL,
    tick_size numeric NOT NULL CHECK (tick_size > 0),
    lot_size numeric NOT NULL CHECK (lot_size > 0),
    -- Where the simulated feed starts its random walk.
    reference_price numeric NOT NULL CHECK (reference_price > 0),
    status text NOT NULL DEFAULT 'active'
);

INSERT INTO market.instruments
    (symbol, name, asset_class, exchange, currency_code, tick_size, lot_size, reference_price)
VALUES
    ('AAPL', 'Apple Inc.', 'equity', 'XNAS', 'USD', 0.01, 1, 189.50),
    ('MSFT', 'Microsoft Corporation', 'equity', 'XNAS', 'USD', 0.01, 1, 415.20),
    ('GOOGL', 'Alphabet Inc. Class A', 'equity', 'XNAS', 'USD', 0.01, 1, 171.30),
    ('AMZN', 'Amazon.com Inc.', 'equity', 'XNAS', 'USD', 0.01, 1, 183.10),
    ('TSLA', 'Tesla Inc.', 'equity', 'XNAS', 'USD', 0.01, 1, 242.80),
    ('NVDA', 'NVIDIA Corporation', 'equity', 'XNAS', 'USD', 0.01, 1, 121.40),
    ('SPY', 'SPDR S&P 500 ETF Trust', 'etf', 'ARCX', 'USD', 0.01, 1, 548.90),
    ('BTC-USD', 'Bitcoin / US Dollar', 'crypto', 'SIMX', 'USD', 0.01, 0.0001, 67250.00);
