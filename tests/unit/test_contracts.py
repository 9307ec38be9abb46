"""Checks on the protobuf contracts and everything generated from them.

Tests that change files work on scratch copies under tmp_path; the real proto/ and generated/
trees are only read.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
GENERATED = ROOT / "generated"
CODEGEN = ROOT / "tools" / "codegen.py"
BREAKING = ROOT / "tools" / "breaking.py"
DOMAINS = ("auth", "tenant", "user", "session", "trading", "market")
# Called only service-to-service through the mesh, so they must not be reachable over REST.
INTERNAL_METHODS = frozenset(
    {
        "tradesage.session.v1.SessionService.CreateSession",
        "tradesage.session.v1.SessionService.TouchSession",
        "tradesage.session.v1.SessionService.RevokeUserSessions",
    }
)
REST_PREFIXES = ("/api/v1/", "/.well-known/")

# pyproject's pytest config adds these too; repeating them lets the file run standalone.
sys.path[:0] = [str(ROOT), str(GENERATED)]
from edge.openapi import http_routes, openapi_path  # noqa: E402  (needs ROOT on sys.path)

FieldProto = descriptor_pb2.FieldDescriptorProto
MethodProto = descriptor_pb2.MethodDescriptorProto


def buf_binary() -> str:
    """Return the buf executable of the venv, or the one on PATH."""
    candidate = Path(sys.executable).parent / "buf"
    found = str(candidate) if candidate.exists() else shutil.which("buf")
    if found is None:
        pytest.skip("buf is not installed")
    return found


def run(*command: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run a command and capture its output."""
    return subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, check=False
    )


def codegen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run tools/codegen.py with the current interpreter."""
    return run(sys.executable, CODEGEN, *args)


@pytest.fixture(scope="module")
def files() -> list[descriptor_pb2.FileDescriptorProto]:
    """Load the generated descriptor set."""
    data = (GENERATED / "descriptors.binpb").read_bytes()
    return list(descriptor_pb2.FileDescriptorSet.FromString(data).file)


def project_methods(
    files: list[descriptor_pb2.FileDescriptorProto],
) -> Iterator[tuple[str, MethodProto]]:
    """Yield (full method name, method) for every RPC of the project's services."""
    for file in files:
        if file.package.startswith("tradesage."):
            for service in file.service:
                for method in service.method:
                    yield f"{file.package}.{service.name}.{method.name}", method


def project_messages(
    files: list[descriptor_pb2.FileDescriptorProto],
) -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
    """Yield (full name, message) for every top-level message of the project."""
    for file in files:
        if file.package.startswith("tradesage."):
            for message in file.message_type:
                yield f"{file.package}.{message.name}", message


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """Copy proto/ and generated/ into a scratch directory."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(PROTO, tmp_path / "proto", ignore=ignore)
    shutil.copytree(GENERATED, tmp_path / "generated", ignore=ignore)
    return tmp_path


def scratch_codegen(scratch: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run codegen on the scratch copy."""
    return codegen("--proto-dir", scratch / "proto", "--out-dir", scratch / "generated", *args)


# Lint and freshness -----------------------------------------------------------------------


def test_buf_lint_passes() -> None:
    result = run(buf_binary(), "lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_protos_are_buf_formatted() -> None:
    result = run(buf_binary(), "format", "--diff", "--exit-code", "--path", "proto/tradesage")
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_tree_is_fresh() -> None:
    result = codegen("--check")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("change", ["alter", "delete", "add"])
def test_check_fails_when_generated_tree_is_touched(scratch: Path, change: str) -> None:
    target = scratch / "generated" / "tradesage" / "trading" / "v1" / "trading_service_pb2.py"
    if change == "alter":
        target.write_text(target.read_text() + "# edited by hand\n")
    elif change == "delete":
        target.unlink()
    else:
        target = target.with_name("stray_pb2.py")
        target.write_text("")
    result = scratch_codegen(scratch, "--check")
    assert result.returncode == 1
    assert "tradesage/trading/v1/" + target.name in result.stdout


def test_check_fails_when_a_proto_changes_and_regeneration_fixes_it(scratch: Path) -> None:
    money = scratch / "proto" / "tradesage" / "type" / "v1" / "money.proto"
    money.write_text(
        money.read_text().replace(
            "string amount = 2;", "string amount = 2;\n  // Optional. A note.\n  string note = 3;"
        )
    )
    stale = scratch_codegen(scratch, "--check")
    assert stale.returncode == 1
    assert "stale:   tradesage/type/v1/money_pb2.py" in stale.stdout
    assert "stale:   descriptors.binpb" in stale.stdout
    assert scratch_codegen(scratch).returncode == 0
    assert scratch_codegen(scratch, "--check").returncode == 0


# Breaking-change detection ----------------------------------------------------------------


def workspace(root: Path) -> Path:
    """Copy buf.yaml and proto/ into a fresh buf workspace at root."""
    root.mkdir()
    shutil.copy(ROOT / "buf.yaml", root / "buf.yaml")
    shutil.copytree(PROTO, root / "proto")
    return root


def break_contract(root: Path) -> None:
    """Remove one field and renumber another, both wire-breaking changes."""
    money = root / "proto" / "tradesage" / "type" / "v1" / "money.proto"
    text = money.read_text()
    text = text.replace("string currency_code = 1;", "string currency_code = 3;")
    text = text.replace("  string amount = 2;\n", "")
    money.write_text(text)


def test_buf_breaking_reports_removed_and_renumbered_fields(tmp_path: Path) -> None:
    base = workspace(tmp_path / "base")
    changed = workspace(tmp_path / "changed")
    break_contract(changed)
    result = run(buf_binary(), "breaking", changed, "--against", base)
    assert result.returncode != 0
    assert "Money" in result.stdout


def git(repo: Path, *args: str) -> None:
    """Run a git command in a scratch repository, failing the test on error."""
    identity = (
        "-c",
        "user.name=test",
        "-c",
        "user.email=test@example.invalid",
        "-c",
        "commit.gpgsign=false",
    )
    subprocess.run(["git", *identity, "-C", str(repo), *args], check=True, capture_output=True)


def test_breaking_script_skips_without_history_and_fails_on_break(tmp_path: Path) -> None:
    repo = workspace(tmp_path / "repo")
    git(repo, "init", "-q")
    skipped = run(sys.executable, BREAKING, "--repo", repo)
    assert skipped.returncode == 0 and "skipping" in skipped.stdout
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "contract v1")
    break_contract(repo)
    broken = run(sys.executable, BREAKING, "--repo", repo)
    assert broken.returncode != 0, broken.stdout + broken.stderr
    git(repo, "commit", "-qam", "break it")
    assert run(sys.executable, BREAKING, "--repo", repo).returncode != 0


# HTTP surface -----------------------------------------------------------------------------


def test_every_external_rpc_has_an_http_rule(
    files: list[descriptor_pb2.FileDescriptorProto],
) -> None:
    missing = [
        name
        for name, m in project_methods(files)
        if name not in INTERNAL_METHODS and not http_routes(m)
    ]
    exposed = [
        name for name, m in project_methods(files) if name in INTERNAL_METHODS and http_routes(m)
    ]
    assert not missing, f"RPCs without google.api.http: {missing}"
    assert not exposed, f"internal RPCs must not have REST routes: {exposed}"


def test_rest_paths_are_versioned(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    bad = [
        (name, route.template)
        for name, method in project_methods(files)
        for route in http_routes(method)
        if not route.template.startswith(REST_PREFIXES)
    ]
    assert not bad


def test_openapi_documents_every_route(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    document = json.loads((GENERATED / "openapi.json").read_text())
    assert document["openapi"].startswith("3.1")
    for name, method in project_methods(files):
        for route in http_routes(method):
            path, _ = openapi_path(route.template)
            operation = document["paths"].get(path, {}).get(route.method)
            assert operation is not None, f"{name}: {route.method.upper()} {path} missing"
            assert operation["responses"]["default"] == {"$ref": "#/components/responses/Error"}
            content = operation["responses"]["200"]["content"]
            assert (
                "text/event-stream" if method.server_streaming else "application/json"
            ) in content


def test_openapi_error_shape_and_enums_as_strings() -> None:
    document = json.loads((GENERATED / "openapi.json").read_text())
    schemas = document["components"]["schemas"]
    error = schemas["Error"]["properties"]["error"]
    assert set(error["properties"]) == {"code", "message", "details"}
    assert "INSUFFICIENT_FUNDS" in schemas["Error"]["x-error-reasons"]["trading"]
    side = schemas["tradesage.trading.v1.OrderSide"]
    assert side["type"] == "string" and "ORDER_SIDE_BUY" in side["enum"]


def test_streaming_rpcs_exist(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    streaming = {name for name, m in project_methods(files) if m.server_streaming}
    assert streaming == {
        "tradesage.market.v1.MarketDataService.Subscribe",
        "tradesage.trading.v1.TradingService.StreamOrderUpdates",
        "tradesage.trading.v1.TradingService.StreamPortfolioUpdates",
        "tradesage.session.v1.SessionService.StreamSessionEvents",
        "tradesage.user.v1.UserService.StreamPreferenceChanges",
    }


def test_jwks_route(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    methods = dict(project_methods(files))
    rule = methods["tradesage.auth.v1.AuthService.GetJwks"].options.Extensions[annotations_pb2.http]
    assert rule.get == "/.well-known/jwks.json"


# Design rules -----------------------------------------------------------------------------


def test_descriptor_set_carries_rpc_status_for_envoy(
    files: list[descriptor_pb2.FileDescriptorProto],
) -> None:
    names = {f.name for f in files}
    assert {"google/rpc/status.proto", "google/rpc/error_details.proto"} <= names
    assert all(f.source_code_info.location for f in files if f.name.startswith("tradesage/"))


def test_no_floating_point_fields(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    floats = (FieldProto.TYPE_FLOAT, FieldProto.TYPE_DOUBLE)
    bad = [
        f"{name}.{f.name}"
        for name, m in project_messages(files)
        for f in m.field
        if f.type in floats
    ]
    assert not bad, f"money and prices must be decimal strings: {bad}"


def test_list_rpcs_paginate(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    messages = dict(project_messages(files))
    for name, method in project_methods(files):
        if method.name.startswith("List"):
            request = {f.name for f in messages[method.input_type.lstrip(".")].field}
            response = {f.name for f in messages[method.output_type.lstrip(".")].field}
            assert {"page_size", "page_token"} <= request, name
            assert "next_page_token" in response, name


def test_every_rpc_has_its_own_messages(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    for name, method in project_methods(files):
        assert method.input_type.endswith(f".{method.name}Request"), name
        assert method.output_type.endswith(f".{method.name}Response"), name


# Names other code already depends on -------------------------------------------------------

PINNED_FIELDS = {
    "tradesage.tenant.v1.CreateTenantRequest": {
        "tenant",
        "request_id",
        "admin_email",
        "admin_password",
    },
    "tradesage.tenant.v1.Tenant": {
        "name",
        "id",
        "display_name",
        "plan",
        "state",
        "create_time",
        "update_time",
    },
    "tradesage.tenant.v1.ListTenantsResponse": {"tenants", "next_page_token"},
    "tradesage.auth.v1.RegisterRequest": {"tenant_id", "email", "password", "display_name"},
    "tradesage.auth.v1.RegisterResponse": {"user_id", "email_verification_required"},
    "tradesage.auth.v1.LoginRequest": {"tenant_id", "email", "password", "totp_code"},
    "tradesage.auth.v1.LoginResponse": {
        "access_token",
        "refresh_token",
        "token_type",
        "access_token_expire_time",
        "session_id",
        "user_id",
    },
    "tradesage.auth.v1.JsonWebKey": {"kty", "crv", "x", "y", "kid", "use", "alg"},
    "tradesage.session.v1.CreateSessionRequest": {
        "user_id",
        "tenant_id",
        "user_agent",
        "ip_address",
        "roles",
    },
    "tradesage.session.v1.Session": {
        "name",
        "id",
        "user_id",
        "tenant_id",
        "user_agent",
        "ip_address",
        "create_time",
        "last_seen_time",
        "expire_time",
    },
    "tradesage.user.v1.User": {
        "name",
        "id",
        "tenant_id",
        "email",
        "display_name",
        "email_verified",
        "roles",
        "create_time",
    },
    "tradesage.market.v1.SubscribeResponse": {"quote", "heartbeat", "subscription_id", "conflated"},
    "tradesage.market.v1.Quote": {
        "symbol",
        "bid",
        "ask",
        "bid_size",
        "ask_size",
        "last",
        "time",
        "sequence",
    },
    "tradesage.market.v1.Instrument": {"symbol", "name", "tick_size", "lot_size", "currency_code"},
    "tradesage.trading.v1.PreviewOrderRequest": {
        "symbol",
        "side",
        "quantity",
        "order_type",
        "limit_price",
    },
    "tradesage.trading.v1.PreviewOrderResponse": {
        "estimated_price",
        "estimated_notional",
        "estimated_fee",
        "quote_time",
    },
}


def test_pinned_field_names(files: list[descriptor_pb2.FileDescriptorProto]) -> None:
    messages = dict(project_messages(files))
    for name, expected in PINNED_FIELDS.items():
        assert expected <= {f.name for f in messages[name].field}, name


@pytest.mark.parametrize("domain", DOMAINS)
def test_generated_modules_import(domain: str) -> None:
    for kind in ("service_pb2", "service_pb2_grpc", "resources_pb2", "errors_pb2"):
        importlib.import_module(f"tradesage.{domain}.v1.{domain}_{kind}")
