"""Auth throughput: logins/s against the argon2id-bound limit, and JWT checks/s at the edge.

1. Hash bound: time one argon2id verification at the service's parameters on one core; the
   machine can do at most cores / t verifications a second, so at most that many logins.
2. Logins/s: concurrent REST logins through the edge (edge -> auth -> session -> Valkey,
   PostgreSQL writes, token signing), for a fixed time. The ratio to the hash bound shows what
   everything around the hash costs.
3. Token checks/s: wrk against a copy of the real edge config with one extra route answered by
   Envoy itself after the JWT filter, so the figure is the edge's verification rate alone.

Usage: PYTHONPATH=. python bench/bench_auth.py [--seconds 10] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import jwt

from edge.envoy_edge import edge_config
from mesh.ports import free_port
from mesh.supervisor import Mesh
from services.auth.domain import passwords
from tests.support import tokens
from tests.support.accounts import PASSWORD, create_tenant, register

CHECK_PATH = "/bench/token-check"
UNCACHED_TOKENS = 50_000  # five times the edge's token cache


def hash_bound(samples: int = 30) -> tuple[float, float]:
    """Return (seconds per argon2id verification on one core, logins/s bound for all cores)."""
    encoded = passwords.hash_password(PASSWORD)
    started = time.perf_counter()
    for _ in range(samples):
        passwords.verify_password(encoded, PASSWORD)
    per_verify = (time.perf_counter() - started) / samples
    return per_verify, (os.cpu_count() or 1) / per_verify


async def logins_per_second(mesh: Mesh, seconds: float, concurrency: int) -> float:
    """Return successful logins/s through the edge with `concurrency` clients."""
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=30) as edge:
        tenant = await create_tenant(edge, plan="TENANT_PLAN_ENTERPRISE")
        emails = [(await register(edge, mesh.database_url, tenant))[1]
                  for _ in range(concurrency)]
        done = 0
        deadline = time.perf_counter() + seconds

        async def client(email: str) -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                reply = await edge.post("/api/v1/auth/login", json={
                    "tenantId": tenant, "email": email, "password": PASSWORD})
                assert reply.status_code == 200, reply.text
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(client(email) for email in emails))
        return done / (time.perf_counter() - started)


async def access_token(mesh: Mesh) -> str:
    async with httpx.AsyncClient(base_url=mesh.edge_url, timeout=30) as edge:
        tenant = await create_tenant(edge)
        _, email = await register(edge, mesh.database_url, tenant)
        reply = await edge.post("/api/v1/auth/login", json={
            "tenantId": tenant, "email": email, "password": PASSWORD})
        return reply.json()["accessToken"]


def checking_edge(mesh: Mesh, directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start a second edge from the real config plus a route Envoy answers after the JWT check."""
    assert mesh.plan is not None and mesh.pki is not None
    port = free_port()
    plan = type(mesh.plan)(mesh.plan.host, port, free_port(), mesh.plan.services)
    config = edge_config(mesh.topology, plan, mesh.pki)
    # Keys are fetched from the real edge; this copy only adds the answering route.
    for cluster in config["static_resources"]["clusters"]:
        if cluster["name"] == "edge_jwks":
            endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
            endpoint["endpoint"]["address"]["socket_address"]["port_value"] = mesh.plan.edge
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    routes = hcm["typed_config"]["route_config"]["virtual_hosts"][0]["routes"]
    routes.insert(0, {"match": {"path": CHECK_PATH}, "direct_response": {"status": 204}})
    path = directory / "checking-edge.json"
    path.write_text(json.dumps(config))
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("envoy")), "-c", str(path), "--disable-hot-restart",
         "--log-level", "error", "--concurrency", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, port


def ensure_wrk() -> str:
    """Return the wrk binary, installing Debian's package if it is missing (needs root)."""
    if found := shutil.which("wrk"):
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                   stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def distinct_tokens(mesh: Mesh, token: str, count: int, directory: Path) -> Path:
    """Write a wrk script sending `count` distinct valid tokens of the same user, at random."""
    kid, key = asyncio.run(tokens.real_signing_key(mesh))
    claims = jwt.decode(token, options={"verify_signature": False})
    signed = [tokens.sign({**claims, "jti": uuid.uuid4().hex}, kid, key) for _ in range(count)]
    script = directory / "tokens.lua"
    script.write_text(
        "local tokens = {" + ",".join(f'"{t}"' for t in signed) + "}\n"
        "request = function()\n"
        "  local token = tokens[math.random(#tokens)]\n"
        "  return wrk.format(nil, nil, {['Authorization'] = 'Bearer ' .. token})\n"
        "end\n")
    return script


def token_checks_per_second(port: int, token: str, seconds: float,
                            script: Path | None = None) -> tuple[float, int]:
    """Return (requests/s, non-2xx count) of wrk with valid tokens against the check route."""
    url = f"http://127.0.0.1:{port}{CHECK_PATH}"
    for _ in range(100):  # until the copy listens, has fetched the keys and answers 204
        try:
            if httpx.get(url, headers={"authorization": f"Bearer {token}"}).status_code == 204:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    else:
        raise RuntimeError("the checking edge never accepted the token")
    source = ["-s", str(script)] if script else ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run(
        [ensure_wrk(), "-t2", "-c64", f"-d{int(seconds)}s", *source, url],
        capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, int(errors.group(1)) if errors else 0


async def main(seconds: float, concurrency: int) -> dict[str, object]:
    per_verify, bound = hash_bound()
    with tempfile.TemporaryDirectory(prefix="tradesage-bench-") as directory:
        mesh = Mesh(data_dir=Path(directory), edge_port=0,
                    extra_env={"TRADESAGE_MARKET_FEED": "off"})
        await mesh.start()
        try:
            logins = await logins_per_second(mesh, seconds, concurrency)
            token = await access_token(mesh)
            edge, port = checking_edge(mesh, Path(directory))
            try:
                checks, failures = token_checks_per_second(port, token, seconds)
                # Many more distinct tokens than the edge caches: signature checks every time.
                script = await asyncio.to_thread(
                    distinct_tokens, mesh, token, UNCACHED_TOKENS, Path(directory))
                uncached, uncached_failures = token_checks_per_second(
                    port, token, seconds, script)
            finally:
                edge.terminate()
                edge.wait()
        finally:
            await mesh.stop()
    print(f"argon2id verify        {per_verify * 1000:8.2f} ms per core")
    print(f"hash-bound logins/s    {bound:8.1f}  ({os.cpu_count()} cores)")
    print(f"logins/s via the edge  {logins:8.1f}  ratio {logins / bound:.3f}")
    print(f"edge token checks/s    {checks:8.1f}  one token, verified once (non-2xx: {failures})")
    print(f"edge token checks/s    {uncached:8.1f}  {UNCACHED_TOKENS} distinct tokens "
          f"(non-2xx: {uncached_failures})")
    return {"bench": "auth", "argon2_verify_ms": round(per_verify * 1000, 2),
            "logins_per_s": round(logins, 1), "hash_bound_logins_per_s": round(bound, 1),
            "login_hash_ratio": round(logins / bound, 3),
            "edge_token_checks_per_s": round(checks, 1),
            "edge_token_checks_uncached_per_s": round(uncached, 1),
            "edge_token_check_failures": failures + uncached_failures}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.seconds, args.concurrency))))
