"""A real gunicorn server, several worker processes, on the test's own database.

The factories write rows in the test's session; once committed, the server sees them
(the `database_url` of tests/conftest.py, SQLite file or PostgreSQL, migrated by `server`).

These tests fail (never skip) when gunicorn cannot be started.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .live import THREADS, WORKERS, LiveServer

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def live_server(server, database_url, tmp_path_factory) -> LiveServer:
    """gunicorn on the database of the tests (`server` has applied the migrations)."""
    instance = tmp_path_factory.mktemp("live-instance")
    env = {
        **os.environ,
        "FLASK_APP": "wsgi:app",
        "INCUBATEUR_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "concurrency-secret-key",
        "INCUBATEUR_SESSION_COOKIE_SECURE": "false",
        "DATABASE_URL": database_url,
    }
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log_path = instance / "gunicorn.log"
    log = open(log_path, "w")
    # The project's gunicorn.conf.py applies, if there is one; these options win over it.
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
         "--worker-class", "gthread", "--threads", str(THREADS), "--timeout", "60",
         "--graceful-timeout", "5", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    live = LiveServer(process, f"http://127.0.0.1:{port}", log_path)
    try:
        live.wait_until_ready()
    except RuntimeError:
        process.kill()
        process.wait(timeout=10)
        log.close()
        raise
    yield live
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    log.close()


@pytest.fixture
def live(live_server) -> LiveServer:
    """The live server, all its workers up; after the test, no error in its log (a test
    that expects some sets `live.check_log = False` and checks what it expects itself)."""
    live_server.wait_until_ready()
    start = live_server.log_size()
    live_server.check_log = True
    yield live_server
    if live_server.check_log:
        new = live_server.log_since(start)
        assert "Traceback" not in new and "Erreur non gérée" not in new, new[-8000:]


