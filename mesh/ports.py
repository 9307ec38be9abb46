"""Pick free loopback TCP ports for servers started by a run or a test."""

from __future__ import annotations

import socket
from contextlib import ExitStack


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """Return `n` distinct TCP ports on 127.0.0.1 that are free right now.

    The ports are only reserved while this function runs; start the servers promptly.
    """
    with ExitStack() as stack:
        ports = []
        for _ in range(n):
            # Hold every socket open until all are bound, so the kernel cannot repeat a port.
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports
