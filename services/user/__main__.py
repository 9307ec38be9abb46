"""Run the user service: `python -m services.user`."""

from services.runtime.server import run
from services.user.server import SPEC

run(SPEC)
