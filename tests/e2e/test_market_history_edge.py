"""Market history through the REST edge: bars, indicators, instruments, quote snapshots, errors.

The live checks read what the recorder made of the mesh's feed (a tick every 50 ms); the
indicator checks read an hour of NVDA history from two days ago, written straight into the
store, so they know the bars they compute over.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import httpx
import pytest

from mesh.supervisor import Mesh
from services.market.domain.quotes import Quote
from services.market.history import HistoryStore

MINUTE = 60_000
BARS_WAIT = 15.0


def _iso(time_ms: int) -> str:
    return datetime.fromtimestamp(time_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture(scope="module")
async def nvda_hour(mesh: Mesh) -> tuple[int, int]:
    """Store an hour of NVDA quotes from two days ago, 10 s apart; return [start, end)."""
    now = _now_ms() - 2 * 86_400_000
    start = now - now % (60 * MINUTE)
    quotes = []
    for n in range(360):
        last = Decimal("120.00") + Decimal((n * 53) % 97 - 48) / 50
        quotes.append(Quote("NVDA", str(last - Decimal("0.01")), str(last + Decimal("0.01")),
                            "100", "100", str(last), start + n * 10_000, n + 1))
    pool = await asyncpg.create_pool(mesh.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as connection:
            await HistoryStore(pool).write(connection, quotes)
    finally:
        await pool.close()
    return start, start + 60 * MINUTE


async def _bars(api: httpx.AsyncClient, symbol: str, **params: object) -> httpx.Response:
    return await api.get(f"/api/v1/market/instruments/{symbol}/bars", params=params)


async def test_bars_of_the_live_feed_are_listed(api: httpx.AsyncClient) -> None:
    params = {"interval": "BAR_INTERVAL_ONE_MINUTE", "startTime": _iso(_now_ms() - 10 * MINUTE)}
    deadline, bars = time.monotonic() + BARS_WAIT, []
    while time.monotonic() < deadline:
        reply = await _bars(api, "AAPL", **params)
        assert reply.status_code == 200, reply.text
        bars = reply.json()["bars"]
        if sum(int(b["tradeCount"]) for b in bars) >= 20:
            break
        await asyncio.sleep(0.5)
    assert bars, "no bars recorded from the live feed"
    for bar in bars:
        assert (bar["symbol"], bar["interval"]) == ("AAPL", "BAR_INTERVAL_ONE_MINUTE")
        low, high = Decimal(bar["low"]), Decimal(bar["high"])
        assert low <= Decimal(bar["open"]) <= high and low <= Decimal(bar["close"]) <= high
        assert low <= Decimal(bar["vwap"]) <= high
        assert Decimal(bar["volume"]) == int(bar["tradeCount"]) > 0  # tick volume


async def test_wider_bars_and_pages_through_the_edge(api: httpx.AsyncClient,
                                                     nvda_hour: tuple[int, int]) -> None:
    start, end = nvda_hour
    reply = await _bars(api, "NVDA", interval="BAR_INTERVAL_FIFTEEN_MINUTES",
                        startTime=_iso(start), endTime=_iso(end), pageSize=3)
    assert reply.status_code == 200, reply.text
    first = reply.json()
    following = (await _bars(api, "NVDA", interval="BAR_INTERVAL_FIFTEEN_MINUTES",
                             startTime=_iso(start), endTime=_iso(end), pageSize=3,
                             pageToken=first["nextPageToken"])).json()

    bars = first["bars"] + following["bars"]
    assert [b["startTime"] for b in bars] == [_iso(start + n * 15 * MINUTE) for n in range(4)]
    assert [int(b["tradeCount"]) for b in bars] == [90] * 4
    assert "nextPageToken" not in following or not following["nextPageToken"]


async def test_indicators_are_computed_over_the_bars(api: httpx.AsyncClient,
                                                     nvda_hour: tuple[int, int]) -> None:
    start, end = nvda_hour
    window = {"interval": "BAR_INTERVAL_ONE_MINUTE", "startTime": _iso(start),
              "endTime": _iso(end)}
    closes = [Decimal(b["close"]) for b in (await _bars(api, "NVDA", **window)).json()["bars"]]

    sma = await api.get("/api/v1/market/instruments/NVDA/indicators", params={
        **window, "type": "INDICATOR_TYPE_SMA", "parameters.period": 5})

    assert sma.status_code == 200, sma.text
    body = sma.json()
    assert body["parameters"]["period"] == 5
    expected = [(sum(closes[n - 4:n + 1]) / 5).quantize(Decimal("0.000001"))
                for n in range(4, len(closes))]
    assert [Decimal(p["scalar"]) for p in body["points"]] == expected


@pytest.mark.parametrize(("kind", "shape"), [
    ("INDICATOR_TYPE_EMA", "scalar"), ("INDICATOR_TYPE_RSI", "scalar"),
    ("INDICATOR_TYPE_MACD", "macd"), ("INDICATOR_TYPE_BOLLINGER_BANDS", "bollingerBands"),
    ("INDICATOR_TYPE_VWAP", "scalar")])
async def test_every_indicator_returns_values(api: httpx.AsyncClient, nvda_hour: tuple[int, int],
                                              kind: str, shape: str) -> None:
    start, end = nvda_hour
    reply = await api.get("/api/v1/market/instruments/NVDA/indicators", params={
        "type": kind, "interval": "BAR_INTERVAL_ONE_MINUTE", "startTime": _iso(start),
        "endTime": _iso(end), "parameters.slowPeriod": 20, "parameters.fastPeriod": 8})

    assert reply.status_code == 200, reply.text
    points = reply.json()["points"]
    assert points and all(shape in p for p in points)
    if kind == "INDICATOR_TYPE_RSI":
        assert all(0 <= Decimal(p["scalar"]) <= 100 for p in points)


@pytest.mark.parametrize(("params", "fields"), [
    ({"startTime": "2026-01-05T15:00:00Z", "endTime": "2026-01-05T14:00:00Z"}, ["end_time"]),
    ({"startTime": "2025-01-01T00:00:00Z", "endTime": "2026-01-01T00:00:00Z"}, ["end_time"]),
    ({"endTime": "2026-01-05T14:00:00Z"}, ["start_time"]),
])
async def test_a_bad_range_is_400_with_field_violations(api: httpx.AsyncClient, params: dict,
                                                        fields: list[str]) -> None:
    reply = await _bars(api, "AAPL", interval="BAR_INTERVAL_ONE_MINUTE", **params)

    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "INVALID_TIME_RANGE"
    assert error["details"]["maxBars"] == "50000"
    assert [v["field"] for v in error["details"]["fieldViolations"]] == fields


async def test_bad_indicator_parameters_are_400(api: httpx.AsyncClient) -> None:
    reply = await api.get("/api/v1/market/instruments/AAPL/indicators", params={
        "type": "INDICATOR_TYPE_RSI", "interval": "BAR_INTERVAL_ONE_MINUTE",
        "startTime": _iso(_now_ms() - 60 * MINUTE), "parameters.period": 1000})

    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "INVALID_INDICATOR_PARAMETERS"
    assert error["details"]["fieldViolations"][0]["field"] == "parameters.period"


@pytest.mark.parametrize("path", [
    "/api/v1/market/instruments/NOPE/bars?interval=BAR_INTERVAL_ONE_HOUR"
    "&startTime=2026-01-05T14:00:00Z&endTime=2026-01-05T18:00:00Z",
    "/api/v1/market/instruments/NOPE/indicators?type=INDICATOR_TYPE_SMA"
    "&interval=BAR_INTERVAL_ONE_HOUR&startTime=2026-01-05T14:00:00Z"
    "&endTime=2026-01-05T18:00:00Z",
    "/api/v1/market/instruments/NOPE",
    "/api/v1/market/quotes:batchGet?symbols=AAPL&symbols=NOPE",
])
async def test_an_unknown_symbol_is_404(api: httpx.AsyncClient, path: str) -> None:
    reply = await api.get(path)

    assert reply.status_code == 404, reply.text
    assert reply.json()["error"] == {"code": "SYMBOL_NOT_FOUND",
                                     "message": "unknown symbols: NOPE",
                                     "details": {"symbols": "NOPE"}}


async def test_get_instrument(api: httpx.AsyncClient) -> None:
    reply = await api.get("/api/v1/market/instruments/btc-usd")

    assert reply.status_code == 200, reply.text
    instrument = reply.json()["instrument"]
    assert (instrument["symbol"], instrument["tickSize"]) == ("BTC-USD", "0.01")
    assert instrument["tradingSession"]["alwaysOpen"] is True


async def test_batch_get_quotes_keeps_the_request_order(api: httpx.AsyncClient) -> None:
    reply = await api.get("/api/v1/market/quotes:batchGet",
                          params={"symbols": ["SPY", "aapl", "MSFT"]})

    assert reply.status_code == 200, reply.text
    quotes = reply.json()["quotes"]
    assert [q["symbol"] for q in quotes] == ["SPY", "AAPL", "MSFT"]
    assert all(Decimal(q["bid"]) <= Decimal(q["ask"]) for q in quotes)
