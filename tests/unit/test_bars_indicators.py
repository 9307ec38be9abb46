"""Tests for bar aggregation and roll-up, the indicators, and replay-file parsing."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from tradesage.market.v1 import market_resources_pb2 as pb
from tradesage.market.v1 import market_service_pb2 as api

from services.market.domain.bars import Bar, Interval, Tick, aggregate, bucket_start, roll_up
from services.market.domain.indicators import (
    Indicator,
    Parameters,
    compute,
    session_vwap,
    warm_up_bars,
)
from services.market.domain.quotes import Instrument, Quote
from services.market.history_servicer import MAX_RANGE_BARS, HistoryRpcs
from services.market.replay import SAMPLE_FILE, ReplayFeed, load, parse_csv, sample_csv
from services.runtime.errors import InvalidArgument, NotFound

T0 = 1_767_623_400_000  # 2026-01-05T14:30:00Z, a minute boundary
MINUTE = 60_000
D = Decimal


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _tick(offset_ms: int, price: str, size: str = "1", symbol: str = "AAPL") -> Tick:
    return Tick(symbol, T0 + offset_ms, D(price), D(size))


def _random_ticks(count: int, seed: int, span_ms: int) -> list[Tick]:
    rng = random.Random(seed)
    times = sorted(rng.randrange(span_ms) for _ in range(count))
    return [Tick(rng.choice(["AAPL", "MSFT"]), T0 + t, D(rng.randint(9_000, 11_000)) / 100,
                 D(rng.randint(1, 500))) for t in times]


def _direct_bars(ticks: list[Tick], interval: Interval, zone: str = "UTC") -> list[Bar]:
    """Compute bars straight from ticks, without going through 1-minute bars."""
    groups: dict[tuple[str, int], list[Tick]] = defaultdict(list)
    for tick in ticks:
        groups[(tick.symbol, bucket_start(tick.time_ms, interval, zone))].append(tick)
    return [Bar(symbol, start, g[0].price, max(t.price for t in g), min(t.price for t in g),
                g[-1].price, sum((t.size for t in g), D(0)),
                sum((t.price * t.size for t in g), D(0)), len(g), g[0].time_ms, g[-1].time_ms)
            for (symbol, start), g in sorted(groups.items())]


def _bars(closes: list[str | float], start_ms: int = T0, step: int = MINUTE) -> list[Bar]:
    return [Bar("X", start_ms + n * step, D(str(c)), D(str(c)), D(str(c)), D(str(c)), D(1),
                D(str(c)), 1, start_ms + n * step, start_ms + n * step)
            for n, c in enumerate(closes)]


def _scalars(values: list) -> list[Decimal | None]:
    return [None if v is None else v[0] for v in values]


# Bars


def test_ticks_fold_into_minute_bars():
    ticks = [_tick(1_000, "100.10", "5"), _tick(20_000, "100.50", "1"),
             _tick(30_000, "99.90", "2"), _tick(59_999, "100.00", "2"),
             _tick(60_000, "100.20", "3")]

    first, second = aggregate(ticks)

    assert (first.start_ms, first.open, first.high, first.low, first.close) == (
        T0, D("100.10"), D("100.50"), D("99.90"), D("100.00"))
    assert (first.volume, first.trade_count) == (D(10), 4)
    # (100.10*5 + 100.50 + 99.90*2 + 100.00*2) / 10 = 1000.80 / 10
    assert first.vwap == D("100.080000")
    assert (second.start_ms, second.open, second.close, second.volume) == (
        T0 + MINUTE, D("100.20"), D("100.20"), D(3))


def test_partial_bars_merge_to_the_same_bar_in_any_order():
    ticks = _random_ticks(400, seed=5, span_ms=10 * MINUTE)
    whole = aggregate(ticks)
    rng = random.Random(9)
    cuts = sorted(rng.sample(range(1, len(ticks)), 12))
    batches = [aggregate(ticks[a:b]) for a, b in zip([0, *cuts], [*cuts, len(ticks)],
                                                       strict=True)]
    rng.shuffle(batches)
    merged: dict[tuple[str, int], Bar] = {}
    for bar in (b for batch in batches for b in batch):
        key = (bar.symbol, bar.start_ms)
        merged[key] = merged[key].merge(bar) if key in merged else bar

    assert [merged[k] for k in sorted(merged)] == whole


@pytest.mark.parametrize("interval", [Interval.FIVE_MINUTES, Interval.FIFTEEN_MINUTES,
                                      Interval.ONE_HOUR, Interval.ONE_DAY])
def test_roll_up_equals_a_direct_computation_from_ticks(interval):
    ticks = _random_ticks(3_000, seed=11, span_ms=3 * 24 * 60 * MINUTE)

    rolled = roll_up(aggregate(ticks), interval, "America/New_York")

    assert rolled == _direct_bars(ticks, interval, "America/New_York")


def test_intraday_buckets_align_to_the_clock():
    assert bucket_start(_ms("2026-01-05T14:37:59.999+00:00"), Interval.FIVE_MINUTES) == _ms(
        "2026-01-05T14:35:00+00:00")
    assert bucket_start(_ms("2026-01-05T14:59:00+00:00"), Interval.ONE_HOUR) == _ms(
        "2026-01-05T14:00:00+00:00")


def test_days_start_at_local_midnight_across_daylight_saving():
    # The US moved to daylight time on 2026-03-08: that New York day lasts 23 hours.
    sunday = bucket_start(_ms("2026-03-08T12:00:00+00:00"), Interval.ONE_DAY, "America/New_York")
    monday = bucket_start(_ms("2026-03-09T12:00:00+00:00"), Interval.ONE_DAY, "America/New_York")

    assert sunday == _ms("2026-03-08T05:00:00+00:00")
    assert monday == _ms("2026-03-09T04:00:00+00:00")
    assert bucket_start(_ms("2026-03-08T03:00:00+00:00"), Interval.ONE_DAY, "UTC") == _ms(
        "2026-03-08T00:00:00+00:00")


# Indicators: hand-computed small series


def test_sma_of_a_small_series():
    values = compute(Indicator.SMA, Parameters(period=3).resolved(Indicator.SMA),
                     _bars([1, 2, 3, 4, 6]), places=6)

    assert _scalars(values) == [None, None, D("2.000000"), D("3.000000"), D("4.333333")]


def test_ema_is_seeded_with_the_sma_then_smoothed():
    # alpha = 2 / (3 + 1) = 0.5; seed SMA(10, 11, 12) = 11; then 11 + 0.5 * (13 - 11) = 12,
    # then 12 + 0.5 * (10 - 12) = 11.
    values = compute(Indicator.EMA, Parameters(period=3).resolved(Indicator.EMA),
                     _bars([10, 11, 12, 13, 10]), places=4)

    assert _scalars(values) == [None, None, D("11.0000"), D("12.0000"), D("11.0000")]


def test_bollinger_bands_use_the_population_deviation():
    # Mean 2, population deviation sqrt(2/3) = 0.81649658..., bands 2 +/- 1.63299316...
    values = compute(Indicator.BOLLINGER_BANDS,
                     Parameters(period=3, std_dev_multiplier="2").resolved(
                         Indicator.BOLLINGER_BANDS), _bars([1, 2, 3]), places=6)

    assert values[2] == (D("3.632993"), D("2.000000"), D("0.367007"))


def test_macd_of_a_straight_line_is_the_lag_difference():
    # An EMA of n periods seeded with an SMA trails a straight line by exactly (n - 1) / 2
    # steps, so on closes 1, 2, 3, ... MACD(12, 26) = 12.5 - 5.5 = 7 and, being constant, its
    # 9-period signal is 7 too, leaving a zero histogram.
    parameters = Parameters().resolved(Indicator.MACD)
    values = compute(Indicator.MACD, parameters, _bars(list(range(1, 61))), places=6)

    assert values[32] is None
    assert set(values[33:]) == {(D("7.000000"), D("7.000000"), D("0.000000"))}


# Wilder's RSI on the 14-period worked example published by StockCharts ChartSchool ("Relative
# Strength Index (RSI)", spreadsheet cs-rsi.xls): 33 daily closes of a stock in late 2009 and
# early 2010, and the RSI it lists from the 15th close on. The spreadsheet rounds the running
# average gain and loss at each step, so its RSI drifts up to 0.07 from the exact value.
WILDER_CLOSES = ["44.34", "44.09", "44.15", "43.61", "44.33", "44.83", "45.10", "45.42",
                 "45.84", "46.08", "45.89", "46.03", "45.61", "46.28", "46.28", "46.00",
                 "46.03", "46.41", "46.22", "45.64", "46.21", "46.25", "45.71", "46.45",
                 "45.78", "45.35", "44.03", "44.18", "44.22", "44.57", "43.42", "42.66",
                 "43.13"]
PUBLISHED_RSI = ["70.53", "66.32", "66.55", "69.41", "66.36", "57.97", "62.93", "63.26",
                 "56.06", "62.38", "54.71", "50.42", "39.99", "41.46", "41.87", "45.46",
                 "37.30", "33.08", "37.77"]


def _exact_wilder_rsi(closes: list[str], period: int) -> list[Fraction]:
    """Wilder's RSI in exact fractions: a simple mean to start, then (prev*(n-1) + x) / n."""
    changes = [Fraction(b) - Fraction(a) for a, b in itertools.pairwise(closes)]
    gains = [max(c, Fraction(0)) for c in changes]
    losses = [max(-c, Fraction(0)) for c in changes]
    gain, loss = sum(gains[:period]) / period, sum(losses[:period]) / period
    out = [100 - 100 / (1 + gain / loss)]
    for g, lo in zip(gains[period:], losses[period:], strict=True):
        gain, loss = (gain * (period - 1) + g) / period, (loss * (period - 1) + lo) / period
        out.append(100 - 100 / (1 + gain / loss))
    return out


def test_rsi_matches_wilders_worked_example():
    values = _scalars(compute(Indicator.RSI, Parameters().resolved(Indicator.RSI),
                              _bars(WILDER_CLOSES), places=6))

    assert values[:14] == [None] * 14
    exact = _exact_wilder_rsi(WILDER_CLOSES, 14)
    assert values[14:] == [D(float(x)).quantize(D("0.0001")) for x in exact]
    assert all(abs(v - D(p)) < D("0.1") for v, p in zip(values[14:], PUBLISHED_RSI,
                                                         strict=True))
    assert values[14] == D("70.4641")


def test_recursive_indicators_forget_their_seed_within_the_warm_up():
    rng = random.Random(3)
    closes = [round(100 + rng.gauss(0, 1) * n ** 0.5, 2) for n in range(1, 1_200)]
    for indicator in (Indicator.EMA, Indicator.RSI, Indicator.MACD):
        parameters = Parameters().resolved(indicator)
        full = compute(indicator, parameters, _bars(closes), places=6)
        warm = warm_up_bars(indicator, parameters)
        tail = compute(indicator, parameters, _bars(closes[-(warm + 50):]), places=6)
        assert tail[-50:] == full[-50:], indicator


def test_vwap_accumulates_within_a_session_and_restarts_the_next_day():
    late = _ms("2026-01-05T23:58:00+00:00")
    bars = [Bar("X", late + n * MINUTE, D(0), D(0), D(0), D(0), D(v), D(t), 1, 0, 0)
            for n, (v, t) in enumerate([(2, "200"), (1, "103"), (4, "404")])]

    values = _scalars(session_vwap(bars, places=4, time_zone="UTC"))

    # (200 + 103) / 3 = 101; the third bar opens 2026-01-06 and stands alone: 404 / 4.
    assert values == [D("100.0000"), D("101.0000"), D("101.0000")]
    assert _scalars(session_vwap(bars, 4, "America/New_York"))[2] == D("101.0000")


def test_parameters_fill_defaults_and_ignore_what_does_not_apply():
    assert Parameters().resolved(Indicator.RSI) == Parameters(period=14)
    assert Parameters(fast_period=999).resolved(Indicator.SMA) == Parameters(period=20)
    assert Parameters().resolved(Indicator.MACD) == Parameters(
        fast_period=12, slow_period=26, signal_period=9)
    assert Parameters().resolved(Indicator.BOLLINGER_BANDS).multiplier == D(2)


@pytest.mark.parametrize(("indicator", "parameters", "field"), [
    (Indicator.SMA, Parameters(period=1), "parameters.period"),
    (Indicator.RSI, Parameters(period=201), "parameters.period"),
    (Indicator.MACD, Parameters(fast_period=30, slow_period=20), "parameters.fast_period"),
    (Indicator.BOLLINGER_BANDS, Parameters(std_dev_multiplier="-1"),
     "parameters.std_dev_multiplier"),
    (Indicator.BOLLINGER_BANDS, Parameters(std_dev_multiplier="two"),
     "parameters.std_dev_multiplier"),
])
def test_parameters_out_of_range_are_invalid(indicator, parameters, field):
    with pytest.raises(InvalidArgument) as caught:
        parameters.resolved(indicator)
    assert caught.value.reason == "INVALID_INDICATOR_PARAMETERS"
    assert [v.field for v in caught.value.violations] == [field]


# Request validation (no store needed: it fails before any read)


AAPL = Instrument("AAPL", "Apple Inc.", "equity", "XNAS", "USD", D("0.01"), D("1"), D("190"))


def _rpcs() -> HistoryRpcs:
    return HistoryRpcs(history=None, quote_book=None,  # type: ignore[arg-type]
                       instruments={"AAPL": AAPL}, clock=lambda: T0 / 1000)


def _list_bars(**fields) -> api.ListBarsRequest:
    times = {name: fields.pop(name) for name in ("start_time", "end_time") if name in fields}
    request = api.ListBarsRequest(**{"symbol": "AAPL", "interval": pb.BAR_INTERVAL_ONE_MINUTE,
                                     **fields})
    for name, value in times.items():
        getattr(request, name).FromMilliseconds(value)
    return request


@pytest.mark.parametrize(("request_", "fields"), [
    (_list_bars(start_time=T0, end_time=T0 - 1), ["end_time"]),
    (_list_bars(end_time=T0), ["start_time"]),
    (_list_bars(start_time=T0 + 1), ["start_time"]),
    (_list_bars(start_time=T0 - (MAX_RANGE_BARS + 1) * MINUTE), ["end_time"]),
    (_list_bars(start_time=T0 - MINUTE, interval=pb.BAR_INTERVAL_UNSPECIFIED, page_size=-1),
     ["interval", "page_size"]),
])
def test_bad_ranges_are_invalid_with_field_violations(request_, fields):
    with pytest.raises(InvalidArgument) as caught:
        asyncio.run(_rpcs().ListBars(request_, None))  # type: ignore[arg-type]
    assert [v.field for v in caught.value.violations] == fields


def test_a_range_error_names_the_limit():
    with pytest.raises(InvalidArgument) as caught:
        asyncio.run(_rpcs().ListBars(_list_bars(start_time=T0, end_time=T0), None))
    assert (caught.value.reason, caught.value.metadata) == (
        "INVALID_TIME_RANGE", {"maxBars": str(MAX_RANGE_BARS)})


def test_an_unknown_symbol_is_not_found():
    request = _list_bars(start_time=T0 - MINUTE, symbol="NOPE")
    with pytest.raises(NotFound) as caught:
        asyncio.run(_rpcs().ListBars(request, None))  # type: ignore[arg-type]
    assert (caught.value.reason, caught.value.metadata) == (
        "SYMBOL_NOT_FOUND", {"symbols": "NOPE"})


def test_bars_are_of_one_symbol():
    request = _list_bars(start_time=T0 - MINUTE, symbol="AAPL,AAPL2")
    rpcs = HistoryRpcs(history=None, quote_book=None,  # type: ignore[arg-type]
                       instruments={"AAPL": AAPL, "AAPL2": AAPL}, clock=lambda: T0 / 1000)
    with pytest.raises(InvalidArgument) as caught:
        asyncio.run(rpcs.ListBars(request, None))  # type: ignore[arg-type]
    assert [v.field for v in caught.value.violations] == ["symbol"]


# Replay files

HEADER = "time,symbol,bid,ask,bid_size,ask_size,last\n"


def test_the_shipped_sample_is_the_deterministic_one():
    rows = load(SAMPLE_FILE)

    assert SAMPLE_FILE.read_text() == sample_csv()
    assert len(rows) == 400
    assert len({r.symbol for r in rows}) == 8
    assert [r.time_ms for r in rows] == sorted(r.time_ms for r in rows)
    assert rows[0].time_ms == T0


def test_rows_keep_the_exact_decimal_text():
    (row,) = parse_csv([HEADER, "2026-01-05T14:30:00.250Z,BTC-USD,67000.10,67000.30,"
                                "0.0100,0.2500,67000.20\n"])

    assert (row.time_ms, row.symbol, row.bid, row.bid_size, row.last) == (
        T0 + 250, "BTC-USD", "67000.10", "0.0100", "67000.20")


@pytest.mark.parametrize(("body", "problem"), [
    ("2026-01-05T14:30:00Z,AAPL,1.00,1.01,1,1\n", "f.csv:2: expected 7 fields"),
    ("2026-01-05T14:30:00Z,AAPL,1.00,abc,1,1,1.00\n", "f.csv:2: ask 'abc' is not a decimal"),
    ("2026-01-05T14:30:00Z,AAPL,1.02,1.01,1,1,1.00\n", "f.csv:2: bid 1.02 is above ask"),
    ("2026-01-05T14:30:00,AAPL,1.00,1.01,1,1,1.00\n", "f.csv:2: time '2026-01-05T14:30:00' "
                                                      "needs a UTC offset"),
    ("2026-01-05T14:30:01Z,AAPL,1,1,1,1,1\n2026-01-05T14:30:00Z,AAPL,1,1,1,1,1\n",
     "f.csv:3: rows must be in time order"),
    ("2026-01-05T14:30:00Z,aapl,1,1,1,1,1\n", "f.csv:2: symbol 'aapl' must be upper case"),
])
def test_bad_rows_name_their_line(body, problem):
    with pytest.raises(ValueError) as caught:
        parse_csv((HEADER + body).splitlines(keepends=True), source="f.csv")
    assert str(caught.value).startswith(problem)


def test_a_wrong_header_is_refused():
    with pytest.raises(ValueError, match=r"f\.csv:1: the header must be"):
        parse_csv(["time,symbol,price\n"], source="f.csv")


async def test_replay_publishes_groups_in_order_restamped_and_resequenced():
    rows = parse_csv([HEADER,
                      "2026-01-05T14:30:00Z,AAPL,1.00,1.02,1,1,1.01\n",
                      "2026-01-05T14:30:00Z,MSFT,2.00,2.02,1,1,2.01\n",
                      "2026-01-05T14:30:01Z,AAPL,1.01,1.03,1,1,1.02\n"])
    published: list[list[Quote]] = []

    async def publish(quotes: list[Quote]) -> None:
        published.append(quotes)

    await ReplayFeed(rows, speed=0, clock=lambda: 1_800_000_000.5).run(publish)

    assert [[(q.symbol, q.last, q.sequence) for q in batch] for batch in published] == [
        [("AAPL", "1.01", 1), ("MSFT", "2.01", 1)], [("AAPL", "1.02", 2)]]
    assert {q.time_ms for batch in published for q in batch} == {1_800_000_000_500}


def test_replay_refuses_a_negative_speed():
    with pytest.raises(ValueError, match="speed"):
        ReplayFeed(load(SAMPLE_FILE), speed=-1)
