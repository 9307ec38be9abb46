"""Run the tenant service: `python -m services.tenant`."""

from services.runtime.server import run
from services.tenant.server import SPEC

run(SPEC)
