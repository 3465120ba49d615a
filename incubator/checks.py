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
"""

from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
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


CHECKS = (check_secret_key, check_database, check_migrations, check_base_url, check_smtp,
          check_instance_folder)


def run_checks(app: Flask) -> list[Finding]:
    findings: list[Finding] = []
    for check in CHECKS:
        findings.extend(check(app))
    return findings
