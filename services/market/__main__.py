"""Run the market data service: `python -m services.market`."""

from services.market.server import SPEC
from services.runtime.server import run

run(SPEC)
