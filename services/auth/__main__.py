"""Run the auth service: `python -m services.auth`."""

from services.auth.server import SPEC
from services.runtime.server import run

run(SPEC)
