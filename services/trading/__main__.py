"""Run the trading service: `python -m services.trading`."""

from services.runtime.server import run
from services.trading.server import SPEC

run(SPEC)
