"""OIDC sign-in: the authorization-code flow with PKCE against any provider named by issuer URL.

`start` sends the browser to the provider; `complete` takes the code the provider returned,
exchanges it, verifies the id_token against the provider's published keys and returns who
signed in. The PKCE verifier and nonce never leave the server: they wait in Redis under the
state value for ten minutes, and the first `complete` with that state consumes them.

Settings:
  TRADESAGE_OIDC_PROVIDERS  JSON object of providers by name (default: none, OIDC sign-in off):
      {"google": {"issuer": "https://accounts.google.com", "client_id": "...",
                  "client_secret": "...", "redirect_uri": "http://127.0.0.1:8080/auth/callback",
                  "scopes": ["openid", "email", "profile"],
                  "token_endpoint_auth_method": "client_secret_basic"}}
      `client_secret` is optional (public clients rely on PKCE alone); `scopes` defaults to
      openid, email and profile; the auth method is client_secret_basic or client_secret_post.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import quote_plus, urlsplit

import httpx
import jwt
from redis.asyncio import Redis

from services.auth.domain import pkce
from services.runtime.config import ConfigError
from services.runtime.errors import (
    FieldViolation,
    InvalidArgument,
    NotFound,
    Unauthenticated,
    Unavailable,
)

PROVIDERS_ENV = "TRADESAGE_OIDC_PROVIDERS"
STATE_TTL_SECONDS = 600
STATE_KEY_PREFIX = "oidc-state:"
DEFAULT_SCOPES = ("openid", "email", "profile")
# Tolerated difference between our clock and the provider's when checking exp and iat.
CLOCK_SKEW_SECONDS = 60
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)

# Asymmetric algorithms only: "none" and the HS* family (keyed by the client secret) are refused.
_SIGNING_ALGORITHMS = frozenset({
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
})
_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
_PROVIDER_KEYS = frozenset({
    "issuer", "client_id", "client_secret", "redirect_uri", "scopes", "token_endpoint_auth_method",
})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_MAX_PROVIDER_ERROR = 64

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OidcProviderConfig:
    """One OpenID Connect provider this service signs users in with."""

    name: str
    issuer: str
    client_id: str
    redirect_uri: str
    # Kept out of repr so that logging a config never prints the secret.
    client_secret: str | None = field(default=None, repr=False)
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    token_endpoint_auth_method: str = "client_secret_basic"

    @classmethod
    def from_mapping(cls, name: str, raw: Mapping[str, Any]) -> OidcProviderConfig:
        """Build the config of provider `name` from its JSON object, or raise ConfigError."""
        unknown = set(raw) - _PROVIDER_KEYS
        if unknown:
            raise ConfigError(f"OIDC provider {name!r}: unknown settings {sorted(unknown)}")
        issuer = _required_text(name, raw, "issuer")
        redirect_uri = _required_text(name, raw, "redirect_uri")
        _check_url(name, "issuer", issuer, query_allowed=False)
        _check_url(name, "redirect_uri", redirect_uri, query_allowed=True)
        return cls(
            name=name,
            issuer=issuer,
            client_id=_required_text(name, raw, "client_id"),
            redirect_uri=redirect_uri,
            client_secret=raw.get("client_secret") or None,
            scopes=_scopes(name, raw.get("scopes", DEFAULT_SCOPES)),
            token_endpoint_auth_method=_auth_method(name, raw),
        )


def load_oidc_providers(env: Mapping[str, str] | None = None) -> dict[str, OidcProviderConfig]:
    """Read TRADESAGE_OIDC_PROVIDERS; return the providers by name (none when unset)."""
    env = os.environ if env is None else env
    raw = env.get(PROVIDERS_ENV, "").strip()
    if not raw:
        return {}
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{PROVIDERS_ENV} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{PROVIDERS_ENV} must be a JSON object of providers by name")
    providers = {}
    for name, settings in document.items():
        if not isinstance(settings, dict):
            raise ConfigError(f"OIDC provider {name!r} must be a JSON object")
        providers[name] = OidcProviderConfig.from_mapping(name, settings)
    return providers


@dataclass(frozen=True)
class OidcIdentity:
    """Who the provider says signed in, and where they asked to sign in."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    provider: str
    tenant_id: str
    # `subject` is unique only per issuer: link accounts on (issuer, subject).
    issuer: str


class OidcStart(NamedTuple):
    """Where to send the browser, and the state the provider will echo back."""

    authorization_url: str
    state: str


@dataclass(frozen=True)
class _Discovery:
    """The parts of a provider's discovery document that the code flow uses."""

    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class _PendingLogin:
    """What `start` keeps in Redis for `complete`."""

    provider: str
    tenant_id: str
    code_verifier: str
    nonce: str
    redirect_uri: str


class OidcClient:
    """Runs OIDC sign-ins against the configured providers, keeping pending ones in Redis."""

    def __init__(self, providers: Mapping[str, OidcProviderConfig], redis: Redis, *,
                 http: httpx.AsyncClient | None = None,
                 state_ttl_seconds: int = STATE_TTL_SECONDS) -> None:
        """Use `http` if given (the caller closes it), else an own client closed by aclose."""
        self._providers = dict(providers)
        self._redis = redis
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False)
        self._state_ttl = state_ttl_seconds
        # Discovery documents and key sets change rarely: fetched once, keys again on a new kid.
        self._discovery: dict[str, _Discovery] = {}
        self._keys: dict[str, list[dict[str, Any]]] = {}

    @property
    def provider_names(self) -> tuple[str, ...]:
        """Return the names of the configured providers."""
        return tuple(self._providers)

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> OidcClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def start(self, provider: str, tenant_id: str,
                    redirect_uri: str | None = None) -> OidcStart:
        """Begin a sign-in: remember verifier and nonce under a new state; return the URL."""
        config = self._provider(provider)
        tenant_id = _tenant(tenant_id)
        if redirect_uri and redirect_uri != config.redirect_uri:
            # The provider also checks, but refusing here keeps a useless state out of Redis.
            raise InvalidArgument("the redirect URI is not the one registered for this provider",
                                  [FieldViolation("redirect_uri", "must be the registered URI")])
        discovery = await self._discover(config)
        pending = _PendingLogin(provider, tenant_id, pkce.new_code_verifier(), pkce.new_nonce(),
                                config.redirect_uri)
        state = pkce.new_state()
        await self._redis.set(STATE_KEY_PREFIX + state, json.dumps(pending.__dict__),
                              ex=self._state_ttl)
        return OidcStart(_authorization_url(config, discovery, pending, state), state)

    async def complete(self, state: str, code: str) -> OidcIdentity:
        """Finish a sign-in: consume the state, exchange the code, verify the id_token."""
        if not code:
            raise InvalidArgument("the authorization code is missing",
                                  [FieldViolation("code", "must not be empty")])
        pending = await self._take_state(state)
        config = self._provider(pending.provider)
        discovery = await self._discover(config)
        id_token = await self._exchange(config, discovery, pending, code)
        claims = await self._verify(config, discovery, id_token, pending.nonce)
        return OidcIdentity(
            subject=str(claims["sub"]),
            email=_text_claim(claims, "email"),
            email_verified=claims.get("email_verified") in (True, "true"),
            name=_text_claim(claims, "name"),
            provider=pending.provider,
            tenant_id=pending.tenant_id,
            issuer=config.issuer,
        )

    def _provider(self, name: str) -> OidcProviderConfig:
        try:
            return self._providers[name]
        except KeyError:
            raise NotFound(f"OIDC provider {name!r} is not configured",
                           reason="OIDC_PROVIDER_NOT_FOUND",
                           metadata={"provider": name}) from None

    async def _take_state(self, state: str) -> _PendingLogin:
        """Return and delete the pending sign-in, so that a state works exactly once."""
        raw = await self._redis.getdel(STATE_KEY_PREFIX + state) if state else None
        if raw is None:
            raise InvalidArgument("the sign-in state is unknown, used or expired",
                                  reason="INVALID_OIDC_STATE")
        return _PendingLogin(**json.loads(raw))

    async def _discover(self, config: OidcProviderConfig) -> _Discovery:
        cached = self._discovery.get(config.name)
        if cached is not None:
            return cached
        url = config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = await self._get_json(config, url)
        # OIDC Discovery §4.3: the document must name exactly the issuer it was fetched for.
        if document.get("issuer") != config.issuer:
            raise _provider_down(config, "discovery_issuer_mismatch")
        endpoints = [document.get(key) for key in
                     ("authorization_endpoint", "token_endpoint", "jwks_uri")]
        if not all(isinstance(url, str) and _is_secure_url(url) for url in endpoints):
            raise _provider_down(config, "discovery_incomplete")
        self._discovery[config.name] = _Discovery(*endpoints)
        return self._discovery[config.name]

    async def _get_json(self, config: OidcProviderConfig, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, headers={"accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError):
            raise _provider_down(config, "unreachable") from None
        if not isinstance(document, dict):
            raise _provider_down(config, "not_json_object")
        return document

    async def _exchange(self, config: OidcProviderConfig, discovery: _Discovery,
                        pending: _PendingLogin, code: str) -> str:
        """Trade the code (and the PKCE verifier) for tokens; return the id_token."""
        form, auth = _token_request(config, pending, code)
        try:
            response = await self._http.post(discovery.token_endpoint, data=form, auth=auth,
                                             headers={"accept": "application/json"})
        except httpx.HTTPError:
            raise _provider_down(config, "unreachable") from None
        body = _json_body(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise _exchange_failed(config, _provider_error(body), "the provider refused the code")
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise _exchange_failed(config, "no_id_token", "the provider sent no id_token")
        return id_token

    async def _verify(self, config: OidcProviderConfig, discovery: _Discovery, id_token: str,
                      nonce: str) -> dict[str, Any]:
        """Return the id_token's claims once signature, iss, aud, exp, iat and nonce hold."""
        key = await self._signing_key(config, discovery, id_token)
        try:
            claims = jwt.decode(
                id_token, key, algorithms=[key.algorithm_name], audience=config.client_id,
                issuer=config.issuer, leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise _invalid_id_token(config, _describe(error)) from None
        _check_authorized_party(config, claims)
        # The nonce ties this token to the sign-in we started, so a replayed token is refused.
        if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
            raise _invalid_id_token(config, "the id_token nonce does not match the sign-in")
        return claims

    async def _signing_key(self, config: OidcProviderConfig, discovery: _Discovery,
                           id_token: str) -> jwt.PyJWK:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise _invalid_id_token(config, "the id_token is not a JWS") from None
        if header.get("alg") not in _SIGNING_ALGORITHMS:
            raise _invalid_id_token(config, "the id_token is not signed with an allowed algorithm")
        keys, fresh = self._keys.get(config.name), False
        if keys is None:
            keys, fresh = await self._fetch_keys(config, discovery), True
        key = _pick_key(keys, header)
        if key is None and not fresh:
            # An unknown kid usually means the provider rotated its keys since we last looked.
            key = _pick_key(await self._fetch_keys(config, discovery), header)
        if key is None:
            raise _invalid_id_token(config, "no published provider key matches the id_token")
        return key

    async def _fetch_keys(self, config: OidcProviderConfig,
                          discovery: _Discovery) -> list[dict[str, Any]]:
        document = await self._get_json(config, discovery.jwks_uri)
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise _provider_down(config, "jwks_malformed")
        self._keys[config.name] = [key for key in keys if isinstance(key, dict)]
        return self._keys[config.name]


def _authorization_url(config: OidcProviderConfig, discovery: _Discovery,
                       pending: _PendingLogin, state: str) -> str:
    params = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": pending.redirect_uri,
        "scope": " ".join(config.scopes),
        "state": state,
        "nonce": pending.nonce,
        "code_challenge": pkce.s256_challenge(pending.code_verifier),
        "code_challenge_method": "S256",
    }
    return str(httpx.URL(discovery.authorization_endpoint).copy_merge_params(params))


def _token_request(config: OidcProviderConfig, pending: _PendingLogin,
                   code: str) -> tuple[dict[str, str], httpx.BasicAuth | None]:
    """Return the token request form and, for client_secret_basic, its credentials."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": pending.redirect_uri,
        "code_verifier": pending.code_verifier,
    }
    if config.client_secret is None:
        return form | {"client_id": config.client_id}, None
    if config.token_endpoint_auth_method == "client_secret_post":
        return form | {"client_id": config.client_id,
                       "client_secret": config.client_secret}, None
    # RFC 6749 §2.3.1: both halves are form-encoded before they go into the Basic header.
    return form, httpx.BasicAuth(quote_plus(config.client_id), quote_plus(config.client_secret))


def _pick_key(keys: list[dict[str, Any]], header: Mapping[str, Any]) -> jwt.PyJWK | None:
    """Return the published signing key the header names, bound to the header's algorithm."""
    algorithm, kid = header["alg"], header.get("kid")
    for jwk in keys:
        if jwk.get("use", "sig") != "sig" or (kid is not None and jwk.get("kid") != kid):
            continue
        if jwk.get("alg", algorithm) != algorithm:
            continue
        try:
            return jwt.PyJWK(jwk, algorithm=algorithm)
        except (jwt.PyJWTError, ValueError, TypeError):
            continue  # a key of another type under the same kid: keep looking
    return None


def _check_authorized_party(config: OidcProviderConfig, claims: Mapping[str, Any]) -> None:
    """Refuse a token issued to another client that merely lists us among its audiences."""
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (azp is not None and azp != config.client_id) or (len(audiences) > 1 and azp is None):
        raise _invalid_id_token(config, "the id_token was issued to another client")


def _describe(error: jwt.PyJWTError) -> str:
    """Name the failed check without quoting the token."""
    checks = [
        (jwt.ExpiredSignatureError, "the id_token has expired"),
        (jwt.InvalidIssuerError, "the id_token issuer is wrong"),
        (jwt.InvalidAudienceError, "the id_token audience is wrong"),
        (jwt.InvalidSignatureError, "the id_token signature is invalid"),
        (jwt.ImmatureSignatureError, "the id_token is issued in the future"),
        (jwt.MissingRequiredClaimError, "the id_token lacks a required claim"),
    ]
    return next((text for kind, text in checks if isinstance(error, kind)),
                "the id_token is malformed")


def _exchange_failed(config: OidcProviderConfig, provider_error: str,
                     message: str) -> Unauthenticated:
    _logger.warning("OIDC sign-in with %s failed: %s (%s)", config.name, message, provider_error)
    return Unauthenticated(message, reason="OIDC_EXCHANGE_FAILED",
                           metadata={"provider": config.name, "providerError": provider_error})


def _invalid_id_token(config: OidcProviderConfig, message: str) -> Unauthenticated:
    return _exchange_failed(config, "invalid_id_token", message)


def _provider_down(config: OidcProviderConfig, what: str) -> Unavailable:
    """Describe a provider that cannot be used right now (a retry later may work)."""
    _logger.warning("OIDC provider %s is unusable: %s", config.name, what)
    return Unavailable(f"the OIDC provider {config.name!r} cannot be reached or is misconfigured",
                       reason="OIDC_EXCHANGE_FAILED",
                       metadata={"provider": config.name, "providerError": what})


def _provider_error(body: object) -> str:
    """Return the provider's RFC 6749 error code, trimmed: it ends up in client-visible metadata."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, str) or not error.isprintable():
        return "unknown_error"
    return error[:_MAX_PROVIDER_ERROR]


def _json_body(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _text_claim(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def _tenant(tenant_id: str) -> str:
    try:
        return str(uuid.UUID(tenant_id))
    except ValueError:
        raise InvalidArgument("the tenant id is not valid",
                              [FieldViolation("tenant_id", "must be a tenant id (a UUID)")]
                              ) from None


def _required_text(name: str, raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"OIDC provider {name!r}: {key} is required")
    return value.strip()


def _check_url(name: str, key: str, url: str, *, query_allowed: bool) -> None:
    parts = urlsplit(url)
    if not _is_secure_url(url) or (not query_allowed and (parts.query or parts.fragment)):
        raise ConfigError(f"OIDC provider {name!r}: {key} must be an https URL "
                          f"(http only on loopback){'' if query_allowed else ' without query'}")


def _is_secure_url(url: str) -> bool:
    """Return whether `url` is https, or http to this machine (tests, local development)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS)


def _scopes(name: str, raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = raw.split()
    if not isinstance(raw, list | tuple) or not all(isinstance(s, str) for s in raw):
        raise ConfigError(f"OIDC provider {name!r}: scopes must be a list of strings")
    if "openid" not in raw:
        raise ConfigError(f"OIDC provider {name!r}: scopes must include openid")
    return tuple(raw)


def _auth_method(name: str, raw: Mapping[str, Any]) -> str:
    method = raw.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in _AUTH_METHODS:
        raise ConfigError(f"OIDC provider {name!r}: token_endpoint_auth_method must be one of "
                          f"{', '.join(_AUTH_METHODS)}")
    return method
