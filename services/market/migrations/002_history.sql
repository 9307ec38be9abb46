-- Price history: every recorded quote, and the 1-minute OHLCV bars folded from them.
--
-- Both tables are range-partitioned by time into UTC days (native declarative partitioning);
-- the service creates each day's partitions ahead and drops the ones past retention
-- (services/market/history.py), so expiring a day is a DROP TABLE, not a mass DELETE.
-- Where the TimescaleDB extension is installed and preloaded, the same tables become
-- hypertables with daily chunks instead, and retention drops chunks.
DO $$
DECLARE
    timescale boolean := EXISTS (
            SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
        AND current_setting('shared_preload_libraries') ~ 'timescaledb';
BEGIN
    EXECUTE format($sql$
        CREATE TABLE market.quotes (
            symbol text NOT NULL,
            quote_time timestamptz NOT NULL,
            -- The feed's per-symbol sequence; it restarts with the feed, so it is not a key.
            sequence bigint NOT NULL,
            bid numeric NOT NULL,
            ask numeric NOT NULL,
            bid_size numeric NOT NULL,
            ask_size numeric NOT NULL,
            last numeric NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now()
        ) %s$sql$, CASE WHEN timescale THEN '' ELSE 'PARTITION BY RANGE (quote_time)' END);

    EXECUTE format($sql$
        CREATE TABLE market.bars_1m (
            symbol text NOT NULL,
            start_time timestamptz NOT NULL,
            open numeric NOT NULL,
            high numeric NOT NULL,
            low numeric NOT NULL,
            close numeric NOT NULL,
            volume numeric NOT NULL,
            -- Sum of price * size: VWAP is turnover / volume, and sums merge exactly.
            turnover numeric NOT NULL,
            trade_count bigint NOT NULL,
            -- Times of the opening and closing prints, so partial bars merge in any order.
            first_time timestamptz NOT NULL,
            last_time timestamptz NOT NULL,
            PRIMARY KEY (symbol, start_time)
        ) %s$sql$, CASE WHEN timescale THEN '' ELSE 'PARTITION BY RANGE (start_time)' END);

    IF timescale THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        PERFORM create_hypertable('market.quotes', by_range('quote_time', INTERVAL '1 day'));
        PERFORM create_hypertable('market.bars_1m', by_range('start_time', INTERVAL '1 day'));
    END IF;
END
$$;

CREATE INDEX quotes_symbol_time ON market.quotes (symbol, quote_time);
