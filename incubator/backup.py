"""Online backup and checked restore of the SQLite database (PostgreSQL: pg_dump, see README)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def sqlite_path(database_uri: str) -> Path:
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError("La sauvegarde intégrée ne concerne que SQLite ; pour PostgreSQL, utilisez "
                          "pg_dump et pg_restore (voir le README).")
    return Path(url.database)


def backup(database_uri: str, target: Path | None, folder: Path) -> Path:
    """A consistent copy while the application runs (SQLite online backup API)."""
    source_path = sqlite_path(database_uri)
    if target is None:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"incubateur-{datetime.now():%Y%m%d-%H%M%S}.db"
    source = sqlite3.connect(source_path, timeout=30)
    destination = sqlite3.connect(target)
    try:
        # One step, inside one read transaction: in WAL mode writers go on meanwhile and the
        # copy is the database as of the step's start. A copy in several steps restarts
        # whenever another connection writes, so under steady writes it never ends.
        with destination:
            source.backup(destination, pages=-1)
    finally:
        destination.close()
        source.close()
    check(target)
    return target


def check(path: Path) -> str:
    """Refuse anything that is not a sound Incubateur database; returns its schema revision."""
    if not path.is_file():
        raise BackupError(f"Fichier introuvable : {path}")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError("La sauvegarde est corrompue (PRAGMA integrity_check).")
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            connection.execute("SELECT count(*) FROM users").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"Ce fichier n'est pas une base de l'Incubateur : {exc}") from exc
    if not row:
        raise BackupError("Ce fichier n'a pas de version de schéma.")
    return row[0]


def restore(database_uri: str, source: Path) -> str:
    """Replace the database with a checked backup (stop the application first)."""
    revision = check(source)
    target_path = sqlite_path(database_uri)
    origin = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    destination = sqlite3.connect(target_path, timeout=30)
    try:
        with destination:
            origin.backup(destination)
    finally:
        destination.close()
        origin.close()
    return revision
