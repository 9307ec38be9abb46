"""A small but real OpenID Connect provider on loopback, for tests of the sign-in flow.

It serves discovery, `/authorize` (approving one configured user at once with a redirect),
`/token` (checking the client, the redirect URI and the PKCE verifier; codes work once) and
`/jwks`, and signs id_tokens with RS256 or ES256. `faults` makes it misbehave on purpose.

    async with LoopbackOidcProvider(redirect_uri=...) as provider:
        config = provider.provider_config("test")
        code, state = await provider.approve(authorization_url)
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import httpx
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import get_default_algorithms

from mesh.ports import free_port
from services.auth.domain.pkce import verifier_matches
from services.auth.oidc import OidcProviderConfig

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8080/auth/callback"
TOKEN_LIFETIME_SECONDS = 300
# Longer than any reasonable clock-skew allowance, so an "expired" token really is.
EXPIRED_BY_SECONDS = 600
CODE_LIFETIME_SECONDS = 60
_START_ATTEMPTS = 5


@dataclass(frozen=True)
class OidcUser:
    """The user the provider signs in, whoever asks."""

    subject: str = "248289761001"
    email: str = "jane.doe@example.com"
    email_verified: bool = True
    name: str = "Jane Doe"


@dataclass
class Faults:
    """Ways to misbehave; each is off by default."""

    issuer: str | None = None            # put this `iss` in id_tokens
    audience: str | list[str] | None = None  # put this `aud` in id_tokens
    nonce: str | None = None             # put this `nonce` in id_tokens
    expired: bool = False                # issue id_tokens that expired minutes ago
    foreign_key: bool = False            # sign with a key not in the JWKS (same kid)
    unsigned: bool = False               # issue id_tokens with alg "none"
    discovery_issuer: str | None = None  # announce this issuer in the discovery document


@dataclass(frozen=True)
class _Grant:
    """What /authorize remembers about a code until /token redeems it."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    expires_at: float


@dataclass
class LoopbackOidcProvider:
    """An OIDC provider on 127.0.0.1 with one client registration and one user."""

    client_id: str = "tradesage-test"
    client_secret: str | None = None
    redirect_uri: str = DEFAULT_REDIRECT_URI
    algorithm: str = "RS256"
    user: OidcUser = field(default_factory=OidcUser)
    faults: Faults = field(default_factory=Faults)
    # What clients sent, for assertions: one dict per request.
    discovery_requests: int = 0
    authorizations: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._key = _private_key(self.algorithm)
        self._foreign_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None
        self._kid = secrets.token_hex(8)
        self._codes: dict[str, _Grant] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def issuer(self) -> str:
        """Return the issuer URL (the server's base URL)."""
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> LoopbackOidcProvider:
        """Serve on a free loopback port; return self."""
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/jwks", self._jwks)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        for attempt in range(_START_ATTEMPTS):
            # free_port only reserves the port while it runs: another test may take it first.
            self._port = free_port()
            try:
                await web.TCPSite(self._runner, "127.0.0.1", self._port).start()
                return self
            except OSError:
                if attempt == _START_ATTEMPTS - 1:
                    await self.stop()
                    raise
        raise AssertionError("unreachable")

    async def stop(self) -> None:
        """Stop serving."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> LoopbackOidcProvider:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Return this provider's entry for TRADESAGE_OIDC_PROVIDERS."""
        entry: dict[str, Any] = {"issuer": self.issuer, "client_id": self.client_id,
                                 "redirect_uri": self.redirect_uri}
        if self.client_secret is not None:
            entry["client_secret"] = self.client_secret
        return entry | overrides

    def provider_config(self, name: str = "test", **overrides: Any) -> OidcProviderConfig:
        """Return the client-side configuration that signs in against this provider."""
        return OidcProviderConfig.from_mapping(name, self.settings(**overrides))

    async def approve(self, authorization_url: str) -> tuple[str, str]:
        """Follow `authorization_url` as a browser would; return the redirect's code and state."""
        async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as browser:
            response = await browser.get(authorization_url)
        if response.status_code != 302:
            raise AssertionError(f"/authorize answered {response.status_code}: {response.text}")
        query = parse_qs(urlsplit(response.headers["location"]).query)
        return query["code"][0], query["state"][0]

    def rotate_key(self) -> None:
        """Replace the signing key and its kid, as providers do from time to time."""
        self._key, self._kid = _private_key(self.algorithm), secrets.token_hex(8)

    def sign(self, claims: dict[str, Any]) -> str:
        """Return `claims` signed as an id_token, as the faults say."""
        if self.faults.unsigned:
            return jwt.encode(claims, None, algorithm="none")
        key = self._key
        if self.faults.foreign_key:
            # Made on first use: an RSA key costs tens of milliseconds, most tests need none.
            self._foreign_key = self._foreign_key or _private_key(self.algorithm)
            key = self._foreign_key
        return jwt.encode(claims, key, algorithm=self.algorithm, headers={"kid": self._kid})

    async def _discovery(self, request: web.Request) -> web.Response:
        self.discovery_requests += 1
        return web.json_response({
            "issuer": self.faults.discovery_issuer or self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.algorithm],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic", "client_secret_post", "none"],
        })

    async def _authorize(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.authorizations.append(query)
        problem = self._authorize_problem(query)
        if problem:
            # Never redirect on a bad request: the redirect URI itself may be the problem.
            return _oauth_error("invalid_request", problem, status=400)
        code = secrets.token_urlsafe(32)
        self._codes[code] = _Grant(query["client_id"], query["redirect_uri"],
                                   query["code_challenge"], query.get("nonce"),
                                   time.time() + CODE_LIFETIME_SECONDS)
        location = httpx.URL(query["redirect_uri"]).copy_merge_params(
            {"code": code, "state": query.get("state", "")})
        raise web.HTTPFound(str(location))

    def _authorize_problem(self, query: dict[str, str]) -> str | None:
        checks = [
            (query.get("client_id") == self.client_id, "unknown client_id"),
            (query.get("redirect_uri") == self.redirect_uri, "unregistered redirect_uri"),
            (query.get("response_type") == "code", "response_type must be code"),
            ("openid" in query.get("scope", "").split(), "scope must include openid"),
            (query.get("code_challenge_method") == "S256", "PKCE with S256 is required"),
            (len(query.get("code_challenge", "")) == 43, "code_challenge is missing"),
        ]
        return next((problem for ok, problem in checks if not ok), None)

    async def _token(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        client_id, method = self._authenticate(request, form)
        self.token_requests.append(form | {"auth_method": method})
        if client_id is None:
            return _oauth_error("invalid_client", "client authentication failed", status=401)
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "only authorization_code")
        # Popped before any check, so a code is spent even by a failed attempt.
        grant = self._codes.pop(form.get("code", ""), None)
        problem = _grant_problem(grant, client_id, form)
        if problem or grant is None:
            return _oauth_error("invalid_grant", problem or "unknown code")
        return web.json_response({
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "id_token": self._id_token(grant),
        }, headers={"cache-control": "no-store"})

    def _authenticate(self, request: web.Request,
                      form: dict[str, str]) -> tuple[str | None, str]:
        """Return the authenticated client id (None if refused) and the method it used."""
        client_id, secret, method = _client_credentials(request, form)
        if client_id != self.client_id:
            return None, method
        if self.client_secret is None:
            return client_id, method
        if secret is None or not secrets.compare_digest(secret, self.client_secret):
            return None, method
        return client_id, method

    def _id_token(self, grant: _Grant) -> str:
        now = int(time.time())
        if self.faults.expired:
            now -= TOKEN_LIFETIME_SECONDS + EXPIRED_BY_SECONDS
        claims: dict[str, Any] = {
            "iss": self.faults.issuer or self.issuer,
            "aud": self.faults.audience or self.client_id,
            "sub": self.user.subject,
            "email": self.user.email,
            "email_verified": self.user.email_verified,
            "name": self.user.name,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
        }
        nonce = self.faults.nonce or grant.nonce
        if nonce is not None:
            claims["nonce"] = nonce
        return self.sign(claims)

    async def _jwks(self, request: web.Request) -> web.Response:
        algorithm = get_default_algorithms()[self.algorithm]
        jwk = algorithm.to_jwk(self._key.public_key(), as_dict=True)
        return web.json_response({"keys": [
            jwk | {"kid": self._kid, "use": "sig", "alg": self.algorithm}]})


def _grant_problem(grant: _Grant | None, client_id: str, form: dict[str, str]) -> str | None:
    if grant is None:
        return "unknown or used code"
    checks = [
        (grant.expires_at > time.time(), "code expired"),
        (grant.client_id == client_id, "code was issued to another client"),
        (grant.redirect_uri == form.get("redirect_uri"), "redirect_uri differs"),
        (verifier_matches(form.get("code_verifier", ""), grant.code_challenge),
         "PKCE verification failed"),
    ]
    return next((problem for ok, problem in checks if not ok), None)


def _client_credentials(request: web.Request,
                        form: dict[str, str]) -> tuple[str | None, str | None, str]:
    """Return client id, secret and method from a Basic header or from the form."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        decoded = base64.b64decode(header[6:]).decode()
        client_id, _, secret = decoded.partition(":")
        return unquote_plus(client_id), unquote_plus(secret), "client_secret_basic"
    if "client_secret" in form:
        return form.get("client_id"), form["client_secret"], "client_secret_post"
    return form.get("client_id"), None, "none"


def _oauth_error(error: str, description: str, *, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status,
                             headers={"cache-control": "no-store"})


def _private_key(algorithm: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unsupported signing algorithm {algorithm!r}; use RS256 or ES256")

