"""`flask check`: the configuration and the environment, checked before going live.

Each check is a small function returning the problems it found (a `Finding`, in French,
naming the setting and what to do). Rules:

- SECRET_KEY: missing, shorter than 32 characters or a known demo/test value is an error
  in production, a warning in local development (debug or testing).
- Database: a connection and `SELECT 1`; any failure is an error (no traceback).
- Migrations: the database's revision must be the migrations' head.
- BASE_URL (links in emails): "missing" means empty or a loopback address (the default,
  http://127.0.0.1:5000). Outside local development, it is an error when an SMTP host is
  set (MAIL_SERVER); and a BASE_URL that is not loopback must start with https://.
  Local development is debug mode, testing, or no MAIL_SERVER (emails are then written
  to instance/mail/, nothing is sent).
- SMTP: a TCP connection to MAIL_SERVER:MAIL_PORT within a short timeout; failing is a
  warning (the outbox keeps the emails and retries).
- Instance folder: a temporary file is created and removed there; failing is an error.
- TRUSTED_PROXIES against the headers seen: `flask check` sends a probe to BASE_URL's
  /healthz, signed with SECRET_KEY, the way a client reaches the application; the server
  answers with the X-Forwarded-For and X-Forwarded-Proto it received (before ProxyFix). As
  many proxies as addresses in X-Forwarded-For: a different TRUSTED_PROXIES is an error
  (too low, every agent has the proxy's address and the login throttling counts them as
  one; too high, a client chooses its own address). An unreachable BASE_URL is a warning.
  With TRUSTED_PROXIES = 0 and BASE_URL on this machine, there is nothing to check.
  `flask check --url URL` probes through another address (the proxy's, before DNS is set).
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import text

from .extensions import db

ERROR = "erreur"
WARNING = "avertissement"

# Values seen in examples, demos and tests: never a production key.
KNOWN_WEAK_KEYS = frozenset({
    "dev-only-not-secret", "test-secret-key", "secret", "secret-key", "secretkey", "changeme",
    "change-me", "changez-moi", "dev", "development", "test", "testing", "incubateur",
    "incubateur-demo", "your-secret-key", "password", "motdepasse",
})
MIN_SECRET_KEY_LENGTH = 32
SMTP_CHECK_TIMEOUT = 3.0
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
PROXY_PROBE_HEADER = "X-Incubateur-Sonde"
PROXY_PROBE_SALT = "incubateur-proxy-probe"
PROXY_PROBE_MAX_AGE = 300  # seconds
PROXY_PROBE_TIMEOUT = 5.0

BASE_URL_MISSING = (
    "BASE_URL manquante : l'envoi de courriels est configuré (MAIL_SERVER) mais les liens "
    "des courriels n'auraient pas d'adresse publique. Définissez BASE_URL (par exemple "
    "INCUBATEUR_BASE_URL=https://incubateur.exemple.fr) ; aucun courriel n'est envoyé sans elle."
)


@dataclass(frozen=True)
class Finding:
    level: str  # ERROR or WARNING
    message: str


def is_local_development(app: Flask) -> bool:
    return bool(app.debug or app.testing or not app.config.get("MAIL_SERVER"))


def _base_url_missing(app: Flask) -> bool:
    base = (app.config.get("BASE_URL") or "").strip()
    if not base:
        return True
    return (urlsplit(base).hostname or "").lower() in LOOPBACK_HOSTS


def email_refusal(app: Flask) -> str | None:
    """The reason emails must not be sent (BASE_URL missing outside local development), or None."""
    if is_local_development(app) or not _base_url_missing(app):
        return None
    return BASE_URL_MISSING


def check_secret_key(app: Flask) -> list[Finding]:
    key = app.config.get("SECRET_KEY") or ""
    level = WARNING if (app.debug or app.testing) else ERROR
    if not key:
        return [Finding(level, "SECRET_KEY manquante : définissez SECRET_KEY (variable d'environnement "
                               "ou instance/config.py), par exemple avec "
                               "python -c 'import secrets; print(secrets.token_hex(32))'.")]
    if str(key).strip().lower() in KNOWN_WEAK_KEYS:
        return [Finding(level, "SECRET_KEY faible : c'est une valeur d'exemple ou de test. Remplacez-la "
                               "par une valeur aléatoire (python -c 'import secrets; print(secrets.token_hex(32))').")]
    if len(str(key)) < MIN_SECRET_KEY_LENGTH:
        return [Finding(level, f"SECRET_KEY faible : {len(str(key))} caractères, au moins "
                               f"{MIN_SECRET_KEY_LENGTH} attendus. Remplacez-la par une valeur aléatoire "
                               "(python -c 'import secrets; print(secrets.token_hex(32))').")]
    return []


def _database_error(exc: Exception) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def check_database(app: Flask) -> list[Finding]:
    try:
        with app.app_context(), db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure is reported, without a traceback
        return [Finding(ERROR, f"Base de données inaccessible ({_database_error(exc)}) : vérifiez DATABASE_URL "
                               "et que le serveur de base de données est démarré.")]
    return []


def check_migrations(app: Flask) -> list[Finding]:
    config = Config()
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    try:
        with app.app_context(), db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except Exception:  # noqa: BLE001 - the database check already says why
        return []
    if not current:
        return [Finding(ERROR, "Migrations non appliquées : la base n'a pas de schéma. Lancez « flask db upgrade ».")]
    if current != heads:
        return [Finding(ERROR, f"Migrations pas à jour : la base est à la révision {', '.join(sorted(current))}, "
                               f"le code attend {', '.join(sorted(heads))}. Lancez « flask db upgrade ».")]
    return []


def check_base_url(app: Flask) -> list[Finding]:
    refusal = email_refusal(app)
    if refusal:
        return [Finding(ERROR, refusal)]
    if app.debug or app.testing or _base_url_missing(app):
        return []
    if urlsplit(app.config["BASE_URL"].strip()).scheme != "https":
        return [Finding(ERROR, f"BASE_URL n'est pas en HTTPS ({app.config['BASE_URL']}) : en production, "
                               "les liens des courriels doivent commencer par https://.")]
    return []


def check_smtp(app: Flask) -> list[Finding]:
    host = app.config.get("MAIL_SERVER")
    if not host:
        return []
    port = app.config.get("MAIL_PORT") or 25
    try:
        with socket.create_connection((host, int(port)), timeout=SMTP_CHECK_TIMEOUT):
            pass
    except (OSError, ValueError) as exc:
        return [Finding(WARNING, f"Serveur SMTP injoignable ({host}:{port} : {exc}) : vérifiez MAIL_SERVER et "
                                 "MAIL_PORT ; les courriels restent dans la boîte d'envoi en attendant.")]
    return []


def check_instance_folder(app: Flask) -> list[Finding]:
    folder = app.instance_path
    try:
        os.makedirs(folder, exist_ok=True)
        descriptor, path = tempfile.mkstemp(prefix=".check-", dir=folder)
        os.close(descriptor)
        os.remove(path)
    except OSError as exc:
        return [Finding(ERROR, f"Dossier d'instance non accessible en écriture ({folder} : {exc.strerror or exc}) : "
                               "donnez les droits d'écriture à l'utilisateur de l'application "
                               "(ou choisissez-en un autre avec INCUBATEUR_INSTANCE_PATH).")]
    return []


def _probe_serializer(app: Flask) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.config.get("SECRET_KEY") or "", salt=PROXY_PROBE_SALT)


def proxy_probe_token(app: Flask) -> str:
    return _probe_serializer(app).dumps("sonde")


def proxy_headers_seen(app: Flask, environ: dict[str, Any], token: str | None) -> dict | None:
    """For a probe signed with this SECRET_KEY, the forwarding headers as received, before
    ProxyFix rewrote the address and scheme; None for anyone else."""
    if not token or not app.config.get("SECRET_KEY"):
        return None
    try:
        _probe_serializer(app).loads(token, max_age=PROXY_PROBE_MAX_AGE)
    except BadSignature:
        return None
    original = environ.get("werkzeug.proxy_fix.orig") or environ
    forwarded_for = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return {
        "forwarded_for": forwarded_for,
        "forwarded_proto": environ.get("HTTP_X_FORWARDED_PROTO", ""),
        "peer": original.get("REMOTE_ADDR", ""),
    }


def fetch_proxy_headers(app: Flask, url: str) -> dict:
    """What the server at `url` saw of the probe; OSError or ValueError when it could not say."""
    request = urllib.request.Request(url, headers={PROXY_PROBE_HEADER: proxy_probe_token(app)})
    with urllib.request.urlopen(request, timeout=PROXY_PROBE_TIMEOUT) as response:  # noqa: S310 - our BASE_URL
        body = response.read(10_000)
    try:
        seen = json.loads(body)
    except ValueError as exc:
        raise ValueError("la réponse n'a pas reconnu la sonde : le serveur a-t-il la même SECRET_KEY ?") from exc
    if not isinstance(seen, dict) or not isinstance(seen.get("forwarded_for"), list):
        raise ValueError("réponse inattendue")
    return seen


def check_trusted_proxies(app: Flask, base_url: str | None = None) -> list[Finding]:
    """`base_url`: where to send the probe (`flask check --url`), BASE_URL by default."""
    proxies = app.config.get("TRUSTED_PROXIES") or 0
    base = (base_url or app.config.get("BASE_URL") or "").strip().rstrip("/")
    if not base_url and _base_url_missing(app):
        if proxies:
            return [Finding(WARNING, f"TRUSTED_PROXIES = {proxies} ne peut pas être vérifié sans BASE_URL (l'adresse "
                                     "publique de l'application, derrière son mandataire) : définissez BASE_URL.")]
        return []
    url = f"{base}/healthz"
    try:
        seen = fetch_proxy_headers(app, url)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return [Finding(WARNING, f"TRUSTED_PROXIES non vérifié : {url} ne répond pas comme attendu depuis ce "
                                 f"serveur ({reason}).")]
    hops = len(seen["forwarded_for"])
    chain = ", ".join(seen["forwarded_for"])
    if hops == proxies:
        if proxies and not seen.get("forwarded_proto"):
            return [Finding(ERROR, "X-Forwarded-Proto absent : le mandataire doit le transmettre "
                                   "(nginx : proxy_set_header X-Forwarded-Proto $scheme), sinon les adresses "
                                   "construites par l'application seraient en http.")]
        return []
    if proxies == 0:
        return [Finding(ERROR, f"TRUSTED_PROXIES = 0, mais la requête de contrôle envoyée à {url} est passée par "
                               f"{hops} mandataire(s) (X-Forwarded-For : {chain}). Toutes les requêtes semblent alors "
                               f"venir de {seen.get('peer') or 'ce mandataire'} : la limitation des connexions et le "
                               f"journal comptent tous les agents comme un seul. Mettez TRUSTED_PROXIES={hops}.")]
    if hops == 0:
        return [Finding(ERROR, f"TRUSTED_PROXIES = {proxies}, mais la requête de contrôle envoyée à {url} est arrivée "
                               "sans en-tête X-Forwarded-For : aucun mandataire ne l'a relayée, et n'importe quel "
                               "client pourrait choisir son adresse. Mettez TRUSTED_PROXIES=0, ou faites transmettre "
                               "X-Forwarded-For par le mandataire (nginx : proxy_set_header X-Forwarded-For "
                               "$proxy_add_x_forwarded_for).")]
    if hops < proxies:
        return [Finding(ERROR, f"TRUSTED_PROXIES = {proxies}, mais seulement {hops} mandataire(s) ont relayé la "
                               f"requête de contrôle (X-Forwarded-For : {chain}) : un client pourrait choisir son "
                               f"adresse. Mettez TRUSTED_PROXIES={hops}.")]
    return [Finding(ERROR, f"TRUSTED_PROXIES = {proxies}, mais {hops} mandataires ont relayé la requête de contrôle "
                           f"(X-Forwarded-For : {chain}) : l'application verrait l'adresse d'un mandataire au lieu "
                           f"de celle des agents. Mettez TRUSTED_PROXIES={hops}.")]


CHECKS = (check_secret_key, check_database, check_migrations, check_base_url, check_smtp,
          check_instance_folder, check_trusted_proxies)


def run_checks(app: Flask, probe_url: str | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for check in CHECKS:
        findings.extend(check(app, probe_url) if check is check_trusted_proxies else check(app))
    return findings
