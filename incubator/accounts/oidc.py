"""OpenID Connect, the protocol side: the authorization code flow with PKCE, checked the
way ProConnect requires, against any certified provider.

- The discovery document is read from the issuer (and must name that issuer); the keys
  from its `jwks_uri`, again when a token names a key not seen yet.
- `state` and `nonce` are 43 characters (`secrets.token_urlsafe(32)`): Authlib's own
  (30 and 20) are shorter than the 32 ProConnect requires.
- The token endpoint is called with `client_secret_post` (the only method ProConnect
  documents; Authlib defaults to `client_secret_basic`).
- The ID token's signature (the provider's published keys), issuer, audience, expiry and
  nonce are checked; userinfo may be a signed JWT (`application/jwt`, ProConnect) or JSON,
  and its `sub` must be the ID token's.
- The access token lives 60 seconds at ProConnect: userinfo is called at once, never
  skipped as "about to expire" (Authlib's session would treat it as expired 60 s early).

Nothing here touches the database: accounts.sso decides who signs in. Every failure is an
`OidcFailure` whose `kind` the sign-in view turns into a French page.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError, JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

# Signature algorithms accepted for ID tokens and signed userinfo (never "none" or HMAC).
SIGNING_ALGORITHMS = ("RS256", "ES256", "PS256")
# Clock difference tolerated between the provider and us, in seconds.
CLOCK_LEEWAY = 60
# Discovery and keys are read again after this long (a provider rotates its keys).
METADATA_TTL = 600
# What a pending sign-in may take (the person on the provider's pages) before it is stale.
PENDING_TTL = 15 * 60


class ProviderConfigError(ValueError):
    """The OIDC settings cannot work (said in French at start-up)."""


@dataclass(frozen=True)
class Provider:
    """One configured provider. `slug` names it in addresses and the session."""

    slug: str
    name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str
    timeout: float = 10

    @property
    def origin(self) -> str:
        """scheme://host[:port] of the issuer: the CSP's form-action must allow it."""
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "oidc"


def _text(value: Any) -> str:
    """Settings from instance/config.py or a JSON list may be numbers: the secret is text."""
    return "" if value is None else str(value).strip()


def load_providers(config) -> list[Provider]:
    """The providers configured: OIDC_ISSUER and its companions, then OIDC_PROVIDERS."""
    entries = []
    if config.get("OIDC_ISSUER"):
        entries.append({"name": config.get("OIDC_NAME"), "issuer": config.get("OIDC_ISSUER"),
                        "client_id": config.get("OIDC_CLIENT_ID"),
                        "client_secret": config.get("OIDC_CLIENT_SECRET"),
                        "scopes": config.get("OIDC_SCOPES")})
    extra = config.get("OIDC_PROVIDERS") or []
    if not isinstance(extra, list | tuple) or not all(isinstance(e, dict) for e in extra):
        raise ProviderConfigError("OIDC_PROVIDERS invalide : une liste d'objets "
                                  "{name, issuer, client_id, client_secret, scopes} est attendue.")
    entries.extend(extra)
    providers: list[Provider] = []
    for entry in entries:
        name = _text(entry.get("name")) or "ProConnect"
        values = {key: _text(entry.get(key)) for key in ("issuer", "client_id", "client_secret")}
        missing = [key for key, value in values.items() if not value]
        if missing:
            raise ProviderConfigError(
                f"Fournisseur d'identité « {name} » incomplet : {', '.join('OIDC_' + m.upper() for m in missing)} "
                "manquant (voir la section Connexion unique du README).")
        issuer = values["issuer"].rstrip("/")
        if urlsplit(issuer).scheme not in ("https", "http") or not urlsplit(issuer).netloc:
            raise ProviderConfigError(f"OIDC_ISSUER invalide pour « {name} » : {issuer!r} (adresse https:// attendue).")
        scopes = _text(entry.get("scopes")) or config.get("OIDC_SCOPES") or "openid"
        if "openid" not in scopes.split():
            scopes = f"openid {scopes}"
        slug = _slug(name)
        if any(p.slug == slug for p in providers):
            raise ProviderConfigError(f"Deux fournisseurs d'identité portent le nom « {name} ».")
        providers.append(Provider(slug=slug, name=name, issuer=issuer, client_id=values["client_id"],
                                  client_secret=values["client_secret"], scopes=scopes,
                                  timeout=float(config.get("OIDC_TIMEOUT") or 10)))
    return providers


# --------------------------------------------------------------------------- failures

class OidcFailure(Exception):
    """A sign-in through the provider that cannot go on. `kind`: denied (the person or the
    provider refused), provider_error (another error in the answer), state (no pending
    sign-in, or another one's answer), expired_code (code expired or already used),
    signature (a token not signed by the provider's keys), nonce, claims (issuer,
    audience, expiry, subject), unavailable (the provider does not answer)."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


# --------------------------------------------------------------------------- metadata

_cache: dict[tuple[str, str], tuple[float, Any]] = {}


def forget_metadata() -> None:
    """Drop the discovery documents and keys read so far (tests; a provider's new keys)."""
    _cache.clear()


def _get_json(provider: Provider, url: str) -> Any:
    try:
        response = requests.get(url, timeout=provider.timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OidcFailure("unavailable", f"{url}: {exc}") from None


def _cached(provider: Provider, what: str, load, *, refresh: bool = False) -> Any:
    key = (provider.issuer, what)
    hit = _cache.get(key)
    if hit and not refresh and time.monotonic() - hit[0] < METADATA_TTL:
        return hit[1]
    value = load()
    _cache[key] = (time.monotonic(), value)
    return value


def metadata(provider: Provider) -> dict[str, Any]:
    def load():
        document = _get_json(provider, f"{provider.issuer}/.well-known/openid-configuration")
        if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != provider.issuer:
            raise OidcFailure("unavailable", "discovery document for another issuer")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not document.get(key):
                raise OidcFailure("unavailable", f"discovery document without {key}")
        return document

    return _cached(provider, "metadata", load)


def _keys(provider: Provider, *, refresh: bool = False) -> KeySet:
    def load():
        try:
            return KeySet.import_key_set(_get_json(provider, metadata(provider)["jwks_uri"]))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OidcFailure("unavailable", f"jwks: {exc}") from None

    return _cached(provider, "jwks", load, refresh=refresh)


def _verify_jwt(provider: Provider, token: str) -> dict[str, Any]:
    """The claims of a JWT signed by the provider's published keys (read again once if the
    token names a key not published before)."""
    for refresh in (False, True):
        keys = _keys(provider, refresh=refresh)
        try:
            return dict(jwt.decode(token, keys, algorithms=list(SIGNING_ALGORITHMS)).claims)
        except BadSignatureError:
            if refresh:
                raise OidcFailure("signature", "signature does not match the published keys") from None
        except (ValueError, JoseError) as exc:  # unknown key id, malformed token, other algorithm
            if refresh:
                raise OidcFailure("signature", str(exc)) from None
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- the flow

def begin(provider: Provider, redirect_uri: str) -> tuple[str, dict[str, Any]]:
    """The address to send the person to, and what to keep in their session meanwhile."""
    document = metadata(provider)
    pending = {
        "provider": provider.slug,
        "state": secrets.token_urlsafe(32),
        "nonce": secrets.token_urlsafe(32),
        "verifier": secrets.token_urlsafe(48),
        "at": int(time.time()),
    }
    query = urlencode({
        "response_type": "code", "client_id": provider.client_id, "redirect_uri": redirect_uri,
        "scope": provider.scopes, "state": pending["state"], "nonce": pending["nonce"],
        "code_challenge": create_s256_code_challenge(pending["verifier"]),
        "code_challenge_method": "S256",
    })
    endpoint = document["authorization_endpoint"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}", pending


@dataclass
class Identity:
    """Who the provider says signed in: its issuer, their subject there, the claims of the
    ID token and userinfo merged, and the ID token itself (for the provider's logout)."""

    issuer: str
    subject: str
    claims: dict[str, Any]
    id_token: str


def check_state(pending: dict[str, Any] | None, args) -> None:
    """The answer belongs to the sign-in this browser started, and it is recent."""
    state = args.get("state") or ""
    if not pending or not secrets.compare_digest(str(pending.get("state", "")).encode(), state.encode()):
        raise OidcFailure("state", "missing or unexpected state")
    if time.time() - int(pending.get("at", 0)) > PENDING_TTL:
        raise OidcFailure("state", "pending sign-in too old")


def finish(provider: Provider, pending: dict[str, Any], args, redirect_uri: str) -> Identity:
    """The provider's answer on the callback, checked; `check_state` first."""
    if args.get("error"):
        kind = "denied" if args.get("error") in ("access_denied", "login_required", "consent_required") else "provider_error"
        raise OidcFailure(kind, f"{args.get('error')}: {args.get('error_description', '')}"[:300])
    document = metadata(provider)
    # RFC 9207: a provider that names itself in the answer must be the one asked.
    if args.get("iss") and args["iss"].rstrip("/") != provider.issuer:
        raise OidcFailure("claims", "answer from another issuer")
    code = args.get("code")
    if not code:
        raise OidcFailure("provider_error", "no code in the answer")
    token = _exchange(provider, document, code, pending["verifier"], redirect_uri)
    id_token = token.get("id_token")
    if not id_token:
        raise OidcFailure("claims", "no ID token")
    claims = _verify_id_token(provider, id_token, pending["nonce"])
    claims.update(_userinfo(provider, document, token["access_token"], claims["sub"]))
    return Identity(issuer=provider.issuer, subject=str(claims["sub"]), claims=claims, id_token=id_token)


def _exchange(provider: Provider, document: dict, code: str, verifier: str, redirect_uri: str) -> dict:
    client = OAuth2Session(provider.client_id, provider.client_secret,
                           token_endpoint_auth_method="client_secret_post")
    try:
        token = client.fetch_token(document["token_endpoint"], grant_type="authorization_code",
                                   code=code, redirect_uri=redirect_uri, code_verifier=verifier,
                                   timeout=provider.timeout)
    except OAuthError as exc:
        kind = "expired_code" if exc.error == "invalid_grant" else "provider_error"
        raise OidcFailure(kind, f"{exc.error}: {exc.description}") from None
    except (requests.RequestException, ValueError) as exc:
        raise OidcFailure("unavailable", f"token endpoint: {exc}") from None
    finally:
        client.close()
    if not token.get("access_token"):
        raise OidcFailure("provider_error", "no access token")
    return dict(token)


def _registry(provider: Provider, **extra) -> JWTClaimsRegistry:
    return JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY,
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": provider.client_id},
        **extra,
    )


def _verify_id_token(provider: Provider, id_token: str, nonce: str) -> dict[str, Any]:
    claims = _verify_jwt(provider, id_token)
    try:
        _registry(provider, sub={"essential": True}, exp={"essential": True},
                  iat={"essential": True}).validate(claims)
    except ExpiredTokenError:
        raise OidcFailure("claims", "ID token expired") from None
    except JoseError as exc:
        raise OidcFailure("claims", f"ID token: {exc}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise OidcFailure("claims", "ID token for several audiences without us as azp")
    if not secrets.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise OidcFailure("nonce", "nonce does not match")
    return claims


def _userinfo(provider: Provider, document: dict, access_token: str, subject: str) -> dict[str, Any]:
    endpoint = document.get("userinfo_endpoint")
    if not endpoint:
        return {}
    try:
        response = requests.get(endpoint, timeout=provider.timeout,
                                headers={"Authorization": f"Bearer {access_token}"})
    except requests.RequestException as exc:
        raise OidcFailure("unavailable", f"userinfo: {exc}") from None
    if response.status_code != 200:
        raise OidcFailure("provider_error", f"userinfo answered {response.status_code}")
    if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/jwt":
        claims = _verify_jwt(provider, response.text.strip())
        try:
            _registry(provider).validate(claims)
        except InvalidClaimError as exc:
            raise OidcFailure("claims", f"userinfo: {exc}") from None
        except JoseError as exc:
            raise OidcFailure("claims", f"userinfo: {exc}") from None
    else:
        try:
            claims = response.json()
        except ValueError:
            raise OidcFailure("provider_error", "userinfo is neither JSON nor a JWT") from None
    if not isinstance(claims, dict) or str(claims.get("sub")) != str(subject):
        raise OidcFailure("claims", "userinfo about another subject")
    return claims


def logout_url(provider: Provider, id_token: str, state: str, post_logout_redirect_uri: str) -> str | None:
    """The provider's end_session_endpoint with id_token_hint, state and the return
    address, or None if the provider has none (or does not answer: its session then
    ends on its own)."""
    try:
        endpoint = metadata(provider).get("end_session_endpoint")
    except OidcFailure:
        return None
    if not endpoint:
        return None
    query = urlencode({"id_token_hint": id_token, "state": state,
                       "post_logout_redirect_uri": post_logout_redirect_uri})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
