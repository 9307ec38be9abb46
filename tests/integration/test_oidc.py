"""OIDC sign-in with PKCE against a real provider on loopback, with pending sign-ins in Valkey."""

import asyncio
import json
import shutil
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest

from mesh.embedded import EmbeddedValkey
from mesh.ports import free_port
from services.auth.domain import pkce
from services.auth.oidc import (
    PROVIDERS_ENV,
    STATE_KEY_PREFIX,
    STATE_TTL_SECONDS,
    OidcClient,
    OidcIdentity,
    OidcProviderConfig,
    load_oidc_providers,
)
from services.runtime.cache import connect_redis
from services.runtime.config import ConfigError
from services.runtime.errors import InvalidArgument, NotFound, Unauthenticated, Unavailable
from tests.support.oidc_provider import Faults, LoopbackOidcProvider, OidcUser

pytestmark = pytest.mark.timeout(60)

TENANT = str(uuid.uuid4())


@pytest.fixture(scope="module")
def valkey_url():
    """Start one Valkey for the module, outside pytest's tmp tree (see tests/conftest.py)."""
    directory = Path(tempfile.mkdtemp(prefix="tradesage-test-"))
    server = EmbeddedValkey(directory, free_port())
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
async def redis(valkey_url):
    client = await connect_redis(valkey_url)
    yield client
    await client.aclose()


@pytest.fixture
async def provider(request):
    """Start a provider signing with ES256, or with the algorithm the test parametrizes."""
    async with LoopbackOidcProvider(algorithm=getattr(request, "param", "ES256")) as running:
        yield running


@pytest.fixture
async def oidc(provider, redis):
    async with OidcClient({"test": provider.provider_config("test")}, redis) as client:
        yield client


async def sign_in(oidc: OidcClient, provider: LoopbackOidcProvider) -> OidcIdentity:
    """Run start, the browser's visit to /authorize, and complete."""
    authorization_url, state = await oidc.start("test", TENANT)
    code, returned_state = await provider.approve(authorization_url)
    assert returned_state == state
    return await oidc.complete(state, code)


@pytest.mark.parametrize("provider", ["RS256", "ES256"], indirect=True)
async def test_sign_in_returns_the_providers_user(oidc, provider, redis):
    identity = await sign_in(oidc, provider)

    assert identity == OidcIdentity(
        subject="248289761001", email="jane.doe@example.com", email_verified=True,
        name="Jane Doe", provider="test", tenant_id=TENANT, issuer=provider.issuer)
    [authorization], [token_request] = provider.authorizations, provider.token_requests
    assert authorization["code_challenge_method"] == "S256"
    assert pkce.s256_challenge(token_request["code_verifier"]) == authorization["code_challenge"]
    assert token_request["auth_method"] == "none"  # a public client: PKCE alone
    assert await redis.keys(STATE_KEY_PREFIX + "*") == []


async def test_start_keeps_verifier_and_nonce_server_side_for_ten_minutes(oidc, provider, redis):
    authorization_url, state = await oidc.start("test", TENANT)

    stored = json.loads(await redis.get(STATE_KEY_PREFIX + state))
    assert stored["provider"] == "test" and stored["tenant_id"] == TENANT
    assert STATE_TTL_SECONDS - 5 < await redis.ttl(STATE_KEY_PREFIX + state) <= STATE_TTL_SECONDS
    query = httpx.URL(authorization_url).params
    assert stored["code_verifier"] not in authorization_url
    assert query["nonce"] == stored["nonce"] and query["state"] == state
    assert query["scope"] == "openid email profile"


async def test_a_state_works_only_once(oidc, provider):
    authorization_url, state = await oidc.start("test", TENANT)
    code, _ = await provider.approve(authorization_url)
    await oidc.complete(state, code)

    with pytest.raises(InvalidArgument) as refused:
        await oidc.complete(state, code)
    assert refused.value.reason == "INVALID_OIDC_STATE"
    assert len(provider.token_requests) == 1  # refused before the provider is asked


@pytest.mark.parametrize("state", ["", "never-issued"])
async def test_an_unknown_state_is_refused(oidc, state):
    with pytest.raises(InvalidArgument) as refused:
        await oidc.complete(state, "some-code")
    assert refused.value.reason == "INVALID_OIDC_STATE"


async def test_an_expired_state_is_refused(provider, redis):
    async with OidcClient({"test": provider.provider_config()}, redis,
                          state_ttl_seconds=1) as oidc:
        authorization_url, state = await oidc.start("test", TENANT)
        code, _ = await provider.approve(authorization_url)
        await asyncio.sleep(1.2)
        with pytest.raises(InvalidArgument) as refused:
            await oidc.complete(state, code)
    assert refused.value.reason == "INVALID_OIDC_STATE"


async def test_the_provider_refuses_a_wrong_pkce_verifier(oidc, provider, redis):
    authorization_url, state = await oidc.start("test", TENANT)
    code, _ = await provider.approve(authorization_url)
    # Swap the stored verifier, as if the code had been stolen and redeemed by someone else.
    key = STATE_KEY_PREFIX + state
    stored = json.loads(await redis.get(key)) | {"code_verifier": pkce.new_code_verifier()}
    await redis.set(key, json.dumps(stored), ex=60)

    with pytest.raises(Unauthenticated) as refused:
        await oidc.complete(state, code)
    assert refused.value.reason == "OIDC_EXCHANGE_FAILED"
    assert refused.value.metadata == {"provider": "test", "providerError": "invalid_grant"}


async def test_the_provider_redeems_a_code_only_once(oidc, provider):
    await sign_in(oidc, provider)
    [first] = provider.token_requests

    async with httpx.AsyncClient() as client:
        replay = await client.post(f"{provider.issuer}/token", data={
            key: first[key] for key in
            ("grant_type", "code", "redirect_uri", "code_verifier", "client_id")})
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("faults", "message"), [
    (Faults(issuer="https://evil.example"), "issuer is wrong"),
    (Faults(audience="another-client"), "audience is wrong"),
    (Faults(audience=["tradesage-test", "another-client"]), "issued to another client"),
    (Faults(expired=True), "expired"),
    (Faults(foreign_key=True), "signature is invalid"),
    (Faults(unsigned=True), "allowed algorithm"),
    (Faults(nonce="a-nonce-from-another-sign-in"), "nonce does not match"),
], ids=["issuer", "audience", "azp", "expired", "signature", "alg-none", "nonce"])
async def test_a_bad_id_token_is_refused(oidc, provider, faults, message):
    provider.faults = faults

    with pytest.raises(Unauthenticated) as refused:
        await sign_in(oidc, provider)
    assert refused.value.reason == "OIDC_EXCHANGE_FAILED"
    assert refused.value.metadata["providerError"] == "invalid_id_token"
    assert message in refused.value.message


async def test_an_unknown_provider_is_refused(oidc):
    with pytest.raises(NotFound) as refused:
        await oidc.start("okta", TENANT)
    assert refused.value.reason == "OIDC_PROVIDER_NOT_FOUND"
    assert refused.value.metadata == {"provider": "okta"}


async def test_start_refuses_a_bad_tenant_or_an_unregistered_redirect_uri(oidc, provider):
    with pytest.raises(InvalidArgument) as refused:
        await oidc.start("test", "not-a-uuid")
    assert refused.value.violations[0].field == "tenant_id"
    with pytest.raises(InvalidArgument) as refused:
        await oidc.start("test", TENANT, redirect_uri="https://evil.example/callback")
    assert refused.value.violations[0].field == "redirect_uri"
    # The registered one is accepted.
    await oidc.start("test", TENANT, redirect_uri=provider.redirect_uri)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_a_confidential_client_authenticates_at_the_token_endpoint(redis, method):
    # Characters that RFC 6749 §2.3.1 form-encoding changes, to prove both sides agree on it.
    async with LoopbackOidcProvider(client_secret="s3cr:et/+= %", algorithm="ES256") as provider:
        config = provider.provider_config(token_endpoint_auth_method=method)
        async with OidcClient({"test": config}, redis) as oidc:
            identity = await sign_in(oidc, provider)
    assert identity.subject == OidcUser().subject
    assert provider.token_requests[0]["auth_method"] == method


async def test_a_wrong_client_secret_fails_the_exchange(redis):
    async with (
        LoopbackOidcProvider(client_secret="right", algorithm="ES256") as provider,
        OidcClient({"test": provider.provider_config(client_secret="wrong")}, redis) as oidc,
    ):
        with pytest.raises(Unauthenticated) as refused:
            await sign_in(oidc, provider)
    assert refused.value.metadata["providerError"] == "invalid_client"


async def test_discovery_is_fetched_once_and_keys_again_after_rotation(oidc, provider):
    await sign_in(oidc, provider)
    provider.rotate_key()

    identity = await sign_in(oidc, provider)
    assert identity.subject == OidcUser().subject
    assert provider.discovery_requests == 1


async def test_a_discovery_document_for_another_issuer_is_refused(oidc, provider):
    provider.faults = Faults(discovery_issuer="https://accounts.example")

    with pytest.raises(Unavailable) as refused:
        await oidc.start("test", TENANT)
    assert refused.value.metadata["providerError"] == "discovery_issuer_mismatch"


async def test_an_unreachable_provider_is_unavailable(redis):
    config = OidcProviderConfig.from_mapping("down", {
        "issuer": f"http://127.0.0.1:{free_port()}", "client_id": "c",
        "redirect_uri": "http://127.0.0.1/cb"})
    async with OidcClient({"down": config}, redis) as oidc:
        with pytest.raises(Unavailable) as refused:
            await oidc.start("down", TENANT)
    assert refused.value.reason == "OIDC_EXCHANGE_FAILED"


def test_providers_load_from_the_environment():
    env = {PROVIDERS_ENV: json.dumps({
        "google": {"issuer": "https://accounts.google.com", "client_id": "g-id",
                   "client_secret": "g-secret",
                   "redirect_uri": "http://127.0.0.1:8080/auth/callback"},
        "okta": {"issuer": "https://example.okta.com", "client_id": "o-id",
                 "redirect_uri": "https://app.example/cb", "scopes": ["openid", "email"],
                 "token_endpoint_auth_method": "client_secret_post"},
    })}

    providers = load_oidc_providers(env)

    assert providers["google"].client_secret == "g-secret"
    assert providers["google"].scopes == ("openid", "email", "profile")
    assert providers["okta"].client_secret is None
    assert providers["okta"].token_endpoint_auth_method == "client_secret_post"
    assert "g-secret" not in repr(providers["google"])
    assert load_oidc_providers({}) == {}


@pytest.mark.parametrize("settings", [
    "not json",
    json.dumps(["a list"]),
    json.dumps({"x": {"issuer": "https://a.example", "redirect_uri": "https://a.example/cb"}}),
    json.dumps({"x": {"issuer": "http://a.example", "client_id": "c",
                      "redirect_uri": "https://a.example/cb"}}),
    json.dumps({"x": {"issuer": "https://a.example", "client_id": "c",
                      "redirect_uri": "https://a.example/cb", "client-secret": "typo"}}),
    json.dumps({"x": {"issuer": "https://a.example", "client_id": "c",
                      "redirect_uri": "https://a.example/cb", "scopes": ["email"]}}),
], ids=["not-json", "not-object", "no-client-id", "plain-http", "unknown-key", "no-openid"])
def test_bad_provider_settings_fail_fast(settings):
    with pytest.raises(ConfigError):
        load_oidc_providers({PROVIDERS_ENV: settings})
