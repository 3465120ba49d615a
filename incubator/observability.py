"""Logs: the standard `logging` module, one access line per request, a request id.

Everything the application logs goes through the `incubator` logger and its children:
`app.logger` is `incubator`, the access lines `incubator.access`, the email worker
`incubator.notifications.services`. create_app gives that logger its level (LOG_LEVEL) and
one handler writing to stderr, which gunicorn, systemd or a container captures: text by
default, one JSON object per line with LOG_FORMAT=json. Records still propagate to the
root logger, so pytest's log capture (and any logging a deployment sets up itself) sees
them; the root logger is left alone. Logging belongs to the process, not to an app: the
last app created sets the level and the format.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from flask import Flask, Response, g, has_request_context, request, session
from flask.logging import default_handler
from flask_login import AnonymousUserMixin
from sqlalchemy import inspect

from .security import client_address

LOGGER_NAME = "incubator"
access_log = logging.getLogger(f"{LOGGER_NAME}.access")

LOG_FORMATS = ("text", "json")
REQUEST_ID_HEADER = "X-Request-ID"
# An incoming request id is kept if a proxy made it so; anything else could forge lines.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# What a record may say about its request; the JSON lines carry those present.
REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id", "client")
# Endpoints polled by load balancers or loaded with every page: their lines go at DEBUG,
# so that the INFO log shows what people did.
QUIET_ENDPOINTS = frozenset({"core.healthz", "static"})


def parse_level(value: str | int) -> int:
    """A level name (any case) or number; ValueError, in French, for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    level = logging.getLevelNamesMapping().get(str(value).strip().upper())
    if level is None:
        raise ValueError(f"LOG_LEVEL inconnu : {value!r} (DEBUG, INFO, WARNING, ERROR ou CRITICAL).")
    return level


def configure_logging(level: str | int = "INFO", log_format: str = "text") -> None:
    """Set the level and format of the application's logs (idempotent: one handler)."""
    numeric = parse_level(level)
    log_format = str(log_format).strip().lower()
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT inconnu : {log_format!r} (text ou json).")
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(numeric)
    logger.removeHandler(default_handler)  # Flask's own, had app.logger been read before
    handler = next((h for h in logger.handlers if isinstance(h, StderrHandler)), None)
    if handler is None:
        handler = StderrHandler()
        handler.addFilter(add_request_id)
        logger.addHandler(handler)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())


class StderrHandler(logging.StreamHandler):
    """Writes to the stderr of the moment (like logging's last resort handler), so that
    a stream swapped by a test runner or a CLI runner is followed, never a closed one."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


def add_request_id(record: logging.LogRecord) -> bool:
    """Tag every record made during a request with its id (handler filter)."""
    if getattr(record, "request_id", None) is None and has_request_context():
        record.request_id = request_id()
    return True


def utc_iso(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """`2025-03-04T08:15:02.123Z INFO incubator.access [request id] message`, then the
    traceback if any (on the following lines)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
                         defaults={"request_id": "-"})

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_iso(record.created)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO, UTC), level, logger, message, the request
    fields the record carries, and the traceback of an error."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": utc_iso(record.created), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        for name in REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


# --------------------------------------------------------------------------- requests


def request_id() -> str:
    """The current request's id: the caller's X-Request-ID if sane, else a new one."""
    if "request_id" not in g:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    return g.request_id


# Parts of an address that are secrets (the token of a reset or invitation link): the
# log shows this instead. A route names such a part `token`.
SECRET_PATH_ARGS = frozenset({"token"})
MASKED = "***"


def logged_path() -> str:
    """The path without its query string (search terms, names...), its secret parts masked
    (SECRET_PATH_ARGS), percent-encoded again so that a decoded space or line break cannot
    cut or forge a line."""
    path = request.path
    secrets = {str(value) for name, value in (request.view_args or {}).items() if name in SECRET_PATH_ARGS}
    if secrets:
        path = "/".join(MASKED if segment in secrets else segment for segment in path.split("/"))
    return quote(path, safe="/:@!$&'()*+,;=-._~")


def note_user() -> None:
    """Remember who the request was for, before an error page, drawn as for a visitor,
    forgets it (see web.error_page)."""
    g.setdefault("logged_user_id", _user_id())


def _user_id() -> str:
    """The id of the person logged in, or "-", without loading anything: the user
    Flask-Login loaded for this request, else the id the session cookie carries."""
    user = g.get("_login_user")
    if user is None:
        value = session.get("_user_id")
        return str(value) if value else "-"
    if isinstance(user, AnonymousUserMixin) or not getattr(user, "is_authenticated", False):
        return "-"
    state = inspect(user, raiseerr=False)
    if state is not None and state.identity:
        return str(state.identity[0])  # an expired instance would reload on `user.id`
    return str(vars(user).get("id", "-"))


def init_logging(app: Flask) -> None:
    """Configure logging from the app's settings and log one line per request.

    Called before any other extension registers its hooks: the timer starts before
    CSRFProtect's check, so that refused requests are timed and logged too."""
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    @app.before_request
    def start_request() -> None:
        g.pop("request_id", None)  # a context kept across requests (tests) starts afresh
        g.pop("logged_user_id", None)
        g.request_started = time.perf_counter()
        request_id()

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        # Registered first, so run last: the status is the one sent.
        response.headers[REQUEST_ID_HEADER] = request_id()
        g.response_status = response.status_code
        return response

    @app.teardown_request
    def log_request(_exc: BaseException | None) -> None:
        # After the response is built, errors included: a 500 page went through
        # after_request too; a response that failed even that is logged as a 500.
        started = g.pop("request_started", None)
        status = g.pop("response_status", 500)
        if started is None:
            return  # a request context pushed by hand (CLI, tests), not a request served
        level = logging.DEBUG if request.endpoint in QUIET_ENDPOINTS else logging.INFO
        if not access_log.isEnabledFor(level):
            return
        fields = {
            "request_id": request_id(),
            "method": quote(request.method, safe=""),
            "path": logged_path(),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": g.get("logged_user_id") or _user_id(),
            "client": client_address(),
        }
        access_log.log(level, "%(method)s %(path)s %(status)s %(duration_ms).1f ms "
                              "user=%(user_id)s client=%(client)s", fields, extra=fields)
