"""Run the session service: `python -m services.session`."""

from services.runtime.server import run
from services.session.server import SPEC

run(SPEC)
